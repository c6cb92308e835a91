//! Benchmarks of the registry's calls and of recording a version, each on its costliest path:
//! a version that continues a parent, the longest name, a transfer that clears a full allow
//! list.

use super::*;
use frame_benchmarking::v2::*;
use frame_system::RawOrigin;

/// A verified result of job `job` for `trainer`, continuing `parent`.
fn result<T: Config>(
	job: JobId,
	trainer: T::AccountId,
	parent: Option<VersionId>,
) -> VerifiedTraining<T::AccountId, T::Balance> {
	crate::fixtures::verified(job, trainer, account("provider", 0, 0), parent)
}

/// A model of `owner` with one version.
fn model<T: Config>(owner: &T::AccountId) -> Result<ModelId, BenchmarkError> {
	Pallet::<T>::try_record(result::<T>(0, owner.clone(), None))
		.map(|(model, _)| model)
		.ok_or(BenchmarkError::Weightless)
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn record() -> Result<(), BenchmarkError> {
		let trainer: T::AccountId = account("trainer", 0, 0);
		let (_, parent) = Pallet::<T>::try_record(result::<T>(0, trainer.clone(), None))
			.ok_or(BenchmarkError::Weightless)?;

		#[block]
		{
			<Pallet<T> as VerifiedModels<_, _>>::record(result::<T>(1, trainer, Some(parent)));
		}

		assert!(VersionOfJob::<T>::contains_key(1));
		Ok(())
	}

	/// A private model's version, continued by an allowed account (every read of the check).
	#[benchmark]
	fn relay_parent() -> Result<(), BenchmarkError> {
		let owner: T::AccountId = account("owner", 0, 0);
		let (model, version) = Pallet::<T>::try_record(result::<T>(0, owner.clone(), None))
			.ok_or(BenchmarkError::Weightless)?;
		let friend: T::AccountId = account("friend", 0, 0);
		Pallet::<T>::allow(RawOrigin::Signed(owner).into(), model, friend.clone())?;
		let parent;

		#[block]
		{
			parent = <Pallet<T> as VerifiedModels<_, _>>::relay_parent(&friend, version);
		}

		assert!(parent.is_ok());
		Ok(())
	}

	#[benchmark]
	fn set_name() -> Result<(), BenchmarkError> {
		let owner: T::AccountId = whitelisted_caller();
		let id = model::<T>(&owner)?;
		let name = BoundedVec::truncate_from(alloc::vec![b'a'; T::MaxNameLength::get() as usize]);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id, name.clone());

		assert_eq!(Models::<T>::get(id).map(|m| m.name), Some(name));
		Ok(())
	}

	#[benchmark]
	fn set_public() -> Result<(), BenchmarkError> {
		let owner: T::AccountId = whitelisted_caller();
		let id = model::<T>(&owner)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id, true);

		assert_eq!(Models::<T>::get(id).map(|m| m.public), Some(true));
		Ok(())
	}

	#[benchmark]
	fn allow() -> Result<(), BenchmarkError> {
		let owner: T::AccountId = whitelisted_caller();
		let id = model::<T>(&owner)?;
		let friend: T::AccountId = account("friend", 0, 0);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id, friend.clone());

		assert!(Allowed::<T>::contains_key(id, friend));
		Ok(())
	}

	#[benchmark]
	fn disallow() -> Result<(), BenchmarkError> {
		let owner: T::AccountId = whitelisted_caller();
		let id = model::<T>(&owner)?;
		let friend: T::AccountId = account("friend", 0, 0);
		Pallet::<T>::allow(RawOrigin::Signed(owner.clone()).into(), id, friend.clone())?;

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id, friend.clone());

		assert!(!Allowed::<T>::contains_key(id, friend));
		Ok(())
	}

	#[benchmark]
	fn transfer(n: Linear<0, { T::MaxAllowed::get() }>) -> Result<(), BenchmarkError> {
		let owner: T::AccountId = whitelisted_caller();
		let id = model::<T>(&owner)?;
		for i in 0..n {
			Pallet::<T>::allow(
				RawOrigin::Signed(owner.clone()).into(),
				id,
				account("friend", i, 0),
			)?;
		}
		let to: T::AccountId = account("buyer", 0, 0);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id, to.clone());

		assert_eq!(Models::<T>::get(id).map(|m| (m.owner, m.allowed)), Some((to, 0)));
		Ok(())
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
