//! A layout in plain words, for people deciding whether to erase a disk: one line
//! per disk (its device, model and size when probed, and what it will hold) and
//! one per array, volume group, pool, bcachefs filesystem and device-less mount.
//! A disk that gives itself to a group says so; the group's line says what it
//! holds. Every mountpoint of the layout appears somewhere in the text.
//!
//! `512 MiB EFI system partition at /boot; the rest encrypted (LUKS "crypted"),
//! holding btrfs subvolumes / (root), /home (home) and /nix (nix)`

use super::model::*;
use super::size::{
    human_bytes, parse_lv_size, parse_sgdisk_position, parse_size, LvSize, SgdiskPosition, SECTOR,
};
use super::validate::{is_type, BIOS_BOOT_GUID, ESP_GUID};
use crate::facts::HostFacts;
use serde::Serialize;
use std::fmt;

/// What a layout will do, disk by disk and group by group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct LayoutSummary {
    /// One entry per disk, in layout order.
    pub disks: Vec<DiskSummary>,
    /// mdadm arrays, LVM volume groups, ZFS pools, bcachefs filesystems and
    /// device-less mounts (tmpfs…), in that order.
    pub groups: Vec<GroupSummary>,
}

/// One disk in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct DiskSummary {
    /// The disk's name in the layout (`main`).
    pub name: String,
    /// Its `device` option, when set.
    pub device: Option<String>,
    /// The probed model, when the host was probed and the disk found.
    pub model: Option<String>,
    /// The probed size in words (`1 TiB`), when known.
    pub size: Option<String>,
    /// The probed size in bytes, when known.
    pub size_bytes: Option<u64>,
    /// What it will hold, in words.
    pub text: String,
}

/// Which kind of top-level device a [`GroupSummary`] describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum SummaryKind {
    /// `mdadm.<name>`: a software RAID array.
    Mdadm,
    /// `lvm_vg.<name>`: an LVM volume group.
    LvmVg,
    /// `zpool.<name>`: a ZFS pool.
    Zpool,
    /// `bcachefs_filesystems.<name>`: a multi-device bcachefs filesystem.
    Bcachefs,
    /// `nodev.<name>`: a filesystem without a device, such as tmpfs.
    Nodev,
}

/// One array, volume group, pool, bcachefs filesystem or nodev mount in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct GroupSummary {
    /// Which kind.
    pub kind: SummaryKind,
    /// Its attribute name in the layout.
    pub name: String,
    /// The whole line: what it is, what it is made of and what it holds.
    pub text: String,
}

impl DiskSummary {
    /// `main (/dev/sda, Samsung SSD 980, 1 TiB): …`.
    pub fn line(&self) -> String {
        let facts: Vec<&str> = [&self.device, &self.model, &self.size]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        if facts.is_empty() {
            format!("{}: {}", self.name, self.text)
        } else {
            format!("{} ({}): {}", self.name, facts.join(", "), self.text)
        }
    }
}

impl LayoutSummary {
    /// The summary as lines of text: the disks, then the groups.
    pub fn lines(&self) -> Vec<String> {
        self.disks
            .iter()
            .map(DiskSummary::line)
            .chain(self.groups.iter().map(|g| g.text.clone()))
            .collect()
    }
}

impl fmt::Display for LayoutSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in self.lines() {
            writeln!(f, "{line}")?;
        }
        Ok(())
    }
}

