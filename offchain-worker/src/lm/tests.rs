use super::{corpus::*, *};

/// A small model on the generated corpus: tokenizer trained on the training split, the held-out
/// split 10% at the end.
fn small_setup(vocab: usize, words: usize) -> (Vec<u32>, Vec<u32>, usize) {
	let text = generated_corpus(3, words);
	let cut = text.len() * 9 / 10;
	let cut = text[..cut].rfind(' ').unwrap_or(cut);
	let (train_text, held_out_text) = text.split_at(cut);
	let tokenizer = WordTokenizer::train(train_text, vocab).expect("tokenizer");
	(tokenizer.encode(train_text), tokenizer.encode(held_out_text), tokenizer.vocab())
}

const SMALL: LmShape = LmShape { vocab: 256, dim: 32, heads: 2, layers: 1, context: 16 };

#[test]
fn training_beats_the_unigram_baseline_on_held_out_text() {
	let (train_ids, held_out, vocab) = small_setup(SMALL.vocab, 30_000);
	let shape = LmShape { vocab, ..SMALL };
	let model = TransformerLm::new(shape, 1, &Device::Cpu).expect("model");
	let before = evaluate(&model, &held_out).expect("evaluates");
	let how = LmTraining { steps: 300, batch: 16, learning_rate: 3e-3, seed: 1 };
	let losses = train(&model, &train_ids, &how).expect("trains");
	let after = evaluate(&model, &held_out).expect("evaluates");
	let unigram = unigram_perplexity(&train_ids, &held_out, vocab);
	let first: f32 = losses.iter().take(20).sum::<f32>() / 20.0;
	let last: f32 = losses.iter().rev().take(20).sum::<f32>() / 20.0;
	assert!(last < first * 0.8, "training loss {first} → {last}");
	// Untrained it is about uniform (perplexity near the vocabulary); trained it uses context:
	// clearly below the unigram model, which knows every word's frequency.
	assert!(before.perplexity > unigram, "untrained {} vs unigram {unigram}", before.perplexity);
	assert!(
		after.perplexity < unigram * 0.8,
		"held-out perplexity {} vs unigram {unigram}",
		after.perplexity
	);
	assert!(after.accuracy > before.accuracy);
	assert_eq!(after.tokens, held_out.len() / (shape.context + 1) * shape.context);
}

#[test]
fn same_seed_same_model_and_another_seed_differs() {
	let (train_ids, held_out, vocab) = small_setup(128, 5_000);
	let shape = LmShape { vocab, ..SMALL };
	let how = LmTraining { steps: 10, batch: 4, learning_rate: 1e-3, seed: 5 };
	let run = |seed| {
		let model = TransformerLm::new(shape, seed, &Device::Cpu).expect("model");
		train(&model, &train_ids, &how).expect("trains");
		evaluate(&model, &held_out).expect("evaluates").perplexity
	};
	assert_eq!(run(1).to_bits(), run(1).to_bits());
	assert_ne!(run(1).to_bits(), run(2).to_bits());
}

#[test]
fn bad_shapes_and_data_are_errors() {
	let bad = [
		LmShape { heads: 3, ..SMALL },
		LmShape { layers: 0, ..SMALL },
		LmShape { context: 1, ..SMALL },
		LmShape { vocab: 1, ..SMALL },
	];
	for shape in bad {
		assert!(TransformerLm::new(shape, 1, &Device::Cpu).is_err(), "{shape:?}");
	}
	let model = TransformerLm::new(SMALL, 1, &Device::Cpu).expect("model");
	let how = LmTraining { steps: 1, batch: 2, learning_rate: 1e-3, seed: 1 };
	// Too short for one window, and an id outside the vocabulary.
	assert!(train(&model, &[1, 2, 3], &how).is_err());
	assert!(train(&model, &vec![SMALL.vocab as u32; 64], &how).is_err());
	assert!(evaluate(&model, &[1, 2]).is_err());
	// The seed's shape: 6.7M parameters, 5.1M of them the embedding and the projection.
	assert_eq!(LmShape::SEED.parameters(), 6_726_416);
	let built =
		TransformerLm::new(LmShape { vocab: 2, ..LmShape::SEED }, 1, &Device::Cpu).expect("model");
	let counted: usize = built.vars().iter().map(|v| v.as_tensor().elem_count()).sum();
	assert_eq!(counted + 9_998 * (2 * 256 + 1), 6_726_416);
}
