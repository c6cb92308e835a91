//! Datasets, resolved by the blake2-256 hash of their file's bytes (the hash a job's
//! `TrainingSpec` names). Files are CSV: a header, numeric columns, the target last.
//!
//! Four datasets are built in and generated deterministically (nothing is downloaded): a credit
//! scoring set (binary default label, the seed demo's job), an energy-load regression set, a
//! text corpus ([`crate::lm::corpus`]) and an image set ([`images`]).
//! `DatasetStore::ensure_builtin` writes them into the dataset directory; their content, and so
//! their hash, is the same on every machine.

pub mod images;
mod store;
#[cfg(test)]
pub(crate) mod store_tests;
pub use store::{datasets_key, shape_of, ChainDatasets, DatasetStore, Stored};

use crate::{rng::SeededRng, EngineError};
use blake2::{digest::consts::U32, Blake2b, Digest};
use std::fmt::Write as _;

/// blake2b-256, the same function as `sp_core::blake2_256`.
pub fn blake2_256(bytes: &[u8]) -> [u8; 32] {
	let mut hasher = Blake2b::<U32>::new();
	hasher.update(bytes);
	hasher.finalize().into()
}

/// Largest magnitude of a value in a table.
pub const MAX_VALUE: f32 = 1e9;

/// A numeric table: `rows × n_features` features (row-major) and one target per row.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
	pub n_features: usize,
	pub features: Vec<f32>,
	pub targets: Vec<f32>,
}

impl Dataset {
	pub fn rows(&self) -> usize {
		self.targets.len()
	}

	/// Parses CSV bytes: header line, then numeric rows with the target in the last column.
	pub fn from_csv(bytes: &[u8]) -> Result<Self, EngineError> {
		let text =
			std::str::from_utf8(bytes).map_err(|_| EngineError::BadDataset("not UTF-8".into()))?;
		let mut lines = text.lines().filter(|l| !l.trim().is_empty());
		let header = lines.next().ok_or_else(|| EngineError::BadDataset("empty file".into()))?;
		let columns = header.split(',').count();
		if columns < 2 {
			return Err(EngineError::BadDataset("needs at least one feature and a target".into()));
		}
		let mut features = Vec::new();
		let mut targets = Vec::new();
		for (line_no, line) in lines.enumerate() {
			let values: Vec<f32> = line
				.split(',')
				.map(|v| v.trim().parse::<f32>())
				.collect::<Result<_, _>>()
				.map_err(|e| EngineError::BadDataset(format!("row {}: {e}", line_no + 2)))?;
			// NaN, infinities and huge values make an honest run diverge, and verifiers reject
			// a diverged run: the provider would be slashed for the data's fault.
			if let Some(bad) = values.iter().find(|v| !v.is_finite() || v.abs() > MAX_VALUE) {
				return Err(EngineError::BadDataset(format!(
					"row {}: {bad} (values must be finite and within ±{MAX_VALUE:e})",
					line_no + 2
				)));
			}
			if values.len() != columns {
				return Err(EngineError::BadDataset(format!(
					"row {} has {} columns, header has {columns}",
					line_no + 2,
					values.len()
				)));
			}
			let (x, y) = values.split_at(columns - 1);
			features.extend_from_slice(x);
			targets.extend_from_slice(y);
		}
		if targets.len() < 10 {
			return Err(EngineError::BadDataset("fewer than 10 rows".into()));
		}
		Ok(Self { n_features: columns - 1, features, targets })
	}

	/// The fixed train / held-out split: the last 20% of rows are held out. Generated files are
	/// already shuffled, so every verifier evaluates on exactly the same rows.
	pub fn split(&self) -> (Dataset, Dataset) {
		let held_out = (self.rows() / 5).max(1);
		let train_rows = self.rows() - held_out;
		let cut = train_rows * self.n_features;
		(
			Dataset {
				n_features: self.n_features,
				features: self.features[..cut].to_vec(),
				targets: self.targets[..train_rows].to_vec(),
			},
			Dataset {
				n_features: self.n_features,
				features: self.features[cut..].to_vec(),
				targets: self.targets[train_rows..].to_vec(),
			},
		)
	}
}

/// Name of the built-in credit scoring dataset file.
pub const CREDIT_SCORING: &str = "credit-scoring.csv";
/// Name of the built-in energy-load regression dataset file.
pub const ENERGY_LOAD: &str = "energy-load.csv";

