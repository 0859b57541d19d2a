//! Audio clips: decode only the needed span of each source (FLAC seeks to the first needed
//! frame), join consecutive files, cut to the sample, write FLAC or WAV with the sources'
//! rate, channels and bit depth.
//!
//! Times come from each file's ONC name and its real frame count, never from an assumed 300 s
//! grid. A part of the window that no file covers is a gap, handled by [`GapPolicy`]. Sources
//! that disagree on rate, channels or sample format are an error: nothing is resampled.

use super::segments::{Piece, Source, pieces, sample_time};
use super::{ClipError, ClipOutput, Clipped, Gap, GapPolicy, push_source};
use crate::formats::{self, Audio, AudioContainer, SampleFormat, Samples};
use crate::time::UtcInstant;
use std::path::{Path, PathBuf};

/// A source file and where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioSource {
    /// The file on disk (FLAC or WAV, judged by content).
    pub path: PathBuf,
    /// Its start, from its ONC name.
    pub start: UtcInstant,
}

/// Output container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioFormat {
    /// FLAC (integer PCM only).
    Flac,
    /// WAV.
    Wav,
}

impl AudioFormat {
    /// The file extension.
    #[must_use]
    pub fn extension(self) -> &'static str {
        match self {
            Self::Flac => "flac",
            Self::Wav => "wav",
        }
    }
}

/// Cuts `[start, end)` out of `sources` into `out` (with `_partN` before the extension for
/// the parts of a split clip).
///
/// # Errors
/// [`ClipError`]: unreadable sources, mismatched specs, gaps under [`GapPolicy::Fail`],
/// an empty window, float samples to FLAC, or a write failure.
pub fn clip_audio(
    sources: &[AudioSource],
    start: UtcInstant,
    end: UtcInstant,
    out: &Path,
    format: AudioFormat,
    gap: GapPolicy,
) -> Result<Clipped, ClipError> {
    if end <= start {
        return Err(ClipError::EmptyWindow { start, end });
    }
    let mut infos = Vec::with_capacity(sources.len());
    for s in sources {
        infos.push(formats::probe_audio(&s.path).map_err(|e| ClipError::source(&s.path, e))?);
    }
    let Some(first) = infos.first() else {
        return Err(ClipError::NoSources);
    };
    let spec = first.spec;
    for (s, info) in sources.iter().zip(&infos) {
        if info.spec != spec {
            return Err(ClipError::Mismatch {
                path: s.path.clone(),
                detail: format!(
                    "{} Hz, {} channels, {} bits, where the first source has {} Hz, {} channels, {} bits",
                    info.spec.sample_rate,
                    info.spec.channels,
                    info.spec.bits_per_sample,
                    spec.sample_rate,
                    spec.channels,
                    spec.bits_per_sample
                ),
            });
        }
    }
    if format == AudioFormat::Flac && spec.format == SampleFormat::Float {
        return Err(ClipError::Mismatch {
            path: sources[0].path.clone(),
            detail: "float samples cannot be written as FLAC; ask for wav".into(),
        });
    }
    let rate = spec.sample_rate;
    let spans: Vec<Source> = sources
        .iter()
        .zip(&infos)
        .map(|(s, i)| Source {
            start: s.start,
            frames: i.total_frames,
        })
        .collect();
    let parts = pieces(&spans, start, end, rate);
    let gaps: Vec<Gap> = parts
        .iter()
        .filter_map(|p| match p {
            Piece::Gap { frames, at } => Some(Gap {
                start: sample_time(*at, rate),
                end: sample_time(at + i64::try_from(*frames).unwrap_or(i64::MAX), rate),
            }),
            Piece::Source { .. } => None,
        })
        .collect();
    if !gaps.is_empty() && gap == GapPolicy::Fail {
        return Err(ClipError::Gaps { gaps });
    }

    // Runs of consecutive pieces that go into one output file.
    let mut runs: Vec<Vec<Piece>> = vec![Vec::new()];
    for p in parts {
        match (p, gap) {
            (Piece::Gap { .. }, GapPolicy::Split) => runs.push(Vec::new()),
            (p, _) => {
                if let Some(last) = runs.last_mut() {
                    last.push(p);
                }
            }
        }
    }
    runs.retain(|r| !r.is_empty());
    if runs.is_empty() {
        return Err(ClipError::Gaps { gaps });
    }
    let split = runs.len() > 1;
    let channels = usize::from(spec.channels.max(1));
    let mut outputs = Vec::with_capacity(runs.len());
    let mut run_start = super::segments::sample_index(start, rate);
    for (n, run) in runs.iter().enumerate() {
        // With splitting, a run starts after the gap before it.
        let first_at = match run.first() {
            Some(Piece::Source { source, first, .. }) => {
                super::segments::sample_index(spans[*source].start, rate)
                    + i64::try_from(*first).unwrap_or(0)
            }
            Some(Piece::Gap { at, .. }) => *at,
            None => run_start,
        };
        if split {
            run_start = first_at;
        }
        let frames: u64 = run.iter().map(Piece::frames).sum();
        let mut used = Vec::new();
        for piece in run {
            if let Piece::Source { source, .. } = piece {
                push_source(&mut used, &sources[*source].path);
            }
        }
        let mut samples = match spec.format {
            SampleFormat::Int => Samples::Int(Vec::with_capacity(
                usize::try_from(frames).unwrap_or(0) * channels,
            )),
            SampleFormat::Float => Samples::Float(Vec::with_capacity(
                usize::try_from(frames).unwrap_or(0) * channels,
            )),
        };
        for piece in run {
            append_piece(&mut samples, piece, sources, channels)?;
        }
        let audio = Audio { spec, samples };
        let path = if split {
            part_path(out, n + 1)
        } else {
            out.to_owned()
        };
        match format {
            AudioFormat::Flac => formats::write_flac(&path, &audio),
            AudioFormat::Wav => formats::write_wav(&path, &audio),
        }
        .map_err(|e| ClipError::Write {
            path: path.clone(),
            source: e,
        })?;
        let end_at = run_start + i64::try_from(frames).unwrap_or(i64::MAX);
        outputs.push(ClipOutput {
            path,
            start: sample_time(run_start, rate),
            end: sample_time(end_at, rate),
            sources: used,
        });
        run_start = end_at;
    }
    Ok(Clipped { outputs, gaps })
}

