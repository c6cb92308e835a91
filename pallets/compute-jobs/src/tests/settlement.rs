//! Results, attestation, settlement and deadlines.

use super::*;

// ---- submit_result ----

#[test]
fn submit_result_from_the_assigned_worker_opens_attestation() {
	ExtBuilder.build_and_execute(|| {
		let (a, _, _) = demo_nodes();
		let job = assigned_job(a);
		let hash = H256::repeat_byte(9);
		assert_ok!(ComputeJobs::submit_result(
			RuntimeOrigin::signed(SOLAR_A_WORKER),
			job,
			hash,
			metrics(),
			ComputeJobs::expected_commitment(job, H256::repeat_byte(7))
		));
		assert_eq!(
			status(job),
			JobStatus::ResultSubmitted {
				node: a,
				cost: 160 * UNIT,
				model_hash: hash,
				metrics: metrics()
			}
		);
		assert_eq!(Jobs::<Test>::get(job).map(|j| j.deadline), Some(1 + ATTESTATION_WINDOW));
		System::assert_last_event(
			Event::ResultSubmitted {
				job_id: job,
				node_id: a,
				model_hash: hash,
				metrics: metrics(),
			}
			.into(),
		);
	});
}

#[test]
fn submit_result_errors() {
	ExtBuilder.build_and_execute(|| {
		let (a, _, _) = demo_nodes();
		let hash = H256::repeat_byte(9);
		let result = |who, job, m| {
			let commitment = ComputeJobs::expected_commitment(job, H256::repeat_byte(7));
			ComputeJobs::submit_result(RuntimeOrigin::signed(who), job, hash, m, commitment)
		};
		assert_noop!(result(SOLAR_A_WORKER, 5, metrics()), Error::JobNotFound);
		let pending = submit(BUDGET);
		assert_noop!(result(SOLAR_A_WORKER, pending, metrics()), Error::JobNotAssigned);
		let job = assigned_job(a);
		assert_noop!(result(GRID_WORKER, job, metrics()), Error::NotAssignedWorker);
		assert_noop!(result(SOLAR_A, job, metrics()), Error::NotAssignedWorker);
		let empty = QuantisedMetrics { eval_samples: 0, ..metrics() };
		assert_noop!(result(SOLAR_A_WORKER, job, empty), Error::InvalidMetrics);
	});
}

/// Attack (verified training, 1): a result used to be only a model hash and metrics, so a
/// provider could claim training it never did. A training result must now carry the commitment
/// to its checkpoints, on the schedule the spec and the dataset fix (the credit-scoring job: 30
/// epochs × 38 batches = 1,140 steps in 16 segments of 72).
#[test]
fn a_training_result_must_commit_to_its_checkpoints_on_schedule() {
	ExtBuilder.build_and_execute(|| {
		let (a, _, _) = demo_nodes();
		let job = assigned_job(a);
		let expected = ComputeJobs::expected_commitment(job, H256::repeat_byte(7)).expect("spec");
		let result = |commitment| {
			ComputeJobs::submit_result(
				RuntimeOrigin::signed(SOLAR_A_WORKER),
				job,
				H256::repeat_byte(9),
				metrics(),
				commitment,
			)
		};
		assert_noop!(result(None), Error::MissingCommitment);
		// Fewer steps than the spec asks for (half the epochs), or a coarser chain.
		let half = TrainingCommitment { steps: expected.steps / 2, ..expected };
		assert_noop!(result(Some(half)), Error::CommitmentOffSchedule);
		let coarse = TrainingCommitment { interval: expected.steps, checkpoints: 2, ..expected };
		assert_noop!(result(Some(coarse)), Error::CommitmentOffSchedule);
		assert_ok!(result(Some(expected)));
		assert_eq!(Commitments::<Test>::get(job), Some((expected, System::block_number())));
	});
}

