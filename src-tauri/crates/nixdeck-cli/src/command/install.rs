//! `nixdeck install DIR HOST --confirm HOST`: nixos-anywhere, which erases the
//! host's disks, so the host name must be typed again to confirm.

use super::jobrun::{self, ToolArgs};
use anyhow::Context;
use nixdeck_core::preflight::Rule;
use nixdeck_core::repo::HostName;
use nixdeck_core::tools::plan::{
    DiskEncryptionKey, HardwareBackend, HostTarget, InstallOptions, InstallPhase,
};
use nixdeck_engine::facts_store;
use nixdeck_engine::install::{self, Reprobe};
use nixdeck_engine::jobs::requests::{self, LuksPassphrase};
use nixdeck_engine::probe::{self, ProbeOptions};
use nixdeck_engine::ssh::{Auth, ConnectOptions, SshTarget};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct InstallArgs {
    /// The repository (the flake's directory).
    pub dir: PathBuf,
    /// The host to install, as named under hosts/ and in the flake.
    pub host: String,
    /// The host's name again: the install ERASES its disks.
    #[arg(long, value_name = "HOST")]
    pub confirm: Option<String>,
    #[command(flatten)]
    pub choices: InstallChoices,
    #[command(flatten)]
    pub checks: CheckArgs,
}

/// The checks before the install (preflight and the disk identity re-check).
#[derive(Debug, Clone, clap::Args)]
pub struct CheckArgs {
    /// A preflight warning you have read and accept (its rule id, e.g. `memory_low`; repeatable).
    #[arg(long = "acknowledge", value_name = "RULE")]
    pub acknowledged: Vec<String>,
    /// known_hosts file for the re-probe (default: ~/.ssh/known_hosts).
    #[arg(long, value_name = "FILE")]
    pub known_hosts: Option<PathBuf>,
    /// Skip preflight and the disk re-check: only for targets nixdeck's own SSH
    /// cannot reach (a jump host, say); nixos-anywhere then erases whatever disks
    /// the layout names.
    #[arg(long)]
    pub no_preflight: bool,
}

/// The install's choices, shared with `nixdeck plan install`.
#[derive(Debug, Clone, clap::Args)]
pub struct InstallChoices {
    /// Address to install to, when the flake's colmena node has none (or to override it).
    #[arg(long)]
    pub address: Option<String>,
    /// SSH user (default: the node's targetUser, else root).
    #[arg(long)]
    pub user: Option<String>,
    /// SSH port (`-p`).
    #[arg(short = 'p', long = "ssh-port")]
    pub port: Option<u16>,
    /// SSH private key file (`-i`).
    #[arg(short = 'i', long = "identity")]
    pub identity_file: Option<String>,
    /// Build the system on the target (`--build-on remote`).
    #[arg(long)]
    pub build_on_remote: bool,
    /// Run only these phases (`--phases`), e.g. kexec,disko,install.
    #[arg(long, value_delimiter = ',')]
    pub phases: Option<Vec<PhaseArg>>,
    /// Keep the installer's SSH host keys (`--copy-host-keys`).
    #[arg(long)]
    pub copy_host_keys: bool,
    /// A directory copied into the new system's root (`--extra-files`).
    #[arg(long)]
    pub extra_files: Option<String>,
    /// A key file for disko: REMOTE path on the target, LOCAL file here (repeatable).
    #[arg(long, num_args = 2, value_names = ["REMOTE", "LOCAL"])]
    pub disk_encryption_keys: Vec<String>,
    /// Where disko reads the LUKS passphrase on the target (e.g. /tmp/secret.key);
    /// the passphrase is read from standard input.
    #[arg(long, value_name = "REMOTE")]
    pub luks_key_path: Option<String>,
    /// Record the hardware with nixos-facter (hosts/HOST/facter.json).
    #[arg(long)]
    pub facter: bool,
    #[command(flatten)]
    pub tools: ToolArgs,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum PhaseArg {
    Kexec,
    Disko,
    Install,
    Reboot,
}

impl InstallChoices {
    /// The options, with `--luks-key-path` left out (it needs a secret file).
    pub fn options(&self) -> anyhow::Result<InstallOptions> {
        let mut keys = Vec::new();
        for pair in self.disk_encryption_keys.chunks(2) {
            if let [remote, local] = pair {
                keys.push(DiskEncryptionKey {
                    remote_path: remote.clone(),
                    local_file: local.clone(),
                });
            }
        }
        Ok(InstallOptions {
            hardware: if self.facter {
                HardwareBackend::NixosFacter
            } else {
                HardwareBackend::NixosGenerateConfig
            },
            identity_file: self.identity_file.clone(),
            build_on_remote: self.build_on_remote,
            phases: self.phases.as_ref().map(|ps| {
                ps.iter()
                    .map(|p| match p {
                        PhaseArg::Kexec => InstallPhase::Kexec,
                        PhaseArg::Disko => InstallPhase::Disko,
                        PhaseArg::Install => InstallPhase::Install,
                        PhaseArg::Reboot => InstallPhase::Reboot,
                    })
                    .collect()
            }),
            copy_host_keys: self.copy_host_keys,
            extra_files: self.extra_files.clone(),
            disk_encryption_keys: keys,
        })
    }

