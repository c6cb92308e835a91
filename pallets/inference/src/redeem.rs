//! Redeeming a batch of vouchers: checks, the split between provider, fund and contributors,
//! and contributors' claims.

use crate::*;
use alloc::{
	collections::{btree_map::Entry, BTreeMap},
	vec::Vec,
};
use frame_support::traits::tokens::{Fortitude, Preservation, Restriction};
use sp_runtime::{
	helpers_128bit::multiply_by_rational_with_rounding,
	traits::{CheckedAdd, CheckedSub, UniqueSaturatedFrom, UniqueSaturatedInto},
	Rounding,
};

/// How a batch's AICC is split.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Split<Balance> {
	pub provider: Balance,
	pub fund: Balance,
	pub contributors: Balance,
}

impl<T: Config> Pallet<T> {
	/// This chain's genesis hash: vouchers are signed for it.
	pub fn genesis() -> T::Hash {
		frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero())
	}

	/// Whether `signature` is `voucher`'s user's over its payload on this chain.
	pub fn verifies(voucher: &VoucherOf<T>, signature: &T::Signature) -> bool {
		Self::verifies_on(&Self::genesis(), voucher, signature)
	}

	/// [`Self::verifies`] with the genesis hash read once for a batch.
	pub(crate) fn verifies_on(
		genesis: &T::Hash,
		voucher: &VoucherOf<T>,
		signature: &T::Signature,
	) -> bool {
		signature.verify(&voucher.signing_payload(genesis)[..], &voucher.user)
	}

	/// The split of `total`: the fund's and the contributors' shares rounded down, the provider
	/// the rest.
	pub fn split(total: BalanceOf<T>) -> Split<BalanceOf<T>> {
		let fund = T::FundShare::get().mul_floor(total);
		let contributors = T::ContributorShare::get().mul_floor(total);
		let provider = total.saturating_sub(fund).saturating_sub(contributors);
		Split { provider, fund, contributors }
	}

	/// Shares of `amount` for `contributors` in proportion to what each paid, rounded down; the
	/// remainder to the first (the served version's trainer). All of it to the first if nobody
	/// paid anything; nothing if there are none.
	pub fn dividends(
		amount: BalanceOf<T>,
		contributors: &[(T::AccountId, BalanceOf<T>)],
	) -> Vec<(T::AccountId, BalanceOf<T>)> {
		let total: u128 = contributors
			.iter()
			.fold(0u128, |sum, (_, cost)| sum.saturating_add((*cost).unique_saturated_into()));
		let amount_u128: u128 = amount.unique_saturated_into();
		let mut shares: Vec<(T::AccountId, BalanceOf<T>)> = contributors
			.iter()
			.map(|(who, cost)| {
				let share = if total == 0 {
					0
				} else {
					multiply_by_rational_with_rounding(
						amount_u128,
						(*cost).unique_saturated_into(),
						total,
						Rounding::Down,
					)
					.unwrap_or(0)
				};
				(who.clone(), BalanceOf::<T>::unique_saturated_from(share))
			})
			.collect();
		let given = shares.iter().fold(BalanceOf::<T>::zero(), |s, (_, a)| s.saturating_add(*a));
		if let Some((_, first)) = shares.first_mut() {
			*first = first.saturating_add(amount.saturating_sub(given));
		}
		shares
	}

	pub(crate) fn do_redeem(
		who: T::AccountId,
		node: NodeId,
		version: VersionId,
		vouchers: Vec<(VoucherOf<T>, T::Signature)>,
	) -> DispatchResult {
		ensure!(!vouchers.is_empty(), Error::<T>::EmptyBatch);
		Self::ensure_node_owner(&who, node)?;
		let listing = Listings::<T>::get(version).ok_or(Error::<T>::NotListed)?;
		let count = vouchers.len() as u32;
		let genesis = Self::genesis();
		// Each user's channel is read once and written once, with what its vouchers pay.
		let mut channels: BTreeMap<T::AccountId, (ChannelOf<T>, BalanceOf<T>)> = BTreeMap::new();
		let mut total = BalanceOf::<T>::zero();
		for (voucher, signature) in &vouchers {
			ensure!(voucher.node == node && voucher.version == version, Error::<T>::WrongVoucher);
			ensure!(voucher.price >= listing.price, Error::<T>::PriceBelowListing);
			ensure!(Self::verifies_on(&genesis, voucher, signature), Error::<T>::BadSignature);
			let (channel, paid) = match channels.entry(voucher.user.clone()) {
				Entry::Occupied(entry) => entry.into_mut(),
				Entry::Vacant(entry) => {
					let channel = Channels::<T>::get(&voucher.user, node)
						.ok_or(Error::<T>::ChannelNotFound)?;
					entry.insert((channel, Zero::zero()))
				},
			};
			ensure!(voucher.nonce > channel.nonce, Error::<T>::Replayed);
			channel.deposit = channel
				.deposit
				.checked_sub(&voucher.price)
				.ok_or(Error::<T>::InsufficientDeposit)?;
			channel.nonce = voucher.nonce;
			*paid = paid.checked_add(&voucher.price).ok_or(Error::<T>::Overflow)?;
			total = total.checked_add(&voucher.price).ok_or(Error::<T>::Overflow)?;
		}
		let pot = Self::account_id();
		for (user, (channel, paid)) in channels {
			T::Currency::transfer_on_hold(
				&HoldReason::Channel.into(),
				&user,
				&pot,
				paid,
				Precision::Exact,
				Restriction::Free,
				Fortitude::Polite,
			)?;
			Channels::<T>::insert(&user, node, channel);
		}
		let split = Self::split(total);
		T::Currency::transfer(&pot, &who, split.provider, Preservation::Preserve)?;
		let contributors = T::Models::contributors(version, T::MaxContributors::get());
		let shares = Self::dividends(split.contributors, &contributors);
		// With no contributor on record (never for a registered version), the fund takes theirs.
		let to_fund = if shares.is_empty() {
			split.fund.saturating_add(split.contributors)
		} else {
			split.fund
		};
		T::Currency::transfer(&pot, &T::CommunityFund::get(), to_fund, Preservation::Preserve)?;
		let mut accrued = BalanceOf::<T>::zero();
		for (contributor, share) in shares {
			if share.is_zero() {
				continue;
			}
			Owed::<T>::try_mutate(&contributor, |o| {
				*o = o.checked_add(&share).ok_or(Error::<T>::Overflow)?;
				Ok::<_, Error<T>>(())
			})?;
			Earned::<T>::mutate(&contributor, |e| *e = e.saturating_add(share));
			accrued = accrued.saturating_add(share);
		}
		Totals::<T>::try_mutate(|t| {
			t.accrued = t.accrued.checked_add(&accrued).ok_or(Error::<T>::Overflow)?;
			Ok::<_, Error<T>>(())
		})?;
		ModelRevenue::<T>::mutate(listing.model, |r| *r = r.saturating_add(total));
		Self::deposit_event(Event::Redeemed {
			node,
			version,
			vouchers: count,
			total,
			provider: split.provider,
			fund: split.fund,
			contributors: accrued,
		});
		Ok(())
	}

	pub(crate) fn do_claim(who: T::AccountId) -> DispatchResult {
		let amount = Owed::<T>::get(&who);
		ensure!(!amount.is_zero(), Error::<T>::NothingToClaim);
		T::Currency::transfer(&Self::account_id(), &who, amount, Preservation::Preserve)?;
		Owed::<T>::remove(&who);
		Totals::<T>::mutate(|t| t.claimed = t.claimed.saturating_add(amount));
		Self::deposit_event(Event::Claimed { who, amount });
		Ok(())
	}
}
