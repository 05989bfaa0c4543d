//! Parsing `lsblk --json -b -o …` output of every util-linux vintage into
//! [`BlockDevice`]s, and attaching the `/dev/disk/by-id/` links to them.
//!
//! Vintages differ: before 2.37 a device has `mountpoint` (a string or null),
//! from 2.37 `mountpoints` (a list, `[null]` when unmounted); old versions print
//! every value as a string (`"size": "150798336"`, `"rm": "0"`); versions before
//! 2.33 have no `path` column. All of that is accepted here. Sizes must be bytes
//! (`-b`): a human size such as `"96G"` is refused, since it cannot be compared.

use super::BlockDevice;
use serde_json::{Map, Value};
use thiserror::Error;

/// The columns the probe asks for, newest util-linux first; each later list
/// drops columns an older `lsblk` does not know. Named columns only, never
/// `-O`: util-linux 2.38.0 prints invalid JSON for some of the others.
pub const COLUMN_SETS: [&str; 3] = [
    "NAME,KNAME,PATH,SIZE,TYPE,MODEL,SERIAL,WWN,TRAN,ROTA,RM,RO,FSTYPE,LABEL,UUID,PARTLABEL,PTTYPE,MOUNTPOINTS",
    "NAME,KNAME,PATH,SIZE,TYPE,MODEL,SERIAL,WWN,TRAN,ROTA,RM,RO,FSTYPE,LABEL,UUID,PARTLABEL,PTTYPE,MOUNTPOINT",
    "NAME,KNAME,SIZE,TYPE,MODEL,SERIAL,WWN,TRAN,ROTA,RM,RO,FSTYPE,LABEL,UUID,PARTLABEL,MOUNTPOINT",
];

/// Output of `lsblk` that cannot be understood.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum LsblkError {
    /// Not JSON at all (or cut off).
    #[error("lsblk printed invalid JSON ({0}); util-linux 2.38.0 does this for some columns: ask for named columns only")]
    Json(String),
    /// JSON, but not lsblk's shape.
    #[error("lsblk output has no \"blockdevices\" list: {0}")]
    Shape(String),
    /// A device entry lacks a field nixdeck needs, or has it in a form it cannot read.
    #[error("lsblk device {device:?}: {problem}")]
    Field {
        /// The device's `name`, or its position when it has none.
        device: String,
        /// What is wrong, in words.
        problem: String,
    },
}

/// One `/dev/disk/by-id/` link: its file name and the kernel name it resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByIdLink {
    /// The link's file name, e.g. `nvme-Samsung_SSD_980_1TB_S64ANS0T123456`.
    pub link: String,
    /// The kernel name of its target, e.g. `nvme0n1` (`dm-0` for device mapper).
    pub kname: String,
}

/// Parses `lsblk --json -b` output (no by-id links attached).
pub fn parse(json: &str) -> Result<Vec<BlockDevice>, LsblkError> {
    parse_with_links(json, &[])
}

/// Parses `lsblk --json -b` output and attaches each by-id link to the device
/// whose kernel name it resolves to, best link first (see [`link_rank`]).
pub fn parse_with_links(json: &str, links: &[ByIdLink]) -> Result<Vec<BlockDevice>, LsblkError> {
    let root: Value = serde_json::from_str(json).map_err(|e| LsblkError::Json(e.to_string()))?;
    let list = root
        .get("blockdevices")
        .and_then(Value::as_array)
        .ok_or_else(|| LsblkError::Shape(excerpt(json)))?;
    list.iter()
        .enumerate()
        .map(|(i, v)| device(v, i, links))
        .collect()
}

/// Orders by-id link names: model/serial names (`nvme-…`, `ata-…`, `virtio-…`)
/// first, since a person recognises them and they survive a move to another
/// controller; then RAID/device-mapper names; then UUID-based ones; then WWN
/// and EUI names, which are stable but unreadable. Lower is better.
pub fn link_rank(link: &str) -> u8 {
    const WORLD_WIDE: [&str; 5] = ["wwn-", "nvme-eui.", "nvme-nvme.", "scsi-3", "scsi-2"];
    const NAMED: [&str; 8] = [
        "nvme-",
        "ata-",
        "scsi-",
        "virtio-",
        "usb-",
        "mmc-",
        "memstick-",
        "ieee1394-",
    ];
    if WORLD_WIDE.iter().any(|p| link.starts_with(p)) {
        4
    } else if NAMED.iter().any(|p| link.starts_with(p)) {
        0
    } else if link.starts_with("md-name-") || link.starts_with("dm-name-") {
        1
    } else if link.starts_with("md-uuid-")
        || link.starts_with("dm-uuid-")
        || link.starts_with("lvm-pv-uuid-")
    {
        2
    } else {
        3
    }
}

