//! nixdeck's SSH client on russh, behaving like OpenSSH where users rely on it:
//! `~/.ssh/config` resolved as OpenSSH does (see [`config`]: Include, Host and
//! Match blocks, ProxyJump chains, ProxyCommand, UserKnownHostsFile,
//! HostKeyAlias, IdentitiesOnly), known_hosts checking (hashed entries,
//! `@revoked`, `@cert-authority` host certificates) with trust on first use
//! only when the caller accepts, ssh-agent / key file / password login,
//! keepalives, and a timeout on every step.

pub mod config;
mod connect;
mod error;
pub mod keys;
pub mod known_hosts;
mod proxy;
mod session;
mod verifier;

pub use error::{AuthMethod, SshError, Step};
pub use session::{ExecOutput, Session};

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// Where to connect, as the user typed it: `[user@]host[:port]`. Missing parts
/// come from `~/.ssh/config`, then OpenSSH's defaults (port 22, the local user).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SshTarget {
    /// Host name, alias or address (IPv6 without brackets).
    pub host: String,
    /// Port, when given.
    pub port: Option<u16>,
    /// Login user, when given.
    pub user: Option<String>,
}

impl SshTarget {
    /// Parses `[user@]host[:port]`; IPv6 addresses go in brackets when a port
    /// follows (`[2001:db8::1]:2222`).
    pub fn parse(input: &str) -> Result<Self, SshError> {
        let bad = |problem: &str| SshError::BadTarget {
            input: input.to_string(),
            problem: problem.to_string(),
        };
        let s = input.trim();
        let (user, rest) = match s.rsplit_once('@') {
            Some((u, r)) => (Some(u), r),
            None => (None, s),
        };
        if user.is_some_and(|u| u.is_empty() || u.chars().any(|c| c.is_whitespace())) {
            return Err(bad("the user name is empty or contains spaces"));
        }
        let (host, port) = if let Some(inner) = rest.strip_prefix('[') {
            let (h, after) = inner
                .split_once(']')
                .ok_or_else(|| bad("a '[' without its ']'"))?;
            match after {
                "" => (h, None),
                p => (
                    h,
                    Some(p.strip_prefix(':').ok_or_else(|| bad("junk after ']'"))?),
                ),
            }
        } else if rest.matches(':').count() == 1 {
            let (h, p) = rest.split_once(':').unwrap_or((rest, ""));
            (h, Some(p))
        } else {
            (rest, None) // a bare IPv6 address, or no port
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        if host
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '/' | '\\' | '\'' | '"'))
        {
            return Err(bad("the host contains characters no host name has"));
        }
        let port = match port {
            None => None,
            Some(p) => Some(
                p.parse::<u16>()
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or_else(|| bad("the port is not a number from 1 to 65535"))?,
            ),
        };
        Ok(Self {
            host: host.to_string(),
            port,
            user: user.map(str::to_string),
        })
    }
}

impl std::fmt::Display for SshTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(u) = &self.user {
            write!(f, "{u}@")?;
        }
        match (self.host.contains(':'), self.port) {
            (true, Some(p)) => write!(f, "[{}]:{p}", self.host),
            (false, Some(p)) => write!(f, "{}:{p}", self.host),
            (_, None) => f.write_str(&self.host),
        }
    }
}

/// A password or passphrase: never printed, never logged. It can be read
/// from the window's request (a plain string on the wire) but has no
/// `Serialize`, so it can never be written into the job store or a reply.
#[derive(Clone, PartialEq, Eq, serde::Deserialize, ts_rs::TS)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        // Best effort: overwrite the bytes before the memory is freed.
        let mut bytes = std::mem::take(&mut self.0).into_bytes();
        bytes.fill(0);
        std::hint::black_box(&bytes);
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// How to log in.
#[derive(Debug, Clone)]
pub enum Auth {
    /// Like OpenSSH: the agent's keys (when `SSH_AUTH_SOCK` is set), then the
    /// config's IdentityFiles, then `~/.ssh/id_ed25519`, `id_ecdsa`, `id_rsa`.
    Default,
    /// Only the keys of the ssh-agent at this socket (`None`: `SSH_AUTH_SOCK`).
    Agent(Option<PathBuf>),
    /// Only this private key file (its passphrase asked through [`PassphrasePrompt`]).
    KeyFile(PathBuf),
    /// A password (rescue systems).
    Password(Secret),
}

