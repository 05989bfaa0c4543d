//! Checking a layout before anything is erased: on its own, and against the probed
//! host when there is one. Each finding names the option at fault and says, in a
//! sentence, what to change.

use super::error::OptionPath;
use super::model::*;
use super::size::{human_bytes, is_valid_gpt_size, parse_lv_size, parse_sgdisk_position};
use super::space::{plan_for_host, GroupKind};
use super::walk::{all_mounts, for_each_content, mounts_on};
use crate::facts::{BootMode, HostFacts};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The install would fail or the machine would not boot.
    Error,
    /// It would work, but probably not as meant.
    Warning,
}

/// The check that produced a finding (stable names for the UI and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
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
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    fn error(rule: Rule, path: &OptionPath, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            rule,
            path: path.to_string(),
            message: message.into(),
        }
    }
    fn warning(rule: Rule, path: &OptionPath, message: impl Into<String>) -> Self {
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
    check_values(layout, &mut out);
    check_full_size(layout, &mut out);
    check_root(layout, &mut out);
    check_duplicate_mounts(layout, &mut out);
    check_groups(layout, &mut out);
    check_passphrases(layout, &mut out);
    if let Some(facts) = facts {
        check_devices(layout, facts, &mut out);
        check_space(layout, facts, &mut out);
        match facts.boot_mode {
            BootMode::Uefi => check_esp(layout, &mut out),
            BootMode::Bios => check_bios_boot(layout, &mut out),
        }
    }
    out.sort_by_key(|d| d.severity == Severity::Warning);
    out
}

fn disk_path(name: &str) -> OptionPath {
    OptionPath::devices().child("disk").child(name)
}

fn is_gpt_type(text: &str) -> bool {
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    let parts: Vec<&str> = text.split('-').collect();
    hex(text, 4)
        || (parts.len() == 5 && [8, 4, 4, 4, 12].iter().zip(&parts).all(|(n, p)| hex(p, *n)))
}

/// The EFI system partition's type GUID.
const ESP_GUID: &str = "c12a7328-f81f-11d2-ba4b-00a0c93ec93b";
/// The BIOS boot partition's type GUID.
const BIOS_BOOT_GUID: &str = "21686148-6449-6e6f-744e-656564454649";

fn is_type(part: &GptPartition, code: &str, guid: &str) -> bool {
    part.type_
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case(code) || t.eq_ignore_ascii_case(guid))
}

