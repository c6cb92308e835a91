//! The worker's signer: nonces tracked in offchain storage so that a key sends several
//! transactions in one block, and a dropped transaction cannot wedge the key.

use crate::{
	offchain::{NonceRecord, RuntimeWorkerSigner, NONCE_STALE_AFTER},
	AccountId, BlockNumber, Nonce, Runtime, RuntimeCall, System, UncheckedExtrinsic,
};
use aicchain_primitives::worker_key;
use codec::Decode;
use pallet_compute_jobs::WorkerSigner;
use sp_core::{
	offchain::{
		testing::{TestOffchainExt, TestTransactionPoolExt},
		OffchainDbExt, OffchainWorkerExt, TransactionPoolExt,
	},
	H256,
};
use sp_keyring::Sr25519Keyring;
use sp_keystore::{testing::MemoryKeystore, Keystore, KeystoreExt};
use sp_runtime::generic::Preamble;

/// The development genesis with Alice's worker key in the keystore, and the offchain
/// externalities a worker run has (local storage, transaction pool); the second value reads
/// the pool.
fn worker_ext() -> (sp_io::TestExternalities, impl Fn() -> Vec<Vec<u8>>) {
	let keystore = MemoryKeystore::new();
	keystore.sr25519_generate_new(worker_key::KEY_TYPE, Some("//Alice")).expect("dev key derives");
	let (offchain, _) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let mut ext: sp_io::TestExternalities = crate::tests::preset_storage("development").into();
	ext.register_extension(OffchainWorkerExt::new(offchain.clone()));
	ext.register_extension(OffchainDbExt::new(offchain));
	ext.register_extension(TransactionPoolExt::new(pool));
	ext.register_extension(KeystoreExt::new(keystore));
	(ext, move || pool_state.read().transactions.clone())
}

/// A worker run at block `n` (the parent's hash is known, as in a real run).
fn at_block(n: BlockNumber) {
	System::set_block_number(n);
	frame_system::BlockHash::<Runtime>::insert(n - 1, H256::repeat_byte(n as u8));
}

fn heartbeat(node_id: u32) -> pallet_compute_registry::Call<Runtime> {
	pallet_compute_registry::Call::heartbeat { node_id }
}

/// Signer and nonce of every transaction in the pool, in submission order.
fn pooled(pool: &impl Fn() -> Vec<Vec<u8>>) -> Vec<(AccountId, Nonce)> {
	pool()
		.iter()
		.map(|bytes| {
			let xt = UncheckedExtrinsic::decode(&mut &bytes[..]).expect("a runtime extrinsic");
			let Preamble::Signed(sp_runtime::MultiAddress::Id(who), _, extension) = xt.preamble
			else {
				panic!("the worker signs its transactions");
			};
			assert!(matches!(xt.function, RuntimeCall::ComputeRegistry(_)));
			(who, extension.5 .0)
		})
		.collect()
}

/// Attack 10: before this change, the signer took the nonce from the chain state
/// (`frame_system::offchain::Signer`), so a second transaction of the same key in the same block
/// reused it and the pool dropped it; the worker therefore sent one transaction per key per
/// block, and a burst of jobs went unattested. Now the second gets the next nonce.
#[test]
fn two_submissions_in_one_block_get_consecutive_nonces() {
	let (mut ext, pool) = worker_ext();
	ext.execute_with(|| {
		at_block(3);
		let alice = Sr25519Keyring::Alice.to_account_id();
		let chain = System::account_nonce(&alice);
		assert!(<RuntimeWorkerSigner as WorkerSigner<_, _>>::submit(&alice, heartbeat(0)));
		assert!(<RuntimeWorkerSigner as WorkerSigner<_, _>>::submit(&alice, heartbeat(1)));
		assert_eq!(pooled(&pool), vec![(alice.clone(), chain), (alice.clone(), chain + 1)]);

		// The next block, before either landed: the remembered nonce still wins.
		at_block(4);
		assert!(<RuntimeWorkerSigner as WorkerSigner<_, _>>::submit(&alice, heartbeat(2)));
		assert_eq!(pooled(&pool)[2], (alice.clone(), chain + 2));

		// A key this node does not hold signs nothing and uses up no nonce.
		let bob = Sr25519Keyring::Bob.to_account_id();
		assert!(!<RuntimeWorkerSigner as WorkerSigner<_, _>>::submit(&bob, heartbeat(3)));
		assert_eq!(pool().len(), 3);
	});
}

