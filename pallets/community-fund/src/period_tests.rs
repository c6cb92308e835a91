//! AICG rewards: verifiers at once, providers from period pools above a threshold.

use crate::{mock::*, pallet::*};
use aicchain_primitives::ContributionRewards;
use frame_support::{assert_noop, assert_ok, traits::fungible::Inspect};

fn next_period() {
	run_to_block((System::block_number() / REWARD_PERIOD + 1) * REWARD_PERIOD);
}

fn claim(who: AccountId) -> frame_support::dispatch::DispatchResult {
	Fund::claim_period_reward(RuntimeOrigin::signed(who))
}

#[test]
fn a_providers_reward_waits_for_its_period_and_the_threshold() {
	ExtBuilder.build_and_execute(|| {
		// The fund kept 10 AICC from Alice's job: 2 AICG per AICC is 20 AICG, 10% of it shared
		// by the verifiers at once, 18 into the period's pool; her points are the 10 AICC.
		Fund::reward(Some(&ALICE), &[BOB, CHARLIE], 10 * UNIT);
		assert_eq!(Aicg::balance(&BOB), AICG_EACH + UNIT);
		assert_eq!(Aicg::balance(&ALICE), AICG_EACH);
		System::assert_has_event(
			Event::ContributionRecorded {
				who: ALICE,
				period: 0,
				points: 10 * UNIT,
				total: 10 * UNIT,
				qualified: true,
			}
			.into(),
		);
		// Charlie's 5 points are below the 10-point threshold (9 AICG into the pool).
		Fund::reward(Some(&CHARLIE), &[], 5 * UNIT);
		assert_eq!(Periods::<Test>::get(0).pool, 27 * UNIT);
		// The period is open: nothing to claim yet.
		assert_noop!(claim(ALICE), Error::<Test>::NothingToClaim);
		next_period();
		assert_eq!(Fund::contribution_view(&ALICE).claimable, 27 * UNIT);
		// Alice alone qualified: the whole pool is hers, once.
		assert_ok!(claim(ALICE));
		assert_eq!(Aicg::balance(&ALICE), AICG_EACH + 27 * UNIT);
		System::assert_has_event(
			Event::PeriodRewardPaid { who: ALICE, period: 0, amount: 27 * UNIT }.into(),
		);
		assert_noop!(claim(ALICE), Error::<Test>::NothingToClaim);
		// Charlie's points roll over: 5 + 5 qualify in period 1, as do Alice's 10; the
		// period's 27 AICG split evenly.
		assert_noop!(claim(CHARLIE), Error::<Test>::NothingToClaim);
		Fund::reward(Some(&CHARLIE), &[], 5 * UNIT);
		Fund::reward(Some(&ALICE), &[], 10 * UNIT);
		let totals = Periods::<Test>::get(1);
		assert_eq!((totals.pool, totals.qualified_points), (27 * UNIT, 20 * UNIT));
		next_period();
		assert_ok!(claim(CHARLIE));
		// 1 as a verifier, 13.5 as a provider.
		assert_eq!(Aicg::balance(&CHARLIE), AICG_EACH + 14 * UNIT + UNIT / 2);
		// Alice's share is paid when her next contribution is recorded.
		Fund::reward(Some(&ALICE), &[], 0);
		assert_eq!(Aicg::balance(&ALICE), AICG_EACH + 40 * UNIT + UNIT / 2);
		assert_eq!(Periods::<Test>::get(1).paid, 27 * UNIT);
	});
}

/// The threshold is per account: work split across accounts to stay small earns nothing until
/// one of them reaches it, and the pool nobody qualified for goes to a later period.
#[test]
fn a_pool_nobody_qualified_for_rolls_over() {
	ExtBuilder.build_and_execute(|| {
		Fund::reward(Some(&ALICE), &[], 5 * UNIT);
		Fund::reward(Some(&BOB), &[], 5 * UNIT);
		next_period();
		assert_noop!(claim(ALICE), Error::<Test>::NothingToClaim);
		assert_noop!(claim(BOB), Error::<Test>::NothingToClaim);
		// Period 1: Charlie qualifies alone and takes period 0's pool with period 1's.
		Fund::reward(Some(&CHARLIE), &[], 10 * UNIT);
		System::assert_has_event(
			Event::PoolRolledOver { from: 0, to: 1, amount: 18 * UNIT }.into(),
		);
		next_period();
		assert_ok!(claim(CHARLIE));
		assert_eq!(Aicg::balance(&CHARLIE), AICG_EACH + 36 * UNIT);
		// Alice and Bob still hold their 5 points each.
		assert_eq!(Fund::contribution_view(&ALICE).points, 5 * UNIT);
		assert!(!Fund::contribution_view(&ALICE).qualified);
	});
}

#[test]
fn rewards_never_pass_the_max_supply() {
	ExtBuilder.build_and_execute(|| {
		// 100 UNIT of room: 120 AICG earned, 12 to Bob now, 108 pooled; Alice gets the 88 left.
		Fund::reward(Some(&ALICE), &[BOB], 60 * UNIT);
		next_period();
		assert_ok!(claim(ALICE));
		assert_eq!(Aicg::total_issuance(), MaxAicgSupply::get());
		assert_eq!(Aicg::balance(&ALICE), AICG_EACH + 88 * UNIT);
		// A rejection rewards only the verifiers (against the slashed bond): nothing is left.
		Fund::reward(None, &[BOB], 5 * UNIT);
		assert_eq!(Aicg::balance(&BOB), AICG_EACH + 12 * UNIT);
	});
}

#[test]
fn try_state_catches_a_period_that_paid_more_than_its_pool() {
	ExtBuilder.build().execute_with(|| {
		Fund::reward(Some(&ALICE), &[], 20 * UNIT);
		assert_ok!(Fund::do_try_state());
		Periods::<Test>::mutate(0, |t| t.paid = t.pool + 1);
		assert!(Fund::do_try_state().is_err());
	});
}
