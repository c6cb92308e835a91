//! A runtime for the fund's tests: System, AICC (`Balances`), AICG (`Aicg`, a second balances
//! instance with its own ledger, as in the AICChain runtime) and the fund.

use crate as pallet_community_fund;
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU128, ConstU32, ConstU64, StorageMapShim},
	PalletId,
};
use sp_runtime::{BuildStorage, Perbill};

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = u64;
pub type Balance = u128;

pub const ALICE: AccountId = 1;
pub const BOB: AccountId = 2;
pub const CHARLIE: AccountId = 3;
/// Holds AICC but no AICG.
pub const NO_AICG: AccountId = 4;
pub const UNIT: Balance = 1_000_000;
pub const AICG_EACH: Balance = 1_000 * UNIT;
pub const DEPOSIT: Balance = 10 * UNIT;
pub const MIN_VOTE: Balance = UNIT / 2;
/// AICG minted per AICC the fund keeps.
pub const REWARD_RATE: u32 = 2;
pub const VOTING_PERIOD: u64 = 10;
/// Blocks per reward period.
pub const REWARD_PERIOD: u64 = 20;
/// Points (AICC the fund kept) to qualify for a period's pool.
pub const THRESHOLD: Balance = 10 * UNIT;
pub const FUND_START: Balance = 1_000 * UNIT;

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
	pub type Aicg = pallet_balances<Instance1>;
	#[runtime::pallet_index(3)]
	pub type Fund = pallet_community_fund;
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
	type RuntimeFreezeReason = RuntimeFreezeReason;
	type FreezeIdentifier = RuntimeFreezeReason;
	type MaxFreezes = ConstU32<4>;
	type ExistentialDeposit = ConstU128<1>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config<pallet_balances::Instance1> for Test {
	type Balance = Balance;
	type AccountStore = StorageMapShim<
		pallet_balances::Account<Test, pallet_balances::Instance1>,
		AccountId,
		pallet_balances::AccountData<Balance>,
	>;
	type RuntimeHoldReason = RuntimeHoldReason;
	type RuntimeFreezeReason = RuntimeFreezeReason;
	type FreezeIdentifier = RuntimeFreezeReason;
	type MaxFreezes = ConstU32<4>;
	type ExistentialDeposit = ConstU128<1>;
}

parameter_types! {
	pub const FundPalletId: PalletId = PalletId(*b"aic/fund");
	pub const ProposalDeposit: Balance = DEPOSIT;
	pub const VotingPeriod: u64 = VOTING_PERIOD;
	pub const Quorum: Perbill = Perbill::from_percent(10);
	pub const ApprovalThreshold: Perbill = Perbill::from_percent(50);
	pub const MaxSubsidyShare: Perbill = Perbill::from_percent(90);
	pub const VerifierRewardShare: sp_runtime::Perbill = sp_runtime::Perbill::from_percent(10);
	pub const MinVote: Balance = MIN_VOTE;
	pub const MaxAicgSupply: Balance = 3 * AICG_EACH + 100 * UNIT;
}

impl pallet_community_fund::Config for Test {
	type Currency = Balances;
	type GovernanceCurrency = Aicg;
	type RuntimeHoldReason = RuntimeHoldReason;
	type RuntimeFreezeReason = RuntimeFreezeReason;
	type PalletId = FundPalletId;
	type ProposalDeposit = ProposalDeposit;
	type VotingPeriod = VotingPeriod;
	type Quorum = Quorum;
	type ApprovalThreshold = ApprovalThreshold;
	type MaxSubsidyShare = MaxSubsidyShare;
	type MaxOpenProposals = ConstU32<3>;
	type MaxActiveSubsidies = ConstU32<2>;
	type MaxVoters = ConstU32<3>;
	type RewardRate = ConstU32<REWARD_RATE>;
	type VerifierRewardShare = VerifierRewardShare;
	type MinVote = MinVote;
	type MaxAicgSupply = MaxAicgSupply;
	type RewardPeriod = ConstU64<REWARD_PERIOD>;
	type ContributionThreshold = ConstU128<THRESHOLD>;
	type WeightInfo = ();
}

#[derive(Default)]
pub struct ExtBuilder;

impl ExtBuilder {
	pub fn build(self) -> sp_io::TestExternalities {
		let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		pallet_balances::GenesisConfig::<Test> {
			balances: vec![
				(ALICE, 1_000 * UNIT),
				(BOB, 1_000 * UNIT),
				(CHARLIE, 1_000 * UNIT),
				(NO_AICG, 1_000 * UNIT),
				(Fund::account_id(), FUND_START),
			],
			..Default::default()
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		pallet_balances::GenesisConfig::<Test, pallet_balances::Instance1> {
			balances: vec![(ALICE, AICG_EACH), (BOB, AICG_EACH), (CHARLIE, AICG_EACH)],
			..Default::default()
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		pallet_community_fund::GenesisConfig::<Test>::default()
			.assimilate_storage(&mut storage)
			.unwrap();
		let mut ext = sp_io::TestExternalities::new(storage);
		ext.execute_with(|| System::set_block_number(1));
		ext
	}

	/// Runs `test`, then the fund's invariants and a check that no AICC was minted or burnt.
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			let issuance = pallet_balances::TotalIssuance::<Test>::get();
			test();
			Fund::do_try_state().expect("fund invariants hold");
			assert_eq!(
				pallet_balances::TotalIssuance::<Test>::get(),
				issuance,
				"AICC issuance changed"
			);
		});
	}
}

pub fn run_to_block(n: u64) {
	use frame_support::traits::Hooks;
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		Fund::on_initialize(next);
	}
}
