//! A small runtime for the registry's tests: System, Balances and the registry.

use crate as pallet_compute_registry;
use aicchain_primitives::{NodeSpec, Region};
use frame_support::{derive_impl, parameter_types, traits::ConstU32};
use sp_runtime::{BuildStorage, Percent};

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = u64;
pub type Balance = u128;
/// The price floor per GPU-hour.
pub const MIN_PRICE: Balance = 10;

pub const ALICE: AccountId = 1;
pub const BOB: AccountId = 2;
pub const CHARLIE: AccountId = 3;
/// Has less than one bond.
pub const POOR: AccountId = 9;
pub const ALICE_WORKER: AccountId = 101;

pub const BOND: Balance = 1_000;
/// Half the bond, as in the runtime.
pub const MIN_BOND: Balance = BOND / 2;
pub const INITIAL_BALANCE: Balance = 100_000;
pub const HEARTBEAT_TIMEOUT: u64 = 20;
pub const UNBONDING_PERIOD: u64 = 10;

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
}

parameter_types! {
	pub const NodeBond: Balance = BOND;
	pub const MinNodeBond: Balance = MIN_BOND;
	// Storage-backed, so that a test can raise them (`MaxNodes::set(&64)`).
	pub storage MaxNodes: u32 = 8;
	pub storage MaxNodesPerOwner: u32 = 3;
	pub storage MaxNodesPerClass: u32 = 4;
	pub const HeartbeatTimeout: u64 = HEARTBEAT_TIMEOUT;
	pub const UnbondingPeriod: u64 = UNBONDING_PERIOD;
}

impl pallet_compute_registry::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type NodeBond = NodeBond;
	type MinNodeBond = MinNodeBond;
	type MaxNodes = MaxNodes;
	type MaxNodesPerOwner = MaxNodesPerOwner;
	type MaxNodesPerClass = MaxNodesPerClass;
	type MaxJobsPerNode = ConstU32<2>;
	type MinPricePerGpuHour = frame_support::traits::ConstU128<MIN_PRICE>;
	type HeartbeatTimeout = HeartbeatTimeout;
	type UnbondingPeriod = UnbondingPeriod;
	type WeightInfo = ();
}

/// An 8-GPU solar node: meets the seed demo's job (8 GPUs, 100 Mbps, 15 ms).
pub fn spec(gpus: u32) -> NodeSpec<Balance> {
	NodeSpec {
		gpu_count: gpus,
		gpu_memory_gib: 80,
		bandwidth_mbps: 150,
		latency_ms: 10,
		region: Region::truncate_from(b"eu-west".to_vec()),
		renewable_share: Percent::from_percent(90),
		carbon_intensity: 40,
		price_per_gpu_hour: 100,
	}
}

/// Test externalities with funded accounts; `build_and_execute` checks invariants afterwards.
#[derive(Default)]
pub struct ExtBuilder;

impl ExtBuilder {
	pub fn build(self) -> sp_io::TestExternalities {
		let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		pallet_balances::GenesisConfig::<Test> {
			balances: vec![
				(ALICE, INITIAL_BALANCE),
				(BOB, INITIAL_BALANCE),
				(CHARLIE, INITIAL_BALANCE),
				(POOR, BOND / 2),
			],
			..Default::default()
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		let mut ext = sp_io::TestExternalities::new(storage);
		ext.execute_with(|| System::set_block_number(1));
		ext
	}

	/// Runs `test`, then the pallet's invariants and a check that no AICC was minted or burnt.
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			let issuance = pallet_balances::TotalIssuance::<Test>::get();
			test();
			Registry::do_try_state().expect("registry invariants hold");
			assert_eq!(
				pallet_balances::TotalIssuance::<Test>::get(),
				issuance,
				"total issuance changed"
			);
		});
	}
}

pub fn run_to_block(n: u64) {
	System::set_block_number(n);
}
