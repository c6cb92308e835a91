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
	let patch_bytes = genesis::get_preset(&PresetId::from(name)).expect("preset exists");
	let patch: serde_json::Value = serde_json::from_slice(&patch_bytes).expect("patch is JSON");
	let mut config = serde_json::to_value(RuntimeGenesisConfig::default()).expect("serialises");
	merge(&mut config, patch);
	let config: RuntimeGenesisConfig =
		serde_json::from_value(config).expect("preset decodes into RuntimeGenesisConfig");
	config.build_storage().expect("genesis storage builds").into()
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
	assert!(VERSION.spec_version >= 100);
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
		assert_eq!(Balances::total_issuance(), DEV_AICC_ENDOWMENT * accounts.len() as u128);
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
