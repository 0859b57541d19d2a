//! The command-line shortcuts `range`, `sample`, `events`, `audio` and `requests FILE`: they
//! build the same [`Manifest`](crate::manifest::Manifest) a manifest file would (same rules,
//! same messages) and, with `--plan`, print its plan; otherwise they run it as `run` does.

use super::Outcome;
use super::plan::{LimitArgs, print_manifest_error, print_plan};
use super::run::{NetArgs, OutputArgs, StateArgs, run_manifests};
use crate::manifest::{self, CliValue, Mode};
use crate::ops::Manifests;
use std::path::PathBuf;

/// Options every shortcut takes.
#[derive(Debug, clap::Args)]
pub(crate) struct Common {
    /// Print the plan instead of running (with --json: the plan as JSON).
    #[arg(long)]
    plan: bool,
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
    #[arg(long)]
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

fn finish(
    mode: Mode,
    data_dir: &std::path::Path,
    fields: Vec<(&str, CliValue)>,
    common: &Common,
) -> anyhow::Result<Outcome> {
    match manifest::from_command_line(mode, data_dir, fields) {
        Ok(m) => run_or_plan(m, common),
        Err(e) => {
            print_manifest_error(&e);
            Ok(Outcome::BadInput)
        }
    }
}

fn run_or_plan(m: manifest::Manifest, common: &Common) -> anyhow::Result<Outcome> {
    let m = Manifests::Loaded(vec![m]);
    if common.plan {
        print_plan(m, common.out.json(), common.limits)
    } else {
        run_manifests(m, &common.net, common.out, &common.state, common.limits)
    }
}

pub(crate) fn range(a: RangeArgs) -> anyhow::Result<Outcome> {
    let mut f = Vec::new();
    let dir = span_fields(a.span, &mut f);
    text(&mut f, "spectrograms_per_batch", a.per_batch);
    product_fields(a.products, &mut f);
    finish(Mode::Range, &dir, f, &a.common)
}

pub(crate) fn sample(a: SampleArgs) -> anyhow::Result<Outcome> {
    let mut f = Vec::new();
    let dir = span_fields(a.span, &mut f);
    text(&mut f, "total_spectrograms", a.total);
    text(&mut f, "spectrograms_per_request", a.per_request);
    product_fields(a.products, &mut f);
    finish(Mode::Sample, &dir, f, &a.common)
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
    product_fields(a.products, &mut f);
    finish(Mode::Events, &a.data_dir, f, &a.common)
}

pub(crate) fn audio(a: AudioArgs) -> anyhow::Result<Outcome> {
    let mut f = Vec::new();
    let dir = span_fields(a.span, &mut f);
    text(&mut f, "audio_extension", a.audio_extension);
    finish(Mode::Audio, &dir, f, &a.common)
}

pub(crate) fn requests(a: RequestsArgs) -> anyhow::Result<Outcome> {
    let pairs: Vec<(&str, Option<String>)> = vec![
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
    let call: Vec<(&str, String)> = pairs
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
    match manifest::load_with(&a.file, &call) {
        Ok(m) => run_or_plan(m, &a.common),
        Err(e) => {
            print_manifest_error(&e);
            Ok(Outcome::BadInput)
        }
    }
}
