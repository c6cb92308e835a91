//! # Compute jobs pallet
//!
//! Users submit AI jobs with [`JobRequirements`] and a budget that is held in escrow (fungible
//! holds, reason [`HoldReason::JobEscrow`]). The job then moves through:
//!
//! 1. **Pending**: validators' off-chain workers `propose_assignment(job, node)`. Every proposal
//!    is checked against the hard constraints (GPUs, bandwidth, latency, renewable share, price
//!    within budget, free GPUs, liveness); invalid ones are rejected. A node proposed by a
//!    majority of the validator set is assigned at once. When `ProposalWindow` ends, the node
//!    with the most valid proposals is assigned if a quorum (a majority of the current set) took
//!    part; otherwise a deterministic fixed-point score (price, carbon, reputation) picks among a
//!    sample of indexed candidates drawn from the parent block's hash. No eligible node at all:
//!    the job expires and the budget is refunded.
//! 2. **Assigned**: the terms the node offered (price, renewable share, carbon intensity) are
//!    fixed in the job; a later `update_node` does not change what this job pays or reports. Only
//!    the node's worker key may `submit_result`, by a deadline that scales with the work asked
//!    for ([`Pallet::result_deadline`]: `ResultTimeout` plus the job's `gpu_hours` in blocks,
//!    at most `MaxResultTimeout`); otherwise the job times out: the user is refunded and the
//!    provider's bond is slashed to the community fund. A provider that cannot run the job
//!    `decline_job`s it instead: no slash, no reputation change, and the job goes back to
//!    matching, never to be offered to that node again (see below).
//! 3. **ResultSubmitted**: validators' workers (never the provider's own) `attest`. Only votes
//!    of accounts that are validators *now* count. A majority of the whole validator set
//!    accepting settles the job; a majority rejecting refunds the user and slashes the bond.
//!    Abstaining is not accepting: when `AttestationWindow` ends without a majority either way,
//!    the job is refunded without a slash.
//!
//! Settlement pays `ProviderShare` (90%) of the cost to the provider, the rest (10%) to the
//! community fund, returns the unused budget, and pays renewable-powered providers a bonus from
//! the fund while it has funds. Each settled job keeps a [`JobReceipt`] with its cost, saving
//! against the budget, carbon emitted and the reduction against a reference grid intensity.
//!
//! ## What AICG rewards and subsidies are paid for
//!
//! AICG is governance power over the fund, so it is minted only against AICC the fund *keeps*
//! from verified, paid work: the fund's share of the job less the subsidy and renewable bonus
//! it paid back out (see [`ContributionRewards`]). A party that trades with itself (as user and
//! provider) therefore pays at least as much AICC into the fund as the AICG it mints is rated at,
//! and a job the fund subsidises beyond its own share mints nothing. Verifiers share part of
//! it when their verdict is the chain's: accepting verifiers of a settled job, rejecting
//! verifiers of a rejected one (against the slashed bond). A job without a training spec (a
//! plain compute reservation) carries no evidence of work the validators can check: it is paid
//! as the user agreed, but earns no AICG, no subsidy and no renewable bonus.
//!
//! ## Jobs a provider can run
//!
//! A provider is slashed for a job it does not deliver, so the chain accepts only jobs every
//! honest provider can deliver:
//!
//! - **Spec limits**: a training spec must be within the limits the compute engine trains
//!   ([`aicchain_primitives::limits`], checked by [`aicchain_primitives::validate_training_spec`]
//!   on both sides), or `submit_job` fails `InvalidTrainingSpec`.
//! - **Known datasets**: a training spec must name a dataset in [`Datasets`], or `submit_job`
//!   (and the `quote`) fails `DatasetUnknown`. Governance (`DatasetOrigin`) curates some (the
//!   engine's built-in datasets are registered at genesis); any account may `add_dataset` its
//!   own for a `DatasetDeposit` ([`DatasetOwners`]), naming its size (engines read no more) and
//!   whether it is public. A private dataset may be named only by its owner's jobs
//!   (`DatasetPrivate`). A user dataset no provider can fetch cannot hurt providers: declining
//!   a job on it costs no reputation, and the user gets nothing out of such a job.
//! - **Declining**: the assigned node's owner or bound worker key may `decline_job` a job it
//!   cannot run (e.g. its engine refuses it): its slot is freed without a slash or a reputation
//!   change, the node is recorded in [`Declined`] (proposals for it fail `NodeDeclinedJob`, and
//!   the fallback and the workers skip it), and the job goes back to `Pending` with a fresh
//!   proposal window. After `MaxDeclines` declines the job expires with a full refund. A
//!   provider gains nothing by declining and can only delay a job by one window per decline.
//! - **Deadlines that scale**: the result is due `ResultTimeout + gpu_hours × BlocksPerHour`
//!   blocks after assignment (capped by `MaxResultTimeout`), not a flat timeout that a long job
//!   cannot meet.
//!
//! ## Deadlines and spam
//!
//! Deadlines live in a per-block queue ([`Deadlines`]) that `on_initialize` drains, so no job
//! is ever stuck and no block reads more than `MaxDeadlinesPerBlock` jobs. A stage that ends
//! early (cancel, majority assignment, result, majority verdict) frees its slot at once, and a
//! job needs at least `MinJobBudget` held in escrow, so filling the queue ties up real AICC.
//!
//! Finished jobs do not stay forever: each is queued when it ends and pruned with its receipt
//! `JobRetention` blocks later, at most `MaxPrunePerBlock` per block in `on_initialize` and more
//! with a block's unused weight in `on_idle` (see `retention.rs`). Receipts remain in the
//! `JobSettled` event and in archive state; market figures are running [`Totals`].

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod dataset_tests;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod relay_tests;
#[cfg(test)]
mod spec_tests;
#[cfg(test)]
mod tests;
pub mod weights;
pub use weights::WeightInfo;
mod relay;
pub mod reservations;
mod worker;
#[cfg(test)]
mod worker_tests;
pub use worker::{WorkerSigner, ENGINE_TOKEN_KEY, ENGINE_URL_KEY};
pub mod runtime_api;
pub use runtime_api::{MarketStats, QueueStatus, Quote};
mod datasets;
mod invariants;
mod matching;
mod queue;
#[cfg(test)]
mod queue_tests;
mod settlement;
pub(crate) use settlement::Failure;
mod retention;
pub use retention::MarketTotals;
#[cfg(test)]
mod retention_tests;

