//! Assembles the node: client, import queue, networking, Aura authoring, GRANDPA voting,
//! off-chain workers and RPC.

use std::{sync::Arc, time::Duration};

use crate::cli::ComputeArgs;
use aicchain_runtime::{apis::RuntimeApi, opaque::Block};
use futures::FutureExt;
use sc_client_api::{Backend, BlockBackend};
use sc_consensus_aura::{ImportQueueParams, SlotProportion, StartAuraParams};
use sc_consensus_grandpa::SharedVoterState;
use sc_service::{error::Error as ServiceError, Configuration, TaskManager, WarpSyncConfig};
use sc_telemetry::{Telemetry, TelemetryWorker};
use sc_transaction_pool_api::OffchainTransactionPoolFactory;
use sp_consensus_aura::sr25519::{AuthorityId as AuraId, AuthorityPair as AuraPair};
use sp_runtime::traits::Block as BlockT;

pub(crate) type FullClient = sc_service::TFullClient<
	Block,
	RuntimeApi,
	sc_executor::WasmExecutor<sp_io::SubstrateHostFunctions>,
>;
type FullBackend = sc_service::TFullBackend<Block>;
type FullSelectChain = sc_consensus::LongestChain<FullBackend, Block>;

/// Blocks between two GRANDPA justifications that are stored and served to syncing peers.
const GRANDPA_JUSTIFICATION_PERIOD: u32 = 512;

pub type Service = sc_service::PartialComponents<
	FullClient,
	FullBackend,
	FullSelectChain,
	sc_consensus::DefaultImportQueue<Block>,
	sc_transaction_pool::TransactionPoolHandle<Block, FullClient>,
	(
		sc_consensus_grandpa::GrandpaBlockImport<FullBackend, Block, FullClient, FullSelectChain>,
		sc_consensus_grandpa::LinkHalf<Block, FullClient, FullSelectChain>,
		Option<Telemetry>,
	),
>;

/// The parts of the node that block import and the chain-maintenance commands need.
pub fn new_partial(config: &Configuration) -> Result<Service, ServiceError> {
	let telemetry = config
		.telemetry_endpoints
		.clone()
		.filter(|endpoints| !endpoints.is_empty())
		.map(|endpoints| -> Result<_, sc_telemetry::Error> {
			let worker = TelemetryWorker::new(16)?;
			let telemetry = worker.handle().new_telemetry(endpoints);
			Ok((worker, telemetry))
		})
		.transpose()?;

	let executor = sc_service::new_wasm_executor::<sp_io::SubstrateHostFunctions>(&config.executor);
	let (client, backend, keystore_container, task_manager) =
		sc_service::new_full_parts::<Block, RuntimeApi, _>(
			config,
			telemetry.as_ref().map(|(_, telemetry)| telemetry.handle()),
			executor,
			Vec::new(),
		)?;
	let client = Arc::new(client);

	let telemetry = telemetry.map(|(worker, telemetry)| {
		task_manager.spawn_handle().spawn("telemetry", None, worker.run());
		telemetry
	});

	let select_chain = sc_consensus::LongestChain::new(backend.clone());

	let transaction_pool = Arc::from(
		sc_transaction_pool::Builder::new(
			task_manager.spawn_essential_handle(),
			client.clone(),
			config.role.is_authority().into(),
		)
		.with_options(config.transaction_pool.clone())
		.with_prometheus(config.prometheus_registry())
		.build(),
	);

	let (grandpa_block_import, grandpa_link) = sc_consensus_grandpa::block_import(
		client.clone(),
		GRANDPA_JUSTIFICATION_PERIOD,
		&client,
		select_chain.clone(),
		telemetry.as_ref().map(|x| x.handle()),
	)?;

	let cidp_client = client.clone();
	let import_queue =
		sc_consensus_aura::import_queue::<AuraPair, _, _, _, _, _>(ImportQueueParams {
			block_import: grandpa_block_import.clone(),
			justification_import: Some(Box::new(grandpa_block_import.clone())),
			client: client.clone(),
			create_inherent_data_providers: move |parent_hash, _| {
				let cidp_client = cidp_client.clone();
				async move {
					let slot_duration = sc_consensus_aura::standalone::slot_duration_at(
						&*cidp_client,
						parent_hash,
					)?;
					let timestamp = sp_timestamp::InherentDataProvider::from_system_time();
					let slot =
						sp_consensus_aura::inherents::InherentDataProvider::from_timestamp_and_slot_duration(
							*timestamp,
							slot_duration,
						);
					Ok((slot, timestamp))
				}
			},
			spawner: &task_manager.spawn_essential_handle(),
			registry: config.prometheus_registry(),
			check_for_equivocation: Default::default(),
			telemetry: telemetry.as_ref().map(|x| x.handle()),
			compatibility_mode: Default::default(),
		})?;

	Ok(sc_service::PartialComponents {
		client,
		backend,
		task_manager,
		import_queue,
		keystore_container,
		select_chain,
		transaction_pool,
		other: (grandpa_block_import, grandpa_link, telemetry),
	})
}

