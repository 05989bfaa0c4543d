//! Installing NixOS on a host with nixos-anywhere, which ERASES its disks: one
//! gate for the window and the command line alike. The checks (preflight on the
//! confirmed facts, the disks re-probed and matched by identity), the typed
//! confirmation, acknowledged warnings, the flake lock, then the job.

use crate::hosts::host_name;
use crate::install_secrets::{InstallSecrets, InstallTrust};
use crate::jobs::{settings_for, Sink, StartedJob, ToolChoice};
use crate::targets::{read_targets, ssh_target};
use crate::{Api, ApiError, ApiResult};
use nixdeck_core::preflight::{DiskIdentity, IdentityChange, Preflight, Rule};
use nixdeck_core::repo::access::Access;
use nixdeck_core::tools::plan::{self, HostTarget, InstallOptions};
use nixdeck_engine::disk_sources::DiskSource;
use nixdeck_engine::facts_store;
use nixdeck_engine::install::{self, Reprobe};
use nixdeck_engine::jobs::requests;
use nixdeck_engine::probe::{self, ProbeOptions};
use nixdeck_engine::ssh::{Auth, HostKeyPolicy};
use serde::Serialize;
use std::path::PathBuf;
use ts_rs::TS;

/// Where to install when the repository says otherwise or nothing (the command
/// line's `--address`, `--user`, `-p`).
#[derive(Debug, Clone, Default)]
pub struct TargetOverrides {
    /// Address to install to.
    pub address: Option<String>,
    /// SSH user.
    pub user: Option<String>,
    /// SSH port.
    pub port: Option<u16>,
}

/// What an install is asked to do.
#[derive(Debug, Default)]
pub struct InstallRequest {
    /// The repository.
    pub repo: PathBuf,
    /// The host to install.
    pub host: String,
    /// nixos-anywhere's options (the key file, phases, extra files…).
    pub options: InstallOptions,
    /// Where to reach the host, over the repository's settings.
    pub overrides: TargetOverrides,
    /// How to run the tools.
    pub tools: ToolChoice,
    /// known_hosts for nixdeck's own re-probe (default: `~/.ssh/known_hosts`).
    pub known_hosts: Option<PathBuf>,
    /// When no disks were confirmed in nixdeck for the host: check the target as
    /// it is now and say so (the command line, which has no review step), rather
    /// than refuse until it is probed (the window).
    pub check_unconfirmed_target: bool,
    /// Install even though the configuration would not let this machine log in
    /// afterwards (the window's "I can log in another way", `--allow-lockout`).
    pub allow_lockout: bool,
    /// Secrets typed for this install (never stored, never on a command line).
    pub secrets: InstallSecrets,
    /// More places on the target to write the LUKS passphrase to, besides
    /// the `passwordFile`s of `disko.nix` (volumes defined in other modules).
    pub luks_key_paths: Vec<String>,
}

impl InstallRequest {
    /// The key nixos-anywhere logs in with (`-i`), when one is given.
    fn identity_file(&self) -> Option<&std::path::Path> {
        self.options
            .identity_file
            .as_deref()
            .map(std::path::Path::new)
    }
}

/// The checks before an install, as the review, the host page and the command line show them.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct InstallCheck {
    /// Errors block the install; warnings need acknowledging.
    pub preflight: Preflight,
    /// The disks the layout erases, as confirmed (from the recorded facts).
    pub confirmed: Vec<DiskIdentity>,
    /// Differences found by a fresh probe (only when a re-probe was asked).
    pub changes: Vec<IdentityChange>,
    /// Every file of the host's configuration that defines disk devices, with
    /// the disks each formats; a file that could not be evaluated says why.
    pub disk_sources: Vec<DiskSource>,
    /// Whether the deploy user can log in once the installed system runs.
    pub login: Access,
    /// The command line that will run (secrets redacted).
    pub argv: Vec<String>,
    /// Things to know about how the checks ran.
    pub notes: Vec<String>,
    /// What is verified about host keys and what is not, the new system's
    /// host key, and the passphrases the layout needs.
    pub trust: InstallTrust,
}

