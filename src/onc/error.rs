//! Typed errors of the ONC client, and which of them are worth retrying.
//!
//! ONC reports bad input as HTTP 400 with `{"errors": [{"errorCode", "errorMessage",
//! "parameter"}]}` ([`super::wire::ErrorBody`]) and a bad token as 401; both are permanent.
//! Transport failures, 5xx, 429 and bodies shorter than their `Content-Length` are transient. Every message that could quote
//! a URL is redacted before it is stored here, so printing an [`OncError`] never shows the token.

use std::path::PathBuf;
use std::time::Duration;

/// One entry of ONC's error document: the wire type itself, its text cleaned by the client
/// before it is stored in an [`OncError`].
pub use super::wire::ErrorItem as ApiErrorItem;

/// An error from an ONC API call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OncError {
    /// ONC rejected the request (HTTP 400), with its error document.
    #[error("ONC rejected {endpoint}: {}", join(.errors))]
    Rejected {
        /// The service path, e.g. `dataProductDelivery/request`.
        endpoint: String,
        /// ONC's errors (may be empty: some 400s carry no document).
        errors: Vec<ApiErrorItem>,
    },
    /// The token was refused (HTTP 401).
    #[error("ONC refused the token (HTTP 401) on {endpoint}: check ONC_TOKEN, .env or --token")]
    Unauthorized {
        /// The service path.
        endpoint: String,
    },
    /// A status that is not an answer: 5xx, 429, or another unexpected one.
    #[error("ONC answered HTTP {status} on {endpoint}")]
    Status {
        /// The service path.
        endpoint: String,
        /// HTTP status.
        status: u16,
        /// The server's `Retry-After`, if any.
        retry_after: Option<Duration>,
    },
    /// The connection failed, timed out or broke.
    #[error("network error on {endpoint}: {message}")]
    Transport {
        /// The service path.
        endpoint: String,
        /// What happened (token redacted).
        message: String,
    },
    /// The body ended before its announced length.
    #[error("download from {endpoint} was cut short: got {got} of {expected} bytes")]
    Truncated {
        /// The service path.
        endpoint: String,
        /// `Content-Length`.
        expected: u64,
        /// Bytes received.
        got: u64,
    },
    /// The answer could not be understood.
    #[error("unexpected answer from {endpoint}: {message}")]
    Decode {
        /// The service path.
        endpoint: String,
        /// What was wrong.
        message: String,
    },
    /// A generated file is gone from ONC's staging area (HTTP 410): the product must be re-run.
    #[error(
        "ONC no longer has the file on {endpoint} (HTTP 410): the product must be requested again"
    )]
    Gone {
        /// The service path.
        endpoint: String,
    },
    /// Writing a download to disk failed.
    #[error("cannot write {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

fn join(errors: &[ApiErrorItem]) -> String {
    if errors.is_empty() {
        return "HTTP 400 without an error document".to_owned();
    }
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl OncError {
    /// Whether trying the same call again may succeed.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Status { status, .. } => *status == 429 || *status == 408 || *status >= 500,
            Self::Transport { .. } | Self::Truncated { .. } | Self::Decode { .. } => true,
            Self::Rejected { .. }
            | Self::Unauthorized { .. }
            | Self::Gone { .. }
            | Self::Io { .. } => false,
        }
    }

    /// The delay the server asked for, if it did.
    #[must_use]
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// ONC's error codes, if ONC sent an error document.
    #[must_use]
    pub fn api_codes(&self) -> Vec<u32> {
        match self {
            Self::Rejected { errors, .. } => errors.iter().map(|e| e.error_code).collect(),
            _ => Vec::new(),
        }
    }
}

/// Exponential backoff with full jitter, bounded in attempts.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// Delay before the first retry (before jitter).
    pub base: Duration,
    /// Upper bound of any one delay.
    pub cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            base: Duration::from_millis(250),
            cap: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The delay before retry number `attempt` (1 = first retry), given a `jitter` in `[0, 1)`;
    /// a server's `Retry-After` wins when it is longer.
    #[must_use]
    pub fn delay(&self, attempt: u32, jitter: f64, retry_after: Option<Duration>) -> Duration {
        let exp = self
            .base
            .saturating_mul(1_u32 << attempt.saturating_sub(1).min(16));
        let ceiling = exp.min(self.cap);
        // Full jitter, but never less than half the step, so retries do not bunch at zero.
        let d = ceiling.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0));
        retry_after.map_or(d, |ra| ra.min(self.cap.saturating_mul(4)).max(d))
    }
}

