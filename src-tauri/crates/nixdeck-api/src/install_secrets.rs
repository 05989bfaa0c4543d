//! What an install needs besides the command line: the secrets a person types
//! (an SSH password for a rescue system, a LUKS passphrase), the new system's
//! host key made before the install, and the review's words on what is checked
//! and what is not. Secrets arrive as [`Secret`]s, which print as `Secret(…)`
//! and cannot be serialised; they go to the tool as an environment variable
//! (`SSHPASS`) or a 0600 file, never as an argument, a log line or a stored
//! field.

use crate::install::InstallRequest;
use crate::{Api, ApiError, ApiResult};
use nixdeck_core::disko::secrets::{self, LuksVolumeNeed, PassphraseSource};
use nixdeck_core::tools::plan::{DiskEncryptionKey, HostTarget, InstallOptions, InstallPhase};
use nixdeck_engine::disko_file::{self, LoadOptions};
use nixdeck_engine::host_key::{self, NewHostKey};
use nixdeck_engine::jobs::requests::{self, LuksPassphrase};
use nixdeck_engine::jobs::AfterSuccess;
use nixdeck_engine::ssh::known_hosts::host_entry_name;
use nixdeck_engine::ssh::Secret;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use ts_rs::TS;

/// Stands for the private file a LUKS passphrase is written to when the job runs.
pub const SECRET_FILE: &str = "<temporary 0600 file>";
/// Stands for the private directory holding the new system's host key.
pub const HOST_KEY_DIR: &str = "<temporary private directory with etc/ssh/ssh_host_ed25519_key>";

/// Secrets typed for an install: the window's form, the command line's
/// prompts without echo (or its file and environment options). Read from the
/// request, never written anywhere: there is no `Serialize`.
#[derive(Debug, Clone, Default, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct InstallSecrets {
    /// The SSH login password (rescue systems that take no key).
    #[serde(default)]
    #[ts(optional)]
    pub ssh_password: Option<Secret>,
    /// The LUKS passphrase, for every encrypted volume of the layout.
    #[serde(default)]
    #[ts(optional)]
    pub luks_passphrase: Option<Secret>,
    /// The same typed again; when given it must match.
    #[serde(default)]
    #[ts(optional)]
    pub luks_passphrase_again: Option<Secret>,
}

/// The new system's host key, as the review shows it before the install.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PlannedHostKey {
    /// `ssh-ed25519 AAAA… root@<host>`: what sops/agenix recipients take.
    pub public: String,
    /// `SHA256:…`.
    pub fingerprint: String,
    /// The known_hosts file it is recorded in after a successful install.
    pub recorded_in: String,
    /// The name it is recorded under (`host` or `[host]:port`).
    pub known_as: String,
}

/// What the review says about host keys and secrets during the install.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct InstallTrust {
    /// The key the installed system will have (none when nixdeck cannot give it one).
    pub host_key: Option<PlannedHostKey>,
    /// What nixdeck checks, one sentence each.
    pub verified: Vec<String>,
    /// What nobody checks, one sentence each.
    pub not_verified: Vec<String>,
    /// The layout's LUKS volumes and where each reads its passphrase.
    pub luks_volumes: Vec<LuksVolumeNeed>,
    /// The install needs the LUKS passphrase typed (twice).
    pub needs_luks_passphrase: bool,
    /// Why the install cannot start as the layout is, if it cannot (a LUKS
    /// volume disko would prompt for).
    pub blocked: Option<String>,
}

/// Host keys made for a review and kept (private, in memory and a 0700
/// directory) until the install of that host starts, so the key the review
/// showed is the key installed.
#[derive(Default)]
pub(crate) struct PreparedHostKeys(Mutex<HashMap<(PathBuf, String), NewHostKey>>);

