//! `filesystem` (lib/types/filesystem.nix) and `swap` (lib/types/swap.nix).

use crate::disko::value::disko_options;

disko_options! {
    /// A formatted filesystem (`type = "filesystem"`).
    pub struct Filesystem {
        /// `mkfs.<format>`: `ext4`, `vfat`, `xfs`, `btrfs`… Required.
        "format" => format: String,
        /// Where to mount it.
        "mountpoint" => mountpoint: String,
        /// Mount options (default `[ "defaults" ]`).
        "mountOptions" => mount_options: Vec<String>,
        /// Extra arguments to `mkfs`.
        "extraArgs" => extra_args: Vec<String>,
        /// Device (default: the parent's).
        "device" => device: String,
    }
}

disko_options! {
    /// A swap device (`type = "swap"`).
    pub struct Swap {
        /// `once`, `pages` or `both` (swapon's discard policy).
        "discardPolicy" => discard_policy: String,
        /// Swap priority, 0 to 32767.
        "priority" => priority: i64,
        /// Encrypt with a random key at each boot (default false).
        "randomEncryption" => random_encryption: bool,
        /// Use as `boot.resumeDevice` for hibernation (default false).
        "resumeDevice" => resume_device: bool,
        /// Options for the swap entry (default `[ "defaults" ]`).
        "mountOptions" => mount_options: Vec<String>,
        /// Extra arguments to `mkswap`.
        "extraArgs" => extra_args: Vec<String>,
        /// Device (default: the parent's).
        "device" => device: String,
    }
}
