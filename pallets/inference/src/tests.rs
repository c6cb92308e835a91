//! Attacks first: every test below fails on a chain without paid inference or with the check it
//! names removed. `build_and_execute` checks the invariants after each.

use crate::{mock::*, Channels, Error, Event, Owed, Totals};
use aicchain_primitives::VersionId;
use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect, InspectHold},
	BoundedVec,
};
use sp_core::Pair;
use sp_runtime::{DispatchError, MultiSignature};

fn origin(who: sp_runtime::AccountId32) -> RuntimeOrigin {
	RuntimeOrigin::signed(who)
}

fn free(who: &sp_runtime::AccountId32) -> Balance {
	Balances::balance(who)
}

/// A root trained by the trainer (cost 1,000), continued by the relayer (cost 3,000): returns
/// (root, child). The model is the trainer's, listed at `PRICE` on the child, served by `NODE`.
fn listed_relay(public: bool) -> (VersionId, VersionId) {
	let root = train(1, trainer(), 1_000, None);
	let child = train(2, relayer(), 3_000, Some(root));
	if public {
		assert_ok!(ModelRegistry::set_public(origin(trainer()), 0, true));
	} else {
		assert_ok!(ModelRegistry::allow(origin(trainer()), 0, provider()));
	}
	assert_ok!(Inference::list(origin(trainer()), child, PRICE));
	assert_ok!(Inference::serve(origin(provider()), child, NODE));
	(root, child)
}

fn batch(
	vouchers: Vec<(crate::VoucherOf<Test>, MultiSignature)>,
) -> BoundedVec<(crate::VoucherOf<Test>, MultiSignature), sp_runtime::traits::ConstU32<MAX_BATCH>> {
	BoundedVec::truncate_from(vouchers)
}

fn signed(
	n: std::ops::RangeInclusive<u64>,
	version: VersionId,
) -> Vec<(crate::VoucherOf<Test>, MultiSignature)> {
	n.map(|nonce| voucher(&key("User"), NODE, version, nonce, PRICE)).collect()
}

#[test]
fn only_the_owner_lists_a_private_version_and_nobody_replaces_another_listing() {
	build_and_execute(|| {
		let root = train(1, trainer(), 1_000, None);
		assert_noop!(Inference::list(origin(user()), root, 5), Error::<Test>::NotAllowedToList);
		assert_noop!(Inference::list(origin(user()), 9, 5), Error::<Test>::VersionNotFound);
		assert_noop!(Inference::list(origin(trainer()), root, 0), Error::<Test>::ZeroPrice);
		assert_ok!(ModelRegistry::set_public(origin(trainer()), 0, true));
		assert_ok!(Inference::list(origin(user()), root, 5));
		// Another account cannot undercut the first lister; the owner can reprice.
		assert_noop!(Inference::list(origin(relayer()), root, 1), Error::<Test>::NotAllowedToList);
		assert_ok!(Inference::list(origin(trainer()), root, 7));
		assert_eq!(
			crate::Listings::<Test>::get(root).map(|l| (l.lister, l.price)),
			Some((trainer(), 7))
		);
		assert_noop!(Inference::unlist(origin(user()), root), Error::<Test>::NotLister);
		assert_ok!(Inference::unlist(origin(trainer()), root));
		assert_noop!(Inference::unlist(origin(trainer()), root), Error::<Test>::NotListed);
	});
}

#[test]
fn only_a_node_owner_allowed_to_fetch_the_model_serves_it() {
	build_and_execute(|| {
		let root = train(1, trainer(), 1_000, None);
		assert_noop!(Inference::serve(origin(provider()), root, NODE), Error::<Test>::NotListed);
		assert_ok!(Inference::list(origin(trainer()), root, PRICE));
		assert_noop!(Inference::serve(origin(provider()), root, NODE), Error::<Test>::CannotFetch);
		assert_noop!(Inference::serve(origin(user()), root, NODE), Error::<Test>::NotNodeOwner);
		assert_noop!(Inference::serve(origin(user()), root, 7), Error::<Test>::NodeNotFound);
		assert_ok!(ModelRegistry::allow(origin(trainer()), 0, provider()));
		assert_ok!(Inference::serve(origin(provider()), root, NODE));
		assert_noop!(
			Inference::serve(origin(provider()), root, NODE),
			Error::<Test>::AlreadyServing
		);
		assert_ok!(Inference::serve(origin(provider()), root, 1));
		assert_ok!(ModelRegistry::set_public(origin(trainer()), 0, true));
		assert_noop!(
			Inference::serve(origin(other_provider()), root, OTHER_NODE),
			Error::<Test>::TooManyServers
		);
		assert_ok!(Inference::stop_serving(origin(provider()), root, 1));
		assert_noop!(
			Inference::stop_serving(origin(provider()), root, 1),
			Error::<Test>::NotServing
		);
		assert_ok!(Inference::serve(origin(other_provider()), root, OTHER_NODE));
	});
}

