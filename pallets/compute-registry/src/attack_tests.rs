//! Tests of worker consent (attack 3), dormant nodes (attack 2), the minimum bond and the
//! running totals (attack 11).

use crate::{
	mock::*,
	tests::{held, register, req},
	*,
};
use frame_support::{assert_noop, assert_ok, dispatch::Pays};
use sp_runtime::Percent;

type Error = crate::Error<Test>;

/// The fund slashes go to in these tests.
const FUND: AccountId = 500;

/// Registers a node for `owner` proposing `worker`, without the worker's consent.
fn propose(owner: AccountId, worker: AccountId, gpus: u32) -> NodeId {
	let id = NextNodeId::<Test>::get();
	assert_ok!(Registry::register_node(RuntimeOrigin::signed(owner), spec(gpus), worker));
	id
}

fn status(id: NodeId) -> Option<NodeStatus<u64>> {
	Nodes::<Test>::get(id).map(|n| n.status)
}

fn indexed(id: NodeId) -> bool {
	(0..GPU_CLASSES).any(|class| NodesByGpuClass::<Test>::get(class).contains(&id))
}

/// Moves past the heartbeat timeout of every node that last heartbeat at block 1.
fn kill_nodes_of_block_1() {
	run_to_block(2 + HEARTBEAT_TIMEOUT);
}

// ---- worker consent (attack 3) ----

/// Attack 3: before this change, `register_node` bound whatever key it was given. Bob naming
/// Alice's worker key bound it to Bob's node, so Alice's worker (or a validator's) heartbeat and
/// trained for Bob, and Alice's own registration with her key failed with
/// `WorkerAlreadyBound`. Now the key is only proposed: it is not bound, it cannot heartbeat for
/// Bob's node, the node takes no jobs, and Alice registers with her key as usual.
#[test]
fn a_worker_key_proposed_by_an_attacker_is_not_bound() {
	ExtBuilder.build_and_execute(|| {
		let bobs = propose(BOB, ALICE_WORKER, 8);
		let node = Nodes::<Test>::get(bobs).expect("stored");
		assert!(!node.worker_bound);
		assert_eq!(NodeByWorker::<Test>::get(ALICE_WORKER), None);
		assert_eq!(
			Registry::check_eligible(bobs, &req(8), 1).err(),
			Some(Ineligible::WorkerNotBound)
		);
		assert_noop!(
			Registry::heartbeat(RuntimeOrigin::signed(ALICE_WORKER), bobs),
			Error::NotNodeOwnerOrWorker
		);
		// Alice's own registration with her key is not blocked, and her key accepts it.
		let alices = register(ALICE, ALICE_WORKER, 8);
		assert_eq!(NodeByWorker::<Test>::get(ALICE_WORKER), Some(alices));
		assert!(Registry::check_eligible(alices, &req(8), 1).is_ok());
		// Bound to Alice's node, the key cannot be bound to Bob's as well.
		assert_noop!(
			Registry::accept_worker(RuntimeOrigin::signed(ALICE_WORKER), bobs),
			Error::WorkerAlreadyBound
		);
		// Bob's node leaving does not unbind Alice's worker.
		assert_ok!(Registry::deregister_node(RuntimeOrigin::signed(BOB), bobs));
		run_to_block(1 + UNBONDING_PERIOD);
		assert_ok!(Registry::withdraw_bond(RuntimeOrigin::signed(BOB), bobs));
		assert_eq!(NodeByWorker::<Test>::get(ALICE_WORKER), Some(alices));
	});
}

