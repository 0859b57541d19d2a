//! Manifest errors: one [`Diagnostic`] per problem, all of a file's problems at once.
//!
//! Decisions recorded here:
//! - A diagnostic names the file, where in it (line and column for TOML/YAML/JSON, the row
//!   for CSV with the header as row 1), the field (a path such as `requests[1].pad_seconds`
//!   or a CSV column), and a message that says what was found and what was expected.
//! - Validation never stops at the first problem: loaders collect every diagnostic of a file
//!   and return them together in [`ManifestError::Invalid`].

use std::fmt;
use std::path::PathBuf;

/// Where in a file a diagnostic points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Loc {
    /// Line and column, both counted from 1 (TOML, YAML, JSON).
    Pos {
        /// Line, from 1.
        line: u32,
        /// Column, from 1.
        col: u32,
    },
    /// A CSV row, counted from 1 with the header as row 1.
    Row(u64),
    /// Not known (values given on the command line).
    #[default]
    Unknown,
}

/// One problem in a manifest or request file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file (or `<command line>`).
    pub file: PathBuf,
    /// Where in the file.
    pub loc: Loc,
    /// The field: a path such as `requests[1].pad_seconds`, or a CSV column name.
    pub field: String,
    /// What is wrong: what was found and what was expected.
    pub message: String,
    /// A hint, such as the closest known field name.
    pub help: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.display();
        match self.loc {
            Loc::Pos { line, col } => write!(f, "{file}:{line}:{col}: `{}`: ", self.field)?,
            Loc::Row(row) => write!(f, "{file}: row {row}, column `{}`: ", self.field)?,
            Loc::Unknown => write!(f, "{file}: `{}`: ", self.field)?,
        }
        f.write_str(&self.message)?;
        if let Some(help) = &self.help {
            write!(f, " ({help})")?;
        }
        Ok(())
    }
}

/// Errors from loading manifests.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestError {
    /// The file could not be read.
    #[error("cannot read {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file's extension names no supported format.
    #[error(
        "cannot tell the format of {} (expected a .toml, .yaml, .yml, .json or .csv file)",
        path.display()
    )]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// The file (or a file it references) has one or more problems.
    #[error("{} has {} error{}", path.display(), diagnostics.len(), if diagnostics.len() == 1 { "" } else { "s" })]
    Invalid {
        /// The manifest given by the user.
        path: PathBuf,
        /// Every problem found, in file order.
        diagnostics: Vec<Diagnostic>,
    },
}

impl ManifestError {
    /// The diagnostics carried, if any.
    #[must_use]
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            Self::Invalid { diagnostics, .. } => diagnostics,
            _ => &[],
        }
    }
}

/// Collects diagnostics for one file.
#[derive(Debug)]
pub(crate) struct Sink {
    pub(crate) file: PathBuf,
    pub(crate) diags: Vec<Diagnostic>,
}

impl Sink {
    pub(crate) fn new(file: PathBuf) -> Self {
        Self {
            file,
            diags: Vec::new(),
        }
    }

    /// Records a problem.
    pub(crate) fn push(&mut self, loc: Loc, field: &str, message: impl Into<String>) {
        self.diags.push(Diagnostic {
            file: self.file.clone(),
            loc,
            field: field.to_owned(),
            message: message.into(),
            help: None,
        });
    }

    /// Records a problem with a hint.
    pub(crate) fn push_help(&mut self, loc: Loc, field: &str, message: String, help: String) {
        self.diags.push(Diagnostic {
            file: self.file.clone(),
            loc,
            field: field.to_owned(),
            message,
            help: Some(help),
        });
    }

    /// Records an unknown field, suggesting the closest known one.
    pub(crate) fn unknown_field(&mut self, loc: Loc, path: &str, key: &str, known: &[&str]) {
        let message = format!("unknown field `{key}`");
        match closest(key, known) {
            Some(best) => self.push_help(loc, path, message, format!("did you mean `{best}`?")),
            None => {
                let list = known
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                self.push_help(loc, path, message, format!("expected one of {list}"));
            }
        }
    }
}

/// The known name closest to `key`, if any is close enough to be a likely typo.
pub(crate) fn closest<'a>(key: &str, known: &[&'a str]) -> Option<&'a str> {
    let lower = key.to_ascii_lowercase();
    known
        .iter()
        .map(|k| (strsim::jaro_winkler(&lower, &k.to_ascii_lowercase()), *k))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_closest_field() {
        let known = ["pad_seconds", "pad_before_seconds", "label"];
        assert_eq!(closest("pad_secs", &known), Some("pad_seconds"));
        assert_eq!(closest("padseconds", &known), Some("pad_seconds"));
        assert_eq!(closest("zzz", &known), None);
    }
}
