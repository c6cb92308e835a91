//! The off-chain worker: what every validator (and provider) node does after importing a block.
//!
//! - **Pending jobs** (validator key): ask the compute engine to score the eligible candidates
//!   with its learned policy and sign `propose_assignment` for its pick.
//! - **Assigned jobs** whose node's worker key is local (provider): queue the training in the
//!   engine, and once it has finished, sign `submit_result` with the model hash, metrics and the
//!   commitment to its checkpoints. When
//!   the engine refuses the job (unknown dataset, a spec it cannot train), sign `decline_job`
//!   at once: the job goes back to matching instead of timing out (which would slash the bond).
//! - **Submitted results** (validator key, never the provider's): once the result's challenge
//!   is known (the block after it landed), queue a verification in the engine (fetch the model
//!   and the challenged checkpoints, replay this validator's segment, re-evaluate the model) and
//!   sign `attest` with its verdict; a provider that does not serve them is rejected.
//! - **Outcomes**: report how jobs the engine selected for ended, so the policy learns.
//! - **Heartbeats** for the local provider nodes.
//!
//! Engine calls only enqueue or poll (never wait for training), each with a short deadline; a
//! run looks again at the tasks its engine was still working on, up to [`REPOLLS`] times after
//! short pauses, so that a tiny job's result or attestation lands a block earlier. A run signs
//! as many transactions as there is work, up to [`MAX_TRANSACTIONS_PER_RUN`] (the runtime's
//! signer gives each its own nonce, so several per key and block are fine); a persistent
//! offchain-storage claim per action and job makes sure overlapping worker runs never do the
//! same work twice. Jobs waiting in the queue for capacity are skipped without being read.

use crate::{pallet::*, reservations::Reservations, JobOf, JobStatus, ValidatorWorkers};
use aicchain_primitives::{
	engine_api::{CandidateNode, EngineRequest, EngineResponse, JobOutcome, TaskStatus},
	JobId, QuantisedMetrics,
};
use alloc::{collections::BTreeSet, vec::Vec};
use codec::Encode;
use frame_system::pallet_prelude::BlockNumberFor;
use sp_core::H256;
use sp_runtime::{
	offchain::{
		storage::{MutateStorageError, StorageRetrievalError, StorageValueRef},
		Duration,
	},
	traits::{Get, Saturating, UniqueSaturatedInto},
	Perbill,
};

mod engine;
mod federation;
use engine::EngineError;

const LOG_TARGET: &str = "aicchain::worker";

/// Offchain-storage key (persistent) where the node writes its compute engine's base URL.
pub const ENGINE_URL_KEY: &[u8] = b"aicchain::engine-url";
/// Persistent offchain storage key of the bearer token the engine's `/ocw` endpoint expects
/// (written by the node with the URL; absent when the engine takes loopback requests only).
pub const ENGINE_TOKEN_KEY: &[u8] = b"aicchain::engine-token";
/// Blocks to wait for a signed transaction to land before trying the same action again.
pub(crate) const RETRY_AFTER_BLOCKS: u32 = 5;
/// Most transactions one run signs, all local keys together, so that a run stays short; the
/// rest waits for the next block's run. A settled job takes three (proposal, result,
/// attestation), so a node holding every key of a market settling 25 jobs a block signs 75 a run;
/// 256 leaves room for bursts (signing one takes well under a millisecond, and the pool takes
/// thousands).
pub(crate) const MAX_TRANSACTIONS_PER_RUN: u32 = 256;
/// A run looks again at the jobs its engine was still training or verifying, up to this many
/// times, this long apart: a tiny job's result then lands a block earlier.
pub(crate) const REPOLLS: u32 = 3;
pub(crate) const REPOLL_AFTER_MS: u64 = 300;
/// Heartbeat when the last one is older than this share of the timeout.
const HEARTBEAT_AT: Perbill = Perbill::from_percent(50);

