//! Tabular MLPs trained with candle: the reference models of training jobs.
//!
//! Everything that decides the model's bytes comes from the job's `TrainingSpec`: weights are
//! initialised and batches shuffled from its seed, features standardised with the training
//! split's statistics (stored in the model file, so a verifier needs nothing else). The model
//! file is safetensors; its blake2-256 hash is the model id that goes on-chain.

use crate::{dataset::Dataset, rng::SeededRng, EngineError};
use aicchain_primitives::{ModelKind, QuantisedMetrics, TrainingSpec};
use candle_core::{DType, Device, Tensor, Var, D};
use candle_nn::{
	loss::{binary_cross_entropy_with_logit, mse},
	Optimizer, ParamsAdamW,
};
use sp_runtime::Perbill;
use std::collections::HashMap;

/// The spec limits, shared with the chain (which refuses a job past them at submission).
pub use aicchain_primitives::limits::{
	MAX_EPOCHS, MAX_HIDDEN_LAYERS, MAX_HIDDEN_UNITS, MAX_LEARNING_RATE_MILLIONTHS,
	MIN_LEARNING_RATE_MILLIONTHS,
};
/// Rows per mini-batch.
pub const BATCH_SIZE: usize = 64;

/// A trained model: its safetensors bytes, their hash, and what it scored.
#[derive(Clone, Debug)]
pub struct TrainedModel {
	pub bytes: Vec<u8>,
	pub hash: [u8; 32],
	pub metrics: QuantisedMetrics,
	/// Mean training loss of each epoch.
	pub epoch_losses: Vec<f32>,
}

/// Rejects specs the engine will not train: the limits shared with the chain
/// ([`aicchain_primitives::validate_training_spec`]), so a spec the chain accepted is never
/// refused here. What needs the data (targets that suit the model kind) is checked in `train`.
pub fn validate(spec: &TrainingSpec) -> Result<(), EngineError> {
	aicchain_primitives::validate_training_spec(spec)
		.map_err(|e| EngineError::InvalidSpec(e.message().to_string()))
}

struct Layer {
	weight: Var,
	bias: Var,
}

/// Layer sizes: inputs, `hidden_layers` × `hidden_units`, one output.
fn layer_sizes(spec: &TrainingSpec, inputs: usize) -> Vec<(usize, usize)> {
	let hidden = spec.hidden_units as usize;
	let mut sizes = vec![(inputs, hidden)];
	for _ in 1..spec.hidden_layers {
		sizes.push((hidden, hidden));
	}
	sizes.push((hidden, 1));
	sizes
}

fn forward(layers: &[(Tensor, Tensor)], x: &Tensor) -> candle_core::Result<Tensor> {
	let mut h = x.clone();
	let last = layers.len().saturating_sub(1);
	for (i, (w, b)) in layers.iter().enumerate() {
		h = h.matmul(&w.t()?)?.broadcast_add(b)?;
		if i < last {
			h = h.relu()?;
		}
	}
	h.squeeze(D::Minus1)
}

/// Column means and standard deviations of `data` (std floored to avoid division by zero).
fn standardisation(data: &Dataset) -> (Vec<f32>, Vec<f32>) {
	let n = data.rows().max(1) as f64;
	let f = data.n_features;
	let mut mean = vec![0f64; f];
	let mut var = vec![0f64; f];
	for row in data.features.chunks(f) {
		for (m, v) in mean.iter_mut().zip(row) {
			*m += f64::from(*v) / n;
		}
	}
	for row in data.features.chunks(f) {
		for ((s, v), m) in var.iter_mut().zip(row).zip(&mean) {
			*s += (f64::from(*v) - m).powi(2) / n;
		}
	}
	let std = var.iter().map(|v| v.sqrt().max(1e-6) as f32).collect();
	(mean.into_iter().map(|m| m as f32).collect(), std)
}

fn features_tensor(data: &Dataset, device: &Device) -> candle_core::Result<Tensor> {
	Tensor::from_slice(&data.features, (data.rows(), data.n_features), device)
}

