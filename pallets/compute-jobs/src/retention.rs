//! What stays when jobs end: running market totals, and the bounded life of finished jobs.
//!
//! Every job that reaches a terminal status (settled, rejected, timed out, unverified, expired,
//! cancelled) goes through [`Pallet::retire`], which stores it (with its receipt, if settled),
//! counts it in [`Totals`] and queues it in [`Retired`] for pruning `JobRetention` blocks later.
//! The retention is the same for every job, so the queue is in pruning order: `on_initialize`
//! pops at most `MaxPrunePerBlock` due entries from its head and removes the job, its receipt
//! and any per-job storage left over. Until then the job and receipt are readable through the
//! `job` runtime API; afterwards they remain in archive nodes' state and in the job's events
//! (`JobSettled` carries the receipt).

use crate::{pallet::*, BalanceOf, JobOf, JobReceipt, JobStatus, WeightInfo};
use aicchain_primitives::JobId;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{pallet_prelude::*, traits::Get};
use frame_system::pallet_prelude::BlockNumberFor;
use scale_info::TypeInfo;
use sp_runtime::traits::Saturating;

/// Market-wide running totals: counts of ended jobs and sums over every receipt ever written.
/// Pruning a job does not change them.
#[derive(
	Clone,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
	Default,
)]
pub struct MarketTotals<Balance> {
	/// Jobs paid out.
	pub settled_jobs: u64,
	/// Jobs whose result was rejected or that timed out (bond slashed).
	pub failed_jobs: u64,
	/// Jobs refunded because attestations were tied or missing.
	pub unverified_jobs: u64,
	/// Jobs refunded because no eligible node was found.
	pub expired_jobs: u64,
	/// Jobs cancelled by their user.
	pub cancelled_jobs: u64,
	/// Sum of settled jobs' costs.
	pub volume: Balance,
	/// Paid to providers: their share, subsidies and renewable bonuses.
	pub provider_earnings: Balance,
	/// The fund's share of settled jobs.
	pub fund_income: Balance,
	/// Subsidies the fund paid.
	pub subsidies_paid: Balance,
	/// Renewable bonuses the fund paid.
	pub renewable_bonuses: Balance,
	/// Emissions of settled jobs, in grams CO2e.
	pub carbon_grams: u64,
	/// Emissions avoided against the reference grid, in grams CO2e.
	pub carbon_reduction_grams: u64,
}

impl<Balance> MarketTotals<Balance> {
	/// Jobs that ended, whatever the way.
	pub fn ended_jobs(&self) -> u64 {
		self.settled_jobs
			.saturating_add(self.failed_jobs)
			.saturating_add(self.unverified_jobs)
			.saturating_add(self.expired_jobs)
			.saturating_add(self.cancelled_jobs)
	}
}

impl<Balance: Saturating + Copy> MarketTotals<Balance> {
	/// Counts a job that ended with `status` (open statuses count nothing).
	pub fn count_end(&mut self, status: &JobStatus<Balance>) {
		let counter = match status {
			JobStatus::Settled { .. } => &mut self.settled_jobs,
			JobStatus::Rejected { .. } | JobStatus::TimedOut { .. } => &mut self.failed_jobs,
			JobStatus::Unverified { .. } => &mut self.unverified_jobs,
			JobStatus::Expired => &mut self.expired_jobs,
			JobStatus::Cancelled => &mut self.cancelled_jobs,
			JobStatus::Pending
			| JobStatus::Queued
			| JobStatus::Assigned { .. }
			| JobStatus::ResultSubmitted { .. } => return,
		};
		*counter = counter.saturating_add(1);
	}

	/// Adds a receipt's payments and carbon.
	pub fn count_receipt<AccountId>(&mut self, r: &JobReceipt<AccountId, Balance>) {
		self.volume = self.volume.saturating_add(r.cost);
		self.provider_earnings = self
			.provider_earnings
			.saturating_add(r.provider_amount)
			.saturating_add(r.renewable_bonus)
			.saturating_add(r.subsidy);
		self.fund_income = self.fund_income.saturating_add(r.fund_amount);
		self.subsidies_paid = self.subsidies_paid.saturating_add(r.subsidy);
		self.renewable_bonuses = self.renewable_bonuses.saturating_add(r.renewable_bonus);
		self.carbon_grams = self.carbon_grams.saturating_add(r.carbon_grams);
		self.carbon_reduction_grams =
			self.carbon_reduction_grams.saturating_add(r.carbon_reduction_grams);
	}
}

