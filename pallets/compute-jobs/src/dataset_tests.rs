//! Users' own datasets: registration for a deposit, withdrawal, private datasets only their
//! owners' jobs may name, and declines of jobs whose data the provider could not fetch.

use crate::{mock::*, spec_tests::*, *};
use aicchain_primitives::{
	datasets::{CREDIT_SCORING_HASH, MAX_DATASET_BYTES},
	DatasetInfo, DatasetName, TrainingSpec,
};
use frame_support::{assert_noop, assert_ok, traits::fungible::InspectHold};
use sp_runtime::{DispatchError, Perbill};

type Error = crate::Error<Test>;

const MINE: H256 = H256::repeat_byte(0x42);

fn csv(name: &[u8], public: bool) -> DatasetInfo {
	DatasetInfo {
		name: DatasetName::truncate_from(name.to_vec()),
		rows: 400,
		columns: 6,
		bytes: 12_000,
		public,
	}
}

fn deposit_of(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::DatasetDeposit.into(), &who)
}

/// A job of the demo's shape training on `dataset`.
fn on(dataset: H256) -> JobRequirements {
	with_training(TrainingSpec { dataset, ..training(&demo_requirements()) })
}

#[test]
fn a_user_registers_a_dataset_for_a_deposit_and_withdraws_it() {
	ExtBuilder.build_and_execute(|| {
		let info = csv(b"churn.csv", true);
		assert_ok!(ComputeJobs::add_dataset(RuntimeOrigin::signed(USER), MINE, info.clone()));
		System::assert_last_event(
			Event::DatasetAdded { hash: MINE, owner: USER, deposit: DATASET_DEPOSIT, public: true }
				.into(),
		);
		assert_eq!(Datasets::<Test>::get(MINE), Some(info.clone()));
		assert_eq!(DatasetOwners::<Test>::get(MINE), Some((USER, DATASET_DEPOSIT)));
		assert_eq!(deposit_of(USER), DATASET_DEPOSIT);
		// A job may name it at once.
		let job = submit(on(MINE));
		assert!(Jobs::<Test>::contains_key(job));

		// Nobody registers a hash twice, a curated one included.
		assert_noop!(
			ComputeJobs::add_dataset(RuntimeOrigin::signed(OUTSIDER), MINE, info.clone()),
			Error::DatasetAlreadyKnown
		);
		assert_noop!(
			ComputeJobs::add_dataset(
				RuntimeOrigin::signed(OUTSIDER),
				H256(CREDIT_SCORING_HASH),
				info.clone()
			),
			Error::DatasetAlreadyKnown
		);
		// Only the owner withdraws it; a curated dataset has no owner to withdraw it.
		assert_noop!(
			ComputeJobs::withdraw_dataset(RuntimeOrigin::signed(OUTSIDER), MINE),
			Error::NotDatasetOwner
		);
		assert_noop!(
			ComputeJobs::withdraw_dataset(RuntimeOrigin::signed(USER), H256(CREDIT_SCORING_HASH)),
			Error::NotDatasetOwner
		);
		// Not while a job trains on it.
		assert_noop!(
			ComputeJobs::withdraw_dataset(RuntimeOrigin::signed(USER), MINE),
			Error::DatasetInUse
		);
		assert_ok!(ComputeJobs::cancel_job(RuntimeOrigin::signed(USER), job));
		assert_ok!(ComputeJobs::withdraw_dataset(RuntimeOrigin::signed(USER), MINE));
		System::assert_last_event(
			Event::DatasetWithdrawn { hash: MINE, owner: USER, deposit: DATASET_DEPOSIT }.into(),
		);
		assert_eq!(deposit_of(USER), 0);
		assert!(
			!Datasets::<Test>::contains_key(MINE) && !DatasetOwners::<Test>::contains_key(MINE)
		);
		assert_noop!(
			ComputeJobs::withdraw_dataset(RuntimeOrigin::signed(USER), MINE),
			Error::DatasetUnknown
		);
		// New jobs may no longer name it.
		assert_noop!(
			ComputeJobs::submit_job(RuntimeOrigin::signed(USER), on(MINE), BUDGET),
			Error::DatasetUnknown
		);
	});
}

