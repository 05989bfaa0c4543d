//! Forgetting a host's recorded keys in-process, as `ssh-keygen -R` does: after a
//! reinstall the machine has new keys, and the old entry must go once the person
//! has seen both fingerprints.

use std::io::Write;
use std::path::Path;

/// Removes every line of the known_hosts file at `path` that records `known_as`
/// (`host` or `[host]:port`, plain or hashed), keeping comments and every other
/// line. The file is replaced atomically; a symlinked file stays a symlink (its
/// target is rewritten). Returns how many lines went.
pub fn remove_host(path: &Path, known_as: &str) -> std::io::Result<usize> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut kept = String::with_capacity(text.len());
    let mut removed = 0;
    for line in text.split_inclusive('\n') {
        if records(line, known_as) {
            removed += 1;
        } else {
            kept.push_str(line);
        }
    }
    if removed == 0 {
        return Ok(0);
    }
    // Write through a symlink to the file it points at, so a known_hosts kept
    // elsewhere (dotfiles) stays where the person put it.
    let real = std::fs::canonicalize(path)?;
    let dir = real.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(kept.as_bytes())?;
    tmp.as_file().sync_all()?;
    std::fs::set_permissions(tmp.path(), std::fs::metadata(&real)?.permissions())?;
    tmp.persist(&real).map_err(|e| e.error)?;
    Ok(removed)
}

/// Whether one known_hosts line records `name` (markers like `@revoked` are kept:
/// a revocation is not an entry to forget).
fn records(line: &str, name: &str) -> bool {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') || line.starts_with('@') {
        return false;
    }
    let hosts = line.split_whitespace().next().unwrap_or_default();
    if let Some(hashed) = hosts.strip_prefix("|1|") {
        return super::known_hosts::hashed_match(hashed, name);
    }
    hosts.split(',').any(|pattern| pattern == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";

    #[test]
    fn removes_plain_and_port_entries_of_that_host_only() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("known_hosts");
        let text = format!(
            "# mine\nweb-1 {KEY}\n[web-1]:2222 {KEY}\nweb-1,10.0.0.1 {KEY}\ndb-1 {KEY}\n@revoked web-1 {KEY}\n"
        );
        std::fs::write(&file, &text).unwrap();
        assert_eq!(remove_host(&file, "web-1").unwrap(), 2);
        let left = std::fs::read_to_string(&file).unwrap();
        assert_eq!(
            left,
            format!("# mine\n[web-1]:2222 {KEY}\ndb-1 {KEY}\n@revoked web-1 {KEY}\n")
        );
        assert_eq!(remove_host(&file, "[web-1]:2222").unwrap(), 1);
        assert_eq!(remove_host(&file, "nope").unwrap(), 0);
    }

    #[test]
    fn a_symlinked_file_stays_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("dotfiles-known_hosts");
        std::fs::write(&real, format!("web-1 {KEY}\ndb-1 {KEY}\n")).unwrap();
        let link = dir.path().join("known_hosts");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert_eq!(remove_host(&link, "web-1").unwrap(), 1);
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(
            std::fs::read_to_string(&real).unwrap(),
            format!("db-1 {KEY}\n")
        );
    }
}
