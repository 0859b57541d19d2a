//! Every validation error names the file, the line/column or CSV row, the field, what was found
//! and what was expected; all errors of a file are reported at once; exit code 2. The full
//! stderr of every case is pinned as a snapshot (`tests/it/snapshots/it__manifest_errors__*`).

use crate::harness::{Hf, hf_snapshot};

/// `hydrofetch plan FILE` in a folder holding `files` (the first is planned): exit 2, nothing
/// on stdout, stderr pinned as snapshot `snapshot` and returned.
fn plan_err(snapshot: &str, files: &[(&str, &str)]) -> String {
    let mut hf = Hf::new();
    for (name, text) in files {
        hf = hf.manifest(name, text);
    }
    let ran = hf.args(["plan", files[0].0]).expect_exit(2).run();
    assert!(ran.stdout.is_empty(), "stdout: {}", ran.stdout);
    hf_snapshot!(snapshot, &ran.stderr);
    ran.stderr
}

const BAD_CSV: &str = "\u{feff}deviceCode,timestamp,start,end,pad_seconds,timezone,data_product_options,spectrogram_format,audio_extension,download_audio,duration_seconds\r
,2024-04-01T12:00:00Z,,,,,,,,,\r
ICLISTENHF6324,2024-04-01T12:00:00Z,2024-04-01T12:00:00Z,,,,,,,,\r
ICLISTENHF6324,,2024-04-01T12:10:00Z,2024-04-01T12:00:00Z,,,,,,,\r
ICLISTENHF6324,2024-04-01T12:00:00Z,,,-5,,,,,,\r
ICLISTENHF6324,2024-04-01 12:00:00,,,,Mars/Olympus,,,,,\r
ICLISTENHF6324,2024-03-10 02:30:00,,,,America/Vancouver,,,,,\r
ICLISTENHF6324,2024-11-03 01:30:00,,,,America/Vancouver,,,,,\r
ICLISTENHF6324,2024-04-01T25:00:00Z,,,,,,,,,\r
ICLISTENHF6324,2024-04-01T12:00:00Z,,,,,\"[1,2]\",,,,\r
ICLISTENHF6324,2024-04-01T12:00:00Z,,,,,\"{\"\"spectralDataDownsample\"\": 2}\",,,,\r
ICLISTENHF6324,2024-04-01T12:00:00Z,,,,,,jpg,,,\r
ICLISTENHF6324,2024-04-01T12:00:00Z,,,,,,,mp3,,\r
ICLISTENHF6324,2024-04-01T12:00:00Z,,,,,,,,perhaps,\r
ICLISTENHF6324,,2024-04-01T12:00:00Z,,,,,,,,-30\r
ICLISTENHF6324,2024-04-01T12:00:00Z,,,,,,,,YES,\r
ICLISTENHF6324,2024-04-01T12:00:00Z,,,,,\"not json\",,,,\r
";

#[test]
fn csv_errors_name_row_and_column() {
    let err = plan_err("csv_errors", &[("bad.csv", BAD_CSV)]);
    let f = "bad.csv";
    let expect = [
        (2, "deviceCode", "is missing; expected a device code"),
        (3, "start", "found both `timestamp`"),
        (
            4,
            "end",
            "found 2024-04-01T12:00:00.000Z, expected a time not before start 2024-04-01T12:10:00.000Z",
        ),
        (
            5,
            "pad_seconds",
            "found \"-5\", expected a non-negative number of seconds",
        ),
        (6, "timezone", "`Mars/Olympus` is not a time zone"),
        (7, "timestamp", "does not exist in America/Vancouver"),
        (
            8,
            "timestamp",
            "is ambiguous in America/Vancouver: it occurs twice, as 2024-11-03T08:30:00.000Z and as 2024-11-03T09:30:00.000Z",
        ),
        (
            9,
            "timestamp",
            "`2024-04-01T25:00:00Z` is not an ISO 8601 time",
        ),
        (
            10,
            "data_product_options",
            "found an array, expected a JSON object",
        ),
        (
            11,
            "data_product_options.spectralDataDownsample",
            "expected a name starting with `dpo_`",
        ),
        (
            12,
            "spectrogram_format",
            "found \"jpg\", expected one of `mat`, `png`",
        ),
        (
            13,
            "audio_extension",
            "found \"mp3\", expected one of `flac`, `wav`",
        ),
        (
            14,
            "download_audio",
            "found \"perhaps\", expected a boolean",
        ),
        (
            15,
            "duration_seconds",
            "found \"-30\", expected a non-negative number of seconds",
        ),
        (
            17,
            "data_product_options",
            "found \"not json\", expected a JSON object",
        ),
    ];
    for (row, field, msg) in expect {
        let head = format!("{f}: row {row}, column `{field}`: ");
        assert!(
            err.lines().any(|l| l.contains(&head) && l.contains(msg)),
            "missing `{head}{msg}` in:\n{err}"
        );
    }
    // Row 16 (YES) is valid; exactly one error per bad row.
    assert!(!err.contains("row 16,"), "{err}");
    assert!(
        err.starts_with(&format!("error: {f} has 15 errors")),
        "{err}"
    );
}

