//! Host-key verification against an OpenSSH `known_hosts` file: plain and
//! hashed (`|1|salt|hash`, HMAC-SHA1) host names, `[host]:port` for ports other
//! than 22, comma lists, `*`/`?` wildcards and `!` negations, `@revoked`
//! markers, and `@cert-authority` lines, against which host certificates are
//! checked (CA signature, validity period, host type, principals).
//! Unparseable lines are skipped, as OpenSSH does. Several files can be read
//! (`UserKnownHostsFile a b`); new keys go to the first, written atomically
//! and through a symlink, so a linked known_hosts stays linked.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use russh::keys::ssh_key::certificate::CertType;
use russh::keys::{Algorithm, Certificate, HashAlg, PublicKey};
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
        /// A `@cert-authority` line for the host (file, 1-based line): the
        /// host expects to be trusted through a certificate nixdeck does not
        /// check.
        cert_authority: Option<(PathBuf, usize)>,
    },
    /// A different key of the same type is recorded: possibly an attack, or
    /// a reinstalled machine.
    Changed {
        /// 1-based line of the recorded key.
        line: usize,
        /// SHA256 fingerprint of the recorded key.
        known_fingerprint: String,
        /// The file that records it.
        file: PathBuf,
    },
    /// The key is marked `@revoked`.
    Revoked {
        /// 1-based line of the marker.
        line: usize,
        /// The file with the marker.
        file: PathBuf,
    },
}

/// Why a host certificate is not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertRefusal {
    /// The certificate's key or its CA is marked `@revoked`.
    Revoked {
        /// 1-based line of the marker.
        line: usize,
        /// The file with the marker.
        file: PathBuf,
    },
    /// It does not vouch for this host now (the reason in words).
    Invalid(String),
}

/// One or more `known_hosts` files, read together; new keys go to the first.
#[derive(Debug, Clone)]
pub struct KnownHosts {
    files: Vec<PathBuf>,
    entries: Vec<Entry>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    None,
    Revoked,
    CertAuthority,
}

#[derive(Debug, Clone)]
struct Entry {
    file: usize,
    line: usize,
    marker: Marker,
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

fn read_or_empty(path: &Path) -> std::io::Result<String> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(e),
    }
}

impl KnownHosts {
    /// `~/.ssh/known_hosts`.
    pub fn default_path() -> Option<PathBuf> {
        dirs::home_dir().map(|h| h.join(".ssh/known_hosts"))
    }

    /// Reads `path`; a missing file is an empty one.
    pub fn load(path: &Path) -> std::io::Result<Self> {
        Self::load_files(&[path.to_path_buf()])
    }

    /// Reads `files` (missing ones are empty); new keys are written to the
    /// first, so only it must be readable: the others (global files) are
    /// skipped when they cannot be read, as OpenSSH does.
    pub fn load_files(files: &[PathBuf]) -> std::io::Result<Self> {
        let mut entries = Vec::new();
        for (i, f) in files.iter().enumerate() {
            match read_or_empty(f) {
                Ok(text) => entries.extend(parse(&text, i)),
                Err(e) if i == 0 => return Err(e),
                Err(_) => {}
            }
        }
        Ok(Self {
            files: files.to_vec(),
            entries,
        })
    }

    /// The file new keys are written to.
    pub fn path(&self) -> &Path {
        self.files.first().map_or(Path::new(""), PathBuf::as_path)
    }

    /// Key algorithms recorded for `host`:`port`, in file order (to prefer
    /// them in the key exchange, as OpenSSH does).
    pub fn known_algorithms(&self, host: &str, port: u16) -> Vec<Algorithm> {
        self.known_algorithms_for(&host_entry_name(host, port))
    }

    /// Like [`KnownHosts::known_algorithms`] for a recorded name
    /// (`[host]:port`, or a `HostKeyAlias`).
    pub fn known_algorithms_for(&self, name: &str) -> Vec<Algorithm> {
        let mut out = Vec::new();
        for e in &self.entries {
            if e.marker == Marker::None
                && hosts_match(&e.hosts, name)
                && !out.contains(&e.key.algorithm())
            {
                out.push(e.key.algorithm());
            }
        }
        out
    }

    /// Checks the key `host`:`port` presented.
    pub fn check(&self, host: &str, port: u16, key: &PublicKey) -> HostKeyStatus {
        self.check_name(&host_entry_name(host, port), key)
    }

