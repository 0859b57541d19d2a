//! Clipping end to end against the simulator: the seed's JSON example (a 30 s audio clip
//! joined across two 5-minute files, exact to the sample; a MAT clip whose time axis spans the
//! window), an event found at its padded offset, archive gaps, and the dataset index.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use common::{FAST, Sim, files_with, hf, output};
use hydrofetch::clip::GapPolicy;
use hydrofetch::clip::audio::{AudioFormat, AudioSource, clip_audio};
use hydrofetch::clip::mat::{clip_mat, datenum_to_instant};
use hydrofetch::formats::{self, MatValue, Samples};
use hydrofetch::sim::events::{EventKind, SynthEvent, event_template};
use hydrofetch::sim::signal::{SignalSpec, samples};
use hydrofetch::time::UtcInstant;
use std::path::{Path, PathBuf};

const DEVICE: &str = "ICLISTENHF6324";

fn spec() -> SignalSpec {
    SignalSpec::new(DEVICE, 64_000, 24, 0)
}

fn t(s: &str) -> UtcInstant {
    UtcInstant::parse(s).unwrap()
}

fn run(sim: &Sim, manifest: &Path) -> (i32, String) {
    let mut c = hf(sim);
    c.arg("run").arg(manifest).args(FAST).arg("--verbose");
    let (code, out, err) = output(c);
    (code, format!("{out}\n{err}"))
}

fn index(dir: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(dir.join("data/index.json")).expect("index.json");
    serde_json::from_str::<serde_json::Value>(&text)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn clip_row<'a>(
    rows: &'a [serde_json::Value],
    product: &str,
    label: &str,
) -> &'a serde_json::Value {
    rows.iter()
        .find(|r| r["kind"] == "clip" && r["product"] == product && r["label"] == label)
        .unwrap_or_else(|| panic!("no {product} clip labelled {label:?} in {rows:#?}"))
}

fn read_ints(path: &Path) -> Vec<i32> {
    let a = formats::read_flac(path)
        .or_else(|_| formats::read_wav(path))
        .unwrap();
    assert_eq!(
        (a.spec.sample_rate, a.spec.channels, a.spec.bits_per_sample),
        (64_000, 1, 24)
    );
    match a.samples {
        Samples::Int(v) => v,
        Samples::Float(_) => panic!("float samples"),
    }
}

#[test]
fn seed_json_example_clips_audio_to_the_sample_and_mat_to_the_window() {
    let sim = Sim::start(&["--time-scale", "0.001"]);
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("requests.json");
    std::fs::copy("manifests/requests-seed.json", &manifest).unwrap();
    let (code, log) = run(&sim, &manifest);
    assert_eq!(code, 0, "{log}");

    let rows = index(dir.path());
    // 12:34:50 ± 15 s: 30 s from 12:34:35, joined from the files starting 12:30:03 and 12:35:03.
    let audio = clip_row(&rows, "audio", "whale call 1");
    assert_eq!(audio["start"], "2024-04-01T12:34:35.000Z");
    assert_eq!(audio["end"], "2024-04-01T12:35:05.000Z");
    let sources = audio["sources"].as_array().unwrap();
    assert!(
        sources
            .iter()
            .any(|s| s.as_str().unwrap().ends_with("20240401T123003.000Z.flac")),
        "{sources:?}"
    );
    assert!(
        sources
            .iter()
            .any(|s| s.as_str().unwrap().ends_with("20240401T123503.000Z.flac")),
        "{sources:?}"
    );
    let got = read_ints(
        &dir.path()
            .join("data")
            .join(audio["path"].as_str().unwrap()),
    );
    assert_eq!(got.len(), 30 * 64_000);
    let want = samples(&spec(), t("2024-04-01T12:34:35Z"), 30 * 64_000);
    assert!(got == want, "the clip differs from the continuous signal");

    // The MAT clip's time axis covers the window to within one column.
    let mat = clip_row(&rows, "spectrogram", "whale call 1");
    let vars =
        formats::read_mat(&dir.path().join("data").join(mat["path"].as_str().unwrap())).unwrap();
    let spect = formats::find_var(&vars, "SpectData").unwrap();
    let Some(MatValue::Double { data: times, .. }) = spect.field("time") else {
        panic!("time")
    };
    let Some(MatValue::Double { dims, .. }) = spect.field("PSD") else {
        panic!("PSD")
    };
    assert_eq!(dims[1], times.len());
    let to_ms = |d: f64| ((d - 719_529.0) * 86_400_000.0).round() as i64;
    let step = to_ms(times[1]) - to_ms(times[0]);
    let (w0, w1) = (
        t("2024-04-01T12:34:35Z").unix_millis(),
        t("2024-04-01T12:35:05Z").unix_millis(),
    );
    assert!(
        (to_ms(times[0]) - step / 2 - w0).abs() <= step,
        "first column {} vs {w0}",
        to_ms(times[0])
    );
    assert!((to_ms(times[times.len() - 1]) + step / 2 - w1).abs() <= step);
    // Meta names both source files, and its dateFrom/dateTo are the clip's window (ONC's
    // format), not the first source file's times.
    let meta = formats::find_var(&vars, "Meta").unwrap();
    let Some(MatValue::Char(src)) = meta.field("sourceFiles") else {
        panic!("sourceFiles")
    };
    assert!(src.contains("T123003") && src.contains("T123503"), "{src}");
    assert_eq!(
        (meta.field("dateFrom"), meta.field("dateTo")),
        (
            Some(&MatValue::Char("2024-04-01T12:34:35.000Z".into())),
            Some(&MatValue::Char("2024-04-01T12:35:05.000Z".into()))
        ),
        "{meta:?}"
    );

    // The second request (12:29:50–12:33:50) is a 240 s clip.
    let ship = clip_row(&rows, "audio", "ship noise event");
    assert_eq!(
        read_ints(&dir.path().join("data").join(ship["path"].as_str().unwrap())).len(),
        240 * 64_000
    );

    // Re-running re-clips nothing and fetches nothing.
    let mut c = hf(&sim);
    c.arg("run").arg(&manifest).arg("--json").args(FAST);
    let (code, out, _) = output(c);
    assert_eq!(code, 0);
    let summary: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(summary["http_requests"], 0, "{summary}");
    assert_eq!(summary["items"]["fetched"], 0, "{summary}");
}

