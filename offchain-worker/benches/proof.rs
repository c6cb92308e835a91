//! Measures the proof-of-learning replay tolerance and its cost (run:
//! `cargo bench -p aicchain-worker --bench proof`).
//!
//! For the reference MLPs over several seeds: the largest distance between an honest
//! checkpoint and its replay on other kernel paths (1 thread instead of the default, the
//! batch's gradients summed in two halves, gemm-free broadcast matmuls, f64), against the
//! smallest distance any cheat gets on a segment it cheated, all against the tolerance of the
//! run's learning rate; the honest tail over 20 more seeds; the same for shorter and longer
//! runs, other learning rates and a wider model; then the cost of verifying one segment
//! against the cost of the training.

use aicchain_primitives::{ModelKind, QuantisedMetrics, TrainingSpec};
use aicchain_worker::{
	dataset::{blake2_256, credit_scoring_csv, energy_load_csv, Dataset},
	model::{self, Arithmetic, Trainer},
	proof::{
		self, adversary, challenged_rows, replay_segment, Opening, Schedule, SegmentVerdict,
		Tolerance, TrainingProof, OUTLIER_TOLERANCE, TOLERANCE,
	},
	EngineError,
};
use candle_core::Device;
use sp_core::H256;
use sp_runtime::Perbill;
use std::time::Instant;

const SEEDS: u64 = 5;

struct Case {
	name: &'static str,
	spec: TrainingSpec,
	data: Dataset,
}

fn cases() -> Result<Vec<Case>, EngineError> {
	let credit = credit_scoring_csv();
	let energy = energy_load_csv();
	let spec = |bytes: &[u8], model, hidden_units, learning_rate_millionths, epochs| TrainingSpec {
		dataset: H256(blake2_256(bytes)),
		model,
		hidden_units,
		hidden_layers: 2,
		learning_rate_millionths,
		epochs,
		seed: 0,
		min_score: Default::default(),
		parent: None,
	};
	Ok(vec![
		Case {
			name: "credit classifier 2x32",
			spec: spec(&credit, ModelKind::MlpClassifier, 32, 5_000, 10),
			data: Dataset::from_csv(&credit)?,
		},
		Case {
			name: "energy regressor 2x32",
			spec: spec(&energy, ModelKind::MlpRegressor, 32, 10_000, 20),
			data: Dataset::from_csv(&energy)?,
		},
	])
}

/// Replays `segments` of `proof` with `arithmetic`; the verdicts.
fn replay(
	trainer: &Trainer,
	proof: &TrainingProof,
	segments: impl Iterator<Item = u32>,
	arithmetic: Arithmetic,
) -> Result<Vec<SegmentVerdict>, EngineError> {
	let mut out = Vec::new();
	for i in segments {
		let (Some((checkpoint, p)), Some((next, q))) = (proof.opening(i), proof.opening(i + 1))
		else {
			continue;
		};
		let opening = Opening { checkpoint, proof: &p, next, next_proof: &q };
		out.push(replay_segment(trainer, &proof.commitment, i, opening, arithmetic)?);
	}
	Ok(out)
}

/// Replay outcomes of a set of segments, against a tolerance.
struct Stat {
	tolerance: Tolerance,
	accepted: usize,
	total: usize,
	/// Largest full and bulk distances (honest side).
	max: (f64, f64),
	/// Smallest full and bulk distances (cheat side).
	min: (f64, f64),
	/// Honest: the smallest `tolerance / distance` (over bulk and full). Cheats: the smallest
	/// `distance / tolerance` of the test that rejects (the larger of the two).
	margin: f64,
}

impl Stat {
	fn new(tolerance: Tolerance) -> Self {
		Self {
			tolerance,
			accepted: 0,
			total: 0,
			max: (0.0, 0.0),
			min: (f64::INFINITY, f64::INFINITY),
			margin: f64::INFINITY,
		}
	}

