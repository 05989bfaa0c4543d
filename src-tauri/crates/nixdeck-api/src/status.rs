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
use nixdeck_engine::safety::{self as engine_safety, Answer};
use nixdeck_engine::ssh::SshTarget;
use nixdeck_engine::ssh::{Auth, ConnectOptions, HostKeyPolicy};
use nixdeck_engine::status::{self as engine, FlakeEvalError, StatusError};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
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

/// How long a node colmena switched has to accept an SSH login again.
/// `NIXDECK_SAFETY_LIMIT_SECS` changes it (a slow network, a test).
fn answer_limit() -> Duration {
    std::env::var("NIXDECK_SAFETY_LIMIT_SECS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|s: &u64| *s > 0)
        .map_or(Duration::from_secs(60), Duration::from_secs)
}

/// How long "Check again" waits for a node that did not answer.
const RECHECK_LIMIT: Duration = Duration::from_secs(10);

/// One node after a deploy: did it answer over SSH?
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct NodeAnswer {
    /// The node (host) name.
    pub node: String,
    /// `checking`, `answered`, `silent` (no answer within the limit) or
    /// `refused` (it answered, but refused the host key or the login).
    pub state: String,
    /// Milliseconds after the check began that it answered.
    pub after_ms: Option<u64>,
    /// Why it did not answer, in words.
    pub error: Option<String>,
    /// It did not answer at first and answered a later check: offer the rollback.
    pub answered_again: bool,
}

/// The deploy safety net's findings for one deploy job.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SafetyReport {
    /// The deploy job.
    pub job_id: String,
    /// The repository it deployed from.
    #[ts(type = "string")]
    pub repo: PathBuf,
    /// Still checking.
    pub checking: bool,
    /// How long each node had, in seconds.
    pub limit_secs: u64,
    /// The nodes colmena activated, in the job's order.
    pub nodes: Vec<NodeAnswer>,
    /// Nodes whose running system was recorded as nixdeck's deploy (for drift).
    pub recorded: Vec<String>,
}

/// Where a job's safety report is kept: beside the job store, by job id.
fn report_path(data_dir: &Path, id: JobId) -> PathBuf {
    data_dir.join("safety").join(format!("{id}.json"))
}

fn save_report(data_dir: &Path, id: JobId, report: &SafetyReport) -> ApiResult<()> {
    let path = report_path(data_dir, id);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let text = serde_json::to_string_pretty(report)
        .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
    // Written whole then renamed: a reader never sees half a report.
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, &path)?;
    Ok(())
}

fn node_answer(node: &str, answer: Result<Answer, nixdeck_engine::ssh::SshError>) -> NodeAnswer {
    let mut out = NodeAnswer {
        node: node.to_string(),
        state: String::new(),
        after_ms: None,
        error: None,
        answered_again: false,
    };
    match answer {
        Ok(Answer::Answered { after }) => {
            out.state = "answered".into();
            out.after_ms = Some(u64::try_from(after.as_millis()).unwrap_or(u64::MAX));
        }
        Ok(Answer::Silent { tries, last_error }) => {
            out.state = "silent".into();
            out.error = Some(format!("no SSH login in {tries} tries: {last_error}"));
        }
        Err(e) => {
            out.state = "refused".into();
            out.error = Some(e.to_string());
        }
    }
    out
}

/// What the safety net needs, owned, so that it can run after the deploy
/// job ends without holding on to the [`Api`].
struct SafetyNet {
    data_dir: PathBuf,
    jobs: JobManager,
    connect: ConnectOptions,
}

