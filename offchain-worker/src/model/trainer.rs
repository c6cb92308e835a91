//! The canonical, replayable trainer: explicit state (weights, AdamW moments, step counter) and
//! a batch schedule in which the rows of global step `s` follow from the spec's seed and `s`
//! alone, so that any stretch of training can be re-run from a checkpoint (see
//! [`crate::proof`]).
//!
//! - Initialisation: He-uniform weights drawn in order from `SeededRng::new(spec.seed)`, zero
//!   biases, zero moments, step 0. Bit-exact on any hardware (elementwise RNG output).
//! - Schedule: `batches_per_epoch = ceil(train_rows / 64)`, `total_steps = epochs ×
//!   batches_per_epoch`. Step `s` belongs to epoch `e = s / batches_per_epoch`, whose row
//!   permutation is a Fisher–Yates shuffle of `0..train_rows` by
//!   `SeededRng::new(epoch_seed(spec.seed, e))`; its batch is chunk `s % batches_per_epoch` of
//!   64 rows of that permutation.
//! - Update: AdamW written out (lr from the spec, β = 0.9 / 0.999, ε = 1e-8, no weight decay),
//!   the same arithmetic as `candle_nn::AdamW`, whose moments are private and so unusable for
//!   replay.

use super::{
	forward,
	fused::{HostState, Workspace},
	layer_sizes, loss_of, standardisation, validate, BATCH_SIZE,
};
use crate::{dataset::Dataset, rng::SeededRng, EngineError};
use aicchain_primitives::{ModelKind, TrainingSpec};
use candle_core::{DType, Device, Tensor, Var};

/// AdamW's first-moment decay.
pub const ADAM_BETA1: f64 = 0.9;
/// AdamW's second-moment decay.
pub const ADAM_BETA2: f64 = 0.999;
/// AdamW's denominator guard.
pub const ADAM_EPS: f64 = 1e-8;

/// How a step's arithmetic is carried out. Provers train with [`Arithmetic::Canonical`]; the
/// others are mathematically the same training, numerically not, and stand for the kernel
/// paths of other hardware when measuring the replay tolerance.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Arithmetic {
	/// What provers and verifiers run: on CPU the written-out step of [`super::fused`] (gemm
	/// matmuls, one pass per parameter for AdamW), elsewhere candle's autograd over the whole
	/// batch.
	#[default]
	Canonical,
	/// candle's autograd and tensor ops over the whole batch (the canonical path on GPUs).
	Autograd,
	/// The batch split in two halves whose (weighted) gradients are summed.
	SplitBatch,
	/// Matmuls as broadcast products and sums: no gemm, no FMA, another summation order.
	Elementwise,
	/// The stretch of steps replayed in f64, rounded back to f32 at its end.
	F64,
}

/// Everything training depends on after the spec and the data: the parameters
/// (`layer{i}.weight`, `layer{i}.bias` for each layer, in that order), AdamW's first and second
/// moments (same order and shapes), and the number of steps taken.
#[derive(Clone, Debug)]
pub struct TrainState {
	pub step: u32,
	pub params: Vec<Tensor>,
	pub m: Vec<Tensor>,
	pub v: Vec<Tensor>,
}

/// The training split of a job, standardised, with its schedule.
pub struct Trainer {
	kind: ModelKind,
	seed: u64,
	lr: f64,
	sizes: Vec<(usize, usize)>,
	x: Tensor,
	y: Tensor,
	/// `x` and `y` in host memory, for the fused CPU step.
	x_host: Vec<f32>,
	y_host: Vec<f32>,
	rows: usize,
	mean: Vec<f32>,
	std: Vec<f32>,
	batches_per_epoch: u64,
	total_steps: u32,
	device: Device,
	/// Relay training: the parent model's layers, which step 0 starts from.
	start: Option<Vec<Tensor>>,
}

/// The seed of epoch `epoch`'s row permutation: the first 8 bytes (little endian) of
/// blake2-256(`"aicchain/epoch-order"` ‖ seed (u64 LE) ‖ epoch (u64 LE)).
pub fn epoch_seed(seed: u64, epoch: u64) -> u64 {
	let mut input = b"aicchain/epoch-order".to_vec();
	input.extend_from_slice(&seed.to_le_bytes());
	input.extend_from_slice(&epoch.to_le_bytes());
	let hash = crate::dataset::blake2_256(&input);
	let mut first = [0u8; 8];
	first.copy_from_slice(&hash[..8]);
	u64::from_le_bytes(first)
}

