//! Datasets the chain knows, and the proof-of-learning schedule and challenge of the training
//! results on them. A training job may only name a registered dataset: curated by
//! `DatasetOrigin`, or registered by a user for a deposit (its owner uploads the file to the
//! engines it wants to train and verify on). A job on a user's dataset that its provider cannot
//! fetch is declined at no cost to the provider's reputation.

use crate::{pallet::*, BalanceOf};
use aicchain_primitives::{JobId, TrainingCommitment, TrainingSpec};
use frame_support::{
	ensure,
	pallet_prelude::DispatchResult,
	traits::{fungible::MutateHold, tokens::Precision},
};

use frame_system::pallet_prelude::BlockNumberFor;
use sp_core::H256;

impl<T: Config> Pallet<T> {
	/// `info` describes a file engines could hold and train on, and `hash` is not registered.
	pub(crate) fn ensure_new_dataset(
		hash: H256,
		info: &aicchain_primitives::DatasetInfo,
	) -> DispatchResult {
		use aicchain_primitives::datasets::DatasetError;
		ensure!(!Datasets::<T>::contains_key(hash), Error::<T>::DatasetAlreadyKnown);
		// A record removed while jobs still train on the file: a new one could change the
		// schedule and price those jobs were given.
		ensure!(DatasetJobs::<T>::get(hash) == 0, Error::<T>::DatasetInUse);
		info.validate().map_err(|e| match e {
			DatasetError::BadName => Error::<T>::DatasetNameInvalid,
			DatasetError::BadSize => Error::<T>::DatasetSizeInvalid,
			DatasetError::BadShape => Error::<T>::DatasetShapeInvalid,
		})?;
		Ok(())
	}

	/// Unregisters a dataset, releasing its owner's deposit (if a user registered it): the
	/// deposit released.
	pub(crate) fn forget_dataset(hash: H256) -> Result<BalanceOf<T>, sp_runtime::DispatchError> {
		let released = match DatasetOwners::<T>::take(hash) {
			Some((owner, deposit)) => <T as Config>::Currency::release(
				&HoldReason::DatasetDeposit.into(),
				&owner,
				deposit,
				Precision::BestEffort,
			)?,
			None => Default::default(),
		};
		Datasets::<T>::remove(hash);
		Ok(released)
	}

	/// `who` may name the dataset `hash` in a job: it is public or theirs.
	pub(crate) fn ensure_dataset_usable(who: &T::AccountId, hash: H256) -> DispatchResult {
		let public = Datasets::<T>::get(hash).ok_or(Error::<T>::DatasetUnknown)?.public;
		let owned = || DatasetOwners::<T>::get(hash).is_some_and(|(owner, _)| owner == *who);
		ensure!(public || owned(), Error::<T>::DatasetPrivate);
		Ok(())
	}

	/// A user registered the dataset the job trains on (so its provider may fail to fetch it
	/// through no fault of its own).
	pub(crate) fn on_user_dataset(requirements: &aicchain_primitives::JobRequirements) -> bool {
		requirements
			.training
			.as_ref()
			.is_some_and(|spec| DatasetOwners::<T>::contains_key(spec.dataset))
	}

	/// One more (`opened`) or one fewer open job trains on the dataset `spec` names.
	pub(crate) fn count_dataset_job(
		spec: Option<&aicchain_primitives::TrainingSpec>,
		opened: bool,
	) {
		let Some(spec) = spec else { return };
		DatasetJobs::<T>::mutate_exists(spec.dataset, |count| {
			let next = if opened {
				count.unwrap_or(0).saturating_add(1)
			} else {
				count.unwrap_or(0).saturating_sub(1)
			};
			*count = (next > 0).then_some(next);
		});
	}

