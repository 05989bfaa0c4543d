use super::nix::eval_many;
use crate::disko::templates::{instantiate, templates};
use crate::disko::*;
use crate::facts::{BlockDevice, BootMode, HostFacts};

const DISKS: [&str; 2] = ["/dev/disk/by-id/ata-ONE", "/dev/disk/by-id/ata-TWO"];

fn host(boot: BootMode) -> HostFacts {
    HostFacts {
        boot_mode: boot,
        disks: DISKS
            .iter()
            .enumerate()
            .map(|(i, id)| BlockDevice {
                name: format!("sd{}", ["a", "b"][i]),
                path: format!("/dev/sd{}", ["a", "b"][i]),
                size_bytes: 20 << 30,
                kind: "disk".into(),
                by_id: vec![id.to_string()],
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

fn all() -> Vec<(String, BootMode, DiskLayout)> {
    let mut out = Vec::new();
    for t in templates() {
        for boot in [BootMode::Uefi, BootMode::Bios] {
            let disks: Vec<String> = DISKS[..t.disks].iter().map(|d| d.to_string()).collect();
            out.push((
                t.name.to_string(),
                boot,
                instantiate(t.name, &disks, boot).unwrap(),
            ));
        }
    }
    out
}

#[test]
fn the_ext4_template_is_the_articles_layout() {
    let layout = instantiate("ext4", &["/dev/sda".into()], BootMode::Uefi).unwrap();
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../tests/fixtures/disko/article.nix"
    );
    assert_eq!(render(&layout), std::fs::read_to_string(fixture).unwrap());
}

#[test]
fn every_template_is_valid_on_a_matching_host_in_both_boot_modes() {
    let all = all();
    assert_eq!(all.len(), 12);
    for (name, boot, layout) in &all {
        let findings = validate(layout, Some(&host(*boot)));
        assert!(findings.is_empty(), "{name} {boot:?}: {findings:#?}");
        // And the other boot mode's checks do fail: the variants differ where it matters.
        let other = if *boot == BootMode::Uefi {
            BootMode::Bios
        } else {
            BootMode::Uefi
        };
        let wrong = validate(layout, Some(&host(other)));
        assert!(
            wrong
                .iter()
                .any(|d| matches!(d.rule, Rule::NoEsp | Rule::NoBiosBoot)),
            "{name} {boot:?} on {other:?}"
        );
    }
}

#[test]
fn every_template_renders_to_nix_that_evaluates_to_it() {
    let all = all();
    let texts: Vec<String> = all.iter().map(|(_, _, l)| render(l)).collect();
    for ((name, boot, layout), value) in all.iter().zip(eval_many(&texts)) {
        assert_eq!(value, to_json(layout), "{name} {boot:?}");
    }
}

#[test]
fn bios_variants_have_a_1m_ef02_partition_on_every_gpt_disk() {
    for (name, boot, layout) in all() {
        for (disk_name, disk) in layout.disk.iter().flatten() {
            let Some(Content::Gpt(gpt)) = disk.content.as_deref() else {
                panic!()
            };
            let ef02 = gpt.partitions.iter().flatten().any(|(_, p)| {
                p.type_.as_deref() == Some("EF02") && p.size.as_deref() == Some("1M")
            });
            assert_eq!(ef02, boot == BootMode::Bios, "{name} {boot:?} {disk_name}");
        }
    }
}

#[test]
fn wrong_names_and_disk_counts_are_refused() {
    let err = instantiate("nope", &["/dev/sda".into()], BootMode::Uefi).unwrap_err();
    assert!(
        err.to_string()
            .contains("ext4, btrfs, luks-btrfs, lvm, mdadm-raid1, zfs-mirror"),
        "{err}"
    );
    let err = instantiate("zfs-mirror", &["/dev/sda".into()], BootMode::Uefi).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the `zfs-mirror` template needs 2 disk(s), 1 given"
    );
}
