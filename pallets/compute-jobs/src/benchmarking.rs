//! Benchmarks of the jobs pallet's calls and deadline processing, each in its worst case:
//! deadline queues that spill to the last block looked at, proposals and attestations that
//! reach the deciding majority, settlement with a renewable bonus, and a fallback that reads
//! `MaxFallbackCandidates` nodes.

use super::*;
use aicchain_primitives::{ModelKind, NodeSpec, Region, SustainabilityPreference, TrainingSpec};
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{fungible::Mutate, Get, Hooks},
	BoundedVec,
};
use frame_system::pallet_prelude::BlockNumberFor;
use frame_system::RawOrigin;
use sp_runtime::{traits::Bounded, Perbill, Percent, Saturating};

fn requirements() -> JobRequirements {
	JobRequirements {
		gpus: 8,
		min_bandwidth_mbps: 100,
		max_latency_ms: 15,
		gpu_hours: 10,
		sustainability: SustainabilityPreference::PreferRenewable,
		training: Some(TrainingSpec {
			dataset: H256::repeat_byte(1),
			model: ModelKind::MlpClassifier,
			hidden_units: 32,
			hidden_layers: 2,
			learning_rate_millionths: 1_000,
			epochs: 20,
			seed: 7,
		}),
	}
}

fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, 0);
	let amount = BalanceOf::<T>::max_value() / 1_000_000u32.into();
	<T as Config>::Currency::set_balance(&who, amount);
	who
}

fn budget<T: Config>() -> BalanceOf<T> {
	BalanceOf::<T>::max_value() / 1_000_000_000u32.into()
}

/// Registers a live 8-GPU solar node owned by a fresh account.
fn node<T: Config>(index: u32) -> (NodeId, T::AccountId) {
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
	(id, worker)
}

/// Fills the deadline queues from `from` so that the next job lands in the last block looked at.
fn fill_deadlines<T: Config>(from: BlockNumberFor<T>) {
	let per_block = T::MaxDeadlinesPerBlock::get();
	let mut block = from;
	for _ in 0..per_block.saturating_sub(1) {
		let queue: alloc::vec::Vec<JobId> =
			(0..per_block).map(|i| u64::MAX - u64::from(i)).collect();
		Deadlines::<T>::insert(block, BoundedVec::truncate_from(queue));
		block = block.saturating_add(1u32.into());
	}
}

/// Fills the validator set up to `MaxValidators` with funded worker keys; returns the new ones.
fn validators<T: Config>() -> alloc::vec::Vec<T::AccountId> {
	let existing = T::Validators::count();
	(0..T::MaxValidators::get().saturating_sub(existing))
		.map(|i| {
			let who = funded::<T>("validator", i);
			T::Validators::add_for_benchmark(&who);
			who
		})
		.collect()
}

