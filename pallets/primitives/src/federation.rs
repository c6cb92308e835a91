//! Federated training jobs: one model trained across several providers, round by round.
//!
//! Each round every member trains the round's global model on its shard of the training split
//! (shards fixed by the spec's seed) and commits the hash of its update on chain. The
//! validators' engines fetch the updates, drop outliers, aggregate the rest by the job's
//! [`AggregationRule`], and vote on a [`RoundVerdict`]: the aggregate model file's hash and the
//! members excluded. A majority of the validator set makes the aggregate the next round's
//! global model; the last one is the job's model.

use crate::{JobRequirements, NodeId, QuantisedMetrics};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_core::{ConstU32, H256};
use sp_runtime::BoundedVec;

/// The most providers one federated job may ask for (the runtime may allow fewer): members
/// are numbered `0..providers`, and a [`RoundVerdict`]'s exclusions are a bit per member.
pub const MAX_FEDERATION_PROVIDERS: u32 = 8;
/// The fewest providers a federated job asks for.
pub const MIN_FEDERATION_PROVIDERS: u32 = 2;

/// The updates a round's aggregate kept: (member, update hash).
pub type KeptUpdates = BoundedVec<(u8, H256), ConstU32<MAX_FEDERATION_PROVIDERS>>;

/// How a round's kept updates become the next global model (coordinate-wise).
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
pub enum AggregationRule {
	/// The mean (federated averaging with equal shards).
	FedAvg,
	/// The median.
	Median,
	/// The mean after dropping the lowest and the highest value (the median when fewer than
	/// three updates are kept).
	TrimmedMean,
}

/// What a federated job asks for beyond an ordinary job's requirements.
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
pub struct FederationSpec {
	/// Providers that train, each on its shard (each needs the job's GPUs).
	pub providers: u8,
	/// Rounds of local training and aggregation.
	pub rounds: u8,
	/// How updates are aggregated (after outliers are excluded).
	pub rule: AggregationRule,
}

/// A validator's judgement of a round.
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
pub struct RoundVerdict {
	/// blake2-256 of the aggregate's model file (the usual MLP safetensors).
	pub aggregate: H256,
	/// Members (bit `i` for member `i`) whose updates are excluded: farther from the
	/// coordinate-wise median than the bound, malformed or not served.
	pub excluded: u8,
}

impl RoundVerdict {
	/// Whether member `index` is excluded.
	pub fn excludes(&self, index: usize) -> bool {
		index < 8 && self.excluded & (1u8 << index) != 0
	}
}

/// One provider of a federated job.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct Member<AccountId, Balance> {
	pub node: NodeId,
	/// The node's owner when it was matched: who is paid.
	pub provider: AccountId,
	/// The node's worker key when it was matched: the key the other members' engines serve
	/// this job's updates to.
	pub worker: AccountId,
	/// What all the job's rounds cost on the node (price per GPU-hour × GPUs × hours): the
	/// member is paid the share of it its kept rounds make.
	pub cost: Balance,
	/// The hash of this round's update, once committed.
	pub update: Option<H256>,
	/// Rounds whose aggregate kept its update.
	pub rounds: u8,
	/// Excluded (poisoned, unserved or missing update): slashed, unpaid, out of later rounds.
	pub excluded: bool,
}

/// Where a federated job is.
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
pub enum FederationStage {
	/// Members train the round's global model and commit their updates.
	Training,
	/// Validators judge the round's updates.
	Aggregating,
	/// Every round was aggregated: paid, and the model recorded.
	Settled,
	/// Ended early (no update kept, or no verdict reached a majority): the rounds agreed were
	/// paid, the rest refunded.
	Failed,
}

/// A federated training job (its id is taken from the jobs' ids).
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct Federation<AccountId, Balance, BlockNumber> {
	pub owner: AccountId,
	/// What each member needs (GPUs, network, hours per round-set) and the training spec.
	pub requirements: JobRequirements,
	pub federated: FederationSpec,
	/// Held in escrow until the job ends.
	pub budget: Balance,
	pub members: BoundedVec<Member<AccountId, Balance>, ConstU32<MAX_FEDERATION_PROVIDERS>>,
	/// The round in progress (or the last one, once ended).
	pub round: u8,
	pub stage: FederationStage,
	/// When the current stage ends (once ended: when the record is pruned).
	pub deadline: BlockNumber,
	pub submitted_at: BlockNumber,
	/// The last agreed round: its aggregate and the updates (by member) that made it.
	pub previous: Option<(H256, KeptUpdates)>,
	/// The final model's held-out metrics (the median of the deciding validators' reports).
	pub metrics: Option<QuantisedMetrics>,
}

impl<AccountId, Balance, BlockNumber> Federation<AccountId, Balance, BlockNumber> {
	/// Whether the escrow is still held.
	pub fn is_open(&self) -> bool {
		matches!(self.stage, FederationStage::Training | FederationStage::Aggregating)
	}

	/// Members still in the job.
	pub fn active(&self) -> impl Iterator<Item = (usize, &Member<AccountId, Balance>)> {
		self.members.iter().enumerate().filter(|(_, m)| !m.excluded)
	}
}
