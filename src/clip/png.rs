//! PNG spectrogram clips: crop the plot area's pixel columns for the window from each source
//! image and join them horizontally.
//!
//! ONC's plots are 1200 × 900 with the plot area framed by one-pixel lines (real files: frame
//! columns x = 106 and x = 1042, top row y = 67, in a uniform dark grey); the time axis spans
//! the file's own duration from the left frame to the right one. The frame is *found* in each
//! image, never assumed: an image whose frame is not within a few pixels of the known layout
//! is refused with [`ClipError::Mismatch`] rather than cropped wrongly.
//!
//! Which columns of which images, and which gaps, is [`super::plan`]'s decision, the same as
//! for audio and MAT; a gap between two pixel columns' worth of a plot is a gap. Under `pad` a
//! gap is drawn as blank columns of [`GAP_FILL`], as many as the gap lasts at the neighbouring
//! image's milliseconds per column (the image before the gap, else the one after).

use super::plan::{self, Axis, Extent, Step};
use super::{ClipError, Clipped, GapPolicy};
use crate::formats::{self, Image};
use crate::time::UtcInstant;
use std::path::{Path, PathBuf};

/// The colour of a padded gap (`gap = "pad"`): opaque white, the page colour ONC's plots show
/// where there is no data, so a gap reads as absent data and never as a quiet sea.
pub const GAP_FILL: [u8; 4] = [255, 255, 255, 255];

/// Expected left and right frame columns, and how far the found ones may be from them.
const FRAME_X: (u32, u32) = (106, 1042);
const SLACK: u32 = 12;

/// The plot area of an image: data columns `x0..x1`, rows `y0..y1` (frames excluded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlotArea {
    /// First data column.
    pub x0: u32,
    /// One past the last data column.
    pub x1: u32,
    /// First data row.
    pub y0: u32,
    /// One past the last data row.
    pub y1: u32,
}

/// A source image and the span its time axis covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PngSource {
    /// The file.
    pub path: PathBuf,
    /// Start of the time axis (the file's start, from its name).
    pub start: UtcInstant,
    /// Duration of the time axis in milliseconds (the source file's length, 300 000 for a
    /// full 5-minute file).
    pub duration_ms: i64,
}

fn luma(px: &[u8]) -> u32 {
    (u32::from(px[0]) * 3 + u32::from(px[1]) * 6 + u32::from(px[2])) / 10
}

/// The longest vertical run of one dark colour in column `x`: `(start row, length)`.
fn vertical_run(img: &Image, x: u32) -> (u32, u32) {
    let (mut best, mut cur_start, mut cur_len) = ((0, 0), 0, 0);
    let mut prev: Option<&[u8]> = None;
    for y in 0..img.height {
        let Some(px) = img.get(x, y) else { break };
        let same = prev.is_some_and(|p| p[..3] == px[..3]) && luma(px) < 128;
        if same {
            cur_len += 1;
        } else {
            cur_start = y;
            cur_len = u32::from(luma(px) < 128);
        }
        if cur_len > best.1 {
            best = (cur_start, cur_len);
        }
        prev = Some(px);
    }
    best
}

/// Finds the plot frame, or says why the image does not have ONC's layout.
///
/// # Errors
/// A description of what was not found.
pub fn find_plot_area(img: &Image) -> Result<PlotArea, String> {
    if img.width < FRAME_X.1 + 2 || img.height < 400 {
        return Err(format!(
            "image is {}×{}, expected ONC's 1200×900 layout",
            img.width, img.height
        ));
    }
    let min_run = img.height / 2;
    // A frame is a line: along most of its run it differs from the plot column just inside it
    // (`inward` is +1 for the left frame, -1 for the right). A dark plot edge that merely
    // continues into dark data is not a frame.
    let contrast = |x: u32, run: (u32, u32), inward: i64| -> bool {
        let Ok(inner) = u32::try_from(i64::from(x) + inward) else {
            return false;
        };
        let differ = (run.0..run.0 + run.1)
            .filter(|&y| {
                img.get(x, y)
                    .zip(img.get(inner, y))
                    .is_some_and(|(a, b)| a[..3] != b[..3])
            })
            .count();
        differ * 10 >= run.1 as usize * 6
    };
    let find = |expect: u32, inward: i64| -> Option<(u32, (u32, u32))> {
        (expect.saturating_sub(SLACK)..=expect + SLACK)
            .map(|x| (x, vertical_run(img, x)))
            .filter(|&(x, r)| r.1 >= min_run && contrast(x, r, inward))
            .max_by_key(|(x, r)| (r.1, u32::MAX - x.abs_diff(expect)))
    };
    let (Some((left, lr)), Some((right, rr))) = (find(FRAME_X.0, 1), find(FRAME_X.1, -1)) else {
        return Err(
            "no plot frame near x = 106 and x = 1042 (not ONC's spectrogram layout)".into(),
        );
    };
    if lr.0.abs_diff(rr.0) > 2 || lr.1.abs_diff(rr.1) > 2 {
        return Err("the left and right plot frame lines do not match".into());
    }
    // Tick marks can extend one frame line by a pixel: take the common extent.
    let y0 = lr.0.max(rr.0);
    Ok(PlotArea {
        x0: left + 1,
        x1: right,
        y0: y0 + 1,
        y1: (lr.0 + lr.1).min(rr.0 + rr.1),
    })
}

