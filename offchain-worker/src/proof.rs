//! Verified training: a sampled, checkpointed proof of learning (in the spirit of Jia et al.,
//! "Proof-of-Learning", 2021, and of refereed re-execution).
//!
//! Re-evaluating a model's bytes proves that its metrics match the bytes, not that training
//! happened. Here the prover also commits to its run:
//!
//! 1. **Canonical training** ([`crate::model::Trainer`]): the state (weights, AdamW moments,
//!    step) is explicit and the batch of any step follows from the seed and the step alone, so
//!    any stretch of the run can be replayed from the checkpoint that starts it.
//! 2. **Commitment**: the run of `steps` steps is cut into at most [`SEGMENTS`] segments of
//!    `interval = ceil(steps / SEGMENTS)` steps; checkpoint `i` is the state at step
//!    `min(i × interval, steps)` (checkpoint 0 is the initial state, the last the final one),
//!    encoded as canonical safetensors ([`encode_checkpoint`]). The leaves are the blake2-256
//!    hashes of the checkpoints and [`Commitment::root`] their binary Merkle root
//!    ([`merkle_root`]).
//! 3. **Challenge**: a 32-byte seed, unknown to the prover when it committed, picks a segment
//!    for each verifier ([`challenged_segment`]) and held-out rows ([`challenged_rows`]). The
//!    prover opens the segment's two checkpoints with their Merkle proofs; the verifier
//!    replays the segment ([`verify_segment`]) and accepts when it lands within [`tolerance`]
//!    of the claimed end: relative L2 distances per layer ([`Distance`]), of the bulk of the
//!    coordinates and of all of them, against [`TOLERANCE`] and [`OUTLIER_TOLERANCE`] scaled
//!    with the learning rate. It also checks that the last checkpoint is the published model
//!    ([`verify_final`]) and the claimed metrics on the challenged rows ([`check_metrics`]).
//!
//! A verifier re-executes one segment (about 1/16 of the training) instead of all of it. A
//! prover who fabricated `f` of the `n` segments escapes `v` independent verifiers with
//! probability about `(1 - f/n)^v`.

use crate::{
	model::{param_names, Arithmetic, TrainState, Trainer},
	EngineError,
};
use aicchain_primitives::{TrainingCommitment, TrainingSpec};
use candle_core::{Device, Tensor};

pub mod adversary;
mod challenge;
mod checkpoint;
mod merkle;
#[cfg(test)]
mod relay_tests;
#[cfg(test)]
mod schedule_tests;
#[cfg(test)]
mod tests;

pub use challenge::{
	challenged_rows, challenged_segment, check_metrics, evaluate_rows, MetricsCheck, METRICS_Z,
};
pub use checkpoint::{decode_checkpoint, decode_checkpoint_shapes, encode_checkpoint};
pub use merkle::{merkle_proof, merkle_root, verify_merkle};

/// At most this many segments (so at most `SEGMENTS + 1` checkpoints) per run: the chain's.
pub use aicchain_primitives::proof::SEGMENTS;

/// The largest accepted bulk replay distance ([`Distance::bulk`]) at the reference learning
/// rate [`REFERENCE_LEARNING_RATE`], i.e. 0.1·lr; other rates scale it ([`tolerance`]).
///
/// Measured by `cargo bench -p aicchain-worker --bench proof` (credit classifier and energy
/// regressor, 2×32, and variants: 1 to 30 epochs, lr 5e-5 to 5e-2, 2×96; CPU). Honest replays
/// on other kernel paths (1 thread instead of 2, the batch's gradients summed in two halves,
/// gemm-free broadcast matmuls, f64) typically land within 3e-7 of the claimed checkpoint
/// (1 thread: bit for bit). Rarely (about 1 segment in 300) a discrete event, a nearly dead
/// ReLU unit switching on for one sample while its Adam moments are still zero, moves that
/// unit's weights by a good fraction of a step: up to 0.1·lr in the full distance but at most
/// 0.026·lr in the bulk, since it moves a few units and not the layer. Cheats move most
/// coordinates by 0.1–2·lr: their bulk distance was never below 0.44·lr (an interpolated
/// checkpoint in a 1-epoch run with 3-step segments). 0.1·lr sits about 4× from both worst
/// cases, and 4 to 5 orders of magnitude above typical honest noise.
pub const TOLERANCE: f64 = 5e-4;
/// The largest accepted full replay distance ([`Distance::full`]) at the reference learning
/// rate: 0.5·lr, 5× the largest honest event measured. It bounds what a prover could change
/// in the few coordinates the bulk leaves out.
pub const OUTLIER_TOLERANCE: f64 = 2.5e-3;
/// The learning rate at which [`TOLERANCE`] and [`OUTLIER_TOLERANCE`] apply: the default
/// job's.
pub const REFERENCE_LEARNING_RATE: f64 = 0.005;
/// The tolerances scale with `lr / REFERENCE_LEARNING_RATE`, clamped to
/// `[MIN_SCALE, MAX_SCALE]` (lr 2e-5 to 0.05): below, the bulk tolerance would near the f32
/// rounding floor of a replay (about 3e-7; at least 2e-6 is kept), and training moves the
/// weights too little per segment to tell from noise; above, cheats land 0.1 and more away.
pub const MIN_SCALE: f64 = 1.0 / 250.0;
pub const MAX_SCALE: f64 = 10.0;

