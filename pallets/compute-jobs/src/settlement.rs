//! Deadlines and the ends of a job: the per-block deadline queue, what happens when a stage's
//! window closes, refunds, failures (slash) and settlement (payments, subsidy, bonus, AICG
//! rewards, receipt). Every end goes through `retire` (see `retention.rs`).

use crate::{
	pallet::*, AssignmentRule, BalanceOf, ExpiryReason, JobOf, JobReceipt, JobStatus, MatchedTerms,
};
use aicchain_primitives::{
	ContributionRewards, JobId, NodeId, SubsidyHandler, VerifiedModels, VerifiedTraining,
};
use frame_support::{
	pallet_prelude::*,
	storage,
	traits::{
		fungible::{Inspect, Mutate, MutateHold},
		tokens::{Fortitude, Precision, Preservation, Restriction},
	},
};
use frame_system::pallet_prelude::BlockNumberFor;
use pallet_compute_registry::Pallet as Registry;
use sp_runtime::{
	traits::{Saturating, Zero},
	Perbill,
};

/// Why an assigned job failed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Failure {
	Rejected,
	TimedOut,
}

impl<T: Config> Pallet<T> {
	/// The first block from `from` whose deadline queue has room, within
	/// `MaxDeadlinesPerBlock` blocks.
	pub(crate) fn free_deadline(
		from: BlockNumberFor<T>,
	) -> Result<BlockNumberFor<T>, DispatchError> {
		let mut block = from;
		for _ in 0..T::MaxDeadlinesPerBlock::get() {
			if (Deadlines::<T>::decode_len(block).unwrap_or(0) as u64)
				< u64::from(T::MaxDeadlinesPerBlock::get())
			{
				return Ok(block);
			}
			block = block.saturating_add(1u32.into());
		}
		Err(Error::<T>::DeadlineQueueFull.into())
	}

	/// Queues `job_id` at `block`, which `free_deadline` found to have room.
	pub(crate) fn schedule(job_id: JobId, block: BlockNumberFor<T>) {
		Deadlines::<T>::mutate(block, |queue| {
			if queue.try_push(job_id).is_err() {
				frame_support::defensive!("deadline block was checked to have room");
			}
		});
	}

	/// Frees `job_id`'s slot at `block` when its stage ends before the deadline.
	pub(crate) fn unschedule(job_id: JobId, block: BlockNumberFor<T>) {
		Deadlines::<T>::mutate_exists(block, |queue| {
			if let Some(q) = queue {
				q.retain(|id| *id != job_id);
				if q.is_empty() {
					*queue = None;
				}
			}
		});
	}

	/// Returns the whole held budget to the job's owner.
	pub(crate) fn refund(job: &JobOf<T>) -> Result<BalanceOf<T>, DispatchError> {
		<T as Config>::Currency::release(
			&HoldReason::JobEscrow.into(),
			&job.owner,
			job.budget,
			Precision::BestEffort,
		)
	}

	/// Pays each `(to, amount)` out of `owner`'s job escrow (zero amounts are skipped).
	pub(crate) fn pay_from_escrow<const N: usize>(
		owner: &T::AccountId,
		payments: [(&T::AccountId, BalanceOf<T>); N],
	) -> DispatchResult {
		for (to, amount) in payments {
			if !amount.is_zero() {
				<T as Config>::Currency::transfer_on_hold(
					&HoldReason::JobEscrow.into(),
					owner,
					to,
					amount,
					Precision::Exact,
					Restriction::Free,
					Fortitude::Force,
				)?;
			}
		}
		Ok(())
	}

	/// Ends whatever stage `job_id` is in when its deadline is `now`.
	pub(crate) fn process_deadline(job_id: JobId, now: BlockNumberFor<T>) {
		let Some(job) = Jobs::<T>::get(job_id) else { return };
		if job.deadline != now {
			return;
		}
		// Each deadline is atomic: a failure rolls back and the job is refunded instead.
		let result = storage::with_storage_layer(|| match job.status.clone() {
			JobStatus::Pending => {
				let choice = Self::plurality_choice(job_id, &job, now)
					.map(|c| (c, AssignmentRule::Plurality))
					.or_else(|| {
						Self::fallback_choice(job_id, &job, now)
							.map(|c| (c, AssignmentRule::Fallback))
					});
				match choice {
					Some(((node_id, cost), rule)) => {
						Self::assign(job_id, job.clone(), node_id, cost, rule, now)
							.or_else(|_| Self::expire(job_id, job, ExpiryReason::Aborted))
					},
					None => Self::queue_or_expire(job_id, job, now),
				}
			},
			JobStatus::Queued => Self::expire(job_id, job, ExpiryReason::QueueTimeout),
			JobStatus::Assigned { .. } => Self::fail(job_id, job, Failure::TimedOut, &[]),
			JobStatus::ResultSubmitted { node, .. } => {
				// Only a majority of the current validator set decides; abstaining is not
				// accepting, and votes of accounts that left the set do not count.
				let votes = Attestations::<T>::take(job_id);
				if Self::is_majority(Self::current_votes_for(&votes, |a| *a)) {
					Self::settle(job_id, job, &Self::current_voters(votes, true))
				} else if Self::is_majority(Self::current_votes_for(&votes, |a| !*a)) {
					Self::fail(job_id, job, Failure::Rejected, &Self::current_voters(votes, false))
				} else {
					Self::unverified(job_id, job, node)
				}
			},
			_ => Ok(()),
		});
		if let Err(error) = result {
			log::error!(target: "runtime::compute-jobs", "deadline of job {job_id}: {error:?}");
			if let Some(job) = Jobs::<T>::get(job_id) {
				if let Err(error) = storage::with_storage_layer(|| Self::abort(job_id, job)) {
					log::error!(target: "runtime::compute-jobs", "refund of job {job_id}: {error:?}");
				}
			}
		}
	}

