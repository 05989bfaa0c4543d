//! `nixdeck log …`.

use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum LogCommand {}

pub async fn run(command: LogCommand) -> anyhow::Result<ExitCode> {
    match command {}
}
