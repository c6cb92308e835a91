//! # AICChain client
//!
//! What tests and the command line need to talk to a node: JSON-RPC over plain HTTP (no
//! client library), extrinsics built and signed with the runtime's own types and submitted
//! through the standard `author_submitExtrinsic`, and storage read and decoded with the
//! runtime's types.

use aicchain_runtime::{
	AccountId, Nonce, RuntimeCall, SignedPayload, TxExtension, UncheckedExtrinsic,
};
use codec::{Decode, Encode};
use serde_json::{json, Value};
use sp_core::{crypto::Pair as _, sr25519, H256};
use sp_runtime::{generic::Era, MultiAddress, MultiSignature};
use std::{
	io::{Read, Write},
	net::TcpStream,
	time::Duration,
};

/// Blocks a signed transaction stays valid for, from the best block when it was signed.
pub const MORTALITY_PERIOD: u64 = 64;

/// What can go wrong talking to a node.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
	#[error("cannot reach the node at {0}: {1}")]
	Unreachable(String, String),
	#[error("the node answered something that is not JSON-RPC: {0}")]
	BadResponse(String),
	#[error("{message} (JSON-RPC error {code})")]
	Rpc { code: i64, message: String, data: Option<Value> },
	#[error("cannot decode {0} from the chain")]
	Decode(&'static str),
}

/// A node's JSON-RPC endpoint over HTTP, e.g. `http://127.0.0.1:9944`.
#[derive(Clone, Debug)]
pub struct Client {
	host: String,
}

impl Client {
	/// `url`: `http://host:port` (also accepts `ws://`, which the node serves on the same port).
	pub fn new(url: &str) -> Self {
		let host = url
			.trim_start_matches("http://")
			.trim_start_matches("ws://")
			.trim_end_matches('/')
			.to_string();
		Self { host }
	}

