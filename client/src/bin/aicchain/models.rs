//! Model commands: the registry's models and their version trees (`models_*` RPC), and the
//! owner's calls (name, share, transfer).

use crate::common::{explain, parse_account, show_str, submit_and_wait};
use aicchain_client::{account_of, pair_from_suri, Client};
use aicchain_runtime::{Runtime, RuntimeCall};
use serde_json::{json, Value};
use sp_core::crypto::Ss58Codec;
use std::collections::BTreeMap;

/// `models`: every model, one line each.
pub(crate) fn list(client: &Client) -> Result<(), String> {
	let mut from = 0u64;
	println!(
		"{:>5} {:<20} {:<50} {:>8} {:>7} {:<8}",
		"model", "name", "owner", "versions", "latest", "access"
	);
	loop {
		let page = client.rpc("models_list", json!([from])).map_err(explain)?;
		for m in page["models"].as_array().into_iter().flatten() {
			println!(
				"{:>5} {:<20} {:<50} {:>8} {:>7} {:<8}",
				m["id"],
				m["name"].as_str().unwrap_or(""),
				m["owner"].as_str().unwrap_or("?"),
				m["versions"],
				m["latest"],
				if m["public"] == true { "public" } else { "private" }
			);
		}
		match page["next"].as_u64() {
			Some(next) => from = next,
			None => return Ok(()),
		}
	}
}

/// One line of a version: id, number, score, what it cost, who trained it where.
fn version_line(v: &Value) -> String {
	format!(
		"version {} (#{}): score {:.2}%, loss {:.4}, {} AICC, job {} by {} on node {}, {}",
		v["id"],
		v["number"],
		100.0 * v["metrics"]["score"].as_f64().unwrap_or(0.0),
		v["metrics"]["lossMillionths"].as_f64().unwrap_or(0.0) / 1e6,
		show_str(&v["cost"]),
		v["job"],
		v["trainer"].as_str().unwrap_or("?"),
		v["node"],
		v["modelHash"].as_str().unwrap_or("?"),
	)
}

/// The model's versions as a tree, children under their parent, oldest first.
pub(crate) fn tree_lines(versions: &[Value]) -> Vec<String> {
	let mut children: BTreeMap<Option<u64>, Vec<&Value>> = BTreeMap::new();
	for v in versions {
		children.entry(v["parent"].as_u64()).or_default().push(v);
	}
	let mut lines = Vec::new();
	// Depth-first from the roots (versions without a parent in this list).
	let ids: Vec<u64> = versions.iter().filter_map(|v| v["id"].as_u64()).collect();
	let mut stack: Vec<(&Value, usize)> = versions
		.iter()
		.filter(|v| v["parent"].as_u64().is_none_or(|p| !ids.contains(&p)))
		.rev()
		.map(|v| (v, 0))
		.collect();
	while let Some((v, depth)) = stack.pop() {
		let prefix =
			if depth == 0 { String::new() } else { format!("{}└─ ", "   ".repeat(depth - 1)) };
		lines.push(format!("{prefix}{}", version_line(v)));
		if let Some(kids) = children.get(&v["id"].as_u64()) {
			stack.extend(kids.iter().rev().map(|k| (*k, depth + 1)));
		}
	}
	lines
}

/// `model <id>`: the model and its version tree.
pub(crate) fn show(client: &Client, id: u64) -> Result<(), String> {
	let m = client.rpc("models_get", json!([id])).map_err(explain)?;
	let name = m["name"].as_str().filter(|n| !n.is_empty()).unwrap_or("(unnamed)");
	println!(
		"model {id} {name}: owner {}, {}, {} versions, latest {}",
		m["owner"].as_str().unwrap_or("?"),
		if m["public"] == true { "public" } else { "private" },
		m["versions"],
		m["latest"]
	);
	if let Some(first) = m["versionList"].as_array().and_then(|v| v.first()) {
		let t = &first["training"];
		println!(
			"{} {}x{} on dataset {}",
			t["model"].as_str().unwrap_or("?"),
			t["hiddenLayers"],
			t["hiddenUnits"],
			t["dataset"].as_str().unwrap_or("?")
		);
	}
	let versions: Vec<Value> = m["versionList"].as_array().cloned().unwrap_or_default();
	for line in tree_lines(&versions) {
		println!("{line}");
	}
	Ok(())
}

/// What an owner changes about a model.
pub(crate) enum Change {
	Name(String),
	Public(bool),
	Allow(String),
	Disallow(String),
	Transfer(String),
}

/// Whether a change shows in the model read back.
type Check = Box<dyn Fn(&Value) -> bool>;

