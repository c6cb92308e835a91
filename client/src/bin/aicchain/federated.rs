//! Federated jobs: submit one (several providers train a model together, round by round) and
//! follow its rounds, members and verdicts.

use crate::common::{balances, explain, parse_amount, show, submit_and_wait};
use crate::jobs::{requirements, JobArgs};
use aicchain_client::{account_of, keys, pair_from_suri, Client};
use aicchain_primitives::{AggregationRule, Federation, FederationSpec, FederationStage};
use aicchain_runtime::{AccountId, Balance, BlockNumber, RuntimeCall};
use std::time::{Duration, Instant};

type Record = Federation<AccountId, Balance, BlockNumber>;

fn rule(name: &str) -> Result<AggregationRule, String> {
	match name {
		"fedavg" => Ok(AggregationRule::FedAvg),
		"median" => Ok(AggregationRule::Median),
		"trimmed-mean" => Ok(AggregationRule::TrimmedMean),
		other => Err(format!("unknown rule `{other}`: fedavg, median or trimmed-mean")),
	}
}

fn record(client: &Client, id: u64) -> Result<Option<Record>, String> {
	client.storage(&keys::twox64_map("ComputeJobs", "Federations", &id)).map_err(explain)
}

/// `federate`: submits a federated job and, unless `no_follow`, follows it to its end.
pub(crate) fn submit(
	client: &Client,
	suri: &str,
	job: &JobArgs,
	federated: (u8, u8, &str),
	no_follow: bool,
) -> Result<(), String> {
	let (providers, rounds, rule_name) = federated;
	let spec = FederationSpec { providers, rounds, rule: rule(rule_name)? };
	let requirements = requirements(job)?;
	let budget = parse_amount(&job.budget)?;
	let signer = pair_from_suri(suri)?;
	let (aicc, _) = balances(client, &account_of(&signer))?;
	if aicc.free < budget {
		return Err(format!(
			"insufficient funds: the budget is {} AICC, the account has {} AICC free",
			show(budget),
			show(aicc.free)
		));
	}
	let id: u64 =
		client.storage(&keys::value("ComputeJobs", "NextJobId")).map_err(explain)?.unwrap_or(0);
	let call =
		pallet_compute_jobs::Call::submit_federated { requirements, federated: spec, budget };
	submit_and_wait(client, &signer, RuntimeCall::ComputeJobs(call))?;
	match record(client, id)? {
		Some(job) if job.owner == account_of(&signer) => {},
		_ => {
			return Err(format!(
				"the federated job was not recorded: it needs {providers} free nodes of distinct \
				 owners that meet the requirements, whose costs the budget covers \
				 (`aicchain quote` shows the nodes and their costs)"
			))
		},
	}
	println!("federated job {id} submitted (budget {} AICC held in escrow)", show(budget));
	if no_follow {
		return Ok(());
	}
	let start = Instant::now();
	let mut last = String::new();
	loop {
		let job = record(client, id)?.ok_or("the federated job was pruned")?;
		let line = format!("round {}/{}: {:?}", job.round + 1, job.federated.rounds, job.stage);
		if line != last {
			println!("{line}");
			last = line;
		}
		if matches!(job.stage, FederationStage::Settled | FederationStage::Failed) {
			return print(client, id);
		}
		if start.elapsed() > Duration::from_secs(1_800) {
			return Err(format!("federated job {id} is still open after 30 minutes"));
		}
		std::thread::sleep(Duration::from_secs(2));
	}
}

/// `federation`: a federated job's stage, members and result.
pub(crate) fn print(client: &Client, id: u64) -> Result<(), String> {
	let job = record(client, id)?.ok_or(format!("no federated job with id {id}"))?;
	println!(
		"federated job {id}: {:?}, round {}/{}, {:?}, budget {} AICC",
		job.stage,
		job.round + 1,
		job.federated.rounds,
		job.federated.rule,
		show(job.budget)
	);
	for member in job.members.iter() {
		let state = if member.excluded {
			"excluded (slashed, unpaid)".to_string()
		} else {
			format!("{} rounds kept", member.rounds)
		};
		println!("  node {:>4}  cost {:>10} AICC  {state}", member.node, show(member.cost));
	}
	if let Some((aggregate, kept)) = &job.previous {
		println!("  last aggregate 0x{} of {} updates", hex::encode(aggregate.0), kept.len());
	}
	if let Some(metrics) = job.metrics {
		println!("  final model score {:.1}%", f64::from(metrics.score.deconstruct()) / 1e7);
	}
	Ok(())
}
