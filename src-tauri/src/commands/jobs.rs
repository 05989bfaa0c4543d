//! Jobs from the window: validate, install and redeploy through the engine's
//! job manager, streamed over a `Channel<JobEvent>`, with their history, the
//! watchdog's notices, the recogniser's explanation, and the after-install steps.
//!
//! The install seam (`start_install`) runs the safety checks of issue 9 first:
//! preflight on the host's stored facts and its layout, then a fresh probe whose
//! disks must match, one by one, the disks confirmed on review.

use crate::error::{ErrorCode, IpcError, IpcResult};
use crate::state::AppState;
use nixdeck_core::facts::HostFacts;
use nixdeck_core::preflight::{DiskIdentity, IdentityChange, Preflight, Rule};
use nixdeck_core::repo::{HostName, HostSummary};
use nixdeck_core::tools::explain::{self, Explanation, Tool};
use nixdeck_core::tools::plan::{
    DeployGoal, DeployOptions, HostTarget, InstallOptions, ToolSettings,
};
use nixdeck_core::tools::watchdog::{Alert, Watchdog, WatchdogConfig};
use nixdeck_engine::jobs::{requests, JobError, JobId, JobKind, JobManager, JobRecord};
use nixdeck_engine::runner::progress::{DeployProgress, InstallProgress};
use nixdeck_engine::runner::{EventSink, JobEvent, JobResult, LineObserver, PlainOutput};
use nixdeck_engine::{facts_store, install};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tauri::ipc::Channel;
use tauri::State;

/// The app's jobs: the engine's manager plus the watchdog notices of the jobs
/// started in this window.
pub struct AppJobs {
    manager: Result<JobManager, String>,
    alerts: Arc<Mutex<HashMap<JobId, Vec<Alert>>>>,
}

impl AppJobs {
    /// Opens the history in `data_dir`; a failure is reported on first use.
    pub fn open(data_dir: &Path) -> Self {
        Self {
            manager: JobManager::open(data_dir).map_err(|e| e.to_string()),
            alerts: Arc::default(),
        }
    }

    fn manager(&self) -> IpcResult<&JobManager> {
        self.manager.as_ref().map_err(|e| {
            IpcError::new(
                ErrorCode::Internal,
                format!("the job history is unavailable: {e}"),
            )
            .with_hint("Check that nixdeck's data directory is writable (NIXDECK_DATA_DIR).")
        })
    }
}

impl From<JobError> for IpcError {
    fn from(err: JobError) -> Self {
        let code = match &err {
            JobError::NotFound(_) => ErrorCode::NotFound,
            JobError::HostBusy { .. } => ErrorCode::Conflict,
            JobError::NotRunningHere(_) => ErrorCode::Conflict,
            JobError::Run(nixdeck_engine::runner::RunError::ToolMissing { .. }) => {
                ErrorCode::ToolMissing
            }
            JobError::Plan(_) | JobError::DeployPlan(_) | JobError::NothingSelected(_) => {
                ErrorCode::Validation
            }
            _ => ErrorCode::Internal,
        };
        IpcError::new(code, err.to_string())
    }
}

/// What a start command answers: the job to open (serde camelCase, the wizard's seam).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StartedJob {
    pub job_id: String,
}

fn parse_id(id: &str) -> IpcResult<JobId> {
    id.parse()
        .map_err(|_| IpcError::new(ErrorCode::Validation, format!("{id:?} is not a job number")))
}

/// The flake's hosts as the command builders need them.
async fn repo_hosts(repo: &Path) -> IpcResult<Vec<(HostSummary, HostTarget)>> {
    let view = nixdeck_engine::repo::open_repo(repo).await?;
    Ok(view
        .hosts
        .into_iter()
        .filter(|h| h.valid_name)
        .map(|h| {
            let target = HostTarget {
                name: h.name.clone(),
                address: h.address.clone().unwrap_or_else(|| h.name.clone()),
                user: h.user.clone().unwrap_or_else(|| "root".into()),
                port: h.port,
                tags: h.tags.clone(),
                build_on_target: h.build_on_target.unwrap_or(false),
            };
            (h, target)
        })
        .collect())
}

async fn settings() -> ToolSettings {
    ToolSettings {
        flakes_enabled: nixdeck_engine::jobs::flakes_enabled().await,
        tools_from_path: false,
        ..ToolSettings::default()
    }
}

