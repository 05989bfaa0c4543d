//! Day two: fleet status streamed row by row as hosts answer, a host's
//! generations, rollback as a job, and what each deploy goal risks.

use crate::desktop::notify_when_done;
use crate::AppState;
use nixdeck_api::jobs::{parse_job_id, StartedJob};
use nixdeck_api::status::{GenerationsView, GoalRisk, HostRow, SafetyReport};
use nixdeck_api::ApiResult;
use nixdeck_core::tools::rollback::RollbackTo;
use std::path::Path;
use tauri::ipc::Channel;
use tauri::State;

/// Every host the filter selects (all when empty), each row sent on
/// `on_row` as its host answers; answers with all rows in the repository's
/// order when the last one is in.
#[tauri::command(async)]
pub async fn fleet_status(
    state: State<'_, AppState>,
    repo: String,
    filter: Option<String>,
    on_row: Channel<HostRow>,
) -> ApiResult<Vec<HostRow>> {
    let send = move |row: &HostRow| {
        // A closed window drops the channel; the remaining probes still end.
        let _ = on_row.send(row.clone());
    };
    state
        .api
        .fleet_status(Path::new(&repo), filter.as_deref(), send)
        .await
}

#[tauri::command(async)]
pub async fn host_generations(
    state: State<'_, AppState>,
    repo: String,
    host: String,
) -> ApiResult<GenerationsView> {
    state.api.generations(Path::new(&repo), &host).await
}

/// Rolls back to `to` (a generation number), or to the previous generation
/// when `to` is absent; `confirm` is the host's name typed again.
#[tauri::command(async)]
pub async fn start_rollback(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    repo: String,
    host: String,
    to: Option<u32>,
    confirm: String,
) -> ApiResult<StartedJob> {
    let sink = notify_when_done(&app, format!("Roll back {host}"));
    let to = to.map_or(RollbackTo::Previous, RollbackTo::Generation);
    state
        .api
        .start_rollback(Path::new(&repo), &host, to, &confirm, Some(sink))
        .await
}

#[tauri::command(async)]
pub fn deploy_goal_risks(state: State<'_, AppState>) -> Vec<GoalRisk> {
    state.api.deploy_goal_risks()
}

/// The deploy safety net's report for job `id`, when it has one.
#[tauri::command(async)]
pub fn deploy_safety(state: State<'_, AppState>, id: String) -> ApiResult<Option<SafetyReport>> {
    state.api.deploy_safety(parse_job_id(&id)?)
}

/// Checks whether `node` of deploy job `id` answers over SSH now.
#[tauri::command(async)]
pub async fn recheck_node(
    state: State<'_, AppState>,
    id: String,
    node: String,
) -> ApiResult<SafetyReport> {
    state.api.recheck_node(parse_job_id(&id)?, &node).await
}
