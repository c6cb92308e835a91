//! A runtime for the inference pallet's tests: System, Balances, the real model registry and
//! the pallet; accounts are sr25519 keys (users sign vouchers), nodes a thread-local table.

use crate::{self as pallet_inference, VoucherOf};
use aicchain_primitives::{
	inference::query_hash, InferenceNodes, NodeId, VerifiedModels, VersionId, Voucher,
};
use core::cell::RefCell;
use frame_support::{
	derive_impl, parameter_types,
	traits::{fungible::Mutate, ConstU128, ConstU32, ConstU64},
	PalletId,
};
use sp_core::{sr25519, Pair};
use sp_runtime::{traits::IdentityLookup, AccountId32, BuildStorage, MultiSignature, Perbill};
use std::collections::BTreeMap;

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = AccountId32;
pub type Balance = u128;

pub const ED: Balance = 10;
pub const INITIAL: Balance = 1_000_000;
pub const BOND: Balance = 5_000;
pub const PRICE: Balance = 1_003;
pub const CLOSE_DELAY: u64 = 10;
pub const ANSWER_WINDOW: u64 = 5;
pub const CHALLENGE_DEPOSIT: Balance = 500;
pub const MAX_BATCH: u32 = 128;
pub const MAX_CONTRIBUTORS: u32 = 3;
/// Nodes 0 and 1 belong to the provider, node 2 to the other provider.
pub const NODE: NodeId = 0;
pub const OTHER_NODE: NodeId = 2;

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
	pub type ModelRegistry = pallet_model_registry;
	#[runtime::pallet_index(3)]
	pub type Inference = pallet_inference;
}

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountId = AccountId;
	type Lookup = IdentityLookup<AccountId>;
	type AccountData = pallet_balances::AccountData<Balance>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = Balance;
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
	type ExistentialDeposit = ConstU128<ED>;
}

impl pallet_model_registry::Config for Test {
	type Balance = Balance;
	type MaxNameLength = ConstU32<8>;
	type MaxAllowed = ConstU32<4>;
	type MaxLineage = ConstU32<16>;
	type WeightInfo = ();
}

pub fn key(name: &str) -> sr25519::Pair {
	sr25519::Pair::from_string(&format!("//{name}"), None).expect("a dev key")
}
pub fn account(name: &str) -> AccountId {
	key(name).public().into()
}
pub fn user() -> AccountId {
	account("User")
}
pub fn provider() -> AccountId {
	account("Provider")
}
pub fn other_provider() -> AccountId {
	account("OtherProvider")
}
pub fn trainer() -> AccountId {
	account("Trainer")
}
pub fn relayer() -> AccountId {
	account("Relayer")
}
pub fn fund() -> AccountId {
	account("Fund")
}

thread_local! {
	/// Node id -> (owner, bond).
	static NODES: RefCell<BTreeMap<NodeId, (AccountId, Balance)>> = const { RefCell::new(BTreeMap::new()) };
}

/// Nodes of the mock: owners and bonds; a slash moves bond (kept in the owner's free balance
/// here) to the beneficiary.
pub struct MockNodes;
impl MockNodes {
	pub fn bond(node: NodeId) -> Balance {
		NODES.with(|n| n.borrow().get(&node).map(|(_, b)| *b).unwrap_or(0))
	}
}
impl InferenceNodes<AccountId, Balance> for MockNodes {
	fn owner(node: NodeId) -> Option<AccountId> {
		NODES.with(|n| n.borrow().get(&node).map(|(o, _)| o.clone()))
	}
	fn slash(node: NodeId, amount: Balance, to: &AccountId) -> Balance {
		NODES.with(|n| {
			let mut nodes = n.borrow_mut();
			let Some((owner, bond)) = nodes.get_mut(&node) else { return 0 };
			let amount = amount.min(*bond);
			let moved = <Balances as Mutate<AccountId>>::transfer(
				owner,
				to,
				amount,
				frame_support::traits::tokens::Preservation::Preserve,
			)
			.map(|_| amount)
			.unwrap_or(0);
			*bond -= moved;
			moved
		})
	}
	#[cfg(feature = "runtime-benchmarks")]
	fn benchmark_node(owner: AccountId) -> NodeId {
		NODES.with(|n| {
			let mut nodes = n.borrow_mut();
			let id = nodes.keys().last().map_or(0, |k| k + 1);
			nodes.insert(id, (owner, BOND));
			id
		})
	}
}

