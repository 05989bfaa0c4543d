//! The public keys this machine can log in with: `~/.ssh/*.pub` and the
//! ssh-agent's keys, offered for a new host's `authorized_keys`.

use nixdeck_core::repo::names;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Where a local public key was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum KeySource {
    /// A `~/.ssh/*.pub` file.
    File,
    /// The ssh-agent (`SSH_AUTH_SOCK`).
    Agent,
}

/// A public key that may go into `authorized_keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct LocalKey {
    /// Where it was found.
    pub source: KeySource,
    /// The file name, or the key's comment for agent keys.
    pub label: String,
    /// The `authorized_keys` line.
    pub key: String,
}

/// The keys of `ssh_dir` (`*.pub`, sorted by name) and then the agent's, without
/// duplicates (the same key from a file and the agent appears once) and without
/// lines that are not public keys.
pub async fn local_public_keys(ssh_dir: Option<&Path>) -> Vec<LocalKey> {
    let mut out: Vec<LocalKey> = Vec::new();
    if let Some(dir) = ssh_dir {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "pub"))
            .collect();
        files.sort();
        for file in files {
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            let label = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if let Some(line) = text.lines().find(|l| !l.trim().is_empty()) {
                push(&mut out, KeySource::File, label, line);
            }
        }
    }
    for line in agent_keys().await {
        let label = line
            .split_whitespace()
            .nth(2)
            .unwrap_or("agent key")
            .to_string();
        push(&mut out, KeySource::Agent, label, &line);
    }
    out
}

/// `~/.ssh`, when there is a home directory.
pub fn default_ssh_dir() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".ssh"))
}

fn push(out: &mut Vec<LocalKey>, source: KeySource, label: String, line: &str) {
    let line = line.trim();
    if names::check_authorized_key(line).is_err() {
        return;
    }
    // Type and base64 body identify a key; the comment may differ between copies.
    let body = line
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    if out.iter().any(|k| k.key.starts_with(&body)) {
        return;
    }
    out.push(LocalKey {
        source,
        label,
        key: line.to_string(),
    });
}

/// The agent's public keys (`ssh-add -L`); none without an agent.
async fn agent_keys() -> Vec<String> {
    if std::env::var_os("SSH_AUTH_SOCK").is_none() {
        return Vec::new();
    }
    let listed = tokio::process::Command::new("ssh-add")
        .arg("-L")
        .stdin(std::process::Stdio::null())
        .output()
        .await;
    match listed {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn offers_each_public_key_once_and_skips_what_is_not_a_key() {
        let dir = tempfile::tempdir().unwrap();
        let key =
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGb4u0Xo4f1lYkq2Jv0nQd7y3t0m8oZ3s2n5l9cXzQ1a";
        std::fs::write(
            dir.path().join("id_ed25519.pub"),
            format!("{key} me@laptop\n"),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("copy.pub"),
            format!("{key} other-comment\n"),
        )
        .unwrap();
        std::fs::write(dir.path().join("notes.pub"), "not a key\n").unwrap();
        std::fs::write(dir.path().join("id_ed25519"), "private\n").unwrap();
        let keys = local_public_keys(Some(dir.path())).await;
        let files: Vec<_> = keys
            .iter()
            .filter(|k| k.source == KeySource::File)
            .collect();
        assert_eq!(files.len(), 1, "{keys:?}");
        assert_eq!(files[0].label, "copy.pub");
        assert!(files[0].key.starts_with(key));
    }
}
