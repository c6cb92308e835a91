//! Reads of the compute market for RPC clients (`ComputeApi`), executed by the node off-chain.

use crate::{pallet::*, BalanceOf, BlockNumberOf, Job, JobReceipt};
use aicchain_primitives::{JobId, JobRequirements, NodeId, SustainabilityPreference};
use alloc::vec::Vec;
use codec::{Decode, Encode};
use frame_support::traits::Get;
use pallet_compute_registry::{NodeInfo, NodeStatus, Pallet as Registry};
use scale_info::TypeInfo;
use sp_runtime::Percent;

/// What a job with given requirements would cost now, and where.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug, Default)]
pub struct Quote<Balance> {
	/// Live, active nodes with a free slot that meet every hard constraint.
	pub eligible_nodes: u32,
	/// Of those, nodes with at least half their energy from renewables.
	pub renewable_nodes: u32,
	/// Cheapest and dearest cost among them (price × GPUs × hours).
	pub min_cost: Balance,
	pub max_cost: Balance,
	/// Energy the job would use, in Wh.
	pub energy_wh: u64,
	/// Emissions on the cleanest and dirtiest eligible node, in grams CO2e.
	pub min_carbon_grams: u64,
	pub max_carbon_grams: u64,
	/// Emissions on the reference grid, in grams CO2e.
	pub reference_carbon_grams: u64,
}

/// Market-wide figures, read in O(1) from running totals (nothing scans nodes or jobs).
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug, Default)]
pub struct MarketStats<Balance> {
	/// Registered nodes (active, dormant or unbonding).
	pub nodes: u32,
	/// Active nodes: those in the matching index. A node that misses its heartbeats is made
	/// dormant and leaves this count, so there is no separate count of live nodes.
	pub active_nodes: u32,
	/// Active nodes with at least half their energy from renewables.
	pub renewable_nodes: u32,
	/// GPUs of the active nodes.
	pub total_gpus: u64,
	pub jobs_submitted: u64,
	/// Jobs pending, assigned or awaiting attestations.
	pub open_jobs: u64,
	pub settled_jobs: u64,
	/// Rejected or timed out (bond slashed).
	pub failed_jobs: u64,
	/// Refunded without a decision of the validators.
	pub unverified_jobs: u64,
	/// Refunded because no eligible node was found.
	pub expired_jobs: u64,
	pub cancelled_jobs: u64,
	/// Sum of settled jobs' costs.
	pub volume: Balance,
	/// Paid to providers: their share, subsidies and renewable bonuses.
	pub provider_earnings: Balance,
	pub fund_income: Balance,
	pub subsidies_paid: Balance,
	pub renewable_bonuses: Balance,
	pub carbon_grams: u64,
	pub carbon_reduction_grams: u64,
}

/// The wait queue, seen from one job.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug, Default)]
pub struct QueueStatus {
	/// The job's place in the queue (1 at the head), `None` when it is not waiting.
	pub position: Option<u32>,
	/// Jobs waiting.
	pub length: u32,
	/// Jobs assigned from the queue so far.
	pub matched: u64,
	/// The mean number of blocks those jobs waited, `None` before the first: the expected
	/// wait, as far as the past tells.
	pub mean_wait_blocks: Option<u64>,
}

/// A job and, once settled, its receipt.
pub type JobDetails<AccountId, Balance, BlockNumber> =
	(Job<AccountId, Balance, BlockNumber>, Option<JobReceipt<AccountId, Balance>>);

/// One page of nodes, and where the next page starts.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
pub struct NodesPage<AccountId, Balance, BlockNumber> {
	/// Matching nodes, by increasing id.
	pub nodes: Vec<(NodeId, NodeInfo<AccountId, Balance, BlockNumber>)>,
	/// The id to pass as `from` for the next page; `None` once every id was read.
	pub next: Option<NodeId>,
}

sp_api::decl_runtime_apis! {
	/// Reads of the compute market for RPC clients.
	pub trait ComputeApi<AccountId, Balance, BlockNumber>
	where
		AccountId: codec::Codec,
		Balance: codec::Codec,
		BlockNumber: codec::Codec,
	{
		/// Price range, eligible nodes and carbon of a job; `Err(error name)` for requirements
		/// the chain would refuse.
		fn quote(requirements: JobRequirements) -> Result<Quote<Balance>, Vec<u8>>;
		/// Registered nodes with at least `min_gpus` GPUs (active and live ones only if asked),
		/// by id from `from`: at most `limit` (up to [`MAX_PAGE_SIZE`]) of them, reading at
		/// most [`MAX_SCAN`] ids. Pass the returned `next` as `from` to continue.
		fn nodes(
			min_gpus: u32,
			only_live: bool,
			from: NodeId,
			limit: u32,
		) -> NodesPage<AccountId, Balance, BlockNumber>;
		/// A job and its receipt; `None` for an unknown id or a job finished more than
		/// `JobRetention` blocks ago (pruned: its `JobSettled` event and archive state keep it).
		fn job(job_id: JobId) -> Option<JobDetails<AccountId, Balance, BlockNumber>>;
		/// The wait queue: `job_id`'s place in it, its length, and how long jobs waited so far.
		fn queue(job_id: JobId) -> QueueStatus;
		/// Market-wide figures.
		fn market_stats() -> MarketStats<Balance>;
	}
}

/// Most nodes one `nodes` page returns.
pub const MAX_PAGE_SIZE: u32 = 100;
/// Most node ids one `nodes` call reads, matching or not.
pub const MAX_SCAN: u32 = 10 * MAX_PAGE_SIZE;