/// The challenge that picks each verifier's segment comes from the hash of the block the
/// commitment landed in: unknown when the provider commits, known from the next block, and
/// different for each job.
#[test]
fn the_challenge_is_known_only_after_the_commitment() {
	ExtBuilder.build_and_execute(|| {
		let (a, _, grid) = demo_nodes();
		let first = submitted_result(a, SOLAR_A_WORKER);
		let second = submitted_result(grid, GRID_WORKER);
		assert_eq!(ComputeJobs::challenge(first), None);
		run_to_block(System::block_number() + 1);
		let challenge = ComputeJobs::challenge(first).expect("known from the next block");
		assert_ne!(Some(challenge), ComputeJobs::challenge(second));
		assert_eq!(ComputeJobs::challenge(first), Some(challenge));
		// A job without a result has no challenge.
		assert_eq!(ComputeJobs::challenge(NextJobId::<Test>::get()), None);
	});
}

// ---- attest and settlement ----

#[test]
fn majority_acceptance_settles_90_10_with_bonus_and_receipt() {
	ExtBuilder.build_and_execute(|| {
		let (a, _, _) = demo_nodes();
		let job = submitted_result(a, SOLAR_A_WORKER);
		let provider_before = Balances::balance(&SOLAR_A);
		assert_ok!(ComputeJobs::attest(RuntimeOrigin::signed(V1), job, true));
		System::assert_last_event(
			Event::ResultAttested { job_id: job, verifier: V1, accepted: true }.into(),
		);
		assert_ok!(ComputeJobs::attest(RuntimeOrigin::signed(V2), job, true));

		// cost 160; provider 90% = 144; fund 10% = 16; bonus 90% renewable × 5% × 160 = 7.2.
		let (cost, provider_amount, fund_amount) = (160 * UNIT, 144 * UNIT, 16 * UNIT);
		let bonus = 7_200_000;
		assert_eq!(status(job), JobStatus::Settled { node: a });
		assert_eq!(Balances::balance(&USER), INITIAL - cost);
		assert_eq!(escrow(USER), 0);
		assert_eq!(Balances::balance(&SOLAR_A), provider_before + provider_amount + bonus);
		assert_eq!(Balances::balance(&FUND), FUND_INITIAL + fund_amount - bonus);
		let receipt = Receipts::<Test>::get(job).expect("receipt");
		assert_eq!(receipt.cost, cost);
		assert_eq!(receipt.saving, BUDGET - cost);
		assert_eq!(receipt.renewable_bonus, bonus);
		// 80 GPU-hours × 400 Wh = 32 kWh; 40 g/kWh → 1,280 g; reference 475 g/kWh → 15,200 g.
		assert_eq!(receipt.energy_wh, 32_000);
		assert_eq!(receipt.carbon_grams, 1_280);
		assert_eq!(receipt.carbon_reduction_grams, 13_920);
		assert_eq!(receipt.model_hash, H256::repeat_byte(9));
		let node = pallet_compute_registry::Nodes::<Test>::get(a).expect("node");
		assert_eq!((node.active_jobs, node.completed_jobs), (0, 1));
		System::assert_has_event(
			Event::JobSettled {
				job_id: job,
				node_id: a,
				provider: SOLAR_A,
				cost,
				provider_amount,
				fund_amount,
				renewable_bonus: bonus,
				subsidy: 0,
				subsidy_id: None,
				refund: BUDGET - cost,
				model_hash: H256::repeat_byte(9),
				energy_wh: 32_000,
				carbon_grams: 1_280,
				carbon_reduction_grams: 13_920,
			}
			.into(),
		);
	});
}

#[test]
fn majority_rejection_refunds_and_slashes() {
	ExtBuilder.build_and_execute(|| {
		let (a, _, _) = demo_nodes();
		let job = submitted_result(a, SOLAR_A_WORKER);
		assert_ok!(ComputeJobs::attest(RuntimeOrigin::signed(V1), job, false));
		assert_ok!(ComputeJobs::attest(RuntimeOrigin::signed(V3), job, false));
		let slashed = BOND / 10;
		assert_eq!(status(job), JobStatus::Rejected { node: a });
		assert_eq!(Balances::balance(&USER), INITIAL);
		assert_eq!(Balances::balance(&FUND), FUND_INITIAL + slashed);
		assert_eq!(
			pallet_compute_registry::Nodes::<Test>::get(a).map(|n| n.bond),
			Some(BOND - slashed)
		);
		System::assert_has_event(
			Event::JobRejected { job_id: job, node_id: a, refund: BUDGET, slashed }.into(),
		);
		assert!(Receipts::<Test>::get(job).is_none());
	});
}

