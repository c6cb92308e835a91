//! Attack 4, "slashing honest providers for free": jobs the engine cannot run (specs past its
//! limits, unknown datasets), providers that could not decline them, and a flat result timeout
//! whatever the length of the job.

use crate::{mock::*, *};
use aicchain_primitives::{
	datasets::{CREDIT_SCORING_HASH, ENERGY_LOAD_HASH},
	limits, DatasetInfo, DatasetName, TrainingSpec,
};
use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect, InspectHold},
};
use sp_runtime::{DispatchError, Perbill};

type Error = crate::Error<Test>;
pub(crate) const BUDGET: Balance = 200 * UNIT;

/// Registers a node whose worker key accepted the binding.
pub(crate) fn register(owner: AccountId, worker: AccountId, gpus: u32, price: Balance) -> NodeId {
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

/// The seed demo's three providers, each with its own worker key.
pub(crate) fn three_nodes() -> [(NodeId, AccountId, AccountId); 3] {
	[
		(register(SOLAR_A, SOLAR_A_WORKER, 8, 2 * UNIT), SOLAR_A, SOLAR_A_WORKER),
		(register(SOLAR_B, SOLAR_B_WORKER, 16, 2 * UNIT), SOLAR_B, SOLAR_B_WORKER),
		(register(GRID, GRID_WORKER, 8, 2 * UNIT), GRID, GRID_WORKER),
	]
}

pub(crate) fn submit(requirements: JobRequirements) -> JobId {
	let id = NextJobId::<Test>::get();
	assert_ok!(ComputeJobs::submit_job(RuntimeOrigin::signed(USER), requirements, BUDGET));
	id
}

/// Assigns `job` to `node` by a majority of proposals.
pub(crate) fn assign(job: JobId, node: NodeId) {
	assert_ok!(ComputeJobs::propose_assignment(RuntimeOrigin::signed(V1), job, node));
	assert_ok!(ComputeJobs::propose_assignment(RuntimeOrigin::signed(V2), job, node));
	assert!(matches!(status(job), JobStatus::Assigned { node: n, .. } if n == node));
}

pub(crate) fn status(job: JobId) -> JobStatus<Balance> {
	Jobs::<Test>::get(job).expect("job").status
}

fn escrow(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::JobEscrow.into(), &who)
}

pub(crate) fn training(requirements: &JobRequirements) -> TrainingSpec {
	requirements.training.clone().expect("a training job")
}

pub(crate) fn with_training(spec: TrainingSpec) -> JobRequirements {
	JobRequirements { training: Some(spec), ..demo_requirements() }
}

/// What a provider keeps track of: bond, reputation, failures, running jobs and GPUs.
pub(crate) fn standing(node: NodeId) -> (Balance, Perbill, u32, u32, u32) {
	let n = pallet_compute_registry::Nodes::<Test>::get(node).expect("node");
	(n.bond, n.reputation, n.failed_jobs, n.active_jobs, n.active_gpus)
}