/// `name-model`, `share-model`, `transfer-model`: one owner's call. Checks ownership first
/// (the chain would refuse with `NotOwner`), and after inclusion that the change took effect.
pub(crate) fn change(
	client: &Client,
	suri: &str,
	model: u64,
	change: Change,
) -> Result<(), String> {
	use pallet_model_registry::Call;
	let signer = pair_from_suri(suri)?;
	let me = account_of(&signer).to_ss58check();
	let before = client.rpc("models_get", json!([model])).map_err(explain)?;
	let owner = before["owner"].as_str().unwrap_or("?");
	if owner != me {
		return Err(format!(
			"model {model} belongs to {owner}: only its owner may change it (NotOwner)"
		));
	}
	let (call, done, took): (Call<Runtime>, String, Check) = match change {
		Change::Name(name) => {
			let bounded = name
				.as_bytes()
				.to_vec()
				.try_into()
				.map_err(|_| "a model name is at most 64 bytes".to_string())?;
			let wanted = name.clone();
			(
				Call::set_name { model, name: bounded },
				format!("model {model} named {name}"),
				Box::new(move |m: &Value| m["name"] == wanted.as_str()),
			)
		},
		Change::Public(public) => (
			Call::set_public { model, public },
			format!("model {model} is {}", if public { "public" } else { "private" }),
			Box::new(move |m: &Value| m["public"] == public),
		),
		Change::Allow(who) => {
			let allowed = before["allowed"].as_u64().unwrap_or(0);
			(
				Call::allow { model, who: parse_account(&who)? },
				format!("{who} may fetch model {model}"),
				Box::new(move |m: &Value| m["allowed"].as_u64() == Some(allowed + 1)),
			)
		},
		Change::Disallow(who) => {
			let allowed = before["allowed"].as_u64().unwrap_or(0);
			(
				Call::disallow { model, who: parse_account(&who)? },
				format!("{who} may no longer fetch model {model}"),
				Box::new(move |m: &Value| m["allowed"].as_u64() == Some(allowed.saturating_sub(1))),
			)
		},
		Change::Transfer(to) => {
			let account = parse_account(&to)?;
			let new_owner = account.to_ss58check();
			(
				Call::transfer { model, to: account },
				format!("model {model} now belongs to {to}"),
				Box::new(move |m: &Value| m["owner"] == new_owner.as_str()),
			)
		},
	};
	submit_and_wait(client, &signer, RuntimeCall::ModelRegistry(call))?;
	let after = client.rpc("models_get", json!([model])).map_err(explain)?;
	if !took(&after) {
		return Err(format!(
			"the chain refused the change to model {model} (already so, or the allow list is \
			 full: at most 32 accounts)"
		));
	}
	println!("{done}");
	Ok(())
}

/// `fetch-model <version>`: the version's weights from the engine of the node that trained it
/// (or `--engine`), on a request signed with the caller's key (an engine serves a private
/// model only to its owner and the accounts it allows), checked against the hash on chain and
/// written to `out` (default `model-<version>.safetensors`).
pub(crate) fn fetch(
	client: &Client,
	suri: &str,
	version: u64,
	out: Option<&std::path::Path>,
	engine: Option<&str>,
) -> Result<(), String> {
	use aicchain_worker::access::{keys, sign_fetch, signer_from_pair, VersionRecord};
	let record: VersionRecord = client
		.storage(&keys::version(version))
		.map_err(explain)?
		.ok_or_else(|| format!("version {version} is not registered"))?;
	let url = match engine {
		Some(url) => url.trim_end_matches('/').to_string(),
		None => crate::common::engine_url(client, record.node)?,
	};
	let path = format!("/models/0x{}?version={version}", hex::encode(record.model_hash));
	let genesis = client.genesis_hash().map_err(explain)?;
	let header = sign_fetch(&signer_from_pair(pair_from_suri(suri)?), &genesis, &path, &[])
		.ok_or("could not sign the request")?;
	let reach = aicchain_worker::http::Reach::Any;
	let max = aicchain_worker::http::MAX_DOWNLOAD;
	let bytes =
		aicchain_worker::http::request_reaching(&format!("{url}{path}"), max, reach, Some(&header))
			.map_err(|e| format!("the engine refused: {e}"))?
			.ok_or_else(|| {
				format!("the engine at {url} does not hold version {version}'s model")
			})?;
	if aicchain_worker::dataset::blake2_256(&bytes) != record.model_hash.0 {
		return Err(format!("the engine at {url} served another file than version {version}'s"));
	}
	let default = std::path::PathBuf::from(format!("model-{version}.safetensors"));
	let out = out.unwrap_or(&default);
	std::fs::write(out, &bytes).map_err(|e| format!("{}: {e}", out.display()))?;
	println!(
		"version {version} (model {}): {} bytes, hash 0x{}, written to {}",
		record.model,
		bytes.len(),
		hex::encode(record.model_hash),
		out.display()
	);
	Ok(())
}

#[cfg(test)]
mod tests {
	use super::*;

	fn v(id: u64, parent: Option<u64>) -> Value {
		json!({ "id": id, "parent": parent, "number": id + 1, "metrics": {}, "cost": "0" })
	}

	#[test]
	fn children_print_under_their_parent_in_order() {
		let lines = tree_lines(&[v(0, None), v(1, Some(0)), v(2, Some(0)), v(3, Some(1))]);
		let heads: Vec<String> =
			lines.iter().map(|l| l.split(" (#").next().unwrap_or("").to_string()).collect();
		assert_eq!(heads, ["version 0", "└─ version 1", "   └─ version 3", "└─ version 2"]);
	}
}
