//! Ready layouts for the common cases, for the disks the user picked and the
//! machine's boot mode. UEFI variants get a 512M vfat ESP at `/boot`; BIOS
//! variants a 1M BIOS boot partition (EF02) on each GPT disk for GRUB, plus a plain
//! `/boot` where GRUB could not read the root (LUKS, ZFS).

use super::error::LayoutError;
use super::import::from_json;
use super::model::DiskLayout;
use crate::facts::BootMode;
use serde::Serialize;
use serde_json::{json, Map, Value};

/// Where the LUKS template's volume reads its passphrase while formatting:
/// nixos-anywhere's `--disk-encryption-keys` puts the typed passphrase there
/// (on the installer's RAM disk), so disko never prompts.
pub const LUKS_PASSWORD_FILE: &str = "/tmp/secret.key";

/// A template's name and what it makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct TemplateInfo {
    /// The name to instantiate it by.
    pub name: &'static str,
    /// A short title for a list.
    pub title: &'static str,
    /// What the layout is, in a sentence.
    pub description: &'static str,
    /// How many disks it needs.
    pub disks: usize,
}

const TEMPLATES: &[TemplateInfo] = &[
    TemplateInfo {
        name: "ext4",
        title: "GPT + ext4",
        description: "One disk: a 512M EFI system partition (or a BIOS boot partition) and an ext4 root on the rest, as in the article.",
        disks: 1,
    },
    TemplateInfo {
        name: "btrfs",
        title: "btrfs with subvolumes",
        description: "One disk with btrfs: subvolumes for /, /home and /nix, zstd compression, noatime.",
        disks: 1,
    },
    TemplateInfo {
        name: "luks-btrfs",
        title: "Encrypted btrfs (LUKS)",
        description: "One disk, LUKS-encrypted (passphrase asked when formatting and at boot), btrfs subvolumes for /, /home and /nix inside.",
        disks: 1,
    },
    TemplateInfo {
        name: "lvm",
        title: "LVM: root and home",
        description: "One disk as an LVM volume group `pool`: half of it ext4 root, the rest ext4 /home.",
        disks: 1,
    },
    TemplateInfo {
        name: "mdadm-raid1",
        title: "Two-disk RAID1 (mdadm)",
        description: "Two disks mirrored with mdadm: ext4 root on the array, the boot partition on both disks.",
        disks: 2,
    },
    TemplateInfo {
        name: "zfs-mirror",
        title: "Two-disk ZFS mirror",
        description: "Two disks as a mirrored zpool `zroot` with datasets for /, /nix and /home (zstd compression).",
        disks: 2,
    },
];

/// The templates, in the order to offer them.
pub fn templates() -> &'static [TemplateInfo] {
    TEMPLATES
}