/// Option values disko's types or the tools would refuse.
fn check_values(layout: &DiskLayout, out: &mut Vec<Diagnostic>) {
    let mut devices: HashMap<&str, &str> = HashMap::new();
    for (name, disk) in layout.disk.iter().flatten() {
        if let Some(device) = disk.device.as_deref() {
            if let Some(first) = devices.insert(device, name) {
                devices.insert(device, first);
                out.push(Diagnostic::error(
                    Rule::DuplicateDevice,
                    &disk_path(name).child("device"),
                    format!("disk `{first}` already uses `{device}`: each disk of the layout needs a device of its own"),
                ));
            }
        }
        if disk.device.is_none() {
            out.push(Diagnostic::error(
                Rule::DeviceMissing,
                &disk_path(name).child("device"),
                format!("disk `{name}` has no device: set `device` to the disk to install on, e.g. a /dev/disk/by-id/ path"),
            ));
        }
    }
    for_each_content(layout, &mut |content, path| match content {
        Content::Gpt(gpt) => {
            for (name, part) in gpt.partitions.iter().flatten() {
                let p = path.child("partitions").child(name);
                if let Some(t) = &part.type_ {
                    if !is_gpt_type(t) {
                        out.push(Diagnostic::error(Rule::BadValue, &p.child("type"), format!(
                            "`{t}` is not a partition type: use a 4-digit sgdisk code such as EF00, EF02, 8300, 8200 or a full type GUID")));
                    }
                }
                if let Some(size) = &part.size {
                    if !is_valid_gpt_size(size) {
                        out.push(Diagnostic::error(Rule::BadValue, &p.child("size"), format!(
                            "`{size}` is not a partition size: write `100%` or a whole number with K, M, G or T, e.g. `512M`")));
                    }
                }
                for (option, value) in [("start", &part.start), ("end", &part.end)] {
                    if let Some(v) = value {
                        if parse_sgdisk_position(v).is_none() {
                            out.push(Diagnostic::error(Rule::BadValue, &p.child(option), format!(
                                "`{v}` is not a position sgdisk understands: use e.g. `1M`, `+512M`, `-0` or `0`")));
                        }
                    }
                }
            }
        }
        Content::Filesystem(fs) if fs.format.is_none() => {
            out.push(Diagnostic::error(
                Rule::BadValue,
                &path.child("format"),
                "this filesystem has no format: set format, e.g. ext4, vfat, xfs or btrfs",
            ));
        }
        Content::Luks(luks) if luks.name.is_none() => {
            out.push(Diagnostic::error(Rule::BadValue, &path.child("name"),
                "this LUKS volume has no name: set name, e.g. \"crypted\" (it becomes /dev/mapper/<name>)"));
        }
        Content::Swap(swap) => {
            if let Some(policy) = &swap.discard_policy {
                if !["once", "pages", "both"].contains(&policy.as_str()) {
                    out.push(Diagnostic::error(
                        Rule::BadValue,
                        &path.child("discardPolicy"),
                        format!("`{policy}` is not a discard policy: use once, pages or both"),
                    ));
                }
            }
        }
        _ => {}
    });
    for (vg_name, vg) in layout.lvm_vg.iter().flatten() {
        for (name, lv) in vg.lvs.iter().flatten() {
            let p = OptionPath::devices()
                .child("lvm_vg")
                .child(vg_name)
                .child("lvs")
                .child(name);
            match &lv.size {
                None => out.push(Diagnostic::error(
                    Rule::BadValue,
                    &p.child("size"),
                    format!("logical volume `{name}` has no size: set e.g. `20G` or `100%FREE`"),
                )),
                Some(size) if parse_lv_size(size).is_none() => out.push(Diagnostic::error(
                    Rule::BadValue,
                    &p.child("size"),
                    format!("`{size}` is not an LVM size: write e.g. `20G`, `100%FREE` or `50%VG`"),
                )),
                _ => {}
            }
        }
    }
    for (name, nodev) in layout.nodev.iter().flatten() {
        if nodev.fs_type.is_none() {
            out.push(Diagnostic::error(
                Rule::BadValue,
                &OptionPath::devices()
                    .child("nodev")
                    .child(name)
                    .child("fsType"),
                format!("`{name}` has no fsType: set it, e.g. \"tmpfs\""),
            ));
        }
    }
    for (name, md) in layout.mdadm.iter().flatten() {
        if let Some(m) = &md.metadata {
            if !["1", "1.0", "1.1", "1.2", "default", "ddf", "imsm"].contains(&m.as_str()) {
                out.push(Diagnostic::error(
                    Rule::BadValue,
                    &OptionPath::devices()
                        .child("mdadm")
                        .child(name)
                        .child("metadata"),
                    format!(
                    "`{m}` is not an mdadm metadata version: use 1.0 (for an ESP), 1.2 or default"),
                ));
            }
        }
    }
}

/// More than one `100%` partition in a table.
fn check_full_size(layout: &DiskLayout, out: &mut Vec<Diagnostic>) {
    for_each_content(layout, &mut |content, path| {
        let Content::Gpt(gpt) = content else { return };
        let mut first: Option<&str> = None;
        for (name, part) in gpt.partitions.iter().flatten() {
            if part.size.as_deref() != Some("100%") {
                continue;
            }
            match first {
                None => first = Some(name),
                Some(taken) => out.push(Diagnostic::error(
                    Rule::SeveralFullSize,
                    &path.child("partitions").child(name).child("size"),
                    format!("only one partition can take the rest of the disk and `{taken}` already does (`100%`): give `{name}` a fixed size such as `20G`"),
                )),
            }
        }
    });
}

