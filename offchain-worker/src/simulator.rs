//! A simulated compute market to train and benchmark the selection policy.
//!
//! Nodes have a price, carbon intensity, renewable share and a *hidden* reliability; cheap
//! nodes are more often unreliable, and every node fails more when loaded. What the policy
//! sees is what the chain shows: price, energy, reputation (moved by outcomes like the
//! registry's), load and track record. Reward (what the policy optimises) = −(cost / budget)
//! − carbon weight × carbon − failure penalty − delay weight × delay.

use crate::{
	policy::{self, Policy, FEATURES},
	rng::SeededRng,
	EngineError,
};
use aicchain_primitives::{engine_api::CandidateNode, JobRequirements, SustainabilityPreference};
use sp_runtime::{traits::Saturating, Perbill, Percent};

/// Candidates offered per decision.
pub const CANDIDATES: usize = 16;
const MAX_JOBS_PER_NODE: u32 = 4;
/// Reward of a failed job (before delay).
pub const FAILURE_PENALTY: f64 = 1.5;
const CARBON_WEIGHT: f64 = 0.6;
const DELAY_WEIGHT: f64 = 0.3;

#[derive(Clone, Debug)]
struct SimNode {
	node: CandidateNode,
	price: f64,
	reliability: f64,
	/// Steps each running job still takes.
	running: Vec<u32>,
}

/// The market.
pub struct Market {
	nodes: Vec<SimNode>,
	rng: SeededRng,
}

/// What one decision led to.
#[derive(Clone, Copy, Debug, Default)]
pub struct Outcome {
	pub success: bool,
	/// Cost paid, in AICC per GPU-hour of the job (0 on failure: the user is refunded).
	pub cost_per_gpu_hour: f64,
	/// Emissions of the job, in kg CO2e (0 on failure).
	pub carbon_kg: f64,
	/// Steps until the result (failures take the whole timeout).
	pub delay: f64,
	pub reward: f64,
}

/// One decision: the candidates' features, the index chosen, and what happened.
pub type Decision = (Vec<[f32; FEATURES]>, usize, Outcome);

/// Reward of a successful job from its cost as a share of the budget and its emissions per
/// GPU-hour (kg CO2e); the engine's online updates use the same measure as training here.
pub fn success_reward(cost_share: f64, carbon_kg_per_gpu_hour: f64) -> f64 {
	-cost_share - CARBON_WEIGHT * carbon_kg_per_gpu_hour / 0.3
}

/// A node-choosing strategy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
	Policy,
	GreedyCheapest,
	GreedyGreenest,
	Random,
}

impl Strategy {
	pub fn name(&self) -> &'static str {
		match self {
			Self::Policy => "RL policy (PPO)",
			Self::GreedyCheapest => "greedy cheapest",
			Self::GreedyGreenest => "greedy greenest",
			Self::Random => "random",
		}
	}
}

impl Market {
	/// `size` nodes drawn from `seed`.
	pub fn new(size: usize, seed: u64) -> Self {
		let mut rng = SeededRng::new(seed);
		let nodes = (0..size)
			.map(|i| {
				let price = rng.range(0.5, 3.0);
				let cheapness = (3.0 - price) / 2.5;
				let renewable =
					if rng.uniform() < 0.4 { rng.range(0.6, 1.0) } else { rng.range(0.0, 0.4) };
				// Cheap nodes are more often unreliable; the rest is hidden noise.
				let reliability = (0.97 - 0.35 * cheapness * rng.uniform() - 0.1 * rng.uniform())
					.clamp(0.3, 0.99);
				let mut node = CandidateNode {
					node_id: i as u32,
					gpu_count: 1 << rng.below(6),
					gpu_memory_gib: 80,
					bandwidth_mbps: rng.range(50.0, 1_000.0) as u32,
					latency_ms: rng.range(2.0, 60.0) as u32,
					renewable_share: Percent::from_percent((renewable * 100.0) as u8),
					carbon_intensity: ((1.0 - renewable) * rng.range(300.0, 800.0) + 20.0) as u32,
					cost: 0,
					reputation: Perbill::from_percent(50),
					active_jobs: 0,
					max_jobs: MAX_JOBS_PER_NODE,
					completed_jobs: 0,
					failed_jobs: 0,
				};
				// A track record before the episode starts, as on a chain that has been running.
				for _ in 0..rng.below(30) {
					record(&mut node, rng.uniform() < reliability);
				}
				SimNode { node, price, reliability, running: Vec::new() }
			})
			.collect();
		Self { nodes, rng }
	}

