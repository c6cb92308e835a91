//! Retention of finished jobs (attack 5), running market totals and the cursor-paged `nodes`
//! read (attack 11).

use crate::{mock::*, runtime_api::MAX_SCAN, *};
use alloc::collections::BTreeMap;
use frame_support::weights::Weight;
use frame_support::{
	assert_ok,
	traits::{Get, Hooks},
};

const BUDGET: Balance = 200 * UNIT;

fn retention() -> u64 {
	<Test as Config>::JobRetention::get()
}

fn max_prune() -> u32 {
	<Test as Config>::MaxPrunePerBlock::get()
}

/// Registers a node of `gpus` GPUs for `owner`, with `worker` bound to it.
fn node(owner: AccountId, worker: AccountId, gpus: u32) -> NodeId {
	let id = pallet_compute_registry::NextNodeId::<Test>::get();
	assert_ok!(Registry::register_node(
		RuntimeOrigin::signed(owner),
		spec(gpus, 2 * UNIT, 90, 40),
		worker
	));
	if worker != owner {
		assert_ok!(Registry::accept_worker(RuntimeOrigin::signed(worker), id));
	}
	id
}

fn submit() -> JobId {
	let id = NextJobId::<Test>::get();
	assert_ok!(ComputeJobs::submit_job(RuntimeOrigin::signed(USER), demo_requirements(), BUDGET));
	id
}

/// Submits a job and has it settled on `node` (run by `worker`) in the current block.
fn settled(node: NodeId, worker: AccountId) -> JobId {
	let job = submit();
	assert_ok!(ComputeJobs::propose_assignment(RuntimeOrigin::signed(V1), job, node));
	assert_ok!(ComputeJobs::propose_assignment(RuntimeOrigin::signed(V2), job, node));
	assert_ok!(publish_result(worker, job));
	assert_ok!(ComputeJobs::attest(RuntimeOrigin::signed(V1), job, true));
	assert_ok!(ComputeJobs::attest(RuntimeOrigin::signed(V2), job, true));
	job
}

/// Totals recounted from what is stored now.
fn recount() -> MarketTotals<Balance> {
	let mut totals = MarketTotals::default();
	for (_, job) in Jobs::<Test>::iter() {
		totals.count_end(&job.status);
	}
	for (_, receipt) in Receipts::<Test>::iter() {
		totals.count_receipt(&receipt);
	}
	totals
}

fn stored_jobs() -> usize {
	Jobs::<Test>::iter().count()
}

/// Attack 5: before this change, `Jobs` and `Receipts` kept every job forever: anyone paying
/// `MinJobBudget` (returned on cancel) grew state for good. Now a finished job and its receipt
/// stay readable through the `job` API for `JobRetention` blocks, then `on_initialize` prunes
/// them, with any per-job storage; the receipt remains in the `JobSettled` event and the
/// market totals keep counting it.
#[test]
fn a_settled_job_and_its_receipt_are_readable_until_the_retention_ends() {
	ExtBuilder.build_and_execute(|| {
		let a = node(SOLAR_A, SOLAR_A_WORKER, 8);
		let job = settled(a, SOLAR_A_WORKER);
		let (stored, receipt) = ComputeJobs::job_details(job).expect("readable");
		assert_eq!(stored.status, JobStatus::Settled { node: a });
		let receipt = receipt.expect("receipt");
		assert_eq!(receipt.model_hash, H256::repeat_byte(9));
		System::assert_has_event(
			Event::JobSettled {
				job_id: job,
				node_id: a,
				provider: SOLAR_A,
				cost: receipt.cost,
				provider_amount: receipt.provider_amount,
				fund_amount: receipt.fund_amount,
				renewable_bonus: receipt.renewable_bonus,
				subsidy: receipt.subsidy,
				subsidy_id: receipt.subsidy_id,
				refund: receipt.saving,
				model_hash: receipt.model_hash,
				energy_wh: receipt.energy_wh,
				carbon_grams: receipt.carbon_grams,
				carbon_reduction_grams: receipt.carbon_reduction_grams,
			}
			.into(),
		);
		assert_eq!(Retired::<Test>::get(0), Some((job, 1 + retention())));

		run_to_block(retention());
		assert_eq!(ComputeJobs::job_details(job).map(|(_, r)| r), Some(Some(receipt.clone())));
		run_to_block(1 + retention());
		assert_eq!(ComputeJobs::job_details(job), None);
		assert!(!Receipts::<Test>::contains_key(job));
		assert!(!Attestations::<Test>::contains_key(job) && !Proposals::<Test>::contains_key(job));
		assert_eq!((RetiredHead::<Test>::get(), RetiredTail::<Test>::get()), (1, 1));
		assert_eq!(Retired::<Test>::get(0), None);

		// The totals still count it: `market_stats` no longer depends on what is stored.
		let stats = ComputeJobs::market_stats();
		assert_eq!((stats.jobs_submitted, stats.settled_jobs, stats.open_jobs), (1, 1, 0));
		assert_eq!(stats.volume, receipt.cost);
		assert_eq!(stats.carbon_reduction_grams, receipt.carbon_reduction_grams);
	});
}

