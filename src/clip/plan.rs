//! The one segment planner every cutter uses: which stretches of which source files, and which
//! gaps, make up a clip window, and which output files they go to.
//!
//! A cutter describes its sources on its own time axis ([`Axis`]: the device's absolute sample
//! grid for audio, Unix milliseconds for MAT columns and PNG pixel columns) as [`Extent`]s:
//! the stretch a source's data really covers (from what the cutter read: frame count and rate,
//! the MAT time vector, the PNG time axis), with the length of one unit of it (a sample, a
//! column's averaging period, a pixel column's milliseconds). [`plan`] then makes every
//! decision once, for all formats:
//! - Overlaps: where extents overlap, the earlier one wins and the later one starts where it
//!   ends; nothing is doubled.
//! - Gap tolerance: an uncovered stretch is a gap when it is longer than half a unit of the
//!   data beside it (the larger unit of the two sides), that is when it would round to at
//!   least one whole sample, column or pixel column. A shorter hole is rounding between files,
//!   not missing data, and is neither reported nor padded.
//! - Policy ([`GapPolicy`]): `fail` refuses any gap and names every one; `split` makes one part
//!   per continuous stretch of data, the parts named `name_partN.ext` ([`part_path`]) when there
//!   are several; `pad` makes one output from the window's start to its end, with the gaps as
//!   [`Step::Gap`] for the cutter to fill (silence, NaN columns, blank pixel columns).
//! - A window with no data at all is [`ClipError::Gaps`] under every policy: there is nothing to
//!   clip.
//!
//! Each [`Part`]'s span is what its file holds: from its first step's start to its last step's
//! end, data clamped to the window (a gap step starts or ends at the window's edge).

use super::segments::{clip_frames, sample_index, sample_time};
use super::{ClipError, ClipOutput, Clipped, Gap, GapPolicy};
use crate::time::UtcInstant;
use std::path::{Path, PathBuf};

/// A position on a cutter's time axis.
pub type Tick = i64;

/// The time axis a cutter plans on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    /// Unix milliseconds (MAT columns, PNG pixel columns).
    Millis,
    /// The device's absolute sample grid at this rate: tick `n` is `n / rate` seconds after the
    /// Unix epoch (audio; see `super::segments`).
    Samples(u32),
}

impl Axis {
    /// The instant of a tick (to the millisecond, rounded down).
    #[must_use]
    pub fn instant(self, tick: Tick) -> UtcInstant {
        match self {
            Self::Millis => UtcInstant::from_unix_millis(tick),
            Self::Samples(rate) => sample_time(tick, rate),
        }
    }

    /// The window `[start, end)` in ticks. On the sample grid its length is the exact number of
    /// frames of the window, whatever the files.
    #[must_use]
    pub fn window(self, start: UtcInstant, end: UtcInstant) -> (Tick, Tick) {
        match self {
            Self::Millis => (start.unix_millis(), end.unix_millis()),
            Self::Samples(rate) => {
                let a = sample_index(start, rate);
                let n = i64::try_from(clip_frames(start, end, rate)).unwrap_or(i64::MAX);
                (a, a.saturating_add(n))
            }
        }
    }
}

/// A stretch `[start, end)` that data of source `source` covers, in ticks. A source may have
/// several (a MAT file gives one per column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extent {
    /// Index of the source in the cutter's own list.
    pub source: usize,
    /// Where its data starts.
    pub start: Tick,
    /// Where its data ends (exclusive).
    pub end: Tick,
    /// The length of one unit of its data (a sample is 1 on the sample grid), for the gap
    /// tolerance.
    pub unit: Tick,
}

/// One stretch of an output, in time order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Data of source `source` over `[start, end)`.
    Data {
        /// Index of the source in the cutter's list.
        source: usize,
        /// Start tick.
        start: Tick,
        /// End tick (exclusive).
        end: Tick,
    },
    /// A gap to fill (only with [`GapPolicy::Pad`]).
    Gap {
        /// Start tick.
        start: Tick,
        /// End tick (exclusive).
        end: Tick,
    },
}

impl Step {
    /// Start tick.
    #[must_use]
    pub fn start(&self) -> Tick {
        match *self {
            Self::Data { start, .. } | Self::Gap { start, .. } => start,
        }
    }

    /// End tick (exclusive).
    #[must_use]
    pub fn end(&self) -> Tick {
        match *self {
            Self::Data { end, .. } | Self::Gap { end, .. } => end,
        }
    }

