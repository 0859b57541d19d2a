//! Fault injection: the `--faults` grammar and deterministic fault draws.
//!
//! Grammar: a comma-separated list of `KIND=RATE`, RATE a probability in `[0, 1]`, KIND one
//! of `500`, `503`, `429` (answered at once, `429` with `Retry-After: 1`), `reset` (the
//! connection drops after half the body), `truncate` (half the body is sent under the full
//! `Content-Length`), `slow` (the body trickles at about 1 MB/s), `short_body` (half the body
//! is sent WITHOUT `Content-Length` and ends cleanly: to HTTP it looks whole), `echo_token` (a
//! hostile server: the answer is an error document that repeats the request's token among
//! terminal escape sequences; drawn on `dataProductDelivery/run`, the run's status text does
//! instead), `run_error` (a data-product run ends in `error`), `evil_name` (a hostile server: a
//! source file's names in archive listings and in product runs' `Content-Disposition` carry
//! traversal, separators, control bytes or an over-long name), `drop_first` (a server whose
//! window rule is stricter than either documented reading: a product request that selects
//! more than one source file leaves out its first). Example:
//! `500=0.05,503=0.05,429=0.05,reset=0.02`.
//! An empty spec injects nothing. The sum of the request-level rates must not exceed 1.
//!
//! Decisions recorded here:
//! - Each `api/*` request gets the number `n` of its arrival (0, 1, ...); its draw is a
//!   `SplitMix64` hash of `(seed, n)` mapped to `[0, 1)` and compared with the cumulative rates
//!   in the order above, so a seed and a request sequence give the same faults every time.
//! - `reset`, `truncate`, `slow` and `short_body` only act on file bodies (`archivefile/download`,
//!   `dataProductDelivery/download` answering 200); drawn elsewhere they do nothing.
//! - With any `echo_token` rate, every 401 answer (a bad token) echoes the token too.
//! - `run_error` is drawn per (seed, run id, attempt), independently of request draws.
//! - `drop_first` is drawn per (seed, device, dateFrom, dateTo), so the same request loses
//!   the same file every time; a request selecting one file keeps it (asking for exactly
//!   the missing file is how a client recovers).
//! - `evil_name` is drawn per (seed, device, file start), so a file has the same hostile
//!   name in every listing and run; [`FaultSpec::evil_name`] prefixes the real name with one of
//!   [`EVIL_PREFIXES`] (chosen by the same hash), and [`real_name`] strips it again so the
//!   download endpoints still serve the file. A header cannot carry most control bytes, so a
//!   `Content-Disposition` name uses the tab variant ([`EVIL_HEADER_CONTROL`]) instead.
//! - `sim/*` endpoints never get faults.

use std::fmt;
use std::str::FromStr;

/// A kind of fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultKind {
    /// HTTP 500.
    Status500,
    /// HTTP 503.
    Status503,
    /// HTTP 429 with `Retry-After`.
    Status429,
    /// Connection dropped mid-body.
    Reset,
    /// Fewer bytes than `Content-Length`.
    Truncate,
    /// Throttled body.
    Slow,
    /// Half the body, without `Content-Length`, ended cleanly.
    ShortBody,
    /// An answer that echoes the token with escape sequences.
    EchoToken,
    /// A run ends in `error`.
    RunError,
    /// Hostile file names.
    EvilName,
    /// A product request leaves out the first of its files.
    DropFirst,
}

impl FaultKind {
    /// The spec word.
    #[must_use]
    pub fn word(self) -> &'static str {
        match self {
            Self::Status500 => "500",
            Self::Status503 => "503",
            Self::Status429 => "429",
            Self::Reset => "reset",
            Self::Truncate => "truncate",
            Self::Slow => "slow",
            Self::ShortBody => "short_body",
            Self::EchoToken => "echo_token",
            Self::RunError => "run_error",
            Self::EvilName => "evil_name",
            Self::DropFirst => "drop_first",
        }
    }

    const REQUEST_KINDS: [Self; 8] = [
        Self::Status500,
        Self::Status503,
        Self::Status429,
        Self::Reset,
        Self::Truncate,
        Self::Slow,
        Self::ShortBody,
        Self::EchoToken,
    ];
}

/// A parsed `--faults` spec.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultSpec {
    rates: Vec<(FaultKind, f64)>,
}

/// A malformed `--faults` spec.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FaultSpecError {
    /// Not `KIND=RATE`.
    #[error("fault item `{item}` is not KIND=RATE")]
    Item {
        /// The item.
        item: String,
    },
    /// Unknown kind.
    #[error(
        "unknown fault kind `{kind}` (expected 500, 503, 429, reset, truncate, slow, short_body, echo_token, run_error, evil_name, drop_first)"
    )]
    Kind {
        /// The kind.
        kind: String,
    },
    /// Rate not in [0, 1].
    #[error("fault rate `{rate}` of `{kind}` is not a number in [0, 1]")]
    Rate {
        /// The kind.
        kind: String,
        /// The rate text.
        rate: String,
    },
    /// Request-level rates sum above 1.
    #[error("fault rates sum to {sum}, more than 1")]
    Sum {
        /// The sum.
        sum: f64,
    },
}

