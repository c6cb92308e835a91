//! The engine's online learner: which candidate to propose (the policy's most probable one, or
//! now and then an exploring draw), the selections awaiting their outcome, and what survives a
//! restart.
//!
//! - **Exploration decays**: with probability [`exploration_rate`] (20% at first, falling as
//!   1/√(1 + outcomes learnt / 25), never under 1%) the proposal is drawn from the policy's
//!   probabilities instead of being its most probable candidate. The draw comes from the job
//!   id, so engines with the same policy and the same history propose alike.
//! - **Pending selections** are one small JSON file each under `pending/` next to the policy
//!   (at most [`MAX_PENDING`]; the oldest go first), so an outcome that arrives after a restart
//!   still teaches.
//! - **PPO on a window of outcomes**: each realised outcome joins a window of the last
//!   [`WINDOW`] decisions (the candidates, the one that ran, the reward, and the
//!   log-probability the policy gave it when the outcome was learnt: π_old); then
//!   [`crate::policy::PPO`]'s epochs of the clipped objective run over the window with plain
//!   SGD. A decision stays in the window for [`WINDOW`] updates; the clipping stops it pulling
//!   the policy further once the policy moved 20% away from π_old. π_old is taken when the
//!   outcome is learnt, not when the engine selected, so that engines that learn the same
//!   outcomes in the same order hold the same state whenever each was asked to select.
//! - **The rest of the state** (outcomes learnt, the window) is `learner.json`; the policy's
//!   weights (actor and critic) are `policy.safetensors`. Plain SGD keeps no state of its own,
//!   so nothing the learner needs is lost on a restart.

use crate::{
	policy::{Decision, FEATURES},
	rng::SeededRng,
	EngineError,
};
use aicchain_primitives::{JobId, NodeId};
use serde::{Deserialize, Serialize};
use std::{
	collections::BTreeMap,
	path::{Path, PathBuf},
};

/// Selections kept awaiting their outcome.
pub const MAX_PENDING: usize = 4_096;
/// Decisions the online PPO update runs over.
pub const WINDOW: usize = 32;

/// A selection awaiting its outcome: every candidate's node id and features, the job's budget,
/// GPU-hours and how much its carbon counts ([`crate::policy::carbon_weight`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pending {
	pub nodes: Vec<NodeId>,
	pub candidates: Vec<[f32; FEATURES]>,
	pub budget: u128,
	pub gpu_hours: u64,
	/// Absent from selections saved before it existed: once.
	#[serde(default = "once")]
	pub carbon_weight: f64,
}

fn once() -> f64 {
	1.0
}

/// The reward the policy learns from a job's outcome: the simulator's, with the carbon per
/// GPU-hour weighted as the job asked.
pub fn reward(selection: &Pending, outcome: &aicchain_primitives::engine_api::JobOutcome) -> f64 {
	if !outcome.success {
		return -crate::simulator::FAILURE_PENALTY;
	}
	let gpu_hours = selection.gpu_hours.max(1) as f64;
	crate::simulator::success_reward(
		outcome.cost as f64 / selection.budget.max(1) as f64,
		outcome.carbon_grams as f64 / 1_000.0 / gpu_hours * selection.carbon_weight,
	)
}

/// What the learner keeps besides the policy's weights and the pending selections.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LearnerState {
	/// Outcomes learnt from.
	pub learnt: u64,
	/// The last [`WINDOW`] outcomes' decisions, oldest first.
	#[serde(default)]
	pub window: std::collections::VecDeque<Decision>,
}

impl LearnerState {
	/// Adds a decision to the window (the oldest leaves past [`WINDOW`]) and counts it.
	pub fn push(&mut self, decision: Decision) {
		self.window.push_back(decision);
		while self.window.len() > WINDOW {
			self.window.pop_front();
		}
		self.learnt = self.learnt.saturating_add(1);
	}
}

/// The share of proposals that explore after `learnt` outcomes.
pub fn exploration_rate(learnt: u64) -> f64 {
	(0.2 / (1.0 + learnt as f64 / 25.0).sqrt()).max(0.01)
}

