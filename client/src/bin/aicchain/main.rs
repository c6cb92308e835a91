//! `aicchain`: the AICChain command line. Talks JSON-RPC to a node (the dev chain on
//! `http://127.0.0.1:9944` by default) and signs with `--suri` (dev accounts such as `//Alice`
//! work out of the box on the dev chain). Transactions are mortal, valid for 64 blocks from the
//! best block, as wallets sign them.

mod common;
mod datasets;
mod demo;
mod federated;
mod governance;
mod inference;
mod jobs;
mod models;
mod provider;
mod queries;

use aicchain_client::Client;
use clap::{Parser, Subcommand};
use jobs::JobArgs;
use provider::NodeArgs;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
	name = "aicchain",
	version,
	about = "AICChain command line: jobs, nodes, subsidies, balances"
)]
struct Cli {
	/// The node's JSON-RPC endpoint.
	#[arg(long, global = true, default_value = "http://127.0.0.1:9944")]
	url: String,
	/// Secret URI of the signing account (for `accept-worker`: the worker key's).
	#[arg(long, global = true, default_value = "//Alice")]
	suri: String,
	#[command(subcommand)]
	command: Command,
}

#[derive(Subcommand)]
enum Command {
	/// AICC and AICG balances of an account (default: the signer).
	Balance { account: Option<String> },
	/// Registered nodes.
	Nodes {
		#[arg(long, default_value_t = 0)]
		min_gpus: u32,
	},
	/// Register a compute node (bond: 100 AICC); its worker key defaults to the signer.
	///
	/// Another worker key (`--worker`) must accept with `accept-worker` before the node gets
	/// jobs.
	RegisterNode {
		#[command(flatten)]
		node: NodeArgs,
		/// The key the node's off-chain worker signs with (SS58 address or secret URI). When it
		/// is not the signer, the node gets no job until that key runs `accept-worker`.
		#[arg(long)]
		worker: Option<String>,
	},
	/// Accept to be a node's worker key (sign with the worker key's `--suri`).
	///
	/// Binds the key to the node its owner registered it for (`register-node --worker`); only
	/// then may the node take jobs.
	AcceptWorker {
		/// The node's id.
		#[arg(long)]
		node: u32,
	},
	/// Add AICC to a node's bond (the owner signs).
	///
	/// A node slashed below the minimum bond takes no job until it is topped up.
	TopUpBond {
		/// The node's id.
		#[arg(long)]
		node: u32,
		/// AICC to add (decimals allowed).
		#[arg(long)]
		amount: String,
	},
	/// Publish where the node's compute engine serves models and checkpoints to verifiers
	/// (the owner or the worker key signs); without `--url`, withdraw it.
	///
	/// A result whose checkpoints no one serves when challenged is rejected.
	SetEngineUrl {
		/// The node's id.
		#[arg(long)]
		node: u32,
		/// `http://host:port` (the node's `--compute-engine-listen`, as peers reach it). Not
		/// `--url`: that is the node's JSON-RPC endpoint.
		#[arg(long, value_name = "URL")]
		engine: Option<String>,
	},
	/// Give an assigned job back, without a slash (the node's owner or worker signs).
	///
	/// The job goes back to matching (never to this node again) instead of timing out, which
	/// would slash the node's bond.
	DeclineJob {
		/// The job's id.
		#[arg(long)]
		job: u64,
	},
	/// Change a node's spec.
	UpdateNode {
		id: u32,
		#[command(flatten)]
		node: NodeArgs,
	},
	/// What a job would cost, and where it could run.
	Quote {
		#[command(flatten)]
		job: JobArgs,
	},
	/// Submit a job and follow it to settlement.
	SubmitJob {
		#[command(flatten)]
		job: JobArgs,
		/// Return after submission instead of following the job.
		#[arg(long)]
		no_follow: bool,
		/// Blocks the job may wait for a busy node after its proposal window (0: never wait;
		/// the chain's default, an hour, when not given; a day at most).
		#[arg(long, value_name = "BLOCKS")]
		max_wait: Option<u32>,
	},
	/// Submit a federated training job: several providers (of distinct owners) each train
	/// their shard of the data for several rounds; validators aggregate each round robustly,
	/// exclude (and slash) poisoned or missing updates, and the honest members are paid by the
	/// rounds they kept.
	Federate {
		#[command(flatten)]
		job: JobArgs,
		/// Providers that train (2 to 5).
		#[arg(long, default_value_t = 3)]
		providers: u8,
		/// Rounds (1 to 10).
		#[arg(long, default_value_t = 3)]
		rounds: u8,
		/// How each round's kept updates are combined: `median`, `trimmed-mean` or `fedavg`.
		#[arg(long, default_value = "median")]
		rule: String,
		/// Return after submission instead of following the job.
		#[arg(long)]
		no_follow: bool,
	},
	/// A federated job's stage, members (kept rounds or excluded) and final model.
	Federation { id: u64 },
	/// A job's status and receipt.
	Job { id: u64 },
	/// The node's compute engine's decision for a job: each candidate's probability, the
	/// proposal, whether it explored, and how the chain assigned the job.
	Selection { job: u64 },
	/// Register a dataset of your own and upload it to engines (`dataset add FILE`).
	#[command(subcommand)]
	Dataset(DatasetCommand),
	/// Every dataset jobs may train on, with its owner.
	Datasets,
	/// Every model: each verified training result is a version of one.
	Models,
	/// A model and its versions as a tree (relayed versions under their parent).
	Model { id: u64 },
	/// Name a model (its owner signs; at most 64 bytes).
	NameModel { model: u64, name: String },
	/// Make a model public or private, or allow or disallow an account to fetch a private
	/// model's weights (its owner signs; one option per call).
	ShareModel {
		model: u64,
		#[arg(long)]
		public: bool,
		#[arg(long)]
		private: bool,
		/// An account (SS58) that may fetch the weights.
		#[arg(long, value_name = "ACCOUNT")]
		allow: Option<String>,
		/// An account (SS58) that may no longer fetch them.
		#[arg(long, value_name = "ACCOUNT")]
		disallow: Option<String>,
	},
	/// Give a model to another account (its owner signs); its allow list is cleared.
	TransferModel { model: u64, to: String },
	/// Download a version's weights (signed with your key: a private model's engine serves
	/// only its owner and the accounts it allows) and check them against the chain's hash.
	FetchModel {
		version: u64,
		/// Where to write the file (default `model-<version>.safetensors`).
		#[arg(long)]
		out: Option<std::path::PathBuf>,
		/// The engine to ask (default: the published address of the node that trained it).
		#[arg(long)]
		engine: Option<String>,
	},
	/// List a model version for paid inference at a price per query (the model's owner, or
	/// anyone for a public model).
	ListInference {
		version: u64,
		/// AICC per query (decimals allowed).
		#[arg(long)]
		price: String,
	},
	/// Announce that your node's engine serves a listed version.
	Serve {
		version: u64,
		#[arg(long)]
		node: u32,
	},
	/// Ask a listed version, paying each query with a signed voucher.
	///
	/// One query per `--input` (comma-separated features) or per row of `--input-file` (CSV;
	/// a header is skipped, and a row as wide as the version's dataset loses its last column,
	/// the target).
	Infer {
		version: u64,
		#[arg(long)]
		input: Option<String>,
		#[arg(long)]
		input_file: Option<std::path::PathBuf>,
		/// The serving node (default: the first).
		#[arg(long)]
		node: Option<u32>,
		/// AICC to add to your channel to the node first.
		#[arg(long)]
		deposit: Option<String>,
	},
	/// Redeem the vouchers your node's engine holds (one transaction per version and 256
	/// vouchers).
	Redeem {
		#[arg(long)]
		node: u32,
		/// The engine to read vouchers from (default: the node's published address).
		#[arg(long)]
		engine: Option<String>,
	},
	/// Dividends an account earned from its models' inference, and what it may claim.
	Earnings { account: Option<String> },
	/// Claim your dividends.
	Claim,
	/// Start closing your channel to a node (withdraw after an hour).
	CloseChannel { node: u32 },
	/// Withdraw what your closed channel to a node holds.
	WithdrawChannel { node: u32 },
	/// Propose a subsidy paid by the community fund (AICG holders vote).
	ProposeSubsidy {
		/// Share of each covered job's cost, percent.
		#[arg(long, default_value_t = 50)]
		share: u32,
		/// `all`, `renewable` or `training`.
		#[arg(long, default_value = "all")]
		scope: String,
		#[arg(long, default_value = "50")]
		per_job_cap: String,
		#[arg(long, default_value = "500")]
		budget: String,
		/// Blocks the subsidy stays active once approved.
		#[arg(long, default_value_t = 14_400)]
		duration: u32,
	},
	/// Vote on a subsidy proposal with AICG (frozen until the vote closes).
	Vote {
		proposal: u32,
		/// `aye` or `nay`.
		side: String,
		/// AICG to vote with.
		amount: String,
	},
	/// Providers ranked by completed jobs and reputation, with their contribution points in
	/// the reward period and the AICG they may claim.
	Leaderboard,
	/// Claim your share of a closed reward period's AICG pool (providers whose verified work
	/// reached the threshold).
	ClaimRewards,
	/// Network and market statistics, and the community fund.
	Stats,
	/// Replay the seed's end-to-end demo against the chain.
	Demo {
		/// Accept the default requirements without asking.
		#[arg(long)]
		yes: bool,
		#[arg(long)]
		gpus: Option<u32>,
		#[arg(long)]
		bandwidth: Option<u32>,
		#[arg(long)]
		latency: Option<u32>,
	},
}

