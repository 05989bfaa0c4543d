//! `lvm_pv` (lib/types/lvm_pv.nix) and `lvm_vg` (lib/types/lvm_vg.nix).

use super::{Content, Named};
use crate::disko::value::disko_options;

disko_options! {
    /// An LVM physical volume (`type = "lvm_pv"`) in volume group `vg`.
    pub struct LvmPv {
        /// The volume group it belongs to. Required.
        "vg" => vg: String,
        /// Device (default: the parent's).
        "device" => device: String,
    }
}

disko_options! {
    /// An LVM volume group (`type = "lvm_vg"`).
    pub struct LvmVg {
        /// Always `"lvm_vg"`. Required by disko.
        "type" => type_: String,
        /// Logical volumes, by name; created in `priority` order.
        "lvs" => lvs: Named<LogicalVolume>,
        /// Volume group name (default: the attribute name).
        "name" => name: String,
    }
}

disko_options! {
    /// A logical volume.
    pub struct LogicalVolume {
        /// `-L` size (`10G`) or `-l` extents (`100%FREE`, `50%VG`). Required.
        "size" => size: String,
        /// `mirror`, `raid0`, `raid1`, `raid4`, `raid5`, `raid6`, `thin-pool` or `thinlv`.
        "lvm_type" => lvm_type: String,
        /// The thin pool this thin volume belongs to.
        "pool" => pool: String,
        /// Creation order, smaller first.
        "priority" => priority: i64,
        /// Extra arguments to `lvcreate`.
        "extraArgs" => extra_args: Vec<String>,
        /// Volume name (default: the attribute name).
        "name" => name: String,
        /// What the volume holds.
        "content" => content: Box<Content>,
    }
}
