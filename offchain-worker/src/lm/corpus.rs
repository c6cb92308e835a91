//! Text for language modelling: a generated corpus (nothing is downloaded) and a word-level
//! tokenizer trained on the corpus itself.
//!
//! The corpus is English-like text from a small grammar over a generated vocabulary: documents
//! with a topic (each draws its nouns and verbs mostly from the topic's own share of the
//! vocabulary), sentences from a handful of templates with function words, adjectives,
//! adverbs and a full stop. A model can learn its syntax (what follows "the", where the stop
//! falls) and its topics (which nouns recur in a document), so held-out perplexity falls well
//! below a unigram model's; it is the same bytes on every machine for a given seed and length.

use crate::{rng::SeededRng, EngineError};
use std::collections::HashMap;

/// The tokenizer's id for a word outside its vocabulary.
pub const UNKNOWN: u32 = 0;
/// Words per document of the generated corpus (about; documents end on a sentence).
const DOCUMENT_WORDS: usize = 120;
/// Topics of the generated corpus.
const TOPICS: usize = 16;

const ONSETS: [&str; 16] =
	["b", "c", "d", "f", "g", "l", "m", "n", "p", "r", "s", "t", "v", "br", "st", "tr"];
const VOWELS: [&str; 6] = ["a", "e", "i", "o", "u", "ai"];
const CODAS: [&str; 8] = ["", "n", "r", "s", "l", "m", "nd", "st"];

/// The `index`th made-up word of a word class (`suffix` marks the class): two syllables from
/// fixed tables, 16·6·8 = 768 of each.
fn made_up_word(index: usize, suffix: &str) -> String {
	let syllable = |i: usize| {
		format!(
			"{}{}{}",
			ONSETS[i % ONSETS.len()],
			VOWELS[(i / ONSETS.len()) % VOWELS.len()],
			CODAS[(i / (ONSETS.len() * VOWELS.len())) % CODAS.len()]
		)
	};
	let per = ONSETS.len() * VOWELS.len() * CODAS.len();
	format!("{}{}{suffix}", syllable(index % per), syllable(index / per))
}

/// A generated corpus of about `words` words: a pure function of `seed` and `words`.
pub fn generated_corpus(seed: u64, words: usize) -> String {
	let nouns: Vec<String> = (0..4_000).map(|i| made_up_word(i * 7 + 1, "")).collect();
	let verbs: Vec<String> = (0..1_600).map(|i| made_up_word(i * 5 + 3, "es")).collect();
	let adjectives: Vec<String> = (0..1_200).map(|i| made_up_word(i * 3 + 2, "y")).collect();
	let adverbs: Vec<String> = (0..400).map(|i| made_up_word(i * 11 + 5, "ly")).collect();
	let mut rng = SeededRng::new(seed);
	let mut out = String::with_capacity(words * 8);
	let mut written = 0;
	// A word of a class: mostly (3 in 4) from the topic's slice of it, else from anywhere;
	// within a slice, earlier words are likelier (a Zipf-like tail).
	let pick = |rng: &mut SeededRng, class: &[String], topic: usize| -> String {
		let slice = class.len() / TOPICS;
		let local = rng.below(4) < 3;
		let skewed = |rng: &mut SeededRng, n: usize| {
			let cap = rng.below(n).max(1) + 1;
			rng.below(cap).min(n - 1)
		};
		if local {
			class[topic * slice + skewed(rng, slice)].clone()
		} else {
			class[skewed(rng, class.len())].clone()
		}
	};
	while written < words {
		let topic = rng.below(TOPICS);
		let mut in_document = 0;
		while in_document < DOCUMENT_WORDS && written < words {
			let mut sentence: Vec<String> = Vec::new();
			let noun_phrase = |rng: &mut SeededRng, sentence: &mut Vec<String>| {
				sentence.push(if rng.below(3) == 0 { "a" } else { "the" }.into());
				if rng.below(2) == 0 {
					sentence.push(pick(rng, &adjectives, topic));
				}
				sentence.push(pick(rng, &nouns, topic));
			};
			match rng.below(4) {
				0 => {
					noun_phrase(&mut rng, &mut sentence);
					sentence.push(pick(&mut rng, &verbs, topic));
					noun_phrase(&mut rng, &mut sentence);
				},
				1 => {
					noun_phrase(&mut rng, &mut sentence);
					sentence.push(pick(&mut rng, &verbs, topic));
					sentence.push(pick(&mut rng, &adverbs, topic));
				},
				2 => {
					sentence.push("when".into());
					noun_phrase(&mut rng, &mut sentence);
					sentence.push(pick(&mut rng, &verbs, topic));
					sentence.push(",".into());
					noun_phrase(&mut rng, &mut sentence);
					sentence.push(pick(&mut rng, &verbs, topic));
				},
				_ => {
					noun_phrase(&mut rng, &mut sentence);
					sentence.push("and".into());
					noun_phrase(&mut rng, &mut sentence);
					sentence.push(pick(&mut rng, &verbs, topic));
					sentence.push("with".into());
					noun_phrase(&mut rng, &mut sentence);
				},
			}
			sentence.push(".".into());
			in_document += sentence.len();
			written += sentence.len();
			out.push_str(&sentence.join(" "));
			out.push(' ');
		}
		out.push('\n');
	}
	out
}

