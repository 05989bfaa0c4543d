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
        // The API's safety net (started with the deploy, as in the window):
        // every switched node must answer over SSH again; what each runs now
        // is recorded for the drift check. A silent node is reported, not an
        // exit status: colmena's deploy itself succeeded.
        eprintln!("nixdeck: checking that the switched hosts answer over SSH…");
        match api
            .wait_deploy_safety(id, std::time::Duration::from_secs(600))
            .await
        {
            Ok(Some(report)) => {
                for node in &report.nodes {
                    match node.state.as_str() {
                        "answered" => eprintln!(
                            "nixdeck: {} answers again ({:.1} s)",
                            node.node,
                            node.after_ms.unwrap_or(0) as f64 / 1000.0
                        ),
                        _ => {
                            eprintln!(
                                "nixdeck: {} did NOT answer within {} s: {}\n  When it answers again: nixdeck rollback {} {} --confirm {}",
                                node.node,
                                report.limit_secs,
                                node.error.as_deref().unwrap_or("?"),
                                repo.display(),
                                node.node,
                                node.node
                            )
                        }
                    }
                }
                if !report.recorded.is_empty() {
                    eprintln!(
                        "nixdeck: recorded the deployed system of {}",
                        report.recorded.join(", ")
                    );
                }
            }
            Ok(None) => {}
            Err(e) => eprintln!("nixdeck: the safety check did not run: {e}"),
        }
    }
    Ok(code)
}
