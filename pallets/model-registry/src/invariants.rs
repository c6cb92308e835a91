//! The registry's invariants, checked after every test and by `try-runtime`.

use crate::{pallet::*, Config};
use frame_support::{ensure, traits::Get};

impl<T: Config> Pallet<T> {
	/// - every model's counts match its index entries, and its root and latest versions are its
	///   own;
	/// - every version belongs to a model that lists it, has a smaller id than the next, and its
	///   parent (if any) is an older version of the same model that lists it as a child;
	/// - the job index points at versions of that job.
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		let next_model = NextModelId::<T>::get();
		let next_version = NextVersionId::<T>::get();
		for (id, model) in Models::<T>::iter() {
			ensure!(id < next_model, "a model id at or past NextModelId");
			let versions = ModelVersions::<T>::iter_prefix(id).count();
			ensure!(versions == model.versions as usize, "a model's version count is off");
			let allowed = Allowed::<T>::iter_prefix(id).count();
			ensure!(allowed == model.allowed as usize, "a model's allow count is off");
			ensure!(allowed <= T::MaxAllowed::get() as usize, "a model allows too many");
			for v in [model.root, model.latest] {
				let version = Versions::<T>::get(v).ok_or("a model's root or latest is missing")?;
				ensure!(version.model == id, "a model's root or latest belongs to another");
			}
		}
		for (id, version) in Versions::<T>::iter() {
			ensure!(id < next_version, "a version id at or past NextVersionId");
			ensure!(
				ModelVersions::<T>::contains_key(version.model, id),
				"a version its model does not list"
			);
			if let Some(parent) = version.parent {
				ensure!(parent < id, "a parent newer than its child");
				let p = Versions::<T>::get(parent).ok_or("a version's parent is missing")?;
				ensure!(p.model == version.model, "a parent in another model");
				ensure!(
					Children::<T>::contains_key(parent, id),
					"a child its parent does not list"
				);
			}
			ensure!(VersionOfJob::<T>::get(version.job) == Some(id), "a job index entry is off");
		}
		for (model, version, ()) in ModelVersions::<T>::iter() {
			let v = Versions::<T>::get(version).ok_or("an index entry without a version")?;
			ensure!(v.model == model, "an index entry under another model");
		}
		for (parent, child, ()) in Children::<T>::iter() {
			let c = Versions::<T>::get(child).ok_or("a child entry without a version")?;
			ensure!(c.parent == Some(parent), "a child entry with another parent");
		}
		Ok(())
	}
}
