//! The matching index ([`NodesByGpuClass`]) and its running totals ([`ActiveTotals`]): every
//! change to one goes through [`Pallet::index_insert`] and [`Pallet::index_remove`], which keep
//! the other in step. Also liveness, dormancy and the candidate lists matching reads.

use crate::{
	gpu_class, pallet::*, BalanceOf, NodeInfoOf, NodeStatus, GPU_CLASSES, RENEWABLE_SHARE,
};
use aicchain_primitives::{NodeId, NodeSpec};
use alloc::vec::Vec;
use frame_support::{dispatch::DispatchResult, traits::Get};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::traits::Saturating;

impl<T: Config> Pallet<T> {
	/// Adds `node_id` to the bucket of `spec`'s GPU class and its figures to the totals.
	/// Errors (changing nothing): `GpuClassFull`.
	pub(crate) fn index_insert(node_id: NodeId, spec: &NodeSpec<BalanceOf<T>>) -> DispatchResult {
		NodesByGpuClass::<T>::try_mutate(gpu_class(spec.gpu_count), |bucket| {
			bucket.try_push(node_id).map_err(|_| Error::<T>::GpuClassFull)
		})?;
		ActiveTotals::<T>::mutate(|totals| {
			totals.nodes = totals.nodes.saturating_add(1);
			totals.gpus = totals.gpus.saturating_add(u64::from(spec.gpu_count));
			if spec.renewable_share >= RENEWABLE_SHARE {
				totals.renewable_nodes = totals.renewable_nodes.saturating_add(1);
			}
		});
		Ok(())
	}

	/// Removes `node_id` from the bucket of `spec`'s GPU class and, if it was there, its
	/// figures from the totals.
	pub(crate) fn index_remove(node_id: NodeId, spec: &NodeSpec<BalanceOf<T>>) {
		let removed = NodesByGpuClass::<T>::mutate(gpu_class(spec.gpu_count), |bucket| {
			let before = bucket.len();
			bucket.retain(|id| *id != node_id);
			bucket.len() < before
		});
		if removed {
			ActiveTotals::<T>::mutate(|totals| {
				totals.nodes = totals.nodes.saturating_sub(1);
				totals.gpus = totals.gpus.saturating_sub(u64::from(spec.gpu_count));
				if spec.renewable_share >= RENEWABLE_SHARE {
					totals.renewable_nodes = totals.renewable_nodes.saturating_sub(1);
				}
			});
		}
	}

	/// Takes an active node out of the index and makes it dormant (the caller stores `node`).
	pub(crate) fn make_dormant(node_id: NodeId, node: &mut NodeInfoOf<T>) {
		Self::index_remove(node_id, &node.spec);
		node.status = NodeStatus::Dormant;
		Self::deposit_event(Event::NodeDormant { node_id });
	}

	/// Puts a dormant node back into the index and makes it active (the caller stores `node`).
	/// Errors (changing nothing): `GpuClassFull`.
	pub(crate) fn reactivate(node_id: NodeId, node: &mut NodeInfoOf<T>) -> DispatchResult {
		Self::index_insert(node_id, &node.spec)?;
		node.status = NodeStatus::Active;
		Self::deposit_event(Event::NodeReactivated { node_id });
		Ok(())
	}

	/// Whether `node` has heartbeaten within `HeartbeatTimeout` blocks of `now`.
	pub fn is_live(node: &NodeInfoOf<T>, now: BlockNumberFor<T>) -> bool {
		now.saturating_sub(node.last_heartbeat) <= T::HeartbeatTimeout::get()
	}

	/// If the node is active but not live at `now`, makes it dormant: out of the matching
	/// index, so that it hides no live node from matching (event `NodeDormant`). Returns
	/// whether it did; otherwise (no such node, live, or not active) changes nothing.
	pub fn drop_if_dead(node_id: NodeId, now: BlockNumberFor<T>) -> bool {
		let Some(mut node) = Nodes::<T>::get(node_id) else { return false };
		if node.status != NodeStatus::Active || Self::is_live(&node, now) {
			return false;
		}
		Self::make_dormant(node_id, &mut node);
		Nodes::<T>::insert(node_id, node);
		true
	}

	/// Totals over the active nodes (those in the matching index): one storage read.
	pub fn active_totals() -> crate::ActiveTotals {
		ActiveTotals::<T>::get()
	}

	/// Active nodes that may have enough GPUs for `gpus`, from the GPU-class index: at most
	/// `limit` ids, reading only the buckets from `gpus`'s class upwards.
	pub fn candidates(gpus: u32, limit: u32) -> Vec<NodeId> {
		let limit = usize::try_from(limit).unwrap_or(usize::MAX);
		let mut out = Vec::new();
		for class in gpu_class(gpus)..GPU_CLASSES {
			for node_id in NodesByGpuClass::<T>::get(class) {
				if out.len() >= limit {
					return out;
				}
				out.push(node_id);
			}
		}
		out
	}

	/// Like [`Self::candidates`], but the `limit` ids are read from position `offset` (modulo
	/// the number of indexed ids) onwards, wrapping around: callers draw `offset` at random so
	/// that the nodes first in the index cannot hide the others. Each class bucket is one
	/// storage read, however many ids it holds.
	pub fn candidates_from(gpus: u32, limit: u32, offset: u32) -> Vec<NodeId> {
		let all = Self::candidates(gpus, u32::MAX);
		let limit = usize::try_from(limit).unwrap_or(usize::MAX).min(all.len());
		if all.is_empty() {
			return all;
		}
		let start = usize::try_from(offset).unwrap_or(0) % all.len();
		all.iter().cycle().skip(start).take(limit).copied().collect()
	}
}
