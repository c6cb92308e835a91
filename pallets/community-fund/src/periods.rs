//! Period rewards with a threshold. A provider's AICG reward for a verified job (what
//! `RewardRate` mints against the AICC the fund kept, less the verifiers' share) goes into the
//! current period's pool, and the AICC the fund kept into the provider's contribution points:
//! its verified GPU-hours valued at what they paid into the fund. When a period
//! (`RewardPeriod` blocks) has ended, each provider whose points in it reached
//! `ContributionThreshold` gets the pool's share of its points among all such providers
//! (rounded down), minted when it claims (`claim_period_reward`) or when its next contribution
//! is recorded. Points below the threshold roll over to the period of the provider's next
//! contribution; a pool that nobody qualified for joins the next period's.
//!
//! Points weigh work by what the fund was paid, not by declared hours: a provider dealing
//! with itself at the lowest price with many declared hours would otherwise buy pool shares
//! for less than honest work pays. When every provider qualifies, each gets back exactly the
//! AICG its own jobs put in the pool (less rounding); the threshold moves the pools of
//! providers below it to those above it until their points, rolled over, reach it. No AICG is
//! minted that the fund was not paid for: the pools are the sum of their jobs' rewards.
//!
//! All of it is O(1) per job and per claim: there is no loop over providers at a period's end.

use crate::{pallet::*, BalanceOf, GovBalanceOf};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::traits::Get;
use scale_info::TypeInfo;
use sp_runtime::{
	traits::{Saturating, Zero},
	SaturatedConversion,
};

/// A provider's points in the period it last contributed in.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct Contribution<Balance> {
	/// The period the points count in (carried points move to the next contribution's).
	pub period: u32,
	/// AICC the fund kept from the provider's verified jobs.
	pub points: Balance,
	/// Whether the points reached the threshold in that period (they are then in its
	/// `qualified_points`).
	pub qualified: bool,
}

/// A reward period's pool and points.
#[derive(
	Clone,
	PartialEq,
	Eq,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub struct PeriodTotals<Balance, GovBalance> {
	/// AICG to share among the providers that qualified.
	pub pool: GovBalance,
	/// Points recorded in the period.
	pub points: Balance,
	/// Points of the providers that reached the threshold.
	pub qualified_points: Balance,
	/// AICG paid out of the pool so far.
	pub paid: GovBalance,
}

/// An account's standing, for clients.
#[derive(Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, Debug)]
pub struct ContributionView<Balance, BlockNumber> {
	/// The current period, and the block it ends at.
	pub current_period: u32,
	pub period_ends_at: BlockNumber,
	/// The threshold in points.
	pub threshold: Balance,
	/// The account's points, the period they count in and whether they qualified there.
	pub points: Balance,
	pub points_period: u32,
	pub qualified: bool,
	/// AICG it may claim now (its share of a closed period's pool).
	pub claimable: Balance,
	/// The current period's pool and qualified points.
	pub period_pool: Balance,
	pub period_qualified_points: Balance,
}

impl<T: Config> Pallet<T> {
	/// The reward period of the current block.
	pub fn current_period() -> u32 {
		let now: u64 = frame_system::Pallet::<T>::block_number().saturated_into();
		let length: u64 = T::RewardPeriod::get().saturated_into();
		u32::try_from(now / length.max(1)).unwrap_or(u32::MAX)
	}

	/// `who`'s share of its contribution's closed period, if it qualified there.
	fn share(who: &T::AccountId, now: u32) -> Option<(u32, GovBalanceOf<T>)> {
		let c = Contributions::<T>::get(who)?;
		if c.period >= now || !c.qualified {
			return None;
		}
		let totals = Periods::<T>::get(c.period);
		let points: u128 = c.points.saturated_into();
		let qualified: u128 = totals.qualified_points.saturated_into();
		let pool: u128 = totals.pool.saturated_into();
		let share = sp_runtime::helpers_128bit::multiply_by_rational_with_rounding(
			pool,
			points,
			qualified.max(1),
			sp_runtime::Rounding::Down,
		)
		.unwrap_or(0);
		let unpaid = totals.pool.saturating_sub(totals.paid);
		Some((c.period, share.saturated_into::<GovBalanceOf<T>>().min(unpaid)))
	}

	/// Pays `who` its share of a closed period it qualified in and clears its points; `None`
	/// when nothing is owed (open period, below the threshold, no points).
	pub(crate) fn settle_contribution(who: &T::AccountId, now: u32) -> Option<GovBalanceOf<T>> {
		let (period, share) = Self::share(who, now)?;
		Contributions::<T>::remove(who);
		let minted = Self::mint_reward(who, share);
		Periods::<T>::mutate(period, |t| t.paid = t.paid.saturating_add(minted));
		Self::deposit_event(Event::PeriodRewardPaid { who: who.clone(), period, amount: minted });
		Some(minted)
	}

