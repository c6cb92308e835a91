//! The registry's stored and shared types: node status and record, the running totals, GPU
//! classes and the reasons a node cannot take a job.

use aicchain_primitives::NodeSpec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_runtime::{traits::ConstU32, BoundedVec, Perbill, Percent};

/// Number of GPU-count buckets: 1, 2-3, 4-7, 8-15, 16-31, 32-63, 64-127, 128+.
pub const GPU_CLASSES: u8 = 8;

/// Share of renewable energy from which a node counts as renewable in [`ActiveTotals`].
pub const RENEWABLE_SHARE: Percent = Percent::from_percent(50);

/// The bucket of a GPU count: `floor(log2(gpus))`, capped at the last class.
pub fn gpu_class(gpus: u32) -> u8 {
	let log2 = u32::BITS.saturating_sub(gpus.leading_zeros()).saturating_sub(1);
	u8::try_from(log2).unwrap_or(u8::MAX).min(GPU_CLASSES.saturating_sub(1))
}

/// Longest published engine address.
pub type MaxEngineUrlLen = ConstU32<128>;
/// A node's published engine address, e.g. `http://203.0.113.7:9960`.
pub type EngineUrl = BoundedVec<u8, MaxEngineUrlLen>;

/// Whether `url` is an engine address the chain accepts: `http://` or `https://`, then a
/// non-empty rest of printable ASCII without spaces (the engine appends its routes to it).
pub fn valid_engine_url(url: &[u8]) -> bool {
	let rest = url.strip_prefix(b"http://").or_else(|| url.strip_prefix(b"https://"));
	rest.is_some_and(|rest| !rest.is_empty() && rest.iter().all(|b| b.is_ascii_graphic()))
}

/// Where a node is in its life cycle.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub enum NodeStatus<BlockNumber> {
	/// In the matching index; accepts jobs while live (and once its worker is bound).
	Active,
	/// Registered and bonded but out of the matching index: it missed its heartbeats or its
	/// bond fell below `MinNodeBond`. A heartbeat or `top_up_bond` makes it active again.
	Dormant,
	/// Deregistered; the bond can be withdrawn from `unlock_at`.
	Unbonding { unlock_at: BlockNumber },
}

/// A registered node.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct NodeInfo<AccountId, Balance, BlockNumber> {
	/// The provider: pays the bond and manages the node.
	pub owner: AccountId,
	/// The key the node's off-chain worker signs results with (only proposed until
	/// `worker_bound`).
	pub worker: AccountId,
	/// What the node offers.
	pub spec: NodeSpec<Balance>,
	/// AICC held from the owner for this node (less anything slashed, plus top-ups).
	pub bond: Balance,
	/// Life-cycle status.
	pub status: NodeStatus<BlockNumber>,
	/// Block of the last heartbeat (or of registration).
	pub last_heartbeat: BlockNumber,
	/// Track record, moved by job outcomes.
	pub reputation: Perbill,
	/// Jobs assigned and not yet settled.
	pub active_jobs: u32,
	/// GPUs those jobs hold: never more than `spec.gpu_count`.
	pub active_gpus: u32,
	/// Jobs settled successfully.
	pub completed_jobs: u32,
	/// Jobs rejected or timed out.
	pub failed_jobs: u32,
	/// Whether `worker` agreed to sign for this node (it is the owner, or it called
	/// `accept_worker`); only then is it in [`crate::NodeByWorker`] and may the node take jobs.
	pub worker_bound: bool,
}

/// Totals over the nodes in the matching index (the active nodes), kept in step with it.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub struct ActiveTotals {
	/// Active nodes.
	pub nodes: u32,
	/// Their GPUs.
	pub gpus: u64,
	/// Those of them with at least [`RENEWABLE_SHARE`] renewable energy.
	pub renewable_nodes: u32,
}

/// Why a node cannot take a job.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Ineligible {
	/// No node has this id.
	NotFound,
	/// The node is deregistered (unbonding).
	NotActive,
	/// The node is dormant: out of the matching index until it heartbeats (or is topped up).
	Dormant,
	/// The node missed its heartbeats.
	NotLive,
	/// The node's worker key has not accepted to sign for it.
	WorkerNotBound,
	/// The node has fewer GPUs than the job needs.
	TooFewGpus,
	/// The node's bandwidth is below the job's minimum.
	BandwidthTooLow,
	/// The node's latency is above the job's maximum.
	LatencyTooHigh,
	/// The node's energy is not renewable enough for the job.
	NotRenewableEnough,
	/// The node has no free job slot, or too few free GPUs.
	NoFreeCapacity,
}
