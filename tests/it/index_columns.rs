//! The dataset index's columns for ML pipelines, against the simulator on 127.0.0.1: sample
//! rate, channels and duration checked against the files on disk, decoded; location,
//! coordinates, depth (and in `index.json` the citation and DOI) checked against the
//! simulator's own `deployments` answer for the deployment covering each row's start. A
//! lockfile written before these fields still loads, and the index rebuilt from it fills what
//! it can offline (media), the rest (deployments) on the next run that talks to ONC.

use crate::common::{Sim, TOKEN};
use crate::harness::Hf;
use hydrofetch::formats::{self, MatValue};
use hydrofetch::time::UtcInstant;
use std::collections::BTreeMap;
use std::path::Path;

const RANGE: &str = "version = 1\ndata_dir = \"data\"\n\n[defaults]\ndevice = \"ICLISTENHF6324\"\n\
spectrogram_format = \"mat\"\n\n[[range]]\nstart = \"2024-04-01T12:00:00Z\"\n\
end = \"2024-04-01T12:10:00Z\"\ndownload_audio = true\n";

/// Two devices at two locations; clips of audio and MAT spectrograms, with labels.
const EVENTS: &str = "deviceCode,timestamp,pad_seconds,clip,download_audio,label,description\n\
ICLISTENHF6324,2024-04-01T12:04:50Z,10,true,true,whale call,two annotators agree\n\
ICLISTENAF2523,2024-04-01T13:02:30Z,5,true,true,ship,\n";

/// The new columns, in order, after the old ones.
const NEW: [&str; 8] = [
    "sample_rate",
    "channels",
    "duration",
    "location",
    "latitude",
    "longitude",
    "depth",
    "request_time",
];

type Row = BTreeMap<String, String>;

fn read_csv(data: &Path) -> (Vec<String>, Vec<Row>) {
    let mut r = csv::Reader::from_path(data.join("index.csv")).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
    let rows = r
        .records()
        .map(|rec| {
            let rec = rec.unwrap();
            header
                .iter()
                .cloned()
                .zip(rec.iter().map(str::to_owned))
                .collect()
        })
        .collect();
    (header, rows)
}

fn read_json(data: &Path) -> Vec<serde_json::Value> {
    serde_json::from_slice(&std::fs::read(data.join("index.json")).unwrap()).unwrap()
}

