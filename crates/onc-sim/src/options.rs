//! The simulator's data-product catalogue (`api/dataProducts`) and the validation of
//! `dataProductDelivery/request` product parameters against it.
//!
//! Decisions recorded here:
//! - Served products: `AD` `flac`/`wav` and `HSD` `mat`/`png`, with ONC's option names,
//!   defaults and allowed values (strings, `allowableValues` deliberately unsorted as ONC's).
//!   Other ONC products (`mp3`, `pdf`, `fft`, `HSPD`, ...) are not simulated: 400/127.
//! - An unknown `dpo_*` name for the product → 400/129; a value outside `allowableValues` and
//!   `allowableRange` → 400/127.
//! - Concatenation: only per-source-file outputs are simulated. HSD `mat` with
//!   `dpo_spectralDataDownsample=1` requires `dpo_spectrogramConcatenation=None` (ONC's default
//!   `Concatenate` answers 400/127 naming the option); with downsample 0/2 ONC ignores the
//!   option (one MAT per file) and so does the simulator. HSD `png` accepts only `None`.
//!   `dpo_spectrogramSource=FFT` answers 400/127 (no device FFT simulated).
//! - Archived (immediate) products: AD without resampling or conversion, HSD `mat` with
//!   downsample 1, HSD `png` with every plot option at its default. Everything else is made
//!   on demand: 25 s per source file for HSD, 15 s for audio (before `--time-scale`).
//! - No-data selections (reported as 204 at download): acquisition mode other than `All` or
//!   the device's own (`HF`/`LF`), channel `H2`/`H3`, diversion mode `LPF`/`HPF`.
//! - Audio resampling above the device rate answers 400/127.

use crate::api::{ApiError, ApiResult, Params};
use crate::catalogue::Device;
use crate::data::ProductKind;
use crate::products::AudioExt;
use crate::render::RenderOptions;
use crate::spectro::Resolution;
use crate::wire::{AllowableRange, DataProduct, DataProductOption};

/// Seconds of processing per source file for on-demand HSD products.
pub const HSD_SECS_PER_FILE: f64 = 25.0;
/// Seconds of processing per source file for audio conversion/resampling.
pub const AUDIO_SECS_PER_FILE: f64 = 15.0;

fn opt(
    name: &str,
    values: &[&str],
    default: &str,
    range: Option<(&str, &str, bool, Option<&str>)>,
) -> DataProductOption {
    DataProductOption {
        option: name.to_owned(),
        allowable_values: values.iter().map(|s| (*s).to_owned()).collect(),
        default_value: default.to_owned(),
        allowable_range: range.map(|(lo, hi, ints, unit)| AllowableRange {
            lower_bound: lo.to_owned(),
            upper_bound: hi.to_owned(),
            only_integers: ints,
            unit_of_measure: unit.map(str::to_owned),
        }),
        documentation: vec!["https://wiki.oceannetworks.ca/display/DP/45".to_owned()],
        suboptions: None,
    }
}

fn hydrophone_opts() -> Vec<DataProductOption> {
    vec![
        opt(
            "dpo_hydrophoneAcquisitionMode",
            &["All", "LF", "HF"],
            "All",
            None,
        ),
        opt(
            "dpo_hydrophoneChannel",
            &["H1", "All", "H2", "H3"],
            "H1",
            None,
        ),
        opt(
            "dpo_hydrophoneDataDiversionMode",
            &["OD", "All", "LPF", "HPF"],
            "OD",
            None,
        ),
    ]
}