/// The watchdog's limits: the defaults, or one uniform limit from
/// `NIXDECK_WATCHDOG_SILENCE_SECS` (tests and demos, like the CLI's flag).
fn watchdog_config() -> WatchdogConfig {
    match std::env::var("NIXDECK_WATCHDOG_SILENCE_SECS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
    {
        Some(secs) => WatchdogConfig::uniform(Duration::from_secs(secs)),
        None => WatchdogConfig::default(),
    }
}

/// Starts `request` with a watchdog that records its notices for `job_alerts`.
/// Jobs shorter than this end without a desktop notification.
const NOTIFY_AFTER: Duration = Duration::from_secs(20);

/// Tells the desktop that a long job ended while the window was in the background.
fn notify_end(app: &tauri::AppHandle, what: &str, result: JobResult, took: Duration) {
    use tauri::Manager;
    use tauri_plugin_notification::NotificationExt;
    if took < NOTIFY_AFTER {
        return;
    }
    let focused = app
        .get_webview_window("main")
        .and_then(|w| w.is_focused().ok())
        .unwrap_or(false);
    if focused {
        return;
    }
    // A desktop without a notification service just gets none.
    let _ = app
        .notification()
        .builder()
        .title(format!("{what}: {}", result.as_str()))
        .body(format!("nixdeck: the job ran for {} s.", took.as_secs()))
        .show();
}

fn start_watched(
    app: &tauri::AppHandle,
    jobs: &AppJobs,
    request: nixdeck_engine::jobs::JobRequest,
) -> IpcResult<JobId> {
    let what = format!(
        "{} {}",
        match request.kind {
            JobKind::Install => "Install",
            JobKind::Deploy => "Redeploy",
            JobKind::Validate => "Validate",
            JobKind::Lock => "Lock",
        },
        request.hosts.join(", ")
    );
    let tool = match request.kind {
        JobKind::Install => Some(Tool::NixosAnywhere),
        JobKind::Deploy => Some(Tool::Colmena),
        _ => None,
    };
    let Some(tool) = tool else {
        let started = Instant::now();
        let app = app.clone();
        let sink = move |event: &JobEvent| {
            if let JobEvent::Finished { outcome } = event {
                notify_end(&app, &what, outcome.result, started.elapsed());
            }
            true
        };
        return Ok(jobs.manager()?.start(request, Some(Arc::new(sink)))?);
    };
    let dog = Arc::new(Mutex::new(Watchdog::new(tool, watchdog_config())));
    let started = Instant::now();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sink_dog = dog.clone();
    let sink_done = done.clone();
    let sink_app = app.clone();
    let sink = move |event: &JobEvent| {
        match event {
            JobEvent::Lines { lines, .. } => {
                let mut dog = sink_dog.lock().unwrap_or_else(|e| e.into_inner());
                let now = started.elapsed();
                for line in lines {
                    dog.on_line(now, line);
                }
            }
            JobEvent::Finished { outcome } => {
                sink_done.store(true, std::sync::atomic::Ordering::SeqCst);
                notify_end(&sink_app, &what, outcome.result, started.elapsed());
            }
            _ => {}
        }
        true
    };
    let id = jobs.manager()?.start(request, Some(Arc::new(sink)))?;
    let alerts = jobs.alerts.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let found = dog
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .check(started.elapsed());
            if !found.is_empty() {
                alerts
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .entry(id)
                    .or_default()
                    .extend(found);
            }
            if done.load(std::sync::atomic::Ordering::SeqCst) {
                break;
            }
        }
    });
    Ok(id)
}

// ---------------------------------------------------------------- history

/// Every job, newest first; only those touching `host` when given.
#[tauri::command(async)]
pub fn list_jobs(state: State<'_, AppState>, host: Option<String>) -> IpcResult<Vec<JobRecord>> {
    let all = state.jobs.manager()?.list()?;
    Ok(match host {
        Some(h) => all.into_iter().filter(|j| j.hosts.contains(&h)).collect(),
        None => all,
    })
}

/// One job's record.
#[tauri::command(async)]
pub fn get_job(state: State<'_, AppState>, id: String) -> IpcResult<JobRecord> {
    Ok(state.jobs.manager()?.get(parse_id(&id)?)?)
}