/// Credit scoring: 3,000 applicants, 8 features, label 1 = default. The default probability
/// is a fixed logistic function of the features (with an interaction), so a model can learn it
/// but not perfectly.
pub fn credit_scoring_csv() -> Vec<u8> {
	let mut rng = SeededRng::new(0xC0FFEE);
	let mut out = String::from(
		"income_k,debt_ratio,age,history_years,late_payments,loan_k,employment_years,open_accounts,default\n",
	);
	for _ in 0..3_000 {
		let income = (45.0 + 20.0 * rng.normal()).clamp(8.0, 200.0);
		let debt_ratio = rng.range(0.0, 1.2);
		let age = rng.range(19.0, 75.0);
		let history = (age - 18.0) * rng.uniform();
		let late = (rng.uniform() * rng.uniform() * 8.0).floor();
		let loan = (income * rng.range(0.1, 1.5)).clamp(1.0, 300.0);
		let employment = (age - 18.0).min(40.0) * rng.uniform();
		let accounts = (rng.uniform() * 12.0).floor();
		let z = -1.2 + 2.4 * debt_ratio + 0.45 * late - 0.03 * income - 0.06 * history
			+ 0.012 * loan
			- 0.04 * employment
			+ 0.9 * debt_ratio * (loan / income).min(3.0)
			+ 0.05 * accounts;
		let p_default = 1.0 / (1.0 + (-z).exp());
		let label = u8::from(rng.uniform() < p_default);
		let _ = writeln!(
			out,
			"{income:.2},{debt_ratio:.4},{age:.1},{history:.2},{late:.0},{loan:.2},{employment:.2},{accounts:.0},{label}"
		);
	}
	out.into_bytes()
}

/// Energy load: 2,000 hourly readings, 6 features, target = load in MW (a smooth nonlinear
/// function of temperature, hour and day type, plus noise).
pub fn energy_load_csv() -> Vec<u8> {
	let mut rng = SeededRng::new(0xE1EC);
	let mut out = String::from("temperature_c,humidity,hour,weekend,solar_wm2,wind_ms,load_mw\n");
	for _ in 0..2_000 {
		let temperature = 15.0 + 10.0 * rng.normal();
		let humidity = rng.range(0.2, 0.95);
		let hour = rng.below(24) as f64;
		let weekend = f64::from(u8::from(rng.uniform() < 2.0 / 7.0));
		let daylight = ((hour - 6.0) / 12.0 * std::f64::consts::PI).sin().max(0.0);
		let solar = daylight * rng.range(200.0, 900.0);
		let wind = rng.range(0.0, 15.0);
		let load = 400.0 + 3.0 * (temperature - 18.0).powi(2) + 120.0 * daylight - 80.0 * weekend
			+ 40.0 * humidity
			- 0.05 * solar
			+ 10.0 * rng.normal();
		let _ = writeln!(
			out,
			"{temperature:.2},{humidity:.3},{hour:.0},{weekend:.0},{solar:.1},{wind:.2},{:.2}",
			load / 100.0
		);
	}
	out.into_bytes()
}

/// The built-in text corpus's file name.
pub const CORPUS: &str = "generated-corpus.txt";
/// Words of the built-in corpus (about: it ends on a sentence).
pub const CORPUS_WORDS: usize = 60_000;

/// The built-in text corpus: [`crate::lm::corpus::generated_corpus`] of seed 2026.
pub fn corpus_txt() -> Vec<u8> {
	crate::lm::corpus::generated_corpus(2026, CORPUS_WORDS).into_bytes()
}

/// The built-in image set's file name ([`images::shapes_csv`]).
pub const SHAPES: &str = "generated-shapes.csv";

