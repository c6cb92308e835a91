//! Relay training on the market's side: a job that continues a model version is checked at
//! submission (and weighs that check), and its workers tell the engine which model file the
//! run starts from. The versions themselves live in the model registry (`Config::Models`).

use crate::{pallet::*, Config, Error};
use aicchain_primitives::{ModelKind, RelayRefusal, TrainingSpec, VerifiedModels};
use frame_support::{ensure, pallet_prelude::DispatchResult, traits::Get, weights::Weight};
use sp_core::H256;

impl<T: Config> Pallet<T> {
	/// Weight of a submission: the benchmarked one (no parent) plus, for a relay job, the
	/// registry's check of the parent and the two dataset records compared.
	pub(crate) fn submit_weight() -> Weight {
		use crate::WeightInfo;
		<T as Config>::WeightInfo::submit_job()
			.saturating_add(T::Models::relay_parent_weight())
			.saturating_add(T::DbWeight::get().reads(2))
	}

	/// A spec that continues a parent version (relay training) names one `who` may fetch, of
	/// an MLP of the same family and shape, trained on a dataset with as many columns.
	pub(crate) fn ensure_relay_parent(who: &T::AccountId, spec: &TrainingSpec) -> DispatchResult {
		let Some(parent) = spec.parent else { return Ok(()) };
		ensure!(
			matches!(spec.model, ModelKind::MlpClassifier | ModelKind::MlpRegressor),
			Error::<T>::RelayNotSupported
		);
		let parent = T::Models::relay_parent(who, parent).map_err(|refusal| match refusal {
			RelayRefusal::UnknownParent => Error::<T>::ParentUnknown,
			RelayRefusal::NotFetchable => Error::<T>::ParentNotAccessible,
		})?;
		let columns = |dataset| Datasets::<T>::get(dataset).map(|info| info.columns);
		let same_shape = parent.spec.model == spec.model
			&& parent.spec.hidden_units == spec.hidden_units
			&& parent.spec.hidden_layers == spec.hidden_layers
			&& columns(parent.spec.dataset).is_some()
			&& columns(parent.spec.dataset) == columns(spec.dataset);
		ensure!(same_shape, Error::<T>::ParentShapeMismatch);
		Ok(())
	}

	/// The model file a relay-training spec starts from: its parent version's.
	pub(crate) fn start_of(spec: &TrainingSpec) -> Option<H256> {
		spec.parent.and_then(T::Models::model_hash)
	}
}