/// Splits a device-mapper LVM name into volume group and logical volume,
/// undoing the `--` escaping of `-` (`vg--data-root` → `vg-data`, `root`).
pub fn split_dm_name(name: &str) -> Option<(String, String)> {
    let bytes = name.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'-' {
            if bytes.get(i + 1) == Some(&b'-') {
                i += 2;
                continue;
            }
            let (vg, lv) = (&name[..i], &name[i + 1..]);
            if vg.is_empty() || lv.is_empty() {
                return None;
            }
            return Some((vg.replace("--", "-"), lv.replace("--", "-")));
        }
        i += 1;
    }
    None
}

fn device(v: &Value, index: usize, links: &[ByIdLink]) -> Result<BlockDevice, LsblkError> {
    let obj = v.as_object().ok_or_else(|| LsblkError::Field {
        device: format!("#{index}"),
        problem: format!("expected an object, got {}", excerpt(&v.to_string())),
    })?;
    let name = text(obj, "name").ok_or_else(|| LsblkError::Field {
        device: format!("#{index}"),
        problem: "no \"name\"".into(),
    })?;
    let err = |problem: String| LsblkError::Field {
        device: name.clone(),
        problem,
    };
    let kind = text(obj, "type").ok_or_else(|| err("no \"type\"".into()))?;
    let size_bytes = size(obj.get("size")).map_err(err)?;
    let kname = text(obj, "kname").unwrap_or_else(|| name.clone());
    let path = text(obj, "path").unwrap_or_else(|| default_path(&name, &kind));

    let mut by_id: Vec<String> = links
        .iter()
        .filter(|l| l.kname == kname)
        .map(|l| l.link.clone())
        .collect();
    by_id.sort_by(|a, b| link_rank(a).cmp(&link_rank(b)).then(a.cmp(b)));
    by_id.dedup();

    let children = match obj.get("children") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => list
            .iter()
            .enumerate()
            .map(|(i, c)| device(c, i, links))
            .collect::<Result<_, _>>()?,
        Some(other) => return Err(err(format!("\"children\" is not a list: {other}"))),
    };

    Ok(BlockDevice {
        path,
        size_bytes,
        model: raw_text(obj, "model"),
        serial: text(obj, "serial"),
        wwn: text(obj, "wwn"),
        transport: text(obj, "tran"),
        rotational: flag(obj, "rota").map_err(err)?,
        removable: flag(obj, "rm").map_err(err)?,
        read_only: flag(obj, "ro").map_err(err)?,
        fstype: text(obj, "fstype"),
        label: text(obj, "label"),
        uuid: text(obj, "uuid"),
        partlabel: text(obj, "partlabel"),
        pttype: text(obj, "pttype"),
        mountpoints: mountpoints(obj),
        by_id: by_id
            .into_iter()
            .map(|l| format!("/dev/disk/by-id/{l}"))
            .collect(),
        children,
        kind,
        name,
    })
}

/// Where a device lives when `lsblk` is too old to print `path`.
fn default_path(name: &str, kind: &str) -> String {
    match kind {
        "lvm" | "crypt" | "dm" | "mpath" => format!("/dev/mapper/{name}"),
        _ => format!("/dev/{name}"),
    }
}

/// A trimmed, non-empty string value (numbers as old lsblk prints them too).
fn text(obj: &Map<String, Value>, key: &str) -> Option<String> {
    raw_text(obj, key).map(|s| s.trim().to_string())
}

/// The value untrimmed (models are padded; they are compared whole), or
/// `None` when absent, null or blank.
fn raw_text(obj: &Map<String, Value>, key: &str) -> Option<String> {
    match obj.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn size(v: Option<&Value>) -> Result<u64, String> {
    match v {
        None | Some(Value::Null) => Ok(0),
        Some(Value::Number(n)) => n
            .as_u64()
            .ok_or_else(|| format!("size {n} is not a byte count")),
        Some(Value::String(s)) => s
            .trim()
            .parse::<u64>()
            .map_err(|_| format!("size {s:?} is not a byte count: run lsblk with -b (--bytes)")),
        Some(other) => Err(format!("size {other} is not a byte count")),
    }
}

fn flag(obj: &Map<String, Value>, key: &str) -> Result<bool, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::Number(n)) => Ok(n.as_u64() != Some(0)),
        Some(Value::String(s)) => match s.trim() {
            "1" | "true" => Ok(true),
            "0" | "false" | "" => Ok(false),
            other => Err(format!("{key} {other:?} is neither 0 nor 1")),
        },
        Some(other) => Err(format!("{key} {other} is neither 0 nor 1")),
    }
}

