//! The host model nixdeck writes: how colmena reaches a host ([`Deployment`]), its
//! NixOS basics ([`SystemConfig`]) and the repository-wide flake settings ([`FlakeSpec`]).

use super::names::{self, HostName, NameError, Tag};
use crate::facts::BootMode;
use serde::{Deserialize, Serialize};

/// The nixpkgs branch a new repository follows unless told otherwise (the article's).
pub const DEFAULT_NIXPKGS_REF: &str = "nixos-25.05";
/// A host's Nix system when the probe did not say.
pub const DEFAULT_SYSTEM: &str = "x86_64-linux";

/// A host's colmena `deployment` settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    /// `deployment.targetHost`: IP address or DNS name.
    pub target_host: String,
    /// `deployment.targetPort`.
    pub target_port: u16,
    /// `deployment.targetUser`.
    pub target_user: String,
    /// `deployment.tags`.
    // A checked name on the wire is a plain string (serde's try_from/into).
    #[ts(type = "Array<string>")]
    pub tags: Vec<Tag>,
    /// `deployment.buildOnTarget`: build the system on the host itself.
    pub build_on_target: bool,
    /// `deployment.allowLocalDeployment`: `colmena apply-local` may run on the host.
    pub allow_local_deployment: bool,
}

impl Deployment {
    /// Settings for `address` with colmena's defaults (root on port 22), as the article writes them.
    pub fn new(address: impl Into<String>) -> Self {
        Self {
            target_host: address.into(),
            target_port: 22,
            target_user: "root".into(),
            tags: Vec::new(),
            build_on_target: false,
            allow_local_deployment: true,
        }
    }

    /// Checks the fields that are free text.
    pub fn validate(&self) -> Result<(), NameError> {
        names::check_address(&self.target_host)?;
        names::check_user(&self.target_user)?;
        if self.target_port == 0 {
            return Err(NameError::Port);
        }
        Ok(())
    }
}

/// What nixdeck writes into a host's `configuration.nix` (the wizard's "system" step).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct SystemConfig {
    /// `networking.hostName`.
    #[ts(type = "string")]
    pub host_name: HostName,
    /// `users.users.root.openssh.authorizedKeys.keys`, one `authorized_keys` line each.
    pub authorized_keys: Vec<String>,
    /// `environment.systemPackages`, attribute names under `pkgs`.
    pub packages: Vec<String>,
    /// `system.stateVersion`.
    pub state_version: String,
    /// Firmware boot mode: decides the grub settings.
    pub boot_mode: BootMode,
}

impl SystemConfig {
    /// The article's starting point for `host_name`: git and vim, state version of the
    /// default nixpkgs branch, UEFI boot.
    pub fn new(host_name: HostName) -> Self {
        Self {
            host_name,
            authorized_keys: Vec::new(),
            packages: vec!["git".into(), "vim".into()],
            state_version: "25.05".into(),
            boot_mode: BootMode::Uefi,
        }
    }

    /// Checks keys, packages and the state version.
    pub fn validate(&self) -> Result<(), NameError> {
        for key in &self.authorized_keys {
            names::check_authorized_key(key)?;
        }
        for package in &self.packages {
            names::check_package(package)?;
        }
        names::check_state_version(&self.state_version)
    }
}

/// Everything needed to add a host to a repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HostSpec {
    pub name: HostName,
    /// Nix system (`x86_64-linux`), from the probed facts.
    pub system: String,
    pub deployment: Deployment,
    pub config: SystemConfig,
    /// The host's `disko.nix`, already rendered by the layout editor; `None` writes none
    /// (the host cannot be built until it has one, and the repository view says so).
    pub disko: Option<String>,
}

impl HostSpec {
    /// A host named `name` reached at `address`, with the article's defaults.
    pub fn new(name: HostName, address: impl Into<String>) -> Self {
        Self {
            config: SystemConfig::new(name.clone()),
            name,
            system: DEFAULT_SYSTEM.into(),
            deployment: Deployment::new(address),
            disko: None,
        }
    }

    /// Checks every field that came from a person or a probe.
    pub fn validate(&self) -> Result<(), NameError> {
        names::check_system(&self.system)?;
        self.deployment.validate()?;
        self.config.validate()
    }
}

/// Repository-wide settings of a new flake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FlakeSpec {
    /// The flake's `description`.
    pub description: String,
    /// Branch or tag of `github:NixOS/nixpkgs` (`nixos-25.05`).
    pub nixpkgs_ref: String,
}

impl Default for FlakeSpec {
    fn default() -> Self {
        Self {
            description: "NixOS machines, installed with nixos-anywhere and deployed with colmena"
                .into(),
            nixpkgs_ref: DEFAULT_NIXPKGS_REF.into(),
        }
    }
}

impl FlakeSpec {
    pub fn validate(&self) -> Result<(), NameError> {
        names::check_nixpkgs_ref(&self.nixpkgs_ref)
    }

    /// The state version matching the nixpkgs branch when it names a release
    /// (`nixos-24.11` → `24.11`), for new hosts.
    pub fn release(&self) -> Option<&str> {
        let version = self.nixpkgs_ref.strip_prefix("nixos-")?;
        names::check_state_version(version).ok().map(|_| version)
    }
}

/// The NixOS release a nixpkgs flake URL follows (`github:NixOS/nixpkgs/nixos-24.11` →
/// `24.11`), as the state version for new hosts; `None` for unstable or other URLs.
pub fn release_of_nixpkgs_url(url: &str) -> Option<String> {
    let branch = url.rsplit('/').next()?;
    let branch = branch.split(['?', '#']).next()?;
    let spec = FlakeSpec {
        nixpkgs_ref: branch.to_string(),
        ..FlakeSpec::default()
    };
    spec.release().map(str::to_string)
}
