//! The command-line grammar. Each subcommand's arguments live beside its code in
//! `command/`.

use crate::command;
use clap::{Parser, Subcommand};

/// Point-and-click NixOS provisioning, headless: the same core as the window.
#[derive(Debug, Parser)]
#[command(
    name = "nixdeck",
    version,
    about = "Point-and-click NixOS provisioning (nixos-anywhere, disko, colmena), headless. Without a subcommand, nixdeck opens its window."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Connect to a host over SSH and read its disks and facts.
    Probe(command::probe::ProbeArgs),
    /// Import, render, validate disko layouts and print templates.
    #[command(subcommand)]
    Layout(command::layout::LayoutCommand),
    /// Create an infrastructure repository.
    #[command(subcommand)]
    Project(command::project::ProjectCommand),
    /// Add, list and remove hosts of a repository.
    #[command(subcommand)]
    Host(command::host::HostCommand),
    /// Print the exact command an install or deploy would run, without running it.
    #[command(subcommand)]
    Plan(command::plan::PlanCommand),
    /// Install NixOS on a host with nixos-anywhere (erases its disks).
    Install(command::install::InstallArgs),
    /// Redeploy hosts with colmena.
    Deploy(command::deploy::DeployArgs),
    /// What each host runs, and whether that is what the flake builds.
    Status(command::status::StatusArgs),
    /// List a host's system generations.
    Generations(command::status::GenerationsArgs),
    /// Switch a host back to an earlier system generation.
    Rollback(command::status::RollbackArgs),
    /// Build a host's system locally to catch evaluation errors.
    Validate(command::validate::ValidateArgs),
    /// List past runs and show their logs.
    #[command(subcommand)]
    Jobs(command::jobs::JobsCommand),
    /// Explain the saved output of a nixos-anywhere or colmena run.
    #[command(subcommand)]
    Log(command::log::LogCommand),
    /// Check what this machine has for nixdeck's workflow (nix, flakes, git, ssh-agent).
    Doctor(command::doctor::DoctorArgs),
}
