//! `btrfs` (lib/types/btrfs.nix): a btrfs filesystem with subvolumes and swap files.

use super::Named;
use crate::disko::value::disko_options;

disko_options! {
    /// A btrfs filesystem (`type = "btrfs"`).
    pub struct Btrfs {
        /// Extra arguments to `mkfs.btrfs` (e.g. `-f`, `-d raid1` with more devices).
        "extraArgs" => extra_args: Vec<String>,
        /// Subvolumes, by path inside the filesystem (`/root`, `/home`…).
        "subvolumes" => subvolumes: Named<BtrfsSubvolume>,
        /// Where to mount the top-level volume.
        "mountpoint" => mountpoint: String,
        /// Mount options of the top-level volume (default `[ "defaults" ]`).
        "mountOptions" => mount_options: Vec<String>,
        /// Swap files on the top-level volume, by path.
        "swap" => swap: Named<BtrfsSwapFile>,
        /// Device (default: the parent's).
        "device" => device: String,
    }
}

disko_options! {
    /// A btrfs subvolume.
    pub struct BtrfsSubvolume {
        /// Where to mount it.
        "mountpoint" => mountpoint: String,
        /// Mount options (default `[ "defaults" ]`), e.g. `compress=zstd`, `noatime`.
        "mountOptions" => mount_options: Vec<String>,
        /// Swap files inside this subvolume, by path.
        "swap" => swap: Named<BtrfsSwapFile>,
        /// Subvolume name (default: the attribute name).
        "name" => name: String,
        /// Always `btrfs_subvol`.
        "type" => type_: String,
        /// Extra arguments to `btrfs subvolume create`.
        "extraArgs" => extra_args: Vec<String>,
    }
}

disko_options! {
    /// A swap file on btrfs.
    pub struct BtrfsSwapFile {
        /// Size, e.g. `8G`. Required.
        "size" => size: String,
        /// Path relative to the mountpoint (default: the attribute name).
        "path" => path: String,
        /// Swap priority.
        "priority" => priority: i64,
        /// Options for the swap entry (default `[ "defaults" ]`).
        "options" => options: Vec<String>,
    }
}