/// Attack 5: pruning is bounded per block. A burst of more than `MaxPrunePerBlock` jobs
/// finishing together is pruned over several blocks, oldest first, never more than the maximum
/// in one block, and `on_initialize` reports the weight of what it pruned.
#[test]
fn a_burst_of_finished_jobs_is_pruned_over_several_blocks() {
	ExtBuilder.build_and_execute(|| {
		let burst = 2 * max_prune() + 2;
		for _ in 0..burst {
			let job = submit();
			assert_ok!(ComputeJobs::cancel_job(RuntimeOrigin::signed(USER), job));
		}
		// One more job ends three blocks later: it is not due with the burst.
		run_to_block(4);
		let late = submit();
		assert_ok!(ComputeJobs::cancel_job(RuntimeOrigin::signed(USER), late));
		assert_eq!(stored_jobs(), burst as usize + 1);

		run_to_block(retention());
		assert_eq!(stored_jobs(), burst as usize + 1);
		let mut left = burst;
		let mut block = retention();
		while left > 0 {
			block += 1;
			System::set_block_number(block);
			let weight = ComputeJobs::on_initialize(block);
			let pruned = left.min(max_prune());
			left -= pruned;
			assert_eq!(stored_jobs(), (left + 1) as usize, "block {block}");
			let expected = ComputeJobs::deadlines_weight(0)
				.saturating_add(<() as WeightInfo>::on_initialize_queue(0))
				.saturating_add(<() as WeightInfo>::on_initialize_prune(pruned))
				// No federated job stored: the list is read.
				.saturating_add(<() as WeightInfo>::on_initialize_federations(0))
				.saturating_add(
					<<Test as frame_system::Config>::DbWeight as frame_support::traits::Get<
						frame_support::weights::RuntimeDbWeight,
					>>::get()
					.reads(1),
				);
			assert_eq!(weight, expected);
			// Oldest first: the job ids still stored are the latest ones.
			let first_left = u64::from(burst - left);
			assert!(Jobs::<Test>::iter_keys().all(|id| id >= first_left));
		}
		// The burst took three blocks; the late job was read but not due yet.
		assert_eq!(block, 3 + retention());
		assert_eq!(stored_jobs(), 1);
		run_to_block(4 + retention());
		assert_eq!(stored_jobs(), 0);
		assert_eq!(ComputeJobs::market_stats().cancelled_jobs, u64::from(burst) + 1);
	});
}

/// A tiny deterministic generator for the random sequences.
struct Rng(u64);
impl Rng {
	fn next(&mut self, below: u64) -> u64 {
		self.0 ^= self.0 << 13;
		self.0 ^= self.0 >> 7;
		self.0 ^= self.0 << 17;
		self.0 % below
	}
}

/// Every finished job seen, with its receipt.
type History = BTreeMap<JobId, (JobStatus<Balance>, Option<JobReceipt<AccountId, Balance>>)>;

/// Records every finished job seen in state (before it can be pruned): the recount of the
/// whole history.
fn observe(history: &mut History) {
	for (id, job) in Jobs::<Test>::iter() {
		if !job.status.is_open() {
			history.entry(id).or_insert_with(|| (job.status.clone(), Receipts::<Test>::get(id)));
		}
	}
}

