//! The fund's records and what it tells clients.

use aicchain_primitives::{SubsidyId, SubsidyScope};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_runtime::Perbill;

/// What a subsidy proposal asks the fund to pay.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct SubsidyTerms<Balance, BlockNumber> {
	/// Share of each covered job's cost the fund pays (the seed demo votes 50%).
	pub share: Perbill,
	/// Which jobs are covered.
	pub scope: SubsidyScope,
	/// Most the fund pays for one job.
	pub per_job_cap: Balance,
	/// Most the fund pays in all.
	pub total_budget: Balance,
	/// Blocks the subsidy stays active once approved.
	pub duration: BlockNumber,
}

/// What the fund holds and has promised, for clients (see [`CommunityFundApi`]).
#[derive(Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, Debug)]
pub struct FundStatus<AccountId, Balance, BlockNumber> {
	/// The fund's account.
	pub account: AccountId,
	/// Its AICC balance.
	pub balance: Balance,
	/// What active subsidies may still pay out.
	pub committed: Balance,
	/// What it can spend beyond its commitments.
	pub uncommitted: Balance,
	/// The subsidies paying out.
	pub active_subsidies: alloc::vec::Vec<Subsidy<Balance, BlockNumber>>,
}

sp_api::decl_runtime_apis! {
	/// Reads of the community fund for RPC clients.
	pub trait CommunityFundApi<AccountId, Balance, BlockNumber>
	where
		AccountId: codec::Codec,
		Balance: codec::Codec,
		BlockNumber: codec::Codec,
	{
		/// Balance, commitments and active subsidies of the fund.
		fn fund_status() -> FundStatus<AccountId, Balance, BlockNumber>;
		/// An account's contribution points in the reward period, and what it may claim.
		fn contribution(who: AccountId) -> crate::ContributionView<Balance, BlockNumber>;
	}
}

/// A proposal being voted on.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct SubsidyProposal<AccountId, Balance, GovBalance, BlockNumber> {
	pub proposer: AccountId,
	/// AICG held from the proposer until the vote closes.
	pub deposit: GovBalance,
	pub terms: SubsidyTerms<Balance, BlockNumber>,
	/// AICG voting for and against.
	pub ayes: GovBalance,
	pub nays: GovBalance,
	/// Block at which voting closes.
	pub ends_at: BlockNumber,
}

/// An approved subsidy, paying out.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct Subsidy<Balance, BlockNumber> {
	pub id: SubsidyId,
	pub share: Perbill,
	pub scope: SubsidyScope,
	pub per_job_cap: Balance,
	/// Budget not yet paid out: committed by the fund.
	pub remaining: Balance,
	/// Paid out so far.
	pub paid: Balance,
	/// Last block the subsidy covers.
	pub ends_at: BlockNumber,
}