/// The candidate to propose for `job_id` and whether it was an exploring draw.
pub fn choose(probabilities: &[f32], job_id: JobId, learnt: u64) -> (usize, bool) {
	let best = crate::policy::argmax(probabilities).unwrap_or(0);
	let mut rng = SeededRng::new(job_id ^ 0xE4B1_0AE5);
	if rng.uniform() >= exploration_rate(learnt) {
		return (best, false);
	}
	let drawn = crate::policy::sample(probabilities, &mut rng);
	(drawn, drawn != best)
}

/// The learner's files in one directory.
pub struct LearnerStore {
	dir: PathBuf,
}

impl LearnerStore {
	/// The learner's files next to the policy at `policy_path`.
	pub fn beside(policy_path: &Path) -> Self {
		let dir = policy_path.parent().map(Path::to_path_buf).unwrap_or_default();
		Self { dir }
	}

	fn pending_dir(&self) -> PathBuf {
		self.dir.join("pending")
	}

	fn state_path(&self) -> PathBuf {
		self.dir.join("learner.json")
	}

	/// The saved state (`None` on a first start) and pending selections. A file that does
	/// not parse is an error, not a silent reset.
	pub fn load(&self) -> Result<(Option<LearnerState>, BTreeMap<JobId, Pending>), EngineError> {
		let state = match std::fs::read(self.state_path()) {
			Ok(bytes) => Some(serde_json::from_slice(&bytes).map_err(corrupt)?),
			Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
			Err(e) => return Err(e.into()),
		};
		let mut pending = BTreeMap::new();
		let entries = match std::fs::read_dir(self.pending_dir()) {
			Ok(entries) => entries,
			Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((state, pending)),
			Err(e) => return Err(e.into()),
		};
		for entry in entries {
			let path = entry?.path();
			let Some(job_id) = path
				.file_name()
				.and_then(|n| n.to_str())
				.and_then(|n| n.strip_suffix(".json"))
				.and_then(|n| n.parse::<JobId>().ok())
			else {
				continue;
			};
			pending
				.insert(job_id, serde_json::from_slice(&std::fs::read(&path)?).map_err(corrupt)?);
		}
		Ok((state, pending))
	}

	pub fn save_state(&self, state: &LearnerState) -> Result<(), EngineError> {
		write_atomically(&self.state_path(), &serde_json::to_vec(state).map_err(corrupt)?)
	}

	pub fn put(&self, job_id: JobId, pending: &Pending) -> Result<(), EngineError> {
		let path = self.pending_dir().join(format!("{job_id}.json"));
		write_atomically(&path, &serde_json::to_vec(pending).map_err(corrupt)?)
	}

	pub fn remove(&self, job_id: JobId) -> Result<(), EngineError> {
		match std::fs::remove_file(self.pending_dir().join(format!("{job_id}.json"))) {
			Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
			_ => Ok(()),
		}
	}
}

fn corrupt(e: serde_json::Error) -> EngineError {
	std::io::Error::new(std::io::ErrorKind::InvalidData, format!("learner state: {e}")).into()
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), EngineError> {
	if let Some(parent) = path.parent() {
		std::fs::create_dir_all(parent)?;
	}
	let tmp = path.with_extension("tmp");
	std::fs::write(&tmp, bytes)?;
	std::fs::rename(tmp, path)?;
	Ok(())
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn exploration_decays_and_the_same_job_draws_alike() {
		assert!((exploration_rate(0) - 0.2).abs() < 1e-12);
		assert!(exploration_rate(100) < exploration_rate(10));
		assert!((exploration_rate(u64::MAX) - 0.01).abs() < 1e-12);
		let p = [0.5f32, 0.3, 0.2];
		let explored = |learnt| (0..4_000u64).filter(|job| choose(&p, *job, learnt).1).count();
		// Exploring draws leave the best candidate half the time: 10% of jobs at first, 0.5% late.
		let (early, late) = (explored(0), explored(10_000_000));
		assert!((300..=500).contains(&early), "{early}");
		assert!(late <= 40, "{late}");
		assert!((0..100).all(|job| choose(&p, job, 3) == choose(&p, job, 3)));
	}
}