/// `layout` in words; with `facts`, each disk's model and size as probed.
pub fn summary(layout: &DiskLayout, facts: Option<&HostFacts>) -> LayoutSummary {
    let members = Members::collect(layout);
    let disks = layout
        .disk
        .iter()
        .flatten()
        .map(|(name, disk)| {
            let found = facts
                .zip(disk.device.as_deref())
                .and_then(|(f, d)| f.find_disk(d));
            DiskSummary {
                name: name.clone(),
                device: disk.device.clone(),
                model: found.and_then(|d| d.display_model()).map(str::to_string),
                size: found.map(|d| human_bytes(d.size_bytes)),
                size_bytes: found.map(|d| d.size_bytes),
                text: match disk.content.as_deref() {
                    Some(c) => whole_device(c),
                    None => "nothing set up (no content)".into(),
                },
            }
        })
        .collect();
    let mut groups = Vec::new();
    for (key, md) in layout.mdadm.iter().flatten() {
        groups.push(GroupSummary {
            kind: SummaryKind::Mdadm,
            name: key.clone(),
            text: mdadm(key, md, &members),
        });
    }
    for (key, vg) in layout.lvm_vg.iter().flatten() {
        groups.push(GroupSummary {
            kind: SummaryKind::LvmVg,
            name: key.clone(),
            text: lvm_vg(key, vg, &members),
        });
    }
    for (key, pool) in layout.zpool.iter().flatten() {
        groups.push(GroupSummary {
            kind: SummaryKind::Zpool,
            name: key.clone(),
            text: zpool(key, pool, &members),
        });
    }
    for (key, fs) in layout.bcachefs_filesystems.iter().flatten() {
        groups.push(GroupSummary {
            kind: SummaryKind::Bcachefs,
            name: key.clone(),
            text: bcachefs_filesystem(key, fs, &members),
        });
    }
    for (key, nodev) in layout.nodev.iter().flatten() {
        groups.push(GroupSummary {
            kind: SummaryKind::Nodev,
            name: key.clone(),
            text: nodev_line(key, nodev),
        });
    }
    LayoutSummary { disks, groups }
}

/// Which top-level devices (disks, arrays, volumes) give space to which group.
struct Members(Vec<(&'static str, String, String)>);

impl Members {
    fn collect(layout: &DiskLayout) -> Self {
        let mut found = Vec::new();
        for (name, disk) in layout.disk.iter().flatten() {
            if let Some(c) = disk.content.as_deref() {
                refs(c, &format!("disk {name}"), &mut found);
            }
        }
        for (name, md) in layout.mdadm.iter().flatten() {
            if let Some(c) = md.content.as_deref() {
                refs(c, &format!("array {name}"), &mut found);
            }
        }
        for (vg, group) in layout.lvm_vg.iter().flatten() {
            for (lv, volume) in group.lvs.iter().flatten() {
                if let Some(c) = volume.content.as_deref() {
                    refs(c, &format!("logical volume {vg}/{lv}"), &mut found);
                }
            }
        }
        for (pool, zpool) in layout.zpool.iter().flatten() {
            for (ds, dataset) in zpool.datasets.iter().flatten() {
                if let Dataset::Volume(v) = dataset {
                    if let Some(c) = v.content.as_deref() {
                        refs(c, &format!("ZFS volume {pool}/{ds}"), &mut found);
                    }
                }
            }
        }
        Members(found)
    }

    /// "on disk a and disk b" (each owner once), or "with no members".
    fn of(&self, kind: &str, key: &str, name: Option<&str>) -> String {
        let mut owners: Vec<&str> = Vec::new();
        for (k, group, owner) in &self.0 {
            let matches = *k == kind && (group == key || Some(group.as_str()) == name);
            if matches && !owners.contains(&owner.as_str()) {
                owners.push(owner.as_str());
            }
        }
        if owners.is_empty() {
            "with no member devices".into()
        } else {
            format!("on {}", join(&owners))
        }
    }
}

fn refs(content: &Content, owner: &str, out: &mut Vec<(&'static str, String, String)>) {
    let (kind, group) = match content {
        Content::LvmPv(pv) => ("lvm_vg", &pv.vg),
        Content::MdRaid(md) => ("mdadm", &md.name),
        Content::Zfs(z) => ("zpool", &z.pool),
        Content::Bcachefs(b) => ("bcachefs", &b.filesystem),
        Content::Gpt(gpt) => {
            for part in gpt.partitions.iter().flat_map(|p| p.values()) {
                if let Some(c) = part.content.as_deref() {
                    refs(c, owner, out);
                }
            }
            return;
        }
        Content::Table(table) => {
            for part in table.partitions.iter().flatten() {
                if let Some(c) = part.content.as_deref() {
                    refs(c, owner, out);
                }
            }
            return;
        }
        Content::Luks(luks) => {
            if let Some(c) = luks.content.as_deref() {
                refs(c, owner, out);
            }
            return;
        }
        _ => return,
    };
    if let Some(group) = group {
        out.push((kind, group.clone(), owner.to_string()));
    }
}

/// "a", "a and b", "a, b and c".
fn join<S: AsRef<str>>(items: &[S]) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_string(),
        [init @ .., last] => format!(
            "{} and {}",
            init.iter()
                .map(|s| s.as_ref())
                .collect::<Vec<_>>()
                .join(", "),
            last.as_ref()
        ),
    }
}

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.escape_debug())
}

