//! What the compute market hands the model registry: every training result that the validators
//! verified, with who paid for it and who ran it.

use crate::{JobId, NodeId, QuantisedMetrics, TrainingSpec};
use sp_core::H256;
use sp_runtime::Weight;

/// Id of a model: a line of versions with one owner.
pub type ModelId = u64;
/// Id of a model version (global, not per model).
pub type VersionId = u64;

/// A training result the validators verified (a quorum accepted its challenged replay).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct VerifiedTraining<AccountId, Balance> {
	/// The job that trained it.
	pub job: JobId,
	/// Who submitted and paid for the job: the new model's owner.
	pub trainer: AccountId,
	/// The node that trained it.
	pub node: NodeId,
	/// The node's owner.
	pub provider: AccountId,
	/// What was trained.
	pub spec: TrainingSpec,
	/// The version the training continued from (relay training), if any.
	pub parent: Option<VersionId>,
	/// The verified held-out metrics.
	pub metrics: QuantisedMetrics,
	/// blake2-256 of the model file.
	pub model_hash: H256,
	/// AICC paid for the training (by the user and any subsidy): the version's weight in
	/// its lineage's dividends.
	pub cost: Balance,
}

/// A version a relay-training job may start from.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct RelayParent {
	/// What trained it (family, shape, dataset).
	pub spec: TrainingSpec,
	/// Its model file.
	pub model_hash: H256,
}

/// Why a job may not continue a version.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RelayRefusal {
	/// No such version.
	UnknownParent,
	/// Its model is private and the submitter is neither its owner nor allowed.
	NotFetchable,
}

/// Where verified training results go (the model registry), and what relay training reads
/// from it. Recording never fails the settlement it is part of.
pub trait VerifiedModels<AccountId, Balance> {
	/// Records `result` as a model version.
	fn record(result: VerifiedTraining<AccountId, Balance>);
	/// The most [`Self::record`] weighs.
	fn record_weight() -> Weight;
	/// Version `parent`, if `who` may continue it.
	fn relay_parent(who: &AccountId, parent: VersionId) -> Result<RelayParent, RelayRefusal>;
	/// The most [`Self::relay_parent`] weighs.
	fn relay_parent_weight() -> Weight;
	/// The model file of `version` (for the off-chain worker).
	fn model_hash(version: VersionId) -> Option<H256>;
}

impl<AccountId, Balance> VerifiedModels<AccountId, Balance> for () {
	fn record(_: VerifiedTraining<AccountId, Balance>) {}
	fn record_weight() -> Weight {
		Weight::zero()
	}
	fn relay_parent(_: &AccountId, _: VersionId) -> Result<RelayParent, RelayRefusal> {
		Err(RelayRefusal::UnknownParent)
	}
	fn relay_parent_weight() -> Weight {
		Weight::zero()
	}
	fn model_hash(_: VersionId) -> Option<H256> {
		None
	}
}
