//! Configuration of every pallet in the runtime.

use frame_support::PalletId;
use frame_support::{
	derive_impl,
	dispatch::DispatchClass,
	parameter_types,
	traits::{ConstBool, ConstU128, ConstU32, ConstU64, ConstU8, StorageMapShim, VariantCountOf},
	weights::{
		constants::{ParityDbWeight, WEIGHT_REF_TIME_PER_SECOND},
		ConstantMultiplier, IdentityFee, Weight,
	},
};
use frame_system::limits::{BlockLength, BlockWeights};
use pallet_transaction_payment::{ConstFeeMultiplier, FungibleAdapter, Multiplier};
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_runtime::{
	traits::{AccountIdConversion, One},
	Perbill,
};
use sp_version::RuntimeVersion;

use super::{
	currency::{AICG_EXISTENTIAL_DEPOSIT, EXISTENTIAL_DEPOSIT, MICRO_UNIT, MILLI_UNIT, UNIT},
	AccountId, Aicg, Aura, Balance, Balances, Block, BlockNumber, CommunityFund, Hash,
	ModelRegistry, Nonce, PalletInfo, Runtime, RuntimeCall, RuntimeEvent, RuntimeFreezeReason,
	RuntimeHoldReason, RuntimeOrigin, RuntimeTask, SessionKeys, System, ValidatorSet, DAYS, HOURS,
	MINUTES, SLOT_DURATION, VERSION,
};

/// The instance of `pallet-balances` that keeps the AICG ledger.
pub type AicgInstance = pallet_balances::Instance1;

const NORMAL_DISPATCH_RATIO: Perbill = Perbill::from_percent(75);
/// 5 MiB blocks; normal transactions may fill 75% of them.
const MAX_BLOCK_LENGTH: u32 = 5 * 1024 * 1024;

parameter_types! {
	pub const BlockHashCount: BlockNumber = 2400;
	pub const Version: RuntimeVersion = VERSION;

	/// Two seconds of compute in a six-second block.
	pub RuntimeBlockWeights: BlockWeights = BlockWeights::with_sensible_defaults(
		Weight::from_parts(2u64 * WEIGHT_REF_TIME_PER_SECOND, u64::MAX),
		NORMAL_DISPATCH_RATIO,
	);
	pub RuntimeBlockLength: BlockLength = BlockLength::builder()
		.max_length(MAX_BLOCK_LENGTH)
		.modify_max_length_for_class(DispatchClass::Normal, |max| {
			*max = NORMAL_DISPATCH_RATIO * MAX_BLOCK_LENGTH
		})
		.build();
	pub const SS58Prefix: u8 = 42;
}

#[derive_impl(frame_system::config_preludes::SolochainDefaultConfig)]
impl frame_system::Config for Runtime {
	type Block = Block;
	type BlockWeights = RuntimeBlockWeights;
	type BlockLength = RuntimeBlockLength;
	type AccountId = AccountId;
	type Nonce = Nonce;
	type Hash = Hash;
	type BlockHashCount = BlockHashCount;
	// The node stores state in ParityDB.
	type DbWeight = ParityDbWeight;
	type Version = Version;
	type AccountData = pallet_balances::AccountData<Balance>;
	type SS58Prefix = SS58Prefix;
	type MaxConsumers = ConstU32<16>;
}

impl pallet_aura::Config for Runtime {
	type AuthorityId = AuraId;
	type DisabledValidators = ();
	type MaxAuthorities = MaxValidators;
	type AllowMultipleBlocksPerSlot = ConstBool<false>;
	type SlotDuration = pallet_aura::MinimumPeriodTimesTwo<Runtime>;
}

impl pallet_grandpa::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = ();
	type MaxAuthorities = MaxValidators;
	type MaxNominators = ConstU32<0>;
	type MaxSetIdSessionEntries = ConstU64<0>;
	type KeyOwnerProof = sp_core::Void;
	type EquivocationReportSystem = ();
}

impl pallet_timestamp::Config for Runtime {
	/// Milliseconds since the Unix epoch.
	type Moment = u64;
	type OnTimestampSet = Aura;
	type MinimumPeriod = ConstU64<{ SLOT_DURATION / 2 }>;
	type WeightInfo = ();
}

