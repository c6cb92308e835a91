//! # Validator set
//!
//! The ordinary way to change AICChain's validators without a new chain. The set is a bounded
//! list that `ManagerOrigin` (root on AICChain, or any governance origin a runtime wires in)
//! changes with [`Pallet::add_validator`] and [`Pallet::remove_validator`]; `pallet-session`
//! asks this pallet for the next set at each session end ([`SessionManager`]) and applies it one
//! session later, with Aura, GRANDPA and the compute worker keys of the new set.
//!
//! A validator is three session keys (`session.set_keys`, from `author_rotateKeys`): block
//! production, finality and its compute worker key, which signs its off-chain worker's
//! proposals and attestations. As a [`OneSessionHandler`] of the worker key, this pallet keeps
//! the worker keys of the session's active validators in [`ActiveWorkers`]; the compute market
//! counts votes (proposals, attestations, quorums) against that list only, so the votes of a
//! validator that left stop counting the session it leaves in.
//!
//! ## Attacks and choices
//! - Only `ManagerOrigin` changes the set. A validator cannot be added before it has set its
//!   session keys (`NoSessionKeys`): a validator without keys would be skipped by the session
//!   pallet and leave the set smaller than it looks.
//! - The set never shrinks below `MinValidators` (`TooFewValidators`) nor grows past
//!   `MaxValidators` (`TooManyValidators`, the bound of every vote list in the market).
//! - A validator that purges its own keys is skipped by the session pallet from the next
//!   session; it stays in [`Validators`] (and counts towards `MinValidators`) until removed.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod weights;

pub use weights::WeightInfo;

use alloc::vec::Vec;
use frame_support::traits::{Get, OneSessionHandler};
use pallet_session::SessionManager;
use sp_runtime::{BoundToRuntimeAppPublic, RuntimeAppPublic};

/// Whether an account has session keys queued for the next session.
pub trait SessionKeysOf<AccountId> {
	/// `who` has set session keys (`session.set_keys`).
	fn has_keys(who: &AccountId) -> bool;
	/// Gives `who` session keys, for benchmarks.
	#[cfg(feature = "runtime-benchmarks")]
	fn set_keys_for_benchmark(who: &AccountId);
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{pallet_prelude::*, BoundedVec};
	use frame_system::pallet_prelude::*;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// The compute worker key of a validator (one of its session keys).
		type WorkerKey: RuntimeAppPublic + Member + Parameter + MaxEncodedLen + Ord;
		/// Who may add and remove validators (root on AICChain).
		type ManagerOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// Which accounts have session keys.
		type SessionKeys: SessionKeysOf<Self::AccountId>;
		/// The set never shrinks below this many validators.
		#[pallet::constant]
		type MinValidators: Get<u32>;
		/// The most validators; the bound of every vote list in the market.
		#[pallet::constant]
		type MaxValidators: Get<u32>;
		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;
	}

	/// The validators the next session is planned with (changes apply one session later).
	#[pallet::storage]
	pub type Validators<T: Config> =
		StorageValue<_, BoundedVec<T::AccountId, T::MaxValidators>, ValueQuery>;

	/// Whether [`Validators`] changed since the session pallet last asked for the next set.
	#[pallet::storage]
	pub type PlanChanged<T> = StorageValue<_, bool, ValueQuery>;

	/// The validators of the current session and their compute worker keys.
	#[pallet::storage]
	pub type ActiveWorkers<T: Config> =
		StorageValue<_, BoundedVec<(T::AccountId, T::WorkerKey), T::MaxValidators>, ValueQuery>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// The validators of the first sessions (their keys go into the session pallet's
		/// genesis).
		pub validators: Vec<T::AccountId>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			let mut sorted = self.validators.clone();
			sorted.sort();
			sorted.dedup();
			assert_eq!(sorted.len(), self.validators.len(), "duplicate genesis validator");
			let validators: BoundedVec<T::AccountId, T::MaxValidators> =
				BoundedVec::try_from(self.validators.clone())
					.expect("genesis validators exceed MaxValidators");
			Validators::<T>::put(validators);
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// `who` joins the validator set from the session after next.
		ValidatorAdded { who: T::AccountId },
		/// `who` leaves the validator set from the session after next.
		ValidatorRemoved { who: T::AccountId },
		/// A new session started with these validators' worker keys.
		ActiveWorkersChanged { count: u32 },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The account is a validator already.
		AlreadyValidator,
		/// The account is not a validator.
		NotValidator,
		/// The set is at `MaxValidators`.
		TooManyValidators,
		/// Removing the validator would leave fewer than `MinValidators`.
		TooFewValidators,
		/// The account has not set its session keys (`session.set_keys`).
		NoSessionKeys,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::MinValidators::get() >= 1, "a chain needs a validator");
			assert!(T::MinValidators::get() <= T::MaxValidators::get());
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Add `who` to the validator set; it validates from the session after next.
		///
		/// Origin: `ManagerOrigin`. Errors: `NoSessionKeys`, `AlreadyValidator`,
		/// `TooManyValidators`.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::add_validator())]
		pub fn add_validator(origin: OriginFor<T>, who: T::AccountId) -> DispatchResult {
			T::ManagerOrigin::ensure_origin(origin)?;
			ensure!(T::SessionKeys::has_keys(&who), Error::<T>::NoSessionKeys);
			let mut validators = Validators::<T>::get();
			ensure!(!validators.contains(&who), Error::<T>::AlreadyValidator);
			validators.try_push(who.clone()).map_err(|_| Error::<T>::TooManyValidators)?;
			Validators::<T>::put(validators);
			PlanChanged::<T>::put(true);
			Self::deposit_event(Event::ValidatorAdded { who });
			Ok(())
		}

		/// Remove `who` from the validator set; it stops validating from the session after
		/// next, and its votes on jobs stop counting from then on.
		///
		/// Origin: `ManagerOrigin`. Errors: `NotValidator`, `TooFewValidators`.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::remove_validator())]
		pub fn remove_validator(origin: OriginFor<T>, who: T::AccountId) -> DispatchResult {
			T::ManagerOrigin::ensure_origin(origin)?;
			let mut validators = Validators::<T>::get();
			let position =
				validators.iter().position(|v| *v == who).ok_or(Error::<T>::NotValidator)?;
			let remaining = u32::try_from(validators.len().saturating_sub(1)).unwrap_or(u32::MAX);
			ensure!(remaining >= T::MinValidators::get(), Error::<T>::TooFewValidators);
			validators.remove(position);
			Validators::<T>::put(validators);
			PlanChanged::<T>::put(true);
			Self::deposit_event(Event::ValidatorRemoved { who });
			Ok(())
		}
	}
}

