//! Where each partition and volume lands, in bytes, on devices of known size: what
//! the editor draws to scale and where free space is reported.
//!
//! GPT tables follow sgdisk as disko drives it: partitions are created in
//! `priority` order (ties by name, as disko sorts them), each with `--new=N:start:end
//! --align-end`, the start `0` meaning the first sector of the largest free block,
//! starts aligned up and ends aligned down to 1 MiB (or the partition's
//! `alignment`), and 34 sectors kept for the primary and backup GPT. Legacy
//! `table`s follow parted with optimal (1 MiB) alignment. Inside, LUKS keeps 16 MiB
//! for its header, an LVM physical volume 1 MiB for its metadata, volume groups
//! count in 4 MiB extents, and mdadm arrays are as large as their level makes of
//! their smallest member (superblock space not subtracted): these last figures are
//! estimates, the partition table ones are exact for 512-byte sectors.

mod gpt;
mod lvm;
mod table;

use super::error::OptionPath;
use super::model::*;
use super::size::{parse_lv_size, LvSize, SECTOR};
use crate::facts::HostFacts;
use gpt::plan_gpt;
use lvm::plan_volume_group;
use serde::{Deserialize, Serialize};
use table::plan_legacy_table;

/// A byte range on a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ByteRange {
    /// Offset from the start of the device, in bytes.
    pub offset: u64,
    /// Length in bytes.
    pub size: u64,
}

/// One partition or volume placed on a device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Segment {
    /// Offset from the start of the device, in bytes.
    pub offset: u64,
    /// Length in bytes.
    pub size: u64,
    /// The partition's or volume's name.
    pub label: String,
    /// Its option path, e.g. `disko.devices.disk.main.content.partitions.ESP`.
    pub path: String,
    /// The `type` of what it holds (`filesystem`, `luks`…), if anything.
    pub content_type: Option<String>,
    /// Where its filesystem is mounted, when it holds one directly.
    pub mountpoint: Option<String>,
}

/// What kind of device a plan covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    /// A disk (`disko.devices.disk.<name>`).
    Disk,
    /// An mdadm array.
    MdArray,
    /// An LVM volume group.
    VolumeGroup,
    /// Anything else that holds a partition table (a LUKS volume, a zvol…).
    Volume,
}

/// A device's partitions or volumes and its free space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct SpacePlan {
    /// What kind of device.
    pub kind: DeviceKind,
    /// Option path of the device's content (the table or volume group).
    pub path: String,
    /// Size of the device in bytes.
    pub size: u64,
    /// Partitions or volumes that fit, in creation order.
    pub segments: Vec<Segment>,
    /// Unused ranges of at least 1 MiB.
    pub free: Vec<ByteRange>,
    /// Partitions or volumes that do not fit, and why.
    pub problems: Vec<SpaceProblem>,
}

/// Something that does not fit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct SpaceProblem {
    /// The option at fault, e.g. `…partitions.root.size`.
    pub path: String,
    /// What does not fit, in words.
    pub message: String,
}

/// What a member device belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum GroupKind {
    /// `mdraid` → `mdadm.<name>`.
    Mdadm,
    /// `lvm_pv` → `lvm_vg.<name>`.
    LvmVg,
    /// `zfs` → `zpool.<name>`.
    Zpool,
    /// `bcachefs` → `bcachefs_filesystems.<name>`.
    Bcachefs,
}

/// A device given to an array, volume group, pool or bcachefs filesystem, with the
/// space it brings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Member {
    /// The kind of group.
    pub kind: GroupKind,
    /// The group's name.
    pub group: String,
    /// The option path of the member's content (`…partitions.mdadm.content`).
    pub path: String,
    /// Usable bytes.
    pub size: u64,
}

/// Every device's plan and every member's size.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct LayoutSpace {
    /// One plan per partition table or volume group whose size is known.
    pub plans: Vec<SpacePlan>,
    /// Members of arrays, volume groups, pools and bcachefs filesystems.
    pub members: Vec<Member>,
}

