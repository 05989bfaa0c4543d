use crate::disko::*;
use crate::facts::{BlockDevice, BootMode, HostFacts};
use serde_json::{json, Value};

const GIB: u64 = 1 << 30;

fn host(boot: BootMode, disks: &[(&str, u64, &str)]) -> HostFacts {
    HostFacts {
        hostname: "web1".into(),
        boot_mode: boot,
        disks: disks
            .iter()
            .map(|(path, size, by_id)| BlockDevice {
                name: path.trim_start_matches("/dev/").into(),
                path: path.to_string(),
                size_bytes: *size,
                kind: "disk".into(),
                model: Some("QEMU HARDDISK   ".into()),
                by_id: if by_id.is_empty() {
                    vec![]
                } else {
                    vec![by_id.to_string()]
                },
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

fn uefi_host() -> HostFacts {
    host(
        BootMode::Uefi,
        &[("/dev/sda", 20 * GIB, "/dev/disk/by-id/ata-QEMU_1")],
    )
}

/// The article's layout on `device`, with `esp` as its ESP partition.
fn article(device: &str) -> Value {
    json!({"disk": {"main": {"device": device, "type": "disk", "content": {"type": "gpt", "partitions": {
        "ESP": {"type": "EF00", "size": "512M", "content": {"type": "filesystem", "format": "vfat", "mountpoint": "/boot", "mountOptions": ["umask=0077"]}},
        "root": {"size": "100%", "content": {"type": "filesystem", "format": "ext4", "mountpoint": "/"}}
    }}}}})
}

fn run(value: &Value, facts: Option<&HostFacts>) -> Vec<Diagnostic> {
    validate(&from_json(value).unwrap(), facts)
}

fn with(value: &Value, rule: Rule, facts: Option<&HostFacts>) -> Vec<Diagnostic> {
    run(value, facts)
        .into_iter()
        .filter(|d| d.rule == rule)
        .collect()
}

fn set(value: &mut Value, pointer: &str, new: Value) {
    *value
        .pointer_mut(pointer)
        .unwrap_or_else(|| panic!("{pointer}")) = new;
}

const PARTS: &str = "/disk/main/content/partitions";

#[test]
fn the_article_layout_is_clean_on_a_matching_uefi_host() {
    let found = run(&article("/dev/disk/by-id/ata-QEMU_1"), Some(&uefi_host()));
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn device_missing() {
    let found = with(
        &article("/dev/sdz"),
        Rule::DeviceMissing,
        Some(&uefi_host()),
    );
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].path, "disko.devices.disk.main.device");
    assert!(
        found[0]
            .message
            .contains("`/dev/sdz` does not exist on web1")
            && found[0]
                .message
                .contains("/dev/sda (QEMU HARDDISK, 20 GiB)"),
        "{}",
        found[0].message
    );
    assert!(with(
        &article("/dev/sda"),
        Rule::DeviceMissing,
        Some(&uefi_host())
    )
    .is_empty());
    let mut no_device = article("/dev/sda");
    no_device["disk"]["main"]
        .as_object_mut()
        .unwrap()
        .remove("device");
    assert_eq!(with(&no_device, Rule::DeviceMissing, None).len(), 1);
}

#[test]
fn unstable_device_name() {
    let found = with(
        &article("/dev/sda"),
        Rule::UnstableDeviceName,
        Some(&uefi_host()),
    );
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].severity, Severity::Warning);
    assert!(found[0].message.contains("/dev/disk/by-id/ata-QEMU_1"));
    assert!(with(
        &article("/dev/disk/by-id/ata-QEMU_1"),
        Rule::UnstableDeviceName,
        Some(&uefi_host())
    )
    .is_empty());
    // No by-id link (e.g. a virtio disk): nothing better to suggest.
    let bare = host(BootMode::Uefi, &[("/dev/vda", 20 * GIB, "")]);
    assert!(with(&article("/dev/vda"), Rule::UnstableDeviceName, Some(&bare)).is_empty());
}

#[test]
fn does_not_fit() {
    let mut big = article("/dev/sda");
    set(&mut big, &format!("{PARTS}/ESP/size"), json!("30G"));
    let found = with(&big, Rule::DoesNotFit, Some(&uefi_host()));
    assert_eq!(
        found[0].path,
        "disko.devices.disk.main.content.partitions.ESP.size"
    );
    assert!(
        found[0].message.starts_with("It needs 30 GiB"),
        "{}",
        found[0].message
    );
    assert!(with(&article("/dev/sda"), Rule::DoesNotFit, Some(&uefi_host())).is_empty());
}

#[test]
fn several_full_size_partitions() {
    let mut two = article("/dev/sda");
    set(&mut two, &format!("{PARTS}/ESP/size"), json!("100%"));
    let found = with(&two, Rule::SeveralFullSize, None);
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].path,
        "disko.devices.disk.main.content.partitions.root.size"
    );
    assert!(with(&article("/dev/sda"), Rule::SeveralFullSize, None).is_empty());
}