fn history_totals(history: &History) -> MarketTotals<Balance> {
	let mut totals = MarketTotals::default();
	for (status, receipt) in history.values() {
		totals.count_end(status);
		if let Some(receipt) = receipt {
			totals.count_receipt(receipt);
		}
	}
	totals
}

/// Attack 11: before this change `market_stats` iterated every node, job and receipt, and
/// its figures would have dropped as jobs were pruned. The running totals equal a recount of
/// the whole history across random sequences of submissions, cancellations, assignments,
/// results, verdicts (accept, reject, split) and deadlines (expiry, timeout, unverified),
/// and stay right while the jobs are pruned.
#[test]
fn totals_equal_a_recount_across_random_operations() {
	// Every way a job can end, over all seeds.
	let mut ends = MarketTotals::<Balance>::default();
	for seed in [1u64, 7, 42, 1_234, 99_999] {
		ExtBuilder.build_and_execute(|| {
			let nodes = [
				(node(SOLAR_A, SOLAR_A_WORKER, 8), SOLAR_A_WORKER),
				(node(SOLAR_B, SOLAR_B_WORKER, 16), SOLAR_B_WORKER),
				(node(GRID, GRID_WORKER, 8), GRID_WORKER),
			];
			let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
			let mut history = BTreeMap::new();
			for _ in 0..150 {
				// Mostly a job at the stage the operation needs; sometimes any id (errors).
				let stage = rng.next(8);
				let at_stage: Vec<JobId> = Jobs::<Test>::iter()
					.filter(|(_, j)| match stage {
						2 | 3 => j.status == JobStatus::Pending,
						4 => matches!(j.status, JobStatus::Assigned { .. }),
						5 => matches!(j.status, JobStatus::ResultSubmitted { .. }),
						_ => true,
					})
					.map(|(id, _)| id)
					.collect();
				let job = match rng.next(5) {
					0 => rng.next(NextJobId::<Test>::get().max(1)),
					_ if at_stage.is_empty() => rng.next(NextJobId::<Test>::get().max(1)),
					_ => at_stage[rng.next(at_stage.len() as u64) as usize],
				};
				match stage {
					0 | 1 => {
						let _ = ComputeJobs::submit_job(
							RuntimeOrigin::signed(USER),
							demo_requirements(),
							BUDGET,
						);
					},
					2 => {
						let _ = ComputeJobs::cancel_job(RuntimeOrigin::signed(USER), job);
					},
					3 => {
						let (node_id, _) = nodes[rng.next(3) as usize];
						for v in [V1, V2] {
							let _ = ComputeJobs::propose_assignment(
								RuntimeOrigin::signed(v),
								job,
								node_id,
							);
						}
					},
					4 => {
						if let Some(JobStatus::Assigned { node, .. }) =
							Jobs::<Test>::get(job).map(|j| j.status)
						{
							let worker = nodes.iter().find(|(n, _)| *n == node).map(|(_, w)| *w);
							let _ = ComputeJobs::submit_result(
								RuntimeOrigin::signed(worker.unwrap_or(OUTSIDER)),
								job,
								H256::repeat_byte(3),
								metrics(),
								ComputeJobs::expected_commitment(job, H256::repeat_byte(7)),
							);
						}
					},
					5 => {
						// Both accept, both reject, or split (undecided until the window ends).
						let (first, second) = match rng.next(3) {
							0 => (true, true),
							1 => (false, false),
							_ => (true, false),
						};
						let _ = ComputeJobs::attest(RuntimeOrigin::signed(V1), job, first);
						let _ = ComputeJobs::attest(RuntimeOrigin::signed(V2), job, second);
					},
					_ => run_to_block(System::block_number() + 1 + rng.next(3)),
				}
				observe(&mut history);
				assert_eq!(Totals::<Test>::get(), history_totals(&history), "seed {seed}");
			}
			// Run until every job has ended and been pruned, checking every block.
			let end = System::block_number() + 2 * retention() + RESULT_TIMEOUT;
			while System::block_number() < end {
				run_to_block(System::block_number() + 1);
				observe(&mut history);
				let totals = Totals::<Test>::get();
				assert_eq!(totals, history_totals(&history), "seed {seed}");
				let stats = ComputeJobs::market_stats();
				let open = Jobs::<Test>::iter_values().filter(|j| j.status.is_open()).count();
				assert_eq!(stats.open_jobs, open as u64);
				assert_eq!(stats.settled_jobs, totals.settled_jobs);
			}
			assert_eq!(stored_jobs(), 0, "seed {seed}");
			assert_eq!(Receipts::<Test>::iter().count(), 0);
			assert_eq!(Retired::<Test>::iter().count(), 0);
			assert_eq!(RetiredHead::<Test>::get(), NextJobId::<Test>::get());
			assert_eq!(history.len() as u64, NextJobId::<Test>::get());
			for (status, _) in history.values() {
				ends.count_end(status);
			}
		});
	}
	let rejected_or_timed_out = ends.failed_jobs;
	assert!(
		[
			ends.settled_jobs,
			rejected_or_timed_out,
			ends.unverified_jobs,
			ends.expired_jobs,
			ends.cancelled_jobs
		]
		.iter()
		.all(|n| *n > 0),
		"{ends:?}"
	);
}

