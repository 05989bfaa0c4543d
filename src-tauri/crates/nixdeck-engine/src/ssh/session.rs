//! One authenticated SSH connection: log in (agent, key files, password),
//! run commands with a timeout, close it with the jump hosts it runs through.

use super::config::{HostConfig, IdentityAgent, SshConfig};
use super::known_hosts::fingerprint;
use super::verifier::Verifier;
use super::{Auth, AuthMethod, ConnectOptions, SshError, SshTarget, Step};
use russh::client::Handle;
use russh::keys::agent::client::AgentClient;
use russh::keys::{PrivateKeyWithHashAlg, PublicKey};
use russh::{ChannelMsg, MethodKind};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// A command's result.
#[derive(Debug, Clone, Default)]
pub struct ExecOutput {
    /// Everything it wrote to stdout.
    pub stdout: Vec<u8>,
    /// Everything it wrote to stderr.
    pub stderr: Vec<u8>,
    /// Its exit status (`None` when killed by a signal).
    pub exit_status: Option<u32>,
}

/// A logged-in connection.
pub struct Session {
    pub(super) handle: Handle<Verifier>,
    pub(super) addr: String,
    pub(super) user: String,
    pub(super) command_timeout: Duration,
    /// The jump host this session runs through, kept open as long as it.
    pub(super) via: Option<Box<Session>>,
}

impl Session {
    /// Connects, verifies the host key, and logs in. The destination is
    /// resolved through the ssh config as OpenSSH does, including
    /// `ProxyJump` chains (each hop checked against known_hosts with the
    /// same policy) and `ProxyCommand`.
    pub async fn connect(target: &SshTarget, opts: &ConnectOptions) -> Result<Session, SshError> {
        let config = match &opts.ssh_config {
            Some(p) => SshConfig::load(p),
            None => SshConfig::load_default(),
        };
        super::connect::connect_hop(&config, target, opts, None, 0).await
    }

