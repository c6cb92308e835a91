//! Federated training across several providers, and aggregation that survives a poisoned one.
//!
//! A federated job's training split is cut into one shard per provider, fixed by the job's seed
//! ([`Federation::new`]). Each round, every provider trains the round's global model on its
//! shard for the spec's epochs (the canonical Adam step, standardised with the whole training
//! split's statistics so that all providers' weights mean the same) and sends back its weights.
//! The round's aggregate is coordinate-wise: the plain mean ([`Rule::FedAvg`]), the median or
//! the trimmed mean. With [`Federation::run`]'s exclusion on, an update farther from the
//! coordinate-wise median than [`OUTLIER_FACTOR`] times the median provider's distance is
//! excluded from the round before the rule applies (a provider that sends nothing is excluded
//! too): what a provider that loses its share and is slashed would see.
//!
//! Attacks ([`Behaviour`]): a sign-flipped update (the provider's step reversed and
//! amplified), a scaled one, random weights, or none at all.

use crate::{
	dataset::Dataset,
	model::{self, Arithmetic, TrainState, Trainer},
	rng::SeededRng,
	EngineError,
};
use aicchain_primitives::{AggregationRule, QuantisedMetrics, TrainingSpec};
use candle_core::{Device, Tensor};

/// An update farther from the coordinate-wise median than this many times the median
/// provider's distance is excluded.
pub const OUTLIER_FACTOR: f64 = 3.0;

/// How a round's updates become the next global model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
	/// The coordinate-wise mean (FedAvg with equal shards).
	FedAvg,
	/// The coordinate-wise median.
	Median,
	/// The coordinate-wise mean of what is left after dropping the `trim` lowest and highest.
	TrimmedMean { trim: usize },
}

/// The coordinate-wise aggregate of `updates` (all the same length) by `rule`; `None` for no
/// updates, or for a trimmed mean that would trim them all.
pub fn aggregate(updates: &[&[f32]], rule: Rule) -> Option<Vec<f32>> {
	let first = updates.first()?;
	let n = updates.len();
	if let Rule::TrimmedMean { trim } = rule {
		if 2 * trim >= n {
			return None;
		}
	}
	let mut column = vec![0f32; n];
	let mut out = Vec::with_capacity(first.len());
	for i in 0..first.len() {
		for (slot, update) in column.iter_mut().zip(updates) {
			*slot = update.get(i).copied().unwrap_or(f32::NAN);
		}
		let value = match rule {
			Rule::FedAvg => column.iter().map(|v| f64::from(*v)).sum::<f64>() / n as f64,
			Rule::Median | Rule::TrimmedMean { .. } => {
				column.sort_by(|a, b| a.total_cmp(b));
				let kept = match rule {
					Rule::TrimmedMean { trim } => column.get(trim..n - trim)?,
					_ if n % 2 == 1 => column.get(n / 2..n / 2 + 1)?,
					_ => column.get(n / 2 - 1..n / 2 + 1)?,
				};
				kept.iter().map(|v| f64::from(*v)).sum::<f64>() / kept.len() as f64
			},
		};
		out.push(value as f32);
	}
	Some(out)
}

/// Euclidean distance between two weight vectors (a NaN anywhere makes it infinite).
pub fn distance(a: &[f32], b: &[f32]) -> f64 {
	let squared: f64 = a.iter().zip(b).map(|(x, y)| (f64::from(*x) - f64::from(*y)).powi(2)).sum();
	if squared.is_finite() && a.len() == b.len() {
		squared.sqrt()
	} else {
		f64::INFINITY
	}
}

/// Which of `updates` lie farther from their coordinate-wise median than [`OUTLIER_FACTOR`]
/// times the median of those distances (the median update's distance; honest providers'
/// updates differ by their shards, so it is never zero in practice).
pub fn outliers(updates: &[&[f32]]) -> Vec<bool> {
	let Some(center) = aggregate(updates, Rule::Median) else { return Vec::new() };
	let distances: Vec<f64> = updates.iter().map(|u| distance(u, &center)).collect();
	let mut sorted = distances.clone();
	sorted.sort_by(|a, b| a.total_cmp(b));
	let median = sorted.get(sorted.len() / 2).copied().unwrap_or(0.0);
	distances.iter().map(|d| *d > OUTLIER_FACTOR * median).collect()
}

impl Rule {
	/// The chain's rule for `kept` updates (a trimmed mean needs three).
	pub fn of(rule: AggregationRule, kept: usize) -> Self {
		match rule {
			AggregationRule::FedAvg => Self::FedAvg,
			AggregationRule::Median => Self::Median,
			AggregationRule::TrimmedMean if kept >= 3 => Self::TrimmedMean { trim: 1 },
			AggregationRule::TrimmedMean => Self::Median,
		}
	}
}

