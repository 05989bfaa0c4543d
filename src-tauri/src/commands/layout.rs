//! The visual disk editor.

use crate::AppState;
use nixdeck_api::layouts::{DiskCheckView, LayoutSavePlan, LayoutUpdate};
use nixdeck_api::ApiResult;
use nixdeck_core::disko::edit::{LayoutEdit, LayoutView};
use nixdeck_core::disko::templates::TemplateInfo;
use nixdeck_engine::repo::Applied;
use serde_json::Value;
use std::path::Path;
use tauri::State;

#[tauri::command(async)]
pub fn layout_templates(state: State<'_, AppState>) -> Vec<TemplateInfo> {
    state.api.layout_templates()
}

#[tauri::command(async)]
pub fn layout_from_template(
    state: State<'_, AppState>,
    repo: String,
    host: String,
    name: String,
    disks: Vec<String>,
) -> ApiResult<LayoutView> {
    state
        .api
        .layout_from_template(Path::new(&repo), &host, &name, &disks)
}

#[tauri::command(async)]
pub async fn layout_from_repo(
    state: State<'_, AppState>,
    repo: String,
    host: String,
) -> ApiResult<Option<LayoutView>> {
    state.api.layout_from_repo(Path::new(&repo), &host).await
}

#[tauri::command(async)]
pub fn apply_layout_edit(
    state: State<'_, AppState>,
    repo: String,
    host: String,
    layout: Value,
    edit: LayoutEdit,
    base: Option<String>,
) -> ApiResult<LayoutUpdate> {
    state
        .api
        .apply_layout_edit(Path::new(&repo), &host, &layout, &edit, base.as_deref())
}

#[tauri::command(async)]
pub fn layout_view(
    state: State<'_, AppState>,
    repo: String,
    host: String,
    layout: Value,
    base: Option<String>,
) -> ApiResult<LayoutUpdate> {
    state
        .api
        .layout_view(Path::new(&repo), &host, &layout, base.as_deref())
}

/// Saving an installed host's edited layout: the write and what applying means.
#[tauri::command(async)]
pub async fn plan_layout_save(
    state: State<'_, AppState>,
    repo: String,
    host: String,
    layout: Value,
) -> ApiResult<LayoutSavePlan> {
    state
        .api
        .plan_layout_save(Path::new(&repo), &host, &layout)
        .await
}

#[tauri::command(async)]
pub async fn save_layout(
    state: State<'_, AppState>,
    repo: String,
    host: String,
    layout: Value,
    confirm: Vec<String>,
) -> ApiResult<Applied> {
    state
        .api
        .save_layout(Path::new(&repo), &host, &layout, &confirm)
        .await
}

/// The disks as probed (again, when `reprobe`) beside the host's layout.
#[tauri::command(async)]
pub async fn disk_check(
    state: State<'_, AppState>,
    repo: String,
    host: String,
    reprobe: bool,
) -> ApiResult<DiskCheckView> {
    state.api.disk_check(Path::new(&repo), &host, reprobe).await
}

/// After install job `id`: its host probed again as the install logged in,
/// its disks beside the layout that was applied.
#[tauri::command(async)]
pub async fn disk_check_after_install(
    state: State<'_, AppState>,
    id: String,
) -> ApiResult<DiskCheckView> {
    let id = nixdeck_api::jobs::parse_job_id(&id)?;
    state.api.disk_check_after_install(id).await
}
