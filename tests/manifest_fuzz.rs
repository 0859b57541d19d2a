//! No input makes the loaders or the planner panic: arbitrary text in every format either
//! loads and plans or gives diagnostics that name the file.

#![expect(clippy::unwrap_used, reason = "test helpers fail loudly")]

use hydrofetch::manifest;
use hydrofetch::plan::Plan;
use proptest::prelude::*;

fn check(ext: &str, text: &str) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(format!("f.{ext}"));
    std::fs::write(&p, text).unwrap();
    match manifest::load(&p) {
        Ok(m) => {
            let _ = Plan::build(&[m]);
        }
        Err(e) => {
            for d in e.diagnostics() {
                assert_eq!(d.file.file_name(), p.file_name(), "{d}");
            }
        }
    }
}

/// Text built from the pieces manifests are made of, so that parsing gets past the syntax.
fn manifestish() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "deviceCode",
        "timestamp",
        "start",
        "end",
        "pad_seconds",
        "clip",
        "timezone",
        "version",
        "range",
        "requests",
        "defaults",
        "data_product_options",
        "dpo_x",
        "2024-04-01T12:00:00Z",
        "2024-03-10 02:30",
        "America/Vancouver",
        "-5",
        "0",
        "1e309",
        "yes",
        "true",
        "null",
        "\"",
        ",",
        ":",
        "=",
        "[",
        "]",
        "{",
        "}",
        "\n",
        " ",
        "\r\n",
        "-",
        "\u{feff}",
    ]);
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn csv_never_panics(s in manifestish()) { check("csv", &s); }
    #[test]
    fn json_never_panics(s in manifestish()) { check("json", &s); }
    #[test]
    fn toml_never_panics(s in manifestish()) { check("toml", &s); }
    #[test]
    fn yaml_never_panics(s in manifestish()) { check("yaml", &s); }
    #[test]
    fn csv_rows_never_panic(rows in prop::collection::vec(prop::collection::vec(manifestish(), 4), 0..5)) {
        let mut text = String::from("deviceCode,timestamp,pad_seconds,data_product_options\n");
        for r in rows {
            let cells: Vec<String> = r.iter().map(|c| format!("\"{}\"", c.replace('"', "\"\""))).collect();
            text.push_str(&cells.join(","));
            text.push('\n');
        }
        check("csv", &text);
    }
}
