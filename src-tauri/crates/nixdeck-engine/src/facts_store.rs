//! Where a host's probed facts are kept: `<repo>/.nixdeck/facts/<host>.json`.
//!
//! Inside the repository, so the layout editor works offline later and the
//! install's disk re-check compares against exactly the facts the person saw on
//! the review step; under `.nixdeck/`, which new repositories ignore in git, since
//! facts are one working copy's observation of a machine (serials, mounts), not
//! configuration to share.

use nixdeck_core::facts::HostFacts;
use nixdeck_core::repo::HostName;
use std::path::{Path, PathBuf};

/// `<repo>/.nixdeck/facts/<host>.json`.
pub fn path(repo: &Path, host: &HostName) -> PathBuf {
    repo.join(".nixdeck")
        .join("facts")
        .join(format!("{}.json", host.as_str()))
}

/// The stored facts of `host`, `None` when it was never probed from this repository
/// (or the file is unreadable: probing again rewrites it).
pub fn load(repo: &Path, host: &HostName) -> Option<HostFacts> {
    let text = std::fs::read(path(repo, host)).ok()?;
    serde_json::from_slice(&text).ok()
}

/// Stores `facts` for `host`, atomically; refused when `.nixdeck/` (or a folder
/// under it) is a link leading out of the repository.
pub fn save(repo: &Path, host: &HostName, facts: &HostFacts) -> std::io::Result<PathBuf> {
    let rel = format!(".nixdeck/facts/{}.json", host.as_str());
    crate::repo::inside(repo, &rel).map_err(|e| std::io::Error::other(e.to_string()))?;
    let file = path(repo, host);
    let json = serde_json::to_vec_pretty(facts).map_err(std::io::Error::other)?;
    crate::atomic::write_atomic(&file, &json)?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_round_trip_under_dot_nixdeck() {
        let dir = tempfile::tempdir().unwrap();
        let host = HostName::new("web-1").unwrap();
        assert_eq!(load(dir.path(), &host), None);
        let facts = HostFacts {
            hostname: "rescue".into(),
            memory_bytes: 4 << 30,
            ..HostFacts::default()
        };
        let file = save(dir.path(), &host, &facts).unwrap();
        assert_eq!(file, dir.path().join(".nixdeck/facts/web-1.json"));
        assert_eq!(load(dir.path(), &host), Some(facts));
    }

    #[test]
    fn facts_are_not_written_through_a_link_out_of_the_repository() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join(".nixdeck")).unwrap();
        let host = HostName::new("web-1").unwrap();
        let err = save(dir.path(), &host, &HostFacts::default()).unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
    }
}