impl pallet_balances::Config for Runtime {
	type MaxLocks = ConstU32<50>;
	type MaxReserves = ();
	type ReserveIdentifier = [u8; 8];
	type Balance = Balance;
	type RuntimeEvent = RuntimeEvent;
	type DustRemoval = ();
	type ExistentialDeposit = ConstU128<EXISTENTIAL_DEPOSIT>;
	type AccountStore = System;
	type WeightInfo = pallet_balances::weights::SubstrateWeight<Runtime>;
	type FreezeIdentifier = RuntimeFreezeReason;
	type MaxFreezes = VariantCountOf<RuntimeFreezeReason>;
	type RuntimeHoldReason = RuntimeHoldReason;
	type RuntimeFreezeReason = RuntimeFreezeReason;
	type DoneSlashHandler = ();
}

/// AICG keeps its ledger in its own `Account` map, apart from the AICC data in `System`.
impl pallet_balances::Config<AicgInstance> for Runtime {
	type MaxLocks = ConstU32<50>;
	type MaxReserves = ();
	type ReserveIdentifier = [u8; 8];
	type Balance = Balance;
	type RuntimeEvent = RuntimeEvent;
	type DustRemoval = ();
	type ExistentialDeposit = ConstU128<AICG_EXISTENTIAL_DEPOSIT>;
	type AccountStore = StorageMapShim<
		pallet_balances::Account<Runtime, AicgInstance>,
		AccountId,
		pallet_balances::AccountData<Balance>,
	>;
	type WeightInfo = pallet_balances::weights::SubstrateWeight<Runtime>;
	type FreezeIdentifier = RuntimeFreezeReason;
	type MaxFreezes = VariantCountOf<RuntimeFreezeReason>;
	type RuntimeHoldReason = RuntimeHoldReason;
	type RuntimeFreezeReason = RuntimeFreezeReason;
	type DoneSlashHandler = ();
}

parameter_types! {
	pub FeeMultiplier: Multiplier = Multiplier::one();
}

impl pallet_transaction_payment::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type OnChargeTransaction = FungibleAdapter<Balances, ()>;
	type OperationalFeeMultiplier = ConstU8<5>;
	// One planck per unit of ref-time, and one micro-AICC per encoded byte.
	type WeightToFee = IdentityFee<Balance>;
	type LengthToFee = ConstantMultiplier<Balance, ConstU128<MICRO_UNIT>>;
	type FeeMultiplierUpdate = ConstFeeMultiplier<FeeMultiplier>;
	type WeightInfo = pallet_transaction_payment::weights::SubstrateWeight<Runtime>;
}

impl pallet_sudo::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type WeightInfo = pallet_sudo::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// The community fund: receives 10% of every job and slashed bonds, pays renewable bonuses.
	pub const CommunityFundPalletId: PalletId = PalletId(*b"aic/fund");
	pub CommunityFundAccount: AccountId = community_fund_account();

	pub const NodeBond: Balance = 100 * UNIT;
	pub const HeartbeatTimeout: BlockNumber = HOURS;
	pub const UnbondingPeriod: BlockNumber = HOURS;

	pub const ProposalWindow: BlockNumber = 3;
	pub const ResultTimeout: BlockNumber = 10 * MINUTES;
	pub const AttestationWindow: BlockNumber = 2 * MINUTES;
	pub const ProviderShare: Perbill = Perbill::from_percent(90);
	pub const RenewableBonus: Perbill = Perbill::from_percent(5);
	pub const BelowMinimumPayout: Perbill = Perbill::from_percent(50);
	pub const SlashOnFailure: Perbill = Perbill::from_percent(10);
}

/// The account of the community fund.
pub fn community_fund_account() -> AccountId {
	CommunityFundPalletId::get().into_account_truncating()
}

/// The account that keeps inference dividends until contributors claim them.
pub fn inference_account() -> AccountId {
	InferencePalletId::get().into_account_truncating()
}

impl pallet_compute_registry::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type NodeBond = NodeBond;
	// Half of `NodeBond`: a node slashed below it leaves matching until its owner tops it up.
	type MinNodeBond = ConstU128<{ 50 * UNIT }>;
	type MaxNodes = ConstU32<4_096>;
	type MaxNodesPerOwner = ConstU32<32>;
	type MaxNodesPerClass = ConstU32<512>;
	type MaxJobsPerNode = ConstU32<4>;
	// 0.01 AICC per GPU-hour: no node sells compute for nothing.
	type MinPricePerGpuHour = ConstU128<{ 10 * MILLI_UNIT }>;
	type HeartbeatTimeout = HeartbeatTimeout;
	type UnbondingPeriod = UnbondingPeriod;
	type WeightInfo = pallet_compute_registry::weights::SubstrateWeight<Runtime>;
}

