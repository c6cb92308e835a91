use crate::{mock::*, *};
use aicchain_primitives::{ModelKind, SubsidyHandler, SubsidyScope};
use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect, InspectFreeze, InspectHold},
};
use sp_runtime::{DispatchError, Perbill, Percent};

type Error = crate::Error<Test>;

fn terms() -> SubsidyTerms<Balance, u64> {
	SubsidyTerms {
		share: Perbill::from_percent(50),
		scope: SubsidyScope::AllJobs,
		per_job_cap: 100 * UNIT,
		total_budget: 300 * UNIT,
		duration: 100,
	}
}

fn propose(who: AccountId, terms: SubsidyTerms<Balance, u64>) -> SubsidyId {
	let id = NextProposalId::<Test>::get();
	assert_ok!(Fund::propose_subsidy(RuntimeOrigin::signed(who), terms));
	id
}

fn frozen(who: AccountId) -> Balance {
	Aicg::balance_frozen(&FreezeReason::SubsidyVote.into(), &who)
}

fn deposit_held(who: AccountId) -> Balance {
	Aicg::balance_on_hold(&HoldReason::ProposalDeposit.into(), &who)
}

/// Proposes the default terms, votes them through with Alice and Bob, and closes the vote.
fn approved_subsidy(terms: SubsidyTerms<Balance, u64>) -> SubsidyId {
	let id = propose(ALICE, terms);
	assert_ok!(Fund::vote(RuntimeOrigin::signed(ALICE), id, true, 500 * UNIT));
	assert_ok!(Fund::vote(RuntimeOrigin::signed(BOB), id, true, 200 * UNIT));
	run_to_block(System::block_number() + VOTING_PERIOD);
	assert!(ActiveSubsidies::<Test>::get().iter().any(|s| s.id == id));
	id
}

#[test]
fn genesis_makes_the_fund_account_exist() {
	ExtBuilder.build_and_execute(|| {
		assert_eq!(Balances::balance(&Fund::account_id()), FUND_START);
		assert_eq!(Fund::uncommitted_balance(), FUND_START - 1);
	});
}

// ---- propose_subsidy ----

#[test]
fn propose_subsidy_holds_the_aicg_deposit() {
	ExtBuilder.build_and_execute(|| {
		let id = propose(ALICE, terms());
		let proposal = Proposals::<Test>::get(id).expect("stored");
		assert_eq!(proposal.proposer, ALICE);
		assert_eq!(proposal.ends_at, 1 + VOTING_PERIOD);
		assert_eq!(deposit_held(ALICE), DEPOSIT);
		System::assert_last_event(
			Event::SubsidyProposed {
				proposal_id: id,
				proposer: ALICE,
				terms: terms(),
				ends_at: 11,
			}
			.into(),
		);
	});
}

#[test]
fn propose_subsidy_errors() {
	ExtBuilder.build_and_execute(|| {
		assert_noop!(
			Fund::propose_subsidy(RuntimeOrigin::none(), terms()),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Fund::propose_subsidy(RuntimeOrigin::signed(NO_AICG), terms()),
			Error::NotAicgHolder
		);
		for bad in [
			SubsidyTerms { share: Perbill::zero(), ..terms() },
			SubsidyTerms { share: Perbill::from_percent(91), ..terms() },
			SubsidyTerms { per_job_cap: 0, ..terms() },
			SubsidyTerms { total_budget: 0, ..terms() },
			SubsidyTerms { duration: 0, ..terms() },
		] {
			assert_noop!(
				Fund::propose_subsidy(RuntimeOrigin::signed(ALICE), bad),
				Error::InvalidTerms
			);
		}
		// An AICG holder who cannot cover the deposit.
		assert_ok!(Aicg::transfer_allow_death(RuntimeOrigin::signed(ALICE), NO_AICG, UNIT));
		assert_noop!(
			Fund::propose_subsidy(RuntimeOrigin::signed(NO_AICG), terms()),
			Error::InsufficientDeposit
		);
		for _ in 0..3 {
			propose(BOB, terms());
		}
		assert_noop!(
			Fund::propose_subsidy(RuntimeOrigin::signed(ALICE), terms()),
			Error::TooManyProposals
		);
	});
}

// ---- vote and remove_vote ----

