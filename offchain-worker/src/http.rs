//! The engine's HTTP API on hyper. Status, public datasets and checkpoint leaf hashes are
//! public; weights (`GET /models/0x<hash>`, `GET /checkpoints/0x<root>/<i>`) go to whom the
//! model registry allows, on a signed request ([`crate::access`]): verifiers sign with their
//! validator's worker key. `PUT /datasets/0x<hash>` takes a dataset's
//! file from anyone, but only for a hash the chain registered, only up to the size it records,
//! and keeps it only if it matches the record. The write endpoint `POST /ocw` answers only the
//! engine's own node ([`ocw_allowed`]): the bearer token the node gave it, or, without one,
//! loopback peers; its body is read only once that holds.
//!
//! What a peer can hold is bounded ([`ServerLimits`]): 10 s for a request's head, 30 s and
//! 16 MiB for a body, 5 min for a whole connection, 256 connections at once (more wait to be
//! accepted). The client is in [`client`].

mod client;
#[cfg(test)]
mod dataset_tests;
#[cfg(test)]
mod tests;

pub use client::{
	is_public, json_rpc, ocw_request, put, request, request_limited, request_reaching, Reach,
	MAX_DOWNLOAD,
};

use crate::engine::{Engine, UploadRefused};
use aicchain_primitives::engine_api::{EngineRequest, EngineResponse};
use codec::{Decode, Encode};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::{
	body::{Bytes, Incoming},
	header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE},
	server::conn::http1,
	service::service_fn,
	Method, StatusCode,
};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::{convert::Infallible, net::IpAddr, net::SocketAddr, sync::Arc, time::Duration};

/// What a peer may hold of a server ([`ServerLimits::default`] is what engines use).
#[derive(Clone, Copy, Debug)]
pub struct ServerLimits {
	/// Longest a peer may take to send a request's head.
	pub header_read_timeout: Duration,
	/// Longest a peer may take to send a request's body (only `POST /ocw` reads one).
	pub request_read_timeout: Duration,
	/// Largest request body accepted.
	pub max_body: usize,
	/// Longest a connection is served, reading the request and writing the answer: enough
	/// for the largest model over a slow link, not forever.
	pub connection_deadline: Duration,
	/// Connections served at once; more wait to be accepted.
	pub max_connections: usize,
}

impl Default for ServerLimits {
	fn default() -> Self {
		Self {
			header_read_timeout: Duration::from_secs(10),
			request_read_timeout: Duration::from_secs(30),
			max_body: 16 << 20,
			connection_deadline: Duration::from_secs(300),
			max_connections: 256,
		}
	}
}

/// Largest request head (the read buffer; hyper's minimum is 8 KiB).
const MAX_HEAD: usize = 64 << 10;

struct Request {
	method: String,
	path: String,
	/// The path with its query: what a signed fetch signs.
	path_and_query: String,
	/// The query string, if any.
	query: Option<String>,
	/// The signed fetch header ([`crate::access::FETCH_HEADER`]), if any.
	fetch: Option<String>,
	body: Vec<u8>,
}

struct Response {
	status: u16,
	content_type: &'static str,
	body: Vec<u8>,
}

impl Response {
	fn json(value: serde_json::Value) -> Self {
		Self { status: 200, content_type: "application/json", body: value.to_string().into_bytes() }
	}
	fn error(status: u16, message: &str) -> Self {
		Self {
			status,
			content_type: "application/json",
			body: serde_json::json!({ "error": message }).to_string().into_bytes(),
		}
	}
	fn into_hyper(self) -> hyper::Response<Full<Bytes>> {
		let mut response = hyper::Response::new(Full::new(Bytes::from(self.body)));
		*response.status_mut() =
			StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
		response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(self.content_type));
		response
	}
}

/// Serves the engine's API on `listener` until the task is dropped.
pub async fn serve(engine: Arc<Engine>, listener: tokio::net::TcpListener) {
	serve_with(engine, listener, ServerLimits::default()).await
}

