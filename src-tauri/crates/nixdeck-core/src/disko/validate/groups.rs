//! Arrays, volume groups, pools, bcachefs filesystems and thin pools: referenced
//! ones defined, defined ones used.

use super::{Diagnostic, Rule};
use crate::disko::error::OptionPath;
use crate::disko::model::*;
use crate::disko::space::GroupKind;
use crate::disko::walk::for_each_content;

/// Groups referenced by members but not defined, and groups without members.
pub(super) fn check_groups(layout: &DiskLayout, out: &mut Vec<Diagnostic>) {
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