/// `the whole disk for ZFS pool "tank"`, `the whole disk: ext4 at /`; with no
/// `whole`, just `what`.
fn whole_of(whole: &str, what: &str) -> String {
    if whole.is_empty() {
        what.to_string()
    } else if what.starts_with("for ") {
        format!("{whole} {what}")
    } else {
        format!("{whole}: {what}")
    }
}

/// What a whole disk holds.
fn whole_device(content: &Content) -> String {
    match content {
        Content::Gpt(gpt) => gpt_text(gpt, "the whole disk"),
        Content::Table(table) => table_text(table),
        other => whole_of("the whole disk", &holds(other)),
    }
}

/// What a partition or volume holds, as a phrase to follow its size.
fn holds(content: &Content) -> String {
    match content {
        Content::Gpt(gpt) => {
            let text = gpt_text(gpt, "");
            match gpt.partitions.as_ref().map_or(0, |p| p.len()) {
                1 => format!("one partition: {text}"),
                _ => format!("partitions: {text}"),
            }
        }
        Content::Table(table) => table_text(table),
        Content::Filesystem(fs) => filesystem(fs),
        Content::Btrfs(b) => btrfs(b),
        Content::Luks(luks) => {
            let mut text = match luks.name.as_deref() {
                Some(name) => format!("encrypted (LUKS {})", quoted(name)),
                None => "encrypted (LUKS)".to_string(),
            };
            if let Some(inner) = luks.content.as_deref() {
                text.push_str(&holding(inner));
            }
            text
        }
        Content::LvmPv(pv) => format!("for LVM volume group {}", group_name(&pv.vg)),
        Content::MdRaid(md) => format!("for RAID array {}", group_name(&md.name)),
        Content::Zfs(z) => format!("for ZFS pool {}", group_name(&z.pool)),
        Content::Bcachefs(b) => {
            let label = b
                .label
                .as_deref()
                .map(|l| format!(" (label {})", quoted(l)))
                .unwrap_or_default();
            format!(
                "for bcachefs filesystem {}{label}",
                group_name(&b.filesystem)
            )
        }
        Content::Swap(swap) => swap_text(swap),
        Content::Other(_) => format!(
            "{} content (nixdeck keeps it as written)",
            quoted(content.type_name())
        ),
    }
}

/// `, holding ext4 at /` after a container; members and encryption say what they
/// are without "holding".
fn holding(inner: &Content) -> String {
    match inner {
        Content::LvmPv(_)
        | Content::MdRaid(_)
        | Content::Zfs(_)
        | Content::Bcachefs(_)
        | Content::Luks(_) => format!(", {}", holds(inner)),
        _ => format!(", holding {}", holds(inner)),
    }
}

fn group_name(name: &Option<String>) -> String {
    name.as_deref()
        .map(quoted)
        .unwrap_or_else(|| "(not named)".into())
}

fn at(mountpoint: &Option<String>) -> String {
    match mountpoint {
        Some(m) => format!(" at {m}"),
        None => ", not mounted".into(),
    }
}

