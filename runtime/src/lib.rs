//! # AICChain runtime
//!
//! The FRAME runtime of AICChain, a blockchain for a decentralized AI compute market.
//!
//! Pallet names below are the public API that Polkadot.js users see:
//! - `Balances`: AICC, the native currency (fees, job escrow, payments, provider bonds);
//! - `Aicg`: AICG, the governance token, a second `pallet-balances` instance;
//! - `ValidatorSet` and `Session`: who validates; root adds and removes validators, the change
//!   applies at a session boundary, with each validator's Aura, GRANDPA and worker keys;
//! - consensus (`Aura`, `Grandpa`), `Timestamp`, `TransactionPayment` and `Sudo`.

#![cfg_attr(not(feature = "std"), no_std)]
// `construct_runtime`-style macros expand to a large number of items.
#![recursion_limit = "256"]

#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

extern crate alloc;

use alloc::vec::Vec;

// Defines `list_benchmarks!`/`add_benchmarks!` for the `Benchmark` runtime API in `apis`.
#[cfg(feature = "runtime-benchmarks")]
#[macro_use]
mod benches {
	frame_benchmarking::define_benchmarks!(
		[frame_system, SystemBench::<Runtime>]
		[pallet_balances, Balances]
		[pallet_compute_registry, ComputeRegistry]
		[pallet_compute_jobs, ComputeJobs]
		[pallet_community_fund, CommunityFund]
		[pallet_validator_set, ValidatorSet]
		[pallet_model_registry, ModelRegistry]
		[pallet_inference, Inference]
	);
}

#[cfg(feature = "runtime-benchmarks")]
impl frame_system_benchmarking::Config for Runtime {}

pub mod apis;
pub mod configs;
pub mod genesis;
pub mod offchain;

use sp_runtime::{
	generic, impl_opaque_keys,
	traits::{BlakeTwo256, IdentifyAccount, Verify},
	MultiAddress, MultiSignature,
};
use sp_version::{runtime_version, RuntimeVersion};

pub use configs::{community_fund_account, inference_account, AicgInstance, RuntimeBlockWeights};
pub use frame_system::Call as SystemCall;
pub use pallet_balances::Call as BalancesCall;
#[cfg(any(feature = "std", test))]
pub use sp_runtime::BuildStorage;

/// Block number.
pub type BlockNumber = u32;
/// Signatures accepted in transactions: sr25519, ed25519 or ecdsa.
pub type Signature = MultiSignature;
/// An account is identified by the public key of its signing scheme.
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;
/// Balance of an account, in the smallest unit (12 decimals), for AICC and AICG alike.
pub type Balance = u128;
/// Transaction counter of an account.
pub type Nonce = u32;
/// Block and state hash.
pub type Hash = sp_core::H256;

/// Token metadata, also published as chain properties in the chain spec.
pub mod currency {
	use super::Balance;

	/// Symbol of the native token.
	pub const TOKEN_SYMBOL: &str = "AICC";
	/// Symbol of the governance token.
	pub const GOVERNANCE_TOKEN_SYMBOL: &str = "AICG";
	/// Decimals of both tokens.
	pub const TOKEN_DECIMALS: u8 = 12;
	/// SS58 address format (42: the generic Substrate prefix).
	pub const SS58_FORMAT: u16 = 42;

	/// One whole AICC (or AICG).
	pub const UNIT: Balance = 1_000_000_000_000;
	pub const MILLI_UNIT: Balance = UNIT / 1_000;
	pub const MICRO_UNIT: Balance = UNIT / 1_000_000;

	/// Smallest balance an AICC account may hold.
	pub const EXISTENTIAL_DEPOSIT: Balance = MILLI_UNIT;
	/// Smallest balance an AICG account may hold.
	pub const AICG_EXISTENTIAL_DEPOSIT: Balance = MILLI_UNIT;
}

/// Types the node needs without knowing the runtime's extrinsic format.
pub mod opaque {
	use super::*;

	pub use sp_runtime::OpaqueExtrinsic as UncheckedExtrinsic;

	/// Opaque block header type.
	pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
	/// Opaque block type.
	pub type Block = generic::Block<Header, UncheckedExtrinsic>;
	/// Opaque block identifier type.
	pub type BlockId = generic::BlockId<Block>;
}

