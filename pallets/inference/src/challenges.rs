//! Challenges: a user says a node took payment for a query and did not answer; the node
//! answers on chain, shows the user equivocated, or pays the price from its bond.

use crate::*;
use aicchain_primitives::inference::query_hash;
use frame_support::traits::tokens::{Fortitude, Restriction};

impl<T: Config> Pallet<T> {
	pub(crate) fn do_challenge(
		who: T::AccountId,
		voucher: VoucherOf<T>,
		input: BoundedVec<u8, T::MaxQueryLen>,
	) -> DispatchResult {
		ensure!(voucher.user == who, Error::<T>::NotYourVoucher);
		ensure!(query_hash(&input) == voucher.query, Error::<T>::QueryMismatch);
		let channel = Channels::<T>::get(&who, voucher.node).ok_or(Error::<T>::ChannelNotFound)?;
		ensure!(voucher.nonce > 0 && voucher.nonce <= channel.nonce, Error::<T>::NotRedeemed);
		let id = NextChallengeId::<T>::get();
		NextChallengeId::<T>::put(id.checked_add(1).ok_or(Error::<T>::Overflow)?);
		let deposit = T::ChallengeDeposit::get();
		T::Currency::hold(&HoldReason::Challenge.into(), &who, deposit)?;
		let deadline =
			frame_system::Pallet::<T>::block_number().saturating_add(T::AnswerWindow::get());
		let (node, nonce) = (voucher.node, voucher.nonce);
		Challenges::<T>::insert(id, Challenge { voucher, input, deadline, deposit });
		Self::deposit_event(Event::Challenged { id, user: who, node, nonce });
		Ok(())
	}

	/// The open challenge `id` to `who`'s node, within its answer window.
	fn answerable(who: &T::AccountId, id: ChallengeId) -> Result<ChallengeOf<T>, DispatchError> {
		let challenge = Challenges::<T>::get(id).ok_or(Error::<T>::ChallengeNotFound)?;
		Self::ensure_node_owner(who, challenge.voucher.node)?;
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now <= challenge.deadline, Error::<T>::AnswerWindowClosed);
		Ok(challenge)
	}

	/// Closes a challenge the node met: its deposit pays the node's owner for the answer.
	fn dismiss(who: &T::AccountId, id: ChallengeId, challenge: &ChallengeOf<T>) -> DispatchResult {
		T::Currency::transfer_on_hold(
			&HoldReason::Challenge.into(),
			&challenge.voucher.user,
			who,
			challenge.deposit,
			Precision::BestEffort,
			Restriction::Free,
			Fortitude::Force,
		)?;
		Challenges::<T>::remove(id);
		Ok(())
	}

	pub(crate) fn do_answer(
		who: T::AccountId,
		id: ChallengeId,
		output: BoundedVec<u8, T::MaxAnswerLen>,
	) -> DispatchResult {
		let challenge = Self::answerable(&who, id)?;
		Self::dismiss(&who, id, &challenge)?;
		Self::deposit_event(Event::Answered { id, output });
		Ok(())
	}

	pub(crate) fn do_refute(
		who: T::AccountId,
		id: ChallengeId,
		other: VoucherOf<T>,
		signature: T::Signature,
	) -> DispatchResult {
		let challenge = Self::answerable(&who, id)?;
		let same_slot = other.user == challenge.voucher.user
			&& other.node == challenge.voucher.node
			&& other.nonce == challenge.voucher.nonce;
		ensure!(same_slot && other != challenge.voucher, Error::<T>::NotEquivocation);
		ensure!(Self::verifies(&other, &signature), Error::<T>::BadSignature);
		Self::dismiss(&who, id, &challenge)?;
		Self::deposit_event(Event::Refuted { id });
		Ok(())
	}

	pub(crate) fn do_expire(id: ChallengeId) -> DispatchResult {
		let challenge = Challenges::<T>::get(id).ok_or(Error::<T>::ChallengeNotFound)?;
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now > challenge.deadline, Error::<T>::AnswerWindowOpen);
		let user = challenge.voucher.user.clone();
		T::Currency::release(
			&HoldReason::Challenge.into(),
			&user,
			challenge.deposit,
			Precision::BestEffort,
		)?;
		let refund = T::Nodes::slash(challenge.voucher.node, challenge.voucher.price, &user);
		Challenges::<T>::remove(id);
		Self::deposit_event(Event::ChallengeUpheld { id, user, refund });
		Ok(())
	}
}
