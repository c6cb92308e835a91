//! Datasets the chain knows: a training job may only name a dataset registered on-chain, so
//! that every provider's engine knows what it is asked to train on, how large it is and who may
//! use it. Anyone may register a dataset of their own for a deposit (its owner uploads the file
//! to engines, which check it against this record); governance registers curated ones. The
//! engine ships four datasets, generated deterministically (`aicchain-worker datasets` prints
//! their hashes; a test in the engine keeps the constants below equal to them): two tables
//! (`.csv`, for the MLPs), a text corpus (`.txt`, for the transformer language model) and an
//! image set (a `.csv` of 16 × 16 pixels and a label, for the CNN).

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_core::{ConstU32, H256};
use sp_runtime::BoundedVec;

/// Longest dataset name.
pub type MaxDatasetNameLen = ConstU32<32>;
/// A dataset's name (ASCII, at most [`MaxDatasetNameLen`] bytes), e.g. `credit-scoring.csv`.
pub type DatasetName = BoundedVec<u8, MaxDatasetNameLen>;

/// What the chain records of a dataset it knows, keyed by the blake2-256 hash of its file.
#[derive(
	Clone,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
	serde::Serialize,
	serde::Deserialize,
)]
pub struct DatasetInfo {
	/// The file's name.
	pub name: DatasetName,
	/// Data rows (the header not counted); for text, windows of 65 words.
	pub rows: u32,
	/// Columns: the features and the target (last); for text, the tokenizer's vocabulary.
	pub columns: u32,
	/// The file's size in bytes (at most [`MAX_DATASET_BYTES`]): engines read no more of it
	/// from a peer.
	pub bytes: u64,
	/// Public: any account's job may name it and engines serve it to any peer. Private: only
	/// its owner's jobs may name it, and engines never serve it (its owner uploads it to each
	/// engine it allows: the provider's and the verifiers').
	pub public: bool,
}

/// Largest dataset file the chain registers (and engines accept or fetch): 16 MiB.
pub const MAX_DATASET_BYTES: u64 = 16 << 20;
/// Fewest rows (windows, for text) of a dataset: the engine holds out a fifth of them.
pub const MIN_DATASET_ROWS: u32 = 10;

/// Why a dataset's record cannot be registered.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DatasetError {
	/// The name is empty, is not printable ASCII without `/` or a backslash, or does not end in `.csv`
	/// or `.txt`.
	BadName,
	/// Empty, or larger than [`MAX_DATASET_BYTES`].
	BadSize,
	/// Fewer than [`MIN_DATASET_ROWS`] rows, fewer than 2 columns, more rows or columns than
	/// bytes, or
	/// (text) a vocabulary larger than the language model's
	/// ([`crate::limits::LM_VOCAB`]).
	BadShape,
}

impl DatasetInfo {
	/// Text (a `.txt` file, for language models) rather than a table (`.csv`, for MLPs).
	pub fn is_text(&self) -> bool {
		self.name.ends_with(b".txt")
	}

	/// `spec`'s model trains on this dataset: a transformer on text, the MLPs on a table, a CNN
	/// on a table of square images its blocks can pool ([`crate::limits::image_side`]).
	pub fn suits(&self, spec: &crate::TrainingSpec) -> bool {
		match spec.model {
			crate::ModelKind::TransformerLm => self.is_text(),
			crate::ModelKind::CnnClassifier => {
				!self.is_text()
					&& crate::limits::image_side(self.columns, spec.hidden_layers).is_some()
			},
			crate::ModelKind::MlpClassifier | crate::ModelKind::MlpRegressor => !self.is_text(),
		}
	}

	/// The record describes a file the engines could hold and train on: the checks the chain
	/// makes before registering it (the engine checks the file itself against the record).
	pub fn validate(&self) -> Result<(), DatasetError> {
		let name_ok = !self.name.is_empty()
			&& self.name.iter().all(|c| c.is_ascii_graphic() && *c != b'/' && *c != b'\\')
			&& (self.name.ends_with(b".csv") || self.name.ends_with(b".txt"))
			&& self.name.first() != Some(&b'.');
		if !name_ok {
			return Err(DatasetError::BadName);
		}
		if self.bytes == 0 || self.bytes > MAX_DATASET_BYTES {
			return Err(DatasetError::BadSize);
		}
		let vocab_ok = !self.is_text() || self.columns <= crate::limits::LM_VOCAB;
		if self.rows < MIN_DATASET_ROWS
			|| self.columns < 2
			|| u64::from(self.columns) > self.bytes
			|| u64::from(self.rows) > self.bytes
			|| !vocab_ok
		{
			return Err(DatasetError::BadShape);
		}
		Ok(())
	}
}

