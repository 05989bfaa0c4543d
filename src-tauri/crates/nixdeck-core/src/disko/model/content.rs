//! What a device holds: disko's `content` option, one variant per content type,
//! told apart by the `type` tag as in disko.

use super::{Bcachefs, Btrfs, Filesystem, Gpt, Luks, LvmPv, MdRaid, Swap, Table, Zfs};
use crate::disko::error::{LayoutError, OptionPath};
use crate::disko::value::{expect_object, kind, FromDisko};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

/// The content of a disk, partition, LUKS volume, logical volume, md array or zvol.
#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    /// `type = "gpt"`: a GUID partition table.
    Gpt(Gpt),
    /// `type = "table"`: disko's legacy msdos/gpt table (parted).
    Table(Table),
    /// `type = "filesystem"`.
    Filesystem(Filesystem),
    /// `type = "btrfs"`.
    Btrfs(Btrfs),
    /// `type = "luks"`.
    Luks(Luks),
    /// `type = "lvm_pv"`: a physical volume of a volume group.
    LvmPv(LvmPv),
    /// `type = "mdraid"`: a member of an mdadm array.
    MdRaid(MdRaid),
    /// `type = "zfs"`: a member of a zpool.
    Zfs(Zfs),
    /// `type = "swap"`.
    Swap(Swap),
    /// `type = "bcachefs"`: a member of a bcachefs filesystem.
    Bcachefs(Bcachefs),
    /// A content type nixdeck does not model (e.g. `bcache`, `verity`): kept whole,
    /// `type` included.
    Other(Map<String, Value>),
}

impl Content {
    /// disko's `type` tag of this content.
    pub fn type_name(&self) -> &str {
        match self {
            Content::Gpt(_) => "gpt",
            Content::Table(_) => "table",
            Content::Filesystem(_) => "filesystem",
            Content::Btrfs(_) => "btrfs",
            Content::Luks(_) => "luks",
            Content::LvmPv(_) => "lvm_pv",
            Content::MdRaid(_) => "mdraid",
            Content::Zfs(_) => "zfs",
            Content::Swap(_) => "swap",
            Content::Bcachefs(_) => "bcachefs",
            Content::Other(map) => map.get("type").and_then(Value::as_str).unwrap_or(""),
        }
    }
}

impl FromDisko for Content {
    fn from_disko(value: &Value, at: &OptionPath) -> Result<Self, LayoutError> {
        let object = expect_object(value, at)?;
        let tag = match object.get("type") {
            Some(Value::String(tag)) => tag.as_str(),
            Some(other) => {
                return Err(LayoutError::invalid(
                    &at.child("type"),
                    format!("expected a content type name, found {}", kind(other)),
                ))
            }
            None => {
                return Err(LayoutError::invalid(
                    at,
                    "content has no `type`: set it to gpt, table, filesystem, btrfs, luks, \
                     lvm_pv, mdraid, zfs, swap or bcachefs",
                ))
            }
        };
        Ok(match tag {
            "gpt" => Content::Gpt(Gpt::from_object(object, at, true)?),
            "table" => Content::Table(Table::from_object(object, at, true)?),
            "filesystem" => Content::Filesystem(Filesystem::from_object(object, at, true)?),
            "btrfs" => Content::Btrfs(Btrfs::from_object(object, at, true)?),
            "luks" => Content::Luks(Luks::from_object(object, at, true)?),
            "lvm_pv" => Content::LvmPv(LvmPv::from_object(object, at, true)?),
            "mdraid" => Content::MdRaid(MdRaid::from_object(object, at, true)?),
            "zfs" => Content::Zfs(Zfs::from_object(object, at, true)?),
            "swap" => Content::Swap(Swap::from_object(object, at, true)?),
            "bcachefs" => Content::Bcachefs(Bcachefs::from_object(object, at, true)?),
            _ => Content::Other(FromDisko::from_disko(value, at)?),
        })
    }
}

/// `{ type = "<tag>"; <inner's options> }`, the tag first as disko files write it.
pub(crate) fn serialize_tagged<S: Serializer, T: Serialize>(
    serializer: S,
    tag: &str,
    inner: &T,
) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Tagged<'a, T> {
        #[serde(rename = "type")]
        tag: &'a str,
        #[serde(flatten)]
        inner: &'a T,
    }
    Tagged { tag, inner }.serialize(serializer)
}

impl Serialize for Content {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Content::Gpt(x) => serialize_tagged(s, "gpt", x),
            Content::Table(x) => serialize_tagged(s, "table", x),
            Content::Filesystem(x) => serialize_tagged(s, "filesystem", x),
            Content::Btrfs(x) => serialize_tagged(s, "btrfs", x),
            Content::Luks(x) => serialize_tagged(s, "luks", x),
            Content::LvmPv(x) => serialize_tagged(s, "lvm_pv", x),
            Content::MdRaid(x) => serialize_tagged(s, "mdraid", x),
            Content::Zfs(x) => serialize_tagged(s, "zfs", x),
            Content::Swap(x) => serialize_tagged(s, "swap", x),
            Content::Bcachefs(x) => serialize_tagged(s, "bcachefs", x),
            Content::Other(map) => map.serialize(s),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Content {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = <Value as serde::Deserialize>::deserialize(d)?;
        Content::from_disko(&value, &OptionPath::default()).map_err(serde::de::Error::custom)
    }
}
