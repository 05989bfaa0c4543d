//! Checking a layout before anything is erased: on its own, and against the probed
//! host when there is one. Each finding names the option at fault and says, in a
//! sentence, what to change. One submodule per group of rules.

mod boot;

pub use boot::layout_needs;
mod encryption;
mod groups;
mod host;
mod mounts;
mod names;
mod values;

use super::error::OptionPath;
use super::model::*;
use crate::facts::{BootMode, HostFacts};
use serde::{Deserialize, Serialize};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
#[ts(rename = "DiagnosticSeverity")]
pub enum Severity {
    /// The install would fail or the machine would not boot.
    Error,
    /// It would work, but probably not as meant.
    Warning,
}

/// The check that produced a finding (stable names for the UI and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
#[ts(rename = "DiagnosticRule")]
pub enum Rule {
    /// A disk's device is not on the host (or not set).
    DeviceMissing,
    /// Two disks of the layout name the same device.
    DuplicateDevice,
    /// An option value disko or its tools would refuse.
    BadValue,
    /// Partitions or volumes do not fit on their device.
    DoesNotFit,
    /// More than one partition of a table is `100%`.
    SeveralFullSize,
    /// Nothing is mounted at `/`.
    NoRoot,
    /// Two things share a mountpoint.
    DuplicateMountpoint,
    /// UEFI host without a usable EFI system partition.
    NoEsp,
    /// BIOS host with GPT disks but no BIOS boot (EF02) partition.
    NoBiosBoot,
    /// An encrypted volume with no way to give or unlock its passphrase.
    NoPassphrase,
    /// Members of one array or pool differ in size.
    UnequalMembers,
    /// A volume group, pool, array or filesystem is referenced but not defined,
    /// or defined without members.
    UndefinedGroup,
    /// A disk named by a kernel name when a stable `/dev/disk/by-id/` name exists.
    UnstableDeviceName,
    /// A name, label or path with characters disko would pass to a shell command
    /// on the target unescaped (`crypted; reboot`, `a$(id)`, a line break).
    UnsafeText,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The check.
    pub rule: Rule,
    /// The option at fault: `disko.devices.disk.main.content.partitions.ESP.size`.
    pub path: String,
    /// What is wrong and what to do, in a sentence.
    pub message: String,
}

impl Diagnostic {
    pub(super) fn error(rule: Rule, path: &OptionPath, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            rule,
            path: path.to_string(),
            message: message.into(),
        }
    }
    pub(super) fn warning(rule: Rule, path: &OptionPath, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            rule,
            path: path.to_string(),
            message: message.into(),
        }
    }
}

/// Every finding for `layout`; with `facts`, also the ones that need the host
/// (devices, sizes, boot mode, stable names). Errors first, then warnings.
pub fn validate(layout: &DiskLayout, facts: Option<&HostFacts>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    values::check_values(layout, &mut out);
    names::check_names(layout, &mut out);
    values::check_full_size(layout, &mut out);
    mounts::check_root(layout, &mut out);
    mounts::check_duplicate_mounts(layout, &mut out);
    groups::check_groups(layout, &mut out);
    encryption::check_passphrases(layout, &mut out);
    if let Some(facts) = facts {
        host::check_devices(layout, facts, &mut out);
        host::check_space(layout, facts, &mut out);
        match facts.boot_mode {
            BootMode::Uefi => boot::check_esp(layout, &mut out),
            BootMode::Bios => boot::check_bios_boot(layout, &mut out),
        }
    }
    out.sort_by_key(|d| d.severity == Severity::Warning);
    out
}

pub(super) fn disk_path(name: &str) -> OptionPath {
    OptionPath::devices().child("disk").child(name)
}

pub(super) fn is_gpt_type(text: &str) -> bool {
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    let parts: Vec<&str> = text.split('-').collect();
    hex(text, 4)
        || (parts.len() == 5 && [8, 4, 4, 4, 12].iter().zip(&parts).all(|(n, p)| hex(p, *n)))
}

/// The EFI system partition's type GUID.
pub(super) const ESP_GUID: &str = "c12a7328-f81f-11d2-ba4b-00a0c93ec93b";
/// The BIOS boot partition's type GUID.
pub(super) const BIOS_BOOT_GUID: &str = "21686148-6449-6e6f-744e-656564454649";

pub(super) fn is_type(part: &GptPartition, code: &str, guid: &str) -> bool {
    part.type_
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case(code) || t.eq_ignore_ascii_case(guid))
}