	/// A job and up to `CANDIDATES` nodes that meet its constraints and have a free slot.
	fn next_job(&mut self) -> (JobRequirements, u128, Vec<usize>) {
		let gpus = 1 << self.rng.below(4);
		let req = JobRequirements {
			gpus,
			min_bandwidth_mbps: 100,
			max_latency_ms: 50,
			gpu_hours: 1 + self.rng.below(8) as u32,
			sustainability: SustainabilityPreference::Any,
			training: None,
		};
		let budget = (3.0 * f64::from(gpus * req.gpu_hours) * 1e6) as u128;
		let mut eligible: Vec<usize> = (0..self.nodes.len())
			.filter(|i| {
				let n = &self.nodes[*i].node;
				n.gpu_count >= gpus
					&& n.bandwidth_mbps >= req.min_bandwidth_mbps
					&& n.latency_ms <= req.max_latency_ms
					&& n.active_jobs < n.max_jobs
			})
			.collect();
		self.rng.shuffle(&mut eligible);
		eligible.truncate(CANDIDATES);
		for i in &eligible {
			let node = &mut self.nodes[*i];
			node.node.cost = (node.price * f64::from(gpus * req.gpu_hours) * 1e6) as u128;
		}
		(req, budget, eligible)
	}

	fn run(&mut self, index: usize, req: &JobRequirements, budget: u128) -> Outcome {
		let load = {
			let n = &self.nodes[index].node;
			f64::from(n.active_jobs) / f64::from(n.max_jobs)
		};
		let node = &mut self.nodes[index];
		let fail_probability = (1.0 - node.reliability) + 0.25 * load * load;
		let success = self.rng.uniform() >= fail_probability;
		let duration = 1 + (f64::from(req.gpu_hours) * (1.0 + load)).round() as u32;
		node.running.push(duration);
		node.node.active_jobs += 1;
		record(&mut node.node, success);
		let gpu_hours = f64::from(req.gpus * req.gpu_hours);
		let delay = if success { f64::from(duration) } else { 10.0 };
		let carbon_kg = gpu_hours * 0.4 * f64::from(node.node.carbon_intensity) / 1_000.0;
		let cost = node.node.cost as f64;
		let reward = if success {
			success_reward(cost / budget as f64, carbon_kg / gpu_hours)
				- DELAY_WEIGHT * delay / 10.0
		} else {
			-FAILURE_PENALTY - DELAY_WEIGHT
		};
		Outcome {
			success,
			cost_per_gpu_hour: if success { node.price } else { 0.0 },
			carbon_kg: if success { carbon_kg } else { 0.0 },
			delay,
			reward,
		}
	}

	/// Time passes: running jobs progress and free their slots.
	fn tick(&mut self) {
		for node in &mut self.nodes {
			for left in &mut node.running {
				*left = left.saturating_sub(1);
			}
			let before = node.running.len();
			node.running.retain(|l| *l > 0);
			node.node.active_jobs -= (before - node.running.len()) as u32;
		}
	}

