//! LVM volume groups: logical volumes in 4 MiB extents, in lvcreate's order.

use super::{
    descend, summary, ByteRange, DeviceKind, LayoutSpace, Segment, SpacePlan, SpaceProblem, EXTENT,
    MIB,
};
use crate::disko::error::OptionPath;
use crate::disko::model::*;
use crate::disko::size::{human_bytes, parse_lv_size, LvSize};

/// lvcreate's default order, as disko computes it.
fn lv_priority(lv: &LogicalVolume) -> i64 {
    lv.priority.unwrap_or_else(|| {
        let base = if lv.lvm_type.as_deref() == Some("thin-pool") {
            501
        } else {
            1000
        };
        base + if lv.size.as_deref().is_some_and(|s| s.contains("100%")) {
            251
        } else {
            0
        }
    })
}

pub(super) fn plan_volume_group(vg: &LvmVg, bytes: u64, path: &OptionPath, out: &mut LayoutSpace) {
    let mut plan = SpacePlan {
        kind: DeviceKind::VolumeGroup,
        path: path.to_string(),
        size: bytes,
        segments: Vec::new(),
        free: Vec::new(),
        problems: Vec::new(),
    };
    let mut lvs: Vec<(&String, &LogicalVolume)> = vg.lvs.iter().flatten().collect();
    lvs.sort_by(|a, b| {
        lv_priority(a.1)
            .cmp(&lv_priority(b.1))
            .then_with(|| a.0.cmp(b.0))
    });
    let mut allocated = 0u64;
    let mut nested = Vec::new();
    for (name, lv) in lvs {
        let lpath = path.child("lvs").child(name);
        let text = lv.size.as_deref().unwrap_or("");
        let Some(size) = parse_lv_size(text) else {
            plan.problems.push(SpaceProblem {
                path: lpath.child("size").to_string(),
                message: format!(
                    "`{text}` is not an LVM size: write e.g. `20G`, `100%FREE` or `50%VG`"
                ),
            });
            continue;
        };
        let free = bytes - allocated;
        let wanted = match size {
            LvSize::Bytes(b) => b.div_ceil(EXTENT) * EXTENT,
            LvSize::PercentOfGroup(p) => ((bytes as f64 * p / 100.0) as u64) / EXTENT * EXTENT,
            LvSize::PercentOfFree(p) => ((free as f64 * p / 100.0) as u64) / EXTENT * EXTENT,
        };
        // Thin volumes live inside their pool, not in the group's free space.
        let thin = lv.lvm_type.as_deref() == Some("thinlv") || lv.pool.is_some();
        let legs = match lv.lvm_type.as_deref() {
            Some("raid1" | "mirror") => 2,
            _ => 1,
        };
        let taken = if thin { 0 } else { wanted * legs };
        if taken > free {
            plan.problems.push(SpaceProblem {
                path: lpath.child("size").to_string(),
                message: format!(
                    "it needs {} but the volume group has only {} left",
                    human_bytes(taken),
                    human_bytes(free)
                ),
            });
            continue;
        }
        let (content_type, mountpoint) = summary(lv.content.as_deref());
        if !thin {
            plan.segments.push(Segment {
                offset: allocated,
                size: taken,
                label: name.clone(),
                path: lpath.to_string(),
                content_type,
                mountpoint,
            });
        }
        allocated += taken;
        if let Some(content) = lv.content.as_deref() {
            nested.push((content, wanted, lpath.child("content")));
        }
    }
    if bytes > allocated && bytes - allocated >= MIB {
        plan.free.push(ByteRange {
            offset: allocated,
            size: bytes - allocated,
        });
    }
    out.plans.push(plan);
    for (content, size, p) in nested {
        descend(content, size, &p, DeviceKind::Volume, out);
    }
}
