//! The pallet's invariants, checked after every test and by `try-runtime`.

use crate::{pallet::*, BalanceOf, JobStatus, MarketTotals};
use aicchain_primitives::{JobId, NodeId};
use alloc::vec::Vec;
use frame_support::{ensure, traits::fungible::InspectHold};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::traits::{Get, Saturating};

impl<T: Config> Pallet<T> {
	/// - each account's held `JobEscrow` equals the budgets of its open jobs;
	/// - every open job is queued at its deadline, and every queued job is open and due there
	///   (a stage that ended early freed its slot); no job id at or above `NextJobId`;
	/// - each node's running jobs and GPUs are exactly those of the open jobs assigned to it,
	///   and every assigned job has its matched terms;
	/// - proposals exist only for pending jobs, attestations only for submitted results;
	/// - declines: see [`Self::check_declines`];
	/// - a job is settled exactly when it has a receipt, whose cost splits exactly;
	/// - retention and totals: see [`Self::check_retention`].
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		let mut escrow: Vec<(T::AccountId, BalanceOf<T>)> = Vec::new();
		let mut running: Vec<(NodeId, u32, u32)> = Vec::new();
		for (job_id, job) in Jobs::<T>::iter() {
			ensure!(job_id < NextJobId::<T>::get(), "job id at or above NextJobId");
			if job.status.is_open() {
				ensure!(
					Deadlines::<T>::get(job.deadline).contains(&job_id),
					"open job missing from its deadline queue"
				);
				match escrow.iter_mut().find(|(who, _)| *who == job.owner) {
					Some((_, sum)) => *sum = sum.saturating_add(job.budget),
					None => escrow.push((job.owner.clone(), job.budget)),
				}
			}
			if let JobStatus::Assigned { node, .. } | JobStatus::ResultSubmitted { node, .. } =
				job.status
			{
				ensure!(job.terms.is_some(), "assigned job without matched terms");
				let gpus = job.requirements.gpus;
				match running.iter_mut().find(|(n, _, _)| *n == node) {
					Some((_, jobs, sum)) => {
						*jobs = jobs.saturating_add(1);
						*sum = sum.saturating_add(gpus);
					},
					None => running.push((node, 1, gpus)),
				}
			}
			let settled = matches!(job.status, JobStatus::Settled { .. });
			ensure!(settled == Receipts::<T>::contains_key(job_id), "receipt mismatch");
		}
		let (federation_escrow, federation_slots) = Self::federation_usage();
		for (owner, budget) in federation_escrow {
			match escrow.iter_mut().find(|(who, _)| *who == owner) {
				Some((_, sum)) => *sum = sum.saturating_add(budget),
				None => escrow.push((owner, budget)),
			}
		}
		for (node, gpus) in federation_slots {
			match running.iter_mut().find(|(n, _, _)| *n == node) {
				Some((_, jobs, sum)) => {
					*jobs = jobs.saturating_add(1);
					*sum = sum.saturating_add(gpus);
				},
				None => running.push((node, 1, gpus)),
			}
		}
		Self::check_federations()?;
		for (block, queue) in Deadlines::<T>::iter() {
			for job_id in queue {
				let job = Jobs::<T>::get(job_id).ok_or("queued job does not exist")?;
				ensure!(job.status.is_open(), "finished job still holds a deadline slot");
				ensure!(job.deadline == block, "job queued at a block that is not its deadline");
			}
		}
		for (node_id, node) in pallet_compute_registry::Nodes::<T>::iter() {
			let (jobs, gpus) = running
				.iter()
				.find(|(n, _, _)| *n == node_id)
				.map(|(_, j, g)| (*j, *g))
				.unwrap_or((0, 0));
			ensure!(
				node.active_jobs == jobs && node.active_gpus == gpus,
				"node's running jobs or GPUs differ from its open jobs"
			);
		}
		for (who, sum) in escrow.iter() {
			ensure!(
				<T as Config>::Currency::balance_on_hold(&HoldReason::JobEscrow.into(), who)
					== *sum,
				"held JobEscrow differs from the open budgets"
			);
		}
		for (job_id, _) in Proposals::<T>::iter() {
			let pending = Jobs::<T>::get(job_id).map(|j| j.status == JobStatus::Pending);
			ensure!(pending == Some(true), "proposals for a job that is not pending");
		}
		for (job_id, _) in Attestations::<T>::iter() {
			let awaiting = Jobs::<T>::get(job_id)
				.map(|j| matches!(j.status, JobStatus::ResultSubmitted { .. }));
			ensure!(awaiting == Some(true), "attestations for a job not awaiting them");
		}
		for (job_id, _) in Commitments::<T>::iter() {
			ensure!(Jobs::<T>::contains_key(job_id), "a commitment of a pruned job");
		}
		for (job_id, job) in Jobs::<T>::iter() {
			if matches!(job.status, JobStatus::ResultSubmitted { .. }) {
				ensure!(
					job.requirements.training.is_some() == Commitments::<T>::contains_key(job_id),
					"a submitted training result without its commitment"
				);
			}
		}
		Self::check_declines()?;
		Self::check_queue()?;
		Self::check_datasets()?;
		for (_, receipt) in Receipts::<T>::iter() {
			ensure!(
				receipt.provider_amount.saturating_add(receipt.fund_amount) == receipt.cost,
				"receipt split does not add up to the cost"
			);
			ensure!(
				receipt.user_paid.saturating_add(receipt.subsidy) == receipt.cost,
				"user payment and subsidy do not add up to the cost"
			);
		}
		Self::check_retention()
	}

	/// Totals and the pruning queue. Pruned jobs cannot be recounted, so the totals are
	/// checked only where a recount of what is stored holds:
	/// - the jobs that did not end (`NextJobId` less the ended ones counted in `Totals`) are
	///   exactly the open jobs stored: open jobs are never pruned, and each end is counted once;
	/// - every count and sum in `Totals` is at least that of the ended jobs and receipts still
	///   stored;
	/// - the pruning queue holds exactly the finished jobs still stored, each once, between
	///   `RetiredHead` and `RetiredTail`, due no later than the entry after it, and no later
	///   than `JobRetention` from now.
	pub fn check_retention() -> Result<(), sp_runtime::TryRuntimeError> {
		let totals = Totals::<T>::get();
		let mut stored = MarketTotals::<BalanceOf<T>>::default();
		let mut open = 0u64;
		for (_, job) in Jobs::<T>::iter() {
			if job.status.is_open() {
				open = open.saturating_add(1);
			}
			stored.count_end(&job.status);
		}
		for (_, receipt) in Receipts::<T>::iter() {
			stored.count_receipt(&receipt);
		}
		ensure!(
			totals.ended_jobs()
				<= NextJobId::<T>::get().saturating_sub(FederationCount::<T>::get()),
			"more jobs ended than submitted"
		);
		let submitted = NextJobId::<T>::get().saturating_sub(FederationCount::<T>::get());
		ensure!(
			submitted.saturating_sub(totals.ended_jobs()) == open,
			"jobs not counted as ended differ from the open jobs stored"
		);
		ensure!(
			totals.settled_jobs >= stored.settled_jobs
				&& totals.failed_jobs >= stored.failed_jobs
				&& totals.unverified_jobs >= stored.unverified_jobs
				&& totals.expired_jobs >= stored.expired_jobs
				&& totals.cancelled_jobs >= stored.cancelled_jobs,
			"totals count fewer ended jobs than are stored"
		);
		ensure!(
			totals.volume >= stored.volume
				&& totals.provider_earnings >= stored.provider_earnings
				&& totals.fund_income >= stored.fund_income
				&& totals.subsidies_paid >= stored.subsidies_paid
				&& totals.renewable_bonuses >= stored.renewable_bonuses
				&& totals.carbon_grams >= stored.carbon_grams
				&& totals.carbon_reduction_grams >= stored.carbon_reduction_grams,
			"totals are below the sums of the receipts stored"
		);

		let (head, tail) = (RetiredHead::<T>::get(), RetiredTail::<T>::get());
		ensure!(head <= tail, "pruning queue head past its tail");
		let finished = stored.ended_jobs();
		ensure!(
			tail.saturating_sub(head) == finished,
			"pruning queue length differs from the finished jobs stored"
		);
		let latest =
			frame_system::Pallet::<T>::block_number().saturating_add(T::JobRetention::get());
		let mut entries: Vec<(u64, JobId, BlockNumberFor<T>)> = Vec::new();
		for (position, (job_id, due)) in Retired::<T>::iter() {
			ensure!((head..tail).contains(&position), "pruning queue entry outside head..tail");
			let job = Jobs::<T>::get(job_id).ok_or("queued for pruning but not stored")?;
			ensure!(!job.status.is_open(), "open job queued for pruning");
			ensure!(due <= latest, "job retained longer than JobRetention");
			entries.push((position, job_id, due));
		}
		entries.sort_by_key(|(position, _, _)| *position);
		for pair in entries.windows(2) {
			if let [(_, _, due_a), (_, _, due_b)] = pair {
				ensure!(due_a <= due_b, "pruning queue out of order");
			}
		}
		let mut ids: Vec<JobId> = entries.iter().map(|(_, job_id, _)| *job_id).collect();
		ids.sort();
		ids.dedup();
		// Every entry is a stored finished job, each once, as many as there are: all of them.
		ensure!(
			u64::try_from(ids.len()).unwrap_or(u64::MAX) == finished,
			"pruning queue misses or repeats a finished job"
		);
		Ok(())
	}
}
