//! Federated jobs: matching several members, update commitments, verdicts by a majority of
//! validators, exclusion with a slash, and payment by the rounds each member's update was kept.

use crate::{mock::*, *};
use aicchain_primitives::AggregationRule;
use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect, InspectHold},
};
use sp_core::H256;

type Error = crate::Error<Test>;
const BUDGET: Balance = 600 * UNIT;
const EXTRA_WORKER: AccountId = 41;

fn register(
	owner: AccountId,
	worker: AccountId,
	spec: aicchain_primitives::NodeSpec<Balance>,
) -> NodeId {
	let id = pallet_compute_registry::NextNodeId::<Test>::get();
	assert_ok!(Registry::register_node(RuntimeOrigin::signed(owner), spec, worker));
	assert_ok!(Registry::accept_worker(RuntimeOrigin::signed(worker), id));
	id
}

/// The demo's three nodes (costs for the demo job: 160, 240 and 160 AICC).
fn nodes() -> [NodeId; 3] {
	[
		register(SOLAR_A, SOLAR_A_WORKER, spec(8, 2 * UNIT, 90, 40)),
		register(SOLAR_B, SOLAR_B_WORKER, spec(16, 3 * UNIT, 80, 60)),
		register(GRID, GRID_WORKER, spec(8, 2 * UNIT, 0, 475)),
	]
}

fn federated(providers: u8, rounds: u8) -> FederationSpec {
	FederationSpec { providers, rounds, rule: AggregationRule::Median }
}

fn submit(providers: u8, rounds: u8) -> JobId {
	let id = NextJobId::<Test>::get();
	assert_ok!(ComputeJobs::submit_federated(
		RuntimeOrigin::signed(USER),
		demo_requirements(),
		federated(providers, rounds),
		BUDGET
	));
	id
}

fn job(id: JobId) -> FederationOf<Test> {
	Federations::<Test>::get(id).expect("stored")
}

fn worker_of(node: NodeId) -> AccountId {
	pallet_compute_registry::Nodes::<Test>::get(node).expect("node").worker
}

fn escrow(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::JobEscrow.into(), &who)
}

/// Every active member commits an update distinct by member and round.
fn all_update(id: JobId) {
	let stored = job(id);
	for (index, member) in stored.active() {
		let update = H256::from_low_u64_be(1_000 * u64::from(stored.round) + index as u64 + 1);
		assert_ok!(ComputeJobs::submit_update(
			RuntimeOrigin::signed(worker_of(member.node)),
			id,
			stored.round,
			update
		));
	}
}

fn verdict(round: u8, excluded: u8) -> RoundVerdict {
	RoundVerdict { aggregate: H256::from_low_u64_be(0xa99 + u64::from(round)), excluded }
}

/// V1 and V2 (a majority of three) sign `verdict`.
fn agree(id: JobId, verdict: RoundVerdict) {
	let round = job(id).round;
	for v in [V1, V2] {
		assert_ok!(ComputeJobs::attest_round(
			RuntimeOrigin::signed(v),
			id,
			round,
			verdict,
			metrics()
		));
	}
}

#[test]
fn a_federated_job_takes_members_of_distinct_owners_and_holds_its_budget() {
	ExtBuilder.build_and_execute(|| {
		let [a, b, grid] = nodes();
		// A second, cheaper node of SOLAR_A's: one member per owner, so it cannot take two seats.
		let second = register(SOLAR_A, EXTRA_WORKER, spec(8, UNIT, 90, 40));
		let id = submit(3, 3);
		let stored = job(id);
		let members: Vec<NodeId> = stored.members.iter().map(|m| m.node).collect();
		assert_eq!(members.len(), 3);
		assert!(members.contains(&second) && members.contains(&b) && members.contains(&grid));
		assert!(!members.contains(&a));
		assert_eq!(stored.stage, FederationStage::Training);
		assert_eq!(stored.deadline, ComputeJobs::round_deadline(&(10, 3), 1));
		assert_eq!(escrow(USER), BUDGET);
		for node in &members {
			let info = pallet_compute_registry::Nodes::<Test>::get(node).expect("node");
			assert_eq!((info.active_jobs, info.active_gpus), (1, 8));
		}
		// Its id is a job id: the next job takes the one after.
		assert_eq!(NextJobId::<Test>::get(), id + 1);
	});
}

