//! The checked-in JSON Schemas match the raw types, and every example manifest in
//! `manifests/` is valid twice over: against its JSON Schema (with an independent validator,
//! the `jsonschema` crate) and for the real loader (`hydrofetch::manifest::load`).
//! Regenerate the schemas with `HYDROFETCH_UPDATE_SCHEMAS=1 cargo test --test it schemas`.

use crate::harness::EXAMPLES;
use serde_json::Value;
use std::path::Path;

fn check(name: &str, schema: &schemars::Schema) {
    let text = serde_json::to_string_pretty(schema).unwrap() + "\n";
    let path = Path::new("schemas").join(name);
    if std::env::var_os("HYDROFETCH_UPDATE_SCHEMAS").is_some() {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == text,
        "{} is stale: regenerate it with `HYDROFETCH_UPDATE_SCHEMAS=1 cargo test --test it schemas`",
        path.display()
    );
}

#[test]
fn schemas_are_current() {
    check(
        "manifest.schema.json",
        &hydrofetch::manifest::manifest_schema(),
    );
    check(
        "requests.schema.json",
        &hydrofetch::manifest::requests_schema(),
    );
}

/// A TOML, YAML or JSON file as a JSON value.
fn document(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    match path.extension().and_then(|e| e.to_str()) {
        Some("json") => serde_json::from_str(&text).unwrap(),
        Some("toml") => {
            serde_json::to_value(toml::from_str::<toml::Table>(&text).unwrap()).unwrap()
        }
        Some("yaml") => serde_saphyr::from_str(&text).unwrap(),
        other => panic!("{}: no JSON shape for {other:?}", path.display()),
    }
}

/// The schema a document is written against, decided as the loader decides: a manifest has a
/// mode table, `version` or `data_dir`, or request entries naming a `file`; anything else is a
/// `{defaults, requests}` request document.
fn schema_file(doc: &Value) -> &'static str {
    let manifest_keys = ["version", "data_dir", "range", "sample", "events", "audio"];
    let names_a_file = doc["requests"]
        .as_array()
        .is_some_and(|r| r.iter().any(|e| e.get("file").is_some()));
    if manifest_keys.iter().any(|k| doc.get(k).is_some()) || names_a_file {
        "manifest.schema.json"
    } else {
        "requests.schema.json"
    }
}

/// Schema violations of `doc` (empty: valid).
fn violations(doc: &Value) -> Vec<String> {
    let name = schema_file(doc);
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(Path::new("schemas").join(name)).unwrap())
            .unwrap();
    let validator = jsonschema::validator_for(&schema)
        .unwrap_or_else(|e| panic!("{name} is not a valid JSON Schema: {e}"));
    validator
        .iter_errors(doc)
        .map(|e| format!("{name}: {} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn every_example_is_valid_for_its_schema_and_the_loader() {
    let dir = tempfile::tempdir().unwrap();
    for name in EXAMPLES {
        std::fs::copy(Path::new("manifests").join(name), dir.path().join(name)).unwrap();
    }
    let mut schemas_used = std::collections::BTreeSet::new();
    // CSV request files have no JSON shape: the loader alone checks them (below).
    for name in EXAMPLES.iter().filter(|n| !n.ends_with(".csv")) {
        let path = dir.path().join(name);
        let doc = document(&path);
        schemas_used.insert(schema_file(&doc));
        let bad = violations(&doc);
        assert!(bad.is_empty(), "{name}: {bad:#?}");
        if let Err(e) = hydrofetch::manifest::load(&path) {
            panic!("{name} does not load: {e}");
        }
    }
    // Both schemas were exercised.
    assert_eq!(schemas_used.len(), 2, "{schemas_used:?}");
    for name in EXAMPLES.iter().filter(|n| n.ends_with(".csv")) {
        let _csv = hydrofetch::manifest::load(&dir.path().join(name)).unwrap();
    }
}

/// An example with a misspelt field and a number where a string belongs: the schema and the
/// loader both refuse it, each naming the field.
#[test]
fn an_invalid_example_fails_both_the_schema_and_the_loader() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string("manifests/range.toml")
        .unwrap()
        .replace("spectrograms_per_batch", "spectrograms_per_btach");
    assert!(
        text.contains("spectrograms_per_btach"),
        "range.toml changed"
    );
    let path = dir.path().join("range.toml");
    std::fs::write(&path, &text).unwrap();

    let bad = violations(&document(&path));
    assert!(
        bad.iter().any(|v| v.contains("spectrograms_per_btach")),
        "the schema accepted it: {bad:#?}"
    );
    let Err(err) = hydrofetch::manifest::load(&path) else {
        panic!("the loader accepted it");
    };
    let diag = format!("{err}\n{err:?}");
    assert!(diag.contains("range[0].spectrograms_per_btach"), "{diag}");
}
