//! Synthetic simulator data: determinism across files, events visible where listed, MAT and
//! PNG products decoded from real files on disk.

#![allow(clippy::unwrap_used, reason = "test helpers outside #[test] functions")]
use hydrofetch::atomic::write_atomic;
use hydrofetch::formats::Samples;
use hydrofetch::formats::{MatValue, find_var, read_flac, read_mat, read_png};
use hydrofetch::sim::events::{EventKind, SynthEvent, event_template, events};
use hydrofetch::sim::products::{AudioExt, MatMeta, audio_file, frames_between, hsd_mat, hsd_png};
use hydrofetch::sim::render::{self, RenderOptions, column_span, palette};
use hydrofetch::sim::signal::{SignalSpec, first_index, samples};
use hydrofetch::sim::spectro::{DATENUM_UNIX_EPOCH, Resolution, SpanInfo, spectrogram};
use hydrofetch::time::UtcInstant;
use realfft::RealFftPlanner;

fn t(s: &str) -> UtcInstant {
    UtcInstant::parse(s).unwrap()
}

fn hf6324() -> SignalSpec {
    SignalSpec::new("ICLISTENHF6324", 64_000, 24, 0)
}

fn first_call(spec: &SignalSpec, from: &str) -> SynthEvent {
    let from = t(from);
    events(spec, from, from.add_millis(3_600_000))
        .into_iter()
        .find(|e| e.kind == EventKind::Call)
        .unwrap()
}

fn meta() -> MatMeta {
    MatMeta {
        device_id: 23_000,
        device_code: "ICLISTENHF6324".into(),
        device_name: "Simulated icListen HF 6324".into(),
        location_code: "SIM".into(),
        location_name: "Simulated".into(),
        lat: 48.3,
        lon: -126.1,
        depth: 980.0,
        creation_date: t("2024-04-02T00:00:00Z"),
        citation: "synthetic".into(),
    }
}

#[test]
fn consecutive_flac_files_join_to_one_continuous_generation() {
    // Off-grid starts (ONC's drifting seconds) and a rate with 44.1 samples per ms.
    let spec = SignalSpec::new("ICLISTENAF2523", 44_100, 16, 11);
    let a = t("2024-04-01T12:04:03.007Z");
    let b = a.add_millis(300_000);
    let c = b.add_millis(300_000);
    let dir = tempfile::tempdir().unwrap();
    let mut joined = Vec::new();
    for (i, (s, e)) in [(a, b), (b, c)].into_iter().enumerate() {
        let n = frames_between(44_100, s, e);
        let bytes = audio_file(&spec, s, n, AudioExt::Flac).unwrap();
        let path = dir.path().join(format!("f{i}.flac"));
        write_atomic(&path, &bytes).unwrap();
        let decoded = read_flac(&path).unwrap();
        assert_eq!(decoded.spec.sample_rate, 44_100);
        assert_eq!(decoded.spec.bits_per_sample, 16);
        let Samples::Int(v) = decoded.samples else {
            panic!("float samples")
        };
        assert_eq!(v.len(), n);
        joined.extend(v);
    }
    let whole = samples(&spec, a, frames_between(44_100, a, c));
    assert_eq!(joined.len(), whole.len());
    assert!(
        joined == whole,
        "joined files differ from continuous generation"
    );
}

#[test]
fn same_inputs_same_samples_and_pinned_checksum() {
    let spec = hf6324();
    let s = t("2024-04-01T12:00:00Z");
    let a = samples(&spec, s, 4096);
    assert_eq!(a, samples(&spec, s, 4096));
    // Regression pin (in addition to the property tests): FNV-1a of the little-endian PCM.
    let h = a
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    assert_eq!(h, PINNED, "checksum {h:#x}");
}
const PINNED: u64 = 0x032a_fbfe_35a9_ffa8;

/// Cross-correlation of `clip` with `template` for every lag (FFT based).
fn xcorr(clip: &[i32], template: &[f64]) -> Vec<f64> {
    let n = (clip.len() + template.len()).next_power_of_two();
    let mut planner = RealFftPlanner::<f64>::new();
    let fwd = planner.plan_fft_forward(n);
    let inv = planner.plan_fft_inverse(n);
    let mut a = vec![0.0; n];
    a.iter_mut().zip(clip).for_each(|(x, &c)| *x = f64::from(c));
    let mut b = vec![0.0; n];
    b[..template.len()].copy_from_slice(template);
    let mut fa = fwd.make_output_vec();
    let mut fb = fwd.make_output_vec();
    fwd.process(&mut a, &mut fa).unwrap();
    fwd.process(&mut b, &mut fb).unwrap();
    for (x, y) in fa.iter_mut().zip(&fb) {
        *x *= y.conj();
    }
    let mut out = vec![0.0; n];
    inv.process(&mut fa, &mut out).unwrap();
    out.truncate(clip.len());
    out
}