fn append_piece(
    samples: &mut Samples,
    piece: &Piece,
    sources: &[AudioSource],
    channels: usize,
) -> Result<(), ClipError> {
    match *piece {
        Piece::Gap { frames, .. } => {
            let n = usize::try_from(frames).unwrap_or(0) * channels;
            match samples {
                Samples::Int(v) => v.resize(v.len() + n, 0),
                Samples::Float(v) => v.resize(v.len() + n, 0.0),
            }
        }
        Piece::Source {
            source,
            first,
            frames,
        } => {
            let path = &sources[source].path;
            let read = match formats::sniff_audio(path).map_err(|e| ClipError::source(path, e))? {
                AudioContainer::Flac => formats::read_flac_span(path, first, frames),
                AudioContainer::Wav => formats::read_wav_span(path, first, frames),
            }
            .map_err(|e| ClipError::source(path, e))?;
            match (samples, read.samples) {
                (Samples::Int(v), Samples::Int(r)) => v.extend_from_slice(&r),
                (Samples::Float(v), Samples::Float(r)) => v.extend_from_slice(&r),
                _ => {
                    return Err(ClipError::Mismatch {
                        path: path.clone(),
                        detail: "sample format differs from the other sources".into(),
                    });
                }
            }
        }
    }
    Ok(())
}