/// How far a replay may land from the claimed checkpoint.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerance {
	pub bulk: f64,
	pub full: f64,
}

/// The tolerances for a run at `learning_rate` (see [`TOLERANCE`]).
pub fn tolerance(learning_rate: f64) -> Tolerance {
	let scale = learning_rate / REFERENCE_LEARNING_RATE;
	let scale = if scale.is_nan() { MIN_SCALE } else { scale.clamp(MIN_SCALE, MAX_SCALE) };
	Tolerance { bulk: TOLERANCE * scale, full: OUTLIER_TOLERANCE * scale }
}

/// How far a replayed state is from the claimed one, each as the maximum over layers (a
/// layer's weight and bias together) of a relative L2 distance `‖dev‖₂ / (‖claimed‖₂ + 1e-12)`.
/// NaN when a value is not finite (NaN is never within a tolerance); infinite when the states
/// do not have the same tensors.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Distance {
	/// The whole deviation of the parameters.
	pub full: f64,
	/// The deviation of the parameters without each layer's largest eighth of coordinates.
	pub bulk: f64,
	/// `full` of AdamW's two moments (reported, not judged).
	pub moments: f64,
}

impl Distance {
	pub fn within(&self, tolerance: &Tolerance) -> bool {
		self.bulk <= tolerance.bulk && self.full <= tolerance.full
	}
}

/// Where the checkpoints of a run of `steps` steps are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
	pub steps: u32,
	/// Steps per segment: `ceil(steps / SEGMENTS)`, at least 1.
	pub interval: u32,
	/// Number of checkpoints: segments + 1.
	pub checkpoints: u32,
}

impl Schedule {
	/// The schedule `commitment` claims.
	pub fn of(commitment: &Commitment) -> Self {
		Self {
			steps: commitment.steps,
			interval: commitment.interval,
			checkpoints: commitment.checkpoints,
		}
	}

	/// The schedule the chain expects of a run of `steps` steps
	/// ([`aicchain_primitives::proof::schedule`]).
	pub fn new(steps: u32) -> Self {
		let (interval, checkpoints) = aicchain_primitives::proof::schedule(steps);
		Self { steps, interval, checkpoints }
	}

	pub fn segments(&self) -> u32 {
		self.checkpoints.saturating_sub(1)
	}

	/// The step of checkpoint `index`.
	pub fn step_of(&self, index: u32) -> u32 {
		index.saturating_mul(self.interval).min(self.steps)
	}
}

/// What a prover publishes about its run, next to the model hash: the chain's
/// [`TrainingCommitment`] (Merkle root of the checkpoint hashes and the schedule).
pub type Commitment = TrainingCommitment;

/// A prover's record of its run: the checkpoints, their hashes and the commitment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrainingProof {
	pub commitment: Commitment,
	pub checkpoints: Vec<Vec<u8>>,
	pub leaves: Vec<[u8; 32]>,
}

impl TrainingProof {
	/// Commits to `checkpoints`, taken on `schedule`.
	pub fn new(schedule: Schedule, checkpoints: Vec<Vec<u8>>) -> Self {
		let leaves: Vec<[u8; 32]> =
			checkpoints.iter().map(|c| crate::dataset::blake2_256(c)).collect();
		let commitment = Commitment {
			root: sp_core::H256(merkle_root(&leaves)),
			interval: schedule.interval,
			steps: schedule.steps,
			checkpoints: schedule.checkpoints,
		};
		Self { commitment, checkpoints, leaves }
	}