#[test]
fn a_hundred_paid_queries_pay_provider_fund_and_lineage_to_the_planck() {
	build_and_execute(|| {
		let (_, child) = listed_relay(false);
		assert_ok!(Inference::fund_channel(origin(user()), NODE, 200_000));
		let before = [user(), provider(), fund(), trainer(), relayer()].map(|a| free(&a));
		assert_ok!(Inference::redeem(
			origin(provider()),
			NODE,
			child,
			batch(signed(1..=100, child))
		));
		let total = 100 * PRICE; // 100,300
		let fund_share = total / 10; // 10,030
		let contributors = total * 3 / 10; // 30,090
		let provider_share = total - fund_share - contributors; // 60,180
														  // Lineage: the relayer paid 3,000 of 4,000, the trainer 1,000.
		let relayer_share = contributors * 3_000 / 4_000; // 22,567 (rounded down)
		let trainer_share = contributors * 1_000 / 4_000; // 7,522
		let remainder = contributors - relayer_share - trainer_share; // 1, to the served version's
		assert_eq!(remainder, 1);
		assert_eq!(
			Balances::balance_on_hold(&crate::HoldReason::Channel.into(), &user()),
			200_000 - total
		);
		assert_eq!(free(&user()), before[0]);
		assert_eq!(free(&provider()), before[1] + provider_share);
		assert_eq!(free(&fund()), before[2] + fund_share);
		assert_eq!(Owed::<Test>::get(relayer()), relayer_share + remainder);
		assert_eq!(Owed::<Test>::get(trainer()), trainer_share);
		assert_eq!(free(&Inference::account_id()), ED + contributors);
		assert_eq!(crate::ModelRevenue::<Test>::get(0), total);
		System::assert_last_event(
			Event::Redeemed {
				node: NODE,
				version: child,
				vouchers: 100,
				total,
				provider: provider_share,
				fund: fund_share,
				contributors,
			}
			.into(),
		);
		assert_ok!(Inference::claim(origin(relayer())));
		assert_ok!(Inference::claim(origin(trainer())));
		assert_eq!(free(&relayer()), before[4] + relayer_share + remainder);
		assert_eq!(free(&trainer()), before[3] + trainer_share);
		assert_eq!(free(&Inference::account_id()), ED);
		assert_eq!(Totals::<Test>::get().claimed, contributors);
		assert_noop!(Inference::claim(origin(trainer())), Error::<Test>::NothingToClaim);
	});
}

#[test]
fn dividends_reach_only_the_nearest_contributors() {
	build_and_execute(|| {
		// Four versions in a line; `MaxContributors` is 3: the root earns nothing.
		let a = train(1, account("A"), 100, None);
		let b = train(2, account("B"), 100, Some(a));
		let c = train(3, account("C"), 100, Some(b));
		let d = train(4, account("D"), 100, Some(c));
		assert_ok!(ModelRegistry::set_public(origin(account("A")), 0, true));
		assert_ok!(Inference::list(origin(account("A")), d, PRICE));
		assert_ok!(Inference::serve(origin(provider()), d, NODE));
		assert_ok!(Inference::fund_channel(origin(user()), NODE, 10_000));
		assert_ok!(Inference::redeem(origin(provider()), NODE, d, batch(signed(1..=2, d))));
		let contributors = 2 * PRICE * 3 / 10; // 601
		assert_eq!(Owed::<Test>::get(account("A")), 0);
		assert_eq!(Owed::<Test>::get(account("B")), 200);
		assert_eq!(Owed::<Test>::get(account("C")), 200);
		assert_eq!(Owed::<Test>::get(account("D")), contributors - 400);
	});
}

