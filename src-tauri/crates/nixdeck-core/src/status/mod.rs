//! What a NixOS host runs right now, and whether that is what the flake says:
//! the current and booted system, the system generations, uptime, and the
//! drift verdict. The status script and its parser are in [`report`]; the
//! engine carries the script over SSH.

use serde::{Deserialize, Serialize};

pub mod drift;
pub mod report;

pub use drift::{decide_drift, Drift, DriftBasis, DriftInput, DriftVerdict};

/// The system profile every NixOS generation is a link of.
pub const SYSTEM_PROFILE: &str = "/nix/var/nix/profiles/system";

/// One answer of a host to the status script.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct HostStatus {
    /// Whether the host answered (always true for a parsed answer; a fleet
    /// view fills false for hosts that did not).
    pub reachable: bool,
    /// `hostname` on the target.
    pub hostname: String,
    /// The running system's `nixos-version` (`24.11.20250101.abcdef0 (Vicuna)`).
    pub nixos_version: Option<String>,
    /// `readlink -f /run/current-system`: the system that runs now.
    pub current_system: Option<String>,
    /// `readlink -f /run/booted-system`: the system the machine booted.
    pub booted_system: Option<String>,
    /// The running system is not the booted one (a `switch` since boot
    /// changed it); rebooting would start the profile's system.
    pub reboot_pending: bool,
    /// Seconds since boot (`/proc/uptime`).
    pub uptime_secs: Option<u64>,
    /// The generation the system profile points to: what the next boot starts.
    #[serde(default)]
    pub profile_generation: Option<u32>,
    /// The system generations, oldest first.
    pub generations: Vec<Generation>,
    /// Things that could not be read, in words.
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// One system generation: `/nix/var/nix/profiles/system-<number>-link`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Generation {
    pub number: u32,
    /// When it was made: the link's mtime, seconds since the Unix epoch (as
    /// `nixos-rebuild list-generations` dates it).
    pub date: u64,
    /// The system it links to.
    pub store_path: String,
    /// That system's `nixos-version`, when it has one.
    pub nixos_version: Option<String>,
    /// It is the running system.
    pub current: bool,
    /// It is the system the machine booted.
    pub booted: bool,
    /// The system profile points to it (the default of the next boot).
    #[serde(default)]
    pub profile: bool,
}

impl HostStatus {
    /// The generation whose system runs now (the newest one when several
    /// generations link the same system).
    pub fn current_generation(&self) -> Option<&Generation> {
        self.generations.iter().rev().find(|g| g.current)
    }

    /// The generation `nixos-rebuild --rollback` would go to: the newest one
    /// older than the profile's.
    pub fn previous_generation(&self) -> Option<&Generation> {
        let profile = self.profile_generation?;
        self.generations.iter().rev().find(|g| g.number < profile)
    }
}

/// Whether `path` is a plain Nix store path: `/nix/store/<32 base-32
/// characters>-<name>` with the characters Nix allows in names. Nothing else
/// from a probed machine is kept as a path.
pub fn is_store_path(path: &str) -> bool {
    let Some(rest) = path.strip_prefix("/nix/store/") else {
        return false;
    };
    let Some((hash, name)) = rest.split_at_checked(32) else {
        return false;
    };
    let Some(name) = name.strip_prefix('-') else {
        return false;
    };
    // Nix's base-32 alphabet has no e, o, u or t.
    hash.chars()
        .all(|c| c.is_ascii_digit() || (c.is_ascii_lowercase() && !"eout".contains(c)))
        && !name.is_empty()
        && name.len() <= 211
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-._?=".contains(c))
}

#[cfg(test)]
mod tests;
