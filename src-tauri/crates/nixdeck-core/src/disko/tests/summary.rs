//! The plain-words summary, on disko's own example layouts and on small layouts
//! whose wording is checked exactly.

use crate::disko::walk::all_mounts;
use crate::disko::*;
use crate::facts::{BlockDevice, HostFacts};
use serde_json::{json, Value};
use std::path::PathBuf;

/// disko's 38 example layouts, evaluated (`tests/fixtures/disko/examples/`).
fn examples() -> Vec<(String, Value)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../tests/fixtures/disko/examples/evaluated");
    let mut out: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            (name, serde_json::from_str(&text).unwrap())
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(out.len(), 38, "disko has 38 example layouts");
    out
}

/// `mountpoint` stands as a word of `text`: after a space, before a separator.
fn mentions(text: &str, mountpoint: &str) -> bool {
    text.match_indices(mountpoint).any(|(i, _)| {
        let before = text[..i].chars().last();
        let after = text[i + mountpoint.len()..].chars().next();
        before == Some(' ') && matches!(after, None | Some(' ' | ',' | ';' | ')' | '\n'))
    })
}

#[test]
fn every_disk_and_mountpoint_of_every_disko_example_is_named() {
    for (name, value) in examples() {
        let layout = from_json(&value).unwrap_or_else(|e| panic!("{name}: {e}"));
        let summary = summary(&layout, None);
        let disks: Vec<&String> = layout.disk.iter().flat_map(|d| d.keys()).collect();
        let named: Vec<&String> = summary.disks.iter().map(|d| &d.name).collect();
        assert_eq!(named, disks, "{name}");
        let text = summary.to_string();
        for disk in &summary.disks {
            assert!(
                text.lines()
                    .any(|l| l.starts_with(&format!("{} (", disk.name))),
                "{name}: {text}"
            );
        }
        let mounts = all_mounts(&layout);
        assert!(!mounts.is_empty(), "{name}");
        for mount in mounts {
            assert!(
                mentions(&text, &mount.mountpoint),
                "{name}: {} ({}) missing from:\n{text}",
                mount.mountpoint,
                mount.path
            );
        }
        for group in &summary.groups {
            assert!(!group.text.is_empty(), "{name}");
        }
    }
}

#[test]
fn disko_examples_have_no_unsafe_names() {
    for (name, value) in examples() {
        let layout = from_json(&value).unwrap();
        let unsafe_text: Vec<Diagnostic> = validate(&layout, None)
            .into_iter()
            .filter(|d| d.rule == Rule::UnsafeText)
            .collect();
        assert!(unsafe_text.is_empty(), "{name}: {unsafe_text:#?}");
    }
}

fn layout(value: Value) -> DiskLayout {
    from_json(&value).unwrap()
}

#[test]
fn luks_btrfs_reads_as_one_sentence_with_the_probed_model() {
    let l = layout(
        json!({"disk": {"main": {"device": "/dev/disk/by-id/nvme-1", "type": "disk", "content": {"type": "gpt", "partitions": {
        "ESP": {"type": "EF00", "size": "512M", "content": {"type": "filesystem", "format": "vfat", "mountpoint": "/boot"}},
        "luks": {"size": "100%", "content": {"type": "luks", "name": "crypted", "content": {"type": "btrfs", "subvolumes": {
            "/root": {"mountpoint": "/"}, "/home": {"mountpoint": "/home"}, "/nix": {"mountpoint": "/nix"}}}}}}}}}}),
    );
    let facts = HostFacts {
        disks: vec![BlockDevice {
            name: "nvme0n1".into(),
            path: "/dev/nvme0n1".into(),
            size_bytes: 1 << 40,
            model: Some("Samsung SSD 980 ".into()),
            by_id: vec!["/dev/disk/by-id/nvme-1".into()],
            ..Default::default()
        }],
        ..Default::default()
    };
    let s = summary(&l, Some(&facts));
    assert_eq!(s.disks[0].model.as_deref(), Some("Samsung SSD 980"));
    assert_eq!(s.disks[0].size_bytes, Some(1 << 40));
    assert_eq!(
        s.to_string(),
        "main (/dev/disk/by-id/nvme-1, Samsung SSD 980, 1 TiB): 512 MiB EFI system partition at /boot; \
         the rest encrypted (LUKS \"crypted\"), holding btrfs subvolumes / (/root), /home (/home) and /nix (/nix)\n"
    );
    // Without facts: the device only.
    assert!(summary(&l, None)
        .to_string()
        .starts_with("main (/dev/disk/by-id/nvme-1): 512 MiB"));
}

#[test]
fn partitions_read_in_the_order_disko_creates_them() {
    // `100%` last and EF02 first, whatever the file's order.
    let l = layout(
        json!({"disk": {"d": {"device": "/dev/sda", "content": {"type": "gpt", "partitions": {
        "root": {"size": "100%", "content": {"type": "filesystem", "format": "ext4", "mountpoint": "/"}},
        "swap": {"size": "8G", "content": {"type": "swap", "resumeDevice": true}},
        "boot": {"size": "1M", "type": "EF02"}}}}}}),
    );
    assert_eq!(
        summary(&l, None).disks[0].text,
        "1 MiB BIOS boot partition; 8 GiB swap, used to resume from hibernation; the rest ext4 at /"
    );
}

