//! Names, labels and paths that disko splices into shell commands on the target:
//! hostile values are refused per field, with the field's option path.

use crate::disko::*;
use serde_json::{json, Value};

/// One of everything disko names: LUKS with key files, LVM with a thin pool,
/// mdadm, a zpool with a dataset and a zvol, btrfs with subvolumes and a swap file,
/// a legacy table, bcachefs and tmpfs.
fn base() -> Value {
    json!({
        "disk": {
            "main": {"type": "disk", "device": "/dev/disk/by-id/ata-QEMU_1", "content": {"type": "gpt", "partitions": {
                "ESP": {"type": "EF00", "size": "512M", "label": "EFI system", "content": {
                    "type": "filesystem", "format": "vfat", "mountpoint": "/boot", "mountOptions": ["umask=0077"]}},
                "md": {"size": "1G", "content": {"type": "mdraid", "name": "srv"}},
                "zfs": {"size": "10G", "content": {"type": "zfs", "pool": "zroot"}},
                "bcachefs": {"size": "10G", "content": {"type": "bcachefs", "filesystem": "pool", "label": "ssd.fast"}},
                "luks": {"size": "100%", "content": {
                    "type": "luks", "name": "crypted", "passwordFile": "/tmp/secret.key",
                    "settings": {"keyFile": "/tmp/disk.key", "allowDiscards": true},
                    "additionalKeyFiles": ["/tmp/extra.key"], "extraFormatArgs": ["--pbkdf argon2id"],
                    "content": {"type": "lvm_pv", "vg": "pool"}}}
            }}},
            "old": {"type": "disk", "device": "/dev/disk/by-id/ata-QEMU_2", "content": {"type": "table", "format": "msdos", "partitions": [
                {"start": "1MiB", "end": "100%", "flags": ["boot"], "content": {"type": "swap", "mountOptions": ["discard"]}}
            ]}}
        },
        "mdadm": {"srv": {"type": "mdadm", "level": 1, "content": {"type": "filesystem", "format": "ext4", "mountpoint": "/srv"}}},
        "lvm_vg": {"pool": {"type": "lvm_vg", "lvs": {
            "thin": {"size": "10G", "lvm_type": "thin-pool"},
            "data": {"size": "1G", "lvm_type": "thinlv", "pool": "thin"},
            "root": {"size": "100%FREE", "content": {"type": "btrfs", "extraArgs": ["-f"],
                "subvolumes": {"/root": {"mountpoint": "/", "mountOptions": ["compress=zstd"]}},
                "swap": {"swapfile": {"size": "1G"}}}}
        }}},
        "zpool": {"zroot": {"type": "zpool", "rootFsOptions": {"compression": "zstd"}, "datasets": {
            "data": {"type": "zfs_fs", "mountpoint": "/data", "options": {"mountpoint": "legacy"}},
            "vol": {"type": "zfs_volume", "size": "1G"}
        }}},
        "bcachefs_filesystems": {"pool": {"type": "bcachefs_filesystem", "mountpoint": "/bulk",
            "subvolumes": {"media": {"mountpoint": "/media"}}}},
        "nodev": {"/tmp": {"type": "nodev", "fsType": "tmpfs", "mountOptions": ["size=2G"]}}
    })
}

fn unsafe_findings(value: &Value) -> Vec<Diagnostic> {
    validate(&from_json(value).unwrap(), None)
        .into_iter()
        .filter(|d| d.rule == Rule::UnsafeText)
        .collect()
}

/// Sets `key` in the object at `parent` (a JSON pointer).
fn put(value: &Value, parent: &str, key: &str, new: &str) -> Value {
    let mut value = value.clone();
    let object = value
        .pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("{parent}"));
    object.insert(key.to_string(), Value::from(new));
    value
}

/// Sets item `index` of the list at `parent`/`key`.
fn put_item(value: &Value, parent: &str, key: &str, index: usize, new: &str) -> Value {
    let mut value = value.clone();
    let pointer = format!("{parent}/{key}/{index}");
    *value
        .pointer_mut(&pointer)
        .unwrap_or_else(|| panic!("{pointer}")) = Value::from(new);
    value
}

const P: &str = "disko.devices.disk.main.content.partitions";

/// Values every bare name must refuse: command separators, substitutions, quotes,
/// whitespace, line breaks and a leading dash.
const HOSTILE_NAMES: [&str; 9] = [
    "crypted; reboot",
    "crypted\nreboot",
    "a$(id)",
    "a`id`",
    "a b",
    "-a",
    "a\"b",
    "a'b",
    "a|b",
];

