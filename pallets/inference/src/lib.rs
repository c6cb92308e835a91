//! # Paid inference
//!
//! A model's owner (anyone, for a public model) lists a version with a price per query
//! ([`Pallet::list`]); providers whose engines hold the version announce that a node serves it
//! ([`Pallet::serve`]). A user prepays AICC into a channel to a node ([`Pallet::fund_channel`],
//! held with reason [`HoldReason::Channel`]) and then pays per query off chain: each query
//! carries a [`Voucher`] the user signed (node, version, nonce, price, hash of the input), so an
//! answer takes an HTTP round trip, not a block. The node's owner redeems vouchers in batches,
//! one transaction per batch ([`Pallet::redeem`]).
//!
//! A batch's AICC is split: [`Config::FundShare`] to the community fund,
//! [`Config::ContributorShare`] to the contributors of the version's lineage (whoever paid for
//! the training of the version and of its ancestors, in proportion to what each paid), the rest
//! to the provider. Contributors' dividends stay in the pallet's account until they
//! [`Pallet::claim`] them.
//!
//! ## Attacks and choices
//! - A user is never charged for a query it did not sign: every voucher's sr25519 signature is
//!   checked against the user over the domain, the genesis hash and the voucher
//!   (`BadSignature`).
//! - A voucher is redeemed at most once: nonces per (user, node) channel must increase
//!   (`Replayed`), within a batch too.
//! - Over-budget vouchers are refused (`InsufficientDeposit`); the user cannot pull its deposit
//!   from under answered queries: closing ([`Pallet::close_channel`]) leaves `CloseDelay`
//!   blocks for the provider to redeem before [`Pallet::withdraw`]. Engines take no new
//!   vouchers on a closing channel.
//! - A voucher below the listed price is refused (`PriceBelowListing`): a provider cannot sell
//!   the lineage's work cheaper than its lister set.
//! - A provider that took payment and did not answer: the user puts the query on chain
//!   ([`Pallet::challenge`], with a deposit); the node's owner must publish the answer
//!   ([`Pallet::answer`]) within `AnswerWindow` blocks, or prove the user signed another
//!   voucher with that nonce ([`Pallet::refute`]); otherwise anyone may
//!   [`Pallet::expire_challenge`]: the user gets its deposit back and the voucher's price from
//!   the node's bond. An answered or refuted challenge's deposit goes to the provider, so forcing
//!   answers on chain costs the challenger. The chain does not judge an answer's correctness:
//!   it is public, and a public model's answers are a deterministic evaluation anyone can redo.
//! - Every amount is exact to the planck: the dividends' rounding remainder goes to the served
//!   version's trainer, and `try_state` checks that claims plus what is owed equal what accrued,
//!   and that the pallet's account covers what is owed.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;

mod challenges;
#[cfg(any(feature = "try-runtime", test))]
mod invariants;
#[cfg(test)]
mod mock;
mod redeem;
pub mod runtime_api;
#[cfg(test)]
mod tests;
pub mod weights;

pub use weights::WeightInfo;

use aicchain_primitives::{
	Channel, InferenceNodes, Listing, ModelId, NodeId, ServableModels, VersionId, Voucher,
};
use frame_support::{
	pallet_prelude::*,
	traits::{
		fungible::{Inspect, InspectHold, Mutate, MutateHold},
		tokens::Precision,
	},
	PalletId,
};
use frame_system::pallet_prelude::*;
use sp_runtime::{
	traits::{AccountIdConversion, CheckedAdd, IdentifyAccount, Saturating, Verify, Zero},
	Perbill,
};

/// The AICC balance type.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
/// A voucher as this runtime signs it.
pub type VoucherOf<T> = Voucher<<T as frame_system::Config>::AccountId, BalanceOf<T>>;
/// A listing as this runtime stores it.
pub type ListingOf<T> = Listing<<T as frame_system::Config>::AccountId, BalanceOf<T>>;
/// A channel as this runtime stores it.
pub type ChannelOf<T> = Channel<BalanceOf<T>, BlockNumberFor<T>>;
/// Identifier of a challenge.
pub type ChallengeId = u64;

