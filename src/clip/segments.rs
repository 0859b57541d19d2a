//! The device's absolute sample grid, on which audio clips are planned ([`super::plan::Axis`]).
//!
//! Sample `n` is at `n / rate` seconds after the Unix epoch, and a file starting at `t` (from
//! its ONC name, millisecond precision) holds samples `[round(t·rate), round(t·rate) + frames)`.
//! A clip `[start, end)` is samples `[round(start·rate), round(start·rate) +
//! round((end−start)·rate))`, so its length is exact whatever the files.

use crate::time::UtcInstant;

/// The absolute sample index of an instant at `rate` Hz (rounded to the nearest sample).
#[must_use]
pub(crate) fn sample_index(t: UtcInstant, rate: u32) -> i64 {
    let num = i128::from(t.unix_millis()) * i128::from(rate);
    let idx = (num + 500).div_euclid(1000);
    i64::try_from(idx).unwrap_or(if idx < 0 { i64::MIN } else { i64::MAX })
}

/// The instant of an absolute sample index (to the millisecond, rounded down).
#[must_use]
pub(crate) fn sample_time(index: i64, rate: u32) -> UtcInstant {
    let ms = (i128::from(index) * 1000).div_euclid(i128::from(rate.max(1)));
    UtcInstant::from_unix_millis(i64::try_from(ms).unwrap_or(i64::MAX))
}

/// Number of frames in `[start, end)` at `rate`.
#[must_use]
pub(crate) fn clip_frames(start: UtcInstant, end: UtcInstant, rate: u32) -> u64 {
    let ms = i128::from(end.millis_since(start).max(0));
    let n = (ms * i128::from(rate) + 500) / 1000;
    u64::try_from(n).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> UtcInstant {
        UtcInstant::parse(s).unwrap()
    }

    const RATE: u32 = 64_000;

    #[test]
    fn sample_arithmetic_is_exact() {
        assert_eq!(sample_index(UtcInstant::from_unix_millis(1), 64_000), 64);
        assert_eq!(sample_index(UtcInstant::from_unix_millis(1), 44_100), 44);
        assert_eq!(sample_time(64, 64_000), UtcInstant::from_unix_millis(1));
        assert_eq!(
            clip_frames(t("2024-04-01T12:00:00Z"), t("2024-04-01T12:00:30Z"), RATE),
            1_920_000
        );
        assert_eq!(
            clip_frames(
                t("2024-04-01T12:00:00Z"),
                t("2024-04-01T12:00:00.0005Z"),
                1000
            ),
            0
        );
    }
}
