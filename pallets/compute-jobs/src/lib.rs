//! # Compute jobs pallet
//!
//! Users submit AI jobs with [`JobRequirements`] and a budget that is held in escrow (fungible
//! holds, reason [`HoldReason::JobEscrow`]). The job then moves through:
//!
//! 1. **Pending**: validators' off-chain workers `propose_assignment(job, node)`. Every proposal
//!    is checked against the hard constraints (GPUs, bandwidth, latency, renewable share, price
//!    within budget, free capacity, liveness); invalid ones are rejected. A node proposed by a
//!    majority of the validator set is assigned at once. When `ProposalWindow` ends, the node
//!    with the most valid proposals is assigned; when nobody proposed, a deterministic
//!    fixed-point score (price, carbon, reputation) picks among indexed candidates. No eligible
//!    node at all: the job expires and the budget is refunded.
//! 2. **Assigned**: only the node's worker key may `submit_result` (model hash and quantised
//!    metrics) within `ResultTimeout`; otherwise the job times out: the user is refunded and the
//!    provider's bond is slashed to the community fund.
//! 3. **ResultSubmitted**: validators' workers (never the provider's own) `attest`. A majority
//!    of the validator set accepting settles the job; a majority rejecting refunds the user and
//!    slashes the bond. When `AttestationWindow` ends, the attestations cast decide; a tie (or
//!    none) refunds the user without slashing.
//!
//! Settlement pays `ProviderShare` (90%) of the cost to the provider, the rest (10%) to the
//! community fund, returns the unused budget, and pays renewable-powered providers a bonus from
//! the fund while it has funds. Each settled job keeps a [`JobReceipt`] with its cost, saving
//! against the budget, carbon emitted and the reduction against a reference grid intensity.
//!
//! Deadlines live in a per-block queue ([`Deadlines`]) that `on_initialize` drains, so no job
//! is ever stuck and no block reads more than `MaxDeadlinesPerBlock` jobs.

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
mod worker;
pub use worker::{WorkerSigner, ENGINE_URL_KEY};
pub mod runtime_api;
pub use runtime_api::{MarketStats, Quote};

use aicchain_primitives::{
	ContributionRewards, JobId, JobRequirements, NodeId, QuantisedMetrics, SubsidyHandler,
	SubsidyId,
};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::traits::fungible::{Inspect, InspectHold, Mutate, MutateHold};
use scale_info::TypeInfo;
use sp_core::H256;

/// Balance type of the payment currency.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
/// Block number type of the runtime.
pub type BlockNumberOf<T> = frame_system::pallet_prelude::BlockNumberFor<T>;
/// A job as stored.
pub type JobOf<T> = Job<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberOf<T>>;

/// The validators whose off-chain workers may propose assignments and attest results.
pub trait ValidatorWorkers<AccountId> {
	/// Whether `who` is the worker key of a current validator.
	fn is_validator_worker(who: &AccountId) -> bool;
	/// Size of the current validator set.
	fn count() -> u32;
	/// Makes `who` a validator worker, for benchmarks.
	#[cfg(feature = "runtime-benchmarks")]
	fn add_for_benchmark(who: &AccountId);
}

/// Where a job is in its life.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub enum JobStatus<Balance> {
	/// Waiting for an assignment.
	Pending,
	/// Running on `node` for `cost`.
	Assigned { node: NodeId, cost: Balance },
	/// `node` published a model; validators are attesting.
	ResultSubmitted { node: NodeId, cost: Balance, model_hash: H256, metrics: QuantisedMetrics },
	/// Paid out; see the receipt.
	Settled { node: NodeId },
	/// Verifiers rejected the result: refunded, bond slashed.
	Rejected { node: NodeId },
	/// The node sent no result in time: refunded, bond slashed.
	TimedOut { node: NodeId },
	/// Attestations were tied or missing when the window closed: refunded, no slash.
	Unverified { node: NodeId },
	/// No eligible node: refunded.
	Expired,
	/// Cancelled by the user before assignment: refunded.
	Cancelled,
}

impl<Balance> JobStatus<Balance> {
	/// Whether the budget is still held.
	pub fn is_open(&self) -> bool {
		matches!(self, Self::Pending | Self::Assigned { .. } | Self::ResultSubmitted { .. })
	}
}

/// A submitted job.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct Job<AccountId, Balance, BlockNumber> {
	/// Who submitted (and pays for) the job.
	pub owner: AccountId,
	/// What the job needs.
	pub requirements: JobRequirements,
	/// The most the user pays; held in escrow while the job is open.
	pub budget: Balance,
	/// Current stage.
	pub status: JobStatus<Balance>,
	/// Block of submission.
	pub submitted_at: BlockNumber,
	/// When the current stage ends.
	pub deadline: BlockNumber,
}

/// How an assignment was decided.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub enum AssignmentRule {
	/// A majority of the validator set proposed the node.
	Majority,
	/// The node had the most valid proposals when the window closed.
	Plurality,
	/// Nobody proposed: the on-chain score chose.
	Fallback,
}

