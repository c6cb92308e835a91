//! The wait queue: jobs wait for busy capacity instead of expiring; jobs no node could ever run
//! expire at once with the reason.

use crate::{mock::*, *};
use frame_support::{assert_noop, assert_ok, traits::fungible::Inspect};

const BUDGET: Balance = 1_000 * UNIT;

fn node(owner: AccountId, worker: AccountId, gpus: u32) -> NodeId {
	let id = pallet_compute_registry::NextNodeId::<Test>::get();
	let spec = spec(gpus, 2 * UNIT, 90, 40);
	assert_ok!(Registry::register_node(RuntimeOrigin::signed(owner), spec, worker));
	assert_ok!(Registry::accept_worker(RuntimeOrigin::signed(worker), id));
	id
}

fn job_of(gpus: u32) -> JobRequirements {
	JobRequirements { gpus, ..demo_requirements() }
}

fn submit(requirements: JobRequirements) -> JobId {
	let id = NextJobId::<Test>::get();
	assert_ok!(ComputeJobs::submit_job(RuntimeOrigin::signed(USER), requirements, BUDGET));
	id
}

fn status(job: JobId) -> JobStatus<Balance> {
	Jobs::<Test>::get(job).expect("job").status
}

/// The assigned node's worker delivers and two of the three validators accept: settled.
fn settle(job: JobId, worker: AccountId) {
	assert_ok!(publish_result(worker, job));
	assert_ok!(ComputeJobs::attest(RuntimeOrigin::signed(V1), job, true));
	assert_ok!(ComputeJobs::attest(RuntimeOrigin::signed(V2), job, true));
	assert!(matches!(status(job), JobStatus::Settled { .. }));
}

fn next_block() {
	run_to_block(System::block_number() + 1);
}

/// The "48 jobs at once" on a small scale: three 8-GPU jobs for one 8-GPU node. The
/// first runs, the other two wait (in the old code they expired after the proposal window) and
/// run in turn as the node frees up; none expires.
#[test]
fn jobs_beyond_capacity_wait_and_run_as_capacity_frees() {
	ExtBuilder.build_and_execute(|| {
		let a = node(SOLAR_A, SOLAR_A_WORKER, 8);
		let jobs: Vec<JobId> = (0..3).map(|_| submit(job_of(8))).collect();
		run_to_block(1 + PROPOSAL_WINDOW);
		assert!(matches!(status(jobs[0]), JobStatus::Assigned { node, .. } if node == a));
		for (place, job) in jobs[1..].iter().enumerate() {
			assert_eq!(status(*job), JobStatus::Queued);
			assert_eq!(ComputeJobs::queue_position(*job), Some(place as u32 + 1));
			System::assert_has_event(
				Event::JobQueued {
					job_id: *job,
					position: place as u32 + 1,
					wait_until: 1 + PROPOSAL_WINDOW + DEFAULT_QUEUE_WAIT,
				}
				.into(),
			);
		}
		// Nothing frees: they keep waiting.
		next_block();
		assert_eq!(status(jobs[1]), JobStatus::Queued);

		settle(jobs[0], SOLAR_A_WORKER);
		next_block();
		assert!(matches!(status(jobs[1]), JobStatus::Assigned { node, .. } if node == a));
		System::assert_has_event(
			Event::JobAssigned {
				job_id: jobs[1],
				node_id: a,
				cost: 160 * UNIT,
				rule: AssignmentRule::Queue,
			}
			.into(),
		);
		assert_eq!(ComputeJobs::queue_position(jobs[2]), Some(1));
		// The first job out of the queue waited from its window's end to this block.
		let waited = System::block_number() - (1 + PROPOSAL_WINDOW);
		assert_eq!(
			ComputeJobs::queue_status(jobs[2]),
			QueueStatus {
				position: Some(1),
				length: 1,
				matched: 1,
				mean_wait_blocks: Some(waited)
			}
		);

		settle(jobs[1], SOLAR_A_WORKER);
		next_block();
		settle(jobs[2], SOLAR_A_WORKER);
		assert_eq!(WaitQueue::<Test>::get().len(), 0);
		let totals = Totals::<Test>::get();
		assert_eq!((totals.settled_jobs, totals.expired_jobs), (3, 0));
	});
}

