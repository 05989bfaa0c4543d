//! `nixdeck host …`.

use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum HostCommand {}

pub async fn run(command: HostCommand) -> anyhow::Result<ExitCode> {
    match command {}
}
