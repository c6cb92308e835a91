//! Verification between two engines with separate stores: the verifier has the provider's
//! HTTP server as its peer and fetches the model, the leaves and the challenged checkpoints
//! from it.

use super::{
	tests::{poll, rejection, spec, verify_request},
	*,
};
use crate::{
	dataset::{credit_scoring_csv, Dataset},
	model::Trainer,
	proof::{adversary, challenged_segment, decode_checkpoint, TrainingProof},
};
use aicchain_primitives::TrainingCommitment;
use std::sync::Arc;

const ACCEPTED: TaskStatus = TaskStatus::Verified { accept: true, reason: Vec::new() };

/// A provider serving its store over HTTP and a verifier whose only peer it is.
struct Pair {
	provider: Arc<Engine>,
	/// The provider's HTTP address (`http://127.0.0.1:port`).
	provider_url: String,
	verifier: Arc<Engine>,
	_runtime: tokio::runtime::Runtime,
	_dirs: (tempfile::TempDir, tempfile::TempDir),
}

fn pair() -> Pair {
	let (provider_dir, verifier_dir) =
		(tempfile::tempdir().expect("tempdir"), tempfile::tempdir().expect("tempdir"));
	let provider = Engine::start(EngineConfig::in_dir(provider_dir.path())).expect("starts");
	let runtime = tokio::runtime::Runtime::new().expect("runtime");
	let addr = runtime
		.block_on(crate::http::spawn_server(provider.clone(), "127.0.0.1:0".parse().expect("addr")))
		.expect("binds");
	// Share the saved selection policy so the verifier does not train one.
	let policy = "policy.safetensors";
	std::fs::copy(provider_dir.path().join(policy), verifier_dir.path().join(policy))
		.expect("policy copied");
	let provider_url = format!("http://{addr}");
	let config = EngineConfig {
		peers: vec![provider_url.clone()],
		..EngineConfig::in_dir(verifier_dir.path())
	};
	let verifier = Engine::start(config).expect("starts");
	Pair {
		provider,
		provider_url,
		verifier,
		_runtime: runtime,
		_dirs: (provider_dir, verifier_dir),
	}
}

fn data() -> Dataset {
	Dataset::from_csv(&credit_scoring_csv()).expect("dataset")
}

/// The provider trains the job honestly.
fn train(provider: &Engine, job_id: JobId) -> (H256, QuantisedMetrics, TrainingCommitment) {
	match poll(provider, EngineRequest::Train { job_id, spec: spec(), start: None }) {
		TaskStatus::Trained { model_hash, metrics, commitment } => {
			(model_hash, metrics, commitment)
		},
		other => panic!("training failed: {other:?}"),
	}
}

/// Stores a (possibly dishonest) proof on the provider with the model of its last checkpoint
/// and that model's true metrics, as a provider would publish them.
fn publish(
	provider: &Engine,
	proof: &TrainingProof,
) -> (H256, QuantisedMetrics, TrainingCommitment) {
	let (spec, data) = (spec(), data());
	let trainer = Trainer::new(&spec, &data, &Device::Cpu).expect("trainer");
	let last = proof.checkpoints.last().expect("checkpoints");
	let state = decode_checkpoint(last, trainer.layer_sizes(), &Device::Cpu).expect("decodes");
	let bytes = trainer.model_bytes(&state).expect("model");
	let (_, test) = data.split();
	let metrics = model::evaluate(&bytes, &spec, &test, &Device::Cpu).expect("evaluates");
	let hash = provider.models.put(&bytes).expect("stored");
	provider.models.put_checkpoints(&proof.commitment.root.0, &proof.checkpoints).expect("stored");
	(H256(hash), metrics, proof.commitment)
}

/// A `Verify` request whose challenge picks a segment `pick` accepts for the default verifier.
fn challenged(
	job_id: JobId,
	(model_hash, metrics, commitment): (H256, QuantisedMetrics, TrainingCommitment),
	pick: impl Fn(u32) -> bool,
) -> (EngineRequest, u32) {
	let segments = commitment.segments();
	let (challenge, segment) = (0..=255u8)
		.map(H256::repeat_byte)
		.map(|c| (c, challenged_segment(&c.0, b"verifier", segments)))
		.find(|(_, segment)| pick(*segment))
		.expect("some challenge picks such a segment");
	let EngineRequest::Verify { job_id, spec, model_hash, metrics, commitment, verifier, .. } =
		verify_request(job_id, model_hash, metrics, commitment)
	else {
		unreachable!()
	};
	let request = EngineRequest::Verify {
		job_id,
		spec,
		model_hash,
		metrics,
		commitment,
		challenge,
		verifier,
		provider_engine: None,
		start: None,
	};
	(request, segment)
}

