//! # Model registry
//!
//! A user who paid for training gets a model, not just a hash in a receipt. Every training
//! result the validators verified (the compute market calls [`VerifiedModels::record`] when a
//! quorum accepts it) becomes a [`ModelVersion`]: the job and node that produced it, the
//! dataset, model family, shape and hyper-parameters, the verified metrics, the content hash
//! engines serve its weights by, what its training cost, and its parent version, if it
//! continued one. A version without a parent starts a new [`Model`], owned by the job's
//! submitter; a version with one joins its parent's model, so a model's history is a tree.
//!
//! Owners name their models ([`Pallet::set_name`]), make them public or private
//! ([`Pallet::set_public`]; private by default: only the owner and the accounts it allowed with
//! [`Pallet::allow`] may fetch the weights), and transfer them ([`Pallet::transfer`]).
//! [`Pallet::can_fetch`] is the rule engines apply to fetch requests; the `ModelRegistryApi`
//! runtime API and the node's `models_*` RPC methods read models, versions and lineages.
//!
//! ## Attacks and choices
//! - Nothing but the compute market's settlement creates a version: there is no call for it,
//!   so a version exists only for training that a validator majority verified and someone paid
//!   for. Its `cost` (the weight of its contributors' dividends) is the AICC paid.
//! - Only the owner changes a model (`NotOwner`); bad ids are `ModelNotFound`. The allow list
//!   is bounded per model (`MaxAllowed`, `TooManyAllowed`) and a transfer clears it, so a buyer
//!   does not inherit the seller's friends.
//! - Recording never fails a settlement: if an id counter could overflow (after 2^64 versions),
//!   the result is not recorded, and the job settles as before.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
pub mod fixtures;
mod invariants;
#[cfg(test)]
mod mock;
pub mod runtime_api;
mod serving;
#[cfg(test)]
mod tests;
mod types;
pub mod weights;

pub use types::{Model, ModelVersion};
pub use weights::WeightInfo;

use aicchain_primitives::{
	JobId, ModelId, RelayParent, RelayRefusal, VerifiedModels, VerifiedTraining, VersionId,
};
use frame_support::{pallet_prelude::*, traits::Get};
use frame_system::pallet_prelude::*;
use sp_runtime::traits::AtLeast32BitUnsigned;

/// A model as this runtime stores it.
pub type ModelOf<T> =
	Model<<T as frame_system::Config>::AccountId, BlockNumberFor<T>, <T as Config>::MaxNameLength>;
/// A model version as this runtime stores it.
pub type VersionOf<T> =
	ModelVersion<<T as frame_system::Config>::AccountId, <T as Config>::Balance, BlockNumberFor<T>>;

