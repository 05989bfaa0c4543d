//! The last checks before nixos-anywhere erases a machine, shared by the window and
//! `nixdeck install`: preflight on the facts the person confirmed and the host's
//! layout, then a fresh probe in which every disk the layout erases must still be the
//! disk that was confirmed (stable name, serial, model, size).

use crate::disk_sources::{self, DiskSource};
use crate::disko_file::{self, DiskoFileError, LoadOptions};
use crate::probe::{self, ProbeError, ProbeOptions};
use crate::ssh::{ConnectOptions, SshTarget};
use nixdeck_core::facts::HostFacts;
use nixdeck_core::preflight::{
    self, DiskIdentity, IdentityChange, Preflight, PreflightError, Rule,
};
use serde::Serialize;
use std::path::Path;
use thiserror::Error;

/// What the checks found.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InstallCheck {
    pub preflight: Preflight,
    /// The disks the layout erases, as confirmed (from the recorded facts).
    pub confirmed: Vec<DiskIdentity>,
    /// Differences a fresh probe found (empty when no probe was asked for).
    pub changes: Vec<IdentityChange>,
    /// Every file of the host's configuration that defines disk devices, with the
    /// disks each formats (`hosts/<host>/disko.nix` first).
    pub disk_sources: Vec<DiskSource>,
}

/// Why the checks could not run, or why the install may not start.
#[derive(Debug, Error)]
pub enum InstallCheckError {
    #[error(transparent)]
    Layout(#[from] DiskoFileError),
    #[error("the target could not be probed again before the install: {0}")]
    Probe(#[from] ProbeError),
    #[error(transparent)]
    Preflight(#[from] PreflightError),
    #[error(
        "the disks on {host} are not the ones confirmed on review; nothing was erased:\n{changes}"
    )]
    DisksChanged { host: String, changes: String },
}

/// Where the re-probe connects, and how.
pub struct Reprobe<'a> {
    pub target: &'a SshTarget,
    pub connect: &'a ConnectOptions,
}

/// Runs preflight for `host` of `repo` on `confirmed_facts` and every disk its
/// configuration formats (`hosts/<host>/disko.nix` and any other file of the host's
/// configuration that defines `disko.devices`, see [`disk_sources`]); with
/// `reprobe`, probes the target again and compares every one of those disks.
pub async fn check(
    repo: &Path,
    host: &str,
    system: Option<&str>,
    confirmed_facts: &HostFacts,
    reprobe: Option<Reprobe<'_>>,
) -> Result<InstallCheck, InstallCheckError> {
    let disko = repo.join("hosts").join(host).join("disko.nix");
    let layout = disko_file::load(&disko, &LoadOptions::for_file(&disko)).await?;
    let disks = disk_sources::host_disks(repo, host, &layout).await;
    let needs = disks.needs;
    let preflight = preflight::check(confirmed_facts, &needs, system);
    let confirmed: Vec<DiskIdentity> = needs
        .disks
        .iter()
        .filter_map(|d| DiskIdentity::of(confirmed_facts, d))
        .collect();
    let changes = match reprobe {
        Some(Reprobe { target, connect }) => {
            let now = probe::probe(target, connect, &ProbeOptions::default()).await?;
            preflight::recheck_disks(&confirmed, &now)
        }
        None => Vec::new(),
    };
    Ok(InstallCheck {
        preflight,
        confirmed,
        changes,
        disk_sources: disks.sources,
    })
}

impl InstallCheck {
    /// `Ok` when the install may start: no preflight error, every warning in
    /// `acknowledged`, and every disk still the confirmed one.
    /// A changed disk is reported before preflight: it is the one problem that
    /// would erase the wrong disk, and no acknowledgement can answer it.
    pub fn may_start(&self, host: &str, acknowledged: &[Rule]) -> Result<(), InstallCheckError> {
        if !self.changes.is_empty() {
            return Err(InstallCheckError::DisksChanged {
                host: host.to_string(),
                changes: describe_changes(&self.changes),
            });
        }
        self.preflight.may_start(acknowledged)?;
        Ok(())
    }
}

/// Confirmed and current disk identities side by side, one disk a line.
pub fn describe_changes(changes: &[IdentityChange]) -> String {
    let id = |d: &DiskIdentity| {
        format!(
            "{} ({}, serial {}, model {}, {} bytes)",
            d.stable_name,
            d.path,
            d.serial.as_deref().unwrap_or("none"),
            d.model.as_deref().map(str::trim).unwrap_or("none"),
            d.size_bytes
        )
    };
    changes
        .iter()
        .map(|c| {
            format!(
                "{}: confirmed {} — now {}; {}",
                c.name,
                id(&c.confirmed),
                c.now.as_ref().map_or_else(|| "gone".to_string(), id),
                c.differences.join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}
