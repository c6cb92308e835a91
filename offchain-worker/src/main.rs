//! `aicchain-worker`: the compute engine as a standalone service (e.g. on a GPU box that
//! validators point their nodes at with `--compute-engine-url`), plus dataset and simulator
//! tools.

use aicchain_worker::{simulator, Engine, EngineConfig};
use clap::{Parser, Subcommand};
use std::{net::SocketAddr, path::PathBuf};

#[derive(Parser)]
#[command(name = "aicchain-worker", about = "AICChain compute engine")]
struct Cli {
	#[command(subcommand)]
	command: Command,
}

#[derive(Subcommand)]
enum Command {
	/// Serve the engine's HTTP API.
	Serve {
		#[arg(long, default_value = "127.0.0.1:9955")]
		listen: SocketAddr,
		/// Holds `datasets/`, `models/` and `policy.safetensors`.
		#[arg(long, default_value = "./aicchain-engine")]
		data_dir: PathBuf,
		/// `cpu`, `cuda` or `cuda:N`.
		#[arg(long, default_value = "cpu")]
		device: String,
		/// Another engine to fetch models and checkpoints from when verifying (repeatable).
		#[arg(long = "peer")]
		peers: Vec<String>,
		/// Bearer token `POST /ocw` requires (give the node the same with
		/// `--compute-engine-token`); without one, only loopback peers may post.
		#[arg(long)]
		ocw_token: Option<String>,
		/// Fetch from loopback or private engine addresses that providers published on chain
		/// (a dev or local chain, all on one host); off by default.
		#[arg(long)]
		allow_private_engines: bool,
		/// A node's JSON-RPC (`http://host:9944`) to read the chain's dataset records from:
		/// with it the engine takes users' uploads and fetches public datasets it lacks from
		/// peers, and answers paid queries (`POST /infer`); without it, it trains and verifies
		/// only on its directory's files and answers no paid queries.
		#[arg(long, value_name = "URL")]
		node_rpc: Option<String>,
		/// The sr25519 key (a secret URI such as `//Alice` or a mnemonic) this engine signs its
		/// fetches from peers with: a private model's weights and training checkpoints are
		/// served only to the model's owner, the accounts it allows and the validators' worker
		/// keys. Without one, it fetches only public models.
		#[arg(long, value_name = "SURI")]
		key: Option<String>,
	},
	/// Write the built-in datasets and print every dataset's content hash.
	Datasets {
		#[arg(long, default_value = "./aicchain-engine")]
		data_dir: PathBuf,
	},
	/// Train the selection policy on the simulator and print the policy-vs-baselines table.
	Simulate {
		#[arg(long, default_value_t = 150)]
		updates: usize,
		#[arg(long, default_value_t = 3_000)]
		jobs: usize,
	},
}

struct StderrLogger;

impl log::Log for StderrLogger {
	fn enabled(&self, metadata: &log::Metadata) -> bool {
		metadata.level() <= log::Level::Info
	}
	fn log(&self, record: &log::Record) {
		if self.enabled(record.metadata()) {
			eprintln!("{} {}: {}", record.level(), record.target(), record.args());
		}
	}
	fn flush(&self) {}
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
	let _ = log::set_logger(&StderrLogger).map(|()| log::set_max_level(log::LevelFilter::Info));
	match Cli::parse().command {
		Command::Serve {
			listen,
			data_dir,
			device,
			peers,
			ocw_token,
			allow_private_engines,
			node_rpc,
			key,
		} => {
			let signer = match key {
				Some(suri) => Some(aicchain_worker::access::signer_from_pair(
					<sp_core::sr25519::Pair as sp_core::Pair>::from_string(&suri, None)
						.map_err(|e| format!("--key: {e:?}"))?,
				)),
				None => None,
			};
			let chain = node_rpc.map(aicchain_worker::inference::ChainState::from_node_rpc);
			let config = EngineConfig {
				device,
				peers,
				ocw_token,
				allow_private_engines,
				chain_datasets: chain
					.clone()
					.map(aicchain_worker::dataset::ChainDatasets::from_state),
				chain_state: chain,
				signer,
				..EngineConfig::in_dir(data_dir)
			};
			let engine = Engine::start(config)?;
			let runtime = tokio::runtime::Runtime::new()?;
			runtime.block_on(async move {
				let bound = aicchain_worker::http::spawn_server(engine, listen).await?;
				println!("aicchain-worker serving on http://{bound}");
				tokio::signal::ctrl_c().await?;
				Ok::<_, Box<dyn std::error::Error>>(())
			})?;
		},
		Command::Datasets { data_dir } => {
			let store = aicchain_worker::dataset::DatasetStore::new(data_dir.join("datasets"));
			store.ensure_builtin()?;
			for (name, hash) in store.list()? {
				println!("0x{}  {name}", hex::encode(hash));
			}
		},
		Command::Simulate { updates, jobs } => {
			let policy = simulator::train_policy(1, updates, 64)?;
			let rows = simulator::compare_with_baselines(&policy, 99, jobs)?;
			print!("{}", simulator::comparison_table(&rows));
		},
	}
	Ok(())
}
