//! A verified training result, for tests and benchmarks.

use aicchain_primitives::{
	JobId, ModelKind, QuantisedMetrics, TrainingSpec, VerifiedTraining, VersionId,
};
use sp_core::H256;
use sp_runtime::Perbill;

/// Job `job`'s verified result (an MLP, 1,000 planck paid) for `trainer`, trained by
/// `provider`'s node 0, continuing `parent`.
pub fn verified<AccountId, Balance: From<u32>>(
	job: JobId,
	trainer: AccountId,
	provider: AccountId,
	parent: Option<VersionId>,
) -> VerifiedTraining<AccountId, Balance> {
	VerifiedTraining {
		job,
		trainer,
		node: 0,
		provider,
		spec: TrainingSpec {
			dataset: H256::repeat_byte(1),
			model: ModelKind::MlpClassifier,
			hidden_units: 64,
			hidden_layers: 2,
			learning_rate_millionths: 1_000,
			epochs: 10,
			seed: 7,
			min_score: Perbill::zero(),
			parent,
		},
		parent,
		metrics: QuantisedMetrics {
			score: Perbill::from_percent(80),
			loss_millionths: 1,
			eval_samples: 1,
		},
		model_hash: H256::repeat_byte(2),
		cost: 1_000u32.into(),
	}
}