	/// Checkpoint `index` and its Merkle proof.
	pub fn opening(&self, index: u32) -> Option<(&[u8], Vec<[u8; 32]>)> {
		let i = usize::try_from(index).ok()?;
		Some((self.checkpoints.get(i)?.as_slice(), merkle_proof(&self.leaves, i)?))
	}
}

/// Why a proof was refused.
#[derive(Clone, Debug, PartialEq)]
pub enum Rejection {
	/// The commitment is not this spec's schedule (or the segment is not in it).
	Schedule(String),
	/// A checkpoint is not the committed leaf at its index.
	Opening { index: u32 },
	/// A checkpoint does not decode to a state of this spec's model.
	Malformed { index: u32, why: String },
	/// A checkpoint's step is not its index's.
	Step { index: u32, found: u32, expected: u32 },
	/// Checkpoint 0 is not the spec's initial state.
	NotInitial,
	/// The replayed segment ended too far from the claimed checkpoint.
	Diverged(Distance),
	/// The last checkpoint is not the published model.
	NotTheModel,
}

/// The outcome of replaying one segment.
#[derive(Clone, Debug, PartialEq)]
pub enum SegmentVerdict {
	Accepted(Distance),
	Rejected(Rejection),
}

impl SegmentVerdict {
	pub fn accepted(&self) -> bool {
		matches!(self, Self::Accepted(_))
	}

	/// The replay distance, when the segment got as far as a replay.
	pub fn distance(&self) -> Option<Distance> {
		match self {
			Self::Accepted(distance) | Self::Rejected(Rejection::Diverged(distance)) => {
				Some(*distance)
			},
			Self::Rejected(_) => None,
		}
	}
}

/// A training run the proof of learning can check: its schedule, its start, a stretch of it,
/// and the model file of a state. The tabular [`Trainer`] and the models trained by autograd
/// ([`crate::autograd::AutogradReplay`]: the language model, the CNN).
pub trait Replay {
	fn total_steps(&self) -> u32;
	fn learning_rate(&self) -> f64;
	fn device(&self) -> &Device;
	/// Shapes of the parameters (and of each moment), in the state's order.
	fn param_shapes(&self) -> Vec<Vec<usize>>;
	fn initial_state(&self) -> Result<TrainState, EngineError>;
	/// Trains `state` up to step `until`; each step's loss.
	fn run(
		&self,
		state: &mut TrainState,
		until: u32,
		arithmetic: Arithmetic,
	) -> Result<Vec<f32>, EngineError>;
	fn model_bytes(&self, state: &TrainState) -> Result<Vec<u8>, EngineError>;
}

impl Replay for Trainer {
	fn total_steps(&self) -> u32 {
		Trainer::total_steps(self)
	}
	fn learning_rate(&self) -> f64 {
		Trainer::learning_rate(self)
	}
	fn device(&self) -> &Device {
		Trainer::device(self)
	}
	fn param_shapes(&self) -> Vec<Vec<usize>> {
		checkpoint::mlp_shapes(self.layer_sizes())
	}
	fn initial_state(&self) -> Result<TrainState, EngineError> {
		Trainer::initial_state(self)
	}
	fn run(
		&self,
		state: &mut TrainState,
		until: u32,
		arithmetic: Arithmetic,
	) -> Result<Vec<f32>, EngineError> {
		Trainer::run(self, state, until, arithmetic)
	}
	fn model_bytes(&self, state: &TrainState) -> Result<Vec<u8>, EngineError> {
		Trainer::model_bytes(self, state)
	}
}

/// Checks that `commitment` is the schedule `trainer` runs.
fn check_schedule(
	trainer: &(impl Replay + ?Sized),
	commitment: &Commitment,
) -> Result<Schedule, Rejection> {
	let expected = Schedule::new(trainer.total_steps());
	if Schedule::of(commitment) != expected {
		return Err(Rejection::Schedule(format!(
			"committed {} steps / interval {} / {} checkpoints, the spec runs {} / {} / {}",
			commitment.steps,
			commitment.interval,
			commitment.checkpoints,
			expected.steps,
			expected.interval,
			expected.checkpoints
		)));
	}
	Ok(expected)
}

