//! Inputs the engine's benches share.

use aicchain_primitives::{engine_api::CandidateNode, JobRequirements, SustainabilityPreference};
use sp_runtime::{Perbill, Percent};

/// `count` candidate nodes whose features cycle through the chain's ranges.
pub fn candidates(count: usize) -> Vec<CandidateNode> {
	(0..count)
		.map(|i| CandidateNode {
			node_id: i as u32,
			gpu_count: 8 + (i % 8) as u32,
			gpu_memory_gib: 80,
			bandwidth_mbps: 100 + (i % 900) as u32,
			latency_ms: 1 + (i % 15) as u32,
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

/// The requirements every selection bench scores the candidates for.
pub fn requirements() -> JobRequirements {
	JobRequirements {
		gpus: 8,
		min_bandwidth_mbps: 100,
		max_latency_ms: 15,
		gpu_hours: 2,
		sustainability: SustainabilityPreference::Any,
		training: None,
	}
}
