//! Hosts of a repository: the identity fields checked as the repository will
//! check them, the keys to offer, the live `configuration.nix`, the new host's
//! review (files with diffs, the exact install command, the disks to be erased,
//! preflight) and write, and removing a host.

use crate::targets::{read_targets, Untargetable};
use crate::{Api, ApiError, ApiResult};
use nixdeck_core::disko::{self, from_json};
use nixdeck_core::facts::HostFacts;
use nixdeck_core::preflight::{self, DiskIdentity, Preflight};
use nixdeck_core::repo::access::Access;
use nixdeck_core::repo::{
    names, render_configuration, ChangeAction, Deployment, HostName, HostSpec, SeenChange,
    SystemConfig, Tag, WritePlan,
};
use nixdeck_core::review::{review_gate, ReviewGate};
use nixdeck_core::tools::plan::{self as toolplan, HostTarget, InstallOptions};
use nixdeck_engine::disk_sources::{self, DiskSource};
use nixdeck_engine::facts_store;
use nixdeck_engine::repo::{self as engine_repo, Applied, Confirm};
use nixdeck_engine::ssh::keys::{self, LocalKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::Path;
use ts_rs::TS;

/// The identity step's fields, as typed.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct IdentityInput {
    /// Host name (NixOS `networking.hostName`).
    pub name: String,
    /// DNS name or IP address.
    pub address: String,
    /// SSH user.
    pub user: String,
    /// SSH port.
    pub port: u32,
    /// colmena tags.
    pub tags: Vec<String>,
}

/// A field that cannot be used, and why.
#[derive(Debug, Clone, Serialize, TS)]
pub struct FieldProblem {
    /// `name`, `address`, `user`, `port` or `tags`.
    pub field: String,
    /// What is wrong and what to type instead.
    pub message: String,
}

/// The live preview of the system step.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ConfigPreview {
    /// `configuration.nix` as it would be written.
    pub text: String,
    /// What is wrong with a field, when something is.
    pub problem: Option<String>,
}

/// Everything the wizard collected, to write as `hosts/<name>/`.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct NewHost {
    /// The repository.
    pub repo: String,
    /// colmena's `deployment.*`.
    pub deployment: Deployment,
    /// The system step's choices.
    pub config: SystemConfig,
    /// The layout as disko's JSON (`disko.devices`), from the editor.
    pub layout: Value,
    /// The key file chosen for the install (`-i`), when one was.
    pub identity_file: Option<String>,
}

/// A disk the install will erase, as the review shows it.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ErasedDisk {
    /// Its identity as probed (by-id name, model, serial, size).
    pub identity: DiskIdentity,
    /// Trimmed model, for display.
    pub model: Option<String>,
    /// `nvme`, `sata`, `virtio`…
    pub transport: Option<String>,
    /// Mountpoints on it now (e.g. `/` of a rescue system), for display.
    pub mounts: Vec<String>,
    /// It holds partitions or a filesystem now.
    pub holds_data: bool,
}

/// The review step.
#[derive(Debug, Clone, Serialize, TS)]
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
    /// What the disks will hold, in plain words, one line per disk and group.
    pub summary: Vec<String>,
    /// What stands between this review and the install, in words.
    #[serde(flatten)]
    pub gate: ReviewGate,
    /// Every file of the host's configuration that defines disk devices (this
    /// layout's `disko.nix` first), with the disks each formats: the install
    /// erases all of them, and `erase` lists them all.
    pub disk_sources: Vec<DiskSource>,
    /// Whether the deploy user can log in once the new system runs; when
    /// `locked`, the install is refused unless the person says they can log in
    /// another way (`allowLockout`).
    pub login: Access,
    /// Each file in `to_confirm` as shown here (its text on disk and the proposal,
    /// by hash): the window sends back the ones the person confirmed, so a file
    /// edited again after this review is refused rather than overwritten unseen.
    pub seen: Vec<SeenChange>,
    /// What is verified about host keys during the install and what is not,
    /// the new system's host key, and the passphrases the layout needs.
    pub trust: crate::install_secrets::InstallTrust,
}

