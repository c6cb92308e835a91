//! What the pending jobs a worker run has already placed will take: the capacity a validator's
//! proposals count on before the chain assigns them.
//!
//! Without it every validator scored each of a block's pending jobs against the same chain
//! state, so a burst of jobs all went to the one best node: it took as many as it had room for
//! and every later proposal for it failed (`NoFreeCapacity`), leaving those jobs to the
//! on-chain fallback. Measured on the 4-validator zombienet (80 jobs, 8 a block): 43 of 80 jobs
//! fell back, and 141 proposals failed for capacity.
//!
//! A run visits the open jobs in job-id order; for each pending one it reserves the node the job
//! is expected to take (the plurality of its proposals on chain, else this validator's own
//! proposal in flight, else the node it proposes now) and offers the engine only candidates
//! with room after the reservations, with their load counted. Validators that saw the same chain
//! and run the same policy make the same reservations in the same order, and so propose alike.

use crate::{pallet::*, JobOf};
use aicchain_primitives::{JobId, NodeId};
use alloc::{collections::BTreeMap, vec::Vec};
use codec::Encode;
use sp_runtime::offchain::storage::StorageValueRef;

/// Jobs and GPUs reserved per node by the pending jobs of this run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reservations(BTreeMap<NodeId, (u32, u32)>);

impl Reservations {
	/// Counts a `gpus`-GPU job on `node_id`.
	pub fn reserve(&mut self, node_id: NodeId, gpus: u32) {
		let entry = self.0.entry(node_id).or_default();
		entry.0 = entry.0.saturating_add(1);
		entry.1 = entry.1.saturating_add(gpus);
	}

	/// Jobs and GPUs reserved on `node_id`.
	pub fn on(&self, node_id: NodeId) -> (u32, u32) {
		self.0.get(&node_id).copied().unwrap_or_default()
	}
}

impl<T: Config> Pallet<T> {
	/// The node a pending job that this validator does not propose for now is expected to take:
	/// the plurality of its current validators' proposals on chain (as the chain ranks them),
	/// else the proposal this validator sent and that has not landed yet.
	fn expected_node(job_id: JobId) -> Option<NodeId> {
		Self::ranked_proposals(&Proposals::<T>::get(job_id)).first().copied().or_else(|| {
			StorageValueRef::persistent(&Self::proposed_key(job_id)).get::<NodeId>().ok().flatten()
		})
	}

	/// Remembers (in this node's offchain storage) the node this validator proposed for `job_id`.
	pub(crate) fn remember_proposal(job_id: JobId, node_id: NodeId) {
		StorageValueRef::persistent(&Self::proposed_key(job_id)).set(&node_id);
	}

	/// Reserves for a pending job that this validator does not propose for in this run.
	pub(crate) fn reserve_expected(job_id: JobId, job: &JobOf<T>, reserved: &mut Reservations) {
		if let Some(node_id) = Self::expected_node(job_id) {
			reserved.reserve(node_id, job.requirements.gpus);
		}
	}

	fn proposed_key(job_id: JobId) -> Vec<u8> {
		(b"aicchain::worker::proposed", job_id).encode()
	}
}
