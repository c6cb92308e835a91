//! Paid inference from the command line: list a version, serve it from a node, query it with
//! vouchers, redeem them, and claim dividends. Every transaction's effect is read back from
//! the chain after inclusion, and a refusal is named.

use crate::common::{engine_url, explain, parse_account, parse_amount, show, submit_and_wait};
use aicchain_client::{account_of, keys, pair_from_suri, Client};
use aicchain_primitives::{inference::query_hash, Channel, Listing, NodeId, VersionId, Voucher};
use aicchain_runtime::{AccountId, Balance, BlockNumber, Runtime, RuntimeCall};
use aicchain_worker::inference::{features_bytes, keys as engine_keys, SignedVoucher};
use codec::Decode;
use serde_json::Value;
use sp_core::Pair;
use std::{collections::BTreeMap, path::Path, time::Instant};

fn listing(
	client: &Client,
	version: VersionId,
) -> Result<Option<Listing<AccountId, Balance>>, String> {
	client.storage(&engine_keys::listing(version)).map_err(explain)
}

fn servers(client: &Client, version: VersionId) -> Result<Vec<NodeId>, String> {
	let servers: Option<Vec<NodeId>> =
		client.storage(&engine_keys::servers(version)).map_err(explain)?;
	Ok(servers.unwrap_or_default())
}

fn channel(
	client: &Client,
	user: &AccountId,
	node: NodeId,
) -> Result<Option<Channel<Balance, BlockNumber>>, String> {
	client.storage(&engine_keys::channel(user, node)).map_err(explain)
}

fn submit(
	client: &Client,
	suri: &str,
	call: pallet_inference::Call<Runtime>,
) -> Result<(), String> {
	let signer = pair_from_suri(suri)?;
	submit_and_wait(client, &signer, RuntimeCall::Inference(call))
}

/// `list-inference`: lists `version` at `price` AICC per query.
pub(crate) fn list(
	client: &Client,
	suri: &str,
	version: VersionId,
	price: &str,
) -> Result<(), String> {
	let price = parse_amount(price)?;
	let me = account_of(&pair_from_suri(suri)?);
	submit(client, suri, pallet_inference::Call::list { version, price })?;
	match listing(client, version)? {
		Some(l) if l.lister == me && l.price == price => {
			println!("version {version} listed at {} AICC per query", show(price));
			Ok(())
		},
		_ => Err(format!(
			"the chain refused the listing: version {version} does not exist, is private and not \
			 yours, or another account listed it (`aicchain model <id>` shows owners)"
		)),
	}
}

/// `serve`: announces that `node`'s engine serves `version`.
pub(crate) fn serve(
	client: &Client,
	suri: &str,
	version: VersionId,
	node: NodeId,
) -> Result<(), String> {
	if listing(client, version)?.is_none() {
		return Err(format!("version {version} is not listed: `list-inference` it first"));
	}
	submit(client, suri, pallet_inference::Call::serve { version, node })?;
	if servers(client, version)?.contains(&node) {
		println!("node {node} serves version {version}");
		Ok(())
	} else {
		Err(format!(
			"the chain refused: node {node} is not yours, or you may not fetch this model, or the \
			 version has the most servers"
		))
	}
}

/// The features of each query: `--input 1,2,3` or one CSV row per query (a header line, if
/// any, is skipped).
pub(crate) fn queries(input: Option<&str>, file: Option<&Path>) -> Result<Vec<Vec<f32>>, String> {
	let parse = |line: &str| -> Option<Vec<f32>> {
		line.split(',').map(|x| x.trim().parse::<f32>().ok()).collect()
	};
	match (input, file) {
		(Some(text), None) => {
			Ok(vec![parse(text).ok_or_else(|| format!("`{text}` is not comma-separated numbers"))?])
		},
		(None, Some(path)) => {
			let text =
				std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
			let mut lines = text.lines().filter(|l| !l.trim().is_empty()).peekable();
			if lines.peek().is_some_and(|first| parse(first).is_none()) {
				lines.next();
			}
			lines.map(|l| parse(l).ok_or_else(|| format!("`{l}` is not numbers"))).collect()
		},
		_ => Err("give --input or --input-file".into()),
	}
}

