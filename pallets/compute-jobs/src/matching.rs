//! Matching: requirement bounds, eligibility and cost, votes of the current validator set, the
//! window-end choice (quorum plurality, then the sampled fixed-point fallback) and assignment.

use crate::{
	pallet::*, AssignmentRule, BalanceOf, JobOf, JobStatus, MatchedTerms, ValidatorWorkers,
};
use aicchain_primitives::{
	JobId, JobRequirements, NodeId, SustainabilityPreference, PREFER_RENEWABLE_CARBON_WEIGHT,
};
use alloc::vec::Vec;
use codec::Encode;
use frame_support::pallet_prelude::*;
use frame_system::pallet_prelude::BlockNumberFor;
use pallet_compute_registry::Pallet as Registry;
use sp_runtime::traits::{CheckedMul, Saturating};

impl<T: Config> Pallet<T> {
	pub(crate) fn ensure_valid_requirements(req: &JobRequirements) -> DispatchResult {
		ensure!(
			(T::MinJobGpus::get()..=T::MaxJobGpus::get()).contains(&req.gpus),
			Error::<T>::GpusOutOfRange
		);
		ensure!(
			(T::MinBandwidthMbps::get()..=T::MaxBandwidthMbps::get())
				.contains(&req.min_bandwidth_mbps),
			Error::<T>::BandwidthOutOfRange
		);
		ensure!(
			(T::MinLatencyMs::get()..=T::MaxLatencyMs::get()).contains(&req.max_latency_ms),
			Error::<T>::LatencyOutOfRange
		);
		ensure!(
			(1..=T::MaxGpuHours::get()).contains(&req.gpu_hours),
			Error::<T>::GpuHoursOutOfRange
		);
		let training = req.training.as_ref().ok_or(Error::<T>::NoTrainingSpec)?;
		let info = Self::ensure_runnable_spec(training)?;
		// Verifiers must be able to download its checkpoints.
		ensure!(
			aicchain_primitives::limits::parameters(training, info.columns)
				<= aicchain_primitives::limits::MAX_MODEL_PARAMETERS,
			Error::<T>::ModelTooLarge
		);
		// The job pays for `gpu_hours`: a spec that needs more cannot be finished in the time
		// the job gives its provider, whose bond would be slashed for it.
		let work = aicchain_primitives::limits::training_work(training, info.rows, info.columns);
		let paid = u128::from(req.gpu_hours)
			.saturating_mul(aicchain_primitives::limits::WORK_PER_GPU_HOUR);
		ensure!(work <= paid, Error::<T>::TrainingExceedsGpuHours);
		Ok(())
	}

	/// When the result of a job assigned at `now` is due: `ResultTimeout` plus the job's length
	/// (`gpu_hours`, the wall-clock hours all of its GPUs run, as it is priced) in blocks, at
	/// most `MaxResultTimeout` after `now`.
	pub fn result_deadline(req: &JobRequirements, now: BlockNumberFor<T>) -> BlockNumberFor<T> {
		let run = T::BlocksPerHour::get().saturating_mul(req.gpu_hours.into());
		let timeout = T::ResultTimeout::get().saturating_add(run).min(T::MaxResultTimeout::get());
		now.saturating_add(timeout)
	}

	/// Whether `node_id` declined `job_id` (it is never offered the job again).
	pub fn has_declined(job_id: JobId, node_id: NodeId) -> bool {
		Declined::<T>::get(job_id).contains(&node_id)
	}

	/// More than half of the current validator set.
	pub(crate) fn is_majority(votes: usize) -> bool {
		let validators = usize::try_from(T::Validators::count()).unwrap_or(usize::MAX);
		votes.saturating_mul(2) > validators
	}

	/// Votes of accounts that are validators now whose choice matches `pred`. Votes cast by
	/// accounts that have since left the set are not counted.
	pub(crate) fn current_votes_for<V>(
		votes: &[(T::AccountId, V)],
		pred: impl Fn(&V) -> bool,
	) -> usize {
		votes
			.iter()
			.filter(|(who, vote)| pred(vote) && T::Validators::is_validator_worker(who))
			.count()
	}

	/// The current validators among `votes` that voted `accept`.
	pub(crate) fn current_voters(
		votes: impl IntoIterator<Item = (T::AccountId, bool)>,
		accept: bool,
	) -> Vec<T::AccountId> {
		votes
			.into_iter()
			.filter(|(who, a)| *a == accept && T::Validators::is_validator_worker(who))
			.map(|(who, _)| who)
			.collect()
	}

	/// What the job costs on a node: price per GPU-hour × GPUs × hours.
	pub fn job_cost(
		price_per_gpu_hour: BalanceOf<T>,
		req: &JobRequirements,
	) -> Option<BalanceOf<T>> {
		let gpu_hours = u64::from(req.gpus).checked_mul(u64::from(req.gpu_hours))?;
		let gpu_hours = BalanceOf::<T>::try_from(gpu_hours).ok()?;
		price_per_gpu_hour.checked_mul(&gpu_hours)
	}