/// Attack 4: before this change the chain checked only lower bounds (and `MaxEpochs`), so it
/// accepted 255 hidden layers, a width of `u32::MAX` or a learning rate of 1,000: the engine
/// refused to train them, the provider timed out and was slashed 10% and lost reputation, and
/// the user was refunded in full. Now the chain refuses what the engine refuses, by the same
/// function (`aicchain_primitives::validate_training_spec`), and accepts a spec at the limits.
#[test]
fn a_spec_past_the_engines_limits_is_refused_at_submit() {
	ExtBuilder.build_and_execute(|| {
		let good = training(&demo_requirements());
		for broken in [
			TrainingSpec { hidden_units: limits::MAX_HIDDEN_UNITS + 1, ..good.clone() },
			TrainingSpec { hidden_units: u32::MAX, ..good.clone() },
			TrainingSpec { hidden_layers: limits::MAX_HIDDEN_LAYERS + 1, ..good.clone() },
			TrainingSpec { hidden_layers: u8::MAX, ..good.clone() },
			TrainingSpec { epochs: limits::MAX_EPOCHS + 1, ..good.clone() },
			TrainingSpec {
				learning_rate_millionths: limits::MAX_LEARNING_RATE_MILLIONTHS + 1,
				..good.clone()
			},
			TrainingSpec { hidden_units: 0, ..good.clone() },
		] {
			assert_noop!(
				ComputeJobs::submit_job(
					RuntimeOrigin::signed(USER),
					with_training(broken.clone()),
					BUDGET
				),
				Error::InvalidTrainingSpec
			);
			assert_eq!(
				ComputeJobs::quote(with_training(broken)).err(),
				Some(b"InvalidTrainingSpec".to_vec())
			);
		}
		let at_limits = TrainingSpec {
			hidden_units: limits::MAX_HIDDEN_UNITS,
			hidden_layers: limits::MAX_HIDDEN_LAYERS,
			epochs: limits::MAX_EPOCHS,
			learning_rate_millionths: limits::MAX_LEARNING_RATE_MILLIONTHS,
			..good
		};
		submit(with_training(at_limits));
	});
}

/// Attack 4: before this change a job could name any hash as its dataset: no provider's engine
/// could fetch it, so whoever was assigned timed out and was slashed while the user got a full
/// refund. Now only datasets registered on-chain (by root/governance) may be named, and the
/// quote agrees with `submit_job`.
#[test]
fn an_unknown_dataset_is_refused_and_only_root_curates_the_list() {
	ExtBuilder.build_and_execute(|| {
		// Genesis registered the engine's two built-in datasets.
		for hash in [CREDIT_SCORING_HASH, ENERGY_LOAD_HASH] {
			assert!(Datasets::<Test>::contains_key(H256(hash)));
		}
		let unknown = H256::repeat_byte(0xee);
		let job =
			with_training(TrainingSpec { dataset: unknown, ..training(&demo_requirements()) });
		assert_noop!(
			ComputeJobs::submit_job(RuntimeOrigin::signed(USER), job.clone(), BUDGET),
			Error::DatasetUnknown
		);
		assert_eq!(ComputeJobs::quote(job.clone()).err(), Some(b"DatasetUnknown".to_vec()));

		let info = DatasetInfo {
			name: DatasetName::truncate_from(b"curated.csv".to_vec()),
			rows: 500,
			columns: 4,
			bytes: 20_000,
			public: true,
		};
		// Only root curates (users register their own with `add_dataset`, for a deposit).
		assert_noop!(
			ComputeJobs::register_dataset(RuntimeOrigin::signed(USER), unknown, info.clone()),
			DispatchError::BadOrigin
		);
		assert_ok!(ComputeJobs::register_dataset(RuntimeOrigin::root(), unknown, info.clone()));
		System::assert_last_event(Event::DatasetRegistered { hash: unknown }.into());
		assert_eq!(Datasets::<Test>::get(unknown), Some(info.clone()));
		assert_noop!(
			ComputeJobs::register_dataset(RuntimeOrigin::root(), unknown, info),
			Error::DatasetAlreadyKnown
		);
		assert!(ComputeJobs::quote(job.clone()).is_ok());
		let submitted = submit(job.clone());

		assert_noop!(
			ComputeJobs::remove_dataset(RuntimeOrigin::signed(USER), unknown),
			DispatchError::BadOrigin
		);
		assert_ok!(ComputeJobs::remove_dataset(RuntimeOrigin::root(), unknown));
		System::assert_last_event(Event::DatasetRemoved { hash: unknown }.into());
		assert_noop!(
			ComputeJobs::remove_dataset(RuntimeOrigin::root(), unknown),
			Error::DatasetUnknown
		);
		assert_noop!(
			ComputeJobs::submit_job(RuntimeOrigin::signed(USER), job, BUDGET),
			Error::DatasetUnknown
		);
		// A job submitted while the dataset was known keeps it.
		assert_eq!(status(submitted), JobStatus::Pending);
	});
}