	/// Ends an open job whose stage could not complete: refunds the user without a slash.
	pub(crate) fn abort(job_id: JobId, job: JobOf<T>) -> DispatchResult {
		Proposals::<T>::remove(job_id);
		Attestations::<T>::remove(job_id);
		Self::unschedule(job_id, job.deadline);
		match job.status {
			JobStatus::Assigned { node, .. } | JobStatus::ResultSubmitted { node, .. } => {
				Self::unverified(job_id, job, node)
			},
			JobStatus::Pending | JobStatus::Queued => {
				Self::expire(job_id, job, ExpiryReason::Aborted)
			},
			_ => Ok(()),
		}
	}

	pub(crate) fn expire(job_id: JobId, mut job: JobOf<T>, reason: ExpiryReason) -> DispatchResult {
		let refund = Self::refund(&job)?;
		if job.status == JobStatus::Queued {
			Self::dequeue(job_id);
		}
		job.status = JobStatus::Expired;
		Self::retire(job_id, job, None);
		Self::deposit_event(Event::JobExpired { job_id, refund, reason });
		Ok(())
	}

	fn unverified(job_id: JobId, mut job: JobOf<T>, node: NodeId) -> DispatchResult {
		let refund = Self::refund(&job)?;
		if Self::on_user_dataset(&job.requirements) {
			// Verifiers abstain when they cannot get a user's dataset (one uploaded to the
			// provider alone): no verdict is no fault of the provider's.
			Registry::<T>::release_declined(node, job.requirements.gpus, false);
		} else {
			Registry::<T>::finish_job(node, job.requirements.gpus, false);
		}
		job.status = JobStatus::Unverified { node };
		Self::retire(job_id, job, None);
		Self::deposit_event(Event::JobUnverified { job_id, node_id: node, refund });
		Ok(())
	}

	/// Refunds the user and slashes `SlashOnFailure` of the node's bond to the fund; verifiers
	/// whose rejection decided it earn AICG against the slashed AICC the fund keeps.
	pub(crate) fn fail(
		job_id: JobId,
		mut job: JobOf<T>,
		why: Failure,
		verifiers: &[T::AccountId],
	) -> DispatchResult {
		let node = match job.status {
			JobStatus::Assigned { node, .. } | JobStatus::ResultSubmitted { node, .. } => node,
			_ => return Ok(()),
		};
		let refund = Self::refund(&job)?;
		let bond =
			pallet_compute_registry::Nodes::<T>::get(node).map(|n| n.bond).unwrap_or_default();
		let slashed = Registry::<T>::slash_bond(
			node,
			T::SlashOnFailure::get() * bond,
			&T::CommunityFund::get(),
		)
		.unwrap_or_default();
		Registry::<T>::finish_job(node, job.requirements.gpus, false);
		match why {
			Failure::Rejected => {
				T::Rewards::reward(None, verifiers, slashed);
				job.status = JobStatus::Rejected { node };
				Self::deposit_event(Event::JobRejected { job_id, node_id: node, refund, slashed });
			},
			Failure::TimedOut => {
				job.status = JobStatus::TimedOut { node };
				Self::deposit_event(Event::JobTimedOut { job_id, node_id: node, refund, slashed });
			},
		}
		Self::retire(job_id, job, None);
		Ok(())
	}

