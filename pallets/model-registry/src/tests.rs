//! The registry's tests: versions from verified results, relay lineage, owners' rights and
//! attacks on them, and the reads RPC clients use.

use crate::{mock::*, pallet::*, runtime_api::MAX_READ};
use aicchain_primitives::{VerifiedModels, VersionId};
use frame_support::{assert_noop, assert_ok, BoundedVec};

const ALICE: AccountId = 1;
const BOB: AccountId = 2;
const MALLORY: AccountId = 66;

/// Records job `job`'s verified result for `trainer`, continuing `parent`; its version id.
fn record(job: u64, trainer: AccountId, parent: Option<VersionId>) -> VersionId {
	let next = NextVersionId::<Test>::get();
	ModelRegistry::record(crate::fixtures::verified(job, trainer, 9, parent));
	assert_eq!(VersionOfJob::<Test>::get(job), Some(next), "job {job} recorded");
	next
}

fn name(bytes: &[u8]) -> BoundedVec<u8, frame_support::traits::ConstU32<8>> {
	BoundedVec::try_from(bytes.to_vec()).expect("short name")
}

#[test]
fn a_verified_result_without_a_parent_is_a_new_private_model_of_its_trainer() {
	build_and_execute(|| {
		let v = record(7, ALICE, None);
		let model = Models::<Test>::get(0).expect("model 0");
		assert_eq!(
			(model.owner, model.public, model.root, model.latest, model.versions),
			(ALICE, false, v, v, 1)
		);
		let version = Versions::<Test>::get(v).expect("version");
		assert_eq!((version.model, version.number, version.parent, version.job), (0, 1, None, 7));
		assert_eq!((version.trainer, version.provider, version.cost), (ALICE, 9, 1_000));
		System::assert_last_event(
			Event::VersionRecorded {
				model: 0,
				version: v,
				parent: None,
				job: 7,
				owner: ALICE,
				model_hash: version.model_hash,
			}
			.into(),
		);
	});
}

/// Relay training: Bob continues Alice's public model twice, from two versions; each result
/// joins her model (she stays its owner), links to its parent, and the lineage walks back to
/// the root, at most `MaxLineage` versions.
#[test]
fn relayed_versions_join_the_parents_model_and_form_a_tree() {
	build_and_execute(|| {
		let root = record(1, ALICE, None);
		let child = record(2, BOB, Some(root));
		let sibling = record(3, BOB, Some(root));
		let grandchild = record(4, ALICE, Some(child));
		let model = Models::<Test>::get(0).expect("model");
		assert_eq!((model.owner, model.versions, model.latest), (ALICE, 4, grandchild));
		assert_eq!(NextModelId::<Test>::get(), 1, "no new model");
		let v = Versions::<Test>::get(child).expect("child");
		assert_eq!((v.model, v.number, v.parent, v.trainer), (0, 2, Some(root), BOB));
		assert!(Children::<Test>::contains_key(root, child));
		assert!(Children::<Test>::contains_key(root, sibling));
		let lineage: Vec<_> =
			ModelRegistry::api_lineage(grandchild).into_iter().map(|(id, _)| id).collect();
		assert_eq!(lineage, vec![grandchild, child, root]);
		let all: Vec<_> = ModelRegistry::api_versions(0).into_iter().map(|(id, _)| id).collect();
		assert_eq!(all, vec![root, child, sibling, grandchild]);

		// A long line is read back `MaxLineage` versions at most.
		let mut tip = grandchild;
		for job in 5..10 {
			tip = record(job, BOB, Some(tip));
		}
		assert_eq!(ModelRegistry::api_lineage(tip).len(), MAX_LINEAGE as usize);
	});
}

#[test]
fn a_result_naming_an_unknown_parent_records_nothing() {
	build_and_execute(|| {
		ModelRegistry::record(crate::fixtures::verified(1, ALICE, 9, Some(5)));
		assert_eq!(VersionOfJob::<Test>::get(1), None);
		assert_eq!((NextModelId::<Test>::get(), NextVersionId::<Test>::get()), (0, 0));
	});
}