#[frame_support::pallet]
pub mod pallet {
	use super::*;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// The AICC balance type (what training cost).
		type Balance: Member + Parameter + MaxEncodedLen + AtLeast32BitUnsigned + Copy + Default;
		/// Longest model name, in bytes.
		#[pallet::constant]
		type MaxNameLength: Get<u32>;
		/// Most accounts one private model may allow.
		#[pallet::constant]
		type MaxAllowed: Get<u32>;
		/// Most versions a lineage read (runtime API) walks back.
		#[pallet::constant]
		type MaxLineage: Get<u32>;
		/// Weights of this pallet's calls and of recording a version.
		type WeightInfo: WeightInfo;
	}

	/// The next model's id.
	#[pallet::storage]
	pub type NextModelId<T> = StorageValue<_, ModelId, ValueQuery>;

	/// The next version's id.
	#[pallet::storage]
	pub type NextVersionId<T> = StorageValue<_, VersionId, ValueQuery>;

	/// Models by id.
	#[pallet::storage]
	pub type Models<T: Config> = StorageMap<_, Twox64Concat, ModelId, ModelOf<T>, OptionQuery>;

	/// Versions by id.
	#[pallet::storage]
	pub type Versions<T: Config> =
		StorageMap<_, Twox64Concat, VersionId, VersionOf<T>, OptionQuery>;

	/// The versions of each model (an index for listing them).
	#[pallet::storage]
	pub type ModelVersions<T> =
		StorageDoubleMap<_, Twox64Concat, ModelId, Twox64Concat, VersionId, (), OptionQuery>;

	/// The versions that continued each version (relay training): a model's tree.
	#[pallet::storage]
	pub type Children<T> =
		StorageDoubleMap<_, Twox64Concat, VersionId, Twox64Concat, VersionId, (), OptionQuery>;

	/// The version each settled training job produced.
	#[pallet::storage]
	pub type VersionOfJob<T> = StorageMap<_, Twox64Concat, JobId, VersionId, OptionQuery>;

	/// Accounts a private model allows to fetch its weights.
	#[pallet::storage]
	pub type Allowed<T: Config> =
		StorageDoubleMap<_, Twox64Concat, ModelId, Blake2_128Concat, T::AccountId, (), OptionQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A verified training result became `version` of `model` (a new model when it has no
		/// parent).
		VersionRecorded {
			model: ModelId,
			version: VersionId,
			parent: Option<VersionId>,
			job: JobId,
			owner: T::AccountId,
			model_hash: sp_core::H256,
		},
		/// The owner renamed a model.
		ModelNamed { model: ModelId, name: BoundedVec<u8, T::MaxNameLength> },
		/// The owner made a model public or private.
		VisibilityChanged { model: ModelId, public: bool },
		/// The owner allowed an account to fetch a private model's weights.
		AccountAllowed { model: ModelId, who: T::AccountId },
		/// The owner withdrew an account's access.
		AccountDisallowed { model: ModelId, who: T::AccountId },
		/// A model changed hands; its allow list was cleared.
		ModelTransferred { model: ModelId, from: T::AccountId, to: T::AccountId },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No model with this id.
		ModelNotFound,
		/// Only the model's owner may do this.
		NotOwner,
		/// The account is already allowed.
		AlreadyAllowed,
		/// The account is not allowed (nothing to withdraw).
		NotAllowed,
		/// The model allows `MaxAllowed` accounts already.
		TooManyAllowed,
		/// The model already belongs to this account.
		AlreadyOwner,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Names a model (replacing its name). Origin: the owner. Errors: `ModelNotFound`,
		/// `NotOwner`.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::set_name())]
		pub fn set_name(
			origin: OriginFor<T>,
			model: ModelId,
			name: BoundedVec<u8, T::MaxNameLength>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::mutate_owned(&who, model, |m| m.name = name.clone())?;
			Self::deposit_event(Event::ModelNamed { model, name });
			Ok(())
		}

		/// Makes a model public (anyone may fetch its weights) or private (the owner and the
		/// accounts it allows). Origin: the owner. Errors: `ModelNotFound`, `NotOwner`.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::set_public())]
		pub fn set_public(origin: OriginFor<T>, model: ModelId, public: bool) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::mutate_owned(&who, model, |m| m.public = public)?;
			Self::deposit_event(Event::VisibilityChanged { model, public });
			Ok(())
		}

		/// Allows `who` to fetch a private model's weights. Origin: the owner. Errors:
		/// `ModelNotFound`, `NotOwner`, `AlreadyAllowed`, `TooManyAllowed`.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::allow())]
		pub fn allow(origin: OriginFor<T>, model: ModelId, who: T::AccountId) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			let mut info = Self::owned(&owner, model)?;
			ensure!(!Allowed::<T>::contains_key(model, &who), Error::<T>::AlreadyAllowed);
			ensure!(info.allowed < T::MaxAllowed::get(), Error::<T>::TooManyAllowed);
			info.allowed = info.allowed.saturating_add(1);
			Allowed::<T>::insert(model, &who, ());
			Models::<T>::insert(model, info);
			Self::deposit_event(Event::AccountAllowed { model, who });
			Ok(())
		}

		/// Withdraws `who`'s access to a private model. Origin: the owner. Errors:
		/// `ModelNotFound`, `NotOwner`, `NotAllowed`.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::disallow())]
		pub fn disallow(origin: OriginFor<T>, model: ModelId, who: T::AccountId) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			let mut info = Self::owned(&owner, model)?;
			ensure!(Allowed::<T>::take(model, &who).is_some(), Error::<T>::NotAllowed);
			info.allowed = info.allowed.saturating_sub(1);
			Models::<T>::insert(model, info);
			Self::deposit_event(Event::AccountDisallowed { model, who });
			Ok(())
		}

		/// Gives a model to `to`, clearing its allow list (visibility and versions stay).
		/// Origin: the owner. Errors: `ModelNotFound`, `NotOwner`, `AlreadyOwner`.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::transfer(T::MaxAllowed::get()))]
		pub fn transfer(
			origin: OriginFor<T>,
			model: ModelId,
			to: T::AccountId,
		) -> DispatchResultWithPostInfo {
			let from = ensure_signed(origin)?;
			let mut info = Self::owned(&from, model)?;
			ensure!(info.owner != to, Error::<T>::AlreadyOwner);
			let cleared = info.allowed;
			let _ = Allowed::<T>::clear_prefix(model, cleared, None);
			info.owner = to.clone();
			info.allowed = 0;
			Models::<T>::insert(model, info);
			Self::deposit_event(Event::ModelTransferred { model, from, to });
			Ok(Some(T::WeightInfo::transfer(cleared)).into())
		}
	}
}

