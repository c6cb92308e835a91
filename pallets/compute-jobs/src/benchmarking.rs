//! Benchmarks of the jobs pallet's calls and deadline processing, each in its worst case:
//! deadline queues that spill to the last block looked at, proposals and attestations that
//! reach the deciding majority, settlement with a renewable bonus, a fallback that reads
//! `MaxFallbackCandidates` nodes, and a decline that re-opens matching past full queues.

mod helpers;

use super::*;
use aicchain_primitives::{AggregationRule, FederationSpec, RoundVerdict};
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{fungible::Mutate, EnsureOrigin, Get, Hooks},
	BoundedVec,
};
use frame_system::RawOrigin;
use helpers::*;
use sp_runtime::{traits::Zero, Perbill, Saturating};

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

	/// A federated job of `n` members, matched from a full bucket of candidates (each read),
	/// with the list of stored federated jobs one short of full.
	#[benchmark]
	fn submit_federated(n: Linear<2, { T::MaxFederationProviders::get() }>) {
		known_dataset::<T>();
		for i in 0..n {
			node::<T>(i);
		}
		fill_bucket_with_repeats::<T>();
		let filler: alloc::vec::Vec<JobId> = (0..T::MaxFederations::get().saturating_sub(1))
			.map(|i| u64::MAX - u64::from(i))
			.collect();
		FederationIds::<T>::put(BoundedVec::truncate_from(filler));
		let user = funded::<T>("user", 0);
		let id = NextJobId::<T>::get();
		let federated = FederationSpec {
			providers: u8::try_from(n).unwrap_or(u8::MAX),
			rounds: u8::try_from(T::MaxFederationRounds::get()).unwrap_or(u8::MAX),
			rule: AggregationRule::Median,
		};

		#[extrinsic_call]
		_(RawOrigin::Signed(user), requirements(), federated, budget::<T>());

		assert!(Federations::<T>::contains_key(id));
	}

	/// The last member's update (found last among the members) opens the round's judgement.
	#[benchmark]
	fn submit_update() {
		let (_, id, workers) = federated_job::<T>(T::MaxFederationProviders::get(), 0);
		let (last, others) = workers.split_last().expect("members");
		for (i, worker) in others.iter().enumerate() {
			let update = helpers::hash_of(i as u64 + 1);
			assert!(Pallet::<T>::submit_update(
				RawOrigin::Signed(worker.clone()).into(),
				id,
				0,
				update
			)
			.is_ok());
		}

		#[extrinsic_call]
		_(RawOrigin::Signed(last.clone()), id, 0, H256::repeat_byte(0xee));

		assert_eq!(Federations::<T>::get(id).map(|j| j.stage), Some(FederationStage::Aggregating));
	}

	/// The vote that makes a majority on the last round of an `n`-member job: one member is
	/// excluded (slashed), the others are paid with AICG rewards for the deciding validators,
	/// and the model is recorded.
	#[benchmark]
	fn attest_round(n: Linear<2, { T::MaxFederationProviders::get() }>) {
		<T as Config>::Currency::set_balance(&T::CommunityFund::get(), budget::<T>());
		let (_, id, workers) = federated_job::<T>(n, 0);
		for (i, worker) in workers.iter().enumerate() {
			let update = helpers::hash_of(i as u64 + 1);
			assert!(Pallet::<T>::submit_update(
				RawOrigin::Signed(worker.clone()).into(),
				id,
				0,
				update
			)
			.is_ok());
		}
		let verdict = RoundVerdict { aggregate: H256::repeat_byte(0xa9), excluded: 1 };
		let metrics = QuantisedMetrics {
			score: Perbill::from_percent(87),
			loss_millionths: 1,
			eval_samples: 1,
		};
		let set = validators::<T>();
		let half = usize::try_from(T::Validators::count() / 2).unwrap_or_default();
		let earlier: alloc::vec::Vec<_> =
			set.iter().take(half).map(|v| (v.clone(), verdict, metrics)).collect();
		RoundVotes::<T>::insert(id, BoundedVec::truncate_from(earlier));
		let caller = set.get(half).cloned().expect("set has more than half");

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), id, 0, verdict, metrics);

		assert_eq!(Federations::<T>::get(id).map(|j| j.stage), Some(FederationStage::Settled));
	}

	/// `f` federated jobs whose judgement window closes without a majority: each pays its
	/// `MaxFederationProviders` members for an agreed round and refunds the rest.
	#[benchmark]
	fn on_initialize_federations(f: Linear<0, { T::MaxFederations::get() }>) {
		let providers = T::MaxFederationProviders::get();
		let (user, template, _) = federated_job::<T>(providers, 0);
		let mut job = Federations::<T>::take(template).expect("submitted");
		FederationIds::<T>::kill();
		job.federated.rounds = 2;
		job.stage = FederationStage::Aggregating;
		for member in job.members.iter_mut() {
			member.rounds = 1;
			member.update = Some(H256::repeat_byte(1));
		}
		let now = frame_system::Pallet::<T>::block_number();
		job.deadline = now;
		let mut ids = alloc::vec::Vec::new();
		for i in 0..f {
			let id = u64::MAX - u64::from(i);
			if i > 0 {
				assert!(<T as Config>::Currency::hold(
					&HoldReason::JobEscrow.into(),
					&user,
					job.budget
				)
				.is_ok());
			}
			Federations::<T>::insert(id, job.clone());
			ids.push(id);
		}
		if f == 0 {
			let _ = <T as Config>::Currency::release(
				&HoldReason::JobEscrow.into(),
				&user,
				job.budget,
				frame_support::traits::tokens::Precision::BestEffort,
			);
		}
		FederationIds::<T>::put(BoundedVec::truncate_from(ids.clone()));

		#[block]
		{
			Pallet::<T>::process_federations(now);
		}

		for id in ids {
			assert_eq!(Federations::<T>::get(id).map(|j| j.stage), Some(FederationStage::Failed));
		}
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::ExtBuilder.build(), crate::mock::Test);
}
