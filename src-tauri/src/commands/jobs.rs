//! Jobs: validate, install and redeploy, streamed over a `Channel<JobEvent>`
//! (the runner's watchdog alerts arrive there too), with their history.

use crate::desktop::notify_when_done;
use crate::AppState;
use nixdeck_api::deploy::{DeployPreview, DeployRequest};
use nixdeck_api::install::{InstallCheck, InstallRequest};
use nixdeck_api::install_secrets::InstallSecrets;
use nixdeck_api::jobs::{parse_job_id, LogLines, StartedJob, ToolChoice};
use nixdeck_api::ApiResult;
use nixdeck_core::tools::explain::Explanation;
use nixdeck_core::tools::plan::InstallOptions;
use nixdeck_engine::jobs::log::Direction;
use nixdeck_engine::jobs::JobRecord;
use nixdeck_engine::runner::JobEvent;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tauri::ipc::Channel;
use tauri::State;

#[tauri::command(async)]
pub fn list_jobs(state: State<'_, AppState>, host: Option<String>) -> ApiResult<Vec<JobRecord>> {
    state.api.list_jobs(host.as_deref())
}

#[tauri::command(async)]
pub fn get_job(state: State<'_, AppState>, id: String) -> ApiResult<JobRecord> {
    state.api.get_job(parse_job_id(&id)?)
}

/// The window pages a job's lines from its log (`log_lines`): it gets counts,
/// steps, the latest lines and the end here.
#[tauri::command(async)]
pub fn attach_job(
    state: State<'_, AppState>,
    id: String,
    on_event: Channel<JobEvent>,
) -> ApiResult<()> {
    let sink = Arc::new(move |event: &JobEvent| on_event.send(event.clone()).is_ok());
    state.api.watch_job(parse_job_id(&id)?, sink)
}

#[tauri::command(async)]
pub async fn log_lines(
    state: State<'_, AppState>,
    id: String,
    from: u64,
    count: usize,
) -> ApiResult<LogLines> {
    state.api.log_lines(parse_job_id(&id)?, from, count).await
}

#[tauri::command(async)]
pub async fn log_search(
    state: State<'_, AppState>,
    id: String,
    query: String,
    from: u64,
    direction: Direction,
    ignore_case: bool,
) -> ApiResult<Option<u64>> {
    let id = parse_job_id(&id)?;
    state
        .api
        .log_search(id, query, from, direction, ignore_case)
        .await
}

#[tauri::command(async)]
pub fn cancel_job(state: State<'_, AppState>, id: String) -> ApiResult<()> {
    state.api.cancel_job(parse_job_id(&id)?)
}

#[tauri::command(async)]
pub fn explain_job(state: State<'_, AppState>, id: String) -> ApiResult<Explanation> {
    state.api.explain_job(parse_job_id(&id)?)
}

#[tauri::command(async)]
pub async fn start_validate(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    repo: String,
    host: String,
) -> ApiResult<StartedJob> {
    let sink = notify_when_done(&app, format!("Validate {host}"));
    let tools = ToolChoice::default();
    let repo = Path::new(&repo);
    state
        .api
        .start_validate(repo, &host, &tools, Some(sink))
        .await
}

fn deploy_request(
    repo: String,
    filter: String,
    goal: Option<String>,
    build_on_target: bool,
    reboot: bool,
) -> DeployRequest {
    DeployRequest {
        repo: PathBuf::from(repo),
        filter: Some(filter),
        goal,
        build_on_target,
        reboot,
        ..DeployRequest::default()
    }
}

#[tauri::command(async)]
pub async fn preview_deploy(
    state: State<'_, AppState>,
    repo: String,
    filter: String,
    goal: Option<String>,
    build_on_target: bool,
    reboot: bool,
) -> ApiResult<DeployPreview> {
    let request = deploy_request(repo, filter, goal, build_on_target, reboot);
    state.api.preview_deploy(&request).await
}

// The window names each argument; a struct would only move the list.
#[allow(clippy::too_many_arguments)]
#[tauri::command(async)]
pub async fn start_deploy(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    repo: String,
    filter: String,
    goal: Option<String>,
    build_on_target: bool,
    reboot: bool,
    allow_lockout: Option<bool>,
) -> ApiResult<StartedJob> {
    let sink = notify_when_done(&app, format!("Redeploy {filter}"));
    let mut request = deploy_request(repo, filter, goal, build_on_target, reboot);
    request.allow_lockout = allow_lockout.unwrap_or(false);
    state.api.start_deploy(&request, Some(sink)).await
}

fn install_request(repo: String, host: String, identity_file: Option<String>) -> InstallRequest {
    InstallRequest {
        repo: PathBuf::from(repo),
        host,
        options: InstallOptions {
            identity_file,
            ..InstallOptions::default()
        },
        ..InstallRequest::default()
    }
}

#[tauri::command(async)]
pub async fn install_check(
    state: State<'_, AppState>,
    repo: String,
    host: String,
) -> ApiResult<InstallCheck> {
    let request = install_request(repo, host, None);
    state.api.install_check(&request, false).await
}

// A Tauri command's arguments are the window's named fields, one each.
#[allow(clippy::too_many_arguments)]
#[tauri::command(async)]
pub async fn start_install(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    repo: String,
    host: String,
    confirm: String,
    acknowledged: Vec<String>,
    identity_file: Option<String>,
    allow_lockout: Option<bool>,
    secrets: Option<InstallSecrets>,
) -> ApiResult<StartedJob> {
    let sink = notify_when_done(&app, format!("Install {host}"));
    let mut request = install_request(repo, host, identity_file);
    request.allow_lockout = allow_lockout.unwrap_or(false);
    request.secrets = secrets.unwrap_or_default();
    let api = &state.api;
    api.start_install(&request, &confirm, &acknowledged, false, Some(sink))
        .await
}
