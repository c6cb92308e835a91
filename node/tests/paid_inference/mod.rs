//! Paid inference on the dev node, after `compute_job`'s training and relay: Ferdie lists the
//! relayed version, Bob's node serves it, Eve pays 100 queries with vouchers, the engine refuses
//! replayed, forged and over-budget vouchers, Bob redeems all 100 in one transaction, and the
//! fund, the provider and the lineage (Ferdie paid for both versions) are paid to the planck.

use aicchain_client::{account_of, keys, Client};
use aicchain_primitives::{inference::query_hash, Channel, NodeId, VersionId, Voucher};
use aicchain_runtime::{AccountId, Balance, BlockNumber, Runtime, RuntimeCall, RuntimeEvent};
use aicchain_worker::inference::{features_bytes, keys as ikeys, SignedVoucher};
use codec::Decode;
use sp_core::{sr25519, Pair, H256};
use std::time::Duration;

use crate::common::RunningNode;

const QUERIES: u64 = 100;
/// An odd price, so that every split rounds.
const PRICE: Balance = 10_000_000_007;

type Events = Vec<frame_system::EventRecord<RuntimeEvent, H256>>;

fn free(client: &Client, who: &AccountId) -> Balance {
	let info: Option<frame_system::AccountInfo<u32, pallet_balances::AccountData<Balance>>> =
		client.storage(&keys::blake2_map("System", "Account", who)).expect("readable");
	info.map_or(0, |i| i.data.free)
}

fn reserved(client: &Client, who: &AccountId) -> Balance {
	let info: Option<frame_system::AccountInfo<u32, pallet_balances::AccountData<Balance>>> =
		client.storage(&keys::blake2_map("System", "Account", who)).expect("readable");
	info.map_or(0, |i| i.data.reserved)
}

fn channel(
	client: &Client,
	who: &AccountId,
	node: NodeId,
) -> Option<Channel<Balance, BlockNumber>> {
	client.storage(&ikeys::channel(who, node)).expect("readable")
}

/// Submits `call` and waits until `done` reads true.
fn submit_until(
	node: &mut RunningNode,
	client: &Client,
	signer: &sr25519::Pair,
	call: impl Into<RuntimeCall>,
	what: &str,
	done: impl Fn() -> bool,
) {
	client.submit(signer, call.into()).expect("submitted");
	node.wait_for(what, Duration::from_secs(60), |_| done().then_some(()));
}

/// Every event of blocks `from..=best`.
fn events_since(client: &Client, from: u32) -> Vec<RuntimeEvent> {
	let best = client.best_number().expect("best block");
	let key = format!("0x{}", hex::encode(keys::value("System", "Events")));
	let mut out = Vec::new();
	for n in from..=best {
		let hash = client.rpc("chain_getBlockHash", serde_json::json!([n])).expect("block hash");
		let raw = client.rpc("state_getStorage", serde_json::json!([key, hash])).expect("events");
		let Some(text) = raw.as_str() else { continue };
		let bytes = hex::decode(text.trim_start_matches("0x")).expect("hex");
		let events = Events::decode(&mut &bytes[..]).expect("events decode");
		out.extend(events.into_iter().map(|e| e.event));
	}
	out
}

fn sign(
	pair: &sr25519::Pair,
	user: &AccountId,
	node: NodeId,
	version: VersionId,
	nonce: u64,
	input: &[f32],
	genesis: H256,
) -> SignedVoucher {
	let voucher = Voucher {
		user: user.clone(),
		node,
		version,
		nonce,
		price: PRICE,
		query: query_hash(&features_bytes(input)),
	};
	let signature = pair.sign(&voucher.signing_payload(&genesis));
	(voucher, signature.into())
}

/// Posts a query; the engine's refusal as its status line.
fn ask(engine: &str, input: &[f32], signed: &SignedVoucher) -> Result<serde_json::Value, String> {
	let body = aicchain_worker::engine::inference::query_body(input, signed);
	match aicchain_worker::http::request(&format!("{engine}/infer"), Some(&body)) {
		Ok(Some(bytes)) => Ok(serde_json::from_slice(&bytes).expect("JSON answer")),
		Ok(None) => Err("status 404".into()),
		Err(e) => Err(e.to_string()),
	}
}

pub struct Trained<'a> {
	pub node: &'a mut RunningNode,
	pub client: &'a Client,
	pub engine_port: u16,
	pub node_id: NodeId,
	pub version: VersionId,
	pub model: Vec<u8>,
	pub spec: aicchain_primitives::TrainingSpec,
}

