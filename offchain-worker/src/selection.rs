//! Node selection, compared fairly: a market simulated on common random numbers
//! ([`market`]), the strategies a selection policy must beat ([`strategies`]), PPO
//! ([`ppo`]), and the benchmark: every strategy on the same jobs of several markets, with each
//! figure's mean and 95% confidence interval across markets.

pub mod market;
pub mod ppo;
pub mod strategies;

use aicchain_primitives::SustainabilityPreference;
use market::Market;
pub use strategies::{Chooser, Strategy};

/// One strategy's figures on one market.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Figures {
	/// Mean reward per job.
	pub reward: f64,
	/// Mean AICC per GPU-hour of the jobs that succeeded.
	pub cost: f64,
	/// Mean kg CO2e of the jobs that succeeded.
	pub carbon_kg: f64,
	/// Mean kg CO2e per GPU-hour of the successful jobs that prefer renewable power, and of
	/// those that do not mind (`Any`).
	pub carbon_preferring: f64,
	pub carbon_any: f64,
	/// Share of the jobs that failed (unserved ones included).
	pub failure_rate: f64,
	/// Mean hours until a result (a failure counts the 10-hour timeout).
	pub delay: f64,
}

/// Runs `jobs` jobs of the market of `seed` with `strategy`.
pub fn run(strategy: Strategy, policy: Option<&ppo::Ppo>, seed: u64, jobs: usize) -> Figures {
	let mut market = Market::new(seed);
	let mut chooser = Chooser::new(strategy, seed, policy);
	let (mut reward, mut cost, mut carbon, mut successes, mut delay) = (0.0, 0.0, 0.0, 0, 0.0);
	// (kg CO2e per GPU-hour summed, jobs) for jobs preferring renewable power and for `Any`.
	let (mut preferring, mut any) = ((0.0, 0u32), (0.0, 0u32));
	for _ in 0..jobs {
		let offer = market.offer();
		let choice = chooser.choose(&market, &offer);
		let outcome = market.run(&offer, choice);
		reward += outcome.reward;
		delay += outcome.delay;
		if outcome.success {
			successes += 1;
			cost += outcome.cost_per_gpu_hour;
			carbon += outcome.carbon_kg;
			let per_gpu_hour = outcome.carbon_kg / offer.job.gpu_hours().max(1.0);
			let tally = match offer.job.requirements.sustainability {
				SustainabilityPreference::PreferRenewable => Some(&mut preferring),
				SustainabilityPreference::Any => Some(&mut any),
				SustainabilityPreference::RenewableOnly(_) => None,
			};
			if let Some((sum, count)) = tally {
				*sum += per_gpu_hour;
				*count += 1;
			}
		}
	}
	let (n, s) = (jobs.max(1) as f64, f64::from(successes).max(1.0));
	Figures {
		reward: reward / n,
		cost: cost / s,
		carbon_kg: carbon / s,
		carbon_preferring: preferring.0 / f64::from(preferring.1.max(1)),
		carbon_any: any.0 / f64::from(any.1.max(1)),
		failure_rate: 1.0 - f64::from(successes) / n,
		delay: delay / n,
	}
}

/// Mean and half-width of the 95% confidence interval (Student's t) of `values`.
pub fn mean_ci(values: &[f64]) -> (f64, f64) {
	let n = values.len();
	if n == 0 {
		return (f64::NAN, f64::NAN);
	}
	let mean = values.iter().sum::<f64>() / n as f64;
	if n == 1 {
		return (mean, f64::INFINITY);
	}
	let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
	// t quantiles (0.975) for 1..=30 degrees of freedom, then the normal's.
	const T: [f64; 30] = [
		12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
		2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
		2.052, 2.048, 2.045, 2.042,
	];
	let t = T.get(n - 2).copied().unwrap_or(1.96);
	(mean, t * (variance / n as f64).sqrt())
}

/// Every strategy's figures on the markets of `seeds` (`jobs` each): one row per strategy,
/// one [`Figures`] per seed, the seeds in order (so rows pair up: common random numbers).
pub fn benchmark(policy: &ppo::Ppo, seeds: &[u64], jobs: usize) -> Vec<(Strategy, Vec<Figures>)> {
	Strategy::ALL
		.iter()
		.map(|s| (*s, seeds.iter().map(|seed| run(*s, Some(policy), *seed, jobs)).collect()))
		.collect()
}

/// The benchmark as a Markdown table: each figure's mean ± 95% CI across the seeds.
pub fn table(rows: &[(Strategy, Vec<Figures>)]) -> String {
	let mut out = String::from(
		"| strategy | reward | cost (AICC/GPU-h) | carbon (kg CO2e/job) | g CO2e/GPU-h: any / prefers renewable | failure rate | delay (h) |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n",
	);
	for (strategy, figures) in rows {
		let cell = |f: &dyn Fn(&Figures) -> f64, scale: f64, digits: usize| {
			let (mean, ci) = mean_ci(&figures.iter().map(|x| f(x) * scale).collect::<Vec<_>>());
			format!("{mean:.digits$} ± {ci:.digits$}")
		};
		out.push_str(&format!(
			"| {} | {} | {} | {} | {} / {} | {}% | {} |\n",
			strategy.name(),
			cell(&|f| f.reward, 1.0, 3),
			cell(&|f| f.cost, 1.0, 3),
			cell(&|f| f.carbon_kg, 1.0, 2),
			cell(&|f| f.carbon_any, 1_000.0, 0),
			cell(&|f| f.carbon_preferring, 1_000.0, 0),
			cell(&|f| f.failure_rate, 100.0, 1),
			cell(&|f| f.delay, 1.0, 2),
		));
	}
	out
}

#[cfg(test)]
mod tests;
