//! The strategies the benchmark compares, each choosing one of a job's candidates.
//!
//! - random (its own stream);
//! - greedy cheapest, greedy greenest (lowest carbon intensity);
//! - the chain's fallback: lowest price × (1000 + w × carbon) / (1 + reputation), w = 3 for a
//!   job preferring renewable power (`pallet_compute_jobs::Pallet::fallback_choice`);
//! - track record: the highest expected reward, with the success probability estimated from
//!   the node's public record ((completed + 1) / (jobs + 2)) less the load's share;
//! - UCB: the same with an optimistic success estimate, √(2 ln t / (jobs + 1)) above it;
//! - the PPO policy ([`super::ppo`]);
//! - the oracle: the expected reward with each node's *hidden* true failure probability.

use super::{
	market::{self, Job, Market, Offer},
	ppo::Ppo,
};
use crate::rng::SeededRng;
use aicchain_primitives::PREFER_RENEWABLE_CARBON_WEIGHT;

/// A node-choosing strategy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
	Random,
	GreedyCheapest,
	GreedyGreenest,
	ChainFallback,
	TrackRecord,
	Ucb,
	Ppo,
	Oracle,
}

impl Strategy {
	pub const ALL: [Strategy; 8] = [
		Self::Random,
		Self::GreedyCheapest,
		Self::GreedyGreenest,
		Self::ChainFallback,
		Self::TrackRecord,
		Self::Ucb,
		Self::Ppo,
		Self::Oracle,
	];

	pub fn name(&self) -> &'static str {
		match self {
			Self::Random => "random",
			Self::GreedyCheapest => "greedy cheapest",
			Self::GreedyGreenest => "greedy greenest",
			Self::ChainFallback => "chain fallback score",
			Self::TrackRecord => "track record (expected reward)",
			Self::Ucb => "UCB (optimistic track record)",
			Self::Ppo => "PPO policy",
			Self::Oracle => "oracle (hidden reliabilities)",
		}
	}
}

/// Expected reward of running `job` on node `index` if it succeeds with probability `p`.
fn expected_reward(market: &Market, job: &Job, index: usize, p: f64) -> f64 {
	market
		.nodes
		.get(index)
		.map_or(f64::NEG_INFINITY, |n| market::expected_reward(&n.public, n.load(), job, p))
}

/// The public estimate of a node's success probability now: its record, less the load's
/// failure share.
fn estimated_success(market: &Market, index: usize, optimism: f64) -> f64 {
	market
		.nodes
		.get(index)
		.map_or(0.0, |n| market::estimated_success(&n.public, n.load(), optimism))
}

/// Index (into `offer.candidates`) of the candidate with the highest `score`; ties: the first.
fn best(offer: &Offer, mut score: impl FnMut(usize) -> f64) -> Option<usize> {
	let mut best: Option<(usize, f64)> = None;
	for (c, index) in offer.candidates.iter().enumerate() {
		let s = score(*index);
		if best.is_none_or(|(_, b)| s > b) {
			best = Some((c, s));
		}
	}
	best.map(|(c, _)| c)
}

/// A strategy with its state (the random stream, the decisions so far, the policy).
pub struct Chooser<'a> {
	pub strategy: Strategy,
	rng: SeededRng,
	decisions: u64,
	policy: Option<&'a Ppo>,
}

impl<'a> Chooser<'a> {
	/// `strategy` on a market of `seed` (`policy` for [`Strategy::Ppo`]).
	pub fn new(strategy: Strategy, seed: u64, policy: Option<&'a Ppo>) -> Self {
		Self { strategy, rng: SeededRng::new(seed ^ 0x5EED_CAFE), decisions: 0, policy }
	}

	/// The chosen candidate of `offer` (`None` when it has none, or the PPO strategy has no
	/// policy).
	pub fn choose(&mut self, market: &Market, offer: &Offer) -> Option<usize> {
		if offer.candidates.is_empty() {
			return None;
		}
		self.decisions += 1;
		let node = |i: usize| market.nodes.get(i);
		let t = self.decisions as f64;
		match self.strategy {
			Strategy::Random => Some(self.rng.below(offer.candidates.len())),
			Strategy::GreedyCheapest => best(offer, |i| -node(i).map_or(f64::MAX, |n| n.price)),
			Strategy::GreedyGreenest => {
				best(offer, |i| -node(i).map_or(f64::MAX, |n| f64::from(n.public.carbon_intensity)))
			},
			Strategy::ChainFallback => best(offer, |i| {
				node(i).map_or(f64::NEG_INFINITY, |n| {
					let reputation = 1.0 + f64::from(n.public.reputation.deconstruct());
					let weight = if offer.job.prefers_renewable() {
						PREFER_RENEWABLE_CARBON_WEIGHT as f64
					} else {
						1.0
					};
					let carbon = 1_000.0 + weight * f64::from(n.public.carbon_intensity);
					-(n.price * carbon * 1e9 / reputation)
				})
			}),
			Strategy::TrackRecord => best(offer, |i| {
				expected_reward(market, &offer.job, i, estimated_success(market, i, 0.0))
			}),
			Strategy::Ucb => best(offer, |i| {
				let optimism = (2.0 * t.ln().max(0.0)).sqrt() * 0.1;
				expected_reward(market, &offer.job, i, estimated_success(market, i, optimism))
			}),
			Strategy::Oracle => best(offer, |i| {
				let p = node(i).map_or(0.0, |n| 1.0 - n.failure_probability());
				expected_reward(market, &offer.job, i, p)
			}),
			Strategy::Ppo => self.policy.and_then(|p| p.greedy(&offer.features).ok()),
		}
	}
}
