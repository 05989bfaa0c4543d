//! What applying an edited layout to an installed host means. disko's
//! `format` mode only creates what is missing — a partition table on a disk
//! that has none (`blkid` finds nothing), partitions `sgdisk --new` can still
//! make, file systems where `blkid` reports no `TYPE` — so a change that only
//! adds (a new disk, a new partition after the existing ones) can be applied
//! without erasing; anything else (a resize, another format, a removed or
//! reordered partition, a changed pool or volume group) needs a reinstall,
//! which erases the disks. Computed from the saved and the edited layout alone.

use super::model::{Content, DiskLayout, Gpt, GptPartition};
use super::render::to_json;
use serde::Serialize;
use serde_json::Value;

/// The verdict on an edited layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ChangeVerdict {
    /// The layout is the saved one.
    Unchanged,
    /// Only additions: disko's format mode applies them without erasing.
    AddOnly,
    /// Only a reinstall applies it, and that erases the disks.
    Reinstall,
}

/// One difference between the saved and the edited layout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct LayoutChange {
    /// In words.
    pub text: String,
    /// Applying it erases data.
    pub erases: bool,
}

/// What applying the edited layout means, in plain words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct LayoutChanges {
    /// The verdict.
    pub verdict: ChangeVerdict,
    /// One sentence for the person: what applying means.
    pub statement: String,
    /// The differences, in the layout's order.
    pub changes: Vec<LayoutChange>,
    /// How to apply it, when that is possible without a reinstall.
    pub how: Option<String>,
}

/// Where a device's content makes it a member of a group, as `(kind, group)`.
fn member_of(content: &Value, out: &mut Vec<(&'static str, String)>) {
    let Some(map) = content.as_object() else {
        return;
    };
    let field = match map.get("type").and_then(Value::as_str) {
        Some("mdraid") => Some(("mdadm", "name")),
        Some("lvm_pv") => Some(("lvm_vg", "vg")),
        Some("zfs") => Some(("zpool", "pool")),
        Some("bcachefs") => Some(("bcachefs_filesystems", "filesystem")),
        _ => None,
    };
    if let Some((kind, key)) = field {
        if let Some(name) = map.get(key).and_then(Value::as_str) {
            out.push((kind, name.to_string()));
        }
    }
    for value in map.values() {
        match value {
            Value::Object(_) => member_of(value, out),
            Value::Array(items) => items.iter().for_each(|v| member_of(v, out)),
            _ => {}
        }
    }
}

/// disko's creation order of a GPT's partitions: by `priority` (default 100
/// for `EF02`, 9001 for `100%`, else 1000), then by name (Nix lists an
/// attribute set's values sorted by name, and its sort is stable).
fn creation_order(gpt: &Gpt) -> Vec<(&String, &GptPartition)> {
    let mut parts: Vec<(&String, &GptPartition)> = gpt.partitions.iter().flatten().collect();
    parts.sort_by(|(a, pa), (b, pb)| (priority(pa), a.as_str()).cmp(&(priority(pb), b.as_str())));
    parts
}

fn priority(p: &GptPartition) -> i64 {
    if let Some(p) = p.priority {
        return p;
    }
    if p.type_.as_deref() == Some("EF02") {
        100
    } else if p.size.as_deref() == Some("100%") {
        9001
    } else {
        1000
    }
}

/// What a partition holds, in a few words (`ext4 at /data`, `swap`, `LUKS`).
fn holds(content: Option<&Content>) -> String {
    match content {
        None => "nothing".into(),
        Some(Content::Filesystem(fs)) => match (&fs.format, &fs.mountpoint) {
            (Some(f), Some(m)) => format!("{f} at {m}"),
            (Some(f), None) => format!("{f}, not mounted"),
            _ => "a file system".into(),
        },
        Some(Content::Swap(_)) => "swap".into(),
        Some(Content::Luks(l)) => format!("LUKS \"{}\"", l.name.as_deref().unwrap_or("?")),
        Some(other) => other.type_name().to_string(),
    }
}

fn json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or_default()
}