/// The built-in datasets: file name and content.
pub fn builtin() -> Vec<(&'static str, Vec<u8>)> {
	vec![
		(CREDIT_SCORING, credit_scoring_csv()),
		(ENERGY_LOAD, energy_load_csv()),
		(CORPUS, corpus_txt()),
		(SHAPES, images::shapes_csv()),
	]
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn builtin_datasets_are_deterministic_and_parse() {
		for (name, bytes) in builtin() {
			let again = builtin().into_iter().find(|(n, _)| *n == name).map(|(_, b)| b);
			assert_eq!(Some(blake2_256(&bytes)), again.map(|b| blake2_256(&b)), "{name}");
			if name == CORPUS {
				continue;
			}
			let data = Dataset::from_csv(&bytes).expect("parses");
			assert!(data.rows() >= 2_000);
			let (train, test) = data.split();
			assert_eq!(train.rows() + test.rows(), data.rows());
			assert_eq!(test.rows(), data.rows() / 5);
		}
		let credit = Dataset::from_csv(&credit_scoring_csv()).expect("parses");
		let positives = credit.targets.iter().filter(|t| **t == 1.0).count();
		// A learnable but not trivial label: neither class dominates completely.
		assert!((300..2_700).contains(&positives), "{positives} defaults");
	}

	/// The chain registers the shipped datasets at genesis under constants in
	/// `aicchain-primitives`: they must be the hashes (and shapes) of the files generated here.
	#[test]
	fn builtin_datasets_match_the_hashes_the_chain_registers() {
		use aicchain_primitives::datasets as chain;
		let credit = credit_scoring_csv();
		let energy = energy_load_csv();
		let shapes = images::shapes_csv();
		assert_eq!(blake2_256(&shapes), chain::SHAPES_HASH, "{SHAPES}");
		assert_eq!(SHAPES.as_bytes(), chain::SHAPES_NAME);
		assert_eq!(blake2_256(&credit), chain::CREDIT_SCORING_HASH, "credit-scoring.csv");
		assert_eq!(blake2_256(&energy), chain::ENERGY_LOAD_HASH, "energy-load.csv");
		assert_eq!(CREDIT_SCORING.as_bytes(), chain::CREDIT_SCORING_NAME);
		assert_eq!(ENERGY_LOAD.as_bytes(), chain::ENERGY_LOAD_NAME);
		for (bytes, rows, columns) in [
			(&credit, chain::CREDIT_SCORING_ROWS, chain::CREDIT_SCORING_COLUMNS),
			(&energy, chain::ENERGY_LOAD_ROWS, chain::ENERGY_LOAD_COLUMNS),
			(&shapes, chain::SHAPES_ROWS, chain::SHAPES_COLUMNS),
		] {
			let data = Dataset::from_csv(bytes).expect("parses");
			assert_eq!(data.rows(), rows as usize);
			assert_eq!(data.n_features + 1, columns as usize);
		}
		let corpus = corpus_txt();
		for (bytes, size) in [
			(&credit, chain::CREDIT_SCORING_BYTES),
			(&energy, chain::ENERGY_LOAD_BYTES),
			(&corpus, chain::CORPUS_BYTES),
			(&shapes, chain::SHAPES_BYTES),
		] {
			assert_eq!(bytes.len() as u64, size);
		}
		let text = crate::lm::replay::TextData::from_text(&corpus).expect("text");
		assert_eq!(blake2_256(&corpus), chain::CORPUS_HASH, "{CORPUS}");
		assert_eq!(CORPUS.as_bytes(), chain::CORPUS_NAME);
		assert_eq!(text.windows(), chain::CORPUS_ROWS as usize);
		assert_eq!(text.vocab, chain::CORPUS_COLUMNS as usize);
		let shipped: Vec<[u8; 32]> = chain::shipped().into_iter().map(|(h, _)| h.0).collect();
		let built: Vec<[u8; 32]> = builtin().iter().map(|(_, b)| blake2_256(b)).collect();
		assert_eq!(shipped, built);
	}

	#[test]
	fn malformed_csv_is_an_error() {
		assert!(Dataset::from_csv(b"").is_err());
		assert!(Dataset::from_csv(b"only\n1\n").is_err());
		assert!(Dataset::from_csv(b"a,b\n1,x\n").is_err());
		assert!(Dataset::from_csv(b"a,b\n1,2,3\n").is_err());
		assert!(Dataset::from_csv(&[0xff, 0xfe]).is_err());
		let rows = |value: &str| format!("a,b\n{}", format!("{value},1\n").repeat(12));
		assert!(Dataset::from_csv(rows("2.5").as_bytes()).is_ok());
		for bad in ["NaN", "inf", "-inf", "1e38", "-2e9"] {
			assert!(Dataset::from_csv(rows(bad).as_bytes()).is_err(), "{bad}");
		}
	}
}
