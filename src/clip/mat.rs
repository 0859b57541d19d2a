//! MAT spectrogram clips: keep the columns whose time bin overlaps the window, join them across
//! source files, and write a MAT v5 file with ONC's structure.
//!
//! Each source has `SpectData` (`PSD` frequency × time in dB, `frequency` in Hz, `time` as
//! MATLAB datenums of column centres, `processingComment`) and `Meta`. A column's bin is
//! `[centre − step/2, centre + step/2)`, `step` being the file's own column spacing, except a
//! trailing partial column, which runs from the previous column's end to as far past its
//! centre (see `columns`); so the clip is exact to the column, using the times in the files,
//! never an assumed grid, and an output's span ends where its last column's data ends. Sources
//! must share the frequency axis. The output keeps every `SpectData` field of the first source
//! with `PSD` and `time` cut; its `Meta` is the first source's with `dateFrom`/`dateTo` set to
//! the output's own span (ONC's `yyyy-MM-ddTHH:mm:ss.SSSZ`, as ONC writes them for a file),
//! plus `clipStart`, `clipEnd` (the same span) and `sourceFiles`.

use super::plan::{self, Axis, Extent, Step};
use super::{ClipError, Clipped, GapPolicy};
use crate::formats::{self, MatValue};
use crate::time::UtcInstant;
use std::path::{Path, PathBuf};

/// MATLAB's datenum of the Unix epoch.
pub const DATENUM_UNIX_EPOCH: f64 = 719_529.0;

/// Unix milliseconds of a MATLAB datenum.
#[must_use]
#[expect(
    clippy::cast_possible_truncation,
    reason = "datenums of real data are far inside i64 milliseconds"
)]
pub fn datenum_to_instant(d: f64) -> UtcInstant {
    UtcInstant::from_unix_millis(((d - DATENUM_UNIX_EPOCH) * 86_400_000.0).round() as i64)
}

/// The MATLAB datenum of an instant.
#[must_use]
pub fn instant_to_datenum(t: UtcInstant) -> f64 {
    t.unix_seconds_f64() / 86_400.0 + DATENUM_UNIX_EPOCH
}

/// A decoded ONC spectrogram file.
#[derive(Debug, Clone)]
struct Spect {
    path: PathBuf,
    fields: Vec<(String, MatValue)>,
    meta: Option<MatValue>,
    freqs: Vec<f64>,
    times: Vec<f64>,
    psd: Vec<f64>,
}

fn bad(path: &Path, detail: impl Into<String>) -> ClipError {
    ClipError::Mismatch {
        path: path.to_owned(),
        detail: detail.into(),
    }
}

fn numbers(v: Option<&MatValue>) -> Option<(Vec<usize>, Vec<f64>)> {
    match v? {
        MatValue::Double { dims, data } => Some((dims.clone(), data.clone())),
        MatValue::Single { dims, data } => {
            Some((dims.clone(), data.iter().map(|&x| f64::from(x)).collect()))
        }
        _ => None,
    }
}

fn load(path: &Path) -> Result<Spect, ClipError> {
    let vars = formats::read_mat(path).map_err(|e| ClipError::source(path, e))?;
    let spect = formats::find_var(&vars, "SpectData")
        .ok_or_else(|| bad(path, "no `SpectData` variable"))?;
    let MatValue::Struct(fields) = spect else {
        return Err(bad(path, "`SpectData` is not a struct"));
    };
    let (_, freqs) = numbers(spect.field("frequency"))
        .ok_or_else(|| bad(path, "no numeric `SpectData.frequency`"))?;
    let (_, times) =
        numbers(spect.field("time")).ok_or_else(|| bad(path, "no numeric `SpectData.time`"))?;
    let (dims, psd) =
        numbers(spect.field("PSD")).ok_or_else(|| bad(path, "no numeric `SpectData.PSD`"))?;
    if dims.len() != 2 || dims[0] != freqs.len() || dims[1] != times.len() {
        return Err(bad(
            path,
            format!(
                "`PSD` is {dims:?}, expected {} frequencies × {} times",
                freqs.len(),
                times.len()
            ),
        ));
    }
    Ok(Spect {
        path: path.to_owned(),
        fields: fields.clone(),
        meta: formats::find_var(&vars, "Meta").cloned(),
        freqs,
        times,
        psd,
    })
}

