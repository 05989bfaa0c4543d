//! Jobs: how the tools are run (settings, the watchdog's limits, the flake lock
//! step), starting a job with an event sink, and the history: list, attach,
//! cancel, wait, explain.

use crate::{Api, ApiError, ApiResult, ErrorCode};
use nixdeck_core::tools::explain::{self, Explanation, Tool};
use nixdeck_core::tools::plan::{ToolSettings, ToolSource};
use nixdeck_core::tools::watchdog::WatchdogConfig;
use nixdeck_engine::jobs::log::Direction;
use nixdeck_engine::jobs::{self, requests, JobId, JobKind, JobRecord, JobRequest};
use nixdeck_engine::runner::{styled_lines, EventSink, JobResult, Outcome, StyledLine, TailLimits};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use ts_rs::TS;

/// Where events of a job go while it runs (a window's channel, a terminal).
pub type Sink = Option<Arc<dyn EventSink>>;

/// How to run nixos-anywhere and colmena, as chosen; the rest is asked of nix.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolChoice {
    /// Run `nixos-anywhere`/`colmena` from PATH instead of `nix run`.
    #[serde(default)]
    pub tools_from_path: bool,
    /// Whether the local nix has flakes enabled; asked of nix when `None`.
    #[serde(default)]
    pub flakes: Option<bool>,
    /// Which nixos-anywhere and colmena: flake.lock's pins (default), the
    /// article's commands, or PATH.
    #[serde(default)]
    pub source: ToolSource,
}

/// What a start answers: the job to open.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct StartedJob {
    /// The job's number, as text (job ids are 64-bit).
    pub job_id: String,
}

impl From<JobId> for StartedJob {
    fn from(id: JobId) -> Self {
        Self {
            job_id: id.to_string(),
        }
    }
}

/// Lines of a job's log as a log view draws them, read from the log on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct LogLines {
    /// The number of the first line in `lines` (from 0, as in live events).
    pub first_seq: u64,
    /// The lines with their escapes, as the tool wrote them.
    pub lines: Vec<String>,
    /// The lines that have escapes, as styled text without them (as in
    /// live `lines` events); plain lines are not repeated here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub styled: Vec<StyledLine>,
    /// How many lines the log has now (it grows while the job runs).
    pub total_lines: u64,
}

/// The tool settings for `choice`, asking the local nix about flakes when needed.
pub async fn settings_for(choice: &ToolChoice) -> ToolSettings {
    ToolSettings {
        flakes_enabled: match choice.flakes {
            Some(on) => on,
            None => jobs::flakes_enabled().await,
        },
        tools_from_path: choice.tools_from_path,
        source: choice.source,
    }
}

/// The default tool settings (what the window uses).
pub async fn settings() -> ToolSettings {
    settings_for(&ToolChoice::default()).await
}

