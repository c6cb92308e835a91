//! Verification of a published training result against its proof of learning.
//!
//! The verifier needs the model, the run's leaf hashes and three checkpoints (the two of the
//! segment the challenge picks for it, and the last one). It looks for each in its own store,
//! then asks each peer (`GET /models/0x…`, `GET /checkpoints/0x<root>/leaves`,
//! `GET /checkpoints/0x<root>/<i>`), keeping only bytes that match the published hashes. What
//! nobody serves is a rejection: a provider that cannot open its commitment has not proven
//! anything. There is no rebuild from the spec: an honest run on other hardware need not be
//! bit-identical, which is what the replay's tolerance is for.

use super::{compare_metrics, rejected, Engine};
use crate::{
	autograd,
	cnn::CnnReplay,
	dataset::{blake2_256, Dataset},
	http,
	lm::replay::{LmReplay, TextData},
	model::{self, Arithmetic},
	proof::{self, Opening, Rejection, Schedule, SegmentVerdict, Tolerance},
	store::parse_leaves,
	EngineError,
};
use aicchain_primitives::{
	engine_api::TaskStatus,
	proof::{schedule, training_steps},
	ModelKind, QuantisedMetrics, TrainingCommitment, TrainingSpec,
};

/// The data a spec trains on: a table for the MLPs (their fused trainer), or a model trained
/// by autograd (the language model on text, the CNN on images) with its replay.
enum Workload {
	Table(Dataset),
	Replayed(Box<dyn autograd::Workload>),
}
use codec::Encode;
use sp_core::H256;

/// A `Verify` request as the chain sends it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyRequest {
	pub spec: TrainingSpec,
	pub model_hash: H256,
	pub metrics: QuantisedMetrics,
	pub commitment: TrainingCommitment,
	/// Randomness from after the result was published.
	pub challenge: H256,
	/// The verifier's key: with the challenge, it picks the replayed segment.
	pub verifier: Vec<u8>,
	/// The engine address the provider published on chain: asked before the configured peers.
	pub provider_engine: Option<String>,
	/// The model file the run started from (relay training).
	pub start: Option<H256>,
}

impl VerifyRequest {
	/// What tells two verification tasks of one job apart: everything but the spec and where
	/// to fetch from.
	pub fn digest(&self) -> H256 {
		H256(blake2_256(
			&(self.model_hash, self.metrics, self.commitment, self.challenge, &self.verifier)
				.encode(),
		))
	}
}

/// Why a verification did not accept: the result is refused, or the verifier itself failed.
enum Refusal {
	Reject(String),
	Own(EngineError),
}

impl From<EngineError> for Refusal {
	fn from(e: EngineError) -> Self {
		Self::Own(e)
	}
}

fn reject<T>(reason: String) -> Result<T, Refusal> {
	Err(Refusal::Reject(reason))
}

impl Engine {
	/// Checks a published result (see the module docs); `Err` only for the verifier's own
	/// failures (an unknown dataset, a spec it cannot run).
	pub fn verify(&self, request: &VerifyRequest) -> Result<TaskStatus, EngineError> {
		match self.check(request) {
			Ok(()) => Ok(TaskStatus::Verified { accept: true, reason: Vec::new() }),
			Err(Refusal::Reject(reason)) => {
				log::info!(target: "aicchain-worker", "rejected model 0x{}: {reason}", hex::encode(request.model_hash.0));
				Ok(rejected(&reason))
			},
			Err(Refusal::Own(e)) => Err(e),
		}
	}