pub fn hundred_paid_queries(t: Trained<'_>) {
	let client = t.client;
	let node = t.node;
	let bob = aicchain_client::pair_from_suri("//Bob").expect("dev key");
	let ferdie = aicchain_client::pair_from_suri("//Ferdie").expect("dev key");
	let eve = aicchain_client::pair_from_suri("//Eve").expect("dev key");
	let (bob_id, ferdie_id, eve_id) = (account_of(&bob), account_of(&ferdie), account_of(&eve));
	let engine = format!("http://127.0.0.1:{}", t.engine_port);
	let url = sp_runtime::BoundedVec::truncate_from(engine.clone().into_bytes());
	let set_url = pallet_compute_registry::Call::<Runtime>::set_engine_url {
		node_id: t.node_id,
		url: Some(url),
	};
	client.submit(&bob, RuntimeCall::ComputeRegistry(set_url)).expect("engine URL submitted");

	let version = t.version;
	submit_until(
		node,
		client,
		&ferdie,
		pallet_inference::Call::list { version, price: PRICE },
		"the listing",
		|| client.storage_raw(&ikeys::listing(version)).ok().flatten().is_some(),
	);
	// The model is Ferdie's and private: Bob's node may serve it once Ferdie allows Bob.
	let allow = pallet_model_registry::Call::<Runtime>::allow { model: 0, who: bob_id.clone() };
	let bob_ss58 = sp_core::crypto::Ss58Codec::to_ss58check(&bob_id);
	let fetchable = || {
		client.rpc("models_canFetch", serde_json::json!([0, bob_ss58])).ok()
			== Some(serde_json::json!(true))
	};
	assert!(!fetchable());
	submit_until(
		node,
		client,
		&ferdie,
		RuntimeCall::ModelRegistry(allow),
		"Bob allowed",
		fetchable,
	);
	let served = pallet_inference::Call::serve { version, node: t.node_id };
	submit_until(node, client, &bob, served, "Bob's node to serve", || {
		let servers: Option<Vec<NodeId>> = client.storage(&ikeys::servers(version)).ok().flatten();
		servers.is_some_and(|s| s.contains(&t.node_id))
	});
	let deposit = PRICE * Balance::from(QUERIES);
	let reserved_before = reserved(client, &eve_id);
	let fund = pallet_inference::Call::fund_channel { node: t.node_id, amount: deposit };
	submit_until(node, client, &eve, fund, "Eve's channel", || {
		channel(client, &eve_id, t.node_id).is_some_and(|c| c.deposit == deposit)
	});
	assert_eq!(reserved(client, &eve_id), reserved_before + deposit);

	// 100 queries: rows of the credit-scoring data; each answer is the model's own output.
	let data = aicchain_worker::dataset::Dataset::from_csv(
		&aicchain_worker::dataset::credit_scoring_csv(),
	)
	.expect("dataset");
	let genesis = client.genesis_hash().expect("genesis");
	let width = data.n_features;
	for nonce in 1..=QUERIES {
		let row = nonce as usize;
		let input = data.features[row * width..(row + 1) * width].to_vec();
		let signed = sign(&eve, &eve_id, t.node_id, version, nonce, &input, genesis);
		let answer = ask(&engine, &input, &signed).expect("a paid query is answered");
		let rows = aicchain_worker::dataset::Dataset {
			n_features: width,
			features: input.clone(),
			targets: vec![0.0],
		};
		let expected =
			aicchain_worker::model::predict(&t.model, &t.spec, &rows, &candle_core::Device::Cpu)
				.expect("predicts");
		assert_eq!(answer["output"], serde_json::json!(expected), "query {nonce}");
	}
	// Refusals: a replayed nonce, a voucher Eve did not sign, one beyond her deposit.
	let input = data.features[..width].to_vec();
	let replay = sign(&eve, &eve_id, t.node_id, version, QUERIES, &input, genesis);
	let refused = ask(&engine, &input, &replay).expect_err("replayed");
	assert!(refused.contains("status 409") && refused.contains("is used"), "{refused}");
	let forged = sign(&ferdie, &eve_id, t.node_id, version, QUERIES + 1, &input, genesis);
	let refused = ask(&engine, &input, &forged).expect_err("forged");
	assert!(refused.contains("status 401") && refused.contains("signature"), "{refused}");
	let over = sign(&eve, &eve_id, t.node_id, version, QUERIES + 1, &input, genesis);
	let refused = ask(&engine, &input, &over).expect_err("over budget");
	assert!(refused.contains("status 402") && refused.contains("owed"), "{refused}");

	// Bob takes the 100 vouchers from his engine and redeems them in one transaction.
	let held = aicchain_worker::http::request(&format!("{engine}/vouchers/{}", t.node_id), None)
		.expect("vouchers")
		.expect("the engine holds vouchers");
	let held: serde_json::Value = serde_json::from_slice(&held).expect("JSON");
	let vouchers: Vec<SignedVoucher> = held["vouchers"]
		.as_array()
		.expect("a list")
		.iter()
		.map(|v| {
			let bytes =
				hex::decode(v.as_str().expect("hex").trim_start_matches("0x")).expect("hex");
			SignedVoucher::decode(&mut &bytes[..]).expect("a voucher")
		})
		.collect();
	assert_eq!(vouchers.len() as u64, QUERIES);
	let pot = aicchain_runtime::inference_account();
	let fund_account = aicchain_runtime::community_fund_account();
	let (pot_before, fund_before) = (free(client, &pot), free(client, &fund_account));
	let from_block = client.best_number().expect("best");
	let redeem = pallet_inference::Call::redeem {
		node: t.node_id,
		version,
		vouchers: vouchers.try_into().expect("within MaxBatch"),
	};
	submit_until(node, client, &bob, redeem, "the redemption", || {
		channel(client, &eve_id, t.node_id).is_some_and(|c| c.nonce == QUERIES)
	});
	let total = deposit;
	let fund_share = total / 10;
	let contributors = total * 3 / 10;
	let provider_share = total - fund_share - contributors;
	assert_eq!(channel(client, &eve_id, t.node_id).map(|c| c.deposit), Some(0));
	assert_eq!(reserved(client, &eve_id), reserved_before);
	assert_eq!(free(client, &fund_account), fund_before + fund_share);
	assert_eq!(free(client, &pot), pot_before + contributors);
	let owed: Option<Balance> = client.storage(&ikeys::owed(&ferdie_id)).expect("readable");
	assert_eq!(owed, Some(contributors), "Ferdie paid for both versions of the lineage");
	let events = events_since(client, from_block);
	let paid_bob = events.iter().any(|e| {
		matches!(e, RuntimeEvent::Balances(pallet_balances::Event::Transfer { from, to, amount })
			if *from == pot && *to == bob_id && *amount == provider_share)
	});
	assert!(paid_bob, "Bob was paid {provider_share} planck: {events:?}");
	assert!(events.iter().any(|e| matches!(
		e,
		RuntimeEvent::Inference(pallet_inference::Event::Redeemed { vouchers, total: t, .. })
			if *vouchers == QUERIES as u32 && *t == total
	)));

	let ferdie_ss58 = sp_core::crypto::Ss58Codec::to_ss58check(&ferdie_id);
	let earnings = node.rpc("models_earnings", serde_json::json!([ferdie_ss58])).expect("RPC");
	assert_eq!(earnings["claimable"], contributors.to_string());
	let listing = node.rpc("models_listing", serde_json::json!([version])).expect("RPC");
	assert_eq!(
		(&listing["price"], &listing["servers"]),
		(&serde_json::json!(PRICE.to_string()), &serde_json::json!([t.node_id]))
	);
	let eve_ss58 = sp_core::crypto::Ss58Codec::to_ss58check(&eve_id);
	let channel =
		node.rpc("models_channel", serde_json::json!([eve_ss58, t.node_id])).expect("RPC");
	assert_eq!(
		(&channel["deposit"], &channel["nonce"]),
		(&serde_json::json!("0"), &serde_json::json!(QUERIES))
	);

	// Ferdie claims his dividends: the pallet's account is back to what it held.
	let from_block = client.best_number().expect("best");
	submit_until(node, client, &ferdie, pallet_inference::Call::claim {}, "the claim", || {
		client.storage::<Balance>(&ikeys::owed(&ferdie_id)).ok().flatten().is_none()
	});
	assert_eq!(free(client, &pot), pot_before);
	let events = events_since(client, from_block);
	assert!(events.iter().any(|e| matches!(
		e,
		RuntimeEvent::Inference(pallet_inference::Event::Claimed { who, amount })
			if *who == ferdie_id && *amount == contributors
	)));
}