/// Cuts `[start, end)` out of `sources` (PNG plots) into `out`.
///
/// # Errors
/// [`ClipError`]: unreadable images, an image without ONC's layout, different plot heights,
/// gaps under [`GapPolicy::Fail`], or a write failure.
pub fn clip_png(
    sources: &[PngSource],
    start: UtcInstant,
    end: UtcInstant,
    out: &Path,
    gap: GapPolicy,
) -> Result<Clipped, ClipError> {
    plan::check_window(start, end)?;
    if sources.is_empty() {
        return Err(ClipError::NoSources);
    }
    // The plot of each source that overlaps the window, with its time axis.
    let mut plots: Vec<Option<Plot>> = vec![None; sources.len()];
    let mut extents = Vec::new();
    let mut height = None;
    for (i, s) in sources.iter().enumerate() {
        let dur = s.duration_ms.max(1);
        let (fs, fe) = (s.start, s.start.add_millis(dur));
        if fe <= start || fs >= end {
            continue;
        }
        let img = formats::read_png(&s.path).map_err(|e| ClipError::source(&s.path, e))?;
        let area = find_plot_area(&img).map_err(|detail| ClipError::Mismatch {
            path: s.path.clone(),
            detail,
        })?;
        let h = area.y1 - area.y0;
        if *height.get_or_insert(h) != h {
            return Err(ClipError::Mismatch {
                path: s.path.clone(),
                detail: "its plot area has a different height".into(),
            });
        }
        let width = i64::from(area.x1 - area.x0).max(1);
        extents.push(Extent {
            source: i,
            start: fs.unix_millis(),
            end: fe.unix_millis(),
            unit: (dur + width / 2) / width,
        });
        plots[i] = Some(Plot {
            img,
            area,
            start: fs.unix_millis(),
            dur,
            width,
        });
    }
    let plan = plan::plan(Axis::Millis, &extents, start, end, out, gap)?;
    for part in &plan.parts {
        let mut pieces: Vec<Image> = Vec::with_capacity(part.steps.len());
        for (k, step) in part.steps.iter().enumerate() {
            let piece = match *step {
                Step::Data { source, start, end } => {
                    let Some(p) = &plots[source] else { continue };
                    // Column i covers [fs + i·dur/w, fs + (i+1)·dur/w): keep those overlapping.
                    let first = ((start - p.start) * p.width / p.dur).clamp(0, p.width);
                    let last = ((end - p.start) * p.width + p.dur - 1) / p.dur;
                    let last = last.clamp(first, p.width);
                    let x = p.area.x0 + u32::try_from(first).unwrap_or(0);
                    let cols = u32::try_from(last - first).unwrap_or(0);
                    p.img
                        .crop(x, p.area.y0, cols, p.area.y1 - p.area.y0)
                        .map_err(|e| ClipError::source(&sources[source].path, e))?
                }
                Step::Gap { start, end } => {
                    // As many blank columns as the gap lasts at the neighbouring plot's scale.
                    let Some(p) = part.neighbour(k).and_then(|i| plots[i].as_ref()) else {
                        continue;
                    };
                    let cols = ((end - start) * p.width + p.dur / 2) / p.dur;
                    blank(
                        u32::try_from(cols).unwrap_or(0),
                        p.area.y1 - p.area.y0,
                        p.img.channels,
                    )
                }
            };
            if piece.width > 0 {
                pieces.push(piece);
            }
        }
        let joined = Image::hconcat(&pieces).map_err(|e| ClipError::Write {
            path: part.path.clone(),
            source: e,
        })?;
        formats::write_png(&part.path, &joined).map_err(|e| ClipError::Write {
            path: part.path.clone(),
            source: e,
        })?;
    }
    Ok(plan.into_clipped(|i| sources[i].path.clone()))
}

