//! Honest runs are accepted on every segment and on other kernel paths; each cheat is rejected.

use super::*;
use crate::{
	dataset::{blake2_256, credit_scoring_csv, energy_load_csv, Dataset},
	model::{self, safetensors_bytes},
};
use aicchain_primitives::{ModelKind, QuantisedMetrics};
use sp_core::H256;
use sp_runtime::Perbill;
use std::collections::HashMap;

const CPU: Device = Device::Cpu;

/// The credit-scoring classifier, 2×32, 4 epochs: 152 steps in 16 segments of 10.
fn credit() -> (TrainingSpec, Dataset) {
	let bytes = credit_scoring_csv();
	let spec = TrainingSpec {
		dataset: H256(blake2_256(&bytes)),
		model: ModelKind::MlpClassifier,
		hidden_units: 32,
		hidden_layers: 2,
		learning_rate_millionths: 5_000,
		epochs: 4,
		seed: 42,
		min_score: Default::default(),
		parent: None,
	};
	(spec, Dataset::from_csv(&bytes).unwrap())
}

/// The energy-load regressor, 2×32, 6 epochs: 150 steps in 15 segments of 10.
fn energy() -> (TrainingSpec, Dataset) {
	let bytes = energy_load_csv();
	let spec = TrainingSpec {
		dataset: H256(blake2_256(&bytes)),
		model: ModelKind::MlpRegressor,
		hidden_units: 32,
		hidden_layers: 2,
		learning_rate_millionths: 10_000,
		epochs: 6,
		seed: 7,
		min_score: Default::default(),
		parent: None,
	};
	(spec, Dataset::from_csv(&bytes).unwrap())
}

fn segments(proof: &TrainingProof) -> u32 {
	Schedule::of(&proof.commitment).segments()
}

/// `verify_segment` on segment `i` of `proof`, opened honestly.
fn verify(spec: &TrainingSpec, data: &Dataset, proof: &TrainingProof, i: u32) -> SegmentVerdict {
	let (a, p) = proof.opening(i).unwrap();
	let (b, q) = proof.opening(i + 1).unwrap();
	verify_segment(spec, data, &proof.commitment, i, a, &p, b, &q, &CPU).unwrap()
}

fn replay_with(
	trainer: &Trainer,
	proof: &TrainingProof,
	i: u32,
	arithmetic: Arithmetic,
) -> SegmentVerdict {
	let (checkpoint, p) = proof.opening(i).unwrap();
	let (next, q) = proof.opening(i + 1).unwrap();
	let opening = Opening { checkpoint, proof: &p, next, next_proof: &q };
	replay_segment(trainer, &proof.commitment, i, opening, arithmetic).unwrap()
}

fn assert_diverged(verdict: &SegmentVerdict, what: &str) {
	assert!(
		matches!(verdict, SegmentVerdict::Rejected(Rejection::Diverged(_))),
		"{what}: {verdict:?}"
	);
}

#[test]
fn schedule_covers_the_run_in_at_most_16_segments() {
	for steps in [1u32, 2, 15, 16, 17, 31, 32, 33, 150, 152, 380, 1_000, u32::MAX] {
		let s = Schedule::new(steps);
		assert_eq!(s.interval, steps.div_ceil(SEGMENTS).max(1), "{steps}");
		assert!((1..=SEGMENTS).contains(&s.segments()), "{steps}: {s:?}");
		assert_eq!(s.step_of(0), 0);
		assert_eq!(s.step_of(s.segments()), steps);
		for i in 0..s.segments() {
			assert!(s.step_of(i) < s.step_of(i + 1));
			assert!(s.step_of(i + 1) - s.step_of(i) <= s.interval);
		}
	}
	assert_eq!(Schedule::new(152).checkpoints, 17);
	assert_eq!(Schedule::new(150), Schedule { steps: 150, interval: 10, checkpoints: 16 });
}

