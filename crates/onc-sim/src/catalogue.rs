//! The simulator's fixed world: hydrophones, their deployments, their recordings, and the
//! archived source files those recordings are cut into.
//!
//! Decisions recorded here:
//! - A deployment holds one or more *recordings* (continuous runs of the instrument). A
//!   recording starting at `s` is cut into files starting at `s + k·300 s`; each file starts
//!   where the previous one ended, so the offset off the 5-minute grid (e.g. `hh:m0:03`)
//!   holds until the next recording, which starts with its own offset. The last file of a
//!   recording that ends early is shorter than 5 minutes.
//! - `ICLISTENHF6324` (64 kHz, 24-bit) at `BACAX` over all of 2024 (files at `hh:m0:03` /
//!   `hh:m5:03`), with an archive gap 2024-04-02 02:57:40–07:20:06 whose preceding file
//!   (02:55:03) is 157 s long, and files at `hh:m0:06` / `hh:m5:06` after it; plus an earlier,
//!   finished deployment at `BACND` in 2023. `ICLISTENHF1205` (64 kHz) at `CBYIP`, files at
//!   `hh:m1:09` / `hh:m6:09`. `ICLISTENAF2523` (icListen AF, 32 kHz, 24-bit) at `FGPD`, files
//!   exactly on the grid.
//! - An ongoing recording produces only files that have ended by the time of the call.
//! - Selection is by overlap with `[from, to)`: a file `[a, b)` is selected when `a < to` and
//!   `b > from`, so the file running across `from` is included and one starting exactly at
//!   `to` is not. Listing is O(files in span): file indices are computed, not scanned.

use crate::products::frames_between;
use crate::time::UtcInstant;

/// Nominal length of an archived file.
pub const FILE_MILLIS: i64 = 300_000;

/// A continuous recording: files start at `start + k·300 s` until `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recording {
    /// Start of the first file.
    pub start: UtcInstant,
    /// End of the recording (`None`: still recording).
    pub end: Option<UtcInstant>,
}

/// A deployment of a device at a location.
#[derive(Debug, Clone, PartialEq)]
pub struct Deployment {
    /// Location code.
    pub location_code: &'static str,
    /// Start of the deployment.
    pub begin: UtcInstant,
    /// End (`None`: still deployed).
    pub end: Option<UtcInstant>,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// Depth, metres.
    pub depth: f64,
    /// Recordings, chronological, inside the deployment.
    pub recordings: Vec<Recording>,
}

/// A hydrophone.
#[derive(Debug, Clone, PartialEq)]
pub struct Device {
    /// Device code.
    pub code: &'static str,
    /// Numeric id.
    pub id: u32,
    /// Name.
    pub name: &'static str,
    /// Samples per second.
    pub sample_rate: u32,
    /// Bits per sample.
    pub bits: u16,
    /// `HF` or `LF` (acquisition mode it records in).
    pub mode: &'static str,
    /// Deployments, chronological.
    pub deployments: Vec<Deployment>,
}

/// A location.
#[derive(Debug, Clone, PartialEq)]
pub struct Location {
    /// Code.
    pub code: &'static str,
    /// Name.
    pub name: &'static str,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// Depth.
    pub depth: f64,
}

/// One archived source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Device code.
    pub device: &'static str,
    /// Location of the deployment it belongs to.
    pub location: &'static str,
    /// First instant.
    pub start: UtcInstant,
    /// End instant (exclusive).
    pub end: UtcInstant,
    /// Number of samples.
    pub frames: usize,
    /// Samples per second.
    pub sample_rate: u32,
    /// Bits per sample.
    pub bits: u16,
}

impl SourceFile {
    /// `<device>_<stamp>` without suffix or extension.
    #[must_use]
    pub fn base_name(&self) -> String {
        format!("{}_{}", self.device, self.start.to_file_stamp())
    }
}

/// The whole world.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalogue {
    /// Devices.
    pub devices: Vec<Device>,
    /// Locations.
    pub locations: Vec<Location>,
}

fn t(s: &str) -> UtcInstant {
    // Constant, known-good literals: fall back to the epoch rather than panic.
    UtcInstant::parse(s).unwrap_or(UtcInstant::from_unix_millis(0))
}

