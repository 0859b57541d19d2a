//! Simulator serving and generation figures. Run with `cargo bench --bench sim_serve`.
//!
//! Prints (1) the cold generation time of one 5-minute `ICLISTENHF6324` (64 kHz, 24-bit) file
//! per product, measured on the data seam without HTTP, and (2) the throughput of serving a
//! cached file over loopback HTTP with 8 concurrent downloads (target ≥ 300 MB/s).
//! `HYDROFETCH_BENCH_ROUNDS` changes the downloads per client (default 4).
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

use std::time::Instant;

use hydrofetch::sim::catalogue::Catalogue;
use hydrofetch::sim::data::{ProductKind, make_bytes};
use hydrofetch::sim::products::AudioExt;
use hydrofetch::sim::render::RenderOptions;
use hydrofetch::sim::spectro::Resolution;
use hydrofetch::sim::{DEMO_TOKEN, SimConfig};
use hydrofetch::time::UtcInstant;

fn main() {
    let cat = Catalogue::builtin();
    let dev = cat.device("ICLISTENHF6324").unwrap();
    let start = UtcInstant::parse("2024-04-01T12:00:03.000Z").unwrap();
    let src = cat.file_at(dev, start, UtcInstant::now()).unwrap();
    println!("cold generation, one 5-minute 64 kHz 24-bit file:");
    let kinds = [
        (
            "AD flac",
            ProductKind::Audio {
                ext: AudioExt::Flac,
                rate: 64_000,
            },
        ),
        (
            "AD wav",
            ProductKind::Audio {
                ext: AudioExt::Wav,
                rate: 64_000,
            },
        ),
        ("HSD mat downsample 1", ProductKind::Mat(Resolution::Minute)),
        ("HSD mat downsample 2", ProductKind::Mat(Resolution::Plot)),
        ("HSD mat downsample 0", ProductKind::Mat(Resolution::Full)),
        ("HSD png", ProductKind::Png(RenderOptions::default())),
    ];
    for (label, kind) in &kinds {
        let t = Instant::now();
        let b = make_bytes(&cat, &src, kind, 0).unwrap();
        println!(
            "  {label:<22} {:>8.2} s  {:>10} bytes",
            t.elapsed().as_secs_f64(),
            b.len()
        );
    }

    let rounds: usize = std::env::var("HYDROFETCH_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let h = hydrofetch::sim::spawn(SimConfig::default()).await.unwrap();
        let url = format!(
            "{}api/archivefile/download?filename={}&token={DEMO_TOKEN}",
            h.base_url,
            ProductKind::Audio { ext: AudioExt::Wav, rate: 64_000 }.file_name(&src)
        );
        let client = reqwest::Client::new();
        // Warm the cache.
        let size = client.get(&url).send().await.unwrap().bytes().await.unwrap().len();
        let t = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (client, url) = (client.clone(), url.clone());
            tasks.push(tokio::spawn(async move {
                let mut n = 0usize;
                for _ in 0..rounds {
                    let mut r = client.get(&url).send().await.unwrap();
                    while let Some(c) = r.chunk().await.unwrap() {
                        n += c.len();
                    }
                }
                n
            }));
        }
        let mut total = 0usize;
        for t in tasks {
            total += t.await.unwrap();
        }
        let secs = t.elapsed().as_secs_f64();
        #[expect(clippy::cast_precision_loss, reason = "byte counts fit")]
        let mb = total as f64 / 1e6;
        println!(
            "serving a cached {size}-byte file, 8 concurrent downloads × {rounds}: {mb:.0} MB in {secs:.2} s = {:.0} MB/s",
            mb / secs
        );
        h.shutdown().await;
    });
}