/// The exact install command, without running anything.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct InstallPlan {
    /// Where it installs.
    pub target: HostTarget,
    /// The argument vector (secrets redacted).
    pub argv: Vec<String>,
    /// The same, quoted for a shell.
    pub command: String,
}

/// The host to install: the repository's colmena node with the overrides on
/// top, or (for a host the flake does not deploy yet) the overrides alone; its
/// `system`; and the user colmena deploys as afterwards (the overrides are for
/// the system nixos-anywhere logs in to, not the installed one).
pub(crate) async fn install_target(
    request: &InstallRequest,
) -> ApiResult<(HostTarget, Option<String>, String)> {
    host_name(&request.host)?;
    let o = &request.overrides;
    let found = match read_targets(&request.repo).await {
        Ok(targets) => match targets.find(&request.host) {
            Ok((summary, target)) => Some((target.clone(), summary.system.clone())),
            Err(e) if o.address.is_none() => return Err(e),
            Err(_) => None,
        },
        Err(e) if o.address.is_none() => return Err(e),
        Err(_) => None,
    };
    let deploy_user = found
        .as_ref()
        .map_or_else(|| "root".to_string(), |(t, _)| t.user.clone());
    let (mut target, system) = match (found, &o.address) {
        (Some(found), _) => found,
        (None, Some(address)) => (
            HostTarget {
                name: request.host.clone(),
                address: address.clone(),
                user: "root".into(),
                port: None,
                tags: Vec::new(),
                build_on_target: false,
            },
            None,
        ),
        (None, None) => {
            return Err(ApiError::not_found(format!(
                "{} is not a host of this repository",
                request.host
            ))
            .with_hint("Give its address (`--address` on the command line)."))
        }
    };
    if let Some(address) = &o.address {
        nixdeck_core::repo::names::check_address(address)?;
        target.address = address.clone();
    }
    if let Some(user) = &o.user {
        nixdeck_core::repo::names::check_user(user)?;
        target.user = user.clone();
    }
    if o.port.is_some() {
        target.port = o.port.filter(|p| *p != 22);
    }
    Ok((target, system, deploy_user))
}

/// Rule ids as typed (`memory_low`), checked.
pub fn parse_rules(ids: &[String]) -> ApiResult<Vec<Rule>> {
    ids.iter()
        .map(|id| {
            serde_json::from_value::<Rule>(serde_json::Value::String(id.clone())).map_err(|_| {
                ApiError::invalid(format!(
                    "`{id}` is not a preflight rule: use the rule id the check printed"
                ))
            })
        })
        .collect()
}

impl Api {
    /// The exact nixos-anywhere command for `request`, with where it installs.
    /// A LUKS passphrase shows as the file it will be written to, the new
    /// system's host key as the private directory it is copied from.
    pub async fn plan_install(&self, request: &InstallRequest) -> ApiResult<InstallPlan> {
        let (target, _, _) = install_target(request).await?;
        // A plan only shows the command: no key is made for it.
        let trust = self.install_trust(request, &target, false).await?;
        let options = self.shown_options(request, &trust);
        let settings = settings_for(&request.tools).await;
        let cmd = plan::install_command(&settings, &target, &options)?;
        Ok(InstallPlan {
            target,
            argv: cmd.redacted_argv(),
            command: cmd.to_string(),
        })
    }