/// Builds and starts a full node (an authority when started with `--validator` or `--dev`).
pub fn new_full<N: sc_network::NetworkBackend<Block, <Block as BlockT>::Hash>>(
	config: Configuration,
	compute: ComputeArgs,
) -> Result<TaskManager, ServiceError> {
	let sc_service::PartialComponents {
		client,
		backend,
		mut task_manager,
		import_queue,
		keystore_container,
		select_chain,
		transaction_pool,
		other: (block_import, grandpa_link, mut telemetry),
	} = new_partial(&config)?;

	let mut net_config = sc_network::config::FullNetworkConfiguration::<
		Block,
		<Block as BlockT>::Hash,
		N,
	>::new(&config.network, config.prometheus_registry().cloned());
	let metrics = N::register_notification_metrics(config.prometheus_registry());

	let peer_store_handle = net_config.peer_store_handle();
	let genesis_hash = client
		.block_hash(0)
		.ok()
		.flatten()
		.ok_or_else(|| ServiceError::Other("the genesis block is missing".into()))?;
	let grandpa_protocol_name =
		sc_consensus_grandpa::protocol_standard_name(&genesis_hash, &config.chain_spec);
	let (grandpa_protocol_config, grandpa_notification_service) =
		sc_consensus_grandpa::grandpa_peers_set_config::<_, N>(
			grandpa_protocol_name.clone(),
			metrics.clone(),
			peer_store_handle,
		);
	net_config.add_notification_protocol(grandpa_protocol_config);

	let warp_sync = Arc::new(sc_consensus_grandpa::warp_proof::NetworkProvider::new(
		backend.clone(),
		grandpa_link.shared_authority_set().clone(),
		Vec::default(),
	));

	let (network, system_rpc_tx, tx_handler_controller, sync_service, _bitswap) =
		sc_service::build_network(sc_service::BuildNetworkParams {
			config: &config,
			net_config,
			client: client.clone(),
			transaction_pool: transaction_pool.clone(),
			spawn_handle: task_manager.spawn_handle(),
			spawn_essential_handle: task_manager.spawn_essential_handle(),
			import_queue,
			block_announce_validator_builder: None,
			warp_sync_config: Some(WarpSyncConfig::WithProvider(warp_sync)),
			block_relay: None,
			metrics,
			gap_sync_body_policy: None,
		})?;

	insert_worker_keys(&keystore_container.keystore(), &compute.worker_keys)?;
	let engine_url = if config.offchain_worker.enabled {
		let chain = chain_state(client.clone());
		let signer = worker_key_signer(keystore_container.keystore());
		let engine = start_compute_engine(&config, &compute, &task_manager, chain, signer)?;
		publish_engine(&backend, engine.as_ref());
		engine.map(|engine| engine.url)
	} else {
		None
	};

	if config.offchain_worker.enabled {
		let offchain_workers =
			sc_offchain::OffchainWorkers::new(sc_offchain::OffchainWorkerOptions {
				runtime_api_provider: client.clone(),
				is_validator: config.role.is_authority(),
				keystore: Some(keystore_container.keystore()),
				offchain_db: backend.offchain_storage(),
				transaction_pool: Some(OffchainTransactionPoolFactory::new(
					transaction_pool.clone(),
				)),
				network_provider: Arc::new(network.clone()),
				enable_http_requests: true,
				custom_extensions: |_| vec![],
			})?;
		task_manager.spawn_handle().spawn(
			"offchain-workers-runner",
			"offchain-worker",
			offchain_workers.run(client.clone(), task_manager.spawn_handle()).boxed(),
		);
	}

	let role = config.role;
	let force_authoring = config.force_authoring;
	let backoff_authoring_blocks: Option<()> = None;
	let name = config.network.node_name.clone();
	let enable_grandpa = !config.disable_grandpa;
	let prometheus_registry = config.prometheus_registry().cloned();

	let rpc_extensions_builder = {
		let client = client.clone();
		let pool = transaction_pool.clone();

		Box::new(move |_| {
			let deps = crate::rpc::FullDeps {
				client: client.clone(),
				pool: pool.clone(),
				engine_url: engine_url.clone(),
			};
			crate::rpc::create_full(deps).map_err(Into::into)
		})
	};

	let _rpc_handlers = sc_service::spawn_tasks(sc_service::SpawnTasksParams {
		network: Arc::new(network.clone()),
		client: client.clone(),
		keystore: keystore_container.keystore(),
		task_manager: &mut task_manager,
		transaction_pool: transaction_pool.clone(),
		rpc_builder: rpc_extensions_builder,
		backend,
		system_rpc_tx,
		tx_handler_controller,
		sync_service: sync_service.clone(),
		config,
		telemetry: telemetry.as_mut(),
		tracing_execute_block: None,
	})?;

	if role.is_authority() {
		let proposer_factory = sc_basic_authorship::ProposerFactory::new(
			task_manager.spawn_handle(),
			client.clone(),
			transaction_pool.clone(),
			prometheus_registry.as_ref(),
			telemetry.as_ref().map(|x| x.handle()),
		);

		let slot_duration = sc_consensus_aura::slot_duration::<AuraId, _, _>(&*client)?;

		let aura = sc_consensus_aura::start_aura::<AuraPair, _, _, _, _, _, _, _, _, _, _>(
			StartAuraParams {
				slot_duration,
				client,
				select_chain,
				block_import,
				proposer_factory,
				create_inherent_data_providers: move |_, ()| async move {
					let timestamp = sp_timestamp::InherentDataProvider::from_system_time();
					let slot =
						sp_consensus_aura::inherents::InherentDataProvider::from_timestamp_and_slot_duration(
							*timestamp,
							slot_duration,
						);
					Ok((slot, timestamp))
				},
				force_authoring,
				backoff_authoring_blocks,
				keystore: keystore_container.keystore(),
				sync_oracle: sync_service.clone(),
				justification_sync_link: sync_service.clone(),
				block_proposal_slot_portion: SlotProportion::new(2f32 / 3f32),
				max_block_proposal_slot_portion: None,
				telemetry: telemetry.as_ref().map(|x| x.handle()),
				compatibility_mode: Default::default(),
			},
		)?;

		// Block authoring is essential: if it stops, the node stops.
		task_manager.spawn_essential_handle().spawn_blocking("aura", Some("block-authoring"), aura);
	}

	if enable_grandpa {
		// Only authorities vote, so only they need the keystore.
		let keystore = if role.is_authority() { Some(keystore_container.keystore()) } else { None };

		let grandpa_config = sc_consensus_grandpa::Config {
			gossip_duration: Duration::from_millis(333),
			justification_generation_period: GRANDPA_JUSTIFICATION_PERIOD,
			name: Some(name),
			observer_enabled: false,
			keystore,
			local_role: role,
			telemetry: telemetry.as_ref().map(|x| x.handle()),
			protocol_name: grandpa_protocol_name,
		};

		let grandpa_params = sc_consensus_grandpa::GrandpaParams {
			config: grandpa_config,
			link: grandpa_link,
			network,
			sync: Arc::new(sync_service),
			notification_service: grandpa_notification_service,
			voting_rule: sc_consensus_grandpa::VotingRulesBuilder::default().build(),
			prometheus_registry,
			shared_voter_state: SharedVoterState::empty(),
			telemetry: telemetry.as_ref().map(|x| x.handle()),
			offchain_tx_pool_factory: OffchainTransactionPoolFactory::new(transaction_pool),
		};

		// The voter is essential too: finality stops without it.
		task_manager.spawn_essential_handle().spawn_blocking(
			"grandpa-voter",
			None,
			sc_consensus_grandpa::run_grandpa_voter(grandpa_params)?,
		);
	}

	Ok(task_manager)
}

