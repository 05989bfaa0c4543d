//! `zfs` (lib/types/zfs.nix), `zpool` (lib/types/zpool.nix) and its datasets
//! `zfs_fs` (lib/types/zfs_fs.nix) and `zfs_volume` (lib/types/zfs_volume.nix).

use super::{serialize_tagged, Content, Named};
use crate::disko::error::{LayoutError, OptionPath};
use crate::disko::value::{disko_options, expect_object, kind, FromDisko};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

disko_options! {
    /// A member of the zpool `pool` (`type = "zfs"`).
    pub struct Zfs {
        /// The pool (in `zpool`) it belongs to. Required.
        "pool" => pool: String,
        /// Device (default: the parent's).
        "device" => device: String,
    }
}

disko_options! {
    /// A ZFS pool (`type = "zpool"`).
    pub struct Zpool {
        /// Always `"zpool"`.
        "type" => type_: String,
        /// `""` (stripe), `mirror`, `raidz`, `raidz1/2/3`, or a `topology`.
        "mode" => mode: ZpoolMode,
        /// Pool properties (`zpool create -o`), e.g. `ashift = "12"`.
        "options" => options: Named<String>,
        /// Properties of the root dataset (`-O`), e.g. `compression = "zstd"`.
        "rootFsOptions" => root_fs_options: Named<String>,
        /// Where to mount the root dataset.
        "mountpoint" => mountpoint: String,
        /// Mount options of the root dataset (default `[ "defaults" ]`).
        "mountOptions" => mount_options: Vec<String>,
        /// Datasets and volumes, by name (`root`, `root/home`…).
        "datasets" => datasets: Named<Dataset>,
        /// Pool name (default: the attribute name).
        "name" => name: String,
    }
}

/// A pool's `mode`: a plain vdev kind for all members, or an explicit topology.
#[derive(Debug, Clone, PartialEq)]
pub enum ZpoolMode {
    /// `""`, `mirror`, `raidz`, `raidz1`, `raidz2`, `raidz3`.
    Simple(String),
    /// `{ topology = { type = "topology"; vdev = [ … ]; … }; }` (keyed as written).
    Topology(Named<ZpoolTopology>),
}

impl FromDisko for ZpoolMode {
    fn from_disko(value: &Value, at: &OptionPath) -> Result<Self, LayoutError> {
        match value {
            Value::String(s) => Ok(ZpoolMode::Simple(s.clone())),
            Value::Object(_) => Ok(ZpoolMode::Topology(FromDisko::from_disko(value, at)?)),
            other => Err(LayoutError::invalid(
                at,
                format!(
                    "expected a mode name (\"\", mirror, raidz…) or {{ topology = … }}, found {}",
                    kind(other)
                ),
            )),
        }
    }
}

impl Serialize for ZpoolMode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ZpoolMode::Simple(mode) => mode.serialize(s),
            ZpoolMode::Topology(t) => t.serialize(s),
        }
    }
}

disko_options! {
    /// An explicit pool topology.
    pub struct ZpoolTopology {
        /// Always `"topology"`.
        "type" => type_: String,
        /// Storage vdevs.
        "vdev" => vdev: Vec<Vdev>,
        /// Hot spares (device paths or disk names).
        "spare" => spare: Vec<String>,
        /// Intent log (ZIL) vdevs.
        "log" => log: Vec<Vdev>,
        /// Deduplication table vdevs.
        "dedup" => dedup: Vec<Vdev>,
        /// Special vdevs (one, or a list).
        "special" => special: VdevList,
        /// L2ARC cache devices.
        "cache" => cache: Vec<String>,
    }
}

disko_options! {
    /// One vdev of a topology.
    pub struct Vdev {
        /// `""`, `mirror`, `raidz`, `raidz1/2/3` (default `""`).
        "mode" => mode: String,
        /// Members: device paths, or disk names (meaning their `zfs` partition).
        "members" => members: Vec<String>,
    }
}

/// `special`: disko takes one vdev or a list of them.
#[derive(Debug, Clone, PartialEq)]
pub enum VdevList {
    /// A single vdev.
    One(Vdev),
    /// A list of vdevs.
    Many(Vec<Vdev>),
}

impl FromDisko for VdevList {
    fn from_disko(value: &Value, at: &OptionPath) -> Result<Self, LayoutError> {
        if value.is_array() {
            Ok(VdevList::Many(FromDisko::from_disko(value, at)?))
        } else {
            Ok(VdevList::One(FromDisko::from_disko(value, at)?))
        }
    }
}

impl Serialize for VdevList {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            VdevList::One(v) => v.serialize(s),
            VdevList::Many(v) => v.serialize(s),
        }
    }
}

/// A dataset of a pool, told apart by `type`.
#[derive(Debug, Clone, PartialEq)]
pub enum Dataset {
    /// `type = "zfs_fs"`: a filesystem dataset.
    Fs(ZfsFs),
    /// `type = "zfs_volume"`: a block volume (zvol) with content of its own.
    Volume(ZfsVolume),
    /// A dataset type nixdeck does not model, kept whole.
    Other(Map<String, Value>),
}

disko_options! {
    /// A filesystem dataset.
    pub struct ZfsFs {
        /// Where to mount it.
        "mountpoint" => mountpoint: String,
        /// Dataset properties (`zfs create -o`), e.g. `mountpoint = "legacy"`.
        "options" => options: Named<String>,
        /// Mount options (default `[ "defaults" ]`).
        "mountOptions" => mount_options: Vec<String>,
        /// Extra arguments to `zfs create`.
        "extraArgs" => extra_args: Vec<String>,
        /// Dataset name (default: the attribute name).
        "name" => name: String,
    }
}

disko_options! {
    /// A ZFS volume (zvol).
    pub struct ZfsVolume {
        /// Size (`zfs create -V`), e.g. `10G`.
        "size" => size: String,
        /// Dataset properties.
        "options" => options: Named<String>,
        /// Extra arguments to `zfs create`.
        "extraArgs" => extra_args: Vec<String>,
        /// Mount options.
        "mountOptions" => mount_options: Vec<String>,
        /// What the volume holds.
        "content" => content: Box<Content>,
        /// Volume name (default: the attribute name).
        "name" => name: String,
    }
}

impl FromDisko for Dataset {
    fn from_disko(value: &Value, at: &OptionPath) -> Result<Self, LayoutError> {
        let object = expect_object(value, at)?;
        let tag = object.get("type").and_then(Value::as_str);
        match tag {
            Some("zfs_fs") => Ok(Dataset::Fs(ZfsFs::from_object(object, at, true)?)),
            Some("zfs_volume") => Ok(Dataset::Volume(ZfsVolume::from_object(object, at, true)?)),
            Some(_) => Ok(Dataset::Other(FromDisko::from_disko(value, at)?)),
            None => Err(LayoutError::invalid(
                at,
                "dataset has no `type`: set it to \"zfs_fs\" or \"zfs_volume\"",
            )),
        }
    }
}

impl Serialize for Dataset {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Dataset::Fs(x) => serialize_tagged(s, "zfs_fs", x),
            Dataset::Volume(x) => serialize_tagged(s, "zfs_volume", x),
            Dataset::Other(map) => map.serialize(s),
        }
    }
}

impl<'de> serde::Deserialize<'de> for ZpoolMode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = <Value as serde::Deserialize>::deserialize(d)?;
        ZpoolMode::from_disko(&value, &OptionPath::default()).map_err(serde::de::Error::custom)
    }
}
