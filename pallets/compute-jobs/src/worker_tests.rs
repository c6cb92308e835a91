//! Off-chain worker tests: bursts of work in one block, the per-run cap, declining a job the
//! engine refuses, and heartbeats that bring a dormant node back.

use crate::{
	mock::*,
	worker::{MAX_TRANSACTIONS_PER_RUN, RETRY_AFTER_BLOCKS},
	*,
};
use aicchain_primitives::engine_api::{EngineRequest, EngineResponse, TaskStatus};
use codec::Encode;
use frame_support::{assert_ok, traits::UnfilteredDispatchable};
use sp_runtime::Perbill;

const BUDGET: Balance = 200 * UNIT;

/// Registers a node whose worker key accepted the binding.
fn register(owner: AccountId, worker: AccountId, gpus: u32, price: Balance) -> NodeId {
	let id = pallet_compute_registry::NextNodeId::<Test>::get();
	assert_ok!(Registry::register_node(
		RuntimeOrigin::signed(owner),
		spec(gpus, price, 90, 40),
		worker
	));
	if worker != owner {
		assert_ok!(Registry::accept_worker(RuntimeOrigin::signed(worker), id));
	}
	id
}

/// Solar A (8 GPUs), solar B (16) and grid (8), each with room for two 4-GPU jobs.
fn nodes() -> (NodeId, NodeId, NodeId) {
	(
		register(SOLAR_A, SOLAR_A_WORKER, 8, 2 * UNIT),
		register(SOLAR_B, SOLAR_B_WORKER, 16, 2 * UNIT),
		register(GRID, GRID_WORKER, 8, 2 * UNIT),
	)
}

/// The demo training job on 4 GPUs.
fn submit_small_job() -> JobId {
	let id = NextJobId::<Test>::get();
	let requirements = JobRequirements { gpus: 4, ..demo_requirements() };
	assert_ok!(ComputeJobs::submit_job(RuntimeOrigin::signed(USER), requirements, BUDGET));
	id
}

/// A 4-GPU job assigned to `node` by a majority of proposals.
fn assigned_job(node: NodeId) -> JobId {
	let job = submit_small_job();
	assert_ok!(ComputeJobs::propose_assignment(RuntimeOrigin::signed(V1), job, node));
	assert_ok!(ComputeJobs::propose_assignment(RuntimeOrigin::signed(V2), job, node));
	assert!(matches!(Jobs::<Test>::get(job).expect("job").status, JobStatus::Assigned { .. }));
	job
}

fn no_outcomes(state: &OffchainState) {
	expect(state, EngineRequest::PendingOutcomes, EngineResponse::PendingOutcomes(vec![]));
}

/// The engine picks the first candidate the worker offers for `job` once the jobs placed before
/// it in the run (`reserved`) have taken their share; that pick is reserved in turn. `None` (and
/// no engine request expected) when no candidate has room.
fn expect_first_pick(
	state: &OffchainState,
	job: JobId,
	reserved: &mut crate::reservations::Reservations,
) -> Option<NodeId> {
	let stored = Jobs::<Test>::get(job).expect("job");
	let candidates =
		ComputeJobs::candidate_features(job, &stored, System::block_number(), reserved);
	let node = candidates.first()?.node_id;
	expect(
		state,
		EngineRequest::Select {
			job_id: job,
			requirements: stored.requirements.clone(),
			budget: stored.budget,
			candidates,
		},
		EngineResponse::Selected { node_id: node, scores: vec![(node, Perbill::one())] },
	);
	reserved.reserve(node, stored.requirements.gpus);
	Some(node)
}

fn proposals_sent() -> Vec<JobId> {
	RecordingSigner::take_submitted()
		.into_iter()
		.map(|(who, call)| match call {
			RuntimeCall::ComputeJobs(Call::propose_assignment { job_id, .. }) if who == V1 => {
				job_id
			},
			other => panic!("unexpected {other:?}"),
		})
		.collect()
}

/// Attack 10: before this change, the worker signed at most one transaction per key per block
/// (the signer took the nonce from chain state, so a second one would have collided): with five
/// pending jobs one run proposed for one of them, and a burst of jobs went by with most never
/// proposed for. Now one run proposes for all five.
#[test]
fn one_run_proposes_for_every_pending_job() {
	ExtBuilder.build_and_execute_offchain(|state| {
		nodes();
		let jobs: Vec<JobId> = (0..5).map(|_| submit_small_job()).collect();
		configure_engine();
		RecordingSigner::set_local_keys(vec![V1]);
		let mut reserved = Default::default();
		for &job in &jobs {
			assert!(expect_first_pick(&state, job, &mut reserved).is_some());
		}
		no_outcomes(&state);
		ComputeJobs::run_worker(System::block_number());
		assert_eq!(proposals_sent(), jobs);
	});
}

