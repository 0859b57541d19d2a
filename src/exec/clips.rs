//! Clips waiting for their sources, and the ready queue they enter when the last one lands.
//!
//! Each clip keeps a count of its missing sources; each source id lists the clips waiting on
//! it. A finished source decrements the counts of its own clips only, so the whole run costs
//! O(clips × sources per clip), never a scan over every clip per event.

use super::job::ClipJob;
use crate::lock::Lockfile;
use std::collections::{HashMap, VecDeque};
use std::path::Path;

/// Clips not yet started.
#[derive(Debug, Default)]
pub(crate) struct ClipQueue {
    waiting: Vec<Option<ClipJob>>,
    missing: Vec<usize>,
    by_source: HashMap<String, Vec<usize>>,
    ready: VecDeque<ClipJob>,
}

impl ClipQueue {
    /// Queues `clips`; those whose sources `lock` already has (files present) are ready.
    pub(crate) fn new(clips: Vec<ClipJob>, lock: &Lockfile, data_dir: &Path) -> Self {
        let mut q = Self::default();
        for (i, c) in clips.into_iter().enumerate() {
            let mut missing = 0;
            for s in &c.sources {
                if !lock.is_satisfied(s, data_dir) {
                    missing += 1;
                    q.by_source.entry(s.clone()).or_default().push(i);
                }
            }
            if missing == 0 {
                q.ready.push_back(c);
                q.waiting.push(None);
            } else {
                q.waiting.push(Some(c));
            }
            q.missing.push(missing);
        }
        q
    }

    /// A source is done: the clips it completes become ready.
    pub(crate) fn source_done(&mut self, id: &str) {
        for i in self.by_source.remove(id).unwrap_or_default() {
            let Some(m) = self.missing.get_mut(i) else {
                continue;
            };
            *m = m.saturating_sub(1);
            if *m == 0
                && let Some(c) = self.waiting.get_mut(i).and_then(Option::take)
            {
                self.ready.push_back(c);
            }
        }
    }

    /// A source failed: the clips waiting on it cannot be made; they are returned.
    pub(crate) fn source_failed(&mut self, id: &str) -> Vec<ClipJob> {
        self.by_source
            .remove(id)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|i| self.waiting.get_mut(i).and_then(Option::take))
            .collect()
    }

    /// The next ready clip.
    pub(crate) fn pop_ready(&mut self) -> Option<ClipJob> {
        self.ready.pop_front()
    }

    /// Whether a clip is ready to start.
    pub(crate) fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::ClipKind;
    use crate::time::UtcInstant;

    fn clip(id: &str, sources: &[&str]) -> ClipJob {
        ClipJob {
            id: id.into(),
            device: "ICLISTENHF6324".into(),
            kind: ClipKind::Mat,
            start: UtcInstant::from_unix_millis(0),
            end: UtcInstant::from_unix_millis(1000),
            sources: sources.iter().map(|s| (*s).to_owned()).collect(),
            output: format!("clips/{id}.mat"),
            gap: crate::clip::GapPolicy::default(),
        }
    }

    #[test]
    fn a_clip_is_ready_when_its_last_source_lands() {
        let dir = tempfile::tempdir().unwrap();
        let mut q = ClipQueue::new(
            vec![
                clip("c1", &["a", "b"]),
                clip("c2", &["b"]),
                clip("c3", &[]),
                clip("c4", &["x"]),
            ],
            &Lockfile::default(),
            dir.path(),
        );
        assert_eq!(q.pop_ready().map(|c| c.id), Some("c3".into()));
        assert!(!q.has_ready());
        q.source_done("a");
        assert!(!q.has_ready(), "c1 still waits for b");
        q.source_done("b");
        let ready: Vec<String> = std::iter::from_fn(|| q.pop_ready()).map(|c| c.id).collect();
        assert_eq!(ready, ["c1", "c2"]);
        q.source_done("b");
        assert!(
            !q.has_ready(),
            "a source reported twice starts nothing twice"
        );
        let failed: Vec<String> = q.source_failed("x").into_iter().map(|c| c.id).collect();
        assert_eq!(failed, ["c4"]);
        assert!(q.source_failed("x").is_empty());
    }
}
