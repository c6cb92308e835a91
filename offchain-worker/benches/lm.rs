//! Transformer language-model training throughput in tokens/s (`make perf`, next to
//! `scripts/perf/lm_torch.py`, PyTorch on the same shape, batch, context and optimiser): AdamW
//! steps on batches of random windows (the speed does not depend on the text) for a time
//! budget, after one warm-up step. Alone:
//! `cargo bench -p aicchain-worker --bench lm -- --repeats 3`.
//!
//! Prints one JSON object per shape:
//! `{"engine":"candle autograd","model":"transformer …","unit":"tokens/s","samples_per_s":[…]}`.
//! Options: `--shapes seed,small` (seed: 10k vocabulary, 256 dimensions, 4 heads, 2 layers, 64
//! tokens of context; small: 2k, 128, 4, 2, 64), `--batch 16`, `--repeats 3`, `--budget 5`.

use aicchain_worker::lm::{LmShape, LmTrainer, LmTraining, TransformerLm};
use candle_core::Device;
use std::time::Instant;

fn arg(args: &[String], name: &str) -> Option<String> {
	args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

fn shape_named(name: &str) -> Option<LmShape> {
	match name {
		"seed" => Some(LmShape::SEED),
		"small" => Some(LmShape { vocab: 2_000, dim: 128, heads: 4, layers: 2, context: 64 }),
		_ => None,
	}
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
	let args: Vec<String> = std::env::args().collect();
	let shapes = arg(&args, "--shapes").unwrap_or_else(|| "seed".into());
	let batch: usize = arg(&args, "--batch").map(|v| v.parse()).transpose()?.unwrap_or(16);
	let repeats: usize = arg(&args, "--repeats").map(|v| v.parse()).transpose()?.unwrap_or(3);
	let budget: f64 = arg(&args, "--budget").map(|v| v.parse()).transpose()?.unwrap_or(5.0);
	if batch == 0 || repeats == 0 || !budget.is_finite() || budget <= 0.0 {
		return Err("--batch, --repeats and --budget must be positive".into());
	}
	for name in shapes.split(',') {
		let shape = shape_named(name).ok_or(format!("unknown shape {name} (seed, small)"))?;
		let mut rng = aicchain_worker::rng::SeededRng::new(9);
		let tokens: Vec<u32> = (0..200_000).map(|_| rng.below(shape.vocab) as u32).collect();
		let mut rates = Vec::new();
		for repeat in 0..repeats {
			let model = TransformerLm::new(shape, repeat as u64, &Device::Cpu)?;
			let how = LmTraining { steps: 0, batch, learning_rate: 1e-3, seed: repeat as u64 };
			let mut trainer = LmTrainer::new(&model, &tokens, &how)?;
			trainer.step()?; // warm-up
			let (mut steps, start) = (0usize, Instant::now());
			while start.elapsed().as_secs_f64() < budget {
				trainer.step()?;
				steps += 1;
			}
			let seconds = start.elapsed().as_secs_f64();
			rates.push((steps * batch * shape.context) as f64 / seconds);
		}
		let model = format!(
			"transformer {}×{} h{} v{} c{}",
			shape.layers, shape.dim, shape.heads, shape.vocab, shape.context
		);
		println!(
			"{}",
			serde_json::json!({
				"engine": "candle autograd", "model": model, "unit": "tokens/s",
				"parameters": shape.parameters(), "batch": batch, "samples_per_s": rates,
			})
		);
	}
	Ok(())
}