impl PreparedHostKeys {
    fn guard(&self) -> std::sync::MutexGuard<'_, HashMap<(PathBuf, String), NewHostKey>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Whether the install copies a host key in: it runs the install phase, and
/// the person gave no `--extra-files` of their own (nixos-anywhere takes one).
pub fn gives_host_key(options: &InstallOptions) -> bool {
    let installs = options
        .phases
        .as_ref()
        .is_none_or(|p| p.contains(&InstallPhase::Install));
    installs && options.extra_files.is_none()
}

/// The LUKS volumes of `request.host`'s `disko.nix`.
pub(crate) async fn luks_volumes(request: &InstallRequest) -> ApiResult<Vec<LuksVolumeNeed>> {
    let disko = request
        .repo
        .join("hosts")
        .join(&request.host)
        .join("disko.nix");
    if !disko.exists() {
        // Devices defined elsewhere: the command line's --luks-key-path
        // names their passphrase files.
        return Ok(Vec::new());
    }
    let layout = disko_file::load(&disko, &LoadOptions::for_file(&disko)).await?;
    Ok(secrets::luks_volumes(&layout))
}

/// `options` as the review shows them: the planned secrets as placeholders.
pub(crate) fn shown_options(
    options: &InstallOptions,
    trust: &InstallTrust,
    extra_luks_paths: &[String],
    ssh_password: bool,
) -> InstallOptions {
    let mut shown = options.clone();
    if gives_host_key(options) {
        shown.extra_files = Some(HOST_KEY_DIR.into());
    }
    for remote in uncovered_paths(options, &trust.luks_volumes, extra_luks_paths) {
        shown.disk_encryption_keys.push(DiskEncryptionKey {
            remote_path: remote,
            local_file: SECRET_FILE.into(),
        });
    }
    shown.env_password |= ssh_password;
    shown
}

/// The passphrase paths (the layout's, and `extra` asked for) the person's
/// own `--disk-encryption-keys` do not cover.
fn uncovered_paths(
    options: &InstallOptions,
    volumes: &[LuksVolumeNeed],
    extra: &[String],
) -> Vec<String> {
    let mut paths = secrets::passphrase_paths(volumes);
    for p in extra {
        if !paths.contains(p) {
            paths.push(p.clone());
        }
    }
    paths
        .into_iter()
        .filter(|p| {
            !options
                .disk_encryption_keys
                .iter()
                .any(|k| &k.remote_path == p)
        })
        .collect()
}

/// The refusal for volumes disko would prompt for, if any.
fn prompt_refusal(host: &str, volumes: &[LuksVolumeNeed]) -> Option<String> {
    let asked: Vec<String> = volumes
        .iter()
        .filter(|v| v.source == PassphraseSource::Prompt)
        .map(|v| format!("`{}` ({})", v.name, v.at))
        .collect();
    (!asked.is_empty()).then(|| {
        format!(
            "the layout of {host} has LUKS volumes disko would ask a passphrase for on a terminal, which an install from nixdeck never has: {}",
            asked.join(", ")
        )
    })
}

impl From<host_key::HostKeyError> for ApiError {
    fn from(err: host_key::HostKeyError) -> Self {
        let code = match err {
            host_key::HostKeyError::Keygen(_) => crate::ErrorCode::ToolMissing,
            _ => crate::ErrorCode::Internal,
        };
        ApiError::new(code, err.to_string())
    }
}

const PROMPT_HINT: &str = "Set passwordFile = \"/tmp/secret.key\"; on each of them (the layout editor's LUKS options), then enter the passphrase in the install form; nixdeck copies it there with --disk-encryption-keys.";

/// What the review's words depend on.
pub(crate) struct TrustInput<'a> {
    pub repo: &'a Path,
    pub host: &'a str,
    pub options: &'a InstallOptions,
    /// known_hosts the install checks with and records in (`None`: the default).
    pub known_hosts: Option<PathBuf>,
    pub ssh_password: bool,
    /// See [`InstallRequest::luks_key_paths`].
    pub luks_key_paths: &'a [String],
    /// Make the new system's key now (a review), or only say one will be
    /// made (`nixdeck plan`, which shows and keeps nothing).
    pub make_key: bool,
}

