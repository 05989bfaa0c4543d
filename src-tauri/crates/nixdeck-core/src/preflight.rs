//! Preflight: what nixdeck checks before it lets nixos-anywhere erase a machine,
//! from the probe's [`HostFacts`] and what the chosen layout needs; and the disk
//! identity re-check done again immediately before the install starts.
//!
//! nixos-anywhere checks little itself (not the memory kexec needs, not whether
//! the disks it will erase are the ones the user meant), so every rule here
//! turns a failure deep inside an install into a sentence before it starts.
//! Each finding is an error (blocks the install) or a warning (needs an explicit
//! acknowledgement). The layout's side comes as a small plain struct so this
//! module does not depend on the disk layout model.

use serde::{Deserialize, Serialize};

use crate::facts::{BlockDevice, BootMode, HostFacts, Privilege};
pub use crate::tools::explain::Severity;

/// Memory below which nixos-anywhere's kexec installer does not fit (its docs:
/// "at least 1.5 GB of RAM", not counting swap).
pub const MIN_KEXEC_MEMORY_BYTES: u64 = 1_500_000_000;

/// What the layout to be installed needs from the machine.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct LayoutNeeds {
    /// The layout has an EFI system partition (type `EF00`, vfat at `/boot`).
    pub esp: bool,
    /// The layout has a BIOS boot partition (type `EF02`).
    pub bios_boot: bool,
    /// The layout partitions with GPT (BIOS then needs an `EF02` partition).
    pub gpt: bool,
    /// Every disk device the layout names (`disko.devices.disk.<n>.device`).
    pub disks: Vec<String>,
}

/// The rules, each with a stable id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(rename = "PreflightRule")]
pub enum Rule {
    /// Less memory than kexec needs.
    MemoryLow,
    /// The probe could not read the memory size.
    MemoryUnknown,
    /// Not x86_64 or aarch64.
    UnsupportedArch,
    /// The configuration's `system` differs from the machine's.
    SystemMismatch,
    /// Not Linux.
    NotLinux,
    /// Not root, no passwordless sudo/doas.
    NoRoot,
    /// `tar` missing.
    MissingTar,
    /// `cpio` missing.
    MissingCpio,
    /// No `setsid` with `--wait`.
    MissingSetsidWait,
    /// Running in a container.
    Container,
    /// UEFI machine, no ESP in the layout.
    NoEsp,
    /// BIOS machine, GPT layout without an EF02 partition.
    NoBiosBoot,
    /// A disk the layout names is not on the machine.
    DiskMissing,
    /// A disk the layout names holds the running system.
    DiskInUse,
    /// A disk is named by a kernel name that can change (`/dev/sda`).
    UnstableDiskName,
    /// The probe could not read some facts.
    ProbeIncomplete,
}

impl Rule {
    /// The rule's stable id.
    pub fn id(self) -> &'static str {
        match self {
            Rule::MemoryLow => "memory_low",
            Rule::MemoryUnknown => "memory_unknown",
            Rule::UnsupportedArch => "unsupported_arch",
            Rule::SystemMismatch => "system_mismatch",
            Rule::NotLinux => "not_linux",
            Rule::NoRoot => "no_root",
            Rule::MissingTar => "missing_tar",
            Rule::MissingCpio => "missing_cpio",
            Rule::MissingSetsidWait => "missing_setsid_wait",
            Rule::Container => "container",
            Rule::NoEsp => "no_esp",
            Rule::NoBiosBoot => "no_bios_boot",
            Rule::DiskMissing => "disk_missing",
            Rule::DiskInUse => "disk_in_use",
            Rule::UnstableDiskName => "unstable_disk_name",
            Rule::ProbeIncomplete => "probe_incomplete",
        }
    }
}

/// One preflight finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(rename = "PreflightFinding")]
pub struct Finding {
    pub rule: Rule,
    pub severity: Severity,
    /// What is wrong and what to do, in a sentence or two.
    pub message: String,
    /// The disk it is about, for disk rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub disk: Option<String>,
}

/// The result of a preflight.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Preflight {
    pub findings: Vec<Finding>,
}

/// Why an install may not start yet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PreflightError {
    /// Errors block the install.
    #[error("the install is blocked: {}", .0.join(" "))]
    Blocked(Vec<String>),
    /// Warnings that were not acknowledged.
    #[error("acknowledge these warnings first: {}", .0.join(", "))]
    Unacknowledged(Vec<&'static str>),
}

