//! The wizard's host commands: checking identity fields as the repository will
//! (host name as a NixOS host name, address, user, port, tags), the key-file
//! dialog, the SSH keys to offer, the live `configuration.nix`, and the review:
//! every file with its diff, the exact install command, the disks to be erased
//! and the preflight findings; then writing the host's files.

use crate::error::{ErrorCode, IpcError, IpcResult};
use nixdeck_core::disko::{self, from_json};
use nixdeck_core::facts::HostFacts;
use nixdeck_core::preflight::{self, DiskIdentity, Preflight};
use nixdeck_core::repo::{
    names, render_configuration, Deployment, HostName, HostSpec, RepoView, SystemConfig, Tag,
    WritePlan,
};
use nixdeck_core::tools::plan::{self as toolplan, HostTarget, InstallOptions, ToolSettings};
use nixdeck_engine::repo::{self as engine_repo, Applied, Confirm};
use nixdeck_engine::{facts_store, jobs};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::{Path, PathBuf};
use tauri_plugin_dialog::DialogExt;

/// The identity step's fields, as typed.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityInput {
    pub name: String,
    pub address: String,
    pub user: String,
    pub port: u32,
    pub tags: Vec<String>,
}

/// A field that cannot be used, and why.
#[derive(Serialize)]
pub struct FieldProblem {
    /// `name`, `address`, `user`, `port` or `tags`.
    pub field: &'static str,
    pub message: String,
}

/// Every problem with the identity fields; empty when the step may go on.
#[tauri::command(async)]
pub fn check_host_identity(repo: String, input: IdentityInput) -> Vec<FieldProblem> {
    let mut out = Vec::new();
    let mut push = |field, message: String| out.push(FieldProblem { field, message });
    match HostName::new(input.name.trim()) {
        Err(e) => push("name", e.to_string()),
        Ok(name) => {
            if Path::new(&repo).join("hosts").join(name.as_str()).exists() {
                push(
                    "name",
                    format!(
                        "a host named {name} already exists (hosts/{name}/): choose another name"
                    ),
                );
            }
        }
    }
    if let Err(e) = names::check_address(input.address.trim()) {
        push("address", e.to_string());
    }
    if let Err(e) = names::check_user(input.user.trim()) {
        push("user", e.to_string());
    }
    if !(1..=65535).contains(&input.port) {
        push("port", "give the SSH port, 1 to 65535 (usually 22)".into());
    }
    for tag in &input.tags {
        if let Err(e) = Tag::new(tag) {
            push("tags", e.to_string());
        }
    }
    out
}

/// Asks for a file with the native dialog (starting in `~/.ssh`); `None` when cancelled.
///
/// Test hook: when `NIXDECK_E2E_PICK_FILE` is set, its value is the answer and no
/// dialog opens (WebDriver cannot reach a GTK file chooser), as `pick_folder` does.
#[tauri::command(async)]
pub async fn pick_file(app: tauri::AppHandle, title: String) -> Option<String> {
    if let Some(path) = std::env::var_os("NIXDECK_E2E_PICK_FILE").filter(|p| !p.is_empty()) {
        return Some(path.to_string_lossy().into_owned());
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    let mut dialog = app.dialog().file().set_title(title);
    if let Some(home) = std::env::var_os("HOME") {
        dialog = dialog.set_directory(PathBuf::from(home).join(".ssh"));
    }
    dialog.pick_file(move |file| {
        let _ = tx.send(file.and_then(|f| f.into_path().ok()));
    });
    rx.await
        .ok()
        .flatten()
        .map(|p| p.to_string_lossy().into_owned())
}

/// A public key the system step can offer for `authorized_keys`.
#[derive(Serialize)]
pub struct KeyOffer {
    /// `file` (`~/.ssh/*.pub`) or `agent`.
    pub source: &'static str,
    /// The file name, or the key's comment for agent keys.
    pub label: String,
    /// The `authorized_keys` line.
    pub key: String,
}

/// The local `~/.ssh/*.pub` keys and the ssh-agent's keys, without duplicates.
#[tauri::command(async)]
pub async fn list_ssh_keys() -> Vec<KeyOffer> {
    let mut out: Vec<KeyOffer> = Vec::new();
    let mut push = |source, label: String, line: &str| {
        let line = line.trim();
        if names::check_authorized_key(line).is_err() {
            return;
        }
        let body = line
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ");
        if out.iter().any(|k| k.key.starts_with(&body)) {
            return;
        }
        out.push(KeyOffer {
            source,
            label,
            key: line.to_string(),
        });
    };
    if let Some(home) = std::env::var_os("HOME") {
        let dir = PathBuf::from(home).join(".ssh");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "pub"))
            .collect();
        files.sort();
        for file in files {
            if let Ok(text) = std::fs::read_to_string(&file) {
                let label = file
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                if let Some(line) = text.lines().find(|l| !l.trim().is_empty()) {
                    push("file", label, line);
                }
            }
        }
    }
    if std::env::var_os("SSH_AUTH_SOCK").is_some() {
        let listed = tokio::process::Command::new("ssh-add")
            .arg("-L")
            .stdin(std::process::Stdio::null())
            .output()
            .await;
        if let Some(out) = listed.ok().filter(|o| o.status.success()) {
            for line in String::from_utf8_lossy(&out.stdout).lines() {
                let label = line.split_whitespace().nth(2).unwrap_or("agent key");
                push("agent", label.to_string(), line);
            }
        }
    }
    out
}

