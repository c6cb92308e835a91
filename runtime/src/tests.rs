//! Runtime-level tests: genesis presets, version and token metadata.

use crate::{
	currency::*,
	genesis::{self, DEV_AICC_ENDOWMENT, DEV_AICG_ENDOWMENT},
	AccountId, Aicg, Balances, BuildStorage, Grandpa, Runtime, RuntimeGenesisConfig, VERSION,
};
use frame_support::traits::fungible::Inspect;
use sp_genesis_builder::PresetId;
use sp_keyring::Sr25519Keyring;

/// Builds the genesis storage of a named preset the way the node does: the preset's JSON patch
/// merged over the default genesis config.
fn preset_ext(name: &str) -> sp_io::TestExternalities {
	preset_storage(name).into()
}

/// The genesis storage of a named preset, built as `preset_ext` builds it.
pub(crate) fn preset_storage(name: &str) -> sp_runtime::Storage {
	let patch_bytes = genesis::get_preset(&PresetId::from(name)).expect("preset exists");
	let patch: serde_json::Value = serde_json::from_slice(&patch_bytes).expect("patch is JSON");
	let mut config = serde_json::to_value(RuntimeGenesisConfig::default()).expect("serialises");
	merge(&mut config, patch);
	let config: RuntimeGenesisConfig =
		serde_json::from_value(config).expect("preset decodes into RuntimeGenesisConfig");
	config.build_storage().expect("genesis storage builds")
}

fn merge(base: &mut serde_json::Value, patch: serde_json::Value) {
	match (base, patch) {
		(serde_json::Value::Object(base), serde_json::Value::Object(patch)) => {
			for (key, value) in patch {
				merge(base.entry(key).or_insert(serde_json::Value::Null), value);
			}
		},
		(base, patch) => *base = patch,
	}
}

fn account(who: Sr25519Keyring) -> AccountId {
	who.to_account_id()
}

#[test]
fn runtime_version_names_the_chain() {
	assert_eq!(VERSION.spec_name, "aicchain");
	assert_eq!(VERSION.impl_name, "aicchain");
	const { assert!(VERSION.spec_version >= 100) };
}

#[test]
fn token_metadata_matches_the_product() {
	assert_eq!(TOKEN_SYMBOL, "AICC");
	assert_eq!(GOVERNANCE_TOKEN_SYMBOL, "AICG");
	assert_eq!(TOKEN_DECIMALS, 12);
	assert_eq!(UNIT, 10u128.pow(TOKEN_DECIMALS as u32));
	assert_eq!(SS58_FORMAT, 42);
	assert_eq!(<Runtime as frame_system::Config>::SS58Prefix::get() as u16, SS58_FORMAT);
}

#[test]
fn preset_names_are_development_and_local_testnet() {
	let names: Vec<String> = genesis::preset_names()
		.into_iter()
		.map(|id| String::from_utf8(id.into()).expect("utf8"))
		.collect();
	assert_eq!(names, vec!["development".to_string(), "local_testnet".to_string()]);
	assert!(genesis::get_preset(&PresetId::from("no_such_preset")).is_none());
}

#[test]
fn development_preset_has_alice_alone_and_funds_dev_accounts() {
	preset_ext(sp_genesis_builder::DEV_RUNTIME_PRESET).execute_with(|| {
		assert_eq!(pallet_aura::Authorities::<Runtime>::get().len(), 1);
		assert_eq!(Grandpa::grandpa_authorities().len(), 1);
		assert_eq!(
			pallet_aura::Authorities::<Runtime>::get().first().cloned(),
			Some(Sr25519Keyring::Alice.public().into())
		);
		assert_eq!(pallet_sudo::Key::<Runtime>::get(), Some(account(Sr25519Keyring::Alice)));

		let accounts = genesis::dev_accounts();
		assert_eq!(accounts.len(), 12);
		for who in &accounts {
			assert_eq!(Balances::balance(who), DEV_AICC_ENDOWMENT);
			assert_eq!(Aicg::balance(who), DEV_AICG_ENDOWMENT);
		}
		// The inference dividends' account holds the existential deposit from genesis.
		assert_eq!(Balances::balance(&crate::inference_account()), EXISTENTIAL_DEPOSIT);
		assert_eq!(
			Balances::total_issuance(),
			DEV_AICC_ENDOWMENT * accounts.len() as u128
				+ genesis::DEV_FUND_ENDOWMENT
				+ EXISTENTIAL_DEPOSIT
		);
		assert_eq!(
			Balances::balance(&crate::community_fund_account()),
			genesis::DEV_FUND_ENDOWMENT
		);
		assert_eq!(Aicg::total_issuance(), DEV_AICG_ENDOWMENT * accounts.len() as u128);
	});
}