fn filesystem(fs: &Filesystem) -> String {
    let format = fs.format.as_deref().unwrap_or("a filesystem of no format");
    format!("{format}{}", at(&fs.mountpoint))
}

fn swap_text(swap: &Swap) -> String {
    let mut notes = Vec::new();
    if swap.random_encryption == Some(true) {
        notes.push("encrypted with a new random key at each boot");
    }
    if swap.resume_device == Some(true) {
        notes.push("used to resume from hibernation");
    }
    if notes.is_empty() {
        "swap".into()
    } else {
        format!("swap, {}", join(&notes))
    }
}

fn btrfs(b: &Btrfs) -> String {
    let subvolumes: Vec<String> = b
        .subvolumes
        .iter()
        .flatten()
        .map(|(key, sub)| {
            let name = sub.name.as_deref().unwrap_or(key);
            let files = swap_files(&sub.swap);
            let files = if files.is_empty() {
                files
            } else {
                format!(", with {files}")
            };
            match &sub.mountpoint {
                Some(m) => format!("{m} ({name}{files})"),
                None => format!("{name} (not mounted{files})"),
            }
        })
        .collect();
    let mut text = match (&b.mountpoint, subvolumes.is_empty()) {
        (Some(m), true) => format!("btrfs at {m}"),
        (None, true) => "btrfs, not mounted".into(),
        (Some(m), false) => format!("btrfs at {m} with subvolumes {}", join(&subvolumes)),
        (None, false) => format!("btrfs subvolumes {}", join(&subvolumes)),
    };
    let files = swap_files(&b.swap);
    if !files.is_empty() {
        text.push_str(&format!(", with {files} on the top volume"));
    }
    text
}

fn swap_files(files: &Option<Named<BtrfsSwapFile>>) -> String {
    let described: Vec<String> = files
        .iter()
        .flatten()
        .map(|(key, file)| {
            let path = file.path.as_deref().unwrap_or(key);
            match file.size.as_deref() {
                Some(size) => format!("a {} swap file {path}", size_words(size)),
                None => format!("a swap file {path}"),
            }
        })
        .collect();
    if described.is_empty() {
        String::new()
    } else {
        join(&described)
    }
}

/// A gpt `size` in words: `512M` → `512 MiB`, `100%` → `the rest`.
fn size_words(size: &str) -> String {
    if size == "100%" {
        return "the rest".into();
    }
    match parse_size(size) {
        Some(bytes) => human_bytes(bytes),
        None => size.to_string(),
    }
}

fn gpt_priority(part: &GptPartition) -> i64 {
    part.priority.unwrap_or_else(|| {
        if part.size.as_deref() == Some("100%") {
            9001
        } else if is_type(part, "EF02", BIOS_BOOT_GUID) {
            100
        } else {
            1000
        }
    })
}

/// The partitions in the order disko creates them (by `priority`, then as written),
/// which is their order on the disk.
fn gpt_text(gpt: &Gpt, whole: &str) -> String {
    let mut parts: Vec<(&String, &GptPartition)> = gpt.partitions.iter().flatten().collect();
    if parts.is_empty() {
        return "an empty GPT partition table".into();
    }
    parts.sort_by_key(|(_, p)| gpt_priority(p));
    let items: Vec<String> = parts
        .iter()
        .enumerate()
        .map(|(i, (k, p))| {
            let text = gpt_partition(k, p);
            // Nothing before it: "the rest" is everything.
            match text.strip_prefix("the rest ") {
                Some(what) if i == 0 => whole_of(whole, what),
                _ => text,
            }
        })
        .collect();
    items.join("; ")
}