#[test]
fn batches_follow_from_the_seed_and_the_step_alone() {
	let (spec, data) = credit();
	let trainer = Trainer::new(&spec, &data, &CPU).unwrap();
	let per_epoch = trainer.batches_per_epoch() as u32;
	let rows = data.split().0.rows();
	assert_eq!(per_epoch as usize, rows.div_ceil(model::BATCH_SIZE));
	assert_eq!(trainer.total_steps(), spec.epochs * per_epoch);
	for epoch in 0..3 {
		let mut seen: Vec<u32> =
			(0..per_epoch).flat_map(|b| trainer.batch(epoch * per_epoch + b)).collect();
		assert_eq!(trainer.batch(epoch * per_epoch).len(), model::BATCH_SIZE);
		assert_eq!(
			&seen[..model::BATCH_SIZE],
			trainer.epoch_order(u64::from(epoch)).get(..64).unwrap()
		);
		seen.sort_unstable();
		assert_eq!(seen, (0..rows as u32).collect::<Vec<_>>(), "epoch {epoch} is a permutation");
	}
	assert_ne!(trainer.epoch_order(0), trainer.epoch_order(1));
	// Another trainer of the same spec computes the same batch; another seed does not.
	let again = Trainer::new(&spec, &data, &CPU).unwrap();
	assert_eq!(again.batch(100), trainer.batch(100));
	let other = Trainer::new(&TrainingSpec { seed: 43, ..spec }, &data, &CPU).unwrap();
	assert_ne!(other.batch(100), trainer.batch(100));
}

#[test]
fn a_run_commits_to_its_checkpoints_and_resumes_bit_exactly() {
	let (spec, data) = credit();
	let run = model::train(&spec, &data, &CPU).unwrap();
	let trainer = Trainer::new(&spec, &data, &CPU).unwrap();
	let proof = &run.proof;
	let c = proof.commitment;
	assert_eq!((c.steps, c.interval, c.checkpoints), (152, 10, 17));
	assert_eq!(proof.checkpoints.len(), 17);
	assert_eq!(proof.leaves, proof.checkpoints.iter().map(|b| blake2_256(b)).collect::<Vec<_>>());
	assert_eq!(c.root.0, merkle_root(&proof.leaves));
	assert_eq!(proof.checkpoints[0], encode_checkpoint(&trainer.initial_state().unwrap()).unwrap());
	assert_eq!(run.epoch_losses.len(), 4);
	// Resuming from a decoded checkpoint reproduces the next one and the model bit for bit.
	let mut state = decode_checkpoint(&proof.checkpoints[7], trainer.layer_sizes(), &CPU).unwrap();
	assert_eq!(state.step, 70);
	trainer.run(&mut state, 80, Arithmetic::Canonical).unwrap();
	assert_eq!(encode_checkpoint(&state).unwrap(), proof.checkpoints[8]);
	trainer.run(&mut state, 152, Arithmetic::Canonical).unwrap();
	assert_eq!(trainer.model_bytes(&state).unwrap(), run.bytes);
	// Past the schedule, or backwards, is an error.
	assert!(trainer.run(&mut state, 153, Arithmetic::Canonical).is_err());
	assert!(trainer.run(&mut state, 10, Arithmetic::Canonical).is_err());
	// The last checkpoint is the published model, and nothing else is.
	let (last, last_proof) = proof.opening(16).unwrap();
	assert_eq!(
		verify_final(&spec, &data, &c, last, &last_proof, &run.bytes, &CPU).unwrap(),
		Ok(())
	);
	let (before, before_proof) = proof.opening(15).unwrap();
	assert!(verify_final(&spec, &data, &c, before, &before_proof, &run.bytes, &CPU)
		.unwrap()
		.is_err());
	let other = model::train(&TrainingSpec { seed: 43, ..spec.clone() }, &data, &CPU).unwrap();
	assert_eq!(
		verify_final(&spec, &data, &c, last, &last_proof, &other.bytes, &CPU).unwrap(),
		Err(Rejection::NotTheModel)
	);
}

