//! One authenticated SSH connection: resolve the target through the ssh
//! config, connect with a timeout, verify the host key, log in, run commands.

use super::config::{proxy_command_line, HostConfig, IdentityAgent, Proxy, SshConfig};
use super::known_hosts::{fingerprint, host_entry_name, CertRefusal, HostKeyStatus, KnownHosts};
use super::proxy::{ProxyStream, Transport};
use super::{Auth, AuthMethod, ConnectOptions, HostKeyPolicy, Phase, SshError, SshTarget, Step};
use russh::client::{self, Handle};
use russh::keys::agent::client::AgentClient;
use russh::keys::{Algorithm, PrivateKeyWithHashAlg, PublicKey};
use russh::{ChannelMsg, MethodKind};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpStream;

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
    handle: Handle<Verifier>,
    addr: String,
    user: String,
    command_timeout: Duration,
    /// The jump host this session runs through, kept open as long as it.
    via: Option<Box<Session>>,
}

/// What the host-key check decided, kept so a refused handshake can be
/// turned into the right error after russh gives up.
#[derive(Debug, Clone)]
enum Verdict {
    Pending,
    Accepted,
    Refused(Box<SshError>),
}

struct Verifier {
    known_hosts: Arc<Mutex<KnownHosts>>,
    /// The name the key is recorded under: `[host]:port` or a HostKeyAlias.
    key_name: String,
    /// The name a host certificate must be issued for: the host or the alias.
    principal: String,
    policy: HostKeyPolicy,
    verdict: Arc<Mutex<Verdict>>,
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
        connect_hop(&config, target, opts, None, 0).await
    }

    /// The user this session is logged in as.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// `host:port` of the server.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    async fn authenticate(
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

/// A `ProxyJump` chain longer than this is a loop in the config.
const MAX_HOPS: usize = 8;

