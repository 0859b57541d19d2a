//! The resume journal: ONC jobs in flight, so that a run killed midway (even with `kill -9`)
//! re-attaches to the jobs ONC is still processing, or has finished, instead of requesting
//! them again.
//!
//! A JSON file in the `.hydrofetch/` folder beside the lockfile (`NAME.lock.journal`, see
//! [`crate::dataset::StatePaths`]), rewritten atomically on every change. Keys are [`SpectrogramGroup::key`](super::job::SpectrogramGroup::key) values; an
//! entry is removed when its group is done. A missing or unreadable journal is an empty one:
//! the worst case is a duplicate ONC request, never a wrong file.

use crate::atomic::write_atomic;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

/// The name of the journal of lockfile version 1 (one per folder); watch ignores it.
pub const STATE_FILE_NAME: &str = "hydrofetch.state.json";

/// An ONC job in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct InFlight {
    /// ONC's request id.
    pub dp_request_id: i64,
    /// ONC's run id, once known.
    pub dp_run_id: Option<i64>,
}

/// The journal, held by the runner.
#[derive(Debug)]
pub(crate) struct Journal {
    path: PathBuf,
    jobs: BTreeMap<String, InFlight>,
}

#[derive(Serialize, Deserialize)]
struct Wire {
    version: u32,
    jobs: BTreeMap<String, InFlight>,
}

impl Journal {
    /// Reads the journal at `path` (empty if absent or unreadable).
    #[must_use]
    pub(crate) fn load(path: &Path) -> Self {
        let jobs = fs_err::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice::<Wire>(&b).ok())
            .filter(|w| w.version == 1)
            .map(|w| w.jobs)
            .unwrap_or_default();
        Self {
            path: path.to_owned(),
            jobs,
        }
    }

    /// The job recorded for a group.
    #[must_use]
    #[cfg(test)]
    pub(crate) fn get(&self, key: &str) -> Option<InFlight> {
        self.jobs.get(key).copied()
    }

    /// Records a job and saves.
    ///
    /// # Errors
    /// I/O errors writing the file.
    pub(crate) fn record(&mut self, key: &str, job: InFlight) -> io::Result<()> {
        if self.jobs.insert(key.to_owned(), job) == Some(job) {
            return Ok(());
        }
        self.save()
    }

    /// Forgets a group's job and saves (deletes the file when empty).
    ///
    /// # Errors
    /// I/O errors writing the file.
    pub(crate) fn forget(&mut self, key: &str) -> io::Result<()> {
        if self.jobs.remove(key).is_none() {
            return Ok(());
        }
        self.save()
    }

    /// All jobs in flight.
    pub(crate) fn jobs(&self) -> impl Iterator<Item = (&String, &InFlight)> {
        self.jobs.iter()
    }

    fn save(&self) -> io::Result<()> {
        if self.jobs.is_empty() {
            return match fs_err::remove_file(&self.path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            };
        }
        let wire = Wire {
            version: 1,
            jobs: self.jobs.clone(),
        };
        let text = serde_json::to_vec_pretty(&wire).map_err(io::Error::other)?;
        write_atomic(&self.path, &text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn survives_a_restart_and_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(STATE_FILE_NAME);
        let mut j = Journal::load(&p);
        j.record(
            "g1",
            InFlight {
                dp_request_id: 7,
                dp_run_id: None,
            },
        )
        .unwrap();
        j.record(
            "g1",
            InFlight {
                dp_request_id: 7,
                dp_run_id: Some(70),
            },
        )
        .unwrap();
        j.record(
            "g2",
            InFlight {
                dp_request_id: 8,
                dp_run_id: None,
            },
        )
        .unwrap();
        let again = Journal::load(&p);
        assert_eq!(
            again.get("g1"),
            Some(InFlight {
                dp_request_id: 7,
                dp_run_id: Some(70)
            })
        );
        assert_eq!(again.jobs().count(), 2);
        j.forget("g1").unwrap();
        j.forget("g2").unwrap();
        assert!(!p.exists());
        fs_err::write(&p, b"{garbage").unwrap();
        assert_eq!(Journal::load(&p).jobs().count(), 0);
    }
}
