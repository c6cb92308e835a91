//! `models_*` JSON-RPC methods: the model registry as JSON, read through the
//! `ModelRegistryApi` runtime API at the best block (same conventions as `compute_*`: balances
//! as decimal strings, accounts SS58, hashes 0x-hex, bad ids are "invalid params" errors).

use crate::compute_rpc::{
	account, balance, hash, invalid_params, metrics_json, runtime_error, training_json,
};
use aicchain_runtime::{opaque::Block, AccountId, Balance, BlockNumber};
use jsonrpsee::{core::RpcResult, proc_macros::rpc};
use pallet_inference::runtime_api::InferenceApi;
use pallet_model_registry::{
	runtime_api::{ModelRegistryApi, ModelView},
	ModelVersion,
};
use serde_json::{json, Value};
use sp_api::ProvideRuntimeApi;
use sp_blockchain::HeaderBackend;
use sp_core::crypto::Ss58Codec;
use std::sync::Arc;

/// Models listed per call of `models_list`.
const PAGE: u32 = 50;

#[rpc(server, namespace = "models")]
pub trait ModelsRpc {
	/// Models from id `from` (default 0), up to 50: `{ "models": [...], "next": <id or null> }`.
	#[method(name = "list")]
	fn list(&self, from: Option<u64>) -> RpcResult<Value>;

	/// One model and every version of it (oldest first, each with its parent): the model's tree.
	#[method(name = "get")]
	fn get(&self, model: u64) -> RpcResult<Value>;

	/// One version.
	#[method(name = "version")]
	fn version(&self, version: u64) -> RpcResult<Value>;

	/// A version and its ancestors, newest first, back to the model's root.
	#[method(name = "lineage")]
	fn lineage(&self, version: u64) -> RpcResult<Value>;

	/// The version a settled training job produced: `{ "model": .., "version": .. }`.
	#[method(name = "ofJob")]
	fn of_job(&self, job: u64) -> RpcResult<Value>;

	/// Whether an account (SS58) may fetch a model's weights.
	#[method(name = "canFetch")]
	fn can_fetch(&self, model: u64, who: String) -> RpcResult<bool>;

	/// A version's inference listing: lister, price per query, model, model hash, and the
	/// nodes serving it; null if not listed.
	#[method(name = "listing")]
	fn listing(&self, version: u64) -> RpcResult<Value>;

	/// A user's (SS58) prepaid channel to a node: deposit, last redeemed nonce, closing block;
	/// null if none.
	#[method(name = "channel")]
	fn channel(&self, user: String, node: u32) -> RpcResult<Value>;

	/// An account's (SS58) inference dividends: `{ "claimable", "earned" }`.
	#[method(name = "earnings")]
	fn earnings(&self, who: String) -> RpcResult<Value>;
}

fn parse_ss58(who: &str) -> RpcResult<AccountId> {
	AccountId::from_ss58check(who)
		.map_err(|_| invalid_params(format!("`{who}` is not an SS58 account")))
}

pub struct Models<C> {
	client: Arc<C>,
}

impl<C> Models<C> {
	pub fn new(client: Arc<C>) -> Self {
		Self { client }
	}
}

fn model_json(m: &ModelView<AccountId, BlockNumber>) -> Value {
	json!({
		"id": m.id,
		"owner": account(&m.owner),
		"name": String::from_utf8_lossy(&m.name),
		"public": m.public,
		"root": m.root,
		"latest": m.latest,
		"versions": m.versions,
		"allowed": m.allowed,
		"createdAt": m.created_at,
	})
}

fn version_json(id: u64, v: &ModelVersion<AccountId, Balance, BlockNumber>) -> Value {
	json!({
		"id": id,
		"model": v.model,
		"number": v.number,
		"parent": v.parent,
		"job": v.job,
		"trainer": account(&v.trainer),
		"node": v.node,
		"provider": account(&v.provider),
		"training": training_json(&v.spec),
		"metrics": metrics_json(&v.metrics),
		"modelHash": hash(&v.model_hash),
		"cost": balance(v.cost),
		"createdAt": v.created_at,
	})
}

