//! Helpers shared by the node's integration tests: start the real `aicchain-node` binary on free
//! ports, talk JSON-RPC to it over HTTP, and make sure it is stopped whatever happens.

#![allow(dead_code)]

use serde_json::{json, Value};
use std::{
	io::{Read, Write},
	net::{TcpListener, TcpStream},
	path::PathBuf,
	process::{Child, Command, Stdio},
	time::{Duration, Instant},
};

/// Path of the node binary that cargo built for these tests.
pub fn node_binary() -> PathBuf {
	PathBuf::from(env!("CARGO_BIN_EXE_aicchain-node"))
}

/// A port nobody listens on right now (the OS picks it).
pub fn free_port() -> u16 {
	TcpListener::bind("127.0.0.1:0")
		.and_then(|listener| listener.local_addr())
		.map(|addr| addr.port())
		.expect("the OS hands out a free port")
}

/// A running node; dropping it (also when a test panics) kills and reaps the process.
pub struct RunningNode {
	child: Child,
	pub rpc_port: u16,
	pub prometheus_port: u16,
	log_path: PathBuf,
	_base: tempdir::TempDir,
}

mod tempdir {
	use std::path::{Path, PathBuf};

	/// A directory removed on drop.
	pub struct TempDir(PathBuf);

	impl TempDir {
		pub fn new(prefix: &str) -> std::io::Result<Self> {
			let nanos = std::time::SystemTime::now()
				.duration_since(std::time::UNIX_EPOCH)
				.map(|d| d.as_nanos())
				.unwrap_or_default();
			let path =
				std::env::temp_dir().join(format!("{prefix}-{}-{nanos}", std::process::id()));
			std::fs::create_dir_all(&path)?;
			Ok(Self(path))
		}

		pub fn path(&self) -> &Path {
			&self.0
		}
	}

	impl Drop for TempDir {
		fn drop(&mut self) {
			let _ = std::fs::remove_dir_all(&self.0);
		}
	}
}

impl RunningNode {
	/// Starts `aicchain-node --dev` with a throw-away base path and free ports.
	pub fn start_dev(extra_args: &[&str]) -> Self {
		let base = tempdir::TempDir::new("aicchain-node-test").expect("temp dir");
		let rpc_port = free_port();
		let prometheus_port = free_port();
		let p2p_port = free_port();
		let log_path = base.path().join("node.log");
		let log = std::fs::File::create(&log_path).expect("log file");
		let child = Command::new(node_binary())
			.arg("--dev")
			.arg("--base-path")
			.arg(base.path().join("chain"))
			.args(["--rpc-port", &rpc_port.to_string()])
			.args(["--prometheus-port", &prometheus_port.to_string()])
			.args(["--port", &p2p_port.to_string()])
			.arg("--no-telemetry")
			.arg("--no-mdns")
			.args(extra_args)
			.stdin(Stdio::null())
			.stdout(log.try_clone().expect("log handle"))
			.stderr(log)
			.spawn()
			.expect("aicchain-node starts");
		Self { child, rpc_port, prometheus_port, log_path, _base: base }
	}

	/// The node's `--base-path`.
	pub fn base_path(&self) -> PathBuf {
		self._base.path().join("chain")
	}

	/// The node's log so far, for failure messages.
	pub fn log(&self) -> String {
		std::fs::read_to_string(&self.log_path).unwrap_or_default()
	}

	/// One JSON-RPC call; the `result` on success, the `error` object as `Err`.
	pub fn rpc(&self, method: &str, params: Value) -> Result<Value, Value> {
		rpc_call(self.rpc_port, method, params)
	}

	/// Polls `check` every 250 ms until it returns `Some`, or panics with the node log.
	pub fn wait_for<T>(
		&mut self,
		what: &str,
		timeout: Duration,
		mut check: impl FnMut(&Self) -> Option<T>,
	) -> T {
		let start = Instant::now();
		loop {
			if let Ok(Some(status)) = self.child.try_wait() {
				panic!("node exited with {status} while waiting for {what}:\n{}", self.log());
			}
			if let Some(value) = check(self) {
				return value;
			}
			if start.elapsed() > timeout {
				panic!("timed out after {timeout:?} waiting for {what}; node log:\n{}", self.log());
			}
			std::thread::sleep(Duration::from_millis(250));
		}
	}

	/// Sends SIGINT (like Ctrl-C) and waits for a clean exit; `None` if it had to be killed.
	pub fn stop(mut self) -> Option<std::process::ExitStatus> {
		let pid = self.child.id().to_string();
		let _ = Command::new("kill").args(["-INT", &pid]).status();
		let start = Instant::now();
		while start.elapsed() < Duration::from_secs(20) {
			if let Ok(Some(status)) = self.child.try_wait() {
				return Some(status);
			}
			std::thread::sleep(Duration::from_millis(100));
		}
		None
	}
}

impl Drop for RunningNode {
	fn drop(&mut self) {
		if let Ok(None) = self.child.try_wait() {
			let _ = self.child.kill();
			let _ = self.child.wait();
		}
	}
}

/// A minimal HTTP/1.0 exchange on localhost: no client library needed for JSON-RPC over HTTP.
fn http_exchange(port: u16, request: &str) -> Option<(u16, String)> {
	let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
	stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
	stream.write_all(request.as_bytes()).ok()?;
	let mut response = String::new();
	stream.read_to_string(&mut response).ok()?;
	let (head, body) = response.split_once("\r\n\r\n")?;
	let status = head.split_whitespace().nth(1)?.parse().ok()?;
	Some((status, body.to_string()))
}

/// A JSON-RPC call over HTTP; `Err(Value::Null)` when the node does not answer.
pub fn rpc_call(port: u16, method: &str, params: Value) -> Result<Value, Value> {
	let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params }).to_string();
	let request = format!(
		"POST / HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
		body.len()
	);
	let (_, response) = http_exchange(port, &request).ok_or(Value::Null)?;
	let mut response: Value = serde_json::from_str(&response).map_err(|_| Value::Null)?;
	match response.get_mut("result") {
		Some(result) => Ok(result.take()),
		None => Err(response.get_mut("error").map(Value::take).unwrap_or(Value::Null)),
	}
}

/// `GET path` over HTTP; the status and body.
pub fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
	http_exchange(port, &format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n"))
}

/// Parses a hex block number (`"0x1a"`) from a header.
pub fn header_number(header: &Value) -> Option<u64> {
	let hex = header.get("number")?.as_str()?.trim_start_matches("0x");
	u64::from_str_radix(hex, 16).ok()
}
