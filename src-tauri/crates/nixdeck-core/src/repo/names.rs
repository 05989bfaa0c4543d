//! Validated text that ends up in a repository: host names, tags, addresses, users,
//! SSH keys, package names, nixpkgs branches. Each is checked once, here, with a
//! message that says what is wrong and what to write instead; after that the value
//! is escaped by the Nix renderer like any other string.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Why a value cannot go into a repository.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum NameError {
    #[error("host name {0:?} is not valid: use 1 to 63 ASCII letters, digits, `-` or `_`, starting and ending with a letter or digit (NixOS networking.hostName)")]
    HostName(String),
    #[error("tag {0:?} is not valid: use ASCII letters, digits, `-`, `_` or `.` (colmena selects tags with `--on @tag`, where other characters are glob syntax or separators)")]
    Tag(String),
    #[error("address {0:?} is not valid: give an IP address or a DNS name (ASCII; write internationalised names as xn--…), without user, port or spaces")]
    Address(String),
    #[error("SSH user {0:?} is not valid: use a login name such as `root` or `admin` (lowercase letters, digits, `-`, `_`)")]
    User(String),
    #[error("port 0 is not valid: give the SSH port, 1 to 65535 (usually 22)")]
    Port,
    #[error("SSH public key {0:?} is not valid: paste one line as in `~/.ssh/id_ed25519.pub` (`ssh-ed25519 AAAA… comment`), no line breaks")]
    AuthorizedKey(String),
    #[error(
        "package {0:?} is not a nixpkgs attribute name such as `git` or `python3Packages.requests`"
    )]
    Package(String),
    #[error("state version {0:?} is not valid: use a NixOS release such as \"25.05\"")]
    StateVersion(String),
    #[error("nixpkgs branch {0:?} is not valid: use a branch or tag name such as `nixos-25.05` or `nixos-unstable`")]
    NixpkgsRef(String),
    #[error(
        "system {0:?} is not a Nix system nixdeck supports: use x86_64-linux or aarch64-linux"
    )]
    System(String),
}

/// A host name as NixOS's `networking.hostName` accepts it: an RFC 1123 label
/// (ASCII letters, digits, `-`, at most 63), with `_` allowed inside as NixOS allows.
/// Also the directory name under `hosts/` and the name of the flake outputs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HostName(String);

impl HostName {
    /// Checks `name` against NixOS's `^[[:alnum:]]([[:alnum:]_-]{0,61}[[:alnum:]])?$`.
    pub fn new(name: &str) -> Result<Self, NameError> {
        let bytes = name.as_bytes();
        let ok = (1..=63).contains(&bytes.len())
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
            && bytes[0].is_ascii_alphanumeric()
            && bytes[bytes.len() - 1].is_ascii_alphanumeric();
        if ok {
            Ok(Self(name.to_string()))
        } else {
            Err(NameError::HostName(name.to_string()))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for HostName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for HostName {
    type Error = NameError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(&value)
    }
}

impl From<HostName> for String {
    fn from(value: HostName) -> Self {
        value.0
    }
}

/// A colmena deployment tag (`deployment.tags`), usable in `--on @tag`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Tag(String);

impl Tag {
    pub fn new(tag: &str) -> Result<Self, NameError> {
        let ok = (1..=64).contains(&tag.len())
            && tag
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if ok {
            Ok(Self(tag.to_string()))
        } else {
            Err(NameError::Tag(tag.to_string()))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Tag {
    type Error = NameError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(&value)
    }
}

impl From<Tag> for String {
    fn from(value: Tag) -> Self {
        value.0
    }
}

/// Checks an SSH target address: an IPv4/IPv6 address or a DNS name. It reaches
/// ssh's command line later, so anything that could be read as an option or a
/// `user@` prefix is refused here.
pub fn check_address(address: &str) -> Result<(), NameError> {
    let ok = (1..=253).contains(&address.len())
        && !address.starts_with('-')
        && address
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'_' | b'%'));
    if ok {
        Ok(())
    } else {
        Err(NameError::Address(address.to_string()))
    }
}

/// Checks an SSH login name (what `useradd` accepts by default).
pub fn check_user(user: &str) -> Result<(), NameError> {
    let mut bytes = user.bytes();
    let ok = (1..=32).contains(&user.len())
        && bytes
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b == b'_')
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_'));
    if ok {
        Ok(())
    } else {
        Err(NameError::User(user.to_string()))
    }
}

pub(crate) const KEY_TYPES: &[&str] = &[
    "ssh-ed25519",
    "ssh-rsa",
    "ssh-dss",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
];

/// Checks one `authorized_keys` line: a known key type, base64 key material and an
/// optional comment. Line breaks and control characters are refused: in
/// `authorized_keys` a line break starts a new key, so a pasted "key" could add
/// another one nobody saw.
pub fn check_authorized_key(key: &str) -> Result<(), NameError> {
    let bad = || NameError::AuthorizedKey(key.to_string());
    if key.chars().any(char::is_control) {
        return Err(bad());
    }
    let mut parts = key.split(' ');
    let kind = parts.next().unwrap_or_default();
    let material = parts.next().unwrap_or_default();
    let material_ok = material.len() >= 16
        && material
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
    if KEY_TYPES.contains(&kind) && material_ok {
        Ok(())
    } else {
        Err(bad())
    }
}

/// Checks a package as an attribute path under `pkgs` (`git`, `python3Packages.requests`).
pub fn check_package(package: &str) -> Result<(), NameError> {
    if crate::nix::NixIdent::new(package).is_ok() && package.len() <= 128 {
        Ok(())
    } else {
        Err(NameError::Package(package.to_string()))
    }
}

/// Checks `system.stateVersion` (`YY.MM`).
pub fn check_state_version(version: &str) -> Result<(), NameError> {
    let b = version.as_bytes();
    let ok = b.len() == 5
        && b[2] == b'.'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 2 || c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(NameError::StateVersion(version.to_string()))
    }
}

/// Checks a nixpkgs branch or tag for `github:NixOS/nixpkgs/<ref>`.
pub fn check_nixpkgs_ref(reference: &str) -> Result<(), NameError> {
    let ok = (1..=100).contains(&reference.len())
        && !reference.starts_with(['-', '.'])
        && !reference.contains("..")
        && reference
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(NameError::NixpkgsRef(reference.to_string()))
    }
}

/// Checks a Nix system string for a host.
pub fn check_system(system: &str) -> Result<(), NameError> {
    if matches!(system, "x86_64-linux" | "aarch64-linux") {
        Ok(())
    } else {
        Err(NameError::System(system.to_string()))
    }
}
