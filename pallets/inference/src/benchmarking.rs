//! Benchmarks of every call on its costliest path: a redemption of `n` vouchers from `n`
//! different users (a signature check, a channel and a transfer from a hold each) on a version
//! with `MaxContributors` contributors; challenges with the longest input and answer.

use super::*;
use aicchain_primitives::inference::query_hash;
use alloc::{vec, vec::Vec};
use frame_benchmarking::v2::*;
use frame_support::traits::fungible::Mutate;
use frame_system::RawOrigin;
use sp_core::crypto::KeyTypeId;

const KEY: KeyTypeId = KeyTypeId(*b"bnch");

/// Plenty of AICC for `who`.
fn funded<T: Config>(who: &T::AccountId) {
	let amount = T::MinChannelDeposit::get()
		.saturating_add(T::ChallengeDeposit::get())
		.saturating_mul(1_000u32.into())
		.saturating_add(T::Currency::minimum_balance());
	T::Currency::set_balance(who, amount);
}

/// A signing key of the keystore and its account.
fn user<T: Config>() -> (sp_core::sr25519::Public, T::AccountId) {
	let public = sp_io::crypto::sr25519_generate(KEY, None);
	let account = T::Signer::from(public).into_account();
	funded::<T>(&account);
	(public, account)
}

fn sign<T: Config>(public: &sp_core::sr25519::Public, voucher: &VoucherOf<T>) -> T::Signature {
	let genesis = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
	let signature = sp_io::crypto::sr25519_sign(KEY, public, &voucher.signing_payload(&genesis))
		.unwrap_or_else(|| sp_core::sr25519::Signature::from_raw([0; 64]));
	T::Signature::from(signature)
}

/// A version with `MaxContributors` contributors, listed by its owner at the channel minimum
/// (one fresh channel's deposit), served by a node: (version, node, node owner).
fn served<T: Config>() -> Result<(VersionId, NodeId, T::AccountId), BenchmarkError> {
	T::Currency::set_balance(&Pallet::<T>::account_id(), T::Currency::minimum_balance());
	funded::<T>(&T::CommunityFund::get());
	let owner: T::AccountId = account("owner", 0, 0);
	let depth = T::MaxContributors::get().saturating_sub(1);
	let version = T::Models::benchmark_lineage(owner.clone(), depth);
	let provider: T::AccountId = account("provider", 0, 0);
	funded::<T>(&provider);
	let node = T::Nodes::benchmark_node(provider.clone());
	Pallet::<T>::list(RawOrigin::Signed(owner.clone()).into(), version, price::<T>())?;
	// Served without the fetch check (the `serve` benchmark measures that path).
	Servers::<T>::try_mutate(version, |s| s.try_push(node))
		.map_err(|_| BenchmarkError::Weightless)?;
	Ok((version, node, provider))
}

/// The listed price: a fresh channel's deposit pays for one query.
fn price<T: Config>() -> BalanceOf<T> {
	T::MinChannelDeposit::get()
}

/// A funded channel of a fresh user to `node` and a voucher it signed with nonce 1.
fn paying_user<T: Config>(
	node: NodeId,
	version: VersionId,
	input: &[u8],
) -> Result<(VoucherOf<T>, T::Signature), BenchmarkError> {
	let (public, who) = user::<T>();
	Pallet::<T>::fund_channel(
		RawOrigin::Signed(who.clone()).into(),
		node,
		T::MinChannelDeposit::get(),
	)?;
	let voucher = Voucher {
		user: who,
		node,
		version,
		nonce: 1,
		price: price::<T>(),
		query: query_hash(input),
	};
	let signature = sign::<T>(&public, &voucher);
	Ok((voucher, signature))
}

