//! Server-side data-product jobs: requests, runs, the per-token queue, cancel/restart and
//! expiry.
//!
//! Decisions recorded here:
//! - Time is `tokio::time::Instant`; the queue is a discrete-event simulation evaluated lazily
//!   ([`Jobs::advance`]) whenever a request, run or download is looked at, so no background
//!   task or busy loop exists, and the result does not depend on how often clients poll.
//! - Each token has `capacity` running slots; runs start in FIFO order at
//!   `max(enqueued, time the slot freed)`, run `files × secs_per_file × time_scale`, then end
//!   `complete` (or `error` when the `run_error` fault was drawn for the run).
//! - Archived products (no processing) do not take a slot: they are complete when run.
//! - Statuses: `queued` (with `queuePosition`, 1-based among the token's queued runs),
//!   `data product running`, `complete`, `cancelled`, `error`; `run` answers 202 for every
//!   status but `complete` (clients must treat `cancelled`/`error` as final).
//! - `restart` re-queues the same `dpRunId` (any state); `cancel` of a request never run
//!   answers `[]`.
//! - A complete run expires `ttl` after completion: downloads then answer 410.
//! - The time comes from a [`Clock`] (the real one unless `SimConfig::clock` says otherwise):
//!   tests move a [`ManualClock`] past a run's processing time or a TTL instead of waiting.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::catalogue::SourceFile;
use crate::options::Choice;

/// Where the job queue reads the time. `now` never goes backwards.
pub trait Clock: fmt::Debug + Send + Sync {
    /// The current instant.
    fn now(&self) -> Instant;
}

/// A clock shared by the configuration and the job store.
pub type SharedClock = Arc<dyn Clock>;

/// The real monotonic clock (the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct RealClock;

impl Clock for RealClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that moves only when [`ManualClock::advance`] is called.
#[derive(Debug)]
pub struct ManualClock {
    start: Instant,
    offset: Mutex<Duration>,
}

impl ManualClock {
    /// A clock standing at the real instant of its creation.
    #[must_use]
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
            offset: Mutex::new(Duration::ZERO),
        }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        if let Ok(mut o) = self.offset.lock() {
            *o += by;
        }
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + self.offset.lock().map_or(Duration::ZERO, |o| *o)
    }
}

/// State of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    /// Waiting for a slot.
    Queued,
    /// Running since the instant.
    Running(Instant),
    /// Finished at the instant.
    Complete(Instant),
    /// Cancelled by the user.
    Cancelled,
    /// Failed.
    Error,
}

impl RunState {
    /// ONC's status word.
    #[must_use]
    pub fn word(self) -> &'static str {
        use crate::wire::status;
        match self {
            Self::Queued => status::QUEUED,
            Self::Running(_) => status::RUNNING,
            Self::Complete(_) => status::COMPLETE,
            Self::Cancelled => status::CANCELLED,
            Self::Error => status::ERROR,
        }
    }
}

/// A `request` call.
#[derive(Debug, Clone)]
pub struct RequestRec {
    /// Token that made it.
    pub token: String,
    /// Source files selected.
    pub files: Vec<SourceFile>,
    /// Product.
    pub choice: Choice,
    /// The run, once `run` was called.
    pub run: Option<u64>,
    /// A file was downloaded (`searchHdrStatus` COMPLETED).
    pub downloaded: bool,
    /// The request's parameters, token removed (for the metadata file).
    pub params: Vec<(String, String)>,
}

/// A run.
#[derive(Debug, Clone)]
pub struct RunRec {
    /// Its request.
    pub request: u64,
    /// Token.
    pub token: String,
    /// State.
    pub state: RunState,
    /// When it was (re)queued.
    pub enqueued: Instant,
    /// Processing time.
    pub duration: Duration,
    /// It will end in `error`.
    pub will_error: bool,
    /// Times (re)started, for the fault draw.
    pub attempts: u32,
}

/// All requests and runs.
#[derive(Debug)]
pub struct Jobs {
    /// Requests by id.
    pub requests: HashMap<u64, RequestRec>,
    /// Runs by id.
    pub runs: HashMap<u64, RunRec>,
    queues: HashMap<String, Queue>,
    next_request: u64,
    next_run: u64,
    capacity: usize,
    /// Lifetime of a complete run.
    pub ttl: Duration,
    time_scale: f64,
    clock: SharedClock,
}

#[derive(Debug)]
struct Queue {
    order: Vec<u64>,
    clock: Instant,
}

impl Jobs {
    /// An empty store.
    #[must_use]
    pub fn new(capacity: usize, ttl: Duration, time_scale: f64) -> Self {
        Self {
            requests: HashMap::new(),
            runs: HashMap::new(),
            queues: HashMap::new(),
            next_request: 18_690_550,
            next_run: 40_531_302,
            capacity: capacity.max(1),
            ttl,
            time_scale: time_scale.max(0.0),
            clock: Arc::new(RealClock),
        }
    }

    /// The same store reading the time from `clock`.
    #[must_use]
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// The store's current instant.
    #[must_use]
    pub fn now(&self) -> Instant {
        self.clock.now()
    }

    /// Stores a request and returns its id.
    pub fn add_request(&mut self, rec: RequestRec) -> u64 {
        let id = self.next_request;
        self.next_request += 1;
        self.requests.insert(id, rec);
        id
    }

