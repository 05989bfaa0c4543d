//! Walking a layout: every content node with its option path, and every mountpoint
//! with the option that sets it. Validation and templates build on these.

use super::error::OptionPath;
use super::model::*;

/// A mountpoint and the option path that sets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mount {
    pub mountpoint: String,
    pub path: OptionPath,
}

/// Calls `f` for every content node: on disks, in partitions, LUKS volumes, md
/// arrays, logical volumes and zvols, parents before children.
pub(crate) fn for_each_content<'a>(
    layout: &'a DiskLayout,
    f: &mut dyn FnMut(&'a Content, &OptionPath),
) {
    let root = OptionPath::devices();
    for (name, disk) in layout.disk.iter().flatten() {
        if let Some(c) = disk.content.as_deref() {
            visit(c, &root.child("disk").child(name).child("content"), f);
        }
    }
    for (name, md) in layout.mdadm.iter().flatten() {
        if let Some(c) = md.content.as_deref() {
            visit(c, &root.child("mdadm").child(name).child("content"), f);
        }
    }
    for (name, vg) in layout.lvm_vg.iter().flatten() {
        for (lv_name, lv) in vg.lvs.iter().flatten() {
            if let Some(c) = lv.content.as_deref() {
                let path = root
                    .child("lvm_vg")
                    .child(name)
                    .child("lvs")
                    .child(lv_name)
                    .child("content");
                visit(c, &path, f);
            }
        }
    }
    for (name, pool) in layout.zpool.iter().flatten() {
        for (ds_name, ds) in pool.datasets.iter().flatten() {
            if let Dataset::Volume(v) = ds {
                if let Some(c) = v.content.as_deref() {
                    let path = root
                        .child("zpool")
                        .child(name)
                        .child("datasets")
                        .child(ds_name)
                        .child("content");
                    visit(c, &path, f);
                }
            }
        }
    }
}

fn visit<'a>(content: &'a Content, path: &OptionPath, f: &mut dyn FnMut(&'a Content, &OptionPath)) {
    f(content, path);
    match content {
        Content::Gpt(gpt) => {
            for (name, part) in gpt.partitions.iter().flatten() {
                if let Some(c) = part.content.as_deref() {
                    visit(c, &path.child("partitions").child(name).child("content"), f);
                }
            }
        }
        Content::Table(table) => {
            for (i, part) in table.partitions.iter().flatten().enumerate() {
                if let Some(c) = part.content.as_deref() {
                    visit(c, &path.child("partitions").index(i).child("content"), f);
                }
            }
        }
        Content::Luks(luks) => {
            if let Some(c) = luks.content.as_deref() {
                visit(c, &path.child("content"), f);
            }
        }
        _ => {}
    }
}

/// Mountpoints set directly in one content node (not below it).
pub(crate) fn own_mounts(content: &Content, path: &OptionPath, out: &mut Vec<Mount>) {
    let mut push = |mp: &Option<String>, path: OptionPath| {
        if let Some(mountpoint) = mp {
            out.push(Mount {
                mountpoint: mountpoint.clone(),
                path,
            });
        }
    };
    match content {
        Content::Filesystem(fs) => push(&fs.mountpoint, path.child("mountpoint")),
        Content::Btrfs(b) => {
            push(&b.mountpoint, path.child("mountpoint"));
            for (name, sub) in b.subvolumes.iter().flatten() {
                push(
                    &sub.mountpoint,
                    path.child("subvolumes").child(name).child("mountpoint"),
                );
            }
        }
        _ => {}
    }
}

/// Mountpoints of a zpool (its root dataset and its filesystem datasets, except
/// those with `mountpoint=none`), not counting zvol contents.
fn pool_mounts(name: &str, pool: &Zpool, out: &mut Vec<Mount>) {
    let path = OptionPath::devices().child("zpool").child(name);
    if let Some(mp) = &pool.mountpoint {
        out.push(Mount {
            mountpoint: mp.clone(),
            path: path.child("mountpoint"),
        });
    }
    for (ds_name, ds) in pool.datasets.iter().flatten() {
        if let Dataset::Fs(fs) = ds {
            let unmounted = fs
                .options
                .as_ref()
                .and_then(|o| o.get("mountpoint"))
                .is_some_and(|m| m == "none");
            if let (Some(mp), false) = (&fs.mountpoint, unmounted) {
                out.push(Mount {
                    mountpoint: mp.clone(),
                    path: path.child("datasets").child(ds_name).child("mountpoint"),
                });
            }
        }
    }
}

