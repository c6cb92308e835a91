//! # AICChain primitives
//!
//! Types that the runtime, the node and the compute worker share. Everything here is `no_std`,
//! SCALE-encoded and bounded: specs, requirements and metrics travel on-chain as integers and
//! `Percent`/`Perbill`, never floats (workers quantise before signing).

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod datasets;
pub mod federation;
pub mod inference;
pub mod limits;
pub mod models;
pub mod proof;
pub use datasets::{DatasetInfo, DatasetName};
pub use federation::{
	AggregationRule, Federation, FederationSpec, FederationStage, Member, RoundVerdict,
};
pub use inference::{Channel, InferenceNodes, Listing, ServableModels, ServedVersion, Voucher};
pub use limits::{validate_training_spec, SpecError};
pub use models::{
	fetch_payload, Model, ModelId, ModelVersion, RelayParent, RelayRefusal, VerifiedModels,
	VerifiedTraining, VersionId, FETCH_DOMAIN, MAX_FETCH_VALIDITY_SECS,
};
pub use proof::TrainingCommitment;

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_core::{ConstU32, H256};
use sp_runtime::{BoundedVec, Perbill, Percent};

/// Identifier of a registered compute node.
pub type NodeId = u32;
/// Identifier of a submitted job.
pub type JobId = u64;
/// Longest region code, e.g. `eu-west-1`.
pub type MaxRegionLen = ConstU32<32>;
/// A region code (ASCII, at most [`MaxRegionLen`] bytes).
pub type Region = BoundedVec<u8, MaxRegionLen>;

/// What a provider offers: hardware, network, energy and price.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct NodeSpec<Balance> {
	/// Number of GPUs.
	pub gpu_count: u32,
	/// Memory per GPU, in GiB.
	pub gpu_memory_gib: u32,
	/// Network bandwidth, in Mbps.
	pub bandwidth_mbps: u32,
	/// Round-trip latency to the network, in milliseconds.
	pub latency_ms: u32,
	/// Where the node runs.
	pub region: Region,
	/// Share of the node's energy from renewable sources.
	pub renewable_share: Percent,
	/// Carbon intensity of the node's energy, in gCO2e per kWh.
	pub carbon_intensity: u32,
	/// Price of one GPU-hour, in the smallest AICC unit.
	pub price_per_gpu_hour: Balance,
}

/// How much a job cares about the provider's energy source.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
	Default,
)]
pub enum SustainabilityPreference {
	/// Any energy source.
	#[default]
	Any,
	/// Weigh carbon [`PREFER_RENEWABLE_CARBON_WEIGHT`] times more when choosing a node.
	PreferRenewable,
	/// Only nodes with at least this renewable share.
	RenewableOnly(Percent),
}

/// How many times more the chain's fallback choice (and the selection benchmark's market)
/// weighs a node's carbon intensity for a job that prefers renewable power.
pub const PREFER_RENEWABLE_CARBON_WEIGHT: u128 = 3;

/// The model families the compute engine trains.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub enum ModelKind {
	/// Multi-layer perceptron for tabular classification (e.g. credit scoring).
	MlpClassifier,
	/// Multi-layer perceptron for tabular regression.
	MlpRegressor,
	/// Decoder-only transformer language model on a text dataset: `hidden_units` embedding
	/// dimensions split over `limits::LM_HEADS` heads, `hidden_layers` blocks, a 64-token
	/// context, the vocabulary of a word tokenizer trained on the dataset (at most 10,000).
	/// Score: held-out next-token accuracy; loss: held-out cross-entropy (perplexity = e^loss).
	TransformerLm,
	/// Small convolutional network for image classification, on a table whose features are a
	/// square grayscale image (`side × side` pixels row by row, `side` from
	/// `2^hidden_layers` to `limits::MAX_IMAGE_SIDE`) and whose target is a class in
	/// `0..limits::CNN_CLASSES`: `hidden_layers` blocks (at most `limits::MAX_CNN_LAYERS`) of
	/// a 3×3 convolution with `hidden_units` channels (at most `limits::MAX_CNN_CHANNELS`),
	/// ReLU and 2×2 max pooling, then each channel's largest value and a linear layer to the
	/// classes. Score: held-out accuracy; loss: held-out cross-entropy.
	CnnClassifier,
}

