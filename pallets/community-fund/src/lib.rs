//! # Community fund pallet
//!
//! The community fund is this pallet's account (`PalletId`). It receives the 10% share of every
//! settled job and slashed provider bonds; AICG holders decide what it pays for.
//!
//! - `propose_subsidy`: an AICG holder, holding `ProposalDeposit` AICG, proposes that the fund pay
//!   a share of the cost of the jobs in a scope, capped per job, up to a total budget, for a
//!   number of blocks.
//! - `vote(proposal, aye, amount)`: the amount of AICG is frozen (fungible freezes, one freeze per
//!   account covering its largest vote) until the vote closes; `vote` again changes it,
//!   `remove_vote` withdraws it.
//! - When `VotingPeriod` ends (`on_initialize`), a proposal is approved if turnout reaches `Quorum`
//!   of the AICG supply, ayes pass `ApprovalThreshold` of the votes cast, and the fund can cover
//!   its budget on top of what it has already committed. Freezes are released; the deposit is
//!   returned, except when turnout missed the quorum: then it is burnt, so that filling the
//!   `MaxOpenProposals` slots with proposals nobody supports costs the spammer.
//! - A vote needs at least `MinVote` AICG. When a proposal has `MaxVoters` voters, a new vote
//!   larger than the smallest one replaces it (its freeze is released): dust votes cannot lock
//!   holders out of a proposal.
//! - Approved subsidies are claimed at settlement by the jobs pallet ([`aicchain_primitives::SubsidyHandler`]); one
//!   stops when its budget runs out or its duration ends. The fund never commits more than it
//!   holds.
//! - AICG rewards ([`aicchain_primitives::ContributionRewards`]): `RewardRate` AICG per AICC the fund *kept* from a
//!   verified job (its share less the subsidy and bonus it paid back out), `VerifierRewardShare`
//!   of it split among the verifiers whose verdict the chain reached, the rest to the provider;
//!   never beyond `MaxAicgSupply`. AICG is never minted against declared hours: governance power
//!   always costs AICC paid into the fund. A wash trade through a subsidy takes at most the
//!   subsidy's voted `total_budget`, and mints no AICG while the subsidy exceeds the fund's share.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod period_tests;
#[cfg(test)]
mod tests;
pub mod weights;
pub use weights::WeightInfo;
mod invariants;
mod payouts;
mod periods;
mod types;
mod voting;

pub use periods::{Contribution, ContributionView, PeriodTotals};
pub use types::*;

use aicchain_primitives::SubsidyId;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::traits::fungible;
use scale_info::TypeInfo;
use sp_runtime::Perbill;

/// AICC balance.
pub type BalanceOf<T> =
	<<T as Config>::Currency as fungible::Inspect<<T as frame_system::Config>::AccountId>>::Balance;
/// AICG balance.
pub type GovBalanceOf<T> = <<T as Config>::GovernanceCurrency as fungible::Inspect<
	<T as frame_system::Config>::AccountId,
>>::Balance;
pub type BlockNumberOf<T> = frame_system::pallet_prelude::BlockNumberFor<T>;
pub type ProposalOf<T> = SubsidyProposal<
	<T as frame_system::Config>::AccountId,
	BalanceOf<T>,
	GovBalanceOf<T>,
	BlockNumberOf<T>,
