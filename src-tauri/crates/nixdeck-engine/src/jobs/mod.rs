//! Jobs: a run of nix, nixos-anywhere or colmena with its history. The
//! [`JobManager`] starts runs, records them in the [`store::JobStore`], lets
//! watchers attach and detach, cancels them, and keeps secrets out of the
//! process list, the logs and the store.

mod follow;
pub mod log;
pub mod requests;
pub mod secret;
pub mod store;

use crate::runner::progress::{DeployProgress, InstallProgress};
use crate::runner::{
    EventSink, JobEvent, JobResult, LineObserver, Outcome, PlainOutput, Run, RunError, RunSpec,
    TailLimits,
};
use log::{Direction, LogIndex, LogPage};
use nixdeck_core::tools::plan::CommandLine;
use nixdeck_core::tools::watchdog::WatchdogConfig;
use secret::SecretFile;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use store::{JobStore, NewJob};
use thiserror::Error;
use tokio::sync::watch;

/// A job's number in the store.
pub type JobId = i64;

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum JobKind {
    /// `nix flake lock`.
    Lock,
    /// `nix build` of a host's toplevel.
    Validate,
    /// nixos-anywhere.
    Install,
    /// colmena apply.
    Deploy,
    /// A switch back to an earlier system generation over ssh.
    Rollback,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Lock => "lock",
            Self::Validate => "validate",
            Self::Install => "install",
            Self::Deploy => "deploy",
            Self::Rollback => "rollback",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "lock" => Self::Lock,
            "validate" => Self::Validate,
            "install" => Self::Install,
            "deploy" => Self::Deploy,
            "rollback" => Self::Rollback,
            _ => return None,
        })
    }

    /// Installs, deploys and rollbacks change machines: at most one at a
    /// time per host.
    pub fn is_exclusive(self) -> bool {
        matches!(self, Self::Install | Self::Deploy | Self::Rollback)
    }

    /// Whether this kind's output has a parser that finds steps or nodes in
    /// it (a replay of its log can tell something beyond the lines).
    pub fn has_progress(self) -> bool {
        matches!(self, Self::Install | Self::Deploy)
    }

    /// The parser that follows this kind's output, with `watchdog`'s limits.
    fn observer(self, watchdog: &WatchdogConfig) -> Box<dyn LineObserver> {
        match self {
            Self::Install => Box::new(InstallProgress::with_watchdog(watchdog.clone())),
            Self::Deploy => Box::new(DeployProgress::with_watchdog(watchdog.clone())),
            Self::Lock | Self::Validate | Self::Rollback => Box::new(PlainOutput),
        }
    }
}

/// A job as the history shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct JobRecord {
    pub id: JobId,
    pub kind: JobKind,
    pub hosts: Vec<String>,
    /// The command line, secrets redacted.
    pub argv: Vec<String>,
    pub cwd: String,
    /// Milliseconds since the Unix epoch.
    pub started_at: u64,
    pub ended_at: Option<u64>,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub result: JobResult,
    pub reason: Option<String>,
    pub log_path: String,
    /// Lines of output (known once finished).
    pub lines: u64,
    /// The tools it ran, as flake.lock pinned them when it started: "colmena
    /// from nix-community/colmena 2025-05-20 (1a2b3c4)". Empty for jobs that
    /// run only nix.
    pub tools: Vec<String>,
    /// While `running`: the pid of its tool when the nixdeck that started it has
    /// ended and the tool runs on (the person left it running): shown as "still
    /// running (pid N)", it keeps its hosts locked and can be cancelled here.
    pub detached_pid: Option<i32>,
}

impl JobRecord {
    /// How it ended, as the store recorded it.
    pub fn outcome(&self) -> Outcome {
        Outcome {
            result: self.result,
            exit_code: self.exit_code,
            signal: self.signal,
            reason: self.reason.clone(),
            lines: self.lines,
        }
    }
}

