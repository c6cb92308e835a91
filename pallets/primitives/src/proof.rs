//! The proof of learning that a training result carries: the provider's commitment to its
//! checkpoint chain, and the schedule of that chain, which the chain and the engine compute the
//! same way from the job's spec and its dataset's size.
//!
//! A run of `steps` optimiser steps is cut into at most [`SEGMENTS`] segments of `interval`
//! steps; a checkpoint (weights and optimiser state) is taken at the start of every segment and
//! at the end, and the commitment is the Merkle root over the checkpoints' blake2-256 hashes.
//! After the result is on chain, randomness the provider could not know when it committed picks
//! the segment each verifier replays.

use super::*;

/// At most this many segments per run: one segment's replay costs at most 1/16 of training.
pub const SEGMENTS: u32 = 16;
/// Rows per optimiser step.
pub const BATCH_SIZE: u32 = 64;

/// A provider's commitment to its training run.
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
pub struct TrainingCommitment {
	/// Merkle root over the blake2-256 hashes of the checkpoints, in order (an odd node is
	/// carried up unchanged).
	pub root: H256,
	/// Steps per segment.
	pub interval: u32,
	/// Optimiser steps of the whole run.
	pub steps: u32,
	/// Checkpoints committed to: segments + 1.
	pub checkpoints: u32,
}

impl TrainingCommitment {
	/// The commitment to `root` of a run of `steps` steps, on the schedule every run follows.
	pub fn scheduled(root: H256, steps: u32) -> Self {
		let (interval, checkpoints) = schedule(steps);
		Self { root, interval, steps, checkpoints }
	}

	/// Segments a verifier may be challenged on.
	pub fn segments(&self) -> u32 {
		self.checkpoints.saturating_sub(1)
	}

	/// Whether the commitment's schedule is the one the spec fixes for a run of `steps`.
	pub fn follows_schedule(&self, steps: u32) -> bool {
		*self == Self::scheduled(self.root, steps)
	}
}

/// Training rows of a dataset of `rows` rows: the last fifth (at least one row) is held out.
pub fn training_rows(rows: u32) -> u32 {
	rows.saturating_sub((rows / 5).max(1))
}

/// Optimiser steps of `epochs` epochs over a dataset of `rows` rows (batches of
/// [`BATCH_SIZE`], the last one partial).
pub fn training_steps(rows: u32, epochs: u32) -> u32 {
	training_rows(rows).div_ceil(BATCH_SIZE).saturating_mul(epochs)
}

/// `(interval, checkpoints)` of a run of `steps` steps.
pub fn schedule(steps: u32) -> (u32, u32) {
	let interval = steps.div_ceil(SEGMENTS).max(1);
	(interval, steps.div_ceil(interval).saturating_add(1))
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn schedules_cover_the_run_in_at_most_sixteen_segments() {
		for steps in [1u32, 15, 16, 17, 38, 380, 760, 1_000_000] {
			let (interval, checkpoints) = schedule(steps);
			let segments = checkpoints - 1;
			assert!((1..=SEGMENTS).contains(&segments), "{steps}: {segments}");
			assert!(interval * segments >= steps && interval * (segments - 1) < steps);
		}
		// The credit-scoring dataset: 3,000 rows, 2,400 for training, 38 batches per epoch.
		assert_eq!(training_steps(3_000, 10), 380);
		let commitment =
			TrainingCommitment { root: H256::zero(), interval: 24, steps: 380, checkpoints: 17 };
		assert!(commitment.follows_schedule(380));
		assert!(!TrainingCommitment { steps: 190, ..commitment }.follows_schedule(380));
		assert!(!TrainingCommitment { interval: 380, checkpoints: 2, ..commitment }
			.follows_schedule(380));
	}
}
