//! Loading: from a path (or command-line values) to a valid [`Manifest`].
//!
//! Decisions recorded here:
//! - The format follows the extension: `.toml`, `.yaml`/`.yml`, `.json`, `.csv`.
//! - A TOML/YAML/JSON file is a manifest when it has any of `version`, `data_dir`, `range`,
//!   `sample`, `events`, `audio`, or a `requests` entry with a `file`; otherwise it is a
//!   `{defaults, requests}` request document. A request file is itself a manifest whose
//!   `data_dir` is `data` beside it.
//! - Command-line shortcuts build the same value tree a manifest file gives (with the file
//!   shown as `<command line>`), so they share every rule and message.

use super::error::{Loc, ManifestError, Sink};
use super::layer::{self, Layer};
use super::model::Manifest;
use super::node::{self, Entry, Node, Value};
use super::requests::{self, Outer};
use super::tables;
use std::path::{Path, PathBuf};

/// The file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Toml,
    Yaml,
    Json,
    Csv,
}

fn format_of(path: &Path) -> Option<Format> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "toml" => Some(Format::Toml),
        "yaml" | "yml" => Some(Format::Yaml),
        "json" => Some(Format::Json),
        "csv" => Some(Format::Csv),
        _ => None,
    }
}

fn folder(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn parse_tree(format: Format, text: &str) -> Result<Node, (Loc, String)> {
    match format {
        Format::Toml => node::parse_toml(text),
        Format::Yaml => node::parse_yaml(text),
        Format::Json | Format::Csv => node::parse_json(text),
    }
}

fn is_manifest(root: &Node) -> bool {
    let Value::Map(entries) = &root.value else {
        return false;
    };
    entries.iter().any(|e| match e.key.as_str() {
        "version" | "data_dir" | "range" | "sample" | "events" | "audio" => true,
        "requests" => match &e.node.value {
            Value::Seq(items) => items.iter().any(has_file),
            other => has_file(&Node {
                value: other.clone(),
                loc: e.node.loc,
            }),
        },
        _ => false,
    })
}

fn has_file(n: &Node) -> bool {
    matches!(&n.value, Value::Map(m) if m.iter().any(|e| e.key == "file"))
}

/// Loads a manifest or request file.
///
/// # Errors
/// [`ManifestError`] with every problem found in the file and the request files it names.
pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
    load_with(path, &[])
}

/// Loads a request file (or manifest) with call-level overrides given as `(field, text)`
/// pairs, the fields being those of a manifest's `[[requests]]` entry (such as
/// `default_pad_seconds` or `download_audio`); values are read like CSV cells.
///
/// # Errors
/// [`ManifestError`] with every problem found.
pub fn load_with(path: &Path, call: &[(&str, String)]) -> Result<Manifest, ManifestError> {
    let format = format_of(path).ok_or_else(|| ManifestError::UnknownFormat {
        path: path.to_path_buf(),
    })?;
    let bytes = fs_err::read(path).map_err(|source| ManifestError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut cli_sink = Sink::new(PathBuf::from("<command line>"));
    let call_node = cells(
        call.iter()
            .map(|(k, v)| ((*k).to_owned(), CliValue::Text(v.clone()))),
    );
    let call_layer = fields_layer(&call_node, &mut cli_sink, layer::CALL_FIELDS);
    let mut sink = Sink::new(path.to_path_buf());
    let mut manifest = Manifest {
        sources: vec![path.to_path_buf()],
        data_dir: folder(path).join("data"),
        jobs: Vec::new(),
    };
    let defaults = Layer::default();
    if format == Format::Csv {
        let outer = Outer {
            call: &call_layer,
            manifest_defaults: &defaults,
        };
        manifest.jobs = requests::csv(&bytes, &outer, &mut sink, path);
    } else {
        let root = match std::str::from_utf8(&bytes) {
            Err(e) => {
                sink.push(Loc::Unknown, "file", format!("is not UTF-8 text ({e})"));
                None
            }
            Ok(text) => match parse_tree(format, text) {
                Ok(root) => Some(root),
                Err((loc, msg)) => {
                    sink.push(loc, "syntax", msg);
                    None
                }
            },
        };
        if let Some(root) = root {
            if is_manifest(&root) && call.is_empty() {
                manifest_from_tree(&root, &mut sink, path, &folder(path), &mut manifest);
            } else if is_manifest(&root) {
                sink.push(
                    root.loc,
                    "file",
                    "is a manifest; call-level overrides apply to request files only",
                );
            } else {
                let outer = Outer {
                    call: &call_layer,
                    manifest_defaults: &defaults,
                };
                manifest.jobs = requests::document(&root, &outer, &mut sink, path);
            }
        }
    }
    let mut diags = cli_sink.diags;
    diags.append(&mut sink.diags);
    if diags.is_empty() {
        Ok(manifest)
    } else {
        Err(ManifestError::Invalid {
            path: path.to_path_buf(),
            diagnostics: diags,
        })
    }
}

fn fields_layer(node: &Node, sink: &mut Sink, known: &[&str]) -> Layer {
    super::fields::table(node, sink, "", known)
        .map_or_else(Layer::default, |e| layer::read(&e, sink, ""))
}

fn manifest_from_tree(root: &Node, sink: &mut Sink, path: &Path, dir: &Path, out: &mut Manifest) {
    let parsed = tables::manifest(root, sink, path, dir);
    if let Some(d) = &parsed.data_dir {
        out.data_dir = dir.join(d);
    }
    out.jobs = parsed.jobs;
    for f in parsed.files {
        let mut fsink = Sink::new(f.path.clone());
        let format = format_of(&f.path);
        let bytes = match format {
            None => {
                sink.push(
                    f.loc,
                    &f.field,
                    format!(
                        "found {:?}, expected a .json or .csv request file",
                        f.path.display().to_string()
                    ),
                );
                continue;
            }
            Some(_) => match fs_err::read(&f.path) {
                Ok(b) => b,
                Err(e) => {
                    sink.push(
                        f.loc,
                        &f.field,
                        format!("cannot read the request file: {e}"),
                    );
                    continue;
                }
            },
        };
        let outer = Outer {
            call: &f.call,
            manifest_defaults: &parsed.defaults,
        };
        let jobs = match format {
            Some(Format::Csv) => requests::csv(&bytes, &outer, &mut fsink, &f.path),
            Some(fmt) => {
                match std::str::from_utf8(&bytes)
                    .map_err(|e| (Loc::Unknown, format!("is not UTF-8 text ({e})")))
                    .and_then(|t| parse_tree(fmt, t))
                {
                    Ok(root) if is_manifest(&root) => {
                        sink.push(f.loc, &f.field, "names a manifest; expected a request file ({defaults, requests} or CSV)");
                        Vec::new()
                    }
                    Ok(root) => requests::document(&root, &outer, &mut fsink, &f.path),
                    Err((loc, msg)) => {
                        fsink.push(loc, "syntax", msg);
                        Vec::new()
                    }
                }
            }
            None => Vec::new(),
        };
        out.sources.push(f.path.clone());
        out.jobs.extend(jobs);
        sink.diags.append(&mut fsink.diags);
    }
}

/// A value given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CliValue {
    /// One value, read like a CSV cell.
    Text(String),
    /// A list (such as the instants of `events`).
    List(Vec<String>),
}