    /// Checks the key a host recorded as `name` presented.
    pub fn check_name(&self, name: &str, key: &PublicKey) -> HostKeyStatus {
        // A revoked key is refused whichever host it is presented for.
        if let Some(e) = self
            .entries
            .iter()
            .find(|e| e.marker == Marker::Revoked && e.key.key_data() == key.key_data())
        {
            return HostKeyStatus::Revoked {
                line: e.line,
                file: self.files[e.file].clone(),
            };
        }
        let mine: Vec<&Entry> = self
            .entries
            .iter()
            .filter(|e| e.marker == Marker::None && hosts_match(&e.hosts, name))
            .collect();
        if mine.iter().any(|e| e.key.key_data() == key.key_data()) {
            return HostKeyStatus::Known;
        }
        if let Some(e) = mine.iter().find(|e| e.key.algorithm() == key.algorithm()) {
            return HostKeyStatus::Changed {
                line: e.line,
                known_fingerprint: fingerprint(&e.key),
                file: self.files[e.file].clone(),
            };
        }
        let mut other_types: Vec<String> = Vec::new();
        for e in &mine {
            let t = e.key.algorithm().to_string();
            if !other_types.contains(&t) {
                other_types.push(t);
            }
        }
        let cert_authority = self
            .entries
            .iter()
            .find(|e| e.marker == Marker::CertAuthority && hosts_match(&e.hosts, name))
            .map(|e| (self.files[e.file].clone(), e.line));
        HostKeyStatus::Unknown {
            other_types,
            cert_authority,
        }
    }

    /// Whether a `@cert-authority` line covers the host recorded as `name`
    /// (then it is asked for a host certificate).
    pub fn has_cert_authority(&self, name: &str) -> bool {
        self.entries
            .iter()
            .any(|e| e.marker == Marker::CertAuthority && hosts_match(&e.hosts, name))
    }

    /// Checks a host certificate presented by the host recorded as `name`
    /// (known_hosts' `[host]:port` or a `HostKeyAlias`) that must be issued
    /// for `principal` (the host name, or the alias), at `now` (Unix
    /// seconds): signed by a CA a `@cert-authority` line trusts for `name`,
    /// a host certificate, valid now, naming `principal` (or no principal
    /// at all, as OpenSSH allows for hosts), and neither it nor its CA
    /// `@revoked`.
    pub fn check_certificate(
        &self,
        name: &str,
        principal: &str,
        cert: &Certificate,
        now: u64,
    ) -> Result<(), CertRefusal> {
        if let Some(e) = self.entries.iter().find(|e| {
            e.marker == Marker::Revoked
                && (e.key.key_data() == cert.public_key()
                    || e.key.key_data() == cert.signature_key())
        }) {
            return Err(CertRefusal::Revoked {
                line: e.line,
                file: self.files[e.file].clone(),
            });
        }
        let invalid = |why: String| Err(CertRefusal::Invalid(why));
        if cert.cert_type() != CertType::Host {
            return invalid("it is a user certificate, not a host certificate".into());
        }
        let cas: Vec<_> = self
            .entries
            .iter()
            .filter(|e| e.marker == Marker::CertAuthority && hosts_match(&e.hosts, name))
            .map(|e| e.key.fingerprint(HashAlg::Sha256))
            .collect();
        let signer = cert.signature_key().fingerprint(HashAlg::Sha256);
        if !cas.contains(&signer) {
            return invalid(format!(
                "it is signed by {signer}, which no @cert-authority line trusts for {name}"
            ));
        }
        if cert.validate_at(now, cas.iter()).is_err() {
            return invalid(if now < cert.valid_after() || now >= cert.valid_before() {
                format!(
                    "it is valid from {} to {} (Unix time), not now ({now})",
                    cert.valid_after(),
                    cert.valid_before()
                )
            } else {
                "its CA signature does not verify".into()
            });
        }
        let principals = cert.valid_principals();
        if !principals.is_empty() && !principals.iter().any(|p| p == principal) {
            return invalid(format!(
                "it is issued for {}, not for {principal}",
                principals.join(", ")
            ));
        }
        if !cert.critical_options().is_empty() {
            return invalid("it has critical options, which host certificates never have".into());
        }
        Ok(())
    }

    /// Records `key` for `host`:`port` at the end of the first file.
    pub fn append(&mut self, host: &str, port: u16, key: &PublicKey) -> std::io::Result<()> {
        self.append_name(&host_entry_name(host, port), key)
    }

