//! What the editor draws for each item of a layout, in words: its option path as
//! findings and edits print it (names quoted where Nix needs it), the JSON keys
//! that lead to it, its name, and a label and detail to show verbatim. The window
//! lays these out; it never reads disko's types or prints a path itself.

use super::error::OptionPath;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One item of the layout as the editor shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct LayoutNode {
    /// Its option path (`disko.devices.disk.main.content.partitions.ESP`), as
    /// findings, plans and edits name it.
    pub path: String,
    /// The keys from `disko.devices` to it in the layout's JSON, to read its options.
    pub keys: Vec<String>,
    /// The path of the node it belongs to; `None` for disks, volume groups,
    /// arrays and pools.
    pub parent: Option<String>,
    /// `disk`, `volume_group`, `md_array`, `zpool`, `partition`, `volume`,
    /// `dataset`, `subvolume`, or a content type (`gpt`, `luks`, `btrfs`,
    /// `filesystem`, `swap`, `lvm_pv`, `mdraid`, `zfs`…).
    pub kind: String,
    /// Its name in the layout (a partition's, a subvolume's); empty for contents.
    pub name: String,
    /// What to show first (`LUKS crypted`, `vfat`, `ESP`).
    pub label: String,
    /// What to show after it (`/boot`, `encrypted`, `→ volume group pool`).
    pub detail: String,
    /// A heading for devices: the names on the way, without `content`
    /// (`disk / main`).
    pub title: String,
    /// The `size` as written (`512M`, `100%`), for items that have one.
    pub size: Option<String>,
}

/// Every item of `layout` (disko's JSON for `disko.devices`), parents before children.
pub fn layout_nodes(layout: &Value) -> Vec<LayoutNode> {
    let mut out = Vec::new();
    let root = OptionPath::devices();
    let groups = [
        ("disk", "disk"),
        ("mdadm", "md_array"),
        ("lvm_vg", "volume_group"),
        ("zpool", "zpool"),
    ];
    for (key, kind) in groups {
        for (name, item) in entries(layout.get(key)) {
            let path = root.child(key).child(name);
            let (label, detail) = match kind {
                "disk" => (name.to_string(), text(item, "device").to_string()),
                "zpool" => (format!("zpool {name}"), pool_mode(item)),
                _ => (name.to_string(), String::new()),
            };
            push(&mut out, &path, None, kind, name, label, detail, item);
            let at = path.to_string();
            match kind {
                "volume_group" => {
                    for (lv, value) in entries(item.get("lvs")) {
                        let lv_path = path.child("lvs").child(lv);
                        push(
                            &mut out,
                            &lv_path,
                            Some(&at),
                            "volume",
                            lv,
                            lv.to_string(),
                            String::new(),
                            value,
                        );
                        content(&mut out, value.get("content"), &lv_path);
                    }
                }
                "zpool" => {
                    for (ds, value) in entries(item.get("datasets")) {
                        let ds_path = path.child("datasets").child(ds);
                        push(
                            &mut out,
                            &ds_path,
                            Some(&at),
                            "dataset",
                            ds,
                            ds.to_string(),
                            text(value, "mountpoint").to_string(),
                            value,
                        );
                        content(&mut out, value.get("content"), &ds_path);
                    }
                }
                _ => content(&mut out, item.get("content"), &path),
            }
        }
    }
    out
}