/// What to train: dataset, model and hyper-parameters, all integers. The hyper-parameters are
/// bounded by [`limits`] ([`validate_training_spec`]), for the chain and the engine alike.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct TrainingSpec {
	/// blake2-256 content hash of the dataset file: one the chain knows ([`DatasetInfo`]).
	pub dataset: H256,
	/// Model family.
	pub model: ModelKind,
	/// Width of each hidden layer.
	pub hidden_units: u32,
	/// Number of hidden layers.
	pub hidden_layers: u8,
	/// Learning rate in millionths (1_000 = 0.001).
	pub learning_rate_millionths: u32,
	/// Passes over the training split.
	pub epochs: u32,
	/// Seed for initialisation and shuffling, so that training is reproducible.
	pub seed: u64,
	/// Lowest held-out score (accuracy, or R² for regressors) the user pays in full for. A
	/// verified model below it settles at the chain's `BelowMinimumPayout` share of its cost,
	/// with no subsidy, renewable bonus or AICG. Zero: no minimum.
	pub min_score: Perbill,
	/// Relay training: the model version (an MLP of the same family and shape, on a dataset
	/// with as many columns) whose weights training starts from instead of the seed's; the
	/// result becomes the next version of that model. The submitter must be allowed to fetch
	/// it. `None`: train from scratch, the result starts a new model.
	pub parent: Option<models::VersionId>,
}

/// What a user asks for.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct JobRequirements {
	/// GPUs the job needs.
	pub gpus: u32,
	/// Lowest acceptable bandwidth, in Mbps.
	pub min_bandwidth_mbps: u32,
	/// Highest acceptable latency, in milliseconds.
	pub max_latency_ms: u32,
	/// Length of the job in (wall-clock) hours, during which all of its `gpus` run: the job
	/// uses `gpus × gpu_hours` GPU-hours, which is what it is priced on, and its result is due
	/// `gpu_hours` (plus a margin) after it is assigned.
	pub gpu_hours: u32,
	/// Energy preference.
	pub sustainability: SustainabilityPreference,
	/// The training to run, if this is a training job.
	pub training: Option<TrainingSpec>,
}

/// Evaluation results, quantised by the worker before signing.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub struct QuantisedMetrics {
	/// Main score on the held-out split (accuracy for classifiers, R² clamped to [0, 1] for
	/// regressors).
	pub score: Perbill,
	/// Loss on the held-out split, in millionths.
	pub loss_millionths: u64,
	/// Samples in the held-out split.
	pub eval_samples: u32,
}

/// Whether a node can serve a job, by the hard constraints alone (no price or liveness: those
/// depend on chain state the caller holds).
pub fn spec_meets_requirements<Balance>(spec: &NodeSpec<Balance>, req: &JobRequirements) -> bool {
	let renewable_ok = match req.sustainability {
		SustainabilityPreference::RenewableOnly(min) => spec.renewable_share >= min,
		_ => true,
	};
	spec.gpu_count >= req.gpus
		&& spec.bandwidth_mbps >= req.min_bandwidth_mbps
		&& spec.latency_ms <= req.max_latency_ms
		&& renewable_ok
}

#[cfg(test)]
mod tests {
	use super::*;

	fn spec() -> NodeSpec<u128> {
		NodeSpec {
			gpu_count: 8,
			gpu_memory_gib: 80,
			bandwidth_mbps: 150,
			latency_ms: 10,
			region: Region::truncate_from(b"eu-west".to_vec()),
			renewable_share: Percent::from_percent(80),
			carbon_intensity: 50,
			price_per_gpu_hour: 1_000,
		}
	}

