//! `nixdeck doctor`.

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct DoctorArgs {}

pub async fn run(_args: DoctorArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`nixdeck doctor` is not available in this build yet")
}
