//! The node-selection policy: a small candle-nn network (the actor) scores each candidate from
//! its features; a softmax over the candidates is the selection distribution. A critic (the
//! candidates' mean and maximum features through another small network) estimates the reward a
//! job can expect from its candidates. Both learn by proximal policy optimisation (PPO): the
//! clipped surrogate objective on the advantage over the critic's estimate, the critic's squared
//! error, and an entropy bonus, several epochs over each batch of decisions ([`Policy::ppo_step`]
//! with AdamW on the simulator before the engine first starts, [`Policy::ppo_online`] with plain
//! SGD on a window of realised job outcomes afterwards). Saved as safetensors between restarts.

use crate::{rng::SeededRng, EngineError};
use aicchain_primitives::{
	engine_api::CandidateNode, JobRequirements, SustainabilityPreference,
	PREFER_RENEWABLE_CARBON_WEIGHT,
};
use candle_core::{DType, Device, Tensor, D};
use candle_nn::{Module, Optimizer, VarBuilder, VarMap};
use serde::{Deserialize, Serialize};
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

/// One decision PPO learns from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Decision {
	/// Every candidate's features.
	pub candidates: Vec<[f32; FEATURES]>,
	/// The candidate that ran the job (whoever chose it).
	pub ran: usize,
	pub reward: f64,
	/// ln π_old(ran): the log-probability the policy gave that candidate when it decided.
	pub log_prob: f32,
}

/// PPO's coefficients.
#[derive(Clone, Copy, Debug)]
pub struct PpoConfig {
	/// The probability ratio is clipped to 1 ± `clip`.
	pub clip: f64,
	/// Weight of the critic's squared error.
	pub value: f64,
	/// Weight of the entropy bonus.
	pub entropy: f64,
	/// Passes over each batch.
	pub epochs: usize,
}

/// The engine's PPO coefficients (offline and online).
pub const PPO: PpoConfig = PpoConfig { clip: 0.2, value: 0.5, entropy: 0.01, epochs: 4 };

/// The actor, the critic and the optimiser of offline training.
pub struct Policy {
	vars: VarMap,
	l1: candle_nn::Linear,
	l2: candle_nn::Linear,
	/// The critic. Its variables are named after the actor's (`v…` > `l…`), so that
	/// [`init_from_seed`] gives the actor the same weights it had before the critic existed.
	v1: candle_nn::Linear,
	v2: candle_nn::Linear,
	optimiser: candle_nn::AdamW,
	device: Device,
}

impl Policy {
	/// A fresh policy, initialised from `seed`.
	pub fn new(seed: u64, device: &Device) -> Result<Self, EngineError> {
		let vars = VarMap::new();
		let vb = VarBuilder::from_varmap(&vars, DType::F32, device);
		let l1 = candle_nn::linear(FEATURES, HIDDEN, vb.pp("l1"))?;
		let l2 = candle_nn::linear(HIDDEN, 1, vb.pp("l2"))?;
		let v1 = candle_nn::linear(2 * FEATURES, HIDDEN, vb.pp("v1"))?;
		let v2 = candle_nn::linear(HIDDEN, 1, vb.pp("v2"))?;
		init_from_seed(&vars, seed, device)?;
		let optimiser = candle_nn::AdamW::new(
			vars.all_vars(),
			candle_nn::ParamsAdamW { lr: 3e-3, weight_decay: 0.0, ..Default::default() },
		)?;
		Ok(Self { vars, l1, l2, v1, v2, optimiser, device: device.clone() })
	}

