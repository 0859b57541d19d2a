//! Where fetched files go under `data_dir`.
//!
//! `data_dir/<device>/spectrograms/<ONC name>` for spectrograms with ONC's default options,
//! `data_dir/<device>/spectrograms/<options tag>/<ONC name>` otherwise (ONC names a product
//! after its source file whatever the options, so two option sets for one slot would collide),
//! and `data_dir/<device>/audio/<ONC name>`. The device and the ONC name are [`SafeName`]s
//! (checked once, at the edge where they arrive); the options tag is built here from safe
//! characters only.

use crate::safe_name::SafeName;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Options that do not change which files a spectrogram request produces, left out of tags.
const NEUTRAL: &[(&str, &str)] = &[("dpo_spectrogramConcatenation", "None")];

/// The folder tag for a set of spectrogram options: empty for ONC's defaults.
#[must_use]
pub(crate) fn options_tag(options: &BTreeMap<String, String>) -> String {
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
    let h = hex::encode(Sha256::digest(tag.as_bytes()));
    format!("options-{}", &h[..16])
}

/// Relative path (`/`-separated) of a spectrogram file.
#[must_use]
pub(crate) fn spectrogram_path(
    device: &SafeName,
    options: &BTreeMap<String, String>,
    name: &SafeName,
) -> String {
    let tag = options_tag(options);
    if tag.is_empty() {
        format!("{device}/spectrograms/{name}")
    } else {
        format!("{device}/spectrograms/{tag}/{name}")
    }
}

/// Relative path (`/`-separated) of an audio file.
#[must_use]
pub(crate) fn audio_path(device: &SafeName, name: &SafeName) -> String {
    format!("{device}/audio/{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_tags() {
        let mut o = BTreeMap::new();
        o.insert("dpo_spectrogramConcatenation".to_owned(), "None".to_owned());
        let (d, a) = (SafeName::new("D").unwrap(), SafeName::new("a.mat").unwrap());
        assert_eq!(spectrogram_path(&d, &o, &a), "D/spectrograms/a.mat");
        o.insert("dpo_spectralDataDownsample".to_owned(), "2".to_owned());
        assert_eq!(
            spectrogram_path(&d, &o, &a),
            "D/spectrograms/spectralDataDownsample-2/a.mat"
        );
        o.insert("dpo_x".to_owned(), "../../".to_owned());
        assert!(!options_tag(&o).contains('/'));
        let long: BTreeMap<_, _> = (0..20)
            .map(|i| (format!("dpo_option{i}"), "value".to_owned()))
            .collect();
        assert!(options_tag(&long).starts_with("options-"));
        assert_eq!(audio_path(&d, &a), "D/audio/a.mat");
    }
}