	/// Every hard constraint of `job` on `node_id`; the cost on success.
	pub fn check_node_for_job(
		job: &JobOf<T>,
		node_id: NodeId,
		now: BlockNumberFor<T>,
	) -> Result<BalanceOf<T>, Error<T>> {
		Self::eligible_node_for_job(job, node_id, now).map(|(_, cost)| cost)
	}

	/// Like `check_node_for_job`, also handing back the node it read.
	pub(crate) fn eligible_node_for_job(
		job: &JobOf<T>,
		node_id: NodeId,
		now: BlockNumberFor<T>,
	) -> Result<(pallet_compute_registry::NodeInfoOf<T>, BalanceOf<T>), Error<T>> {
		let node = Registry::<T>::check_eligible(node_id, &job.requirements, now)
			.map_err(Error::<T>::from)?;
		let cost = Self::job_cost(node.spec.price_per_gpu_hour, &job.requirements)
			.ok_or(Error::<T>::PriceAboveBudget)?;
		ensure!(cost <= job.budget, Error::<T>::PriceAboveBudget);
		Ok((node, cost))
	}

	/// Where a job's sample of candidates starts in the matching index: drawn from the parent
	/// block's hash and the job id, so that no fixed set of nodes registered first (dead, busy
	/// or unfit) can hide every later node from matching.
	pub fn sample_offset(job_id: JobId) -> u32 {
		let parent = frame_system::Pallet::<T>::parent_hash();
		let seed = sp_io::hashing::blake2_256(&(b"aicchain/sample", parent, job_id).encode());
		u32::from_le_bytes([seed[0], seed[1], seed[2], seed[3]])
	}

	/// The fallback's and the workers' candidates for a job: up to `MaxFallbackCandidates`
	/// nodes of the classes that can fit it, read from the job's sampled offset onwards, less
	/// the nodes that declined it.
	pub fn candidate_sample(job_id: JobId, job: &JobOf<T>) -> Vec<NodeId> {
		let declined = Declined::<T>::get(job_id);
		let mut sample = Registry::<T>::candidates_from(
			job.requirements.gpus,
			T::MaxFallbackCandidates::get(),
			Self::sample_offset(job_id),
		);
		sample.retain(|node_id| !declined.contains(node_id));
		sample
	}

	/// The deterministic fallback: the lowest `price × (1000 + w × carbon) / (1 + reputation)`
	/// among the eligible, affordable nodes of the job's sample (ties: the lower node id), `w`
	/// being [`PREFER_RENEWABLE_CARBON_WEIGHT`] for a job that prefers renewable power and 1
	/// otherwise. Integers only.
	pub fn fallback_choice(
		job_id: JobId,
		job: &JobOf<T>,
		now: BlockNumberFor<T>,
	) -> Option<(NodeId, BalanceOf<T>)> {
		let mut best: Option<(u128, NodeId, BalanceOf<T>)> = None;
		for node_id in Self::candidate_sample(job_id, job) {
			let Ok((node, cost)) = Self::eligible_node_for_job(job, node_id, now) else {
				continue;
			};
			let score = Self::fallback_score(&node, &job.requirements);
			let better = match best {
				None => true,
				Some((s, id, _)) => score < s || (score == s && node_id < id),
			};
			if better {
				best = Some((score, node_id, cost));
			}
		}
		best.map(|(_, node_id, cost)| (node_id, cost))
	}

	/// The fallback's score of `node` for a job of `req` (lower is better).
	pub(crate) fn fallback_score(
		node: &pallet_compute_registry::NodeInfoOf<T>,
		req: &JobRequirements,
	) -> u128 {
		let price: u128 = node.spec.price_per_gpu_hour.try_into().unwrap_or(u128::MAX);
		let weight = match req.sustainability {
			SustainabilityPreference::PreferRenewable => PREFER_RENEWABLE_CARBON_WEIGHT,
			_ => 1,
		};
		let carbon =
			1_000u128.saturating_add(u128::from(node.spec.carbon_intensity).saturating_mul(weight));
		let reputation = 1u128.saturating_add(u128::from(node.reputation.deconstruct()));
		price.saturating_mul(carbon).saturating_mul(1_000_000_000) / reputation
	}

	/// When a quorum (a majority of the current validator set) proposed: the node with the most
	/// proposals that is still valid (ties: the lower node id). A minority decides nothing.
	pub(crate) fn plurality_choice(
		job_id: JobId,
		job: &JobOf<T>,
		now: BlockNumberFor<T>,
	) -> Option<(NodeId, BalanceOf<T>)> {
		let proposals = Proposals::<T>::take(job_id);
		if !Self::is_majority(Self::current_votes_for(&proposals, |_| true)) {
			return None;
		}
		let declined = Declined::<T>::get(job_id);
		Self::ranked_proposals(&proposals)
			.into_iter()
			.filter(|node_id| !declined.contains(node_id))
			.find_map(|node_id| {
				Self::check_node_for_job(job, node_id, now).ok().map(|cost| (node_id, cost))
			})
	}

