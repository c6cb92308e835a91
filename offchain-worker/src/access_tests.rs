//! Who an engine serves weights to: attacks on the fetch rules, unit and over HTTP.

use super::*;
use crate::inference::keys as inference_keys;
use aicchain_primitives::{ModelKind, QuantisedMetrics, TrainingSpec};
use sp_core::ConstU32;
use std::collections::BTreeMap;

const GENESIS: H256 = H256([9; 32]);
const PUBLIC_VERSION: VersionId = 1;
const PRIVATE_VERSION: VersionId = 2;
const PUBLIC_HASH: [u8; 32] = [1; 32];
const PRIVATE_HASH: [u8; 32] = [2; 32];
const NOW: u64 = 1_800_000_000;

fn pair(seed: &str) -> sr25519::Pair {
	sr25519::Pair::from_string(&format!("//{seed}"), None).expect("dev seed")
}
fn account(seed: &str) -> AccountId {
	AccountId::from(pair(seed).public().0)
}

fn version(model: ModelId, hash: [u8; 32]) -> VersionRecord {
	ModelVersion {
		model,
		number: 1,
		parent: None,
		job: 0,
		trainer: account("Owner"),
		node: 0,
		provider: account("Provider"),
		spec: TrainingSpec {
			dataset: H256([0; 32]),
			model: ModelKind::MlpClassifier,
			hidden_units: 8,
			hidden_layers: 1,
			learning_rate_millionths: 10_000,
			epochs: 2,
			seed: 5,
			min_score: Default::default(),
			parent: None,
		},
		metrics: QuantisedMetrics {
			score: Default::default(),
			loss_millionths: 1,
			eval_samples: 2,
		},
		model_hash: H256(hash),
		cost: 7,
		created_at: 3,
	}
}

fn model(public: bool) -> Model<AccountId, BlockNumber, ConstU32<64>> {
	Model {
		owner: account("Owner"),
		name: b"credit".to_vec().try_into().expect("short"),
		public,
		root: 1,
		latest: 1,
		versions: 1,
		allowed: 1,
		created_at: 3,
	}
}

/// A chain with a public model (version 1) and a private one (version 2) that allows Friend,
/// validated by Worker's compute key.
fn chain() -> ChainState {
	chain_for(PRIVATE_HASH)
}

/// [`chain`] with the private version's file hash `private_hash`.
fn chain_for(private_hash: [u8; 32]) -> ChainState {
	let mut storage: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
	storage.insert(inference_keys::genesis(), GENESIS.encode());
	storage.insert(keys::model(10), model(true).encode());
	storage.insert(keys::model(20), model(false).encode());
	storage.insert(keys::version(PUBLIC_VERSION), version(10, PUBLIC_HASH).encode());
	storage.insert(keys::version(PRIVATE_VERSION), version(20, private_hash).encode());
	storage.insert(keys::allowed(20, &account("Friend")), ().encode());
	storage.insert(keys::federation(FEDERATION), federation().encode());
	storage.insert(
		keys::active_workers(),
		vec![(account("Validator"), pair("Worker").public().0)].encode(),
	);
	ChainState::new(move |key| storage.get(key).cloned())
}

const FEDERATION: JobId = 7;
const UPDATE: [u8; 32] = [5; 32];
const KEPT: [u8; 32] = [6; 32];

/// Federated job 7: members MemberA (whose update this round is [`UPDATE`]) and MemberB; the
/// previous round kept [`KEPT`].
fn federation() -> Federation<AccountId, Balance, BlockNumber> {
	let member = |seed: &str, update: Option<[u8; 32]>| aicchain_primitives::Member {
		node: 0,
		provider: account("Provider"),
		worker: account(seed),
		cost: 1,
		update: update.map(H256),
		rounds: 1,
		excluded: false,
	};
	Federation {
		owner: account("Owner"),
		requirements: aicchain_primitives::JobRequirements {
			gpus: 8,
			min_bandwidth_mbps: 100,
			max_latency_ms: 15,
			gpu_hours: 1,
			sustainability: aicchain_primitives::SustainabilityPreference::Any,
			training: Some(version(20, PRIVATE_HASH).spec),
		},
		federated: aicchain_primitives::FederationSpec {
			providers: 2,
			rounds: 3,
			rule: aicchain_primitives::AggregationRule::Median,
		},
		budget: 10,
		members: vec![member("MemberA", Some(UPDATE)), member("MemberB", None)]
			.try_into()
			.expect("two"),
		round: 1,
		stage: aicchain_primitives::FederationStage::Training,
		deadline: 9,
		submitted_at: 1,
		previous: Some((H256([8; 32]), vec![(1, H256(KEPT))].try_into().expect("one"))),
		metrics: None,
	}
}

/// Asks for `hash` as an update of federated job `federation`, as `seed` signs it.
fn fetch_update(hash: [u8; 32], federation: JobId, seed: Option<&str>) -> Result<(), u16> {
	let path = format!("/models/0x{}?federation={federation}", hex::encode(hash));
	let header = seed.map(|seed| signed(seed, &path, NOW + 60));
	let resource = Resource::FederatedUpdate { hash, federation };
	authorize(&chain(), resource, &path, header.as_deref(), NOW).map_err(|(status, _)| status)
}

