//! The engine's dataset directory, looked up by content hash.
//!
//! - `datasets/` holds the built-in datasets and users' public datasets (named
//!   `<hash hex>.csv|.txt`): these the engine serves to peers (`GET /datasets/0x<hash>`).
//! - `datasets/private/` holds users' private datasets, which the engine trains and verifies on
//!   but never serves.
//!
//! A user's file gets here only by matching its record on chain ([`ChainDatasets`]): the hash,
//! the size, and the rows and columns the engine parses (the chain prices and schedules a job
//! by them). An upload by its owner (`PUT /datasets/0x<hash>`) and a copy fetched from a peer
//! pass the same check ([`DatasetStore::store`]).

use super::{blake2_256, builtin, Dataset};
use crate::EngineError;
use aicchain_primitives::DatasetInfo;
use std::{
	collections::HashMap,
	path::{Path, PathBuf},
	sync::{Arc, Mutex},
};

/// The chain's dataset records, as the engine reads them (the node's own state for its
/// in-process engine): `None` for a hash the chain does not know.
#[derive(Clone)]
pub struct ChainDatasets(pub Arc<RecordLookup>);

/// Reads the chain's record of a dataset hash.
pub type RecordLookup = dyn Fn(&[u8; 32]) -> Option<DatasetInfo> + Send + Sync;

impl ChainDatasets {
	pub fn get(&self, hash: &[u8; 32]) -> Option<DatasetInfo> {
		(self.0)(hash)
	}

	/// The records in `state` (a node's state for its in-process engine; `state_getStorage`
	/// for a standalone one, `aicchain-worker serve --node-rpc`). Unreadable state reads as
	/// "no such dataset".
	pub fn from_state(state: crate::inference::ChainState) -> Self {
		Self(Arc::new(move |hash| state.get(&datasets_key(hash))))
	}
}

/// The rows and columns the chain records for a file: windows and vocabulary for text
/// (`text`), rows and features plus the target for a table. The CLI describes a file with it,
/// and engines check a file against its record with it.
pub fn shape_of(bytes: &[u8], text: bool) -> Result<(usize, usize), EngineError> {
	if text {
		let text = crate::lm::replay::TextData::from_text(bytes)?;
		Ok((text.windows(), text.vocab))
	} else {
		let table = Dataset::from_csv(bytes)?;
		Ok((table.rows(), table.n_features.saturating_add(1)))
	}
}

/// The storage key of the chain's record of the dataset `hash`
/// (`ComputeJobs::Datasets`, a `Blake2_128Concat` map).
pub fn datasets_key(hash: &[u8; 32]) -> Vec<u8> {
	use crate::inference::{blake2_128_concat, prefix};
	[prefix("ComputeJobs", "Datasets"), blake2_128_concat(hash)].concat()
}

impl std::fmt::Debug for ChainDatasets {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		f.write_str("ChainDatasets")
	}
}

/// Where a stored file went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stored {
	/// Served to peers.
	Public,
	/// Never served.
	Private,
}

/// A directory of dataset files, looked up by content hash.
pub struct DatasetStore {
	dir: PathBuf,
	by_hash: Mutex<HashMap<[u8; 32], PathBuf>>,
	last_scan: Mutex<Option<std::time::Instant>>,
}

/// Least time between two scans of the directory for a hash the index does not know (files an
/// operator copies in are found within it).
const RESCAN_AFTER: std::time::Duration = std::time::Duration::from_secs(10);