impl Preflight {
    /// Whether an error blocks the install.
    pub fn blocked(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }

    /// The warnings' rules: each needs an acknowledgement.
    pub fn warnings(&self) -> Vec<Rule> {
        let mut rules: Vec<Rule> = self
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .map(|f| f.rule)
            .collect();
        rules.dedup();
        rules
    }

    /// Whether the install may start, given the warnings the user acknowledged.
    pub fn may_start(&self, acknowledged: &[Rule]) -> Result<(), PreflightError> {
        let errors: Vec<String> = self
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| f.message.clone())
            .collect();
        if !errors.is_empty() {
            return Err(PreflightError::Blocked(errors));
        }
        let missing: Vec<&'static str> = self
            .warnings()
            .into_iter()
            .filter(|r| !acknowledged.contains(r))
            .map(Rule::id)
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(PreflightError::Unacknowledged(missing))
        }
    }

    /// The findings of one rule.
    pub fn of(&self, rule: Rule) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |f| f.rule == rule)
    }
}

fn push(
    out: &mut Vec<Finding>,
    rule: Rule,
    severity: Severity,
    message: String,
    disk: Option<&str>,
) {
    out.push(Finding {
        rule,
        severity,
        message,
        disk: disk.map(str::to_string),
    });
}

/// A size as people read it (decimal units, as disk vendors and lsblk -h show).
fn gb(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e12 {
        format!("{:.1} TB", b / 1e12)
    } else if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else {
        format!("{bytes} bytes")
    }
}

