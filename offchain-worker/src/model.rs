//! Tabular MLPs trained with candle: the reference models of training jobs.
//!
//! Everything that decides the model's bytes comes from the job's `TrainingSpec`: weights are
//! initialised and batches shuffled from its seed, features standardised with the training
//! split's statistics (stored in the model file, so a verifier needs nothing else). The model
//! file is safetensors; its blake2-256 hash is the model id that goes on-chain.
//!
//! Training is step-based with explicit state ([`Trainer`], [`TrainState`]): the batch of any
//! step follows from the seed and the step alone, and the run is checkpointed into a
//! [`TrainingProof`] whose Merkle root commits to it, so that verifiers can replay any segment
//! of it (see [`crate::proof`]).

use crate::{
	dataset::Dataset,
	proof::{self, TrainingProof},
	EngineError,
};
use aicchain_primitives::{ModelKind, QuantisedMetrics, TrainingSpec};
use candle_core::{DType, Device, Tensor, D};
use candle_nn::loss::{binary_cross_entropy_with_logit, mse};
use sp_runtime::Perbill;

mod fused;
mod gemm;
mod trainer;
pub(crate) use fused::adamw_tensors;
pub use trainer::{
	epoch_seed, param_names, Arithmetic, TrainState, Trainer, ADAM_BETA1, ADAM_BETA2, ADAM_EPS,
};

/// The spec limits, shared with the chain (which refuses a job past them at submission).
pub use aicchain_primitives::limits::{
	MAX_EPOCHS, MAX_HIDDEN_LAYERS, MAX_HIDDEN_UNITS, MAX_LEARNING_RATE_MILLIONTHS,
	MIN_LEARNING_RATE_MILLIONTHS,
};
/// Rows per mini-batch: the chain's ([`aicchain_primitives::proof::BATCH_SIZE`]).
pub const BATCH_SIZE: usize = aicchain_primitives::proof::BATCH_SIZE as usize;

/// A trained model: its safetensors bytes, their hash, what it scored, and the checkpointed
/// proof of the training run.
#[derive(Clone, Debug)]
pub struct TrainedModel {
	pub bytes: Vec<u8>,
	pub hash: [u8; 32],
	pub metrics: QuantisedMetrics,
	/// Mean training loss of each epoch.
	pub epoch_losses: Vec<f32>,
	/// The checkpoints of the run and their commitment.
	pub proof: TrainingProof,
}