/// Options of a served product, sorted by name; `None` when the product is not served.
#[must_use]
pub fn product_options(code: &str, ext: &str) -> Option<Vec<DataProductOption>> {
    let mut v = hydrophone_opts();
    match (code, ext) {
        ("AD", "flac" | "wav") => {
            v.push(opt(
                "dpo_audioDownsample",
                &[
                    "16000", "8000", "256", "-1", "44100", "512", "2000", "4000", "48000",
                ],
                "-1",
                Some(("1", "256000", true, Some("Hz"))),
            ));
            v.push(opt("dpo_audioFormatConversion", &["0", "1"], "0", None));
        }
        ("HSD", "mat") => {
            v.push(opt(
                "dpo_spectralDataDownsample",
                &["1", "0", "2"],
                "1",
                None,
            ));
            v.push(opt(
                "dpo_spectrogramConcatenation",
                &["Concatenate", "Daily", "None"],
                "Concatenate",
                None,
            ));
        }
        ("HSD", "png") => {
            let lim = Some(("-160.0", "140.0", false, None));
            v.push(opt("dpo_lowerColourLimit", &["-1000"], "-1000", lim));
            v.push(opt("dpo_upperColourLimit", &["-1000"], "-1000", lim));
            v.push(opt(
                "dpo_spectrogramColourPalette",
                &["0", "1", "2", "3", "4", "5"],
                "0",
                None,
            ));
            v.push(opt(
                "dpo_spectrogramConcatenation",
                &["None", "Adjacent", "Daily", "Weekly"],
                "None",
                None,
            ));
            v.push(opt(
                "dpo_spectrogramFrequencyUpperLimit",
                &["-1", "1000", "10000"],
                "-1",
                Some(("100", "500000", true, Some("Hz"))),
            ));
            v.push(opt(
                "dpo_spectrogramSource",
                &["MIX", "WAVFLAC", "FFT"],
                "MIX",
                None,
            ));
        }
        _ => return None,
    }
    v.sort_by(|a, b| a.option.cmp(&b.option));
    Some(v)
}

/// Every served product.
#[must_use]
pub fn catalogue() -> Vec<DataProduct> {
    [
        ("AD", "flac"),
        ("AD", "wav"),
        ("HSD", "mat"),
        ("HSD", "png"),
    ]
    .into_iter()
    .filter_map(|(c, e)| {
        Some(DataProduct {
            data_product_code: c.to_owned(),
            data_product_name: if c == "AD" {
                "Audio Data"
            } else {
                "Hydrophone Spectral Data"
            }
            .to_owned(),
            extension: e.to_owned(),
            has_device_data: true,
            has_property_data: false,
            help_document: format!(
                "https://wiki.oceannetworks.ca/display/DP/{}",
                if c == "AD" { 7 } else { 45 }
            ),
            data_product_options: product_options(c, e)?,
        })
    })
    .collect()
}

/// A validated product choice.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// `AD` or `HSD`.
    pub code: String,
    /// Extension.
    pub ext: String,
    /// What to make from each source file.
    pub kind: ProductKind,
    /// Made on demand (queued) rather than archived (immediate).
    pub on_demand: bool,
    /// Processing seconds per source file (before the time scale).
    pub secs_per_file: f64,
    /// The options select no data for this device.
    pub no_data: bool,
}

fn valid(o: &DataProductOption, v: &str) -> bool {
    if o.allowable_values.iter().any(|x| x == v) {
        return true;
    }
    let Some(r) = &o.allowable_range else {
        return false;
    };
    let (Ok(x), Ok(lo), Ok(hi)) = (
        v.parse::<f64>(),
        r.lower_bound.parse::<f64>(),
        r.upper_bound.parse::<f64>(),
    ) else {
        return false;
    };
    x >= lo && x <= hi && (!r.only_integers || x.fract() == 0.0)
}

