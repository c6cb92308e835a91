//! The `aicchain` command line against a real dev node: stats, registering a node, submitting a
//! training job and following it to settlement, and the messages for the usual mistakes.

mod common;

use common::RunningNode;
use std::{path::PathBuf, process::Command, time::Duration};

/// The CLI binary, built beside the node by `cargo test --workspace`.
fn cli_binary() -> PathBuf {
	let path = common::node_binary().with_file_name("aicchain");
	assert!(path.exists(), "build the CLI first: cargo build --release -p aicchain-client");
	path
}

fn aicchain(url: &str, args: &[&str]) -> (bool, String) {
	let output = Command::new(cli_binary()).args(["--url", url]).args(args).output().expect("runs");
	let text = format!(
		"{}{}",
		String::from_utf8_lossy(&output.stdout),
		String::from_utf8_lossy(&output.stderr)
	);
	(output.status.success(), text)
}

#[test]
fn cli_registers_a_node_and_follows_a_training_job_to_settlement() {
	let engine_port = common::free_port();
	let listen = format!("127.0.0.1:{engine_port}");
	let mut node = RunningNode::start_dev(&["--compute-engine-listen", &listen]);
	node.wait_for("block 1", Duration::from_secs(120), |n| {
		n.rpc("chain_getHeader", serde_json::json!([]))
			.ok()
			.and_then(|h| common::header_number(&h))
			.filter(|b| *b >= 1)
	});
	let url = format!("http://127.0.0.1:{}", node.rpc_port);

	let (ok, out) = aicchain(&url, &["stats"]);
	assert!(ok && out.contains("nodes: 0"), "{out}");

	let (ok, out) = aicchain(
		&url,
		&[
			"--suri",
			"//Charlie",
			"register-node",
			"--renewable",
			"90",
			"--carbon",
			"40",
			"--price",
			"1.5",
		],
	);
	assert!(ok && out.contains("registered node 0"), "{out}");
	let (ok, out) = aicchain(&url, &["nodes"]);
	assert!(ok && out.contains("eu-west") && out.contains("1.5"), "{out}");

	let (ok, out) = aicchain(
		&url,
		&["--suri", "//Ferdie", "submit-job", "--train", "credit-scoring", "--epochs", "2"],
	);
	assert!(ok, "{out}\n{}", node.log());
	assert!(
		out.contains("job 0 submitted") && out.contains("Assigned") && out.contains("Settled"),
		"{out}"
	);
	assert!(out.contains("cost 12 AICC: provider 10.8 + fund 1.2"), "{out}");

	// The verified model is Ferdie's; he names it and makes it public; Charlie cannot take it.
	let (ok, out) = aicchain(&url, &["model", "0"]);
	assert!(ok && out.contains("model 0 (unnamed)") && out.contains("private"), "{out}");
	assert!(out.contains("version 0 (#1)") && out.contains("MlpClassifier"), "{out}");
	// Its weights are private: the engine serves them to Ferdie's signed request, not Eve's.
	let engine = format!("http://127.0.0.1:{engine_port}");
	let weights =
		std::env::temp_dir().join(format!("aicchain-cli-model-{}.safetensors", std::process::id()));
	let weights = weights.to_string_lossy().into_owned();
	let fetch = ["fetch-model", "0", "--engine", &engine, "--out", &weights];
	let (ok, out) = aicchain(&url, &[&["--suri", "//Eve"], &fetch[..]].concat());
	assert!(!ok && out.contains("403") && out.contains("does not allow"), "{out}");
	let (ok, out) = aicchain(&url, &[&["--suri", "//Ferdie"], &fetch[..]].concat());
	assert!(ok && out.contains("written to"), "{out}");
	let bytes = std::fs::read(&weights).expect("written");
	let tensors = candle_core::safetensors::load_buffer(&bytes, &candle_core::Device::Cpu);
	assert!(tensors.is_ok_and(|t| !t.is_empty()), "a safetensors model");
	let _ = std::fs::remove_file(&weights);
	let (ok, out) = aicchain(&url, &["--suri", "//Ferdie", "name-model", "0", "credit-v1"]);
	assert!(ok && out.contains("model 0 named credit-v1"), "{out}");
	let (ok, out) = aicchain(&url, &["--suri", "//Ferdie", "share-model", "0", "--public"]);
	assert!(ok && out.contains("model 0 is public"), "{out}");
	let (ok, out) = aicchain(&url, &["models"]);
	assert!(ok && out.contains("credit-v1") && out.contains("public"), "{out}");
	// Relay training from the CLI: the result is version 1 of model 0, printed under its parent.
	let (ok, out) = aicchain(
		&url,
		&[
			"--suri",
			"//Ferdie",
			"submit-job",
			"--train",
			"credit-scoring",
			"--epochs",
			"2",
			"--parent",
			"0",
		],
	);
	assert!(ok && out.contains("Settled") && out.contains("model 0 version 1"), "{out}");
	let (ok, out) = aicchain(&url, &["model", "0"]);
	assert!(ok && out.contains("2 versions") && out.contains("└─ version 1 (#2)"), "{out}");
	let charlie = "5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y";
	let (ok, out) = aicchain(&url, &["--suri", "//Charlie", "transfer-model", "0", charlie]);
	assert!(!ok && out.contains("NotOwner"), "{out}");
	let (ok, out) = aicchain(&url, &["model", "9"]);
	assert!(!ok && out.contains("no model with id 9"), "{out}");

	// Paid inference: Ferdie lists version 1, Charlie's node serves it, Eve pays for five
	// queries (rows of a CSV), Charlie redeems them, Ferdie claims his dividends.
	let (ok, out) = aicchain(
		&url,
		&["--suri", "//Charlie", "set-engine-url", "--node", "0", "--engine", &engine],
	);
	assert!(ok, "{out}");
	let (ok, out) =
		aicchain(&url, &["--suri", "//Ferdie", "list-inference", "1", "--price", "0.01"]);
	assert!(ok && out.contains("version 1 listed at 0.01 AICC per query"), "{out}");
	// The model is public, but only its owner replaces Ferdie's listing (at another price).
	let (ok, out) = aicchain(&url, &["--suri", "//Eve", "list-inference", "1", "--price", "0.001"]);
	assert!(!ok && out.contains("refused"), "{out}");
	let (ok, out) = aicchain(&url, &["--suri", "//Charlie", "serve", "1", "--node", "0"]);
	assert!(ok && out.contains("node 0 serves version 1"), "{out}");
	let queries =
		std::env::temp_dir().join(format!("aicchain-cli-queries-{}.csv", std::process::id()));
	let csv = String::from_utf8(aicchain_worker::dataset::credit_scoring_csv()).expect("UTF-8");
	std::fs::write(&queries, csv.lines().take(6).collect::<Vec<_>>().join("\n")).expect("written");
	let queries = queries.to_string_lossy().into_owned();
	let (ok, out) = aicchain(
		&url,
		&["--suri", "//Eve", "infer", "1", "--input-file", &queries, "--deposit", "1"],
	);
	assert!(
		ok && out.contains("5 queries answered by node 0") && out.contains("paid 0.05 AICC"),
		"{out}"
	);
	let (ok, out) = aicchain(&url, &["--suri", "//Charlie", "redeem", "--node", "0"]);
	assert!(ok && out.contains("redeemed 5 vouchers of version 1: 0.05 AICC"), "{out}");
	let (ok, out) = aicchain(&url, &["--suri", "//Charlie", "redeem", "--node", "0"]);
	assert!(ok && out.contains("nothing to redeem"), "{out}");
	// 30% of 0.05 AICC to the lineage: Ferdie paid for both versions.
	let (ok, out) = aicchain(&url, &["--suri", "//Ferdie", "earnings"]);
	assert!(ok && out.contains("claimable: 0.015 AICC"), "{out}");
	let (ok, out) = aicchain(&url, &["--suri", "//Ferdie", "claim"]);
	assert!(ok && out.contains("claimed 0.015 AICC"), "{out}");
	let (ok, out) = aicchain(&url, &["--suri", "//Ferdie", "claim"]);
	assert!(!ok && out.contains("nothing to claim"), "{out}");

	let (ok, out) = aicchain(&url, &["leaderboard"]);
	assert!(ok && out.contains("5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y"), "{out}");
	// Charlie's settled jobs earned contribution points in the first reward period (an hour),
	// not yet enough to qualify, and the period is open: nothing to claim.
	assert!(out.contains("reward period 0 ends at block 600") && out.contains("points"), "{out}");
	let (ok, out) = aicchain(&url, &["--suri", "//Charlie", "claim-rewards"]);
	assert!(!ok && out.contains("NothingToClaim") && out.contains("period 0"), "{out}");
	let (ok, out) = aicchain(&url, &["--suri", "//Ferdie", "balance"]);
	assert!(ok && out.contains("AICC") && out.contains("AICG"), "{out}");

	// Mistakes get clear messages and a failing exit status.
	let (ok, out) = aicchain(&url, &["submit-job", "--gpus", "64"]);
	assert!(
		!ok && out.contains("requirements out of range") && out.contains("GpusOutOfRange"),
		"{out}"
	);
	let (ok, out) = aicchain(&url, &["--suri", "//Nobody", "submit-job", "--budget", "100"]);
	assert!(!ok && out.contains("insufficient funds"), "{out}");
	let (ok, out) = aicchain("http://127.0.0.1:1", &["stats"]);
	assert!(!ok && out.contains("cannot reach a node"), "{out}");
}
