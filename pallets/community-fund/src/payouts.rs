//! What the fund pays out: subsidies claimed at settlement ([`SubsidyHandler`]) and AICG minted
//! to contributors against what the fund kept ([`ContributionRewards`]): verifiers at once,
//! providers through the period pools of [`crate::periods`].

use crate::{pallet::*, BalanceOf, GovBalanceOf};
use aicchain_primitives::{ContributionRewards, ModelKind, SubsidyHandler, SubsidyId};
use frame_support::traits::{
	fungible::{Inspect, Mutate},
	Get,
};
use sp_runtime::{
	traits::{Saturating, Zero},
	Percent,
};

impl<T: Config> Pallet<T> {
	/// Mints up to `amount` AICG to `who`, never beyond `MaxAicgSupply`: what it minted.
	pub(crate) fn mint_reward(who: &T::AccountId, amount: GovBalanceOf<T>) -> GovBalanceOf<T> {
		let room = T::MaxAicgSupply::get().saturating_sub(T::GovernanceCurrency::total_issuance());
		let amount = amount.min(room);
		if amount.is_zero() {
			return amount;
		}
		match T::GovernanceCurrency::mint_into(who, amount) {
			Ok(_) => {
				Self::deposit_event(Event::ContributorRewarded { who: who.clone(), amount });
				amount
			},
			Err(_) => Zero::zero(),
		}
	}
}

impl<T: Config> SubsidyHandler<BalanceOf<T>> for Pallet<T> {
	fn claim(
		kind: Option<ModelKind>,
		renewable_share: Percent,
		cost: BalanceOf<T>,
	) -> Option<(SubsidyId, BalanceOf<T>)> {
		let now = frame_system::Pallet::<T>::block_number();
		let mut claimed = None;
		ActiveSubsidies::<T>::mutate(|subsidies| {
			let subsidy = subsidies
				.iter_mut()
				.find(|s| s.ends_at >= now && s.scope.covers(kind, renewable_share))?;
			let amount = (subsidy.share * cost).min(subsidy.per_job_cap).min(subsidy.remaining);
			if amount.is_zero() {
				return None;
			}
			subsidy.remaining = subsidy.remaining.saturating_sub(amount);
			subsidy.paid = subsidy.paid.saturating_add(amount);
			claimed = Some((subsidy.id, amount, subsidy.remaining.is_zero(), subsidy.paid));
			Some(())
		});
		let (id, amount, exhausted, paid) = claimed?;
		Self::deposit_event(Event::SubsidyClaimed { subsidy_id: id, amount });
		if exhausted {
			ActiveSubsidies::<T>::mutate(|subsidies| subsidies.retain(|s| s.id != id));
			Self::deposit_event(Event::SubsidyEnded { subsidy_id: id, paid });
		}
		Some((id, amount))
	}

	fn committed() -> BalanceOf<T> {
		Self::committed_total()
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn activate_for_benchmark(budget: BalanceOf<T>) {
		ActiveSubsidies::<T>::mutate(|subsidies| {
			let _ = subsidies.try_push(crate::Subsidy {
				id: SubsidyId::MAX,
				share: T::MaxSubsidyShare::get(),
				scope: aicchain_primitives::SubsidyScope::AllJobs,
				per_job_cap: budget,
				remaining: budget,
				paid: Zero::zero(),
				ends_at: sp_runtime::traits::Bounded::max_value(),
			});
		});
	}
}

impl<T: Config> ContributionRewards<T::AccountId, BalanceOf<T>> for Pallet<T> {
	fn reward(
		provider: Option<&T::AccountId>,
		verifiers: &[T::AccountId],
		kept_by_fund: BalanceOf<T>,
	) {
		use sp_runtime::SaturatedConversion;
		let kept: u128 = kept_by_fund.saturated_into();
		let total: GovBalanceOf<T> =
			kept.saturating_mul(u128::from(T::RewardRate::get())).saturated_into();
		let verifier_pool = T::VerifierRewardShare::get() * total;
		let count = u32::try_from(verifiers.len()).unwrap_or(u32::MAX);
		if count > 0 {
			let each = verifier_pool / GovBalanceOf::<T>::from(count);
			for verifier in verifiers {
				Self::mint_reward(verifier, each);
			}
		}
		// The provider's part waits in the period's pool, and what the fund kept counts as its
		// contribution points (`periods`).
		if let Some(provider) = provider {
			Self::record_contribution(provider, kept_by_fund, total.saturating_sub(verifier_pool));
		}
	}
}