fn assert_refused(value: &Value, path: &str, shown: &str) {
    let found = unsafe_findings(value);
    assert!(
        found.len() == 1 && found[0].path == path && found[0].severity == Severity::Error,
        "{shown:?} at {path}: {found:#?}"
    );
}

fn assert_accepted(value: &Value, shown: &str) {
    let found = unsafe_findings(value);
    assert!(found.is_empty(), "{shown:?} refused: {found:#?}");
}

#[test]
fn the_base_layout_has_nothing_unsafe() {
    assert_accepted(&base(), "base");
}

#[test]
fn bare_names_refuse_shell_text_per_field() {
    // (object, option, path the finding names, a good value)
    let cases = [
        (
            "/disk/main/content/partitions/luks/content",
            "name",
            format!("{P}.luks.content.name"),
            "cryptroot-1",
        ),
        (
            "/lvm_vg/pool",
            "name",
            "disko.devices.lvm_vg.pool.name".into(),
            "vg0",
        ),
        (
            "/lvm_vg/pool/lvs/root",
            "name",
            "disko.devices.lvm_vg.pool.lvs.root.name".into(),
            "root.fs",
        ),
        (
            "/lvm_vg/pool/lvs/data",
            "pool",
            "disko.devices.lvm_vg.pool.lvs.data.pool".into(),
            "thin",
        ),
        (
            "/disk/main/content/partitions/luks/content/content",
            "vg",
            format!("{P}.luks.content.content.vg"),
            "pool",
        ),
        (
            "/mdadm/srv",
            "name",
            "disko.devices.mdadm.srv.name".into(),
            "md_srv",
        ),
        (
            "/disk/main/content/partitions/md/content",
            "name",
            format!("{P}.md.content.name"),
            "srv",
        ),
        (
            "/zpool/zroot",
            "name",
            "disko.devices.zpool.zroot.name".into(),
            "tank",
        ),
        (
            "/disk/main/content/partitions/zfs/content",
            "pool",
            format!("{P}.zfs.content.pool"),
            "zroot",
        ),
        (
            "/zpool/zroot/datasets/data",
            "name",
            "disko.devices.zpool.zroot.datasets.data.name".into(),
            "root/data:1",
        ),
        (
            "/zpool/zroot/datasets/vol",
            "name",
            "disko.devices.zpool.zroot.datasets.vol.name".into(),
            "vol0",
        ),
        (
            "/lvm_vg/pool/lvs/root/content/subvolumes/~1root",
            "name",
            "disko.devices.lvm_vg.pool.lvs.root.content.subvolumes.\"/root\".name".into(),
            "@root",
        ),
        (
            "/disk/main/content/partitions/ESP/content",
            "format",
            format!("{P}.ESP.content.format"),
            "vfat",
        ),
        (
            "/nodev/~1tmp",
            "fsType",
            "disko.devices.nodev.\"/tmp\".fsType".into(),
            "fuse.sshfs",
        ),
    ];
    for (object, option, path, good) in &cases {
        for bad in HOSTILE_NAMES {
            assert_refused(&put(&base(), object, option, bad), path, bad);
        }
        assert_accepted(&put(&base(), object, option, good), good);
    }
}

#[test]
fn key_file_paths_refuse_shell_text() {
    let luks = "/disk/main/content/partitions/luks/content";
    let hostile = [
        "/k; reboot",
        "/k\nreboot",
        "/$(id)",
        "/`id`",
        "/a b",
        "/a\"b",
        "/a'b",
        "relative.key",
    ];
    for bad in hostile {
        assert_refused(
            &put(&base(), luks, "passwordFile", bad),
            &format!("{P}.luks.content.passwordFile"),
            bad,
        );
        assert_refused(
            &put(&base(), luks, "keyFile", bad),
            &format!("{P}.luks.content.keyFile"),
            bad,
        );
        assert_refused(
            &put(&base(), &format!("{luks}/settings"), "keyFile", bad),
            &format!("{P}.luks.content.settings.keyFile"),
            bad,
        );
        assert_refused(
            &put_item(&base(), luks, "additionalKeyFiles", 0, bad),
            &format!("{P}.luks.content.additionalKeyFiles[0]"),
            bad,
        );
    }
    let settings = format!("{luks}/settings");
    assert_refused(
        &put(&base(), &settings, "keyFileSize", "4096; reboot"),
        &format!("{P}.luks.content.settings.keyFileSize"),
        "keyFileSize",
    );
    let mut listed = base();
    listed.pointer_mut(&settings).unwrap()["keyFileOffset"] = json!(["1", "$(id)"]);
    assert_refused(
        &listed,
        &format!("{P}.luks.content.settings.keyFileOffset"),
        "list",
    );
    let mut numbers = base();
    numbers.pointer_mut(&settings).unwrap()["keyFileSize"] = json!(4096);
    numbers.pointer_mut(&settings).unwrap()["keyFileOffset"] = json!("512");
    assert_accepted(&numbers, "numbers");
    let good = "/dev/disk/by-id/usb-Key_0:0-part1";
    assert_accepted(
        &put(&base(), &format!("{luks}/settings"), "keyFile", good),
        good,
    );
}