/// Validates `dataProductCode`, `extension` and `dpo_*` of `p` for `device`.
#[expect(
    clippy::too_many_lines,
    reason = "the product option table is data, one entry per option"
)]
pub fn choose(p: &Params, device: &Device) -> ApiResult<Choice> {
    let code = p.get("dataProductCode").map_or("", String::as_str);
    let ext = p.get("extension").map_or("", String::as_str);
    if code != "AD" && code != "HSD" {
        return Err(ApiError::invalid("dataProductCode"));
    }
    let opts = product_options(code, ext).ok_or_else(|| ApiError::invalid("extension"))?;
    for (k, v) in p.iter().filter(|(k, _)| k.starts_with("dpo_")) {
        let o = opts
            .iter()
            .find(|o| &o.option == k)
            .ok_or_else(|| ApiError::code(129, "Invalid parameter name", k))?;
        if !valid(o, v) {
            return Err(ApiError::invalid(k));
        }
    }
    let get = |name: &str| -> String {
        p.get(name).cloned().unwrap_or_else(|| {
            opts.iter()
                .find(|o| o.option == name)
                .map(|o| o.default_value.clone())
                .unwrap_or_default()
        })
    };
    let mode = get("dpo_hydrophoneAcquisitionMode");
    let no_data = !(mode == "All" || mode == device.mode)
        || matches!(get("dpo_hydrophoneChannel").as_str(), "H2" | "H3")
        || matches!(
            get("dpo_hydrophoneDataDiversionMode").as_str(),
            "LPF" | "HPF"
        );
    let (kind, on_demand, secs) = match (code, ext) {
        ("AD", e) => {
            let ext = if e == "flac" {
                AudioExt::Flac
            } else {
                AudioExt::Wav
            };
            let ds: i64 = get("dpo_audioDownsample").parse().unwrap_or(-1);
            let rate = if ds <= 0 {
                device.sample_rate
            } else {
                u32::try_from(ds).unwrap_or(u32::MAX)
            };
            if rate > device.sample_rate {
                return Err(ApiError::invalid_msg(
                    "dpo_audioDownsample",
                    "Invalid parameter value: cannot resample above the device sample rate",
                ));
            }
            let on_demand = rate != device.sample_rate || get("dpo_audioFormatConversion") == "1";
            (
                ProductKind::Audio { ext, rate },
                on_demand,
                AUDIO_SECS_PER_FILE,
            )
        }
        (_, "mat") => {
            let ds: u8 = get("dpo_spectralDataDownsample").parse().unwrap_or(1);
            let res = Resolution::from_downsample(ds)
                .ok_or_else(|| ApiError::invalid("dpo_spectralDataDownsample"))?;
            if ds == 1 && get("dpo_spectrogramConcatenation") != "None" {
                return Err(ApiError::invalid_msg(
                    "dpo_spectrogramConcatenation",
                    "Invalid parameter value: only dpo_spectrogramConcatenation=None is simulated",
                ));
            }
            (ProductKind::Mat(res), ds != 1, HSD_SECS_PER_FILE)
        }
        _ => {
            if get("dpo_spectrogramConcatenation") != "None" {
                return Err(ApiError::invalid_msg(
                    "dpo_spectrogramConcatenation",
                    "Invalid parameter value: only dpo_spectrogramConcatenation=None is simulated",
                ));
            }
            if get("dpo_spectrogramSource") == "FFT" {
                return Err(ApiError::invalid_msg(
                    "dpo_spectrogramSource",
                    "Invalid parameter value: FFT-sourced plots are not simulated",
                ));
            }
            let mut o = RenderOptions::default();
            let num = |n: &str| get(n).parse::<f64>().unwrap_or(-1000.0);
            let (lo, hi) = (num("dpo_lowerColourLimit"), num("dpo_upperColourLimit"));
            if lo > -1000.0 {
                o.lower_db = lo;
            }
            if hi > -1000.0 {
                o.upper_db = hi;
            }
            let fu = num("dpo_spectrogramFrequencyUpperLimit");
            if fu > 0.0 {
                o.freq_upper_hz = Some(fu);
            }
            o.palette = get("dpo_spectrogramColourPalette").parse().unwrap_or(0);
            let on_demand = o != RenderOptions::default();
            (ProductKind::Png(o), on_demand, HSD_SECS_PER_FILE)
        }
    };
    Ok(Choice {
        code: code.to_owned(),
        ext: ext.to_owned(),
        kind,
        on_demand,
        secs_per_file: if on_demand { secs } else { 0.0 },
        no_data,
    })
}
