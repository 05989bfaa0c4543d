//! disko's legacy `table` type as parted lays it out (optimal, 1 MiB alignment).

use super::{
    align_up, free_ranges, summary, DeviceKind, Segment, SpacePlan, SpaceProblem, GPT_RESERVED,
};
use crate::disko::error::OptionPath;
use crate::disko::model::*;
use crate::disko::size::{parse_parted_position, SECTOR};

pub(super) fn plan_legacy_table(
    table: &Table,
    bytes: u64,
    path: &OptionPath,
    kind: DeviceKind,
) -> SpacePlan {
    let total = bytes / SECTOR;
    let gpt = table.format.as_deref() != Some("msdos");
    let (first, last) = if gpt {
        (GPT_RESERVED, total.saturating_sub(GPT_RESERVED + 1))
    } else {
        (1, total.saturating_sub(1))
    };
    let mut plan = SpacePlan {
        kind,
        path: path.to_string(),
        size: bytes,
        segments: Vec::new(),
        free: Vec::new(),
        problems: Vec::new(),
    };
    let mut used: Vec<(u64, u64)> = Vec::new();
    let mut logical_used: Vec<(u64, u64)> = Vec::new();
    for (i, part) in table.partitions.iter().flatten().enumerate() {
        let ppath = path.child("partitions").index(i);
        let start_text = part.start.as_deref().unwrap_or("0%");
        let end_text = part.end.as_deref().unwrap_or("100%");
        let Some(start) = parse_parted_position(start_text, total) else {
            plan.problems.push(SpaceProblem {
                path: ppath.child("start").to_string(),
                message: format!(
                    "`{start_text}` is not a position parted understands (e.g. `1MiB`, `50%`)"
                ),
            });
            continue;
        };
        let Some(end) = parse_parted_position(end_text, total) else {
            plan.problems.push(SpaceProblem {
                path: ppath.child("end").to_string(),
                message: format!(
                    "`{end_text}` is not a position parted understands (e.g. `512MiB`, `100%`)"
                ),
            });
            continue;
        };
        let start = align_up(start.max(first), 2048);
        let end = end.saturating_sub(1).min(last);
        let logical = part.part_type.as_deref() == Some("logical");
        let extended = part.part_type.as_deref() == Some("extended");
        let others = if logical { &logical_used } else { &used };
        let overlaps = others.iter().any(|(s, e)| start <= *e && *s <= end);
        if end <= start || overlaps {
            plan.problems.push(SpaceProblem {
                path: ppath.child("end").to_string(),
                message: if end <= start {
                    format!("it ends ({end_text}) before it starts ({start_text})")
                } else {
                    "it overlaps a partition before it".to_string()
                },
            });
            continue;
        }
        if logical {
            logical_used.push((start, end));
        } else {
            used.push((start, end));
        }
        let (content_type, mountpoint) = summary(part.content.as_deref());
        if !extended {
            plan.segments.push(Segment {
                offset: start * SECTOR,
                size: (end - start + 1) * SECTOR,
                label: i.to_string(),
                path: ppath.to_string(),
                content_type,
                mountpoint,
            });
        }
    }
    plan.free = free_ranges(&used, first, last);
    plan
}
