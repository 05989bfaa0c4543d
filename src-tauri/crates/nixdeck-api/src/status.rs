//! Day two: what each host runs, whether that is what the flake says, its
//! system generations, and rolling one back. Hosts are reached by the one
//! target rule ([`crate::targets`]); a rollback needs the host's name typed
//! again and is checked against a status read just before.

use crate::jobs::{settings, Sink, StartedJob};
use crate::targets::{read_targets, ssh_target};
use crate::{Api, ApiError, ApiResult, ErrorCode};
use nixdeck_core::status::{Drift, DriftBasis, Generation, HostStatus};
use nixdeck_core::tools::plan::{DeployGoal, HostTarget};
use nixdeck_core::tools::rollback::{check_rollback, RollbackTo, SshClientOptions};
use nixdeck_core::tools::safety::goal_risk;
use nixdeck_engine::jobs::{requests, JobId, JobKind, JobManager};
use nixdeck_engine::runner::JobResult;
use nixdeck_engine::ssh::{Auth, ConnectOptions, HostKeyPolicy};
use nixdeck_engine::status::{self as engine, FlakeEvalError, StatusError};
use serde::Serialize;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use ts_rs::TS;

/// How long one host's flake evaluation may take before the drift falls back
/// to the last deploy's record: a status view must not wait for a download of
/// the flake's inputs.
const FLAKE_EVAL_LIMIT: Duration = Duration::from_secs(20);

/// `nix eval` is heavy (memory, CPU); the SSH probes are not.
const FLAKE_EVALS_AT_ONCE: usize = 2;

/// One host of the fleet view.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct HostRow {
    /// The host's name in the repository.
    pub host: String,
    /// Whether it answered.
    pub reachable: bool,
    /// Why it did not answer, and what to do.
    pub error: Option<ApiError>,
    /// `nixos-version` of the running system.
    pub nixos_version: Option<String>,
    /// The system that runs now (`/run/current-system`).
    pub current_system: Option<String>,
    /// The system the machine booted (`/run/booted-system`).
    pub booted_system: Option<String>,
    /// A switch since boot changed the running system; a reboot starts the profile's.
    pub reboot_pending: bool,
    /// Seconds since boot.
    pub uptime_secs: Option<u64>,
    /// The generation the system profile points to.
    pub profile_generation: Option<u32>,
    /// nixdeck's last job that touched the host.
    pub last_job: Option<LastJob>,
    /// Whether the host runs what the flake builds.
    pub drift: DriftView,
    /// Things the host's answer left unread, in words.
    pub warnings: Vec<String>,
}

/// A job, as a status row names it.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LastJob {
    /// The job's number, as text (job ids are 64-bit).
    pub id: String,
    /// What it did.
    pub kind: JobKind,
    /// How it ended (or `running`).
    pub result: JobResult,
    /// When it started, milliseconds since the Unix epoch.
    pub started_at: u64,
}

/// The drift verdict as front ends show it.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DriftView {
    /// `up_to_date`, `behind_flake`, `changed_outside` or `unknown`.
    pub state: String,
    /// In words (`changed outside nixdeck`, `unknown (…)`).
    pub label: String,
    /// A sentence on what it means and what it was measured against.
    pub explanation: String,
    /// `flake` or `last_deploy`, when known.
    pub basis: Option<String>,
}

/// A host's system generations, as `nixdeck generations` and the host page list them.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct GenerationsView {
    /// The host's name in the repository.
    pub host: String,
    /// `nixos-version` of the running system.
    pub nixos_version: Option<String>,
    /// The system that runs now.
    pub current_system: Option<String>,
    /// The system the machine booted.
    pub booted_system: Option<String>,
    /// A reboot would start another system than the running one.
    pub reboot_pending: bool,
    /// The generation the system profile points to.
    pub profile_generation: Option<u32>,
    /// The generation a plain rollback goes to.
    pub previous_generation: Option<u32>,
    /// Oldest first.
    pub generations: Vec<GenerationRow>,
    /// Things that could not be read, in words.
    pub warnings: Vec<String>,
}

/// One system generation.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct GenerationRow {
    /// Its number (`system-<number>-link`).
    pub number: u32,
    /// When it was made, seconds since the Unix epoch.
    pub date: u64,
    /// The system it links to.
    pub store_path: String,
    /// That system's `nixos-version`.
    pub nixos_version: Option<String>,
    /// It runs now.
    pub current: bool,
    /// The machine booted it.
    pub booted: bool,
    /// The profile points to it (the next boot's default).
    pub profile: bool,
}

/// What a deploy goal risks, for the deploy panel.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct GoalRisk {
    /// colmena's goal (`switch`, `boot`, …).
    pub goal: String,
    /// What choosing it risks, in a sentence or two.
    pub risk: String,
}

impl From<&Generation> for GenerationRow {
    fn from(g: &Generation) -> Self {
        Self {
            number: g.number,
            date: g.date,
            store_path: g.store_path.clone(),
            nixos_version: g.nixos_version.clone(),
            current: g.current,
            booted: g.booted,
            profile: g.profile,
        }
    }
}

