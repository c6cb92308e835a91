//! What the jobs pallet calls: eligibility, job slots, reputation and slashing.

use crate::{pallet::*, BalanceOf, HoldReason, Ineligible, NodeInfoOf, NodeStatus};
use aicchain_primitives::{spec_meets_requirements, JobRequirements, NodeId};
use frame_support::{
	dispatch::DispatchResult,
	ensure,
	traits::{
		fungible::MutateHold,
		tokens::{Fortitude, Precision, Restriction},
		Get,
	},
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::{
	traits::{Saturating, Zero},
	DispatchError, Perbill,
};

impl<T: Config> Pallet<T> {
	/// Checks every hard constraint except price (which depends on the job's budget): in this
	/// order, the node exists, is active (`NotActive` when unbonding, `Dormant` when dormant),
	/// is live, has its worker bound, meets the requirements and has room.
	pub fn check_eligible(
		node_id: NodeId,
		req: &JobRequirements,
		now: BlockNumberFor<T>,
	) -> Result<NodeInfoOf<T>, Ineligible> {
		let node = Nodes::<T>::get(node_id).ok_or(Ineligible::NotFound)?;
		match node.status {
			NodeStatus::Active => {},
			NodeStatus::Dormant => return Err(Ineligible::Dormant),
			NodeStatus::Unbonding { .. } => return Err(Ineligible::NotActive),
		}
		if !Self::is_live(&node, now) {
			return Err(Ineligible::NotLive);
		}
		if !node.worker_bound {
			return Err(Ineligible::WorkerNotBound);
		}
		if !spec_meets_requirements(&node.spec, req) {
			let spec = &node.spec;
			return Err(if spec.gpu_count < req.gpus {
				Ineligible::TooFewGpus
			} else if spec.bandwidth_mbps < req.min_bandwidth_mbps {
				Ineligible::BandwidthTooLow
			} else if spec.latency_ms > req.max_latency_ms {
				Ineligible::LatencyTooHigh
			} else {
				Ineligible::NotRenewableEnough
			});
		}
		// After the spec: a node too small for the job is `TooFewGpus`, not busy.
		if !Self::has_room(&node, req.gpus) {
			return Err(Ineligible::NoFreeCapacity);
		}
		Ok(node)
	}

	/// Whether `node` can take one more job of `gpus` GPUs: a free job slot and enough free
	/// GPUs.
	pub fn has_room(node: &NodeInfoOf<T>, gpus: u32) -> bool {
		node.active_jobs < T::MaxJobsPerNode::get()
			&& node.active_gpus.checked_add(gpus).is_some_and(|g| g <= node.spec.gpu_count)
	}

	/// Takes a job slot and `gpus` GPUs on a node (called when a job is assigned to it).
	pub fn reserve_slot(node_id: NodeId, gpus: u32) -> DispatchResult {
		Nodes::<T>::try_mutate(node_id, |maybe_node| {
			let node = maybe_node.as_mut().ok_or(Error::<T>::NodeNotFound)?;
			ensure!(Self::has_room(node, gpus), Error::<T>::NoFreeCapacity);
			node.active_jobs = node.active_jobs.saturating_add(1);
			node.active_gpus = node.active_gpus.saturating_add(gpus);
			Ok(())
		})
	}

	/// Frees a job slot and its `gpus` GPUs, and moves reputation by the outcome: a success
	/// closes 10% of the gap to 100%, a failure removes 20% of the current reputation.
	pub fn finish_job(node_id: NodeId, gpus: u32, success: bool) {
		Self::release_slot(node_id, gpus, |node| {
			if success {
				node.completed_jobs = node.completed_jobs.saturating_add(1);
				let gap = Perbill::one().saturating_sub(node.reputation);
				node.reputation = node.reputation.saturating_add(Perbill::from_percent(10) * gap);
			} else {
				node.failed_jobs = node.failed_jobs.saturating_add(1);
				let cut = Perbill::from_percent(20) * node.reputation;
				node.reputation = node.reputation.saturating_sub(cut);
			}
		});
	}

	/// Frees the job slot and `gpus` GPUs of a job the node declined, and (if `penalise`) cuts
	/// its reputation by 5% (a failure cuts 20%): declining is no failure, but a node that
	/// declines often ranks below the nodes that run what they are given. A decline the node
	/// cannot be blamed for (a user's dataset it could not fetch) is not penalised.
	pub fn release_declined(node_id: NodeId, gpus: u32, penalise: bool) {
		Self::release_slot(node_id, gpus, |node| {
			if penalise {
				let cut = Perbill::from_percent(5) * node.reputation;
				node.reputation = node.reputation.saturating_sub(cut);
			}
		});
	}

	/// Frees a job slot and `gpus` GPUs, lets `outcome` move the record, stores the node and
	/// reports its reputation.
	fn release_slot(node_id: NodeId, gpus: u32, outcome: impl FnOnce(&mut NodeInfoOf<T>)) {
		let Some(mut node) = Nodes::<T>::get(node_id) else { return };
		node.active_jobs = node.active_jobs.saturating_sub(1);
		node.active_gpus = node.active_gpus.saturating_sub(gpus);
		outcome(&mut node);
		let reputation = node.reputation;
		Nodes::<T>::insert(node_id, node);
		Self::deposit_event(Event::ReputationUpdated { node_id, reputation });
	}

	/// Moves up to `amount` of a node's bond to `to`; returns what was moved. An active node
	/// left with less than `MinNodeBond` becomes dormant (out of the matching index) until its
	/// owner tops the bond up.
	pub fn slash_bond(
		node_id: NodeId,
		amount: BalanceOf<T>,
		to: &T::AccountId,
	) -> Result<BalanceOf<T>, DispatchError> {
		let mut node = Nodes::<T>::get(node_id).ok_or(Error::<T>::NodeNotFound)?;
		let amount = amount.min(node.bond);
		if amount.is_zero() {
			return Ok(amount);
		}
		let slashed = T::Currency::transfer_on_hold(
			&HoldReason::NodeBond.into(),
			&node.owner,
			to,
			amount,
			Precision::BestEffort,
			Restriction::Free,
			Fortitude::Force,
		)?;
		node.bond = node.bond.saturating_sub(slashed);
		Self::deposit_event(Event::BondSlashed { node_id, amount: slashed, to: to.clone() });
		if node.status == NodeStatus::Active && node.bond < T::MinNodeBond::get() {
			Self::make_dormant(node_id, &mut node);
		}
		Nodes::<T>::insert(node_id, node);
		Ok(slashed)
	}
}