/// Streams job `id` to `on_event`: its stored lines from `from_seq` on, then
/// live events (batched by the runner) while it runs.
#[tauri::command(async)]
pub fn attach_job(
    state: State<'_, AppState>,
    id: String,
    from_seq: u64,
    on_event: Channel<JobEvent>,
) -> IpcResult<()> {
    let manager = state.jobs.manager()?;
    let id = parse_id(&id)?;
    let record = manager.get(id)?;
    let live = manager.process_group(id).is_some();
    let sink = move |event: &JobEvent| on_event.send(event.clone()).is_ok();
    let sink: Arc<dyn EventSink> = if live {
        Arc::new(sink)
    } else {
        // A finished job's log holds only lines: read them again with the same
        // parsers the live run used, so its steps and nodes show as they were
        // (without timings: the log has none).
        Arc::new(ReplayProgress::new(record.kind, sink))
    };
    Ok(manager.attach(id, from_seq, sink)?)
}

/// Adds the progress parsers' phases to a replayed log's lines.
struct ReplayProgress<S> {
    observer: Mutex<Box<dyn LineObserver>>,
    sink: S,
}

impl<S> ReplayProgress<S> {
    fn new(kind: JobKind, sink: S) -> Self {
        let observer: Box<dyn LineObserver> = match kind {
            JobKind::Install => Box::new(InstallProgress::new()),
            JobKind::Deploy => Box::new(DeployProgress::new()),
            JobKind::Lock | JobKind::Validate => Box::new(PlainOutput),
        };
        Self {
            observer: Mutex::new(observer),
            sink,
        }
    }
}

impl<S: Fn(&JobEvent) -> bool + Send + Sync> EventSink for ReplayProgress<S> {
    fn send(&self, event: &JobEvent) -> bool {
        if !(self.sink)(event) {
            return false;
        }
        if let JobEvent::Lines {
            stream,
            first_seq,
            lines,
        } = event
        {
            let mut observer = self.observer.lock().unwrap_or_else(|e| e.into_inner());
            for (i, line) in lines.iter().enumerate() {
                for phase in observer.on_line(*stream, first_seq + i as u64, line, Duration::ZERO) {
                    if !(self.sink)(&JobEvent::Phase(phase)) {
                        return false;
                    }
                }
            }
        }
        true
    }
}

/// Cancels job `id` (SIGTERM to its process group, SIGKILL after a grace period).
#[tauri::command(async)]
pub fn cancel_job(state: State<'_, AppState>, id: String) -> IpcResult<()> {
    Ok(state.jobs.manager()?.cancel(parse_id(&id)?)?)
}

/// What the watchdog noticed in job `id` so far (silent steps, loops).
#[tauri::command(async)]
pub fn job_alerts(state: State<'_, AppState>, id: String) -> IpcResult<Vec<Alert>> {
    let id = parse_id(&id)?;
    Ok(state
        .jobs
        .alerts
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&id)
        .cloned()
        .unwrap_or_default())
}

/// The recogniser's reading of a job's log: outcome, steps, failing step,
/// decisive lines and what to do next.
#[tauri::command(async)]
pub fn explain_job(state: State<'_, AppState>, id: String) -> IpcResult<Explanation> {
    let record = state.jobs.manager()?.get(parse_id(&id)?)?;
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

// ---------------------------------------------------------------- validate, deploy

/// `nix build` of `host`'s system.
#[tauri::command(async)]
pub async fn start_validate(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    repo: String,
    host: String,
) -> IpcResult<StartedJob> {
    let repo = PathBuf::from(repo);
    let request = requests::validate_request(&settings().await, &repo, &host)?;
    let id = start_watched(&app, &state.jobs, request)?;
    Ok(StartedJob {
        job_id: id.to_string(),
    })
}

/// The hosts a colmena `--on` filter selects, in the repository's order, and
/// the command that would run; an empty selection is an error in words.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeployPreview {
    pub selected: Vec<String>,
    pub argv: Vec<String>,
}

fn deploy_options(
    filter: &str,
    goal: Option<String>,
    build_on_target: bool,
    reboot: bool,
) -> IpcResult<DeployOptions> {
    let goal = match goal.as_deref() {
        None | Some("") => None,
        Some(g) => Some(
            g.parse::<DeployGoal>()
                .map_err(|e| IpcError::new(ErrorCode::Validation, e.to_string()))?,
        ),
    };
    Ok(DeployOptions {
        goal,
        on: Some(filter.to_string()),
        build_on_target,
        reboot,
        parallel: None,
    })
}

