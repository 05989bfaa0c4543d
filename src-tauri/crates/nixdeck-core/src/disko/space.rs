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

use super::error::OptionPath;
use super::model::*;
use super::size::{
    human_bytes, parse_lv_size, parse_parted_position, parse_sgdisk_position, parse_size, LvSize,
    SgdiskPosition, SECTOR,
};
use crate::facts::HostFacts;
use serde::{Deserialize, Serialize};

/// A byte range on a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ByteRange {
    /// Offset from the start of the device, in bytes.
    pub offset: u64,
    /// Length in bytes.
    pub size: u64,
}

/// One partition or volume placed on a device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpaceProblem {
    /// The option at fault, e.g. `…partitions.root.size`.
    pub path: String,
    /// What does not fit, in words.
    pub message: String,
}

/// What a member device belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayoutSpace {
    /// One plan per partition table or volume group whose size is known.
    pub plans: Vec<SpacePlan>,
    /// Members of arrays, volume groups, pools and bcachefs filesystems.
    pub members: Vec<Member>,
}

const MIB: u64 = 1 << 20;
const LUKS_HEADER: u64 = 16 * MIB;
const PV_METADATA: u64 = MIB;
const EXTENT: u64 = 4 * MIB;
/// Sectors taken by a GPT at each end (protective MBR or backup header + 32 sectors of entries).
const GPT_RESERVED: u64 = 34;

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
fn descend(
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

fn summary(content: Option<&Content>) -> (Option<String>, Option<String>) {
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
fn free_blocks(used: &[(u64, u64)], first: u64, last: u64) -> Vec<(u64, u64)> {
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

fn free_ranges(used: &[(u64, u64)], first: u64, last: u64) -> Vec<ByteRange> {
    free_blocks(used, first, last)
        .into_iter()
        .map(|(s, e)| ByteRange {
            offset: s * SECTOR,
            size: (e - s + 1) * SECTOR,
        })
        .filter(|r| r.size >= MIB)
        .collect()
}

fn align_up(sector: u64, align: u64) -> u64 {
    sector.div_ceil(align) * align
}

/// sgdisk's default priority, as disko computes it.
pub(crate) fn gpt_priority(part: &GptPartition) -> i64 {
    part.priority
        .unwrap_or(if part.size.as_deref() == Some("100%") {
            9001
        } else if part
            .type_
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("EF02"))
        {
            100
        } else {
            1000
        })
}

fn plan_gpt(gpt: &Gpt, bytes: u64, path: &OptionPath, kind: DeviceKind) -> SpacePlan {
    let total = bytes / SECTOR;
    let mut plan = SpacePlan {
        kind,
        path: path.to_string(),
        size: bytes,
        segments: Vec::new(),
        free: Vec::new(),
        problems: Vec::new(),
    };
    if total < 2 * GPT_RESERVED + 2048 {
        plan.problems.push(SpaceProblem {
            path: path.to_string(),
            message: format!(
                "the device ({}) is too small for a partition table",
                human_bytes(bytes)
            ),
        });
        return plan;
    }
    let (first, last) = (GPT_RESERVED, total - GPT_RESERVED - 1);
    let mut parts: Vec<(&String, &GptPartition)> = gpt.partitions.iter().flatten().collect();
    parts.sort_by(|a, b| {
        gpt_priority(a.1)
            .cmp(&gpt_priority(b.1))
            .then_with(|| a.0.cmp(b.0))
    });
    let mut used: Vec<(u64, u64)> = Vec::new();
    for (name, part) in parts {
        let ppath = path.child("partitions").child(name);
        match place_gpt_partition(part, &used, first, last) {
            Ok((start, end)) => {
                used.push((start, end));
                let (content_type, mountpoint) = summary(part.content.as_deref());
                plan.segments.push(Segment {
                    offset: start * SECTOR,
                    size: (end - start + 1) * SECTOR,
                    label: name.clone(),
                    path: ppath.to_string(),
                    content_type,
                    mountpoint,
                });
            }
            Err((option, message)) => plan.problems.push(SpaceProblem {
                path: ppath.child(option).to_string(),
                message,
            }),
        }
    }
    plan.free = free_ranges(&used, first, last);
    plan
}

/// Start and end sectors (inclusive) of a partition, or the option at fault and why.
fn place_gpt_partition(
    part: &GptPartition,
    used: &[(u64, u64)],
    first: u64,
    last: u64,
) -> Result<(u64, u64), (&'static str, String)> {
    let size = part.size.as_deref().unwrap_or("0");
    if size != "100%" && parse_size(size).is_none() {
        return Err((
            "size",
            format!(
                "`{size}` is not a size: write `100%` or a number with K, M, G or T (e.g. `512M`)"
            ),
        ));
    }
    let start_text = part.start.as_deref().unwrap_or("0");
    let default_end = if size == "100%" {
        "-0".to_string()
    } else {
        format!("+{size}")
    };
    let end_text = part.end.clone().unwrap_or(default_end);
    let align = match part.alignment {
        Some(a) if a > 0 => a as u64,
        _ if start_text.ends_with('s') || end_text.ends_with('s') => 1,
        _ => 2048,
    };
    let start_pos = parse_sgdisk_position(start_text).ok_or((
        "start",
        format!("`{start_text}` is not a position sgdisk understands"),
    ))?;
    let end_pos = parse_sgdisk_position(&end_text).ok_or((
        "end",
        format!("`{end_text}` is not a position sgdisk understands"),
    ))?;
    let size_option = if part.end.is_some() { "end" } else { "size" };
    let blocks = free_blocks(used, first, last);
    let largest = blocks
        .iter()
        .copied()
        // A block shorter than one alignment unit after aligning is no usable space.
        .filter(|(s, e)| align_up(*s, align) + align - 1 <= *e)
        .max_by(|a, b| (a.1 - a.0).cmp(&(b.1 - b.0)).then(b.0.cmp(&a.0)))
        .ok_or((
            size_option,
            "no free space is left on the device for this partition".to_string(),
        ))?;
    let low = align_up(largest.0, align);
    let start = match start_pos {
        SgdiskPosition::Default => low,
        SgdiskPosition::Absolute(n) => align_up(n, align),
        SgdiskPosition::After(n) => align_up(low + n, align),
        SgdiskPosition::BeforeEnd(n) => align_up(largest.1.saturating_sub(n), align),
    };
    let block = blocks
        .iter()
        .copied()
        .find(|(s, e)| *s <= start && start <= *e)
        .ok_or((
            "start",
            format!(
                "it would start at {} but that space is already used or outside the disk",
                human_bytes(start * SECTOR)
            ),
        ))?;
    let mut end = match end_pos {
        SgdiskPosition::Default => block.1,
        SgdiskPosition::Absolute(n) => n,
        SgdiskPosition::After(n) => start + n - 1,
        SgdiskPosition::BeforeEnd(n) => block.1.saturating_sub(n),
    };
    let aligned = (end + 1) / align * align;
    if aligned > start + 1 {
        end = aligned - 1;
    }
    if end > block.1 {
        let wanted = (end - start + 1) * SECTOR;
        let room = (block.1 - start + 1) * SECTOR;
        return Err((
            size_option,
            format!(
                "it needs {} but only {} is free from where it starts",
                human_bytes(wanted),
                human_bytes(room)
            ),
        ));
    }
    if end < start {
        return Err((size_option, "its end comes before its start".to_string()));
    }
    Ok((start, end))
}

fn plan_legacy_table(table: &Table, bytes: u64, path: &OptionPath, kind: DeviceKind) -> SpacePlan {
    let total = bytes / SECTOR;
    let gpt = table.format.as_deref() != Some("msdos");
    let (first, last) = if gpt {
        (GPT_RESERVED, total.saturating_sub(GPT_RESERVED + 1))
    } else {
        (1, total.saturating_sub(1))
    };
    let mut plan = SpacePlan {
        kind,
        path: path.to_string(),
        size: bytes,
        segments: Vec::new(),
        free: Vec::new(),
        problems: Vec::new(),
    };
    let mut used: Vec<(u64, u64)> = Vec::new();
    let mut logical_used: Vec<(u64, u64)> = Vec::new();
    for (i, part) in table.partitions.iter().flatten().enumerate() {
        let ppath = path.child("partitions").index(i);
        let start_text = part.start.as_deref().unwrap_or("0%");
        let end_text = part.end.as_deref().unwrap_or("100%");
        let Some(start) = parse_parted_position(start_text, total) else {
            plan.problems.push(SpaceProblem {
                path: ppath.child("start").to_string(),
                message: format!(
                    "`{start_text}` is not a position parted understands (e.g. `1MiB`, `50%`)"
                ),
            });
            continue;
        };
        let Some(end) = parse_parted_position(end_text, total) else {
            plan.problems.push(SpaceProblem {
                path: ppath.child("end").to_string(),
                message: format!(
                    "`{end_text}` is not a position parted understands (e.g. `512MiB`, `100%`)"
                ),
            });
            continue;
        };
        let start = align_up(start.max(first), 2048);
        let end = end.saturating_sub(1).min(last);
        let logical = part.part_type.as_deref() == Some("logical");
        let extended = part.part_type.as_deref() == Some("extended");
        let others = if logical { &logical_used } else { &used };
        let overlaps = others.iter().any(|(s, e)| start <= *e && *s <= end);
        if end <= start || overlaps {
            plan.problems.push(SpaceProblem {
                path: ppath.child("end").to_string(),
                message: if end <= start {
                    format!("it ends ({end_text}) before it starts ({start_text})")
                } else {
                    "it overlaps a partition before it".to_string()
                },
            });
            continue;
        }
        if logical {
            logical_used.push((start, end));
        } else {
            used.push((start, end));
        }
        let (content_type, mountpoint) = summary(part.content.as_deref());
        if !extended {
            plan.segments.push(Segment {
                offset: start * SECTOR,
                size: (end - start + 1) * SECTOR,
                label: i.to_string(),
                path: ppath.to_string(),
                content_type,
                mountpoint,
            });
        }
    }
    plan.free = free_ranges(&used, first, last);
    plan
}

/// lvcreate's default order, as disko computes it.
fn lv_priority(lv: &LogicalVolume) -> i64 {
    lv.priority.unwrap_or_else(|| {
        let base = if lv.lvm_type.as_deref() == Some("thin-pool") {
            501
        } else {
            1000
        };
        base + if lv.size.as_deref().is_some_and(|s| s.contains("100%")) {
            251
        } else {
            0
        }
    })
}

fn plan_volume_group(vg: &LvmVg, bytes: u64, path: &OptionPath, out: &mut LayoutSpace) {
    let mut plan = SpacePlan {
        kind: DeviceKind::VolumeGroup,
        path: path.to_string(),
        size: bytes,
        segments: Vec::new(),
        free: Vec::new(),
        problems: Vec::new(),
    };
    let mut lvs: Vec<(&String, &LogicalVolume)> = vg.lvs.iter().flatten().collect();
    lvs.sort_by(|a, b| {
        lv_priority(a.1)
            .cmp(&lv_priority(b.1))
            .then_with(|| a.0.cmp(b.0))
    });
    let mut allocated = 0u64;
    let mut nested = Vec::new();
    for (name, lv) in lvs {
        let lpath = path.child("lvs").child(name);
        let text = lv.size.as_deref().unwrap_or("");
        let Some(size) = parse_lv_size(text) else {
            plan.problems.push(SpaceProblem {
                path: lpath.child("size").to_string(),
                message: format!(
                    "`{text}` is not an LVM size: write e.g. `20G`, `100%FREE` or `50%VG`"
                ),
            });
            continue;
        };
        let free = bytes - allocated;
        let wanted = match size {
            LvSize::Bytes(b) => b.div_ceil(EXTENT) * EXTENT,
            LvSize::PercentOfGroup(p) => ((bytes as f64 * p / 100.0) as u64) / EXTENT * EXTENT,
            LvSize::PercentOfFree(p) => ((free as f64 * p / 100.0) as u64) / EXTENT * EXTENT,
        };
        // Thin volumes live inside their pool, not in the group's free space.
        let thin = lv.lvm_type.as_deref() == Some("thinlv") || lv.pool.is_some();
        let legs = match lv.lvm_type.as_deref() {
            Some("raid1" | "mirror") => 2,
            _ => 1,
        };
        let taken = if thin { 0 } else { wanted * legs };
        if taken > free {
            plan.problems.push(SpaceProblem {
                path: lpath.child("size").to_string(),
                message: format!(
                    "it needs {} but the volume group has only {} left",
                    human_bytes(taken),
                    human_bytes(free)
                ),
            });
            continue;
        }
        let (content_type, mountpoint) = summary(lv.content.as_deref());
        if !thin {
            plan.segments.push(Segment {
                offset: allocated,
                size: taken,
                label: name.clone(),
                path: lpath.to_string(),
                content_type,
                mountpoint,
            });
        }
        allocated += taken;
        if let Some(content) = lv.content.as_deref() {
            nested.push((content, wanted, lpath.child("content")));
        }
    }
    if bytes > allocated && bytes - allocated >= MIB {
        plan.free.push(ByteRange {
            offset: allocated,
            size: bytes - allocated,
        });
    }
    out.plans.push(plan);
    for (content, size, p) in nested {
        descend(content, size, &p, DeviceKind::Volume, out);
    }
}
