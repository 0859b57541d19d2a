//! `plan`: what a run would fetch, and what is already done, without touching the network.

use super::{InputError, Manifests};
use crate::dataset::StatePaths;
use crate::domain::ItemId;
use crate::lock::Lockfile;
use crate::manifest::Manifest;
use crate::plan::{Item, Plan, PlanLimits};
use std::collections::HashSet;

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
}

/// Loads the manifests and plans them together.
///
/// # Errors
/// [`InputError`]: every error of every manifest, or the plan's errors.
pub fn plan(options: &PlanOptions) -> Result<PlanSummary, InputError> {
    let manifests = options.manifests.load()?;
    let plan = Plan::build_with(&manifests, &options.limits).map_err(InputError::Plan)?;
    let done = if options.check_done {
        let data_dir = &plan.context.data_dir;
        let locks: Vec<Lockfile> = manifests
            .iter()
            .map(|m| {
                // What a running or killed run recorded but has not compacted counts too.
                StatePaths::for_manifest(m, None)
                    .load_lock()
                    .unwrap_or_default()
            })
            .collect();
        plan.items
            .iter()
            .map(Item::id)
            .filter(|id| {
                locks
                    .iter()
                    .any(|l| l.is_satisfied(id.hex().as_str(), data_dir))
            })
            .copied()
            .collect()
    } else {
        HashSet::new()
    };
    let clip_items = plan.clip_items().count();
    Ok(PlanSummary {
        fetch_items: plan.items.len() - clip_items,
        clip_items,
        onc_requests: plan.requests.len(),
        done,
        plan,
        manifests,
    })
}
