//! The validator set changes the ordinary way (root adds and removes validators, the session
//! pallet applies it), and the compute market follows: a job in flight survives a validator
//! leaving, whose votes stop counting; a new validator votes once its session starts.

use crate::currency::UNIT;
use crate::{
	tests::preset_storage, AccountId, Aicg, ComputeJobs, ComputeRegistry, Runtime, RuntimeOrigin,
	Session, SessionKeys, System, ValidatorSet,
};
use aicchain_primitives::{
	JobRequirements, ModelKind, NodeSpec, QuantisedMetrics, Region, SustainabilityPreference,
	TrainingSpec,
};
use codec::Encode;
use frame_support::{assert_noop, assert_ok, traits::fungible::Inspect};
use pallet_compute_jobs::{JobStatus, Jobs, ValidatorWorkers};
use sp_core::H256;
use sp_keyring::Sr25519Keyring;
use sp_keystore::{testing::MemoryKeystore, KeystoreExt};
use sp_runtime::{Perbill, Percent};

type Workers = crate::configs::SessionValidatorWorkers;

fn local_testnet() -> sp_io::TestExternalities {
	let mut ext: sp_io::TestExternalities = preset_storage("local_testnet").into();
	ext.register_extension(KeystoreExt::new(MemoryKeystore::new()));
	ext.execute_with(|| System::set_block_number(1));
	ext
}

fn account(who: Sr25519Keyring) -> AccountId {
	who.to_account_id()
}

/// Ends two sessions: a change of the set planned now is the active set afterwards.
fn two_sessions_later() {
	for _ in 0..2 {
		System::set_block_number(System::block_number() + 1);
		Session::rotate_session();
	}
}

fn aura_authorities() -> usize {
	pallet_aura::Authorities::<Runtime>::get().len()
}

/// Eve runs a solar node (her own worker key); Ferdie submits a 5 GPU-hour training job.
fn node_and_job() {
	let eve = account(Sr25519Keyring::Eve);
	let spec = NodeSpec {
		gpu_count: 8,
		gpu_memory_gib: 80,
		bandwidth_mbps: 150,
		latency_ms: 10,
		region: Region::truncate_from(b"eu-north".to_vec()),
		renewable_share: Percent::from_percent(100),
		carbon_intensity: 20,
		price_per_gpu_hour: 2 * UNIT,
	};
	assert_ok!(ComputeRegistry::register_node(RuntimeOrigin::signed(eve.clone()), spec, eve));
	let requirements = JobRequirements {
		gpus: 8,
		min_bandwidth_mbps: 100,
		max_latency_ms: 15,
		gpu_hours: 5,
		sustainability: SustainabilityPreference::PreferRenewable,
		training: Some(TrainingSpec {
			dataset: H256(aicchain_primitives::datasets::CREDIT_SCORING_HASH),
			model: ModelKind::MlpClassifier,
			hidden_units: 32,
			hidden_layers: 2,
			learning_rate_millionths: 1_000,
			epochs: 10,
			seed: 1,
			min_score: Default::default(),
			parent: None,
		}),
	};
	assert_ok!(ComputeJobs::submit_job(
		RuntimeOrigin::signed(account(Sr25519Keyring::Ferdie)),
		requirements,
		100 * UNIT
	));
}

fn status() -> Option<JobStatus<crate::Balance>> {
	Jobs::<Runtime>::get(0).map(|job| job.status)
}

#[test]
fn the_local_testnet_starts_with_four_session_validators() {
	local_testnet().execute_with(|| {
		let four = [
			Sr25519Keyring::Alice,
			Sr25519Keyring::Bob,
			Sr25519Keyring::Charlie,
			Sr25519Keyring::Dave,
		]
		.map(account);
		assert_eq!(pallet_session::Validators::<Runtime>::get(), four.to_vec());
		assert_eq!(pallet_validator_set::Validators::<Runtime>::get().into_inner(), four.to_vec());
		assert_eq!(Workers::count(), 4);
		assert!(four.iter().all(Workers::is_validator_worker));
		assert!(!Workers::is_validator_worker(&account(Sr25519Keyring::Eve)));
		assert_eq!(aura_authorities(), 4);
	});
}