#[test]
fn the_proposed_worker_accepting_binds_it() {
	ExtBuilder.build_and_execute(|| {
		let id = propose(ALICE, ALICE_WORKER, 8);
		System::assert_last_event(
			Event::NodeRegistered { node_id: id, owner: ALICE, worker: ALICE_WORKER, bond: BOND }
				.into(),
		);
		assert_eq!(
			Registry::check_eligible(id, &req(8), 1).err(),
			Some(Ineligible::WorkerNotBound)
		);
		// The owner still heartbeats an unbound node; its proposed worker may not.
		assert_ok!(Registry::heartbeat(RuntimeOrigin::signed(ALICE), id));
		assert_noop!(
			Registry::heartbeat(RuntimeOrigin::signed(ALICE_WORKER), id),
			Error::NotNodeOwnerOrWorker
		);
		assert_ok!(Registry::accept_worker(RuntimeOrigin::signed(ALICE_WORKER), id));
		System::assert_last_event(
			Event::WorkerAccepted { node_id: id, worker: ALICE_WORKER }.into(),
		);
		assert_eq!(Nodes::<Test>::get(id).map(|n| n.worker_bound), Some(true));
		assert_eq!(NodeByWorker::<Test>::get(ALICE_WORKER), Some(id));
		assert!(Registry::check_eligible(id, &req(8), 1).is_ok());
		assert_ok!(Registry::heartbeat(RuntimeOrigin::signed(ALICE_WORKER), id));
		assert_noop!(
			Registry::accept_worker(RuntimeOrigin::signed(ALICE_WORKER), id),
			Error::WorkerAlreadyBound
		);
	});
}

/// Attack 3: only the proposed key may bind itself; neither the owner nor anyone else can
/// accept for it.
#[test]
fn someone_else_accepting_a_worker_is_refused() {
	ExtBuilder.build_and_execute(|| {
		let id = propose(ALICE, ALICE_WORKER, 8);
		for who in [CHARLIE, ALICE] {
			assert_noop!(
				Registry::accept_worker(RuntimeOrigin::signed(who), id),
				Error::NotProposedWorker
			);
		}
		assert_noop!(
			Registry::accept_worker(RuntimeOrigin::signed(ALICE_WORKER), 77),
			Error::NodeNotFound
		);
		// A node that is leaving binds no key.
		assert_ok!(Registry::deregister_node(RuntimeOrigin::signed(ALICE), id));
		assert_noop!(
			Registry::accept_worker(RuntimeOrigin::signed(ALICE_WORKER), id),
			Error::NodeNotActive
		);
	});
}

#[test]
fn the_owner_as_worker_is_bound_at_once() {
	ExtBuilder.build_and_execute(|| {
		let id = propose(ALICE, ALICE, 8);
		assert_eq!(Nodes::<Test>::get(id).map(|n| n.worker_bound), Some(true));
		assert_eq!(NodeByWorker::<Test>::get(ALICE), Some(id));
		assert_noop!(
			Registry::register_node(RuntimeOrigin::signed(ALICE), spec(4), ALICE),
			Error::WorkerAlreadyBound
		);
	});
}

// ---- dormant nodes (attack 2) ----

/// Attack 2: before this change a node that stopped heartbeating stayed in the matching index
/// for ever, taking a place that matching reads. Now anyone can prune it, for free.
#[test]
fn a_dead_node_is_pruned_from_the_index() {
	ExtBuilder.build_and_execute(|| {
		let id = register(ALICE, ALICE_WORKER, 8);
		assert_noop!(
			Registry::prune_dead_node(RuntimeOrigin::signed(CHARLIE), id),
			Error::NodeIsLive
		);
		assert_noop!(
			Registry::prune_dead_node(RuntimeOrigin::signed(CHARLIE), 42),
			Error::NodeNotFound
		);
		kill_nodes_of_block_1();
		let info = Registry::prune_dead_node(RuntimeOrigin::signed(CHARLIE), id).expect("pruned");
		assert_eq!(info.pays_fee, Pays::No);
		System::assert_last_event(Event::NodeDormant { node_id: id }.into());
		assert_eq!(status(id), Some(NodeStatus::Dormant));
		assert!(!indexed(id));
		assert_eq!(Registry::active_totals(), ActiveTotals::default());
		assert_eq!(Registry::check_eligible(id, &req(8), 30).err(), Some(Ineligible::Dormant));
		// Once dormant there is nothing left to prune.
		assert_noop!(
			Registry::prune_dead_node(RuntimeOrigin::signed(CHARLIE), id),
			Error::NodeIsLive
		);
		assert_noop!(
			Registry::prune_dead_node(RuntimeOrigin::none(), id),
			sp_runtime::DispatchError::BadOrigin
		);
	});
}

