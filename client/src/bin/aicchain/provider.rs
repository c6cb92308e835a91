//! Provider commands: registering a node and binding its worker key, its bond and spec, and
//! giving back a job the node cannot run.

use crate::common::{explain, parse_account, parse_amount, show, submit_and_wait};
use aicchain_client::{account_of, keys, pair_from_suri, Client};
use aicchain_primitives::{NodeSpec, Region};
use aicchain_runtime::{Balance, Runtime, RuntimeCall};
use serde_json::{json, Value};
use sp_core::crypto::Ss58Codec;
use sp_runtime::Percent;

#[derive(clap::Args, Clone)]
pub(crate) struct NodeArgs {
	#[arg(long, default_value_t = 8)]
	pub(crate) gpus: u32,
	#[arg(long, default_value_t = 80)]
	pub(crate) gpu_memory_gib: u32,
	#[arg(long, default_value_t = 150)]
	pub(crate) bandwidth: u32,
	#[arg(long, default_value_t = 10)]
	pub(crate) latency: u32,
	#[arg(long, default_value = "eu-west")]
	pub(crate) region: String,
	/// Renewable share of the node's energy, in percent.
	#[arg(long, default_value_t = 0)]
	pub(crate) renewable: u8,
	/// Carbon intensity, gCO2e/kWh.
	#[arg(long, default_value_t = 475)]
	pub(crate) carbon: u32,
	/// Price per GPU-hour, in AICC (decimals allowed).
	#[arg(long, default_value = "2")]
	pub(crate) price: String,
}

pub(crate) fn node_spec(args: &NodeArgs) -> Result<NodeSpec<Balance>, String> {
	if args.renewable > 100 {
		return Err("--renewable is a percentage (0-100)".into());
	}
	Ok(NodeSpec {
		gpu_count: args.gpus,
		gpu_memory_gib: args.gpu_memory_gib,
		bandwidth_mbps: args.bandwidth,
		latency_ms: args.latency,
		region: Region::try_from(args.region.as_bytes().to_vec())
			.map_err(|_| "--region is at most 32 bytes".to_string())?,
		renewable_share: Percent::from_percent(args.renewable),
		carbon_intensity: args.carbon,
		price_per_gpu_hour: parse_amount(&args.price)?,
	})
}

/// A node as stored.
pub(crate) fn node_info(
	client: &Client,
	id: u32,
) -> Result<Option<pallet_compute_registry::NodeInfoOf<Runtime>>, String> {
	client.storage(&keys::twox64_map("ComputeRegistry", "Nodes", &id)).map_err(explain)
}

/// `register-node`: registers a node and prints its id.
pub(crate) fn register_node(
	client: &Client,
	suri: &str,
	node: &NodeArgs,
	worker: Option<&str>,
) -> Result<(), String> {
	let pair = pair_from_suri(suri)?;
	let owner = account_of(&pair);
	let worker = match worker {
		Some(w) => parse_account(w)?,
		None => owner.clone(),
	};
	let call = pallet_compute_registry::Call::<Runtime>::register_node {
		spec: node_spec(node)?,
		worker: worker.clone(),
	};
	let first: u32 = client
		.storage(&keys::value("ComputeRegistry", "NextNodeId"))
		.map_err(explain)?
		.unwrap_or(0);
	submit_and_wait(client, &pair, RuntimeCall::ComputeRegistry(call))?;
	let next: u32 = client
		.storage(&keys::value("ComputeRegistry", "NextNodeId"))
		.map_err(explain)?
		.unwrap_or(0);
	// Ids taken since: ours is the one with this owner and worker.
	let mut id = None;
	for candidate in first..next {
		if node_info(client, candidate)?.is_some_and(|n| n.owner == owner && n.worker == worker) {
			id = Some(candidate);
		}
	}
	let Some(id) = id else {
		return Err("registration failed: check the spec, your AICC for the 100 AICC bond, and that the worker key is not bound to another node".into());
	};
	println!("registered node {id} (worker {})", worker.to_ss58check());
	if worker != owner {
		println!("the worker key must accept before node {id} gets jobs: `aicchain --suri <worker secret> accept-worker --node {id}`");
	}
	Ok(())
}

/// `accept-worker`: binds the signing key to the node as its worker.
pub(crate) fn accept_worker(client: &Client, suri: &str, node: u32) -> Result<(), String> {
	let pair = pair_from_suri(suri)?;
	let call = pallet_compute_registry::Call::<Runtime>::accept_worker { node_id: node };
	submit_and_wait(client, &pair, RuntimeCall::ComputeRegistry(call))?;
	match node_info(client, node)? {
		Some(n) if n.worker_bound && n.worker == account_of(&pair) => println!(
			"{} is now the worker of node {node}; the node may take jobs",
			n.worker.to_ss58check()
		),
		Some(n) if n.worker != account_of(&pair) => {
			return Err(format!(
				"node {node} proposed {} as its worker, not {}: sign with that key's --suri",
				n.worker.to_ss58check(),
				account_of(&pair).to_ss58check()
			))
		},
		Some(_) => {
			return Err(format!(
				"not accepted: the key is already bound to a node, or node {node} is unbonding"
			))
		},
		None => return Err(format!("no node {node}")),
	}
	Ok(())
}

