//! Paid inference, engine side: the chain state an engine checks a voucher against (listing,
//! servers, the user's channel, the genesis hash), and the book of vouchers it accepted and its
//! provider has yet to redeem.
//!
//! An engine answers a query only if the voucher would redeem on chain when it answers: signed
//! by its user for this chain, for a listed version this node serves, at least the listed
//! price, a nonce above every nonce of the channel the engine has seen (redeemed on chain or
//! held in its book), and within what the channel holds after the vouchers the book holds.

use crate::EngineError;
use aicchain_primitives::{Channel, Listing, NodeId, VersionId, Voucher};
use codec::{Decode, Encode};
use sp_core::H256;
use sp_runtime::{AccountId32, MultiSignature};
use std::{
	collections::BTreeMap,
	path::PathBuf,
	sync::{Arc, Mutex, OnceLock},
};

/// The runtime's account, balance and block number types.
pub type AccountId = AccountId32;
pub type Balance = u128;
pub type BlockNumber = u32;
/// A voucher and its user's signature, as `redeem` takes them.
pub type SignedVoucher = (Voucher<AccountId, Balance>, MultiSignature);

/// The input bytes of a tabular query (what its voucher's `query` hashes): each feature as a
/// little-endian `f32`.
pub fn features_bytes(features: &[f32]) -> Vec<u8> {
	features.iter().flat_map(|f| f.to_le_bytes()).collect()
}

/// Raw storage at the node's best block: the node's own state for its in-process engine, a
/// node's `state_getStorage` for a standalone one.
#[derive(Clone)]
pub struct ChainState {
	lookup: Arc<StorageLookup>,
	/// The genesis hash, read once (every voucher is checked against it).
	genesis: Arc<OnceLock<H256>>,
}

/// Reads one storage value by its full key.
pub type StorageLookup = dyn Fn(&[u8]) -> Option<Vec<u8>> + Send + Sync;

impl std::fmt::Debug for ChainState {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		f.write_str("ChainState")
	}
}

/// `twox128(pallet) ++ twox128(item)`.
pub fn prefix(pallet: &str, item: &str) -> Vec<u8> {
	use sp_crypto_hashing::twox_128;
	let mut key = twox_128(pallet.as_bytes()).to_vec();
	key.extend(twox_128(item.as_bytes()));
	key
}

pub(crate) fn twox64_concat(key: &[u8]) -> Vec<u8> {
	let mut out = sp_crypto_hashing::twox_64(key).to_vec();
	out.extend(key);
	out
}

pub(crate) fn blake2_128_concat(key: &[u8]) -> Vec<u8> {
	let mut out = sp_crypto_hashing::blake2_128(key).to_vec();
	out.extend(key);
	out
}

/// Storage keys of the inference pallet's maps (and of the genesis hash).
pub mod keys {
	use super::*;

	pub fn listing(version: VersionId) -> Vec<u8> {
		[prefix("Inference", "Listings"), twox64_concat(&version.encode())].concat()
	}
	pub fn servers(version: VersionId) -> Vec<u8> {
		[prefix("Inference", "Servers"), twox64_concat(&version.encode())].concat()
	}
	pub fn channel(user: &AccountId, node: NodeId) -> Vec<u8> {
		[
			prefix("Inference", "Channels"),
			blake2_128_concat(&user.encode()),
			twox64_concat(&node.encode()),
		]
		.concat()
	}
	pub fn owed(who: &AccountId) -> Vec<u8> {
		[prefix("Inference", "Owed"), blake2_128_concat(&who.encode())].concat()
	}
	pub fn earned(who: &AccountId) -> Vec<u8> {
		[prefix("Inference", "Earned"), blake2_128_concat(&who.encode())].concat()
	}
	pub fn genesis() -> Vec<u8> {
		[prefix("System", "BlockHash"), twox64_concat(&0u32.encode())].concat()
	}
}

impl ChainState {
	/// The state `lookup` reads.
	pub fn new(lookup: impl Fn(&[u8]) -> Option<Vec<u8>> + Send + Sync + 'static) -> Self {
		Self { lookup: Arc::new(lookup), genesis: Arc::new(OnceLock::new()) }
	}

	/// The state at the best block of the node whose JSON-RPC is at `url`. A node that does not
	/// answer reads as empty storage.
	pub fn from_node_rpc(url: String) -> Self {
		Self::new(move |key| {
			let key = format!("0x{}", hex::encode(key));
			let value = crate::http::json_rpc(&url, "state_getStorage", serde_json::json!([key]))
				.map_err(|e| log::warn!(target: "aicchain-worker", "reading the chain: {e}"))
				.ok()?;
			hex::decode(value.as_str()?.trim_start_matches("0x")).ok()
		})
	}

