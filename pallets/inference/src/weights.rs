//! Weights of `pallet_inference`: replaced by `scripts/benchmark.sh pallet_inference`.

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens)]
#![allow(unused_imports)]
#![allow(missing_docs)]
#![allow(dead_code)]

use frame_support::{traits::Get, weights::{Weight, constants::RocksDbWeight}};
use core::marker::PhantomData;

/// Weight functions needed for `pallet_inference`.
pub trait WeightInfo {
	fn list() -> Weight;
	fn unlist() -> Weight;
	fn serve() -> Weight;
	fn stop_serving() -> Weight;
	fn fund_channel() -> Weight;
	fn close_channel() -> Weight;
	fn withdraw() -> Weight;
	fn redeem(n: u32, ) -> Weight;
	fn claim() -> Weight;
	fn challenge(n: u32, ) -> Weight;
	fn answer(n: u32, ) -> Weight;
	fn refute() -> Weight;
	fn expire_challenge() -> Weight;
}

pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn list() -> Weight { Weight::from_parts(50_000_000, 4_000) }
	fn unlist() -> Weight { Weight::from_parts(50_000_000, 4_000) }
	fn serve() -> Weight { Weight::from_parts(50_000_000, 4_000) }
	fn stop_serving() -> Weight { Weight::from_parts(50_000_000, 4_000) }
	fn fund_channel() -> Weight { Weight::from_parts(50_000_000, 4_000) }
	fn close_channel() -> Weight { Weight::from_parts(50_000_000, 4_000) }
	fn withdraw() -> Weight { Weight::from_parts(50_000_000, 4_000) }
	fn redeem(n: u32, ) -> Weight { Weight::from_parts(200_000_000, 40_000).saturating_add(Weight::from_parts(150_000_000, 4_000).saturating_mul(n.into())) }
	fn claim() -> Weight { Weight::from_parts(50_000_000, 4_000) }
	fn challenge(_n: u32, ) -> Weight { Weight::from_parts(50_000_000, 4_000) }
	fn answer(_n: u32, ) -> Weight { Weight::from_parts(50_000_000, 4_000) }
	fn refute() -> Weight { Weight::from_parts(100_000_000, 4_000) }
	fn expire_challenge() -> Weight { Weight::from_parts(100_000_000, 4_000) }
}

impl WeightInfo for () {
	fn list() -> Weight { Weight::zero() }
	fn unlist() -> Weight { Weight::zero() }
	fn serve() -> Weight { Weight::zero() }
	fn stop_serving() -> Weight { Weight::zero() }
	fn fund_channel() -> Weight { Weight::zero() }
	fn close_channel() -> Weight { Weight::zero() }
	fn withdraw() -> Weight { Weight::zero() }
	fn redeem(_n: u32, ) -> Weight { Weight::zero() }
	fn claim() -> Weight { Weight::zero() }
	fn challenge(_n: u32, ) -> Weight { Weight::zero() }
	fn answer(_n: u32, ) -> Weight { Weight::zero() }
	fn refute() -> Weight { Weight::zero() }
	fn expire_challenge() -> Weight { Weight::zero() }
}
