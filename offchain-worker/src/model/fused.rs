//! The canonical training step on CPU, written out: forward, loss gradient, backward and AdamW
//! on flat `f32` buffers that live for a whole run, with the matmuls in `gemm` (the kernels
//! under candle's CPU matmul) and everything else in single loops.
//!
//! Mathematically it is the step of candle's autograd path ([`super::Arithmetic::Autograd`]);
//! numerically it is its own (the logistic loss's gradient is `σ(z) − y` directly, the bias is
//! added after the product), and it is the one provers and verifiers run on CPU. What it saves
//! against the autograd path: the graph and its topological sort, a fresh tensor for each of
//! AdamW's ten operations per parameter, the batch's host-to-tensor copies, and a thread-count
//! lookup per matmul.
//!
//! Determinism: every sum runs in a fixed order (the batch rows in order for bias gradients;
//! gemm's order over the inner dimension does not depend on the number of threads), so the same
//! state, batch and machine give the same bits.

use super::{
	gemm::{matmul, View},
	trainer::{TrainState, ADAM_BETA1, ADAM_BETA2, ADAM_EPS},
};
use crate::EngineError;
use aicchain_primitives::ModelKind;
use candle_core::{Device, Tensor};
use rayon::prelude::*;

/// Products with fewer multiply-adds run on one thread: on this project's 2-core reference
/// machine, with gemm's two threads on every product, a 3×256 run (64×256×256 products)
/// trained at about two thirds of its one-thread speed and a 4×1024 run faster
/// (`benches/training.rs`, `RAYON_NUM_THREADS=1` against the default). Results do not depend on the choice (gemm splits the output, not the sums).
const PARALLEL_MATMUL_WORK: usize = 64 * 512 * 512;
/// Parameters with fewer elements get AdamW's pass on one thread.
const PARALLEL_ADAMW_ELEMENTS: usize = 1 << 18;

/// Parameters and AdamW moments as flat buffers (`[w0, b0, w1, b1, …]`, row-major weights).
pub(super) struct HostState {
	params: Vec<Vec<f32>>,
	m: Vec<Vec<f32>>,
	v: Vec<Vec<f32>>,
}

impl HostState {
	pub fn from_state(state: &TrainState) -> Result<Self, EngineError> {
		let flat = |ts: &[Tensor]| -> Result<Vec<Vec<f32>>, EngineError> {
			ts.iter().map(|t| Ok(t.flatten_all()?.to_vec1::<f32>()?)).collect()
		};
		Ok(Self { params: flat(&state.params)?, m: flat(&state.m)?, v: flat(&state.v)? })
	}

	/// Writes the buffers back into `state`'s tensors (same shapes).
	pub fn store(self, state: &mut TrainState, device: &Device) -> Result<(), EngineError> {
		let back = |bufs: Vec<Vec<f32>>, like: &[Tensor]| -> Result<Vec<Tensor>, EngineError> {
			bufs.into_iter()
				.zip(like)
				.map(|(b, t)| Ok(Tensor::from_vec(b, t.dims(), device)?))
				.collect()
		};
		state.params = back(self.params, &state.params)?;
		state.m = back(self.m, &state.m)?;
		state.v = back(self.v, &state.v)?;
		Ok(())
	}
}

/// Scratch space of one run: the batch, each layer's output, the gradients.
pub(super) struct Workspace {
	sizes: Vec<(usize, usize)>,
	threads: usize,
	x: Vec<f32>,
	y: Vec<f32>,
	/// Output of each layer (ReLU applied except on the last), `batch × fan_out`.
	outputs: Vec<Vec<f32>>,
	/// Gradient with respect to the current layer's pre-activation, and the one below.
	delta: Vec<f32>,
	below: Vec<f32>,
	grads: Vec<Vec<f32>>,
}

impl Workspace {
	pub fn new(sizes: &[(usize, usize)], batch: usize) -> Self {
		let widest = sizes.iter().map(|&(i, o)| i.max(o)).max().unwrap_or(1);
		Self {
			sizes: sizes.to_vec(),
			threads: candle_core::utils::get_num_threads(),
			x: Vec::with_capacity(batch * sizes.first().map_or(1, |s| s.0)),
			y: Vec::with_capacity(batch),
			outputs: sizes.iter().map(|&(_, o)| vec![0.0; batch * o]).collect(),
			delta: vec![0.0; batch * widest],
			below: vec![0.0; batch * widest],
			grads: sizes.iter().flat_map(|&(i, o)| [vec![0.0; i * o], vec![0.0; o]]).collect(),
		}
	}