	fn add(&mut self, verdicts: &[SegmentVerdict], honest: bool) {
		let t = self.tolerance;
		for v in verdicts {
			self.total += 1;
			self.accepted += usize::from(v.accepted());
			let Some(d) = v.distance() else { continue };
			self.max = (self.max.0.max(d.full), self.max.1.max(d.bulk));
			self.min = (self.min.0.min(d.full), self.min.1.min(d.bulk));
			let margin = if honest {
				(t.bulk / d.bulk).min(t.full / d.full)
			} else {
				(d.bulk / t.bulk).max(d.full / t.full)
			};
			self.margin = self.margin.min(margin);
		}
	}
}

const SOURCES: [(&str, Arithmetic, bool); 5] = [
	("1 thread", Arithmetic::Canonical, true),
	("candle autograd", Arithmetic::Autograd, false),
	("split batch", Arithmetic::SplitBatch, false),
	("elementwise matmul", Arithmetic::Elementwise, false),
	("f64 replay", Arithmetic::F64, false),
];

const CHEATS: [&str; 7] = [
	"(a) half the epochs, stretched",
	"(a') stalled after half the run",
	"(b) untrained (initial state)",
	"(b') random weights",
	"(c) another job's run (seed+1000)",
	"(d) trained on held-out rows too",
	"(e) interpolated middle checkpoint",
];

/// Honest replay statistics per source (plus the same-kernel sanity run, last), cheat
/// statistics per cheat, and (f): inflated claims rejected on all rows, and the smallest
/// `|estimate − claim| / bound` on all rows and on 256 rows.
struct Measured {
	honest: Vec<Stat>,
	cheats: Vec<Stat>,
	metrics_rejected: usize,
	exact_margin: f64,
	sampled_margin: f64,
}

fn measure(
	case: &Case,
	seeds: std::ops::RangeInclusive<u64>,
	device: &Device,
) -> Result<Measured, EngineError> {
	let t = tolerance_of(&case.spec);
	let mut m = Measured {
		honest: (0..=SOURCES.len()).map(|_| Stat::new(t)).collect(),
		cheats: CHEATS.iter().map(|_| Stat::new(t)).collect(),
		metrics_rejected: 0,
		exact_margin: f64::INFINITY,
		sampled_margin: f64::INFINITY,
	};
	for seed in seeds {
		let spec = TrainingSpec { seed, ..case.spec.clone() };
		let data = &case.data;
		let trainer = Trainer::new(&spec, data, device)?;
		let run = model::train(&spec, data, device)?;
		let n = Schedule::of(&run.proof.commitment).segments();
		for (i, stat) in m.honest.iter_mut().enumerate() {
			let (arithmetic, one_thread) =
				SOURCES.get(i).map_or((Arithmetic::Canonical, false), |s| (s.1, s.2));
			if one_thread {
				std::env::set_var("RAYON_NUM_THREADS", "1");
			}
			let verdicts = replay(&trainer, &run.proof, 0..n, arithmetic);
			std::env::remove_var("RAYON_NUM_THREADS");
			stat.add(&verdicts?, true);
		}
		let mid = n / 2;
		// Half of one epoch rounds up to the honest run: no cheat to measure.
		let halved = if spec.epochs >= 2 { (0..n).collect() } else { Vec::new() };
		let proofs: [(TrainingProof, Vec<u32>); 7] = [
			(adversary::fewer_epochs(&spec, data, device, 2)?, halved),
			(adversary::stalled(&spec, data, device, mid)?, (mid..n).collect()),
			(adversary::stalled(&spec, data, device, 0)?, (0..n).collect()),
			(adversary::random_model(&spec, data, device, seed + 500)?, (0..n).collect()),
			(adversary::other_job(&spec, data, device, seed + 1_000)?, (0..n).collect()),
			(adversary::held_out_training(&spec, data, device)?, (0..n).collect()),
			(adversary::interpolated(&spec, data, device, &run.proof, mid)?, vec![mid - 1, mid]),
		];
		for ((proof, segments), stat) in proofs.iter().zip(&mut m.cheats) {
			stat.add(
				&replay(&trainer, proof, segments.iter().copied(), Arithmetic::Canonical)?,
				false,
			);
		}
		// (f) an inflated score: +3 points checked on every held-out row, and on 256
		// challenged rows.
		let held_out = data.split().1.rows();
		for k in [held_out, 256] {
			let rows = challenged_rows(&blake2_256(&seed.to_le_bytes()), held_out, k);
			let score = run.metrics.score.deconstruct().saturating_add(30_000_000);
			let inflated = QuantisedMetrics { score: Perbill::from_parts(score), ..run.metrics };
			let check = proof::check_metrics(&run.bytes, &spec, data, &inflated, &rows, device)?;
			let honest =
				proof::check_metrics(&run.bytes, &spec, data, &run.metrics, &rows, device)?;
			assert!(honest.consistent, "{honest:?}");
			let margin = (check.score_estimate - check.score_claimed).abs() / check.score_bound;
			if k == held_out {
				m.exact_margin = m.exact_margin.min(margin);
				m.metrics_rejected += usize::from(!check.consistent);
			} else {
				m.sampled_margin = m.sampled_margin.min(margin);
			}
		}
	}
	Ok(m)
}

