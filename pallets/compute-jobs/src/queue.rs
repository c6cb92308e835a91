//! The wait queue: a job whose proposal window ends with every node that could run it busy waits
//! for capacity instead of expiring.
//!
//! - **Who waits**: at the end of the proposal window, a job with no choice is *queued* when at
//!   least one node of its sample could run it (active, worker bound, meets the requirements,
//!   price within budget) but none has room or is live now; otherwise no node could ever serve
//!   it and it expires at once (`ExpiryReason::NoSuitableNode`).
//! - **Order**: submission order among the jobs that fit. Each block's `on_initialize` walks the
//!   queue from its head, at most `MaxQueueScan` jobs, and assigns each job for which the on-chain
//!   score ([`Pallet::fallback_choice`]) finds a node with room now. A job that does not fit
//!   (say it needs 16 GPUs and only 8-GPU nodes are free) does not block smaller jobs behind it.
//! - **How long**: until `wait_until` (submission + `ProposalWindow` + the wait the user asked
//!   for, `DefaultQueueWait` unless given, at most `MaxQueueWait`); then it expires refunded
//!   (`ExpiryReason::QueueTimeout`). The owner may cancel a queued job at any time.
//! - **Bounds**: at most `MaxQueuedJobs` wait at once, and a queued job holds a deadline slot
//!   like any open job. When the queue is full, a job whose bid (budget per GPU-hour) is higher
//!   than the lowest queued bid takes its place: that job (the newest among equal lowest bids)
//!   expires refunded (`ExpiryReason::Displaced`). Otherwise the newcomer expires
//!   (`ExpiryReason::QueueFull`). Filling the queue with cheap jobs therefore holds it only
//!   against users who bid less: anyone who needs the capacity more outbids the filler.

use crate::{pallet::*, AssignmentRule, BalanceOf, ExpiryReason, Job, JobOf, JobStatus};
use aicchain_primitives::{spec_meets_requirements, JobId, JobRequirements};
use frame_support::{pallet_prelude::*, traits::fungible::MutateHold};
use frame_system::pallet_prelude::BlockNumberFor;
use pallet_compute_registry::{NodeStatus, Nodes};
use sp_runtime::{traits::Saturating, SaturatedConversion};

impl<T: Config> Pallet<T> {
	/// Submits a job for `who` that may wait `max_wait` blocks in the queue after its
	/// proposal window.
	pub(crate) fn do_submit(
		who: T::AccountId,
		requirements: JobRequirements,
		budget: BalanceOf<T>,
		max_wait: BlockNumberFor<T>,
	) -> DispatchResult {
		Self::ensure_valid_requirements(&requirements)?;
		if let Some(spec) = &requirements.training {
			Self::ensure_dataset_usable(&who, spec.dataset)?;
			Self::ensure_relay_parent(&who, spec)?;
		}
		ensure!(budget >= T::MinJobBudget::get(), Error::<T>::BudgetBelowMinimum);
		let now = frame_system::Pallet::<T>::block_number();
		let job_id = NextJobId::<T>::get();
		let window_end = now.saturating_add(T::ProposalWindow::get());
		let deadline = Self::free_deadline(window_end)?;
		<T as Config>::Currency::hold(&HoldReason::JobEscrow.into(), &who, budget)
			.map_err(|_| Error::<T>::InsufficientBalance)?;
		Self::schedule(job_id, deadline);
		Self::count_dataset_job(requirements.training.as_ref(), true);
		Jobs::<T>::insert(
			job_id,
			Job {
				owner: who.clone(),
				requirements,
				budget,
				status: JobStatus::Pending,
				submitted_at: now,
				assigned_at: now,
				deadline,
				terms: None,
				wait_until: window_end.saturating_add(max_wait),
			},
		);
		NextJobId::<T>::put(job_id.saturating_add(1));
		Self::deposit_event(Event::JobSubmitted { job_id, who, budget });
		Ok(())
	}

	/// Whether some node of `job`'s sample could run it once it has room: active, its worker
	/// bound, meeting the requirements, and within the budget. Liveness and room are not asked.
	pub fn could_ever_serve(job_id: JobId, job: &JobOf<T>) -> bool {
		Self::candidate_sample(job_id, job).into_iter().any(|node_id| {
			let Some(node) = Nodes::<T>::get(node_id) else { return false };
			let affordable = Self::job_cost(node.spec.price_per_gpu_hour, &job.requirements)
				.is_some_and(|cost| cost <= job.budget);
			matches!(node.status, NodeStatus::Active)
				&& node.worker_bound
				&& spec_meets_requirements(&node.spec, &job.requirements)
				&& affordable
		})
	}