/// A transaction that never lands (dropped from the pool, or lost on a fork) would leave a gap
/// that every later transaction of the key waits behind: after `NONCE_STALE_AFTER` blocks
/// without progress the signer starts again from the on-chain nonce.
#[test]
fn a_dropped_transaction_does_not_wedge_the_key() {
	let (mut ext, pool) = worker_ext();
	ext.execute_with(|| {
		let alice = Sr25519Keyring::Alice.to_account_id();
		let chain = System::account_nonce(&alice);
		at_block(3);
		assert!(<RuntimeWorkerSigner as WorkerSigner<_, _>>::submit(&alice, heartbeat(0)));
		// Sent every block, none lands: the remembered nonces keep counting ...
		for n in 4..3 + NONCE_STALE_AFTER {
			at_block(n);
			assert!(<RuntimeWorkerSigner as WorkerSigner<_, _>>::submit(&alice, heartbeat(0)));
		}
		let nonces: Vec<Nonce> = pooled(&pool).into_iter().map(|(_, n)| n).collect();
		assert_eq!(nonces, (chain..chain + NONCE_STALE_AFTER).collect::<Vec<_>>());
		// ... until the chain has not moved for `NONCE_STALE_AFTER` blocks.
		at_block(3 + NONCE_STALE_AFTER);
		assert!(<RuntimeWorkerSigner as WorkerSigner<_, _>>::submit(&alice, heartbeat(0)));
		assert_eq!(pooled(&pool).last(), Some(&(alice.clone(), chain)));
		assert!(<RuntimeWorkerSigner as WorkerSigner<_, _>>::submit(&alice, heartbeat(1)));
		assert_eq!(pooled(&pool).last(), Some(&(alice.clone(), chain + 1)));

		// Progress on chain, however late, means the transactions are landing: the remembered
		// nonce stays.
		frame_system::Account::<Runtime>::mutate(&alice, |a| a.nonce = chain + 1);
		at_block(20);
		assert!(<RuntimeWorkerSigner as WorkerSigner<_, _>>::submit(&alice, heartbeat(0)));
		assert_eq!(pooled(&pool).last(), Some(&(alice.clone(), chain + 2)));
	});
}

#[test]
fn nonce_record_rules() {
	let fresh = NonceRecord::pick(None, 7, 10).expect("room");
	assert_eq!(fresh, (7, NonceRecord { next: 8, chain: 7, since: 10 }));
	// Outstanding, no progress, not yet stale: the next remembered nonce; the clock keeps.
	let (nonce, record) = NonceRecord::pick(Some(fresh.1), 7, 12).expect("room");
	assert_eq!((nonce, record), (8, NonceRecord { next: 9, chain: 7, since: 10 }));
	// The chain moved past everything outstanding: its nonce, clock from now.
	assert_eq!(
		NonceRecord::pick(Some(record), 9, 13),
		Some((9, NonceRecord { next: 10, chain: 9, since: 13 }))
	);
	// Stale: back to the chain's nonce.
	assert_eq!(
		NonceRecord::pick(Some(record), 7, 10 + NONCE_STALE_AFTER),
		Some((7, NonceRecord { next: 8, chain: 7, since: 10 + NONCE_STALE_AFTER }))
	);
	// The nonce space is spent: nothing is signed.
	assert_eq!(NonceRecord::pick(None, Nonce::MAX, 1), None);
}
