//! `nixdeck deploy DIR --on FILTER`: colmena apply to the selected hosts.

use super::jobrun::{self, ToolArgs};
use nixdeck_core::tools::plan::{DeployGoal, DeployOptions};
use nixdeck_engine::jobs::requests;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct DeployArgs {
    /// The repository (the flake's directory).
    pub dir: PathBuf,
    #[command(flatten)]
    pub choices: DeployChoices,
}

/// The deploy's choices, shared with `nixdeck plan deploy`.
#[derive(Debug, Clone, clap::Args)]
pub struct DeployChoices {
    /// Hosts: comma-separated names and @tags, globs allowed (colmena's --on).
    #[arg(long, value_name = "FILTER")]
    pub on: String,
    /// switch, boot, test, dry-activate, build or push (default: colmena's).
    #[arg(long)]
    pub goal: Option<DeployGoal>,
    /// Build each system on its host (`--build-on-target`).
    #[arg(long)]
    pub build_on_target: bool,
    /// Reboot after activation (`--reboot`).
    #[arg(long)]
    pub reboot: bool,
    /// How many hosts at once (0: no limit).
    #[arg(long)]
    pub parallel: Option<u32>,
    #[command(flatten)]
    pub tools: ToolArgs,
}

impl DeployChoices {
    pub fn options(&self) -> DeployOptions {
        DeployOptions {
            goal: self.goal,
            on: Some(self.on.clone()),
            build_on_target: self.build_on_target,
            reboot: self.reboot,
            parallel: self.parallel,
        }
    }
}

pub async fn run(args: DeployArgs) -> anyhow::Result<ExitCode> {
    let repo = jobrun::repo_dir(&args.dir)?;
    let settings = args.choices.tools.settings().await;
    let hosts = jobrun::read_hosts(&repo).await?;
    let request = requests::deploy_request(&settings, &repo, &hosts, &args.choices.options())?;
    eprintln!("nixdeck: deploying to {}", request.hosts.join(", "));
    let manager = jobrun::manager()?;
    if let Some(code) = jobrun::lock_if_needed(&manager, &settings, &repo).await? {
        return Ok(code);
    }
    jobrun::run_in_terminal(&manager, request).await
}
