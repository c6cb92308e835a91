//! The compute engine: a task queue that trains and verifies models on a worker thread, the
//! node-selection policy, and the bookkeeping the off-chain worker polls.

mod datasets;
pub mod inference;
pub use datasets::UploadRefused;
pub mod decisions;
pub mod learner;
use learner::{LearnerState, LearnerStore, Pending};
mod federated;
mod verify;
pub use verify::VerifyRequest;

use crate::{
	dataset::DatasetStore,
	model,
	policy::{self, Policy, FEATURES},
	simulator,
	store::ModelStore,
	EngineError,
};
use aicchain_primitives::{
	engine_api::{EngineRequest, EngineResponse, JobOutcome, TaskStatus},
	JobId, ModelKind, QuantisedMetrics, TrainingSpec,
};
use candle_core::Device;
use codec::Encode;
use sp_core::H256;
use sp_runtime::Perbill;
use std::{
	collections::HashMap,
	path::PathBuf,
	sync::{mpsc, Mutex, MutexGuard},
};

/// Where the engine keeps its files and what it runs on.
#[derive(Clone, Debug)]
pub struct EngineConfig {
	/// Dataset files (the built-in ones are written here at start).
	pub dataset_dir: PathBuf,
	/// Trained models, by hash.
	pub model_dir: PathBuf,
	/// The saved selection policy.
	pub policy_path: PathBuf,
	/// `cpu` or `cuda[:N]`.
	pub device: String,
	/// Other engines to fetch models from when verifying (`http://host:port`).
	pub peers: Vec<String>,
	/// The bearer token `POST /ocw` requires (`Authorization: Bearer <token>`); without one,
	/// only loopback peers may post (see [`crate::http::ocw_allowed`]).
	pub ocw_token: Option<String>,
	/// Whether an engine address published on chain may be private (loopback, RFC 1918,
	/// link-local…; see [`crate::http::is_public`]). Off on a public network: anyone can
	/// publish an address, and a verifier must not fetch from its own host or network on a
	/// stranger's say. On for a dev or local chain, where every engine is on one host.
	pub allow_private_engines: bool,
	/// The chain's dataset records (the node's state for its in-process engine). Without them
	/// the engine takes no uploads and fetches no dataset from peers: it trains and verifies
	/// only on the files in its dataset directory.
	pub chain_datasets: Option<crate::dataset::ChainDatasets>,
	/// The chain's state, for paid inference (`POST /infer`): without it the engine answers
	/// no paid queries.
	pub chain_state: Option<crate::inference::ChainState>,
	/// Where the vouchers of answered queries are kept until (and after) they are redeemed.
	pub voucher_dir: PathBuf,
	/// The key this engine signs its fetches from peers with ([`crate::access`]): a private
	/// model's weights and training checkpoints are served only on a signed request. The node
	/// signs with its compute worker key.
	pub signer: Option<crate::access::Signer>,
	/// Fault injection for dev and local chains (the node refuses it elsewhere): the
	/// federated members whose updates this engine poisons, by worker key, and how.
	pub byzantine: Vec<([u8; 32], crate::federated::Behaviour)>,
}

impl EngineConfig {
	/// Everything under one directory.
	pub fn in_dir(dir: impl Into<PathBuf>) -> Self {
		let dir = dir.into();
		Self {
			dataset_dir: dir.join("datasets"),
			model_dir: dir.join("models"),
			policy_path: dir.join("policy.safetensors"),
			device: "cpu".into(),
			peers: Vec::new(),
			ocw_token: None,
			allow_private_engines: false,
			chain_datasets: None,
			chain_state: None,
			voucher_dir: dir.join("vouchers"),
			signer: None,
			byzantine: Vec::new(),
		}
	}
}

