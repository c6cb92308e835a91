//! A decoder-only transformer language model in candle: token and learned position embeddings,
//! `layers` pre-norm blocks (causal multi-head self-attention, then a 4× GELU MLP, each around
//! a residual), a final layer norm and a projection to the vocabulary. Trained with next-token
//! cross-entropy and AdamW on random windows of the training tokens; evaluated by held-out
//! perplexity (exp of the mean next-token loss) and next-token accuracy.
//!
//! The seed's shape is the default ([`LmShape::SEED`]: 10k vocabulary, 256 dimensions, 4
//! heads, 2 layers), with a 64-token context. Every operation is candle's autograd (layer norm
//! and softmax are written with tensor ops: candle-nn's fused ones have no backward pass).
//!
//! Not yet a market workload: jobs name [`aicchain_primitives::ModelKind`]s whose training the
//! proof of learning can replay, and this model is not among them yet.

pub mod corpus;
pub(crate) mod loss;
pub mod replay;

use crate::{rng::SeededRng, EngineError};
use candle_core::{DType, Device, Tensor, Var, D};
use candle_nn::{Optimizer, ParamsAdamW};

/// A transformer's shape and the context it reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LmShape {
	pub vocab: usize,
	pub dim: usize,
	pub heads: usize,
	pub layers: usize,
	pub context: usize,
}

impl LmShape {
	/// The seed's transformer (HydraAI): 10k-token vocabulary, 256-dimensional embeddings, 4
	/// heads, 2 layers; 64 tokens of context.
	pub const SEED: Self = Self { vocab: 10_000, dim: 256, heads: 4, layers: 2, context: 64 };

	fn check(&self) -> Result<(), EngineError> {
		let bad = |what: &str| Err(EngineError::InvalidSpec(format!("transformer: {what}")));
		if self.vocab < 2 || self.dim == 0 || self.layers == 0 || self.context < 2 {
			return bad("vocabulary ≥ 2, dimensions, layers ≥ 1 and context ≥ 2");
		}
		if self.heads == 0 || !self.dim.is_multiple_of(self.heads) {
			return bad("the dimensions must split evenly into the heads");
		}
		Ok(())
	}

	/// Parameters of the model.
	pub fn parameters(&self) -> usize {
		self.param_shapes().iter().map(|s| s.iter().product::<usize>()).sum()
	}

	/// The shapes of the parameters in canonical order: token embeddings `[vocab, dim]`,
	/// position embeddings `[context, dim]`, each block's twelve (see [`PER_BLOCK`]), the final
	/// norm's gain and bias, the projection to the vocabulary `[dim, vocab]` and its bias. Always
	/// an even number, as the checkpoint format's weight/bias pairs want.
	pub fn param_shapes(&self) -> Vec<Vec<usize>> {
		let (v, d, c) = (self.vocab, self.dim, self.context);
		let mut shapes = vec![vec![v, d], vec![c, d]];
		for _ in 0..self.layers {
			shapes.extend([
				vec![d],
				vec![d],
				vec![d, 3 * d],
				vec![3 * d],
				vec![d, d],
				vec![d],
				vec![d],
				vec![d],
				vec![d, 4 * d],
				vec![4 * d],
				vec![4 * d, d],
				vec![d],
			]);
		}
		shapes.extend([vec![d], vec![d], vec![d, v], vec![v]]);
		shapes
	}
}

/// The model: its shape and parameters (candle `Var`s, trained in place), in the canonical
/// order of [`LmShape::param_shapes`].
pub struct TransformerLm {
	shape: LmShape,
	params: Vec<Var>,
	mask: Tensor,
	device: Device,
}

/// Parameters of one block, in order: norm 1 gain and bias, attention's `qkv` weight and bias,
/// its output projection's weight and bias, norm 2 gain and bias, the MLP's up and down
/// projections' weights and biases.
const PER_BLOCK: usize = 12;

/// Uniform in ±`bound`, drawn in order from `rng` (the same numbers on every machine).
pub(crate) fn uniform(
	rng: &mut SeededRng,
	shape: &[usize],
	bound: f64,
	device: &Device,
) -> Result<Tensor, EngineError> {
	let values: Vec<f32> =
		(0..shape.iter().product::<usize>()).map(|_| rng.range(-bound, bound) as f32).collect();
	Ok(Tensor::from_vec(values, shape, device)?)
}