/// Bad input changes nothing and says what was wrong.
#[test]
fn records_no_engine_could_hold_are_refused_with_named_errors() {
	ExtBuilder.build_and_execute(|| {
		let good = csv(b"churn.csv", true);
		let cases = [
			(
				DatasetInfo { name: DatasetName::truncate_from(b"churn".to_vec()), ..good.clone() },
				Error::DatasetNameInvalid,
			),
			(
				DatasetInfo {
					name: DatasetName::truncate_from(b"../x.csv".to_vec()),
					..good.clone()
				},
				Error::DatasetNameInvalid,
			),
			(DatasetInfo { bytes: 0, ..good.clone() }, Error::DatasetSizeInvalid),
			(
				DatasetInfo { bytes: MAX_DATASET_BYTES + 1, ..good.clone() },
				Error::DatasetSizeInvalid,
			),
			(DatasetInfo { rows: 9, ..good.clone() }, Error::DatasetShapeInvalid),
			(DatasetInfo { columns: 1, ..good.clone() }, Error::DatasetShapeInvalid),
			(DatasetInfo { rows: 20_000, ..good.clone() }, Error::DatasetShapeInvalid),
			(
				DatasetInfo {
					name: DatasetName::truncate_from(b"words.txt".to_vec()),
					columns: aicchain_primitives::limits::LM_VOCAB + 1,
					bytes: 1 << 20,
					..good.clone()
				},
				Error::DatasetShapeInvalid,
			),
		];
		for (info, error) in cases {
			assert_noop!(ComputeJobs::add_dataset(RuntimeOrigin::signed(USER), MINE, info), error);
		}
		// The deposit must be there to hold (POOR_USER has exactly the deposit: the hold would
		// leave nothing for the existential deposit).
		assert_noop!(
			ComputeJobs::add_dataset(RuntimeOrigin::signed(POOR_USER), MINE, good.clone()),
			Error::InsufficientBalance
		);
		// Root's curated datasets pass the same checks.
		assert_noop!(
			ComputeJobs::register_dataset(
				RuntimeOrigin::root(),
				MINE,
				DatasetInfo { bytes: 0, ..good }
			),
			Error::DatasetSizeInvalid
		);
	});
}

/// A private dataset: only its owner's jobs may name it.
#[test]
fn only_its_owner_may_train_on_a_private_dataset() {
	ExtBuilder.build_and_execute(|| {
		assert_ok!(ComputeJobs::add_dataset(
			RuntimeOrigin::signed(USER),
			MINE,
			csv(b"patients.csv", false)
		));
		assert_noop!(
			ComputeJobs::submit_job(RuntimeOrigin::signed(OUTSIDER), on(MINE), BUDGET),
			Error::DatasetPrivate
		);
		assert_noop!(
			ComputeJobs::submit_job_waiting(RuntimeOrigin::signed(OUTSIDER), on(MINE), BUDGET, 0),
			Error::DatasetPrivate
		);
		submit(on(MINE));

		// Public: anyone's job may name it.
		let public = H256::repeat_byte(0x43);
		assert_ok!(ComputeJobs::add_dataset(
			RuntimeOrigin::signed(USER),
			public,
			csv(b"open.csv", true)
		));
		assert_ok!(ComputeJobs::submit_job(RuntimeOrigin::signed(OUTSIDER), on(public), BUDGET));
		assert_eq!(deposit_of(USER), 2 * DATASET_DEPOSIT);
	});
}

/// A user registers a dataset and never uploads it: every provider assigned its job must
/// decline. Before this change each decline cut the provider's reputation by 5% while the user,
/// refunded in full, lost nothing: a free way to sink providers' rankings. A decline of a job on
/// a user's dataset now costs the provider nothing; one on a curated dataset still costs 5%.
#[test]
fn declining_a_job_on_a_users_dataset_costs_no_reputation() {
	ExtBuilder.build_and_execute(|| {
		let [(a, _, a_worker), (b, _, b_worker), ..] = three_nodes();
		assert_ok!(ComputeJobs::add_dataset(
			RuntimeOrigin::signed(USER),
			MINE,
			csv(b"never-uploaded.csv", true)
		));
		let job = submit(on(MINE));
		assign(job, a);
		let before = standing(a);
		assert_ok!(ComputeJobs::decline_job(RuntimeOrigin::signed(a_worker), job));
		let after = standing(a);
		assert_eq!(after.1, before.1, "no reputation lost");
		assert_eq!((after.0, after.2, after.3, after.4), (before.0, before.2, 0, 0));

		// The same decline of a job on a curated dataset costs 5%.
		let curated = submit(demo_requirements());
		assign(curated, b);
		let before = standing(b);
		assert_ok!(ComputeJobs::decline_job(RuntimeOrigin::signed(b_worker), curated));
		assert_eq!(standing(b).1, before.1 - Perbill::from_percent(5) * before.1);
	});
}

/// Governance may take down a user's dataset (say, content nobody may host); the deposit goes
/// back to its owner, and only root may do it.
#[test]
fn root_removes_a_users_dataset_and_releases_its_deposit() {
	ExtBuilder.build_and_execute(|| {
		assert_ok!(ComputeJobs::add_dataset(
			RuntimeOrigin::signed(USER),
			MINE,
			csv(b"churn.csv", true)
		));
		assert_noop!(
			ComputeJobs::remove_dataset(RuntimeOrigin::signed(USER), MINE),
			DispatchError::BadOrigin
		);
		assert_ok!(ComputeJobs::remove_dataset(RuntimeOrigin::root(), MINE));
		System::assert_last_event(Event::DatasetRemoved { hash: MINE }.into());
		assert_eq!(deposit_of(USER), 0);
		assert!(!DatasetOwners::<Test>::contains_key(MINE));
	});
}

