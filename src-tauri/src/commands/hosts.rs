//! Hosts: the wizard's identity, keys, configuration preview, probe, review and
//! write; the host page's facts, files, hardware configuration and host key.

use crate::AppState;
use nixdeck_api::host_page::{HardwareStatus, HostFiles, HostKeyCheck};
use nixdeck_api::hosts::{ConfigPreview, FieldProblem, HostReview, IdentityInput, NewHost};
use nixdeck_api::probe::{ProbeOutcome, ProbeRequest};
use nixdeck_api::ApiResult;
use nixdeck_core::facts::HostFacts;
use nixdeck_core::repo::{RepoView, SeenChange, SystemConfig, WritePlan};
use nixdeck_engine::repo::{Applied, Confirm};
use nixdeck_engine::ssh::keys::LocalKey;
use std::path::Path;
use tauri::State;

#[tauri::command(async)]
pub fn check_host_identity(
    state: State<'_, AppState>,
    repo: String,
    input: IdentityInput,
) -> Vec<FieldProblem> {
    state.api.check_host_identity(Path::new(&repo), &input)
}

#[tauri::command(async)]
pub fn check_host_name(state: State<'_, AppState>, name: String) -> Option<String> {
    state.api.check_host_name(&name)
}

#[tauri::command(async)]
pub async fn list_ssh_keys(state: State<'_, AppState>) -> Result<Vec<LocalKey>, ()> {
    Ok(state.api.local_ssh_keys().await)
}

#[tauri::command(async)]
pub fn preview_configuration(state: State<'_, AppState>, config: SystemConfig) -> ConfigPreview {
    state.api.preview_configuration(&config)
}

#[tauri::command(async)]
pub async fn review_new_host(state: State<'_, AppState>, host: NewHost) -> ApiResult<HostReview> {
    state.api.review_new_host(&host).await
}

#[tauri::command(async)]
pub async fn write_new_host(
    state: State<'_, AppState>,
    host: NewHost,
    confirm: Vec<SeenChange>,
) -> ApiResult<Applied> {
    state.api.write_new_host(&host, &confirm).await
}

#[tauri::command(async)]
pub fn plan_remove_host(
    state: State<'_, AppState>,
    repo: String,
    host: String,
) -> ApiResult<WritePlan> {
    state.api.plan_remove_host(Path::new(&repo), &host)
}

#[tauri::command(async)]
pub async fn remove_host(
    state: State<'_, AppState>,
    repo: String,
    host: String,
    confirmed: Vec<SeenChange>,
) -> ApiResult<RepoView> {
    let repo = Path::new(&repo);
    // Bound to the text the person saw in the plan, not to the path alone.
    let confirm = Confirm::Seen(confirmed);
    state.api.remove_host(repo, &host, &confirm).await?;
    state.api.read_repo(repo).await
}

#[tauri::command(async)]
pub async fn probe_host(
    state: State<'_, AppState>,
    request: ProbeRequest,
) -> ApiResult<ProbeOutcome> {
    state.api.probe_host(request).await
}

#[tauri::command(async)]
pub fn host_facts(
    state: State<'_, AppState>,
    repo: String,
    host: String,
) -> ApiResult<Option<HostFacts>> {
    state.api.host_facts(Path::new(&repo), &host)
}

#[tauri::command(async)]
pub fn record_host_facts(
    state: State<'_, AppState>,
    repo: String,
    host: String,
    facts: HostFacts,
) -> ApiResult<()> {
    state.api.record_host_facts(Path::new(&repo), &host, &facts)
}

#[tauri::command(async)]
pub async fn reprobe_host(
    state: State<'_, AppState>,
    repo: String,
    host: String,
) -> ApiResult<HostFacts> {
    state.api.reprobe_host(Path::new(&repo), &host).await
}

#[tauri::command(async)]
pub async fn host_files(
    state: State<'_, AppState>,
    repo: String,
    host: String,
) -> ApiResult<HostFiles> {
    state.api.host_files(Path::new(&repo), &host).await
}

#[tauri::command(async)]
pub async fn hardware_status(
    state: State<'_, AppState>,
    repo: String,
    host: String,
) -> ApiResult<HardwareStatus> {
    state.api.hardware_status(Path::new(&repo), &host).await
}

#[tauri::command(async)]
pub async fn commit_hardware_config(
    state: State<'_, AppState>,
    repo: String,
    host: String,
) -> ApiResult<HardwareStatus> {
    state
        .api
        .commit_hardware_config(Path::new(&repo), &host)
        .await
}

#[tauri::command(async)]
pub async fn check_host_key(
    state: State<'_, AppState>,
    repo: String,
    host: String,
) -> ApiResult<HostKeyCheck> {
    state.api.check_host_key(Path::new(&repo), &host).await
}

#[tauri::command(async)]
pub async fn replace_host_key(
    state: State<'_, AppState>,
    repo: String,
    host: String,
    fingerprint: String,
) -> ApiResult<HostKeyCheck> {
    let repo = Path::new(&repo);
    state.api.replace_host_key(repo, &host, &fingerprint).await
}
