//! One set of wire types (`hydrofetch::onc::wire`) for the simulator and the client.
//!
//! Two halves:
//! - Every answer of the simulator (real HTTP on 127.0.0.1) reads into the wire type the
//!   client reads it with, and writing that value gives back the simulator's bytes, so the
//!   type holds all the simulator says and nothing it does not; reading it again gives the
//!   same value.
//! - One test per quirk of ONC's that the client tolerates, each checked on the wire type and
//!   through the client against a scripted server on 127.0.0.1 that answers as ONC does.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions"
)]

use crate::sim_support;

use std::fmt::Debug;
use std::path::PathBuf;
use std::time::Duration;

use axum::Router;
use axum::extract::Query;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get as on_get;
use hydrofetch::onc::wire::{
    self, ArchiveFileEntry, ArchiveFileList, DataProduct, Deployment, Device, DownloadProgress,
    ErrorBody, Location, RequestResponse, RunEntry, RunStatusEntry, StatusResponse,
};
use hydrofetch::onc::{
    Client, IndexOutcome, OncError, ProductRequest, RequestReceipt, RetryPolicy, Token,
};
use hydrofetch::sim::{SimConfig, SimHandle};
use hydrofetch::time::UtcInstant;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use sim_support::*;

const HF: &str = "ICLISTENHF6324";
const AF: &str = "ICLISTENAF2523";

/// Reads `text` as `T`, checks that writing it gives `text` back byte for byte and that
/// reading that again gives the same value.
fn round_trip<T: DeserializeOwned + Serialize + PartialEq + Debug>(text: &str) -> T {
    let value: T = serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("{e}: {text} is not a {}", std::any::type_name::<T>()));
    let written = serde_json::to_string(&value).unwrap();
    assert_eq!(written, text, "{}", std::any::type_name::<T>());
    let again: T = serde_json::from_str(&written).unwrap();
    assert_eq!(again, value);
    value
}

/// GET on the simulator: status and body text.
async fn fetch(h: &SimHandle, path: &str, params: &[(&str, &str)]) -> (u16, String) {
    let r = get(h, path, params).await;
    (r.status().as_u16(), r.text().await.unwrap())
}

/// GET on the simulator expecting `status`: the answer read through [`round_trip`], and its
/// text.
async fn answer<T: DeserializeOwned + Serialize + PartialEq + Debug>(
    h: &SimHandle,
    path: &str,
    params: &[(&str, &str)],
    status: u16,
) -> (T, String) {
    let (s, text) = fetch(h, path, params).await;
    assert_eq!(s, status, "{path}: {text}");
    (round_trip(&text), text)
}

/// A tiny on-demand product: 256 Hz WAV of the AF device.
fn tiny(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut q = vec![
        ("deviceCode", AF),
        ("dataProductCode", "AD"),
        ("extension", "wav"),
        ("dateFrom", "2024-04-01T12:00:00.000Z"),
        ("dateTo", "2024-04-01T12:10:00.000Z"),
    ];
    q.extend_from_slice(extra);
    q
}

fn client_of(base: &str) -> Client {
    Client::new(base, Token::new(TOKEN).unwrap())
        .unwrap()
        .with_retry_policy(RetryPolicy {
            max_attempts: 1,
            base: Duration::from_millis(1),
            cap: Duration::from_millis(1),
        })
}

/// [`answer`] of `dataProductDelivery/<endpoint>?dpRequestId=<id>`.
async fn by_request<T: DeserializeOwned + Serialize + PartialEq + Debug>(
    h: &SimHandle,
    endpoint: &str,
    id: &str,
    status: u16,
) -> T {
    let path = format!("api/dataProductDelivery/{endpoint}");
    answer(h, &path, &[("dpRequestId", id)], status).await.0
}

/// The client's listing of the HF device's FLAC files from 12:00 to `to` on 2024-04-01.
async fn list_flac(base: &str, to: &str) -> Vec<hydrofetch::onc::ArchiveFile> {
    let from = at("2024-04-01T12:00:00Z");
    let c = client_of(base);
    c.list_archive(HF, from, at(to), "flac").await.unwrap()
}

fn at(s: &str) -> UtcInstant {
    UtcInstant::parse(s).unwrap()
}

