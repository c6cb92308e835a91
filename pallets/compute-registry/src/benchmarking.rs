//! Benchmarks of the registry's calls, each in its worst case: full owner lists and full GPU
//! class buckets, so that the `retain` and `try_push` over them cost the most, and the paths
//! that move a node in or out of the matching index (and its totals).

use super::*;
use aicchain_primitives::Region;
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{fungible::Mutate, Get},
	BoundedVec,
};
use frame_system::RawOrigin;
use sp_runtime::{traits::Bounded, Percent, Saturating};

fn spec<T: Config>(gpus: u32) -> NodeSpec<BalanceOf<T>> {
	NodeSpec {
		gpu_count: gpus,
		gpu_memory_gib: 80,
		bandwidth_mbps: 1_000,
		latency_ms: 5,
		region: Region::truncate_from(b"eu-west-benchmark-region".to_vec()),
		renewable_share: Percent::from_percent(80),
		carbon_intensity: 50,
		// At least the floor, which `register_node` and `update_node` enforce.
		price_per_gpu_hour: T::MinPricePerGpuHour::get().max(1_000u32.into()),
	}
}

fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, 0);
	T::Currency::set_balance(&who, BalanceOf::<T>::max_value() / 4u32.into());
	who
}

/// Fills the owner's list and the bucket of `gpus` up to one below their bounds with ids that
/// do not exist, the worst case for `try_push`/`retain`.
fn fill_indices<T: Config>(owner: &T::AccountId, gpus: u32) {
	let filler = u32::MAX / 2;
	let owned: alloc::vec::Vec<NodeId> =
		(0..T::MaxNodesPerOwner::get().saturating_sub(1)).map(|i| filler + i).collect();
	NodesByOwner::<T>::insert(owner, BoundedVec::truncate_from(owned));
	let bucket: alloc::vec::Vec<NodeId> =
		(0..T::MaxNodesPerClass::get().saturating_sub(1)).map(|i| filler - 1 - i).collect();
	NodesByGpuClass::<T>::insert(gpu_class(gpus), BoundedVec::truncate_from(bucket));
}

/// Registers a node of `gpus` GPUs with full indices; its worker key (`worker`, 0) is only
/// proposed.
fn registered<T: Config>(gpus: u32) -> (T::AccountId, NodeId) {
	let owner = funded::<T>("owner", 0);
	fill_indices::<T>(&owner, gpus);
	let worker: T::AccountId = account("worker", 0, 0);
	let id = NextNodeId::<T>::get();
	assert!(Pallet::<T>::register_node(
		RawOrigin::Signed(owner.clone()).into(),
		spec::<T>(gpus),
		worker
	)
	.is_ok());
	(owner, id)
}

/// Moves the chain past the node's heartbeat timeout: the node is no longer live.
fn past_timeout<T: Config>() {
	let later = frame_system::Pallet::<T>::block_number()
		.saturating_add(T::HeartbeatTimeout::get())
		.saturating_add(1u32.into());
	frame_system::Pallet::<T>::set_block_number(later);
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register_node() {
		let owner = funded::<T>("owner", 0);
		fill_indices::<T>(&owner, 8);
		// The owner as its own worker: bound at once, one more write.
		let worker = owner.clone();

		#[extrinsic_call]
		_(RawOrigin::Signed(owner.clone()), spec::<T>(8), worker.clone());

		assert!(NodeByWorker::<T>::contains_key(&worker));
		assert_eq!(
			T::Currency::balance_on_hold(&HoldReason::NodeBond.into(), &owner),
			T::NodeBond::get()
		);
	}

	#[benchmark]
	fn update_node() {
		let (owner, id) = registered::<T>(8);
		// Moving to another class touches both buckets.
		fill_indices::<T>(&owner, 16);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id, spec::<T>(16));

		assert_eq!(Nodes::<T>::get(id).map(|n| n.spec.gpu_count), Some(16));
	}

	#[benchmark]
	fn deregister_node() {
		let (owner, id) = registered::<T>(8);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id);

		assert!(matches!(
			Nodes::<T>::get(id).map(|n| n.status),
			Some(NodeStatus::Unbonding { .. })
		));
	}

	#[benchmark]
	fn withdraw_bond() {
		let (owner, id) = registered::<T>(8);
		assert!(Pallet::<T>::deregister_node(RawOrigin::Signed(owner.clone()).into(), id).is_ok());
		let unlock_at =
			frame_system::Pallet::<T>::block_number().saturating_add(T::UnbondingPeriod::get());
		frame_system::Pallet::<T>::set_block_number(unlock_at);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner.clone()), id);

		assert!(!Nodes::<T>::contains_key(id));
		assert!(T::Currency::balance_on_hold(&HoldReason::NodeBond.into(), &owner) == 0u32.into());
	}

	/// The costly path: a dormant node back into its (otherwise full) class.
	#[benchmark]
	fn heartbeat() {
		let (owner, id) = registered::<T>(8);
		past_timeout::<T>();
		assert!(Pallet::<T>::drop_if_dead(id, frame_system::Pallet::<T>::block_number()));
		let later = frame_system::Pallet::<T>::block_number();

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id);

		let node = Nodes::<T>::get(id);
		assert_eq!(node.as_ref().map(|n| n.last_heartbeat), Some(later));
		assert_eq!(node.map(|n| n.status), Some(NodeStatus::Active));
	}

	#[benchmark]
	fn accept_worker() {
		let (_, id) = registered::<T>(8);
		let worker: T::AccountId = account("worker", 0, 0);

		#[extrinsic_call]
		_(RawOrigin::Signed(worker.clone()), id);

		assert_eq!(NodeByWorker::<T>::get(&worker), Some(id));
	}

	/// The costly path: the top-up makes a dormant node active again.
	#[benchmark]
	fn top_up_bond() {
		let (owner, id) = registered::<T>(8);
		let sink: T::AccountId = funded::<T>("sink", 0);
		assert!(Pallet::<T>::slash_bond(id, T::NodeBond::get(), &sink).is_ok());
		if let Some(mut node) = Nodes::<T>::get(id) {
			if node.status == NodeStatus::Active {
				Pallet::<T>::make_dormant(id, &mut node);
				Nodes::<T>::insert(id, node);
			}
		}

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id, T::NodeBond::get());

		assert_eq!(Nodes::<T>::get(id).map(|n| n.status), Some(NodeStatus::Active));
	}

	#[benchmark]
	fn prune_dead_node() {
		let (_, id) = registered::<T>(8);
		past_timeout::<T>();
		let caller: T::AccountId = account("caller", 0, 0);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), id);

		assert_eq!(Nodes::<T>::get(id).map(|n| n.status), Some(NodeStatus::Dormant));
	}

	#[benchmark]
	fn set_engine_url() {
		let (owner, id) = registered::<T>(8);
		// The longest address: validation reads every byte.
		let mut url = b"http://".to_vec();
		url.resize(<crate::MaxEngineUrlLen as Get<u32>>::get() as usize, b'a');
		let url = crate::EngineUrl::truncate_from(url);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id, Some(url.clone()));

		assert_eq!(EngineUrls::<T>::get(id), Some(url));
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::ExtBuilder.build(), crate::mock::Test);
}