	/// One training step on the rows `rows` of `x_all` (`n_features` wide) and `y_all`:
	/// gradients of the mean loss, then AdamW step `state.step + 1` in place. Returns the loss.
	pub fn step(
		&mut self,
		kind: ModelKind,
		state: &mut HostState,
		step: u32,
		lr: f64,
		rows: &[u32],
		(x_all, y_all): (&[f32], &[f32]),
	) -> Result<f32, EngineError> {
		let features = self.sizes.first().map_or(0, |s| s.0);
		let batch = rows.len();
		if batch == 0 || state.params.len() != 2 * self.sizes.len() {
			return Err(EngineError::BadModel("empty batch or parameters of another shape".into()));
		}
		self.x.clear();
		self.y.clear();
		for &row in rows {
			let row = row as usize;
			let features_of = row
				.checked_mul(features)
				.and_then(|s| Some(s..s.checked_add(features)?))
				.and_then(|r| x_all.get(r));
			let (Some(xs), Some(y)) = (features_of, y_all.get(row)) else {
				return Err(EngineError::BadDataset(format!("row {row} is outside the data")));
			};
			self.x.extend_from_slice(xs);
			self.y.push(*y);
		}
		self.forward(&state.params, batch)?;
		let loss = self.output_gradient(kind, batch)?;
		self.backward(&state.params, batch)?;
		adamw(state, &self.grads, step, lr, self.threads > 1);
		Ok(loss)
	}

	fn forward(&mut self, params: &[Vec<f32>], batch: usize) -> Result<(), EngineError> {
		let layers = self.sizes.len();
		for (i, &(fan_in, fan_out)) in self.sizes.iter().enumerate() {
			let (done, rest) = self.outputs.split_at_mut(i);
			let input = match done.last() {
				Some(previous) => previous.as_slice(),
				None => self.x.as_slice(),
			};
			let (Some(out), Some(w), Some(b)) =
				(rest.first_mut(), params.get(2 * i), params.get(2 * i + 1))
			else {
				return Err(EngineError::BadModel("missing layer".into()));
			};
			// out = input · wᵀ (+ b, then ReLU below the last layer)
			matmul(
				out,
				(batch, fan_out, fan_in),
				View::rows(input, fan_in),
				View::transposed(w, fan_in),
				threads_for(self.threads, batch * fan_out * fan_in),
			)?;
			let relu = i + 1 < layers;
			for row in out.chunks_exact_mut(fan_out).take(batch) {
				for (o, bias) in row.iter_mut().zip(b) {
					let z = *o + bias;
					*o = if relu { z.max(0.0) } else { z };
				}
			}
		}
		Ok(())
	}

	/// The loss of the batch and, in `delta`, its gradient with respect to the outputs.
	fn output_gradient(&mut self, kind: ModelKind, batch: usize) -> Result<f32, EngineError> {
		let out = self.outputs.last().ok_or_else(|| EngineError::BadModel("no layers".into()))?;
		let n = batch as f32;
		let mut loss = 0f32;
		for ((d, z), y) in self.delta.iter_mut().zip(out).zip(&self.y) {
			match kind {
				ModelKind::MlpClassifier => {
					// Logistic loss from logits, in its stable form; gradient σ(z) − y.
					loss += z.max(0.0) - z * y + (-z.abs()).exp().ln_1p();
					*d = (1.0 / (1.0 + (-z).exp()) - y) / n;
				},
				ModelKind::MlpRegressor => {
					let e = z - y;
					loss += e * e;
					*d = 2.0 * e / n;
				},
				ModelKind::TransformerLm | ModelKind::CnnClassifier => {
					return Err(super::not_tabular())
				},
			}
		}
		Ok(loss / n)
	}

	fn backward(&mut self, params: &[Vec<f32>], batch: usize) -> Result<(), EngineError> {
		for i in (0..self.sizes.len()).rev() {
			let Some(&(fan_in, fan_out)) = self.sizes.get(i) else { continue };
			let input = match i.checked_sub(1).and_then(|p| self.outputs.get(p)) {
				Some(previous) => previous.as_slice(),
				None => self.x.as_slice(),
			};
			let (w_grad, rest) = self.grads.split_at_mut(2 * i + 1);
			let (Some(w_grad), Some(b_grad), Some(w)) =
				(w_grad.last_mut(), rest.first_mut(), params.get(2 * i))
			else {
				return Err(EngineError::BadModel("missing layer".into()));
			};
			// ∂w = deltaᵀ · input, ∂b = Σ_rows delta
			matmul(
				w_grad,
				(fan_out, fan_in, batch),
				View::transposed(&self.delta, fan_out),
				View::rows(input, fan_in),
				threads_for(self.threads, batch * fan_out * fan_in),
			)?;
			b_grad.fill(0.0);
			for row in self.delta.chunks_exact(fan_out).take(batch) {
				for (g, d) in b_grad.iter_mut().zip(row) {
					*g += d;
				}
			}
			if i == 0 {
				break;
			}
			// The layer below: delta · w, through the ReLU (its output was > 0 where it passed).
			matmul(
				&mut self.below,
				(batch, fan_in, fan_out),
				View::rows(&self.delta, fan_out),
				View::rows(w, fan_in),
				threads_for(self.threads, batch * fan_out * fan_in),
			)?;
			for (g, a) in self.below.iter_mut().zip(input).take(batch * fan_in) {
				if *a <= 0.0 {
					*g = 0.0;
				}
			}
			std::mem::swap(&mut self.delta, &mut self.below);
		}
		Ok(())
	}
}