parameter_types! {
	pub const InferencePalletId: PalletId = PalletId(*b"aic/infr");
	pub FundAccount: AccountId = fund();
	pub const FundShare: Perbill = Perbill::from_percent(10);
	pub const ContributorShare: Perbill = Perbill::from_percent(30);
}

impl pallet_inference::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Signature = MultiSignature;
	type Signer = sp_runtime::MultiSigner;
	type Models = ModelRegistry;
	type Nodes = MockNodes;
	type CommunityFund = FundAccount;
	type PalletId = InferencePalletId;
	type FundShare = FundShare;
	type ContributorShare = ContributorShare;
	type MaxContributors = ConstU32<MAX_CONTRIBUTORS>;
	type MaxBatch = ConstU32<MAX_BATCH>;
	type MaxServers = ConstU32<2>;
	type MinChannelDeposit = ConstU128<1_000>;
	type CloseDelay = ConstU64<CLOSE_DELAY>;
	type ChallengeDeposit = ConstU128<CHALLENGE_DEPOSIT>;
	type AnswerWindow = ConstU64<ANSWER_WINDOW>;
	type MaxQueryLen = ConstU32<64>;
	type MaxAnswerLen = ConstU32<64>;
	type WeightInfo = ();
}

pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	let accounts = [user(), provider(), other_provider(), trainer(), relayer(), fund()];
	let mut balances: Vec<(AccountId, Balance)> =
		accounts.into_iter().map(|a| (a, INITIAL)).collect();
	balances.push((Inference::account_id(), ED));
	pallet_balances::GenesisConfig::<Test> { balances, ..Default::default() }
		.assimilate_storage(&mut storage)
		.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.register_extension(sp_keystore::KeystoreExt::new(
		sp_keystore::testing::MemoryKeystore::new(),
	));
	ext.execute_with(|| {
		System::set_block_number(1);
		NODES.with(|n| {
			let mut nodes = n.borrow_mut();
			nodes.clear();
			nodes.insert(0, (provider(), BOND));
			nodes.insert(1, (provider(), BOND));
			nodes.insert(OTHER_NODE, (other_provider(), BOND));
		});
	});
	ext
}

/// Runs `test`, then checks the pallet's and the registry's invariants.
pub fn build_and_execute(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		test();
		Inference::do_try_state().expect("inference invariants hold");
		ModelRegistry::do_try_state().expect("registry invariants hold");
	});
}

/// Records a verified result of job `job` paid by `trainer` at `cost`, continuing `parent`:
/// returns its version id.
pub fn train(job: u64, who: AccountId, cost: Balance, parent: Option<VersionId>) -> VersionId {
	let mut result = pallet_model_registry::fixtures::verified::<AccountId, Balance>(
		job,
		who,
		provider(),
		parent,
	);
	result.cost = cost;
	let next = pallet_model_registry::NextVersionId::<Test>::get();
	ModelRegistry::record(result);
	next
}

/// The input bytes of query `i`.
pub fn input(i: u32) -> Vec<u8> {
	[&i.to_le_bytes()[..], b"features"].concat()
}

/// A voucher `signer` signs for query `i` at `nonce`, for `node` and `version`.
pub fn voucher(
	signer: &sr25519::Pair,
	node: NodeId,
	version: VersionId,
	nonce: u64,
	price: Balance,
) -> (VoucherOf<Test>, MultiSignature) {
	let v = Voucher {
		user: user(),
		node,
		version,
		nonce,
		price,
		query: query_hash(&input(nonce as u32)),
	};
	let genesis = System::block_hash(0);
	let signature = MultiSignature::from(signer.sign(&v.signing_payload(&genesis)));
	(v, signature)
}

pub fn run_to_block(n: u64) {
	System::set_block_number(n);
}
