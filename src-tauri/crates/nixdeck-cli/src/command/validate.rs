//! `nixdeck validate DIR HOST`: builds the host's system locally
//! (`nix build .#nixosConfigurations.<host>.config.system.build.toplevel`).

use super::jobrun::{self, ToolArgs};
use nixdeck_api::repos::repo_dir;
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
    let repo = repo_dir(&args.dir)?;
    let api = jobrun::api();
    let sink = Some(jobrun::terminal_sink());
    let started = api
        .start_validate(&repo, &args.host, &args.tools.choice(), sink)
        .await?;
    jobrun::follow(&api, started).await
}
