//! The plan: content-addressed fetch and clip items resolved from manifests, and their
//! batching into ONC requests. Pure: no I/O, no clock.
//!
//! [`Plan::build_with`] takes loaded manifests and [`PlanLimits`] (refusing, before making
//! them, more items than the limits allow; see `limits`); items are sorted by id; the plan
//! hash is the SHA-256 of the sorted item ids, each followed by a newline. [`render`] shows a
//! plan to people and as JSON.

mod build;
pub mod estimate;
mod group;
pub(crate) mod item;
pub(crate) mod limits;
pub mod render;
mod resolved;

pub use group::OncRequestGroup;
pub use item::{ClipItem, ClipProduct, ClipRequest, FetchItem, FetchProduct, Item};
pub use limits::PlanLimits;
pub use resolved::{Plan, PlanContext, PlanError};
