use crate::{mock::*, *};
use aicchain_primitives::{JobRequirements, Region, SustainabilityPreference};
use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect, InspectHold},
};
use sp_runtime::{DispatchError, Perbill, Percent};

type Error = crate::Error<Test>;

/// Registers a node whose worker key accepts it (at once when it is the owner).
pub(crate) fn register(owner: AccountId, worker: AccountId, gpus: u32) -> NodeId {
	let id = NextNodeId::<Test>::get();
	assert_ok!(Registry::register_node(RuntimeOrigin::signed(owner), spec(gpus), worker));
	if worker != owner {
		assert_ok!(Registry::accept_worker(RuntimeOrigin::signed(worker), id));
	}
	id
}

pub(crate) fn held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::NodeBond.into(), &who)
}

pub(crate) fn req(gpus: u32) -> JobRequirements {
	JobRequirements {
		gpus,
		min_bandwidth_mbps: 100,
		max_latency_ms: 15,
		gpu_hours: 1,
		sustainability: SustainabilityPreference::Any,
		training: None,
	}
}

#[test]
fn gpu_classes_are_powers_of_two() {
	let classes: Vec<u8> =
		[0, 1, 2, 3, 4, 7, 8, 15, 16, 64, 128, 1_000_000].into_iter().map(gpu_class).collect();
	assert_eq!(classes, vec![0, 0, 1, 1, 2, 2, 3, 3, 4, 6, 7, 7]);
}

// ---- register_node ----

#[test]
fn register_node_holds_bond_and_indexes_the_node() {
	ExtBuilder.build_and_execute(|| {
		let id = register(ALICE, ALICE_WORKER, 8);
		let node = Nodes::<Test>::get(id).expect("stored");
		assert_eq!(node.owner, ALICE);
		assert_eq!(node.worker, ALICE_WORKER);
		assert_eq!(node.bond, BOND);
		assert_eq!(node.status, NodeStatus::Active);
		assert_eq!(node.reputation, Perbill::from_percent(50));
		assert!(node.worker_bound);
		assert_eq!(held(ALICE), BOND);
		assert_eq!(Balances::balance(&ALICE), INITIAL_BALANCE - BOND);
		assert_eq!(NodeByWorker::<Test>::get(ALICE_WORKER), Some(id));
		assert_eq!(NodesByOwner::<Test>::get(ALICE).into_inner(), vec![id]);
		assert_eq!(NodesByGpuClass::<Test>::get(3).into_inner(), vec![id]);
		assert_eq!(NodeCount::<Test>::get(), 1);
		assert_eq!(
			Registry::active_totals(),
			ActiveTotals { nodes: 1, gpus: 8, renewable_nodes: 1 }
		);
		System::assert_has_event(
			Event::NodeRegistered { node_id: id, owner: ALICE, worker: ALICE_WORKER, bond: BOND }
				.into(),
		);
		System::assert_last_event(
			Event::WorkerAccepted { node_id: id, worker: ALICE_WORKER }.into(),
		);
	});
}

#[test]
fn register_node_rejects_invalid_specs() {
	ExtBuilder.build_and_execute(|| {
		for broken in [
			NodeSpec { gpu_count: 0, ..spec(8) },
			NodeSpec { gpu_memory_gib: 0, ..spec(8) },
			NodeSpec { bandwidth_mbps: 0, ..spec(8) },
			NodeSpec { region: Region::default(), ..spec(8) },
		] {
			assert_noop!(
				Registry::register_node(RuntimeOrigin::signed(ALICE), broken, ALICE_WORKER),
				Error::InvalidSpec
			);
		}
	});
}