#[test]
fn no_root() {
    let mut none = article("/dev/sda");
    set(
        &mut none,
        &format!("{PARTS}/root/content/mountpoint"),
        json!("/srv"),
    );
    assert_eq!(with(&none, Rule::NoRoot, None)[0].path, "disko.devices");
    assert!(with(&article("/dev/sda"), Rule::NoRoot, None).is_empty());
    // A tmpfs root counts (nodev's mountpoint defaults to its name).
    let mut tmpfs_root = none.clone();
    tmpfs_root["nodev"] = json!({"/": {"fsType": "tmpfs"}});
    assert!(with(&tmpfs_root, Rule::NoRoot, None).is_empty());
}

#[test]
fn duplicate_mountpoints() {
    let mut dup = article("/dev/sda");
    set(
        &mut dup,
        &format!("{PARTS}/ESP/content/mountpoint"),
        json!("/"),
    );
    let found = with(&dup, Rule::DuplicateMountpoint, None);
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].path,
        "disko.devices.disk.main.content.partitions.root.content.mountpoint"
    );
    assert!(found[0]
        .message
        .contains("partitions.ESP.content.mountpoint"));
    assert!(with(&article("/dev/sda"), Rule::DuplicateMountpoint, None).is_empty());
}

#[test]
fn esp_missing_on_uefi() {
    let mut no_esp = article("/dev/sda");
    set(&mut no_esp, &format!("{PARTS}/ESP/type"), json!("8300"));
    assert_eq!(
        with(&no_esp, Rule::NoEsp, Some(&uefi_host()))[0].path,
        "disko.devices.disk"
    );
    let mut ext4 = article("/dev/sda");
    set(
        &mut ext4,
        &format!("{PARTS}/ESP/content/format"),
        json!("ext4"),
    );
    assert_eq!(
        with(&ext4, Rule::NoEsp, Some(&uefi_host()))[0].path,
        "disko.devices.disk.main.content.partitions.ESP.content"
    );
    let mut elsewhere = article("/dev/sda");
    set(
        &mut elsewhere,
        &format!("{PARTS}/ESP/content/mountpoint"),
        json!("/mnt/esp"),
    );
    assert!(with(&elsewhere, Rule::NoEsp, Some(&uefi_host()))[0]
        .message
        .contains("/boot"));
    assert!(with(&article("/dev/sda"), Rule::NoEsp, Some(&uefi_host())).is_empty());
    // On BIOS the ESP is not needed.
    let bios = host(BootMode::Bios, &[("/dev/sda", 20 * GIB, "")]);
    assert!(with(&no_esp, Rule::NoEsp, Some(&bios)).is_empty());
}

#[test]
fn bios_boot_missing_for_gpt() {
    let bios = host(BootMode::Bios, &[("/dev/sda", 20 * GIB, "")]);
    let found = with(&article("/dev/sda"), Rule::NoBiosBoot, Some(&bios));
    assert_eq!(found[0].path, "disko.devices.disk.main.content.partitions");
    let mut with_boot = article("/dev/sda");
    set(
        &mut with_boot,
        &format!("{PARTS}/ESP"),
        json!({"size": "1M", "type": "EF02"}),
    );
    assert!(with(&with_boot, Rule::NoBiosBoot, Some(&bios)).is_empty());
    assert!(with(&article("/dev/sda"), Rule::NoBiosBoot, Some(&uefi_host())).is_empty());
}

fn luks_root(luks: Value) -> Value {
    let mut value = article("/dev/sda");
    let mut content = luks;
    content["type"] = json!("luks");
    content["name"] = json!("crypted");
    content["content"] = json!({"type": "filesystem", "format": "ext4", "mountpoint": "/"});
    set(&mut value, &format!("{PARTS}/root/content"), content);
    value
}

#[test]
fn encrypted_root_without_a_passphrase() {
    let found = with(
        &luks_root(json!({"askPassword": false})),
        Rule::NoPassphrase,
        None,
    );
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].path,
        "disko.devices.disk.main.content.partitions.root.content.askPassword"
    );
    let found = with(
        &luks_root(json!({"initrdUnlock": false})),
        Rule::NoPassphrase,
        None,
    );
    assert_eq!(
        found[0].path,
        "disko.devices.disk.main.content.partitions.root.content.initrdUnlock"
    );
    let found = with(
        &luks_root(json!({"settings": {"keyFile": "/key"}})),
        Rule::NoPassphrase,
        None,
    );
    assert_eq!(found[0].severity, Severity::Warning);
    for fine in [
        json!({}),
        json!({"askPassword": false, "passwordFile": "/tmp/secret.key"}),
        json!({"settings": {"keyFile": "/key", "fallbackToPassword": true}}),
    ] {
        assert!(
            with(&luks_root(fine.clone()), Rule::NoPassphrase, None).is_empty(),
            "{fine}"
        );
    }
}