#[test]
fn votes_freeze_the_largest_open_vote_and_can_change() {
	ExtBuilder.build_and_execute(|| {
		let first = propose(ALICE, terms());
		let second = propose(BOB, terms());
		assert_ok!(Fund::vote(RuntimeOrigin::signed(CHARLIE), first, true, 300 * UNIT));
		System::assert_last_event(
			Event::Voted { proposal_id: first, who: CHARLIE, aye: true, amount: 300 * UNIT }.into(),
		);
		assert_eq!(frozen(CHARLIE), 300 * UNIT);
		assert_ok!(Fund::vote(RuntimeOrigin::signed(CHARLIE), second, false, 400 * UNIT));
		assert_eq!(frozen(CHARLIE), 400 * UNIT);
		// Changing the first vote moves the tally from ayes to nays.
		assert_ok!(Fund::vote(RuntimeOrigin::signed(CHARLIE), first, false, 100 * UNIT));
		let proposal = Proposals::<Test>::get(first).expect("open");
		assert_eq!((proposal.ayes, proposal.nays), (0, 100 * UNIT));
		assert_eq!(frozen(CHARLIE), 400 * UNIT);
		// Frozen AICG cannot be transferred away.
		assert!(
			Aicg::transfer_allow_death(RuntimeOrigin::signed(CHARLIE), ALICE, 700 * UNIT).is_err()
		);

		assert_ok!(Fund::remove_vote(RuntimeOrigin::signed(CHARLIE), second));
		System::assert_last_event(Event::VoteRemoved { proposal_id: second, who: CHARLIE }.into());
		assert_eq!(frozen(CHARLIE), 100 * UNIT);
		assert_eq!(Proposals::<Test>::get(second).map(|p| p.nays), Some(0));
	});
}

#[test]
fn vote_errors() {
	ExtBuilder.build_and_execute(|| {
		let id = propose(ALICE, terms());
		assert_noop!(
			Fund::vote(RuntimeOrigin::signed(BOB), 9, true, UNIT),
			Error::ProposalNotFound
		);
		for dust in [0, MIN_VOTE - 1] {
			assert_noop!(
				Fund::vote(RuntimeOrigin::signed(BOB), id, true, dust),
				Error::VoteBelowMinimum
			);
		}
		assert_noop!(
			Fund::vote(RuntimeOrigin::signed(BOB), id, true, AICG_EACH + 1),
			Error::InsufficientAicg
		);
		assert_ok!(Fund::vote(RuntimeOrigin::signed(ALICE), id, true, UNIT));
		assert_ok!(Fund::vote(RuntimeOrigin::signed(BOB), id, true, UNIT));
		assert_ok!(Fund::vote(RuntimeOrigin::signed(CHARLIE), id, true, UNIT));
		assert_ok!(Aicg::transfer_allow_death(RuntimeOrigin::signed(ALICE), NO_AICG, 5 * UNIT));
		assert_noop!(
			Fund::vote(RuntimeOrigin::signed(NO_AICG), id, true, UNIT),
			Error::TooManyVoters
		);
		System::set_block_number(1 + VOTING_PERIOD);
		assert_noop!(Fund::vote(RuntimeOrigin::signed(BOB), id, false, UNIT), Error::VotingClosed);
	});
}

/// Attack (adversarial market, 9): dust votes from many accounts filled a proposal's voters and
/// locked every later holder out of it. A larger vote now displaces the smallest, whose freeze
/// is released; a vote no larger than the smallest is still refused.
#[test]
fn a_larger_vote_displaces_the_smallest_on_a_full_proposal() {
	ExtBuilder.build_and_execute(|| {
		let id = propose(ALICE, terms());
		// MaxVoters = 3: three minimum votes fill the proposal.
		for who in [ALICE, BOB, CHARLIE] {
			assert_ok!(Fund::vote(RuntimeOrigin::signed(who), id, false, MIN_VOTE));
		}
		assert_ok!(Aicg::transfer_allow_death(RuntimeOrigin::signed(ALICE), NO_AICG, 50 * UNIT));
		assert_noop!(
			Fund::vote(RuntimeOrigin::signed(NO_AICG), id, true, MIN_VOTE),
			Error::TooManyVoters
		);
		assert_ok!(Fund::vote(RuntimeOrigin::signed(NO_AICG), id, true, 40 * UNIT));
		System::assert_has_event(
			Event::VoteDisplaced { proposal_id: id, who: ALICE, amount: MIN_VOTE }.into(),
		);
		assert_eq!(Votes::<Test>::get(id, ALICE), None);
		assert_eq!(frozen(ALICE), 0);
		assert_eq!(frozen(NO_AICG), 40 * UNIT);
		let proposal = Proposals::<Test>::get(id).expect("open");
		assert_eq!((proposal.ayes, proposal.nays), (40 * UNIT, 2 * MIN_VOTE));
	});
}