#[test]
fn attest_errors() {
	ExtBuilder.build_and_execute(|| {
		let (a, _, _) = demo_nodes();
		// The provider's worker is also a validator's here: it still may not attest itself.
		MockValidators::set(vec![V1, V2, V3, SOLAR_A_WORKER]);
		let attest = |who, job| ComputeJobs::attest(RuntimeOrigin::signed(who), job, true);
		assert_noop!(attest(V1, 42), Error::JobNotFound);
		let job = submit(BUDGET);
		assert_noop!(attest(OUTSIDER, job), Error::NotValidatorWorker);
		assert_noop!(attest(V1, job), Error::JobNotAwaitingAttestation);
		assert_ok!(ComputeJobs::propose_assignment(RuntimeOrigin::signed(V1), job, a));
		assert_ok!(ComputeJobs::propose_assignment(RuntimeOrigin::signed(V2), job, a));
		// Four validators: the third proposal is the majority.
		assert_ok!(ComputeJobs::propose_assignment(RuntimeOrigin::signed(V3), job, a));
		assert_ok!(ComputeJobs::submit_result(
			RuntimeOrigin::signed(SOLAR_A_WORKER),
			job,
			H256::repeat_byte(1),
			metrics(),
			ComputeJobs::expected_commitment(job, H256::repeat_byte(7))
		));
		assert_noop!(attest(SOLAR_A_WORKER, job), Error::CannotAttestOwnResult);
		assert_ok!(attest(V1, job));
		assert_noop!(attest(V1, job), Error::AlreadyAttested);
	});
}

#[test]
fn no_result_in_time_times_out_refunds_and_slashes() {
	ExtBuilder.build_and_execute(|| {
		let (a, _, _) = demo_nodes();
		let job = assigned_job(a);
		run_to_block(DEMO_RESULT_TIMEOUT);
		assert!(matches!(status(job), JobStatus::Assigned { .. }));
		run_to_block(1 + DEMO_RESULT_TIMEOUT);
		assert_eq!(status(job), JobStatus::TimedOut { node: a });
		assert_eq!(Balances::balance(&USER), INITIAL);
		assert_eq!(Balances::balance(&FUND), FUND_INITIAL + BOND / 10);
		let node = pallet_compute_registry::Nodes::<Test>::get(a).expect("node");
		assert_eq!((node.active_jobs, node.failed_jobs), (0, 1));
	});
}

/// Attack (adversarial market, 6): when the attestation window closed, the votes cast decided,
/// so one accepting validator of three settled a job. Abstaining is not accepting now: without a
/// majority of the current set either way the job is refunded, unpaid, without a slash.
#[test]
fn attestation_window_end_needs_a_majority_of_the_current_set() {
	ExtBuilder.build_and_execute(|| {
		let (a, _, _) = demo_nodes();
		// One accept of three validators, the others abstain: not settled.
		let job = submitted_result(a, SOLAR_A_WORKER);
		assert_ok!(ComputeJobs::attest(RuntimeOrigin::signed(V1), job, true));
		let before = Balances::balance(&USER);
		run_to_block(1 + ATTESTATION_WINDOW);
		assert_eq!(status(job), JobStatus::Unverified { node: a });
		assert_eq!(Balances::balance(&USER), before + BUDGET);
		assert!(RecordingRewards::take().is_empty());
		// Unverified training is no model version.
		assert!(RecordingModels::take().is_empty());

		// A tie: refunded without a slash.
		let job = submitted_result(a, SOLAR_A_WORKER);
		assert_ok!(ComputeJobs::attest(RuntimeOrigin::signed(V1), job, true));
		assert_ok!(ComputeJobs::attest(RuntimeOrigin::signed(V2), job, false));
		let before = Balances::balance(&USER);
		run_to_block(System::block_number() + ATTESTATION_WINDOW);
		assert_eq!(status(job), JobStatus::Unverified { node: a });
		assert_eq!(Balances::balance(&USER), before + BUDGET);
		assert_eq!(pallet_compute_registry::Nodes::<Test>::get(a).map(|n| n.bond), Some(BOND));
		System::assert_has_event(
			Event::JobUnverified { job_id: job, node_id: a, refund: BUDGET }.into(),
		);
	});
}

