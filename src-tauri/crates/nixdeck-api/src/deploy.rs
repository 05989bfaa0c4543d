//! Redeploys with colmena and validation builds: the hosts a `--on` filter
//! selects (by the one target rule), the exact command, the flake lock step.

use crate::jobs::{settings_for, Sink, StartedJob, ToolChoice};
use crate::targets::read_targets;
use crate::{Api, ApiError, ApiResult};
use nixdeck_core::tools::plan::{DeployGoal, DeployOptions, HostTarget};
use nixdeck_engine::jobs::{requests, JobRequest};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use ts_rs::TS;

/// What a redeploy is asked to do.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeployRequest {
    /// The repository.
    pub repo: PathBuf,
    /// colmena's `--on` (`web-1`, `@web`, `web-*`, comma-separated); every host when empty.
    pub filter: Option<String>,
    /// `switch` (default), `boot`, `test`, `build`, `push`, `dry-activate`.
    pub goal: Option<String>,
    /// Build on the hosts themselves.
    #[serde(default)]
    pub build_on_target: bool,
    /// Reboot after activation.
    #[serde(default)]
    pub reboot: bool,
    /// colmena's `--parallel`.
    #[serde(default)]
    pub parallel: Option<u32>,
    /// How to run the tools.
    #[serde(default)]
    pub tools: ToolChoice,
    /// Deploy even to hosts whose configuration would not let this machine log
    /// in afterwards (the window's "I can log in another way", `--allow-lockout`).
    #[serde(default)]
    pub allow_lockout: bool,
}

/// The hosts a filter selects, in the repository's order, and the command that
/// would run.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DeployPreview {
    /// The selected hosts' names.
    pub selected: Vec<String>,
    /// Where each selected host is reached.
    pub targets: Vec<HostTarget>,
    /// The argument vector (secrets redacted).
    pub argv: Vec<String>,
    /// The same, quoted for a shell.
    pub command: String,
}

impl DeployRequest {
    fn options(&self) -> ApiResult<DeployOptions> {
        let goal = match self.goal.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(g) => Some(
                g.parse::<DeployGoal>()
                    .map_err(|e| ApiError::invalid(e.to_string()))?,
            ),
        };
        Ok(DeployOptions {
            goal,
            on: self.filter.clone().filter(|f| !f.is_empty()),
            build_on_target: self.build_on_target,
            reboot: self.reboot,
            parallel: self.parallel,
        })
    }
}

impl Api {
    async fn deploy_job(
        &self,
        request: &DeployRequest,
    ) -> ApiResult<(JobRequest, Vec<HostTarget>)> {
        let hosts = read_targets(&request.repo).await?.host_targets();
        let settings = settings_for(&request.tools).await;
        let job = requests::deploy_request(&settings, &request.repo, &hosts, &request.options()?)?;
        let selected = hosts
            .into_iter()
            .filter(|h| job.hosts.contains(&h.name))
            .collect();
        Ok((job, selected))
    }

    /// What a redeploy would do, exactly as [`Api::start_deploy`] would start it.
    pub async fn preview_deploy(&self, request: &DeployRequest) -> ApiResult<DeployPreview> {
        let (job, targets) = self.deploy_job(request).await?;
        Ok(DeployPreview {
            selected: job.hosts.clone(),
            targets,
            argv: job.command.redacted_argv(),
            command: job.command.to_string(),
        })
    }

    /// colmena apply on the hosts the filter selects (the flake locked first
    /// when it has no flake.lock).
    pub async fn start_deploy(&self, request: &DeployRequest, sink: Sink) -> ApiResult<StartedJob> {
        // Planned once to refuse a bad selection before anything runs, and again
        // after the lock: which colmena runs depends on what flake.lock pins.
        let (_, targets) = self.deploy_job(request).await?;
        // A goal that activates nothing (`build`, `push`) cannot lock anyone out.
        let activates = !matches!(
            request.options()?.goal,
            Some(DeployGoal::Build | DeployGoal::Push | DeployGoal::DryActivate)
        );
        if activates {
            for target in &targets {
                self.require_login(
                    &request.repo,
                    &target.name,
                    &target.user,
                    None,
                    "deploying to",
                    request.allow_lockout,
                )
                .await?;
            }
        }
        let settings = settings_for(&request.tools).await;
        self.ensure_locked(&settings, &request.repo, &sink).await?;
        let (job, _) = self.deploy_job(request).await?;
        let id = self.start_job(job, sink)?;
        // Once colmena is done, every switched node must answer again.
        self.safety_net_after(&request.repo, id);
        Ok(id.into())
    }

    /// `nix build` of `host`'s system (the flake locked first when needed).
    pub async fn start_validate(
        &self,
        repo: &Path,
        host: &str,
        tools: &ToolChoice,
        sink: Sink,
    ) -> ApiResult<StartedJob> {
        crate::hosts::host_name(host)?;
        let settings = settings_for(tools).await;
        let job = requests::validate_request(&settings, repo, host)?;
        self.ensure_locked(&settings, repo, &sink).await?;
        Ok(self.start_job(job, sink)?.into())
    }
}