/// Validators' workers sign with their session's compute worker key (`aicc`, one of the
/// session keys `author_rotateKeys` makes): the worker keys of the current session's validators
/// are the validator workers.
pub struct SessionValidatorWorkers;

impl SessionValidatorWorkers {
	fn worker_key(who: &AccountId) -> aicchain_primitives::worker_key::Public {
		let raw: [u8; 32] = who.clone().into();
		sp_core::sr25519::Public::from_raw(raw).into()
	}
}

impl pallet_compute_jobs::ValidatorWorkers<AccountId> for SessionValidatorWorkers {
	fn is_validator_worker(who: &AccountId) -> bool {
		ValidatorSet::is_active_worker(&Self::worker_key(who))
	}

	fn count() -> u32 {
		ValidatorSet::active_count()
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn add_for_benchmark(who: &AccountId) {
		ValidatorSet::add_active_worker_for_benchmark(who.clone(), Self::worker_key(who));
	}
}

parameter_types! {
	/// Sessions of 10 minutes: a validator added or removed validates, or stops, within two.
	pub const SessionPeriod: BlockNumber = 10 * MINUTES;
	pub const SessionOffset: BlockNumber = 0;
}

impl pallet_session::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type ValidatorId = AccountId;
	type ValidatorIdOf = sp_runtime::traits::ConvertInto;
	type ShouldEndSession = pallet_session::PeriodicSessions<SessionPeriod, SessionOffset>;
	type NextSessionRotation = pallet_session::PeriodicSessions<SessionPeriod, SessionOffset>;
	type SessionManager = ValidatorSet;
	type SessionHandler = <SessionKeys as sp_runtime::traits::OpaqueKeys>::KeyTypeIdProviders;
	type Keys = SessionKeys;
	type DisablingStrategy = ();
	type WeightInfo = pallet_session::weights::SubstrateWeight<Runtime>;
	type Currency = Balances;
	// Session keys are storage anyone with AICC could fill: setting them holds 1 AICC.
	type KeyDeposit = ConstU128<UNIT>;
}

/// Whether an account has session keys queued (`session.set_keys`).
pub struct QueuedSessionKeys;

