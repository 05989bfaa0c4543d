//! The visual disk editor: templates, the repository's own layout, and edits.
//! Each answers with a [`LayoutView`] (layout, findings, `disko.nix`, to-scale
//! plans) computed by `nixdeck_core::disko`, so a window only draws; edits,
//! undo and redo answer with what changed since the view the window holds.
//! The host's probed facts come from the repository's store.

use crate::delta::{self, Delta};
use crate::hosts::host_name;
use crate::targets::{read_targets, ssh_target};
use crate::{Api, ApiError, ApiResult};
use nixdeck_core::disko::changes::{layout_changes, LayoutChanges};
use nixdeck_core::disko::compare::{compare, DiskCheck};
use nixdeck_core::disko::edit::{self, LayoutEdit, LayoutView};
use nixdeck_core::disko::templates::{self, TemplateInfo};
use nixdeck_core::disko::{from_json, render, DiskLayout};
use nixdeck_core::facts::{BootMode, HostFacts};
use nixdeck_core::repo::WritePlan;
use nixdeck_engine::jobs::{JobId, JobKind};
use nixdeck_engine::probe::{probe, ProbeOptions};
use nixdeck_engine::repo::{self as engine_repo, Applied, Confirm};
use nixdeck_engine::runner::JobResult;
use nixdeck_engine::ssh::{Auth, HostKeyPolicy};
use nixdeck_engine::{disko_file, facts_store};
use serde::Serialize;
use serde_json::Value;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use ts_rs::TS;

/// Saving an edited layout of an installed host: the file change (with the
/// hand-edit protection's pending changes) and what applying it means.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LayoutSavePlan {
    /// The write of `hosts/<host>/disko.nix`.
    pub plan: WritePlan,
    /// Paths whose text nixdeck did not write (hand edits): saved only when confirmed.
    pub pending: Vec<String>,
    /// The edited layout against the saved one.
    pub changes: LayoutChanges,
}

/// The disks as probed beside the layout in `disko.nix` (before and after an install).
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DiskCheckView {
    /// When the disks were probed, seconds since the Unix epoch.
    pub probed_at: u64,
    /// The layout in plain words.
    pub summary: Vec<String>,
    /// Disk by disk, partition by partition.
    pub check: DiskCheck,
    /// One sentence: all as laid out, or how many differences.
    pub verdict: String,
}

/// A layout's view as the window receives it. With 24 disks a whole view is
/// about 80 KB, and the webview's IPC takes about a millisecond per 8 KB;
/// after an edit only a few hundred bytes of it change.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LayoutUpdate {
    /// The whole view: the request named no base, or one no longer kept.
    Whole {
        /// The view.
        view: Box<LayoutView>,
    },
    /// What changed since the base view (`None`: nothing).
    Changed {
        /// Applied to the base view's JSON, it gives the new view.
        delta: Option<Delta>,
    },
}

/// The last views the API answered with, by digest: a request names the view
/// the window holds, and the answer is what changed since exactly that view.
#[derive(Default)]
pub(crate) struct SentViews(Mutex<VecDeque<(String, Arc<Value>)>>);

impl SentViews {
    /// Views kept: the one a window holds and a few before it (a second
    /// window, an answer the window dropped).
    const KEPT: usize = 8;

    /// `next` as the window receives it: what changed since the view whose
    /// digest is `base`, when that view was sent and is still kept; whole
    /// otherwise. `next` is kept in turn.
    fn answer(&self, base: Option<&str>, next: LayoutView) -> LayoutUpdate {
        let held = base.and_then(|digest| self.find(digest));
        let json = self.keep(&next);
        match (held, json) {
            (Some(held), Some(json)) => LayoutUpdate::Changed {
                delta: delta::diff(&held, &json),
            },
            _ => LayoutUpdate::Whole {
                view: Box::new(next),
            },
        }
    }

    /// Keeps `view`, which is sent whole.
    fn whole(&self, view: LayoutView) -> LayoutView {
        self.keep(&view);
        view
    }

    fn find(&self, digest: &str) -> Option<Arc<Value>> {
        let sent = self.0.lock().unwrap_or_else(|e| e.into_inner());
        sent.iter()
            .find(|(d, _)| d == digest)
            .map(|(_, v)| v.clone())
    }

    /// Keeps `view`'s JSON under its digest, and answers it.
    fn keep(&self, view: &LayoutView) -> Option<Arc<Value>> {
        let json = Arc::new(serde_json::to_value(view).ok()?);
        let mut sent = self.0.lock().unwrap_or_else(|e| e.into_inner());
        sent.retain(|(d, _)| *d != view.digest);
        if sent.len() >= Self::KEPT {
            sent.pop_front();
        }
        sent.push_back((view.digest.clone(), json.clone()));
        Some(json)
    }
}

fn disko_rel(host: &str) -> String {
    format!("hosts/{host}/disko.nix")
}

fn facts_of(repo: &Path, host: &str) -> ApiResult<Option<HostFacts>> {
    Ok(facts_store::load(repo, &host_name(host)?))
}

fn layout_of(value: &Value) -> ApiResult<DiskLayout> {
    Ok(from_json(value)?)
}

