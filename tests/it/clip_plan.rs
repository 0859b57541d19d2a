//! One clip planner for every format: the same window over the same archive gap gives the same
//! parts, spans, sources and gaps for audio, MAT and PNG under each gap policy, and a padded
//! gap is silent samples, NaN columns or blank pixel columns of the gap's length.
//!
//! The sources are real files written with `hydrofetch::formats` (a WAV ramp, ONC-shaped MAT
//! spectrograms with one-second columns, 1200 × 900 plots with ONC's frame), and every output
//! is decoded from disk.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use hydrofetch::clip::audio::{AudioFormat, AudioSource, clip_audio};
use hydrofetch::clip::mat::{clip_mat, datenum_to_instant, instant_to_datenum};
use hydrofetch::clip::png::{PngSource, clip_png};
use hydrofetch::clip::{ClipError, Clipped, Gap, GapPolicy};
use hydrofetch::formats::{self, Audio, AudioSpec, Image, MatValue, SampleFormat, Samples};
use hydrofetch::time::UtcInstant;
use std::path::{Path, PathBuf};

/// Audio sample rate of the test sources (small, so files stay small).
const RATE: u32 = 1000;
/// Data columns of an ONC plot (x = 107..1042).
const PLOT_W: i64 = 935;
/// What a padded PNG gap is drawn with.
const BLANK: [u8; 3] = [255, 255, 255];

fn t(s: &str) -> UtcInstant {
    UtcInstant::parse(s).unwrap()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Audio,
    Mat,
    Png,
}

const KINDS: [Kind; 3] = [Kind::Audio, Kind::Mat, Kind::Png];

impl Kind {
    fn ext(self) -> &'static str {
        match self {
            Kind::Audio => "wav",
            Kind::Mat => "mat",
            Kind::Png => "png",
        }
    }
}

/// The audio sample at absolute millisecond `ms` (1 kHz: one sample per millisecond; never 0).
fn ramp(ms: i64) -> i32 {
    (ms % 1_000_000) as i32 + 1
}

/// Two recordings of 300 s each: 12:00:00–12:05:00 and 12:07:00–12:12:00 (a 2-minute archive
/// gap), in each of the three formats.
struct Archive {
    dir: tempfile::TempDir,
    starts: [UtcInstant; 2],
    audio: Vec<AudioSource>,
    mat: Vec<PathBuf>,
    png: Vec<PngSource>,
}

fn archive() -> Archive {
    let dir = tempfile::tempdir().unwrap();
    let starts = [t("2024-04-01T12:00:00Z"), t("2024-04-01T12:07:00Z")];
    let src = dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    let mut a = Archive {
        starts,
        audio: Vec::new(),
        mat: Vec::new(),
        png: Vec::new(),
        dir,
    };
    for start in starts {
        let stamp = start.to_file_stamp();
        // Audio: one sample per millisecond, valued by its absolute millisecond.
        let s0 = start.unix_millis();
        let audio = Audio {
            spec: AudioSpec {
                sample_rate: RATE,
                channels: 1,
                bits_per_sample: 24,
                format: SampleFormat::Int,
            },
            samples: Samples::Int((0..300_000).map(|i| ramp(s0 + i)).collect()),
        };
        let path = src.join(format!("DEV_{stamp}.wav"));
        formats::write_wav(&path, &audio).unwrap();
        a.audio.push(AudioSource { path, start });
        // MAT: 300 one-second columns centred on the half second, PSD = the column's second.
        let secs: Vec<i64> = (0..300).map(|k| s0 / 1000 + k).collect();
        let times: Vec<f64> = secs
            .iter()
            .map(|&s| instant_to_datenum(UtcInstant::from_unix_millis(s * 1000 + 500)))
            .collect();
        let psd: Vec<f64> = secs
            .iter()
            .flat_map(|&s| [(s % 100_000) as f64, 1.0])
            .collect();
        let spect = MatValue::Struct(vec![
            ("PSD".into(), MatValue::matrix(2, 300, psd)),
            (
                "frequency".into(),
                MatValue::Double {
                    dims: vec![2, 1],
                    data: vec![0.0, 10.0],
                },
            ),
            ("time".into(), MatValue::row(times)),
            ("processingComment".into(), MatValue::Char("test.".into())),
        ]);
        let meta = MatValue::Struct(vec![("deviceCode".into(), MatValue::Char("DEV".into()))]);
        let path = src.join(format!("DEV_{stamp}-spect.mat"));
        formats::write_mat(
            &path,
            &[("SpectData".into(), spect), ("Meta".into(), meta)],
            false,
        )
        .unwrap();
        a.mat.push(path);
        // PNG: ONC's frame, data column x painted (x % 200, 0, 200): never the blank colour.
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
                img.put(x, y, &[(x % 200) as u8, 0, 200]).unwrap();
            }
        }
        let path = src.join(format!("DEV_{stamp}-spect.png"));
        formats::write_png(&path, &img).unwrap();
        a.png.push(PngSource {
            path,
            start,
            duration_ms: 300_000,
        });
    }
    a
}