/// Why a job operation failed.
#[derive(Debug, Error)]
pub enum JobError {
    #[error("could not create the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the job store failed: {0}")]
    Store(#[from] rusqlite::Error),
    #[error("there is no job {0}")]
    NotFound(JobId),
    #[error("host {host} is busy with job {job}: wait for it to end or cancel it first")]
    HostBusy { host: String, job: JobId },
    #[error("job {0} is not running in this nixdeck")]
    NotRunningHere(JobId),
    #[error("job {0} holds secrets (a passphrase file or a password) that only this nixdeck can keep out of logs and remove afterwards, so it cannot be left running without it")]
    HoldsSecrets(JobId),
    #[error(transparent)]
    Run(#[from] RunError),
    #[error("could not read the log of job {id}: {source}")]
    Log { id: JobId, source: std::io::Error },
    #[error("job {id}'s log: {source}")]
    LogRead { id: JobId, source: log::LogError },
    #[error("could not write the secret file: {0}")]
    Secret(std::io::Error),
    #[error(transparent)]
    Plan(#[from] nixdeck_core::tools::plan::PlanError),
    #[error(transparent)]
    DeployPlan(#[from] nixdeck_core::tools::plan::DeployPlanError),
    #[error("the host filter {0:?} selects no host of this repository")]
    NothingSelected(String),
    #[error("{0:?} is not a Nix store path: only system paths are recorded")]
    NotAStorePath(String),
}

/// A job to start.
#[derive(Debug)]
pub struct JobRequest {
    pub kind: JobKind,
    /// The hosts it touches (for the per-host lock and the history).
    pub hosts: Vec<String>,
    pub command: CommandLine,
    /// Where it runs: the repository.
    pub cwd: PathBuf,
    /// Files the command reads secrets from; deleted when the job ends.
    pub secret_files: Vec<SecretFile>,
    /// Private directories the command reads secrets from (a host key given
    /// with `--extra-files`); deleted with their content when the job ends.
    pub secret_dirs: Vec<tempfile::TempDir>,
    /// Run when the tool exited 0, before the outcome is sent or stored; its
    /// words become the outcome's reason (e.g. the host key it recorded).
    pub after_success: Option<AfterSuccess>,
    /// Report silence after this long (see [`JobEvent::Stalled`]).
    pub stall_after: Option<Duration>,
    /// Time between SIGTERM and SIGKILL on cancel.
    pub grace: Duration,
    /// The watchdog's limits for installs and deploys; its alerts arrive as
    /// [`JobEvent::Stalled`] on the job's events.
    pub watchdog: WatchdogConfig,
    /// Which nixos-anywhere or colmena it runs (see [`JobRecord::tools`]).
    pub tools: Vec<String>,
}

/// Time between SIGTERM and SIGKILL when cancelling a job that runs on after
/// the nixdeck that started it ended.
const CANCEL_GRACE: Duration = Duration::from_secs(5);
/// Work done once a job succeeded, returning what it did in words.
pub struct AfterSuccess(pub Box<dyn FnOnce() -> String + Send>);

impl std::fmt::Debug for AfterSuccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AfterSuccess")
    }
}

/// The job kind's observer, with the job's after-success work added.
struct WithAfterSuccess {
    inner: Box<dyn LineObserver>,
    after: Option<AfterSuccess>,
}

impl LineObserver for WithAfterSuccess {
    fn on_line(
        &mut self,
        stream: crate::runner::Stream,
        seq: u64,
        line: &str,
        elapsed: Duration,
    ) -> Vec<crate::runner::PhaseEvent> {
        self.inner.on_line(stream, seq, line, elapsed)
    }
    fn failure_reason(&self) -> Option<String> {
        self.inner.failure_reason()
    }
    fn cancel_note(&self) -> Option<String> {
        self.inner.cancel_note()
    }
    fn check(&mut self, elapsed: Duration) -> Vec<crate::runner::events::Alert> {
        self.inner.check(elapsed)
    }
    fn success_note(&mut self) -> Option<String> {
        let mine = self.after.take().map(|after| (after.0)());
        match (self.inner.success_note(), mine) {
            (Some(a), Some(b)) => Some(format!("{a}; {b}")),
            (a, b) => a.or(b),
        }
    }
}

struct Running {
    run: Run,
    /// It holds secrets (files, or values redacted from its output): it must
    /// not outlive this nixdeck, whose redaction and clean-up it needs.
    secrets: bool,
    kind: JobKind,
    /// Set once the outcome is in the store.
    recorded: watch::Receiver<Option<Outcome>>,
}

struct Inner {
    store: Mutex<JobStore>,
    running: Mutex<HashMap<JobId, Running>>,
    /// Line indexes of the logs a window reads, most recently used last.
    log_indexes: Mutex<Vec<(JobId, Arc<Mutex<LogIndex>>)>>,
    /// Held while an index is built (see `JobManager::with_log`).
    index_build: Mutex<()>,
}

/// Log indexes kept between calls: a few windows' worth. Each is at most a
/// few MB (1.25 MB for 10 million lines), and one dropped is rebuilt on demand.
const KEPT_LOG_INDEXES: usize = 4;

/// Starts, watches, cancels and lists jobs of one data directory. Cheap to
/// clone; clones share everything.
#[derive(Clone)]
pub struct JobManager {
    inner: Arc<Inner>,
}

fn guard<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl JobManager {
    /// Opens the history in `data_dir`; jobs a dead nixdeck left running are
    /// marked interrupted.
    pub fn open(data_dir: &Path) -> Result<Self, JobError> {
        Ok(Self {
            inner: Arc::new(Inner {
                store: Mutex::new(JobStore::open(data_dir)?),
                running: Mutex::new(HashMap::new()),
                log_indexes: Mutex::new(Vec::new()),
                index_build: Mutex::new(()),
            }),
        })
    }

    /// Records and starts `request` (on the current tokio runtime); `sink` gets
    /// its events from `Started` on.
    pub fn start(
        &self,
        request: JobRequest,
        sink: Option<Arc<dyn EventSink>>,
    ) -> Result<JobId, JobError> {
        let record = guard(&self.inner.store).begin(&NewJob {
            kind: request.kind,
            hosts: request.hosts.clone(),
            argv: request.command.redacted_argv(),
            cwd: request.cwd.clone(),
            tools: request.tools.clone(),
        })?;
        let id = record.id;
        let has_secrets =
            !request.secret_files.is_empty() || request.command.env.iter().any(|v| v.secret);
        let mut spec = RunSpec::new(&request.command, &request.cwd, Path::new(&record.log_path));
        spec.stall_after = request.stall_after;
        spec.grace = request.grace;
        // Installs and deploys have no terminal to answer on: a prompt ends them.
        spec.stop_on_prompt = request.kind.is_exclusive();
        let observer: Box<dyn LineObserver> = match request.after_success {
            Some(after) => Box::new(WithAfterSuccess {
                inner: request.kind.observer(&request.watchdog),
                after: Some(after),
            }),
            None => request.kind.observer(&request.watchdog),
        };
        let run = match Run::start(spec, observer, sink) {
            Ok(run) => run,
            Err(err) => {
                let outcome = Outcome {
                    result: JobResult::Failed,
                    exit_code: None,
                    signal: None,
                    reason: Some(err.to_string()),
                    lines: 0,
                };
                guard(&self.inner.store).finish(id, &outcome)?;
                return Err(err.into());
            }
        };
        // The tool's pid and start time, so that a job left running when nixdeck
        // closes is still known (and locked, and cancellable) afterwards.
        guard(&self.inner.store).set_child(id, run.pgid())?;
        let (recorded_tx, recorded) = watch::channel(None);
        guard(&self.inner.running).insert(
            id,
            Running {
                run: run.clone(),
                secrets: has_secrets,
                kind: request.kind,
                recorded,
            },
        );
        let inner = self.inner.clone();
        let secrets = (request.secret_files, request.secret_dirs);
        tokio::spawn(async move {
            let outcome = run.wait().await;
            // The tool has ended: its secret files go now.
            drop(secrets);
            // A store failure here leaves the job `running` until the next
            // open marks it interrupted: nothing better can be done.
            let _ = guard(&inner.store).finish(id, &outcome);
            guard(&inner.running).remove(&id);
            recorded_tx.send_replace(Some(outcome));
        });
        Ok(id)
    }

    /// Sends job `id`'s events to `sink`: lines from `from_seq` on, then live
    /// events if it still runs, or its end if it is over.
    pub fn attach(
        &self,
        id: JobId,
        from_seq: u64,
        sink: Arc<dyn EventSink>,
    ) -> Result<(), JobError> {
        let running = guard(&self.inner.running).get(&id).map(|r| r.run.clone());
        if let Some(run) = running {
            return run
                .attach(from_seq, sink)
                .map_err(|source| JobError::Log { id, source });
        }
        let record = self.get(id)?;
        if !sink.send(&JobEvent::Started {
            argv: record.argv.clone(),
        }) {
            return Ok(());
        }
        let path = PathBuf::from(&record.log_path);
        let upto = if path.exists() { u64::MAX } else { 0 };
        // A finished job's log holds only lines: read them again with the same
        // parsers the live run used, so its steps and nodes show as they were
        // (without timings: the log has none).
        let replay = ReplayProgress {
            observer: Mutex::new(record.kind.observer(&WatchdogConfig::default())),
            sink: sink.clone(),
        };
        let delivered = crate::runner::replay_log(&path, from_seq, upto, &replay)
            .map_err(|source| JobError::Log { id, source })?;
        if delivered && record.result != JobResult::Running {
            sink.send(&JobEvent::Finished {
                outcome: record.outcome(),
            });
        }
        Ok(())
    }

    /// Sends job `id`'s events to a watcher that pages its lines from the log
    /// ([`Self::log_lines`]): counts instead of stored lines, the phases the
    /// parsers read from them, then live events through a
    /// [`crate::runner::LiveTail`] with `limits` while it runs, or its end.
    /// A finished job's log is read again only when its kind has a parser
    /// (installs and deploys), and its lines are not sent. A job running in
    /// no process of this nixdeck (left running by a closed window) is
    /// followed through its log ([`follow`]): counts and steps as it grows,
    /// and its end.
    pub fn attach_counted(
        &self,
        id: JobId,
        sink: Arc<dyn EventSink>,
        limits: TailLimits,
    ) -> Result<(), JobError> {
        let running = guard(&self.inner.running).get(&id).map(|r| r.run.clone());
        if let Some(run) = running {
            return run
                .attach_counted(sink, limits)
                .map_err(|source| JobError::Log { id, source });
        }
        let record = self.get(id)?;
        if !sink.send(&JobEvent::Started {
            argv: record.argv.clone(),
        }) {
            return Ok(());
        }
        let path = PathBuf::from(&record.log_path);
        let running = record.result == JobResult::Running;
        let mut lines = record.lines;
        let mut follower = None;
        if path.exists() && (running || record.kind.has_progress()) {
            let observer = record.kind.observer(&WatchdogConfig::default());
            let mut read = follow::LogFollower::open(&path, observer)
                .map_err(|source| JobError::Log { id, source })?;
            if read
                .read_new(sink.as_ref())
                .map_err(|source| JobError::Log { id, source })?
                .is_none()
            {
                return Ok(());
            }
            // A running job's count goes on from what was read; a finished
            // one's record also counts a last line without its line end.
            lines = if running {
                read.lines
            } else {
                lines.max(read.lines)
            };
            follower = Some(read);
        }
        if lines > 0
            && !sink.send(&JobEvent::LinesDropped {
                first_seq: 0,
                count: lines,
            })
        {
            return Ok(());
        }
        if !running {
            sink.send(&JobEvent::Finished {
                outcome: record.outcome(),
            });
        } else if let Some(follower) = follower {
            follow::follow(self.clone(), id, follower, sink);
        }
        Ok(())
    }

    /// Cancels job `id` (SIGTERM to its group, SIGKILL after the grace period).
    pub fn cancel(&self, id: JobId) -> Result<(), JobError> {
        match guard(&self.inner.running).get(&id) {
            Some(r) => {
                r.run.cancel();
                Ok(())
            }
            None => {
                // A job whose nixdeck was closed while its tool runs on.
                if guard(&self.inner.store).cancel_detached(id, CANCEL_GRACE)? {
                    return Ok(());
                }
                Err(JobError::NotRunningHere(id))
            }
        }
    }

    /// Waits until job `id` has ended and is recorded; its outcome.
    pub async fn wait(&self, id: JobId) -> Result<Outcome, JobError> {
        let recorded = guard(&self.inner.running)
            .get(&id)
            .map(|r| r.recorded.clone());
        if let Some(mut rx) = recorded {
            loop {
                if let Some(outcome) = rx.borrow_and_update().clone() {
                    return Ok(outcome);
                }
                if rx.changed().await.is_err() {
                    break;
                }
            }
        }
        Ok(self.get(id)?.outcome())
    }

    /// The installs, deploys and rollbacks this nixdeck runs now: what closing
    /// the window would leave unsupervised.
    pub fn running_here(&self) -> Vec<JobId> {
        let mut ids: Vec<JobId> = guard(&self.inner.running)
            .iter()
            .filter(|(_, r)| r.kind.is_exclusive())
            .map(|(id, _)| *id)
            .collect();
        ids.sort_unstable();
        ids
    }

    /// Lets every job running here outlive this nixdeck (the person chose to
    /// leave it running as the window closes): each tool gets a relay for its
    /// output ([`Run::relay_after_exit`]) and stays recorded as running, so a
    /// later nixdeck shows it by its pid, keeps its hosts locked and can cancel it.
    /// Refused, with nothing changed, when a job holds secrets (a LUKS passphrase
    /// file, a password): those need this nixdeck to redact and remove them.
    pub fn leave_running(&self) -> Result<Vec<JobId>, JobError> {
        let running = guard(&self.inner.running);
        if let Some((id, _)) = running.iter().find(|(_, r)| r.secrets) {
            return Err(JobError::HoldsSecrets(*id));
        }
        let mut ids = Vec::new();
        for (id, r) in running.iter() {
            r.run
                .relay_after_exit()
                .map_err(|source| JobError::Log { id: *id, source })?;
            ids.push(*id);
        }
        Ok(ids)
    }

    /// The process group of a job running here (its tool's pid).
    pub fn process_group(&self, id: JobId) -> Option<i32> {
        guard(&self.inner.running).get(&id).map(|r| r.run.pgid())
    }

    /// Lines `start .. start + count` of job `id`'s log (at most
    /// [`log::MAX_PAGE_LINES`]) and how many it has now, running or not.
    /// Blocking file I/O (the first call on a 10-million-line log reads it
    /// once, about a second): call it off the async threads.
    pub fn log_lines(&self, id: JobId, start: u64, count: usize) -> Result<LogPage, JobError> {
        if let Some(page) = self.tail_before_index(id, start, count)? {
            return Ok(page);
        }
        self.with_log(id, |index| index.page(start, count))
    }

    /// The end of a finished job's log whose index is not built yet, read
    /// backwards from the end of the file (a view opens a log at its end),
    /// while the index is built on another thread for what comes next.
    /// `None` when that does not apply: the index answers then.
    fn tail_before_index(
        &self,
        id: JobId,
        start: u64,
        count: usize,
    ) -> Result<Option<LogPage>, JobError> {
        if guard(&self.inner.log_indexes)
            .iter()
            .any(|(job, _)| *job == id)
        {
            return Ok(None);
        }
        let record = self.get(id)?;
        let total = record.lines;
        // While a job runs its count moves; a finished one's is the runner's.
        if record.result == JobResult::Running
            || start >= total
            || total - start > log::MAX_PAGE_LINES as u64
        {
            return Ok(None);
        }
        let path = PathBuf::from(&record.log_path);
        let Some(mut lines) =
            log::tail(&path, total - start).map_err(|source| JobError::LogRead { id, source })?
        else {
            return Ok(None);
        };
        lines.truncate(count.min(log::MAX_PAGE_LINES));
        let manager = self.clone();
        std::thread::spawn(move || {
            // Nobody waits for it: a failure shows on the next read instead.
            let _ = manager.with_log(id, |_| Ok(()));
        });
        Ok(Some(LogPage {
            first_seq: start,
            lines,
            total_lines: total,
        }))
    }

    /// The first line of job `id`'s log from line `from` (included), towards
    /// the start when `backwards`, that holds `query`; ASCII letters match
    /// either case when `case_insensitive`. Blocking, as [`Self::log_lines`].
    pub fn log_search(
        &self,
        id: JobId,
        query: &str,
        from: u64,
        backwards: bool,
        case_insensitive: bool,
    ) -> Result<Option<u64>, JobError> {
        let direction = if backwards {
            Direction::Backward
        } else {
            Direction::Forward
        };
        self.with_log(id, |index| {
            index.search(query, from, direction, case_insensitive)
        })
    }

    /// Runs `read` on job `id`'s log index, brought up to date with the file.
    fn with_log<T>(
        &self,
        id: JobId,
        read: impl FnOnce(&LogIndex) -> Result<T, log::LogError>,
    ) -> Result<T, JobError> {
        let cached = {
            let mut kept = guard(&self.inner.log_indexes);
            let at = kept.iter().position(|(job, _)| *job == id);
            at.map(|at| {
                let entry = kept.remove(at);
                let index = entry.1.clone();
                kept.push(entry);
                index
            })
        };
        let index = match cached {
            Some(index) => {
                guard(&index)
                    .refresh()
                    .map_err(|source| JobError::LogRead { id, source })?;
                index
            }
            None => {
                let record = self.get(id)?;
                // One index is built at a time, so two readers of a new log (the
                // view's first pages, the build after a tail) do not both read it.
                let building = guard(&self.inner.index_build);
                let built = guard(&self.inner.log_indexes)
                    .iter()
                    .find(|(job, _)| *job == id)
                    .map(|(_, index)| index.clone());
                if let Some(index) = built {
                    // Another reader built it while this one waited.
                    drop(building);
                    let mut index = guard(&index);
                    index
                        .refresh()
                        .map_err(|source| JobError::LogRead { id, source })?;
                    return read(&index).map_err(|source| JobError::LogRead { id, source });
                }
                // Built outside the cache lock: other logs stay readable meanwhile.
                let index = LogIndex::open(Path::new(&record.log_path))
                    .map_err(|source| JobError::LogRead { id, source })?;
                let index = Arc::new(Mutex::new(index));
                let mut kept = guard(&self.inner.log_indexes);
                kept.retain(|(job, _)| *job != id);
                kept.push((id, index.clone()));
                if kept.len() > KEPT_LOG_INDEXES {
                    kept.remove(0);
                }
                drop(building);
                index
            }
        };
        let index = guard(&index);
        read(&index).map_err(|source| JobError::LogRead { id, source })
    }

    /// Every job, newest first.
    pub fn list(&self) -> Result<Vec<JobRecord>, JobError> {
        guard(&self.inner.store).list()
    }

    /// One job.
    pub fn get(&self, id: JobId) -> Result<JobRecord, JobError> {
        guard(&self.inner.store).get(id)
    }

    /// The newest job that touched `host`, if any (the fleet view's "last job").
    pub fn last_job(&self, host: &str) -> Result<Option<JobRecord>, JobError> {
        guard(&self.inner.store).last_job(host)
    }

    /// Records that `host` runs `system_path` after job `job` succeeded (see
    /// [`store::JobStore::record_host_system`]).
    pub fn record_host_system(
        &self,
        host: &str,
        system_path: &str,
        job: Option<JobId>,
    ) -> Result<(), JobError> {
        guard(&self.inner.store).record_host_system(host, system_path, job)
    }

    /// The system recorded for `host` after its last successful deploy or install.
    pub fn host_system(&self, host: &str) -> Result<Option<store::HostSystem>, JobError> {
        guard(&self.inner.store).host_system(host)
    }
}

/// Adds the progress parsers' phases to a replayed log's lines.
struct ReplayProgress {
    observer: Mutex<Box<dyn LineObserver>>,
    sink: Arc<dyn EventSink>,
}

impl EventSink for ReplayProgress {
    fn send(&self, event: &JobEvent) -> bool {
        if !self.sink.send(event) {
            return false;
        }
        if let JobEvent::Lines {
            stream,
            first_seq,
            lines,
            ..
        } = event
        {
            let mut observer = guard(&self.observer);
            for (i, line) in lines.iter().enumerate() {
                for phase in observer.on_line(*stream, first_seq + i as u64, line, Duration::ZERO) {
                    if !self.sink.send(&JobEvent::Phase(phase)) {
                        return false;
                    }
                }
            }
        }
        true
    }
}

/// Asks the local nix whether `nix-command` and `flakes` are enabled
/// (`nix show-config`, which itself fails when `nix-command` is off).
pub async fn flakes_enabled() -> bool {
    let output = tokio::process::Command::new("nix")
        .arg("show-config")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .await;
    let Ok(output) = output else { return false };
    if !output.status.success() {
        return false;
    }
    String::from_utf8_lossy(&output.stdout).lines().any(|line| {
        let Some((key, value)) = line.split_once('=') else {
            return false;
        };
        key.trim() == "experimental-features" && {
            let features: Vec<&str> = value.split_whitespace().collect();
            features.contains(&"nix-command") && features.contains(&"flakes")
        }
    })
}

#[cfg(test)]
mod tests;
