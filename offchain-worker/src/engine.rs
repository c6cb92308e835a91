//! The compute engine: a task queue that trains and verifies models on a worker thread, the
//! node-selection policy, and the bookkeeping the off-chain worker polls.

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
	JobId, QuantisedMetrics, TrainingSpec,
};
use candle_core::Device;
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
	Verify(JobId, H256),
}

enum Task {
	Train(TrainingSpec),
	Verify { spec: TrainingSpec, model_hash: H256, metrics: QuantisedMetrics },
}

struct Selection {
	candidates: Vec<[f32; FEATURES]>,
	chosen: usize,
	budget: u128,
	gpu_hours: u64,
}

pub struct Engine {
	pub datasets: DatasetStore,
	pub models: ModelStore,
	device: Device,
	device_name: String,
	peers: Vec<String>,
	tasks: Mutex<HashMap<TaskKey, TaskStatus>>,
	queue: Mutex<mpsc::Sender<(TaskKey, Task)>>,
	policy: Mutex<Policy>,
	policy_path: PathBuf,
	selections: Mutex<HashMap<JobId, Selection>>,
	/// The latest decisions with every candidate's score, for clients (`GET /selections/<job>`).
	decisions: Mutex<std::collections::BTreeMap<JobId, Decision>>,
}

/// A selection: the chosen node and every candidate's probability.
type Decision = (u32, Vec<(u32, f32)>);