/// The partitions `new` adds after `old`'s, when that is all that changed.
fn added_partitions<'a>(old: &Gpt, new: &'a Gpt) -> Option<Vec<(&'a String, &'a GptPartition)>> {
    let (old_parts, new_parts) = (creation_order(old), creation_order(new));
    if new_parts.len() <= old_parts.len() {
        return None;
    }
    let same_prefix = old_parts
        .iter()
        .zip(&new_parts)
        .all(|((an, ap), (bn, bp))| an == bn && json(ap) == json(bp));
    // A partition that takes the rest of the disk leaves no free space after it.
    let room = old_parts
        .iter()
        .all(|(_, p)| p.size.as_deref() != Some("100%"));
    let mut rest_of_gpt = json(old);
    let mut rest_of_new = json(new);
    for v in [&mut rest_of_gpt, &mut rest_of_new] {
        if let Some(m) = v.as_object_mut() {
            m.remove("partitions");
        }
    }
    (same_prefix && room && rest_of_gpt == rest_of_new)
        .then(|| new_parts[old_parts.len()..].to_vec())
}

/// When `new` only adds partitions to `old` but one would be made before an
/// existing one (or after one that takes the rest of the disk), says which
/// and how to add it in place instead.
fn misplaced(old: &Gpt, new: &Gpt) -> Option<String> {
    let old_parts = creation_order(old);
    let unchanged = old_parts.iter().all(|(n, p)| {
        new.partitions
            .as_ref()
            .and_then(|m| m.get(*n))
            .is_some_and(|q| json(q) == json(*p))
    });
    if !unchanged {
        return None;
    }
    if let Some((full, _)) = old_parts
        .iter()
        .find(|(_, p)| p.size.as_deref() == Some("100%"))
    {
        return Some(format!(
            "{full} takes the rest of the disk, so there is no free space for a new partition"
        ));
    }
    let new_parts = creation_order(new);
    let (first_new, _) = new_parts
        .iter()
        .find(|(n, _)| !old_parts.iter().any(|(o, _)| o == n))?;
    let last_old = old_parts.last().map(|(n, _)| n.as_str())?;
    Some(format!(
        "the new partition {first_new} would be made before {last_old} (disko numbers partitions by priority, then by name), which renumbers the disk; name it to sort after {last_old}, or give it a higher priority, to add it in place"
    ))
}