/// What to do with a host key known_hosts does not have.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", content = "fingerprint", rename_all = "snake_case")]
pub enum HostKeyPolicy {
    /// Refuse it: the connection fails with [`SshError::HostKeyUnknown`],
    /// which carries the fingerprint to show the user.
    Strict,
    /// Accept and record any new key (`--accept-new-host-key`).
    AcceptNew,
    /// Accept and record the key only if it has this `SHA256:…` fingerprint:
    /// the one the user saw and accepted after a [`SshError::HostKeyUnknown`].
    TrustFingerprint(String),
}

/// Asks the user for a key file's passphrase (the UI shows a dialog, the
/// CLI reads an environment variable). `None` means the user declined.
pub trait PassphrasePrompt: Send + Sync {
    /// The passphrase of `key_file`.
    fn passphrase<'a>(
        &'a self,
        key_file: &'a Path,
    ) -> Pin<Box<dyn Future<Output = Option<Secret>> + Send + 'a>>;
}

/// A step of connecting and probing, reported as it starts, so a UI can
/// show progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Opening the TCP connection.
    Connecting,
    /// Key exchange and host-key verification.
    Handshake,
    /// Logging in.
    Authenticating,
    /// Running the probe script and reading its answers.
    ReadingFacts,
}

/// Receives [`Phase`]s as they start.
pub type Progress = Arc<dyn Fn(Phase) + Send + Sync>;

/// Time limits per step.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// TCP connect.
    pub connect: Duration,
    /// SSH version and key exchange.
    pub handshake: Duration,
    /// Login, all methods together.
    pub auth: Duration,
    /// Each command.
    pub command: Duration,
    /// Keepalive interval; three unanswered keepalives end the connection.
    pub keepalive: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            handshake: Duration::from_secs(15),
            auth: Duration::from_secs(30),
            command: Duration::from_secs(60),
            keepalive: Duration::from_secs(15),
        }
    }
}

/// Everything a connection needs besides the target.
#[derive(Clone)]
pub struct ConnectOptions {
    /// How to log in.
    pub auth: Auth,
    /// What to do with an unknown host key.
    pub host_keys: HostKeyPolicy,
    /// known_hosts file; `None` for `~/.ssh/known_hosts`.
    pub known_hosts: Option<PathBuf>,
    /// ssh config file; `None` for `~/.ssh/config`.
    pub ssh_config: Option<PathBuf>,
    /// Time limits.
    pub timeouts: Timeouts,
    /// Asks for key passphrases; without one, encrypted keys fail with a message.
    pub prompt: Option<Arc<dyn PassphrasePrompt>>,
    /// Told when each phase starts.
    pub progress: Option<Progress>,
}

impl ConnectOptions {
    /// Reports `phase` to [`ConnectOptions::progress`], if any.
    pub fn report(&self, phase: Phase) {
        if let Some(p) = &self.progress {
            p(phase);
        }
    }
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            auth: Auth::Default,
            host_keys: HostKeyPolicy::Strict,
            known_hosts: None,
            ssh_config: None,
            timeouts: Timeouts::default(),
            prompt: None,
            progress: None,
        }
    }
}

impl std::fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("auth", &self.auth)
            .field("host_keys", &self.host_keys)
            .field("known_hosts", &self.known_hosts)
            .field("ssh_config", &self.ssh_config)
            .field("timeouts", &self.timeouts)
            .field("prompt", &self.prompt.is_some())
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let t = SshTarget::parse("root@10.0.0.1:2222").unwrap();
        assert_eq!(
            (t.user.as_deref(), t.host.as_str(), t.port),
            (Some("root"), "10.0.0.1", Some(2222))
        );
        let t = SshTarget::parse("[2001:db8::1]:22").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("2001:db8::1", Some(22)));
        assert_eq!(SshTarget::parse("2001:db8::1").unwrap().port, None);
        assert_eq!(SshTarget::parse("web").unwrap().to_string(), "web");
        assert_eq!(t.to_string(), "[2001:db8::1]:22");
        for bad in [
            "",
            "@h",
            "h:0",
            "h:99999",
            "h:x",
            "a b",
            "[::1",
            "h'; rm -rf /",
        ] {
            assert!(SshTarget::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("hunter2");
        assert!(!format!("{s:?}").contains("hunter2"));
        assert!(!format!("{:?}", Auth::Password(s)).contains("hunter2"));
    }
}