fn bcachefs_mounts(name: &str, fs: &BcachefsFilesystem, out: &mut Vec<Mount>) {
    let path = OptionPath::devices()
        .child("bcachefs_filesystems")
        .child(name);
    if let Some(mp) = &fs.mountpoint {
        out.push(Mount {
            mountpoint: mp.clone(),
            path: path.child("mountpoint"),
        });
    }
    for (sub_name, sub) in fs.subvolumes.iter().flatten() {
        if let Some(mp) = &sub.mountpoint {
            out.push(Mount {
                mountpoint: mp.clone(),
                path: path.child("subvolumes").child(sub_name).child("mountpoint"),
            });
        }
    }
}

/// Every mountpoint of the layout, in layout order.
pub(crate) fn all_mounts(layout: &DiskLayout) -> Vec<Mount> {
    let mut out = Vec::new();
    for_each_content(layout, &mut |c, p| own_mounts(c, p, &mut out));
    for (name, pool) in layout.zpool.iter().flatten() {
        pool_mounts(name, pool, &mut out);
    }
    for (name, fs) in layout.bcachefs_filesystems.iter().flatten() {
        bcachefs_mounts(name, fs, &mut out);
    }
    for (name, nodev) in layout.nodev.iter().flatten() {
        // disko's default mountpoint of a nodev is its attribute name.
        let mountpoint = nodev.mountpoint.clone().unwrap_or_else(|| name.clone());
        let path = OptionPath::devices()
            .child("nodev")
            .child(name)
            .child("mountpoint");
        out.push(Mount { mountpoint, path });
    }
    out
}

/// Mountpoints that end up on `content` or anything built on it: its own subtree,
/// and the arrays, volume groups, pools and bcachefs filesystems it is a member of.
pub(crate) fn mounts_on(layout: &DiskLayout, content: &Content, path: &OptionPath) -> Vec<Mount> {
    let mut seen = Vec::new();
    mounts_on_guarded(layout, content, path, &mut seen)
}

/// `seen` holds the groups already followed, so a volume group built on its own
/// volumes cannot loop.
fn mounts_on_guarded(
    layout: &DiskLayout,
    content: &Content,
    path: &OptionPath,
    seen: &mut Vec<(&'static str, String)>,
) -> Vec<Mount> {
    let mut out = Vec::new();
    let mut groups: Vec<(&'static str, String)> = Vec::new();
    visit(content, path, &mut |c, p| {
        own_mounts(c, p, &mut out);
        match c {
            Content::LvmPv(pv) => groups.extend(pv.vg.clone().map(|g| ("lvm_vg", g))),
            Content::MdRaid(md) => groups.extend(md.name.clone().map(|g| ("mdadm", g))),
            Content::Zfs(z) => groups.extend(z.pool.clone().map(|g| ("zpool", g))),
            Content::Bcachefs(b) => groups.extend(b.filesystem.clone().map(|g| ("bcachefs", g))),
            _ => {}
        }
    });
    let root = OptionPath::devices();
    for (kind, name) in groups {
        if seen.contains(&(kind, name.clone())) {
            continue;
        }
        seen.push((kind, name.clone()));
        match kind {
            "lvm_vg" => {
                for (lv_name, lv) in layout
                    .lvm_vg
                    .as_ref()
                    .and_then(|m| m.get(&name))
                    .into_iter()
                    .flat_map(|vg| vg.lvs.iter().flatten())
                {
                    if let Some(c) = lv.content.as_deref() {
                        let p = root
                            .child("lvm_vg")
                            .child(&name)
                            .child("lvs")
                            .child(lv_name)
                            .child("content");
                        out.extend(mounts_on_guarded(layout, c, &p, seen));
                    }
                }
            }
            "mdadm" => {
                if let Some(c) = layout
                    .mdadm
                    .as_ref()
                    .and_then(|m| m.get(&name))
                    .and_then(|md| md.content.as_deref())
                {
                    out.extend(mounts_on_guarded(
                        layout,
                        c,
                        &root.child("mdadm").child(&name).child("content"),
                        seen,
                    ));
                }
            }
            "zpool" => {
                if let Some(pool) = layout.zpool.as_ref().and_then(|m| m.get(&name)) {
                    pool_mounts(&name, pool, &mut out);
                }
            }
            _ => {
                if let Some(fs) = layout
                    .bcachefs_filesystems
                    .as_ref()
                    .and_then(|m| m.get(&name))
                {
                    bcachefs_mounts(&name, fs, &mut out);
                }
            }
        }
    }
    out
}
