//! Figures for the layout editor's hot path: every edit re-imports, renders,
//! plans and validates the whole layout, so these must stay far below a frame.
//! Run: `cargo bench -p nixdeck-core --bench disko`.

use nixdeck_core::disko::{self, space, templates};
use nixdeck_core::facts::{BlockDevice, BootMode, HostFacts};
use serde_json::{json, Map, Value};
use std::time::{Duration, Instant};

/// A large but realistic layout: `disks` disks, each with an ESP, swap, a LUKS
/// volume holding btrfs with 8 subvolumes, and an LVM physical volume.
fn big_layout(disks: usize) -> Value {
    let mut map = Map::new();
    for d in 0..disks {
        let subvolumes: Map<String, Value> = (0..8)
            .map(|s| (format!("/sv{s}"), json!({"mountpoint": format!("/d{d}/s{s}"), "mountOptions": ["compress=zstd", "noatime"]})))
            .collect();
        map.insert(format!("disk{d}"), json!({"device": format!("/dev/disk/by-id/ata-{d}"), "type": "disk", "content": {"type": "gpt", "partitions": {
            "ESP": {"type": "EF00", "size": "512M", "content": {"type": "filesystem", "format": "vfat", "mountpoint": if d == 0 { "/boot".to_string() } else { format!("/boot{d}") }}},
            "swap": {"size": "4G", "content": {"type": "swap", "resumeDevice": d == 0}},
            "crypt": {"size": "50G", "content": {"type": "luks", "name": format!("c{d}"), "content": {"type": "btrfs", "subvolumes": subvolumes}}},
            "pv": {"size": "100%", "content": {"type": "lvm_pv", "vg": "vg"}}
        }}}));
    }
    json!({"disk": map, "lvm_vg": {"vg": {"type": "lvm_vg", "lvs": {
        "root": {"size": "100G", "content": {"type": "filesystem", "format": "ext4", "mountpoint": "/"}},
        "home": {"size": "100%FREE", "content": {"type": "filesystem", "format": "ext4", "mountpoint": "/home"}}
    }}}})
}

fn facts(disks: usize) -> HostFacts {
    HostFacts {
        boot_mode: BootMode::Uefi,
        disks: (0..disks)
            .map(|d| BlockDevice {
                name: format!("sd{d}"),
                path: format!("/dev/sd{d}"),
                size_bytes: 1 << 40,
                kind: "disk".into(),
                by_id: vec![format!("/dev/disk/by-id/ata-{d}")],
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

fn measure(label: &str, iterations: u32, mut f: impl FnMut()) {
    f();
    let start = Instant::now();
    for _ in 0..iterations {
        f();
    }
    let each: Duration = start.elapsed() / iterations;
    println!("{label:<48} {:>10.1} µs", each.as_secs_f64() * 1e6);
}

fn main() {
    for disks in [1, 8, 64] {
        let value = big_layout(disks);
        let layout = disko::from_json(&value).expect("valid layout");
        let facts = facts(disks);
        println!(
            "-- {disks} disk(s), {} bytes of JSON",
            value.to_string().len()
        );
        measure("import (from_json)", 200, || drop(disko::from_json(&value)));
        measure("render disko.nix", 200, || drop(disko::render(&layout)));
        measure("to_json", 200, || drop(disko::to_json(&layout)));
        measure("plan space (plan_for_host)", 200, || {
            drop(space::plan_for_host(&layout, &facts))
        });
        measure("validate with facts", 200, || {
            drop(disko::validate(&layout, Some(&facts)))
        });
    }
    measure("instantiate every template, both boot modes", 200, || {
        for t in templates::templates() {
            let disks: Vec<String> = (0..t.disks).map(|i| format!("/dev/sd{i}")).collect();
            for boot in [BootMode::Uefi, BootMode::Bios] {
                drop(templates::instantiate(t.name, &disks, boot));
            }
        }
    });
}