	/// Invariants of user datasets: each owned dataset is registered, what is held from each
	/// account for datasets equals the deposits recorded for it, private datasets' first owners
	/// own them, and [`DatasetJobs`] counts the open jobs on each dataset.
	pub fn check_datasets() -> Result<(), sp_runtime::TryRuntimeError> {
		let mut open: alloc::collections::BTreeMap<H256, u32> = Default::default();
		for (_, job) in Jobs::<T>::iter() {
			if let (true, Some(spec)) = (job.status.is_open(), &job.requirements.training) {
				let count = open.entry(spec.dataset).or_default();
				*count = count.saturating_add(1);
			}
		}
		for (_, job) in Federations::<T>::iter() {
			if let (true, Some(spec)) = (job.is_open(), &job.requirements.training) {
				let count = open.entry(spec.dataset).or_default();
				*count = count.saturating_add(1);
			}
		}
		let counted: alloc::collections::BTreeMap<H256, u32> = DatasetJobs::<T>::iter().collect();
		ensure!(open == counted, "DatasetJobs differs from a count of the open jobs");
		for (hash, (owner, _)) in DatasetOwners::<T>::iter() {
			let public = Datasets::<T>::get(hash).is_some_and(|info| info.public);
			let first = PrivateDatasetOwners::<T>::get(hash);
			ensure!(public || first == Some(owner), "a private dataset owned by another account");
		}
		use frame_support::traits::fungible::InspectHold;
		let mut held: alloc::collections::BTreeMap<T::AccountId, BalanceOf<T>> = Default::default();
		for (hash, (owner, deposit)) in DatasetOwners::<T>::iter() {
			ensure!(Datasets::<T>::contains_key(hash), "an owned dataset is not registered");
			let sum = held.entry(owner).or_default();
			*sum = sp_runtime::traits::CheckedAdd::checked_add(&*sum, &deposit)
				.ok_or("dataset deposits overflow")?;
		}
		for (owner, sum) in held {
			let on_hold = <T as Config>::Currency::balance_on_hold(
				&HoldReason::DatasetDeposit.into(),
				&owner,
			);
			ensure!(on_hold == sum, "dataset deposits held differ from those recorded");
		}
		Ok(())
	}
	/// `spec`'s hyper-parameters are within the limits the engine trains (the same check the
	/// engine makes), and its dataset is registered and suits its model: the dataset's record.
	pub(crate) fn ensure_runnable_spec(
		spec: &TrainingSpec,
	) -> Result<aicchain_primitives::DatasetInfo, sp_runtime::DispatchError> {
		aicchain_primitives::validate_training_spec(spec)
			.map_err(|_| Error::<T>::InvalidTrainingSpec)?;
		let info = Datasets::<T>::get(spec.dataset).ok_or(Error::<T>::DatasetUnknown)?;
		ensure!(info.suits(spec), Error::<T>::DatasetDoesNotSuitModel);
		Ok(info)
	}

	/// Optimiser steps of a training run of `spec` on its registered dataset (`None` when the
	/// dataset is no longer registered).
	pub fn expected_steps(spec: &TrainingSpec) -> Option<u32> {
		let info = Datasets::<T>::get(spec.dataset)?;
		Some(aicchain_primitives::proof::training_steps(info.rows, spec.epochs))
	}

	/// A training job's result carries a commitment on the schedule its spec and dataset fix
	/// (if root removed the dataset since, on a schedule consistent with its own step count: the
	/// verifiers' engines check it against the data); a job without a training spec carries
	/// none.
	pub(crate) fn check_commitment(
		requirements: &aicchain_primitives::JobRequirements,
		commitment: Option<&TrainingCommitment>,
	) -> DispatchResult {
		match (&requirements.training, commitment) {
			(None, None) => Ok(()),
			(None, Some(_)) => Err(Error::<T>::UnexpectedCommitment.into()),
			(Some(_), None) => Err(Error::<T>::MissingCommitment.into()),
			(Some(spec), Some(commitment)) => {
				let steps = Self::expected_steps(spec).unwrap_or(commitment.steps);
				ensure!(commitment.follows_schedule(steps), Error::<T>::CommitmentOffSchedule);
				Ok(())
			},
		}
	}

	/// The challenge of a submitted training result: blake2-256 of the hash of the block its
	/// commitment landed in and the job id. Nobody knows it when the provider commits (the
	/// block's hash depends on the block's whole content); it is known from the next block on,
	/// and until then this is `None`.
	pub fn challenge(job_id: JobId) -> Option<H256> {
		let (_, submitted_at) = Commitments::<T>::get(job_id)?;
		Self::challenge_of(job_id, submitted_at)
	}

	/// The challenge of `job_id`'s result published at block `submitted_at` (see
	/// [`Self::challenge`]).
	pub(crate) fn challenge_of(job_id: JobId, submitted_at: BlockNumberFor<T>) -> Option<H256> {
		let hash = frame_system::Pallet::<T>::block_hash(submitted_at);
		if hash == T::Hash::default() {
			return None;
		}
		let mut seed = b"aicchain/challenge".to_vec();
		seed.extend_from_slice(hash.as_ref());
		seed.extend_from_slice(&job_id.to_le_bytes());
		Some(H256(sp_io::hashing::blake2_256(&seed)))
	}

	/// The commitment a result of `job_id` must carry, with `root` as its Merkle root: `None`
	/// for a job without a training spec, otherwise the schedule its spec and dataset fix.
	pub fn expected_commitment(job_id: JobId, root: H256) -> Option<TrainingCommitment> {
		let spec = Jobs::<T>::get(job_id)?.requirements.training?;
		Some(TrainingCommitment::scheduled(root, Self::expected_steps(&spec)?))
	}
}