/// The record of a settled job.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct JobReceipt<AccountId, Balance> {
	pub node: NodeId,
	pub provider: AccountId,
	/// What the job cost: price per GPU-hour × GPUs × hours.
	pub cost: Balance,
	/// Paid to the provider out of the escrow (`ProviderShare` of the cost).
	pub provider_amount: Balance,
	/// Paid to the community fund out of the escrow.
	pub fund_amount: Balance,
	/// Paid to the provider from the fund for renewable energy.
	pub renewable_bonus: Balance,
	/// Part of the cost the fund paid under an AICG-voted subsidy.
	pub subsidy: Balance,
	/// The subsidy that paid it.
	pub subsidy_id: Option<SubsidyId>,
	/// What the user paid: the cost less the subsidy.
	pub user_paid: Balance,
	/// Budget returned to the user: the saving against the budget.
	pub saving: Balance,
	/// Energy the job used, in Wh.
	pub energy_wh: u64,
	/// Emissions of the job, in grams CO2e.
	pub carbon_grams: u64,
	/// Emissions avoided against the reference grid, in grams CO2e.
	pub carbon_reduction_grams: u64,
	/// The published model and its metrics.
	pub model_hash: H256,
	pub metrics: QuantisedMetrics,
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::{
		pallet_prelude::*,
		storage,
		traits::tokens::{Fortitude, Precision, Preservation, Restriction},
	};
	use frame_system::pallet_prelude::*;
	use pallet_compute_registry::{Ineligible, Pallet as Registry};
	use sp_runtime::{
		traits::{Saturating, Zero},
		Perbill,
	};

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config:
		frame_system::Config<RuntimeEvent: From<Event<Self>>> + pallet_compute_registry::Config
	{
		/// The payment currency (AICC).
		type Currency: Mutate<Self::AccountId, Balance = pallet_compute_registry::BalanceOf<Self>>
			+ MutateHold<Self::AccountId, Reason = <Self as Config>::RuntimeHoldReason>
			+ InspectHold<Self::AccountId>;

		/// The runtime's hold reasons, which include this pallet's.
		type RuntimeHoldReason: From<HoldReason>;

		/// Who may propose assignments and attest results.
		type Validators: ValidatorWorkers<Self::AccountId>;

		/// The community fund account: receives the fund share and slashed bonds, pays bonuses
		/// and subsidies.
		type CommunityFund: Get<Self::AccountId>;

		/// Subsidies voted by AICG holders, claimed at settlement and paid by the fund.
		type Subsidies: SubsidyHandler<BalanceOf<Self>>;

		/// AICG rewards for the provider and verifiers of settled jobs.
		type Rewards: ContributionRewards<Self::AccountId>;

		/// Bounds on job requirements.
		#[pallet::constant]
		type MinJobGpus: Get<u32>;
		#[pallet::constant]
		type MaxJobGpus: Get<u32>;
		#[pallet::constant]
		type MinBandwidthMbps: Get<u32>;
		#[pallet::constant]
		type MaxBandwidthMbps: Get<u32>;
		#[pallet::constant]
		type MinLatencyMs: Get<u32>;
		#[pallet::constant]
		type MaxLatencyMs: Get<u32>;
		#[pallet::constant]
		type MaxGpuHours: Get<u32>;
		#[pallet::constant]
		type MaxEpochs: Get<u32>;

		/// Most validators counted per job (bounds proposals and attestations).
		#[pallet::constant]
		type MaxValidators: Get<u32>;
		/// Most deadlines in one block's queue.
		#[pallet::constant]
		type MaxDeadlinesPerBlock: Get<u32>;
		/// Most candidates the fallback reads.
		#[pallet::constant]
		type MaxFallbackCandidates: Get<u32>;

		/// Blocks for validators to propose an assignment.
		#[pallet::constant]
		type ProposalWindow: Get<BlockNumberFor<Self>>;
		/// Blocks for the assigned node to submit its result.
		#[pallet::constant]
		type ResultTimeout: Get<BlockNumberFor<Self>>;
		/// Blocks for validators to attest a result.
		#[pallet::constant]
		type AttestationWindow: Get<BlockNumberFor<Self>>;

		/// Share of the cost paid to the provider; the rest goes to the community fund.
		#[pallet::constant]
		type ProviderShare: Get<Perbill>;
		/// Bonus, as a share of the cost, for a fully renewable provider (scaled by its share).
		#[pallet::constant]
		type RenewableBonus: Get<Perbill>;
		/// Share of the node's bond slashed for a rejected or timed-out job.
		#[pallet::constant]
		type SlashOnFailure: Get<Perbill>;
		/// Energy one GPU draws in an hour, in Wh.
		#[pallet::constant]
		type EnergyPerGpuHourWh: Get<u32>;
		/// Carbon intensity of the reference grid, in gCO2e per kWh.
		#[pallet::constant]
		type ReferenceGridIntensity: Get<u32>;

		/// Signs the off-chain worker's transactions with the node's `aicc` keys.
		type WorkerSigner: WorkerSigner<Self::AccountId, Call<Self>>
			+ WorkerSigner<Self::AccountId, pallet_compute_registry::Call<Self>>;

		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// The budget of an open job.
		JobEscrow,
	}

	/// The id the next job gets.
	#[pallet::storage]
	pub type NextJobId<T: Config> = StorageValue<_, JobId, ValueQuery>;

	/// Every job, open or finished.
	#[pallet::storage]
	pub type Jobs<T: Config> = StorageMap<_, Twox64Concat, JobId, JobOf<T>, OptionQuery>;

	/// Valid proposals of a pending job: (validator worker, node).
	#[pallet::storage]
	pub type Proposals<T: Config> = StorageMap<
		_,
		Twox64Concat,
		JobId,
		BoundedVec<(T::AccountId, NodeId), T::MaxValidators>,
		ValueQuery,
	>;

	/// Attestations of a submitted result: (validator worker, accepted).
	#[pallet::storage]
	pub type Attestations<T: Config> = StorageMap<
		_,
		Twox64Concat,
		JobId,
		BoundedVec<(T::AccountId, bool), T::MaxValidators>,
		ValueQuery,
	>;

	/// Jobs whose current stage ends at a block.
	#[pallet::storage]
	pub type Deadlines<T: Config> = StorageMap<
		_,
		Twox64Concat,
		BlockNumberFor<T>,
		BoundedVec<JobId, T::MaxDeadlinesPerBlock>,
		ValueQuery,
	>;

	/// Receipts of settled jobs.
	#[pallet::storage]
	pub type Receipts<T: Config> =
		StorageMap<_, Twox64Concat, JobId, JobReceipt<T::AccountId, BalanceOf<T>>, OptionQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A job was submitted and its budget held.
		JobSubmitted { job_id: JobId, who: T::AccountId, budget: BalanceOf<T> },
		/// A pending job was cancelled and its budget returned.
		JobCancelled { job_id: JobId, refund: BalanceOf<T> },
		/// A validator's worker proposed a node for a job.
		AssignmentProposed { job_id: JobId, node_id: NodeId, proposer: T::AccountId },
		/// A job was assigned to a node.
		JobAssigned { job_id: JobId, node_id: NodeId, cost: BalanceOf<T>, rule: AssignmentRule },
		/// The assigned node published its result.
		ResultSubmitted {
			job_id: JobId,
			node_id: NodeId,
			model_hash: H256,
			metrics: QuantisedMetrics,
		},
		/// A validator's worker attested a result.
		ResultAttested { job_id: JobId, verifier: T::AccountId, accepted: bool },
		/// A job was paid out.
		JobSettled {
			job_id: JobId,
			node_id: NodeId,
			provider: T::AccountId,
			cost: BalanceOf<T>,
			provider_amount: BalanceOf<T>,
			fund_amount: BalanceOf<T>,
			renewable_bonus: BalanceOf<T>,
			subsidy: BalanceOf<T>,
			refund: BalanceOf<T>,
		},
		/// Verifiers rejected a result: the user was refunded and the bond slashed.
		JobRejected { job_id: JobId, node_id: NodeId, refund: BalanceOf<T>, slashed: BalanceOf<T> },
		/// The node sent no result in time: the user was refunded and the bond slashed.
		JobTimedOut { job_id: JobId, node_id: NodeId, refund: BalanceOf<T>, slashed: BalanceOf<T> },
		/// The attestation window closed without a decision: the user was refunded.
		JobUnverified { job_id: JobId, node_id: NodeId, refund: BalanceOf<T> },
		/// No eligible node was found in time: the user was refunded.
		JobExpired { job_id: JobId, refund: BalanceOf<T> },
	}

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
		/// The training spec has zero epochs (or more than `MaxEpochs`), zero hidden units or
		/// layers, or a zero learning rate.
		InvalidTrainingSpec,
		/// The budget is zero.
		ZeroBudget,
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
	}

	impl<T> From<Ineligible> for Error<T> {
		fn from(reason: Ineligible) -> Self {
			match reason {
				Ineligible::NotFound => Error::NodeNotFound,
				Ineligible::NotActive => Error::NodeNotActive,
				Ineligible::NotLive => Error::NodeNotLive,
				Ineligible::TooFewGpus => Error::TooFewGpus,
				Ineligible::BandwidthTooLow => Error::BandwidthTooLow,
				Ineligible::LatencyTooHigh => Error::LatencyTooHigh,
				Ineligible::NotRenewableEnough => Error::NotRenewableEnough,
				Ineligible::NoFreeCapacity => Error::NoFreeCapacity,
			}
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			let due = Deadlines::<T>::take(now);
			let count = u32::try_from(due.len()).unwrap_or(u32::MAX);
			for job_id in due {
				Self::process_deadline(job_id, now);
			}
			<T as Config>::WeightInfo::on_initialize(count)
		}

		fn offchain_worker(now: BlockNumberFor<T>) {
			Self::run_worker(now);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Submit a job; `budget` is held until the job ends.
		///
		/// Origin: any signed account. Errors: `GpusOutOfRange`, `BandwidthOutOfRange`,
		/// `LatencyOutOfRange`, `GpuHoursOutOfRange`, `InvalidTrainingSpec`, `ZeroBudget`,
		/// `InsufficientBalance`, `DeadlineQueueFull`.
		#[pallet::call_index(0)]
		#[pallet::weight(<T as Config>::WeightInfo::submit_job())]
		pub fn submit_job(
			origin: OriginFor<T>,
			requirements: JobRequirements,
			budget: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::ensure_valid_requirements(&requirements)?;
			ensure!(!budget.is_zero(), Error::<T>::ZeroBudget);
			let now = frame_system::Pallet::<T>::block_number();
			let job_id = NextJobId::<T>::get();
			let deadline = Self::free_deadline(now.saturating_add(T::ProposalWindow::get()))?;
			<T as Config>::Currency::hold(&HoldReason::JobEscrow.into(), &who, budget)
				.map_err(|_| Error::<T>::InsufficientBalance)?;
			Self::schedule(job_id, deadline);
			Jobs::<T>::insert(
				job_id,
				Job {
					owner: who.clone(),
					requirements,
					budget,
					status: JobStatus::Pending,
					submitted_at: now,
					deadline,
				},
			);
			NextJobId::<T>::put(job_id.saturating_add(1));
			Self::deposit_event(Event::JobSubmitted { job_id, who, budget });
			Ok(())
		}

		/// Cancel a job that has no node yet; the whole budget is returned.
		///
		/// Origin: the job's submitter. Errors: `JobNotFound`, `NotJobOwner`, `JobNotPending`.
		#[pallet::call_index(1)]
		#[pallet::weight(<T as Config>::WeightInfo::cancel_job())]
		pub fn cancel_job(origin: OriginFor<T>, job_id: JobId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut job = Jobs::<T>::get(job_id).ok_or(Error::<T>::JobNotFound)?;
			ensure!(job.owner == who, Error::<T>::NotJobOwner);
			ensure!(job.status == JobStatus::Pending, Error::<T>::JobNotPending);
			let refund = Self::refund(&job)?;
			Proposals::<T>::remove(job_id);
			job.status = JobStatus::Cancelled;
			Jobs::<T>::insert(job_id, job);
			Self::deposit_event(Event::JobCancelled { job_id, refund });
			Ok(())
		}

		/// Propose `node_id` for a pending job. The node must meet every hard constraint; a
		/// node proposed by a majority of the validator set is assigned at once.
		///
		/// Origin: a current validator's worker key. Errors: `NotValidatorWorker`,
		/// `JobNotFound`, `JobNotPending`, `AlreadyProposed`, the node's eligibility errors
		/// (`NodeNotFound`, `NodeNotActive`, `NodeNotLive`, `TooFewGpus`, `BandwidthTooLow`,
		/// `LatencyTooHigh`, `NotRenewableEnough`, `NoFreeCapacity`), `PriceAboveBudget`.
		#[pallet::call_index(2)]
		#[pallet::weight(<T as Config>::WeightInfo::propose_assignment())]
		pub fn propose_assignment(
			origin: OriginFor<T>,
			job_id: JobId,
			node_id: NodeId,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(T::Validators::is_validator_worker(&who), Error::<T>::NotValidatorWorker);
			let job = Jobs::<T>::get(job_id).ok_or(Error::<T>::JobNotFound)?;
			ensure!(job.status == JobStatus::Pending, Error::<T>::JobNotPending);
			let mut proposals = Proposals::<T>::get(job_id);
			ensure!(proposals.iter().all(|(p, _)| *p != who), Error::<T>::AlreadyProposed);
			let now = frame_system::Pallet::<T>::block_number();
			let cost = Self::check_node_for_job(&job, node_id, now)?;
			// Bounded by `MaxValidators`; more proposers than that cannot be validators.
			proposals
				.try_push((who.clone(), node_id))
				.map_err(|_| Error::<T>::NotValidatorWorker)?;
			let votes = proposals.iter().filter(|(_, n)| *n == node_id).count();
			Self::deposit_event(Event::AssignmentProposed { job_id, node_id, proposer: who });
			if Self::is_majority(votes) {
				Self::assign(job_id, job, node_id, cost, AssignmentRule::Majority, now)?;
			} else {
				Proposals::<T>::insert(job_id, proposals);
			}
			Ok(())
		}

		/// Publish the result of an assigned job: the model's content hash and its quantised
		/// metrics on the held-out split.
		///
		/// Origin: the assigned node's worker key. Errors: `JobNotFound`, `JobNotAssigned`,
		/// `NotAssignedWorker`, `InvalidMetrics`, `DeadlineQueueFull`.
		#[pallet::call_index(3)]
		#[pallet::weight(<T as Config>::WeightInfo::submit_result())]
		pub fn submit_result(
			origin: OriginFor<T>,
			job_id: JobId,
			model_hash: H256,
			metrics: QuantisedMetrics,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut job = Jobs::<T>::get(job_id).ok_or(Error::<T>::JobNotFound)?;
			let JobStatus::Assigned { node, cost } = job.status else {
				return Err(Error::<T>::JobNotAssigned.into());
			};
			let worker = pallet_compute_registry::Nodes::<T>::get(node).map(|n| n.worker);
			ensure!(worker.as_ref() == Some(&who), Error::<T>::NotAssignedWorker);
			ensure!(metrics.eval_samples > 0, Error::<T>::InvalidMetrics);
			let now = frame_system::Pallet::<T>::block_number();
			let deadline = Self::free_deadline(now.saturating_add(T::AttestationWindow::get()))?;
			Self::schedule(job_id, deadline);
			job.status = JobStatus::ResultSubmitted { node, cost, model_hash, metrics };
			job.deadline = deadline;
			Jobs::<T>::insert(job_id, job);
			Self::deposit_event(Event::ResultSubmitted {
				job_id,
				node_id: node,
				model_hash,
				metrics,
			});
			Ok(())
		}

		/// Accept or reject a submitted result after re-evaluating the model. A majority of the
		/// validator set either way settles or rejects the job at once.
		///
		/// Origin: a current validator's worker key, not the provider's. Errors:
		/// `NotValidatorWorker`, `JobNotFound`, `JobNotAwaitingAttestation`,
		/// `CannotAttestOwnResult`, `AlreadyAttested`.
		#[pallet::call_index(4)]
		#[pallet::weight(<T as Config>::WeightInfo::attest())]
		pub fn attest(origin: OriginFor<T>, job_id: JobId, accept: bool) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(T::Validators::is_validator_worker(&who), Error::<T>::NotValidatorWorker);
			let job = Jobs::<T>::get(job_id).ok_or(Error::<T>::JobNotFound)?;
			let JobStatus::ResultSubmitted { node, .. } = job.status else {
				return Err(Error::<T>::JobNotAwaitingAttestation.into());
			};
			let provider = pallet_compute_registry::Nodes::<T>::get(node)
				.map(|n| (n.owner, n.worker))
				.ok_or(Error::<T>::NodeNotFound)?;
			ensure!(who != provider.0 && who != provider.1, Error::<T>::CannotAttestOwnResult);
			let mut attestations = Attestations::<T>::get(job_id);
			ensure!(attestations.iter().all(|(v, _)| *v != who), Error::<T>::AlreadyAttested);
			attestations
				.try_push((who.clone(), accept))
				.map_err(|_| Error::<T>::NotValidatorWorker)?;
			let same = attestations.iter().filter(|(_, a)| *a == accept).count();
			Self::deposit_event(Event::ResultAttested { job_id, verifier: who, accepted: accept });
			if Self::is_majority(same) {
				Attestations::<T>::remove(job_id);
				if accept {
					let verifiers: Vec<T::AccountId> =
						attestations.into_iter().filter(|(_, a)| *a).map(|(v, _)| v).collect();
					Self::settle(job_id, job, &verifiers)?;
				} else {
					Self::fail(job_id, job, Failure::Rejected)?;
				}
			} else {
				Attestations::<T>::insert(job_id, attestations);
			}
			Ok(())
		}
	}

	/// Why an assigned job failed.
	#[derive(Clone, Copy, PartialEq, Eq, Debug)]
	pub(crate) enum Failure {
		Rejected,
		TimedOut,
	}

	impl<T: Config> Pallet<T> {
		pub(crate) fn ensure_valid_requirements(req: &JobRequirements) -> DispatchResult {
			ensure!(
				(T::MinJobGpus::get()..=T::MaxJobGpus::get()).contains(&req.gpus),
				Error::<T>::GpusOutOfRange
			);
			ensure!(
				(T::MinBandwidthMbps::get()..=T::MaxBandwidthMbps::get())
					.contains(&req.min_bandwidth_mbps),
				Error::<T>::BandwidthOutOfRange
			);
			ensure!(
				(T::MinLatencyMs::get()..=T::MaxLatencyMs::get()).contains(&req.max_latency_ms),
				Error::<T>::LatencyOutOfRange
			);
			ensure!(
				(1..=T::MaxGpuHours::get()).contains(&req.gpu_hours),
				Error::<T>::GpuHoursOutOfRange
			);
			if let Some(training) = &req.training {
				ensure!(
					(1..=T::MaxEpochs::get()).contains(&training.epochs)
						&& training.hidden_units > 0
						&& training.hidden_layers > 0
						&& training.learning_rate_millionths > 0,
					Error::<T>::InvalidTrainingSpec
				);
			}
			Ok(())
		}

		/// More than half of the validator set.
		fn is_majority(votes: usize) -> bool {
			let validators = usize::try_from(T::Validators::count()).unwrap_or(usize::MAX);
			votes.saturating_mul(2) > validators
		}

		/// What the job costs on a node: price per GPU-hour × GPUs × hours.
		pub fn job_cost(
			price_per_gpu_hour: BalanceOf<T>,
			req: &JobRequirements,
		) -> Option<BalanceOf<T>> {
			let gpu_hours = u64::from(req.gpus).checked_mul(u64::from(req.gpu_hours))?;
			let gpu_hours = BalanceOf::<T>::try_from(gpu_hours).ok()?;
			price_per_gpu_hour.checked_mul(&gpu_hours)
		}

		/// Every hard constraint of `job` on `node_id`; the cost on success.
		pub fn check_node_for_job(
			job: &JobOf<T>,
			node_id: NodeId,
			now: BlockNumberFor<T>,
		) -> Result<BalanceOf<T>, Error<T>> {
			Self::eligible_node_for_job(job, node_id, now).map(|(_, cost)| cost)
		}

		/// Like `check_node_for_job`, also handing back the node it read.
		pub(crate) fn eligible_node_for_job(
			job: &JobOf<T>,
			node_id: NodeId,
			now: BlockNumberFor<T>,
		) -> Result<(pallet_compute_registry::NodeInfoOf<T>, BalanceOf<T>), Error<T>> {
			let node = Registry::<T>::check_eligible(node_id, &job.requirements, now)
				.map_err(Error::<T>::from)?;
			let cost = Self::job_cost(node.spec.price_per_gpu_hour, &job.requirements)
				.ok_or(Error::<T>::PriceAboveBudget)?;
			ensure!(cost <= job.budget, Error::<T>::PriceAboveBudget);
			Ok((node, cost))
		}

		/// The first block from `from` whose deadline queue has room, within
		/// `MaxDeadlinesPerBlock` blocks.
		fn free_deadline(from: BlockNumberFor<T>) -> Result<BlockNumberFor<T>, DispatchError> {
			let mut block = from;
			for _ in 0..T::MaxDeadlinesPerBlock::get() {
				if (Deadlines::<T>::decode_len(block).unwrap_or(0) as u64)
					< u64::from(T::MaxDeadlinesPerBlock::get())
				{
					return Ok(block);
				}
				block = block.saturating_add(1u32.into());
			}
			Err(Error::<T>::DeadlineQueueFull.into())
		}

		/// Queues `job_id` at `block`, which `free_deadline` found to have room.
		fn schedule(job_id: JobId, block: BlockNumberFor<T>) {
			Deadlines::<T>::mutate(block, |queue| {
				if queue.try_push(job_id).is_err() {
					frame_support::defensive!("deadline block was checked to have room");
				}
			});
		}

		pub(crate) fn assign(
			job_id: JobId,
			mut job: JobOf<T>,
			node_id: NodeId,
			cost: BalanceOf<T>,
			rule: AssignmentRule,
			now: BlockNumberFor<T>,
		) -> DispatchResult {
			let deadline = Self::free_deadline(now.saturating_add(T::ResultTimeout::get()))?;
			Registry::<T>::reserve_slot(node_id)?;
			Self::schedule(job_id, deadline);
			Proposals::<T>::remove(job_id);
			job.status = JobStatus::Assigned { node: node_id, cost };
			job.deadline = deadline;
			Jobs::<T>::insert(job_id, job);
			Self::deposit_event(Event::JobAssigned { job_id, node_id, cost, rule });
			Ok(())
		}

		/// Returns the whole held budget to the job's owner.
		fn refund(job: &JobOf<T>) -> Result<BalanceOf<T>, DispatchError> {
			<T as Config>::Currency::release(
				&HoldReason::JobEscrow.into(),
				&job.owner,
				job.budget,
				Precision::BestEffort,
			)
		}

		/// The deterministic fallback: the lowest `price × (1000 + carbon) / (1 + reputation)`
		/// among eligible, affordable candidates (ties: the lower node id). Integers only.
		pub fn fallback_choice(
			job: &JobOf<T>,
			now: BlockNumberFor<T>,
		) -> Option<(NodeId, BalanceOf<T>)> {
			let mut best: Option<(u128, NodeId, BalanceOf<T>)> = None;
			for node_id in
				Registry::<T>::candidates(job.requirements.gpus, T::MaxFallbackCandidates::get())
			{
				let Ok((node, cost)) = Self::eligible_node_for_job(job, node_id, now) else {
					continue;
				};
				let price: u128 = node.spec.price_per_gpu_hour.try_into().unwrap_or(u128::MAX);
				let carbon = 1_000u128.saturating_add(u128::from(node.spec.carbon_intensity));
				let reputation = 1u128.saturating_add(u128::from(node.reputation.deconstruct()));
				let score = price.saturating_mul(carbon).saturating_mul(1_000_000_000) / reputation;
				let better = match best {
					None => true,
					Some((s, id, _)) => score < s || (score == s && node_id < id),
				};
				if better {
					best = Some((score, node_id, cost));
				}
			}
			best.map(|(_, node_id, cost)| (node_id, cost))
		}

		/// The node with the most proposals that is still valid (ties: the lower node id).
		fn plurality_choice(
			job_id: JobId,
			job: &JobOf<T>,
			now: BlockNumberFor<T>,
		) -> Option<(NodeId, BalanceOf<T>)> {
			let proposals = Proposals::<T>::take(job_id);
			let mut tally: Vec<(NodeId, usize)> = Vec::new();
			for (_, node_id) in proposals.iter() {
				match tally.iter_mut().find(|(n, _)| n == node_id) {
					Some((_, votes)) => *votes = votes.saturating_add(1),
					None => tally.push((*node_id, 1)),
				}
			}
			tally.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
			tally.into_iter().find_map(|(node_id, _)| {
				Self::check_node_for_job(job, node_id, now).ok().map(|cost| (node_id, cost))
			})
		}

		/// Ends whatever stage `job_id` is in when its deadline is `now`.
		pub(crate) fn process_deadline(job_id: JobId, now: BlockNumberFor<T>) {
			let Some(job) = Jobs::<T>::get(job_id) else { return };
			if job.deadline != now {
				return;
			}
			// Each deadline is atomic: a failure rolls back and the job is refunded instead.
			let result = storage::with_storage_layer(|| match job.status.clone() {
				JobStatus::Pending => {
					let choice = Self::plurality_choice(job_id, &job, now)
						.map(|c| (c, AssignmentRule::Plurality))
						.or_else(|| {
							Self::fallback_choice(&job, now).map(|c| (c, AssignmentRule::Fallback))
						});
					match choice {
						Some(((node_id, cost), rule)) => {
							Self::assign(job_id, job.clone(), node_id, cost, rule, now)
								.or_else(|_| Self::expire(job_id, job))
						},
						None => Self::expire(job_id, job),
					}
				},
				JobStatus::Assigned { .. } => Self::fail(job_id, job, Failure::TimedOut),
				JobStatus::ResultSubmitted { node, .. } => {
					let votes = Attestations::<T>::take(job_id);
					let accepts = votes.iter().filter(|(_, a)| *a).count();
					let rejects = votes.len().saturating_sub(accepts);
					if accepts > rejects {
						let verifiers: Vec<T::AccountId> =
							votes.into_iter().filter(|(_, a)| *a).map(|(v, _)| v).collect();
						Self::settle(job_id, job, &verifiers)
					} else if rejects > accepts {
						Self::fail(job_id, job, Failure::Rejected)
					} else {
						Self::unverified(job_id, job, node)
					}
				},
				_ => Ok(()),
			});
			if let Err(error) = result {
				log::error!(target: "runtime::compute-jobs", "deadline of job {job_id}: {error:?}");
				if let Some(job) = Jobs::<T>::get(job_id) {
					if let Err(error) = storage::with_storage_layer(|| Self::abort(job_id, job)) {
						log::error!(target: "runtime::compute-jobs", "refund of job {job_id}: {error:?}");
					}
				}
			}
		}

		/// Ends an open job whose stage could not complete: refunds the user without a slash.
		pub(crate) fn abort(job_id: JobId, job: JobOf<T>) -> DispatchResult {
			Proposals::<T>::remove(job_id);
			Attestations::<T>::remove(job_id);
			match job.status {
				JobStatus::Assigned { node, .. } | JobStatus::ResultSubmitted { node, .. } => {
					Self::unverified(job_id, job, node)
				},
				JobStatus::Pending => Self::expire(job_id, job),
				_ => Ok(()),
			}
		}

		fn expire(job_id: JobId, mut job: JobOf<T>) -> DispatchResult {
			let refund = Self::refund(&job)?;
			job.status = JobStatus::Expired;
			Jobs::<T>::insert(job_id, job);
			Self::deposit_event(Event::JobExpired { job_id, refund });
			Ok(())
		}

		fn unverified(job_id: JobId, mut job: JobOf<T>, node: NodeId) -> DispatchResult {
			let refund = Self::refund(&job)?;
			Registry::<T>::finish_job(node, false);
			job.status = JobStatus::Unverified { node };
			Jobs::<T>::insert(job_id, job);
			Self::deposit_event(Event::JobUnverified { job_id, node_id: node, refund });
			Ok(())
		}

		/// Refunds the user and slashes `SlashOnFailure` of the node's bond to the fund.
		pub(crate) fn fail(job_id: JobId, mut job: JobOf<T>, why: Failure) -> DispatchResult {
			let node = match job.status {
				JobStatus::Assigned { node, .. } | JobStatus::ResultSubmitted { node, .. } => node,
				_ => return Ok(()),
			};
			let refund = Self::refund(&job)?;
			let bond =
				pallet_compute_registry::Nodes::<T>::get(node).map(|n| n.bond).unwrap_or_default();
			let slashed = Registry::<T>::slash_bond(
				node,
				T::SlashOnFailure::get() * bond,
				&T::CommunityFund::get(),
			)
			.unwrap_or_default();
			Registry::<T>::finish_job(node, false);
			match why {
				Failure::Rejected => {
					job.status = JobStatus::Rejected { node };
					Self::deposit_event(Event::JobRejected {
						job_id,
						node_id: node,
						refund,
						slashed,
					});
				},
				Failure::TimedOut => {
					job.status = JobStatus::TimedOut { node };
					Self::deposit_event(Event::JobTimedOut {
						job_id,
						node_id: node,
						refund,
						slashed,
					});
				},
			}
			Jobs::<T>::insert(job_id, job);
			Ok(())
		}

		/// Pays the provider and the fund out of the escrow (less any subsidy, which the fund
		/// pays), returns the rest, pays the renewable bonus, rewards contributors in AICG and
		/// records the receipt.
		pub(crate) fn settle(
			job_id: JobId,
			mut job: JobOf<T>,
			verifiers: &[T::AccountId],
		) -> DispatchResult {
			let JobStatus::ResultSubmitted { node: node_id, cost, model_hash, metrics } =
				job.status
			else {
				return Ok(());
			};
			let node = pallet_compute_registry::Nodes::<T>::get(node_id)
				.ok_or(Error::<T>::NodeNotFound)?;
			let reason = HoldReason::JobEscrow.into();
			let fund = T::CommunityFund::get();
			let provider_amount = T::ProviderShare::get() * cost;
			let fund_amount = cost.saturating_sub(provider_amount);

			// An active subsidy pays part of the provider's share out of the fund.
			let kind = job.requirements.training.as_ref().map(|t| t.model);
			let (subsidy_id, subsidy) =
				match T::Subsidies::claim(kind, node.spec.renewable_share, cost) {
					Some((id, amount)) => (Some(id), amount.min(provider_amount)),
					None => (None, Zero::zero()),
				};
			if !subsidy.is_zero() {
				<T as Config>::Currency::transfer(
					&fund,
					&node.owner,
					subsidy,
					Preservation::Preserve,
				)?;
			}
			// The bonus scales with the renewable share and comes out of what the fund held
			// before this job's share, beyond its subsidy commitments, while it has any.
			let renewable =
				Perbill::from_percent(u32::from(node.spec.renewable_share.deconstruct()));
			let wanted = renewable * (T::RenewableBonus::get() * cost);
			let available = <T as Config>::Currency::reducible_balance(
				&fund,
				Preservation::Preserve,
				Fortitude::Polite,
			)
			.saturating_sub(T::Subsidies::committed());
			let renewable_bonus = wanted.min(available);
			if !renewable_bonus.is_zero() {
				<T as Config>::Currency::transfer(
					&fund,
					&node.owner,
					renewable_bonus,
					Preservation::Preserve,
				)?;
			}

			let escrow_payments =
				[(&node.owner, provider_amount.saturating_sub(subsidy)), (&fund, fund_amount)];
			for (to, amount) in escrow_payments {
				if !amount.is_zero() {
					<T as Config>::Currency::transfer_on_hold(
						&reason,
						&job.owner,
						to,
						amount,
						Precision::Exact,
						Restriction::Free,
						Fortitude::Force,
					)?;
				}
			}
			let user_paid = cost.saturating_sub(subsidy);
			let refund = <T as Config>::Currency::release(
				&reason,
				&job.owner,
				job.budget.saturating_sub(user_paid),
				Precision::BestEffort,
			)?;

			let gpu_hours = u64::from(job.requirements.gpus)
				.saturating_mul(u64::from(job.requirements.gpu_hours));
			let energy_wh = gpu_hours.saturating_mul(u64::from(T::EnergyPerGpuHourWh::get()));
			let carbon_grams =
				energy_wh.saturating_mul(u64::from(node.spec.carbon_intensity)) / 1_000;
			let reference_grams =
				energy_wh.saturating_mul(u64::from(T::ReferenceGridIntensity::get())) / 1_000;
			Receipts::<T>::insert(
				job_id,
				JobReceipt {
					node: node_id,
					provider: node.owner.clone(),
					cost,
					provider_amount,
					fund_amount,
					renewable_bonus,
					subsidy,
					subsidy_id,
					user_paid,
					saving: refund,
					energy_wh,
					carbon_grams,
					carbon_reduction_grams: reference_grams.saturating_sub(carbon_grams),
					model_hash,
					metrics,
				},
			);
			Registry::<T>::finish_job(node_id, true);
			T::Rewards::reward(&node.owner, verifiers, gpu_hours);
			job.status = JobStatus::Settled { node: node_id };
			Jobs::<T>::insert(job_id, job);
			Self::deposit_event(Event::JobSettled {
				job_id,
				node_id,
				provider: node.owner,
				cost,
				provider_amount,
				fund_amount,
				renewable_bonus,
				subsidy,
				refund,
			});
			Ok(())
		}

		/// Invariants, checked after every test and by `try-runtime`:
		/// - each account's held `JobEscrow` equals the budgets of its open jobs;
		/// - every open job is queued at its deadline; no job id at or above `NextJobId`;
		/// - proposals exist only for pending jobs, attestations only for submitted results;
		/// - a job is settled exactly when it has a receipt, whose cost splits exactly.
		pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			let mut escrow: Vec<(T::AccountId, BalanceOf<T>)> = Vec::new();
			for (job_id, job) in Jobs::<T>::iter() {
				ensure!(job_id < NextJobId::<T>::get(), "job id at or above NextJobId");
				if job.status.is_open() {
					ensure!(
						Deadlines::<T>::get(job.deadline).contains(&job_id),
						"open job missing from its deadline queue"
					);
					match escrow.iter_mut().find(|(who, _)| *who == job.owner) {
						Some((_, sum)) => *sum = sum.saturating_add(job.budget),
						None => escrow.push((job.owner.clone(), job.budget)),
					}
				}
				let settled = matches!(job.status, JobStatus::Settled { .. });
				ensure!(settled == Receipts::<T>::contains_key(job_id), "receipt mismatch");
			}
			for (who, sum) in escrow.iter() {
				ensure!(
					<T as Config>::Currency::balance_on_hold(&HoldReason::JobEscrow.into(), who)
						== *sum,
					"held JobEscrow differs from the open budgets"
				);
			}
			for (job_id, _) in Proposals::<T>::iter() {
				let pending = Jobs::<T>::get(job_id).map(|j| j.status == JobStatus::Pending);
				ensure!(pending == Some(true), "proposals for a job that is not pending");
			}
			for (job_id, _) in Attestations::<T>::iter() {
				let awaiting = Jobs::<T>::get(job_id)
					.map(|j| matches!(j.status, JobStatus::ResultSubmitted { .. }));
				ensure!(awaiting == Some(true), "attestations for a job not awaiting them");
			}
			for (_, receipt) in Receipts::<T>::iter() {
				ensure!(
					receipt.provider_amount.saturating_add(receipt.fund_amount) == receipt.cost,
					"receipt split does not add up to the cost"
				);
				ensure!(
					receipt.user_paid.saturating_add(receipt.subsidy) == receipt.cost,
					"user payment and subsidy do not add up to the cost"
				);
			}
			Ok(())
		}
	}
}
