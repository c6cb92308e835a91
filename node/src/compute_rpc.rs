//! `compute_*` JSON-RPC methods: the compute market as JSON, read through the `ComputeApi` and
//! `CommunityFundApi` runtime APIs at the best block. Balances are decimal strings (they do not
//! fit JSON numbers), accounts SS58 (prefix 42), hashes 0x-hex. Bad parameters are JSON-RPC
//! "invalid params" errors (-32602) that name the problem.

use aicchain_primitives::{
	JobRequirements, ModelKind, NodeSpec, QuantisedMetrics, SustainabilityPreference, TrainingSpec,
};
use aicchain_runtime::{opaque::Block, AccountId, Balance, BlockNumber};
use jsonrpsee::{
	core::RpcResult,
	proc_macros::rpc,
	types::{error::ErrorObjectOwned, ErrorCode},
};
use pallet_community_fund::CommunityFundApi;
use pallet_compute_jobs::{runtime_api::ComputeApi, JobStatus};
use pallet_compute_registry::NodeStatus;
use serde_json::{json, Value};
use sp_api::ProvideRuntimeApi;
use sp_blockchain::HeaderBackend;
use sp_core::{crypto::Ss58Codec, H256};
use sp_runtime::{Perbill, Percent};
use std::sync::Arc;

#[rpc(server, namespace = "compute")]
pub trait ComputeRpc {
	/// Price range, eligible nodes and carbon estimate of a job with these requirements.
	#[method(name = "quote")]
	fn quote(&self, requirements: Value) -> RpcResult<Value>;

	/// Registered nodes by id, from node id `from` (default 0), up to 20 per call: filter
	/// `{ "minGpus": 8, "onlyLive": true }` (both optional). Returns `{ "nodes": [...],
	/// "next": <id> }`: pass `next` as `from` to continue; it is `null` once every node id was
	/// read. A call reads at most 1,000 ids, so a page may hold fewer than 20 nodes (even none)
	/// before the end.
	#[method(name = "nodes")]
	fn nodes(&self, filter: Option<Value>, from: Option<u32>) -> RpcResult<Value>;

	/// A job's status and, once settled, its receipt. Finished jobs are pruned `JobRetention`
	/// blocks (7 days) after they end: then this reports no job, and the receipt is in the
	/// job's `JobSettled` event (and in archive nodes' state).
	#[method(name = "job")]
	fn job(&self, job_id: u64) -> RpcResult<Value>;

	/// Market-wide figures: nodes, GPUs, jobs, volume, carbon (running totals: O(1) reads).
	#[method(name = "marketStats")]
	fn market_stats(&self) -> RpcResult<Value>;

	/// The community fund: balance, commitments, active subsidies.
	#[method(name = "fund")]
	fn fund(&self) -> RpcResult<Value>;

	/// An account's contribution points in the reward period (AICC of verified work), whether
	/// they reached the threshold, the AICG it may claim, and the period's pool.
	#[method(name = "contribution")]
	fn contribution(&self, who: String) -> RpcResult<Value>;

	/// This node's compute engine's selection for a job: the chosen node and every candidate's
	/// probability under the learned policy (not chain state: each validator has its own).
	#[method(name = "selection", blocking)]
	fn selection(&self, job_id: u64) -> RpcResult<Value>;

	/// The datasets this node's compute engine holds and can train on: `[{ name, hash }]`
	/// (the shipped ones and users' uploads), so that a client can name one in a job.
	#[method(name = "datasets", blocking)]
	fn datasets(&self) -> RpcResult<Value>;
}

pub struct Compute<C> {
	client: Arc<C>,
	engine_url: Option<String>,
}

impl<C> Compute<C> {
	pub fn new(client: Arc<C>, engine_url: Option<String>) -> Self {
		Self { client, engine_url }
	}