    /// Records `key` under `name` at the end of the first file (created with
    /// its directory when missing). The file is rewritten atomically,
    /// keeping every existing line; a symlink is followed and stays.
    pub fn append_name(&mut self, name: &str, key: &PublicKey) -> std::io::Result<()> {
        let path = self.path().to_path_buf();
        let openssh = key
            .to_openssh()
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let mut text = read_or_empty(&path)?;
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        // to_openssh() includes the comment when the key has one; known_hosts
        // wants just "type base64".
        let key_part: Vec<&str> = openssh.split_whitespace().take(2).collect();
        text.push_str(&format!("{name} {}\n", key_part.join(" ")));
        write_atomically(&path, &text)?;
        self.entries.retain(|e| e.file != 0);
        self.entries.extend(parse(&text, 0));
        Ok(())
    }
}

/// Follows `path` through symlinks (relative ones against their directory)
/// to the file that holds the data; a dangling link leads to where its
/// target would be.
fn through_symlinks(path: &Path) -> std::io::Result<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = std::fs::read_link(&p)?;
                p = match p.parent() {
                    Some(dir) if target.is_relative() => dir.join(target),
                    _ => target,
                };
            }
            _ => return Ok(p),
        }
    }
    Err(std::io::Error::other(format!(
        "{} is a loop of symlinks",
        path.display()
    )))
}

/// Replaces the file behind `path` by `text`: a temporary file in the same
/// directory, synced, then renamed over it, with the old file's permissions.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let real = through_symlinks(path)?;
    let dir = real
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(text.as_bytes())?;
    tmp.as_file().sync_all()?;
    if let Ok(meta) = std::fs::metadata(&real) {
        std::fs::set_permissions(tmp.path(), meta.permissions())?;
    }
    tmp.persist(&real).map_err(|e| e.error)?;
    Ok(())
}

/// Removes the keys recorded for `known_as` (`host`, or `[host]:port` for
/// other ports than 22, as in [`host_entry_name`] and
/// [`SshError::HostKeyMismatch`](super::SshError::HostKeyMismatch)'s `host`)
/// from `path` (`None`: `~/.ssh/known_hosts`), like `ssh-keygen -R`: plain and
/// hashed lines naming it go, wildcard lines, `@cert-authority` and
/// `@revoked` lines stay. The file is rewritten atomically and through a
/// symlink, only when something was removed. Returns how many lines were
/// removed.
pub fn remove_host(path: Option<&Path>, known_as: &str) -> Result<usize, super::SshError> {
    let path = match path {
        Some(p) => p.to_path_buf(),
        None => KnownHosts::default_path().ok_or_else(|| super::SshError::KnownHostsFile {
            path: PathBuf::from("~/.ssh/known_hosts"),
            reason: "no home directory".into(),
        })?,
    };
    let file_err = |e: std::io::Error| super::SshError::KnownHostsFile {
        path: path.clone(),
        reason: e.to_string(),
    };
    if known_as.trim().is_empty() || known_as.contains(char::is_whitespace) {
        return Err(super::SshError::BadTarget {
            input: known_as.to_string(),
            problem: "a known_hosts name is one word: host or [host]:port".into(),
        });
    }
    let text = read_or_empty(&path).map_err(file_err)?;
    let mut kept = String::with_capacity(text.len());
    let mut removed = 0;
    for raw in text.split_inclusive('\n') {
        let hosts = raw.split_whitespace().next().unwrap_or_default();
        let names_it = !hosts.starts_with('#')
            && !hosts.starts_with('@')
            && if let Some(hashed) = hosts.strip_prefix("|1|") {
                hashed_match(hashed, known_as)
            } else {
                hosts.split(',').any(|h| h.eq_ignore_ascii_case(known_as))
            };
        if names_it {
            removed += 1;
        } else {
            kept.push_str(raw);
        }
    }
    if removed > 0 {
        write_atomically(&path, &kept).map_err(file_err)?;
    }
    Ok(removed)
}

