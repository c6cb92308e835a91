//! # Compute registry pallet
//!
//! Providers register compute nodes on AICChain. A node is its [`NodeSpec`] (GPUs, memory,
//! bandwidth, latency, region, energy, price) plus the *worker key* its off-chain worker signs
//! with. Registering holds a bond in AICC (fungible holds, reason [`HoldReason::NodeBond`]);
//! the jobs pallet can slash it to the community fund when a node fails a job.
//!
//! - Liveness: a node that has not sent a `heartbeat` for `HeartbeatTimeout` blocks is not
//!   eligible for new jobs.
//! - Reputation: a `Perbill` that job outcomes move up or down.
//! - Leaving: `deregister_node` stops new assignments and starts an unbonding delay;
//!   `withdraw_bond` releases the bond once it has passed.
//! - Matching index: active nodes are kept in [`NodesByGpuClass`] buckets (GPU count rounded down
//!   to a power of two), so matching reads only the buckets that can satisfy a job, never the whole
//!   registry, and at most `MaxNodesPerClass` nodes per bucket.
//! - Capacity is counted in GPUs: the jobs running on a node never need more GPUs than it has
//!   (and never more than `MaxJobsPerNode` jobs).
//! - Price floor: `MinPricePerGpuHour`. A node offered for free would let its owner buy its own
//!   compute for nothing; every job moves at least the floor times its GPU-hours.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod weights;
pub use weights::WeightInfo;

use aicchain_primitives::{spec_meets_requirements, JobRequirements, NodeId, NodeSpec};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::traits::fungible::{Inspect, InspectHold, Mutate, MutateHold};
use scale_info::TypeInfo;
use sp_runtime::Perbill;

/// Balance type of the bond currency.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
/// Block number type of the runtime.
pub type BlockNumberOf<T> = frame_system::pallet_prelude::BlockNumberFor<T>;
/// A node as stored.
pub type NodeInfoOf<T> =
	NodeInfo<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberOf<T>>;

/// Number of GPU-count buckets: 1, 2-3, 4-7, 8-15, 16-31, 32-63, 64-127, 128+.
pub const GPU_CLASSES: u8 = 8;

/// The bucket of a GPU count: `floor(log2(gpus))`, capped at the last class.
pub fn gpu_class(gpus: u32) -> u8 {
	let log2 = u32::BITS.saturating_sub(gpus.leading_zeros()).saturating_sub(1);
	u8::try_from(log2).unwrap_or(u8::MAX).min(GPU_CLASSES.saturating_sub(1))
}

/// Where a node is in its life cycle.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub enum NodeStatus<BlockNumber> {
	/// Accepts jobs while live.
	Active,
	/// Deregistered; the bond can be withdrawn from `unlock_at`.
	Unbonding { unlock_at: BlockNumber },
}

/// A registered node.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct NodeInfo<AccountId, Balance, BlockNumber> {
	/// The provider: pays the bond and manages the node.
	pub owner: AccountId,
	/// The key the node's off-chain worker signs results with.
	pub worker: AccountId,
	/// What the node offers.
	pub spec: NodeSpec<Balance>,
	/// AICC held from the owner for this node (less anything slashed).
	pub bond: Balance,
	/// Life-cycle status.
	pub status: NodeStatus<BlockNumber>,
	/// Block of the last heartbeat (or of registration).
	pub last_heartbeat: BlockNumber,
	/// Track record, moved by job outcomes.
	pub reputation: Perbill,
	/// Jobs assigned and not yet settled.
	pub active_jobs: u32,
	/// GPUs those jobs hold: never more than `spec.gpu_count`.
	pub active_gpus: u32,
	/// Jobs settled successfully.
	pub completed_jobs: u32,
	/// Jobs rejected or timed out.
	pub failed_jobs: u32,
}