fn check_root(layout: &DiskLayout, out: &mut Vec<Diagnostic>) {
    if !all_mounts(layout).iter().any(|m| m.mountpoint == "/") {
        out.push(Diagnostic::error(
            Rule::NoRoot,
            &OptionPath::devices(),
            "nothing is mounted at `/`: set the mountpoint of one filesystem, btrfs subvolume or ZFS dataset to `/`",
        ));
    }
}

fn check_duplicate_mounts(layout: &DiskLayout, out: &mut Vec<Diagnostic>) {
    let mut seen: HashMap<String, String> = HashMap::new();
    for mount in all_mounts(layout) {
        let normalized = match mount.mountpoint.trim_end_matches('/') {
            "" => "/".to_string(),
            m => m.to_string(),
        };
        if let Some(first) = seen.get(&normalized) {
            out.push(Diagnostic::error(
                Rule::DuplicateMountpoint,
                &mount.path,
                format!("`{}` is already the mountpoint of {first}: each mountpoint can be used once, change one of them", mount.mountpoint),
            ));
        } else {
            seen.insert(normalized, mount.path.to_string());
        }
    }
}

/// Groups referenced by members but not defined, and groups without members.
fn check_groups(layout: &DiskLayout, out: &mut Vec<Diagnostic>) {
    let mut used: Vec<(GroupKind, String)> = Vec::new();
    for_each_content(layout, &mut |content, path| {
        let (kind, name, option, defined, what, section) = match content {
            Content::LvmPv(pv) => (
                GroupKind::LvmVg,
                &pv.vg,
                "vg",
                layout
                    .lvm_vg
                    .as_ref()
                    .map(|m| m.keys().cloned().collect::<Vec<_>>()),
                "volume group",
                "lvm_vg",
            ),
            Content::MdRaid(md) => (
                GroupKind::Mdadm,
                &md.name,
                "name",
                layout.mdadm.as_ref().map(|m| m.keys().cloned().collect()),
                "mdadm array",
                "mdadm",
            ),
            Content::Zfs(z) => (
                GroupKind::Zpool,
                &z.pool,
                "pool",
                layout.zpool.as_ref().map(|m| m.keys().cloned().collect()),
                "ZFS pool",
                "zpool",
            ),
            Content::Bcachefs(b) => (
                GroupKind::Bcachefs,
                &b.filesystem,
                "filesystem",
                layout
                    .bcachefs_filesystems
                    .as_ref()
                    .map(|m| m.keys().cloned().collect()),
                "bcachefs filesystem",
                "bcachefs_filesystems",
            ),
            _ => return,
        };
        let Some(name) = name else {
            out.push(Diagnostic::error(
                Rule::UndefinedGroup,
                &path.child(option),
                format!(
                    "this {what} member does not say which {what} it belongs to: set `{option}`"
                ),
            ));
            return;
        };
        used.push((kind, name.clone()));
        if !defined.unwrap_or_default().contains(name) {
            out.push(Diagnostic::error(
                Rule::UndefinedGroup,
                &path.child(option),
                format!("{what} `{name}` is not defined: add `disko.devices.{section}.{}` or pick an existing one", crate::nix::attr_name(name)),
            ));
        }
    });
    let root = OptionPath::devices();
    let mut unused = |kind: GroupKind,
                      names: Vec<&String>,
                      section: &str,
                      what: &str,
                      member: &str| {
        for name in names {
            if !used.iter().any(|(k, n)| *k == kind && n == name) {
                out.push(Diagnostic::error(
                    Rule::UndefinedGroup,
                    &root.child(section).child(name),
                    format!("{what} `{name}` has no member device: give a partition or disk the content `{member}` with this name, or remove it"),
                ));
            }
        }
    };
    unused(
        GroupKind::LvmVg,
        layout.lvm_vg.iter().flat_map(|m| m.keys()).collect(),
        "lvm_vg",
        "volume group",
        "type = \"lvm_pv\"; vg = …",
    );
    unused(
        GroupKind::Mdadm,
        layout.mdadm.iter().flat_map(|m| m.keys()).collect(),
        "mdadm",
        "mdadm array",
        "type = \"mdraid\"; name = …",
    );
    unused(
        GroupKind::Zpool,
        layout.zpool.iter().flat_map(|m| m.keys()).collect(),
        "zpool",
        "ZFS pool",
        "type = \"zfs\"; pool = …",
    );
    unused(
        GroupKind::Bcachefs,
        layout
            .bcachefs_filesystems
            .iter()
            .flat_map(|m| m.keys())
            .collect(),
        "bcachefs_filesystems",
        "bcachefs filesystem",
        "type = \"bcachefs\"; filesystem = …",
    );
    for (vg_name, vg) in layout.lvm_vg.iter().flatten() {
        let lvs = vg.lvs.as_ref();
        for (name, lv) in lvs.into_iter().flatten() {
            if let Some(pool) = &lv.pool {
                let is_pool = lvs
                    .and_then(|l| l.get(pool))
                    .is_some_and(|p| p.lvm_type.as_deref() == Some("thin-pool"));
                if !is_pool {
                    out.push(Diagnostic::error(
                        Rule::UndefinedGroup,
                        &root.child("lvm_vg").child(vg_name).child("lvs").child(name).child("pool"),
                        format!("thin pool `{pool}` is not a logical volume of `{vg_name}` with lvm_type = \"thin-pool\": add it or fix the name"),
                    ));
                }
            }
        }
    }
}