/// Signs and submits this pallet's calls with the worker keys in the node's keystore. The
/// runtime implements it with `CreateSignedTransaction` and its own nonce tracking (several
/// transactions per key and block); tests record the calls.
pub trait WorkerSigner<AccountId, Call> {
	/// Accounts of the worker (`aicc`) keys this node holds.
	fn local_accounts() -> Vec<AccountId>;
	/// Signs `call` with `account`'s worker key and sends it to the transaction pool. Must
	/// support several calls per account in one run (each with its own nonce).
	fn submit(account: &AccountId, call: Call) -> bool;
}

impl<AccountId, Call> WorkerSigner<AccountId, Call> for () {
	fn local_accounts() -> Vec<AccountId> {
		Vec::new()
	}
	fn submit(_: &AccountId, _: Call) -> bool {
		false
	}
}

/// An action the worker takes at most once per job (until it has had time to land).
#[derive(Clone, Copy, Debug, Encode)]
enum Action {
	Propose,
	Train,
	Attest,
	Heartbeat,
	Decline,
	Prune,
	/// A federated member's update of a round.
	Update,
	/// A validator's verdict on a federated round.
	Aggregate,
}

/// Whether the engine is still working on a job's task after a visit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Progress {
	/// Training or verification queued or running: worth another look soon.
	Working,
	/// Nothing left for this run (done, sent, or nothing to do).
	Idle,
}

impl<T: Config> Pallet<T> {
	/// Runs the worker for block `now`.
	pub fn run_worker(now: BlockNumberFor<T>) {
		let accounts = <T::WorkerSigner as WorkerSigner<T::AccountId, Call<T>>>::local_accounts();
		if accounts.is_empty() {
			if Self::every(now, 100) {
				log::info!(
					target: LOG_TARGET,
					"no compute worker key (type `aicc`) in the keystore: this node will not propose, train or attest. Insert one with `author_insertKey`, or start with `--worker-key`.",
				);
			}
			return;
		}
		let validator = accounts.iter().find(|a| T::Validators::is_validator_worker(a)).cloned();
		// Transactions this run may still sign (each job's handler signs at most one).
		let mut left = MAX_TRANSACTIONS_PER_RUN;
		Self::heartbeats(now, &accounts, &mut left);
		// A job can sit in several blocks' queues (a stage ended early); visit it once. Jobs
		// waiting in the queue for capacity need no worker: skip them without reading them, so
		// that a long queue costs a run one read.
		let waiting: BTreeSet<JobId> =
			WaitQueue::<T>::get().into_iter().map(|(id, _)| id).collect();
		let open: BTreeSet<JobId> =
			Deadlines::<T>::iter_values().flatten().filter(|id| !waiting.contains(id)).collect();
		// Jobs the engine is still training or verifying: a tiny job finishes in milliseconds,
		// so look again after a short wait instead of a block later.
		let mut working = Vec::new();
		// What the pending jobs visited so far will take, in job-id order (see `reservations`).
		let mut reserved = Reservations::default();
		for job_id in open {
			if left == 0 {
				log::debug!(
					target: LOG_TARGET,
					"{MAX_TRANSACTIONS_PER_RUN} transactions signed: the other jobs wait for the next block",
				);
				break;
			}
			match Self::visit(now, job_id, &accounts, &validator, &mut left, &mut reserved) {
				Ok(Progress::Working) => working.push(job_id),
				Ok(Progress::Idle) => {},
				// Without an engine nothing else in this run can succeed either.
				Err(()) => return,
			}
		}
		let mut federated = match Self::federated_work(now, &accounts, &validator, &mut left) {
			Ok(progress) => progress,
			Err(e) => {
				log::warn!(target: LOG_TARGET, "federated jobs: compute engine unavailable: {e:?}");
				return;
			},
		};
		for _ in 0..REPOLLS {
			if (working.is_empty() && federated == Progress::Idle) || left == 0 {
				break;
			}
			let wake = sp_io::offchain::timestamp().add(Duration::from_millis(REPOLL_AFTER_MS));
			sp_io::offchain::sleep_until(wake);
			let mut still = Vec::new();
			for job_id in working {
				match Self::visit(now, job_id, &accounts, &validator, &mut left, &mut reserved) {
					Ok(Progress::Working) => still.push(job_id),
					Ok(Progress::Idle) => {},
					Err(()) => return,
				}
			}
			working = still;
			if federated == Progress::Working {
				federated = Self::federated_work(now, &accounts, &validator, &mut left)
					.unwrap_or(Progress::Idle);
			}
		}
		if validator.is_some() {
			if let Err(e) = Self::report_outcomes(now) {
				log::debug!(target: LOG_TARGET, "outcomes not reported: {e:?}");
			}
		}
	}