/// Puts the given compute worker keys (`aicc`, sr25519) into the keystore.
/// The `--byzantine-federated` members: `<SURI>=<behaviour>`, on dev and local chains only.
fn byzantine_members(
	specs: &[String],
	chain: sc_service::ChainType,
) -> Result<Vec<([u8; 32], aicchain_worker::federated::Behaviour)>, ServiceError> {
	if !specs.is_empty()
		&& !matches!(chain, sc_service::ChainType::Development | sc_service::ChainType::Local)
	{
		return Err(ServiceError::Other(
			"--byzantine-federated injects faults: dev and local chains only".into(),
		));
	}
	specs
		.iter()
		.map(|spec| {
			let (suri, behaviour) = spec.rsplit_once('=').ok_or_else(|| {
				ServiceError::Other(format!(
					"--byzantine-federated {spec}: expected SURI=BEHAVIOUR"
				))
			})?;
			let pair = <sp_core::sr25519::Pair as sp_core::Pair>::from_string(suri, None)
				.map_err(|e| ServiceError::Other(format!("--byzantine-federated {suri}: {e:?}")))?;
			let behaviour = behaviour.parse().map_err(ServiceError::Other)?;
			log::warn!(
				"🧨 fault injection: federated updates of {} are {behaviour:?}",
				sp_core::crypto::Ss58Codec::to_ss58check(&sp_core::Pair::public(&pair))
			);
			Ok((sp_core::Pair::public(&pair).0, behaviour))
		})
		.collect()
}

