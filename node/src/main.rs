//! `aicchain-node`: the AICChain node (Aura + GRANDPA, ParityDB, JSON-RPC).

// sc-cli and sc-service return their own large error types; boxing them at every call would
// only obscure the upstream API this node is wired to.
#![allow(clippy::result_large_err)]

mod chain_spec;
mod cli;
mod command;
mod compute_rpc;
mod models_rpc;
mod rpc;
mod service;

fn main() -> sc_cli::Result<()> {
	command::run()
}