	/// Does what this node's keys owe job `job_id` at its stage. `Err` when the engine is
	/// unreachable (logged).
	fn visit(
		now: BlockNumberFor<T>,
		job_id: JobId,
		accounts: &[T::AccountId],
		validator: &Option<T::AccountId>,
		left: &mut u32,
		reserved: &mut Reservations,
	) -> Result<Progress, ()> {
		let Some(job) = Jobs::<T>::get(job_id) else { return Ok(Progress::Idle) };
		let result = match job.status.clone() {
			JobStatus::Pending => match validator {
				Some(v) => {
					Self::propose(now, job_id, &job, v, left, reserved).map(|()| Progress::Idle)
				},
				None => Ok(Progress::Idle),
			},
			JobStatus::Assigned { node, .. } => {
				// Only a key that accepted the binding works for the node.
				let worker = pallet_compute_registry::Nodes::<T>::get(node)
					.filter(|n| n.worker_bound)
					.map(|n| n.worker);
				match worker {
					Some(w) if accounts.contains(&w) => {
						Self::produce_result(now, job_id, &job, &w, left)
					},
					_ => Ok(Progress::Idle),
				}
			},
			JobStatus::ResultSubmitted { node, model_hash, metrics, .. } => match validator {
				Some(v) => Self::verify(now, job_id, &job, node, model_hash, metrics, v, left),
				None => Ok(Progress::Idle),
			},
			_ => Ok(Progress::Idle),
		};
		result.map_err(|e| {
			log::warn!(target: LOG_TARGET, "job {job_id}: compute engine unavailable: {e:?}");
		})
	}

	fn every(now: BlockNumberFor<T>, blocks: u32) -> bool {
		let now: u32 = now.unique_saturated_into();
		now % blocks == 1
	}

	fn propose(
		now: BlockNumberFor<T>,
		job_id: JobId,
		job: &JobOf<T>,
		validator: &T::AccountId,
		left: &mut u32,
		reserved: &mut Reservations,
	) -> Result<(), EngineError> {
		if Proposals::<T>::get(job_id).iter().any(|(p, _)| p == validator)
			|| !Self::may_act(Action::Propose, job_id, now)
		{
			Self::reserve_expected(job_id, job, reserved);
			return Ok(());
		}
		Self::prune_dead_candidates(now, job_id, job, validator, left);
		let candidates = Self::candidate_features(job_id, job, now, reserved);
		if candidates.is_empty() {
			Self::reserve_expected(job_id, job, reserved);
			return Ok(());
		}
		let request = EngineRequest::Select {
			job_id,
			requirements: job.requirements.clone(),
			budget: job.budget.unique_saturated_into(),
			candidates,
		};
		match Self::call_engine(&request)? {
			EngineResponse::Selected { node_id, scores } => {
				log::info!(target: LOG_TARGET, "job {job_id}: policy picks node {node_id} (scores {scores:?})");
				reserved.reserve(node_id, job.requirements.gpus);
				Self::remember_proposal(job_id, node_id);
				let call = Call::<T>::propose_assignment { job_id, node_id };
				Self::send(Action::Propose, job_id, validator, call, left);
			},
			EngineResponse::Error(message) => log::warn!(
				target: LOG_TARGET,
				"job {job_id}: engine error: {}",
				alloc::string::String::from_utf8_lossy(&message)
			),
			other => log::warn!(target: LOG_TARGET, "job {job_id}: no selection: {other:?}"),
		}
		Ok(())
	}

