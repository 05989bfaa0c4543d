//! The visual editor's edits: small, named changes to a layout (resize, add,
//! remove, reorder, rename, set an option), each applied to the layout's JSON
//! model at an option path and read back through the model's own import, so an
//! edit can never produce a layout disko would not read. And [`view`]: what the
//! editor draws after each edit (the layout, its findings, the `disko.nix` text,
//! the to-scale plans and the probed disks behind them).
//!
//! Invalid *values* (a size such as `20X`) are kept and reported as findings, so
//! the person sees the mistake on the drawing and fixes it; edits that cannot be
//! carried out (no such partition, a name already taken) are refused.

use super::error::OptionPath;
use super::import::from_json;
use super::model::DiskLayout;
use super::nodes::{layout_nodes, LayoutNode};
use super::render::{render, to_json};
use super::space::{plan_for_host, LayoutSpace};
use super::validate::{validate, Diagnostic};
use super::LayoutError;
use crate::facts::HostFacts;
use crate::preflight::LayoutNeeds;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use thiserror::Error;

/// One change the editor asks for. `path` is an option path as findings and
/// plans print it (`disko.devices.disk.main.content.partitions.root`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LayoutEdit {
    /// Sets the `size` of the partition, logical volume, swap file or zvol at `path`
    /// (`512M`, `20G`, `100%`; `100%FREE` for logical volumes).
    SetSize {
        /// The item's option path.
        path: String,
        /// The size as typed.
        size: String,
    },
    /// Adds `value` under the set at `path` (`…content.partitions`, `…lvs`,
    /// `…subvolumes`, `…datasets`) as `name`, or a fresh `part<N>` name.
    Add {
        /// The option path of the set.
        path: String,
        /// The new item's name; `None` picks `part<N>`.
        name: Option<String>,
        /// The new item, as disko's JSON.
        value: Value,
    },
    /// Removes the named item at `path`.
    Remove {
        /// The item's option path.
        path: String,
    },
    /// Moves the named item at `path` by `by` places among its siblings. For GPT
    /// partitions the creation order follows (explicit `priority` values), so the
    /// drawing shows the new order.
    Move {
        /// The item's option path.
        path: String,
        /// Places to move: negative is earlier.
        by: i64,
    },
    /// Renames the named item at `path`, keeping its place.
    Rename {
        /// The item's option path.
        path: String,
        /// The new name.
        to: String,
    },
    /// Sets the option at `path` to `value`; `null` unsets it.
    Set {
        /// The option's path.
        path: String,
        /// The new value, as disko's JSON.
        value: Value,
    },
}

/// Why an edit could not be carried out.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum EditError {
    /// The option path cannot be read.
    #[error("{0:?} is not an option path of this layout (expected disko.devices.…)")]
    BadPath(String),
    /// Nothing is at the path.
    #[error("there is nothing at {0}: the layout changed under the editor; reload it")]
    NotFound(String),
    /// The new name is taken or empty.
    #[error("{0}")]
    BadName(String),
    /// The edited layout is not a layout disko would read.
    #[error(transparent)]
    Layout(#[from] LayoutError),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Name(String),
    Index(usize),
}

