//! Manifest errors: one [`Diagnostic`] per problem, all of a file's problems at once.
//!
//! Decisions recorded here:
//! - A diagnostic names the file, where in it (line and column for TOML/YAML/JSON, the row
//!   for CSV with the header as row 1), the field (a path such as `requests[1].pad_seconds`
//!   or a CSV column), and a message that says what was found and what was expected.
//! - Validation never stops at the first problem: loaders collect every diagnostic of a file
//!   and return them together in [`ManifestError::Invalid`]; the command line prints the
//!   first [`MAX_PRINTED`] of them and counts the rest.
//! - Output stays bounded whatever the file holds: a field is shown with at most
//!   [`MAX_FIELD_CHARS`] characters and a message with at most [`MAX_MESSAGE_CHARS`], control
//!   characters escaped; a "did you mean" search only runs for keys of at most
//!   [`MAX_SUGGEST_CHARS`] characters (a longer key is no typo, and the search is quadratic).

use std::fmt;
use std::path::PathBuf;

use crate::text::shorten;

/// Diagnostics printed per manifest; the rest are counted.
pub(crate) const MAX_PRINTED: usize = 50;

/// Characters of a field path shown in a diagnostic.
pub(crate) const MAX_FIELD_CHARS: usize = 120;

/// Characters of a message or hint shown in a diagnostic.
pub(crate) const MAX_MESSAGE_CHARS: usize = 500;

/// Longest key for which a close known name is looked for.
pub(crate) const MAX_SUGGEST_CHARS: usize = 64;

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
            field: shorten(field, MAX_FIELD_CHARS),
            message: shorten(&message.into(), MAX_MESSAGE_CHARS),
            help: None,
        });
    }

    /// Records a problem with a hint.
    #[expect(
        clippy::needless_pass_by_value,
        reason = "callers build the hint for this call; taking it owned keeps them simple"
    )]
    pub(crate) fn push_help(&mut self, loc: Loc, field: &str, message: String, help: String) {
        self.diags.push(Diagnostic {
            file: self.file.clone(),
            loc,
            field: shorten(field, MAX_FIELD_CHARS),
            message: shorten(&message, MAX_MESSAGE_CHARS),
            help: Some(shorten(&help, MAX_MESSAGE_CHARS)),
        });
    }

    /// Records an unknown field, suggesting the closest known one.
    pub(crate) fn unknown_field(&mut self, loc: Loc, path: &str, key: &str, known: &[&str]) {
        let message = format!("unknown field `{}`", shorten(key, MAX_FIELD_CHARS));
        if let Some(best) = closest(key, known) {
            self.push_help(loc, path, message, format!("did you mean `{best}`?"));
        } else {
            let list = known
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ");
            self.push_help(loc, path, message, format!("expected one of {list}"));
        }
    }
}

/// The known name closest to `key`, if any is close enough to be a likely typo (never for a
/// key longer than [`MAX_SUGGEST_CHARS`]).
pub(crate) fn closest<'a>(key: &str, known: &[&'a str]) -> Option<&'a str> {
    if key.len() > MAX_SUGGEST_CHARS * 4 || key.chars().count() > MAX_SUGGEST_CHARS {
        return None;
    }
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
        // A long key gets no suggestion, however close.
        let long = format!("pad_seconds{}", "s".repeat(MAX_SUGGEST_CHARS));
        assert_eq!(closest(&long, &known), None);
    }

    #[test]
    fn diagnostics_stay_short_whatever_the_key() {
        let mut sink = Sink::new(PathBuf::from("m.yaml"));
        let key = "k".repeat(1_000_000);
        sink.unknown_field(Loc::Unknown, &format!("defaults.{key}"), &key, &["device"]);
        sink.push(Loc::Row(2), "col\u{1b}", "bad \u{1b}[2J value");
        let d = &sink.diags[0];
        assert!(d.to_string().len() < 2_000, "{}", d.to_string().len());
        assert!(d.field.contains("more characters"), "{}", d.field);
        assert!(!sink.diags[1].to_string().contains('\u{1b}'));
    }
}
