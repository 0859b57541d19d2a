//! The scheduler: one object that owns a run's state and one loop that feeds it events.
//!
//! [`execute`] builds a [`Scheduler`] and then, until nothing is queued or running, takes the
//! next event (a message from a group task, a group or clip task ending, the record's sync
//! timer) and hands it to a short handler. Only the scheduler writes the record of finished
//! items and the resume journal; it never rewrites the lockfile while running: each finished
//! item is one appended line ([`super::record`]), fsynced in batches, and the caller compacts
//! the lockfile once at the end ([`super::record::compact`]).
//!
//! Work is bounded: at most `max_requests` spectrogram groups and `max_listings` audio groups
//! run at once (each a task of its own), and at most one clip per core. A clip enters the
//! ready queue when its last source lands ([`ClipQueue`]).
//!
//! A task that panics fails its items that are not yet done, with the panic's message, like
//! any other failure: the run ends with exit 1, never silently.
//!
//! On cancellation nothing new starts; tasks drop their calls in flight and return, and the
//! loop keeps handling messages until every task has ended, so every item finished before the
//! cancel is in the record. A full disk stops the run early (see [`super::runner`]).

use super::clipper::{self, SourceFile};
use super::clips::ClipQueue;
use super::events::{ExecEvent, Reporter};
use super::job::{AudioGroup, ClipJob, Job, SpectrogramGroup};
use super::journal::{InFlight, Journal};
use super::record::Record;
use super::runner::{Ctx, ExecConfig, ExecError, ExecOutcome, Failure, Msg, RunPaths};
use super::{audio, spectro};
use crate::lock::{LockEntry, Lockfile, Status};
use crate::onc::Client;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::{Id, JoinError, JoinSet};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Record lines appended before a sync is forced, whatever the timer says.
const SYNC_EVERY: usize = 256;

/// Makes one clip from its source files (a blocking function).
pub(crate) type Cutter = fn(&ClipJob, &[SourceFile], &Path) -> Result<LockEntry, String>;

/// A group task's future.
pub(crate) type GroupTask = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The work a scheduler hands to tasks: the real ones, or test doubles.
#[derive(Clone, Copy)]
pub(crate) struct Hooks {
    pub(crate) cutter: Cutter,
    pub(crate) spectrograms: fn(Ctx, SpectrogramGroup) -> GroupTask,
    pub(crate) audio: fn(Ctx, AudioGroup) -> GroupTask,
}

impl Default for Hooks {
    fn default() -> Self {
        Self {
            cutter: clipper::make_clip,
            spectrograms: |ctx, g| Box::pin(spectro::run_group(ctx, g)),
            audio: |ctx, g| Box::pin(audio::run_group(ctx, g)),
        }
    }
}

/// Runs a job: every group, bounded, recording each finished item in `lock` and in the record
/// at `paths.record` (the lockfile on disk is not written: see [`super::record::compact`]).
/// `client` may be `None` when the job has only clips (their sources are made from disk);
/// fetch items without a client fail. Returns when everything is done or, after `cancel`, when
/// in-flight ONC jobs have been cancelled.
///
/// # Errors
/// [`ExecError`] when the record or journal cannot be written; item failures are not errors
/// but part of the [`ExecOutcome`].
pub async fn execute(
    client: Option<Client>,
    job: Job,
    paths: &RunPaths,
    lock: &mut Lockfile,
    config: ExecConfig,
    reporter: Arc<dyn Reporter>,
    cancel: CancellationToken,
) -> Result<ExecOutcome, ExecError> {
    let start = Start {
        client,
        paths,
        config,
        reporter,
        cancel,
    };
    run(start, job, lock, Hooks::default()).await
}

/// What a scheduler starts from.
pub(crate) struct Start<'a> {
    pub(crate) client: Option<Client>,
    pub(crate) paths: &'a RunPaths,
    pub(crate) config: ExecConfig,
    pub(crate) reporter: Arc<dyn Reporter>,
    pub(crate) cancel: CancellationToken,
}

