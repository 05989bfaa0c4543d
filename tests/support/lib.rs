//! Shared test support: paths, the headless binary, and real services (sshd, ssh-agent).

use std::path::PathBuf;

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// `tests/fixtures/<rel>`.
pub fn fixture(rel: &str) -> PathBuf {
    repo_root().join("tests/fixtures").join(rel)
}

/// Copies the directory tree `from` to `to` (a fixture repository into a temp dir).
pub fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("create the copy's directory");
    for entry in std::fs::read_dir(from).expect("read the fixture directory") {
        let entry = entry.expect("a directory entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("its file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a fixture file");
        }
    }
}

/// Every invocation the stand-ins recorded in `record` (`NIXDECK_STANDIN_RECORD`):
/// program name, then its arguments.
pub fn standin_invocations(record: &std::path::Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(record).unwrap_or_default();
    let mut out = Vec::new();
    let mut current = Vec::new();
    for line in text.lines() {
        if line == "--end--" {
            out.push(std::mem::take(&mut current));
        } else {
            current.push(line.to_string());
        }
    }
    out
}

pub mod bench;
pub mod latency_proxy;
pub mod loopdisk;
pub mod nixos_tree;
pub mod sshd;

/// Live (not zombie) processes of process group `pgid`. Zombies are dead and only
/// wait for a parent to reap them, which a container's init may never do.
pub fn group_members(pgid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // After the `)` that ends the command name: state ppid pgrp …
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.len() > 2 && fields[2] == pgid.to_string() && fields[0] != "Z" {
            out.push(pid);
        }
    }
    out
}

/// The public key of the person the tests play (`tests/fixtures/keys/operator.pub`;
/// its private half was thrown away): the fixture fleets authorize it, so nixdeck's
/// check that a deploy leaves a way in finds it in the tests' HOME.
pub fn operator_key() -> String {
    std::fs::read_to_string(fixture("keys/operator.pub"))
        .expect("the operator key fixture")
        .trim()
        .to_string()
}

/// Makes `home` a HOME whose `~/.ssh/id_ed25519.pub` is the operator's key.
pub fn give_operator_key(home: &std::path::Path) {
    let ssh = home.join(".ssh");
    std::fs::create_dir_all(&ssh).expect("create ~/.ssh");
    std::fs::write(ssh.join("id_ed25519.pub"), operator_key() + "\n").expect("write the key");
}
