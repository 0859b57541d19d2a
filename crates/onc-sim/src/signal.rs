//! Synthetic hydrophone audio: deterministic, integer PCM, a pure function of the absolute
//! sample index.
//!
//! Decisions recorded here:
//! - **Sample clock.** Sample number `i` (an `i64`, "absolute index") sits at time `i / rate`
//!   seconds after the Unix epoch. A span that starts at instant `start` begins at
//!   [`first_index`]`(start) = ceil(start_ms * rate / 1000)`, the first sample at or after
//!   `start`. Generating `[i, i + a + b)` equals generating `[i, i + a)` then `[i + a, i + a + b)`,
//!   bit for bit: every sample is computed from `i` alone, never from a running state.
//! - **Noise** is counter-based: uniform values from a `SplitMix64` hash of
//!   `(seed, device, octave, block)`. It is coloured the Voss way: octave `k` holds one random
//!   value per block of `2^k` samples and is linearly interpolated between neighbouring blocks,
//!   so its energy sits below `rate / 2^(k+1)`. Octave weights fall with `k` less than their
//!   bandwidth does, giving an ocean-like spectrum that slopes down with frequency. Each sample
//!   needs only its own block values: bounded history, no filter state. Octaves of 8-sample
//!   blocks and longer are linear between 8-sample nodes, so their sum is evaluated at the
//!   nodes and interpolated (the definition of the signal, not an approximation of it).
//! - **Cross-machine determinism.** Only IEEE `+ - * /`, exact rounding and integer maths are
//!   used on the sample path: no libm (`sin`, `exp`, `powf`). Sines come from [`det_sin`], a
//!   fixed polynomial; tone phases are exact rationals reduced with integer arithmetic; dB to
//!   amplitude uses repeated multiplication ([`db_to_amp`]). Samples are scaled to full scale
//!   `2^(bits-1) - 1`, rounded half away from zero and clamped to `[-fs - 1, fs]`.
//! - **Events** (calls, ships) live in [`super::events`]; their waveforms are added here over
//!   the part of each event that overlaps the span.

#![expect(
    clippy::cast_possible_wrap,
    clippy::many_single_char_names,
    reason = "signal synthesis and rendering: sample, pixel and frame counts are small and non-negative, values are range-limited before narrowing"
)]

use serde::{Deserialize, Serialize};

use super::events::{self, SynthEvent};
use crate::time::UtcInstant;

/// What determines a device's synthetic signal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignalSpec {
    /// ONC device code, e.g. `ICLISTENHF6324`; part of the noise and schedule keys.
    pub device_code: String,
    /// Samples per second.
    pub sample_rate: u32,
    /// 16 or 24 (other values are clamped into 8..=32 when quantising).
    pub bits_per_sample: u16,
    /// Simulator-wide seed.
    pub seed: u64,
}

impl SignalSpec {
    /// A spec from its parts.
    #[must_use]
    pub fn new(device_code: &str, sample_rate: u32, bits_per_sample: u16, seed: u64) -> Self {
        Self {
            device_code: device_code.to_owned(),
            sample_rate,
            bits_per_sample,
            seed,
        }
    }

    /// The largest positive sample value at this bit depth.
    #[must_use]
    pub fn full_scale(&self) -> f64 {
        let bits = self.bits_per_sample.clamp(8, 32);
        f64::from((1u32 << (bits - 1)) - 1)
    }

    /// The key all of this device's randomness derives from.
    pub(crate) fn key(&self) -> u64 {
        mix(self.seed ^ mix(fnv1a(self.device_code.as_bytes())))
    }
}

/// Calibration: a full-scale sine peak (1.0) is this many dB re 1 µPa. Spectrogram levels and
/// event `level_db` values use it, so the PSD lands in ONC's 40–140 dB range.
pub const FULL_SCALE_DB_RE_UPA: f64 = 170.0;

/// Background noise level (dB re full scale) of the white octave; lower octaves add more.
const NOISE_WHITE_DB: i32 = -70;

/// Absolute index of the first sample at or after `start`: `ceil(start_ms * rate / 1000)`.
#[must_use]
pub fn first_index(start: UtcInstant, rate: u32) -> i64 {
    let num = i128::from(start.unix_millis()) * i128::from(rate);
    let idx = num.div_euclid(1000) + i128::from(num.rem_euclid(1000) != 0);
    i64::try_from(idx).unwrap_or(i64::MAX)
}