fn parse(text: &str, file: usize) -> Vec<Entry> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.split_whitespace();
        let mut first = fields.next().unwrap_or_default();
        let mut marker = Marker::None;
        if first.starts_with('@') {
            marker = match first {
                "@revoked" => Marker::Revoked,
                "@cert-authority" => Marker::CertAuthority,
                _ => continue, // unknown markers
            };
            first = fields.next().unwrap_or_default();
        }
        let (Some(_kind), Some(b64)) = (fields.next(), fields.next()) else {
            continue;
        };
        let Ok(key) = russh::keys::parse_public_key_base64(b64) else {
            continue;
        };
        out.push(Entry {
            file,
            line: i + 1,
            marker,
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
    const RSA: &str =
        "AAAAB3NzaC1yc2EAAAADAQABAAAAgQDYp0d2TsUX9rfkxtXKWADE0pO4G8X6njTEX3vyD4oNPS9jf1UGXMsx4kF6R0rjOhrVcX/odTn1mx0mzPb9LqX7bsOAIp9RfzxZLYbkikhj3qVtj0Wjbh7YTBMDGBelSFORbEfjsLTZzql4QHHeME4K3zApb5ftF5QbjsylS9Cf5Q==";
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
            files: vec![PathBuf::from("kh")],
            entries: parse(&text, 0),
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
            files: vec![PathBuf::from("kh")],
            entries: parse(&text, 0),
        };
        assert_eq!(kh.check("box.lan", 22, &key(ED)), HostKeyStatus::Known);
        assert!(matches!(
            kh.check("evil.lan", 22, &key(ED)),
            HostKeyStatus::Unknown { .. }
        ));
        assert_eq!(
            kh.check("x", 22, &key(ED2)),
            HostKeyStatus::Revoked {
                line: 2,
                file: PathBuf::from("kh")
            }
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

    #[test]
    fn a_symlinked_file_stays_a_symlink_and_its_target_gets_the_key() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("dotfiles")).unwrap();
        let real = dir.path().join("dotfiles/known_hosts");
        std::fs::write(&real, format!("old ssh-ed25519 {ED}\n")).unwrap();
        let link = dir.path().join("known_hosts");
        // Relative, as dotfile managers make them.
        std::os::unix::fs::symlink("dotfiles/known_hosts", &link).unwrap();
        let mut kh = KnownHosts::load(&link).unwrap();
        kh.append("new", 2222, &key(ED2)).unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(
            std::fs::read_to_string(&real).unwrap(),
            format!("old ssh-ed25519 {ED}\n[new]:2222 ssh-ed25519 {ED2}\n")
        );
        assert_eq!(remove_host(Some(&link), "[new]:2222").unwrap(), 1);
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(
            std::fs::read_to_string(&real).unwrap(),
            format!("old ssh-ed25519 {ED}\n")
        );
    }

    #[test]
    fn remove_host_takes_plain_hashed_and_ported_lines_and_keeps_markers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("known_hosts");
        let text = format!(
            "# mine\nweb,10.0.0.1 ssh-ed25519 {ED}\n{} ssh-ed25519 {ED2}\n[web]:2222 ssh-ed25519 {ED}\nweb2 ssh-ed25519 {ED}\n*.lan ssh-ed25519 {ED}\n@revoked web ssh-ed25519 {ED2}\n@cert-authority web ssh-ed25519 {ED2}\n",
            hashed("web")
        );
        std::fs::write(&path, &text).unwrap();
        assert_eq!(remove_host(Some(&path), "web").unwrap(), 2);
        let left = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            left,
            format!("# mine\n[web]:2222 ssh-ed25519 {ED}\nweb2 ssh-ed25519 {ED}\n*.lan ssh-ed25519 {ED}\n@revoked web ssh-ed25519 {ED2}\n@cert-authority web ssh-ed25519 {ED2}\n")
        );
        assert_eq!(remove_host(Some(&path), "[web]:2222").unwrap(), 1);
        assert_eq!(remove_host(Some(&path), "nothing-here").unwrap(), 0);
        assert_eq!(
            remove_host(Some(&dir.path().join("missing")), "web").unwrap(),
            0
        );
        assert!(remove_host(Some(&path), "a b").is_err());
    }

    #[test]
    fn several_files_other_types_and_cert_authorities() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::write(
            &b,
            format!("@cert-authority *.corp ssh-ed25519 {ED2}\nrsa-only ssh-rsa {RSA}\n"),
        )
        .unwrap();
        let mut kh = KnownHosts::load_files(&[a.clone(), b.clone()]).unwrap();
        assert_eq!(
            kh.check_name("box.corp", &key(ED)),
            HostKeyStatus::Unknown {
                other_types: vec![],
                cert_authority: Some((b.clone(), 1)),
            }
        );
        assert_eq!(
            kh.check_name("rsa-only", &key(ED)),
            HostKeyStatus::Unknown {
                other_types: vec!["ssh-rsa".into()],
                cert_authority: None,
            }
        );
        kh.append_name("alias", &key(ED)).unwrap();
        assert!(std::fs::read_to_string(&a).unwrap().starts_with("alias "));
        assert_eq!(kh.check_name("alias", &key(ED)), HostKeyStatus::Known);
        assert_eq!(kh.check_name("rsa-only", &key(RSA)), HostKeyStatus::Known);
    }
}
