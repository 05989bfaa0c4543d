//! Host-key verification during the handshake: a plain key against
//! known_hosts with the caller's policy, a host certificate against the
//! `@cert-authority` lines.

use super::known_hosts::{fingerprint, CertRefusal, HostKeyStatus, KnownHosts};
use super::{HostKeyPolicy, SshError};
use russh::client;
use russh::keys::PublicKey;
use std::sync::{Arc, Mutex};

/// What the host-key check decided, kept so a refused handshake can be
/// turned into the right error after russh gives up.
#[derive(Debug, Clone)]
pub(super) enum Verdict {
    Pending,
    Accepted,
    Refused(Box<SshError>),
}

pub(super) struct Verifier {
    pub known_hosts: Arc<Mutex<KnownHosts>>,
    /// The name the key is recorded under: `[host]:port` or a HostKeyAlias.
    pub key_name: String,
    /// The name a host certificate must be issued for: the host or the alias.
    pub principal: String,
    pub policy: HostKeyPolicy,
    pub verdict: Arc<Mutex<Verdict>>,
}

impl Verifier {
    fn decide(&self, key: &PublicKey) -> Result<(), SshError> {
        let mut kh = self.known_hosts.lock().unwrap_or_else(|p| p.into_inner());
        let fp = fingerprint(key);
        let entry = self.key_name.clone();
        match kh.check_name(&self.key_name, key) {
            HostKeyStatus::Known => Ok(()),
            HostKeyStatus::Changed {
                line,
                known_fingerprint,
                file,
            } => Err(SshError::HostKeyMismatch {
                host: entry,
                fingerprint: fp,
                known_fingerprint,
                known_hosts: file,
                line,
            }),
            HostKeyStatus::Revoked { line, file } => Err(SshError::HostKeyRevoked {
                host: entry,
                fingerprint: fp,
                known_hosts: file,
                line,
            }),
            HostKeyStatus::Unknown {
                other_types,
                cert_authority,
            } => {
                let accept = match &self.policy {
                    HostKeyPolicy::Strict => false,
                    // Where the user set up a certificate authority, a key
                    // is never taken on trust blindly: they check it once.
                    HostKeyPolicy::AcceptNew => cert_authority.is_none(),
                    HostKeyPolicy::TrustFingerprint(f) => *f == fp,
                };
                if !accept {
                    return Err(SshError::HostKeyUnknown {
                        host: entry,
                        fingerprint: fp,
                        key_type: key.algorithm().to_string(),
                        other_types,
                        cert_authority: cert_authority.map(Box::new),
                    });
                }
                let path = kh.path().to_path_buf();
                kh.append_name(&self.key_name, key)
                    .map_err(|e| SshError::KnownHostsFile {
                        path,
                        reason: e.to_string(),
                    })
            }
        }
    }
}

impl Verifier {
    /// A certificate is only asked for when a `@cert-authority` line covers
    /// the host; it is checked against those lines, and never recorded.
    fn decide_cert(&self, cert: &russh::keys::Certificate) -> Result<(), SshError> {
        let kh = self.known_hosts.lock().unwrap_or_else(|p| p.into_inner());
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let fp = cert
            .public_key()
            .fingerprint(russh::keys::HashAlg::Sha256)
            .to_string();
        kh.check_certificate(&self.key_name, &self.principal, cert, now)
            .map_err(|refusal| match refusal {
                CertRefusal::Revoked { line, file } => SshError::HostKeyRevoked {
                    host: self.key_name.clone(),
                    fingerprint: fp,
                    known_hosts: file,
                    line,
                },
                CertRefusal::Invalid(reason) => SshError::HostCertificate {
                    host: self.key_name.clone(),
                    reason,
                },
            })
    }
}

impl client::Handler for Verifier {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &russh::keys::PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let decision = match key {
            russh::keys::PublicKeyOrCertificate::PublicKey { key, .. } => self.decide(key),
            russh::keys::PublicKeyOrCertificate::Certificate(cert) => self.decide_cert(cert),
        };
        let verdict = match decision {
            Ok(()) => Verdict::Accepted,
            Err(e) => Verdict::Refused(Box::new(e)),
        };
        let ok = matches!(verdict, Verdict::Accepted);
        *self.verdict.lock().unwrap_or_else(|p| p.into_inner()) = verdict;
        Ok(ok)
    }
}
