//! A runtime for the jobs pallet's tests: System, Balances, the registry and the jobs pallet.

use crate::{self as pallet_compute_jobs, ValidatorWorkers};
use aicchain_primitives::{
	datasets::CREDIT_SCORING_HASH, JobId, JobRequirements, ModelKind, NodeSpec, QuantisedMetrics,
	Region, SustainabilityPreference, TrainingSpec,
};
use core::cell::RefCell;
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU32, ConstU64},
};
use sp_core::H256;
use sp_runtime::{BuildStorage, Perbill, Percent};

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = u64;
pub type Balance = u128;

pub const USER: AccountId = 1;
pub const POOR_USER: AccountId = 2;
/// Providers (node owners) and their nodes' worker keys.
pub const SOLAR_A: AccountId = 11;
pub const SOLAR_B: AccountId = 12;
pub const GRID: AccountId = 13;
pub const SOLAR_A_WORKER: AccountId = 21;
pub const SOLAR_B_WORKER: AccountId = 22;
pub const GRID_WORKER: AccountId = 23;
/// Validators' worker keys.
pub const V1: AccountId = 31;
pub const V2: AccountId = 32;
pub const V3: AccountId = 33;
pub const OUTSIDER: AccountId = 99;
pub const FUND: AccountId = 1_000;

pub const UNIT: Balance = 1_000_000;
pub const BOND: Balance = 1_000 * UNIT;
pub const INITIAL: Balance = 100_000 * UNIT;
pub const FUND_INITIAL: Balance = 10_000 * UNIT;
pub const PROPOSAL_WINDOW: u64 = 3;
pub const RESULT_TIMEOUT: u64 = 20;
/// Blocks per hour of a job's length, added to `RESULT_TIMEOUT`.
pub const BLOCKS_PER_HOUR: u64 = 2;
/// The longest a result is waited for.
pub const MAX_RESULT_TIMEOUT: u64 = 2_100;
/// Blocks from assignment to the result deadline of the demo job (10 hours).
pub const DEMO_RESULT_TIMEOUT: u64 = RESULT_TIMEOUT + 10 * BLOCKS_PER_HOUR;
/// Declines after which a job expires.
pub const MAX_DECLINES: u32 = 3;
/// Blocks after assignment during which a provider may decline.
pub const DECLINE_WINDOW: u64 = 5;
pub const ATTESTATION_WINDOW: u64 = 5;
/// Blocks a job waits in the queue unless it asks otherwise, and the most it may ask.
pub const DEFAULT_QUEUE_WAIT: u64 = 20;
pub const MAX_QUEUE_WAIT: u64 = 100;
/// The registry's price floor per GPU-hour.
pub const MIN_PRICE: Balance = UNIT / 100;
/// The least budget a job may hold.
pub const DATASET_DEPOSIT: Balance = 10 * UNIT;
pub const MIN_BUDGET: Balance = UNIT;
pub const FEDERATION_ROUND_WINDOW: u64 = 6;
pub const FEDERATION_RETENTION: u64 = 30;

thread_local! {
	static VALIDATORS: RefCell<Vec<AccountId>> = RefCell::new(vec![V1, V2, V3]);
}

/// The validator set of the mock: a thread-local list tests can change.
pub struct MockValidators;
impl MockValidators {
	pub fn set(workers: Vec<AccountId>) {
		VALIDATORS.with(|v| *v.borrow_mut() = workers);
	}
}
impl ValidatorWorkers<AccountId> for MockValidators {
	fn is_validator_worker(who: &AccountId) -> bool {
		VALIDATORS.with(|v| v.borrow().contains(who))
	}
	fn count() -> u32 {
		VALIDATORS.with(|v| v.borrow().len() as u32)
	}
	#[cfg(feature = "runtime-benchmarks")]
	fn add_for_benchmark(who: &AccountId) {
		VALIDATORS.with(|v| v.borrow_mut().push(*who));
	}
}

