//! `aicchain`: the AICChain command line. Talks JSON-RPC to a node (the dev chain on
//! `http://127.0.0.1:9944` by default) and signs with `--suri` (dev accounts such as `//Alice`
//! work out of the box on the dev chain). Transactions are mortal, valid for 64 blocks from the
//! best block, as wallets sign them.

use aicchain_client::{account_of, keys, pair_from_suri, Client, ClientError};
use aicchain_primitives::{
	JobRequirements, ModelKind, NodeSpec, Region, SubsidyScope, SustainabilityPreference,
	TrainingSpec,
};
use aicchain_runtime::{AccountId, Balance, Runtime, RuntimeCall};
use clap::{Parser, Subcommand};
use serde_json::{json, Value};
use sp_core::{crypto::Ss58Codec, H256};
use sp_runtime::{Perbill, Percent};
use std::{
	io::{BufRead, Write},
	process::ExitCode,
	time::{Duration, Instant},
};

const UNIT: Balance = 1_000_000_000_000;

#[derive(Parser)]
#[command(
	name = "aicchain",
	version,
	about = "AICChain command line: jobs, nodes, subsidies, balances"
)]
struct Cli {
	/// The node's JSON-RPC endpoint.
	#[arg(long, global = true, default_value = "http://127.0.0.1:9944")]
	url: String,
	/// Secret URI of the signing account (for `accept-worker`: the worker key's).
	#[arg(long, global = true, default_value = "//Alice")]
	suri: String,
	#[command(subcommand)]
	command: Command,
}

#[derive(clap::Args, Clone)]
struct NodeArgs {
	#[arg(long, default_value_t = 8)]
	gpus: u32,
	#[arg(long, default_value_t = 80)]
	gpu_memory_gib: u32,
	#[arg(long, default_value_t = 150)]
	bandwidth: u32,
	#[arg(long, default_value_t = 10)]
	latency: u32,
	#[arg(long, default_value = "eu-west")]
	region: String,
	/// Renewable share of the node's energy, in percent.
	#[arg(long, default_value_t = 0)]
	renewable: u8,
	/// Carbon intensity, gCO2e/kWh.
	#[arg(long, default_value_t = 475)]
	carbon: u32,
	/// Price per GPU-hour, in AICC (decimals allowed).
	#[arg(long, default_value = "2")]
	price: String,
}

#[derive(clap::Args, Clone)]
struct JobArgs {
	#[arg(long, default_value_t = 8)]
	gpus: u32,
	/// Minimum bandwidth, Mbps.
	#[arg(long, default_value_t = 100)]
	bandwidth: u32,
	/// Maximum latency, ms.
	#[arg(long, default_value_t = 15)]
	latency: u32,
	/// Hours on all GPUs.
	#[arg(long, default_value_t = 1)]
	hours: u32,
	/// Most you pay, in AICC.
	#[arg(long, default_value = "100")]
	budget: String,
	/// Train a model on a dataset: `credit-scoring`, `energy-load` or a 0x dataset hash.
	#[arg(long)]
	train: Option<String>,
	#[arg(long, default_value_t = 5)]
	epochs: u32,
	/// Rank renewable-powered nodes first.
	#[arg(long)]
	prefer_renewable: bool,
	/// Only nodes with at least this renewable share (percent).
	#[arg(long)]
	renewable_only: Option<u8>,
}