/// Members rebuild each round's model from the others' updates: they may fetch the current
/// and previous rounds' updates of their own job, and nothing else by naming it (a private
/// model's file is not an update); strangers may not.
#[test]
fn members_fetch_their_jobs_updates_and_nothing_else() {
	assert_eq!(fetch_update(UPDATE, FEDERATION, Some("MemberB")), Ok(()));
	assert_eq!(fetch_update(KEPT, FEDERATION, Some("MemberA")), Ok(()));
	assert_eq!(fetch_update(PRIVATE_HASH, FEDERATION, Some("MemberA")), Err(403));
	assert_eq!(fetch_update(UPDATE, FEDERATION, Some("Stranger")), Err(403));
	assert_eq!(fetch_update(UPDATE, FEDERATION, None), Err(401));
	assert_eq!(fetch_update(UPDATE, FEDERATION + 1, Some("MemberA")), Err(404));
	// The validators' engines judge rounds: they fetch every update.
	assert_eq!(fetch_update(UPDATE, FEDERATION, Some("Worker")), Ok(()));
	assert_eq!(federation_param(Some("federation=x")).map_err(|(s, _)| s), Err(400));
}

fn signed(seed: &str, path: &str, expires: u64) -> String {
	let signer = pair(seed);
	let signature = signer.sign(&fetch_payload(&GENESIS, expires, path));
	format!("0x{}.{expires}.0x{}", hex::encode(signer.public().0), hex::encode(signature.0))
}

fn model_path(hash: [u8; 32], version: Option<VersionId>) -> String {
	let query = version.map(|v| format!("?version={v}")).unwrap_or_default();
	format!("/models/0x{}{query}", hex::encode(hash))
}

/// Asks for `hash` (naming `version`) as `seed` signs it (unsigned without one).
fn fetch(hash: [u8; 32], version: Option<VersionId>, seed: Option<&str>) -> Result<(), u16> {
	let path = model_path(hash, version);
	let header = seed.map(|seed| signed(seed, &path, NOW + 60));
	authorize(&chain(), Resource::Model { hash, version }, &path, header.as_deref(), NOW)
		.map_err(|(status, _)| status)
}

#[test]
fn a_public_version_is_served_to_anyone_who_names_it() {
	assert_eq!(fetch(PUBLIC_HASH, Some(PUBLIC_VERSION), None), Ok(()));
	// Naming a public version does not open another file.
	assert_eq!(fetch(PRIVATE_HASH, Some(PUBLIC_VERSION), None), Err(400));
	assert_eq!(fetch(PRIVATE_HASH, Some(99), None), Err(404));
}

#[test]
fn a_private_version_is_served_only_to_its_owner_the_allowed_and_validators() {
	assert_eq!(fetch(PRIVATE_HASH, Some(PRIVATE_VERSION), None), Err(401));
	assert_eq!(fetch(PRIVATE_HASH, Some(PRIVATE_VERSION), Some("Stranger")), Err(403));
	// A validator's account is not its worker key: the account signing opens nothing.
	assert_eq!(fetch(PRIVATE_HASH, Some(PRIVATE_VERSION), Some("Validator")), Err(403));
	assert_eq!(fetch(PRIVATE_HASH, Some(PRIVATE_VERSION), Some("Owner")), Ok(()));
	assert_eq!(fetch(PRIVATE_HASH, Some(PRIVATE_VERSION), Some("Friend")), Ok(()));
	assert_eq!(fetch(PRIVATE_HASH, Some(PRIVATE_VERSION), Some("Worker")), Ok(()));
}

#[test]
fn weights_by_hash_alone_go_only_to_validators() {
	// Results under verification are in no registry: only the validators fetch them.
	for hash in [PRIVATE_HASH, [3; 32]] {
		assert_eq!(fetch(hash, None, None), Err(401));
		assert_eq!(fetch(hash, None, Some("Owner")), Err(403));
		assert_eq!(fetch(hash, None, Some("Worker")), Ok(()));
	}
	let path = "/checkpoints/0x00/3";
	let refused =
		authorize(&chain(), Resource::Checkpoint, path, Some(&signed("Owner", path, NOW)), NOW);
	assert_eq!(refused.map_err(|(s, _)| s), Err(403));
	let served =
		authorize(&chain(), Resource::Checkpoint, path, Some(&signed("Worker", path, NOW)), NOW);
	assert_eq!(served, Ok(()));
}

