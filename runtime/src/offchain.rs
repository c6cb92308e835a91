//! Signing for the compute jobs off-chain worker: the `aicc` worker key type, transaction
//! construction with this runtime's extensions, and the [`RuntimeWorkerSigner`] the pallet
//! uses to send its signed calls.
//!
//! ## Nonces
//!
//! `frame_system::offchain::Signer` signs with the account's nonce in the state the worker runs
//! on, so a second transaction of the same key in the same block reuses the nonce and the pool
//! drops it. [`RuntimeWorkerSigner`] instead remembers, in the node's persistent offchain
//! storage, the next nonce it handed out for each key: each transaction gets
//! `max(on-chain nonce, remembered)`, and several per key and block reach the pool (the later
//! ones wait there as "future" transactions for the earlier ones). When the key has
//! transactions outstanding and the on-chain nonce has not moved for [`NONCE_STALE_AFTER`]
//! blocks, one of them was dropped (a fork, a full pool): the signer starts again from the
//! on-chain nonce, so a lost transaction cannot leave a gap that wedges the key.

use super::{
	configs::BlockHashCount, AccountId, BlockNumber, Nonce, Runtime, RuntimeCall, Signature,
	SignedPayload, System, TxExtension, UncheckedExtrinsic,
};
use aicchain_primitives::worker_key;
use alloc::vec::Vec;
use codec::{Decode, Encode};
use frame_system::offchain::{
	AppCrypto, CreateSignedTransaction, CreateTransactionBase, SigningTypes, SubmitTransaction,
};
use sp_runtime::{
	generic::Era,
	offchain::storage::{MutateStorageError, StorageRetrievalError, StorageValueRef},
	traits::{IdentifyAccount, SaturatedConversion, Verify},
	MultiAddress, MultiSigner, RuntimeAppPublic,
};

/// Blocks without progress of a key's on-chain nonce, while it has transactions outstanding,
/// after which the signer assumes one was dropped and signs from the on-chain nonce again (the
/// same as the worker's wait before it retries an action).
pub const NONCE_STALE_AFTER: BlockNumber = 5;
/// Tries to take a nonce when another worker run changes the record at the same moment.
const NONCE_ATTEMPTS: u32 = 3;

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

/// What the node remembers about a worker key's nonces (persistent offchain storage).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub struct NonceRecord {
	/// The next nonce to sign with, unless the chain is already further.
	pub next: Nonce,
	/// The on-chain nonce when last seen ...
	pub chain: Nonce,
	/// ... and the block from which it has not moved while transactions were outstanding.
	pub since: BlockNumber,
}

impl NonceRecord {
	/// Picks the nonce of a transaction signed at block `now` when the chain's nonce is
	/// `chain`; returns it with the record to keep (`None` only when the nonce space is spent).
	pub fn pick(
		previous: Option<NonceRecord>,
		chain: Nonce,
		now: BlockNumber,
	) -> Option<(Nonce, NonceRecord)> {
		let nonce = match previous {
			// Transactions outstanding, and the chain took none of them for a while: one was
			// dropped and the rest wait behind the gap. Start again from the chain's nonce.
			Some(p)
				if p.next > chain
					&& p.chain == chain
					&& now.saturating_sub(p.since) >= NONCE_STALE_AFTER =>
			{
				chain
			},
			Some(p) => p.next.max(chain),
			None => chain,
		};
		// The stale clock starts when the chain's nonce moves, or when nothing was outstanding.
		let since = match previous {
			Some(p) if p.chain == chain && p.next > chain && nonce > chain => p.since,
			_ => now,
		};
		Some((nonce, NonceRecord { next: nonce.checked_add(1)?, chain, since }))
	}

	/// The offchain-storage key of `account`'s record.
	pub fn storage_key(account: &AccountId) -> Vec<u8> {
		(b"aicchain::worker::nonce", account).encode()
	}

	/// Takes the next nonce of `account` at the current block, recording it so that the next
	/// transaction of this key gets the one after.
	fn take(account: &AccountId) -> Option<Nonce> {
		let chain = System::account_nonce(account);
		let now = System::block_number();
		let key = Self::storage_key(account);
		let record = StorageValueRef::persistent(&key);
		for _ in 0..NONCE_ATTEMPTS {
			let mut picked = None;
			let result =
				record.mutate(|previous: Result<Option<NonceRecord>, StorageRetrievalError>| {
					let (nonce, next) = Self::pick(previous.ok().flatten(), chain, now).ok_or(())?;
					picked = Some(nonce);
					Ok::<_, ()>(next)
				});
			match result {
				Ok(_) => return picked,
				Err(MutateStorageError::ConcurrentModification(_)) => continue,
				Err(MutateStorageError::ValueFunctionFailed(())) => return None,
			}
		}
		None
	}

	/// Gives `nonce` back after its transaction never reached the pool, unless a later one was
	/// handed out since (then the stale rule closes the gap).
	fn give_back(account: &AccountId, nonce: Nonce) {
		let key = Self::storage_key(account);
		let _ = StorageValueRef::persistent(&key).mutate(
			|previous: Result<Option<NonceRecord>, StorageRetrievalError>| match previous {
				Ok(Some(record)) if record.next == nonce.saturating_add(1) => {
					Ok(NonceRecord { next: nonce, ..record })
				},
				_ => Err(()),
			},
		);
	}
}

/// Sends the compute worker's calls signed by this node's `aicc` keys, with nonces tracked in
/// offchain storage so that a key can send several transactions per block (see the module
/// documentation).
pub struct RuntimeWorkerSigner;

impl<LocalCall> pallet_compute_jobs::WorkerSigner<AccountId, LocalCall> for RuntimeWorkerSigner
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
		let Some(nonce) = NonceRecord::take(account) else { return false };
		// `None` when the keystore does not hold the key.
		let submitted =
			<Runtime as CreateSignedTransaction<LocalCall>>::create_signed_transaction::<
				WorkerAuthId,
			>(RuntimeCall::from(call), public, account.clone(), nonce)
			.is_some_and(|xt| {
				SubmitTransaction::<Runtime, LocalCall>::submit_transaction(xt).is_ok()
			});
		if !submitted {
			NonceRecord::give_back(account, nonce);
		}
		submitted
	}
}