#[test]
fn csv_unknown_column_suggests_and_other_rows_still_checked() {
    let err = plan_err(
        "csv_unknown_column",
        &[(
            "r.csv",
            "deviceCode,timestamp,pad_secs\nX,2024-04-01T12:00:00Z,5\nX,bad,5\n",
        )],
    );
    assert!(
        err.contains(
            "row 1, column `pad_secs`: unknown field `pad_secs` (did you mean `pad_seconds`?)"
        ),
        "{err}"
    );
    assert!(
        err.contains("row 3, column `timestamp`: `bad` is not an ISO 8601 time"),
        "{err}"
    );
}

#[test]
fn json_errors_name_line_column_and_request() {
    let text = r#"{
  "defaults": { "pad_secnds": 5 },
  "requests": [
    { "deviceCode": "X", "timestamp": "2024-04-01T12:00:00Z", "start": "2024-04-01T12:00:00Z" },
    { "timestamp": "2024-04-01T12:00:00Z" },
    { "deviceCode": "X", "timestamp": "2024-04-01T12:00:00Z", "pad_seconds": -1,
      "data_product_options": "{\"dpo_a\": 1}", "spectrogram_format": "tiff", "clip": "yes" },
    { "deviceCode": "X", "start": "2024-04-01T12:00:00Z", "end": "2024-04-01T11:00:00Z" },
    { "deviceCode": "X", "timestamp": "2024-04-01T12:00:00", "timezone": "Nowhere/City" }
  ]
}"#;
    let err = plan_err("json_errors", &[("bad.json", text)]);
    let f = "bad.json";
    for line in [
        format!(
            "{f}:2:17: `defaults.pad_secnds`: unknown field `pad_secnds` (did you mean `pad_seconds`?)"
        ),
        format!("{f}:4:72: `requests[0].start`: found both `timestamp`"),
        format!("{f}:5:5: `requests[1].deviceCode`: is missing"),
        format!(
            "{f}:6:78: `requests[2].pad_seconds`: found -1, expected a non-negative number of seconds"
        ),
        format!(
            "{f}:7:31: `requests[2].data_product_options`: found \"{{\\\"dpo_a\\\": 1}}\", expected a JSON object"
        ),
        format!(
            "{f}:7:71: `requests[2].spectrogram_format`: found \"tiff\", expected one of `mat`, `png`"
        ),
        format!("{f}:7:87: `requests[2].clip`: found \"yes\", expected a boolean (true or false)"),
        format!(
            "{f}:8:66: `requests[3].end`: found 2024-04-01T11:00:00.000Z, expected a time not before start"
        ),
        format!("{f}:9:74: `requests[4].timezone`: `Nowhere/City` is not a time zone"),
    ] {
        assert!(
            err.lines().any(|l| l.trim_start().starts_with(&line)),
            "missing `{line}` in:\n{err}"
        );
    }
    assert!(
        err.starts_with(&format!("error: {f} has 9 errors")),
        "{err}"
    );
}

#[test]
fn json_syntax_error_has_line_and_column() {
    let err = plan_err(
        "json_syntax",
        &[(
            "broken.json",
            "{\n  \"requests\": [\n    {\"deviceCode\": \"X\",}\n  ]\n}\n",
        )],
    );
    assert!(
        err.contains("broken.json:3:24: `syntax`: key must be a string"),
        "{err}"
    );
}

