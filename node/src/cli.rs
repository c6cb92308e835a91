use sc_cli::RunCmd;

#[derive(Debug, clap::Parser)]
pub struct Cli {
	#[command(subcommand)]
	pub subcommand: Option<Subcommand>,

	#[clap(flatten)]
	pub run: RunCmd,

	#[clap(flatten)]
	pub compute: ComputeArgs,
}

/// The compute engine that the off-chain worker delegates training, verification and node
/// selection to.
#[derive(Debug, Clone, clap::Args)]
pub struct ComputeArgs {
	/// Do not start the compute engine; the off-chain worker then proposes, trains and attests
	/// nothing (the chain's on-chain fallback still assigns jobs).
	#[arg(long)]
	pub no_compute_engine: bool,

	/// Use a compute engine running elsewhere (e.g. `aicchain-worker serve` on a GPU box)
	/// instead of starting one in this process.
	#[arg(long, value_name = "URL", conflicts_with = "no_compute_engine")]
	pub compute_engine_url: Option<String>,

	/// Bearer token the remote engine's `/ocw` endpoint expects (its `--ocw-token`). The
	/// in-process engine gets a fresh random one at every start.
	#[arg(long, value_name = "TOKEN", requires = "compute_engine_url")]
	pub compute_engine_token: Option<String>,

	/// Address the in-process engine listens on. It serves models and checkpoints to
	/// verifiers (publish it with `registry.setEngineUrl`); its write endpoint answers only
	/// this node. When the port is taken the engine takes any free one (port 0: always).
	#[arg(long, value_name = "ADDR", default_value = "0.0.0.0:9960")]
	pub compute_engine_listen: std::net::SocketAddr,

	/// Device the in-process engine trains on: `cpu`, `cuda` or `cuda:N` (needs a node built
	/// with the `cuda` feature).
	#[arg(long, value_name = "DEVICE", default_value = "cpu")]
	pub compute_device: String,

	/// Dataset directory (default: `<base-path>/compute/datasets`; the built-in datasets are
	/// written there).
	#[arg(long, value_name = "DIR")]
	pub compute_dataset_dir: Option<std::path::PathBuf>,

	/// Model directory (default: `<base-path>/compute/models`).
	#[arg(long, value_name = "DIR")]
	pub compute_model_dir: Option<std::path::PathBuf>,

	/// Another engine to fetch models from when verifying (repeatable).
	#[arg(long = "compute-peer", value_name = "URL")]
	pub compute_peers: Vec<String>,

	/// Let the in-process engine fetch from engine addresses published on chain that are
	/// loopback or private (RFC 1918, link-local…). On for `dev` and `local` chains (every
	/// engine on one host); elsewhere off, so that a published address cannot make this node
	/// probe its own host or network.
	#[arg(long)]
	pub compute_allow_private_engines: bool,

	/// Put a compute worker key (`aicc`) derived from this secret URI into the keystore, e.g. a
	/// provider node's worker key (repeatable). With `--dev` and none given: `//Bob`,
	/// `//Charlie` and `//Dave`, the dev providers' keys (Alice's comes with `--dev`).
	#[arg(long = "worker-key", value_name = "SURI")]
	pub worker_keys: Vec<String>,

	/// Fault injection, for `dev` and `local` chains only (refused elsewhere): the in-process
	/// engine poisons the federated updates of the member whose worker key this secret URI
	/// derives, as `<SURI>=<behaviour>` with behaviour `sign-flip`, `scaled` (×10), `random`
	/// or `missing` (repeatable). The validators' engines should exclude it.
	#[arg(long = "byzantine-federated", value_name = "SURI=BEHAVIOUR")]
	pub byzantine_federated: Vec<String>,
}

#[derive(Debug, clap::Subcommand)]
#[allow(clippy::large_enum_variant)]
pub enum Subcommand {
	/// Key management CLI utilities.
	#[command(subcommand)]
	Key(sc_cli::KeySubcommand),

	/// Build a chain specification (kept for zombienet; prefer `export-chain-spec`).
	BuildSpec(sc_cli::BuildSpecCmd),

	/// Export the chain specification of a built-in chain (`dev`, `local`) or a JSON file.
	ExportChainSpec(sc_cli::ExportChainSpecCmd),

	/// Validate blocks.
	CheckBlock(sc_cli::CheckBlockCmd),

	/// Export blocks.
	ExportBlocks(sc_cli::ExportBlocksCmd),

	/// Export the state of a given block into a chain spec.
	ExportState(sc_cli::ExportStateCmd),

	/// Import blocks.
	ImportBlocks(sc_cli::ImportBlocksCmd),

	/// Remove the whole chain.
	PurgeChain(sc_cli::PurgeChainCmd),

	/// Revert the chain to a previous state.
	Revert(sc_cli::RevertCmd),

	/// Db meta columns information.
	ChainInfo(sc_cli::ChainInfoCmd),
}
