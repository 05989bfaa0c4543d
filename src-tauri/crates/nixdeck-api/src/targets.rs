//! The one rule for which hosts of a repository an install, a deploy, a probe or
//! a host-key check may reach, and how: colmena's `deployment.*` as nixdeck read
//! them, checked with the same validators as typed input.

use crate::{ApiError, ApiResult};
use nixdeck_core::repo::{HostName, HostSummary, RepoView};
use nixdeck_core::tools::plan::{self, HostTarget, PlanError};
use nixdeck_engine::ssh::SshTarget;
use serde::Serialize;
use std::path::Path;
use ts_rs::TS;

/// A host that cannot be targeted, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Untargetable {
    /// The host's name as the repository has it.
    pub host: String,
    /// Why nixdeck will not connect to it, with the file and field to fix.
    pub reason: String,
}

/// The repository's hosts, split into those nixdeck may connect to and the rest.
#[derive(Debug, Clone, Default)]
pub struct Targets {
    /// Hosts with a valid name and deployment settings, in the repository's order.
    pub hosts: Vec<(HostSummary, HostTarget)>,
    /// Hosts left out, each with the reason.
    pub skipped: Vec<Untargetable>,
}

impl Targets {
    /// The targets alone (for colmena's `--on` selection).
    pub fn host_targets(&self) -> Vec<HostTarget> {
        self.hosts.iter().map(|(_, t)| t.clone()).collect()
    }

    /// The host named `name`, or an error saying why it cannot be reached.
    pub fn find(&self, name: &str) -> ApiResult<&(HostSummary, HostTarget)> {
        if let Some(found) = self.hosts.iter().find(|(h, _)| h.name == name) {
            return Ok(found);
        }
        match self.skipped.iter().find(|s| s.host == name) {
            Some(skipped) => Err(ApiError::invalid(skipped.reason.clone())),
            None => Err(ApiError::not_found(format!(
                "{name} is not a host of this repository"
            ))),
        }
    }
}

/// Splits `view`'s hosts by [`target_of`].
pub fn targets_of(view: RepoView) -> Targets {
    let mut out = Targets::default();
    for host in view.hosts {
        match target_of(&host) {
            Ok(target) => out.hosts.push((host, target)),
            Err(reason) => out.skipped.push(Untargetable {
                host: host.name.clone(),
                reason,
            }),
        }
    }
    out
}

/// Reads `repo` and splits its hosts by [`target_of`].
pub async fn read_targets(repo: &Path) -> ApiResult<Targets> {
    Ok(targets_of(nixdeck_engine::repo::open_repo(repo).await?))
}

/// Where `host` is reached: its colmena `deployment.targetHost` (the node name
/// when unset, as colmena does), `targetUser` (root) and `targetPort`, each
/// checked like typed input. A host whose deployment nixdeck could not read is
/// not guessed at.
pub fn target_of(host: &HostSummary) -> Result<HostTarget, String> {
    let file = format!("hosts/{}/host.nix", host.name);
    if HostName::new(&host.name).is_err() || !host.valid_name {
        return Err(format!(
            "{:?} is not a valid host name: rename hosts/{}/",
            host.name, host.name
        ));
    }
    if !host.deployment_read {
        return Err(format!(
            "nixdeck could not read {}'s deployment settings (colmena's deployment.targetHost and friends in {file} or flake.nix)",
            host.name
        ));
    }
    let target = HostTarget {
        name: host.name.clone(),
        address: host.address.clone().unwrap_or_else(|| host.name.clone()),
        user: host.user.clone().unwrap_or_else(|| "root".into()),
        port: host.port.filter(|p| *p != 22),
        tags: host.tags.clone(),
        build_on_target: host.build_on_target.unwrap_or(false),
    };
    // The same rule planning applies, worded with the file to correct.
    plan::check_target(&target).map_err(|err| match err {
        PlanError::Setting { field, reason, .. } => {
            format!("{file}: deployment.{field}: {reason}")
        }
        other => format!("{file}: {other}"),
    })?;
    Ok(target)
}

/// The SSH destination of `target`, for nixdeck's own connections.
pub fn ssh_target(target: &HostTarget) -> SshTarget {
    SshTarget {
        host: target.address.clone(),
        port: target.port,
        user: Some(target.user.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(name: &str) -> HostSummary {
        HostSummary {
            name: name.into(),
            valid_name: true,
            has_directory: true,
            has_configuration: true,
            has_disko: true,
            has_hardware_configuration: false,
            has_host_data: true,
            in_nixos_configurations: Some(true),
            in_colmena: Some(true),
            system: None,
            address: Some("203.0.113.7".into()),
            port: None,
            user: Some("root".into()),
            tags: Vec::new(),
            build_on_target: None,
            deployment_read: true,
            notes: Vec::new(),
        }
    }

    #[test]
    fn a_host_reads_as_colmena_would_reach_it() {
        let mut h = summary("web-1");
        h.address = None;
        h.user = None;
        h.port = Some(22);
        let t = target_of(&h).unwrap();
        assert_eq!(
            (t.address.as_str(), t.user.as_str(), t.port),
            ("web-1", "root", None)
        );
    }

    #[test]
    fn hostile_repository_values_are_refused_with_file_and_field() {
        let mut h = summary("web-1");
        h.address = Some("h$(id)&x=1".into());
        let err = target_of(&h).unwrap_err();
        assert!(err.contains("hosts/web-1/host.nix"), "{err}");
        assert!(err.contains("deployment.targetHost"), "{err}");
        let mut h = summary("web-1");
        h.user = Some("-oProxyCommand=x".into());
        assert!(target_of(&h).unwrap_err().contains("targetUser"));
        let mut h = summary("web-1");
        h.tags = vec!["a b".into()];
        assert!(target_of(&h).unwrap_err().contains("deployment.tags"));
    }

    #[test]
    fn unread_deployments_are_not_guessed() {
        let mut h = summary("web-1");
        h.deployment_read = false;
        let view = RepoView {
            root: "/repo".into(),
            has_flake: true,
            inputs: Vec::new(),
            nixpkgs_url: None,
            hosts: vec![h, summary("db-1")],
            problems: Vec::new(),
        };
        let targets = targets_of(view);
        assert_eq!(targets.host_targets().len(), 1);
        assert_eq!(targets.skipped[0].host, "web-1");
        assert_eq!(
            targets.find("web-1").unwrap_err().code,
            crate::ErrorCode::Validation
        );
        assert_eq!(
            targets.find("nope").unwrap_err().code,
            crate::ErrorCode::NotFound
        );
    }
}
