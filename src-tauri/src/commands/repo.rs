use crate::error::IpcResult;
use crate::state::AppState;
use nixdeck_core::repo::{FlakeSpec, RepoView};
use nixdeck_engine::recent::RecentRepo;
use nixdeck_engine::repo::{self, Confirm};
use std::path::PathBuf;
use tauri::State;
use tauri_plugin_dialog::DialogExt;

/// Repositories opened before, most recent first.
#[tauri::command(async)]
pub fn list_recent_repos(state: State<'_, AppState>) -> Vec<RecentRepo> {
    state.recent.list()
}

/// Forgets a remembered repository (e.g. one that was moved away).
#[tauri::command(async)]
pub fn forget_recent_repo(state: State<'_, AppState>, path: String) -> IpcResult<Vec<RecentRepo>> {
    Ok(state.recent.forget(std::path::Path::new(&path))?)
}

/// Asks for a folder with the native dialog; `None` when the user cancels.
///
/// Test hook: when `NIXDECK_E2E_PICK_FOLDER` is set, its value is the answer and no
/// dialog opens, because WebDriver cannot reach a GTK file chooser. Nothing else
/// changes: the chosen path goes through the same commands as a real answer.
#[tauri::command(async)]
pub async fn pick_folder(app: tauri::AppHandle, title: String) -> Option<String> {
    if let Some(path) = std::env::var_os("NIXDECK_E2E_PICK_FOLDER").filter(|p| !p.is_empty()) {
        return Some(path.to_string_lossy().into_owned());
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog()
        .file()
        .set_title(title)
        .pick_folder(move |folder| {
            let _ = tx.send(folder.and_then(|f| f.into_path().ok()));
        });
    rx.await
        .ok()
        .flatten()
        .map(|p| p.to_string_lossy().into_owned())
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Opens a repository (any flake with `hosts/<name>/`) and remembers it.
#[tauri::command(async)]
pub async fn open_repo(state: State<'_, AppState>, path: String) -> IpcResult<RepoView> {
    let root = PathBuf::from(path);
    let view = repo::open_repo(&root).await?;
    state.recent.touch(&root, now())?;
    Ok(view)
}

/// Creates a repository in the article's layout (flake.nix, modules/common.nix,
/// .gitignore, `git init`), then opens it.
#[tauri::command(async)]
pub async fn create_repo(
    state: State<'_, AppState>,
    path: String,
    nixpkgs: String,
) -> IpcResult<RepoView> {
    let root = PathBuf::from(path);
    let spec = FlakeSpec {
        nixpkgs_ref: nixpkgs,
        ..FlakeSpec::default()
    };
    // A new repository has no hand edits to protect, so nothing needs confirming;
    // an existing flake.nix makes init refuse instead.
    repo::init_repo(&root, &spec, &Confirm::Nothing).await?;
    let view = repo::open_repo(&root).await?;
    state.recent.touch(&root, now())?;
    Ok(view)
}
