//! The off-chain worker against a mocked engine: proposals, training, attestation, outcomes.

use super::*;
use aicchain_primitives::engine_api::{EngineRequest, EngineResponse, TaskStatus};
use codec::Encode;
use sp_runtime::Perbill;

fn select_request(job: JobId) -> EngineRequest {
	let stored = Jobs::<Test>::get(job).expect("job");
	EngineRequest::Select {
		job_id: job,
		requirements: stored.requirements.clone(),
		budget: stored.budget,
		candidates: ComputeJobs::candidate_features(
			job,
			&stored,
			System::block_number(),
			&Default::default(),
		),
	}
}

#[test]
fn validator_worker_proposes_the_engines_pick_once() {
	ExtBuilder.build_and_execute_offchain(|state| {
		let (solar_a, solar_b, grid) = demo_nodes();
		let job = submit(BUDGET);
		configure_engine();
		RecordingSigner::set_local_keys(vec![V1]);
		let request = select_request(job);
		let EngineRequest::Select { candidates, .. } = &request else { unreachable!() };
		// Nodes that meet the job's constraints within its budget are offered with their
		// cost; solar B (16 GPUs at 3 UNIT) would cost 240 UNIT, above the 200 UNIT budget.
		let offered: Vec<NodeId> = candidates.iter().map(|c| c.node_id).collect();
		assert_eq!(offered, vec![solar_a, grid]);
		assert!(!offered.contains(&solar_b));
		assert_eq!(candidates[0].cost, 160 * UNIT);
		expect(
			&state,
			request,
			EngineResponse::Selected { node_id: solar_b, scores: vec![(solar_b, Perbill::one())] },
		);
		let no_outcomes = || {
			expect(&state, EngineRequest::PendingOutcomes, EngineResponse::PendingOutcomes(vec![]))
		};
		no_outcomes();
		ComputeJobs::run_worker(System::block_number());
		let submitted = RecordingSigner::take_submitted();
		assert_eq!(
			submitted,
			vec![(
				V1,
				RuntimeCall::ComputeJobs(Call::propose_assignment {
					job_id: job,
					node_id: solar_b
				})
			)]
		);
		// The claim in offchain storage stops a second run from asking again.
		no_outcomes();
		ComputeJobs::run_worker(System::block_number());
		assert!(RecordingSigner::take_submitted().is_empty());
	});
}

#[test]
fn provider_worker_queues_training_then_submits_the_result() {
	ExtBuilder.build_and_execute_offchain(|state| {
		let (solar_a, _, _) = demo_nodes();
		let job = assigned_job(solar_a);
		configure_engine();
		RecordingSigner::set_local_keys(vec![SOLAR_A_WORKER]);
		let spec = demo_requirements().training.expect("training job");
		let train = EngineRequest::Train { job_id: job, spec, start: None };
		// Still training after the run's last look: nothing to submit yet.
		expect(&state, train.clone(), EngineResponse::Task(TaskStatus::Queued));
		for _ in 0..crate::worker::REPOLLS {
			expect(&state, train.clone(), EngineResponse::Task(TaskStatus::Running));
		}
		ComputeJobs::run_worker(System::block_number());
		assert!(RecordingSigner::take_submitted().is_empty(), "nothing to submit while training");
		let model_hash = H256::repeat_byte(4);
		let commitment =
			ComputeJobs::expected_commitment(job, H256::repeat_byte(5)).expect("training job");
		expect(
			&state,
			train,
			EngineResponse::Task(TaskStatus::Trained {
				model_hash,
				metrics: metrics(),
				commitment,
			}),
		);
		ComputeJobs::run_worker(System::block_number());
		assert_eq!(
			RecordingSigner::take_submitted(),
			vec![(
				SOLAR_A_WORKER,
				RuntimeCall::ComputeJobs(Call::submit_result {
					job_id: job,
					model_hash,
					metrics: metrics(),
					commitment: Some(commitment),
				})
			)]
		);
	});
}

