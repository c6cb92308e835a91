//! # AICChain compute engine
//!
//! What a validator's (or provider's) off-chain worker delegates to native code:
//!
//! - [`model`]: candle MLPs for tabular classification and regression, trained from a job's
//!   `TrainingSpec` on a dataset found by content hash ([`dataset`]), stored as safetensors by
//!   hash ([`store`]) and evaluated on a fixed held-out split;
//! - [`policy`] and [`simulator`]: the RL node-selection policy (PPO on candle-nn) and
//!   the simulated market it is trained and benchmarked on;
//! - [`proof`]: verified training, a sampled proof of learning: checkpoints of the canonical
//!   run committed by a Merkle root, challenged segments replayed within a measured tolerance;
//! - [`engine`]: the task queue (training runs on its own thread, requests only enqueue and
//!   poll) and verification of others' results (fetch the model and the challenged
//!   checkpoints, replay the segment, re-evaluate the model);
//! - [`http`]: the HTTP API the runtime's off-chain worker calls (`POST /ocw`, SCALE-encoded
//!   `engine_api` messages) and that serves models by hash (`GET /models/0x…`) and training
//!   checkpoints by commitment root (`GET /checkpoints/0x<root>/<i>`, `…/leaves`).

pub mod access;
pub mod autograd;
pub mod cnn;
pub mod dataset;
pub mod engine;
pub mod federated;
pub mod http;
pub mod inference;
pub mod lm;
pub mod model;
pub mod policy;
pub mod proof;
pub mod rng;
pub mod selection;
pub mod simulator;
pub mod store;

pub use engine::{Engine, EngineConfig};

/// Everything that can go wrong in the engine. No path panics: bad specs, unknown datasets,
/// corrupt models and I/O failures all end up here.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
	#[error("invalid training spec: {0}")]
	InvalidSpec(String),
	#[error("no dataset with hash 0x{0} in the dataset directory")]
	UnknownDataset(String),
	#[error("malformed dataset: {0}")]
	BadDataset(String),
	#[error("unusable model: {0}")]
	BadModel(String),
	#[error("candle: {0}")]
	Candle(#[from] candle_core::Error),
	#[error("I/O: {0}")]
	Io(#[from] std::io::Error),
	#[error("HTTP: {0}")]
	Http(String),
	#[error("a lock was poisoned")]
	Poisoned,
}
