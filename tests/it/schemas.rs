//! The checked-in JSON Schemas match the raw types; the raw types' fields match validation's.
//! Regenerate with `HYDROFETCH_UPDATE_SCHEMAS=1 cargo test --test schemas`.

#![expect(clippy::unwrap_used, reason = "test helpers fail loudly")]

use hydrofetch::manifest::raw::{RawManifest, RawRequestDocument};
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
        "{} is stale: regenerate it with `HYDROFETCH_UPDATE_SCHEMAS=1 cargo test --test schemas`",
        path.display()
    );
}

#[test]
fn schemas_are_current() {
    check("manifest.schema.json", &schemars::schema_for!(RawManifest));
    check(
        "requests.schema.json",
        &schemars::schema_for!(RawRequestDocument),
    );
}

#[test]
fn example_request_documents_fit_the_raw_types() {
    let text = std::fs::read_to_string("manifests/requests-seed.json").unwrap();
    let _: RawRequestDocument = serde_json::from_str(&text).unwrap();
    let text = std::fs::read_to_string("manifests/requests-seed.toml").unwrap();
    let _: RawRequestDocument = toml::from_str(&text).unwrap();
    for f in ["range", "sample", "events", "audio", "requests"] {
        let text = std::fs::read_to_string(format!("manifests/{f}.json")).unwrap();
        let _: RawManifest = serde_json::from_str(&text).unwrap();
        let text = std::fs::read_to_string(format!("manifests/{f}.toml")).unwrap();
        let _: RawManifest = toml::from_str(&text).unwrap();
    }
}
