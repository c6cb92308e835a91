//! Training throughput of the canonical trainer, in the format `scripts/perf/mlp_torch.py`
//! prints for PyTorch (one JSON object per model and arithmetic): the credit-scoring data
//! (2,400 training rows, 8 features), batch 64, AdamW, the spec's schedule.
//!
//! Run: `cargo bench -p aicchain-worker --bench training -- [--shapes 2x32,3x256,4x1024]
//! [--repeats 5] [--budget 2.0] [--autograd]`. `--autograd` also measures candle's autograd
//! path (the canonical step before the fused one).

use aicchain_primitives::{ModelKind, TrainingSpec};
use aicchain_worker::{
	dataset::{blake2_256, credit_scoring_csv, Dataset},
	model::{Arithmetic, Trainer},
};
use sp_core::H256;
use std::time::Instant;

fn arg(name: &str) -> Option<String> {
	let args: Vec<String> = std::env::args().collect();
	args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
	let shapes = arg("--shapes").unwrap_or_else(|| "2x32,3x256,4x1024".into());
	let repeats: u64 = arg("--repeats").map_or(Ok(5), |r| r.parse())?;
	let budget: f64 = arg("--budget").map_or(Ok(2.0), |b| b.parse())?;
	let mut paths = vec![("candle 0.9.1 fused step", Arithmetic::Canonical)];
	if std::env::args().any(|a| a == "--autograd") {
		paths.push(("candle 0.9.1 autograd", Arithmetic::Autograd));
	}
	let bytes = credit_scoring_csv();
	let data = Dataset::from_csv(&bytes)?;
	let device = candle_core::Device::Cpu;
	let threads = candle_core::utils::get_num_threads();
	let train_rows = data.split().0.rows() as f64;
	for shape in shapes.split(',') {
		let (layers, hidden) = shape.split_once('x').ok_or("shapes look like 3x256")?;
		let (hidden_layers, hidden_units) = (layers.parse()?, hidden.parse()?);
		let spec = |epochs: u32, seed: u64| TrainingSpec {
			dataset: H256(blake2_256(&bytes)),
			model: ModelKind::MlpClassifier,
			hidden_units,
			hidden_layers,
			learning_rate_millionths: 5_000,
			epochs,
			seed,
			min_score: Default::default(),
			parent: None,
		};
		for (name, arithmetic) in &paths {
			let rate = |epochs: u32, seed: u64| -> Result<f64, Box<dyn std::error::Error>> {
				let trainer = Trainer::new(&spec(epochs, seed), &data, &device)?;
				let mut state = trainer.initial_state()?;
				let start = Instant::now();
				trainer.run(&mut state, trainer.total_steps(), *arithmetic)?;
				Ok(f64::from(epochs) * train_rows / start.elapsed().as_secs_f64())
			};
			let warm = rate(1, 0)?;
			let epochs = ((budget * warm / train_rows).round() as u32).clamp(1, 1_000);
			let rates =
				(1..=repeats).map(|seed| rate(epochs, seed)).collect::<Result<Vec<_>, _>>()?;
			println!(
				"{{\"engine\": \"{name} ({threads} threads)\", \"model\": \"{shape}\", \"epochs\": {epochs}, \"samples_per_s\": {rates:?}}}"
			);
		}
	}
	Ok(())
}
