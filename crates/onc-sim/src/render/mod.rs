//! ONC-style spectrogram plots (HSD PNG): 1200 × 900 RGB, white page, data in a fixed box.
//!
//! Decisions recorded here (the clipper relies on the geometry):
//! - **Data region** = exactly ONC's crop box `(left 107, top 66, right 1040, bottom 810)`,
//!   right/bottom exclusive: pixel columns `107..=1039` (933 px), rows `66..=809` (744 px).
//!   A 1-px black frame is drawn just outside it: columns 106 and 1040, rows 65 and 810.
//! - **Time**: data column `x` covers `[t0 + (x-107)·D/933, t0 + (x-106)·D/933)` where `t0` is
//!   the time of the span's first sample and `D = frames / rate` (see [`column_span`]). Its
//!   colour is the linear mean of the base STFT frames (see [`super::spectro`]) whose centres
//!   fall in that interval, or the frame nearest its centre when none does. Columns are
//!   therefore monotonic in time and a time window maps to a contiguous column range.
//! - **Frequency**: row `y` covers `[(809-y)·F/744, (810-y)·F/744)` Hz, `F` = the upper limit
//!   (`dpo_spectrogramFrequencyUpperLimit`, default and cap `0.4 · rate`); 0 Hz at the bottom.
//! - **Colour**: ONC's default palette (black → navy → blue → cyan → green → yellow → red →
//!   dark red) over `[lower_db, upper_db]` (default 40–140 dB), clamped; palette 1 is grey;
//!   other palette numbers fall back to 0. A colour bar with 10 dB ticks sits on the right.
//! - **Text** with a built-in 5 × 7 font (`font`): header lines, minute labels `HH:MM` under
//!   the time axis (ticks on whole UTC minutes), kHz labels left of the frequency axis.

#![expect(
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss,
    clippy::cast_sign_loss,
    reason = "signal synthesis and rendering: sample, pixel and frame counts are small and non-negative, values are range-limited before narrowing"
)]

mod font;
pub mod palette;

use super::spectro::{SpanInfo, Stft, stft, to_db};
use crate::formats::Image;
use crate::time::UtcInstant;

/// Image width.
pub const WIDTH: u32 = 1200;
/// Image height.
pub const HEIGHT: u32 = 900;
/// First data column.
pub const DATA_LEFT: u32 = 107;
/// First data row.
pub const DATA_TOP: u32 = 66;
/// One past the last data column.
pub const DATA_RIGHT: u32 = 1040;
/// One past the last data row.
pub const DATA_BOTTOM: u32 = 810;
/// Data columns.
pub const DATA_WIDTH: u32 = DATA_RIGHT - DATA_LEFT;
/// Data rows.
pub const DATA_HEIGHT: u32 = DATA_BOTTOM - DATA_TOP;

const BAR_LEFT: u32 = 1093;
const BAR_RIGHT: u32 = 1121;
const BAR_TOP: u32 = 162;
const BAR_BOTTOM: u32 = 806;

/// Plot options (ONC's `dpo_*` PNG options, already resolved).
#[derive(Debug, Clone, PartialEq)]
pub struct RenderOptions {
    /// Colour of the lowest level (dB).
    pub lower_db: f64,
    /// Colour of the highest level (dB).
    pub upper_db: f64,
    /// Top of the frequency axis, Hz (`None`: `0.4 · rate`).
    pub freq_upper_hz: Option<f64>,
    /// `dpo_spectrogramColourPalette` (0 ONC default, 1 grey).
    pub palette: u8,
    /// Header lines drawn above the plot (right-aligned, like ONC's).
    pub header: Vec<String>,
    /// Comment lines drawn at the bottom left (small type, like ONC's processing comment).
    pub footer: Vec<String>,
}

impl Default for RenderOptions {
    fn default() -> Self {
        Self {
            lower_db: 40.0,
            upper_db: 140.0,
            freq_upper_hz: None,
            palette: 0,
            header: Vec::new(),
            footer: Vec::new(),
        }
    }
}

