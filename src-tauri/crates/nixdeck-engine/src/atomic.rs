//! Atomic file replacement: the new text goes to a temporary file in the same
//! directory, is flushed to disk, and is renamed over the old file. A crash or an
//! error at any point leaves either the old file or the new one, never a mix; at
//! worst a stray `.nixdeck-*.tmp` file remains, which nixdeck ignores.
//!
//! A new file gets the permissions the umask gives (`0644` under the usual
//! `022`), as any editor would create it; a replaced file keeps its own; secrets
//! are written with [`write_atomic_private`] (`0600` whatever the umask).

use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Replaces (or creates) `path` with `content` atomically, creating parent directories.
pub fn write_atomic(path: &Path, content: &[u8]) -> io::Result<()> {
    write_atomic_with(path, |file| file.write_all(content))
}

/// Like [`write_atomic`] for a secret: the file is `0600` whether new or replaced,
/// and never readable by others, not even for a moment.
pub fn write_atomic_private(path: &Path, content: &[u8]) -> io::Result<()> {
    write_atomic_mode(path, 0o600, true, |file| file.write_all(content))
}

/// Like [`write_atomic`], with the content written by `fill`. If `fill` fails, the
/// temporary file is removed and `path` is untouched.
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut File) -> io::Result<()>,
) -> io::Result<()> {
    write_atomic_mode(path, 0o666, false, fill)
}

/// Writes with the temporary file created as `mode` (less the umask); `exact`
/// keeps `mode` even when `path` had other permissions.
fn write_atomic_mode(
    path: &Path,
    mode: u32,
    exact: bool,
    fill: impl FnOnce(&mut File) -> io::Result<()>,
) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    fs::create_dir_all(dir)?;
    let mut temp = tempfile::Builder::new()
        .prefix(".nixdeck-")
        .suffix(".tmp")
        // The mode is applied at creation, so the umask applies to it too.
        .permissions(fs::Permissions::from_mode(mode))
        .tempfile_in(dir)?;
    fill(temp.as_file_mut())?;
    temp.as_file().sync_all()?;
    // Keep the old file's permissions (a person may have made a file read-only to others).
    if exact {
        fs::set_permissions(temp.path(), fs::Permissions::from_mode(mode))?;
    } else if let Ok(meta) = fs::symlink_metadata(path) {
        if meta.is_file() {
            fs::set_permissions(temp.path(), meta.permissions())?;
        }
    }
    temp.persist(path).map_err(|e| e.error)?;
    // The rename itself is durable only once the directory entry is on disk.
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `f` with the process umask set to `mask`. Tests that change the umask
    /// take this lock; it is process-wide.
    fn with_umask<T>(mask: libc::mode_t, f: impl FnOnce() -> T) -> T {
        static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: umask only swaps an integer in the process.
        let old = unsafe { libc::umask(mask) };
        let result = f();
        // SAFETY: as above.
        unsafe { libc::umask(old) };
        result
    }

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn new_files_follow_the_umask_and_secrets_stay_private() {
        let dir = tempfile::tempdir().unwrap();
        let (open, group, secret) = with_umask(0o022, || {
            let open = dir.path().join("open.nix");
            write_atomic(&open, b"{ }").unwrap();
            let secret = dir.path().join("secret.key");
            write_atomic_private(&secret, b"k").unwrap();
            (open, dir.path().join("group.nix"), secret)
        });
        with_umask(0o002, || write_atomic(&group, b"{ }").unwrap());
        assert_eq!(mode(&open), 0o644);
        assert_eq!(mode(&group), 0o664);
        assert_eq!(mode(&secret), 0o600);
        // A replaced file keeps the permissions a person gave it; a secret is private.
        fs::set_permissions(&open, fs::Permissions::from_mode(0o640)).unwrap();
        fs::set_permissions(&secret, fs::Permissions::from_mode(0o644)).unwrap();
        with_umask(0o022, || {
            write_atomic(&open, b"{ a = 1; }").unwrap();
            write_atomic_private(&secret, b"k2").unwrap();
        });
        assert_eq!(mode(&open), 0o640);
        assert_eq!(mode(&secret), 0o600);
    }

    #[test]
    fn replaces_content_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/file.nix");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(dir.path().join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["file.nix"]);
    }

    #[test]
    fn a_failure_mid_write_leaves_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("file.nix");
        fs::write(&path, b"old text").unwrap();
        let err = write_atomic_with(&path, |f| {
            f.write_all(b"half of the new")?;
            Err(io::Error::other("disk full"))
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "disk full");
        assert_eq!(fs::read(&path).unwrap(), b"old text");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "temp file removed"
        );
    }
}
