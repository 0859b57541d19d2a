//! Spectrograms of PCM spans, computed the way ONC describes its HSD products.
//!
//! Decisions recorded here:
//! - **Base analysis** (all resolutions): Hann window of `nfft = rate / 10` samples (10 Hz
//!   bins; 6400 at 64 kHz, ONC's own figure), 50 % overlap (hop `nfft / 2`, 0.05 s), frames
//!   starting at the span's first sample. One-sided PSD `2·|X_k|² / (rate · Σw²)` of the
//!   full-scale-normalised samples, in dB plus [`FULL_SCALE_DB_RE_UPA`], i.e. dB re 1 µPa²/Hz.
//!   Frequencies are kept from 0 Hz up to the usable limit `0.4 · rate` (25.6 kHz at 64 kHz).
//! - **Resolutions** (`dpo_spectralDataDownsample`); averaging is always in linear power,
//!   then converted to dB:
//!   - `1` one-minute averages: consecutive frames in groups of `60 s / hop` (1200) from the
//!     span's start; a trailing partial group is kept; 10 Hz bins. (5 columns per 5 minutes.)
//!   - `2` plot resolution: groups of 7 frames (0.35 s) and 3 bins (30 Hz), as ONC's plot
//!     comment says ("Downsampled to 0.35 s, 30.0 Hz resolution"): 857 × 853 for 5 minutes
//!     at 64 kHz, about ONC's observed 854-bin arrays.
//!   - `0` full resolution: groups of 4 frames (0.2 s), 10 Hz bins: 1500 × 2561 doubles
//!     (≈31 MB) for 5 minutes at 64 kHz. (0.05 s × 10 Hz would be ≈150 MB per file.)
//! - **Axes**: `frequency` is the mean of a group's bin frequencies (`k · rate / nfft`);
//!   `time` is a column's centre, the mean of its first and last frame centres (frame centre =
//!   sample `start + f·hop + nfft/2`), as a MATLAB datenum `unix_s / 86400 + 719529`.
//! - PSD is stored column-major, frequency × time (`psd[t * n_freq + f]`), MAT's layout.

use realfft::RealFftPlanner;

use super::signal::FULL_SCALE_DB_RE_UPA;

/// MATLAB datenum of the Unix epoch.
pub const DATENUM_UNIX_EPOCH: f64 = 719_529.0;

/// Which of ONC's three HSD resolutions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// `dpo_spectralDataDownsample=0`.
    Full,
    /// `dpo_spectralDataDownsample=1` (ONC's MAT default).
    Minute,
    /// `dpo_spectralDataDownsample=2`.
    Plot,
}

impl Resolution {
    /// From the option value (0, 1, 2); `None` otherwise.
    #[must_use]
    pub fn from_downsample(v: u8) -> Option<Self> {
        match v {
            0 => Some(Self::Full),
            1 => Some(Self::Minute),
            2 => Some(Self::Plot),
            _ => None,
        }
    }

    /// (frames per column, bins per frequency group) at `rate`.
    #[must_use]
    pub fn grouping(self, rate: u32) -> (usize, usize) {
        match self {
            Self::Full => (4, 1),
            Self::Plot => (7, 3),
            Self::Minute => {
                let hop = (nfft_for(rate) / 2).max(1);
                ((60 * rate as usize).div_ceil(hop).max(1), 1)
            }
        }
    }
}

/// The span being analysed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpanInfo {
    /// Samples per second.
    pub sample_rate: u32,
    /// Bit depth (samples are normalised by its full scale).
    pub bits_per_sample: u16,
    /// Absolute index of the first sample (time `index / rate` since the epoch).
    pub first_index: i64,
}

/// A spectrogram: PSD in dB, frequency × time, column-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Spectrogram {
    /// Column-major `n_freq × n_time` dB values.
    pub psd_db: Vec<f64>,
    /// Bin centre frequencies, Hz.
    pub frequency: Vec<f64>,
    /// Column centres, MATLAB datenums.
    pub time: Vec<f64>,
    /// Column centres, Unix seconds (same instants as `time`, without datenum rounding).
    pub time_unix_s: Vec<f64>,
    /// FFT length of the base analysis.
    pub nfft: usize,
    /// Hop of the base analysis, samples.
    pub hop: usize,
    /// Frames averaged per column.
    pub frames_per_column: usize,
    /// Bins averaged per frequency row.
    pub bins_per_row: usize,
    /// ONC-style processing comment.
    pub comment: String,
}

impl Spectrogram {
    /// Number of frequency rows.
    #[must_use]
    pub fn n_freq(&self) -> usize {
        self.frequency.len()
    }
    /// Number of time columns.
    #[must_use]
    pub fn n_time(&self) -> usize {
        self.time.len()
    }
    /// The dB value at (frequency row, time column).
    #[must_use]
    pub fn at(&self, f: usize, t: usize) -> f64 {
        self.psd_db[t * self.frequency.len() + f]
    }
}

