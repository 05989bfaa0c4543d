//! `nixdeck probe [USER@]HOST[:PORT]`: connect like OpenSSH, verify the host
//! key, read the target's disks and facts, print them (or `--json`).
//!
//! Exit status: 0 with facts, 1 when the probe failed (the error and a hint on
//! stderr; with `--json` also `{"error": {code, message, hint}}` on stdout).

use anyhow::Context;
use nixdeck_core::facts::{BlockDevice, HostFacts};
use nixdeck_engine::probe::{probe, ProbeOptions};
use nixdeck_engine::ssh::{
    Auth, ConnectOptions, HostKeyPolicy, PassphrasePrompt, Secret, SshTarget, Timeouts,
};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct ProbeArgs {
    /// The target: [USER@]HOST[:PORT] (`~/.ssh/config` fills in the rest).
    pub target: String,
    /// Log in with this private key file only (default: agent, then ~/.ssh keys).
    #[arg(short = 'i', long = "identity", value_name = "KEY")]
    pub identity: Option<PathBuf>,
    /// Log in with the password in this environment variable (rescue systems).
    #[arg(long, value_name = "VAR", conflicts_with = "identity")]
    pub password_env: Option<String>,
    /// Take an encrypted key's passphrase from this environment variable.
    #[arg(long, value_name = "VAR")]
    pub passphrase_env: Option<String>,
    /// Check host keys against this file instead of ~/.ssh/known_hosts.
    #[arg(long, value_name = "FILE")]
    pub known_hosts: Option<PathBuf>,
    /// Read this ssh config instead of ~/.ssh/config.
    #[arg(long, value_name = "FILE")]
    pub ssh_config: Option<PathBuf>,
    /// Trust a host key seen for the first time and record it in known_hosts.
    #[arg(long)]
    pub accept_new_host_key: bool,
    /// Fail unless the user is root or has password-less sudo/doas.
    #[arg(long)]
    pub require_root: bool,
    /// Seconds to wait for the TCP connection (the handshake gets as long).
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub connect_timeout: u64,
    /// Print the facts as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Reads a passphrase from an environment variable.
struct EnvPassphrase(String);

impl PassphrasePrompt for EnvPassphrase {
    fn passphrase<'a>(
        &'a self,
        _key_file: &'a Path,
    ) -> Pin<Box<dyn Future<Output = Option<Secret>> + Send + 'a>> {
        let value = std::env::var(&self.0).ok().map(Secret::new);
        Box::pin(async move { value })
    }
}

pub async fn run(args: ProbeArgs) -> anyhow::Result<ExitCode> {
    let target = SshTarget::parse(&args.target)?;
    let auth = match (&args.identity, &args.password_env) {
        (Some(key), _) => Auth::KeyFile(key.clone()),
        (None, Some(var)) => {
            Auth::Password(Secret::new(std::env::var(var).with_context(|| {
                format!("--password-env {var}: the variable is not set")
            })?))
        }
        (None, None) => Auth::Default,
    };
    let secs = Duration::from_secs(args.connect_timeout.max(1));
    let connect = ConnectOptions {
        auth,
        host_keys: if args.accept_new_host_key {
            HostKeyPolicy::AcceptNew
        } else {
            HostKeyPolicy::Strict
        },
        known_hosts: args.known_hosts.clone(),
        ssh_config: args.ssh_config.clone(),
        timeouts: Timeouts {
            connect: secs,
            handshake: secs,
            ..Timeouts::default()
        },
        prompt: args
            .passphrase_env
            .clone()
            .map(|v| Arc::new(EnvPassphrase(v)) as Arc<dyn PassphrasePrompt>),
        progress: None,
    };
    let options = ProbeOptions {
        require_root: args.require_root,
    };
    match probe(&target, &connect, &options).await {
        Ok(facts) => {
            if args.json {
                println!("{}", serde_json::to_string_pretty(&facts)?);
            } else {
                print!("{}", human(&facts));
            }
            for w in &facts.warnings {
                eprintln!("warning: {w}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            if args.json {
                let err = serde_json::json!({
                    "error": { "code": e.code(), "message": e.to_string(), "hint": e.hint() }
                });
                println!("{}", serde_json::to_string_pretty(&err)?);
            }
            eprintln!("error: {e}");
            eprintln!("hint: {}", e.hint());
            Ok(ExitCode::FAILURE)
        }
    }
}

fn human(f: &HostFacts) -> String {
    let mut out = String::new();
    let gb = |b: u64| format!("{:.1} GB", b as f64 / 1e9);
    out.push_str(&format!(
        "{} ({}), {} as {}\n",
        f.hostname,
        if f.os.pretty_name.is_empty() {
            &f.os.id
        } else {
            &f.os.pretty_name
        },
        f.address,
        f.user
    ));
    out.push_str(&format!(
        "  system {}  boot {:?}  memory {}  virtualization {}  privilege {:?}{}\n",
        f.system.as_deref().unwrap_or(&f.machine),
        f.boot_mode,
        gb(f.memory_bytes),
        f.virtualization.as_deref().unwrap_or("unknown"),
        f.privilege,
        if f.is_nixos_installer {
            "  (NixOS installer)"
        } else {
            ""
        }
    ));
    out.push_str("disks:\n");
    for d in f.disks.iter().filter(|d| !d.is_noise()) {
        disk_line(&mut out, d, &gb);
    }
    out
}

fn disk_line(out: &mut String, d: &BlockDevice, gb: &dyn Fn(u64) -> String) {
    let mounts = d.all_mountpoints();
    out.push_str(&format!(
        "  {} {:>9} {:<6} {} serial {}  {}{}\n    {}\n",
        d.path,
        gb(d.size_bytes),
        d.transport.as_deref().unwrap_or(&d.kind),
        d.display_model().unwrap_or("-"),
        d.serial.as_deref().unwrap_or("-"),
        if d.holds_data() {
            "HOLDS DATA"
        } else {
            "empty"
        },
        if mounts.is_empty() {
            String::new()
        } else {
            format!(" (mounted: {})", mounts.join(", "))
        },
        d.stable_name()
    ));
}