impl<T: Config> Pallet<T> {
	/// Whether `key` is the worker key of a validator of the current session.
	pub fn is_active_worker(key: &T::WorkerKey) -> bool {
		ActiveWorkers::<T>::get().iter().any(|(_, k)| k == key)
	}

	/// How many validators the current session has.
	pub fn active_count() -> u32 {
		ActiveWorkers::<T>::decode_len().and_then(|n| u32::try_from(n).ok()).unwrap_or(0)
	}

	/// Adds `(who, key)` to the current session's workers, for benchmarks of other pallets.
	#[cfg(feature = "runtime-benchmarks")]
	pub fn add_active_worker_for_benchmark(who: T::AccountId, key: T::WorkerKey) {
		ActiveWorkers::<T>::mutate(|workers| {
			let _ = workers.try_push((who, key));
		});
	}

	/// Stores the worker keys of a session's validators (at most `MaxValidators`: the session
	/// pallet takes its validators from [`Validators`], so there are never more).
	fn set_active<'a, I>(validators: I)
	where
		I: Iterator<Item = (&'a T::AccountId, T::WorkerKey)>,
		T::AccountId: 'a,
	{
		let workers: Vec<_> = validators.map(|(who, key)| (who.clone(), key)).collect();
		let count = u32::try_from(workers.len()).unwrap_or(u32::MAX);
		let bounded = frame_support::BoundedVec::truncate_from(workers);
		ActiveWorkers::<T>::put(bounded);
		Self::deposit_event(Event::ActiveWorkersChanged { count });
	}

	/// Invariants: the planned set has no duplicates and at least `MinValidators` members (once
	/// genesis set one); no worker key belongs to two active validators.
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		let validators = Validators::<T>::get();
		let mut sorted = validators.clone().into_inner();
		sorted.sort();
		sorted.dedup();
		frame_support::ensure!(sorted.len() == validators.len(), "duplicate validator");
		frame_support::ensure!(
			validators.is_empty() || validators.len() >= T::MinValidators::get() as usize,
			"fewer validators than MinValidators"
		);
		let mut keys: Vec<_> = ActiveWorkers::<T>::get().into_iter().map(|(_, k)| k).collect();
		let active = keys.len();
		keys.sort();
		keys.dedup();
		frame_support::ensure!(keys.len() == active, "a worker key of two validators");
		Ok(())
	}
}

impl<T: Config> SessionManager<T::AccountId> for Pallet<T> {
	fn new_session(_index: u32) -> Option<Vec<T::AccountId>> {
		PlanChanged::<T>::take().then(|| Validators::<T>::get().into_inner())
	}

	fn new_session_genesis(_index: u32) -> Option<Vec<T::AccountId>> {
		Some(Validators::<T>::get().into_inner())
	}

	fn end_session(_index: u32) {}

	fn start_session(_index: u32) {}
}

impl<T: Config> BoundToRuntimeAppPublic for Pallet<T> {
	type Public = T::WorkerKey;
}

impl<T: Config> OneSessionHandler<T::AccountId> for Pallet<T> {
	type Key = T::WorkerKey;

	fn on_genesis_session<'a, I>(validators: I)
	where
		I: 'a + Iterator<Item = (&'a T::AccountId, Self::Key)>,
	{
		Self::set_active(validators);
	}

	fn on_new_session<'a, I>(changed: bool, validators: I, _queued: I)
	where
		I: 'a + Iterator<Item = (&'a T::AccountId, Self::Key)>,
	{
		if changed {
			Self::set_active(validators);
		}
	}

	fn on_disabled(_validator_index: u32) {}
}
