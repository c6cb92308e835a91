//! Online learning (PPO on a window of outcomes): the node that ran a job learns, cancelled and
//! expired jobs teach nothing, and the learner's state survives a restart.

use super::*;
use aicchain_primitives::{engine_api::CandidateNode, JobRequirements, SustainabilityPreference};
use sp_runtime::Percent;

fn node(node_id: u32, cost: u128, carbon: u32) -> CandidateNode {
	CandidateNode {
		node_id,
		gpu_count: 8,
		gpu_memory_gib: 80,
		bandwidth_mbps: 200,
		latency_ms: 10,
		renewable_share: Percent::from_percent(if carbon < 100 { 90 } else { 10 }),
		carbon_intensity: carbon,
		cost,
		reputation: Perbill::from_percent(80),
		active_jobs: 0,
		max_jobs: 4,
		completed_jobs: 10,
		failed_jobs: 1,
	}
}

/// An 8-GPU, 2-hour job with the given sustainability preference.
fn requirements(sustainability: SustainabilityPreference) -> JobRequirements {
	JobRequirements {
		gpus: 8,
		min_bandwidth_mbps: 100,
		max_latency_ms: 15,
		gpu_hours: 2,
		sustainability,
		training: None,
	}
}

fn select(engine: &Engine, job_id: JobId) -> u32 {
	let request = EngineRequest::Select {
		job_id,
		requirements: requirements(SustainabilityPreference::Any),
		budget: 1_000,
		candidates: vec![node(10, 600, 40), node(11, 500, 300), node(12, 700, 60)],
	};
	let EngineResponse::Selected { node_id, .. } = engine.handle(request) else { panic!() };
	node_id
}

fn outcome(job_id: JobId, node_id: u32, success: bool) -> EngineRequest {
	EngineRequest::Outcome(JobOutcome {
		job_id,
		node_id,
		success,
		cost: if success { 500 } else { 0 },
		carbon_grams: if success { 100 } else { 0 },
		blocks_taken: 20,
	})
}

/// The probability the policy now gives `node_id` among the pending features of `job_id`.
fn probability(engine: &Engine, features: &[[f32; FEATURES]], index: usize) -> f32 {
	let p = lock(&engine.policy).probabilities(features).expect("scores");
	p.get(index).copied().expect("candidate")
}

#[test]
fn a_failure_lowers_the_node_that_ran_the_job_whoever_chose_it() {
	let dir = tempfile::tempdir().expect("tempdir");
	let engine = Engine::start(EngineConfig::in_dir(dir.path())).expect("starts");
	let proposed = select(&engine, 1);
	let features = lock(&engine.learner).1.get(&1).expect("pending").candidates.clone();
	// Another validator's choice ran the job: node 12 (index 2), or 10 if this engine chose 12.
	let (ran, index) = if proposed == 12 { (10, 0) } else { (12, 2) };
	let before = probability(&engine, &features, index);
	assert_eq!(engine.handle(outcome(1, ran, false)), EngineResponse::Ack);
	let after = probability(&engine, &features, index);
	assert!(after < before, "the node that failed lost probability: {before} → {after}");
	assert_eq!(engine.status_json()["outcomes_learnt"], 1);
	// A node this engine never saw as a candidate teaches nothing, and the selection is gone.
	select(&engine, 2);
	let policy = std::fs::read(dir.path().join("policy.safetensors")).expect("saved");
	assert_eq!(engine.handle(outcome(2, 99, false)), EngineResponse::Ack);
	assert_eq!(std::fs::read(dir.path().join("policy.safetensors")).expect("saved"), policy);
	assert_eq!(
		engine.handle(EngineRequest::PendingOutcomes),
		EngineResponse::PendingOutcomes(vec![])
	);
	assert_eq!(engine.status_json()["outcomes_learnt"], 1);
}

