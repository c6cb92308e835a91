//! A small convolutional network for image classification, as a market workload
//! ([`aicchain_primitives::ModelKind::CnnClassifier`]).
//!
//! - Data: a table ([`Dataset`]) whose features are a square grayscale image, `side × side`
//!   pixels row by row, and whose target is a class in `0..`[`CNN_CLASSES`]. Rows split 80/20
//!   like any table; pixels are standardised by the training pixels' mean and deviation.
//! - Model: the spec's `hidden_layers` blocks of a 3×3 convolution (padding 1) with
//!   `hidden_units` channels, ReLU and 2×2 max pooling; then the largest value of each channel
//!   over the positions (global max pooling) and a linear layer to the classes. Initialisation from the spec's seed:
//!   convolutions uniform in ±√(6 / fan-in), the last layer in ±1/√channels, biases 0.
//! - Training: [`crate::autograd`]'s schedule and AdamW, cross-entropy loss; held-out
//!   accuracy is the score.

use crate::{
	autograd::{vars_of, AutogradReplay, Network},
	dataset::Dataset,
	lm::{loss::cross_entropy, uniform},
	model::{quantise_fraction, TrainedModel},
	rng::SeededRng,
	EngineError,
};
use aicchain_primitives::{limits, QuantisedMetrics, TrainingSpec};
use candle_core::{Device, Tensor, Var, D};

/// Classes an image may have (the chain's: the last layer always has this many outputs).
pub const CNN_CLASSES: usize = limits::CNN_CLASSES as usize;

/// A CNN's shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CnnShape {
	/// Pixels per side of the (square) image.
	pub side: usize,
	/// Channels of every convolution.
	pub channels: usize,
	/// Convolution blocks.
	pub layers: usize,
}

impl CnnShape {
	/// The shape `spec` asks for on images of `features` pixels; an error when they are not a
	/// square the blocks can pool (the chain's check, [`limits::image_side`]).
	pub fn of(spec: &TrainingSpec, features: usize) -> Result<Self, EngineError> {
		let columns = u32::try_from(features.saturating_add(1)).unwrap_or(u32::MAX);
		let side = limits::image_side(columns, spec.hidden_layers).ok_or_else(|| {
			EngineError::InvalidSpec(format!(
				"a CNN of {} blocks needs square images of 2^{} to {} pixels a side, not {features} pixels",
				spec.hidden_layers,
				spec.hidden_layers,
				limits::MAX_IMAGE_SIDE
			))
		})?;
		Ok(Self {
			side: side as usize,
			channels: spec.hidden_units as usize,
			layers: usize::from(spec.hidden_layers),
		})
	}

	/// Parameter shapes in canonical order: each block's kernel `[channels, in, 3, 3]` and
	/// bias, then the last layer's weight `[channels, classes]` and bias.
	pub fn param_shapes(&self) -> Vec<Vec<usize>> {
		let c = self.channels;
		let mut shapes = Vec::with_capacity(2 * self.layers + 2);
		for layer in 0..self.layers {
			let inputs = if layer == 0 { 1 } else { c };
			shapes.extend([vec![c, inputs, 3, 3], vec![c]]);
		}
		shapes.extend([vec![c, CNN_CLASSES], vec![CNN_CLASSES]]);
		shapes
	}

	pub fn parameters(&self) -> usize {
		self.param_shapes().iter().map(|s| s.iter().product::<usize>()).sum()
	}

	/// Logits `[batch, classes]` of images `[batch, 1, side, side]`.
	pub fn forward(&self, params: &[Tensor], images: &Tensor) -> Result<Tensor, EngineError> {
		let p = |i: usize| {
			params.get(i).ok_or_else(|| EngineError::BadModel(format!("no parameter {i}")))
		};
		let mut x = images.clone();
		for layer in 0..self.layers {
			let bias = p(2 * layer + 1)?.reshape((1, self.channels, 1, 1))?;
			x = x.conv2d(p(2 * layer)?, 1, 1, 1, 1)?.broadcast_add(&bias)?.relu()?.max_pool2d(2)?;
		}
		let pooled = x.flatten_from(2)?.max(2)?;
		let head = 2 * self.layers;
		Ok(pooled.matmul(p(head)?)?.broadcast_add(p(head + 1)?)?)
	}
}

/// A labelled image set, standardised, split into training and held-out images.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageData {
	pub side: usize,
	pub train: Vec<f32>,
	pub train_labels: Vec<u32>,
	pub held_out: Vec<f32>,
	pub held_out_labels: Vec<u32>,
	/// Rows of the whole table.
	pub rows: usize,
}

impl ImageData {
	/// The images of `table` for `shape` (its side), split as every table is.
	pub fn new(table: &Dataset, shape: &CnnShape) -> Result<Self, EngineError> {
		if table.n_features != shape.side * shape.side {
			return Err(EngineError::BadDataset(format!(
				"{} pixels, not {}²",
				table.n_features, shape.side
			)));
		}
		let labels = |targets: &[f32]| -> Result<Vec<u32>, EngineError> {
			targets
				.iter()
				.map(|t| {
					let class = t.round();
					if class != *t || !(0.0..CNN_CLASSES as f32).contains(&class) {
						return Err(EngineError::BadDataset(format!(
							"label {t}: classes are whole numbers 0..{CNN_CLASSES}"
						)));
					}
					Ok(class as u32)
				})
				.collect()
		};
		let (train, held_out) = table.split();
		let count = train.features.len().max(1) as f64;
		let mean = train.features.iter().map(|x| f64::from(*x)).sum::<f64>() / count;
		let variance =
			train.features.iter().map(|x| (f64::from(*x) - mean).powi(2)).sum::<f64>() / count;
		let scale = if variance > 1e-12 { 1.0 / variance.sqrt() } else { 1.0 };
		let standardise =
			|xs: &[f32]| xs.iter().map(|x| ((f64::from(*x) - mean) * scale) as f32).collect();
		Ok(Self {
			side: shape.side,
			train: standardise(&train.features),
			train_labels: labels(&train.targets)?,
			held_out: standardise(&held_out.features),
			held_out_labels: labels(&held_out.targets)?,
			rows: table.rows(),
		})
	}