/// The column spacing of a file in milliseconds (median of differences; 5 minutes for a
/// single column).
fn step_millis(centres: &[i64]) -> i64 {
    let mut d: Vec<i64> = centres
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|x| *x > 0)
        .collect();
    if d.is_empty() {
        return 300_000;
    }
    d.sort_unstable();
    d[d.len() / 2]
}

/// A column of a source file: the span `[lo, hi)` it stands for, in Unix ms.
#[derive(Debug, Clone, Copy)]
struct Col {
    lo: i64,
    hi: i64,
    /// The file's column spacing.
    step: i64,
    /// Index of the source file.
    source: usize,
    /// Index of the column in it.
    index: usize,
}

/// The columns of one file. A column stands for `[centre − step/2, centre + step/2)`, except
/// that it never starts before the previous column ends: a trailing partial column (ONC keeps
/// the remainder of a file shorter than a whole averaging period) is centred on its own data,
/// so it runs from the previous column's end to as far past its centre.
fn columns(centres: &[i64], source: usize) -> Vec<Col> {
    let step = step_millis(centres);
    let mut out: Vec<Col> = Vec::with_capacity(centres.len());
    for (index, &centre) in centres.iter().enumerate() {
        let lo = match out.last() {
            Some(p) if p.hi > centre - step / 2 && p.hi < centre => p.hi,
            _ => centre - step / 2,
        };
        out.push(Col {
            lo,
            hi: 2 * centre - lo,
            step,
            source,
            index,
        });
    }
    out
}

