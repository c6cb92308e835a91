//! Relay training: a run continues its parent's layers, and a run that claims a parent but
//! started from its seed is caught on the segment that opens at step 0.

use super::*;
use crate::{
	dataset::{blake2_256, credit_scoring_csv, Dataset},
	model,
};
use aicchain_primitives::ModelKind;
use sp_core::H256;

const CPU: Device = Device::Cpu;

fn spec(seed: u64, epochs: u32) -> TrainingSpec {
	TrainingSpec {
		dataset: H256(blake2_256(&credit_scoring_csv())),
		model: ModelKind::MlpClassifier,
		hidden_units: 16,
		hidden_layers: 2,
		learning_rate_millionths: 5_000,
		epochs,
		seed,
		min_score: Default::default(),
		parent: None,
	}
}

/// Segment `i` of `proof`, opened honestly, verified as a run starting from `start`.
fn verify_from(
	spec: &TrainingSpec,
	data: &Dataset,
	start: Option<&[u8]>,
	proof: &TrainingProof,
	i: u32,
) -> SegmentVerdict {
	let (checkpoint, p) = proof.opening(i).unwrap();
	let (next, q) = proof.opening(i + 1).unwrap();
	let opening = Opening { checkpoint, proof: &p, next, next_proof: &q };
	verify_segment_from(spec, data, start, &proof.commitment, i, opening, &CPU).unwrap()
}

#[test]
fn a_relayed_run_starts_from_its_parents_layers_and_is_verified_from_them() {
	let data = Dataset::from_csv(&credit_scoring_csv()).unwrap();
	let parent = model::train(&spec(1, 2), &data, &CPU).unwrap();
	let child_spec = TrainingSpec { parent: Some(0), ..spec(2, 1) };
	let child = model::train_from(&child_spec, &data, Some(&parent.bytes), &CPU).unwrap();

	// Step 0 of the child holds the parent's layers (and zero moments).
	let trainer = Trainer::new(&child_spec, &data, &CPU).unwrap();
	let sizes = trainer.layer_sizes().to_vec();
	let first = decode_checkpoint(&child.proof.checkpoints[0], &sizes, &CPU).unwrap();
	let parent_layers = candle_core::safetensors::load_buffer(&parent.bytes, &CPU).unwrap();
	for (name, tensor) in param_names(sizes.len()).iter().zip(&first.params) {
		let theirs = parent_layers[name].flatten_all().unwrap().to_vec1::<f32>().unwrap();
		assert_eq!(tensor.flatten_all().unwrap().to_vec1::<f32>().unwrap(), theirs, "{name}");
	}
	// Continuing a trained model does better than the same short run from the seed.
	let scratch = model::train(&spec(2, 1), &data, &CPU).unwrap();
	assert!(
		child.metrics.loss_millionths < scratch.metrics.loss_millionths,
		"{:?} vs {:?}",
		child.metrics,
		scratch.metrics
	);

	// Verified from the parent, the relayed run's first segment holds.
	let honest = verify_from(&child_spec, &data, Some(&parent.bytes), &child.proof, 0);
	assert!(honest.accepted(), "{honest:?}");
	// Verified as a run from the seed, it is not.
	assert!(!verify_from(&child_spec, &data, None, &child.proof, 0).accepted());
	// A provider that took the payment for continuing the parent but trained from its seed
	// is rejected on that segment.
	let cheat = model::train(&child_spec, &data, &CPU).unwrap();
	assert!(matches!(
		verify_from(&child_spec, &data, Some(&parent.bytes), &cheat.proof, 0),
		SegmentVerdict::Rejected(_)
	));
	// A parent of another shape does not fit.
	let wide = model::train(&TrainingSpec { hidden_units: 32, ..spec(1, 1) }, &data, &CPU).unwrap();
	assert!(model::train_from(&child_spec, &data, Some(&wide.bytes), &CPU).is_err());
	assert!(model::train_from(&child_spec, &data, Some(b"not a model"), &CPU).is_err());
}
