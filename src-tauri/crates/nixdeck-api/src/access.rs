//! No lockout: whether the person will be able to log in once a host's
//! configuration runs (a key this machine holds is authorized for the target user
//! and sshd is on), read from the host's configuration files. Install and deploy
//! refuse a configuration that would lock the person out ([`Api::require_login`]),
//! unless they say they know better (`allow_lockout`: the window's checkbox, the
//! command line's `--allow-lockout`).

use crate::hosts::host_name;
use crate::{Api, ApiError, ApiResult, ErrorCode};
use nixdeck_core::repo::access::{self, Access, ConfigFile};
use nixdeck_engine::ssh::keys;
use std::path::{Path, PathBuf};

/// Files larger than this are not configuration a person wrote.
const MAX_FILE: u64 = 1 << 20;

/// The `.nix` files that make up `host`'s configuration as far as text goes: its
/// own folder first, then everything outside `hosts/` (shared modules, flake.nix).
fn config_files(repo: &Path, host: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![repo.to_path_buf()];
    let own = repo.join("hosts").join(host);
    let mut own_files = Vec::new();
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        entries.sort();
        for path in entries {
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            if meta.is_dir() {
                let skip = name.as_deref().is_some_and(|n| n.starts_with('.'))
                    || (path.parent() == Some(&repo.join("hosts")) && path != own);
                if !skip {
                    stack.push(path);
                }
            } else if meta.is_file()
                && meta.len() <= MAX_FILE
                && path.extension().is_some_and(|e| e == "nix")
            {
                if let Ok(text) = std::fs::read_to_string(&path) {
                    let rel = path
                        .strip_prefix(repo)
                        .unwrap_or(&path)
                        .to_string_lossy()
                        .into_owned();
                    if path.starts_with(&own) {
                        own_files.push((rel, text));
                    } else {
                        out.push((rel, text));
                    }
                }
            }
        }
    }
    own_files.sort_by_key(|(p, _)| !p.ends_with("configuration.nix"));
    own_files.extend(out);
    own_files
}

impl Api {
    /// Whether `user` can log in to `host` once its configuration from `repo` runs,
    /// with a key this machine holds (`~/.ssh/*.pub`, the agent, `extra_key`'s `.pub`).
    pub async fn login_after(
        &self,
        repo: &Path,
        host: &str,
        user: &str,
        extra_key: Option<&Path>,
    ) -> ApiResult<Access> {
        self.login_after_writing(repo, host, user, extra_key, None)
            .await
    }

    /// [`Api::login_after`] as it will be once `configuration` (the text the
    /// wizard is about to write as `hosts/<host>/configuration.nix`) is written.
    pub(crate) async fn login_after_writing(
        &self,
        repo: &Path,
        host: &str,
        user: &str,
        extra_key: Option<&Path>,
        configuration: Option<&str>,
    ) -> ApiResult<Access> {
        host_name(host)?;
        let mut files = config_files(repo, host);
        if let Some(text) = configuration {
            let path = format!("hosts/{host}/configuration.nix");
            files.retain(|(p, _)| *p != path);
            files.insert(0, (path, text.to_string()));
        }
        let config: Vec<ConfigFile<'_>> = files
            .iter()
            .map(|(path, text)| ConfigFile { path, text })
            .collect();
        let mut local: Vec<String> = keys::local_public_keys(keys::default_ssh_dir().as_deref())
            .await
            .into_iter()
            .map(|k| k.key)
            .collect();
        if let Some(private) = extra_key {
            let mut public = private.as_os_str().to_owned();
            public.push(".pub");
            if let Ok(text) = std::fs::read_to_string(PathBuf::from(public)) {
                local.push(text.trim().to_string());
            }
        }
        Ok(access::login_after(&config, user, &local))
    }
}

impl Api {
    /// [`Api::login_after`], refusing when the host would be [`Access::Locked`]
    /// (unless `allow_lockout`): `action` says what would lock it (`installing`,
    /// `deploying`). An unsure answer lets it go on, as the review shows it.
    pub(crate) async fn require_login(
        &self,
        repo: &Path,
        host: &str,
        user: &str,
        extra_key: Option<&Path>,
        action: &str,
        allow_lockout: bool,
    ) -> ApiResult<Access> {
        let access = self.login_after(repo, host, user, extra_key).await?;
        match &access {
            Access::Locked { reason, fix } if !allow_lockout => Err(ApiError::new(
                ErrorCode::Lockout,
                format!("{action} {host} would lock you out (as {user}): {reason}"),
            )
            .with_hint(format!(
                "To fix it, {fix}. If you will log in another way (a console, keys the build fetches), \
                 tick \"I can log in another way\" in the window or pass --allow-lockout on the command line."
            ))),
            _ => Ok(access),
        }
    }
}