pub(super) const MIB: u64 = 1 << 20;
pub(super) const LUKS_HEADER: u64 = 16 * MIB;
pub(super) const PV_METADATA: u64 = MIB;
pub(super) const EXTENT: u64 = 4 * MIB;
/// Sectors taken by a GPT at each end (protective MBR or backup header + 32 sectors of entries).
pub(super) const GPT_RESERVED: u64 = 34;

/// Plans every disk whose size `disk_size` knows (by disk name and definition), then
/// the arrays and volume groups built on them.
pub fn plan_layout(
    layout: &DiskLayout,
    disk_size: impl Fn(&str, &Disk) -> Option<u64>,
) -> LayoutSpace {
    let mut out = LayoutSpace::default();
    let root = OptionPath::devices();
    for (name, disk) in layout.disk.iter().flatten() {
        let Some(size) = disk_size(name, disk) else {
            continue;
        };
        if let Some(content) = disk.content.as_deref() {
            let path = root.child("disk").child(name).child("content");
            descend(content, size, &path, DeviceKind::Disk, &mut out);
        }
    }
    for (name, array) in layout.mdadm.iter().flatten() {
        let sizes: Vec<u64> = group_sizes(&out, GroupKind::Mdadm, name);
        let Some(size) = md_array_size(array.level.unwrap_or(1), &sizes) else {
            continue;
        };
        if let Some(content) = array.content.as_deref() {
            let path = root.child("mdadm").child(name).child("content");
            descend(content, size, &path, DeviceKind::MdArray, &mut out);
        }
    }
    for (name, vg) in layout.lvm_vg.iter().flatten() {
        let sizes = group_sizes(&out, GroupKind::LvmVg, name);
        if sizes.is_empty() {
            continue;
        }
        let size = sizes.iter().map(|s| s / EXTENT * EXTENT).sum();
        plan_volume_group(vg, size, &root.child("lvm_vg").child(name), &mut out);
    }
    for (name, pool) in layout.zpool.iter().flatten() {
        for (ds_name, dataset) in pool.datasets.iter().flatten() {
            let Dataset::Volume(volume) = dataset else {
                continue;
            };
            let (Some(size), Some(content)) = (volume.size.as_deref(), volume.content.as_deref())
            else {
                continue;
            };
            let Some(LvSize::Bytes(bytes)) = parse_lv_size(size) else {
                continue;
            };
            let path = root
                .child("zpool")
                .child(name)
                .child("datasets")
                .child(ds_name)
                .child("content");
            descend(content, bytes, &path, DeviceKind::Volume, &mut out);
        }
    }
    out
}

/// [`plan_layout`] with disk sizes from the probe: each disk's `device` looked up by
/// path, by-id link or kernel name.
pub fn plan_for_host(layout: &DiskLayout, facts: &HostFacts) -> LayoutSpace {
    plan_layout(layout, |_, disk| {
        facts
            .find_disk(disk.device.as_deref()?)
            .map(|d| d.size_bytes)
    })
}

/// Plans one partition table (`gpt` or `table` content) on a device of `size`
/// bytes; `None` for other content. `path` is the content's option path.
pub fn plan_table(content: &Content, size: u64, path: &OptionPath) -> Option<SpacePlan> {
    match content {
        Content::Gpt(gpt) => Some(plan_gpt(gpt, size, path, DeviceKind::Disk)),
        Content::Table(table) => Some(plan_legacy_table(table, size, path, DeviceKind::Disk)),
        _ => None,
    }
}

fn group_sizes(out: &LayoutSpace, kind: GroupKind, name: &str) -> Vec<u64> {
    out.members
        .iter()
        .filter(|m| m.kind == kind && m.group == name)
        .map(|m| m.size)
        .collect()
}

