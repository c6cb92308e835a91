//! The language model as a market workload: a text dataset cut into windows, and the
//! canonical, replayable training run the proof of learning checks (the same schedule rules as
//! the tabular trainer, [`crate::model::Trainer`], with a window of text for a row).
//!
//! - Data: the file's whitespace-separated words, cut into consecutive windows of
//!   [`LM_WINDOW`] words (the tail that does not fill one is dropped). The first
//!   `training_rows(windows)` windows train, the rest are held out (as rows of a table). The
//!   tokenizer is trained on the training windows' words: the [`LM_VOCAB`] − 1 most frequent
//!   get ids, the rest are [`super::corpus::UNKNOWN`].
//! - Model: the spec's `hidden_units` are the dimensions, `hidden_layers` the blocks, with
//!   [`LM_HEADS`] heads and a context of [`LM_CONTEXT`]; the vocabulary is the tokenizer's.
//! - Schedule, optimiser and model file: [`crate::autograd`]'s, a window of text for a row;
//!   initialisation from the spec's seed ([`TransformerLm::new`]).

use super::{corpus::WordTokenizer, LmShape, TransformerLm};
use crate::{
	autograd::{AutogradReplay, Network},
	model::{quantise_fraction, TrainedModel},
	EngineError,
};
use aicchain_primitives::{proof::training_rows, QuantisedMetrics, TrainingSpec};
use candle_core::{Device, Tensor, Var};

/// Attention heads of a market language model (the seed's; the chain's limit).
pub const LM_HEADS: usize = aicchain_primitives::limits::LM_HEADS as usize;
/// Tokens of context (the chain's, which counts a job's work with it).
pub const LM_CONTEXT: usize = aicchain_primitives::limits::LM_CONTEXT as usize;
/// Words per window: the context and the token after it.
pub const LM_WINDOW: usize = LM_CONTEXT + 1;
/// The tokenizer's vocabulary, [`super::corpus::UNKNOWN`] included (the seed's 10k).
pub const LM_VOCAB: usize = aicchain_primitives::limits::LM_VOCAB as usize;

/// A text dataset as the language model trains on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextData {
	/// Training windows, [`LM_WINDOW`] ids each, concatenated.
	pub train: Vec<u32>,
	/// Held-out windows, likewise.
	pub held_out: Vec<u32>,
	pub vocab: usize,
}

impl TextData {
	/// Cuts UTF-8 text into windows, splits them and tokenizes them (see the module's notes).
	pub fn from_text(bytes: &[u8]) -> Result<Self, EngineError> {
		let text =
			std::str::from_utf8(bytes).map_err(|_| EngineError::BadDataset("not UTF-8".into()))?;
		let words: Vec<&str> = text.split_whitespace().collect();
		let windows = words.len() / LM_WINDOW;
		let train_windows =
			usize::try_from(training_rows(u32::try_from(windows).unwrap_or(u32::MAX))).unwrap_or(0);
		if train_windows == 0 || train_windows >= windows {
			return Err(EngineError::BadDataset(format!(
				"{} words: fewer than two windows of {LM_WINDOW}",
				words.len()
			)));
		}
		let cut = train_windows * LM_WINDOW;
		let train_text = words.get(..cut).unwrap_or_default().join(" ");
		let held_out_text = words.get(cut..windows * LM_WINDOW).unwrap_or_default().join(" ");
		let tokenizer = WordTokenizer::train(&train_text, LM_VOCAB)?;
		Ok(Self {
			train: tokenizer.encode(&train_text),
			held_out: tokenizer.encode(&held_out_text),
			vocab: tokenizer.vocab(),
		})
	}

	/// Windows in the whole dataset (what the chain registers as its rows).
	pub fn windows(&self) -> usize {
		(self.train.len() + self.held_out.len()) / LM_WINDOW
	}
}

/// The shape a spec asks for on `data`.
pub fn shape_of(spec: &TrainingSpec, data: &TextData) -> LmShape {
	LmShape {
		vocab: data.vocab,
		dim: spec.hidden_units as usize,
		heads: LM_HEADS,
		layers: usize::from(spec.hidden_layers),
		context: LM_CONTEXT,
	}
}

/// A language model on a text dataset, as [`crate::autograd`] trains it.
pub struct LmNet {
	shape: LmShape,
	data: TextData,
}

impl Network for LmNet {
	fn param_shapes(&self) -> Vec<Vec<usize>> {
		self.shape.param_shapes()
	}

	fn initial_params(&self, seed: u64, device: &Device) -> Result<Vec<Tensor>, EngineError> {
		let model = TransformerLm::new(self.shape, seed, device)?;
		Ok(model.vars().iter().map(|v| v.as_tensor().clone()).collect())
	}

	fn training_samples(&self) -> usize {
		self.data.train.len() / LM_WINDOW
	}

	fn dataset_rows(&self) -> usize {
		self.data.windows()
	}

	/// Windows `samples` as ids `[windows, LM_WINDOW]`, and their mean next-token loss.
	fn batch_loss(
		&self,
		params: &[Tensor],
		samples: &[u32],
		device: &Device,
	) -> Result<(Tensor, Vec<Var>), EngineError> {
		let mut ids = Vec::with_capacity(samples.len() * LM_WINDOW);
		for row in samples {
			let start = *row as usize * LM_WINDOW;
			ids.extend_from_slice(
				self.data.train.get(start..start + LM_WINDOW).unwrap_or_default(),
			);
		}
		let batch = Tensor::from_vec(ids, (samples.len(), LM_WINDOW), device)?;
		let model = TransformerLm::from_params(self.shape, params)?;
		let (loss, _, _) = model.loss(&batch)?;
		Ok((loss, model.vars()))
	}