/// Base FFT length at `rate`: `rate / 10` (10 Hz bins), at least 16, even.
#[must_use]
pub fn nfft_for(rate: u32) -> usize {
    ((rate as usize / 10).max(16) + 1) & !1
}

/// Base STFT: linear one-sided PSD (full-scale²/Hz), one `Vec` of `n_bins` per frame, keeping
/// bins `0..n_bins`.
pub(crate) struct Stft {
    pub(crate) nfft: usize,
    pub(crate) hop: usize,
    pub(crate) n_bins: usize,
    /// Frame-major linear PSD: `frames × n_bins`.
    pub(crate) power: Vec<f64>,
    pub(crate) frames: usize,
}

/// Computes the base STFT of `samples`.
#[expect(clippy::cast_precision_loss, reason = "FFT sizes are small integers")]
pub(crate) fn stft(samples: &[i32], info: &SpanInfo) -> Stft {
    let rate = info.sample_rate;
    let nfft = nfft_for(rate);
    let hop = nfft / 2;
    let n_bins = (nfft * 2 / 5 + 1).min(nfft / 2 + 1); // up to 0.4·rate
    let frames = if samples.len() >= nfft {
        (samples.len() - nfft) / hop + 1
    } else {
        0
    };
    let bits = info.bits_per_sample.clamp(8, 32);
    let fs = f64::from((1u32 << (bits - 1)) - 1);
    let window: Vec<f64> = (0..nfft)
        .map(|n| 0.5 - 0.5 * (std::f64::consts::TAU * n as f64 / nfft as f64).cos())
        .collect();
    let wsum2: f64 = window.iter().map(|w| w * w).sum();
    let scale = 2.0 / (f64::from(rate) * wsum2 * fs * fs);
    let mut planner = RealFftPlanner::<f64>::new();
    let fft = planner.plan_fft_forward(nfft);
    let mut input = fft.make_input_vec();
    let mut spectrum = fft.make_output_vec();
    let mut scratch = fft.make_scratch_vec();
    let mut power = Vec::with_capacity(frames * n_bins);
    for f in 0..frames {
        let seg = &samples[f * hop..f * hop + nfft];
        for ((x, &s), &w) in input.iter_mut().zip(seg).zip(&window) {
            *x = f64::from(s) * w;
        }
        // Lengths match the plan, so processing cannot fail; an error leaves zeros.
        if fft
            .process_with_scratch(&mut input, &mut spectrum, &mut scratch)
            .is_err()
        {
            spectrum.fill(realfft::num_complex::Complex::new(0.0, 0.0));
        }
        power.extend(spectrum[..n_bins].iter().map(|c| c.norm_sqr() * scale));
    }
    Stft {
        nfft,
        hop,
        n_bins,
        power,
        frames,
    }
}

/// Linear power to dB re 1 µPa²/Hz (−Inf for zero power, as ONC's PSD may hold).
pub(crate) fn to_db(p: f64) -> f64 {
    10.0 * p.log10() + FULL_SCALE_DB_RE_UPA
}

