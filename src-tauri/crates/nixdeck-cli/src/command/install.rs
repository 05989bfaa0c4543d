//! `nixdeck install DIR HOST --confirm HOST`: nixos-anywhere, which erases the
//! host's disks, so the host name must be typed again to confirm.

use super::jobrun::{self, ToolArgs};
use anyhow::Context;
use nixdeck_core::tools::plan::{
    DiskEncryptionKey, HardwareBackend, HostTarget, InstallOptions, InstallPhase,
};
use nixdeck_engine::jobs::requests::{self, LuksPassphrase};
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
    let manager = jobrun::manager()?;
    if let Some(code) = jobrun::lock_if_needed(&manager, &settings, &repo).await? {
        return Ok(code);
    }
    let request = requests::install_request(&settings, &repo, &host, &options, luks.as_ref())?;
    jobrun::run_in_terminal(&manager, request).await
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