/// An update's bytes as engines store and serve them: the weights as little-endian `f32`s.
pub fn update_bytes(update: &[f32]) -> Vec<u8> {
	update.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// The weights of an update's bytes (`None` unless a whole number of `f32`s).
pub fn parse_update(bytes: &[u8]) -> Option<Vec<f32>> {
	if !bytes.len().is_multiple_of(4) {
		return None;
	}
	bytes.chunks_exact(4).map(|c| <[u8; 4]>::try_from(c).ok().map(f32::from_le_bytes)).collect()
}

/// What a provider sends back in a round.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Behaviour {
	Honest,
	/// The global model minus four times its honest step.
	SignFlip,
	/// The global model plus this many times its honest step.
	Scaled(f32),
	/// Weights drawn from N(0, 1), not trained at all.
	Random,
	/// Nothing.
	Missing,
}

impl std::str::FromStr for Behaviour {
	type Err = String;
	fn from_str(text: &str) -> Result<Self, String> {
		match text {
			"honest" => Ok(Self::Honest),
			"sign-flip" => Ok(Self::SignFlip),
			"scaled" => Ok(Self::Scaled(10.0)),
			"random" => Ok(Self::Random),
			"missing" => Ok(Self::Missing),
			other => Err(format!(
				"unknown behaviour `{other}` (honest, sign-flip, scaled, random, missing)"
			)),
		}
	}
}

/// One federated job: the spec, each provider's shard, the held-out split.
pub struct Federation {
	spec: TrainingSpec,
	shards: Vec<Trainer>,
	/// The whole training split's trainer: shapes, initial state, model file.
	whole: Trainer,
	test: Dataset,
}

impl Federation {
	/// Cuts `data`'s training split into `providers` shards by a permutation from the spec's
	/// seed (the held-out split is the usual last 20%).
	pub fn new(
		spec: &TrainingSpec,
		data: &Dataset,
		providers: usize,
		device: &Device,
	) -> Result<Self, EngineError> {
		let (train, test) = data.split();
		if providers == 0 || train.rows() < providers {
			return Err(EngineError::InvalidSpec("fewer rows than providers".into()));
		}
		let (mean, std) = model::standardisation(&train);
		let whole = Trainer::with_rows(spec, &train, mean.clone(), std.clone(), device)?;
		let mut order: Vec<usize> = (0..train.rows()).collect();
		SeededRng::new(spec.seed ^ 0xfed).shuffle(&mut order);
		let f = train.n_features;
		let mut shards = Vec::with_capacity(providers);
		for p in 0..providers {
			let rows = order.iter().skip(p).step_by(providers);
			let mut shard = Dataset { n_features: f, features: Vec::new(), targets: Vec::new() };
			for &row in rows {
				shard
					.features
					.extend_from_slice(train.features.get(row * f..(row + 1) * f).unwrap_or(&[]));
				shard.targets.push(train.targets.get(row).copied().unwrap_or(0.0));
			}
			// Each provider's batches follow its own seed.
			let own = TrainingSpec { seed: spec.seed.wrapping_add(p as u64 + 1), ..spec.clone() };
			shards.push(Trainer::with_rows(&own, &shard, mean.clone(), std.clone(), device)?);
		}
		Ok(Self { spec: spec.clone(), shards, whole, test })
	}

	/// The first round's global model: the spec's seeded initialisation.
	pub fn initial(&self) -> Result<Vec<f32>, EngineError> {
		flatten(&self.whole.initial_state()?.params)
	}

	/// Provider `provider`'s answer to round `round`'s global model.
	pub fn update(
		&self,
		global: &[f32],
		provider: usize,
		round: u64,
		behaviour: Behaviour,
	) -> Result<Option<Vec<f32>>, EngineError> {
		let trainer = self
			.shards
			.get(provider)
			.ok_or_else(|| EngineError::InvalidSpec(format!("no provider {provider}")))?;
		let step = |factor: f32, trained: &[f32]| -> Vec<f32> {
			global.iter().zip(trained).map(|(g, t)| g + factor * (t - g)).collect()
		};
		Ok(match behaviour {
			Behaviour::Missing => None,
			Behaviour::Random => {
				let mut rng = SeededRng::new(self.spec.seed ^ round.wrapping_mul(1_000_003));
				Some(global.iter().map(|_| rng.normal() as f32).collect())
			},
			honest_or_poisoned => {
				let mut state = fresh_state(unflatten(global, trainer)?)?;
				trainer.run(&mut state, trainer.total_steps(), Arithmetic::Canonical)?;
				let trained = flatten(&state.params)?;
				Some(match honest_or_poisoned {
					Behaviour::SignFlip => step(-4.0, &trained),
					Behaviour::Scaled(factor) => step(factor, &trained),
					_ => trained,
				})
			},
		})
	}

