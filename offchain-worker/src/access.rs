//! Who may fetch weights from an engine. A model's file (`GET /models/0x<hash>`) and a training
//! run's checkpoints (`GET /checkpoints/0x<root>/<i>`, the last of which is the model) are
//! weights; an engine with a view of the chain serves them only as the model registry allows:
//!
//! - a registered version of a public model to anyone who names it
//!   (`GET /models/0x<hash>?version=<id>`);
//! - a private model's version to its owner and the accounts it allowed
//!   (`ModelRegistry::can_fetch`), on a request they signed;
//! - a federated job's updates (`GET /models/0x<hash>?federation=<id>`) of its current or
//!   previous round to the worker keys of its members, on a request they signed: each member
//!   rebuilds the round's model from them;
//! - anything, a result still under verification and checkpoints included, to the current
//!   validators' compute worker keys (`ValidatorSet::ActiveWorkers`): they verify training and
//!   relay-train from parents.
//!
//! A signed request carries `X-AICChain-Fetch: 0x<sr25519 public>.<expiry>.0x<signature>`, the
//! signature over [`aicchain_primitives::fetch_payload`] (domain, genesis hash, expiry in Unix
//! seconds, the path with its query), valid until its expiry and at most
//! [`MAX_FETCH_VALIDITY_SECS`] ahead of the engine's clock. An engine without a view of the
//! chain cannot tell a private model from a public one and serves what it holds.
//!
//! The provider whose engine holds a private model's weights has them on its disk: this keeps
//! them from everyone else, not from the provider.

use crate::inference::{blake2_128_concat, prefix, twox64_concat, AccountId, Balance};
use crate::inference::{BlockNumber, ChainState};
use aicchain_primitives::{
	fetch_payload, Federation, JobId, Model, ModelId, ModelVersion, VersionId,
	MAX_FETCH_VALIDITY_SECS,
};
use codec::Encode;
use sp_core::{crypto::Pair as _, sr25519, H256};
use std::sync::Arc;

/// The header that carries a fetch's signature.
pub const FETCH_HEADER: &str = "x-aicchain-fetch";

/// Signs bytes with an sr25519 key: its public key and the signature (the node signs with its
/// keystore's compute worker key, a standalone engine or the CLI with a key of its own).
#[derive(Clone)]
pub struct Signer(Arc<SignFn>);

/// Signs a message with one of its keys, preferring one of the given public keys (a node's
/// keystore may hold several worker keys, of which only the active validator's opens weights):
/// the public key and the signature, or `None` (no key at hand).
pub type SignFn = dyn Fn(&[u8], &[[u8; 32]]) -> Option<([u8; 32], [u8; 64])> + Send + Sync;

impl Signer {
	pub fn new(
		sign: impl Fn(&[u8], &[[u8; 32]]) -> Option<([u8; 32], [u8; 64])> + Send + Sync + 'static,
	) -> Self {
		Self(Arc::new(sign))
	}
	fn sign(&self, message: &[u8], preferred: &[[u8; 32]]) -> Option<([u8; 32], [u8; 64])> {
		(self.0)(message, preferred)
	}
}

impl std::fmt::Debug for Signer {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		f.write_str("Signer")
	}
}

/// A [`Signer`] holding `pair`.
pub fn signer_from_pair(pair: sr25519::Pair) -> Signer {
	Signer::new(move |message, _| Some((pair.public().0, pair.sign(message).0)))
}

/// Seconds since the Unix epoch by this machine's clock.
pub fn unix_now() -> u64 {
	std::time::SystemTime::now()
		.duration_since(std::time::UNIX_EPOCH)
		.map(|d| d.as_secs())
		.unwrap_or(0)
}

/// The header value that signs a `GET` of `path` (with its query) on the chain with genesis
/// `genesis`, valid for half the longest validity (room for the server's clock to be behind),
/// with one of `preferred`'s keys if the signer holds one.
pub fn sign_fetch(
	signer: &Signer,
	genesis: &H256,
	path: &str,
	preferred: &[[u8; 32]],
) -> Option<String> {
	let expires = unix_now().saturating_add(MAX_FETCH_VALIDITY_SECS / 2);
	let (public, signature) = signer.sign(&fetch_payload(genesis, expires, path), preferred)?;
	Some(format!("0x{}.{expires}.0x{}", hex::encode(public), hex::encode(signature)))
}