	fn req() -> JobRequirements {
		JobRequirements {
			gpus: 8,
			min_bandwidth_mbps: 100,
			max_latency_ms: 15,
			gpu_hours: 2,
			sustainability: SustainabilityPreference::Any,
			training: None,
		}
	}

	#[test]
	fn node_that_meets_every_bound_qualifies() {
		assert!(spec_meets_requirements(&spec(), &req()));
	}

	#[test]
	fn each_hard_constraint_disqualifies_on_its_own() {
		let mut r = req();
		r.gpus = 9;
		assert!(!spec_meets_requirements(&spec(), &r));
		let mut r = req();
		r.min_bandwidth_mbps = 151;
		assert!(!spec_meets_requirements(&spec(), &r));
		let mut r = req();
		r.max_latency_ms = 9;
		assert!(!spec_meets_requirements(&spec(), &r));
		let mut r = req();
		r.sustainability = SustainabilityPreference::RenewableOnly(Percent::from_percent(81));
		assert!(!spec_meets_requirements(&spec(), &r));
		r.sustainability = SustainabilityPreference::RenewableOnly(Percent::from_percent(80));
		assert!(spec_meets_requirements(&spec(), &r));
	}

	#[test]
	fn types_round_trip_through_scale() {
		let encoded = spec().encode();
		assert_eq!(NodeSpec::<u128>::decode(&mut &encoded[..]).ok(), Some(spec()));
		let mut r = req();
		r.training = Some(TrainingSpec {
			dataset: H256::repeat_byte(7),
			model: ModelKind::MlpClassifier,
			hidden_units: 32,
			hidden_layers: 2,
			learning_rate_millionths: 1_000,
			epochs: 20,
			seed: 42,
			min_score: Default::default(),
			parent: None,
		});
		let encoded = r.encode();
		assert_eq!(JobRequirements::decode(&mut &encoded[..]).ok(), Some(r));
	}
}

/// Identifier of a subsidy proposal (and of the subsidy it becomes).
pub type SubsidyId = u32;

/// Which jobs a subsidy covers.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub enum SubsidyScope {
	/// Every settled job.
	AllJobs,
	/// Jobs run on nodes with at least half their energy from renewables.
	RenewableProviders,
	/// Training jobs of one model kind.
	JobKind(ModelKind),
}

impl SubsidyScope {
	/// Whether a job with this model kind, run on a node with this renewable share, is covered.
	pub fn covers(&self, kind: Option<ModelKind>, renewable_share: Percent) -> bool {
		match self {
			Self::AllJobs => true,
			Self::RenewableProviders => renewable_share >= Percent::from_percent(50),
			Self::JobKind(wanted) => kind == Some(*wanted),
		}
	}
}

/// Where settlement asks for a subsidy (implemented by the community fund).
pub trait SubsidyHandler<Balance> {
	/// Claims the subsidy for a job of `cost`: the first active subsidy whose scope covers the
	/// job pays its share, capped per job and by what remains of its budget. The claimed amount
	/// leaves the subsidy's budget; the caller must pay it out of the fund.
	fn claim(
		kind: Option<ModelKind>,
		renewable_share: Percent,
		cost: Balance,
	) -> Option<(SubsidyId, Balance)>;
	/// What the fund has promised to active subsidies and may not spend elsewhere.
	fn committed() -> Balance;
	/// Activates a subsidy covering every job, worth `budget`, for benchmarks.
	#[cfg(feature = "runtime-benchmarks")]
	fn activate_for_benchmark(budget: Balance);
}

impl<Balance: Default> SubsidyHandler<Balance> for () {
	fn claim(_: Option<ModelKind>, _: Percent, _: Balance) -> Option<(SubsidyId, Balance)> {
		None
	}
	fn committed() -> Balance {
		Balance::default()
	}
	#[cfg(feature = "runtime-benchmarks")]
	fn activate_for_benchmark(_: Balance) {}
}