#[test]
fn remove_vote_errors() {
	ExtBuilder.build_and_execute(|| {
		let id = propose(ALICE, terms());
		assert_noop!(Fund::remove_vote(RuntimeOrigin::signed(BOB), 9), Error::ProposalNotFound);
		assert_noop!(Fund::remove_vote(RuntimeOrigin::signed(BOB), id), Error::NotVoted);
		assert_ok!(Fund::vote(RuntimeOrigin::signed(BOB), id, true, UNIT));
		System::set_block_number(1 + VOTING_PERIOD);
		assert_noop!(Fund::remove_vote(RuntimeOrigin::signed(BOB), id), Error::VotingClosed);
	});
}

// ---- closing ----

#[test]
fn an_approved_proposal_becomes_active_and_releases_freezes_and_deposit() {
	ExtBuilder.build_and_execute(|| {
		let id = approved_subsidy(terms());
		System::assert_has_event(
			Event::SubsidyApproved { proposal_id: id, ayes: 700 * UNIT, nays: 0 }.into(),
		);
		assert!(Proposals::<Test>::get(id).is_none());
		assert_eq!((frozen(ALICE), frozen(BOB)), (0, 0));
		assert_eq!(deposit_held(ALICE), 0);
		assert!(VotesOf::<Test>::get(ALICE).is_empty());
		let subsidy = ActiveSubsidies::<Test>::get().first().cloned().expect("active");
		assert_eq!(subsidy.remaining, 300 * UNIT);
		assert_eq!(subsidy.ends_at, 1 + VOTING_PERIOD + 100);
		assert_eq!(Fund::committed(), 300 * UNIT);
		assert_eq!(Fund::uncommitted_balance(), FUND_START - 1 - 300 * UNIT);
	});
}

#[test]
fn closing_rejects_without_quorum_ayes_funds_or_room() {
	ExtBuilder.build_and_execute(|| {
		let reason_of = |id| {
			System::events().iter().rev().find_map(|record| match &record.event {
				RuntimeEvent::Fund(Event::SubsidyRejected { proposal_id, reason, .. })
					if *proposal_id == id =>
				{
					Some(*reason)
				},
				_ => None,
			})
		};
		// 10% of 3,000 AICG is 300: 299 is short of the quorum.
		let no_quorum = propose(ALICE, terms());
		assert_ok!(Fund::vote(RuntimeOrigin::signed(ALICE), no_quorum, true, 299 * UNIT));
		// Ayes must exceed half of the votes cast.
		let tied = propose(BOB, terms());
		assert_ok!(Fund::vote(RuntimeOrigin::signed(ALICE), tied, true, 200 * UNIT));
		assert_ok!(Fund::vote(RuntimeOrigin::signed(BOB), tied, false, 200 * UNIT));
		// More than the fund holds.
		let too_big = propose(CHARLIE, SubsidyTerms { total_budget: FUND_START, ..terms() });
		assert_ok!(Fund::vote(RuntimeOrigin::signed(CHARLIE), too_big, true, 400 * UNIT));
		run_to_block(1 + VOTING_PERIOD);
		assert_eq!(reason_of(no_quorum), Some(RejectionReason::NoQuorum));
		assert_eq!(reason_of(tied), Some(RejectionReason::NotEnoughAyes));
		assert_eq!(reason_of(too_big), Some(RejectionReason::FundTooSmall));
		assert!(ActiveSubsidies::<Test>::get().is_empty());
		assert_eq!((deposit_held(ALICE), deposit_held(BOB), deposit_held(CHARLIE)), (0, 0, 0));
		// The proposal that missed the quorum cost its deposit; the others got theirs back.
		assert_eq!(Aicg::balance(&ALICE), AICG_EACH - DEPOSIT);
		assert_eq!((Aicg::balance(&BOB), Aicg::balance(&CHARLIE)), (AICG_EACH, AICG_EACH));
		System::assert_has_event(
			Event::DepositBurnt { proposal_id: no_quorum, who: ALICE, amount: DEPOSIT }.into(),
		);

		// Two subsidies fill the active list (MaxActiveSubsidies = 2).
		approved_subsidy(SubsidyTerms { total_budget: 10 * UNIT, ..terms() });
		approved_subsidy(SubsidyTerms { total_budget: 10 * UNIT, ..terms() });
		let third = propose(ALICE, SubsidyTerms { total_budget: 10 * UNIT, ..terms() });
		assert_ok!(Fund::vote(RuntimeOrigin::signed(ALICE), third, true, 500 * UNIT));
		run_to_block(System::block_number() + VOTING_PERIOD);
		assert_eq!(reason_of(third), Some(RejectionReason::TooManySubsidies));
	});
}

