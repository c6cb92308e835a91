//! Challenges drawn from a 32-byte seed (a block hash or a randomness beacon the prover could
//! not know when it committed): which segment each verifier replays, and which held-out rows
//! the claimed metrics are checked on.

use crate::{dataset::Dataset, rng::SeededRng, EngineError};
use aicchain_primitives::{ModelKind, QuantisedMetrics, TrainingSpec};
use candle_core::Device;

/// Standard errors of slack before claimed metrics are refused: a 5σ test, so an honest claim
/// is refused about once in 1.7 million checks (normal approximation).
pub const METRICS_Z: f64 = 5.0;

fn seeded(domain: &[u8], seed: &[u8; 32], extra: &[u8]) -> u64 {
	let mut input = domain.to_vec();
	input.extend_from_slice(seed);
	input.extend_from_slice(extra);
	let hash = crate::dataset::blake2_256(&input);
	let mut first = [0u8; 8];
	first.copy_from_slice(&hash[..8]);
	u64::from_le_bytes(first)
}

/// The segment verifier `verifier` (its account or index bytes) replays: the first 8 bytes of
/// blake2-256(`"aicchain/pol/segment"` ‖ seed ‖ verifier) modulo `segments` (0 when there are
/// none).
pub fn challenged_segment(seed: &[u8; 32], verifier: &[u8], segments: u32) -> u32 {
	if segments == 0 {
		return 0;
	}
	(seeded(b"aicchain/pol/segment", seed, verifier) % u64::from(segments)) as u32
}

/// `k` distinct held-out row indices (all of them when `k ≥ held_out_rows`), sorted: the first
/// `k` positions of a Fisher–Yates shuffle seeded from blake2-256(`"aicchain/pol/rows"` ‖
/// seed).
pub fn challenged_rows(seed: &[u8; 32], held_out_rows: usize, k: usize) -> Vec<usize> {
	let k = k.min(held_out_rows);
	let mut rng = SeededRng::new(seeded(b"aicchain/pol/rows", seed, &[]));
	let mut rows: Vec<usize> = (0..held_out_rows).collect();
	for i in 0..k {
		let j = i + rng.below(held_out_rows - i);
		rows.swap(i, j);
	}
	rows.truncate(k);
	rows.sort_unstable();
	rows
}

/// The held-out rows at `rows` (indices into the held-out split).
fn held_out_subset(data: &Dataset, rows: &[usize]) -> Result<(Dataset, Dataset), EngineError> {
	let (_, test) = data.split();
	let f = test.n_features;
	let mut features = Vec::with_capacity(rows.len() * f);
	let mut targets = Vec::with_capacity(rows.len());
	for &r in rows {
		let range = r.checked_mul(f).and_then(|start| Some(start..start.checked_add(f)?));
		let (Some(x), Some(y)) = (range.and_then(|r| test.features.get(r)), test.targets.get(r))
		else {
			return Err(EngineError::BadDataset(format!("held-out row {r} out of range")));
		};
		features.extend_from_slice(x);
		targets.push(*y);
	}
	Ok((test, Dataset { n_features: f, features, targets }))
}

/// [`crate::model::evaluate`] on the held-out rows at `rows` only.
pub fn evaluate_rows(
	model_bytes: &[u8],
	spec: &TrainingSpec,
	data: &Dataset,
	rows: &[usize],
	device: &Device,
) -> Result<QuantisedMetrics, EngineError> {
	let (_, subset) = held_out_subset(data, rows)?;
	crate::model::evaluate(model_bytes, spec, &subset, device)
}

/// Claimed (whole held-out split) metrics against the model's rows at `rows`.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricsCheck {
	/// The held-out split's score estimated from the sampled rows.
	pub score_estimate: f64,
	pub score_claimed: f64,
	/// Largest accepted `|estimate − claimed|`.
	pub score_bound: f64,
	pub loss_estimate: f64,
	pub loss_claimed: f64,
	pub loss_bound: f64,
	pub consistent: bool,
}