impl<C> ModelsRpcServer for Models<C>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: ModelRegistryApi<Block, AccountId, Balance, BlockNumber>
		+ InferenceApi<Block, AccountId, Balance, BlockNumber>,
{
	fn list(&self, from: Option<u64>) -> RpcResult<Value> {
		let best = self.client.info().best_hash;
		let from = from.unwrap_or(0);
		let models = self.client.runtime_api().models(best, from, PAGE).map_err(runtime_error)?;
		// Models are never removed, so ids are contiguous: a short page is the last one.
		let next = (models.len() == PAGE as usize).then(|| from.saturating_add(u64::from(PAGE)));
		Ok(json!({
			"models": models.iter().map(model_json).collect::<Vec<_>>(),
			"next": next,
		}))
	}

	fn get(&self, model: u64) -> RpcResult<Value> {
		let best = self.client.info().best_hash;
		let api = self.client.runtime_api();
		let info = api
			.model(best, model)
			.map_err(runtime_error)?
			.ok_or_else(|| invalid_params(format!("no model with id {model}")))?;
		let versions = api.versions(best, model).map_err(runtime_error)?;
		let mut out = model_json(&info);
		out["versionList"] =
			Value::Array(versions.iter().map(|(id, v)| version_json(*id, v)).collect());
		Ok(out)
	}

	fn version(&self, version: u64) -> RpcResult<Value> {
		let best = self.client.info().best_hash;
		let v = self
			.client
			.runtime_api()
			.version(best, version)
			.map_err(runtime_error)?
			.ok_or_else(|| invalid_params(format!("no model version with id {version}")))?;
		Ok(version_json(version, &v))
	}

	fn lineage(&self, version: u64) -> RpcResult<Value> {
		let best = self.client.info().best_hash;
		let lineage = self.client.runtime_api().lineage(best, version).map_err(runtime_error)?;
		if lineage.is_empty() {
			return Err(invalid_params(format!("no model version with id {version}")));
		}
		Ok(Value::Array(lineage.iter().map(|(id, v)| version_json(*id, v)).collect()))
	}

	fn of_job(&self, job: u64) -> RpcResult<Value> {
		let best = self.client.info().best_hash;
		let api = self.client.runtime_api();
		let version = api.version_of_job(best, job).map_err(runtime_error)?.ok_or_else(|| {
			invalid_params(format!("job {job} produced no model (not a settled training job)"))
		})?;
		let model = api.version(best, version).map_err(runtime_error)?.map(|v| v.model);
		Ok(json!({ "model": model, "version": version }))
	}

	fn can_fetch(&self, model: u64, who: String) -> RpcResult<bool> {
		let who = AccountId::from_ss58check(&who)
			.map_err(|_| invalid_params(format!("`{who}` is not an SS58 account")))?;
		let best = self.client.info().best_hash;
		self.client.runtime_api().can_fetch(best, model, who).map_err(runtime_error)
	}

	fn listing(&self, version: u64) -> RpcResult<Value> {
		let best = self.client.info().best_hash;
		let listing = self.client.runtime_api().listing(best, version).map_err(runtime_error)?;
		Ok(listing.map_or(Value::Null, |(l, servers)| {
			json!({
				"version": version,
				"lister": account(&l.lister),
				"price": balance(l.price),
				"model": l.model,
				"modelHash": hash(&l.model_hash),
				"servers": servers,
			})
		}))
	}

	fn channel(&self, user: String, node: u32) -> RpcResult<Value> {
		let user = parse_ss58(&user)?;
		let best = self.client.info().best_hash;
		let channel = self.client.runtime_api().channel(best, user, node).map_err(runtime_error)?;
		Ok(channel.map_or(
			Value::Null,
			|c| json!({ "deposit": balance(c.deposit), "nonce": c.nonce, "closesAt": c.closes_at }),
		))
	}

	fn earnings(&self, who: String) -> RpcResult<Value> {
		let who = parse_ss58(&who)?;
		let best = self.client.info().best_hash;
		let (claimable, earned) =
			self.client.runtime_api().earnings(best, who).map_err(runtime_error)?;
		Ok(json!({ "claimable": balance(claimable), "earned": balance(earned) }))
	}
}
