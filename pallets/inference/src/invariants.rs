//! `try_state`: holds match channels and challenges, dividends add up, the pallet's account
//! covers what it owes, servers serve listed versions.

use crate::*;
use alloc::collections::BTreeMap;
use frame_support::traits::tokens::{Fortitude, Preservation};

impl<T: Config> Pallet<T> {
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		let mut channels: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		for (user, _, channel) in Channels::<T>::iter() {
			let held = channels.entry(user).or_insert_with(Zero::zero);
			*held = held.saturating_add(channel.deposit);
		}
		for (user, held) in &channels {
			let on_hold = T::Currency::balance_on_hold(&HoldReason::Channel.into(), user);
			ensure!(on_hold == *held, "a user's channel hold differs from its channels' deposits");
		}
		let mut challenges: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		for (_, challenge) in Challenges::<T>::iter() {
			ensure!(
				challenge.voucher.nonce > 0,
				"a challenge names a voucher that cannot have been redeemed"
			);
			let held = challenges.entry(challenge.voucher.user).or_insert_with(Zero::zero);
			*held = held.saturating_add(challenge.deposit);
		}
		for (user, held) in &challenges {
			let on_hold = T::Currency::balance_on_hold(&HoldReason::Challenge.into(), user);
			ensure!(on_hold == *held, "a user's challenge hold differs from its challenges");
		}
		ensure!(
			NextChallengeId::<T>::get() >= Challenges::<T>::iter_keys().count() as u64,
			"more challenges than ids given"
		);
		let owed =
			Owed::<T>::iter_values().fold(BalanceOf::<T>::zero(), |s, o| s.saturating_add(o));
		let totals = Totals::<T>::get();
		ensure!(
			totals.claimed.saturating_add(owed) == totals.accrued,
			"claimed plus owed dividends differ from what accrued"
		);
		let pot = T::Currency::reducible_balance(
			&Self::account_id(),
			Preservation::Preserve,
			Fortitude::Polite,
		);
		ensure!(pot >= owed, "the dividends' account holds less than it owes");
		for (version, servers) in Servers::<T>::iter() {
			ensure!(Listings::<T>::contains_key(version), "a server of an unlisted version");
			let mut sorted = servers.into_inner();
			sorted.sort_unstable();
			let len = sorted.len();
			sorted.dedup();
			ensure!(sorted.len() == len, "a node listed twice as a version's server");
		}
		Ok(())
	}
}