#[test]
fn bad_federated_submissions_are_refused_and_change_nothing() {
	ExtBuilder.build_and_execute(|| {
		nodes();
		let submit_with = |req: JobRequirements, spec: FederationSpec, budget: Balance| {
			ComputeJobs::submit_federated(RuntimeOrigin::signed(USER), req, spec, budget)
		};
		let req = demo_requirements();
		assert_noop!(
			submit_with(req.clone(), federated(1, 3), BUDGET),
			Error::FederationOutOfRange
		);
		assert_noop!(
			submit_with(req.clone(), federated(6, 3), BUDGET),
			Error::FederationOutOfRange
		);
		assert_noop!(
			submit_with(req.clone(), federated(3, 0), BUDGET),
			Error::FederationOutOfRange
		);
		assert_noop!(submit_with(req.clone(), federated(4, 3), BUDGET), Error::NotEnoughProviders);
		assert_noop!(
			submit_with(req.clone(), federated(3, 3), 500 * UNIT),
			Error::PriceAboveBudget
		);
		// Relay training (from a parent version) is not federated.
		let mut relay = req.clone();
		if let Some(spec) = relay.training.as_mut() {
			spec.parent = Some(0);
		}
		assert_noop!(
			submit_with(relay, federated(3, 3), BUDGET),
			Error::FederationModelUnsupported
		);
		let none = JobRequirements { training: None, ..req.clone() };
		assert_noop!(submit_with(none, federated(3, 3), BUDGET), Error::NoTrainingSpec);
		assert_noop!(
			ComputeJobs::submit_federated(
				RuntimeOrigin::signed(POOR_USER),
				req,
				federated(2, 1),
				BUDGET
			),
			Error::InsufficientBalance
		);
	});
}

/// The attack: one member of three sends a poisoned update in the first round. The
/// validators' verdict excludes it: it is slashed, paid nothing and leaves the job; the two
/// honest members finish the three rounds and are paid in full; the user gets the rest back;
/// the final aggregate is recorded as a model version of this job.
#[test]
fn a_poisoned_member_is_excluded_slashed_and_unpaid_while_the_honest_are_paid() {
	ExtBuilder.build_and_execute(|| {
		let [a, b, grid] = nodes();
		let id = submit(3, 3);
		let index_of = |node| job(id).members.iter().position(|m| m.node == node).expect("member");
		let poisoned = index_of(grid);
		let fund_before = Balances::balance(&FUND);
		all_update(id);
		assert_eq!(job(id).stage, FederationStage::Aggregating);
		agree(id, verdict(0, 1 << poisoned));
		let after_first = job(id);
		assert_eq!(after_first.round, 1);
		assert_eq!(after_first.stage, FederationStage::Training);
		assert!(after_first.members.get(poisoned).expect("member").excluded);
		let bond = BOND / 10;
		System::assert_has_event(
			Event::MemberExcluded {
				federation: id,
				round: 0,
				node_id: grid,
				missing: false,
				slashed: bond,
			}
			.into(),
		);
		// The excluded member can no longer commit, and its slot is free.
		assert_noop!(
			ComputeJobs::submit_update(
				RuntimeOrigin::signed(GRID_WORKER),
				id,
				1,
				H256::repeat_byte(5)
			),
			Error::ExcludedMember
		);
		assert_eq!(pallet_compute_registry::Nodes::<Test>::get(grid).expect("node").active_jobs, 0);
		for _ in 1..3 {
			all_update(id);
			let round = job(id).round;
			agree(id, verdict(round, 0));
		}
		let ended = job(id);
		assert_eq!(ended.stage, FederationStage::Settled);
		let (a_before, b_before) = (INITIAL - BOND, INITIAL - BOND);
		assert_eq!(Balances::balance(&SOLAR_A), a_before + 144 * UNIT);
		assert_eq!(Balances::balance(&SOLAR_B), b_before + 216 * UNIT);
		assert_eq!(Balances::balance(&GRID), INITIAL - BOND);
		assert_eq!(Balances::balance(&FUND), fund_before + bond + 16 * UNIT + 24 * UNIT);
		assert_eq!(escrow(USER), 0);
		assert_eq!(Balances::balance(&USER), INITIAL - 400 * UNIT);
		let recorded = RecordingModels::take();
		assert_eq!(recorded.len(), 1);
		let version = recorded.first().expect("recorded");
		assert_eq!(
			(version.job, version.model_hash, version.cost),
			(id, verdict(2, 0).aggregate, 400 * UNIT)
		);
		let rewards = RecordingRewards::take();
		assert_eq!(
			rewards.iter().map(|(p, _, kept)| (*p, *kept)).collect::<Vec<_>>(),
			vec![(Some(SOLAR_A), 16 * UNIT), (Some(SOLAR_B), 24 * UNIT)]
		);
		for node in [a, b] {
			let info = pallet_compute_registry::Nodes::<Test>::get(node).expect("node");
			assert_eq!((info.active_jobs, info.completed_jobs), (0, 1));
		}
	});
}

