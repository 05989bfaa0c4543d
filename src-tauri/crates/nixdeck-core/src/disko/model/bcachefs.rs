//! `bcachefs` (lib/types/bcachefs.nix) and `bcachefs_filesystem`
//! (lib/types/bcachefs_filesystem.nix).

use super::Named;
use crate::disko::value::disko_options;

disko_options! {
    /// A member device of bcachefs filesystem `filesystem` (`type = "bcachefs"`).
    pub struct Bcachefs {
        /// The filesystem (in `bcachefs_filesystems`) it belongs to. Required.
        "filesystem" => filesystem: String,
        /// Device label for `bcachefs format --label` (e.g. `ssd.fast`).
        "label" => label: String,
        /// Extra per-device arguments to `bcachefs format`.
        "extraFormatArgs" => extra_format_args: Vec<String>,
        /// Device (default: the parent's).
        "device" => device: String,
    }
}

disko_options! {
    /// A bcachefs filesystem over its member devices (`type = "bcachefs_filesystem"`).
    pub struct BcachefsFilesystem {
        /// Always `"bcachefs_filesystem"`.
        "type" => type_: String,
        /// Where to mount it.
        "mountpoint" => mountpoint: String,
        /// Mount options (default `[ "defaults" ]`).
        "mountOptions" => mount_options: Vec<String>,
        /// Extra arguments to `bcachefs format`.
        "extraFormatArgs" => extra_format_args: Vec<String>,
        /// Filesystem UUID (default: derived from the name).
        "uuid" => uuid: String,
        /// File with the encryption passphrase.
        "passwordFile" => password_file: String,
        /// Subvolumes, by path.
        "subvolumes" => subvolumes: Named<BcachefsSubvolume>,
        /// Filesystem name (default: the attribute name).
        "name" => name: String,
    }
}

disko_options! {
    /// A bcachefs subvolume.
    pub struct BcachefsSubvolume {
        /// Where to mount it.
        "mountpoint" => mountpoint: String,
        /// Mount options.
        "mountOptions" => mount_options: Vec<String>,
        /// Subvolume name (default: the attribute name).
        "name" => name: String,
    }
}