/// Decisions kept for `GET /selections/<job>`.
const KEPT_DECISIONS: usize = 1_024;

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
		let policy = match Policy::load(&config.policy_path, &Device::Cpu)? {
			Some(policy) => policy,
			None => {
				log::info!(target: "aicchain-worker", "no saved policy: training one on the simulator");
				let policy = simulator::train_policy(1, 150, 64)?;
				policy.save(&config.policy_path)?;
				policy
			},
		};
		let (sender, receiver) = mpsc::channel();
		let engine = std::sync::Arc::new(Self {
			datasets,
			models,
			device,
			device_name: config.device.clone(),
			peers: config.peers,
			tasks: Mutex::new(HashMap::new()),
			queue: Mutex::new(sender),
			policy: Mutex::new(policy),
			policy_path: config.policy_path,
			selections: Mutex::new(HashMap::new()),
			decisions: Mutex::new(std::collections::BTreeMap::new()),
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
				let probabilities = match lock(&self.policy).probabilities(&feats) {
					Ok(p) => p,
					Err(e) => return EngineResponse::Error(e.to_string().into_bytes()),
				};
				let chosen = policy::argmax(&probabilities).unwrap_or(0);
				let scores = candidates
					.iter()
					.zip(&probabilities)
					.map(|(c, p)| (c.node_id, model::quantise_fraction(f64::from(*p))))
					.collect();
				let gpu_hours = u64::from(requirements.gpus) * u64::from(requirements.gpu_hours);
				lock(&self.selections)
					.insert(job_id, Selection { candidates: feats, chosen, budget, gpu_hours });
				let node_id = candidates.get(chosen).map(|c| c.node_id).unwrap_or_default();
				let mut decisions = lock(&self.decisions);
				decisions.insert(
					job_id,
					(node_id, candidates.iter().map(|c| c.node_id).zip(probabilities).collect()),
				);
				while decisions.len() > KEPT_DECISIONS {
					decisions.pop_first();
				}
				EngineResponse::Selected { node_id, scores }
			},
			EngineRequest::Train { job_id, spec } => {
				self.enqueue(TaskKey::Train(job_id), Task::Train(spec))
			},
			EngineRequest::Verify { job_id, spec, model_hash, metrics } => self.enqueue(
				TaskKey::Verify(job_id, model_hash),
				Task::Verify { spec, model_hash, metrics },
			),
			EngineRequest::PendingOutcomes => {
				let mut ids: Vec<JobId> = lock(&self.selections).keys().copied().collect();
				ids.sort();
				EngineResponse::PendingOutcomes(ids)
			},
			EngineRequest::Outcome(outcome) => match self.learn(&outcome) {
				Ok(()) => EngineResponse::Ack,
				Err(e) => EngineResponse::Error(e.to_string().into_bytes()),
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
			Task::Train(spec) => self.train(&spec),
			Task::Verify { spec, model_hash, metrics } => self.verify(&spec, model_hash, metrics),
		};
		result.unwrap_or_else(|e| {
			log::warn!(target: "aicchain-worker", "task failed: {e}");
			TaskStatus::Failed(e.to_string().into_bytes())
		})
	}

	/// Trains a job's model and stores it.
	pub fn train(&self, spec: &TrainingSpec) -> Result<TaskStatus, EngineError> {
		let data = self.datasets.resolve(&spec.dataset.0)?;
		let trained = model::train(spec, &data, &self.device)?;
		let hash = self.models.put(&trained.bytes)?;
		log::info!(
			target: "aicchain-worker",
			"trained model 0x{} (score {:?}, {} epochs)",
			hex::encode(hash),
			trained.metrics.score,
			spec.epochs
		);
		Ok(TaskStatus::Trained { model_hash: H256(hash), metrics: trained.metrics })
	}

	/// Finds the published model (local store, then peers, then a deterministic rebuild from
	/// the spec), checks its hash, re-evaluates it and compares with the published metrics.
	pub fn verify(
		&self,
		spec: &TrainingSpec,
		model_hash: H256,
		claimed: QuantisedMetrics,
	) -> Result<TaskStatus, EngineError> {
		let data = self.datasets.resolve(&spec.dataset.0)?;
		let bytes = match self.fetch_model(&model_hash.0) {
			Some(bytes) => bytes,
			None => {
				log::info!(target: "aicchain-worker", "model 0x{} not served anywhere: rebuilding it from its spec", hex::encode(model_hash.0));
				let rebuilt = model::train(spec, &data, &self.device)?;
				self.models.put(&rebuilt.bytes)?;
				rebuilt.bytes
			},
		};
		if crate::dataset::blake2_256(&bytes) != model_hash.0 {
			return Ok(rejected("the spec does not reproduce the published model"));
		}
		let (_, test) = data.split();
		let measured = model::evaluate(&bytes, spec, &test, &self.device)?;
		Ok(match compare_metrics(&claimed, &measured) {
			Ok(()) => TaskStatus::Verified { accept: true, reason: Vec::new() },
			Err(reason) => rejected(&reason),
		})
	}

	fn fetch_model(&self, hash: &[u8; 32]) -> Option<Vec<u8>> {
		if let Some(bytes) = self.models.get(hash) {
			return Some(bytes);
		}
		for peer in &self.peers {
			let url = format!("{}/models/0x{}", peer.trim_end_matches('/'), hex::encode(hash));
			match crate::http::request(&url, None) {
				Ok(Some(bytes)) if crate::dataset::blake2_256(&bytes) == *hash => {
					let _ = self.models.put(&bytes);
					return Some(bytes);
				},
				Ok(_) => {},
				Err(e) => log::debug!(target: "aicchain-worker", "peer {peer}: {e}"),
			}
		}
		None
	}

	/// One policy-gradient step from a realised outcome, then saves the policy.
	fn learn(&self, outcome: &JobOutcome) -> Result<(), EngineError> {
		let Some(selection) = lock(&self.selections).remove(&outcome.job_id) else {
			return Ok(());
		};
		let reward = if outcome.success {
			let gpu_hours = selection.gpu_hours.max(1) as f64;
			simulator::success_reward(
				outcome.cost as f64 / selection.budget.max(1) as f64,
				outcome.carbon_grams as f64 / 1_000.0 / gpu_hours,
			)
		} else {
			-simulator::FAILURE_PENALTY
		};
		let mut policy = lock(&self.policy);
		policy.reinforce(&[(selection.candidates, selection.chosen, reward)])?;
		policy.save(&self.policy_path)
	}

	/// The policy's decision for a job: the chosen node and every candidate's probability.
	pub fn decision_json(&self, job_id: JobId) -> Option<serde_json::Value> {
		let decisions = lock(&self.decisions);
		let (chosen, scores) = decisions.get(&job_id)?;
		Some(serde_json::json!({
			"jobId": job_id,
			"chosen": chosen,
			"scores": scores
				.iter()
				.map(|(node, p)| serde_json::json!({ "node": node, "probability": p }))
				.collect::<Vec<_>>(),
		}))
	}

	pub fn status_json(&self) -> serde_json::Value {
		let tasks = lock(&self.tasks);
		let count = |f: fn(&TaskStatus) -> bool| tasks.values().filter(|s| f(s)).count();
		serde_json::json!({
			"device": self.device_name,
			"queued": count(|s| matches!(s, TaskStatus::Queued)),
			"running": count(|s| matches!(s, TaskStatus::Running)),
			"finished": count(|s| matches!(s, TaskStatus::Trained { .. } | TaskStatus::Verified { .. })),
			"failed": count(|s| matches!(s, TaskStatus::Failed(_))),
			"awaiting_outcomes": lock(&self.selections).len(),
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
mod tests {
	use super::*;
	use crate::dataset::{blake2_256, credit_scoring_csv};
	use aicchain_primitives::{
		engine_api::CandidateNode, JobRequirements, ModelKind, SustainabilityPreference,
	};
	use sp_runtime::Percent;
	use std::time::{Duration, Instant};

	fn spec() -> TrainingSpec {
		TrainingSpec {
			dataset: H256(blake2_256(&credit_scoring_csv())),
			model: ModelKind::MlpClassifier,
			hidden_units: 8,
			hidden_layers: 1,
			learning_rate_millionths: 10_000,
			epochs: 2,
			seed: 5,
		}
	}

	fn poll(engine: &Engine, request: EngineRequest) -> TaskStatus {
		let start = Instant::now();
		loop {
			match engine.handle(request.clone()) {
				EngineResponse::Task(TaskStatus::Queued | TaskStatus::Running) => {},
				EngineResponse::Task(status) => return status,
				other => panic!("unexpected {other:?}"),
			}
			assert!(start.elapsed() < Duration::from_secs(120), "task never finished");
			std::thread::sleep(Duration::from_millis(20));
		}
	}

	#[test]
	fn train_then_verify_accepts_honest_and_rejects_inflated_results() {
		let dir = tempfile::tempdir().expect("tempdir");
		let engine = Engine::start(EngineConfig::in_dir(dir.path())).expect("starts");
		let TaskStatus::Trained { model_hash, metrics } =
			poll(&engine, EngineRequest::Train { job_id: 1, spec: spec() })
		else {
			panic!("training failed")
		};
		assert!(engine.models.get(&model_hash.0).is_some(), "model stored by its hash");
		let honest = EngineRequest::Verify { job_id: 1, spec: spec(), model_hash, metrics };
		assert_eq!(poll(&engine, honest), TaskStatus::Verified { accept: true, reason: vec![] });
		let inflated = QuantisedMetrics { score: Perbill::from_percent(99), ..metrics };
		let request =
			EngineRequest::Verify { job_id: 2, spec: spec(), model_hash, metrics: inflated };
		assert!(matches!(poll(&engine, request), TaskStatus::Verified { accept: false, .. }));
		// A hash nobody serves and the spec does not reproduce is rejected.
		let request = EngineRequest::Verify {
			job_id: 3,
			spec: spec(),
			model_hash: H256::repeat_byte(1),
			metrics,
		};
		assert!(matches!(poll(&engine, request), TaskStatus::Verified { accept: false, .. }));
		// A verifier with an empty store rebuilds the model from the spec and accepts it.
		let other = tempfile::tempdir().expect("tempdir");
		let verifier = Engine::start(EngineConfig::in_dir(other.path())).expect("starts");
		let request = EngineRequest::Verify { job_id: 1, spec: spec(), model_hash, metrics };
		assert_eq!(poll(&verifier, request), TaskStatus::Verified { accept: true, reason: vec![] });
	}

	#[test]
	fn unknown_dataset_fails_the_task_without_panicking() {
		let dir = tempfile::tempdir().expect("tempdir");
		let engine = Engine::start(EngineConfig::in_dir(dir.path())).expect("starts");
		let mut bad = spec();
		bad.dataset = H256::repeat_byte(3);
		assert!(matches!(
			poll(&engine, EngineRequest::Train { job_id: 9, spec: bad }),
			TaskStatus::Failed(_)
		));
		bad = spec();
		bad.hidden_units = 0;
		assert!(matches!(
			poll(&engine, EngineRequest::Train { job_id: 10, spec: bad }),
			TaskStatus::Failed(_)
		));
		assert!(device_from_name("tpu").is_err());
	}

	#[test]
	fn selection_scores_every_candidate_and_learns_from_outcomes() {
		let dir = tempfile::tempdir().expect("tempdir");
		let engine = Engine::start(EngineConfig::in_dir(dir.path())).expect("starts");
		let node = |node_id, cost, reputation, carbon| CandidateNode {
			node_id,
			gpu_count: 8,
			gpu_memory_gib: 80,
			bandwidth_mbps: 200,
			latency_ms: 10,
			renewable_share: Percent::from_percent(if carbon < 100 { 90 } else { 10 }),
			carbon_intensity: carbon,
			cost,
			reputation: Perbill::from_percent(reputation),
			active_jobs: 0,
			max_jobs: 4,
			completed_jobs: 10,
			failed_jobs: 0,
		};
		let requirements = JobRequirements {
			gpus: 8,
			min_bandwidth_mbps: 100,
			max_latency_ms: 15,
			gpu_hours: 2,
			sustainability: SustainabilityPreference::Any,
			training: None,
		};
		let request = EngineRequest::Select {
			job_id: 4,
			requirements,
			budget: 1_000,
			candidates: vec![node(0, 900, 40, 600), node(1, 500, 95, 40), node(2, 600, 90, 50)],
		};
		let EngineResponse::Selected { node_id, scores } = engine.handle(request) else { panic!() };
		assert_eq!(scores.len(), 3);
		let best = scores.iter().max_by_key(|(_, s)| *s).map(|(n, _)| *n);
		assert_eq!(Some(node_id), best);
		// The expensive, dirty, unreliable node is never the pick.
		assert_ne!(node_id, 0);
		assert_eq!(
			engine.handle(EngineRequest::PendingOutcomes),
			EngineResponse::PendingOutcomes(vec![4])
		);
		let before = std::fs::read(dir.path().join("policy.safetensors")).expect("saved at start");
		let outcome = JobOutcome {
			job_id: 4,
			node_id,
			success: true,
			cost: 500,
			carbon_grams: 100,
			blocks_taken: 20,
		};
		assert_eq!(engine.handle(EngineRequest::Outcome(outcome)), EngineResponse::Ack);
		assert_eq!(
			engine.handle(EngineRequest::PendingOutcomes),
			EngineResponse::PendingOutcomes(vec![])
		);
		let after = std::fs::read(dir.path().join("policy.safetensors")).expect("saved");
		assert_ne!(before, after, "the update was persisted");
	}
}
