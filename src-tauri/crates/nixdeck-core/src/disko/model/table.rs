//! `table` (lib/types/table.nix): disko's legacy msdos/gpt table made with parted.

use super::Content;
use crate::disko::value::disko_options;

disko_options! {
    /// A legacy partition table (`type = "table"`).
    pub struct Table {
        /// `gpt` or `msdos` (default `gpt`).
        "format" => format: String,
        /// The partitions, in order (a list, unlike `gpt`).
        "partitions" => partitions: Vec<TablePartition>,
        /// Device (default: the parent's).
        "device" => device: String,
    }
}

disko_options! {
    /// One partition of a legacy table.
    pub struct TablePartition {
        /// Partition name (gpt format).
        "name" => name: String,
        /// `primary`, `logical` or `extended` (msdos format; default `primary`).
        "part-type" => part_type: String,
        /// parted's filesystem type hint (`ext4`, `linux-swap`, `fat32`…).
        "fs-type" => fs_type: String,
        /// Start in parted's notation (default `"0%"`).
        "start" => start: String,
        /// End in parted's notation (default `"100%"`).
        "end" => end: String,
        /// parted flags to set (`esp`, `boot`, `bios_grub`…).
        "flags" => flags: Vec<String>,
        /// Set the boot flag (default false).
        "bootable" => bootable: bool,
        /// What the partition holds.
        "content" => content: Box<Content>,
    }
}
