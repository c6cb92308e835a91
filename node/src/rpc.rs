//! The node's JSON-RPC extensions, on top of the standard Substrate methods.

use std::sync::Arc;

use aicchain_runtime::{opaque::Block, AccountId, Balance, BlockNumber, Nonce};
use jsonrpsee::RpcModule;
use sc_transaction_pool_api::TransactionPool;
use sp_api::ProvideRuntimeApi;
use sp_block_builder::BlockBuilder;
use sp_blockchain::{Error as BlockChainError, HeaderBackend, HeaderMetadata};

/// What the RPC extensions need from the node.
pub struct FullDeps<C, P> {
	pub client: Arc<C>,
	pub pool: Arc<P>,
	/// The compute engine this node's worker uses, if any (for `compute_selection`).
	pub engine_url: Option<String>,
}

/// All RPC extensions of a full node.
pub fn create_full<C, P>(
	deps: FullDeps<C, P>,
) -> Result<RpcModule<()>, Box<dyn std::error::Error + Send + Sync>>
where
	C: ProvideRuntimeApi<Block>,
	C: HeaderBackend<Block> + HeaderMetadata<Block, Error = BlockChainError> + 'static,
	C: Send + Sync + 'static,
	C::Api: substrate_frame_rpc_system::AccountNonceApi<Block, AccountId, Nonce>,
	C::Api: pallet_transaction_payment_rpc::TransactionPaymentRuntimeApi<Block, Balance>,
	C::Api: BlockBuilder<Block>,
	C::Api: pallet_compute_jobs::runtime_api::ComputeApi<Block, AccountId, Balance, BlockNumber>,
	C::Api: pallet_community_fund::CommunityFundApi<Block, AccountId, Balance, BlockNumber>,
	C::Api: pallet_model_registry::runtime_api::ModelRegistryApi<
		Block,
		AccountId,
		Balance,
		BlockNumber,
	>,
	C::Api: pallet_inference::runtime_api::InferenceApi<Block, AccountId, Balance, BlockNumber>,
	P: TransactionPool + 'static,
{
	use pallet_transaction_payment_rpc::{TransactionPayment, TransactionPaymentApiServer};
	use substrate_frame_rpc_system::{System, SystemApiServer};

	let mut module = RpcModule::new(());
	let FullDeps { client, pool, engine_url } = deps;

	module.merge(System::new(client.clone(), pool).into_rpc())?;
	module.merge(TransactionPayment::new(client.clone()).into_rpc())?;
	module.merge(crate::compute_rpc::ComputeRpcServer::into_rpc(
		crate::compute_rpc::Compute::new(client.clone(), engine_url),
	))?;
	module.merge(crate::models_rpc::ModelsRpcServer::into_rpc(crate::models_rpc::Models::new(
		client,
	)))?;

	Ok(module)
}
