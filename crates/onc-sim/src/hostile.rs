//! The `echo_token` hostile mode: answers that repeat the caller's token among terminal
//! escape sequences, as a misconfigured mirror or a malicious server could.
//!
//! Decisions recorded here:
//! - The hostile text clears the screen (`ESC [2J`), retitles the terminal window
//!   (`ESC ]0;…BEL`), colours text and forges a line (`\r\n`), and carries the token plainly,
//!   in upper case and percent-encoded, so that a client has to clean every form.
//! - Error answers keep ONC's shape (`{"errors": [...]}`), so the client parses them as it
//!   would a real one; run answers keep every field but `status`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::wire::{ErrorBody, ErrorItem};

/// Text that echoes `token` with escape sequences.
#[must_use]
pub fn echo_text(token: &str) -> String {
    let encoded: String = token.bytes().fold(String::new(), |mut s, b| {
        use std::fmt::Write as _;
        let _ = write!(s, "%{b:02X}");
        s
    });
    format!(
        "\u{1b}[2J\u{1b}]0;{token}\u{7}Invalid token {token} ({}; {encoded})\r\nerror: \u{1b}[31m{token}\u{1b}[0m",
        token.to_ascii_uppercase()
    )
}

/// An ONC error document (HTTP `status`) whose message and parameter echo `token`.
#[must_use]
pub fn echo_error(status: StatusCode, token: &str) -> Response {
    (
        status,
        Json(ErrorBody {
            errors: vec![ErrorItem {
                error_code: 127,
                error_message: echo_text(token),
                parameter: format!("token={token}\u{1b}[1A"),
            }],
        }),
    )
        .into_response()
}

/// A `dataProductDelivery/run` answer whose runs' `status` echoes `token`; other answers
/// are returned unchanged.
pub async fn echo_run_status(resp: Response, token: &str) -> Response {
    if !(resp.status() == StatusCode::OK || resp.status() == StatusCode::ACCEPTED) {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let Ok(mut runs) = serde_json::from_slice::<Vec<crate::wire::RunEntry>>(&bytes) else {
        return Response::from_parts(parts, axum::body::Body::from(bytes));
    };
    for run in &mut runs {
        run.status = format!("{} {}", crate::wire::status::QUEUED, echo_text(token));
    }
    // Accepted: the client polls again and sees the real state next time.
    (StatusCode::ACCEPTED, Json(runs)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_carries_the_token_and_escapes() {
        let t = echo_text("ab-12");
        assert!(t.contains("ab-12") && t.contains("AB-12") && t.contains("%61%62%2D%31%32"));
        assert!(t.contains('\u{1b}') && t.contains('\u{7}') && t.contains('\r'));
    }
}
