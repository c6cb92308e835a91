//! The engine's part of a federated job: a member's update of a round, and a validator's
//! judgement of one (see `aicchain_primitives::federation`).
//!
//! A member rebuilds the round's global model itself: the seed's initialisation in the first
//! round, afterwards the previous round's kept updates aggregated by the job's rule, which must
//! hash to the aggregate the validators agreed on (a member never trains from a model the chain
//! did not agree on). It trains it on its shard and stores the weights by hash; the other
//! members' engines and the validators' fetch them (`GET /models/0x<hash>?federation=<id>`,
//! signed: see [`crate::access`]).
//!
//! A validator fetches every update committed, excludes those it cannot get, those of the wrong
//! size and the outliers ([`crate::federated::outliers`], with three or more), aggregates the
//! rest, stores the aggregate's model file and reports its hash, the exclusions and its
//! held-out metrics. Aggregation and exclusion are plain sequential arithmetic on the same
//! bytes, so every honest validator reaches the same verdict.

use super::Engine;
use crate::{
	dataset::{blake2_256, Dataset},
	federated::{self, Behaviour, Federation, Rule},
	http, EngineError,
};
use aicchain_primitives::{
	engine_api::{PreviousRound, TaskStatus, UpdateSource},
	FederationSpec, JobId, RoundVerdict, TrainingSpec,
};
use sp_core::H256;

/// A member's update to train.
pub(crate) struct UpdateTask {
	pub federation: JobId,
	pub round: u8,
	pub spec: TrainingSpec,
	pub federated: FederationSpec,
	pub index: u8,
	pub worker: Vec<u8>,
	pub previous: Option<PreviousRound>,
}

/// A round to judge.
pub(crate) struct AggregateTask {
	pub federation: JobId,
	pub spec: TrainingSpec,
	pub federated: FederationSpec,
	pub updates: Vec<UpdateSource>,
}

impl Engine {
	fn federation(
		&self,
		spec: &TrainingSpec,
		federated: &FederationSpec,
	) -> Result<Federation, EngineError> {
		let data = Dataset::from_csv(&self.dataset_bytes(&spec.dataset.0, None)?)?;
		Federation::new(spec, &data, usize::from(federated.providers), &self.device)
	}

	/// Trains member `task.index`'s update of the round and stores it.
	pub(super) fn federated_update(&self, task: &UpdateTask) -> Result<TaskStatus, EngineError> {
		let federation = self.federation(&task.spec, &task.federated)?;
		let global = match &task.previous {
			None => federation.initial()?,
			Some(previous) => {
				let mut kept = Vec::new();
				for source in &previous.kept {
					let key = <[u8; 32]>::try_from(task.worker.as_slice()).ok();
					let update =
						self.fetch_update(task.federation, source, key).ok_or_else(|| {
							EngineError::BadModel(format!(
								"update 0x{} of member {} unavailable",
								hex::encode(source.update.0),
								source.index
							))
						})?;
					kept.push(update);
				}
				let views: Vec<&[f32]> = kept.iter().map(Vec::as_slice).collect();
				let global =
					federated::aggregate(&views, Rule::of(task.federated.rule, views.len()))
						.ok_or_else(|| EngineError::BadModel("no update was kept".into()))?;
				if blake2_256(&federation.model_bytes(&global)?) != previous.aggregate.0 {
					return Err(EngineError::BadModel(
						"the kept updates do not rebuild the agreed aggregate".into(),
					));
				}
				global
			},
		};
		let behaviour = self
			.byzantine
			.iter()
			.find(|(worker, _)| worker.as_slice() == task.worker.as_slice())
			.map_or(Behaviour::Honest, |(_, behaviour)| *behaviour);
		let update = federation
			.update(&global, usize::from(task.index), u64::from(task.round), behaviour)?
			.ok_or_else(|| EngineError::InvalidSpec("this member withholds its update".into()))?;
		let hash = self.models.put(&federated::update_bytes(&update))?;
		log::info!(
			target: "aicchain-worker",
			"federated job {} round {}: member {} update 0x{}{}",
			task.federation,
			task.round,
			task.index,
			hex::encode(hash),
			if behaviour == Behaviour::Honest { "" } else { " (Byzantine fault injected)" },
		);
		Ok(TaskStatus::Updated { update: H256(hash) })
	}

	/// Judges a round: exclusions, the aggregate (stored) and its metrics.
	pub(super) fn federated_aggregate(
		&self,
		task: &AggregateTask,
	) -> Result<TaskStatus, EngineError> {
		let federation = self.federation(&task.spec, &task.federated)?;
		let size = federation.initial()?.len();
		let mut excluded = 0u8;
		let mut sent = Vec::new();
		for source in &task.updates {
			match self.fetch_update(task.federation, source, None).filter(|u| u.len() == size) {
				Some(update) => sent.push((source.index, update)),
				None => excluded |= bit(source.index),
			}
		}
		let views: Vec<&[f32]> = sent.iter().map(|(_, u)| u.as_slice()).collect();
		let flagged =
			if views.len() >= 3 { federated::outliers(&views) } else { vec![false; views.len()] };
		let mut kept = Vec::new();
		for ((index, update), outlier) in sent.iter().zip(&flagged) {
			if *outlier {
				excluded |= bit(*index);
			} else {
				kept.push(update.as_slice());
			}
		}
		let global = federated::aggregate(&kept, Rule::of(task.federated.rule, kept.len()))
			.ok_or_else(|| EngineError::BadModel("no update to aggregate".into()))?;
		let hash = self.models.put(&federation.model_bytes(&global)?)?;
		let metrics = federation.metrics(&global)?;
		log::info!(
			target: "aicchain-worker",
			"federated job {}: aggregate 0x{} of {} updates (excluded {excluded:#010b}), score {:?}",
			task.federation,
			hex::encode(hash),
			kept.len(),
			metrics.score
		);
		Ok(TaskStatus::Aggregated {
			verdict: RoundVerdict { aggregate: H256(hash), excluded },
			metrics,
		})
	}

	/// A member's update: from this engine's store, else from its engine (then the peers),
	/// signed for the federated job with `key` (a member's) when given.
	fn fetch_update(
		&self,
		federation: JobId,
		source: &UpdateSource,
		key: Option<[u8; 32]>,
	) -> Option<Vec<f32>> {
		let hash = source.update.0;
		let bytes = match self.models.get(&hash) {
			Some(bytes) => bytes,
			None => {
				let path = format!("/models/0x{}?federation={federation}", hex::encode(hash));
				let engine =
					source.engine.as_ref().and_then(|url| String::from_utf8(url.clone()).ok());
				let valid = |b: &[u8]| blake2_256(b) == hash;
				let bytes = self.fetch_from_peers_as(
					engine.as_deref(),
					&path,
					http::MAX_DOWNLOAD,
					valid,
					key,
				)?;
				let _ = self.models.put(&bytes);
				bytes
			},
		};
		federated::parse_update(&bytes)
	}
}

fn bit(index: u8) -> u8 {
	1u8.checked_shl(u32::from(index)).unwrap_or(0)
}