/// Dave proposes the node and accepts the result, then root removes him. Two sessions later
/// the job is still there; Dave's votes no longer count (the three left need two accepts, and
/// Alice's alone does not settle it), Dave cannot vote any more and earns nothing; Alice and
/// Bob settle the job and earn the verifiers' AICG.
#[test]
fn a_job_in_flight_survives_a_validator_leaving() {
	local_testnet().execute_with(|| {
		let [alice, bob, dave, eve] =
			[Sr25519Keyring::Alice, Sr25519Keyring::Bob, Sr25519Keyring::Dave, Sr25519Keyring::Eve]
				.map(account);
		node_and_job();
		for validator in [&dave, &alice, &bob] {
			assert_ok!(ComputeJobs::propose_assignment(
				RuntimeOrigin::signed(validator.clone()),
				0,
				0
			));
		}
		assert!(matches!(status(), Some(JobStatus::Assigned { node: 0, .. })));
		let metrics = QuantisedMetrics {
			score: Perbill::from_percent(91),
			loss_millionths: 250_000,
			eval_samples: 400,
		};
		assert_ok!(ComputeJobs::submit_result(
			RuntimeOrigin::signed(eve),
			0,
			H256::repeat_byte(0xab),
			metrics,
			ComputeJobs::expected_commitment(0, H256::repeat_byte(7))
		));
		assert_ok!(ComputeJobs::attest(RuntimeOrigin::signed(dave.clone()), 0, true));

		assert_ok!(ValidatorSet::remove_validator(RuntimeOrigin::root(), dave.clone()));
		// Planned, not yet applied: Dave is a validator until the session after next.
		assert!(Workers::is_validator_worker(&dave));
		two_sessions_later();
		assert_eq!(Workers::count(), 3);
		assert!(!Workers::is_validator_worker(&dave));
		assert_eq!(aura_authorities(), 3);
		assert_eq!(pallet_session::Validators::<Runtime>::get().len(), 3);

		assert_noop!(
			ComputeJobs::attest(RuntimeOrigin::signed(dave.clone()), 0, true),
			pallet_compute_jobs::Error::<Runtime>::NotValidatorWorker
		);
		let dave_aicg = Aicg::balance(&dave);
		assert_ok!(ComputeJobs::attest(RuntimeOrigin::signed(alice.clone()), 0, true));
		assert!(
			matches!(status(), Some(JobStatus::ResultSubmitted { .. })),
			"a vote of a validator that left counted"
		);
		let alice_aicg = Aicg::balance(&alice);
		assert_ok!(ComputeJobs::attest(RuntimeOrigin::signed(bob), 0, true));
		assert_eq!(status(), Some(JobStatus::Settled { node: 0 }));
		assert_eq!(Aicg::balance(&dave), dave_aicg);
		assert!(Aicg::balance(&alice) > alice_aicg);

		assert_ok!(pallet_compute_jobs::Pallet::<Runtime>::do_try_state());
		assert_ok!(pallet_validator_set::Pallet::<Runtime>::do_try_state());
	});
}

/// Eve makes session keys (what `author_rotateKeysWithOwner` does on her node), proves she holds
/// them with `session.set_keys`, and root adds her: two sessions later she authors blocks and
/// her worker's votes count.
#[test]
fn a_validator_added_by_root_votes_once_its_session_starts() {
	local_testnet().execute_with(|| {
		let eve = account(Sr25519Keyring::Eve);
		assert_noop!(
			ValidatorSet::add_validator(RuntimeOrigin::root(), eve.clone()),
			pallet_validator_set::Error::<Runtime>::NoSessionKeys
		);
		let generated = SessionKeys::generate(&eve.encode(), Some(b"//Eve".to_vec()));
		let (mut keys, proof) = (generated.keys, generated.proof);
		// A proof made for another account does not bind Eve's keys.
		let wrong = keys
			.create_ownership_proof(&account(Sr25519Keyring::Ferdie).encode())
			.expect("keys are in the keystore");
		assert_noop!(
			Session::set_keys(RuntimeOrigin::signed(eve.clone()), keys.clone(), wrong.encode()),
			pallet_session::Error::<Runtime>::InvalidProof
		);
		assert_ok!(Session::set_keys(RuntimeOrigin::signed(eve.clone()), keys, proof.encode()));
		assert_noop!(
			ValidatorSet::add_validator(RuntimeOrigin::signed(eve.clone()), eve.clone()),
			sp_runtime::DispatchError::BadOrigin
		);
		assert_ok!(ValidatorSet::add_validator(RuntimeOrigin::root(), eve.clone()));
		assert!(!Workers::is_validator_worker(&eve));
		two_sessions_later();
		assert!(Workers::is_validator_worker(&eve));
		assert_eq!(Workers::count(), 5);
		assert_eq!(aura_authorities(), 5);
		assert_ok!(pallet_validator_set::Pallet::<Runtime>::do_try_state());
	});
}