	pub(crate) fn get<T: Decode>(&self, key: &[u8]) -> Option<T> {
		(self.lookup)(key).and_then(|bytes| T::decode(&mut &bytes[..]).ok())
	}

	pub fn genesis(&self) -> Option<H256> {
		if let Some(genesis) = self.genesis.get() {
			return Some(*genesis);
		}
		let genesis = self.get(&keys::genesis())?;
		Some(*self.genesis.get_or_init(|| genesis))
	}
	pub fn listing(&self, version: VersionId) -> Option<Listing<AccountId, Balance>> {
		self.get(&keys::listing(version))
	}
	pub fn servers(&self, version: VersionId) -> Vec<NodeId> {
		self.get(&keys::servers(version)).unwrap_or_default()
	}
	pub fn channel(&self, user: &AccountId, node: NodeId) -> Option<Channel<Balance, BlockNumber>> {
		self.get(&keys::channel(user, node))
	}
}

/// Vouchers an engine accepted, one file each (`<dir>/<node>/<user hex>-<nonce>.scale`), indexed
/// in memory by channel. Redeemed ones stay on disk: a provider refutes a challenge with them.
pub struct VoucherBook {
	dir: PathBuf,
	index: Mutex<BTreeMap<(NodeId, AccountId), Vec<SignedVoucher>>>,
}

impl VoucherBook {
	/// Opens (creating) `dir` and reads every voucher in it.
	pub fn open(dir: impl Into<PathBuf>) -> Result<Self, EngineError> {
		let dir = dir.into();
		std::fs::create_dir_all(&dir)?;
		let mut index: BTreeMap<(NodeId, AccountId), Vec<SignedVoucher>> = BTreeMap::new();
		for node_dir in std::fs::read_dir(&dir)? {
			let node_dir = node_dir?.path();
			if !node_dir.is_dir() {
				continue;
			}
			for file in std::fs::read_dir(node_dir)? {
				let bytes = std::fs::read(file?.path())?;
				if let Ok(signed) = SignedVoucher::decode(&mut &bytes[..]) {
					let key = (signed.0.node, signed.0.user.clone());
					index.entry(key).or_default().push(signed);
				}
			}
		}
		for vouchers in index.values_mut() {
			vouchers.sort_by_key(|(v, _)| v.nonce);
		}
		Ok(Self { dir, index: Mutex::new(index) })
	}

	/// Takes `signed` if, with the vouchers held above the chain's nonce, it stays within the
	/// channel: its nonce above all of them, the sum of their prices within the deposit. All
	/// under one lock, so two queries never take the same nonce or the same AICC.
	pub fn take(
		&self,
		signed: SignedVoucher,
		channel: &Channel<Balance, BlockNumber>,
	) -> Result<(), (u16, String)> {
		let mut index = self.index.lock().unwrap_or_else(|e| e.into_inner());
		let key = (signed.0.node, signed.0.user.clone());
		let held = index.entry(key).or_default();
		let unredeemed = held.iter().filter(|(v, _)| v.nonce > channel.nonce);
		let (owed, last) = unredeemed.fold((0u128, channel.nonce), |(sum, last), (v, _)| {
			(sum.saturating_add(v.price), last.max(v.nonce))
		});
		if signed.0.nonce <= last {
			return Err((
				409,
				format!("nonce {} is used: the next is {}", signed.0.nonce, last + 1),
			));
		}
		if owed.saturating_add(signed.0.price) > channel.deposit {
			return Err((
				402,
				format!(
					"the channel holds {} planck and {owed} are owed on unredeemed vouchers",
					channel.deposit
				),
			));
		}
		let dir = self.dir.join(signed.0.node.to_string());
		std::fs::create_dir_all(&dir).map_err(|e| (500, e.to_string()))?;
		let file =
			dir.join(format!("{}-{:020}.scale", hex::encode(&signed.0.user), signed.0.nonce));
		std::fs::write(file, signed.encode()).map_err(|e| (500, e.to_string()))?;
		held.push(signed);
		Ok(())
	}

	/// The vouchers held for `node`, oldest first per user.
	pub fn of_node(&self, node: NodeId) -> Vec<SignedVoucher> {
		let index = self.index.lock().unwrap_or_else(|e| e.into_inner());
		index
			.range((node, AccountId::new([0; 32]))..)
			.take_while(|((n, _), _)| *n == node)
			.flat_map(|(_, v)| v.clone())
			.collect()
	}

	/// The highest nonce held for a channel.
	pub fn last_nonce(&self, node: NodeId, user: &AccountId) -> u64 {
		let index = self.index.lock().unwrap_or_else(|e| e.into_inner());
		index
			.get(&(node, user.clone()))
			.and_then(|v| v.iter().map(|(v, _)| v.nonce).max())
			.unwrap_or(0)
	}
}