	/// Held-out metrics: score = next-token accuracy, loss = mean next-token cross-entropy in
	/// millionths of a nat (perplexity = e^loss), samples = tokens.
	fn evaluate(&self, params: &[Tensor], _: &Device) -> Result<QuantisedMetrics, EngineError> {
		let model = TransformerLm::from_params(self.shape, params)?;
		let metrics = super::evaluate(&model, &self.data.held_out)?;
		Ok(QuantisedMetrics {
			score: quantise_fraction(metrics.accuracy),
			loss_millionths: (metrics.perplexity.ln().max(0.0) * 1e6).round() as u64,
			eval_samples: u32::try_from(metrics.tokens).unwrap_or(u32::MAX),
		})
	}
}

/// The canonical training of a language-model spec on a text dataset.
pub type LmReplay = AutogradReplay<LmNet>;

impl AutogradReplay<LmNet> {
	pub fn new(spec: &TrainingSpec, data: &TextData, device: &Device) -> Result<Self, EngineError> {
		let shape = shape_of(spec, data);
		shape.check()?;
		Self::with_network(spec, LmNet { shape, data: data.clone() }, device)
	}
}

/// Trains `spec` on `data` canonically, keeping the checkpoints the proof of learning commits
/// to; the model file, its hash and held-out metrics.
pub fn train(
	spec: &TrainingSpec,
	data: &TextData,
	device: &Device,
) -> Result<TrainedModel, EngineError> {
	LmReplay::new(spec, data, device)?.train()
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::{
		lm::corpus::generated_corpus,
		model::Arithmetic,
		proof::{
			replay_segment, verify_final_with, Opening, Schedule, SegmentVerdict, TrainingProof,
		},
	};
	use aicchain_primitives::ModelKind;
	use sp_core::H256;

	fn spec(seed: u64) -> TrainingSpec {
		TrainingSpec {
			dataset: H256::repeat_byte(1),
			model: ModelKind::TransformerLm,
			hidden_units: 16,
			hidden_layers: 1,
			learning_rate_millionths: 3_000,
			epochs: 2,
			seed,
			min_score: Default::default(),
			parent: None,
		}
	}

	fn data() -> TextData {
		TextData::from_text(generated_corpus(5, 12_000).as_bytes()).expect("text")
	}

	/// The chain bounds a job's work with its own parameter count: it must be the model's.
	#[test]
	fn the_chains_parameter_count_is_the_models() {
		for (units, layers, vocab) in [(16u32, 1u8, 6_030usize), (256, 2, 10_000), (512, 4, 77)] {
			let spec = TrainingSpec { hidden_units: units, hidden_layers: layers, ..spec(1) };
			let shape = LmShape {
				vocab,
				dim: units as usize,
				heads: LM_HEADS,
				layers: usize::from(layers),
				context: LM_CONTEXT,
			};
			let chain = aicchain_primitives::limits::parameters(&spec, vocab as u32);
			assert_eq!(chain, shape.parameters() as u128, "{shape:?}");
		}
	}

	#[test]
	fn a_text_dataset_is_cut_into_windows_split_like_rows() {
		let data = data();
		assert_eq!(data.windows(), 12_000 / LM_WINDOW);
		let rows = u32::try_from(data.windows()).expect("small");
		assert_eq!(data.train.len() / LM_WINDOW, training_rows(rows) as usize);
		assert!(data.vocab > 100 && data.vocab <= LM_VOCAB);
		assert!(TextData::from_text(b"too few words").is_err());
		assert!(TextData::from_text(&[0xff, 0xfe]).is_err());
	}

	/// The language model's run is checked like the tabular one: every honest segment replays
	/// within tolerance, the last checkpoint is the model, and another seed's checkpoint in
	/// the same commitment slot diverges.
	#[test]
	fn an_honest_language_model_run_replays_and_a_forged_segment_does_not() {
		let (data, cpu) = (data(), Device::Cpu);
		let run = train(&spec(1), &data, &cpu).expect("trains");
		let replay = LmReplay::new(&spec(1), &data, &cpu).expect("replay");
		let proof = &run.proof;
		let segments = Schedule::of(&proof.commitment).segments();
		assert!(segments >= 2, "{segments} segments");
		let open = |proof: &TrainingProof, i: u32| {
			let (checkpoint, p) = proof.opening(i).expect("opening");
			let (next, q) = proof.opening(i + 1).expect("opening");
			let opening = Opening { checkpoint, proof: &p, next, next_proof: &q };
			replay_segment(&replay, &proof.commitment, i, opening, Arithmetic::Canonical)
				.expect("replays")
		};
		for i in 0..segments {
			assert!(matches!(open(proof, i), SegmentVerdict::Accepted(_)), "segment {i}");
		}
		let (last, last_proof) = proof.opening(segments).expect("last");
		assert_eq!(
			verify_final_with(&replay, &proof.commitment, last, &last_proof, &run.bytes)
				.expect("checks"),
			Ok(())
		);
		// Another seed's run: its first segment does not start from this spec's initial state.
		let other = train(&spec(2), &data, &cpu).expect("trains");
		assert!(matches!(open(&other.proof, 0), SegmentVerdict::Rejected(_)));
		assert!(verify_final_with(&replay, &proof.commitment, last, &last_proof, &other.bytes)
			.expect("checks")
			.is_err());
		// It learned: held-out accuracy above the most frequent token's share.
		assert!(run.metrics.score.deconstruct() > 0, "{:?}", run.metrics);
		assert!(run.epoch_losses.first() > run.epoch_losses.last(), "{:?}", run.epoch_losses);
	}
}
