//! Hidden developer tools (`hydrofetch debug ...`).
//!
//! `inspect FILE [--json]` decodes a WAV, FLAC, MAT or PNG file (type sniffed from content) and
//! prints a summary, or with `--json` a description detailed enough to compare values from
//! another tool (see `formats::inspect`). `write-sample KIND OUT` writes a file whose content
//! follows the formulas in `formats::sample`, for the Python interop check.

use super::Outcome;
use crate::formats::sample::{SampleKind, float_audio, int_audio, mat_sample, png_sample};
use crate::formats::{inspect, write_flac, write_mat, write_png, write_wav};
use anyhow::Context as _;
use std::io::Write as _;
use std::path::PathBuf;

/// Developer subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum DebugCommand {
    /// Describe a WAV, FLAC, MAT or PNG file.
    Inspect {
        /// The file to inspect.
        file: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write a deterministic sample file (for interop checks).
    WriteSample {
        /// What to write.
        #[arg(value_enum)]
        kind: SampleKind,
        /// Where to write it.
        out: PathBuf,
    },
}

pub(crate) fn exec(cmd: DebugCommand) -> anyhow::Result<Outcome> {
    match cmd {
        DebugCommand::Inspect { file, json } => {
            // A file that is not what it should be is bad input (exit 2), not a runtime fault.
            let found = match inspect::inspect(&file)
                .with_context(|| format!("cannot inspect {}", file.display()))
            {
                Ok(f) => f,
                Err(e) => {
                    super::report(&e);
                    return Ok(Outcome::BadInput);
                }
            };
            let text = if json {
                format!("{}\n", found.to_json())
            } else {
                found.to_text()
            };
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .context("cannot write to stdout")?;
            out.flush().context("cannot write to stdout")?;
        }
        DebugCommand::WriteSample { kind, out } => {
            let path = out.as_path();
            match kind {
                SampleKind::Wav16 => write_wav(path, &int_audio(48_000, 2, 16, 10_000)),
                SampleKind::Wav24 => write_wav(path, &int_audio(64_000, 3, 24, 10_000)),
                SampleKind::WavFloat => write_wav(path, &float_audio(48_000, 2, 10_000)),
                SampleKind::Flac16 => write_flac(path, &int_audio(48_000, 2, 16, 20_000)),
                SampleKind::Flac24 => write_flac(path, &int_audio(64_000, 1, 24, 70_000)),
                SampleKind::Mat => write_mat(path, &mat_sample(), false),
                SampleKind::MatCompressed => write_mat(path, &mat_sample(), true),
                SampleKind::PngRgb => write_png(path, &png_sample(3)),
                SampleKind::PngRgba => write_png(path, &png_sample(4)),
            }
            .with_context(|| format!("cannot write {}", path.display()))?;
        }
    }
    Ok(Outcome::Success)
}
