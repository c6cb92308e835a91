//! Selection latency through the engine's HTTP API, as a validator's off-chain worker sees it:
//! a fresh connection per request, a SCALE `Select` posted to `/ocw`, the answer decoded.
//! `make perf` runs it; alone: `cargo bench -p aicchain-worker --bench selection`.
//!
//! Prints one JSON object per candidate count:
//! `{"kind":"selection","candidates":N,"requests":R,"p50_us":..,"p95_us":..}`.
//! Options: `--counts 10,32,1000` (the node passes at most 32), `--requests 200`.

use aicchain_primitives::{
	engine_api::{CandidateNode, EngineRequest, EngineResponse},
	JobRequirements, SustainabilityPreference,
};
use aicchain_worker::{
	engine::{Engine, EngineConfig},
	http,
};
use codec::{Decode, Encode};
use sp_runtime::{Perbill, Percent};
use std::time::Instant;

fn candidates(count: usize) -> Vec<CandidateNode> {
	(0..count)
		.map(|i| CandidateNode {
			node_id: i as u32,
			gpu_count: 8 + (i % 8) as u32,
			gpu_memory_gib: 80,
			bandwidth_mbps: 100 + (i % 100) as u32,
			latency_ms: 5 + (i % 15) as u32,
			renewable_share: Percent::from_percent((i % 101) as u8),
			carbon_intensity: (i % 800) as u32,
			cost: 500 + (i % 1_000) as u128,
			reputation: Perbill::from_percent((i % 101) as u32),
			active_jobs: (i % 4) as u32,
			max_jobs: 4,
			completed_jobs: (i % 50) as u32,
			failed_jobs: (i % 7) as u32,
		})
		.collect()
}

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
	let requirements = JobRequirements {
		gpus: 8,
		min_bandwidth_mbps: 100,
		max_latency_ms: 15,
		gpu_hours: 2,
		sustainability: SustainabilityPreference::Any,
		training: None,
	};
	let mut job_id = 0;
	for count in counts {
		let candidates = candidates(count);
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