fn drift_view(verdict: nixdeck_core::status::DriftVerdict) -> DriftView {
    let state = match &verdict.drift {
        Drift::UpToDate => "up_to_date",
        Drift::BehindFlake => "behind_flake",
        Drift::ChangedOutside => "changed_outside",
        Drift::Unknown(_) => "unknown",
    };
    DriftView {
        state: state.into(),
        label: verdict.drift.label(),
        explanation: verdict.explanation,
        basis: verdict.basis.map(|b| {
            match b {
                DriftBasis::Flake => "flake",
                DriftBasis::LastDeploy => "last_deploy",
            }
            .to_string()
        }),
    }
}

/// A host's failure to answer as an [`ApiError`], classified by variant.
fn status_error(err: &StatusError) -> ApiError {
    let code = match err {
        StatusError::Ssh(ssh) => crate::error::ssh_code(ssh),
        StatusError::ScriptFailed { .. } | StatusError::Output(_) => ErrorCode::ProcessFailed,
    };
    ApiError::new(code, err.to_string()).with_hint(err.hint())
}

fn last_job(jobs: Option<&JobManager>, host: &str) -> Option<LastJob> {
    let record = jobs?.last_job(host).ok()??;
    Some(LastJob {
        id: record.id.to_string(),
        kind: record.kind,
        result: record.result,
        started_at: record.started_at,
    })
}

/// Builds one row from what was gathered about `name`.
fn host_row(
    name: &str,
    status: &Result<HostStatus, StatusError>,
    flake: &Result<String, FlakeEvalError>,
    jobs: Option<&JobManager>,
) -> HostRow {
    let recorded = jobs
        .and_then(|j| j.host_system(name).ok().flatten())
        .map(|r| r.system_path);
    let drift = drift_view(engine::drift(status, flake, recorded.as_deref()));
    let mut row = HostRow {
        host: name.to_string(),
        reachable: false,
        error: None,
        nixos_version: None,
        current_system: None,
        booted_system: None,
        reboot_pending: false,
        uptime_secs: None,
        profile_generation: None,
        last_job: last_job(jobs, name),
        drift,
        warnings: Vec::new(),
    };
    match status {
        Ok(s) => {
            row.reachable = true;
            row.nixos_version = s.nixos_version.clone();
            row.current_system = s.current_system.clone();
            row.booted_system = s.booted_system.clone();
            row.reboot_pending = s.reboot_pending;
            row.uptime_secs = s.uptime_secs;
            row.profile_generation = s.profile_generation;
            row.warnings = s.warnings.clone();
        }
        Err(e) => row.error = Some(status_error(e)),
    }
    row
}

/// The repository's host `host` with where to reach it.
async fn find_target(repo: &Path, host: &str) -> ApiResult<HostTarget> {
    crate::hosts::host_name(host)?;
    let targets = read_targets(repo).await?;
    Ok(targets.find(host)?.1.clone())
}

impl Api {
    /// Options for nixdeck's own status connections: OpenSSH's usual keys
    /// (agent, the config's IdentityFile, `~/.ssh/id_*`) and strict host keys,
    /// as colmena would log in.
    fn status_connect(&self) -> ConnectOptions {
        self.connect_options(Auth::Default, HostKeyPolicy::Strict)
    }

    /// Every host `filter` selects (colmena's `--on`; all when `None`), read in
    /// parallel (at most [`engine::DEFAULT_CONCURRENCY`] at once), `on_each`
    /// called with each row as its host answers or fails; returns the rows in
    /// the repository's order. The drift compares with the flake's toplevel
    /// when `nix eval` gives it within a short time, else with the system
    /// recorded after nixdeck's last deploy.
    pub async fn fleet_status(
        &self,
        repo: &Path,
        filter: Option<&str>,
        on_each: impl Fn(&HostRow) + Send + Sync + 'static,
    ) -> ApiResult<Vec<HostRow>> {
        let targets = read_targets(repo).await?;
        let hosts = targets.host_targets();
        let filter = filter.map(str::trim).filter(|f| !f.is_empty());
        let selected =
            requests::select_hosts(&hosts, filter).map_err(|e| ApiError::invalid(e.to_string()))?;
        if selected.is_empty() {
            return Err(ApiError::invalid(format!(
                "`{}` selects no host of this repository",
                filter.unwrap_or_default()
            ))
            .with_hint("Use host names, @tags or globs such as web-*, comma-separated."));
        }
        let chosen: Vec<HostTarget> = hosts
            .into_iter()
            .filter(|h| selected.contains(&h.name))
            .collect();
        let tools = settings().await;
        let connect = self.status_connect();
        let jobs = self.jobs.as_ref().ok().cloned();
        let probes = Arc::new(Semaphore::new(engine::DEFAULT_CONCURRENCY));
        let evals = Arc::new(Semaphore::new(FLAKE_EVALS_AT_ONCE));
        let on_each = Arc::new(on_each);
        let mut set = JoinSet::new();
        for (index, target) in chosen.iter().cloned().enumerate() {
            let (probes, evals, on_each) = (probes.clone(), evals.clone(), on_each.clone());
            let (connect, tools, jobs, repo) = (
                connect.clone(),
                tools.clone(),
                jobs.clone(),
                repo.to_path_buf(),
            );
            set.spawn(async move {
                let status = async {
                    // The semaphores are never closed, so acquiring only waits.
                    let _slot = probes.acquire_owned().await.ok();
                    engine::status(&ssh_target(&target), &connect).await
                };
                let flake = async {
                    let _slot = evals.acquire_owned().await.ok();
                    engine::flake_toplevel(&tools, &repo, &target.name, FLAKE_EVAL_LIMIT).await
                };
                let (status, flake) = tokio::join!(status, flake);
                let row = host_row(&target.name, &status, &flake, jobs.as_ref());
                on_each(&row);
                (index, row)
            });
        }
        let mut rows: Vec<Option<HostRow>> = chosen.iter().map(|_| None).collect();
        while let Some(joined) = set.join_next().await {
            // A panicking task loses its host's row rather than the whole view.
            if let Ok((index, row)) = joined {
                rows[index] = Some(row);
            }
        }
        Ok(rows.into_iter().flatten().collect())
    }