/// The time interval `[from_s, to_s)` (Unix seconds) shown by data column `x`, or `None` for
/// a column outside the data region.
#[must_use]
#[expect(
    clippy::cast_precision_loss,
    reason = "pixel and sample counts are small"
)]
pub fn column_span(info: &SpanInfo, frames: usize, x: u32) -> Option<(f64, f64)> {
    if !(DATA_LEFT..DATA_RIGHT).contains(&x) {
        return None;
    }
    let rate = f64::from(info.sample_rate);
    let t0 = info.first_index as f64 / rate;
    let d = frames as f64 / rate;
    let c = f64::from(x - DATA_LEFT);
    let w = f64::from(DATA_WIDTH);
    Some((t0 + c * d / w, t0 + (c + 1.0) * d / w))
}

/// Renders the spectrogram plot of `samples`.
#[must_use]
pub fn render(samples: &[i32], info: &SpanInfo, opts: &RenderOptions) -> Image {
    let mut img = Image::new_rgb(WIDTH, HEIGHT);
    img.data.fill(255);
    let st = stft(samples, info);
    let rate = f64::from(info.sample_rate);
    let f_top = opts
        .freq_upper_hz
        .map_or(0.4 * rate, |f| f.min(0.4 * rate))
        .max(1.0);
    let columns = column_frames(&st, samples.len());
    let rows = row_bins(&st, rate, f_top);
    let span = (opts.upper_db - opts.lower_db).max(1e-9);
    let mut col_db = vec![0.0; rows.len()];
    for (x, frames) in (DATA_LEFT..).zip(&columns) {
        for (v, &(b0, b1)) in col_db.iter_mut().zip(&rows) {
            *v = mean_db(&st, frames, b0, b1);
        }
        for (y, v) in (DATA_TOP..DATA_BOTTOM).rev().zip(&col_db) {
            let rgb = palette::colour(opts.palette, (v - opts.lower_db) / span);
            put(&mut img, x, y, rgb);
        }
    }
    draw_frame(&mut img);
    draw_time_axis(&mut img, info, samples.len());
    draw_freq_axis(&mut img, f_top);
    draw_colour_bar(&mut img, opts);
    for (i, line) in (0u32..).zip(&opts.header) {
        let w = font::text_width(line, 2);
        text(&mut img, line, DATA_RIGHT.saturating_sub(w), 4 + i * 20, 2);
    }
    for (i, line) in (0u32..).zip(&opts.footer) {
        text(&mut img, line, 56, 872 + i * 12, 1);
    }
    img
}

/// For each data column, the base frames it averages.
#[expect(clippy::cast_precision_loss, reason = "sample counts below 2^53")]
fn column_frames(st: &Stft, n_samples: usize) -> Vec<std::ops::Range<usize>> {
    let w = f64::from(DATA_WIDTH);
    let total = n_samples as f64;
    let centre = |f: usize| (f * st.hop) as f64 + st.nfft as f64 / 2.0;
    (0..DATA_WIDTH)
        .map(|c| {
            let lo = f64::from(c) * total / w;
            let hi = f64::from(c + 1) * total / w;
            let first = (0..st.frames).find(|&f| centre(f) >= lo);
            let range = first.map_or(0..0, |a| {
                let b = (a..st.frames)
                    .find(|&f| centre(f) >= hi)
                    .unwrap_or(st.frames);
                a..b
            });
            if range.is_empty() && st.frames > 0 {
                let mid = f64::midpoint(lo, hi);
                let near = ((mid - st.nfft as f64 / 2.0) / st.hop as f64).round();
                let f = if near <= 0.0 { 0 } else { near as usize };
                let f = f.min(st.frames - 1);
                f..f + 1
            } else {
                range
            }
        })
        .collect()
}

/// For each data row (bottom up), the bins `[b0, b1)` it averages (at least one bin).
#[expect(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "bin indices are small and non-negative"
)]
fn row_bins(st: &Stft, rate: f64, f_top: f64) -> Vec<(usize, usize)> {
    let df = rate / st.nfft as f64;
    let h = f64::from(DATA_HEIGHT);
    let max_bin = st.n_bins.max(1) - 1;
    (0..DATA_HEIGHT)
        .map(|r| {
            let lo = f64::from(r) * f_top / h / df;
            let hi = f64::from(r + 1) * f_top / h / df;
            let b0 = (lo.ceil() as usize).min(max_bin);
            let b1 = (hi.ceil() as usize).min(max_bin + 1);
            if b1 > b0 {
                (b0, b1)
            } else {
                let b = (f64::midpoint(lo, hi).round() as usize).min(max_bin);
                (b, b + 1)
            }
        })
        .collect()
}