#[test]
fn checkpoints_and_models_are_the_safetensors_crate_layout() {
	let (spec, data) = credit();
	let trainer = Trainer::new(&spec, &data, &CPU).unwrap();
	let mut state = trainer.initial_state().unwrap();
	trainer.run(&mut state, 3, Arithmetic::Canonical).unwrap();
	let (p, m, v) = state_names(3);
	let mut map: HashMap<String, Tensor> = HashMap::new();
	for (names, values) in [(p, &state.params), (m, &state.m), (v, &state.v)] {
		map.extend(names.into_iter().zip(values.iter().cloned()));
	}
	map.insert("step".into(), Tensor::from_slice(&[3u32], 1, &CPU).unwrap());
	let dir = tempfile::tempdir().unwrap();
	let path = dir.path().join("checkpoint.safetensors");
	candle_core::safetensors::save(&map, &path).unwrap();
	assert_eq!(std::fs::read(&path).unwrap(), encode_checkpoint(&state).unwrap());
	let model_path = dir.path().join("model.safetensors");
	let model_map: HashMap<String, Tensor> =
		candle_core::safetensors::load_buffer(&trainer.model_bytes(&state).unwrap(), &CPU).unwrap();
	assert_eq!(model_map.len(), 8);
	candle_core::safetensors::save(&model_map, &model_path).unwrap();
	assert_eq!(std::fs::read(&model_path).unwrap(), trainer.model_bytes(&state).unwrap());
}

#[test]
fn malformed_checkpoints_are_rejected_without_panicking() {
	let (spec, data) = credit();
	let trainer = Trainer::new(&spec, &data, &CPU).unwrap();
	let sizes = trainer.layer_sizes();
	let state = trainer.initial_state().unwrap();
	let good = encode_checkpoint(&state).unwrap();
	assert!(decode_checkpoint(&good, sizes, &CPU).is_ok());
	// Garbage, truncations, every single-byte change of the header.
	assert!(decode_checkpoint(b"", sizes, &CPU).is_err());
	assert!(decode_checkpoint(&[0xff; 64], sizes, &CPU).is_err());
	for cut in (0..good.len()).step_by(97) {
		assert!(decode_checkpoint(&good[..cut], sizes, &CPU).is_err());
	}
	let header = 8 + u64::from_le_bytes(good[..8].try_into().unwrap()) as usize;
	for i in 0..header {
		let mut bad = good.clone();
		bad[i] ^= 0x20;
		assert!(decode_checkpoint(&bad, sizes, &CPU).is_err(), "byte {i}");
	}
	let mut oversized = good.clone();
	oversized.extend(std::iter::repeat_n(0, 1 << 16));
	assert!(decode_checkpoint(&oversized, sizes, &CPU).is_err());
	// Another model's checkpoint, or one of the right shape with bad content.
	let wide =
		Trainer::new(&TrainingSpec { hidden_units: 16, ..spec.clone() }, &data, &CPU).unwrap();
	assert!(decode_checkpoint(&good, wide.layer_sizes(), &CPU).is_err());
	let tensors = |state: &TrainState, extra: Option<(&str, Tensor)>, step: Option<Tensor>| {
		let (p, m, v) = state_names(3);
		let mut all: Vec<(String, Tensor)> = Vec::new();
		for (names, values) in [(p, &state.params), (m, &state.m), (v, &state.v)] {
			all.extend(names.into_iter().zip(values.iter().cloned()));
		}
		all.extend(extra.map(|(n, t)| (n.to_string(), t)));
		all.extend(step.map(|t| ("step".to_string(), t)));
		safetensors_bytes(all).unwrap()
	};
	let step = || Some(Tensor::from_slice(&[0u32], 1, &CPU).unwrap());
	assert_eq!(tensors(&state, None, step()), good);
	let mut nan = state.clone();
	nan.params[2] = (nan.params[2].clone() * f64::NAN).unwrap();
	let mut negative = state.clone();
	negative.v[0] = (negative.v[0].ones_like().unwrap() * -1.0).unwrap();
	let extra = Some(("spare", Tensor::zeros(1, candle_core::DType::F32, &CPU).unwrap()));
	let f32_step = Some(Tensor::zeros(1, candle_core::DType::F32, &CPU).unwrap());
	for (bad, what) in [
		(tensors(&nan, None, step()), "NaN weight"),
		(tensors(&negative, None, step()), "negative second moment"),
		(tensors(&state, extra, step()), "extra tensor"),
		(tensors(&state, None, None), "no step"),
		(tensors(&state, None, f32_step), "f32 step"),
	] {
		assert!(decode_checkpoint(&bad, sizes, &CPU).is_err(), "{what}");
	}
	// Committed garbage opens fine but is a rejection, not an error.
	let run = model::train(&spec, &data, &CPU).unwrap();
	let mut checkpoints = run.proof.checkpoints.clone();
	checkpoints[5] = b"not a checkpoint".to_vec();
	let forged = TrainingProof::new(Schedule::of(&run.proof.commitment), checkpoints);
	assert!(matches!(
		verify(&spec, &data, &forged, 4),
		SegmentVerdict::Rejected(Rejection::Malformed { index: 5, .. })
	));
	assert!(matches!(
		verify(&spec, &data, &forged, 5),
		SegmentVerdict::Rejected(Rejection::Malformed { .. })
	));
}

