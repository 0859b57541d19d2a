//! Where fetched files go under `data_dir`.
//!
//! `data_dir/<device>/spectrograms/<ONC name>` for spectrograms with ONC's default options,
//! `data_dir/<device>/spectrograms/<options tag>/<ONC name>` otherwise (ONC names a product
//! after its source file whatever the options, so two option sets for one slot would collide),
//! and `data_dir/<device>/audio/<ONC name>`. Every part is checked: no separators, no `..`.

use std::collections::BTreeMap;

/// Options that do not change which files a spectrogram request produces, left out of tags.
const NEUTRAL: &[(&str, &str)] = &[("dpo_spectrogramConcatenation", "None")];

/// Whether a path component is safe to join: non-empty, no separators, not `.`/`..`, no
/// control characters, not hidden.
#[must_use]
pub fn is_safe_component(s: &str) -> bool {
    !s.is_empty()
        && s != "."
        && s != ".."
        && !s.starts_with('.')
        && !s
            .chars()
            .any(|c| c == '/' || c == '\\' || c == ':' || c.is_control())
}

/// The folder tag for a set of spectrogram options: empty for ONC's defaults.
#[must_use]
pub fn options_tag(options: &BTreeMap<String, String>) -> String {
    let parts: Vec<String> = options
        .iter()
        .filter(|(k, v)| !NEUTRAL.iter().any(|(nk, nv)| nk == k && nv == v))
        .map(|(k, v)| {
            let k = k.strip_prefix("dpo_").unwrap_or(k);
            let clean = |s: &str| {
                s.chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                            c
                        } else {
                            '_'
                        }
                    })
                    .collect::<String>()
            };
            format!("{}-{}", clean(k), clean(v))
        })
        .collect();
    let tag = parts.join("_");
    if tag.len() <= 80 {
        return tag;
    }
    use sha2::{Digest, Sha256};
    let h = hex::encode(Sha256::digest(tag.as_bytes()));
    format!("options-{}", &h[..16])
}

/// Relative path (`/`-separated) of a spectrogram file.
#[must_use]
pub fn spectrogram_path(device: &str, options: &BTreeMap<String, String>, name: &str) -> String {
    let tag = options_tag(options);
    if tag.is_empty() {
        format!("{device}/spectrograms/{name}")
    } else {
        format!("{device}/spectrograms/{tag}/{name}")
    }
}

/// Relative path (`/`-separated) of an audio file.
#[must_use]
pub fn audio_path(device: &str, name: &str) -> String {
    format!("{device}/audio/{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_tags() {
        let mut o = BTreeMap::new();
        o.insert("dpo_spectrogramConcatenation".to_owned(), "None".to_owned());
        assert_eq!(spectrogram_path("D", &o, "a.mat"), "D/spectrograms/a.mat");
        o.insert("dpo_spectralDataDownsample".to_owned(), "2".to_owned());
        assert_eq!(
            spectrogram_path("D", &o, "a.mat"),
            "D/spectrograms/spectralDataDownsample-2/a.mat"
        );
        o.insert("dpo_x".to_owned(), "../../".to_owned());
        assert!(!options_tag(&o).contains('/'));
        let long: BTreeMap<_, _> = (0..20)
            .map(|i| (format!("dpo_option{i}"), "value".to_owned()))
            .collect();
        assert!(options_tag(&long).starts_with("options-"));
        assert!(
            is_safe_component("ICLISTENHF6324")
                && !is_safe_component("..")
                && !is_safe_component("a/b")
        );
    }
}