fn mountpoints(obj: &Map<String, Value>) -> Vec<String> {
    let mut out = Vec::new();
    let mut push = |v: &Value| {
        if let Value::String(s) = v {
            if !s.is_empty() && !out.contains(s) {
                out.push(s.clone());
            }
        }
    };
    if let Some(Value::Array(list)) = obj.get("mountpoints") {
        list.iter().for_each(&mut push);
    }
    if let Some(v) = obj.get("mountpoint") {
        push(v);
    }
    out
}

fn excerpt(s: &str) -> String {
    let s = s.trim();
    match s.char_indices().nth(80) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod fixtures;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_numbers_strings_and_both_mountpoint_spellings() {
        let json = r#"{"blockdevices":[
          {"name":"sda","size":"1000","type":"disk","rota":"1","rm":"0","ro":"0","mountpoint":null,
           "model":"ST1000 ","children":[
             {"name":"sda1","size":500,"type":"part","rota":true,"rm":false,"ro":false,"mountpoint":"/boot"}]},
          {"name":"vdb","size":2000,"type":"disk","mountpoints":[null]}]}"#;
        let devs = parse(json).unwrap();
        assert_eq!(devs[0].size_bytes, 1000);
        assert!(devs[0].rotational);
        assert!(!devs[0].removable);
        assert_eq!(devs[0].path, "/dev/sda");
        assert_eq!(devs[0].model.as_deref(), Some("ST1000 "));
        assert_eq!(devs[0].display_model(), Some("ST1000"));
        assert_eq!(devs[0].children[0].mountpoints, vec!["/boot"]);
        assert!(devs[1].mountpoints.is_empty());
    }

    #[test]
    fn human_sizes_are_refused_with_the_fix() {
        let err =
            parse(r#"{"blockdevices":[{"name":"sda","size":"96G","type":"disk"}]}"#).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("sda") && msg.contains("-b"), "{msg}");
    }

    #[test]
    fn malformed_output_names_the_problem() {
        assert!(matches!(
            parse("{\"blockdevices\": [ {\"zone-sz\": 0B"),
            Err(LsblkError::Json(_))
        ));
        assert!(matches!(
            parse("{\"devices\": []}"),
            Err(LsblkError::Shape(_))
        ));
        assert!(matches!(
            parse(r#"{"blockdevices":[{"size":1,"type":"disk"}]}"#),
            Err(LsblkError::Field { .. })
        ));
        assert!(matches!(
            parse(r#"{"blockdevices":[{"name":"sda","size":1,"type":"disk","rm":"maybe"}]}"#),
            Err(LsblkError::Field { .. })
        ));
    }

    #[test]
    fn links_attach_by_kernel_name_best_first() {
        let json = r#"{"blockdevices":[{"name":"nvme0n1","kname":"nvme0n1","size":1,"type":"disk",
            "children":[{"name":"crypt-root","kname":"dm-0","size":1,"type":"crypt"}]}]}"#;
        let links = [
            ("nvme-eui.0025385b01234567", "nvme0n1"),
            ("nvme-Samsung_SSD_980_S64A", "nvme0n1"),
            ("dm-uuid-CRYPT-LUKS2-abc-crypt-root", "dm-0"),
            ("dm-name-crypt-root", "dm-0"),
        ]
        .map(|(l, k)| ByIdLink {
            link: l.into(),
            kname: k.into(),
        });
        let devs = parse_with_links(json, &links).unwrap();
        assert_eq!(
            devs[0].stable_name(),
            "/dev/disk/by-id/nvme-Samsung_SSD_980_S64A"
        );
        assert_eq!(devs[0].by_id.len(), 2);
        let crypt = &devs[0].children[0];
        assert_eq!(crypt.path, "/dev/mapper/crypt-root");
        assert_eq!(crypt.stable_name(), "/dev/disk/by-id/dm-name-crypt-root");
    }

    #[test]
    fn dm_names_unescape() {
        assert_eq!(
            split_dm_name("vg--data-root"),
            Some(("vg-data".into(), "root".into()))
        );
        assert_eq!(
            split_dm_name("pool-my--lv"),
            Some(("pool".into(), "my-lv".into()))
        );
        assert_eq!(split_dm_name("cryptroot"), None);
    }
}