fn cells(pairs: impl Iterator<Item = (String, CliValue)>) -> Node {
    let loc = Loc::Unknown;
    let cell = |s: String| Node {
        value: Value::Cell(s),
        loc,
    };
    Node {
        value: Value::Map(
            pairs
                .map(|(key, v)| Entry {
                    key,
                    key_loc: loc,
                    node: match v {
                        CliValue::Text(s) => cell(s),
                        CliValue::List(l) => Node {
                            value: Value::Seq(l.into_iter().map(cell).collect()),
                            loc,
                        },
                    },
                })
                .collect(),
        ),
        loc,
    }
}

/// The command-line shortcuts' modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `[[range]]`.
    Range,
    /// `[[sample]]`.
    Sample,
    /// `[[events]]`.
    Events,
    /// `[[audio]]`.
    Audio,
}

impl Mode {
    const fn key(self) -> &'static str {
        match self {
            Self::Range => "range",
            Self::Sample => "sample",
            Self::Events => "events",
            Self::Audio => "audio",
        }
    }
}

/// Builds a manifest from command-line values: one table of `mode` with the given fields
/// (named as in a manifest), and `data_dir` relative to the current folder (checked like a
/// manifest's `data_dir`, with no way to allow a system folder).
///
/// # Errors
/// [`ManifestError`] with every problem found, the file shown as `<command line>`.
pub fn from_command_line(
    mode: Mode,
    data_dir: &Path,
    fields: Vec<(&str, CliValue)>,
) -> Result<Manifest, ManifestError> {
    let file = PathBuf::from("<command line>");
    let table = cells(fields.into_iter().map(|(k, v)| (k.to_owned(), v)));
    let root = Node {
        value: Value::Map(vec![Entry {
            key: mode.key().to_owned(),
            key_loc: Loc::Unknown,
            node: table,
        }]),
        loc: Loc::Unknown,
    };
    let mut sink = Sink::new(file.clone());
    let mut manifest = Manifest {
        sources: Vec::new(),
        data_dir: data_dir.to_path_buf(),
        jobs: Vec::new(),
    };
    manifest_from_tree(&root, &mut sink, &file, Path::new("."), &mut manifest);
    // The same checks as a manifest's `data_dir`; a system folder needs a manifest with
    // `allow_system_data_dir = true`.
    if let Err(message) =
        super::fields::check_data_dir(&data_dir.to_string_lossy(), Path::new("."), false)
    {
        sink.push(Loc::Unknown, "--data-dir", message);
    }
    if sink.diags.is_empty() {
        Ok(manifest)
    } else {
        Err(ManifestError::Invalid {
            path: file,
            diagnostics: sink.diags,
        })
    }
}