/// Attack (adversarial market, 1): a node priced at zero let its owner buy 160,000 GPU-hours of
/// its own compute for nothing, and earn AICG for them. It used to register; now the price
/// floor refuses it, at registration and on update.
#[test]
fn a_node_below_the_price_floor_is_refused() {
	ExtBuilder.build_and_execute(|| {
		for price in [0, MIN_PRICE - 1] {
			assert_noop!(
				Registry::register_node(
					RuntimeOrigin::signed(ALICE),
					NodeSpec { price_per_gpu_hour: price, ..spec(8) },
					ALICE_WORKER
				),
				Error::PriceBelowFloor
			);
		}
		let id = register(ALICE, ALICE_WORKER, 8);
		assert_noop!(
			Registry::update_node(
				RuntimeOrigin::signed(ALICE),
				id,
				NodeSpec { price_per_gpu_hour: 0, ..spec(8) }
			),
			Error::PriceBelowFloor
		);
		assert_ok!(Registry::update_node(
			RuntimeOrigin::signed(ALICE),
			id,
			NodeSpec { price_per_gpu_hour: MIN_PRICE, ..spec(8) }
		));
	});
}

/// Attack (adversarial market, 8): capacity was four jobs whatever their size, so an 8-GPU node
/// took four 8-GPU jobs at once. Capacity is now counted in GPUs.
#[test]
fn capacity_is_counted_in_gpus() {
	ExtBuilder.build_and_execute(|| {
		let id = register(ALICE, ALICE_WORKER, 8);
		assert_ok!(Registry::reserve_slot(id, 8));
		// A second 8-GPU job does not fit, nor does a 1-GPU one; job slots are not the limit.
		assert_eq!(
			Registry::check_eligible(id, &req(8), 1).err(),
			Some(Ineligible::NoFreeCapacity)
		);
		assert_noop!(Registry::reserve_slot(id, 8), Error::NoFreeCapacity);
		assert_noop!(Registry::reserve_slot(id, 1), Error::NoFreeCapacity);
		Registry::finish_job(id, 8, true);
		assert_ok!(Registry::reserve_slot(id, 6));
		assert_ok!(Registry::reserve_slot(id, 2));
		assert_eq!(Nodes::<Test>::get(id).map(|n| (n.active_jobs, n.active_gpus)), Some((2, 8)));
		Registry::finish_job(id, 6, true);
		Registry::finish_job(id, 2, true);
		assert_eq!(Nodes::<Test>::get(id).map(|n| (n.active_jobs, n.active_gpus)), Some((0, 0)));
	});
}

