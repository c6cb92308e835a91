//! The node-selection policy: a small candle-nn network scores each candidate from its
//! features; a softmax over the candidates is the selection distribution. It is trained with
//! REINFORCE (policy gradient with a running-mean baseline) on the simulator, keeps learning from
//! realised job outcomes, and is saved as safetensors between restarts.

use crate::{rng::SeededRng, EngineError};
use aicchain_primitives::{
	engine_api::CandidateNode, JobRequirements, SustainabilityPreference,
	PREFER_RENEWABLE_CARBON_WEIGHT,
};
use candle_core::{DType, Device, Tensor, D};
use candle_nn::{Module, Optimizer, VarBuilder, VarMap};
use std::path::Path;

/// Features per candidate.
pub const FEATURES: usize = 9;
const HIDDEN: usize = 32;

/// How much a job's carbon counts, in what the policy sees and in the reward it learns from:
/// [`PREFER_RENEWABLE_CARBON_WEIGHT`] times for a job preferring renewable power (as in the
/// chain's fallback), once otherwise.
pub fn carbon_weight(req: &JobRequirements) -> f64 {
	match req.sustainability {
		SustainabilityPreference::PreferRenewable => PREFER_RENEWABLE_CARBON_WEIGHT as f64,
		_ => 1.0,
	}
}

/// What the policy sees of one candidate, normalised to roughly [0, 1] (the carbon intensity
/// scaled by [`carbon_weight`]).
pub fn features(node: &CandidateNode, req: &JobRequirements, budget: u128) -> [f32; FEATURES] {
	let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
	let track = f64::from(node.completed_jobs) + f64::from(node.failed_jobs);
	[
		ratio(node.cost as f64, budget as f64).min(2.0) as f32,
		((f64::from(node.carbon_intensity) / 1_000.0).min(1.0) * carbon_weight(req)) as f32,
		f32::from(node.renewable_share.deconstruct()) / 100.0,
		(f64::from(node.reputation.deconstruct()) / 1e9) as f32,
		ratio(f64::from(node.active_jobs), f64::from(node.max_jobs.max(1))).min(1.0) as f32,
		ratio(f64::from(node.latency_ms), f64::from(req.max_latency_ms.max(1))).min(1.0) as f32,
		(ratio(f64::from(node.bandwidth_mbps), f64::from(req.min_bandwidth_mbps.max(1))) / 4.0)
			.min(1.0) as f32,
		(ratio(f64::from(node.gpu_count), f64::from(req.gpus.max(1))) / 4.0).min(1.0) as f32,
		ratio(f64::from(node.completed_jobs) + 1.0, track + 2.0) as f32,
	]
}

/// One decision to learn from: the candidates' features, the index chosen, the reward.
pub type Experience = (Vec<[f32; FEATURES]>, usize, f64);

/// The scoring network and its optimiser state.
pub struct Policy {
	vars: VarMap,
	l1: candle_nn::Linear,
	l2: candle_nn::Linear,
	optimiser: candle_nn::AdamW,
	baseline: f64,
	device: Device,
}

impl Policy {
	/// A fresh policy, initialised from `seed`.
	pub fn new(seed: u64, device: &Device) -> Result<Self, EngineError> {
		let vars = VarMap::new();
		let vb = VarBuilder::from_varmap(&vars, DType::F32, device);
		let l1 = candle_nn::linear(FEATURES, HIDDEN, vb.pp("l1"))?;
		let l2 = candle_nn::linear(HIDDEN, 1, vb.pp("l2"))?;
		init_from_seed(&vars, seed, device)?;
		let optimiser = candle_nn::AdamW::new(
			vars.all_vars(),
			candle_nn::ParamsAdamW { lr: 3e-3, weight_decay: 0.0, ..Default::default() },
		)?;
		Ok(Self { vars, l1, l2, optimiser, baseline: 0.0, device: device.clone() })
	}

	/// Loads a saved policy, or `None` when there is no file.
	pub fn load(path: &Path, device: &Device) -> Result<Option<Self>, EngineError> {
		if !path.exists() {
			return Ok(None);
		}
		let mut policy = Self::new(0, device)?;
		policy.vars.load(path)?;
		Ok(Some(policy))
	}

	pub fn save(&self, path: &Path) -> Result<(), EngineError> {
		if let Some(parent) = path.parent() {
			std::fs::create_dir_all(parent)?;
		}
		let tmp = path.with_extension("tmp");
		self.vars.save(&tmp)?;
		std::fs::rename(tmp, path)?;
		Ok(())
	}

	/// One score per candidate (last dimension of `x` is the features).
	fn scores(&self, x: &Tensor) -> candle_core::Result<Tensor> {
		self.l2.forward(&self.l1.forward(x)?.tanh()?)
	}

	/// Selection probabilities over candidates given as rows of features.
	pub fn probabilities(&self, candidates: &[[f32; FEATURES]]) -> Result<Vec<f32>, EngineError> {
		if candidates.is_empty() {
			return Ok(Vec::new());
		}
		let flat: Vec<f32> = candidates.iter().flatten().copied().collect();
		let x = Tensor::from_vec(flat, (candidates.len(), FEATURES), &self.device)?;
		let scores = self.scores(&x)?.squeeze(D::Minus1)?;
		Ok(candle_nn::ops::softmax(&scores, 0)?.to_vec1()?)
	}

