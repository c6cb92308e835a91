//! Reads of paid inference for RPC clients (`InferenceApi`), executed by the node off-chain.

use crate::{pallet::*, Config};
use aicchain_primitives::{Channel, Listing, ModelId, NodeId, VersionId};
use alloc::vec::Vec;
use codec::Codec;

sp_api::decl_runtime_apis! {
	/// Listings, channels and dividends.
	pub trait InferenceApi<AccountId, Balance, BlockNumber>
	where
		AccountId: Codec,
		Balance: Codec,
		BlockNumber: Codec,
	{
		/// A version's listing and the nodes serving it.
		fn listing(version: VersionId) -> Option<(Listing<AccountId, Balance>, Vec<NodeId>)>;
		/// A user's channel to a node.
		fn channel(user: AccountId, node: NodeId) -> Option<Channel<Balance, BlockNumber>>;
		/// Dividends an account may claim, and what it earned in all.
		fn earnings(who: AccountId) -> (Balance, Balance);
		/// What queries of a model's versions paid in all.
		fn model_revenue(model: ModelId) -> Balance;
	}
}

impl<T: Config> Pallet<T> {
	pub fn api_listing(version: VersionId) -> Option<(crate::ListingOf<T>, Vec<NodeId>)> {
		Listings::<T>::get(version).map(|l| (l, Servers::<T>::get(version).into_inner()))
	}
	pub fn api_earnings(who: &T::AccountId) -> (crate::BalanceOf<T>, crate::BalanceOf<T>) {
		(Owed::<T>::get(who), Earned::<T>::get(who))
	}
}
