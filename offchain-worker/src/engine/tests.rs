//! The engine's queue, training and selection.

use super::*;
use crate::dataset::{blake2_256, credit_scoring_csv};
use aicchain_primitives::{
	engine_api::CandidateNode, JobRequirements, ModelKind, SustainabilityPreference,
};
use sp_runtime::Percent;
use std::time::{Duration, Instant};

/// The credit classifier, 1×8, 2 epochs: 76 steps in 16 segments of 5.
pub(super) fn spec() -> TrainingSpec {
	TrainingSpec {
		dataset: H256(blake2_256(&credit_scoring_csv())),
		model: ModelKind::MlpClassifier,
		hidden_units: 8,
		hidden_layers: 1,
		learning_rate_millionths: 10_000,
		epochs: 2,
		seed: 5,
		min_score: Default::default(),
		parent: None,
	}
}

/// Repeats `request` until its task finishes.
pub(super) fn poll(engine: &Engine, request: EngineRequest) -> TaskStatus {
	let start = Instant::now();
	loop {
		match engine.handle(request.clone()) {
			EngineResponse::Task(TaskStatus::Queued | TaskStatus::Running) => {},
			EngineResponse::Task(status) => return status,
			other => panic!("unexpected {other:?}"),
		}
		assert!(start.elapsed() < Duration::from_secs(120), "task never finished");
		std::thread::sleep(Duration::from_millis(20));
	}
}

/// A `Verify` request for a published result.
pub(super) fn verify_request(
	job_id: JobId,
	model_hash: H256,
	metrics: QuantisedMetrics,
	commitment: aicchain_primitives::TrainingCommitment,
) -> EngineRequest {
	EngineRequest::Verify {
		job_id,
		spec: spec(),
		model_hash,
		metrics,
		commitment,
		challenge: H256::repeat_byte(9),
		verifier: b"verifier".to_vec(),
		provider_engine: None,
		start: None,
	}
}

/// The reason of a rejection (panics on anything else).
pub(super) fn rejection(status: TaskStatus) -> String {
	match status {
		TaskStatus::Verified { accept: false, reason } => String::from_utf8_lossy(&reason).into(),
		other => panic!("expected a rejection, got {other:?}"),
	}
}

#[test]
fn train_then_verify_accepts_honest_and_rejects_inflated_results() {
	let dir = tempfile::tempdir().expect("tempdir");
	let engine = Engine::start(EngineConfig::in_dir(dir.path())).expect("starts");
	let TaskStatus::Trained { model_hash, metrics, commitment } =
		poll(&engine, EngineRequest::Train { job_id: 1, spec: spec(), start: None })
	else {
		panic!("training failed")
	};
	assert!(engine.models.get(&model_hash.0).is_some(), "model stored by its hash");
	let leaves = engine.models.leaves(&commitment.root.0).expect("checkpoints stored by root");
	assert_eq!(leaves.len() as u32, commitment.checkpoints);
	let honest = verify_request(1, model_hash, metrics, commitment);
	assert_eq!(
		poll(&engine, honest.clone()),
		TaskStatus::Verified { accept: true, reason: vec![] }
	);
	// Idempotent: the finished task is reported again, not re-run.
	assert_eq!(
		engine.handle(honest),
		EngineResponse::Task(TaskStatus::Verified { accept: true, reason: vec![] })
	);
	let inflated = QuantisedMetrics { score: Perbill::from_percent(99), ..metrics };
	let reason = rejection(poll(&engine, verify_request(2, model_hash, inflated, commitment)));
	assert!(reason.starts_with("metrics: score"), "{reason}");
	// A hash nobody serves is rejected as unavailable.
	let request = verify_request(3, H256::repeat_byte(1), metrics, commitment);
	let reason = rejection(poll(&engine, request));
	assert!(reason.contains("unavailable"), "{reason}");
	// A verifier with an empty store and no peer cannot get the model: it rejects (there is no
	// rebuild from the spec any more).
	let other = tempfile::tempdir().expect("tempdir");
	let verifier = Engine::start(EngineConfig::in_dir(other.path())).expect("starts");
	let reason = rejection(poll(&verifier, verify_request(1, model_hash, metrics, commitment)));
	assert!(reason.contains("unavailable"), "{reason}");
}

#[test]
fn unknown_dataset_fails_the_task_without_panicking() {
	let dir = tempfile::tempdir().expect("tempdir");
	let engine = Engine::start(EngineConfig::in_dir(dir.path())).expect("starts");
	let mut bad = spec();
	bad.dataset = H256::repeat_byte(3);
	assert!(matches!(
		poll(&engine, EngineRequest::Train { job_id: 9, spec: bad, start: None }),
		TaskStatus::Failed(_)
	));
	bad = spec();
	bad.hidden_units = 0;
	assert!(matches!(
		poll(&engine, EngineRequest::Train { job_id: 10, spec: bad, start: None }),
		TaskStatus::Failed(_)
	));
	assert!(device_from_name("tpu").is_err());
}

#[test]
fn selection_scores_every_candidate_and_learns_from_outcomes() {
	let dir = tempfile::tempdir().expect("tempdir");
	let engine = Engine::start(EngineConfig::in_dir(dir.path())).expect("starts");
	let node = |node_id, cost, reputation, carbon| CandidateNode {
		node_id,
		gpu_count: 8,
		gpu_memory_gib: 80,
		bandwidth_mbps: 200,
		latency_ms: 10,
		renewable_share: Percent::from_percent(if carbon < 100 { 90 } else { 10 }),
		carbon_intensity: carbon,
		cost,
		reputation: Perbill::from_percent(reputation),
		active_jobs: 0,
		max_jobs: 4,
		completed_jobs: 10,
		failed_jobs: 0,
	};
	let requirements = JobRequirements {
		gpus: 8,
		min_bandwidth_mbps: 100,
		max_latency_ms: 15,
		gpu_hours: 2,
		sustainability: SustainabilityPreference::Any,
		training: None,
	};
	let request = EngineRequest::Select {
		job_id: 4,
		requirements,
		budget: 1_000,
		candidates: vec![node(0, 900, 40, 600), node(1, 500, 95, 40), node(2, 600, 90, 50)],
	};
	let EngineResponse::Selected { node_id, scores } = engine.handle(request) else { panic!() };
	assert_eq!(scores.len(), 3);
	let best = scores.iter().max_by_key(|(_, s)| *s).map(|(n, _)| *n);
	assert_eq!(Some(node_id), best);
	// The expensive, dirty, unreliable node is never the pick.
	assert_ne!(node_id, 0);
	assert_eq!(
		engine.handle(EngineRequest::PendingOutcomes),
		EngineResponse::PendingOutcomes(vec![4])
	);
	let before = std::fs::read(dir.path().join("policy.safetensors")).expect("saved at start");
	let outcome = JobOutcome {
		job_id: 4,
		node_id,
		success: true,
		cost: 500,
		carbon_grams: 100,
		blocks_taken: 20,
	};
	assert_eq!(engine.handle(EngineRequest::Outcome(outcome)), EngineResponse::Ack);
	assert_eq!(
		engine.handle(EngineRequest::PendingOutcomes),
		EngineResponse::PendingOutcomes(vec![])
	);
	let after = std::fs::read(dir.path().join("policy.safetensors")).expect("saved");
	assert_ne!(before, after, "the update was persisted");
}