#[test]
fn local_testnet_preset_has_four_validators() {
	preset_ext(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET).execute_with(|| {
		let aura = pallet_aura::Authorities::<Runtime>::get();
		let expected: Vec<sp_consensus_aura::sr25519::AuthorityId> = [
			Sr25519Keyring::Alice,
			Sr25519Keyring::Bob,
			Sr25519Keyring::Charlie,
			Sr25519Keyring::Dave,
		]
		.iter()
		.map(|k| k.public().into())
		.collect();
		assert_eq!(aura.into_inner(), expected);
		assert_eq!(Grandpa::grandpa_authorities().len(), 4);
		assert_eq!(Aicg::balance(&account(Sr25519Keyring::Dave)), DEV_AICG_ENDOWMENT);
	});
}

#[test]
fn aicg_is_a_separate_ledger_from_aicc() {
	preset_ext(sp_genesis_builder::DEV_RUNTIME_PRESET).execute_with(|| {
		let alice = account(Sr25519Keyring::Alice);
		let bob = account(Sr25519Keyring::Bob);
		frame_support::assert_ok!(Aicg::transfer_allow_death(
			crate::RuntimeOrigin::signed(alice.clone()),
			bob.clone().into(),
			5 * UNIT
		));
		assert_eq!(Aicg::balance(&alice), DEV_AICG_ENDOWMENT - 5 * UNIT);
		assert_eq!(Aicg::balance(&bob), DEV_AICG_ENDOWMENT + 5 * UNIT);
		// AICC is untouched by an AICG transfer.
		assert_eq!(Balances::balance(&alice), DEV_AICC_ENDOWMENT);
		assert_eq!(Balances::balance(&bob), DEV_AICC_ENDOWMENT);
	});
}

#[test]
fn metadata_v15_is_available() {
	let versions = Runtime::metadata_versions();
	assert!(versions.contains(&15), "metadata versions: {versions:?}");
	assert!(Runtime::metadata_at_version(15).is_some());
}

mod compute_market {
	use super::*;
	use crate::{
		community_fund_account, genesis::DEV_FUND_ENDOWMENT, CommunityFund, ComputeJobs,
		ComputeRegistry, RuntimeOrigin, System,
	};
	use aicchain_primitives::{
		JobRequirements, ModelKind, NodeSpec, QuantisedMetrics, Region, SustainabilityPreference,
		TrainingSpec,
	};
	use frame_support::{assert_ok, traits::fungible::InspectHold};
	use pallet_compute_jobs::{JobStatus, Receipts};
	use sp_core::H256;
	use sp_runtime::{Perbill, Percent};