#[test]
fn template_cross_correlation_peaks_at_listed_onset() {
    let spec = hf6324();
    for (from, pre_ms) in [("2024-04-01T12:00:00Z", 700), ("2024-04-01T13:00:00Z", 333)] {
        let ev = first_call(&spec, from);
        let clip_start = ev.start.add_millis(-pre_ms);
        let n = usize::try_from(ev.len_samples(64_000)).unwrap() + 64_000;
        let clip = samples(&spec, clip_start, n);
        let tpl = event_template(&spec, &ev);
        let c = xcorr(&clip, &tpl);
        let peak = c
            .iter()
            .enumerate()
            .fold((0, f64::MIN), |m, (i, &v)| if v > m.1 { (i, v) } else { m })
            .0;
        let want = ev.onset_index(64_000) - first_index(clip_start, 64_000);
        assert!(
            (peak as i64 - want).abs() <= 1,
            "peak {peak}, onset {want}, {ev:?}"
        );
    }
}

#[test]
fn listed_events_show_in_the_spectrogram_where_listed() {
    let spec = SignalSpec::new("ICLISTENHF6324", 16_000, 16, 0);
    let from = t("2024-04-01T12:00:00Z");
    let all = events(&spec, from, from.add_millis(12 * 3_600_000));
    let call = all.iter().find(|e| e.kind == EventKind::Call).unwrap();
    let ship = all.iter().find(|e| e.kind == EventKind::Ship).unwrap();
    // Call: 2 s of spectrogram around the middle of the call vs 10 s before its onset.
    let mid = call.start.add_millis(call.duration_ms / 2);
    let level_at = |at: UtcInstant, hz: f64| {
        let start = at.add_millis(-1000);
        let pcm = samples(&spec, start, 32_000);
        let info = SpanInfo {
            sample_rate: 16_000,
            bits_per_sample: 16,
            first_index: first_index(start, 16_000),
        };
        let sp = spectrogram(&pcm, &info, Resolution::Full);
        let target = at.unix_seconds_f64();
        let col = (0..sp.n_time())
            .min_by(|&a, &b| {
                (sp.time_unix_s[a] - target)
                    .abs()
                    .total_cmp(&(sp.time_unix_s[b] - target).abs())
            })
            .unwrap();
        let row = (0..sp.n_freq())
            .min_by(|&a, &b| {
                (sp.frequency[a] - hz)
                    .abs()
                    .total_cmp(&(sp.frequency[b] - hz).abs())
            })
            .unwrap();
        // Strongest of the nearby bins (the sweep moves within a column).
        (row.saturating_sub(6)..(row + 7).min(sp.n_freq()))
            .map(|r| sp.at(r, col))
            .fold(f64::MIN, f64::max)
    };
    let f_mid = f64::from(call.f_start_hz + call.f_end_hz) / 2.0;
    let during = level_at(mid, f_mid);
    let before = level_at(call.start.add_millis(-10_000), f_mid);
    assert!(
        during > before + 20.0,
        "call {during} vs {before} dB, {call:?}"
    );
    assert!((40.0..=140.0).contains(&before), "background {before} dB");
    // Ship: broadband level at its middle well above the level before it starts.
    let ship_mid = ship.start.add_millis(ship.duration_ms / 2);
    let during = level_at(ship_mid, 2_000.0);
    let before = level_at(ship.start.add_millis(-30_000), 2_000.0);
    assert!(
        during > before + 10.0,
        "ship {during} vs {before} dB, {ship:?}"
    );
    let line = level_at(ship_mid, f64::from(ship.f_start_hz));
    assert!(line > during, "ship line {line} vs broadband {during}");
}

#[test]
fn hsd_mat_has_onc_layout_and_axes() {
    let spec = SignalSpec::new("ICLISTENHF6324", 16_000, 24, 0);
    let start = t("2024-04-01T12:05:02Z");
    let frames = frames_between(16_000, start, start.add_millis(300_000));
    let dir = tempfile::tempdir().unwrap();
    for (res, cols, dt, df) in [
        (Resolution::Minute, 5usize, 60.0, 10.0),
        (Resolution::Plot, 857, 0.35, 30.0),
        (Resolution::Full, 1500, 0.2, 10.0),
    ] {
        let path = dir.path().join("x-spect.mat");
        write_atomic(&path, &hsd_mat(&spec, start, frames, res, &meta()).unwrap()).unwrap();
        let vars = read_mat(&path).unwrap();
        let names: Vec<&str> = vars.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["SpectData", "Meta"]);
        let sd = find_var(&vars, "SpectData").unwrap();
        let Some(MatValue::Double { dims, data: psd }) = sd.field("PSD") else {
            panic!()
        };
        let Some(MatValue::Double {
            dims: fd,
            data: freq,
        }) = sd.field("frequency")
        else {
            panic!()
        };
        let Some(MatValue::Double { data: time, .. }) = sd.field("time") else {
            panic!()
        };
        assert_eq!(dims, &vec![freq.len(), time.len()]);
        assert_eq!(fd, &vec![freq.len(), 1]);
        assert_eq!(psd.len(), freq.len() * time.len());
        assert_eq!(time.len(), cols, "{res:?}");
        for w in freq.windows(2) {
            assert!((w[1] - w[0] - df).abs() < 1e-9);
        }
        assert!(*freq.last().unwrap() <= 6_400.0 && *freq.last().unwrap() >= 6_400.0 - df);
        let secs: Vec<f64> = time
            .iter()
            .map(|d| (d - DATENUM_UNIX_EPOCH) * 86_400.0)
            .collect();
        let t0 = start.unix_seconds_f64();
        assert!(secs[0] > t0 && secs[0] < t0 + dt);
        for w in secs.windows(2).take(cols.saturating_sub(2)) {
            assert!((w[1] - w[0] - dt).abs() < 1e-3, "{res:?} {}", w[1] - w[0]);
        }
        assert!(*secs.last().unwrap() < t0 + 300.0);
        assert!(psd.iter().all(|v| (20.0..160.0).contains(v)), "{res:?}");
        assert!(
            matches!(sd.field("processingComment"), Some(MatValue::Char(s)) if s.contains("Hann"))
        );
        let m = find_var(&vars, "Meta").unwrap();
        assert!(
            matches!(m.field("deviceCategoryCode"), Some(MatValue::Char(s)) if s == "HYDROPHONE")
        );
        assert!(
            matches!(m.field("sampleRate"), Some(MatValue::Double { data, .. }) if data == &[16_000.0])
        );
    }
}