/// Jobs no node could run even when idle (too many GPUs for every node, a budget below every
/// price) do not wait: they expire at the window's end, refunded, saying why.
#[test]
fn a_job_no_node_could_ever_run_expires_at_once_with_the_reason() {
	ExtBuilder.build_and_execute(|| {
		node(SOLAR_A, SOLAR_A_WORKER, 8);
		let too_big = submit(job_of(16));
		let id = NextJobId::<Test>::get();
		// 8 GPUs × 10 h × 2 UNIT = 160 UNIT > 100 UNIT.
		assert_ok!(ComputeJobs::submit_job(RuntimeOrigin::signed(USER), job_of(8), 100 * UNIT));
		run_to_block(1 + PROPOSAL_WINDOW);
		for (job, refund) in [(too_big, BUDGET), (id, 100 * UNIT)] {
			assert_eq!(status(job), JobStatus::Expired);
			System::assert_has_event(
				Event::JobExpired { job_id: job, refund, reason: ExpiryReason::NoSuitableNode }
					.into(),
			);
		}
		assert_eq!(Balances::balance(&USER), INITIAL);
	});
}

/// A queued job waits only as long as its submitter asked: then it expires, refunded.
#[test]
fn a_queued_job_expires_refunded_when_its_wait_ends() {
	ExtBuilder.build_and_execute(|| {
		node(SOLAR_A, SOLAR_A_WORKER, 8);
		let running = submit(job_of(8));
		let patient = NextJobId::<Test>::get();
		let wait = 5;
		assert_ok!(ComputeJobs::submit_job_waiting(
			RuntimeOrigin::signed(USER),
			job_of(8),
			BUDGET,
			wait
		));
		let impatient = NextJobId::<Test>::get();
		assert_ok!(ComputeJobs::submit_job_waiting(
			RuntimeOrigin::signed(USER),
			job_of(8),
			BUDGET,
			0
		));
		run_to_block(1 + PROPOSAL_WINDOW);
		assert!(matches!(status(running), JobStatus::Assigned { .. }));
		assert_eq!(status(patient), JobStatus::Queued);
		System::assert_has_event(
			Event::JobExpired {
				job_id: impatient,
				refund: BUDGET,
				reason: ExpiryReason::QueueTimeout,
			}
			.into(),
		);
		run_to_block(1 + PROPOSAL_WINDOW + wait - 1);
		assert_eq!(status(patient), JobStatus::Queued);
		next_block();
		assert_eq!(status(patient), JobStatus::Expired);
		System::assert_has_event(
			Event::JobExpired {
				job_id: patient,
				refund: BUDGET,
				reason: ExpiryReason::QueueTimeout,
			}
			.into(),
		);
		assert_eq!(WaitQueue::<Test>::get().len(), 0);
		// Only the running job's budget is still held.
		assert_eq!(Balances::balance(&USER), INITIAL - BUDGET);
	});
}

#[test]
fn a_wait_above_the_maximum_is_refused() {
	ExtBuilder.build_and_execute(|| {
		assert_noop!(
			ComputeJobs::submit_job_waiting(
				RuntimeOrigin::signed(USER),
				job_of(8),
				BUDGET,
				MAX_QUEUE_WAIT + 1
			),
			Error::<Test>::QueueWaitTooLong
		);
	});
}

#[test]
fn the_owner_cancels_a_queued_job() {
	ExtBuilder.build_and_execute(|| {
		node(SOLAR_A, SOLAR_A_WORKER, 8);
		submit(job_of(8));
		let queued = submit(job_of(8));
		run_to_block(1 + PROPOSAL_WINDOW);
		assert_eq!(status(queued), JobStatus::Queued);
		assert_noop!(
			ComputeJobs::cancel_job(RuntimeOrigin::signed(OUTSIDER), queued),
			Error::<Test>::NotJobOwner
		);
		assert_ok!(ComputeJobs::cancel_job(RuntimeOrigin::signed(USER), queued));
		assert_eq!(status(queued), JobStatus::Cancelled);
		assert_eq!(ComputeJobs::queue_position(queued), None);
		assert_eq!(Balances::balance(&USER), INITIAL - BUDGET);
	});
}