/// blake2-256 of the engine's built-in `credit-scoring.csv`.
pub const CREDIT_SCORING_HASH: [u8; 32] = [
	0x34, 0x28, 0xb2, 0x1b, 0xbf, 0x00, 0x1b, 0x1d, 0xe1, 0xc7, 0x1e, 0xd9, 0x0f, 0x92, 0x7e, 0xcb,
	0x5d, 0x31, 0xf7, 0x4e, 0xa7, 0x90, 0x16, 0x3d, 0xc0, 0xde, 0xd7, 0x7c, 0x78, 0x06, 0x60, 0x14,
];
/// File name of the credit scoring dataset.
pub const CREDIT_SCORING_NAME: &[u8] = b"credit-scoring.csv";
/// Rows of the credit scoring dataset.
pub const CREDIT_SCORING_ROWS: u32 = 3_000;
/// Columns of the credit scoring dataset: 8 features and the default label.
pub const CREDIT_SCORING_COLUMNS: u32 = 9;
/// Bytes of the credit scoring dataset.
pub const CREDIT_SCORING_BYTES: u64 = 123_254;

/// blake2-256 of the engine's built-in `energy-load.csv`.
pub const ENERGY_LOAD_HASH: [u8; 32] = [
	0x7d, 0x10, 0xf3, 0x1f, 0x1f, 0x11, 0x23, 0x3a, 0x43, 0x9e, 0xc5, 0x8c, 0x59, 0xeb, 0xf8, 0xc7,
	0xab, 0x5f, 0x7d, 0x39, 0xaf, 0x47, 0x1a, 0x09, 0xbf, 0x46, 0x85, 0x2a, 0x17, 0xc1, 0xe9, 0xb8,
];
/// File name of the energy load dataset.
pub const ENERGY_LOAD_NAME: &[u8] = b"energy-load.csv";
/// Rows of the energy load dataset.
pub const ENERGY_LOAD_ROWS: u32 = 2_000;
/// Columns of the energy load dataset: 6 features and the load.
pub const ENERGY_LOAD_COLUMNS: u32 = 7;
/// Bytes of the energy load dataset.
pub const ENERGY_LOAD_BYTES: u64 = 63_481;

/// blake2-256 of the engine's built-in `generated-corpus.txt`.
pub const CORPUS_HASH: [u8; 32] = [
	0xab, 0x62, 0x5b, 0x8a, 0xd6, 0xef, 0xd4, 0x58, 0x72, 0xad, 0x41, 0x03, 0x6f, 0xda, 0xd0, 0x5f,
	0xee, 0xad, 0x0d, 0xf6, 0x4c, 0x42, 0x4f, 0x6c, 0xed, 0x49, 0x5d, 0x8e, 0x5c, 0x29, 0x81, 0x9e,
];
/// File name of the text corpus.
pub const CORPUS_NAME: &[u8] = b"generated-corpus.txt";
/// Windows of 65 words in the corpus.
pub const CORPUS_ROWS: u32 = 923;
/// The vocabulary of the tokenizer trained on the corpus's training windows.
pub const CORPUS_COLUMNS: u32 = 6_030;
/// Bytes of the text corpus.
pub const CORPUS_BYTES: u64 = 324_953;

/// blake2-256 of the engine's built-in `generated-shapes.csv`.
pub const SHAPES_HASH: [u8; 32] = [
	0xfb, 0xa9, 0xee, 0x40, 0x6b, 0xea, 0x46, 0xe1, 0xc5, 0xf3, 0x97, 0xfb, 0xab, 0x1b, 0x21, 0x7d,
	0x95, 0xe0, 0xd1, 0xd6, 0x7c, 0x22, 0x4f, 0x12, 0x3e, 0xec, 0x0a, 0xf1, 0xe0, 0x36, 0xbf, 0x88,
];
/// File name of the image set.
pub const SHAPES_NAME: &[u8] = b"generated-shapes.csv";
/// Images in the image set.
pub const SHAPES_ROWS: u32 = 3_000;
/// Columns of the image set: 16 × 16 pixels and the label.
pub const SHAPES_COLUMNS: u32 = 257;
/// Bytes of the image set.
pub const SHAPES_BYTES: u64 = 4_190_884;

