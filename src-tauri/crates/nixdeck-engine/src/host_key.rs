//! The installed system's SSH host key, made on this machine before the
//! install. nixos-anywhere connects with `StrictHostKeyChecking=no` and
//! `UserKnownHostsFile=/dev/null` (ahead of any `--ssh-option`, and ssh takes
//! an option's first value), so its own connections check no host key. What
//! nixdeck can make certain is the key of the system it installs: an ed25519
//! key pair is generated here with `ssh-keygen` in a private (0700) temporary
//! directory laid out as the new root (`etc/ssh/ssh_host_ed25519_key`, 0600),
//! given to nixos-anywhere with `--extra-files`, and the public key is recorded
//! in known_hosts once the install succeeded. The first connection to the new
//! system is then strict, and the public key can be read (for sops or agenix
//! recipients) before the install. The private key exists only in that
//! directory, which goes when the job ends; it never reaches the repository,
//! a log or the job store. A nixdeck that ended without cleaning up (killed,
//! or a window closed after a review) leaves its directory behind: the next
//! key made removes every such directory whose process is gone.

use crate::ssh::known_hosts::{self, host_entry_name, KnownHosts};
use russh::keys::PublicKey;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Where the key sits under the new root, as NixOS's sshd expects it
/// (`services.openssh.hostKeys`' default ed25519 entry).
pub const HOST_KEY_PATH: &str = "etc/ssh/ssh_host_ed25519_key";

/// Why a host key could not be made or recorded.
#[derive(Debug, Error)]
pub enum HostKeyError {
    #[error("could not prepare a private directory for the new system's host key: {0}")]
    Dir(std::io::Error),
    #[error("`ssh-keygen` could not be run to make the new system's host key: {0}; install OpenSSH (it provides ssh-keygen)")]
    Keygen(std::io::Error),
    #[error("`ssh-keygen` failed to make the new system's host key: {0}")]
    KeygenFailed(String),
    #[error("the generated public key could not be read: {0}")]
    Parse(String),
    #[error("could not record the new system's host key in {path}: {reason}")]
    Record { path: PathBuf, reason: String },
}

/// A freshly made host key pair for the system being installed. The private
/// half lives in a private temporary directory, removed on drop.
#[derive(Debug)]
pub struct NewHostKey {
    dir: tempfile::TempDir,
    /// `ssh-ed25519 AAAA… root@<host>`.
    pub public: String,
    /// `SHA256:…`, as ssh prints it.
    pub fingerprint: String,
}

const PREFIX: &str = "nixdeck-hostkey-";
/// The file in the private directory naming the process that made it.
const OWNER: &str = "owner";
/// The subdirectory given to `--extra-files` (the new system's `/`): the
/// owner file stays outside it.
const ROOT: &str = "root";

/// A RAM-backed runtime directory when there is one, as for LUKS keys.
fn base_dir() -> PathBuf {
    std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|p| p.is_dir())
        .unwrap_or_else(std::env::temp_dir)
}

fn private_dir(base: &Path) -> std::io::Result<tempfile::TempDir> {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::Builder::new().prefix(PREFIX).tempdir_in(base)?;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))?;
    std::fs::write(dir.path().join(OWNER), std::process::id().to_string())?;
    Ok(dir)
}

/// Removes the key directories in `base` whose process has ended (a killed
/// nixdeck cannot clean up after itself). Returns how many went.
pub fn sweep_stale(base: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(base) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        let ours = entry.file_name().to_string_lossy().starts_with(PREFIX)
            && entry.file_type().is_ok_and(|t| t.is_dir());
        if !ours {
            continue;
        }
        let owner = std::fs::read_to_string(path.join(OWNER))
            .ok()
            .and_then(|t| t.trim().parse::<i32>().ok());
        // SAFETY: signal 0 only asks whether the process exists.
        let alive = owner.is_some_and(|pid| pid > 0 && unsafe { libc::kill(pid, 0) } == 0);
        if !alive && std::fs::remove_dir_all(&path).is_ok() {
            removed += 1;
        }
    }
    removed
}