    /// Real processing time of a request's product.
    #[must_use]
    pub fn duration_of(&self, rec: &RequestRec) -> Duration {
        #[expect(clippy::cast_precision_loss, reason = "file counts are small")]
        let secs = rec.files.len() as f64 * rec.choice.secs_per_file * self.time_scale;
        Duration::from_secs_f64(secs.max(0.0))
    }

    /// The run of request `req`, created (and queued) on first call. `will_error` decides
    /// the fault for a new run from its id and attempt.
    pub fn run(
        &mut self,
        req: u64,
        now: Instant,
        will_error: impl Fn(u64, u32) -> bool,
    ) -> Option<u64> {
        let rec = self.requests.get(&req)?;
        if let Some(r) = rec.run {
            return Some(r);
        }
        let id = self.next_run;
        self.next_run += 1;
        let duration = self.duration_of(rec);
        let token = rec.token.clone();
        let immediate = !rec.choice.on_demand;
        let err = will_error(id, 0);
        let state = match (immediate, err) {
            (true, true) => RunState::Error,
            (true, false) => RunState::Complete(now),
            _ => RunState::Queued,
        };
        self.runs.insert(
            id,
            RunRec {
                request: req,
                token: token.clone(),
                state,
                enqueued: now,
                duration,
                will_error: err,
                attempts: 0,
            },
        );
        if state == RunState::Queued {
            self.queue(&token, now).order.push(id);
        }
        if let Some(r) = self.requests.get_mut(&req) {
            r.run = Some(id);
        }
        Some(id)
    }

    fn queue(&mut self, token: &str, now: Instant) -> &mut Queue {
        self.queues.entry(token.to_owned()).or_insert(Queue {
            order: Vec::new(),
            clock: now,
        })
    }

    /// Brings every queue of `token` up to `now`.
    pub fn advance(&mut self, token: &str, now: Instant) {
        let cap = self.capacity;
        let Some(q) = self.queues.get_mut(token) else {
            return;
        };
        let runs = &mut self.runs;
        loop {
            let running: Vec<(u64, Instant)> = q
                .order
                .iter()
                .filter_map(|id| match runs.get(id).map(|r| (r.state, r.duration)) {
                    Some((RunState::Running(s), d)) => Some((*id, s + d)),
                    _ => None,
                })
                .collect();
            let first_queued = q
                .order
                .iter()
                .copied()
                .find(|id| runs.get(id).is_some_and(|r| r.state == RunState::Queued));
            if running.len() < cap
                && let Some(id) = first_queued
                && let Some(r) = runs.get_mut(&id)
            {
                r.state = RunState::Running(r.enqueued.max(q.clock));
                continue;
            }
            let Some(&(id, fin)) = running.iter().min_by_key(|(_, f)| *f) else {
                break;
            };
            if fin > now {
                break;
            }
            if let Some(r) = runs.get_mut(&id) {
                r.state = if r.will_error {
                    RunState::Error
                } else {
                    RunState::Complete(fin)
                };
            }
            q.clock = q.clock.max(fin);
            q.order.retain(|x| *x != id);
        }
    }

    /// Position (1-based) of a queued run among its token's queued runs.
    #[must_use]
    pub fn queue_position(&self, run: u64) -> Option<u64> {
        let r = self.runs.get(&run)?;
        let q = self.queues.get(&r.token)?;
        let pos = q
            .order
            .iter()
            .filter(|id| {
                self.runs
                    .get(id)
                    .is_some_and(|x| x.state == RunState::Queued)
            })
            .position(|id| *id == run)?;
        u64::try_from(pos + 1).ok()
    }

    /// Cancels the run of `req`; returns its id (None: never run).
    pub fn cancel(&mut self, req: u64, now: Instant) -> Option<u64> {
        let id = self.requests.get(&req)?.run?;
        let token = self.runs.get(&id)?.token.clone();
        self.advance(&token, now);
        if let Some(r) = self.runs.get_mut(&id) {
            r.state = RunState::Cancelled;
        }
        let q = self.queue(&token, now);
        q.order.retain(|x| *x != id);
        q.clock = q.clock.max(now);
        Some(id)
    }

    /// Re-queues the run of `req` (same id).
    pub fn restart(
        &mut self,
        req: u64,
        now: Instant,
        will_error: impl Fn(u64, u32) -> bool,
    ) -> Option<u64> {
        let id = self.requests.get(&req)?.run?;
        let token = self.runs.get(&id)?.token.clone();
        self.advance(&token, now);
        let immediate = self.requests.get(&req).is_some_and(|r| !r.choice.on_demand);
        let r = self.runs.get_mut(&id)?;
        if matches!(r.state, RunState::Queued | RunState::Running(_)) {
            return Some(id);
        }
        r.attempts += 1;
        r.will_error = will_error(id, r.attempts);
        r.enqueued = now;
        r.state = match (immediate, r.will_error) {
            (true, true) => RunState::Error,
            (true, false) => RunState::Complete(now),
            _ => RunState::Queued,
        };
        if r.state == RunState::Queued {
            self.queue(&token, now).order.push(id);
            self.advance(&token, now);
        }
        Some(id)
    }

    /// Whether a complete run has expired at `now`.
    #[must_use]
    pub fn expired(&self, state: RunState, now: Instant) -> bool {
        matches!(state, RunState::Complete(at) if now >= at + self.ttl)
    }
}
