//! `aicchain-node`: the AICChain node (Aura + GRANDPA, ParityDB, JSON-RPC).

mod chain_spec;
mod cli;
mod command;
mod rpc;
mod service;

fn main() -> sc_cli::Result<()> {
	command::run()
}
