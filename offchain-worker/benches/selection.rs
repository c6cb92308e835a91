//! Selection latency through the engine's HTTP API, as a validator's off-chain worker sees it:
//! a fresh connection per request, a SCALE `Select` posted to `/ocw`, the answer decoded.
//! `make perf` runs it; alone: `cargo bench -p aicchain-worker --bench selection`.
//!
//! Prints one JSON object per candidate count:
//! `{"kind":"selection","candidates":N,"requests":R,"p50_us":..,"p95_us":..}`.
//! Options: `--counts 10,32,1000` (the node passes at most 32), `--requests 200`.

mod common;

use aicchain_primitives::engine_api::{EngineRequest, EngineResponse};
use aicchain_worker::{
	engine::{Engine, EngineConfig},
	http,
};
use codec::{Decode, Encode};
use std::time::Instant;

fn arg(args: &[String], name: &str) -> Option<String> {
	args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
	let args: Vec<String> = std::env::args().collect();
	let counts: Vec<usize> = arg(&args, "--counts")
		.unwrap_or_else(|| "10,32,1000".into())
		.split(',')
		.map(str::parse)
		.collect::<Result<_, _>>()?;
	let requests: usize = arg(&args, "--requests").map(|r| r.parse()).transpose()?.unwrap_or(200);
	if requests == 0 || counts.contains(&0) {
		return Err("--requests and every --counts entry must be positive".into());
	}
	let dir = tempfile::tempdir()?;
	let engine = Engine::start(EngineConfig::in_dir(dir.path()))?;
	let runtime = tokio::runtime::Runtime::new()?;
	let address = runtime.block_on(http::spawn_server(engine, "127.0.0.1:0".parse()?))?;
	let url = format!("http://{address}/ocw");
	let requirements = common::requirements();
	let mut job_id = 0;
	for count in counts {
		let candidates = common::candidates(count);
		let mut micros = Vec::with_capacity(requests);
		// One unmeasured request per count warms the connection path and the policy.
		for round in 0..=requests {
			job_id += 1;
			let request = EngineRequest::Select {
				job_id,
				requirements: requirements.clone(),
				budget: 2_000,
				candidates: candidates.clone(),
			}
			.encode();
			let start = Instant::now();
			let answer = http::ocw_request(&url, None, &request)?.ok_or("no answer")?;
			let elapsed = start.elapsed();
			match EngineResponse::decode(&mut &answer[..])? {
				EngineResponse::Selected { .. } => {},
				other => return Err(format!("unexpected answer: {other:?}").into()),
			}
			if round > 0 {
				micros.push(elapsed.as_secs_f64() * 1e6);
			}
		}
		micros.sort_by(f64::total_cmp);
		let at =
			|p: f64| micros[((p * micros.len() as f64).ceil() as usize).clamp(1, micros.len()) - 1];
		println!(
			"{}",
			serde_json::json!({
				"kind": "selection", "candidates": count, "requests": requests,
				"p50_us": at(0.5).round(), "p95_us": at(0.95).round(),
			})
		);
	}
	Ok(())
}