	/// One policy-gradient step (AdamW) on a batch of decisions, each with `k` candidates:
	/// `batch` is `(features of the k candidates, chosen index, reward)`.
	pub fn reinforce(
		&mut self,
		batch: &[(Vec<[f32; FEATURES]>, usize, f64)],
	) -> Result<(), EngineError> {
		let Some(loss) = self.loss(batch)? else { return Ok(()) };
		self.optimiser.backward_step(&loss)?;
		Ok(())
	}

	/// One online policy-gradient step with plain SGD at `learning_rate` (no optimiser state,
	/// so nothing to lose between restarts).
	pub fn reinforce_online(
		&mut self,
		batch: &[(Vec<[f32; FEATURES]>, usize, f64)],
		learning_rate: f64,
	) -> Result<(), EngineError> {
		let Some(loss) = self.loss(batch)? else { return Ok(()) };
		candle_nn::SGD::new(self.vars.all_vars(), learning_rate)?.backward_step(&loss)?;
		Ok(())
	}

	/// The running-mean reward baseline.
	pub fn baseline(&self) -> f64 {
		self.baseline
	}

	pub fn set_baseline(&mut self, baseline: f64) {
		self.baseline = baseline;
	}

	/// REINFORCE's loss on `batch` (after moving the baseline); `None` for an empty batch.
	fn loss(
		&mut self,
		batch: &[(Vec<[f32; FEATURES]>, usize, f64)],
	) -> Result<Option<Tensor>, EngineError> {
		let Some(k) = batch.first().map(|(c, _, _)| c.len()) else { return Ok(None) };
		if k == 0 || batch.iter().any(|(c, a, _)| c.len() != k || *a >= k) {
			return Err(EngineError::InvalidSpec(
				"decisions must share one candidate count".into(),
			));
		}
		let mean_reward = batch.iter().map(|(_, _, r)| r).sum::<f64>() / batch.len() as f64;
		// Running-mean baseline lowers the variance of the gradient.
		self.baseline = if self.baseline == 0.0 {
			mean_reward
		} else {
			0.9 * self.baseline + 0.1 * mean_reward
		};
		let flat: Vec<f32> =
			batch.iter().flat_map(|(c, _, _)| c.iter().flatten().copied()).collect();
		let x = Tensor::from_vec(flat, (batch.len(), k, FEATURES), &self.device)?;
		let log_probs = candle_nn::ops::log_softmax(&self.scores(&x)?.squeeze(D::Minus1)?, 1)?;
		let chosen: Vec<u32> = batch.iter().map(|(_, a, _)| *a as u32).collect();
		let chosen = Tensor::from_vec(chosen, (batch.len(), 1), &self.device)?;
		let picked = log_probs.gather(&chosen, 1)?.squeeze(1)?;
		let advantages: Vec<f32> =
			batch.iter().map(|(_, _, r)| (r - self.baseline) as f32).collect();
		let advantages = Tensor::from_vec(advantages, batch.len(), &self.device)?;
		Ok(Some((picked * advantages)?.mean_all()?.neg()?))
	}
}

/// Re-initialises every variable of `vars` from `seed` (in name order; weights uniform in
/// ±1/√fan-in, biases 0) so that training is reproducible.
pub fn init_from_seed(vars: &VarMap, seed: u64, device: &Device) -> Result<(), EngineError> {
	let mut rng = SeededRng::new(seed);
	let data = vars.data().lock().map_err(|_| EngineError::Poisoned)?;
	let mut names: Vec<_> = data.keys().cloned().collect();
	names.sort();
	for name in names {
		if let Some(var) = data.get(&name) {
			let shape = var.shape().clone();
			let fan_in = shape.dims().last().copied().unwrap_or(1) as f64;
			let bound = if name.ends_with("bias") { 0.0 } else { (1.0 / fan_in).sqrt() };
			let values: Vec<f32> =
				(0..shape.elem_count()).map(|_| rng.range(-bound, bound) as f32).collect();
			var.set(&Tensor::from_vec(values, shape, device)?)?;
		}
	}
	Ok(())
}

/// Index of the largest value (first on ties).
pub fn argmax(values: &[f32]) -> Option<usize> {
	values
		.iter()
		.enumerate()
		.fold(None, |best: Option<(usize, f32)>, (i, v)| match best {
			Some((_, b)) if b >= *v => best,
			_ => Some((i, *v)),
		})
		.map(|(i, _)| i)
}

/// Samples an index from probabilities.
pub fn sample(probabilities: &[f32], rng: &mut SeededRng) -> usize {
	let mut u = rng.uniform() as f32;
	for (i, p) in probabilities.iter().enumerate() {
		if u < *p {
			return i;
		}
		u -= p;
	}
	probabilities.len().saturating_sub(1)
}
