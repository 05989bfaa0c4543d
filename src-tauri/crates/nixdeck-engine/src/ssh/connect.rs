//! Reaching a host as OpenSSH would: resolve it through the ssh config,
//! open the byte stream (TCP, a `ProxyCommand`, or a channel through each
//! `ProxyJump` hop in turn), verify the host key, log in.

use super::config::{proxy_command_line, Proxy, SshConfig};
use super::known_hosts::{host_entry_name, KnownHosts};
use super::proxy::{ProxyStream, Transport};
use super::session::Session;
use super::verifier::{Verdict, Verifier};
use super::{Auth, ConnectOptions, Phase, SshError, SshTarget, Step};
use russh::client;
use russh::keys::Algorithm;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpStream;

/// A `ProxyJump` chain longer than this is a loop in the config.
const MAX_HOPS: usize = 8;

/// Connects to `target` directly, through `jumps` (when given, instead of
/// the config's proxy), or as the config says.
pub(super) fn connect_hop<'a>(
    config: &'a SshConfig,
    target: &'a SshTarget,
    opts: &'a ConnectOptions,
    jumps: Option<&'a [SshTarget]>,
    depth: usize,
) -> Pin<Box<dyn Future<Output = Result<Session, SshError>> + Send + 'a>> {
    Box::pin(async move {
        let hc = config
            .resolve_target(target)
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
        // UserKnownHostsFile` does for ssh, and is then the only one read.
        // Otherwise the global files are read after the user's, which get
        // the new keys.
        let kh_files = match (&opts.known_hosts, hc.user_known_hosts_files.is_empty()) {
            (Some(p), _) => vec![p.clone()],
            (None, false) => [
                &hc.user_known_hosts_files[..],
                &hc.global_known_hosts_files[..],
            ]
            .concat(),
            (None, true) => {
                let user = KnownHosts::default_path().ok_or_else(|| SshError::KnownHostsFile {
                    path: PathBuf::from("~/.ssh/known_hosts"),
                    reason: "no home directory".into(),
                })?;
                [&[user][..], &hc.global_known_hosts_files[..]].concat()
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
