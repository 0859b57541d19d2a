//! The one gate for names from outside: [`SafeName`], a single path component.
//!
//! Every name that becomes part of a path and does not come from hydrofetch itself (archive
//! listing names, `Content-Disposition` names of run files, device codes, a manifest's
//! `output_tag` and `output_name`) goes through [`SafeName::new`] before it can be joined to
//! a folder; the joining functions (`exec::layout`, `OncClient::download_archive`) take
//! `&SafeName`, so an unchecked join does not compile.
//!
//! Decisions recorded here:
//! - A safe name is non-empty, at most [`MAX_NAME_BYTES`] bytes of UTF-8, not `.`/`..`, not
//!   hidden (no leading `.`), and holds no `/`, `\`, `:` or control character (C0, DEL, C1).
//!   A name that breaks a rule is refused, never repaired: a repaired name could collide with
//!   another file, and a server that sends it is wrong.
//! - 200 bytes leaves room within the usual 255-byte limit of a file name for the temporary
//!   name `.NAME.PID.N.tmp` the atomic writer uses beside it.
//! - The raw name shown in errors is escaped ([`shown`]) and capped, so a hostile name
//!   cannot move the cursor or flood the terminal.

use std::fmt;

/// The longest safe name, in bytes.
pub const MAX_NAME_BYTES: usize = 200;

/// A string that is safe to join to a folder as one path component.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SafeName(String);

/// Why a name is not safe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UnsafeName {
    /// Empty.
    #[error("it is empty")]
    Empty,
    /// `.` or `..`.
    #[error("it names a folder (`.` or `..`)")]
    Dot,
    /// Starts with `.`.
    #[error("it starts with `.` (a hidden file)")]
    Hidden,
    /// Longer than [`MAX_NAME_BYTES`].
    #[error("it is {len} bytes long, more than {MAX_NAME_BYTES}")]
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// Holds a path separator or a drive colon.
    #[error("it holds the separator {sep:?}")]
    Separator {
        /// The separator.
        sep: char,
    },
    /// Holds a control character.
    #[error("it holds the control character {ch:?}")]
    Control {
        /// The character.
        ch: char,
    },
}

impl SafeName {
    /// Validates `s` as one path component.
    ///
    /// # Errors
    /// [`UnsafeName`] saying which rule `s` breaks.
    pub fn new(s: &str) -> Result<Self, UnsafeName> {
        check(s)?;
        Ok(Self(s.to_owned()))
    }

    /// The name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks `s` against the rules of [`SafeName`] without building one.
///
/// # Errors
/// [`UnsafeName`] saying which rule `s` breaks.
pub fn check(s: &str) -> Result<(), UnsafeName> {
    if s.is_empty() {
        return Err(UnsafeName::Empty);
    }
    if s == "." || s == ".." {
        return Err(UnsafeName::Dot);
    }
    if let Some(sep) = s.chars().find(|c| matches!(c, '/' | '\\' | ':')) {
        return Err(UnsafeName::Separator { sep });
    }
    if let Some(ch) = s.chars().find(|c| c.is_control()) {
        return Err(UnsafeName::Control { ch });
    }
    if s.starts_with('.') {
        return Err(UnsafeName::Hidden);
    }
    if s.len() > MAX_NAME_BYTES {
        return Err(UnsafeName::TooLong { len: s.len() });
    }
    Ok(())
}

impl fmt::Display for SafeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for SafeName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// `raw` for a message: quoted, control characters escaped, at most 80 characters.
#[must_use]
pub fn shown(raw: &str) -> String {
    const CAP: usize = 80;
    let mut out = String::with_capacity(raw.len().min(CAP) + 8);
    out.push('`');
    for (i, c) in raw.chars().enumerate() {
        if i == CAP {
            out.push('…');
            break;
        }
        out.extend(c.escape_debug());
    }
    out.push('`');
    out
}

/// The message for a server-given name that is refused: `{field} {raw} is not a safe file
/// name ({why})`, with `raw` escaped.
#[must_use]
pub fn refused(field: &str, raw: &str, why: UnsafeName) -> String {
    format!("{field} {} is not a safe file name ({why})", shown(raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_names() {
        for s in [
            "ICLISTENHF6324_20240401T120000.000Z.flac",
            "whale call 1",
            "a..b",
            "é.mat",
            &"x".repeat(MAX_NAME_BYTES),
        ] {
            assert_eq!(SafeName::new(s).unwrap().as_str(), s);
        }
    }

    #[test]
    fn refuses_each_rule() {
        assert_eq!(SafeName::new(""), Err(UnsafeName::Empty));
        assert_eq!(SafeName::new("."), Err(UnsafeName::Dot));
        assert_eq!(SafeName::new(".."), Err(UnsafeName::Dot));
        assert_eq!(SafeName::new(".hidden"), Err(UnsafeName::Hidden));
        assert_eq!(
            SafeName::new("../../x.flac"),
            Err(UnsafeName::Separator { sep: '/' })
        );
        assert_eq!(
            SafeName::new("a\\b"),
            Err(UnsafeName::Separator { sep: '\\' })
        );
        assert_eq!(
            SafeName::new("C:x"),
            Err(UnsafeName::Separator { sep: ':' })
        );
        assert_eq!(
            SafeName::new("a\u{1b}[2Jb"),
            Err(UnsafeName::Control { ch: '\u{1b}' })
        );
        assert_eq!(SafeName::new("a\0b"), Err(UnsafeName::Control { ch: '\0' }));
        assert_eq!(
            SafeName::new("a\u{7f}"),
            Err(UnsafeName::Control { ch: '\u{7f}' })
        );
        assert_eq!(
            SafeName::new("a\u{85}"),
            Err(UnsafeName::Control { ch: '\u{85}' })
        );
        // Bytes, not characters: 101 two-byte characters are 202 bytes.
        assert_eq!(
            SafeName::new(&"é".repeat(101)),
            Err(UnsafeName::TooLong { len: 202 })
        );
    }

    #[test]
    fn the_temporary_name_fits_in_255_bytes() {
        let tmp = format!(
            ".{}.{}.{}.tmp",
            "x".repeat(MAX_NAME_BYTES),
            u32::MAX,
            u64::MAX
        );
        assert!(tmp.len() <= 255, "{}", tmp.len());
    }

    #[test]
    fn refused_names_are_escaped_and_capped() {
        let m = refused("filename", "../\u{1b}[31m\n", UnsafeName::Dot);
        assert!(!m.chars().any(char::is_control), "{m}");
        assert!(m.contains(r"\u{1b}[31m\n"), "{m}");
        let long = shown(&"y".repeat(1000));
        assert!(long.chars().count() < 90);
    }
}