impl Catalogue {
    /// The built-in catalogue (see the module doc).
    #[must_use]
    #[expect(
        clippy::too_many_lines,
        reason = "the catalogue is data: one entry per device, read top to bottom"
    )]
    pub fn builtin() -> Self {
        let hf6324 = Device {
            code: "ICLISTENHF6324",
            id: 24_324,
            name: "Ocean Sonics icListen HF Hydrophone 6324",
            sample_rate: 64_000,
            bits: 24,
            mode: "HF",
            deployments: vec![
                Deployment {
                    location_code: "BACND",
                    begin: t("2023-03-10T18:20:00.000Z"),
                    end: Some(t("2023-11-20T09:00:00.000Z")),
                    lat: 48.427_6,
                    lon: -126.174_5,
                    depth: 649.0,
                    recordings: vec![Recording {
                        start: t("2023-03-10T19:00:07.000Z"),
                        end: Some(t("2023-11-20T08:30:07.000Z")),
                    }],
                },
                Deployment {
                    location_code: "BACAX",
                    begin: t("2023-12-31T22:14:00.000Z"),
                    end: None,
                    lat: 48.316_7,
                    lon: -126.050_0,
                    depth: 985.0,
                    recordings: vec![
                        Recording {
                            start: t("2024-01-01T00:00:03.000Z"),
                            end: Some(t("2024-04-02T02:57:40.000Z")),
                        },
                        Recording {
                            start: t("2024-04-02T07:20:06.000Z"),
                            end: None,
                        },
                    ],
                },
            ],
        };
        let hf1205 = Device {
            code: "ICLISTENHF1205",
            id: 21_205,
            name: "Ocean Sonics icListen HF Hydrophone 1205",
            sample_rate: 64_000,
            bits: 24,
            mode: "HF",
            deployments: vec![Deployment {
                location_code: "CBYIP",
                begin: t("2024-01-15T10:00:00.000Z"),
                end: None,
                lat: 48.966_7,
                lon: -125.600_0,
                depth: 103.0,
                recordings: vec![Recording {
                    start: t("2024-01-15T10:31:09.000Z"),
                    end: None,
                }],
            }],
        };
        let af2523 = Device {
            code: "ICLISTENAF2523",
            id: 22_523,
            name: "Ocean Sonics icListen AF Hydrophone 2523",
            sample_rate: 32_000,
            bits: 24,
            mode: "LF",
            deployments: vec![Deployment {
                location_code: "FGPD",
                begin: t("2023-06-01T00:00:00.000Z"),
                end: None,
                lat: 48.303_0,
                lon: -123.534_0,
                depth: 96.0,
                recordings: vec![Recording {
                    start: t("2023-06-01T00:00:00.000Z"),
                    end: None,
                }],
            }],
        };
        let locations = vec![
            Location {
                code: "BACAX",
                name: "Barkley Canyon Axis",
                lat: 48.316_7,
                lon: -126.05,
                depth: 985.0,
            },
            Location {
                code: "BACND",
                name: "Barkley Canyon Node",
                lat: 48.427_6,
                lon: -126.174_5,
                depth: 649.0,
            },
            Location {
                code: "CBYIP",
                name: "Clayoquot Slope Bullseye",
                lat: 48.966_7,
                lon: -125.6,
                depth: 103.0,
            },
            Location {
                code: "FGPD",
                name: "Folger Deep",
                lat: 48.303,
                lon: -123.534,
                depth: 96.0,
            },
        ];
        Self {
            devices: vec![hf6324, hf1205, af2523],
            locations,
        }
    }

    /// The device with this code.
    #[must_use]
    pub fn device(&self, code: &str) -> Option<&Device> {
        self.devices.iter().find(|d| d.code == code)
    }

    /// The location with this code.
    #[must_use]
    pub fn location(&self, code: &str) -> Option<&Location> {
        self.locations.iter().find(|l| l.code == code)
    }

    /// The citation of a deployment, in ONC's form ("Ocean Networks Canada Society. YEAR.
    /// LOCATION Hydrophone Deployed DATE. Ocean Networks Canada Society. `https://doi.org/…`"),
    /// and its DOI. The DOI is synthetic (registrant `10.0000`, which no one holds): one per
    /// device and deployment, so a dataset's citations can be told apart.
    #[must_use]
    pub fn citation(&self, device: &Device, dep: &Deployment) -> (String, String) {
        let begin = dep.begin.to_onc_string();
        let day = begin.get(..10).unwrap_or_default();
        let year = begin.get(..4).unwrap_or_default();
        let place = self
            .location(dep.location_code)
            .map_or(dep.location_code, |l| l.name);
        let doi = format!(
            "10.0000/SIM.{}.{}.{}",
            device.code,
            dep.location_code,
            day.replace('-', "")
        );
        (
            format!(
                "Ocean Networks Canada Society. {year}. {place} Hydrophone Deployed {day}. \
                 Ocean Networks Canada Society. https://doi.org/{doi}"
            ),
            doi,
        )
    }

    /// Devices deployed at `location` at some time overlapping `[from, to)`, each with its
    /// deployments there.
    #[must_use]
    pub fn devices_at(&self, location: &str, from: UtcInstant, to: UtcInstant) -> Vec<&Device> {
        self.devices
            .iter()
            .filter(|d| {
                d.deployments.iter().any(|dep| {
                    dep.location_code == location && overlaps(dep.begin, dep.end, from, to)
                })
            })
            .collect()
    }

    /// Source files of `device` overlapping `[from, to)` (only those ended by `now`),
    /// chronological, optionally restricted to deployments at `location`.
    #[must_use]
    pub fn files(
        &self,
        device: &Device,
        location: Option<&str>,
        from: UtcInstant,
        to: UtcInstant,
        now: UtcInstant,
    ) -> Vec<SourceFile> {
        let mut out = Vec::new();
        for dep in &device.deployments {
            if location.is_some_and(|l| l != dep.location_code) {
                continue;
            }
            for rec in &dep.recordings {
                files_of_recording(device, dep.location_code, rec, from, to, now, &mut out);
            }
        }
        out
    }

    /// The source file of `device` starting exactly at `start`, if any.
    #[must_use]
    pub fn file_at(
        &self,
        device: &Device,
        start: UtcInstant,
        now: UtcInstant,
    ) -> Option<SourceFile> {
        self.files(device, None, start, start.add_millis(1), now)
            .into_iter()
            .find(|f| f.start == start)
    }
}

