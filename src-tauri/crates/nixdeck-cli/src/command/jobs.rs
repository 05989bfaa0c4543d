//! `nixdeck jobs …`.

use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum JobsCommand {}

pub async fn run(command: JobsCommand) -> anyhow::Result<ExitCode> {
    match command {}
}
