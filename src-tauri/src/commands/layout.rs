//! The visual disk editor's commands: templates, the repository's own layout,
//! and edits. Each answers with the whole [`LayoutView`] (layout, findings,
//! `disko.nix`, to-scale plans) computed by `nixdeck_core::disko`, so the window
//! only draws. The host's probed facts come from the repository's store.

use crate::error::{ErrorCode, IpcError, IpcResult};
use nixdeck_core::disko::edit::{self, LayoutEdit, LayoutView};
use nixdeck_core::disko::templates::{self, TemplateInfo};
use nixdeck_core::disko::{from_json, DiskLayout};
use nixdeck_core::facts::{BootMode, HostFacts};
use nixdeck_core::repo::HostName;
use nixdeck_engine::{disko_file, facts_store};
use serde_json::Value;
use std::path::Path;

fn facts_of(repo: &str, host: &str) -> IpcResult<Option<HostFacts>> {
    let name =
        HostName::new(host).map_err(|e| IpcError::new(ErrorCode::Validation, e.to_string()))?;
    Ok(facts_store::load(Path::new(repo), &name))
}

fn layout_of(value: &Value) -> IpcResult<DiskLayout> {
    Ok(from_json(value)?)
}

/// The layout templates, in the order to offer them.
#[tauri::command(async)]
pub fn layout_templates() -> Vec<TemplateInfo> {
    templates::templates().to_vec()
}

/// Template `name` on `disks` (stable device names), for the host's probed boot mode.
#[tauri::command(async)]
pub fn layout_from_template(
    repo: String,
    host: String,
    name: String,
    disks: Vec<String>,
) -> IpcResult<LayoutView> {
    let facts = facts_of(&repo, &host)?;
    let boot = facts.as_ref().map_or(BootMode::Uefi, |f| f.boot_mode);
    let layout = templates::instantiate(&name, &disks, boot)?;
    Ok(edit::view(&layout, facts.as_ref()))
}

/// The layout in `hosts/<host>/disko.nix`, when the repository has one.
#[tauri::command(async)]
pub async fn layout_from_repo(repo: String, host: String) -> IpcResult<Option<LayoutView>> {
    let facts = facts_of(&repo, &host)?;
    let file = Path::new(&repo).join("hosts").join(&host).join("disko.nix");
    if !file.is_file() {
        return Ok(None);
    }
    let layout = disko_file::load(&file, &disko_file::LoadOptions::for_file(&file))
        .await
        .map_err(|e| IpcError::new(ErrorCode::Validation, e.to_string()))?;
    Ok(Some(edit::view(&layout, facts.as_ref())))
}

/// Applies one edit and answers with the new view.
#[tauri::command(async)]
pub fn apply_layout_edit(
    repo: String,
    host: String,
    layout: Value,
    edit: LayoutEdit,
) -> IpcResult<LayoutView> {
    let facts = facts_of(&repo, &host)?;
    let edited = edit::apply(&layout_of(&layout)?, &edit)?;
    Ok(edit::view(&edited, facts.as_ref()))
}

/// The view of a layout as it is (after undo or redo).
#[tauri::command(async)]
pub fn layout_view(repo: String, host: String, layout: Value) -> IpcResult<LayoutView> {
    let facts = facts_of(&repo, &host)?;
    Ok(edit::view(&layout_of(&layout)?, facts.as_ref()))
}
