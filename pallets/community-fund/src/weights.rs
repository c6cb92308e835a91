//! Weights of `pallet-community-fund`.
//!
//! PENDING GENERATION: `scripts/benchmark.sh` overwrites this file with frame-omni-bencher's
//! output.

#![allow(unused_parens)]
#![allow(unused_imports)]
#![allow(missing_docs)]

use core::marker::PhantomData;
use frame_support::{
	traits::Get,
	weights::{constants::RocksDbWeight, Weight},
};

/// Weight functions needed for `pallet_community_fund`.
pub trait WeightInfo {
	fn propose_subsidy() -> Weight;
	fn vote() -> Weight;
	fn remove_vote() -> Weight;
	fn close_proposal(v: u32) -> Weight;
}

impl WeightInfo for () {
	fn propose_subsidy() -> Weight {
		RocksDbWeight::get().reads_writes(4, 4)
	}
	fn vote() -> Weight {
		RocksDbWeight::get().reads_writes(6, 6)
	}
	fn remove_vote() -> Weight {
		RocksDbWeight::get().reads_writes(6, 6)
	}
	fn close_proposal(v: u32) -> Weight {
		RocksDbWeight::get()
			.reads_writes(6, 6)
			.saturating_add(RocksDbWeight::get().reads_writes(3, 3).saturating_mul(u64::from(v)))
	}
}

/// TEMPORARY until generation (see the file header).
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn propose_subsidy() -> Weight {
		<() as WeightInfo>::propose_subsidy()
	}
	fn vote() -> Weight {
		<() as WeightInfo>::vote()
	}
	fn remove_vote() -> Weight {
		<() as WeightInfo>::remove_vote()
	}
	fn close_proposal(v: u32) -> Weight {
		<() as WeightInfo>::close_proposal(v)
	}
}