fn submitted<T: Config>() -> (T::AccountId, JobId) {
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

fn assigned<T: Config>(node_id: NodeId) -> JobId {
	let (_, job_id) = submitted::<T>();
	let job = Jobs::<T>::get(job_id).expect("submitted");
	let now = frame_system::Pallet::<T>::block_number();
	let cost = Pallet::<T>::check_node_for_job(&job, node_id, now).expect("eligible");
	assert!(Pallet::<T>::assign(job_id, job, node_id, cost, AssignmentRule::Majority, now).is_ok());
	job_id
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn submit_job() {
		let user = funded::<T>("user", 0);
		let now = frame_system::Pallet::<T>::block_number();
		fill_deadlines::<T>(now.saturating_add(T::ProposalWindow::get()));
		let id = NextJobId::<T>::get();

		#[extrinsic_call]
		_(RawOrigin::Signed(user), requirements(), budget::<T>());

		assert!(Jobs::<T>::contains_key(id));
	}

	#[benchmark]
	fn cancel_job() {
		let (user, id) = submitted::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(user), id);

		assert_eq!(Jobs::<T>::get(id).map(|j| j.status), Some(JobStatus::Cancelled));
	}

	#[benchmark]
	fn propose_assignment() {
		let (node_id, _) = node::<T>(0);
		let (_, job_id) = submitted::<T>();
		let set = validators::<T>();
		// Half the whole set (rounded down) agrees already.
		let half = usize::try_from(T::Validators::count() / 2).unwrap_or_default();
		// Half the set already proposed this node: the caller's proposal is the majority.
		let earlier: alloc::vec::Vec<(T::AccountId, NodeId)> =
			set.iter().take(half).map(|v| (v.clone(), node_id)).collect();
		Proposals::<T>::insert(job_id, BoundedVec::truncate_from(earlier));
		let caller = set.get(half).cloned().expect("set has more than half");
		let now = frame_system::Pallet::<T>::block_number();
		fill_deadlines::<T>(now.saturating_add(T::ResultTimeout::get()));

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), job_id, node_id);

		assert!(matches!(
			Jobs::<T>::get(job_id).map(|j| j.status),
			Some(JobStatus::Assigned { .. })
		));
	}

	#[benchmark]
	fn submit_result() {
		let (node_id, worker) = node::<T>(0);
		let job_id = assigned::<T>(node_id);
		let now = frame_system::Pallet::<T>::block_number();
		fill_deadlines::<T>(now.saturating_add(T::AttestationWindow::get()));
		let metrics = QuantisedMetrics {
			score: Perbill::from_percent(87),
			loss_millionths: 310_000,
			eval_samples: 200,
		};

		#[extrinsic_call]
		_(RawOrigin::Signed(worker), job_id, H256::repeat_byte(9), metrics);

		assert!(matches!(
			Jobs::<T>::get(job_id).map(|j| j.status),
			Some(JobStatus::ResultSubmitted { .. })
		));
	}

	#[benchmark]
	fn attest() {
		let (node_id, worker) = node::<T>(0);
		let job_id = assigned::<T>(node_id);
		let metrics = QuantisedMetrics {
			score: Perbill::from_percent(87),
			loss_millionths: 1,
			eval_samples: 1,
		};
		assert!(Pallet::<T>::submit_result(
			RawOrigin::Signed(worker).into(),
			job_id,
			H256::repeat_byte(9),
			metrics
		)
		.is_ok());
		// The fund pays a subsidy and a renewable bonus: the most expensive settlement.
		<T as Config>::Currency::set_balance(&T::CommunityFund::get(), budget::<T>());
		T::Subsidies::activate_for_benchmark(budget::<T>() / 10u32.into());
		let set = validators::<T>();
		// Half the whole set (rounded down) agrees already.
		let half = usize::try_from(T::Validators::count() / 2).unwrap_or_default();
		let earlier: alloc::vec::Vec<(T::AccountId, bool)> =
			set.iter().take(half).map(|v| (v.clone(), true)).collect();
		Attestations::<T>::insert(job_id, BoundedVec::truncate_from(earlier));
		let caller = set.get(half).cloned().expect("set has more than half");

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), job_id, true);

		assert!(Receipts::<T>::contains_key(job_id));
	}

	/// `n` pending jobs reach their proposal deadline with no proposals: each runs the
	/// fallback over `MaxFallbackCandidates` nodes and is assigned.
	#[benchmark]
	fn on_initialize(n: Linear<0, { T::MaxDeadlinesPerBlock::get() }>) {
		for i in 0..T::MaxFallbackCandidates::get() {
			node::<T>(i);
		}
		// The rest of the 8-GPU bucket holds ids the fallback never reaches but still decodes.
		pallet_compute_registry::NodesByGpuClass::<T>::mutate(
			pallet_compute_registry::gpu_class(8),
			|bucket| {
				let mut filler = u32::MAX;
				while bucket.try_push(filler).is_ok() {
					filler = filler.saturating_sub(1);
				}
			},
		);
		let now = frame_system::Pallet::<T>::block_number();
		let mut ids = alloc::vec::Vec::new();
		for _ in 0..n {
			ids.push(submitted::<T>().1);
		}
		let deadline = now.saturating_add(T::ProposalWindow::get());
		frame_system::Pallet::<T>::set_block_number(deadline);

		#[block]
		{
			Pallet::<T>::on_initialize(deadline);
		}

		for id in ids {
			assert!(matches!(
				Jobs::<T>::get(id).map(|j| j.status),
				Some(JobStatus::Assigned { .. }) | Some(JobStatus::Expired)
			));
		}
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::ExtBuilder.build(), crate::mock::Test);
}
