//! The host page: the host's files, the hardware configuration an install left
//! (made known to git, committed on request), and the host key after a
//! reinstall (old and new fingerprints side by side, replaced on request).

use crate::hosts::host_name;
use crate::targets::{read_targets, ssh_target};
use crate::{Api, ApiError, ApiResult, ErrorCode};
use nixdeck_engine::repo::git;
use nixdeck_engine::ssh::{known_hosts, Auth, HostKeyPolicy, Session, SshError, SshTarget};
use serde::{Deserialize, Serialize};
use std::path::Path;
use ts_rs::TS;

/// A host's files as they are.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct HostFiles {
    /// `hosts/<host>/configuration.nix`.
    pub configuration: Option<String>,
    /// `hosts/<host>/disko.nix`.
    pub disko: Option<String>,
    /// `hosts/<host>/hardware-configuration.nix`.
    pub hardware: Option<String>,
    /// `disko.nix` in plain words (one line per disk and group, with the probed
    /// models and sizes), when it could be read.
    pub summary: Option<Vec<String>>,
}

/// Where the install left the hardware configuration.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct HardwareStatus {
    /// Repository-relative path.
    pub path: String,
    /// The file exists.
    pub exists: bool,
    /// git knows it (so the flake sees it).
    pub tracked: bool,
    /// It has changes not committed yet.
    pub uncommitted: bool,
    /// What those changes are (a reinstall rewrites the file): the unified diff
    /// from the committed text to the file on disk, shown before the commit is
    /// offered; empty when nothing is uncommitted.
    pub diff: String,
}

/// What the host presents now against what known_hosts records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum HostKeyStatus {
    /// The recorded key.
    Matches,
    /// Another key than the recorded one.
    Changed,
    /// No key is recorded.
    Unknown,
    /// The host could not be reached.
    Unreachable,
}

/// The host key check: both fingerprints when they differ.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct HostKeyCheck {
    /// What was found.
    pub status: HostKeyStatus,
    /// The name known_hosts records it under (`[host]:port`).
    pub known_as: Option<String>,
    /// The recorded key's fingerprint (when it changed).
    pub old_fingerprint: Option<String>,
    /// The presented key's fingerprint.
    pub new_fingerprint: Option<String>,
    /// Why it could not be checked, or what else happened.
    pub message: Option<String>,
}

fn hardware_path(host: &str) -> String {
    format!("hosts/{host}/hardware-configuration.nix")
}

fn git_error(err: git::GitError) -> ApiError {
    ApiError::new(ErrorCode::ProcessFailed, err.to_string()).with_hint(
        "git needs a user name and e-mail to commit (`git config user.name …`, `git config user.email …`).",
    )
}

async fn host_ssh_target(repo: &Path, host: &str) -> ApiResult<SshTarget> {
    host_name(host)?;
    let targets = read_targets(repo).await?;
    Ok(ssh_target(&targets.find(host)?.1))
}

impl Api {
    /// Reads `hosts/<host>/{configuration,disko,hardware-configuration}.nix`, and
    /// says what the disk layout holds in plain words.
    pub async fn host_files(&self, repo: &Path, host: &str) -> ApiResult<HostFiles> {
        host_name(host)?;
        let dir = repo.join("hosts").join(host);
        let read = |name: &str| std::fs::read_to_string(dir.join(name)).ok();
        let summary = self
            .layout_from_repo(repo, host)
            .await
            .ok()
            .flatten()
            .map(|view| view.summary);
        Ok(HostFiles {
            configuration: read("configuration.nix"),
            disko: read("disko.nix"),
            hardware: read("hardware-configuration.nix"),
            summary,
        })
    }

    /// The hardware configuration after an install: made known to git (a flake
    /// sees only files git knows), and whether it still needs a commit.
    pub async fn hardware_status(&self, repo: &Path, host: &str) -> ApiResult<HardwareStatus> {
        host_name(host)?;
        let path = hardware_path(host);
        let exists = repo.join(&path).is_file();
        if exists {
            git::intent_to_add(repo, std::slice::from_ref(&path))
                .await
                .map_err(git_error)?;
        }
        let uncommitted = git::has_uncommitted(repo, &path).await.map_err(git_error)?;
        let diff = if uncommitted {
            git::diff_head(repo, &path).await?
        } else {
            String::new()
        };
        Ok(HardwareStatus {
            tracked: git::is_tracked(repo, &path).await.map_err(git_error)?,
            uncommitted,
            diff,
            path,
            exists,
        })
    }

