//! Secrets handed to a tool as files: a LUKS passphrase goes into a file only
//! its owner can read (0600), on a RAM-backed runtime directory when there is
//! one, and the file is deleted when the job ends. The passphrase itself never
//! appears in an argument, a log line or the job store: only the file's path does.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// A temporary 0600 file holding a secret; deleted on drop.
#[derive(Debug)]
pub struct SecretFile {
    file: tempfile::NamedTempFile,
}

impl SecretFile {
    /// Writes `secret` exactly (no newline added: `cryptsetup --key-file`
    /// reads every byte) to a new private file.
    pub fn create(secret: &[u8]) -> io::Result<Self> {
        let dir = runtime_dir();
        let mut file = tempfile::Builder::new()
            .prefix("nixdeck-key-")
            .tempfile_in(&dir)?;
        // tempfile creates files 0600 on Unix; make sure of it, the content is a key.
        set_private(file.path())?;
        file.write_all(secret)?;
        file.as_file().sync_all()?;
        Ok(Self { file })
    }

    pub fn path(&self) -> &Path {
        self.file.path()
    }
}

fn runtime_dir() -> PathBuf {
    std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|p| p.is_dir())
        .unwrap_or_else(std::env::temp_dir)
}

fn set_private(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn private_exact_and_removed() {
        let secret = SecretFile::create(b"correct horse").unwrap();
        let path = secret.path().to_path_buf();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(std::fs::read(&path).unwrap(), b"correct horse");
        drop(secret);
        assert!(!path.exists());
    }
}
