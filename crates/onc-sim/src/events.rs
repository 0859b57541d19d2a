//! Scheduled acoustic events of the synthetic signal: whale-like calls and ship passages.
//!
//! Decisions recorded here:
//! - **Schedule.** Deterministic per `(seed, device, hour)` for calls (2–6 per UTC hour, each
//!   wholly inside its hour) and per `(seed, device, 3-hour block)` for ships (one passage in
//!   two blocks out of three, 6–20 minutes, wholly inside its block). Listing any span only
//!   looks at the hours and blocks it touches.
//! - **Onsets** fall on whole milliseconds that are also whole samples: multiples of
//!   `1000 / gcd(rate, 1000)` ms. Durations follow the same step, so an event covers exactly
//!   `duration_ms * rate / 1000` samples from sample `start_ms * rate / 1000`.
//! - **Call**: a linear up-sweep `f_start_hz → f_end_hz` (whole Hz), phase 0 at onset, a 2 ms
//!   linear attack (a sharp onset), flat, then a linear release over the last 20 %; with
//!   `harmonics = 2` a second harmonic at half amplitude. The phase is an exact rational
//!   reduced in integers, so long events stay bit-exact.
//! - **Ship**: broadband noise (its own counter-based noise key, low octaves only) and
//!   `harmonics` tonal lines at multiples of `f_start_hz` (blade rate, `f_end_hz` equals it),
//!   all under a `sin²` rise-and-fall envelope over the passage (held per 64 samples).
//! - **Level**: `level_db` is the peak RMS level re 1 µPa, given the calibration
//!   [`FULL_SCALE_DB_RE_UPA`]; it is a whole number of dB so the amplitude is exact.
//! - [`event_template`] returns exactly what `add_event` adds to the signal (full-scale units
//!   times the bit depth's full scale, i.e. PCM counts before rounding), so cross-correlating a
//!   clip with it peaks at the onset.

#![expect(
    clippy::cast_sign_loss,
    reason = "signal synthesis and rendering: sample, pixel and frame counts are small and non-negative, values are range-limited before narrowing"
)]

use serde::{Deserialize, Serialize};

use super::signal::{
    FULL_SCALE_DB_RE_UPA, SignalSpec, add_noise, db_to_amp, det_sin, first_index, mix,
};
use crate::time::UtcInstant;

/// Kind of synthetic event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// A tonal up-sweep (whale-like call).
    Call,
    /// A broadband ship passage with harmonic lines.
    Ship,
}

/// One scheduled event; everything its waveform depends on is in here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SynthEvent {
    /// Call or ship.
    pub kind: EventKind,
    /// Exact onset (a whole millisecond and a whole sample).
    pub start: UtcInstant,
    /// Length in milliseconds.
    pub duration_ms: i64,
    /// Sweep start (call) or line fundamental (ship), whole Hz.
    pub f_start_hz: u32,
    /// Sweep end (call) or line fundamental again (ship), whole Hz.
    pub f_end_hz: u32,
    /// Number of harmonics (call: 1 or 2; ship: tonal lines).
    pub harmonics: u32,
    /// Peak RMS level, dB re 1 µPa.
    pub level_db: i32,
    /// Key of the ship's broadband noise (0 for calls).
    pub noise_key: u64,
}

impl SynthEvent {
    /// First absolute sample index of the event at `rate`.
    #[must_use]
    pub fn onset_index(&self, rate: u32) -> i64 {
        first_index(self.start, rate)
    }

    /// Length in samples at `rate`.
    #[must_use]
    pub fn len_samples(&self, rate: u32) -> i64 {
        self.duration_ms * i64::from(rate) / 1000
    }

    /// The event's end (exclusive).
    #[must_use]
    pub fn end(&self) -> UtcInstant {
        self.start.add_millis(self.duration_ms)
    }
}

const HOUR_MS: i64 = 3_600_000;
const SHIP_BLOCK_MS: i64 = 3 * HOUR_MS;

/// The onset grid step in ms: onsets on multiples of it are whole samples.
fn step_ms(rate: u32) -> i64 {
    let g = gcd(u64::from(rate.max(1)), 1000);
    i64::try_from(1000 / g).unwrap_or(1000)
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// A small deterministic generator (`SplitMix64` stream).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }
    /// Uniform integer in `[lo, hi]`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        let span = u64::try_from(hi - lo + 1).unwrap_or(1).max(1);
        lo + i64::try_from(self.next() % span).unwrap_or(0)
    }
}