/// Attack: someone else renames, publishes, shares or takes a model. Each is `NotOwner` and
/// changes nothing; a missing model is `ModelNotFound`.
#[test]
fn only_the_owner_changes_a_model() {
	build_and_execute(|| {
		record(1, ALICE, None);
		let mallory = RuntimeOrigin::signed(MALLORY);
		assert_noop!(
			ModelRegistry::set_name(mallory.clone(), 0, name(b"mine")),
			Error::<Test>::NotOwner
		);
		assert_noop!(ModelRegistry::set_public(mallory.clone(), 0, true), Error::<Test>::NotOwner);
		assert_noop!(ModelRegistry::allow(mallory.clone(), 0, MALLORY), Error::<Test>::NotOwner);
		assert_noop!(ModelRegistry::disallow(mallory.clone(), 0, ALICE), Error::<Test>::NotOwner);
		assert_noop!(ModelRegistry::transfer(mallory, 0, MALLORY), Error::<Test>::NotOwner);
		assert_noop!(
			ModelRegistry::set_public(RuntimeOrigin::signed(ALICE), 1, true),
			Error::<Test>::ModelNotFound
		);
		assert_ok!(ModelRegistry::set_name(RuntimeOrigin::signed(ALICE), 0, name(b"credit")));
		assert_eq!(Models::<Test>::get(0).map(|m| m.name.into_inner()), Some(b"credit".to_vec()));
	});
}

/// Private by default: the owner and the accounts it allowed may fetch; public: anyone.
#[test]
fn fetching_follows_visibility_and_the_allow_list() {
	build_and_execute(|| {
		record(1, ALICE, None);
		let alice = RuntimeOrigin::signed(ALICE);
		assert!(ModelRegistry::can_fetch(0, &ALICE));
		assert!(!ModelRegistry::can_fetch(0, &BOB));
		assert!(!ModelRegistry::can_fetch(1, &ALICE), "no such model");
		assert_ok!(ModelRegistry::allow(alice.clone(), 0, BOB));
		assert!(ModelRegistry::can_fetch(0, &BOB));
		assert_noop!(ModelRegistry::allow(alice.clone(), 0, BOB), Error::<Test>::AlreadyAllowed);
		for who in [3, 4] {
			assert_ok!(ModelRegistry::allow(alice.clone(), 0, who));
		}
		assert_noop!(ModelRegistry::allow(alice.clone(), 0, 5), Error::<Test>::TooManyAllowed);
		assert_ok!(ModelRegistry::disallow(alice.clone(), 0, BOB));
		assert!(!ModelRegistry::can_fetch(0, &BOB));
		assert_noop!(ModelRegistry::disallow(alice.clone(), 0, BOB), Error::<Test>::NotAllowed);
		assert_ok!(ModelRegistry::set_public(alice, 0, true));
		assert!(ModelRegistry::can_fetch(0, &MALLORY));
	});
}

/// A transfer hands over every right and clears the allow list.
#[test]
fn a_transfer_moves_ownership_and_clears_the_allow_list() {
	build_and_execute(|| {
		record(1, ALICE, None);
		let alice = RuntimeOrigin::signed(ALICE);
		assert_ok!(ModelRegistry::allow(alice.clone(), 0, 3));
		assert_noop!(ModelRegistry::transfer(alice.clone(), 0, ALICE), Error::<Test>::AlreadyOwner);
		assert_ok!(ModelRegistry::transfer(alice.clone(), 0, BOB));
		assert_eq!(Models::<Test>::get(0).map(|m| (m.owner, m.allowed)), Some((BOB, 0)));
		assert!(!ModelRegistry::can_fetch(0, &3));
		assert!(!ModelRegistry::can_fetch(0, &ALICE), "the seller lost access");
		assert_noop!(ModelRegistry::set_public(alice, 0, true), Error::<Test>::NotOwner);
		assert_ok!(ModelRegistry::set_public(RuntimeOrigin::signed(BOB), 0, true));
		// Versions Alice trains on it later still join Bob's model.
		let v = record(2, ALICE, Some(0));
		assert_eq!(Versions::<Test>::get(v).map(|v| (v.model, v.trainer)), Some((0, ALICE)));
	});
}

#[test]
fn models_are_read_in_pages() {
	build_and_execute(|| {
		for job in 0..5 {
			record(job, ALICE, None);
		}
		let ids = |from, limit| -> Vec<u64> {
			ModelRegistry::api_models(from, limit).into_iter().map(|m| m.id).collect()
		};
		assert_eq!(ids(0, 2), vec![0, 1]);
		assert_eq!(ids(3, 10), vec![3, 4]);
		assert_eq!(ids(9, 10), Vec::<u64>::new());
		assert_eq!(ids(0, u32::MAX).len(), 5usize.min(MAX_READ as usize));
		assert_eq!(ModelRegistry::api_model(4).map(|m| m.owner), Some(ALICE));
	});
}
