//! Genesis presets: `development` (Alice alone) and `local_testnet` (Alice, Bob, Charlie and
//! Dave, the 4-validator testnet). Both prefund the well-known dev accounts in AICC and AICG and
//! register the compute engine's built-in datasets (credit scoring, energy load).

use crate::{
	community_fund_account,
	currency::{EXISTENTIAL_DEPOSIT, UNIT},
	inference_account, AccountId, AicgConfig, Balance, BalancesConfig, ComputeJobsConfig,
	RuntimeGenesisConfig, SessionConfig, SessionKeys, SudoConfig, ValidatorSetConfig,
};
use alloc::{vec, vec::Vec};
use frame_support::build_struct_json_patch;
use serde_json::Value;
use sp_genesis_builder::{self, PresetId};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

/// AICC given to each prefunded dev account.
pub const DEV_AICC_ENDOWMENT: Balance = 1_000_000 * UNIT;
/// AICG given to each prefunded dev account.
pub const DEV_AICG_ENDOWMENT: Balance = 10_000 * UNIT;
/// AICC the community fund starts with on dev chains, so renewable bonuses flow from block one.
pub const DEV_FUND_ENDOWMENT: Balance = 1_000 * UNIT;

/// The validators of a preset: each one's account and session keys, block authoring (sr25519),
/// finality (ed25519) and its compute worker key (the same sr25519 key as its account, so that
/// `--alice` and `--worker-key //Alice` give a node every key it needs).
fn authorities(names: &[(Sr25519Keyring, Ed25519Keyring)]) -> Vec<(AccountId, SessionKeys)> {
	names
		.iter()
		.map(|(sr, ed)| {
			let keys = SessionKeys {
				aura: sr.public().into(),
				grandpa: ed.public().into(),
				worker: sr.public().into(),
			};
			(sr.to_account_id(), keys)
		})
		.collect()
}

/// The accounts prefunded in every preset: Alice to Ferdie and their `//stash` accounts.
pub fn dev_accounts() -> Vec<AccountId> {
	Sr25519Keyring::well_known().map(|k| k.to_account_id()).collect()
}

fn genesis(
	validators: Vec<(AccountId, SessionKeys)>,
	endowed: Vec<AccountId>,
	root: AccountId,
) -> Value {
	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig {
			balances: endowed
				.iter()
				.cloned()
				.map(|a| (a, DEV_AICC_ENDOWMENT))
				.chain([
					(community_fund_account(), DEV_FUND_ENDOWMENT),
					// The dividends' account exists from genesis, so that a redemption of a few
					// planck of dividends can pay into it.
					(inference_account(), EXISTENTIAL_DEPOSIT),
				])
				.collect::<Vec<_>>(),
		},
		aicg: AicgConfig {
			balances: endowed.iter().cloned().map(|a| (a, DEV_AICG_ENDOWMENT)).collect::<Vec<_>>(),
		},
		// Aura's and GRANDPA's authorities come from the session keys.
		validator_set: ValidatorSetConfig {
			validators: validators.iter().map(|(who, _)| who.clone()).collect::<Vec<_>>(),
		},
		session: SessionConfig {
			keys: validators
				.iter()
				.map(|(who, keys)| (who.clone(), who.clone(), keys.clone()))
				.collect::<Vec<_>>(),
		},
		sudo: SudoConfig { key: Some(root) },
		// The engine's built-in datasets, so that training jobs may name them from block one.
		compute_jobs: ComputeJobsConfig { datasets: aicchain_primitives::datasets::shipped() },
	})
}

/// Single-validator development chain: Alice authors and finalizes every block.
pub fn development_config_genesis() -> Value {
	genesis(
		authorities(&[(Sr25519Keyring::Alice, Ed25519Keyring::Alice)]),
		dev_accounts(),
		Sr25519Keyring::Alice.to_account_id(),
	)
}

/// Four-validator local testnet. Zombienet starts it from this preset's raw chain spec, so these
/// session keys are the ones its nodes hold (`//Alice` ... `//Dave`).
pub fn local_testnet_genesis() -> Value {
	genesis(
		authorities(&[
			(Sr25519Keyring::Alice, Ed25519Keyring::Alice),
			(Sr25519Keyring::Bob, Ed25519Keyring::Bob),
			(Sr25519Keyring::Charlie, Ed25519Keyring::Charlie),
			(Sr25519Keyring::Dave, Ed25519Keyring::Dave),
		]),
		dev_accounts(),
		Sr25519Keyring::Alice.to_account_id(),
	)
}

/// The JSON patch of the named preset, if there is one.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		sp_genesis_builder::DEV_RUNTIME_PRESET => development_config_genesis(),
		sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET => local_testnet_genesis(),
		_ => return None,
	};
	serde_json::to_string(&patch).ok().map(|json| json.into_bytes())
}

/// The names of the presets this runtime provides.
pub fn preset_names() -> Vec<PresetId> {
	vec![
		PresetId::from(sp_genesis_builder::DEV_RUNTIME_PRESET),
		PresetId::from(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET),
	]
}

#[cfg(test)]
mod tests {
	use crate::{tests::preset_storage, Runtime};
	use aicchain_primitives::datasets::shipped;

	/// Both presets register the engine's built-in datasets, so a training job may name them
	/// from block one (and no other dataset until root registers it).
	#[test]
	fn presets_register_the_built_in_datasets() {
		for preset in [
			sp_genesis_builder::DEV_RUNTIME_PRESET,
			sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET,
		] {
			sp_io::TestExternalities::from(preset_storage(preset)).execute_with(|| {
				for (hash, info) in shipped() {
					let stored = pallet_compute_jobs::Datasets::<Runtime>::get(hash);
					assert_eq!(stored, Some(info), "{preset}");
				}
				assert_eq!(
					pallet_compute_jobs::Datasets::<Runtime>::iter().count(),
					shipped().len()
				);
			});
		}
	}
}
