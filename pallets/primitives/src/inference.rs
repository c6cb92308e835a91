//! Paid inference: what users sign to pay for one query (a voucher), what the chain stores about
//! a listed version and a user's prepaid channel to a node, and what the inference pallet reads
//! from the model and compute registries. The chain, the engines and the CLI share these types,
//! so that all three encode and check a voucher alike.

use crate::{ModelId, NodeId, TrainingSpec, VersionId};
use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_core::H256;

/// What a voucher's signature covers before the voucher: a voucher of another protocol, or of
/// another chain (the payload also holds the genesis hash), never verifies.
pub const VOUCHER_DOMAIN: &[u8; 17] = b"aicchain-voucher1";

/// A user's promise to pay `price` for one answer of `node`'s engine to the query whose input
/// hashes to `query`, on `version`. Nonces are per (user, node) channel and strictly increase:
/// the chain redeems each nonce once.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct Voucher<AccountId, Balance> {
	/// Who pays (and signs).
	pub user: AccountId,
	/// The node whose engine answers; its owner is paid.
	pub node: NodeId,
	/// The model version queried.
	pub version: VersionId,
	/// Position in the (user, node) channel, from 1.
	pub nonce: u64,
	/// What the user pays for the answer.
	pub price: Balance,
	/// blake2-256 of the query's input bytes ([`query_hash`]).
	pub query: H256,
}

impl<AccountId: Encode, Balance: Encode> Voucher<AccountId, Balance> {
	/// The bytes the user signs: the domain, the chain's genesis hash, the voucher.
	pub fn signing_payload(&self, genesis: &impl Encode) -> Vec<u8> {
		(VOUCHER_DOMAIN, genesis, self).encode()
	}
}

/// The hash a voucher names its query by: blake2-256 of the input bytes (for the MLPs, the
/// features as little-endian `f32`s: the engine's `inference::features_bytes`).
pub fn query_hash(input: &[u8]) -> H256 {
	<sp_runtime::traits::BlakeTwo256 as sp_runtime::traits::Hash>::hash(input)
}

/// A version offered for paid inference.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct Listing<AccountId, Balance> {
	/// Who listed it: the model's owner, or anyone for a public model.
	pub lister: AccountId,
	/// The least a voucher for it may pay per query.
	pub price: Balance,
	/// The version's model.
	pub model: ModelId,
	/// Its model file (what engines load to answer).
	pub model_hash: H256,
	/// What trained it: the family and shape engines evaluate it with.
	pub spec: TrainingSpec,
}

/// A user's prepaid AICC for one node's answers.
#[derive(
	Clone,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
	Default,
)]
pub struct Channel<Balance, BlockNumber> {
	/// AICC held for this node's vouchers.
	pub deposit: Balance,
	/// The highest voucher nonce redeemed: lower and equal nonces are refused.
	pub nonce: u64,
	/// Set once the user asked to close: from this block the user may withdraw what is left.
	/// Engines take no new vouchers on a closing channel.
	pub closes_at: Option<BlockNumber>,
}

/// What the inference pallet reads about a model version from the model registry.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ServedVersion<AccountId> {
	/// The version's model.
	pub model: ModelId,
	/// The model's owner.
	pub owner: AccountId,
	/// Whether anyone may fetch (and so serve and list) it.
	pub public: bool,
	/// Its model file.
	pub model_hash: H256,
	/// What trained it.
	pub spec: TrainingSpec,
}

/// The model registry, as paid inference reads it.
pub trait ServableModels<AccountId, Balance> {
	/// Version `version`, if it exists.
	fn served_version(version: VersionId) -> Option<ServedVersion<AccountId>>;
	/// Whether `who` may fetch the weights of `version`'s model.
	fn can_fetch(version: VersionId, who: &AccountId) -> bool;
	/// Who paid for the training of `version` and of its ancestors, nearest first, with what
	/// each paid: at most `max` entries.
	fn contributors(version: VersionId, max: u32) -> Vec<(AccountId, Balance)>;
	/// Records a version with `depth` ancestors (`depth + 1` contributors), for benchmarks.
	#[cfg(feature = "runtime-benchmarks")]
	fn benchmark_lineage(owner: AccountId, depth: u32) -> VersionId;
}

/// The compute registry, as paid inference reads and slashes it.
pub trait InferenceNodes<AccountId, Balance> {
	/// The owner of node `node`, if registered.
	fn owner(node: NodeId) -> Option<AccountId>;
	/// Moves up to `amount` of `node`'s bond to `to`; returns what moved.
	fn slash(node: NodeId, amount: Balance, to: &AccountId) -> Balance;
	/// Registers a node owned by `owner`, for benchmarks.
	#[cfg(feature = "runtime-benchmarks")]
	fn benchmark_node(owner: AccountId) -> NodeId;
}
