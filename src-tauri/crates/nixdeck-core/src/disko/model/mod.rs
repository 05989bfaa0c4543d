//! The typed layout model: one struct per disko type (`lib/types/<type>.nix`),
//! every option optional so that what a person did not set stays unset, unknown
//! options kept in `extra`. It serialises to exactly the JSON disko's own
//! evaluation gives (`type` tags included), which is nixdeck's JSON model too.

mod bcachefs;
mod btrfs;
mod content;
mod disk;
mod filesystem;
mod gpt;
mod luks;
mod lvm;
mod mdadm;
mod table;
mod zfs;

pub use bcachefs::{Bcachefs, BcachefsFilesystem, BcachefsSubvolume};
pub use btrfs::{Btrfs, BtrfsSubvolume, BtrfsSwapFile};
pub use content::Content;
pub use disk::{Disk, DiskLayout, Nodev};
pub use filesystem::{Filesystem, Swap};
pub use gpt::{Gpt, GptPartition, HybridMbr};
pub use luks::Luks;
pub use lvm::{LogicalVolume, LvmPv, LvmVg};
pub use mdadm::{MdRaid, Mdadm};
pub use table::{Table, TablePartition};
pub use zfs::{Dataset, Vdev, VdevList, Zfs, ZfsFs, ZfsVolume, Zpool, ZpoolMode, ZpoolTopology};

pub(crate) use content::serialize_tagged;

/// Named devices, partitions, subvolumes…: in the order the user wrote them.
pub type Named<T> = indexmap::IndexMap<String, T>;