/// Compares the saved layout `old` with the edited `new`.
pub fn layout_changes(old: &DiskLayout, new: &DiskLayout) -> LayoutChanges {
    if to_json(old) == to_json(new) {
        return LayoutChanges {
            verdict: ChangeVerdict::Unchanged,
            statement: "Nothing to apply: this is the layout the host was installed with.".into(),
            changes: Vec::new(),
            how: None,
        };
    }
    let mut changes = Vec::new();
    let mut push = |text: String, erases: bool| changes.push(LayoutChange { text, erases });
    let old_disks = old.disk.clone().unwrap_or_default();
    let new_disks = new.disk.clone().unwrap_or_default();
    // Groups that exist already: a new member joining one changes it.
    let existing_groups = |kind: &str, name: &str| -> bool {
        let j = to_json(old);
        j.get(kind).and_then(|k| k.get(name)).is_some()
    };
    for (name, disk) in &new_disks {
        let device = disk.device.as_deref().unwrap_or("?");
        match old_disks.get(name) {
            None => {
                let reused = old_disks
                    .iter()
                    .find(|(_, d)| d.device.is_some() && d.device == disk.device);
                let mut groups = Vec::new();
                member_of(&json(&disk.content), &mut groups);
                let joins: Vec<String> = groups
                    .iter()
                    .filter(|(k, g)| existing_groups(k, g))
                    .map(|(k, g)| format!("{k} {g}"))
                    .collect();
                if let Some((old_name, _)) = reused {
                    push(
                        format!("disk {name} takes {device}, which held disk {old_name}: its data is erased"),
                        true,
                    );
                } else if !joins.is_empty() {
                    push(
                        format!(
                            "new disk {name} ({device}) joins {}, which exists already: changing it needs a reinstall",
                            joins.join(", ")
                        ),
                        true,
                    );
                } else {
                    push(
                        format!("new disk {name} ({device}): set up on a blank disk, the others are left as they are"),
                        false,
                    );
                }
            }
            Some(before) if json(before) == json(disk) => {}
            Some(before) => {
                if before.device != disk.device {
                    push(
                        format!(
                            "disk {name} now names {device} instead of {}: that disk is erased",
                            before.device.as_deref().unwrap_or("?")
                        ),
                        true,
                    );
                    continue;
                }
                let added = match (before.content.as_deref(), disk.content.as_deref()) {
                    (Some(Content::Gpt(a)), Some(Content::Gpt(b))) => added_partitions(a, b),
                    _ => None,
                };
                match added {
                    Some(parts) => {
                        for (part, p) in parts {
                            push(
                                format!(
                                    "new partition {part} on disk {name} ({}, {}): made in the free space after the existing partitions",
                                    p.size.as_deref().unwrap_or("?"),
                                    holds(p.content.as_deref())
                                ),
                                false,
                            );
                        }
                    }
                    None => {
                        let why = match (before.content.as_deref(), disk.content.as_deref()) {
                            (Some(Content::Gpt(a)), Some(Content::Gpt(b))) => misplaced(a, b),
                            _ => None,
                        };
                        push(
                            why.map_or_else(
                                || format!(
                                    "disk {name} ({device}) is laid out differently (sizes, order, formats or encryption): that disk is erased"
                                ),
                                |why| format!("disk {name} ({device}): {why}: that disk is erased"),
                            ),
                            true,
                        )
                    }
                }
            }
        }
    }
    for (name, disk) in &old_disks {
        if !new_disks.contains_key(name) {
            push(
                format!(
                    "disk {name} ({}) is no longer in the layout: nothing on it is erased, NixOS just stops mounting it",
                    disk.device.as_deref().unwrap_or("?")
                ),
                false,
            );
        }
    }
    let (old_json, new_json) = (to_json(old), to_json(new));
    for kind in ["mdadm", "lvm_vg", "zpool", "bcachefs_filesystems", "nodev"] {
        let empty = serde_json::Map::new();
        let before = old_json
            .get(kind)
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let after = new_json
            .get(kind)
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        for (name, value) in after {
            match before.get(name) {
                Some(v) if v == value => {}
                Some(_) if kind == "nodev" => push(
                    format!(
                        "mount {name} changed: nothing on disk changes, the next deploy mounts it"
                    ),
                    false,
                ),
                Some(_) => push(
                    format!("{kind} {name} changed: its member disks are erased"),
                    true,
                ),
                None if kind == "nodev" => push(
                    format!("new mount {name}: nothing on disk changes, the next deploy mounts it"),
                    false,
                ),
                None => push(format!("new {kind} {name}, made from new members"), false),
            }
        }
        for name in before.keys().filter(|n| !after.contains_key(*n)) {
            push(
                format!("{kind} {name} is no longer in the layout: nothing is erased, it is just not used"),
                false,
            );
        }
    }
    if changes.iter().any(|c| c.erases) {
        let mut erased: Vec<&str> = new_disks
            .values()
            .filter_map(|d| d.device.as_deref())
            .collect();
        erased.dedup();
        return LayoutChanges {
            verdict: ChangeVerdict::Reinstall,
            statement: format!(
                "Applying this layout means reinstalling the host: nixos-anywhere ERASES {} and installs again. Copy off what you need first.",
                if erased.is_empty() { "its disks".to_string() } else { erased.join(", ") }
            ),
            changes,
            how: None,
        };
    }
    LayoutChanges {
        verdict: ChangeVerdict::AddOnly,
        statement: "This change only adds: it can be applied without erasing anything.".into(),
        changes,
        how: Some(
            "On the host, run disko with the new disko.nix in format mode (`disko --mode format`): it makes a partition table only on a disk that has none, partitions that do not exist yet, and file systems only where none is found, and leaves the rest as it is. Then redeploy, so that NixOS mounts what is new.".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disko::from_json;
    use serde_json::json;

    fn base() -> Value {
        json!({"disk": {"main": {"type": "disk", "device": "/dev/vda", "content": {"type": "gpt", "partitions": {
            "ESP": {"size": "512M", "type": "EF00", "content": {"type": "filesystem", "format": "vfat", "mountpoint": "/boot"}},
            "root": {"size": "20G", "content": {"type": "filesystem", "format": "ext4", "mountpoint": "/"}}
        }}}}})
    }

    fn changes(old: &Value, new: &Value) -> LayoutChanges {
        layout_changes(&from_json(old).unwrap(), &from_json(new).unwrap())
    }

    #[test]
    fn the_same_layout_has_nothing_to_apply() {
        let c = changes(&base(), &base());
        assert_eq!(c.verdict, ChangeVerdict::Unchanged);
        assert!(c.changes.is_empty());
    }

    #[test]
    fn a_partition_in_free_space_and_a_new_disk_apply_without_erasing() {
        let mut new = base();
        new["disk"]["main"]["content"]["partitions"]["data"] = json!({"size": "100%", "content": {"type": "filesystem", "format": "xfs", "mountpoint": "/data"}});
        new["disk"]["spare"] = json!({"type": "disk", "device": "/dev/vdb", "content": {"type": "gpt", "partitions": {
            "backup": {"size": "100%", "content": {"type": "filesystem", "format": "ext4", "mountpoint": "/backup"}}}}});
        let c = changes(&base(), &new);
        assert_eq!(c.verdict, ChangeVerdict::AddOnly, "{c:?}");
        let text: Vec<&str> = c.changes.iter().map(|x| x.text.as_str()).collect();
        assert!(
            text.iter().any(
                |t| t.contains("new partition data on disk main") && t.contains("xfs at /data")
            ),
            "{text:?}"
        );
        assert!(
            text.iter().any(|t| t.contains("new disk spare (/dev/vdb)")),
            "{text:?}"
        );
        assert!(c.how.as_deref().unwrap().contains("--mode format"));
    }

    #[test]
    fn a_resize_or_a_partition_after_the_rest_of_the_disk_needs_a_reinstall() {
        let mut resized = base();
        resized["disk"]["main"]["content"]["partitions"]["root"]["size"] = json!("30G");
        let c = changes(&base(), &resized);
        assert_eq!(c.verdict, ChangeVerdict::Reinstall);
        assert!(c.statement.contains("ERASES /dev/vda"), "{}", c.statement);

        let mut full = base();
        full["disk"]["main"]["content"]["partitions"]["root"]["size"] = json!("100%");
        let mut more = full.clone();
        more["disk"]["main"]["content"]["partitions"]["swap"] =
            json!({"size": "4G", "content": {"type": "swap"}});
        // swap sorts before root (priority 1000 < 9001) and there is no room after root.
        let c = changes(&full, &more);
        assert_eq!(c.verdict, ChangeVerdict::Reinstall);
        assert!(
            c.changes[0]
                .text
                .contains("root takes the rest of the disk"),
            "{c:?}"
        );
        let mut early = base();
        early["disk"]["main"]["content"]["partitions"]["data"] = json!({"size": "1G", "content": {"type": "filesystem", "format": "ext4", "mountpoint": "/data"}});
        let c = changes(&base(), &early);
        assert_eq!(c.verdict, ChangeVerdict::Reinstall);
        assert!(
            c.changes[0].text.contains("data would be made before root"),
            "{c:?}"
        );
    }

    #[test]
    fn a_removed_disk_erases_nothing_but_a_reused_device_does() {
        let mut two = base();
        two["disk"]["spare"] = json!({"type": "disk", "device": "/dev/vdb"});
        let c = changes(&two, &base());
        assert_eq!(c.verdict, ChangeVerdict::AddOnly);
        assert!(c.changes[0].text.contains("no longer in the layout"));
        let mut moved = base();
        moved["disk"]["data"] = json!({"type": "disk", "device": "/dev/vdb", "content": {"type": "gpt", "partitions": {}}});
        let c = changes(&two, &moved);
        assert_eq!(c.verdict, ChangeVerdict::Reinstall, "{c:?}");
    }
}