/// The spectrogram of `samples` at `res`.
#[must_use]
#[expect(clippy::cast_precision_loss, reason = "indices are far below 2^53")]
pub fn spectrogram(samples: &[i32], info: &SpanInfo, res: Resolution) -> Spectrogram {
    let st = stft(samples, info);
    let rate = f64::from(info.sample_rate);
    let (fpc, bpr) = res.grouping(info.sample_rate);
    let n_time = st.frames.div_ceil(fpc);
    let n_freq = st.n_bins / bpr;
    let bin_hz = rate / st.nfft as f64;
    let frequency: Vec<f64> = (0..n_freq)
        .map(|r| (r * bpr) as f64 * bin_hz + (bpr - 1) as f64 * bin_hz / 2.0)
        .collect();
    let mut psd_db = Vec::with_capacity(n_time * n_freq);
    let mut time_unix_s = Vec::with_capacity(n_time);
    let mut acc = vec![0.0; n_freq];
    for c in 0..n_time {
        let f_lo = c * fpc;
        let f_hi = ((c + 1) * fpc).min(st.frames);
        acc.fill(0.0);
        for fr in f_lo..f_hi {
            let row = &st.power[fr * st.n_bins..(fr + 1) * st.n_bins];
            for (a, chunk) in acc.iter_mut().zip(row.chunks_exact(bpr)) {
                *a += chunk.iter().sum::<f64>();
            }
        }
        let count = ((f_hi - f_lo) * bpr) as f64;
        psd_db.extend(acc.iter().map(|&a| to_db(a / count)));
        // Centre of the column: mean of first and last frame centres, in samples.
        let c0 = (f_lo * st.hop) as f64 + st.nfft as f64 / 2.0;
        let c1 = ((f_hi - 1) * st.hop) as f64 + st.nfft as f64 / 2.0;
        time_unix_s.push((info.first_index as f64 + f64::midpoint(c0, c1)) / rate);
    }
    let time = time_unix_s
        .iter()
        .map(|s| s / 86_400.0 + DATENUM_UNIX_EPOCH)
        .collect();
    let step_s = st.hop as f64 / rate;
    let comment = format!(
        "Hann window with 50% overlap, {} samples per FFT window, temporal resolution: {} s, \
         spectral resolution: {:.1} Hz. Sample rate: {} Hz. Averaged in linear units to {} s, \
         {:.1} Hz resolution. Synthetic data (hydrofetch simulator).",
        st.nfft,
        step_s,
        bin_hz,
        info.sample_rate,
        step_s * fpc as f64,
        bin_hz * bpr as f64,
    );
    Spectrogram {
        psd_db,
        frequency,
        time,
        time_unix_s,
        nfft: st.nfft,
        hop: st.hop,
        frames_per_column: fpc,
        bins_per_row: bpr,
        comment,
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::pedantic,
        clippy::print_stderr,
        reason = "test code: casts and formatting on small fixed inputs"
    )]
    use super::*;

    fn info(rate: u32) -> SpanInfo {
        SpanInfo {
            sample_rate: rate,
            bits_per_sample: 16,
            first_index: i64::from(rate) * 1_711_972_800,
        }
    }

    /// A deterministic full-band test signal.
    fn noise(n: usize) -> Vec<i32> {
        let mut z = 5u64;
        (0..n)
            .map(|_| {
                z = super::super::signal::mix(z);
                i32::try_from(z % 2001).unwrap() - 1000
            })
            .collect()
    }

    #[test]
    fn axes_follow_rate_nfft_and_hop() {
        let rate = 8_000;
        let s = noise(rate as usize * 10);
        let sp = spectrogram(&s, &info(rate), Resolution::Full);
        assert_eq!(sp.nfft, 800);
        assert_eq!(sp.hop, 400);
        let df = f64::from(rate) / 800.0;
        for (k, f) in sp.frequency.iter().enumerate() {
            assert!((f - k as f64 * df).abs() < 1e-9);
        }
        assert_eq!(*sp.frequency.last().unwrap(), 0.4 * f64::from(rate));
        // 199 frames in groups of 4 -> 50 columns, 0.2 s apart, centred on their frames.
        assert_eq!(sp.n_time(), 50);
        let t0 = 1_711_972_800.0;
        assert!((sp.time_unix_s[0] - (t0 + f64::midpoint(0.05, 0.2))).abs() < 1e-6);
        for w in sp.time_unix_s.windows(2).take(48) {
            assert!((w[1] - w[0] - 0.2).abs() < 1e-6);
        }
        for (d, u) in sp.time.iter().zip(&sp.time_unix_s) {
            assert!(((d - DATENUM_UNIX_EPOCH) * 86_400.0 - u).abs() < 1e-3);
        }
        assert_eq!(sp.psd_db.len(), sp.n_time() * sp.n_freq());
    }

    #[test]
    fn minute_average_is_linear_mean_of_frames() {
        let rate = 2_000;
        let s = noise(rate as usize * 150);
        let inf = info(rate);
        let st = stft(&s, &inf);
        let sp = spectrogram(&s, &inf, Resolution::Minute);
        assert_eq!(sp.frames_per_column, 1200);
        assert_eq!(sp.n_time(), st.frames.div_ceil(1200));
        for (c, bin) in [(0usize, 3usize), (1, 40), (2, 77)] {
            let frames: Vec<usize> = (c * 1200..((c + 1) * 1200).min(st.frames)).collect();
            let mean = frames
                .iter()
                .map(|&f| st.power[f * st.n_bins + bin])
                .sum::<f64>()
                / frames.len() as f64;
            let want = 10.0 * mean.log10() + FULL_SCALE_DB_RE_UPA;
            assert!((sp.at(bin, c) - want).abs() < 1e-9, "{c} {bin}");
        }
    }

    #[test]
    fn sine_peaks_in_its_bin_at_the_expected_level() {
        let rate = 64_000u32;
        let fs = 32_767.0;
        let amp = 0.1;
        let s: Vec<i32> = (0..rate as usize)
            .map(|n| {
                let x = amp * fs * (std::f64::consts::TAU * 1000.0 * n as f64 / 64_000.0).sin();
                x.round() as i32
            })
            .collect();
        let sp = spectrogram(&s, &info(rate), Resolution::Full);
        let col: Vec<f64> = (0..sp.n_freq()).map(|f| sp.at(f, 1)).collect();
        let peak = col
            .iter()
            .enumerate()
            .fold((0, f64::MIN), |m, (i, &v)| if v > m.1 { (i, v) } else { m });
        assert_eq!(sp.frequency[peak.0], 1000.0);
        // Sum of PSD × bin width over the peak = the sine's power (amp²/2).
        let df = 10.0;
        let power: f64 = col[95..106]
            .iter()
            .map(|db| 10f64.powf((db - FULL_SCALE_DB_RE_UPA) / 10.0) * df)
            .sum();
        assert!((power / (amp * amp / 2.0) - 1.0).abs() < 0.01, "{power}");
    }
}
