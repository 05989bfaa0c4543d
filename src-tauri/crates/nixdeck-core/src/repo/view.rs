//! A repository as nixdeck shows it: its hosts with what could be read about them,
//! and the problems it found. Built from a directory scan and, when the flake could
//! be read, its outline ([`super::outline`]).

use super::names::{self, HostName, NameError, Tag};
use super::outline::{FlakeDetails, FlakeOutline, ReadDeployment};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::PathBuf;

/// One opened repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct RepoView {
    pub root: PathBuf,
    /// `flake.nix` exists.
    pub has_flake: bool,
    /// The flake's input names, when it could be read.
    pub inputs: Vec<String>,
    /// `inputs.nixpkgs.url`, when it is a plain string.
    pub nixpkgs_url: Option<String>,
    /// Hosts by name: every `hosts/<name>/` directory and every host the flake names.
    pub hosts: Vec<HostSummary>,
    /// What nixdeck could not read or finds wrong, in words.
    pub problems: Vec<Problem>,
}

/// One host as far as nixdeck can tell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct HostSummary {
    /// The directory or output name, as found.
    pub name: String,
    /// Whether `name` is a valid NixOS host name (nixdeck edits only those).
    pub valid_name: bool,
    /// `hosts/<name>/` exists.
    pub has_directory: bool,
    pub has_configuration: bool,
    /// `hosts/<name>/disko.nix` exists.
    pub has_disko: bool,
    /// `hosts/<name>/hardware-configuration.nix` exists: the host was installed.
    pub has_hardware_configuration: bool,
    /// `hosts/<name>/host.nix` exists: nixdeck's layout.
    pub has_host_data: bool,
    /// Named in `nixosConfigurations` (`None`: the flake could not be read).
    pub in_nixos_configurations: Option<bool>,
    /// A colmena node (`None`: the flake could not be read).
    pub in_colmena: Option<bool>,
    /// `nixosConfigurations.<name>`'s system, when the flake passes one.
    pub system: Option<String>,
    /// Where colmena connects: `deployment.targetHost`, or the node name when unset.
    pub address: Option<String>,
    pub port: Option<u16>,
    pub user: Option<String>,
    pub tags: Vec<String>,
    pub build_on_target: Option<bool>,
    /// Whether the deployment settings were read (`false`: unreadable or not a node).
    pub deployment_read: bool,
    /// Things worth knowing about this host, in words.
    pub notes: Vec<String>,
}

/// Something wrong or unreadable in a repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    /// The host it concerns, if any.
    pub host: Option<String>,
    pub message: String,
}

/// What a scan of `hosts/<name>/` found on disk.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostDir {
    pub name: String,
    pub has_configuration: bool,
    pub has_disko: bool,
    pub has_hardware_configuration: bool,
    pub has_host_data: bool,
}

/// What reading the flake gave: its outline and details, or why not.
#[derive(Debug, Clone, Default)]
pub struct FlakeReading {
    pub outline: Option<FlakeOutline>,
    pub details: FlakeDetails,
    /// Why the outline could not be read.
    pub outline_error: Option<String>,
    /// Hosts whose details could not be read, and why.
    pub detail_errors: Vec<(String, String)>,
}

impl HostSummary {
    fn empty(name: &str) -> Self {
        Self {
            name: name.to_string(),
            valid_name: HostName::new(name).is_ok(),
            has_directory: false,
            has_configuration: false,
            has_disko: false,
            has_hardware_configuration: false,
            has_host_data: false,
            in_nixos_configurations: None,
            in_colmena: None,
            system: None,
            address: None,
            port: None,
            user: None,
            tags: Vec::new(),
            build_on_target: None,
            deployment_read: false,
            notes: Vec::new(),
        }
    }

    fn apply_deployment(&mut self, d: &ReadDeployment) {
        self.deployment_read = true;
        self.address = match (&d.target_host, d.has_target_host) {
            (Some(host), _) => Some(host.clone()),
            (None, true) => {
                self.notes
                    .push("targetHost is null: colmena deploys it only locally".into());
                None
            }
            (None, false) => {
                self.notes
                    .push("no deployment.targetHost: colmena connects to the node name".into());
                Some(self.name.clone())
            }
        };
        self.port = d.target_port;
        self.user = d.target_user.clone();
        self.tags = d.tags.clone();
        self.build_on_target = d.build_on_target;
    }
}

