//! The wizard's "connect and probe" step: log in like OpenSSH, show an unknown
//! host key to the person before trusting it, read the facts, and keep them in
//! the repository (`.nixdeck/facts/<host>.json`, see `nixdeck_engine::facts_store`)
//! so the layout editor and the install's disk re-check work from them later.

use crate::error::{ErrorCode, IpcError, IpcResult};
use nixdeck_core::facts::HostFacts;
use nixdeck_core::repo::HostName;
use nixdeck_engine::facts_store;
use nixdeck_engine::probe::{probe, ProbeError, ProbeOptions};
use nixdeck_engine::ssh::{Auth, ConnectOptions, HostKeyPolicy, Secret, SshError, SshTarget};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// How to log in, as the person chose it. The password lives only for this call:
/// it is never stored, logged or sent back.
#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AuthChoice {
    /// The ssh-agent's keys (`SSH_AUTH_SOCK`).
    Agent,
    /// One private key file.
    KeyFile { path: String },
    /// A password (rescue systems).
    Password { password: String },
}

/// What to probe.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProbeRequest {
    pub repo: String,
    pub host: String,
    pub address: String,
    pub user: String,
    pub port: u16,
    pub auth: AuthChoice,
    /// The `SHA256:…` fingerprint the person accepted in the host-key dialog.
    pub trust_fingerprint: Option<String>,
}

/// The probe's answer: facts, or a host key to show before going on.
#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProbeOutcome {
    /// The facts, stored at `storedAt`.
    #[serde(rename_all = "camelCase")]
    Facts {
        facts: Box<HostFacts>,
        stored_at: String,
    },
    /// First contact: known_hosts has no key for this host. Probe again with
    /// `trustFingerprint` once the person accepted it.
    #[serde(rename_all = "camelCase")]
    UnknownHostKey {
        host: String,
        fingerprint: String,
        key_type: String,
        hint: String,
    },
}

fn host_name(name: &str) -> IpcResult<HostName> {
    HostName::new(name).map_err(|e| IpcError::new(ErrorCode::Validation, e.to_string()))
}

/// Connects, reads the facts in one round trip and stores them with the host.
#[tauri::command(async)]
pub async fn probe_host(request: ProbeRequest) -> IpcResult<ProbeOutcome> {
    let host = host_name(&request.host)?;
    let target = SshTarget {
        host: request.address.trim().to_string(),
        port: Some(request.port),
        user: Some(request.user.trim().to_string()),
    };
    // The same checks SshTarget::parse makes on typed text.
    SshTarget::parse(&target.to_string()).map_err(ProbeError::from)?;
    let auth = match request.auth {
        AuthChoice::Agent => Auth::Agent(None),
        AuthChoice::KeyFile { path } => Auth::KeyFile(PathBuf::from(path)),
        AuthChoice::Password { password } => Auth::Password(Secret::new(password)),
    };
    let connect = ConnectOptions {
        auth,
        host_keys: match request.trust_fingerprint {
            Some(fp) => HostKeyPolicy::TrustFingerprint(fp),
            None => HostKeyPolicy::Strict,
        },
        ..ConnectOptions::default()
    };
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

/// The facts stored for `host` in `repo`, if it was probed before.
#[tauri::command(async)]
pub fn load_facts(repo: String, host: String) -> IpcResult<Option<HostFacts>> {
    Ok(facts_store::load(Path::new(&repo), &host_name(&host)?))
}
