//! The hidden `hydrofetch debug` commands: `write-sample` writes files whose decoded content
//! equals `formats::sample`, and `inspect --json` reports it faithfully; bad files exit 2.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers: a failure is a test failure"
)]

use assert_cmd::Command;
use hydrofetch::formats::inspect::mat_value_json;
use hydrofetch::formats::sample::{float_audio, int_audio, mat_sample, png_sample};
use hydrofetch::formats::{Samples, encode_png, read_flac, read_mat, read_png, read_wav};
use serde_json::Value;

fn hf() -> Command {
    Command::cargo_bin("hydrofetch").unwrap()
}

fn inspect_json(path: &std::path::Path) -> Value {
    let out = hf()
        .args(["debug", "inspect", "--json"])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn write_sample_then_inspect() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    for (kind, file) in [
        ("wav16", "a.wav"),
        ("wav24", "b.wav"),
        ("wav-float", "c.wav"),
        ("flac16", "d.flac"),
        ("flac24", "e.flac"),
        ("mat", "f.mat"),
        ("mat-compressed", "g.mat"),
        ("png-rgb", "h.png"),
        ("png-rgba", "i.png"),
    ] {
        hf().args(["debug", "write-sample", kind])
            .arg(p(file))
            .assert()
            .success();
    }
    assert_eq!(
        read_wav(&p("a.wav")).unwrap(),
        int_audio(48_000, 2, 16, 10_000)
    );
    assert_eq!(
        read_wav(&p("b.wav")).unwrap(),
        int_audio(64_000, 3, 24, 10_000)
    );
    assert_eq!(
        read_wav(&p("c.wav")).unwrap(),
        float_audio(48_000, 2, 10_000)
    );
    assert_eq!(
        read_flac(&p("d.flac")).unwrap(),
        int_audio(48_000, 2, 16, 20_000)
    );
    assert_eq!(
        read_flac(&p("e.flac")).unwrap(),
        int_audio(64_000, 1, 24, 70_000)
    );
    assert_eq!(read_png(&p("h.png")).unwrap(), png_sample(3));
    assert_eq!(read_png(&p("i.png")).unwrap(), png_sample(4));
    for f in ["f.mat", "g.mat"] {
        let j = inspect_json(&p(f));
        assert_eq!(j["type"], "mat");
        let vars = read_mat(&p(f)).unwrap();
        assert_eq!(vars.len(), mat_sample().len());
        for (name, value) in mat_sample() {
            assert_eq!(j["variables"][&name], mat_value_json(&value), "{f}: {name}");
        }
        assert_eq!(j["variables"]["PSD"]["data"][1], "NaN");
        assert_eq!(j["variables"]["PSD"]["data"][2], "-Infinity");
        assert_eq!(
            j["variables"]["S"]["fields"]["inner"]["fields"]["v"]["class"],
            "int32"
        );
    }
    let j = inspect_json(&p("e.flac"));
    assert_eq!(
        (
            j["type"].as_str(),
            j["bits_per_sample"].as_u64(),
            j["frames"].as_u64()
        ),
        (Some("flac"), Some(24), Some(70_000))
    );
    let Samples::Int(want) = int_audio(64_000, 1, 24, 70_000).samples else {
        panic!()
    };
    let got: Vec<i64> = j["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    assert!(got.iter().zip(&want).all(|(a, b)| *a == i64::from(*b)) && got.len() == want.len());
    let j = inspect_json(&p("h.png"));
    assert_eq!(
        (
            j["width"].as_u64(),
            j["height"].as_u64(),
            j["channels"].as_u64()
        ),
        (Some(37), Some(23), Some(3))
    );
    // Human-readable form names classes and dims.
    let out = hf()
        .args(["debug", "inspect"])
        .arg(p("g.mat"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("PSD: double 300x7") && text.contains("inner: struct 1x1"),
        "{text}"
    );
    assert!(!encode_png(&png_sample(3)).unwrap().is_empty());
}

#[test]
fn inspect_of_a_bad_file_exits_2_with_a_typed_message() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("junk.mat");
    std::fs::write(&p, b"definitely not a mat file").unwrap();
    let out = hf().args(["debug", "inspect"]).arg(&p).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("not a wav, flac, mat or png file"), "{err}");
}