/// Attack 4: before this change a provider assigned a job it could not run had no way out but
/// to let it time out: 10% of its bond slashed and a fifth of its reputation gone. Now it
/// declines: nothing slashed, no failure counted, 5% of its reputation gone, its slot freed, the budget
/// still held, and the job back to matching with a fresh proposal window, where the node that
/// declined is never proposed, sampled or chosen again.
#[test]
fn a_declined_job_is_not_slashed_and_goes_back_to_matching_without_the_decliner() {
	ExtBuilder.build_and_execute(|| {
		let [(a, _, a_worker), (b, ..), (c, ..)] = three_nodes();
		let job = submit(demo_requirements());
		assign(job, a);
		let before = standing(a);
		assert_eq!((before.3, before.4), (1, 8));
		run_to_block(5);

		assert_ok!(ComputeJobs::decline_job(RuntimeOrigin::signed(a_worker), job));
		System::assert_has_event(Event::JobDeclined { job_id: job, node_id: a }.into());
		let after = standing(a);
		assert_eq!((after.0, after.2), (before.0, before.2), "no slash, no failure");
		// A decline costs 5% of the reputation (a failure costs 20%).
		assert_eq!(after.1, before.1 - Perbill::from_percent(5) * before.1);
		assert_eq!((after.3, after.4), (0, 0), "slot and GPUs freed");
		let stored = Jobs::<Test>::get(job).expect("job");
		assert_eq!(stored.status, JobStatus::Pending);
		assert_eq!(stored.terms, None);
		assert_eq!(stored.deadline, 5 + PROPOSAL_WINDOW);
		assert_eq!(escrow(USER), BUDGET);
		assert_eq!(Declined::<Test>::get(job).to_vec(), vec![a]);

		// Never offered to the decliner again: proposals fail, the sample skips it.
		assert_noop!(
			ComputeJobs::propose_assignment(RuntimeOrigin::signed(V1), job, a),
			Error::NodeDeclinedJob
		);
		let pending = Jobs::<Test>::get(job).expect("job");
		let sample = ComputeJobs::candidate_sample(job, &pending);
		assert!(!sample.contains(&a) && sample.contains(&b) && sample.contains(&c));

		// Nobody proposes: the fallback picks among the others (A would be cheapest and
		// cleanest).
		run_to_block(5 + PROPOSAL_WINDOW);
		let JobStatus::Assigned { node, .. } = status(job) else { panic!("reassigned") };
		assert_ne!(node, a);
		assert_eq!(Declined::<Test>::get(job).to_vec(), vec![a]);
	});
}

/// Attack 4 (griefing by declining): each decline costs the job one proposal window and the
/// decliner earns nothing; after `MaxDeclines` declines the job expires with a full refund and
/// no provider is slashed. The owner key may decline as well as the worker key.
#[test]
fn a_job_declined_max_declines_times_expires_refunded() {
	ExtBuilder.build_and_execute(|| {
		let nodes = three_nodes();
		assert_eq!(nodes.len() as u32, MAX_DECLINES);
		let job = submit(demo_requirements());
		let bonds: Vec<Balance> = nodes.iter().map(|(n, ..)| standing(*n).0).collect();
		for (i, (node, owner, worker)) in nodes.iter().enumerate() {
			assign(job, *node);
			// Alternate the owner and the worker key.
			let who = if i % 2 == 0 { *worker } else { *owner };
			assert_ok!(ComputeJobs::decline_job(RuntimeOrigin::signed(who), job));
		}
		assert_eq!(status(job), JobStatus::Expired);
		System::assert_has_event(
			Event::JobExpired { job_id: job, refund: BUDGET, reason: ExpiryReason::Declined }
				.into(),
		);
		assert_eq!(escrow(USER), 0);
		assert_eq!(Balances::free_balance(USER), INITIAL);
		assert!(!Declined::<Test>::contains_key(job), "cleaned up when the job ends");
		for ((node, ..), bond) in nodes.iter().zip(bonds) {
			let (now_bond, _, failed, jobs, gpus) = standing(*node);
			assert_eq!((now_bond, failed, jobs, gpus), (bond, 0, 0, 0));
		}
	});
}