/// The colmena run for `filter` over the repository's hosts: what the preview shows
/// is exactly what starts.
async fn deploy_request(
    repo: &Path,
    filter: &str,
    goal: Option<String>,
    build_on_target: bool,
    reboot: bool,
) -> IpcResult<nixdeck_engine::jobs::JobRequest> {
    let hosts: Vec<HostTarget> = repo_hosts(repo)
        .await?
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    let options = deploy_options(filter, goal, build_on_target, reboot)?;
    Ok(requests::deploy_request(
        &settings().await,
        repo,
        &hosts,
        &options,
    )?)
}

/// Shows what a redeploy would do before it runs.
#[tauri::command(async)]
pub async fn preview_deploy(
    repo: String,
    filter: String,
    goal: Option<String>,
    build_on_target: bool,
    reboot: bool,
) -> IpcResult<DeployPreview> {
    let request = deploy_request(Path::new(&repo), &filter, goal, build_on_target, reboot).await?;
    Ok(DeployPreview {
        selected: request.hosts.clone(),
        argv: request.command.redacted_argv(),
    })
}

/// colmena apply on the hosts `filter` selects.
#[tauri::command(async)]
pub async fn start_deploy(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    repo: String,
    filter: String,
    goal: Option<String>,
    build_on_target: bool,
    reboot: bool,
) -> IpcResult<StartedJob> {
    let request = deploy_request(Path::new(&repo), &filter, goal, build_on_target, reboot).await?;
    let id = start_watched(&app, &state.jobs, request)?;
    Ok(StartedJob {
        job_id: id.to_string(),
    })
}

// ---------------------------------------------------------------- facts and install

fn check_host_name(host: &str) -> IpcResult<()> {
    host_name(host).map(|_| ())
}

fn host_name(host: &str) -> IpcResult<HostName> {
    HostName::new(host).map_err(|e| IpcError::new(ErrorCode::Validation, e.to_string()))
}

/// Stores `facts` with the host (`nixdeck_engine::facts_store`: `.nixdeck/facts/`).
fn save_facts(repo: &Path, host: &str, facts: &HostFacts) -> IpcResult<()> {
    facts_store::save(repo, &host_name(host)?, facts)?;
    Ok(())
}

/// Keeps the facts the user saw (the probe's, as shown on review) for the
/// install's preflight and disk re-check.
#[tauri::command(async)]
pub fn record_host_facts(repo: String, host: String, facts: HostFacts) -> IpcResult<()> {
    save_facts(Path::new(&repo), &host, &facts)
}

/// The facts recorded for `host`, if any.
#[tauri::command(async)]
pub fn host_facts(repo: String, host: String) -> IpcResult<Option<HostFacts>> {
    Ok(facts_store::load(Path::new(&repo), &host_name(&host)?))
}

/// nixos-anywhere's options from the window: the key the probe used, the rest default.
fn install_options(identity_file: Option<&str>) -> InstallOptions {
    InstallOptions {
        identity_file: identity_file.map(str::to_string),
        ..InstallOptions::default()
    }
}

/// Maps the engine's install checks to what the window shows, with what to do.
fn install_error(err: install::InstallCheckError) -> IpcError {
    use install::InstallCheckError as E;
    match err {
        E::Layout(e) => IpcError::new(ErrorCode::Validation, e.to_string()).with_hint(
            "The host needs a disk layout (hosts/<host>/disko.nix) before it can be installed.",
        ),
        E::Probe(e) => IpcError::from(e),
        E::Preflight(e) => IpcError::new(ErrorCode::Validation, e.to_string()).with_hint(
            "Fix the errors on the target (or in the layout), or acknowledge the warnings, then try again.",
        ),
        e @ E::DisksChanged { .. } => IpcError::new(ErrorCode::Conflict, e.to_string())
            .with_hint("Probe the host again and review the layout against the disks it has now."),
    }
}

/// The checks before an install, as the review step and the host page show them.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InstallCheck {
    pub preflight: Preflight,
    /// The disks the layout erases, as confirmed (from the recorded facts).
    pub confirmed: Vec<DiskIdentity>,
    /// Differences found by a fresh probe (only when `reprobe` was asked).
    pub changes: Vec<IdentityChange>,
    /// The command line that will run (secrets redacted).
    pub argv: Vec<String>,
}