/// The watchdog's limits: the defaults, or one uniform silence limit from
/// `NIXDECK_WATCHDOG_SILENCE_SECS` (tests and demos).
pub fn watchdog_config() -> WatchdogConfig {
    match std::env::var("NIXDECK_WATCHDOG_SILENCE_SECS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
    {
        Some(secs) => WatchdogConfig::uniform(Duration::from_secs(secs)),
        None => WatchdogConfig::default(),
    }
}

/// A job id from text.
pub fn parse_job_id(id: &str) -> ApiResult<JobId> {
    id.trim()
        .parse()
        .map_err(|_| ApiError::invalid(format!("{id:?} is not a job number")))
}

impl Api {
    /// Starts `request` with nixdeck's watchdog limits; `sink` gets its events.
    pub(crate) fn start_job(&self, mut request: JobRequest, sink: Sink) -> ApiResult<JobId> {
        request.watchdog = watchdog_config();
        Ok(self.jobs()?.start(request, sink)?)
    }

    /// Locks the flake first when the repository has no `flake.lock` (every
    /// later `nix` run would otherwise write one, and a deploy would run on
    /// whatever the inputs' heads are at that moment). Waits for the lock job;
    /// its failure is an error naming the job.
    pub(crate) async fn ensure_locked(
        &self,
        settings: &ToolSettings,
        repo: &Path,
        sink: &Sink,
    ) -> ApiResult<()> {
        if repo.join("flake.lock").exists() {
            return Ok(());
        }
        let id = self.start_job(requests::lock_request(settings, repo), sink.clone())?;
        let outcome = self.jobs()?.wait(id).await?;
        if outcome.result == JobResult::Succeeded {
            return Ok(());
        }
        Err(ApiError::new(
            ErrorCode::ProcessFailed,
            format!(
                "flake.lock was missing and `nix flake lock` failed (job {id}: {})",
                outcome.result.as_str()
            ),
        )
        .with_hint(
            "Open that job's log to see why; nix needs network access to lock the flake's inputs.",
        ))
    }

    /// Every job, newest first; only those touching `host` when given.
    pub fn list_jobs(&self, host: Option<&str>) -> ApiResult<Vec<JobRecord>> {
        let all = self.jobs()?.list()?;
        Ok(match host {
            Some(h) => all
                .into_iter()
                .filter(|j| j.hosts.iter().any(|x| x == h))
                .collect(),
            None => all,
        })
    }

    /// One job's record.
    pub fn get_job(&self, id: JobId) -> ApiResult<JobRecord> {
        Ok(self.jobs()?.get(id)?)
    }

    /// Streams job `id` to `sink`: its stored lines from `from_seq` on (with the
    /// steps and nodes the parsers read from them), then live events while it runs.
    pub fn attach_job(&self, id: JobId, from_seq: u64, sink: Arc<dyn EventSink>) -> ApiResult<()> {
        Ok(self.jobs()?.attach(id, from_seq, sink)?)
    }

    /// Streams job `id` to a watcher that reads the lines themselves from the
    /// log ([`Api::log_lines`]): the count of lines so far, the steps and nodes,
    /// then live events, thinned to counts and the latest lines when the tool
    /// writes faster than a window reads ([`TailLimits::default`]).
    pub fn watch_job(&self, id: JobId, sink: Arc<dyn EventSink>) -> ApiResult<()> {
        Ok(self
            .jobs()?
            .attach_counted(id, sink, TailLimits::default())?)
    }

    /// Lines `from .. from + count` of job `id`'s log (fewer at its end, at
    /// most [`jobs::log::MAX_PAGE_LINES`]), styled as live lines are, and how
    /// many it has now. Reads the file on a blocking thread.
    pub async fn log_lines(&self, id: JobId, from: u64, count: usize) -> ApiResult<LogLines> {
        let jobs = self.jobs()?.clone();
        let page = tokio::task::spawn_blocking(move || jobs.log_lines(id, from, count))
            .await
            .map_err(|e| ApiError::new(ErrorCode::Internal, format!("reading the log: {e}")))??;
        Ok(LogLines {
            styled: styled_lines(page.first_seq, &page.lines),
            first_seq: page.first_seq,
            lines: page.lines,
            total_lines: page.total_lines,
        })
    }

    /// The first line of job `id`'s log from line `from` (included) in
    /// `direction` that holds `query` (the text as written, escapes
    /// included); ASCII letters match either case when `ignore_case`. `None`
    /// when no line does. Reads the file on a blocking thread.
    pub async fn log_search(
        &self,
        id: JobId,
        query: String,
        from: u64,
        direction: Direction,
        ignore_case: bool,
    ) -> ApiResult<Option<u64>> {
        let jobs = self.jobs()?.clone();
        let backwards = direction == Direction::Backward;
        tokio::task::spawn_blocking(move || {
            jobs.log_search(id, &query, from, backwards, ignore_case)
        })
        .await
        .map_err(|e| ApiError::new(ErrorCode::Internal, format!("searching the log: {e}")))?
        .map_err(Into::into)
    }

    /// Cancels job `id` (SIGTERM to its process group, SIGKILL after a grace period).
    pub fn cancel_job(&self, id: JobId) -> ApiResult<()> {
        Ok(self.jobs()?.cancel(id)?)
    }

    /// The installs, deploys and rollbacks running in this nixdeck now: what
    /// closing the window would leave unsupervised (the window asks first).
    pub fn jobs_running_here(&self) -> ApiResult<Vec<JobRecord>> {
        let jobs = self.jobs()?;
        jobs.running_here()
            .into_iter()
            .map(|id| Ok(jobs.get(id)?))
            .collect()
    }

    /// Closing with jobs running, "cancel": every job running here is cancelled
    /// (its process group TERM, then KILL) and waited for.
    pub async fn cancel_jobs_running_here(&self) -> ApiResult<Vec<JobId>> {
        let jobs = self.jobs()?;
        let ids = jobs.running_here();
        for id in &ids {
            // One that ended meanwhile is fine: it is recorded as it ended.
            let _ = jobs.cancel(*id);
        }
        for id in &ids {
            jobs.wait(*id).await?;
        }
        Ok(ids)
    }

    /// Closing with jobs running, "leave it running": their tools outlive this
    /// nixdeck and stay recorded as running (see [`JobManager::leave_running`]).
    ///
    /// [`JobManager::leave_running`]: nixdeck_engine::jobs::JobManager::leave_running
    pub fn leave_jobs_running(&self) -> ApiResult<Vec<JobId>> {
        Ok(self.jobs()?.leave_running()?)
    }

    /// Waits until job `id` has ended; its outcome.
    pub async fn wait_job(&self, id: JobId) -> ApiResult<Outcome> {
        Ok(self.jobs()?.wait(id).await?)
    }

    /// The recogniser's reading of a job's log: outcome, steps, failing step,
    /// decisive lines and what to do next.
    pub fn explain_job(&self, id: JobId) -> ApiResult<Explanation> {
        let record = self.get_job(id)?;
        let text = std::fs::read_to_string(&record.log_path).unwrap_or_default();
        let tool = match record.kind {
            JobKind::Deploy => Some(Tool::Colmena),
            JobKind::Install => Some(Tool::NixosAnywhere),
            _ => None,
        };
        let exit = if record.result == JobResult::Running {
            None
        } else {
            record.exit_code
        };
        Ok(explain::explain_text(&text, tool, exit))
    }
}