/// Attack 10: before this change, a validator attested one submitted result per block, so of
/// five results submitted together most ended `Unverified` (unpaid) when their window closed.
/// Now one run attests all five, and each attestation is accepted on chain.
#[test]
fn one_run_attests_every_submitted_result() {
	ExtBuilder.build_and_execute_offchain(|state| {
		let (solar_a, solar_b, grid) = nodes();
		let placed =
			[(solar_a, SOLAR_A_WORKER), (solar_a, SOLAR_A_WORKER), (solar_b, SOLAR_B_WORKER)]
				.into_iter()
				.chain([(solar_b, SOLAR_B_WORKER), (grid, GRID_WORKER)]);
		let mut jobs = Vec::new();
		for (node, worker) in placed {
			let job = assigned_job(node);
			assert_ok!(publish_result(worker, job));
			jobs.push(job);
		}
		configure_engine();
		RecordingSigner::set_local_keys(vec![V3]);
		run_to_block(System::block_number() + 1);
		let spec = demo_requirements().training.expect("training job");
		for &job in &jobs {
			expect(
				&state,
				EngineRequest::Verify {
					job_id: job,
					start: None,
					spec: spec.clone(),
					model_hash: H256::repeat_byte(9),
					metrics: metrics(),
					commitment: ComputeJobs::expected_commitment(job, H256::repeat_byte(7))
						.expect("training job"),
					challenge: ComputeJobs::challenge(job).expect("the next block"),
					verifier: V3.encode(),
					provider_engine: None,
				},
				EngineResponse::Task(TaskStatus::Verified { accept: true, reason: Vec::new() }),
			);
		}
		no_outcomes(&state);
		ComputeJobs::run_worker(System::block_number());
		let sent = RecordingSigner::take_submitted();
		let expected: Vec<_> = jobs
			.iter()
			.map(|&job_id| (V3, RuntimeCall::ComputeJobs(Call::attest { job_id, accept: true })))
			.collect();
		assert_eq!(sent, expected);
		for (who, call) in sent {
			assert_ok!(call.dispatch_bypass_filter(RuntimeOrigin::signed(who)));
		}
		for job in jobs {
			assert_eq!(Attestations::<Test>::get(job).len(), 1);
		}
	});
}

/// A run signs at most `MAX_TRANSACTIONS_PER_RUN` transactions; the next run carries on with
/// the rest, and never repeats what the first one claimed (here: heartbeats of more local
/// provider nodes than the cap).
#[test]
fn a_run_signs_at_most_the_cap_and_the_next_one_carries_on() {
	ExtBuilder.build_and_execute_offchain(|_state| {
		let workers: Vec<AccountId> =
			(0..u64::from(MAX_TRANSACTIONS_PER_RUN) + 4).map(|i| 10_000 + i).collect();
		MaxNodes::set(1_000);
		MaxNodesPerClass::set(1_000);
		for &worker in &workers {
			assert_ok!(Balances::force_set_balance(RuntimeOrigin::root(), worker, 10 * BOND));
			register(worker, worker, 8, 2 * UNIT);
		}
		let timeout = <Test as pallet_compute_registry::Config>::HeartbeatTimeout::get();
		System::set_block_number(System::block_number() + timeout / 2);
		RecordingSigner::set_local_keys(workers.clone());
		let heartbeats = || {
			RecordingSigner::take_submitted()
				.into_iter()
				.map(|(who, call)| match call {
					RuntimeCall::Registry(pallet_compute_registry::Call::heartbeat { .. }) => who,
					other => panic!("unexpected {other:?}"),
				})
				.collect::<Vec<_>>()
		};
		let (first, rest) = workers.split_at(MAX_TRANSACTIONS_PER_RUN as usize);
		ComputeJobs::run_worker(System::block_number());
		assert_eq!(heartbeats(), first);
		ComputeJobs::run_worker(System::block_number());
		assert_eq!(heartbeats(), rest);
	});
}