/// Whether `[begin, end)` (open end when `None`) overlaps `[from, to)`.
#[must_use]
pub fn overlaps(
    begin: UtcInstant,
    end: Option<UtcInstant>,
    from: UtcInstant,
    to: UtcInstant,
) -> bool {
    begin < to && end.is_none_or(|e| e > from)
}

fn files_of_recording(
    device: &Device,
    location: &'static str,
    rec: &Recording,
    from: UtcInstant,
    to: UtcInstant,
    now: UtcInstant,
    out: &mut Vec<SourceFile>,
) {
    let s = rec.start.unix_millis();
    // Ongoing recordings: only files that have ended by `now`.
    let rec_end = match rec.end {
        Some(e) => e.unix_millis(),
        None => s + (now.unix_millis() - s).max(0) / FILE_MILLIS * FILE_MILLIS,
    };
    let (from, to) = (from.unix_millis(), to.unix_millis().min(rec_end));
    if to <= s || from >= rec_end {
        return;
    }
    let k_min = if from <= s {
        0
    } else {
        (from - s) / FILE_MILLIS
    };
    // Files with start < to.
    let k_end = (to - s + FILE_MILLIS - 1) / FILE_MILLIS;
    for k in k_min..k_end {
        let a = s + k * FILE_MILLIS;
        let b = (a + FILE_MILLIS).min(rec_end);
        if b <= from || a >= b {
            continue;
        }
        let (a, b) = (
            UtcInstant::from_unix_millis(a),
            UtcInstant::from_unix_millis(b),
        );
        out.push(SourceFile {
            device: device.code,
            location,
            start: a,
            end: b,
            frames: frames_between(device.sample_rate, a, b),
            sample_rate: device.sample_rate,
            bits: device.bits,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> UtcInstant {
        t("2026-01-01T00:00:00.000Z")
    }

    #[test]
    fn overlap_selection_includes_the_file_across_from() {
        let c = Catalogue::builtin();
        let d = c.device("ICLISTENHF6324").unwrap();
        let f = c.files(
            d,
            None,
            t("2024-04-01T12:00:00.000Z"),
            t("2024-04-01T12:10:00.000Z"),
            now(),
        );
        let names: Vec<_> = f.iter().map(SourceFile::base_name).collect();
        assert_eq!(
            names,
            [
                "ICLISTENHF6324_20240401T115503.000Z",
                "ICLISTENHF6324_20240401T120003.000Z",
                "ICLISTENHF6324_20240401T120503.000Z"
            ]
        );
        assert!(f.iter().all(|x| x.frames == 300 * 64_000));
    }

    #[test]
    fn gap_and_short_file() {
        let c = Catalogue::builtin();
        let d = c.device("ICLISTENHF6324").unwrap();
        let f = c.files(
            d,
            None,
            t("2024-04-02T02:50:00.000Z"),
            t("2024-04-02T07:30:00.000Z"),
            now(),
        );
        let names: Vec<_> = f.iter().map(SourceFile::base_name).collect();
        assert_eq!(
            names,
            [
                "ICLISTENHF6324_20240402T024503.000Z",
                "ICLISTENHF6324_20240402T025003.000Z",
                "ICLISTENHF6324_20240402T025503.000Z",
                "ICLISTENHF6324_20240402T072006.000Z",
                "ICLISTENHF6324_20240402T072506.000Z"
            ]
        );
        assert_eq!(f[2].frames, 157 * 64_000);
        assert_eq!(f[2].end, t("2024-04-02T02:57:40.000Z"));
    }

    #[test]
    fn nothing_outside_deployments_and_exclusive_to() {
        let c = Catalogue::builtin();
        let d = c.device("ICLISTENHF6324").unwrap();
        let f = c.files(
            d,
            None,
            t("2023-12-01T00:00:00.000Z"),
            t("2024-01-01T00:00:03.000Z"),
            now(),
        );
        assert!(f.is_empty());
        let af = c.device("ICLISTENAF2523").unwrap();
        let f = c.files(
            af,
            Some("FGPD"),
            t("2024-04-01T12:00:00.000Z"),
            t("2024-04-01T12:05:00.000Z"),
            now(),
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].base_name(), "ICLISTENAF2523_20240401T120000.000Z");
    }
}
