//! Audio clips: decode only the needed span of each source (FLAC seeks to the first needed
//! frame), join consecutive files, cut to the sample, write FLAC or WAV with the sources'
//! rate, channels and bit depth.
//!
//! Times come from each file's ONC name and its real frame count, never from an assumed 300 s
//! grid. Which frames of which files, which gaps (filled with silence under `pad`) and which
//! output files is [`super::plan`]'s decision, the same for every format. Sources
//! that disagree on rate, channels or sample format are an error: nothing is resampled.

use super::plan::{self, Axis, Extent, Step};
use super::segments::sample_index;
use super::{ClipError, Clipped, GapPolicy};
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
    plan::check_window(start, end)?;
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
    let extents: Vec<Extent> = sources
        .iter()
        .zip(&infos)
        .enumerate()
        .map(|(source, (s, info))| {
            let s0 = sample_index(s.start, rate);
            Extent {
                source,
                start: s0,
                end: s0.saturating_add(i64::try_from(info.total_frames).unwrap_or(i64::MAX)),
                unit: 1,
            }
        })
        .collect();
    let plan = plan::plan(Axis::Samples(rate), &extents, start, end, out, gap)?;
    let channels = usize::from(spec.channels.max(1));
    for part in &plan.parts {
        let len = usize::try_from(part.end() - part.start()).unwrap_or(0) * channels;
        let mut samples = match spec.format {
            SampleFormat::Int => Samples::Int(Vec::with_capacity(len)),
            SampleFormat::Float => Samples::Float(Vec::with_capacity(len)),
        };
        for step in &part.steps {
            append_step(&mut samples, step, sources, &extents, channels)?;
        }
        let audio = Audio { spec, samples };
        match format {
            AudioFormat::Flac => formats::write_flac(&part.path, &audio),
            AudioFormat::Wav => formats::write_wav(&part.path, &audio),
        }
        .map_err(|e| ClipError::Write {
            path: part.path.clone(),
            source: e,
        })?;
    }
    Ok(plan.into_clipped(|i| sources[i].path.clone()))
}

/// Appends a step: silence for a gap, the source's frames for data.
fn append_step(
    samples: &mut Samples,
    step: &Step,
    sources: &[AudioSource],
    extents: &[Extent],
    channels: usize,
) -> Result<(), ClipError> {
    let frames = step.len();
    match *step {
        Step::Gap { .. } => {
            let n = usize::try_from(frames).unwrap_or(0) * channels;
            match samples {
                Samples::Int(v) => v.resize(v.len() + n, 0),
                Samples::Float(v) => v.resize(v.len() + n, 0.0),
            }
        }
        Step::Data { source, start, .. } => {
            // One extent per audio source, at the source's index.
            let first = (start - extents[source].start).unsigned_abs();
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

#[cfg(test)]
mod tests {
    #![allow(
        clippy::pedantic,
        clippy::print_stderr,
        reason = "test code: casts and formatting on small fixed inputs"
    )]
    use super::super::Gap;
    use super::*;
    use crate::formats::AudioSpec;

    const RATE: u32 = 8000;

    fn t(s: &str) -> UtcInstant {
        UtcInstant::parse(s).unwrap()
    }

    /// A source whose sample at absolute index n is n mod 2^23 (so joins can be checked exactly).
    fn write_source(dir: &Path, start: UtcInstant, frames: u64, flac: bool) -> AudioSource {
        let first = sample_index(start, RATE);
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
            formats::write_flac(&path, &audio).unwrap();
        } else {
            formats::write_wav(&path, &audio).unwrap();
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
        let first = sample_index(start, RATE);
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
