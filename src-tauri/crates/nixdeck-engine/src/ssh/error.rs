//! What can go wrong between nixdeck and a target's sshd, each with a message
//! saying which step failed and a hint saying what to check.

use std::path::PathBuf;
use std::time::Duration;
use thiserror::Error;

/// The step of an SSH session that ran out of time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Opening the TCP connection.
    Connect,
    /// Exchanging SSH versions and keys.
    Handshake,
    /// Logging in.
    Auth,
    /// Running a command (named).
    Command(String),
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Step::Connect => f.write_str("connecting"),
            Step::Handshake => f.write_str("the SSH handshake"),
            Step::Auth => f.write_str("authentication"),
            Step::Command(c) => write!(f, "running {c}"),
        }
    }
}

/// How the login was attempted, for [`SshError::AuthFailed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// A password.
    Password,
    /// Keys (from files or an agent).
    PublicKey,
}

/// An SSH connection that failed.
#[derive(Debug, Clone, Error)]
pub enum SshError {
    /// The target string could not be understood.
    #[error("{input:?} is not a valid SSH target: {problem}")]
    BadTarget {
        /// What the user typed.
        input: String,
        /// What is wrong.
        problem: String,
    },
    /// No TCP connection (refused, no route, name not found).
    #[error("cannot reach {addr}: {reason}")]
    Unreachable {
        /// `host:port`.
        addr: String,
        /// The system's reason.
        reason: String,
    },
    /// A step took longer than its timeout.
    #[error("{step} with {addr} timed out after {}s", after.as_secs())]
    Timeout {
        /// Which step.
        step: Step,
        /// `host:port`.
        addr: String,
        /// The timeout that ran out.
        after: Duration,
    },
    /// The server speaks something else than SSH, or the handshake failed.
    #[error("{addr} did not complete an SSH handshake: {reason}")]
    Handshake {
        /// `host:port`.
        addr: String,
        /// russh's reason.
        reason: String,
    },
    /// The host key is not in known_hosts and the policy did not accept it.
    #[error("the host key of {host} is not known: {key_type} key {fingerprint}{}{}", if other_types.is_empty() { String::new() } else { format!(" (known_hosts has its {} key)", other_types.join(", ")) }, match cert_authority.as_deref() { Some((file, line)) => format!("; {} line {line} trusts a certificate authority for it, but it presented no certificate", file.display()), None => String::new() })]
    HostKeyUnknown {
        /// The name it would be recorded under (`[host]:port`).
        host: String,
        /// `SHA256:…`.
        fingerprint: String,
        /// `ssh-ed25519`, …
        key_type: String,
        /// Key types known_hosts records for the host under other types.
        other_types: Vec<String>,
        /// The `@cert-authority` line (file, 1-based line) that covers the
        /// host, which presented a plain key instead of a certificate.
        cert_authority: Option<Box<(PathBuf, usize)>>,
    },
    /// The host presented a different key than known_hosts records.
    #[error("the host key of {host} has CHANGED: it now presents {fingerprint}, but {} line {line} records {known_fingerprint}. Someone may be intercepting the connection, or the machine was reinstalled", known_hosts.display())]
    HostKeyMismatch {
        /// The name it is recorded under.
        host: String,
        /// The presented key's fingerprint.
        fingerprint: String,
        /// The recorded key's fingerprint.
        known_fingerprint: String,
        /// The known_hosts file.
        known_hosts: PathBuf,
        /// Line of the recorded key.
        line: usize,
    },
    /// The host presented a key marked `@revoked`.
    #[error("the host key of {host} ({fingerprint}) is marked @revoked in {} line {line}", known_hosts.display())]
    HostKeyRevoked {
        /// The host.
        host: String,
        /// The key's fingerprint.
        fingerprint: String,
        /// The known_hosts file.
        known_hosts: PathBuf,
        /// Line of the marker.
        line: usize,
    },
    /// The host presented a certificate that does not vouch for it.
    #[error("the host certificate of {host} is not accepted: {reason}")]
    HostCertificate {
        /// The name it is checked under.
        host: String,
        /// Why not.
        reason: String,
    },
    /// known_hosts could not be read or written.
    #[error("cannot use known_hosts file {}: {reason}", path.display())]
    KnownHostsFile {
        /// The file.
        path: PathBuf,
        /// The system's reason.
        reason: String,
    },
    /// The server refused every credential offered.
    #[error("{}", auth_failed_message(user, addr, *method, tried, remaining))]
    AuthFailed {
        /// The login user.
        user: String,
        /// `host:port`.
        addr: String,
        /// How it was attempted.
        method: AuthMethod,
        /// What was offered, in words (key files and fingerprints).
        tried: Vec<String>,
        /// Methods the server still accepts.
        remaining: Vec<String>,
    },
    /// A private key file could not be used.
    #[error("cannot use private key {}: {reason}", path.display())]
    KeyFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The ssh-agent could not be used.
    #[error("cannot use the ssh-agent: {0}")]
    Agent(String),
    /// The ssh config has a line nixdeck cannot use, or cannot honour for
    /// this host (it would connect elsewhere than `ssh` does).
    #[error("{}{problem}", config_place(file, *line))]
    Config {
        /// The config file (empty when the value's line is not known).
        file: PathBuf,
        /// Its 1-based line (0 when not known).
        line: usize,
        /// What is wrong.
        problem: String,
    },
    /// The `ProxyCommand` could not be run, or ended the connection.
    #[error("the ProxyCommand `{command}` failed: {reason}")]
    ProxyCommand {
        /// The command line (tokens expanded).
        command: String,
        /// What went wrong (with what it printed on stderr).
        reason: String,
    },
    /// A `ProxyJump` host could not open the connection onwards.
    #[error("the jump host {via} could not connect to {to}: {reason}")]
    Jump {
        /// The jump host (`host:port`).
        via: String,
        /// Where it was asked to connect (`host:port`).
        to: String,
        /// Its reason.
        reason: String,
    },
    /// A command could not be started or its channel broke.
    #[error("{step} on {addr} failed: {reason}")]
    Channel {
        /// Which step.
        step: Step,
        /// `host:port`.
        addr: String,
        /// What happened.
        reason: String,
    },
}

