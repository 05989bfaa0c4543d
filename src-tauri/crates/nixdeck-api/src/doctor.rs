//! The doctor: what this machine has for nixdeck's workflow.

use crate::Api;
use nixdeck_engine::doctor::{self, DoctorReport};

impl Api {
    /// Checks nix, flakes, git, the ssh-agent and the machine itself.
    pub async fn doctor_report(&self) -> DoctorReport {
        doctor::run().await
    }
}