/// The layout of template `name` on `disks` (device paths, one per disk the
/// template needs) for a machine booting with `boot`.
pub fn instantiate(
    name: &str,
    disks: &[String],
    boot: BootMode,
) -> Result<DiskLayout, LayoutError> {
    let info =
        TEMPLATES
            .iter()
            .find(|t| t.name == name)
            .ok_or_else(|| LayoutError::UnknownTemplate {
                name: name.to_string(),
                known: TEMPLATES
                    .iter()
                    .map(|t| t.name)
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
    if disks.len() != info.disks {
        return Err(LayoutError::TemplateDisks {
            template: name.to_string(),
            needed: info.disks,
            given: disks.len(),
        });
    }
    let uefi = boot == BootMode::Uefi;
    let devices = match name {
        "ext4" => one_disk(&disks[0], boot_partition(uefi), "root", ext4("/")),
        "btrfs" => one_disk(&disks[0], boot_partition(uefi), "root", btrfs()),
        "luks-btrfs" => {
            let mut parts = boot_partition(uefi);
            if !uefi {
                // GRUB cannot read this LUKS2 volume: keep /boot outside it.
                parts.insert(
                    "bootfs".into(),
                    json!({ "size": "1G", "content": ext4("/boot") }),
                );
            }
            let luks = json!({
                "type": "luks",
                "name": "crypted",
                // nixdeck runs disko without a terminal: the passphrase typed
                // in the install form is copied here (--disk-encryption-keys)
                // instead of disko asking for it.
                "passwordFile": LUKS_PASSWORD_FILE,
                "settings": { "allowDiscards": true },
                "content": btrfs(),
            });
            one_disk(&disks[0], parts, "luks", luks)
        }
        "lvm" => {
            let mut devices = one_disk(
                &disks[0],
                boot_partition(uefi),
                "lvm",
                json!({ "type": "lvm_pv", "vg": "pool" }),
            );
            devices["lvm_vg"] = json!({ "pool": { "type": "lvm_vg", "lvs": {
                "root": { "size": "50%VG", "content": ext4("/") },
                "home": { "size": "100%FREE", "content": ext4("/home") },
            } } });
            devices
        }
        "mdadm-raid1" => {
            let member = |disk: &str| {
                let mut parts = Map::new();
                if uefi {
                    // metadata 1.0 keeps the superblock at the end, so firmware sees plain vfat.
                    parts.insert("ESP".into(), json!({ "type": "EF00", "size": "512M", "content": { "type": "mdraid", "name": "boot" } }));
                } else {
                    parts.insert("boot".into(), json!({ "type": "EF02", "size": "1M" }));
                }
                parts.insert(
                    "mdadm".into(),
                    json!({ "size": "100%", "content": { "type": "mdraid", "name": "root" } }),
                );
                gpt_disk(disk, parts)
            };
            let mut arrays = Map::new();
            if uefi {
                arrays.insert("boot".into(), json!({ "type": "mdadm", "level": 1, "metadata": "1.0", "content": esp_filesystem() }));
            }
            arrays.insert(
                "root".into(),
                json!({ "type": "mdadm", "level": 1, "content": ext4("/") }),
            );
            json!({ "disk": { "disk1": member(&disks[0]), "disk2": member(&disks[1]) }, "mdadm": arrays })
        }
        _ => {
            let member = |disk: &str, first: bool| {
                let mut parts = Map::new();
                if uefi {
                    let mountpoint = if first { "/boot" } else { "/boot-fallback" };
                    let mut esp = esp_filesystem();
                    esp["mountpoint"] = json!(mountpoint);
                    parts.insert(
                        "ESP".into(),
                        json!({ "type": "EF00", "size": "512M", "content": esp }),
                    );
                } else {
                    parts.insert("boot".into(), json!({ "type": "EF02", "size": "1M" }));
                    // GRUB reads only some ZFS features: a plain /boot keeps booting simple,
                    // and its twin on the second disk keeps the mirror's halves equal.
                    let mountpoint = if first { "/boot" } else { "/boot-fallback" };
                    parts.insert(
                        "bootfs".into(),
                        json!({ "size": "1G", "content": ext4(mountpoint) }),
                    );
                }
                parts.insert(
                    "zfs".into(),
                    json!({ "size": "100%", "content": { "type": "zfs", "pool": "zroot" } }),
                );
                gpt_disk(disk, parts)
            };
            let dataset = |mountpoint: &str| json!({ "type": "zfs_fs", "mountpoint": mountpoint, "options": { "mountpoint": "legacy" } });
            json!({
                "disk": { "disk1": member(&disks[0], true), "disk2": member(&disks[1], false) },
                "zpool": { "zroot": {
                    "type": "zpool",
                    "mode": "mirror",
                    "options": { "ashift": "12" },
                    "rootFsOptions": {
                        "compression": "zstd",
                        "acltype": "posixacl",
                        "xattr": "sa",
                        "mountpoint": "none",
                        "com.sun:auto-snapshot": "false",
                    },
                    "datasets": {
                        "root": dataset("/"),
                        "nix": dataset("/nix"),
                        "home": dataset("/home"),
                    },
                } },
            })
        }
    };
    from_json(&devices)
}

fn esp_filesystem() -> Value {
    json!({ "type": "filesystem", "format": "vfat", "mountpoint": "/boot", "mountOptions": ["umask=0077"] })
}

fn ext4(mountpoint: &str) -> Value {
    json!({ "type": "filesystem", "format": "ext4", "mountpoint": mountpoint })
}

fn btrfs() -> Value {
    let subvolume = |mountpoint: &str| json!({ "mountpoint": mountpoint, "mountOptions": ["compress=zstd", "noatime"] });
    json!({
        "type": "btrfs",
        "extraArgs": ["-f"],
        "subvolumes": {
            "/root": subvolume("/"),
            "/home": subvolume("/home"),
            "/nix": subvolume("/nix"),
        },
    })
}

/// The ESP (UEFI) or the BIOS boot partition (BIOS), in the article's shape.
fn boot_partition(uefi: bool) -> Map<String, Value> {
    let mut parts = Map::new();
    if uefi {
        parts.insert(
            "ESP".into(),
            json!({ "type": "EF00", "size": "512M", "content": esp_filesystem() }),
        );
    } else {
        parts.insert("boot".into(), json!({ "type": "EF02", "size": "1M" }));
    }
    parts
}

fn gpt_disk(device: &str, partitions: Map<String, Value>) -> Value {
    json!({ "device": device, "type": "disk", "content": { "type": "gpt", "partitions": partitions } })
}

/// One disk: the boot partitions, then `name` taking the rest.
fn one_disk(device: &str, mut partitions: Map<String, Value>, name: &str, content: Value) -> Value {
    partitions.insert(name.into(), json!({ "size": "100%", "content": content }));
    json!({ "disk": { "main": gpt_disk(device, partitions) } })
}
