//! Reading a layout from disko's evaluated JSON (what `nix-instantiate --eval
//! --strict --json` prints for a `disko.nix`) or from nixdeck's JSON model, which
//! is the same shape.

use super::error::{LayoutError, OptionPath};
use super::model::DiskLayout;
use super::value::{kind, FromDisko};
use serde_json::Value;

/// The device kinds of `disko.devices`.
const DEVICE_KINDS: &[&str] = &[
    "disk",
    "mdadm",
    "lvm_vg",
    "zpool",
    "nodev",
    "bcachefs_filesystems",
];

/// A layout from evaluated JSON: `{ "disko": { "devices": … } }`, or the devices
/// set itself (`{ "disk": …, "zpool": … }`). Unknown options are kept; values of
/// the wrong shape are refused with the option's path.
pub fn from_json(value: &Value) -> Result<DiskLayout, LayoutError> {
    let root = OptionPath::devices();
    let object = value.as_object().ok_or_else(|| {
        LayoutError::NotALayout(format!(
            "expected an attribute set with `disko.devices`, found {}",
            kind(value)
        ))
    })?;
    if let Some(disko) = object.get("disko") {
        let devices = disko.get("devices").ok_or_else(|| {
            LayoutError::NotALayout("`disko` is there but has no `devices`".into())
        })?;
        return DiskLayout::from_disko(devices, &root);
    }
    if !object.is_empty() && !object.keys().any(|k| DEVICE_KINDS.contains(&k.as_str())) {
        let keys: Vec<&str> = object.keys().map(String::as_str).take(5).collect();
        return Err(LayoutError::NotALayout(format!(
            "found the keys {} but neither `disko.devices` nor any of {}",
            keys.join(", "),
            DEVICE_KINDS.join(", ")
        )));
    }
    DiskLayout::from_disko(value, &root)
}

/// A layout from JSON text (see [`from_json`]).
pub fn from_json_str(text: &str) -> Result<DiskLayout, LayoutError> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| LayoutError::NotALayout(format!("the text is not JSON: {e}")))?;
    from_json(&value)
}