/// How much of the disk a partition takes: its `size`, or what its `start` and
/// `end` (sgdisk's notation) amount to. disko's default end is `+size`, and with
/// neither the partition takes the rest of the free space.
fn gpt_extent(part: &GptPartition) -> String {
    use SgdiskPosition::*;
    if let Some(size) = &part.size {
        return size_words(size);
    }
    let bytes = |sectors: u64| human_bytes(sectors.saturating_mul(SECTOR));
    let start = part.start.as_deref().map(parse_sgdisk_position);
    let end = part.end.as_deref().map(parse_sgdisk_position);
    let from = match start {
        Some(Some(Absolute(n))) => format!("from {} ", bytes(n)),
        Some(Some(After(n))) => format!("from {} into the free space ", bytes(n)),
        Some(Some(BeforeEnd(n))) => format!("from {} before the end ", bytes(n)),
        Some(None) => format!("from {} ", part.start.as_deref().unwrap_or_default()),
        _ => String::new(),
    };
    if let (Some(Some(Absolute(a))), Some(Some(Absolute(b)))) = (start, end) {
        if b > a {
            return bytes(b - a);
        }
    }
    match end {
        None | Some(Some(Default)) | Some(Some(BeforeEnd(0))) if from.is_empty() => {
            "the rest".into()
        }
        None | Some(Some(Default)) | Some(Some(BeforeEnd(0))) => format!("{from}to the end,"),
        Some(Some(After(n))) if from.is_empty() => bytes(n),
        Some(Some(After(n))) => format!("{} {}", bytes(n), from.trim_end()),
        Some(Some(BeforeEnd(n))) => format!("{from}up to {} before the end,", bytes(n)),
        Some(Some(Absolute(n))) => format!("{from}up to {},", bytes(n)),
        Some(None) => format!("{from}up to {},", part.end.as_deref().unwrap_or_default()),
    }
}

fn gpt_partition(key: &str, part: &GptPartition) -> String {
    let size = gpt_extent(part);
    let esp = is_type(part, "EF00", ESP_GUID);
    let bios = is_type(part, "EF02", BIOS_BOOT_GUID);
    let content = part.content.as_deref();
    let what = match (esp, bios, content) {
        (true, _, Some(Content::Filesystem(fs))) => {
            let format = match fs.format.as_deref() {
                Some("vfat") | None => String::new(),
                Some(f) => format!(" ({f})"),
            };
            format!("EFI system partition{format}{}", at(&fs.mountpoint))
        }
        (true, _, Some(other)) => format!("EFI system partition {}", holds(other)),
        (true, _, None) => "EFI system partition, not formatted".into(),
        (_, true, None) => "BIOS boot partition".into(),
        (_, true, Some(other)) => format!("BIOS boot partition {}", holds(other)),
        (false, false, Some(other)) => holds(other),
        (false, false, None) => format!("partition {} left empty", quoted(key)),
    };
    format!("{size} {what}")
}

fn table_text(table: &Table) -> String {
    let kind = match table.format.as_deref() {
        Some("msdos") => "MBR (msdos) partition table",
        _ => "GPT partition table (made with parted)",
    };
    let items: Vec<String> = table
        .partitions
        .iter()
        .flatten()
        .map(|p| {
            let start = p.start.as_deref().unwrap_or("0%");
            let end = p.end.as_deref().unwrap_or("100%");
            let place = match (start, end) {
                ("0%", "100%") => "the whole disk".to_string(),
                (s, "100%") => format!("from {s} to the end"),
                (s, e) => format!("from {s} to {e}"),
            };
            let boot = if p.bootable == Some(true) {
                " (bootable)"
            } else {
                ""
            };
            match p.content.as_deref() {
                Some(c) => format!("{place}{boot} {}", holds(c)),
                None => format!("{place}{boot} left empty"),
            }
        })
        .collect();
    if items.is_empty() {
        format!("an empty {kind}")
    } else {
        format!("{kind}: {}", items.join("; "))
    }
}

fn mdadm(key: &str, md: &Mdadm, members: &Members) -> String {
    let name = md.name.as_deref().unwrap_or(key);
    let level = md.level.unwrap_or(1);
    let metadata = md
        .metadata
        .as_deref()
        .map(|m| format!(", metadata {m}"))
        .unwrap_or_default();
    let holding = match md.content.as_deref() {
        Some(c) => holding(c),
        None => ", holding nothing".into(),
    };
    format!(
        "RAID{level} array {} (/dev/md/{name}{metadata}) {}{holding}",
        quoted(name),
        members.of("mdadm", key, md.name.as_deref())
    )
}

