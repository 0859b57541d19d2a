//! How large a plan may grow, checked before the items are made.
//!
//! Decisions recorded here:
//! - A plan holds at most [`PlanLimits::max_items`] items, fetch and clip items together
//!   (5,000,000 by default; `--max-items` raises it). Past that, planning is refused with a
//!   manifest diagnostic, never attempted: a range from year 1 to 9999 would be a billion
//!   items and abort the process on allocation.
//! - Each job's items are counted arithmetically first (the 5-minute slots its span covers,
//!   times its products, plus its clips), so a job that alone passes the limit is refused
//!   before any of its items exists. The diagnostic names the file, the line (TOML, YAML,
//!   JSON: where the table or request starts) or the CSV row, and the field that sets the
//!   job's size: `end` of a range, `total_spectrograms` of a sample, `times` of an events
//!   table, and a request's `end`, `duration_seconds`, or its instant (`timestamp`/`start`).
//! - Jobs that need the same windows share items, so the plan's own count is checked as each
//!   job is added; the job at which it passes the limit is named. No job is added after that,
//!   so planning never holds more than about twice the limit's items.

use super::PlanError;
use crate::domain::Products;
use crate::manifest::{Diagnostic, Job, Loc, Origin, Sourced};
use crate::time::{UtcInstant, Window5m};

/// Bounds on a plan, given to [`Plan::build_with`](super::Plan::build_with).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanLimits {
    /// The most items (fetch and clip items) a plan may hold.
    pub max_items: u64,
}

impl PlanLimits {
    /// The default item limit: about five times the largest plans seen in practice (a
    /// million-row request file plans to about 1.5 million items).
    pub const DEFAULT_MAX_ITEMS: u64 = 5_000_000;
}

impl Default for PlanLimits {
    fn default() -> Self {
        Self {
            max_items: Self::DEFAULT_MAX_ITEMS,
        }
    }
}

const HELP: &str = "raise the limit with `--max-items N` if the plan is meant to be this large";

/// The number of 5-minute slots [`Window5m::covering`] gives for `[a, b)`, without making them.
fn slots(a: UtcInstant, b: UtcInstant) -> u128 {
    if b < a {
        return 0;
    }
    let first = i128::from(Window5m::floor(a).start().unix_millis());
    let last = if a == b {
        first
    } else {
        i128::from(Window5m::floor(b.add_millis(-1)).start().unix_millis())
    };
    u128::try_from((last - first) / 300_000 + 1).unwrap_or(0)
}

fn product_count(p: &Products) -> u128 {
    u128::from(p.spectrogram.is_some()) + u128::from(p.audio.is_some())
}

/// How many items a job asks for (an upper bound: windows it shares with other jobs are
/// counted here too), and the field that sets the count. Arithmetic only: called for every job.
fn count(job: &Job) -> (u128, &'static str) {
    match job {
        Job::Range { span, products, .. } => {
            (slots(span.start, span.end) * product_count(products), "end")
        }
        Job::Sample {
            total, products, ..
        } => (
            u128::from(*total) * product_count(products),
            "total_spectrograms",
        ),
        Job::Events {
            times,
            pad_before_ms,
            pad_after_ms,
            products,
            ..
        } => (
            event_slots(times, *pad_before_ms, *pad_after_ms) * product_count(products),
            "times",
        ),
        Job::Request(r) => {
            let p = product_count(&r.products);
            let clips = if r.clip { p } else { 0 };
            (
                slots(r.span.start, r.span.end) * p + clips,
                r.span_field.key(),
            )
        }
    }
}

fn event_slots(times: &[UtcInstant], before: i64, after: i64) -> u128 {
    times
        .iter()
        .map(|t| slots(t.add_millis(-before), t.add_millis(after)))
        .sum()
}