impl Archive {
    fn cut(
        &self,
        kind: Kind,
        w: (UtcInstant, UtcInstant),
        gap: GapPolicy,
    ) -> Result<Clipped, ClipError> {
        let out = self
            .dir
            .path()
            .join(format!("{}-{}.{}", kind.ext(), gap.as_str(), kind.ext()));
        match kind {
            Kind::Audio => clip_audio(&self.audio, w.0, w.1, &out, AudioFormat::Wav, gap),
            Kind::Mat => clip_mat(&self.mat, w.0, w.1, &out, gap),
            Kind::Png => clip_png(&self.png, w.0, w.1, &out, gap),
        }
    }

    /// Which recording (0 or 1) a source path belongs to.
    fn recording(&self, p: &Path) -> usize {
        let name = p.file_name().unwrap().to_str().unwrap();
        usize::from(name.contains(&self.starts[1].to_file_stamp()))
    }

    /// A clip's outputs without the format: (file name stem, start, end, recordings).
    fn shape(&self, c: &Clipped) -> Vec<(String, UtcInstant, UtcInstant, Vec<usize>)> {
        c.outputs
            .iter()
            .map(|o| {
                let stem = o.path.file_stem().unwrap().to_str().unwrap();
                let stem = stem.split_once('-').unwrap().1.to_owned();
                let recs = o.sources.iter().map(|p| self.recording(p)).collect();
                (stem, o.start, o.end, recs)
            })
            .collect()
    }
}

/// The decoded output along its time axis: one entry per sample (audio), column (MAT) or
/// pixel column (PNG): `None` where the clip is padded, `Some(value)` for data.
fn decode(kind: Kind, path: &Path) -> Vec<Option<i64>> {
    match kind {
        Kind::Audio => {
            let a = formats::read_wav(path).unwrap();
            let Samples::Int(v) = a.samples else {
                panic!("int samples")
            };
            // Silence is 0; the ramp is never 0 at these times.
            v.iter()
                .map(|&x| (x != 0).then_some(i64::from(x)))
                .collect()
        }
        Kind::Mat => {
            let vars = formats::read_mat(path).unwrap();
            let s = formats::find_var(&vars, "SpectData").unwrap();
            let Some(MatValue::Double { dims, data }) = s.field("PSD") else {
                panic!("PSD")
            };
            assert_eq!(dims[0], 2);
            data.chunks(2)
                .map(|c| (!c[0].is_nan()).then_some(c[0] as i64))
                .collect()
        }
        Kind::Png => {
            let img = formats::read_png(path).unwrap();
            assert_eq!(img.height, 742, "the plot area's rows");
            (0..img.width)
                .map(|x| {
                    let column: Vec<&[u8]> = (0..img.height)
                        .map(|y| &img.get(x, y).unwrap()[..3])
                        .collect();
                    if column.iter().all(|px| *px == BLANK) {
                        None
                    } else {
                        assert!(column.iter().all(|px| px[1] == 0), "column {x} is mixed");
                        Some(i64::from(column[0][0]))
                    }
                })
                .collect()
        }
    }
}

