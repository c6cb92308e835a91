//! Reads of the compute market for RPC clients (`ComputeApi`), executed by the node off-chain.

use crate::{pallet::*, BalanceOf, BlockNumberOf, Job, JobReceipt, JobStatus};
use aicchain_primitives::{JobId, JobRequirements, NodeId, SustainabilityPreference};
use alloc::vec::Vec;
use codec::{Decode, Encode};
use frame_support::traits::Get;
use pallet_compute_registry::{NodeInfo, NodeStatus, Pallet as Registry};
use scale_info::TypeInfo;
use sp_runtime::{traits::Saturating, Percent};

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

/// Market-wide figures.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug, Default)]
pub struct MarketStats<Balance> {
	pub nodes: u32,
	pub active_nodes: u32,
	pub live_nodes: u32,
	pub renewable_nodes: u32,
	pub total_gpus: u64,
	pub jobs_submitted: u64,
	pub open_jobs: u32,
	pub settled_jobs: u32,
	pub failed_jobs: u32,
	/// Sum of settled jobs' costs.
	pub volume: Balance,
	pub provider_earnings: Balance,
	pub fund_income: Balance,
	pub subsidies_paid: Balance,
	pub renewable_bonuses: Balance,
	pub carbon_grams: u64,
	pub carbon_reduction_grams: u64,
}

/// A job and, once settled, its receipt.
pub type JobDetails<AccountId, Balance, BlockNumber> =
	(Job<AccountId, Balance, BlockNumber>, Option<JobReceipt<AccountId, Balance>>);

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
		/// Registered nodes with at least `min_gpus` GPUs (live ones only if asked), by id, one
		/// page at a time.
		fn nodes(
			min_gpus: u32,
			only_live: bool,
			page: u32,
			page_size: u32,
		) -> Vec<(NodeId, NodeInfo<AccountId, Balance, BlockNumber>)>;
		/// A job and its receipt.
		fn job(job_id: JobId) -> Option<JobDetails<AccountId, Balance, BlockNumber>>;
		/// Market-wide figures.
		fn market_stats() -> MarketStats<Balance>;
	}
}

/// Most nodes one `nodes` page returns.
pub const MAX_PAGE_SIZE: u32 = 100;

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

	/// See [`ComputeApi::nodes`].
	pub fn nodes_page(
		min_gpus: u32,
		only_live: bool,
		page: u32,
		page_size: u32,
	) -> Vec<(NodeId, pallet_compute_registry::NodeInfoOf<T>)> {
		let now = frame_system::Pallet::<T>::block_number();
		let size = page_size.clamp(1, MAX_PAGE_SIZE) as usize;
		let mut nodes: Vec<_> = pallet_compute_registry::Nodes::<T>::iter()
			.filter(|(_, n)| n.spec.gpu_count >= min_gpus)
			.filter(|(_, n)| {
				!only_live || (n.status == NodeStatus::Active && Registry::<T>::is_live(n, now))
			})
			.collect();
		nodes.sort_by_key(|(id, _)| *id);
		nodes.into_iter().skip((page as usize).saturating_mul(size)).take(size).collect()
	}

	/// See [`ComputeApi::job`].
	pub fn job_details(
		job_id: JobId,
	) -> Option<JobDetails<T::AccountId, BalanceOf<T>, BlockNumberOf<T>>> {
		Jobs::<T>::get(job_id).map(|job| (job, Receipts::<T>::get(job_id)))
	}

	/// See [`ComputeApi::market_stats`].
	pub fn market_stats() -> MarketStats<BalanceOf<T>> {
		let now = frame_system::Pallet::<T>::block_number();
		let mut stats = MarketStats::<BalanceOf<T>> {
			jobs_submitted: NextJobId::<T>::get(),
			..Default::default()
		};
		for (_, node) in pallet_compute_registry::Nodes::<T>::iter() {
			stats.nodes = stats.nodes.saturating_add(1);
			if node.status == NodeStatus::Active {
				stats.active_nodes = stats.active_nodes.saturating_add(1);
				stats.total_gpus = stats.total_gpus.saturating_add(u64::from(node.spec.gpu_count));
				if Registry::<T>::is_live(&node, now) {
					stats.live_nodes = stats.live_nodes.saturating_add(1);
				}
				if node.spec.renewable_share >= Percent::from_percent(50) {
					stats.renewable_nodes = stats.renewable_nodes.saturating_add(1);
				}
			}
		}
		for (_, job) in Jobs::<T>::iter() {
			match job.status {
				JobStatus::Settled { .. } => {
					stats.settled_jobs = stats.settled_jobs.saturating_add(1)
				},
				JobStatus::Rejected { .. } | JobStatus::TimedOut { .. } => {
					stats.failed_jobs = stats.failed_jobs.saturating_add(1)
				},
				ref s if s.is_open() => stats.open_jobs = stats.open_jobs.saturating_add(1),
				_ => {},
			}
		}
		for (_, r) in Receipts::<T>::iter() {
			stats.volume = stats.volume.saturating_add(r.cost);
			stats.provider_earnings = stats
				.provider_earnings
				.saturating_add(r.provider_amount)
				.saturating_add(r.renewable_bonus)
				.saturating_add(r.subsidy);
			stats.fund_income = stats.fund_income.saturating_add(r.fund_amount);
			stats.subsidies_paid = stats.subsidies_paid.saturating_add(r.subsidy);
			stats.renewable_bonuses = stats.renewable_bonuses.saturating_add(r.renewable_bonus);
			stats.carbon_grams = stats.carbon_grams.saturating_add(r.carbon_grams);
			stats.carbon_reduction_grams =
				stats.carbon_reduction_grams.saturating_add(r.carbon_reduction_grams);
		}
		stats
	}
}