	/// One decision by `strategy`: the candidates' features, the index chosen, and the outcome.
	pub fn step(
		&mut self,
		strategy: Strategy,
		policy: Option<&Policy>,
		explore: bool,
	) -> Result<Option<Decision>, EngineError> {
		self.tick();
		let (req, budget, eligible) = self.next_job();
		if eligible.is_empty() {
			return Ok(None);
		}
		let feats: Vec<[f32; FEATURES]> =
			eligible.iter().map(|i| policy::features(&self.nodes[*i].node, &req, budget)).collect();
		let choice = match strategy {
			Strategy::Random => self.rng.below(eligible.len()),
			Strategy::GreedyCheapest => min_index(&eligible, |i| self.nodes[i].price),
			Strategy::GreedyGreenest => {
				min_index(&eligible, |i| f64::from(self.nodes[i].node.carbon_intensity))
			},
			Strategy::Policy => {
				let policy = policy.ok_or(EngineError::InvalidSpec("no policy".into()))?;
				let probabilities = policy.probabilities(&feats)?;
				if explore {
					policy::sample(&probabilities, &mut self.rng)
				} else {
					policy::argmax(&probabilities).unwrap_or(0)
				}
			},
		};
		let outcome = self.run(eligible[choice], &req, budget);
		Ok(Some((feats, choice, outcome)))
	}
}

fn min_index(eligible: &[usize], key: impl Fn(usize) -> f64) -> usize {
	eligible
		.iter()
		.enumerate()
		.min_by(|a, b| key(*a.1).total_cmp(&key(*b.1)))
		.map(|(i, _)| i)
		.unwrap_or(0)
}

/// The registry's reputation rule: success closes 10% of the gap to 100%, failure removes 20%.
pub(crate) fn record(node: &mut CandidateNode, success: bool) {
	let r = node.reputation;
	node.reputation = if success {
		r.saturating_add(Perbill::from_percent(10) * (Perbill::one().saturating_sub(r)))
	} else {
		r.saturating_sub(Perbill::from_percent(20) * r)
	};
	if success {
		node.completed_jobs = node.completed_jobs.saturating_add(1);
	} else {
		node.failed_jobs = node.failed_jobs.saturating_add(1);
	}
}

/// Trains a policy with PPO on a market from `seed`: `updates` batches of `batch` decisions
/// (sampled from the policy of the batch, among exactly `CANDIDATES` candidates), each followed
/// by [`crate::policy::PPO`]'s epochs.
pub fn train_policy(seed: u64, updates: usize, batch: usize) -> Result<Policy, EngineError> {
	let mut policy = Policy::new(seed, &candle_core::Device::Cpu)?;
	let mut market = Market::new(400, seed.wrapping_add(1));
	for _ in 0..updates {
		let mut decisions = Vec::with_capacity(batch);
		while decisions.len() < batch {
			if let Some((candidates, ran, outcome)) =
				market.step(Strategy::Policy, Some(&policy), true)?
			{
				if candidates.len() == CANDIDATES {
					let p = policy.probabilities(&candidates)?.get(ran).copied().unwrap_or(1.0);
					let log_prob = p.max(f32::MIN_POSITIVE).ln();
					let reward = outcome.reward;
					decisions.push(policy::Decision { candidates, ran, reward, log_prob });
				}
			}
		}
		policy.ppo_step(&decisions, &crate::policy::PPO)?;
	}
	Ok(policy)
}

/// Mean figures of one strategy over an evaluation run.
#[derive(Clone, Copy, Debug)]
pub struct Evaluation {
	pub strategy: Strategy,
	pub jobs: usize,
	pub mean_cost: f64,
	pub mean_carbon_kg: f64,
	pub failure_rate: f64,
	pub mean_delay: f64,
	pub mean_reward: f64,
}

