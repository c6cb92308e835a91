//! Proximal policy optimisation (PPO) for node selection, in candle.
//!
//! - **Actor**: each candidate's features through a 2-layer tanh network to a score; a softmax
//!   over the job's candidates (padding masked) is the policy.
//! - **Critic**: the mean and the maximum of the candidates' features through a 2-layer tanh
//!   network to the value of the market state the job meets.
//! - **Training**: rollouts of [`PpoConfig::steps`] decisions on training markets (seeds apart
//!   from the benchmark's), advantages by GAE (γ, λ) from the critic, normalised per rollout;
//!   then [`PpoConfig::epochs`] passes over shuffled minibatches of the clipped surrogate
//!   objective, a value loss (× 0.5) and an entropy bonus, with AdamW.

use super::market::{Market, Offer, CANDIDATES, FEATURES};
use crate::{policy, rng::SeededRng, EngineError};
use candle_core::{DType, Device, Tensor, D};
use candle_nn::{Linear, Module, Optimizer, VarBuilder, VarMap};

const HIDDEN: usize = 32;
/// Added to the scores of padding candidates.
const MASKED: f32 = -1e9;

/// PPO's hyper-parameters.
#[derive(Clone, Copy, Debug)]
pub struct PpoConfig {
	/// Rollouts (each followed by the optimisation epochs).
	pub updates: usize,
	/// Decisions per rollout.
	pub steps: usize,
	pub epochs: usize,
	pub minibatch: usize,
	pub clip: f64,
	pub entropy: f64,
	pub gamma: f64,
	pub lambda: f64,
	pub learning_rate: f64,
	/// Jobs per training market before the next (a new seed).
	pub episode: usize,
	pub seed: u64,
}

impl Default for PpoConfig {
	fn default() -> Self {
		Self {
			updates: 200,
			steps: 512,
			epochs: 4,
			minibatch: 128,
			clip: 0.2,
			entropy: 0.01,
			gamma: 0.5,
			lambda: 0.95,
			learning_rate: 3e-3,
			episode: 2_000,
			seed: 1,
		}
	}
}

/// A trained policy, its mean reward per training rollout, and what the observer measured
/// (updates done, figure).
pub type Trained = (Ppo, Vec<f64>, Vec<(usize, f64)>);

/// The actor and the critic.
pub struct Ppo {
	vars: VarMap,
	actor: [Linear; 3],
	critic: [Linear; 3],
	device: Device,
}

/// Candidates' features padded to [`CANDIDATES`], and the mask (0 or [`MASKED`]).
fn padded(features: &[[f32; FEATURES]]) -> (Vec<f32>, Vec<f32>) {
	let mut x = vec![0f32; CANDIDATES * FEATURES];
	let mut mask = vec![MASKED; CANDIDATES];
	for (i, f) in features.iter().take(CANDIDATES).enumerate() {
		if let Some(row) = x.get_mut(i * FEATURES..(i + 1) * FEATURES) {
			row.copy_from_slice(f);
		}
		if let Some(m) = mask.get_mut(i) {
			*m = 0.0;
		}
	}
	(x, mask)
}

/// One decision of a rollout.
struct Step {
	x: Vec<f32>,
	mask: Vec<f32>,
	action: u32,
	log_prob: f32,
	value: f32,
	reward: f32,
}

impl Ppo {
	/// A fresh actor and critic initialised from `seed` (uniform in ±1/√fan-in, biases 0).
	pub fn new(seed: u64, device: &Device) -> Result<Self, EngineError> {
		let vars = VarMap::new();
		let vb = VarBuilder::from_varmap(&vars, DType::F32, device);
		let actor = [
			candle_nn::linear(FEATURES, HIDDEN, vb.pp("a1"))?,
			candle_nn::linear(HIDDEN, HIDDEN, vb.pp("a2"))?,
			candle_nn::linear(HIDDEN, 1, vb.pp("a3"))?,
		];
		let critic = [
			candle_nn::linear(2 * FEATURES, HIDDEN, vb.pp("c1"))?,
			candle_nn::linear(HIDDEN, HIDDEN, vb.pp("c2"))?,
			candle_nn::linear(HIDDEN, 1, vb.pp("c3"))?,
		];
		policy::init_from_seed(&vars, seed, device)?;
		Ok(Self { vars, actor, critic, device: device.clone() })
	}

	/// Masked scores `[batch, CANDIDATES]` of `x` `[batch, CANDIDATES, FEATURES]`.
	fn logits(&self, x: &Tensor, mask: &Tensor) -> candle_core::Result<Tensor> {
		let [a1, a2, a3] = &self.actor;
		let h = a2.forward(&a1.forward(x)?.tanh()?)?.tanh()?;
		a3.forward(&h)?.squeeze(D::Minus1)?.broadcast_add(mask)
	}