/// [`serve`] with other limits.
pub async fn serve_with(
	engine: Arc<Engine>,
	listener: tokio::net::TcpListener,
	limits: ServerLimits,
) {
	let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
	loop {
		let Ok(permit) = slots.clone().acquire_owned().await else { return };
		let (stream, peer) = match listener.accept().await {
			Ok(accepted) => accepted,
			Err(e) => {
				// Out of file descriptors and the like: do not spin.
				log::debug!(target: "aicchain-worker", "accept: {e}");
				tokio::time::sleep(Duration::from_millis(50)).await;
				continue;
			},
		};
		let engine = engine.clone();
		tokio::spawn(async move {
			let _permit = permit;
			let peer = peer.ip();
			let service = service_fn(move |request| handle(engine.clone(), peer, request, limits));
			let connection = http1::Builder::new()
				.timer(TokioTimer::new())
				.header_read_timeout(limits.header_read_timeout)
				.max_buf_size(MAX_HEAD)
				.keep_alive(false)
				.serve_connection(TokioIo::new(stream), service);
			match tokio::time::timeout(limits.connection_deadline, connection).await {
				Ok(Ok(())) => {},
				Ok(Err(e)) => log::debug!(target: "aicchain-worker", "connection from {peer}: {e}"),
				Err(_) => log::debug!(target: "aicchain-worker", "connection from {peer} cut off"),
			}
		});
	}
}

/// Binds `addr` and serves on it in the background of the current tokio runtime; returns the
/// bound address (useful with port 0).
pub async fn spawn_server(
	engine: Arc<Engine>,
	addr: SocketAddr,
) -> Result<SocketAddr, crate::EngineError> {
	spawn_server_with(engine, addr, ServerLimits::default()).await
}

/// [`spawn_server`] with other limits.
pub async fn spawn_server_with(
	engine: Arc<Engine>,
	addr: SocketAddr,
	limits: ServerLimits,
) -> Result<SocketAddr, crate::EngineError> {
	let listener = tokio::net::TcpListener::bind(addr).await?;
	let bound = listener.local_addr()?;
	tokio::spawn(serve_with(engine, listener, limits));
	Ok(bound)
}

async fn handle(
	engine: Arc<Engine>,
	peer: IpAddr,
	request: hyper::Request<Incoming>,
	limits: ServerLimits,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
	let (parts, body) = request.into_parts();
	let method = parts.method.as_str().to_owned();
	let path = parts.uri.path().to_owned();
	let path_and_query = parts.uri.path_and_query().map_or_else(|| path.clone(), |p| p.to_string());
	let query = parts.uri.query().map(str::to_owned);
	let fetch = parts
		.headers
		.get(crate::access::FETCH_HEADER)
		.and_then(|value| value.to_str().ok())
		.map(str::to_owned);
	let body = if parts.method == Method::POST && path == "/ocw" {
		let presented = parts
			.headers
			.get(AUTHORIZATION)
			.and_then(|value| value.to_str().ok())
			.and_then(bearer_token);
		if let Err(status) = ocw_allowed(peer, engine.ocw_token(), presented) {
			let refusal = Response::error(status, "the write endpoint answers only its own node");
			return Ok(refusal.into_hyper());
		}
		match read_body(body, limits.max_body, &limits).await {
			Ok(body) => body,
			Err(refusal) => return Ok(refusal.into_hyper()),
		}
	} else if parts.method == Method::PUT && path.starts_with("/datasets/") {
		// An upload is read only if the chain registered its hash, and no further than the
		// size the chain records.
		let Some(hash) = parse_hash(path.trim_start_matches("/datasets/")) else {
			return Ok(Response::error(400, "expected /datasets/0x<64 hex>").into_hyper());
		};
		// Few uploads at once: each holds up to 16 MiB, and parsing text takes more.
		let Ok(permit) = UPLOADS.acquire().await else {
			return Ok(Response::error(503, "uploads are closed").into_hyper());
		};
		let lookup = engine.clone();
		let info = tokio::task::spawn_blocking(move || lookup.chain_dataset(&hash))
			.await
			.unwrap_or_else(|_| Err(UploadRefused(500, "handler failed".into())));
		let info = match info {
			Ok(info) => info,
			Err(UploadRefused(status, why)) => {
				return Ok(Response::error(status, &why).into_hyper())
			},
		};
		let max = usize::try_from(info.bytes).unwrap_or(usize::MAX);
		let body = match read_body(body, max, &limits).await {
			Ok(body) => body,
			Err(refusal) => return Ok(refusal.into_hyper()),
		};
		let upload = engine.clone();
		let response =
			tokio::task::spawn_blocking(move || upload_response(&upload, &hash, &info, &body))
				.await
				.unwrap_or_else(|_| Response::error(500, "handler failed"));
		drop(permit);
		return Ok(response.into_hyper());
	} else if parts.method == Method::POST && path == "/infer" {
		// A query is a feature vector and a voucher: a few KiB.
		match read_body(body, MAX_QUERY_BODY, &limits).await {
			Ok(body) => body,
			Err(refusal) => return Ok(refusal.into_hyper()),
		}
	} else {
		Vec::new()
	};
	// Selection and status are quick, but policy updates, training and model reads touch the
	// disk or the CPU for a while: off the async threads.
	let response = tokio::task::spawn_blocking(move || {
		route(&engine, Request { method, path, path_and_query, query, fetch, body })
	})
	.await
	.unwrap_or_else(|_| Response::error(500, "handler failed"));
	Ok(response.into_hyper())
}