impl NewHostKey {
    /// Makes an ed25519 key pair with `ssh-keygen`, commented `root@<host>`.
    pub async fn generate(host: &str) -> Result<Self, HostKeyError> {
        use std::os::unix::fs::PermissionsExt;
        let base = base_dir();
        sweep_stale(&base);
        let dir = private_dir(&base).map_err(HostKeyError::Dir)?;
        let root = dir.path().join(ROOT);
        // The tree's directories become the new system's /, /etc and /etc/ssh
        // (nixos-anywhere untars it over /mnt keeping modes): world-readable
        // as usual; only the top directory, which nobody else can enter, is
        // private.
        for d in [root.clone(), root.join("etc"), root.join("etc/ssh")] {
            std::fs::create_dir(&d).map_err(HostKeyError::Dir)?;
            std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755))
                .map_err(HostKeyError::Dir)?;
        }
        let key = root.join(HOST_KEY_PATH);
        let out = tokio::process::Command::new("ssh-keygen")
            .arg("-q")
            .arg("-t")
            .arg("ed25519")
            .arg("-N")
            .arg("")
            .arg("-C")
            .arg(format!("root@{host}"))
            .arg("-f")
            .arg(&key)
            .stdin(std::process::Stdio::null())
            .output()
            .await
            .map_err(HostKeyError::Keygen)?;
        if !out.status.success() {
            return Err(HostKeyError::KeygenFailed(
                String::from_utf8_lossy(&out.stderr).trim().to_string(),
            ));
        }
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600))
            .map_err(HostKeyError::Dir)?;
        let pub_path = root.join(format!("{HOST_KEY_PATH}.pub"));
        std::fs::set_permissions(&pub_path, std::fs::Permissions::from_mode(0o644))
            .map_err(HostKeyError::Dir)?;
        let public = std::fs::read_to_string(&pub_path)
            .map_err(HostKeyError::Dir)?
            .trim()
            .to_string();
        let parsed = parse(&public)?;
        Ok(Self {
            fingerprint: known_hosts::fingerprint(&parsed),
            public,
            dir,
        })
    }

    /// The directory to give nixos-anywhere's `--extra-files`.
    pub fn root(&self) -> PathBuf {
        self.dir.path().join(ROOT)
    }

    /// The directory, to be kept until the job ends and removed then.
    pub fn into_dir(self) -> tempfile::TempDir {
        self.dir
    }
}

fn parse(public: &str) -> Result<PublicKey, HostKeyError> {
    PublicKey::from_openssh(public).map_err(|e| HostKeyError::Parse(e.to_string()))
}

/// Records `public` as the only key of `host`:`port` in `file` (`None`:
/// `~/.ssh/known_hosts`): the lines for the system that was there before (a
/// rescue system, the kexec installer) go, as `ssh-keygen -R` would, and the
/// new key is added; the file is written atomically, through a symlink.
/// Returns the file written.
pub fn record(
    file: Option<&Path>,
    host: &str,
    port: u16,
    public: &str,
) -> Result<PathBuf, HostKeyError> {
    let path = match file {
        Some(p) => p.to_path_buf(),
        None => KnownHosts::default_path().ok_or_else(|| HostKeyError::Record {
            path: PathBuf::from("~/.ssh/known_hosts"),
            reason: "there is no home directory".into(),
        })?,
    };
    let failed = |reason: String| HostKeyError::Record {
        path: path.clone(),
        reason,
    };
    let key = parse(public)?;
    let name = host_entry_name(host, port);
    known_hosts::remove_host(Some(&path), &name).map_err(|e| failed(e.to_string()))?;
    let mut known = KnownHosts::load(&path).map_err(|e| failed(e.to_string()))?;
    known
        .append_name(&name, &key)
        .map_err(|e| failed(e.to_string()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[tokio::test]
    async fn a_private_key_in_a_private_tree_then_recorded_alone() {
        let key = match NewHostKey::generate("web").await {
            Ok(k) => k,
            Err(HostKeyError::Keygen(_)) => return, // no ssh-keygen here
            Err(e) => panic!("{e}"),
        };
        let root = key.root();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(root.parent().unwrap()), 0o700);
        assert_eq!(mode(&root), 0o755);
        let files: Vec<_> = std::fs::read_dir(&root)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(files, ["etc"], "only the new system's files go to its root");
        assert_eq!(mode(&root.join("etc/ssh")), 0o755);
        assert_eq!(mode(&root.join(HOST_KEY_PATH)), 0o600);
        assert!(key.public.starts_with("ssh-ed25519 "), "{}", key.public);
        assert!(key.public.ends_with(" root@web"));
        assert!(key.fingerprint.starts_with("SHA256:"));

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("known_hosts");
        let other =
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
        std::fs::write(
            &file,
            format!("[127.0.0.1]:2222 {other}\nelsewhere {other}\n"),
        )
        .unwrap();
        record(Some(&file), "127.0.0.1", 2222, &key.public).unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        let mine: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("[127.0.0.1]:2222 "))
            .collect();
        let body: Vec<&str> = key.public.split_whitespace().take(2).collect();
        assert_eq!(mine, [format!("[127.0.0.1]:2222 {}", body.join(" "))]);
        assert!(text.contains("elsewhere "), "other hosts stay: {text}");

        let dir_path = key.into_dir();
        let kept = dir_path.path().to_path_buf();
        drop(dir_path);
        assert!(!kept.exists(), "the private key goes with its directory");
    }

    #[test]
    fn directories_of_ended_processes_are_swept_and_live_ones_kept() {
        let base = tempfile::tempdir().unwrap();
        let mut gone = std::process::Command::new("true").spawn().unwrap();
        let dead = gone.id();
        gone.wait().unwrap();
        let stale = private_dir(base.path()).unwrap().keep();
        std::fs::write(stale.join(OWNER), dead.to_string()).unwrap();
        let live = private_dir(base.path()).unwrap();
        let other = base.path().join("something-else");
        std::fs::create_dir(&other).unwrap();
        assert_eq!(sweep_stale(base.path()), 1);
        assert!(!stale.exists());
        assert!(live.path().exists(), "this process's directory stays");
        assert!(other.exists(), "other directories are not touched");
    }
}
