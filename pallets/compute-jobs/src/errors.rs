//! The pallet's errors, imported into the pallet module as a pallet section (see
//! `#[import_section(errors::errors)]` on the pallet in `lib.rs`), like the calls.

use frame_support::pallet_macros::pallet_section;

#[pallet_section]
mod errors {
	#[pallet::error]
	pub enum Error<T> {
		/// GPUs outside `MinJobGpus..=MaxJobGpus`.
		GpusOutOfRange,
		/// Minimum bandwidth outside `MinBandwidthMbps..=MaxBandwidthMbps`.
		BandwidthOutOfRange,
		/// Maximum latency outside `MinLatencyMs..=MaxLatencyMs`.
		LatencyOutOfRange,
		/// GPU-hours zero or above `MaxGpuHours`.
		GpuHoursOutOfRange,
		/// A job must carry a training spec: it is the only work the validators can check
		/// (replaying a sampled segment of its committed checkpoints), and the market pays
		/// only for checked work.
		NoTrainingSpec,
		/// The training spec is outside the limits the compute engine trains
		/// (`aicchain_primitives::limits`: hidden units, layers, epochs, learning rate).
		InvalidTrainingSpec,
		/// The budget is below `MinJobBudget`.
		BudgetBelowMinimum,
		/// The user cannot cover the budget.
		InsufficientBalance,
		/// Too many deadlines fall in the coming blocks; try again shortly.
		DeadlineQueueFull,
		/// No job has this id.
		JobNotFound,
		/// Only the job's submitter may do this.
		NotJobOwner,
		/// The job is not waiting for an assignment.
		JobNotPending,
		/// The job is not waiting for a result.
		JobNotAssigned,
		/// The job is not waiting for attestations.
		JobNotAwaitingAttestation,
		/// Only the worker keys of current validators may do this.
		NotValidatorWorker,
		/// Only the assigned node's worker key may submit its result.
		NotAssignedWorker,
		/// The provider cannot attest its own result.
		CannotAttestOwnResult,
		/// This worker already proposed for this job.
		AlreadyProposed,
		/// This worker already attested this result.
		AlreadyAttested,
		/// Metrics must cover at least one evaluation sample.
		InvalidMetrics,
		/// A training result must carry the commitment to its checkpoints.
		MissingCommitment,
		/// The commitment's steps, interval or checkpoint count differ from what the job's
		/// spec and dataset fix.
		CommitmentOffSchedule,
		/// A job without a training spec has no checkpoints to commit to.
		UnexpectedCommitment,
		/// No node has this id.
		NodeNotFound,
		/// The node is deregistered.
		NodeNotActive,
		/// The node missed its heartbeats.
		NodeNotLive,
		/// The node has fewer GPUs than the job needs.
		TooFewGpus,
		/// The node's bandwidth is below the job's minimum.
		BandwidthTooLow,
		/// The node's latency is above the job's maximum.
		LatencyTooHigh,
		/// The node's renewable share is below what the job demands.
		NotRenewableEnough,
		/// The node has no free job slot.
		NoFreeCapacity,
		/// The node's price for this job is above the budget.
		PriceAboveBudget,
		/// The job was assigned more than `DeclineWindow` blocks ago: deliver or time out.
		DeclineWindowOver,
		/// The node missed its heartbeats or its bond is below the minimum; it is out of the
		/// matching index.
		NodeDormant,
		/// The node's worker key has not accepted the binding.
		WorkerNotBound,
		/// The training spec names a dataset the chain does not know.
		DatasetUnknown,
		/// The model has more than `limits::MAX_MODEL_PARAMETERS` parameters: its checkpoints
		/// would exceed what verifiers download.
		ModelTooLarge,
		/// The training spec needs more work than the job's `gpu_hours` pay for
		/// (`limits::WORK_PER_GPU_HOUR` parameter-samples an hour): ask for more hours or a
		/// smaller model.
		TrainingExceedsGpuHours,
		/// The model does not train on this kind of dataset: a transformer language model
		/// needs text (`.txt`), the MLPs a table (`.csv`), a CNN a table of square images its
		/// blocks can pool (`limits::image_side`).
		DatasetDoesNotSuitModel,
		/// This dataset is registered already.
		DatasetAlreadyKnown,
		/// A dataset's name must be printable ASCII without `/` or a backslash, not start with
		/// `.`, and end in `.csv` (a table) or `.txt` (text).
		DatasetNameInvalid,
		/// A dataset must be 1 byte to `datasets::MAX_DATASET_BYTES` (16 MiB).
		DatasetSizeInvalid,
		/// A dataset needs at least `datasets::MIN_DATASET_ROWS` rows, 2 columns, no more rows
		/// or columns than bytes, and (text) a vocabulary of at most `limits::LM_VOCAB`.
		DatasetShapeInvalid,
		/// Only the dataset's owner may do this.
		NotDatasetOwner,
		/// The dataset is private: only its owner's jobs may name it (and a curated dataset must
		/// be public).
		DatasetPrivate,
		/// Open jobs train on this dataset: its record may not be withdrawn or registered anew
		/// until they end.
		DatasetInUse,
		/// Only the assigned node's owner or bound worker key may do this.
		NotAssignedProvider,
		/// The node declined this job; it is not offered to it again.
		NodeDeclinedJob,
		/// The wait asked for is above `MaxQueueWait`.
		QueueWaitTooLong,
		/// The training spec's parent is no model version.
		ParentUnknown,
		/// The parent version's model is private, and the submitter is neither its owner nor
		/// an account it allows.
		ParentNotAccessible,
		/// Relay training continues MLPs only (the transformer and the CNN train from their
		/// seed).
		RelayNotSupported,
		/// The parent was trained as another model family or shape, or on a dataset with
		/// another number of columns (or no longer registered): its weights do not fit.
		ParentShapeMismatch,
		/// Providers outside `2..=MaxFederationProviders`, or rounds outside
		/// `1..=MaxFederationRounds`.
		FederationOutOfRange,
		/// Federated training is for MLPs trained from their seed (no relay parent).
		FederationModelUnsupported,
		/// `MaxFederations` federated jobs are stored; try again when one is pruned.
		TooManyFederations,
		/// Fewer eligible nodes with free room, of distinct owners, than the job asks for
		/// (within its budget).
		NotEnoughProviders,
		/// No federated job with this id.
		FederationNotFound,
		/// The federated job is not in this round's stage (training for updates, aggregating
		/// for verdicts).
		RoundClosed,
		/// The caller is not the bound worker key of a member of the job.
		NotFederationMember,
		/// The member was excluded from the job.
		ExcludedMember,
		/// The member already committed its update of this round.
		UpdateAlreadySubmitted,
		/// Another member committed the same update this round (a copy is no work).
		DuplicateUpdate,
		/// The verdict excludes a member that sent no update this round, or keeps none.
		InvalidVerdict,
	}

	impl<T> From<Ineligible> for Error<T> {
		fn from(reason: Ineligible) -> Self {
			match reason {
				Ineligible::NotFound => Error::NodeNotFound,
				Ineligible::NotActive => Error::NodeNotActive,
				Ineligible::Dormant => Error::NodeDormant,
				Ineligible::NotLive => Error::NodeNotLive,
				Ineligible::WorkerNotBound => Error::WorkerNotBound,
				Ineligible::TooFewGpus => Error::TooFewGpus,
				Ineligible::BandwidthTooLow => Error::BandwidthTooLow,
				Ineligible::LatencyTooHigh => Error::LatencyTooHigh,
				Ineligible::NotRenewableEnough => Error::NotRenewableEnough,
				Ineligible::NoFreeCapacity => Error::NoFreeCapacity,
			}
		}
	}
}