/// [`execute`] with the given task bodies.
pub(crate) async fn run(
    start: Start<'_>,
    job: Job,
    lock: &mut Lockfile,
    hooks: Hooks,
) -> Result<ExecOutcome, ExecError> {
    let (tx, mut rx) = mpsc::channel::<Msg>(1024);
    let mut s = Scheduler::new(start, job, lock, hooks, tx);
    loop {
        s.start_ready();
        if s.is_idle() {
            // Every task has ended: what they sent is all in the channel.
            let mut any = false;
            while let Ok(m) = rx.try_recv() {
                s.on_msg(m)?;
                any = true;
            }
            if !any {
                break;
            }
            continue;
        }
        let event = s.next_event(&mut rx).await;
        s.handle(event, &mut rx)?;
    }
    s.finish()
}

/// Something the scheduler reacts to.
enum Event {
    Msg(Msg),
    Group(Result<Id, JoinError>),
    Clip(Box<Result<(Id, ClipDone), JoinError>>),
    Sync,
}

/// A clip task's result: its item id and entry, or why it failed.
type ClipDone = (String, Result<LockEntry, String>);

/// A run's state.
struct Scheduler<'a> {
    lock: &'a mut Lockfile,
    data_dir: PathBuf,
    journal: Journal,
    journal_path: PathBuf,
    /// Changes to the journal not yet saved: each group's latest state, saved with the
    /// record's next sync (see [`Scheduler::on_journal`]).
    journal_pending: BTreeMap<String, Option<InFlight>>,
    record: Record,
    sync_at: Option<Instant>,
    config: ExecConfig,
    reporter: Arc<dyn Reporter>,
    /// The user's token: cancelled means interrupted.
    cancel: CancellationToken,
    /// A child of `cancel`: also cancelled by a full disk.
    stop: CancellationToken,
    stopped: Arc<std::sync::Mutex<Option<String>>>,
    /// What every group task shares; `None` without a client.
    ctx: Option<Ctx>,
    /// Keeps the channel open while the scheduler lives.
    _tx: mpsc::Sender<Msg>,
    hooks: Hooks,
    spectro_queue: VecDeque<SpectrogramGroup>,
    audio_queue: VecDeque<AudioGroup>,
    groups: JoinSet<()>,
    /// Running group tasks: whether spectrograms, and their item ids.
    group_items: HashMap<Id, (bool, Vec<String>)>,
    spectro_running: usize,
    audio_running: usize,
    clips: ClipQueue,
    clip_tasks: JoinSet<ClipDone>,
    clip_ids: HashMap<Id, String>,
    clip_limit: usize,
    /// Every item of the job until it is done or failed.
    open: HashSet<String>,
    outcome: ExecOutcome,
}

impl<'a> Scheduler<'a> {
    fn new(
        start: Start<'_>,
        job: Job,
        lock: &'a mut Lockfile,
        hooks: Hooks,
        tx: mpsc::Sender<Msg>,
    ) -> Self {
        let Start {
            client,
            paths,
            config,
            reporter,
            cancel,
        } = start;
        let journal = Journal::load(&paths.journal);
        let previous: std::collections::BTreeMap<_, _> =
            journal.jobs().map(|(k, v)| (k.clone(), *v)).collect();
        let stop = cancel.child_token();
        let stopped = Arc::new(std::sync::Mutex::new(None));
        let ctx = client.map(|client| Ctx {
            client,
            data_dir: paths.data_dir.clone(),
            downloads: Arc::new(Semaphore::new(config.max_downloads.max(1))),
            config: config.clone(),
            tx: tx.clone(),
            cancel: stop.clone(),
            reporter: Arc::clone(&reporter),
            stopped: Arc::clone(&stopped),
            previous: Arc::new(previous),
            boundaries: Arc::default(),
            queue: super::runner::TokenQueue::default(),
        });
        let open = job
            .spectrograms
            .iter()
            .flat_map(|g| g.items.iter())
            .chain(job.audio.iter().flat_map(|g| g.items.iter()))
            .map(|i| i.id.clone())
            .chain(job.clips.iter().map(|c| c.id.clone()))
            .collect();
        let clip_limit = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        Self {
            clips: ClipQueue::new(job.clips, lock, &paths.data_dir),
            lock,
            data_dir: paths.data_dir.clone(),
            journal,
            journal_path: paths.journal.clone(),
            journal_pending: BTreeMap::new(),
            record: Record::new(&paths.record),
            sync_at: None,
            config,
            reporter,
            cancel,
            stop,
            stopped,
            ctx,
            _tx: tx,
            hooks,
            spectro_queue: job.spectrograms.into(),
            audio_queue: job.audio.into(),
            groups: JoinSet::new(),
            group_items: HashMap::new(),
            spectro_running: 0,
            audio_running: 0,
            clip_tasks: JoinSet::new(),
            clip_ids: HashMap::new(),
            clip_limit,
            open,
            outcome: ExecOutcome::default(),
        }
    }