impl FromStr for FaultSpec {
    type Err = FaultSpecError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut rates = Vec::new();
        for item in s.split(',').map(str::trim).filter(|x| !x.is_empty()) {
            let (k, r) = item.split_once('=').ok_or_else(|| FaultSpecError::Item {
                item: item.to_owned(),
            })?;
            let kind = [
                FaultKind::RunError,
                FaultKind::EvilName,
                FaultKind::DropFirst,
            ]
            .into_iter()
            .chain(FaultKind::REQUEST_KINDS)
            .find(|x| x.word() == k.trim())
            .ok_or_else(|| FaultSpecError::Kind { kind: k.to_owned() })?;
            let rate: f64 = r
                .trim()
                .parse()
                .ok()
                .filter(|x: &f64| (0.0..=1.0).contains(x))
                .ok_or_else(|| FaultSpecError::Rate {
                    kind: k.to_owned(),
                    rate: r.to_owned(),
                })?;
            rates.retain(|(x, _)| *x != kind);
            rates.push((kind, rate));
        }
        let spec = Self { rates };
        let sum: f64 = FaultKind::REQUEST_KINDS.iter().map(|k| spec.rate(*k)).sum();
        if sum > 1.0 + 1e-9 {
            return Err(FaultSpecError::Sum { sum });
        }
        Ok(spec)
    }
}

impl fmt::Display for FaultSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items: Vec<String> = self
            .rates
            .iter()
            .map(|(k, r)| format!("{}={r}", k.word()))
            .collect();
        f.write_str(&items.join(","))
    }
}

/// `SplitMix64` of `x`.
#[must_use]
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn unit(h: u64) -> f64 {
    #[expect(clippy::cast_precision_loss, reason = "53 bits are exact")]
    let v = (h >> 11) as f64 / (1u64 << 53) as f64;
    v
}

impl FaultSpec {
    /// Rate of a kind (0 when absent).
    #[must_use]
    pub fn rate(&self, kind: FaultKind) -> f64 {
        self.rates
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(0.0, |(_, r)| *r)
    }

    /// Whether nothing is injected.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.rates.iter().all(|(_, r)| *r == 0.0)
    }

    /// The request-level fault of request number `n`.
    #[must_use]
    pub fn draw(&self, seed: u64, n: u64) -> Option<FaultKind> {
        let u = unit(mix(mix(seed ^ 0x5EED_F4A1) ^ n));
        let mut acc = 0.0;
        for k in FaultKind::REQUEST_KINDS {
            acc += self.rate(k);
            if u < acc {
                return Some(k);
            }
        }
        None
    }

    /// Whether run `run` (attempt `attempt`) ends in error.
    #[must_use]
    pub fn run_error(&self, seed: u64, run: u64, attempt: u32) -> bool {
        let r = self.rate(FaultKind::RunError);
        r > 0.0
            && unit(mix(mix(seed ^ 0x00E4_4044)
                ^ run
                ^ (u64::from(attempt) << 48)))
                < r
    }
}

impl FaultSpec {
    /// Whether a product request of `device` for `from..to` (Unix milliseconds) leaves out
    /// its first file (module docs).
    #[must_use]
    pub fn drop_first(&self, seed: u64, device: &str, from: i64, to: i64) -> bool {
        let r = self.rate(FaultKind::DropFirst);
        if r <= 0.0 {
            return false;
        }
        let mut h = mix(seed ^ 0x0D40_F157);
        for b in device.bytes() {
            h = mix(h ^ u64::from(b));
        }
        #[expect(clippy::cast_sign_loss, reason = "hashed bits, not a quantity")]
        let h = mix(mix(h ^ from as u64) ^ to as u64);
        unit(h) < r
    }
}

/// The prefixes a hostile name puts before the real one: traversal, a folder, Windows
/// traversal, terminal escapes and control bytes, and length (with the real name, more than
/// 255 bytes).
pub const EVIL_PREFIXES: [&str; 5] = [
    "../../../../",
    "nested/",
    "..\\..\\",
    "\u{1b}]0;owned\u{7}\u{1b}[2J\n",
    "ppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp_",
];

/// The control-byte prefix used in a `Content-Disposition` header (a header can carry a tab,
/// not an escape).
pub const EVIL_HEADER_CONTROL: &str = "ctl\t";

