//! Trained models, stored by the blake2-256 hash of their safetensors bytes.

use crate::{dataset::blake2_256, EngineError};
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
}