/// Consecutive failures of one repeated call (a poll, a download), and when to stop trying.
///
/// A permanent error ([`OncError::is_retryable`] false: 400, 401, 403, 404…) ends the streak
/// at once; a transient one is tried again until `limit` of them came in a row. A success
/// resets the count, so a long run that sometimes fails is never given up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureStreak {
    limit: u32,
    count: u32,
}

impl FailureStreak {
    /// A streak that gives up after `limit` consecutive transient failures (at least 1).
    #[must_use]
    pub fn new(limit: u32) -> Self {
        Self {
            limit: limit.max(1),
            count: 0,
        }
    }

    /// The call succeeded.
    pub fn success(&mut self) {
        self.count = 0;
    }

    /// The call failed with `e`: whether to try it again.
    #[must_use]
    pub fn retry_after_failure(&mut self, e: &OncError) -> bool {
        if !e.is_retryable() {
            return false;
        }
        self.count = self.count.saturating_add(1);
        self.count < self.limit
    }

    /// Failures in a row so far.
    #[must_use]
    pub fn count(&self) -> u32 {
        self.count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_what_to_retry() {
        let st = |status| OncError::Status {
            endpoint: "x".into(),
            status,
            retry_after: None,
        };
        assert!(st(500).is_retryable() && st(503).is_retryable() && st(429).is_retryable());
        assert!(!st(404).is_retryable());
        assert!(
            !OncError::Unauthorized {
                endpoint: "x".into()
            }
            .is_retryable()
        );
        let rej = OncError::Rejected {
            endpoint: "dataProductDelivery/request".into(),
            errors: vec![ApiErrorItem {
                error_code: 127,
                error_message: "Invalid parameter value".into(),
                parameter: "deviceCode".into(),
            }],
        };
        assert!(!rej.is_retryable());
        assert_eq!(rej.api_codes(), [127]);
        assert_eq!(
            rej.to_string(),
            "ONC rejected dataProductDelivery/request: API Error 127: Invalid parameter value (parameter: deviceCode)"
        );
    }

    #[test]
    fn backoff_grows_is_capped_and_honours_retry_after() {
        let p = RetryPolicy {
            max_attempts: 5,
            base: Duration::from_millis(100),
            cap: Duration::from_secs(2),
        };
        assert_eq!(p.delay(1, 1.0, None), Duration::from_millis(100));
        assert_eq!(p.delay(3, 1.0, None), Duration::from_millis(400));
        assert_eq!(p.delay(3, 0.0, None), Duration::from_millis(200));
        assert_eq!(p.delay(30, 1.0, None), Duration::from_secs(2));
        assert_eq!(
            p.delay(1, 0.0, Some(Duration::from_secs(3))),
            Duration::from_secs(3)
        );
    }

    #[test]
    fn a_streak_gives_up_at_once_on_permanent_errors_and_after_a_bounded_run_of_transient_ones() {
        let transient = OncError::Status {
            endpoint: "dataProductDelivery/run".into(),
            status: 503,
            retry_after: None,
        };
        let mut s = FailureStreak::new(3);
        assert!(s.retry_after_failure(&transient));
        assert!(s.retry_after_failure(&transient));
        // A success in between starts the count again.
        s.success();
        assert!(s.retry_after_failure(&transient));
        assert!(s.retry_after_failure(&transient));
        assert!(
            !s.retry_after_failure(&transient),
            "the third in a row gives up"
        );
        assert_eq!(s.count(), 3);

        let mut s = FailureStreak::new(8);
        for permanent in [
            OncError::Unauthorized {
                endpoint: "x".into(),
            },
            OncError::Rejected {
                endpoint: "x".into(),
                errors: Vec::new(),
            },
            OncError::Status {
                endpoint: "x".into(),
                status: 403,
                retry_after: None,
            },
            OncError::Status {
                endpoint: "x".into(),
                status: 404,
                retry_after: None,
            },
        ] {
            assert!(!s.retry_after_failure(&permanent), "{permanent}");
        }
        assert_eq!(s.count(), 0);
        // A limit of 0 still allows one attempt's failure to be reported, never a loop.
        assert!(!FailureStreak::new(0).retry_after_failure(&transient));
    }
}