/// `x · w + b` for `x` of shape `[batch, t, in]`, `w` of shape `[in, out]` (stored that way
/// round so that the product reads it contiguously): one 2-D product over all rows (a
/// broadcast batched product would give the weights' gradient a copy per batch element, then
/// sum them).
fn linear(x: &Tensor, w: &Var, b: &Var) -> candle_core::Result<Tensor> {
	let (batch, t, inputs) = x.dims3()?;
	let out = w.as_tensor().dim(1)?;
	x.reshape((batch * t, inputs))?
		.matmul(w.as_tensor())?
		.broadcast_add(b.as_tensor())?
		.reshape((batch, t, out))
}

/// Layer norm over the last dimension, with a backward pass.
fn layer_norm(x: &Tensor, gain: &Var, bias: &Var) -> candle_core::Result<Tensor> {
	let dim = x.dim(D::Minus1)? as f64;
	let centred = x.broadcast_sub(&(x.sum_keepdim(D::Minus1)? / dim)?)?;
	let variance = (centred.sqr()?.sum_keepdim(D::Minus1)? / dim)?;
	centred
		.broadcast_div(&(variance + 1e-5)?.sqrt()?)?
		.broadcast_mul(gain.as_tensor())?
		.broadcast_add(bias.as_tensor())
}

impl TransformerLm {
	/// A model of `shape` initialised from `seed`, drawn in canonical order: embeddings uniform
	/// in ±0.1, weights in ±1/√fan-in (each block's output projections scaled down by
	/// √(2·layers)), biases 0, norms' gains 1.
	pub fn new(shape: LmShape, seed: u64, device: &Device) -> Result<Self, EngineError> {
		shape.check()?;
		let mut rng = SeededRng::new(seed);
		let d = shape.dim;
		let inv = |fan_in: usize| 1.0 / (fan_in as f64).sqrt();
		let residual = inv(d) / (2.0 * shape.layers as f64).sqrt();
		let shapes = shape.param_shapes();
		let last_block = 2 + PER_BLOCK * shape.layers;
		let mut params = Vec::with_capacity(shapes.len());
		for (i, dims) in shapes.iter().enumerate() {
			let bound = match i {
				0 | 1 => Some(0.1),
				i if i < last_block => match (i - 2) % PER_BLOCK {
					2 | 8 => Some(inv(d)),
					4 => Some(residual),
					10 => Some(residual / 2.0),
					_ => None,
				},
				i if i == last_block + 2 => Some(inv(d)),
				_ => None,
			};
			let tensor = match bound {
				Some(bound) => uniform(&mut rng, dims, bound, device)?,
				// Norm gains (first of each norm pair) are 1, every bias 0.
				None => {
					let gain = i >= 2
						&& ((i < last_block && ((i - 2) % PER_BLOCK).is_multiple_of(6))
							|| i == last_block);
					Tensor::full(if gain { 1f32 } else { 0f32 }, dims.as_slice(), device)?
				},
			};
			params.push(tensor);
		}
		Self::from_params(shape, &params)
	}

	/// The model with `params` (copied) in canonical order; their shapes must be `shape`'s.
	pub fn from_params(shape: LmShape, params: &[Tensor]) -> Result<Self, EngineError> {
		shape.check()?;
		let shapes = shape.param_shapes();
		if params.len() != shapes.len()
			|| params.iter().zip(&shapes).any(|(p, s)| p.dims() != s.as_slice())
		{
			return Err(EngineError::BadModel("parameters of another shape".into()));
		}
		let device = params.first().map(|p| p.device().clone()).unwrap_or(Device::Cpu);
		let params =
			params.iter().map(Var::from_tensor).collect::<candle_core::Result<Vec<_>>>()?;
		// 0 where a position may attend (itself and earlier), −∞ above the diagonal.
		let causal: Vec<f32> = (0..shape.context * shape.context)
			.map(|i| if i % shape.context > i / shape.context { f32::NEG_INFINITY } else { 0.0 })
			.collect();
		let mask = Tensor::from_vec(causal, (shape.context, shape.context), &device)?;
		Ok(Self { shape, params, mask, device })
	}

	pub fn shape(&self) -> LmShape {
		self.shape
	}

	/// Every parameter, in canonical order.
	pub fn vars(&self) -> Vec<Var> {
		self.params.clone()
	}