/// Checks checkpoint `index` against the root and decodes it.
fn open(
	trainer: &(impl Replay + ?Sized),
	commitment: &Commitment,
	index: u32,
	bytes: &[u8],
	proof: &[[u8; 32]],
) -> Result<TrainState, Rejection> {
	let leaf = crate::dataset::blake2_256(bytes);
	if !verify_merkle(&commitment.root.0, &leaf, index, commitment.checkpoints, proof) {
		return Err(Rejection::Opening { index });
	}
	let state = decode_checkpoint_shapes(bytes, &trainer.param_shapes(), trainer.device())
		.map_err(|why| Rejection::Malformed { index, why })?;
	let expected = Schedule::of(commitment).step_of(index);
	if state.step != expected {
		return Err(Rejection::Step { index, found: state.step, expected });
	}
	Ok(state)
}

/// Replays segment `index` (checkpoint `index` to `index + 1`) of a committed run and compares
/// its end with the claimed checkpoint ([`state_distance`] against [`tolerance`] of the
/// spec's learning rate). Bad openings, malformed checkpoints and divergent
/// replays are `Ok(Rejected(…))`; `Err` is kept for the verifier's own failures (a spec it
/// cannot train, a dataset that does not suit it).
#[allow(clippy::too_many_arguments)]
pub fn verify_segment(
	spec: &TrainingSpec,
	data: &crate::dataset::Dataset,
	commitment: &Commitment,
	index: u32,
	checkpoint: &[u8],
	proof: &[[u8; 32]],
	next: &[u8],
	next_proof: &[[u8; 32]],
	device: &Device,
) -> Result<SegmentVerdict, EngineError> {
	let opening = Opening { checkpoint, proof, next, next_proof };
	verify_segment_from(spec, data, None, commitment, index, opening, device)
}

/// [`verify_segment`] of a relay-training run, whose step 0 holds the layers of `start` (the
/// parent's model file).
pub fn verify_segment_from(
	spec: &TrainingSpec,
	data: &crate::dataset::Dataset,
	start: Option<&[u8]>,
	commitment: &Commitment,
	index: u32,
	opening: Opening<'_>,
	device: &Device,
) -> Result<SegmentVerdict, EngineError> {
	let trainer = Trainer::new(spec, data, device)?.starting_from(start)?;
	replay_segment(&trainer, commitment, index, opening, Arithmetic::Canonical)
}

/// The two checkpoints of a segment with their Merkle proofs.
#[derive(Clone, Copy, Debug)]
pub struct Opening<'a> {
	pub checkpoint: &'a [u8],
	pub proof: &'a [[u8; 32]],
	pub next: &'a [u8],
	pub next_proof: &'a [[u8; 32]],
}

/// [`verify_segment`] with a prepared trainer and a choice of arithmetic (the benchmarks
/// replay on other kernel paths with it).
pub fn replay_segment(
	trainer: &(impl Replay + ?Sized),
	commitment: &Commitment,
	index: u32,
	opening: Opening<'_>,
	arithmetic: Arithmetic,
) -> Result<SegmentVerdict, EngineError> {
	let schedule = match check_schedule(trainer, commitment) {
		Ok(schedule) => schedule,
		Err(rejection) => return Ok(SegmentVerdict::Rejected(rejection)),
	};
	if index >= schedule.segments() {
		return Ok(SegmentVerdict::Rejected(Rejection::Schedule(format!(
			"segment {index} of {}",
			schedule.segments()
		))));
	}
	let start = match open(trainer, commitment, index, opening.checkpoint, opening.proof) {
		Ok(state) => state,
		Err(rejection) => return Ok(SegmentVerdict::Rejected(rejection)),
	};
	let claimed = match open(trainer, commitment, index + 1, opening.next, opening.next_proof) {
		Ok(state) => state,
		Err(rejection) => return Ok(SegmentVerdict::Rejected(rejection)),
	};
	if index == 0 && encode_checkpoint(&trainer.initial_state()?)? != opening.checkpoint {
		return Ok(SegmentVerdict::Rejected(Rejection::NotInitial));
	}
	let mut replayed = start;
	trainer.run(&mut replayed, claimed.step, arithmetic)?;
	let distance = state_distance(&replayed, &claimed)?;
	// NaN compares false: a non-finite replay is a rejection.
	Ok(if distance.within(&tolerance(trainer.learning_rate())) {
		SegmentVerdict::Accepted(distance)
	} else {
		SegmentVerdict::Rejected(Rejection::Diverged(distance))
	})
}