fn lv_size_words(size: &str) -> String {
    // disko turns a bare `50%` into lvcreate's `-l 50%FREE`.
    let size = if size.ends_with('%') {
        format!("{size}FREE")
    } else {
        size.to_string()
    };
    match parse_lv_size(&size) {
        Some(LvSize::Bytes(b)) => human_bytes(b),
        Some(LvSize::PercentOfFree(p)) if p >= 100.0 => "the rest".into(),
        Some(LvSize::PercentOfFree(p)) => format!("{p}% of the free space"),
        Some(LvSize::PercentOfGroup(p)) => format!("{p}% of the group"),
        None => size,
    }
}

fn lvm_vg(key: &str, vg: &LvmVg, members: &Members) -> String {
    let name = vg.name.as_deref().unwrap_or(key);
    let mut lvs: Vec<(&String, &LogicalVolume)> = vg.lvs.iter().flatten().collect();
    // lvcreate runs in priority order; disko's default puts thin pools first and
    // `100%` volumes last.
    lvs.sort_by_key(|(_, lv)| {
        lv.priority.unwrap_or_else(|| {
            let thin_pool = lv.lvm_type.as_deref() == Some("thin-pool");
            let rest = lv.size.as_deref().is_some_and(|s| s.contains("100%"));
            (if thin_pool { 501 } else { 1000 }) + if rest { 251 } else { 0 }
        })
    });
    let items: Vec<String> = lvs
        .iter()
        .map(|(lv_key, lv)| {
            let lv_name = lv.name.as_deref().unwrap_or(lv_key);
            let size = lv.size.as_deref().map(lv_size_words);
            let kind = match (lv.lvm_type.as_deref(), lv.pool.as_deref()) {
                (Some("thin-pool"), _) => Some("thin pool".to_string()),
                (Some("thinlv"), Some(pool)) => Some(format!("in thin pool {}", quoted(pool))),
                (Some("thinlv"), None) => Some("thin".to_string()),
                (Some(raid), _) => Some(raid.to_string()),
                (None, _) => None,
            };
            let about: Vec<String> = size.into_iter().chain(kind).collect();
            let mut text = quoted(lv_name);
            if !about.is_empty() {
                text.push_str(&format!(", {}", about.join(" ")));
            }
            match lv.content.as_deref() {
                Some(c) => text.push_str(&format!(": {}", holds(c))),
                None if lv.lvm_type.as_deref() == Some("thin-pool") => {}
                None => text.push_str(", left empty"),
            }
            text
        })
        .collect();
    let volumes = if items.is_empty() {
        "with no logical volumes".to_string()
    } else {
        format!("with volumes {}", items.join("; "))
    };
    format!(
        "LVM volume group {} {}, {volumes}",
        quoted(name),
        members.of("lvm_vg", key, vg.name.as_deref())
    )
}

fn zpool(key: &str, pool: &Zpool, members: &Members) -> String {
    let name = pool.name.as_deref().unwrap_or(key);
    let mode = match &pool.mode {
        Some(ZpoolMode::Simple(m)) if !m.is_empty() => format!(" ({m})"),
        Some(ZpoolMode::Topology(_)) => " (with its own vdev topology)".into(),
        _ => String::new(),
    };
    let encrypted = pool
        .root_fs_options
        .as_ref()
        .and_then(|o| o.get("encryption"))
        .is_some_and(|e| e != "off");
    let mut text = format!(
        "ZFS pool {}{mode} {}",
        quoted(name),
        members.of("zpool", key, pool.name.as_deref())
    );
    if encrypted {
        text.push_str(", encrypted");
    }
    let zfs_mountpoint = pool
        .root_fs_options
        .as_ref()
        .and_then(|o| o.get("mountpoint"))
        .filter(|m| m.starts_with('/'));
    match (&pool.mountpoint, zfs_mountpoint) {
        (Some(m), _) => text.push_str(&format!(", its root dataset at {m}")),
        (None, Some(m)) => text.push_str(&format!(", its root dataset at {m} (mounted by ZFS)")),
        (None, None) => {}
    }
    let datasets: Vec<String> = pool
        .datasets
        .iter()
        .flatten()
        .map(|(ds_key, ds)| dataset(ds_key, ds))
        .collect();
    if datasets.is_empty() {
        text.push_str(", with no datasets");
    } else {
        text.push_str(&format!(", with datasets {}", datasets.join("; ")));
    }
    text
}

