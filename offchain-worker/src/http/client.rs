//! The engine's HTTP client (hyper, HTTP/1.1): blocking calls for the engine's verifier, the
//! node's RPC and the CLI, each bounded in what it reads ([`MAX_DOWNLOAD`] unless told less),
//! how long it waits to connect ([`CONNECT_TIMEOUT`]) and how long the whole exchange may take
//! ([`REQUEST_DEADLINE`]). A request may be told to reach only public addresses ([`Reach`]):
//! the address is checked after resolution and the connection goes to that address, so a name
//! cannot resolve to a public address for the check and to a private one for the connection.

use crate::EngineError;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::{
	body::{Body, Bytes},
	header::{AUTHORIZATION, CONTENT_TYPE, HOST},
	Method, Uri,
};
use hyper_util::rt::TokioIo;
use std::{
	future::Future,
	net::{IpAddr, SocketAddr},
	time::Duration,
};

/// Largest response body read by default (a model or a checkpoint): a peer that sends more is
/// cut off and its answer refused.
pub const MAX_DOWNLOAD: usize = aicchain_primitives::limits::MAX_CHECKPOINT_BYTES;
/// Longest a connection may take to open.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest a whole exchange may take, from resolving the name to the last byte of the answer.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(120);

/// Which addresses a request may connect to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
	/// Any address: the node's own engine, peers its operator configured.
	Any,
	/// Only public addresses ([`is_public`]): addresses anyone can publish on chain, which must
	/// not turn a verifier into a probe of its own host or network.
	PublicOnly,
}

impl Reach {
	fn allows(self, ip: IpAddr) -> bool {
		self == Reach::Any || is_public(ip)
	}
}

/// Whether `ip` is a public unicast address: not loopback, private (RFC 1918, unique local
/// `fc00::/7`), shared (`100.64.0.0/10`), link-local, unspecified, "this network" (`0/8`),
/// broadcast, multicast or documentation. IPv4-mapped IPv6 addresses count as their IPv4.
pub fn is_public(ip: IpAddr) -> bool {
	match ip.to_canonical() {
		IpAddr::V4(v4) => {
			let [a, b, ..] = v4.octets();
			!(v4.is_private()
				|| v4.is_loopback()
				|| v4.is_link_local()
				|| v4.is_unspecified()
				|| v4.is_broadcast()
				|| v4.is_multicast()
				|| v4.is_documentation()
				|| a == 0 || (a == 100 && (b & 0xc0) == 64))
		},
		IpAddr::V6(v6) => {
			let [first, ..] = v6.segments();
			!(v6.is_loopback()
				|| v6.is_unspecified()
				|| v6.is_multicast()
				|| (first & 0xfe00) == 0xfc00
				|| (first & 0xffc0) == 0xfe80
				|| (first == 0x2001 && v6.segments().get(1) == Some(&0x0db8)))
		},
	}
}

/// A request to `url` (`http://host:port/path`), `POST` with `body` or else `GET`: the body on
/// 200, `None` on 404, an error on anything else.
pub fn request(url: &str, body: Option<&[u8]>) -> Result<Option<Vec<u8>>, EngineError> {
	request_limited(url, body, MAX_DOWNLOAD)
}

/// [`request`] reading at most `max_body` bytes of answer: a larger announced length is
/// refused before the body is read, and a peer that sends more is cut off.
pub fn request_limited(
	url: &str,
	body: Option<&[u8]>,
	max_body: usize,
) -> Result<Option<Vec<u8>>, EngineError> {
	exchange(url, body, max_body, Extra::None, Reach::Any)
}

/// A `GET` of `url` reading at most `max_body` bytes, connecting only where `reach` allows,
/// with the signed fetch header `fetch` ([`crate::access`]) when given.
pub fn request_reaching(
	url: &str,
	max_body: usize,
	reach: Reach,
	fetch: Option<&str>,
) -> Result<Option<Vec<u8>>, EngineError> {
	exchange(url, None, max_body, fetch.map_or(Extra::None, Extra::Fetch), reach)
}

/// `POST` `body` to an engine's `/ocw` at `url`, with the bearer `token` when given.
pub fn ocw_request(
	url: &str,
	token: Option<&str>,
	body: &[u8],
) -> Result<Option<Vec<u8>>, EngineError> {
	exchange(url, Some(body), MAX_DOWNLOAD, token.map_or(Extra::None, Extra::Bearer), Reach::Any)
}

/// `PUT` `body` at `url` (a dataset to an engine's `/datasets/0x<hash>`): the answer on 200,
/// `None` on 404, an error with the engine's reason on anything else.
pub fn put(url: &str, body: &[u8]) -> Result<Option<Vec<u8>>, EngineError> {
	exchange_with(Method::PUT, url, Some(body), 64 << 10, Extra::None, Reach::Any)
}

/// One JSON-RPC call to a node at `url` (`http://host:port`): the result, or the node's error.
pub fn json_rpc(
	url: &str,
	method: &str,
	params: serde_json::Value,
) -> Result<serde_json::Value, EngineError> {
	let body = serde_json::json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
	let answer = exchange_with(
		Method::POST,
		url,
		Some(body.to_string().as_bytes()),
		16 << 20,
		Extra::Json,
		Reach::Any,
	)?
	.ok_or_else(|| EngineError::Http(format!("{url}: no JSON-RPC server")))?;
	let mut value: serde_json::Value = serde_json::from_slice(&answer)
		.map_err(|e| EngineError::Http(format!("{url}: not JSON-RPC: {e}")))?;
	match value.get_mut("result") {
		Some(result) => Ok(result.take()),
		None => Err(EngineError::Http(format!("{url}: {method}: {}", value["error"]))),
	}
}

