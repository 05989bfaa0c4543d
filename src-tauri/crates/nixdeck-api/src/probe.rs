//! Probing a host: log in like OpenSSH, show an unknown host key to the person
//! before trusting it, read the facts, and keep them with the repository
//! (`.nixdeck/facts/<host>.json`) for the layout editor and the install's checks.

use crate::hosts::host_name;
use crate::targets::{read_targets, ssh_target};
use crate::{Api, ApiResult};
use nixdeck_core::facts::HostFacts;
use nixdeck_engine::facts_store;
use nixdeck_engine::probe::{probe, ProbeError, ProbeOptions};
use nixdeck_engine::ssh::{Auth, HostKeyPolicy, Secret, SshError, SshTarget};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use ts_rs::TS;

/// How to log in, as the person chose it. A password lives only for this call:
/// it is never stored, logged or sent back.
#[derive(Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AuthChoice {
    /// The ssh-agent's keys (`SSH_AUTH_SOCK`).
    Agent,
    /// One private key file.
    KeyFile {
        /// Its path.
        path: String,
    },
    /// A password (rescue systems).
    Password {
        /// The password.
        password: String,
    },
}

impl std::fmt::Debug for AuthChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Agent => f.write_str("Agent"),
            Self::KeyFile { path } => f.debug_struct("KeyFile").field("path", path).finish(),
            Self::Password { .. } => f.write_str("Password(<redacted>)"),
        }
    }
}

/// What to probe.
#[derive(Debug, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProbeRequest {
    /// The repository the facts are kept in.
    pub repo: String,
    /// The host's name in it.
    pub host: String,
    /// DNS name or IP address.
    pub address: String,
    /// SSH user.
    pub user: String,
    /// SSH port.
    pub port: u16,
    /// How to log in.
    pub auth: AuthChoice,
    /// The `SHA256:…` fingerprint the person accepted on first contact.
    pub trust_fingerprint: Option<String>,
}

/// The probe's answer: facts, or a host key to show before going on.
#[derive(Debug, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProbeOutcome {
    /// The facts, stored at `storedAt`.
    #[serde(rename_all = "camelCase")]
    Facts {
        /// What the probe read.
        facts: Box<HostFacts>,
        /// Where they are kept.
        stored_at: String,
    },
    /// First contact: known_hosts has no key for this host. Probe again with
    /// `trustFingerprint` once the person accepted it.
    #[serde(rename_all = "camelCase")]
    UnknownHostKey {
        /// The name known_hosts will record it under.
        host: String,
        /// `SHA256:…`.
        fingerprint: String,
        /// `ssh-ed25519`, `ecdsa-sha2-nistp256`…
        key_type: String,
        /// What to compare it with.
        hint: String,
    },
}

impl Api {
    /// Connects, reads the facts in one round trip and stores them with the host.
    /// An unknown host key is an answer, not an error: the person decides.
    pub async fn probe_host(&self, request: ProbeRequest) -> ApiResult<ProbeOutcome> {
        let host = host_name(&request.host)?;
        let target = SshTarget {
            host: request.address.trim().to_string(),
            port: Some(request.port),
            user: Some(request.user.trim().to_string()),
        };
        // The same checks SshTarget::parse makes on typed text.
        SshTarget::parse(&target.to_string())?;
        let auth = match request.auth {
            AuthChoice::Agent => Auth::Agent(None),
            AuthChoice::KeyFile { path } => Auth::KeyFile(PathBuf::from(path)),
            AuthChoice::Password { password } => Auth::Password(Secret::new(password)),
        };
        let connect = self.connect_options(
            auth,
            match request.trust_fingerprint {
                Some(fp) => HostKeyPolicy::TrustFingerprint(fp),
                None => HostKeyPolicy::Strict,
            },
        );
        match probe(&target, &connect, &ProbeOptions::default()).await {
            Ok(facts) => {
                let stored = facts_store::save(Path::new(&request.repo), &host, &facts)?;
                Ok(ProbeOutcome::Facts {
                    facts: Box::new(facts),
                    stored_at: stored.to_string_lossy().into_owned(),
                })
            }
            Err(ProbeError::Ssh(
                ref err @ SshError::HostKeyUnknown {
                    ref host,
                    ref fingerprint,
                    ref key_type,
                    ..
                },
            )) => Ok(ProbeOutcome::UnknownHostKey {
                host: host.clone(),
                fingerprint: fingerprint.clone(),
                key_type: key_type.clone(),
                hint: err.hint(),
            }),
            Err(err) => Err(err.into()),
        }
    }

    /// The facts recorded for `host`, if it was probed before.
    pub fn host_facts(&self, repo: &Path, host: &str) -> ApiResult<Option<HostFacts>> {
        Ok(facts_store::load(repo, &host_name(host)?))
    }

    /// Keeps the facts the person saw (as shown on review) for the install's
    /// preflight and disk re-check.
    pub fn record_host_facts(&self, repo: &Path, host: &str, facts: &HostFacts) -> ApiResult<()> {
        facts_store::save(repo, &host_name(host)?, facts)?;
        Ok(())
    }

    /// Reads `host`'s facts again over SSH (agent or default keys, known host
    /// keys only) and records them.
    pub async fn reprobe_host(&self, repo: &Path, host: &str) -> ApiResult<HostFacts> {
        let name = host_name(host)?;
        let targets = read_targets(repo).await?;
        let (_, target) = targets.find(host)?;
        let facts = probe(
            &ssh_target(target),
            &self.connect_options(Auth::Default, HostKeyPolicy::Strict),
            &ProbeOptions::default(),
        )
        .await?;
        facts_store::save(repo, &name, &facts)?;
        Ok(facts)
    }
}
