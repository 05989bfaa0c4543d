//! Host-key verification against an OpenSSH `known_hosts` file: plain and
//! hashed (`|1|salt|hash`, HMAC-SHA1) host names, `[host]:port` for ports other
//! than 22, comma lists, `*`/`?` wildcards and `!` negations, `@revoked`
//! markers (`@cert-authority` lines are skipped: nixdeck does not accept host
//! certificates). Unparseable lines are skipped, as OpenSSH does.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use russh::keys::{Algorithm, HashAlg, PublicKey};
use std::io::Write;
use std::path::{Path, PathBuf};

/// What the file says about the key a host presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKeyStatus {
    /// The key is recorded for this host.
    Known,
    /// No key of this type is recorded for this host (`other_types` lists the
    /// types that are, if any).
    Unknown {
        /// Algorithms of keys recorded for the host under other types.
        other_types: Vec<String>,
    },
    /// A different key of the same type is recorded: possibly an attack, or
    /// a reinstalled machine.
    Changed {
        /// 1-based line of the recorded key.
        line: usize,
        /// SHA256 fingerprint of the recorded key.
        known_fingerprint: String,
    },
    /// The key is marked `@revoked`.
    Revoked {
        /// 1-based line of the marker.
        line: usize,
    },
}

/// A `known_hosts` file.
#[derive(Debug, Clone)]
pub struct KnownHosts {
    path: PathBuf,
    entries: Vec<Entry>,
}

#[derive(Debug, Clone)]
struct Entry {
    line: usize,
    revoked: bool,
    hosts: String,
    key: PublicKey,
}

/// The name a host is recorded under: `host` on port 22, else `[host]:port`.
pub fn host_entry_name(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    }
}

/// The SHA256 fingerprint as OpenSSH prints it (`SHA256:…`).
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

impl KnownHosts {
    /// `~/.ssh/known_hosts`.
    pub fn default_path() -> Option<PathBuf> {
        dirs::home_dir().map(|h| h.join(".ssh/known_hosts"))
    }

    /// Reads `path`; a missing file is an empty one.
    pub fn load(path: &Path) -> std::io::Result<Self> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e),
        };
        Ok(Self {
            path: path.to_path_buf(),
            entries: parse(&text),
        })
    }

    /// The file this was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Key algorithms recorded for `host`:`port`, in file order (to prefer
    /// them in the key exchange, as OpenSSH does).
    pub fn known_algorithms(&self, host: &str, port: u16) -> Vec<Algorithm> {
        let name = host_entry_name(host, port);
        let mut out = Vec::new();
        for e in &self.entries {
            if !e.revoked && hosts_match(&e.hosts, &name) && !out.contains(&e.key.algorithm()) {
                out.push(e.key.algorithm());
            }
        }
        out
    }

    /// Checks the key `host`:`port` presented.
    pub fn check(&self, host: &str, port: u16, key: &PublicKey) -> HostKeyStatus {
        let name = host_entry_name(host, port);
        // A revoked key is refused whichever host it is presented for.
        if let Some(e) = self
            .entries
            .iter()
            .find(|e| e.revoked && e.key.key_data() == key.key_data())
        {
            return HostKeyStatus::Revoked { line: e.line };
        }
        let mine: Vec<&Entry> = self
            .entries
            .iter()
            .filter(|e| !e.revoked && hosts_match(&e.hosts, &name))
            .collect();
        if mine.iter().any(|e| e.key.key_data() == key.key_data()) {
            return HostKeyStatus::Known;
        }
        if let Some(e) = mine.iter().find(|e| e.key.algorithm() == key.algorithm()) {
            return HostKeyStatus::Changed {
                line: e.line,
                known_fingerprint: fingerprint(&e.key),
            };
        }
        let mut other_types: Vec<String> =
            mine.iter().map(|e| e.key.algorithm().to_string()).collect();
        other_types.dedup();
        HostKeyStatus::Unknown { other_types }
    }

    /// Records `key` for `host`:`port` at the end of the file (created with
    /// its directory when missing). The file is rewritten atomically, keeping
    /// every existing line.
    pub fn append(&mut self, host: &str, port: u16, key: &PublicKey) -> std::io::Result<()> {
        let openssh = key
            .to_openssh()
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let mut text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e),
        };
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        // to_openssh() includes the comment when the key has one; known_hosts
        // wants just "type base64".
        let key_part: Vec<&str> = openssh.split_whitespace().take(2).collect();
        text.push_str(&format!(
            "{} {}\n",
            host_entry_name(host, port),
            key_part.join(" ")
        ));

        let dir = self
            .path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        tmp.write_all(text.as_bytes())?;
        tmp.as_file().sync_all()?;
        if let Ok(meta) = std::fs::metadata(&self.path) {
            std::fs::set_permissions(tmp.path(), meta.permissions())?;
        }
        tmp.persist(&self.path).map_err(|e| e.error)?;
        self.entries = parse(&text);
        Ok(())
    }
}

