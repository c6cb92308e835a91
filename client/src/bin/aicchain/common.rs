//! Helpers every command uses: AICC amounts, accounts, error messages, signing and waiting for
//! inclusion, and the chain reads several commands share.

use aicchain_client::{account_of, keys, pair_from_suri, Client, ClientError};
use aicchain_runtime::{AccountId, Balance, RuntimeCall};
use serde_json::{json, Value};
use sp_core::crypto::Ss58Codec;
use std::time::{Duration, Instant};

pub(crate) const UNIT: Balance = 1_000_000_000_000;

pub(crate) fn explain(e: ClientError) -> String {
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
pub(crate) fn parse_amount(text: &str) -> Result<Balance, String> {
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

pub(crate) fn show(amount: Balance) -> String {
	let whole = amount / UNIT;
	let frac = amount % UNIT;
	if frac == 0 {
		format!("{whole}")
	} else {
		format!("{whole}.{}", format!("{frac:012}").trim_end_matches('0'))
	}
}

pub(crate) fn show_str(value: &Value) -> String {
	value
		.as_str()
		.and_then(|s| s.parse::<Balance>().ok())
		.map(show)
		.unwrap_or_else(|| value.to_string())
}

pub(crate) fn parse_account(text: &str) -> Result<AccountId, String> {
	if let Ok(account) = AccountId::from_ss58check(text) {
		return Ok(account);
	}
	pair_from_suri(text)
		.map(|p| account_of(&p))
		.map_err(|_| format!("`{text}` is neither an SS58 address nor a secret URI"))
}

/// Submits and waits until the transaction is in a block; a dispatch error becomes its name.
pub(crate) fn submit_and_wait(
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

/// The engine address node `node` published on chain.
pub(crate) fn engine_url(client: &Client, node: u32) -> Result<String, String> {
	let key = keys::twox64_map("ComputeRegistry", "EngineUrls", &node);
	let url: Option<Vec<u8>> = client.storage(&key).map_err(explain)?;
	let url = url.ok_or_else(|| format!("node {node} has published no engine address"))?;
	Ok(String::from_utf8_lossy(&url).trim_end_matches('/').to_string())
}

pub(crate) fn balances(
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
pub(crate) fn all_nodes(client: &Client, filter: Value) -> Result<Value, String> {
	let mut nodes = Vec::new();
	let mut from = Some(Value::from(0));
	while let Some(cursor) = from.take() {
		let page = client.rpc("compute_nodes", json!([filter, cursor])).map_err(explain)?;
		nodes.extend(page["nodes"].as_array().into_iter().flatten().cloned());
		from = page.get("next").filter(|next| !next.is_null()).cloned();
	}
	Ok(Value::Array(nodes))
}

pub(crate) fn print_nodes(nodes: &Value) {
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