impl<T: Config> Pallet<T> {
	/// Ends a job: stores it in its terminal status (and its receipt, if settled), counts it in
	/// [`Totals`] and queues it for pruning once `JobRetention` blocks have passed. Every
	/// terminal status is written through here.
	pub(crate) fn retire(
		job_id: JobId,
		job: JobOf<T>,
		receipt: Option<JobReceipt<T::AccountId, BalanceOf<T>>>,
	) {
		if job.status.is_open() {
			frame_support::defensive!("only finished jobs are retired");
			Jobs::<T>::insert(job_id, job);
			return;
		}
		// An ended job is never matched again: forget the nodes that declined it.
		Declined::<T>::remove(job_id);
		Self::count_dataset_job(job.requirements.training.as_ref(), false);
		Totals::<T>::mutate(|totals| {
			totals.count_end(&job.status);
			if let Some(receipt) = &receipt {
				totals.count_receipt(receipt);
			}
		});
		if let Some(receipt) = receipt {
			Receipts::<T>::insert(job_id, receipt);
		}
		Jobs::<T>::insert(job_id, job);
		let now = frame_system::Pallet::<T>::block_number();
		let tail = RetiredTail::<T>::get();
		Retired::<T>::insert(tail, (job_id, now.saturating_add(T::JobRetention::get())));
		RetiredTail::<T>::put(tail.saturating_add(1));
	}

	/// Prunes up to `MaxPrunePerBlock` finished jobs whose retention ended by `now`, oldest
	/// first: the job, its receipt and any per-job storage left. Returns how many it pruned.
	pub(crate) fn prune(now: BlockNumberFor<T>) -> u32 {
		Self::prune_up_to(now, T::MaxPrunePerBlock::get())
	}

	/// Prunes more due jobs with the weight a block left unused, after `on_initialize`'s
	/// `MaxPrunePerBlock`, so that a backlog left by a burst drains when blocks are not full.
	/// Returns the weight used.
	pub(crate) fn prune_idle(now: BlockNumberFor<T>, remaining: Weight) -> Weight {
		let base = <T as Config>::WeightInfo::on_initialize_prune(0);
		let per_job = <T as Config>::WeightInfo::on_initialize_prune(1).saturating_sub(base);
		let room = remaining.checked_sub(&base).and_then(|w| w.checked_div_per_component(&per_job));
		let max = match room {
			Some(max) if max > 0 => u32::try_from(max).unwrap_or(u32::MAX),
			_ => return Weight::zero(),
		};
		<T as Config>::WeightInfo::on_initialize_prune(Self::prune_up_to(now, max))
	}

	fn prune_up_to(now: BlockNumberFor<T>, max: u32) -> u32 {
		let tail = RetiredTail::<T>::get();
		let mut head = RetiredHead::<T>::get();
		let mut pruned = 0u32;
		while pruned < max && head < tail {
			match Retired::<T>::get(head) {
				Some((_, due)) if due > now => break,
				Some((job_id, _)) => {
					Jobs::<T>::remove(job_id);
					Receipts::<T>::remove(job_id);
					Proposals::<T>::remove(job_id);
					Attestations::<T>::remove(job_id);
					Commitments::<T>::remove(job_id);
					Retired::<T>::remove(head);
				},
				None => {
					frame_support::defensive!("the pruning queue has no gaps");
				},
			}
			head = head.saturating_add(1);
			pruned = pruned.saturating_add(1);
		}
		if pruned > 0 {
			RetiredHead::<T>::put(head);
		}
		pruned
	}

	/// Weight of `on_initialize`'s deadline processing for `n` due jobs: the costlier of the
	/// window-end assignment (fallback) and the attestation-end settlement, per job.
	pub(crate) fn deadlines_weight(n: u32) -> Weight {
		let record = <T::Models as aicchain_primitives::VerifiedModels<_, _>>::record_weight()
			.saturating_mul(u64::from(n));
		<T as Config>::WeightInfo::on_initialize(n)
			.max(<T as Config>::WeightInfo::on_initialize_settle(n).saturating_add(record))
	}
}
