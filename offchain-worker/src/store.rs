//! Trained models, stored by the blake2-256 hash of their safetensors bytes, and the
//! checkpoints of their training runs, stored by the commitment's Merkle root:
//! `checkpoints/<root hex>/<i>.safetensors` and `checkpoints/<root hex>/leaves.bin` (the
//! checkpoints' blake2-256 hashes, concatenated; written last, so a run is complete once it
//! is there).

use crate::{dataset::blake2_256, proof::merkle_root, EngineError};
use std::path::{Path, PathBuf};

pub struct ModelStore {
	dir: PathBuf,
}

impl ModelStore {
	pub fn new(dir: impl Into<PathBuf>) -> Result<Self, EngineError> {
		let dir = dir.into();
		std::fs::create_dir_all(&dir)?;
		Ok(Self { dir })
	}

	pub fn dir(&self) -> &Path {
		&self.dir
	}

	fn path(&self, hash: &[u8; 32]) -> PathBuf {
		self.dir.join(format!("{}.safetensors", hex::encode(hash)))
	}

	/// Stores `bytes` under their hash, which it returns.
	pub fn put(&self, bytes: &[u8]) -> Result<[u8; 32], EngineError> {
		let hash = blake2_256(bytes);
		let path = self.path(&hash);
		let tmp = path.with_extension("tmp");
		std::fs::write(&tmp, bytes)?;
		std::fs::rename(tmp, path)?;
		Ok(hash)
	}

	/// The model with this hash, if stored and intact.
	pub fn get(&self, hash: &[u8; 32]) -> Option<Vec<u8>> {
		let bytes = std::fs::read(self.path(hash)).ok()?;
		(blake2_256(&bytes) == *hash).then_some(bytes)
	}

	fn run_dir(&self, root: &[u8; 32]) -> PathBuf {
		self.dir.join("checkpoints").join(hex::encode(root))
	}

	/// Stores the checkpoints of a run committed to by `root` (which they must hash to).
	pub fn put_checkpoints(
		&self,
		root: &[u8; 32],
		checkpoints: &[Vec<u8>],
	) -> Result<(), EngineError> {
		let leaves: Vec<[u8; 32]> = checkpoints.iter().map(|c| blake2_256(c)).collect();
		if merkle_root(&leaves) != *root {
			return Err(EngineError::BadModel("checkpoints do not hash to their root".into()));
		}
		let dir = self.run_dir(root);
		std::fs::create_dir_all(&dir)?;
		for (i, bytes) in checkpoints.iter().enumerate() {
			write_atomically(&dir.join(format!("{i}.safetensors")), bytes)?;
		}
		write_atomically(&dir.join("leaves.bin"), &leaves.concat())
	}

	/// The leaf hashes of the run committed to by `root`, if stored and intact.
	pub fn leaves(&self, root: &[u8; 32]) -> Option<Vec<[u8; 32]>> {
		let bytes = std::fs::read(self.run_dir(root).join("leaves.bin")).ok()?;
		let leaves = parse_leaves(&bytes)?;
		(merkle_root(&leaves) == *root).then_some(leaves)
	}

	/// Checkpoint `index` of the run committed to by `root`, if stored and intact.
	pub fn checkpoint(&self, root: &[u8; 32], index: u32) -> Option<Vec<u8>> {
		let leaves = self.leaves(root)?;
		let leaf = leaves.get(usize::try_from(index).ok()?)?;
		let bytes = std::fs::read(self.run_dir(root).join(format!("{index}.safetensors"))).ok()?;
		(blake2_256(&bytes) == *leaf).then_some(bytes)
	}
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), EngineError> {
	let tmp = path.with_extension("tmp");
	std::fs::write(&tmp, bytes)?;
	std::fs::rename(tmp, path)?;
	Ok(())
}

/// Leaf hashes from their concatenation (`None` unless a whole number of them).
pub fn parse_leaves(bytes: &[u8]) -> Option<Vec<[u8; 32]>> {
	if !bytes.len().is_multiple_of(32) {
		return None;
	}
	bytes.chunks_exact(32).map(|c| <[u8; 32]>::try_from(c).ok()).collect()
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn checkpoints_round_trip_by_root() {
		let dir = tempfile::tempdir().expect("tempdir");
		let store = ModelStore::new(dir.path()).expect("store");
		let checkpoints: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i; 10]).collect();
		let leaves: Vec<[u8; 32]> = checkpoints.iter().map(|c| blake2_256(c)).collect();
		let root = merkle_root(&leaves);
		assert!(store.put_checkpoints(&[9; 32], &checkpoints).is_err(), "wrong root");
		assert_eq!(store.leaves(&root), None);
		store.put_checkpoints(&root, &checkpoints).expect("stored");
		assert_eq!(store.leaves(&root), Some(leaves));
		assert_eq!(store.checkpoint(&root, 3), Some(vec![3; 10]));
		assert_eq!(store.checkpoint(&root, 5), None);
		assert_eq!(store.checkpoint(&[9; 32], 0), None);
		// A damaged checkpoint is not served.
		let path = dir.path().join("checkpoints").join(hex::encode(root)).join("2.safetensors");
		std::fs::write(path, b"other").expect("written");
		assert_eq!(store.checkpoint(&root, 2), None);
		assert_eq!(parse_leaves(&[0; 33]), None);
	}
}
