//! Users' own datasets: `dataset add` registers a file on chain (for a deposit) and uploads it
//! to engines; `datasets` lists what jobs may train on.

use crate::common::{explain, show, submit_and_wait};
use aicchain_client::{account_of, keys, pair_from_suri, Client};
use aicchain_primitives::{
	datasets::{DatasetName, MaxDatasetNameLen, MAX_DATASET_BYTES},
	DatasetInfo,
};
use aicchain_runtime::{AccountId, Balance, Runtime, RuntimeCall};
use serde_json::json;
use sp_core::{crypto::Ss58Codec, Get, H256};
use std::path::Path;

/// The record the chain keeps of `bytes`, a file named `name`: a table (`.csv`) or text
/// (`.txt`) parsed as the engine parses it.
pub(crate) fn record_of(name: &str, bytes: &[u8], public: bool) -> Result<DatasetInfo, String> {
	if !name.ends_with(".txt") && !name.ends_with(".csv") {
		return Err(format!("{name}: a dataset is a table (.csv) or text (.txt)"));
	}
	let (rows, columns) = aicchain_worker::dataset::shape_of(bytes, name.ends_with(".txt"))
		.map_err(|e| format!("{name}: {e}"))?;
	let max_name = <MaxDatasetNameLen as Get<u32>>::get();
	let short = DatasetName::try_from(name.as_bytes().to_vec())
		.map_err(|_| format!("{name}: names are at most {max_name} bytes (use --name)"))?;
	let info = DatasetInfo {
		name: short,
		rows: u32::try_from(rows).map_err(|_| "too many rows")?,
		columns: u32::try_from(columns).map_err(|_| "too many columns")?,
		bytes: bytes.len() as u64,
		public,
	};
	info.validate().map_err(|e| {
		format!(
			"{name}: the chain would refuse it ({e:?}): at most {} MiB, at least {} rows, a name \
			 of printable ASCII ending in .csv or .txt",
			MAX_DATASET_BYTES >> 20,
			aicchain_primitives::datasets::MIN_DATASET_ROWS
		)
	})?;
	Ok(info)
}

/// Where to upload: engine URLs given, and the engines nodes published on chain.
fn engines(client: &Client, urls: &[String], nodes: &[u32]) -> Result<Vec<String>, String> {
	let mut out = urls.to_vec();
	for node in nodes {
		out.push(crate::common::engine_url(client, *node)?);
	}
	Ok(out)
}

