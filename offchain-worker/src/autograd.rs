//! The canonical, replayable training of the models written with candle's autograd (the
//! transformer language model, [`crate::lm`], and the image CNN, [`crate::cnn`]): the same
//! schedule rules as the tabular trainer ([`crate::model::Trainer`]), so the proof of learning
//! checks them the same way.
//!
//! - Schedule: batches of [`BATCH_SIZE`] samples (rows of a table, windows of text); each
//!   epoch a permutation of the training samples drawn from the spec's seed
//!   ([`epoch_seed`]), step `k` of the epoch taking the `k`-th batch of it.
//! - Optimiser: AdamW written out on the explicit state ([`adamw_tensors`], the fused MLP
//!   step's one-pass arithmetic), so checkpoints carry the moments.
//! - Model file: safetensors `p0`, `p1`, … (the parameters in canonical order).
//!
//! A model family is a [`Network`]: its parameter shapes, its initialisation from a seed, the
//! mean loss of a batch of training samples and its held-out metrics.

use crate::{
	model::{adamw_tensors, epoch_seed, Arithmetic, TrainState, TrainedModel},
	proof::{encode_checkpoint, Replay, Schedule, TrainingProof},
	rng::SeededRng,
	EngineError,
};
use aicchain_primitives::{proof::BATCH_SIZE, QuantisedMetrics, TrainingSpec};
use candle_core::{Device, Tensor, Var};

/// A model family trained by autograd on one dataset.
pub trait Network {
	/// Shapes of the parameters, in canonical order (an even number: weight/bias pairs).
	fn param_shapes(&self) -> Vec<Vec<usize>>;
	/// The parameters a run of `seed` starts from.
	fn initial_params(&self, seed: u64, device: &Device) -> Result<Vec<Tensor>, EngineError>;
	/// Training samples (rows, windows).
	fn training_samples(&self) -> usize;
	/// Samples of the whole dataset, held-out ones included (what the chain registers as its
	/// rows, and so the step count of the schedule).
	fn dataset_rows(&self) -> usize;
	/// The mean loss of training samples `samples` under `params`, and the variables it was
	/// computed from (their gradients are the step's).
	fn batch_loss(
		&self,
		params: &[Tensor],
		samples: &[u32],
		device: &Device,
	) -> Result<(Tensor, Vec<Var>), EngineError>;
	/// Held-out metrics of a model with `params` (shapes checked).
	fn evaluate(&self, params: &[Tensor], device: &Device)
		-> Result<QuantisedMetrics, EngineError>;
}

/// The canonical training of a spec on a [`Network`].
pub struct AutogradReplay<N> {
	network: N,
	seed: u64,
	lr: f64,
	batches_per_epoch: u64,
	total_steps: u32,
	device: Device,
}

impl<N: Network> AutogradReplay<N> {
	/// The run `spec` asks for on `network` (whose data is the spec's dataset).
	pub fn with_network(
		spec: &TrainingSpec,
		network: N,
		device: &Device,
	) -> Result<Self, EngineError> {
		crate::model::validate(spec)?;
		let rows = u32::try_from(network.training_samples())
			.map_err(|_| EngineError::BadDataset("too large".into()))?;
		if rows == 0 {
			return Err(EngineError::BadDataset("no training samples".into()));
		}
		let batches_per_epoch = u64::from(rows.div_ceil(BATCH_SIZE));
		let total_steps = u32::try_from(batches_per_epoch.saturating_mul(u64::from(spec.epochs)))
			.map_err(|_| EngineError::InvalidSpec("too many steps".into()))?;
		Ok(Self {
			network,
			seed: spec.seed,
			lr: f64::from(spec.learning_rate_millionths) / 1e6,
			batches_per_epoch,
			total_steps,
			device: device.clone(),
		})
	}

	pub fn network(&self) -> &N {
		&self.network
	}

	/// The training samples of global step `step`.
	fn batch(&self, step: u32) -> Vec<u32> {
		let per_epoch = self.batches_per_epoch.max(1);
		let epoch = u64::from(step) / per_epoch;
		let chunk = (u64::from(step) % per_epoch) as usize;
		let rows = self.network.training_samples();
		let mut order: Vec<u32> = (0..rows as u32).collect();
		SeededRng::new(epoch_seed(self.seed, epoch)).shuffle(&mut order);
		let size = BATCH_SIZE as usize;
		order.get(chunk * size..((chunk + 1) * size).min(rows)).unwrap_or_default().to_vec()
	}

	/// Held-out metrics of a model file: the parameters `p0`, `p1`, … of this network's shapes.
	pub fn evaluate_bytes(&self, bytes: &[u8]) -> Result<QuantisedMetrics, EngineError> {
		let params = params_from_file(bytes, &self.network.param_shapes(), &self.device)?;
		self.network.evaluate(&params, &self.device)
	}