/// Attack 4 (the decline must not be a way to grief others): only the assigned node's owner or
/// bound worker key may decline, and only an assigned job.
#[test]
fn decline_by_a_stranger_or_of_a_job_not_assigned_fails() {
	ExtBuilder.build_and_execute(|| {
		let [(a, _, a_worker), (_, b_owner, b_worker), _] = three_nodes();
		assert_noop!(
			ComputeJobs::decline_job(RuntimeOrigin::signed(a_worker), 99),
			Error::JobNotFound
		);
		let job = submit(demo_requirements());
		assert_noop!(
			ComputeJobs::decline_job(RuntimeOrigin::signed(a_worker), job),
			Error::JobNotAssigned
		);
		assign(job, a);
		for stranger in [OUTSIDER, USER, V1, b_owner, b_worker] {
			assert_noop!(
				ComputeJobs::decline_job(RuntimeOrigin::signed(stranger), job),
				Error::NotAssignedProvider
			);
		}
		assert_noop!(
			ComputeJobs::decline_job(RuntimeOrigin::none(), job),
			DispatchError::BadOrigin
		);
		assert_ok!(publish_result(a_worker, job));
		assert_noop!(
			ComputeJobs::decline_job(RuntimeOrigin::signed(a_worker), job),
			Error::JobNotAssigned
		);
	});
}

/// Attack 4: before this change every job had the same `ResultTimeout` (10 minutes on the
/// runtime), even one of 10,000 GPU-hours: its provider could not deliver in time and was
/// slashed. Now the result is due after `ResultTimeout` plus the job's length in blocks, capped
/// by `MaxResultTimeout`.
#[test]
fn result_deadlines_scale_with_the_work() {
	ExtBuilder.build_and_execute(|| {
		let [_, (b, ..), _] = three_nodes();
		// 10,000 GPU-hours on 16 GPUs: 625 hours of wall-clock time.
		let long = JobRequirements { gpus: 16, gpu_hours: 625, ..demo_requirements() };
		let job = NextJobId::<Test>::get();
		assert_ok!(ComputeJobs::submit_job(
			RuntimeOrigin::signed(USER),
			long.clone(),
			40_000 * UNIT
		));
		assign(job, b);
		let deadline = Jobs::<Test>::get(job).expect("job").deadline;
		assert_eq!(deadline, 1 + RESULT_TIMEOUT + 625 * BLOCKS_PER_HOUR);
		// The flat timeout would have expired long before.
		run_to_block(1 + RESULT_TIMEOUT + 1);
		assert!(matches!(status(job), JobStatus::Assigned { .. }));

		let at = |gpu_hours| {
			let req = JobRequirements { gpu_hours, ..demo_requirements() };
			ComputeJobs::result_deadline(&req, 100)
		};
		// A 1-hour job keeps about the base.
		assert_eq!(at(1), 100 + RESULT_TIMEOUT + BLOCKS_PER_HOUR);
		assert_eq!(at(10), 100 + DEMO_RESULT_TIMEOUT);
		// The longest job the chain accepts (`MaxGpuHours`) gets its whole length and the
		// margin (`integrity_test`); nothing is ever waited for longer than `MaxResultTimeout`.
		assert_eq!(at(1_000), 100 + RESULT_TIMEOUT + 1_000 * BLOCKS_PER_HOUR);
		assert_eq!(at(u32::MAX), 100 + MAX_RESULT_TIMEOUT);
	});
}