    /// The target: the flake's colmena node, with the flags on top.
    pub async fn target(&self, repo: &Path, name: &str) -> anyhow::Result<HostTarget> {
        let from_flake = match jobrun::read_hosts(repo).await {
            Ok(hosts) => hosts.into_iter().find(|h| h.name == name),
            Err(err) if self.address.is_some() => {
                eprintln!("nixdeck: note: {err:#}; using --address");
                None
            }
            Err(err) => return Err(err),
        };
        let mut host = match (from_flake, &self.address) {
            (Some(host), _) => host,
            (None, Some(address)) => HostTarget {
                name: name.to_string(),
                address: address.clone(),
                user: "root".into(),
                port: None,
                tags: Vec::new(),
                build_on_target: false,
            },
            (None, None) => anyhow::bail!(
                "host {name} is not a colmena node of {}: give its address with --address",
                repo.join("flake.nix").display()
            ),
        };
        if let Some(address) = &self.address {
            host.address = address.clone();
        }
        if let Some(user) = &self.user {
            host.user = user.clone();
        }
        if self.port.is_some() {
            host.port = self.port;
        }
        Ok(host)
    }
}

pub async fn run(args: InstallArgs) -> anyhow::Result<ExitCode> {
    if args.confirm.as_deref() != Some(args.host.as_str()) {
        anyhow::bail!(
            "installing ERASES every disk of {host}: run again with `--confirm {host}` if that is what you want",
            host = args.host
        );
    }
    let repo = jobrun::repo_dir(&args.dir)?;
    let settings = args.choices.tools.settings().await;
    let host = args.choices.target(&repo, &args.host).await?;
    let options = args.choices.options()?;
    let luks = match &args.choices.luks_key_path {
        Some(remote) => Some(LuksPassphrase {
            remote_path: remote.clone(),
            passphrase: read_passphrase()?,
        }),
        None => None,
    };
    if !args.checks.no_preflight {
        preflight(&repo, &args.host, &host, &args.choices, &args.checks).await?;
    }
    let manager = jobrun::manager()?;
    if let Some(code) = jobrun::lock_if_needed(&manager, &settings, &repo).await? {
        return Ok(code);
    }
    let request = requests::install_request(&settings, &repo, &host, &options, luks.as_ref())?;
    jobrun::run_in_terminal(&manager, request).await
}

/// Preflight on the facts confirmed in nixdeck (or, without them, on a probe made
/// now), then the disk identity re-check against a fresh probe; prints every finding
/// and refuses on errors, unacknowledged warnings or changed disks.
async fn preflight(
    repo: &Path,
    name: &str,
    host: &HostTarget,
    choices: &InstallChoices,
    checks: &CheckArgs,
) -> anyhow::Result<()> {
    let target = SshTarget {
        host: host.address.clone(),
        port: host.port,
        user: Some(host.user.clone()),
    };
    let connect = ConnectOptions {
        auth: match &choices.identity_file {
            Some(key) => Auth::KeyFile(PathBuf::from(key)),
            None => Auth::Default,
        },
        known_hosts: checks.known_hosts.clone(),
        ..ConnectOptions::default()
    };
    let host_name = HostName::new(name)?;
    let system = repo_system(repo, name).await;
    let check = match facts_store::load(repo, &host_name) {
        Some(confirmed) => {
            let reprobe = Reprobe {
                target: &target,
                connect: &connect,
            };
            install::check(repo, name, system.as_deref(), &confirmed, Some(reprobe)).await?
        }
        None => {
            eprintln!(
                "nixdeck: no disks were confirmed for {name} in nixdeck (probe it in the wizard or on its host page); checking the target as it is now"
            );
            let now = probe::probe(&target, &connect, &ProbeOptions::default())
                .await
                .context("probing the target before the install")?;
            install::check(repo, name, system.as_deref(), &now, None).await?
        }
    };
    for finding in &check.preflight.findings {
        eprintln!(
            "preflight: {:?}: {} [{}]",
            finding.severity,
            finding.message,
            finding.rule.id()
        );
    }
    let acknowledged = checks
        .acknowledged
        .iter()
        .map(|id| {
            serde_json::from_value::<Rule>(serde_json::Value::String(id.clone())).map_err(|_| {
                anyhow::anyhow!("`{id}` is not a preflight rule: use the id printed in brackets")
            })
        })
        .collect::<anyhow::Result<Vec<Rule>>>()?;
    check
        .may_start(name, &acknowledged)
        .context("nothing was started and no disk was touched")?;
    Ok(())
}

/// The host's `system` as the flake gives it, when it can be read.
async fn repo_system(repo: &Path, name: &str) -> Option<String> {
    let view = nixdeck_engine::repo::open_repo(repo).await.ok()?;
    view.hosts.into_iter().find(|h| h.name == name)?.system
}

/// One line from standard input, without its line end.
fn read_passphrase() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("could not read the LUKS passphrase from standard input")?;
    let passphrase = line.trim_end_matches(['\n', '\r']).to_string();
    if passphrase.is_empty() {
        anyhow::bail!("the LUKS passphrase on standard input is empty");
    }
    Ok(passphrase)
}
