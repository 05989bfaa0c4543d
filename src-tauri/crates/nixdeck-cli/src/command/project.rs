//! `nixdeck project …`: create an infrastructure repository.

use super::host::print_applied;
use anyhow::Context;
use nixdeck_core::repo::FlakeSpec;
use nixdeck_engine::repo::Confirm;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum ProjectCommand {
    /// Create a flake in DIR in the article's layout (flake.nix, modules/common.nix,
    /// .gitignore) and `git init` it.
    Init(InitArgs),
}

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The folder to create the repository in (created if missing).
    pub dir: PathBuf,
    /// Branch of github:NixOS/nixpkgs to follow.
    #[arg(long, default_value = nixdeck_core::repo::DEFAULT_NIXPKGS_REF)]
    pub nixpkgs: String,
    /// Replace an existing .gitignore or modules/common.nix without asking.
    #[arg(long)]
    pub overwrite: bool,
}

pub async fn run(command: ProjectCommand) -> anyhow::Result<ExitCode> {
    match command {
        ProjectCommand::Init(args) => {
            let spec = FlakeSpec {
                nixpkgs_ref: args.nixpkgs,
                ..FlakeSpec::default()
            };
            let confirm = if args.overwrite {
                Confirm::All
            } else {
                Confirm::Nothing
            };
            let applied = super::jobrun::api()
                .init_repo(&args.dir, &spec, &confirm)
                .await
                .with_context(|| {
                    format!("could not create a repository in {}", args.dir.display())
                })?;
            print_applied(&applied);
            if applied.git_initialised {
                println!("initialised a git repository");
            }
            println!(
                "next: nixdeck host add {} NAME --address ADDRESS",
                args.dir.display()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