/// A word-level tokenizer: whitespace-separated words; the `vocab - 1` most frequent words of
/// the text it was trained on (ties in byte order) get ids 1.., everything else [`UNKNOWN`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WordTokenizer {
	words: Vec<String>,
	ids: HashMap<String, u32>,
}

impl WordTokenizer {
	/// Learns a vocabulary of `vocab` ids (including [`UNKNOWN`]) from `text`.
	pub fn train(text: &str, vocab: usize) -> Result<Self, EngineError> {
		if vocab < 2 || vocab > u32::MAX as usize {
			return Err(EngineError::InvalidSpec(format!("vocabulary of {vocab} ids")));
		}
		let mut counts: HashMap<&str, u64> = HashMap::new();
		for word in text.split_whitespace() {
			*counts.entry(word).or_default() += 1;
		}
		let mut ranked: Vec<(&str, u64)> = counts.into_iter().collect();
		ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
		let words: Vec<String> =
			ranked.into_iter().take(vocab - 1).map(|(w, _)| w.to_string()).collect();
		let ids = words.iter().enumerate().map(|(i, w)| (w.clone(), i as u32 + 1)).collect();
		Ok(Self { words, ids })
	}

	/// Ids in use: the known words and [`UNKNOWN`].
	pub fn vocab(&self) -> usize {
		self.words.len() + 1
	}

	pub fn encode(&self, text: &str) -> Vec<u32> {
		text.split_whitespace().map(|w| self.ids.get(w).copied().unwrap_or(UNKNOWN)).collect()
	}

	pub fn decode(&self, ids: &[u32]) -> String {
		ids.iter()
			.map(|id| match (*id as usize).checked_sub(1).and_then(|i| self.words.get(i)) {
				Some(word) => word.as_str(),
				None => "<unk>",
			})
			.collect::<Vec<_>>()
			.join(" ")
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_corpus_is_a_pure_function_of_seed_and_length() {
		let a = generated_corpus(7, 5_000);
		assert_eq!(a, generated_corpus(7, 5_000));
		assert_ne!(a, generated_corpus(8, 5_000));
		let words = a.split_whitespace().count();
		assert!((5_000..5_000 + 40).contains(&words), "{words} words");
		// Enough distinct words for the seed's 10k vocabulary to matter at full size.
		let big = generated_corpus(1, 400_000);
		let distinct: std::collections::HashSet<&str> = big.split_whitespace().collect();
		assert!(distinct.len() > 5_000, "{} distinct words", distinct.len());
	}

	#[test]
	fn the_tokenizer_ranks_by_frequency_and_maps_the_rest_to_unknown() {
		let tokenizer = WordTokenizer::train("b a c a b a . .", 3).expect("trains");
		// a ×3, then b and . ×2 (tie: "." < "b" in byte order), c ×1.
		assert_eq!(tokenizer.vocab(), 3);
		assert_eq!(tokenizer.encode("a . b c"), vec![1, 2, UNKNOWN, UNKNOWN]);
		assert_eq!(tokenizer.decode(&[1, 2, 0, 99]), "a . <unk> <unk>");
		assert!(WordTokenizer::train("a", 1).is_err());
	}
}