fn threads_for(threads: usize, work: usize) -> usize {
	if work >= PARALLEL_MATMUL_WORK {
		threads
	} else {
		1
	}
}

/// AdamW step `step + 1` (weight decay 0), element by element in one pass per parameter (split
/// across threads for large ones: each element's update depends on that element alone).
/// One AdamW step on a tensor state (the language model's) with the canonical one-pass
/// arithmetic of the fused step (moments flushed below the smallest normal `f32`, large
/// parameters split across threads): the state goes to host buffers and back.
pub(crate) fn adamw_tensors(
	state: &mut TrainState,
	grads: &[Tensor],
	lr: f64,
	device: &Device,
) -> Result<(), EngineError> {
	if grads.len() != state.params.len()
		|| grads.iter().zip(&state.params).any(|(g, p)| g.dims() != p.dims())
	{
		return Err(EngineError::BadModel("gradients of another shape than the state".into()));
	}
	let mut host = HostState::from_state(state)?;
	let grads = grads
		.iter()
		.map(|g| Ok(g.flatten_all()?.to_vec1::<f32>()?))
		.collect::<Result<Vec<_>, EngineError>>()?;
	adamw(&mut host, &grads, state.step, lr, true);
	host.store(state, device)?;
	state.step = state.step.saturating_add(1);
	Ok(())
}

fn adamw(state: &mut HostState, grads: &[Vec<f32>], step: u32, lr: f64, parallel: bool) {
	let t = i32::try_from(step.saturating_add(1)).unwrap_or(i32::MAX);
	let update = Update {
		scale_m: (1.0 / (1.0 - ADAM_BETA1.powi(t))) as f32,
		scale_v: (1.0 / (1.0 - ADAM_BETA2.powi(t))) as f32,
		b1: ADAM_BETA1 as f32,
		b2: ADAM_BETA2 as f32,
		c1: (1.0 - ADAM_BETA1) as f32,
		c2: (1.0 - ADAM_BETA2) as f32,
		eps: ADAM_EPS as f32,
		lr: lr as f32,
	};
	for (((theta, m), v), g) in
		state.params.iter_mut().zip(&mut state.m).zip(&mut state.v).zip(grads)
	{
		if parallel && theta.len() >= PARALLEL_ADAMW_ELEMENTS {
			let chunk = theta.len().div_ceil(rayon::current_num_threads().max(1));
			theta
				.par_chunks_mut(chunk)
				.zip(m.par_chunks_mut(chunk))
				.zip(v.par_chunks_mut(chunk))
				.zip(g.par_chunks(chunk))
				.for_each(|(((theta, m), v), g)| update.apply(theta, m, v, g));
		} else {
			update.apply(theta, m, v, g);
		}
	}
}

/// Moments below the smallest normal `f32` become 0. A unit whose gradient stays 0 (a ReLU
/// that never fires) has its first moment decay by β₁ each step into subnormal numbers within
/// ~800 steps, and arithmetic on subnormals is tens of times slower on x86: measured, a 3×256
/// run slowed from ~75,000 to ~21,000 samples/s over 60 epochs without this. Part of the
/// canonical arithmetic (provers and verifiers flush alike); it changes no value above 1.2e-38.
fn flush(x: f32) -> f32 {
	if x.abs() < f32::MIN_POSITIVE {
		0.0
	} else {
		x
	}
}

#[derive(Clone, Copy)]
struct Update {
	scale_m: f32,
	scale_v: f32,
	b1: f32,
	b2: f32,
	c1: f32,
	c2: f32,
	eps: f32,
	lr: f32,
}

impl Update {
	fn apply(&self, theta: &mut [f32], m: &mut [f32], v: &mut [f32], g: &[f32]) {
		for (((theta, m), v), g) in theta.iter_mut().zip(m.iter_mut()).zip(v.iter_mut()).zip(g) {
			*m = flush(self.b1 * *m + self.c1 * g);
			*v = flush(self.b2 * *v + self.c2 * (g * g));
			*theta -= self.lr * ((*m * self.scale_m) / ((*v * self.scale_v).sqrt() + self.eps));
		}
	}
}