/// A simulator with `time_scale`, a client of it, and the receipt of a [`tiny`] product
/// request for one file.
async fn tiny_request(time_scale: f64) -> (SimHandle, Client, RequestReceipt) {
    let h = start(SimConfig {
        time_scale,
        ..SimConfig::default()
    })
    .await;
    let c = client_of(&h.base_url);
    let receipt = c
        .request_product(&ProductRequest {
            device: AF.into(),
            product_code: "AD".into(),
            extension: "wav".into(),
            date_from: at("2024-04-01T12:00:00Z"),
            date_to: at("2024-04-01T12:05:00Z"),
            options: vec![("dpo_audioDownsample".into(), "256".into())],
        })
        .await
        .unwrap();
    (h, c, receipt)
}

#[tokio::test]
async fn delivery_answers_round_trip_through_the_wire_types() {
    // Slow enough that a run stays running for the whole test.
    let h = start(SimConfig {
        time_scale: 1000.0,
        ..SimConfig::default()
    })
    .await;

    // On demand: estimates, `queryURL` spelt ONC's way in this answer.
    let (req, text): (RequestResponse, _) = answer(
        &h,
        "api/dataProductDelivery/request",
        &tiny(&[("dpo_audioDownsample", "256")]),
        200,
    )
    .await;
    assert!(req.file_size.is_none() && req.estimated_file_size.is_some());
    assert!(text.contains("\"queryURL\"") && req.query_url.is_some());
    let eta = req.estimated_processing_time.as_deref().unwrap();
    assert!(
        hydrofetch::onc::client::parse_processing_time(eta).is_some(),
        "the client reads the simulator's estimate {eta:?}"
    );
    // Archived: a size in bytes instead.
    let (archived, _): (RequestResponse, _) =
        answer(&h, "api/dataProductDelivery/request", &tiny(&[]), 200).await;
    assert!(archived.file_size.is_some() && archived.estimated_processing_time.is_none());

    let id = req.dp_request_id.to_string();
    let st: StatusResponse = by_request(&h, "status", &id, 200).await;
    assert_eq!((st.search_hdr_status.as_str(), st.runs.len()), ("OPEN", 0));

    let runs: Vec<RunEntry> = by_request(&h, "run", &id, 202).await;
    assert_eq!(runs.len(), 1);
    assert_eq!(
        (runs[0].status.as_str(), runs[0].file_count),
        (wire::status::RUNNING, 0)
    );
    let run_id = runs[0].dp_run_id.to_string();

    let st: StatusResponse = by_request(&h, "status", &id, 200).await;
    assert_eq!(st.runs, runs);

    let (p, _): (DownloadProgress, _) = answer(
        &h,
        "api/dataProductDelivery/download",
        &[("dpRunId", &run_id), ("index", "1")],
        202,
    )
    .await;
    assert!(!p.message.is_empty() && p.status == "running", "{p:?}");

    let cancelled: Vec<RunStatusEntry> = by_request(&h, "cancel", &id, 200).await;
    assert_eq!(cancelled.len(), 1);
    assert_eq!(cancelled[0].status, wire::status::CANCELLED);
    assert_eq!(cancelled[0].dp_run_id, runs[0].dp_run_id);

    let restarted: Vec<RunStatusEntry> = by_request(&h, "restart", &id, 200).await;
    assert_eq!(
        restarted[0].dp_run_id, runs[0].dp_run_id,
        "restart reuses the run id"
    );

    // ONC's error document: 400 and 401.
    let e: ErrorBody = by_request(&h, "run", "1", 400).await;
    assert_eq!(
        (e.errors[0].error_code, e.errors[0].parameter.as_str()),
        (127, "dpRequestId")
    );
    let r = client()
        .get(with_query(
            &format!("{}api/dataProductDelivery/status", h.base_url),
            &[("dpRequestId", id.as_str()), ("token", "nope")],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let e: ErrorBody = round_trip(&r.text().await.unwrap());
    assert_eq!(e.errors[0].parameter, "token");
}

#[tokio::test]
async fn a_finished_runs_file_is_named_the_way_the_client_reads_it() {
    let (h, c, receipt) = tiny_request(0.01).await;
    assert!(!receipt.archived && receipt.estimated_processing.is_some());
    let state = poll(Duration::from_secs(60), || {
        let c = c.clone();
        async move {
            let s = c.run_product(receipt.dp_request_id).await.unwrap();
            s.is_complete().then_some(s)
        }
    })
    .await;
    assert_eq!(state.file_count, 1);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_owned();
    let dest = move |n: &hydrofetch::safe_name::SafeName| Some(root.join(n.as_str()));
    let got = c.download_index(state.dp_run_id, 1, &dest).await.unwrap();
    let IndexOutcome::File(f) = got else {
        panic!("{got:?}")
    };
    assert_eq!(f.name, "ICLISTENAF2523_20240401T120000.000Z-256Hz.wav");
    assert_eq!(std::fs::metadata(&f.path).unwrap().len(), f.size);
    // The header the simulator wrote is the one the wire module writes and reads.
    let r = get(
        &h,
        "api/dataProductDelivery/download",
        &[("dpRunId", &state.dp_run_id.to_string()), ("index", "1")],
    )
    .await;
    let cd = r.headers()[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(cd, wire::content_disposition(&f.name));
    assert_eq!(
        wire::content_disposition_file_name(&cd),
        Some(f.name.as_str())
    );
}

#[tokio::test]
async fn archive_listings_round_trip_through_the_wire_types() {
    let h = start_default().await;
    let span = [
        ("dateFrom", "2024-04-01T12:00:00.000Z"),
        ("dateTo", "2024-04-01T12:10:00.000Z"),
    ];
    let q = |extra: &[(&'static str, &'static str)]| {
        let mut v = vec![("deviceCode", HF)];
        v.extend_from_slice(&span);
        v.extend_from_slice(extra);
        v
    };
    // Names only.
    let (l, text): (ArchiveFileList, _) = answer(
        &h,
        "api/archivefile/device",
        &q(&[("fileExtension", "flac")]),
        200,
    )
    .await;
    assert!(text.contains("\"queryUrl\""), "{text}");
    assert!(l.next.is_none() && l.files.len() == 3, "{l:?}");
    assert!(
        l.files
            .iter()
            .all(|f| matches!(f, ArchiveFileEntry::Name(_)))
    );
    // Objects, paged: `next` echoes every parameter with `page` advanced, as strings.
    let (l, _): (ArchiveFileList, _) = answer(
        &h,
        "api/archivefile/device",
        &q(&[("returnOptions", "all"), ("rowLimit", "2")]),
        200,
    )
    .await;
    let ArchiveFileEntry::Info(first) = &l.files[0] else {
        panic!("{l:?}")
    };
    assert!(first.uncompressed_file_size.is_some() && !first.date_from.is_empty());
    let next = l.next.unwrap();
    assert_eq!(next.parameters["page"], "2");
    assert_eq!(next.parameters["token"], TOKEN);
    // Location listing.
    let (l, _): (ArchiveFileList, _) = answer(
        &h,
        "api/archivefile/location",
        &[
            ("locationCode", "BACAX"),
            ("deviceCategoryCode", "HYDROPHONE"),
            ("fileExtension", "mat"),
            span[0],
            span[1],
        ],
        200,
    )
    .await;
    assert!(!l.files.is_empty());
    // The client reads the same listing into its files.
    let files = list_flac(&h.base_url, "2024-04-01T12:10:00Z").await;
    assert_eq!(files.len(), 3);
    assert!(
        files
            .iter()
            .all(|f| f.start.is_some() && f.end.is_some() && f.size.is_some())
    );
}

#[tokio::test]
async fn discovery_answers_round_trip_through_the_wire_types() {
    let h = start_default().await;
    let (deps, _): (Vec<Deployment>, _) =
        answer(&h, "api/deployments", &[("deviceCode", HF)], 200).await;
    assert!(deps.len() >= 2 && deps.iter().any(|d| d.end.is_none()));
    let (devs, _): (Vec<Device>, _) = answer(&h, "api/devices", &[("deviceCode", HF)], 200).await;
    assert_eq!(devs[0].device_code, HF);
    let (locs, _): (Vec<Location>, _) =
        answer(&h, "api/locations", &[("deviceCode", AF)], 200).await;
    assert_eq!(locs[0].location_code, "FGPD");
    let (products, _): (Vec<DataProduct>, _) =
        answer(&h, "api/dataProducts", &[("dataProductCode", "HSD")], 200).await;
    assert!(products.iter().any(|p| p.extension == "png"));
    // "No match" is ONC's 400/127, which the client reads as no deployments.
    let (_, _): (ErrorBody, _) = answer(
        &h,
        "api/deployments",
        &[("deviceCode", AF), ("locationCode", "BACAX")],
        400,
    )
    .await;
    let c = client_of(&h.base_url);
    let got = c.deployments(HF).await.unwrap();
    assert_eq!(got.len(), deps.len());
    assert_eq!(got[0].begin, deps[0].begin);
    assert_eq!(got[0].location_code, deps[0].location_code);
    // ONC answers 400/127 on `deviceCode/locationCode` when nothing matches: no deployments.
    assert!(c.deployments("ICLISTENHF0000").await.unwrap().is_empty());
}

// ---- ONC's quirks -------------------------------------------------------------------------

/// Serves `app` on 127.0.0.1 and returns its base URL.
async fn scripted(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/")
}

fn json_answer(status: StatusCode, body: serde_json::Value) -> axum::response::Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

#[tokio::test]
async fn quirk_discovery_booleans_come_as_strings() {
    let dep = json!({
        "begin": "2024-01-01T00:00:00.000Z", "end": null, "deviceCode": HF,
        "locationCode": "BACAX", "hasDeviceData": "true", "heading": null, "pitch": null,
        "roll": null, "lat": 48.3, "lon": -126.05, "depth": 985.0,
        "deviceCategoryCode": "HYDROPHONE", "citation": {"citation": "c", "doi": "d",
        "landingPageUrl": "u", "queryPid": null}, "somethingNew": [1, 2]
    });
    let w: Deployment = serde_json::from_value(dep.clone()).unwrap();
    assert!(w.has_device_data);
    let d: Device = serde_json::from_value(json!({
        "dataRating": [], "deviceCategoryCode": "HYDROPHONE", "deviceCode": HF,
        "deviceId": 1, "deviceLink": "l", "deviceName": "n", "hasDeviceData": "false"
    }))
    .unwrap();
    assert!(!d.has_device_data);
    let base = scripted(Router::new().route(
        "/api/deployments",
        on_get(move || {
            let dep = dep.clone();
            async move { json_answer(StatusCode::OK, json!([dep])) }
        }),
    ))
    .await;
    let got = client_of(&base).deployments(HF).await.unwrap();
    assert_eq!((got.len(), got[0].location_code.as_str()), (1, "BACAX"));
}

#[tokio::test]
async fn quirk_listing_entries_are_names_or_objects_with_the_fields_onc_chose() {
    let page = json!({
        "citations": {"doi": "x"},
        "files": [
            "ICLISTENHF6324_20240401T120003.000Z.flac",
            {"filename": "ICLISTENHF6324_20240401T120503.000Z.flac", "dataProductCode": "AD",
             "dateFrom": "2024-04-01T12:05:03.000Z", "dateTo": "2024-04-01T12:10:03.000Z",
             "uncompressedFileSize": 1234, "archiveLocation": "x"},
            // Only a compressed size, as a string; no dates: the start comes from the name.
            {"filename": "ICLISTENHF6324_20240401T121003.000Z.flac", "fileSize": "99"},
            {"unexpected": true},
            42
        ],
        "next": null,
        "queryUrl": "http://x/?token=t"
    });
    let l: ArchiveFileList = serde_json::from_value(page.clone()).unwrap();
    assert_eq!(l.files.len(), 5);
    let base = scripted(Router::new().route(
        "/api/archivefile/device",
        on_get(move || {
            let page = page.clone();
            async move { json_answer(StatusCode::OK, page) }
        }),
    ))
    .await;
    let files = list_flac(&base, "2024-04-01T12:15:00Z").await;
    let seen: Vec<_> = files
        .iter()
        .map(|f| (f.start.map(|s| s.to_onc_string()), f.end.is_some(), f.size))
        .collect();
    assert_eq!(
        seen,
        [
            (Some("2024-04-01T12:00:03.000Z".to_owned()), false, None),
            (
                Some("2024-04-01T12:05:03.000Z".to_owned()),
                true,
                Some(1234)
            ),
            (Some("2024-04-01T12:10:03.000Z".to_owned()), false, Some(99)),
        ]
    );
}

#[tokio::test]
async fn quirk_next_parameters_carry_values_that_are_not_strings() {
    let first = json!({
        "files": ["ICLISTENHF6324_20240401T120003.000Z.flac"],
        "next": {"parameters": {"deviceCode": HF, "page": 2, "rowLimit": 1,
                                "returnOptions": "all", "token": "from-the-server"},
                 "url": "http://x/"},
    });
    let l: ArchiveFileList = serde_json::from_value(first.clone()).unwrap();
    assert_eq!(l.next.as_ref().unwrap().parameters["page"], "2");
    let base = scripted(Router::new().route(
        "/api/archivefile/device",
        on_get(
            move |Query(q): Query<std::collections::BTreeMap<String, String>>| {
                let first = first.clone();
                async move {
                    match (q.get("page").map(String::as_str), q.get("token").map(String::as_str)) {
                        (None, Some(TOKEN)) => json_answer(StatusCode::OK, first),
                        (Some("2"), Some(TOKEN)) if q.get("rowLimit").map(String::as_str) == Some("1") => {
                            json_answer(
                                StatusCode::OK,
                                json!({"files": ["ICLISTENHF6324_20240401T120503.000Z.flac"], "next": null}),
                            )
                        }
                        _ => json_answer(StatusCode::BAD_REQUEST, json!({"errors": [{"errorCode": 127, "errorMessage": "unexpected", "parameter": "page"}]})),
                    }
                }
            },
        ),
    ))
    .await;
    let files = list_flac(&base, "2024-04-01T12:10:00Z").await;
    assert_eq!(files.len(), 2, "{files:?}");
}

#[tokio::test]
async fn quirk_the_download_of_a_cancelled_run_answers_400_without_errors() {
    let (h, c, receipt) = tiny_request(1000.0).await;
    let run = c.run_product(receipt.dp_request_id).await.unwrap();
    c.cancel(receipt.dp_request_id, Duration::from_secs(30))
        .await
        .unwrap();
    let (body, text): (DownloadProgress, _) = answer(
        &h,
        "api/dataProductDelivery/download",
        &[("dpRunId", &run.dp_run_id.to_string()), ("index", "1")],
        400,
    )
    .await;
    assert_eq!(body.status, wire::status::CANCELLED);
    let errors: ErrorBody = serde_json::from_str(&text).unwrap();
    assert!(errors.errors.is_empty());
    let dest = |_: &hydrofetch::safe_name::SafeName| -> Option<PathBuf> { None };
    match c.download_index(run.dp_run_id, 1, &dest).await {
        Err(OncError::Rejected { errors, .. }) => assert!(errors.is_empty()),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn quirk_progress_and_run_answers_leave_fields_out() {
    let base = scripted(
        Router::new()
            .route(
                "/api/dataProductDelivery/download",
                on_get(|| async {
                    json_answer(StatusCode::ACCEPTED, json!({"status": "running"}))
                }),
            )
            .route(
                "/api/dataProductDelivery/run",
                // The wiki's `running`, without `fileCount`.
                on_get(|| async {
                    json_answer(
                        StatusCode::ACCEPTED,
                        json!([{"dpRunId": 7, "status": "running"}]),
                    )
                }),
            )
            .route(
                "/api/dataProductDelivery/restart",
                // MATLAB's client reads one object here.
                on_get(|| async {
                    json_answer(StatusCode::OK, json!({"dpRunId": 7, "status": "queued"}))
                }),
            ),
    )
    .await;
    let p: DownloadProgress = serde_json::from_value(json!({"status": "running"})).unwrap();
    assert!(p.message.is_empty());
    let r: Vec<RunEntry> =
        serde_json::from_value(json!([{"dpRunId": 7, "status": "running"}])).unwrap();
    assert_eq!(r[0].file_count, 0);
    let c = client_of(&base);
    let dest = |_: &hydrofetch::safe_name::SafeName| -> Option<PathBuf> { None };
    match c.download_index(7, 1, &dest).await.unwrap() {
        IndexOutcome::NotReady { message } => assert_eq!(message, "generating"),
        other => panic!("{other:?}"),
    }
    let run = c.run_product(3).await.unwrap();
    assert_eq!((run.dp_run_id, run.file_count), (7, 0));
    assert!(!run.is_complete() && !run.is_failed());
    c.restart(3).await.unwrap();
}

#[tokio::test]
async fn quirk_content_disposition_is_misspelt_or_quoted() {
    for header_value in [
        "attachement; filename=ICLISTENAF2523_20240401T120000.000Z.wav",
        "attachment; filename=\"ICLISTENAF2523_20240401T120000.000Z.wav\"",
    ] {
        assert_eq!(
            wire::content_disposition_file_name(header_value),
            Some("ICLISTENAF2523_20240401T120000.000Z.wav")
        );
        let base = scripted(Router::new().route(
            "/api/dataProductDelivery/download",
            on_get(move || async move {
                (
                    [(header::CONTENT_DISPOSITION, header_value)],
                    b"RIFF-not-checked".to_vec(),
                )
                    .into_response()
            }),
        ))
        .await;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_owned();
        let dest = move |n: &hydrofetch::safe_name::SafeName| Some(root.join(n.as_str()));
        match client_of(&base).download_index(1, 1, &dest).await.unwrap() {
            IndexOutcome::File(f) => {
                assert_eq!(f.name, "ICLISTENAF2523_20240401T120000.000Z.wav");
                assert_eq!(std::fs::read(&f.path).unwrap(), b"RIFF-not-checked");
            }
            other => panic!("{other:?}"),
        }
    }
}
