//! Model commands: the registry's models and their version trees (`models_*` RPC), and the
//! owner's calls (name, share, transfer).

use crate::common::{explain, parse_account, show_str, submit_and_wait};
use aicchain_client::{pair_from_suri, Client};
use aicchain_runtime::{Runtime, RuntimeCall};
use serde_json::{json, Value};
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

/// `name-model`, `share-model`, `transfer-model`: one owner's call.
pub(crate) fn change(
	client: &Client,
	suri: &str,
	model: u64,
	change: Change,
) -> Result<(), String> {
	use pallet_model_registry::Call;
	let (call, done): (Call<Runtime>, String) = match change {
		Change::Name(name) => {
			let bytes = name.as_bytes().to_vec();
			let name_bounded =
				bytes.try_into().map_err(|_| "a model name is at most 64 bytes".to_string())?;
			(Call::set_name { model, name: name_bounded }, format!("model {model} named {name}"))
		},
		Change::Public(public) => (
			Call::set_public { model, public },
			format!("model {model} is {}", if public { "public" } else { "private" }),
		),
		Change::Allow(who) => (
			Call::allow { model, who: parse_account(&who)? },
			format!("{who} may fetch model {model}"),
		),
		Change::Disallow(who) => (
			Call::disallow { model, who: parse_account(&who)? },
			format!("{who} may no longer fetch model {model}"),
		),
		Change::Transfer(to) => (
			Call::transfer { model, to: parse_account(&to)? },
			format!("model {model} now belongs to {to}"),
		),
	};
	submit_and_wait(client, &pair_from_suri(suri)?, RuntimeCall::ModelRegistry(call))?;
	println!("{done}");
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