fn insert_worker_keys(
	keystore: &sp_keystore::KeystorePtr,
	suris: &[String],
) -> Result<(), ServiceError> {
	for suri in suris {
		let public = keystore
			.sr25519_generate_new(aicchain_primitives::worker_key::KEY_TYPE, Some(suri))
			.map_err(|e| ServiceError::Other(format!("worker key {suri}: {e}")))?;
		log::info!("🔑 compute worker key {}", sp_core::crypto::Ss58Codec::to_ss58check(&public));
	}
	Ok(())
}

/// Signs the engine's fetches from peers with a compute worker key of the keystore: an active
/// validator's if it holds one (it may hold several, and only those open any weights:
/// [`aicchain_worker::access`]), else the first. Looked up at each signature, so a key
/// inserted later over RPC counts.
fn worker_key_signer(keystore: sp_keystore::KeystorePtr) -> aicchain_worker::access::Signer {
	use aicchain_primitives::worker_key::KEY_TYPE;
	aicchain_worker::access::Signer::new(move |message, preferred| {
		let keys = keystore.sr25519_public_keys(KEY_TYPE);
		let public = *keys.iter().find(|k| preferred.contains(&k.0)).or(keys.first())?;
		let signature = keystore.sr25519_sign(KEY_TYPE, &public, message).ok()??;
		Some((public.0, signature.0))
	})
}

/// The chain's state at the best block, for the in-process engine: users' uploads are checked
/// against the dataset records, public datasets it lacks fetched from peers, and paid queries'
/// vouchers checked.
fn chain_state(client: Arc<FullClient>) -> aicchain_worker::inference::ChainState {
	use sc_client_api::StorageProvider;
	aicchain_worker::inference::ChainState::new(move |key: &[u8]| {
		let best = sp_blockchain::HeaderBackend::info(&*client).best_hash;
		let data = client.storage(best, &sc_client_api::StorageKey(key.to_vec())).ok().flatten()?;
		Some(data.0)
	})
}

