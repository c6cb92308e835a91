//! # Compute registry pallet
//!
//! Providers register compute nodes on AICChain. A node is its [`NodeSpec`] (GPUs, memory,
//! bandwidth, latency, region, energy, price) plus the *worker key* its off-chain worker signs
//! with. Registering holds a bond in AICC (fungible holds, reason [`HoldReason::NodeBond`]);
//! the jobs pallet can slash it to the community fund when a node fails a job.
//!
//! - Worker consent: a worker key signs for a node only once it has agreed to. Naming yourself
//!   (`worker == owner`) binds at once; any other key is only *proposed* (`worker_bound ==
//!   false`, not in [`NodeByWorker`]) until that key calls `accept_worker`. Until then the node
//!   is ineligible ([`Ineligible::WorkerNotBound`]) and the key cannot heartbeat for it. So no
//!   one can make a validator's (or another provider's) worker key train and heartbeat for
//!   their node, and a proposal by a stranger never blocks the key's real binding.
//! - Liveness: a node that has not sent a `heartbeat` for `HeartbeatTimeout` blocks is not
//!   eligible for new jobs.
//! - Dormant nodes: an active node that is not live (anyone may show it with the free
//!   `prune_dead_node`, and the jobs pallet with [`Pallet::drop_if_dead`]) or whose bond was
//!   slashed below `MinNodeBond` becomes [`NodeStatus::Dormant`]: still registered and bonded,
//!   but out of the matching index, so dead nodes cannot fill the buckets and hide live ones. A
//!   heartbeat (with the bond at least `MinNodeBond`) or a `top_up_bond` (while live) brings it
//!   back.
//! - Minimum bond: `MinNodeBond`. Slashes below it take a node out of matching until its owner
//!   tops the bond up, so a node that has lost its bond cannot keep taking jobs with nothing
//!   left at stake.
//! - Reputation: a `Perbill` that job outcomes move up or down.
//! - Leaving: `deregister_node` stops new assignments and starts an unbonding delay;
//!   `withdraw_bond` releases the bond once it has passed.
//! - Matching index: active nodes are kept in [`NodesByGpuClass`] buckets (GPU count rounded down
//!   to a power of two), so matching reads only the buckets that can satisfy a job, never the whole
//!   registry, and at most `MaxNodesPerClass` nodes per bucket.
//! - Running totals: [`pallet::ActiveTotals`] counts the indexed (active) nodes, their GPUs and
//!   the renewable ones (at least 50% renewable energy), kept in step with the index, so market
//!   statistics never scan the registry ([`Pallet::active_totals`]).
//! - Capacity is counted in GPUs: the jobs running on a node never need more GPUs than it has
//!   (and never more than `MaxJobsPerNode` jobs).
//! - Price floor: `MinPricePerGpuHour`. A node offered for free would let its owner buy its own
//!   compute for nothing; every job moves at least the floor times its GPU-hours.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

#[cfg(test)]
mod attack_tests;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod index;
mod invariants;
mod jobs;
#[cfg(test)]
mod mock;
mod spec;
#[cfg(test)]
mod tests;
mod types;
pub mod weights;
pub use types::{
	gpu_class, valid_engine_url, ActiveTotals, EngineUrl, Ineligible, MaxEngineUrlLen, NodeInfo,
	NodeStatus, GPU_CLASSES, RENEWABLE_SHARE,
};
pub use weights::WeightInfo;

use aicchain_primitives::{NodeId, NodeSpec};
use frame_support::traits::fungible::{Inspect, InspectHold, Mutate, MutateHold};
use sp_runtime::Perbill;