#[test]
fn renewable_bonus_is_capped_by_what_the_fund_already_held() {
	ExtBuilder.build_and_execute(|| {
		let (a, _, _) = demo_nodes();
		// Leave the fund with its existential deposit and 3 UNIT.
		assert_ok!(Balances::transfer_allow_death(
			RuntimeOrigin::signed(FUND),
			OUTSIDER,
			FUND_INITIAL - 1 - 3 * UNIT
		));
		let provider_before = Balances::balance(&SOLAR_A);
		let job = submitted_result(a, SOLAR_A_WORKER);
		assert_ok!(ComputeJobs::attest(RuntimeOrigin::signed(V1), job, true));
		assert_ok!(ComputeJobs::attest(RuntimeOrigin::signed(V2), job, true));
		// The 7.2 UNIT bonus is paid before this job's share arrives: only 3 UNIT of it.
		let receipt = Receipts::<Test>::get(job).expect("receipt");
		assert_eq!(receipt.renewable_bonus, 3 * UNIT);
		assert_eq!(Balances::balance(&FUND), 1 + 16 * UNIT);
		assert_eq!(Balances::balance(&SOLAR_A), provider_before + 144 * UNIT + 3 * UNIT);

		// An empty fund pays no bonus at all.
		assert_ok!(Balances::transfer_allow_death(
			RuntimeOrigin::signed(FUND),
			OUTSIDER,
			16 * UNIT
		));
		let job = submitted_result(a, SOLAR_A_WORKER);
		assert_ok!(ComputeJobs::attest(RuntimeOrigin::signed(V1), job, true));
		assert_ok!(ComputeJobs::attest(RuntimeOrigin::signed(V2), job, true));
		assert_eq!(Receipts::<Test>::get(job).map(|r| r.renewable_bonus), Some(0));
	});
}

#[test]
fn try_state_catches_escrow_that_does_not_match_open_budgets() {
	ExtBuilder.build().execute_with(|| {
		let job = submit(BUDGET);
		assert_ok!(ComputeJobs::do_try_state());
		Jobs::<Test>::mutate(job, |j| {
			if let Some(j) = j {
				j.budget += 1;
			}
		});
		assert!(ComputeJobs::do_try_state().is_err());
	});
}

/// Attack (adversarial market, 6): votes of accounts that had left the validator set still
/// counted. Two of five accepted, then both left: at the window's end they decide nothing.
#[test]
fn votes_of_validators_that_left_the_set_do_not_count() {
	ExtBuilder.build_and_execute(|| {
		let (a, _, _) = demo_nodes();
		let job = submitted_result(a, SOLAR_A_WORKER);
		MockValidators::set(vec![V1, V2, V3, 34, 35]);
		assert_ok!(ComputeJobs::attest(RuntimeOrigin::signed(V1), job, true));
		assert_ok!(ComputeJobs::attest(RuntimeOrigin::signed(V2), job, true));
		MockValidators::set(vec![V3, 34, 35]);
		// V3 alone of the current three: no majority, and V1's and V2's votes are gone.
		assert_ok!(ComputeJobs::attest(RuntimeOrigin::signed(V3), job, true));
		assert!(matches!(status(job), JobStatus::ResultSubmitted { .. }));
		run_to_block(System::block_number() + ATTESTATION_WINDOW);
		assert_eq!(status(job), JobStatus::Unverified { node: a });

		// With the set back to include them, the same votes reach a majority at the window's
		// end, and only the current validators who agreed with the verdict are rewarded.
		MockValidators::set(vec![V1, V2, V3]);
		let job = submitted_result(a, SOLAR_A_WORKER);
		MockValidators::set(vec![V1, V2, V3, 34, 35]);
		assert_ok!(ComputeJobs::attest(RuntimeOrigin::signed(V1), job, true));
		assert_ok!(ComputeJobs::attest(RuntimeOrigin::signed(V2), job, true));
		assert_ok!(ComputeJobs::attest(RuntimeOrigin::signed(V3), job, false));
		MockValidators::set(vec![V1, V2, V3]);
		RecordingRewards::take();
		run_to_block(System::block_number() + ATTESTATION_WINDOW);
		assert_eq!(status(job), JobStatus::Settled { node: a });
		let rewards = RecordingRewards::take();
		assert_eq!(rewards.len(), 1);
		assert_eq!(
			rewards.first().map(|r| (r.0, r.1.clone())),
			Some((Some(SOLAR_A), vec![V1, V2]))
		);
	});
}

