//! Recently opened repositories, remembered across restarts in the app's data
//! directory (most recent first, at most [`MAX_RECENT`]).

use crate::atomic::write_atomic;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// How many repositories the start screen remembers.
pub const MAX_RECENT: usize = 12;

/// One remembered repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct RecentRepo {
    pub path: PathBuf,
    /// Seconds since the Unix epoch when it was last opened.
    pub opened_at: u64,
}

/// The list, stored as JSON at `<data dir>/recent.json`.
#[derive(Debug)]
pub struct RecentRepos {
    file: PathBuf,
}

impl RecentRepos {
    pub fn new(data_dir: &Path) -> Self {
        Self {
            file: data_dir.join("recent.json"),
        }
    }

    /// The remembered repositories; an unreadable or corrupt file reads as empty
    /// rather than blocking the start screen.
    pub fn list(&self) -> Vec<RecentRepo> {
        std::fs::read(&self.file)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// Moves `path` to the front (adding it if new) and saves.
    pub fn touch(&self, path: &Path, now: u64) -> std::io::Result<Vec<RecentRepo>> {
        let mut list = self.list();
        list.retain(|r| r.path != path);
        list.insert(
            0,
            RecentRepo {
                path: path.to_path_buf(),
                opened_at: now,
            },
        );
        list.truncate(MAX_RECENT);
        self.save(&list)?;
        Ok(list)
    }

    /// Forgets `path` (e.g. a repository that was deleted).
    pub fn forget(&self, path: &Path) -> std::io::Result<Vec<RecentRepo>> {
        let mut list = self.list();
        list.retain(|r| r.path != path);
        self.save(&list)?;
        Ok(list)
    }

    fn save(&self, list: &[RecentRepo]) -> std::io::Result<()> {
        let bytes = serde_json::to_vec_pretty(list).map_err(std::io::Error::other)?;
        write_atomic(&self.file, &bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_recent_first_without_duplicates_and_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let recent = RecentRepos::new(dir.path());
        for i in 0..20u64 {
            recent.touch(Path::new(&format!("/repo/{i}")), i).unwrap();
        }
        recent.touch(Path::new("/repo/5"), 100).unwrap();
        let list = RecentRepos::new(dir.path()).list();
        assert_eq!(list.len(), MAX_RECENT);
        assert_eq!(list[0].path, Path::new("/repo/5"));
        assert_eq!(list[1].path, Path::new("/repo/19"));
        assert_eq!(
            list.iter()
                .filter(|r| r.path == Path::new("/repo/5"))
                .count(),
            1
        );
    }

    #[test]
    fn corrupt_file_reads_as_empty() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("recent.json"), b"{not json").unwrap();
        assert!(RecentRepos::new(dir.path()).list().is_empty());
    }
}