/// Trains the spec's model on the dataset's training split and evaluates it on the held-out
/// split.
pub fn train(
	spec: &TrainingSpec,
	data: &Dataset,
	device: &Device,
) -> Result<TrainedModel, EngineError> {
	validate(spec)?;
	if spec.model == ModelKind::MlpClassifier && data.targets.iter().any(|t| *t != 0.0 && *t != 1.0)
	{
		return Err(EngineError::InvalidSpec("a classifier needs 0/1 targets".into()));
	}
	let (train_split, test_split) = data.split();
	let (mean, std) = standardisation(&train_split);
	let mean_t = Tensor::from_slice(&mean, data.n_features, device)?;
	let std_t = Tensor::from_slice(&std, data.n_features, device)?;

	let mut rng = SeededRng::new(spec.seed);
	let layers: Vec<Layer> = layer_sizes(spec, data.n_features)
		.into_iter()
		.map(|(fan_in, fan_out)| {
			// He-uniform initialisation from the job's seed.
			let bound = (6.0 / fan_in as f64).sqrt();
			let w: Vec<f32> =
				(0..fan_in * fan_out).map(|_| rng.range(-bound, bound) as f32).collect();
			Ok(Layer {
				weight: Var::from_tensor(&Tensor::from_vec(w, (fan_out, fan_in), device)?)?,
				bias: Var::zeros(fan_out, DType::F32, device)?,
			})
		})
		.collect::<candle_core::Result<_>>()?;
	let vars: Vec<Var> = layers.iter().flat_map(|l| [l.weight.clone(), l.bias.clone()]).collect();
	let params = ParamsAdamW {
		lr: f64::from(spec.learning_rate_millionths) / 1e6,
		weight_decay: 0.0,
		..Default::default()
	};
	let mut optimiser = candle_nn::AdamW::new(vars, params)?;

	let x_all =
		features_tensor(&train_split, device)?.broadcast_sub(&mean_t)?.broadcast_div(&std_t)?;
	let y_all = Tensor::from_slice(&train_split.targets, train_split.rows(), device)?;
	let mut order: Vec<u32> = (0..train_split.rows() as u32).collect();
	let mut epoch_losses = Vec::with_capacity(spec.epochs as usize);
	for _ in 0..spec.epochs {
		rng.shuffle(&mut order);
		let mut total = 0f32;
		let mut batches = 0usize;
		for chunk in order.chunks(BATCH_SIZE) {
			let idx = Tensor::from_slice(chunk, chunk.len(), device)?;
			let x = x_all.index_select(&idx, 0)?;
			let y = y_all.index_select(&idx, 0)?;
			let current: Vec<(Tensor, Tensor)> = layers
				.iter()
				.map(|l| (l.weight.as_tensor().clone(), l.bias.as_tensor().clone()))
				.collect();
			let out = forward(&current, &x)?;
			let loss = loss_of(spec.model, &out, &y)?;
			optimiser.backward_step(&loss)?;
			total += loss.to_scalar::<f32>()?;
			batches += 1;
		}
		epoch_losses.push(total / batches.max(1) as f32);
	}

	let mut tensors: HashMap<String, Tensor> = HashMap::new();
	for (i, layer) in layers.iter().enumerate() {
		tensors.insert(format!("layer{i}.weight"), layer.weight.as_tensor().clone());
		tensors.insert(format!("layer{i}.bias"), layer.bias.as_tensor().clone());
	}
	tensors.insert("input.mean".into(), mean_t);
	tensors.insert("input.std".into(), std_t);
	let bytes = serialize(&tensors)?;
	let hash = crate::dataset::blake2_256(&bytes);
	let metrics = evaluate(&bytes, spec, &test_split, device)?;
	Ok(TrainedModel { bytes, hash, metrics, epoch_losses })
}

fn loss_of(kind: ModelKind, out: &Tensor, y: &Tensor) -> candle_core::Result<Tensor> {
	match kind {
		ModelKind::MlpClassifier => binary_cross_entropy_with_logit(out, y),
		ModelKind::MlpRegressor => mse(out, y),
	}
}

/// safetensors bytes (tensors in name order, so equal weights give equal bytes).
fn serialize(tensors: &HashMap<String, Tensor>) -> Result<Vec<u8>, EngineError> {
	let dir = tempfile_dir()?;
	let path = dir.join(format!("model-{}.safetensors", std::process::id()));
	let cpu: HashMap<String, Tensor> = tensors
		.iter()
		.map(|(k, v)| Ok((k.clone(), v.to_device(&Device::Cpu)?)))
		.collect::<candle_core::Result<_>>()?;
	candle_core::safetensors::save(&cpu, &path)?;
	let bytes = std::fs::read(&path)?;
	let _ = std::fs::remove_file(&path);
	Ok(bytes)
}