/// Cuts `[start, end)` out of the MAT spectrogram `sources` into `out`.
///
/// # Errors
/// [`ClipError`]: unreadable or non-ONC sources, different frequency axes, no column in the
/// window, gaps under [`GapPolicy::Fail`], or a write failure.
#[expect(
    clippy::too_many_lines,
    reason = "one cut: read, plan, slice each variable, write; splitting scatters the variable loop"
)]
pub fn clip_mat(
    sources: &[PathBuf],
    start: UtcInstant,
    end: UtcInstant,
    out: &Path,
    gap: GapPolicy,
) -> Result<Clipped, ClipError> {
    plan::check_window(start, end)?;
    let mut spects = sources
        .iter()
        .map(|p| load(p))
        .collect::<Result<Vec<_>, _>>()?;
    spects.sort_by(|a, b| {
        a.times
            .first()
            .unwrap_or(&0.0)
            .total_cmp(b.times.first().unwrap_or(&0.0))
    });
    let Some(first) = spects.first() else {
        return Err(ClipError::NoSources);
    };
    let nf = first.freqs.len();
    for s in &spects[1..] {
        let same = s.freqs.len() == nf
            && s.freqs
                .iter()
                .zip(&first.freqs)
                .all(|(a, b)| (a - b).abs() <= 1e-6 * b.abs().max(1.0));
        if !same {
            return Err(bad(
                &s.path,
                "its frequency axis differs from the first source's",
            ));
        }
    }
    // Work in integer milliseconds: datenums are too coarse to compare bin edges exactly.
    let cols: Vec<Vec<Col>> = spects
        .iter()
        .enumerate()
        .map(|(si, s)| {
            let centres: Vec<i64> = s
                .times
                .iter()
                .map(|&d| datenum_to_instant(d).unix_millis())
                .collect();
            columns(&centres, si)
        })
        .collect();
    // Every column is an extent, so a hole inside a file is found like one between files.
    let extents: Vec<Extent> = cols
        .iter()
        .flatten()
        .map(|c| Extent {
            source: c.source,
            start: c.lo,
            end: c.hi,
            unit: c.step,
        })
        .collect();
    let plan = plan::plan(Axis::Millis, &extents, start, end, out, gap)?;
    let ms = UtcInstant::from_unix_millis;
    for part in &plan.parts {
        let mut psd = Vec::new();
        let mut times = Vec::new();
        for (k, step) in part.steps.iter().enumerate() {
            match *step {
                Step::Data {
                    source,
                    start: a,
                    end: b,
                } => {
                    // The columns whose bin overlaps the step.
                    for col in cols[source].iter().filter(|c| c.hi > a && c.lo < b) {
                        times.push(spects[source].times[col.index]);
                        psd.extend_from_slice(
                            &spects[source].psd[col.index * nf..(col.index + 1) * nf],
                        );
                    }
                }
                Step::Gap { start: a, end: b } => {
                    // NaN columns at the neighbouring data's column spacing.
                    let step = part
                        .neighbour(k)
                        .and_then(|si| cols[si].first())
                        .map_or(b - a, |c| c.step.max(1));
                    let n = (b - a + step / 2) / step;
                    for j in 0..n {
                        times.push(instant_to_datenum(ms(a + step / 2 + j * step)));
                        psd.extend(std::iter::repeat_n(f64::NAN, nf));
                    }
                }
            }
        }
        let ncols = times.len();
        let (run_start, run_end) = (
            plan.axis.instant(part.start()),
            plan.axis.instant(part.end()),
        );
        let mut fields = first.fields.clone();
        for (name, value) in &mut fields {
            match name.as_str() {
                "PSD" => *value = MatValue::matrix(nf, ncols, std::mem::take(&mut psd)),
                "time" => *value = MatValue::row(std::mem::take(&mut times)),
                "processingComment" => {
                    if let MatValue::Char(s) = value {
                        use std::fmt::Write as _;
                        let _ = write!(s, " Clipped by hydrofetch to {run_start} .. {run_end}.");
                    }
                }
                _ => {}
            }
        }
        let names: Vec<String> = part
            .sources()
            .into_iter()
            .filter_map(|i| {
                spects[i]
                    .path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
            })
            .collect();
        let mut meta = match &first.meta {
            Some(MatValue::Struct(f)) => f.clone(),
            _ => Vec::new(),
        };
        // The file's own span, in ONC's format, where the source's span was.
        for (key, t) in [("dateFrom", run_start), ("dateTo", run_end)] {
            let value = MatValue::Char(t.to_onc_string());
            match meta.iter_mut().find(|(k, _)| k == key) {
                Some((_, v)) => *v = value,
                None => meta.push((key.into(), value)),
            }
        }
        meta.retain(|(k, _)| !matches!(k.as_str(), "clipStart" | "clipEnd" | "sourceFiles"));
        meta.push((
            "clipStart".into(),
            MatValue::Char(run_start.to_onc_string()),
        ));
        meta.push(("clipEnd".into(), MatValue::Char(run_end.to_onc_string())));
        meta.push(("sourceFiles".into(), MatValue::Char(names.join(";"))));
        let vars = vec![
            ("SpectData".to_owned(), MatValue::Struct(fields)),
            ("Meta".to_owned(), MatValue::Struct(meta)),
        ];
        formats::write_mat(&part.path, &vars, true).map_err(|e| ClipError::Write {
            path: part.path.clone(),
            source: e,
        })?;
    }
    Ok(plan.into_clipped(|i| spects[i].path.clone()))
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::pedantic,
        clippy::print_stderr,
        reason = "test code: casts and formatting on small fixed inputs"
    )]
    use super::super::Gap;
    use super::*;

    fn t(s: &str) -> UtcInstant {
        UtcInstant::parse(s).unwrap()
    }

    /// An ONC-like file: `cols` one-second columns from `start`, PSD value = column's
    /// absolute second × 10 + frequency index.
    fn write_spect(dir: &Path, start: UtcInstant, cols: usize, nf: usize) -> PathBuf {
        let freqs: Vec<f64> = (0..nf).map(|i| i as f64 * 10.0).collect();
        let secs: Vec<i64> = (0..cols as i64)
            .map(|k| start.unix_millis() / 1000 + k)
            .collect();
        let times: Vec<f64> = secs
            .iter()
            .map(|&s| instant_to_datenum(UtcInstant::from_unix_millis(s * 1000 + 500)))
            .collect();
        let psd: Vec<f64> = secs
            .iter()
            .flat_map(|&s| (0..nf).map(move |f| (s % 100_000) as f64 * 10.0 + f as f64))
            .collect();
        let spect = MatValue::Struct(vec![
            ("PSD".into(), MatValue::matrix(nf, cols, psd)),
            (
                "frequency".into(),
                MatValue::Double {
                    dims: vec![nf, 1],
                    data: freqs,
                },
            ),
            ("time".into(), MatValue::row(times)),
            (
                "processingComment".into(),
                MatValue::Char("Hann window, 50% overlap.".into()),
            ),
        ]);
        let meta = MatValue::Struct(vec![("deviceCode".into(), MatValue::Char("DEV".into()))]);
        let path = dir.join(format!("DEV_{}-spect.mat", start.to_file_stamp()));
        formats::write_mat(
            &path,
            &[("SpectData".into(), spect), ("Meta".into(), meta)],
            false,
        )
        .unwrap();
        path
    }

    fn read_clip(path: &Path) -> (Vec<usize>, Vec<f64>, Vec<f64>, MatValue) {
        let vars = formats::read_mat(path).unwrap();
        let s = formats::find_var(&vars, "SpectData").unwrap();
        let (dims, psd) = numbers(s.field("PSD")).unwrap();
        let (_, times) = numbers(s.field("time")).unwrap();
        (
            dims,
            psd,
            times,
            formats::find_var(&vars, "Meta").unwrap().clone(),
        )
    }

    #[test]
    fn joins_columns_across_files_by_their_own_times() {
        let dir = tempfile::tempdir().unwrap();
        let a = write_spect(dir.path(), t("2024-04-01T12:30:03Z"), 300, 4);
        let b = write_spect(dir.path(), t("2024-04-01T12:35:03Z"), 300, 4);
        let out = dir.path().join("clip.mat");
        let (s, e) = (t("2024-04-01T12:34:35Z"), t("2024-04-01T12:35:05Z"));
        let clip = clip_mat(&[b.clone(), a.clone()], s, e, &out, GapPolicy::Fail).unwrap();
        assert!(clip.gaps.is_empty());
        assert_eq!(clip.outputs[0].sources, [a, b]);
        assert_eq!((clip.outputs[0].start, clip.outputs[0].end), (s, e));
        let (dims, psd, times, meta) = read_clip(&out);
        assert_eq!(dims, [4, 30]);
        // First column covers 12:34:35–12:34:36, last 12:35:04–12:35:05.
        assert_eq!(datenum_to_instant(times[0]), t("2024-04-01T12:34:35.500Z"));
        assert_eq!(datenum_to_instant(times[29]), t("2024-04-01T12:35:04.500Z"));
        let first_sec = s.unix_millis() / 1000 % 100_000;
        for (k, col) in psd.chunks(4).enumerate() {
            assert_eq!(
                col[1],
                ((first_sec + k as i64) as f64) * 10.0 + 1.0,
                "column {k}"
            );
        }
        assert_eq!(
            meta.field("clipStart"),
            Some(&MatValue::Char("2024-04-01T12:34:35.000Z".into()))
        );
        assert_eq!(
            meta.field("dateFrom"),
            Some(&MatValue::Char("2024-04-01T12:34:35.000Z".into()))
        );
        assert_eq!(
            meta.field("dateTo"),
            Some(&MatValue::Char("2024-04-01T12:35:05.000Z".into()))
        );
        let MatValue::Char(src) = meta.field("sourceFiles").unwrap() else {
            panic!()
        };
        assert_eq!(
            src,
            "DEV_20240401T123003.000Z-spect.mat;DEV_20240401T123503.000Z-spect.mat"
        );
    }

    #[test]
    fn gaps_between_files_follow_the_policy() {
        let dir = tempfile::tempdir().unwrap();
        let a = write_spect(dir.path(), t("2024-04-01T12:00:00Z"), 100, 2);
        let b = write_spect(dir.path(), t("2024-04-01T12:05:00Z"), 300, 2);
        let (s, e) = (t("2024-04-01T12:01:30Z"), t("2024-04-01T12:05:10Z"));
        let srcs = [a, b];
        let err = clip_mat(&srcs, s, e, &dir.path().join("f.mat"), GapPolicy::Fail).unwrap_err();
        assert!(
            matches!(&err, ClipError::Gaps { gaps } if gaps == &[Gap { start: t("2024-04-01T12:01:40Z"), end: t("2024-04-01T12:05:00Z") }]),
            "{err}"
        );
        let pad = clip_mat(&srcs, s, e, &dir.path().join("p.mat"), GapPolicy::Pad).unwrap();
        let (dims, psd, ..) = read_clip(&pad.outputs[0].path);
        assert_eq!(dims, [2, 220]);
        assert!(psd[2 * 10..2 * 210].iter().all(|x| x.is_nan()));
        let split = clip_mat(&srcs, s, e, &dir.path().join("s.mat"), GapPolicy::Split).unwrap();
        let cols: Vec<usize> = split
            .outputs
            .iter()
            .map(|o| read_clip(&o.path).0[1])
            .collect();
        assert_eq!(cols, [10, 10]);
        let spans: Vec<_> = split.outputs.iter().map(|o| (o.start, o.end)).collect();
        assert_eq!(
            spans,
            [
                (s, t("2024-04-01T12:01:40Z")),
                (t("2024-04-01T12:05:00Z"), e)
            ]
        );
        assert_eq!(split.outputs[0].sources, [srcs[0].clone()]);
        assert_eq!(split.outputs[1].sources, [srcs[1].clone()]);
    }

    #[test]
    fn a_trailing_partial_column_ends_with_its_data() {
        // One-minute columns of a 157 s file: two whole minutes and 37 s.
        let cols = columns(&[30_000, 90_000, 138_500], 0);
        let spans: Vec<(i64, i64)> = cols.iter().map(|c| (c.lo, c.hi)).collect();
        assert_eq!(spans, [(0, 60_000), (60_000, 120_000), (120_000, 157_000)]);
        // Regular columns keep their step, a millisecond of rounding or not.
        let cols = columns(&[500, 1_500, 2_501, 3_500], 0);
        assert_eq!(cols[1].lo, 1_000);
        assert_eq!((cols[2].lo, cols[2].hi), (2_001, 3_001));
        assert_eq!((cols[3].lo, cols[3].hi), (3_001, 3_999));
    }

    #[test]
    fn different_frequency_axes_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let a = write_spect(dir.path(), t("2024-04-01T12:00:00Z"), 10, 2);
        let b = write_spect(dir.path(), t("2024-04-01T12:00:10Z"), 10, 3);
        let err = clip_mat(
            &[a, b],
            t("2024-04-01T12:00:00Z"),
            t("2024-04-01T12:00:20Z"),
            &dir.path().join("x.mat"),
            GapPolicy::Fail,
        )
        .unwrap_err();
        assert!(matches!(err, ClipError::Mismatch { .. }), "{err}");
    }
}
