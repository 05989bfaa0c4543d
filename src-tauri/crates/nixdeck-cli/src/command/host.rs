//! `nixdeck host …`: add, list, rename and remove hosts of a repository.

use super::jobrun;
use anyhow::Context;
use nixdeck_core::repo::host::release_of_nixpkgs_url;
use nixdeck_core::repo::{HostName, HostSpec, Tag};
use nixdeck_engine::repo::{Applied, Confirm, RepoError};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum HostCommand {
    /// Add a host: hosts/NAME/host.nix (deployment settings) and configuration.nix.
    Add(AddArgs),
    /// List the hosts of a repository with what can be read about them.
    List(ListArgs),
    /// Rename a host (moves hosts/OLD/ to hosts/NEW/).
    Rename(RenameArgs),
    /// Remove a host and its files.
    Remove(RemoveArgs),
}

#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// The repository (the folder with flake.nix).
    pub dir: PathBuf,
    /// Host name (NixOS networking.hostName).
    pub name: String,
    /// IP address or DNS name colmena connects to.
    #[arg(long)]
    pub address: String,
    /// SSH user.
    #[arg(long, default_value = "root")]
    pub user: String,
    /// SSH port.
    #[arg(long, default_value_t = 22)]
    pub port: u16,
    /// Colmena tag (repeatable), for `colmena apply --on @tag`.
    #[arg(long = "tag")]
    pub tags: Vec<String>,
    /// Build the system on the host instead of locally.
    #[arg(long)]
    pub build_on_target: bool,
    /// Nix system of the host.
    #[arg(long, default_value = nixdeck_core::repo::DEFAULT_SYSTEM)]
    pub system: String,
    /// Authorized SSH public key for root (repeatable), one line as in id_ed25519.pub.
    #[arg(long = "authorized-key")]
    pub authorized_keys: Vec<String>,
    /// Boot mode of the machine.
    #[arg(long, value_enum, default_value_t = BootArg::Uefi)]
    pub boot: BootArg,
    /// A disko.nix to copy into hosts/NAME/.
    #[arg(long)]
    pub disko: Option<PathBuf>,
    /// system.stateVersion (default: the release of the flake's nixpkgs, else 25.05).
    #[arg(long)]
    pub state_version: Option<String>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum BootArg {
    Uefi,
    Bios,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    pub dir: PathBuf,
    /// Print the repository view as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct RenameArgs {
    pub dir: PathBuf,
    pub from: String,
    pub to: String,
    /// Also move files nixdeck did not write whose text changes, without asking.
    #[arg(long)]
    pub overwrite: bool,
}

#[derive(Debug, clap::Args)]
pub struct RemoveArgs {
    pub dir: PathBuf,
    pub name: String,
    /// Also delete files nixdeck did not write (hardware-configuration.nix, edited files).
    #[arg(long)]
    pub overwrite: bool,
}

/// Turns a confirmation refusal into a message with the diffs and what to pass.
pub(crate) fn explain(err: RepoError) -> anyhow::Error {
    match err {
        RepoError::NeedsConfirmation { pending } => {
            let mut text = String::from(
                "these files were not written by nixdeck, or were edited since; nothing was changed:\n",
            );
            for change in &pending {
                text.push_str(&format!("\n{}\n{}", change.path, change.diff));
            }
            text.push_str("\nrun again with --overwrite to apply these changes");
            anyhow::anyhow!(text)
        }
        other => other.into(),
    }
}

pub(crate) fn print_applied(applied: &Applied) {
    for path in &applied.written {
        println!("wrote {path}");
    }
    for path in &applied.deleted {
        println!("deleted {path}");
    }
    for note in &applied.notes {
        println!("note: {note}");
    }
}

fn confirm(overwrite: bool) -> Confirm {
    if overwrite {
        Confirm::All
    } else {
        Confirm::Nothing
    }
}

pub async fn run(command: HostCommand) -> anyhow::Result<ExitCode> {
    match command {
        HostCommand::Add(args) => add(args).await,
        HostCommand::List(args) => list(args).await,
        HostCommand::Rename(args) => {
            let applied = jobrun::api()
                .rename_host(&args.dir, &args.from, &args.to, &confirm(args.overwrite))
                .await?;
            print_applied(&applied);
            Ok(ExitCode::SUCCESS)
        }
        HostCommand::Remove(args) => {
            let api = jobrun::api();
            let plan = api.plan_remove_host(&args.dir, &args.name)?;
            if !args.overwrite && !plan.pending().is_empty() {
                return Err(explain(RepoError::NeedsConfirmation {
                    pending: plan.pending().into_iter().cloned().collect(),
                }));
            }
            let applied = api
                .remove_host(&args.dir, &args.name, &confirm(args.overwrite))
                .await?;
            print_applied(&applied);
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn add(args: AddArgs) -> anyhow::Result<ExitCode> {
    let name = HostName::new(&args.name)?;
    let mut spec = HostSpec::new(name, args.address);
    spec.system = args.system;
    spec.deployment.target_user = args.user;
    spec.deployment.target_port = args.port;
    spec.deployment.build_on_target = args.build_on_target;
    spec.deployment.tags = args
        .tags
        .iter()
        .map(|t| Tag::new(t))
        .collect::<Result<_, _>>()?;
    spec.config.authorized_keys = args.authorized_keys;
    spec.config.boot_mode = match args.boot {
        BootArg::Uefi => nixdeck_core::facts::BootMode::Uefi,
        BootArg::Bios => nixdeck_core::facts::BootMode::Bios,
    };
    spec.config.state_version = match args.state_version {
        Some(version) => version,
        None => jobrun::api()
            .read_repo(&args.dir)
            .await
            .ok()
            .and_then(|view| view.nixpkgs_url)
            .and_then(|url| release_of_nixpkgs_url(&url))
            .unwrap_or(spec.config.state_version),
    };
    if let Some(path) = &args.disko {
        spec.disko = Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("could not read {}", path.display()))?,
        );
    }
    let applied = jobrun::api().add_host(&args.dir, &spec).await?;
    print_applied(&applied);
    Ok(ExitCode::SUCCESS)
}

async fn list(args: ListArgs) -> anyhow::Result<ExitCode> {
    let view = jobrun::api().read_repo(&args.dir).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&view)?);
        return Ok(ExitCode::SUCCESS);
    }
    if view.hosts.is_empty() {
        println!("no hosts yet");
    }
    for host in &view.hosts {
        let address = match (&host.address, host.port) {
            (Some(a), Some(p)) if p != 22 => format!("{a}:{p}"),
            (Some(a), _) => a.clone(),
            (None, _) => "-".into(),
        };
        let user = host.user.as_deref().unwrap_or("-");
        let tags = if host.tags.is_empty() {
            "-".into()
        } else {
            host.tags.join(",")
        };
        let state = if host.has_hardware_configuration {
            "installed"
        } else {
            "not installed"
        };
        let disko = if host.has_disko { "disko" } else { "no disko" };
        println!("{}\t{address}\t{user}\t{tags}\t{state}\t{disko}", host.name);
        for note in &host.notes {
            println!("  note: {note}");
        }
    }
    for problem in &view.problems {
        eprintln!("problem: {}", problem.message);
    }
    Ok(ExitCode::SUCCESS)
}