#[test]
fn a_voucher_the_user_did_not_sign_charges_nothing() {
	build_and_execute(|| {
		let (_, child) = listed_relay(true);
		assert_ok!(Inference::fund_channel(origin(user()), NODE, 10_000));
		// The provider signs a voucher naming the user.
		let forged = voucher(&key("Provider"), NODE, child, 1, PRICE);
		assert_noop!(
			Inference::redeem(origin(provider()), NODE, child, batch(vec![forged])),
			Error::<Test>::BadSignature
		);
		// A genuine voucher altered after signing (a higher price).
		let (mut v, s) = voucher(&key("User"), NODE, child, 1, PRICE);
		v.price = 5_000;
		assert_noop!(
			Inference::redeem(origin(provider()), NODE, child, batch(vec![(v, s)])),
			Error::<Test>::BadSignature
		);
		// A voucher signed for another chain (another genesis hash).
		let (v, _) = voucher(&key("User"), NODE, child, 1, PRICE);
		let other_chain = MultiSignature::from(
			key("User").sign(&v.signing_payload(&sp_core::H256::repeat_byte(9))),
		);
		assert_noop!(
			Inference::redeem(origin(provider()), NODE, child, batch(vec![(v, other_chain)])),
			Error::<Test>::BadSignature
		);
	});
}

#[test]
fn a_voucher_is_redeemed_once() {
	build_and_execute(|| {
		let (_, child) = listed_relay(true);
		assert_ok!(Inference::fund_channel(origin(user()), NODE, 10_000));
		assert_ok!(Inference::redeem(origin(provider()), NODE, child, batch(signed(1..=3, child))));
		assert_noop!(
			Inference::redeem(origin(provider()), NODE, child, batch(signed(3..=4, child))),
			Error::<Test>::Replayed
		);
		let twice = vec![
			voucher(&key("User"), NODE, child, 5, PRICE),
			voucher(&key("User"), NODE, child, 5, PRICE),
		];
		assert_noop!(
			Inference::redeem(origin(provider()), NODE, child, batch(twice)),
			Error::<Test>::Replayed
		);
		assert_eq!(Channels::<Test>::get(user(), NODE).map(|c| c.nonce), Some(3));
	});
}

#[test]
fn vouchers_beyond_the_deposit_the_price_or_the_node_are_refused() {
	build_and_execute(|| {
		let (root, child) = listed_relay(true);
		assert_ok!(Inference::fund_channel(origin(user()), NODE, 2_500));
		assert_noop!(
			Inference::redeem(origin(provider()), NODE, child, batch(signed(1..=3, child))),
			Error::<Test>::InsufficientDeposit
		);
		let cheap = vec![voucher(&key("User"), NODE, child, 1, PRICE - 1)];
		assert_noop!(
			Inference::redeem(origin(provider()), NODE, child, batch(cheap)),
			Error::<Test>::PriceBelowListing
		);
		let other_node = vec![voucher(&key("User"), 1, child, 1, PRICE)];
		assert_noop!(
			Inference::redeem(origin(provider()), NODE, child, batch(other_node)),
			Error::<Test>::WrongVoucher
		);
		assert_noop!(
			Inference::redeem(origin(provider()), NODE, root, batch(signed(1..=1, child))),
			Error::<Test>::NotListed
		);
		assert_noop!(
			Inference::redeem(origin(other_provider()), NODE, child, batch(signed(1..=1, child))),
			Error::<Test>::NotNodeOwner
		);
		assert_noop!(
			Inference::redeem(origin(provider()), NODE, child, batch(vec![])),
			Error::<Test>::EmptyBatch
		);
		assert_noop!(
			Inference::fund_channel(origin(user()), OTHER_NODE, 999),
			Error::<Test>::DepositTooSmall
		);
	});
}

#[test]
fn a_closing_channel_leaves_the_provider_time_to_redeem() {
	build_and_execute(|| {
		let (_, child) = listed_relay(true);
		assert_ok!(Inference::fund_channel(origin(user()), NODE, 5_000));
		assert_ok!(Inference::close_channel(origin(user()), NODE));
		assert_noop!(Inference::withdraw(origin(user()), NODE), Error::<Test>::NotWithdrawable);
		run_to_block(1 + CLOSE_DELAY - 1);
		assert_ok!(Inference::redeem(origin(provider()), NODE, child, batch(signed(1..=2, child))));
		run_to_block(1 + CLOSE_DELAY);
		let before = free(&user());
		assert_ok!(Inference::withdraw(origin(user()), NODE));
		assert_eq!(free(&user()), before + 5_000 - 2 * PRICE);
		// The nonce survives the withdrawal: old vouchers stay spent after a top-up.
		assert_ok!(Inference::fund_channel(origin(user()), NODE, 5_000));
		assert_noop!(
			Inference::redeem(origin(provider()), NODE, child, batch(signed(2..=2, child))),
			Error::<Test>::Replayed
		);
	});
}