#[test]
fn register_node_rejects_unsigned_origin() {
	ExtBuilder.build_and_execute(|| {
		assert_noop!(
			Registry::register_node(RuntimeOrigin::none(), spec(8), ALICE_WORKER),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn register_node_rejects_a_worker_key_already_bound() {
	ExtBuilder.build_and_execute(|| {
		register(ALICE, ALICE_WORKER, 8);
		assert_noop!(
			Registry::register_node(RuntimeOrigin::signed(BOB), spec(8), ALICE_WORKER),
			Error::WorkerAlreadyBound
		);
	});
}

#[test]
fn register_node_needs_the_bond() {
	ExtBuilder.build_and_execute(|| {
		assert_noop!(
			Registry::register_node(RuntimeOrigin::signed(POOR), spec(8), 900),
			Error::InsufficientBond
		);
	});
}

#[test]
fn register_node_enforces_per_owner_limit() {
	ExtBuilder.build_and_execute(|| {
		for (worker, gpus) in [(201, 1), (202, 2), (203, 4)] {
			register(ALICE, worker, gpus);
		}
		assert_noop!(
			Registry::register_node(RuntimeOrigin::signed(ALICE), spec(8), 204),
			Error::TooManyNodesForOwner
		);
	});
}

#[test]
fn register_node_enforces_gpu_class_limit() {
	ExtBuilder.build_and_execute(|| {
		// Four 8-GPU nodes fill class 3 (MaxNodesPerClass = 4).
		register(ALICE, 201, 8);
		register(ALICE, 202, 9);
		register(BOB, 203, 10);
		register(BOB, 204, 15);
		assert_noop!(
			Registry::register_node(RuntimeOrigin::signed(CHARLIE), spec(12), 205),
			Error::GpuClassFull
		);
	});
}

#[test]
fn register_node_enforces_registry_limit() {
	ExtBuilder.build_and_execute(|| {
		// MaxNodes = 8, spread over classes and owners to stay under the other limits.
		let mut worker = 300;
		for owner in [ALICE, BOB, CHARLIE] {
			for gpus in [1, 2, 4] {
				if NodeCount::<Test>::get() < 8 {
					worker += 1;
					register(owner, worker, gpus);
				}
			}
		}
		assert_eq!(NodeCount::<Test>::get(), 8);
		assert_ok!(Balances::transfer_allow_death(RuntimeOrigin::signed(ALICE), 7, 10 * BOND));
		assert_noop!(
			Registry::register_node(RuntimeOrigin::signed(7), spec(16), 999),
			Error::TooManyNodes
		);
	});
}

// ---- update_node ----

#[test]
fn update_node_replaces_spec_and_moves_gpu_class() {
	ExtBuilder.build_and_execute(|| {
		let id = register(ALICE, ALICE_WORKER, 8);
		let new_spec = NodeSpec { price_per_gpu_hour: 250, ..spec(16) };
		assert_ok!(Registry::update_node(RuntimeOrigin::signed(ALICE), id, new_spec.clone()));
		assert_eq!(Nodes::<Test>::get(id).map(|n| n.spec), Some(new_spec));
		assert!(NodesByGpuClass::<Test>::get(3).is_empty());
		assert_eq!(NodesByGpuClass::<Test>::get(4).into_inner(), vec![id]);
		System::assert_last_event(Event::NodeUpdated { node_id: id }.into());
	});
}

#[test]
fn update_node_errors() {
	ExtBuilder.build_and_execute(|| {
		let id = register(ALICE, ALICE_WORKER, 8);
		assert_noop!(
			Registry::update_node(RuntimeOrigin::signed(ALICE), 77, spec(8)),
			Error::NodeNotFound
		);
		assert_noop!(
			Registry::update_node(RuntimeOrigin::signed(BOB), id, spec(8)),
			Error::NotNodeOwner
		);
		assert_noop!(
			Registry::update_node(RuntimeOrigin::signed(ALICE), id, spec(0)),
			Error::InvalidSpec
		);
		// Shrinking under a running job is refused.
		assert_ok!(Registry::reserve_slot(id, 4));
		assert_noop!(
			Registry::update_node(RuntimeOrigin::signed(ALICE), id, spec(4)),
			Error::NodeBusy
		);
		Registry::finish_job(id, 4, true);
		// A full target class is refused.
		register(BOB, 201, 16);
		register(BOB, 202, 17);
		register(CHARLIE, 203, 18);
		register(CHARLIE, 204, 19);
		assert_noop!(
			Registry::update_node(RuntimeOrigin::signed(ALICE), id, spec(20)),
			Error::GpuClassFull
		);
		assert_ok!(Registry::deregister_node(RuntimeOrigin::signed(ALICE), id));
		assert_noop!(
			Registry::update_node(RuntimeOrigin::signed(ALICE), id, spec(8)),
			Error::NodeNotActive
		);
	});
}

// ---- deregister_node and withdraw_bond ----

#[test]
fn deregister_then_withdraw_releases_the_bond_after_unbonding() {
	ExtBuilder.build_and_execute(|| {
		let id = register(ALICE, ALICE_WORKER, 8);
		assert_ok!(Registry::deregister_node(RuntimeOrigin::signed(ALICE), id));
		let unlock_at = 1 + UNBONDING_PERIOD;
		System::assert_last_event(Event::NodeDeregistered { node_id: id, unlock_at }.into());
		assert_eq!(
			Nodes::<Test>::get(id).map(|n| n.status),
			Some(NodeStatus::Unbonding { unlock_at })
		);
		assert!(NodesByGpuClass::<Test>::get(3).is_empty());
		assert_eq!(held(ALICE), BOND);

		assert_noop!(
			Registry::withdraw_bond(RuntimeOrigin::signed(ALICE), id),
			Error::BondStillLocked
		);
		run_to_block(unlock_at);
		assert_ok!(Registry::withdraw_bond(RuntimeOrigin::signed(ALICE), id));
		System::assert_last_event(
			Event::BondWithdrawn { node_id: id, owner: ALICE, amount: BOND }.into(),
		);
		assert_eq!(held(ALICE), 0);
		assert_eq!(Balances::balance(&ALICE), INITIAL_BALANCE);
		assert!(Nodes::<Test>::get(id).is_none());
		assert!(NodeByWorker::<Test>::get(ALICE_WORKER).is_none());
		assert!(!NodesByOwner::<Test>::contains_key(ALICE));
		assert_eq!(NodeCount::<Test>::get(), 0);
		// The worker key is free again.
		register(BOB, ALICE_WORKER, 8);
	});
}

#[test]
fn deregister_node_errors() {
	ExtBuilder.build_and_execute(|| {
		let id = register(ALICE, ALICE_WORKER, 8);
		assert_noop!(
			Registry::deregister_node(RuntimeOrigin::signed(ALICE), 5),
			Error::NodeNotFound
		);
		assert_noop!(
			Registry::deregister_node(RuntimeOrigin::signed(BOB), id),
			Error::NotNodeOwner
		);
		assert_ok!(Registry::reserve_slot(id, 8));
		assert_noop!(Registry::deregister_node(RuntimeOrigin::signed(ALICE), id), Error::NodeBusy);
		Registry::finish_job(id, 8, true);
		assert_ok!(Registry::deregister_node(RuntimeOrigin::signed(ALICE), id));
		assert_noop!(
			Registry::deregister_node(RuntimeOrigin::signed(ALICE), id),
			Error::NodeNotActive
		);
	});
}

#[test]
fn withdraw_bond_errors() {
	ExtBuilder.build_and_execute(|| {
		let id = register(ALICE, ALICE_WORKER, 8);
		assert_noop!(Registry::withdraw_bond(RuntimeOrigin::signed(ALICE), 5), Error::NodeNotFound);
		assert_noop!(Registry::withdraw_bond(RuntimeOrigin::signed(BOB), id), Error::NotNodeOwner);
		assert_noop!(
			Registry::withdraw_bond(RuntimeOrigin::signed(ALICE), id),
			Error::NotUnbonding
		);
	});
}

// ---- heartbeat and liveness ----

#[test]
fn heartbeat_from_owner_or_worker_keeps_a_node_live() {
	ExtBuilder.build_and_execute(|| {
		let id = register(ALICE, ALICE_WORKER, 8);
		let live = |now| Registry::check_eligible(id, &req(8), now).is_ok();
		assert!(live(1 + HEARTBEAT_TIMEOUT));
		assert_eq!(
			Registry::check_eligible(id, &req(8), 2 + HEARTBEAT_TIMEOUT).err(),
			Some(Ineligible::NotLive)
		);
		run_to_block(15);
		assert_ok!(Registry::heartbeat(RuntimeOrigin::signed(ALICE_WORKER), id));
		System::assert_last_event(Event::Heartbeat { node_id: id }.into());
		assert!(live(15 + HEARTBEAT_TIMEOUT));
		run_to_block(30);
		assert_ok!(Registry::heartbeat(RuntimeOrigin::signed(ALICE), id));
		assert_eq!(Nodes::<Test>::get(id).map(|n| n.last_heartbeat), Some(30));
	});
}

#[test]
fn heartbeat_errors() {
	ExtBuilder.build_and_execute(|| {
		let id = register(ALICE, ALICE_WORKER, 8);
		assert_noop!(Registry::heartbeat(RuntimeOrigin::signed(ALICE), 9), Error::NodeNotFound);
		assert_noop!(
			Registry::heartbeat(RuntimeOrigin::signed(BOB), id),
			Error::NotNodeOwnerOrWorker
		);
		assert_ok!(Registry::deregister_node(RuntimeOrigin::signed(ALICE), id));
		assert_noop!(Registry::heartbeat(RuntimeOrigin::signed(ALICE), id), Error::NodeNotActive);
	});
}

// ---- matching helpers ----

#[test]
fn check_eligible_names_the_failed_constraint() {
	ExtBuilder.build_and_execute(|| {
		let id = register(ALICE, ALICE_WORKER, 8);
		assert!(Registry::check_eligible(id, &req(8), 1).is_ok());
		assert_eq!(Registry::check_eligible(id, &req(9), 1).err(), Some(Ineligible::TooFewGpus));
		let mut r = req(8);
		r.min_bandwidth_mbps = 200;
		assert_eq!(Registry::check_eligible(id, &r, 1).err(), Some(Ineligible::BandwidthTooLow));
		let mut r = req(8);
		r.max_latency_ms = 5;
		assert_eq!(Registry::check_eligible(id, &r, 1).err(), Some(Ineligible::LatencyTooHigh));
		let mut r = req(8);
		r.sustainability = SustainabilityPreference::RenewableOnly(Percent::from_percent(95));
		assert_eq!(Registry::check_eligible(id, &r, 1).err(), Some(Ineligible::NotRenewableEnough));
		assert_eq!(Registry::check_eligible(42, &req(8), 1).err(), Some(Ineligible::NotFound));
		assert_ok!(Registry::reserve_slot(id, 2));
		assert_ok!(Registry::reserve_slot(id, 2));
		assert_eq!(
			Registry::check_eligible(id, &req(2), 1).err(),
			Some(Ineligible::NoFreeCapacity)
		);
		assert_noop!(Registry::reserve_slot(id, 2), Error::NoFreeCapacity);
		Registry::finish_job(id, 2, true);
		Registry::finish_job(id, 2, true);
		assert_ok!(Registry::deregister_node(RuntimeOrigin::signed(ALICE), id));
		assert_eq!(Registry::check_eligible(id, &req(8), 1).err(), Some(Ineligible::NotActive));
	});
}

#[test]
fn candidates_read_only_classes_that_can_fit_and_respect_the_limit() {
	ExtBuilder.build_and_execute(|| {
		let small = register(ALICE, 201, 2);
		let eight = register(ALICE, 202, 8);
		let sixteen = register(BOB, 203, 16);
		let four = register(BOB, 204, 4);
		assert_eq!(Registry::candidates(8, 10), vec![eight, sixteen]);
		// Class of 5 GPUs is 4-7: the 4-GPU node is read, and check_eligible filters it.
		assert_eq!(Registry::candidates(5, 10), vec![four, eight, sixteen]);
		assert_eq!(Registry::candidates(1, 2), vec![small, four]);
		assert!(Registry::candidates(64, 10).is_empty());
	});
}

#[test]
fn finish_job_moves_reputation_and_counters() {
	ExtBuilder.build_and_execute(|| {
		let id = register(ALICE, ALICE_WORKER, 8);
		assert_ok!(Registry::reserve_slot(id, 8));
		Registry::finish_job(id, 8, true);
		// 50% + 10% of the 50% gap = 55%.
		let node = Nodes::<Test>::get(id).expect("node");
		assert_eq!(node.reputation, Perbill::from_percent(55));
		assert_eq!((node.active_jobs, node.completed_jobs), (0, 1));
		System::assert_last_event(
			Event::ReputationUpdated { node_id: id, reputation: Perbill::from_percent(55) }.into(),
		);
		assert_ok!(Registry::reserve_slot(id, 8));
		Registry::finish_job(id, 8, false);
		// 55% - 20% of 55% = 44%.
		let node = Nodes::<Test>::get(id).expect("node");
		assert_eq!(node.reputation, Perbill::from_percent(44));
		assert_eq!(node.failed_jobs, 1);
	});
}

#[test]
fn slash_bond_moves_held_funds_to_the_beneficiary_and_caps_at_the_bond() {
	ExtBuilder.build_and_execute(|| {
		let id = register(ALICE, ALICE_WORKER, 8);
		let fund = 500;
		assert_eq!(Registry::slash_bond(id, 300, &fund), Ok(300));
		System::assert_last_event(Event::BondSlashed { node_id: id, amount: 300, to: fund }.into());
		assert_eq!(Balances::balance(&fund), 300);
		assert_eq!(held(ALICE), BOND - 300);
		assert_eq!(Nodes::<Test>::get(id).map(|n| n.bond), Some(BOND - 300));
		// Asking for more than is left takes what is left.
		assert_eq!(Registry::slash_bond(id, 10 * BOND, &fund), Ok(BOND - 300));
		assert_eq!(held(ALICE), 0);
		assert_eq!(Registry::slash_bond(id, 1, &fund), Ok(0));
		assert_eq!(Registry::slash_bond(99, 1, &fund), Err(Error::NodeNotFound.into()));
		// Withdrawing a fully slashed node releases nothing and still removes it.
		assert_ok!(Registry::deregister_node(RuntimeOrigin::signed(ALICE), id));
		run_to_block(1 + UNBONDING_PERIOD);
		assert_ok!(Registry::withdraw_bond(RuntimeOrigin::signed(ALICE), id));
		assert_eq!(Balances::balance(&ALICE), INITIAL_BALANCE - BOND);
	});
}

#[test]
fn try_state_catches_a_bond_that_is_not_held() {
	ExtBuilder.build().execute_with(|| {
		let id = register(ALICE, ALICE_WORKER, 8);
		assert_ok!(Registry::do_try_state());
		Nodes::<Test>::mutate(id, |n| {
			if let Some(n) = n {
				n.bond += 1;
			}
		});
		assert!(Registry::do_try_state().is_err());
	});
}

// ---- set_engine_url ----

fn url(text: &str) -> EngineUrl {
	EngineUrl::truncate_from(text.as_bytes().to_vec())
}

#[test]
fn owner_or_bound_worker_publish_the_engine_address_until_the_node_is_gone() {
	ExtBuilder.build_and_execute(|| {
		let id = register(ALICE, ALICE_WORKER, 8);
		assert_ok!(Registry::set_engine_url(
			RuntimeOrigin::signed(ALICE),
			id,
			Some(url("http://203.0.113.7:9960"))
		));
		System::assert_last_event(
			Event::EngineUrlSet { node_id: id, url: Some(url("http://203.0.113.7:9960")) }.into(),
		);
		assert_ok!(Registry::set_engine_url(
			RuntimeOrigin::signed(ALICE_WORKER),
			id,
			Some(url("https://engine.example:443/v1"))
		));
		assert_eq!(EngineUrls::<Test>::get(id), Some(url("https://engine.example:443/v1")));
		// Withdrawn, then published again; a removed node takes its address with it.
		assert_ok!(Registry::set_engine_url(RuntimeOrigin::signed(ALICE), id, None));
		assert!(!EngineUrls::<Test>::contains_key(id));
		assert_ok!(Registry::set_engine_url(
			RuntimeOrigin::signed(ALICE),
			id,
			Some(url("http://a"))
		));
		assert_ok!(Registry::deregister_node(RuntimeOrigin::signed(ALICE), id));
		run_to_block(1 + UNBONDING_PERIOD);
		assert_ok!(Registry::withdraw_bond(RuntimeOrigin::signed(ALICE), id));
		assert!(!EngineUrls::<Test>::contains_key(id));
	});
}

#[test]
fn engine_address_errors_change_nothing() {
	ExtBuilder.build_and_execute(|| {
		let id = register(ALICE, ALICE, 8);
		// A key that was only proposed for another node may not speak for it.
		let proposed = NextNodeId::<Test>::get();
		assert_ok!(Registry::register_node(RuntimeOrigin::signed(BOB), spec(8), CHARLIE));
		let good = Some(url("http://127.0.0.1:9960"));
		assert_noop!(
			Registry::set_engine_url(RuntimeOrigin::signed(CHARLIE), proposed, good.clone()),
			Error::NotNodeOwnerOrWorker
		);
		assert_noop!(
			Registry::set_engine_url(RuntimeOrigin::signed(BOB), id, good.clone()),
			Error::NotNodeOwnerOrWorker
		);
		assert_noop!(
			Registry::set_engine_url(RuntimeOrigin::signed(ALICE), 99, good),
			Error::NodeNotFound
		);
		for bad in ["ftp://host", "http://", "https://", "http://a b", "host:9960", "http://é"] {
			assert_noop!(
				Registry::set_engine_url(RuntimeOrigin::signed(ALICE), id, Some(url(bad))),
				Error::InvalidEngineUrl
			);
		}
	});
}