#[derive(Subcommand)]
enum Command {
	/// AICC and AICG balances of an account (default: the signer).
	Balance { account: Option<String> },
	/// Registered nodes.
	Nodes {
		#[arg(long, default_value_t = 0)]
		min_gpus: u32,
	},
	/// Register a compute node (bond: 100 AICC); its worker key defaults to the signer.
	///
	/// Another worker key (`--worker`) must accept with `accept-worker` before the node gets
	/// jobs.
	RegisterNode {
		#[command(flatten)]
		node: NodeArgs,
		/// The key the node's off-chain worker signs with (SS58 address or secret URI). When it
		/// is not the signer, the node gets no job until that key runs `accept-worker`.
		#[arg(long)]
		worker: Option<String>,
	},
	/// Accept to be a node's worker key (sign with the worker key's `--suri`).
	///
	/// Binds the key to the node its owner registered it for (`register-node --worker`); only
	/// then may the node take jobs.
	AcceptWorker {
		/// The node's id.
		#[arg(long)]
		node: u32,
	},
	/// Add AICC to a node's bond (the owner signs).
	///
	/// A node slashed below the minimum bond takes no job until it is topped up.
	TopUpBond {
		/// The node's id.
		#[arg(long)]
		node: u32,
		/// AICC to add (decimals allowed).
		#[arg(long)]
		amount: String,
	},
	/// Give an assigned job back, without a slash (the node's owner or worker signs).
	///
	/// The job goes back to matching (never to this node again) instead of timing out, which
	/// would slash the node's bond.
	DeclineJob {
		/// The job's id.
		#[arg(long)]
		job: u64,
	},
	/// Change a node's spec.
	UpdateNode {
		id: u32,
		#[command(flatten)]
		node: NodeArgs,
	},
	/// What a job would cost, and where it could run.
	Quote {
		#[command(flatten)]
		job: JobArgs,
	},
	/// Submit a job and follow it to settlement.
	SubmitJob {
		#[command(flatten)]
		job: JobArgs,
		/// Return after submission instead of following the job.
		#[arg(long)]
		no_follow: bool,
	},
	/// A job's status and receipt.
	Job { id: u64 },
	/// Propose a subsidy paid by the community fund (AICG holders vote).
	ProposeSubsidy {
		/// Share of each covered job's cost, percent.
		#[arg(long, default_value_t = 50)]
		share: u32,
		/// `all`, `renewable` or `training`.
		#[arg(long, default_value = "all")]
		scope: String,
		#[arg(long, default_value = "50")]
		per_job_cap: String,
		#[arg(long, default_value = "500")]
		budget: String,
		/// Blocks the subsidy stays active once approved.
		#[arg(long, default_value_t = 14_400)]
		duration: u32,
	},
	/// Vote on a subsidy proposal with AICG (frozen until the vote closes).
	Vote {
		proposal: u32,
		/// `aye` or `nay`.
		side: String,
		/// AICG to vote with.
		amount: String,
	},
	/// Providers ranked by completed jobs and reputation.
	Leaderboard,
	/// Network and market statistics, and the community fund.
	Stats,
	/// Replay the seed's end-to-end demo against the chain.
	Demo {
		/// Accept the default requirements without asking.
		#[arg(long)]
		yes: bool,
		#[arg(long)]
		gpus: Option<u32>,
		#[arg(long)]
		bandwidth: Option<u32>,
		#[arg(long)]
		latency: Option<u32>,
	},
}

fn main() -> ExitCode {
	let cli = Cli::parse();
	let client = Client::new(&cli.url);
	match run(&cli, &client) {
		Ok(()) => ExitCode::SUCCESS,
		Err(message) => {
			eprintln!("error: {message}");
			ExitCode::FAILURE
		},
	}
}

fn explain(e: ClientError) -> String {
	match e {
		ClientError::Unreachable(host, why) => format!(
			"cannot reach a node at {host} ({why}); start one with `make run` or pass --url"
		),
		ClientError::Rpc { message, data, .. }
			if message.contains("Inability to pay")
				|| data.as_ref().is_some_and(|d| d.to_string().contains("Inability to pay")) =>
		{
			"insufficient funds to pay the transaction fee".into()
		},
		other => other.to_string(),
	}
}

/// AICC (12 decimals) from text such as `2` or `0.5`.
fn parse_amount(text: &str) -> Result<Balance, String> {
	let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
	if frac.len() > 12 || whole.is_empty() && frac.is_empty() {
		return Err(format!("invalid amount `{text}`"));
	}
	let whole: Balance = if whole.is_empty() {
		0
	} else {
		whole.parse().map_err(|_| format!("invalid amount `{text}`"))?
	};
	let frac_units: Balance = if frac.is_empty() {
		0
	} else {
		format!("{frac:0<12}").parse().map_err(|_| format!("invalid amount `{text}`"))?
	};
	whole
		.checked_mul(UNIT)
		.and_then(|w| w.checked_add(frac_units))
		.ok_or_else(|| format!("amount `{text}` too large"))
}

fn show(amount: Balance) -> String {
	let whole = amount / UNIT;
	let frac = amount % UNIT;
	if frac == 0 {
		format!("{whole}")
	} else {
		format!("{whole}.{}", format!("{frac:012}").trim_end_matches('0'))
	}
}