    /// Length in ticks.
    #[must_use]
    pub fn len(&self) -> u64 {
        (self.end() - self.start()).unsigned_abs()
    }

    /// Whether the step is empty (never, in a plan).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.end() <= self.start()
    }

    fn source(&self) -> Option<usize> {
        match *self {
            Self::Data { source, .. } => Some(source),
            Self::Gap { .. } => None,
        }
    }
}

/// One output file of a clip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// Where to write it.
    pub path: PathBuf,
    /// Its steps, in time order, each starting where the previous ends or (after a hole
    /// within the tolerance) a little later.
    pub steps: Vec<Step>,
}

impl Part {
    /// Start tick of what the part holds.
    #[must_use]
    pub fn start(&self) -> Tick {
        self.steps.first().map_or(0, Step::start)
    }

    /// End tick (exclusive) of what the part holds.
    #[must_use]
    pub fn end(&self) -> Tick {
        self.steps.last().map_or(0, Step::end)
    }

    /// The sources the part holds data from, in time order, each once.
    #[must_use]
    pub fn sources(&self) -> Vec<usize> {
        let mut out: Vec<usize> = Vec::new();
        for s in self.steps.iter().filter_map(Step::source) {
            if !out.contains(&s) {
                out.push(s);
            }
        }
        out
    }

    /// The source whose unit a gap step `k` is drawn at: the data just before it, else the data
    /// just after it.
    #[must_use]
    pub fn neighbour(&self, k: usize) -> Option<usize> {
        let before = self.steps.get(..k).unwrap_or_default();
        before
            .iter()
            .rev()
            .find_map(Step::source)
            .or_else(|| self.steps.iter().skip(k + 1).find_map(Step::source))
    }
}

/// The outputs of a clip and the gaps found in its window.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct SegmentPlan {
    /// The axis the ticks are on.
    pub axis: Axis,
    /// The output files: one, or one per continuous stretch with [`GapPolicy::Split`].
    pub parts: Vec<Part>,
    /// Every gap in the window, in time order.
    pub gaps: Vec<Gap>,
}

impl SegmentPlan {
    /// What the clip produced, once every part is written; `path_of` names a source.
    pub fn into_clipped(self, path_of: impl Fn(usize) -> PathBuf) -> Clipped {
        let axis = self.axis;
        let outputs = self
            .parts
            .into_iter()
            .map(|p| ClipOutput {
                start: axis.instant(p.start()),
                end: axis.instant(p.end()),
                sources: p.sources().into_iter().map(&path_of).collect(),
                path: p.path,
            })
            .collect();
        Clipped {
            outputs,
            gaps: self.gaps,
        }
    }
}

/// Refuses an empty or reversed window.
///
/// # Errors
/// [`ClipError::EmptyWindow`].
pub fn check_window(start: UtcInstant, end: UtcInstant) -> Result<(), ClipError> {
    if end <= start {
        return Err(ClipError::EmptyWindow { start, end });
    }
    Ok(())
}

/// Whether a hole of `len` ticks between data of unit `unit` is a gap.
fn is_gap(len: Tick, unit: Tick) -> bool {
    len > 0 && len.saturating_mul(2) > unit.max(1)
}