/// The instant of sample `index`, floored to the millisecond.
#[must_use]
pub fn index_instant(index: i64, rate: u32) -> UtcInstant {
    let ms = (i128::from(index) * 1000).div_euclid(i128::from(rate.max(1)));
    UtcInstant::from_unix_millis(i64::try_from(ms).unwrap_or(i64::MAX))
}

/// `frames` samples of `spec`'s signal from the first sample at or after `start`.
#[must_use]
pub fn samples(spec: &SignalSpec, start: UtcInstant, frames: usize) -> Vec<i32> {
    samples_at(spec, first_index(start, spec.sample_rate), frames)
}

/// `frames` samples starting at absolute index `first`.
///
/// Works in chunks of [`CHUNK`] samples to bound memory, spread over the machine's cores
/// (each worker takes the next chunk until none is left); neither chunking nor the order in
/// which chunks are made can change a sample, because each one depends on its absolute
/// index only: the output is the same bytes on one core or many.
#[must_use]
pub fn samples_at(spec: &SignalSpec, first: i64, frames: usize) -> Vec<i32> {
    let mut out = vec![0i32; frames];
    let workers = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(frames.div_ceil(CHUNK));
    fill_parallel(spec, first, &mut out, workers);
    out
}

/// Fills `out` (samples from absolute index `first`) chunk by chunk on `workers` threads.
fn fill_parallel(spec: &SignalSpec, first: i64, out: &mut [i32], workers: usize) {
    let chunks = std::sync::Mutex::new(out.chunks_mut(CHUNK).enumerate());
    let work = || {
        loop {
            let next = match chunks.lock() {
                Ok(mut it) => it.next(),
                Err(_) => None,
            };
            let Some((k, slot)) = next else { break };
            let at = first.wrapping_add(i64::try_from(k * CHUNK).unwrap_or(i64::MAX));
            fill_chunk(spec, at, slot);
        }
    };
    if workers <= 1 {
        work();
    } else {
        std::thread::scope(|s| {
            for _ in 1..workers {
                s.spawn(work);
            }
            work();
        });
    }
}

/// Quantised samples of `spec` from absolute index `first` into `slot`.
fn fill_chunk(spec: &SignalSpec, first: i64, slot: &mut [i32]) {
    let fs = spec.full_scale();
    let signal = signal_at(spec, first, slot.len());
    for (o, x) in slot.iter_mut().zip(signal) {
        *o = quantise(x * fs, fs);
    }
}

/// Samples generated per internal chunk (a 512 KiB float buffer that stays in cache while
/// the noise octaves are summed into it).
pub const CHUNK: usize = 1 << 16;

/// The signal in full-scale units (±1) before quantisation, from absolute index `first`.
#[must_use]
pub fn signal_at(spec: &SignalSpec, first: i64, frames: usize) -> Vec<f64> {
    let mut out = vec![0.0; frames];
    background(spec.key(), spec.sample_rate, first, &mut out);
    let rate = spec.sample_rate;
    let end = first.saturating_add(i64::try_from(frames).unwrap_or(i64::MAX));
    let from = index_instant(first, rate);
    let to = index_instant(end, rate).add_millis(1);
    for ev in events::events(spec, from, to) {
        events::add_event(spec, &ev, first, &mut out);
    }
    out
}

/// Rounds half away from zero (as `trunc(|x| + 0.5)` with the sign put back: plain IEEE
/// operations, no libm `round`) and clamps to `[-fs - 1, fs]`.
#[expect(
    clippy::cast_possible_truncation,
    reason = "value is clamped to the bit depth's range first; `as` truncates toward zero"
)]
fn quantise(x: f64, fs: f64) -> i32 {
    let m = (x.abs() + 0.5).min(fs + 1.0) as i32;
    if x < 0.0 { -m } else { m.min(fs as i32) }
}