	/// Pays the provider and the fund out of the escrow (less any subsidy, which the fund
	/// pays), returns the rest, pays the renewable bonus, rewards contributors in AICG against
	/// what the fund keeps, and records the receipt. Prices and energy figures are the terms the
	/// job was matched on.
	pub(crate) fn settle(
		job_id: JobId,
		mut job: JobOf<T>,
		verifiers: &[T::AccountId],
	) -> DispatchResult {
		let JobStatus::ResultSubmitted { node: node_id, cost, model_hash, metrics } = job.status
		else {
			return Ok(());
		};
		let node =
			pallet_compute_registry::Nodes::<T>::get(node_id).ok_or(Error::<T>::NodeNotFound)?;
		let terms = job.terms.unwrap_or_else(|| MatchedTerms::of(&node.spec));
		let reason = HoldReason::JobEscrow.into();
		let fund = T::CommunityFund::get();
		// The training was checked, but a model below the user's minimum is worth less to them:
		// part of the cost, and nothing from the fund.
		let min_score = job.requirements.training.as_ref().map_or(Perbill::zero(), |t| t.min_score);
		let below_minimum = metrics.score < min_score;
		let cost = if below_minimum { T::BelowMinimumPayout::get() * cost } else { cost };
		if below_minimum {
			Self::deposit_event(Event::BelowMinimumScore {
				job_id,
				score: metrics.score,
				min_score,
			});
		}
		let provider_amount = T::ProviderShare::get() * cost;
		let fund_amount = cost.saturating_sub(provider_amount);
		// Only checked training that met its minimum draws on the fund and mints AICG.
		let verified_work = job.requirements.training.is_some() && !below_minimum;

		// An active subsidy pays part of the provider's share out of the fund.
		let kind = job.requirements.training.as_ref().map(|t| t.model);
		let claim = if verified_work {
			T::Subsidies::claim(kind, terms.renewable_share, cost)
		} else {
			None
		};
		let (subsidy_id, subsidy) = match claim {
			Some((id, amount)) => (Some(id), amount.min(provider_amount)),
			None => (None, Zero::zero()),
		};
		if !subsidy.is_zero() {
			<T as Config>::Currency::transfer(&fund, &node.owner, subsidy, Preservation::Preserve)?;
		}
		// The bonus scales with the renewable share and comes out of what the fund held
		// before this job's share, beyond its subsidy commitments, while it has any.
		let renewable = Perbill::from_percent(u32::from(terms.renewable_share.deconstruct()));
		let wanted = if verified_work {
			renewable * (T::RenewableBonus::get() * cost)
		} else {
			Zero::zero()
		};
		let available = <T as Config>::Currency::reducible_balance(
			&fund,
			Preservation::Preserve,
			Fortitude::Polite,
		)
		.saturating_sub(T::Subsidies::committed());
		let renewable_bonus = wanted.min(available);
		if !renewable_bonus.is_zero() {
			<T as Config>::Currency::transfer(
				&fund,
				&node.owner,
				renewable_bonus,
				Preservation::Preserve,
			)?;
		}

		Self::pay_from_escrow(
			&job.owner,
			[(&node.owner, provider_amount.saturating_sub(subsidy)), (&fund, fund_amount)],
		)?;
		let user_paid = cost.saturating_sub(subsidy);
		let refund = <T as Config>::Currency::release(
			&reason,
			&job.owner,
			job.budget.saturating_sub(user_paid),
			Precision::BestEffort,
		)?;

		let gpu_hours =
			u64::from(job.requirements.gpus).saturating_mul(u64::from(job.requirements.gpu_hours));
		let energy_wh = gpu_hours.saturating_mul(u64::from(T::EnergyPerGpuHourWh::get()));
		let carbon_grams = energy_wh.saturating_mul(u64::from(terms.carbon_intensity)) / 1_000;
		let reference_grams =
			energy_wh.saturating_mul(u64::from(T::ReferenceGridIntensity::get())) / 1_000;
		let carbon_reduction_grams = reference_grams.saturating_sub(carbon_grams);
		let receipt = JobReceipt {
			node: node_id,
			provider: node.owner.clone(),
			cost,
			provider_amount,
			fund_amount,
			renewable_bonus,
			subsidy,
			subsidy_id,
			user_paid,
			saving: refund,
			energy_wh,
			carbon_grams,
			carbon_reduction_grams,
			model_hash,
			metrics,
		};
		Registry::<T>::finish_job(node_id, job.requirements.gpus, true);
		// Every verified training result is a model version, below the user's minimum or not.
		if let Some(spec) = job.requirements.training.clone() {
			T::Models::record(VerifiedTraining {
				job: job_id,
				trainer: job.owner.clone(),
				node: node_id,
				provider: node.owner.clone(),
				parent: spec.parent,
				spec,
				metrics,
				model_hash,
				cost,
			});
		}
		if verified_work {
			// What the fund keeps from this job: its share less what it paid back out.
			let kept = fund_amount.saturating_sub(subsidy).saturating_sub(renewable_bonus);
			T::Rewards::reward(Some(&node.owner), verifiers, kept);
		}
		job.status = JobStatus::Settled { node: node_id };
		Self::retire(job_id, job, Some(receipt));
		Self::deposit_event(Event::JobSettled {
			job_id,
			node_id,
			provider: node.owner,
			cost,
			provider_amount,
			fund_amount,
			renewable_bonus,
			subsidy,
			subsidy_id,
			refund,
			model_hash,
			energy_wh,
			carbon_grams,
			carbon_reduction_grams,
		});
		Ok(())
	}
}
