//! The visual disk editor.

use crate::AppState;
use nixdeck_api::ApiResult;
use nixdeck_core::disko::edit::{LayoutEdit, LayoutView};
use nixdeck_core::disko::templates::TemplateInfo;
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
) -> ApiResult<LayoutView> {
    state
        .api
        .apply_layout_edit(Path::new(&repo), &host, &layout, &edit)
}

#[tauri::command(async)]
pub fn layout_view(
    state: State<'_, AppState>,
    repo: String,
    host: String,
    layout: Value,
) -> ApiResult<LayoutView> {
    state.api.layout_view(Path::new(&repo), &host, &layout)
}
