//! `nixdeck validate DIR HOST`: builds the host's system locally
//! (`nix build .#nixosConfigurations.<host>.config.system.build.toplevel`).

use super::jobrun::{self, ToolArgs};
use nixdeck_engine::jobs::requests;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// The repository (the flake's directory).
    pub dir: PathBuf,
    /// The host whose system to build.
    pub host: String,
    #[command(flatten)]
    pub tools: ToolArgs,
}

pub async fn run(args: ValidateArgs) -> anyhow::Result<ExitCode> {
    let repo = jobrun::repo_dir(&args.dir)?;
    let settings = args.tools.settings().await;
    let request = requests::validate_request(&settings, &repo, &args.host)?;
    let manager = jobrun::manager()?;
    if let Some(code) = jobrun::lock_if_needed(&manager, &settings, &repo).await? {
        return Ok(code);
    }
    jobrun::run_in_terminal(&manager, request).await
}
