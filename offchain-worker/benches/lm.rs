//! Transformer language-model training throughput in tokens/s (`make perf`, next to
//! `scripts/perf/lm_torch.py`, PyTorch on the same shape, batch, context and optimiser): the
//! market's canonical training (`lm::replay::LmReplay`: batches of 64 windows of 64 tokens,
//! AdamW on the explicit state) on random tokens (the speed does not depend on the text), step
//! by step for a time budget after one warm-up step. Alone:
//! `cargo bench -p aicchain-worker --bench lm -- --repeats 3`.
//!
//! Prints one JSON object per shape:
//! `{"engine":"candle autograd","model":"transformer …","unit":"tokens/s","samples_per_s":[…]}`.
//! Options: `--shapes seed,small` (seed: 10k vocabulary, 256 dimensions, 4 heads, 2 layers;
//! small: 2k, 128, 4, 2; both a 64-token context), `--repeats 3`, `--budget 12` (seconds).

use aicchain_primitives::{ModelKind, TrainingSpec};
use aicchain_worker::{
	lm::{
		replay::{LmReplay, TextData, LM_WINDOW},
		LmShape,
	},
	model::Arithmetic,
	proof::Replay,
};
use candle_core::Device;
use sp_core::H256;
use std::time::Instant;

/// Windows per step: the market's batch.
const BATCH: usize = 64;

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
	let repeats: usize = arg(&args, "--repeats").map(|v| v.parse()).transpose()?.unwrap_or(3);
	let budget: f64 = arg(&args, "--budget").map(|v| v.parse()).transpose()?.unwrap_or(12.0);
	if repeats == 0 || !budget.is_finite() || budget <= 0.0 {
		return Err("--repeats and --budget must be positive".into());
	}
	for name in shapes.split(',') {
		let shape = shape_named(name).ok_or(format!("unknown shape {name} (seed, small)"))?;
		let mut rng = aicchain_worker::rng::SeededRng::new(9);
		let mut tokens = |windows: usize| -> Vec<u32> {
			(0..windows * LM_WINDOW).map(|_| rng.below(shape.vocab) as u32).collect()
		};
		let data = TextData { train: tokens(40 * BATCH), held_out: tokens(4), vocab: shape.vocab };
		let mut rates = Vec::new();
		for repeat in 0..repeats {
			let spec = TrainingSpec {
				dataset: H256::zero(),
				model: ModelKind::TransformerLm,
				hidden_units: shape.dim as u32,
				hidden_layers: shape.layers as u8,
				learning_rate_millionths: 1_000,
				epochs: 1,
				seed: repeat as u64,
				min_score: Default::default(),
				parent: None,
			};
			let replay = LmReplay::new(&spec, &data, &Device::Cpu)?;
			let mut state = replay.initial_state()?;
			let step = |state: &mut aicchain_worker::model::TrainState| {
				let next = state.step + 1;
				replay.run(state, next, Arithmetic::Canonical)
			};
			step(&mut state)?; // warm-up
			let (mut steps, start) = (0usize, Instant::now());
			while start.elapsed().as_secs_f64() < budget && state.step < replay.total_steps() {
				step(&mut state)?;
				steps += 1;
			}
			let seconds = start.elapsed().as_secs_f64();
			rates.push((steps * BATCH * shape.context) as f64 / seconds);
		}
		let model = format!(
			"transformer {}×{} h{} v{} c{}",
			shape.layers, shape.dim, shape.heads, shape.vocab, shape.context
		);
		println!(
			"{}",
			serde_json::json!({
				"engine": "candle autograd", "model": model, "unit": "tokens/s",
				"parameters": shape.parameters(), "batch": BATCH, "samples_per_s": rates,
			})
		);
	}
	Ok(())
}