#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Test;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;
	#[runtime::pallet_index(1)]
	pub type Balances = pallet_balances;
	#[runtime::pallet_index(2)]
	pub type Registry = pallet_compute_registry;
	#[runtime::pallet_index(3)]
	pub type ComputeJobs = pallet_compute_jobs;
}

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<Balance>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = Balance;
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
	type ExistentialDeposit = frame_support::traits::ConstU128<1>;
}

parameter_types! {
	pub const NodeBond: Balance = BOND;
	pub const MinNodeBond: Balance = BOND / 2;
	pub const HeartbeatTimeout: u64 = 100;
	pub const UnbondingPeriod: u64 = 10;
	pub const CommunityFund: AccountId = FUND;
	pub const ProposalWindow: u64 = PROPOSAL_WINDOW;
	pub const ResultTimeout: u64 = RESULT_TIMEOUT;
	pub const AttestationWindow: u64 = ATTESTATION_WINDOW;
	pub const ProviderShare: Perbill = Perbill::from_percent(90);
	pub const RenewableBonus: Perbill = Perbill::from_percent(5);
	pub const BelowMinimumPayout: Perbill = Perbill::from_percent(50);
	pub const SlashOnFailure: Perbill = Perbill::from_percent(10);
	/// Registry bounds a test may raise (thread-local): the worker's transaction cap is tested
	/// with more local nodes than the other tests need.
	pub static MaxNodes: u32 = 16;
	pub static MaxNodesPerClass: u32 = 8;
}

impl pallet_compute_registry::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type NodeBond = NodeBond;
	type MinNodeBond = MinNodeBond;
	type MaxNodes = MaxNodes;
	type MaxNodesPerOwner = ConstU32<4>;
	type MaxNodesPerClass = MaxNodesPerClass;
	type MaxJobsPerNode = ConstU32<2>;
	type MinPricePerGpuHour = frame_support::traits::ConstU128<MIN_PRICE>;
	type HeartbeatTimeout = HeartbeatTimeout;
	type UnbondingPeriod = UnbondingPeriod;
	type WeightInfo = ();
}

impl pallet_compute_jobs::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Validators = MockValidators;
	type CommunityFund = CommunityFund;
	type Subsidies = ();
	type Rewards = RecordingRewards;
	type Models = RecordingModels;
	type MinJobBudget = frame_support::traits::ConstU128<MIN_BUDGET>;
	type MinJobGpus = ConstU32<4>;
	type MaxJobGpus = ConstU32<16>;
	type MinBandwidthMbps = ConstU32<50>;
	type MaxBandwidthMbps = ConstU32<200>;
	type MinLatencyMs = ConstU32<5>;
	type MaxLatencyMs = ConstU32<20>;
	type MaxGpuHours = ConstU32<1_000>;
	type MaxValidators = ConstU32<8>;
	type MaxDeadlinesPerBlock = ConstU32<4>;
	type MaxFallbackCandidates = ConstU32<8>;
	type DefaultQueueWait = ConstU64<DEFAULT_QUEUE_WAIT>;
	type MaxQueueWait = ConstU64<MAX_QUEUE_WAIT>;
	type MaxQueuedJobs = ConstU32<16>;
	type MaxQueueScan = ConstU32<4>;
	type ProposalWindow = ProposalWindow;
	type ResultTimeout = ResultTimeout;
	type BlocksPerHour = frame_support::traits::ConstU64<BLOCKS_PER_HOUR>;
	type MaxResultTimeout = frame_support::traits::ConstU64<MAX_RESULT_TIMEOUT>;
	type MaxDeclines = ConstU32<MAX_DECLINES>;
	type DeclineWindow = frame_support::traits::ConstU64<DECLINE_WINDOW>;
	type DatasetOrigin = frame_system::EnsureRoot<AccountId>;
	type DatasetDeposit = frame_support::traits::ConstU128<DATASET_DEPOSIT>;
	type AttestationWindow = AttestationWindow;
	type JobRetention = frame_support::traits::ConstU64<50>;
	type MaxPrunePerBlock = ConstU32<4>;
	type ProviderShare = ProviderShare;
	type RenewableBonus = RenewableBonus;
	type BelowMinimumPayout = BelowMinimumPayout;
	type SlashOnFailure = SlashOnFailure;
	type EnergyPerGpuHourWh = ConstU32<400>;
	type ReferenceGridIntensity = ConstU32<475>;
	type MaxFederationProviders = ConstU32<5>;
	type MaxFederationRounds = ConstU32<5>;
	type MaxFederations = ConstU32<4>;
	type FederationRoundWindow = ConstU64<FEDERATION_ROUND_WINDOW>;
	type FederationRetention = ConstU64<FEDERATION_RETENTION>;
	type WorkerSigner = RecordingSigner;
	type WeightInfo = ();
}