/// A query the user put on chain because it says the node took payment and did not answer.
#[derive(Clone, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo, Debug)]
#[scale_info(skip_type_params(MaxQuery))]
pub struct Challenge<AccountId, Balance, BlockNumber, MaxQuery: Get<u32>> {
	/// The voucher the user says went unanswered.
	pub voucher: Voucher<AccountId, Balance>,
	/// The query's input (hashes to the voucher's `query`).
	pub input: BoundedVec<u8, MaxQuery>,
	/// The last block the node's owner may answer or refute in.
	pub deadline: BlockNumber,
	/// What the user holds for it ([`HoldReason::Challenge`]).
	pub deposit: Balance,
}

/// A challenge as this runtime stores it.
pub type ChallengeOf<T> = Challenge<
	<T as frame_system::Config>::AccountId,
	BalanceOf<T>,
	BlockNumberFor<T>,
	<T as Config>::MaxQueryLen,
>;

/// Dividends accrued to contributors and claimed by them, in total.
#[derive(Clone, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo, Debug, Default)]
pub struct DividendTotals<Balance> {
	pub accrued: Balance,
	pub claimed: Balance,
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// The payment currency (AICC).
		type Currency: Mutate<Self::AccountId>
			+ MutateHold<Self::AccountId, Reason = <Self as Config>::RuntimeHoldReason>
			+ InspectHold<Self::AccountId>;
		/// The runtime's hold reasons, which include this pallet's.
		type RuntimeHoldReason: From<HoldReason>;
		/// What users sign vouchers with (sr25519 keys convert into it, for benchmarks).
		type Signature: Verify<Signer = Self::Signer>
			+ Parameter
			+ From<sp_core::sr25519::Signature>;
		/// The signer of [`Config::Signature`], whose account pays.
		type Signer: IdentifyAccount<AccountId = Self::AccountId> + From<sp_core::sr25519::Public>;
		/// The model registry: versions, owners, visibility, lineages.
		type Models: ServableModels<Self::AccountId, BalanceOf<Self>>;
		/// The compute registry: node owners and bonds.
		type Nodes: InferenceNodes<Self::AccountId, BalanceOf<Self>>;
		/// The community fund's account.
		type CommunityFund: Get<Self::AccountId>;
		/// The account that keeps contributors' dividends until claimed.
		#[pallet::constant]
		type PalletId: Get<PalletId>;
		/// The community fund's share of every query's price.
		#[pallet::constant]
		type FundShare: Get<Perbill>;
		/// The contributors' share of every query's price (the provider keeps the rest).
		#[pallet::constant]
		type ContributorShare: Get<Perbill>;
		/// Most versions of a lineage that share dividends (the served version and its nearest
		/// ancestors).
		#[pallet::constant]
		type MaxContributors: Get<u32>;
		/// Most vouchers one redemption settles.
		#[pallet::constant]
		type MaxBatch: Get<u32>;
		/// Most nodes serving one version.
		#[pallet::constant]
		type MaxServers: Get<u32>;
		/// The least a channel is opened with.
		#[pallet::constant]
		type MinChannelDeposit: Get<BalanceOf<Self>>;
		/// Blocks between closing a channel and withdrawing from it: the provider's time to
		/// redeem.
		#[pallet::constant]
		type CloseDelay: Get<BlockNumberFor<Self>>;
		/// What a challenge holds from the challenger.
		#[pallet::constant]
		type ChallengeDeposit: Get<BalanceOf<Self>>;
		/// Blocks a challenged node has to answer.
		#[pallet::constant]
		type AnswerWindow: Get<BlockNumberFor<Self>>;
		/// Longest query input, in bytes.
		#[pallet::constant]
		type MaxQueryLen: Get<u32>;
		/// Longest on-chain answer, in bytes.
		#[pallet::constant]
		type MaxAnswerLen: Get<u32>;
		type WeightInfo: WeightInfo;
	}

	/// Why this pallet holds AICC.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A user's prepaid deposit in a channel.
		Channel,
		/// A challenger's deposit.
		Challenge,
	}

	/// Versions listed for inference.
	#[pallet::storage]
	pub type Listings<T: Config> =
		StorageMap<_, Twox64Concat, VersionId, ListingOf<T>, OptionQuery>;

	/// The nodes serving each listed version.
	#[pallet::storage]
	pub type Servers<T: Config> =
		StorageMap<_, Twox64Concat, VersionId, BoundedVec<NodeId, T::MaxServers>, ValueQuery>;

	/// Users' prepaid channels to nodes.
	#[pallet::storage]
	pub type Channels<T: Config> = StorageDoubleMap<
		_,
		Blake2_128Concat,
		T::AccountId,
		Twox64Concat,
		NodeId,
		ChannelOf<T>,
		OptionQuery,
	>;

	/// Dividends each contributor may claim.
	#[pallet::storage]
	pub type Owed<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, BalanceOf<T>, ValueQuery>;

	/// Dividends each contributor earned in all (claimed or not).
	#[pallet::storage]
	pub type Earned<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, BalanceOf<T>, ValueQuery>;

	/// What queries of each model's versions paid in all.
	#[pallet::storage]
	pub type ModelRevenue<T: Config> =
		StorageMap<_, Twox64Concat, ModelId, BalanceOf<T>, ValueQuery>;

	/// Dividends accrued and claimed, in total.
	#[pallet::storage]
	pub type Totals<T: Config> = StorageValue<_, DividendTotals<BalanceOf<T>>, ValueQuery>;

	/// Open challenges.
	#[pallet::storage]
	pub type Challenges<T: Config> =
		StorageMap<_, Twox64Concat, ChallengeId, ChallengeOf<T>, OptionQuery>;

	/// The next challenge's id.
	#[pallet::storage]
	pub type NextChallengeId<T> = StorageValue<_, ChallengeId, ValueQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A version was listed (or its listing replaced) at `price` per query.
		Listed { version: VersionId, lister: T::AccountId, price: BalanceOf<T> },
		/// A version's listing and servers were removed.
		Unlisted { version: VersionId },
		/// A node serves a listed version.
		Serving { version: VersionId, node: NodeId },
		/// A node stopped serving a version.
		StoppedServing { version: VersionId, node: NodeId },
		/// A user's channel to a node holds `deposit` now.
		ChannelFunded { user: T::AccountId, node: NodeId, deposit: BalanceOf<T> },
		/// A user closed a channel: it may withdraw from block `closes_at`.
		ChannelClosing { user: T::AccountId, node: NodeId, closes_at: BlockNumberFor<T> },
		/// A user withdrew what a closed channel held.
		Withdrawn { user: T::AccountId, node: NodeId, amount: BalanceOf<T> },
		/// A node's owner redeemed `vouchers` vouchers worth `total`, split as shown.
		Redeemed {
			node: NodeId,
			version: VersionId,
			vouchers: u32,
			total: BalanceOf<T>,
			provider: BalanceOf<T>,
			fund: BalanceOf<T>,
			contributors: BalanceOf<T>,
		},
		/// A contributor claimed its dividends.
		Claimed { who: T::AccountId, amount: BalanceOf<T> },
		/// A user challenged a node to answer a paid query on chain.
		Challenged { id: ChallengeId, user: T::AccountId, node: NodeId, nonce: u64 },
		/// The node answered a challenged query.
		Answered { id: ChallengeId, output: BoundedVec<u8, T::MaxAnswerLen> },
		/// The node showed the user signed another voucher with the challenged nonce.
		Refuted { id: ChallengeId },
		/// The node did not answer in time: the user got `refund` from its bond.
		ChallengeUpheld { id: ChallengeId, user: T::AccountId, refund: BalanceOf<T> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No such model version.
		VersionNotFound,
		/// Only the model's owner lists a private model's versions, or replaces another
		/// account's listing.
		NotAllowedToList,
		/// The version is not listed.
		NotListed,
		/// Only the lister or the model's owner may unlist it.
		NotLister,
		/// A price of zero.
		ZeroPrice,
		/// No such node.
		NodeNotFound,
		/// Only the node's owner may do this.
		NotNodeOwner,
		/// The node's owner may not fetch the (private) model's weights.
		CannotFetch,
		/// The node serves the version already.
		AlreadyServing,
		/// The node does not serve the version.
		NotServing,
		/// The version has `MaxServers` nodes already.
		TooManyServers,
		/// A channel must be opened with at least `MinChannelDeposit`.
		DepositTooSmall,
		/// No channel from this user to this node.
		ChannelNotFound,
		/// The channel is not closing, or its delay has not passed.
		NotWithdrawable,
		/// An empty batch.
		EmptyBatch,
		/// A voucher for another node or version than the batch's.
		WrongVoucher,
		/// A voucher whose signature does not verify against its user.
		BadSignature,
		/// A voucher whose nonce was redeemed already (or is not above the batch's previous one).
		Replayed,
		/// A voucher paying less than the listed price.
		PriceBelowListing,
		/// The channel holds less than the voucher pays.
		InsufficientDeposit,
		/// Nothing to claim.
		NothingToClaim,
		/// The input does not hash to the voucher's query.
		QueryMismatch,
		/// Only the voucher's user may challenge it.
		NotYourVoucher,
		/// The voucher was not redeemed (the node was not paid for it).
		NotRedeemed,
		/// No such challenge.
		ChallengeNotFound,
		/// The answer window has not ended.
		AnswerWindowOpen,
		/// The answer window has ended.
		AnswerWindowClosed,
		/// The voucher shown is the challenged one (or another channel's): no equivocation.
		NotEquivocation,
		/// An amount or id overflowed.
		Overflow,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Lists `version` at `price` per query (replacing its listing's price). Origin: the
		/// model's owner, or anyone for a public model's version that nobody listed. Errors:
		/// `VersionNotFound`, `NotAllowedToList`, `ZeroPrice`.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::list())]
		pub fn list(
			origin: OriginFor<T>,
			version: VersionId,
			price: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(!price.is_zero(), Error::<T>::ZeroPrice);
			let served = T::Models::served_version(version).ok_or(Error::<T>::VersionNotFound)?;
			let owner = served.owner == who;
			let current = Listings::<T>::get(version);
			let may = owner || (served.public && current.as_ref().is_none_or(|l| l.lister == who));
			ensure!(may, Error::<T>::NotAllowedToList);
			let listing = Listing {
				lister: who.clone(),
				price,
				model: served.model,
				model_hash: served.model_hash,
				spec: served.spec,
			};
			Listings::<T>::insert(version, listing);
			Self::deposit_event(Event::Listed { version, lister: who, price });
			Ok(())
		}

		/// Removes `version`'s listing and its servers. Origin: the lister or the model's owner.
		/// Vouchers for it can no longer be redeemed. Errors: `NotListed`, `NotLister`.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::unlist())]
		pub fn unlist(origin: OriginFor<T>, version: VersionId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let listing = Listings::<T>::get(version).ok_or(Error::<T>::NotListed)?;
			let owner = T::Models::served_version(version).map(|v| v.owner);
			ensure!(listing.lister == who || owner == Some(who), Error::<T>::NotLister);
			Listings::<T>::remove(version);
			Servers::<T>::remove(version);
			Self::deposit_event(Event::Unlisted { version });
			Ok(())
		}

		/// Announces that `node`'s engine serves the listed `version`. Origin: the node's owner,
		/// who must be allowed to fetch the model. Errors: `NotListed`, `NodeNotFound`,
		/// `NotNodeOwner`, `CannotFetch`, `AlreadyServing`, `TooManyServers`.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::serve())]
		pub fn serve(origin: OriginFor<T>, version: VersionId, node: NodeId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(Listings::<T>::contains_key(version), Error::<T>::NotListed);
			Self::ensure_node_owner(&who, node)?;
			ensure!(T::Models::can_fetch(version, &who), Error::<T>::CannotFetch);
			Servers::<T>::try_mutate(version, |servers| {
				ensure!(!servers.contains(&node), Error::<T>::AlreadyServing);
				servers.try_push(node).map_err(|_| Error::<T>::TooManyServers)
			})?;
			Self::deposit_event(Event::Serving { version, node });
			Ok(())
		}

		/// `node` stops serving `version`. Origin: the node's owner. Errors: `NodeNotFound`,
		/// `NotNodeOwner`, `NotServing`.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::stop_serving())]
		pub fn stop_serving(
			origin: OriginFor<T>,
			version: VersionId,
			node: NodeId,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::ensure_node_owner(&who, node)?;
			Servers::<T>::try_mutate(version, |servers| {
				let before = servers.len();
				servers.retain(|n| *n != node);
				ensure!(servers.len() < before, Error::<T>::NotServing);
				Ok::<_, Error<T>>(())
			})?;
			Self::deposit_event(Event::StoppedServing { version, node });
			Ok(())
		}

		/// Adds `amount` to the caller's channel to `node` (opening it: at least
		/// `MinChannelDeposit`; reopening it if it was closing). Errors: `NodeNotFound`,
		/// `DepositTooSmall`, and the currency's if the caller cannot hold `amount`.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::fund_channel())]
		pub fn fund_channel(
			origin: OriginFor<T>,
			node: NodeId,
			amount: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(T::Nodes::owner(node).is_some(), Error::<T>::NodeNotFound);
			let mut channel = Channels::<T>::get(&who, node).unwrap_or_default();
			let deposit = channel.deposit.checked_add(&amount).ok_or(Error::<T>::Overflow)?;
			ensure!(
				!amount.is_zero() && deposit >= T::MinChannelDeposit::get(),
				Error::<T>::DepositTooSmall
			);
			T::Currency::hold(&HoldReason::Channel.into(), &who, amount)?;
			channel.deposit = deposit;
			channel.closes_at = None;
			Channels::<T>::insert(&who, node, channel);
			Self::deposit_event(Event::ChannelFunded { user: who, node, deposit });
			Ok(())
		}

		/// Starts closing the caller's channel to `node`: it may withdraw after `CloseDelay`
		/// blocks, during which the node's owner may still redeem. Errors: `ChannelNotFound`.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::close_channel())]
		pub fn close_channel(origin: OriginFor<T>, node: NodeId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut channel = Channels::<T>::get(&who, node).ok_or(Error::<T>::ChannelNotFound)?;
			let closes_at =
				frame_system::Pallet::<T>::block_number().saturating_add(T::CloseDelay::get());
			channel.closes_at = Some(closes_at);
			Channels::<T>::insert(&who, node, channel);
			Self::deposit_event(Event::ChannelClosing { user: who, node, closes_at });
			Ok(())
		}

		/// Releases what the caller's closed channel to `node` holds. The channel keeps its
		/// nonce, so vouchers redeemed before stay redeemed. Errors: `ChannelNotFound`,
		/// `NotWithdrawable` (not closing, or the delay has not passed).
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::withdraw())]
		pub fn withdraw(origin: OriginFor<T>, node: NodeId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut channel = Channels::<T>::get(&who, node).ok_or(Error::<T>::ChannelNotFound)?;
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(channel.closes_at.is_some_and(|at| at <= now), Error::<T>::NotWithdrawable);
			let amount = channel.deposit;
			T::Currency::release(&HoldReason::Channel.into(), &who, amount, Precision::Exact)?;
			channel.deposit = Zero::zero();
			channel.closes_at = None;
			Channels::<T>::insert(&who, node, channel);
			Self::deposit_event(Event::Withdrawn { user: who, node, amount });
			Ok(())
		}

		/// Redeems `vouchers` for queries `node` answered on `version`: every voucher must name
		/// this node and version, be signed by its user, pay at least the listed price, have a
		/// nonce above its channel's last, and fit in its channel's deposit. All or nothing.
		/// Origin: the node's owner. Errors: `EmptyBatch`, `NodeNotFound`, `NotNodeOwner`,
		/// `NotListed`, `WrongVoucher`, `BadSignature`, `PriceBelowListing`, `ChannelNotFound`,
		/// `Replayed`, `InsufficientDeposit`.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::redeem(vouchers.len() as u32))]
		pub fn redeem(
			origin: OriginFor<T>,
			node: NodeId,
			version: VersionId,
			vouchers: BoundedVec<(VoucherOf<T>, T::Signature), T::MaxBatch>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_redeem(who, node, version, vouchers.into_inner())
		}

		/// Pays the caller the dividends it is owed. Errors: `NothingToClaim`.
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::claim())]
		pub fn claim(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_claim(who)
		}

		/// Puts a paid, unanswered query on chain: the node's owner must answer or refute within
		/// `AnswerWindow` blocks. Holds `ChallengeDeposit`. Origin: the voucher's user. Errors:
		/// `NotYourVoucher`, `QueryMismatch`, `NotRedeemed`, `ChannelNotFound`.
		#[pallet::call_index(9)]
		#[pallet::weight(T::WeightInfo::challenge(input.len() as u32))]
		pub fn challenge(
			origin: OriginFor<T>,
			voucher: VoucherOf<T>,
			input: BoundedVec<u8, T::MaxQueryLen>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_challenge(who, voucher, input)
		}

		/// Answers challenge `id` on chain. Origin: the challenged node's owner. Errors:
		/// `ChallengeNotFound`, `NotNodeOwner`, `AnswerWindowClosed`.
		#[pallet::call_index(10)]
		#[pallet::weight(T::WeightInfo::answer(output.len() as u32))]
		pub fn answer(
			origin: OriginFor<T>,
			id: ChallengeId,
			output: BoundedVec<u8, T::MaxAnswerLen>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_answer(who, id, output)
		}

		/// Dismisses challenge `id` with another voucher the user signed for the same channel
		/// and nonce. Origin: the challenged node's owner. Errors: `ChallengeNotFound`,
		/// `NotNodeOwner`, `AnswerWindowClosed`, `NotEquivocation`, `BadSignature`.
		#[pallet::call_index(11)]
		#[pallet::weight(T::WeightInfo::refute())]
		pub fn refute(
			origin: OriginFor<T>,
			id: ChallengeId,
			voucher: VoucherOf<T>,
			signature: T::Signature,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_refute(who, id, voucher, signature)
		}

		/// Upholds challenge `id` once its answer window has passed unanswered: the user gets
		/// its deposit back and the voucher's price from the node's bond. Any origin. Errors:
		/// `ChallengeNotFound`, `AnswerWindowOpen`.
		#[pallet::call_index(12)]
		#[pallet::weight(T::WeightInfo::expire_challenge())]
		pub fn expire_challenge(origin: OriginFor<T>, id: ChallengeId) -> DispatchResult {
			ensure_signed(origin)?;
			Self::do_expire(id)
		}
	}
}

impl<T: Config> Pallet<T> {
	/// The account that keeps contributors' dividends until they claim them.
	pub fn account_id() -> T::AccountId {
		T::PalletId::get().into_account_truncating()
	}

	fn ensure_node_owner(who: &T::AccountId, node: NodeId) -> DispatchResult {
		let owner = T::Nodes::owner(node).ok_or(Error::<T>::NodeNotFound)?;
		ensure!(owner == *who, Error::<T>::NotNodeOwner);
		Ok(())
	}
}