	/// Values `[batch]`: the critic on the candidates' mean and maximum features.
	fn values(&self, x: &Tensor, mask: &Tensor) -> candle_core::Result<Tensor> {
		let valid = mask.ge(0f64)?.to_dtype(DType::F32)?;
		let count = valid.sum_keepdim(1)?.clamp(1f64, f64::MAX)?;
		let mean = x.broadcast_mul(&valid.unsqueeze(2)?)?.sum(1)?.broadcast_div(&count)?;
		let max = x.broadcast_add(&mask.unsqueeze(2)?)?.max(1)?;
		let [c1, c2, c3] = &self.critic;
		let input = Tensor::cat(&[mean, max], 1)?;
		c3.forward(&c2.forward(&c1.forward(&input)?.tanh()?)?.tanh()?)?.squeeze(D::Minus1)
	}

	fn batch(
		&self,
		x: Vec<f32>,
		mask: Vec<f32>,
		n: usize,
	) -> candle_core::Result<(Tensor, Tensor)> {
		Ok((
			Tensor::from_vec(x, (n, CANDIDATES, FEATURES), &self.device)?,
			Tensor::from_vec(mask, (n, CANDIDATES), &self.device)?,
		))
	}

	/// Selection probabilities over `features`' candidates.
	pub fn probabilities(&self, features: &[[f32; FEATURES]]) -> Result<Vec<f32>, EngineError> {
		let (x, mask) = padded(features);
		let (x, mask) = self.batch(x, mask, 1)?;
		let p = candle_nn::ops::softmax(&self.logits(&x, &mask)?, 1)?.squeeze(0)?.to_vec1()?;
		Ok(p.into_iter().take(features.len().min(CANDIDATES)).collect())
	}

	/// The most probable candidate.
	pub fn greedy(&self, features: &[[f32; FEATURES]]) -> Result<usize, EngineError> {
		policy::argmax(&self.probabilities(features)?)
			.ok_or_else(|| EngineError::InvalidSpec("no candidates".into()))
	}

	/// Samples a candidate: the step (without its reward).
	fn act(&self, offer: &Offer, rng: &mut SeededRng) -> Result<Step, EngineError> {
		let (x, mask) = padded(&offer.features);
		let (xt, mt) = self.batch(x.clone(), mask.clone(), 1)?;
		let log_probs = candle_nn::ops::log_softmax(&self.logits(&xt, &mt)?, 1)?;
		let log_probs: Vec<f32> = log_probs.squeeze(0)?.to_vec1()?;
		let probabilities: Vec<f32> = log_probs.iter().map(|l| l.exp()).collect();
		let action = policy::sample(&probabilities, rng).min(offer.features.len() - 1);
		let value = self.values(&xt, &mt)?.squeeze(0)?.to_scalar::<f32>()?;
		let log_prob = log_probs.get(action).copied().unwrap_or(MASKED);
		Ok(Step { x, mask, action: action as u32, log_prob, value, reward: 0.0 })
	}

