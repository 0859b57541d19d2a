//! The simulator's data seam: the bytes of one product made from one source file, the
//! synthetic events of a span, and the cache in front of both.
//!
//! Decisions recorded here:
//! - Bytes come from [`crate::products`] (signal helper's generator and the `formats`
//!   encoders); nothing here computes signals or encodes files.
//! - Audio resampling (`dpo_audioDownsample`) is simulated by generating the same synthetic
//!   scene at the requested rate (the noise realisation differs from the native-rate file);
//!   such files carry a `-<rate>Hz` suffix.
//! - The MAT `Meta.creationDate` is the source file's end, so the same seed gives the same
//!   bytes on every run.
//! - Cache key: (device, file start, frames, product and options, seed). Memory cache bounded
//!   in bytes (oldest entry evicted first); optional disk cache under `--cache-dir`, one file
//!   per key named by the SHA-256 of the key, written to a temporary name and renamed.
//! - Concurrent requests for the same uncached file share one generation.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use bytes::Bytes;
use sha2::{Digest, Sha256};

use crate::catalogue::{Catalogue, SourceFile};
use crate::events::SynthEvent;
use crate::products::{self, AudioExt, MatMeta};
use crate::render::RenderOptions;
use crate::signal::{self, SignalSpec};
use crate::spectro::Resolution;
use crate::time::UtcInstant;

/// What to make from a source file.
#[derive(Debug, Clone, PartialEq)]
pub enum ProductKind {
    /// Audio at `rate` samples per second.
    Audio {
        /// Container.
        ext: AudioExt,
        /// Output rate (the device's own rate unless resampled).
        rate: u32,
    },
    /// HSD MAT at a resolution.
    Mat(Resolution),
    /// HSD PNG with plot options.
    Png(RenderOptions),
}

impl ProductKind {
    /// File name of this product made from `src`.
    #[must_use]
    pub fn file_name(&self, src: &SourceFile) -> String {
        let base = src.base_name();
        match self {
            Self::Audio { ext, rate } => {
                let e = audio_ext(*ext);
                if *rate == src.sample_rate {
                    format!("{base}.{e}")
                } else {
                    format!("{base}-{rate}Hz.{e}")
                }
            }
            Self::Mat(_) => format!("{base}-spect.mat"),
            Self::Png(_) => format!("{base}-spect.png"),
        }
    }

    /// The cache key part describing the product and options.
    #[must_use]
    pub fn key(&self) -> String {
        match self {
            Self::Audio { ext, rate } => format!("audio.{}.{rate}", audio_ext(*ext)),
            Self::Mat(r) => format!("mat.{r:?}"),
            Self::Png(o) => format!(
                "png.{}.{}.{:?}.{}",
                o.lower_db, o.upper_db, o.freq_upper_hz, o.palette
            ),
        }
    }
}

/// `flac` or `wav`.
#[must_use]
pub fn audio_ext(e: AudioExt) -> &'static str {
    match e {
        AudioExt::Flac => "flac",
        AudioExt::Wav => "wav",
    }
}

/// Errors of the data seam.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The encoder failed.
    #[error("cannot encode {name}")]
    Encode {
        /// File name.
        name: String,
        /// Cause.
        #[source]
        source: crate::formats::FormatError,
    },
    /// The generator task failed.
    #[error("generator task failed for {name}")]
    Task {
        /// File name.
        name: String,
    },
}

/// Makes the bytes of `kind` from `src` (slow: call off the async runtime).
pub fn make_bytes(
    cat: &Catalogue,
    src: &SourceFile,
    kind: &ProductKind,
    seed: u64,
) -> Result<Vec<u8>, DataError> {
    let spec = SignalSpec::new(src.device, src.sample_rate, src.bits, seed);
    let name = kind.file_name(src);
    let r = match kind {
        ProductKind::Audio { ext, rate } => {
            let s = SignalSpec::new(src.device, *rate, src.bits, seed);
            let frames = products::frames_between(*rate, src.start, src.end);
            products::audio_file(&s, src.start, frames, *ext)
        }
        ProductKind::Mat(res) => {
            products::hsd_mat(&spec, src.start, src.frames, *res, &mat_meta(cat, src))
        }
        ProductKind::Png(opts) => products::hsd_png(&spec, src.start, src.frames, opts),
    };
    r.map_err(|source| DataError::Encode { name, source })
}

/// Makes the bytes of `kind` from `src`, or a tiny placeholder of it when `tiny` (see
/// [`products::tiny_product`]).
pub fn make_product(
    cat: &Catalogue,
    src: &SourceFile,
    kind: &ProductKind,
    seed: u64,
    tiny: bool,
) -> Result<Vec<u8>, DataError> {
    if !tiny {
        return make_bytes(cat, src, kind, seed);
    }
    let spec = SignalSpec::new(src.device, src.sample_rate, src.bits, seed);
    let meta;
    let (spec, tk) = match kind {
        ProductKind::Audio { ext, rate } => (
            SignalSpec::new(src.device, *rate, src.bits, seed),
            products::TinyKind::Audio(*ext),
        ),
        ProductKind::Mat(res) => {
            meta = mat_meta(cat, src);
            (spec, products::TinyKind::Mat(*res, &meta))
        }
        ProductKind::Png(_) => (spec, products::TinyKind::Png),
    };
    products::tiny_product(&spec, src.start, src.frames, tk).map_err(|source| DataError::Encode {
        name: kind.file_name(src),
        source,
    })
}

