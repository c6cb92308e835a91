//! What a node's spec must be: a positive GPU count, memory and bandwidth, a region, and a
//! price at or above the floor.

use crate::{pallet::*, BalanceOf};
use aicchain_primitives::NodeSpec;
use frame_support::{ensure, pallet_prelude::DispatchResult, traits::Get};

impl<T: Config> Pallet<T> {
	pub(crate) fn ensure_valid_spec(spec: &NodeSpec<BalanceOf<T>>) -> DispatchResult {
		ensure!(
			spec.gpu_count > 0
				&& spec.gpu_memory_gib > 0
				&& spec.bandwidth_mbps > 0
				&& !spec.region.is_empty(),
			Error::<T>::InvalidSpec
		);
		ensure!(
			spec.price_per_gpu_hour >= T::MinPricePerGpuHour::get(),
			Error::<T>::PriceBelowFloor
		);
		Ok(())
	}
}
