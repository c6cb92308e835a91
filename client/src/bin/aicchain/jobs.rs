//! Job commands: requirements from the command line, quotes, submitting a job and following it
//! to its end.

use crate::common::{balances, explain, parse_amount, show, show_str, submit_and_wait};
use aicchain_client::{account_of, keys, pair_from_suri, Client, ClientError};
use aicchain_primitives::{JobRequirements, ModelKind, SustainabilityPreference, TrainingSpec};
use aicchain_runtime::{Balance, RuntimeCall};
use serde_json::{json, Value};
use sp_core::{crypto::Ss58Codec, H256};
use sp_runtime::{Perbill, Percent};
use std::{
	io::Write,
	time::{Duration, Instant},
};

#[derive(clap::Args, Clone)]
pub(crate) struct JobArgs {
	#[arg(long, default_value_t = 8)]
	pub(crate) gpus: u32,
	/// Minimum bandwidth, Mbps.
	#[arg(long, default_value_t = 100)]
	pub(crate) bandwidth: u32,
	/// Maximum latency, ms.
	#[arg(long, default_value_t = 15)]
	pub(crate) latency: u32,
	/// Hours on all GPUs.
	#[arg(long, default_value_t = 1)]
	pub(crate) hours: u32,
	/// Most you pay, in AICC.
	#[arg(long, default_value = "100")]
	pub(crate) budget: String,
	/// The dataset to train on: `credit-scoring` (an MLP classifier), `energy-load` (an MLP
	/// regressor), `corpus` (the transformer language model on the generated text corpus),
	/// `shapes` (the CNN on the generated 16 × 16 images) or a 0x dataset hash (an MLP
	/// classifier unless `--model` says otherwise). (Every job trains a model: training is the
	/// work the validators can check.)
	#[arg(long, default_value = "credit-scoring")]
	pub(crate) train: String,
	/// The model family, when not the dataset's default: `mlp-classifier`, `mlp-regressor`,
	/// `transformer` or `cnn`.
	#[arg(long)]
	pub(crate) model: Option<String>,
	/// Width of each hidden layer (MLP, default 32), embedding dimensions (transformer, a
	/// multiple of 4, default 64) or channels (CNN, at most 64, default 16).
	#[arg(long)]
	pub(crate) hidden_units: Option<u32>,
	/// Hidden layers (MLP, default 2), blocks (transformer, default 2) or convolution blocks
	/// (CNN, at most 3, default 2).
	#[arg(long)]
	pub(crate) hidden_layers: Option<u8>,
	#[arg(long, default_value_t = 5)]
	pub(crate) epochs: u32,
	/// Lowest held-out score (percent) you pay in full for; a verified model below it is paid
	/// half.
	#[arg(long, default_value_t = 0)]
	pub(crate) min_score: u8,
	/// Relay training: continue this model version (an MLP of the same family and shape, on
	/// a dataset with as many columns); the result becomes that model's next version.
	#[arg(long, value_name = "VERSION")]
	pub(crate) parent: Option<u64>,
	/// Rank renewable-powered nodes first.
	#[arg(long)]
	pub(crate) prefer_renewable: bool,
	/// Only nodes with at least this renewable share (percent).
	#[arg(long)]
	pub(crate) renewable_only: Option<u8>,
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
		"corpus" => aicchain_worker::dataset::corpus_txt(),
		"shapes" => aicchain_worker::dataset::images::shapes_csv(),
		other => {
			return Err(format!(
				"unknown dataset `{other}` (credit-scoring, energy-load, corpus, shapes or a 0x hash)"
			))
		},
	};
	Ok(H256(aicchain_worker::dataset::blake2_256(&bytes)))
}

pub(crate) fn requirements(args: &JobArgs) -> Result<JobRequirements, String> {
	let sustainability = match (args.renewable_only, args.prefer_renewable) {
		(Some(p), _) if p <= 100 => {
			SustainabilityPreference::RenewableOnly(Percent::from_percent(p))
		},
		(Some(_), _) => return Err("--renewable-only is a percentage (0-100)".into()),
		(None, true) => SustainabilityPreference::PreferRenewable,
		(None, false) => SustainabilityPreference::Any,
	};
	if args.min_score > 100 {
		return Err("--min-score is a percentage (0-100)".into());
	}
	let name = args.train.as_str();
	let model = match (args.model.as_deref(), name) {
		(Some("mlp-classifier"), _) => ModelKind::MlpClassifier,
		(Some("mlp-regressor"), _) => ModelKind::MlpRegressor,
		(Some("transformer"), _) => ModelKind::TransformerLm,
		(Some("cnn"), _) => ModelKind::CnnClassifier,
		(Some(other), _) => {
			return Err(format!(
				"unknown model `{other}` (mlp-classifier, mlp-regressor, transformer or cnn)"
			))
		},
		(None, "energy-load") => ModelKind::MlpRegressor,
		(None, "corpus") => ModelKind::TransformerLm,
		(None, "shapes") => ModelKind::CnnClassifier,
		(None, _) => ModelKind::MlpClassifier,
	};
	let units = match model {
		ModelKind::TransformerLm => 64,
		ModelKind::CnnClassifier => 16,
		ModelKind::MlpClassifier | ModelKind::MlpRegressor => 32,
	};
	let training = Some(TrainingSpec {
		dataset: dataset_hash(name)?,
		model,
		hidden_units: args.hidden_units.unwrap_or(units),
		hidden_layers: args.hidden_layers.unwrap_or(2),
		learning_rate_millionths: 5_000,
		epochs: args.epochs,
		seed: 42,
		min_score: Perbill::from_percent(u32::from(args.min_score)),
		parent: args.parent,
	});
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
		"training": req.training.as_ref().map(|t| json!({
			"dataset": format!("0x{}", hex::encode(t.dataset.0)),
			"model": match t.model {
				ModelKind::MlpClassifier => "MlpClassifier",
				ModelKind::MlpRegressor => "MlpRegressor",
				ModelKind::TransformerLm => "TransformerLm",
				ModelKind::CnnClassifier => "CnnClassifier",
			},
			"hiddenUnits": t.hidden_units,
			"hiddenLayers": t.hidden_layers,
			"learningRateMillionths": t.learning_rate_millionths,
			"epochs": t.epochs,
			"seed": t.seed,
		})),
	})
}

