//! How an error becomes an exit code: the one place that decides it.
//!
//! - 0: done; also a broken pipe on stdout (`hydrofetch plan --json | head`), like other
//!   Unix tools;
//! - 1: items failed, a verify mismatch, or a runtime error (I/O, network, a busy lockfile);
//! - 2: a bad manifest or bad usage ([`UsageError`], or a command returning
//!   [`Outcome::BadInput`](super::Outcome::BadInput));
//! - 130: interrupted.
//!
//! Commands return `anyhow::Result<Outcome>`; an `Err` is a runtime error unless its chain
//! holds a [`UsageError`] or a broken pipe.

use std::io;

/// Bad usage found after argument parsing (clap exits 2 itself for what it finds): a missing
/// token, a flag that does not fit the other arguments.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct UsageError(String);

impl UsageError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

/// What an error means for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorKind {
    /// Bad usage: exit 2.
    Usage,
    /// Stdout was closed by its reader: exit 0, print nothing.
    BrokenPipe,
    /// Anything else: exit 1.
    Runtime,
}

/// Classifies an error by its chain.
pub(crate) fn classify(err: &anyhow::Error) -> ErrorKind {
    for cause in err.chain() {
        if cause.is::<UsageError>() {
            return ErrorKind::Usage;
        }
        if let Some(e) = cause.downcast_ref::<io::Error>()
            && e.kind() == io::ErrorKind::BrokenPipe
        {
            return ErrorKind::BrokenPipe;
        }
    }
    ErrorKind::Runtime
}

/// The exit code of an error.
pub(crate) fn exit_code(err: &anyhow::Error) -> u8 {
    match classify(err) {
        ErrorKind::Usage => 2,
        ErrorKind::BrokenPipe => 0,
        ErrorKind::Runtime => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_error_has_its_code() {
        let usage = anyhow::Error::from(UsageError::new("no token"));
        assert_eq!(exit_code(&usage), 2);
        let usage_with_context = usage.context("while connecting");
        assert_eq!(exit_code(&usage_with_context), 2);
        let pipe = anyhow::Error::from(io::Error::from(io::ErrorKind::BrokenPipe));
        assert_eq!(exit_code(&pipe), 0);
        let refused = anyhow::Error::from(io::Error::from(io::ErrorKind::ConnectionRefused));
        assert_eq!(exit_code(&refused), 1);
        let lock = anyhow::Error::from(crate::lock::LockError::Io {
            path: "x.lock".into(),
            source: io::Error::from(io::ErrorKind::PermissionDenied),
        });
        assert_eq!(exit_code(&lock), 1);
    }
}