#[test]
fn drop_if_dead_only_drops_dead_active_nodes() {
	ExtBuilder.build_and_execute(|| {
		let id = register(ALICE, ALICE_WORKER, 8);
		assert!(!Registry::drop_if_dead(id, 1 + HEARTBEAT_TIMEOUT));
		assert_eq!(status(id), Some(NodeStatus::Active));
		assert!(!Registry::drop_if_dead(99, 1_000));
		assert!(Registry::drop_if_dead(id, 2 + HEARTBEAT_TIMEOUT));
		assert_eq!(status(id), Some(NodeStatus::Dormant));
		assert!(!indexed(id));
		assert!(!Registry::drop_if_dead(id, 2 + HEARTBEAT_TIMEOUT));
	});
}

#[test]
fn a_heartbeat_reactivates_a_dormant_node() {
	ExtBuilder.build_and_execute(|| {
		let id = register(ALICE, ALICE_WORKER, 8);
		kill_nodes_of_block_1();
		assert!(Registry::drop_if_dead(id, 2 + HEARTBEAT_TIMEOUT));
		assert_ok!(Registry::heartbeat(RuntimeOrigin::signed(ALICE_WORKER), id));
		System::assert_has_event(Event::NodeReactivated { node_id: id }.into());
		assert_eq!(status(id), Some(NodeStatus::Active));
		assert_eq!(NodesByGpuClass::<Test>::get(3).into_inner(), vec![id]);
		assert_eq!(
			Registry::active_totals(),
			ActiveTotals { nodes: 1, gpus: 8, renewable_nodes: 1 }
		);
		assert!(Registry::check_eligible(id, &req(8), 2 + HEARTBEAT_TIMEOUT).is_ok());
	});
}

#[test]
fn a_dormant_node_waits_while_its_class_is_full() {
	ExtBuilder.build_and_execute(|| {
		let id = register(ALICE, ALICE_WORKER, 8);
		kill_nodes_of_block_1();
		assert!(Registry::drop_if_dead(id, 2 + HEARTBEAT_TIMEOUT));
		for (owner, worker) in [(BOB, 201), (BOB, 202), (CHARLIE, 203), (CHARLIE, 204)] {
			register(owner, worker, 8);
		}
		// The heartbeat counts (the worker does not re-send it forever); the node waits, dormant.
		assert_ok!(Registry::heartbeat(RuntimeOrigin::signed(ALICE), id));
		let node = Nodes::<Test>::get(id).expect("node");
		assert_eq!(node.status, NodeStatus::Dormant);
		assert_eq!(node.last_heartbeat, System::block_number());
	});
}

/// Attack 2: before this change, 40 dead nodes registered first filled the first 32 places of
/// the index that matching reads (`candidates(gpus, 32)`), so a live node registered after
/// them was never offered. Pruning the dead ones makes the live node visible.
#[test]
fn forty_dead_nodes_no_longer_hide_a_live_one() {
	ExtBuilder.build_and_execute(|| {
		MaxNodes::set(&64);
		MaxNodesPerOwner::set(&64);
		MaxNodesPerClass::set(&64);
		let dead: Vec<NodeId> = (0..40).map(|i| register(ALICE, 1_000 + i, 8)).collect();
		kill_nodes_of_block_1();
		let live = register(BOB, BOB, 8);
		let before = Registry::candidates(8, 32);
		assert!(!before.contains(&live));
		assert!(before.iter().all(|id| Registry::check_eligible(*id, &req(8), 22).is_err()));

		for id in &dead {
			assert_ok!(Registry::prune_dead_node(RuntimeOrigin::signed(CHARLIE), *id));
		}
		assert_eq!(Registry::candidates(8, 32), vec![live]);
		assert!(Registry::check_eligible(live, &req(8), 22).is_ok());
		assert_eq!(
			Registry::active_totals(),
			ActiveTotals { nodes: 1, gpus: 8, renewable_nodes: 1 }
		);
	});
}

