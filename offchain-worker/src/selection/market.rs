//! A compute market for comparing node-selection strategies on common random numbers.
//!
//! - **Nodes** (40 per market): 8–64 GPUs, a price of 0.5–3.0 AICC per GPU-hour, a renewable
//!   share and a carbon intensity like the registry's, and a *hidden* reliability (cheap nodes
//!   are more often unreliable). What a strategy sees is what the chain shows: price, carbon,
//!   renewable share, reputation (moved by outcomes by the registry's rule), track record (0–4
//!   past jobs at the start) and load. Churn: each step, with probability 3%, an idle node
//!   leaves and a new one with no record joins, so reliability is never all known.
//! - **Jobs** arrive one per step (a quarter of an hour) with the chain's ranges: 4–16 GPUs, 50–200 Mbps, 5–20 ms,
//!   1–8 hours, a sustainability preference (any, prefer renewable, renewable only ≥ 50%), and
//!   a budget of 3 AICC per GPU-hour. Up to [`CANDIDATES`] eligible nodes (enough free GPUs,
//!   bandwidth and latency, the preference's floor) are offered in an order drawn per job.
//! - **Outcomes**: a job fails with probability (1 − reliability) + 0.3 × load², load being the
//!   node's share of busy GPUs when it starts; it keeps its GPUs busy for hours × (1 + load)
//!   hours. So each choice changes what the next jobs find (load and queues), and reliability
//!   must be learned from outcomes.
//! - **Common random numbers**: job `j`'s requirements and candidate order come from a stream
//!   of (seed, `j`) alone, and its outcome on node `n` from a stream of (seed, `j`, `n`), so
//!   every strategy sees exactly the same jobs, and the same draw for the same job on the same
//!   node; churn has a stream of (seed, `j`) and a strategy's own randomness its own stream.
//! - **Reward** ([`reward`]): −(cost / budget) − carbon per GPU-hour (weighed
//!   [`PREFER_RENEWABLE_CARBON_WEIGHT`] times for a job preferring renewable power) − 0.03 ×
//!   hours until the result; a failure −1.5 and the 10-hour timeout.

use crate::{
	policy,
	rng::SeededRng,
	simulator::{record, success_reward, FAILURE_PENALTY},
};
use aicchain_primitives::{
	engine_api::CandidateNode, JobRequirements, SustainabilityPreference,
	PREFER_RENEWABLE_CARBON_WEIGHT,
};
use sp_runtime::{Perbill, Percent};

/// Candidates offered per job (the chain's sample is larger; workers score what it offers).
pub const CANDIDATES: usize = 16;
/// Features per candidate: the engine's nine ([`policy::features`]), whether the job prefers
/// renewable power, the node's share of busy GPUs (the chain knows each running job's GPUs),
/// how little its record says (1 / √(jobs + 1)), the job's length (hours / 8),
/// the public estimate of its success (record less the load's failure share) and the expected
/// reward with that estimate (the track-record strategy's score; ÷ 2).
pub const FEATURES: usize = policy::FEATURES + 6;
/// Nodes per market.
pub const NODES: usize = 40;
/// Hours a failed job costs its user (the result timeout).
const TIMEOUT: f64 = 10.0;
const DELAY_WEIGHT: f64 = 0.3;
/// Failure probability added at full load (× load²).
pub const LOAD_FAILURE: f64 = 0.3;
/// Market steps (one job arrives per step) per hour.
const STEPS_PER_HOUR: f64 = 4.0;

/// Hours a job of `hours` GPU-hours takes on a node at `load` (a loaded node is slower).
pub fn hours_taken(hours: u32, load: f64) -> f64 {
	f64::from(hours) * (1.0 + load)
}

/// A node as the market holds it: its public record and what only the market knows.
#[derive(Clone, Debug)]
pub struct MarketNode {
	/// What the chain shows (`cost` is set per job).
	pub public: CandidateNode,
	pub price: f64,
	/// Hidden: the probability of success of a job on the idle node.
	pub reliability: f64,
	/// Busy GPUs and, per running job, (steps left, GPUs).
	busy: u32,
	running: Vec<(u32, u32)>,
}

