//! Next-token cross-entropy as one candle op on the CPU: the vocabulary-wide tensors are the
//! largest of a language model's step, and candle's composed `log_softmax` + `nll` walks them
//! a dozen times, one thread each (measured: 128 ms forward alone for 1,024 tokens × 10k
//! words). Here the forward pass is one log-sum-exp per row and the backward pass writes
//! `(softmax − one-hot) / rows` in one sweep, rows split across threads. Each row is computed
//! in a fixed order and the mean sums rows in order, so the result does not depend on the
//! thread count. Other devices use candle's composed loss.

use candle_core::{CpuStorage, CustomOp2, Layout, Shape, Tensor};
use rayon::prelude::*;

/// Mean cross-entropy of `logits` (`[rows, vocab]`, f32) against `targets` (`[rows]`, u32).
pub fn cross_entropy(logits: &Tensor, targets: &Tensor) -> candle_core::Result<Tensor> {
	if logits.device().is_cpu() {
		logits.apply_op2(targets, CrossEntropy)
	} else {
		candle_nn::loss::cross_entropy(logits, targets)
	}
}

/// The op's two inputs as contiguous slices, with the vocabulary size.
fn inputs<'a>(
	s1: &'a CpuStorage,
	l1: &Layout,
	s2: &'a CpuStorage,
	l2: &Layout,
) -> candle_core::Result<(&'a [f32], &'a [u32], usize)> {
	let (CpuStorage::F32(logits), CpuStorage::U32(targets)) = (s1, s2) else {
		candle_core::bail!("cross-entropy takes f32 logits and u32 targets");
	};
	let (Some((a, b)), Some((c, d))) = (l1.contiguous_offsets(), l2.contiguous_offsets()) else {
		candle_core::bail!("cross-entropy takes contiguous inputs");
	};
	let (rows, vocab) = l1.shape().dims2()?;
	let (logits, targets) = match (logits.get(a..b), targets.get(c..d)) {
		(Some(logits), Some(targets)) => (logits, targets),
		_ => candle_core::bail!("cross-entropy: layout outside its storage"),
	};
	if targets.len() != rows || targets.iter().any(|t| *t as usize >= vocab) || vocab == 0 {
		candle_core::bail!("cross-entropy: {} targets for {rows} rows of {vocab}", targets.len());
	}
	Ok((logits, targets, vocab))
}

/// `max` and `ln Σ exp(x − max)` of a row.
fn log_sum_exp(row: &[f32]) -> (f32, f32) {
	let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
	let sum: f32 = row.iter().map(|x| (x - max).exp()).sum();
	(max, sum.ln())
}

struct CrossEntropy;

impl CustomOp2 for CrossEntropy {
	fn name(&self) -> &'static str {
		"aicchain-cross-entropy"
	}

	fn cpu_fwd(
		&self,
		s1: &CpuStorage,
		l1: &Layout,
		s2: &CpuStorage,
		l2: &Layout,
	) -> candle_core::Result<(CpuStorage, Shape)> {
		let (logits, targets, vocab) = inputs(s1, l1, s2, l2)?;
		let per_row: Vec<f32> = logits
			.par_chunks(vocab)
			.zip(targets.par_iter())
			.map(|(row, target)| {
				let (max, lse) = log_sum_exp(row);
				max + lse - row.get(*target as usize).copied().unwrap_or(0.0)
			})
			.collect();
		let mean = per_row.iter().sum::<f32>() / targets.len().max(1) as f32;
		Ok((CpuStorage::F32(vec![mean]), Shape::from(())))
	}

	fn bwd(
		&self,
		logits: &Tensor,
		targets: &Tensor,
		_loss: &Tensor,
		grad_loss: &Tensor,
	) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
		let grad = logits.apply_op2_no_bwd(targets, &CrossEntropyGrad)?;
		Ok((Some(grad.broadcast_mul(grad_loss)?), None))
	}
}

/// `(softmax(logits) − one-hot(targets)) / rows`: the loss's gradient by its logits.
struct CrossEntropyGrad;

impl CustomOp2 for CrossEntropyGrad {
	fn name(&self) -> &'static str {
		"aicchain-cross-entropy-grad"
	}

	fn cpu_fwd(
		&self,
		s1: &CpuStorage,
		l1: &Layout,
		s2: &CpuStorage,
		l2: &Layout,
	) -> candle_core::Result<(CpuStorage, Shape)> {
		let (logits, targets, vocab) = inputs(s1, l1, s2, l2)?;
		let scale = 1.0 / targets.len().max(1) as f32;
		let mut grad = vec![0f32; logits.len()];
		grad.par_chunks_mut(vocab).zip(logits.par_chunks(vocab)).zip(targets.par_iter()).for_each(
			|((out, row), target)| {
				let (max, lse) = log_sum_exp(row);
				for (o, x) in out.iter_mut().zip(row) {
					*o = (x - max - lse).exp() * scale;
				}
				if let Some(o) = out.get_mut(*target as usize) {
					*o -= scale;
				}
			},
		);
		Ok((CpuStorage::F32(grad), l1.shape().clone()))
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use candle_core::{Device, Var};

	/// Value and gradient equal candle's composed loss (to float rounding).
	#[test]
	fn matches_candles_loss_and_its_gradient() {
		let device = Device::Cpu;
		let values: Vec<f32> = (0..6 * 11).map(|i| ((i * 37 % 23) as f32 - 11.0) / 3.0).collect();
		let logits =
			Var::from_tensor(&Tensor::from_vec(values, (6, 11), &device).expect("t")).expect("var");
		let targets = Tensor::from_vec(vec![0u32, 3, 10, 5, 5, 1], 6, &device).expect("t");
		let ours = cross_entropy(logits.as_tensor(), &targets).expect("loss");
		let theirs = candle_nn::loss::cross_entropy(logits.as_tensor(), &targets).expect("loss");
		let (a, b) =
			(ours.to_scalar::<f32>().expect("f32"), theirs.to_scalar::<f32>().expect("f32"));
		assert!((a - b).abs() < 1e-5, "{a} vs {b}");
		let grad = |loss: &Tensor| {
			let grads = loss.backward().expect("backward");
			grads
				.get(logits.as_tensor())
				.expect("grad")
				.flatten_all()
				.expect("flat")
				.to_vec1::<f32>()
				.expect("vec")
		};
		for (x, y) in grad(&ours).iter().zip(grad(&theirs)) {
			assert!((x - y).abs() < 1e-6, "{x} vs {y}");
		}
		// A target outside the vocabulary is an error, not a read out of bounds.
		let bad = Tensor::from_vec(vec![0u32, 3, 11, 5, 5, 1], 6, &device).expect("t");
		assert!(cross_entropy(logits.as_tensor(), &bad).is_err());
	}
}
