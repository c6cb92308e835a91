//! Checkpoints: a training state as canonical safetensors bytes.
//!
//! Tensors `layer{i}.weight`, `layer{i}.bias` (F32, the parameters), `adam.m.<param>` and
//! `adam.v.<param>` (F32, AdamW's moments, same shapes) and `step` (U32, shape `[1]`), laid out
//! as `safetensors::serialize` does (F32 tensors by name, then `step`). Decoding accepts only
//! those bytes: a checkpoint must re-encode to itself, so one state has one leaf.

use super::state_names;
use crate::{model::TrainState, EngineError};
use candle_core::{DType, Device, Tensor};

/// The checkpoint bytes of `state`.
pub fn encode_checkpoint(state: &TrainState) -> Result<Vec<u8>, EngineError> {
	let layers = state.params.len() / 2;
	if !state.params.len().is_multiple_of(2)
		|| state.m.len() != state.params.len()
		|| state.v.len() != state.params.len()
	{
		return Err(EngineError::BadModel("a state with mismatched tensors".into()));
	}
	let (p_names, m_names, v_names) = state_names(layers);
	let mut tensors: Vec<(String, Tensor)> = Vec::with_capacity(3 * state.params.len() + 1);
	for (names, values) in [(p_names, &state.params), (m_names, &state.m), (v_names, &state.v)] {
		tensors.extend(names.into_iter().zip(values.iter().cloned()));
	}
	tensors.push(("step".into(), Tensor::from_slice(&[state.step], 1, &Device::Cpu)?));
	crate::model::safetensors_bytes(tensors)
}

/// Decodes a checkpoint of a model with layers `sizes` (`(fan_in, fan_out)` each). Anything
/// but the canonical encoding of such a state with finite values (and non-negative second
/// moments) is an error, never a panic.
pub fn decode_checkpoint(
	bytes: &[u8],
	sizes: &[(usize, usize)],
	device: &Device,
) -> Result<TrainState, String> {
	decode_checkpoint_shapes(bytes, &mlp_shapes(sizes), device)
}

/// The parameter shapes of an MLP with layers `sizes` (`(fan_in, fan_out)` each): each
/// layer's weight `[fan_out, fan_in]` and bias `[fan_out]`.
pub fn mlp_shapes(sizes: &[(usize, usize)]) -> Vec<Vec<usize>> {
	sizes.iter().flat_map(|&(fan_in, fan_out)| [vec![fan_out, fan_in], vec![fan_out]]).collect()
}

/// [`decode_checkpoint`] of a model whose parameters have `shapes` (an even number: the
/// tensors are named as weight/bias pairs, `layer{i}.weight` and `layer{i}.bias`).
pub fn decode_checkpoint_shapes(
	bytes: &[u8],
	shapes: &[Vec<usize>],
	device: &Device,
) -> Result<TrainState, String> {
	if !shapes.len().is_multiple_of(2) {
		return Err("an odd number of parameters".into());
	}
	let values: usize = shapes.iter().map(|s| s.iter().product::<usize>()).sum();
	// Data plus a generous header: refuse oversized input before parsing it.
	let limit = (3 * values + 1) * 4 + 8 + 160 * (3 * shapes.len() + 1);
	if bytes.len() > limit {
		return Err(format!(
			"{} bytes, a checkpoint of this model has at most {limit}",
			bytes.len()
		));
	}
	let tensors =
		candle_core::safetensors::load_buffer(bytes, device).map_err(|e| e.to_string())?;
	if tensors.len() != 3 * shapes.len() + 1 {
		return Err(format!("{} tensors, expected {}", tensors.len(), 3 * shapes.len() + 1));
	}
	let (p_names, m_names, v_names) = state_names(shapes.len() / 2);
	let take = |names: &[String], non_negative: bool| -> Result<Vec<Tensor>, String> {
		names
			.iter()
			.zip(shapes)
			.map(|(name, shape)| {
				let t = tensors.get(name).ok_or_else(|| format!("missing {name}"))?;
				if t.dtype() != DType::F32 || t.dims() != shape.as_slice() {
					return Err(format!(
						"{name}: {:?} {:?}, expected F32 {shape:?}",
						t.dtype(),
						t.dims()
					));
				}
				let flat: Vec<f32> =
					t.flatten_all().and_then(|f| f.to_vec1()).map_err(|e| e.to_string())?;
				if flat.iter().any(|x| !x.is_finite() || (non_negative && *x < 0.0)) {
					return Err(format!("{name} has a value out of range"));
				}
				Ok(t.clone())
			})
			.collect()
	};
	let params = take(&p_names, false)?;
	let m = take(&m_names, false)?;
	let v = take(&v_names, true)?;
	let step = tensors.get("step").ok_or("missing step")?;
	if step.dtype() != DType::U32 || step.dims() != [1] {
		return Err("step is not one u32".into());
	}
	let step =
		step.to_vec1::<u32>().map_err(|e| e.to_string())?.first().copied().ok_or("empty step")?;
	let state = TrainState { step, params, m, v };
	if encode_checkpoint(&state).map_err(|e| e.to_string())? != bytes {
		return Err("not the canonical encoding".into());
	}
	Ok(state)
}
