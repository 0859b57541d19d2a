//! Where the ONC token comes from: `--token`, else `ONC_TOKEN`, else a `.env` file in the
//! current folder (`ONC_TOKEN=...`, optionally quoted, `export` allowed).

use crate::onc::Token;
use std::path::Path;

/// Finds the token, or explains where to put one.
///
/// # Errors
/// When no source has a usable token.
pub(crate) fn resolve(flag: Option<&str>) -> anyhow::Result<Token> {
    if let Some(t) = flag {
        return Token::new(t).ok_or_else(|| {
            anyhow::anyhow!("--token is empty after removing characters ONC does not allow")
        });
    }
    if let Ok(t) = std::env::var("ONC_TOKEN")
        && let Some(t) = Token::new(&t)
    {
        return Ok(t);
    }
    if let Some(t) = from_dotenv(Path::new(".env")) {
        return Ok(t);
    }
    anyhow::bail!(
        "no ONC token: set ONC_TOKEN, put `ONC_TOKEN=...` in a .env file here, or pass --token \
         (or use --simulate to run against the built-in simulator)"
    )
}

fn from_dotenv(path: &Path) -> Option<Token> {
    let text = fs_err::read_to_string(path).ok()?;
    text.lines().find_map(|line| {
        let line = line.trim();
        let line = line.strip_prefix("export ").unwrap_or(line);
        let (k, v) = line.split_once('=')?;
        (k.trim() == "ONC_TOKEN")
            .then(|| v.trim().trim_matches(['"', '\'']))
            .and_then(Token::new)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_dotenv_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(".env");
        fs_err::write(&p, "# comment\nOTHER=1\nexport ONC_TOKEN=\"abc-123\"\n").unwrap();
        assert_eq!(from_dotenv(&p).unwrap().expose(), "abc-123");
        fs_err::write(&p, "ONC_TOKEN=\n").unwrap();
        assert!(from_dotenv(&p).is_none());
    }
}