#[test]
fn dormant_nodes_can_be_updated_and_deregistered() {
	ExtBuilder.build_and_execute(|| {
		let id = register(ALICE, ALICE_WORKER, 8);
		kill_nodes_of_block_1();
		assert!(Registry::drop_if_dead(id, 2 + HEARTBEAT_TIMEOUT));
		assert_ok!(Registry::update_node(RuntimeOrigin::signed(ALICE), id, spec(16)));
		assert_eq!(status(id), Some(NodeStatus::Dormant));
		assert!(!indexed(id));
		assert_eq!(Registry::active_totals(), ActiveTotals::default());
		// It comes back in its new class.
		assert_ok!(Registry::heartbeat(RuntimeOrigin::signed(ALICE), id));
		assert_eq!(NodesByGpuClass::<Test>::get(4).into_inner(), vec![id]);
		assert_eq!(Registry::active_totals().gpus, 16);
		assert!(Registry::drop_if_dead(id, 100));
		assert_ok!(Registry::deregister_node(RuntimeOrigin::signed(ALICE), id));
		assert!(matches!(status(id), Some(NodeStatus::Unbonding { .. })));
		assert_noop!(Registry::heartbeat(RuntimeOrigin::signed(ALICE), id), Error::NodeNotActive);
	});
}

// ---- minimum bond (attack 11) ----

/// Attack 11: before this change a node slashed down to nothing stayed in the matching index and
/// kept taking jobs with no bond left at stake. Now a slash below `MinNodeBond` makes it dormant
/// until its owner tops the bond up.
#[test]
fn a_slash_below_the_min_bond_makes_a_node_dormant_and_a_top_up_reactivates_it() {
	ExtBuilder.build_and_execute(|| {
		let id = register(ALICE, ALICE_WORKER, 8);
		assert_eq!(Registry::slash_bond(id, BOND - MIN_BOND, &FUND), Ok(BOND - MIN_BOND));
		assert_eq!(status(id), Some(NodeStatus::Active));
		assert_eq!(Registry::slash_bond(id, 1, &FUND), Ok(1));
		System::assert_last_event(Event::NodeDormant { node_id: id }.into());
		assert_eq!(status(id), Some(NodeStatus::Dormant));
		assert!(!indexed(id));
		assert_eq!(Registry::check_eligible(id, &req(8), 1).err(), Some(Ineligible::Dormant));
		// A heartbeat does not bring it back while the bond is short.
		assert_ok!(Registry::heartbeat(RuntimeOrigin::signed(ALICE_WORKER), id));
		assert_eq!(status(id), Some(NodeStatus::Dormant));

		assert_noop!(Registry::top_up_bond(RuntimeOrigin::signed(BOB), id, 1), Error::NotNodeOwner);
		assert_noop!(
			Registry::top_up_bond(RuntimeOrigin::signed(ALICE), 42, 1),
			Error::NodeNotFound
		);
		assert_noop!(
			Registry::top_up_bond(RuntimeOrigin::signed(ALICE), id, INITIAL_BALANCE),
			Error::InsufficientBond
		);
		assert_ok!(Registry::top_up_bond(RuntimeOrigin::signed(ALICE), id, 1));
		System::assert_has_event(Event::BondToppedUp { node_id: id, amount: 1 }.into());
		System::assert_last_event(Event::NodeReactivated { node_id: id }.into());
		assert_eq!(status(id), Some(NodeStatus::Active));
		assert_eq!(Nodes::<Test>::get(id).map(|n| n.bond), Some(MIN_BOND));
		assert_eq!(held(ALICE), MIN_BOND);
		assert!(Registry::check_eligible(id, &req(8), 1).is_ok());
	});
}

