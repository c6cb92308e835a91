//! Adding and removing validators, the plan the session pallet reads, the active worker keys.

use crate::{mock::*, ActiveWorkers, Error, Event, PlanChanged, Validators};
use frame_support::{assert_noop, assert_ok, traits::OneSessionHandler};
use pallet_session::SessionManager;
use sp_runtime::{testing::UintAuthorityId, DispatchError};

fn planned() -> Vec<AccountId> {
	Validators::<Test>::get().into_inner()
}

#[test]
fn genesis_plans_the_first_session() {
	test(|| {
		assert_eq!(planned(), vec![1, 2, 3]);
		assert_eq!(ValidatorSet::new_session_genesis(0), Some(vec![1, 2, 3]));
		// Nothing changed: the session pallet keeps its set.
		assert_eq!(ValidatorSet::new_session(1), None);
	});
}

#[test]
fn root_adds_a_validator_for_the_next_plan() {
	test(|| {
		assert_ok!(ValidatorSet::add_validator(RuntimeOrigin::root(), 4));
		System::assert_last_event(Event::ValidatorAdded { who: 4 }.into());
		assert_eq!(ValidatorSet::new_session(1), Some(vec![1, 2, 3, 4]));
		// The plan is read once per change.
		assert_eq!(ValidatorSet::new_session(2), None);
		assert!(!PlanChanged::<Test>::get());
	});
}

#[test]
fn only_the_manager_origin_changes_the_set() {
	test(|| {
		assert_noop!(
			ValidatorSet::add_validator(RuntimeOrigin::signed(4), 4),
			DispatchError::BadOrigin
		);
		assert_noop!(
			ValidatorSet::remove_validator(RuntimeOrigin::signed(1), 2),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn bad_changes_are_named_errors_and_change_nothing() {
	test(|| {
		assert_noop!(
			ValidatorSet::add_validator(RuntimeOrigin::root(), KEYLESS),
			Error::<Test>::NoSessionKeys
		);
		assert_noop!(
			ValidatorSet::add_validator(RuntimeOrigin::root(), 2),
			Error::<Test>::AlreadyValidator
		);
		assert_noop!(
			ValidatorSet::remove_validator(RuntimeOrigin::root(), 7),
			Error::<Test>::NotValidator
		);
		assert_ok!(ValidatorSet::add_validator(RuntimeOrigin::root(), 4));
		assert_noop!(
			ValidatorSet::add_validator(RuntimeOrigin::root(), 5),
			Error::<Test>::TooManyValidators
		);
	});
}

#[test]
fn the_set_never_shrinks_below_the_minimum() {
	test(|| {
		assert_ok!(ValidatorSet::remove_validator(RuntimeOrigin::root(), 3));
		System::assert_last_event(Event::ValidatorRemoved { who: 3 }.into());
		assert_noop!(
			ValidatorSet::remove_validator(RuntimeOrigin::root(), 1),
			Error::<Test>::TooFewValidators
		);
		assert_eq!(ValidatorSet::new_session(1), Some(vec![1, 2]));
	});
}

fn keyed(
	list: &[(AccountId, UintAuthorityId)],
) -> impl Iterator<Item = (&AccountId, UintAuthorityId)> {
	list.iter().map(|(who, key)| (who, key.clone()))
}

#[test]
fn active_workers_follow_the_session() {
	test(|| {
		let keys = [(1, UintAuthorityId(11)), (2, UintAuthorityId(12)), (3, UintAuthorityId(13))];
		ValidatorSet::on_genesis_session(keyed(&keys));
		assert_eq!(ValidatorSet::active_count(), 3);
		assert!(ValidatorSet::is_active_worker(&UintAuthorityId(13)));

		// An unchanged session keeps the list, whatever it is handed.
		ValidatorSet::on_new_session(false, keyed(&[]), keyed(&[]));
		assert_eq!(ValidatorSet::active_count(), 3);

		// Validator 3 left: its worker key is no longer a validator's.
		let next = [(1, UintAuthorityId(11)), (2, UintAuthorityId(12))];
		ValidatorSet::on_new_session(true, keyed(&next), keyed(&next));
		assert_eq!(ValidatorSet::active_count(), 2);
		assert!(!ValidatorSet::is_active_worker(&UintAuthorityId(13)));
		assert_eq!(ActiveWorkers::<Test>::get().len(), 2);
		System::assert_last_event(Event::ActiveWorkersChanged { count: 2 }.into());
	});
}