/// Reads a printed option path back into steps, after `disko.devices`.
fn parse_path(text: &str) -> Result<Vec<Step>, EditError> {
    let bad = || EditError::BadPath(text.to_string());
    let mut steps = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        match chars.peek() {
            None => break,
            Some('.') if !steps.is_empty() => {
                chars.next();
            }
            Some('[') => {
                chars.next();
                let mut digits = String::new();
                for c in chars.by_ref() {
                    if c == ']' {
                        break;
                    }
                    digits.push(c);
                }
                steps.push(Step::Index(digits.parse().map_err(|_| bad())?));
                continue;
            }
            _ => {}
        }
        match chars.peek() {
            Some('"') => {
                chars.next();
                let mut name = String::new();
                loop {
                    match chars.next().ok_or_else(bad)? {
                        '"' => break,
                        '\\' => match chars.next().ok_or_else(bad)? {
                            'n' => name.push('\n'),
                            'r' => name.push('\r'),
                            't' => name.push('\t'),
                            c => name.push(c),
                        },
                        c => name.push(c),
                    }
                }
                steps.push(Step::Name(name));
            }
            Some(_) => {
                let mut name = String::new();
                while let Some(&c) = chars.peek() {
                    if c == '.' || c == '[' {
                        break;
                    }
                    name.push(c);
                    chars.next();
                }
                if name.is_empty() {
                    return Err(bad());
                }
                steps.push(Step::Name(name));
            }
            None => break,
        }
    }
    match steps.as_slice() {
        [Step::Name(a), Step::Name(b), ..] if a == "disko" && b == "devices" => {
            Ok(steps.split_off(2))
        }
        _ => Err(bad()),
    }
}

fn get_mut<'v>(
    root: &'v mut Value,
    steps: &[Step],
    text: &str,
) -> Result<&'v mut Value, EditError> {
    let mut at = root;
    for step in steps {
        at = match step {
            Step::Name(name) => at.as_object_mut().and_then(|o| o.get_mut(name)),
            Step::Index(i) => at.as_array_mut().and_then(|a| a.get_mut(*i)),
        }
        .ok_or_else(|| EditError::NotFound(text.to_string()))?;
    }
    Ok(at)
}

/// The parent set of the named item at `steps`, and the item's name.
fn parent_set<'v>(
    root: &'v mut Value,
    steps: &[Step],
    text: &str,
) -> Result<(&'v mut Map<String, Value>, String), EditError> {
    let Some((Step::Name(name), parent)) = steps.split_last() else {
        return Err(EditError::BadPath(text.to_string()));
    };
    let set = get_mut(root, parent, text)?
        .as_object_mut()
        .ok_or_else(|| EditError::NotFound(text.to_string()))?;
    if !set.contains_key(name) {
        return Err(EditError::NotFound(text.to_string()));
    }
    Ok((set, name.clone()))
}

fn check_name(set: &Map<String, Value>, name: &str) -> Result<(), EditError> {
    if name.trim().is_empty() || name.contains('\0') {
        return Err(EditError::BadName(
            "give it a name: letters, digits, `-` or `_` (e.g. `data`)".into(),
        ));
    }
    if set.contains_key(name) {
        return Err(EditError::BadName(format!(
            "there is already one named `{name}` here: choose another name"
        )));
    }
    Ok(())
}

/// Whether the set at `steps` holds GPT partitions (its parent is `type = "gpt"`).
fn is_gpt_partitions(root: &Value, steps: &[Step]) -> bool {
    let Some((Step::Name(last), parent)) = steps.split_last() else {
        return false;
    };
    let mut at = root;
    for step in parent {
        let next = match step {
            Step::Name(n) => at.get(n),
            Step::Index(i) => at.get(i),
        };
        match next {
            Some(v) => at = v,
            None => return false,
        }
    }
    last == "partitions" && at.get("type").and_then(Value::as_str) == Some("gpt")
}