/// Connects to `target` directly, through `jumps` (when given, instead of
/// the config's proxy), or as the config says.
fn connect_hop<'a>(
    config: &'a SshConfig,
    target: &'a SshTarget,
    opts: &'a ConnectOptions,
    jumps: Option<&'a [SshTarget]>,
    depth: usize,
) -> Pin<Box<dyn Future<Output = Result<Session, SshError>> + Send + 'a>> {
    Box::pin(async move {
        let hc = config
            .resolve(&target.host, target.user.as_deref())
            .map_err(|e| SshError::Config {
                file: e.file,
                line: e.line,
                problem: e.problem,
            })?;
        let host = hc.host_name.clone().unwrap_or_else(|| target.host.clone());
        let port = target.port.or(hc.port).unwrap_or(22);
        let user = target
            .user
            .clone()
            .or(hc.user.clone())
            .unwrap_or_else(super::config::local_user);
        let addr = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };

        // An explicit file (`--known-hosts`) wins over the config, as `-o
        // UserKnownHostsFile` does for ssh.
        let kh_files = match (&opts.known_hosts, hc.user_known_hosts_files.is_empty()) {
            (Some(p), _) => vec![p.clone()],
            (None, false) => hc.user_known_hosts_files.clone(),
            (None, true) => {
                vec![
                    KnownHosts::default_path().ok_or_else(|| SshError::KnownHostsFile {
                        path: PathBuf::from("~/.ssh/known_hosts"),
                        reason: "no home directory".into(),
                    })?,
                ]
            }
        };
        let known_hosts =
            KnownHosts::load_files(&kh_files).map_err(|e| SshError::KnownHostsFile {
                path: kh_files[0].clone(),
                reason: e.to_string(),
            })?;
        // OpenSSH looks a HostKeyAlias up as given, without the port.
        let key_name = hc
            .host_key_alias
            .clone()
            .unwrap_or_else(|| host_entry_name(&host, port));

        // Prefer the key types already recorded, as OpenSSH does, so a host
        // with several keys shows the one we can check.
        let mut preferred = russh::Preferred::default();
        let known_algs = known_hosts.known_algorithms_for(&key_name);
        if !known_algs.is_empty() {
            let mut order: Vec<_> = known_algs
                .iter()
                .filter(|a| preferred.key.contains(a))
                .cloned()
                .collect();
            order.extend(
                preferred
                    .key
                    .iter()
                    .filter(|a| !known_algs.contains(a))
                    .cloned(),
            );
            preferred.key = order.into();
        }
        if known_hosts.has_cert_authority(&key_name) {
            let certifiable: Vec<_> = preferred
                .key
                .iter()
                .filter(|a| {
                    matches!(
                        a,
                        Algorithm::Ed25519
                            | Algorithm::Ecdsa { .. }
                            | Algorithm::Rsa { hash: Some(_) }
                    )
                })
                .cloned()
                .collect();
            preferred.host_key_certificates = certifiable.into();
        }
        let t = opts.timeouts;
        let russh_config = Arc::new(client::Config {
            keepalive_interval: Some(t.keepalive),
            keepalive_max: 3,
            nodelay: true,
            preferred,
            ..Default::default()
        });
        let timeout = |step: Step, after: Duration| SshError::Timeout {
            step,
            addr: addr.clone(),
            after,
        };

        let proxy = match jumps {
            Some(hops) => Proxy::Jump(hops.to_vec()),
            None => hc.proxy.clone().unwrap_or(Proxy::None),
        };
        opts.report(Phase::Connecting);
        let mut via = None;
        let mut proxy_stderr = None;
        let stream: Box<dyn Transport> = match proxy {
            Proxy::None => {
                let stream =
                    tokio::time::timeout(t.connect, TcpStream::connect((host.as_str(), port)))
                        .await
                        .map_err(|_| timeout(Step::Connect, t.connect))?
                        .map_err(|e| SshError::Unreachable {
                            addr: addr.clone(),
                            reason: match e.kind() {
                                std::io::ErrorKind::ConnectionRefused => {
                                    "connection refused (nothing listens on that port)".into()
                                }
                                _ => e.to_string(),
                            },
                        })?;
                let _ = stream.set_nodelay(true);
                Box::new(stream)
            }
            Proxy::Command(command) => {
                let line = proxy_command_line(&command, &host, &target.host, port, &user).map_err(
                    |reason| SshError::ProxyCommand {
                        command: command.clone(),
                        reason,
                    },
                )?;
                let (stream, stderr) = ProxyStream::spawn(&line)?;
                proxy_stderr = Some((line, stderr));
                Box::new(stream)
            }
            Proxy::Jump(hops) => {
                let Some((last, rest)) = hops.split_last() else {
                    return Err(SshError::Config {
                        file: PathBuf::new(),
                        line: 0,
                        problem: "ProxyJump names no host".into(),
                    });
                };
                if depth >= MAX_HOPS {
                    return Err(SshError::Config {
                        file: PathBuf::new(),
                        line: 0,
                        problem: format!(
                            "reaching {} takes more than {MAX_HOPS} jump hosts: does a jump host's ProxyJump lead back to itself?",
                            target.host
                        ),
                    });
                }
                // Like `ssh -J`: a jump host logs in with its own config's
                // keys (and the agent), not with the target's credentials,
                // and is checked against known_hosts like any host.
                let hop_opts = ConnectOptions {
                    auth: Auth::Default,
                    progress: None,
                    ..opts.clone()
                };
                let rest = (!rest.is_empty()).then_some(rest);
                let bastion = connect_hop(config, last, &hop_opts, rest, depth + 1).await?;
                let channel = tokio::time::timeout(
                    t.connect,
                    bastion.handle.channel_open_direct_tcpip(
                        host.clone(),
                        u32::from(port),
                        "127.0.0.1",
                        0,
                    ),
                )
                .await
                .map_err(|_| timeout(Step::Connect, t.connect))?
                .map_err(|e| SshError::Jump {
                    via: bastion.addr.clone(),
                    to: addr.clone(),
                    reason: e.to_string(),
                })?;
                via = Some(Box::new(bastion));
                Box::new(channel.into_stream())
            }
        };

        let verdict = Arc::new(Mutex::new(Verdict::Pending));
        let verifier = Verifier {
            known_hosts: Arc::new(Mutex::new(known_hosts)),
            principal: hc.host_key_alias.clone().unwrap_or_else(|| host.clone()),
            key_name,
            policy: opts.host_keys.clone(),
            verdict: verdict.clone(),
        };
        opts.report(Phase::Handshake);
        let handshake = client::connect_stream(russh_config, stream, verifier);
        let handle = match tokio::time::timeout(t.handshake, handshake).await {
            Err(_) => return Err(timeout(Step::Handshake, t.handshake)),
            Ok(Ok(h)) => h,
            Ok(Err(e)) => {
                let v = verdict.lock().unwrap_or_else(|p| p.into_inner()).clone();
                if let Verdict::Refused(err) = v {
                    return Err(*err);
                }
                if let Some((command, stderr)) = proxy_stderr {
                    // Give the command's last words a moment to arrive.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    let said = stderr.lock().unwrap_or_else(|p| p.into_inner()).clone();
                    return Err(SshError::ProxyCommand {
                        command,
                        reason: if said.trim().is_empty() {
                            format!("no SSH server answered through it ({e})")
                        } else {
                            format!("{e}; it said: {}", said.trim())
                        },
                    });
                }
                return Err(SshError::Handshake {
                    addr,
                    reason: e.to_string(),
                });
            }
        };

        let mut session = Session {
            handle,
            addr: addr.clone(),
            user: user.clone(),
            command_timeout: t.command,
            via,
        };
        opts.report(Phase::Authenticating);
        tokio::time::timeout(t.auth, session.authenticate(&opts.auth, opts, &hc))
            .await
            .map_err(|_| timeout(Step::Auth, t.auth))??;
        Ok(session)
    })
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