/// The content at `owner.content` and what it holds.
fn content(out: &mut Vec<LayoutNode>, value: Option<&Value>, owner: &OptionPath) {
    let Some(value) = value.filter(|v| v.is_object()) else {
        return;
    };
    let path = owner.child("content");
    let parent = owner.to_string();
    let kind = text(value, "type");
    let mount = text(value, "mountpoint");
    let or = |s: &str, other: &str| {
        if s.is_empty() {
            other.to_string()
        } else {
            s.to_string()
        }
    };
    let (label, detail) = match kind {
        "filesystem" => (
            or(text(value, "format"), "filesystem"),
            or(mount, "not mounted"),
        ),
        "swap" => (
            "swap".to_string(),
            if value.get("randomEncryption").is_some_and(truthy) {
                "random encryption".to_string()
            } else {
                String::new()
            },
        ),
        "luks" => (format!("LUKS {}", text(value, "name")), "encrypted".into()),
        "btrfs" => {
            let count = entries(value.get("subvolumes")).count();
            ("btrfs".into(), or(mount, &format!("{count} subvolumes")))
        }
        "lvm_pv" => (
            "LVM PV".into(),
            format!("→ volume group {}", text(value, "vg")),
        ),
        "mdraid" => (
            "RAID member".into(),
            format!("→ array {}", text(value, "name")),
        ),
        "zfs" => (
            "ZFS member".into(),
            format!("→ pool {}", text(value, "pool")),
        ),
        "gpt" => ("GPT".into(), "partition table".into()),
        other => (other.to_string(), String::new()),
    };
    push(out, &path, Some(&parent), kind, "", label, detail, value);
    let at = path.to_string();
    match kind {
        "luks" => content(out, value.get("content"), &path),
        "btrfs" => {
            for (name, sub) in entries(value.get("subvolumes")) {
                let sub_path = path.child("subvolumes").child(name);
                let detail = or(text(sub, "mountpoint"), "not mounted");
                push(
                    out,
                    &sub_path,
                    Some(&at),
                    "subvolume",
                    name,
                    name.to_string(),
                    detail,
                    sub,
                );
            }
        }
        "gpt" => {
            for (name, part) in entries(value.get("partitions")) {
                let part_path = path.child("partitions").child(name);
                partition(out, &part_path, &at, name, part);
            }
        }
        "table" => {
            let parts = value.get("partitions").and_then(Value::as_array);
            for (i, part) in parts.into_iter().flatten().enumerate() {
                let part_path = path.child("partitions").index(i);
                let name = text(part, "name");
                partition(out, &part_path, &at, name, part);
            }
        }
        _ => {}
    }
}

fn partition(out: &mut Vec<LayoutNode>, path: &OptionPath, parent: &str, name: &str, part: &Value) {
    push(
        out,
        path,
        Some(parent),
        "partition",
        name,
        name.to_string(),
        String::new(),
        part,
    );
    content(out, part.get("content"), path);
}

#[allow(clippy::too_many_arguments)]
fn push(
    out: &mut Vec<LayoutNode>,
    path: &OptionPath,
    parent: Option<&str>,
    kind: &str,
    name: &str,
    label: String,
    detail: String,
    value: &Value,
) {
    let keys = path.keys();
    let title = keys
        .iter()
        .filter(|k| k.as_str() != "content")
        .cloned()
        .collect::<Vec<_>>()
        .join(" / ");
    out.push(LayoutNode {
        path: path.to_string(),
        keys,
        parent: parent.map(str::to_string),
        kind: kind.to_string(),
        name: name.to_string(),
        label,
        detail,
        title,
        size: value
            .get("size")
            .and_then(Value::as_str)
            .map(str::to_string),
    });
}