    /// `host`'s system generations and what runs, read now.
    pub async fn generations(&self, repo: &Path, host: &str) -> ApiResult<GenerationsView> {
        let target = find_target(repo, host).await?;
        let status = engine::status(&ssh_target(&target), &self.status_connect())
            .await
            .map_err(|e| status_error(&e))?;
        Ok(GenerationsView {
            host: host.to_string(),
            nixos_version: status.nixos_version.clone(),
            current_system: status.current_system.clone(),
            booted_system: status.booted_system.clone(),
            reboot_pending: status.reboot_pending,
            profile_generation: status.profile_generation,
            previous_generation: status.previous_generation().map(|g| g.number),
            generations: status.generations.iter().map(GenerationRow::from).collect(),
            warnings: status.warnings,
        })
    }

    /// Rolls `host` back to `to` (the previous generation or a number) with
    /// OpenSSH as a job. `confirm` must be the host's name typed again; the
    /// choice is checked against the host's generations read just now.
    pub async fn start_rollback(
        &self,
        repo: &Path,
        host: &str,
        to: RollbackTo,
        confirm: &str,
        sink: Sink,
    ) -> ApiResult<StartedJob> {
        if confirm != host {
            return Err(ApiError::invalid(format!(
                "a rollback switches {host} to another system now: type the host name {host} to confirm"
            )));
        }
        let target = find_target(repo, host).await?;
        let status = engine::status(&ssh_target(&target), &self.status_connect())
            .await
            .map_err(|e| status_error(&e))?;
        let number = check_rollback(host, &status, to).map_err(|e| {
            ApiError::invalid(e.to_string())
                .with_hint("Pick a generation the host has (`nixdeck generations`).")
        })?;
        let ssh = SshClientOptions {
            known_hosts_file: self
                .ssh
                .known_hosts
                .as_ref()
                .map(|p| p.display().to_string()),
            config_file: self
                .ssh
                .ssh_config
                .as_ref()
                .map(|p| p.display().to_string()),
            ..SshClientOptions::default()
        };
        let job = requests::rollback_request(repo, &target, RollbackTo::Generation(number), &ssh)?;
        Ok(self.start_job(job, sink)?.into())
    }

    /// After job `id` (a deploy or an install) succeeded: reads what each of
    /// its hosts runs now and records it as the system nixdeck put there, which
    /// the drift check falls back on when the flake cannot be evaluated.
    /// Returns the hosts recorded; a host that cannot be read is left out (its
    /// drift stays unknown) rather than failing a finished deploy.
    pub async fn record_deployed_systems(&self, repo: &Path, id: JobId) -> ApiResult<Vec<String>> {
        let jobs = self.jobs()?;
        let record = jobs.get(id)?;
        if !matches!(record.kind, JobKind::Deploy | JobKind::Install) {
            return Err(ApiError::invalid(format!(
                "job {id} is a {} job: only deploys and installs put a system on a host",
                record.kind.as_str()
            )));
        }
        if record.result != JobResult::Succeeded {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                format!("job {id} did not succeed: nothing to record"),
            ));
        }
        let targets = read_targets(repo).await?;
        let connect = self.status_connect();
        let mut recorded = Vec::new();
        for name in &record.hosts {
            let Ok((_, target)) = targets.find(name) else {
                continue;
            };
            if engine::record_deployed_system(jobs, Some(id), name, &ssh_target(target), &connect)
                .await
                .is_ok()
            {
                recorded.push(name.clone());
            }
        }
        Ok(recorded)
    }

    /// What each deploy goal risks, in the order the deploy panel offers them.
    pub fn deploy_goal_risks(&self) -> Vec<GoalRisk> {
        [
            DeployGoal::Switch,
            DeployGoal::Test,
            DeployGoal::Boot,
            DeployGoal::DryActivate,
            DeployGoal::Build,
            DeployGoal::Push,
        ]
        .into_iter()
        .map(|goal| GoalRisk {
            goal: goal.as_str().to_string(),
            risk: goal_risk(goal).to_string(),
        })
        .collect()
    }
}