/// The layout in `hosts/<host>/disko.nix`, evaluated, when there is one.
async fn saved_layout(repo: &Path, host: &str) -> ApiResult<Option<DiskLayout>> {
    host_name(host)?;
    let file = repo.join("hosts").join(host).join("disko.nix");
    if !file.is_file() {
        return Ok(None);
    }
    Ok(Some(
        disko_file::load(&file, &disko_file::LoadOptions::for_file(&file)).await?,
    ))
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
        Ok(self.sent_views.whole(edit::view(&layout, facts.as_ref())))
    }

    /// The layout in `hosts/<host>/disko.nix`, when the repository has one.
    pub async fn layout_from_repo(&self, repo: &Path, host: &str) -> ApiResult<Option<LayoutView>> {
        let facts = facts_of(repo, host)?;
        let Some(layout) = saved_layout(repo, host).await? else {
            return Ok(None);
        };
        Ok(Some(
            self.sent_views.whole(edit::view(&layout, facts.as_ref())),
        ))
    }

    /// What saving the edited `layout` as the host's `disko.nix` would write
    /// (hand-edited text is pending until confirmed) and what applying it
    /// means for the installed host.
    pub async fn plan_layout_save(
        &self,
        repo: &Path,
        host: &str,
        layout: &Value,
    ) -> ApiResult<LayoutSavePlan> {
        host_name(host)?;
        let edited = layout_of(layout)?;
        let saved = saved_layout(repo, host).await?.unwrap_or_default();
        let plan = engine_repo::plan_write(repo, &[(disko_rel(host), render(&edited))])?;
        Ok(LayoutSavePlan {
            pending: plan.pending().iter().map(|c| c.path.clone()).collect(),
            plan,
            changes: layout_changes(&saved, &edited),
        })
    }

    /// Writes the edited `layout` as `hosts/<host>/disko.nix`; text nixdeck did
    /// not write (a hand edit) is replaced only when its path is in `confirm`.
    pub async fn save_layout(
        &self,
        repo: &Path,
        host: &str,
        layout: &Value,
        confirm: &[String],
    ) -> ApiResult<Applied> {
        host_name(host)?;
        let edited = layout_of(layout)?;
        let plan = engine_repo::plan_write(repo, &[(disko_rel(host), render(&edited))])?;
        Ok(engine_repo::apply_plan(repo, &plan, &Confirm::Paths(confirm.to_vec())).await?)
    }

    /// The host's disks as last probed (probed again first when `reprobe`)
    /// beside the layout in its `disko.nix`, differences called out.
    pub async fn disk_check(
        &self,
        repo: &Path,
        host: &str,
        reprobe: bool,
    ) -> ApiResult<DiskCheckView> {
        let facts = if reprobe {
            self.reprobe_host(repo, host).await?
        } else {
            facts_of(repo, host)?.ok_or_else(|| {
                ApiError::invalid(format!("{host} has no probed disks yet"))
                    .with_hint("Re-probe the host to read its disks as they are now.")
            })?
        };
        self.disk_check_view(repo, host, facts).await
    }

    /// After install job `id` succeeded: probes its host again, logging in as
    /// the install did (its `-i` key, else the agent's or default keys), and
    /// compares the disks with the layout that was applied.
    pub async fn disk_check_after_install(&self, id: JobId) -> ApiResult<DiskCheckView> {
        let record = self.jobs()?.get(id)?;
        if record.kind != JobKind::Install || record.result != JobResult::Succeeded {
            return Err(ApiError::invalid(format!(
                "job {id} is not a finished install: there is no applied layout to compare"
            )));
        }
        let host = record
            .hosts
            .first()
            .ok_or_else(|| ApiError::invalid(format!("job {id} names no host")))?;
        let repo = PathBuf::from(&record.cwd);
        let auth = record
            .argv
            .windows(2)
            .find(|w| w[0] == "-i")
            .map_or(Auth::Default, |w| Auth::KeyFile(PathBuf::from(&w[1])));
        let targets = read_targets(&repo).await?;
        let (_, target) = targets.find(host)?;
        let facts = probe(
            &ssh_target(target),
            &self.connect_options(auth, HostKeyPolicy::Strict),
            &ProbeOptions::default(),
        )
        .await?;
        facts_store::save(&repo, &host_name(host)?, &facts)?;
        self.disk_check_view(&repo, host, facts).await
    }

    async fn disk_check_view(
        &self,
        repo: &Path,
        host: &str,
        facts: HostFacts,
    ) -> ApiResult<DiskCheckView> {
        let layout = saved_layout(repo, host).await?.ok_or_else(|| {
            ApiError::invalid(format!("{host} has no disko.nix to compare the disks with"))
        })?;
        let check = compare(&layout, &facts);
        let verdict = match check.differences.len() {
            0 => "The disks are as the layout says.".to_string(),
            1 => "One difference between the layout and the disks.".to_string(),
            n => format!("{n} differences between the layout and the disks."),
        };
        Ok(DiskCheckView {
            probed_at: facts.probed_at,
            summary: nixdeck_core::disko::summary(&layout, Some(&facts)).lines(),
            check,
            verdict,
        })
    }

    /// `layout` with `change` applied, as what changed since the view whose
    /// digest is `base` (the view the window holds; see [`LayoutUpdate`]).
    pub fn apply_layout_edit(
        &self,
        repo: &Path,
        host: &str,
        layout: &Value,
        change: &LayoutEdit,
        base: Option<&str>,
    ) -> ApiResult<LayoutUpdate> {
        let facts = facts_of(repo, host)?;
        let edited = edit::apply(&layout_of(layout)?, change)?;
        Ok(self
            .sent_views
            .answer(base, edit::view(&edited, facts.as_ref())))
    }

    /// The view of a layout as it is (after undo or redo), as what changed
    /// since the view whose digest is `base`.
    pub fn layout_view(
        &self,
        repo: &Path,
        host: &str,
        layout: &Value,
        base: Option<&str>,
    ) -> ApiResult<LayoutUpdate> {
        let facts = facts_of(repo, host)?;
        let view = edit::view(&layout_of(layout)?, facts.as_ref());
        Ok(self.sent_views.answer(base, view))
    }
}