    /// Starts queued groups and ready clips, within their bounds (nothing after a cancel).
    fn start_ready(&mut self) {
        if self.stop.is_cancelled() {
            return;
        }
        while self.spectro_running < self.config.max_requests.max(1)
            && let Some(g) = self.spectro_queue.pop_front()
        {
            let ids = g.items.iter().map(|i| i.id.clone()).collect();
            let body = self
                .ctx
                .clone()
                .map(|ctx| (self.hooks.spectrograms)(ctx, g));
            self.spawn_group(true, ids, body);
        }
        while self.audio_running < self.config.max_listings.max(1)
            && let Some(g) = self.audio_queue.pop_front()
        {
            let ids = g.items.iter().map(|i| i.id.clone()).collect();
            let body = self.ctx.clone().map(|ctx| (self.hooks.audio)(ctx, g));
            self.spawn_group(false, ids, body);
        }
        while self.clip_tasks.len() < self.clip_limit
            && let Some(c) = self.clips.pop_ready()
        {
            self.spawn_clip(c);
        }
    }

    /// Spawns a group's task; without a client (`body` is `None`) its items fail at once.
    fn spawn_group(&mut self, spectrograms: bool, ids: Vec<String>, body: Option<GroupTask>) {
        let Some(body) = body else {
            for id in ids {
                self.on_failed(Failure {
                    item: id,
                    error: "cannot fetch: this run has no ONC client".into(),
                });
            }
            return;
        };
        let handle = self.groups.spawn(body);
        self.group_items.insert(handle.id(), (spectrograms, ids));
        if spectrograms {
            self.spectro_running += 1;
        } else {
            self.audio_running += 1;
        }
    }

    fn spawn_clip(&mut self, job: ClipJob) {
        let sources = clipper::source_files(&job, self.lock, &self.data_dir);
        let data_dir = self.data_dir.clone();
        let cutter = self.hooks.cutter;
        let id = job.id.clone();
        let handle = self.clip_tasks.spawn_blocking(move || {
            let r = cutter(&job, &sources, &data_dir);
            (job.id, r)
        });
        self.clip_ids.insert(handle.id(), id);
    }

    /// Whether nothing is running and nothing more will start.
    fn is_idle(&self) -> bool {
        let queued = !self.spectro_queue.is_empty()
            || !self.audio_queue.is_empty()
            || self.clips.has_ready();
        self.groups.is_empty()
            && self.clip_tasks.is_empty()
            && (!queued || self.stop.is_cancelled())
    }

    async fn next_event(&mut self, rx: &mut mpsc::Receiver<Msg>) -> Event {
        let sync_at = self.sync_at;
        tokio::select! {
            biased;
            Some(m) = rx.recv() => Event::Msg(m),
            Some(j) = self.groups.join_next_with_id(), if !self.groups.is_empty() => {
                Event::Group(j.map(|(id, ())| id))
            }
            Some(j) = self.clip_tasks.join_next_with_id(), if !self.clip_tasks.is_empty() => {
                Event::Clip(Box::new(j))
            }
            () = sleep_until(sync_at), if sync_at.is_some() => Event::Sync,
        }
    }

    fn handle(&mut self, event: Event, rx: &mut mpsc::Receiver<Msg>) -> Result<(), ExecError> {
        match event {
            Event::Msg(m) => self.on_msg(m)?,
            Event::Group(r) => {
                // What the task sent before it ended is handled first.
                while let Ok(m) = rx.try_recv() {
                    self.on_msg(m)?;
                }
                self.on_group_ended(r);
            }
            Event::Clip(r) => self.on_clip_ended(*r)?,
            Event::Sync => self.sync()?,
        }
        self.schedule_sync()
    }

    fn on_msg(&mut self, m: Msg) -> Result<(), ExecError> {
        match m {
            Msg::Done(entry) => self.on_done(*entry)?,
            Msg::Failed(f) => self.on_failed(f),
            Msg::Journal(key, job) => self.on_journal(&key, job),
            Msg::Submitted => self.outcome.onc_requests += 1,
        }
        Ok(())
    }

