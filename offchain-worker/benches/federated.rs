//! Federated training with one poisoned provider: each aggregation rule's held-out accuracy on
//! the credit-scoring data, against the all-honest run, over several seeds (mean and 95%
//! confidence interval; every rule meets the same shards, initialisation and attacks per seed).
//! `cargo bench -p aicchain-worker --bench federated -- --seeds 10 --rounds 5 --providers 5`.

use aicchain_primitives::{ModelKind, TrainingSpec};
use aicchain_worker::{
	dataset::{blake2_256, credit_scoring_csv, Dataset},
	federated::{Behaviour, Federation, Rule},
	selection::mean_ci,
};
use sp_core::H256;
use std::time::Instant;

fn arg(args: &[String], name: &str, default: u64) -> Result<u64, String> {
	match args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)) {
		Some(v) => v.parse().map_err(|e| format!("{name}: {e}")),
		None => Ok(default),
	}
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
	let args: Vec<String> = std::env::args().collect();
	let seeds = arg(&args, "--seeds", 10)?;
	let rounds = arg(&args, "--rounds", 5)?;
	let providers = arg(&args, "--providers", 5)? as usize;
	if seeds < 2 || rounds == 0 || providers < 3 {
		return Err("--seeds ≥ 2, --rounds ≥ 1, --providers ≥ 3".into());
	}
	let csv = credit_scoring_csv();
	let data = Dataset::from_csv(&csv)?;
	let device = candle_core::Device::Cpu;
	let attacks = [
		("sign-flipped", Behaviour::SignFlip),
		("scaled ×10", Behaviour::Scaled(10.0)),
		("random", Behaviour::Random),
		("missing", Behaviour::Missing),
	];
	// (name, rule, exclude outliers first)
	let rules = [
		("FedAvg", Rule::FedAvg, false),
		("coordinate-wise median", Rule::Median, false),
		("trimmed mean (±1)", Rule::TrimmedMean { trim: 1 }, false),
		("outliers excluded, then FedAvg", Rule::FedAvg, true),
	];
	// scores[rule][column] per seed: column 0 all honest, then one per attack.
	let mut scores = vec![vec![Vec::new(); attacks.len() + 1]; rules.len()];
	let (mut caught, mut poisoned_rounds, mut honest_out, mut honest_rounds) = (0, 0, 0, 0);
	let started = Instant::now();
	for seed in 0..seeds {
		let spec = TrainingSpec {
			dataset: H256(blake2_256(&csv)),
			model: ModelKind::MlpClassifier,
			hidden_units: 16,
			hidden_layers: 1,
			learning_rate_millionths: 10_000,
			epochs: 1,
			seed,
			min_score: Default::default(),
			parent: None,
		};
		let federation = Federation::new(&spec, &data, providers, &device)?;
		for (r, (_, rule, exclude)) in rules.iter().enumerate() {
			let honest = vec![Behaviour::Honest; providers];
			let mut columns = vec![federation.run(&honest, rounds, *rule, *exclude)?];
			for (_, attack) in &attacks {
				let mut behaviours = honest.clone();
				// The poisoned provider is a different one for each seed.
				let bad = (seed as usize) % providers;
				behaviours[bad] = *attack;
				let outcome = federation.run(&behaviours, rounds, *rule, *exclude)?;
				if *exclude {
					for out in &outcome.excluded {
						poisoned_rounds += 1;
						caught += usize::from(out.contains(&bad));
						honest_rounds += providers - 1;
						honest_out += out.iter().filter(|p| **p != bad).count();
					}
				}
				columns.push(outcome);
			}
			for (c, outcome) in columns.iter().enumerate() {
				scores[r][c].push(100.0 * outcome.score);
			}
		}
	}
	println!(
		"{seeds} seeds × {providers} providers × {rounds} rounds, 1×16 MLP, 1 local epoch, \
		 one provider poisoned ({:.1} s)\n",
		started.elapsed().as_secs_f64()
	);
	let mut header = String::from("| rule | all honest |");
	for (name, _) in &attacks {
		header.push_str(&format!(" 1 of {providers} {name} |"));
	}
	println!("{header}");
	println!("| --- |{}", " ---: |".repeat(attacks.len() + 1));
	for ((name, _, _), row) in rules.iter().zip(&scores) {
		let cells: Vec<String> = row
			.iter()
			.map(|values| {
				let (mean, ci) = mean_ci(values);
				format!("{mean:.1} ± {ci:.1}")
			})
			.collect();
		println!("| {name} | {} |", cells.join(" | "));
	}
	println!(
		"\nExclusion: the poisoned provider excluded in {caught} of {poisoned_rounds} rounds; \
		 honest providers excluded {honest_out} times in {honest_rounds} provider-rounds."
	);
	Ok(())
}