pub(crate) fn submit_job(
	client: &Client,
	signer: &sp_core::sr25519::Pair,
	req: JobRequirements,
	budget: Balance,
	max_wait: Option<u32>,
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
		RuntimeCall::ComputeJobs(match max_wait {
			Some(max_wait) => pallet_compute_jobs::Call::submit_job_waiting {
				requirements: req,
				budget,
				max_wait,
			},
			None => pallet_compute_jobs::Call::submit_job { requirements: req, budget },
		}),
	)?;
	let job = client.rpc("compute_job", json!([id])).map_err(explain)?;
	if job["owner"].as_str() != Some(&account_of(signer).to_ss58check()) {
		return Err("the job was not recorded; check your balance".into());
	}
	Ok(id)
}

/// Prints each stage of a job until it ends; the final job JSON.
pub(crate) fn follow(client: &Client, id: u64) -> Result<Value, String> {
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
				"Queued" => queue_line(&job["queue"]),
				_ => String::new(),
			};
			println!("[{:>5.1}s] job {id}: {stage} {detail}", start.elapsed().as_secs_f64());
			let _ = std::io::stdout().flush();
			last = stage.clone();
		}
		if !matches!(stage.as_str(), "Pending" | "Queued" | "Assigned" | "ResultSubmitted") {
			if let Some(r) = job.get("receipt").filter(|r| !r.is_null()) {
				println!("  cost {} AICC: provider {} + fund {}; subsidy {}; renewable bonus {}; you paid {} and got {} back", show_str(&r["cost"]), show_str(&r["providerAmount"]), show_str(&r["fundAmount"]), show_str(&r["subsidy"]), show_str(&r["renewableBonus"]), show_str(&r["userPaid"]), show_str(&r["saving"]));
				println!("  carbon {} g ({} g less than the grid); model {} ({}% on {} held-out samples)", r["carbonGrams"], r["carbonReductionGrams"], r["modelHash"].as_str().unwrap_or("?"), r["metrics"]["score"], r["metrics"]["evalSamples"]);
				if let Ok(v) = client.rpc("models_ofJob", json!([id])) {
					println!(
						"  model {} version {} (`aicchain model {}`)",
						v["model"], v["version"], v["model"]
					);
				}
			}
			return Ok(job);
		}
		if start.elapsed() > Duration::from_secs(900) {
			return Err(format!("job {id} still {stage} after 15 minutes"));
		}
		std::thread::sleep(Duration::from_secs(2));
	}
}

/// A queued job's place, how long it may wait, and how long jobs waited so far.
fn queue_line(queue: &Value) -> String {
	let mean = match queue["meanWaitBlocks"].as_u64() {
		Some(blocks) => format!("jobs matched from the queue waited {blocks} blocks on average"),
		None => "no job has left the queue yet".into(),
	};
	format!(
		"(every fitting node is busy): place {} of {}, waits until block {} at most; {mean}",
		queue["position"], queue["length"], queue["waitUntil"]
	)
}

/// `quote`: what a job would cost, and where it could run.
pub(crate) fn quote(client: &Client, job: &JobArgs) -> Result<(), String> {
	let req = requirements(job)?;
	let quote = client.rpc("compute_quote", json!([requirements_json(&req)])).map_err(explain)?;
	println!(
		"{} eligible nodes ({} renewable); cost {} – {} AICC; carbon {} – {} g (grid: {} g)",
		quote["eligibleNodes"],
		quote["renewableNodes"],
		show_str(&quote["minCost"]),
		show_str(&quote["maxCost"]),
		quote["minCarbonGrams"],
		quote["maxCarbonGrams"],
		quote["referenceCarbonGrams"]
	);
	Ok(())
}

/// `submit-job`: submits a job and, unless `no_follow`, follows it to its end.
pub(crate) fn submit(
	client: &Client,
	suri: &str,
	job: &JobArgs,
	no_follow: bool,
	max_wait: Option<u32>,
) -> Result<(), String> {
	let req = requirements(job)?;
	let budget = parse_amount(&job.budget)?;
	let id = submit_job(client, &pair_from_suri(suri)?, req, budget, max_wait)?;
	println!("job {id} submitted (budget {} AICC held in escrow)", show(budget));
	if !no_follow {
		follow(client, id)?;
	}
	Ok(())
}

/// `job`: a job's status and receipt, as JSON.
pub(crate) fn print_job(client: &Client, id: u64) -> Result<(), String> {
	let job = client.rpc("compute_job", json!([id])).map_err(explain)?;
	println!("{}", serde_json::to_string_pretty(&job).unwrap_or_default());
	Ok(())
}
