//! What the compute market hands the model registry: every training result that the validators
//! verified, with who paid for it and who ran it.

use crate::{JobId, NodeId, QuantisedMetrics, TrainingSpec};
use codec::{Decode, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_core::{Get, H256};
use sp_runtime::{BoundedVec, Weight};

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

/// A line of versions with one owner, who names it and decides who may fetch its weights.
#[derive(Clone, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo, Debug)]
#[scale_info(skip_type_params(MaxName))]
pub struct Model<AccountId, BlockNumber, MaxName: Get<u32>> {
	/// Who owns it: the submitter of the job that trained its first version, until transferred.
	pub owner: AccountId,
	/// A name the owner chose (UTF-8 by convention; empty until named).
	pub name: BoundedVec<u8, MaxName>,
	/// Anyone may fetch a public model's weights; a private model's only its owner and the
	/// accounts it allowed (the registry's `Allowed` map).
	pub public: bool,
	/// Its first version.
	pub root: VersionId,
	/// Its newest version.
	pub latest: VersionId,
	/// How many versions it has.
	pub versions: u32,
	/// How many accounts it allows (entries of the registry's `Allowed` map).
	pub allowed: u32,
	/// Block of its first version.
	pub created_at: BlockNumber,
}

/// One verified training result.
#[derive(Clone, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo, Debug)]
pub struct ModelVersion<AccountId, Balance, BlockNumber> {
	/// The model it belongs to.
	pub model: ModelId,
	/// Its number within the model, from 1.
	pub number: u32,
	/// The version whose weights its training started from (relay training), if any.
	pub parent: Option<VersionId>,
	/// The job that trained it.
	pub job: JobId,
	/// Who paid for the job.
	pub trainer: AccountId,
	/// The node that trained it, whose engine serves its weights.
	pub node: NodeId,
	/// The node's owner.
	pub provider: AccountId,
	/// Dataset, model family, shape and hyper-parameters.
	pub spec: TrainingSpec,
	/// Held-out metrics the validators verified.
	pub metrics: QuantisedMetrics,
	/// blake2-256 of the model file: what engines serve it by (`GET /models/<hash>`).
	pub model_hash: H256,
	/// AICC paid for its training: its weight in its lineage's dividends.
	pub cost: Balance,
	/// Block it was recorded in.
	pub created_at: BlockNumber,
}

/// The domain of a signed model fetch: an engine serves a private model's weights
/// (`GET /models/0x<hash>?version=<id>`) or a run's checkpoints only on a request signed by an
/// account the chain allows, over [`fetch_payload`].
pub const FETCH_DOMAIN: &[u8] = b"aicchain-fetch1";

/// Longest a signed fetch stays valid, in seconds after it is checked: a signer sets its
/// expiry at most this far ahead.
pub const MAX_FETCH_VALIDITY_SECS: u64 = 600;

/// What a fetch's signer signs: the domain, the chain's genesis hash (a signature is for one
/// chain), the expiry (Unix seconds) and the request's path with its query, so a signature
/// opens one resource on one chain for a few minutes.
pub fn fetch_payload(genesis: &H256, expires: u64, path: &str) -> alloc::vec::Vec<u8> {
	let mut payload = FETCH_DOMAIN.to_vec();
	payload.extend_from_slice(genesis.as_bytes());
	payload.extend_from_slice(&expires.to_le_bytes());
	payload.extend_from_slice(path.as_bytes());
	payload
}