fn tempfile_dir() -> Result<std::path::PathBuf, EngineError> {
	let dir =
		std::env::temp_dir().join(format!("aicchain-worker-{:?}", std::thread::current().id()));
	std::fs::create_dir_all(&dir)?;
	Ok(dir)
}

/// Evaluates model bytes on `test` (the held-out split): accuracy (classifier) or R² clamped
/// to [0, 1] (regressor), and the mean loss, quantised.
pub fn evaluate(
	bytes: &[u8],
	spec: &TrainingSpec,
	test: &Dataset,
	device: &Device,
) -> Result<QuantisedMetrics, EngineError> {
	let tensors = candle_core::safetensors::load_buffer(bytes, device)
		.map_err(|e| EngineError::BadModel(e.to_string()))?;
	let get = |name: &str| {
		tensors.get(name).cloned().ok_or_else(|| EngineError::BadModel(format!("missing {name}")))
	};
	let mut layers = Vec::new();
	for i in 0..=usize::from(spec.hidden_layers) {
		layers.push((get(&format!("layer{i}.weight"))?, get(&format!("layer{i}.bias"))?));
	}
	let mean = get("input.mean")?;
	let std = get("input.std")?;
	if mean.dims() != [test.n_features] {
		return Err(EngineError::BadModel("input width differs from the dataset".into()));
	}
	let x = features_tensor(test, device)?.broadcast_sub(&mean)?.broadcast_div(&std)?;
	let y = Tensor::from_slice(&test.targets, test.rows(), device)?;
	let out = forward(&layers, &x).map_err(|e| EngineError::BadModel(e.to_string()))?;
	let loss = f64::from(loss_of(spec.model, &out, &y)?.to_scalar::<f32>()?);
	let predictions: Vec<f32> = out.to_vec1()?;
	let score = match spec.model {
		ModelKind::MlpClassifier => {
			let correct = predictions
				.iter()
				.zip(&test.targets)
				.filter(|(logit, t)| (**logit > 0.0) == (**t > 0.5))
				.count();
			correct as f64 / test.rows().max(1) as f64
		},
		ModelKind::MlpRegressor => {
			let n = test.rows().max(1) as f64;
			let mean_y = test.targets.iter().map(|t| f64::from(*t)).sum::<f64>() / n;
			let total: f64 = test.targets.iter().map(|t| (f64::from(*t) - mean_y).powi(2)).sum();
			let residual: f64 = predictions
				.iter()
				.zip(&test.targets)
				.map(|(p, t)| (f64::from(*p) - f64::from(*t)).powi(2))
				.sum();
			if total > 0.0 {
				1.0 - residual / total
			} else {
				0.0
			}
		},
	};
	Ok(QuantisedMetrics {
		score: quantise_fraction(score),
		loss_millionths: (loss.max(0.0) * 1e6).round() as u64,
		eval_samples: u32::try_from(test.rows()).unwrap_or(u32::MAX),
	})
}