#[test]
fn png_has_onc_geometry_and_time_ordered_columns() {
    let spec = SignalSpec::new("ICLISTENHF6324", 16_000, 16, 0);
    let ev = first_call(&spec, "2024-04-01T12:00:00Z");
    // A 60 s plot with the call 20 s in.
    let start = ev.start.add_millis(-20_000);
    let frames = frames_between(16_000, start, start.add_millis(60_000));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p-spect.png");
    let opts = RenderOptions {
        freq_upper_hz: Some(6_000.0),
        ..RenderOptions::default()
    };
    write_atomic(&path, &hsd_png(&spec, start, frames, &opts).unwrap()).unwrap();
    let img = read_png(&path).unwrap();
    assert_eq!((img.width, img.height, img.channels), (1200, 900, 3));
    let px = |x: u32, y: u32| img.get(x, y).unwrap().to_vec();
    // Frame just outside the data box, white page around it.
    for y in [65, 300, 810] {
        assert_eq!(px(106, y), [0, 0, 0]);
        assert_eq!(px(1040, y), [0, 0, 0]);
    }
    for x in [106, 500, 1040] {
        assert_eq!(px(x, 65), [0, 0, 0]);
        assert_eq!(px(x, 810), [0, 0, 0]);
    }
    assert_eq!(px(104, 300), [255, 255, 255]);
    assert_eq!(px(1060, 300), [255, 255, 255]);
    // Data columns: contiguous, monotonic, covering the span exactly.
    let info = SpanInfo {
        sample_rate: 16_000,
        bits_per_sample: 16,
        first_index: first_index(start, 16_000),
    };
    let spans: Vec<(f64, f64)> = (render::DATA_LEFT..render::DATA_RIGHT)
        .map(|x| column_span(&info, frames, x).unwrap())
        .collect();
    assert_eq!(spans.len(), 933);
    assert!((spans[0].0 - start.unix_seconds_f64()).abs() < 1e-3);
    assert!((spans[932].1 - start.unix_seconds_f64() - 60.0).abs() < 1e-3);
    assert!(
        spans
            .windows(2)
            .all(|w| w[0].1 == w[1].0 && w[0].0 < w[1].0)
    );
    assert!(column_span(&info, frames, 106).is_none());
    // The call is bright in the column showing its middle at its mid frequency, and that row is
    // dark 10 s before the call.
    let mid = ev.start.add_millis(ev.duration_ms / 2).unix_seconds_f64();
    let x_mid = render::DATA_LEFT
        + u32::try_from(spans.iter().position(|s| s.0 <= mid && mid < s.1).unwrap()).unwrap();
    let x_before = x_mid - u32::try_from(933 * 10 / 60).unwrap();
    let f_mid = f64::from(ev.f_start_hz + ev.f_end_hz) / 2.0;
    let y_mid = 809 - (f_mid / 6_000.0 * 744.0) as u32;
    // Read levels back through the palette (nearest of 1001 palette colours -> dB).
    let to_db = |rgb: &[u8]| {
        (0..=1000)
            .map(|i| f64::from(i) / 1000.0)
            .min_by_key(|&f| {
                let c = palette::colour(0, f);
                c.iter()
                    .zip(rgb)
                    .map(|(&a, &b)| (i32::from(a) - i32::from(b)).pow(2))
                    .sum::<i32>()
            })
            .unwrap()
            * 100.0
            + 40.0
    };
    let level = |x: u32| {
        (y_mid - 4..y_mid + 5)
            .map(|y| to_db(&px(x, y)))
            .fold(f64::MIN, f64::max)
    };
    let (during, before) = (level(x_mid), level(x_before));
    assert!(during > before + 15.0, "{during} vs {before} dB");
}
