//! `nixdeck deploy DIR --on FILTER`: colmena apply to the selected hosts.

use super::jobrun::{self, ToolArgs};
use nixdeck_api::deploy::DeployRequest;
use nixdeck_api::repos::repo_dir;
use nixdeck_core::tools::plan::DeployGoal;
use std::path::{Path, PathBuf};
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
    /// colmena's --on: host names, @tags and globs, comma-separated.
    #[arg(long, value_name = "FILTER")]
    pub on: String,
    /// switch (default), boot, test, build, push or dry-activate.
    #[arg(long)]
    pub goal: Option<DeployGoal>,
    /// Build each system on its host.
    #[arg(long)]
    pub build_on_target: bool,
    /// Reboot the hosts after activation.
    #[arg(long)]
    pub reboot: bool,
    /// How many hosts colmena deploys at once.
    #[arg(long)]
    pub parallel: Option<u32>,
    /// Deploy even when a host's configuration would not let you log in
    /// afterwards (no key of yours authorized, sshd off).
    #[arg(long)]
    pub allow_lockout: bool,
    #[command(flatten)]
    pub tools: ToolArgs,
}

impl DeployChoices {
    pub fn request(&self, repo: &Path) -> DeployRequest {
        DeployRequest {
            repo: repo.to_path_buf(),
            filter: Some(self.on.clone()),
            goal: self.goal.map(|g| g.as_str().to_string()),
            build_on_target: self.build_on_target,
            reboot: self.reboot,
            parallel: self.parallel,
            tools: self.tools.choice(),
            allow_lockout: self.allow_lockout,
        }
    }
}

pub async fn run(args: DeployArgs) -> anyhow::Result<ExitCode> {
    let repo = repo_dir(&args.dir)?;
    let api = jobrun::api();
    let request = args.choices.request(&repo);
    let preview = api.preview_deploy(&request).await?;
    eprintln!("nixdeck: deploying to {}", preview.selected.join(", "));
    let started = api
        .start_deploy(&request, Some(jobrun::terminal_sink()))
        .await?;
    let id = nixdeck_api::jobs::parse_job_id(&started.job_id)?;
    let code = jobrun::follow(&api, started).await?;
    if code == ExitCode::SUCCESS {
        // What the hosts run now is what nixdeck put there: the drift check
        // falls back on it when the flake cannot be evaluated.
        match api.record_deployed_systems(&repo, id).await {
            Ok(hosts) if !hosts.is_empty() => {
                eprintln!(
                    "nixdeck: recorded the deployed system of {}",
                    hosts.join(", ")
                )
            }
            Ok(_) => {}
            Err(e) => eprintln!("nixdeck: the deployed systems were not recorded: {e}"),
        }
    }
    Ok(code)
}