impl SafetyNet {
    async fn run(&self, repo: &Path, id: JobId) -> ApiResult<SafetyReport> {
        let record = self.jobs.get(id)?;
        if record.kind != JobKind::Deploy || record.result != JobResult::Succeeded {
            return Err(ApiError::invalid(format!(
                "job {id} is not a successful deploy: the safety net checks nodes after colmena switched them"
            )));
        }
        let nodes = engine_safety::nodes_to_check(&record)?;
        let limit = answer_limit();
        let mut report = SafetyReport {
            job_id: id.to_string(),
            repo: repo.to_path_buf(),
            checking: true,
            limit_secs: limit.as_secs(),
            nodes: nodes
                .iter()
                .map(|n| NodeAnswer {
                    node: n.clone(),
                    state: "checking".into(),
                    after_ms: None,
                    error: None,
                    answered_again: false,
                })
                .collect(),
            recorded: Vec::new(),
        };
        save_report(&self.data_dir, id, &report)?;
        let targets = read_targets(repo).await?;
        let mut set = JoinSet::new();
        for (index, node) in nodes.iter().enumerate() {
            let target: Option<SshTarget> = targets.find(node).ok().map(|(_, t)| ssh_target(t));
            let connect = self.connect.clone();
            let node = node.clone();
            set.spawn(async move {
                let answer = match target {
                    Some(t) => node_answer(
                        &node,
                        engine_safety::check_answers(&t, &connect, limit).await,
                    ),
                    None => NodeAnswer {
                        node: node.clone(),
                        state: "refused".into(),
                        after_ms: None,
                        error: Some(format!("{node} is not a host of the repository any more")),
                        answered_again: false,
                    },
                };
                (index, answer)
            });
        }
        while let Some(joined) = set.join_next().await {
            if let Ok((index, answer)) = joined {
                report.nodes[index] = answer;
                save_report(&self.data_dir, id, &report)?;
            }
        }
        // What the nodes that answered run now is what this deploy put there.
        for answer in report.nodes.iter().filter(|a| a.state == "answered") {
            let Ok((_, target)) = targets.find(&answer.node) else {
                continue;
            };
            let recorded = engine::record_deployed_system(
                &self.jobs,
                Some(id),
                &answer.node,
                &ssh_target(target),
                &self.connect,
            )
            .await;
            if recorded.is_ok() {
                report.recorded.push(answer.node.clone());
            }
        }
        report.checking = false;
        save_report(&self.data_dir, id, &report)?;
        Ok(report)
    }
}

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
    /// The verdict alone, for a narrow column (`unknown`, without the why).
    pub short: String,
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
    let short = match &verdict.drift {
        Drift::Unknown(_) => "unknown".to_string(),
        other => other.label(),
    };
    DriftView {
        short,
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
                let status = {
                    // The semaphores are never closed, so acquiring only waits.
                    let _slot = probes.acquire_owned().await.ok();
                    engine::status(&ssh_target(&target), &connect).await
                };
                // Only a host that answered has a system to compare: an
                // unreachable one is reported at once instead of queueing
                // behind the (slow, two at a time) evaluations — in a
                // 100-host fleet of which most are down that is the
                // difference between seconds and minutes.
                let flake = if status.is_ok() {
                    let _slot = evals.acquire_owned().await.ok();
                    engine::flake_toplevel(&tools, &repo, &target.name, FLAKE_EVAL_LIMIT).await
                } else {
                    Err(FlakeEvalError::Skipped("the host did not answer"))
                };
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

    fn safety_net(&self) -> ApiResult<SafetyNet> {
        Ok(SafetyNet {
            data_dir: self.data_dir.clone(),
            jobs: self.jobs()?.clone(),
            connect: self.status_connect(),
        })
    }

    /// The deploy safety net for job `id` (a deploy that succeeded): each node
    /// colmena activated must accept an SSH login again within a limit (60 s;
    /// `NIXDECK_SAFETY_LIMIT_SECS`); the system each answering node runs is
    /// recorded as this deploy's (the drift check's fallback). The report is
    /// kept with the job, so the job screen and `nixdeck deploy` show it.
    pub async fn deploy_safety_net(&self, repo: &Path, id: JobId) -> ApiResult<SafetyReport> {
        self.safety_net()?.run(repo, id).await
    }

    /// Runs [`Api::deploy_safety_net`] once job `id` ends, if it succeeded, in
    /// the background: how a deploy started from any front end gets it.
    pub(crate) fn safety_net_after(&self, repo: &Path, id: JobId) {
        let Ok(net) = self.safety_net() else {
            return;
        };
        let repo = repo.to_path_buf();
        tokio::spawn(async move {
            if let Ok(outcome) = net.jobs.wait(id).await {
                if outcome.result == JobResult::Succeeded {
                    // Its errors are in the report (or there is none to show).
                    let _ = net.run(&repo, id).await;
                }
            }
        });
    }

    /// The safety report of job `id`, when its safety net has run or runs.
    pub fn deploy_safety(&self, id: JobId) -> ApiResult<Option<SafetyReport>> {
        let path = report_path(&self.data_dir, id);
        let Ok(text) = std::fs::read_to_string(&path) else {
            return Ok(None);
        };
        serde_json::from_str(&text).map(Some).map_err(|e| {
            ApiError::new(
                ErrorCode::Internal,
                format!("{} could not be read: {e}", path.display()),
            )
        })
    }

    /// Waits (up to `limit`) for job `id`'s safety report to be complete.
    pub async fn wait_deploy_safety(
        &self,
        id: JobId,
        limit: Duration,
    ) -> ApiResult<Option<SafetyReport>> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let report = self.deploy_safety(id)?;
            let job_done = self
                .jobs()?
                .get(id)
                .map(|r| r.result != JobResult::Running)
                .unwrap_or(true);
            match &report {
                Some(r) if !r.checking => return Ok(report),
                None if job_done && self.jobs()?.get(id)?.result != JobResult::Succeeded => {
                    return Ok(None)
                }
                _ => {}
            }
            if tokio::time::Instant::now() > deadline {
                return Ok(report);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Checks `node` of deploy job `id` again (for up to 10 s); a node that
    /// did not answer and answers now is marked so the rollback is offered.
    pub async fn recheck_node(&self, id: JobId, node: &str) -> ApiResult<SafetyReport> {
        let mut report = self
            .deploy_safety(id)?
            .ok_or_else(|| ApiError::invalid(format!("job {id} has no safety check to repeat")))?;
        let index = report
            .nodes
            .iter()
            .position(|n| n.node == node)
            .ok_or_else(|| ApiError::invalid(format!("{node} was not checked after job {id}")))?;
        let target = find_target(&report.repo, node).await?;
        let was = report.nodes[index].state.clone();
        let mut answer = node_answer(
            node,
            engine_safety::check_answers(
                &ssh_target(&target),
                &self.status_connect(),
                RECHECK_LIMIT,
            )
            .await,
        );
        answer.answered_again =
            answer.state == "answered" && (was != "answered" || report.nodes[index].answered_again);
        report.nodes[index] = answer;
        save_report(&self.data_dir, id, &report)?;
        Ok(report)
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
