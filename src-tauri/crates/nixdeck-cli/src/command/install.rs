//! `nixdeck install DIR HOST --confirm HOST`: nixos-anywhere, which erases the
//! host's disks, so the host name must be typed again to confirm.

use super::jobrun::{self, ToolArgs};
use super::secrets;
use anyhow::Context;
use nixdeck_api::install::{InstallRequest, TargetOverrides};
use nixdeck_api::install_secrets::InstallSecrets;
use nixdeck_api::repos::repo_dir;
use nixdeck_core::tools::plan::{DiskEncryptionKey, HardwareBackend, InstallOptions, InstallPhase};
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
    #[command(flatten)]
    pub secrets: SecretArgs,
}

/// Where the install's secrets come from. Never an argument's value: a
/// command line is visible to every user of the machine (`ps`) and kept in
/// shell histories.
#[derive(Debug, Clone, clap::Args)]
pub struct SecretArgs {
    /// Log in with a password (rescue systems without key login): asked on
    /// the terminal without echo, unless NIXDECK_SSH_PASSWORD or
    /// --ssh-password-file gives it.
    #[arg(long)]
    pub ask_ssh_password: bool,
    /// Read the SSH password from this file (its first line; `-` for standard input).
    #[arg(long, value_name = "FILE")]
    pub ssh_password_file: Option<PathBuf>,
    /// Read the LUKS passphrase from this file (its first line; `-` for
    /// standard input) instead of asking twice on the terminal;
    /// NIXDECK_LUKS_PASSPHRASE works too.
    #[arg(long, value_name = "FILE")]
    pub luks_passphrase_file: Option<PathBuf>,
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
    /// Install even when the host's configuration would not let you log in
    /// afterwards (no key of yours authorized for the deploy user, sshd off).
    #[arg(long)]
    pub allow_lockout: bool,
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
    /// Also write the LUKS passphrase to REMOTE on the target (repeatable), for
    /// volumes defined outside hosts/HOST/disko.nix; the passphrase is asked
    /// (or read with --luks-passphrase-file) as for the layout's own volumes.
    #[arg(long, value_name = "REMOTE")]
    pub luks_key_path: Vec<String>,
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
    /// nixos-anywhere's options (a LUKS passphrase is added by the API).
    pub fn options(&self) -> InstallOptions {
        let mut keys = Vec::new();
        for pair in self.disk_encryption_keys.chunks(2) {
            if let [remote, local] = pair {
                keys.push(DiskEncryptionKey {
                    remote_path: remote.clone(),
                    local_file: local.clone(),
                });
            }
        }
        InstallOptions {
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
            env_password: false,
        }
    }

    /// The API's request for `host` of `repo`.
    pub fn request(&self, repo: &Path, host: &str, known_hosts: Option<PathBuf>) -> InstallRequest {
        InstallRequest {
            repo: repo.to_path_buf(),
            host: host.to_string(),
            options: self.options(),
            overrides: TargetOverrides {
                address: self.address.clone(),
                user: self.user.clone(),
                port: self.port,
            },
            tools: self.tools.choice(),
            known_hosts,
            // The command line has no review step: without confirmed facts it
            // checks the target as it is now, and says so.
            check_unconfirmed_target: true,
            allow_lockout: false,
            secrets: InstallSecrets::default(),
            luks_key_paths: self.luks_key_path.clone(),
        }
    }
}

pub async fn run(args: InstallArgs) -> anyhow::Result<ExitCode> {
    let repo = repo_dir(&args.dir)?;
    let api = jobrun::api();
    let mut request = args
        .choices
        .request(&repo, &args.host, args.checks.known_hosts.clone());
    request.allow_lockout = args.checks.allow_lockout;
    let confirm = args.confirm.as_deref().unwrap_or_default();
    if confirm != args.host {
        anyhow::bail!(
            "installing ERASES every disk of {host}: run again with `--confirm {host}` if that is what you want",
            host = args.host
        );
    }
    request.secrets.ssh_password = secrets::ssh_password(&args.secrets)?;
    let trust = api.install_review_trust(&request).await?;
    if let Some(blocked) = &trust.blocked {
        anyhow::bail!("{blocked}; set passwordFile = \"/tmp/secret.key\"; on each of them, nothing was started");
    }
    if trust.needs_luks_passphrase {
        let names: Vec<&str> = trust.luks_volumes.iter().map(|v| v.name.as_str()).collect();
        request.secrets.luks_passphrase =
            Some(secrets::luks_passphrase(&args.secrets, &names.join(", "))?);
    }
    print_trust(&trust);
    if !args.checks.no_preflight {
        // Shown before the gate decides, so a refusal comes with its findings.
        let check = api.install_check(&request, false).await?;
        for note in &check.notes {
            eprintln!("nixdeck: {note}");
        }
        for finding in &check.preflight.findings {
            eprintln!(
                "preflight: {:?}: {} [{}]",
                finding.severity,
                finding.message,
                finding.rule.id()
            );
        }
    }
    let started = api
        .start_install(
            &request,
            confirm,
            &args.checks.acknowledged,
            args.checks.no_preflight,
            Some(jobrun::terminal_sink()),
        )
        .await
        .context("nothing was started and no disk was touched")?;
    jobrun::follow(&api, started).await
}

/// What the review says about host keys and secrets, on standard error.
fn print_trust(trust: &nixdeck_api::install_secrets::InstallTrust) {
    if let Some(key) = &trust.host_key {
        eprintln!(
            "nixdeck: the new system's host key: ED25519 {}",
            key.fingerprint
        );
        eprintln!("nixdeck:   {}", key.public);
    }
    for line in &trust.verified {
        eprintln!("verified: {line}");
    }
    for line in &trust.not_verified {
        eprintln!("not verified: {line}");
    }
}