/// Events overlapping `[from, to)`, sorted by onset.
#[must_use]
pub fn events(spec: &SignalSpec, from: UtcInstant, to: UtcInstant) -> Vec<SynthEvent> {
    let (a, b) = (from.unix_millis(), to.unix_millis());
    if b <= a {
        return Vec::new();
    }
    let mut out = Vec::new();
    for h in a.div_euclid(HOUR_MS)..=(b - 1).div_euclid(HOUR_MS) {
        out.extend(hour_calls(spec, h));
    }
    for blk in a.div_euclid(SHIP_BLOCK_MS)..=(b - 1).div_euclid(SHIP_BLOCK_MS) {
        out.extend(block_ship(spec, blk));
    }
    out.retain(|e| e.start.unix_millis() < b && e.end().unix_millis() > a);
    out.sort_by_key(|e| (e.start, e.kind == EventKind::Ship));
    out
}

/// The calls of UTC hour number `h` (hours since the epoch).
fn hour_calls(spec: &SignalSpec, h: i64) -> Vec<SynthEvent> {
    let rate = spec.sample_rate;
    let step = step_ms(rate);
    let mut rng = Rng(spec.key() ^ mix(0xCA11 ^ h as u64));
    let n = rng.range(2, 6);
    let top = i64::from(rate) * 2 / 5; // usable limit 0.4·rate
    (0..n)
        .map(|_| {
            let dur = rng.range(1000, 3000) / step * step;
            let slots = (HOUR_MS - dur) / step;
            let start = h * HOUR_MS + rng.range(0, slots - 1) * step;
            let f0 = rng.range(200, 800).min(top / 4);
            let f1 = rng.range(1500, 4000).min(top / 2).max(f0 + 1);
            let harmonics = if rng.range(0, 1) == 1 && 2 * f1 < top {
                2
            } else {
                1
            };
            SynthEvent {
                kind: EventKind::Call,
                start: UtcInstant::from_unix_millis(start),
                duration_ms: dur,
                f_start_hz: u32::try_from(f0.max(1)).unwrap_or(1),
                f_end_hz: u32::try_from(f1.max(2)).unwrap_or(2),
                harmonics,
                level_db: i32::try_from(rng.range(118, 134)).unwrap_or(126),
                noise_key: 0,
            }
        })
        .collect()
}

/// The ship passage of 3-hour block `blk`, if any.
fn block_ship(spec: &SignalSpec, blk: i64) -> Option<SynthEvent> {
    let step = step_ms(spec.sample_rate);
    let mut rng = Rng(spec.key() ^ mix(0x5410 ^ blk as u64));
    if rng.range(0, 2) == 0 {
        return None;
    }
    let dur = rng.range(6 * 60_000, 20 * 60_000) / step * step;
    let slots = (SHIP_BLOCK_MS - dur) / step;
    let start = blk * SHIP_BLOCK_MS + rng.range(0, slots - 1) * step;
    let f0 = rng.range(40, 120);
    Some(SynthEvent {
        kind: EventKind::Ship,
        start: UtcInstant::from_unix_millis(start),
        duration_ms: dur,
        f_start_hz: u32::try_from(f0).unwrap_or(60),
        f_end_hz: u32::try_from(f0).unwrap_or(60),
        harmonics: u32::try_from(rng.range(3, 6)).unwrap_or(4),
        level_db: i32::try_from(rng.range(134, 144)).unwrap_or(138),
        noise_key: rng.next(),
    })
}

/// The event's waveform alone, from its onset, in PCM counts (before rounding) at `spec`'s
/// bit depth.
#[must_use]
pub fn event_template(spec: &SignalSpec, ev: &SynthEvent) -> Vec<f64> {
    let len = usize::try_from(ev.len_samples(spec.sample_rate)).unwrap_or(0);
    let mut out = vec![0.0; len];
    add_event(spec, ev, ev.onset_index(spec.sample_rate), &mut out);
    let fs = spec.full_scale();
    for x in &mut out {
        *x *= fs;
    }
    out
}