/// `name.ext` → `name_partN.ext`.
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
    use crate::formats::AudioSpec;

    const RATE: u32 = 8000;

    fn t(s: &str) -> UtcInstant {
        UtcInstant::parse(s).unwrap()
    }

    /// A source whose sample at absolute index n is n mod 2^23 (so joins can be checked exactly).
    fn write_source(dir: &Path, start: UtcInstant, frames: u64, flac: bool) -> AudioSource {
        let first = super::super::segments::sample_index(start, RATE);
        let samples: Vec<i32> = (0..frames)
            .map(|i| ((first + i64::try_from(i).unwrap()) % 8_000_000) as i32)
            .collect();
        let audio = Audio {
            spec: AudioSpec {
                sample_rate: RATE,
                channels: 1,
                bits_per_sample: 24,
                format: SampleFormat::Int,
            },
            samples: Samples::Int(samples),
        };
        let name = format!(
            "DEV_{}.{}",
            start.to_file_stamp(),
            if flac { "flac" } else { "wav" }
        );
        let path = dir.join(name);
        if flac {
            formats::write_flac(&path, &audio).unwrap()
        } else {
            formats::write_wav(&path, &audio).unwrap()
        }
        AudioSource { path, start }
    }

    fn expect_ramp(path: &Path, start: UtcInstant) -> usize {
        let a = formats::read_wav(path)
            .or_else(|_| formats::read_flac(path))
            .unwrap();
        let Samples::Int(v) = a.samples else {
            panic!("int")
        };
        let first = super::super::segments::sample_index(start, RATE);
        for (i, s) in v.iter().enumerate() {
            assert_eq!(i64::from(*s), (first + i as i64) % 8_000_000, "sample {i}");
        }
        v.len()
    }

    #[test]
    fn joins_across_files_to_the_sample() {
        let dir = tempfile::tempdir().unwrap();
        let a = write_source(
            dir.path(),
            t("2024-04-01T12:30:03Z"),
            300 * u64::from(RATE),
            true,
        );
        let b = write_source(
            dir.path(),
            t("2024-04-01T12:35:03Z"),
            300 * u64::from(RATE),
            false,
        );
        let out = dir.path().join("clip.flac");
        let (s, e) = (t("2024-04-01T12:34:35Z"), t("2024-04-01T12:35:05Z"));
        let clip = clip_audio(
            &[b.clone(), a.clone()],
            s,
            e,
            &out,
            AudioFormat::Flac,
            GapPolicy::Fail,
        )
        .unwrap();
        assert!(clip.gaps.is_empty());
        assert_eq!(clip.outputs.len(), 1);
        assert_eq!(clip.outputs[0].sources, [a.path, b.path]);
        assert_eq!(expect_ramp(&out, s), 30 * RATE as usize);
        assert_eq!((clip.outputs[0].start, clip.outputs[0].end), (s, e));
    }

    #[test]
    fn gaps_fail_pad_or_split() {
        let dir = tempfile::tempdir().unwrap();
        // A short file (100 s) and then nothing until 12:05.
        let a = write_source(
            dir.path(),
            t("2024-04-01T12:00:00Z"),
            100 * u64::from(RATE),
            true,
        );
        let b = write_source(
            dir.path(),
            t("2024-04-01T12:05:00Z"),
            300 * u64::from(RATE),
            true,
        );
        let (s, e) = (t("2024-04-01T12:01:30Z"), t("2024-04-01T12:05:10Z"));
        let srcs = [a, b];
        let err = clip_audio(
            &srcs,
            s,
            e,
            &dir.path().join("x.wav"),
            AudioFormat::Wav,
            GapPolicy::Fail,
        )
        .unwrap_err();
        match &err {
            ClipError::Gaps { gaps } => assert_eq!(
                gaps,
                &[Gap {
                    start: t("2024-04-01T12:01:40Z"),
                    end: t("2024-04-01T12:05:00Z")
                }]
            ),
            other => panic!("{other:?}"),
        }
        assert!(
            err.to_string().contains("2024-04-01T12:01:40.000Z"),
            "{err}"
        );

        let padded = clip_audio(
            &srcs,
            s,
            e,
            &dir.path().join("p.wav"),
            AudioFormat::Wav,
            GapPolicy::Pad,
        )
        .unwrap();
        let a = formats::read_wav(&padded.outputs[0].path).unwrap();
        assert_eq!(a.frames(), 220 * RATE as usize);
        let Samples::Int(v) = a.samples else { panic!() };
        assert!(
            v[10 * RATE as usize..210 * RATE as usize]
                .iter()
                .all(|&x| x == 0)
        );

        let split = clip_audio(
            &srcs,
            s,
            e,
            &dir.path().join("s.wav"),
            AudioFormat::Wav,
            GapPolicy::Split,
        )
        .unwrap();
        let parts: Vec<_> = split
            .outputs
            .iter()
            .map(|o| {
                (
                    o.path.file_name().unwrap().to_str().unwrap().to_owned(),
                    o.start,
                    o.end,
                )
            })
            .collect();
        assert_eq!(
            parts,
            [
                ("s_part1.wav".to_owned(), s, t("2024-04-01T12:01:40Z")),
                ("s_part2.wav".to_owned(), t("2024-04-01T12:05:00Z"), e),
            ]
        );
        // Each part lists only the file it was cut from.
        assert_eq!(split.outputs[0].sources, [srcs[0].path.clone()]);
        assert_eq!(split.outputs[1].sources, [srcs[1].path.clone()]);
        assert_eq!(
            expect_ramp(&split.outputs[1].path, t("2024-04-01T12:05:00Z")),
            10 * RATE as usize
        );
    }

    #[test]
    fn mismatched_sources_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let a = write_source(dir.path(), t("2024-04-01T12:00:00Z"), 1000, true);
        let other = Audio {
            spec: AudioSpec {
                sample_rate: 16_000,
                channels: 1,
                bits_per_sample: 24,
                format: SampleFormat::Int,
            },
            samples: Samples::Int(vec![0; 1000]),
        };
        let p = dir.path().join("DEV_20240401T120000.125Z.flac");
        formats::write_flac(&p, &other).unwrap();
        let srcs = [
            a,
            AudioSource {
                path: p,
                start: t("2024-04-01T12:00:00.125Z"),
            },
        ];
        let err = clip_audio(
            &srcs,
            t("2024-04-01T12:00:00Z"),
            t("2024-04-01T12:00:00.200Z"),
            &dir.path().join("o.flac"),
            AudioFormat::Flac,
            GapPolicy::Pad,
        )
        .unwrap_err();
        assert!(matches!(err, ClipError::Mismatch { .. }), "{err}");
    }
}