/// Plans the clip of `[start, end)` from `extents` into `out` under `policy`.
///
/// # Errors
/// [`ClipError::EmptyWindow`] for an empty window, [`ClipError::Gaps`] when no data falls in the window or a gap does under
/// [`GapPolicy::Fail`].
pub fn plan(
    axis: Axis,
    extents: &[Extent],
    start: UtcInstant,
    end: UtcInstant,
    out: &Path,
    policy: GapPolicy,
) -> Result<SegmentPlan, ClipError> {
    check_window(start, end)?;
    let (w0, w1) = axis.window(start, end);
    if w1 <= w0 {
        return Err(ClipError::EmptyWindow { start, end });
    }
    let mut order: Vec<&Extent> = extents
        .iter()
        .filter(|e| e.end > e.start && e.end > w0 && e.start < w1)
        .collect();
    order.sort_by_key(|e| (e.start, e.source));
    let mut steps: Vec<Step> = Vec::new();
    let mut cursor = w0;
    let mut unit_before: Option<Tick> = None;
    for e in order {
        if e.end <= cursor {
            continue; // Covered already: the earlier source wins.
        }
        let a = e.start.max(cursor);
        let unit = unit_before.map_or(e.unit, |u| u.max(e.unit));
        let gap = is_gap(a - cursor, unit);
        if gap {
            steps.push(Step::Gap {
                start: cursor,
                end: a,
            });
        }
        let b = e.end.min(w1);
        match steps.last_mut() {
            Some(Step::Data { source, end, .. }) if *source == e.source && !gap => *end = b,
            _ => steps.push(Step::Data {
                source: e.source,
                start: a,
                end: b,
            }),
        }
        cursor = b;
        unit_before = Some(e.unit);
        if cursor >= w1 {
            break;
        }
    }
    let Some(last_unit) = unit_before else {
        return Err(ClipError::Gaps {
            gaps: vec![Gap { start, end }],
        });
    };
    if is_gap(w1 - cursor, last_unit) {
        steps.push(Step::Gap {
            start: cursor,
            end: w1,
        });
    }
    let gaps: Vec<Gap> = steps
        .iter()
        .filter_map(|s| match *s {
            Step::Gap { start, end } => Some(Gap {
                start: axis.instant(start),
                end: axis.instant(end),
            }),
            Step::Data { .. } => None,
        })
        .collect();
    let runs: Vec<Vec<Step>> = match policy {
        GapPolicy::Fail if !gaps.is_empty() => return Err(ClipError::Gaps { gaps }),
        GapPolicy::Split => steps
            .split(|s| matches!(s, Step::Gap { .. }))
            .filter(|r| !r.is_empty())
            .map(<[Step]>::to_vec)
            .collect(),
        GapPolicy::Pad | GapPolicy::Fail => vec![steps],
    };
    let split = runs.len() > 1;
    let parts = runs
        .into_iter()
        .enumerate()
        .map(|(n, steps)| Part {
            path: if split {
                part_path(out, n + 1)
            } else {
                out.to_owned()
            },
            steps,
        })
        .collect();
    Ok(SegmentPlan { axis, parts, gaps })
}