fn mat_meta(cat: &Catalogue, src: &SourceFile) -> MatMeta {
    let dev = cat.device(src.device);
    let dep = dev.and_then(|d| {
        d.deployments
            .iter()
            .find(|x| x.location_code == src.location)
    });
    let loc = cat.location(src.location);
    MatMeta {
        device_id: dev.map_or(0, |d| d.id),
        device_code: src.device.to_owned(),
        device_name: dev.map_or_else(String::new, |d| d.name.to_owned()),
        location_code: src.location.to_owned(),
        location_name: loc.map_or_else(String::new, |l| l.name.to_owned()),
        lat: dep.map_or(0.0, |d| d.lat),
        lon: dep.map_or(0.0, |d| d.lon),
        depth: dep.map_or(0.0, |d| d.depth),
        creation_date: src.end,
        citation: dev
            .zip(dep)
            .map(|(d, x)| cat.citation(d, x).0)
            .unwrap_or_default(),
    }
}

/// Synthetic events of `device` overlapping `[from, to)`.
#[must_use]
pub fn events(
    cat: &Catalogue,
    device: &str,
    from: UtcInstant,
    to: UtcInstant,
    seed: u64,
) -> Vec<SynthEvent> {
    cat.device(device).map_or_else(Vec::new, |d| {
        signal::events(
            &SignalSpec::new(d.code, d.sample_rate, d.bits, seed),
            from,
            to,
        )
    })
}

/// Memory (bounded) and disk cache of generated files.
#[derive(Debug)]
pub struct Cache {
    mem: Mutex<MemCache>,
    inflight: Mutex<HashMap<String, Arc<OnceCell<Bytes>>>>,
    cap_bytes: usize,
    dir: Option<PathBuf>,
}

#[derive(Debug, Default)]
struct MemCache {
    map: HashMap<String, Bytes>,
    order: VecDeque<String>,
    bytes: usize,
}

impl Cache {
    /// A cache holding up to `cap_bytes` in memory, and files under `dir` if given.
    #[must_use]
    pub fn new(cap_bytes: usize, dir: Option<PathBuf>) -> Self {
        Self {
            mem: Mutex::new(MemCache::default()),
            inflight: Mutex::new(HashMap::new()),
            cap_bytes,
            dir,
        }
    }

    fn mem_get(&self, key: &str) -> Option<Bytes> {
        self.mem.lock().ok()?.map.get(key).cloned()
    }

    fn mem_put(&self, key: &str, b: &Bytes) {
        if b.len() > self.cap_bytes {
            return;
        }
        let Ok(mut m) = self.mem.lock() else { return };
        if m.map.contains_key(key) {
            return;
        }
        while m.bytes + b.len() > self.cap_bytes {
            let Some(old) = m.order.pop_front() else {
                break;
            };
            if let Some(v) = m.map.remove(&old) {
                m.bytes -= v.len();
            }
        }
        m.bytes += b.len();
        m.order.push_back(key.to_owned());
        m.map.insert(key.to_owned(), b.clone());
    }

    fn disk_path(&self, key: &str) -> Option<PathBuf> {
        let d = self.dir.as_ref()?;
        Some(d.join(format!(
            "{}.bin",
            hex::encode(Sha256::digest(key.as_bytes()))
        )))
    }

    /// The cached bytes for `key`, or those made by `make` (run on a blocking thread).
    /// Concurrent calls for the same key share one generation.
    pub async fn get_or_make<F>(
        &self,
        key: String,
        name: String,
        make: F,
    ) -> Result<Bytes, DataError>
    where
        F: FnOnce() -> Result<Vec<u8>, DataError> + Send + 'static,
    {
        if let Some(b) = self.mem_get(&key) {
            return Ok(b);
        }
        let cell = {
            let Ok(mut m) = self.inflight.lock() else {
                return Err(DataError::Task { name });
            };
            m.entry(key.clone()).or_default().clone()
        };
        let r = cell
            .get_or_try_init(|| self.load_or_make(&key, name, make))
            .await
            .cloned();
        if let Ok(mut m) = self.inflight.lock() {
            m.remove(&key);
        }
        r
    }

    async fn load_or_make<F>(&self, key: &str, name: String, make: F) -> Result<Bytes, DataError>
    where
        F: FnOnce() -> Result<Vec<u8>, DataError> + Send + 'static,
    {
        let path = self.disk_path(key);
        if let Some(p) = &path
            && let Ok(v) = tokio::fs::read(p).await
        {
            let b = Bytes::from(v);
            self.mem_put(key, &b);
            return Ok(b);
        }
        let v = tokio::task::spawn_blocking(make)
            .await
            .map_err(|_| DataError::Task { name: name.clone() })??;
        let b = Bytes::from(v);
        if let Some(p) = path {
            // Best effort: a failed disk write only costs a regeneration later.
            let _ = write_atomic(p, b.clone()).await;
        }
        self.mem_put(key, &b);
        Ok(b)
    }
}

async fn write_atomic(path: PathBuf, b: Bytes) -> std::io::Result<()> {
    tokio::task::spawn_blocking(move || crate::atomic::write_atomic(&path, &b))
        .await
        .map_err(std::io::Error::other)?
}

/// Cache key of a product of `src`.
#[must_use]
pub fn cache_key(src: &SourceFile, kind: &ProductKind, seed: u64) -> String {
    format!(
        "{}|{}|{}|{}|{seed}",
        src.device,
        src.start.unix_millis(),
        src.frames,
        kind.key()
    )
}

/// Cache key of a product of `src` made by [`make_product`] (tiny placeholders have their
/// own keys, so a disk cache shared by a tiny and a full simulator never mixes them).
#[must_use]
pub fn product_key(src: &SourceFile, kind: &ProductKind, seed: u64, tiny: bool) -> String {
    let key = cache_key(src, kind, seed);
    if tiny { format!("{key}|tiny") } else { key }
}