/// The datasets the engine ships, as the chain registers them at genesis.
pub fn shipped() -> alloc::vec::Vec<(H256, DatasetInfo)> {
	alloc::vec![
		(
			H256(CREDIT_SCORING_HASH),
			DatasetInfo {
				name: DatasetName::truncate_from(CREDIT_SCORING_NAME.to_vec()),
				rows: CREDIT_SCORING_ROWS,
				columns: CREDIT_SCORING_COLUMNS,
				bytes: CREDIT_SCORING_BYTES,
				public: true,
			},
		),
		(
			H256(ENERGY_LOAD_HASH),
			DatasetInfo {
				name: DatasetName::truncate_from(ENERGY_LOAD_NAME.to_vec()),
				rows: ENERGY_LOAD_ROWS,
				columns: ENERGY_LOAD_COLUMNS,
				bytes: ENERGY_LOAD_BYTES,
				public: true,
			},
		),
		(
			H256(CORPUS_HASH),
			DatasetInfo {
				name: DatasetName::truncate_from(CORPUS_NAME.to_vec()),
				rows: CORPUS_ROWS,
				columns: CORPUS_COLUMNS,
				bytes: CORPUS_BYTES,
				public: true,
			},
		),
		(
			H256(SHAPES_HASH),
			DatasetInfo {
				name: DatasetName::truncate_from(SHAPES_NAME.to_vec()),
				rows: SHAPES_ROWS,
				columns: SHAPES_COLUMNS,
				bytes: SHAPES_BYTES,
				public: true,
			},
		),
	]
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn shipped_names_fit_and_hashes_differ() {
		let shipped = shipped();
		assert_eq!(shipped.len(), 4);
		for (_, info) in &shipped {
			assert!(!info.name.is_empty());
			assert_eq!(info.validate(), Ok(()));
		}
		assert_eq!(shipped[0].1.name.as_slice(), CREDIT_SCORING_NAME);
		assert_eq!(shipped[1].1.name.as_slice(), ENERGY_LOAD_NAME);
		assert_eq!(shipped[2].1.name.as_slice(), CORPUS_NAME);
		assert_eq!(shipped[3].1.name.as_slice(), SHAPES_NAME);
		assert_ne!(shipped[0].0, shipped[1].0);
		assert!(!shipped[0].1.is_text() && !shipped[1].1.is_text() && shipped[2].1.is_text());
	}

	fn table(name: &[u8], rows: u32, columns: u32, bytes: u64) -> DatasetInfo {
		DatasetInfo {
			name: DatasetName::truncate_from(name.to_vec()),
			rows,
			columns,
			bytes,
			public: false,
		}
	}

	#[test]
	fn records_of_files_no_engine_could_hold_are_refused() {
		assert_eq!(table(b"mine.csv", 10, 2, 100).validate(), Ok(()));
		assert_eq!(table(b"mine.txt", 10, 2, 100).validate(), Ok(()));
		for name in [&b""[..], b"mine", b"mine.bin", b".csv", b"a/b.csv", b"a\\b.csv", b"a b.csv"] {
			assert_eq!(table(name, 10, 2, 100).validate(), Err(DatasetError::BadName), "{name:?}");
		}
		assert_eq!(table(b"a.csv", 10, 2, 0).validate(), Err(DatasetError::BadSize));
		assert_eq!(
			table(b"a.csv", 10, 2, MAX_DATASET_BYTES + 1).validate(),
			Err(DatasetError::BadSize)
		);
		assert_eq!(table(b"a.csv", 10, 2, MAX_DATASET_BYTES).validate(), Ok(()));
		assert_eq!(table(b"a.csv", 9, 2, 100).validate(), Err(DatasetError::BadShape));
		assert_eq!(table(b"a.csv", 10, 1, 100).validate(), Err(DatasetError::BadShape));
		assert_eq!(table(b"a.csv", 10, 101, 100).validate(), Err(DatasetError::BadShape));
		assert_eq!(table(b"a.csv", 101, 2, 100).validate(), Err(DatasetError::BadShape));
		let vocab = crate::limits::LM_VOCAB;
		assert_eq!(table(b"a.txt", 10, vocab, 1 << 20).validate(), Ok(()));
		assert_eq!(table(b"a.txt", 10, vocab + 1, 1 << 20).validate(), Err(DatasetError::BadShape));
		assert_eq!(table(b"a.csv", 10, vocab + 1, 1 << 20).validate(), Ok(()));
	}
}