/// Rows of the version's dataset's width with the target (the last column) are cut to the
/// features.
fn features_only(
	client: &Client,
	dataset: sp_core::H256,
	rows: Vec<Vec<f32>>,
) -> Result<Vec<Vec<f32>>, String> {
	let info: Option<aicchain_primitives::DatasetInfo> =
		client.storage(&keys::blake2_map("ComputeJobs", "Datasets", &dataset)).map_err(explain)?;
	let columns = info.map_or(0, |i| i.columns as usize);
	Ok(rows
		.into_iter()
		.map(|mut row| {
			if columns > 1 && row.len() == columns {
				row.pop();
			}
			row
		})
		.collect())
}

/// `infer`: pays for and asks one query per row, each with its own voucher.
pub(crate) fn infer(
	client: &Client,
	suri: &str,
	version: VersionId,
	rows: Vec<Vec<f32>>,
	node: Option<NodeId>,
	deposit: Option<&str>,
) -> Result<(), String> {
	let pair = pair_from_suri(suri)?;
	let me = account_of(&pair);
	let listing =
		listing(client, version)?.ok_or_else(|| format!("version {version} is not listed"))?;
	let rows = features_only(client, listing.spec.dataset, rows)?;
	let servers = servers(client, version)?;
	let node = match node {
		Some(n) if servers.contains(&n) => n,
		Some(n) => return Err(format!("node {n} does not serve version {version}")),
		None => *servers.first().ok_or_else(|| format!("no node serves version {version}"))?,
	};
	let url = engine_url(client, node)?;
	let need = listing.price.saturating_mul(rows.len() as Balance);
	let held =
		channel(client, &me, node)?.filter(|c| c.closes_at.is_none()).map_or(0, |c| c.deposit);
	if let Some(amount) = deposit.map(parse_amount).transpose()? {
		submit(client, suri, pallet_inference::Call::fund_channel { node, amount })?;
		let now = channel(client, &me, node)?.map_or(0, |c| c.deposit);
		if now < held.saturating_add(amount) {
			return Err(format!(
				"the chain refused the deposit (at least 0.1 AICC, and you must hold {})",
				show(amount)
			));
		}
	}
	let genesis = client.genesis_hash().map_err(explain)?;
	let hint = aicchain_worker::http::request(
		&format!("{url}/vouchers/{node}/0x{}", hex::encode(&me)),
		None,
	)
	.map_err(|e| e.to_string())?
	.and_then(|b| serde_json::from_slice::<Value>(&b).ok());
	let mut nonce = hint.and_then(|h| h["last_nonce"].as_u64()).unwrap_or(0);
	if held < need && deposit.is_none() {
		eprintln!(
			"note: the channel to node {node} holds {} AICC, {} queries cost {}: add --deposit",
			show(held),
			rows.len(),
			show(need)
		);
	}
	let mut paid: Balance = 0;
	let start = Instant::now();
	for (i, features) in rows.iter().enumerate() {
		nonce += 1;
		let voucher = Voucher {
			user: me.clone(),
			node,
			version,
			nonce,
			price: listing.price,
			query: query_hash(&features_bytes(features)),
		};
		let signature = pair.sign(&voucher.signing_payload(&genesis));
		let signed: SignedVoucher = (voucher, signature.into());
		let body = aicchain_worker::engine::inference::query_body(features, &signed);
		let answer = aicchain_worker::http::request(&format!("{url}/infer"), Some(&body))
			.map_err(|e| format!("query {i}: the engine refused: {e}"))?
			.ok_or_else(|| format!("query {i}: the engine does not serve version {version}"))?;
		let answer: Value = serde_json::from_slice(&answer).map_err(|e| e.to_string())?;
		paid += listing.price;
		println!(
			"query {i}: output {} (nonce {nonce}, {} AICC)",
			answer["output"],
			show(listing.price)
		);
	}
	println!(
		"{} queries answered by node {node} in {:.2} s; paid {} AICC",
		rows.len(),
		start.elapsed().as_secs_f64(),
		show(paid)
	);
	Ok(())
}

