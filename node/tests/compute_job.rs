//! A training job on a dev chain, end to end with no manual step: Bob registers a node (his
//! worker key comes with `--dev`), Ferdie submits a credit-scoring training job, and the node's
//! own off-chain worker and compute engine take it through assignment (Alice's RL policy),
//! training (Bob's worker), verification (Alice) and settlement.

mod common;
mod paid_inference;

use aicchain_client::{account_of, keys, pair_from_suri, Client};
use aicchain_primitives::{
	JobRequirements, ModelKind, NodeId, NodeSpec, Region, SustainabilityPreference, TrainingSpec,
};
use aicchain_runtime::{AccountId, Balance, Runtime, RuntimeCall};
use common::RunningNode;
use pallet_compute_jobs::{JobOf, JobReceipt, JobStatus};
use sp_core::{crypto::Ss58Codec, H256};
use sp_runtime::Percent;
use std::time::Duration;

const UNIT: Balance = 1_000_000_000_000;

#[test]
fn training_job_is_assigned_trained_verified_and_settled_by_the_workers() {
	let engine_port = common::free_port();
	let listen = format!("127.0.0.1:{engine_port}");
	let mut node = RunningNode::start_dev(&["--compute-engine-listen", &listen]);
	let client = Client::new(&format!("127.0.0.1:{}", node.rpc_port));
	node.wait_for("block 1", Duration::from_secs(120), |_| {
		client.best_number().ok().filter(|n| *n >= 1)
	});

	let bob = pair_from_suri("//Bob").expect("dev key");
	let ferdie = pair_from_suri("//Ferdie").expect("dev key");
	let spec = NodeSpec {
		gpu_count: 8,
		gpu_memory_gib: 80,
		bandwidth_mbps: 150,
		latency_ms: 10,
		region: Region::truncate_from(b"eu-north".to_vec()),
		renewable_share: Percent::from_percent(90),
		carbon_intensity: 40,
		price_per_gpu_hour: 2 * UNIT,
	};
	let register =
		pallet_compute_registry::Call::<Runtime>::register_node { spec, worker: account_of(&bob) };
	client.submit(&bob, RuntimeCall::ComputeRegistry(register)).expect("register submitted");
	let node_key = keys::blake2_map("ComputeRegistry", "NodeByWorker", &account_of(&bob));
	let node_id: NodeId = node.wait_for("the node's registration", Duration::from_secs(60), |_| {
		client.storage::<NodeId>(&node_key).ok().flatten()
	});

	let dataset =
		aicchain_worker::dataset::blake2_256(&aicchain_worker::dataset::credit_scoring_csv());
	let training = TrainingSpec {
		dataset: H256(dataset),
		model: ModelKind::MlpClassifier,
		hidden_units: 32,
		hidden_layers: 2,
		learning_rate_millionths: 5_000,
		epochs: 5,
		seed: 42,
		min_score: Default::default(),
		parent: None,
	};
	let requirements = JobRequirements {
		gpus: 8,
		min_bandwidth_mbps: 100,
		max_latency_ms: 15,
		gpu_hours: 1,
		sustainability: SustainabilityPreference::Any,
		training: Some(training.clone()),
	};
	let job_id: u64 =
		client.storage(&keys::value("ComputeJobs", "NextJobId")).expect("readable").unwrap_or(0);
	let submit = pallet_compute_jobs::Call::<Runtime>::submit_job {
		requirements: requirements.clone(),
		budget: 100 * UNIT,
	};
	client.submit(&ferdie, RuntimeCall::ComputeJobs(submit)).expect("job submitted");

	let job_key = keys::twox64_map("ComputeJobs", "Jobs", &job_id);
	let settled = node.wait_for("the job to settle", Duration::from_secs(240), |running| {
		let job: JobOf<Runtime> = client.storage(&job_key).ok().flatten()?;
		match job.status {
			JobStatus::Settled { node } => Some(node),
			JobStatus::Pending
			| JobStatus::Queued
			| JobStatus::Assigned { .. }
			| JobStatus::ResultSubmitted { .. } => None,
			other => panic!("job ended as {other:?}:\n{}", running.log()),
		}
	});
	assert_eq!(settled, node_id);

	// The receipt names the model Bob's engine stored, and that model re-evaluates to exactly
	// the metrics published on-chain.
	let receipt: JobReceipt<AccountId, Balance> = client
		.storage(&keys::twox64_map("ComputeJobs", "Receipts", &job_id))
		.expect("readable")
		.expect("a settled job has a receipt");
	assert_eq!(receipt.provider, account_of(&bob));
	assert_eq!(receipt.cost, 16 * UNIT);
	let model_path = node
		.base_path()
		.join("compute/models")
		.join(format!("{}.safetensors", hex::encode(receipt.model_hash.0)));
	let model = std::fs::read(&model_path).expect("the engine stored the model");
	assert_eq!(aicchain_worker::dataset::blake2_256(&model), receipt.model_hash.0);
	let data = aicchain_worker::dataset::Dataset::from_csv(
		&aicchain_worker::dataset::credit_scoring_csv(),
	)
	.expect("dataset");
	let (_, held_out) = data.split();
	let metrics =
		aicchain_worker::model::evaluate(&model, &training, &held_out, &candle_core::Device::Cpu)
			.expect("evaluates");
	assert_eq!(metrics, receipt.metrics);

	// The compute RPC shows the same job, the market and the fund.
	let rpc = |method: &str, params: serde_json::Value| node.rpc(method, params);
	let job = rpc("compute_job", serde_json::json!([job_id])).expect("compute_job");
	assert_eq!(job["status"]["stage"], "Settled");
	assert_eq!(job["receipt"]["modelHash"], format!("0x{}", hex::encode(receipt.model_hash.0)));
	assert_eq!(job["receipt"]["cost"], (16 * UNIT).to_string());
	let stats = rpc("compute_marketStats", serde_json::json!([])).expect("compute_marketStats");
	assert_eq!(stats["settledJobs"], 1);
	assert_eq!(stats["volume"], (16 * UNIT).to_string());
	assert_eq!(stats["activeNodes"], 1);
	let page =
		rpc("compute_nodes", serde_json::json!([{ "minGpus": 8 }, 0])).expect("compute_nodes");
	assert_eq!(page["nodes"][0]["id"], node_id);
	assert_eq!(page["nodes"][0]["completedJobs"], 1);
	assert_eq!(page["next"], serde_json::Value::Null);
	let empty = rpc("compute_nodes", serde_json::json!([{ "minGpus": 9 }])).expect("compute_nodes");
	assert_eq!(empty, serde_json::json!({ "nodes": [], "next": null }));
	let training_json = serde_json::json!({ "dataset": format!("0x{}", hex::encode(dataset)) });
	let wanted = serde_json::json!({
		"gpus": 8, "minBandwidthMbps": 100, "maxLatencyMs": 15, "training": training_json
	});
	let quote = rpc("compute_quote", serde_json::json!([wanted])).expect("compute_quote");
	assert_eq!(quote["eligibleNodes"], 1);
	assert_eq!(quote["minCost"], (16 * UNIT).to_string());
	let fund = rpc("compute_fund", serde_json::json!([])).expect("compute_fund");
	assert!(fund["balance"].as_str().is_some_and(|b| b.parse::<u128>().is_ok()));
	// Bad parameters are JSON-RPC errors that say what is wrong.
	let too_many = serde_json::json!({
		"gpus": 64, "minBandwidthMbps": 100, "maxLatencyMs": 15, "training": training_json
	});
	let error = rpc("compute_quote", serde_json::json!([too_many])).expect_err("refused");
	assert_eq!(error["code"], -32602);
	assert!(error["message"].as_str().is_some_and(|m| m.contains("GpusOutOfRange")), "{error}");
	let untrained = serde_json::json!({ "gpus": 8, "minBandwidthMbps": 100, "maxLatencyMs": 15 });
	let error = rpc("compute_quote", serde_json::json!([untrained])).expect_err("refused");
	assert!(error["message"].as_str().is_some_and(|m| m.contains("NoTrainingSpec")), "{error}");
	let missing = rpc("compute_quote", serde_json::json!([{ "gpus": 8 }])).expect_err("refused");
	assert!(
		missing["message"].as_str().is_some_and(|m| m.contains("minBandwidthMbps")),
		"{missing}"
	);
	let unknown = rpc("compute_job", serde_json::json!([999])).expect_err("no such job");
	assert!(
		unknown["message"].as_str().is_some_and(|m| m.contains("no job with id 999")),
		"{unknown}"
	);
	assert!(rpc("compute_job", serde_json::json!(["x"])).is_err());
	// The engine's decision, with every candidate's probability.
	let selection =
		rpc("compute_selection", serde_json::json!([job_id])).expect("compute_selection");
	assert_eq!(selection["chosen"], node_id);
	assert_eq!(selection["scores"][0]["node"], node_id);
	// The state the policy saw (named features) and the critic's estimate.
	assert!(selection["scores"][0]["features"]["costShare"].is_number(), "{selection}");
	assert!(selection["expectedReward"].is_number(), "{selection}");
	assert!(rpc("compute_selection", serde_json::json!([999])).is_err());
	// The engine's datasets, for clients that name one in a job (the web app's form).
	let datasets = rpc("compute_datasets", serde_json::json!([])).expect("compute_datasets");
	let credit = datasets
		.as_array()
		.and_then(|all| all.iter().find(|d| d["name"] == "credit-scoring.csv"))
		.unwrap_or_else(|| panic!("no credit-scoring.csv in {datasets}"));
	assert_eq!(credit["hash"], format!("0x{}", hex::encode(dataset)));

	// The verified model is a version in the registry: Ferdie's private model 0, version 0.
	let ferdie_ss58 = account_of(&ferdie).to_ss58check();
	let bob_ss58 = account_of(&bob).to_ss58check();
	let of_job = rpc("models_ofJob", serde_json::json!([job_id])).expect("models_ofJob");
	assert_eq!(of_job, serde_json::json!({ "model": 0, "version": 0 }));
	let model = rpc("models_get", serde_json::json!([0])).expect("models_get");
	assert_eq!(
		(&model["owner"], &model["public"], &model["versions"]),
		(&serde_json::json!(ferdie_ss58), &serde_json::json!(false), &serde_json::json!(1))
	);
	let version = &model["versionList"][0];
	assert_eq!(version["modelHash"], format!("0x{}", hex::encode(receipt.model_hash.0)));
	assert_eq!(version["cost"], (16 * UNIT).to_string());
	assert_eq!(
		(&version["trainer"], &version["provider"]),
		(&serde_json::json!(ferdie_ss58), &serde_json::json!(bob_ss58))
	);
	assert_eq!(version["parent"], serde_json::Value::Null);
	assert_eq!(version["metrics"]["evalSamples"], receipt.metrics.eval_samples);
	let lineage = rpc("models_lineage", serde_json::json!([0])).expect("models_lineage");
	assert_eq!(lineage.as_array().map(Vec::len), Some(1));
	let can = |who: &str| rpc("models_canFetch", serde_json::json!([0, who])).expect("canFetch");
	assert_eq!(
		(can(&ferdie_ss58), can(&bob_ss58)),
		(serde_json::json!(true), serde_json::json!(false))
	);
	let error = rpc("models_get", serde_json::json!([9])).expect_err("no such model");
	assert_eq!(error["code"], -32602);
	assert!(rpc("models_ofJob", serde_json::json!([999])).is_err());
	assert!(rpc("models_canFetch", serde_json::json!([0, "nobody"])).is_err());

	// Relay training: Ferdie continues version 0 for three more epochs. The provider's engine
	// starts from its layers, Alice's verifies the run from them, and the result is version 1
	// of model 0, linked to its parent.
	let relay = JobRequirements {
		training: Some(TrainingSpec { parent: Some(0), epochs: 3, seed: 7, ..training.clone() }),
		..requirements.clone()
	};
	let child_job = job_id + 1;
	let submit = pallet_compute_jobs::Call::<Runtime>::submit_job {
		requirements: relay.clone(),
		budget: 100 * UNIT,
	};
	client.submit(&ferdie, RuntimeCall::ComputeJobs(submit)).expect("relay job submitted");
	let child_key = keys::twox64_map("ComputeJobs", "Jobs", &child_job);
	node.wait_for("the relay job to settle", Duration::from_secs(240), |running| {
		let job: JobOf<Runtime> = client.storage(&child_key).ok().flatten()?;
		match job.status {
			JobStatus::Settled { node } => Some(node),
			JobStatus::Pending
			| JobStatus::Queued
			| JobStatus::Assigned { .. }
			| JobStatus::ResultSubmitted { .. } => None,
			other => panic!("relay job ended as {other:?}:\n{}", running.log()),
		}
	});
	let rpc = |method: &str, params: serde_json::Value| node.rpc(method, params);
	let of_child = rpc("models_ofJob", serde_json::json!([child_job])).expect("models_ofJob");
	assert_eq!(of_child, serde_json::json!({ "model": 0, "version": 1 }));
	let model = rpc("models_get", serde_json::json!([0])).expect("models_get");
	assert_eq!(
		(&model["versions"], &model["latest"]),
		(&serde_json::json!(2), &serde_json::json!(1))
	);
	assert_eq!(model["versionList"][1]["parent"], 0);
	let lineage = rpc("models_lineage", serde_json::json!([1])).expect("models_lineage");
	let ids: Vec<_> = lineage.as_array().into_iter().flatten().map(|v| v["id"].clone()).collect();
	assert_eq!(ids, [serde_json::json!(1), serde_json::json!(0)]);
	// Another account may not continue Ferdie's private model.
	let eve = pair_from_suri("//Eve").expect("dev key");
	let stolen = pallet_compute_jobs::Call::<Runtime>::submit_job {
		requirements: relay,
		budget: 100 * UNIT,
	};
	let refused = client.submit(&eve, RuntimeCall::ComputeJobs(stolen));
	let next: u64 =
		client.storage(&keys::value("ComputeJobs", "NextJobId")).expect("readable").unwrap_or(0);
	std::thread::sleep(Duration::from_secs(13));
	let after: u64 =
		client.storage(&keys::value("ComputeJobs", "NextJobId")).expect("readable").unwrap_or(0);
	assert_eq!(after, next, "Eve's relay of a private model was refused ({refused:?})");

	// Paid inference on the relayed version (Ferdie's model; Bob's engine holds it).
	let child_hash: H256 = rpc("models_version", serde_json::json!([1])).expect("models_version")
		["modelHash"]
		.as_str()
		.and_then(|h| h.parse().ok())
		.expect("a model hash");
	let child_model = std::fs::read(
		node.base_path()
			.join("compute/models")
			.join(format!("{}.safetensors", hex::encode(child_hash.0))),
	)
	.expect("the engine stored the relayed model");
	paid_inference::hundred_paid_queries(paid_inference::Trained {
		node: &mut node,
		client: &client,
		engine_port,
		node_id,
		version: 1,
		model: child_model,
		spec: TrainingSpec { parent: Some(0), epochs: 3, seed: 7, ..training.clone() },
	});

	// The assignment came from the worker's learned policy, not the on-chain fallback.
	let log = node.log();
	assert!(log.contains("policy picks node"), "no policy selection in the log:\n{log}");
	assert!(log.contains("trained model"), "no training in the log:\n{log}");
}
