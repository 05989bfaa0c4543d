//! Before and after: the disks of a host as probed, beside the layout that
//! was applied to them. Each partition of a layout disk is looked up on the
//! probed disk by its GPT name (disko's `disk-<disk>-<partition>` unless
//! `label` says otherwise) or else by its place, and checked for its size
//! (against the to-scale plan, within alignment), its file system or other
//! signature, and its mountpoint when the probe saw mounts.

use super::model::{Content, DiskLayout, Gpt, GptPartition};
use super::size::human_bytes;
use super::space::plan_for_host;
use crate::facts::{BlockDevice, HostFacts};
use serde::Serialize;

/// How one expected item compares with what is there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum CheckState {
    /// As the layout says.
    Matches,
    /// There, but not as the layout says.
    Differs,
    /// Not found.
    Missing,
}

/// One disk or partition: what the layout says and what the probe found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct DiskCheckRow {
    /// The layout disk's name.
    pub disk: String,
    /// The partition's name; `None` for the disk itself.
    pub partition: Option<String>,
    /// What the layout says, in words (`512 MiB, vfat at /boot`).
    pub expected: String,
    /// What is there, in words (`/dev/vda1, 512 MiB, vfat, mounted at /boot`).
    pub found: String,
    /// The verdict.
    pub state: CheckState,
    /// Each difference, in words.
    pub differences: Vec<String>,
}

/// The whole comparison.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct DiskCheck {
    /// Disks, each followed by its partitions.
    pub rows: Vec<DiskCheckRow>,
    /// Every difference, as `disk/partition: difference`.
    pub differences: Vec<String>,
}

/// The signature blkid reports for a content type.
fn signature(content: &Content) -> Option<String> {
    Some(match content {
        Content::Filesystem(fs) => fs.format.clone()?,
        Content::Btrfs(_) => "btrfs".into(),
        Content::Luks(_) => "crypto_LUKS".into(),
        Content::LvmPv(_) => "LVM2_member".into(),
        Content::MdRaid(_) => "linux_raid_member".into(),
        Content::Zfs(_) => "zfs_member".into(),
        Content::Swap(_) => "swap".into(),
        Content::Bcachefs(_) => "bcachefs".into(),
        Content::Gpt(_) | Content::Table(_) | Content::Other(_) => return None,
    })
}

fn mountpoint(content: &Content) -> Option<&str> {
    match content {
        Content::Filesystem(fs) => fs.mountpoint.as_deref(),
        _ => None,
    }
}

/// disko's default GPT name, or `None` when disko would hash it (over 36 characters).
fn gpt_name(disk: &str, part: &str, p: &GptPartition) -> Option<String> {
    if let Some(label) = &p.label {
        return Some(label.clone());
    }
    let label = format!("disk-{disk}-{}", p.name.as_deref().unwrap_or(part));
    (label.chars().count() <= 36).then_some(label)
}

fn creation_order(gpt: &Gpt) -> Vec<(&String, &GptPartition)> {
    let priority = |p: &GptPartition| {
        p.priority.unwrap_or(if p.type_.as_deref() == Some("EF02") {
            100
        } else if p.size.as_deref() == Some("100%") {
            9001
        } else {
            1000
        })
    };
    let mut parts: Vec<(&String, &GptPartition)> = gpt.partitions.iter().flatten().collect();
    parts.sort_by(|(a, pa), (b, pb)| (priority(pa), a.as_str()).cmp(&(priority(pb), b.as_str())));
    parts
}

fn describe_found(dev: &BlockDevice) -> String {
    let mut parts = vec![dev.path.clone(), human_bytes(dev.size_bytes)];
    match &dev.fstype {
        Some(f) => parts.push(f.clone()),
        None => parts.push("no file system".into()),
    }
    let mounts = dev.all_mountpoints();
    if !mounts.is_empty() {
        parts.push(format!("mounted at {}", mounts.join(", ")));
    }
    parts.join(", ")
}

/// Checks `content` against `dev`: signature and mountpoint.
fn check_content(content: &Content, dev: &BlockDevice, mounts_known: bool, out: &mut Vec<String>) {
    if let Some(want) = signature(content) {
        match dev.fstype.as_deref() {
            Some(got) if got == want => {}
            Some(got) => out.push(format!("{want} not found: {} holds {got}", dev.path)),
            None => out.push(format!("{want} not found on {}", dev.path)),
        }
    }
    if let (Some(want), true) = (mountpoint(content), mounts_known) {
        let mounts = dev.all_mountpoints();
        if !mounts.contains(&want) {
            out.push(if mounts.is_empty() {
                format!("not mounted at {want}")
            } else {
                format!("mounted at {}, not at {want}", mounts.join(", "))
            });
        }
    }
}