/// What the field holds and how the count comes about, for the message (only on refusal).
fn describe(job: &Job) -> (String, String) {
    match job {
        Job::Range { span, products, .. } => {
            let (w, p) = (slots(span.start, span.end), product_count(products));
            (
                span.end.to_string(),
                format!(
                    "{w} 5-minute windows from {} × {p} product{}",
                    span.start,
                    plural(p)
                ),
            )
        }
        Job::Sample {
            total, products, ..
        } => {
            let p = product_count(products);
            (
                total.to_string(),
                format!("{total} windows × {p} product{}", plural(p)),
            )
        }
        Job::Events {
            times,
            pad_before_ms,
            pad_after_ms,
            products,
            ..
        } => {
            let w = event_slots(times, *pad_before_ms, *pad_after_ms);
            let p = product_count(products);
            (
                format!("{} times", times.len()),
                format!("{w} windows around them × {p} product{}", plural(p)),
            )
        }
        Job::Request(r) => {
            let (w, p) = (slots(r.span.start, r.span.end), product_count(&r.products));
            let clips = if r.clip { p } else { 0 };
            let clip_text = if clips > 0 {
                format!(" + {clips} clip{}", plural(clips))
            } else {
                String::new()
            };
            (
                format!("the padded span {} to {}", r.span.start, r.span.end),
                format!("{w} 5-minute windows × {p} product{}{clip_text}", plural(p)),
            )
        }
    }
}

const fn plural(n: u128) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The field as a diagnostic names it: the CSV column, or a path such as `range[0].end`.
fn field_path(origin: &Origin, key: &str) -> String {
    match origin.loc {
        Loc::Row(_) => key.to_owned(),
        Loc::Pos { .. } | Loc::Unknown => format!("{}.{key}", origin.what),
    }
}

fn too_large(origin: &Origin, field: &str, message: String) -> PlanError {
    PlanError::TooLarge {
        diagnostic: Box::new(Diagnostic {
            file: origin.file.to_path_buf(),
            loc: origin.loc,
            field: field_path(origin, field),
            message,
            help: Some(HELP.to_owned()),
        }),
    }
}

/// Refuses a job that alone asks for more items than `limits` allow (counted, not made).
pub(crate) fn check_job(job: &Sourced, limits: &PlanLimits) -> Result<(), PlanError> {
    let (items, field) = count(&job.job);
    if items <= u128::from(limits.max_items) {
        return Ok(());
    }
    let (found, breakdown) = describe(&job.job);
    Err(too_large(
        &job.origin,
        field,
        format!(
            "found {found}: {breakdown} = {items} plan items, expected at most {} items in a plan",
            limits.max_items
        ),
    ))
}

/// Refuses the plan once it holds more than `limits` allow, naming the job just added.
pub(crate) fn check_total(
    items: usize,
    job: &Sourced,
    limits: &PlanLimits,
) -> Result<(), PlanError> {
    let n = u64::try_from(items).unwrap_or(u64::MAX);
    if n <= limits.max_items {
        return Ok(());
    }
    Err(too_large(
        &job.origin,
        count(&job.job).1,
        format!(
            "the plan reaches {n} items with this {}, expected at most {} items in a plan",
            match job.job {
                Job::Request(_) => "request",
                _ => "table",
            },
            limits.max_items
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> UtcInstant {
        UtcInstant::parse(s).unwrap()
    }

    #[test]
    fn slots_count_what_covering_gives() {
        let cases = [
            ("2024-04-01T12:00:00Z", "2024-04-01T12:00:00Z"),
            ("2024-04-01T12:00:00Z", "2024-04-01T12:05:00Z"),
            ("2024-04-01T12:00:00Z", "2024-04-01T12:05:00.001Z"),
            ("2024-04-01T12:04:59Z", "2024-04-01T12:05:01Z"),
            ("2024-04-01T12:34:35Z", "2024-04-01T12:35:05Z"),
            ("2024-04-01T00:00:00Z", "2024-04-08T00:00:00Z"),
            ("2024-04-01T12:00:01Z", "2024-04-01T12:00:00Z"),
            ("1969-12-31T23:58:00Z", "1970-01-01T00:07:00Z"),
        ];
        for (a, b) in cases {
            let (a, b) = (t(a), t(b));
            assert_eq!(
                slots(a, b),
                Window5m::covering(a, b).count() as u128,
                "{a} to {b}"
            );
        }
        // Year 1 to 9999: counted, not made.
        let n = slots(t("0001-01-01T00:00:00Z"), t("9999-12-31T00:00:00Z"));
        assert!(n > 1_000_000_000, "{n}");
    }
}