impl<T: Config> Pallet<T> {
	/// The model, if `who` owns it.
	fn owned(who: &T::AccountId, model: ModelId) -> Result<ModelOf<T>, DispatchError> {
		let info = Models::<T>::get(model).ok_or(Error::<T>::ModelNotFound)?;
		ensure!(info.owner == *who, Error::<T>::NotOwner);
		Ok(info)
	}

	fn mutate_owned(
		who: &T::AccountId,
		model: ModelId,
		change: impl FnOnce(&mut ModelOf<T>),
	) -> DispatchResult {
		let mut info = Self::owned(who, model)?;
		change(&mut info);
		Models::<T>::insert(model, info);
		Ok(())
	}

	/// Whether `who` may fetch the weights of `model`: it is public, or `who` owns it or is
	/// allowed.
	pub fn can_fetch(model: ModelId, who: &T::AccountId) -> bool {
		Models::<T>::get(model)
			.is_some_and(|m| m.public || m.owner == *who || Allowed::<T>::contains_key(model, who))
	}

	/// Records a verified training result; `None` (nothing written) if an id would overflow or
	/// the parent it names is unknown.
	fn try_record(
		result: VerifiedTraining<T::AccountId, T::Balance>,
	) -> Option<(ModelId, VersionId)> {
		let parent = result.parent;
		let version = NextVersionId::<T>::get();
		let next_version = version.checked_add(1)?;
		let now = frame_system::Pallet::<T>::block_number();
		let (model, info, number) = match parent {
			Some(parent_id) => {
				let model = Versions::<T>::get(parent_id)?.model;
				let mut info = Models::<T>::get(model)?;
				info.versions = info.versions.checked_add(1)?;
				info.latest = version;
				let number = info.versions;
				(model, info, number)
			},
			None => {
				let model = NextModelId::<T>::get();
				NextModelId::<T>::put(model.checked_add(1)?);
				let info = Model {
					owner: result.trainer.clone(),
					name: BoundedVec::default(),
					public: false,
					root: version,
					latest: version,
					versions: 1,
					allowed: 0,
					created_at: now,
				};
				(model, info, 1)
			},
		};
		let owner = info.owner.clone();
		Models::<T>::insert(model, info);
		Versions::<T>::insert(
			version,
			ModelVersion {
				model,
				number,
				parent,
				job: result.job,
				trainer: result.trainer,
				node: result.node,
				provider: result.provider,
				spec: result.spec,
				metrics: result.metrics,
				model_hash: result.model_hash,
				cost: result.cost,
				created_at: now,
			},
		);
		NextVersionId::<T>::put(next_version);
		ModelVersions::<T>::insert(model, version, ());
		if let Some(parent) = parent {
			Children::<T>::insert(parent, version, ());
		}
		VersionOfJob::<T>::insert(result.job, version);
		Self::deposit_event(Event::VersionRecorded {
			model,
			version,
			parent,
			job: result.job,
			owner,
			model_hash: result.model_hash,
		});
		Some((model, version))
	}
}

impl<T: Config> VerifiedModels<T::AccountId, T::Balance> for Pallet<T> {
	fn record(result: VerifiedTraining<T::AccountId, T::Balance>) {
		let _ = Self::try_record(result);
	}

	fn record_weight() -> Weight {
		T::WeightInfo::record()
	}

	fn relay_parent(who: &T::AccountId, parent: VersionId) -> Result<RelayParent, RelayRefusal> {
		let version = Versions::<T>::get(parent).ok_or(RelayRefusal::UnknownParent)?;
		if !Self::can_fetch(version.model, who) {
			return Err(RelayRefusal::NotFetchable);
		}
		Ok(RelayParent { spec: version.spec, model_hash: version.model_hash })
	}

	fn relay_parent_weight() -> Weight {
		T::WeightInfo::relay_parent()
	}

	fn model_hash(version: VersionId) -> Option<sp_core::H256> {
		Versions::<T>::get(version).map(|v| v.model_hash)
	}
}