/// Adds the coloured background noise for `[first, first + out.len())` to `out`.
fn background(key: u64, rate: u32, first: i64, out: &mut [f64]) {
    let octaves = noise_octaves(rate);
    // White octave, then interpolated octaves: summed in this fixed order for every sample.
    let w0 = db_to_amp(NOISE_WHITE_DB);
    let lane0 = lane_key(key, 0);
    for (n, o) in out.iter_mut().enumerate() {
        let i = first.wrapping_add(n as i64);
        *o += w0 * uniform_in(lane0, i);
    }
    // Each lower octave is 3 dB stronger per block than the one above (about -4 dB/octave
    // overall once the narrowing bandwidth is counted).
    let mut w = w0;
    let octaves: Vec<(u32, f64)> = (1..=octaves)
        .map(|k| {
            w *= OCTAVE_GAIN;
            (k, w)
        })
        .collect();
    add_noise(key, &octaves, first, out);
}

/// Octaves from this one down are summed at nodes every `2^SMOOTH_FROM` samples and the sum
/// is interpolated linearly in between: each such octave is linear between those nodes, so
/// this is the same signal (up to rounding, fixed by this definition) for a fraction of the
/// work.
const SMOOTH_FROM: u32 = 3;

/// Adds the listed `(octave, weight)` noise octaves (ascending octaves, each octave ≥ 1) of
/// lane family `key` to `out`, which starts at absolute index `first`. Octaves below
/// [`SMOOTH_FROM`] are added one pass each, in order; the rest as one interpolated sum, last.
/// Every output value is a function of its absolute index only.
pub(crate) fn add_noise(key: u64, octaves: &[(u32, f64)], first: i64, out: &mut [f64]) {
    for &(k, w) in octaves.iter().filter(|(k, _)| *k < SMOOTH_FROM) {
        add_octave(key, k, w, first, out);
    }
    let smooth: Vec<(u32, f64)> = octaves
        .iter()
        .copied()
        .filter(|(k, _)| *k >= SMOOTH_FROM)
        .collect();
    if !smooth.is_empty() {
        add_smooth(key, &smooth, first, out);
    }
}

/// One octave's cached block: `(block, w·a, w·(b − a)/2^k)`.
type BlockCache = (i64, f64, f64);

/// The sum of the `smooth` octaves at absolute index `i` (a node), summed in order.
#[expect(
    clippy::cast_precision_loss,
    reason = "offsets within a block are < 2^20"
)]
fn node_value(i: i64, lanes: &[u64], smooth: &[(u32, f64)], cache: &mut [BlockCache]) -> f64 {
    let mut s = 0.0;
    for ((&(k, w), &lane), c) in smooth.iter().zip(lanes).zip(cache.iter_mut()) {
        let block = i >> k;
        if c.0 != block {
            let a = uniform_in(lane, block);
            let b = uniform_in(lane, block.wrapping_add(1));
            *c = (block, w * a, w * (b - a) / (1i64 << k) as f64);
        }
        s += c.1 + c.2 * (i - (block << k)) as f64;
    }
    s
}

#[expect(
    clippy::cast_precision_loss,
    reason = "offsets within a node span are < 8"
)]
fn add_smooth(key: u64, smooth: &[(u32, f64)], first: i64, out: &mut [f64]) {
    let lanes: Vec<u64> = smooth.iter().map(|&(k, _)| lane_key(key, k)).collect();
    let mut cache: Vec<BlockCache> = vec![(i64::MIN, 0.0, 0.0); smooth.len()];
    let span = 1i64 << SMOOTH_FROM;
    let inv = 1.0 / span as f64;
    let mut n = 0usize;
    let mut prev: Option<(i64, f64)> = None;
    while n < out.len() {
        let i = first.wrapping_add(n as i64);
        let node = i >> SMOOTH_FROM;
        let s0 = match prev {
            Some((p, v)) if p == node => v,
            _ => node_value(node << SMOOTH_FROM, &lanes, smooth, &mut cache),
        };
        let s1 = node_value((node + 1) << SMOOTH_FROM, &lanes, smooth, &mut cache);
        prev = Some((node + 1, s1));
        let d = (s1 - s0) * inv;
        let off = i - (node << SMOOTH_FROM);
        let take = usize::try_from(span - off).unwrap_or(1).min(out.len() - n);
        for (j, o) in out[n..n + take].iter_mut().enumerate() {
            *o += s0 + d * (off + j as i64) as f64;
        }
        n += take;
    }
}

/// Gain from one noise octave to the next lower one (+3 dB).
const OCTAVE_GAIN: f64 = 1.412_537_544_622_754_4;

