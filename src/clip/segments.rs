//! Which parts of which source files make up a clip, to the sample.
//!
//! Everything is computed on the absolute sample grid of the device: sample `n` is at
//! `n / rate` seconds after the Unix epoch, and a file starting at `t` (from its ONC name,
//! millisecond precision) holds samples `[round(t·rate), round(t·rate) + frames)`. A clip
//! `[start, end)` is samples `[round(start·rate), round(start·rate) + round((end−start)·rate))`,
//! so its length is exact whatever the files. The parts of the clip no file covers are gaps
//! (an archive gap, or a file shorter than 5 minutes); where files overlap by a sample or two,
//! the earlier file wins.

use crate::time::UtcInstant;

/// A source file on the device's sample grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Source {
    /// Start time (from the file's name).
    pub start: UtcInstant,
    /// Number of frames in the file.
    pub frames: u64,
}

/// One part of a clip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece {
    /// Frames `[first, first + frames)` of source `source`.
    Source {
        /// Index into the sources slice.
        source: usize,
        /// First frame in that file.
        first: u64,
        /// Number of frames.
        frames: u64,
    },
    /// Frames no source covers.
    Gap {
        /// Number of frames.
        frames: u64,
        /// Absolute sample index where the gap starts.
        at: i64,
    },
}

impl Piece {
    /// Frames in this piece.
    #[must_use]
    pub fn frames(&self) -> u64 {
        match self {
            Self::Source { frames, .. } | Self::Gap { frames, .. } => *frames,
        }
    }
}

/// The absolute sample index of an instant at `rate` Hz (rounded to the nearest sample).
#[must_use]
pub fn sample_index(t: UtcInstant, rate: u32) -> i64 {
    let num = i128::from(t.unix_millis()) * i128::from(rate);
    let idx = (num + 500).div_euclid(1000);
    i64::try_from(idx).unwrap_or(if idx < 0 { i64::MIN } else { i64::MAX })
}

/// The instant of an absolute sample index (to the millisecond, rounded down).
#[must_use]
pub fn sample_time(index: i64, rate: u32) -> UtcInstant {
    let ms = (i128::from(index) * 1000).div_euclid(i128::from(rate.max(1)));
    UtcInstant::from_unix_millis(i64::try_from(ms).unwrap_or(i64::MAX))
}

/// Number of frames in `[start, end)` at `rate`.
#[must_use]
pub fn clip_frames(start: UtcInstant, end: UtcInstant, rate: u32) -> u64 {
    let ms = i128::from(end.millis_since(start).max(0));
    let n = (ms * i128::from(rate) + 500) / 1000;
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// Splits the clip `[start, end)` into pieces of `sources` (any order) and gaps, in time order.
#[must_use]
pub fn pieces(sources: &[Source], start: UtcInstant, end: UtcInstant, rate: u32) -> Vec<Piece> {
    let a = sample_index(start, rate);
    let total = i64::try_from(clip_frames(start, end, rate)).unwrap_or(i64::MAX);
    let b = a.saturating_add(total);
    let mut order: Vec<usize> = (0..sources.len()).collect();
    order.sort_by_key(|&i| sources[i].start);
    let mut out = Vec::new();
    let mut cursor = a;
    for i in order {
        if cursor >= b {
            break;
        }
        let s0 = sample_index(sources[i].start, rate);
        let s1 = s0.saturating_add(i64::try_from(sources[i].frames).unwrap_or(i64::MAX));
        if s1 <= cursor || s0 >= b {
            continue;
        }
        if s0 > cursor {
            out.push(Piece::Gap {
                frames: (s0 - cursor).unsigned_abs(),
                at: cursor,
            });
            cursor = s0;
        }
        let stop = s1.min(b);
        out.push(Piece::Source {
            source: i,
            first: (cursor - s0).unsigned_abs(),
            frames: (stop - cursor).unsigned_abs(),
        });
        cursor = stop;
    }
    if cursor < b {
        out.push(Piece::Gap {
            frames: (b - cursor).unsigned_abs(),
            at: cursor,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> UtcInstant {
        UtcInstant::parse(s).unwrap()
    }

    const RATE: u32 = 64_000;

    #[test]
    fn joins_two_drifting_files_exactly() {
        // Files start 3 s past the grid, as the simulator's main device does.
        let files = [
            Source {
                start: t("2024-04-01T12:35:03Z"),
                frames: 300 * 64_000,
            },
            Source {
                start: t("2024-04-01T12:30:03Z"),
                frames: 300 * 64_000,
            },
        ];
        let p = pieces(
            &files,
            t("2024-04-01T12:34:35Z"),
            t("2024-04-01T12:35:05Z"),
            RATE,
        );
        assert_eq!(
            p,
            [
                Piece::Source {
                    source: 1,
                    first: (4 * 60 + 32) * 64_000,
                    frames: 28 * 64_000
                },
                Piece::Source {
                    source: 0,
                    first: 0,
                    frames: 2 * 64_000
                },
            ]
        );
        assert_eq!(p.iter().map(Piece::frames).sum::<u64>(), 30 * 64_000);
    }

    #[test]
    fn reports_gaps_at_the_edges_and_inside() {
        let files = [
            Source {
                start: t("2024-04-01T12:00:00Z"),
                frames: 100 * 64_000,
            }, // short file
            Source {
                start: t("2024-04-01T12:05:00Z"),
                frames: 300 * 64_000,
            },
        ];
        let p = pieces(
            &files,
            t("2024-04-01T11:59:59Z"),
            t("2024-04-01T12:05:01Z"),
            RATE,
        );
        let kinds: Vec<_> = p.iter().map(|x| matches!(x, Piece::Gap { .. })).collect();
        assert_eq!(kinds, [true, false, true, false]);
        assert_eq!(p[0].frames(), 64_000);
        assert_eq!(p[2].frames(), 200 * 64_000);
        assert_eq!(p.iter().map(Piece::frames).sum::<u64>(), 302 * 64_000);
        assert_eq!(
            pieces(
                &[],
                t("2024-04-01T12:00:00Z"),
                t("2024-04-01T12:00:01Z"),
                RATE
            )
            .len(),
            1
        );
    }

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
        // Overlapping files: the earlier wins, nothing is doubled.
        let files = [
            Source {
                start: t("2024-04-01T12:00:00Z"),
                frames: 1_001,
            },
            Source {
                start: t("2024-04-01T12:00:01Z"),
                frames: 1_000,
            },
        ];
        let p = pieces(
            &files,
            t("2024-04-01T12:00:00Z"),
            t("2024-04-01T12:00:02Z"),
            1000,
        );
        assert_eq!(p.iter().map(Piece::frames).sum::<u64>(), 2000);
        assert_eq!(
            p[1],
            Piece::Source {
                source: 1,
                first: 1,
                frames: 999
            }
        );
    }
}