#[test]
fn a_top_up_of_a_dead_node_waits_for_its_heartbeat() {
	ExtBuilder.build_and_execute(|| {
		let id = register(ALICE, ALICE_WORKER, 8);
		assert_eq!(Registry::slash_bond(id, BOND, &FUND), Ok(BOND));
		assert_eq!(status(id), Some(NodeStatus::Dormant));
		kill_nodes_of_block_1();
		assert_ok!(Registry::top_up_bond(RuntimeOrigin::signed(ALICE), id, BOND));
		assert_eq!(status(id), Some(NodeStatus::Dormant));
		assert_ok!(Registry::heartbeat(RuntimeOrigin::signed(ALICE_WORKER), id));
		assert_eq!(status(id), Some(NodeStatus::Active));
		// Topping up an active node just adds to its bond; a leaving one cannot be topped up.
		assert_ok!(Registry::top_up_bond(RuntimeOrigin::signed(ALICE), id, 10));
		assert_eq!(held(ALICE), BOND + 10);
		assert_ok!(Registry::deregister_node(RuntimeOrigin::signed(ALICE), id));
		assert_noop!(
			Registry::top_up_bond(RuntimeOrigin::signed(ALICE), id, 10),
			Error::NodeNotActive
		);
	});
}

// ---- running totals (attack 11) ----

/// Attack 11: market statistics scanned every registered node. The totals they now read
/// follow every change of the index (and `try_state` recounts them after each test).
#[test]
fn active_totals_follow_the_index() {
	ExtBuilder.build_and_execute(|| {
		let totals = |nodes, gpus, renewable_nodes| ActiveTotals { nodes, gpus, renewable_nodes };
		let a = register(ALICE, ALICE_WORKER, 8);
		let b = register(BOB, 201, 2);
		let c = NextNodeId::<Test>::get();
		let brown = NodeSpec { renewable_share: Percent::from_percent(49), ..spec(4) };
		assert_ok!(Registry::register_node(RuntimeOrigin::signed(CHARLIE), brown, CHARLIE));
		assert_eq!(Registry::active_totals(), totals(3, 14, 2));
		// An update in place, and one that changes class and energy.
		assert_ok!(Registry::update_node(RuntimeOrigin::signed(ALICE), a, spec(9)));
		assert_eq!(Registry::active_totals(), totals(3, 15, 2));
		let brown16 = NodeSpec { renewable_share: Percent::from_percent(10), ..spec(16) };
		assert_ok!(Registry::update_node(RuntimeOrigin::signed(ALICE), a, brown16));
		assert_eq!(Registry::active_totals(), totals(3, 22, 1));
		assert_ok!(Registry::deregister_node(RuntimeOrigin::signed(BOB), b));
		assert_eq!(Registry::active_totals(), totals(2, 20, 0));
		assert_eq!(Registry::slash_bond(c, BOND, &FUND), Ok(BOND));
		assert_eq!(Registry::active_totals(), totals(1, 16, 0));
		assert_ok!(Registry::top_up_bond(RuntimeOrigin::signed(CHARLIE), c, BOND));
		assert_eq!(Registry::active_totals(), totals(2, 20, 0));
		assert!(Registry::drop_if_dead(a, 100));
		assert_eq!(Registry::active_totals(), totals(1, 4, 0));
	});
}

#[test]
fn try_state_catches_drifting_totals_and_unconsented_bindings() {
	ExtBuilder.build().execute_with(|| {
		register(ALICE, ALICE_WORKER, 8);
		let proposed = propose(BOB, 202, 4);
		assert_ok!(Registry::do_try_state());
		pallet::ActiveTotals::<Test>::mutate(|t| t.gpus += 1);
		assert!(Registry::do_try_state().is_err());
		pallet::ActiveTotals::<Test>::mutate(|t| t.gpus -= 1);
		assert_ok!(Registry::do_try_state());
		NodeByWorker::<Test>::insert(202, proposed);
		assert!(Registry::do_try_state().is_err());
	});
}
