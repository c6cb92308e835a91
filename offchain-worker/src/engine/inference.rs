//! `POST /infer` and `GET /vouchers/…`: answering paid queries and handing the provider the
//! vouchers to redeem (see [`crate::inference`]).

use super::Engine;
use crate::{
	dataset::Dataset,
	inference::{features_bytes, AccountId, SignedVoucher},
};
use aicchain_primitives::{inference::query_hash, ModelKind, NodeId};
use codec::{Decode, Encode};
use serde_json::{json, Value};
use sp_runtime::traits::Verify;

/// An HTTP status and why.
pub type Refusal = (u16, String);

fn refuse(status: u16, why: impl Into<String>) -> Refusal {
	(status, why.into())
}

/// Decodes `0x<hex>` SCALE bytes.
fn decode_hex<T: Decode>(text: &str) -> Option<T> {
	let bytes = hex::decode(text.trim_start_matches("0x")).ok()?;
	T::decode(&mut &bytes[..]).ok()
}

/// The body of `POST /infer`: the query's features and the voucher paying for it.
pub fn query_body(input: &[f32], signed: &SignedVoucher) -> Vec<u8> {
	json!({ "input": input, "voucher": format!("0x{}", hex::encode(signed.encode())) })
		.to_string()
		.into_bytes()
}

impl Engine {
	/// Answers a paid query (`{"input": [f32…], "voucher": "0x<SCALE (voucher, signature)>"}`)
	/// if its voucher would redeem on chain; keeps the voucher for the provider.
	pub fn infer(&self, body: &[u8]) -> Result<Value, Refusal> {
		let (Some(chain), Some(book)) = (&self.chain_state, &self.vouchers) else {
			return Err(refuse(503, "this engine does not read the chain: no paid inference"));
		};
		let request: Value =
			serde_json::from_slice(body).map_err(|e| refuse(400, format!("not JSON: {e}")))?;
		let input: Vec<f32> = request["input"]
			.as_array()
			.and_then(|a| a.iter().map(|x| x.as_f64().map(|x| x as f32)).collect())
			.ok_or_else(|| refuse(400, "`input` must be an array of numbers"))?;
		let (voucher, signature): SignedVoucher = request["voucher"]
			.as_str()
			.and_then(decode_hex)
			.ok_or_else(|| refuse(400, "`voucher` must be 0x-hex SCALE of (voucher, signature)"))?;
		if query_hash(&features_bytes(&input)) != voucher.query {
			return Err(refuse(400, "the voucher's query hash is not the input's"));
		}
		let genesis = chain.genesis().ok_or_else(|| refuse(503, "the chain is unreadable"))?;
		if !signature.verify(&voucher.signing_payload(&genesis)[..], &voucher.user) {
			return Err(refuse(401, "the voucher's signature does not verify on this chain"));
		}
		let listing = chain
			.listing(voucher.version)
			.ok_or_else(|| refuse(404, format!("version {} is not listed", voucher.version)))?;
		if voucher.price < listing.price {
			return Err(refuse(402, format!("the listed price is {} planck", listing.price)));
		}
		if !chain.servers(voucher.version).contains(&voucher.node) {
			return Err(refuse(404, format!("node {} does not serve it", voucher.node)));
		}
		let channel = chain.channel(&voucher.user, voucher.node).ok_or_else(|| {
			refuse(402, format!("no channel to node {}: fund one first", voucher.node))
		})?;
		if channel.closes_at.is_some() {
			return Err(refuse(402, "the channel is closing"));
		}
		if !matches!(listing.spec.model, ModelKind::MlpClassifier | ModelKind::MlpRegressor) {
			return Err(refuse(400, "only MLP versions answer queries"));
		}
		let model = self
			.models
			.get(&listing.model_hash.0)
			.ok_or_else(|| refuse(503, "this engine does not hold the version's model"))?;
		let rows = Dataset { n_features: input.len(), features: input, targets: vec![0.0] };
		let output = crate::model::predict(&model, &listing.spec, &rows, &self.device)
			.map_err(|e| refuse(400, e.to_string()))?;
		let (version, nonce, price) = (voucher.version, voucher.nonce, voucher.price);
		let query = voucher.query;
		book.take((voucher, signature), &channel)?;
		Ok(json!({
			"output": output,
			"version": version,
			"nonce": nonce,
			"price": price.to_string(),
			"query": format!("{query:?}"),
		}))
	}

	/// `GET /vouchers/<node>`: the vouchers held for `node` above their channels' redeemed
	/// nonces, as 0x-hex SCALE (what `redeem` takes). `GET /vouchers/<node>/0x<user>`: the
	/// highest nonce of that channel seen here or on chain.
	pub fn vouchers_json(&self, rest: &str) -> Result<Value, Refusal> {
		let (Some(chain), Some(book)) = (&self.chain_state, &self.vouchers) else {
			return Err(refuse(503, "this engine does not read the chain: no paid inference"));
		};
		let (node, user) = match rest.split_once('/') {
			Some((node, user)) => (node, Some(user)),
			None => (rest, None),
		};
		let node: NodeId = node.parse().map_err(|_| refuse(400, "expected /vouchers/<node>"))?;
		if let Some(user) = user {
			let user = hex::decode(user.trim_start_matches("0x"))
				.ok()
				.and_then(|b| <[u8; 32]>::try_from(b).ok())
				.map(AccountId::new)
				.ok_or_else(|| refuse(400, "expected /vouchers/<node>/0x<32-byte account>"))?;
			let on_chain = chain.channel(&user, node).map_or(0, |c| c.nonce);
			return Ok(json!({ "last_nonce": book.last_nonce(node, &user).max(on_chain) }));
		}
		let mut redeemed = std::collections::BTreeMap::new();
		let unredeemed: Vec<String> = book
			.of_node(node)
			.into_iter()
			.filter(|(v, _)| {
				let last = *redeemed
					.entry(v.user.clone())
					.or_insert_with(|| chain.channel(&v.user, node).map_or(0, |c| c.nonce));
				v.nonce > last
			})
			.map(|signed| format!("0x{}", hex::encode(signed.encode())))
			.collect();
		Ok(json!({ "node": node, "vouchers": unredeemed }))
	}
}
