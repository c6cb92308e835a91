//! The pallet's invariants, checked after every test and by `try-runtime`.

use crate::{gpu_class, pallet::*, BalanceOf, HoldReason, NodeStatus, RENEWABLE_SHARE};
use frame_support::{
	ensure,
	traits::{fungible::InspectHold, Get},
};
use sp_runtime::traits::{Saturating, Zero};

impl<T: Config> Pallet<T> {
	/// - `NodeCount` equals the number of nodes, all below `NextNodeId`;
	/// - each owner's held `NodeBond` equals the sum of its nodes' bonds;
	/// - the owner index points at the nodes that name their owner; the worker index holds
	///   exactly the bound workers (a merely proposed one is not there for its node);
	/// - the GPU-class index holds exactly the active nodes, each in its own class, and an
	///   active node keeps at least `MinNodeBond`;
	/// - [`ActiveTotals`] equals a recount over the active nodes;
	/// - every published engine address belongs to a node and is valid;
	/// - no node runs more jobs than `MaxJobsPerNode` or more GPUs than it has, and a node
	///   without jobs holds no GPUs.
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		let mut count: u32 = 0;
		let mut totals = crate::ActiveTotals::default();
		for (node_id, node) in Nodes::<T>::iter() {
			count = count.saturating_add(1);
			ensure!(node_id < NextNodeId::<T>::get(), "node id at or above NextNodeId");
			ensure!(node.active_jobs <= T::MaxJobsPerNode::get(), "node runs too many jobs");
			ensure!(node.active_gpus <= node.spec.gpu_count, "node runs more GPUs than it has");
			ensure!(node.active_jobs > 0 || node.active_gpus == 0, "node without jobs holds GPUs");
			ensure!(
				NodesByOwner::<T>::get(&node.owner).contains(&node_id),
				"node missing from its owner's list"
			);
			let worker_indexed = NodeByWorker::<T>::get(&node.worker) == Some(node_id);
			if node.worker_bound {
				ensure!(worker_indexed, "bound worker does not point at its node");
			} else {
				ensure!(!worker_indexed, "proposed worker indexed as bound");
			}
			let indexed =
				NodesByGpuClass::<T>::get(gpu_class(node.spec.gpu_count)).contains(&node_id);
			match node.status {
				NodeStatus::Active => {
					ensure!(indexed, "active node missing from its GPU class");
					ensure!(node.bond >= T::MinNodeBond::get(), "active node below MinNodeBond");
					totals.nodes = totals.nodes.saturating_add(1);
					totals.gpus = totals.gpus.saturating_add(u64::from(node.spec.gpu_count));
					if node.spec.renewable_share >= RENEWABLE_SHARE {
						totals.renewable_nodes = totals.renewable_nodes.saturating_add(1);
					}
				},
				NodeStatus::Dormant => {
					ensure!(!indexed, "dormant node still in the matching index");
				},
				NodeStatus::Unbonding { .. } => {
					ensure!(!indexed, "unbonding node still in the matching index");
				},
			}
		}
		ensure!(count == NodeCount::<T>::get(), "NodeCount does not match the nodes");
		for (node_id, url) in EngineUrls::<T>::iter() {
			ensure!(Nodes::<T>::contains_key(node_id), "engine address of a removed node");
			ensure!(crate::valid_engine_url(&url), "invalid engine address stored");
		}
		let indexed: u32 = NodesByGpuClass::<T>::iter_values()
			.map(|bucket| u32::try_from(bucket.len()).unwrap_or(u32::MAX))
			.fold(0u32, |a, b| a.saturating_add(b));
		ensure!(indexed == totals.nodes, "GPU class index holds nodes that are not active");
		ensure!(ActiveTotals::<T>::get() == totals, "ActiveTotals differ from a recount");
		for (owner, owned) in NodesByOwner::<T>::iter() {
			let mut bonds = BalanceOf::<T>::zero();
			for node_id in owned.iter() {
				let node = Nodes::<T>::get(node_id).ok_or("owner lists a missing node")?;
				ensure!(node.owner == owner, "owner lists a node it does not own");
				bonds = bonds.saturating_add(node.bond);
			}
			ensure!(
				T::Currency::balance_on_hold(&HoldReason::NodeBond.into(), &owner) == bonds,
				"held NodeBond differs from the sum of the owner's node bonds"
			);
		}
		for (worker, node_id) in NodeByWorker::<T>::iter() {
			let node = Nodes::<T>::get(node_id).ok_or("worker index names a missing node")?;
			ensure!(node.worker == worker, "worker index names a node with another worker");
			ensure!(node.worker_bound, "worker index names a node whose worker is not bound");
		}
		Ok(())
	}
}