#[test]
fn the_fund_never_commits_more_than_it_holds() {
	ExtBuilder.build_and_execute(|| {
		approved_subsidy(SubsidyTerms { total_budget: 600 * UNIT, ..terms() });
		// 999 spendable − 600 committed leaves 399: a 400 budget is refused.
		let id = propose(ALICE, SubsidyTerms { total_budget: 400 * UNIT, ..terms() });
		assert_ok!(Fund::vote(RuntimeOrigin::signed(ALICE), id, true, 500 * UNIT));
		run_to_block(System::block_number() + VOTING_PERIOD);
		assert!(System::events().iter().any(|r| matches!(
			r.event,
			RuntimeEvent::Fund(Event::SubsidyRejected {
				reason: RejectionReason::FundTooSmall,
				..
			})
		)));
	});
}

// ---- subsidies at settlement ----

#[test]
fn claims_pay_the_share_capped_per_job_and_by_the_budget_then_end() {
	ExtBuilder.build_and_execute(|| {
		let id = approved_subsidy(terms());
		let kind = Some(ModelKind::MlpClassifier);
		let grid = Percent::zero();
		// 50% of 80 = 40.
		assert_eq!(Fund::claim(kind, grid, 80 * UNIT), Some((id, 40 * UNIT)));
		System::assert_last_event(
			Event::SubsidyClaimed { subsidy_id: id, amount: 40 * UNIT }.into(),
		);
		// 50% of 400 = 200, capped at 100 per job.
		assert_eq!(Fund::claim(kind, grid, 400 * UNIT), Some((id, 100 * UNIT)));
		assert_eq!(Fund::committed(), 160 * UNIT);
		assert_ok!(Fund::do_try_state());
		assert_eq!(Fund::claim(kind, grid, 400 * UNIT), Some((id, 100 * UNIT)));
		// 60 left of the budget.
		assert_eq!(Fund::claim(kind, grid, 400 * UNIT), Some((id, 60 * UNIT)));
		System::assert_last_event(Event::SubsidyEnded { subsidy_id: id, paid: 300 * UNIT }.into());
		assert!(ActiveSubsidies::<Test>::get().is_empty());
		assert_eq!(Fund::claim(kind, grid, 400 * UNIT), None);
	});
}

#[test]
fn claims_respect_scope_and_duration() {
	ExtBuilder.build_and_execute(|| {
		let id =
			approved_subsidy(SubsidyTerms { scope: SubsidyScope::RenewableProviders, ..terms() });
		assert_eq!(Fund::claim(None, Percent::from_percent(49), 10 * UNIT), None);
		assert_eq!(Fund::claim(None, Percent::from_percent(50), 10 * UNIT), Some((id, 5 * UNIT)));
		let ends_at = ActiveSubsidies::<Test>::get().first().map(|s| s.ends_at).expect("active");
		run_to_block(ends_at + 1);
		System::assert_has_event(Event::SubsidyEnded { subsidy_id: id, paid: 5 * UNIT }.into());
		assert_eq!(Fund::claim(None, Percent::from_percent(100), 10 * UNIT), None);

		let kind = approved_subsidy(SubsidyTerms {
			scope: SubsidyScope::JobKind(ModelKind::MlpRegressor),
			..terms()
		});
		assert_eq!(Fund::claim(Some(ModelKind::MlpClassifier), Percent::zero(), 10 * UNIT), None);
		assert_eq!(
			Fund::claim(Some(ModelKind::MlpRegressor), Percent::zero(), 10 * UNIT),
			Some((kind, 5 * UNIT))
		);
	});
}

// ---- AICG rewards ----

#[test]
fn try_state_catches_a_tally_that_differs_from_the_votes() {
	ExtBuilder.build().execute_with(|| {
		let id = propose(ALICE, terms());
		assert_ok!(Fund::vote(RuntimeOrigin::signed(BOB), id, true, UNIT));
		assert_ok!(Fund::do_try_state());
		Proposals::<Test>::mutate(id, |p| {
			if let Some(p) = p {
				p.ayes += 1;
			}
		});
		assert!(Fund::do_try_state().is_err());
	});
}