	/// One job end to end on the dev preset: Alice is the only validator (and so the only
	/// verifier), Bob runs a solar node whose worker key is Charlie, Dave pays for the job.
	#[test]
	fn one_job_end_to_end_settles_every_balance_to_the_unit() {
		preset_ext(sp_genesis_builder::DEV_RUNTIME_PRESET).execute_with(|| {
			System::set_block_number(1);
			let (alice, bob, charlie, dave) = (
				account(Sr25519Keyring::Alice),
				account(Sr25519Keyring::Bob),
				account(Sr25519Keyring::Charlie),
				account(Sr25519Keyring::Dave),
			);
			let fund = community_fund_account();
			let aicc_issuance = Balances::total_issuance();
			let bond = <Runtime as pallet_compute_registry::Config>::NodeBond::get();

			let spec = NodeSpec {
				gpu_count: 8,
				gpu_memory_gib: 80,
				bandwidth_mbps: 150,
				latency_ms: 10,
				region: Region::truncate_from(b"eu-north".to_vec()),
				renewable_share: Percent::from_percent(100),
				carbon_intensity: 20,
				price_per_gpu_hour: 2 * UNIT,
			};
			assert_ok!(ComputeRegistry::register_node(
				RuntimeOrigin::signed(bob.clone()),
				spec,
				charlie.clone()
			));
			// Charlie's key signs for Bob's node only once Charlie accepts.
			assert_ok!(ComputeRegistry::accept_worker(RuntimeOrigin::signed(charlie.clone()), 0));

			let requirements = JobRequirements {
				gpus: 8,
				min_bandwidth_mbps: 100,
				max_latency_ms: 15,
				gpu_hours: 5,
				sustainability: SustainabilityPreference::PreferRenewable,
				training: Some(TrainingSpec {
					dataset: H256(aicchain_primitives::datasets::CREDIT_SCORING_HASH),
					model: ModelKind::MlpClassifier,
					hidden_units: 32,
					hidden_layers: 2,
					learning_rate_millionths: 1_000,
					epochs: 10,
					seed: 1,
					min_score: Default::default(),
					parent: None,
				}),
			};
			let budget = 100 * UNIT;
			assert_ok!(ComputeJobs::submit_job(
				RuntimeOrigin::signed(dave.clone()),
				requirements,
				budget
			));
			// Alice alone is the validator set: her proposal is the majority.
			assert_ok!(ComputeJobs::propose_assignment(RuntimeOrigin::signed(alice.clone()), 0, 0));
			let cost = 8 * 5 * 2 * UNIT;
			assert_eq!(
				pallet_compute_jobs::Jobs::<Runtime>::get(0).map(|j| j.status),
				Some(JobStatus::Assigned { node: 0, cost })
			);
			let metrics = QuantisedMetrics {
				score: Perbill::from_percent(91),
				loss_millionths: 250_000,
				eval_samples: 400,
			};
			assert_ok!(ComputeJobs::submit_result(
				RuntimeOrigin::signed(charlie.clone()),
				0,
				H256::repeat_byte(0xab),
				metrics,
				ComputeJobs::expected_commitment(0, H256::repeat_byte(7))
			));
			assert_ok!(ComputeJobs::attest(RuntimeOrigin::signed(alice.clone()), 0, true));

			// 80 AICC cost: 72 to Bob, 8 to the fund; 100% renewable × 5% × 80 = 4 AICC bonus.
			let (provider_amount, fund_amount, bonus) = (72 * UNIT, 8 * UNIT, 4 * UNIT);
			assert_eq!(
				pallet_compute_jobs::Jobs::<Runtime>::get(0).map(|j| j.status),
				Some(JobStatus::Settled { node: 0 })
			);
			assert_eq!(Balances::balance(&dave), DEV_AICC_ENDOWMENT - cost);
			assert_eq!(
				Balances::balance(&bob),
				DEV_AICC_ENDOWMENT - bond + provider_amount + bonus
			);
			assert_eq!(
				Balances::balance_on_hold(
					&pallet_compute_registry::HoldReason::NodeBond.into(),
					&bob
				),
				bond
			);
			assert_eq!(Balances::balance(&fund), DEV_FUND_ENDOWMENT + fund_amount - bonus);
			assert_eq!(Balances::balance(&charlie), DEV_AICC_ENDOWMENT);
			assert_eq!(Balances::total_issuance(), aicc_issuance);

			let receipt = Receipts::<Runtime>::get(0).expect("receipt");
			assert_eq!(receipt.cost, cost);
			assert_eq!(receipt.saving, budget - cost);
			assert_eq!(receipt.renewable_bonus, bonus);
			// 40 GPU-hours × 400 Wh = 16 kWh: 320 g at 20 g/kWh against 7,600 g on the reference grid.
			assert_eq!(receipt.carbon_grams, 320);
			assert_eq!(receipt.carbon_reduction_grams, 7_280);

			// AICG against what the fund kept (8 AICC share − 4 AICC bonus = 4 AICC), 1 AICG
			// per AICC: 10% to Alice, the verifier, at once; 90% into the hour's reward pool,
			// with Bob's 4 points, below the 5-point threshold: they roll over, nothing to claim.
			assert_eq!(Aicg::balance(&alice), DEV_AICG_ENDOWMENT + 4 * UNIT / 10);
			assert_eq!(Aicg::balance(&bob), DEV_AICG_ENDOWMENT);
			assert_eq!(pallet_community_fund::Periods::<Runtime>::get(0).pool, 36 * UNIT / 10);
			let standing = CommunityFund::contribution_view(&bob);
			assert_eq!((standing.points, standing.qualified), (4 * UNIT, false));
			assert!(CommunityFund::claim_period_reward(RuntimeOrigin::signed(bob.clone())).is_err());

			// The verified model is Dave's model 0, version 0, worth what he paid for it.
			let version = pallet_model_registry::Versions::<Runtime>::get(0).expect("version 0");
			assert_eq!((version.model, version.job, version.parent), (0, 0, None));
			assert_eq!((version.trainer, version.provider), (dave.clone(), bob.clone()));
			assert_eq!((version.cost, version.model_hash), (cost, H256::repeat_byte(0xab)));
			assert_eq!(version.metrics, metrics);
			let model = crate::ModelRegistry::api_model(0).expect("model 0");
			assert_eq!((model.owner, model.public, model.versions), (dave.clone(), false, 1));
			assert!(crate::ModelRegistry::can_fetch(0, &dave));
			assert!(!crate::ModelRegistry::can_fetch(0, &bob));

			assert_ok!(pallet_compute_registry::Pallet::<Runtime>::do_try_state());
			assert_ok!(pallet_compute_jobs::Pallet::<Runtime>::do_try_state());
			assert_ok!(pallet_model_registry::Pallet::<Runtime>::do_try_state());
		});
	}