/// Why a node cannot take a job.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Ineligible {
	NotFound,
	NotActive,
	NotLive,
	TooFewGpus,
	BandwidthTooLow,
	LatencyTooHigh,
	NotRenewableEnough,
	NoFreeCapacity,
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::{
		pallet_prelude::*,
		traits::tokens::{Fortitude, Precision, Restriction},
	};
	use frame_system::pallet_prelude::*;
	use sp_runtime::traits::{Saturating, Zero};

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// The currency bonds are held in (AICC).
		type Currency: Mutate<Self::AccountId>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ InspectHold<Self::AccountId>;

		/// The runtime's hold reasons, which include this pallet's.
		type RuntimeHoldReason: From<HoldReason>;

		/// Bond held for each registered node.
		#[pallet::constant]
		type NodeBond: Get<BalanceOf<Self>>;

		/// Most nodes in the registry.
		#[pallet::constant]
		type MaxNodes: Get<u32>;

		/// Most nodes one owner may register.
		#[pallet::constant]
		type MaxNodesPerOwner: Get<u32>;

		/// Most active nodes in one GPU class bucket: bounds what matching reads.
		#[pallet::constant]
		type MaxNodesPerClass: Get<u32>;

		/// Most jobs a node runs at once (their GPUs are bounded by the node's GPUs as well).
		#[pallet::constant]
		type MaxJobsPerNode: Get<u32>;

		/// Lowest price per GPU-hour a node may ask.
		#[pallet::constant]
		type MinPricePerGpuHour: Get<BalanceOf<Self>>;

		/// Blocks without a heartbeat after which a node is not live.
		#[pallet::constant]
		type HeartbeatTimeout: Get<BlockNumberFor<Self>>;

		/// Blocks between `deregister_node` and `withdraw_bond`.
		#[pallet::constant]
		type UnbondingPeriod: Get<BlockNumberFor<Self>>;

		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// The bond of a registered compute node.
		NodeBond,
	}

	/// Registered nodes.
	#[pallet::storage]
	pub type Nodes<T: Config> = StorageMap<_, Twox64Concat, NodeId, NodeInfoOf<T>, OptionQuery>;

	/// The id the next registered node gets.
	#[pallet::storage]
	pub type NextNodeId<T: Config> = StorageValue<_, NodeId, ValueQuery>;

	/// Number of entries in [`Nodes`].
	#[pallet::storage]
	pub type NodeCount<T: Config> = StorageValue<_, u32, ValueQuery>;

	/// The nodes of each owner.
	#[pallet::storage]
	pub type NodesByOwner<T: Config> = StorageMap<
		_,
		Blake2_128Concat,
		T::AccountId,
		BoundedVec<NodeId, T::MaxNodesPerOwner>,
		ValueQuery,
	>;

	/// The node a worker key signs for (one node per worker key).
	#[pallet::storage]
	pub type NodeByWorker<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, NodeId, OptionQuery>;

	/// Active nodes by GPU class ([`gpu_class`]): the matching index.
	#[pallet::storage]
	pub type NodesByGpuClass<T: Config> =
		StorageMap<_, Twox64Concat, u8, BoundedVec<NodeId, T::MaxNodesPerClass>, ValueQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A node joined the registry and its bond was held.
		NodeRegistered {
			node_id: NodeId,
			owner: T::AccountId,
			worker: T::AccountId,
			bond: BalanceOf<T>,
		},
		/// A node's spec changed.
		NodeUpdated { node_id: NodeId },
		/// A node left the market; its bond unlocks at `unlock_at`.
		NodeDeregistered { node_id: NodeId, unlock_at: BlockNumberFor<T> },
		/// A deregistered node's remaining bond was released and the node removed.
		BondWithdrawn { node_id: NodeId, owner: T::AccountId, amount: BalanceOf<T> },
		/// A node reported that it is alive.
		Heartbeat { node_id: NodeId },
		/// Part of a node's bond was taken for a failed job.
		BondSlashed { node_id: NodeId, amount: BalanceOf<T>, to: T::AccountId },
		/// A job outcome moved a node's reputation.
		ReputationUpdated { node_id: NodeId, reputation: Perbill },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No node has this id.
		NodeNotFound,
		/// Only the node's owner may do this.
		NotNodeOwner,
		/// Only the node's owner or worker key may do this.
		NotNodeOwnerOrWorker,
		/// The spec has zero GPUs, zero GPU memory, zero bandwidth or an empty region.
		InvalidSpec,
		/// The price per GPU-hour is below `MinPricePerGpuHour`.
		PriceBelowFloor,
		/// The owner cannot cover the bond.
		InsufficientBond,
		/// The registry is full.
		TooManyNodes,
		/// The owner has registered the most nodes allowed.
		TooManyNodesForOwner,
		/// The GPU class bucket of this spec is full.
		GpuClassFull,
		/// This worker key already signs for another node.
		WorkerAlreadyBound,
		/// The node is deregistered.
		NodeNotActive,
		/// The node still runs jobs.
		NodeBusy,
		/// The node is not unbonding.
		NotUnbonding,
		/// The unbonding period has not passed yet.
		BondStillLocked,
		/// The node has no free job slot, or too few free GPUs.
		NoFreeCapacity,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Register a compute node with `spec`, signing results with `worker`.
		///
		/// Origin: the provider (signed). Holds `NodeBond` from the provider.
		/// Errors: `InvalidSpec`, `WorkerAlreadyBound`, `TooManyNodes`, `TooManyNodesForOwner`,
		/// `GpuClassFull`, `InsufficientBond`.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register_node())]
		pub fn register_node(
			origin: OriginFor<T>,
			spec: NodeSpec<BalanceOf<T>>,
			worker: T::AccountId,
		) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			Self::ensure_valid_spec(&spec)?;
			ensure!(!NodeByWorker::<T>::contains_key(&worker), Error::<T>::WorkerAlreadyBound);
			let count = NodeCount::<T>::get();
			ensure!(count < T::MaxNodes::get(), Error::<T>::TooManyNodes);
			let mut owned = NodesByOwner::<T>::get(&owner);
			let mut bucket = NodesByGpuClass::<T>::get(gpu_class(spec.gpu_count));
			let node_id = NextNodeId::<T>::get();
			owned.try_push(node_id).map_err(|_| Error::<T>::TooManyNodesForOwner)?;
			bucket.try_push(node_id).map_err(|_| Error::<T>::GpuClassFull)?;
			let bond = T::NodeBond::get();
			T::Currency::hold(&HoldReason::NodeBond.into(), &owner, bond)
				.map_err(|_| Error::<T>::InsufficientBond)?;

			let now = frame_system::Pallet::<T>::block_number();
			NodesByGpuClass::<T>::insert(gpu_class(spec.gpu_count), bucket);
			NodesByOwner::<T>::insert(&owner, owned);
			NodeByWorker::<T>::insert(&worker, node_id);
			Nodes::<T>::insert(
				node_id,
				NodeInfo {
					owner: owner.clone(),
					worker: worker.clone(),
					spec,
					bond,
					status: NodeStatus::Active,
					last_heartbeat: now,
					reputation: Perbill::from_percent(50),
					active_jobs: 0,
					active_gpus: 0,
					completed_jobs: 0,
					failed_jobs: 0,
				},
			);
			NodeCount::<T>::put(count.saturating_add(1));
			NextNodeId::<T>::put(node_id.saturating_add(1));
			Self::deposit_event(Event::NodeRegistered { node_id, owner, worker, bond });
			Ok(())
		}

		/// Replace the spec of an active node.
		///
		/// Origin: the node's owner. Errors: `NodeNotFound`, `NotNodeOwner`, `NodeNotActive`,
		/// `InvalidSpec`, `GpuClassFull`, and `NodeBusy` when it would drop below the GPUs that
		/// running jobs were matched on.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::update_node())]
		pub fn update_node(
			origin: OriginFor<T>,
			node_id: NodeId,
			spec: NodeSpec<BalanceOf<T>>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut node = Nodes::<T>::get(node_id).ok_or(Error::<T>::NodeNotFound)?;
			ensure!(node.owner == who, Error::<T>::NotNodeOwner);
			ensure!(node.status == NodeStatus::Active, Error::<T>::NodeNotActive);
			Self::ensure_valid_spec(&spec)?;
			// Running jobs were matched on this hardware: it may grow, not shrink, under them.
			// (Price and energy figures may change: jobs keep the terms they were matched on.)
			ensure!(
				node.active_jobs == 0 || spec.gpu_count >= node.spec.gpu_count,
				Error::<T>::NodeBusy
			);
			let (old_class, new_class) =
				(gpu_class(node.spec.gpu_count), gpu_class(spec.gpu_count));
			if old_class != new_class {
				let mut new_bucket = NodesByGpuClass::<T>::get(new_class);
				new_bucket.try_push(node_id).map_err(|_| Error::<T>::GpuClassFull)?;
				NodesByGpuClass::<T>::mutate(old_class, |bucket| {
					bucket.retain(|id| *id != node_id)
				});
				NodesByGpuClass::<T>::insert(new_class, new_bucket);
			}
			node.spec = spec;
			Nodes::<T>::insert(node_id, node);
			Self::deposit_event(Event::NodeUpdated { node_id });
			Ok(())
		}

		/// Leave the market: the node gets no new jobs and its bond unlocks after
		/// `UnbondingPeriod` blocks.
		///
		/// Origin: the node's owner. Errors: `NodeNotFound`, `NotNodeOwner`, `NodeNotActive`,
		/// `NodeBusy` (jobs still running).
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::deregister_node())]
		pub fn deregister_node(origin: OriginFor<T>, node_id: NodeId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut node = Nodes::<T>::get(node_id).ok_or(Error::<T>::NodeNotFound)?;
			ensure!(node.owner == who, Error::<T>::NotNodeOwner);
			ensure!(node.status == NodeStatus::Active, Error::<T>::NodeNotActive);
			ensure!(node.active_jobs == 0, Error::<T>::NodeBusy);
			let unlock_at =
				frame_system::Pallet::<T>::block_number().saturating_add(T::UnbondingPeriod::get());
			NodesByGpuClass::<T>::mutate(gpu_class(node.spec.gpu_count), |bucket| {
				bucket.retain(|id| *id != node_id)
			});
			node.status = NodeStatus::Unbonding { unlock_at };
			Nodes::<T>::insert(node_id, node);
			Self::deposit_event(Event::NodeDeregistered { node_id, unlock_at });
			Ok(())
		}

		/// Release the bond of a deregistered node once unbonding has passed, and remove it.
		///
		/// Origin: the node's owner. Errors: `NodeNotFound`, `NotNodeOwner`, `NotUnbonding`,
		/// `BondStillLocked`.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::withdraw_bond())]
		pub fn withdraw_bond(origin: OriginFor<T>, node_id: NodeId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let node = Nodes::<T>::get(node_id).ok_or(Error::<T>::NodeNotFound)?;
			ensure!(node.owner == who, Error::<T>::NotNodeOwner);
			let NodeStatus::Unbonding { unlock_at } = node.status else {
				return Err(Error::<T>::NotUnbonding.into());
			};
			ensure!(
				frame_system::Pallet::<T>::block_number() >= unlock_at,
				Error::<T>::BondStillLocked
			);
			let released = T::Currency::release(
				&HoldReason::NodeBond.into(),
				&node.owner,
				node.bond,
				Precision::BestEffort,
			)?;
			NodesByOwner::<T>::mutate_exists(&node.owner, |owned| {
				if let Some(list) = owned {
					list.retain(|id| *id != node_id);
					if list.is_empty() {
						*owned = None;
					}
				}
			});
			NodeByWorker::<T>::remove(&node.worker);
			Nodes::<T>::remove(node_id);
			NodeCount::<T>::mutate(|count| *count = count.saturating_sub(1));
			Self::deposit_event(Event::BondWithdrawn {
				node_id,
				owner: node.owner,
				amount: released,
			});
			Ok(())
		}

		/// Report that the node is alive.
		///
		/// Origin: the node's owner or its worker key. Errors: `NodeNotFound`,
		/// `NotNodeOwnerOrWorker`, `NodeNotActive`.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::heartbeat())]
		pub fn heartbeat(origin: OriginFor<T>, node_id: NodeId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Nodes::<T>::try_mutate(node_id, |maybe_node| -> DispatchResult {
				let node = maybe_node.as_mut().ok_or(Error::<T>::NodeNotFound)?;
				ensure!(node.owner == who || node.worker == who, Error::<T>::NotNodeOwnerOrWorker);
				ensure!(node.status == NodeStatus::Active, Error::<T>::NodeNotActive);
				node.last_heartbeat = frame_system::Pallet::<T>::block_number();
				Ok(())
			})?;
			Self::deposit_event(Event::Heartbeat { node_id });
			Ok(())
		}
	}

	impl<T: Config> Pallet<T> {
		fn ensure_valid_spec(spec: &NodeSpec<BalanceOf<T>>) -> DispatchResult {
			ensure!(
				spec.gpu_count > 0
					&& spec.gpu_memory_gib > 0
					&& spec.bandwidth_mbps > 0
					&& !spec.region.is_empty(),
				Error::<T>::InvalidSpec
			);
			ensure!(
				spec.price_per_gpu_hour >= T::MinPricePerGpuHour::get(),
				Error::<T>::PriceBelowFloor
			);
			Ok(())
		}

		/// Whether `node` has heartbeaten within `HeartbeatTimeout` blocks of `now`.
		pub fn is_live(node: &NodeInfoOf<T>, now: BlockNumberFor<T>) -> bool {
			now.saturating_sub(node.last_heartbeat) <= T::HeartbeatTimeout::get()
		}

		/// Checks every hard constraint except price (which depends on the job's budget).
		pub fn check_eligible(
			node_id: NodeId,
			req: &JobRequirements,
			now: BlockNumberFor<T>,
		) -> Result<NodeInfoOf<T>, Ineligible> {
			let node = Nodes::<T>::get(node_id).ok_or(Ineligible::NotFound)?;
			if node.status != NodeStatus::Active {
				return Err(Ineligible::NotActive);
			}
			if !Self::is_live(&node, now) {
				return Err(Ineligible::NotLive);
			}
			if !spec_meets_requirements(&node.spec, req) {
				let spec = &node.spec;
				return Err(if spec.gpu_count < req.gpus {
					Ineligible::TooFewGpus
				} else if spec.bandwidth_mbps < req.min_bandwidth_mbps {
					Ineligible::BandwidthTooLow
				} else if spec.latency_ms > req.max_latency_ms {
					Ineligible::LatencyTooHigh
				} else {
					Ineligible::NotRenewableEnough
				});
			}
			// After the spec: a node too small for the job is `TooFewGpus`, not busy.
			if !Self::has_room(&node, req.gpus) {
				return Err(Ineligible::NoFreeCapacity);
			}
			Ok(node)
		}

		/// Active nodes that may have enough GPUs for `gpus`, from the GPU-class index: at most
		/// `limit` ids, reading only the buckets from `gpus`'s class upwards.
		pub fn candidates(gpus: u32, limit: u32) -> Vec<NodeId> {
			let limit = usize::try_from(limit).unwrap_or(usize::MAX);
			let mut out = Vec::new();
			for class in gpu_class(gpus)..GPU_CLASSES {
				for node_id in NodesByGpuClass::<T>::get(class) {
					if out.len() >= limit {
						return out;
					}
					out.push(node_id);
				}
			}
			out
		}

		/// Whether `node` can take one more job of `gpus` GPUs: a free job slot and enough free
		/// GPUs.
		pub fn has_room(node: &NodeInfoOf<T>, gpus: u32) -> bool {
			node.active_jobs < T::MaxJobsPerNode::get()
				&& node.active_gpus.checked_add(gpus).is_some_and(|g| g <= node.spec.gpu_count)
		}

		/// Like [`Self::candidates`], but the `limit` ids are read from position `offset` (modulo
		/// the number of indexed ids) onwards, wrapping around: callers draw `offset` at random so
		/// that the nodes first in the index cannot hide the others. Each class bucket is one
		/// storage read, however many ids it holds.
		pub fn candidates_from(gpus: u32, limit: u32, offset: u32) -> Vec<NodeId> {
			let all = Self::candidates(gpus, u32::MAX);
			let limit = usize::try_from(limit).unwrap_or(usize::MAX).min(all.len());
			if all.is_empty() {
				return all;
			}
			let start = usize::try_from(offset).unwrap_or(0) % all.len();
			all.iter().cycle().skip(start).take(limit).copied().collect()
		}

		/// Takes a job slot and `gpus` GPUs on a node (called when a job is assigned to it).
		pub fn reserve_slot(node_id: NodeId, gpus: u32) -> DispatchResult {
			Nodes::<T>::try_mutate(node_id, |maybe_node| {
				let node = maybe_node.as_mut().ok_or(Error::<T>::NodeNotFound)?;
				ensure!(Self::has_room(node, gpus), Error::<T>::NoFreeCapacity);
				node.active_jobs = node.active_jobs.saturating_add(1);
				node.active_gpus = node.active_gpus.saturating_add(gpus);
				Ok(())
			})
		}

		/// Frees a job slot and its `gpus` GPUs, and moves reputation by the outcome: a success
		/// closes 10% of the gap to 100%, a failure removes 20% of the current reputation.
		pub fn finish_job(node_id: NodeId, gpus: u32, success: bool) {
			let Some(mut node) = Nodes::<T>::get(node_id) else { return };
			node.active_jobs = node.active_jobs.saturating_sub(1);
			node.active_gpus = node.active_gpus.saturating_sub(gpus);
			if success {
				node.completed_jobs = node.completed_jobs.saturating_add(1);
				let gap = Perbill::one().saturating_sub(node.reputation);
				node.reputation = node.reputation.saturating_add(Perbill::from_percent(10) * gap);
			} else {
				node.failed_jobs = node.failed_jobs.saturating_add(1);
				let cut = Perbill::from_percent(20) * node.reputation;
				node.reputation = node.reputation.saturating_sub(cut);
			}
			let reputation = node.reputation;
			Nodes::<T>::insert(node_id, node);
			Self::deposit_event(Event::ReputationUpdated { node_id, reputation });
		}

		/// Moves up to `amount` of a node's bond to `to`; returns what was moved.
		pub fn slash_bond(
			node_id: NodeId,
			amount: BalanceOf<T>,
			to: &T::AccountId,
		) -> Result<BalanceOf<T>, DispatchError> {
			let mut node = Nodes::<T>::get(node_id).ok_or(Error::<T>::NodeNotFound)?;
			let amount = amount.min(node.bond);
			if amount.is_zero() {
				return Ok(amount);
			}
			let slashed = T::Currency::transfer_on_hold(
				&HoldReason::NodeBond.into(),
				&node.owner,
				to,
				amount,
				Precision::BestEffort,
				Restriction::Free,
				Fortitude::Force,
			)?;
			node.bond = node.bond.saturating_sub(slashed);
			Nodes::<T>::insert(node_id, node);
			Self::deposit_event(Event::BondSlashed { node_id, amount: slashed, to: to.clone() });
			Ok(slashed)
		}

		/// Invariants, checked after every test and by `try-runtime`:
		/// - `NodeCount` equals the number of nodes, all below `NextNodeId`;
		/// - each owner's held `NodeBond` equals the sum of its nodes' bonds;
		/// - the owner and worker indices point at the nodes that name them;
		/// - the GPU-class index holds exactly the active nodes, each in its own class;
		/// - no node runs more jobs than `MaxJobsPerNode` or more GPUs than it has, and a node
		///   without jobs holds no GPUs.
		pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			let mut count: u32 = 0;
			let mut active: u32 = 0;
			for (node_id, node) in Nodes::<T>::iter() {
				count = count.saturating_add(1);
				ensure!(node_id < NextNodeId::<T>::get(), "node id at or above NextNodeId");
				ensure!(node.active_jobs <= T::MaxJobsPerNode::get(), "node runs too many jobs");
				ensure!(node.active_gpus <= node.spec.gpu_count, "node runs more GPUs than it has");
				ensure!(
					node.active_jobs > 0 || node.active_gpus == 0,
					"node without jobs holds GPUs"
				);
				ensure!(
					NodesByOwner::<T>::get(&node.owner).contains(&node_id),
					"node missing from its owner's list"
				);
				ensure!(
					NodeByWorker::<T>::get(&node.worker) == Some(node_id),
					"worker index does not point at the node"
				);
				let indexed =
					NodesByGpuClass::<T>::get(gpu_class(node.spec.gpu_count)).contains(&node_id);
				match node.status {
					NodeStatus::Active => {
						active = active.saturating_add(1);
						ensure!(indexed, "active node missing from its GPU class");
					},
					NodeStatus::Unbonding { .. } => {
						ensure!(!indexed, "unbonding node still in the matching index");
					},
				}
			}
			ensure!(count == NodeCount::<T>::get(), "NodeCount does not match the nodes");
			let indexed: u32 = NodesByGpuClass::<T>::iter_values()
				.map(|bucket| u32::try_from(bucket.len()).unwrap_or(u32::MAX))
				.fold(0u32, |a, b| a.saturating_add(b));
			ensure!(indexed == active, "GPU class index holds nodes that are not active");
			for (owner, owned) in NodesByOwner::<T>::iter() {
				let mut bonds = BalanceOf::<T>::zero();
				for node_id in owned.iter() {
					let node = Nodes::<T>::get(node_id).ok_or("owner lists a missing node")?;
					ensure!(node.owner == owner, "owner lists a node it does not own");
					bonds = bonds.saturating_add(node.bond);
				}
				ensure!(
					T::Currency::balance_on_hold(&HoldReason::NodeBond.into(), &owner) == bonds,
					"held NodeBond differs from the sum of the owner's node bonds"
				);
			}
			for (worker, node_id) in NodeByWorker::<T>::iter() {
				let node = Nodes::<T>::get(node_id).ok_or("worker index names a missing node")?;
				ensure!(node.worker == worker, "worker index names a node with another worker");
			}
			Ok(())
		}
	}
}