#[test]
fn a_member_without_an_update_is_excluded_as_missing_when_the_round_closes() {
	ExtBuilder.build_and_execute(|| {
		let [_, b, grid] = nodes();
		let id = submit(3, 1);
		let deadline = job(id).deadline;
		for node in [b, grid] {
			let update = H256::from_low_u64_be(u64::from(node) + 1);
			assert_ok!(ComputeJobs::submit_update(
				RuntimeOrigin::signed(worker_of(node)),
				id,
				0,
				update
			));
		}
		run_to_block(deadline);
		let stored = job(id);
		assert_eq!(stored.stage, FederationStage::Aggregating);
		let missing = stored.members.iter().find(|m| m.excluded).expect("one excluded");
		assert!(missing.node != b && missing.node != grid);
		agree(id, verdict(0, 0));
		assert_eq!(job(id).stage, FederationStage::Settled);
		// Two of three members paid (160 + 160 of the costs at 2 AICC per GPU-hour).
		assert_eq!(Balances::balance(&USER), INITIAL - 400 * UNIT);
	});
}

/// Validators that disagree decide nothing: the round's window closes, the job ends paying the
/// round the majority agreed on, and nobody is slashed for the validators' split.
#[test]
fn without_a_majority_the_job_ends_paying_only_the_rounds_agreed() {
	ExtBuilder.build_and_execute(|| {
		nodes();
		let id = submit(3, 3);
		all_update(id);
		agree(id, verdict(0, 0));
		all_update(id);
		assert_ok!(ComputeJobs::attest_round(
			RuntimeOrigin::signed(V1),
			id,
			1,
			verdict(1, 0),
			metrics()
		));
		assert_ok!(ComputeJobs::attest_round(
			RuntimeOrigin::signed(V2),
			id,
			1,
			verdict(9, 0),
			metrics()
		));
		assert_eq!(job(id).stage, FederationStage::Aggregating);
		run_to_block(job(id).deadline);
		let ended = job(id);
		assert_eq!(ended.stage, FederationStage::Failed);
		assert!(ended.members.iter().all(|m| !m.excluded && m.rounds == 1));
		// A third of 560 paid; no slash; no model.
		assert_eq!(Balances::balance(&USER), INITIAL - 560 * UNIT / 3);
		assert_eq!(Balances::balance(&GRID), INITIAL - BOND + 160 * UNIT * 9 / 30);
		assert!(RecordingModels::take().is_empty());
		// Pruned after its retention.
		run_to_block(ended.deadline);
		assert!(Federations::<Test>::get(id).is_none());
		assert!(FederationIds::<Test>::get().is_empty());
	});
}

#[test]
fn updates_and_verdicts_are_checked() {
	ExtBuilder.build_and_execute(|| {
		let [a, b, grid] = nodes();
		let id = submit(3, 2);
		let update = |who, round, byte| {
			ComputeJobs::submit_update(
				RuntimeOrigin::signed(who),
				id,
				round,
				H256::repeat_byte(byte),
			)
		};
		assert_noop!(update(OUTSIDER, 0, 1), Error::NotFederationMember);
		assert_noop!(update(worker_of(a), 1, 1), Error::RoundClosed);
		assert_noop!(
			ComputeJobs::submit_update(RuntimeOrigin::signed(USER), id + 1, 0, H256::zero()),
			Error::FederationNotFound
		);
		assert_ok!(update(worker_of(a), 0, 1));
		assert_noop!(update(worker_of(a), 0, 2), Error::UpdateAlreadySubmitted);
		// A copy of another member's update is no work.
		assert_noop!(update(worker_of(b), 0, 1), Error::DuplicateUpdate);
		// No verdict while members train.
		assert_noop!(
			ComputeJobs::attest_round(RuntimeOrigin::signed(V1), id, 0, verdict(0, 0), metrics()),
			Error::RoundClosed
		);
		assert_ok!(update(worker_of(b), 0, 2));
		assert_ok!(update(worker_of(grid), 0, 3));
		let attest = |who, verdict| {
			ComputeJobs::attest_round(RuntimeOrigin::signed(who), id, 0, verdict, metrics())
		};
		assert_noop!(attest(OUTSIDER, verdict(0, 0)), Error::NotValidatorWorker);
		// Excluding every member, or one that does not exist.
		assert_noop!(attest(V1, verdict(0, 0b111)), Error::InvalidVerdict);
		assert_noop!(attest(V1, verdict(0, 0b1000)), Error::InvalidVerdict);
		let no_samples = aicchain_primitives::QuantisedMetrics { eval_samples: 0, ..metrics() };
		assert_noop!(
			ComputeJobs::attest_round(RuntimeOrigin::signed(V1), id, 0, verdict(0, 0), no_samples),
			Error::InvalidMetrics
		);
		assert_ok!(attest(V1, verdict(0, 0b001)));
		assert_noop!(attest(V1, verdict(0, 0)), Error::AlreadyAttested);
	});
}