#[test]
fn an_event_sits_at_its_padding_offset_in_the_clip() {
    let sim = Sim::start(&["--time-scale", "0.001"]);
    let url = format!(
        "{}sim/events?deviceCode={DEVICE}&dateFrom=2024-04-01T12:00:00.000Z&dateTo=2024-04-01T14:00:00.000Z",
        sim.url
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let body = rt
        .block_on(async { reqwest::get(url).await?.text().await })
        .unwrap();
    let listed: serde_json::Value = serde_json::from_str(&body).unwrap();
    // Each listed event carries its full description under `event`.
    let events: Vec<SynthEvent> = listed["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| serde_json::from_value(e["event"].clone()).unwrap())
        .collect();
    let ev = events
        .iter()
        .find(|e| e.kind == EventKind::Call)
        .expect("a call between 12:00 and 14:00")
        .clone();

    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("event.json");
    let doc = serde_json::json!({
        "defaults": { "clip": true, "download_audio": true, "download_spectrogram": false },
        "requests": [{ "deviceCode": DEVICE, "timestamp": ev.start.to_onc_string(),
                       "pad_before_seconds": 7.5, "pad_after_seconds": 5, "label": "call" }]
    });
    std::fs::write(&manifest, doc.to_string()).unwrap();
    let (code, log) = run(&sim, &manifest);
    assert_eq!(code, 0, "{log}");
    let rows = index(dir.path());
    let clip = read_ints(
        &dir.path()
            .join("data")
            .join(clip_row(&rows, "audio", "call")["path"].as_str().unwrap()),
    );
    assert_eq!(clip.len(), 800_000);

    // Cross-correlate with the event's own waveform around the expected onset (7.5 s in).
    let template = event_template(&spec(), &ev);
    let n = template.len().min(64_000);
    let expected = 480_000_i64;
    let score = |lag: i64| -> f64 {
        let at = usize::try_from(lag).unwrap();
        (0..n).map(|i| f64::from(clip[at + i]) * template[i]).sum()
    };
    let best = (expected - 400..=expected + 400)
        .max_by(|a, b| score(*a).total_cmp(&score(*b)))
        .unwrap();
    assert!(
        (best - expected).abs() <= 1,
        "event found at sample {best}, expected {expected}"
    );
}

#[test]
fn a_clip_over_the_archive_gap_follows_the_gap_policy() {
    // ICLISTENHF6324 has no data 2024-04-02 02:57:40–07:20:06 in the simulator's catalogue; the
    // file before the gap is short (02:55:03–02:57:40).
    let sim = Sim::start(&["--time-scale", "0.001"]);
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("gap.csv");
    std::fs::write(
        &csv,
        "deviceCode,start,end,clip,download_audio,download_spectrogram,gap,label\n\
         ICLISTENHF6324,2024-04-02T02:57:00Z,2024-04-02T02:58:30Z,true,true,false,fail,strict\n\
         ICLISTENHF6324,2024-04-02T02:57:30Z,2024-04-02T02:58:30Z,true,true,false,pad,padded\n\
         ICLISTENHF6324,2024-04-02T02:57:00Z,2024-04-02T07:21:00Z,true,true,false,split,split\n",
    )
    .unwrap();
    let (code, log) = run(&sim, &csv);
    assert_eq!(code, 1, "the strict clip fails: {log}");
    assert!(log.contains("no data for part of the clip window"), "{log}");
    let rows = index(dir.path());
    let padded = clip_row(&rows, "audio", "padded");
    assert!(!padded["gaps"].as_array().unwrap().is_empty(), "{padded}");
    let got = read_ints(
        &dir.path()
            .join("data")
            .join(padded["path"].as_str().unwrap()),
    );
    assert_eq!(got.len(), 60 * 64_000);
    // 10 s of real signal, then silence where the archive has nothing.
    assert!(
        got == [
            samples(&spec(), t("2024-04-02T02:57:30Z"), 10 * 64_000),
            vec![0; 50 * 64_000]
        ]
        .concat()
    );
    // The split clip: one index row per part, each with its own span and only the source file
    // that overlaps it.
    let mut parts: Vec<&serde_json::Value> = rows
        .iter()
        .filter(|r| r["kind"] == "clip" && r["label"] == "split")
        .collect();
    parts.sort_by_key(|r| r["start"].as_str().unwrap().to_owned());
    assert_eq!(parts.len(), 2, "{rows:#?}");
    assert_eq!(parts[0]["start"], "2024-04-02T02:57:00.000Z");
    assert_eq!(parts[0]["end"], "2024-04-02T02:57:40.000Z");
    assert_eq!(parts[1]["start"], "2024-04-02T07:20:06.000Z");
    assert_eq!(parts[1]["end"], "2024-04-02T07:21:00.000Z");
    let srcs = |r: &serde_json::Value| -> Vec<String> {
        r["sources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().rsplit('/').next().unwrap().to_owned())
            .collect()
    };
    assert_eq!(srcs(parts[0]), ["ICLISTENHF6324_20240402T025503.000Z.flac"]);
    assert_eq!(srcs(parts[1]), ["ICLISTENHF6324_20240402T072006.000Z.flac"]);
    assert_eq!(files_with(&dir.path().join("data/clips"), "flac").len(), 3);

    // The failed clip is not locked: the next run tries it again (its sources are done, so
    // without the network) and counts it as failed again.
    let before = sim.api_requests();
    let (code, log) = run(&sim, &csv);
    assert_eq!(code, 1, "the strict clip fails again: {log}");
    assert!(log.contains("1 failed"), "{log}");
    assert_eq!(
        sim.api_requests(),
        before,
        "no request for sources already done"
    );
}

/// Fetches (no clipping) ICLISTENHF6324's audio and MAT files on both sides of the archive gap
/// (2024-04-02 02:57:40–07:20:06; the file before it starts 02:55:03 and is 157 s long, the
/// one after starts 07:20:06); returns the data folder.
fn fetch_around_the_gap(sim: &Sim, dir: &Path) -> PathBuf {
    let csv = dir.join("around-gap.csv");
    std::fs::write(
        &csv,
        "deviceCode,start,end,download_audio\n\
         ICLISTENHF6324,2024-04-02T02:54:00Z,2024-04-02T02:57:40Z,true\n\
         ICLISTENHF6324,2024-04-02T07:20:00Z,2024-04-02T07:21:00Z,true\n",
    )
    .unwrap();
    let (code, log) = run(sim, &csv);
    assert_eq!(code, 0, "{log}");
    dir.join("data")
}

/// Source files of one kind under the device's folder, with their start from their ONC name.
fn downloaded(data: &Path, kind: &str, ext: &str) -> Vec<(PathBuf, UtcInstant)> {
    files_with(&data.join(DEVICE).join(kind), ext)
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_str().unwrap().to_owned();
            (p, UtcInstant::from_file_name(&name).unwrap())
        })
        .collect()
}

fn named<'a>(files: &'a [(PathBuf, UtcInstant)], stamp: &str) -> &'a PathBuf {
    &files
        .iter()
        .find(|(p, _)| p.to_str().unwrap().contains(stamp))
        .unwrap_or_else(|| panic!("no file {stamp} in {files:?}"))
        .0
}