impl pallet_validator_set::SessionKeysOf<AccountId> for QueuedSessionKeys {
	fn has_keys(who: &AccountId) -> bool {
		pallet_session::NextKeys::<Runtime>::contains_key(who)
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn set_keys_for_benchmark(who: &AccountId) {
		let raw: [u8; 32] = who.clone().into();
		let keys = SessionKeys {
			aura: sp_core::sr25519::Public::from_raw(raw).into(),
			grandpa: sp_core::ed25519::Public::from_raw(raw).into(),
			worker: sp_core::sr25519::Public::from_raw(raw).into(),
		};
		pallet_session::NextKeys::<Runtime>::insert(who, keys);
	}
}

impl pallet_validator_set::Config for Runtime {
	type WorkerKey = aicchain_primitives::worker_key::Public;
	type ManagerOrigin = frame_system::EnsureRoot<AccountId>;
	type SessionKeys = QueuedSessionKeys;
	// With one validator left the chain still authors and finalises blocks.
	type MinValidators = ConstU32<1>;
	type MaxValidators = MaxValidators;
	type WeightInfo = pallet_validator_set::weights::SubstrateWeight<Runtime>;
}

impl pallet_model_registry::Config for Runtime {
	type Balance = Balance;
	type MaxNameLength = ConstU32<64>;
	type MaxAllowed = ConstU32<32>;
	type MaxLineage = ConstU32<256>;
	type WeightInfo = pallet_model_registry::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	pub const InferencePalletId: PalletId = PalletId(*b"aic/infr");
	/// A query's price: 10% to the community fund (as for training), 30% to the lineage's
	/// contributors, 60% to the provider.
	pub const InferenceFundShare: Perbill = Perbill::from_percent(10);
	pub const InferenceContributorShare: Perbill = Perbill::from_percent(30);
}

/// Paid inference reads node owners from the compute registry and slashes its bonds.
pub struct RegistryNodes;
impl aicchain_primitives::InferenceNodes<AccountId, Balance> for RegistryNodes {
	fn owner(node: aicchain_primitives::NodeId) -> Option<AccountId> {
		pallet_compute_registry::Nodes::<Runtime>::get(node).map(|n| n.owner)
	}
	fn slash(node: aicchain_primitives::NodeId, amount: Balance, to: &AccountId) -> Balance {
		crate::ComputeRegistry::slash_bond(node, amount, to).unwrap_or(0)
	}
	#[cfg(feature = "runtime-benchmarks")]
	fn benchmark_node(owner: AccountId) -> aicchain_primitives::NodeId {
		let id = pallet_compute_registry::NextNodeId::<Runtime>::get();
		let spec = aicchain_primitives::NodeSpec {
			gpu_count: 8,
			gpu_memory_gib: 80,
			bandwidth_mbps: 100,
			latency_ms: 10,
			region: sp_runtime::BoundedVec::truncate_from(b"eu-west-1".to_vec()),
			renewable_share: sp_runtime::Percent::from_percent(50),
			carbon_intensity: 100,
			price_per_gpu_hour: UNIT,
		};
		let worker = AccountId::new(
			<sp_runtime::traits::BlakeTwo256 as sp_runtime::traits::Hash>::hash(&id.to_le_bytes())
				.0,
		);
		let _ = crate::ComputeRegistry::register_node(RuntimeOrigin::signed(owner), spec, worker);
		id
	}
}

impl pallet_inference::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Signature = crate::Signature;
	type Signer = <crate::Signature as sp_runtime::traits::Verify>::Signer;
	type Models = ModelRegistry;
	type Nodes = RegistryNodes;
	type CommunityFund = CommunityFundAccount;
	type PalletId = InferencePalletId;
	type FundShare = InferenceFundShare;
	type ContributorShare = InferenceContributorShare;
	// The served version and its 15 nearest ancestors share the contributors' part.
	type MaxContributors = ConstU32<16>;
	type MaxBatch = ConstU32<256>;
	type MaxServers = ConstU32<16>;
	type MinChannelDeposit = ConstU128<{ UNIT / 10 }>;
	// An hour to redeem after a user closes a channel; a challenged node answers within 10
	// minutes, or pays the query's price from its bond.
	type CloseDelay = ConstU32<{ HOURS }>;
	type ChallengeDeposit = ConstU128<{ UNIT / 10 }>;
	type AnswerWindow = ConstU32<{ 10 * MINUTES }>;
	// 256 f32 features; 256 f32 outputs.
	type MaxQueryLen = ConstU32<1024>;
	type MaxAnswerLen = ConstU32<1024>;
	type WeightInfo = pallet_inference::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// The most validators: Aura's and GRANDPA's authority bound, and every vote list's.
	pub const MaxValidators: u32 = 32;
}

