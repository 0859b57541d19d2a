//! Text from outside, made fit to show: the one place where server text (error messages,
//! parameters, run statuses, names quoted in messages) and long user values are cleaned.
//!
//! Decisions recorded here:
//! - A server is not trusted: it may echo the token, send terminal escape sequences (clear
//!   the screen, retitle the window, forge a line with `\r`) or megabytes of text. Everything
//!   it says passes through [`clean_server_text`] where it enters our types (`OncError`,
//!   `RunState::status`, progress messages), so stderr, `--json`, logs, lockfiles, the index
//!   and state files only ever hold the cleaned form.
//! - Cleaning is, in order: the secret replaced by `***` (case-insensitively, also when
//!   percent-encoded or broken up by invisible characters, and any `token=` query value);
//!   control characters and invisible formatting characters (bidi overrides, zero-width
//!   spaces) escaped as `\u{1b}`; the result capped at a number of characters, ending with
//!   `… (N more characters)`.
//! - Work is linear in the input and bounded: only the first [`SCAN_LIMIT`] bytes are
//!   examined (the rest is only counted), far more than a capped message can show.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Characters of server text kept in a message.
pub(crate) const MAX_CHARS: usize = 500;

/// Bytes of input examined; text beyond is counted, not read.
pub(crate) const SCAN_LIMIT: usize = 64 * 1024;

/// Cleans text a server sent: `secret` (the API token; may be empty) redacted, control
/// characters escaped, at most [`MAX_CHARS`] characters kept.
#[must_use]
pub(crate) fn clean_server_text(text: &str, secret: &str) -> String {
    clean(text, secret, MAX_CHARS)
}

/// Cleans `text` as [`clean_server_text`] does, keeping at most `max` characters.
#[must_use]
pub(crate) fn clean(text: &str, secret: &str, max: usize) -> String {
    let head = prefix(text, SCAN_LIMIT.max(max.saturating_mul(4)));
    let redacted = crate::onc::token::redact_token_params(&redact_secret(head, secret));
    let beyond = text[head.len()..].chars().count();
    escape_capped(&redacted, max, beyond)
}

/// Shows a user-given value in a message: control characters escaped, at most `max`
/// characters kept (no secret to redact).
#[must_use]
pub(crate) fn shorten(text: &str, max: usize) -> String {
    clean(text, "", max)
}

/// Escapes control and invisible formatting characters, leaving the rest as it is.
#[must_use]
pub(crate) fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        push_char(&mut out, c);
    }
    Cow::Owned(out)
}

/// Whether `c` must not reach a terminal as it is: C0/C1 controls and DEL, and characters
/// that hide or reorder text (zero-width, bidi overrides, line/paragraph separators, BOM).
#[must_use]
pub(crate) fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{FEFF}'
        )
}

fn push_char(out: &mut String, c: char) {
    if needs_escape(c) {
        let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
    } else {
        out.push(c);
    }
}

/// The longest prefix of `text` of at most `max` bytes that ends on a character boundary.
fn prefix(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Escapes `text` into at most `max` characters; `beyond` characters followed `text` in the
/// original and count as cut.
fn escape_capped(text: &str, max: usize, beyond: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max * 4) + 8);
    let mut shown = 0usize;
    let mut unit = String::new();
    let mut chars = text.chars();
    let mut cut = None;
    while let Some(c) = chars.next() {
        unit.clear();
        push_char(&mut unit, c);
        let n = unit.chars().count();
        if shown + n > max {
            cut = Some(1 + chars.count());
            break;
        }
        out.push_str(&unit);
        shown += n;
    }
    let more = cut.unwrap_or(0) + beyond;
    if more > 0 {
        let _ = write!(out, "… ({more} more characters)");
    }
    out
}

/// Characters a server may slip inside an echoed secret without changing what a reader sees.
fn invisible(c: char) -> bool {
    needs_escape(c) || c == '\u{AD}'
}

/// Replaces every occurrence of `secret` in `text` with `***`: ASCII case ignored, any of its
/// characters possibly percent-encoded, invisible characters between them skipped.
#[must_use]
pub(crate) fn redact_secret(text: &str, secret: &str) -> String {
    let want: Vec<char> = secret.chars().collect();
    if want.is_empty() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut copied = 0;
    while i < text.len() {
        if let Some(end) = match_at(text, i, &want) {
            out.push_str(&text[copied..i]);
            out.push_str("***");
            i = end;
            copied = end;
            continue;
        }
        // Advance one character.
        i += text[i..].chars().next().map_or(1, char::len_utf8);
    }
    out.push_str(&text[copied..]);
    out
}