/// `redeem`: takes the vouchers `node`'s engine holds and redeems them, a batch per version.
pub(crate) fn redeem(
	client: &Client,
	suri: &str,
	node: NodeId,
	engine: Option<&str>,
) -> Result<(), String> {
	let url = match engine {
		Some(url) => url.trim_end_matches('/').to_string(),
		None => engine_url(client, node)?,
	};
	let held = aicchain_worker::http::request(&format!("{url}/vouchers/{node}"), None)
		.map_err(|e| e.to_string())?
		.ok_or("the engine holds no vouchers")?;
	let held: Value = serde_json::from_slice(&held).map_err(|e| e.to_string())?;
	let mut by_version: BTreeMap<VersionId, Vec<SignedVoucher>> = BTreeMap::new();
	for text in held["vouchers"].as_array().into_iter().flatten().filter_map(Value::as_str) {
		let bytes = hex::decode(text.trim_start_matches("0x")).map_err(|e| e.to_string())?;
		let signed = SignedVoucher::decode(&mut &bytes[..]).map_err(|e| e.to_string())?;
		by_version.entry(signed.0.version).or_default().push(signed);
	}
	if by_version.is_empty() {
		println!("nothing to redeem for node {node}");
		return Ok(());
	}
	for (version, vouchers) in by_version {
		// The most `redeem` takes at once.
		let max_batch =
			<<Runtime as pallet_inference::Config>::MaxBatch as sp_core::Get<u32>>::get();
		for batch in vouchers.chunks(max_batch as usize) {
			let total: Balance = batch.iter().map(|(v, _)| v.price).sum();
			let last: BTreeMap<AccountId, u64> =
				batch.iter().map(|(v, _)| (v.user.clone(), v.nonce)).collect();
			let vouchers = batch.to_vec().try_into().map_err(|_| "batch too large")?;
			submit(client, suri, pallet_inference::Call::redeem { node, version, vouchers })?;
			for (user, nonce) in &last {
				if channel(client, user, node)?.is_none_or(|c| c.nonce < *nonce) {
					return Err(format!(
						"the chain refused the batch for version {version} (a voucher replayed, \
						 over its channel's deposit, below the listed price, or the node not yours)"
					));
				}
			}
			println!(
				"redeemed {} vouchers of version {version}: {} AICC",
				batch.len(),
				show(total)
			);
		}
	}
	Ok(())
}

fn owed(client: &Client, who: &AccountId) -> Result<(Balance, Balance), String> {
	let owed: Option<Balance> = client.storage(&engine_keys::owed(who)).map_err(explain)?;
	let earned: Option<Balance> = client.storage(&engine_keys::earned(who)).map_err(explain)?;
	Ok((owed.unwrap_or(0), earned.unwrap_or(0)))
}

/// `earnings`: dividends an account earned and may claim.
pub(crate) fn earnings(client: &Client, suri: &str, account: Option<&str>) -> Result<(), String> {
	let who = match account {
		Some(text) => parse_account(text)?,
		None => account_of(&pair_from_suri(suri)?),
	};
	let (owed, earned) = owed(client, &who)?;
	println!("dividends earned: {} AICC; claimable: {} AICC", show(earned), show(owed));
	Ok(())
}

/// `claim`: pays the signer its dividends.
pub(crate) fn claim(client: &Client, suri: &str) -> Result<(), String> {
	let me = account_of(&pair_from_suri(suri)?);
	let (before, _) = owed(client, &me)?;
	if before == 0 {
		return Err("nothing to claim".into());
	}
	submit(client, suri, pallet_inference::Call::claim {})?;
	let (after, _) = owed(client, &me)?;
	if after != 0 {
		return Err("the chain refused the claim".into());
	}
	println!("claimed {} AICC", show(before));
	Ok(())
}

/// `close-channel` / `withdraw-channel`.
pub(crate) fn close(
	client: &Client,
	suri: &str,
	node: NodeId,
	withdraw: bool,
) -> Result<(), String> {
	let me = account_of(&pair_from_suri(suri)?);
	let before = channel(client, &me, node)?.ok_or_else(|| format!("no channel to node {node}"))?;
	if withdraw {
		submit(client, suri, pallet_inference::Call::withdraw { node })?;
		let after = channel(client, &me, node)?.map_or(0, |c| c.deposit);
		if after != 0 && before.deposit != 0 {
			return Err(format!(
				"not yet: the channel may be withdrawn from block {:?}",
				before.closes_at
			));
		}
		println!("withdrew {} AICC", show(before.deposit));
	} else {
		submit(client, suri, pallet_inference::Call::close_channel { node })?;
		let at = channel(client, &me, node)?.and_then(|c| c.closes_at);
		println!(
			"the channel closes at block {at:?}: withdraw with `withdraw-channel {node}` then"
		);
	}
	Ok(())
}