/// A parsed [`FETCH_HEADER`].
struct Grant {
	signer: sr25519::Public,
	expires: u64,
	signature: sr25519::Signature,
}

fn parse_grant(header: &str) -> Option<Grant> {
	let mut parts = header.trim().split('.');
	let (signer, expires, signature) = (parts.next()?, parts.next()?, parts.next()?);
	if parts.next().is_some() {
		return None;
	}
	let bytes = |text: &str| hex::decode(text.strip_prefix("0x").unwrap_or(text)).ok();
	Some(Grant {
		signer: sr25519::Public::from_raw(<[u8; 32]>::try_from(bytes(signer)?).ok()?),
		expires: expires.parse().ok()?,
		signature: sr25519::Signature::from_raw(<[u8; 64]>::try_from(bytes(signature)?).ok()?),
	})
}

/// What a request asks for.
#[derive(Clone, Copy, Debug)]
pub enum Resource {
	/// A model file by hash, naming the registered version it claims to be, if any.
	Model { hash: [u8; 32], version: Option<VersionId> },
	/// A checkpoint of a training run (weights at some step).
	Checkpoint,
	/// A member's update of a federated job (or any file, to the validators).
	FederatedUpdate { hash: [u8; 32], federation: JobId },
}

/// A model as engines decode it (the name's bound is the runtime's business).
pub type ModelRecord = Model<AccountId, BlockNumber, sp_core::ConstU32<{ u32::MAX }>>;
/// A model version as engines decode it.
pub type VersionRecord = ModelVersion<AccountId, Balance, BlockNumber>;

/// Storage keys of the model registry and the validator set.
pub mod keys {
	use super::*;

	pub fn model(id: ModelId) -> Vec<u8> {
		[prefix("ModelRegistry", "Models"), twox64_concat(&id.encode())].concat()
	}
	pub fn version(id: VersionId) -> Vec<u8> {
		[prefix("ModelRegistry", "Versions"), twox64_concat(&id.encode())].concat()
	}
	pub fn allowed(model: ModelId, who: &AccountId) -> Vec<u8> {
		[
			prefix("ModelRegistry", "Allowed"),
			twox64_concat(&model.encode()),
			blake2_128_concat(&who.encode()),
		]
		.concat()
	}
	pub fn active_workers() -> Vec<u8> {
		prefix("ValidatorSet", "ActiveWorkers")
	}
	pub fn federation(id: JobId) -> Vec<u8> {
		[prefix("ComputeJobs", "Federations"), twox64_concat(&id.encode())].concat()
	}
}

impl ChainState {
	pub fn model(&self, id: ModelId) -> Option<ModelRecord> {
		self.get(&keys::model(id))
	}
	pub fn version(&self, id: VersionId) -> Option<VersionRecord> {
		self.get(&keys::version(id))
	}
	/// Whether `model`'s owner allowed `who` to fetch its weights.
	pub fn allowed(&self, model: ModelId, who: &AccountId) -> bool {
		self.get::<()>(&keys::allowed(model, who)).is_some()
	}
	/// A federated job.
	pub fn federation(&self, id: JobId) -> Option<Federation<AccountId, Balance, BlockNumber>> {
		self.get(&keys::federation(id))
	}
	/// The compute worker keys of the current session's validators.
	pub fn active_worker_keys(&self) -> Vec<[u8; 32]> {
		self.get::<Vec<(AccountId, [u8; 32])>>(&keys::active_workers())
			.unwrap_or_default()
			.into_iter()
			.map(|(_, key)| key)
			.collect()
	}
}

/// A refusal: HTTP status and reason.
pub type Refusal = (u16, String);