fn config_place(file: &std::path::Path, line: usize) -> String {
    match (file.as_os_str().is_empty(), line) {
        (true, _) => "ssh config: ".into(),
        (false, 0) => format!("{}: ", file.display()),
        (false, n) => format!("{} line {n}: ", file.display()),
    }
}

fn auth_failed_message(
    user: &str,
    addr: &str,
    method: AuthMethod,
    tried: &[String],
    remaining: &[String],
) -> String {
    let what = match method {
        AuthMethod::Password => format!("{addr} rejected the password for {user}"),
        AuthMethod::PublicKey if tried.is_empty() => {
            format!("no key to offer {addr} for {user} (no agent keys, no key files)")
        }
        AuthMethod::PublicKey => format!(
            "{addr} accepted none of the keys offered for {user}: {}",
            tried.join("; ")
        ),
    };
    if remaining.is_empty() {
        what
    } else {
        format!("{what} (the server accepts: {})", remaining.join(", "))
    }
}

impl SshError {
    /// A stable, machine-readable name of the failure (`host_key_unknown`,
    /// `auth_failed`, …) for the app's error codes and `--json` output.
    pub fn code(&self) -> &'static str {
        match self {
            SshError::BadTarget { .. } => "bad_target",
            SshError::Unreachable { .. } => "unreachable",
            SshError::Timeout { .. } => "timeout",
            SshError::Handshake { .. } => "handshake",
            SshError::HostKeyUnknown { .. } => "host_key_unknown",
            SshError::HostKeyMismatch { .. } => "host_key_mismatch",
            SshError::HostKeyRevoked { .. } => "host_key_revoked",
            SshError::KnownHostsFile { .. } => "known_hosts_file",
            SshError::AuthFailed { .. } => "auth_failed",
            SshError::KeyFile { .. } => "key_file",
            SshError::Agent(_) => "agent",
            SshError::Channel { .. } => "channel",
            SshError::Config { .. } => "ssh_config",
            SshError::HostCertificate { .. } => "host_certificate",
            SshError::ProxyCommand { .. } => "proxy_command",
            SshError::Jump { .. } => "proxy_jump",
        }
    }

    /// What the user can do about it, in words.
    pub fn hint(&self) -> String {
        match self {
            SshError::BadTarget { .. } => "Write the target as [user@]host[:port], e.g. root@203.0.113.7:22 or [2001:db8::1]:2222.".into(),
            SshError::Unreachable { .. } => "Check the address and port, that the machine is running and sshd listens there (a rescue system may need to be booted first), and that no firewall refuses the connection.".into(),
            SshError::Timeout { step: Step::Connect, .. } => "Nothing answered: check the address, that the machine is up, and that no firewall silently drops the port.".into(),
            SshError::Timeout { step: Step::Handshake, .. } => "The port accepts connections but does not speak SSH: check the port number (is it a web server or a VPN?) and that sshd is not overloaded.".into(),
            SshError::Timeout { step: Step::Auth, .. } => "The server did not answer the login: check the ssh-agent (it may be waiting for a confirmation or a hardware key) and the server's PAM setup.".into(),
            SshError::Timeout { step: Step::Command(_), .. } => "The command did not finish in time: the machine may be overloaded or a disk may hang; try again, or look at the machine's console.".into(),
            SshError::Handshake { .. } => "Check that the port is sshd's and that the server allows modern key exchange and ciphers.".into(),
            SshError::HostKeyUnknown { key_type, other_types, cert_authority, .. } => {
                let compare = "the fingerprint with the one the provider or console shows (`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on the machine), then accept it (`--accept-new-host-key` on the command line)";
                if cert_authority.is_some() {
                    format!("Your known_hosts expects a certificate from your certificate authority, but the host presented only a plain {key_type} key (is `HostCertificate` set in its sshd_config?): fix the host, or compare {compare}.")
                } else if !other_types.is_empty() {
                    format!(
                        "This host is already known under another key type ({}), but it now presents only a {key_type} key. That happens when the machine was reinstalled or its sshd keys were changed; it can also mean someone intercepts the connection: compare {compare}.",
                        other_types.join(", ")
                    )
                } else {
                    format!("Compare {compare}.")
                }
            }
            SshError::HostKeyMismatch { host, known_hosts, .. } => format!(
                "If you reinstalled the machine or its rescue system has its own keys, remove the old key with `ssh-keygen -R '{host}' -f {}` and connect again; otherwise do not connect.",
                known_hosts.display()
            ),
            SshError::HostKeyRevoked { .. } => "The key was revoked on purpose; do not connect until the machine has a new host key.".into(),
            SshError::KnownHostsFile { .. } => "Check the file's permissions, or choose another file (--known-hosts FILE).".into(),
            SshError::AuthFailed { method: AuthMethod::Password, .. } => "Check the user name and the password (rescue systems often show it once in the provider's panel), and that the server allows password login.".into(),
            SshError::AuthFailed { .. } => "Check the user name, that the public key is in the target's ~/.ssh/authorized_keys, and which key you offer (-i KEY, or `ssh-add -l` for the agent).".into(),
            SshError::KeyFile { .. } => "Check the path and permissions of the key file and its passphrase.".into(),
            SshError::Agent(_) => "Start an ssh-agent and add a key (`ssh-add`), or choose a key file or password instead.".into(),
            SshError::HostCertificate { .. } => "Ask whoever runs the certificate authority to re-sign the host key for this name (`ssh-keygen -s CA -h -n NAME`), or check the @cert-authority line in known_hosts; do not connect until the certificate checks out.".into(),
            SshError::Config { .. } => "Fix the line in your ssh config, or give this host its own `Host` block that nixdeck can follow; `ssh -G HOST` shows what OpenSSH makes of it.".into(),
            SshError::ProxyCommand { .. } => "Check the ProxyCommand in your ssh config: run it by hand with the host and port filled in; it must relay the SSH connection on its stdin and stdout.".into(),
            SshError::Jump { .. } => "Check that the jump host can reach the target (name, port, firewall) and that its sshd allows forwarding (`AllowTcpForwarding yes`).".into(),
            SshError::Channel { .. } => "The connection broke while a command ran: check the network and the target's sshd logs, then try again.".into(),
        }
    }
}
