//! Datasets the chain knows, and the proof-of-learning schedule and challenge of the training
//! results on them. A training job may only name a registered dataset: the list is
//! curated by `DatasetOrigin`, because a job naming a dataset no provider can fetch would be a
//! free way to make an honest provider fail its job and be slashed.

use crate::pallet::*;
use aicchain_primitives::{JobId, TrainingCommitment, TrainingSpec};
use frame_support::{ensure, pallet_prelude::DispatchResult};

use frame_system::pallet_prelude::BlockNumberFor;
use sp_core::H256;

impl<T: Config> Pallet<T> {
	/// `spec`'s hyper-parameters are within the limits the engine trains (the same check the
	/// engine makes), and its dataset is registered and suits its model: the dataset's record.
	pub(crate) fn ensure_runnable_spec(
		spec: &TrainingSpec,
	) -> Result<aicchain_primitives::DatasetInfo, sp_runtime::DispatchError> {
		aicchain_primitives::validate_training_spec(spec)
			.map_err(|_| Error::<T>::InvalidTrainingSpec)?;
		let info = Datasets::<T>::get(spec.dataset).ok_or(Error::<T>::DatasetUnknown)?;
		let text_model = spec.model == aicchain_primitives::ModelKind::TransformerLm;
		ensure!(info.is_text() == text_model, Error::<T>::DatasetDoesNotSuitModel);
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