	/// Asks the chain to drop the job's sampled candidates that stopped sending heartbeats from
	/// the matching index (`prune_dead_node`, free when it prunes), so that dead nodes never
	/// crowd out live ones in later samples.
	fn prune_dead_candidates(
		now: BlockNumberFor<T>,
		job_id: JobId,
		job: &JobOf<T>,
		validator: &T::AccountId,
		left: &mut u32,
	) {
		for node_id in Self::candidate_sample(job_id, job) {
			let Some(node) = pallet_compute_registry::Nodes::<T>::get(node_id) else { continue };
			let dead = node.status == pallet_compute_registry::NodeStatus::Active
				&& !pallet_compute_registry::Pallet::<T>::is_live(&node, now);
			if *left == 0 || !dead || !Self::may_act(Action::Prune, u64::from(node_id), now) {
				continue;
			}
			let call = pallet_compute_registry::Call::<T>::prune_dead_node { node_id };
			Self::send(Action::Prune, u64::from(node_id), validator, call, left);
		}
	}

	/// The eligible, affordable candidates of a job as the engine sees them, once the pending
	/// jobs this run placed before it (`reserved`) have taken their share: a node they fill is
	/// left out, and their jobs count in a node's load.
	pub fn candidate_features(
		job_id: JobId,
		job: &JobOf<T>,
		now: BlockNumberFor<T>,
		reserved: &Reservations,
	) -> Vec<CandidateNode> {
		Self::candidate_sample(job_id, job)
			.into_iter()
			.filter_map(|node_id| {
				let (mut node, cost) = Self::eligible_node_for_job(job, node_id, now).ok()?;
				let (jobs, gpus) = reserved.on(node_id);
				node.active_jobs = node.active_jobs.saturating_add(jobs);
				node.active_gpus = node.active_gpus.saturating_add(gpus);
				if !pallet_compute_registry::Pallet::<T>::has_room(&node, job.requirements.gpus) {
					return None;
				}
				Some(CandidateNode {
					node_id,
					gpu_count: node.spec.gpu_count,
					gpu_memory_gib: node.spec.gpu_memory_gib,
					bandwidth_mbps: node.spec.bandwidth_mbps,
					latency_ms: node.spec.latency_ms,
					renewable_share: node.spec.renewable_share,
					carbon_intensity: node.spec.carbon_intensity,
					cost: cost.unique_saturated_into(),
					reputation: node.reputation,
					active_jobs: node.active_jobs,
					max_jobs: <T as pallet_compute_registry::Config>::MaxJobsPerNode::get(),
					completed_jobs: node.completed_jobs,
					failed_jobs: node.failed_jobs,
				})
			})
			.collect()
	}

	fn produce_result(
		now: BlockNumberFor<T>,
		job_id: JobId,
		job: &JobOf<T>,
		worker: &T::AccountId,
		left: &mut u32,
	) -> Result<Progress, EngineError> {
		let Some(spec) = job.requirements.training.clone() else {
			// A plain compute reservation has no model: report completion.
			if Self::may_act(Action::Train, job_id, now) {
				let metrics =
					QuantisedMetrics { score: Perbill::one(), loss_millionths: 0, eval_samples: 1 };
				let call = Call::<T>::submit_result {
					job_id,
					model_hash: H256::zero(),
					metrics,
					commitment: None,
				};
				Self::send(Action::Train, job_id, worker, call, left);
			}
			return Ok(Progress::Idle);
		};
		let start = Self::start_of(&spec);
		match Self::call_engine(&EngineRequest::Train { job_id, spec, start })? {
			EngineResponse::Task(TaskStatus::Trained { model_hash, metrics, commitment })
				if Self::may_act(Action::Train, job_id, now) =>
			{
				log::info!(target: LOG_TARGET, "job {job_id}: trained model {model_hash:?}, submitting");
				let commitment = Some(commitment);
				let call = Call::<T>::submit_result { job_id, model_hash, metrics, commitment };
				Self::send(Action::Train, job_id, worker, call, left);
			},
			// The engine refuses the job (unknown dataset, a spec it cannot train): give it
			// back now rather than let it time out, which would slash the node's bond.
			EngineResponse::Task(TaskStatus::Failed(reason)) => {
				log::warn!(
					target: LOG_TARGET,
					"job {job_id}: the engine refuses it ({}): declining",
					alloc::string::String::from_utf8_lossy(&reason)
				);
				// After the decline window the chain refuses a decline: do not pay for one.
				let open = now <= job.assigned_at.saturating_add(T::DeclineWindow::get());
				if open && Self::may_act(Action::Decline, job_id, now) {
					let call = Call::<T>::decline_job { job_id };
					Self::send(Action::Decline, job_id, worker, call, left);
				}
			},
			EngineResponse::Task(TaskStatus::Queued | TaskStatus::Running) => {
				return Ok(Progress::Working)
			},
			_ => {},
		}
		Ok(Progress::Idle)
	}

