//! The one call into the `gemm` kernels (the ones candle's CPU matmul uses), behind a safe,
//! bounds-checked function. It is this crate's only unsafe code: `gemm::gemm` takes raw
//! pointers and strides, so every element it can touch is checked to lie inside its slice
//! first.
#![allow(unsafe_code)]

use crate::EngineError;

/// A strided read-only matrix: element `(r, c)` is `data[r * row_stride + c * col_stride]`.
#[derive(Clone, Copy)]
pub(super) struct View<'a> {
	pub data: &'a [f32],
	pub row_stride: usize,
	pub col_stride: usize,
}

impl<'a> View<'a> {
	/// A row-major `rows × cols` matrix.
	pub fn rows(data: &'a [f32], cols: usize) -> Self {
		Self { data, row_stride: cols, col_stride: 1 }
	}

	/// The transpose of a row-major matrix with `cols` columns.
	pub fn transposed(data: &'a [f32], cols: usize) -> Self {
		Self { data, row_stride: 1, col_stride: cols }
	}

	/// Whether every element of a `rows × cols` matrix lies inside `data`.
	fn covers(&self, rows: usize, cols: usize) -> bool {
		if rows == 0 || cols == 0 {
			return true;
		}
		let last = (rows - 1)
			.checked_mul(self.row_stride)
			.zip((cols - 1).checked_mul(self.col_stride))
			.and_then(|(a, b)| a.checked_add(b));
		matches!(last, Some(last) if last < self.data.len())
			&& isize::try_from(self.row_stride).is_ok()
			&& isize::try_from(self.col_stride).is_ok()
	}
}

/// `dst = lhs · rhs` with `lhs` `m × k`, `rhs` `k × n` and `dst` row-major `m × n` (its first
/// `m · n` elements), with the given number of threads. The summation order over `k` does not
/// depend on the thread count (threads split the output, not the sum).
pub(super) fn matmul(
	dst: &mut [f32],
	(m, n, k): (usize, usize, usize),
	lhs: View<'_>,
	rhs: View<'_>,
	threads: usize,
) -> Result<(), EngineError> {
	let cells = m.checked_mul(n).ok_or_else(|| shape_error(m, n, k))?;
	if dst.len() < cells
		|| !lhs.covers(m, k)
		|| !rhs.covers(k, n)
		|| isize::try_from(n).is_err()
		|| k == 0
	{
		return Err(shape_error(m, n, k));
	}
	if cells == 0 {
		return Ok(());
	}
	let parallelism =
		if threads > 1 { gemm::Parallelism::Rayon(threads) } else { gemm::Parallelism::None };
	// SAFETY: `dst` holds `m × n` elements at row stride `n`, column stride 1; `covers` checked
	// that every element `(r, c)` that gemm reads of `lhs` (`r < m`, `c < k`) and of `rhs`
	// (`r < k`, `c < n`) lies inside its slice, and all strides fit in `isize`. With
	// `read_dst = false` gemm only writes `dst`; the three slices cannot overlap (one is `&mut`).
	unsafe {
		gemm::gemm(
			m,
			n,
			k,
			dst.as_mut_ptr(),
			1,
			n as isize,
			false,
			lhs.data.as_ptr(),
			lhs.col_stride as isize,
			lhs.row_stride as isize,
			rhs.data.as_ptr(),
			rhs.col_stride as isize,
			rhs.row_stride as isize,
			0.0,
			1.0,
			false,
			false,
			false,
			parallelism,
		);
	}
	Ok(())
}

fn shape_error(m: usize, n: usize, k: usize) -> EngineError {
	EngineError::BadModel(format!("matmul of {m}×{k} by {k}×{n}: operands do not fit"))
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn products_of_strided_views_and_refused_shapes() {
		// [[1, 2, 3], [4, 5, 6]] · [[1, 0], [0, 1], [1, 1]] = [[4, 5], [10, 11]]
		let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
		let b = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0];
		let mut out = [0.0; 4];
		matmul(&mut out, (2, 2, 3), View::rows(&a, 3), View::rows(&b, 2), 1).unwrap();
		assert_eq!(out, [4.0, 5.0, 10.0, 11.0]);
		// aᵀ · a (3 × 3) through the transposed view, on two threads.
		let mut gram = [0.0; 9];
		matmul(&mut gram, (3, 3, 2), View::transposed(&a, 3), View::rows(&a, 3), 2).unwrap();
		assert_eq!(gram, [17.0, 22.0, 27.0, 22.0, 29.0, 36.0, 27.0, 36.0, 45.0]);
		// Operands too short for the shape are an error, not a read past the end.
		assert!(matmul(&mut out, (2, 2, 4), View::rows(&a, 3), View::rows(&b, 2), 1).is_err());
		assert!(matmul(&mut out, (3, 2, 3), View::rows(&a, 3), View::rows(&b, 2), 1).is_err());
		let mut short = [0.0; 3];
		assert!(matmul(&mut short, (2, 2, 3), View::rows(&a, 3), View::rows(&b, 2), 1).is_err());
	}
}