    /// A fetch item finished: recorded, and the clips it completes become ready.
    fn on_done(&mut self, entry: LockEntry) -> Result<(), ExecError> {
        if entry.status == Status::NoData {
            self.outcome.no_data += 1;
        } else {
            self.outcome.fetched += 1;
        }
        let id = entry.id.clone();
        self.finished(entry)?;
        self.clips.source_done(&id);
        Ok(())
    }

    /// An item is done: appended to the record, kept in the lockfile in memory.
    fn finished(&mut self, entry: LockEntry) -> Result<(), ExecError> {
        self.open.remove(&entry.id);
        self.record
            .append(&entry)
            .map_err(|source| ExecError::Record {
                path: self.record.path().to_owned(),
                source,
            })?;
        self.lock.insert(entry);
        Ok(())
    }

    /// An item failed; the clips waiting on it fail too.
    fn on_failed(&mut self, f: Failure) {
        self.open.remove(&f.item);
        for c in self.clips.source_failed(&f.item) {
            self.open.remove(&c.id);
            self.outcome.failures.push(Failure {
                item: c.id,
                error: format!("a source failed: {}", f.error),
            });
        }
        self.outcome.failures.push(f);
    }

    /// A group's ONC job changed. The journal is saved with the record's next sync, not at
    /// once: a run of many short jobs would otherwise rewrite it (atomically, fsynced) three
    /// times per ONC request; batched, a job that starts and ends within one flush interval
    /// costs no write, and the journal is rewritten at most once per changed group per
    /// interval. A crash loses at most the last interval's jobs, which the next run requests
    /// again (the journal's worst case: a duplicate ONC request, never a wrong file).
    fn on_journal(&mut self, key: &str, job: Option<InFlight>) {
        self.journal_pending.insert(key.to_owned(), job);
    }

    /// Saves the journal's pending changes.
    fn save_journal(&mut self) -> Result<(), ExecError> {
        for (key, job) in std::mem::take(&mut self.journal_pending) {
            match job {
                Some(job) => self.journal.record(&key, job),
                None => self.journal.forget(&key),
            }
            .map_err(|source| ExecError::Journal {
                path: self.journal_path.clone(),
                source,
            })?;
        }
        Ok(())
    }

    /// A group task ended; if it panicked, its items not yet done fail with the message.
    fn on_group_ended(&mut self, r: Result<Id, JoinError>) {
        let (id, panic) = match r {
            Ok(id) => (id, None),
            Err(e) => (e.id(), Some(task_error(e))),
        };
        let Some((spectrograms, ids)) = self.group_items.remove(&id) else {
            return;
        };
        if spectrograms {
            self.spectro_running -= 1;
        } else {
            self.audio_running -= 1;
        }
        let Some(why) = panic else {
            return;
        };
        for item in ids {
            if self.open.contains(&item) {
                self.item_failed(item, why.clone());
            }
        }
    }

    /// A clip task ended: done, failed, or panicked (then failed with the message).
    fn on_clip_ended(&mut self, r: Result<(Id, ClipDone), JoinError>) -> Result<(), ExecError> {
        match r {
            Ok((task, (_, Ok(entry)))) => {
                self.clip_ids.remove(&task);
                self.reporter.event(&ExecEvent::ItemDone {
                    id: entry.id.clone(),
                    no_data: false,
                });
                self.outcome.fetched += 1;
                self.finished(entry)?;
            }
            Ok((task, (item, Err(error)))) => {
                self.clip_ids.remove(&task);
                self.item_failed(item, error);
            }
            Err(e) => {
                let item = self.clip_ids.remove(&e.id()).unwrap_or_default();
                self.item_failed(item, task_error(e));
            }
        }
        Ok(())
    }

    /// Reports and records a failure the scheduler itself found.
    fn item_failed(&mut self, item: String, error: String) {
        self.reporter.event(&ExecEvent::ItemFailed {
            id: item.clone(),
            error: error.clone(),
        });
        self.on_failed(Failure { item, error });
    }

    /// Arms the sync timer after new lines, or syncs at once after many.
    fn schedule_sync(&mut self) -> Result<(), ExecError> {
        if self.record.unsynced() >= SYNC_EVERY {
            return self.sync();
        }
        let dirty = self.record.unsynced() > 0 || !self.journal_pending.is_empty();
        if dirty && self.sync_at.is_none() {
            self.sync_at = Some(Instant::now() + self.config.lock_flush);
        }
        Ok(())
    }