/// Where settlement reports verified work (implemented by the community fund, which mints AICG
/// to contributors).
///
/// AICG is minted against `kept_by_fund`: the AICC the community fund kept from the job (its
/// share less any subsidy and bonus it paid back out, or a slashed bond). Never against declared
/// GPU-hours, which cost nothing to declare: whoever gains AICG this way has paid at least that
/// AICC, times the reward rate, into the fund.
pub trait ContributionRewards<AccountId, Balance> {
	/// `provider` (none for a rejected result) delivered work that `verifiers` judged as the
	/// chain finally did; the fund kept `kept_by_fund` AICC from it.
	fn reward(provider: Option<&AccountId>, verifiers: &[AccountId], kept_by_fund: Balance);
}

impl<AccountId, Balance> ContributionRewards<AccountId, Balance> for () {
	fn reward(_: Option<&AccountId>, _: &[AccountId], _: Balance) {}
}

/// The key a validator's off-chain worker signs proposals and attestations with, and a
/// provider's worker signs results with (key type `aicc`, sr25519).
///
/// A validator's worker key is its Aura key: `--dev`/`--alice` and `author_rotateKeys` put one
/// under this key type, and zombienet's keystores carry it for each validator.
pub mod worker_key {
	use sp_core::crypto::KeyTypeId;

	/// Key type of compute worker keys in the keystore.
	pub const KEY_TYPE: KeyTypeId = KeyTypeId(*b"aicc");

	mod app {
		use sp_application_crypto::{app_crypto, sr25519};
		app_crypto!(sr25519, super::KEY_TYPE);
	}

	/// The worker's public key (an application-specific sr25519 key).
	pub type Public = app::Public;
	/// A worker's signature.
	pub type Signature = app::Signature;
	#[cfg(feature = "std")]
	/// A worker key pair.
	pub type Pair = app::Pair;
}

/// The binary protocol between the runtime's off-chain worker and the compute engine
/// (`aicchain-worker`): SCALE-encoded requests POSTed to the engine's `/ocw` endpoint, one
/// SCALE-encoded [`engine_api::EngineResponse`] back. Train and verify requests are idempotent:
/// the first one queues the task, later ones report its status, so a block's worker run never
/// waits for training.
pub mod engine_api {
	use super::*;
	use alloc::vec::Vec;

	/// What the engine sees of a candidate node when selecting.
	#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
	pub struct CandidateNode {
		pub node_id: NodeId,
		pub gpu_count: u32,
		pub gpu_memory_gib: u32,
		pub bandwidth_mbps: u32,
		pub latency_ms: u32,
		pub renewable_share: Percent,
		pub carbon_intensity: u32,
		/// What the job would cost on this node.
		pub cost: u128,
		pub reputation: Perbill,
		pub active_jobs: u32,
		pub max_jobs: u32,
		pub completed_jobs: u32,
		pub failed_jobs: u32,
	}

	/// How a job that the engine selected a node for ended, for the policy to learn from.
	#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
	pub struct JobOutcome {
		pub job_id: JobId,
		pub node_id: NodeId,
		/// Settled (true) or rejected/timed out/unverified (false).
		pub success: bool,
		/// What the job cost (zero when it failed).
		pub cost: u128,
		/// Emissions, in grams CO2e (zero when it failed).
		pub carbon_grams: u64,
		/// Blocks from submission to the end.
		pub blocks_taken: u32,
	}

