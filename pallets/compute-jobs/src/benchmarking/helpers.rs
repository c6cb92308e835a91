//! Setup shared by the benchmarks: funded accounts, nodes, validators, submitted and assigned
//! jobs, full queues and candidate buckets, and federated jobs.

use super::super::*;
use aicchain_primitives::{
	AggregationRule, FederationSpec, ModelKind, NodeSpec, Region, SustainabilityPreference,
	TrainingSpec,
};
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{fungible::Mutate, Get},
	BoundedVec,
};
use frame_system::pallet_prelude::BlockNumberFor;
use frame_system::RawOrigin;
use sp_runtime::{traits::Bounded, Percent, Saturating};

pub(super) fn requirements() -> JobRequirements {
	JobRequirements {
		gpus: 8,
		min_bandwidth_mbps: 100,
		max_latency_ms: 15,
		gpu_hours: 10,
		sustainability: SustainabilityPreference::PreferRenewable,
		training: Some(TrainingSpec {
			dataset: H256(aicchain_primitives::datasets::CREDIT_SCORING_HASH),
			model: ModelKind::MlpClassifier,
			hidden_units: 32,
			hidden_layers: 2,
			learning_rate_millionths: 1_000,
			epochs: 20,
			seed: 7,
			min_score: Default::default(),
			parent: None,
		}),
	}
}

/// Makes sure the dataset `requirements` names is registered.
pub(super) fn known_dataset<T: Config>() {
	for (hash, info) in aicchain_primitives::datasets::shipped() {
		Datasets::<T>::insert(hash, info);
	}
}

/// The largest record a dataset may have.
pub(super) fn largest_dataset() -> aicchain_primitives::DatasetInfo {
	let mut name = alloc::vec![b'x'; 28];
	name.extend_from_slice(b".csv");
	aicchain_primitives::DatasetInfo {
		name: BoundedVec::truncate_from(name),
		rows: 16 << 20,
		columns: 16 << 20,
		bytes: aicchain_primitives::datasets::MAX_DATASET_BYTES,
		public: false,
	}
}

/// A dataset a funded user registered with `add_dataset`.
pub(super) fn owned_dataset<T: Config>() -> Result<(H256, T::AccountId), BenchmarkError> {
	let owner = funded::<T>("owner", 0);
	let hash = H256::repeat_byte(0xda);
	Pallet::<T>::add_dataset(RawOrigin::Signed(owner.clone()).into(), hash, largest_dataset())
		.map_err(|_| BenchmarkError::Stop("add_dataset failed"))?;
	Ok((hash, owner))
}

pub(super) fn held_for_datasets<T: Config>(who: &T::AccountId) -> BalanceOf<T> {
	<T as Config>::Currency::balance_on_hold(&HoldReason::DatasetDeposit.into(), who)
}

pub(super) fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, 0);
	let amount = BalanceOf::<T>::max_value() / 1_000_000u32.into();
	<T as Config>::Currency::set_balance(&who, amount);
	who
}

pub(super) fn budget<T: Config>() -> BalanceOf<T> {
	BalanceOf::<T>::max_value() / 1_000_000_000u32.into()
}

/// Registers a live 8-GPU solar node owned by a fresh account.
pub(super) fn node<T: Config>(index: u32) -> (NodeId, T::AccountId) {
	let owner = funded::<T>("provider", index);
	let worker: T::AccountId = account("node-worker", index, 0);
	let id = pallet_compute_registry::NextNodeId::<T>::get();
	let spec = NodeSpec {
		gpu_count: 8,
		gpu_memory_gib: 80,
		bandwidth_mbps: 150,
		latency_ms: 10,
		region: Region::truncate_from(b"eu-west".to_vec()),
		renewable_share: Percent::from_percent(90),
		carbon_intensity: 40u32.saturating_add(index),
		// At least the registry's floor, which refuses cheaper nodes.
		price_per_gpu_hour: <T as pallet_compute_registry::Config>::MinPricePerGpuHour::get()
			.max(1_000u32.into()),
	};
	assert!(pallet_compute_registry::Pallet::<T>::register_node(
		RawOrigin::Signed(owner).into(),
		spec,
		worker.clone()
	)
	.is_ok());
	assert!(pallet_compute_registry::Pallet::<T>::accept_worker(
		RawOrigin::Signed(worker.clone()).into(),
		id
	)
	.is_ok());
	(id, worker)
}

