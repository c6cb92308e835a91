//! A decoder-only transformer language model in candle: token and learned position embeddings,
//! `layers` pre-norm blocks (causal multi-head self-attention, then a 4× GELU MLP, each around
//! a residual), a final layer norm and a projection to the vocabulary (no bias). Trained with next-token
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
pub mod loss;

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
		if self.heads == 0 || self.dim % self.heads != 0 {
			return bad("the dimensions must split evenly into the heads");
		}
		Ok(())
	}

	/// Parameters of the model.
	pub fn parameters(&self) -> usize {
		let (v, d, c) = (self.vocab, self.dim, self.context);
		let block =
			2 * 2 * d + (d * 3 * d + 3 * d) + (d * d + d) + (d * 4 * d + 4 * d) + (4 * d * d + d);
		v * d + c * d + self.layers * block + 2 * d + d * v
	}
}

/// One pre-norm transformer block's parameters.
struct Block {
	norm1: (Var, Var),
	qkv: (Var, Var),
	proj: (Var, Var),
	norm2: (Var, Var),
	up: (Var, Var),
	down: (Var, Var),
}

/// The model: its shape and parameters (candle `Var`s, trained in place).
pub struct TransformerLm {
	shape: LmShape,
	tokens: Var,
	positions: Var,
	blocks: Vec<Block>,
	norm: (Var, Var),
	/// The projection to the vocabulary, `[dim, vocab]`, without a bias (as GPT-2's).
	head: Var,
	mask: Tensor,
	device: Device,
}

/// Uniform in ±`bound`, drawn in order from `rng` (the same numbers on every machine).
fn uniform(
	rng: &mut SeededRng,
	shape: (usize, usize),
	bound: f64,
	device: &Device,
) -> Result<Var, EngineError> {
	let values: Vec<f32> =
		(0..shape.0 * shape.1).map(|_| rng.range(-bound, bound) as f32).collect();
	Ok(Var::from_tensor(&Tensor::from_vec(values, shape, device)?)?)
}

fn constant(value: f32, size: usize, device: &Device) -> Result<Var, EngineError> {
	Ok(Var::from_tensor(&Tensor::full(value, size, device)?)?)
}

/// `x · w + b` for `x` of shape `[batch, t, in]`, `w` of shape `[in, out]` (stored that way
/// round so that the product reads it contiguously): one 2-D product over all rows (a
/// broadcast batched product would give the weights' gradient a copy per batch element, then
/// sum them).
fn linear(x: &Tensor, (w, b): &(Var, Var)) -> candle_core::Result<Tensor> {
	let (batch, t, inputs) = x.dims3()?;
	let out = w.as_tensor().dim(1)?;
	x.reshape((batch * t, inputs))?
		.matmul(w.as_tensor())?
		.broadcast_add(b.as_tensor())?
		.reshape((batch, t, out))
}

/// Layer norm over the last dimension, with a backward pass.
fn layer_norm(x: &Tensor, (gain, bias): &(Var, Var)) -> candle_core::Result<Tensor> {
	let dim = x.dim(D::Minus1)? as f64;
	let centred = x.broadcast_sub(&(x.sum_keepdim(D::Minus1)? / dim)?)?;
	let variance = (centred.sqr()?.sum_keepdim(D::Minus1)? / dim)?;
	centred
		.broadcast_div(&(variance + 1e-5)?.sqrt()?)?
		.broadcast_mul(gain.as_tensor())?
		.broadcast_add(bias.as_tensor())
}