/// An open challenge of a redeemed voucher with an `len`-byte input: (id, node owner, the
/// challenged voucher's user key).
fn open_challenge<T: Config>(
	len: u32,
) -> Result<(ChallengeId, T::AccountId, VoucherOf<T>), BenchmarkError> {
	let (version, node, provider) = served::<T>()?;
	let input = vec![7u8; len as usize];
	let (voucher, signature) = paying_user::<T>(node, version, &input)?;
	let batch = BoundedVec::truncate_from(vec![(voucher.clone(), signature)]);
	Pallet::<T>::redeem(RawOrigin::Signed(provider.clone()).into(), node, version, batch)?;
	Pallet::<T>::challenge(
		RawOrigin::Signed(voucher.user.clone()).into(),
		voucher.clone(),
		BoundedVec::truncate_from(input),
	)?;
	Ok((NextChallengeId::<T>::get().saturating_sub(1), provider, voucher))
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn list() -> Result<(), BenchmarkError> {
		let owner: T::AccountId = account("owner", 0, 0);
		let version = T::Models::benchmark_lineage(owner.clone(), 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(owner), version, price::<T>());
		assert!(Listings::<T>::contains_key(version));
		Ok(())
	}

	#[benchmark]
	fn unlist() -> Result<(), BenchmarkError> {
		let (version, _, _) = served::<T>()?;
		let owner: T::AccountId = account("owner", 0, 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(owner), version);
		assert!(!Listings::<T>::contains_key(version));
		Ok(())
	}

	/// A version with `MaxServers - 1` servers gets its last.
	#[benchmark]
	fn serve() -> Result<(), BenchmarkError> {
		let (version, _, _) = served::<T>()?;
		for i in 1..T::MaxServers::get().saturating_sub(1) {
			Servers::<T>::try_mutate(version, |s| s.try_push(1_000 + i))
				.map_err(|_| BenchmarkError::Weightless)?;
		}
		let owner: T::AccountId = account("owner", 0, 0);
		funded::<T>(&owner);
		let node = T::Nodes::benchmark_node(owner.clone());
		#[extrinsic_call]
		_(RawOrigin::Signed(owner), version, node);
		assert!(Servers::<T>::get(version).contains(&node));
		Ok(())
	}

	#[benchmark]
	fn stop_serving() -> Result<(), BenchmarkError> {
		let (version, node, provider) = served::<T>()?;
		for i in 1..T::MaxServers::get() {
			Servers::<T>::try_mutate(version, |s| s.try_push(1_000 + i))
				.map_err(|_| BenchmarkError::Weightless)?;
		}
		#[extrinsic_call]
		_(RawOrigin::Signed(provider), version, node);
		assert!(!Servers::<T>::get(version).contains(&node));
		Ok(())
	}

	#[benchmark]
	fn fund_channel() -> Result<(), BenchmarkError> {
		let (_, node, _) = served::<T>()?;
		let (_, who) = user::<T>();
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), node, T::MinChannelDeposit::get());
		assert!(Channels::<T>::contains_key(&who, node));
		Ok(())
	}

	#[benchmark]
	fn close_channel() -> Result<(), BenchmarkError> {
		let (version, node, _) = served::<T>()?;
		let (voucher, _) = paying_user::<T>(node, version, &[])?;
		#[extrinsic_call]
		_(RawOrigin::Signed(voucher.user.clone()), node);
		assert!(Channels::<T>::get(&voucher.user, node).is_some_and(|c| c.closes_at.is_some()));
		Ok(())
	}

	#[benchmark]
	fn withdraw() -> Result<(), BenchmarkError> {
		let (version, node, _) = served::<T>()?;
		let (voucher, _) = paying_user::<T>(node, version, &[])?;
		Pallet::<T>::close_channel(RawOrigin::Signed(voucher.user.clone()).into(), node)?;
		let later = frame_system::Pallet::<T>::block_number().saturating_add(T::CloseDelay::get());
		frame_system::Pallet::<T>::set_block_number(later);
		#[extrinsic_call]
		_(RawOrigin::Signed(voucher.user.clone()), node);
		assert!(Channels::<T>::get(&voucher.user, node).is_some_and(|c| c.deposit.is_zero()));
		Ok(())
	}

	/// `n` vouchers of `n` users.
	#[benchmark]
	fn redeem(n: Linear<1, { T::MaxBatch::get() }>) -> Result<(), BenchmarkError> {
		let (version, node, provider) = served::<T>()?;
		let mut vouchers = Vec::new();
		for i in 0..n {
			vouchers.push(paying_user::<T>(node, version, &i.to_le_bytes())?);
		}
		let batch = BoundedVec::truncate_from(vouchers);
		#[extrinsic_call]
		_(RawOrigin::Signed(provider), node, version, batch);
		assert!(!Totals::<T>::get().accrued.is_zero());
		Ok(())
	}

	#[benchmark]
	fn claim() -> Result<(), BenchmarkError> {
		let (version, node, provider) = served::<T>()?;
		let paid = paying_user::<T>(node, version, &[])?;
		let batch = BoundedVec::truncate_from(vec![paid]);
		Pallet::<T>::redeem(RawOrigin::Signed(provider).into(), node, version, batch)?;
		let owner: T::AccountId = account("owner", 0, 0);
		funded::<T>(&owner);
		#[extrinsic_call]
		_(RawOrigin::Signed(owner.clone()));
		assert!(Owed::<T>::get(&owner).is_zero());
		Ok(())
	}

	#[benchmark]
	fn challenge(n: Linear<0, { T::MaxQueryLen::get() }>) -> Result<(), BenchmarkError> {
		let (version, node, provider) = served::<T>()?;
		let input = vec![7u8; n as usize];
		let (voucher, signature) = paying_user::<T>(node, version, &input)?;
		let batch = BoundedVec::truncate_from(vec![(voucher.clone(), signature)]);
		Pallet::<T>::redeem(RawOrigin::Signed(provider).into(), node, version, batch)?;
		let who = voucher.user.clone();
		#[extrinsic_call]
		_(RawOrigin::Signed(who), voucher, BoundedVec::truncate_from(input));
		assert!(Challenges::<T>::contains_key(0));
		Ok(())
	}

	#[benchmark]
	fn answer(n: Linear<0, { T::MaxAnswerLen::get() }>) -> Result<(), BenchmarkError> {
		let (id, provider, _) = open_challenge::<T>(T::MaxQueryLen::get())?;
		let output = BoundedVec::truncate_from(vec![1u8; n as usize]);
		#[extrinsic_call]
		_(RawOrigin::Signed(provider), id, output);
		assert!(!Challenges::<T>::contains_key(id));
		Ok(())
	}

	#[benchmark]
	fn refute() -> Result<(), BenchmarkError> {
		let (id, provider, challenged) = open_challenge::<T>(T::MaxQueryLen::get())?;
		// The same key signs a second voucher for the nonce: the keystore's only user key here
		// is the challenged user's.
		let public = sp_io::crypto::sr25519_public_keys(KEY)
			.into_iter()
			.find(|p| T::Signer::from(*p).into_account() == challenged.user)
			.ok_or(BenchmarkError::Weightless)?;
		let other = Voucher { query: query_hash(b"another query"), ..challenged };
		let signature = sign::<T>(&public, &other);
		#[extrinsic_call]
		_(RawOrigin::Signed(provider), id, other, signature);
		assert!(!Challenges::<T>::contains_key(id));
		Ok(())
	}

	#[benchmark]
	fn expire_challenge() -> Result<(), BenchmarkError> {
		let (id, _, voucher) = open_challenge::<T>(T::MaxQueryLen::get())?;
		let later = frame_system::Pallet::<T>::block_number()
			.saturating_add(T::AnswerWindow::get())
			.saturating_add(1u32.into());
		frame_system::Pallet::<T>::set_block_number(later);
		#[extrinsic_call]
		_(RawOrigin::Signed(voucher.user), id);
		assert!(!Challenges::<T>::contains_key(id));
		Ok(())
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