	/// The nodes that current validators proposed, most proposals first (ties: the lower node
	/// id); proposals of accounts that left the set are not counted.
	pub(crate) fn ranked_proposals(proposals: &[(T::AccountId, NodeId)]) -> Vec<NodeId> {
		let mut tally: Vec<(NodeId, usize)> = Vec::new();
		for (who, node_id) in proposals.iter() {
			if !T::Validators::is_validator_worker(who) {
				continue;
			}
			match tally.iter_mut().find(|(n, _)| n == node_id) {
				Some((_, votes)) => *votes = votes.saturating_add(1),
				None => tally.push((*node_id, 1)),
			}
		}
		tally.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
		tally.into_iter().map(|(node_id, _)| node_id).collect()
	}

	/// Assigns a pending job: takes the node's GPUs, fixes its terms in the job, and moves the
	/// job's deadline to its [`Self::result_deadline`].
	pub(crate) fn assign(
		job_id: JobId,
		mut job: JobOf<T>,
		node_id: NodeId,
		cost: BalanceOf<T>,
		rule: AssignmentRule,
		now: BlockNumberFor<T>,
	) -> DispatchResult {
		let node =
			pallet_compute_registry::Nodes::<T>::get(node_id).ok_or(Error::<T>::NodeNotFound)?;
		let deadline = Self::free_deadline(Self::result_deadline(&job.requirements, now))?;
		Registry::<T>::reserve_slot(node_id, job.requirements.gpus)?;
		Self::unschedule(job_id, job.deadline);
		Self::schedule(job_id, deadline);
		Proposals::<T>::remove(job_id);
		job.status = JobStatus::Assigned { node: node_id, cost };
		job.deadline = deadline;
		job.terms = Some(MatchedTerms::of(&node.spec));
		job.assigned_at = now;
		Jobs::<T>::insert(job_id, job);
		Self::deposit_event(Event::JobAssigned { job_id, node_id, cost, rule });
		Ok(())
	}

	/// The assigned node `node_id` declines `job`: its slot and GPUs are freed (no slash, no
	/// reputation change) and it joins the job's [`Declined`] list. The job goes back to
	/// `Pending` with its terms cleared and a fresh proposal window; the `MaxDeclines`-th decline,
	/// or a deadline queue too full for the new window, expires it with a full refund instead.
	pub(crate) fn decline(
		job_id: JobId,
		mut job: JobOf<T>,
		node_id: NodeId,
		now: BlockNumberFor<T>,
	) -> DispatchResult {
		// A user's dataset may be missing from where its owner said it would be: declining such a
		// job is not the provider's fault.
		let penalise = !Self::on_user_dataset(&job.requirements);
		pallet_compute_registry::Pallet::<T>::release_declined(
			node_id,
			job.requirements.gpus,
			penalise,
		);
		Self::unschedule(job_id, job.deadline);
		job.status = JobStatus::Pending;
		job.terms = None;
		Self::deposit_event(Event::JobDeclined { job_id, node_id });
		let mut declined = Declined::<T>::get(job_id);
		let room = declined.try_push(node_id).is_ok()
			&& u32::try_from(declined.len()).unwrap_or(u32::MAX) < T::MaxDeclines::get();
		let deadline = if room {
			Self::free_deadline(now.saturating_add(T::ProposalWindow::get())).ok()
		} else {
			None
		};
		match deadline {
			Some(deadline) => {
				Self::schedule(job_id, deadline);
				job.deadline = deadline;
				Declined::<T>::insert(job_id, declined);
				Jobs::<T>::insert(job_id, job);
				Ok(())
			},
			None => Self::expire(job_id, job, crate::ExpiryReason::Declined),
		}
	}

	/// Invariants of [`Declined`]: lists exist only for open jobs, are not empty, hold each
	/// node once and fewer than `MaxDeclines` nodes (the last decline expires the job), and a
	/// job is never assigned to a node that declined it.
	pub fn check_declines() -> Result<(), sp_runtime::TryRuntimeError> {
		for (job_id, declined) in Declined::<T>::iter() {
			let job = Jobs::<T>::get(job_id).ok_or("declines of a job that is not stored")?;
			ensure!(job.status.is_open(), "declines kept for a finished job");
			ensure!(!declined.is_empty(), "empty declines list stored");
			ensure!(
				u32::try_from(declined.len()).unwrap_or(u32::MAX) < T::MaxDeclines::get(),
				"a job declined MaxDeclines times is still open"
			);
			let mut nodes = declined.to_vec();
			nodes.sort();
			nodes.dedup();
			ensure!(nodes.len() == declined.len(), "a node declined the same job twice");
			if let JobStatus::Assigned { node, .. } | JobStatus::ResultSubmitted { node, .. } =
				job.status
			{
				ensure!(!declined.contains(&node), "job assigned to a node that declined it");
			}
		}
		Ok(())
	}
}