/// Checks that the committed last checkpoint is the published model: `model_bytes` must be
/// exactly the model file of its weights with the spec's input standardisation.
#[allow(clippy::too_many_arguments)]
pub fn verify_final(
	spec: &TrainingSpec,
	data: &crate::dataset::Dataset,
	commitment: &Commitment,
	last: &[u8],
	last_proof: &[[u8; 32]],
	model_bytes: &[u8],
	device: &Device,
) -> Result<Result<(), Rejection>, EngineError> {
	let trainer = Trainer::new(spec, data, device)?;
	verify_final_with(&trainer, commitment, last, last_proof, model_bytes)
}

/// [`verify_final`] for any replayable training (the language model's too).
pub fn verify_final_with(
	trainer: &(impl Replay + ?Sized),
	commitment: &Commitment,
	last: &[u8],
	last_proof: &[[u8; 32]],
	model_bytes: &[u8],
) -> Result<Result<(), Rejection>, EngineError> {
	let schedule = match check_schedule(trainer, commitment) {
		Ok(schedule) => schedule,
		Err(rejection) => return Ok(Err(rejection)),
	};
	let state = match open(trainer, commitment, schedule.segments(), last, last_proof) {
		Ok(state) => state,
		Err(rejection) => return Ok(Err(rejection)),
	};
	Ok(if trainer.model_bytes(&state)? == model_bytes {
		Ok(())
	} else {
		Err(Rejection::NotTheModel)
	})
}

/// The [`Distance`] of state `a` from the claimed state `b`.
pub fn state_distance(a: &TrainState, b: &TrainState) -> Result<Distance, EngineError> {
	let (full, bulk) = layer_distances(&a.params, &b.params)?;
	let moments = nan_max(layer_distances(&a.m, &b.m)?.0, layer_distances(&a.v, &b.v)?.0);
	Ok(Distance { full, bulk, moments })
}

fn nan_max(a: f64, b: f64) -> f64 {
	// `f64::max` would drop a NaN.
	if a.is_nan() || b.is_nan() {
		f64::NAN
	} else {
		a.max(b)
	}
}

/// `(full, bulk)` over layers of `[w0, b0, w1, b1, …]`.
fn layer_distances(a: &[Tensor], b: &[Tensor]) -> Result<(f64, f64), EngineError> {
	if a.len() != b.len() || !a.len().is_multiple_of(2) {
		return Ok((f64::INFINITY, f64::INFINITY));
	}
	let (mut full, mut bulk) = (0f64, 0f64);
	for (x_layer, y_layer) in a.chunks(2).zip(b.chunks(2)) {
		let mut squares = Vec::new();
		let mut norm = 0f64;
		for (x, y) in x_layer.iter().zip(y_layer) {
			if x.dims() != y.dims() {
				return Ok((f64::INFINITY, f64::INFINITY));
			}
			let x: Vec<f32> = x.flatten_all()?.to_vec1()?;
			let y: Vec<f32> = y.flatten_all()?.to_vec1()?;
			for (p, q) in x.iter().zip(&y) {
				squares.push((f64::from(*p) - f64::from(*q)).powi(2));
				norm += f64::from(*q).powi(2);
			}
		}
		if squares.iter().any(|s| !s.is_finite()) || !norm.is_finite() {
			return Ok((f64::NAN, f64::NAN));
		}
		let denominator = norm.sqrt() + 1e-12;
		full = nan_max(full, squares.iter().sum::<f64>().sqrt() / denominator);
		squares.sort_by(f64::total_cmp);
		let kept = squares.len() - squares.len() / 8;
		let bulk_sum: f64 = squares.iter().take(kept).sum();
		bulk = nan_max(bulk, bulk_sum.sqrt() / denominator);
	}
	Ok((full, bulk))
}

/// The names of a state's tensors in a checkpoint: parameters, then `adam.m.*`, `adam.v.*`.
pub(crate) fn state_names(layers: usize) -> (Vec<String>, Vec<String>, Vec<String>) {
	let params = param_names(layers);
	let m = params.iter().map(|n| format!("adam.m.{n}")).collect();
	let v = params.iter().map(|n| format!("adam.v.{n}")).collect();
	(params, m, v)
}
