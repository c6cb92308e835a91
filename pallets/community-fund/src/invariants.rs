//! The pallet's invariants, checked after every test and by `try-runtime`.

use crate::{pallet::*, GovBalanceOf};
use frame_support::{
	ensure,
	traits::{
		fungible::{Inspect, InspectFreeze},
		tokens::{Fortitude, Preservation},
		Get,
	},
};
use sp_runtime::traits::{Saturating, Zero};

impl<T: Config> Pallet<T> {
	/// Invariants, checked after every test and by `try-runtime`:
	/// - the fund holds at least what active subsidies may still pay out;
	/// - every open vote is counted in its proposal's tally and listed under its voter;
	/// - each voter's AICG freeze equals its largest open vote;
	/// - the AICG supply is within `MaxAicgSupply`;
	/// - reward periods pay no more than their pools, and qualified points add up
	///   ([`Self::check_periods`]).
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		ensure!(
			T::GovernanceCurrency::total_issuance() <= T::MaxAicgSupply::get(),
			"AICG supply above its cap"
		);
		let held = T::Currency::reducible_balance(
			&Self::account_id(),
			Preservation::Preserve,
			Fortitude::Polite,
		);
		ensure!(held >= Self::committed_total(), "fund holds less than it committed");
		for (id, proposal) in Proposals::<T>::iter() {
			let mut ayes = GovBalanceOf::<T>::zero();
			let mut nays = GovBalanceOf::<T>::zero();
			let voters = Voters::<T>::get(id);
			for (voter, listed) in voters {
				let (aye, amount) = Votes::<T>::get(id, &voter).ok_or("voter without a vote")?;
				ensure!(listed == amount, "voter list differs from the vote");
				if aye {
					ayes = ayes.saturating_add(amount);
				} else {
					nays = nays.saturating_add(amount);
				}
				ensure!(
					VotesOf::<T>::get(&voter).iter().any(|(p, a)| *p == id && *a == amount),
					"vote missing from its voter's list"
				);
			}
			ensure!(ayes == proposal.ayes && nays == proposal.nays, "tally differs from votes");
		}
		for (who, votes_of) in VotesOf::<T>::iter() {
			let largest = votes_of.iter().map(|(_, a)| *a).max().unwrap_or_else(Zero::zero);
			ensure!(
				T::GovernanceCurrency::balance_frozen(&FreezeReason::SubsidyVote.into(), &who)
					== largest,
				"vote freeze differs from the largest open vote"
			);
		}
		Self::check_periods()
	}
}
