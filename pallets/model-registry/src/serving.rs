//! What paid inference reads from the registry: a version's model, owner and visibility, and
//! who paid for the training of its lineage (the dividends' contributors).

use crate::{Config, Models, Pallet, Versions};
use aicchain_primitives::{ServableModels, ServedVersion, VersionId};
use alloc::vec::Vec;

impl<T: Config> ServableModels<T::AccountId, T::Balance> for Pallet<T> {
	fn served_version(version: VersionId) -> Option<ServedVersion<T::AccountId>> {
		let v = Versions::<T>::get(version)?;
		let model = Models::<T>::get(v.model)?;
		Some(ServedVersion {
			model: v.model,
			owner: model.owner,
			public: model.public,
			model_hash: v.model_hash,
			spec: v.spec,
		})
	}

	fn can_fetch(version: VersionId, who: &T::AccountId) -> bool {
		Versions::<T>::get(version).is_some_and(|v| Self::can_fetch(v.model, who))
	}

	fn contributors(version: VersionId, max: u32) -> Vec<(T::AccountId, T::Balance)> {
		let mut out = Vec::new();
		let mut next = Some(version);
		while let Some(id) = next {
			if out.len() >= max as usize {
				break;
			}
			let Some(v) = Versions::<T>::get(id) else { break };
			out.push((v.trainer, v.cost));
			next = v.parent;
		}
		out
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn benchmark_lineage(owner: T::AccountId, depth: u32) -> VersionId {
		use aicchain_primitives::VerifiedModels;
		let first = crate::NextVersionId::<T>::get();
		let mut parent = None;
		for i in 0..=depth {
			let job = u64::from(i).saturating_add(first.saturating_mul(1_000));
			Self::record(crate::fixtures::verified(job, owner.clone(), owner.clone(), parent));
			parent = Some(first.saturating_add(u64::from(i)));
		}
		first.saturating_add(u64::from(depth))
	}
}