/// The number of units (samples, columns, pixel columns) `ms` milliseconds make in `kind`,
/// rounded as each cutter rounds a span of data out to whole units.
fn units(kind: Kind, ms: i64) -> usize {
    match kind {
        Kind::Audio => ms as usize * RATE as usize / 1000,
        Kind::Mat => (ms as usize).div_ceil(1000),
        Kind::Png => ((ms * PLOT_W) as usize).div_ceil(300_000),
    }
}

/// Units of a padded gap of `ms`: the same count at the neighbouring data's unit length.
fn gap_units(kind: Kind, ms: i64) -> usize {
    match kind {
        Kind::Png => ((ms * PLOT_W + 150_000) / 300_000) as usize,
        _ => units(kind, ms),
    }
}

/// Runs of `None` / `Some` in a decoded output, as (is_data, length).
fn runs(v: &[Option<i64>]) -> Vec<(bool, usize)> {
    let mut out: Vec<(bool, usize)> = Vec::new();
    for x in v {
        match out.last_mut() {
            Some((d, n)) if *d == x.is_some() => *n += 1,
            _ => out.push((x.is_some(), 1)),
        }
    }
    out
}

#[test]
fn the_same_gap_gives_the_same_parts_in_every_format() {
    let a = archive();
    let w = (t("2024-04-01T12:04:00Z"), t("2024-04-01T12:07:30Z"));
    let gap = Gap {
        start: t("2024-04-01T12:05:00Z"),
        end: t("2024-04-01T12:07:00Z"),
    };

    // fail: the same error naming the gap, and nothing written.
    let messages: Vec<String> = KINDS
        .iter()
        .map(|&k| match a.cut(k, w, GapPolicy::Fail) {
            Err(ClipError::Gaps { gaps }) => {
                assert_eq!(gaps, [gap], "{k:?}");
                ClipError::Gaps { gaps }.to_string()
            }
            other => panic!("{k:?}: {other:?}"),
        })
        .collect();
    assert!(
        messages[0].contains("2024-04-01T12:05:00.000Z"),
        "{messages:?}"
    );
    assert!(messages.iter().all(|m| *m == messages[0]), "{messages:#?}");

    // split: two parts with the same names, spans and sources; each holds its span's data.
    let mut shapes = Vec::new();
    for k in KINDS {
        let c = a.cut(k, w, GapPolicy::Split).unwrap();
        assert_eq!(c.gaps, [gap], "{k:?}");
        for o in &c.outputs {
            let got = decode(k, &o.path);
            assert!(
                got.iter().all(Option::is_some),
                "{k:?}: a split part has no gap"
            );
            assert_eq!(
                got.len(),
                units(k, o.end.millis_since(o.start)),
                "{k:?} {}",
                o.path.display()
            );
        }
        shapes.push(a.shape(&c));
    }
    assert_eq!(
        shapes[0],
        [
            ("split_part1".to_owned(), w.0, gap.start, vec![0]),
            ("split_part2".to_owned(), gap.end, w.1, vec![1]),
        ]
    );
    assert_eq!(shapes[1], shapes[0], "MAT against audio");
    assert_eq!(shapes[2], shapes[0], "PNG against audio");

    // pad: one output over the whole window, the gap blank for its length, data either side.
    for k in KINDS {
        let c = a.cut(k, w, GapPolicy::Pad).unwrap();
        assert_eq!(c.gaps, [gap], "{k:?}");
        assert_eq!(
            a.shape(&c),
            [("pad".to_owned(), w.0, w.1, vec![0, 1])],
            "{k:?}"
        );
        let got = decode(k, &c.outputs[0].path);
        assert_eq!(
            runs(&got),
            [
                (true, units(k, 60_000)),
                (false, gap_units(k, 120_000)),
                (true, units(k, 30_000)),
            ],
            "{k:?}"
        );
    }
    // The data on both sides of the padded gap is the data of those times.
    let audio = decode(
        Kind::Audio,
        &a.cut(Kind::Audio, w, GapPolicy::Pad).unwrap().outputs[0].path,
    );
    assert_eq!(audio[0], Some(i64::from(ramp(w.0.unix_millis()))));
    assert_eq!(audio[180_000], Some(i64::from(ramp(gap.end.unix_millis()))));
    let mat = decode(
        Kind::Mat,
        &a.cut(Kind::Mat, w, GapPolicy::Pad).unwrap().outputs[0].path,
    );
    assert_eq!(mat[0], Some(w.0.unix_millis() / 1000 % 100_000));
    assert_eq!(mat[180], Some(gap.end.unix_millis() / 1000 % 100_000));
    // The padded columns carry their own times, one column step apart across the gap.
    let vars =
        formats::read_mat(&a.cut(Kind::Mat, w, GapPolicy::Pad).unwrap().outputs[0].path).unwrap();
    let Some(MatValue::Double { data: times, .. }) = formats::find_var(&vars, "SpectData")
        .unwrap()
        .field("time")
        .cloned()
    else {
        panic!("time")
    };
    let centres: Vec<i64> = times
        .iter()
        .map(|&d| datenum_to_instant(d).millis_since(w.0))
        .collect();
    assert_eq!(
        centres,
        (0..210).map(|k| k * 1000 + 500).collect::<Vec<_>>()
    );
}

