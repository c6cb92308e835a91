//! Users' datasets over HTTP: uploads checked against the chain's record, public ones served
//! and fetched by peers, private ones never served.

use super::tests::{raw_exchange, served};
use super::*;
use crate::{
	dataset::{
		blake2_256,
		store_tests::{record_of as record, user_csv},
		ChainDatasets,
	},
	EngineConfig,
};
use aicchain_primitives::DatasetInfo;
use std::collections::HashMap;

/// A chain that registered `records`.
fn chain(records: Vec<([u8; 32], DatasetInfo)>) -> ChainDatasets {
	let records: HashMap<[u8; 32], DatasetInfo> = records.into_iter().collect();
	ChainDatasets(Arc::new(move |hash| records.get(hash).cloned()))
}

fn put(addr: SocketAddr, hash: &[u8; 32], body: &[u8]) -> String {
	let mut raw = format!(
		"PUT /datasets/0x{} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
		hex::encode(hash),
		body.len()
	)
	.into_bytes();
	raw.extend_from_slice(body);
	raw_exchange(addr, &raw)
}

#[test]
fn an_engine_that_does_not_read_the_chain_takes_no_uploads() {
	let (_dir, _runtime, _engine, addr) = served(|c| c, ServerLimits::default());
	let bytes = user_csv(0);
	assert!(put(addr, &blake2_256(&bytes), &bytes).starts_with("HTTP/1.1 403"));
}

#[test]
fn uploads_are_kept_only_when_they_match_the_chains_record() {
	let (public, private, unregistered) = (user_csv(0), user_csv(1), user_csv(2));
	let (public_hash, private_hash) = (blake2_256(&public), blake2_256(&private));
	let records =
		vec![(public_hash, record(&public, true)), (private_hash, record(&private, false))];
	let (_dir, _runtime, engine, addr) = served(
		|c| EngineConfig { chain_datasets: Some(chain(records)), ..c },
		ServerLimits::default(),
	);
	// A hash the chain does not know: refused before the body is read.
	let answer = put(addr, &blake2_256(&unregistered), &unregistered);
	assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
	// More than the recorded size: cut off.
	let mut longer = public.clone();
	longer.extend_from_slice(b"1,2,3,0\n");
	assert!(put(addr, &public_hash, &longer).starts_with("HTTP/1.1 413"));
	// Another file under the hash, of the right size.
	let mut other = public.clone();
	other[12] = b'9';
	let answer = put(addr, &public_hash, &other);
	assert!(answer.starts_with("HTTP/1.1 422"), "{answer}");
	assert!(engine.datasets.bytes_of(&public_hash).is_err());

	let answer = put(addr, &public_hash, &public);
	assert!(answer.starts_with("HTTP/1.1 200") && answer.contains("\"public\":true"), "{answer}");
	let base = format!("http://{addr}");
	let served = request(&format!("{base}/datasets/0x{}", hex::encode(public_hash)), None);
	assert_eq!(served.expect("answers"), Some(public));

	let answer = put(addr, &private_hash, &private);
	assert!(answer.starts_with("HTTP/1.1 200") && answer.contains("\"public\":false"), "{answer}");
	assert_eq!(engine.datasets.bytes_of(&private_hash).expect("trains on it"), private);
	let served = request(&format!("{base}/datasets/0x{}", hex::encode(private_hash)), None);
	assert_eq!(served.expect("answers"), None, "a private dataset is never served");
}

/// A verifier lacking a user's public dataset fetches it from a peer (checked against the
/// chain's record); a private one it never gets from anyone but its owner.
#[test]
fn a_public_dataset_is_fetched_from_a_peer_and_a_private_one_is_not() {
	let (public, private) = (user_csv(0), user_csv(1));
	let (public_hash, private_hash) = (blake2_256(&public), blake2_256(&private));
	let records =
		vec![(public_hash, record(&public, true)), (private_hash, record(&private, false))];
	let holder_records = records.clone();
	let (_dir, _runtime, holder, addr) = served(
		|c| EngineConfig { chain_datasets: Some(chain(holder_records)), ..c },
		ServerLimits::default(),
	);
	holder.datasets.store(&public_hash, &records[0].1, &public).expect("stored");
	holder.datasets.store(&private_hash, &records[1].1, &private).expect("stored");

	let dir = tempfile::tempdir().expect("tempdir");
	let config = EngineConfig {
		peers: vec![format!("http://{addr}")],
		chain_datasets: Some(chain(records)),
		..EngineConfig::in_dir(dir.path())
	};
	let verifier = Engine::start(config).expect("starts");
	assert_eq!(verifier.dataset_bytes(&public_hash, None).expect("fetched"), public);
	assert_eq!(verifier.datasets.public_bytes(&public_hash), Some(public), "kept, and served");
	assert!(verifier.dataset_bytes(&private_hash, None).is_err());
}

/// A dataset withdrawn from the chain (or removed by governance) is no longer passed on, though
/// the engine still holds its file.
#[test]
fn an_unregistered_dataset_is_not_served() {
	let bytes = user_csv(0);
	let hash = blake2_256(&bytes);
	let (_dir, _runtime, engine, addr) = served(
		|c| EngineConfig { chain_datasets: Some(chain(vec![])), ..c },
		ServerLimits::default(),
	);
	engine.datasets.store(&hash, &record(&bytes, true), &bytes).expect("stored");
	let url = format!("http://{addr}/datasets/0x{}", hex::encode(hash));
	assert_eq!(request(&url, None).expect("answers"), None);
}