impl<T: Config> Pallet<T> {
	/// See [`ComputeApi::quote`].
	pub fn quote(requirements: JobRequirements) -> Result<Quote<BalanceOf<T>>, Vec<u8>> {
		Self::ensure_valid_requirements(&requirements).map_err(|e| match e {
			sp_runtime::DispatchError::Module(m) => {
				m.message.unwrap_or("Invalid").as_bytes().to_vec()
			},
			other => <&'static str>::from(other).as_bytes().to_vec(),
		})?;
		let now = frame_system::Pallet::<T>::block_number();
		let gpu_hours =
			u64::from(requirements.gpus).saturating_mul(u64::from(requirements.gpu_hours));
		let energy_wh = gpu_hours.saturating_mul(u64::from(T::EnergyPerGpuHourWh::get()));
		let grams = |intensity: u32| energy_wh.saturating_mul(u64::from(intensity)) / 1_000;
		let mut quote = Quote {
			energy_wh,
			reference_carbon_grams: grams(T::ReferenceGridIntensity::get()),
			..Default::default()
		};
		let mut first = true;
		for node_id in Registry::<T>::candidates(requirements.gpus, u32::MAX) {
			let Ok(node) = Registry::<T>::check_eligible(node_id, &requirements, now) else {
				continue;
			};
			let Some(cost) = Self::job_cost(node.spec.price_per_gpu_hour, &requirements) else {
				continue;
			};
			let carbon = grams(node.spec.carbon_intensity);
			if first {
				(quote.min_cost, quote.max_cost) = (cost, cost);
				(quote.min_carbon_grams, quote.max_carbon_grams) = (carbon, carbon);
				first = false;
			}
			quote.min_cost = quote.min_cost.min(cost);
			quote.max_cost = quote.max_cost.max(cost);
			quote.min_carbon_grams = quote.min_carbon_grams.min(carbon);
			quote.max_carbon_grams = quote.max_carbon_grams.max(carbon);
			quote.eligible_nodes = quote.eligible_nodes.saturating_add(1);
			if node.spec.renewable_share >= Percent::from_percent(50) {
				quote.renewable_nodes = quote.renewable_nodes.saturating_add(1);
			}
		}
		// A renewable-only job counts only the nodes it may use (already filtered above).
		if let SustainabilityPreference::RenewableOnly(_) = requirements.sustainability {
			quote.renewable_nodes = quote.eligible_nodes;
		}
		Ok(quote)
	}

	/// See [`ComputeApi::nodes`]: reads ids `from..NextNodeId` in order, one storage read
	/// each, until `limit` matches or [`MAX_SCAN`] reads; never iterates the whole map.
	pub fn nodes_page(
		min_gpus: u32,
		only_live: bool,
		from: NodeId,
		limit: u32,
	) -> NodesPage<T::AccountId, BalanceOf<T>, BlockNumberOf<T>> {
		let now = frame_system::Pallet::<T>::block_number();
		let limit = usize::try_from(limit.clamp(1, MAX_PAGE_SIZE)).unwrap_or(1);
		let end = pallet_compute_registry::NextNodeId::<T>::get();
		let mut page = NodesPage { nodes: Vec::new(), next: None };
		let mut id = from;
		let mut read = 0u32;
		while id < end {
			if page.nodes.len() >= limit || read >= MAX_SCAN {
				page.next = Some(id);
				break;
			}
			read = read.saturating_add(1);
			if let Some(node) = pallet_compute_registry::Nodes::<T>::get(id) {
				let live = node.status == NodeStatus::Active && Registry::<T>::is_live(&node, now);
				if node.spec.gpu_count >= min_gpus && (!only_live || live) {
					page.nodes.push((id, node));
				}
			}
			id = id.saturating_add(1);
		}
		page
	}

	/// See [`ComputeApi::job`].
	pub fn job_details(
		job_id: JobId,
	) -> Option<JobDetails<T::AccountId, BalanceOf<T>, BlockNumberOf<T>>> {
		Jobs::<T>::get(job_id).map(|job| (job, Receipts::<T>::get(job_id)))
	}

	/// See [`ComputeApi::queue`]: reads the queue once.
	pub fn queue_status(job_id: JobId) -> QueueStatus {
		let queue = WaitQueue::<T>::get();
		let (matched, waited) = QueueWaits::<T>::get();
		QueueStatus {
			position: crate::queue::place_in(&queue, job_id),
			length: u32::try_from(queue.len()).unwrap_or(u32::MAX),
			matched,
			mean_wait_blocks: waited.checked_div(matched),
		}
	}

	/// See [`ComputeApi::market_stats`]: the registry's running totals of active nodes, the
	/// node count, and this pallet's [`Totals`]. O(1) reads.
	pub fn market_stats() -> MarketStats<BalanceOf<T>> {
		let nodes = Registry::<T>::active_totals();
		let totals = Totals::<T>::get();
		let jobs_submitted = NextJobId::<T>::get();
		MarketStats {
			nodes: pallet_compute_registry::NodeCount::<T>::get(),
			active_nodes: nodes.nodes,
			renewable_nodes: nodes.renewable_nodes,
			total_gpus: nodes.gpus,
			jobs_submitted,
			open_jobs: jobs_submitted.saturating_sub(totals.ended_jobs()),
			settled_jobs: totals.settled_jobs,
			failed_jobs: totals.failed_jobs,
			unverified_jobs: totals.unverified_jobs,
			expired_jobs: totals.expired_jobs,
			cancelled_jobs: totals.cancelled_jobs,
			volume: totals.volume,
			provider_earnings: totals.provider_earnings,
			fund_income: totals.fund_income,
			subsidies_paid: totals.subsidies_paid,
			renewable_bonuses: totals.renewable_bonuses,
			carbon_grams: totals.carbon_grams,
			carbon_reduction_grams: totals.carbon_reduction_grams,
		}
	}
}