#[test]
fn openings_and_commitments_that_do_not_match_are_rejected() {
	let (spec, data) = credit();
	let run = model::train(&spec, &data, &CPU).unwrap();
	let c = run.proof.commitment;
	let (a, p) = run.proof.opening(3).unwrap();
	let (b, q) = run.proof.opening(4).unwrap();
	let check = |c: &Commitment, i: u32, a: &[u8], p: &[[u8; 32]], b: &[u8], q: &[[u8; 32]]| {
		verify_segment(&spec, &data, c, i, a, p, b, q, &CPU).unwrap()
	};
	assert!(check(&c, 3, a, &p, b, &q).accepted());
	// Proofs swapped, checkpoints swapped, a tampered sibling, another root.
	assert_eq!(
		check(&c, 3, a, &q, b, &p),
		SegmentVerdict::Rejected(Rejection::Opening { index: 3 })
	);
	assert_eq!(
		check(&c, 3, b, &p, a, &q),
		SegmentVerdict::Rejected(Rejection::Opening { index: 3 })
	);
	let mut bad = q.clone();
	bad[0][0] ^= 1;
	assert_eq!(
		check(&c, 3, a, &p, b, &bad),
		SegmentVerdict::Rejected(Rejection::Opening { index: 4 })
	);
	let other_root = Commitment { root: sp_core::H256([1; 32]), ..c };
	assert!(!check(&other_root, 3, a, &p, b, &q).accepted());
	// A schedule other than the spec's, a segment past the end.
	for wrong in [
		Commitment { steps: c.steps - 1, ..c },
		Commitment { interval: c.interval + 1, ..c },
		Commitment { checkpoints: c.checkpoints - 1, ..c },
	] {
		assert!(matches!(
			check(&wrong, 3, a, &p, b, &q),
			SegmentVerdict::Rejected(Rejection::Schedule(_))
		));
	}
	assert!(matches!(
		check(&c, 16, a, &p, b, &q),
		SegmentVerdict::Rejected(Rejection::Schedule(_))
	));
	// A state committed under another step.
	let trainer = Trainer::new(&spec, &data, &CPU).unwrap();
	let mut checkpoints = run.proof.checkpoints.clone();
	let mut state = decode_checkpoint(&checkpoints[4], trainer.layer_sizes(), &CPU).unwrap();
	state.step += 1;
	checkpoints[4] = encode_checkpoint(&state).unwrap();
	let relabelled = TrainingProof::new(Schedule::of(&c), checkpoints);
	assert_eq!(
		verify(&spec, &data, &relabelled, 3),
		SegmentVerdict::Rejected(Rejection::Step { index: 4, found: 41, expected: 40 })
	);
}

#[test]
fn every_segment_of_an_honest_run_is_accepted() {
	for (spec, data) in [credit(), energy()] {
		let run = model::train(&spec, &data, &CPU).unwrap();
		for i in 0..segments(&run.proof) {
			let verdict = verify(&spec, &data, &run.proof, i);
			// The same kernels replay bit for bit.
			assert_eq!(verdict.distance().map(|d| (d.full, d.moments)), Some((0.0, 0.0)), "{i}");
		}
		let n = segments(&run.proof);
		let (last, proof) = run.proof.opening(n).unwrap();
		let fin = verify_final(&spec, &data, &run.proof.commitment, last, &proof, &run.bytes, &CPU);
		assert_eq!(fin.unwrap(), Ok(()));
	}
}

