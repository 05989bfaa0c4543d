//! The git steps a flake needs: a flake only sees files git knows about, so every
//! file nixdeck creates is added with `--intent-to-add` ("path does not exist" on
//! an untracked file is the classic first-install failure), and removed files
//! leave the index.

use std::path::Path;
use std::process::Stdio;
use tokio::process::Command;

/// Why a git step failed.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("git was not found: install git (Debian: `apt install git`); flakes only see files git knows")]
    Missing,
    #[error("git {args} failed: {stderr}")]
    Failed { args: String, stderr: String },
    #[error("could not run git: {0}")]
    Spawn(#[source] std::io::Error),
}

async fn git(root: &Path, args: &[&str]) -> Result<String, GitError> {
    git_raw(root, args)
        .await
        .map(|out| String::from_utf8_lossy(&out).trim().to_string())
}

async fn git_raw(root: &Path, args: &[&str]) -> Result<Vec<u8>, GitError> {
    let output = Command::new("git")
        .args(args)
        .current_dir(root)
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                GitError::Missing
            } else {
                GitError::Spawn(e)
            }
        })?;
    if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(GitError::Failed {
            args: args.join(" "),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        })
    }
}

/// Whether `root` is inside a git work tree.
pub async fn is_work_tree(root: &Path) -> bool {
    git(root, &["rev-parse", "--is-inside-work-tree"])
        .await
        .is_ok_and(|out| out == "true")
}

/// `git init` in `root` unless it already is inside a work tree. Returns whether it ran.
pub async fn init(root: &Path) -> Result<bool, GitError> {
    if is_work_tree(root).await {
        return Ok(false);
    }
    git(root, &["init", "--quiet"]).await.map(|_| true)
}

/// `git add --intent-to-add` for `paths` (repository-relative).
pub async fn intent_to_add(root: &Path, paths: &[String]) -> Result<(), GitError> {
    if paths.is_empty() {
        return Ok(());
    }
    let mut args = vec!["add", "--intent-to-add", "--"];
    args.extend(paths.iter().map(String::as_str));
    git(root, &args).await.map(|_| ())
}

/// Drops deleted `paths` from the index (`git rm --cached`), so the flake stops seeing them.
pub async fn forget(root: &Path, paths: &[String]) -> Result<(), GitError> {
    if paths.is_empty() {
        return Ok(());
    }
    let mut args = vec!["rm", "--cached", "--quiet", "--ignore-unmatch", "--"];
    args.extend(paths.iter().map(String::as_str));
    git(root, &args).await.map(|_| ())
}

/// Whether git tracks `path` (repository-relative), counting intent-to-add entries.
pub async fn is_tracked(root: &Path, path: &str) -> Result<bool, GitError> {
    let listed = git(root, &["ls-files", "--", path]).await?;
    Ok(!listed.is_empty())
}

/// Whether `path` has changes git has not committed (staged, unstaged or untracked).
pub async fn has_uncommitted(root: &Path, path: &str) -> Result<bool, GitError> {
    let status = git(root, &["status", "--porcelain", "--", path]).await?;
    Ok(!status.is_empty())
}

/// Commits `paths` alone (whatever else is staged stays staged) with `message`.
pub async fn commit_paths(root: &Path, paths: &[String], message: &str) -> Result<(), GitError> {
    if paths.is_empty() {
        return Ok(());
    }
    let mut add = vec!["add", "--"];
    add.extend(paths.iter().map(String::as_str));
    git(root, &add).await?;
    let mut commit = vec!["commit", "--quiet", "-m", message, "--"];
    commit.extend(paths.iter().map(String::as_str));
    git(root, &commit).await.map(|_| ())
}

/// The unified diff (nixdeck's usual, [`nixdeck_core::repo::diff::unified`]) of
/// `path` (repository-relative) from its text at git `HEAD` to its text on disk:
/// what a reinstall changed in `hardware-configuration.nix`, shown before the commit
/// is offered. A file not in `HEAD` (or a repository without commits) diffs from
/// empty; a deleted file diffs to empty; empty when nothing changed.
pub async fn diff_head(root: &Path, path: &str) -> Result<String, super::RepoError> {
    if !super::is_repo_path(path) {
        return Err(super::RepoError::Io {
            path: root.join(path),
            source: std::io::Error::other("not a path inside the repository"),
        });
    }
    let file = super::inside(root, path)?;
    let now = match std::fs::read(&file) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(source) => return Err(super::RepoError::Io { path: file, source }),
    };
    let has_head = git(root, &["rev-parse", "--verify", "--quiet", "HEAD"])
        .await
        .is_ok();
    let spec = format!("HEAD:./{path}");
    let head = if !has_head {
        Vec::new()
    } else {
        // `cat-file -e` tells "not in HEAD" apart from a failing git.
        match git(root, &["cat-file", "-e", &spec]).await {
            Ok(_) => git_raw(root, &["cat-file", "blob", &spec]).await?,
            Err(GitError::Failed { .. }) => Vec::new(),
            Err(e) => return Err(e.into()),
        }
    };
    Ok(nixdeck_core::repo::diff::unified(
        path,
        &String::from_utf8_lossy(&head),
        &String::from_utf8_lossy(&now),
        3,
    ))
}