	/// Images `rows` of `pixels` as `[rows, 1, side, side]` with their labels.
	fn batch(
		&self,
		pixels: &[f32],
		labels: &[u32],
		rows: impl Iterator<Item = usize>,
		device: &Device,
	) -> Result<(Tensor, Tensor), EngineError> {
		let area = self.side * self.side;
		let (mut x, mut y) = (Vec::new(), Vec::new());
		for row in rows {
			x.extend_from_slice(pixels.get(row * area..(row + 1) * area).unwrap_or_default());
			y.push(labels.get(row).copied().unwrap_or_default());
		}
		let n = y.len();
		Ok((
			Tensor::from_vec(x, (n, 1, self.side, self.side), device)?,
			Tensor::from_vec(y, n, device)?,
		))
	}
}

/// A CNN on an image set, as [`crate::autograd`] trains it.
pub struct CnnNet {
	shape: CnnShape,
	data: ImageData,
}

impl Network for CnnNet {
	fn param_shapes(&self) -> Vec<Vec<usize>> {
		self.shape.param_shapes()
	}

	fn initial_params(&self, seed: u64, device: &Device) -> Result<Vec<Tensor>, EngineError> {
		let mut rng = SeededRng::new(seed);
		self.param_shapes()
			.iter()
			.enumerate()
			.map(|(i, dims)| {
				let fan_in: usize = dims.iter().skip(1).product();
				match (i % 2, dims.len()) {
					(0, 4) => uniform(&mut rng, dims, (6.0 / fan_in as f64).sqrt(), device),
					(0, _) => {
						uniform(&mut rng, dims, 1.0 / (self.shape.channels as f64).sqrt(), device)
					},
					_ => Ok(Tensor::zeros(dims.as_slice(), candle_core::DType::F32, device)?),
				}
			})
			.collect()
	}

	fn training_samples(&self) -> usize {
		self.data.train_labels.len()
	}

	fn dataset_rows(&self) -> usize {
		self.data.rows
	}

	fn batch_loss(
		&self,
		params: &[Tensor],
		samples: &[u32],
		device: &Device,
	) -> Result<(Tensor, Vec<Var>), EngineError> {
		let rows = samples.iter().map(|r| *r as usize);
		let (x, y) = self.data.batch(&self.data.train, &self.data.train_labels, rows, device)?;
		let vars = vars_of(params)?;
		let tensors: Vec<Tensor> = vars.iter().map(|v| v.as_tensor().clone()).collect();
		let loss = cross_entropy(&self.shape.forward(&tensors, &x)?, &y)?;
		Ok((loss, vars))
	}

	/// Held-out metrics: score = accuracy, loss = mean cross-entropy in millionths of a nat,
	/// samples = images.
	fn evaluate(
		&self,
		params: &[Tensor],
		device: &Device,
	) -> Result<QuantisedMetrics, EngineError> {
		let data = &self.data;
		let n = data.held_out_labels.len();
		if n == 0 {
			return Err(EngineError::BadDataset("no held-out images".into()));
		}
		let (mut nats, mut right) = (0.0f64, 0usize);
		for start in (0..n).step_by(256) {
			let rows = start..(start + 256).min(n);
			let count = rows.len();
			let (x, y) = data.batch(&data.held_out, &data.held_out_labels, rows, device)?;
			let logits = self.shape.forward(params, &x)?;
			nats += f64::from(cross_entropy(&logits, &y)?.to_scalar::<f32>()?) * count as f64;
			let predicted = logits.argmax(D::Minus1)?.to_vec1::<u32>()?;
			right += predicted.iter().zip(y.to_vec1::<u32>()?).filter(|(p, w)| **p == *w).count();
		}
		let loss = nats / n as f64;
		if !loss.is_finite() {
			return Err(EngineError::BadModel("held-out loss is not finite".into()));
		}
		Ok(QuantisedMetrics {
			score: quantise_fraction(right as f64 / n as f64),
			loss_millionths: (loss.max(0.0) * 1e6).round() as u64,
			eval_samples: u32::try_from(n).unwrap_or(u32::MAX),
		})
	}
}

/// The canonical training of a CNN spec on an image table.
pub type CnnReplay = AutogradReplay<CnnNet>;

impl AutogradReplay<CnnNet> {
	pub fn new(spec: &TrainingSpec, table: &Dataset, device: &Device) -> Result<Self, EngineError> {
		let shape = CnnShape::of(spec, table.n_features)?;
		let data = ImageData::new(table, &shape)?;
		Self::with_network(spec, CnnNet { shape, data }, device)
	}
}

/// Trains `spec` on `table` canonically (see [`crate::autograd`]).
pub fn train(
	spec: &TrainingSpec,
	table: &Dataset,
	device: &Device,
) -> Result<TrainedModel, EngineError> {
	CnnReplay::new(spec, table, device)?.train()
}

#[cfg(test)]
mod tests;
