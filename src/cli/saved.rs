//! The manifest a shortcut ran: written as TOML beside its data so that the run can be
//! committed, edited and repeated with `hydrofetch run`.
//!
//! Decisions recorded here:
//! - Where: `hydrofetch-<shortcut>.toml` in the folder that holds the data folder
//!   (`--data-dir data` → `./hydrofetch-range.toml` with `data_dir = "data"`), or
//!   `--manifest PATH` (a `.toml` file; `data_dir` is then written relative to it). Its
//!   lockfile is `<name>.lock` beside it, as for any manifest.
//! - What: the shortcut's flags as the manifest fields they stand for, typed (numbers,
//!   booleans, times, an options table), keys sorted, no timestamps: the same flags give the
//!   same bytes, so a second run rewrites nothing.
//! - A different manifest already at the path is never replaced silently: the shortcut
//!   refuses (exit 2) unless `--force` is given.
//! - The text is written atomically (a temporary file renamed into place).

use crate::manifest::CliValue;
use std::path::{Component, Path, PathBuf};

/// What a saved manifest holds: one mode table, or a request file with call-level fields.
pub(crate) enum Body<'a> {
    /// `[[range]]`, `[[sample]]`, `[[events]]` or `[[audio]]` with these fields.
    Table(&'static str, &'a [(&'static str, CliValue)]),
    /// `[[requests]]`: the request file and the call-level fields.
    Requests(&'a Path, &'a [(&'static str, String)]),
}

/// `path` made absolute against the current folder, with `.` and `..` resolved lexically.
pub(crate) fn absolute(path: &Path) -> std::io::Result<PathBuf> {
    let abs = std::path::absolute(path)?;
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    Ok(out)
}

/// Shows `abs` relative to the current folder when it lies inside it.
fn shown(abs: &Path) -> PathBuf {
    match std::env::current_dir() {
        Ok(cwd) => match abs.strip_prefix(&cwd) {
            Ok(rel) if !rel.as_os_str().is_empty() => rel.to_path_buf(),
            _ => abs.to_path_buf(),
        },
        Err(_) => abs.to_path_buf(),
    }
}

/// Where the manifest goes, as shown to the user: `--manifest PATH`, else
/// `hydrofetch-<shortcut>.toml` beside the data folder.
///
/// # Errors
/// A message for the user when the path cannot be used.
pub(crate) fn location(
    chosen: Option<&Path>,
    data_dir: &Path,
    shortcut: &str,
) -> Result<PathBuf, String> {
    if let Some(p) = chosen {
        if p.extension().and_then(|e| e.to_str()) != Some("toml") {
            return Err(format!(
                "--manifest {}: expected a path ending in .toml (the manifest is written as TOML)",
                p.display()
            ));
        }
        return Ok(p.to_path_buf());
    }
    let data = absolute(data_dir).map_err(|e| format!("--data-dir {}: {e}", data_dir.display()))?;
    let Some(parent) = data.parent() else {
        return Err(format!(
            "--data-dir {}: has no parent folder for the manifest; give --manifest PATH",
            data_dir.display()
        ));
    };
    Ok(shown(&parent.join(format!("hydrofetch-{shortcut}.toml"))))
}

/// `to` relative to the folder `from` (both made absolute first), with `/` separators.
fn relative(to: &Path, from_dir: &Path) -> std::io::Result<String> {
    let (to, from) = (absolute(to)?, absolute(from_dir)?);
    let rel = pathdiff::diff_paths(&to, &from).unwrap_or(to);
    let text = rel.to_string_lossy().replace('\\', "/");
    Ok(if text.is_empty() {
        ".".to_owned()
    } else {
        text
    })
}

fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// A field's text as the TOML value a manifest writes for it.
fn typed(key: &str, text: &str) -> toml::Value {
    let t = text.trim();
    match key {
        "download_audio" | "download_spectrogram" | "clip" => {
            match t.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => return toml::Value::Boolean(true),
                "false" | "0" | "no" => return toml::Value::Boolean(false),
                _ => {}
            }
        }
        "spectrograms_per_batch" | "spectrograms_per_request" | "total_spectrograms" => {
            if let Ok(n) = t.parse::<i64>() {
                return toml::Value::Integer(n);
            }
        }
        k if k.ends_with("_seconds") => {
            if let Ok(n) = t.parse::<i64>() {
                return toml::Value::Integer(n);
            }
            if let Ok(f) = t.parse::<f64>() {
                return toml::Value::Float(f);
            }
        }
        "data_product_options" => {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(t)
                && let Ok(v) = toml::Value::try_from(v)
            {
                return v;
            }
        }
        _ => {}
    }
    toml::Value::String(text.to_owned())
}

/// The manifest's TOML text, for a manifest at `path` whose outputs go to `data_dir`.
///
/// # Errors
/// When a path cannot be made absolute, or the value cannot be written as TOML.
pub(crate) fn render(
    path: &Path,
    data_dir: &Path,
    shortcut: &str,
    body: &Body<'_>,
) -> anyhow::Result<String> {
    let dir = folder_of(path);
    let mut table = toml::Table::new();
    let (mode, fields) = match body {
        Body::Table(mode, fields) => {
            for (k, v) in *fields {
                let value = match v {
                    CliValue::Text(s) => typed(k, s),
                    CliValue::List(l) => toml::Value::Array(
                        l.iter().map(|s| toml::Value::String(s.clone())).collect(),
                    ),
                };
                table.insert((*k).to_owned(), value);
            }
            (*mode, table)
        }
        Body::Requests(file, fields) => {
            table.insert("file".to_owned(), toml::Value::String(relative(file, dir)?));
            for (k, v) in *fields {
                table.insert((*k).to_owned(), typed(k, v));
            }
            ("requests", table)
        }
    };
    let mut top = toml::Table::new();
    top.insert("version".to_owned(), toml::Value::Integer(1));
    top.insert(
        "data_dir".to_owned(),
        toml::Value::String(relative(data_dir, dir)?),
    );
    top.insert(
        mode.to_owned(),
        toml::Value::Array(vec![toml::Value::Table(fields)]),
    );
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    Ok(format!(
        "# {name}: the manifest `hydrofetch {shortcut}` ran. Run it again, or an edited copy, with\n\
         # `hydrofetch run {name}`; its lockfile is {name}.lock beside it: commit both.\n{}",
        toml::to_string(&top)?
    ))
}

/// Whether the manifest was written, kept (same text), or refused.
#[derive(Debug, PartialEq, Eq)]
#[must_use]
pub(crate) enum Saved {
    /// Written (new, or replaced with `--force`).
    Written,
    /// The same text was already there.
    Unchanged,
}

/// Writes `text` at `path` unless a different file is there and `force` is off.
///
/// # Errors
/// A usage message when a different manifest is there; I/O errors naming the path.
pub(crate) fn save(path: &Path, text: &str, force: bool) -> anyhow::Result<Result<Saved, String>> {
    match fs_err::read(path) {
        Ok(old) if old == text.as_bytes() => return Ok(Ok(Saved::Unchanged)),
        Ok(_) if !force => {
            return Ok(Err(format!(
                "{} already exists and asks for something else: pass --force to replace it, \
                 or --manifest PATH to write this run's manifest elsewhere",
                path.display()
            )));
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e.into()),
    }
    fs_err::create_dir_all(folder_of(path))?;
    crate::atomic::write_atomic(path, text.as_bytes())?;
    Ok(Ok(Saved::Written))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn values_are_typed_as_a_manifest_writes_them() {
        assert_eq!(
            typed("spectrograms_per_batch", "6"),
            toml::Value::Integer(6)
        );
        assert_eq!(typed("pad_seconds", "2.5"), toml::Value::Float(2.5));
        assert_eq!(typed("download_audio", "yes"), toml::Value::Boolean(true));
        assert_eq!(
            typed("device", "123"),
            toml::Value::String("123".to_owned())
        );
        assert!(typed("data_product_options", r#"{"dpo_x": 2}"#).is_table());
        assert_eq!(
            typed("total_spectrograms", "many"),
            toml::Value::String("many".to_owned())
        );
    }

    #[test]
    fn the_default_location_is_beside_the_data_folder() {
        let p = location(None, Path::new("/tmp/some/data"), "range").unwrap();
        assert_eq!(p, Path::new("/tmp/some/hydrofetch-range.toml"));
        assert!(location(Some(Path::new("m.yaml")), Path::new("d"), "range").is_err());
        assert!(location(None, Path::new("/"), "range").is_err());
    }
}
