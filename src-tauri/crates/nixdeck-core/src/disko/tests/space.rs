use crate::disko::space::*;
use crate::disko::*;
use serde_json::json;

const GIB: u64 = 1 << 30;
const MIB: u64 = 1 << 20;

fn layout(value: serde_json::Value) -> DiskLayout {
    from_json(&value).unwrap()
}

fn one_disk(partitions: serde_json::Value) -> DiskLayout {
    layout(
        json!({"disk": {"main": {"device": "/dev/sda", "type": "disk",
        "content": {"type": "gpt", "partitions": partitions}}}}),
    )
}

fn plan(l: &DiskLayout, size: u64) -> LayoutSpace {
    plan_layout(l, |_, _| Some(size))
}

#[test]
fn the_article_layout_on_20_gib_is_aligned_like_sgdisk() {
    let l = one_disk(json!({
        "ESP": {"type": "EF00", "size": "512M", "content": {"type": "filesystem", "format": "vfat", "mountpoint": "/boot"}},
        "root": {"size": "100%", "content": {"type": "filesystem", "format": "ext4", "mountpoint": "/"}}
    }));
    let space = plan(&l, 20 * GIB);
    assert_eq!(space.plans.len(), 1);
    let p = &space.plans[0];
    assert_eq!(p.path, "disko.devices.disk.main.content");
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let esp = &p.segments[0];
    assert_eq!((esp.offset, esp.size), (MIB, 512 * MIB));
    assert_eq!(esp.path, "disko.devices.disk.main.content.partitions.ESP");
    assert_eq!(esp.mountpoint.as_deref(), Some("/boot"));
    let root = &p.segments[1];
    // 1 MiB before the ESP, and the last partial MiB (backup GPT) left unused.
    assert_eq!(
        (root.offset, root.size),
        (513 * MIB, (20 * 1024 - 1 - 512 - 1) * MIB)
    );
    assert!(p.free.is_empty(), "{:?}", p.free);
}

#[test]
fn bios_boot_partitions_come_first_and_priority_orders_creation() {
    let l = one_disk(json!({
        "a-root": {"size": "100%"},
        "b-data": {"size": "1G", "priority": 2000},
        "z-boot": {"size": "1M", "type": "EF02"},
        "m-swap": {"size": "2G"}
    }));
    let p = &plan(&l, 10 * GIB).plans[0];
    let order: Vec<&str> = p.segments.iter().map(|s| s.label.as_str()).collect();
    assert_eq!(order, ["z-boot", "m-swap", "b-data", "a-root"]);
    assert_eq!(p.segments[0].offset, MIB);
    assert_eq!(p.segments[1].offset, 2 * MIB);
}

#[test]
fn what_does_not_fit_is_reported_at_its_size() {
    let l = one_disk(
        json!({"big": {"size": "30G"}, "rest": {"size": "100%"}, "more": {"size": "100%"}}),
    );
    let p = &plan(&l, 20 * GIB).plans[0];
    let paths: Vec<&str> = p.problems.iter().map(|x| x.path.as_str()).collect();
    // Equal priorities are created by name: `more` takes the rest, `rest` finds nothing.
    assert_eq!(
        paths,
        [
            "disko.devices.disk.main.content.partitions.big.size",
            "disko.devices.disk.main.content.partitions.rest.size",
        ]
    );
    assert!(
        p.problems[0].message.contains("needs 30 GiB"),
        "{}",
        p.problems[0].message
    );
    assert!(
        p.problems[1].message.contains("no free space"),
        "{}",
        p.problems[1].message
    );
    assert_eq!(p.segments.len(), 1);
}

#[test]
fn free_space_is_reported() {
    let l = one_disk(json!({"a": {"size": "1G"}}));
    let p = &plan(&l, 10 * GIB).plans[0];
    assert_eq!(p.free.len(), 1);
    assert_eq!(p.free[0].offset, GIB + MIB);
    assert!(p.free[0].size > 8 * GIB && p.free[0].size < 9 * GIB);
}

