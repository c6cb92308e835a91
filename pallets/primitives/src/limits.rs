//! The limits of a training spec, shared by the chain (which refuses a job past them at
//! submission) and the compute engine (which refuses to train it), so the two cannot disagree:
//! a spec the chain accepts is one every honest provider's engine runs.

use crate::TrainingSpec;

/// Largest hidden layer the engine trains.
pub const MAX_HIDDEN_UNITS: u32 = 1_024;
/// Most hidden layers the engine trains.
pub const MAX_HIDDEN_LAYERS: u8 = 8;
/// Most epochs the engine runs.
pub const MAX_EPOCHS: u32 = 1_000;
/// Smallest learning rate, in millionths (0.000001).
pub const MIN_LEARNING_RATE_MILLIONTHS: u32 = 1;
/// Largest learning rate, in millionths (1.0).
pub const MAX_LEARNING_RATE_MILLIONTHS: u32 = 1_000_000;
/// Attention heads of a transformer language model (the seed's 4); its `hidden_units` (the
/// embedding dimensions) must be a multiple.
pub const LM_HEADS: u32 = 4;
/// Largest transformer: embedding dimensions.
pub const MAX_LM_DIMENSIONS: u32 = 512;
/// Largest transformer: blocks.
pub const MAX_LM_LAYERS: u8 = 4;

/// Training work one GPU-hour pays for, in parameter-samples (parameters × training samples
/// seen, a token for a language model): a job's spec must fit `gpu_hours` of it, so that an
/// honest provider can finish within the time the job gives it (`ResultTimeout` plus its
/// hours) and is never slashed for a job too large to train. Set from the reference engine on
/// 2 CPU cores (`make perf`, 2026-12-07): the seed's transformer trains ~6.5 × 10⁹
/// parameter-tokens a second (2.3 × 10¹³ an hour), the MLPs 1.1–1.4 × 10¹⁰ parameter-rows a
/// second; 10¹³ an hour leaves the slowest of them a margin of more than 2×.
pub const WORK_PER_GPU_HOUR: u128 = 10_000_000_000_000;
/// Most parameters a model may have. A checkpoint holds the parameters and AdamW's two
/// moments (3 × 4 bytes each), and verifiers download checkpoints of at most
/// [`MAX_CHECKPOINT_BYTES`]: a larger model could not be verified, and its honest provider
/// would be rejected and slashed. The seed's transformer (6.7M) and the largest MLP fit.
pub const MAX_MODEL_PARAMETERS: u128 = 12_000_000;
/// Most bytes an engine downloads from a peer (a model or a checkpoint): room for the
/// checkpoint of a model of [`MAX_MODEL_PARAMETERS`] and its header.
pub const MAX_CHECKPOINT_BYTES: usize = 160 << 20;
/// Tokens of context of a transformer language model (a window is one more).
pub const LM_CONTEXT: u32 = 64;
/// The language model tokenizer's largest vocabulary (the seed's 10k): what a text dataset's
/// `columns` may be.
pub const LM_VOCAB: u32 = 10_000;

/// Largest CNN: channels of each convolution.
pub const MAX_CNN_CHANNELS: u32 = 64;
/// Largest CNN: convolution blocks (each halves the image's side).
pub const MAX_CNN_LAYERS: u8 = 3;
/// Classes of a CNN (its last layer's outputs): an image's label is one of `0..CNN_CLASSES`.
pub const CNN_CLASSES: u32 = 10;
/// Largest image a CNN takes: pixels a side.
pub const MAX_IMAGE_SIDE: u32 = 64;

/// The side of the square images in a table of `columns` columns (the pixels and the label),
/// when a CNN of `layers` blocks can take them: `side²` pixels with `side` from `2^layers` (each
/// block halves it) to [`MAX_IMAGE_SIDE`].
pub fn image_side(columns: u32, layers: u8) -> Option<u32> {
	let pixels = columns.checked_sub(1)?;
	let side = (1..=MAX_IMAGE_SIDE).find(|s| s * s >= pixels)?;
	let smallest = 1u32.checked_shl(u32::from(layers))?;
	(side * side == pixels && side >= smallest).then_some(side)
}