    /// Commits the hardware configuration alone ("add hardware configuration for <host>").
    pub async fn commit_hardware_config(
        &self,
        repo: &Path,
        host: &str,
    ) -> ApiResult<HardwareStatus> {
        host_name(host)?;
        let path = hardware_path(host);
        let message = format!("add hardware configuration for {host}");
        git::commit_paths(repo, std::slice::from_ref(&path), &message)
            .await
            .map_err(git_error)?;
        self.hardware_status(repo, host).await
    }

    /// Connects to `host` with recorded host keys only and says whether its key changed.
    pub async fn check_host_key(&self, repo: &Path, host: &str) -> ApiResult<HostKeyCheck> {
        let target = host_ssh_target(repo, host).await?;
        Ok(self.key_check(&target).await.0)
    }

    /// The check, and the known_hosts file that records the old key (which
    /// `UserKnownHostsFile` may have put elsewhere than `~/.ssh`).
    async fn key_check(&self, target: &SshTarget) -> (HostKeyCheck, Option<std::path::PathBuf>) {
        let none = HostKeyCheck {
            status: HostKeyStatus::Matches,
            known_as: None,
            old_fingerprint: None,
            new_fingerprint: None,
            message: None,
        };
        let connect = self.connect_options(Auth::Default, HostKeyPolicy::Strict);
        let check = match Session::connect(target, &connect).await {
            Ok(session) => {
                session.close().await;
                none
            }
            Err(SshError::HostKeyMismatch {
                host,
                fingerprint,
                known_fingerprint,
                known_hosts,
                ..
            }) => {
                let changed = HostKeyCheck {
                    status: HostKeyStatus::Changed,
                    known_as: Some(host),
                    old_fingerprint: Some(known_fingerprint),
                    new_fingerprint: Some(fingerprint),
                    message: None,
                };
                return (changed, Some(known_hosts));
            }
            Err(SshError::HostKeyUnknown {
                host, fingerprint, ..
            }) => HostKeyCheck {
                status: HostKeyStatus::Unknown,
                known_as: Some(host),
                new_fingerprint: Some(fingerprint),
                ..none
            },
            // The key is checked before logging in: a login failure means it matched.
            Err(e @ SshError::AuthFailed { .. }) => HostKeyCheck {
                message: Some(e.to_string()),
                ..none
            },
            Err(e) => HostKeyCheck {
                status: HostKeyStatus::Unreachable,
                message: Some(e.to_string()),
                ..none
            },
        };
        (check, None)
    }

    /// Replaces `host`'s recorded key by the one with `fingerprint`, which the
    /// person saw: the old entry goes from known_hosts, then a connection records
    /// the new key only if it still has that fingerprint.
    pub async fn replace_host_key(
        &self,
        repo: &Path,
        host: &str,
        fingerprint: &str,
    ) -> ApiResult<HostKeyCheck> {
        let target = host_ssh_target(repo, host).await?;
        let (check, file) = self.key_check(&target).await;
        if check.new_fingerprint.as_deref() != Some(fingerprint) {
            return Err(ApiError::new(
                ErrorCode::HostKeyMismatch,
                format!(
                    "{host} now presents {}, not the key {fingerprint} you confirmed",
                    check.new_fingerprint.as_deref().unwrap_or("no key")
                ),
            )
            .with_hint(
                "Check the host again and compare the fingerprints before replacing anything.",
            ));
        }
        if let (Some(known_as), HostKeyStatus::Changed) = (&check.known_as, check.status) {
            let file = file.or_else(|| self.known_hosts_path());
            known_hosts::remove_host(file.as_deref(), known_as)?;
        }
        let opts = self.connect_options(
            Auth::Default,
            HostKeyPolicy::TrustFingerprint(fingerprint.to_string()),
        );
        match Session::connect(&target, &opts).await {
            Ok(session) => session.close().await,
            // Recorded before login; a login failure does not undo it.
            Err(SshError::AuthFailed { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        self.check_host_key(repo, host).await
    }
}
