//! The visual disk editor: templates, the repository's own layout, and edits.
//! Each answers with the whole [`LayoutView`] (layout, findings, `disko.nix`,
//! to-scale plans) computed by `nixdeck_core::disko`, so a window only draws.
//! The host's probed facts come from the repository's store.

use crate::hosts::host_name;
use crate::{Api, ApiResult};
use nixdeck_core::disko::edit::{self, LayoutEdit, LayoutView};
use nixdeck_core::disko::templates::{self, TemplateInfo};
use nixdeck_core::disko::{from_json, DiskLayout};
use nixdeck_core::facts::{BootMode, HostFacts};
use nixdeck_engine::{disko_file, facts_store};
use serde_json::Value;
use std::path::Path;

fn facts_of(repo: &Path, host: &str) -> ApiResult<Option<HostFacts>> {
    Ok(facts_store::load(repo, &host_name(host)?))
}

fn layout_of(value: &Value) -> ApiResult<DiskLayout> {
    Ok(from_json(value)?)
}

impl Api {
    /// The layout templates, in the order to offer them.
    pub fn layout_templates(&self) -> Vec<TemplateInfo> {
        templates::templates().to_vec()
    }

    /// Template `name` on `disks` (stable device names), for the host's probed
    /// boot mode (UEFI when it was not probed).
    pub fn layout_from_template(
        &self,
        repo: &Path,
        host: &str,
        name: &str,
        disks: &[String],
    ) -> ApiResult<LayoutView> {
        let facts = facts_of(repo, host)?;
        let boot = facts.as_ref().map_or(BootMode::Uefi, |f| f.boot_mode);
        let layout = templates::instantiate(name, disks, boot)?;
        Ok(edit::view(&layout, facts.as_ref()))
    }

    /// The layout in `hosts/<host>/disko.nix`, when the repository has one.
    pub async fn layout_from_repo(&self, repo: &Path, host: &str) -> ApiResult<Option<LayoutView>> {
        let facts = facts_of(repo, host)?;
        let file = repo.join("hosts").join(host).join("disko.nix");
        if !file.is_file() {
            return Ok(None);
        }
        let layout = disko_file::load(&file, &disko_file::LoadOptions::for_file(&file)).await?;
        Ok(Some(edit::view(&layout, facts.as_ref())))
    }

    /// Applies one edit and answers with the new view.
    pub fn apply_layout_edit(
        &self,
        repo: &Path,
        host: &str,
        layout: &Value,
        change: &LayoutEdit,
    ) -> ApiResult<LayoutView> {
        let facts = facts_of(repo, host)?;
        let edited = edit::apply(&layout_of(layout)?, change)?;
        Ok(edit::view(&edited, facts.as_ref()))
    }

    /// The view of a layout as it is (after undo or redo).
    pub fn layout_view(&self, repo: &Path, host: &str, layout: &Value) -> ApiResult<LayoutView> {
        let facts = facts_of(repo, host)?;
        Ok(edit::view(&layout_of(layout)?, facts.as_ref()))
    }
}