/// Multiply-adds of one image through a CNN (each block's kernel at every position of its
/// input, the last layer once), the CNN's training work per sample; parameters when counted
/// once (`per_position` false).
fn cnn_work(spec: &TrainingSpec, columns: u32, per_position: bool) -> u128 {
	let c = u128::from(spec.hidden_units);
	let mut side = u128::from(image_side(columns, spec.hidden_layers).unwrap_or(MAX_IMAGE_SIDE));
	let mut work = 0u128;
	for layer in 0..spec.hidden_layers {
		let inputs = if layer == 0 { 1 } else { c };
		let kernel = 9 * inputs * c + c;
		work =
			work.saturating_add(kernel.saturating_mul(if per_position { side * side } else { 1 }));
		side /= 2;
	}
	let classes = u128::from(CNN_CLASSES);
	work.saturating_add(c * classes + classes)
}

/// Parameters of the model `spec` describes on a dataset of `columns` columns (a table: the
/// features and the target; text: the tokenizer's vocabulary).
pub fn parameters(spec: &TrainingSpec, columns: u32) -> u128 {
	let d = u128::from(spec.hidden_units);
	let layers = u128::from(spec.hidden_layers);
	match spec.model {
		crate::ModelKind::TransformerLm => {
			let v = u128::from(columns);
			// Embeddings, blocks (norms, attention, MLP), final norm, projection and bias.
			v * d + u128::from(LM_CONTEXT) * d + layers * (12 * d * d + 13 * d) + 2 * d + d * v + v
		},
		crate::ModelKind::CnnClassifier => cnn_work(spec, columns, false),
		_ => {
			let inputs = u128::from(columns.saturating_sub(1));
			// First layer, the hidden-to-hidden layers, the output unit.
			(inputs + 1) * d + layers.saturating_sub(1) * (d + 1) * d + (d + 1)
		},
	}
}

/// The training work of `spec` on a registered dataset of `rows` rows (text: windows) and
/// `columns` columns, in parameter-samples: parameters × training samples × epochs (for a CNN,
/// whose kernels apply at every position, multiply-adds per image × images × epochs).
pub fn training_work(spec: &TrainingSpec, rows: u32, columns: u32) -> u128 {
	let (per_sample, samples_per_row) = match spec.model {
		crate::ModelKind::TransformerLm => (parameters(spec, columns), u128::from(LM_CONTEXT)),
		crate::ModelKind::CnnClassifier => {
			(cnn_work(spec, columns, true).saturating_mul(CNN_WORK_WEIGHT), 1)
		},
		_ => (parameters(spec, columns), 1),
	};
	let samples = u128::from(crate::proof::training_rows(rows)) * samples_per_row;
	per_sample.saturating_mul(samples).saturating_mul(u128::from(spec.epochs))
}

/// How many parameter-samples of work a CNN's multiply-add counts for: the engine's small
/// convolutions run far slower per multiply-add than the MLPs' and the transformer's matrix
/// products. Measured on 2 CPU cores (2026-12-07, the shipped 16 × 16 images): 3.0 × 10⁸
/// multiply-adds a second for 32 channels × 1 block, 5.4 × 10⁸ for 16 × 2, 1.7 × 10⁹ for
/// 64 × 3; at 20, the slowest of them does 6 × 10⁹ parameter-samples a second, over twice
/// the [`WORK_PER_GPU_HOUR`] rate (2.8 × 10⁹).
pub const CNN_WORK_WEIGHT: u128 = 20;

/// What is wrong with a training spec.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SpecError {
	/// `hidden_units` outside `1..=MAX_HIDDEN_UNITS`.
	HiddenUnitsOutOfRange,
	/// `hidden_layers` outside `1..=MAX_HIDDEN_LAYERS`.
	HiddenLayersOutOfRange,
	/// `epochs` outside `1..=MAX_EPOCHS`.
	EpochsOutOfRange,
	/// `learning_rate_millionths` outside
	/// `MIN_LEARNING_RATE_MILLIONTHS..=MAX_LEARNING_RATE_MILLIONTHS`.
	LearningRateOutOfRange,
	/// A transformer whose dimensions are not a multiple of `LM_HEADS` in
	/// `LM_HEADS..=MAX_LM_DIMENSIONS`, or whose blocks are more than `MAX_LM_LAYERS`.
	TransformerShapeOutOfRange,
	/// A CNN of more than `MAX_CNN_CHANNELS` channels or `MAX_CNN_LAYERS` blocks.
	CnnShapeOutOfRange,
}

