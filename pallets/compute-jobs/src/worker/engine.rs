//! The worker's transport to its compute engine: one SCALE-encoded request POSTed to the
//! engine's `/ocw` endpoint (URL and token from persistent offchain storage), one response.

use super::{ENGINE_TOKEN_KEY, ENGINE_URL_KEY};
use crate::{pallet::*, Config};
use aicchain_primitives::engine_api::{EngineRequest, EngineResponse};
use alloc::vec::Vec;
use codec::{Decode, Encode};
use sp_runtime::offchain::{http, storage::StorageValueRef, Duration};

/// How long one engine request may take.
const ENGINE_TIMEOUT_MS: u64 = 3_000;

/// Errors talking to the engine (logged; the next block tries again).
#[derive(Debug)]
#[allow(dead_code)] // fields are read through `Debug` in the logs
pub(super) enum EngineError {
	NoUrl,
	Http,
	Status(u16),
	Decode,
}

impl<T: Config> Pallet<T> {
	/// One request to the compute engine whose URL the node put in offchain storage.
	pub(super) fn call_engine(request: &EngineRequest) -> Result<EngineResponse, EngineError> {
		let url = StorageValueRef::persistent(ENGINE_URL_KEY)
			.get::<Vec<u8>>()
			.ok()
			.flatten()
			.ok_or(EngineError::NoUrl)?;
		let mut url = alloc::string::String::from_utf8(url).map_err(|_| EngineError::NoUrl)?;
		url.push_str("/ocw");
		// The engine's write endpoint answers only its own node: the token the node gave it.
		let token = StorageValueRef::persistent(ENGINE_TOKEN_KEY).get::<Vec<u8>>().ok().flatten();
		let authorization = token.map(|token| {
			let mut header = b"Bearer ".to_vec();
			header.extend_from_slice(&token);
			alloc::string::String::from_utf8(header).unwrap_or_default()
		});
		let deadline = sp_io::offchain::timestamp().add(Duration::from_millis(ENGINE_TIMEOUT_MS));
		let mut post = http::Request::post(&url, alloc::vec![request.encode()])
			.add_header("Content-Type", "application/octet-stream");
		if let Some(authorization) = &authorization {
			post = post.add_header("Authorization", authorization);
		}
		let pending = post.deadline(deadline).send().map_err(|_| EngineError::Http)?;
		let response = pending
			.try_wait(deadline)
			.map_err(|_| EngineError::Http)?
			.map_err(|_| EngineError::Http)?;
		if response.code != 200 {
			return Err(EngineError::Status(response.code));
		}
		let body: Vec<u8> = response.body().collect();
		EngineResponse::decode(&mut &body[..]).map_err(|_| EngineError::Decode)
	}
}
