//! Which nixos-anywhere and colmena a repository's jobs run: its `flake.lock`
//! read from disk and described (see [`nixdeck_core::tools::pins`]), for the
//! doctor, the job page and the deploy command's choice of colmena.

use nixdeck_core::tools::pins::{self, FlakeLock, LockError, LockState, Pinning, ToolVersion};
use nixdeck_core::tools::plan::{ColmenaPin, ToolSettings, ToolSource};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// The lock file's name in a flake's directory.
pub const FLAKE_LOCK: &str = "flake.lock";

/// Why the tool versions of a repository could not be read.
#[derive(Debug, Error)]
pub enum ToolsError {
    #[error("could not read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Lock(#[from] LockError),
}

/// The repository's `flake.lock`, `None` when it has none yet.
pub fn read_flake_lock(repo: &Path) -> Result<Option<FlakeLock>, ToolsError> {
    let path = repo.join(FLAKE_LOCK);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some(pins::parse_flake_lock(&text)?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ToolsError::Read { path, source }),
    }
}

/// Which nixos-anywhere and colmena jobs in `repo` run with `settings`, e.g.
/// "nixos-anywhere from nixpkgs 2025-05-28 (3f0a8ac)". Tools from PATH are
/// looked up there.
pub fn tool_versions(settings: &ToolSettings, repo: &Path) -> Result<Vec<ToolVersion>, ToolsError> {
    let lock = read_flake_lock(repo)?;
    let state = match &lock {
        Some(lock) => LockState::Read(lock),
        None => LockState::Missing,
    };
    let mut tools = pins::tool_versions(settings, state);
    if settings.tool_source() == ToolSource::Path {
        for tool in &mut tools {
            match find_on_path(tool.tool) {
                Some(found) => tool.summary = format!("{} at {}", tool.tool, found.display()),
                None => {
                    tool.summary = format!("{} not found on PATH", tool.tool);
                    tool.note = Some(format!(
                        "install {} or choose the pinned tools, which nix fetches itself",
                        tool.tool
                    ));
                }
            }
        }
    }
    Ok(tools)
}

/// Where the pinned colmena comes from for `repo`. A lock nixdeck cannot read
/// counts as having the `colmena` input new repositories have: nix then
/// reports the damaged lock itself when the deploy runs.
pub fn colmena_pin(repo: &Path) -> ColmenaPin {
    pins::colmena_pin(read_flake_lock(repo).ok().flatten().as_ref())
}

/// Whether every tool a job will run is fixed by `flake.lock`.
pub fn all_pinned(tools: &[ToolVersion]) -> bool {
    tools.iter().all(|t| t.pinning == Pinning::Pinned)
}

/// The first executable called `name` in PATH's directories.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .filter(|dir| dir.is_absolute())
        .map(|dir| dir.join(name))
        .find(|file| {
            std::fs::metadata(file)
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pinned() -> ToolSettings {
        ToolSettings {
            flakes_enabled: true,
            ..ToolSettings::default()
        }
    }

    #[test]
    fn reads_the_lock_beside_the_flake() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_flake_lock(dir.path()).unwrap().is_none());
        assert_eq!(colmena_pin(dir.path()), ColmenaPin::Input);
        let none = tool_versions(&pinned(), dir.path()).unwrap();
        assert!(!all_pinned(&none));

        let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../tests/fixtures/locks/no-colmena.lock");
        std::fs::copy(&fixture, dir.path().join(FLAKE_LOCK)).unwrap();
        assert_eq!(colmena_pin(dir.path()), ColmenaPin::Nixpkgs);
        let tools = tool_versions(&pinned(), dir.path()).unwrap();
        assert!(all_pinned(&tools));
        assert_eq!(
            tools[0].summary,
            "nixos-anywhere from nixpkgs 2025-03-01 (b9d43b3)"
        );

        std::fs::write(dir.path().join(FLAKE_LOCK), "{").unwrap();
        assert!(matches!(
            tool_versions(&pinned(), dir.path()),
            Err(ToolsError::Lock(LockError::Json(_)))
        ));
        // A damaged lock leaves the colmena input in place; nix reports the lock.
        assert_eq!(colmena_pin(dir.path()), ColmenaPin::Input);
    }

    #[test]
    fn finds_executables_on_path_only() {
        assert!(find_on_path("sh").is_some_and(|p| p.is_absolute()));
        assert_eq!(find_on_path("nixdeck-no-such-tool"), None);
    }
}