#[test]
fn cancelled_and_expired_jobs_teach_nothing() {
	let dir = tempfile::tempdir().expect("tempdir");
	let engine = Engine::start(EngineConfig::in_dir(dir.path())).expect("starts");
	select(&engine, 3);
	let policy = std::fs::read(dir.path().join("policy.safetensors")).expect("saved");
	assert_eq!(engine.handle(EngineRequest::Forget(3)), EngineResponse::Ack);
	assert_eq!(
		engine.handle(EngineRequest::PendingOutcomes),
		EngineResponse::PendingOutcomes(vec![])
	);
	assert_eq!(std::fs::read(dir.path().join("policy.safetensors")).expect("saved"), policy);
	assert_eq!(engine.status_json()["outcomes_learnt"], 0);
	assert!(!dir.path().join("pending").join("3.json").exists());
	// Forgetting an unknown job is harmless.
	assert_eq!(engine.handle(EngineRequest::Forget(3)), EngineResponse::Ack);
}

#[test]
fn pending_selections_and_counters_survive_a_restart() {
	let dir = tempfile::tempdir().expect("tempdir");
	let engine = Engine::start(EngineConfig::in_dir(dir.path())).expect("starts");
	let first = select(&engine, 7);
	select(&engine, 8);
	assert_eq!(engine.handle(outcome(8, first, true)), EngineResponse::Ack);
	let window = lock(&engine.learner).0.window.clone();
	assert_eq!(window.len(), 1);
	let pending = lock(&engine.learner).1.get(&7).cloned().expect("pending");
	drop(engine);
	let engine = Engine::start(EngineConfig::in_dir(dir.path())).expect("restarts");
	assert_eq!(
		engine.handle(EngineRequest::PendingOutcomes),
		EngineResponse::PendingOutcomes(vec![7])
	);
	assert_eq!(engine.status_json()["outcomes_learnt"], 1);
	assert_eq!(lock(&engine.learner).0.window, window, "the window survives");
	assert_eq!(lock(&engine.learner).1.get(&7), Some(&pending), "the selection survives");
	// The outcome that arrives after the restart still teaches, over the whole window.
	assert_eq!(engine.handle(outcome(7, first, true)), EngineResponse::Ack);
	assert_eq!(engine.status_json()["outcomes_learnt"], 2);
	assert_eq!(lock(&engine.learner).0.window.len(), 2);
}

/// PPO's window: an outcome joins the last [`learner::WINDOW`] decisions and every update runs
/// over them; older ones leave. A decision whose node ran and succeeded, rewarded above the
/// critic's estimate, gains probability; the critic's estimate moves toward the rewards.
#[test]
fn ppo_learns_over_a_window_of_outcomes() {
	let dir = tempfile::tempdir().expect("tempdir");
	let engine = Engine::start(EngineConfig::in_dir(dir.path())).expect("starts");
	select(&engine, 0);
	let features = lock(&engine.learner).1.get(&0).expect("pending").candidates.clone();
	let critic = |e: &Engine| lock(&e.policy).expected_reward(&features).expect("value");
	let value_before = critic(&engine);
	// Node 12 (index 2) keeps running the jobs and keeps succeeding, cheaply and cleanly.
	let before = probability(&engine, &features, 2);
	for job_id in 0..(learner::WINDOW as u64 + 8) {
		if job_id > 0 {
			select(&engine, job_id);
		}
		let ran = EngineRequest::Outcome(JobOutcome {
			job_id,
			node_id: 12,
			success: true,
			cost: 100,
			carbon_grams: 0,
			blocks_taken: 20,
		});
		assert_eq!(engine.handle(ran), EngineResponse::Ack);
	}
	let after = probability(&engine, &features, 2);
	assert!(after > before, "the node that kept succeeding gained: {before} → {after}");
	let state = lock(&engine.learner).0.clone();
	assert_eq!(state.learnt, learner::WINDOW as u64 + 8);
	assert_eq!(state.window.len(), learner::WINDOW, "the oldest decisions left the window");
	let reward = state.window.back().expect("decision").reward as f32;
	let value_after = critic(&engine);
	assert!(
		(value_after - reward).abs() < (value_before - reward).abs(),
		"the critic moved toward the reward {reward}: {value_before} → {value_after}"
	);
}

