//! Against the probed host: devices that exist, stable names, sizes that fit,
//! members of equal size.

use super::{disk_path, Diagnostic, Rule, Severity};
use crate::disko::error::OptionPath;
use crate::disko::model::*;
use crate::disko::size::human_bytes;
use crate::disko::space::{plan_for_host, GroupKind};
use crate::facts::HostFacts;

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

pub(super) fn check_devices(layout: &DiskLayout, facts: &HostFacts, out: &mut Vec<Diagnostic>) {
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
pub(super) fn check_space(layout: &DiskLayout, facts: &HostFacts, out: &mut Vec<Diagnostic>) {
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