/// If `want` starts at byte `i` of `text`, the byte where the match ends.
fn match_at(text: &str, mut i: usize, want: &[char]) -> Option<usize> {
    for (k, w) in want.iter().enumerate() {
        loop {
            let (c, len) = next_unit(text, i)?;
            if c.eq_ignore_ascii_case(w) {
                i += len;
                break;
            }
            // Only between characters of the secret, never before its first one.
            if k > 0 && invisible(c) && len == c.len_utf8() {
                i += len;
                continue;
            }
            return None;
        }
    }
    Some(i)
}

/// The character at byte `i` (decoding a `%XX` escape of an ASCII character) and its length.
fn next_unit(text: &str, i: usize) -> Option<(char, usize)> {
    let rest = text.get(i..)?;
    let c = rest.chars().next()?;
    if c == '%'
        && let Some(b) = rest.get(1..3).and_then(|h| u8::from_str_radix(h, 16).ok())
        && b.is_ascii()
    {
        return Some((char::from(b), 3));
    }
    Some((c, c.len_utf8()))
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::pedantic,
        clippy::print_stderr,
        reason = "test code: casts and formatting on small fixed inputs"
    )]
    #![allow(clippy::unwrap_used)]
    use super::*;

    const TOK: &str = "0000aaaa-test-token-1111bbbb";

    #[test]
    fn the_token_is_redacted_wherever_it_occurs() {
        let text = format!("Invalid token {TOK}: no such token ({TOK})");
        assert_eq!(
            clean_server_text(&text, TOK),
            "Invalid token ***: no such token (***)"
        );
        // Case changed, percent-encoded, inside a URL, split by invisible characters.
        let upper = TOK.to_ascii_uppercase();
        let encoded: String = TOK.bytes().map(|b| format!("%{b:02X}")).collect();
        let split = TOK
            .replacen('-', "\u{1b}-", 1)
            .replacen('t', "\u{200b}t", 1);
        for variant in [upper, encoded, split, format!("x?token={TOK}&a=1")] {
            let c = clean_server_text(&format!("[{variant}]"), TOK);
            assert!(
                !c.contains("aaaa") && !c.contains("AAAA"),
                "{variant:?} → {c}"
            );
            assert!(c.contains("***"), "{c}");
        }
        // A part of the token alone is left (it identifies nothing), and nothing else moves.
        assert_eq!(clean_server_text("0000aaaa-test", TOK), "0000aaaa-test");
        assert_eq!(clean_server_text("plain", ""), "plain");
    }

    #[test]
    fn control_characters_are_escaped() {
        let c = clean_server_text("a\u{1b}[2J b\u{1b}]0;title\u{7} c\r\nd\u{202e}e\u{0}", "");
        assert_eq!(
            c,
            "a\\u{1b}[2J b\\u{1b}]0;title\\u{7} c\\u{d}\\u{a}d\\u{202e}e\\u{0}"
        );
        assert!(!c.chars().any(needs_escape));
        assert_eq!(escape_controls("née ✓"), Cow::Borrowed("née ✓"));
    }

    #[test]
    fn length_is_capped_on_character_boundaries() {
        let long = "é".repeat(2_000);
        let c = clean(&long, "", 10);
        assert_eq!(c, format!("{}… (1990 more characters)", "é".repeat(10)));
        // An escape is never cut in half.
        let c = clean("abcdefgh\u{1b}xyz", "", 10);
        assert_eq!(c, "abcdefgh… (4 more characters)");
        // Exactly at the cap: nothing cut.
        assert_eq!(clean("0123456789", "", 10), "0123456789");
    }

    #[test]
    fn huge_text_is_bounded_and_counted() {
        let mut big = "x".repeat(SCAN_LIMIT - 1);
        big.push('é'); // straddles the scan limit
        big.push_str(&"y".repeat(1_000_000));
        big.push_str(TOK);
        let c = clean_server_text(&big, TOK);
        assert!(c.chars().count() < MAX_CHARS + 40, "{}", c.len());
        let more = big.chars().count() - MAX_CHARS;
        assert!(c.ends_with(&format!("… ({more} more characters)")), "{c}");
        assert!(!c.contains(TOK));
    }

    #[test]
    fn a_token_cut_by_the_scan_limit_never_shows() {
        let mut big = "x".repeat(SCAN_LIMIT - 5);
        big.push_str(TOK);
        let c = clean_server_text(&big, TOK);
        assert!(!c.contains("0000a"), "{c}");
    }
}
