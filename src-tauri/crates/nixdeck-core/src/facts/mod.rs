//! What nixdeck knows about a target machine: the facts its SSH probe reads
//! (disks from `lsblk`, stable `/dev/disk/by-id` names, architecture, boot mode,
//! memory, OS, tools). Stored with the host so the layout editor works offline.
//!
//! These are plain data; the probe that fills them lives in `nixdeck-engine`,
//! the parsers of the commands' output live here so they can be tested on saved
//! output of many machines.

use serde::{Deserialize, Serialize};

pub mod lsblk;
pub mod report;

/// Everything the probe learned about one target, at one moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default, ts_rs::TS)]
pub struct HostFacts {
    /// Seconds since the Unix epoch when the probe ran.
    pub probed_at: u64,
    /// The address the probe connected to, as the user gave it.
    pub address: String,
    /// `hostname` on the target.
    pub hostname: String,
    /// `uname -m`, e.g. `x86_64`.
    pub machine: String,
    /// The Nix system string for `machine`, when NixOS supports it (`x86_64-linux`).
    pub system: Option<String>,
    /// `uname -s`, e.g. `Linux`.
    pub kernel_name: String,
    pub kernel_release: String,
    pub boot_mode: BootMode,
    /// `MemTotal` from `/proc/meminfo`, in bytes.
    pub memory_bytes: u64,
    pub os: OsRelease,
    /// The target already runs a NixOS installer (no kexec needed).
    pub is_nixos_installer: bool,
    /// `systemd-detect-virt` (`kvm`, `none`, …) when it could be read.
    pub virtualization: Option<String>,
    /// `systemd-detect-virt --container` when it names a container (`lxc`, `docker`…).
    pub container: Option<String>,
    /// The user the probe logged in as.
    pub user: String,
    /// How root rights are obtained on the target.
    pub privilege: Privilege,
    pub tools: TargetTools,
    /// Block devices, top level first, as `lsblk` nests them.
    pub disks: Vec<BlockDevice>,
    /// Things the probe could not read, in words (e.g. "sudo asks for a password").
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// Firmware boot mode: whether `/sys/firmware/efi` exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum BootMode {
    Uefi,
    #[default]
    Bios,
}

/// The fields of `/etc/os-release` nixdeck shows and checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, ts_rs::TS)]
pub struct OsRelease {
    pub id: String,
    pub version_id: String,
    pub pretty_name: String,
    pub variant_id: String,
}

/// How the probe's user gets root on the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Privilege {
    /// Logged in as root.
    Root,
    /// `sudo -n true` succeeds.
    SudoWithoutPassword,
    /// `doas -n true` succeeds.
    DoasWithoutPassword,
    /// Neither: root-only facts could not be read and nixos-anywhere will refuse.
    #[default]
    None,
}

/// The programs nixos-anywhere looks for on the target (its `get-facts.sh`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, ts_rs::TS)]
pub struct TargetTools {
    pub tar: bool,
    pub cpio: bool,
    /// `setsid` that supports `--wait`.
    pub setsid_wait: bool,
    pub sudo: bool,
    pub doas: bool,
    pub wget: bool,
    pub curl: bool,
    pub nixos_facter: bool,
}

/// One block device as `lsblk` reports it, with its stable names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default, ts_rs::TS)]
pub struct BlockDevice {
    /// Kernel name (`sda`, `nvme0n1p2`, `vg-root`).
    pub name: String,
    /// Device path (`/dev/sda`).
    pub path: String,
    pub size_bytes: u64,
    /// `lsblk` TYPE: `disk`, `part`, `lvm`, `crypt`, `raid1`, `loop`, `rom`, …
    pub kind: String,
    /// Model as the kernel reports it, untrimmed (trim only to display).
    pub model: Option<String>,
    pub serial: Option<String>,
    pub wwn: Option<String>,
    /// Transport: `nvme`, `sata`, `usb`, `virtio`…
    pub transport: Option<String>,
    pub rotational: bool,
    pub removable: bool,
    pub read_only: bool,
    pub fstype: Option<String>,
    pub label: Option<String>,
    pub uuid: Option<String>,
    pub partlabel: Option<String>,
    /// Partition table type on a disk: `gpt`, `dos`.
    pub pttype: Option<String>,
    /// Where it is mounted (several for btrfs subvolumes).
    pub mountpoints: Vec<String>,
    /// `/dev/disk/by-id/…` links that resolve to this device, best first.
    pub by_id: Vec<String>,
    pub children: Vec<BlockDevice>,
}

impl BlockDevice {
    /// The name a layout should use: the best `/dev/disk/by-id/` link, else the path.
    pub fn stable_name(&self) -> &str {
        self.by_id
            .first()
            .map_or(self.path.as_str(), String::as_str)
    }

    /// Whether anything is on it: partitions, a filesystem, a mount, a holder.
    pub fn holds_data(&self) -> bool {
        self.fstype.is_some()
            || self.pttype.is_some()
            || !self.mountpoints.is_empty()
            || !self.children.is_empty()
    }

    /// Every mountpoint on this device and below it (so `/` on a partition shows on the disk).
    pub fn all_mountpoints(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self.mountpoints.iter().map(String::as_str).collect();
        for child in &self.children {
            out.extend(child.all_mountpoints());
        }
        out
    }

    /// Whether it can be an install target: a whole disk that is not a zram,
    /// optical, read-only or empty device.
    pub fn is_install_candidate(&self) -> bool {
        matches!(self.kind.as_str(), "disk" | "loop")
            && self.size_bytes > 0
            && !self.read_only
            && !self.name.starts_with("zram")
    }

    /// Whether it is noise in a disk list unless asked for: a snap's squashfs
    /// loop device, or an empty or unattached device.
    pub fn is_noise(&self) -> bool {
        let snap = self.kind == "loop"
            && (self.fstype.as_deref() == Some("squashfs")
                || self.mountpoints.iter().any(|m| m.starts_with("/snap/")));
        snap || self.size_bytes == 0
    }

    /// The model as people read it: trimmed.
    pub fn display_model(&self) -> Option<&str> {
        self.model
            .as_deref()
            .map(str::trim)
            .filter(|m| !m.is_empty())
    }
}

impl HostFacts {
    /// The top-level device that `name` designates: its path, a by-id link, or its kernel name.
    pub fn find_disk(&self, name: &str) -> Option<&BlockDevice> {
        self.disks
            .iter()
            .find(|d| d.path == name || d.name == name || d.by_id.iter().any(|link| link == name))
    }
}

/// The Nix system string for a `uname -m` value, when NixOS runs there.
pub fn nix_system(machine: &str) -> Option<&'static str> {
    match machine {
        "x86_64" | "amd64" => Some("x86_64-linux"),
        "aarch64" | "arm64" => Some("aarch64-linux"),
        "i686" | "i386" => Some("i686-linux"),
        "armv7l" => Some("armv7l-linux"),
        "riscv64" => Some("riscv64-linux"),
        _ => None,
    }
}