async fn install_check_inner(
    repo: &Path,
    host: &str,
    reprobe: bool,
    identity_file: Option<&str>,
) -> IpcResult<(InstallCheck, HostTarget)> {
    check_host_name(host)?;
    let hosts = repo_hosts(repo).await?;
    let Some((summary, target)) = hosts.into_iter().find(|(h, _)| h.name == host) else {
        return Err(IpcError::new(
            ErrorCode::NotFound,
            format!("{host} is not a host of this repository"),
        ));
    };
    let facts = facts_store::load(repo, &host_name(host)?).ok_or_else(|| {
        IpcError::new(
            ErrorCode::Validation,
            format!("nixdeck has no probed facts for {host}"),
        )
        .with_hint(
            "Probe the host first (Re-probe on the host page, or the wizard's connect step).",
        )
    })?;
    let ssh = nixdeck_engine::ssh::SshTarget {
        host: target.address.clone(),
        port: target.port,
        user: Some(target.user.clone()),
    };
    // The re-probe logs in as nixos-anywhere will: with the key given by `-i`, if any.
    let connect = nixdeck_engine::ssh::ConnectOptions {
        auth: identity_file.map_or(nixdeck_engine::ssh::Auth::Default, |key| {
            nixdeck_engine::ssh::Auth::KeyFile(PathBuf::from(key))
        }),
        ..Default::default()
    };
    let reprobe = reprobe.then_some(install::Reprobe {
        target: &ssh,
        connect: &connect,
    });
    let check = install::check(repo, host, summary.system.as_deref(), &facts, reprobe)
        .await
        .map_err(install_error)?;
    let argv = requests::install_request(
        &settings().await,
        repo,
        &target,
        &install_options(identity_file),
        None,
    )?
    .command
    .redacted_argv();
    Ok((
        InstallCheck {
            preflight: check.preflight,
            confirmed: check.confirmed,
            changes: check.changes,
            argv,
        },
        target,
    ))
}

/// Preflight for `host` from its recorded facts and layout (no connection).
#[tauri::command(async)]
pub async fn install_check(repo: String, host: String) -> IpcResult<InstallCheck> {
    Ok(install_check_inner(Path::new(&repo), &host, false, None)
        .await?
        .0)
}

/// Installs NixOS on `host` with nixos-anywhere: the typed confirmation, the
/// preflight (errors block, warnings need `acknowledged`), the disk identity
/// re-check on a fresh probe, then the job.
#[tauri::command(async)]
pub async fn start_install(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    repo: String,
    host: String,
    confirm: String,
    acknowledged: Vec<String>,
    identity_file: Option<String>,
) -> IpcResult<StartedJob> {
    if confirm != host {
        return Err(IpcError::new(
            ErrorCode::Validation,
            format!("type the host name {host} to confirm: the install ERASES its disks"),
        ));
    }
    let repo = PathBuf::from(repo);
    let (check, target) = install_check_inner(&repo, &host, true, identity_file.as_deref()).await?;
    let acknowledged: Vec<Rule> = acknowledged
        .iter()
        .filter_map(|r| serde_json::from_value(serde_json::Value::String(r.clone())).ok())
        .collect();
    install::InstallCheck {
        preflight: check.preflight,
        confirmed: check.confirmed,
        changes: check.changes,
    }
    .may_start(&host, &acknowledged)
    .map_err(install_error)?;
    let request = requests::install_request(
        &settings().await,
        &repo,
        &target,
        &install_options(identity_file.as_deref()),
        None,
    )?;
    let id = start_watched(&app, &state.jobs, request)?;
    Ok(StartedJob {
        job_id: id.to_string(),
    })
}

// ---------------------------------------------------------------- after the install

/// Where the install left the hardware configuration.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HardwareStatus {
    /// Repository-relative path.
    pub path: String,
    pub exists: bool,
    /// git knows it (so the flake sees it).
    pub tracked: bool,
    /// It has changes not committed yet.
    pub uncommitted: bool,
}

async fn git(repo: &Path, args: &[&str]) -> IpcResult<std::process::Output> {
    tokio::process::Command::new("git")
        .args(args)
        .current_dir(repo)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .map_err(|e| IpcError::new(ErrorCode::ToolMissing, format!("could not run git: {e}")))
}

fn hardware_path(host: &str) -> String {
    format!("hosts/{host}/hardware-configuration.nix")
}