#[test]
fn honest_provider_is_accepted_on_every_challenged_segment() {
	let pair = pair();
	let published = train(&pair.provider, 1);
	assert!(pair.verifier.models.get(&published.0 .0).is_none(), "separate stores");
	let segments = published.2.segments();
	for segment in [0, 1, segments / 2, segments - 2, segments - 1] {
		let (request, _) = challenged(u64::from(segment), published, |s| s == segment);
		assert_eq!(poll(&pair.verifier, request), ACCEPTED, "segment {segment}");
	}
	// The provider checks its own result from its own store, without peers.
	assert_eq!(
		poll(&pair.provider, verify_request(1, published.0, published.1, published.2)),
		ACCEPTED
	);
}

/// A verifier with no configured peers finds the provider at the address the provider
/// published on chain (`provider_engine` in the request); without it, nothing is served.
#[test]
fn a_verifier_fetches_from_the_published_provider_engine() {
	let pair = pair();
	let (model_hash, metrics, commitment) = train(&pair.provider, 1);
	let dir = tempfile::tempdir().expect("tempdir");
	let policy = "policy.safetensors";
	std::fs::copy(pair._dirs.0.path().join(policy), dir.path().join(policy)).expect("copied");
	let lone = Engine::start(EngineConfig {
		allow_private_engines: true,
		..EngineConfig::in_dir(dir.path())
	})
	.expect("starts");
	let request = |job_id, provider_engine: Option<&str>| {
		let EngineRequest::Verify { spec, challenge, verifier, .. } =
			verify_request(job_id, model_hash, metrics, commitment)
		else {
			unreachable!()
		};
		EngineRequest::Verify {
			job_id,
			spec,
			model_hash,
			metrics,
			commitment,
			challenge,
			verifier,
			provider_engine: provider_engine.map(|url| url.as_bytes().to_vec()),
			start: None,
		}
	};
	let reason = rejection(poll(&lone, request(1, None)));
	assert!(reason.ends_with("unavailable"), "{reason}");
	assert_eq!(poll(&lone, request(2, Some(&pair.provider_url))), ACCEPTED);
	// On a public network a published address on this host (or a private network) is not
	// fetched from: anyone can publish one.
	let public_dir = tempfile::tempdir().expect("tempdir");
	std::fs::copy(pair._dirs.0.path().join(policy), public_dir.path().join(policy))
		.expect("copied");
	let strict = Engine::start(EngineConfig::in_dir(public_dir.path())).expect("starts");
	let reason = rejection(poll(&strict, request(3, Some(&pair.provider_url))));
	assert!(reason.ends_with("unavailable"), "{reason}");
}

#[test]
fn unavailable_model_or_checkpoints_are_rejected() {
	let pair = pair();
	let (model_hash, metrics, commitment) = train(&pair.provider, 1);
	let run = pair.provider.models.dir().join("checkpoints").join(hex::encode(commitment.root.0));
	// The provider lost the challenged segment's start.
	let segment = challenged_segment(&[9; 32], b"verifier", commitment.segments());
	std::fs::remove_file(run.join(format!("{segment}.safetensors"))).expect("removed");
	let reason =
		rejection(poll(&pair.verifier, verify_request(1, model_hash, metrics, commitment)));
	assert_eq!(reason, format!("checkpoint {segment} unavailable"));
	// The provider serves no checkpoints at all.
	std::fs::remove_dir_all(&run).expect("removed");
	let reason =
		rejection(poll(&pair.verifier, verify_request(2, model_hash, metrics, commitment)));
	assert_eq!(reason, "checkpoint hashes (leaves) unavailable");
	// A model nobody serves (the verifier cached the one it fetched above).
	let unknown = H256::repeat_byte(1);
	let reason = rejection(poll(&pair.verifier, verify_request(3, unknown, metrics, commitment)));
	assert!(reason.starts_with("model 0x") && reason.ends_with("unavailable"), "{reason}");
}

#[test]
fn cheated_segments_are_rejected_when_challenged() {
	let pair = pair();
	let (spec, data) = (spec(), data());
	// Half the epochs, stretched over the honest schedule: every segment is cheated.
	let short = adversary::fewer_epochs(&spec, &data, &Device::Cpu, 2).expect("cheat");
	let published = publish(&pair.provider, &short);
	let (request, segment) = challenged(1, published, |s| s == 3);
	let reason = rejection(poll(&pair.verifier, request));
	assert!(reason.starts_with(&format!("segment {segment} diverged: ")), "{reason}");
	// An honest run with checkpoint 7 interpolated: only segments 6 and 7 are cheated.
	let honest = model::train(&spec, &data, &Device::Cpu).expect("trains").proof;
	let fake = adversary::interpolated(&spec, &data, &Device::Cpu, &honest, 7).expect("cheat");
	let published = publish(&pair.provider, &fake);
	for cheated in [6, 7] {
		let (request, _) = challenged(10 + u64::from(cheated), published, |s| s == cheated);
		let reason = rejection(poll(&pair.verifier, request));
		assert!(reason.starts_with(&format!("segment {cheated} diverged: ")), "{reason}");
	}
	// A verifier challenged elsewhere does not see the cheat: that is why there are several.
	let (request, _) = challenged(20, published, |s| s != 6 && s != 7);
	assert_eq!(poll(&pair.verifier, request), ACCEPTED);
}