impl MarketNode {
	/// A node drawn from `rng` with `history` past jobs on its record.
	fn draw(rng: &mut SeededRng, node_id: u32, history: usize) -> Self {
		let price = rng.range(0.5, 3.0);
		let cheapness = (3.0 - price) / 2.5;
		let renewable = if rng.uniform() < 0.4 { rng.range(0.6, 1.0) } else { rng.range(0.0, 0.4) };
		let reliability =
			(0.99 - 0.5 * cheapness * rng.uniform() - 0.2 * rng.uniform()).clamp(0.3, 0.99);
		let mut public = CandidateNode {
			node_id,
			gpu_count: 8 << rng.below(4),
			gpu_memory_gib: 80,
			bandwidth_mbps: rng.range(50.0, 1_000.0) as u32,
			latency_ms: rng.range(2.0, 25.0) as u32,
			renewable_share: Percent::from_percent((renewable * 100.0) as u8),
			carbon_intensity: ((1.0 - renewable) * rng.range(300.0, 800.0) + 20.0) as u32,
			cost: 0,
			reputation: Perbill::from_percent(50),
			active_jobs: 0,
			max_jobs: 8,
			completed_jobs: 0,
			failed_jobs: 0,
		};
		for _ in 0..history {
			record(&mut public, rng.uniform() < reliability);
		}
		Self { public, price, reliability, busy: 0, running: Vec::new() }
	}

	/// Share of the node's GPUs busy.
	pub fn load(&self) -> f64 {
		f64::from(self.busy) / f64::from(self.public.gpu_count.max(1))
	}

	/// The true probability that a job started now fails.
	pub fn failure_probability(&self) -> f64 {
		((1.0 - self.reliability) + LOAD_FAILURE * self.load().powi(2)).clamp(0.0, 1.0)
	}
}

/// A job and its budget.
#[derive(Clone, Debug)]
pub struct Job {
	pub index: u64,
	pub requirements: JobRequirements,
	pub budget: u128,
}

impl Job {
	/// GPU-hours the job pays for.
	pub fn gpu_hours(&self) -> f64 {
		f64::from(self.requirements.gpus * self.requirements.gpu_hours)
	}

	pub fn prefers_renewable(&self) -> bool {
		self.requirements.sustainability == SustainabilityPreference::PreferRenewable
	}
}

/// What one job's choice led to.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Outcome {
	/// Whether a node was offered at all (no eligible node: the job fails unserved).
	pub served: bool,
	pub success: bool,
	/// AICC per GPU-hour paid (0 on failure: the user is refunded).
	pub cost_per_gpu_hour: f64,
	/// kg CO2e emitted (0 on failure).
	pub carbon_kg: f64,
	/// Hours until the result (a failure costs the timeout).
	pub delay: f64,
	pub reward: f64,
}

/// A job on offer: the job, the candidates (node indices) and each one's features.
#[derive(Clone, Debug)]
pub struct Offer {
	pub job: Job,
	pub candidates: Vec<usize>,
	pub features: Vec<[f32; FEATURES]>,
}

/// The market.
#[derive(Clone, Debug)]
pub struct Market {
	seed: u64,
	pub nodes: Vec<MarketNode>,
	next_job: u64,
}

/// A stream of random numbers for one purpose and one set of indices of a market's seed.
fn stream(seed: u64, purpose: u64, a: u64, b: u64) -> SeededRng {
	let mut x = seed ^ purpose.wrapping_mul(0x9E37_79B9_7F4A_7C15);
	for v in [a, b] {
		x = (x ^ v).wrapping_mul(0xBF58_476D_1CE4_E5B9).rotate_left(31);
	}
	SeededRng::new(x)
}

const NODE_STREAM: u64 = 1;
const JOB_STREAM: u64 = 2;
const OUTCOME_STREAM: u64 = 3;
const CHURN_STREAM: u64 = 4;
/// Probability per step that a node leaves (when idle) and a new one joins.
const CHURN: f64 = 0.03;