impl_opaque_keys! {
	/// Session keys of a validator: block production, finality and its compute worker.
	pub struct SessionKeys {
		pub aura: Aura,
		pub grandpa: Grandpa,
		/// The compute worker key (`aicc`): signs proposals and attestations.
		pub worker: ValidatorSet,
	}
}

#[runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: alloc::borrow::Cow::Borrowed("aicchain"),
	impl_name: alloc::borrow::Cow::Borrowed("aicchain"),
	authoring_version: 1,
	spec_version: 115,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	transaction_version: 1,
	system_version: 1,
};

/// Target block time. Slot duration cannot change once the chain has started.
pub const MILLISECS_PER_BLOCK: u64 = 6000;
pub const SLOT_DURATION: u64 = MILLISECS_PER_BLOCK;

// Time measured in blocks.
pub const MINUTES: BlockNumber = 60_000 / (MILLISECS_PER_BLOCK as BlockNumber);
pub const HOURS: BlockNumber = MINUTES * 60;
pub const DAYS: BlockNumber = HOURS * 24;

/// The address format for describing accounts.
pub type Address = MultiAddress<AccountId, ()>;
/// Block header type as expected by this runtime.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
/// Block type as expected by this runtime.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;

/// Transaction extensions, in the order they are checked. All of them are known to
/// Polkadot.js, so clients need no custom type definitions.
pub type TxExtension = (
	frame_system::CheckNonZeroSender<Runtime>,
	frame_system::CheckSpecVersion<Runtime>,
	frame_system::CheckTxVersion<Runtime>,
	frame_system::CheckGenesis<Runtime>,
	frame_system::CheckEra<Runtime>,
	frame_system::CheckNonce<Runtime>,
	frame_system::CheckWeight<Runtime>,
	pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
);

/// Unchecked extrinsic type as expected by this runtime.
pub type UncheckedExtrinsic =
	generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;
/// The payload being signed in transactions.
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;

/// Migrations to run on runtime upgrade, besides the pallets' own.
type Migrations = ();

/// Dispatches calls to the pallets.
pub type Executive = frame_executive::Executive<
	Runtime,
	Block,
	frame_system::ChainContext<Runtime>,
	Runtime,
	AllPalletsWithSystem,
	Migrations,
>;

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
	pub struct Runtime;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;

	#[runtime::pallet_index(1)]
	pub type Timestamp = pallet_timestamp;

	/// Who validates: root adds and removes validators, applied at session boundaries.
	#[runtime::pallet_index(11)]
	pub type ValidatorSet = pallet_validator_set;

	/// Sessions: validators' keys (block production, finality, compute worker) per session.
	#[runtime::pallet_index(12)]
	pub type Session = pallet_session;

	#[runtime::pallet_index(2)]
	pub type Aura = pallet_aura;

	#[runtime::pallet_index(3)]
	pub type Grandpa = pallet_grandpa;

	/// AICC, the native currency.
	#[runtime::pallet_index(4)]
	pub type Balances = pallet_balances;

	/// AICG, the governance token.
	#[runtime::pallet_index(5)]
	pub type Aicg = pallet_balances<Instance1>;

	#[runtime::pallet_index(6)]
	pub type TransactionPayment = pallet_transaction_payment;

	#[runtime::pallet_index(7)]
	pub type Sudo = pallet_sudo;

	/// Compute nodes, their bonds, liveness and reputation.
	#[runtime::pallet_index(8)]
	pub type ComputeRegistry = pallet_compute_registry;

	/// AI jobs: escrow, assignment, results, verification and settlement.
	#[runtime::pallet_index(9)]
	pub type ComputeJobs = pallet_compute_jobs;

	/// The community fund: AICG-voted subsidies and AICG rewards.
	#[runtime::pallet_index(10)]
	pub type CommunityFund = pallet_community_fund;

	/// Models: every verified training result as a version, with lineage and access control.
	#[runtime::pallet_index(13)]
	pub type ModelRegistry = pallet_model_registry;

	/// Paid inference on model versions, and dividends to their lineages.
	#[runtime::pallet_index(14)]
	pub type Inference = pallet_inference;
}

#[cfg(test)]
mod attack_tests;
#[cfg(test)]
mod offchain_tests;
#[cfg(test)]
mod session_tests;
#[cfg(test)]
mod tests;