	/// Loads a saved policy, or `None` when there is no file. A file saved before the critic
	/// existed loads its actor and starts the critic from its seeded initialisation.
	pub fn load(path: &Path, device: &Device) -> Result<Option<Self>, EngineError> {
		if !path.exists() {
			return Ok(None);
		}
		let policy = Self::new(0, device)?;
		let saved = candle_core::safetensors::load(path, device)?;
		let data = policy.vars.data().lock().map_err(|_| EngineError::Poisoned)?;
		for (name, var) in data.iter() {
			match saved.get(name) {
				Some(tensor) => var.set(tensor)?,
				None if name.starts_with('v') => {},
				None => return Err(EngineError::InvalidSpec(format!("saved policy lacks {name}"))),
			}
		}
		drop(data);
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

	/// The critic's estimates `[n]` for `n` jobs' candidates (`x`: `[n, k, FEATURES]`).
	fn values(&self, x: &Tensor) -> candle_core::Result<Tensor> {
		let input = Tensor::cat(&[x.mean(1)?, x.max(1)?], 1)?;
		self.v2.forward(&self.v1.forward(&input)?.tanh()?)?.squeeze(1)
	}

	fn rows(&self, candidates: &[[f32; FEATURES]]) -> candle_core::Result<Tensor> {
		let flat: Vec<f32> = candidates.iter().flatten().copied().collect();
		Tensor::from_vec(flat, (candidates.len(), FEATURES), &self.device)
	}

	/// Selection probabilities over candidates given as rows of features.
	pub fn probabilities(&self, candidates: &[[f32; FEATURES]]) -> Result<Vec<f32>, EngineError> {
		if candidates.is_empty() {
			return Ok(Vec::new());
		}
		let scores = self.scores(&self.rows(candidates)?)?.squeeze(D::Minus1)?;
		Ok(candle_nn::ops::softmax(&scores, 0)?.to_vec1()?)
	}

	/// The critic's estimate for a job with these candidates.
	pub fn expected_reward(&self, candidates: &[[f32; FEATURES]]) -> Result<f32, EngineError> {
		if candidates.is_empty() {
			return Ok(0.0);
		}
		let x = self.rows(candidates)?.unsqueeze(0)?;
		Ok(self.values(&x)?.squeeze(0)?.to_scalar::<f32>()?)
	}

	/// PPO's loss on `batch`, the mean over its decisions (those whose `ran` is not one of their
	/// candidates are left out); `None` when nothing is left. Decisions with as many
	/// candidates are computed together.
	fn ppo_loss(
		&self,
		batch: &[Decision],
		config: &PpoConfig,
	) -> Result<Option<Tensor>, EngineError> {
		let mut groups: std::collections::BTreeMap<usize, Vec<&Decision>> = Default::default();
		for d in batch.iter().filter(|d| d.ran < d.candidates.len()) {
			groups.entry(d.candidates.len()).or_default().push(d);
		}
		let total: usize = groups.values().map(Vec::len).sum();
		let mut sum: Option<Tensor> = None;
		for (k, group) in groups {
			let n = group.len();
			let flat: Vec<f32> =
				group.iter().flat_map(|d| d.candidates.iter().flatten().copied()).collect();
			let x = Tensor::from_vec(flat, (n, k, FEATURES), &self.device)?;
			let log_probs = candle_nn::ops::log_softmax(&self.scores(&x)?.squeeze(D::Minus1)?, 1)?;
			let ran: Vec<u32> = group.iter().map(|d| d.ran as u32).collect();
			let ran = Tensor::from_vec(ran, (n, 1), &self.device)?;
			let old: Vec<f32> = group.iter().map(|d| d.log_prob).collect();
			let old = Tensor::from_vec(old, n, &self.device)?;
			// Bounded so that a decision the policy now finds very unlikely cannot overflow.
			let log_ratio = (log_probs.gather(&ran, 1)?.squeeze(1)? - old)?;
			let ratio = log_ratio.clamp(-20f32, 20f32)?.exp()?;
			let values = self.values(&x)?;
			let rewards: Vec<f32> = group.iter().map(|d| d.reward as f32).collect();
			let rewards = Tensor::from_vec(rewards, n, &self.device)?;
			// The advantage over the critic's estimate: a constant for the actor.
			let advantages = (&rewards - values.detach())?;
			let clipped = ratio.clamp(1.0 - config.clip, 1.0 + config.clip)?;
			let surrogate = (&ratio * &advantages)?.minimum(&(clipped * &advantages)?)?;
			let entropy = (log_probs.exp()? * &log_probs)?.sum(1)?.neg()?;
			let value_loss = (values - rewards)?.sqr()?;
			let loss = ((surrogate.neg()? + (value_loss * config.value)?)?
				- (entropy * config.entropy)?)?
				.sum_all()?;
			sum = Some(match sum {
				Some(s) => (s + loss)?,
				None => loss,
			});
		}
		let Some(sum) = sum else { return Ok(None) };
		let loss = (sum / total as f64)?;
		// A loss that is not finite would write NaN into the weights for good: no step.
		if !loss.to_scalar::<f32>()?.is_finite() {
			return Ok(None);
		}
		Ok(Some(loss))
	}

	/// PPO's epochs on `batch` with AdamW (offline training on the simulator).
	pub fn ppo_step(&mut self, batch: &[Decision], config: &PpoConfig) -> Result<(), EngineError> {
		for _ in 0..config.epochs {
			let Some(loss) = self.ppo_loss(batch, config)? else { return Ok(()) };
			self.optimiser.backward_step(&loss)?;
		}
		Ok(())
	}

	/// PPO's epochs on `batch` with plain SGD at `learning_rate` (online learning: no optimiser
	/// state, so nothing to lose between restarts).
	pub fn ppo_online(
		&mut self,
		batch: &[Decision],
		config: &PpoConfig,
		learning_rate: f64,
	) -> Result<(), EngineError> {
		let mut sgd = candle_nn::SGD::new(self.vars.all_vars(), learning_rate)?;
		for _ in 0..config.epochs {
			let Some(loss) = self.ppo_loss(batch, config)? else { return Ok(()) };
			sgd.backward_step(&loss)?;
		}
		Ok(())
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