#[test]
fn toml_manifest_errors() {
    let text = r#"version = 1
[defaults]
device = "ICLISTENHF6324"

[[range]]
start = "2024-04-01T12:00:00Z"
end = "2024-04-01T12:00:00Z"
spectrograms_per_batch = 0

[[sample]]
start = "2024-04-01T00:00:00Z"
end = "2024-04-01T01:00:00Z"
total_spectrograms = 13
spectrograms_per_request = -2

[[events]]
times = ["2024-04-01T12:05:00Z", "yesterday"]
pad_seconds = -3

[[audio]]
start = "2024-04-01T12:00:00Z"
ends = "2024-04-01T13:00:00Z"
"#;
    let err = plan_err("toml_errors", &[("bad.toml", text)]);
    let f = "bad.toml";
    for line in [
        format!(
            "{f}:7:7: `range[0].end`: found 2024-04-01T12:00:00.000Z, expected a time after start 2024-04-01T12:00:00.000Z (the range is empty)"
        ),
        format!(
            "{f}:8:26: `range[0].spectrograms_per_batch`: found 0, expected a positive whole number"
        ),
        format!(
            "{f}:14:28: `sample[0].spectrograms_per_request`: found -2, expected a positive whole number"
        ),
        "`sample[0].total_spectrograms`: found 13, expected at most 12".to_owned(),
        format!("{f}:17:34: `events[0].times[1]`: `yesterday` is not an ISO 8601 time"),
        format!(
            "{f}:18:15: `events[0].pad_seconds`: found -3, expected a non-negative number of seconds"
        ),
        format!("{f}:22:1: `audio[0].ends`: unknown field `ends` (did you mean `end`?)"),
        "`audio[0].end`: is missing".to_owned(),
    ] {
        assert!(err.contains(&line), "missing `{line}` in:\n{err}");
    }
}

#[test]
fn yaml_strict_booleans_and_locations() {
    let text = "version: 1\ndefaults:\n  device: X\nrange:\n  - start: 2024-04-01T12:00:00Z\n    end: 2024-04-01T13:00:00Z\n    download_audio: yes\n";
    let err = plan_err("yaml_errors", &[("bad.yaml", text)]);
    assert!(
        err.contains(
            "bad.yaml:7:21: `range[0].download_audio`: found \"yes\", expected a boolean (true or false)"
        ),
        "{err}"
    );
}

#[test]
fn clashing_outputs_are_a_plan_error() {
    let err = plan_err(
        "clashing_outputs",
        &[(
            "clash.csv",
            "deviceCode,timestamp,clip,output_name\nX,2024-04-01T12:00:00Z,yes,a b\nX,2024-04-01T13:00:00Z,yes,a b\nX,2024-04-01T14:00:00Z,yes,ok\n",
        )],
    );
    assert!(err.contains("two clips would write clips/a b.mat"), "{err}");
    assert!(err.contains("row 2") && err.contains("row 3"), "{err}");
}

#[test]
fn referenced_request_file_errors_name_that_file() {
    let err = plan_err(
        "referenced_request_file",
        &[
            (
                "m.toml",
                "version = 1\n[[requests]]\nfile = \"ev.csv\"\ndefault_pad_secs = 3\n[[requests]]\nfile = \"missing.csv\"\n",
            ),
            (
                "ev.csv",
                "deviceCode,timestamp\nX,2024-04-01T12:00:00Z\n,2024-04-01T12:00:00Z\n",
            ),
        ],
    );
    assert!(err.contains("`requests[0].default_pad_secs`: unknown field `default_pad_secs` (did you mean `default_pad_seconds`?)"), "{err}");
    assert!(
        err.contains("ev.csv: row 3, column `deviceCode`: is missing"),
        "{err}"
    );
    assert!(
        err.contains("`requests[1].file`: cannot read the request file"),
        "{err}"
    );
}

#[test]
fn command_line_errors_exit_2() {
    let seed = std::fs::read_to_string("manifests/requests-seed.csv").unwrap();
    let ran = Hf::new()
        .manifest("requests-seed.csv", &seed)
        .args([
            "requests",
            "requests-seed.csv",
            "--default-pad-seconds=-4",
            "--plan",
        ])
        .expect_exit(2)
        .run();
    assert!(ran.stderr.contains("<command line>: `--default-pad-seconds`: found \"-4\", expected a non-negative number of seconds"), "{}", ran.stderr);
    hf_snapshot!("command_line", &ran.stderr);
}

#[test]
fn garbage_never_panics() {
    for (name, text) in [
        ("a.json", "[1, 2]"),
        ("b.json", "\"x\""),
        ("c.yaml", "- - -\n"),
        ("d.toml", "= = ="),
        ("e.csv", ""),
        ("f.csv", "a\n\"unterminated\n"),
        ("g.yaml", "requests: 5\n"),
        ("h.json", "{\"requests\": [5, null, {}]}"),
        ("i.toml", "version = 2\nrange = 3\n"),
    ] {
        let err = plan_err(&format!("garbage_{name}"), &[(name, text)]);
        assert!(err.contains(name), "{name}: {err}");
    }
}
