//! Datasets the chain knows. A training job may only name a registered dataset: the list is
//! curated by `DatasetOrigin`, because a job naming a dataset no provider can fetch would be a
//! free way to make an honest provider fail its job and be slashed.

use crate::pallet::*;
use aicchain_primitives::TrainingSpec;
use frame_support::{ensure, pallet_prelude::DispatchResult};

impl<T: Config> Pallet<T> {
	/// `spec`'s hyper-parameters are within the limits the engine trains (the same check the
	/// engine makes), and its dataset is registered.
	pub(crate) fn ensure_runnable_spec(spec: &TrainingSpec) -> DispatchResult {
		aicchain_primitives::validate_training_spec(spec)
			.map_err(|_| Error::<T>::InvalidTrainingSpec)?;
		ensure!(Datasets::<T>::contains_key(spec.dataset), Error::<T>::DatasetUnknown);
		Ok(())
	}
}