	fn check(&self, request: &VerifyRequest) -> Result<(), Refusal> {
		let VerifyRequest {
			spec,
			model_hash,
			metrics,
			commitment,
			challenge,
			verifier,
			provider_engine,
			start,
		} = request;
		let provider = provider_engine.as_deref();
		// Relay training: the run's step 0 must hold the parent's layers.
		let start = match start {
			Some(hash) => match self.fetch_model(&hash.0, provider) {
				Some(bytes) => Some(bytes),
				None => {
					return reject(format!("parent model 0x{} unavailable", hex::encode(hash.0)))
				},
			},
			None => None,
		};
		if start.is_some()
			&& !matches!(spec.model, ModelKind::MlpClassifier | ModelKind::MlpRegressor)
		{
			return reject("relay training is for MLPs".into());
		}
		let bytes = self.dataset_bytes(&spec.dataset.0, provider)?;
		let workload = match spec.model {
			ModelKind::TransformerLm => Workload::Replayed(Box::new(LmReplay::new(
				spec,
				&TextData::from_text(&bytes)?,
				&self.device,
			)?)),
			ModelKind::CnnClassifier => Workload::Replayed(Box::new(CnnReplay::new(
				spec,
				&Dataset::from_csv(&bytes)?,
				&self.device,
			)?)),
			ModelKind::MlpClassifier | ModelKind::MlpRegressor => {
				Workload::Table(Dataset::from_csv(&bytes)?)
			},
		};
		let rows = match &workload {
			Workload::Table(data) => data.rows(),
			Workload::Replayed(replay) => replay.dataset_rows(),
		};
		check_schedule(rows, spec, commitment)?;
		let Some(model_bytes) = self.fetch_model(&model_hash.0, provider) else {
			return reject(format!("model 0x{} unavailable", hex::encode(model_hash.0)));
		};
		let Some(leaves) = self.fetch_leaves(commitment, provider) else {
			return reject("checkpoint hashes (leaves) unavailable".into());
		};
		let segments = Schedule::of(commitment).segments();
		let index = proof::challenged_segment(&challenge.0, verifier, segments);
		let last = segments;
		// Every needed checkpoint is fetched (and checked against its leaf) before any replay.
		let opening = |i: u32| -> Result<(Vec<u8>, Vec<[u8; 32]>), Refusal> {
			let bytes = self.fetch_checkpoint(&commitment.root.0, &leaves, i, provider);
			let proof = usize::try_from(i).ok().and_then(|i| proof::merkle_proof(&leaves, i));
			match (bytes, proof) {
				(Some(bytes), Some(proof)) => Ok((bytes, proof)),
				_ => reject(format!("checkpoint {i} unavailable")),
			}
		};
		let (opened, opened_proof) = opening(index)?;
		let (next, next_proof) = opening(index + 1)?;
		let (end, end_proof) =
			if index + 1 == last { (next.clone(), next_proof.clone()) } else { opening(last)? };
		let tolerance = proof::tolerance(f64::from(spec.learning_rate_millionths) / 1e6);
		let verdict = match &workload {
			Workload::Table(data) => proof::verify_segment_from(
				spec,
				data,
				start.as_deref(),
				commitment,
				index,
				Opening {
					checkpoint: &opened,
					proof: &opened_proof,
					next: &next,
					next_proof: &next_proof,
				},
				&self.device,
			)?,
			Workload::Replayed(replay) => {
				let opening = Opening {
					checkpoint: &opened,
					proof: &opened_proof,
					next: &next,
					next_proof: &next_proof,
				};
				proof::replay_segment(
					replay.as_ref(),
					commitment,
					index,
					opening,
					Arithmetic::Canonical,
				)?
			},
		};
		if let SegmentVerdict::Rejected(rejection) = verdict {
			return reject(describe(index, &rejection, &tolerance));
		}
		let verdict = match &workload {
			Workload::Table(data) => proof::verify_final(
				spec,
				data,
				commitment,
				&end,
				&end_proof,
				&model_bytes,
				&self.device,
			)?,
			Workload::Replayed(replay) => proof::verify_final_with(
				replay.as_ref(),
				commitment,
				&end,
				&end_proof,
				&model_bytes,
			)?,
		};
		if let Err(rejection) = verdict {
			return reject(describe(last, &rejection, &tolerance));
		}
		// The model is cheap to evaluate: all held-out rows, not a sample.
		let measured = match &workload {
			Workload::Table(data) => {
				model::evaluate(&model_bytes, spec, &data.split().1, &self.device)
			},
			Workload::Replayed(replay) => replay.evaluate_model(&model_bytes),
		};
		let measured = match measured {
			Ok(measured) => measured,
			Err(EngineError::BadModel(why)) => return reject(format!("model unusable: {why}")),
			Err(e) => return Err(e.into()),
		};
		compare_metrics(metrics, &measured).or_else(|why| reject(format!("metrics: {why}")))
	}

	/// The model with this hash: the local store, then the provider's engine, then each peer
	/// (cached when found).
	pub(crate) fn fetch_model(&self, hash: &[u8; 32], provider: Option<&str>) -> Option<Vec<u8>> {
		if let Some(bytes) = self.models.get(hash) {
			return Some(bytes);
		}
		let path = format!("/models/0x{}", hex::encode(hash));
		let bytes =
			self.fetch_from_peers(provider, &path, http::MAX_DOWNLOAD, |b| blake2_256(b) == *hash)?;
		let _ = self.models.put(&bytes);
		Some(bytes)
	}

	/// The leaf hashes of `commitment`'s run: as many as it commits to, with its root.
	fn fetch_leaves(
		&self,
		commitment: &TrainingCommitment,
		provider: Option<&str>,
	) -> Option<Vec<[u8; 32]>> {
		let count = usize::try_from(commitment.checkpoints).ok()?;
		if let Some(leaves) = self.models.leaves(&commitment.root.0) {
			if leaves.len() == count {
				return Some(leaves);
			}
		}
		let matches = |leaves: &[[u8; 32]]| {
			leaves.len() == count && proof::merkle_root(leaves) == commitment.root.0
		};
		let path = format!("/checkpoints/0x{}/leaves", hex::encode(commitment.root));
		let bytes = self.fetch_from_peers(provider, &path, count.saturating_mul(32), |bytes| {
			parse_leaves(bytes).is_some_and(|leaves| matches(&leaves))
		})?;
		parse_leaves(&bytes)
	}