impl TransformerLm {
	/// A model of `shape` initialised from `seed`: weights uniform in ±1/√fan-in (the output
	/// projections of each block scaled down by √(2·layers)), biases 0, norms' gains 1.
	pub fn new(shape: LmShape, seed: u64, device: &Device) -> Result<Self, EngineError> {
		shape.check()?;
		let mut rng = SeededRng::new(seed);
		let d = shape.dim;
		let inv = |fan_in: usize| 1.0 / (fan_in as f64).sqrt();
		let residual = inv(d) / (2.0 * shape.layers as f64).sqrt();
		let pair = |rng: &mut SeededRng,
		            out: usize,
		            fan_in: usize,
		            bound: f64|
		 -> Result<(Var, Var), EngineError> {
			Ok((uniform(rng, (fan_in, out), bound, device)?, constant(0.0, out, device)?))
		};
		let norm = || -> Result<(Var, Var), EngineError> {
			Ok((constant(1.0, d, device)?, constant(0.0, d, device)?))
		};
		let tokens = uniform(&mut rng, (shape.vocab, d), 0.1, device)?;
		let positions = uniform(&mut rng, (shape.context, d), 0.1, device)?;
		let mut blocks = Vec::with_capacity(shape.layers);
		for _ in 0..shape.layers {
			blocks.push(Block {
				norm1: norm()?,
				qkv: pair(&mut rng, 3 * d, d, inv(d))?,
				proj: pair(&mut rng, d, d, residual)?,
				norm2: norm()?,
				up: pair(&mut rng, 4 * d, d, inv(d))?,
				down: pair(&mut rng, d, 4 * d, residual / 2.0)?,
			});
		}
		let head = uniform(&mut rng, (d, shape.vocab), inv(d), device)?;
		// 0 where a position may attend (itself and earlier), −∞ above the diagonal.
		let causal: Vec<f32> = (0..shape.context * shape.context)
			.map(|i| if i % shape.context > i / shape.context { f32::NEG_INFINITY } else { 0.0 })
			.collect();
		let mask = Tensor::from_vec(causal, (shape.context, shape.context), device)?;
		Ok(Self {
			shape,
			tokens,
			positions,
			blocks,
			norm: norm()?,
			head,
			mask,
			device: device.clone(),
		})
	}

	pub fn shape(&self) -> LmShape {
		self.shape
	}

	/// Every parameter, in a fixed order.
	pub fn vars(&self) -> Vec<Var> {
		let mut out = vec![self.tokens.clone(), self.positions.clone()];
		for b in &self.blocks {
			for (w, bias) in [&b.norm1, &b.qkv, &b.proj, &b.norm2, &b.up, &b.down] {
				out.push(w.clone());
				out.push(bias.clone());
			}
		}
		out.push(self.norm.0.clone());
		out.push(self.norm.1.clone());
		out.push(self.head.clone());
		out
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
		let embedded =
			self.tokens.as_tensor().embedding(&ids.flatten_all()?)?.reshape((batch, t, d))?;
		let mut x = embedded.broadcast_add(&self.positions.as_tensor().narrow(0, 0, t)?)?;
		let mask = self.mask.narrow(0, 0, t)?.narrow(1, 0, t)?;
		let scale = 1.0 / (head_dim as f64).sqrt();
		for block in &self.blocks {
			let qkv = linear(&layer_norm(&x, &block.norm1)?, &block.qkv)?;
			// [batch, t, 3, heads, head_dim] → three [batch, heads, t, head_dim].
			let qkv = qkv.reshape((batch, t, 3, heads, head_dim))?;
			let part = |i: usize| qkv.narrow(2, i, 1)?.squeeze(2)?.transpose(1, 2)?.contiguous();
			let (q, k, v) = (part(0)?, part(1)?, part(2)?);
			let scores = (q.matmul(&k.t()?.contiguous()?)? * scale)?.broadcast_add(&mask)?;
			let attention = candle_nn::ops::softmax(&scores, D::Minus1)?;
			let mixed = attention.matmul(&v)?.transpose(1, 2)?.reshape((batch, t, d))?;
			x = (x + linear(&mixed, &block.proj)?)?;
			let hidden = linear(&layer_norm(&x, &block.norm2)?, &block.up)?.gelu()?;
			x = (x + linear(&hidden, &block.down)?)?;
		}
		let x = layer_norm(&x, &self.norm)?.reshape((batch * t, d))?;
		Ok(x.matmul(self.head.as_tensor())?.reshape((batch, t, self.shape.vocab))?)
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