mod calls;
mod errors;
mod events;
mod federation;
#[cfg(test)]
mod federation_tests;
mod types;
pub use aicchain_primitives::federation::{Federation, FederationStage, Member};
pub use types::*;

use aicchain_primitives::{
	federation::MAX_FEDERATION_PROVIDERS, ContributionRewards, DatasetInfo, FederationSpec, JobId,
	JobRequirements, NodeId, QuantisedMetrics, RoundVerdict, SubsidyHandler, SubsidyId,
	TrainingCommitment, VerifiedModels,
};
use frame_support::pallet_macros::import_section;
use frame_support::traits::fungible::{InspectHold, Mutate, MutateHold};
use sp_core::H256;

#[import_section(calls::calls)]
#[import_section(errors::errors)]
#[import_section(events::events)]
#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::pallet_prelude::*;
	use frame_system::pallet_prelude::*;
	use pallet_compute_registry::Ineligible;
	use sp_runtime::{traits::Saturating, Perbill};

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

		/// AICG rewards for the provider and verifiers of settled jobs, against the AICC the fund
		/// kept from them.
		type Rewards: ContributionRewards<Self::AccountId, BalanceOf<Self>>;

		/// Where verified training results go: the model registry, which makes each a model
		/// version.
		type Models: VerifiedModels<Self::AccountId, BalanceOf<Self>>;

		/// Least budget a job may hold in escrow (every job takes a deadline slot).
		#[pallet::constant]
		type MinJobBudget: Get<BalanceOf<Self>>;

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

		/// Most validators counted per job (bounds proposals and attestations).
		#[pallet::constant]
		type MaxValidators: Get<u32>;
		/// Most deadlines in one block's queue.
		#[pallet::constant]
		type MaxDeadlinesPerBlock: Get<u32>;
		/// Most candidates the fallback reads.
		#[pallet::constant]
		type MaxFallbackCandidates: Get<u32>;
		/// Blocks a job waits in the queue for capacity, after its proposal window, unless its
		/// submitter asked for another wait (`submit_job_waiting`).
		#[pallet::constant]
		type DefaultQueueWait: Get<BlockNumberFor<Self>>;
		/// The longest wait a submitter may ask for.
		#[pallet::constant]
		type MaxQueueWait: Get<BlockNumberFor<Self>>;
		/// Most jobs waiting in the queue at once.
		#[pallet::constant]
		type MaxQueuedJobs: Get<u32>;
		/// Most queued jobs one block's `on_initialize` tries to match.
		#[pallet::constant]
		type MaxQueueScan: Get<u32>;

		/// Blocks for validators to propose an assignment.
		#[pallet::constant]
		type ProposalWindow: Get<BlockNumberFor<Self>>;
		/// Blocks for the assigned node to submit its result, on top of the job's own length
		/// (see `BlocksPerHour`): the margin to fetch the data, start and publish.
		#[pallet::constant]
		type ResultTimeout: Get<BlockNumberFor<Self>>;
		/// Blocks in an hour: a job of `gpu_hours` hours gets `gpu_hours × BlocksPerHour` blocks
		/// more than `ResultTimeout` to submit its result.
		#[pallet::constant]
		type BlocksPerHour: Get<BlockNumberFor<Self>>;
		/// The longest a result may be waited for after assignment, however long the job.
		#[pallet::constant]
		type MaxResultTimeout: Get<BlockNumberFor<Self>>;
		/// Most times a job may be declined by assigned providers before it expires (refunded).
		/// Bounds [`Declined`].
		#[pallet::constant]
		type MaxDeclines: Get<u32>;
		/// Blocks after assignment during which the provider may decline a job. Later, it must
		/// deliver or time out (slashed): a provider cannot hold a job to its deadline and walk
		/// away free.
		#[pallet::constant]
		type DeclineWindow: Get<BlockNumberFor<Self>>;
		/// Who curates the datasets training jobs may name (root or governance).
		type DatasetOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// Held from an account for each dataset it registers (`add_dataset`) until it is
		/// withdrawn.
		#[pallet::constant]
		type DatasetDeposit: Get<BalanceOf<Self>>;
		/// Blocks for validators to attest a result.
		#[pallet::constant]
		type AttestationWindow: Get<BlockNumberFor<Self>>;
		/// Blocks a finished job and its receipt stay in state (and readable through the
		/// `ComputeApi::job` runtime API) before `on_initialize` prunes them. They stay forever in
		/// archive nodes' state and in the job's final event (`JobSettled` carries the receipt).
		#[pallet::constant]
		type JobRetention: Get<BlockNumberFor<Self>>;
		/// Most finished jobs one block's `on_initialize` prunes.
		#[pallet::constant]
		type MaxPrunePerBlock: Get<u32>;

		/// Share of the cost paid to the provider; the rest goes to the community fund.
		#[pallet::constant]
		type ProviderShare: Get<Perbill>;
		/// Bonus, as a share of the cost, for a fully renewable provider (scaled by its share).
		#[pallet::constant]
		type RenewableBonus: Get<Perbill>;
		/// Share of the cost a job is settled at when its verified model scores below the
		/// spec's `min_score` (split 90/10 as usual; the rest is refunded; no subsidy, bonus or
		/// AICG).
		#[pallet::constant]
		type BelowMinimumPayout: Get<Perbill>;
		/// Share of the node's bond slashed for a rejected or timed-out job.
		#[pallet::constant]
		type SlashOnFailure: Get<Perbill>;
		/// Energy one GPU draws in an hour, in Wh.
		#[pallet::constant]
		type EnergyPerGpuHourWh: Get<u32>;
		/// Carbon intensity of the reference grid, in gCO2e per kWh.
		#[pallet::constant]
		type ReferenceGridIntensity: Get<u32>;

		/// Most providers a federated job may ask for (at most
		/// [`aicchain_primitives::federation::MAX_FEDERATION_PROVIDERS`]).
		#[pallet::constant]
		type MaxFederationProviders: Get<u32>;
		/// Most rounds a federated job may ask for.
		#[pallet::constant]
		type MaxFederationRounds: Get<u32>;
		/// Most federated jobs in state at once, open or ended and awaiting pruning (every
		/// block reads them all).
		#[pallet::constant]
		type MaxFederations: Get<u32>;
		/// Blocks a federated job's members have to commit a round's update.
		#[pallet::constant]
		type FederationRoundWindow: Get<BlockNumberFor<Self>>;
		/// Blocks an ended federated job stays in state (its events stay in the blocks).
		#[pallet::constant]
		type FederationRetention: Get<BlockNumberFor<Self>>;

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
		/// The deposit of a dataset registered by a user (`add_dataset`).
		DatasetDeposit,
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

	/// The proof-of-learning commitment of each submitted training result and the block it was
	/// published in (whose hash seeds the verifiers' challenges). Kept until the job is pruned.
	#[pallet::storage]
	pub type Commitments<T: Config> =
		StorageMap<_, Twox64Concat, JobId, (TrainingCommitment, BlockNumberFor<T>), OptionQuery>;

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

	/// The datasets training jobs may name, by the blake2-256 hash of their file (curated by
	/// `DatasetOrigin`, or a user's own: see [`DatasetOwners`]).
	#[pallet::storage]
	pub type Datasets<T: Config> = StorageMap<_, Blake2_128Concat, H256, DatasetInfo, OptionQuery>;

	/// The owner of each dataset a user registered (`add_dataset`) and the deposit held from
	/// it; curated datasets have none.
	#[pallet::storage]
	pub type DatasetOwners<T: Config> =
		StorageMap<_, Blake2_128Concat, H256, (T::AccountId, BalanceOf<T>), OptionQuery>;

	/// Open jobs training on each dataset: while any is open its record may be neither
	/// withdrawn nor registered anew (the chain schedules and prices a job by the record).
	#[pallet::storage]
	pub type DatasetJobs<T: Config> = StorageMap<_, Blake2_128Concat, H256, u32, ValueQuery>;

	/// Who first registered each private dataset: only they may register its hash again after
	/// it is withdrawn, so engines that still hold the file never train on it for anyone else.
	#[pallet::storage]
	pub type PrivateDatasetOwners<T: Config> =
		StorageMap<_, Blake2_128Concat, H256, T::AccountId, OptionQuery>;

	/// Nodes that declined an open job: it is never offered to them again. Removed when the job
	/// ends.
	#[pallet::storage]
	pub type Declined<T: Config> =
		StorageMap<_, Twox64Concat, JobId, BoundedVec<NodeId, T::MaxDeclines>, ValueQuery>;

	/// Jobs waiting for capacity, in the order they entered the queue, each with its bid (its
	/// budget per GPU-hour): when the queue is full, a higher bid displaces the lowest (see
	/// `queue.rs`).
	#[pallet::storage]
	pub type WaitQueue<T: Config> =
		StorageValue<_, BoundedVec<(JobId, BalanceOf<T>), T::MaxQueuedJobs>, ValueQuery>;

	/// Jobs assigned from the wait queue so far, and the blocks they waited in it, summed
	/// (from the end of their proposal window): the mean is the expected wait the RPC shows.
	#[pallet::storage]
	pub type QueueWaits<T: Config> = StorageValue<_, (u64, u64), ValueQuery>;

	/// Federated jobs, open or ended (until `FederationRetention` after they end). Their ids
	/// are job ids (taken from [`NextJobId`]), so that a federated model's version is found by
	/// its job like any other.
	#[pallet::storage]
	pub type Federations<T: Config> =
		StorageMap<_, Twox64Concat, JobId, FederationOf<T>, OptionQuery>;

	/// Every federated job stored, in the order submitted: what `on_initialize` reads for
	/// deadlines and pruning.
	#[pallet::storage]
	pub type FederationIds<T: Config> =
		StorageValue<_, BoundedVec<JobId, T::MaxFederations>, ValueQuery>;

	/// Federated jobs submitted so far (each took a job id that no `Jobs` entry has).
	#[pallet::storage]
	pub type FederationCount<T: Config> = StorageValue<_, u64, ValueQuery>;

	/// The current round's verdicts: (validator worker, verdict, the aggregate's metrics).
	#[pallet::storage]
	pub type RoundVotes<T: Config> = StorageMap<
		_,
		Twox64Concat,
		JobId,
		BoundedVec<(T::AccountId, RoundVerdict, QuantisedMetrics), T::MaxValidators>,
		ValueQuery,
	>;

	/// The datasets known from genesis (the engine's built-in ones on dev chains).
	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Datasets to register: content hash and description.
		pub datasets: alloc::vec::Vec<(H256, DatasetInfo)>,
		#[serde(skip)]
		pub _config: core::marker::PhantomData<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			for (hash, info) in &self.datasets {
				Datasets::<T>::insert(hash, info);
			}
		}
	}

	/// Running market totals, kept as jobs end and receipts are written (pruning does not
	/// change them), so `market_stats` reads them instead of every job.
	#[pallet::storage]
	pub type Totals<T: Config> = StorageValue<_, MarketTotals<BalanceOf<T>>, ValueQuery>;

	/// Position of the oldest entry of the queue of finished jobs awaiting pruning.
	#[pallet::storage]
	pub type RetiredHead<T: Config> = StorageValue<_, u64, ValueQuery>;

	/// Position the next finished job takes in the pruning queue.
	#[pallet::storage]
	pub type RetiredTail<T: Config> = StorageValue<_, u64, ValueQuery>;

	/// The pruning queue: finished jobs and the block from which they may be pruned, in the
	/// order they finished (the retention is constant, so that order is also the pruning order).
	#[pallet::storage]
	pub type Retired<T: Config> =
		StorageMap<_, Twox64Concat, u64, (JobId, BlockNumberFor<T>), OptionQuery>;

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			let due = Deadlines::<T>::take(now);
			let count = u32::try_from(due.len()).unwrap_or(u32::MAX);
			for job_id in due {
				Self::process_deadline(job_id, now);
			}
			let federations = Self::process_federations(now);
			let examined = Self::match_queue(now);
			let pruned = Self::prune(now);
			Self::deadlines_weight(count)
				.saturating_add(<T as Config>::WeightInfo::on_initialize_queue(examined))
				.saturating_add(<T as Config>::WeightInfo::on_initialize_prune(pruned))
				.saturating_add(federations)
		}

		fn on_idle(now: BlockNumberFor<T>, remaining: Weight) -> Weight {
			Self::prune_idle(now, remaining)
		}

		fn integrity_test() {
			// The longest job the chain accepts gets its whole length plus the margin.
			let longest = T::BlocksPerHour::get()
				.saturating_mul(T::MaxGpuHours::get().into())
				.saturating_add(T::ResultTimeout::get());
			assert!(
				longest <= T::MaxResultTimeout::get(),
				"MaxGpuHours hours plus ResultTimeout must fit in MaxResultTimeout"
			);
			assert!(
				T::MaxFederationProviders::get() <= MAX_FEDERATION_PROVIDERS,
				"MaxFederationProviders above MAX_FEDERATION_PROVIDERS"
			);
		}

		fn offchain_worker(now: BlockNumberFor<T>) {
			Self::run_worker(now);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}
}