    /// The user this session is logged in as.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// `host:port` of the server.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    pub(super) async fn authenticate(
        &mut self,
        auth: &Auth,
        opts: &ConnectOptions,
        hc: &HostConfig,
    ) -> Result<(), SshError> {
        let identity_files = &hc.identity_files;
        let mut tried = Vec::new();
        let mut remaining = Vec::new();
        let result = match auth {
            Auth::Password(pw) => {
                let r = self
                    .handle
                    .authenticate_password(self.user.clone(), pw.expose())
                    .await
                    .map_err(|e| self.channel_error(Step::Auth, e))?;
                if let russh::client::AuthResult::Failure {
                    remaining_methods, ..
                } = &r
                {
                    remaining = methods(remaining_methods);
                }
                // Rescue systems with PAM often offer only keyboard-interactive,
                // whose one hidden prompt wants the same password.
                if r.success()
                    || (remaining.iter().any(|m| m == "keyboard-interactive")
                        && self.try_keyboard_interactive(pw).await?)
                {
                    return Ok(());
                }
                return {
                    Err(SshError::AuthFailed {
                        user: self.user.clone(),
                        addr: self.addr.clone(),
                        method: AuthMethod::Password,
                        tried: vec!["password".into()],
                        remaining,
                    })
                };
            }
            Auth::Agent(socket) => {
                self.try_agent(socket.as_deref(), true, None, &mut tried, &mut remaining)
                    .await?
            }
            Auth::KeyFile(path) => {
                let key = load_key(path, opts).await?;
                self.try_key(path, key, &mut tried, &mut remaining).await?
            }
            Auth::Default => {
                let mut ok = false;
                let files = default_identity_files(identity_files);
                // IdentitiesOnly: of the agent's keys, only those of the
                // configured files (a full agent can use up MaxAuthTries).
                let only = hc.identities_only.then(|| {
                    files
                        .iter()
                        .filter_map(|f| public_half(f))
                        .collect::<Vec<_>>()
                });
                let socket = match &hc.identity_agent {
                    Some(IdentityAgent::None) => None,
                    Some(IdentityAgent::Socket(p)) => Some(Some(p.as_path())),
                    None => std::env::var_os("SSH_AUTH_SOCK").map(|_| None),
                };
                if let Some(socket) = socket {
                    ok = self
                        .try_agent(socket, false, only.as_deref(), &mut tried, &mut remaining)
                        .await?;
                }
                if !ok {
                    for path in files {
                        let key = match load_key(&path, opts).await {
                            Ok(k) => k,
                            // A key we cannot open is skipped, like OpenSSH
                            // does; it is named among what was tried.
                            Err(e) => {
                                tried.push(e.to_string());
                                continue;
                            }
                        };
                        if self.try_key(&path, key, &mut tried, &mut remaining).await? {
                            ok = true;
                            break;
                        }
                    }
                }
                ok
            }
        };
        if result {
            Ok(())
        } else {
            Err(SshError::AuthFailed {
                user: self.user.clone(),
                addr: self.addr.clone(),
                method: AuthMethod::PublicKey,
                tried,
                remaining,
            })
        }
    }

    /// Answers keyboard-interactive prompts with the password (hidden
    /// prompts) or nothing (echoed ones); gives up after a few rounds.
    async fn try_keyboard_interactive(&mut self, pw: &super::Secret) -> Result<bool, SshError> {
        use russh::client::KeyboardInteractiveAuthResponse as Kbd;
        let mut reply = self
            .handle
            .authenticate_keyboard_interactive_start(self.user.clone(), None)
            .await
            .map_err(|e| self.channel_error(Step::Auth, e))?;
        for _ in 0..4 {
            match reply {
                Kbd::Success => return Ok(true),
                Kbd::Failure { .. } => return Ok(false),
                Kbd::InfoRequest { prompts, .. } => {
                    let answers = prompts
                        .iter()
                        .map(|p| {
                            if p.echo {
                                String::new()
                            } else {
                                pw.expose().to_string()
                            }
                        })
                        .collect();
                    reply = self
                        .handle
                        .authenticate_keyboard_interactive_respond(answers)
                        .await
                        .map_err(|e| self.channel_error(Step::Auth, e))?;
                }
            }
        }
        Ok(false)
    }

    async fn try_key(
        &mut self,
        path: &Path,
        key: russh::keys::PrivateKey,
        tried: &mut Vec<String>,
        remaining: &mut Vec<String>,
    ) -> Result<bool, SshError> {
        let fp = fingerprint(key.public_key());
        let hash = self
            .handle
            .best_supported_rsa_hash()
            .await
            .map_err(|e| self.channel_error(Step::Auth, e))?
            .flatten();
        let r = self
            .handle
            .authenticate_publickey(
                self.user.clone(),
                PrivateKeyWithHashAlg::new(Arc::new(key), hash),
            )
            .await
            .map_err(|e| self.channel_error(Step::Auth, e))?;
        tried.push(format!("{} ({fp})", path.display()));
        if let russh::client::AuthResult::Failure {
            remaining_methods, ..
        } = &r
        {
            *remaining = methods(remaining_methods);
        }
        Ok(r.success())
    }

    async fn try_agent(
        &mut self,
        socket: Option<&Path>,
        required: bool,
        only: Option<&[PublicKey]>,
        tried: &mut Vec<String>,
        remaining: &mut Vec<String>,
    ) -> Result<bool, SshError> {
        let connected = match socket {
            Some(path) => AgentClient::connect_uds(path)
                .await
                .map(AgentClient::dynamic),
            None => AgentClient::connect_env().await.map(AgentClient::dynamic),
        };
        let mut agent = match connected {
            Ok(a) => a,
            Err(e) if required => {
                return Err(SshError::Agent(agent_reason(socket, &e.to_string())))
            }
            Err(_) => return Ok(false),
        };
        let ids = agent
            .request_identities()
            .await
            .map_err(|e| SshError::Agent(e.to_string()))?;
        if ids.is_empty() && required {
            return Err(SshError::Agent(
                "the agent holds no keys (add one with `ssh-add`)".into(),
            ));
        }
        let hash = self
            .handle
            .best_supported_rsa_hash()
            .await
            .map_err(|e| self.channel_error(Step::Auth, e))?
            .flatten();
        for id in ids {
            let key = id.public_key().into_owned();
            if only.is_some_and(|o| !o.iter().any(|k| k.key_data() == key.key_data())) {
                continue;
            }
            let fp = fingerprint(&key);
            let r = self
                .handle
                .authenticate_publickey_with(self.user.clone(), key, hash, &mut agent)
                .await
                .map_err(|e| SshError::Agent(e.to_string()))?;
            tried.push(format!("agent key {fp}"));
            if r.success() {
                return Ok(true);
            }
            if let russh::client::AuthResult::Failure {
                remaining_methods, ..
            } = &r
            {
                *remaining = methods(remaining_methods);
            }
        }
        Ok(false)
    }

    fn channel_error(&self, step: Step, e: russh::Error) -> SshError {
        SshError::Channel {
            step,
            addr: self.addr.clone(),
            reason: e.to_string(),
        }
    }

    /// Runs `command` (through the login shell, as OpenSSH does), feeding
    /// `stdin` and closing it, within the session's command timeout. `name`
    /// names the step in errors.
    pub async fn exec(
        &self,
        name: &str,
        command: &str,
        stdin: &[u8],
    ) -> Result<ExecOutput, SshError> {
        let step = || Step::Command(name.to_string());
        let run = async {
            let mut channel = self
                .handle
                .channel_open_session()
                .await
                .map_err(|e| self.channel_error(step(), e))?;
            channel
                .exec(true, command)
                .await
                .map_err(|e| self.channel_error(step(), e))?;
            if !stdin.is_empty() {
                channel
                    .data_bytes(stdin.to_vec())
                    .await
                    .map_err(|e| self.channel_error(step(), e))?;
            }
            channel
                .eof()
                .await
                .map_err(|e| self.channel_error(step(), e))?;
            let mut out = ExecOutput::default();
            let mut closed = false;
            while let Some(msg) = channel.wait().await {
                match msg {
                    ChannelMsg::Data { data } => out.stdout.extend_from_slice(&data),
                    ChannelMsg::ExtendedData { data, .. } => out.stderr.extend_from_slice(&data),
                    ChannelMsg::ExitStatus { exit_status } => out.exit_status = Some(exit_status),
                    ChannelMsg::Close => {
                        closed = true;
                        break;
                    }
                    _ => {}
                }
            }
            if !closed && out.exit_status.is_none() {
                return Err(SshError::Channel {
                    step: step(),
                    addr: self.addr.clone(),
                    reason: "the connection closed before the command finished".into(),
                });
            }
            Ok(out)
        };
        tokio::time::timeout(self.command_timeout, run)
            .await
            .map_err(|_| SshError::Timeout {
                step: step(),
                addr: self.addr.clone(),
                after: self.command_timeout,
            })?
    }

    /// Says goodbye to the server.
    /// Says goodbye to the server, then to the jump hosts it ran through.
    pub async fn close(self) {
        let mut next = Some(self);
        while let Some(s) = next {
            let _ = s
                .handle
                .disconnect(russh::Disconnect::ByApplication, "", "en")
                .await;
            next = s.via.map(|b| *b);
        }
    }
}

