//! The top level (`disko.devices`), `disk` (lib/types/disk.nix) and `nodev`
//! (lib/types/nodev.nix).

use super::{BcachefsFilesystem, Content, LvmVg, Mdadm, Named, Zpool};
use crate::disko::value::disko_options;

disko_options! {
    /// `disko.devices`: every device of a layout, by kind and name.
    pub struct DiskLayout {
        /// Physical disks.
        "disk" => disk: Named<Disk>,
        /// mdadm software RAID arrays.
        "mdadm" => mdadm: Named<Mdadm>,
        /// LVM volume groups.
        "lvm_vg" => lvm_vg: Named<LvmVg>,
        /// ZFS pools.
        "zpool" => zpool: Named<Zpool>,
        /// Filesystems without a device (tmpfs…), by name (the mountpoint by default).
        "nodev" => nodev: Named<Nodev>,
        /// Multi-device bcachefs filesystems.
        "bcachefs_filesystems" => bcachefs_filesystems: Named<BcachefsFilesystem>,
    }
}

disko_options! {
    /// A physical disk (`type = "disk"`).
    pub struct Disk {
        /// Device path, e.g. `/dev/disk/by-id/nvme-…` or `/dev/sda`. Required.
        "device" => device: String,
        /// Always `"disk"` (disko's default).
        "type" => type_: String,
        /// Name of the disk (default: the attribute name, `/` replaced by `_`).
        "name" => name: String,
        /// Whether disko may wipe this disk in its destroy stage (default true).
        "destroy" => destroy: bool,
        /// Image name when disko builds disk images (default: `name`).
        "imageName" => image_name: String,
        /// Image size when disko builds disk images (default `"2G"`).
        "imageSize" => image_size: String,
        /// What is on the disk.
        "content" => content: Box<Content>,
    }
}

disko_options! {
    /// A filesystem without a block device (`type = "nodev"`), e.g. tmpfs.
    pub struct Nodev {
        /// Always `"nodev"`.
        "type" => type_: String,
        /// Filesystem type, e.g. `tmpfs`. Required.
        "fsType" => fs_type: String,
        /// Device to mount (default `"none"`).
        "device" => device: String,
        /// Where to mount it (default: the attribute name).
        "mountpoint" => mountpoint: String,
        /// Mount options (default `[ "defaults" ]`).
        "mountOptions" => mount_options: Vec<String>,
    }
}
