//! A deliberately small HTTP/1.1 server and client for the engine's API. Reads (models,
//! checkpoints, datasets, status) are public: verifiers fetch from providers' engines. The write
//! endpoint `POST /ocw` answers only the engine's own node ([`ocw_allowed`]): the bearer token
//! the node gave it, or, without one, loopback peers.

use crate::{engine::Engine, EngineError};
use aicchain_primitives::engine_api::{EngineRequest, EngineResponse};
use codec::{Decode, Encode};
use std::{
	io::{Read, Write},
	net::{IpAddr, SocketAddr, TcpStream},
	sync::Arc,
	time::Duration,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Largest request body accepted.
const MAX_BODY: usize = 16 << 20;
/// Longest a peer may take to send its whole request.
const REQUEST_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest response body the client reads (a model or a checkpoint): a peer that sends more
/// is cut off and its answer refused.
pub const MAX_DOWNLOAD: usize = 64 << 20;
/// Largest response head the client reads.
const MAX_RESPONSE_HEAD: usize = 64 << 10;

struct Request {
	method: String,
	path: String,
	/// The `Authorization` header's value, if any.
	authorization: Option<String>,
	/// Who sent it.
	peer: IpAddr,
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
}

/// Serves the engine's API on `listener` until the task is dropped.
pub async fn serve(engine: Arc<Engine>, listener: tokio::net::TcpListener) {
	loop {
		let Ok((stream, peer)) = listener.accept().await else { continue };
		let engine = engine.clone();
		tokio::spawn(async move {
			if let Err(e) = handle(engine, stream, peer.ip()).await {
				log::debug!(target: "aicchain-worker", "connection error: {e}");
			}
		});
	}
}

/// Binds `addr` and serves on it in the background of the current tokio runtime; returns the
/// bound address (useful with port 0).
pub async fn spawn_server(
	engine: Arc<Engine>,
	addr: SocketAddr,
) -> Result<SocketAddr, EngineError> {
	let listener = tokio::net::TcpListener::bind(addr).await?;
	let bound = listener.local_addr()?;
	tokio::spawn(serve(engine, listener));
	Ok(bound)
}

async fn handle(
	engine: Arc<Engine>,
	mut stream: tokio::net::TcpStream,
	peer: IpAddr,
) -> std::io::Result<()> {
	// A peer that does not finish its request in time is cut off: it cannot hold the task.
	let read = tokio::time::timeout(REQUEST_READ_TIMEOUT, read_request(&mut stream, peer));
	let response = match read.await.unwrap_or_else(|_| Err("request timed out".into())) {
		Ok(request) => {
			let engine = engine.clone();
			// Selection and status are quick, but policy updates and model reads touch the disk.
			tokio::task::spawn_blocking(move || route(&engine, request))
				.await
				.unwrap_or_else(|_| Response::error(500, "handler failed"))
		},
		Err(message) => Response::error(400, &message),
	};
	let head = format!(
		"HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
		response.status,
		if response.status == 200 { "OK" } else { "Error" },
		response.content_type,
		response.body.len()
	);
	stream.write_all(head.as_bytes()).await?;
	stream.write_all(&response.body).await?;
	stream.shutdown().await
}

async fn read_request(stream: &mut tokio::net::TcpStream, peer: IpAddr) -> Result<Request, String> {
	let mut buffer = Vec::new();
	let mut chunk = [0u8; 8192];
	let header_end = loop {
		if let Some(pos) = find(&buffer, b"\r\n\r\n") {
			break pos;
		}
		if buffer.len() > 64 * 1024 {
			return Err("headers too large".into());
		}
		let n = stream.read(&mut chunk).await.map_err(|e| e.to_string())?;
		if n == 0 {
			return Err("connection closed".into());
		}
		buffer.extend_from_slice(&chunk[..n]);
	};
	let head = String::from_utf8_lossy(&buffer[..header_end]).to_string();
	let mut lines = head.lines();
	let mut first = lines.next().unwrap_or_default().split_whitespace();
	let method = first.next().unwrap_or_default().to_string();
	let path = first.next().unwrap_or_default().to_string();
	let mut length = None;
	let mut chunked = false;
	let mut authorization = None;
	for (name, value) in lines.filter_map(|l| l.split_once(':')) {
		if name.trim().eq_ignore_ascii_case("authorization") {
			authorization = Some(value.trim().to_string());
		} else if name.trim().eq_ignore_ascii_case("content-length") {
			length = value.trim().parse::<usize>().ok();
		} else if name.trim().eq_ignore_ascii_case("transfer-encoding") {
			chunked = value.trim().eq_ignore_ascii_case("chunked");
		}
	}
	let mut raw = buffer[header_end + 4..].to_vec();
	let body = if chunked {
		// The node's offchain HTTP client streams bodies with chunked transfer encoding.
		loop {
			if let Some(body) = decode_chunked(&raw)? {
				break body;
			}
			if raw.len() > MAX_BODY {
				return Err("body too large".into());
			}
			let n = stream.read(&mut chunk).await.map_err(|e| e.to_string())?;
			if n == 0 {
				return Err("body cut short".into());
			}
			raw.extend_from_slice(&chunk[..n]);
		}
	} else {
		let length = length.unwrap_or(0);
		if length > MAX_BODY {
			return Err("body too large".into());
		}
		while raw.len() < length {
			let n = stream.read(&mut chunk).await.map_err(|e| e.to_string())?;
			if n == 0 {
				return Err("body cut short".into());
			}
			raw.extend_from_slice(&chunk[..n]);
		}
		raw.truncate(length);
		raw
	};
	Ok(Request { method, path, authorization, peer, body })
}

/// The body of a complete chunked message, `None` while more bytes are needed.
fn decode_chunked(raw: &[u8]) -> Result<Option<Vec<u8>>, String> {
	let mut body = Vec::new();
	let mut at = 0;
	loop {
		let Some(line_end) = find(&raw[at..], b"\r\n") else { return Ok(None) };
		let size_line = String::from_utf8_lossy(&raw[at..at + line_end]).to_string();
		let size_hex = size_line.split(';').next().unwrap_or_default().trim();
		let size = usize::from_str_radix(size_hex, 16).map_err(|_| "bad chunk size".to_string())?;
		let data_start = at + line_end + 2;
		if size == 0 {
			return Ok(Some(body));
		}
		if body.len() + size > MAX_BODY {
			return Err("body too large".into());
		}
		if raw.len() < data_start + size + 2 {
			return Ok(None);
		}
		body.extend_from_slice(&raw[data_start..data_start + size]);
		at = data_start + size + 2;
	}
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
	haystack.windows(needle.len()).position(|w| w == needle)
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
		("POST", "/ocw") => {
			let presented = request.authorization.as_deref().and_then(bearer_token);
			if let Err(status) = ocw_allowed(request.peer, engine.ocw_token(), presented) {
				return Response::error(status, "the write endpoint answers only its own node");
			}
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
		("GET", path) if path.starts_with("/selections/") => {
			let job = path.trim_start_matches("/selections/").parse::<u64>().ok();
			match job.and_then(|j| engine.decision_json(j)) {
				Some(decision) => Response::json(decision),
				None => Response::error(404, "this engine made no selection for that job"),
			}
		},
		("GET", path) if path.starts_with("/checkpoints/") => checkpoint_route(engine, path),
		("GET", path) if path.starts_with("/models/") => {
			let hex_hash = path.trim_start_matches("/models/").trim_start_matches("0x");
			let hash = hex::decode(hex_hash).ok().and_then(|h| <[u8; 32]>::try_from(h).ok());
			match hash.and_then(|h| engine.models.get(&h)) {
				Some(bytes) => {
					Response { status: 200, content_type: "application/octet-stream", body: bytes }
				},
				None => Response::error(404, "no such model"),
			}
		},
		_ => Response::error(404, "no such route"),
	}
}

/// The root in `0x<64 hex>` (the `0x` optional).
fn parse_hash(text: &str) -> Option<[u8; 32]> {
	let hex_hash = text.strip_prefix("0x").unwrap_or(text);
	hex::decode(hex_hash).ok().and_then(|h| <[u8; 32]>::try_from(h).ok())
}

/// `GET /checkpoints/0x<root>/<i>` (checkpoint `i`'s bytes) and
/// `GET /checkpoints/0x<root>/leaves` (the leaf hashes, n × 32 bytes).
fn checkpoint_route(engine: &Engine, path: &str) -> Response {
	let rest = path.trim_start_matches("/checkpoints/");
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
			Ok(index) => engine.models.checkpoint(&root, index),
			Err(_) => return Response::error(400, "expected a checkpoint index or `leaves`"),
		}
	};
	match bytes {
		Some(body) => Response { status: 200, content_type: "application/octet-stream", body },
		None => Response::error(404, "no such checkpoint"),
	}
}