	/// Trains the whole schedule, keeping the checkpoints the proof of learning commits to;
	/// the model file, its hash and held-out metrics.
	pub fn train(&self) -> Result<TrainedModel, EngineError> {
		let schedule = Schedule::new(self.total_steps);
		let mut state = self.initial_state()?;
		let mut checkpoints = vec![encode_checkpoint(&state)?];
		let mut losses = Vec::new();
		for index in 1..schedule.checkpoints {
			losses.extend(self.run(&mut state, schedule.step_of(index), Arithmetic::Canonical)?);
			checkpoints.push(encode_checkpoint(&state)?);
		}
		let per_epoch = usize::try_from(self.batches_per_epoch).unwrap_or(usize::MAX).max(1);
		let epoch_losses =
			losses.chunks(per_epoch).map(|c| c.iter().sum::<f32>() / c.len() as f32).collect();
		let bytes = self.model_bytes(&state)?;
		let hash = crate::dataset::blake2_256(&bytes);
		let metrics = self.network.evaluate(&state.params, &self.device)?;
		Ok(TrainedModel {
			bytes,
			hash,
			metrics,
			epoch_losses,
			proof: TrainingProof::new(schedule, checkpoints),
		})
	}
}

impl<N: Network> Replay for AutogradReplay<N> {
	fn total_steps(&self) -> u32 {
		self.total_steps
	}

	fn learning_rate(&self) -> f64 {
		self.lr
	}

	fn device(&self) -> &Device {
		&self.device
	}

	fn param_shapes(&self) -> Vec<Vec<usize>> {
		self.network.param_shapes()
	}

	fn initial_state(&self) -> Result<TrainState, EngineError> {
		let params = self.network.initial_params(self.seed, &self.device)?;
		let zeros =
			params.iter().map(Tensor::zeros_like).collect::<candle_core::Result<Vec<_>>>()?;
		Ok(TrainState { step: 0, params, m: zeros.clone(), v: zeros })
	}

	/// Trains `state` up to step `until` (at most the schedule's last); each step's loss. The
	/// arithmetic is candle's autograd whatever is asked (there is one kernel path here).
	fn run(
		&self,
		state: &mut TrainState,
		until: u32,
		_: Arithmetic,
	) -> Result<Vec<f32>, EngineError> {
		let until = until.min(self.total_steps);
		let mut losses = Vec::new();
		while state.step < until {
			let (loss, vars) =
				self.network.batch_loss(&state.params, &self.batch(state.step), &self.device)?;
			let grads = loss.backward()?;
			let grads = vars
				.iter()
				.map(|v| match grads.get(v.as_tensor()) {
					Some(g) => Ok(g.clone()),
					None => Tensor::zeros_like(v.as_tensor()),
				})
				.collect::<candle_core::Result<Vec<_>>>()?;
			adamw_tensors(state, &grads, self.lr, &self.device)?;
			losses.push(loss.to_scalar::<f32>()?);
		}
		Ok(losses)
	}

	fn model_bytes(&self, state: &TrainState) -> Result<Vec<u8>, EngineError> {
		let tensors =
			state.params.iter().enumerate().map(|(i, p)| (format!("p{i}"), p.clone())).collect();
		crate::model::safetensors_bytes(tensors)
	}
}

/// A verifier's view of a result on a replayable workload: the replay, the dataset's row
/// count and the model file's held-out metrics.
pub trait Workload: Replay {
	fn dataset_rows(&self) -> usize;
	fn evaluate_model(&self, bytes: &[u8]) -> Result<QuantisedMetrics, EngineError>;
}

impl<N: Network> Workload for AutogradReplay<N> {
	fn dataset_rows(&self) -> usize {
		self.network.dataset_rows()
	}

	fn evaluate_model(&self, bytes: &[u8]) -> Result<QuantisedMetrics, EngineError> {
		self.evaluate_bytes(bytes)
	}
}

/// The parameters `p0`, `p1`, … of a model file, each of the shape `shapes` says.
pub fn params_from_file(
	bytes: &[u8],
	shapes: &[Vec<usize>],
	device: &Device,
) -> Result<Vec<Tensor>, EngineError> {
	let tensors = candle_core::safetensors::load_buffer(bytes, device)
		.map_err(|e| EngineError::BadModel(e.to_string()))?;
	if tensors.len() != shapes.len() {
		return Err(EngineError::BadModel(format!(
			"{} tensors, expected {}",
			tensors.len(),
			shapes.len()
		)));
	}
	shapes
		.iter()
		.enumerate()
		.map(|(i, shape)| match tensors.get(&format!("p{i}")) {
			Some(t) if t.dims() == shape.as_slice() => Ok(t.clone()),
			Some(t) => Err(EngineError::BadModel(format!("p{i} is {:?}, not {shape:?}", t.dims()))),
			None => Err(EngineError::BadModel(format!("no p{i}"))),
		})
		.collect()
}

/// Variables of `params` (copies) for one step's autograd.
pub fn vars_of(params: &[Tensor]) -> Result<Vec<Var>, EngineError> {
	Ok(params.iter().map(Var::from_tensor).collect::<candle_core::Result<Vec<_>>>()?)
}