impl Trainer {
	/// The canonical trainer of `spec` on `data`: validates the spec, takes the training split
	/// and standardises it with its own statistics.
	pub fn new(spec: &TrainingSpec, data: &Dataset, device: &Device) -> Result<Self, EngineError> {
		validate(spec)?;
		if matches!(spec.model, ModelKind::TransformerLm | ModelKind::CnnClassifier) {
			return Err(super::not_tabular());
		}
		if spec.model == ModelKind::MlpClassifier
			&& data.targets.iter().any(|t| *t != 0.0 && *t != 1.0)
		{
			return Err(EngineError::InvalidSpec("a classifier needs 0/1 targets".into()));
		}
		let (train, _) = data.split();
		let (mean, std) = standardisation(&train);
		Self::with_rows(spec, &train, mean, std, device)
	}

	/// A trainer on arbitrary rows and standardisation. Not what a job trains on: the
	/// benchmarks and tests build dishonest provers with it.
	pub fn with_rows(
		spec: &TrainingSpec,
		train: &Dataset,
		mean: Vec<f32>,
		std: Vec<f32>,
		device: &Device,
	) -> Result<Self, EngineError> {
		validate(spec)?;
		let rows = train.rows();
		if rows == 0 || train.features.len() != rows * train.n_features {
			return Err(EngineError::BadDataset("no usable training rows".into()));
		}
		if mean.len() != train.n_features || std.len() != train.n_features {
			return Err(EngineError::BadDataset("standardisation width differs".into()));
		}
		let batches_per_epoch = rows.div_ceil(BATCH_SIZE) as u64;
		let total_steps = u64::from(spec.epochs)
			.checked_mul(batches_per_epoch)
			.and_then(|s| u32::try_from(s).ok())
			.ok_or_else(|| EngineError::InvalidSpec("more than 2^32 training steps".into()))?;
		let mean_t = Tensor::from_slice(&mean, train.n_features, device)?;
		let std_t = Tensor::from_slice(&std, train.n_features, device)?;
		let x = Tensor::from_slice(&train.features, (rows, train.n_features), device)?
			.broadcast_sub(&mean_t)?
			.broadcast_div(&std_t)?;
		let y = Tensor::from_slice(&train.targets, rows, device)?;
		let x_host = x.flatten_all()?.to_vec1::<f32>()?;
		Ok(Self {
			kind: spec.model,
			seed: spec.seed,
			lr: f64::from(spec.learning_rate_millionths) / 1e6,
			sizes: layer_sizes(spec, train.n_features),
			x,
			y,
			x_host,
			y_host: train.targets.clone(),
			rows,
			mean,
			std,
			batches_per_epoch,
			total_steps,
			device: device.clone(),
			start: None,
		})
	}

	/// Relay training: step 0 holds the layers of `model_file` (the parent version's model,
	/// which must have this trainer's layer shapes) instead of the seed's initialisation; the
	/// moments start at zero. The parent's input standardisation is not used: the model file
	/// this run writes holds its own training split's. `None`: the trainer as it is.
	pub fn starting_from(mut self, model_file: Option<&[u8]>) -> Result<Self, EngineError> {
		let Some(model_file) = model_file else { return Ok(self) };
		let tensors = candle_core::safetensors::load_buffer(model_file, &self.device)
			.map_err(|e| EngineError::BadModel(format!("parent model: {e}")))?;
		let mut params = Vec::with_capacity(2 * self.sizes.len());
		for (name, (fan_in, fan_out)) in
			param_names(self.sizes.len()).into_iter().zip(self.sizes.iter().flat_map(|s| [*s, *s]))
		{
			let wanted: Vec<usize> =
				if name.ends_with(".weight") { vec![fan_out, fan_in] } else { vec![fan_out] };
			let tensor = tensors
				.get(&name)
				.filter(|t| t.dims() == wanted.as_slice() && t.dtype() == DType::F32)
				.ok_or_else(|| {
					EngineError::BadModel(format!(
						"the parent model has no {name} of shape {wanted:?}: it does not fit"
					))
				})?;
			params.push(tensor.clone());
		}
		if tensors.keys().filter(|k| k.starts_with("layer")).count() != params.len() {
			return Err(EngineError::BadModel("the parent model has other layers".into()));
		}
		self.start = Some(params);
		Ok(self)
	}

	/// `(fan_in, fan_out)` of each layer; weights are `fan_out × fan_in`.
	pub fn layer_sizes(&self) -> &[(usize, usize)] {
		&self.sizes
	}

	/// The spec's learning rate.
	pub fn learning_rate(&self) -> f64 {
		self.lr
	}

	pub fn total_steps(&self) -> u32 {
		self.total_steps
	}

	pub fn batches_per_epoch(&self) -> u64 {
		self.batches_per_epoch
	}

	pub fn device(&self) -> &Device {
		&self.device
	}

	/// The training split's column means and standard deviations (stored in the model).
	pub fn standardisation(&self) -> (&[f32], &[f32]) {
		(&self.mean, &self.std)
	}