/// Applies `edit` to `layout`.
pub fn apply(layout: &DiskLayout, edit: &LayoutEdit) -> Result<DiskLayout, EditError> {
    let mut devices = to_json(layout);
    match edit {
        LayoutEdit::SetSize { path, size } => {
            let steps = parse_path(path)?;
            let item = get_mut(&mut devices, &steps, path)?
                .as_object_mut()
                .ok_or_else(|| EditError::NotFound(path.clone()))?;
            item.insert("size".into(), Value::String(size.trim().to_string()));
        }
        LayoutEdit::Add { path, name, value } => {
            let steps = parse_path(path)?;
            let target = get_mut(&mut devices, &steps, path);
            let set = match target {
                Ok(v) => v,
                Err(_) => {
                    // A missing set (no `lvs` yet): create it under its parent.
                    let Some((Step::Name(key), parent)) = steps.split_last() else {
                        return Err(EditError::BadPath(path.clone()));
                    };
                    let parent = get_mut(&mut devices, parent, path)?
                        .as_object_mut()
                        .ok_or_else(|| EditError::NotFound(path.clone()))?;
                    parent
                        .entry(key.clone())
                        .or_insert_with(|| Value::Object(Map::new()))
                }
            }
            .as_object_mut()
            .ok_or_else(|| EditError::NotFound(path.clone()))?;
            let name = match name {
                Some(n) => n.trim().to_string(),
                None => (1..)
                    .map(|i| format!("part{i}"))
                    .find(|n| !set.contains_key(n))
                    .unwrap_or_default(),
            };
            check_name(set, &name)?;
            // New fixed-size partitions go before the one that takes the rest.
            let rest = set.values().position(|v| {
                v.get("size").and_then(Value::as_str) == Some("100%")
                    && value.get("size").and_then(Value::as_str) != Some("100%")
            });
            match rest {
                Some(index) => {
                    set.shift_insert(index, name, value.clone());
                }
                None => {
                    set.insert(name, value.clone());
                }
            }
        }
        LayoutEdit::Remove { path } => {
            let steps = parse_path(path)?;
            let (set, name) = parent_set(&mut devices, &steps, path)?;
            set.shift_remove(&name);
        }
        LayoutEdit::Rename { path, to } => {
            let steps = parse_path(path)?;
            let (set, name) = parent_set(&mut devices, &steps, path)?;
            let to = to.trim();
            if to == name {
                return Ok(layout.clone());
            }
            check_name(set, to)?;
            let index = set.keys().position(|k| *k == name).unwrap_or(0);
            if let Some(value) = set.shift_remove(&name) {
                set.shift_insert(index, to.to_string(), value);
            }
        }
        LayoutEdit::Move { path, by } => {
            let steps = parse_path(path)?;
            let gpt = is_gpt_partitions(&devices, &steps[..steps.len().saturating_sub(1)]);
            let (set, name) = parent_set(&mut devices, &steps, path)?;
            let from = set.keys().position(|k| *k == name).unwrap_or(0) as i64;
            let to = (from + by).clamp(0, set.len() as i64 - 1) as usize;
            if let Some(value) = set.shift_remove(&name) {
                set.shift_insert(to, name, value);
            }
            if gpt {
                // disko creates partitions by priority (ties by name): make the
                // order the person chose the order sgdisk follows.
                for (i, part) in set.values_mut().enumerate() {
                    if let Some(part) = part.as_object_mut() {
                        part.insert("priority".into(), Value::from((i as i64 + 1) * 100));
                    }
                }
            }
        }
        LayoutEdit::Set { path, value } => {
            let steps = parse_path(path)?;
            let Some((Step::Name(key), parent)) = steps.split_last() else {
                return Err(EditError::BadPath(path.clone()));
            };
            let parent = get_mut(&mut devices, parent, path)?
                .as_object_mut()
                .ok_or_else(|| EditError::NotFound(path.clone()))?;
            if value.is_null() {
                parent.shift_remove(key);
            } else {
                parent.insert(key.clone(), value.clone());
            }
        }
    }
    Ok(from_json(&devices)?)
}

/// A disk of the layout with what the probe knows of it.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct LayoutDisk {
    /// The disk's name in the layout (`main`).
    pub name: String,
    /// Its option path (`disko.devices.disk.main`).
    pub path: String,
    /// The `device` the layout names.
    pub device: Option<String>,
    /// The probed disk it designates, when there is one.
    pub size_bytes: Option<u64>,
    /// Its model, trimmed.
    pub model: Option<String>,
    /// Its serial number.
    pub serial: Option<String>,
    /// Its transport (`nvme`, `sata`…).
    pub transport: Option<String>,
    /// Its best `/dev/disk/by-id/` name.
    pub stable_name: Option<String>,
    /// Kernel path (`/dev/sda`).
    pub kernel_path: Option<String>,
}