fn challenged(child: VersionId) -> crate::ChallengeId {
	assert_ok!(Inference::fund_channel(origin(user()), NODE, 5_000));
	assert_ok!(Inference::redeem(origin(provider()), NODE, child, batch(signed(1..=2, child))));
	let (v, _) = voucher(&key("User"), NODE, child, 2, PRICE);
	assert_ok!(Inference::challenge(origin(user()), v, BoundedVec::truncate_from(input(2))));
	0
}

#[test]
fn an_unanswered_paid_query_refunds_the_user_from_the_bond() {
	build_and_execute(|| {
		let (_, child) = listed_relay(true);
		let id = challenged(child);
		let user_before = free(&user());
		assert_noop!(
			Inference::expire_challenge(origin(fund()), id),
			Error::<Test>::AnswerWindowOpen
		);
		run_to_block(1 + ANSWER_WINDOW + 1);
		assert_noop!(
			Inference::answer(origin(provider()), id, BoundedVec::truncate_from(vec![1])),
			Error::<Test>::AnswerWindowClosed
		);
		assert_ok!(Inference::expire_challenge(origin(fund()), id));
		assert_eq!(free(&user()), user_before + CHALLENGE_DEPOSIT + PRICE);
		assert_eq!(MockNodes::bond(NODE), BOND - PRICE);
		assert_noop!(
			Inference::expire_challenge(origin(fund()), id),
			Error::<Test>::ChallengeNotFound
		);
	});
}

#[test]
fn an_answered_or_refuted_challenge_pays_its_deposit_to_the_provider() {
	build_and_execute(|| {
		let (_, child) = listed_relay(true);
		let id = challenged(child);
		let provider_before = free(&provider());
		assert_noop!(
			Inference::answer(origin(other_provider()), id, BoundedVec::truncate_from(vec![1])),
			Error::<Test>::NotNodeOwner
		);
		assert_ok!(Inference::answer(
			origin(provider()),
			id,
			BoundedVec::truncate_from(vec![1, 2])
		));
		assert_eq!(free(&provider()), provider_before + CHALLENGE_DEPOSIT);
		// The user challenges nonce 1 with a query it never sent: the provider shows the voucher
		// the user really signed for nonce 1.
		let (mut fake, _) = voucher(&key("User"), NODE, child, 1, PRICE);
		fake.query = aicchain_primitives::inference::query_hash(&input(77));
		assert_ok!(Inference::challenge(
			origin(user()),
			fake,
			BoundedVec::truncate_from(input(77))
		));
		let (real, real_sig) = voucher(&key("User"), NODE, child, 1, PRICE);
		let (same_as_challenged, sig) = voucher(&key("User"), NODE, child, 2, PRICE);
		assert_noop!(
			Inference::refute(origin(provider()), 1, same_as_challenged, sig),
			Error::<Test>::NotEquivocation
		);
		assert_ok!(Inference::refute(origin(provider()), 1, real, real_sig));
		assert_eq!(free(&provider()), provider_before + 2 * CHALLENGE_DEPOSIT);
		assert_eq!(MockNodes::bond(NODE), BOND);
	});
}

#[test]
fn only_a_paid_voucher_of_ones_own_with_its_input_is_challenged() {
	build_and_execute(|| {
		let (_, child) = listed_relay(true);
		assert_ok!(Inference::fund_channel(origin(user()), NODE, 5_000));
		let (unpaid, _) = voucher(&key("User"), NODE, child, 1, PRICE);
		assert_noop!(
			Inference::challenge(
				origin(user()),
				unpaid.clone(),
				BoundedVec::truncate_from(input(1))
			),
			Error::<Test>::NotRedeemed
		);
		assert_ok!(Inference::redeem(origin(provider()), NODE, child, batch(signed(1..=1, child))));
		assert_noop!(
			Inference::challenge(
				origin(user()),
				unpaid.clone(),
				BoundedVec::truncate_from(input(2))
			),
			Error::<Test>::QueryMismatch
		);
		assert_noop!(
			Inference::challenge(origin(relayer()), unpaid, BoundedVec::truncate_from(input(1))),
			Error::<Test>::NotYourVoucher
		);
		let err: DispatchError = Error::<Test>::ChallengeNotFound.into();
		assert_noop!(Inference::expire_challenge(origin(user()), 3), err);
	});
}