/// Adds `ev`'s waveform (full-scale units) to `out`, which holds samples from index `first`.
pub(crate) fn add_event(spec: &SignalSpec, ev: &SynthEvent, first: i64, out: &mut [f64]) {
    let rate = spec.sample_rate;
    let on = ev.onset_index(rate);
    let len = ev.len_samples(rate);
    let end = first + i64::try_from(out.len()).unwrap_or(i64::MAX);
    let lo = on.max(first);
    let hi = (on + len).min(end);
    if hi <= lo {
        return;
    }
    // Peak amplitude of a sine whose RMS is level_db re 1 µPa.
    #[expect(
        clippy::cast_possible_truncation,
        reason = "the calibration constant is a whole number"
    )]
    let amp = db_to_amp(ev.level_db - FULL_SCALE_DB_RE_UPA as i32) * std::f64::consts::SQRT_2;
    let slice = &mut out[usize::try_from(lo - first).unwrap_or(0)..];
    match ev.kind {
        EventKind::Call => add_call(ev, rate, amp, on, len, lo, hi, slice),
        EventKind::Ship => add_ship(ev, rate, amp, on, len, lo, hi, slice),
    }
}

#[expect(clippy::too_many_arguments, reason = "internal kernel")]
#[expect(clippy::cast_precision_loss, reason = "integers below 2^53")]
fn add_call(
    ev: &SynthEvent,
    rate: u32,
    amp: f64,
    on: i64,
    len: i64,
    lo: i64,
    hi: i64,
    out: &mut [f64],
) {
    let attack = i64::from(rate / 500).max(1);
    let release = (len / 5).max(1);
    let f0 = i128::from(ev.f_start_hz);
    let df = i128::from(ev.f_end_hz) - f0;
    // phase (turns) = num / den with num = 2·L·f0·n + df·n², den = 2·rate·L.
    let den = 2 * i128::from(rate) * i128::from(len);
    for (o, i) in out.iter_mut().zip(lo..hi) {
        let n = i - on;
        let env = if n < attack {
            n as f64 / attack as f64
        } else if n >= len - release {
            (len - n) as f64 / release as f64
        } else {
            1.0
        };
        let nn = i128::from(n);
        let num = 2 * i128::from(len) * f0 * nn + df * nn * nn;
        let mut v = det_sin(frac(num, den));
        if ev.harmonics >= 2 {
            v += 0.5 * det_sin(frac(2 * num, den));
        }
        *o += amp * env * v;
    }
}

#[expect(clippy::too_many_arguments, reason = "internal kernel")]
#[expect(clippy::cast_precision_loss, reason = "integers below 2^53")]
fn add_ship(
    ev: &SynthEvent,
    rate: u32,
    amp: f64,
    on: i64,
    len: i64,
    lo: i64,
    hi: i64,
    out: &mut [f64],
) {
    let r = i128::from(rate);
    let f0 = i128::from(ev.f_start_hz);
    // Broadband: the ship's own counter-based noise; lines at 1/h amplitude.
    let line_amp = amp * 0.5;
    let noise_amp = amp * 0.6;
    let lenf = len as f64;
    let mut bb = vec![0.0; out.len().min(usize::try_from(hi - lo).unwrap_or(0))];
    // Octaves 1..=8 (energy up to rate/4, the flat high-frequency floor of cavitation noise);
    // lower octaves grow by 1.3× each, so the passage is loudest at low frequencies.
    let mut w = 0.15 / 1.3;
    let octaves: Vec<(u32, f64)> = (1..=8u32)
        .map(|k| {
            w *= 1.3;
            (k, w)
        })
        .collect();
    add_noise(ev.noise_key, &octaves, lo, &mut bb);
    // Lines: the fundamental's phase is the exact residue `f0·n mod rate` (advanced by integer
    // steps, the same integers as computing each sample directly); harmonics follow from the
    // Chebyshev recurrence sin((h+1)θ) = 2cosθ·sin(hθ) − sin((h−1)θ), pure arithmetic.
    let harmonics = ev.harmonics.min(8);
    let n0 = i128::from(lo - on);
    let mut phase = i64::try_from((f0 * n0).rem_euclid(r)).unwrap_or(0);
    let step = i64::try_from(f0.rem_euclid(r)).unwrap_or(0);
    let rate_i = i64::from(rate);
    let rate_f = f64::from(rate);
    let mut env_block = i64::MIN;
    let mut env = 0.0;
    for ((o, i), b) in out.iter_mut().zip(lo..hi).zip(bb) {
        let n = i - on;
        // sin² rise and fall, held over blocks of 64 samples (a function of n only).
        if n >> 6 != env_block {
            env_block = n >> 6;
            let s = det_sin((env_block << 6) as f64 / (2.0 * lenf));
            env = s * s;
        }
        let turns = phase as f64 / rate_f;
        let s1 = det_sin(turns);
        let c2 = 2.0 * det_sin(turns + 0.25);
        let (mut prev, mut cur) = (0.0, s1);
        let mut lines = 0.0;
        for h in 1..=harmonics {
            lines += cur / f64::from(h);
            (prev, cur) = (cur, c2 * cur - prev);
        }
        phase += step;
        if phase >= rate_i {
            phase -= rate_i;
        }
        *o += env * (noise_amp * b + line_amp * lines);
    }
}

