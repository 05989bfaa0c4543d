//! Option values disko or its tools would refuse, required options, devices used
//! twice, and more than one `100%` partition per table.

use super::{disk_path, is_gpt_type, Diagnostic, Rule};
use crate::disko::error::OptionPath;
use crate::disko::model::*;
use crate::disko::size::{is_valid_gpt_size, parse_lv_size, parse_sgdisk_position};
use crate::disko::walk::for_each_content;
use std::collections::HashMap;

/// Option values disko's types or the tools would refuse.
pub(super) fn check_values(layout: &DiskLayout, out: &mut Vec<Diagnostic>) {
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
pub(super) fn check_full_size(layout: &DiskLayout, out: &mut Vec<Diagnostic>) {
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