/// Every deployment setting of `d` that fails the rule typed input passes, as
/// `(field, why)`. Such a value is shown, never used: planning an install or a
/// deploy of the host refuses it ([`crate::tools::plan::check_target`]).
pub fn deployment_faults(d: &ReadDeployment) -> Vec<(&'static str, NameError)> {
    let mut faults = Vec::new();
    if let Some(host) = &d.target_host {
        if let Err(e) = names::check_address(host) {
            faults.push(("targetHost", e));
        }
    }
    if let Some(user) = &d.target_user {
        if let Err(e) = names::check_user(user) {
            faults.push(("targetUser", e));
        }
    }
    if d.target_port == Some(0) {
        faults.push(("targetPort", NameError::Port));
    }
    for tag in &d.tags {
        if let Err(e) = Tag::new(tag) {
            faults.push(("tags", e));
        }
    }
    faults
}

/// Builds the view of the repository at `root` from its host directories and what
/// could be read from its flake.
pub fn assemble(
    root: PathBuf,
    has_flake: bool,
    dirs: Vec<HostDir>,
    reading: FlakeReading,
) -> RepoView {
    let mut problems = Vec::new();
    if !has_flake {
        problems.push(Problem {
            host: None,
            message: "no flake.nix here: create the repository with `nixdeck project init`, or open the folder that holds flake.nix".into(),
        });
    }
    if let Some(err) = &reading.outline_error {
        problems.push(Problem {
            host: None,
            message: format!("flake.nix could not be read without building it, so hosts are listed from hosts/ only: {err}"),
        });
    }
    let outline = reading.outline.clone().unwrap_or_default();
    let mut names: BTreeSet<String> = dirs.iter().map(|d| d.name.clone()).collect();
    names.extend(outline.nixos_configurations.iter().cloned());
    names.extend(outline.colmena_nodes.iter().cloned());

    let hosts = names
        .into_iter()
        .map(|name| {
            let mut host = HostSummary::empty(&name);
            if let Some(dir) = dirs.iter().find(|d| d.name == name) {
                host.has_directory = true;
                host.has_configuration = dir.has_configuration;
                host.has_disko = dir.has_disko;
                host.has_hardware_configuration = dir.has_hardware_configuration;
                host.has_host_data = dir.has_host_data;
                if !dir.has_configuration {
                    host.notes.push(format!("hosts/{name}/ has no configuration.nix"));
                }
                if !dir.has_disko {
                    host.notes.push("no disko.nix: give it a disk layout before installing".into());
                }
            }
            if !host.valid_name {
                host.notes.push("not a valid NixOS host name: nixdeck shows it but does not change it".into());
            }
            if reading.outline.is_some() {
                let in_nixos = outline.nixos_configurations.contains(&name);
                let in_colmena = outline.colmena_nodes.contains(&name);
                host.in_nixos_configurations = Some(in_nixos);
                host.in_colmena = Some(in_colmena);
                if !in_nixos {
                    host.notes.push("not in nixosConfigurations: nixos-anywhere cannot install it from this flake".into());
                }
                if !in_colmena {
                    host.notes.push("not a colmena node: colmena cannot deploy it".into());
                }
            }
            if let Some(Some(system)) = reading.details.systems.get(&name) {
                host.system = Some(system.clone());
            }
            if let Some(d) = reading.details.deployments.get(&name) {
                host.apply_deployment(d);
                // nixdeck's layout keeps the settings in host.nix; others set them in flake.nix.
                let file = if host.has_host_data {
                    format!("hosts/{name}/host.nix")
                } else {
                    "flake.nix".to_string()
                };
                for (field, err) in deployment_faults(d) {
                    host.notes.push(format!("{file}: deployment.{field} is not usable, so nixdeck will not install or deploy it"));
                    problems.push(Problem {
                        host: Some(name.clone()),
                        message: format!("{file}: deployment.{field} of {name}: {err}; nixdeck will not install or deploy {name} until it is corrected"),
                    });
                }
            }
            if let Some((_, err)) = reading.detail_errors.iter().find(|(n, _)| *n == name) {
                host.notes.push("its deployment settings could not be read without building the flake; nixdeck leaves them alone".into());
                problems.push(Problem {
                    host: Some(name.clone()),
                    message: format!("the deployment settings of {name} could not be read; nixdeck leaves them alone: {err}"),
                });
            }
            host
        })
        .collect();
    RepoView {
        root,
        has_flake,
        inputs: outline.inputs,
        nixpkgs_url: outline.nixpkgs_url,
        hosts,
        problems,
    }
}