	/// Step 0: He-uniform weights from the seed, zero biases and moments (relay training: the
	/// parent's layers, zero moments).
	pub fn initial_state(&self) -> Result<TrainState, EngineError> {
		if let Some(start) = &self.start {
			let zeros =
				start.iter().map(Tensor::zeros_like).collect::<candle_core::Result<Vec<_>>>()?;
			return Ok(TrainState { step: 0, params: start.clone(), m: zeros.clone(), v: zeros });
		}
		let mut rng = SeededRng::new(self.seed);
		let mut params = Vec::with_capacity(2 * self.sizes.len());
		for &(fan_in, fan_out) in &self.sizes {
			let bound = (6.0 / fan_in as f64).sqrt();
			let w: Vec<f32> =
				(0..fan_in * fan_out).map(|_| rng.range(-bound, bound) as f32).collect();
			params.push(Tensor::from_vec(w, (fan_out, fan_in), &self.device)?);
			params.push(Tensor::zeros(fan_out, DType::F32, &self.device)?);
		}
		let zeros =
			params.iter().map(Tensor::zeros_like).collect::<candle_core::Result<Vec<_>>>()?;
		Ok(TrainState { step: 0, params, m: zeros.clone(), v: zeros })
	}

	/// The row permutation of epoch `epoch`.
	pub fn epoch_order(&self, epoch: u64) -> Vec<u32> {
		let mut order: Vec<u32> = (0..self.rows as u32).collect();
		SeededRng::new(epoch_seed(self.seed, epoch)).shuffle(&mut order);
		order
	}

	/// The training rows of global step `step`, computed from the step alone.
	pub fn batch(&self, step: u32) -> Vec<u32> {
		self.rows_of(&mut None, step).to_vec()
	}

	/// Trains `state` up to step `until` (at most the schedule's last), returning each step's
	/// loss.
	pub fn run(
		&self,
		state: &mut TrainState,
		until: u32,
		arithmetic: Arithmetic,
	) -> Result<Vec<f32>, EngineError> {
		if until > self.total_steps || state.step > until {
			return Err(EngineError::InvalidSpec(format!(
				"cannot train from step {} to {until} of {}",
				state.step, self.total_steps
			)));
		}
		if arithmetic == Arithmetic::Canonical && self.device.is_cpu() {
			return self.run_fused(state, until);
		}
		let (x, y) = if arithmetic == Arithmetic::F64 {
			*state = cast(state, DType::F64)?;
			(self.x.to_dtype(DType::F64)?, self.y.to_dtype(DType::F64)?)
		} else {
			(self.x.clone(), self.y.clone())
		};
		let mut losses = Vec::with_capacity((until - state.step) as usize);
		let mut order = None;
		while state.step < until {
			let rows = self.rows_of(&mut order, state.step);
			let idx = Tensor::from_slice(rows, rows.len(), &self.device)?;
			let (grads, loss) = self.gradients(
				&state.params,
				&x.index_select(&idx, 0)?,
				&y.index_select(&idx, 0)?,
				arithmetic,
			)?;
			adamw(state, &grads, self.lr)?;
			losses.push(loss);
		}
		if arithmetic == Arithmetic::F64 {
			*state = cast(state, DType::F32)?;
		}
		Ok(losses)
	}

	/// [`Self::run`] on CPU with the canonical arithmetic: the fused step on host buffers.
	fn run_fused(&self, state: &mut TrainState, until: u32) -> Result<Vec<f32>, EngineError> {
		let mut host = HostState::from_state(state)?;
		let mut workspace = Workspace::new(&self.sizes, BATCH_SIZE);
		let mut losses = Vec::with_capacity((until - state.step) as usize);
		let mut order = None;
		let mut step = state.step;
		while step < until {
			let rows = self.rows_of(&mut order, step);
			let data = (self.x_host.as_slice(), self.y_host.as_slice());
			losses.push(workspace.step(self.kind, &mut host, step, self.lr, rows, data)?);
			step += 1;
		}
		host.store(state, &self.device)?;
		state.step = until;
		Ok(losses)
	}