fn raid(size_a: &str, size_b: &str) -> Value {
    let member = |dev: &str, size: &str| {
        json!({"device": dev, "content": {"type": "gpt", "partitions": {
        "md": {"size": size, "content": {"type": "mdraid", "name": "r"}}}}})
    };
    json!({
        "disk": {"a": member("/dev/sda", size_a), "b": member("/dev/sdb", size_b)},
        "mdadm": {"r": {"type": "mdadm", "level": 1, "content": {"type": "filesystem", "format": "ext4", "mountpoint": "/"}}}
    })
}

#[test]
fn raid_members_of_different_sizes() {
    let facts = host(
        BootMode::Bios,
        &[("/dev/sda", 20 * GIB, ""), ("/dev/sdb", 40 * GIB, "")],
    );
    let found = with(&raid("100%", "100%"), Rule::UnequalMembers, Some(&facts));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].path, "disko.devices.mdadm.r");
    assert!(
        found[0].message.contains("20 GiB stay unused"),
        "{}",
        found[0].message
    );
    assert!(with(&raid("10G", "10G"), Rule::UnequalMembers, Some(&facts)).is_empty());
}

#[test]
fn groups_referenced_but_not_defined() {
    let mut value = raid("10G", "10G");
    value["mdadm"] = json!({"other": {"type": "mdadm", "content": {"type": "filesystem", "format": "ext4", "mountpoint": "/"}}});
    let found = with(&value, Rule::UndefinedGroup, None);
    let paths: Vec<&str> = found.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "disko.devices.disk.a.content.partitions.md.content.name",
            "disko.devices.disk.b.content.partitions.md.content.name",
            "disko.devices.mdadm.other",
        ]
    );
    assert!(found[0].message.contains("mdadm array `r` is not defined"));
    let lvm = json!({"disk": {"d": {"device": "/dev/sda", "content": {"type": "lvm_pv", "vg": "pool"}}},
        "lvm_vg": {"pool": {"type": "lvm_vg", "lvs": {
            "root": {"size": "10G", "content": {"type": "filesystem", "format": "ext4", "mountpoint": "/"}},
            "thin": {"size": "1G", "lvm_type": "thinlv", "pool": "tp"}}}}});
    let found = with(&lvm, Rule::UndefinedGroup, None);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].path, "disko.devices.lvm_vg.pool.lvs.thin.pool");
    let mut fixed = lvm.clone();
    fixed["lvm_vg"]["pool"]["lvs"]["tp"] = json!({"size": "5G", "lvm_type": "thin-pool"});
    assert!(with(&fixed, Rule::UndefinedGroup, None).is_empty());
    assert!(with(&raid("10G", "10G"), Rule::UndefinedGroup, None).is_empty());
}

#[test]
fn bad_values() {
    let mut bad = article("/dev/sda");
    set(&mut bad, &format!("{PARTS}/ESP/size"), json!("512MB"));
    set(&mut bad, &format!("{PARTS}/ESP/type"), json!("ESP"));
    let found = with(&bad, Rule::BadValue, None);
    let paths: Vec<&str> = found.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "disko.devices.disk.main.content.partitions.ESP.type",
            "disko.devices.disk.main.content.partitions.ESP.size",
        ]
    );
    assert!(with(&article("/dev/sda"), Rule::BadValue, None).is_empty());
    let mut required = article("/dev/sda");
    required["disk"]["main"]["content"]["partitions"]["root"]["content"]
        .as_object_mut()
        .unwrap()
        .remove("format");
    required["nodev"] = json!({"/tmp": {}});
    let found = with(&required, Rule::BadValue, None);
    let paths: Vec<&str> = found.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "disko.devices.disk.main.content.partitions.root.content.format",
            "disko.devices.nodev.\"/tmp\".fsType",
        ]
    );
}

#[test]
fn errors_come_before_warnings_and_serialise_as_documented() {
    let found = run(
        &article("/dev/sda"),
        Some(&host(
            BootMode::Bios,
            &[("/dev/sda", 20 * GIB, "/dev/disk/by-id/x")],
        )),
    );
    assert_eq!(found.first().unwrap().severity, Severity::Error);
    assert_eq!(found.last().unwrap().severity, Severity::Warning);
    let json = serde_json::to_value(&found[0]).unwrap();
    assert_eq!(json["severity"], "error");
    assert_eq!(json["rule"], "no-bios-boot");
}

#[test]
fn duplicate_devices() {
    let mut two = article("/dev/sda");
    two["disk"]["second"] = json!({"device": "/dev/sda", "content": {"type": "filesystem", "format": "ext4", "mountpoint": "/data"}});
    let found = with(&two, Rule::DuplicateDevice, None);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].path, "disko.devices.disk.second.device");
    assert!(found[0]
        .message
        .contains("disk `main` already uses `/dev/sda`"));
    two["disk"]["second"]["device"] = json!("/dev/sdb");
    assert!(with(&two, Rule::DuplicateDevice, None).is_empty());
}