impl Api {
    /// The host key the review shows: made once and kept until the install
    /// of that host starts (none when the install copies no key in).
    async fn planned_host_key(
        &self,
        input: &TrustInput<'_>,
        target: &HostTarget,
    ) -> ApiResult<Option<PlannedHostKey>> {
        if !gives_host_key(input.options) || !input.make_key {
            return Ok(None);
        }
        let slot = (input.repo.to_path_buf(), input.host.to_string());
        let known = self
            .prepared_host_keys
            .guard()
            .get(&slot)
            .map(|k| (k.public.clone(), k.fingerprint.clone()));
        let (public, fingerprint) = match known {
            Some(k) => k,
            None => {
                let key = NewHostKey::generate(input.host).await?;
                let shown = (key.public.clone(), key.fingerprint.clone());
                self.prepared_host_keys.guard().insert(slot, key);
                shown
            }
        };
        Ok(Some(PlannedHostKey {
            public,
            fingerprint,
            recorded_in: input
                .known_hosts
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "~/.ssh/known_hosts".into()),
            known_as: host_entry_name(&target.address, target.port.unwrap_or(22)),
        }))
    }

    /// The known_hosts file an install checks with and records in.
    fn install_known_hosts(&self, request: &InstallRequest) -> Option<PathBuf> {
        request
            .known_hosts
            .clone()
            .or_else(|| self.known_hosts_path())
    }

    /// The review's words on host keys and secrets for `request`, without the
    /// disk checks (the command line asks it to know which secrets to read).
    pub async fn install_review_trust(&self, request: &InstallRequest) -> ApiResult<InstallTrust> {
        let (target, _, _) = crate::install::install_target(request).await?;
        self.install_trust(request, &target, true).await
    }

    /// The review's words and the LUKS needs for `request` going to `target`.
    pub(crate) async fn install_trust(
        &self,
        request: &InstallRequest,
        target: &HostTarget,
        make_key: bool,
    ) -> ApiResult<InstallTrust> {
        let volumes = luks_volumes(request).await?;
        let input = TrustInput {
            repo: &request.repo,
            host: &request.host,
            options: &request.options,
            known_hosts: self.install_known_hosts(request),
            ssh_password: request.secrets.ssh_password.is_some(),
            luks_key_paths: &request.luks_key_paths,
            make_key,
        };
        self.trust_for(&input, target, volumes).await
    }

    /// The review's words for an install of `input` to `target`, whose layout
    /// has `volumes`.
    pub(crate) async fn trust_for(
        &self,
        input: &TrustInput<'_>,
        target: &HostTarget,
        volumes: Vec<LuksVolumeNeed>,
    ) -> ApiResult<InstallTrust> {
        let host_key = self.planned_host_key(input, target).await?;
        let where_ = format!("{}@{}", target.user, target.address);
        let mut verified = vec![format!(
            "When the install starts, nixdeck connects to {where_} over its own SSH with strict host-key checking (the key recorded in known_hosts) and reads the disks again: every disk to be erased must be the one you confirmed, or nothing runs."
        )];
        let mut not_verified = vec![
            "nixos-anywhere's own SSH connections (uploading its key, kexec, disko, copying the system, installing) are not host-key checked: it passes StrictHostKeyChecking=no and UserKnownHostsFile=/dev/null ahead of any option nixdeck could add. Someone able to intercept traffic to the target during the install could answer in its place.".to_string(),
            "nixdeck does not check again between kexec and disko: that would be a connection of its own and prove nothing about nixos-anywhere's next one.".to_string(),
        ];
        match &host_key {
            None if gives_host_key(input.options) => verified.push(
                "The installed system's SSH host key is made here when the install starts and copied into it with --extra-files; after a successful install it replaces the keys recorded for the host in known_hosts, so the first connection to the new system is checked strictly.".to_string(),
            ),
            Some(key) => verified.push(format!(
                "The installed system's SSH host key is made here before the install (ED25519 {}) and copied into it with --extra-files; after a successful install it replaces the keys recorded for {} in {}, so the first connection to the new system (nixdeck, colmena, ssh) is checked strictly.",
                key.fingerprint, key.known_as, key.recorded_in
            )),
            None => not_verified.push(
                "The installed system makes its own host key on first boot (this install runs no install phase, or gives its own --extra-files): nixdeck cannot know it in advance; confirm the fingerprint shown on the first connection.".to_string(),
            ),
        }
        if input.ssh_password {
            not_verified.push("The SSH password goes to nixos-anywhere in its environment (SSHPASS, for sshpass) and over its unchecked connection.".to_string());
        }
        let paths = uncovered_paths(input.options, &volumes, input.luks_key_paths);
        if !paths.is_empty() {
            not_verified.push(format!(
                "The LUKS passphrase is copied to {} on the installer over that same unchecked connection.",
                paths.join(", ")
            ));
        }
        Ok(InstallTrust {
            host_key,
            verified,
            not_verified,
            needs_luks_passphrase: !paths.is_empty(),
            blocked: prompt_refusal(input.host, &volumes),
            luks_volumes: volumes,
        })
    }

    /// nixos-anywhere's options as the review shows them: with the planned
    /// secrets as placeholders (never their values).
    pub(crate) fn shown_options(
        &self,
        request: &InstallRequest,
        trust: &InstallTrust,
    ) -> InstallOptions {
        shown_options(
            &request.options,
            trust,
            &request.luks_key_paths,
            request.secrets.ssh_password.is_some(),
        )
    }

    /// Checks the typed secrets against the layout and prepares what the job
    /// carries: refuses a LUKS volume disko would prompt for, a missing or
    /// mistyped passphrase, an empty password. Runs before anything connects.
    pub(crate) async fn install_secrets(
        &self,
        request: &InstallRequest,
        target: &HostTarget,
    ) -> ApiResult<requests::InstallSecrets> {
        let volumes = luks_volumes(request).await?;
        if let Some(refusal) = prompt_refusal(&request.host, &volumes) {
            return Err(ApiError::invalid(refusal).with_hint(PROMPT_HINT));
        }
        let s = &request.secrets;
        let paths = uncovered_paths(&request.options, &volumes, &request.luks_key_paths);
        let luks = match (&s.luks_passphrase, paths.is_empty()) {
            (_, true) => None,
            (None, false) => {
                return Err(ApiError::invalid(format!(
                    "the layout of {} encrypts disks (LUKS, passphrase read from {}): enter the passphrase to install",
                    request.host,
                    paths.join(", ")
                ))
                .with_hint("Type it twice in the install form; on the command line it is asked without echo, or read with --luks-passphrase-file."))
            }
            (Some(p), false) => {
                if p.is_empty() {
                    return Err(ApiError::invalid("the LUKS passphrase is empty: type one"));
                }
                if s.luks_passphrase_again.as_ref().is_some_and(|again| again != p) {
                    return Err(ApiError::invalid(
                        "the two LUKS passphrases differ: type the same passphrase twice",
                    ));
                }
                Some(LuksPassphrase {
                    remote_paths: paths,
                    passphrase: p.clone(),
                })
            }
        };
        if s.ssh_password.as_ref().is_some_and(Secret::is_empty) {
            return Err(ApiError::invalid(
                "the SSH password is empty: type it, or leave the field out to log in with a key",
            ));
        }
        let mut out = requests::InstallSecrets {
            luks,
            ssh_password: s.ssh_password.clone(),
            ..Default::default()
        };
        if gives_host_key(&request.options) {
            let slot = (request.repo.clone(), request.host.clone());
            let prepared = self.prepared_host_keys.guard().remove(&slot);
            let key = match prepared {
                Some(key) => key,
                None => NewHostKey::generate(&request.host).await?,
            };
            let file = self.install_known_hosts(request);
            let (address, port) = (target.address.clone(), target.port.unwrap_or(22));
            let (public, fingerprint) = (key.public.clone(), key.fingerprint.clone());
            out.after_success = Some(AfterSuccess(Box::new(move || {
                match host_key::record(file.as_deref(), &address, port, &public) {
                    Ok(path) => format!(
                        "the new system's host key ED25519 {fingerprint} is recorded for {} in {}: the first connection to it is checked strictly",
                        host_entry_name(&address, port),
                        path.display()
                    ),
                    Err(e) => format!(
                        "the new system's host key ED25519 {fingerprint} could NOT be recorded ({e}): compare it with the fingerprint shown on the first connection"
                    ),
                }
            })));
            out.host_key = Some(key);
        }
        Ok(out)
    }
}