/// The live preview of the system step.
#[derive(Serialize)]
pub struct ConfigPreview {
    pub text: String,
    /// What is wrong with a field, when something is.
    pub problem: Option<String>,
}

/// `configuration.nix` as it would be written, and the first problem with its fields.
#[tauri::command(async)]
pub fn preview_configuration(config: SystemConfig) -> ConfigPreview {
    ConfigPreview {
        problem: config.validate().err().map(|e| e.to_string()),
        text: render_configuration(&config),
    }
}

/// Everything the wizard collected, to write as `hosts/<name>/`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewHost {
    pub repo: String,
    pub deployment: Deployment,
    pub config: SystemConfig,
    /// The layout as disko's JSON (`disko.devices`), from the editor.
    pub layout: Value,
    /// The key file chosen for the install (`-i`), when one was.
    pub identity_file: Option<String>,
}

impl NewHost {
    fn spec(&self, facts: Option<&HostFacts>) -> IpcResult<HostSpec> {
        let layout = from_json(&self.layout)?;
        let name = self.config.host_name.clone();
        let mut spec = HostSpec::new(name, self.deployment.target_host.clone());
        spec.system = facts
            .and_then(|f| f.system.clone())
            .unwrap_or_else(|| spec.system.clone());
        spec.deployment = self.deployment.clone();
        spec.config = self.config.clone();
        spec.disko = Some(disko::render(&layout));
        spec.validate()
            .map_err(|e| IpcError::new(ErrorCode::Validation, e.to_string()))?;
        Ok(spec)
    }

    fn plan(&self, spec: &HostSpec) -> IpcResult<WritePlan> {
        let root = Path::new(&self.repo);
        let plan = if root.join("hosts").join(spec.name.as_str()).is_dir() {
            engine_repo::plan_update_host(root, spec)?
        } else {
            engine_repo::plan_add_host(root, spec)?
        };
        Ok(plan)
    }
}

/// A disk the install will erase, as the review shows it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErasedDisk {
    pub identity: DiskIdentity,
    /// Trimmed model, for display.
    pub model: Option<String>,
    pub transport: Option<String>,
    /// Mountpoints on it now (e.g. `/` of a rescue system), for display.
    pub mounts: Vec<String>,
    pub holds_data: bool,
}

/// The review step.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HostReview {
    /// Every file to be written, with its diff and whether it needs confirming.
    pub plan: WritePlan,
    /// The exact install command line, quoted for a shell (secrets redacted).
    pub command: String,
    /// The disks the layout names, by identity; missing ones appear in `preflight`.
    pub erase: Vec<ErasedDisk>,
    /// Errors block the install; warnings need a tick.
    pub preflight: Preflight,
    /// The layout's own findings (errors block too).
    pub layout_diagnostics: Vec<disko::Diagnostic>,
}

