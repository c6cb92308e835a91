use super::*;
use aicchain_primitives::{DatasetInfo, DatasetName};

#[test]
fn store_resolves_by_hash_and_rejects_unknown_hashes() {
	let dir = tempfile::tempdir().expect("tempdir");
	let store = DatasetStore::new(dir.path());
	let builtin = store.ensure_builtin().expect("writes");
	let (_, credit_hash) = &builtin[0];
	let data = store.resolve(credit_hash).expect("resolves");
	assert_eq!(data.n_features, 8);
	assert!(matches!(store.resolve(&[9; 32]), Err(EngineError::UnknownDataset(_))));
	// A file whose content changed no longer answers to its old hash.
	std::fs::write(dir.path().join(CREDIT_SCORING), b"a,b\n1,2\n").expect("write");
	assert!(matches!(store.resolve(credit_hash), Err(EngineError::UnknownDataset(_))));
}

/// A user's table: 40 rows of three features and a label (`salt` makes other files).
pub(crate) fn user_csv(salt: u32) -> Vec<u8> {
	let mut csv = String::from("a,b,c,label\n");
	for i in 0..40u32 {
		csv.push_str(&format!("{},{},{},{}\n", (i + salt) % 7, i % 5, i % 3, i % 2));
	}
	csv.into_bytes()
}

pub(crate) fn record_of(bytes: &[u8], public: bool) -> DatasetInfo {
	DatasetInfo {
		name: DatasetName::truncate_from(b"mine.csv".to_vec()),
		rows: 40,
		columns: 4,
		bytes: bytes.len() as u64,
		public,
	}
}

#[test]
fn a_file_is_stored_only_as_the_chain_describes_it() {
	let dir = tempfile::tempdir().expect("tempdir");
	let store = DatasetStore::new(dir.path());
	let bytes = user_csv(0);
	let hash = blake2_256(&bytes);
	let info = record_of(&bytes, true);
	let refused = |hash: &[u8; 32], info: &DatasetInfo, bytes: &[u8]| {
		matches!(store.store(hash, info, bytes), Err(EngineError::BadDataset(_)))
	};
	// Another file under the hash, a size or a shape other than the chain's.
	assert!(refused(&[7; 32], &info, &bytes));
	assert!(refused(&hash, &DatasetInfo { bytes: info.bytes + 1, ..info.clone() }, &bytes));
	assert!(refused(&hash, &DatasetInfo { rows: 39, ..info.clone() }, &bytes));
	assert!(refused(&hash, &DatasetInfo { columns: 5, ..info.clone() }, &bytes));
	// Text the chain calls a table does not parse as one, and the other way round.
	let text =
		DatasetInfo { name: DatasetName::truncate_from(b"mine.txt".to_vec()), ..info.clone() };
	assert!(refused(&hash, &text, &bytes));
	assert!(matches!(store.resolve(&hash), Err(EngineError::UnknownDataset(_))));

	assert_eq!(store.store(&hash, &info, &bytes).expect("stored"), Stored::Public);
	assert_eq!(store.resolve(&hash).expect("resolves").rows(), 40);
	assert_eq!(store.public_bytes(&hash), Some(bytes.clone()));
	assert!(store.list().expect("lists").iter().any(|(_, h)| *h == hash));
	// A fresh store (a restart) finds it again.
	assert_eq!(DatasetStore::new(dir.path()).public_bytes(&hash), Some(bytes));
}

#[test]
fn a_private_dataset_is_trained_on_but_never_served_or_listed() {
	let dir = tempfile::tempdir().expect("tempdir");
	let store = DatasetStore::new(dir.path());
	let bytes = user_csv(0);
	let hash = blake2_256(&bytes);
	assert_eq!(
		store.store(&hash, &record_of(&bytes, false), &bytes).expect("stored"),
		Stored::Private
	);
	assert_eq!(store.resolve(&hash).expect("resolves").rows(), 40);
	assert_eq!(store.public_bytes(&hash), None);
	assert!(!store.list().expect("lists").iter().any(|(_, h)| *h == hash));
	let fresh = DatasetStore::new(dir.path());
	assert_eq!(fresh.public_bytes(&hash), None);
	assert_eq!(fresh.bytes_of(&hash).expect("found after a restart"), bytes);
}
