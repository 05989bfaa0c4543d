//! Boot partitions for the host's boot mode: an ESP on UEFI, a BIOS boot
//! partition on GPT disks for BIOS.

use super::{disk_path, is_type, Diagnostic, Rule, BIOS_BOOT_GUID, ESP_GUID};
use crate::disko::error::OptionPath;
use crate::disko::model::*;
use crate::disko::walk::for_each_content;

/// Whether `content` is a vfat filesystem, or an md array member whose array is one.
fn vfat_mount(layout: &DiskLayout, content: Option<&Content>) -> Option<Option<String>> {
    match content? {
        Content::Filesystem(fs) if fs.format.as_deref() == Some("vfat") => {
            Some(fs.mountpoint.clone())
        }
        Content::MdRaid(md) => {
            let array = layout.mdadm.as_ref()?.get(md.name.as_ref()?)?;
            vfat_mount(layout, array.content.as_deref())
        }
        _ => None,
    }
}

pub(super) fn check_esp(layout: &DiskLayout, out: &mut Vec<Diagnostic>) {
    let mut esps = Vec::new();
    for_each_content(layout, &mut |content, path| {
        if let Content::Gpt(gpt) = content {
            for (name, part) in gpt.partitions.iter().flatten() {
                if is_type(part, "EF00", ESP_GUID) {
                    esps.push((
                        path.child("partitions").child(name),
                        vfat_mount(layout, part.content.as_deref()),
                    ));
                }
            }
        }
        if let Content::Table(table) = content {
            for (i, part) in table.partitions.iter().flatten().enumerate() {
                if part.flags.iter().flatten().any(|f| f == "esp") {
                    esps.push((
                        path.child("partitions").index(i),
                        vfat_mount(layout, part.content.as_deref()),
                    ));
                }
            }
        }
    });
    let boot_dirs = ["/boot", "/boot/efi", "/efi"];
    if esps
        .iter()
        .any(|(_, m)| matches!(m, Some(Some(mp)) if boot_dirs.contains(&mp.as_str())))
    {
        return;
    }
    match esps.first() {
        None => out.push(Diagnostic::error(
            Rule::NoEsp,
            &OptionPath::devices().child("disk"),
            "this machine boots with UEFI but no disk has an EFI system partition: add a partition with type = \"EF00\", size = \"512M\", formatted vfat and mounted at /boot",
        )),
        Some((path, None)) => out.push(Diagnostic::error(
            Rule::NoEsp,
            &path.child("content"),
            "the EFI system partition must hold a vfat filesystem for the firmware to read it: set content to type = \"filesystem\"; format = \"vfat\"; mountpoint = \"/boot\"",
        )),
        Some((path, Some(_))) => out.push(Diagnostic::error(
            Rule::NoEsp,
            &path.child("content").child("mountpoint"),
            "the EFI system partition is not mounted where the boot loader looks: set its mountpoint to /boot",
        )),
    }
}

pub(super) fn check_bios_boot(layout: &DiskLayout, out: &mut Vec<Diagnostic>) {
    let mut gpt_disks = Vec::new();
    let mut has_bios_boot = false;
    for (name, disk) in layout.disk.iter().flatten() {
        match disk.content.as_deref() {
            Some(Content::Gpt(gpt)) => {
                gpt_disks.push(name);
                has_bios_boot |= gpt
                    .partitions
                    .iter()
                    .flatten()
                    .any(|(_, p)| is_type(p, "EF02", BIOS_BOOT_GUID));
            }
            Some(Content::Table(t)) => {
                has_bios_boot |= t.format.as_deref() == Some("msdos")
                    || t.partitions
                        .iter()
                        .flatten()
                        .any(|p| p.flags.iter().flatten().any(|f| f == "bios_grub"));
            }
            _ => {}
        }
    }
    if let (Some(first), false) = (gpt_disks.first(), has_bios_boot) {
        out.push(Diagnostic::error(
            Rule::NoBiosBoot,
            &disk_path(first).child("content").child("partitions"),
            "this machine boots with BIOS, and GRUB needs a BIOS boot partition on a GPT disk: add `boot = { size = \"1M\"; type = \"EF02\"; };`",
        ));
    }
}

/// What a layout asks of the machine before an install (see [`crate::preflight`]):
/// which boot partitions it has, whether it partitions with GPT, and every disk it
/// names (the disks the install erases).
pub fn layout_needs(layout: &DiskLayout) -> crate::preflight::LayoutNeeds {
    let mut needs = crate::preflight::LayoutNeeds::default();
    for disk in layout.disk.iter().flatten().map(|(_, d)| d) {
        if let Some(device) = &disk.device {
            needs.disks.push(device.clone());
        }
        match disk.content.as_deref() {
            Some(Content::Gpt(gpt)) => {
                needs.gpt = true;
                for (_, part) in gpt.partitions.iter().flatten() {
                    needs.esp |= is_type(part, "EF00", ESP_GUID);
                    needs.bios_boot |= is_type(part, "EF02", BIOS_BOOT_GUID);
                }
            }
            Some(Content::Table(table)) => {
                // An msdos table boots on BIOS without a boot partition; its ESP is a flag.
                needs.bios_boot |= table.format.as_deref() == Some("msdos");
                for part in table.partitions.iter().flatten() {
                    let flags = part.flags.iter().flatten();
                    for flag in flags {
                        needs.esp |= flag == "esp";
                        needs.bios_boot |= flag == "bios_grub";
                    }
                }
            }
            _ => {}
        }
    }
    needs
}

#[cfg(test)]
mod needs_tests {
    use super::layout_needs;
    use crate::disko::templates::instantiate;
    use crate::facts::BootMode;

    #[test]
    fn templates_need_what_their_boot_mode_needs() {
        let uefi = instantiate("ext4", &["/dev/vda".into()], BootMode::Uefi).unwrap();
        let needs = layout_needs(&uefi);
        assert!(needs.esp && needs.gpt && !needs.bios_boot);
        assert_eq!(needs.disks, ["/dev/vda"]);

        let bios = instantiate(
            "mdadm-raid1",
            &["/dev/sda".into(), "/dev/sdb".into()],
            BootMode::Bios,
        )
        .unwrap();
        let needs = layout_needs(&bios);
        assert!(needs.bios_boot && !needs.esp);
        assert_eq!(needs.disks, ["/dev/sda", "/dev/sdb"]);
    }

    #[test]
    fn an_msdos_table_boots_on_bios_without_a_boot_partition() {
        let layout = crate::disko::from_json(&serde_json::json!({"disk": {"main": {
            "type": "disk", "device": "/dev/sda",
            "content": {"type": "table", "format": "msdos", "partitions": [
                {"part-type": "primary", "start": "1M", "end": "100%", "bootable": true,
                 "content": {"type": "filesystem", "format": "ext4", "mountpoint": "/"}}
            ]}
        }}}))
        .unwrap();
        let needs = layout_needs(&layout);
        assert!(needs.bios_boot && !needs.esp && !needs.gpt);
    }
}
