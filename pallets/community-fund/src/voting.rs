//! Vote bookkeeping shared by the calls: tallies, AICG freezes, displacing the smallest vote on
//! a full proposal, and closing a proposal when its voting period ends.

use crate::{pallet::*, GovBalanceOf, ProposalOf, Subsidy};
use aicchain_primitives::SubsidyId;
use frame_support::{
	ensure,
	pallet_prelude::*,
	traits::{
		fungible::{Inspect, MutateFreeze, MutateHold},
		tokens::{Fortitude, Precision},
	},
};
use sp_runtime::traits::{Saturating, Zero};

impl<T: Config> Pallet<T> {
	/// Makes room on a full proposal for a vote of `amount`: the smallest vote, if smaller,
	/// is withdrawn (untallied, its freeze recomputed).
	pub(crate) fn displace_smallest(
		proposal_id: SubsidyId,
		proposal: &mut ProposalOf<T>,
		voters: &mut BoundedVec<(T::AccountId, GovBalanceOf<T>), T::MaxVoters>,
		amount: GovBalanceOf<T>,
	) -> DispatchResult {
		let (index, smallest) = voters
			.iter()
			.enumerate()
			.min_by_key(|(_, (_, a))| *a)
			.map(|(i, (v, a))| (i, (v.clone(), *a)))
			.ok_or(Error::<T>::TooManyVoters)?;
		ensure!(amount > smallest.1, Error::<T>::TooManyVoters);
		let (displaced, _) = smallest;
		if let Some((aye, was)) = Votes::<T>::take(proposal_id, &displaced) {
			Self::untally(proposal, aye, was);
		}
		voters.remove(index);
		let mut votes_of = VotesOf::<T>::get(&displaced);
		votes_of.retain(|(id, _)| *id != proposal_id);
		Self::set_vote_freeze(&displaced, &votes_of)?;
		Self::store_votes_of(&displaced, votes_of);
		Self::deposit_event(Event::VoteDisplaced {
			proposal_id,
			who: displaced,
			amount: smallest.1,
		});
		Ok(())
	}

	pub(crate) fn untally(proposal: &mut ProposalOf<T>, aye: bool, amount: GovBalanceOf<T>) {
		if aye {
			proposal.ayes = proposal.ayes.saturating_sub(amount);
		} else {
			proposal.nays = proposal.nays.saturating_sub(amount);
		}
	}

	/// Freezes the largest of an account's open votes (votes on different proposals may
	/// reuse the same AICG, as in conviction voting).
	pub(crate) fn set_vote_freeze(
		who: &T::AccountId,
		votes_of: &BoundedVec<(SubsidyId, GovBalanceOf<T>), T::MaxOpenProposals>,
	) -> DispatchResult {
		let largest = votes_of.iter().map(|(_, a)| *a).max().unwrap_or_else(Zero::zero);
		let reason = FreezeReason::SubsidyVote.into();
		if largest.is_zero() {
			T::GovernanceCurrency::thaw(&reason, who)
		} else {
			T::GovernanceCurrency::set_freeze(&reason, who, largest)
		}
	}

	pub(crate) fn store_votes_of(
		who: &T::AccountId,
		votes_of: BoundedVec<(SubsidyId, GovBalanceOf<T>), T::MaxOpenProposals>,
	) {
		if votes_of.is_empty() {
			VotesOf::<T>::remove(who);
		} else {
			VotesOf::<T>::insert(who, votes_of);
		}
	}

	/// Closes a proposal: decides it, releases the deposit and every voter's freeze.
	pub(crate) fn close(proposal_id: SubsidyId) {
		let Some(proposal) = Proposals::<T>::take(proposal_id) else { return };
		let now = frame_system::Pallet::<T>::block_number();
		for (voter, _) in Voters::<T>::take(proposal_id) {
			Votes::<T>::remove(proposal_id, &voter);
			let mut votes_of = VotesOf::<T>::get(&voter);
			votes_of.retain(|(id, _)| *id != proposal_id);
			if let Err(e) = Self::set_vote_freeze(&voter, &votes_of) {
				log::error!(target: "runtime::community-fund", "vote freeze: {e:?}");
			}
			Self::store_votes_of(&voter, votes_of);
		}
		let (ayes, nays) = (proposal.ayes, proposal.nays);
		let turnout = ayes.saturating_add(nays);
		let supply = T::GovernanceCurrency::total_issuance();
		let no_quorum = turnout < T::Quorum::get() * supply || turnout.is_zero();
		let reason = HoldReason::ProposalDeposit.into();
		if no_quorum {
			// Nobody cared: the proposal only took a slot. Its deposit is burnt.
			match T::GovernanceCurrency::burn_held(
				&reason,
				&proposal.proposer,
				proposal.deposit,
				Precision::BestEffort,
				Fortitude::Force,
			) {
				Ok(amount) => Self::deposit_event(Event::DepositBurnt {
					proposal_id,
					who: proposal.proposer.clone(),
					amount,
				}),
				Err(e) => log::error!(target: "runtime::community-fund", "deposit burn: {e:?}"),
			}
		} else if let Err(e) = T::GovernanceCurrency::release(
			&reason,
			&proposal.proposer,
			proposal.deposit,
			Precision::BestEffort,
		) {
			log::error!(target: "runtime::community-fund", "deposit release: {e:?}");
		}

		let outcome = if no_quorum {
			Err(RejectionReason::NoQuorum)
		} else if ayes <= T::ApprovalThreshold::get() * turnout {
			Err(RejectionReason::NotEnoughAyes)
		} else if proposal.terms.total_budget > Self::uncommitted_balance() {
			Err(RejectionReason::FundTooSmall)
		} else {
			let terms = proposal.terms;
			ActiveSubsidies::<T>::try_mutate(|subsidies| {
				subsidies.try_push(Subsidy {
					id: proposal_id,
					share: terms.share,
					scope: terms.scope,
					per_job_cap: terms.per_job_cap,
					remaining: terms.total_budget,
					paid: Zero::zero(),
					ends_at: now.saturating_add(terms.duration),
				})
			})
			.map_err(|_| RejectionReason::TooManySubsidies)
		};
		match outcome {
			Ok(()) => Self::deposit_event(Event::SubsidyApproved { proposal_id, ayes, nays }),
			Err(reason) => {
				Self::deposit_event(Event::SubsidyRejected { proposal_id, ayes, nays, reason })
			},
		}
	}
}