/// Tells apart the temporary files of concurrent writes.
static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl DatasetStore {
	pub fn new(dir: impl Into<PathBuf>) -> Self {
		Self { dir: dir.into(), by_hash: Mutex::new(HashMap::new()), last_scan: Mutex::new(None) }
	}

	pub fn dir(&self) -> &Path {
		&self.dir
	}

	fn private_dir(&self) -> PathBuf {
		self.dir.join("private")
	}

	/// Writes the built-in datasets into the directory (when missing) and returns their names
	/// and hashes.
	pub fn ensure_builtin(&self) -> Result<Vec<(String, [u8; 32])>, EngineError> {
		std::fs::create_dir_all(&self.dir)?;
		let mut out = Vec::new();
		for (name, bytes) in builtin() {
			let path = self.dir.join(name);
			let hash = blake2_256(&bytes);
			let current = std::fs::read(&path).ok().map(|b| blake2_256(&b));
			if current != Some(hash) {
				std::fs::write(&path, &bytes)?;
			}
			out.push((name.to_string(), hash));
		}
		Ok(out)
	}

	/// Every public `.csv` (table) and `.txt` (text) file with its hash: what the engine
	/// serves. Private files are indexed too, not listed.
	pub fn list(&self) -> Result<Vec<(String, [u8; 32])>, EngineError> {
		let mut out = self.scan(&self.dir)?;
		self.scan(&self.private_dir())?;
		out.sort();
		Ok(out)
	}

	fn scan(&self, dir: &Path) -> Result<Vec<(String, [u8; 32])>, EngineError> {
		let mut out = Vec::new();
		let entries = match std::fs::read_dir(dir) {
			Ok(entries) => entries,
			Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
			Err(e) => return Err(e.into()),
		};
		for entry in entries {
			let path = entry?.path();
			if path.extension().is_some_and(|e| e == "csv" || e == "txt") {
				let hash = blake2_256(&std::fs::read(&path)?);
				let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
				self.lock().insert(hash, path);
				out.push((name.unwrap_or_default(), hash));
			}
		}
		Ok(out)
	}

	/// The table whose file hashes to `hash`.
	pub fn resolve(&self, hash: &[u8; 32]) -> Result<Dataset, EngineError> {
		Dataset::from_csv(&self.bytes_of(hash)?)
	}

	/// The text whose file hashes to `hash`, cut and tokenized for the language model.
	pub fn resolve_text(
		&self,
		hash: &[u8; 32],
	) -> Result<crate::lm::replay::TextData, EngineError> {
		crate::lm::replay::TextData::from_text(&self.bytes_of(hash)?)
	}

	/// The bytes of the public file that hashes to `hash` (what peers may fetch); `None` for a
	/// private or unknown one.
	pub fn public_bytes(&self, hash: &[u8; 32]) -> Option<Vec<u8>> {
		let path = self.path_of(hash).ok()?;
		if path.parent() != Some(self.dir.as_path()) {
			return None;
		}
		self.read_checked(hash, &path).ok()
	}

	/// The bytes of the file that hashes to `hash`.
	pub fn bytes_of(&self, hash: &[u8; 32]) -> Result<Vec<u8>, EngineError> {
		let path = self.path_of(hash)?;
		self.read_checked(hash, &path)
	}

	/// Where the file of `hash` is: the index, then the names users' files are stored under,
	/// then (at most once every [`RESCAN_AFTER`]) a scan of the directory, so a request for an
	/// unknown hash does not make the engine read and hash every file it holds.
	fn path_of(&self, hash: &[u8; 32]) -> Result<PathBuf, EngineError> {
		if let Some(path) = self.lock().get(hash).cloned() {
			return Ok(path);
		}
		let hex_hash = hex::encode(hash);
		for dir in [self.dir.clone(), self.private_dir()] {
			for extension in ["csv", "txt"] {
				let path = dir.join(format!("{hex_hash}.{extension}"));
				if path.is_file() {
					self.lock().insert(*hash, path.clone());
					return Ok(path);
				}
			}
		}
		let due = {
			let mut last = self.last_scan.lock().unwrap_or_else(|p| p.into_inner());
			let due = last.is_none_or(|at| at.elapsed() >= RESCAN_AFTER);
			if due {
				*last = Some(std::time::Instant::now());
			}
			due
		};
		if due {
			self.list()?;
		}
		self.lock().get(hash).cloned().ok_or(EngineError::UnknownDataset(hex_hash))
	}

	fn read_checked(&self, hash: &[u8; 32], path: &Path) -> Result<Vec<u8>, EngineError> {
		let bytes = std::fs::read(path)?;
		// The file may have changed since it was indexed.
		if blake2_256(&bytes) != *hash {
			self.lock().remove(hash);
			return Err(EngineError::UnknownDataset(hex::encode(hash)));
		}
		Ok(bytes)
	}

	/// Stores `bytes` as the dataset the chain registered under `hash` as `info`, once they
	/// hash to it, are exactly `info.bytes` long and parse to `info.rows` rows (windows) and
	/// `info.columns` columns (vocabulary): public ones where peers may fetch them, private
	/// ones where they never are.
	pub fn store(
		&self,
		hash: &[u8; 32],
		info: &DatasetInfo,
		bytes: &[u8],
	) -> Result<Stored, EngineError> {
		let refuse = |why: String| Err(EngineError::BadDataset(why));
		if blake2_256(bytes) != *hash {
			return refuse("the file does not hash to the dataset's hash".into());
		}
		if u64::try_from(bytes.len()).ok() != Some(info.bytes) {
			return refuse(format!("{} bytes, the chain says {}", bytes.len(), info.bytes));
		}
		let (rows, columns) = shape_of(bytes, info.is_text())?;
		let registered = (info.rows as usize, info.columns as usize);
		if (rows, columns) != registered {
			return refuse(format!(
				"{rows} rows and {columns} columns, the chain says {} and {}",
				registered.0, registered.1
			));
		}
		let (dir, stored) = if info.public {
			(self.dir.clone(), Stored::Public)
		} else {
			(self.private_dir(), Stored::Private)
		};
		std::fs::create_dir_all(&dir)?;
		let extension = if info.is_text() { "txt" } else { "csv" };
		let path = dir.join(format!("{}.{extension}", hex::encode(hash)));
		// The same file again (a second upload, a peer's copy): nothing to write.
		if std::fs::read(&path).is_ok_and(|held| blake2_256(&held) == *hash) {
			self.lock().insert(*hash, path);
			return Ok(stored);
		}
		let write = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
		let tmp = path.with_extension(format!("{}-{write}.part", std::process::id()));
		std::fs::write(&tmp, bytes)?;
		std::fs::rename(&tmp, &path)?;
		self.lock().insert(*hash, path);
		Ok(stored)
	}

	fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], PathBuf>> {
		self.by_hash.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
	}
}