	/// A GET of this node's compute engine: its JSON, `None` for a 404, error 2 when the node
	/// runs no engine or the engine does not answer.
	fn engine_get(&self, path: &str) -> RpcResult<Option<Value>> {
		let url = self.engine_url.as_ref().ok_or_else(|| {
			ErrorObjectOwned::owned(2, "this node runs no compute engine", None::<()>)
		})?;
		match aicchain_worker::http::request(&format!("{url}{path}"), None) {
			Ok(Some(body)) => serde_json::from_slice(&body).map(Some).map_err(runtime_error),
			Ok(None) => Ok(None),
			Err(e) => Err(ErrorObjectOwned::owned(2, format!("compute engine: {e}"), None::<()>)),
		}
	}
}

pub(crate) fn invalid_params(message: impl Into<String>) -> ErrorObjectOwned {
	ErrorObjectOwned::owned(ErrorCode::InvalidParams.code(), message.into(), None::<()>)
}

pub(crate) fn runtime_error(e: impl std::fmt::Display) -> ErrorObjectOwned {
	ErrorObjectOwned::owned(1, format!("runtime API call failed: {e}"), None::<()>)
}

pub(crate) fn balance(b: Balance) -> Value {
	Value::String(b.to_string())
}

pub(crate) fn account(a: &AccountId) -> Value {
	Value::String(a.to_ss58check())
}

pub(crate) fn perbill(p: Perbill) -> Value {
	json!(f64::from(p.deconstruct()) / 1e7)
}

fn percent(p: Percent) -> Value {
	json!(p.deconstruct())
}

pub(crate) fn hash(h: &H256) -> Value {
	Value::String(format!("0x{}", hex::encode(h.0)))
}

fn u32_field(
	obj: &serde_json::Map<String, Value>,
	name: &str,
	default: Option<u32>,
) -> Result<u32, ErrorObjectOwned> {
	match obj.get(name) {
		None | Some(Value::Null) => {
			default.ok_or_else(|| invalid_params(format!("missing field `{name}`")))
		},
		Some(v) => v.as_u64().and_then(|n| u32::try_from(n).ok()).ok_or_else(|| {
			invalid_params(format!("`{name}` must be a non-negative integer below 2^32"))
		}),
	}
}

/// Parses requirements from JSON (`gpus`, `minBandwidthMbps`, `maxLatencyMs`, `gpuHours`
/// (default 1), `sustainability` (`"Any"`, `"PreferRenewable"` or `{ "RenewableOnly": 80 }`),
/// `training` (optional)).
pub fn parse_requirements(value: &Value) -> Result<JobRequirements, ErrorObjectOwned> {
	let obj = value.as_object().ok_or_else(|| invalid_params("requirements must be an object"))?;
	let sustainability = match obj.get("sustainability") {
		None | Some(Value::Null) => SustainabilityPreference::Any,
		Some(Value::String(s)) if s == "Any" => SustainabilityPreference::Any,
		Some(Value::String(s)) if s == "PreferRenewable" => SustainabilityPreference::PreferRenewable,
		Some(Value::Object(o)) if o.contains_key("RenewableOnly") => {
			let pct = o
				.get("RenewableOnly")
				.and_then(Value::as_u64)
				.filter(|p| *p <= 100)
				.ok_or_else(|| invalid_params("`RenewableOnly` must be a percentage 0-100"))?;
			SustainabilityPreference::RenewableOnly(Percent::from_percent(pct as u8))
		},
		Some(_) => {
			return Err(invalid_params(
				"`sustainability` must be \"Any\", \"PreferRenewable\" or { \"RenewableOnly\": <percent> }",
			))
		},
	};
	let training = match obj.get("training") {
		None | Some(Value::Null) => None,
		Some(t) => Some(parse_training(t)?),
	};
	Ok(JobRequirements {
		gpus: u32_field(obj, "gpus", None)?,
		min_bandwidth_mbps: u32_field(obj, "minBandwidthMbps", None)?,
		max_latency_ms: u32_field(obj, "maxLatencyMs", None)?,
		gpu_hours: u32_field(obj, "gpuHours", Some(1))?,
		sustainability,
		training,
	})
}