/// Usable size of an md array of `level` over members of `sizes`.
fn md_array_size(level: i64, sizes: &[u64]) -> Option<u64> {
    let n = sizes.len() as u64;
    let smallest = *sizes.iter().min()?;
    Some(match level {
        0 => sizes.iter().sum(),
        1 => smallest,
        4 | 5 if n >= 2 => (n - 1) * smallest,
        6 if n >= 3 => (n - 2) * smallest,
        10 => n * smallest / 2,
        _ => return None,
    })
}

/// Follows content down to partition tables and group members.
pub(super) fn descend(
    content: &Content,
    size: u64,
    path: &OptionPath,
    kind: DeviceKind,
    out: &mut LayoutSpace,
) {
    let mut member = |group_kind, group: &Option<String>, size| {
        if let Some(group) = group {
            out.members.push(Member {
                kind: group_kind,
                group: group.clone(),
                path: path.to_string(),
                size,
            });
        }
    };
    match content {
        Content::LvmPv(pv) => member(GroupKind::LvmVg, &pv.vg, size.saturating_sub(PV_METADATA)),
        Content::MdRaid(md) => member(GroupKind::Mdadm, &md.name, size),
        Content::Zfs(zfs) => member(GroupKind::Zpool, &zfs.pool, size),
        Content::Bcachefs(b) => member(GroupKind::Bcachefs, &b.filesystem, size),
        Content::Luks(luks) => {
            if let Some(inner) = luks.content.as_deref() {
                descend(
                    inner,
                    size.saturating_sub(LUKS_HEADER),
                    &path.child("content"),
                    DeviceKind::Volume,
                    out,
                );
            }
        }
        Content::Gpt(gpt) => {
            let plan = plan_gpt(gpt, size, path, kind);
            for segment in &plan.segments {
                let part = gpt.partitions.as_ref().and_then(|p| p.get(&segment.label));
                if let Some(inner) = part.and_then(|p| p.content.as_deref()) {
                    let p = path
                        .child("partitions")
                        .child(&segment.label)
                        .child("content");
                    descend(inner, segment.size, &p, DeviceKind::Volume, out);
                }
            }
            out.plans.push(plan);
        }
        Content::Table(table) => {
            let plan = plan_legacy_table(table, size, path, kind);
            for segment in &plan.segments {
                let Ok(index) = segment.label.parse::<usize>() else {
                    continue;
                };
                let part = table.partitions.as_ref().and_then(|p| p.get(index));
                if let Some(inner) = part.and_then(|p| p.content.as_deref()) {
                    let p = path.child("partitions").index(index).child("content");
                    descend(inner, segment.size, &p, DeviceKind::Volume, out);
                }
            }
            out.plans.push(plan);
        }
        _ => {}
    }
}

pub(super) fn summary(content: Option<&Content>) -> (Option<String>, Option<String>) {
    let Some(content) = content else {
        return (None, None);
    };
    let mountpoint = match content {
        Content::Filesystem(fs) => fs.mountpoint.clone(),
        Content::Btrfs(b) => b.mountpoint.clone(),
        _ => None,
    };
    (Some(content.type_name().to_string()), mountpoint)
}

/// Free sector ranges (inclusive) of `[first, last]` not in `used`.
pub(super) fn free_blocks(used: &[(u64, u64)], first: u64, last: u64) -> Vec<(u64, u64)> {
    let mut sorted = used.to_vec();
    sorted.sort();
    let mut blocks = Vec::new();
    let mut cursor = first;
    for (start, end) in sorted {
        if start > cursor {
            blocks.push((cursor, start - 1));
        }
        cursor = cursor.max(end.saturating_add(1));
    }
    if cursor <= last {
        blocks.push((cursor, last));
    }
    blocks
}

pub(super) fn free_ranges(used: &[(u64, u64)], first: u64, last: u64) -> Vec<ByteRange> {
    free_blocks(used, first, last)
        .into_iter()
        .map(|(s, e)| ByteRange {
            offset: s * SECTOR,
            size: (e - s + 1) * SECTOR,
        })
        .filter(|r| r.size >= MIB)
        .collect()
}

pub(super) fn align_up(sector: u64, align: u64) -> u64 {
    sector.div_ceil(align) * align
}
