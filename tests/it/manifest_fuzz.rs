//! No input makes the loaders or the planner panic or allocate without bound: arbitrary text
//! in every format either loads and plans within the plan's item limit or gives diagnostics
//! that name the file; spans of any length and padding of any size are refused before their
//! items exist.

#![expect(clippy::unwrap_used, reason = "test helpers fail loudly")]

use hydrofetch::manifest;
use hydrofetch::plan::{Plan, PlanError, PlanLimits};
use hydrofetch::time::UtcInstant;
use proptest::prelude::*;

/// Small enough that no case takes long; the refusal works the same at any limit.
const LIMITS: PlanLimits = PlanLimits { max_items: 20_000 };

/// Loads and plans `text`; returns the field names of the diagnostics.
fn check(ext: &str, text: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(format!("f.{ext}"));
    std::fs::write(&p, text).unwrap();
    match manifest::load(&p) {
        Ok(m) => match Plan::build_with(&[m], &LIMITS) {
            Ok(plan) => {
                assert!(plan.items.len() as u64 <= LIMITS.max_items);
                Vec::new()
            }
            Err(errors) => errors
                .iter()
                .filter_map(|e| match e {
                    PlanError::TooLarge { diagnostic } => {
                        assert_eq!(diagnostic.file.file_name(), p.file_name(), "{diagnostic}");
                        Some(diagnostic.field.clone())
                    }
                    _ => None,
                })
                .collect(),
        },
        Err(e) => e
            .diagnostics()
            .iter()
            .map(|d| {
                assert_eq!(d.file.file_name(), p.file_name(), "{d}");
                d.field.clone()
            })
            .collect(),
    }
}

const YEAR_1: i64 = -62_135_596_800_000;
const YEAR_9999_END: i64 = 253_402_300_799_000;

/// Two instants from year 1 to 9999, as ONC writes them: far apart, or within a few hours.
fn instants() -> impl Strategy<Value = (String, String)> {
    (
        YEAR_1..YEAR_9999_END,
        prop_oneof![YEAR_1..YEAR_9999_END, -1_000_i64..20_000_000],
        any::<bool>(),
    )
        .prop_map(|(a, b, near)| {
            let b = if near {
                a.saturating_add(b).clamp(YEAR_1, YEAR_9999_END)
            } else {
                b
            };
            let text = |ms| UtcInstant::from_unix_millis(ms).to_onc_string();
            (text(a), text(b))
        })
}

/// Padding or a duration in seconds: small, around the one-hour bound, or huge.
fn seconds() -> impl Strategy<Value = f64> {
    prop_oneof![
        0.0..600.0_f64,
        3590.0..3610.0_f64,
        0.0..1e12_f64,
        Just(99_999_999_999.0),
    ]
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
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "99999999999",
        "3601",
        "duration_seconds",
        "sample",
        "total_spectrograms",
        "4000000000",
    ]);
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn csv_never_panics(s in manifestish()) { let _ = check("csv", &s); }
    #[test]
    fn json_never_panics(s in manifestish()) { let _ = check("json", &s); }
    #[test]
    fn toml_never_panics(s in manifestish()) { let _ = check("toml", &s); }
    #[test]
    fn yaml_never_panics(s in manifestish()) { let _ = check("yaml", &s); }
    #[test]
    fn any_span_and_padding_is_planned_or_refused(
        (a, b) in instants(),
        pad in seconds(),
        duration in seconds(),
        audio in any::<bool>(),
        clip in any::<bool>(),
        total in 1_u32..=u32::MAX,
    ) {
        let over = (pad * 1000.0).round() > 3_600_000.0;
        let fields = check("csv", &format!(
            "deviceCode,start,end,pad_seconds,download_audio,clip\nX,{a},{b},{pad},{audio},{clip}\n\
             X,{a},,,{audio},{clip}\n"
        ));
        prop_assert_eq!(over, fields.iter().any(|f| f == "pad_seconds"), "{:?}", fields);
        let fields = check("json", &format!(
            r#"{{"requests": [{{"deviceCode": "X", "start": "{a}", "duration_seconds": {duration},
                "pad_before_seconds": {pad}, "download_audio": {audio}, "clip": {clip}}}]}}"#
        ));
        prop_assert_eq!(over, fields.iter().any(|f| f == "requests[0].pad_before_seconds"), "{:?}", fields);
        check("toml", &format!(
            "[[range]]\ndevice = \"X\"\nstart = \"{a}\"\nend = \"{b}\"\ndownload_audio = {audio}\n\
             [[sample]]\ndevice = \"X\"\nstart = \"{a}\"\nend = \"{b}\"\ntotal_spectrograms = {total}\n"
        ));
        let fields = check("yaml", &format!(
            "events:\n  - device: X\n    times: [\"{a}\", \"{b}\"]\n    pad_after_seconds: {pad}\n"
        ));
        prop_assert_eq!(over, fields.iter().any(|f| f == "events[0].pad_after_seconds"), "{:?}", fields);
    }
    #[test]
    fn csv_rows_never_panic(rows in prop::collection::vec(prop::collection::vec(manifestish(), 4), 0..5)) {
        let mut text = String::from("deviceCode,timestamp,pad_seconds,data_product_options\n");
        for r in rows {
            let cells: Vec<String> = r.iter().map(|c| format!("\"{}\"", c.replace('"', "\"\""))).collect();
            text.push_str(&cells.join(","));
            text.push('\n');
        }
        let _ = check("csv", &text);
    }
}