	/// The global model's held-out accuracy (or R², for a regressor).
	pub fn score(&self, global: &[f32]) -> Result<f64, EngineError> {
		Ok(f64::from(self.metrics(global)?.score.deconstruct()) / 1e9)
	}

	/// The global model's held-out metrics, as the chain records them.
	pub fn metrics(&self, global: &[f32]) -> Result<QuantisedMetrics, EngineError> {
		let bytes = self.model_bytes(global)?;
		model::evaluate(&bytes, &self.spec, &self.test, self.whole.device())
	}

	/// The global model's file (the usual MLP safetensors).
	pub fn model_bytes(&self, global: &[f32]) -> Result<Vec<u8>, EngineError> {
		self.whole.model_bytes(&fresh_state(unflatten(global, &self.whole)?)?)
	}

	/// `rounds` rounds with each provider behaving as `behaviours` says, aggregating by `rule`,
	/// excluding outliers first when `exclude`: the final score and, per round, the providers
	/// excluded.
	pub fn run(
		&self,
		behaviours: &[Behaviour],
		rounds: u64,
		rule: Rule,
		exclude: bool,
	) -> Result<Outcome, EngineError> {
		let mut global = self.initial()?;
		let mut excluded = Vec::new();
		for round in 0..rounds {
			let mut answers = Vec::new();
			for (provider, behaviour) in behaviours.iter().enumerate() {
				answers.push(self.update(&global, provider, round, *behaviour)?);
			}
			let sent: Vec<(usize, Vec<f32>)> =
				answers.into_iter().enumerate().filter_map(|(p, u)| u.map(|u| (p, u))).collect();
			let views: Vec<&[f32]> = sent.iter().map(|(_, u)| u.as_slice()).collect();
			let flagged = if exclude { outliers(&views) } else { vec![false; views.len()] };
			let kept: Vec<&[f32]> =
				views.iter().zip(&flagged).filter(|(_, out)| !**out).map(|(u, _)| *u).collect();
			let mut out: Vec<usize> = (0..behaviours.len())
				.filter(|p| !sent.iter().any(|(q, _)| q == p))
				.chain(sent.iter().zip(&flagged).filter(|(_, f)| **f).map(|((p, _), _)| *p))
				.collect();
			out.sort_unstable();
			excluded.push(out);
			if let Some(next) = aggregate(&kept, rule) {
				global = next;
			}
		}
		Ok(Outcome { score: self.score(&global)?, excluded })
	}
}

/// A federated run's result.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
	/// Held-out accuracy (or R²) of the final global model.
	pub score: f64,
	/// The providers excluded in each round.
	pub excluded: Vec<Vec<usize>>,
}

/// Step 0 at `params`, with zero Adam moments (each round starts its optimiser afresh).
fn fresh_state(params: Vec<Tensor>) -> Result<TrainState, EngineError> {
	let zeros = params.iter().map(Tensor::zeros_like).collect::<Result<Vec<_>, _>>()?;
	Ok(TrainState { step: 0, params, m: zeros.clone(), v: zeros })
}

fn flatten(params: &[Tensor]) -> Result<Vec<f32>, EngineError> {
	let mut out = Vec::new();
	for p in params {
		out.extend(p.flatten_all()?.to_vec1::<f32>()?);
	}
	Ok(out)
}

/// `flat` in the trainer's layer shapes (weights `fan_out × fan_in`, then biases).
fn unflatten(flat: &[f32], trainer: &Trainer) -> Result<Vec<Tensor>, EngineError> {
	let mut params = Vec::new();
	let mut offset = 0;
	for &(fan_in, fan_out) in trainer.layer_sizes() {
		for shape in [vec![fan_out, fan_in], vec![fan_out]] {
			let len: usize = shape.iter().product();
			let slice = flat
				.get(offset..offset + len)
				.ok_or_else(|| EngineError::BadModel("an update of the wrong size".into()))?;
			params.push(Tensor::from_slice(slice, shape.as_slice(), trainer.device())?);
			offset += len;
		}
	}
	if offset != flat.len() {
		return Err(EngineError::BadModel("an update of the wrong size".into()));
	}
	Ok(params)
}

#[cfg(test)]
#[path = "federated_tests.rs"]
mod tests;