/// `top-up-bond`: adds to a node's bond.
pub(crate) fn top_up_bond(
	client: &Client,
	suri: &str,
	node: u32,
	amount: &str,
) -> Result<(), String> {
	let amount = parse_amount(amount)?;
	let before = node_info(client, node)?.ok_or(format!("no node {node}"))?.bond;
	let call = pallet_compute_registry::Call::<Runtime>::top_up_bond { node_id: node, amount };
	submit_and_wait(client, &pair_from_suri(suri)?, RuntimeCall::ComputeRegistry(call))?;
	let info = node_info(client, node)?.ok_or(format!("no node {node}"))?;
	if info.bond <= before {
		return Err(format!(
			"bond unchanged at {} AICC: only the node's owner may top it up, and needs {} AICC free",
			show(info.bond),
			show(amount)
		));
	}
	println!("node {node}: bond {} AICC (status {:?})", show(info.bond), info.status);
	Ok(())
}

/// `set-engine-url`: publishes (or withdraws) the node's engine address.
pub(crate) fn set_engine_url(
	client: &Client,
	suri: &str,
	node: u32,
	url: Option<&str>,
) -> Result<(), String> {
	use pallet_compute_registry::EngineUrl;
	let url = match url {
		Some(text) if pallet_compute_registry::valid_engine_url(text.as_bytes()) => {
			let bytes = text.as_bytes().to_vec();
			Some(EngineUrl::try_from(bytes).map_err(|_| format!("{text}: at most 128 bytes"))?)
		},
		Some(text) => return Err(format!("{text}: expected http://host:port or https://…")),
		None => None,
	};
	let call = pallet_compute_registry::Call::<Runtime>::set_engine_url {
		node_id: node,
		url: url.clone(),
	};
	submit_and_wait(client, &pair_from_suri(suri)?, RuntimeCall::ComputeRegistry(call))?;
	let stored: Option<EngineUrl> = client
		.storage(&keys::twox64_map("ComputeRegistry", "EngineUrls", &node))
		.map_err(explain)?;
	if stored != url {
		return Err(format!(
			"node {node}'s engine address is unchanged: only its owner or bound worker key may set it"
		));
	}
	match url {
		Some(url) => println!("node {node}: engine at {}", String::from_utf8_lossy(&url)),
		None => println!("node {node}: engine address withdrawn"),
	}
	Ok(())
}

/// `decline-job`: gives an assigned job back to matching, without a slash.
pub(crate) fn decline_job(client: &Client, suri: &str, job: u64) -> Result<(), String> {
	let stage = |client: &Client| -> Result<(String, Value), String> {
		let found = client.rpc("compute_job", json!([job])).map_err(explain)?;
		if found.is_null() {
			return Err(format!("no job {job}"));
		}
		let job = found;
		let stage = job["status"]["stage"].as_str().unwrap_or("?").to_string();
		Ok((stage, job["status"]["node"].clone()))
	};
	let (before, node) = stage(client)?;
	if before != "Assigned" {
		return Err(format!("job {job} is {before}: only an assigned job may be declined"));
	}
	let call = pallet_compute_jobs::Call::<Runtime>::decline_job { job_id: job };
	submit_and_wait(client, &pair_from_suri(suri)?, RuntimeCall::ComputeJobs(call))?;
	let (after, now_on) = stage(client)?;
	if after == "Assigned" && now_on == node {
		return Err(format!(
			"job {job} is still assigned to node {node}: only that node's owner or worker key may decline it"
		));
	}
	if after == "Expired" {
		println!("job {job} declined; it was declined too often and expired (the user is refunded); node {node} was not slashed");
	} else {
		println!(
			"job {job} declined: it is back in matching ({after}); node {node} was not slashed"
		);
	}
	Ok(())
}

/// `update-node`: changes a node's spec.
pub(crate) fn update_node(
	client: &Client,
	suri: &str,
	id: u32,
	node: &NodeArgs,
) -> Result<(), String> {
	let call = pallet_compute_registry::Call::<Runtime>::update_node {
		node_id: id,
		spec: node_spec(node)?,
	};
	submit_and_wait(client, &pair_from_suri(suri)?, RuntimeCall::ComputeRegistry(call))?;
	println!("node {id} updated");
	Ok(())
}