	/// One JSON-RPC call.
	pub fn rpc(&self, method: &str, params: Value) -> Result<Value, ClientError> {
		let body =
			json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params }).to_string();
		let request = format!(
			"POST / HTTP/1.0\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
			self.host,
			body.len()
		);
		let unreachable =
			|e: std::io::Error| ClientError::Unreachable(self.host.clone(), e.to_string());
		let mut stream = TcpStream::connect(&self.host).map_err(unreachable)?;
		stream.set_read_timeout(Some(Duration::from_secs(30))).map_err(unreachable)?;
		stream.write_all(request.as_bytes()).map_err(unreachable)?;
		let mut response = String::new();
		stream.read_to_string(&mut response).map_err(unreachable)?;
		let body = response
			.split_once("\r\n\r\n")
			.map(|(_, b)| b)
			.ok_or_else(|| ClientError::BadResponse(response.clone()))?;
		let mut value: Value =
			serde_json::from_str(body).map_err(|_| ClientError::BadResponse(body.to_string()))?;
		if let Some(result) = value.get_mut("result") {
			return Ok(result.take());
		}
		let error = value.get("error").cloned().unwrap_or(Value::Null);
		Err(ClientError::Rpc {
			code: error.get("code").and_then(Value::as_i64).unwrap_or_default(),
			message: error.get("message").and_then(Value::as_str).unwrap_or("unknown").to_string(),
			data: error.get("data").cloned(),
		})
	}

	fn hash_result(&self, method: &str, params: Value) -> Result<H256, ClientError> {
		let value = self.rpc(method, params)?;
		let bytes =
			decode_hex(value.as_str().unwrap_or_default()).ok_or(ClientError::Decode("a hash"))?;
		(bytes.len() == 32).then(|| H256::from_slice(&bytes)).ok_or(ClientError::Decode("a hash"))
	}

	pub fn genesis_hash(&self) -> Result<H256, ClientError> {
		self.hash_result("chain_getBlockHash", json!([0]))
	}

	/// `(spec_version, transaction_version)` of the runtime at the best block.
	pub fn runtime_versions(&self) -> Result<(u32, u32), ClientError> {
		let v = self.rpc("state_getRuntimeVersion", json!([]))?;
		let field = |name| v.get(name).and_then(Value::as_u64).and_then(|n| u32::try_from(n).ok());
		Ok((
			field("specVersion").ok_or(ClientError::Decode("specVersion"))?,
			field("transactionVersion").ok_or(ClientError::Decode("transactionVersion"))?,
		))
	}

	/// The next nonce of `who`, counting transactions in the pool.
	pub fn next_nonce(&self, who: &AccountId) -> Result<Nonce, ClientError> {
		let v = self.rpc("system_accountNextIndex", json!([who.to_string()]))?;
		v.as_u64().and_then(|n| Nonce::try_from(n).ok()).ok_or(ClientError::Decode("a nonce"))
	}

	/// The best block: its number and hash (read in that order of dependency: the hash first,
	/// then that block's header, so the two always belong together).
	pub fn best_block(&self) -> Result<(u32, H256), ClientError> {
		let hash = self.hash_result("chain_getBlockHash", json!([]))?;
		let header = self.rpc("chain_getHeader", json!([format!("{hash:?}")]))?;
		let number = header
			.get("number")
			.and_then(Value::as_str)
			.and_then(|hex| u32::from_str_radix(hex.trim_start_matches("0x"), 16).ok())
			.ok_or(ClientError::Decode("a block number"))?;
		Ok((number, hash))
	}

	/// Builds `call` as a signed extrinsic of `signer` (tip 0), mortal for
	/// [`MORTALITY_PERIOD`] blocks from the best block, as wallets sign: a transaction that
	/// has not made it into a block by then can never be included (nor replayed later).
	pub fn signed_extrinsic(
		&self,
		signer: &sr25519::Pair,
		call: RuntimeCall,
	) -> Result<UncheckedExtrinsic, ClientError> {
		let account = account_of(signer);
		let nonce = self.next_nonce(&account)?;
		let genesis = self.genesis_hash()?;
		let (spec_version, tx_version) = self.runtime_versions()?;
		let (best, best_hash) = self.best_block()?;
		let era = Era::mortal(MORTALITY_PERIOD, u64::from(best));
		let extension: TxExtension = (
			frame_system::CheckNonZeroSender::new(),
			frame_system::CheckSpecVersion::new(),
			frame_system::CheckTxVersion::new(),
			frame_system::CheckGenesis::new(),
			frame_system::CheckEra::from(era),
			frame_system::CheckNonce::from(nonce),
			frame_system::CheckWeight::new(),
			pallet_transaction_payment::ChargeTransactionPayment::from(0),
		);
		// `CheckEra` signs the hash of the era's first block: the best block itself (with a
		// period of 64 the era starts exactly at the block it was made from).
		debug_assert_eq!(era.birth(u64::from(best)), u64::from(best));
		let implicit = ((), spec_version, tx_version, genesis, best_hash, (), (), ());
		let payload = SignedPayload::from_raw(call, extension, implicit);
		let signature = payload.using_encoded(|bytes| signer.sign(bytes));
		let (call, extension, _) = payload.deconstruct();
		Ok(UncheckedExtrinsic::new_signed(
			call,
			MultiAddress::Id(account),
			MultiSignature::Sr25519(signature),
			extension,
		))
	}

	/// Signs and submits `call`; the transaction hash. Pool rejections (bad signature, no funds
	/// for the fee, ...) come back as `ClientError::Rpc`.
	pub fn submit(&self, signer: &sr25519::Pair, call: RuntimeCall) -> Result<H256, ClientError> {
		let xt = self.signed_extrinsic(signer, call)?;
		self.hash_result(
			"author_submitExtrinsic",
			json!([format!("0x{}", hex::encode(xt.encode()))]),
		)
	}

	/// Raw storage at the best block.
	pub fn storage_raw(&self, key: &[u8]) -> Result<Option<Vec<u8>>, ClientError> {
		let v = self.rpc("state_getStorage", json!([format!("0x{}", hex::encode(key))]))?;
		match v.as_str() {
			None => Ok(None),
			Some(hex) => decode_hex(hex).map(Some).ok_or(ClientError::Decode("storage")),
		}
	}

	/// A storage value decoded as `T`.
	pub fn storage<T: Decode>(&self, key: &[u8]) -> Result<Option<T>, ClientError> {
		match self.storage_raw(key)? {
			None => Ok(None),
			Some(bytes) => T::decode(&mut &bytes[..])
				.map(Some)
				.map_err(|_| ClientError::Decode(std::any::type_name::<T>())),
		}
	}

	/// The best block number.
	pub fn best_number(&self) -> Result<u32, ClientError> {
		let header = self.rpc("chain_getHeader", json!([]))?;
		let hex =
			header.get("number").and_then(Value::as_str).ok_or(ClientError::Decode("a header"))?;
		u32::from_str_radix(hex.trim_start_matches("0x"), 16)
			.map_err(|_| ClientError::Decode("a block number"))
	}
}

/// The account of an sr25519 key.
pub fn account_of(pair: &sr25519::Pair) -> AccountId {
	AccountId::from(pair.public())
}

/// A key pair from a secret URI such as `//Alice`.
pub fn pair_from_suri(suri: &str) -> Result<sr25519::Pair, String> {
	sr25519::Pair::from_string(suri, None)
		.map_err(|e| format!("invalid secret URI `{suri}`: {e:?}"))
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
	hex::decode(s.trim_start_matches("0x")).ok()
}

/// Storage keys, built the way FRAME lays them out.
pub mod keys {
	use codec::Encode;
	use sp_crypto_hashing::{blake2_128, twox_128, twox_64};

	/// `twox128(pallet) ++ twox128(item)`.
	pub fn value(pallet: &str, item: &str) -> Vec<u8> {
		let mut key = twox_128(pallet.as_bytes()).to_vec();
		key.extend(twox_128(item.as_bytes()));
		key
	}

	/// A map entry with the `Twox64Concat` hasher.
	pub fn twox64_map(pallet: &str, item: &str, map_key: &impl Encode) -> Vec<u8> {
		let encoded = map_key.encode();
		let mut key = value(pallet, item);
		key.extend(twox_64(&encoded));
		key.extend(encoded);
		key
	}

	/// A map entry with the `Blake2_128Concat` hasher.
	pub fn blake2_map(pallet: &str, item: &str, map_key: &impl Encode) -> Vec<u8> {
		let encoded = map_key.encode();
		let mut key = value(pallet, item);
		key.extend(blake2_128(&encoded));
		key.extend(encoded);
		key
	}
}