fn parse_training(value: &Value) -> Result<TrainingSpec, ErrorObjectOwned> {
	let obj = value.as_object().ok_or_else(|| invalid_params("`training` must be an object"))?;
	let dataset = obj
		.get("dataset")
		.and_then(Value::as_str)
		.and_then(|s| hex::decode(s.trim_start_matches("0x")).ok())
		.filter(|b| b.len() == 32)
		.map(|b| H256::from_slice(&b))
		.ok_or_else(|| invalid_params("`training.dataset` must be a 0x-prefixed 32-byte hash"))?;
	let model = match obj.get("model").and_then(Value::as_str) {
		Some("MlpClassifier") | None => ModelKind::MlpClassifier,
		Some("MlpRegressor") => ModelKind::MlpRegressor,
		Some("TransformerLm") => ModelKind::TransformerLm,
		Some("CnnClassifier") => ModelKind::CnnClassifier,
		Some(other) => {
			return Err(invalid_params(format!(
				"unknown model `{other}` (MlpClassifier, MlpRegressor, TransformerLm, CnnClassifier)"
			)))
		},
	};
	Ok(TrainingSpec {
		dataset,
		model,
		hidden_units: u32_field(obj, "hiddenUnits", Some(32))?,
		hidden_layers: u8::try_from(u32_field(obj, "hiddenLayers", Some(2))?)
			.map_err(|_| invalid_params("`hiddenLayers` must be below 256"))?,
		learning_rate_millionths: u32_field(obj, "learningRateMillionths", Some(5_000))?,
		epochs: u32_field(obj, "epochs", Some(10))?,
		seed: obj.get("seed").and_then(Value::as_u64).unwrap_or(0),
		min_score: Default::default(),
		parent: match obj.get("parent") {
			None | Some(Value::Null) => None,
			Some(v) => Some(v.as_u64().ok_or_else(|| {
				invalid_params("`parent` must be a model version id (a non-negative integer)")
			})?),
		},
	})
}

pub fn spec_json(spec: &NodeSpec<Balance>) -> Value {
	json!({
		"gpuCount": spec.gpu_count,
		"gpuMemoryGib": spec.gpu_memory_gib,
		"bandwidthMbps": spec.bandwidth_mbps,
		"latencyMs": spec.latency_ms,
		"region": String::from_utf8_lossy(&spec.region),
		"renewableShare": percent(spec.renewable_share),
		"carbonIntensity": spec.carbon_intensity,
		"pricePerGpuHour": balance(spec.price_per_gpu_hour),
	})
}

/// `"Active"` (in the matching index), `"Dormant"` (missed its heartbeats or under-bonded) or
/// `"Unbonding"` (deregistered).
fn node_status(status: &NodeStatus<BlockNumber>) -> &'static str {
	match status {
		NodeStatus::Active => "Active",
		NodeStatus::Dormant => "Dormant",
		NodeStatus::Unbonding { .. } => "Unbonding",
	}
}

/// A training spec as JSON (`model` by its variant name; `parent` null unless relay training).
pub(crate) fn training_json(t: &TrainingSpec) -> Value {
	json!({
		"dataset": hash(&t.dataset),
		"model": format!("{:?}", t.model),
		"hiddenUnits": t.hidden_units,
		"hiddenLayers": t.hidden_layers,
		"learningRateMillionths": t.learning_rate_millionths,
		"epochs": t.epochs,
		"seed": t.seed,
		"parent": t.parent,
	})
}

pub(crate) fn metrics_json(m: &QuantisedMetrics) -> Value {
	json!({ "score": perbill(m.score), "lossMillionths": m.loss_millionths, "evalSamples": m.eval_samples })
}

fn status_json(status: &JobStatus<Balance>) -> Value {
	match status {
		JobStatus::Pending => json!({ "stage": "Pending" }),
		JobStatus::Assigned { node, cost } => {
			json!({ "stage": "Assigned", "node": node, "cost": balance(*cost) })
		},
		JobStatus::ResultSubmitted { node, cost, model_hash, metrics } => json!({
			"stage": "ResultSubmitted", "node": node, "cost": balance(*cost),
			"modelHash": hash(model_hash), "metrics": metrics_json(metrics),
		}),
		JobStatus::Settled { node } => json!({ "stage": "Settled", "node": node }),
		JobStatus::Rejected { node } => json!({ "stage": "Rejected", "node": node }),
		JobStatus::TimedOut { node } => json!({ "stage": "TimedOut", "node": node }),
		JobStatus::Unverified { node } => json!({ "stage": "Unverified", "node": node }),
		JobStatus::Expired => json!({ "stage": "Expired" }),
		JobStatus::Cancelled => json!({ "stage": "Cancelled" }),
		JobStatus::Queued => json!({ "stage": "Queued" }),
	}
}

