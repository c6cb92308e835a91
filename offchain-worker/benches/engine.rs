//! Engine benchmarks that print figures (run: `cargo bench -p aicchain-worker`):
//! training throughput of the reference MLP, selection latency for 10 / 1,000 / 10,000
//! candidates, and the policy-vs-baselines table on the simulator.

mod common;

use aicchain_primitives::{ModelKind, TrainingSpec};
use aicchain_worker::{
	dataset::{blake2_256, credit_scoring_csv, Dataset},
	model, policy, simulator,
};
use sp_core::H256;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
	let device = match std::env::var("AICCHAIN_BENCH_DEVICE") {
		Ok(name) => aicchain_worker::engine::device_from_name(&name)?,
		Err(_) => candle_core::Device::Cpu,
	};
	println!("device: {device:?}");

	// Training throughput: the seed demo's credit-scoring MLP.
	let bytes = credit_scoring_csv();
	let data = Dataset::from_csv(&bytes)?;
	let train_rows = data.split().0.rows();
	for (hidden_units, hidden_layers) in [(32u32, 2u8), (256, 3)] {
		let spec = TrainingSpec {
			dataset: H256(blake2_256(&bytes)),
			model: ModelKind::MlpClassifier,
			hidden_units,
			hidden_layers,
			learning_rate_millionths: 5_000,
			epochs: 10,
			seed: 1,
			min_score: Default::default(),
			parent: None,
		};
		model::train(&spec, &data, &device)?; // warm-up
		let start = Instant::now();
		let trained = model::train(&spec, &data, &device)?;
		let seconds = start.elapsed().as_secs_f64();
		println!(
			"training MLP {hidden_layers}x{hidden_units}: {} samples in {seconds:.2} s = {:.0} samples/s (accuracy {:.3})",
			train_rows * 10,
			(train_rows * 10) as f64 / seconds,
			f64::from(trained.metrics.score.deconstruct()) / 1e9
		);
	}

	// Selection latency.
	let policy = simulator::train_policy(1, 150, 64)?;
	let requirements = common::requirements();
	for count in [10usize, 1_000, 10_000] {
		let candidates = common::candidates(count);
		let rounds = if count > 1_000 { 20 } else { 200 };
		let start = Instant::now();
		for _ in 0..rounds {
			let feats: Vec<_> =
				candidates.iter().map(|c| policy::features(c, &requirements, 2_000)).collect();
			let probabilities = policy.probabilities(&feats)?;
			std::hint::black_box(policy::argmax(&probabilities));
		}
		let micros = start.elapsed().as_secs_f64() * 1e6 / rounds as f64;
		println!("selection among {count:>6} candidates: {micros:>9.1} µs per decision");
	}

	// Policy against baselines.
	let rows = simulator::compare_with_baselines(&policy, 99, 3_000)?;
	print!("{}", simulator::comparison_table(&rows));
	Ok(())
}
