//! Weights of `pallet-compute-registry`.
//!
//! PENDING GENERATION: `scripts/benchmark.sh` overwrites this file with frame-omni-bencher's
//! output. Until then the pallet is not part of the runtime.

#![allow(unused_parens)]
#![allow(unused_imports)]
#![allow(missing_docs)]

use core::marker::PhantomData;
use frame_support::{
	traits::Get,
	weights::{constants::RocksDbWeight, Weight},
};

/// Weight functions needed for `pallet_compute_registry`.
pub trait WeightInfo {
	fn register_node() -> Weight;
	fn update_node() -> Weight;
	fn deregister_node() -> Weight;
	fn withdraw_bond() -> Weight;
	fn heartbeat() -> Weight;
}

impl WeightInfo for () {
	fn register_node() -> Weight {
		RocksDbWeight::get().reads_writes(6, 6)
	}
	fn update_node() -> Weight {
		RocksDbWeight::get().reads_writes(3, 3)
	}
	fn deregister_node() -> Weight {
		RocksDbWeight::get().reads_writes(2, 2)
	}
	fn withdraw_bond() -> Weight {
		RocksDbWeight::get().reads_writes(4, 5)
	}
	fn heartbeat() -> Weight {
		RocksDbWeight::get().reads_writes(1, 1)
	}
}

/// TEMPORARY until generation (see the file header).
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn register_node() -> Weight {
		<() as WeightInfo>::register_node()
	}
	fn update_node() -> Weight {
		<() as WeightInfo>::update_node()
	}
	fn deregister_node() -> Weight {
		<() as WeightInfo>::deregister_node()
	}
	fn withdraw_bond() -> Weight {
		<() as WeightInfo>::withdraw_bond()
	}
	fn heartbeat() -> Weight {
		<() as WeightInfo>::heartbeat()
	}
}
