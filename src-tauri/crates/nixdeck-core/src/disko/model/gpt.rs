//! `gpt` (lib/types/gpt.nix): a GUID partition table made with sgdisk.

use super::{Content, Named};
use crate::disko::value::disko_options;

disko_options! {
    /// A GPT partition table (`type = "gpt"`).
    pub struct Gpt {
        /// The partitions, by name; created in `priority` order.
        "partitions" => partitions: Named<GptPartition>,
        /// Put the protective 0xEE entry first in a hybrid MBR (default true).
        "efiGptPartitionFirst" => efi_gpt_partition_first: bool,
        /// Device (default: the parent's).
        "device" => device: String,
    }
}

disko_options! {
    /// One GPT partition.
    pub struct GptPartition {
        /// sgdisk type code (`EF00`, `EF02`, `8300`…) or a partition type GUID.
        /// Default `8300` (`8200` for swap content).
        "type" => type_: String,
        /// `"100%"` (the rest of the disk) or a number with an optional K/M/G/T/P suffix.
        "size" => size: String,
        /// Start in sgdisk's notation (default `"0"`: the next free space).
        "start" => start: String,
        /// End in sgdisk's notation (default `+size`, or `-0` for `100%`).
        "end" => end: String,
        /// Creation order, smaller first (default 100 for EF02, 9001 for 100%, else 1000).
        "priority" => priority: i64,
        /// GPT partition name (default `disk-<disk>-<partition>`).
        "label" => label: String,
        /// Partition name used in the default label (default: the attribute name).
        "name" => name: String,
        /// Partition GUID (default: random).
        "uuid" => uuid: String,
        /// sgdisk alignment in sectors (default 0: sgdisk's 2048, 1 when start/end are in sectors).
        "alignment" => alignment: i64,
        /// GPT attribute bits (0 required, 1 no block IO, 2 legacy BIOS bootable, 60, 62, 63).
        "attributes" => attributes: Vec<i64>,
        /// An entry in a hybrid MBR for this partition.
        "hybrid" => hybrid: HybridMbr,
        /// Device path of the partition (default `/dev/disk/by-partlabel/<label>`).
        "device" => device: String,
        /// What the partition holds.
        "content" => content: Box<Content>,
    }
}

disko_options! {
    /// A partition's entry in a hybrid MBR.
    pub struct HybridMbr {
        /// MBR type code, e.g. `0c`.
        "mbrPartitionType" => mbr_partition_type: String,
        /// Set the MBR bootable (active) flag (default false).
        "mbrBootableFlag" => mbr_bootable_flag: bool,
    }
}