fn methods(set: &russh::MethodSet) -> Vec<String> {
    set.iter()
        .filter(|m| !matches!(m, MethodKind::None))
        .map(String::from)
        .collect()
}

fn agent_reason(socket: Option<&Path>, e: &str) -> String {
    if socket.is_none() && std::env::var_os("SSH_AUTH_SOCK").is_none() {
        "SSH_AUTH_SOCK is not set: no agent is running in this session".into()
    } else {
        e.to_string()
    }
}

/// The config's IdentityFiles, else OpenSSH's default key files that exist.
fn default_identity_files(from_config: &[PathBuf]) -> Vec<PathBuf> {
    if !from_config.is_empty() {
        return from_config.to_vec();
    }
    let Some(home) = dirs::home_dir() else {
        return Vec::new();
    };
    ["id_ed25519", "id_ecdsa", "id_rsa"]
        .iter()
        .map(|n| home.join(".ssh").join(n))
        .filter(|p| p.exists())
        .collect()
}

/// The public half of an identity file, from its `.pub` file or, when the
/// key is not encrypted, from the key itself.
fn public_half(private: &Path) -> Option<PublicKey> {
    let mut pub_path = private.as_os_str().to_owned();
    pub_path.push(".pub");
    if let Ok(k) = russh::keys::load_public_key(PathBuf::from(pub_path)) {
        return Some(k);
    }
    let text = std::fs::read_to_string(private).ok()?;
    russh::keys::decode_secret_key(&text, None)
        .ok()
        .map(|k| k.public_key().clone())
}

/// Loads a private key, asking for its passphrase when it is encrypted.
async fn load_key(path: &Path, opts: &ConnectOptions) -> Result<russh::keys::PrivateKey, SshError> {
    let key_err = |reason: String| SshError::KeyFile {
        path: path.to_path_buf(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| key_err(e.to_string()))?;
    match russh::keys::decode_secret_key(&text, None) {
        Ok(k) => Ok(k),
        Err(russh::keys::Error::KeyIsEncrypted) => {
            let prompt = opts
                .prompt
                .as_ref()
                .ok_or_else(|| key_err("it is encrypted and no passphrase was given".into()))?;
            let pass = prompt.passphrase(path).await.ok_or_else(|| {
                key_err("it is encrypted and the passphrase was not given".into())
            })?;
            russh::keys::decode_secret_key(&text, Some(pass.expose()))
                .map_err(|_| key_err("wrong passphrase".into()))
        }
        Err(e) => Err(key_err(e.to_string())),
    }
}
