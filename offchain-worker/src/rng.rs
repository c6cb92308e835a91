//! A small seeded generator (SplitMix64), so that datasets, initial weights, shuffles and the
//! simulator are reproducible bit for bit from a seed, independent of any crate's RNG changes.

/// SplitMix64: fast, statistically sound for this use, and fully specified by its seed.
#[derive(Clone, Debug)]
pub struct SeededRng(u64);

impl SeededRng {
	pub fn new(seed: u64) -> Self {
		Self(seed)
	}

	pub fn next_u64(&mut self) -> u64 {
		self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
		let mut z = self.0;
		z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
		z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
		z ^ (z >> 31)
	}

	/// Uniform in [0, 1).
	pub fn uniform(&mut self) -> f64 {
		(self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
	}

	/// Uniform in [low, high).
	pub fn range(&mut self, low: f64, high: f64) -> f64 {
		low + (high - low) * self.uniform()
	}

	/// Uniform integer in [0, n); `n` must be positive.
	pub fn below(&mut self, n: usize) -> usize {
		(self.uniform() * n as f64) as usize % n.max(1)
	}

	/// Standard normal (Box–Muller).
	pub fn normal(&mut self) -> f64 {
		let u1 = self.uniform().max(f64::MIN_POSITIVE);
		let u2 = self.uniform();
		(-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
	}

	/// Fisher–Yates shuffle.
	pub fn shuffle<T>(&mut self, items: &mut [T]) {
		for i in (1..items.len()).rev() {
			let j = self.below(i + 1);
			items.swap(i, j);
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn same_seed_same_stream_and_uniform_in_range() {
		let mut a = SeededRng::new(7);
		let mut b = SeededRng::new(7);
		let xs: Vec<u64> = (0..100).map(|_| a.next_u64()).collect();
		let ys: Vec<u64> = (0..100).map(|_| b.next_u64()).collect();
		assert_eq!(xs, ys);
		let mut c = SeededRng::new(8);
		assert_ne!(xs[0], c.next_u64());
		let mut r = SeededRng::new(1);
		let mean = (0..10_000).map(|_| r.uniform()).sum::<f64>() / 10_000.0;
		assert!((mean - 0.5).abs() < 0.02, "mean {mean}");
	}
}