/// Whether a `GET` of `path` (with its query) for `resource`, presenting `header`, may be
/// served, by the rules in this module's documentation, at Unix time `now`.
pub fn authorize(
	chain: &ChainState,
	resource: Resource,
	path: &str,
	header: Option<&str>,
	now: u64,
) -> Result<(), Refusal> {
	let version = match resource {
		Resource::Model { hash, version: Some(id) } => {
			let version = chain
				.version(id)
				.ok_or_else(|| (404, format!("version {id} is not registered")))?;
			if version.model_hash.0 != hash {
				return Err((400, format!("version {id} is not the model with this hash")));
			}
			let model = chain.model(version.model);
			if model.as_ref().is_some_and(|m| m.public) {
				return Ok(());
			}
			// A private model (`ModelRegistry::can_fetch`'s rule, read once).
			Some((version.model, model))
		},
		_ => None,
	};
	let Some(header) = header else {
		return Err((
			401,
			match version {
				Some(_) => "a private model: sign the request (X-AICChain-Fetch)".into(),
				None => "weights by hash only on a signed request: name the version \
					(?version=<id>) of a public model, or sign (X-AICChain-Fetch)"
					.into(),
			},
		));
	};
	let grant = parse_grant(header)
		.ok_or_else(|| (400, "X-AICChain-Fetch is 0x<public>.<expiry>.0x<signature>".into()))?;
	if grant.expires < now {
		return Err((401, "the signed request expired".into()));
	}
	if grant.expires > now.saturating_add(MAX_FETCH_VALIDITY_SECS) {
		return Err((
			401,
			format!("the signature's expiry is over {MAX_FETCH_VALIDITY_SECS} s ahead"),
		));
	}
	let genesis = chain.genesis().ok_or_else(|| (503, "the chain is unreachable".into()))?;
	let payload = fetch_payload(&genesis, grant.expires, path);
	if !sr25519::Pair::verify(&grant.signature, payload, &grant.signer) {
		return Err((401, "bad signature (for another path, expiry or chain?)".into()));
	}
	if chain.active_worker_keys().contains(&grant.signer.0) {
		return Ok(());
	}
	let who = AccountId::from(grant.signer.0);
	if let Resource::FederatedUpdate { hash, federation } = resource {
		return match chain.federation(federation) {
			Some(job) if is_update_of(&job, &who, hash) => Ok(()),
			Some(_) => {
				Err((403, format!("not an update of federated job {federation} to a member")))
			},
			None => Err((404, format!("no federated job {federation}"))),
		};
	}
	match version {
		Some((id, Some(model))) if model.owner == who || chain.allowed(id, &who) => Ok(()),
		Some((id, _)) => {
			Err((403, format!("model {id} is private and does not allow this account")))
		},
		None => Err((403, "only the current validators fetch weights by hash".into())),
	}
}

/// Whether `hash` is an update of `job`'s current or previous round and `who` the worker key
/// of one of its members: members rebuild each round's model from the kept updates.
fn is_update_of(
	job: &Federation<AccountId, Balance, BlockNumber>,
	who: &AccountId,
	hash: [u8; 32],
) -> bool {
	let member = job.members.iter().any(|m| m.worker == *who);
	let current = job.members.iter().any(|m| m.update.is_some_and(|u| u.0 == hash));
	let previous = job
		.previous
		.as_ref()
		.is_some_and(|(_, kept)| kept.iter().any(|(_, update)| update.0 == hash));
	member && (current || previous)
}

/// The `federation` of a query string (`federation=<id>`), if any.
pub fn federation_param(query: Option<&str>) -> Result<Option<JobId>, Refusal> {
	let Some(value) =
		query.into_iter().flat_map(|q| q.split('&')).find_map(|kv| kv.strip_prefix("federation="))
	else {
		return Ok(None);
	};
	value.parse().map(Some).map_err(|_| (400, "federation=<id>: a number".into()))
}

/// The `version` of a query string (`version=<id>`), if any.
pub fn version_param(query: Option<&str>) -> Result<Option<VersionId>, Refusal> {
	let Some(value) =
		query.into_iter().flat_map(|q| q.split('&')).find_map(|kv| kv.strip_prefix("version="))
	else {
		return Ok(None);
	};
	value.parse().map(Some).map_err(|_| (400, "version=<id>: a number".into()))
}

#[cfg(test)]
#[path = "access_tests.rs"]
mod tests;
