//! Simulator API: error documents, archive listings (overlap, drift, gap, short file,
//! paging), discovery, token handling and the request log, over real HTTP on 127.0.0.1.

#![allow(clippy::unwrap_used, reason = "test helpers outside #[test] functions")]

use crate::sim_support;

use hydrofetch::sim::SimConfig;
use serde_json::Value;
use sim_support::*;

const DEV: &str = "ICLISTENHF6324";

#[tokio::test]
async fn token_and_parameter_errors() {
    let h = start_default().await;
    // Bad token → 401 with the ONC error body.
    let r = client()
        .get(with_query(
            &format!("{}api/archivefile/device", h.base_url),
            &[("deviceCode", DEV), ("token", "nope")],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["errors"][0]["parameter"], "token");
    // The demo token is not accepted when tokens are configured.
    let r = client()
        .get(with_query(
            &format!("{}api/devices", h.base_url),
            &[("token", DEMO)],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);

    let (s, b) = get_json(&h, "api/archivefile/device", &[("deviceCodes", DEV)]).await;
    assert_error(s, &b, 400, 129, "deviceCodes");
    let (s, b) = get_json(
        &h,
        "api/archivefile/device",
        &[("extension", "flac"), ("deviceCode", DEV)],
    )
    .await;
    assert_error(s, &b, 400, 129, "extension");
    let (s, b) = get_json(&h, "api/archivefile/device", &[]).await;
    assert_error(s, &b, 400, 128, "deviceCode");
    let (s, b) = get_json(&h, "api/archivefile/device", &[("deviceCode", "NOPE")]).await;
    assert_error(s, &b, 400, 127, "deviceCode");
    let (s, b) = get_json(
        &h,
        "api/archivefile/device",
        &[
            ("deviceCode", DEV),
            ("dateFrom", "2024-04-02"),
            ("dateTo", "2024-04-01"),
        ],
    )
    .await;
    assert_error(s, &b, 400, 23, "dateFrom");
    let (s, b) = get_json(&h, "api/deployments", &[("dateFrom", "2999-01-01")]).await;
    assert_error(s, &b, 400, 25, "dateFrom");
    let (s, b) = get_json(&h, "api/archivefile/download", &[]).await;
    assert_error(s, &b, 400, 128, "filename");
    let (s, b) = get_json(
        &h,
        "api/archivefile/download",
        &[("filename", "ICLISTENHF6324_20240401T120000.000Z.flac")],
    )
    .await;
    assert_error(s, &b, 400, 96, "filename");
    // Request errors: bad product code, unknown option, bad option value.
    let base = [
        ("deviceCode", DEV),
        ("dateFrom", "2024-04-01T12:00:00.000Z"),
        ("dateTo", "2024-04-01T12:10:00.000Z"),
        ("extension", "mat"),
    ];
    let mut q = base.to_vec();
    q.push(("dataProductCode", "XYZ"));
    let (s, b) = get_json(&h, "api/dataProductDelivery/request", &q).await;
    assert_error(s, &b, 400, 127, "dataProductCode");
    let mut q = base.to_vec();
    q.extend([("dataProductCode", "HSD"), ("dpo_nope", "1")]);
    let (s, b) = get_json(&h, "api/dataProductDelivery/request", &q).await;
    assert_error(s, &b, 400, 129, "dpo_nope");
    let mut q = base.to_vec();
    q.extend([
        ("dataProductCode", "HSD"),
        ("dpo_spectralDataDownsample", "3"),
    ]);
    let (s, b) = get_json(&h, "api/dataProductDelivery/request", &q).await;
    assert_error(s, &b, 400, 127, "dpo_spectralDataDownsample");
    // ONC's MAT default (Concatenate) is not simulated: a clear 127 naming the option.
    let mut q = base.to_vec();
    q.push(("dataProductCode", "HSD"));
    let (s, b) = get_json(&h, "api/dataProductDelivery/request", &q).await;
    assert_error(s, &b, 400, 127, "dpo_spectrogramConcatenation");
    for (path, p) in [
        ("api/dataProductDelivery/run", "dpRequestId"),
        ("api/dataProductDelivery/status", "dpRequestId"),
        ("api/dataProductDelivery/cancel", "dpRequestId"),
        ("api/dataProductDelivery/restart", "dpRequestId"),
    ] {
        let (s, b) = get_json(&h, path, &[(p, "1")]).await;
        assert_error(s, &b, 400, 127, p);
    }
    let (s, b) = get_json(
        &h,
        "api/dataProductDelivery/download",
        &[("dpRunId", "1"), ("index", "1")],
    )
    .await;
    assert_error(s, &b, 400, 127, "dpRunId");
    h.shutdown().await;
}

fn names(v: &Value) -> Vec<String> {
    v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            f.as_str()
                .map_or_else(|| f["filename"].as_str().unwrap().to_owned(), str::to_owned)
        })
        .collect()
}