    fn sync(&mut self) -> Result<(), ExecError> {
        self.sync_at = None;
        self.save_journal()?;
        self.record.sync().map_err(|source| ExecError::Record {
            path: self.record.path().to_owned(),
            source,
        })
    }

    /// Ends the run: syncs the record and counts what is left.
    fn finish(mut self) -> Result<ExecOutcome, ExecError> {
        self.sync()?;
        let stop_reason = self.stopped.lock().ok().and_then(|s| s.clone());
        if let Some(reason) = stop_reason.filter(|_| !self.cancel.is_cancelled()) {
            let error = format!("not done: the run stopped early: {reason}");
            for id in &self.open {
                self.outcome.failures.push(Failure {
                    item: id.clone(),
                    error: error.clone(),
                });
            }
        }
        let mut outcome = self.outcome;
        outcome.failures.sort_by(|a, b| a.item.cmp(&b.item));
        outcome.interrupted = self.cancel.is_cancelled();
        outcome.remaining = self.open.len();
        Ok(outcome)
    }
}

/// Sleeps until `at` (forever when `None`; the caller guards that case).
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Why a task ended without its result: the panic's message, or that it was cancelled.
fn task_error(e: JoinError) -> String {
    if !e.is_panic() {
        return "internal error: a task was cancelled".into();
    }
    let payload = e.into_panic();
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into());
    format!("internal error: a task panicked: {message}")
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::pedantic,
        clippy::print_stderr,
        reason = "test code: casts and formatting on small fixed inputs"
    )]
    use super::*;
    use crate::exec::{ClipKind, Silent, WantedItem};
    use crate::lock::{ItemKind, LockEntry};
    use crate::time::{UtcInstant, Window5m};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Condvar, Mutex};
    use std::time::Duration;

    fn id(n: usize) -> String {
        format!("{n:064x}")
    }

    fn clip(n: usize, sources: &[String]) -> ClipJob {
        ClipJob {
            id: id(n),
            device: "ICLISTENHF6324".into(),
            kind: ClipKind::Mat,
            start: UtcInstant::from_unix_millis(0),
            end: UtcInstant::from_unix_millis(1000),
            sources: sources.to_vec(),
            output: format!("clips/{n}.mat"),
            gap: crate::clip::GapPolicy::default(),
        }
    }

    fn entry(item: &str, kind: ItemKind) -> LockEntry {
        LockEntry {
            id: item.to_owned(),
            kind,
            status: Status::Done,
            ..LockEntry::default()
        }
    }

    fn paths(dir: &Path) -> RunPaths {
        RunPaths {
            data_dir: dir.join("data"),
            lock: dir.join("m.toml.lock"),
            journal: dir.join(".hydrofetch/m.toml.lock.journal"),
            record: dir.join(".hydrofetch/m.toml.lock.record"),
        }
    }

    async fn run_with(
        dir: &Path,
        client: Option<Client>,
        job: Job,
        lock: &mut Lockfile,
        hooks: Hooks,
    ) -> ExecOutcome {
        let p = paths(dir);
        let start = Start {
            client,
            paths: &p,
            config: ExecConfig::default(),
            reporter: Arc::new(Silent),
            cancel: CancellationToken::new(),
        };
        run(start, job, lock, hooks).await.unwrap()
    }

    /// Panics on the clip of id 1, makes every other one.
    fn cutter_panicking_on_one(
        job: &ClipJob,
        _: &[SourceFile],
        _: &Path,
    ) -> Result<LockEntry, String> {
        assert!(job.id != id(1), "the cutter broke on clip one");
        Ok(entry(&job.id, ItemKind::Clip))
    }

    #[tokio::test]
    async fn a_panicking_clip_fails_its_item_and_the_run_needs_no_client() {
        let dir = tempfile::tempdir().unwrap();
        let job = Job {
            clips: vec![clip(1, &[]), clip(2, &[])],
            ..Job::default()
        };
        let hooks = Hooks {
            cutter: cutter_panicking_on_one,
            ..Hooks::default()
        };
        let mut lock = Lockfile::default();
        let out = run_with(dir.path(), None, job, &mut lock, hooks).await;
        assert_eq!(out.failures.len(), 1, "{out:?}");
        assert_eq!(out.failures[0].item, id(1));
        assert!(
            out.failures[0]
                .error
                .contains("panicked: the cutter broke on clip one"),
            "{out:?}"
        );
        assert_eq!((out.fetched, out.remaining), (1, 0), "{out:?}");
        assert!(lock.get(&id(2)).is_some());
        let record = fs_err::read_to_string(paths(dir.path()).record).unwrap();
        assert_eq!(record.lines().count(), 1, "{record}");
    }

    /// Reports its first item done, then panics.
    fn group_panicking_after_one(ctx: Ctx, g: SpectrogramGroup) -> GroupTask {
        Box::pin(async move {
            if let Some(first) = g.items.first() {
                ctx.send(Msg::Done(Box::new(entry(&first.id, ItemKind::Fetch))))
                    .await;
            }
            panic!("the group broke after {} item", g.items.len().min(1));
        })
    }

    #[tokio::test]
    async fn a_panicking_group_fails_its_items_not_done_and_their_clips() {
        let dir = tempfile::tempdir().unwrap();
        let start = UtcInstant::from_unix_millis(1_711_972_800_000);
        let items: Vec<WantedItem> = (10..13)
            .map(|n| WantedItem {
                id: id(n),
                window: Window5m::floor(start).offset(i64::try_from(n).unwrap()),
                clip_from: None,
            })
            .collect();
        let job = Job {
            spectrograms: vec![SpectrogramGroup {
                device: "ICLISTENHF6324".into(),
                format: "mat".into(),
                options: std::collections::BTreeMap::new(),
                items,
            }],
            // One clip of the item that finished, one of an item that did not.
            clips: vec![clip(1, &[id(10)]), clip(2, &[id(11)])],
            ..Job::default()
        };
        let hooks = Hooks {
            cutter: |job, _, _| Ok(entry(&job.id, ItemKind::Clip)),
            spectrograms: group_panicking_after_one,
            ..Hooks::default()
        };
        // Never called: the group's body is the test's.
        let client = Client::new(
            "http://127.0.0.1:9/",
            crate::onc::Token::new("unused").unwrap(),
        )
        .unwrap();
        let mut lock = Lockfile::default();
        let out = run_with(dir.path(), Some(client), job, &mut lock, hooks).await;
        let failed: Vec<&str> = out.failures.iter().map(|f| f.item.as_str()).collect();
        assert_eq!(failed, [id(2), id(11), id(12)], "{out:?}");
        assert!(
            out.failures
                .iter()
                .all(|f| f.error.contains("panicked: the group broke after 1 item")),
            "{out:?}"
        );
        assert_eq!((out.fetched, out.remaining), (2, 0), "{out:?}");
        assert!(lock.get(&id(10)).is_some() && lock.get(&id(1)).is_some());
    }

    /// Clips running at once, and the most seen.
    static RUNNING: AtomicUsize = AtomicUsize::new(0);
    static MOST: AtomicUsize = AtomicUsize::new(0);
    static GATE: (Mutex<()>, Condvar) = (Mutex::new(()), Condvar::new());

    /// Waits (bounded) for more clips than cores to run at once, which must never happen.
    fn crowding_cutter(job: &ClipJob, _: &[SourceFile], _: &Path) -> Result<LockEntry, String> {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let now = RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
        MOST.fetch_max(now, Ordering::SeqCst);
        GATE.1.notify_all();
        let guard = GATE.0.lock().unwrap();
        let _unused = GATE
            .1
            .wait_timeout_while(guard, Duration::from_millis(100), |()| {
                RUNNING.load(Ordering::SeqCst) <= cores
            })
            .unwrap();
        RUNNING.fetch_sub(1, Ordering::SeqCst);
        Ok(entry(&job.id, ItemKind::Clip))
    }

    #[tokio::test]
    async fn clips_run_at_most_one_per_core() {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let dir = tempfile::tempdir().unwrap();
        let job = Job {
            clips: (1..=3 * cores).map(|n| clip(n, &[])).collect(),
            ..Job::default()
        };
        let hooks = Hooks {
            cutter: crowding_cutter,
            ..Hooks::default()
        };
        let mut lock = Lockfile::default();
        let out = run_with(dir.path(), None, job, &mut lock, hooks).await;
        assert_eq!(out.fetched, 3 * cores, "{out:?}");
        let most = MOST.load(Ordering::SeqCst);
        assert!(most <= cores, "{most} clips at once on {cores} cores");
        assert!(most >= 1);
    }
}