/// Rejects specs the engine will not train: the limits shared with the chain
/// ([`aicchain_primitives::validate_training_spec`]), so a spec the chain accepted is never
/// refused here. What needs the data (targets that suit the model kind) is checked in `train`.
pub fn validate(spec: &TrainingSpec) -> Result<(), EngineError> {
	aicchain_primitives::validate_training_spec(spec)
		.map_err(|e| EngineError::InvalidSpec(e.message().to_string()))
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

/// The MLP on `x`: `params` are `[w0, b0, w1, b1, …]`, ReLU between layers, one output per row.
/// `elementwise` computes the matmuls as broadcast products and sums (another kernel path).
fn forward(params: &[Tensor], x: &Tensor, elementwise: bool) -> candle_core::Result<Tensor> {
	let mut h = x.clone();
	let layers = params.len() / 2;
	if layers == 0 || !params.len().is_multiple_of(2) {
		candle_core::bail!("{} parameter tensors do not make layers", params.len());
	}
	for (i, pair) in params.chunks(2).enumerate() {
		let (Some(w), Some(b)) = (pair.first(), pair.get(1)) else {
			candle_core::bail!("a layer without bias");
		};
		h = if elementwise {
			h.unsqueeze(1)?.broadcast_mul(&w.unsqueeze(0)?)?.sum(2)?
		} else {
			h.matmul(&w.t()?)?
		};
		h = h.broadcast_add(b)?;
		if i + 1 < layers {
			h = h.relu()?;
		}
	}
	h.squeeze(D::Minus1)
}

/// Column means and standard deviations of `data` (std floored to avoid division by zero).
pub(crate) fn standardisation(data: &Dataset) -> (Vec<f32>, Vec<f32>) {
	let n = data.rows().max(1) as f64;
	let f = data.n_features.max(1);
	let mut mean = vec![0f64; data.n_features];
	let mut var = vec![0f64; data.n_features];
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

/// Trains the spec's model on the dataset's training split (the canonical schedule of
/// [`Trainer`], checkpointed on its [`proof::Schedule`]) and evaluates it on the held-out
/// split.
pub fn train(
	spec: &TrainingSpec,
	data: &Dataset,
	device: &Device,
) -> Result<TrainedModel, EngineError> {
	train_from(spec, data, None, device)
}

/// [`train`], from the layers of `start` (the parent's model file) for relay training.
pub fn train_from(
	spec: &TrainingSpec,
	data: &Dataset,
	start: Option<&[u8]>,
	device: &Device,
) -> Result<TrainedModel, EngineError> {
	let trainer = Trainer::new(spec, data, device)?.starting_from(start)?;
	let schedule = proof::Schedule::new(trainer.total_steps());
	let mut state = trainer.initial_state()?;
	let mut checkpoints = vec![proof::encode_checkpoint(&state)?];
	let mut losses = Vec::with_capacity(trainer.total_steps() as usize);
	for index in 1..schedule.checkpoints {
		losses.extend(trainer.run(&mut state, schedule.step_of(index), Arithmetic::Canonical)?);
		checkpoints.push(proof::encode_checkpoint(&state)?);
	}
	let per_epoch = usize::try_from(trainer.batches_per_epoch()).unwrap_or(usize::MAX).max(1);
	let epoch_losses =
		losses.chunks(per_epoch).map(|c| c.iter().sum::<f32>() / c.len() as f32).collect();
	let bytes = trainer.model_bytes(&state)?;
	let hash = crate::dataset::blake2_256(&bytes);
	let (_, test_split) = data.split();
	let metrics = evaluate(&bytes, spec, &test_split, device)?;
	let proof = TrainingProof::new(schedule, checkpoints);
	Ok(TrainedModel { bytes, hash, metrics, epoch_losses, proof })
}

fn loss_of(kind: ModelKind, out: &Tensor, y: &Tensor) -> candle_core::Result<Tensor> {
	match kind {
		ModelKind::MlpClassifier => binary_cross_entropy_with_logit(out, y),
		ModelKind::MlpRegressor => mse(out, y),
		ModelKind::TransformerLm | ModelKind::CnnClassifier => {
			Err(candle_core::Error::Msg(not_tabular().to_string()))
		},
	}
}

/// A transformer spec reached the tabular models (the engine sends it to [`crate::lm`]).
pub(crate) fn not_tabular() -> EngineError {
	EngineError::InvalidSpec(
		"not an MLP: the transformer and the CNN train by autograd (`crate::autograd`)".into(),
	)
}

/// safetensors bytes of named F32 / U32 tensors, built in memory: the layout of
/// `safetensors::serialize` (tensors by descending dtype, then by name; header padded with
/// spaces to 8 bytes; no metadata), so equal tensors give equal bytes.
pub(crate) fn safetensors_bytes(tensors: Vec<(String, Tensor)>) -> Result<Vec<u8>, EngineError> {
	let mut entries = Vec::with_capacity(tensors.len());
	for (name, tensor) in tensors {
		let flat = tensor.flatten_all()?.to_device(&Device::Cpu)?;
		let (rank, dtype, data): (u8, &str, Vec<u8>) = match tensor.dtype() {
			DType::F32 => {
				(1, "F32", flat.to_vec1::<f32>()?.iter().flat_map(|v| v.to_le_bytes()).collect())
			},
			DType::U32 => {
				(0, "U32", flat.to_vec1::<u32>()?.iter().flat_map(|v| v.to_le_bytes()).collect())
			},
			other => {
				return Err(EngineError::BadModel(format!("cannot store {other:?} tensors")));
			},
		};
		entries.push((rank, name, dtype, tensor.dims().to_vec(), data));
	}
	// safetensors orders by descending dtype (F32 after U32 in its enum), then by name.
	entries.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
	let mut header = String::from("{");
	let mut offset = 0usize;
	for (i, (_, name, dtype, shape, data)) in entries.iter().enumerate() {
		let name = serde_json::to_string(name).map_err(|e| EngineError::BadModel(e.to_string()))?;
		let shape: Vec<String> = shape.iter().map(usize::to_string).collect();
		let end = offset + data.len();
		if i > 0 {
			header.push(',');
		}
		header.push_str(&format!(
			"{name}:{{\"dtype\":\"{dtype}\",\"shape\":[{}],\"data_offsets\":[{offset},{end}]}}",
			shape.join(",")
		));
		offset = end;
	}
	header.push('}');
	while header.len() % 8 != 0 {
		header.push(' ');
	}
	let mut out = Vec::with_capacity(8 + header.len() + offset);
	out.extend_from_slice(&(header.len() as u64).to_le_bytes());
	out.extend_from_slice(header.as_bytes());
	for (_, _, _, _, data) in &entries {
		out.extend_from_slice(data);
	}
	Ok(out)
}

/// The model's raw outputs on `rows` (logits or predictions, one per row).
pub fn predict(
	bytes: &[u8],
	spec: &TrainingSpec,
	rows: &Dataset,
	device: &Device,
) -> Result<Vec<f32>, EngineError> {
	let tensors = candle_core::safetensors::load_buffer(bytes, device)
		.map_err(|e| EngineError::BadModel(e.to_string()))?;
	let get = |name: &str| {
		tensors.get(name).cloned().ok_or_else(|| EngineError::BadModel(format!("missing {name}")))
	};
	let mut params = Vec::new();
	for name in param_names(usize::from(spec.hidden_layers) + 1) {
		params.push(get(&name)?);
	}
	let mean = get("input.mean")?;
	let std = get("input.std")?;
	if mean.dims() != [rows.n_features] {
		return Err(EngineError::BadModel("input width differs from the dataset".into()));
	}
	let x = features_tensor(rows, device)?
		.broadcast_sub(&mean)
		.and_then(|x| x.broadcast_div(&std))
		.map_err(|e| EngineError::BadModel(e.to_string()))?;
	let out = forward(&params, &x, false).map_err(|e| EngineError::BadModel(e.to_string()))?;
	out.to_dtype(DType::F32)
		.and_then(|o| o.to_vec1())
		.map_err(|e| EngineError::BadModel(e.to_string()))
}

/// Evaluates model bytes on `test` (the held-out split): accuracy (classifier) or R² clamped
/// to [0, 1] (regressor), and the mean loss, quantised.
pub fn evaluate(
	bytes: &[u8],
	spec: &TrainingSpec,
	test: &Dataset,
	device: &Device,
) -> Result<QuantisedMetrics, EngineError> {
	let predictions = predict(bytes, spec, test, device)?;
	let out = Tensor::from_slice(&predictions, predictions.len(), device)?;
	let y = Tensor::from_slice(&test.targets, test.rows(), device)?;
	let loss = f64::from(
		loss_of(spec.model, &out, &y)
			.and_then(|l| l.to_scalar::<f32>())
			.map_err(|e| EngineError::BadModel(e.to_string()))?,
	);
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
		ModelKind::TransformerLm | ModelKind::CnnClassifier => return Err(not_tabular()),
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
			min_score: Default::default(),
			parent: None,
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