/// Attack (adversarial market, 6): at the proposal window's end one proposal assigned the job,
/// so a single validator of three picked its friend's node. Without a quorum of proposers the
/// chain's own fallback decides instead.
#[test]
fn a_minority_of_proposers_does_not_assign() {
	ExtBuilder.build_and_execute(|| {
		let (a, b, _) = demo_nodes();
		let job = submit(300 * UNIT);
		// b is the dearest node; one validator of three proposes it.
		assert_ok!(ComputeJobs::propose_assignment(RuntimeOrigin::signed(V1), job, b));
		run_to_block(1 + PROPOSAL_WINDOW);
		assert_eq!(status(job), JobStatus::Assigned { node: a, cost: 160 * UNIT });
		System::assert_last_event(
			Event::JobAssigned {
				job_id: job,
				node_id: a,
				cost: 160 * UNIT,
				rule: AssignmentRule::Fallback,
			}
			.into(),
		);
	});
}

/// Attack (adversarial market, 6): only accepting verifiers earned AICG, which paid for
/// rubber-stamping. Verifiers whose rejection decided earn against the slashed bond; nobody
/// earns for accepting a rejected result.
#[test]
fn verifiers_earn_for_agreeing_with_the_verdict() {
	ExtBuilder.build_and_execute(|| {
		let (a, _, _) = demo_nodes();
		let job = submitted_result(a, SOLAR_A_WORKER);
		assert_ok!(ComputeJobs::attest(RuntimeOrigin::signed(V2), job, true));
		assert_ok!(ComputeJobs::attest(RuntimeOrigin::signed(V1), job, false));
		assert_ok!(ComputeJobs::attest(RuntimeOrigin::signed(V3), job, false));
		assert_eq!(status(job), JobStatus::Rejected { node: a });
		assert_eq!(RecordingRewards::take(), vec![(None, vec![V1, V3], BOND / 10)]);
	});
}

/// Attack (adversarial market, 1): settlement minted AICG per declared GPU-hour, whatever was
/// paid. Now the reward is measured by the AICC the fund kept: its 10% share less the bonus it
/// paid back (16 − 7.2 = 8.8 UNIT for the demo job).
#[test]
fn aicg_rewards_follow_what_the_fund_kept() {
	ExtBuilder.build_and_execute(|| {
		let (a, _, _) = demo_nodes();
		let job = submitted_result(a, SOLAR_A_WORKER);
		assert_ok!(ComputeJobs::attest(RuntimeOrigin::signed(V1), job, true));
		assert_ok!(ComputeJobs::attest(RuntimeOrigin::signed(V2), job, true));
		assert_eq!(status(job), JobStatus::Settled { node: a });
		assert_eq!(
			RecordingRewards::take(),
			vec![(Some(SOLAR_A), vec![V1, V2], 16 * UNIT - 7_200_000)]
		);
	});
}

/// Attack (adversarial market, 7): settlement read the node's spec at settlement, so a provider
/// could switch its renewable share to 100% and its carbon to zero under a running job, for a
/// larger bonus and a cleaner receipt. The terms are fixed at assignment.
#[test]
fn terms_are_fixed_when_the_job_is_assigned() {
	ExtBuilder.build_and_execute(|| {
		let (a, _, _) = demo_nodes();
		let job = assigned_job(a);
		let switched =
			NodeSpec { renewable_share: Percent::from_percent(100), ..spec(8, 2 * UNIT, 100, 0) };
		assert_ok!(Registry::update_node(RuntimeOrigin::signed(SOLAR_A), a, switched));
		assert_ok!(publish_result(SOLAR_A_WORKER, job));
		assert_ok!(ComputeJobs::attest(RuntimeOrigin::signed(V1), job, true));
		assert_ok!(ComputeJobs::attest(RuntimeOrigin::signed(V2), job, true));
		let receipt = Receipts::<Test>::get(job).expect("settled");
		// 90% renewable and 40 g/kWh, as matched: 7.2 UNIT bonus (not 8), 1,280 g (not 0).
		assert_eq!(receipt.renewable_bonus, 7_200_000);
		assert_eq!(receipt.carbon_grams, 1_280);
	});
}