/// The hardware configuration after an install: made known to git (a flake
/// sees only files git knows), and whether it still needs a commit.
#[tauri::command(async)]
pub async fn hardware_status(repo: String, host: String) -> IpcResult<HardwareStatus> {
    check_host_name(&host)?;
    let repo = PathBuf::from(repo);
    let path = hardware_path(&host);
    let exists = repo.join(&path).is_file();
    if exists {
        nixdeck_engine::repo::git::intent_to_add(&repo, std::slice::from_ref(&path))
            .await
            .map_err(|e| IpcError::new(ErrorCode::ToolMissing, e.to_string()))?;
    }
    let listed = git(&repo, &["ls-files", "--", &path]).await?;
    let tracked = !String::from_utf8_lossy(&listed.stdout).trim().is_empty();
    let status = git(&repo, &["status", "--porcelain", "--", &path]).await?;
    let uncommitted = !String::from_utf8_lossy(&status.stdout).trim().is_empty();
    Ok(HardwareStatus {
        path,
        exists,
        tracked,
        uncommitted,
    })
}

/// Commits the hardware configuration alone ("add hardware configuration for <host>").
#[tauri::command(async)]
pub async fn commit_hardware_config(repo: String, host: String) -> IpcResult<HardwareStatus> {
    check_host_name(&host)?;
    let root = PathBuf::from(&repo);
    let path = hardware_path(&host);
    let add = git(&root, &["add", "--", &path]).await?;
    if !add.status.success() {
        return Err(IpcError::new(
            ErrorCode::ProcessFailed,
            String::from_utf8_lossy(&add.stderr).trim().to_string(),
        ));
    }
    let message = format!("add hardware configuration for {host}");
    let commit = git(&root, &["commit", "--quiet", "-m", &message, "--", &path]).await?;
    if !commit.status.success() {
        return Err(IpcError::new(ErrorCode::ProcessFailed, String::from_utf8_lossy(&commit.stderr).trim().to_string())
            .with_hint("git needs a user name and e-mail (`git config user.name …`, `git config user.email …`)."));
    }
    hardware_status(repo, host).await
}

/// Re-reads `host`'s facts over SSH (agent or default keys, known host keys
/// only) and records them.
#[tauri::command(async)]
pub async fn reprobe_host(repo: String, host: String) -> IpcResult<HostFacts> {
    check_host_name(&host)?;
    let root = PathBuf::from(&repo);
    let hosts = repo_hosts(&root).await?;
    let Some((_, target)) = hosts.into_iter().find(|(h, _)| h.name == host) else {
        return Err(IpcError::new(
            ErrorCode::NotFound,
            format!("{host} is not a host of this repository"),
        ));
    };
    let ssh = nixdeck_engine::ssh::SshTarget {
        host: target.address.clone(),
        port: target.port,
        user: Some(target.user.clone()),
    };
    let facts = nixdeck_engine::probe::probe(
        &ssh,
        &nixdeck_engine::ssh::ConnectOptions::default(),
        &nixdeck_engine::probe::ProbeOptions::default(),
    )
    .await?;
    save_facts(&root, &host, &facts)?;
    Ok(facts)
}

/// A host's files for the host page: configuration.nix and disko.nix as they are.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HostFiles {
    pub configuration: Option<String>,
    pub disko: Option<String>,
    pub hardware: Option<String>,
}

/// Reads `hosts/<host>/{configuration,disko,hardware-configuration}.nix`.
#[tauri::command(async)]
pub fn host_files(repo: String, host: String) -> IpcResult<HostFiles> {
    check_host_name(&host)?;
    let dir = Path::new(&repo).join("hosts").join(&host);
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).ok();
    Ok(HostFiles {
        configuration: read("configuration.nix"),
        disko: read("disko.nix"),
        hardware: read("hardware-configuration.nix"),
    })
}

/// What the host presents now against what `~/.ssh/known_hosts` records:
/// after an install the machine has new host keys, and the old entry must go
/// (the article's `ssh-keygen -R` step) only once the user has seen both.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HostKeyCheck {
    /// `matches`, `changed`, `unknown` or `unreachable`.
    pub status: &'static str,
    /// The name known_hosts records it under (`[host]:port`).
    pub known_as: Option<String>,
    /// The recorded key's fingerprint (for `changed`).
    pub old_fingerprint: Option<String>,
    /// The presented key's fingerprint.
    pub new_fingerprint: Option<String>,
    /// Why it could not be checked (for `unreachable`).
    pub message: Option<String>,
}