/// Fund rewards recorded: (provider, verifiers, amount).
type RewardLog = Vec<(Option<AccountId>, Vec<AccountId>, Balance)>;

thread_local! {
	static REWARDS: RefCell<RewardLog> =
		const { RefCell::new(Vec::new()) };
	/// Every recorded result (version ids are positions) and how many `take` returned.
	static VERSIONS: RefCell<(Vec<aicchain_primitives::VerifiedTraining<AccountId, Balance>>, usize)> =
		const { RefCell::new((Vec::new(), 0)) };
}

/// Records every verified training result settlement hands the model registry.
pub struct RecordingModels;
impl RecordingModels {
	/// The results recorded since the last call.
	pub fn take() -> Vec<aicchain_primitives::VerifiedTraining<AccountId, Balance>> {
		VERSIONS.with(|v| {
			let (all, taken) = &mut *v.borrow_mut();
			let new = all.get(*taken..).unwrap_or_default().to_vec();
			*taken = all.len();
			new
		})
	}
	/// Forgets every version (version ids are positions in the record, each private to its
	/// trainer).
	pub fn reset() {
		VERSIONS.with(|v| *v.borrow_mut() = (Vec::new(), 0));
	}
	fn version(
		id: aicchain_primitives::VersionId,
	) -> Option<aicchain_primitives::VerifiedTraining<AccountId, Balance>> {
		VERSIONS.with(|v| usize::try_from(id).ok().and_then(|i| v.borrow().0.get(i).cloned()))
	}
}
impl aicchain_primitives::VerifiedModels<AccountId, Balance> for RecordingModels {
	fn record(result: aicchain_primitives::VerifiedTraining<AccountId, Balance>) {
		VERSIONS.with(|v| v.borrow_mut().0.push(result));
	}
	fn record_weight() -> frame_support::weights::Weight {
		frame_support::weights::Weight::zero()
	}
	fn relay_parent(
		who: &AccountId,
		parent: aicchain_primitives::VersionId,
	) -> Result<aicchain_primitives::RelayParent, aicchain_primitives::RelayRefusal> {
		let version =
			Self::version(parent).ok_or(aicchain_primitives::RelayRefusal::UnknownParent)?;
		if version.trainer != *who {
			return Err(aicchain_primitives::RelayRefusal::NotFetchable);
		}
		Ok(aicchain_primitives::RelayParent { spec: version.spec, model_hash: version.model_hash })
	}
	fn relay_parent_weight() -> frame_support::weights::Weight {
		frame_support::weights::Weight::zero()
	}
	fn model_hash(version: aicchain_primitives::VersionId) -> Option<H256> {
		Self::version(version).map(|v| v.model_hash)
	}
}