	#[test]
	fn only_current_validators_may_propose() {
		preset_ext(sp_genesis_builder::DEV_RUNTIME_PRESET).execute_with(|| {
			System::set_block_number(1);
			use pallet_compute_jobs::ValidatorWorkers;
			let alice = account(Sr25519Keyring::Alice);
			let bob = account(Sr25519Keyring::Bob);
			assert!(crate::configs::SessionValidatorWorkers::is_validator_worker(&alice));
			assert!(!crate::configs::SessionValidatorWorkers::is_validator_worker(&bob));
			assert_eq!(crate::configs::SessionValidatorWorkers::count(), 1);
		});
	}
}

/// Replays the seed demo on the dev preset: a credit-scoring job for 8 GPUs, 100 Mbps, 15 ms;
/// three nodes (two solar, one on grid power); the chain's choice; the 90/10 split; a 50% subsidy
/// voted by AICG holders and applied; the renewable bonus; and every final balance, exactly.
#[test]
fn seed_demo() {
	use crate::{
		community_fund_account, genesis::DEV_FUND_ENDOWMENT, CommunityFund, ComputeJobs,
		ComputeRegistry, RuntimeOrigin, System,
	};
	use aicchain_primitives::{
		JobRequirements, ModelKind, NodeSpec, QuantisedMetrics, Region, SubsidyScope,
		SustainabilityPreference, TrainingSpec,
	};
	use frame_support::{
		assert_ok,
		traits::{fungible::InspectHold, Hooks},
	};
	use pallet_community_fund::{ActiveSubsidies, SubsidyTerms};
	use pallet_compute_jobs::{AssignmentRule, JobStatus, Receipts};
	use sp_core::H256;
	use sp_runtime::{Perbill, Percent};

	fn run_to_block(n: BlockNumber) {
		while System::block_number() < n {
			let next = System::block_number() + 1;
			System::set_block_number(next);
			CommunityFund::on_initialize(next);
			ComputeJobs::on_initialize(next);
		}
	}
	use crate::BlockNumber;

	preset_ext(sp_genesis_builder::DEV_RUNTIME_PRESET).execute_with(|| {
		System::set_block_number(1);
		let [alice, bob, charlie, dave, eve, ferdie] = [
			Sr25519Keyring::Alice,
			Sr25519Keyring::Bob,
			Sr25519Keyring::Charlie,
			Sr25519Keyring::Dave,
			Sr25519Keyring::Eve,
			Sr25519Keyring::Ferdie,
		]
		.map(account);
		let fund = community_fund_account();
		let bond = <Runtime as pallet_compute_registry::Config>::NodeBond::get();
		let aicc_issuance = Balances::total_issuance();
		let aicg_issuance = Aicg::total_issuance();

		// Three providers: Bob and Charlie run solar nodes, Dave a grid node. Each node's worker
		// key is the owner's `//worker` account.
		let node = |gpus, bandwidth, latency, renewable, carbon, price_milli: u128| NodeSpec {
			gpu_count: gpus,
			gpu_memory_gib: 80,
			bandwidth_mbps: bandwidth,
			latency_ms: latency,
			region: Region::truncate_from(b"eu-west".to_vec()),
			renewable_share: Percent::from_percent(renewable),
			carbon_intensity: carbon,
			price_per_gpu_hour: price_milli * MILLI_UNIT,
		};
		let worker = |who: &str| {
			AccountId::from(sp_io::hashing::blake2_256(format!("{who}//worker").as_bytes()))
		};
		let specs = [
			(bob.clone(), worker("Bob"), node(8, 150, 10, 100, 50, 1_250)),
			(charlie.clone(), worker("Charlie"), node(16, 200, 8, 90, 30, 2_000)),
			(dave.clone(), worker("Dave"), node(8, 120, 12, 0, 475, 1_100)),
		];
		for (id, (owner, worker, spec)) in specs.iter().cloned().enumerate() {
			assert_ok!(ComputeRegistry::register_node(
				RuntimeOrigin::signed(owner),
				spec,
				worker.clone()
			));
			assert_ok!(ComputeRegistry::accept_worker(RuntimeOrigin::signed(worker), id as u32));
		}

		// AICG holders vote a 50% subsidy for all jobs, paid by the community fund.
		let terms = SubsidyTerms {
			share: Perbill::from_percent(50),
			scope: SubsidyScope::AllJobs,
			per_job_cap: 100 * UNIT,
			total_budget: 100 * UNIT,
			duration: 1_000,
		};
		assert_ok!(CommunityFund::propose_subsidy(RuntimeOrigin::signed(alice.clone()), terms));
		assert_ok!(CommunityFund::vote(
			RuntimeOrigin::signed(alice.clone()),
			0,
			true,
			8_000 * UNIT
		));
		assert_ok!(CommunityFund::vote(
			RuntimeOrigin::signed(ferdie.clone()),
			0,
			true,
			6_000 * UNIT
		));
		assert_ok!(CommunityFund::vote(
			RuntimeOrigin::signed(dave.clone()),
			0,
			false,
			1_000 * UNIT
		));
		run_to_block(1 + crate::configs::VotingPeriod::get());
		assert_eq!(ActiveSubsidies::<Runtime>::get().first().map(|s| s.id), Some(0));

		// Eve submits the credit-scoring job with a 200 AICC budget.
		let requirements = JobRequirements {
			gpus: 8,
			min_bandwidth_mbps: 100,
			max_latency_ms: 15,
			gpu_hours: 10,
			sustainability: SustainabilityPreference::PreferRenewable,
			training: Some(TrainingSpec {
				dataset: H256(aicchain_primitives::datasets::CREDIT_SCORING_HASH),
				model: ModelKind::MlpClassifier,
				hidden_units: 32,
				hidden_layers: 2,
				learning_rate_millionths: 1_000,
				epochs: 30,
				seed: 42,
				min_score: Default::default(),
				parent: None,
			}),
		};
		let budget = 200 * UNIT;
		assert_ok!(ComputeJobs::submit_job(
			RuntimeOrigin::signed(eve.clone()),
			requirements,
			budget
		));
		let submitted_at = System::block_number();

		// Nobody proposes: when the window closes the chain's fixed-point score picks the node.
		// Bob's solar node: 1.25 AICC × (1000 + 50); Dave's grid node: 1.1 AICC × (1000 + 475).
		run_to_block(submitted_at + crate::configs::ProposalWindow::get());
		let cost = 100 * UNIT; // 8 GPUs × 10 h × 1.25 AICC
		assert_eq!(
			pallet_compute_jobs::Jobs::<Runtime>::get(0).map(|j| j.status),
			Some(JobStatus::Assigned { node: 0, cost })
		);
		System::assert_has_event(
			pallet_compute_jobs::Event::JobAssigned {
				job_id: 0,
				node_id: 0,
				cost,
				rule: AssignmentRule::Fallback,
			}
			.into(),
		);

		// Bob's worker publishes the model; Alice, the validator, verifies and accepts it.
		let metrics = QuantisedMetrics {
			score: Perbill::from_percent(88),
			loss_millionths: 290_000,
			eval_samples: 300,
		};
		assert_ok!(ComputeJobs::submit_result(
			RuntimeOrigin::signed(worker("Bob")),
			0,
			H256::repeat_byte(0x11),
			metrics,
			ComputeJobs::expected_commitment(0, H256::repeat_byte(7))
		));
		assert_ok!(ComputeJobs::attest(RuntimeOrigin::signed(alice.clone()), 0, true));

		// 100 AICC cost: 90 to Bob (50 of it paid by the subsidy), 10 to the fund; Eve pays 50.
		// Renewable bonus: 100% renewable × 5% × 100 = 5 AICC from the fund.
		let (subsidy, bonus) = (50 * UNIT, 5 * UNIT);
		let receipt = Receipts::<Runtime>::get(0).expect("receipt");
		assert_eq!(receipt.cost, cost);
		assert_eq!(receipt.provider_amount, 90 * UNIT);
		assert_eq!(receipt.fund_amount, 10 * UNIT);
		assert_eq!(receipt.subsidy, subsidy);
		assert_eq!(receipt.subsidy_id, Some(0));
		assert_eq!(receipt.user_paid, 50 * UNIT);
		assert_eq!(receipt.saving, 150 * UNIT);
		assert_eq!(receipt.renewable_bonus, bonus);
		// 80 GPU-hours × 400 Wh = 32 kWh: 1.6 kg at 50 g/kWh against 15.2 kg on the reference
		// grid, an 89% reduction.
		assert_eq!((receipt.carbon_grams, receipt.carbon_reduction_grams), (1_600, 13_600));
		assert_eq!(Perbill::from_rational(13_600u64, 15_200u64), Perbill::from_parts(894_736_842));

		assert_eq!(Balances::balance(&eve), DEV_AICC_ENDOWMENT - 50 * UNIT);
		assert_eq!(Balances::balance(&bob), DEV_AICC_ENDOWMENT - bond + 90 * UNIT + bonus);
		assert_eq!(Balances::total_balance_on_hold(&bob), bond);
		assert_eq!(Balances::balance(&fund), DEV_FUND_ENDOWMENT + 10 * UNIT - subsidy - bonus);
		assert_eq!(CommunityFund::committed_total(), 50 * UNIT);
		// The same figures through the runtime API's implementation.
		let status = CommunityFund::status();
		assert_eq!(status.account, fund);
		assert_eq!(status.balance, DEV_FUND_ENDOWMENT + 10 * UNIT - subsidy - bonus);
		assert_eq!(status.committed, 50 * UNIT);
		assert_eq!(status.uncommitted, status.balance - EXISTENTIAL_DEPOSIT - 50 * UNIT);
		assert_eq!(status.active_subsidies.first().map(|s| s.paid), Some(subsidy));
		// Charlie and Dave bonded and earned nothing; their bonds are intact.
		for owner in [&charlie, &dave] {
			assert_eq!(Balances::balance(owner), DEV_AICC_ENDOWMENT - bond);
		}
		assert_eq!(Balances::total_issuance(), aicc_issuance);

		// AICG is minted against what the fund keeps: its 10 AICC share less the 50 AICC subsidy
		// and 5 AICC bonus it paid back out is nothing, so this subsidised job mints no AICG.
		// Votes and the deposit were released when the vote closed.
		assert_eq!(Aicg::balance(&bob), DEV_AICG_ENDOWMENT);
		assert_eq!(Aicg::balance(&alice), DEV_AICG_ENDOWMENT);
		assert_eq!(Aicg::total_issuance(), aicg_issuance);
		assert_eq!(Aicg::total_balance_on_hold(&alice), 0);

		assert_ok!(pallet_compute_registry::Pallet::<Runtime>::do_try_state());
		assert_ok!(pallet_compute_jobs::Pallet::<Runtime>::do_try_state());
		assert_ok!(pallet_community_fund::Pallet::<Runtime>::do_try_state());
	});
}