/// Balance type of the bond currency.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
/// Block number type of the runtime.
pub type BlockNumberOf<T> = frame_system::pallet_prelude::BlockNumberFor<T>;
/// A node as stored.
pub type NodeInfoOf<T> =
	NodeInfo<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberOf<T>>;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{pallet_prelude::*, traits::tokens::Precision};
	use frame_system::pallet_prelude::*;
	use sp_runtime::traits::Saturating;

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

		/// Least bond an active node keeps: a slash below it makes the node dormant until its
		/// owner tops the bond up. At most `NodeBond`.
		#[pallet::constant]
		type MinNodeBond: Get<BalanceOf<Self>>;

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

	/// The node a worker key signs for (one node per worker key). Only bound workers are here:
	/// a key merely proposed by a node's owner is not, until it calls `accept_worker`.
	#[pallet::storage]
	pub type NodeByWorker<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, NodeId, OptionQuery>;

	/// Active nodes by GPU class ([`gpu_class`]): the matching index.
	#[pallet::storage]
	pub type NodesByGpuClass<T: Config> =
		StorageMap<_, Twox64Concat, u8, BoundedVec<NodeId, T::MaxNodesPerClass>, ValueQuery>;

	/// Totals over the nodes in [`NodesByGpuClass`], so that market statistics need not scan
	/// the registry. (The struct is [`crate::ActiveTotals`].)
	#[pallet::storage]
	pub type ActiveTotals<T: Config> = StorageValue<_, crate::ActiveTotals, ValueQuery>;

	/// Where each node's compute engine serves its models and checkpoints to verifiers
	/// (`http://host:port` or `https://…`), as its owner or worker published it.
	#[pallet::storage]
	pub type EngineUrls<T: Config> =
		StorageMap<_, Twox64Concat, NodeId, crate::EngineUrl, OptionQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A node joined the registry and its bond was held. Its worker is bound at once if it
		/// is the owner, otherwise only proposed until it calls `accept_worker`.
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
		/// The proposed worker key accepted to sign for the node, and is now bound to it.
		WorkerAccepted { node_id: NodeId, worker: T::AccountId },
		/// A node left the matching index: it missed its heartbeats or its bond fell below
		/// `MinNodeBond`.
		NodeDormant { node_id: NodeId },
		/// A dormant node is back in the matching index.
		NodeReactivated { node_id: NodeId },
		/// The owner added `amount` to a node's bond.
		BondToppedUp { node_id: NodeId, amount: BalanceOf<T> },
		/// The node's published engine address changed (`None`: withdrawn).
		EngineUrlSet { node_id: NodeId, url: Option<crate::EngineUrl> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No node has this id.
		NodeNotFound,
		/// Only the node's owner may do this.
		NotNodeOwner,
		/// Only the node's owner or its bound worker key may do this.
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
		/// This worker key already signs for a node (this one or another).
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
		/// Only the worker key the node's owner proposed may accept it.
		NotProposedWorker,
		/// The node is live (or not active): there is nothing to prune.
		NodeIsLive,
		/// An engine address is `http://` or `https://` followed by a host, in printable ASCII
		/// without spaces.
		InvalidEngineUrl,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(
				T::MinNodeBond::get() <= T::NodeBond::get(),
				"MinNodeBond above NodeBond: every new node would be dormant"
			);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Register a compute node with `spec`, signing results with `worker`.
		///
		/// Origin: the provider (signed). Holds `NodeBond` from the provider. If `worker` is the
		/// provider itself it is bound at once; otherwise it is only proposed, and the node
		/// takes no jobs until `worker` calls `accept_worker`.
		/// Errors: `InvalidSpec`, `PriceBelowFloor`, `WorkerAlreadyBound`, `TooManyNodes`,
		/// `TooManyNodesForOwner`, `GpuClassFull`, `InsufficientBond`.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register_node())]
		pub fn register_node(
			origin: OriginFor<T>,
			spec: NodeSpec<BalanceOf<T>>,
			worker: T::AccountId,
		) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			Self::ensure_valid_spec(&spec)?;
			// Only bound keys are indexed: a key someone else merely proposed is still free.
			ensure!(!NodeByWorker::<T>::contains_key(&worker), Error::<T>::WorkerAlreadyBound);
			let count = NodeCount::<T>::get();
			ensure!(count < T::MaxNodes::get(), Error::<T>::TooManyNodes);
			let mut owned = NodesByOwner::<T>::get(&owner);
			let node_id = NextNodeId::<T>::get();
			owned.try_push(node_id).map_err(|_| Error::<T>::TooManyNodesForOwner)?;
			// Calls are transactional: a failure below undoes the index insertion.
			Self::index_insert(node_id, &spec)?;
			let bond = T::NodeBond::get();
			T::Currency::hold(&HoldReason::NodeBond.into(), &owner, bond)
				.map_err(|_| Error::<T>::InsufficientBond)?;

			let now = frame_system::Pallet::<T>::block_number();
			let worker_bound = worker == owner;
			if worker_bound {
				NodeByWorker::<T>::insert(&worker, node_id);
			}
			NodesByOwner::<T>::insert(&owner, owned);
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
					worker_bound,
				},
			);
			NodeCount::<T>::put(count.saturating_add(1));
			NextNodeId::<T>::put(node_id.saturating_add(1));
			Self::deposit_event(Event::NodeRegistered { node_id, owner, worker, bond });
			Ok(())
		}

		/// Replace the spec of an active or dormant node (a dormant one stays out of the index).
		///
		/// Origin: the node's owner. Errors: `NodeNotFound`, `NotNodeOwner`, `NodeNotActive`,
		/// `InvalidSpec`, `PriceBelowFloor`, `GpuClassFull`, and `NodeBusy` when it would drop
		/// below the GPUs that running jobs were matched on.
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
			ensure!(
				matches!(node.status, NodeStatus::Active | NodeStatus::Dormant),
				Error::<T>::NodeNotActive
			);
			Self::ensure_valid_spec(&spec)?;
			// Running jobs were matched on this hardware: it may grow, not shrink, under them.
			// (Price and energy figures may change: jobs keep the terms they were matched on.)
			ensure!(
				node.active_jobs == 0 || spec.gpu_count >= node.spec.gpu_count,
				Error::<T>::NodeBusy
			);
			if node.status == NodeStatus::Active {
				// Moves the node to its new class (or the end of its own) and updates the totals;
				// a full class fails the call, which undoes the removal.
				Self::index_remove(node_id, &node.spec);
				Self::index_insert(node_id, &spec)?;
			}
			node.spec = spec;
			Nodes::<T>::insert(node_id, node);
			Self::deposit_event(Event::NodeUpdated { node_id });
			Ok(())
		}

		/// Leave the market: the node gets no new jobs and its bond unlocks after
		/// `UnbondingPeriod` blocks.
		///
		/// Origin: the node's owner. Errors: `NodeNotFound`, `NotNodeOwner`, `NodeNotActive`
		/// (already unbonding), `NodeBusy` (jobs still running).
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::deregister_node())]
		pub fn deregister_node(origin: OriginFor<T>, node_id: NodeId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut node = Nodes::<T>::get(node_id).ok_or(Error::<T>::NodeNotFound)?;
			ensure!(node.owner == who, Error::<T>::NotNodeOwner);
			ensure!(
				matches!(node.status, NodeStatus::Active | NodeStatus::Dormant),
				Error::<T>::NodeNotActive
			);
			ensure!(node.active_jobs == 0, Error::<T>::NodeBusy);
			let unlock_at =
				frame_system::Pallet::<T>::block_number().saturating_add(T::UnbondingPeriod::get());
			if node.status == NodeStatus::Active {
				Self::index_remove(node_id, &node.spec);
			}
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
			// A proposed key was never indexed, and may since be bound to another node.
			if node.worker_bound && NodeByWorker::<T>::get(&node.worker) == Some(node_id) {
				NodeByWorker::<T>::remove(&node.worker);
			}
			Nodes::<T>::remove(node_id);
			EngineUrls::<T>::remove(node_id);
			NodeCount::<T>::mutate(|count| *count = count.saturating_sub(1));
			Self::deposit_event(Event::BondWithdrawn {
				node_id,
				owner: node.owner,
				amount: released,
			});
			Ok(())
		}

		/// Report that the node is alive. A dormant node whose bond is at least `MinNodeBond`
		/// goes back into the matching index.
		///
		/// Origin: the node's owner or its bound worker key (a merely proposed key may not).
		/// Errors: `NodeNotFound`, `NotNodeOwnerOrWorker`, `NodeNotActive`, `GpuClassFull` (a
		/// dormant node whose class is full).
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::heartbeat())]
		pub fn heartbeat(origin: OriginFor<T>, node_id: NodeId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut node = Nodes::<T>::get(node_id).ok_or(Error::<T>::NodeNotFound)?;
			ensure!(
				node.owner == who || (node.worker_bound && node.worker == who),
				Error::<T>::NotNodeOwnerOrWorker
			);
			node.last_heartbeat = frame_system::Pallet::<T>::block_number();
			match node.status {
				NodeStatus::Active => {},
				NodeStatus::Dormant => {
					// Into a full class the node stays dormant, but its heartbeat counts: a
					// failing call would be re-sent (and paid for) by its worker forever.
					if node.bond >= T::MinNodeBond::get() {
						let _stays_dormant_when_the_class_is_full =
							Self::reactivate(node_id, &mut node);
					}
				},
				NodeStatus::Unbonding { .. } => return Err(Error::<T>::NodeNotActive.into()),
			}
			Nodes::<T>::insert(node_id, node);
			Self::deposit_event(Event::Heartbeat { node_id });
			Ok(())
		}

		/// Accept to sign for `node_id`, whose owner proposed this key as its worker: binds the
		/// key to the node, which may then take jobs.
		///
		/// Origin: the proposed worker key. Errors: `NodeNotFound`, `NotProposedWorker`,
		/// `NodeNotActive` (unbonding), `WorkerAlreadyBound` (bound to this node already, or
		/// meanwhile to another).
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::accept_worker())]
		pub fn accept_worker(origin: OriginFor<T>, node_id: NodeId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut node = Nodes::<T>::get(node_id).ok_or(Error::<T>::NodeNotFound)?;
			ensure!(node.worker == who, Error::<T>::NotProposedWorker);
			ensure!(!node.worker_bound, Error::<T>::WorkerAlreadyBound);
			ensure!(
				!matches!(node.status, NodeStatus::Unbonding { .. }),
				Error::<T>::NodeNotActive
			);
			ensure!(!NodeByWorker::<T>::contains_key(&who), Error::<T>::WorkerAlreadyBound);
			node.worker_bound = true;
			NodeByWorker::<T>::insert(&who, node_id);
			Nodes::<T>::insert(node_id, node);
			Self::deposit_event(Event::WorkerAccepted { node_id, worker: who });
			Ok(())
		}

		/// Hold `amount` more AICC as the node's bond. A dormant node that is live and whose
		/// bond reaches `MinNodeBond` goes back into the matching index.
		///
		/// Origin: the node's owner. Errors: `NodeNotFound`, `NotNodeOwner`, `NodeNotActive`
		/// (unbonding), `InsufficientBond` (the owner cannot cover `amount`), `GpuClassFull` (a
		/// node to reactivate whose class is full).
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::top_up_bond())]
		pub fn top_up_bond(
			origin: OriginFor<T>,
			node_id: NodeId,
			amount: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut node = Nodes::<T>::get(node_id).ok_or(Error::<T>::NodeNotFound)?;
			ensure!(node.owner == who, Error::<T>::NotNodeOwner);
			ensure!(
				!matches!(node.status, NodeStatus::Unbonding { .. }),
				Error::<T>::NodeNotActive
			);
			T::Currency::hold(&HoldReason::NodeBond.into(), &who, amount)
				.map_err(|_| Error::<T>::InsufficientBond)?;
			node.bond = node.bond.saturating_add(amount);
			Self::deposit_event(Event::BondToppedUp { node_id, amount });
			let now = frame_system::Pallet::<T>::block_number();
			if node.status == NodeStatus::Dormant
				&& Self::is_live(&node, now)
				&& node.bond >= T::MinNodeBond::get()
			{
				Self::reactivate(node_id, &mut node)?;
			}
			Nodes::<T>::insert(node_id, node);
			Ok(())
		}

		/// Take a node that missed its heartbeats out of the matching index (it becomes
		/// dormant), so that dead nodes cannot fill the buckets and hide live ones. Free when
		/// it prunes.
		///
		/// Origin: anyone (signed). Errors: `NodeNotFound`, `NodeIsLive` (the node is live, or
		/// not active).
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::prune_dead_node())]
		pub fn prune_dead_node(
			origin: OriginFor<T>,
			node_id: NodeId,
		) -> DispatchResultWithPostInfo {
			ensure_signed(origin)?;
			ensure!(Nodes::<T>::contains_key(node_id), Error::<T>::NodeNotFound);
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(Self::drop_if_dead(node_id, now), Error::<T>::NodeIsLive);
			Ok(Pays::No.into())
		}

		/// Publish (or, with `None`, withdraw) the address of the node's compute engine, where
		/// verifiers fetch the models and checkpoints it must serve when challenged.
		///
		/// Origin: the node's owner or its bound worker key. Errors: `NodeNotFound`,
		/// `NotNodeOwnerOrWorker`, `InvalidEngineUrl`.
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::set_engine_url())]
		pub fn set_engine_url(
			origin: OriginFor<T>,
			node_id: NodeId,
			url: Option<crate::EngineUrl>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let node = Nodes::<T>::get(node_id).ok_or(Error::<T>::NodeNotFound)?;
			ensure!(
				node.owner == who || (node.worker_bound && node.worker == who),
				Error::<T>::NotNodeOwnerOrWorker
			);
			match &url {
				Some(url) => {
					ensure!(crate::types::valid_engine_url(url), Error::<T>::InvalidEngineUrl);
					EngineUrls::<T>::insert(node_id, url);
				},
				None => EngineUrls::<T>::remove(node_id),
			}
			Self::deposit_event(Event::EngineUrlSet { node_id, url });
			Ok(())
		}
	}
}