#[test]
fn double_quoted_values_refuse_what_ends_or_expands_the_quotes() {
    // Spaces, `;` and `'` are harmless inside disko's double quotes (its own example
    // has partitions named "name with spaces"); `$`, backticks, `"` and line
    // breaks are not.
    let hostile = ["a\nb", "a$(id)", "a`id`", "a\"b", "a\\", "a\\$b"];
    let cases = [
        (
            "/disk/main/content/partitions/ESP",
            "label",
            format!("{P}.ESP.label"),
            "x",
        ),
        (
            "/disk/main/content/partitions/ESP/content",
            "mountpoint",
            format!("{P}.ESP.content.mountpoint"),
            "/x",
        ),
        (
            "/bcachefs_filesystems/pool",
            "name",
            "disko.devices.bcachefs_filesystems.pool.name".into(),
            "pool",
        ),
    ];
    for (object, option, path, prefix) in &cases {
        for bad in hostile {
            let value = format!("{prefix}{bad}");
            assert_refused(&put(&base(), object, option, &value), path, &value);
        }
        for good in [" with spaces", ";semi", "'quote'", "^hat\\s@#"] {
            let value = format!("{prefix}{good}");
            assert_accepted(&put(&base(), object, option, &value), &value);
        }
    }
}

#[test]
fn devices_refuse_what_a_bare_shell_word_cannot_hold() {
    // btrfs with swap files mounts its parent's device unquoted.
    let path = "disko.devices.disk.main.device";
    for bad in [
        "/dev/sda; reboot",
        "/dev/sda\nreboot",
        "/dev/$(id)",
        "/dev/`id`",
        "/dev/my disk",
        "/dev/a\"b",
        "/dev/a'b",
        "/dev/a\\",
        "-rf",
    ] {
        assert_refused(&put(&base(), "/disk/main", "device", bad), path, bad);
    }
    for good in [
        "/dev/disk/by-path/pci-0000:02:00.0-nvme-1",
        "/dev/disk/by-partlabel/disk-main-name\\x20with\\x20spaces",
        "/dev/disk/by-id/nvme-Samsung_SSD_980_PRO_1TB_S5GXNX0R123456Z",
    ] {
        assert_accepted(&put(&base(), "/disk/main", "device", good), good);
    }
}

#[test]
fn default_gpt_labels_are_checked_through_the_partition_name() {
    // disko labels the partition `disk-main-<name>` when no label is set.
    let mut value = base();
    let parts = value
        .pointer_mut("/disk/main/content/partitions")
        .and_then(Value::as_object_mut)
        .unwrap();
    let esp = parts.remove("ESP").unwrap();
    parts.insert("a$(id)".into(), esp);
    value["disk"]["main"]["content"]["partitions"]["a$(id)"]
        .as_object_mut()
        .unwrap()
        .remove("label");
    let found = unsafe_findings(&value);
    assert_eq!(found.len(), 1, "{found:#?}");
    let path = OptionPath::devices()
        .child("disk")
        .child("main")
        .child("content")
        .child("partitions")
        .child("a$(id)")
        .child("label");
    assert_eq!(found[0].path, path.to_string(), "{found:#?}");
    assert!(
        found[0].message.contains("\"disk-main-a$(id)\""),
        "{}",
        found[0].message
    );
    // Longer than 36 characters, disko hashes the label: nothing of the name is left.
    let long = format!("{}$(id)", "x".repeat(40));
    let mut value2 = value.clone();
    let parts = value2
        .pointer_mut("/disk/main/content/partitions")
        .and_then(Value::as_object_mut)
        .unwrap();
    let esp = parts.remove("a$(id)").unwrap();
    parts.insert(long, esp);
    assert_accepted(&value2, "long name");
}

