//! Read-only commands: balances, nodes, the provider leaderboard and market statistics.

use crate::common::{all_nodes, balances, explain, parse_account, print_nodes, show, show_str};
use aicchain_client::{account_of, pair_from_suri, Client};
use serde_json::{json, Value};
use sp_core::crypto::Ss58Codec;

/// `balance`: AICC and AICG balances of `account` (default: the signer).
pub(crate) fn balance(client: &Client, suri: &str, account: Option<&str>) -> Result<(), String> {
	let who = match account {
		Some(a) => parse_account(a)?,
		None => account_of(&pair_from_suri(suri)?),
	};
	let (aicc, aicg) = balances(client, &who)?;
	println!(
		"{}\n  AICC {:>20} free, {} reserved/held\n  AICG {:>20} free, {} frozen",
		who.to_ss58check(),
		show(aicc.free),
		show(aicc.reserved),
		show(aicg.free),
		show(aicg.frozen)
	);
	Ok(())
}

/// `nodes`: registered nodes with at least `min_gpus` GPUs.
pub(crate) fn nodes(client: &Client, min_gpus: u32) -> Result<(), String> {
	print_nodes(&all_nodes(client, json!({ "minGpus": min_gpus }))?);
	Ok(())
}

/// `leaderboard`: providers ranked by completed jobs and reputation.
pub(crate) fn leaderboard(client: &Client) -> Result<(), String> {
	let nodes = all_nodes(client, Value::Null)?;
	let mut rows: Vec<&Value> = nodes.as_array().map(|a| a.iter().collect()).unwrap_or_default();
	rows.sort_by(|a, b| {
		b["completedJobs"].as_u64().cmp(&a["completedJobs"].as_u64()).then(
			b["reputation"]
				.as_f64()
				.partial_cmp(&a["reputation"].as_f64())
				.unwrap_or(std::cmp::Ordering::Equal),
		)
	});
	let mut period = None;
	println!(
		"{:<4} {:<50} {:>9} {:>6} {:>11} {:>10} {:>14} {:>12}",
		"rank", "provider", "completed", "failed", "reputation", "renewable", "points", "claimable"
	);
	for (i, n) in rows.iter().enumerate() {
		let owner = n["owner"].as_str().unwrap_or("?");
		let c = client.rpc("compute_contribution", json!([owner])).map_err(explain)?;
		let mark = if c["qualified"] == true { "*" } else { " " };
		println!(
			"{:<4} {:<50} {:>9} {:>6} {:>10.1}% {:>9}% {:>13}{mark} {:>12}",
			i + 1,
			owner,
			n["completedJobs"],
			n["failedJobs"],
			n["reputation"].as_f64().unwrap_or(0.0),
			n["spec"]["renewableShare"],
			show_str(&c["points"]),
			show_str(&c["claimable"]),
		);
		period.get_or_insert(c);
	}
	if let Some(c) = period {
		println!(
			"reward period {} ends at block {}: pool {} AICG; {} AICC of verified work qualifies \
			 (*), less rolls over",
			c["period"],
			c["periodEndsAt"],
			show_str(&c["periodPool"]),
			show_str(&c["threshold"]),
		);
	}
	Ok(())
}

/// `stats`: network and market statistics, and the community fund.
pub(crate) fn stats(client: &Client) -> Result<(), String> {
	let stats = client.rpc("compute_marketStats", json!([])).map_err(explain)?;
	let fund = client.rpc("compute_fund", json!([])).map_err(explain)?;
	println!(
		"nodes: {} ({} active, {} renewable), {} GPUs",
		stats["nodes"], stats["activeNodes"], stats["renewableNodes"], stats["totalGpus"]
	);
	println!(
		"jobs: {} submitted, {} open, {} settled, {} failed, {} unverified, {} expired, {} cancelled",
		stats["jobsSubmitted"],
		stats["openJobs"],
		stats["settledJobs"],
		stats["failedJobs"],
		stats["unverifiedJobs"],
		stats["expiredJobs"],
		stats["cancelledJobs"]
	);
	println!(
		"volume: {} AICC; providers earned {} AICC; fund received {} AICC",
		show_str(&stats["volume"]),
		show_str(&stats["providerEarnings"]),
		show_str(&stats["fundIncome"])
	);
	println!(
		"carbon: {} g emitted, {} g avoided against the grid",
		stats["carbonGrams"], stats["carbonReductionGrams"]
	);
	println!(
		"community fund {}: {} AICC, {} committed, {} active subsidies",
		fund["account"].as_str().unwrap_or("?"),
		show_str(&fund["balance"]),
		show_str(&fund["committed"]),
		fund["activeSubsidies"].as_array().map(|a| a.len()).unwrap_or(0)
	);
	Ok(())
}

/// The node's compute engine's decision for job `id` (`compute_selection`): every candidate's
/// probability, the proposal, whether it explored; then how the chain assigned the job.
pub(crate) fn selection(client: &Client, id: u64) -> Result<(), String> {
	let selection = client.rpc("compute_selection", json!([id])).map_err(explain)?;
	print_selection(&selection);
	let job = client.rpc("compute_job", json!([id])).map_err(explain)?;
	let status = &job["status"];
	let node = if status["node"].is_null() {
		String::new()
	} else {
		format!(" on node {}", status["node"])
	};
	println!("chain: {}{node}", status["stage"].as_str().unwrap_or("?"));
	Ok(())
}

/// Prints a `compute_selection` answer: one line per candidate, the proposal marked.
pub(crate) fn print_selection(selection: &Value) {
	for s in selection["scores"].as_array().into_iter().flatten() {
		let mark = if s["node"] == selection["chosen"] { "  <- proposed" } else { "" };
		println!(
			"node {}: {:.1}%{mark}",
			s["node"],
			100.0 * s["probability"].as_f64().unwrap_or(0.0)
		);
	}
	if selection["explored"] == true {
		println!("(an exploring draw, not the most probable candidate)");
	}
	// The state the policy saw: each candidate's features (by name).
	for s in selection["scores"].as_array().into_iter().flatten() {
		let features: Vec<String> = s["features"]
			.as_object()
			.into_iter()
			.flatten()
			.map(|(name, value)| format!("{name} {:.3}", value.as_f64().unwrap_or(f64::NAN)))
			.collect();
		if !features.is_empty() {
			println!("  node {} state: {}", s["node"], features.join(", "));
		}
	}
	if let Some(expected) = selection["expectedReward"].as_f64() {
		println!("critic's expected reward: {expected:.3}");
	}
	match selection["outcome"]["reward"].as_f64() {
		Some(reward) => {
			println!(
				"outcome: node {} ran it, reward learnt {reward:.3}",
				selection["outcome"]["node"]
			)
		},
		None => println!("outcome: none learnt yet"),
	}
}
