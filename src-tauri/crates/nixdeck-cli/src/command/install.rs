//! `nixdeck install`.

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct InstallArgs {}

pub async fn run(_args: InstallArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`nixdeck install` is not available in this build yet")
}