#[expect(clippy::cast_precision_loss, reason = "small counts")]
fn mean_db(st: &Stft, frames: &std::ops::Range<usize>, b0: usize, b1: usize) -> f64 {
    if frames.is_empty() {
        return f64::NEG_INFINITY;
    }
    let mut sum = 0.0;
    for f in frames.clone() {
        sum += st.power[f * st.n_bins + b0..f * st.n_bins + b1]
            .iter()
            .sum::<f64>();
    }
    to_db(sum / (frames.len() * (b1 - b0)) as f64)
}

fn put(img: &mut Image, x: u32, y: u32, rgb: [u8; 3]) {
    if x < img.width && y < img.height {
        let i = (y as usize * img.width as usize + x as usize) * 3;
        img.data[i..i + 3].copy_from_slice(&rgb);
    }
}

fn text(img: &mut Image, s: &str, x: u32, y: u32, scale: u32) {
    font::draw_text(s, x, y, scale, |px, py| put(img, px, py, [0, 0, 0]));
}

const BLACK: [u8; 3] = [0, 0, 0];

fn draw_frame(img: &mut Image) {
    for x in DATA_LEFT - 1..=DATA_RIGHT {
        put(img, x, DATA_TOP - 1, BLACK);
        put(img, x, DATA_BOTTOM, BLACK);
    }
    for y in DATA_TOP - 1..=DATA_BOTTOM {
        put(img, DATA_LEFT - 1, y, BLACK);
        put(img, DATA_RIGHT, y, BLACK);
    }
}

/// Ticks and `HH:MM` labels on whole UTC minutes, plus the axis title.
#[expect(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss,
    reason = "pixel positions are small and checked"
)]
fn draw_time_axis(img: &mut Image, info: &SpanInfo, frames: usize) {
    let rate = i64::from(info.sample_rate.max(1));
    let t0_ms = info.first_index.saturating_mul(1000) / rate;
    let d_ms = i64::try_from(frames).unwrap_or(0).saturating_mul(1000) / rate;
    if d_ms <= 0 {
        return;
    }
    let step = if d_ms > 20 * 60_000 {
        10 * 60_000
    } else {
        60_000
    };
    let mut m = t0_ms.div_euclid(step) * step;
    if m < t0_ms {
        m += step;
    }
    while m <= t0_ms + d_ms {
        let x = f64::from(DATA_LEFT) + (m - t0_ms) as f64 / d_ms as f64 * f64::from(DATA_WIDTH);
        let x = (x as u32).min(DATA_RIGHT);
        for y in DATA_BOTTOM + 1..DATA_BOTTOM + 8 {
            put(img, x, y, BLACK);
        }
        let label = UtcInstant::from_unix_millis(m)
            .to_datetime()
            .format("%H:%M")
            .to_string();
        let w = font::text_width(&label, 2);
        text(img, &label, x.saturating_sub(w / 2), DATA_BOTTOM + 12, 2);
        m += step;
    }
    let day = UtcInstant::from_unix_millis(t0_ms)
        .to_datetime()
        .format("TIME (MINUTES ON %Y-%m-%d, UTC)")
        .to_string();
    let w = font::text_width(&day, 2);
    text(
        img,
        &day,
        DATA_LEFT + (DATA_WIDTH - w.min(DATA_WIDTH)) / 2,
        DATA_BOTTOM + 40,
        2,
    );
}