#[test]
fn honest_replays_on_other_kernel_paths_are_accepted() {
	for (spec, data) in [credit(), energy()] {
		let run = model::train(&spec, &data, &CPU).unwrap();
		let trainer = Trainer::new(&spec, &data, &CPU).unwrap();
		let t = tolerance(trainer.learning_rate());
		for arithmetic in
			[Arithmetic::Autograd, Arithmetic::SplitBatch, Arithmetic::Elementwise, Arithmetic::F64]
		{
			let mut differs = false;
			for i in 0..segments(&run.proof) {
				let verdict = replay_with(&trainer, &run.proof, i, arithmetic);
				let d = verdict.distance().unwrap();
				assert!(verdict.accepted(), "{arithmetic:?} segment {i}: {d:?}");
				assert!(d.bulk < t.bulk / 10.0, "{arithmetic:?} segment {i}: {d:?}");
				differs |= d.full > 0.0;
			}
			// Another kernel path: not the same bits (candle's autograd may round like the
			// fused step where the batch divides exactly).
			assert!(differs || arithmetic == Arithmetic::Autograd, "{arithmetic:?} bit for bit");
		}
	}
}

const CHILD_DIR: &str = "AICCHAIN_PROOF_CHILD_DIR";

/// Trains on the default thread count (here: the machine's cores; candle passes
/// `RAYON_NUM_THREADS` or the core count to gemm), then re-runs this test as a child process
/// with `RAYON_NUM_THREADS=1`, which replays every segment on one thread. The layers are
/// 128 wide so that gemm's 64×128×128 products cross its threading threshold.
#[test]
fn replay_on_one_thread_accepts_a_run_trained_on_the_default_thread_count() {
	let (credit_spec, data) = credit();
	let spec = TrainingSpec { hidden_units: 128, epochs: 2, ..credit_spec };
	let read_u32 = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
	if let Ok(dir) = std::env::var(CHILD_DIR) {
		assert_eq!(candle_core::utils::get_num_threads(), 1);
		let dir = std::path::PathBuf::from(dir);
		let c = std::fs::read(dir.join("commitment")).unwrap();
		let commitment = Commitment {
			root: sp_core::H256(c[..32].try_into().unwrap()),
			interval: read_u32(&c, 32),
			steps: read_u32(&c, 36),
			checkpoints: read_u32(&c, 40),
		};
		let checkpoints = (0..commitment.checkpoints)
			.map(|i| std::fs::read(dir.join(format!("{i}.safetensors"))).unwrap())
			.collect();
		let proof = TrainingProof::new(Schedule::of(&commitment), checkpoints);
		assert_eq!(proof.commitment, commitment);
		for i in 0..segments(&proof) {
			let verdict = verify(&spec, &data, &proof, i);
			assert!(verdict.accepted(), "segment {i} on one thread: {verdict:?}");
		}
		return;
	}
	let run = model::train(&spec, &data, &CPU).unwrap();
	let dir = tempfile::tempdir().unwrap();
	let c = run.proof.commitment;
	let mut bytes = c.root.0.to_vec();
	for v in [c.interval, c.steps, c.checkpoints] {
		bytes.extend(v.to_le_bytes());
	}
	std::fs::write(dir.path().join("commitment"), bytes).unwrap();
	for (i, checkpoint) in run.proof.checkpoints.iter().enumerate() {
		std::fs::write(dir.path().join(format!("{i}.safetensors")), checkpoint).unwrap();
	}
	let output = std::process::Command::new(std::env::current_exe().unwrap())
		.args([
			"--exact",
			"proof::tests::replay_on_one_thread_accepts_a_run_trained_on_the_default_thread_count",
			"--nocapture",
			"--test-threads=1",
		])
		.env(CHILD_DIR, dir.path())
		.env("RAYON_NUM_THREADS", "1")
		.output()
		.unwrap();
	let stdout = String::from_utf8_lossy(&output.stdout);
	let stderr = String::from_utf8_lossy(&output.stderr);
	assert!(output.status.success(), "child failed:\n{stdout}\n{stderr}");
	assert!(stdout.contains("1 passed"), "the child ran no test:\n{stdout}");
}