	/// A pending job whose proposal window ended with no node chosen: queued until its
	/// `wait_until` when some node could serve it later, otherwise expired with the reason.
	pub(crate) fn queue_or_expire(
		job_id: JobId,
		mut job: JobOf<T>,
		now: BlockNumberFor<T>,
	) -> DispatchResult {
		if !Self::could_ever_serve(job_id, &job) {
			return Self::expire(job_id, job, ExpiryReason::NoSuitableNode);
		}
		if job.wait_until <= now {
			return Self::expire(job_id, job, ExpiryReason::QueueTimeout);
		}
		let Ok(deadline) = Self::free_deadline(job.wait_until) else {
			return Self::expire(job_id, job, ExpiryReason::QueueFull);
		};
		let bid = Self::bid(&job);
		let mut queue = WaitQueue::<T>::get();
		if queue.is_full() {
			// The lowest bid below this one, the newest of equals (`max_by` keeps the last
			// maximum).
			let lowest = queue
				.iter()
				.enumerate()
				.filter(|(_, (_, low))| *low < bid)
				.max_by(|(_, a), (_, b)| b.1.cmp(&a.1))
				.map(|(index, (id, _))| (index, *id));
			let Some((index, displaced)) = lowest else {
				return Self::expire(job_id, job, ExpiryReason::QueueFull);
			};
			// Out of the local copy; `expire` takes it out of storage, and the copy is written
			// back below.
			queue.remove(index);
			if let Some(other) = Jobs::<T>::get(displaced) {
				// It ends before its deadline: free the slot it held.
				Self::unschedule(displaced, other.deadline);
				Self::expire(displaced, other, ExpiryReason::Displaced)?;
			}
		}
		if queue.try_push((job_id, bid)).is_err() {
			return Self::expire(job_id, job, ExpiryReason::QueueFull);
		}
		let position = u32::try_from(queue.len()).unwrap_or(u32::MAX);
		WaitQueue::<T>::put(queue);
		Proposals::<T>::remove(job_id);
		Self::unschedule(job_id, job.deadline);
		Self::schedule(job_id, deadline);
		job.status = JobStatus::Queued;
		job.deadline = deadline;
		Jobs::<T>::insert(job_id, job);
		Self::deposit_event(Event::JobQueued { job_id, position, wait_until: deadline });
		Ok(())
	}

	/// Takes `job_id` out of the wait queue (it was assigned, cancelled or expired).
	pub(crate) fn dequeue(job_id: JobId) {
		WaitQueue::<T>::mutate(|queue| queue.retain(|(id, _)| *id != job_id));
	}

	/// A queued job's place in the queue, from 1 at the head.
	pub fn queue_position(job_id: JobId) -> Option<u32> {
		place_in(&WaitQueue::<T>::get(), job_id)
	}

	/// What `job` offers per GPU-hour: its budget over its GPU-hours (at least one).
	pub fn bid(job: &JobOf<T>) -> BalanceOf<T> {
		let gpu_hours =
			u64::from(job.requirements.gpus).saturating_mul(u64::from(job.requirements.gpu_hours));
		job.budget / BalanceOf::<T>::saturated_from(gpu_hours.max(1))
	}

	/// Assigns queued jobs that fit now, in queue order, looking at most at `MaxQueueScan` of
	/// them. Returns how many it looked at (for the weight).
	pub(crate) fn match_queue(now: BlockNumberFor<T>) -> u32 {
		let queue = WaitQueue::<T>::get();
		let mut examined = 0u32;
		for job_id in queue.iter().map(|(id, _)| *id) {
			if examined >= T::MaxQueueScan::get() {
				break;
			}
			examined = examined.saturating_add(1);
			let Some(job) = Jobs::<T>::get(job_id) else { continue };
			if job.status != JobStatus::Queued {
				continue;
			}
			let Some((node_id, cost)) = Self::fallback_choice(job_id, &job, now) else { continue };
			// Atomic per job: a failed assignment leaves the job queued as it was.
			let queued_since = job.submitted_at.saturating_add(T::ProposalWindow::get());
			let waited: u64 = now.saturating_sub(queued_since).saturated_into();
			let assigned = storage::with_storage_layer(|| {
				Self::assign(job_id, job, node_id, cost, AssignmentRule::Queue, now)
			});
			if assigned.is_ok() {
				Self::dequeue(job_id);
				QueueWaits::<T>::mutate(|(matched, blocks)| {
					*matched = matched.saturating_add(1);
					*blocks = blocks.saturating_add(waited);
				});
			}
		}
		examined
	}

	/// Invariants of [`WaitQueue`]: it holds each job once, every job in it is `Queued`, and
	/// every `Queued` job is in it.
	pub fn check_queue() -> Result<(), sp_runtime::TryRuntimeError> {
		let queue = WaitQueue::<T>::get();
		let mut ids: alloc::vec::Vec<JobId> = queue.iter().map(|(id, _)| *id).collect();
		ids.sort();
		ids.dedup();
		ensure!(ids.len() == queue.len(), "a job is queued twice");
		for (job_id, bid) in queue.iter() {
			let job = Jobs::<T>::get(job_id).ok_or("a queued job is not stored")?;
			ensure!(job.status == JobStatus::Queued, "a job in the queue is not Queued");
			ensure!(*bid == Self::bid(&job), "a queued bid is not its job's");
		}
		for (job_id, job) in Jobs::<T>::iter() {
			if job.status == JobStatus::Queued {
				ensure!(ids.binary_search(&job_id).is_ok(), "a Queued job is not in the queue");
			}
		}
		Ok(())
	}
}

/// `job_id`'s place in `queue`, from 1 at the head.
pub(crate) fn place_in<B>(queue: &[(JobId, B)], job_id: JobId) -> Option<u32> {
	let index = queue.iter().position(|(id, _)| *id == job_id)?;
	u32::try_from(index).ok()?.checked_add(1)
}