#[test]
fn explicit_start_and_end_follow_sgdisk() {
    let l = one_disk(json!({
        "tail": {"start": "-2G", "end": "-0"},
        "head": {"start": "1M", "end": "+100M", "priority": 1}
    }));
    let p = &plan(&l, 10 * GIB).plans[0];
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    assert_eq!((p.segments[0].offset, p.segments[0].size), (MIB, 100 * MIB));
    let tail = &p.segments[1];
    assert!(
        tail.offset >= 8 * GIB - MIB && tail.size <= 2 * GIB + MIB,
        "{tail:?}"
    );
    assert_eq!(tail.offset % MIB, 0);
}

#[test]
fn volume_groups_fill_with_percentages_of_free_space() {
    let l = layout(json!({
        "disk": {"d": {"device": "/dev/vda", "content": {"type": "gpt", "partitions": {
            "pv": {"size": "100%", "content": {"type": "lvm_pv", "vg": "pool"}}}}}},
        "lvm_vg": {"pool": {"type": "lvm_vg", "lvs": {
            "home": {"size": "100%FREE"},
            "root": {"size": "10G"},
            "half": {"size": "50%VG", "priority": 1}
        }}}
    }));
    let space = plan(&l, 40 * GIB);
    assert_eq!(space.members.len(), 1);
    let vg = space
        .plans
        .iter()
        .find(|p| p.kind == DeviceKind::VolumeGroup)
        .unwrap();
    assert!(vg.problems.is_empty(), "{:?}", vg.problems);
    let names: Vec<&str> = vg.segments.iter().map(|s| s.label.as_str()).collect();
    assert_eq!(names, ["half", "root", "home"]);
    let total: u64 = vg.segments.iter().map(|s| s.size).sum();
    assert_eq!(total, vg.size - vg.size % (4 * MIB));
    assert_eq!(vg.segments[1].size, 10 * GIB);
}

#[test]
fn legacy_tables_follow_parted_units() {
    let l = layout(
        json!({"disk": {"d": {"device": "/dev/vda", "content": {"type": "table", "format": "msdos",
        "partitions": [
            {"start": "1MiB", "end": "512MiB", "content": {"type": "filesystem", "format": "ext4", "mountpoint": "/boot"}},
            {"start": "512MiB", "end": "100%"},
            {"start": "50%", "end": "60%"}
        ]}}}}),
    );
    let p = &plan(&l, 10 * GIB).plans[0];
    assert_eq!((p.segments[0].offset, p.segments[0].size), (MIB, 511 * MIB));
    assert_eq!(p.segments[1].offset, 512 * MIB);
    assert_eq!(p.problems.len(), 1);
    assert_eq!(
        p.problems[0].path,
        "disko.devices.disk.d.content.partitions[2].end"
    );
}

#[test]
fn md_arrays_are_planned_from_their_members() {
    let member = |dev: &str| {
        json!({"device": dev, "content": {"type": "gpt", "partitions": {
        "md": {"size": "100%", "content": {"type": "mdraid", "name": "r"}}}}})
    };
    let l = layout(json!({
        "disk": {"a": member("/dev/vda"), "b": member("/dev/vdb")},
        "mdadm": {"r": {"type": "mdadm", "level": 1, "content": {"type": "gpt", "partitions": {
            "root": {"size": "100%", "content": {"type": "filesystem", "format": "ext4", "mountpoint": "/"}}}}}}
    }));
    let space = plan_layout(&l, |name, _| {
        Some(if name == "a" { 10 * GIB } else { 12 * GIB })
    });
    assert_eq!(space.members.len(), 2);
    let md = space
        .plans
        .iter()
        .find(|p| p.kind == DeviceKind::MdArray)
        .unwrap();
    assert_eq!(md.size, space.members.iter().map(|m| m.size).min().unwrap());
    assert_eq!(md.segments.len(), 1);
}