/// Found on the 4-validator zombienet (80 jobs, 8 a block): every validator scored each of a
/// block's jobs against the same chain state, so all of them went to the one best node; it
/// took what it had room for and the other proposals failed (`NoFreeCapacity`, 141 of them),
/// leaving 43 of 80 jobs to the fallback. Now a run counts the nodes its earlier proposals
/// take: a burst is spread over the nodes with room, the jobs already proposed for (on chain or
/// in flight) keep their share in the next block, and every proposal lands.
#[test]
fn a_burst_of_jobs_is_spread_over_the_nodes_with_room() {
	ExtBuilder.build_and_execute_offchain(|state| {
		nodes();
		configure_engine();
		RecordingSigner::set_local_keys(vec![V1]);
		let first: Vec<JobId> = (0..3).map(|_| submit_small_job()).collect();
		let mut reserved = Default::default();
		let mut picks = Vec::new();
		for &job in &first {
			picks.push((job, expect_first_pick(&state, job, &mut reserved).expect("room")));
		}
		no_outcomes(&state);
		ComputeJobs::run_worker(System::block_number());
		assert_eq!(proposals_sent(), first);
		// V1's proposals land; one validator of three assigns nothing.
		for &(job_id, node_id) in &picks {
			assert_ok!(ComputeJobs::propose_assignment(RuntimeOrigin::signed(V1), job_id, node_id));
		}

		// Next block, three more jobs (room for three in all): the pending ones keep their share.
		System::set_block_number(System::block_number() + 1);
		let second: Vec<JobId> = (0..4).map(|_| submit_small_job()).collect();
		let mut reserved = crate::reservations::Reservations::default();
		for &(_, node) in &picks {
			reserved.reserve(node, 4);
		}
		let mut more = Vec::new();
		for &job in &second[..3] {
			more.push((job, expect_first_pick(&state, job, &mut reserved).expect("room")));
		}
		assert_eq!(expect_first_pick(&state, second[3], &mut reserved), None, "all nodes full");
		no_outcomes(&state);
		ComputeJobs::run_worker(System::block_number());
		assert_eq!(proposals_sent(), &second[..3]);
		picks.extend(more);
		let mut used: Vec<NodeId> = picks.iter().map(|(_, n)| *n).collect();
		used.sort();
		used.dedup();
		assert_eq!(used.len(), 3, "the six jobs use all three nodes");
		// A second validator agrees on every pick, and each is assigned by majority.
		for &(job_id, node_id) in &picks {
			if job_id >= second[0] {
				assert_ok!(ComputeJobs::propose_assignment(
					RuntimeOrigin::signed(V1),
					job_id,
					node_id
				));
			}
			assert_ok!(ComputeJobs::propose_assignment(RuntimeOrigin::signed(V2), job_id, node_id));
			assert!(matches!(
				Jobs::<Test>::get(job_id).expect("job").status,
				JobStatus::Assigned { node, .. } if node == node_id
			));
		}
	});
}

/// When the engine refuses an assigned job (here: a dataset it does not have), the provider's
/// worker declines it at once, so the job goes back to matching instead of timing out with the
/// node's bond slashed.
#[test]
fn provider_declines_a_job_its_engine_refuses() {
	ExtBuilder.build_and_execute_offchain(|state| {
		let (solar_a, _, _) = nodes();
		let job = assigned_job(solar_a);
		configure_engine();
		RecordingSigner::set_local_keys(vec![SOLAR_A_WORKER]);
		let train = EngineRequest::Train {
			job_id: job,
			start: None,
			spec: demo_requirements().training.expect("training job"),
		};
		let refused = EngineResponse::Task(TaskStatus::Failed(b"unknown dataset".to_vec()));
		expect(&state, train.clone(), refused.clone());
		ComputeJobs::run_worker(System::block_number());
		let sent = RecordingSigner::take_submitted();
		assert_eq!(
			sent,
			vec![(SOLAR_A_WORKER, RuntimeCall::ComputeJobs(Call::decline_job { job_id: job }))]
		);
		// The bound worker key may decline: the job is open for matching again, nothing slashed.
		let bond = pallet_compute_registry::Nodes::<Test>::get(solar_a).expect("node").bond;
		for (who, call) in sent {
			assert_ok!(call.dispatch_bypass_filter(RuntimeOrigin::signed(who)));
		}
		assert_eq!(Jobs::<Test>::get(job).expect("job").status, JobStatus::Pending);
		assert_eq!(pallet_compute_registry::Nodes::<Test>::get(solar_a).expect("node").bond, bond);
	});
}

/// The claim on a decline lasts `RETRY_AFTER_BLOCKS`: overlapping runs decline once.
#[test]
fn a_refused_job_is_declined_once_per_retry_period() {
	ExtBuilder.build_and_execute_offchain(|state| {
		let (solar_a, _, _) = nodes();
		let job = assigned_job(solar_a);
		configure_engine();
		RecordingSigner::set_local_keys(vec![SOLAR_A_WORKER]);
		let train = EngineRequest::Train {
			job_id: job,
			start: None,
			spec: demo_requirements().training.expect("training job"),
		};
		let refused = EngineResponse::Task(TaskStatus::Failed(b"unknown dataset".to_vec()));
		expect(&state, train.clone(), refused.clone());
		ComputeJobs::run_worker(System::block_number());
		assert_eq!(RecordingSigner::take_submitted().len(), 1);
		expect(&state, train.clone(), refused.clone());
		ComputeJobs::run_worker(System::block_number());
		assert!(RecordingSigner::take_submitted().is_empty());
		// Still assigned after the retry period (the decline was lost): decline again.
		System::set_block_number(System::block_number() + u64::from(RETRY_AFTER_BLOCKS));
		expect(&state, train, refused);
		ComputeJobs::run_worker(System::block_number());
		assert_eq!(
			RecordingSigner::take_submitted(),
			vec![(SOLAR_A_WORKER, RuntimeCall::ComputeJobs(Call::decline_job { job_id: job }))]
		);
	});
}

