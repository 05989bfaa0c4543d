//! Fleet status: what each host runs, read in one SSH round trip (the core's
//! status script fed to `sh -s`), many hosts at once with a bounded pool,
//! each reported the moment it answers; and the flake's toplevel to compare
//! against, evaluated without building.

use crate::ssh::{ConnectOptions, Phase, Session, SshError, SshTarget};
use nixdeck_core::status::report::{self, StatusReportError};
use nixdeck_core::status::{is_store_path, HostStatus};
use nixdeck_core::tools::plan::{check_host_name, PlanError, ToolSettings};
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// Hosts read at once when the caller does not say.
pub const DEFAULT_CONCURRENCY: usize = 16;

/// Why one host's status could not be read.
#[derive(Debug, Error)]
pub enum StatusError {
    /// Connecting, verifying the host or logging in failed.
    #[error(transparent)]
    Ssh(#[from] SshError),
    /// The script failed on the target.
    #[error("the status script failed on the target (exit status {status}): {stderr}")]
    ScriptFailed { status: String, stderr: String },
    /// Its output could not be read.
    #[error("the target's answers could not be read: {0}")]
    Output(#[from] StatusReportError),
}

impl StatusError {
    /// A stable, machine-readable name of the failure (see [`SshError::code`]).
    pub fn code(&self) -> &'static str {
        match self {
            StatusError::Ssh(e) => e.code(),
            StatusError::ScriptFailed { .. } => "script_failed",
            StatusError::Output(_) => "bad_output",
        }
    }

    /// What the user can do about it.
    pub fn hint(&self) -> String {
        match self {
            StatusError::Ssh(e) => e.hint(),
            StatusError::ScriptFailed { .. } | StatusError::Output(_) => {
                "The host needs a POSIX /bin/sh with readlink, stat and head, as every NixOS has."
                    .into()
            }
        }
    }
}

/// Connects to `target`, reads its status in one command, and disconnects.
pub async fn status(
    target: &SshTarget,
    connect: &ConnectOptions,
) -> Result<HostStatus, StatusError> {
    let session = Session::connect(target, connect).await?;
    connect.report(Phase::ReadingFacts);
    let result = status_session(&session).await;
    session.close().await;
    result
}

/// Reads the status over an already open session.
pub async fn status_session(session: &Session) -> Result<HostStatus, StatusError> {
    let out = session
        .exec("the status script", "sh -s", report::script().as_bytes())
        .await?;
    if out.exit_status != Some(0) {
        return Err(StatusError::ScriptFailed {
            status: out
                .exit_status
                .map_or_else(|| "none (killed)".into(), |s| s.to_string()),
            stderr: String::from_utf8_lossy(&out.stderr)
                .trim()
                .chars()
                .take(2000)
                .collect(),
        });
    }
    Ok(report::parse(&String::from_utf8_lossy(&out.stdout))?)
}

/// Reads every host's status, at most `concurrency` at a time (0 counts as
/// 1), calling `on_each(name, &result)` as each one answers or fails, and
/// returns all results in the order of `targets`. Hosts start in that order.
/// A host that hangs costs one slot until `connect`'s timeouts end it; the
/// others go on.
pub async fn fleet_status<F>(
    targets: Vec<(String, SshTarget)>,
    connect: &ConnectOptions,
    concurrency: usize,
    on_each: F,
) -> Vec<(String, Result<HostStatus, StatusError>)>
where
    F: Fn(&str, &Result<HostStatus, StatusError>) + Send + Sync + 'static,
{
    let permits = Arc::new(Semaphore::new(concurrency.max(1)));
    let on_each = Arc::new(on_each);
    let mut set = JoinSet::new();
    let count = targets.len();
    for (index, (name, target)) in targets.into_iter().enumerate() {
        let permits = permits.clone();
        let on_each = on_each.clone();
        // Per-host progress would interleave; the pool reports per host instead.
        let mut connect = connect.clone();
        connect.progress = None;
        // Hosts start in the order listed: the slot is taken before the
        // host's task exists (tasks spawned together start in any order).
        // The semaphore is never closed, so acquiring only waits.
        let permit = permits.clone().acquire_owned().await.ok();
        set.spawn(async move {
            let _permit = permit;
            let result = status(&target, &connect).await;
            on_each(&name, &result);
            (index, name, result)
        });
    }
    let mut slots: Vec<Option<(String, Result<HostStatus, StatusError>)>> =
        (0..count).map(|_| None).collect();
    while let Some(joined) = set.join_next().await {
        // A panicking task loses its host's row rather than the whole view.
        if let Ok((index, name, result)) = joined {
            slots[index] = Some((name, result));
        }
    }
    slots.into_iter().flatten().collect()
}

/// Why the flake's toplevel of a host is not known.
#[derive(Debug, Error)]
pub enum FlakeEvalError {
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error("`nix` was not found")]
    NixMissing,
    #[error("could not run nix: {0}")]
    Spawn(#[source] std::io::Error),
    #[error("nix eval took longer than {0:?}")]
    Timeout(Duration),
    #[error("nix eval failed: {0}")]
    Failed(String),
    #[error("nix eval printed {0:?}, which is not a store path")]
    NotAStorePath(String),
    /// Not evaluated, and why (the host did not answer: nothing to compare).
    #[error("not evaluated: {0}")]
    Skipped(&'static str),
}

/// The store path `host`'s system would have if built from the flake in
/// `repo` now: `nix eval --raw .#nixosConfigurations.<host>.config.system.
/// build.toplevel.outPath`, which evaluates (and may fetch the flake's
/// inputs) but builds nothing. Fails when the inputs cannot be had here;
/// the drift then falls back to the last deploy's record.
pub async fn flake_toplevel(
    settings: &ToolSettings,
    repo: &Path,
    host: &str,
    limit: Duration,
) -> Result<String, FlakeEvalError> {
    check_host_name(host)?;
    let mut cmd = tokio::process::Command::new("nix");
    if !settings.flakes_enabled {
        cmd.args(["--extra-experimental-features", "nix-command flakes"]);
    }
    cmd.arg("eval")
        .arg("--raw")
        .arg(format!(
            ".#nixosConfigurations.{host}.config.system.build.toplevel.outPath"
        ))
        .current_dir(repo)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let output = tokio::time::timeout(limit, cmd.output())
        .await
        .map_err(|_| FlakeEvalError::Timeout(limit))?
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                FlakeEvalError::NixMissing
            } else {
                FlakeEvalError::Spawn(e)
            }
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        // nix's last `error:` line says it best; the trace before it is noise here.
        let why = stderr
            .lines()
            .rev()
            .find(|l| l.trim_start().starts_with("error:"))
            .or_else(|| stderr.lines().rev().find(|l| !l.trim().is_empty()))
            .unwrap_or("no message")
            .trim()
            .chars()
            .take(300)
            .collect();
        return Err(FlakeEvalError::Failed(why));
    }
    let path = String::from_utf8_lossy(&output.stdout).trim().to_string();
    if !is_store_path(&path) {
        return Err(FlakeEvalError::NotAStorePath(
            path.chars().take(200).collect(),
        ));
    }
    Ok(path)
}