#[test]
fn wrong_schedules_foreign_models_and_inflated_metrics_are_rejected() {
	let pair = pair();
	let (model_hash, metrics, commitment) = train(&pair.provider, 1);
	let schedule = "commitment does not follow the spec's schedule";
	// Half the steps, or another interval, than the spec fixes for the dataset.
	let half = TrainingCommitment { steps: commitment.steps / 2, ..commitment };
	let other = TrainingCommitment { interval: commitment.interval + 1, ..commitment };
	for (job, bad) in [(1, half), (2, other)] {
		let reason = rejection(poll(&pair.verifier, verify_request(job, model_hash, metrics, bad)));
		assert!(reason.starts_with(schedule), "{reason}");
	}
	// A whole honest run of 1 epoch, committed on its own (shorter) schedule.
	let short_spec = TrainingSpec { epochs: 1, ..spec() };
	let short = model::train(&short_spec, &data(), &Device::Cpu).expect("trains");
	let (short_hash, short_metrics, short_commitment) = publish(&pair.provider, &short.proof);
	let request = verify_request(3, short_hash, short_metrics, short_commitment);
	assert!(rejection(poll(&pair.verifier, request)).starts_with(schedule));
	// The honest commitment with another model (another seed's) is not the final checkpoint.
	let foreign =
		model::train(&TrainingSpec { seed: 6, ..spec() }, &data(), &Device::Cpu).expect("trains");
	pair.provider.models.put(&foreign.bytes).expect("stored");
	let request = verify_request(4, H256(foreign.hash), foreign.metrics, commitment);
	assert_eq!(rejection(poll(&pair.verifier, request)), "final checkpoint is not the model");
	// Inflated metrics on the honest model and proof.
	let inflated = QuantisedMetrics { score: Perbill::from_percent(99), ..metrics };
	let reason =
		rejection(poll(&pair.verifier, verify_request(5, model_hash, inflated, commitment)));
	assert!(reason.starts_with("metrics: score"), "{reason}");
	let lower_loss = QuantisedMetrics { loss_millionths: metrics.loss_millionths / 2, ..metrics };
	let reason =
		rejection(poll(&pair.verifier, verify_request(6, model_hash, lower_loss, commitment)));
	assert!(reason.starts_with("metrics: loss"), "{reason}");
	// Everything published honestly is still accepted.
	assert_eq!(poll(&pair.verifier, verify_request(7, model_hash, metrics, commitment)), ACCEPTED);
}

/// A job trained by the provider's engine and checked by a verifier with its own store: the
/// honest result is accepted, the same result claimed with a perfect score rejected.
fn verified_between_two_engines(spec: TrainingSpec, job_id: JobId) {
	let pair = pair();
	let (model_hash, metrics, commitment) = match poll(
		&pair.provider,
		EngineRequest::Train { job_id, spec: spec.clone(), start: None },
	) {
		TaskStatus::Trained { model_hash, metrics, commitment } => {
			(model_hash, metrics, commitment)
		},
		other => panic!("training failed: {other:?}"),
	};
	assert!(metrics.score > Perbill::zero(), "{metrics:?}");
	// Each claim under its own job id: the verifier caches verdicts by job.
	let request = |job_id: JobId, metrics: QuantisedMetrics| EngineRequest::Verify {
		job_id,
		spec: spec.clone(),
		model_hash,
		metrics,
		commitment,
		challenge: H256::repeat_byte(9),
		verifier: b"verifier".to_vec(),
		provider_engine: None,
		start: None,
	};
	assert_eq!(poll(&pair.verifier, request(job_id, metrics)), ACCEPTED);
	let inflated = QuantisedMetrics { score: Perbill::one(), ..metrics };
	assert!(matches!(
		poll(&pair.verifier, request(job_id + 1, inflated)),
		TaskStatus::Verified { accept: false, .. }
	));
}

/// A language-model job on the built-in corpus, verified between two engines.
#[test]
fn a_language_model_result_is_verified_between_two_engines() {
	verified_between_two_engines(
		TrainingSpec {
			dataset: H256(crate::dataset::blake2_256(&crate::dataset::corpus_txt())),
			model: ModelKind::TransformerLm,
			hidden_units: 16,
			hidden_layers: 1,
			learning_rate_millionths: 3_000,
			epochs: 1,
			seed: 3,
			min_score: Default::default(),
			parent: None,
		},
		40,
	);
}

/// A CNN job on the built-in image set, verified between two engines.
#[test]
fn a_cnn_result_is_verified_between_two_engines() {
	verified_between_two_engines(
		TrainingSpec {
			dataset: H256(crate::dataset::blake2_256(&crate::dataset::images::shapes_csv())),
			model: ModelKind::CnnClassifier,
			hidden_units: 16,
			hidden_layers: 2,
			learning_rate_millionths: 10_000,
			epochs: 1,
			seed: 3,
			min_score: Default::default(),
			parent: None,
		},
		50,
	);
}