/// Encrypted volumes: a passphrase source for formatting, and an unlock at boot
/// for the one holding `/`.
fn check_passphrases(layout: &DiskLayout, out: &mut Vec<Diagnostic>) {
    for_each_content(layout, &mut |content, path| {
        let Content::Luks(luks) = content else { return };
        let name = luks.name.as_deref().unwrap_or("?");
        let settings_key = luks
            .settings
            .as_ref()
            .and_then(|s| s.get("keyFile"))
            .filter(|v| !v.is_null());
        let has_source = luks.password_file.is_some()
            || luks.key_file.is_some()
            || settings_key.is_some()
            || luks.enroll_fido2 == Some(true);
        if luks.ask_password == Some(false) && !has_source {
            out.push(Diagnostic::error(
                Rule::NoPassphrase,
                &path.child("askPassword"),
                format!("LUKS volume `{name}` gets no passphrase: with askPassword = false set passwordFile (nixos-anywhere copies it with --disk-encryption-keys) or settings.keyFile, or set askPassword = true"),
            ));
        }
        let holds_root = mounts_on(layout, content, path)
            .iter()
            .any(|m| m.mountpoint == "/");
        if !holds_root {
            return;
        }
        if luks.initrd_unlock == Some(false) {
            out.push(Diagnostic::error(
                Rule::NoPassphrase,
                &path.child("initrdUnlock"),
                format!("`/` is inside LUKS volume `{name}` but initrdUnlock = false, so nothing unlocks it at boot: remove initrdUnlock or set it to true"),
            ));
        } else if let Some(Value::String(key)) = settings_key {
            let fallback = luks
                .settings
                .as_ref()
                .and_then(|s| s.get("fallbackToPassword"))
                == Some(&Value::Bool(true));
            if !fallback {
                out.push(Diagnostic::warning(
                    Rule::NoPassphrase,
                    &path.child("settings").child("keyFile"),
                    format!("`/` is unlocked at boot only with the key file `{key}`, which must then exist in the initrd: set settings.fallbackToPassword = true to be asked for the passphrase instead"),
                ));
            }
        }
    });
}