/// Runs every rule. `system` is the Nix system the host's configuration is built
/// for (`nixpkgs.hostPlatform`, e.g. `x86_64-linux`), when known.
pub fn check(facts: &HostFacts, layout: &LayoutNeeds, system: Option<&str>) -> Preflight {
    use Severity::{Error, Warning};
    let mut out = Vec::new();
    let installer = facts.is_nixos_installer;

    // Memory: kexec unpacks a whole NixOS installer into RAM.
    if facts.memory_bytes == 0 {
        push(
            &mut out,
            Rule::MemoryUnknown,
            Warning,
            "The probe could not read the target's memory size; nixos-anywhere needs about 1.5 GB \
             of RAM to switch into its installer."
                .into(),
            None,
        );
    } else if facts.memory_bytes < MIN_KEXEC_MEMORY_BYTES && !installer {
        push(
            &mut out,
            Rule::MemoryLow,
            Error,
            format!(
                "The target has {} of RAM; nixos-anywhere needs about 1.5 GB to switch into its \
                 installer (kexec), so the install would fail or hang. What still works: boot the \
                 machine from a NixOS installer image (ISO, USB, or the provider's rescue system) \
                 and install to that, which needs no kexec; or give the machine more memory.",
                gb(facts.memory_bytes)
            ),
            None,
        );
    }

    if !facts.kernel_name.is_empty() && facts.kernel_name != "Linux" {
        push(
            &mut out,
            Rule::NotLinux,
            Error,
            format!(
                "The target runs {}, not Linux; nixos-anywhere can only take over a Linux system. \
                 Boot it from a NixOS installer image instead.",
                facts.kernel_name
            ),
            None,
        );
    }

    // Architecture: the kexec images exist for x86_64 and aarch64 only.
    let arch_ok = matches!(facts.machine.as_str(), "x86_64" | "aarch64");
    if !arch_ok && !installer {
        push(
            &mut out,
            Rule::UnsupportedArch,
            Error,
            format!(
                "The target's CPU is {}; nixos-anywhere's installer images exist for x86_64 and \
                 aarch64 only. Boot the machine from a NixOS installer for its architecture.",
                if facts.machine.is_empty() {
                    "unknown"
                } else {
                    &facts.machine
                }
            ),
            None,
        );
    }
    if let (Some(wanted), Some(have)) = (system, facts.system.as_deref()) {
        if wanted != have {
            push(
                &mut out,
                Rule::SystemMismatch,
                Error,
                format!(
                    "The host's configuration is built for {wanted}, but the machine is {have}. Set \
                     the host's system to {have} (nixpkgs.hostPlatform) or pick the right machine."
                ),
                None,
            );
        }
    }

    if facts.privilege == Privilege::None {
        push(
            &mut out,
            Rule::NoRoot,
            Error,
            format!(
                "The login user {} is not root and has no sudo or doas without a password, so \
                 nixos-anywhere cannot take over the machine. Log in as root, or allow the user \
                 passwordless sudo (e.g. `{} ALL=(ALL) NOPASSWD: ALL`).",
                if facts.user.is_empty() {
                    "given"
                } else {
                    &facts.user
                },
                if facts.user.is_empty() {
                    "user"
                } else {
                    &facts.user
                },
            ),
            None,
        );
    }

    let tools = [
        (
            facts.tools.tar,
            Rule::MissingTar,
            "tar",
            "to unpack the installer",
        ),
        (
            facts.tools.cpio,
            Rule::MissingCpio,
            "cpio",
            "to build the installer's initrd",
        ),
        (
            facts.tools.setsid_wait,
            Rule::MissingSetsidWait,
            "setsid with --wait (util-linux)",
            "to run the kexec script",
        ),
    ];
    for (present, rule, name, why) in tools {
        if !present {
            push(
                &mut out,
                rule,
                Error,
                format!(
                    "The target has no {name}, which nixos-anywhere needs {why}; it would abort. \
                     Install it with the target's package manager, or boot a NixOS installer."
                ),
                None,
            );
        }
    }

    // nixos-anywhere itself only warns here ("kexec will likely not work") and skips
    // kexec on an installer, so this is a warning to acknowledge, not a block.
    if let Some(kind) = facts
        .container
        .as_deref()
        .filter(|c| !c.is_empty() && *c != "none" && !facts.is_nixos_installer)
    {
        push(
            &mut out,
            Rule::Container,
            Warning,
            format!(
                "The target is a {kind} container: it has no kernel of its own to replace, so kexec \
                 will most likely fail. Install NixOS on the machine (or VM) that hosts the container \
                 instead, unless you know this container can kexec."
            ),
            None,
        );
    }

    // Boot partitions against the probed boot mode.
    if !layout.disks.is_empty() {
        match facts.boot_mode {
            BootMode::Uefi if !layout.esp => push(
                &mut out,
                Rule::NoEsp,
                Error,
                "The machine boots with UEFI, but the layout has no EFI system partition (type EF00, \
                 vfat, mounted at /boot): it would not boot. Add an ESP of about 512 MB."
                    .into(),
                None,
            ),
            BootMode::Bios if layout.gpt && !layout.bios_boot => push(
                &mut out,
                Rule::NoBiosBoot,
                Error,
                "The machine boots with legacy BIOS and the layout uses GPT, but it has no BIOS boot \
                 partition (type EF02, 1 MB) for GRUB: it would not boot. Add one."
                    .into(),
                None,
            ),
            _ => {}
        }
    }

    // Disks: present, not the running system unawares, named stably.
    for name in &layout.disks {
        match facts.find_disk(name) {
            None => push(
                &mut out,
                Rule::DiskMissing,
                Error,
                format!(
                    "The layout names {name}, which the target does not have. Probe it again and \
                     pick one of its disks."
                ),
                Some(name),
            ),
            Some(disk) => {
                if running_system_on(disk) {
                    push(
                        &mut out,
                        Rule::DiskInUse,
                        Warning,
                        format!(
                            "{name} holds the running system ({}): the install erases it, with \
                             everything on it.",
                            describe(disk)
                        ),
                        Some(name),
                    );
                }
                // An error, not a warning: kernel names can shift after kexec, and
                // then disko erases another disk than the one confirmed.
                if !name.starts_with("/dev/disk/by-") && !disk.by_id.is_empty() {
                    push(
                        &mut out,
                        Rule::UnstableDiskName,
                        Error,
                        format!(
                            "The layout names {name}; such names can change between boots and after \
                             kexec, and then another disk is erased. Use {} instead.",
                            disk.stable_name()
                        ),
                        Some(name),
                    );
                }
            }
        }
    }

    for warning in &facts.warnings {
        push(
            &mut out,
            Rule::ProbeIncomplete,
            Warning,
            format!("The probe could not read everything: {warning}."),
            None,
        );
    }

    Preflight { findings: out }
}

fn running_system_on(disk: &BlockDevice) -> bool {
    disk.all_mountpoints()
        .iter()
        .any(|m| matches!(*m, "/" | "/boot" | "/usr" | "/nix" | "[SWAP]"))
}

fn describe(disk: &BlockDevice) -> String {
    let mut parts = Vec::new();
    if let Some(model) = disk.display_model() {
        parts.push(model.to_string());
    }
    parts.push(gb(disk.size_bytes));
    let mounts = disk.all_mountpoints();
    if !mounts.is_empty() {
        parts.push(format!("mounted at {}", mounts.join(", ")));
    }
    parts.join(", ")
}