/// A source's decoded image, its plot area and its time axis in Unix milliseconds.
#[derive(Debug, Clone)]
struct Plot {
    img: Image,
    area: PlotArea,
    start: i64,
    dur: i64,
    width: i64,
}

/// A `width` × `height` image of [`GAP_FILL`] with `channels` channels.
fn blank(width: u32, height: u32, channels: u8) -> Image {
    let ch = usize::from(channels);
    let data = GAP_FILL[..ch.min(GAP_FILL.len())].repeat(width as usize * height as usize);
    Image {
        width,
        height,
        channels,
        data,
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

    fn samples() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/onc-samples/png")
    }

    #[test]
    fn finds_the_frame_in_real_onc_plots_and_refuses_other_layouts() {
        let dir = samples();
        let Ok(entries) = fs_err::read_dir(&dir) else {
            // The shared samples sit beside the repository; a lone checkout has none.
            eprintln!("skipped: no {}", dir.display());
            return;
        };
        let mut seen = 0;
        for e in entries {
            let p = e.unwrap().path();
            let img = formats::read_png(&p).unwrap();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let found = find_plot_area(&img);
            if name.contains("20160826T174703") {
                // A 2016 FFT plot with an older layout.
                assert!(found.is_err(), "{name}: {found:?}");
            } else {
                assert_eq!(
                    found,
                    Ok(PlotArea {
                        x0: 107,
                        x1: 1042,
                        y0: 68,
                        y1: 810
                    }),
                    "{name}"
                );
            }
            seen += 1;
        }
        assert!(seen >= 10);
    }

    /// A synthetic plot: frame lines like ONC's, data column x painted with value x % 256.
    fn plot(path: &Path) {
        let mut img = Image::new_rgb(1200, 900);
        for y in 0..900 {
            for x in 0..1200 {
                img.put(x, y, &[255, 255, 255]).unwrap();
            }
        }
        for y in 67..810 {
            img.put(106, y, &[50, 50, 50]).unwrap();
            img.put(1042, y, &[50, 50, 50]).unwrap();
            for x in 107..1042 {
                img.put(x, y, &[(x % 256) as u8, 0, 200]).unwrap();
            }
        }
        formats::write_png(path, &img).unwrap();
    }

    #[test]
    fn crops_and_joins_columns_for_the_window() {
        let dir = tempfile::tempdir().unwrap();
        let t = |s: &str| UtcInstant::parse(s).unwrap();
        let (a, b) = (dir.path().join("a.png"), dir.path().join("b.png"));
        plot(&a);
        plot(&b);
        let srcs = [
            PngSource {
                path: a,
                start: t("2024-04-01T12:30:03Z"),
                duration_ms: 300_000,
            },
            PngSource {
                path: b,
                start: t("2024-04-01T12:35:03Z"),
                duration_ms: 300_000,
            },
        ];
        let out = dir.path().join("clip.png");
        let clip = clip_png(
            &srcs,
            t("2024-04-01T12:34:35Z"),
            t("2024-04-01T12:35:05Z"),
            &out,
            GapPolicy::Fail,
        )
        .unwrap();
        let img = formats::read_png(&out).unwrap();
        // 935 columns per 300 s: 28 s → 88 columns (rounded out), 2 s → 7 columns.
        assert_eq!(img.height, 742);
        let o = &clip.outputs[0];
        assert_eq!(o.sources, [srcs[0].path.clone(), srcs[1].path.clone()]);
        assert_eq!(
            (o.start, o.end),
            (t("2024-04-01T12:34:35Z"), t("2024-04-01T12:35:05Z"))
        );
        assert_eq!(img.width, 88 + 7);
        // The first column is the source column for 12:34:35 (272 s in: column 847 → x = 954).
        assert_eq!(img.get(0, 0).unwrap()[0], (954 % 256) as u8);
        assert_eq!(img.get(88, 0).unwrap()[0], 107);
        let far = clip_png(
            &srcs,
            t("2024-04-01T12:50:00Z"),
            t("2024-04-01T12:51:00Z"),
            &out,
            GapPolicy::Fail,
        );
        assert!(matches!(far, Err(ClipError::Gaps { .. })));
    }
}
