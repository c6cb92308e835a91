//! Node-selection benchmark: PPO against every baseline and an oracle on the same jobs
//! (common random numbers) of several markets. `make perf` runs it; alone:
//! `cargo bench -p aicchain-worker --bench policy -- --seeds 10 --jobs 3000`.
//!
//! Prints the Markdown table (each figure's mean ± 95% CI across markets), the paired
//! difference of PPO and the best non-oracle baseline, then JSON lines: one
//! `{"kind":"curve",...}` (PPO's mean reward per training rollout, and the greedy policy's on
//! held-out markets every 5 updates) and one `{"kind":"strategy",...}`
//! per strategy with its per-market rewards, for `scripts/perf/policy_report.py`.
//! Options: `--seeds 10` (markets first..first+N−1), `--first-seed 1`, `--jobs 3000`, and PPO's
//! `--updates`, `--steps`, `--epochs`, `--gamma`, `--lambda`, `--lr`, `--entropy` (defaults:
//! [`PpoConfig::default`]). Tune on markets apart from the reported ones (`--first-seed 101`).

use aicchain_worker::selection::{
	benchmark, mean_ci,
	ppo::{Ppo, PpoConfig},
	run, table, Strategy,
};
use std::time::Instant;

fn arg<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> Result<T, String> {
	match args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)) {
		Some(v) => v.parse().map_err(|_| format!("{name}: cannot read {v:?}")),
		None => Ok(default),
	}
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
	let args: Vec<String> = std::env::args().collect();
	let (seeds, jobs) = (arg(&args, "--seeds", 10)?, arg(&args, "--jobs", 3_000)?);
	let first: u64 = arg(&args, "--first-seed", 1)?;
	let d = PpoConfig::default();
	let config = PpoConfig {
		updates: arg(&args, "--updates", d.updates)?,
		steps: arg(&args, "--steps", d.steps)?,
		epochs: arg(&args, "--epochs", d.epochs)?,
		gamma: arg(&args, "--gamma", d.gamma)?,
		lambda: arg(&args, "--lambda", d.lambda)?,
		learning_rate: arg(&args, "--lr", d.learning_rate)?,
		entropy: arg(&args, "--entropy", d.entropy)?,
		..d
	};
	if seeds < 2 || jobs == 0 || config.updates == 0 || config.steps == 0 {
		return Err("--seeds must be at least 2, --jobs, --updates and --steps positive".into());
	}
	let updates = config.updates;
	let start = Instant::now();
	// The learning curve: the greedy policy's mean reward on the same 1,000 jobs of two markets
	// kept apart from training and from the benchmark, every 5 updates.
	let held_out = |p: &Ppo| {
		(run(Strategy::Ppo, Some(p), 900_001, 1_000).reward
			+ run(Strategy::Ppo, Some(p), 900_002, 1_000).reward)
			/ 2.0
	};
	let (policy, curve, observed) = Ppo::train_observed(&config, 5, held_out)?;
	let trained = start.elapsed().as_secs_f64();
	let seeds: Vec<u64> = (first..first + seeds as u64).collect();
	let rows = benchmark(&policy, &seeds, jobs);
	println!(
		"PPO: {updates} rollouts of {} decisions in {trained:.1} s (γ {}, λ {}, lr {}, {} epochs, entropy {}); {} markets from seed {first} × {jobs} jobs\n",
		config.steps,
		config.gamma,
		config.lambda,
		config.learning_rate,
		config.epochs,
		config.entropy,
		seeds.len()
	);
	print!("{}", table(&rows));
	let rewards = |s: Strategy| -> Vec<f64> {
		rows.iter()
			.find(|(r, _)| *r == s)
			.map(|(_, f)| f.iter().map(|x| x.reward).collect())
			.unwrap_or_default()
	};
	let best = [
		Strategy::Random,
		Strategy::GreedyCheapest,
		Strategy::GreedyGreenest,
		Strategy::ChainFallback,
		Strategy::TrackRecord,
		Strategy::Ucb,
	]
	.into_iter()
	.max_by(|a, b| mean_ci(&rewards(*a)).0.total_cmp(&mean_ci(&rewards(*b)).0))
	.ok_or("no baselines")?;
	let (ppo, oracle, base) = (rewards(Strategy::Ppo), rewards(Strategy::Oracle), rewards(best));
	let paired: Vec<f64> = ppo.iter().zip(&base).map(|(p, b)| p - b).collect();
	let (diff, ci) = mean_ci(&paired);
	let gap = mean_ci(&oracle).0 - mean_ci(&base).0;
	println!(
		"\nPPO − {} (best non-oracle baseline), paired by market: {diff:+.4} ± {ci:.4}; share of the baseline-to-oracle gap closed: {:.0}%",
		best.name(),
		100.0 * diff / gap
	);
	let (updates_done, held_out): (Vec<usize>, Vec<f64>) = observed.into_iter().unzip();
	println!(
		"{}",
		serde_json::json!({
			"kind": "curve", "steps": config.steps, "rewards": curve,
			"held_out_updates": updates_done, "held_out": held_out,
		})
	);
	for (strategy, figures) in &rows {
		let rewards: Vec<f64> = figures.iter().map(|f| f.reward).collect();
		println!(
			"{}",
			serde_json::json!({ "kind": "strategy", "name": strategy.name(), "rewards": rewards })
		);
	}
	Ok(())
}