	/// A pool of a closed period that nobody qualified for joins period `now`'s.
	fn roll_over(now: u32) {
		let last = LastPeriod::<T>::get();
		if last >= now {
			return;
		}
		LastPeriod::<T>::put(now);
		let closed = Periods::<T>::get(last);
		if closed.qualified_points.is_zero() && !closed.pool.is_zero() {
			Periods::<T>::mutate(last, |t| t.paid = t.pool);
			Periods::<T>::mutate(now, |t| t.pool = t.pool.saturating_add(closed.pool));
			Self::deposit_event(Event::PoolRolledOver { from: last, to: now, amount: closed.pool });
		}
	}

	/// Records `points` of `who`'s verified work and adds `reward` to the current pool.
	pub(crate) fn record_contribution(
		who: &T::AccountId,
		points: BalanceOf<T>,
		reward: GovBalanceOf<T>,
	) {
		let now = Self::current_period();
		Self::roll_over(now);
		let _ = Self::settle_contribution(who, now);
		let mut c = Contributions::<T>::get(who).unwrap_or(Contribution {
			period: now,
			points: Zero::zero(),
			qualified: false,
		});
		let mut totals = Periods::<T>::get(now);
		// Points below the threshold of a closed period roll over into this one.
		if c.period < now {
			c.period = now;
			totals.points = totals.points.saturating_add(c.points);
		}
		c.points = c.points.saturating_add(points);
		totals.pool = totals.pool.saturating_add(reward);
		totals.points = totals.points.saturating_add(points);
		if c.qualified {
			totals.qualified_points = totals.qualified_points.saturating_add(points);
		} else if c.points >= T::ContributionThreshold::get() {
			c.qualified = true;
			totals.qualified_points = totals.qualified_points.saturating_add(c.points);
		}
		Periods::<T>::insert(now, totals);
		Self::deposit_event(Event::ContributionRecorded {
			who: who.clone(),
			period: now,
			points,
			total: c.points,
			qualified: c.qualified,
		});
		Contributions::<T>::insert(who, c);
	}

	/// `who`'s standing, for the runtime API.
	pub fn contribution_view(
		who: &T::AccountId,
	) -> ContributionView<BalanceOf<T>, frame_system::pallet_prelude::BlockNumberFor<T>> {
		let now = Self::current_period();
		let c = Contributions::<T>::get(who);
		let claimable: u128 = Self::share(who, now).map(|(_, s)| s.saturated_into()).unwrap_or(0);
		let totals = Periods::<T>::get(now);
		let length: u64 = T::RewardPeriod::get().saturated_into();
		let ends = u64::from(now).saturating_add(1).saturating_mul(length);
		ContributionView {
			current_period: now,
			period_ends_at: ends.saturated_into(),
			threshold: T::ContributionThreshold::get(),
			points: c.as_ref().map_or_else(Zero::zero, |c| c.points),
			points_period: c.as_ref().map_or(now, |c| c.period),
			qualified: c.as_ref().is_some_and(|c| c.qualified),
			claimable: claimable.saturated_into(),
			period_pool: totals.pool.saturated_into::<u128>().saturated_into(),
			period_qualified_points: totals.qualified_points,
		}
	}

	/// Invariants: no period paid more than its pool; qualified contributions reach the
	/// threshold and are within their period's qualified points.
	pub(crate) fn check_periods() -> Result<(), sp_runtime::TryRuntimeError> {
		for (_, t) in Periods::<T>::iter() {
			frame_support::ensure!(t.paid <= t.pool, "a period paid more than its pool");
			frame_support::ensure!(t.qualified_points <= t.points, "qualified above all points");
		}
		let mut qualified: alloc::collections::BTreeMap<u32, BalanceOf<T>> = Default::default();
		for (_, c) in Contributions::<T>::iter() {
			if c.qualified {
				frame_support::ensure!(
					c.points >= T::ContributionThreshold::get(),
					"qualified below the threshold"
				);
				let sum = qualified.entry(c.period).or_insert_with(Zero::zero);
				*sum = sum.saturating_add(c.points);
			}
		}
		for (period, sum) in qualified {
			frame_support::ensure!(
				sum <= Periods::<T>::get(period).qualified_points,
				"qualified contributions above the period's qualified points"
			);
		}
		Ok(())
	}
}