/// Records every AICG reward settlement asks for: (provider, verifiers, AICC kept by the fund).
pub struct RecordingRewards;
impl RecordingRewards {
	pub fn take() -> Vec<(Option<AccountId>, Vec<AccountId>, Balance)> {
		REWARDS.with(|r| core::mem::take(&mut *r.borrow_mut()))
	}
}
impl aicchain_primitives::ContributionRewards<AccountId, Balance> for RecordingRewards {
	fn reward(provider: Option<&AccountId>, verifiers: &[AccountId], kept_by_fund: Balance) {
		REWARDS
			.with(|r| r.borrow_mut().push((provider.copied(), verifiers.to_vec(), kept_by_fund)));
	}
}

thread_local! {
	static LOCAL_KEYS: RefCell<Vec<AccountId>> = const { RefCell::new(Vec::new()) };
	static SUBMITTED: RefCell<Vec<(AccountId, RuntimeCall)>> = const { RefCell::new(Vec::new()) };
}

/// The off-chain worker's signer in tests: a settable list of local keys, and a record of
/// every call it was asked to sign and submit.
pub struct RecordingSigner;
impl RecordingSigner {
	pub fn set_local_keys(keys: Vec<AccountId>) {
		LOCAL_KEYS.with(|k| *k.borrow_mut() = keys);
	}
	/// Everything submitted since the last call.
	pub fn take_submitted() -> Vec<(AccountId, RuntimeCall)> {
		SUBMITTED.with(|s| core::mem::take(&mut *s.borrow_mut()))
	}
}
impl<C> crate::WorkerSigner<AccountId, C> for RecordingSigner
where
	RuntimeCall: From<C>,
{
	fn local_accounts() -> Vec<AccountId> {
		LOCAL_KEYS.with(|k| k.borrow().clone())
	}
	fn submit(account: &AccountId, call: C) -> bool {
		SUBMITTED.with(|s| s.borrow_mut().push((*account, call.into())));
		true
	}
}

/// A node spec: `gpus` GPUs, 150 Mbps, 10 ms, `price` per GPU-hour.
pub fn spec(gpus: u32, price: Balance, renewable: u8, carbon: u32) -> NodeSpec<Balance> {
	NodeSpec {
		gpu_count: gpus,
		gpu_memory_gib: 80,
		bandwidth_mbps: 150,
		latency_ms: 10,
		region: Region::truncate_from(b"eu-west".to_vec()),
		renewable_share: Percent::from_percent(renewable),
		carbon_intensity: carbon,
		price_per_gpu_hour: price,
	}
}

/// The seed demo's job: 8 GPUs, 100 Mbps, 15 ms, 10 hours, credit-scoring MLP (a dataset the
/// mock's genesis registers).
pub fn demo_requirements() -> JobRequirements {
	JobRequirements {
		gpus: 8,
		min_bandwidth_mbps: 100,
		max_latency_ms: 15,
		gpu_hours: 10,
		sustainability: SustainabilityPreference::PreferRenewable,
		training: Some(TrainingSpec {
			dataset: H256(CREDIT_SCORING_HASH),
			model: ModelKind::MlpClassifier,
			hidden_units: 32,
			hidden_layers: 2,
			learning_rate_millionths: 1_000,
			epochs: 20,
			seed: 7,
			min_score: Default::default(),
			parent: None,
		}),
	}
}

pub fn metrics() -> QuantisedMetrics {
	QuantisedMetrics {
		score: Perbill::from_percent(87),
		loss_millionths: 310_000,
		eval_samples: 200,
	}
}

#[derive(Default)]
pub struct ExtBuilder;