/// Attack 11: before this change `market_stats` counted jobs by iterating `Jobs`, so a job
/// written without going through the pallet's end of life (or, now, a pruned one) changed the
/// figures. It reads only the running totals now.
#[test]
fn market_stats_reads_the_totals_not_the_jobs() {
	ExtBuilder.build_and_execute(|| {
		let a = node(SOLAR_A, SOLAR_A_WORKER, 8);
		settled(a, SOLAR_A_WORKER);
		let before = ComputeJobs::market_stats();
		assert_eq!(before.settled_jobs, 1);
		assert_eq!(Totals::<Test>::get(), recount());
		// A stray settled job written straight to storage is not counted.
		let mut stray = Jobs::<Test>::get(0).expect("job");
		stray.status = JobStatus::Settled { node: a };
		Jobs::<Test>::insert(77, stray);
		assert_eq!(ComputeJobs::market_stats(), before);
		Jobs::<Test>::remove(77);
		// Node figures come from the registry's running totals.
		assert_eq!(before.nodes, 1);
		assert_eq!(before.active_nodes, 1);
		assert_eq!(before.total_gpus, 8);
		assert_eq!(before.renewable_nodes, 1);
	});
}

/// The invariants catch a finished job that is not queued for pruning (it would stay forever).
#[test]
fn try_state_catches_a_finished_job_missing_from_the_pruning_queue() {
	ExtBuilder.build_and_execute(|| {
		let job = submit();
		assert_ok!(ComputeJobs::cancel_job(RuntimeOrigin::signed(USER), job));
		assert_ok!(ComputeJobs::do_try_state());
		let entry = Retired::<Test>::take(0);
		assert!(ComputeJobs::do_try_state().is_err());
		Retired::<Test>::set(0, entry);
		Totals::<Test>::mutate(|t| t.cancelled_jobs = 0);
		assert!(ComputeJobs::do_try_state().is_err());
		Totals::<Test>::mutate(|t| t.cancelled_jobs = 1);
	});
}

