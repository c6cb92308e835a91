use super::*;
use crate::{
	dataset::images::{self, shapes_csv},
	model::Arithmetic,
	proof::{replay_segment, verify_final_with, Opening, Replay, Schedule, SegmentVerdict},
};
use aicchain_primitives::ModelKind;
use sp_core::H256;

fn spec(seed: u64, epochs: u32) -> TrainingSpec {
	TrainingSpec {
		dataset: H256::repeat_byte(1),
		model: ModelKind::CnnClassifier,
		hidden_units: 16,
		hidden_layers: 2,
		learning_rate_millionths: 10_000,
		epochs,
		seed,
		min_score: Default::default(),
		parent: None,
	}
}

fn shapes() -> Dataset {
	Dataset::from_csv(&shapes_csv()).expect("parses")
}

/// The chain bounds a CNN's size and work with its own count: it must be the model's.
#[test]
fn the_chains_parameter_count_is_the_models() {
	for (units, layers, side) in [(8u32, 2u8, 16usize), (64, 3, 64), (1, 1, 2)] {
		let spec = TrainingSpec { hidden_units: units, hidden_layers: layers, ..spec(1, 1) };
		let shape = CnnShape::of(&spec, side * side).expect("shape");
		let columns = (side * side + 1) as u32;
		assert_eq!(limits::parameters(&spec, columns), shape.parameters() as u128, "{shape:?}");
	}
	// Not a square, or too small for the blocks' pooling: no shape (the chain refuses it too).
	assert!(CnnShape::of(&spec(1, 1), 255).is_err());
	assert!(CnnShape::of(&TrainingSpec { hidden_layers: 3, ..spec(1, 1) }, 49).is_err());
	assert!(CnnShape::of(&TrainingSpec { hidden_layers: 3, ..spec(1, 1) }, 64).is_ok());
}

/// On the shipped image set the CNN learns far above chance (1 in 6) and above what the
/// majority class alone scores, and the same seed gives the same model.
#[test]
fn the_cnn_learns_the_shapes_and_is_reproducible() {
	let (data, cpu) = (shapes(), Device::Cpu);
	let run = train(&spec(1, 10), &data, &cpu).expect("trains");
	let accuracy = f64::from(run.metrics.score.deconstruct()) / 1e9;
	let held_out = &data.split().1;
	let majority = (0..images::SHAPES)
		.map(|c| held_out.targets.iter().filter(|t| **t as usize == c).count())
		.max()
		.unwrap_or_default() as f64
		/ held_out.rows() as f64;
	eprintln!(
		"held-out accuracy {accuracy:.3} (majority class {majority:.3}), losses {:?}",
		run.epoch_losses
	);
	assert!(accuracy > 0.8, "accuracy {accuracy}");
	assert!(accuracy > majority + 0.5);
	assert_eq!(run.metrics.eval_samples, 600);
	assert!(run.epoch_losses.first() > run.epoch_losses.last(), "{:?}", run.epoch_losses);
	let (once, again) = (train(&spec(1, 1), &data, &cpu), train(&spec(1, 1), &data, &cpu));
	assert_eq!(once.expect("trains").hash, again.expect("trains").hash);
	let other = train(&spec(2, 1), &data, &cpu).expect("trains");
	assert_ne!(other.hash, run.hash);
}

/// The CNN's run is checked like any other: honest segments replay, the last checkpoint is
/// the model, another seed's run is rejected.
#[test]
fn an_honest_cnn_run_replays_and_a_forged_one_does_not() {
	let (data, cpu) = (shapes(), Device::Cpu);
	let run = train(&spec(1, 1), &data, &cpu).expect("trains");
	let replay = CnnReplay::new(&spec(1, 1), &data, &cpu).expect("replay");
	assert_eq!(replay.total_steps(), 38);
	let segments = Schedule::of(&run.proof.commitment).segments();
	let open = |proof: &crate::proof::TrainingProof, i: u32| {
		let (checkpoint, p) = proof.opening(i).expect("opening");
		let (next, q) = proof.opening(i + 1).expect("opening");
		let opening = Opening { checkpoint, proof: &p, next, next_proof: &q };
		replay_segment(&replay, &proof.commitment, i, opening, Arithmetic::Canonical)
			.expect("replays")
	};
	for i in 0..segments {
		assert!(matches!(open(&run.proof, i), SegmentVerdict::Accepted(_)), "segment {i}");
	}
	let (last, last_proof) = run.proof.opening(segments).expect("last");
	let commitment = &run.proof.commitment;
	assert_eq!(
		verify_final_with(&replay, commitment, last, &last_proof, &run.bytes).expect("checks"),
		Ok(())
	);
	assert_eq!(replay.evaluate_bytes(&run.bytes).expect("evaluates"), run.metrics);
	let other = train(&spec(2, 1), &data, &cpu).expect("trains");
	assert!(matches!(open(&other.proof, 0), SegmentVerdict::Rejected(_)));
	assert!(verify_final_with(&replay, commitment, last, &last_proof, &other.bytes)
		.expect("checks")
		.is_err());
}

#[test]
fn images_that_do_not_suit_are_errors() {
	let cpu = Device::Cpu;
	// Labels outside the classes, or not whole numbers.
	for label in ["10", "-1", "0.5"] {
		let csv = format!("a,b,c,d,label\n{}", format!("0.1,0.2,0.3,0.4,{label}\n").repeat(12));
		let table = Dataset::from_csv(csv.as_bytes()).expect("parses");
		let spec = TrainingSpec { hidden_layers: 1, ..spec(1, 1) };
		assert!(matches!(CnnReplay::new(&spec, &table, &cpu), Err(EngineError::BadDataset(_))));
	}
	// Five pixels are not a square image.
	let csv = format!("a,b,c,d,e,label\n{}", "0,0,0,0,0,1\n".repeat(12));
	let table = Dataset::from_csv(csv.as_bytes()).expect("parses");
	assert!(matches!(CnnReplay::new(&spec(1, 1), &table, &cpu), Err(EngineError::InvalidSpec(_))));
	// A model file of another shape is refused by evaluation, not mistaken for this one.
	let replay = CnnReplay::new(&spec(1, 1), &shapes(), &cpu).expect("replay");
	let wrong = CnnReplay::new(&TrainingSpec { hidden_units: 4, ..spec(1, 1) }, &shapes(), &cpu)
		.expect("replay");
	let state = wrong.initial_state().expect("state");
	let bytes = wrong.model_bytes(&state).expect("bytes");
	assert!(matches!(replay.evaluate_bytes(&bytes), Err(EngineError::BadModel(_))));
}
