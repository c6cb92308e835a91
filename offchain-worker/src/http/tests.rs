use super::*;
use crate::EngineConfig;
use std::{
	io::{Read, Write},
	net::TcpStream,
};

/// An engine (with `config`'s token) served on a free loopback port under `limits`.
pub(super) fn served(
	config: impl FnOnce(EngineConfig) -> EngineConfig,
	limits: ServerLimits,
) -> (tempfile::TempDir, tokio::runtime::Runtime, Arc<Engine>, SocketAddr) {
	let dir = tempfile::tempdir().expect("tempdir");
	let engine = Engine::start(config(EngineConfig::in_dir(dir.path()))).expect("starts");
	let runtime = tokio::runtime::Runtime::new().expect("runtime");
	let addr = runtime
		.block_on(spawn_server_with(engine.clone(), "127.0.0.1:0".parse().expect("addr"), limits))
		.expect("binds");
	(dir, runtime, engine, addr)
}

/// Sends `raw` on a fresh connection and reads the answer until the server closes it (or 5 s).
pub(super) fn raw_exchange(addr: SocketAddr, raw: &[u8]) -> String {
	let mut stream = TcpStream::connect(addr).expect("connects");
	stream.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
	stream.write_all(raw).expect("sends");
	let mut answer = Vec::new();
	let _ = stream.read_to_end(&mut answer);
	String::from_utf8_lossy(&answer).into_owned()
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
	assert_eq!(EngineResponse::decode(&mut &body[..]), Ok(EngineResponse::PendingOutcomes(vec![])));
	let garbage =
		request(&format!("{base}/ocw"), Some(b"\xff\xff")).expect("answers").expect("200");
	assert!(matches!(EngineResponse::decode(&mut &garbage[..]), Ok(EngineResponse::Error(_))));
	let model = request(&format!("{base}/models/0x{}", hex::encode(hash)), None).expect("answers");
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
	let leaves: Vec<[u8; 32]> = checkpoints.iter().map(|c| crate::dataset::blake2_256(c)).collect();
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

#[test]
fn only_public_addresses_count_as_public() {
	for public in ["8.8.8.8", "1.1.1.1", "100.63.0.1", "2606:4700::1111", "::ffff:8.8.8.8"] {
		assert!(is_public(public.parse().expect("ip")), "{public}");
	}
	for private in [
		"127.0.0.1",
		"10.1.2.3",
		"172.16.0.1",
		"192.168.1.1",
		"169.254.169.254",
		"100.64.0.1",
		"0.0.0.0",
		"0.1.2.3",
		"255.255.255.255",
		"224.0.0.1",
		"203.0.113.7",
		"::1",
		"::",
		"fd00::1",
		"fe80::1",
		"ff02::1",
		"2001:db8::1",
		"::ffff:127.0.0.1",
		"::ffff:10.0.0.1",
	] {
		assert!(!is_public(private.parse().expect("ip")), "{private}");
	}
}

#[test]
fn a_request_for_public_addresses_never_reaches_this_host() {
	let (_dir, _runtime, _engine, addr) = served(|c| c, ServerLimits::default());
	for host in [addr.to_string(), format!("localhost:{}", addr.port())] {
		let url = format!("http://{host}/health");
		let err = request_reaching(&url, 1024, Reach::PublicOnly, None).expect_err("refused");
		assert!(err.to_string().contains("non-public"), "{err}");
		assert!(request_reaching(&url, 1024, Reach::Any, None).expect("200").is_some());
	}
}

#[test]
fn a_slow_peer_is_cut_off_and_others_are_served() {
	let limits =
		ServerLimits { header_read_timeout: Duration::from_millis(200), ..Default::default() };
	let (_dir, _runtime, _engine, addr) = served(|c| c, limits);
	// Half a head, then nothing: the server closes the connection without answering it.
	let mut slow = TcpStream::connect(addr).expect("connects");
	slow.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
	slow.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n").expect("sends");
	let mut answer = Vec::new();
	let read = slow.read_to_end(&mut answer);
	assert!(read.is_ok(), "the server did not close the connection: {read:?}");
	assert!(!String::from_utf8_lossy(&answer).contains("200 OK"));
	assert!(request(&format!("http://{addr}/health"), None).expect("200").is_some());
}

#[test]
fn the_write_endpoint_reads_no_body_before_the_token_and_bounds_it_after() {
	let limits = ServerLimits { max_body: 1_000, ..Default::default() };
	let (_dir, _runtime, _engine, addr) =
		served(|c| EngineConfig { ocw_token: Some("s3cret".into()), ..c }, limits);
	// A billion announced bytes, none sent: refused at once, not waited for.
	let head = "POST /ocw HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n";
	assert!(raw_exchange(addr, head.as_bytes()).starts_with("HTTP/1.1 401"));
	let with_token = "POST /ocw HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\n";
	let too_long = format!("{with_token}Content-Length: 1001\r\n\r\n{}", "x".repeat(1001));
	assert!(raw_exchange(addr, too_long.as_bytes()).starts_with("HTTP/1.1 413"));
	// The node's offchain HTTP client streams bodies in chunks.
	let body = EngineRequest::PendingOutcomes.encode();
	let mut chunked =
		format!("{with_token}Transfer-Encoding: chunked\r\n\r\n{:x}\r\n", body.len()).into_bytes();
	chunked.extend_from_slice(&body);
	chunked.extend_from_slice(b"\r\n0\r\n\r\n");
	let answer = raw_exchange(addr, &chunked);
	assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}