#[test]
fn split_clip_parts_carry_their_own_span_and_sources() {
    let sim = Sim::start(&["--time-scale", "0.001"]);
    let dir = tempfile::tempdir().unwrap();
    let data = fetch_around_the_gap(&sim, dir.path());
    let audio = downloaded(&data, "audio", "flac");
    let before = named(&audio, "20240402T025503.000Z");
    let after = named(&audio, "20240402T072006.000Z");
    let sources: Vec<AudioSource> = audio
        .iter()
        .map(|(path, start)| AudioSource {
            path: path.clone(),
            start: *start,
        })
        .collect();

    // Across the gap, split: one part before it and one after, each with its own span.
    let (w0, w1) = (t("2024-04-02T02:57:00Z"), t("2024-04-02T07:20:30Z"));
    let out = dir.path().join("split.wav");
    let clip = clip_audio(&sources, w0, w1, &out, AudioFormat::Wav, GapPolicy::Split).unwrap();
    assert_eq!(clip.outputs.len(), 2, "{clip:?}");
    let spans: Vec<(UtcInstant, UtcInstant)> =
        clip.outputs.iter().map(|o| (o.start, o.end)).collect();
    assert_eq!(
        spans,
        [
            (w0, t("2024-04-02T02:57:40Z")),
            (t("2024-04-02T07:20:06Z"), w1)
        ]
    );
    for part in &clip.outputs {
        // The file holds exactly its span's samples (64 per millisecond at 64 kHz), and they
        // are the device's signal from the span's start.
        let got = read_ints(&part.path);
        let ms = part.end.millis_since(part.start);
        assert_eq!(got.len() as i64, ms * 64, "{}", part.path.display());
        assert!(
            got == samples(&spec(), part.start, got.len()),
            "{} is not the signal from {}",
            part.path.display(),
            part.start
        );
    }
    assert_eq!(clip.outputs[0].sources, std::slice::from_ref(before));
    assert_eq!(clip.outputs[1].sources, std::slice::from_ref(after));

    // A clip inside one file lists only that file, whatever else it was given.
    assert!(sources.len() >= 2, "{audio:?}");
    let inside = clip_audio(
        &sources,
        t("2024-04-02T02:56:00Z"),
        t("2024-04-02T02:56:30Z"),
        &dir.path().join("inside.flac"),
        AudioFormat::Flac,
        GapPolicy::Fail,
    )
    .unwrap();
    assert_eq!(inside.outputs.len(), 1);
    assert_eq!(inside.outputs[0].sources, std::slice::from_ref(before));

    // MAT: each part's span is the data it holds (ONC columns stand for their averaging
    // period: exact to the column, within a 50 ms analysis hop of the file's ends), and its
    // Meta.dateFrom/dateTo say so.
    let mats = downloaded(&data, "spectrograms", "mat");
    let mat_paths: Vec<PathBuf> = mats.iter().map(|(p, _)| p.clone()).collect();
    let clip = clip_mat(
        &mat_paths,
        w0,
        w1,
        &dir.path().join("split.mat"),
        GapPolicy::Split,
    )
    .unwrap();
    assert_eq!(clip.outputs.len(), 2, "{clip:?}");
    let near = |a: UtcInstant, b: &str| (a.millis_since(t(b))).abs() <= 50;
    let (p1, p2) = (&clip.outputs[0], &clip.outputs[1]);
    assert_eq!(p1.start, w0);
    assert!(near(p1.end, "2024-04-02T02:57:40Z"), "{p1:?}");
    assert!(near(p2.start, "2024-04-02T07:20:06Z"), "{p2:?}");
    assert_eq!(p2.end, w1);
    for (part, stamp) in [(p1, "T025503"), (p2, "T072006")] {
        let vars = formats::read_mat(&part.path).unwrap();
        let spect = formats::find_var(&vars, "SpectData").unwrap();
        let Some(MatValue::Double { data: times, .. }) = spect.field("time") else {
            panic!("time")
        };
        // Every one-minute column overlaps the part's span.
        assert!(!times.is_empty());
        for d in times {
            let c = datenum_to_instant(*d);
            assert!(
                c.add_millis(-30_000) < part.end && c.add_millis(30_000) > part.start,
                "column at {c} outside {part:?}"
            );
        }
        let meta = formats::find_var(&vars, "Meta").unwrap();
        assert_eq!(
            (meta.field("dateFrom"), meta.field("dateTo")),
            (
                Some(&MatValue::Char(part.start.to_onc_string())),
                Some(&MatValue::Char(part.end.to_onc_string()))
            )
        );
        assert_eq!(part.sources.len(), 1, "{part:?}");
        assert!(
            part.sources[0].to_str().unwrap().contains(stamp),
            "{part:?}"
        );
    }
}