/// Where the off-chain worker reaches its compute engine, and the token its `/ocw` endpoint
/// expects.
struct EngineAccess {
	url: String,
	token: Option<String>,
}

/// Starts the in-process compute engine (unless disabled or remote) and says how to reach it.
fn start_compute_engine(
	config: &Configuration,
	compute: &ComputeArgs,
	task_manager: &TaskManager,
	chain_state: aicchain_worker::inference::ChainState,
	signer: aicchain_worker::access::Signer,
) -> Result<Option<EngineAccess>, ServiceError> {
	if compute.no_compute_engine {
		log::info!("🧠 compute engine disabled (--no-compute-engine)");
		return Ok(None);
	}
	if let Some(url) = &compute.compute_engine_url {
		log::info!("🧠 using the compute engine at {url}");
		let url = url.trim_end_matches('/').to_string();
		return Ok(Some(EngineAccess { url, token: compute.compute_engine_token.clone() }));
	}
	// A fresh secret per start for the engine's write endpoint: 32 bytes from the OS's
	// randomness (the seed of a throwaway key pair).
	let token = hex::encode(<sp_core::sr25519::Pair as sp_core::Pair>::generate().1);
	let root = config.base_path.path().join("compute");
	let engine_config = aicchain_worker::EngineConfig {
		dataset_dir: compute.compute_dataset_dir.clone().unwrap_or_else(|| root.join("datasets")),
		model_dir: compute.compute_model_dir.clone().unwrap_or_else(|| root.join("models")),
		policy_path: root.join("policy.safetensors"),
		device: compute.compute_device.clone(),
		peers: compute.compute_peers.clone(),
		ocw_token: Some(token.clone()),
		allow_private_engines: compute.compute_allow_private_engines
			|| matches!(
				config.chain_spec.chain_type(),
				sc_service::ChainType::Development | sc_service::ChainType::Local
			),
		chain_datasets: Some(aicchain_worker::dataset::ChainDatasets::from_state(
			chain_state.clone(),
		)),
		chain_state: Some(chain_state),
		voucher_dir: root.join("vouchers"),
		signer: Some(signer),
		byzantine: byzantine_members(&compute.byzantine_federated, config.chain_spec.chain_type())?,
	};
	let engine = aicchain_worker::Engine::start(engine_config)
		.map_err(|e| ServiceError::Other(format!("compute engine: {e}")))?;
	let wanted = compute.compute_engine_listen;
	let listener = std::net::TcpListener::bind(wanted)
		.or_else(|e| {
			// Several nodes on one host (tests, a local testnet): the first takes the port.
			if e.kind() != std::io::ErrorKind::AddrInUse {
				return Err(e);
			}
			log::warn!("🧠 {wanted} is taken: the compute engine listens on a free port");
			std::net::TcpListener::bind(std::net::SocketAddr::new(wanted.ip(), 0))
		})
		.and_then(|l| l.set_nonblocking(true).map(|()| l))
		.and_then(tokio::net::TcpListener::from_std)
		.map_err(|e| {
			ServiceError::Other(format!("compute engine on {}: {e}", compute.compute_engine_listen))
		})?;
	let address = listener.local_addr().map_err(|e| ServiceError::Other(e.to_string()))?;
	task_manager.spawn_essential_handle().spawn(
		"compute-engine",
		Some("compute"),
		aicchain_worker::http::serve(engine, listener),
	);
	// The worker calls the engine on this host; peers use the address the owner publishes.
	let local = if address.ip().is_unspecified() {
		std::net::SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), address.port())
	} else {
		address
	};
	let url = format!("http://{local}");
	log::info!(
		"🧠 compute engine on {url} (listening on {address}, device {})",
		compute.compute_device
	);
	Ok(Some(EngineAccess { url, token: Some(token) }))
}

