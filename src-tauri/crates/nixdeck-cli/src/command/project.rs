//! `nixdeck project …`.

use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum ProjectCommand {}

pub async fn run(command: ProjectCommand) -> anyhow::Result<ExitCode> {
    match command {}
}