#[test]
fn members_point_to_their_group_and_groups_say_what_they_hold() {
    let l = layout(json!({
        "disk": {
            "a": {"device": "/dev/sda", "content": {"type": "gpt", "partitions": {
                "md": {"size": "1G", "content": {"type": "mdraid", "name": "boot"}},
                "pv": {"size": "100%", "content": {"type": "lvm_pv", "vg": "vg0"}}}}},
            "b": {"device": "/dev/sdb", "content": {"type": "gpt", "partitions": {
                "md": {"size": "1G", "content": {"type": "mdraid", "name": "boot"}},
                "zfs": {"size": "100%", "content": {"type": "zfs", "pool": "tank"}}}}}
        },
        "mdadm": {"boot": {"type": "mdadm", "level": 1, "metadata": "1.0",
            "content": {"type": "filesystem", "format": "vfat", "mountpoint": "/boot"}}},
        "lvm_vg": {"vg0": {"type": "lvm_vg", "lvs": {
            "home": {"size": "100%FREE", "content": {"type": "filesystem", "format": "xfs", "mountpoint": "/home"}},
            "root": {"size": "20G", "content": {"type": "filesystem", "format": "ext4", "mountpoint": "/"}},
            "pool": {"size": "10G", "lvm_type": "thin-pool"}}}},
        "zpool": {"tank": {"type": "zpool", "mode": "mirror", "rootFsOptions": {"encryption": "aes-256-gcm"}, "datasets": {
            "data": {"type": "zfs_fs", "mountpoint": "/data"},
            "off": {"type": "zfs_fs", "options": {"mountpoint": "none"}},
            "vol": {"type": "zfs_volume", "size": "4G", "content": {"type": "swap"}}}}},
        "nodev": {"/tmp": {"type": "nodev", "fsType": "tmpfs", "mountOptions": ["size=2G"]}}
    }));
    let s = summary(&l, None);
    assert_eq!(
        s.disks[0].text,
        "1 GiB for RAID array \"boot\"; the rest for LVM volume group \"vg0\""
    );
    assert_eq!(
        s.disks[1].text,
        "1 GiB for RAID array \"boot\"; the rest for ZFS pool \"tank\""
    );
    let lines: Vec<&str> = s.groups.iter().map(|g| g.text.as_str()).collect();
    assert_eq!(
        lines,
        [
            "RAID1 array \"boot\" (/dev/md/boot, metadata 1.0) on disk a and disk b, holding vfat at /boot",
            "LVM volume group \"vg0\" on disk a, with volumes \"pool\", 10 GiB thin pool; \
             \"root\", 20 GiB: ext4 at /; \"home\", the rest: xfs at /home",
            "ZFS pool \"tank\" (mirror) on disk b, encrypted, with datasets \"data\" at /data; \
             \"off\" (not mounted); \"vol\", a 4 GiB volume, holding swap",
            "tmpfs at /tmp (options size=2G), on no disk",
        ]
    );
    let kinds: Vec<SummaryKind> = s.groups.iter().map(|g| g.kind).collect();
    assert_eq!(
        kinds,
        [
            SummaryKind::Mdadm,
            SummaryKind::LvmVg,
            SummaryKind::Zpool,
            SummaryKind::Nodev
        ]
    );
    // What the API sends the window.
    let wire = serde_json::to_value(&s).unwrap();
    assert_eq!(wire["groups"][1]["kind"], "lvm_vg");
    assert_eq!(wire["disks"][1]["name"], "b");
}

#[test]
fn a_whole_disk_and_a_lone_partition_say_so() {
    let l = layout(json!({"disk": {
        "a": {"device": "/dev/sda", "content": {"type": "gpt", "partitions": {
            "root": {"size": "100%", "content": {"type": "filesystem", "format": "ext4", "mountpoint": "/"}}}}},
        "b": {"device": "/dev/sdb", "content": {"type": "luks", "name": "data", "content": {"type": "lvm_pv", "vg": "vg"}}},
        "c": {"device": "/dev/sdc", "content": {"type": "gpt", "partitions": {
            "esp": {"type": "EF00", "start": "1M", "end": "128M", "content": {"type": "filesystem", "format": "vfat", "mountpoint": "/boot"}},
            "root": {"end": "-1G", "content": {"type": "filesystem", "format": "xfs", "mountpoint": "/srv"}}}}}
    }}));
    let s = summary(&l, None);
    assert_eq!(s.disks[0].text, "the whole disk: ext4 at /");
    assert_eq!(
        s.disks[1].text,
        "the whole disk: encrypted (LUKS \"data\"), for LVM volume group \"vg\""
    );
    assert_eq!(
        s.disks[2].text,
        "127 MiB EFI system partition at /boot; up to 1 GiB before the end, xfs at /srv"
    );
}

#[test]
fn a_group_nothing_gives_space_to_says_so() {
    let l = layout(json!({"disk": {}, "lvm_vg": {"lonely": {"type": "lvm_vg", "lvs": {}}}}));
    assert_eq!(
        summary(&l, None).groups[0].text,
        "LVM volume group \"lonely\" with no member devices, with no logical volumes"
    );
}
