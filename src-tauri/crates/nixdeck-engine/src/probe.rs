//! The probe: one SSH connection, one command (the core's probe script fed
//! to `sh -s`), the output parsed into [`HostFacts`]. The app and the CLI call
//! [`probe`]; everything it can fail with is a [`ProbeError`] with a hint.

use crate::ssh::{ConnectOptions, Phase, Session, SshError, SshTarget};
use nixdeck_core::facts::report::{self, ReportError};
use nixdeck_core::facts::{HostFacts, Privilege};
use std::time::{SystemTime, UNIX_EPOCH};
use thiserror::Error;

/// Most bytes of probe output read: the facts of a machine with hundreds of disks
/// take a few hundred KiB; anything far beyond is not the probe script answering.
pub const MAX_PROBE_OUTPUT: usize = 8 << 20;
/// Most bytes of the probe's error output kept for a message.
const MAX_PROBE_STDERR: usize = 4 << 10;

/// What the probe needs besides how to connect.
#[derive(Debug, Clone, Default)]
pub struct ProbeOptions {
    /// Fail with [`ProbeError::SudoRequired`] when the user is not root and
    /// has no password-less sudo/doas (nixos-anywhere needs one of them).
    /// When false, the facts carry [`Privilege::None`] and a warning.
    pub require_root: bool,
}

/// Why a probe failed.
#[derive(Debug, Error)]
pub enum ProbeError {
    /// Connecting, verifying the host or logging in failed.
    #[error(transparent)]
    Ssh(#[from] SshError),
    /// The user is not root and cannot get root without a password.
    #[error("{user} is not root and cannot use `sudo -n` or `doas -n` on the target")]
    SudoRequired {
        /// The login user.
        user: String,
    },
    /// The probe script failed on the target.
    #[error("the probe script failed on the target (exit status {status}): {stderr}")]
    ScriptFailed {
        /// Its exit status.
        status: String,
        /// What it printed on stderr (trimmed).
        stderr: String,
    },
    /// Its output could not be read.
    #[error("the target's answers could not be read: {0}")]
    Output(#[from] ReportError),
    /// It printed more than the probe ever needs.
    #[error("the target answered the probe with {bytes} bytes, more than the {limit} nixdeck reads: it was not parsed")]
    OutputTooLarge { bytes: usize, limit: usize },
}

impl ProbeError {
    /// A stable, machine-readable name of the failure (see [`SshError::code`]).
    pub fn code(&self) -> &'static str {
        match self {
            ProbeError::Ssh(e) => e.code(),
            ProbeError::SudoRequired { .. } => "sudo_required",
            ProbeError::ScriptFailed { .. } => "script_failed",
            ProbeError::Output(_) => "bad_output",
            ProbeError::OutputTooLarge { .. } => "output_too_large",
        }
    }

    /// What the user can do about it.
    pub fn hint(&self) -> String {
        match self {
            ProbeError::Ssh(e) => e.hint(),
            ProbeError::SudoRequired { user } => format!(
                "Log in as root, or give {user} password-less sudo (a line `{user} ALL=(ALL) NOPASSWD: ALL` in /etc/sudoers.d/)."
            ),
            ProbeError::ScriptFailed { .. } => "The target needs a POSIX /bin/sh and util-linux (lsblk); a rescue system usually has both.".into(),
            ProbeError::Output(_) => "The target's tools print something nixdeck does not understand; please report it with the output of `lsblk --json -b`.".into(),
            ProbeError::OutputTooLarge { .. } => "Check that the login shell of the target prints nothing of its own (a banner or profile script writing to stdout), then probe again.".into(),
        }
    }
}

/// Connects to `target`, reads its facts in one command, and disconnects.
pub async fn probe(
    target: &SshTarget,
    connect: &ConnectOptions,
    options: &ProbeOptions,
) -> Result<HostFacts, ProbeError> {
    let session = Session::connect(target, connect).await?;
    connect.report(Phase::ReadingFacts);
    let result = probe_session(&session, &target.to_string(), options).await;
    session.close().await;
    result
}

/// Reads the facts over an already open session (e.g. to re-probe the disks
/// right before an install on the connection that will run it).
pub async fn probe_session(
    session: &Session,
    address: &str,
    options: &ProbeOptions,
) -> Result<HostFacts, ProbeError> {
    probe_session_limited(session, address, options, MAX_PROBE_OUTPUT).await
}

/// [`probe_session`] reading at most `max_output` bytes of the script's output.
pub async fn probe_session_limited(
    session: &Session,
    address: &str,
    options: &ProbeOptions,
    max_output: usize,
) -> Result<HostFacts, ProbeError> {
    let script = report::script();
    let out = session
        .exec("the probe script", "sh -s", script.as_bytes())
        .await?;
    // Checked before anything is decoded or parsed.
    if out.stdout.len() > max_output {
        return Err(ProbeError::OutputTooLarge {
            bytes: out.stdout.len(),
            limit: max_output,
        });
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    if out.exit_status != Some(0) {
        let stderr = &out.stderr[..out.stderr.len().min(MAX_PROBE_STDERR)];
        return Err(ProbeError::ScriptFailed {
            status: out
                .exit_status
                .map_or_else(|| "none (killed)".into(), |s| s.to_string()),
            stderr: String::from_utf8_lossy(stderr).trim().to_string(),
        });
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let facts = report::parse(&stdout, address, now)?;
    if options.require_root && facts.privilege == Privilege::None {
        return Err(ProbeError::SudoRequired { user: facts.user });
    }
    Ok(facts)
}