/// Plans the host's files and the install, without writing anything.
#[tauri::command(async)]
pub async fn review_new_host(host: NewHost) -> IpcResult<HostReview> {
    let facts = facts_store::load(Path::new(&host.repo), &host.config.host_name);
    let spec = host.spec(facts.as_ref())?;
    let plan = host.plan(&spec)?;
    let layout = from_json(&host.layout)?;
    let target = HostTarget {
        name: spec.name.to_string(),
        address: spec.deployment.target_host.clone(),
        user: spec.deployment.target_user.clone(),
        port: (spec.deployment.target_port != 22).then_some(spec.deployment.target_port),
        tags: spec
            .deployment
            .tags
            .iter()
            .map(|t| t.as_str().to_string())
            .collect(),
        build_on_target: spec.deployment.build_on_target,
    };
    let settings = ToolSettings {
        flakes_enabled: jobs::flakes_enabled().await,
        tools_from_path: false,
        ..ToolSettings::default()
    };
    let options = InstallOptions {
        identity_file: host.identity_file.clone(),
        ..InstallOptions::default()
    };
    let command = toolplan::install_command(&settings, &target, &options)
        .map_err(|e| IpcError::new(ErrorCode::Validation, e.to_string()))?;
    let needs = disko::layout_needs(&layout);
    let (erase, preflight) = match &facts {
        Some(facts) => (
            needs
                .disks
                .iter()
                .filter_map(|name| {
                    let disk = facts.find_disk(name)?;
                    Some(ErasedDisk {
                        identity: DiskIdentity::of(facts, name)?,
                        model: disk.display_model().map(str::to_string),
                        transport: disk.transport.clone(),
                        mounts: disk
                            .all_mountpoints()
                            .iter()
                            .map(|m| m.to_string())
                            .collect(),
                        holds_data: disk.holds_data(),
                    })
                })
                .collect(),
            preflight::check(facts, &needs, Some(&spec.system)),
        ),
        None => (Vec::new(), Preflight::default()),
    };
    Ok(HostReview {
        plan,
        command: command.to_string(),
        erase,
        preflight,
        layout_diagnostics: disko::validate(&layout, facts.as_ref()),
    })
}

/// Writes the host's files. Files a person edited (or nixdeck did not write) are
/// replaced only when their path is in `confirm`; otherwise nothing is written and
/// the error lists them.
#[tauri::command(async)]
pub async fn write_new_host(host: NewHost, confirm: Vec<String>) -> IpcResult<Applied> {
    let facts = facts_store::load(Path::new(&host.repo), &host.config.host_name);
    let spec = host.spec(facts.as_ref())?;
    let plan = host.plan(&spec)?;
    Ok(engine_repo::apply_plan(Path::new(&host.repo), &plan, &Confirm::Paths(confirm)).await?)
}

/// The host names as the repository will check them (for a quick inline check).
#[tauri::command(async)]
pub fn check_host_name(name: String) -> Option<String> {
    HostName::new(name.trim()).err().map(|e| e.to_string())
}

/// What removing `host` from the repository would delete, with the diff of every
/// file a person edited (those need confirming).
#[tauri::command(async)]
pub fn plan_remove_host(repo: String, host: String) -> IpcResult<WritePlan> {
    let name =
        HostName::new(&host).map_err(|e| IpcError::new(ErrorCode::Validation, e.to_string()))?;
    Ok(engine_repo::plan_remove_host(Path::new(&repo), &name)?)
}

/// Removes `host` from the repository (its `hosts/<host>/` files; the machine itself
/// is not touched). `confirmed` lists the edited files the person agreed to delete.
#[tauri::command(async)]
pub async fn remove_host(
    repo: String,
    host: String,
    confirmed: Vec<String>,
) -> IpcResult<RepoView> {
    let root = PathBuf::from(repo);
    let name =
        HostName::new(&host).map_err(|e| IpcError::new(ErrorCode::Validation, e.to_string()))?;
    engine_repo::remove_host(&root, &name, &Confirm::Paths(confirmed)).await?;
    Ok(engine_repo::open_repo(&root).await?)
}