/// Octaves of interpolated noise: down to about 15 Hz.
fn noise_octaves(rate: u32) -> u32 {
    (rate / 20).max(2).ilog2().min(20)
}

/// Adds octave `k` (blocks of `2^k` samples, linear interpolation) with weight `w`.
#[expect(
    clippy::cast_precision_loss,
    reason = "offsets within a block are < 2^20"
)]
pub(crate) fn add_octave(key: u64, k: u32, w: f64, first: i64, out: &mut [f64]) {
    let lane = lane_key(key, k);
    let size = 1i64 << k;
    let inv = 1.0 / size as f64;
    let mut n = 0usize;
    while n < out.len() {
        let i = first.wrapping_add(n as i64);
        let block = i >> k;
        let a = uniform_in(lane, block);
        let b = uniform_in(lane, block.wrapping_add(1));
        // value(off) = w·a + w·(b − a)/2^k · off: both factors depend on the block only.
        let wa = w * a;
        let wd = w * (b - a) * inv;
        let off = i - (block << k);
        let take = usize::try_from(size - off).unwrap_or(1).min(out.len() - n);
        for (j, o) in out[n..n + take].iter_mut().enumerate() {
            *o += wa + wd * (off + j as i64) as f64;
        }
        n += take;
    }
}

/// The per-lane key used by [`uniform_in`].
pub(crate) fn lane_key(key: u64, lane: u32) -> u64 {
    mix(key ^ mix(u64::from(lane)))
}

/// A uniform value in `[-1, 1)` for `counter` in a lane (`SplitMix64`: one mix per value).
#[expect(clippy::cast_precision_loss, reason = "53-bit integer to f64 is exact")]
#[expect(clippy::cast_sign_loss, reason = "the counter's bits are hashed")]
pub(crate) fn uniform_in(lane_key: u64, counter: i64) -> f64 {
    let h = mix(lane_key ^ (counter as u64).wrapping_mul(0xD1B5_4A32_D192_ED03));
    (h >> 11) as f64 * (2.0 / 9_007_199_254_740_992.0) - 1.0
}

/// `SplitMix64`'s finaliser.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a, 64-bit.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `10^(db/20)` by repeated multiplication (bit-identical on every IEEE machine).
#[must_use]
pub fn db_to_amp(db: i32) -> f64 {
    const STEP: f64 = 1.122_018_454_301_963_3; // 10^(1/20)
    let mut a = 1.0;
    for _ in 0..db.unsigned_abs() {
        a *= STEP;
    }
    if db < 0 { 1.0 / a } else { a }
}

/// `sin(2π · turns)` from a fixed odd polynomial: only `+ - *` and exact rounding, so the same
/// bits everywhere. Absolute error below 1e-9.
#[must_use]
pub fn det_sin(turns: f64) -> f64 {
    // Reduce to [-0.5, 0.5] (subtracting the truncated integer part is exact; `as` truncation
    // is one SSE2 instruction where `round` may be a libm call), then to [-0.25, 0.25] by
    // sin(π - x) = sin(x).
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_precision_loss,
        reason = "phases are far below 2^52 turns; the integer part is exact"
    )]
    let mut x = turns - (turns as i64) as f64;
    if x > 0.5 {
        x -= 1.0;
    } else if x < -0.5 {
        x += 1.0;
    }
    if x > 0.25 {
        x = 0.5 - x;
    } else if x < -0.25 {
        x = -0.5 - x;
    }
    let y = x * std::f64::consts::TAU;
    let y2 = y * y;
    // Taylor series to y^15 (|y| <= π/2: truncation error < 1e-10).
    let mut p = -1.0 / 1_307_674_368_000.0; // -1/15!
    p = p * y2 + 1.0 / 6_227_020_800.0; // 1/13!
    p = p * y2 - 1.0 / 39_916_800.0; // -1/11!
    p = p * y2 + 1.0 / 362_880.0; // 1/9!
    p = p * y2 - 1.0 / 5_040.0; // -1/7!
    p = p * y2 + 1.0 / 120.0; // 1/5!
    p = p * y2 - 1.0 / 6.0; // -1/3!
    p = p * y2 + 1.0;
    p * y
}

