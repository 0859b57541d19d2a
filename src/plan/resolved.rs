//! The [`Plan`] value and how it is built from manifests: items sorted by id, the plan hash,
//! and the context the executor needs (manifest paths, `data_dir`).

use super::{
    ClipItem, ClipRequest, FetchItem, Item, OncRequestGroup, PlanLimits, build, group, limits,
};
use crate::domain::ItemId;
use crate::manifest::{Diagnostic, Manifest};
use sha2::{Digest, Sha256};
use std::path::PathBuf;

/// Problems found while planning (after the manifests themselves were valid).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// Two different clips would write the same output file (identical clips are one item).
    #[error(
        "two clips would write {output}: {first} and {second} (give one an `output_name` or `output_tag`)"
    )]
    OutputCollision {
        /// The output path, relative to `data_dir`.
        output: String,
        /// Where the first request is.
        first: String,
        /// Where the second request is.
        second: String,
    },
    /// A job would make the plan larger than its [`PlanLimits`] allow: a manifest error,
    /// shown as the diagnostic it carries (file, line or row, field, what was expected).
    #[error("{diagnostic}")]
    TooLarge {
        /// Where, which field, and the sizes found and allowed.
        diagnostic: Box<Diagnostic>,
    },
    /// Manifests planned together resolve to different data folders.
    #[error("manifests disagree on data_dir: {} and {}", first.display(), second.display())]
    DataDirMismatch {
        /// The first manifest's data folder.
        first: PathBuf,
        /// The other one.
        second: PathBuf,
    },
}

/// What the executor needs besides the items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanContext {
    /// The files the plan was built from (manifests, then the request files they name).
    pub manifests: Vec<PathBuf>,
    /// Where outputs go (already resolved relative to the manifest).
    pub data_dir: PathBuf,
}

/// A resolved plan.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Plan {
    /// Every item, sorted by id.
    pub items: Vec<Item>,
    /// Fetch items batched into ONC requests, by device, product and time.
    pub requests: Vec<OncRequestGroup>,
    /// SHA-256 (hex) of the sorted item ids, each followed by `\n`.
    pub hash: String,
    /// The requests (of request files, not clipped) each fetch item serves, for the index's
    /// label, description and request columns of whole-file rows; not part of any id.
    pub fetch_requests: std::collections::BTreeMap<ItemId, Vec<ClipRequest>>,
    /// Paths and folders.
    pub context: PlanContext,
}

impl Plan {
    /// Resolves manifests into a plan within the default [`PlanLimits`].
    ///
    /// # Errors
    /// Every [`PlanError`] found (a plan over the limits, output collisions, differing
    /// `data_dir`s).
    pub fn build(manifests: &[Manifest]) -> Result<Self, Vec<PlanError>> {
        Self::build_with(manifests, &PlanLimits::default())
    }

    /// Resolves manifests into a plan of at most `limits.max_items` items. A job is counted
    /// before its items are made (see `limits`), so no input makes planning
    /// allocate without bound.
    ///
    /// # Errors
    /// Every [`PlanError`] found: [`PlanError::TooLarge`] for each job that alone passes the
    /// limit and for the job at which the plan passes it, output collisions, differing
    /// `data_dir`s.
    pub fn build_with(manifests: &[Manifest], limits: &PlanLimits) -> Result<Self, Vec<PlanError>> {
        let mut b = build::Builder::default();
        let mut over = false;
        let mut errors = Vec::new();
        let data_dir = manifests
            .first()
            .map_or_else(|| PathBuf::from("data"), |m| m.data_dir.clone());
        for m in manifests {
            if m.data_dir != data_dir {
                errors.push(PlanError::DataDirMismatch {
                    first: data_dir.clone(),
                    second: m.data_dir.clone(),
                });
            }
            for job in &m.jobs {
                if let Err(e) = limits::check_job(job, limits) {
                    errors.push(e);
                    over = true;
                } else if !over {
                    b.add(job);
                    if let Err(e) = limits::check_total(b.len(), job, limits) {
                        errors.push(e);
                        over = true;
                    }
                }
            }
        }
        if over {
            return Err(errors);
        }
        b.finish_lookups();
        b.merge_clips();
        errors.append(&mut b.errors);
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut items: Vec<Item> = Vec::with_capacity(b.fetch.len() + b.clips.len());
        for (d, p, w, id) in &b.fetch {
            items.push(Item::Fetch(FetchItem {
                id: *id,
                device: b.devices[*d as usize].clone(),
                product: b.products[*p as usize].clone(),
                window: *w,
            }));
        }
        let requests = group::group(
            std::mem::take(&mut b.fetch),
            &b.devices,
            &b.products,
            &b.batches,
            &b.joined,
        );
        items.extend(b.clips.into_iter().map(Item::Clip));
        items.sort_unstable_by(|a, b| a.id().cmp(b.id()));
        items.dedup_by(|a, b| a.id() == b.id());
        let mut h = Sha256::new();
        for i in &items {
            h.update(i.id().hex().as_str().as_bytes());
            h.update(b"\n");
        }
        Ok(Self {
            items,
            requests,
            hash: hex::encode(h.finalize()),
            fetch_requests: std::mem::take(&mut b.fetch_requests),
            context: PlanContext {
                manifests: manifests
                    .iter()
                    .flat_map(|m| m.sources.iter().cloned())
                    .collect(),
                data_dir,
            },
        })
    }

    /// Fetch items only.
    pub fn fetch_items(&self) -> impl Iterator<Item = &FetchItem> {
        self.items.iter().filter_map(|i| match i {
            Item::Fetch(f) => Some(f),
            Item::Clip(_) => None,
        })
    }

    /// Clip items only.
    pub fn clip_items(&self) -> impl Iterator<Item = &ClipItem> {
        self.items.iter().filter_map(|i| match i {
            Item::Clip(c) => Some(&**c),
            Item::Fetch(_) => None,
        })
    }

    /// The clip requests the plan serves: one per requesting row, duplicates included (each
    /// clip item holds every request that resolved to it).
    #[must_use]
    pub fn clip_requests(&self) -> usize {
        self.clip_items().map(|c| c.requests.len()).sum()
    }
}
