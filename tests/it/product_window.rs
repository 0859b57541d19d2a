//! The simulator's product-request rule (`--product-window overlap|start`, issue #16): which
//! source files a request selects, over real HTTP on 127.0.0.1, and hydrofetch giving the
//! same data set under both rules.

use crate::sim_support::*;

use hydrofetch::sim::delivery::ProductWindow;
use hydrofetch::sim::{SimConfig, SimHandle};

/// ICLISTENHF6324 on 2024-04-01: files start 3 s past each 5-minute mark (`hh:m0:03`).
const DEV: &str = "ICLISTENHF6324";

/// Sends a spectrogram request for `from..to` and returns the starts of the source files the
/// simulator selected (as `HH:MM:SS`) and the `numFiles` it answered.
async fn selected(h: &SimHandle, from: &str, to: &str) -> (Vec<String>, u64) {
    let (s, v) = get_json(
        h,
        "api/dataProductDelivery/request",
        &[
            ("deviceCode", DEV),
            ("dataProductCode", "HSD"),
            ("extension", "mat"),
            ("dateFrom", from),
            ("dateTo", to),
            ("dpo_spectrogramConcatenation", "None"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let id = v["dpRequestId"].as_u64().unwrap();
    let jobs = h.state.jobs.lock().unwrap();
    let starts = jobs.requests[&id]
        .files
        .iter()
        .map(|f| f.start.to_string()[11..19].to_owned())
        .collect();
    (starts, v["numFiles"].as_u64().unwrap())
}

async fn sim(rule: ProductWindow) -> SimHandle {
    start(SimConfig {
        product_window: rule,
        ..SimConfig::default()
    })
    .await
}

#[tokio::test]
async fn each_rule_selects_its_files() {
    let overlap = sim(ProductWindow::Overlap).await;
    let start_rule = sim(ProductWindow::Start).await;
    let cases: &[(&str, &str, &[&str], &[&str])] = &[
        // dateFrom = dateTo on the grid: overlap gives the file holding that instant (it
        // started 4 min 57 s earlier); start gives none (no file starts at 12:35:00).
        (
            "2024-04-01T12:35:00.000Z",
            "2024-04-01T12:35:00.000Z",
            &["12:30:03"],
            &[],
        ),
        // dateFrom = dateTo at a file's real start: an empty window under overlap, that
        // one file under start.
        (
            "2024-04-01T12:35:03.000Z",
            "2024-04-01T12:35:03.000Z",
            &[],
            &["12:35:03"],
        ),
        // onc-hydrophone-data's n-window request, n = 3: dateTo = dateFrom + 2 × 300 s. Overlap
        // gives three files, the first from the slot before; start gives two, the slots'
        // own, and the file starting at dateTo only if it starts exactly there.
        (
            "2024-04-01T12:30:00.000Z",
            "2024-04-01T12:40:00.000Z",
            &["12:25:03", "12:30:03", "12:35:03"],
            &["12:30:03", "12:35:03"],
        ),
        // The same request shifted to the real starts: dateTo is inclusive under start.
        (
            "2024-04-01T12:30:03.000Z",
            "2024-04-01T12:40:03.000Z",
            &["12:30:03", "12:35:03"],
            &["12:30:03", "12:35:03", "12:40:03"],
        ),
    ];
    for (from, to, want_overlap, want_start) in cases {
        let (got, n) = selected(&overlap, from, to).await;
        assert_eq!(got, *want_overlap, "overlap, {from}..{to}");
        assert_eq!(n, got.len() as u64);
        let (got, n) = selected(&start_rule, from, to).await;
        assert_eq!(got, *want_start, "start, {from}..{to}");
        assert_eq!(n, got.len() as u64);
    }
}

#[test]
fn the_rule_parses_by_name() {
    assert_eq!("overlap".parse(), Ok(ProductWindow::Overlap));
    assert_eq!("start".parse(), Ok(ProductWindow::Start));
    assert_eq!(ProductWindow::default(), ProductWindow::Overlap);
    let err = "starts".parse::<ProductWindow>().unwrap_err();
    assert!(err.contains("`starts`") && err.contains("overlap"), "{err}");
}