#[test]
fn unquoted_options_and_extra_arguments_refuse_shell_text() {
    let cases = [
        (
            "/lvm_vg/pool/lvs/root/content/subvolumes/~1root",
            "mountOptions",
            "disko.devices.lvm_vg.pool.lvs.root.content.subvolumes.\"/root\".mountOptions[0]",
        ),
        (
            "/nodev/~1tmp",
            "mountOptions",
            "disko.devices.nodev.\"/tmp\".mountOptions[0]",
        ),
        (
            "/disk/main/content/partitions/luks/content",
            "extraFormatArgs",
            "disko.devices.disk.main.content.partitions.luks.content.extraFormatArgs[0]",
        ),
        (
            "/lvm_vg/pool/lvs/root/content",
            "extraArgs",
            "disko.devices.lvm_vg.pool.lvs.root.content.extraArgs[0]",
        ),
        (
            "/disk/old/content/partitions/0",
            "flags",
            "disko.devices.disk.old.content.partitions[0].flags[0]",
        ),
    ];
    for (object, option, path) in cases {
        for bad in ["x; reboot", "x\nreboot", "$(id)", "`id`", "x>y"] {
            assert_refused(&put_item(&base(), object, option, 0, bad), path, bad);
        }
    }
    for (pointer, path) in [
        (
            "/disk/old/content/partitions/0",
            "disko.devices.disk.old.content.partitions[0].start",
        ),
        (
            "/zpool/zroot/datasets/vol",
            "disko.devices.zpool.zroot.datasets.vol.size",
        ),
    ] {
        let option = path.rsplit('.').next().unwrap();
        assert_refused(
            &put(&base(), pointer, option, "1G; reboot"),
            path,
            "1G; reboot",
        );
    }
    let mut value = base();
    value["zpool"]["zroot"]["rootFsOptions"]["a;reboot"] = json!("x");
    assert_refused(
        &value,
        "disko.devices.zpool.zroot.rootFsOptions.\"a;reboot\"",
        "property",
    );
    // Words split on purpose stay allowed.
    assert_accepted(
        &put_item(
            &base(),
            "/disk/main/content/partitions/luks/content",
            "extraFormatArgs",
            0,
            "--iter-time 5000",
        ),
        "--iter-time 5000",
    );
}

#[test]
fn names_from_attribute_keys_are_checked_at_the_key() {
    let mut value = base();
    let vg = value["lvm_vg"]
        .as_object_mut()
        .unwrap()
        .remove("pool")
        .unwrap();
    value["lvm_vg"]["pool; reboot"] = vg;
    value["disk"]["main"]["content"]["partitions"]["luks"]["content"]["content"]["vg"] =
        json!("pool; reboot");
    let found = unsafe_findings(&value);
    let paths: Vec<&str> = found.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            format!("{P}.luks.content.content.vg").as_str(),
            "disko.devices.lvm_vg.\"pool; reboot\""
        ],
        "{found:#?}"
    );
}

#[test]
fn tool_rules_beyond_characters() {
    for (object, option, bad, path) in [
        (
            "/lvm_vg/pool/lvs/root",
            "name",
            "snapshot1",
            "disko.devices.lvm_vg.pool.lvs.root.name",
        ),
        (
            "/lvm_vg/pool/lvs/root",
            "name",
            "a_tmeta",
            "disko.devices.lvm_vg.pool.lvs.root.name",
        ),
        (
            "/lvm_vg/pool",
            "name",
            "..",
            "disko.devices.lvm_vg.pool.name",
        ),
        (
            "/zpool/zroot",
            "name",
            "mirror2",
            "disko.devices.zpool.zroot.name",
        ),
        (
            "/zpool/zroot",
            "name",
            "1pool",
            "disko.devices.zpool.zroot.name",
        ),
        (
            "/zpool/zroot/datasets/data",
            "name",
            "a//b",
            "disko.devices.zpool.zroot.datasets.data.name",
        ),
        (
            "/mdadm/srv",
            "name",
            "a-name-longer-than-thirty-two-chars",
            "disko.devices.mdadm.srv.name",
        ),
        (
            "/disk/main/content/partitions/ESP",
            "label",
            "a label longer than thirty-six characters",
            "disko.devices.disk.main.content.partitions.ESP.label",
        ),
    ] {
        assert_refused(&put(&base(), object, option, bad), path, bad);
    }
}

#[test]
fn the_message_says_what_is_wrong_and_what_is_allowed() {
    let found = unsafe_findings(&put(
        &base(),
        "/disk/main/content/partitions/luks/content",
        "name",
        "crypted\nreboot",
    ));
    let message = &found[0].message;
    assert!(message.contains("\"crypted\\nreboot\""), "{message}");
    assert!(message.contains("LUKS name"), "{message}");
    assert!(message.contains("line break"), "{message}");
    assert!(
        message.ends_with("use only letters, digits and _ . + -, not starting with -"),
        "{message}"
    );
    assert!(!message.contains('\n'), "{message}");
}