	/// The rows of step `step`, with the permutation of its epoch kept in `order` between
	/// calls.
	fn rows_of<'a>(&self, order: &'a mut Option<(u64, Vec<u32>)>, step: u32) -> &'a [u32] {
		let step = u64::from(step);
		let per_epoch = self.batches_per_epoch.max(1);
		let epoch = step / per_epoch;
		if order.as_ref().map(|(e, _)| *e) != Some(epoch) {
			*order = Some((epoch, self.epoch_order(epoch)));
		}
		let order = order.as_ref().map(|(_, o)| o.as_slice()).unwrap_or_default();
		let chunk = (step % per_epoch) as usize;
		order.chunks(BATCH_SIZE).nth(chunk).unwrap_or_default()
	}

	/// Gradients of the mean batch loss with respect to `params`, and that loss.
	fn gradients(
		&self,
		params: &[Tensor],
		x: &Tensor,
		y: &Tensor,
		arithmetic: Arithmetic,
	) -> Result<(Vec<Tensor>, f32), EngineError> {
		let elementwise = arithmetic == Arithmetic::Elementwise;
		let n = x.dim(0)?;
		let halves = if arithmetic == Arithmetic::SplitBatch && n >= 2 {
			vec![(0, n / 2), (n / 2, n - n / 2)]
		} else {
			vec![(0, n)]
		};
		let mut total: Option<Vec<Tensor>> = None;
		let mut loss_sum = 0f32;
		for (start, len) in halves {
			let vars =
				params.iter().map(Var::from_tensor).collect::<candle_core::Result<Vec<_>>>()?;
			let current: Vec<Tensor> = vars.iter().map(|v| v.as_tensor().clone()).collect();
			let (xs, ys) = (x.narrow(0, start, len)?, y.narrow(0, start, len)?);
			let out = forward(&current, &xs, elementwise)?;
			let mut loss = loss_of(self.kind, &out, &ys)?;
			if len != n {
				loss = loss.affine(len as f64 / n as f64, 0.0)?;
			}
			loss_sum += loss.to_dtype(DType::F32)?.to_scalar::<f32>()?;
			let store = loss.backward()?;
			let grads = current
				.iter()
				.map(|p| {
					store
						.get(p)
						.map(Tensor::detach)
						.ok_or_else(|| EngineError::BadModel("a parameter has no gradient".into()))
				})
				.collect::<Result<Vec<_>, _>>()?;
			total = Some(match total {
				None => grads,
				Some(sum) => sum
					.iter()
					.zip(&grads)
					.map(|(a, b)| a + b)
					.collect::<candle_core::Result<Vec<_>>>()?,
			});
		}
		Ok((total.unwrap_or_default(), loss_sum))
	}

	/// The model file of a state: its layers and the input standardisation, as safetensors.
	pub fn model_bytes(&self, state: &TrainState) -> Result<Vec<u8>, EngineError> {
		let mut tensors: Vec<(String, Tensor)> =
			param_names(self.sizes.len()).into_iter().zip(state.params.iter().cloned()).collect();
		tensors.push((
			"input.mean".into(),
			Tensor::from_slice(&self.mean, self.mean.len(), &self.device)?,
		));
		tensors.push((
			"input.std".into(),
			Tensor::from_slice(&self.std, self.std.len(), &self.device)?,
		));
		super::safetensors_bytes(tensors)
	}
}

/// `layer{i}.weight`, `layer{i}.bias` for each of `layers` layers: the order of
/// [`TrainState::params`].
pub fn param_names(layers: usize) -> Vec<String> {
	(0..layers).flat_map(|i| [format!("layer{i}.weight"), format!("layer{i}.bias")]).collect()
}

fn cast(state: &TrainState, dtype: DType) -> candle_core::Result<TrainState> {
	let all = |ts: &[Tensor]| {
		ts.iter().map(|t| t.to_dtype(dtype)).collect::<candle_core::Result<Vec<_>>>()
	};
	Ok(TrainState {
		step: state.step,
		params: all(&state.params)?,
		m: all(&state.m)?,
		v: all(&state.v)?,
	})
}

/// One AdamW step (the arithmetic of `candle_nn::AdamW::step`, weight decay 0).
fn adamw(state: &mut TrainState, grads: &[Tensor], lr: f64) -> Result<(), EngineError> {
	if grads.len() != state.params.len()
		|| state.m.len() != state.params.len()
		|| state.v.len() != state.params.len()
	{
		return Err(EngineError::BadModel("state and gradients differ in length".into()));
	}
	let t = state.step.saturating_add(1);
	let exponent = i32::try_from(t).unwrap_or(i32::MAX);
	let scale_m = 1.0 / (1.0 - ADAM_BETA1.powi(exponent));
	let scale_v = 1.0 / (1.0 - ADAM_BETA2.powi(exponent));
	for (((theta, m), v), g) in
		state.params.iter_mut().zip(state.m.iter_mut()).zip(state.v.iter_mut()).zip(grads)
	{
		let next_m = ((&*m * ADAM_BETA1)? + (g * (1.0 - ADAM_BETA1))?)?;
		let next_v = ((&*v * ADAM_BETA2)? + (g.sqr()? * (1.0 - ADAM_BETA2))?)?;
		let m_hat = (&next_m * scale_m)?;
		let v_hat = (&next_v * scale_v)?;
		let adjusted = (m_hat / (v_hat.sqrt()? + ADAM_EPS)?)?;
		*theta = (&*theta - (adjusted * lr)?)?;
		*m = next_m;
		*v = next_v;
	}
	state.step = t;
	Ok(())
}
