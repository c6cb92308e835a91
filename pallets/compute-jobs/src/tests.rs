use crate::{mock::*, *};
use aicchain_primitives::{NodeSpec, SustainabilityPreference, TrainingSpec};
use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect, InspectHold},
};
use sp_runtime::{DispatchError, Percent};

type Error = crate::Error<Test>;
const BUDGET: Balance = 200 * UNIT;

/// Registers the seed demo's three nodes: two solar, one on grid power. Returns their ids.
fn demo_nodes() -> (NodeId, NodeId, NodeId) {
	let register = |owner, worker, spec| {
		let id = pallet_compute_registry::NextNodeId::<Test>::get();
		assert_ok!(Registry::register_node(RuntimeOrigin::signed(owner), spec, worker));
		assert_ok!(Registry::accept_worker(RuntimeOrigin::signed(worker), id));
		id
	};
	(
		register(SOLAR_A, SOLAR_A_WORKER, spec(8, 2 * UNIT, 90, 40)),
		register(SOLAR_B, SOLAR_B_WORKER, spec(16, 3 * UNIT, 80, 60)),
		register(GRID, GRID_WORKER, spec(8, 2 * UNIT, 0, 475)),
	)
}

fn submit(budget: Balance) -> JobId {
	let id = NextJobId::<Test>::get();
	assert_ok!(ComputeJobs::submit_job(RuntimeOrigin::signed(USER), demo_requirements(), budget));
	id
}

fn escrow(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::JobEscrow.into(), &who)
}

fn status(job: JobId) -> JobStatus<Balance> {
	Jobs::<Test>::get(job).expect("job").status
}

/// Submits the demo job and assigns it to `node` by a majority of proposals.
fn assigned_job(node: NodeId) -> JobId {
	let job = submit(BUDGET);
	assert_ok!(ComputeJobs::propose_assignment(RuntimeOrigin::signed(V1), job, node));
	assert_ok!(ComputeJobs::propose_assignment(RuntimeOrigin::signed(V2), job, node));
	job
}

fn submitted_result(node: NodeId, worker: AccountId) -> JobId {
	let job = assigned_job(node);
	assert_ok!(publish_result(worker, job));
	job
}

// ---- submit_job ----

#[test]
fn submit_job_holds_the_budget_and_queues_the_proposal_deadline() {
	ExtBuilder.build_and_execute(|| {
		let job = submit(BUDGET);
		let stored = Jobs::<Test>::get(job).expect("stored");
		assert_eq!(stored.owner, USER);
		assert_eq!(stored.budget, BUDGET);
		assert_eq!(stored.status, JobStatus::Pending);
		assert_eq!(stored.deadline, 1 + PROPOSAL_WINDOW);
		assert_eq!(Deadlines::<Test>::get(1 + PROPOSAL_WINDOW).into_inner(), vec![job]);
		assert_eq!(escrow(USER), BUDGET);
		assert_eq!(Balances::balance(&USER), INITIAL - BUDGET);
		System::assert_last_event(
			Event::JobSubmitted { job_id: job, who: USER, budget: BUDGET }.into(),
		);
	});
}

#[test]
fn submit_job_rejects_out_of_range_requirements() {
	ExtBuilder.build_and_execute(|| {
		let cases: Vec<(JobRequirements, Error)> = vec![
			(JobRequirements { gpus: 3, ..demo_requirements() }, Error::GpusOutOfRange),
			(JobRequirements { gpus: 17, ..demo_requirements() }, Error::GpusOutOfRange),
			(
				JobRequirements { min_bandwidth_mbps: 49, ..demo_requirements() },
				Error::BandwidthOutOfRange,
			),
			(
				JobRequirements { min_bandwidth_mbps: 201, ..demo_requirements() },
				Error::BandwidthOutOfRange,
			),
			(
				JobRequirements { max_latency_ms: 4, ..demo_requirements() },
				Error::LatencyOutOfRange,
			),
			(
				JobRequirements { max_latency_ms: 21, ..demo_requirements() },
				Error::LatencyOutOfRange,
			),
			(JobRequirements { gpu_hours: 0, ..demo_requirements() }, Error::GpuHoursOutOfRange),
			(
				JobRequirements { gpu_hours: 1_001, ..demo_requirements() },
				Error::GpuHoursOutOfRange,
			),
		];
		for (req, error) in cases {
			assert_noop!(ComputeJobs::submit_job(RuntimeOrigin::signed(USER), req, BUDGET), error);
		}
		let training = demo_requirements().training.expect("training spec");
		for broken in [
			TrainingSpec { epochs: 0, ..training.clone() },
			TrainingSpec { epochs: 1_001, ..training.clone() },
			TrainingSpec { hidden_units: 0, ..training.clone() },
			TrainingSpec { hidden_layers: 0, ..training.clone() },
			TrainingSpec { learning_rate_millionths: 0, ..training.clone() },
		] {
			let req = JobRequirements { training: Some(broken), ..demo_requirements() };
			assert_noop!(
				ComputeJobs::submit_job(RuntimeOrigin::signed(USER), req, BUDGET),
				Error::InvalidTrainingSpec
			);
		}
	});
}