/// The largest `POST /infer` body.
const MAX_QUERY_BODY: usize = 64 * 1024;

/// Uploads read and checked at once.
static UPLOADS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// The answer to an upload of `body` as the dataset the chain registered under `hash` as
/// `info`.
fn upload_response(
	engine: &Engine,
	hash: &[u8; 32],
	info: &aicchain_primitives::DatasetInfo,
	body: &[u8],
) -> Response {
	match engine.accept_upload(hash, info, body) {
		Ok(stored) => Response::json(serde_json::json!({
			"hash": format!("0x{}", hex::encode(hash)),
			"public": stored == crate::dataset::Stored::Public,
		})),
		Err(UploadRefused(status, why)) => Response::error(status, &why),
	}
}

/// The whole body, within `max` bytes and the limits' time.
async fn read_body(body: Incoming, max: usize, limits: &ServerLimits) -> Result<Vec<u8>, Response> {
	let collect = Limited::new(body, max).collect();
	match tokio::time::timeout(limits.request_read_timeout, collect).await {
		Ok(Ok(collected)) => Ok(Vec::from(collected.to_bytes())),
		Ok(Err(e)) if e.is::<LengthLimitError>() => Err(Response::error(413, "body too large")),
		Ok(Err(e)) => Err(Response::error(400, &e.to_string())),
		Err(_) => Err(Response::error(408, "request timed out")),
	}
}

/// The token of an `Authorization: Bearer <token>` header (the scheme is case-insensitive).
fn bearer_token(value: &str) -> Option<&str> {
	let (scheme, token) = value.trim().split_once(' ')?;
	scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Whether `POST /ocw` from `peer`, presenting the bearer token `presented`, may go through:
/// with a `configured` token (an empty one counts as none) only the right token passes
/// (`Err(401)` otherwise, whatever the peer); without one only loopback peers (127.0.0.0/8,
/// `::1`, also IPv4-mapped) pass (`Err(403)` otherwise). Tokens are compared in constant time.
pub fn ocw_allowed(
	peer: IpAddr,
	configured: Option<&str>,
	presented: Option<&str>,
) -> Result<(), u16> {
	match configured.filter(|token| !token.is_empty()) {
		Some(token) => match presented {
			Some(presented) if tokens_match(token, presented) => Ok(()),
			_ => Err(401),
		},
		None if peer.to_canonical().is_loopback() => Ok(()),
		None => Err(403),
	}
}

/// Compares the tokens' hashes without an early exit: the time taken says nothing about how
/// much of the token a guess got right (nor about its length).
fn tokens_match(expected: &str, presented: &str) -> bool {
	let (a, b) = (
		crate::dataset::blake2_256(expected.as_bytes()),
		crate::dataset::blake2_256(presented.as_bytes()),
	);
	std::hint::black_box(a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y))) == 0
}