/// Attack 4 (declining as an escape): a provider must not hold a job until its result deadline
/// and then walk away without the timeout's slash. It may decline only within `DeclineWindow`
/// blocks of the assignment; later the job is its to deliver, or to time out on.
#[test]
fn a_job_cannot_be_declined_after_the_decline_window() {
	ExtBuilder.build_and_execute(|| {
		let [(a, _, a_worker), ..] = three_nodes();
		let job = submit(demo_requirements());
		assign(job, a);
		run_to_block(1 + DECLINE_WINDOW + 1);
		assert_noop!(
			ComputeJobs::decline_job(RuntimeOrigin::signed(a_worker), job),
			Error::DeclineWindowOver
		);
		assert!(matches!(status(job), JobStatus::Assigned { node, .. } if node == a));
	});
}

/// Attack (verified training, 6): a job with no training spec settled on a zero model hash
/// that proves nothing, so a provider was paid for compute no one could check. Such jobs are
/// out of the market until they can prove their work.
#[test]
fn a_job_without_a_training_spec_is_refused() {
	ExtBuilder.build_and_execute(|| {
		let reservation = JobRequirements { training: None, ..demo_requirements() };
		assert_noop!(
			ComputeJobs::submit_job(RuntimeOrigin::signed(USER), reservation, BUDGET),
			Error::NoTrainingSpec
		);
	});
}

/// Real workloads: a transformer trains on text, an MLP on a table, a CNN on a table of square
/// images; a job naming another kind of dataset could never be trained and is refused at
/// submission.
#[test]
fn a_model_must_suit_its_dataset() {
	ExtBuilder.build_and_execute(|| {
		use aicchain_primitives::ModelKind;
		let with = |model: ModelKind, dataset: [u8; 32], units: u32| {
			let mut requirements = demo_requirements();
			if let Some(training) = requirements.training.as_mut() {
				training.model = model;
				training.dataset = sp_core::H256(dataset);
				training.hidden_units = units;
			}
			requirements
		};
		let corpus = aicchain_primitives::datasets::CORPUS_HASH;
		let shapes = aicchain_primitives::datasets::SHAPES_HASH;
		for refused in [
			with(ModelKind::TransformerLm, CREDIT_SCORING_HASH, 16),
			with(ModelKind::MlpClassifier, corpus, 16),
			with(ModelKind::TransformerLm, shapes, 16),
			// 8 features are not a square image; text is not an image.
			with(ModelKind::CnnClassifier, CREDIT_SCORING_HASH, 16),
			with(ModelKind::CnnClassifier, corpus, 16),
		] {
			assert_noop!(
				ComputeJobs::submit_job(RuntimeOrigin::signed(USER), refused, BUDGET),
				Error::DatasetDoesNotSuitModel
			);
		}
		// The transformer's own shape limits: dimensions a multiple of its 4 heads.
		assert_noop!(
			ComputeJobs::submit_job(
				RuntimeOrigin::signed(USER),
				with(ModelKind::TransformerLm, corpus, 18),
				BUDGET
			),
			Error::InvalidTrainingSpec
		);
		// The CNN's: at most 64 channels.
		assert_noop!(
			ComputeJobs::submit_job(
				RuntimeOrigin::signed(USER),
				with(ModelKind::CnnClassifier, shapes, 65),
				BUDGET
			),
			Error::InvalidTrainingSpec
		);
		assert_ok!(ComputeJobs::submit_job(
			RuntimeOrigin::signed(USER),
			with(ModelKind::TransformerLm, corpus, 16),
			BUDGET
		));
		assert_ok!(ComputeJobs::submit_job(
			RuntimeOrigin::signed(USER),
			with(ModelKind::CnnClassifier, shapes, 16),
			BUDGET
		));
	});
}