/// Queue order is submission order among the jobs that fit: a 16-GPU job at the head waiting
/// for the only 16-GPU node does not hold back an 8-GPU job behind it when an 8-GPU node frees.
#[test]
fn a_job_that_does_not_fit_does_not_block_those_behind_it() {
	ExtBuilder.build_and_execute(|| {
		let small = node(SOLAR_A, SOLAR_A_WORKER, 8);
		let big = node(SOLAR_B, SOLAR_B_WORKER, 16);
		let running_big = submit(job_of(16));
		let running_small = submit(job_of(8));
		let waiting_big = submit(job_of(16));
		let waiting_small = submit(job_of(8));
		run_to_block(1 + PROPOSAL_WINDOW);
		assert!(matches!(status(running_big), JobStatus::Assigned { node, .. } if node == big));
		assert!(matches!(status(running_small), JobStatus::Assigned { node, .. } if node == small));
		assert_eq!(ComputeJobs::queue_position(waiting_big), Some(1));
		assert_eq!(ComputeJobs::queue_position(waiting_small), Some(2));

		settle(running_small, SOLAR_A_WORKER);
		next_block();
		assert_eq!(status(waiting_big), JobStatus::Queued);
		assert!(matches!(status(waiting_small), JobStatus::Assigned { node, .. } if node == small));

		settle(running_big, SOLAR_B_WORKER);
		next_block();
		assert!(matches!(status(waiting_big), JobStatus::Assigned { node, .. } if node == big));
	});
}

/// Attack (queue griefing): an outsider filled the wait queue with the cheapest jobs it could
/// afford, and every later job expired `QueueFull` while the filler only waited for its
/// refunds. Now a job that bids more per GPU-hour takes the place of the lowest bid (the
/// newest of equals), which is refunded; a job that bids no more than the lowest still finds
/// the queue full.
#[test]
fn a_higher_bid_displaces_the_cheapest_job_from_a_full_queue() {
	ExtBuilder.build_and_execute(|| {
		let a = node(SOLAR_A, SOLAR_A_WORKER, 8);
		let first = submit(job_of(8));
		run_to_block(1 + PROPOSAL_WINDOW);
		assert!(matches!(status(first), JobStatus::Assigned { node, .. } if node == a));
		// The filler: 16 jobs at the node's own price (160 AICC for 80 GPU-hours), four a block.
		let cheap = 160 * UNIT;
		let mut fillers = Vec::new();
		for _ in 0..4 {
			for _ in 0..4 {
				fillers.push(NextJobId::<Test>::get());
				assert_ok!(ComputeJobs::submit_job(
					RuntimeOrigin::signed(OUTSIDER),
					job_of(8),
					cheap
				));
			}
			next_block();
		}
		let honest = submit(job_of(8));
		let equal = NextJobId::<Test>::get();
		assert_ok!(ComputeJobs::submit_job(RuntimeOrigin::signed(USER), job_of(8), cheap));
		run_to_block(System::block_number() + PROPOSAL_WINDOW);
		assert!(fillers[..15].iter().all(|job| status(*job) == JobStatus::Queued));
		assert_eq!(status(honest), JobStatus::Queued);
		// The newest of the lowest bids made room and was refunded in full.
		let displaced = fillers[15];
		assert_eq!(status(displaced), JobStatus::Expired);
		System::assert_has_event(
			Event::JobExpired { job_id: displaced, refund: cheap, reason: ExpiryReason::Displaced }
				.into(),
		);
		// The same bid as the queue's lowest does not displace it.
		assert_eq!(status(equal), JobStatus::Expired);
		System::assert_has_event(
			Event::JobExpired { job_id: equal, refund: cheap, reason: ExpiryReason::QueueFull }
				.into(),
		);
		assert_eq!(WaitQueue::<Test>::get().len(), 16);
		assert_eq!(Balances::balance_on_hold(&HoldReason::JobEscrow.into(), &OUTSIDER), 15 * cheap);
	});
}
