//! `plan`: what a run would fetch, what is already done, and what it costs (estimates from
//! the built-in size table), without touching the network; [`measure`] reads ONC's archive
//! listing for `plan --online`'s sizes.

use super::{InputError, Manifests};
use crate::dataset::StatePaths;
use crate::domain::ItemId;
use crate::lock::{Lockfile, Status};
use crate::manifest::Manifest;
use crate::plan::estimate::{self, Estimate};
use crate::plan::render::PlanStatus;
use crate::plan::{Item, Plan, PlanLimits};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

mod online;
pub use online::measure;

/// What to plan.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    /// The manifests, planned together (they must share a `data_dir`).
    pub manifests: Manifests,
    /// How large the plan may be.
    pub limits: PlanLimits,
    /// Also find what is done (reads each manifest's lockfile and checks its files' sizes);
    /// without it, [`PlanSummary::done`] is empty.
    pub check_done: bool,
}

/// A plan and how much of it is done.
#[derive(Debug, Clone)]
#[must_use]
pub struct PlanSummary {
    /// The manifests, as loaded.
    pub manifests: Vec<Manifest>,
    /// The plan.
    pub plan: Plan,
    /// Items done: locked by the lockfile of a manifest that asks for them, files present.
    pub done: HashSet<ItemId>,
    /// Of those, the items a lockfile records as having no data.
    pub no_data: HashSet<ItemId>,
    /// Each manifest's lockfile.
    pub lockfiles: Vec<PathBuf>,
    /// What is left, estimated from the built-in size table.
    pub estimate: Estimate,
    /// Fetch items.
    pub fetch_items: usize,
    /// Clip items.
    pub clip_items: usize,
    /// ONC requests the whole plan takes (before subtracting what is done).
    pub onc_requests: usize,
}

impl PlanSummary {
    /// Items of the plan (fetch and clip).
    #[must_use]
    pub fn items(&self) -> usize {
        self.plan.items.len()
    }

    /// Items still to do.
    #[must_use]
    pub fn pending(&self) -> usize {
        self.items() - self.done.len()
    }

    /// What renderings show besides the plan: statuses, the estimate, the lockfiles.
    #[must_use]
    pub fn status(&self) -> PlanStatus {
        PlanStatus {
            done: self.done.clone(),
            no_data: self.no_data.clone(),
            estimate: self.estimate.clone(),
            lockfiles: self.lockfiles.clone(),
        }
    }

    /// Replaces the estimate with one whose sizes come from `listed` (see [`measure`]).
    pub fn use_listing<H: std::hash::BuildHasher>(
        &mut self,
        listed: &HashMap<ItemId, estimate::Listed, H>,
    ) {
        self.estimate = estimate::estimate(&self.plan, &self.done, &self.no_data, Some(listed));
    }
}

/// Loads the manifests and plans them together.
///
/// # Errors
/// [`InputError`]: every error of every manifest, or the plan's errors.
pub fn plan(options: &PlanOptions) -> Result<PlanSummary, InputError> {
    let manifests = options.manifests.load()?;
    let plan = Plan::build_with(&manifests, &options.limits).map_err(InputError::Plan)?;
    let paths: Vec<StatePaths> = manifests
        .iter()
        .map(|m| StatePaths::for_manifest(m, None))
        .collect();
    let (mut done, mut no_data) = (HashSet::new(), HashSet::new());
    if options.check_done {
        let data_dir = &plan.context.data_dir;
        // What a running or killed run recorded but has not compacted counts too.
        let locks: Vec<Lockfile> = paths
            .iter()
            .map(|p| p.load_lock().unwrap_or_default())
            .collect();
        for id in plan.items.iter().map(Item::id) {
            let hex = id.hex();
            let Some(lock) = locks
                .iter()
                .find(|l| l.is_satisfied(hex.as_str(), data_dir))
            else {
                continue;
            };
            done.insert(*id);
            if lock
                .get(hex.as_str())
                .is_some_and(|e| e.status == Status::NoData)
            {
                no_data.insert(*id);
            }
        }
    }
    let clip_items = plan.clip_items().count();
    Ok(PlanSummary {
        fetch_items: plan.items.len() - clip_items,
        clip_items,
        onc_requests: plan.requests.len(),
        estimate: estimate::estimate(
            &plan,
            &done,
            &no_data,
            None::<&HashMap<ItemId, estimate::Listed>>,
        ),
        lockfiles: paths.into_iter().map(|p| p.lock).collect(),
        done,
        no_data,
        plan,
        manifests,
    })
}