fn entries(value: Option<&Value>) -> impl Iterator<Item = (&str, &Value)> {
    value
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(Map::iter)
        .map(|(k, v)| (k.as_str(), v))
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn truthy(value: &Value) -> bool {
    !matches!(value, Value::Null | Value::Bool(false))
}

/// A pool's `mode` in words: a plain mode, `stripe` when empty, or `topology`.
fn pool_mode(pool: &Value) -> String {
    match pool.get("mode") {
        None | Some(Value::Null) => "stripe".into(),
        Some(Value::String(mode)) if mode.is_empty() => "stripe".into(),
        Some(Value::String(mode)) => mode.clone(),
        Some(_) => "topology".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn layout() -> Value {
        json!({
            "disk": { "main": { "type": "disk", "device": "/dev/vda", "content": {
                "type": "gpt",
                "partitions": {
                    "ESP": { "size": "512M", "content": { "type": "filesystem", "format": "vfat", "mountpoint": "/boot" } },
                    "luks": { "size": "100%", "content": {
                        "type": "luks", "name": "crypted",
                        "content": { "type": "btrfs", "subvolumes": {
                            "/root": { "mountpoint": "/" },
                            "/nix": { "mountpoint": "/nix" }
                        } }
                    } }
                }
            } } }
        })
    }

    fn node<'a>(nodes: &'a [LayoutNode], path: &str) -> &'a LayoutNode {
        nodes
            .iter()
            .find(|n| n.path == path)
            .unwrap_or_else(|| panic!("no node {path} in {nodes:#?}"))
    }

    #[test]
    fn partitions_and_what_they_hold_as_labelled_nodes() {
        let nodes = layout_nodes(&layout());
        let p = "disko.devices.disk.main.content.partitions";
        let disk = node(&nodes, "disko.devices.disk.main");
        assert_eq!(
            (disk.kind.as_str(), disk.detail.as_str()),
            ("disk", "/dev/vda")
        );
        assert_eq!(disk.parent, None);
        let esp = node(&nodes, &format!("{p}.ESP"));
        assert_eq!(esp.kind, "partition");
        assert_eq!(esp.name, "ESP");
        assert_eq!(esp.size.as_deref(), Some("512M"));
        assert_eq!(esp.keys, ["disk", "main", "content", "partitions", "ESP"]);
        assert_eq!(
            esp.parent.as_deref(),
            Some("disko.devices.disk.main.content")
        );
        let fs = node(&nodes, &format!("{p}.ESP.content"));
        assert_eq!(
            (fs.kind.as_str(), fs.label.as_str(), fs.detail.as_str()),
            ("filesystem", "vfat", "/boot")
        );
        let luks = node(&nodes, &format!("{p}.luks.content"));
        assert_eq!(
            (luks.label.as_str(), luks.detail.as_str()),
            ("LUKS crypted", "encrypted")
        );
        let btrfs = node(&nodes, &format!("{p}.luks.content.content"));
        assert_eq!(btrfs.parent.as_deref(), Some(luks.path.as_str()));
        assert_eq!(btrfs.detail, "2 subvolumes");
        let subs: Vec<_> = nodes
            .iter()
            .filter(|n| n.parent.as_deref() == Some(btrfs.path.as_str()))
            .map(|n| (n.label.as_str(), n.detail.as_str(), n.path.as_str()))
            .collect();
        assert_eq!(
            subs,
            [
                (
                    "/root",
                    "/",
                    format!("{p}.luks.content.content.subvolumes.\"/root\"").as_str()
                ),
                (
                    "/nix",
                    "/nix",
                    format!("{p}.luks.content.content.subvolumes.\"/nix\"").as_str()
                ),
            ]
        );
        let gpt = node(&nodes, "disko.devices.disk.main.content");
        assert_eq!(gpt.title, "disk / main");
    }

    #[test]
    fn names_are_quoted_in_paths_where_nix_needs_it_and_kept_in_keys() {
        for name in ["ESP", "/root", "a \"b\"", "x${y}", "in"] {
            let layout = json!({ "disk": { name: { "type": "disk", "device": "/dev/vda" } } });
            let nodes = layout_nodes(&layout);
            let disk = &nodes[0];
            assert_eq!(disk.keys, ["disk", name]);
            assert_eq!(disk.name, name);
            let expected = match name {
                "ESP" => "disko.devices.disk.ESP".to_string(),
                "/root" => "disko.devices.disk.\"/root\"".to_string(),
                "a \"b\"" => "disko.devices.disk.\"a \\\"b\\\"\"".to_string(),
                "x${y}" => "disko.devices.disk.\"x\\${y}\"".to_string(),
                _ => "disko.devices.disk.\"in\"".to_string(),
            };
            assert_eq!(disk.path, expected, "{name}");
        }
    }

    #[test]
    fn volume_groups_pools_and_legacy_tables() {
        let layout = json!({
            "disk": { "old": { "type": "disk", "device": "/dev/sda", "content": {
                "type": "table", "format": "gpt",
                "partitions": [ { "name": "root", "start": "1M", "end": "100%",
                    "content": { "type": "lvm_pv", "vg": "pool" } } ]
            } } },
            "lvm_vg": { "pool": { "type": "lvm_vg", "lvs": {
                "root": { "size": "20G", "content": { "type": "swap", "randomEncryption": true } }
            } } },
            "zpool": { "zroot": { "type": "zpool", "mode": "", "datasets": {
                "root": { "type": "zfs_fs", "mountpoint": "/" }
            } } }
        });
        let nodes = layout_nodes(&layout);
        let part = node(&nodes, "disko.devices.disk.old.content.partitions[0]");
        assert_eq!(
            (part.kind.as_str(), part.name.as_str()),
            ("partition", "root")
        );
        assert_eq!(part.keys, ["disk", "old", "content", "partitions", "0"]);
        let pv = node(
            &nodes,
            "disko.devices.disk.old.content.partitions[0].content",
        );
        assert_eq!(pv.detail, "→ volume group pool");
        let lv = node(&nodes, "disko.devices.lvm_vg.pool.lvs.root");
        assert_eq!(
            (lv.kind.as_str(), lv.size.as_deref()),
            ("volume", Some("20G"))
        );
        let swap = node(&nodes, "disko.devices.lvm_vg.pool.lvs.root.content");
        assert_eq!(swap.detail, "random encryption");
        let pool = node(&nodes, "disko.devices.zpool.zroot");
        assert_eq!(
            (pool.label.as_str(), pool.detail.as_str()),
            ("zpool zroot", "stripe")
        );
        let ds = node(&nodes, "disko.devices.zpool.zroot.datasets.root");
        assert_eq!((ds.kind.as_str(), ds.detail.as_str()), ("dataset", "/"));
    }
}