/// Fills the deadline queues from `from` so that the next job lands in the last block looked at.
pub(super) fn fill_deadlines<T: Config>(from: BlockNumberFor<T>) {
	let per_block = T::MaxDeadlinesPerBlock::get();
	let mut block = from;
	for _ in 0..per_block.saturating_sub(1) {
		let queue: alloc::vec::Vec<JobId> =
			(0..per_block).map(|i| u64::MAX - u64::from(i)).collect();
		Deadlines::<T>::insert(block, BoundedVec::truncate_from(queue));
		block = block.saturating_add(1u32.into());
	}
}

/// Fills the rest of the 8-GPU bucket by repeating the nodes in it: a full bucket to decode,
/// and every candidate sample, wherever it starts, holds each of them (the costliest sample:
/// no ids of nodes that do not exist).
pub(super) fn fill_bucket_with_repeats<T: Config>() {
	pallet_compute_registry::NodesByGpuClass::<T>::mutate(
		pallet_compute_registry::gpu_class(8),
		|bucket| {
			let real = bucket.to_vec();
			for id in real.iter().cycle() {
				if bucket.try_push(*id).is_err() {
					break;
				}
			}
		},
	);
}

/// The validators the benchmark controls (funded worker keys), after filling the set with them.
pub(super) fn validators<T: Config>() -> alloc::vec::Vec<T::AccountId> {
	(0..T::MaxValidators::get())
		.map(|i| funded::<T>("validator", i))
		.filter(|who| {
			if !T::Validators::is_validator_worker(who)
				&& T::Validators::count() < T::MaxValidators::get()
			{
				T::Validators::add_for_benchmark(who);
			}
			T::Validators::is_validator_worker(who)
		})
		.collect()
}

pub(super) fn submitted<T: Config>() -> (T::AccountId, JobId) {
	known_dataset::<T>();
	let user = funded::<T>("user", 0);
	let id = NextJobId::<T>::get();
	assert!(Pallet::<T>::submit_job(
		RawOrigin::Signed(user.clone()).into(),
		requirements(),
		budget::<T>()
	)
	.is_ok());
	(user, id)
}

pub(super) fn assigned<T: Config>(node_id: NodeId) -> JobId {
	let (_, job_id) = submitted::<T>();
	let job = Jobs::<T>::get(job_id).expect("submitted");
	let now = frame_system::Pallet::<T>::block_number();
	let cost = Pallet::<T>::check_node_for_job(&job, node_id, now).expect("eligible");
	assert!(Pallet::<T>::assign(job_id, job, node_id, cost, AssignmentRule::Majority, now).is_ok());
	job_id
}

/// A federated job of `n` members (fresh nodes `first..first + n`), one round, submitted by a
/// funded user: its id and the members' worker keys.
pub(super) fn federated_job<T: Config>(
	n: u32,
	first: u32,
) -> (T::AccountId, JobId, alloc::vec::Vec<T::AccountId>) {
	known_dataset::<T>();
	let workers = (first..first.saturating_add(n)).map(|i| node::<T>(i).1).collect();
	let user = funded::<T>("user", 0);
	let id = NextJobId::<T>::get();
	let federated = FederationSpec {
		providers: u8::try_from(n).unwrap_or(u8::MAX),
		rounds: 1,
		rule: AggregationRule::TrimmedMean,
	};
	assert!(Pallet::<T>::submit_federated(
		RawOrigin::Signed(user.clone()).into(),
		requirements(),
		federated,
		budget::<T>()
	)
	.is_ok());
	(user, id, workers)
}

/// A distinct hash per `n` (its big-endian bytes at the end), in `no_std` too
/// (`H256::from_low_u64_be` needs the std-only `byteorder` feature of `fixed-hash`).
pub(super) fn hash_of(n: u64) -> H256 {
	let mut bytes = [0u8; 32];
	for (byte, value) in bytes.iter_mut().rev().zip(n.to_le_bytes()) {
		*byte = value;
	}
	H256(bytes)
}