/// A fraction in [0, 1] (clamped) as parts per billion.
pub fn quantise_fraction(x: f64) -> Perbill {
	let x = if x.is_finite() { x.clamp(0.0, 1.0) } else { 0.0 };
	Perbill::from_parts((x * 1e9).round() as u32)
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::dataset::{blake2_256, credit_scoring_csv, energy_load_csv};
	use sp_core::H256;

	pub(crate) fn spec(dataset: &[u8], model: ModelKind) -> TrainingSpec {
		TrainingSpec {
			dataset: H256(blake2_256(dataset)),
			model,
			hidden_units: 16,
			hidden_layers: 2,
			learning_rate_millionths: 10_000,
			epochs: 8,
			seed: 42,
		}
	}

	#[test]
	fn classifier_loss_falls_and_beats_the_majority_class() {
		let bytes = credit_scoring_csv();
		let data = Dataset::from_csv(&bytes).expect("parses");
		let model =
			train(&spec(&bytes, ModelKind::MlpClassifier), &data, &Device::Cpu).expect("trains");
		let first = model.epoch_losses[0];
		let last = *model.epoch_losses.last().expect("epochs");
		assert!(last < first * 0.9, "loss {first} -> {last}");
		let (_, test) = data.split();
		let majority = test
			.targets
			.iter()
			.filter(|t| **t == 0.0)
			.count()
			.max(test.targets.iter().filter(|t| **t == 1.0).count()) as f64
			/ test.rows() as f64;
		let accuracy = f64::from(model.metrics.score.deconstruct()) / 1e9;
		assert!(accuracy > majority + 0.02, "accuracy {accuracy} vs majority {majority}");
		assert_eq!(model.metrics.eval_samples as usize, test.rows());
	}

	#[test]
	fn regressor_explains_most_of_the_variance() {
		let bytes = energy_load_csv();
		let data = Dataset::from_csv(&bytes).expect("parses");
		let mut s = spec(&bytes, ModelKind::MlpRegressor);
		s.epochs = 30;
		let model = train(&s, &data, &Device::Cpu).expect("trains");
		assert!(model.epoch_losses.last() < model.epoch_losses.first());
		assert!(model.metrics.score > Perbill::from_percent(80), "R² {:?}", model.metrics.score);
	}

	#[test]
	fn same_seed_same_model_hash_and_other_seed_differs() {
		let bytes = credit_scoring_csv();
		let data = Dataset::from_csv(&bytes).expect("parses");
		let mut s = spec(&bytes, ModelKind::MlpClassifier);
		s.epochs = 2;
		let a = train(&s, &data, &Device::Cpu).expect("trains");
		let b = train(&s, &data, &Device::Cpu).expect("trains");
		assert_eq!(a.hash, b.hash);
		assert_eq!(a.hash, blake2_256(&a.bytes));
		assert_eq!(a.metrics, b.metrics);
		s.seed = 43;
		let c = train(&s, &data, &Device::Cpu).expect("trains");
		assert_ne!(a.hash, c.hash);
		// Re-evaluating the stored bytes reproduces the published metrics exactly.
		let (_, test) = data.split();
		s.seed = 42;
		assert_eq!(evaluate(&a.bytes, &s, &test, &Device::Cpu).expect("evaluates"), a.metrics);
	}

	#[test]
	fn bad_specs_and_bad_models_are_errors() {
		let bytes = credit_scoring_csv();
		let data = Dataset::from_csv(&bytes).expect("parses");
		let good = spec(&bytes, ModelKind::MlpClassifier);
		for broken in [
			TrainingSpec { hidden_units: 0, ..good.clone() },
			TrainingSpec { hidden_units: MAX_HIDDEN_UNITS + 1, ..good.clone() },
			TrainingSpec { hidden_layers: 0, ..good.clone() },
			TrainingSpec { hidden_layers: MAX_HIDDEN_LAYERS + 1, ..good.clone() },
			TrainingSpec { epochs: 0, ..good.clone() },
			TrainingSpec { epochs: MAX_EPOCHS + 1, ..good.clone() },
			TrainingSpec { learning_rate_millionths: 0, ..good.clone() },
			TrainingSpec {
				learning_rate_millionths: MAX_LEARNING_RATE_MILLIONTHS + 1,
				..good.clone()
			},
		] {
			// The engine refuses exactly what the chain refuses.
			assert!(aicchain_primitives::validate_training_spec(&broken).is_err());
			assert!(matches!(
				train(&broken, &data, &Device::Cpu),
				Err(EngineError::InvalidSpec(_))
			));
		}
		// A classifier on a regression target is refused.
		let energy = Dataset::from_csv(&energy_load_csv()).expect("parses");
		assert!(matches!(train(&good, &energy, &Device::Cpu), Err(EngineError::InvalidSpec(_))));
		let (_, test) = data.split();
		assert!(matches!(
			evaluate(b"garbage", &good, &test, &Device::Cpu),
			Err(EngineError::BadModel(_))
		));
		// A model with other layer counts than the spec says is a bad model, not a panic.
		let mut small = good.clone();
		small.epochs = 1;
		let model = train(&small, &data, &Device::Cpu).expect("trains");
		let deeper = TrainingSpec { hidden_layers: 3, ..small };
		assert!(matches!(
			evaluate(&model.bytes, &deeper, &test, &Device::Cpu),
			Err(EngineError::BadModel(_))
		));
	}
}
