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

/// Where verified training results go (the model registry). Recording never fails the
/// settlement it is part of.
pub trait VerifiedModels<AccountId, Balance> {
	/// Records `result` as a model version.
	fn record(result: VerifiedTraining<AccountId, Balance>);
	/// The most [`Self::record`] weighs.
	fn record_weight() -> Weight;
}

impl<AccountId, Balance> VerifiedModels<AccountId, Balance> for () {
	fn record(_: VerifiedTraining<AccountId, Balance>) {}
	fn record_weight() -> Weight {
		Weight::zero()
	}
}
