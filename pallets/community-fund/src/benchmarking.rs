//! Benchmarks of the fund's calls and of closing a vote with `v` voters, each voter holding the
//! most open votes (so releasing its freeze rewrites the longest list).

use super::*;
use aicchain_primitives::SubsidyScope;
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{
		fungible::{Inspect, Mutate},
		Get,
	},
	BoundedVec,
};
use frame_system::RawOrigin;
use sp_runtime::traits::{Bounded, Saturating};

fn terms<T: Config>() -> SubsidyTerms<BalanceOf<T>, BlockNumberFor<T>> {
	SubsidyTerms {
		share: Perbill::from_percent(50),
		scope: SubsidyScope::AllJobs,
		per_job_cap: 1_000u32.into(),
		total_budget: 10_000u32.into(),
		duration: 100u32.into(),
	}
}

use frame_system::pallet_prelude::BlockNumberFor;

/// An account with AICC (so it can carry freezes and holds) and plenty of AICG.
fn holder<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, 0);
	T::Currency::set_balance(&who, BalanceOf::<T>::max_value() / 1_000_000u32.into());
	T::GovernanceCurrency::set_balance(&who, GovBalanceOf::<T>::max_value() / 1_000_000u32.into());
	who
}

fn proposal<T: Config>() -> SubsidyId {
	let proposer = holder::<T>("proposer", 0);
	let id = NextProposalId::<T>::get();
	assert!(Pallet::<T>::propose_subsidy(RawOrigin::Signed(proposer).into(), terms::<T>()).is_ok());
	id
}

/// Gives `who` the most open votes, on proposals that do not exist, so its vote list is full.
fn fill_votes_of<T: Config>(who: &T::AccountId, keep_room: u32) {
	let entries: alloc::vec::Vec<(SubsidyId, GovBalanceOf<T>)> = (0..T::MaxOpenProposals::get()
		.saturating_sub(keep_room))
		.map(|i| (u32::MAX - i, 1u32.into()))
		.collect();
	VotesOf::<T>::insert(who, BoundedVec::truncate_from(entries));
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn propose_subsidy() {
		let who = holder::<T>("proposer", 0);
		let id = NextProposalId::<T>::get();

		#[extrinsic_call]
		_(RawOrigin::Signed(who), terms::<T>());

		assert!(Proposals::<T>::contains_key(id));
	}

	#[benchmark]
	fn vote() {
		let id = proposal::<T>();
		let voter = holder::<T>("voter", 0);
		fill_votes_of::<T>(&voter, 1);
		// A full proposal of minimum votes: this vote displaces the smallest (the worst case).
		let small = T::MinVote::get();
		let others: alloc::vec::Vec<(T::AccountId, GovBalanceOf<T>)> =
			(1..=T::MaxVoters::get()).map(|i| (account("other-voter", i, 0), small)).collect();
		for (other, amount) in others.iter() {
			Votes::<T>::insert(id, other, (true, *amount));
		}
		Proposals::<T>::mutate(id, |p| {
			if let Some(p) = p {
				p.ayes = small.saturating_mul(T::MaxVoters::get().into());
			}
		});
		Voters::<T>::insert(id, BoundedVec::truncate_from(others));
		let amount = small.saturating_add(1_000u32.into());

		#[extrinsic_call]
		_(RawOrigin::Signed(voter.clone()), id, true, amount);

		assert!(Votes::<T>::contains_key(id, &voter));
	}

	#[benchmark]
	fn remove_vote() {
		let id = proposal::<T>();
		let voter = holder::<T>("voter", 0);
		fill_votes_of::<T>(&voter, 1);
		assert!(Pallet::<T>::vote(
			RawOrigin::Signed(voter.clone()).into(),
			id,
			true,
			T::MinVote::get().saturating_add(1_000u32.into())
		)
		.is_ok());

		#[extrinsic_call]
		_(RawOrigin::Signed(voter.clone()), id);

		assert!(!Votes::<T>::contains_key(id, &voter));
	}

	/// Closing a proposal with `v` voters that approves it.
	#[benchmark]
	fn close_proposal(v: Linear<1, { T::MaxVoters::get() }>) {
		let id = proposal::<T>();
		T::Currency::set_balance(
			&Pallet::<T>::account_id(),
			BalanceOf::<T>::max_value() / 1_000u32.into(),
		);
		for i in 0..v {
			let voter = holder::<T>("voter", i);
			fill_votes_of::<T>(&voter, 1);
			// Half of each holder's AICG: enough turnout for the quorum.
			let amount = GovBalanceOf::<T>::max_value() / 2_000_000u32.into();
			assert!(Pallet::<T>::vote(RawOrigin::Signed(voter).into(), id, true, amount).is_ok());
		}
		let ends_at = Proposals::<T>::get(id).map(|p| p.ends_at).unwrap_or_default();
		frame_system::Pallet::<T>::set_block_number(ends_at);

		#[block]
		{
			Pallet::<T>::close(id);
		}

		assert!(!Proposals::<T>::contains_key(id));
		assert!(ActiveSubsidies::<T>::get().iter().any(|s| s.id == id));
	}

	/// Claiming a share of a closed period's pool (what a provider's next contribution also
	/// does at settlement).
	#[benchmark]
	fn claim_period_reward() {
		// A new account (its AICG account is created by the mint), with room under the cap.
		let provider: T::AccountId = account("provider", 0, 0);
		let work = T::ContributionThreshold::get();
		let pool = T::GovernanceCurrency::minimum_balance().saturating_mul(10u32.into());
		Pallet::<T>::record_contribution(&provider, work, pool);
		let next = T::RewardPeriod::get().saturating_mul(2u32.into());
		frame_system::Pallet::<T>::set_block_number(next);
		let before = T::GovernanceCurrency::balance(&provider);

		#[extrinsic_call]
		_(RawOrigin::Signed(provider.clone()));

		assert!(T::GovernanceCurrency::balance(&provider) > before);
		assert!(!Contributions::<T>::contains_key(&provider));
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::ExtBuilder.build(), crate::mock::Test);
}