#[test]
fn cheat_a_fewer_epochs_stretched_or_stalled_is_rejected() {
	for (spec, data) in [credit(), energy()] {
		let honest_schedule =
			Schedule::new(Trainer::new(&spec, &data, &CPU).unwrap().total_steps());
		let stretched = adversary::fewer_epochs(&spec, &data, &CPU, 2).unwrap();
		// The commitment itself is indistinguishable from an honest one.
		assert_eq!(Schedule::of(&stretched.commitment), honest_schedule);
		for i in 0..segments(&stretched) {
			assert_diverged(&verify(&spec, &data, &stretched, i), "stretched");
		}
		let half = segments(&stretched) / 2;
		let stalled = adversary::stalled(&spec, &data, &CPU, half).unwrap();
		for i in 0..segments(&stalled) {
			let verdict = verify(&spec, &data, &stalled, i);
			if i < half {
				assert!(verdict.accepted(), "the honest first half, segment {i}: {verdict:?}");
			} else {
				assert_diverged(&verdict, "stalled");
			}
		}
	}
}

#[test]
fn cheat_b_untrained_or_random_model_is_rejected() {
	let (spec, data) = credit();
	let untrained = adversary::stalled(&spec, &data, &CPU, 0).unwrap();
	for i in 0..segments(&untrained) {
		assert_diverged(&verify(&spec, &data, &untrained, i), "untrained");
	}
	let random = adversary::random_model(&spec, &data, &CPU, 1_234).unwrap();
	assert_eq!(verify(&spec, &data, &random, 0), SegmentVerdict::Rejected(Rejection::NotInitial));
	for i in 1..segments(&random) {
		assert_diverged(&verify(&spec, &data, &random, i), "random");
	}
}

#[test]
fn cheat_c_another_jobs_model_is_rejected() {
	let (spec, data) = energy();
	let copied = adversary::other_job(&spec, &data, &CPU, spec.seed + 1).unwrap();
	assert_eq!(verify(&spec, &data, &copied, 0), SegmentVerdict::Rejected(Rejection::NotInitial));
	// Replayed with this job's batches, the other run's segments do not hold either.
	for i in 1..segments(&copied) {
		assert_diverged(&verify(&spec, &data, &copied, i), "copied");
	}
}

#[test]
fn cheat_d_training_on_held_out_rows_is_rejected() {
	for (spec, data) in [credit(), energy()] {
		let leaked = adversary::held_out_training(&spec, &data, &CPU).unwrap();
		// Segment 0 starts from the honest initial state and still diverges.
		for i in 0..segments(&leaked) {
			assert_diverged(&verify(&spec, &data, &leaked, i), "held-out rows");
		}
	}
}

#[test]
fn cheat_e_a_fabricated_checkpoint_is_rejected_when_its_segments_are_challenged() {
	for (spec, data) in [credit(), energy()] {
		let run = model::train(&spec, &data, &CPU).unwrap();
		let mid = segments(&run.proof) / 2;
		let forged = adversary::interpolated(&spec, &data, &CPU, &run.proof, mid).unwrap();
		for i in 0..segments(&forged) {
			let verdict = verify(&spec, &data, &forged, i);
			if i + 1 == mid || i == mid {
				assert_diverged(&verdict, "interpolated");
			} else {
				assert!(verdict.accepted(), "untouched segment {i}: {verdict:?}");
			}
		}
	}
}

#[test]
fn cheat_f_inflated_metrics_are_rejected_on_challenged_rows() {
	for (spec, data) in [credit(), energy()] {
		let run = model::train(&spec, &data, &CPU).unwrap();
		let held_out = data.split().1.rows();
		let all = challenged_rows(&[3; 32], held_out, usize::MAX);
		let sampled = challenged_rows(&[3; 32], held_out, 256);
		let check = |claimed: &QuantisedMetrics, rows: &[usize]| {
			check_metrics(&run.bytes, &spec, &data, claimed, rows, &CPU).unwrap()
		};
		// Honest claims pass on every row and on a sample.
		assert!(check(&run.metrics, &all).consistent, "{:?}", check(&run.metrics, &all));
		assert!(check(&run.metrics, &sampled).consistent);
		let with_score = |points: u32| QuantisedMetrics {
			score: Perbill::from_parts(
				run.metrics.score.deconstruct().saturating_add(points * 10_000_000),
			),
			..run.metrics
		};
		// +3 points (or 100% when that is less) is caught on every row; +30 points on 256.
		assert!(!check(&with_score(3), &all).consistent, "{:?}", check(&with_score(3), &all));
		if spec.model == ModelKind::MlpClassifier {
			assert!(
				!check(&with_score(30), &sampled).consistent,
				"{:?}",
				check(&with_score(30), &sampled)
			);
		}
		// A loss a fifth lower, or another sample count.
		let lower_loss = QuantisedMetrics {
			loss_millionths: run.metrics.loss_millionths * 4 / 5,
			..run.metrics
		};
		assert!(!check(&lower_loss, &all).consistent);
		let more_samples =
			QuantisedMetrics { eval_samples: run.metrics.eval_samples + 1, ..run.metrics };
		assert!(!check(&more_samples, &all).consistent);
		// On every row, the sampled evaluation is the full one.
		assert_eq!(evaluate_rows(&run.bytes, &spec, &data, &all, &CPU).unwrap(), run.metrics);
		assert!(evaluate_rows(&run.bytes, &spec, &data, &[held_out], &CPU).is_err());
		assert!(evaluate_rows(&run.bytes, &spec, &data, &[usize::MAX], &CPU).is_err());
	}
}

