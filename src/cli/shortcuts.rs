//! The command-line shortcuts `range`, `sample`, `events`, `audio` and `requests FILE`: they
//! build the same [`Manifest`](crate::manifest::Manifest) a manifest file would (same rules;
//! problems are reported by the flag that gave the value, `--device`, not `range.device`),
//! write it as a TOML manifest beside the data (see `saved.rs`) and run that file as `run`
//! does, so that `hydrofetch run` on it later repeats the run with the same lockfile.
//! `--plan` prints the plan and `--print-manifest` the manifest, both writing nothing.

use super::Outcome;
use super::error::UsageError;
use super::plan::{LimitArgs, print_manifest_error, print_plan};
use super::run::{NetArgs, OutputArgs, StateArgs, run_manifests};
use super::saved::{self, Body};
use crate::manifest::{self, CliValue, Manifest, ManifestError, Mode};
use crate::ops::Manifests;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Options every shortcut takes.
#[derive(Debug, clap::Args)]
pub(crate) struct Common {
    /// Print the plan instead of running (with --json: the plan as JSON); writes nothing.
    #[arg(long, conflicts_with = "print_manifest")]
    plan: bool,
    /// Print the manifest this command would write and run, instead of running; writes
    /// nothing.
    #[arg(long)]
    print_manifest: bool,
    /// Write the manifest here (a .toml file) instead of `hydrofetch-<command>.toml` beside
    /// the data folder.
    #[arg(long, value_name = "PATH")]
    manifest: Option<PathBuf>,
    /// Replace a different manifest already at that path.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    net: NetArgs,
    #[command(flatten)]
    state: StateArgs,
    #[command(flatten)]
    pub(super) out: OutputArgs,
    #[command(flatten)]
    limits: LimitArgs,
}

/// What to fetch, as a manifest table writes it.
#[derive(Debug, clap::Args)]
pub(crate) struct ProductArgs {
    /// Also fetch audio.
    #[arg(long = "audio", alias = "download-audio")]
    audio: bool,
    /// Fetch audio only, no ONC spectrograms.
    #[arg(long = "no-spectrograms")]
    no_spectrograms: bool,
    /// Spectrogram format: mat or png.
    #[arg(long = "format")]
    spectrogram_format: Option<String>,
    /// ONC `dpo_*` options as a JSON object.
    #[arg(long = "options", alias = "data-product-options")]
    data_product_options: Option<String>,
    /// Preferred audio extension: flac or wav.
    #[arg(long)]
    audio_extension: Option<String>,
}

/// Where the windows are.
#[derive(Debug, clap::Args)]
pub(crate) struct SpanArgs {
    /// Device code, e.g. ICLISTENHF6324.
    #[arg(long)]
    device: Option<String>,
    /// Start (ISO 8601).
    #[arg(long)]
    start: Option<String>,
    /// End (ISO 8601, exclusive).
    #[arg(long)]
    end: Option<String>,
    /// Zone for naive times (IANA name, UTC, or an offset).
    #[arg(long)]
    timezone: Option<String>,
    /// Folder for outputs.
    #[arg(long, default_value = "data")]
    data_dir: PathBuf,
}

/// `hydrofetch range`.
#[derive(Debug, clap::Args)]
pub(crate) struct RangeArgs {
    #[command(flatten)]
    span: SpanArgs,
    /// Windows per ONC request.
    #[arg(long = "per-batch")]
    per_batch: Option<String>,
    #[command(flatten)]
    products: ProductArgs,
    #[command(flatten)]
    pub(super) common: Common,
}

/// `hydrofetch sample`.
#[derive(Debug, clap::Args)]
pub(crate) struct SampleArgs {
    #[command(flatten)]
    span: SpanArgs,
    /// Total windows to sample.
    #[arg(long)]
    total: Option<String>,
    /// Consecutive windows per block (and per ONC request).
    #[arg(long = "per-request")]
    per_request: Option<String>,
    #[command(flatten)]
    products: ProductArgs,
    #[command(flatten)]
    pub(super) common: Common,
}

