//! Paid-inference figures (run: `cargo bench -p aicchain-worker --bench inference`): latency of
//! one engine answering paid queries over HTTP on the reference MLP (each query's voucher
//! checked: signature, listing, channel, nonce, budget, then the forward pass and the voucher
//! written to disk), p50 / p99 sequentially, and throughput with 1, 2 and 4 clients at once.
//! The chain is a fixed in-memory state (a listed, served version and funded channels).

use aicchain_primitives::{
	inference::query_hash, Channel, Listing, ModelKind, TrainingSpec, Voucher,
};
use aicchain_worker::{
	dataset::{blake2_256, credit_scoring_csv, Dataset},
	engine::inference::query_body,
	inference::{features_bytes, keys, AccountId, ChainState, SignedVoucher},
	model, Engine, EngineConfig,
};
use codec::Encode;
use sp_core::{sr25519, Pair, H256};
use std::{collections::HashMap, sync::Arc, time::Instant};

const VERSION: u64 = 1;
const NODE: u32 = 0;
const PRICE: u128 = 1_000;
const GENESIS: H256 = H256::repeat_byte(7);

fn main() -> Result<(), Box<dyn std::error::Error>> {
	let bytes = credit_scoring_csv();
	let data = Dataset::from_csv(&bytes)?;
	let spec = TrainingSpec {
		dataset: H256(blake2_256(&bytes)),
		model: ModelKind::MlpClassifier,
		hidden_units: 32,
		hidden_layers: 2,
		learning_rate_millionths: 5_000,
		epochs: 5,
		seed: 1,
		min_score: Default::default(),
		parent: None,
	};
	let trained = model::train(&spec, &data, &candle_core::Device::Cpu)?;
	let users: Vec<sr25519::Pair> = (0..4)
		.map(|i| sr25519::Pair::from_string(&format!("//User{i}"), None))
		.collect::<Result<_, _>>()
		.map_err(|e| format!("{e:?}"))?;
	let mut state: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
	state.insert(keys::genesis(), GENESIS.encode());
	let listing = Listing {
		lister: AccountId::new([1; 32]),
		price: PRICE,
		model: 0,
		model_hash: H256(trained.hash),
		spec: spec.clone(),
	};
	state.insert(keys::listing(VERSION), listing.encode());
	state.insert(keys::servers(VERSION), vec![NODE].encode());
	for user in &users {
		let channel = Channel::<u128, u32> { deposit: u128::MAX / 8, nonce: 0, closes_at: None };
		state.insert(keys::channel(&user.public().into(), NODE), channel.encode());
	}
	let state = Arc::new(state);
	let dir = tempfile_dir()?;
	let config = EngineConfig {
		chain_state: Some(ChainState::new(move |key| state.get(key).cloned())),
		..EngineConfig::in_dir(&dir)
	};
	let engine = Engine::start(config)?;
	engine.models.put(&trained.bytes)?;
	let runtime = tokio::runtime::Runtime::new()?;
	let addr =
		runtime.block_on(aicchain_worker::http::spawn_server(engine, "127.0.0.1:0".parse()?))?;
	let url = format!("http://{addr}/infer");
	let width = data.n_features;
	let query = |user: &sr25519::Pair, nonce: u64| -> Result<f64, String> {
		let row = (nonce as usize) % data.rows();
		let input = data.features[row * width..(row + 1) * width].to_vec();
		let voucher = Voucher {
			user: user.public().into(),
			node: NODE,
			version: VERSION,
			nonce,
			price: PRICE,
			query: query_hash(&features_bytes(&input)),
		};
		let signature = user.sign(&voucher.signing_payload(&GENESIS));
		let signed: SignedVoucher = (voucher, signature.into());
		let body = query_body(&input, &signed);
		let start = Instant::now();
		aicchain_worker::http::request(&url, Some(&body))
			.map_err(|e| e.to_string())?
			.ok_or("not served")?;
		Ok(start.elapsed().as_secs_f64())
	};

	// Latency: one client, 1,000 queries (after 50 to warm up).
	let mut nonce = 0u64;
	for _ in 0..50 {
		nonce += 1;
		query(&users[0], nonce)?;
	}
	let mut latencies = Vec::new();
	for _ in 0..1_000 {
		nonce += 1;
		latencies.push(query(&users[0], nonce)?);
	}
	latencies.sort_by(f64::total_cmp);
	let at = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q).round() as usize] * 1e3;
	println!(
		"MLP 2x32, one client: p50 {:.2} ms, p99 {:.2} ms per paid query (1,000 queries)",
		at(0.5),
		at(0.99)
	);

	// Throughput: k clients (threads, one channel each), 400 queries each.
	let mut nonces = vec![nonce; users.len()];
	for clients in [1usize, 2, 4] {
		let start = Instant::now();
		let results: Vec<Result<(), String>> = std::thread::scope(|scope| {
			let handles: Vec<_> = users[..clients]
				.iter()
				.zip(nonces.iter_mut())
				.map(|(user, nonce)| {
					let query = &query;
					scope.spawn(move || {
						for _ in 0..400 {
							*nonce += 1;
							query(user, *nonce)?;
						}
						Ok(())
					})
				})
				.collect();
			handles.into_iter().map(|h| h.join().unwrap_or(Err("panicked".into()))).collect()
		});
		for r in results {
			r?;
		}
		let seconds = start.elapsed().as_secs_f64();
		println!(
			"{clients} client(s): {:.0} paid queries/s ({} queries in {seconds:.2} s)",
			(clients * 400) as f64 / seconds,
			clients * 400
		);
	}
	let _ = std::fs::remove_dir_all(&dir);
	Ok(())
}

fn tempfile_dir() -> std::io::Result<std::path::PathBuf> {
	let dir = std::env::temp_dir().join(format!("aicchain-inference-bench-{}", std::process::id()));
	std::fs::create_dir_all(&dir)?;
	Ok(dir)
}
