//! `demo`: the seed's end-to-end demo replayed against the chain.

use crate::common::{
	all_nodes, balances, explain, parse_account, print_nodes, show, show_str, submit_and_wait, UNIT,
};
use crate::jobs::{follow, requirements, submit_job, JobArgs};
use crate::provider::{node_spec, NodeArgs};
use aicchain_client::{account_of, keys, pair_from_suri, Client};
use aicchain_primitives::SubsidyScope;
use aicchain_runtime::{Balance, Runtime, RuntimeCall};
use serde_json::{json, Value};
use sp_runtime::Perbill;
use std::{
	io::{BufRead, Write},
	time::{Duration, Instant},
};

fn ask(prompt: &str, default: u32, yes: bool) -> Result<u32, String> {
	if yes {
		println!("{prompt} [{default}]: {default}");
		return Ok(default);
	}
	print!("{prompt} [{default}]: ");
	let _ = std::io::stdout().flush();
	let mut line = String::new();
	std::io::stdin().lock().read_line(&mut line).map_err(|e| e.to_string())?;
	let line = line.trim();
	if line.is_empty() {
		Ok(default)
	} else {
		line.parse().map_err(|_| format!("`{line}` is not a number"))
	}
}

/// The seed demo: three nodes (two solar, one grid), a 50% subsidy voted by AICG holders, a
/// credit-scoring job from Ferdie, and the results table, every figure read from the chain.
pub(crate) fn demo(
	client: &Client,
	yes: bool,
	gpus: Option<u32>,
	bandwidth: Option<u32>,
	latency: Option<u32>,
) -> Result<(), String> {
	println!("== AICChain demo ==");
	let gpus = match gpus {
		Some(g) => g,
		None => ask("GPUs", 8, yes)?,
	};
	let bandwidth = match bandwidth {
		Some(b) => b,
		None => ask("minimum bandwidth (Mbps)", 100, yes)?,
	};
	let latency = match latency {
		Some(l) => l,
		None => ask("maximum latency (ms)", 15, yes)?,
	};

	// 1. Providers: Bob and Charlie on solar, Dave on the grid, each its own worker.
	let providers = [
		("//Bob", 90u8, 40u32, "1.5", "eu-north"),
		("//Charlie", 80, 60, "1.8", "eu-south"),
		("//Dave", 0, 475, "1.2", "us-east"),
	];
	for (suri, renewable, carbon, price, region) in providers {
		let pair = pair_from_suri(suri)?;
		let bound: Option<u32> = client
			.storage(&keys::blake2_map("ComputeRegistry", "NodeByWorker", &account_of(&pair)))
			.map_err(explain)?;
		if bound.is_none() {
			let args = NodeArgs {
				gpus: 16,
				gpu_memory_gib: 80,
				bandwidth: 200,
				latency: 8,
				region: region.into(),
				renewable,
				carbon,
				price: price.into(),
			};
			let call = pallet_compute_registry::Call::<Runtime>::register_node {
				spec: node_spec(&args)?,
				worker: account_of(&pair),
			};
			submit_and_wait(client, &pair, RuntimeCall::ComputeRegistry(call))?;
		}
	}
	println!("\n-- registered nodes --");
	print_nodes(&all_nodes(client, json!({ "minGpus": gpus }))?);

	// 2. A 50% subsidy for renewable providers, voted by AICG holders.
	let alice = pair_from_suri("//Alice")?;
	let proposal: u32 = client
		.storage(&keys::value("CommunityFund", "NextProposalId"))
		.map_err(explain)?
		.unwrap_or(0);
	let terms = pallet_community_fund::SubsidyTerms {
		share: Perbill::from_percent(50),
		scope: SubsidyScope::RenewableProviders,
		per_job_cap: 100 * UNIT,
		total_budget: 500 * UNIT,
		duration: 14_400,
	};
	submit_and_wait(
		client,
		&alice,
		RuntimeCall::CommunityFund(pallet_community_fund::Call::propose_subsidy { terms }),
	)?;
	for suri in ["//Alice", "//Bob", "//Charlie"] {
		let call = pallet_community_fund::Call::<Runtime>::vote {
			proposal_id: proposal,
			aye: true,
			amount: 5_000 * UNIT,
		};
		submit_and_wait(client, &pair_from_suri(suri)?, RuntimeCall::CommunityFund(call))?;
	}
	println!("\n-- subsidy proposal {proposal}: 50% for renewable providers; Alice, Bob and Charlie vote aye with 5,000 AICG each --");
	let start = Instant::now();
	loop {
		let fund = client.rpc("compute_fund", json!([])).map_err(explain)?;
		if fund["activeSubsidies"]
			.as_array()
			.is_some_and(|a| a.iter().any(|s| s["id"] == json!(proposal)))
		{
			println!(
				"approved after {:.0}s; fund {} AICC, {} committed",
				start.elapsed().as_secs_f64(),
				show_str(&fund["balance"]),
				show_str(&fund["committed"])
			);
			break;
		}
		if start.elapsed() > Duration::from_secs(300) {
			return Err("the subsidy vote did not close within 5 minutes".into());
		}
		std::thread::sleep(Duration::from_secs(3));
	}

	// 3. Ferdie's credit-scoring job.
	let ferdie = pair_from_suri("//Ferdie")?;
	let fund_account = parse_account(
		client.rpc("compute_fund", json!([])).map_err(explain)?["account"]
			.as_str()
			.unwrap_or_default(),
	)?;
	let before =
		[balances(client, &account_of(&ferdie))?.0.free, balances(client, &fund_account)?.0.free];
	let job_args = JobArgs {
		gpus,
		bandwidth,
		latency,
		hours: 10,
		budget: "400".into(),
		train: "credit-scoring".into(),
		model: None,
		hidden_units: None,
		hidden_layers: None,
		min_score: 0,
		parent: None,
		epochs: 5,
		prefer_renewable: true,
		renewable_only: None,
	};
	let id = submit_job(client, &ferdie, requirements(&job_args)?, 400 * UNIT, None)?;
	println!("\n-- job {id}: {gpus} GPUs, {bandwidth} Mbps, {latency} ms, 10 GPU-hours, credit-scoring MLP, budget 400 AICC --");
	let job = follow(client, id)?;
	let receipt = &job["receipt"];
	if receipt.is_null() {
		return Err(format!("job {id} ended as {} without settling", job["status"]["stage"]));
	}
	let node = all_nodes(client, Value::Null)?
		.as_array()
		.and_then(|a| a.iter().find(|n| n["id"] == receipt["node"]).cloned())
		.unwrap_or(Value::Null);
	println!("\n-- the RL policy's decision (this node's compute engine) --");
	match client.rpc("compute_selection", json!([id])) {
		Ok(selection) => crate::queries::print_selection(&selection),
		Err(e) => println!("(no scores: {})", explain(e)),
	}
	println!(
		"assigned to node {} ({}% renewable, {} gCO2/kWh)",
		receipt["node"], node["spec"]["renewableShare"], node["spec"]["carbonIntensity"]
	);
	let after =
		[balances(client, &account_of(&ferdie))?.0.free, balances(client, &fund_account)?.0.free];
	let provider = parse_account(receipt["provider"].as_str().unwrap_or_default())?;
	let cost: Balance = receipt["cost"].as_str().and_then(|s| s.parse().ok()).unwrap_or(0);
	let paid: Balance = receipt["userPaid"].as_str().and_then(|s| s.parse().ok()).unwrap_or(0);
	let reduction = receipt["carbonReductionGrams"].as_u64().unwrap_or(0);
	let emitted = receipt["carbonGrams"].as_u64().unwrap_or(0);
	println!("\n| result | value |\n| --- | --- |");
	println!("| cost of the job | {} AICC |", show(cost));
	println!("| effective cost to the user (after the subsidy) | {} AICC |", show(paid));
	println!(
		"| cost saving from the subsidy | {} AICC ({:.0}%) |",
		show(cost.saturating_sub(paid)),
		if cost > 0 { 100.0 * cost.saturating_sub(paid) as f64 / cost as f64 } else { 0.0 }
	);
	println!(
		"| payment split | provider {} AICC (90%), community fund {} AICC (10%) |",
		show_str(&receipt["providerAmount"]),
		show_str(&receipt["fundAmount"])
	);
	println!("| renewable bonus to the provider | {} AICC |", show_str(&receipt["renewableBonus"]));
	println!(
		"| carbon emitted / avoided against the grid | {} g / {} g ({:.0}% less) |",
		emitted,
		reduction,
		if emitted + reduction > 0 {
			100.0 * reduction as f64 / (emitted + reduction) as f64
		} else {
			0.0
		}
	);
	println!("| user (Ferdie) balance | {} → {} AICC |", show(before[0]), show(after[0]));
	println!("| provider balance | {} AICC |", show(balances(client, &provider)?.0.free));
	println!("| community fund balance | {} → {} AICC |", show(before[1]), show(after[1]));
	Ok(())
}
