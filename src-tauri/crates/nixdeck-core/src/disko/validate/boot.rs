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
