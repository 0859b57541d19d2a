//! Planning a 1,000,000-row request CSV: load + validate, then plan. Prints wall times and peak
//! memory (VmHWM). Run with `cargo bench --bench plan` (release). Target: < 5 s, < 1 GiB.
//! `HYDROFETCH_BENCH_ROWS` changes the row count. One row in 500 (0.2 %) repeats the row
//! before it with another label (a second annotator): a clip that two requests share.
#![allow(
    clippy::pedantic,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::disallowed_methods,
    reason = "benchmarks print their figures, cast measured counts, use std::fs on temporary folders"
)]
#![expect(
    clippy::print_stdout,
    clippy::unwrap_used,
    reason = "a benchmark prints its figures"
)]

use hydrofetch::manifest;
use hydrofetch::plan::Plan;
use std::fmt::Write as _;
use std::time::Instant;

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Counts the bytes written, like `hydrofetch plan --json > /dev/null`.
struct CountingSink(u64);

impl std::io::Write for CountingSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn main() {
    let rows: usize = std::env::var("HYDROFETCH_BENCH_ROWS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("requests.csv");
    let devices = [
        "ICLISTENHF6324",
        "ICLISTENHF1251",
        "ICLISTENHF1252",
        "JASCOAMARHYDROPHONE1",
    ];
    let mut text = String::with_capacity(rows * 110);
    text.push_str(
        "deviceCode,timestamp,pad_seconds,clip,download_audio,data_product_options,label\n",
    );
    let base = 1_711_929_600_i64; // 2024-04-01T00:00:00Z
    for i in 0..rows {
        // The request this row asks for: its own, or the previous row's (a duplicate).
        let k = if i % 500 == 499 { i - 1 } else { i };
        let t = chrono::DateTime::from_timestamp(base + (k as i64) * 37, 0).unwrap();
        let opts = if k % 10 == 0 {
            "\"{\"\"dpo_spectralDataDownsample\"\": 2}\""
        } else {
            ""
        };
        let _ = writeln!(
            text,
            "{},{},15,{},{},{},event {i}",
            devices[k % devices.len()],
            t.format("%Y-%m-%dT%H:%M:%SZ"),
            if k % 2 == 0 { "yes" } else { "no" },
            if k % 4 == 0 { "true" } else { "false" },
            opts
        );
    }
    std::fs::write(&path, &text).unwrap();
    drop(text);
    let size = std::fs::metadata(&path).unwrap().len();

    let t0 = Instant::now();
    let m = manifest::load(&path).unwrap();
    let t_load = t0.elapsed();
    let peak_loaded = peak_rss_mib();
    let t1 = Instant::now();
    let plan = Plan::build(std::slice::from_ref(&m)).unwrap();
    let t_plan = t1.elapsed();
    let peak_planned = peak_rss_mib();
    let t2 = Instant::now();
    let mut out = CountingSink(0);
    hydrofetch::plan::render::write_json(
        &plan,
        &hydrofetch::plan::render::PlanStatus::fresh(&plan),
        &mut std::io::BufWriter::new(&mut out),
    )
    .unwrap();
    let t_json = t2.elapsed();

    println!("rows: {rows} ({:.1} MiB CSV)", size as f64 / 1_048_576.0);
    println!("load + validate: {:.2} s", t_load.as_secs_f64());
    println!(
        "plan (items, ids, dedupe, grouping): {:.2} s",
        t_plan.as_secs_f64()
    );
    println!("load + plan: {:.2} s", (t_load + t_plan).as_secs_f64());
    println!(
        "plan --json rendering: {:.2} s ({:.0} MiB)",
        t_json.as_secs_f64(),
        out.0 as f64 / 1_048_576.0
    );
    println!(
        "items: {} ({} fetch, {} clip); ONC requests: {}",
        plan.items.len(),
        plan.fetch_items().count(),
        plan.clip_items().count(),
        plan.requests.len()
    );
    let clip_requests = plan.clip_requests();
    let clips = plan.clip_items().count();
    println!(
        "clip requests: {clip_requests} → {clips} clips ({} duplicates share a file)",
        clip_requests - clips
    );
    if let Some(mib) = peak_loaded {
        println!("peak memory after load (VmHWM): {mib:.0} MiB");
    }
    if let Some(mib) = peak_planned {
        println!("peak memory after load + plan (VmHWM): {mib:.0} MiB");
    }
    if let Some(mib) = peak_rss_mib() {
        println!("peak memory after streaming --json (VmHWM): {mib:.0} MiB");
    }
}
