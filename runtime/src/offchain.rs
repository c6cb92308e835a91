//! Signing for the compute jobs off-chain worker: the `aicc` worker key type, transaction
//! construction with this runtime's extensions, and the [`RuntimeWorkerSigner`] the pallet
//! uses to send its signed calls.

use super::{
	configs::BlockHashCount, AccountId, Nonce, Runtime, RuntimeCall, Signature, SignedPayload,
	System, TxExtension, UncheckedExtrinsic,
};
use aicchain_primitives::worker_key;
use alloc::vec::Vec;
use codec::Encode;
use frame_system::offchain::{
	AppCrypto, CreateSignedTransaction, CreateTransactionBase, SendSignedTransaction, Signer,
	SigningTypes,
};
use sp_runtime::{
	generic::Era,
	traits::{IdentifyAccount, SaturatedConversion, Verify},
	MultiAddress, MultiSigner, RuntimeAppPublic,
};

/// Binds the worker key type into the session keys, so that `--dev`/`--alice` and
/// `author_rotateKeys` create a worker key next to the Aura and GRANDPA keys.
pub struct ComputeWorker;

impl sp_runtime::BoundToRuntimeAppPublic for ComputeWorker {
	type Public = worker_key::Public;
}

/// The worker key's signing scheme as the transaction signer sees it.
pub struct WorkerAuthId;

impl AppCrypto<MultiSigner, Signature> for WorkerAuthId {
	type RuntimeAppPublic = worker_key::Public;
	type GenericSignature = sp_core::sr25519::Signature;
	type GenericPublic = sp_core::sr25519::Public;
}

impl SigningTypes for Runtime {
	type Public = <Signature as Verify>::Signer;
	type Signature = Signature;
}

impl<LocalCall> CreateTransactionBase<LocalCall> for Runtime
where
	RuntimeCall: From<LocalCall>,
{
	type Extrinsic = UncheckedExtrinsic;
	type RuntimeCall = RuntimeCall;
}

impl<LocalCall> CreateSignedTransaction<LocalCall> for Runtime
where
	RuntimeCall: From<LocalCall>,
{
	fn create_signed_transaction<C: AppCrypto<Self::Public, Self::Signature>>(
		call: RuntimeCall,
		public: MultiSigner,
		account: AccountId,
		nonce: Nonce,
	) -> Option<UncheckedExtrinsic> {
		// Mortal for about half the block-hash history, from the block the worker ran on.
		let period = u64::from(BlockHashCount::get()).checked_next_power_of_two()? / 2;
		let current_block = System::block_number().saturated_into::<u64>().saturating_sub(1);
		let extension: TxExtension = (
			frame_system::CheckNonZeroSender::<Runtime>::new(),
			frame_system::CheckSpecVersion::<Runtime>::new(),
			frame_system::CheckTxVersion::<Runtime>::new(),
			frame_system::CheckGenesis::<Runtime>::new(),
			frame_system::CheckEra::<Runtime>::from(Era::mortal(period, current_block)),
			frame_system::CheckNonce::<Runtime>::from(nonce),
			frame_system::CheckWeight::<Runtime>::new(),
			pallet_transaction_payment::ChargeTransactionPayment::<Runtime>::from(0),
		);
		let payload = SignedPayload::new(call, extension).ok()?;
		let signature = payload.using_encoded(|bytes| C::sign(bytes, public))?;
		let (call, extension, _) = payload.deconstruct();
		Some(UncheckedExtrinsic::new_signed(call, MultiAddress::Id(account), signature, extension))
	}
}

/// Sends the compute worker's calls signed by this node's `aicc` keys.
pub struct RuntimeWorkerSigner;

impl<LocalCall: Clone> pallet_compute_jobs::WorkerSigner<AccountId, LocalCall>
	for RuntimeWorkerSigner
where
	RuntimeCall: From<LocalCall>,
{
	fn local_accounts() -> Vec<AccountId> {
		worker_key::Public::all()
			.into_iter()
			.map(|key| MultiSigner::from(sp_core::sr25519::Public::from(key)).into_account())
			.collect()
	}

	fn submit(account: &AccountId, call: LocalCall) -> bool {
		let raw: [u8; 32] = account.clone().into();
		let public = MultiSigner::from(sp_core::sr25519::Public::from_raw(raw));
		let results = Signer::<Runtime, WorkerAuthId>::all_accounts()
			.with_filter(alloc::vec![public])
			.send_signed_transaction(|_| call.clone());
		!results.is_empty() && results.iter().all(|(_, result)| result.is_ok())
	}
}