>;
pub type SubsidyOf<T> = Subsidy<BalanceOf<T>, BlockNumberOf<T>>;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{Inspect, InspectFreeze, Mutate, MutateFreeze, MutateHold},
			tokens::{Fortitude, Preservation},
		},
		PalletId,
	};
	use frame_system::pallet_prelude::*;
	use sp_runtime::traits::{AccountIdConversion, Saturating, Zero};

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// AICC: what the fund holds and pays.
		type Currency: Mutate<Self::AccountId>;

		/// AICG: deposits (holds), voting weight (freezes) and contributor rewards (mint).
		type GovernanceCurrency: Mutate<Self::AccountId>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ MutateFreeze<Self::AccountId, Id = Self::RuntimeFreezeReason>
			+ InspectFreeze<Self::AccountId>;

		type RuntimeHoldReason: From<HoldReason>;
		type RuntimeFreezeReason: From<FreezeReason>;

		/// The fund's account id.
		#[pallet::constant]
		type PalletId: Get<PalletId>;
		/// AICG held from a proposer until the vote closes.
		#[pallet::constant]
		type ProposalDeposit: Get<GovBalanceOf<Self>>;
		/// Blocks a proposal is open for votes.
		#[pallet::constant]
		type VotingPeriod: Get<BlockNumberFor<Self>>;
		/// Turnout needed, as a share of the AICG supply.
		#[pallet::constant]
		type Quorum: Get<Perbill>;
		/// Share of the votes cast that ayes must exceed.
		#[pallet::constant]
		type ApprovalThreshold: Get<Perbill>;
		/// Largest share of a job's cost a subsidy may cover.
		#[pallet::constant]
		type MaxSubsidyShare: Get<Perbill>;
		/// Most proposals open at once.
		#[pallet::constant]
		type MaxOpenProposals: Get<u32>;
		/// Most subsidies active at once.
		#[pallet::constant]
		type MaxActiveSubsidies: Get<u32>;
		/// Most voters on one proposal.
		#[pallet::constant]
		type MaxVoters: Get<u32>;
		/// AICG (smallest units) minted per AICC (smallest unit) the fund keeps from a job.
		#[pallet::constant]
		type RewardRate: Get<u32>;
		/// Share of a job's AICG reward split among its verifiers.
		#[pallet::constant]
		type VerifierRewardShare: Get<Perbill>;
		/// Smallest vote, in AICG.
		#[pallet::constant]
		type MinVote: Get<GovBalanceOf<Self>>;
		/// AICG supply that rewards never exceed.
		#[pallet::constant]
		type MaxAicgSupply: Get<GovBalanceOf<Self>>;
		/// Blocks per reward period: providers' AICG rewards are pooled per period and paid
		/// after it ends ([`periods`]).
		#[pallet::constant]
		type RewardPeriod: Get<BlockNumberFor<Self>>;
		/// Contribution points (AICC the fund kept from a provider's verified jobs) a provider
		/// needs in a period to share its pool; fewer roll over to the next period.
		#[pallet::constant]
		type ContributionThreshold: Get<BalanceOf<Self>>;

		type WeightInfo: WeightInfo;
	}

	#[pallet::composite_enum]
	pub enum HoldReason {
		/// AICG deposit of a subsidy proposal.
		ProposalDeposit,
	}

	#[pallet::composite_enum]
	pub enum FreezeReason {
		/// AICG backing subsidy votes.
		SubsidyVote,
	}

	#[pallet::storage]
	pub type NextProposalId<T: Config> = StorageValue<_, SubsidyId, ValueQuery>;

	/// Proposals open for votes.
	#[pallet::storage]
	pub type Proposals<T: Config> =
		CountedStorageMap<_, Twox64Concat, SubsidyId, ProposalOf<T>, OptionQuery>;

	/// Votes on open proposals: (aye, AICG).
	#[pallet::storage]
	pub type Votes<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		SubsidyId,
		Blake2_128Concat,
		T::AccountId,
		(bool, GovBalanceOf<T>),
		OptionQuery,
	>;

	/// Who voted on an open proposal, with how much (so closing can release their freezes and a
	/// larger vote can displace the smallest on a full proposal).
	#[pallet::storage]
	pub type Voters<T: Config> = StorageMap<
		_,
		Twox64Concat,
		SubsidyId,
		BoundedVec<(T::AccountId, GovBalanceOf<T>), T::MaxVoters>,
		ValueQuery,
	>;

	/// The open proposals an account voted on, with the AICG of each vote; its freeze is the
	/// largest of them.
	#[pallet::storage]
	pub type VotesOf<T: Config> = StorageMap<
		_,
		Blake2_128Concat,
		T::AccountId,
		BoundedVec<(SubsidyId, GovBalanceOf<T>), T::MaxOpenProposals>,
		ValueQuery,
	>;

	/// Approved subsidies paying out.
	#[pallet::storage]
	pub type ActiveSubsidies<T: Config> =
		StorageValue<_, BoundedVec<SubsidyOf<T>, T::MaxActiveSubsidies>, ValueQuery>;

	/// Each provider's contribution points: the period they were last added in, and whether
	/// they reached the threshold there ([`periods`]).
	#[pallet::storage]
	pub type Contributions<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, Contribution<BalanceOf<T>>, OptionQuery>;

	/// Each reward period's pool, points and payouts.
	#[pallet::storage]
	pub type Periods<T: Config> =
		StorageMap<_, Twox64Concat, u32, PeriodTotals<BalanceOf<T>, GovBalanceOf<T>>, ValueQuery>;

	/// The latest period any contribution was recorded in.
	#[pallet::storage]
	pub type LastPeriod<T> = StorageValue<_, u32, ValueQuery>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		#[serde(skip)]
		pub _config: core::marker::PhantomData<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			// The fund account must exist to receive shares smaller than the existential deposit.
			let account = Pallet::<T>::account_id();
			if T::Currency::balance(&account) < T::Currency::minimum_balance() {
				let _ = T::Currency::mint_into(&account, T::Currency::minimum_balance());
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A subsidy was proposed.
		SubsidyProposed {
			proposal_id: SubsidyId,
			proposer: T::AccountId,
			terms: SubsidyTerms<BalanceOf<T>, BlockNumberFor<T>>,
			ends_at: BlockNumberFor<T>,
		},
		/// A vote was cast or changed.
		Voted { proposal_id: SubsidyId, who: T::AccountId, aye: bool, amount: GovBalanceOf<T> },
		/// A vote was withdrawn.
		VoteRemoved { proposal_id: SubsidyId, who: T::AccountId },
		/// Voting closed and the subsidy became active.
		SubsidyApproved { proposal_id: SubsidyId, ayes: GovBalanceOf<T>, nays: GovBalanceOf<T> },
		/// Voting closed without approval.
		SubsidyRejected {
			proposal_id: SubsidyId,
			ayes: GovBalanceOf<T>,
			nays: GovBalanceOf<T>,
			reason: RejectionReason,
		},
		/// A job's cost was partly paid by a subsidy.
		SubsidyClaimed { subsidy_id: SubsidyId, amount: BalanceOf<T> },
		/// A subsidy ended: its budget ran out or its time did.
		SubsidyEnded { subsidy_id: SubsidyId, paid: BalanceOf<T> },
		/// AICG was minted to a contributor.
		ContributorRewarded { who: T::AccountId, amount: GovBalanceOf<T> },
		/// A proposal missed the quorum: its AICG deposit was burnt.
		DepositBurnt { proposal_id: SubsidyId, who: T::AccountId, amount: GovBalanceOf<T> },
		/// A larger vote replaced the smallest one on a full proposal.
		VoteDisplaced { proposal_id: SubsidyId, who: T::AccountId, amount: GovBalanceOf<T> },
		/// A provider's verified work added contribution points (`total` in the period, carried
		/// points included) and its AICG reward to the period's pool.
		ContributionRecorded {
			who: T::AccountId,
			period: u32,
			points: BalanceOf<T>,
			total: BalanceOf<T>,
			qualified: bool,
		},
		/// A provider's share of a closed period's pool was minted to it.
		PeriodRewardPaid { who: T::AccountId, period: u32, amount: GovBalanceOf<T> },
		/// A period closed with nobody above the threshold: its pool joins a later period's.
		PoolRolledOver { from: u32, to: u32, amount: GovBalanceOf<T> },
	}

	/// Why a proposal was not approved.
	#[derive(
		Clone,
		Copy,
		PartialEq,
		Eq,
		Encode,
		Decode,
		DecodeWithMemTracking,
		MaxEncodedLen,
		TypeInfo,
		Debug,
	)]
	pub enum RejectionReason {
		/// Turnout was below the quorum.
		NoQuorum,
		/// Ayes did not pass the threshold.
		NotEnoughAyes,
		/// The fund cannot cover the budget on top of its commitments.
		FundTooSmall,
		/// The most subsidies are already active.
		TooManySubsidies,
	}

	#[pallet::error]
	pub enum Error<T> {
		/// Only AICG holders may propose.
		NotAicgHolder,
		/// The proposer cannot cover the AICG deposit.
		InsufficientDeposit,
		/// Share above `MaxSubsidyShare`, or a zero share, cap, budget or duration.
		InvalidTerms,
		/// The most proposals are already open.
		TooManyProposals,
		/// No open proposal has this id.
		ProposalNotFound,
		/// Voting on this proposal has closed.
		VotingClosed,
		/// A vote needs at least `MinVote` AICG.
		VoteBelowMinimum,
		/// The voter does not hold that much AICG.
		InsufficientAicg,
		/// The proposal has the most voters allowed, none with a smaller vote than this one.
		TooManyVoters,
		/// This account has not voted on this proposal.
		NotVoted,
		/// No closed period owes this account a reward: its period is still open, or its points
		/// were below the threshold (they roll over), or it has none.
		NothingToClaim,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			// Open proposals are few (`MaxOpenProposals`): reading them all is the bound.
			let open = u64::from(T::MaxOpenProposals::get()).saturating_add(1);
			let mut weight = T::DbWeight::get().reads(open);
			let due: Vec<SubsidyId> = Proposals::<T>::iter()
				.filter(|(_, p)| p.ends_at <= now)
				.map(|(id, _)| id)
				.collect();
			for id in due {
				Self::close(id);
				weight = weight.saturating_add(T::WeightInfo::close_proposal(T::MaxVoters::get()));
			}
			weight = weight.saturating_add(T::DbWeight::get().reads_writes(1, 1));
			ActiveSubsidies::<T>::mutate(|subsidies| {
				subsidies.retain(|s| {
					let live = s.ends_at >= now;
					if !live {
						Self::deposit_event(Event::SubsidyEnded { subsidy_id: s.id, paid: s.paid });
					}
					live
				})
			});
			weight
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Propose a subsidy paid by the fund.
		///
		/// Origin: an AICG holder, who deposits `ProposalDeposit` AICG until the vote closes.
		/// Errors: `NotAicgHolder`, `InvalidTerms`, `TooManyProposals`, `InsufficientDeposit`.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::propose_subsidy())]
		pub fn propose_subsidy(
			origin: OriginFor<T>,
			terms: SubsidyTerms<BalanceOf<T>, BlockNumberFor<T>>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(!T::GovernanceCurrency::balance(&who).is_zero(), Error::<T>::NotAicgHolder);
			ensure!(
				!terms.share.is_zero()
					&& terms.share <= T::MaxSubsidyShare::get()
					&& !terms.per_job_cap.is_zero()
					&& !terms.total_budget.is_zero()
					&& !terms.duration.is_zero(),
				Error::<T>::InvalidTerms
			);
			ensure!(
				Proposals::<T>::count() < T::MaxOpenProposals::get(),
				Error::<T>::TooManyProposals
			);
			let deposit = T::ProposalDeposit::get();
			T::GovernanceCurrency::hold(&HoldReason::ProposalDeposit.into(), &who, deposit)
				.map_err(|_| Error::<T>::InsufficientDeposit)?;
			let id = NextProposalId::<T>::get();
			let ends_at =
				frame_system::Pallet::<T>::block_number().saturating_add(T::VotingPeriod::get());
			Proposals::<T>::insert(
				id,
				SubsidyProposal {
					proposer: who.clone(),
					deposit,
					terms: terms.clone(),
					ayes: Zero::zero(),
					nays: Zero::zero(),
					ends_at,
				},
			);
			NextProposalId::<T>::put(id.saturating_add(1));
			Self::deposit_event(Event::SubsidyProposed {
				proposal_id: id,
				proposer: who,
				terms,
				ends_at,
			});
			Ok(())
		}

		/// Vote `aye` or nay with `amount` AICG, which stays frozen until the vote closes.
		/// Voting again replaces the earlier vote.
		///
		/// Origin: an AICG holder. Errors: `ProposalNotFound`, `VotingClosed`, `VoteBelowMinimum`,
		/// `InsufficientAicg`, `TooManyVoters`.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::vote())]
		pub fn vote(
			origin: OriginFor<T>,
			proposal_id: SubsidyId,
			aye: bool,
			amount: GovBalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut proposal =
				Proposals::<T>::get(proposal_id).ok_or(Error::<T>::ProposalNotFound)?;
			ensure!(
				frame_system::Pallet::<T>::block_number() < proposal.ends_at,
				Error::<T>::VotingClosed
			);
			ensure!(!amount.is_zero() && amount >= T::MinVote::get(), Error::<T>::VoteBelowMinimum);
			ensure!(T::GovernanceCurrency::balance(&who) >= amount, Error::<T>::InsufficientAicg);

			let mut voters = Voters::<T>::get(proposal_id);
			let mut votes_of = VotesOf::<T>::get(&who);
			match Votes::<T>::get(proposal_id, &who) {
				Some((was_aye, was)) => {
					Self::untally(&mut proposal, was_aye, was);
					voters.retain(|(v, _)| *v != who);
				},
				None if voters.is_full() => {
					Self::displace_smallest(proposal_id, &mut proposal, &mut voters, amount)?;
				},
				None => {},
			}
			voters.try_push((who.clone(), amount)).map_err(|_| Error::<T>::TooManyVoters)?;
			votes_of.retain(|(id, _)| *id != proposal_id);
			// Bounded by `MaxOpenProposals`, which also bounds the proposals one can vote on.
			votes_of.try_push((proposal_id, amount)).map_err(|_| Error::<T>::TooManyVoters)?;
			Self::set_vote_freeze(&who, &votes_of)?;
			if aye {
				proposal.ayes = proposal.ayes.saturating_add(amount);
			} else {
				proposal.nays = proposal.nays.saturating_add(amount);
			}
			Votes::<T>::insert(proposal_id, &who, (aye, amount));
			Voters::<T>::insert(proposal_id, voters);
			VotesOf::<T>::insert(&who, votes_of);
			Proposals::<T>::insert(proposal_id, proposal);
			Self::deposit_event(Event::Voted { proposal_id, who, aye, amount });
			Ok(())
		}

		/// Withdraw a vote before the proposal closes; the AICG it froze is released.
		///
		/// Origin: the voter. Errors: `ProposalNotFound`, `VotingClosed`, `NotVoted`.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::remove_vote())]
		pub fn remove_vote(origin: OriginFor<T>, proposal_id: SubsidyId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut proposal =
				Proposals::<T>::get(proposal_id).ok_or(Error::<T>::ProposalNotFound)?;
			ensure!(
				frame_system::Pallet::<T>::block_number() < proposal.ends_at,
				Error::<T>::VotingClosed
			);
			let (aye, amount) = Votes::<T>::get(proposal_id, &who).ok_or(Error::<T>::NotVoted)?;
			Self::untally(&mut proposal, aye, amount);
			let mut votes_of = VotesOf::<T>::get(&who);
			votes_of.retain(|(id, _)| *id != proposal_id);
			Self::set_vote_freeze(&who, &votes_of)?;
			Votes::<T>::remove(proposal_id, &who);
			Voters::<T>::mutate(proposal_id, |voters| voters.retain(|(v, _)| *v != who));
			Self::store_votes_of(&who, votes_of);
			Proposals::<T>::insert(proposal_id, proposal);
			Self::deposit_event(Event::VoteRemoved { proposal_id, who });
			Ok(())
		}

		/// Claim your share of a closed reward period's pool (also paid when your next
		/// contribution is recorded).
		///
		/// Origin: the provider. Errors: `NothingToClaim`.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::claim_period_reward())]
		pub fn claim_period_reward(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let period = Self::current_period();
			Self::settle_contribution(&who, period).ok_or(Error::<T>::NothingToClaim)?;
			Ok(())
		}
	}

	impl<T: Config> Pallet<T> {
		/// The fund's account.
		pub fn account_id() -> T::AccountId {
			T::PalletId::get().into_account_truncating()
		}

		/// AICC in the fund that is not promised to active subsidies.
		pub fn uncommitted_balance() -> BalanceOf<T> {
			let spendable = T::Currency::reducible_balance(
				&Self::account_id(),
				Preservation::Preserve,
				Fortitude::Polite,
			);
			spendable.saturating_sub(Self::committed_total())
		}

		/// The fund's balance, commitments and active subsidies.
		pub fn status() -> FundStatus<T::AccountId, BalanceOf<T>, BlockNumberFor<T>> {
			let account = Self::account_id();
			FundStatus {
				balance: T::Currency::balance(&account),
				account,
				committed: Self::committed_total(),
				uncommitted: Self::uncommitted_balance(),
				active_subsidies: ActiveSubsidies::<T>::get().into_inner(),
			}
		}

		/// What active subsidies may still pay out.
		pub fn committed_total() -> BalanceOf<T> {
			ActiveSubsidies::<T>::get()
				.iter()
				.fold(Zero::zero(), |sum: BalanceOf<T>, s| sum.saturating_add(s.remaining))
		}
	}
}
