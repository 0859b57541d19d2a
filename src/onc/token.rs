//! The ONC API token: a secret that must never reach a log, an error, a lockfile, a plan or a
//! printed URL.
//!
//! [`Token`]'s `Debug` and `Display` print `***`; the only way to the text is
//! [`Token::expose`], used when building a request. [`redact`] scrubs a token out of any
//! text (an error message from the HTTP stack that quotes a URL, say).

use std::fmt;

/// An ONC API token.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Wraps a token, keeping only the characters ONC accepts (`[A-Za-z0-9-]`), as the
    /// official client does. Returns `None` if nothing is left.
    #[must_use]
    pub fn new(raw: &str) -> Option<Self> {
        let clean: String = raw
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        (!clean.is_empty()).then_some(Self(clean))
    }

    /// The token text, for building a request. Never print it.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Replaces every occurrence of this token in `text` with `***`.
    #[must_use]
    pub fn redact(&self, text: &str) -> String {
        redact(text, &self.0)
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Replaces `secret` in `text` with `***`, and any `token=...` query value too.
#[must_use]
pub(crate) fn redact(text: &str, secret: &str) -> String {
    let replaced = if secret.is_empty() {
        text.to_owned()
    } else {
        text.replace(secret, "***")
    };
    redact_token_params(&replaced)
}

/// Replaces the value of every `token=` query parameter in `text` with `***`.
#[must_use]
pub(crate) fn redact_token_params(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("token=") {
        let boundary_ok = pos == 0 || matches!(rest.as_bytes()[pos - 1], b'?' | b'&' | b' ' | b'"');
        out.push_str(&rest[..pos + 6]);
        rest = &rest[pos + 6..];
        if boundary_ok {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '%' || c == '*'))
                .unwrap_or(rest.len());
            out.push_str("***");
            rest = &rest[end..];
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_itself() {
        let t = Token::new(" 1234abcd-ef56\n").unwrap();
        assert_eq!(t.expose(), "1234abcd-ef56");
        assert_eq!(format!("{t} {t:?}"), "*** Token(***)");
        assert!(Token::new("%%%").is_none());
    }

    #[test]
    fn redacts_text_and_urls() {
        let t = Token::new("abc-123").unwrap();
        let msg =
            "error sending request for url (http://127.0.0.1:9/api/x?token=abc-123&a=1): abc-123";
        let r = t.redact(msg);
        assert!(!r.contains("abc-123"), "{r}");
        assert!(r.contains("token=***&a=1"), "{r}");
        assert_eq!(
            redact_token_params("u?token=zzz-9&x=1 and token=q"),
            "u?token=***&x=1 and token=***"
        );
        assert_eq!(redact_token_params("mytoken=keep"), "mytoken=keep");
    }
}