/// Tells the runtime's off-chain worker where the engine is and the token it expects
/// (persistent offchain storage).
fn publish_engine(backend: &FullBackend, engine: Option<&EngineAccess>) {
	use sp_core::offchain::OffchainStorage;
	let Some(mut storage) = sc_client_api::Backend::offchain_storage(backend) else {
		return;
	};
	let prefix = sp_core::offchain::STORAGE_PREFIX;
	let entries = [
		(pallet_compute_jobs::ENGINE_URL_KEY, engine.map(|e| e.url.clone())),
		(pallet_compute_jobs::ENGINE_TOKEN_KEY, engine.and_then(|e| e.token.clone())),
	];
	for (key, value) in entries {
		match value {
			Some(value) => storage.set(prefix, key, &codec::Encode::encode(&value.into_bytes())),
			None => storage.remove(prefix, key),
		}
	}
}

#[cfg(test)]
mod tests {
	/// A standalone engine (`aicchain-worker serve --node-rpc`) reads the chain's dataset
	/// records under the key it computes itself: the runtime's.
	#[test]
	fn a_standalone_engine_reads_the_runtimes_dataset_records() {
		for hash in [[0u8; 32], [7; 32], aicchain_primitives::datasets::CORPUS_HASH] {
			assert_eq!(
				aicchain_worker::dataset::datasets_key(&hash),
				pallet_compute_jobs::Datasets::<aicchain_runtime::Runtime>::hashed_key_for(
					sp_core::H256(hash)
				)
			);
		}
	}

	/// A node whose keystore holds several worker keys (zombienet's hold the validator's and a
	/// provider's) signs its fetches with the active validator's: signing with the first one
	/// found had every verifier refused the weights it had to check.
	#[test]
	fn the_engine_signs_with_the_active_worker_key_among_several() {
		use aicchain_primitives::worker_key::KEY_TYPE;
		let keystore: sp_keystore::KeystorePtr =
			std::sync::Arc::new(sp_keystore::testing::MemoryKeystore::new());
		let alice = keystore.sr25519_generate_new(KEY_TYPE, Some("//Alice")).expect("key");
		let bob = keystore.sr25519_generate_new(KEY_TYPE, Some("//Bob")).expect("key");
		let signer = super::worker_key_signer(keystore);
		for wanted in [alice, bob] {
			let header = aicchain_worker::access::sign_fetch(
				&signer,
				&sp_core::H256::zero(),
				"/models/0x00",
				&[wanted.0],
			)
			.expect("signs");
			assert!(header.starts_with(&format!("0x{}.", hex::encode(wanted.0))), "{header}");
		}
	}

	/// Engines read who may fetch weights under the runtime's keys, and decode its records.
	#[test]
	fn engines_read_the_runtimes_model_records_and_worker_keys() {
		use aicchain_runtime::Runtime;
		use aicchain_worker::access::keys;
		let who = sp_runtime::AccountId32::new([5; 32]);
		assert_eq!(keys::model(3), pallet_model_registry::Models::<Runtime>::hashed_key_for(3));
		assert_eq!(keys::version(4), pallet_model_registry::Versions::<Runtime>::hashed_key_for(4));
		assert_eq!(
			keys::allowed(3, &who),
			pallet_model_registry::Allowed::<Runtime>::hashed_key_for(3, &who)
		);
		assert_eq!(
			keys::active_workers(),
			frame_support::storage::storage_prefix(
				<aicchain_runtime::ValidatorSet as frame_support::traits::PalletInfoAccess>::name()
					.as_bytes(),
				b"ActiveWorkers"
			)
			.to_vec()
		);
		let model: pallet_model_registry::ModelOf<Runtime> = pallet_model_registry::Model {
			owner: who.clone(),
			name: b"credit".to_vec().try_into().expect("short"),
			public: false,
			root: 1,
			latest: 2,
			versions: 2,
			allowed: 1,
			created_at: 9,
		};
		let decoded = <aicchain_worker::access::ModelRecord as codec::Decode>::decode(
			&mut &codec::Encode::encode(&model)[..],
		)
		.expect("decodes");
		assert_eq!((decoded.owner, decoded.public, decoded.latest), (who, false, 2));
	}
}
