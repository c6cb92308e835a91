//! A federated training job on a dev chain, end to end: Bob, Charlie and Dave register nodes
//! (their worker keys come with `--dev`), Ferdie submits a 3-provider, 3-round federated job on
//! the credit-scoring data, and the node's off-chain workers and engine run it: each member
//! trains its shard every round and commits its update, Alice's engine judges each round and
//! signs the verdict. Dave's engine is made Byzantine (`--byzantine-federated //Dave=sign-flip`):
//! his first update is excluded, his bond slashed, and he is paid nothing; Bob and Charlie are
//! paid for three rounds, and the final aggregate is a model version of Ferdie's.

mod common;

use aicchain_client::{account_of, keys, pair_from_suri, Client};
use aicchain_primitives::{
	AggregationRule, Federation, FederationSpec, FederationStage, JobRequirements, ModelKind,
	NodeId, NodeSpec, Region, SustainabilityPreference, TrainingSpec,
};
use aicchain_runtime::{AccountId, Balance, BlockNumber, Runtime, RuntimeCall};
use common::RunningNode;
use sp_core::{crypto::Ss58Codec, H256};
use sp_runtime::Percent;
use std::time::Duration;

const UNIT: Balance = 1_000_000_000_000;

#[test]
fn a_federated_job_excludes_a_poisoned_member_and_pays_the_honest_ones() {
	let mut node = RunningNode::start_dev(&["--byzantine-federated", "//Dave=sign-flip"]);
	let client = Client::new(&format!("127.0.0.1:{}", node.rpc_port));
	node.wait_for("block 1", Duration::from_secs(120), |_| {
		client.best_number().ok().filter(|n| *n >= 1)
	});

	let providers = ["//Bob", "//Charlie", "//Dave"].map(|suri| pair_from_suri(suri).expect("key"));
	for (i, provider) in providers.iter().enumerate() {
		let spec = NodeSpec {
			gpu_count: 8,
			gpu_memory_gib: 80,
			bandwidth_mbps: 150,
			latency_ms: 10,
			region: Region::truncate_from(b"eu-north".to_vec()),
			renewable_share: Percent::from_percent(90),
			carbon_intensity: 40 + 10 * i as u32,
			price_per_gpu_hour: 2 * UNIT,
		};
		let call = pallet_compute_registry::Call::<Runtime>::register_node {
			spec,
			worker: account_of(provider),
		};
		client.submit(provider, RuntimeCall::ComputeRegistry(call)).expect("register submitted");
	}
	let node_of = |pair: &sp_core::sr25519::Pair| -> NodeId {
		let key = keys::blake2_map("ComputeRegistry", "NodeByWorker", &account_of(pair));
		node.wait_for("a registration", Duration::from_secs(60), |_| {
			client.storage::<NodeId>(&key).ok().flatten()
		})
	};
	let ids: Vec<NodeId> = providers.iter().map(node_of).collect();
	let bond_of = |id: NodeId| -> Balance {
		let info: pallet_compute_registry::NodeInfoOf<Runtime> = client
			.storage(&keys::twox64_map("ComputeRegistry", "Nodes", &id))
			.expect("readable")
			.expect("registered");
		info.bond
	};
	let dave_bond = bond_of(ids[2]);

	let dataset =
		aicchain_worker::dataset::blake2_256(&aicchain_worker::dataset::credit_scoring_csv());
	let training = TrainingSpec {
		dataset: H256(dataset),
		model: ModelKind::MlpClassifier,
		hidden_units: 16,
		hidden_layers: 1,
		learning_rate_millionths: 10_000,
		epochs: 1,
		seed: 3,
		min_score: Default::default(),
		parent: None,
	};
	let requirements = JobRequirements {
		gpus: 8,
		min_bandwidth_mbps: 100,
		max_latency_ms: 15,
		gpu_hours: 1,
		sustainability: SustainabilityPreference::Any,
		training: Some(training),
	};
	let federated = FederationSpec { providers: 3, rounds: 3, rule: AggregationRule::Median };
	let ferdie = pair_from_suri("//Ferdie").expect("dev key");
	let id: u64 =
		client.storage(&keys::value("ComputeJobs", "NextJobId")).expect("readable").unwrap_or(0);
	let submit = pallet_compute_jobs::Call::<Runtime>::submit_federated {
		requirements,
		federated,
		budget: 100 * UNIT,
	};
	client.submit(&ferdie, RuntimeCall::ComputeJobs(submit)).expect("federated job submitted");

	let key = keys::twox64_map("ComputeJobs", "Federations", &id);
	let job: Federation<AccountId, Balance, BlockNumber> =
		node.wait_for("the federated job to settle", Duration::from_secs(300), |running| {
			let job: Federation<AccountId, Balance, BlockNumber> =
				client.storage(&key).ok().flatten()?;
			match job.stage {
				FederationStage::Settled => Some(job),
				FederationStage::Failed => panic!("the job failed: {job:?}\n{}", running.log()),
				_ => None,
			}
		});

	// Dave was excluded (in the first round) and slashed; Bob and Charlie kept every round.
	let member = |id: NodeId| job.members.iter().find(|m| m.node == id).expect("a member");
	assert!(member(ids[2]).excluded, "{job:?}");
	assert_eq!(member(ids[2]).rounds, 0);
	for honest in &ids[..2] {
		assert!(!member(*honest).excluded);
		assert_eq!(member(*honest).rounds, 3);
	}
	assert!(bond_of(ids[2]) < dave_bond, "Dave's bond was slashed");
	// The honest members' aggregate learnt, and it is the model file Alice's engine stored.
	let metrics = job.metrics.expect("metrics of the final model");
	assert!(metrics.score > sp_runtime::Perbill::from_percent(65), "{metrics:?}");
	let (aggregate, kept) = job.previous.clone().expect("the last round's aggregate");
	assert_eq!(kept.len(), 2);
	let model_path = node
		.base_path()
		.join("compute/models")
		.join(format!("{}.safetensors", hex::encode(aggregate.0)));
	let model = std::fs::read(&model_path).expect("the engine stored the aggregate");
	assert_eq!(aicchain_worker::dataset::blake2_256(&model), aggregate.0);
	// It is a version of Ferdie's, found by the job's id, that cost the two honest members'
	// shares (2 AICC × 8 GPUs × 1 hour each).
	let of_job = node.rpc("models_ofJob", serde_json::json!([id])).expect("models_ofJob");
	let version = of_job["version"].as_u64().expect("a version");
	let record = node.rpc("models_version", serde_json::json!([version])).expect("models_version");
	assert_eq!(record["modelHash"], format!("0x{}", hex::encode(aggregate.0)));
	assert_eq!(record["cost"], (32 * UNIT).to_string());
	assert_eq!(record["trainer"], serde_json::json!(account_of(&ferdie).to_ss58check()));
	let log = node.log();
	assert!(log.contains("Byzantine fault injected"), "the fault was injected");

	// The CLI shows the job: Dave's node excluded, the others' three rounds, the model's score.
	let cli = common::node_binary().with_file_name("aicchain");
	let url = format!("http://127.0.0.1:{}", node.rpc_port);
	let output = std::process::Command::new(&cli)
		.args(["--url", &url, "federation", &id.to_string()])
		.output()
		.expect("the CLI runs");
	let out = String::from_utf8_lossy(&output.stdout);
	assert!(output.status.success(), "{out}");
	assert!(out.contains("Settled") && out.contains("excluded (slashed, unpaid)"), "{out}");
	assert_eq!(out.matches("3 rounds kept").count(), 2, "{out}");
	let output = std::process::Command::new(&cli)
		.args(["--url", &url, "federation", "999"])
		.output()
		.expect("the CLI runs");
	assert!(!output.status.success());
	assert!(String::from_utf8_lossy(&output.stderr).contains("no federated job with id 999"));
}