#[tokio::test]
async fn listing_overlap_drift_gap_and_short_file() {
    let h = start_default().await;
    let (s, v) = get_json(
        &h,
        "api/archivefile/device",
        &[
            ("deviceCode", DEV),
            ("dateFrom", "2024-04-02T02:50:00.000Z"),
            ("dateTo", "2024-04-02T07:30:00.000Z"),
            ("fileExtension", "flac"),
            ("returnOptions", "all"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        names(&v),
        [
            "ICLISTENHF6324_20240402T024503.000Z.flac",
            "ICLISTENHF6324_20240402T025003.000Z.flac",
            "ICLISTENHF6324_20240402T025503.000Z.flac",
            "ICLISTENHF6324_20240402T072006.000Z.flac",
            "ICLISTENHF6324_20240402T072506.000Z.flac",
        ]
    );
    let f = &v["files"][2];
    assert_eq!(f["dateFrom"], "2024-04-02T02:55:03.000Z");
    assert_eq!(f["dateTo"], "2024-04-02T02:57:40.000Z");
    assert_eq!(f["dataProductCode"], "AD");
    assert!(f["uncompressedFileSize"].as_u64().unwrap() > 0);
    assert!(v["next"].is_null());

    // Inside the gap: device variant 200 with no files; location variant also 200 [] since
    // the device is deployed there; outside any deployment the location variant is 400/127.
    let gap = [
        ("dateFrom", "2024-04-02T04:00:00.000Z"),
        ("dateTo", "2024-04-02T05:00:00.000Z"),
    ];
    let mut q = gap.to_vec();
    q.push(("deviceCode", DEV));
    let (s, v) = get_json(&h, "api/archivefile/device", &q).await;
    assert_eq!(s, 200);
    assert_eq!(v["files"], serde_json::json!([]));
    let (s, v) = get_json(
        &h,
        "api/archivefile/location",
        &[
            ("locationCode", "BACND"),
            ("deviceCategoryCode", "HYDROPHONE"),
            ("dateFrom", "2024-04-01T00:00:00.000Z"),
            ("dateTo", "2024-04-02T00:00:00.000Z"),
        ],
    )
    .await;
    assert_error(s, &v, 400, 127, "date");
    // The AF device sits on the grid; the second HF drifts differently.
    let (_, v) = get_json(
        &h,
        "api/archivefile/location",
        &[
            ("locationCode", "FGPD"),
            ("deviceCategoryCode", "HYDROPHONE"),
            ("dateFrom", "2024-04-01T12:00:00.000Z"),
            ("dateTo", "2024-04-01T12:10:00.000Z"),
            ("fileExtension", "wav"),
        ],
    )
    .await;
    assert_eq!(
        names(&v),
        [
            "ICLISTENAF2523_20240401T120000.000Z.wav",
            "ICLISTENAF2523_20240401T120500.000Z.wav"
        ]
    );
    let (_, v) = get_json(
        &h,
        "api/archivefile/device",
        &[
            ("deviceCode", "ICLISTENHF1205"),
            ("dateFrom", "2024-04-01T12:00:00.000Z"),
            ("dateTo", "2024-04-01T12:05:00.000Z"),
            ("dataProductCode", "HSD"),
            ("fileExtension", "png"),
        ],
    )
    .await;
    assert_eq!(
        names(&v),
        [
            "ICLISTENHF1205_20240401T115609.000Z-spect.png",
            "ICLISTENHF1205_20240401T120109.000Z-spect.png"
        ]
    );
    // Earlier, finished deployment: files in 2023, none after its end.
    let (_, v) = get_json(
        &h,
        "api/archivefile/device",
        &[
            ("deviceCode", DEV),
            ("dateFrom", "2023-11-20T08:20:00.000Z"),
            ("dateTo", "2023-12-20T00:00:00.000Z"),
            ("fileExtension", "flac"),
        ],
    )
    .await;
    assert_eq!(
        names(&v),
        [
            "ICLISTENHF6324_20231120T081507.000Z.flac",
            "ICLISTENHF6324_20231120T082007.000Z.flac",
            "ICLISTENHF6324_20231120T082507.000Z.flac"
        ]
    );
    h.shutdown().await;
}

#[tokio::test]
async fn paging_concatenation_equals_one_big_page() {
    let h = start_default().await;
    let q = [
        ("deviceCode", DEV),
        ("dateFrom", "2024-04-01T12:00:00.000Z"),
        ("dateTo", "2024-04-01T13:00:00.000Z"),
    ];
    let (_, big) = get_json(&h, "api/archivefile/device", &q).await;
    let all = names(&big);
    assert_eq!(all.len(), 13 * 4);
    assert!(big["next"].is_null());
    let mut q2 = q.to_vec();
    q2.push(("rowLimit", "7"));
    let (_, mut page) = get_json(&h, "api/archivefile/device", &q2).await;
    let mut got = names(&page);
    let mut pages = 1;
    while !page["next"].is_null() {
        let params = page["next"]["parameters"].as_object().unwrap().clone();
        assert_eq!(params["token"], TOKEN);
        assert_eq!(params["page"], (pages + 1).to_string());
        // Re-issue the parameters verbatim (they include the token).
        let pq: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
            .collect();
        let r = client()
            .get(with_query(
                &format!("{}api/archivefile/device", h.base_url),
                &pq,
            ))
            .send()
            .await
            .unwrap();
        page = r.json().await.unwrap();
        got.extend(names(&page));
        pages += 1;
        let url = page["next"]["url"].as_str().unwrap_or("");
        assert!(page["next"].is_null() || url.starts_with(&h.base_url));
    }
    assert_eq!(pages, 8);
    assert_eq!(got, all);
    h.shutdown().await;
}

#[tokio::test]
async fn discovery_endpoints() {
    let h = start_default().await;
    let (s, v) = get_json(&h, "api/deployments", &[("deviceCode", DEV)]).await;
    assert_eq!(s, 200);
    let deps = v.as_array().unwrap();
    assert_eq!(deps.len(), 2);
    assert_eq!(deps[0]["end"], "2023-11-20T09:00:00.000Z");
    assert!(deps[1]["end"].is_null());
    assert_eq!(deps[1]["locationCode"], "BACAX");
    let (s, v) = get_json(
        &h,
        "api/deployments",
        &[("deviceCode", DEV), ("locationCode", "FGPD")],
    )
    .await;
    assert_error(s, &v, 400, 127, "");
    let (s, v) = get_json(&h, "api/devices", &[("deviceCategoryCode", "HYDROPHONE")]).await;
    assert_eq!(s, 200);
    assert_eq!(v.as_array().unwrap().len(), 3);
    let (s, v) = get_json(&h, "api/locations", &[("deviceCode", "ICLISTENAF2523")]).await;
    assert_eq!(s, 200);
    assert_eq!(v[0]["locationCode"], "FGPD");
    let (s, v) = get_json(
        &h,
        "api/dataProducts",
        &[("dataProductCode", "HSD"), ("extension", "png")],
    )
    .await;
    assert_eq!(s, 200);
    let opts = v[0]["dataProductOptions"].as_array().unwrap();
    assert_eq!(opts.len(), 9);
    assert_eq!(opts[6]["option"], "dpo_spectrogramFrequencyUpperLimit");
    assert_eq!(opts[6]["allowableRange"]["lowerBound"], "100");
    assert!(opts.iter().all(|o| o["defaultValue"].is_string()));
    let (s, v) = get_json(
        &h,
        "api/dataProducts",
        &[("dataProductCode", "HSD"), ("extension", "mat")],
    )
    .await;
    assert_eq!(s, 200);
    let ds = v[0]["dataProductOptions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["option"] == "dpo_spectralDataDownsample")
        .cloned()
        .unwrap();
    assert_eq!(ds["defaultValue"], "1");
    let r = get(
        &h,
        "api/dataProducts",
        &[("dataProductCode", "HSD"), ("extension", "txt")],
    )
    .await;
    assert_eq!(r.status().as_u16(), 404);
    let (s, v) = get_json(&h, "api/dataProducts", &[("dataProductCodes", "HSD")]).await;
    assert_error(s, &v, 400, 129, "dataProductCodes");
    h.shutdown().await;
}

#[tokio::test]
async fn token_is_redacted_in_log_and_request_log_file() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("requests.jsonl");
    let h = start(SimConfig {
        request_log: Some(log.clone()),
        ..SimConfig::default()
    })
    .await;
    for _ in 0..3 {
        let _ = get(&h, "api/devices", &[]).await;
    }
    let _ = get(
        &h,
        "api/archivefile/device",
        &[
            ("deviceCode", DEV),
            ("rowLimit", "1"),
            ("dateFrom", "2024-04-01"),
            ("dateTo", "2024-04-02"),
        ],
    )
    .await;
    let text = client()
        .get(format!("{}sim/log", h.base_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!text.contains(TOKEN));
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["counters"]["byPath"]["/api/devices"], 3);
    assert_eq!(
        v["requests"][0]["params"][0],
        serde_json::json!(["token", "REDACTED"])
    );
    let file = std::fs::read_to_string(&log).unwrap();
    assert_eq!(file.lines().count(), 5); // 4 api calls + the sim/log call
    assert!(!file.contains(TOKEN));
    let _ = client()
        .get(format!("{}sim/reset-log", h.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(h.request_log().len(), 1);
    h.shutdown().await;
}

#[tokio::test]
async fn refuses_remote_bind_and_sim_events_lists_exact_times() {
    let err = hydrofetch::sim::spawn(SimConfig {
        host: "0.0.0.0".into(),
        ..SimConfig::default()
    })
    .await;
    assert!(err.is_err());
    let h = start_default().await;
    let r = client()
        .get(with_query(
            &format!("{}sim/events", h.base_url),
            &[
                ("deviceCode", DEV),
                ("dateFrom", "2024-04-01T00:00:00Z"),
                ("dateTo", "2024-04-02T00:00:00Z"),
            ],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = r.json().await.unwrap();
    let evs = v["events"].as_array().unwrap();
    let direct = hydrofetch::sim::data::events(
        &hydrofetch::sim::catalogue::Catalogue::builtin(),
        DEV,
        hydrofetch::time::UtcInstant::parse("2024-04-01T00:00:00Z").unwrap(),
        hydrofetch::time::UtcInstant::parse("2024-04-02T00:00:00Z").unwrap(),
        0,
    );
    assert_eq!(evs.len(), direct.len());
    assert!(!evs.is_empty());
    assert_eq!(evs[0]["start"], direct[0].start.to_onc_string());
    h.shutdown().await;
}
