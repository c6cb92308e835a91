//! The built-in image set: small grayscale pictures of six shapes at random places, sizes and
//! brightness over noise, generated deterministically (the same file on every machine), for
//! the CNN ([`crate::cnn`]).

use crate::rng::SeededRng;
use std::fmt::Write as _;

/// Pixels per side.
pub const SIDE: usize = 16;
/// Images in the set.
pub const IMAGES: usize = 3_000;
/// Classes: horizontal bar, vertical bar, diagonal, square outline, plus sign, filled disc.
pub const SHAPES: usize = 6;

/// Draws shape `class` of size `size` (6 to 11 pixels) with its top-left corner at `(x, y)`.
fn draw(canvas: &mut [f64], class: usize, size: usize, x: usize, y: usize) {
	let mut set = |cx: usize, cy: usize| {
		if let Some(p) = canvas.get_mut(cy * SIDE + cx).filter(|_| cx < SIDE && cy < SIDE) {
			*p = 1.0;
		}
	};
	let half = size / 2;
	for i in 0..size {
		match class {
			0 => set(x + i, y + half),
			1 => set(x + half, y + i),
			2 => set(x + i, y + i),
			3 => {
				for (a, b) in [(i, 0), (i, size - 1), (0, i), (size - 1, i)] {
					set(x + a, y + b);
				}
			},
			4 => {
				set(x + i, y + half);
				set(x + half, y + i);
			},
			_ => {
				for j in 0..size {
					let (dx, dy) = (i as f64 - half as f64, j as f64 - half as f64);
					if dx * dx + dy * dy <= (half * half) as f64 {
						set(x + i, y + j);
					}
				}
			},
		}
	}
}

/// `generated-shapes.csv`: [`IMAGES`] images of [`SIDE`]² pixels (`px0` … row by row) and
/// their class (`label`, 0 to 5). Brightness 0.5–1.0 over Gaussian noise of σ 0.15.
pub fn shapes_csv() -> Vec<u8> {
	let mut rng = SeededRng::new(0x5A4E5);
	let mut out = String::new();
	for i in 0..SIDE * SIDE {
		let _ = write!(out, "px{i},");
	}
	out.push_str("label\n");
	let mut canvas = vec![0.0f64; SIDE * SIDE];
	for _ in 0..IMAGES {
		canvas.fill(0.0);
		let class = rng.below(SHAPES);
		let size = 6 + rng.below(6);
		let (x, y) = (rng.below(SIDE - size + 1), rng.below(SIDE - size + 1));
		draw(&mut canvas, class, size, x, y);
		let brightness = rng.range(0.5, 1.0);
		for p in &canvas {
			let value = brightness * p + 0.15 * rng.normal();
			let _ = write!(out, "{:.2},", (value * 100.0).round() / 100.0 + 0.0);
		}
		let _ = writeln!(out, "{class}");
	}
	out.into_bytes()
}
