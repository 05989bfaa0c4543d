//! `mdraid` (lib/types/mdraid.nix) and `mdadm` (lib/types/mdadm.nix).

use super::Content;
use crate::disko::value::disko_options;

disko_options! {
    /// A member of the mdadm array `name` (`type = "mdraid"`).
    pub struct MdRaid {
        /// The array it belongs to. Required.
        "name" => name: String,
        /// Device (default: the parent's).
        "device" => device: String,
    }
}

disko_options! {
    /// An mdadm array (`type = "mdadm"`), `/dev/md/<name>`.
    pub struct Mdadm {
        /// Always `"mdadm"`.
        "type" => type_: String,
        /// RAID level (default 1).
        "level" => level: i64,
        /// Superblock format: `1`, `1.0`, `1.1`, `1.2`, `default`, `ddf`, `imsm`
        /// (`1.0` for an ESP that firmware must read).
        "metadata" => metadata: String,
        /// What the array holds.
        "content" => content: Box<Content>,
        /// Array name (default: the attribute name).
        "name" => name: String,
    }
}