	fn param(&self, i: usize) -> candle_core::Result<&Var> {
		self.params.get(i).ok_or_else(|| candle_core::Error::Msg(format!("no parameter {i}")))
	}

	/// Next-token logits `[batch, t, vocab]` for token ids `[batch, t]` (`t ≤ context`).
	pub fn forward(&self, ids: &Tensor) -> Result<Tensor, EngineError> {
		let (batch, t) = ids.dims2()?;
		if t > self.shape.context || t == 0 {
			return Err(EngineError::InvalidSpec(format!(
				"{t} tokens for a context of {}",
				self.shape.context
			)));
		}
		let (d, heads) = (self.shape.dim, self.shape.heads);
		let head_dim = d / heads;
		let p = |i: usize| self.param(i);
		let embedded = p(0)?.as_tensor().embedding(&ids.flatten_all()?)?.reshape((batch, t, d))?;
		let mut x = embedded.broadcast_add(&p(1)?.as_tensor().narrow(0, 0, t)?)?;
		let mask = self.mask.narrow(0, 0, t)?.narrow(1, 0, t)?;
		let scale = 1.0 / (head_dim as f64).sqrt();
		for layer in 0..self.shape.layers {
			let b = |k: usize| p(2 + PER_BLOCK * layer + k);
			let qkv = linear(&layer_norm(&x, b(0)?, b(1)?)?, b(2)?, b(3)?)?;
			// [batch, t, 3, heads, head_dim] → three [batch, heads, t, head_dim].
			let qkv = qkv.reshape((batch, t, 3, heads, head_dim))?;
			let part = |i: usize| qkv.narrow(2, i, 1)?.squeeze(2)?.transpose(1, 2)?.contiguous();
			let (q, k, v) = (part(0)?, part(1)?, part(2)?);
			let scores = (q.matmul(&k.t()?.contiguous()?)? * scale)?.broadcast_add(&mask)?;
			let attention = candle_nn::ops::softmax(&scores, D::Minus1)?;
			let mixed = attention.matmul(&v)?.transpose(1, 2)?.reshape((batch, t, d))?;
			x = (x + linear(&mixed, b(4)?, b(5)?)?)?;
			let hidden = linear(&layer_norm(&x, b(6)?, b(7)?)?, b(8)?, b(9)?)?.gelu()?;
			x = (x + linear(&hidden, b(10)?, b(11)?)?)?;
		}
		let last = 2 + PER_BLOCK * self.shape.layers;
		let x = layer_norm(&x, p(last)?, p(last + 1)?)?;
		Ok(linear(&x, p(last + 2)?, p(last + 3)?)?)
	}

	/// Mean next-token cross-entropy (nats) of `windows` (`[batch, context + 1]` ids).
	fn loss(&self, windows: &Tensor) -> Result<(Tensor, Tensor, Tensor), EngineError> {
		let (batch, width) = windows.dims2()?;
		let inputs = windows.narrow(1, 0, width - 1)?;
		let targets = windows.narrow(1, 1, width - 1)?.flatten_all()?;
		let logits = self.forward(&inputs)?.reshape((batch * (width - 1), self.shape.vocab))?;
		let loss = loss::cross_entropy(&logits, &targets)?;
		Ok((loss, logits, targets))
	}
}

/// How to train: optimiser steps, windows per batch, AdamW's learning rate, the seed of the
/// window draws.
#[derive(Clone, Copy, Debug)]
pub struct LmTraining {
	pub steps: usize,
	pub batch: usize,
	pub learning_rate: f64,
	pub seed: u64,
}

/// `batch` windows of `context + 1` tokens at positions drawn from `rng`.
fn windows(
	tokens: &[u32],
	context: usize,
	batch: usize,
	rng: &mut SeededRng,
	device: &Device,
) -> Result<Tensor, EngineError> {
	let width = context + 1;
	let starts = tokens.len().checked_sub(width).ok_or_else(|| {
		EngineError::BadDataset(format!("{} tokens, fewer than a window of {width}", tokens.len()))
	})?;
	let mut ids = Vec::with_capacity(batch * width);
	for _ in 0..batch {
		let start = rng.below(starts + 1);
		ids.extend_from_slice(tokens.get(start..start + width).unwrap_or_default());
	}
	Ok(Tensor::from_vec(ids, (batch, width), device)?)
}