/// A header a request adds.
#[derive(Clone, Copy)]
enum Extra<'a> {
	None,
	/// `Authorization: Bearer <token>`.
	Bearer(&'a str),
	/// `Content-Type: application/json`.
	Json,
	/// `X-AICChain-Fetch: <signed grant>`.
	Fetch(&'a str),
}

fn exchange(
	url: &str,
	body: Option<&[u8]>,
	max_body: usize,
	extra: Extra<'_>,
	reach: Reach,
) -> Result<Option<Vec<u8>>, EngineError> {
	let method = if body.is_some() { Method::POST } else { Method::GET };
	exchange_with(method, url, body, max_body, extra, reach)
}

fn exchange_with(
	method: Method,
	url: &str,
	body: Option<&[u8]>,
	max_body: usize,
	extra: Extra<'_>,
	reach: Reach,
) -> Result<Option<Vec<u8>>, EngineError> {
	let fail = |what: String| EngineError::Http(format!("{url}: {what}"));
	let uri = url.parse::<Uri>().map_err(|e| fail(e.to_string()))?;
	if uri.scheme_str() != Some("http") {
		return Err(EngineError::Http(format!("not an http:// URL: {url}")));
	}
	let exchange = send(method, &uri, body, max_body, extra, reach);
	blocking(async {
		tokio::time::timeout(REQUEST_DEADLINE, exchange)
			.await
			.unwrap_or_else(|_| Err(format!("no answer within {}s", REQUEST_DEADLINE.as_secs())))
	})
	.map_err(fail)
}

/// Runs `future` to completion on a runtime of its own, on a thread of its own: callers may be
/// plain threads or inside another runtime (the RPC's, the engine's blocking pool).
fn blocking<T: Send>(future: impl Future<Output = Result<T, String>> + Send) -> Result<T, String> {
	std::thread::scope(|scope| {
		scope
			.spawn(|| {
				let runtime = tokio::runtime::Builder::new_current_thread()
					.enable_all()
					.build()
					.map_err(|e| e.to_string())?;
				runtime.block_on(future)
			})
			.join()
			.unwrap_or_else(|_| Err("the HTTP client's thread panicked".into()))
	})
}

async fn send(
	method: Method,
	uri: &Uri,
	body: Option<&[u8]>,
	max_body: usize,
	extra: Extra<'_>,
	reach: Reach,
) -> Result<Option<Vec<u8>>, String> {
	let address = resolve(uri, reach).await?;
	let stream = tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(address))
		.await
		.map_err(|_| format!("no connection within {}s", CONNECT_TIMEOUT.as_secs()))?
		.map_err(|e| e.to_string())?;
	let (mut sender, connection) =
		hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(text)?;
	tokio::spawn(connection);
	let authority = uri.authority().map(|a| a.as_str()).unwrap_or_default();
	let mut request = hyper::Request::builder()
		.method(method)
		.uri(uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"))
		.header(HOST, authority);
	match extra {
		Extra::None => {},
		Extra::Bearer(token) => request = request.header(AUTHORIZATION, format!("Bearer {token}")),
		Extra::Json => request = request.header(CONTENT_TYPE, "application/json"),
		Extra::Fetch(grant) => request = request.header(crate::access::FETCH_HEADER, grant),
	}
	let payload = Full::new(Bytes::copy_from_slice(body.unwrap_or_default()));
	let response = sender.send_request(request.body(payload).map_err(text)?).await.map_err(text)?;
	let status = response.status().as_u16();
	let too_large = || format!("response over {max_body} bytes");
	if response.body().size_hint().lower() > max_body as u64 {
		return Err(too_large());
	}
	let answer = Limited::new(response.into_body(), max_body).collect().await.map_err(|e| {
		if e.is::<LengthLimitError>() {
			too_large()
		} else {
			e.to_string()
		}
	})?;
	match status {
		200 => Ok(Some(answer.to_bytes().to_vec())),
		404 => Ok(None),
		other => {
			let reason =
				String::from_utf8_lossy(&answer.to_bytes()).chars().take(300).collect::<String>();
			Err(format!("status {other}: {reason}"))
		},
	}
}

/// The first address of `uri`'s host that `reach` allows.
async fn resolve(uri: &Uri, reach: Reach) -> Result<SocketAddr, String> {
	let host = uri.host().ok_or("no host")?;
	// `[::1]` in a URL is `::1` to the resolver.
	let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
	let port = uri.port_u16().unwrap_or(80);
	let mut addresses = tokio::net::lookup_host((host, port)).await.map_err(text)?.peekable();
	if addresses.peek().is_none() {
		return Err("the name has no address".into());
	}
	addresses.find(|a| reach.allows(a.ip())).ok_or_else(|| {
		"the name resolves only to non-public addresses (loopback, private, link-local…), which \
		 this request may not reach"
			.into()
	})
}

fn text(e: impl std::fmt::Display) -> String {
	e.to_string()
}