fn describe(disk: &crate::facts::BlockDevice) -> String {
    let mut text = disk.path.clone();
    let model = disk.display_model().unwrap_or("");
    text.push_str(&format!(
        " ({}{}{})",
        model,
        if model.is_empty() { "" } else { ", " },
        human_bytes(disk.size_bytes)
    ));
    text
}

/// Kernel names (`/dev/sda`, `/dev/nvme0n1`) can change between boots.
fn is_kernel_name(device: &str) -> bool {
    device.starts_with("/dev/")
        && !device.starts_with("/dev/disk/")
        && !device.starts_with("/dev/mapper/")
}

fn check_devices(layout: &DiskLayout, facts: &HostFacts, out: &mut Vec<Diagnostic>) {
    let host = if facts.hostname.is_empty() {
        &facts.address
    } else {
        &facts.hostname
    };
    for (name, disk) in layout.disk.iter().flatten() {
        let Some(device) = &disk.device else { continue };
        let path = disk_path(name).child("device");
        match facts.find_disk(device) {
            None => {
                let candidates: Vec<String> = facts
                    .disks
                    .iter()
                    .filter(|d| d.is_install_candidate())
                    .map(describe)
                    .collect();
                out.push(Diagnostic::error(
                    Rule::DeviceMissing,
                    &path,
                    if candidates.is_empty() {
                        format!("`{device}` does not exist on {host}, which shows no disk to install on: check the probe")
                    } else {
                        format!("`{device}` does not exist on {host}: pick one of its disks: {}", candidates.join(", "))
                    },
                ));
            }
            Some(found) => {
                if is_kernel_name(device) {
                    if let Some(stable) = found.by_id.first() {
                        out.push(Diagnostic::warning(
                            Rule::UnstableDeviceName,
                            &path,
                            format!("`{device}` can name a different disk after a reboot or when disks are added: use its stable name `{stable}`"),
                        ));
                    }
                }
            }
        }
    }
}