/// `num / den` reduced to `[0, 1)` exactly before converting.
#[expect(
    clippy::cast_precision_loss,
    reason = "remainder < den < 2^53 for real rates"
)]
fn frac(num: i128, den: i128) -> f64 {
    num.rem_euclid(den) as f64 / den as f64
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
        SignalSpec::new("ICLISTENHF6324", 64_000, 24, 0)
    }

    #[test]
    fn april_first_noon_has_several_calls() {
        let from = UtcInstant::parse("2024-04-01T12:00:00Z").unwrap();
        let to = UtcInstant::parse("2024-04-01T14:00:00Z").unwrap();
        let calls: Vec<_> = events(&spec(), from, to)
            .into_iter()
            .filter(|e| e.kind == EventKind::Call)
            .collect();
        assert!(calls.len() >= 4, "{calls:?}");
    }

    #[test]
    fn onsets_are_whole_samples_and_listing_is_consistent() {
        for rate in [64_000u32, 44_100, 48_000, 32_000, 128_000] {
            let s = SignalSpec::new("D", rate, 16, 3);
            let from = UtcInstant::from_unix_millis(1_700_000_000_000);
            let to = from.add_millis(12 * HOUR_MS);
            let all = events(&s, from, to);
            assert!(all.iter().any(|e| e.kind == EventKind::Ship));
            for e in &all {
                let ms = e.start.unix_millis();
                assert_eq!(i128::from(ms) * i128::from(rate) % 1000, 0, "{rate} {e:?}");
                assert_eq!(e.duration_ms * i64::from(rate) % 1000, 0);
                assert!(
                    f64::from(e.f_end_hz) * f64::from(e.harmonics) < f64::from(rate) / 2.0
                        || e.kind == EventKind::Ship
                );
                // Listing a sub-span that contains the event finds it again.
                let again = events(&s, e.start, e.start.add_millis(1));
                assert!(again.contains(e));
            }
            // Split listing = whole listing (events may appear in both halves).
            let mid = from.add_millis(5 * HOUR_MS + 123);
            let mut joined = events(&s, from, mid);
            for e in events(&s, mid, to) {
                if !joined.contains(&e) {
                    joined.push(e);
                }
            }
            joined.sort_by_key(|e| (e.start, e.kind == EventKind::Ship));
            assert_eq!(joined, all);
        }
    }

    #[test]
    fn template_has_sharp_onset() {
        let s = spec();
        let from = UtcInstant::parse("2024-04-01T12:00:00Z").unwrap();
        let e = events(&s, from, from.add_millis(HOUR_MS))
            .into_iter()
            .find(|e| e.kind == EventKind::Call)
            .unwrap();
        let t = event_template(&s, &e);
        assert_eq!(t.len() as i64, e.len_samples(64_000));
        assert_eq!(t[0], 0.0);
        let peak = t.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        // Within 4 ms the call has reached full amplitude.
        let early = t[..256].iter().fold(0.0f64, |m, x| m.max(x.abs()));
        assert!(early > 0.5 * peak, "{early} {peak}");
    }

    #[test]
    fn spans_through_events_split_exactly() {
        use crate::signal::samples_at;
        let s = SignalSpec::new("ICLISTENHF6324", 16_000, 24, 0);
        let from = UtcInstant::parse("2024-04-01T12:00:00Z").unwrap();
        let all = events(&s, from, from.add_millis(12 * HOUR_MS));
        let ship = all.iter().find(|e| e.kind == EventKind::Ship).unwrap();
        let call = all.iter().find(|e| e.kind == EventKind::Call).unwrap();
        let mut state = 17u64;
        for ev in [ship, call] {
            // Spans straddling the onset and the middle of the event.
            for centre in [
                ev.onset_index(16_000),
                ev.onset_index(16_000) + ev.len_samples(16_000) / 2,
            ] {
                let first = centre - 20_000;
                let whole = samples_at(&s, first, 40_000);
                for _ in 0..8 {
                    state = mix(state);
                    let cut = usize::try_from(state % 40_001).unwrap();
                    let mut joined = samples_at(&s, first, cut);
                    joined.extend(samples_at(&s, first + cut as i64, 40_000 - cut));
                    assert_eq!(joined, whole, "{:?} cut {cut}", ev.kind);
                }
            }
        }
    }
}
