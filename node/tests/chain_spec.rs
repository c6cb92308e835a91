//! `export-chain-spec` and `build-spec` give what Polkadot.js and zombienet need.

mod common;

use serde_json::Value;
use std::process::Command;

fn spec(args: &[&str]) -> Value {
	let output = Command::new(common::node_binary()).args(args).output().expect("node runs");
	assert!(
		output.status.success(),
		"{args:?} failed: {}",
		String::from_utf8_lossy(&output.stderr)
	);
	serde_json::from_slice(&output.stdout).expect("the chain spec is JSON")
}

#[test]
fn exported_specs_carry_token_properties() {
	for chain in ["dev", "local"] {
		let spec = spec(&["export-chain-spec", "--chain", chain]);
		let properties = &spec["properties"];
		assert_eq!(properties["tokenSymbol"], "AICC", "{chain}");
		assert_eq!(properties["tokenDecimals"], 12, "{chain}");
		assert_eq!(properties["ss58Format"], 42, "{chain}");
	}
}

/// The local spec's validators are session keys (zombienet takes the raw spec as it is, so these
/// must be the keys of the nodes it names alice, bob, charlie and dave).
#[test]
fn local_plain_spec_has_four_session_validators() {
	let spec = spec(&["build-spec", "--chain", "local", "--disable-default-bootnode"]);
	assert_eq!(spec["id"], "aicchain_local");
	let patch = &spec["genesis"]["runtimeGenesis"]["patch"];
	let keys = patch["session"]["keys"].as_array().expect("session keys");
	assert_eq!(keys.len(), 4);
	for key in keys {
		let names = key[2].as_object().expect("a validator's session keys");
		for name in ["aura", "grandpa", "worker"] {
			assert!(names.contains_key(name), "{name} key in {key}");
		}
	}
	assert_eq!(patch["validatorSet"]["validators"].as_array().map(Vec::len), Some(4));
	assert!(patch["balances"]["balances"].as_array().is_some_and(|b| !b.is_empty()));
	assert!(patch["aicg"]["balances"].as_array().is_some_and(|b| !b.is_empty()));
}

#[test]
fn raw_spec_builds_genesis_storage() {
	let spec = spec(&["export-chain-spec", "--chain", "dev", "--raw"]);
	let top = spec["genesis"]["raw"]["top"].as_object().expect("raw genesis storage");
	// `:code` holds the runtime Wasm.
	assert!(top.contains_key("0x3a636f6465"));
}

#[test]
fn unknown_chain_file_is_a_clear_error() {
	let output = Command::new(common::node_binary())
		.args(["export-chain-spec", "--chain", "/nonexistent/spec.json"])
		.output()
		.expect("node runs");
	assert!(!output.status.success());
	assert!(!String::from_utf8_lossy(&output.stderr).is_empty());
}