	/// One PPO update on a rollout: GAE advantages, then the clipped objective's epochs.
	fn update(
		&self,
		steps: &[Step],
		optimiser: &mut candle_nn::AdamW,
		config: &PpoConfig,
		rng: &mut SeededRng,
	) -> Result<(), EngineError> {
		let n = steps.len();
		let (mut advantages, mut next_value, mut gae) = (vec![0f32; n], 0f32, 0f32);
		for (i, step) in steps.iter().enumerate().rev() {
			if i + 1 == n {
				next_value = step.value;
			}
			let delta = step.reward + config.gamma as f32 * next_value - step.value;
			gae = delta + (config.gamma * config.lambda) as f32 * gae;
			if let Some(a) = advantages.get_mut(i) {
				*a = gae;
			}
			next_value = step.value;
		}
		let returns: Vec<f32> = advantages.iter().zip(steps).map(|(a, s)| a + s.value).collect();
		let mean = advantages.iter().sum::<f32>() / n.max(1) as f32;
		let std = (advantages.iter().map(|a| (a - mean).powi(2)).sum::<f32>() / n.max(1) as f32)
			.sqrt()
			.max(1e-6);
		let advantages: Vec<f32> = advantages.iter().map(|a| (a - mean) / std).collect();
		let mut order: Vec<usize> = (0..n).collect();
		for _ in 0..config.epochs {
			rng.shuffle(&mut order);
			for chunk in order.chunks(config.minibatch.max(1)) {
				let m = chunk.len();
				let pick = |f: &dyn Fn(&Step) -> f32| -> Vec<f32> {
					chunk.iter().filter_map(|i| steps.get(*i)).map(f).collect()
				};
				let x: Vec<f32> =
					chunk.iter().filter_map(|i| steps.get(*i)).flat_map(|s| s.x.clone()).collect();
				let mask: Vec<f32> = chunk
					.iter()
					.filter_map(|i| steps.get(*i))
					.flat_map(|s| s.mask.clone())
					.collect();
				let (x, mask) = self.batch(x, mask, m)?;
				let actions: Vec<u32> =
					chunk.iter().filter_map(|i| steps.get(*i)).map(|s| s.action).collect();
				let actions = Tensor::from_vec(actions, (m, 1), &self.device)?;
				let old = Tensor::from_vec(pick(&|s| s.log_prob), m, &self.device)?;
				let adv: Vec<f32> =
					chunk.iter().map(|i| advantages.get(*i).copied().unwrap_or(0.0)).collect();
				let adv = Tensor::from_vec(adv, m, &self.device)?;
				let ret: Vec<f32> =
					chunk.iter().map(|i| returns.get(*i).copied().unwrap_or(0.0)).collect();
				let ret = Tensor::from_vec(ret, m, &self.device)?;
				let log_probs = candle_nn::ops::log_softmax(&self.logits(&x, &mask)?, 1)?;
				let new = log_probs.gather(&actions, 1)?.squeeze(1)?;
				let ratio = (new - old)?.exp()?;
				let clipped = ratio.clamp(1.0 - config.clip, 1.0 + config.clip)?;
				let surrogate = (ratio * &adv)?.minimum(&(clipped * &adv)?)?;
				let entropy = (log_probs.exp()? * &log_probs)?.sum(1)?.neg()?.mean_all()?;
				let value_loss = (self.values(&x, &mask)? - ret)?.sqr()?.mean_all()?;
				let loss = ((surrogate.mean_all()?.neg()? + (value_loss * 0.5)?)?
					- (entropy * config.entropy)?)?;
				optimiser.backward_step(&loss)?;
			}
		}
		Ok(())
	}

	/// Trains a policy with `config` on markets of seeds `config.seed × 1000 + 1,000,000 + k`
	/// (apart from the benchmark's); the policy and the mean reward of each rollout.
	pub fn train(config: &PpoConfig) -> Result<(Self, Vec<f64>), EngineError> {
		Self::train_observed(config, usize::MAX, |_| 0.0).map(|(ppo, curve, _)| (ppo, curve))
	}

	/// [`Self::train`], calling `observe` on the policy before the first update and after every
	/// `every` updates (the learning curve: what `observe` measures, by updates done).
	pub fn train_observed(
		config: &PpoConfig,
		every: usize,
		mut observe: impl FnMut(&Self) -> f64,
	) -> Result<Trained, EngineError> {
		let ppo = Self::new(config.seed, &Device::Cpu)?;
		let mut optimiser = candle_nn::AdamW::new(
			ppo.vars.all_vars(),
			candle_nn::ParamsAdamW {
				lr: config.learning_rate,
				weight_decay: 0.0,
				..Default::default()
			},
		)?;
		let mut rng = SeededRng::new(config.seed ^ 0x0BB0);
		let market_seed = |k: u64| config.seed.wrapping_mul(1_000).wrapping_add(k + 1_000_000);
		let (mut episode, mut jobs) = (0u64, 0usize);
		let mut market = Market::new(market_seed(episode));
		let mut curve = Vec::with_capacity(config.updates);
		let mut observed = Vec::new();
		for update in 0..config.updates {
			if update % every.max(1) == 0 {
				observed.push((update, observe(&ppo)));
			}
			let mut steps = Vec::with_capacity(config.steps);
			while steps.len() < config.steps {
				if jobs == config.episode {
					episode += 1;
					jobs = 0;
					market = Market::new(market_seed(episode));
				}
				jobs += 1;
				let offer = market.offer();
				if offer.candidates.is_empty() {
					market.run(&offer, None);
					continue;
				}
				let mut step = ppo.act(&offer, &mut rng)?;
				step.reward = market.run(&offer, Some(step.action as usize)).reward as f32;
				steps.push(step);
			}
			curve.push(steps.iter().map(|s| f64::from(s.reward)).sum::<f64>() / steps.len() as f64);
			ppo.update(&steps, &mut optimiser, config, &mut rng)?;
		}
		if every != usize::MAX {
			observed.push((config.updates, observe(&ppo)));
		}
		Ok((ppo, curve, observed))
	}
}