#[test]
fn challenges_are_deterministic_and_cover_every_segment_and_row() {
	let seed = blake2_256(b"block");
	let picks: Vec<u32> =
		(0u32..256).map(|v| challenged_segment(&seed, &v.to_le_bytes(), 16)).collect();
	assert_eq!(
		picks,
		(0u32..256).map(|v| challenged_segment(&seed, &v.to_le_bytes(), 16)).collect::<Vec<_>>()
	);
	assert!(picks.iter().all(|p| *p < 16));
	assert!((0..16).all(|s| picks.contains(&s)), "every segment gets challenged");
	assert_ne!(
		picks,
		(0u32..256).map(|v| challenged_segment(&[0; 32], &v.to_le_bytes(), 16)).collect::<Vec<_>>()
	);
	assert_eq!(challenged_segment(&seed, b"v", 0), 0);
	let rows = challenged_rows(&seed, 600, 100);
	assert_eq!(rows.len(), 100);
	assert!(rows.windows(2).all(|w| w[0] < w[1]) && rows.iter().all(|r| *r < 600));
	assert_eq!(rows, challenged_rows(&seed, 600, 100));
	assert_ne!(rows, challenged_rows(&[0; 32], 600, 100));
	assert_eq!(challenged_rows(&seed, 10, 50), (0..10).collect::<Vec<_>>());
	assert!(challenged_rows(&seed, 600, 0).is_empty() && challenged_rows(&seed, 0, 5).is_empty());
}

#[test]
fn distances_catch_non_finite_and_mismatched_states() {
	let (spec, data) = credit();
	let trainer = Trainer::new(&spec, &data, &CPU).unwrap();
	let a = trainer.initial_state().unwrap();
	let t = tolerance(trainer.learning_rate());
	assert_eq!(state_distance(&a, &a).unwrap(), Distance { full: 0.0, bulk: 0.0, moments: 0.0 });
	let mut nan = a.clone();
	nan.params[0] = (nan.params[0].clone() * f64::NAN).unwrap();
	let d = state_distance(&nan, &a).unwrap();
	assert!(d.full.is_nan() && !d.within(&t));
	let short = TrainState { params: a.params[..2].to_vec(), ..a.clone() };
	assert!(state_distance(&short, &a).unwrap().full.is_infinite());
	// One coordinate far off: the full distance sees it, the bulk does not.
	let mut one = a.clone();
	let mut w: Vec<f32> = one.params[2].flatten_all().unwrap().to_vec1().unwrap();
	w[0] += 1.0;
	one.params[2] = Tensor::from_vec(w, one.params[2].dims(), &CPU).unwrap();
	let d = state_distance(&one, &a).unwrap();
	assert!(d.full > t.full && d.bulk == 0.0, "{d:?}");
	// Tolerances scale with the learning rate, within their clamps.
	assert_eq!(
		tolerance(REFERENCE_LEARNING_RATE),
		Tolerance { bulk: TOLERANCE, full: OUTLIER_TOLERANCE }
	);
	assert_eq!(tolerance(1.0), tolerance(REFERENCE_LEARNING_RATE * MAX_SCALE));
	assert_eq!(tolerance(1e-9), tolerance(f64::NAN));
	assert!(tolerance(1e-9).bulk >= 2e-6);
}