impl<C> ComputeRpcServer for Compute<C>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: ComputeApi<Block, AccountId, Balance, BlockNumber>
		+ CommunityFundApi<Block, AccountId, Balance, BlockNumber>,
{
	fn quote(&self, requirements: Value) -> RpcResult<Value> {
		let requirements = parse_requirements(&requirements)?;
		let best = self.client.info().best_hash;
		let quote =
			self.client.runtime_api().quote(best, requirements).map_err(runtime_error)?.map_err(
				|name| {
					invalid_params(format!(
						"the chain refuses these requirements: {}",
						String::from_utf8_lossy(&name)
					))
				},
			)?;
		Ok(json!({
			"eligibleNodes": quote.eligible_nodes,
			"renewableNodes": quote.renewable_nodes,
			"minCost": balance(quote.min_cost),
			"maxCost": balance(quote.max_cost),
			"energyWh": quote.energy_wh,
			"minCarbonGrams": quote.min_carbon_grams,
			"maxCarbonGrams": quote.max_carbon_grams,
			"referenceCarbonGrams": quote.reference_carbon_grams,
		}))
	}

	fn nodes(&self, filter: Option<Value>, from: Option<u32>) -> RpcResult<Value> {
		let filter = filter.unwrap_or(Value::Null);
		let (min_gpus, only_live) = match &filter {
			Value::Null => (0, false),
			Value::Object(o) => (
				u32_field(o, "minGpus", Some(0))?,
				match o.get("onlyLive") {
					None | Some(Value::Null) => false,
					Some(Value::Bool(b)) => *b,
					Some(_) => return Err(invalid_params("`onlyLive` must be a boolean")),
				},
			),
			_ => return Err(invalid_params("filter must be an object or null")),
		};
		let best = self.client.info().best_hash;
		let page = self
			.client
			.runtime_api()
			.nodes(best, min_gpus, only_live, from.unwrap_or(0), 20)
			.map_err(runtime_error)?;
		let nodes: Vec<Value> = page
			.nodes
			.into_iter()
			.map(|(id, n)| {
				json!({
					"id": id,
					"owner": account(&n.owner),
					"worker": account(&n.worker),
					"spec": spec_json(&n.spec),
					"bond": balance(n.bond),
					"active": matches!(n.status, NodeStatus::Active),
					"status": node_status(&n.status),
					"lastHeartbeat": n.last_heartbeat,
					"reputation": perbill(n.reputation),
					"activeJobs": n.active_jobs,
					"completedJobs": n.completed_jobs,
					"failedJobs": n.failed_jobs,
				})
			})
			.collect();
		Ok(json!({ "nodes": nodes, "next": page.next }))
	}

	fn job(&self, job_id: u64) -> RpcResult<Value> {
		let best = self.client.info().best_hash;
		let Some((job, receipt)) =
			self.client.runtime_api().job(best, job_id).map_err(runtime_error)?
		else {
			return Err(invalid_params(format!(
				"no job with id {job_id} (unknown, or finished over 7 days ago and pruned: see its \
				 JobSettled event)"
			)));
		};
		let receipt = receipt.map(|r| {
			json!({
				"node": r.node,
				"provider": account(&r.provider),
				"cost": balance(r.cost),
				"providerAmount": balance(r.provider_amount),
				"fundAmount": balance(r.fund_amount),
				"renewableBonus": balance(r.renewable_bonus),
				"subsidy": balance(r.subsidy),
				"subsidyId": r.subsidy_id,
				"userPaid": balance(r.user_paid),
				"saving": balance(r.saving),
				"energyWh": r.energy_wh,
				"carbonGrams": r.carbon_grams,
				"carbonReductionGrams": r.carbon_reduction_grams,
				"modelHash": hash(&r.model_hash),
				"metrics": metrics_json(&r.metrics),
			})
		});
		// A waiting job's place and the wait the past suggests.
		let queue = if job.status == JobStatus::Queued {
			let q = self.client.runtime_api().queue(best, job_id).map_err(runtime_error)?;
			json!({
				"position": q.position,
				"length": q.length,
				"waitUntil": job.deadline,
				"meanWaitBlocks": q.mean_wait_blocks,
			})
		} else {
			Value::Null
		};
		let req = &job.requirements;
		Ok(json!({
			"queue": queue,
			"id": job_id,
			"owner": account(&job.owner),
			"budget": balance(job.budget),
			"status": status_json(&job.status),
			"submittedAt": job.submitted_at,
			"deadline": job.deadline,
			"waitUntil": job.wait_until,
			"requirements": {
				"gpus": req.gpus,
				"minBandwidthMbps": req.min_bandwidth_mbps,
				"maxLatencyMs": req.max_latency_ms,
				"gpuHours": req.gpu_hours,
				"sustainability": format!("{:?}", req.sustainability),
				"training": req.training.as_ref().map(training_json),
			},
			"receipt": receipt,
		}))
	}

	fn market_stats(&self) -> RpcResult<Value> {
		let best = self.client.info().best_hash;
		let s = self.client.runtime_api().market_stats(best).map_err(runtime_error)?;
		Ok(json!({
			"nodes": s.nodes,
			"activeNodes": s.active_nodes,
			"renewableNodes": s.renewable_nodes,
			"totalGpus": s.total_gpus,
			"jobsSubmitted": s.jobs_submitted,
			"openJobs": s.open_jobs,
			"settledJobs": s.settled_jobs,
			"failedJobs": s.failed_jobs,
			"unverifiedJobs": s.unverified_jobs,
			"expiredJobs": s.expired_jobs,
			"cancelledJobs": s.cancelled_jobs,
			"volume": balance(s.volume),
			"providerEarnings": balance(s.provider_earnings),
			"fundIncome": balance(s.fund_income),
			"subsidiesPaid": balance(s.subsidies_paid),
			"renewableBonuses": balance(s.renewable_bonuses),
			"carbonGrams": s.carbon_grams,
			"carbonReductionGrams": s.carbon_reduction_grams,
		}))
	}

	fn selection(&self, job_id: u64) -> RpcResult<Value> {
		self.engine_get(&format!("/selections/{job_id}"))?.ok_or_else(|| {
			invalid_params(format!("this node's engine made no selection for job {job_id}"))
		})
	}

	fn datasets(&self) -> RpcResult<Value> {
		Ok(self.engine_get("/datasets")?.unwrap_or_else(|| json!([])))
	}

	fn fund(&self) -> RpcResult<Value> {
		let best = self.client.info().best_hash;
		let f = self.client.runtime_api().fund_status(best).map_err(runtime_error)?;
		Ok(json!({
			"account": account(&f.account),
			"balance": balance(f.balance),
			"committed": balance(f.committed),
			"uncommitted": balance(f.uncommitted),
			"activeSubsidies": f.active_subsidies.iter().map(|s| json!({
				"id": s.id,
				"share": perbill(s.share),
				"scope": format!("{:?}", s.scope),
				"perJobCap": balance(s.per_job_cap),
				"remaining": balance(s.remaining),
				"paid": balance(s.paid),
				"endsAt": s.ends_at,
			})).collect::<Vec<_>>(),
		}))
	}

	fn contribution(&self, who: String) -> RpcResult<Value> {
		let who = AccountId::from_ss58check(&who)
			.map_err(|e| invalid_params(format!("not an SS58 account: {e:?}")))?;
		let best = self.client.info().best_hash;
		let c = self.client.runtime_api().contribution(best, who).map_err(runtime_error)?;
		Ok(json!({
			"period": c.current_period,
			"periodEndsAt": c.period_ends_at,
			"threshold": balance(c.threshold),
			"points": balance(c.points),
			"pointsPeriod": c.points_period,
			"qualified": c.qualified,
			"claimable": balance(c.claimable),
			"periodPool": balance(c.period_pool),
			"periodQualifiedPoints": balance(c.period_qualified_points),
		}))
	}
}