fn dataset(key: &str, ds: &Dataset) -> String {
    match ds {
        Dataset::Fs(fs) => {
            let name = quoted(fs.name.as_deref().unwrap_or(key));
            let option = |o: &str| {
                fs.options
                    .as_ref()
                    .and_then(|m| m.get(o))
                    .map(String::as_str)
            };
            let mut notes = Vec::new();
            if option("encryption").is_some_and(|e| e != "off") {
                notes.push("encrypted");
            }
            let at = match (&fs.mountpoint, option("mountpoint")) {
                (_, Some("none")) => None,
                (Some(m), _) => Some(m.as_str()),
                (None, Some(m)) if m.starts_with('/') => {
                    notes.push("mounted by ZFS");
                    Some(m)
                }
                (None, _) => None,
            };
            if at.is_none() {
                notes.push("not mounted");
            }
            let mut text = name;
            if let Some(m) = at {
                text.push_str(&format!(" at {m}"));
            }
            if !notes.is_empty() {
                text.push_str(&format!(" ({})", notes.join(", ")));
            }
            text
        }
        Dataset::Volume(v) => {
            let name = quoted(v.name.as_deref().unwrap_or(key));
            let size = v
                .size
                .as_deref()
                .map(|s| format!("{} ", size_words(s)))
                .unwrap_or_default();
            match v.content.as_deref() {
                Some(c) => format!("{name}, a {size}volume{}", holding(c)),
                None => format!("{name}, a {size}volume, left empty"),
            }
        }
        Dataset::Other(map) => {
            let kind = map
                .get("type")
                .and_then(|t| t.as_str())
                .unwrap_or("unknown");
            format!("{} ({kind}, kept as written)", quoted(key))
        }
    }
}

fn bcachefs_filesystem(key: &str, fs: &BcachefsFilesystem, members: &Members) -> String {
    let name = fs.name.as_deref().unwrap_or(key);
    let mut text = format!(
        "bcachefs filesystem {} {}",
        quoted(name),
        members.of("bcachefs", key, fs.name.as_deref())
    );
    text.push_str(&at(&fs.mountpoint));
    if fs.password_file.is_some() {
        text.push_str(", encrypted");
    }
    let subvolumes: Vec<String> = fs
        .subvolumes
        .iter()
        .flatten()
        .map(|(sub_key, sub)| {
            let sub_name = sub.name.as_deref().unwrap_or(sub_key);
            match &sub.mountpoint {
                Some(m) => format!("{m} ({sub_name})"),
                None => format!("{sub_name} (not mounted)"),
            }
        })
        .collect();
    if !subvolumes.is_empty() {
        text.push_str(&format!(", with subvolumes {}", join(&subvolumes)));
    }
    text
}

fn nodev_line(key: &str, nodev: &Nodev) -> String {
    let fs_type = nodev
        .fs_type
        .as_deref()
        .unwrap_or("a filesystem of no type");
    // disko's default mountpoint of a nodev is its attribute name.
    let mountpoint = nodev.mountpoint.as_deref().unwrap_or(key);
    let options = nodev
        .mount_options
        .as_ref()
        .filter(|o| !o.is_empty())
        .map(|o| format!(" (options {})", o.join(",")))
        .unwrap_or_default();
    format!("{fs_type} at {mountpoint}{options}, on no disk")
}