/// Checks `claimed` against the model's predictions on the held-out rows at `rows` (distinct
/// indices, as [`challenged_rows`] draws them). The score and the mean loss of the whole split
/// are estimated from the sample and the claim refused when it lies more than
/// [`METRICS_Z`] standard errors (with the finite-population correction, so a sample of every
/// row must match exactly) plus 0.1 point and one row's worth away; the sample count must be
/// the split's.
pub fn check_metrics(
	model_bytes: &[u8],
	spec: &TrainingSpec,
	data: &Dataset,
	claimed: &QuantisedMetrics,
	rows: &[usize],
	device: &Device,
) -> Result<MetricsCheck, EngineError> {
	let (test, subset) = held_out_subset(data, rows)?;
	let predictions = crate::model::predict(model_bytes, spec, &subset, device)?;
	let n = test.rows().max(1) as f64;
	let k = subset.rows().max(1) as f64;
	// Variance of a sample mean of k rows drawn without replacement from n.
	let fpc = if n > 1.0 { ((n - k) / (n - 1.0)).max(0.0) / k } else { 0.0 };
	let sd = |xs: &[f64]| {
		let mean = xs.iter().sum::<f64>() / xs.len().max(1) as f64;
		(xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (xs.len().max(2) - 1) as f64).sqrt()
	};
	let mean = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len().max(1) as f64;
	let pairs =
		predictions.iter().zip(&subset.targets).map(|(p, t)| (f64::from(*p), f64::from(*t)));
	let score_claimed = f64::from(claimed.score.deconstruct()) / 1e9;
	let (losses, score_estimate, score_se): (Vec<f64>, f64, f64) = match spec.model {
		ModelKind::MlpClassifier => {
			// Per-row binary cross-entropy on the logit, computed stably.
			let losses: Vec<f64> =
				pairs.clone().map(|(z, y)| z.max(0.0) - z * y + (-z.abs()).exp().ln_1p()).collect();
			let correct: Vec<f64> =
				pairs.map(|(z, y)| f64::from(u8::from((z > 0.0) == (y > 0.5)))).collect();
			// Under the claim, a row is right with probability `score_claimed`.
			let p = score_claimed.clamp(0.0, 1.0);
			(losses, mean(&correct), (p * (1.0 - p) * fpc).sqrt())
		},
		ModelKind::MlpRegressor => {
			let mean_y = test.targets.iter().map(|t| f64::from(*t)).sum::<f64>() / n;
			let total: f64 = test.targets.iter().map(|t| (f64::from(*t) - mean_y).powi(2)).sum();
			let residuals: Vec<f64> = pairs.map(|(p, y)| (p - y).powi(2)).collect();
			// R² = 1 − n · mean(residual) / total, clamped like the published score.
			let scale = if total > 0.0 { n / total } else { 0.0 };
			let estimate = (1.0 - scale * mean(&residuals)).clamp(0.0, 1.0);
			let se = scale * sd(&residuals) * fpc.sqrt();
			(residuals.clone(), estimate, se)
		},
		ModelKind::TransformerLm | ModelKind::CnnClassifier => {
			return Err(crate::model::not_tabular())
		},
	};
	let loss_estimate = mean(&losses);
	let loss_claimed = claimed.loss_millionths as f64 / 1e6;
	let score_bound = METRICS_Z * score_se + 0.001 + 1.0 / n;
	let loss_bound = METRICS_Z * sd(&losses) * fpc.sqrt() + 0.01 * loss_claimed.abs() + 1e-3;
	let consistent = claimed.eval_samples as usize == test.rows()
		&& (score_estimate - score_claimed).abs() <= score_bound
		&& (loss_estimate - loss_claimed).abs() <= loss_bound;
	Ok(MetricsCheck {
		score_estimate,
		score_claimed,
		score_bound,
		loss_estimate,
		loss_claimed,
		loss_bound,
		consistent,
	})
}