#[test]
fn federated_jobs_are_bounded() {
	ExtBuilder.build_and_execute(|| {
		for owner in [SOLAR_A, SOLAR_B, GRID, OUTSIDER] {
			let worker = 100 + owner;
			register(owner, worker, spec(16, UNIT, 50, 100));
		}
		for _ in 0..4 {
			let id = NextJobId::<Test>::get();
			assert_ok!(ComputeJobs::submit_federated(
				RuntimeOrigin::signed(USER),
				JobRequirements { gpus: 4, ..demo_requirements() },
				federated(2, 1),
				BUDGET
			));
			assert!(Federations::<Test>::contains_key(id));
		}
		assert_noop!(
			ComputeJobs::submit_federated(
				RuntimeOrigin::signed(USER),
				JobRequirements { gpus: 4, ..demo_requirements() },
				federated(2, 1),
				BUDGET
			),
			Error::TooManyFederations
		);
	});
}

/// The off-chain workers' part: a member's worker asks its engine for its update and commits
/// it; a validator's worker asks its engine to judge the round and signs the verdict.
#[test]
fn workers_commit_their_engines_updates_and_sign_its_verdicts() {
	use aicchain_primitives::engine_api::{
		EngineRequest, EngineResponse, TaskStatus, UpdateSource,
	};
	use codec::Encode;
	ExtBuilder.build_and_execute_offchain(|state| {
		configure_engine();
		let [a, _, _] = nodes();
		let id = submit(3, 1);
		let stored = job(id);
		let spec = demo_requirements().training.expect("a training job");
		let index = stored.members.iter().position(|m| m.node == a).expect("member") as u8;
		RecordingSigner::set_local_keys(vec![SOLAR_A_WORKER]);
		let update = H256::repeat_byte(7);
		expect(
			&state,
			EngineRequest::FederatedUpdate {
				federation: id,
				round: 0,
				spec: spec.clone(),
				federated: federated(3, 1),
				index,
				worker: SOLAR_A_WORKER.encode(),
				previous: None,
			},
			EngineResponse::Task(TaskStatus::Updated { update }),
		);
		ComputeJobs::run_worker(System::block_number());
		let sent = RecordingSigner::take_submitted();
		assert_eq!(
			sent,
			vec![(
				SOLAR_A_WORKER,
				RuntimeCall::ComputeJobs(Call::submit_update { federation: id, round: 0, update })
			)]
		);
		// Every member commits; then V1's worker has the round judged and signs the verdict.
		all_update(id);
		RecordingSigner::set_local_keys(vec![V1]);
		let updates: Vec<UpdateSource> = job(id)
			.active()
			.map(|(i, m)| UpdateSource {
				index: i as u8,
				update: m.update.expect("committed"),
				engine: None,
			})
			.collect();
		let verdict = verdict(0, 0);
		expect(
			&state,
			EngineRequest::FederatedAggregate {
				federation: id,
				round: 0,
				spec,
				federated: federated(3, 1),
				updates,
			},
			EngineResponse::Task(TaskStatus::Aggregated { verdict, metrics: metrics() }),
		);
		expect(&state, EngineRequest::PendingOutcomes, EngineResponse::PendingOutcomes(vec![]));
		ComputeJobs::run_worker(System::block_number());
		assert_eq!(
			RecordingSigner::take_submitted(),
			vec![(
				V1,
				RuntimeCall::ComputeJobs(Call::attest_round {
					federation: id,
					round: 0,
					verdict,
					metrics: metrics()
				})
			)]
		);
	});
}