fn parse(text: &str) -> Vec<Entry> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.split_whitespace();
        let mut first = fields.next().unwrap_or_default();
        let mut revoked = false;
        if first.starts_with('@') {
            match first {
                "@revoked" => revoked = true,
                _ => continue, // @cert-authority and unknown markers
            }
            first = fields.next().unwrap_or_default();
        }
        let (Some(_kind), Some(b64)) = (fields.next(), fields.next()) else {
            continue;
        };
        let Ok(key) = russh::keys::parse_public_key_base64(b64) else {
            continue;
        };
        out.push(Entry {
            line: i + 1,
            revoked,
            hosts: first.to_string(),
            key,
        });
    }
    out
}

/// OpenSSH host-list matching: a hashed entry matches its exact name; among
/// patterns, a negated match rejects the line, else any positive match accepts.
fn hosts_match(list: &str, name: &str) -> bool {
    if let Some(hashed) = list.strip_prefix("|1|") {
        return hashed_match(hashed, name);
    }
    let mut matched = false;
    for pat in list.split(',') {
        if let Some(neg) = pat.strip_prefix('!') {
            if super::config::glob(neg, name) {
                return false;
            }
        } else if super::config::glob(pat, name) {
            matched = true;
        }
    }
    matched
}

/// `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`.
pub(crate) fn hashed_match(hashed: &str, name: &str) -> bool {
    let Some((salt, hash)) = hashed.split_once('|') else {
        return false;
    };
    let (Ok(salt), Ok(hash)) = (STANDARD.decode(salt), STANDARD.decode(hash)) else {
        return false;
    };
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &salt);
    ring::hmac::verify(&key, name.as_bytes(), &hash).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIKNcWNRIADPtCh1phDuOoqifRN+XlU/o0Dh10kDSgWD4";
    const ED2: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIA/AiZuCGbEn95pS4ZOxEWT3MVCYYMhXU0sY/5Q++jzC";

    fn key(b64: &str) -> PublicKey {
        russh::keys::parse_public_key_base64(b64).unwrap()
    }

    fn hashed(name: &str) -> String {
        let salt = [7u8; 20];
        let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &salt);
        let tag = ring::hmac::sign(&k, name.as_bytes());
        format!(
            "|1|{}|{}",
            STANDARD.encode(salt),
            STANDARD.encode(tag.as_ref())
        )
    }

    #[test]
    fn plain_hashed_and_ported_entries() {
        let text = format!(
            "# comment\nalpha,10.0.0.1 ssh-ed25519 {ED}\n{} ssh-ed25519 {ED}\n[gamma]:2222 ssh-ed25519 {ED}\ngarbage line\n",
            hashed("[beta]:2200")
        );
        let kh = KnownHosts {
            path: PathBuf::new(),
            entries: parse(&text),
        };
        assert_eq!(kh.check("alpha", 22, &key(ED)), HostKeyStatus::Known);
        assert_eq!(kh.check("10.0.0.1", 22, &key(ED)), HostKeyStatus::Known);
        assert_eq!(kh.check("beta", 2200, &key(ED)), HostKeyStatus::Known);
        assert_eq!(kh.check("gamma", 2222, &key(ED)), HostKeyStatus::Known);
        assert!(matches!(
            kh.check("gamma", 22, &key(ED)),
            HostKeyStatus::Unknown { .. }
        ));
        assert!(matches!(
            kh.check("alpha", 22, &key(ED2)),
            HostKeyStatus::Changed { line: 2, .. }
        ));
        assert!(matches!(
            kh.check("beta", 2200, &key(ED2)),
            HostKeyStatus::Changed { line: 3, .. }
        ));
    }

    #[test]
    fn wildcards_negations_and_revocation() {
        let text = format!("*.lan,!evil.lan ssh-ed25519 {ED}\n@revoked * ssh-ed25519 {ED2}\n");
        let kh = KnownHosts {
            path: PathBuf::new(),
            entries: parse(&text),
        };
        assert_eq!(kh.check("box.lan", 22, &key(ED)), HostKeyStatus::Known);
        assert!(matches!(
            kh.check("evil.lan", 22, &key(ED)),
            HostKeyStatus::Unknown { .. }
        ));
        assert_eq!(
            kh.check("x", 22, &key(ED2)),
            HostKeyStatus::Revoked { line: 2 }
        );
    }

    #[test]
    fn append_keeps_lines_and_is_found_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/known_hosts");
        let mut kh = KnownHosts::load(&path).unwrap();
        kh.append("h", 2022, &key(ED)).unwrap();
        kh.append("h", 22, &key(ED2)).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with(&format!("[h]:2022 ssh-ed25519 {ED}\n")),
            "{text}"
        );
        let again = KnownHosts::load(&path).unwrap();
        assert_eq!(again.check("h", 2022, &key(ED)), HostKeyStatus::Known);
        assert_eq!(again.check("h", 22, &key(ED2)), HostKeyStatus::Known);
        assert_eq!(again.known_algorithms("h", 22), vec![Algorithm::Ed25519]);
    }
}