/// The simulator's `deployments` answer for `device`.
fn deployments(sim: &Sim, device: &str) -> Vec<serde_json::Value> {
    let url = format!(
        "{}api/deployments?deviceCode={device}&token={TOKEN}",
        sim.url
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let body = rt
        .block_on(async { reqwest::get(url).await?.text().await })
        .unwrap();
    serde_json::from_str(&body).unwrap()
}

/// The deployment covering `t`.
fn covering(deps: &[serde_json::Value], t: UtcInstant) -> serde_json::Value {
    deps.iter()
        .find(|d| {
            let begin = UtcInstant::parse(d["begin"].as_str().unwrap()).unwrap();
            let end = d["end"].as_str().map(|e| UtcInstant::parse(e).unwrap());
            begin <= t && end.is_none_or(|e| t < e)
        })
        .unwrap_or_else(|| panic!("no deployment covers {t}"))
        .clone()
}

/// (sample rate, channels, duration) decoded from the file itself ("" when it has none).
fn decoded(path: &Path) -> (String, String, f64) {
    match path.extension().and_then(|e| e.to_str()).unwrap() {
        "flac" | "wav" => {
            let info = formats::probe_audio(path).unwrap();
            // The samples themselves, not only the header's count.
            let audio = if path.extension().unwrap() == "flac" {
                formats::read_flac(path).unwrap()
            } else {
                formats::read_wav(path).unwrap()
            };
            assert_eq!(audio.frames() as u64, info.total_frames);
            let rate = info.spec.sample_rate;
            (
                rate.to_string(),
                info.spec.channels.to_string(),
                audio.frames() as f64 / f64::from(rate),
            )
        }
        "mat" => {
            let vars = formats::read_mat(path).unwrap();
            let meta = formats::find_var(&vars, "Meta").unwrap();
            let Some(MatValue::Double { data, .. }) = meta.field("sampleRate") else {
                panic!("{}: no Meta.sampleRate", path.display());
            };
            let t = |k: &str| match meta.field(k) {
                Some(MatValue::Char(s)) => UtcInstant::parse(s).unwrap(),
                other => panic!("{}: Meta.{k} is {other:?}", path.display()),
            };
            let secs = t("dateTo").millis_since(t("dateFrom")) as f64 / 1000.0;
            (format!("{}", data[0] as u32), String::new(), secs)
        }
        other => panic!("unexpected output format {other}"),
    }
}

/// Checks every row of the index against the files and the simulator; returns the number of
/// rows with a deployment.
fn check_index(sim: &Sim, data: &Path, expect_deployment: impl Fn(&Row) -> bool) -> usize {
    let (header, rows) = read_csv(data);
    assert_eq!(
        &header[..15],
        [
            "path",
            "kind",
            "device",
            "product",
            "format",
            "start",
            "end",
            "label",
            "description",
            "request_file",
            "request_row",
            "sources",
            "sha256",
            "size",
            "gaps"
        ],
        "the old columns keep their order"
    );
    assert_eq!(&header[15..], NEW, "new columns are appended");
    let json = read_json(data);
    assert_eq!(json.len(), rows.len());
    let mut deps_of: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
    let mut located = 0;
    for (row, j) in rows.iter().zip(&json) {
        assert_eq!(j["path"].as_str().unwrap(), row["path"]);
        let file = data.join(&row["path"]);
        let (rate, channels, secs) = decoded(&file);
        assert_eq!(row["sample_rate"], rate, "{}", row["path"]);
        assert_eq!(row["channels"], channels, "{}", row["path"]);
        let dur: f64 = row["duration"].parse().unwrap();
        assert!(
            (dur - secs).abs() < 1e-9,
            "{}: {dur} vs {secs}",
            row["path"]
        );
        assert_eq!(j["duration"].as_f64().unwrap(), dur);
        assert!(dur > 0.0);
        let start = UtcInstant::parse(&row["start"]).unwrap();
        let deps = deps_of
            .entry(row["device"].clone())
            .or_insert_with(|| deployments(sim, &row["device"]));
        if !expect_deployment(row) {
            for c in ["location", "latitude", "longitude", "depth"] {
                assert_eq!(row[c], "", "{}: {c}", row["path"]);
                assert!(j[c].is_null(), "{}: {c}", row["path"]);
            }
            continue;
        }
        let d = covering(deps, start);
        located += 1;
        assert_eq!(row["location"], d["locationCode"].as_str().unwrap());
        for (col, key) in [
            ("latitude", "lat"),
            ("longitude", "lon"),
            ("depth", "depth"),
        ] {
            let v: f64 = row[col].parse().unwrap();
            assert_eq!(v, d[key].as_f64().unwrap(), "{}: {col}", row["path"]);
            assert_eq!(j[col].as_f64().unwrap(), v);
        }
        let citation = d["citation"]["citation"].as_str().unwrap();
        let doi = d["citation"]["doi"].as_str().unwrap();
        assert_eq!(j["citation"].as_str().unwrap(), citation);
        assert_eq!(j["doi"].as_str().unwrap(), doi);
        assert!(
            citation.starts_with("Ocean Networks Canada Society. ")
                && citation.ends_with(&format!("https://doi.org/{doi}")),
            "{citation}"
        );
    }
    located
}

#[test]
fn index_columns_match_the_files_and_the_deployments() {
    let sim = Sim::start(&["--time-scale", "0.002"]);
    let ran = Hf::new()
        .manifest("range.toml", RANGE)
        .manifest("events.csv", EVENTS)
        .sim(&sim)
        .args(["run", "range.toml", "--json"])
        .fast()
        .run();
    let ran = ran
        .then()
        .args(["run", "events.csv", "--json"])
        .fast()
        .run();
    assert_eq!(ran.json()["items"]["failed"], 0, "{}", ran.stdout);
    let data = ran.join("data");
    let located = check_index(&sim, &data, |_| true);
    let (_, rows) = read_csv(&data);
    assert_eq!(located, rows.len());
    // Both devices, each at its own location, and every kind of output.
    let mut seen: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    for r in &rows {
        *seen
            .entry((
                r["device"].clone(),
                r["location"].clone(),
                r["format"].clone(),
            ))
            .or_default() += 1;
    }
    for key in [
        ("ICLISTENHF6324", "BACAX", "flac"),
        ("ICLISTENHF6324", "BACAX", "mat"),
        ("ICLISTENAF2523", "FGPD", "flac"),
        ("ICLISTENAF2523", "FGPD", "mat"),
    ] {
        let k = (key.0.to_owned(), key.1.to_owned(), key.2.to_owned());
        assert!(seen.contains_key(&k), "{key:?} missing: {seen:?}");
    }
    let rates: Vec<(&str, &str)> = rows
        .iter()
        .filter(|r| r["format"] == "flac")
        .map(|r| (r["device"].as_str(), r["sample_rate"].as_str()))
        .collect();
    assert!(rates.contains(&("ICLISTENAF2523", "32000")), "{rates:?}");
    assert!(rates.contains(&("ICLISTENHF6324", "64000")), "{rates:?}");
    let whale: Vec<&Row> = rows.iter().filter(|r| r["label"] == "whale call").collect();
    assert_eq!(whale.len(), 2, "an audio and a MAT clip");
    assert!(whale.iter().all(|r| r["kind"] == "clip"
        && r["description"] == "two annotators agree"
        && r["duration"].parse::<f64>().unwrap() < 30.0));

    // Same bytes on a re-run with nothing to do.
    let csv = std::fs::read(data.join("index.csv")).unwrap();
    let json = std::fs::read(data.join("index.json")).unwrap();
    let ran = ran
        .then()
        .args(["run", "range.toml", "--json"])
        .fast()
        .run();
    assert_eq!(ran.json()["http_requests"], 0, "{}", ran.stdout);
    assert_eq!(std::fs::read(data.join("index.csv")).unwrap(), csv);
    assert_eq!(std::fs::read(data.join("index.json")).unwrap(), json);
}

/// Requests that are not clipped give whole-file rows: each carries the label, description,
/// request row and the request's own time of every request that asked for the file (one row
/// per request, like clips); clip rows carry their request's time too.
#[test]
fn whole_file_rows_carry_their_requests() {
    let sim = Sim::start(&["--time-scale", "0.002"]);
    let csv = "deviceCode,timestamp,pad_seconds,clip,label,description\n\
               ICLISTENHF6324,2024-04-01T12:31:00Z,10,false,knock,first annotator\n\
               ICLISTENHF6324,2024-04-01T12:32:00Z,10,false,knock again,\n\
               ICLISTENHF6324,2024-04-01T12:44:50Z,10,true,clipped,\n";
    let ran = Hf::new()
        .manifest("events.csv", csv)
        .sim(&sim)
        .args(["run", "events.csv", "--json"])
        .fast()
        .run();
    assert_eq!(ran.json()["items"]["failed"], 0, "{}", ran.stdout);
    let (header, rows) = read_csv(&ran.join("data"));
    assert_eq!(header.last().map(String::as_str), Some("request_time"));
    // Both unclipped requests fall in the file starting 12:30:03: two rows for it.
    let knock: Vec<&Row> = rows
        .iter()
        .filter(|r| r["kind"] == "source" && r["path"].contains("T123003"))
        .collect();
    let got: Vec<(&str, &str, &str, &str)> = knock
        .iter()
        .map(|r| {
            (
                r["label"].as_str(),
                r["description"].as_str(),
                r["request_row"].as_str(),
                r["request_time"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("knock", "first annotator", "2", "2024-04-01T12:31:00.000Z"),
            ("knock again", "", "3", "2024-04-01T12:32:00.000Z"),
        ],
        "{rows:?}"
    );
    assert!(knock.iter().all(|r| r["request_file"] == "events.csv"));
    let clipped: Vec<&Row> = rows.iter().filter(|r| r["kind"] == "clip").collect();
    assert_eq!(clipped.len(), 1, "{rows:?}");
    assert_eq!(clipped[0]["request_time"], "2024-04-01T12:44:50.000Z");
    // The JSON says the same.
    let json = read_json(&ran.join("data"));
    assert!(json.iter().any(|j| j["label"] == "knock again"
        && j["kind"] == "source"
        && j["request_time"] == "2024-04-01T12:32:00.000Z"));
}

/// Removes the fields this change added from a lockfile's text: what an older hydrofetch
/// wrote.
fn strip_new_fields(text: &str) -> String {
    let mut v: toml::Value = toml::from_str(text).unwrap();
    let top = v.as_table_mut().unwrap();
    top.remove("deployment");
    top.insert("version".into(), toml::Value::Integer(2));
    for item in v["item"].as_array_mut().unwrap() {
        let item = item.as_table_mut().unwrap();
        item.remove("deployment");
        item.remove("deployment_begin");
        for f in item
            .get_mut("files")
            .and_then(|f| f.as_array_mut())
            .into_iter()
            .flatten()
        {
            let f = f.as_table_mut().unwrap();
            for k in ["sample_rate", "channels", "duration"] {
                f.remove(k);
            }
        }
    }
    toml::to_string(&v).unwrap()
}

#[test]
fn an_old_lockfile_loads_and_the_rebuilt_index_fills_what_it_can() {
    let sim = Sim::start(&["--time-scale", "0.002"]);
    let ran = Hf::new()
        .manifest("range.toml", RANGE)
        .sim(&sim)
        .args(["run", "range.toml", "--json"])
        .fast()
        .run();
    let lock_path = crate::common::lock_of(&ran.join("range.toml"));
    let full = ran.lockfile("range.toml");
    // Each deployment once at the top; items name theirs by its begin.
    assert!(full.contains("sample_rate = 64000") && full.contains("[[deployment]]"));
    assert_eq!(full.matches("[[deployment]]").count(), 1, "{full}");
    assert_eq!(
        full.matches("deployment_begin = ").count(),
        full.matches("[[item]]").count(),
        "{full}"
    );
    let old = strip_new_fields(&full);
    assert!(!old.contains("sample_rate") && !old.contains("deployment"));
    std::fs::write(&lock_path, &old).unwrap();
    let data = ran.join("data");
    std::fs::remove_file(data.join("index.csv")).unwrap();
    std::fs::remove_file(data.join("index.json")).unwrap();

    // Offline (nothing to fetch): media come back from the files; deployments are unknown.
    let ran = ran
        .then()
        .args(["run", "range.toml", "--json"])
        .fast()
        .run();
    assert_eq!(ran.json()["http_requests"], 0, "{}", ran.stdout);
    assert_eq!(check_index(&sim, &data, |_| false), 0);
    let refilled = ran.lockfile("range.toml");
    assert!(refilled.contains("sample_rate = 64000"), "{refilled}");
    assert!(!refilled.contains("deployment"), "{refilled}");

    // The next run that talks to ONC (one more window) records the deployments of every item.
    let longer = RANGE.replace("12:10:00Z", "12:15:00Z");
    std::fs::write(ran.join("range.toml"), longer).unwrap();
    let ran = ran
        .then()
        .args(["run", "range.toml", "--json"])
        .fast()
        .run();
    assert_eq!(ran.json()["items"]["failed"], 0, "{}", ran.stdout);
    let (_, rows) = read_csv(&data);
    assert_eq!(check_index(&sim, &data, |_| true), rows.len());
}