/// Events overlapping `[from, to)` (re-exported for convenience).
#[must_use]
pub fn events(spec: &SignalSpec, from: UtcInstant, to: UtcInstant) -> Vec<SynthEvent> {
    events::events(spec, from, to)
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::pedantic,
        clippy::print_stderr,
        reason = "test code: casts and formatting on small fixed inputs"
    )]
    use super::*;

    fn spec() -> SignalSpec {
        SignalSpec::new("ICLISTENHF6324", 64_000, 24, 7)
    }

    #[test]
    fn parallel_chunks_equal_one_chunk_at_a_time() {
        // Several chunks (made on all cores) and a ragged tail, starting off a chunk edge.
        let s = spec();
        let first = 1_711_972_800 * 64_000 + 12_345;
        let n = 3 * CHUNK + 777;
        let whole = samples_at(&s, first, n);
        let mut serial = vec![0i32; n];
        fill_parallel(&s, first, &mut serial, 1);
        assert_eq!(whole, serial);
        let mut piecewise = Vec::new();
        for k in 0..n.div_ceil(CHUNK) {
            let len = CHUNK.min(n - k * CHUNK);
            piecewise.extend(samples_at(&s, first + (k * CHUNK) as i64, len));
        }
        assert_eq!(whole, piecewise);
    }

    #[test]
    fn first_index_is_ceiling() {
        let t = UtcInstant::from_unix_millis(1_000);
        assert_eq!(first_index(t, 64_000), 64_000);
        // 44.1 samples per ms: 1 ms -> ceil(44.1) = 45.
        assert_eq!(first_index(UtcInstant::from_unix_millis(1), 44_100), 45);
        assert_eq!(first_index(UtcInstant::from_unix_millis(-1), 44_100), -44);
        assert_eq!(index_instant(45, 44_100).unix_millis(), 1);
    }

    #[test]
    fn quantise_rounds_half_away_and_clamps() {
        let fs = 32_767.0;
        let cases = [
            (2.5, 3),
            (-2.5, -3),
            (2.49, 2),
            (-0.4, 0),
            (1e9, 32_767),
            (-1e9, -32_768),
        ];
        for (x, want) in cases {
            assert_eq!(quantise(x, fs), want, "{x}");
        }
    }

    #[test]
    fn det_sin_matches_libm_closely() {
        for i in -10_000..10_000 {
            let t = f64::from(i) * 0.000_937;
            let d = det_sin(t) - (t * std::f64::consts::TAU).sin();
            assert!(d.abs() < 1e-9, "{t}: {d}");
        }
    }

    #[test]
    fn db_to_amp_matches_powf() {
        for db in -120..40 {
            let want = 10f64.powf(f64::from(db) / 20.0);
            assert!((db_to_amp(db) / want - 1.0).abs() < 1e-12, "{db}");
        }
    }

    #[test]
    fn split_property_on_random_points() {
        let s = spec();
        let first = 1_711_972_800_i64 * 64_000 + 12_345;
        let whole = samples_at(&s, first, 20_000);
        let mut state = 99u64;
        for _ in 0..20 {
            state = mix(state);
            let cut = usize::try_from(state % 20_001).unwrap();
            let mut joined = samples_at(&s, first, cut);
            joined.extend(samples_at(&s, first + cut as i64, 20_000 - cut));
            assert_eq!(joined, whole, "cut at {cut}");
        }
    }

    #[test]
    fn samples_are_in_range_and_not_silent() {
        for bits in [16u16, 24] {
            let s = SignalSpec::new("X", 48_000, bits, 1);
            let v = samples_at(&s, 0, 48_000);
            let fs = s.full_scale() as i32;
            assert!(v.iter().all(|&x| x >= -fs - 1 && x <= fs));
            let distinct: std::collections::BTreeSet<i32> = v.iter().copied().collect();
            assert!(distinct.len() > 20, "{bits}: {}", distinct.len());
        }
    }

    #[test]
    fn seed_and_device_change_the_noise() {
        let a = samples_at(&spec(), 0, 1000);
        let mut other = spec();
        other.seed = 8;
        assert_ne!(a, samples_at(&other, 0, 1000));
        let mut dev = spec();
        dev.device_code = "ICLISTENHF6325".into();
        assert_ne!(a, samples_at(&dev, 0, 1000));
    }
}
