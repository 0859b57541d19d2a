//! Fault injection: the `--faults` grammar and deterministic fault draws.
//!
//! Grammar: a comma-separated list of `KIND=RATE`, RATE a probability in `[0, 1]`, KIND one
//! of `500`, `503`, `429` (answered at once, `429` with `Retry-After: 1`), `reset` (the
//! connection drops after half the body), `truncate` (half the body is sent under the full
//! `Content-Length`), `slow` (the body trickles at about 1 MB/s), `short_body` (half the body
//! is sent WITHOUT `Content-Length` and ends cleanly: to HTTP it looks whole), `echo_token` (a
//! hostile server: the answer is an error document that repeats the request's token among
//! terminal escape sequences; drawn on `dataProductDelivery/run`, the run's status text does
//! instead), `run_error` (a data-product run ends in `error`). Example:
//! `500=0.05,503=0.05,429=0.05,reset=0.02`.
//! An empty spec injects nothing. The sum of the request-level rates must not exceed 1.
//!
//! Decisions recorded here:
//! - Each `api/*` request gets the number `n` of its arrival (0, 1, ...); its draw is a
//!   SplitMix64 hash of `(seed, n)` mapped to `[0, 1)` and compared with the cumulative rates
//!   in the order above, so a seed and a request sequence give the same faults every time.
//! - `reset`, `truncate`, `slow` and `short_body` only act on file bodies (`archivefile/download`,
//!   `dataProductDelivery/download` answering 200); drawn elsewhere they do nothing.
//! - With any `echo_token` rate, every 401 answer (a bad token) echoes the token too.
//! - `run_error` is drawn per (seed, run id, attempt), independently of request draws.
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
        "unknown fault kind `{kind}` (expected 500, 503, 429, reset, truncate, slow, short_body, echo_token, run_error)"
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
            let kind = [FaultKind::RunError]
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

/// SplitMix64 of `x`.
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

#[cfg(test)]
mod tests {
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