/// `name.ext` → `name_partN.ext`: the file of part `n` (from 1) of a split clip.
#[must_use]
pub fn part_path(out: &Path, n: usize) -> PathBuf {
    let stem = out
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match out.extension() {
        Some(ext) => format!("{stem}_part{n}.{}", ext.to_string_lossy()),
        None => format!("{stem}_part{n}"),
    };
    out.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> UtcInstant {
        UtcInstant::parse(s).unwrap()
    }

    const RATE: u32 = 64_000;

    fn audio(start: &str, secs: i64) -> Extent {
        let s0 = sample_index(t(start), RATE);
        Extent {
            source: 0,
            start: s0,
            end: s0 + secs * i64::from(RATE),
            unit: 1,
        }
    }

    fn plan_of(e: &[Extent], w: (&str, &str), policy: GapPolicy) -> SegmentPlan {
        plan(
            Axis::Samples(RATE),
            e,
            t(w.0),
            t(w.1),
            Path::new("/d/c.flac"),
            policy,
        )
        .unwrap()
    }

    #[test]
    fn joins_two_drifting_files_exactly() {
        // Files start 3 s past the grid, as the simulator's main device does; given out of order.
        let a = Extent {
            source: 1,
            ..audio("2024-04-01T12:30:03Z", 300)
        };
        let b = audio("2024-04-01T12:35:03Z", 300);
        let p = plan_of(
            &[b, a],
            ("2024-04-01T12:34:35Z", "2024-04-01T12:35:05Z"),
            GapPolicy::Fail,
        );
        let w = Axis::Samples(RATE).window(t("2024-04-01T12:34:35Z"), t("2024-04-01T12:35:05Z"));
        assert_eq!(p.parts.len(), 1);
        assert_eq!(
            p.parts[0].steps,
            [
                Step::Data {
                    source: 1,
                    start: w.0,
                    end: b.start
                },
                Step::Data {
                    source: 0,
                    start: b.start,
                    end: w.1
                },
            ]
        );
        assert_eq!(w.1 - w.0, 30 * 64_000);
        assert_eq!(p.parts[0].path, Path::new("/d/c.flac"));
    }

    #[test]
    fn gaps_at_the_edges_and_inside_follow_the_policy() {
        let a = audio("2024-04-01T12:00:00Z", 100); // a short file
        let b = Extent {
            source: 1,
            ..audio("2024-04-01T12:05:00Z", 300)
        };
        let w = ("2024-04-01T11:59:59Z", "2024-04-01T12:05:01Z");
        let pad = plan_of(&[a, b], w, GapPolicy::Pad);
        let kinds: Vec<_> = pad.parts[0]
            .steps
            .iter()
            .map(|x| matches!(x, Step::Gap { .. }))
            .collect();
        assert_eq!(kinds, [true, false, true, false]);
        assert_eq!(pad.parts[0].steps[0].len(), 64_000);
        assert_eq!(pad.parts[0].steps[2].len(), 200 * 64_000);
        assert_eq!(pad.parts[0].neighbour(0), Some(0));
        assert_eq!(pad.parts[0].neighbour(2), Some(0));
        assert_eq!(
            pad.gaps,
            [
                Gap {
                    start: t(w.0),
                    end: t("2024-04-01T12:00:00Z")
                },
                Gap {
                    start: t("2024-04-01T12:01:40Z"),
                    end: t("2024-04-01T12:05:00Z")
                }
            ]
        );
        let split = plan_of(&[a, b], w, GapPolicy::Split);
        let names: Vec<_> = split.parts.iter().map(|p| p.path.clone()).collect();
        assert_eq!(
            names,
            [
                PathBuf::from("/d/c_part1.flac"),
                PathBuf::from("/d/c_part2.flac")
            ]
        );
        assert_eq!(split.parts[0].sources(), [0]);
        assert_eq!(split.parts[1].sources(), [1]);
        let err = plan(
            Axis::Samples(RATE),
            &[a, b],
            t(w.0),
            t(w.1),
            Path::new("c"),
            GapPolicy::Fail,
        )
        .unwrap_err();
        assert!(
            matches!(&err, ClipError::Gaps { gaps } if gaps.len() == 2),
            "{err}"
        );
    }

    #[test]
    fn holes_shorter_than_half_a_unit_are_not_gaps() {
        // One-second columns on the millisecond axis: 400 ms between files is rounding,
        // 600 ms is a missing column.
        let col = |source, start, end| Extent {
            source,
            start,
            end,
            unit: 1000,
        };
        let p = plan(
            Axis::Millis,
            &[col(0, 0, 5000), col(1, 5400, 9000), col(2, 9600, 12_000)],
            UtcInstant::from_unix_millis(0),
            UtcInstant::from_unix_millis(12_000),
            Path::new("m.mat"),
            GapPolicy::Pad,
        )
        .unwrap();
        assert_eq!(
            p.gaps,
            [Gap {
                start: UtcInstant::from_unix_millis(9000),
                end: UtcInstant::from_unix_millis(9600)
            }]
        );
        assert_eq!(p.parts[0].steps.len(), 4);
        // Overlapping sources: the earlier wins, nothing is doubled; one source's adjacent
        // extents merge into one step.
        let p = plan(
            Axis::Millis,
            &[col(0, 0, 1000), col(0, 1000, 2000), col(1, 1500, 3000)],
            UtcInstant::from_unix_millis(0),
            UtcInstant::from_unix_millis(3000),
            Path::new("m.mat"),
            GapPolicy::Fail,
        )
        .unwrap();
        assert_eq!(
            p.parts[0].steps,
            [
                Step::Data {
                    source: 0,
                    start: 0,
                    end: 2000
                },
                Step::Data {
                    source: 1,
                    start: 2000,
                    end: 3000
                }
            ]
        );
    }

    #[test]
    fn no_data_or_no_window_is_an_error() {
        let a = audio("2024-04-01T12:00:00Z", 10);
        for policy in [GapPolicy::Pad, GapPolicy::Split, GapPolicy::Fail] {
            let err = plan(
                Axis::Samples(RATE),
                &[a],
                t("2024-04-01T13:00:00Z"),
                t("2024-04-01T13:00:01Z"),
                Path::new("c"),
                policy,
            )
            .unwrap_err();
            assert!(matches!(err, ClipError::Gaps { .. }), "{err}");
        }
        let err = plan(
            Axis::Millis,
            &[a],
            t("2024-04-01T12:00:01Z"),
            t("2024-04-01T12:00:01Z"),
            Path::new("c"),
            GapPolicy::Pad,
        )
        .unwrap_err();
        assert!(matches!(err, ClipError::EmptyWindow { .. }), "{err}");
        assert_eq!(
            part_path(Path::new("/x/clip"), 2),
            PathBuf::from("/x/clip_part2")
        );
    }
}