/// `hydrofetch events`.
#[derive(Debug, clap::Args)]
pub(crate) struct EventsArgs {
    /// Device code, e.g. ICLISTENHF6324.
    #[arg(long)]
    device: Option<String>,
    /// The instants (ISO 8601).
    #[arg(required = true)]
    times: Vec<String>,
    /// Zone for naive times.
    #[arg(long)]
    timezone: Option<String>,
    /// Padding around each instant, in seconds.
    #[arg(long, visible_alias = "pad", value_name = "SECONDS")]
    pad_seconds: Option<String>,
    /// Padding before each instant, in seconds.
    #[arg(long)]
    pad_before_seconds: Option<String>,
    /// Padding after each instant, in seconds.
    #[arg(long)]
    pad_after_seconds: Option<String>,
    /// Windows per ONC request.
    #[arg(long = "per-request")]
    per_request: Option<String>,
    /// Also cut each instant's padded span into a clip (needs --pad).
    #[arg(long)]
    clip: bool,
    /// What clips do with archive gaps: split, pad or fail.
    #[arg(long, requires = "clip")]
    gap: Option<String>,
    /// Folder for outputs.
    #[arg(long, default_value = "data")]
    data_dir: PathBuf,
    #[command(flatten)]
    products: ProductArgs,
    #[command(flatten)]
    pub(super) common: Common,
}

/// `hydrofetch audio`.
#[derive(Debug, clap::Args)]
pub(crate) struct AudioArgs {
    #[command(flatten)]
    span: SpanArgs,
    /// Preferred audio extension: flac or wav.
    #[arg(long)]
    audio_extension: Option<String>,
    #[command(flatten)]
    pub(super) common: Common,
}

/// `hydrofetch requests FILE`: call-level overrides sit between the requests' own fields and
/// the file's `defaults`.
#[derive(Debug, clap::Args)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "command-line flags: each bool is one switch"
)]
pub(crate) struct RequestsArgs {
    /// The request file (JSON `{defaults, requests}` or CSV).
    file: PathBuf,
    /// Padding before and after each request, in seconds.
    #[arg(long)]
    default_pad_seconds: Option<String>,
    /// Padding before each request, in seconds.
    #[arg(long)]
    default_pad_before_seconds: Option<String>,
    /// Padding after each request, in seconds.
    #[arg(long)]
    default_pad_after_seconds: Option<String>,
    /// Fetch audio for every request.
    #[arg(long, overrides_with = "no_download_audio")]
    download_audio: bool,
    /// Fetch no audio.
    #[arg(long)]
    no_download_audio: bool,
    /// Fetch no ONC spectrograms.
    #[arg(long)]
    no_download_spectrogram: bool,
    /// Clip outputs to each request's padded window.
    #[arg(long, overrides_with = "no_clip")]
    clip: bool,
    /// Do not clip.
    #[arg(long)]
    no_clip: bool,
    /// Spectrogram format: mat or png.
    #[arg(long)]
    spectrogram_format: Option<String>,
    /// Preferred audio extension: flac or wav.
    #[arg(long)]
    audio_extension: Option<String>,
    /// ONC `dpo_*` options as a JSON object.
    #[arg(long)]
    data_product_options: Option<String>,
    /// Zone for naive times.
    #[arg(long)]
    timezone: Option<String>,
    /// Output folder tag.
    #[arg(long)]
    output_tag: Option<String>,
    /// What clips do with archive gaps: split, pad or fail.
    #[arg(long)]
    gap: Option<String>,
    /// Windows per ONC request.
    #[arg(long = "per-request")]
    per_request: Option<String>,
    /// Folder for outputs (default: `data` beside the request file).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    #[command(flatten)]
    pub(super) common: Common,
}