/// Parses `cpu`, `cuda` or `cuda:N`.
pub fn device_from_name(name: &str) -> Result<Device, EngineError> {
	match name {
		"cpu" => Ok(Device::Cpu),
		"cuda" => Ok(Device::new_cuda(0)?),
		other => match other.strip_prefix("cuda:").and_then(|n| n.parse::<usize>().ok()) {
			Some(ordinal) => Ok(Device::new_cuda(ordinal)?),
			None => Err(EngineError::InvalidSpec(format!(
				"unknown device `{other}` (cpu, cuda, cuda:N)"
			))),
		},
	}
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum TaskKey {
	Train(JobId),
	/// A job and the digest of the request ([`VerifyRequest::digest`]).
	Verify(JobId, H256),
	/// A federated job, round and member.
	Update(JobId, u8, u8),
	/// A federated job, round and the digest of the updates judged.
	Aggregate(JobId, u8, H256),
}

enum Task {
	/// A spec and the model file it starts from (relay training).
	Train(TrainingSpec, Option<H256>),
	Verify(VerifyRequest),
	Update(federated::UpdateTask),
	Aggregate(federated::AggregateTask),
}

pub struct Engine {
	pub datasets: DatasetStore,
	pub models: ModelStore,
	device: Device,
	device_name: String,
	peers: Vec<String>,
	/// Where published provider engines may be ([`EngineConfig::allow_private_engines`]).
	published_reach: crate::http::Reach,
	ocw_token: Option<String>,
	chain_datasets: Option<crate::dataset::ChainDatasets>,
	chain_state: Option<crate::inference::ChainState>,
	signer: Option<crate::access::Signer>,
	byzantine: Vec<([u8; 32], crate::federated::Behaviour)>,
	vouchers: Option<crate::inference::VoucherBook>,
	tasks: Mutex<HashMap<TaskKey, TaskStatus>>,
	queue: Mutex<mpsc::Sender<(TaskKey, Task)>>,
	policy: Mutex<Policy>,
	policy_path: PathBuf,
	/// Outcomes learnt, the window of decisions PPO learns from, and the selections awaiting
	/// their outcome.
	learner: Mutex<(LearnerState, std::collections::BTreeMap<JobId, Pending>)>,
	learner_store: LearnerStore,
	/// The latest decisions, for clients (`GET /selections/<job>`).
	decisions: Mutex<decisions::Decisions>,
}

/// The online learner's SGD step size.
const ONLINE_LEARNING_RATE: f64 = 0.005;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
	m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Engine {
	/// Opens the directories, writes the built-in datasets, loads (or trains on the simulator
	/// and saves) the policy, and starts the training thread.
	pub fn start(config: EngineConfig) -> Result<std::sync::Arc<Self>, EngineError> {
		let device = device_from_name(&config.device)?;
		let datasets = DatasetStore::new(&config.dataset_dir);
		datasets.ensure_builtin()?;
		let models = ModelStore::new(&config.model_dir)?;
		let learner_store = LearnerStore::beside(&config.policy_path);
		let (state, pending) = learner_store.load()?;
		let policy = match Policy::load(&config.policy_path, &Device::Cpu)? {
			Some(policy) => policy,
			None => {
				log::info!(target: "aicchain-worker", "no saved policy: training one on the simulator");
				let policy = simulator::train_policy(1, 150, 64)?;
				policy.save(&config.policy_path)?;
				policy
			},
		};
		let state = match state {
			Some(state) => state,
			None => {
				let state = LearnerState::default();
				learner_store.save_state(&state)?;
				state
			},
		};
		let vouchers = match config.chain_state {
			Some(_) => Some(crate::inference::VoucherBook::open(&config.voucher_dir)?),
			None => None,
		};
		let (sender, receiver) = mpsc::channel();
		let engine = std::sync::Arc::new(Self {
			datasets,
			models,
			device,
			device_name: config.device.clone(),
			peers: config.peers,
			published_reach: if config.allow_private_engines {
				crate::http::Reach::Any
			} else {
				crate::http::Reach::PublicOnly
			},
			ocw_token: config.ocw_token,
			chain_datasets: config.chain_datasets,
			chain_state: config.chain_state,
			signer: config.signer,
			byzantine: config.byzantine,
			vouchers,
			tasks: Mutex::new(HashMap::new()),
			queue: Mutex::new(sender),
			policy: Mutex::new(policy),
			policy_path: config.policy_path,
			learner: Mutex::new((state, pending)),
			learner_store,
			decisions: Mutex::new(decisions::Decisions::default()),
		});
		let weak = std::sync::Arc::downgrade(&engine);
		std::thread::Builder::new().name("aicchain-trainer".into()).spawn(move || {
			while let Ok((key, task)) = receiver.recv() {
				let Some(engine) = weak.upgrade() else { break };
				engine.set(&key, TaskStatus::Running);
				let status = engine.run(task);
				engine.set(&key, status);
			}
		})?;
		Ok(engine)
	}

	fn set(&self, key: &TaskKey, status: TaskStatus) {
		lock(&self.tasks).insert(key.clone(), status);
	}

	/// Answers one off-chain worker request.
	pub fn handle(&self, request: EngineRequest) -> EngineResponse {
		match request {
			EngineRequest::Select { job_id, requirements, budget, candidates } => {
				if candidates.is_empty() {
					return EngineResponse::NoCandidate;
				}
				let feats: Vec<[f32; FEATURES]> =
					candidates.iter().map(|c| policy::features(c, &requirements, budget)).collect();
				// One view of the learner: the policy, its critic and the count of outcomes it
				// learnt, read under the policy's lock (which `learn` holds while it updates).
				let (probabilities, expected_reward, learnt) = {
					let policy = lock(&self.policy);
					let probabilities = match policy.probabilities(&feats) {
						Ok(p) => p,
						Err(e) => return EngineResponse::Error(e.to_string().into_bytes()),
					};
					let expected = policy.expected_reward(&feats).unwrap_or(f32::NAN);
					(probabilities, expected, lock(&self.learner).0.learnt)
				};
				let (chosen, explored) = learner::choose(&probabilities, job_id, learnt);
				let scores = candidates
					.iter()
					.zip(&probabilities)
					.map(|(c, p)| (c.node_id, model::quantise_fraction(f64::from(*p))))
					.collect();
				let node_id = candidates.get(chosen).map(|c| c.node_id).unwrap_or_default();
				let record = decisions::Record {
					chosen: node_id,
					explored,
					candidates: candidates
						.iter()
						.zip(&feats)
						.zip(&probabilities)
						.map(|((c, f), p)| (c.node_id, *f, *p))
						.collect(),
					expected_reward,
					outcome: None,
				};
				let pending = Pending {
					nodes: candidates.iter().map(|c| c.node_id).collect(),
					candidates: feats,
					budget,
					gpu_hours: u64::from(requirements.gpus) * u64::from(requirements.gpu_hours),
					carbon_weight: policy::carbon_weight(&requirements),
				};
				if let Err(e) = self.remember(job_id, pending) {
					return EngineResponse::Error(e.to_string().into_bytes());
				}
				lock(&self.decisions).insert(job_id, record);
				EngineResponse::Selected { node_id, scores }
			},
			EngineRequest::Train { job_id, spec, start } => {
				self.enqueue(TaskKey::Train(job_id), Task::Train(spec, start))
			},
			EngineRequest::Verify {
				job_id,
				spec,
				model_hash,
				metrics,
				commitment,
				challenge,
				verifier,
				provider_engine,
				start,
			} => {
				let request = VerifyRequest {
					start,
					spec,
					model_hash,
					metrics,
					commitment,
					challenge,
					verifier,
					// An address that is not UTF-8 is no address: the configured peers remain.
					provider_engine: provider_engine.and_then(|url| String::from_utf8(url).ok()),
				};
				self.enqueue(TaskKey::Verify(job_id, request.digest()), Task::Verify(request))
			},
			EngineRequest::PendingOutcomes => {
				EngineResponse::PendingOutcomes(lock(&self.learner).1.keys().copied().collect())
			},
			EngineRequest::Outcome(outcome) => match self.learn(&outcome) {
				Ok(()) => EngineResponse::Ack,
				Err(e) => EngineResponse::Error(e.to_string().into_bytes()),
			},
			EngineRequest::Forget(job_id) => match self.forget(job_id) {
				Ok(_) => EngineResponse::Ack,
				Err(e) => EngineResponse::Error(e.to_string().into_bytes()),
			},
			EngineRequest::FederatedUpdate {
				federation,
				round,
				spec,
				federated,
				index,
				worker,
				previous,
			} => self.enqueue(
				TaskKey::Update(federation, round, index),
				Task::Update(federated::UpdateTask {
					federation,
					round,
					spec,
					federated,
					index,
					worker,
					previous,
				}),
			),
			EngineRequest::FederatedAggregate { federation, round, spec, federated, updates } => {
				let digest = H256(crate::dataset::blake2_256(&updates.encode()));
				self.enqueue(
					TaskKey::Aggregate(federation, round, digest),
					Task::Aggregate(federated::AggregateTask {
						federation,
						spec,
						federated,
						updates,
					}),
				)
			},
		}
	}

	/// Queues a task the first time; reports its status every time.
	fn enqueue(&self, key: TaskKey, task: Task) -> EngineResponse {
		let mut tasks = lock(&self.tasks);
		if let Some(status) = tasks.get(&key) {
			return EngineResponse::Task(status.clone());
		}
		if lock(&self.queue).send((key.clone(), task)).is_err() {
			return EngineResponse::Error(b"training thread stopped".to_vec());
		}
		tasks.insert(key, TaskStatus::Queued);
		EngineResponse::Task(TaskStatus::Queued)
	}

	fn run(&self, task: Task) -> TaskStatus {
		let result = match task {
			Task::Train(spec, start) => self.train_from(&spec, start),
			Task::Verify(request) => self.verify(&request),
			Task::Update(task) => self.federated_update(&task),
			Task::Aggregate(task) => self.federated_aggregate(&task),
		};
		result.unwrap_or_else(|e| {
			log::warn!(target: "aicchain-worker", "task failed: {e}");
			TaskStatus::Failed(e.to_string().into_bytes())
		})
	}

	/// Trains a job's model and stores it with its checkpoints (served by the commitment's
	/// root for verifiers).
	pub fn train(&self, spec: &TrainingSpec) -> Result<TaskStatus, EngineError> {
		self.train_from(spec, None)
	}

	/// [`Self::train`] from the model file `start` (relay training; MLPs only), from this
	/// engine's store or else its peers'.
	pub fn train_from(
		&self,
		spec: &TrainingSpec,
		start: Option<H256>,
	) -> Result<TaskStatus, EngineError> {
		let bytes = self.dataset_bytes(&spec.dataset.0, None)?;
		let start = match start {
			Some(hash) => Some(self.fetch_model(&hash.0, None).ok_or_else(|| {
				EngineError::BadModel(format!("parent model 0x{} unavailable", hex::encode(hash.0)))
			})?),
			None => None,
		};
		let mlp = matches!(spec.model, ModelKind::MlpClassifier | ModelKind::MlpRegressor);
		if start.is_some() && !mlp {
			return Err(EngineError::InvalidSpec("relay training is for MLPs".into()));
		}
		let trained = match spec.model {
			ModelKind::TransformerLm => {
				let text = crate::lm::replay::TextData::from_text(&bytes)?;
				crate::lm::replay::train(spec, &text, &self.device)?
			},
			ModelKind::CnnClassifier => {
				crate::cnn::train(spec, &crate::dataset::Dataset::from_csv(&bytes)?, &self.device)?
			},
			ModelKind::MlpClassifier | ModelKind::MlpRegressor => model::train_from(
				spec,
				&crate::dataset::Dataset::from_csv(&bytes)?,
				start.as_deref(),
				&self.device,
			)?,
		};
		let hash = self.models.put(&trained.bytes)?;
		let commitment = trained.proof.commitment;
		self.models.put_checkpoints(&commitment.root.0, &trained.proof.checkpoints)?;
		log::info!(
			target: "aicchain-worker",
			"trained model 0x{} (score {:?}, {} epochs, checkpoints 0x{})",
			hex::encode(hash),
			trained.metrics.score,
			spec.epochs,
			hex::encode(commitment.root)
		);
		Ok(TaskStatus::Trained { model_hash: H256(hash), metrics: trained.metrics, commitment })
	}

	/// Keeps a selection until its outcome (on disk too; the oldest go past
	/// [`learner::MAX_PENDING`]).
	fn remember(&self, job_id: JobId, pending: Pending) -> Result<(), EngineError> {
		self.learner_store.put(job_id, &pending)?;
		let mut learner = lock(&self.learner);
		learner.1.insert(job_id, pending);
		while learner.1.len() > learner::MAX_PENDING {
			if let Some((old, _)) = learner.1.pop_first() {
				self.learner_store.remove(old)?;
			}
		}
		Ok(())
	}

	/// Drops a pending selection (a cancelled or expired job teaches nothing).
	fn forget(&self, job_id: JobId) -> Result<Option<Pending>, EngineError> {
		let pending = lock(&self.learner).1.remove(&job_id);
		self.learner_store.remove(job_id)?;
		Ok(pending)
	}

	/// Learns from a realised outcome on the node that ran the job, whoever chose it (nothing
	/// when that node was not among this engine's candidates): the decision joins the window
	/// and PPO's epochs run over it; then saves the learner's state and the policy, and only
	/// then drops the pending selection (a failed update leaves all as it was).
	///
	/// π_old is the policy's probability of that node *when the outcome is learnt*, not when
	/// this engine selected: engines that learn the same outcomes in the same order then hold
	/// the same window and the same policy, whenever each of them was asked to select.
	fn learn(&self, outcome: &JobOutcome) -> Result<(), EngineError> {
		let Some(selection) = lock(&self.learner).1.get(&outcome.job_id).cloned() else {
			return Ok(());
		};
		let Some(ran) = selection.nodes.iter().position(|n| *n == outcome.node_id) else {
			self.forget(outcome.job_id)?;
			return Ok(());
		};
		let reward = learner::reward(&selection, outcome);
		let mut policy = lock(&self.policy);
		let p = policy.probabilities(&selection.candidates)?.get(ran).copied().unwrap_or(1.0);
		let decision = policy::Decision {
			candidates: selection.candidates,
			ran,
			reward,
			log_prob: p.max(f32::MIN_POSITIVE).ln(),
		};
		let mut state = lock(&self.learner).0.clone();
		state.push(decision);
		let window: Vec<policy::Decision> = state.window.iter().cloned().collect();
		policy.ppo_online(&window, &policy::PPO, ONLINE_LEARNING_RATE)?;
		self.learner_store.save_state(&state)?;
		policy.save(&self.policy_path)?;
		lock(&self.learner).0 = state;
		drop(policy);
		self.forget(outcome.job_id)?;
		lock(&self.decisions).learnt(outcome.job_id, outcome.node_id, reward);
		Ok(())
	}

	/// The policy's decision for a job ([`decisions::Decisions::json`]).
	pub fn decision_json(&self, job_id: JobId) -> Option<serde_json::Value> {
		lock(&self.decisions).json(job_id)
	}

	/// Whether a `GET` of weights (`path` with its query, asking for `resource`) presenting
	/// the fetch header `header` may be served ([`crate::access::authorize`]). Without a view
	/// of the chain an engine cannot tell who may, and serves.
	pub fn authorize_fetch(
		&self,
		resource: crate::access::Resource,
		path: &str,
		header: Option<&str>,
	) -> Result<(), crate::access::Refusal> {
		match &self.chain_state {
			Some(chain) => {
				crate::access::authorize(chain, resource, path, header, crate::access::unix_now())
			},
			None => Ok(()),
		}
	}

	/// The fetch header this engine signs a `GET` of `path` with, if it has a key and knows
	/// the chain, with `key` first among the keys to sign with.
	pub(crate) fn fetch_header_as(&self, path: &str, key: Option<[u8; 32]>) -> Option<String> {
		let chain = self.chain_state.as_ref()?;
		let genesis = chain.genesis()?;
		let preferred: Vec<[u8; 32]> = key.into_iter().chain(chain.active_worker_keys()).collect();
		crate::access::sign_fetch(self.signer.as_ref()?, &genesis, path, &preferred)
	}

	/// The token `POST /ocw` requires, if one is configured ([`EngineConfig::ocw_token`]).
	pub fn ocw_token(&self) -> Option<&str> {
		self.ocw_token.as_deref()
	}

	pub fn status_json(&self) -> serde_json::Value {
		let tasks = lock(&self.tasks);
		let count = |f: fn(&TaskStatus) -> bool| tasks.values().filter(|s| f(s)).count();
		let (learnt, awaiting) = {
			let learner = lock(&self.learner);
			(learner.0.learnt, learner.1.len())
		};
		serde_json::json!({
			"device": self.device_name,
			"queued": count(|s| matches!(s, TaskStatus::Queued)),
			"running": count(|s| matches!(s, TaskStatus::Running)),
			"finished": count(|s| matches!(s, TaskStatus::Trained { .. } | TaskStatus::Verified { .. })),
			"failed": count(|s| matches!(s, TaskStatus::Failed(_))),
			"awaiting_outcomes": awaiting,
			"outcomes_learnt": learnt,
		})
	}
}

fn rejected(reason: &str) -> TaskStatus {
	TaskStatus::Verified { accept: false, reason: reason.as_bytes().to_vec() }
}

/// Published metrics must match a re-evaluation: same sample count, score within 0.1 points,
/// loss within 1% (room for float differences between machines, none for a made-up score).
pub fn compare_metrics(
	claimed: &QuantisedMetrics,
	measured: &QuantisedMetrics,
) -> Result<(), String> {
	if claimed.eval_samples != measured.eval_samples {
		return Err(format!(
			"evaluated on {} samples, published {}",
			measured.eval_samples, claimed.eval_samples
		));
	}
	let score_gap = claimed.score.deconstruct().abs_diff(measured.score.deconstruct());
	if score_gap > Perbill::from_parts(1_000_000).deconstruct() {
		return Err(format!("score {:?} measured, {:?} published", measured.score, claimed.score));
	}
	let loss_gap = claimed.loss_millionths.abs_diff(measured.loss_millionths);
	if loss_gap > measured.loss_millionths / 100 + 1_000 {
		return Err(format!(
			"loss {} measured, {} published (millionths)",
			measured.loss_millionths, claimed.loss_millionths
		));
	}
	Ok(())
}

#[cfg(test)]
mod learner_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod verify_tests;