/// The tolerance of a case.
fn tolerance_of(spec: &TrainingSpec) -> Tolerance {
	proof::tolerance(f64::from(spec.learning_rate_millionths) / 1e6)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
	let device = Device::Cpu;
	let started = Instant::now();
	// `cargo bench` passes `--bench`; `cargo test --all-targets` runs a one-seed smoke run.
	let full = std::env::args().any(|arg| arg == "--bench");
	let seeds = if full { SEEDS } else { 1 };
	println!(
		"default thread count (candle_core::utils::get_num_threads): {}",
		candle_core::utils::get_num_threads()
	);
	println!(
		"tolerance: bulk <= TOLERANCE {TOLERANCE:.0e} x s and full <= OUTLIER_TOLERANCE {OUTLIER_TOLERANCE:.1e} x s, s = clamp(lr / {}, {:.4}, {})",
		proof::REFERENCE_LEARNING_RATE,
		proof::MIN_SCALE,
		proof::MAX_SCALE
	);
	println!("distances: max over layers of ||replayed - claimed|| / ||claimed||, all coordinates (full) and without each layer's largest eighth (bulk)\n");
	// The smallest margins seen anywhere.
	let (mut honest_margin, mut cheat_margin) = (f64::INFINITY, f64::INFINITY);
	for case in cases()? {
		let t = tolerance_of(&case.spec);
		let m = measure(&case, 1..=seeds, &device)?;
		println!(
			"| {}, lr {}, {} epochs, {seeds} seeds: tolerance bulk {:.1e}, full {:.1e} | segments accepted | max full | max bulk | margin |",
			case.name,
			f64::from(case.spec.learning_rate_millionths) / 1e6,
			case.spec.epochs,
			t.bulk,
			t.full
		);
		println!("| --- | ---: | ---: | ---: | ---: |");
		for (i, stat) in m.honest.iter().enumerate() {
			let label = SOURCES.get(i).map_or("same kernels (sanity)", |s| s.0);
			println!(
				"| honest, {label} | {}/{} | {:.2e} | {:.2e} | {:.0}x |",
				stat.accepted, stat.total, stat.max.0, stat.max.1, stat.margin
			);
			honest_margin = honest_margin.min(stat.margin);
		}
		println!(
			"| **cheat** | **segments rejected** | **min full** | **min bulk** | **margin** |"
		);
		for (label, stat) in CHEATS.iter().zip(&m.cheats) {
			println!(
				"| {label} | {}/{} | {:.2e} | {:.2e} | {:.1}x |",
				stat.total - stat.accepted,
				stat.total,
				stat.min.0,
				stat.min.1,
				stat.margin
			);
			cheat_margin = cheat_margin.min(stat.margin);
		}
		println!(
			"| (f) score +3 points, checked on all held-out rows | {}/{seeds} | | | {:.1}x (on 256 rows: {:.1}x) |\n",
			m.metrics_rejected, m.exact_margin, m.sampled_margin
		);
	}

	println!("(reference cases: {:.0} s)\n", started.elapsed().as_secs_f64());
	if !full {
		println!(
			"one-seed smoke run; `cargo bench -p aicchain-worker --bench proof` prints every table"
		);
		return Ok(());
	}
	// The honest tail: rare discrete events, over 20 more seeds.
	println!("| honest tail: f64 replay, seeds 101-120; elementwise, seeds 101-110 | segments accepted | median full | max full | max bulk | margin |");
	println!("| --- | ---: | ---: | ---: | ---: | ---: |");
	for case in cases()? {
		let mut stat = Stat::new(tolerance_of(&case.spec));
		let mut fulls = Vec::new();
		for seed in 101..=120 {
			let spec = TrainingSpec { seed, ..case.spec.clone() };
			let trainer = Trainer::new(&spec, &case.data, &device)?;
			let run = model::train(&spec, &case.data, &device)?;
			let n = Schedule::of(&run.proof.commitment).segments();
			// The gemm-free path is about 20x slower than training: half the seeds.
			let mut verdicts = replay(&trainer, &run.proof, 0..n, Arithmetic::F64)?;
			if seed <= 110 {
				verdicts.extend(replay(&trainer, &run.proof, 0..n, Arithmetic::Elementwise)?);
			}
			fulls.extend(verdicts.iter().filter_map(|v| v.distance()).map(|d| d.full));
			stat.add(&verdicts, true);
		}
		fulls.sort_by(f64::total_cmp);
		let median = fulls.get(fulls.len() / 2).copied().unwrap_or(0.0);
		println!(
			"| {} | {}/{} | {median:.1e} | {:.2e} | {:.2e} | {:.1}x |",
			case.name, stat.accepted, stat.total, stat.max.0, stat.max.1, stat.margin
		);
		honest_margin = honest_margin.min(stat.margin);
	}
	println!("(tail: {:.0} s)\n", started.elapsed().as_secs_f64());

	// Sensitivity: short and long runs, learning rates, a wider model (2 seeds each).
	println!("| credit classifier 2x32, variant | steps / interval | tolerance bulk / full | honest max bulk / full | closest cheat bulk / full | margins honest / cheat |");
	println!("| --- | ---: | ---: | ---: | ---: | ---: |");
	let base = cases()?.into_iter().next().ok_or("no case")?;
	for (label, epochs, lr, hidden_units) in [
		("1 epoch", 1u32, 5_000u32, 32u32),
		("20 epochs", 20, 5_000, 32),
		("lr 0.05", 10, 50_000, 32),
		("lr 0.0005", 10, 500, 32),
		("lr 0.00005", 10, 50, 32),
		("2x96", 10, 5_000, 96),
	] {
		let spec = TrainingSpec {
			epochs,
			learning_rate_millionths: lr,
			hidden_units,
			..base.spec.clone()
		};
		let t = tolerance_of(&spec);
		let case = Case { name: label, spec, data: base.data.clone() };
		let m = measure(&case, 1..=2, &device)?;
		let fold = |stats: &[Stat]| {
			let mut all = Stat::new(t);
			for s in stats {
				all.accepted += s.accepted;
				all.total += s.total;
				all.max = (all.max.0.max(s.max.0), all.max.1.max(s.max.1));
				all.min = (all.min.0.min(s.min.0), all.min.1.min(s.min.1));
				all.margin = all.margin.min(s.margin);
			}
			all
		};
		let (honest, cheats) = (fold(&m.honest), fold(&m.cheats));
		let schedule =
			proof::Schedule::new(Trainer::new(&case.spec, &case.data, &device)?.total_steps());
		println!(
			"| {label} | {} / {} | {:.1e} / {:.1e} | {:.1e} / {:.1e} ({}/{} accepted) | {:.1e} / {:.1e} ({}/{} rejected) | {:.0}x / {:.1}x |",
			schedule.steps,
			schedule.interval,
			t.bulk,
			t.full,
			honest.max.1,
			honest.max.0,
			honest.accepted,
			honest.total,
			cheats.min.1,
			cheats.min.0,
			cheats.total - cheats.accepted,
			cheats.total,
			honest.margin,
			cheats.margin
		);
		honest_margin = honest_margin.min(honest.margin);
		cheat_margin = cheat_margin.min(cheats.margin);
	}
	println!(
		"\nsmallest margins anywhere: tolerance / honest distance = {honest_margin:.1}x, cheat distance / tolerance = {cheat_margin:.1}x\n"
	);

	println!("| model | params | training (best of 3) | verify one segment (mean of all, best of 3) | final + metrics checks | share |");
	println!("| --- | ---: | ---: | ---: | ---: | ---: |");
	let mut cost_cases = cases()?;
	// Ten times the parameters of the 2x32 reference (13,777 vs 1,377).
	let big = Case {
		name: "credit classifier 2x112",
		spec: TrainingSpec { hidden_units: 112, ..cost_cases[0].spec.clone() },
		data: cost_cases[0].data.clone(),
	};
	cost_cases.push(big);
	for case in cost_cases {
		let spec = TrainingSpec { seed: 7, ..case.spec.clone() };
		let data = &case.data;
		let mut train_s = f64::INFINITY;
		let mut run = None;
		for _ in 0..3 {
			let start = Instant::now();
			run = Some(model::train(&spec, data, &device)?);
			train_s = train_s.min(start.elapsed().as_secs_f64());
		}
		let run = run.ok_or("no run")?;
		let n = Schedule::of(&run.proof.commitment).segments();
		let mut segment_s = f64::INFINITY;
		for _ in 0..3 {
			let start = Instant::now();
			for i in 0..n {
				let (Some((a, p)), Some((b, q))) = (run.proof.opening(i), run.proof.opening(i + 1))
				else {
					continue;
				};
				let verdict = proof::verify_segment(
					&spec,
					data,
					&run.proof.commitment,
					i,
					a,
					&p,
					b,
					&q,
					&device,
				)?;
				assert!(verdict.accepted(), "{verdict:?}");
			}
			segment_s = segment_s.min(start.elapsed().as_secs_f64() / f64::from(n.max(1)));
		}
		let start = Instant::now();
		let (last, last_proof) = run.proof.opening(n).ok_or("no last checkpoint")?;
		let fin = proof::verify_final(
			&spec,
			data,
			&run.proof.commitment,
			last,
			&last_proof,
			&run.bytes,
			&device,
		)?;
		let rows =
			challenged_rows(&blake2_256(b"bench challenge"), data.split().1.rows(), usize::MAX);
		let metrics = proof::check_metrics(&run.bytes, &spec, data, &run.metrics, &rows, &device)?;
		assert!(fin.is_ok() && metrics.consistent);
		let checks_s = start.elapsed().as_secs_f64();
		let params: usize =
			Trainer::new(&spec, data, &device)?.layer_sizes().iter().map(|(i, o)| i * o + o).sum();
		println!(
			"| {} | {params} | {:.1} ms | {:.2} ms | {:.2} ms | {:.1}% |",
			case.name,
			train_s * 1e3,
			segment_s * 1e3,
			checks_s * 1e3,
			100.0 * (segment_s + checks_s) / train_s
		);
	}
	println!("\nbench time {:.1} s", started.elapsed().as_secs_f64());
	Ok(())
}