fn show_str(value: &Value) -> String {
	value
		.as_str()
		.and_then(|s| s.parse::<Balance>().ok())
		.map(show)
		.unwrap_or_else(|| value.to_string())
}

fn parse_account(text: &str) -> Result<AccountId, String> {
	if let Ok(account) = AccountId::from_ss58check(text) {
		return Ok(account);
	}
	pair_from_suri(text)
		.map(|p| account_of(&p))
		.map_err(|_| format!("`{text}` is neither an SS58 address nor a secret URI"))
}

fn node_spec(args: &NodeArgs) -> Result<NodeSpec<Balance>, String> {
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

fn dataset_hash(name: &str) -> Result<H256, String> {
	if let Some(hex) = name.strip_prefix("0x") {
		let bytes = hex::decode(hex).map_err(|_| "dataset hash is not hex".to_string())?;
		return (bytes.len() == 32)
			.then(|| H256::from_slice(&bytes))
			.ok_or_else(|| "dataset hash must be 32 bytes".into());
	}
	let bytes = match name {
		"credit-scoring" => aicchain_worker::dataset::credit_scoring_csv(),
		"energy-load" => aicchain_worker::dataset::energy_load_csv(),
		other => {
			return Err(format!(
				"unknown dataset `{other}` (credit-scoring, energy-load or a 0x hash)"
			))
		},
	};
	Ok(H256(aicchain_worker::dataset::blake2_256(&bytes)))
}

fn requirements(args: &JobArgs) -> Result<JobRequirements, String> {
	let sustainability = match (args.renewable_only, args.prefer_renewable) {
		(Some(p), _) if p <= 100 => {
			SustainabilityPreference::RenewableOnly(Percent::from_percent(p))
		},
		(Some(_), _) => return Err("--renewable-only is a percentage (0-100)".into()),
		(None, true) => SustainabilityPreference::PreferRenewable,
		(None, false) => SustainabilityPreference::Any,
	};
	let training = match &args.train {
		None => None,
		Some(name) => {
			let model = if name == "energy-load" {
				ModelKind::MlpRegressor
			} else {
				ModelKind::MlpClassifier
			};
			Some(TrainingSpec {
				dataset: dataset_hash(name)?,
				model,
				hidden_units: 32,
				hidden_layers: 2,
				learning_rate_millionths: 5_000,
				epochs: args.epochs,
				seed: 42,
			})
		},
	};
	Ok(JobRequirements {
		gpus: args.gpus,
		min_bandwidth_mbps: args.bandwidth,
		max_latency_ms: args.latency,
		gpu_hours: args.hours,
		sustainability,
		training,
	})
}

fn requirements_json(req: &JobRequirements) -> Value {
	json!({
		"gpus": req.gpus,
		"minBandwidthMbps": req.min_bandwidth_mbps,
		"maxLatencyMs": req.max_latency_ms,
		"gpuHours": req.gpu_hours,
		"sustainability": match req.sustainability {
			SustainabilityPreference::Any => json!("Any"),
			SustainabilityPreference::PreferRenewable => json!("PreferRenewable"),
			SustainabilityPreference::RenewableOnly(p) => json!({ "RenewableOnly": p.deconstruct() }),
		},
	})
}

/// Submits and waits until the transaction is in a block; a dispatch error becomes its name.
fn submit_and_wait(
	client: &Client,
	signer: &sp_core::sr25519::Pair,
	call: RuntimeCall,
) -> Result<(), String> {
	let who = account_of(signer);
	let before = client.next_nonce(&who).map_err(explain)?;
	client.submit(signer, call).map_err(explain)?;
	let start = Instant::now();
	// The account nonce on chain moves once the transaction is in a block.
	let nonce_key = keys::blake2_map("System", "Account", &who);
	loop {
		let info: Option<frame_system::AccountInfo<u32, pallet_balances::AccountData<Balance>>> =
			client.storage(&nonce_key).map_err(explain)?;
		if info.is_some_and(|i| i.nonce > before) {
			return Ok(());
		}
		if start.elapsed() > Duration::from_secs(60) {
			return Err("the transaction was not included within 60 s".into());
		}
		std::thread::sleep(Duration::from_millis(500));
	}
}

fn run(cli: &Cli, client: &Client) -> Result<(), String> {
	let signer = || pair_from_suri(&cli.suri);
	match &cli.command {
		Command::Balance { account } => {
			let who = match account {
				Some(a) => parse_account(a)?,
				None => account_of(&signer()?),
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
		},
		Command::Nodes { min_gpus } => {
			print_nodes(&all_nodes(client, json!({ "minGpus": min_gpus }))?);
		},
		Command::RegisterNode { node, worker } => {
			let pair = signer()?;
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
				if node_info(client, candidate)?
					.is_some_and(|n| n.owner == owner && n.worker == worker)
				{
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
		},
		Command::AcceptWorker { node } => {
			let pair = signer()?;
			let call = pallet_compute_registry::Call::<Runtime>::accept_worker { node_id: *node };
			submit_and_wait(client, &pair, RuntimeCall::ComputeRegistry(call))?;
			match node_info(client, *node)? {
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
		},
		Command::TopUpBond { node, amount } => {
			let amount = parse_amount(amount)?;
			let before = node_info(client, *node)?.ok_or(format!("no node {node}"))?.bond;
			let call =
				pallet_compute_registry::Call::<Runtime>::top_up_bond { node_id: *node, amount };
			submit_and_wait(client, &signer()?, RuntimeCall::ComputeRegistry(call))?;
			let info = node_info(client, *node)?.ok_or(format!("no node {node}"))?;
			if info.bond <= before {
				return Err(format!(
					"bond unchanged at {} AICC: only the node's owner may top it up, and needs {} AICC free",
					show(info.bond),
					show(amount)
				));
			}
			println!("node {node}: bond {} AICC (status {:?})", show(info.bond), info.status);
		},
		Command::DeclineJob { job } => {
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
			let call = pallet_compute_jobs::Call::<Runtime>::decline_job { job_id: *job };
			submit_and_wait(client, &signer()?, RuntimeCall::ComputeJobs(call))?;
			let (after, now_on) = stage(client)?;
			if after == "Assigned" && now_on == node {
				return Err(format!(
					"job {job} is still assigned to node {node}: only that node's owner or worker key may decline it"
				));
			}
			if after == "Expired" {
				println!("job {job} declined; it was declined too often and expired (the user is refunded); node {node} was not slashed");
			} else {
				println!("job {job} declined: it is back in matching ({after}); node {node} was not slashed");
			}
		},
		Command::UpdateNode { id, node } => {
			let call = pallet_compute_registry::Call::<Runtime>::update_node {
				node_id: *id,
				spec: node_spec(node)?,
			};
			submit_and_wait(client, &signer()?, RuntimeCall::ComputeRegistry(call))?;
			println!("node {id} updated");
		},
		Command::Quote { job } => {
			let req = requirements(job)?;
			let quote =
				client.rpc("compute_quote", json!([requirements_json(&req)])).map_err(explain)?;
			println!("{} eligible nodes ({} renewable); cost {} – {} AICC; carbon {} – {} g (grid: {} g)",
				quote["eligibleNodes"], quote["renewableNodes"], show_str(&quote["minCost"]), show_str(&quote["maxCost"]),
				quote["minCarbonGrams"], quote["maxCarbonGrams"], quote["referenceCarbonGrams"]);
		},
		Command::SubmitJob { job, no_follow } => {
			let req = requirements(job)?;
			let budget = parse_amount(&job.budget)?;
			let id = submit_job(client, &signer()?, req, budget)?;
			println!("job {id} submitted (budget {} AICC held in escrow)", show(budget));
			if !no_follow {
				follow(client, id)?;
			}
		},
		Command::Job { id } => {
			let job = client.rpc("compute_job", json!([id])).map_err(explain)?;
			println!("{}", serde_json::to_string_pretty(&job).unwrap_or_default());
		},
		Command::ProposeSubsidy { share, scope, per_job_cap, budget, duration } => {
			if *share == 0 || *share > 100 {
				return Err("--share is a percentage (1-100)".into());
			}
			let scope = match scope.as_str() {
				"all" => SubsidyScope::AllJobs,
				"renewable" => SubsidyScope::RenewableProviders,
				"training" => SubsidyScope::JobKind(ModelKind::MlpClassifier),
				other => return Err(format!("unknown scope `{other}` (all, renewable, training)")),
			};
			let id: u32 = client
				.storage(&keys::value("CommunityFund", "NextProposalId"))
				.map_err(explain)?
				.unwrap_or(0);
			let terms = pallet_community_fund::SubsidyTerms {
				share: Perbill::from_percent(*share),
				scope,
				per_job_cap: parse_amount(per_job_cap)?,
				total_budget: parse_amount(budget)?,
				duration: *duration,
			};
			submit_and_wait(
				client,
				&signer()?,
				RuntimeCall::CommunityFund(pallet_community_fund::Call::propose_subsidy { terms }),
			)?;
			println!("subsidy proposal {id} submitted; vote with `aicchain vote {id} aye <AICG>`");
		},
		Command::Vote { proposal, side, amount } => {
			let aye = match side.as_str() {
				"aye" => true,
				"nay" => false,
				_ => return Err("side is `aye` or `nay`".into()),
			};
			let call = pallet_community_fund::Call::<Runtime>::vote {
				proposal_id: *proposal,
				aye,
				amount: parse_amount(amount)?,
			};
			submit_and_wait(client, &signer()?, RuntimeCall::CommunityFund(call))?;
			println!("voted {side} on proposal {proposal} with {amount} AICG");
		},
		Command::Leaderboard => {
			let nodes = all_nodes(client, Value::Null)?;
			let mut rows: Vec<&Value> =
				nodes.as_array().map(|a| a.iter().collect()).unwrap_or_default();
			rows.sort_by(|a, b| {
				b["completedJobs"].as_u64().cmp(&a["completedJobs"].as_u64()).then(
					b["reputation"]
						.as_f64()
						.partial_cmp(&a["reputation"].as_f64())
						.unwrap_or(std::cmp::Ordering::Equal),
				)
			});
			println!(
				"{:<4} {:<50} {:>9} {:>6} {:>11} {:>10}",
				"rank", "provider", "completed", "failed", "reputation", "renewable"
			);
			for (i, n) in rows.iter().enumerate() {
				println!(
					"{:<4} {:<50} {:>9} {:>6} {:>10.1}% {:>9}%",
					i + 1,
					n["owner"].as_str().unwrap_or("?"),
					n["completedJobs"],
					n["failedJobs"],
					n["reputation"].as_f64().unwrap_or(0.0),
					n["spec"]["renewableShare"]
				);
			}
		},
		Command::Stats => {
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
		},
		Command::Demo { yes, gpus, bandwidth, latency } => {
			demo(client, *yes, *gpus, *bandwidth, *latency)?
		},
	}
	Ok(())
}

/// A node as stored.
fn node_info(
	client: &Client,
	id: u32,
) -> Result<Option<pallet_compute_registry::NodeInfoOf<Runtime>>, String> {
	client.storage(&keys::twox64_map("ComputeRegistry", "Nodes", &id)).map_err(explain)
}

fn balances(
	client: &Client,
	who: &AccountId,
) -> Result<(pallet_balances::AccountData<Balance>, pallet_balances::AccountData<Balance>), String>
{
	let info: Option<frame_system::AccountInfo<u32, pallet_balances::AccountData<Balance>>> =
		client.storage(&keys::blake2_map("System", "Account", who)).map_err(explain)?;
	let aicg: Option<pallet_balances::AccountData<Balance>> =
		client.storage(&keys::blake2_map("Aicg", "Account", who)).map_err(explain)?;
	Ok((info.map(|i| i.data).unwrap_or_default(), aicg.unwrap_or_default()))
}

/// Every node matching `filter`, following `compute_nodes`' cursor page by page.
fn all_nodes(client: &Client, filter: Value) -> Result<Value, String> {
	let mut nodes = Vec::new();
	let mut from = Some(Value::from(0));
	while let Some(cursor) = from.take() {
		let page = client.rpc("compute_nodes", json!([filter, cursor])).map_err(explain)?;
		nodes.extend(page["nodes"].as_array().into_iter().flatten().cloned());
		from = page.get("next").filter(|next| !next.is_null()).cloned();
	}
	Ok(Value::Array(nodes))
}

fn print_nodes(nodes: &Value) {
	println!(
		"{:<4} {:>4} {:>7} {:>6} {:>9} {:>7} {:>10} {:>8} {:<10}",
		"id", "gpus", "Mbps", "ms", "renewable", "gCO2", "AICC/GPU-h", "jobs", "region"
	);
	for n in nodes.as_array().into_iter().flatten() {
		let s = &n["spec"];
		println!(
			"{:<4} {:>4} {:>7} {:>6} {:>8}% {:>7} {:>10} {:>8} {:<10}",
			n["id"],
			s["gpuCount"],
			s["bandwidthMbps"],
			s["latencyMs"],
			s["renewableShare"],
			s["carbonIntensity"],
			show_str(&s["pricePerGpuHour"]),
			n["completedJobs"],
			s["region"].as_str().unwrap_or("")
		);
	}
}

fn submit_job(
	client: &Client,
	signer: &sp_core::sr25519::Pair,
	req: JobRequirements,
	budget: Balance,
) -> Result<u64, String> {
	// The chain's own checks, with their names, before anything is signed.
	client.rpc("compute_quote", json!([requirements_json(&req)])).map_err(|e| match e {
		ClientError::Rpc { message, .. } => format!("requirements out of range: {message}"),
		other => explain(other),
	})?;
	let (aicc, _) = balances(client, &account_of(signer))?;
	if aicc.free < budget {
		return Err(format!(
			"insufficient funds: the budget is {} AICC, the account has {} AICC free",
			show(budget),
			show(aicc.free)
		));
	}
	let id: u64 =
		client.storage(&keys::value("ComputeJobs", "NextJobId")).map_err(explain)?.unwrap_or(0);
	submit_and_wait(
		client,
		signer,
		RuntimeCall::ComputeJobs(pallet_compute_jobs::Call::submit_job {
			requirements: req,
			budget,
		}),
	)?;
	let job = client.rpc("compute_job", json!([id])).map_err(explain)?;
	if job["owner"].as_str() != Some(&account_of(signer).to_ss58check()) {
		return Err("the job was not recorded; check your balance".into());
	}
	Ok(id)
}

/// Prints each stage of a job until it ends; the final job JSON.
fn follow(client: &Client, id: u64) -> Result<Value, String> {
	let mut last = String::new();
	let start = Instant::now();
	loop {
		let job = client.rpc("compute_job", json!([id])).map_err(explain)?;
		let stage = job["status"]["stage"].as_str().unwrap_or("?").to_string();
		if stage != last {
			let detail = match stage.as_str() {
				"Assigned" => format!(
					"on node {} for {} AICC",
					job["status"]["node"],
					show_str(&job["status"]["cost"])
				),
				"ResultSubmitted" => format!(
					"model {} score {}%",
					job["status"]["modelHash"].as_str().unwrap_or("?"),
					job["status"]["metrics"]["score"]
				),
				_ => String::new(),
			};
			println!("[{:>5.1}s] job {id}: {stage} {detail}", start.elapsed().as_secs_f64());
			let _ = std::io::stdout().flush();
			last = stage.clone();
		}
		if !matches!(stage.as_str(), "Pending" | "Assigned" | "ResultSubmitted") {
			if let Some(r) = job.get("receipt").filter(|r| !r.is_null()) {
				println!("  cost {} AICC: provider {} + fund {}; subsidy {}; renewable bonus {}; you paid {} and got {} back", show_str(&r["cost"]), show_str(&r["providerAmount"]), show_str(&r["fundAmount"]), show_str(&r["subsidy"]), show_str(&r["renewableBonus"]), show_str(&r["userPaid"]), show_str(&r["saving"]));
				println!("  carbon {} g ({} g less than the grid); model {} ({}% on {} held-out samples)", r["carbonGrams"], r["carbonReductionGrams"], r["modelHash"].as_str().unwrap_or("?"), r["metrics"]["score"], r["metrics"]["evalSamples"]);
			}
			return Ok(job);
		}
		if start.elapsed() > Duration::from_secs(900) {
			return Err(format!("job {id} still {stage} after 15 minutes"));
		}
		std::thread::sleep(Duration::from_secs(2));
	}
}

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
fn demo(
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
		train: Some("credit-scoring".into()),
		epochs: 5,
		prefer_renewable: true,
		renewable_only: None,
	};
	let id = submit_job(client, &ferdie, requirements(&job_args)?, 400 * UNIT)?;
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
		Ok(selection) => {
			for s in selection["scores"].as_array().into_iter().flatten() {
				let mark = if s["node"] == selection["chosen"] { "  <- proposed" } else { "" };
				println!(
					"node {}: {:.1}%{mark}",
					s["node"],
					100.0 * s["probability"].as_f64().unwrap_or(0.0)
				);
			}
		},
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