/// Ticks every 1, 2, 5, 10 ... kHz so that 4–10 labels fit, plus the axis title.
#[expect(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "pixel positions are small"
)]
fn draw_freq_axis(img: &mut Image, f_top: f64) {
    let khz = f_top / 1000.0;
    let step = [0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0]
        .into_iter()
        .find(|s| khz / s <= 8.0)
        .unwrap_or(200.0);
    let mut k = 0.0;
    while k <= khz + 1e-9 {
        let y = f64::from(DATA_BOTTOM - 1) - k / khz * f64::from(DATA_HEIGHT - 1);
        let y = y.round().max(0.0) as u32;
        for x in DATA_LEFT - 8..DATA_LEFT - 1 {
            put(img, x, y, BLACK);
        }
        let label = if step < 1.0 {
            format!("{k:.1}")
        } else {
            format!("{k:.0}")
        };
        let w = font::text_width(&label, 2);
        text(img, &label, DATA_LEFT - 12 - w, y.saturating_sub(7), 2);
        k += step;
    }
    text(img, "KHZ", 20, DATA_TOP + DATA_HEIGHT / 2 - 7, 2);
}

#[expect(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "pixel positions are small"
)]
fn draw_colour_bar(img: &mut Image, opts: &RenderOptions) {
    let h = f64::from(BAR_BOTTOM - BAR_TOP - 1);
    for y in BAR_TOP..BAR_BOTTOM {
        let frac = f64::from(BAR_BOTTOM - 1 - y) / h;
        let rgb = palette::colour(opts.palette, frac);
        for x in BAR_LEFT..BAR_RIGHT {
            put(img, x, y, rgb);
        }
    }
    for x in BAR_LEFT - 1..=BAR_RIGHT {
        put(img, x, BAR_TOP - 1, BLACK);
        put(img, x, BAR_BOTTOM, BLACK);
    }
    for y in BAR_TOP - 1..=BAR_BOTTOM {
        put(img, BAR_LEFT - 1, y, BLACK);
        put(img, BAR_RIGHT, y, BLACK);
    }
    let span = opts.upper_db - opts.lower_db;
    if span <= 0.0 {
        return;
    }
    let step = if span > 60.0 { 10.0 } else { 5.0 };
    let mut db = (opts.lower_db / step).ceil() * step;
    while db <= opts.upper_db + 1e-9 {
        let y = f64::from(BAR_BOTTOM - 1) - (db - opts.lower_db) / span * h;
        let y = y.round().max(0.0) as u32;
        for x in BAR_RIGHT + 1..BAR_RIGHT + 5 {
            put(img, x, y, BLACK);
        }
        text(
            img,
            &format!("{db:.0}"),
            BAR_RIGHT + 8,
            y.saturating_sub(7),
            2,
        );
        db += step;
    }
    text(img, "PSD", BAR_LEFT - 6, BAR_TOP - 72, 2);
    text(img, "DB RE", BAR_LEFT - 18, BAR_TOP - 52, 2);
    text(img, "1UPA2/HZ", BAR_LEFT - 36, BAR_TOP - 32, 2);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> SpanInfo {
        SpanInfo {
            sample_rate: 8_000,
            bits_per_sample: 16,
            first_index: 8_000 * 1_700_000_000,
        }
    }

    #[test]
    fn empty_and_tiny_spans_still_give_a_framed_page() {
        for n in [0usize, 10, 900] {
            let img = render(&vec![0; n], &info(), &RenderOptions::default());
            assert_eq!(
                (img.width, img.height, img.data.len()),
                (1200, 900, 1200 * 900 * 3)
            );
            assert_eq!(img.get(106, 400), Some(&[0u8, 0, 0][..]));
            assert_eq!(img.get(5, 890), Some(&[255u8, 255, 255][..]));
        }
    }

    #[test]
    fn rows_rise_in_frequency_and_columns_in_time() {
        let pcm = vec![1; 8_000 * 30];
        let st = stft(&pcm, &info());
        let rows = row_bins(&st, 8_000.0, 3_200.0);
        assert_eq!(rows.len(), 744);
        assert!(
            rows.windows(2)
                .all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1)
        );
        assert_eq!(rows[0].0, 0);
        assert_eq!(rows[743].1, st.n_bins);
        let cols = column_frames(&st, pcm.len());
        assert_eq!(cols.len(), 933);
        assert!(cols.iter().all(|c| !c.is_empty()));
        assert!(cols.windows(2).all(|w| w[0].start <= w[1].start));
    }
}