/// The public estimate of the success probability of a job started now on `node` at `load`:
/// its record ((completed + 1) / (jobs + 2)), raised by `optimism` / √(jobs + 1) (capped at 1),
/// less the load's failure share.
pub fn estimated_success(node: &CandidateNode, load: f64, optimism: f64) -> f64 {
	let (done, failed) = (f64::from(node.completed_jobs), f64::from(node.failed_jobs));
	let record = (done + 1.0) / (done + failed + 2.0);
	let bonus = optimism / (done + failed + 1.0).sqrt();
	((record + bonus).min(1.0) - LOAD_FAILURE * load.powi(2)).clamp(0.0, 1.0)
}

/// Expected reward of running `job` on `node` (its `cost` set for the job) at `load` if it
/// succeeds with probability `p`.
pub fn expected_reward(node: &CandidateNode, load: f64, job: &Job, p: f64) -> f64 {
	let carbon = job.gpu_hours() * 0.4 * f64::from(node.carbon_intensity) / 1_000.0;
	let hours = hours_taken(job.requirements.gpu_hours, load);
	let win = reward(job, true, node.cost as f64, carbon, hours);
	p * win + (1.0 - p) * reward(job, false, 0.0, 0.0, 0.0)
}

/// The features a strategy sees of candidate `node` (with `load`, its busy GPUs' share) for
/// `job`.
pub fn features(node: &CandidateNode, load: f64, job: &Job) -> [f32; FEATURES] {
	let mut out = [0f32; FEATURES];
	let base = policy::features(node, &job.requirements, job.budget);
	let track = f64::from(node.completed_jobs) + f64::from(node.failed_jobs);
	let success = estimated_success(node, load, 0.0);
	let extra = [
		f32::from(u8::from(job.prefers_renewable())),
		load as f32,
		(1.0 / (track + 1.0).sqrt()) as f32,
		(f64::from(job.requirements.gpu_hours) / 8.0) as f32,
		success as f32,
		(expected_reward(node, load, job, success) / 2.0) as f32,
	];
	for (o, b) in out.iter_mut().zip(base.into_iter().chain(extra)) {
		*o = b;
	}
	out
}

/// The reward of a job's outcome: −(cost / budget) − carbon (per GPU-hour, weighted three
/// times for a job preferring renewable power) − delay; a failure −1.5 and the timeout.
pub fn reward(job: &Job, success: bool, cost: f64, carbon_kg: f64, delay: f64) -> f64 {
	if !success {
		return -FAILURE_PENALTY - DELAY_WEIGHT * TIMEOUT / 10.0;
	}
	let weight = if job.prefers_renewable() { PREFER_RENEWABLE_CARBON_WEIGHT as f64 } else { 1.0 };
	let carbon_term = success_reward(0.0, carbon_kg / job.gpu_hours().max(1.0)) * weight;
	-cost / job.budget as f64 + carbon_term - DELAY_WEIGHT * delay / 10.0
}

impl Market {
	/// A market of [`NODES`] nodes drawn from `seed`, each with a track record before the
	/// first job (as on a chain that has been running).
	pub fn new(seed: u64) -> Self {
		let nodes = (0..NODES as u64)
			.map(|i| {
				let mut rng = stream(seed, NODE_STREAM, i, 0);
				let history = rng.below(5);
				MarketNode::draw(&mut rng, i as u32, history)
			})
			.collect();
		Self { seed, nodes, next_job: 0 }
	}