/// Issue #10, item 6: the live policy used to score a job preferring renewable power like any
/// other. Now it sees such a job's carbon three times over, and learns from a reward in which
/// that carbon counts three times, as the chain's fallback weighs it.
#[test]
fn a_job_preferring_renewable_power_weighs_carbon_more() {
	let (any, prefer) = (
		requirements(SustainabilityPreference::Any),
		requirements(SustainabilityPreference::PreferRenewable),
	);
	let dirty = node(11, 500, 300);
	let (a, p) = (policy::features(&dirty, &any, 1_000), policy::features(&dirty, &prefer, 1_000));
	assert!((p[1] - 3.0 * a[1]).abs() < 1e-6, "{} vs {}", p[1], a[1]);
	assert_eq!((a[0], &a[2..]), (p[0], &p[2..]), "nothing else changes");

	let selection = |weight| learner::Pending {
		nodes: vec![11],
		candidates: vec![a],
		budget: 1_000,
		gpu_hours: 16,
		carbon_weight: weight,
	};
	let ran = |carbon_grams| JobOutcome {
		job_id: 1,
		node_id: 11,
		success: true,
		cost: 500,
		carbon_grams,
		blocks_taken: 20,
	};
	let (neutral, preferring) = (selection(1.0), selection(policy::carbon_weight(&prefer)));
	let carbon_cost =
		|s: &learner::Pending| learner::reward(s, &ran(0)) - learner::reward(s, &ran(4_000));
	assert!(carbon_cost(&neutral) > 0.0);
	assert!((carbon_cost(&preferring) - 3.0 * carbon_cost(&neutral)).abs() < 1e-9);
	// Without carbon, and for a failure, the preference changes nothing.
	assert_eq!(learner::reward(&neutral, &ran(0)), learner::reward(&preferring, &ran(0)));
	let failed = JobOutcome { success: false, ..ran(0) };
	assert_eq!(learner::reward(&neutral, &failed), learner::reward(&preferring, &failed));
}

/// Issue #10, item 5: engines that start from the same seed and learn the same outcomes in the
/// same order (as validators that saw the same chain do) propose the same node with the same
/// scores for every job, and end with byte-identical policies; one that missed outcomes ends
/// with another policy.
#[test]
fn engines_that_learn_the_same_outcomes_in_the_same_order_propose_alike() {
	let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().expect("tempdir")).collect();
	let engines: Vec<_> = dirs
		.iter()
		.map(|d| Engine::start(EngineConfig::in_dir(d.path())).expect("starts"))
		.collect();
	let mut rng = crate::rng::SeededRng::new(2026);
	for job_id in 0..150u64 {
		let candidates: Vec<CandidateNode> = (0..4u32)
			.map(|i| {
				let cost = 300 + u128::from(rng.below(600) as u32);
				let carbon = 20 + rng.below(700) as u32;
				CandidateNode {
					completed_jobs: rng.below(20) as u32,
					active_jobs: rng.below(4) as u32,
					..node(10 + i, cost, carbon)
				}
			})
			.collect();
		let request = EngineRequest::Select {
			job_id,
			requirements: requirements(if job_id % 3 == 0 {
				SustainabilityPreference::PreferRenewable
			} else {
				SustainabilityPreference::Any
			}),
			budget: 1_000,
			candidates,
		};
		let answers: Vec<EngineResponse> =
			engines.iter().map(|e| e.handle(request.clone())).collect();
		assert!(matches!(answers[0], EngineResponse::Selected { .. }), "{:?}", answers[0]);
		assert_eq!(answers[0], answers[1], "job {job_id}");
		let EngineResponse::Selected { node_id, .. } = answers[0] else { unreachable!() };
		let success = rng.uniform() < 0.7;
		// The engine that missed the first outcomes (offline) learns only the later ones.
		for (i, engine) in engines.iter().enumerate() {
			let request = if i == 2 && job_id < 10 {
				EngineRequest::Forget(job_id)
			} else {
				outcome(job_id, node_id, success)
			};
			assert_eq!(engine.handle(request), EngineResponse::Ack);
		}
	}
	let policy = |d: &tempfile::TempDir| std::fs::read(d.path().join("policy.safetensors"));
	let policies: Vec<Vec<u8>> = dirs.iter().map(|d| policy(d).expect("saved")).collect();
	assert_eq!(policies[0], policies[1], "same outcomes, same order: same policy");
	assert_ne!(policies[0], policies[2], "missed outcomes: another policy");
}

