//! The parser on saved `lsblk` output of varied machines (`tests/fixtures/lsblk/`).

use super::*;
use std::path::PathBuf;

fn fixture(name: &str) -> (String, Vec<ByIdLink>) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../tests/fixtures/lsblk");
    let json = std::fs::read_to_string(dir.join(format!("{name}.json"))).expect("fixture");
    let links = std::fs::read_to_string(dir.join(format!("{name}.by-id")))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(link, kname)| ByIdLink {
            link: link.into(),
            kname: kname.into(),
        })
        .collect::<Vec<_>>();
    (json, links)
}

fn load(name: &str) -> Vec<BlockDevice> {
    let (json, links) = fixture(name);
    parse_with_links(&json, &links).expect("fixture parses")
}

#[test]
fn nvme_laptop_with_luks_and_btrfs() {
    let devs = load("nvme-uefi");
    let zram = &devs[0];
    assert!(!zram.is_install_candidate(), "zram is no install target");
    let nvme = &devs[1];
    assert!(nvme.is_install_candidate());
    assert_eq!(nvme.transport.as_deref(), Some("nvme"));
    assert_eq!(nvme.size_bytes, 1_000_204_886_016);
    assert_eq!(
        nvme.stable_name(),
        "/dev/disk/by-id/nvme-Samsung_SSD_980_PRO_1TB_S5GXNF0R812345A",
        "the model/serial name wins over nvme-eui."
    );
    assert_eq!(
        nvme.by_id.last().map(String::as_str),
        Some("/dev/disk/by-id/nvme-eui.002538b811b2c3d4")
    );
    assert_eq!(
        nvme.children[1].stable_name(),
        "/dev/disk/by-id/nvme-Samsung_SSD_980_PRO_1TB_S5GXNF0R812345A-part2"
    );
    let root = &nvme.children[1].children[0];
    assert_eq!(root.kind, "crypt");
    assert_eq!(root.mountpoints, vec!["/nix", "/home", "/"]);
    assert_eq!(root.stable_name(), "/dev/disk/by-id/dm-name-crypted");
    assert!(nvme.holds_data());
    assert!(nvme.all_mountpoints().contains(&"/"));
}

#[test]
fn sata_raid_keeps_padded_models_and_prefers_ata_names() {
    let devs = load("sata-two-disks");
    assert_eq!(devs.len(), 2);
    let a = &devs[0];
    assert_eq!(
        a.model.as_deref(),
        Some("WDC WD40EFRX-68N32N0                    ")
    );
    assert_eq!(a.display_model(), Some("WDC WD40EFRX-68N32N0"));
    assert!(a.rotational);
    assert_eq!(
        a.stable_name(),
        "/dev/disk/by-id/ata-WDC_WD40EFRX-68N32N0_WD-WCC7K1234567"
    );
    // Two identical models: only the serial tells them apart.
    assert_ne!(a.stable_name(), devs[1].stable_name());
    let md = &a.children[1].children[0];
    assert_eq!(md.kind, "raid1");
    assert_eq!(md.stable_name(), "/dev/disk/by-id/md-name-server:root");
    assert_eq!(md.mountpoints, vec!["/"]);
}

#[test]
fn virtio_vps_with_lvm_and_old_mountpoint_column() {
    let devs = load("virtio-lvm");
    let rom = &devs[0];
    assert_eq!(rom.kind, "rom");
    assert!(!rom.is_install_candidate());
    let vda = &devs[1];
    assert_eq!(vda.stable_name(), "/dev/disk/by-id/virtio-vps-4711");
    assert_eq!(vda.pttype.as_deref(), Some("dos"));
    let root = &vda.children[1].children[0];
    assert_eq!(root.mountpoints, vec!["/"]);
    assert_eq!(
        split_dm_name(&root.name),
        Some(("vg-data".to_string(), "root".to_string()))
    );
    assert_eq!(
        vda.children[1].stable_name(),
        "/dev/disk/by-id/virtio-vps-4711-part2"
    );
}

#[test]
fn old_util_linux_strings_and_no_path_column() {
    let (json, _) = fixture("old-util-linux");
    let devs = parse(&json).unwrap();
    let sda = &devs[0];
    assert_eq!(sda.size_bytes, 500_107_862_016);
    assert_eq!(sda.path, "/dev/sda");
    assert!(sda.rotational && !sda.removable && !sda.read_only);
    assert_eq!(sda.children[0].mountpoints, vec!["/boot"]);
    let lv = &sda.children[1].children[0];
    assert_eq!(lv.path, "/dev/mapper/centos-root");
    assert_eq!(lv.mountpoints, vec!["/"]);
    assert!(devs[1].removable);
    assert_eq!(sda.stable_name(), "/dev/sda", "no links: the path");
}

#[test]
fn snap_loops_and_empty_card_readers_are_noise() {
    let devs = load("snap-loops");
    let noise: Vec<&str> = devs
        .iter()
        .filter(|d| d.is_noise())
        .map(|d| d.name.as_str())
        .collect();
    assert_eq!(noise, vec!["loop0", "loop1", "sdb"]);
    let candidates: Vec<&str> = devs
        .iter()
        .filter(|d| d.is_install_candidate())
        .map(|d| d.name.as_str())
        .collect();
    assert_eq!(
        candidates,
        vec!["sda"],
        "read-only loops and an empty reader are no targets"
    );
    assert_eq!(devs[2].children[1].mountpoints.len(), 2);
}

#[test]
fn malformed_json_fails_with_the_reason() {
    let (json, _) = fixture("malformed-2.38.0");
    let err = parse(&json).unwrap_err();
    assert!(matches!(err, LsblkError::Json(_)));
    assert!(err.to_string().contains("named columns"), "{err}");
}
