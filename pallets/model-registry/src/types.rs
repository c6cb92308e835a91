//! A model and its versions as the registry stores them.

use aicchain_primitives::{JobId, ModelId, NodeId, QuantisedMetrics, TrainingSpec, VersionId};
use codec::{Decode, Encode, MaxEncodedLen};
use frame_support::{traits::Get, BoundedVec};
use scale_info::TypeInfo;
use sp_core::H256;

/// A line of versions with one owner, who names it and decides who may fetch its weights.
#[derive(Clone, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo, Debug)]
#[scale_info(skip_type_params(MaxName))]
pub struct Model<AccountId, BlockNumber, MaxName: Get<u32>> {
	/// Who owns it: the submitter of the job that trained its first version, until transferred.
	pub owner: AccountId,
	/// A name the owner chose (UTF-8 by convention; empty until named).
	pub name: BoundedVec<u8, MaxName>,
	/// Anyone may fetch a public model's weights; a private model's only its owner and the
	/// accounts it allowed ([`crate::Allowed`]).
	pub public: bool,
	/// Its first version.
	pub root: VersionId,
	/// Its newest version.
	pub latest: VersionId,
	/// How many versions it has.
	pub versions: u32,
	/// How many accounts it allows (entries of [`crate::Allowed`]).
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