	/// Checkpoint `index` of the run with root `root`, matching its leaf.
	fn fetch_checkpoint(
		&self,
		root: &[u8; 32],
		leaves: &[[u8; 32]],
		index: u32,
		provider: Option<&str>,
	) -> Option<Vec<u8>> {
		let leaf = leaves.get(usize::try_from(index).ok()?)?;
		if let Some(bytes) = self.models.checkpoint(root, index) {
			if blake2_256(&bytes) == *leaf {
				return Some(bytes);
			}
		}
		let path = format!("/checkpoints/0x{}/{index}", hex::encode(root));
		self.fetch_from_peers(provider, &path, http::MAX_DOWNLOAD, |bytes| {
			blake2_256(bytes) == *leaf
		})
	}

	/// The first answer at `path`, from the provider's engine and then each configured peer,
	/// that is at most `max` bytes and `valid`.
	pub(crate) fn fetch_from_peers(
		&self,
		provider: Option<&str>,
		path: &str,
		max: usize,
		valid: impl Fn(&[u8]) -> bool,
	) -> Option<Vec<u8>> {
		self.fetch_from_peers_as(provider, path, max, valid, None)
	}

	/// [`Self::fetch_from_peers`], signing with the worker key `key` when this engine holds it
	/// (a federated member fetching the other members' updates), else with an active
	/// validator's.
	pub(crate) fn fetch_from_peers_as(
		&self,
		provider: Option<&str>,
		path: &str,
		max: usize,
		valid: impl Fn(&[u8]) -> bool,
		key: Option<[u8; 32]>,
	) -> Option<Vec<u8>> {
		// The provider's address is anyone's say; the peers are the operator's.
		let published = provider.map(|peer| (peer, self.published_reach));
		let configured = self.peers.iter().map(|peer| (peer.as_str(), http::Reach::Any));
		// Weights are served only on a signed request (see `crate::access`).
		let header = self.fetch_header_as(path, key);
		for (peer, reach) in published.into_iter().chain(configured) {
			let url = format!("{}{path}", peer.trim_end_matches('/'));
			match http::request_reaching(&url, max, reach, header.as_deref()) {
				Ok(Some(bytes)) if valid(&bytes) => return Some(bytes),
				Ok(Some(_)) => {
					log::info!(target: "aicchain-worker", "peer {peer} served a wrong {path}")
				},
				Ok(None) => {},
				Err(e) => log::debug!(target: "aicchain-worker", "peer {peer}: {e}"),
			}
		}
		None
	}
}

/// Whether `distance` is at most `limit` (a NaN distance is not).
fn within(distance: f64, limit: f64) -> bool {
	matches!(
		distance.partial_cmp(&limit),
		Some(core::cmp::Ordering::Less | core::cmp::Ordering::Equal)
	)
}

/// Refuses a commitment that is not the schedule the spec fixes for the dataset.
fn check_schedule(
	rows: usize,
	spec: &TrainingSpec,
	commitment: &TrainingCommitment,
) -> Result<(), Refusal> {
	let rows =
		u32::try_from(rows).map_err(|_| EngineError::BadDataset("more than 2^32 rows".into()))?;
	let steps = training_steps(rows, spec.epochs);
	if commitment.follows_schedule(steps) {
		return Ok(());
	}
	let (interval, checkpoints) = schedule(steps);
	reject(format!(
		"commitment does not follow the spec's schedule: committed {} steps / interval {} / {} \
		 checkpoints, the spec runs {steps} / {interval} / {checkpoints}",
		commitment.steps, commitment.interval, commitment.checkpoints
	))
}

/// A rejection's reason, naming what failed.
fn describe(segment: u32, rejection: &Rejection, tolerance: &Tolerance) -> String {
	match rejection {
		Rejection::Schedule(why) => {
			format!("commitment does not follow the spec's schedule: {why}")
		},
		Rejection::Opening { index } => format!("checkpoint {index} is not the committed one"),
		Rejection::Malformed { index, why } => format!("checkpoint {index} is malformed: {why}"),
		Rejection::Step { index, found, expected } => {
			format!("checkpoint {index} is at step {found}, expected {expected}")
		},
		Rejection::NotInitial => "checkpoint 0 is not the spec's initial state".into(),
		Rejection::NotTheModel => "final checkpoint is not the model".into(),
		Rejection::Diverged(distance) => {
			let mut parts = Vec::new();
			// NaN compares false: a non-finite distance is reported as over.
			if !within(distance.full, tolerance.full) {
				parts.push(format!("full {:.1e} > {:.1e}", distance.full, tolerance.full));
			}
			if !within(distance.bulk, tolerance.bulk) {
				parts.push(format!("bulk {:.1e} > {:.1e}", distance.bulk, tolerance.bulk));
			}
			format!("segment {segment} diverged: {}", parts.join(", "))
		},
	}
}
