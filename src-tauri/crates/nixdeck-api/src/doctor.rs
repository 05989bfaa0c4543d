//! The doctor: what this machine has for nixdeck's workflow.

use crate::Api;
use nixdeck_engine::doctor::{self, DoctorReport};

impl Api {
    /// Checks nix, flakes, git, the ssh-agent and the machine itself.
    pub async fn doctor_report(&self) -> DoctorReport {
        doctor::run().await
    }

    /// The same, plus which nixos-anywhere and colmena `repo`'s jobs would run
    /// (pinned by its flake.lock, or not) with `tools`.
    pub async fn doctor_report_for_repo(
        &self,
        repo: &std::path::Path,
        tools: &crate::jobs::ToolChoice,
    ) -> DoctorReport {
        let settings = crate::jobs::settings_for(tools).await;
        doctor::run_for_repo(&settings, repo).await
    }
}