/// Sizes that do not fit the probed disks, and members of unequal size.
fn check_space(layout: &DiskLayout, facts: &HostFacts, out: &mut Vec<Diagnostic>) {
    let space = plan_for_host(layout, facts);
    for plan in &space.plans {
        for problem in &plan.problems {
            out.push(Diagnostic {
                severity: Severity::Error,
                rule: Rule::DoesNotFit,
                path: problem.path.clone(),
                message: format!(
                    "{} ({} device)",
                    capitalize(&problem.message),
                    human_bytes(plan.size)
                ),
            });
        }
    }
    let root = OptionPath::devices();
    let mut check = |kind: GroupKind, section: &str, name: &str, what: &str| {
        let members: Vec<_> = space
            .members
            .iter()
            .filter(|m| m.kind == kind && m.group == name)
            .collect();
        let (Some(min), Some(max)) = (
            members.iter().map(|m| m.size).min(),
            members.iter().map(|m| m.size).max(),
        ) else {
            return;
        };
        // Differences below one alignment unit come from rounding, not from the layout.
        if members.len() < 2 || max - min < (1 << 20) {
            return;
        }
        let sizes: Vec<String> = members.iter().map(|m| human_bytes(m.size)).collect();
        out.push(Diagnostic::warning(
            Rule::UnequalMembers,
            &root.child(section).child(name),
            format!("the members of {what} `{name}` differ in size ({}): it uses {} of each and {} stay unused; give the members equal sizes", sizes.join(", "), human_bytes(min), human_bytes(max - min)),
        ));
    };
    for name in layout.mdadm.iter().flat_map(|m| m.keys()) {
        check(GroupKind::Mdadm, "mdadm", name, "mdadm array");
    }
    for (name, pool) in layout.zpool.iter().flatten() {
        // A plain stripe (`mode = ""`) uses all of every member.
        if !matches!(&pool.mode, Some(ZpoolMode::Simple(m)) if m.is_empty()) && pool.mode.is_some()
        {
            check(GroupKind::Zpool, "zpool", name, "ZFS pool");
        }
    }
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Whether `content` is a vfat filesystem, or an md array member whose array is one.
fn vfat_mount(layout: &DiskLayout, content: Option<&Content>) -> Option<Option<String>> {
    match content? {
        Content::Filesystem(fs) if fs.format.as_deref() == Some("vfat") => {
            Some(fs.mountpoint.clone())
        }
        Content::MdRaid(md) => {
            let array = layout.mdadm.as_ref()?.get(md.name.as_ref()?)?;
            vfat_mount(layout, array.content.as_deref())
        }
        _ => None,
    }
}

fn check_esp(layout: &DiskLayout, out: &mut Vec<Diagnostic>) {
    let mut esps = Vec::new();
    for_each_content(layout, &mut |content, path| {
        if let Content::Gpt(gpt) = content {
            for (name, part) in gpt.partitions.iter().flatten() {
                if is_type(part, "EF00", ESP_GUID) {
                    esps.push((
                        path.child("partitions").child(name),
                        vfat_mount(layout, part.content.as_deref()),
                    ));
                }
            }
        }
        if let Content::Table(table) = content {
            for (i, part) in table.partitions.iter().flatten().enumerate() {
                if part.flags.iter().flatten().any(|f| f == "esp") {
                    esps.push((
                        path.child("partitions").index(i),
                        vfat_mount(layout, part.content.as_deref()),
                    ));
                }
            }
        }
    });
    let boot_dirs = ["/boot", "/boot/efi", "/efi"];
    if esps
        .iter()
        .any(|(_, m)| matches!(m, Some(Some(mp)) if boot_dirs.contains(&mp.as_str())))
    {
        return;
    }
    match esps.first() {
        None => out.push(Diagnostic::error(
            Rule::NoEsp,
            &OptionPath::devices().child("disk"),
            "this machine boots with UEFI but no disk has an EFI system partition: add a partition with type = \"EF00\", size = \"512M\", formatted vfat and mounted at /boot",
        )),
        Some((path, None)) => out.push(Diagnostic::error(
            Rule::NoEsp,
            &path.child("content"),
            "the EFI system partition must hold a vfat filesystem for the firmware to read it: set content to type = \"filesystem\"; format = \"vfat\"; mountpoint = \"/boot\"",
        )),
        Some((path, Some(_))) => out.push(Diagnostic::error(
            Rule::NoEsp,
            &path.child("content").child("mountpoint"),
            "the EFI system partition is not mounted where the boot loader looks: set its mountpoint to /boot",
        )),
    }
}

fn check_bios_boot(layout: &DiskLayout, out: &mut Vec<Diagnostic>) {
    let mut gpt_disks = Vec::new();
    let mut has_bios_boot = false;
    for (name, disk) in layout.disk.iter().flatten() {
        match disk.content.as_deref() {
            Some(Content::Gpt(gpt)) => {
                gpt_disks.push(name);
                has_bios_boot |= gpt
                    .partitions
                    .iter()
                    .flatten()
                    .any(|(_, p)| is_type(p, "EF02", BIOS_BOOT_GUID));
            }
            Some(Content::Table(t)) => {
                has_bios_boot |= t.format.as_deref() == Some("msdos")
                    || t.partitions
                        .iter()
                        .flatten()
                        .any(|p| p.flags.iter().flatten().any(|f| f == "bios_grub"));
            }
            _ => {}
        }
    }
    if let (Some(first), false) = (gpt_disks.first(), has_bios_boot) {
        out.push(Diagnostic::error(
            Rule::NoBiosBoot,
            &disk_path(first).child("content").child("partitions"),
            "this machine boots with BIOS, and GRUB needs a BIOS boot partition on a GPT disk: add `boot = { size = \"1M\"; type = \"EF02\"; };`",
        ));
    }
}