/// Attack 11: before this change `nodes` iterated and sorted every registered node for each
/// page. It now reads ids from a cursor, at most `MAX_SCAN` of them per call, and every node
/// comes back exactly once across the pages, whatever the page size, filter and gaps.
#[test]
fn nodes_pages_return_every_node_once_with_the_cursor() {
	ExtBuilder.build_and_execute(|| {
		let owners = [SOLAR_A, SOLAR_B, GRID];
		for i in 0..12u32 {
			let owner = owners[(i % 3) as usize];
			let gpus = [4, 8, 16][(i % 3) as usize];
			node(owner, 100 + u64::from(i), gpus);
		}
		// A gap: node 4 leaves for good.
		assert_ok!(Registry::deregister_node(RuntimeOrigin::signed(SOLAR_B), 4));
		run_to_block(20);
		assert_ok!(Registry::withdraw_bond(RuntimeOrigin::signed(SOLAR_B), 4));

		for (min_gpus, limit) in [(0, 1), (0, 5), (8, 3), (16, 2), (0, 1_000), (17, 4)] {
			let mut seen = Vec::new();
			let mut from = Some(0);
			let mut calls = 0;
			while let Some(cursor) = from {
				let page = ComputeJobs::nodes_page(min_gpus, false, cursor, limit);
				assert!(page.nodes.len() <= limit.min(runtime_api::MAX_PAGE_SIZE) as usize);
				seen.extend(page.nodes.into_iter().map(|(id, _)| id));
				from = page.next;
				calls += 1;
				assert!(calls < 100, "the cursor advances");
			}
			let mut expected: Vec<NodeId> = pallet_compute_registry::Nodes::<Test>::iter()
				.filter(|(_, n)| n.spec.gpu_count >= min_gpus)
				.map(|(id, _)| id)
				.collect();
			expected.sort();
			assert_eq!(seen, expected, "min_gpus {min_gpus}, limit {limit}");
		}
		// Live only: nodes past their heartbeat timeout are left out.
		run_to_block(200);
		assert_ok!(Registry::heartbeat(RuntimeOrigin::signed(GRID), 2));
		let live = ComputeJobs::nodes_page(0, true, 0, 100);
		assert_eq!(live.nodes.iter().map(|(id, _)| *id).collect::<Vec<_>>(), vec![2]);
		assert_eq!(live.next, None);
	});
}

/// Attack 11: one `nodes` call reads at most `MAX_SCAN` ids, however sparse the ids are; the
/// cursor carries the scan on.
#[test]
fn a_nodes_call_reads_at_most_max_scan_ids() {
	ExtBuilder.build_and_execute(|| {
		let first = node(SOLAR_A, SOLAR_A, 8);
		// Ids up to 2.5 × MAX_SCAN were handed out, and all but the first node left.
		let end = MAX_SCAN * 5 / 2;
		pallet_compute_registry::NextNodeId::<Test>::put(end);
		let page = ComputeJobs::nodes_page(0, false, 0, 10);
		assert_eq!(page.nodes.len(), 1);
		assert_eq!(page.nodes[0].0, first);
		assert_eq!(page.next, Some(MAX_SCAN));
		let page = ComputeJobs::nodes_page(0, false, MAX_SCAN, 10);
		assert!(page.nodes.is_empty());
		assert_eq!(page.next, Some(2 * MAX_SCAN));
		let page = ComputeJobs::nodes_page(0, false, 2 * MAX_SCAN, 10);
		assert!(page.nodes.is_empty());
		assert_eq!(page.next, None);
		// A full page stops at the last match.
		let page = ComputeJobs::nodes_page(0, false, 0, 1);
		assert_eq!(page.next, Some(first + 1));
		pallet_compute_registry::NextNodeId::<Test>::put(first + 1);
	});
}

/// A backlog left by a burst drains faster when blocks leave weight unused: `on_idle` prunes
/// beyond `MaxPrunePerBlock` within the weight it is given, and nothing without it.
#[test]
fn idle_weight_drains_a_backlog() {
	ExtBuilder.build_and_execute(|| {
		let burst = 3 * max_prune();
		for _ in 0..burst {
			let job = submit();
			assert_ok!(ComputeJobs::cancel_job(RuntimeOrigin::signed(USER), job));
		}
		run_to_block(1 + retention());
		assert_eq!(stored_jobs(), (burst - max_prune()) as usize);
		let now = System::block_number();
		// Too little weight for even one job: nothing is read or pruned.
		let base = <() as WeightInfo>::on_initialize_prune(0);
		assert_eq!(ComputeJobs::on_idle(now, base), Weight::zero());
		assert_eq!(stored_jobs(), (burst - max_prune()) as usize);
		// Room for exactly three more.
		let three = <() as WeightInfo>::on_initialize_prune(3);
		assert_eq!(ComputeJobs::on_idle(now, three), three);
		assert_eq!(stored_jobs(), (burst - max_prune() - 3) as usize);
		// Plenty of room: the rest goes.
		ComputeJobs::on_idle(now, Weight::MAX);
		assert_eq!(stored_jobs(), 0);
	});
}
