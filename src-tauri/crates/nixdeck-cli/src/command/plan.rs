//! `nixdeck plan …`.

use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum PlanCommand {}

pub async fn run(command: PlanCommand) -> anyhow::Result<ExitCode> {
    match command {}
}