#[test]
fn submit_job_rejects_bad_origin_zero_budget_and_missing_funds() {
	ExtBuilder.build_and_execute(|| {
		assert_noop!(
			ComputeJobs::submit_job(RuntimeOrigin::none(), demo_requirements(), BUDGET),
			DispatchError::BadOrigin
		);
		// Attack (adversarial market, 5): a 1-planck job took a deadline slot for free.
		for dust in [0, 1, MIN_BUDGET - 1] {
			assert_noop!(
				ComputeJobs::submit_job(RuntimeOrigin::signed(USER), demo_requirements(), dust),
				Error::BudgetBelowMinimum
			);
		}
		assert_noop!(
			ComputeJobs::submit_job(RuntimeOrigin::signed(POOR_USER), demo_requirements(), BUDGET),
			Error::InsufficientBalance
		);
	});
}

#[test]
fn submit_job_spills_into_later_blocks_then_reports_a_full_queue() {
	ExtBuilder.build_and_execute(|| {
		// 4 blocks × 4 deadlines fit; the 17th job finds no room.
		for _ in 0..16 {
			submit(UNIT);
		}
		for block in 0..4 {
			assert_eq!(Deadlines::<Test>::decode_len(1 + PROPOSAL_WINDOW + block), Some(4));
		}
		assert_noop!(
			ComputeJobs::submit_job(RuntimeOrigin::signed(USER), demo_requirements(), UNIT),
			Error::DeadlineQueueFull
		);
	});
}

// ---- cancel_job ----

#[test]
fn cancel_job_refunds_a_pending_job() {
	ExtBuilder.build_and_execute(|| {
		let (a, _, _) = demo_nodes();
		let job = submit(BUDGET);
		assert_ok!(ComputeJobs::propose_assignment(RuntimeOrigin::signed(V1), job, a));
		assert_ok!(ComputeJobs::cancel_job(RuntimeOrigin::signed(USER), job));
		assert_eq!(status(job), JobStatus::Cancelled);
		assert_eq!(escrow(USER), 0);
		assert_eq!(Balances::balance(&USER), INITIAL);
		assert!(!Proposals::<Test>::contains_key(job));
		System::assert_last_event(Event::JobCancelled { job_id: job, refund: BUDGET }.into());
		// The stale deadline entry is ignored.
		run_to_block(1 + PROPOSAL_WINDOW);
		assert_eq!(status(job), JobStatus::Cancelled);
	});
}

#[test]
fn cancel_job_errors() {
	ExtBuilder.build_and_execute(|| {
		let (a, _, _) = demo_nodes();
		assert_noop!(ComputeJobs::cancel_job(RuntimeOrigin::signed(USER), 7), Error::JobNotFound);
		let job = submit(BUDGET);
		assert_noop!(
			ComputeJobs::cancel_job(RuntimeOrigin::signed(OUTSIDER), job),
			Error::NotJobOwner
		);
		assert_ok!(ComputeJobs::propose_assignment(RuntimeOrigin::signed(V1), job, a));
		assert_ok!(ComputeJobs::propose_assignment(RuntimeOrigin::signed(V2), job, a));
		assert_noop!(
			ComputeJobs::cancel_job(RuntimeOrigin::signed(USER), job),
			Error::JobNotPending
		);
	});
}

// ---- propose_assignment ----

#[test]
fn a_majority_of_proposals_assigns_the_node() {
	ExtBuilder.build_and_execute(|| {
		let (a, _, _) = demo_nodes();
		let job = submit(BUDGET);
		assert_ok!(ComputeJobs::propose_assignment(RuntimeOrigin::signed(V1), job, a));
		System::assert_last_event(
			Event::AssignmentProposed { job_id: job, node_id: a, proposer: V1 }.into(),
		);
		assert_eq!(status(job), JobStatus::Pending);
		assert_ok!(ComputeJobs::propose_assignment(RuntimeOrigin::signed(V2), job, a));
		// 8 GPUs × 10 h × 2 UNIT.
		let cost = 160 * UNIT;
		assert_eq!(status(job), JobStatus::Assigned { node: a, cost });
		System::assert_last_event(
			Event::JobAssigned { job_id: job, node_id: a, cost, rule: AssignmentRule::Majority }
				.into(),
		);
		assert_eq!(pallet_compute_registry::Nodes::<Test>::get(a).map(|n| n.active_jobs), Some(1));
		assert_eq!(Jobs::<Test>::get(job).map(|j| j.deadline), Some(1 + DEMO_RESULT_TIMEOUT));
		assert!(!Proposals::<Test>::contains_key(job));
	});
}