impl ExtBuilder {
	pub fn build(self) -> sp_io::TestExternalities {
		MockValidators::set(vec![V1, V2, V3]);
		RecordingSigner::set_local_keys(Vec::new());
		RecordingSigner::take_submitted();
		RecordingRewards::take();
		RecordingModels::reset();
		let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		pallet_balances::GenesisConfig::<Test> {
			balances: vec![
				(USER, INITIAL),
				(POOR_USER, 10 * UNIT),
				(SOLAR_A, INITIAL),
				(SOLAR_B, INITIAL),
				(GRID, INITIAL),
				(V1, INITIAL),
				(V2, INITIAL),
				(V3, INITIAL),
				(OUTSIDER, INITIAL),
				(FUND, FUND_INITIAL),
			],
			..Default::default()
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		pallet_compute_jobs::GenesisConfig::<Test> {
			datasets: aicchain_primitives::datasets::shipped(),
			..Default::default()
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		let mut ext = sp_io::TestExternalities::new(storage);
		ext.execute_with(|| System::set_block_number(1));
		ext
	}

	/// Like `build_and_execute`, with the off-chain worker's extensions (HTTP, local storage)
	/// whose state `test` gets to script engine responses.
	pub fn build_and_execute_offchain(self, test: impl FnOnce(OffchainState)) {
		use sp_core::offchain::{testing::TestOffchainExt, OffchainDbExt, OffchainWorkerExt};
		let (offchain, state) = TestOffchainExt::new();
		let mut ext = self.build();
		ext.register_extension(OffchainWorkerExt::new(offchain.clone()));
		ext.register_extension(OffchainDbExt::new(offchain));
		ext.execute_with(|| {
			test(state);
			Registry::do_try_state().expect("registry invariants hold");
			ComputeJobs::do_try_state().expect("jobs invariants hold");
		});
	}

	/// Runs `test`, then both pallets' invariants and a check that no AICC was minted or burnt.
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			let issuance = pallet_balances::TotalIssuance::<Test>::get();
			test();
			Registry::do_try_state().expect("registry invariants hold");
			ComputeJobs::do_try_state().expect("jobs invariants hold");
			assert_eq!(
				pallet_balances::TotalIssuance::<Test>::get(),
				issuance,
				"total issuance changed"
			);
		});
	}
}

/// Advances to block `n`, running `on_initialize` of the jobs pallet on the way.
/// `worker` publishes the standard result of `job`: model hash `0x09…`, [`metrics`], and the
/// commitment the job's schedule asks for (root `0x07…`).
pub fn publish_result(worker: AccountId, job: JobId) -> sp_runtime::DispatchResult {
	let commitment = ComputeJobs::expected_commitment(job, H256::repeat_byte(7));
	ComputeJobs::submit_result(
		RuntimeOrigin::signed(worker),
		job,
		H256::repeat_byte(9),
		metrics(),
		commitment,
	)
}

pub fn run_to_block(n: u64) {
	use frame_support::traits::Hooks;
	while System::block_number() < n {
		let now = System::block_number();
		// As `frame_system` does when a block starts: the parent's hash becomes known.
		frame_system::BlockHash::<Test>::insert(now, H256::from_low_u64_be(0xb10c_0000 + now));
		let next = now + 1;
		System::set_block_number(next);
		ComputeJobs::on_initialize(next);
	}
}

/// The scripted off-chain state of a worker test (HTTP requests and their responses).
pub type OffchainState =
	std::sync::Arc<parking_lot::RwLock<sp_core::offchain::testing::OffchainState>>;

/// Points the off-chain worker at the scripted engine.
pub fn configure_engine() {
	sp_runtime::offchain::storage::StorageValueRef::persistent(crate::ENGINE_URL_KEY)
		.set(&b"http://engine".to_vec());
}

/// The engine answers `request` with `response` (requests must come in this order).
pub fn expect(
	state: &OffchainState,
	request: aicchain_primitives::engine_api::EngineRequest,
	response: aicchain_primitives::engine_api::EngineResponse,
) {
	use codec::Encode;
	state.write().expect_request(sp_core::offchain::testing::PendingRequest {
		method: "POST".into(),
		uri: "http://engine/ocw".into(),
		headers: vec![("Content-Type".into(), "application/octet-stream".into())],
		body: request.encode(),
		response: Some(response.encode()),
		sent: true,
		..Default::default()
	});
}
