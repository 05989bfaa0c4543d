//! The start screen: doctor, recent repositories, open and create.

use crate::AppState;
use nixdeck_api::ApiResult;
use nixdeck_core::repo::RepoView;
use nixdeck_engine::doctor::DoctorReport;
use nixdeck_engine::recent::RecentRepo;
use std::path::Path;
use tauri::State;

#[tauri::command(async)]
pub async fn doctor_report(state: State<'_, AppState>) -> Result<DoctorReport, ()> {
    Ok(state.api.doctor_report().await)
}

#[tauri::command(async)]
pub fn list_recent_repos(state: State<'_, AppState>) -> Vec<RecentRepo> {
    state.api.recent_repos()
}

#[tauri::command(async)]
pub fn forget_recent_repo(state: State<'_, AppState>, path: String) -> ApiResult<Vec<RecentRepo>> {
    state.api.forget_recent_repo(Path::new(&path))
}

#[tauri::command(async)]
pub async fn open_repo(state: State<'_, AppState>, path: String) -> ApiResult<RepoView> {
    state.api.open_repo(Path::new(&path)).await
}

#[tauri::command(async)]
pub async fn create_repo(
    state: State<'_, AppState>,
    path: String,
    nixpkgs: String,
) -> ApiResult<RepoView> {
    state.api.create_repo(Path::new(&path), &nixpkgs).await
}