#[test]
fn propose_assignment_rejects_outsiders_and_repeats() {
	ExtBuilder.build_and_execute(|| {
		let (a, b, _) = demo_nodes();
		let job = submit(BUDGET);
		assert_noop!(
			ComputeJobs::propose_assignment(RuntimeOrigin::signed(OUTSIDER), job, a),
			Error::NotValidatorWorker
		);
		assert_noop!(
			ComputeJobs::propose_assignment(RuntimeOrigin::signed(V1), 99, a),
			Error::JobNotFound
		);
		assert_ok!(ComputeJobs::propose_assignment(RuntimeOrigin::signed(V1), job, a));
		assert_noop!(
			ComputeJobs::propose_assignment(RuntimeOrigin::signed(V1), job, b),
			Error::AlreadyProposed
		);
		assert_ok!(ComputeJobs::cancel_job(RuntimeOrigin::signed(USER), job));
		assert_noop!(
			ComputeJobs::propose_assignment(RuntimeOrigin::signed(V2), job, a),
			Error::JobNotPending
		);
	});
}

#[test]
fn propose_assignment_enforces_every_hard_constraint() {
	ExtBuilder.build_and_execute(|| {
		let register = |owner, worker, spec| {
			let id = pallet_compute_registry::NextNodeId::<Test>::get();
			assert_ok!(Registry::register_node(RuntimeOrigin::signed(owner), spec, worker));
			assert_ok!(Registry::accept_worker(RuntimeOrigin::signed(worker), id));
			id
		};
		let unbound = pallet_compute_registry::NextNodeId::<Test>::get();
		assert_ok!(Registry::register_node(
			RuntimeOrigin::signed(GRID),
			spec(8, UNIT, 90, 40),
			206
		));
		let few_gpus = register(SOLAR_A, 201, spec(4, UNIT, 90, 40));
		let slow = register(SOLAR_A, 202, NodeSpec { bandwidth_mbps: 60, ..spec(8, UNIT, 90, 40) });
		let laggy = register(SOLAR_A, 203, NodeSpec { latency_ms: 18, ..spec(8, UNIT, 90, 40) });
		let dear = register(SOLAR_B, 204, spec(8, 100 * UNIT, 90, 40));
		let grid = register(SOLAR_B, 205, spec(8, UNIT, 0, 475));
		let job = submit(BUDGET);
		let propose = |node| ComputeJobs::propose_assignment(RuntimeOrigin::signed(V1), job, node);
		assert_noop!(propose(999), Error::NodeNotFound);
		assert_noop!(propose(unbound), Error::WorkerNotBound);
		assert_noop!(propose(few_gpus), Error::TooFewGpus);
		assert_noop!(propose(slow), Error::BandwidthTooLow);
		assert_noop!(propose(laggy), Error::LatencyTooHigh);
		assert_noop!(propose(dear), Error::PriceAboveBudget);

		let green_job = NextJobId::<Test>::get();
		let req = JobRequirements {
			sustainability: SustainabilityPreference::RenewableOnly(Percent::from_percent(50)),
			..demo_requirements()
		};
		assert_ok!(ComputeJobs::submit_job(RuntimeOrigin::signed(USER), req, BUDGET));
		assert_noop!(
			ComputeJobs::propose_assignment(RuntimeOrigin::signed(V1), green_job, grid),
			Error::NotRenewableEnough
		);

		// Liveness: 100 blocks without a heartbeat.
		frame_system::Pallet::<Test>::set_block_number(102);
		assert_noop!(propose(grid), Error::NodeNotLive);
		assert_ok!(Registry::heartbeat(RuntimeOrigin::signed(205), grid));
		assert_ok!(propose(grid));

		// Capacity, in GPUs: one running 8-GPU job fills an 8-GPU node.
		let other = submit(BUDGET);
		assert_ok!(ComputeJobs::propose_assignment(RuntimeOrigin::signed(V2), other, grid));
		assert_ok!(ComputeJobs::propose_assignment(RuntimeOrigin::signed(V3), other, grid));
		let third = submit(BUDGET);
		assert_noop!(
			ComputeJobs::propose_assignment(RuntimeOrigin::signed(V1), third, grid),
			Error::NoFreeCapacity
		);

		// Deregistered nodes are not active.
		assert_ok!(Registry::heartbeat(RuntimeOrigin::signed(201), few_gpus));
		assert_ok!(Registry::deregister_node(RuntimeOrigin::signed(SOLAR_A), few_gpus));
		let small_job = NextJobId::<Test>::get();
		let req = JobRequirements { gpus: 4, ..demo_requirements() };
		assert_ok!(ComputeJobs::submit_job(RuntimeOrigin::signed(USER), req, BUDGET));
		assert_noop!(
			ComputeJobs::propose_assignment(RuntimeOrigin::signed(V1), small_job, few_gpus),
			Error::NodeNotActive
		);
	});
}