    /// The checks for `request.host`: preflight on the facts confirmed in nixdeck
    /// (or, without them, on a probe made now), and with `reprobe` the disks read
    /// again and compared by identity with the confirmed ones. Nothing is started.
    pub async fn install_check(
        &self,
        request: &InstallRequest,
        reprobe: bool,
    ) -> ApiResult<InstallCheck> {
        let (target, system, deploy_user) = install_target(request).await?;
        let name = host_name(&request.host)?;
        let ssh = ssh_target(&target);
        // The re-probe logs in as nixos-anywhere will: with the key given by `-i`, if any.
        let auth = request
            .identity_file()
            .map_or(Auth::Default, |key| Auth::KeyFile(key.to_path_buf()));
        let mut connect = self.connect_options(auth, HostKeyPolicy::Strict);
        if let Some(file) = &request.known_hosts {
            connect.known_hosts = Some(file.clone());
        }
        let mut notes = Vec::new();
        let check = match facts_store::load(&request.repo, &name) {
            Some(confirmed) => {
                let again = reprobe.then_some(Reprobe {
                    target: &ssh,
                    connect: &connect,
                });
                install::check(
                    &request.repo,
                    &request.host,
                    system.as_deref(),
                    &confirmed,
                    again,
                )
                .await?
            }
            None if !request.check_unconfirmed_target => {
                return Err(ApiError::invalid(format!(
                    "nixdeck has no probed facts for {}: no disk was confirmed for erasing",
                    request.host
                ))
                .with_hint(
                    "Probe the host first (Re-probe on the host page, or the wizard's connect step), then review what will be erased.",
                ));
            }
            None => {
                notes.push(format!(
                    "no disks were confirmed for {} in nixdeck (probe it in the wizard or on its host page); the target was checked as it is now",
                    request.host
                ));
                let now = probe::probe(&ssh, &connect, &ProbeOptions::default()).await?;
                install::check(&request.repo, &request.host, system.as_deref(), &now, None).await?
            }
        };
        let unevaluated: Vec<String> = check
            .disk_sources
            .iter()
            .filter_map(|s| s.error.as_ref().map(|e| format!("{} ({e})", s.file)))
            .collect();
        if !unevaluated.is_empty() {
            notes.push(format!(
                "the configuration could not be evaluated here: these files define disk devices (found by a text scan of the host's imports) but their disko.devices could not be read on their own, so their disks are not listed or re-checked: {}",
                unevaluated.join("; ")
            ));
        }
        let login = self
            .login_after(
                &request.repo,
                &request.host,
                &deploy_user,
                request.identity_file(),
            )
            .await?;
        let settings = settings_for(&request.tools).await;
        let trust = self.install_trust(request, &target, true).await?;
        let options = self.shown_options(request, &trust);
        let argv = plan::install_command(&settings, &target, &options)?.redacted_argv();
        Ok(InstallCheck {
            preflight: check.preflight,
            confirmed: check.confirmed,
            changes: check.changes,
            disk_sources: check.disk_sources,
            login,
            argv,
            notes,
            trust,
        })
    }

    /// Installs NixOS on `request.host`. `confirm` must be the host's name typed
    /// again; preflight errors block and its warnings must be in `acknowledged`;
    /// the disks are re-probed and must be the confirmed ones; a missing
    /// flake.lock is locked first. `skip_checks` (the command line's
    /// `--no-preflight`, for targets nixdeck's own SSH cannot reach) skips the
    /// preflight and the re-probe, never the confirmation. The secrets in
    /// `request` are checked against the layout (a LUKS volume needs its
    /// passphrase, typed the same twice) before anything runs.
    pub async fn start_install(
        &self,
        request: &InstallRequest,
        confirm: &str,
        acknowledged: &[String],
        skip_checks: bool,
        sink: Sink,
    ) -> ApiResult<StartedJob> {
        if confirm != request.host {
            return Err(ApiError::invalid(format!(
                "installing ERASES every disk of {host}: type the host name {host} to confirm",
                host = request.host
            )));
        }
        let acknowledged = parse_rules(acknowledged)?;
        if !skip_checks {
            let check = self.install_check(request, true).await?;
            install::InstallCheck {
                preflight: check.preflight,
                confirmed: check.confirmed,
                changes: check.changes,
                disk_sources: check.disk_sources,
            }
            .may_start(&request.host, &acknowledged)?;
        }
        let (target, _, deploy_user) = install_target(request).await?;
        // Read from the repository alone (also with `skip_checks`): an install that
        // locks the person out of the machine it just erased is never useful.
        self.require_login(
            &request.repo,
            &request.host,
            &deploy_user,
            request.identity_file(),
            "installing",
            request.allow_lockout,
        )
        .await?;
        let secrets = self.install_secrets(request, &target).await?;
        let settings = settings_for(&request.tools).await;
        self.ensure_locked(&settings, &request.repo, &sink).await?;
        let job = requests::install_request(
            &settings,
            &request.repo,
            &target,
            &request.options,
            Some(secrets),
        )?;
        Ok(self.start_job(job, sink)?.into())
    }
}