/// A training that ends while the run waits is submitted by that run, a block earlier.
#[test]
fn a_training_that_ends_during_the_run_is_submitted_by_it() {
	ExtBuilder.build_and_execute_offchain(|state| {
		let (solar_a, _, _) = demo_nodes();
		let job = assigned_job(solar_a);
		configure_engine();
		RecordingSigner::set_local_keys(vec![SOLAR_A_WORKER]);
		let spec = demo_requirements().training.expect("training job");
		let train = EngineRequest::Train { job_id: job, spec, start: None };
		let model_hash = H256::repeat_byte(4);
		let commitment =
			ComputeJobs::expected_commitment(job, H256::repeat_byte(5)).expect("training job");
		let trained = TaskStatus::Trained { model_hash, metrics: metrics(), commitment };
		expect(&state, train.clone(), EngineResponse::Task(TaskStatus::Queued));
		expect(&state, train, EngineResponse::Task(trained));
		let before = state.read().timestamp;
		ComputeJobs::run_worker(System::block_number());
		assert_eq!(RecordingSigner::take_submitted().len(), 1);
		// It waited once, and no longer than one pause.
		let waited = state.read().timestamp.diff(&before).millis();
		assert_eq!(waited, crate::worker::REPOLL_AFTER_MS);
	});
}

#[test]
fn validator_attests_the_engines_verdict_but_never_its_own_nodes_result() {
	ExtBuilder.build_and_execute_offchain(|state| {
		let (solar_a, _, _) = demo_nodes();
		// The verifier is told where the provider published its engine.
		let engine = b"http://203.0.113.7:9960".to_vec();
		assert_ok!(Registry::set_engine_url(
			RuntimeOrigin::signed(SOLAR_A),
			solar_a,
			Some(engine.clone().try_into().expect("short"))
		));
		let job = submitted_result(solar_a, SOLAR_A_WORKER);
		configure_engine();
		RecordingSigner::set_local_keys(vec![V3]);
		// In the block the result landed in, its challenge is unknown: nothing to verify.
		expect(&state, EngineRequest::PendingOutcomes, EngineResponse::PendingOutcomes(vec![]));
		ComputeJobs::run_worker(System::block_number());
		assert!(RecordingSigner::take_submitted().is_empty());
		run_to_block(System::block_number() + 1);
		let spec = demo_requirements().training.expect("training job");
		expect(
			&state,
			EngineRequest::Verify {
				job_id: job,
				start: None,
				spec,
				model_hash: H256::repeat_byte(9),
				metrics: metrics(),
				commitment: ComputeJobs::expected_commitment(job, H256::repeat_byte(7))
					.expect("training job"),
				challenge: ComputeJobs::challenge(job).expect("the next block"),
				verifier: V3.encode(),
				provider_engine: Some(engine),
			},
			EngineResponse::Task(TaskStatus::Verified {
				accept: false,
				reason: b"score inflated".to_vec(),
			}),
		);
		// After attesting, the worker reports outcomes of jobs its engine selected for.
		expect(&state, EngineRequest::PendingOutcomes, EngineResponse::PendingOutcomes(vec![]));
		ComputeJobs::run_worker(System::block_number());
		assert_eq!(
			RecordingSigner::take_submitted(),
			vec![(V3, RuntimeCall::ComputeJobs(Call::attest { job_id: job, accept: false }))]
		);

		// A validator whose key is also the node's worker stays out of it. (The first job
		// holds all 8 of solar A's GPUs until its window closes, unverified.)
		run_to_block(System::block_number() + ATTESTATION_WINDOW);
		assert_eq!(status(job), JobStatus::Unverified { node: solar_a });
		let other = submitted_result(solar_a, SOLAR_A_WORKER);
		MockValidators::set(vec![V1, V2, SOLAR_A_WORKER]);
		RecordingSigner::set_local_keys(vec![SOLAR_A_WORKER]);
		expect(&state, EngineRequest::PendingOutcomes, EngineResponse::PendingOutcomes(vec![]));
		ComputeJobs::run_worker(System::block_number());
		assert!(RecordingSigner::take_submitted().iter().all(|(_, call)| !matches!(
			call,
			RuntimeCall::ComputeJobs(Call::attest { job_id, .. }) if *job_id == other
		)));
	});
}

#[test]
fn without_keys_or_engine_the_worker_does_nothing() {
	ExtBuilder.build_and_execute_offchain(|_state| {
		demo_nodes();
		submit(BUDGET);
		configure_engine();
		// No key: no request is made (the test state panics on unexpected requests).
		ComputeJobs::run_worker(System::block_number());
		assert!(RecordingSigner::take_submitted().is_empty());
	});
	ExtBuilder.build_and_execute_offchain(|_state| {
		demo_nodes();
		submit(BUDGET);
		RecordingSigner::set_local_keys(vec![V1]);
		// A key but no engine URL: nothing is signed.
		ComputeJobs::run_worker(System::block_number());
		assert!(RecordingSigner::take_submitted().is_empty());
	});
}