/// What the editor draws: the layout, its findings, `disko.nix`, the to-scale plans.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct LayoutView {
    /// The layout as disko's JSON (`disko.devices`), which the editor sends back with each edit.
    /// Always an object.
    #[ts(as = "Map<String, Value>")]
    pub layout: Value,
    /// Findings, errors first.
    pub diagnostics: Vec<Diagnostic>,
    /// The `disko.nix` that would be written.
    pub preview: String,
    /// Partitions and volumes as byte ranges, and free space.
    pub space: LayoutSpace,
    /// The layout's disks with their probed identity.
    pub disks: Vec<LayoutDisk>,
    /// What the layout needs from the machine (for preflight).
    pub needs: LayoutNeeds,
    /// Every item of the layout with the path, label and detail the editor shows.
    pub nodes: Vec<LayoutNode>,
    /// The layout in plain words, one line per disk and group, shown as it is.
    pub summary: Vec<String>,
    /// A fingerprint of everything above: an edit names the view it was made
    /// on by it, so that its answer can carry only what changed.
    pub digest: String,
}

/// The digest of `view`'s content, read while its own `digest` is still empty.
fn fingerprint(view: &LayoutView) -> String {
    use std::hash::Hasher;
    /// Feeds serde_json's output straight into the hasher.
    struct Feed(std::hash::DefaultHasher);
    impl std::io::Write for Feed {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.write(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    // A fixed-key hasher: the same view gives the same digest for as long as
    // the app runs, which is as long as a window holds one.
    let mut feed = Feed(std::hash::DefaultHasher::new());
    // Writing into a hasher cannot fail; a view always serializes.
    let _ = serde_json::to_writer(&mut feed, view);
    format!("{:016x}", feed.0.finish())
}

/// The editor's view of `layout` on the probed host.
pub fn view(layout: &DiskLayout, facts: Option<&HostFacts>) -> LayoutView {
    let disks = layout
        .disk
        .iter()
        .flatten()
        .map(|(name, disk)| {
            let probed = disk
                .device
                .as_deref()
                .and_then(|d| facts.and_then(|f| f.find_disk(d)));
            LayoutDisk {
                name: name.clone(),
                path: OptionPath::devices().child("disk").child(name).to_string(),
                device: disk.device.clone(),
                size_bytes: probed.map(|d| d.size_bytes),
                model: probed.and_then(|d| d.display_model().map(str::to_string)),
                serial: probed.and_then(|d| d.serial.clone()),
                transport: probed.and_then(|d| d.transport.clone()),
                stable_name: probed.map(|d| d.stable_name().to_string()),
                kernel_path: probed.map(|d| d.path.clone()),
            }
        })
        .collect();
    let json = to_json(layout);
    let mut view = LayoutView {
        nodes: layout_nodes(&json),
        layout: json,
        diagnostics: validate(layout, facts),
        preview: render(layout),
        space: facts.map(|f| plan_for_host(layout, f)).unwrap_or_default(),
        disks,
        needs: super::layout_needs(layout),
        summary: super::summary(layout, facts).lines(),
        digest: String::new(),
    };
    view.digest = fingerprint(&view);
    view
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disko::templates::instantiate;
    use crate::disko::Rule;
    use crate::facts::{BlockDevice, BootMode};
    use serde_json::json;

    fn btrfs() -> DiskLayout {
        instantiate(
            "btrfs",
            &["/dev/disk/by-id/virtio-abc".into()],
            BootMode::Uefi,
        )
        .unwrap()
    }

    fn facts() -> HostFacts {
        HostFacts {
            boot_mode: BootMode::Uefi,
            disks: vec![BlockDevice {
                name: "vda".into(),
                path: "/dev/vda".into(),
                size_bytes: 20 << 30,
                kind: "disk".into(),
                by_id: vec!["/dev/disk/by-id/virtio-abc".into()],
                ..BlockDevice::default()
            }],
            ..HostFacts::default()
        }
    }

    const PARTS: &str = "disko.devices.disk.main.content.partitions";

    fn sizes(view: &LayoutView) -> Vec<(String, u64)> {
        view.space.plans[0]
            .segments
            .iter()
            .map(|s| (s.label.clone(), s.size))
            .collect()
    }

    #[test]
    fn a_views_digest_follows_its_content() {
        let layout = btrfs();
        let first = view(&layout, Some(&facts()));
        assert_eq!(first.digest, view(&layout, Some(&facts())).digest);
        assert_ne!(
            first.digest,
            view(&layout, None).digest,
            "the probed disks are drawn"
        );
        let path = first
            .nodes
            .iter()
            .find(|n| n.kind == "partition")
            .expect("a partition")
            .path
            .clone();
        let resized = apply(
            &layout,
            &LayoutEdit::SetSize {
                path,
                size: "2G".into(),
            },
        )
        .unwrap();
        assert_ne!(first.digest, view(&resized, Some(&facts())).digest);
    }

    #[test]
    fn paths_are_read_back_as_printed() {
        let printed = OptionPath::devices()
            .child("disk")
            .child("my \"disk\"")
            .child("content")
            .child("subvolumes")
            .child("/root")
            .index(2)
            .to_string();
        assert_eq!(
            parse_path(&printed).unwrap(),
            vec![
                Step::Name("disk".into()),
                Step::Name("my \"disk\"".into()),
                Step::Name("content".into()),
                Step::Name("subvolumes".into()),
                Step::Name("/root".into()),
                Step::Index(2),
            ]
        );
        assert!(parse_path("disk.main").is_err());
        assert!(parse_path("disko.devices.disk.\"open").is_err());
    }

    #[test]
    fn resizing_changes_the_drawing_and_the_file() {
        let layout = btrfs();
        let edited = apply(
            &layout,
            &LayoutEdit::SetSize {
                path: format!("{PARTS}.ESP"),
                size: "1G".into(),
            },
        )
        .unwrap();
        let view = view(&edited, Some(&facts()));
        assert!(view.preview.contains("size = \"1G\";"), "{}", view.preview);
        let s = sizes(&view);
        assert_eq!(s[0], ("ESP".to_string(), 1 << 30));
        assert!(view
            .diagnostics
            .iter()
            .all(|d| d.severity != crate::disko::Severity::Error));
    }

    #[test]
    fn an_invalid_size_is_kept_and_reported_until_fixed() {
        let bad = apply(
            &btrfs(),
            &LayoutEdit::SetSize {
                path: format!("{PARTS}.ESP"),
                size: "12X".into(),
            },
        )
        .unwrap();
        let v = view(&bad, Some(&facts()));
        let finding = v
            .diagnostics
            .iter()
            .find(|d| d.path.starts_with(&format!("{PARTS}.ESP")))
            .expect("a finding on the ESP");
        assert_eq!(finding.severity, crate::disko::Severity::Error);
        let fixed = apply(
            &bad,
            &LayoutEdit::SetSize {
                path: format!("{PARTS}.ESP"),
                size: "512M".into(),
            },
        )
        .unwrap();
        assert_eq!(fixed, btrfs());
    }

    #[test]
    fn adding_goes_before_the_rest_of_the_disk_and_removing_undoes_it() {
        let layout = btrfs();
        let added = apply(
            &layout,
            &LayoutEdit::Add {
                path: PARTS.into(),
                name: None,
                value: json!({ "size": "4G", "content": { "type": "swap" } }),
            },
        )
        .unwrap();
        let json = to_json(&added);
        let names: Vec<&String> = json["disk"]["main"]["content"]["partitions"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(names, ["ESP", "part1", "root"]);
        let v = view(&added, Some(&facts()));
        let s = sizes(&v);
        assert_eq!(s.iter().find(|(n, _)| n == "part1").unwrap().1, 4 << 30);
        let removed = apply(
            &added,
            &LayoutEdit::Remove {
                path: format!("{PARTS}.part1"),
            },
        )
        .unwrap();
        assert_eq!(removed, layout);
        // A name already there is refused, with what to do.
        let err = apply(
            &layout,
            &LayoutEdit::Add {
                path: PARTS.into(),
                name: Some("ESP".into()),
                value: json!({ "size": "1G" }),
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("choose another name"));
    }

    #[test]
    fn moving_a_partition_sets_the_creation_order() {
        let added = apply(
            &btrfs(),
            &LayoutEdit::Add {
                path: PARTS.into(),
                name: Some("swap".into()),
                value: json!({ "size": "2G", "content": { "type": "swap" } }),
            },
        )
        .unwrap();
        let moved = apply(
            &added,
            &LayoutEdit::Move {
                path: format!("{PARTS}.swap"),
                by: -1,
            },
        )
        .unwrap();
        let v = view(&moved, Some(&facts()));
        let labels: Vec<String> = sizes(&v).into_iter().map(|(n, _)| n).collect();
        assert_eq!(labels, ["swap", "ESP", "root"]);
        assert!(v.space.plans[0].segments[0].offset < v.space.plans[0].segments[1].offset);
    }

    #[test]
    fn set_and_rename_edit_nested_options() {
        let layout = btrfs();
        let sub = "disko.devices.disk.main.content.partitions.root.content.subvolumes";
        let set = apply(
            &layout,
            &LayoutEdit::Set {
                path: format!("{sub}.\"/home\".mountpoint"),
                value: json!("/srv"),
            },
        )
        .unwrap();
        assert!(render(&set).contains("mountpoint = \"/srv\";"));
        let renamed = apply(
            &set,
            &LayoutEdit::Rename {
                path: format!("{sub}.\"/home\""),
                to: "/srv".into(),
            },
        )
        .unwrap();
        let json = to_json(&renamed);
        let keys: Vec<&String> = json["disk"]["main"]["content"]["partitions"]["root"]["content"]
            ["subvolumes"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(keys, ["/root", "/srv", "/nix"]);
        // Unsetting an option removes it from the file.
        let unset = apply(
            &layout,
            &LayoutEdit::Set {
                path: format!("{PARTS}.root.content.extraArgs"),
                value: Value::Null,
            },
        )
        .unwrap();
        assert!(!render(&unset).contains("extraArgs"));
        // A value of the wrong shape is refused by the model's import, with its path.
        let err = apply(
            &layout,
            &LayoutEdit::Set {
                path: format!("{PARTS}.root.size"),
                value: json!(5),
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("partitions.root.size"), "{err}");
        assert!(matches!(
            apply(
                &layout,
                &LayoutEdit::Remove {
                    path: format!("{PARTS}.nope")
                }
            ),
            Err(EditError::NotFound(_))
        ));
    }

    #[test]
    fn two_full_size_partitions_are_a_finding() {
        let v = view(
            &apply(
                &btrfs(),
                &LayoutEdit::SetSize {
                    path: format!("{PARTS}.ESP"),
                    size: "100%".into(),
                },
            )
            .unwrap(),
            Some(&facts()),
        );
        assert!(v
            .diagnostics
            .iter()
            .any(|d| d.rule == Rule::SeveralFullSize));
    }

    #[test]
    fn view_names_the_probed_disk_and_what_the_layout_needs() {
        let v = view(&btrfs(), Some(&facts()));
        assert_eq!(v.disks[0].kernel_path.as_deref(), Some("/dev/vda"));
        assert_eq!(v.disks[0].size_bytes, Some(20 << 30));
        assert!(v.needs.esp && v.needs.gpt && !v.needs.bios_boot);
        assert_eq!(v.needs.disks, ["/dev/disk/by-id/virtio-abc"]);
        let bios = instantiate("ext4", &["/dev/vda".into()], BootMode::Bios).unwrap();
        let n = crate::disko::layout_needs(&bios);
        assert!(n.bios_boot && !n.esp);
    }
}