fn text(out: &mut Vec<(&'static str, CliValue)>, key: &'static str, v: Option<String>) {
    if let Some(v) = v {
        out.push((key, CliValue::Text(v)));
    }
}

fn flag(out: &mut Vec<(&'static str, CliValue)>, key: &'static str, v: Option<bool>) {
    if let Some(v) = v {
        out.push((key, CliValue::Text(v.to_string())));
    }
}

/// `Some(true)` for `--x`, `Some(false)` for `--no-x`, `None` for neither.
fn either(yes: bool, no: bool) -> Option<String> {
    match (yes, no) {
        (true, _) => Some("true".to_owned()),
        (false, true) => Some("false".to_owned()),
        (false, false) => None,
    }
}

fn span_fields(s: SpanArgs, out: &mut Vec<(&'static str, CliValue)>) -> PathBuf {
    text(out, "device", s.device);
    text(out, "start", s.start);
    text(out, "end", s.end);
    text(out, "timezone", s.timezone);
    s.data_dir
}

fn product_fields(p: ProductArgs, out: &mut Vec<(&'static str, CliValue)>) {
    flag(out, "download_audio", p.audio.then_some(true));
    flag(
        out,
        "download_spectrogram",
        p.no_spectrograms.then_some(false),
    );
    text(out, "spectrogram_format", p.spectrogram_format);
    text(out, "data_product_options", p.data_product_options);
    text(out, "audio_extension", p.audio_extension);
}

/// The flag of a manifest field, for messages: `--device`, `--per-batch`, `TIMES`.
fn table_flag(key: &str) -> String {
    match key {
        "spectrograms_per_batch" => "--per-batch".to_owned(),
        "spectrograms_per_request" => "--per-request".to_owned(),
        "total_spectrograms" => "--total".to_owned(),
        "download_audio" => "--audio".to_owned(),
        "download_spectrogram" => "--no-spectrograms".to_owned(),
        "spectrogram_format" => "--format".to_owned(),
        "data_product_options" => "--options".to_owned(),
        "times" => "TIMES".to_owned(),
        k => format!("--{}", k.replace('_', "-")),
    }
}

/// The flag of a call-level field of `requests`.
fn requests_flag(key: &str) -> String {
    match key {
        "spectrograms_per_request" => "--per-request".to_owned(),
        "download_spectrogram" => "--no-download-spectrogram".to_owned(),
        k => format!("--{}", k.replace('_', "-")),
    }
}

/// Names flags, not manifest fields, in the problems found in command-line values
/// (`range.device is missing` → `--device is required`); problems of a request file keep
/// their file, row and column.
fn name_flags(e: ManifestError, flag: fn(&str) -> String) -> ManifestError {
    let ManifestError::Invalid { path, diagnostics } = e else {
        return e;
    };
    let cli = Path::new("<command line>");
    let diagnostics = diagnostics
        .into_iter()
        .map(|mut d| {
            if d.file == cli && !d.field.starts_with("--") {
                let key = d.field.rsplit('.').next().unwrap_or(&d.field);
                let key = key.split('[').next().unwrap_or(key);
                d.field = flag(key);
                if let Some(rest) = d.message.strip_prefix("is missing") {
                    d.message = format!("is required{rest}");
                }
            }
            d
        })
        .collect();
    ManifestError::Invalid { path, diagnostics }
}

fn bad_manifest(e: ManifestError, flag: fn(&str) -> String) -> Outcome {
    print_manifest_error(&name_flags(e, flag));
    Outcome::BadInput
}

fn finish(
    mode: Mode,
    data_dir: &Path,
    fields: &[(&'static str, CliValue)],
    common: &Common,
) -> anyhow::Result<Outcome> {
    match manifest::from_command_line(mode, data_dir, fields.to_vec()) {
        Ok(m) => {
            let shortcut = mode_name(mode);
            save_and_run(m, shortcut, &Body::Table(shortcut, fields), common)
        }
        Err(e) => Ok(bad_manifest(e, table_flag)),
    }
}

const fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Range => "range",
        Mode::Sample => "sample",
        Mode::Events => "events",
        Mode::Audio => "audio",
    }
}

/// Writes (or prints) the manifest, then plans or runs it.
fn save_and_run(
    mut m: Manifest,
    shortcut: &str,
    body: &Body<'_>,
    common: &Common,
) -> anyhow::Result<Outcome> {
    let path = saved::location(common.manifest.as_deref(), &m.data_dir, shortcut)
        .map_err(UsageError::new)?;
    let text = saved::render(&path, &m.data_dir, shortcut, body)?;
    if common.print_manifest {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())?;
        out.flush()?;
        return Ok(Outcome::Success);
    }
    if common.plan {
        // Nothing is written: the plan reads the lockfile the saved manifest would have.
        m.sources.insert(0, path);
        return print_plan(Manifests::Loaded(vec![m]), common.out.json(), common.limits);
    }
    match saved::save(&path, &text, common.force)? {
        Ok(saved::Saved::Written) => {
            tracing::info!(manifest = %path.display(), "wrote the manifest of this run");
        }
        Ok(saved::Saved::Unchanged) => {}
        Err(message) => return Err(UsageError::new(message).into()),
    }
    run_manifests(
        Manifests::Files(vec![path]),
        &common.net,
        common.out,
        &common.state,
        common.limits,
    )
}

pub(crate) fn range(a: RangeArgs) -> anyhow::Result<Outcome> {
    let mut f = Vec::new();
    let dir = span_fields(a.span, &mut f);
    text(&mut f, "spectrograms_per_batch", a.per_batch);
    product_fields(a.products, &mut f);
    finish(Mode::Range, &dir, &f, &a.common)
}

pub(crate) fn sample(a: SampleArgs) -> anyhow::Result<Outcome> {
    let mut f = Vec::new();
    let dir = span_fields(a.span, &mut f);
    text(&mut f, "total_spectrograms", a.total);
    text(&mut f, "spectrograms_per_request", a.per_request);
    product_fields(a.products, &mut f);
    finish(Mode::Sample, &dir, &f, &a.common)
}

pub(crate) fn events(a: EventsArgs) -> anyhow::Result<Outcome> {
    let mut f = Vec::new();
    text(&mut f, "device", a.device);
    f.push(("times", CliValue::List(a.times)));
    text(&mut f, "timezone", a.timezone);
    text(&mut f, "pad_seconds", a.pad_seconds);
    text(&mut f, "pad_before_seconds", a.pad_before_seconds);
    text(&mut f, "pad_after_seconds", a.pad_after_seconds);
    text(&mut f, "spectrograms_per_request", a.per_request);
    flag(&mut f, "clip", a.clip.then_some(true));
    text(&mut f, "gap", a.gap);
    product_fields(a.products, &mut f);
    finish(Mode::Events, &a.data_dir, &f, &a.common)
}

pub(crate) fn audio(a: AudioArgs) -> anyhow::Result<Outcome> {
    let mut f = Vec::new();
    let dir = span_fields(a.span, &mut f);
    text(&mut f, "audio_extension", a.audio_extension);
    finish(Mode::Audio, &dir, &f, &a.common)
}

pub(crate) fn requests(a: RequestsArgs) -> anyhow::Result<Outcome> {
    let pairs: Vec<(&'static str, Option<String>)> = vec![
        ("default_pad_seconds", a.default_pad_seconds),
        ("default_pad_before_seconds", a.default_pad_before_seconds),
        ("default_pad_after_seconds", a.default_pad_after_seconds),
        (
            "download_audio",
            either(a.download_audio, a.no_download_audio),
        ),
        (
            "download_spectrogram",
            a.no_download_spectrogram.then(|| "false".to_owned()),
        ),
        ("clip", either(a.clip, a.no_clip)),
        ("spectrogram_format", a.spectrogram_format),
        ("audio_extension", a.audio_extension),
        ("data_product_options", a.data_product_options),
        ("timezone", a.timezone),
        ("output_tag", a.output_tag),
        ("gap", a.gap),
        ("spectrograms_per_request", a.per_request),
    ];
    let call: Vec<(&'static str, String)> = pairs
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
    let mut m = match manifest::load_with(&a.file, &call) {
        Ok(m) => m,
        Err(e) => return Ok(bad_manifest(e, requests_flag)),
    };
    if let Some(dir) = a.data_dir {
        if let Err(message) =
            crate::manifest::fields::check_data_dir(&dir.to_string_lossy(), Path::new("."), false)
        {
            return Err(UsageError::new(format!("--data-dir: {message}")).into());
        }
        m.data_dir = dir;
    }
    save_and_run(m, "requests", &Body::Requests(&a.file, &call), &a.common)
}