/// Attack: a user submits a job on their dataset, then withdraws it and registers the same hash
/// again with other rows in one block. Before this change the chain then expected a commitment
/// on the new record's schedule: the honest provider's result (on the file's real rows) was
/// refused `CommitmentOffSchedule` and its bond slashed at the timeout. Now a record that open
/// jobs train on can be neither withdrawn nor registered anew.
#[test]
fn a_dataset_cannot_change_under_an_open_job() {
	ExtBuilder.build_and_execute(|| {
		let info = csv(b"churn.csv", true);
		assert_ok!(ComputeJobs::add_dataset(RuntimeOrigin::signed(USER), MINE, info.clone()));
		let job = submit(on(MINE));
		assert_eq!(DatasetJobs::<Test>::get(MINE), 1);
		assert_noop!(
			ComputeJobs::withdraw_dataset(RuntimeOrigin::signed(USER), MINE),
			Error::DatasetInUse
		);
		// Root may take it down at once; nobody may register the hash again while the job is
		// open (the job keeps its schedule from the commitment).
		assert_ok!(ComputeJobs::remove_dataset(RuntimeOrigin::root(), MINE));
		let other_rows = DatasetInfo { rows: 10, ..info.clone() };
		assert_noop!(
			ComputeJobs::add_dataset(RuntimeOrigin::signed(OUTSIDER), MINE, other_rows.clone()),
			Error::DatasetInUse
		);
		assert_noop!(
			ComputeJobs::register_dataset(RuntimeOrigin::root(), MINE, other_rows.clone()),
			Error::DatasetInUse
		);
		assert_ok!(ComputeJobs::cancel_job(RuntimeOrigin::signed(USER), job));
		assert_eq!(DatasetJobs::<Test>::get(MINE), 0);
		assert!(!DatasetJobs::<Test>::contains_key(MINE));
		assert_ok!(ComputeJobs::add_dataset(RuntimeOrigin::signed(OUTSIDER), MINE, other_rows));
	});
}

/// Attack: engines keep the files they were given. Before this change, once the owner of a
/// private dataset withdrew it, anyone could register its hash again (as public, or as their
/// own private dataset) and have engines train on the first owner's data for them. Now only
/// the first owner may register a private dataset's hash again; root curates only public ones.
#[test]
fn only_the_first_owner_registers_a_private_hash_again() {
	ExtBuilder.build_and_execute(|| {
		let private = csv(b"patients.csv", false);
		assert_ok!(ComputeJobs::add_dataset(RuntimeOrigin::signed(USER), MINE, private.clone()));
		assert_ok!(ComputeJobs::withdraw_dataset(RuntimeOrigin::signed(USER), MINE));
		for info in [private.clone(), csv(b"patients.csv", true)] {
			assert_noop!(
				ComputeJobs::add_dataset(RuntimeOrigin::signed(OUTSIDER), MINE, info),
				Error::NotDatasetOwner
			);
		}
		assert_noop!(
			ComputeJobs::register_dataset(RuntimeOrigin::root(), MINE, csv(b"patients.csv", true)),
			Error::NotDatasetOwner
		);
		assert_noop!(
			ComputeJobs::register_dataset(
				RuntimeOrigin::root(),
				H256::repeat_byte(0x44),
				csv(b"curated.csv", false)
			),
			Error::DatasetPrivate
		);
		assert_ok!(ComputeJobs::add_dataset(RuntimeOrigin::signed(USER), MINE, private));
	});
}

/// A user uploads a private dataset to the provider's engine alone: verifiers cannot get it and
/// abstain, and the job ends unverified. Before this change that cost the honest provider 20% of
/// its reputation and a failure on its record; now it costs nothing (and pays nothing). A job on
/// a curated dataset that ends unverified still counts as a failure.
#[test]
fn a_job_on_a_users_dataset_that_nobody_could_verify_costs_the_provider_nothing() {
	ExtBuilder.build_and_execute(|| {
		let [(a, _, a_worker), (b, _, b_worker), ..] = three_nodes();
		assert_ok!(ComputeJobs::add_dataset(
			RuntimeOrigin::signed(USER),
			MINE,
			csv(b"patients.csv", false)
		));
		let job = submit(on(MINE));
		assign(job, a);
		let before = standing(a);
		assert_ok!(publish_result(a_worker, job));
		run_to_block(System::block_number() + ATTESTATION_WINDOW + 1);
		assert_eq!(status(job), JobStatus::Unverified { node: a });
		let after = standing(a);
		assert_eq!((after.0, after.1, after.2), (before.0, before.1, before.2));
		assert_eq!((after.3, after.4), (0, 0), "slot and GPUs freed");

		let curated = submit(demo_requirements());
		assign(curated, b);
		let before = standing(b);
		assert_ok!(publish_result(b_worker, curated));
		run_to_block(System::block_number() + ATTESTATION_WINDOW + 1);
		assert_eq!(status(curated), JobStatus::Unverified { node: b });
		assert_eq!(standing(b).2, before.2 + 1, "a failure on its record");
	});
}
