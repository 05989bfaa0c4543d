//! GPT tables as sgdisk lays them out for disko.

use super::{
    align_up, free_blocks, free_ranges, summary, DeviceKind, Segment, SpacePlan, SpaceProblem,
    GPT_RESERVED,
};
use crate::disko::error::OptionPath;
use crate::disko::model::*;
use crate::disko::size::{human_bytes, parse_sgdisk_position, parse_size, SgdiskPosition, SECTOR};

/// sgdisk's default priority, as disko computes it.
fn gpt_priority(part: &GptPartition) -> i64 {
    part.priority
        .unwrap_or(if part.size.as_deref() == Some("100%") {
            9001
        } else if part
            .type_
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("EF02"))
        {
            100
        } else {
            1000
        })
}

pub(super) fn plan_gpt(gpt: &Gpt, bytes: u64, path: &OptionPath, kind: DeviceKind) -> SpacePlan {
    let total = bytes / SECTOR;
    let mut plan = SpacePlan {
        kind,
        path: path.to_string(),
        size: bytes,
        segments: Vec::new(),
        free: Vec::new(),
        problems: Vec::new(),
    };
    if total < 2 * GPT_RESERVED + 2048 {
        plan.problems.push(SpaceProblem {
            path: path.to_string(),
            message: format!(
                "the device ({}) is too small for a partition table",
                human_bytes(bytes)
            ),
        });
        return plan;
    }
    let (first, last) = (GPT_RESERVED, total - GPT_RESERVED - 1);
    let mut parts: Vec<(&String, &GptPartition)> = gpt.partitions.iter().flatten().collect();
    parts.sort_by(|a, b| {
        gpt_priority(a.1)
            .cmp(&gpt_priority(b.1))
            .then_with(|| a.0.cmp(b.0))
    });
    let mut used: Vec<(u64, u64)> = Vec::new();
    for (name, part) in parts {
        let ppath = path.child("partitions").child(name);
        match place_gpt_partition(part, &used, first, last) {
            Ok((start, end)) => {
                used.push((start, end));
                let (content_type, mountpoint) = summary(part.content.as_deref());
                plan.segments.push(Segment {
                    offset: start * SECTOR,
                    size: (end - start + 1) * SECTOR,
                    label: name.clone(),
                    path: ppath.to_string(),
                    content_type,
                    mountpoint,
                });
            }
            Err((option, message)) => plan.problems.push(SpaceProblem {
                path: ppath.child(option).to_string(),
                message,
            }),
        }
    }
    plan.free = free_ranges(&used, first, last);
    plan
}

/// Start and end sectors (inclusive) of a partition, or the option at fault and why.
fn place_gpt_partition(
    part: &GptPartition,
    used: &[(u64, u64)],
    first: u64,
    last: u64,
) -> Result<(u64, u64), (&'static str, String)> {
    let size = part.size.as_deref().unwrap_or("0");
    if size != "100%" && parse_size(size).is_none() {
        return Err((
            "size",
            format!(
                "`{size}` is not a size: write `100%` or a number with K, M, G or T (e.g. `512M`)"
            ),
        ));
    }
    let start_text = part.start.as_deref().unwrap_or("0");
    let default_end = if size == "100%" {
        "-0".to_string()
    } else {
        format!("+{size}")
    };
    let end_text = part.end.clone().unwrap_or(default_end);
    let align = match part.alignment {
        Some(a) if a > 0 => a as u64,
        _ if start_text.ends_with('s') || end_text.ends_with('s') => 1,
        _ => 2048,
    };
    let start_pos = parse_sgdisk_position(start_text).ok_or((
        "start",
        format!("`{start_text}` is not a position sgdisk understands"),
    ))?;
    let end_pos = parse_sgdisk_position(&end_text).ok_or((
        "end",
        format!("`{end_text}` is not a position sgdisk understands"),
    ))?;
    let size_option = if part.end.is_some() { "end" } else { "size" };
    let blocks = free_blocks(used, first, last);
    let largest = blocks
        .iter()
        .copied()
        // A block shorter than one alignment unit after aligning is no usable space.
        .filter(|(s, e)| align_up(*s, align) + align - 1 <= *e)
        .max_by(|a, b| (a.1 - a.0).cmp(&(b.1 - b.0)).then(b.0.cmp(&a.0)))
        .ok_or((
            size_option,
            "no free space is left on the device for this partition".to_string(),
        ))?;
    let low = align_up(largest.0, align);
    let start = match start_pos {
        SgdiskPosition::Default => low,
        SgdiskPosition::Absolute(n) => align_up(n, align),
        SgdiskPosition::After(n) => align_up(low + n, align),
        SgdiskPosition::BeforeEnd(n) => align_up(largest.1.saturating_sub(n), align),
    };
    let block = blocks
        .iter()
        .copied()
        .find(|(s, e)| *s <= start && start <= *e)
        .ok_or((
            "start",
            format!(
                "it would start at {} but that space is already used or outside the disk",
                human_bytes(start * SECTOR)
            ),
        ))?;
    let mut end = match end_pos {
        SgdiskPosition::Default => block.1,
        SgdiskPosition::Absolute(n) => n,
        SgdiskPosition::After(n) => start + n - 1,
        SgdiskPosition::BeforeEnd(n) => block.1.saturating_sub(n),
    };
    let aligned = (end + 1) / align * align;
    if aligned > start + 1 {
        end = aligned - 1;
    }
    if end > block.1 {
        let wanted = (end - start + 1) * SECTOR;
        let room = (block.1 - start + 1) * SECTOR;
        return Err((
            size_option,
            format!(
                "it needs {} but only {} is free from where it starts",
                human_bytes(wanted),
                human_bytes(room)
            ),
        ));
    }
    if end < start {
        return Err((size_option, "its end comes before its start".to_string()));
    }
    Ok((start, end))
}
