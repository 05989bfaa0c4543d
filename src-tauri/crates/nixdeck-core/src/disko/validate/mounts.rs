//! Mountpoints: something at `/`, and no mountpoint used twice.

use super::{Diagnostic, Rule};
use crate::disko::error::OptionPath;
use crate::disko::model::*;
use crate::disko::walk::all_mounts;
use std::collections::HashMap;

pub(super) fn check_root(layout: &DiskLayout, out: &mut Vec<Diagnostic>) {
    if !all_mounts(layout).iter().any(|m| m.mountpoint == "/") {
        out.push(Diagnostic::error(
            Rule::NoRoot,
            &OptionPath::devices(),
            "nothing is mounted at `/`: set the mountpoint of one filesystem, btrfs subvolume or ZFS dataset to `/`",
        ));
    }
}

pub(super) fn check_duplicate_mounts(layout: &DiskLayout, out: &mut Vec<Diagnostic>) {
    let mut seen: HashMap<String, String> = HashMap::new();
    for mount in all_mounts(layout) {
        let normalized = match mount.mountpoint.trim_end_matches('/') {
            "" => "/".to_string(),
            m => m.to_string(),
        };
        if let Some(first) = seen.get(&normalized) {
            out.push(Diagnostic::error(
                Rule::DuplicateMountpoint,
                &mount.path,
                format!("`{}` is already the mountpoint of {first}: each mountpoint can be used once, change one of them", mount.mountpoint),
            ));
        } else {
            seen.insert(normalized, mount.path.to_string());
        }
    }
}
