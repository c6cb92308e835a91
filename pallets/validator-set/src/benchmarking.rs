//! Benchmarks of adding and removing a validator, each over a full set (the costliest search
//! and rewrite of the list).

use super::*;
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{EnsureOrigin, Get},
	BoundedVec,
};

/// Fills the planned set with `n` validators that have session keys.
fn fill<T: Config>(n: u32) -> alloc::vec::Vec<T::AccountId> {
	let validators: alloc::vec::Vec<T::AccountId> = (0..n)
		.map(|i| {
			let who: T::AccountId = account("validator", i, 0);
			T::SessionKeys::set_keys_for_benchmark(&who);
			who
		})
		.collect();
	Validators::<T>::put(BoundedVec::truncate_from(validators.clone()));
	validators
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn add_validator() -> Result<(), BenchmarkError> {
		fill::<T>(T::MaxValidators::get().saturating_sub(1));
		let who: T::AccountId = account("joining", 0, 0);
		T::SessionKeys::set_keys_for_benchmark(&who);
		let origin =
			T::ManagerOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, who.clone());

		assert!(Validators::<T>::get().contains(&who));
		Ok(())
	}

	#[benchmark]
	fn remove_validator() -> Result<(), BenchmarkError> {
		let validators = fill::<T>(T::MaxValidators::get());
		let who = validators.last().cloned().ok_or(BenchmarkError::Weightless)?;
		let origin =
			T::ManagerOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, who.clone());

		assert!(!Validators::<T>::get().contains(&who));
		Ok(())
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
