//! What the engine decided for each job, for clients (`GET /selections/<job>`,
//! `compute_selection`, `aicchain selection`, the web app): the state the policy saw (every
//! candidate's features), the action probabilities, the proposal, whether it explored, the
//! critic's estimate, and once the job ended the node that ran it and the reward learnt.

use crate::policy::FEATURES;
use aicchain_primitives::{JobId, NodeId};
use std::collections::BTreeMap;

/// Decisions kept (the oldest go first).
pub const KEPT: usize = 1_024;

/// The features' names, in [`crate::policy::features`]' order.
pub const FEATURE_NAMES: [&str; FEATURES] = [
	"costShare",
	"carbon",
	"renewable",
	"reputation",
	"load",
	"latency",
	"bandwidth",
	"gpus",
	"record",
];

/// One job's decision.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
	pub chosen: NodeId,
	pub explored: bool,
	/// Every candidate: its node, its features and its probability.
	pub candidates: Vec<(NodeId, [f32; FEATURES], f32)>,
	/// The critic's estimate of the job's reward with these candidates.
	pub expected_reward: f32,
	/// Once learnt: the node that ran the job and the reward.
	pub outcome: Option<(NodeId, f64)>,
}

/// The latest decisions by job.
#[derive(Default)]
pub struct Decisions(BTreeMap<JobId, Record>);

impl Decisions {
	pub fn insert(&mut self, job_id: JobId, record: Record) {
		self.0.insert(job_id, record);
		while self.0.len() > KEPT {
			self.0.pop_first();
		}
	}

	/// Records what a job's outcome taught (if its decision is still kept).
	pub fn learnt(&mut self, job_id: JobId, node: NodeId, reward: f64) {
		if let Some(record) = self.0.get_mut(&job_id) {
			record.outcome = Some((node, reward));
		}
	}

	pub fn json(&self, job_id: JobId) -> Option<serde_json::Value> {
		let r = self.0.get(&job_id)?;
		Some(serde_json::json!({
			"jobId": job_id,
			"chosen": r.chosen,
			"explored": r.explored,
			"expectedReward": r.expected_reward,
			"scores": r.candidates
				.iter()
				.map(|(node, features, p)| serde_json::json!({
					"node": node,
					"probability": p,
					"features": FEATURE_NAMES
						.iter()
						.zip(features)
						.map(|(name, value)| (name.to_string(), serde_json::json!(value)))
						.collect::<serde_json::Map<_, _>>(),
				}))
				.collect::<Vec<_>>(),
			"outcome": r.outcome.map(|(node, reward)| serde_json::json!({ "node": node, "reward": reward })),
		}))
	}
}