impl pallet_compute_jobs::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Validators = SessionValidatorWorkers;
	type WorkerSigner = super::offchain::RuntimeWorkerSigner;
	type CommunityFund = CommunityFundAccount;
	type Subsidies = CommunityFund;
	type Rewards = CommunityFund;
	type Models = ModelRegistry;
	// Every job holds a deadline slot: it must tie up at least 1 AICC while it does.
	type MinJobBudget = ConstU128<UNIT>;
	// The seed demo's ranges: 4-16 GPUs, 50-200 Mbps, 5-20 ms.
	type MinJobGpus = ConstU32<4>;
	type MaxJobGpus = ConstU32<16>;
	type MinBandwidthMbps = ConstU32<50>;
	type MaxBandwidthMbps = ConstU32<200>;
	type MinLatencyMs = ConstU32<5>;
	type MaxLatencyMs = ConstU32<20>;
	// 30 days, so that a result deadline (the job's hours plus `ResultTimeout`) stays within
	// `MaxResultTimeout`.
	type MaxGpuHours = ConstU32<720>;
	type MaxValidators = MaxValidators;
	type MaxDeadlinesPerBlock = ConstU32<32>;
	type MaxFallbackCandidates = ConstU32<32>;
	// A job that finds every fitting node busy waits for capacity: an hour unless its
	// submitter asks otherwise, a day at most; 1,024 wait at once, 32 are tried per block.
	type DefaultQueueWait = ConstU32<{ HOURS }>;
	type MaxQueueWait = ConstU32<{ DAYS }>;
	type MaxQueuedJobs = ConstU32<1024>;
	type MaxQueueScan = ConstU32<32>;
	type ProposalWindow = ProposalWindow;
	// A result is due `ResultTimeout` (the margin) plus the job's hours after assignment,
	// never more than 31 days after.
	type ResultTimeout = ResultTimeout;
	type BlocksPerHour = ConstU32<HOURS>;
	type MaxResultTimeout = ConstU32<{ 31 * DAYS }>;
	// A job declined by three providers expires (refunded): a griefing provider delays a job by
	// one proposal window per decline, and earns nothing.
	type MaxDeclines = ConstU32<3>;
	// A provider's worker declines what its engine refuses within a few blocks; after 10
	// minutes the job is the provider's to deliver (or be slashed for).
	type DeclineWindow = ConstU32<{ 10 * MINUTES }>;
	// Root (sudo, or governance once it replaces sudo) curates datasets; anyone may register
	// their own for 10 AICC held until they withdraw it (a record on chain and the engines'
	// checks of uploads against it).
	type DatasetOrigin = frame_system::EnsureRoot<AccountId>;
	type DatasetDeposit = ConstU128<{ 10 * UNIT }>;
	type AttestationWindow = AttestationWindow;
	// Finished jobs and receipts stay readable through the `job` API for a week, then are
	// pruned (archive state and the `JobSettled` event keep them), at most 16 per block.
	type JobRetention = ConstU32<{ 7 * DAYS }>;
	type MaxPrunePerBlock = ConstU32<16>;
	type ProviderShare = ProviderShare;
	type RenewableBonus = RenewableBonus;
	type BelowMinimumPayout = BelowMinimumPayout;
	type SlashOnFailure = SlashOnFailure;
	// A data-centre GPU draws about 400 W.
	type EnergyPerGpuHourWh = ConstU32<400>;
	// World average grid intensity (IEA), gCO2e/kWh.
	type ReferenceGridIntensity = ConstU32<475>;
	// Federated jobs: 2-5 providers, 1-10 rounds; each round's updates are due 5 minutes
	// plus the round's share of the job's hours after it starts; 32 stored at once, an ended
	// one pruned a day after it ends.
	type MaxFederationProviders = ConstU32<5>;
	type MaxFederationRounds = ConstU32<10>;
	type MaxFederations = ConstU32<32>;
	type FederationRoundWindow = ConstU32<{ 5 * MINUTES }>;
	type FederationRetention = ConstU32<{ DAYS }>;
	type WeightInfo = pallet_compute_jobs::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	pub const ProposalDeposit: Balance = 10 * UNIT;
	/// Short enough to watch a vote close on a dev chain (2 minutes).
	pub const VotingPeriod: BlockNumber = 2 * MINUTES;
	/// Turnout of at least 10% of the AICG supply ...
	pub const Quorum: Perbill = Perbill::from_percent(10);
	/// ... of which more than half must be ayes.
	pub const ApprovalThreshold: Perbill = Perbill::from_percent(50);
	/// A subsidy may pay at most the provider's share of a job.
	pub const MaxSubsidyShare: Perbill = Perbill::from_percent(90);
	/// 10% of a job's AICG goes to the verifiers whose verdict the chain reached.
	pub const VerifierRewardShare: Perbill = Perbill::from_percent(10);
	/// The smallest vote: 1 AICG.
	pub const MinVote: Balance = UNIT;
	pub const MaxAicgSupply: Balance = 1_000_000_000 * UNIT;
	/// Providers' AICG rewards are pooled per hour and paid after it ...
	pub const RewardPeriod: BlockNumber = HOURS;
	/// ... to those whose verified jobs left the fund at least 5 AICC in it (about 50 AICC of
	/// work); less rolls over.
	pub const ContributionThreshold: Balance = 5 * UNIT;
}

impl pallet_community_fund::Config for Runtime {
	type Currency = Balances;
	type GovernanceCurrency = Aicg;
	type RuntimeHoldReason = RuntimeHoldReason;
	type RuntimeFreezeReason = RuntimeFreezeReason;
	type PalletId = CommunityFundPalletId;
	type ProposalDeposit = ProposalDeposit;
	type VotingPeriod = VotingPeriod;
	type Quorum = Quorum;
	type ApprovalThreshold = ApprovalThreshold;
	type MaxSubsidyShare = MaxSubsidyShare;
	type MaxOpenProposals = ConstU32<16>;
	type MaxActiveSubsidies = ConstU32<8>;
	type MaxVoters = ConstU32<256>;
	// 1 AICG per AICC the fund keeps from verified work.
	type RewardRate = ConstU32<1>;
	type VerifierRewardShare = VerifierRewardShare;
	type MinVote = MinVote;
	type MaxAicgSupply = MaxAicgSupply;
	type RewardPeriod = RewardPeriod;
	type ContributionThreshold = ContributionThreshold;
	type WeightInfo = pallet_community_fund::weights::SubstrateWeight<Runtime>;
}