/// A blocking request to `url` (`http://host:port/path`): the body on 200, `None` on 404.
/// Bodies over [`MAX_DOWNLOAD`] are refused ([`request_limited`]).
pub fn request(url: &str, body: Option<&[u8]>) -> Result<Option<Vec<u8>>, EngineError> {
	request_limited(url, body, MAX_DOWNLOAD)
}

/// [`request`] reading at most `max_body` bytes of response body: a larger announced length
/// is refused before the body is read, and a peer that sends more is cut off.
pub fn request_limited(
	url: &str,
	body: Option<&[u8]>,
	max_body: usize,
) -> Result<Option<Vec<u8>>, EngineError> {
	exchange(url, body, max_body, None)
}

/// `POST` `body` to an engine's `/ocw` at `url`, with the bearer `token` when given.
pub fn ocw_request(
	url: &str,
	token: Option<&str>,
	body: &[u8],
) -> Result<Option<Vec<u8>>, EngineError> {
	exchange(url, Some(body), MAX_DOWNLOAD, token)
}

fn exchange(
	url: &str,
	body: Option<&[u8]>,
	max_body: usize,
	token: Option<&str>,
) -> Result<Option<Vec<u8>>, EngineError> {
	let rest = url
		.strip_prefix("http://")
		.ok_or_else(|| EngineError::Http(format!("not an http:// URL: {url}")))?;
	let (host, path) =
		rest.split_once('/').map(|(h, p)| (h, format!("/{p}"))).unwrap_or((rest, "/".into()));
	let addr = std::net::ToSocketAddrs::to_socket_addrs(host)
		.map_err(|e| EngineError::Http(format!("{host}: {e}")))?
		.next()
		.ok_or_else(|| EngineError::Http(format!("{host}: no address")))?;
	let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
		.map_err(|e| EngineError::Http(format!("{host}: {e}")))?;
	stream.set_read_timeout(Some(Duration::from_secs(60)))?;
	let method = if body.is_some() { "POST" } else { "GET" };
	let body = body.unwrap_or_default();
	let authorization = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
	write!(stream, "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{authorization}Content-Length: {}\r\nConnection: close\r\n\r\n", body.len())?;
	stream.write_all(body)?;
	let too_large = || EngineError::Http(format!("{url}: response over {max_body} bytes"));
	let mut response = Vec::new();
	let mut chunk = [0u8; 8192];
	// Read the head (bounded), then the body up to the bound.
	let header_end = loop {
		if let Some(pos) = find(&response, b"\r\n\r\n") {
			break pos;
		}
		if response.len() > MAX_RESPONSE_HEAD {
			return Err(EngineError::Http(format!("{url}: response head too large")));
		}
		let n = stream.read(&mut chunk)?;
		if n == 0 {
			return Err(EngineError::Http("malformed response".into()));
		}
		response.extend_from_slice(chunk.get(..n).unwrap_or_default());
	};
	let head = String::from_utf8_lossy(response.get(..header_end).unwrap_or_default()).to_string();
	let status = head.split_whitespace().nth(1).and_then(|s| s.parse::<u16>().ok()).unwrap_or(0);
	let announced = head.lines().filter_map(|l| l.split_once(':')).find_map(|(name, value)| {
		name.trim().eq_ignore_ascii_case("content-length").then(|| value.trim().parse::<u64>())
	});
	if let Some(Ok(length)) = announced {
		if length > max_body as u64 {
			return Err(too_large());
		}
	}
	let mut body = response.get(header_end + 4..).unwrap_or_default().to_vec();
	if body.len() > max_body {
		return Err(too_large());
	}
	let allowance = (max_body - body.len()) as u64 + 1;
	(&mut stream).take(allowance).read_to_end(&mut body)?;
	if body.len() > max_body {
		return Err(too_large());
	}
	match status {
		200 => Ok(Some(body)),
		404 => Ok(None),
		other => Err(EngineError::Http(format!("{url}: status {other}"))),
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn chunked_bodies_decode_whole_or_wait_for_more() {
		let raw = b"4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\n\r\n";
		assert_eq!(decode_chunked(raw), Ok(Some(b"Wikipedia".to_vec())));
		assert_eq!(decode_chunked(&raw[..10]), Ok(None));
		assert!(decode_chunked(b"zz\r\n").is_err());
	}

	#[test]
	fn server_answers_scale_requests_and_serves_models() {
		let dir = tempfile::tempdir().expect("tempdir");
		let engine = Engine::start(crate::EngineConfig::in_dir(dir.path())).expect("starts");
		let hash = engine.models.put(b"model bytes").expect("stored");
		let runtime = tokio::runtime::Runtime::new().expect("runtime");
		let addr = runtime
			.block_on(spawn_server(engine, "127.0.0.1:0".parse().expect("addr")))
			.expect("binds");
		let base = format!("http://{addr}");
		let body = request(&format!("{base}/ocw"), Some(&EngineRequest::PendingOutcomes.encode()))
			.expect("answers")
			.expect("200");
		assert_eq!(
			EngineResponse::decode(&mut &body[..]),
			Ok(EngineResponse::PendingOutcomes(vec![]))
		);
		let garbage =
			request(&format!("{base}/ocw"), Some(b"\xff\xff")).expect("answers").expect("200");
		assert!(matches!(EngineResponse::decode(&mut &garbage[..]), Ok(EngineResponse::Error(_))));
		let model =
			request(&format!("{base}/models/0x{}", hex::encode(hash)), None).expect("answers");
		assert_eq!(model, Some(b"model bytes".to_vec()));
		assert_eq!(
			request(&format!("{base}/models/0x{}", hex::encode([0u8; 32])), None).expect("answers"),
			None
		);
		assert!(request("ftp://nowhere", None).is_err());
	}

	#[test]
	fn ocw_needs_the_token_or_a_loopback_peer() {
		let local: IpAddr = "127.0.0.1".parse().expect("ip");
		let remote: IpAddr = "203.0.113.7".parse().expect("ip");
		assert_eq!(ocw_allowed(local, None, None), Ok(()));
		assert_eq!(ocw_allowed("::1".parse().expect("ip"), None, None), Ok(()));
		assert_eq!(ocw_allowed(remote, None, None), Err(403));
		assert_eq!(ocw_allowed(remote, None, Some("anything")), Err(403));
		// With a token, only the token counts: not even loopback passes without it.
		assert_eq!(ocw_allowed(local, Some("s3cret"), None), Err(401));
		assert_eq!(ocw_allowed(local, Some("s3cret"), Some("s3cre")), Err(401));
		assert_eq!(ocw_allowed(remote, Some("s3cret"), Some("s3cret")), Ok(()));
		assert_eq!(bearer_token("Bearer abc"), Some("abc"));
		assert_eq!(bearer_token("bearer  abc "), Some("abc"));
		assert_eq!(bearer_token("Basic abc"), None);
	}

	#[test]
	fn server_refuses_ocw_without_the_token() {
		let dir = tempfile::tempdir().expect("tempdir");
		let config = crate::EngineConfig {
			ocw_token: Some("s3cret".into()),
			..crate::EngineConfig::in_dir(dir.path())
		};
		let engine = Engine::start(config).expect("starts");
		let runtime = tokio::runtime::Runtime::new().expect("runtime");
		let addr = runtime
			.block_on(spawn_server(engine, "127.0.0.1:0".parse().expect("addr")))
			.expect("binds");
		let url = format!("http://{addr}/ocw");
		let body = EngineRequest::PendingOutcomes.encode();
		for token in [None, Some("wrong")] {
			let err = ocw_request(&url, token, &body).expect_err("refused");
			assert!(err.to_string().contains("status 401"), "{err}");
		}
		let answer = ocw_request(&url, Some("s3cret"), &body).expect("answers").expect("200");
		assert_eq!(
			EngineResponse::decode(&mut &answer[..]),
			Ok(EngineResponse::PendingOutcomes(vec![]))
		);
		// Reads stay public.
		assert!(request(&format!("http://{addr}/health"), None).expect("200").is_some());
	}

	#[test]
	fn server_serves_checkpoints_by_root() {
		let dir = tempfile::tempdir().expect("tempdir");
		let engine = Engine::start(crate::EngineConfig::in_dir(dir.path())).expect("starts");
		let checkpoints: Vec<Vec<u8>> = (0..3u8).map(|i| vec![i; 100]).collect();
		let leaves: Vec<[u8; 32]> =
			checkpoints.iter().map(|c| crate::dataset::blake2_256(c)).collect();
		let root = crate::proof::merkle_root(&leaves);
		engine.models.put_checkpoints(&root, &checkpoints).expect("stored");
		let runtime = tokio::runtime::Runtime::new().expect("runtime");
		let addr = runtime
			.block_on(spawn_server(engine, "127.0.0.1:0".parse().expect("addr")))
			.expect("binds");
		let base = format!("http://{addr}/checkpoints");
		let root_hex = hex::encode(root);
		let get = |path: &str| request(&format!("{base}/{path}"), None);
		assert_eq!(get(&format!("0x{root_hex}/1")).expect("200"), Some(vec![1; 100]));
		assert_eq!(get(&format!("0x{root_hex}/leaves")).expect("200"), Some(leaves.concat()));
		assert_eq!(get(&format!("0x{root_hex}/3")).expect("404"), None);
		assert_eq!(get(&format!("0x{}/leaves", hex::encode([1u8; 32]))).expect("404"), None);
		// Bad paths are 400s (an error here).
		for bad in [format!("0x{root_hex}/x"), format!("0x{root_hex}"), "0x12/0".into()] {
			assert!(get(&bad).is_err(), "{bad}");
		}
		// The client's bound on what it reads.
		let url = format!("{base}/0x{root_hex}/1");
		assert!(request_limited(&url, None, 99).is_err());
		assert_eq!(request_limited(&url, None, 100).expect("200"), Some(vec![1; 100]));
	}

	#[test]
	fn client_stops_reading_an_endless_peer() {
		let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
		let addr = listener.local_addr().expect("addr");
		std::thread::spawn(move || {
			// Two connections: one announces a huge length, one sends without a length.
			for announce in [true, false] {
				let Ok((mut stream, _)) = listener.accept() else { return };
				let mut head = [0u8; 1024];
				let _ = stream.read(&mut head);
				let length = if announce { "Content-Length: 1000000000\r\n" } else { "" };
				let _ = write!(stream, "HTTP/1.1 200 OK\r\n{length}\r\n");
				let block = [7u8; 4096];
				for _ in 0..1_000 {
					if stream.write_all(&block).is_err() {
						break;
					}
				}
			}
		});
		let url = format!("http://{addr}/models/0x00");
		for _ in 0..2 {
			let err = request_limited(&url, None, 10_000).expect_err("refused");
			assert!(err.to_string().contains("over 10000 bytes"), "{err}");
		}
	}
}