/// Runs `jobs` decisions of `strategy` on a fresh market from `seed` (the same jobs and
/// outcomes' randomness for every strategy given the same choices).
pub fn evaluate(
	strategy: Strategy,
	policy: Option<&Policy>,
	seed: u64,
	jobs: usize,
) -> Result<Evaluation, EngineError> {
	let mut market = Market::new(400, seed);
	let mut outcomes = Vec::with_capacity(jobs);
	while outcomes.len() < jobs {
		if let Some((_, _, outcome)) = market.step(strategy, policy, false)? {
			outcomes.push(outcome);
		}
	}
	let n = jobs as f64;
	let successes: Vec<&Outcome> = outcomes.iter().filter(|o| o.success).collect();
	let s = successes.len().max(1) as f64;
	Ok(Evaluation {
		strategy,
		jobs,
		mean_cost: successes.iter().map(|o| o.cost_per_gpu_hour).sum::<f64>() / s,
		mean_carbon_kg: successes.iter().map(|o| o.carbon_kg).sum::<f64>() / s,
		failure_rate: 1.0 - successes.len() as f64 / n,
		mean_delay: outcomes.iter().map(|o| o.delay).sum::<f64>() / n,
		mean_reward: outcomes.iter().map(|o| o.reward).sum::<f64>() / n,
	})
}

/// The policy and every baseline on the same market and jobs.
pub fn compare_with_baselines(
	policy: &Policy,
	seed: u64,
	jobs: usize,
) -> Result<Vec<Evaluation>, EngineError> {
	[Strategy::Policy, Strategy::GreedyCheapest, Strategy::GreedyGreenest, Strategy::Random]
		.into_iter()
		.map(|s| evaluate(s, Some(policy), seed, jobs))
		.collect()
}

/// The policy-vs-baselines table.
pub fn comparison_table(rows: &[Evaluation]) -> String {
	let mut out = String::from(
		"| strategy | jobs | mean cost (AICC/GPU-h) | mean carbon (kg CO2e/job) | failure rate | mean delay (steps) | mean reward |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n",
	);
	for r in rows {
		out.push_str(&format!(
			"| {} | {} | {:.3} | {:.2} | {:.1}% | {:.2} | {:.3} |\n",
			r.strategy.name(),
			r.jobs,
			r.mean_cost,
			r.mean_carbon_kg,
			100.0 * r.failure_rate,
			r.mean_delay,
			r.mean_reward
		));
	}
	out
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn trained_policy_beats_random_and_a_greedy_baseline_on_reward() {
		let policy = train_policy(7, 150, 64).expect("trains");
		let eval = |s| evaluate(s, Some(&policy), 99, 3_000).expect("evaluates");
		let learnt = eval(Strategy::Policy);
		let random = eval(Strategy::Random);
		let cheapest = eval(Strategy::GreedyCheapest);
		let greenest = eval(Strategy::GreedyGreenest);
		println!("{}", comparison_table(&[learnt, random, cheapest, greenest]));
		assert!(learnt.mean_reward > random.mean_reward, "{learnt:?} vs {random:?}");
		assert!(
			learnt.mean_reward > cheapest.mean_reward.min(greenest.mean_reward),
			"{learnt:?} vs {cheapest:?} / {greenest:?}"
		);
		// The untrained policy is no better than chance: learning made the difference.
		let untrained = Policy::new(7, &candle_core::Device::Cpu).expect("policy");
		let before = evaluate(Strategy::Policy, Some(&untrained), 99, 3_000).expect("evaluates");
		assert!(learnt.mean_reward > before.mean_reward, "{learnt:?} vs untrained {before:?}");
	}

	#[test]
	fn policy_survives_a_save_and_load() {
		let dir = tempfile::tempdir().expect("tempdir");
		let path = dir.path().join("policy.safetensors");
		let policy = train_policy(3, 5, 16).expect("trains");
		policy.save(&path).expect("saves");
		let loaded =
			Policy::load(&path, &candle_core::Device::Cpu).expect("loads").expect("exists");
		let mut market = Market::new(50, 1);
		let (req, budget, eligible) = market.next_job();
		let feats: Vec<_> = eligible
			.iter()
			.map(|i| policy::features(&market.nodes[*i].node, &req, budget))
			.collect();
		assert_eq!(
			policy.probabilities(&feats).expect("p"),
			loaded.probabilities(&feats).expect("p")
		);
		assert!(Policy::load(&dir.path().join("missing"), &candle_core::Device::Cpu)
			.expect("ok")
			.is_none());
	}
}