impl FaultSpec {
    /// The hostile name of a file of `device` starting at `start_ms` whose real name is
    /// `real`, or `None` when this file keeps its name. `header`: the name goes into a
    /// `Content-Disposition` header.
    #[must_use]
    pub fn evil_name(
        &self,
        seed: u64,
        device: &str,
        start_ms: i64,
        real: &str,
        header: bool,
    ) -> Option<String> {
        let r = self.rate(FaultKind::EvilName);
        if r <= 0.0 {
            return None;
        }
        let dev = device.bytes().fold(0xCBF2_9CE4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3)
        });
        #[expect(clippy::cast_sign_loss, reason = "a hash input")]
        let h = mix(mix(seed ^ 0x00E7_11AE) ^ dev ^ (start_ms as u64));
        if unit(h) >= r {
            return None;
        }
        #[expect(clippy::cast_possible_truncation, reason = "a small index")]
        let k = (mix(h) % EVIL_PREFIXES.len() as u64) as usize;
        let prefix = match EVIL_PREFIXES.get(k) {
            Some(p) if header && p.chars().any(|c| c.is_control() && c != '\t') => {
                EVIL_HEADER_CONTROL
            }
            Some(p) => p,
            None => return None,
        };
        Some(format!("{prefix}{real}"))
    }
}

/// The real name behind a hostile one (the name itself when it has no hostile prefix).
#[must_use]
pub fn real_name(name: &str) -> &str {
    EVIL_PREFIXES
        .iter()
        .chain(std::iter::once(&EVIL_HEADER_CONTROL))
        .find_map(|p| name.strip_prefix(p))
        .unwrap_or(name)
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::pedantic,
        clippy::print_stderr,
        reason = "test code: casts and formatting on small fixed inputs"
    )]
    use super::*;

    #[test]
    fn parses_and_rejects() {
        let s: FaultSpec = "500=0.05,429=0.1, reset=0.02,run_error=0.5,echo_token=0.2"
            .parse()
            .unwrap();
        assert!((s.rate(FaultKind::Status429) - 0.1).abs() < 1e-12);
        let short: FaultSpec = "short_body=0.5".parse().unwrap();
        assert!((short.rate(FaultKind::ShortBody) - 0.5).abs() < 1e-12);
        assert_eq!(short.to_string(), "short_body=0.5");
        assert!((s.rate(FaultKind::EchoToken) - 0.2).abs() < 1e-12);
        assert_eq!(
            s.to_string(),
            "500=0.05,429=0.1,reset=0.02,run_error=0.5,echo_token=0.2"
        );
        let all: FaultSpec = "echo_token=1".parse().unwrap();
        assert!((0..50).all(|n| all.draw(3, n) == Some(FaultKind::EchoToken)));
        assert_eq!(s.rate(FaultKind::Slow), 0.0);
        assert!("500".parse::<FaultSpec>().is_err());
        assert!("404=0.1".parse::<FaultSpec>().is_err());
        assert!("500=1.5".parse::<FaultSpec>().is_err());
        assert!("500=0.6,503=0.6".parse::<FaultSpec>().is_err());
        assert!("".parse::<FaultSpec>().unwrap().is_empty());
        let e: FaultSpec = "evil_name=0.5".parse().unwrap();
        assert!((e.rate(FaultKind::EvilName) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn evil_names_are_deterministic_and_reversible() {
        let s: FaultSpec = "evil_name=0.5".parse().unwrap();
        let real = "ICLISTENHF6324_20240401T120000.000Z.flac";
        let names: Vec<Option<String>> = (0..200)
            .map(|k| s.evil_name(7, "ICLISTENHF6324", k * 300_000, real, false))
            .collect();
        let again: Vec<Option<String>> = (0..200)
            .map(|k| s.evil_name(7, "ICLISTENHF6324", k * 300_000, real, false))
            .collect();
        assert_eq!(names, again);
        let evil: Vec<&String> = names.iter().flatten().collect();
        assert!((60..140).contains(&evil.len()), "{}", evil.len());
        for p in EVIL_PREFIXES {
            assert!(evil.iter().any(|n| n.starts_with(p)), "{p:?} never drawn");
        }
        for n in &evil {
            assert_eq!(real_name(n), real);
        }
        assert!(EVIL_PREFIXES[4].len() + real.len() > 255);
        for k in 0..200 {
            if let Some(h) = s.evil_name(7, "ICLISTENHF6324", k * 300_000, real, true) {
                assert!(
                    h.bytes().all(|b| b == b'\t' || (32..127).contains(&b)),
                    "{h:?}"
                );
                assert_eq!(real_name(&h), real);
            }
        }
        let none: FaultSpec = "500=0.1".parse().unwrap();
        assert_eq!(none.evil_name(7, "X", 0, real, false), None);
    }

    #[test]
    fn draws_match_rates_and_seed() {
        let s: FaultSpec = "500=0.1,503=0.1".parse().unwrap();
        let n = 20_000;
        let hits = (0..n).filter(|i| s.draw(7, *i).is_some()).count();
        assert!((3_600..4_400).contains(&hits), "{hits}");
        let a: Vec<_> = (0..100).map(|i| s.draw(7, i)).collect();
        let b: Vec<_> = (0..100).map(|i| s.draw(7, i)).collect();
        let c: Vec<_> = (0..100).map(|i| s.draw(8, i)).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
