//! The engine's users' datasets: uploads by their owners, copies fetched from peers, and what
//! it serves. Every file is checked against the chain's record of it
//! ([`crate::dataset::DatasetStore::store`]).

use super::Engine;
use crate::{
	dataset::{blake2_256, Stored},
	EngineError,
};
use aicchain_primitives::DatasetInfo;

/// Why an upload was refused, as an HTTP status and a message.
#[derive(Debug, PartialEq, Eq)]
pub struct UploadRefused(pub u16, pub String);

impl Engine {
	/// The chain's record of the dataset `hash`, if the engine knows the chain.
	pub fn chain_dataset(&self, hash: &[u8; 32]) -> Result<DatasetInfo, UploadRefused> {
		let chain = self.chain_datasets.as_ref().ok_or_else(|| {
			UploadRefused(403, "this engine takes no uploads: it does not read the chain".into())
		})?;
		chain.get(hash).ok_or_else(|| {
			UploadRefused(404, "no dataset with this hash is registered on chain".into())
		})
	}

	/// An owner's upload of the dataset the chain registered under `hash` as `info` (from
	/// [`Self::chain_dataset`]; see [`crate::dataset::DatasetStore::store`]).
	pub fn accept_upload(
		&self,
		hash: &[u8; 32],
		info: &DatasetInfo,
		bytes: &[u8],
	) -> Result<Stored, UploadRefused> {
		let stored = self.datasets.store(hash, info, bytes).map_err(|e| match e {
			EngineError::BadDataset(_) => UploadRefused(422, e.to_string()),
			other => UploadRefused(500, other.to_string()),
		})?;
		log::info!(
			target: "aicchain-worker",
			"stored dataset 0x{} ({} bytes, {stored:?})",
			hex::encode(hash),
			bytes.len()
		);
		Ok(stored)
	}

	/// The bytes of the public dataset `hash` for a peer: a file the engine holds, and (if it
	/// reads the chain) still registered and public, so a withdrawn or removed dataset is no
	/// longer passed on.
	pub fn public_dataset(&self, hash: &[u8; 32]) -> Option<Vec<u8>> {
		if let Some(chain) = &self.chain_datasets {
			if !chain.get(hash).is_some_and(|info| info.public) {
				return None;
			}
		}
		self.datasets.public_bytes(hash)
	}

	/// The bytes of the dataset `hash`: the engine's own file, or else (a public dataset the
	/// chain knows) a copy from the provider's engine or a configured peer, checked against the
	/// chain's record and kept.
	pub fn dataset_bytes(
		&self,
		hash: &[u8; 32],
		provider: Option<&str>,
	) -> Result<Vec<u8>, EngineError> {
		let missing = match self.datasets.bytes_of(hash) {
			Ok(bytes) => return Ok(bytes),
			Err(e @ EngineError::UnknownDataset(_)) => e,
			Err(e) => return Err(e),
		};
		let Some(info) = self.chain_datasets.as_ref().and_then(|chain| chain.get(hash)) else {
			return Err(missing);
		};
		if !info.public {
			return Err(EngineError::UnknownDataset(format!(
				"{} (private: its owner has not uploaded it here)",
				hex::encode(hash)
			)));
		}
		let max = usize::try_from(info.bytes).unwrap_or(usize::MAX);
		let path = format!("/datasets/0x{}", hex::encode(hash));
		let bytes = self
			.fetch_from_peers(provider, &path, max, |bytes| blake2_256(bytes) == *hash)
			.ok_or(missing)?;
		self.datasets.store(hash, &info, &bytes)?;
		log::info!(target: "aicchain-worker", "fetched dataset 0x{} from a peer", hex::encode(hash));
		Ok(bytes)
	}
}
