//! The real `aicchain-node --dev` produces and finalizes blocks and serves JSON-RPC.

mod common;

use common::{header_number, http_get, RunningNode};
use serde_json::{json, Value};
use std::time::Duration;

#[test]
fn dev_node_produces_and_finalizes_blocks_and_serves_rpc() {
	let mut node = RunningNode::start_dev(&[]);

	let properties = node.wait_for("RPC server", Duration::from_secs(120), |node| {
		node.rpc("system_properties", json!([])).ok()
	});
	assert_eq!(properties["tokenSymbol"], "AICC");
	assert_eq!(properties["tokenDecimals"], 12);
	assert_eq!(properties["ss58Format"], 42);

	let chain = node.rpc("system_chain", json!([])).expect("system_chain");
	assert_eq!(chain, "AICChain Development");
	let version = node.rpc("state_getRuntimeVersion", json!([])).expect("runtime version");
	assert_eq!(version["specName"], "aicchain");

	let best = node.wait_for("best block >= 3", Duration::from_secs(90), |node| {
		let header = node.rpc("chain_getHeader", json!([])).ok()?;
		header_number(&header).filter(|n| *n >= 3)
	});
	let finalized = node.wait_for("finalized block >= 1", Duration::from_secs(60), |node| {
		let hash = node.rpc("chain_getFinalizedHead", json!([])).ok()?;
		let header = node.rpc("chain_getHeader", json!([hash])).ok()?;
		header_number(&header).filter(|n| *n >= 1)
	});
	assert!(best >= 3 && finalized >= 1);

	// Bad params get a JSON-RPC error, not a crash.
	let error = node.rpc("chain_getHeader", json!(["not-a-hash"])).expect_err("bad hash");
	assert!(error.get("code").and_then(Value::as_i64).is_some(), "error object: {error}");
	node.rpc("system_health", json!([])).expect("node still answers after a bad request");

	// The community fund's runtime API answers through `state_call`; its status starts with the
	// fund's account id.
	let status = node
		.rpc("state_call", json!(["CommunityFundApi_fund_status", "0x"]))
		.expect("CommunityFundApi is exposed");
	let fund = aicchain_runtime::community_fund_account();
	let fund_hex = sp_core::hexdisplay::HexDisplay::from(&AsRef::<[u8]>::as_ref(&fund)).to_string();
	assert!(
		status.as_str().is_some_and(|s| s.starts_with(&format!("0x{fund_hex}"))),
		"fund status {status} does not start with the fund account {fund_hex}"
	);

	// Prometheus metrics are served.
	let (status, metrics) = http_get(node.prometheus_port, "/metrics").expect("metrics endpoint");
	assert_eq!(status, 200);
	assert!(metrics.contains("substrate_block_height"), "metrics:\n{metrics}");

	let status = node.stop().expect("node stops on SIGINT within 20 s");
	assert!(status.success(), "node exit status: {status}");
}

/// Storage key of a `Blake2_128Concat` map entry.
fn map_key(pallet: &str, item: &str, account: &[u8]) -> String {
	let mut key = sp_io::hashing::twox_128(pallet.as_bytes()).to_vec();
	key.extend(sp_io::hashing::twox_128(item.as_bytes()));
	key.extend(sp_io::hashing::blake2_128(account));
	key.extend(account);
	format!("0x{}", sp_core::hexdisplay::HexDisplay::from(&key))
}

/// The little-endian `u128` at `offset` of a hex-encoded SCALE value.
fn u128_at(hex_value: &Value, offset: usize) -> u128 {
	let bytes = sp_core::bytes::from_hex(hex_value.as_str().expect("storage value")).expect("hex");
	let word: [u8; 16] = bytes
		.get(offset..offset + 16)
		.and_then(|slice| slice.try_into().ok())
		.expect("value long enough");
	u128::from_le_bytes(word)
}

#[test]
fn dev_accounts_are_prefunded_in_aicc_and_aicg() {
	let mut node = RunningNode::start_dev(&[]);
	node.wait_for("RPC server", Duration::from_secs(120), |node| {
		node.rpc("system_health", json!([])).ok()
	});
	let unit = 10u128.pow(12);
	for who in [sp_keyring::Sr25519Keyring::Alice, sp_keyring::Sr25519Keyring::Ferdie] {
		let id = who.to_account_id();
		let raw: &[u8] = id.as_ref();
		// frame_system::AccountInfo { nonce, consumers, providers, sufficients: u32, data }.
		let aicc = node.rpc("state_getStorage", json!([map_key("System", "Account", raw)]));
		assert!(u128_at(&aicc.expect("AICC account"), 16) >= 999_999 * unit, "{who:?}");
		// pallet_balances::AccountData { free, .. } of the `Aicg` instance.
		let aicg = node.rpc("state_getStorage", json!([map_key("Aicg", "Account", raw)]));
		assert_eq!(u128_at(&aicg.expect("AICG account"), 0), 10_000 * unit, "{who:?}");
	}
}