/// The drift of one host from what was gathered: its status (or why it did
/// not answer), the flake's toplevel (or why it could not be evaluated),
/// and the system recorded after nixdeck's last successful deploy.
pub fn drift(
    status: &Result<HostStatus, StatusError>,
    flake: &Result<String, FlakeEvalError>,
    last_deployed: Option<&str>,
) -> nixdeck_core::status::DriftVerdict {
    let status_why = status
        .as_ref()
        .err()
        .map(|e| format!("the host did not answer: {e}"));
    let flake_why = flake.as_ref().err().map(ToString::to_string);
    nixdeck_core::status::decide_drift(&nixdeck_core::status::DriftInput {
        current_system: status
            .as_ref()
            .ok()
            .and_then(|s| s.current_system.as_deref()),
        current_unknown_because: status_why.as_deref(),
        flake_toplevel: flake.as_ref().ok().map(String::as_str),
        flake_unknown_because: flake_why.as_deref(),
        last_deployed,
    })
}

/// Why the system after a deploy could not be recorded.
#[derive(Debug, Error)]
pub enum RecordError {
    #[error(transparent)]
    Status(#[from] StatusError),
    #[error(transparent)]
    Jobs(#[from] crate::jobs::JobError),
    #[error("{0} has no /run/current-system: nothing to record")]
    NoCurrentSystem(String),
}

/// After job `job` (a deploy or install) succeeded for `host`: reads what
/// the host runs now and records it as the system nixdeck put there, for the
/// drift check to fall back on. Returns the recorded store path.
pub async fn record_deployed_system(
    jobs: &crate::jobs::JobManager,
    job: Option<crate::jobs::JobId>,
    host: &str,
    target: &SshTarget,
    connect: &ConnectOptions,
) -> Result<String, RecordError> {
    let now = status(target, connect).await?;
    let path = now
        .current_system
        .ok_or_else(|| RecordError::NoCurrentSystem(host.to_string()))?;
    jobs.record_host_system(host, &path, job)?;
    Ok(path)
}