impl NewHost {
    fn spec(&self, facts: Option<&HostFacts>) -> ApiResult<HostSpec> {
        let layout = from_json(&self.layout)?;
        let mut spec = HostSpec::new(
            self.config.host_name.clone(),
            self.deployment.target_host.clone(),
        );
        spec.system = facts
            .and_then(|f| f.system.clone())
            .unwrap_or_else(|| spec.system.clone());
        spec.deployment = self.deployment.clone();
        spec.config = self.config.clone();
        spec.disko = Some(disko::render(&layout));
        spec.validate()
            .map_err(|e| ApiError::invalid(e.to_string()))?;
        Ok(spec)
    }

    fn plan(&self, spec: &HostSpec) -> ApiResult<WritePlan> {
        let root = Path::new(&self.repo);
        Ok(if root.join("hosts").join(spec.name.as_str()).is_dir() {
            engine_repo::plan_update_host(root, spec)?
        } else {
            engine_repo::plan_add_host(root, spec)?
        })
    }
}

/// A host name, checked.
pub fn host_name(name: &str) -> ApiResult<HostName> {
    Ok(HostName::new(name)?)
}

impl Api {
    /// Every problem with the identity fields; empty when the step may go on.
    pub fn check_host_identity(&self, repo: &Path, input: &IdentityInput) -> Vec<FieldProblem> {
        let mut out = Vec::new();
        let mut push = |field: &str, message: String| {
            out.push(FieldProblem {
                field: field.to_string(),
                message,
            })
        };
        match HostName::new(input.name.trim()) {
            Err(e) => push("name", e.to_string()),
            Ok(name) if repo.join("hosts").join(name.as_str()).exists() => push(
                "name",
                format!("a host named {name} already exists (hosts/{name}/): choose another name"),
            ),
            Ok(_) => {}
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

    /// What is wrong with `name` as a host name, if anything.
    pub fn check_host_name(&self, name: &str) -> Option<String> {
        HostName::new(name.trim()).err().map(|e| e.to_string())
    }

    /// The local `~/.ssh/*.pub` keys and the ssh-agent's, without duplicates.
    pub async fn local_ssh_keys(&self) -> Vec<LocalKey> {
        keys::local_public_keys(keys::default_ssh_dir().as_deref()).await
    }

    /// `configuration.nix` as it would be written, and the first problem with its fields.
    pub fn preview_configuration(&self, config: &SystemConfig) -> ConfigPreview {
        ConfigPreview {
            problem: config.validate().err().map(|e| e.to_string()),
            text: render_configuration(config),
        }
    }

    /// Plans the new host's files and its install, without writing anything.
    pub async fn review_new_host(&self, host: &NewHost) -> ApiResult<HostReview> {
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
        let options = InstallOptions {
            identity_file: host.identity_file.clone(),
            ..InstallOptions::default()
        };
        let trust = self
            .trust_for(
                &crate::install_secrets::TrustInput {
                    repo: Path::new(&host.repo),
                    host: host.config.host_name.as_str(),
                    options: &options,
                    known_hosts: self.known_hosts_path(),
                    ssh_password: false,
                    luks_key_paths: &[],
                    make_key: true,
                },
                &target,
                disko::secrets::luks_volumes(&layout),
            )
            .await?;
        let shown = crate::install_secrets::shown_options(&options, &trust, &[], false);
        let command = toolplan::install_command(&crate::jobs::settings().await, &target, &shown)?;
        // Every disk the host's configuration formats, not only this layout's.
        let disks =
            disk_sources::host_disks(Path::new(&host.repo), spec.name.as_str(), &layout).await;
        let needs = disks.needs;
        let (erase, preflight) = match &facts {
            Some(facts) => (
                needs
                    .disks
                    .iter()
                    .filter_map(|name| erased_disk(facts, name))
                    .collect(),
                preflight::check(facts, &needs, Some(&spec.system)),
            ),
            None => (Vec::new(), Preflight::default()),
        };
        let layout_diagnostics = disko::validate(&layout, facts.as_ref());
        // Read as it will be: with the configuration.nix this plan writes, if any.
        let config_path = format!("hosts/{}/configuration.nix", spec.name);
        let proposed = plan.changes.iter().find_map(|c| match &c.action {
            ChangeAction::Write { content } if c.path == config_path => Some(content.as_str()),
            _ => None,
        });
        let login = self
            .login_after_writing(
                Path::new(&host.repo),
                spec.name.as_str(),
                &spec.deployment.target_user,
                host.identity_file.as_deref().map(Path::new),
                proposed,
            )
            .await?;
        let summary = disko::summary(&layout, facts.as_ref()).lines();
        let mut gate = review_gate(&preflight, &layout_diagnostics, &plan);
        // A LUKS volume disko would prompt for cannot be installed from here.
        gate.blockers.extend(trust.blocked.clone());
        Ok(HostReview {
            gate,
            seen: plan.seen(),
            login,
            disk_sources: disks.sources,
            plan,
            command: command.to_string(),
            erase,
            preflight,
            layout_diagnostics,
            summary,
            trust,
        })
    }

    /// Writes the new host's files. Files a person edited (or nixdeck did not
    /// write) are replaced only when `confirm` holds them as the person saw them
    /// on review ([`HostReview::seen`]): a file edited again since, or a proposal
    /// that changed, is refused and nothing is written.
    pub async fn write_new_host(
        &self,
        host: &NewHost,
        confirm: &[SeenChange],
    ) -> ApiResult<Applied> {
        let facts = facts_store::load(Path::new(&host.repo), &host.config.host_name);
        let spec = host.spec(facts.as_ref())?;
        let plan = host.plan(&spec)?;
        Ok(engine_repo::apply_plan(
            Path::new(&host.repo),
            &plan,
            &Confirm::Seen(confirm.to_vec()),
        )
        .await?)
    }

    /// Adds a host from its spec (the command line's `host add`).
    pub async fn add_host(&self, repo: &Path, spec: &HostSpec) -> ApiResult<Applied> {
        Ok(engine_repo::add_host(repo, spec, &Confirm::Nothing).await?)
    }

    /// Renames a host (moves `hosts/<from>/` to `hosts/<to>/`).
    pub async fn rename_host(
        &self,
        repo: &Path,
        from: &str,
        to: &str,
        confirm: &Confirm,
    ) -> ApiResult<Applied> {
        Ok(engine_repo::rename_host(repo, &host_name(from)?, &host_name(to)?, confirm).await?)
    }

    /// What removing `host` would delete, with the diff of every file a person
    /// edited (those need confirming).
    pub fn plan_remove_host(&self, repo: &Path, host: &str) -> ApiResult<WritePlan> {
        Ok(engine_repo::plan_remove_host(repo, &host_name(host)?)?)
    }

    /// Removes `host` from the repository (its `hosts/<host>/` files; the machine
    /// is not touched). Edited files go only when `confirm` names them.
    pub async fn remove_host(
        &self,
        repo: &Path,
        host: &str,
        confirm: &Confirm,
    ) -> ApiResult<Applied> {
        Ok(engine_repo::remove_host(repo, &host_name(host)?, confirm).await?)
    }

    /// The hosts nixdeck will not connect to, each with the reason.
    pub async fn untargetable_hosts(&self, repo: &Path) -> ApiResult<Vec<Untargetable>> {
        Ok(read_targets(repo).await?.skipped)
    }
}

fn erased_disk(facts: &HostFacts, name: &str) -> Option<ErasedDisk> {
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
}