async fn host_target(repo: &Path, host: &str) -> IpcResult<nixdeck_engine::ssh::SshTarget> {
    check_host_name(host)?;
    let hosts = repo_hosts(repo).await?;
    let Some((_, target)) = hosts.into_iter().find(|(h, _)| h.name == host) else {
        return Err(IpcError::new(
            ErrorCode::NotFound,
            format!("{host} is not a host of this repository"),
        ));
    };
    Ok(nixdeck_engine::ssh::SshTarget {
        host: target.address,
        port: target.port,
        user: Some(target.user),
    })
}

/// Connects to `host` with known host keys only and says whether its key changed.
#[tauri::command(async)]
pub async fn check_host_key(repo: String, host: String) -> IpcResult<HostKeyCheck> {
    use nixdeck_engine::ssh::{ConnectOptions, Session, SshError};
    let target = host_target(Path::new(&repo), &host).await?;
    let none = HostKeyCheck {
        status: "matches",
        known_as: None,
        old_fingerprint: None,
        new_fingerprint: None,
        message: None,
    };
    Ok(
        match Session::connect(&target, &ConnectOptions::default()).await {
            Ok(session) => {
                session.close().await;
                none
            }
            Err(SshError::HostKeyMismatch {
                host,
                fingerprint,
                known_fingerprint,
                ..
            }) => HostKeyCheck {
                status: "changed",
                known_as: Some(host),
                old_fingerprint: Some(known_fingerprint),
                new_fingerprint: Some(fingerprint),
                message: None,
            },
            Err(SshError::HostKeyUnknown {
                host, fingerprint, ..
            }) => HostKeyCheck {
                status: "unknown",
                known_as: Some(host),
                old_fingerprint: None,
                new_fingerprint: Some(fingerprint),
                message: None,
            },
            // The key is checked before logging in: a login failure means it matched.
            Err(e @ SshError::AuthFailed { .. }) => HostKeyCheck {
                message: Some(e.to_string()),
                ..none
            },
            Err(e) => HostKeyCheck {
                status: "unreachable",
                message: Some(e.to_string()),
                ..none
            },
        },
    )
}

/// Replaces `host`'s recorded key by the one with `fingerprint`, which the
/// user saw: `ssh-keygen -R` on the old entry, then a connection that records
/// the new key only if it still has that fingerprint.
#[tauri::command(async)]
pub async fn replace_host_key(
    repo: String,
    host: String,
    fingerprint: String,
) -> IpcResult<HostKeyCheck> {
    use nixdeck_engine::ssh::{ConnectOptions, HostKeyPolicy, Session, SshError};
    let target = host_target(Path::new(&repo), &host).await?;
    let check = check_host_key(repo.clone(), host.clone()).await?;
    if check.new_fingerprint.as_deref() != Some(fingerprint.as_str()) {
        return Err(IpcError::new(
            ErrorCode::HostKeyMismatch,
            format!(
                "{host} now presents {}, not the key {fingerprint} you confirmed",
                check.new_fingerprint.as_deref().unwrap_or("no key")
            ),
        )
        .with_hint(
            "Check the host again and compare the fingerprints before replacing anything.",
        ));
    }
    if let (Some(known_as), "changed") = (&check.known_as, check.status) {
        let known_hosts =
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".ssh/known_hosts");
        let out = tokio::process::Command::new("ssh-keygen")
            .arg("-R")
            .arg(known_as)
            .arg("-f")
            .arg(&known_hosts)
            .stdin(std::process::Stdio::null())
            .output()
            .await
            .map_err(|e| {
                IpcError::new(
                    ErrorCode::ToolMissing,
                    format!("could not run ssh-keygen: {e}"),
                )
            })?;
        if !out.status.success() {
            return Err(IpcError::new(
                ErrorCode::ProcessFailed,
                String::from_utf8_lossy(&out.stderr).trim().to_string(),
            ));
        }
    }
    let opts = ConnectOptions {
        host_keys: HostKeyPolicy::TrustFingerprint(fingerprint),
        ..Default::default()
    };
    match Session::connect(&target, &opts).await {
        Ok(session) => session.close().await,
        // Recorded before login; a login failure does not undo it.
        Err(SshError::AuthFailed { .. }) => {}
        Err(e) => return Err(nixdeck_engine::probe::ProbeError::from(e).into()),
    }
    check_host_key(repo, host).await
}
