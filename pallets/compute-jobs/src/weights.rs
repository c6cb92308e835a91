//! Weights of `pallet-compute-jobs`.
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

/// Weight functions needed for `pallet_compute_jobs`.
pub trait WeightInfo {
	fn submit_job() -> Weight;
	fn cancel_job() -> Weight;
	fn propose_assignment() -> Weight;
	fn submit_result() -> Weight;
	fn attest() -> Weight;
	fn on_initialize(n: u32) -> Weight;
}

impl WeightInfo for () {
	fn submit_job() -> Weight {
		RocksDbWeight::get().reads_writes(4, 4)
	}
	fn cancel_job() -> Weight {
		RocksDbWeight::get().reads_writes(2, 3)
	}
	fn propose_assignment() -> Weight {
		RocksDbWeight::get().reads_writes(6, 5)
	}
	fn submit_result() -> Weight {
		RocksDbWeight::get().reads_writes(3, 2)
	}
	fn attest() -> Weight {
		RocksDbWeight::get().reads_writes(10, 10)
	}
	fn on_initialize(n: u32) -> Weight {
		RocksDbWeight::get()
			.reads_writes(1, 1)
			.saturating_add(RocksDbWeight::get().reads_writes(40, 10).saturating_mul(u64::from(n)))
	}
}

/// TEMPORARY until generation (see the file header).
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn submit_job() -> Weight {
		<() as WeightInfo>::submit_job()
	}
	fn cancel_job() -> Weight {
		<() as WeightInfo>::cancel_job()
	}
	fn propose_assignment() -> Weight {
		<() as WeightInfo>::propose_assignment()
	}
	fn submit_result() -> Weight {
		<() as WeightInfo>::submit_result()
	}
	fn attest() -> Weight {
		<() as WeightInfo>::attest()
	}
	fn on_initialize(n: u32) -> Weight {
		<() as WeightInfo>::on_initialize(n)
	}
}