	#[allow(clippy::too_many_arguments)]
	fn verify(
		now: BlockNumberFor<T>,
		job_id: JobId,
		job: &JobOf<T>,
		node: aicchain_primitives::NodeId,
		model_hash: H256,
		metrics: QuantisedMetrics,
		validator: &T::AccountId,
		left: &mut u32,
	) -> Result<Progress, EngineError> {
		let own = pallet_compute_registry::Nodes::<T>::get(node)
			.is_none_or(|n| n.owner == *validator || n.worker == *validator);
		if own || Attestations::<T>::get(job_id).iter().any(|(v, _)| v == validator) {
			return Ok(Progress::Idle);
		}
		let verdict = match job.requirements.training.clone() {
			None => Some(model_hash.is_zero()),
			Some(spec) => {
				// The challenge exists from the block after the commitment landed: wait for it.
				let Some((commitment, submitted_at)) = Commitments::<T>::get(job_id) else {
					return Ok(Progress::Idle);
				};
				let Some(challenge) = Self::challenge_of(job_id, submitted_at) else {
					return Ok(Progress::Idle);
				};
				let start = Self::start_of(&spec);
				let request = EngineRequest::Verify {
					job_id,
					start,
					spec,
					model_hash,
					metrics,
					commitment,
					challenge,
					verifier: validator.encode(),
					provider_engine: pallet_compute_registry::EngineUrls::<T>::get(node)
						.map(|url| url.into_inner()),
				};
				match Self::call_engine(&request)? {
					EngineResponse::Task(TaskStatus::Verified { accept, reason }) => {
						if !accept {
							log::warn!(
								target: LOG_TARGET,
								"job {job_id}: rejecting result: {}",
								alloc::string::String::from_utf8_lossy(&reason)
							);
						}
						Some(accept)
					},
					// The engine could not evaluate (e.g. unknown dataset): do not vote.
					EngineResponse::Task(TaskStatus::Failed(reason)) => {
						log::warn!(
							target: LOG_TARGET,
							"job {job_id}: cannot verify: {}",
							alloc::string::String::from_utf8_lossy(&reason)
						);
						None
					},
					EngineResponse::Task(TaskStatus::Queued | TaskStatus::Running) => {
						return Ok(Progress::Working)
					},
					_ => None,
				}
			},
		};
		if let Some(accept) = verdict {
			if Self::may_act(Action::Attest, job_id, now) {
				let call = Call::<T>::attest { job_id, accept };
				Self::send(Action::Attest, job_id, validator, call, left);
			}
		}
		Ok(Progress::Idle)
	}