fn expected_text(
    size: Option<u64>,
    spec: Option<&str>,
    content: Option<&Content>,
    bare: &str,
) -> String {
    let size = match (size, spec) {
        (Some(b), _) => human_bytes(b),
        (None, Some(s)) => s.to_string(),
        (None, None) => "?".into(),
    };
    let what = match content {
        Some(c) => match (signature(c), mountpoint(c)) {
            (Some(s), Some(m)) => format!("{s} at {m}"),
            (Some(s), None) => s,
            _ => c.type_name().to_string(),
        },
        None => bare.to_string(),
    };
    format!("{size}, {what}")
}

/// Compares the `layout` applied to a host with its disks as `facts` found them.
pub fn compare(layout: &DiskLayout, facts: &HostFacts) -> DiskCheck {
    let space = plan_for_host(layout, facts);
    // A probe of a running system sees mounts; an installer's probe sees none.
    let mounts_known = facts.disks.iter().any(|d| !d.all_mountpoints().is_empty());
    let mut rows = Vec::new();
    for (name, disk) in layout.disk.iter().flatten() {
        let device = disk.device.as_deref().unwrap_or("?");
        let Some(found) = facts.find_disk(device) else {
            rows.push(DiskCheckRow {
                disk: name.clone(),
                partition: None,
                expected: device.to_string(),
                found: "not found".into(),
                state: CheckState::Missing,
                differences: vec![format!("disk {device} was not found on the host")],
            });
            continue;
        };
        let mut disk_diffs = Vec::new();
        let content = disk.content.as_deref();
        match content {
            Some(Content::Gpt(gpt)) => {
                if found.pttype.as_deref() != Some("gpt") {
                    disk_diffs.push(format!(
                        "no GPT partition table on {} ({})",
                        found.path,
                        found
                            .pttype
                            .as_deref()
                            .map_or("none".into(), |t| format!("{t} found"))
                    ));
                }
                rows.push(DiskCheckRow {
                    disk: name.clone(),
                    partition: None,
                    expected: format!("{device}, GPT"),
                    found: format!(
                        "{}, {}, {}",
                        found.path,
                        human_bytes(found.size_bytes),
                        found.pttype.as_deref().unwrap_or("no partition table")
                    ),
                    state: if disk_diffs.is_empty() {
                        CheckState::Matches
                    } else {
                        CheckState::Differs
                    },
                    differences: disk_diffs,
                });
                let table_path = format!("disko.devices.disk.{name}.content");
                let plan = space.plans.iter().find(|p| p.path == table_path);
                for (index, (part, p)) in creation_order(gpt).into_iter().enumerate() {
                    let seg_path = format!("{table_path}.partitions.{part}");
                    let planned = plan
                        .and_then(|pl| pl.segments.iter().find(|s| s.path == seg_path))
                        .map(|s| s.size);
                    let label = gpt_name(name, part, p);
                    // By GPT name when both sides have names; by place only when
                    // they do not (a hashed default name, a probe without names),
                    // so a missing partition is not taken for its neighbour.
                    let named = found.children.iter().any(|c| c.partlabel.is_some());
                    let actual = match (&label, named) {
                        (Some(l), true) => found
                            .children
                            .iter()
                            .find(|c| c.partlabel.as_deref() == Some(l.as_str())),
                        _ => found.children.get(index),
                    };
                    let bare = match p.type_.as_deref() {
                        Some("EF02") => "BIOS boot partition (no file system)".to_string(),
                        Some(t) => format!("type {t}, no file system"),
                        None => "no file system".to_string(),
                    };
                    let expected =
                        expected_text(planned, p.size.as_deref(), p.content.as_deref(), &bare);
                    let Some(actual) = actual else {
                        rows.push(DiskCheckRow {
                            disk: name.clone(),
                            partition: Some(part.clone()),
                            expected,
                            found: "not found".into(),
                            state: CheckState::Missing,
                            differences: vec![format!("partition {part} is missing")],
                        });
                        continue;
                    };
                    let mut diffs = Vec::new();
                    if let Some(want) = planned {
                        // sgdisk aligns to 1 MiB; a "100%" partition also loses the backup GPT.
                        let slack = (want / 100).max(4 << 20);
                        if actual.size_bytes.abs_diff(want) > slack {
                            diffs.push(format!(
                                "is {}, the layout gives it {}",
                                human_bytes(actual.size_bytes),
                                human_bytes(want)
                            ));
                        }
                    }
                    if let Some(c) = p.content.as_deref() {
                        check_content(c, actual, mounts_known, &mut diffs);
                    }
                    rows.push(DiskCheckRow {
                        disk: name.clone(),
                        partition: Some(part.clone()),
                        expected,
                        found: describe_found(actual),
                        state: if diffs.is_empty() {
                            CheckState::Matches
                        } else {
                            CheckState::Differs
                        },
                        differences: diffs,
                    });
                }
            }
            Some(c) => {
                check_content(c, found, mounts_known, &mut disk_diffs);
                rows.push(DiskCheckRow {
                    disk: name.clone(),
                    partition: None,
                    expected: format!(
                        "{device}, {}",
                        expected_text(Some(found.size_bytes), None, Some(c), "")
                    ),
                    found: describe_found(found),
                    state: if disk_diffs.is_empty() {
                        CheckState::Matches
                    } else {
                        CheckState::Differs
                    },
                    differences: disk_diffs,
                });
            }
            None => rows.push(DiskCheckRow {
                disk: name.clone(),
                partition: None,
                expected: format!("{device}, left as it is"),
                found: describe_found(found),
                state: CheckState::Matches,
                differences: Vec::new(),
            }),
        }
    }
    let differences = rows
        .iter()
        .flat_map(|r| {
            let at = match &r.partition {
                Some(p) => format!("{}/{p}", r.disk),
                None => r.disk.clone(),
            };
            r.differences.iter().map(move |d| format!("{at}: {d}"))
        })
        .collect();
    DiskCheck { rows, differences }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disko::from_json;
    use serde_json::json;

    fn layout() -> DiskLayout {
        from_json(&json!({"disk": {"main": {"type": "disk", "device": "/dev/vda", "content": {"type": "gpt", "partitions": {
            "ESP": {"size": "512M", "type": "EF00", "content": {"type": "filesystem", "format": "vfat", "mountpoint": "/boot"}},
            "root": {"size": "100%", "content": {"type": "filesystem", "format": "ext4", "mountpoint": "/"}},
            "swap": {"size": "1G", "content": {"type": "swap"}}
        }}}}}))
        .unwrap()
    }

    fn part(
        path: &str,
        label: &str,
        size: u64,
        fstype: Option<&str>,
        mount: Option<&str>,
    ) -> BlockDevice {
        BlockDevice {
            name: path.trim_start_matches("/dev/").into(),
            path: path.into(),
            size_bytes: size,
            kind: "part".into(),
            fstype: fstype.map(Into::into),
            partlabel: Some(label.into()),
            mountpoints: mount.into_iter().map(Into::into).collect(),
            ..BlockDevice::default()
        }
    }

    fn facts(children: Vec<BlockDevice>) -> HostFacts {
        HostFacts {
            disks: vec![BlockDevice {
                name: "vda".into(),
                path: "/dev/vda".into(),
                size_bytes: 10 << 30,
                kind: "disk".into(),
                pttype: Some("gpt".into()),
                children,
                ..BlockDevice::default()
            }],
            ..HostFacts::default()
        }
    }

    #[test]
    fn an_install_as_laid_out_matches() {
        let f = facts(vec![
            part(
                "/dev/vda1",
                "disk-main-ESP",
                512 << 20,
                Some("vfat"),
                Some("/boot"),
            ),
            part("/dev/vda2", "disk-main-swap", 1 << 30, Some("swap"), None),
            part(
                "/dev/vda3",
                "disk-main-root",
                (10 << 30) - (1537 << 20),
                Some("ext4"),
                Some("/"),
            ),
        ]);
        let check = compare(&layout(), &f);
        assert!(check.differences.is_empty(), "{:?}", check.differences);
        assert_eq!(check.rows.len(), 4);
    }

    #[test]
    fn a_missing_partition_another_size_and_a_file_system_not_found_are_called_out() {
        let f = facts(vec![
            part(
                "/dev/vda1",
                "disk-main-ESP",
                1 << 30,
                Some("vfat"),
                Some("/boot"),
            ),
            part(
                "/dev/vda2",
                "disk-main-root",
                8 << 30,
                Some("xfs"),
                Some("/"),
            ),
        ]);
        let check = compare(&layout(), &f);
        let all = check.differences.join("\n");
        assert!(
            all.contains("main/ESP: is 1 GiB, the layout gives it 512 MiB"),
            "{all}"
        );
        assert!(
            all.contains("main/root: ext4 not found: /dev/vda2 holds xfs"),
            "{all}"
        );
        assert!(
            all.contains("main/swap: partition swap is missing"),
            "{all}"
        );
        let mut missing = layout();
        missing
            .disk
            .as_mut()
            .unwrap()
            .get_mut("main")
            .unwrap()
            .device = Some("/dev/vdz".into());
        let check = compare(&missing, &f);
        assert_eq!(check.rows[0].state, CheckState::Missing);
    }
}