/// Attack (adversarial market, 5): a cancelled or early-assigned job kept its deadline slot, so
/// the queue filled with jobs that were no longer waiting. Slots are freed when a stage ends.
#[test]
fn a_stage_that_ends_early_frees_its_deadline_slot() {
	ExtBuilder.build_and_execute(|| {
		let (a, _, _) = demo_nodes();
		let due = 1 + PROPOSAL_WINDOW;
		// MaxDeadlinesPerBlock = 4.
		let jobs: Vec<JobId> = (0..4).map(|_| submit(BUDGET)).collect();
		assert_eq!(Deadlines::<Test>::get(due).len(), 4);
		let (first, second) = (jobs[0], jobs[1]);
		assert_ok!(ComputeJobs::cancel_job(RuntimeOrigin::signed(USER), first));
		assert_ok!(ComputeJobs::propose_assignment(RuntimeOrigin::signed(V1), second, a));
		assert_ok!(ComputeJobs::propose_assignment(RuntimeOrigin::signed(V2), second, a));
		assert_eq!(Deadlines::<Test>::get(due).into_inner(), jobs[2..].to_vec());
		// Two new jobs land in the freed slots, not a later block.
		let (third, fourth) = (submit(BUDGET), submit(BUDGET));
		assert_eq!(Jobs::<Test>::get(third).map(|j| j.deadline), Some(due));
		assert_eq!(Jobs::<Test>::get(fourth).map(|j| j.deadline), Some(due));
		// The result and the verdict free theirs too.
		let assigned_at = Jobs::<Test>::get(second).map(|j| j.deadline).expect("job");
		assert_ok!(publish_result(SOLAR_A_WORKER, second));
		assert!(!Deadlines::<Test>::get(assigned_at).contains(&second));
		let attest_at = Jobs::<Test>::get(second).map(|j| j.deadline).expect("job");
		assert_ok!(ComputeJobs::attest(RuntimeOrigin::signed(V1), second, true));
		assert_ok!(ComputeJobs::attest(RuntimeOrigin::signed(V2), second, true));
		assert!(!Deadlines::<Test>::get(attest_at).contains(&second));
	});
}

#[test]
fn a_deadline_that_cannot_settle_rolls_back_and_refunds() {
	use frame_support::traits::{fungible::MutateHold, tokens::Precision};
	// Not `build_and_execute`: the test breaks the escrow invariant on purpose.
	ExtBuilder.build().execute_with(|| {
		let (a, _, _) = demo_nodes();
		// Two of five accept; the set then shrinks to three, where two are a majority: the
		// window's end settles.
		let job = submitted_result(a, SOLAR_A_WORKER);
		MockValidators::set(vec![V1, V2, V3, 34, 35]);
		assert_ok!(ComputeJobs::attest(RuntimeOrigin::signed(V1), job, true));
		assert_ok!(ComputeJobs::attest(RuntimeOrigin::signed(V2), job, true));
		MockValidators::set(vec![V1, V2, V3]);
		// Something outside the pallet released most of the escrow: settlement must fail.
		assert_ok!(<Balances as MutateHold<_>>::release(
			&HoldReason::JobEscrow.into(),
			&USER,
			BUDGET - UNIT,
			Precision::Exact
		));
		let (fund_before, provider_before) =
			(Balances::balance(&FUND), Balances::balance(&SOLAR_A));
		run_to_block(1 + ATTESTATION_WINDOW);
		// The renewable bonus paid before the failure was rolled back; the user got the rest.
		assert_eq!(status(job), JobStatus::Unverified { node: a });
		assert_eq!(escrow(USER), 0);
		assert_eq!(Balances::balance(&USER), INITIAL);
		assert_eq!(Balances::balance(&FUND), fund_before);
		assert_eq!(Balances::balance(&SOLAR_A), provider_before);
		assert!(Receipts::<Test>::get(job).is_none());
		assert_eq!(pallet_compute_registry::Nodes::<Test>::get(a).map(|n| n.active_jobs), Some(0));
	});
}