/// Issue #10, item 7: a decision's state (each candidate's named features), its action
/// probabilities, the critic's estimate and, once learnt, the node that ran and the reward.
#[test]
fn a_decision_shows_its_state_probabilities_and_reward() {
	let dir = tempfile::tempdir().expect("tempdir");
	let engine = Engine::start(EngineConfig::in_dir(dir.path())).expect("starts");
	let proposed = select(&engine, 5);
	let json = engine.decision_json(5).expect("kept");
	assert_eq!(json["chosen"], proposed);
	let scores = json["scores"].as_array().expect("scores");
	assert_eq!(scores.len(), 3);
	let total: f64 = scores.iter().map(|s| s["probability"].as_f64().expect("p")).sum();
	assert!((total - 1.0).abs() < 1e-4, "{total}");
	let pending = lock(&engine.learner).1.get(&5).cloned().expect("pending");
	for (score, features) in scores.iter().zip(&pending.candidates) {
		for (name, value) in decisions::FEATURE_NAMES.iter().zip(features) {
			// As f32 (the JSON may hold the f32's shortest decimal form).
			let shown = score["features"][*name].as_f64().map(|v| v as f32);
			assert_eq!(shown, Some(*value), "{name}");
		}
	}
	assert!(json["expectedReward"].as_f64().is_some_and(f64::is_finite), "{json}");
	assert!(json["outcome"].is_null());
	let ran = JobOutcome {
		job_id: 5,
		node_id: 12,
		success: true,
		cost: 500,
		carbon_grams: 100,
		blocks_taken: 20,
	};
	let reward = learner::reward(&pending, &ran);
	assert_eq!(engine.handle(EngineRequest::Outcome(ran)), EngineResponse::Ack);
	let json = engine.decision_json(5).expect("kept");
	assert_eq!(json["outcome"]["node"], 12);
	assert_eq!(json["outcome"]["reward"].as_f64(), Some(reward));
	assert!(engine.decision_json(6).is_none());
}

/// Whenever each engine was asked to select (before or after learning earlier outcomes), the
/// same outcomes learnt in the same order leave the same policy: what an engine learns does
/// not depend on the timing of its own selections.
#[test]
fn the_timing_of_selections_does_not_change_what_is_learnt() {
	let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().expect("tempdir")).collect();
	let engines: Vec<_> = dirs
		.iter()
		.map(|d| Engine::start(EngineConfig::in_dir(d.path())).expect("starts"))
		.collect();
	let ran = |job_id: u64| outcome(job_id, 10 + (job_id % 3) as u32, !job_id.is_multiple_of(4));
	// Engine 0 selects each job just before its outcome; engine 1 selects all of them first.
	for job_id in 0..40u64 {
		select(&engines[0], job_id);
		assert_eq!(engines[0].handle(ran(job_id)), EngineResponse::Ack);
	}
	for job_id in 0..40u64 {
		select(&engines[1], job_id);
	}
	for job_id in 0..40u64 {
		assert_eq!(engines[1].handle(ran(job_id)), EngineResponse::Ack);
	}
	let policy = |d: &tempfile::TempDir| std::fs::read(d.path().join("policy.safetensors"));
	assert_eq!(policy(&dirs[0]).expect("saved"), policy(&dirs[1]).expect("saved"));
	assert_eq!(lock(&engines[0].learner).0, lock(&engines[1].learner).0);
}
