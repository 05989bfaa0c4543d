//! Repositories: open one nixdeck did or did not write, create one in the
//! article's layout, and the list of repositories opened before.

use crate::{Api, ApiError, ApiResult};
use nixdeck_core::repo::{FlakeSpec, RepoView};
use nixdeck_engine::recent::RecentRepo;
use nixdeck_engine::repo::{self, Applied, Confirm};
use std::path::{Path, PathBuf};

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The repository folder, absolute, checked to hold a `flake.nix`.
pub fn repo_dir(dir: &Path) -> ApiResult<PathBuf> {
    let dir = std::fs::canonicalize(dir).map_err(|_| {
        ApiError::not_found(format!("the repository {} does not exist", dir.display()))
    })?;
    if !dir.join("flake.nix").is_file() {
        return Err(ApiError::not_found(format!(
            "{} has no flake.nix: open a nixdeck repository (or create one)",
            dir.display()
        ))
        .with_hint("Create one with `nixdeck project init DIR` or the start screen's Create."));
    }
    Ok(dir)
}

impl Api {
    /// Repositories opened before, most recent first.
    pub fn recent_repos(&self) -> Vec<RecentRepo> {
        self.recent.list()
    }

    /// Forgets a remembered repository (one that was moved away, say).
    pub fn forget_recent_repo(&self, path: &Path) -> ApiResult<Vec<RecentRepo>> {
        Ok(self.recent.forget(path)?)
    }

    /// Opens a repository (any flake with `hosts/<name>/`) and remembers it.
    pub async fn open_repo(&self, path: &Path) -> ApiResult<RepoView> {
        let view = repo::open_repo(path).await?;
        self.recent.touch(path, now())?;
        Ok(view)
    }

    /// Reads a repository without remembering it (the command line's `host list`).
    pub async fn read_repo(&self, path: &Path) -> ApiResult<RepoView> {
        Ok(repo::open_repo(path).await?)
    }

    /// Creates a repository in the article's layout (`flake.nix`,
    /// `modules/common.nix`, `.gitignore`, `git init`). Files already there that
    /// nixdeck would replace need `confirm`; an existing `flake.nix` is refused.
    pub async fn init_repo(
        &self,
        path: &Path,
        spec: &FlakeSpec,
        confirm: &Confirm,
    ) -> ApiResult<Applied> {
        Ok(repo::init_repo(path, spec, confirm).await?)
    }

    /// Creates a repository following `nixpkgs` (a branch of NixOS/nixpkgs), then
    /// opens and remembers it.
    pub async fn create_repo(&self, path: &Path, nixpkgs: &str) -> ApiResult<RepoView> {
        let spec = FlakeSpec {
            nixpkgs_ref: nixpkgs.to_string(),
            ..FlakeSpec::default()
        };
        // A new repository has no hand edits to protect, so nothing needs
        // confirming; an existing flake.nix makes init refuse instead.
        self.init_repo(path, &spec, &Confirm::Nothing).await?;
        self.open_repo(path).await
    }
}
