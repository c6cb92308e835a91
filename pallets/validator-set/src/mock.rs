//! A runtime for the validator set's tests: System and the pallet; accounts 1..=9 have session
//! keys, account 10 has none; genesis validators 1, 2 and 3; worker keys are `UintAuthorityId`s.

use crate as pallet_validator_set;
use frame_support::{derive_impl, traits::ConstU32};
use frame_system::EnsureRoot;
use sp_runtime::{testing::UintAuthorityId, BuildStorage};

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = u64;

/// Has no session keys.
pub const KEYLESS: AccountId = 10;
pub const MIN_VALIDATORS: u32 = 2;
pub const MAX_VALIDATORS: u32 = 4;

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
	pub type ValidatorSet = pallet_validator_set;
}

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
}

/// Accounts below [`KEYLESS`] have session keys; benchmarks' accounts get them on request.
pub struct MockKeys;

thread_local! {
	static BENCH_KEYS: core::cell::RefCell<Vec<AccountId>> = const { core::cell::RefCell::new(Vec::new()) };
}

impl crate::SessionKeysOf<AccountId> for MockKeys {
	fn has_keys(who: &AccountId) -> bool {
		*who < KEYLESS || BENCH_KEYS.with(|k| k.borrow().contains(who))
	}
	#[cfg(feature = "runtime-benchmarks")]
	fn set_keys_for_benchmark(who: &AccountId) {
		BENCH_KEYS.with(|k| k.borrow_mut().push(*who));
	}
}

impl pallet_validator_set::Config for Test {
	type WorkerKey = UintAuthorityId;
	type ManagerOrigin = EnsureRoot<AccountId>;
	type SessionKeys = MockKeys;
	type MinValidators = ConstU32<MIN_VALIDATORS>;
	type MaxValidators = ConstU32<MAX_VALIDATORS>;
	type WeightInfo = ();
}

pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_validator_set::GenesisConfig::<Test> { validators: vec![1, 2, 3] }
		.assimilate_storage(&mut storage)
		.unwrap();
	let mut ext: sp_io::TestExternalities = storage.into();
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// Runs a test and then the pallet's invariants.
pub fn test(f: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		f();
		ValidatorSet::do_try_state().expect("invariants hold");
	});
}