	/// Time passes one step, then the next job is offered (its candidates may be none).
	pub fn offer(&mut self) -> Offer {
		for node in &mut self.nodes {
			let mut freed = 0;
			node.running.retain_mut(|(left, gpus)| {
				*left = left.saturating_sub(1);
				if *left == 0 {
					freed += *gpus;
				}
				*left > 0
			});
			node.busy = node.busy.saturating_sub(freed);
			node.public.active_jobs = node.running.len() as u32;
		}
		let index = self.next_job;
		self.next_job += 1;
		// Churn: now and then an idle node leaves and a new one, with no record, takes its place.
		let mut churn = stream(self.seed, CHURN_STREAM, index, 0);
		if churn.uniform() < CHURN {
			let slot = churn.below(NODES);
			if let Some(node) = self.nodes.get_mut(slot).filter(|n| n.running.is_empty()) {
				*node = MarketNode::draw(&mut churn, (NODES as u64 + index) as u32, 0);
			}
		}
		let mut rng = stream(self.seed, JOB_STREAM, index, 0);
		let gpus = 4 + rng.below(13) as u32;
		let roll = rng.uniform();
		let sustainability = if roll < 0.2 {
			SustainabilityPreference::PreferRenewable
		} else if roll < 0.3 {
			SustainabilityPreference::RenewableOnly(Percent::from_percent(50))
		} else {
			SustainabilityPreference::Any
		};
		let requirements = JobRequirements {
			gpus,
			min_bandwidth_mbps: 50 + rng.below(151) as u32,
			max_latency_ms: 5 + rng.below(16) as u32,
			gpu_hours: 1 + rng.below(8) as u32,
			sustainability,
			training: None,
		};
		let budget = (3.0 * f64::from(gpus * requirements.gpu_hours) * 1e6) as u128;
		let job = Job { index, requirements, budget };
		let mut candidates: Vec<usize> = (0..self.nodes.len())
			.filter(|i| self.nodes.get(*i).is_some_and(|n| self.eligible(n, &job)))
			.collect();
		rng.shuffle(&mut candidates);
		candidates.truncate(CANDIDATES);
		let mut features = Vec::with_capacity(candidates.len());
		for i in &candidates {
			if let Some(node) = self.nodes.get_mut(*i) {
				node.public.cost = (node.price * job.gpu_hours() * 1e6) as u128;
				features.push(self::features(&node.public, node.load(), &job));
			}
		}
		Offer { job, candidates, features }
	}

	fn eligible(&self, node: &MarketNode, job: &Job) -> bool {
		let req = &job.requirements;
		let floor = match req.sustainability {
			SustainabilityPreference::RenewableOnly(p) => p,
			_ => Percent::zero(),
		};
		node.public.gpu_count.saturating_sub(node.busy) >= req.gpus
			&& node.public.bandwidth_mbps >= req.min_bandwidth_mbps
			&& node.public.latency_ms <= req.max_latency_ms
			&& node.public.renewable_share >= floor
	}

	/// Runs `offer`'s job on its candidate `choice` (`None`: nobody was offered) and records
	/// the outcome on the node's public record.
	pub fn run(&mut self, offer: &Offer, choice: Option<usize>) -> Outcome {
		let job = &offer.job;
		let Some(node) =
			choice.and_then(|c| offer.candidates.get(c)).and_then(|i| self.nodes.get_mut(*i))
		else {
			return Outcome {
				served: false,
				delay: TIMEOUT,
				reward: reward(job, false, 0.0, 0.0, TIMEOUT),
				..Default::default()
			};
		};
		let mut rng = stream(self.seed, OUTCOME_STREAM, job.index, u64::from(node.public.node_id));
		let success = rng.uniform() >= node.failure_probability();
		let hours = hours_taken(job.requirements.gpu_hours, node.load());
		let duration = (hours * STEPS_PER_HOUR).ceil() as u32;
		node.busy += job.requirements.gpus;
		node.running.push((duration.max(1), job.requirements.gpus));
		node.public.active_jobs = node.running.len() as u32;
		record(&mut node.public, success);
		let gpu_hours = job.gpu_hours();
		let carbon_kg = gpu_hours * 0.4 * f64::from(node.public.carbon_intensity) / 1_000.0;
		let cost = node.price * gpu_hours * 1e6;
		let delay = if success { hours } else { TIMEOUT };
		Outcome {
			served: true,
			success,
			cost_per_gpu_hour: if success { node.price } else { 0.0 },
			carbon_kg: if success { carbon_kg } else { 0.0 },
			delay,
			reward: reward(job, success, cost, carbon_kg, delay),
		}
	}
}