	fn report_outcomes(now: BlockNumberFor<T>) -> Result<(), EngineError> {
		let EngineResponse::PendingOutcomes(ids) =
			Self::call_engine(&EngineRequest::PendingOutcomes)?
		else {
			return Ok(());
		};
		for job_id in ids {
			let Some(job) = Jobs::<T>::get(job_id) else { continue };
			let (node_id, success) = match job.status {
				JobStatus::Settled { node } => (node, true),
				JobStatus::Rejected { node }
				| JobStatus::TimedOut { node }
				| JobStatus::Unverified { node } => (node, false),
				// Cancelled or expired jobs never ran: they teach nothing.
				JobStatus::Expired | JobStatus::Cancelled => {
					Self::call_engine(&EngineRequest::Forget(job_id))?;
					continue;
				},
				// Not started or still running.
				_ => continue,
			};
			let receipt = Receipts::<T>::get(job_id);
			let outcome = JobOutcome {
				job_id,
				node_id,
				success,
				cost: receipt.as_ref().map(|r| r.cost.unique_saturated_into()).unwrap_or(0),
				carbon_grams: receipt.as_ref().map(|r| r.carbon_grams).unwrap_or(0),
				blocks_taken: now.saturating_sub(job.submitted_at).unique_saturated_into(),
			};
			Self::call_engine(&EngineRequest::Outcome(outcome))?;
		}
		Ok(())
	}

	/// Heartbeats for the local provider nodes (found through the registry's index of bound
	/// worker keys) whose last one is older than half the timeout; dormant nodes too, so that a
	/// node that was offline comes back into matching by itself.
	fn heartbeats(now: BlockNumberFor<T>, accounts: &[T::AccountId], left: &mut u32) {
		let due = HEARTBEAT_AT * <T as pallet_compute_registry::Config>::HeartbeatTimeout::get();
		for worker in accounts {
			let Some(node_id) = pallet_compute_registry::NodeByWorker::<T>::get(worker) else {
				continue;
			};
			let Some(node) = pallet_compute_registry::Nodes::<T>::get(node_id) else { continue };
			// A dormant node's heartbeat brings it back into matching (if its bond allows).
			let running = matches!(
				node.status,
				pallet_compute_registry::NodeStatus::Active
					| pallet_compute_registry::NodeStatus::Dormant
			);
			if *left > 0
				&& running && now.saturating_sub(node.last_heartbeat) >= due
				&& Self::may_act(Action::Heartbeat, u64::from(node_id), now)
			{
				let call = pallet_compute_registry::Call::<T>::heartbeat { node_id };
				Self::send(Action::Heartbeat, u64::from(node_id), worker, call, left);
			}
		}
	}

	/// The offchain-storage key of the claim on `(action, job)`.
	fn claim_key(action: Action, job_id: JobId) -> Vec<u8> {
		(b"aicchain::worker::claim", action, job_id).encode()
	}

	/// Claims `(action, job)` for this block in persistent offchain storage; false when a run
	/// claimed it less than `RETRY_AFTER_BLOCKS` ago (its transaction may still be in flight).
	fn may_act(action: Action, job_id: JobId, now: BlockNumberFor<T>) -> bool {
		let key = Self::claim_key(action, job_id);
		let claim = StorageValueRef::persistent(&key);
		let result =
			claim.mutate(|previous: Result<Option<BlockNumberFor<T>>, StorageRetrievalError>| {
				match previous {
					Ok(Some(at)) if now < at.saturating_add(RETRY_AFTER_BLOCKS.into()) => Err(()),
					_ => Ok(now),
				}
			});
		match result {
			Ok(_) => true,
			Err(MutateStorageError::ValueFunctionFailed(())) => false,
			// Another run changed the value at the same moment: it has the claim.
			Err(MutateStorageError::ConcurrentModification(_)) => false,
		}
	}

	/// Gives up a claim whose transaction never reached the pool, so the next run tries again.
	fn release(action: Action, job_id: JobId) {
		StorageValueRef::persistent(&Self::claim_key(action, job_id)).clear();
	}

	/// Signs and submits `call` for the claim `(action, id)` (a job id, or a node id for
	/// heartbeats and prunes): one transaction fewer `left` in this run, or the claim released
	/// so that the next run tries again.
	fn send<C>(action: Action, id: u64, account: &T::AccountId, call: C, left: &mut u32)
	where
		T::WorkerSigner: WorkerSigner<T::AccountId, C>,
	{
		if <T::WorkerSigner as WorkerSigner<T::AccountId, C>>::submit(account, call) {
			*left = left.saturating_sub(1);
		} else {
			log::warn!(target: LOG_TARGET, "{action:?} {id}: could not sign or submit");
			Self::release(action, id);
		}
	}
}
