//! `nixdeck layout …`.

use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum LayoutCommand {}

pub async fn run(command: LayoutCommand) -> anyhow::Result<ExitCode> {
    match command {}
}