#[test]
fn a_signature_opens_one_path_on_one_chain_for_a_few_minutes() {
	let path = model_path(PRIVATE_HASH, Some(PRIVATE_VERSION));
	let resource = Resource::Model { hash: PRIVATE_HASH, version: Some(PRIVATE_VERSION) };
	let status =
		|header: &str| authorize(&chain(), resource, &path, Some(header), NOW).map_err(|e| e.0);
	// Signed for the public version's path, presented for the private one.
	let other_path = model_path(PUBLIC_HASH, Some(PUBLIC_VERSION));
	assert_eq!(status(&signed("Owner", &other_path, NOW + 60)), Err(401));
	assert_eq!(status(&signed("Owner", &path, NOW - 1)), Err(401), "expired");
	let too_far = NOW + MAX_FETCH_VALIDITY_SECS + 1;
	assert_eq!(status(&signed("Owner", &path, too_far)), Err(401), "too far ahead");
	// Another chain's signature.
	let signer = pair("Owner");
	let foreign = signer.sign(&fetch_payload(&H256([8; 32]), NOW + 60, &path));
	let header =
		format!("0x{}.{}.0x{}", hex::encode(signer.public().0), NOW + 60, hex::encode(foreign.0));
	assert_eq!(status(&header), Err(401));
	// Someone else's signature under the owner's key.
	let stolen = signed("Stranger", &path, NOW + 60);
	let (_, rest) = stolen.split_once('.').expect("three parts");
	assert_eq!(status(&format!("0x{}.{rest}", hex::encode(signer.public().0))), Err(401));
	assert_eq!(status("0x00.1.0x00"), Err(400));
	assert_eq!(status(&signed("Owner", &path, NOW + 60)), Ok(()));
}

#[test]
fn the_signed_header_comes_from_sign_fetch() {
	let path = model_path(PRIVATE_HASH, Some(PRIVATE_VERSION));
	let header =
		sign_fetch(&signer_from_pair(pair("Friend")), &GENESIS, &path, &[]).expect("signs");
	let resource = Resource::Model { hash: PRIVATE_HASH, version: Some(PRIVATE_VERSION) };
	assert_eq!(authorize(&chain(), resource, &path, Some(&header), unix_now()), Ok(()));
}

#[test]
fn the_version_parameter_is_a_number() {
	assert_eq!(version_param(None), Ok(None));
	assert_eq!(version_param(Some("a=b&version=7")), Ok(Some(7)));
	assert_eq!(version_param(Some("version=x")).map_err(|e| e.0), Err(400));
}

const FILE: &[u8] = b"private weights";

fn file_hash() -> [u8; 32] {
	crate::dataset::blake2_256(FILE)
}

/// Over HTTP: an engine with the chain's view refuses a private model's weights to a
/// stranger and serves them to the owner; one engine fetches from another with its key.
#[test]
fn engines_serve_private_weights_only_on_a_signed_request() {
	let dir = tempfile::tempdir().expect("tempdir");
	let config = crate::EngineConfig {
		chain_state: Some(chain_for(file_hash())),
		..crate::EngineConfig::in_dir(dir.path())
	};
	let engine = crate::Engine::start(config).expect("starts");
	let hash = engine.models.put(FILE).expect("stored");
	assert_eq!(hash, file_hash());
	let runtime = tokio::runtime::Runtime::new().expect("runtime");
	let addr = runtime
		.block_on(crate::http::spawn_server(engine, "127.0.0.1:0".parse().expect("addr")))
		.expect("binds");
	let path = model_path(hash, Some(PRIVATE_VERSION));
	let url = format!("http://{addr}{path}");
	let get = |header: Option<&str>| {
		crate::http::request_reaching(&url, 1 << 20, crate::http::Reach::Any, header)
	};
	let refused = get(None).expect_err("unsigned");
	assert!(refused.to_string().contains("401"), "{refused}");
	let header = sign_fetch(&signer_from_pair(pair("Stranger")), &GENESIS, &path, &[]);
	let refused = get(header.as_deref()).expect_err("a stranger");
	assert!(refused.to_string().contains("403"), "{refused}");
	let header = sign_fetch(&signer_from_pair(pair("Owner")), &GENESIS, &path, &[]);
	assert_eq!(get(header.as_deref()).expect("200"), Some(b"private weights".to_vec()));

	// A verifier's engine, signing with its worker key, fetches the file by hash alone.
	let verifier_dir = tempfile::tempdir().expect("tempdir");
	let verifier = crate::Engine::start(crate::EngineConfig {
		chain_state: Some(chain_for(file_hash())),
		peers: vec![format!("http://{addr}")],
		signer: Some(signer_from_pair(pair("Worker"))),
		..crate::EngineConfig::in_dir(verifier_dir.path())
	})
	.expect("starts");
	let unsigned_dir = tempfile::tempdir().expect("tempdir");
	let unsigned = crate::Engine::start(crate::EngineConfig {
		chain_state: Some(chain_for(file_hash())),
		peers: vec![format!("http://{addr}")],
		..crate::EngineConfig::in_dir(unsigned_dir.path())
	})
	.expect("starts");
	assert_eq!(unsigned.fetch_model(&hash, None), None);
	assert_eq!(verifier.fetch_model(&hash, None), Some(b"private weights".to_vec()));
	drop(runtime);
}