/// What identifies a disk the user confirmed for erasing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct DiskIdentity {
    /// The name in the layout (as given: by-id or `/dev/sdX`).
    pub name: String,
    /// The device it resolved to (`/dev/sda`).
    pub path: String,
    /// Its best `/dev/disk/by-id/` name.
    pub stable_name: String,
    pub serial: Option<String>,
    /// Model, untrimmed.
    pub model: Option<String>,
    pub size_bytes: u64,
}

impl DiskIdentity {
    /// The identity of the disk `name` designates in `facts`, if it is there.
    pub fn of(facts: &HostFacts, name: &str) -> Option<DiskIdentity> {
        let disk = facts.find_disk(name)?;
        Some(DiskIdentity {
            name: name.to_string(),
            path: disk.path.clone(),
            stable_name: disk.stable_name().to_string(),
            serial: disk.serial.clone(),
            model: disk.model.clone(),
            size_bytes: disk.size_bytes,
        })
    }
}

/// A difference between what the user confirmed and what the target has now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct IdentityChange {
    /// The layout's name for the disk.
    pub name: String,
    /// What was confirmed on the review step.
    pub confirmed: DiskIdentity,
    /// What the target has under that name now (`None`: gone).
    pub now: Option<DiskIdentity>,
    /// What differs, in words (`size 20.0 GB → 10.0 GB`).
    pub differences: Vec<String>,
}

