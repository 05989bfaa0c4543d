//! `nixdeck deploy`.

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct DeployArgs {}

pub async fn run(_args: DeployArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`nixdeck deploy` is not available in this build yet")
}