impl SpecError {
	/// A short explanation naming the bound.
	pub fn message(&self) -> &'static str {
		match self {
			Self::HiddenUnitsOutOfRange => "hidden_units must be 1..=1024",
			Self::HiddenLayersOutOfRange => "hidden_layers must be 1..=8",
			Self::EpochsOutOfRange => "epochs must be 1..=1000",
			Self::LearningRateOutOfRange => "learning rate must be in (0, 1]",
			Self::TransformerShapeOutOfRange =>
				"a transformer needs hidden_units a multiple of 4 in 4..=512 and hidden_layers 1..=4",
			Self::CnnShapeOutOfRange => "a CNN needs hidden_units 1..=64 and hidden_layers 1..=3",
		}
	}
}

impl core::fmt::Display for SpecError {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		f.write_str(self.message())
	}
}

/// Checks the hyper-parameters of `spec` against the shared limits. The dataset (whether it is
/// known, whether its targets suit the model kind) is checked where the data is: by the chain
/// against its registered datasets, by the engine against the file.
pub fn validate_training_spec(spec: &TrainingSpec) -> Result<(), SpecError> {
	if !(1..=MAX_HIDDEN_UNITS).contains(&spec.hidden_units) {
		return Err(SpecError::HiddenUnitsOutOfRange);
	}
	if !(1..=MAX_HIDDEN_LAYERS).contains(&spec.hidden_layers) {
		return Err(SpecError::HiddenLayersOutOfRange);
	}
	if spec.model == crate::ModelKind::TransformerLm
		&& (!(LM_HEADS..=MAX_LM_DIMENSIONS).contains(&spec.hidden_units)
			|| !spec.hidden_units.is_multiple_of(LM_HEADS)
			|| spec.hidden_layers > MAX_LM_LAYERS)
	{
		return Err(SpecError::TransformerShapeOutOfRange);
	}
	if spec.model == crate::ModelKind::CnnClassifier
		&& (spec.hidden_units > MAX_CNN_CHANNELS || spec.hidden_layers > MAX_CNN_LAYERS)
	{
		return Err(SpecError::CnnShapeOutOfRange);
	}
	if !(1..=MAX_EPOCHS).contains(&spec.epochs) {
		return Err(SpecError::EpochsOutOfRange);
	}
	if !(MIN_LEARNING_RATE_MILLIONTHS..=MAX_LEARNING_RATE_MILLIONTHS)
		.contains(&spec.learning_rate_millionths)
	{
		return Err(SpecError::LearningRateOutOfRange);
	}
	Ok(())
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::ModelKind;
	use sp_core::H256;

	fn at_lower_limits() -> TrainingSpec {
		TrainingSpec {
			dataset: H256::repeat_byte(1),
			model: ModelKind::MlpClassifier,
			hidden_units: 1,
			hidden_layers: 1,
			learning_rate_millionths: MIN_LEARNING_RATE_MILLIONTHS,
			epochs: 1,
			seed: 0,
			min_score: Default::default(),
			parent: None,
		}
	}

	fn at_upper_limits() -> TrainingSpec {
		TrainingSpec {
			hidden_units: MAX_HIDDEN_UNITS,
			hidden_layers: MAX_HIDDEN_LAYERS,
			learning_rate_millionths: MAX_LEARNING_RATE_MILLIONTHS,
			epochs: MAX_EPOCHS,
			..at_lower_limits()
		}
	}

	#[test]
	fn a_spec_at_each_limit_passes() {
		assert_eq!(validate_training_spec(&at_lower_limits()), Ok(()));
		assert_eq!(validate_training_spec(&at_upper_limits()), Ok(()));
	}

	#[test]
	fn one_past_each_limit_fails_naming_it() {
		let low = at_lower_limits();
		let high = at_upper_limits();
		for (broken, error) in [
			(TrainingSpec { hidden_units: 0, ..low.clone() }, SpecError::HiddenUnitsOutOfRange),
			(
				TrainingSpec { hidden_units: MAX_HIDDEN_UNITS + 1, ..high.clone() },
				SpecError::HiddenUnitsOutOfRange,
			),
			(TrainingSpec { hidden_layers: 0, ..low.clone() }, SpecError::HiddenLayersOutOfRange),
			(
				TrainingSpec { hidden_layers: MAX_HIDDEN_LAYERS + 1, ..high.clone() },
				SpecError::HiddenLayersOutOfRange,
			),
			(
				TrainingSpec { hidden_layers: u8::MAX, ..high.clone() },
				SpecError::HiddenLayersOutOfRange,
			),
			(TrainingSpec { epochs: 0, ..low.clone() }, SpecError::EpochsOutOfRange),
			(TrainingSpec { epochs: MAX_EPOCHS + 1, ..high.clone() }, SpecError::EpochsOutOfRange),
			(
				TrainingSpec { learning_rate_millionths: 0, ..low.clone() },
				SpecError::LearningRateOutOfRange,
			),
			(
				TrainingSpec {
					learning_rate_millionths: MAX_LEARNING_RATE_MILLIONTHS + 1,
					..high.clone()
				},
				SpecError::LearningRateOutOfRange,
			),
		] {
			assert_eq!(validate_training_spec(&broken), Err(error), "{broken:?}");
		}
	}

	/// The work bound: the parameter count of a known model, and the seed demo's job and the
	/// seed's transformer for an epoch within an hour; a thousand epochs of the transformer not.
	#[test]
	fn training_work_counts_parameters_times_samples() {
		let mlp =
			TrainingSpec { hidden_units: 32, hidden_layers: 2, epochs: 5, ..at_lower_limits() };
		// 8 features → 32 → 32 → 1.
		assert_eq!(parameters(&mlp, 9), 9 * 32 + 33 * 32 + 33);
		assert_eq!(training_work(&mlp, 3_000, 9), parameters(&mlp, 9) * 2_400 * 5);
		assert!(training_work(&mlp, 3_000, 9) < WORK_PER_GPU_HOUR);
		let seed = TrainingSpec {
			model: ModelKind::TransformerLm,
			hidden_units: 256,
			hidden_layers: 2,
			..at_lower_limits()
		};
		// The engine's count of the seed's shape (`LmShape::SEED.parameters()`).
		assert_eq!(parameters(&seed, 10_000), 6_726_416);
		assert!(training_work(&seed, 923, 6_030) < WORK_PER_GPU_HOUR);
		let long = TrainingSpec { epochs: 1_000, ..seed };
		assert!(training_work(&long, 923, 6_030) > 20 * WORK_PER_GPU_HOUR);
	}

	/// Every model the limits allow fits a checkpoint the verifiers download.
	#[test]
	fn the_largest_allowed_checkpoint_fits_the_download_limit() {
		let header = 64 * 1024;
		assert!(MAX_MODEL_PARAMETERS * 12 + header <= MAX_CHECKPOINT_BYTES as u128);
		let widest_mlp = TrainingSpec {
			hidden_units: MAX_HIDDEN_UNITS,
			hidden_layers: MAX_HIDDEN_LAYERS,
			..at_lower_limits()
		};
		assert!(parameters(&widest_mlp, 9) <= MAX_MODEL_PARAMETERS);
		let largest_lm = TrainingSpec {
			model: ModelKind::TransformerLm,
			hidden_units: MAX_LM_DIMENSIONS,
			hidden_layers: MAX_LM_LAYERS,
			..at_lower_limits()
		};
		// The largest transformer on the seed's vocabulary is over: the chain refuses it.
		assert!(parameters(&largest_lm, 10_000) > MAX_MODEL_PARAMETERS);
	}

	#[test]
	fn a_transformer_has_its_own_shape_limits() {
		let lm = TrainingSpec {
			model: ModelKind::TransformerLm,
			hidden_units: MAX_LM_DIMENSIONS,
			hidden_layers: MAX_LM_LAYERS,
			..at_lower_limits()
		};
		assert_eq!(validate_training_spec(&lm), Ok(()));
		assert_eq!(
			validate_training_spec(&TrainingSpec { hidden_units: LM_HEADS, ..lm.clone() }),
			Ok(())
		);
		for broken in [
			TrainingSpec { hidden_units: MAX_LM_DIMENSIONS + LM_HEADS, ..lm.clone() },
			TrainingSpec { hidden_units: LM_HEADS + 1, ..lm.clone() },
			TrainingSpec { hidden_units: 0, ..lm.clone() },
			TrainingSpec { hidden_layers: MAX_LM_LAYERS + 1, ..lm.clone() },
		] {
			// (0 units is out of every model's range and reported as such.)
			assert!(validate_training_spec(&broken).is_err(), "{broken:?}");
		}
		assert_eq!(
			validate_training_spec(&TrainingSpec { hidden_units: 6, ..lm.clone() }),
			Err(SpecError::TransformerShapeOutOfRange)
		);
	}

	/// A CNN takes square images its blocks can halve, up to 64 pixels a side; its work counts
	/// every kernel at every position, weighted, and the largest allowed CNN fits a checkpoint.
	#[test]
	fn a_cnn_has_its_own_shape_and_work() {
		assert_eq!(image_side(257, 2), Some(16));
		assert_eq!(image_side(257, 3), Some(16));
		assert_eq!(image_side(17, 2), Some(4));
		assert_eq!(image_side(17, 3), None, "4 pixels a side cannot be halved three times");
		assert_eq!(image_side(256, 1), None, "255 pixels are not a square");
		assert_eq!(image_side(MAX_IMAGE_SIDE * MAX_IMAGE_SIDE + 1, 3), Some(MAX_IMAGE_SIDE));
		assert_eq!(image_side((MAX_IMAGE_SIDE + 1).pow(2) + 1, 3), None);
		assert_eq!(image_side(0, 1), None);
		let cnn = TrainingSpec {
			model: ModelKind::CnnClassifier,
			hidden_units: 16,
			hidden_layers: 2,
			..at_lower_limits()
		};
		assert_eq!(validate_training_spec(&cnn), Ok(()));
		// 1 → 16 channels on 16², 16 → 16 on 8², then 16 → 10 classes.
		assert_eq!(parameters(&cnn, 257), 160 + 2_320 + 170);
		let per_image = 160 * 256 + 2_320 * 64 + 170;
		assert_eq!(training_work(&cnn, 3_000, 257), per_image * CNN_WORK_WEIGHT * 2_400);
		for broken in [
			TrainingSpec { hidden_units: MAX_CNN_CHANNELS + 1, ..cnn.clone() },
			TrainingSpec { hidden_layers: MAX_CNN_LAYERS + 1, ..cnn.clone() },
		] {
			assert_eq!(validate_training_spec(&broken), Err(SpecError::CnnShapeOutOfRange));
		}
		let largest = TrainingSpec {
			hidden_units: MAX_CNN_CHANNELS,
			hidden_layers: MAX_CNN_LAYERS,
			..cnn.clone()
		};
		assert!(parameters(&largest, MAX_IMAGE_SIDE * MAX_IMAGE_SIDE + 1) <= MAX_MODEL_PARAMETERS);
		// The seed's shipped images: ten epochs of the test's CNN fit an hour; a thousand
		// epochs of the largest on 64² images do not fit 100 hours.
		assert!(training_work(&TrainingSpec { epochs: 10, ..cnn }, 3_000, 257) < WORK_PER_GPU_HOUR);
		let hundred_hours = 100 * WORK_PER_GPU_HOUR;
		let long = TrainingSpec { epochs: MAX_EPOCHS, ..largest };
		assert!(training_work(&long, 3_000, MAX_IMAGE_SIDE * MAX_IMAGE_SIDE + 1) > hundred_hours);
	}

	#[test]
	fn messages_name_the_limits() {
		assert!(SpecError::HiddenUnitsOutOfRange
			.message()
			.ends_with(&alloc::format!("{MAX_HIDDEN_UNITS}")));
		assert!(SpecError::HiddenLayersOutOfRange
			.message()
			.ends_with(&alloc::format!("{MAX_HIDDEN_LAYERS}")));
		assert!(SpecError::EpochsOutOfRange.message().ends_with(&alloc::format!("{MAX_EPOCHS}")));
	}
}
