//! The engine's schedule is the one the chain computes from the dataset's size.

use super::*;
use crate::dataset::Dataset;
use aicchain_primitives::{
	proof::{schedule, training_rows, training_steps},
	ModelKind,
};
use sp_core::H256;

/// A classifier dataset of `rows` rows with one feature.
fn rows_dataset(rows: usize) -> Dataset {
	Dataset {
		n_features: 1,
		features: (0..rows).map(|i| i as f32).collect(),
		targets: (0..rows).map(|i| (i % 2) as f32).collect(),
	}
}

#[test]
fn engine_schedule_is_the_chains() {
	for rows in [10u32, 64, 81, 100, 401, 3_000, 3_001] {
		let data = rows_dataset(rows as usize);
		let (train, _) = data.split();
		assert_eq!(train.rows() as u32, training_rows(rows), "{rows} rows");
		for epochs in [1u32, 2, 3, 10, 37] {
			let spec = TrainingSpec {
				dataset: H256::zero(),
				model: ModelKind::MlpClassifier,
				hidden_units: 4,
				hidden_layers: 1,
				learning_rate_millionths: 1_000,
				epochs,
				seed: 1,
				min_score: Default::default(),
				parent: None,
			};
			let trainer = Trainer::new(&spec, &data, &Device::Cpu).expect("trainer");
			let steps = training_steps(rows, epochs);
			assert_eq!(trainer.total_steps(), steps, "{rows} rows, {epochs} epochs");
			let engine = Schedule::new(trainer.total_steps());
			let (interval, checkpoints) = schedule(steps);
			assert_eq!((engine.interval, engine.checkpoints), (interval, checkpoints));
			let commitment = TrainingCommitment::scheduled(H256([1; 32]), steps);
			assert!(commitment.follows_schedule(steps));
			assert_eq!(Schedule::of(&commitment), engine);
		}
	}
}