/// Training in progress: the optimiser's state and the window draws.
pub struct LmTrainer<'a> {
	model: &'a TransformerLm,
	tokens: &'a [u32],
	optimiser: candle_nn::AdamW,
	rng: SeededRng,
	batch: usize,
}

impl<'a> LmTrainer<'a> {
	/// Checks the tokens against the model and sets AdamW up (β 0.9 / 0.999, ε 1e-8, no decay).
	pub fn new(
		model: &'a TransformerLm,
		tokens: &'a [u32],
		how: &LmTraining,
	) -> Result<Self, EngineError> {
		if tokens.iter().any(|t| *t as usize >= model.shape.vocab) {
			return Err(EngineError::BadDataset("a token id outside the vocabulary".into()));
		}
		if tokens.len() <= model.shape.context || how.batch == 0 {
			return Err(EngineError::BadDataset(format!(
				"{} tokens, batches of {}: not one window of {}",
				tokens.len(),
				how.batch,
				model.shape.context + 1
			)));
		}
		let params = ParamsAdamW { lr: how.learning_rate, weight_decay: 0.0, ..Default::default() };
		let optimiser = candle_nn::AdamW::new(model.vars(), params)?;
		Ok(Self { model, tokens, optimiser, rng: SeededRng::new(how.seed), batch: how.batch })
	}

	/// One optimiser step on a fresh batch; its mean loss.
	pub fn step(&mut self) -> Result<f32, EngineError> {
		let batch = windows(
			self.tokens,
			self.model.shape.context,
			self.batch,
			&mut self.rng,
			&self.model.device,
		)?;
		let (loss, _, _) = self.model.loss(&batch)?;
		self.optimiser.backward_step(&loss)?;
		Ok(loss.to_dtype(DType::F32)?.to_scalar::<f32>()?)
	}
}

/// Trains `model` on `tokens` in place; returns the mean training loss of each step.
pub fn train(
	model: &TransformerLm,
	tokens: &[u32],
	how: &LmTraining,
) -> Result<Vec<f32>, EngineError> {
	let mut trainer = LmTrainer::new(model, tokens, how)?;
	(0..how.steps).map(|_| trainer.step()).collect()
}

/// Held-out figures of a language model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LmMetrics {
	/// exp(mean next-token cross-entropy).
	pub perplexity: f64,
	/// Share of next tokens the model ranks first.
	pub accuracy: f64,
	/// Tokens predicted.
	pub tokens: usize,
}

/// Perplexity and accuracy on `tokens` read in consecutive windows of `context + 1`.
pub fn evaluate(model: &TransformerLm, tokens: &[u32]) -> Result<LmMetrics, EngineError> {
	let width = model.shape.context + 1;
	let (mut nats, mut right, mut count) = (0.0f64, 0usize, 0usize);
	for chunk in tokens.chunks_exact(width).collect::<Vec<_>>().chunks(16) {
		let ids: Vec<u32> = chunk.concat();
		let windows = Tensor::from_vec(ids, (chunk.len(), width), &model.device)?;
		let (loss, logits, targets) = model.loss(&windows)?;
		let n = targets.dim(0)?;
		nats += f64::from(loss.to_scalar::<f32>()?) * n as f64;
		let predicted = logits.argmax(D::Minus1)?.to_vec1::<u32>()?;
		let wanted = targets.to_vec1::<u32>()?;
		right += predicted.iter().zip(&wanted).filter(|(p, w)| p == w).count();
		count += n;
	}
	if count == 0 {
		return Err(EngineError::BadDataset(format!("held-out text shorter than {width} tokens")));
	}
	Ok(LmMetrics {
		perplexity: (nats / count as f64).exp(),
		accuracy: right as f64 / count as f64,
		tokens: count,
	})
}

/// Perplexity of the unigram model (each token's training frequency, add-one smoothed) on
/// `held_out`: the baseline a language model must beat.
pub fn unigram_perplexity(train: &[u32], held_out: &[u32], vocab: usize) -> f64 {
	let mut counts = vec![1.0f64; vocab];
	for t in train {
		if let Some(c) = counts.get_mut(*t as usize) {
			*c += 1.0;
		}
	}
	let total: f64 = counts.iter().sum();
	let nats: f64 = held_out
		.iter()
		.map(|t| -(counts.get(*t as usize).copied().unwrap_or(1.0) / total).ln())
		.sum();
	(nats / held_out.len().max(1) as f64).exp()
}

#[cfg(test)]
mod tests;