/// A node pruned as dead (dormant) gets its heartbeat from its worker as soon as the worker
/// runs again, which brings it back into matching.
#[test]
fn worker_heartbeats_a_dormant_node_back_into_matching() {
	ExtBuilder.build_and_execute_offchain(|_state| {
		let (solar_a, _, _) = nodes();
		let timeout = <Test as pallet_compute_registry::Config>::HeartbeatTimeout::get();
		System::set_block_number(System::block_number() + timeout + 1);
		assert_ok!(Registry::prune_dead_node(RuntimeOrigin::signed(OUTSIDER), solar_a));
		let node = pallet_compute_registry::Nodes::<Test>::get(solar_a).expect("node");
		assert_eq!(node.status, pallet_compute_registry::NodeStatus::Dormant);
		RecordingSigner::set_local_keys(vec![SOLAR_A_WORKER]);
		// No open job: no engine request.
		ComputeJobs::run_worker(System::block_number());
		let sent = RecordingSigner::take_submitted();
		assert_eq!(
			sent,
			vec![(
				SOLAR_A_WORKER,
				RuntimeCall::Registry(pallet_compute_registry::Call::heartbeat {
					node_id: solar_a
				})
			)]
		);
		for (who, call) in sent {
			assert_ok!(call.dispatch_bypass_filter(RuntimeOrigin::signed(who)));
		}
		let node = pallet_compute_registry::Nodes::<Test>::get(solar_a).expect("node");
		assert_eq!(node.status, pallet_compute_registry::NodeStatus::Active);
	});
}

/// Attack 2: before this change, nodes that stopped sending heartbeats stayed in the matching
/// index forever, so a crowd of them filled the candidate samples of every job. Now a
/// validator's worker that meets dead candidates asks the chain to drop them
/// (`prune_dead_node`), and they leave every later sample.
#[test]
fn validators_prune_dead_candidates_from_the_index() {
	ExtBuilder.build_and_execute_offchain(|state| {
		let (solar_a, solar_b, grid) = nodes();
		let timeout = <Test as pallet_compute_registry::Config>::HeartbeatTimeout::get();
		System::set_block_number(System::block_number() + timeout + 1);
		let job = submit_small_job();
		configure_engine();
		RecordingSigner::set_local_keys(vec![V1]);
		// Every candidate is dead: nothing to offer the engine, only outcomes to report.
		no_outcomes(&state);
		ComputeJobs::run_worker(System::block_number());
		let sent = RecordingSigner::take_submitted();
		let mut pruned: Vec<NodeId> = sent
			.iter()
			.map(|(who, call)| match call {
				RuntimeCall::Registry(pallet_compute_registry::Call::prune_dead_node {
					node_id,
				}) if *who == V1 => *node_id,
				other => panic!("unexpected {other:?}"),
			})
			.collect();
		pruned.sort();
		assert_eq!(pruned, vec![solar_a, solar_b, grid]);
		for (who, call) in sent {
			assert_ok!(call.dispatch_bypass_filter(RuntimeOrigin::signed(who)));
		}
		let stored = Jobs::<Test>::get(job).expect("job");
		assert!(ComputeJobs::candidate_sample(job, &stored).is_empty());
	});
}

/// A cancelled job never ran: the worker tells the engine to forget its selection instead of
/// reporting a failure (before this change it reported a failure on node 0, which the engine
/// learnt from).
#[test]
fn a_cancelled_job_is_forgotten_not_reported_as_a_failure() {
	ExtBuilder.build_and_execute_offchain(|state| {
		nodes();
		let job = submit_small_job();
		assert_ok!(ComputeJobs::cancel_job(RuntimeOrigin::signed(USER), job));
		configure_engine();
		RecordingSigner::set_local_keys(vec![V1]);
		expect(&state, EngineRequest::PendingOutcomes, EngineResponse::PendingOutcomes(vec![job]));
		expect(&state, EngineRequest::Forget(job), EngineResponse::Ack);
		ComputeJobs::run_worker(System::block_number());
		assert!(proposals_sent().is_empty());
	});
}
