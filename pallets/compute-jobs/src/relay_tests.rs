//! Relay training (models after training, 2): a job continues a verified model version.

use crate::{mock::*, spec_tests::*, *};
use aicchain_primitives::{datasets::ENERGY_LOAD_HASH, ModelKind, TrainingSpec};
use frame_support::{assert_noop, assert_ok};

type Error = crate::Error<Test>;

/// Trains, verifies and settles `requirements` for USER on `node`.
fn settle(requirements: JobRequirements, node: NodeId, worker: AccountId) -> JobId {
	let job = submit(requirements);
	assign(job, node);
	assert_ok!(publish_result(worker, job));
	assert_ok!(ComputeJobs::attest(RuntimeOrigin::signed(V1), job, true));
	assert_ok!(ComputeJobs::attest(RuntimeOrigin::signed(V2), job, true));
	assert!(matches!(status(job), JobStatus::Settled { .. }));
	job
}

/// The demo job continuing version `parent`, changed by `change`.
fn relay(parent: u64, change: impl FnOnce(&mut TrainingSpec)) -> JobRequirements {
	let mut spec = training(&demo_requirements());
	spec.parent = Some(parent);
	spec.seed = 9;
	change(&mut spec);
	with_training(spec)
}

/// A job may continue a verified version its submitter may fetch, of the same MLP family and
/// shape on a dataset with as many columns; the result is recorded with its parent. Anything
/// else is refused with a named error before any escrow is held.
#[test]
fn a_relay_job_continues_a_version_it_may_fetch_of_the_same_shape() {
	ExtBuilder.build_and_execute(|| {
		let [(a, _, worker), ..] = three_nodes();
		settle(demo_requirements(), a, worker);
		assert_eq!(RecordingModels::take().first().map(|m| m.parent), Some(None));

		let refused = |who: AccountId, requirements: JobRequirements, error: Error| {
			assert_noop!(
				ComputeJobs::submit_job(RuntimeOrigin::signed(who), requirements, BUDGET),
				error
			);
		};
		refused(USER, relay(5, |_| ()), Error::ParentUnknown);
		// Version 0 is USER's private model: another account may not continue it.
		refused(POOR_USER, relay(0, |_| ()), Error::ParentNotAccessible);
		refused(USER, relay(0, |t| t.hidden_units = 64), Error::ParentShapeMismatch);
		refused(USER, relay(0, |t| t.hidden_layers = 3), Error::ParentShapeMismatch);
		refused(USER, relay(0, |t| t.model = ModelKind::MlpRegressor), Error::ParentShapeMismatch);
		// The energy table has 7 columns, the credit table 9: the first layer would not fit.
		refused(
			USER,
			relay(0, |t| t.dataset = sp_core::H256(ENERGY_LOAD_HASH)),
			Error::ParentShapeMismatch,
		);
		let mut cnn = training(&relay(0, |_| ()));
		cnn.model = ModelKind::CnnClassifier;
		assert_noop!(ComputeJobs::ensure_relay_parent(&USER, &cnn), Error::RelayNotSupported);

		// Other hyper-parameters (seed, epochs, learning rate) may change.
		let child = settle(relay(0, |t| t.epochs = 3), a, worker);
		let recorded = RecordingModels::take();
		let links: Vec<_> = recorded.iter().map(|m| (m.job, m.parent)).collect();
		assert_eq!(links, vec![(child, Some(0))]);
	});
}