fn route(engine: &Engine, request: Request) -> Response {
	match (request.method.as_str(), request.path.as_str()) {
		// `handle` let this through only for the engine's own node.
		("POST", "/ocw") => {
			let response = match EngineRequest::decode(&mut &request.body[..]) {
				Ok(req) => engine.handle(req),
				Err(e) => EngineResponse::Error(format!("undecodable request: {e}").into_bytes()),
			};
			Response {
				status: 200,
				content_type: "application/octet-stream",
				body: response.encode(),
			}
		},
		("POST", "/infer") => match engine.infer(&request.body) {
			Ok(answer) => Response::json(answer),
			Err((status, why)) => Response::error(status, &why),
		},
		("GET", path) if path.starts_with("/vouchers/") => {
			match engine.vouchers_json(path.trim_start_matches("/vouchers/")) {
				Ok(vouchers) => Response::json(vouchers),
				Err((status, why)) => Response::error(status, &why),
			}
		},
		("GET", "/health") => Response::json(serde_json::json!({ "ok": true })),
		("GET", "/status") => Response::json(engine.status_json()),
		("GET", "/datasets") => match engine.datasets.list() {
			Ok(list) => Response::json(serde_json::json!(list
				.into_iter()
				.map(
					|(name, hash)| serde_json::json!({ "name": name, "hash": format!("0x{}", hex::encode(hash)) })
				)
				.collect::<Vec<_>>())),
			Err(e) => Response::error(500, &e.to_string()),
		},
		("GET", path) if path.starts_with("/datasets/") => {
			match parse_hash(path.trim_start_matches("/datasets/")) {
				Some(hash) => match engine.public_dataset(&hash) {
					Some(body) => {
						Response { status: 200, content_type: "application/octet-stream", body }
					},
					None => Response::error(404, "no public dataset with this hash here"),
				},
				None => Response::error(400, "expected /datasets/0x<64 hex>"),
			}
		},
		("GET", path) if path.starts_with("/selections/") => {
			let job = path.trim_start_matches("/selections/").parse::<u64>().ok();
			match job.and_then(|j| engine.decision_json(j)) {
				Some(decision) => Response::json(decision),
				None => Response::error(404, "this engine made no selection for that job"),
			}
		},
		("GET", path) if path.starts_with("/checkpoints/") => checkpoint_route(engine, &request),
		("GET", path) if path.starts_with("/models/") => model_route(engine, &request),
		_ => Response::error(404, "no such route"),
	}
}

/// The root in `0x<64 hex>` (the `0x` optional).
fn parse_hash(text: &str) -> Option<[u8; 32]> {
	let hex_hash = text.strip_prefix("0x").unwrap_or(text);
	hex::decode(hex_hash).ok().and_then(|h| <[u8; 32]>::try_from(h).ok())
}

/// `GET /models/0x<hash>[?version=<id>]`: the model file, to whom [`crate::access`] allows.
fn model_route(engine: &Engine, request: &Request) -> Response {
	let Some(hash) = parse_hash(request.path.trim_start_matches("/models/")) else {
		return Response::error(400, "expected /models/0x<64 hex>[?version=<id>]");
	};
	let version = match crate::access::version_param(request.query.as_deref()) {
		Ok(version) => version,
		Err((status, why)) => return Response::error(status, &why),
	};
	let federation = match crate::access::federation_param(request.query.as_deref()) {
		Ok(federation) => federation,
		Err((status, why)) => return Response::error(status, &why),
	};
	let resource = match federation {
		Some(federation) => crate::access::Resource::FederatedUpdate { hash, federation },
		None => crate::access::Resource::Model { hash, version },
	};
	if let Err((status, why)) =
		engine.authorize_fetch(resource, &request.path_and_query, request.fetch.as_deref())
	{
		return Response::error(status, &why);
	}
	match engine.models.get(&hash) {
		Some(body) => Response { status: 200, content_type: "application/octet-stream", body },
		None => Response::error(404, "no such model"),
	}
}

/// `GET /checkpoints/0x<root>/<i>` (checkpoint `i`'s bytes: weights, so only to whom
/// [`crate::access`] allows) and `GET /checkpoints/0x<root>/leaves` (the leaf hashes,
/// n × 32 bytes, public).
fn checkpoint_route(engine: &Engine, request: &Request) -> Response {
	let rest = request.path.trim_start_matches("/checkpoints/");
	let Some((root, item)) = rest.split_once('/') else {
		return Response::error(400, "expected /checkpoints/0x<root>/<index|leaves>");
	};
	let Some(root) = parse_hash(root) else {
		return Response::error(400, "the root is not 32 bytes of hex");
	};
	let bytes = if item == "leaves" {
		engine.models.leaves(&root).map(|leaves| leaves.concat())
	} else {
		match item.parse::<u32>() {
			Ok(index) => {
				let (resource, path) =
					(crate::access::Resource::Checkpoint, &request.path_and_query);
				if let Err((status, why)) =
					engine.authorize_fetch(resource, path, request.fetch.as_deref())
				{
					return Response::error(status, &why);
				}
				engine.models.checkpoint(&root, index)
			},
			Err(_) => return Response::error(400, "expected a checkpoint index or `leaves`"),
		}
	};
	match bytes {
		Some(body) => Response { status: 200, content_type: "application/octet-stream", body },
		None => Response::error(404, "no such checkpoint"),
	}
}
