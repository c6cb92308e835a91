//! Reads of the model registry for RPC clients (`ModelRegistryApi`), executed by the node
//! off-chain. Every list is bounded.

use crate::{pallet::*, Config, ModelOf, ModelVersion, VersionOf};
use aicchain_primitives::{JobId, ModelId, VersionId};
use alloc::vec::Vec;
use codec::{Codec, Decode, Encode};
use frame_support::traits::Get;
use scale_info::TypeInfo;

/// Most models or versions one read returns.
pub const MAX_READ: u32 = 1_000;

/// A model as readers see it.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
pub struct ModelView<AccountId, BlockNumber> {
	pub id: ModelId,
	pub owner: AccountId,
	pub name: Vec<u8>,
	pub public: bool,
	pub root: VersionId,
	pub latest: VersionId,
	pub versions: u32,
	pub allowed: u32,
	pub created_at: BlockNumber,
}

/// A version and its id.
pub type VersionView<AccountId, Balance, BlockNumber> =
	(VersionId, ModelVersion<AccountId, Balance, BlockNumber>);

sp_api::decl_runtime_apis! {
	/// The model registry: models, versions and their lineage.
	pub trait ModelRegistryApi<AccountId, Balance, BlockNumber>
	where
		AccountId: Codec,
		Balance: Codec,
		BlockNumber: Codec,
	{
		/// Models from id `from`, at most `limit` (capped at [`MAX_READ`]).
		fn models(from: ModelId, limit: u32) -> Vec<ModelView<AccountId, BlockNumber>>;
		/// One model.
		fn model(id: ModelId) -> Option<ModelView<AccountId, BlockNumber>>;
		/// A model's versions by id, at most [`MAX_READ`] (the oldest).
		fn versions(model: ModelId) -> Vec<VersionView<AccountId, Balance, BlockNumber>>;
		/// One version.
		fn version(id: VersionId) -> Option<ModelVersion<AccountId, Balance, BlockNumber>>;
		/// A version and its ancestors, newest first, back to the root or `MaxLineage` versions.
		fn lineage(id: VersionId) -> Vec<VersionView<AccountId, Balance, BlockNumber>>;
		/// The version a settled training job produced.
		fn version_of_job(job: JobId) -> Option<VersionId>;
		/// Whether `who` may fetch the model's weights.
		fn can_fetch(model: ModelId, who: AccountId) -> bool;
	}
}

impl<T: Config> Pallet<T> {
	fn view(
		id: ModelId,
		m: ModelOf<T>,
	) -> ModelView<T::AccountId, frame_system::pallet_prelude::BlockNumberFor<T>> {
		ModelView {
			id,
			owner: m.owner,
			name: m.name.into_inner(),
			public: m.public,
			root: m.root,
			latest: m.latest,
			versions: m.versions,
			allowed: m.allowed,
			created_at: m.created_at,
		}
	}

	/// See [`ModelRegistryApi::models`].
	pub fn api_models(
		from: ModelId,
		limit: u32,
	) -> Vec<ModelView<T::AccountId, frame_system::pallet_prelude::BlockNumberFor<T>>> {
		let end = NextModelId::<T>::get();
		let limit = u64::from(limit.min(MAX_READ));
		(from..end.min(from.saturating_add(limit)))
			.filter_map(|id| Models::<T>::get(id).map(|m| Self::view(id, m)))
			.collect()
	}

	/// See [`ModelRegistryApi::model`].
	pub fn api_model(
		id: ModelId,
	) -> Option<ModelView<T::AccountId, frame_system::pallet_prelude::BlockNumberFor<T>>> {
		Models::<T>::get(id).map(|m| Self::view(id, m))
	}

	/// See [`ModelRegistryApi::versions`].
	pub fn api_versions(model: ModelId) -> Vec<(VersionId, VersionOf<T>)> {
		let mut ids: Vec<VersionId> = ModelVersions::<T>::iter_key_prefix(model).collect();
		ids.sort_unstable();
		ids.truncate(MAX_READ as usize);
		ids.into_iter().filter_map(|id| Versions::<T>::get(id).map(|v| (id, v))).collect()
	}

	/// See [`ModelRegistryApi::lineage`].
	pub fn api_lineage(id: VersionId) -> Vec<(VersionId, VersionOf<T>)> {
		let mut lineage = Vec::new();
		let mut next = Some(id);
		while let Some(id) = next {
			if lineage.len() >= T::MaxLineage::get() as usize {
				break;
			}
			let Some(version) = Versions::<T>::get(id) else { break };
			next = version.parent;
			lineage.push((id, version));
		}
		lineage
	}
}