#[test]
fn a_gap_at_the_window_start_is_planned_alike() {
    let a = archive();
    // 30 s before the second recording, 30 s into it.
    let w = (t("2024-04-01T12:06:30Z"), t("2024-04-01T12:07:30Z"));
    let gap = Gap {
        start: w.0,
        end: t("2024-04-01T12:07:00Z"),
    };
    for k in KINDS {
        match a.cut(k, w, GapPolicy::Fail) {
            Err(ClipError::Gaps { gaps }) => assert_eq!(gaps, [gap], "{k:?}"),
            other => panic!("{k:?}: {other:?}"),
        }
        let split = a.cut(k, w, GapPolicy::Split).unwrap();
        assert_eq!(split.gaps, [gap], "{k:?}");
        assert_eq!(
            a.shape(&split),
            [("split".to_owned(), gap.end, w.1, vec![1])],
            "{k:?}: the one part is not numbered"
        );
        let pad = a.cut(k, w, GapPolicy::Pad).unwrap();
        assert_eq!(
            a.shape(&pad),
            [("pad".to_owned(), w.0, w.1, vec![1])],
            "{k:?}"
        );
        let got = decode(k, &pad.outputs[0].path);
        assert_eq!(
            runs(&got),
            [(false, gap_units(k, 30_000)), (true, units(k, 30_000))],
            "{k:?}"
        );
    }
}

#[test]
fn a_window_with_no_data_is_a_gap_error_under_every_policy() {
    let a = archive();
    let w = (t("2024-04-01T12:05:30Z"), t("2024-04-01T12:06:30Z"));
    for k in KINDS {
        for policy in [GapPolicy::Fail, GapPolicy::Split, GapPolicy::Pad] {
            match a.cut(k, w, policy) {
                Err(ClipError::Gaps { gaps }) => assert_eq!(
                    gaps,
                    [Gap {
                        start: w.0,
                        end: w.1
                    }],
                    "{k:?} {policy:?}"
                ),
                other => panic!("{k:?} {policy:?}: {other:?}"),
            }
        }
    }
}
