//! Where nixdeck keeps its [`WrittenRecord`]: `.nixdeck/written.json` in the
//! repository's root, ignored by git (see `docs/repositories.md`).

use nixdeck_core::repo::WrittenRecord;
use std::path::{Path, PathBuf};

/// Repository-relative path of the record.
pub const RECORD_PATH: &str = ".nixdeck/written.json";

fn path(root: &Path) -> PathBuf {
    root.join(RECORD_PATH)
}

/// The record of `root`; empty when there is none or it cannot be read (then every
/// existing file counts as not written by nixdeck, the safe side).
pub fn load(root: &Path) -> WrittenRecord {
    std::fs::read(path(root))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

/// Saves the record atomically.
pub fn save(root: &Path, record: &WrittenRecord) -> std::io::Result<()> {
    let text = serde_json::to_vec_pretty(record).map_err(std::io::Error::other)?;
    crate::atomic::write_atomic(&path(root), &text)
}