#[derive(Subcommand)]
enum DatasetCommand {
	/// Register FILE (a `.csv` table or `.txt` text, at most 16 MiB) on chain for a 10 AICC
	/// deposit, and upload it to the engines that will train and verify on it.
	///
	/// A public dataset may be named by anyone's jobs and engines pass it on to each other; a
	/// private one (`--private`) only by yours, and engines keep it to themselves: upload it to
	/// every engine that needs it (the provider's and the validators').
	Add {
		file: std::path::PathBuf,
		/// The name on chain (default: the file's name).
		#[arg(long)]
		name: Option<String>,
		#[arg(long)]
		private: bool,
		/// An engine to upload to (`http://host:port`; repeatable).
		#[arg(long, value_name = "URL")]
		upload: Vec<String>,
		/// A node whose published engine to upload to (repeatable).
		#[arg(long, value_name = "NODE_ID")]
		to_node: Vec<u32>,
	},
}

fn main() -> ExitCode {
	let cli = Cli::parse();
	let client = Client::new(&cli.url);
	match run(&cli, &client) {
		Ok(()) => ExitCode::SUCCESS,
		Err(message) => {
			eprintln!("error: {message}");
			ExitCode::FAILURE
		},
	}
}

fn run(cli: &Cli, client: &Client) -> Result<(), String> {
	let suri = cli.suri.as_str();
	match &cli.command {
		Command::Balance { account } => queries::balance(client, suri, account.as_deref()),
		Command::Nodes { min_gpus } => queries::nodes(client, *min_gpus),
		Command::RegisterNode { node, worker } => {
			provider::register_node(client, suri, node, worker.as_deref())
		},
		Command::AcceptWorker { node } => provider::accept_worker(client, suri, *node),
		Command::TopUpBond { node, amount } => provider::top_up_bond(client, suri, *node, amount),
		Command::SetEngineUrl { node, engine } => {
			provider::set_engine_url(client, suri, *node, engine.as_deref())
		},
		Command::DeclineJob { job } => provider::decline_job(client, suri, *job),
		Command::UpdateNode { id, node } => provider::update_node(client, suri, *id, node),
		Command::Quote { job } => jobs::quote(client, job),
		Command::SubmitJob { job, no_follow, max_wait } => {
			jobs::submit(client, suri, job, *no_follow, *max_wait)
		},
		Command::Federate { job, providers, rounds, rule, no_follow } => {
			federated::submit(client, suri, job, (*providers, *rounds, rule), *no_follow)
		},
		Command::Federation { id } => federated::print(client, *id),
		Command::Job { id } => jobs::print_job(client, *id),
		Command::Selection { job } => queries::selection(client, *job),
		Command::Dataset(DatasetCommand::Add { file, name, private, upload, to_node }) => {
			datasets::add(client, suri, file, name.as_deref(), *private, upload, to_node)
		},
		Command::Datasets => datasets::list(client),
		Command::Models => models::list(client),
		Command::Model { id } => models::show(client, *id),
		Command::NameModel { model, name } => {
			models::change(client, suri, *model, models::Change::Name(name.clone()))
		},
		Command::ShareModel { model, public, private, allow, disallow } => {
			let change = match (*public, *private, allow, disallow) {
				(true, false, None, None) => models::Change::Public(true),
				(false, true, None, None) => models::Change::Public(false),
				(false, false, Some(who), None) => models::Change::Allow(who.clone()),
				(false, false, None, Some(who)) => models::Change::Disallow(who.clone()),
				_ => {
					return Err(
						"give exactly one of --public, --private, --allow, --disallow".into()
					)
				},
			};
			models::change(client, suri, *model, change)
		},
		Command::TransferModel { model, to } => {
			models::change(client, suri, *model, models::Change::Transfer(to.clone()))
		},
		Command::FetchModel { version, out, engine } => {
			models::fetch(client, suri, *version, out.as_deref(), engine.as_deref())
		},
		Command::ListInference { version, price } => inference::list(client, suri, *version, price),
		Command::Serve { version, node } => inference::serve(client, suri, *version, *node),
		Command::Infer { version, input, input_file, node, deposit } => {
			let rows = inference::queries(input.as_deref(), input_file.as_deref())?;
			inference::infer(client, suri, *version, rows, *node, deposit.as_deref())
		},
		Command::Redeem { node, engine } => {
			inference::redeem(client, suri, *node, engine.as_deref())
		},
		Command::Earnings { account } => inference::earnings(client, suri, account.as_deref()),
		Command::Claim => inference::claim(client, suri),
		Command::CloseChannel { node } => inference::close(client, suri, *node, false),
		Command::WithdrawChannel { node } => inference::close(client, suri, *node, true),
		Command::ProposeSubsidy { share, scope, per_job_cap, budget, duration } => {
			governance::propose_subsidy(client, suri, *share, scope, per_job_cap, budget, *duration)
		},
		Command::Vote { proposal, side, amount } => {
			governance::vote(client, suri, *proposal, side, amount)
		},
		Command::Leaderboard => queries::leaderboard(client),
		Command::ClaimRewards => governance::claim_rewards(client, suri),
		Command::Stats => queries::stats(client),
		Command::Demo { yes, gpus, bandwidth, latency } => {
			demo::demo(client, *yes, *gpus, *bandwidth, *latency)
		},
	}
}
