//! The pallet's plain types: jobs, their status and receipts, the terms a job was matched on,
//! and the validator set the off-chain workers answer to.

use crate::Config;
use aicchain_primitives::{
	federation::Federation, JobRequirements, NodeId, QuantisedMetrics, SubsidyId,
};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::traits::fungible::Inspect;
use scale_info::TypeInfo;
use sp_core::H256;
use sp_runtime::Percent;

/// Balance type of the payment currency.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
/// Block number type of the runtime.
pub type BlockNumberOf<T> = frame_system::pallet_prelude::BlockNumberFor<T>;
/// A job as stored.
pub type JobOf<T> = Job<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberOf<T>>;

/// The validators whose off-chain workers may propose assignments and attest results.
pub trait ValidatorWorkers<AccountId> {
	/// Whether `who` is the worker key of a current validator.
	fn is_validator_worker(who: &AccountId) -> bool;
	/// Size of the current validator set.
	fn count() -> u32;
	/// Makes `who` a validator worker, for benchmarks.
	#[cfg(feature = "runtime-benchmarks")]
	fn add_for_benchmark(who: &AccountId);
}

/// Where a job is in its life.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub enum JobStatus<Balance> {
	/// Waiting for an assignment.
	Pending,
	/// Running on `node` for `cost`.
	Assigned { node: NodeId, cost: Balance },
	/// `node` published a model; validators are attesting.
	ResultSubmitted { node: NodeId, cost: Balance, model_hash: H256, metrics: QuantisedMetrics },
	/// Paid out; see the receipt.
	Settled { node: NodeId },
	/// Verifiers rejected the result: refunded, bond slashed.
	Rejected { node: NodeId },
	/// The node sent no result in time: refunded, bond slashed.
	TimedOut { node: NodeId },
	/// Attestations were tied or missing when the window closed: refunded, no slash.
	Unverified { node: NodeId },
	/// No eligible node (or declined `MaxDeclines` times): refunded.
	Expired,
	/// Cancelled by the user before assignment: refunded.
	Cancelled,
	/// Every node that could run it was busy when its proposal window ended: waiting in the
	/// [`crate::WaitQueue`] for capacity until `Job::wait_until`.
	Queued,
}

impl<Balance> JobStatus<Balance> {
	/// Whether the budget is still held.
	pub fn is_open(&self) -> bool {
		matches!(
			self,
			Self::Pending | Self::Queued | Self::Assigned { .. } | Self::ResultSubmitted { .. }
		)
	}
}

/// What a node offered when a job was matched to it: settlement reads these, never the node's
/// current spec, so a provider cannot raise its price or dirty its energy under a running job.
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
pub struct MatchedTerms<Balance> {
	/// Price of one GPU-hour.
	pub price_per_gpu_hour: Balance,
	/// Share of the node's energy from renewable sources.
	pub renewable_share: Percent,
	/// Carbon intensity of the node's energy, in gCO2e per kWh.
	pub carbon_intensity: u32,
}

impl<Balance: Copy> MatchedTerms<Balance> {
	/// The terms a node offers under `spec`.
	pub fn of(spec: &aicchain_primitives::NodeSpec<Balance>) -> Self {
		Self {
			price_per_gpu_hour: spec.price_per_gpu_hour,
			renewable_share: spec.renewable_share,
			carbon_intensity: spec.carbon_intensity,
		}
	}
}

/// A submitted job.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct Job<AccountId, Balance, BlockNumber> {
	/// Who submitted (and pays for) the job.
	pub owner: AccountId,
	/// What the job needs.
	pub requirements: JobRequirements,
	/// The most the user pays; held in escrow while the job is open.
	pub budget: Balance,
	/// Current stage.
	pub status: JobStatus<Balance>,
	/// Block of submission.
	pub submitted_at: BlockNumber,
	/// When the current stage ends.
	pub deadline: BlockNumber,
	/// The node's terms, fixed when the job was assigned.
	pub terms: Option<MatchedTerms<Balance>>,
	/// Block of the last assignment (the submission block until the job is assigned): the
	/// provider may decline until `DeclineWindow` blocks after it.
	pub assigned_at: BlockNumber,
	/// The last block the job may wait for capacity in the queue: submission, the proposal
	/// window and the wait the user asked for.
	pub wait_until: BlockNumber,
}

/// How an assignment was decided.
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
pub enum AssignmentRule {
	/// A majority of the validator set proposed the node.
	Majority,
	/// A quorum of the validator set proposed when the window closed, and the node had the most
	/// valid proposals.
	Plurality,
	/// Nobody proposed: the on-chain score chose.
	Fallback,
	/// The job waited in the queue; the on-chain score chose when a node had room.
	Queue,
}

/// Why a job expired (refunded in full, nothing slashed).
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
pub enum ExpiryReason {
	/// No node of the job's sample could ever run it (requirements or budget), busy or not.
	NoSuitableNode,
	/// It waited in the queue until its `wait_until` without a node having room.
	QueueTimeout,
	/// The queue (or the deadline queue) had no room for it.
	QueueFull,
	/// Every node it was given declined it (`MaxDeclines`).
	Declined,
	/// A stage could not complete (a defensive path): refunded.
	Aborted,
	/// The wait queue was full and a job bidding more per GPU-hour took its place.
	Displaced,
}

/// The record of a settled job.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct JobReceipt<AccountId, Balance> {
	pub node: NodeId,
	pub provider: AccountId,
	/// What the job cost: price per GPU-hour × GPUs × hours.
	pub cost: Balance,
	/// Paid to the provider out of the escrow (`ProviderShare` of the cost).
	pub provider_amount: Balance,
	/// Paid to the community fund out of the escrow.
	pub fund_amount: Balance,
	/// Paid to the provider from the fund for renewable energy.
	pub renewable_bonus: Balance,
	/// Part of the cost the fund paid under an AICG-voted subsidy.
	pub subsidy: Balance,
	/// The subsidy that paid it.
	pub subsidy_id: Option<SubsidyId>,
	/// What the user paid: the cost less the subsidy.
	pub user_paid: Balance,
	/// Budget returned to the user: the saving against the budget.
	pub saving: Balance,
	/// Energy the job used, in Wh.
	pub energy_wh: u64,
	/// Emissions of the job, in grams CO2e.
	pub carbon_grams: u64,
	/// Emissions avoided against the reference grid, in grams CO2e.
	pub carbon_reduction_grams: u64,
	/// The published model and its metrics.
	pub model_hash: H256,
	pub metrics: QuantisedMetrics,
}

/// A federated job as stored.
pub type FederationOf<T> =
	Federation<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberOf<T>>;