// ---- deadlines: plurality, fallback, expiry ----

#[test]
fn window_end_assigns_the_plurality_node() {
	ExtBuilder.build_and_execute(|| {
		MockValidators::set(vec![V1, V2, V3, 34, 35]);
		let (a, b, _) = demo_nodes();
		let job = submit(300 * UNIT);
		assert_ok!(ComputeJobs::propose_assignment(RuntimeOrigin::signed(V1), job, b));
		assert_ok!(ComputeJobs::propose_assignment(RuntimeOrigin::signed(V2), job, b));
		assert_ok!(ComputeJobs::propose_assignment(RuntimeOrigin::signed(V3), job, a));
		run_to_block(1 + PROPOSAL_WINDOW);
		// Two of five validators chose b: no majority, but the most votes. 16 GPUs × 3 UNIT × 80.
		assert_eq!(status(job), JobStatus::Assigned { node: b, cost: 240 * UNIT });
		System::assert_last_event(
			Event::JobAssigned {
				job_id: job,
				node_id: b,
				cost: 240 * UNIT,
				rule: AssignmentRule::Plurality,
			}
			.into(),
		);
	});
}

#[test]
fn window_end_without_proposals_uses_the_fixed_point_fallback() {
	ExtBuilder.build_and_execute(|| {
		let (a, _, grid) = demo_nodes();
		let job = submit(BUDGET);
		run_to_block(1 + PROPOSAL_WINDOW);
		// Same price as the grid node, far less carbon: the solar node wins.
		assert_eq!(status(job), JobStatus::Assigned { node: a, cost: 160 * UNIT });
		assert_ne!(a, grid);
		System::assert_last_event(
			Event::JobAssigned {
				job_id: job,
				node_id: a,
				cost: 160 * UNIT,
				rule: AssignmentRule::Fallback,
			}
			.into(),
		);
	});
}

/// A job that prefers renewable power weighs carbon three times in the fallback's score: a
/// cheaper grid node wins a job that does not care, a pricier solar node one that does.
#[test]
fn the_fallback_weighs_carbon_more_for_a_job_preferring_renewable_power() {
	ExtBuilder.build_and_execute(|| {
		let register = |owner, worker, spec| {
			let id = pallet_compute_registry::NextNodeId::<Test>::get();
			assert_ok!(Registry::register_node(RuntimeOrigin::signed(owner), spec, worker));
			assert_ok!(Registry::accept_worker(RuntimeOrigin::signed(worker), id));
			id
		};
		// Scores: grid 2 × (1000 + 475) = 2950 < solar 3 × (1000 + 40) = 3120 for any job;
		// preferring renewable, grid 2 × (1000 + 3 × 475) = 4850 > solar 3 × 1120 = 3360.
		let solar = register(SOLAR_B, SOLAR_B_WORKER, spec(16, 3 * UNIT, 80, 40));
		let grid = register(GRID, GRID_WORKER, spec(16, 2 * UNIT, 0, 475));
		let submit_with = |sustainability| {
			let id = NextJobId::<Test>::get();
			let requirements = JobRequirements { sustainability, ..demo_requirements() };
			assert_ok!(ComputeJobs::submit_job(
				RuntimeOrigin::signed(USER),
				requirements,
				300 * UNIT
			));
			id
		};
		let any = submit_with(SustainabilityPreference::Any);
		let green = submit_with(SustainabilityPreference::PreferRenewable);
		run_to_block(1 + PROPOSAL_WINDOW);
		assert!(matches!(status(any), JobStatus::Assigned { node, .. } if node == grid));
		assert!(matches!(status(green), JobStatus::Assigned { node, .. } if node == solar));
	});
}

#[test]
fn window_end_with_no_eligible_node_expires_and_refunds() {
	ExtBuilder.build_and_execute(|| {
		let job = submit(BUDGET);
		run_to_block(1 + PROPOSAL_WINDOW);
		assert_eq!(status(job), JobStatus::Expired);
		assert_eq!(Balances::balance(&USER), INITIAL);
		System::assert_last_event(
			Event::JobExpired { job_id: job, refund: BUDGET, reason: ExpiryReason::NoSuitableNode }
				.into(),
		);
	});
}

mod offchain_worker;
mod settlement;