/// Compares the disks confirmed on the review step with a fresh probe; any
/// difference must stop the install (shown old beside new).
pub fn recheck_disks(confirmed: &[DiskIdentity], now: &HostFacts) -> Vec<IdentityChange> {
    let mut out = Vec::new();
    for old in confirmed {
        let new = DiskIdentity::of(now, &old.name);
        let differences = match &new {
            None => vec![format!("{} is no longer on the target", old.name)],
            Some(new) => {
                let mut d = Vec::new();
                if new.stable_name != old.stable_name {
                    d.push(format!(
                        "stable name {} → {}",
                        old.stable_name, new.stable_name
                    ));
                }
                if new.path != old.path {
                    d.push(format!("device {} → {}", old.path, new.path));
                }
                if new.serial != old.serial {
                    d.push(format!(
                        "serial {} → {}",
                        old.serial.as_deref().unwrap_or("none"),
                        new.serial.as_deref().unwrap_or("none")
                    ));
                }
                if new.model != old.model {
                    d.push(format!(
                        "model {} → {}",
                        old.model.as_deref().map_or("none", str::trim),
                        new.model.as_deref().map_or("none", str::trim)
                    ));
                }
                if new.size_bytes != old.size_bytes {
                    d.push(format!(
                        "size {} → {}",
                        gb(old.size_bytes),
                        gb(new.size_bytes)
                    ));
                }
                d
            }
        };
        if !differences.is_empty() {
            out.push(IdentityChange {
                name: old.name.clone(),
                confirmed: old.clone(),
                now: new,
                differences,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(name: &str) -> HostFacts {
        let text = match name {
            "uefi-vm" => include_str!("../../../../tests/fixtures/facts/uefi-vm.json"),
            "bios-vps-small" => {
                include_str!("../../../../tests/fixtures/facts/bios-vps-small.json")
            }
            "lxc-container" => include_str!("../../../../tests/fixtures/facts/lxc-container.json"),
            "aarch64-installer" => {
                include_str!("../../../../tests/fixtures/facts/aarch64-installer.json")
            }
            other => panic!("no fixture {other}"),
        };
        serde_json::from_str(text).expect("fixture is HostFacts")
    }

    fn uefi_layout(disk: &str) -> LayoutNeeds {
        LayoutNeeds {
            esp: true,
            bios_boot: false,
            gpt: true,
            disks: vec![disk.into()],
        }
    }

    const VDA: &str = "/dev/disk/by-id/virtio-nixdeck-disk-0001";

    fn rules(p: &Preflight) -> Vec<Rule> {
        p.findings.iter().map(|f| f.rule).collect()
    }

    #[test]
    fn a_good_machine_passes() {
        let p = check(&load("uefi-vm"), &uefi_layout(VDA), Some("x86_64-linux"));
        assert_eq!(p.findings, [], "{p:#?}");
        assert!(!p.blocked());
        assert_eq!(p.may_start(&[]), Ok(()));
    }

    #[test]
    fn memory_rule() {
        let mut f = load("uefi-vm");
        f.memory_bytes = 1_000_000_000;
        let p = check(&f, &uefi_layout(VDA), None);
        assert_eq!(rules(&p), [Rule::MemoryLow]);
        assert!(p.findings[0].message.contains("1.0 GB"));
        assert!(p.findings[0].message.contains("installer image"));
        assert!(p.blocked());
        // Just enough.
        f.memory_bytes = MIN_KEXEC_MEMORY_BYTES;
        assert!(check(&f, &uefi_layout(VDA), None).findings.is_empty());
        // Unknown.
        f.memory_bytes = 0;
        let p = check(&f, &uefi_layout(VDA), None);
        assert_eq!(rules(&p), [Rule::MemoryUnknown]);
        assert_eq!(p.findings[0].severity, Severity::Warning);
        // An installer already booted needs no kexec: little memory is fine.
        let p = check(
            &load("aarch64-installer"),
            &uefi_layout("/dev/disk/by-id/nvme-eui.0025385b71b0b1c2"),
            Some("aarch64-linux"),
        );
        assert!(!rules(&p).contains(&Rule::MemoryLow), "{p:#?}");
    }

    #[test]
    fn small_bios_vps_fires_memory_tools_and_boot_rules() {
        let f = load("bios-vps-small");
        let layout = LayoutNeeds {
            esp: true,
            bios_boot: false,
            gpt: true,
            disks: vec!["/dev/sda".into()],
        };
        let p = check(&f, &layout, Some("x86_64-linux"));
        let r = rules(&p);
        assert!(r.contains(&Rule::MemoryLow), "{r:?}");
        assert!(r.contains(&Rule::MissingCpio), "{r:?}");
        assert!(!r.contains(&Rule::MissingTar), "{r:?}");
        assert!(r.contains(&Rule::NoBiosBoot), "{r:?}");
        assert!(r.contains(&Rule::DiskInUse), "{r:?}");
        assert!(r.contains(&Rule::UnstableDiskName), "{r:?}");
        assert!(!r.contains(&Rule::NoRoot), "sudo works: {r:?}");
        let unstable = p.of(Rule::UnstableDiskName).next().expect("finding");
        assert!(unstable
            .message
            .contains("/dev/disk/by-id/ata-QEMU_HARDDISK_QM00001"));
        assert_eq!(unstable.disk.as_deref(), Some("/dev/sda"));
        // With an EF02 partition the boot rule is satisfied.
        let layout = LayoutNeeds {
            bios_boot: true,
            ..layout
        };
        assert!(!rules(&check(&f, &layout, None)).contains(&Rule::NoBiosBoot));
        // MBR on BIOS needs no EF02.
        let layout = LayoutNeeds {
            bios_boot: false,
            gpt: false,
            ..layout
        };
        assert!(!rules(&check(&f, &layout, None)).contains(&Rule::NoBiosBoot));
    }

    #[test]
    fn uefi_needs_an_esp() {
        let layout = LayoutNeeds {
            esp: false,
            bios_boot: true,
            ..uefi_layout(VDA)
        };
        let p = check(&load("uefi-vm"), &layout, None);
        assert_eq!(rules(&p), [Rule::NoEsp]);
        assert_eq!(p.findings[0].severity, Severity::Error);
    }

    #[test]
    fn container_without_root_or_setsid() {
        let p = check(&load("lxc-container"), &uefi_layout("/dev/sda"), None);
        let r = rules(&p);
        assert!(r.contains(&Rule::Container), "{r:?}");
        assert!(r.contains(&Rule::NoRoot), "{r:?}");
        assert!(r.contains(&Rule::MissingSetsidWait), "{r:?}");
        assert!(r.contains(&Rule::DiskMissing), "{r:?}");
        assert!(r.contains(&Rule::ProbeIncomplete), "{r:?}");
        let no_root = p.of(Rule::NoRoot).next().expect("finding");
        assert!(no_root.message.contains("deploy"), "{}", no_root.message);
        let container = p.of(Rule::Container).next().expect("c");
        assert!(container.message.contains("lxc"));
        // As in nixos-anywhere, which only warns: acknowledgeable, not a block.
        assert_eq!(container.severity, Severity::Warning);

        let mut installer = load("lxc-container");
        installer.is_nixos_installer = true;
        let p = check(&installer, &uefi_layout("/dev/sda"), None);
        assert!(
            p.of(Rule::Container).next().is_none(),
            "no kexec, no warning"
        );
    }

    #[test]
    fn architecture_and_system() {
        let mut f = load("uefi-vm");
        let p = check(&f, &uefi_layout(VDA), Some("aarch64-linux"));
        assert_eq!(rules(&p), [Rule::SystemMismatch]);
        assert!(p.findings[0].message.contains("aarch64-linux"));
        f.machine = "riscv64".into();
        f.system = Some("riscv64-linux".into());
        let p = check(&f, &uefi_layout(VDA), None);
        assert_eq!(rules(&p), [Rule::UnsupportedArch]);
        // Booted into an installer: no kexec, so no image needed for the arch.
        f.is_nixos_installer = true;
        assert!(check(&f, &uefi_layout(VDA), None).findings.is_empty());
        let mut f = load("uefi-vm");
        f.kernel_name = "FreeBSD".into();
        assert_eq!(rules(&check(&f, &uefi_layout(VDA), None)), [Rule::NotLinux]);
    }

    #[test]
    fn missing_disk_and_tools_each_fire() {
        let mut f = load("uefi-vm");
        f.tools.tar = false;
        let p = check(&f, &uefi_layout("/dev/disk/by-id/nvme-gone"), None);
        assert_eq!(rules(&p), [Rule::MissingTar, Rule::DiskMissing]);
        assert_eq!(
            p.findings[1].disk.as_deref(),
            Some("/dev/disk/by-id/nvme-gone")
        );
    }

    #[test]
    fn warnings_need_acknowledgement() {
        let f = load("uefi-vm");
        let stable = f.disks[0].stable_name().to_string();
        let mut layout = uefi_layout(&stable);
        layout.disks = vec![stable.clone()];
        let p = check(&f, &layout, None);
        assert_eq!(rules(&p), [Rule::DiskInUse]);
        assert!(!p.blocked());
        assert_eq!(
            p.may_start(&[]),
            Err(PreflightError::Unacknowledged(vec!["disk_in_use"]))
        );
        assert_eq!(p.may_start(&[Rule::DiskInUse]), Ok(()));
        let mut f2 = f.clone();
        f2.tools.cpio = false;
        let p = check(&f2, &layout, None);
        assert!(matches!(
            p.may_start(&[Rule::DiskInUse]),
            Err(PreflightError::Blocked(_))
        ));
    }

    #[test]
    fn a_kernel_name_for_an_erased_disk_with_a_by_id_name_blocks() {
        let f = load("uefi-vm");
        let mut layout = uefi_layout("/dev/vda");
        layout.disks = vec!["/dev/vda".into()];
        let p = check(&f, &layout, None);
        assert_eq!(rules(&p), [Rule::DiskInUse, Rule::UnstableDiskName]);
        assert!(p.blocked());
        assert!(matches!(
            p.may_start(&[Rule::DiskInUse, Rule::UnstableDiskName]),
            Err(PreflightError::Blocked(_))
        ));
        let finding = p.of(Rule::UnstableDiskName).next().unwrap();
        assert!(
            finding.message.contains(f.disks[0].stable_name()),
            "{}",
            finding.message
        );
    }

    #[test]
    fn disk_identity_recheck() {
        let f = load("uefi-vm");
        let confirmed = vec![DiskIdentity::of(&f, VDA).expect("disk")];
        assert_eq!(recheck_disks(&confirmed, &f), []);
        // A different disk behind the same name.
        let mut g = f.clone();
        g.disks[1].size_bytes /= 2;
        g.disks[1].serial = Some("OTHER".into());
        let changes = recheck_disks(&confirmed, &g);
        assert_eq!(changes.len(), 1);
        assert_eq!(
            changes[0].differences.len(),
            2,
            "{:?}",
            changes[0].differences
        );
        assert!(changes[0].differences[1].starts_with("size 21.5 GB → 10.7 GB"));
        assert_eq!(
            changes[0].now.as_ref().map(|n| n.size_bytes),
            Some(g.disks[1].size_bytes)
        );
        // Gone.
        let mut h = f.clone();
        h.disks.clear();
        let changes = recheck_disks(&confirmed, &h);
        assert_eq!(changes[0].now, None);
        // `/dev/vda` now maps to another by-id name.
        let by_path = vec![DiskIdentity::of(&f, "/dev/vda").expect("disk")];
        let mut k = f.clone();
        k.disks[0].by_id = vec!["/dev/disk/by-id/virtio-other".into()];
        let changes = recheck_disks(&by_path, &k);
        assert!(changes[0].differences[0].starts_with("stable name"));
    }
}
