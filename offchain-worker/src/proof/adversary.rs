//! Dishonest provers, for the tests and the tolerance benchmark. Each commits on the honest
//! schedule of the spec (right step count, interval and checkpoint count, right step in every
//! checkpoint), so that only the replay can tell.

use super::{decode_checkpoint, encode_checkpoint, Schedule, TrainingProof};
use crate::{
	dataset::Dataset,
	model::{Arithmetic, TrainState, Trainer},
	EngineError,
};
use aicchain_primitives::TrainingSpec;
use candle_core::{Device, Tensor};

fn honest_schedule(
	spec: &TrainingSpec,
	data: &Dataset,
	device: &Device,
) -> Result<Schedule, EngineError> {
	Ok(Schedule::new(Trainer::new(spec, data, device)?.total_steps()))
}

fn relabelled(state: &TrainState, step: u32) -> Result<Vec<u8>, EngineError> {
	encode_checkpoint(&TrainState { step, ..state.clone() })
}

/// (a) Trains `epochs / divisor` epochs and stretches the run over the claimed schedule:
/// claimed checkpoint `k` is its state at the same fraction of its shorter run.
pub fn fewer_epochs(
	spec: &TrainingSpec,
	data: &Dataset,
	device: &Device,
	divisor: u32,
) -> Result<TrainingProof, EngineError> {
	let schedule = honest_schedule(spec, data, device)?;
	let short_spec = TrainingSpec { epochs: (spec.epochs / divisor.max(1)).max(1), ..spec.clone() };
	let short = Trainer::new(&short_spec, data, device)?;
	let mut state = short.initial_state()?;
	let mut checkpoints = Vec::new();
	for k in 0..schedule.checkpoints {
		let claimed = schedule.step_of(k);
		let target =
			u64::from(claimed) * u64::from(short.total_steps()) / u64::from(schedule.steps.max(1));
		short.run(&mut state, u32::try_from(target).unwrap_or(u32::MAX), Arithmetic::Canonical)?;
		checkpoints.push(relabelled(&state, claimed)?);
	}
	Ok(TrainingProof::new(schedule, checkpoints))
}

/// (a′, b) Trains the first `segments` segments honestly, then copies that checkpoint (with the
/// right step) to the end; `segments = 0` commits an untrained model.
pub fn stalled(
	spec: &TrainingSpec,
	data: &Dataset,
	device: &Device,
	segments: u32,
) -> Result<TrainingProof, EngineError> {
	let trainer = Trainer::new(spec, data, device)?;
	let schedule = Schedule::new(trainer.total_steps());
	let mut state = trainer.initial_state()?;
	let mut checkpoints = Vec::new();
	for k in 0..schedule.checkpoints {
		if k <= segments {
			trainer.run(&mut state, schedule.step_of(k), Arithmetic::Canonical)?;
		}
		checkpoints.push(relabelled(&state, schedule.step_of(k))?);
	}
	Ok(TrainingProof::new(schedule, checkpoints))
}

/// (b) Random weights in every checkpoint (He-uniform from other seeds), zero moments.
pub fn random_model(
	spec: &TrainingSpec,
	data: &Dataset,
	device: &Device,
	seed: u64,
) -> Result<TrainingProof, EngineError> {
	let schedule = honest_schedule(spec, data, device)?;
	let mut checkpoints = Vec::new();
	for k in 0..schedule.checkpoints {
		let other = TrainingSpec { seed: seed.wrapping_add(u64::from(k)), ..spec.clone() };
		let state = Trainer::new(&other, data, device)?.initial_state()?;
		checkpoints.push(relabelled(&state, schedule.step_of(k))?);
	}
	Ok(TrainingProof::new(schedule, checkpoints))
}

/// (c) Another job's honest run (same spec, another seed), submitted as this one's.
pub fn other_job(
	spec: &TrainingSpec,
	data: &Dataset,
	device: &Device,
	other_seed: u64,
) -> Result<TrainingProof, EngineError> {
	let other = TrainingSpec { seed: other_seed, ..spec.clone() };
	Ok(crate::model::train(&other, data, device)?.proof)
}

/// (d) Trains on every row, held-out ones included (with the honest standardisation), for
/// the honest number of steps.
pub fn held_out_training(
	spec: &TrainingSpec,
	data: &Dataset,
	device: &Device,
) -> Result<TrainingProof, EngineError> {
	let honest = Trainer::new(spec, data, device)?;
	let schedule = Schedule::new(honest.total_steps());
	let (mean, std) = honest.standardisation();
	let cheat = Trainer::with_rows(spec, data, mean.to_vec(), std.to_vec(), device)?;
	let mut state = cheat.initial_state()?;
	let mut checkpoints = Vec::new();
	for k in 0..schedule.checkpoints {
		cheat.run(&mut state, schedule.step_of(k), Arithmetic::Canonical)?;
		checkpoints.push(encode_checkpoint(&state)?);
	}
	Ok(TrainingProof::new(schedule, checkpoints))
}

/// (e) An honest proof whose checkpoint `index` (neither the first nor the last) is replaced
/// by the midpoint of its neighbours (weights and moments), recommitted.
pub fn interpolated(
	spec: &TrainingSpec,
	data: &Dataset,
	device: &Device,
	honest: &TrainingProof,
	index: u32,
) -> Result<TrainingProof, EngineError> {
	let trainer = Trainer::new(spec, data, device)?;
	let i = index as usize;
	let decode = |j: usize| -> Result<TrainState, EngineError> {
		let bytes = honest
			.checkpoints
			.get(j)
			.ok_or_else(|| EngineError::BadModel(format!("no checkpoint {j}")))?;
		decode_checkpoint(bytes, trainer.layer_sizes(), device).map_err(EngineError::BadModel)
	};
	let (before, after) = (decode(i.wrapping_sub(1))?, decode(i + 1)?);
	let mid = |a: &[Tensor], b: &[Tensor]| -> Result<Vec<Tensor>, EngineError> {
		a.iter().zip(b).map(|(x, y)| Ok(((x + y)? * 0.5)?)).collect()
	};
	let fake = TrainState {
		step: Schedule::of(&honest.commitment).step_of(index),
		params: mid(&before.params, &after.params)?,
		m: mid(&before.m, &after.m)?,
		v: mid(&before.v, &after.v)?,
	};
	let mut checkpoints = honest.checkpoints.clone();
	if let Some(slot) = checkpoints.get_mut(i) {
		*slot = encode_checkpoint(&fake)?;
	}
	Ok(TrainingProof::new(Schedule::of(&honest.commitment), checkpoints))
}
