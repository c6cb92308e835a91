//! The runtime APIs the node, Polkadot.js and other clients call.

use alloc::vec::Vec;
use frame_support::{
	genesis_builder_helper::{build_state, get_preset},
	weights::Weight,
};
use pallet_grandpa::AuthorityId as GrandpaId;
use sp_api::impl_runtime_apis;
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_core::{crypto::KeyTypeId, OpaqueMetadata};
use sp_runtime::{
	traits::{Block as BlockT, NumberFor},
	transaction_validity::{TransactionSource, TransactionValidity},
	ApplyExtrinsicResult,
};
use sp_version::RuntimeVersion;

use super::{
	AccountId, Aura, Balance, Block, BlockNumber, CommunityFund, ComputeJobs, Executive, Grandpa,
	InherentDataExt, ModelRegistry, Nonce, Runtime, RuntimeCall, RuntimeGenesisConfig, SessionKeys,
	System, TransactionPayment, VERSION,
};

impl_runtime_apis! {
	impl sp_api::Core<Block> for Runtime {
		fn version() -> RuntimeVersion {
			VERSION
		}

		fn execute_block(block: <Block as BlockT>::LazyBlock) {
			Executive::execute_block(block);
		}

		fn initialize_block(header: &<Block as BlockT>::Header) -> sp_runtime::ExtrinsicInclusionMode {
			Executive::initialize_block(header)
		}
	}

	impl sp_api::Metadata<Block> for Runtime {
		fn metadata() -> OpaqueMetadata {
			OpaqueMetadata::new(Runtime::metadata().into())
		}

		fn metadata_at_version(version: u32) -> Option<OpaqueMetadata> {
			Runtime::metadata_at_version(version)
		}

		fn metadata_versions() -> Vec<u32> {
			Runtime::metadata_versions()
		}
	}

	impl sp_block_builder::BlockBuilder<Block> for Runtime {
		fn apply_extrinsic(extrinsic: <Block as BlockT>::Extrinsic) -> ApplyExtrinsicResult {
			Executive::apply_extrinsic(extrinsic)
		}

		fn finalize_block() -> <Block as BlockT>::Header {
			Executive::finalize_block()
		}

		fn inherent_extrinsics(data: sp_inherents::InherentData) -> Vec<<Block as BlockT>::Extrinsic> {
			data.create_extrinsics()
		}

		fn check_inherents(
			block: <Block as BlockT>::LazyBlock,
			data: sp_inherents::InherentData,
		) -> sp_inherents::CheckInherentsResult {
			data.check_extrinsics(&block)
		}
	}

	impl sp_transaction_pool::runtime_api::TaggedTransactionQueue<Block> for Runtime {
		fn validate_transaction(
			source: TransactionSource,
			tx: <Block as BlockT>::Extrinsic,
			block_hash: <Block as BlockT>::Hash,
		) -> TransactionValidity {
			Executive::validate_transaction(source, tx, block_hash)
		}
	}

	impl sp_offchain::OffchainWorkerApi<Block> for Runtime {
		fn offchain_worker(header: &<Block as BlockT>::Header) {
			Executive::offchain_worker(header)
		}
	}

	impl sp_consensus_aura::AuraApi<Block, AuraId> for Runtime {
		fn slot_duration() -> sp_consensus_aura::SlotDuration {
			sp_consensus_aura::SlotDuration::from_millis(Aura::slot_duration())
		}

		fn authorities() -> Vec<AuraId> {
			pallet_aura::Authorities::<Runtime>::get().into_inner()
		}
	}

	impl sp_session::SessionKeys<Block> for Runtime {
		fn generate_session_keys(
			owner: Vec<u8>,
			seed: Option<Vec<u8>>,
		) -> sp_session::OpaqueGeneratedSessionKeys {
			SessionKeys::generate(&owner, seed).into()
		}

		fn decode_session_keys(encoded: Vec<u8>) -> Option<Vec<(Vec<u8>, KeyTypeId)>> {
			SessionKeys::decode_into_raw_public_keys(&encoded)
		}
	}

	impl sp_consensus_grandpa::GrandpaApi<Block> for Runtime {
		fn grandpa_authorities() -> sp_consensus_grandpa::AuthorityList {
			Grandpa::grandpa_authorities()
		}

		fn current_set_id() -> sp_consensus_grandpa::SetId {
			Grandpa::current_set_id()
		}

		fn submit_report_equivocation_unsigned_extrinsic(
			_equivocation_proof: sp_consensus_grandpa::EquivocationProof<
				<Block as BlockT>::Hash,
				NumberFor<Block>,
			>,
			_key_owner_proof: sp_consensus_grandpa::OpaqueKeyOwnershipProof,
		) -> Option<()> {
			// Equivocation reports need a session-historical key-owner proof, which a
			// solochain without pallet-session does not have.
			None
		}

		fn generate_key_ownership_proof(
			_set_id: sp_consensus_grandpa::SetId,
			_authority_id: GrandpaId,
		) -> Option<sp_consensus_grandpa::OpaqueKeyOwnershipProof> {
			None
		}
	}

	impl frame_system_rpc_runtime_api::AccountNonceApi<Block, AccountId, Nonce> for Runtime {
		fn account_nonce(account: AccountId) -> Nonce {
			System::account_nonce(account)
		}
	}

	impl pallet_transaction_payment_rpc_runtime_api::TransactionPaymentApi<Block, Balance> for Runtime {
		fn query_info(
			uxt: <Block as BlockT>::Extrinsic,
			len: u32,
		) -> pallet_transaction_payment_rpc_runtime_api::RuntimeDispatchInfo<Balance> {
			TransactionPayment::query_info(uxt, len)
		}
		fn query_fee_details(
			uxt: <Block as BlockT>::Extrinsic,
			len: u32,
		) -> pallet_transaction_payment::FeeDetails<Balance> {
			TransactionPayment::query_fee_details(uxt, len)
		}
		fn query_weight_to_fee(weight: Weight) -> Balance {
			TransactionPayment::weight_to_fee(weight)
		}
		fn query_length_to_fee(length: u32) -> Balance {
			TransactionPayment::length_to_fee(length)
		}
	}

	impl pallet_transaction_payment_rpc_runtime_api::TransactionPaymentCallApi<Block, Balance, RuntimeCall>
		for Runtime
	{
		fn query_call_info(
			call: RuntimeCall,
			len: u32,
		) -> pallet_transaction_payment::RuntimeDispatchInfo<Balance> {
			TransactionPayment::query_call_info(call, len)
		}
		fn query_call_fee_details(
			call: RuntimeCall,
			len: u32,
		) -> pallet_transaction_payment::FeeDetails<Balance> {
			TransactionPayment::query_call_fee_details(call, len)
		}
		fn query_weight_to_fee(weight: Weight) -> Balance {
			TransactionPayment::weight_to_fee(weight)
		}
		fn query_length_to_fee(length: u32) -> Balance {
			TransactionPayment::length_to_fee(length)
		}
	}

	#[cfg(feature = "runtime-benchmarks")]
	impl frame_benchmarking::Benchmark<Block> for Runtime {
		fn benchmark_metadata(extra: bool) -> (
			Vec<frame_benchmarking::BenchmarkList>,
			Vec<frame_support::traits::StorageInfo>,
		) {
			use frame_benchmarking::BenchmarkList;
			use frame_support::traits::StorageInfoTrait;
			use frame_system_benchmarking::Pallet as SystemBench;
			use crate::*;

			let mut list = Vec::<BenchmarkList>::new();
			list_benchmarks!(list, extra);
			let storage_info = AllPalletsWithSystem::storage_info();
			(list, storage_info)
		}

		fn dispatch_benchmark(
			config: frame_benchmarking::BenchmarkConfig
		) -> Result<Vec<frame_benchmarking::BenchmarkBatch>, alloc::string::String> {
			use frame_benchmarking::BenchmarkBatch;
			use frame_support::traits::WhitelistedStorageKeys;
			use frame_system_benchmarking::Pallet as SystemBench;
			use crate::*;

			let whitelist: Vec<sp_storage::TrackedStorageKey> =
				AllPalletsWithSystem::whitelisted_storage_keys();
			let mut batches = Vec::<BenchmarkBatch>::new();
			let params = (&config, &whitelist);
			add_benchmarks!(params, batches);
			Ok(batches)
		}
	}

	impl pallet_community_fund::CommunityFundApi<Block, AccountId, Balance, BlockNumber> for Runtime {
		fn fund_status() -> pallet_community_fund::FundStatus<AccountId, Balance, BlockNumber> {
			CommunityFund::status()
		}
		fn contribution(who: AccountId) -> pallet_community_fund::ContributionView<Balance, BlockNumber> {
			CommunityFund::contribution_view(&who)
		}
	}

	impl pallet_model_registry::runtime_api::ModelRegistryApi<Block, AccountId, Balance, BlockNumber> for Runtime {
		fn models(from: u64, limit: u32) -> Vec<pallet_model_registry::runtime_api::ModelView<AccountId, BlockNumber>> {
			ModelRegistry::api_models(from, limit)
		}
		fn model(id: u64) -> Option<pallet_model_registry::runtime_api::ModelView<AccountId, BlockNumber>> {
			ModelRegistry::api_model(id)
		}
		fn versions(model: u64) -> Vec<pallet_model_registry::runtime_api::VersionView<AccountId, Balance, BlockNumber>> {
			ModelRegistry::api_versions(model)
		}
		fn version(id: u64) -> Option<pallet_model_registry::ModelVersion<AccountId, Balance, BlockNumber>> {
			pallet_model_registry::Versions::<Runtime>::get(id)
		}
		fn lineage(id: u64) -> Vec<pallet_model_registry::runtime_api::VersionView<AccountId, Balance, BlockNumber>> {
			ModelRegistry::api_lineage(id)
		}
		fn version_of_job(job: u64) -> Option<u64> {
			pallet_model_registry::VersionOfJob::<Runtime>::get(job)
		}
		fn can_fetch(model: u64, who: AccountId) -> bool {
			ModelRegistry::can_fetch(model, &who)
		}
	}

	impl pallet_inference::runtime_api::InferenceApi<Block, AccountId, Balance, BlockNumber> for Runtime {
		fn listing(version: u64) -> Option<(aicchain_primitives::Listing<AccountId, Balance>, Vec<u32>)> {
			crate::Inference::api_listing(version)
		}
		fn channel(user: AccountId, node: u32) -> Option<aicchain_primitives::Channel<Balance, BlockNumber>> {
			pallet_inference::Channels::<Runtime>::get(user, node)
		}
		fn earnings(who: AccountId) -> (Balance, Balance) {
			crate::Inference::api_earnings(&who)
		}
		fn model_revenue(model: u64) -> Balance {
			pallet_inference::ModelRevenue::<Runtime>::get(model)
		}
	}

	impl pallet_compute_jobs::runtime_api::ComputeApi<Block, AccountId, Balance, BlockNumber> for Runtime {
		fn quote(
			requirements: aicchain_primitives::JobRequirements,
		) -> Result<pallet_compute_jobs::Quote<Balance>, Vec<u8>> {
			ComputeJobs::quote(requirements)
		}

		fn nodes(
			min_gpus: u32,
			only_live: bool,
			from: aicchain_primitives::NodeId,
			limit: u32,
		) -> pallet_compute_jobs::runtime_api::NodesPage<AccountId, Balance, BlockNumber> {
			ComputeJobs::nodes_page(min_gpus, only_live, from, limit)
		}

		fn job(
			job_id: aicchain_primitives::JobId,
		) -> Option<pallet_compute_jobs::runtime_api::JobDetails<AccountId, Balance, BlockNumber>> {
			ComputeJobs::job_details(job_id)
		}

		fn queue(job_id: aicchain_primitives::JobId) -> pallet_compute_jobs::runtime_api::QueueStatus {
			ComputeJobs::queue_status(job_id)
		}

		fn market_stats() -> pallet_compute_jobs::MarketStats<Balance> {
			ComputeJobs::market_stats()
		}
	}

	impl sp_genesis_builder::GenesisBuilder<Block> for Runtime {
		fn build_state(config: Vec<u8>) -> sp_genesis_builder::Result {
			build_state::<RuntimeGenesisConfig>(config)
		}

		fn get_preset(id: &Option<sp_genesis_builder::PresetId>) -> Option<Vec<u8>> {
			get_preset::<RuntimeGenesisConfig>(id, crate::genesis::get_preset)
		}

		fn preset_names() -> Vec<sp_genesis_builder::PresetId> {
			crate::genesis::preset_names()
		}
	}
}