	/// A request from the off-chain worker.
	#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
	pub enum EngineRequest {
		/// Score `candidates` (each already meets the job's hard constraints) and pick one.
		Select {
			job_id: JobId,
			requirements: JobRequirements,
			budget: u128,
			candidates: Vec<CandidateNode>,
		},
		/// Train the job's model (queued; repeat to poll); from the weights of the model file
		/// `start` (the parent version's, for relay training) instead of the seed's.
		Train { job_id: JobId, spec: TrainingSpec, start: Option<H256> },
		/// Check a published result (queued; repeat to poll): fetch the model and the challenged
		/// checkpoints (local store, then peers), check them against the commitment, replay the
		/// segment the challenge picks for `verifier`, check the final checkpoint is the model,
		/// and re-evaluate the model on the held-out split.
		Verify {
			job_id: JobId,
			spec: TrainingSpec,
			model_hash: H256,
			metrics: QuantisedMetrics,
			commitment: TrainingCommitment,
			/// Randomness from after the result was published.
			challenge: H256,
			/// The verifier's worker key (its segment is drawn from the challenge and this).
			verifier: Vec<u8>,
			/// The engine address the provider published on chain (`http://host:port`), asked
			/// before the verifier's configured peers.
			provider_engine: Option<Vec<u8>>,
			/// The model file training started from (relay training): the run's first
			/// checkpoint holds its weights.
			start: Option<H256>,
		},
		/// Jobs this engine selected for whose outcome it has not learnt yet.
		PendingOutcomes,
		/// The outcome of a job this engine selected for.
		Outcome(JobOutcome),
		/// A job this engine selected for ended without running (cancelled or expired): drop
		/// the selection, learn nothing.
		Forget(JobId),
		/// Train member `index`'s update of a federated job's round (queued; repeat to poll):
		/// rebuild the round's global model (the seed's, or the previous round's kept updates
		/// aggregated, which must hash to its agreed aggregate), train it on the member's shard
		/// and store the weights by hash.
		FederatedUpdate {
			federation: JobId,
			round: u8,
			spec: TrainingSpec,
			federated: FederationSpec,
			index: u8,
			/// The member's worker key (the engine may play a Byzantine member on a dev chain).
			worker: Vec<u8>,
			previous: Option<PreviousRound>,
		},
		/// Judge a federated round (queued; repeat to poll): fetch the members' updates, exclude
		/// outliers, aggregate the rest and store the aggregate's model file.
		FederatedAggregate {
			federation: JobId,
			round: u8,
			spec: TrainingSpec,
			federated: FederationSpec,
			updates: Vec<UpdateSource>,
		},
	}

	/// Where a member's update is: its hash and its engine's address on chain.
	#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
	pub struct UpdateSource {
		pub index: u8,
		pub update: H256,
		pub engine: Option<Vec<u8>>,
	}

	/// The round before: its agreed aggregate and the updates that made it.
	#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
	pub struct PreviousRound {
		pub aggregate: H256,
		pub kept: Vec<UpdateSource>,
	}

	/// Where a queued task is.
	#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
	pub enum TaskStatus {
		Queued,
		Running,
		/// Training finished: the stored model's content hash and its held-out metrics.
		Trained {
			model_hash: H256,
			metrics: QuantisedMetrics,
			/// The commitment to the run's checkpoints (served by the engine by its root).
			commitment: TrainingCommitment,
		},
		/// Verification finished: whether the published result holds, and why not.
		Verified {
			accept: bool,
			reason: Vec<u8>,
		},
		/// A federated member's update is stored under this hash.
		Updated {
			update: H256,
		},
		/// A federated round's judgement and the aggregate's held-out metrics.
		Aggregated {
			verdict: RoundVerdict,
			metrics: QuantisedMetrics,
		},
		/// The task cannot complete (bad spec, unknown dataset, ...).
		Failed(Vec<u8>),
	}

	/// The engine's answer.
	#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
	pub enum EngineResponse {
		/// The chosen node and every candidate's score (selection probability).
		Selected {
			node_id: NodeId,
			scores: Vec<(NodeId, Perbill)>,
		},
		/// No candidate was given.
		NoCandidate,
		Task(TaskStatus),
		PendingOutcomes(Vec<JobId>),
		Ack,
		/// The request could not be decoded or served.
		Error(Vec<u8>),
	}
}