/// `dataset add`: registers `file` (unless the chain has it already) and uploads it to each
/// engine named.
pub(crate) fn add(
	client: &Client,
	suri: &str,
	file: &Path,
	name: Option<&str>,
	private: bool,
	upload: &[String],
	to_nodes: &[u32],
) -> Result<(), String> {
	let bytes = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
	if bytes.len() as u64 > MAX_DATASET_BYTES {
		return Err(format!("{}: over {} MiB", file.display(), MAX_DATASET_BYTES >> 20));
	}
	let name = match name {
		Some(name) => name.to_string(),
		None => file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
	};
	let info = record_of(&name, &bytes, !private)?;
	let hash = H256(aicchain_worker::dataset::blake2_256(&bytes));
	let targets = engines(client, upload, to_nodes)?;
	let key = keys::blake2_map("ComputeJobs", "Datasets", &hash);
	let known: Option<DatasetInfo> = client.storage(&key).map_err(explain)?;
	match known {
		Some(known) if known != info => {
			return Err(format!("0x{} is registered already, as {known:?}", hex::encode(hash)))
		},
		Some(_) => println!("0x{} is registered already", hex::encode(hash)),
		None => {
			let signer = pair_from_suri(suri)?;
			let call =
				pallet_compute_jobs::Call::<Runtime>::add_dataset { hash, info: info.clone() };
			submit_and_wait(client, &signer, RuntimeCall::ComputeJobs(call))?;
			let stored: Option<DatasetInfo> = client.storage(&key).map_err(explain)?;
			if stored.is_none() {
				return Err(format!(
					"the chain did not register it: {} needs {} AICC free for the deposit",
					account_of(&signer).to_ss58check(),
					show(<Runtime as pallet_compute_jobs::Config>::DatasetDeposit::get())
				));
			}
			println!(
				"registered 0x{} ({name}: {} rows, {} columns, {} bytes, {})",
				hex::encode(hash),
				info.rows,
				info.columns,
				info.bytes,
				if info.public { "public" } else { "private" }
			);
		},
	}
	// A private file goes only where its owner's record governs it: if someone else registered
	// its hash first, uploading would hand them the data.
	if private {
		let owners_key = keys::blake2_map("ComputeJobs", "DatasetOwners", &hash);
		let owner: Option<(AccountId, Balance)> = client.storage(&owners_key).map_err(explain)?;
		let signer = account_of(&pair_from_suri(suri)?);
		if owner.as_ref().map(|(who, _)| who) != Some(&signer) {
			return Err(format!(
				"0x{} is registered by another account: not uploading a private file",
				hex::encode(hash)
			));
		}
	}
	let path = format!("/datasets/0x{}", hex::encode(hash));
	let mut failed = Vec::new();
	for engine in &targets {
		let url = format!("{}{path}", engine.trim_end_matches('/'));
		match aicchain_worker::http::put(&url, &bytes) {
			Ok(Some(_)) => println!("uploaded to {engine}"),
			Ok(None) => failed.push(format!("{engine}: does not know the dataset yet")),
			Err(e) => failed.push(format!("{engine}: {e}")),
		}
	}
	if !failed.is_empty() {
		return Err(format!(
			"uploads failed (run the command again to retry):\n  {}",
			failed.join("\n  ")
		));
	}
	if targets.is_empty() {
		println!("upload it to the engines that will train and verify on it with --upload URL or --to-node ID");
	}
	println!("train on it: aicchain submit-job --train 0x{}", hex::encode(hash));
	Ok(())
}

/// `datasets`: every dataset jobs may name, with its owner (curated ones have none).
pub(crate) fn list(client: &Client) -> Result<(), String> {
	let prefix = keys::value("ComputeJobs", "Datasets");
	let prefix_hex = format!("0x{}", hex::encode(&prefix));
	let mut keys_hex: Vec<String> = Vec::new();
	loop {
		let start = keys_hex.last().cloned();
		let page =
			client.rpc("state_getKeysPaged", json!([prefix_hex, 1000, start])).map_err(explain)?;
		let page: Vec<String> = serde_json::from_value(page).map_err(|e| e.to_string())?;
		let done = page.len() < 1000;
		keys_hex.extend(page);
		if done {
			break;
		}
	}
	println!(
		"{:<66} {:<24} {:>7} {:>7} {:>10} {:<8} owner (deposit)",
		"hash", "name", "rows", "columns", "bytes", "access"
	);
	for key_hex in keys_hex {
		let key = hex::decode(key_hex.trim_start_matches("0x")).map_err(|e| e.to_string())?;
		// `Blake2_128Concat`: the hash is the key's last 32 bytes.
		let Some(tail) = key.len().checked_sub(32).and_then(|at| key.get(at..)) else {
			continue;
		};
		let hash = H256::from_slice(tail);
		let Some(info) = client.storage::<DatasetInfo>(&key).map_err(explain)? else {
			continue;
		};
		let owner: Option<(AccountId, Balance)> = client
			.storage(&keys::blake2_map("ComputeJobs", "DatasetOwners", &hash))
			.map_err(explain)?;
		println!(
			"0x{} {:<24} {:>7} {:>7} {:>10} {:<8} {}",
			hex::encode(hash),
			String::from_utf8_lossy(&info.name),
			info.rows,
			info.columns,
			info.bytes,
			if info.public { "public" } else { "private" },
			owner.map_or("curated".into(), |(who, deposit)| format!(
				"{} ({} AICC)",
				who.to_ss58check(),
				show(deposit)
			))
		);
	}
	Ok(())
}
