//! Benchmarks of the jobs pallet's calls and deadline processing, each in its worst case:
//! deadline queues that spill to the last block looked at, proposals and attestations that
//! reach the deciding majority, settlement with a renewable bonus, a fallback that reads
//! `MaxFallbackCandidates` nodes, and a decline that re-opens matching past full queues.

use super::*;
use aicchain_primitives::{ModelKind, NodeSpec, Region, SustainabilityPreference, TrainingSpec};
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{fungible::Mutate, EnsureOrigin, Get, Hooks},
	BoundedVec,
};
use frame_system::pallet_prelude::BlockNumberFor;
use frame_system::RawOrigin;
use sp_runtime::{
	traits::{Bounded, Zero},
	Perbill, Percent, Saturating,
};

fn requirements() -> JobRequirements {
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
fn known_dataset<T: Config>() {
	for (hash, info) in aicchain_primitives::datasets::shipped() {
		Datasets::<T>::insert(hash, info);
	}
}

/// The largest record a dataset may have.
fn largest_dataset() -> aicchain_primitives::DatasetInfo {
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
fn owned_dataset<T: Config>() -> Result<(H256, T::AccountId), BenchmarkError> {
	let owner = funded::<T>("owner", 0);
	let hash = H256::repeat_byte(0xda);
	Pallet::<T>::add_dataset(RawOrigin::Signed(owner.clone()).into(), hash, largest_dataset())
		.map_err(|_| BenchmarkError::Stop("add_dataset failed"))?;
	Ok((hash, owner))
}

fn held_for_datasets<T: Config>(who: &T::AccountId) -> BalanceOf<T> {
	<T as Config>::Currency::balance_on_hold(&HoldReason::DatasetDeposit.into(), who)
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
	assert!(pallet_compute_registry::Pallet::<T>::accept_worker(
		RawOrigin::Signed(worker.clone()).into(),
		id
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

/// Fills the rest of the 8-GPU bucket by repeating the nodes in it: a full bucket to decode,
/// and every candidate sample, wherever it starts, holds each of them (the costliest sample:
/// no ids of nodes that do not exist).
fn fill_bucket_with_repeats<T: Config>() {
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
fn validators<T: Config>() -> alloc::vec::Vec<T::AccountId> {
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

fn submitted<T: Config>() -> (T::AccountId, JobId) {
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
		known_dataset::<T>();
		let user = funded::<T>("user", 0);
		// The costlier check: a private dataset, read twice to see that it is the user's.
		let hash = H256(aicchain_primitives::datasets::CREDIT_SCORING_HASH);
		Datasets::<T>::mutate(hash, |info| {
			if let Some(info) = info {
				info.public = false;
			}
		});
		DatasetOwners::<T>::insert(hash, (user.clone(), T::DatasetDeposit::get()));
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
		fill_deadlines::<T>(Pallet::<T>::result_deadline(&requirements(), now));

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

		let commitment = Pallet::<T>::expected_commitment(job_id, H256::repeat_byte(7));

		#[extrinsic_call]
		_(RawOrigin::Signed(worker), job_id, H256::repeat_byte(9), metrics, commitment);

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
			metrics,
			Pallet::<T>::expected_commitment(job_id, H256::repeat_byte(7))
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

	/// The assigned node declines a job that others declined before: the longest `Declined`
	/// list that still sends the job back to matching (one more decline would expire it, a
	/// cheaper path: a refund instead of a search of up to `MaxDeadlinesPerBlock` deadline
	/// queues for the new proposal window, all of them full but the last).
	#[benchmark]
	fn decline_job() {
		let (node_id, worker) = node::<T>(0);
		let job_id = assigned::<T>(node_id);
		let earlier: alloc::vec::Vec<NodeId> = (0..T::MaxDeclines::get().saturating_sub(2))
			.map(|i| u32::MAX.saturating_sub(i))
			.collect();
		Declined::<T>::insert(job_id, BoundedVec::truncate_from(earlier));
		let now = frame_system::Pallet::<T>::block_number();
		fill_deadlines::<T>(now.saturating_add(T::ProposalWindow::get()));

		#[extrinsic_call]
		_(RawOrigin::Signed(worker), job_id);

		assert!(matches!(
			Jobs::<T>::get(job_id).map(|j| j.status),
			Some(JobStatus::Pending) | Some(JobStatus::Expired)
		));
		assert!(Pallet::<T>::has_declined(job_id, node_id) || T::MaxDeclines::get() < 2);
	}

	#[benchmark]
	fn register_dataset() -> Result<(), BenchmarkError> {
		let origin =
			T::DatasetOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let hash = H256::repeat_byte(0xda);

		let info = aicchain_primitives::DatasetInfo { public: true, ..largest_dataset() };

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, hash, info);

		assert!(Datasets::<T>::contains_key(hash));
		Ok(())
	}

	/// Removing a user's dataset: its deposit is released too.
	#[benchmark]
	fn remove_dataset() -> Result<(), BenchmarkError> {
		let origin =
			T::DatasetOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let (hash, owner) = owned_dataset::<T>()?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, hash);

		assert!(!Datasets::<T>::contains_key(hash));
		assert!(held_for_datasets::<T>(&owner).is_zero());
		Ok(())
	}

	#[benchmark]
	fn add_dataset() {
		let owner = funded::<T>("owner", 0);
		let hash = H256::repeat_byte(0xda);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner.clone()), hash, largest_dataset());

		assert!(DatasetOwners::<T>::contains_key(hash));
		assert_eq!(held_for_datasets::<T>(&owner), T::DatasetDeposit::get());
	}

	#[benchmark]
	fn withdraw_dataset() -> Result<(), BenchmarkError> {
		let (hash, owner) = owned_dataset::<T>()?;

		#[extrinsic_call]
		_(RawOrigin::Signed(owner.clone()), hash);

		assert!(!Datasets::<T>::contains_key(hash));
		assert!(held_for_datasets::<T>(&owner).is_zero());
		Ok(())
	}

	/// `n` pending jobs reach their proposal deadline with no proposals while every node is
	/// busy: each runs the fallback over `MaxFallbackCandidates` nodes, finds no room, reads
	/// them again to tell "busy" from "never", and is queued (the costlier path than an
	/// assignment, which reads the candidates once) into a full wait queue, displacing the
	/// lowest bid there (which expires refunded).
	#[benchmark]
	fn on_initialize(n: Linear<0, { T::MaxDeadlinesPerBlock::get() }>) {
		// A full queue of jobs bidding nothing, each a copy of a real submission.
		let (_, template_id) = submitted::<T>();
		let template = Jobs::<T>::take(template_id).expect("submitted");
		Pallet::<T>::unschedule(template_id, template.deadline);
		let mut queue = alloc::vec::Vec::new();
		for i in 0..u64::from(T::MaxQueuedJobs::get()) {
			let id = JobId::MAX - i;
			let job = Job { status: JobStatus::Queued, budget: Zero::zero(), ..template.clone() };
			Jobs::<T>::insert(id, job);
			queue.push((id, BalanceOf::<T>::zero()));
		}
		WaitQueue::<T>::put(BoundedVec::truncate_from(queue));
		for i in 0..T::MaxFallbackCandidates::get() {
			let (id, _) = node::<T>(i);
			pallet_compute_registry::Nodes::<T>::mutate(id, |n| {
				if let Some(n) = n {
					n.active_gpus = n.spec.gpu_count;
				}
			});
		}
		fill_bucket_with_repeats::<T>();
		let now = frame_system::Pallet::<T>::block_number();
		let mut ids = alloc::vec::Vec::new();
		for _ in 0..n {
			ids.push(submitted::<T>().1);
		}
		let deadline = now.saturating_add(T::ProposalWindow::get());
		frame_system::Pallet::<T>::set_block_number(deadline);

		#[block]
		{
			// The deadlines' part of the hook: the queue scan and pruning are weighed on their
			// own (`on_initialize_queue`, `on_initialize_prune`) and added by the hook.
			for job_id in Deadlines::<T>::take(deadline) {
				Pallet::<T>::process_deadline(job_id, deadline);
			}
		}

		for id in ids {
			assert_eq!(Jobs::<T>::get(id).map(|j| j.status), Some(JobStatus::Queued));
		}
	}

	/// `n` queued jobs are matched: each runs the fallback over `MaxFallbackCandidates` nodes
	/// and is assigned.
	#[benchmark]
	fn on_initialize_queue(n: Linear<0, { T::MaxQueueScan::get() }>) {
		for i in 0..T::MaxFallbackCandidates::get().max(T::MaxQueueScan::get()) {
			node::<T>(i);
		}
		fill_bucket_with_repeats::<T>();
		let mut ids = alloc::vec::Vec::new();
		for _ in 0..n {
			let (_, id) = submitted::<T>();
			Jobs::<T>::mutate(id, |job| {
				if let Some(job) = job {
					job.status = JobStatus::Queued;
				}
			});
			let bid = Jobs::<T>::get(id).map(|j| Pallet::<T>::bid(&j)).unwrap_or_default();
			assert!(WaitQueue::<T>::try_append((id, bid)).is_ok());
			ids.push(id);
		}
		let now = frame_system::Pallet::<T>::block_number();

		#[block]
		{
			Pallet::<T>::match_queue(now);
		}

		for id in ids {
			assert!(matches!(
				Jobs::<T>::get(id).map(|j| j.status),
				Some(JobStatus::Assigned { .. })
			));
		}
	}

	/// `n` submitted results reach the end of their attestation window with a majority of
	/// the validator set accepting: each settles with a subsidy, a renewable bonus and AICG
	/// rewards for `MaxValidators` verifiers, the costliest deadline path.
	#[benchmark]
	fn on_initialize_settle(n: Linear<0, { T::MaxDeadlinesPerBlock::get() }>) {
		<T as Config>::Currency::set_balance(&T::CommunityFund::get(), budget::<T>());
		T::Subsidies::activate_for_benchmark(budget::<T>() / 10u32.into());
		let set = validators::<T>();
		let majority = usize::try_from(T::Validators::count() / 2 + 1).unwrap_or_default();
		let votes: alloc::vec::Vec<(T::AccountId, bool)> =
			set.iter().take(majority).map(|v| (v.clone(), true)).collect();
		let metrics = QuantisedMetrics {
			score: Perbill::from_percent(87),
			loss_millionths: 1,
			eval_samples: 1,
		};
		let mut ids = alloc::vec::Vec::new();
		for i in 0..n {
			let (node_id, worker) = node::<T>(i);
			let job_id = assigned::<T>(node_id);
			assert!(Pallet::<T>::submit_result(
				RawOrigin::Signed(worker).into(),
				job_id,
				H256::repeat_byte(9),
				metrics,
				Pallet::<T>::expected_commitment(job_id, H256::repeat_byte(7))
			)
			.is_ok());
			Attestations::<T>::insert(job_id, BoundedVec::truncate_from(votes.clone()));
			ids.push(job_id);
		}
		let now = frame_system::Pallet::<T>::block_number();
		let deadline = now.saturating_add(T::AttestationWindow::get());
		frame_system::Pallet::<T>::set_block_number(deadline);

		#[block]
		{
			Pallet::<T>::on_initialize(deadline);
		}

		for id in ids {
			assert!(Receipts::<T>::contains_key(id));
		}
	}

	/// `p` finished jobs are due for pruning, and one more entry is read and found not due.
	#[benchmark]
	fn on_initialize_prune(p: Linear<0, { T::MaxPrunePerBlock::get() }>) {
		for _ in 0..p {
			let (user, job_id) = submitted::<T>();
			assert!(Pallet::<T>::cancel_job(RawOrigin::Signed(user).into(), job_id).is_ok());
		}
		let due = frame_system::Pallet::<T>::block_number().saturating_add(T::JobRetention::get());
		let tail = RetiredTail::<T>::get();
		Retired::<T>::insert(tail, (JobId::MAX, due.saturating_add(1u32.into())));
		RetiredTail::<T>::put(tail.saturating_add(1));
		frame_system::Pallet::<T>::set_block_number(due);

		#[block]
		{
			Pallet::<T>::on_initialize(due);
		}

		assert_eq!(RetiredHead::<T>::get(), u64::from(p));
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::ExtBuilder.build(), crate::mock::Test);
}