/// Real workloads: a spec is bounded by what the job pays for. A transformer that needs about
/// three hours of the reference engine's work is refused for one GPU-hour (its provider could
/// not finish in time and would be slashed) and accepted for four. One too large for the
/// verifiers to download its checkpoints is refused whatever the hours.
#[test]
fn training_must_fit_the_hours_the_job_pays_for() {
	ExtBuilder.build_and_execute(|| {
		let big = |gpu_hours: u32| {
			let mut requirements = demo_requirements();
			requirements.gpu_hours = gpu_hours;
			if let Some(training) = requirements.training.as_mut() {
				training.model = aicchain_primitives::ModelKind::TransformerLm;
				training.dataset = sp_core::H256(aicchain_primitives::datasets::CORPUS_HASH);
				training.hidden_units = 256;
				training.hidden_layers = 4;
				training.epochs = 100;
			}
			requirements
		};
		assert_noop!(
			ComputeJobs::submit_job(RuntimeOrigin::signed(USER), big(1), BUDGET),
			Error::TrainingExceedsGpuHours
		);
		assert_ok!(ComputeJobs::submit_job(RuntimeOrigin::signed(USER), big(4), BUDGET));
		let mut huge = big(720);
		if let Some(training) = huge.training.as_mut() {
			(training.hidden_units, training.epochs) = (512, 1);
		}
		assert_noop!(
			ComputeJobs::submit_job(RuntimeOrigin::signed(USER), huge, BUDGET),
			Error::ModelTooLarge
		);
	});
}

/// Verified training, 4: a job may ask for a minimum held-out score. Training is canonical
/// (the spec fixes it), so a model below the minimum was still trained as asked and is paid
/// `BelowMinimumPayout` (50%) of its cost, with nothing from the fund; at or above the
/// minimum it is paid in full. The same job, settled twice with minimums either side of the
/// verified score (87%).
#[test]
fn a_verified_model_below_the_minimum_score_is_paid_half_without_fund_rewards() {
	for (min_score, full) in [(Perbill::from_percent(87), true), (Perbill::from_percent(88), false)]
	{
		ExtBuilder.build_and_execute(|| {
			let [(a, owner, worker), ..] = three_nodes();
			let mut requirements = demo_requirements();
			if let Some(training) = requirements.training.as_mut() {
				training.min_score = min_score;
			}
			let job = submit(requirements);
			assign(job, a);
			assert_ok!(publish_result(worker, job));
			let (user_before, owner_before) = (Balances::balance(&USER), Balances::balance(&owner));
			assert_ok!(ComputeJobs::attest(RuntimeOrigin::signed(V1), job, true));
			assert_ok!(ComputeJobs::attest(RuntimeOrigin::signed(V2), job, true));
			let receipt = Receipts::<Test>::get(job).expect("settled");
			let below = System::events().iter().any(|r| {
				matches!(r.event, RuntimeEvent::ComputeJobs(Event::BelowMinimumScore { .. }))
			});
			// 8 GPUs × 10 h × 2 UNIT = 160 UNIT in full.
			let cost = if full { 160 * UNIT } else { 80 * UNIT };
			assert_eq!((receipt.cost, receipt.user_paid), (cost, cost));
			assert_eq!(receipt.provider_amount, cost / 10 * 9);
			assert_eq!(Balances::balance(&USER), user_before + BUDGET - cost);
			assert_eq!(escrow(USER), 0);
			assert_eq!(below, !full);
			// Full: the renewable bonus (90% × 5% × 160) and AICG against what the fund kept.
			let bonus = if full { 7_200_000 } else { 0 };
			assert_eq!(receipt.renewable_bonus, bonus);
			assert_eq!(Balances::balance(&owner), owner_before + receipt.provider_amount + bonus);
			assert_eq!(RecordingRewards::take().is_empty(), !full);
			// Either way the verified model is recorded, weighted by what was paid for it.
			let models = RecordingModels::take();
			let recorded: Vec<_> =
				models.iter().map(|m| (m.job, m.trainer, m.provider, m.cost)).collect();
			assert_eq!(recorded, vec![(job, USER, owner, cost)]);
		});
	}
}
