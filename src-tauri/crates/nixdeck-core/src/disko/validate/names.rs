//! Names, labels and paths that disko writes into the shell script it runs as root
//! on the target. disko splices most of them in as they are: some bare
//! (`--key-file ${keyFile}`, `--thinpool=${pool}`, `mount -o subvol=${name}`), most
//! between double quotes (`cryptsetup open "${device}" "${name}"`), a few between
//! single quotes (bcachefs labels). So `crypted; reboot` or `a$(id)` would run as
//! commands on the machine being installed. Each field gets the characters its tool
//! accepts and that disko can pass in that position; anything else is refused with
//! the option path of the field.

use super::{Diagnostic, Rule};
use crate::disko::error::OptionPath;
use crate::disko::model::*;
use serde_json::Value;

/// What one field may hold.
struct Field {
    /// What the value is, for the message: "a LUKS name".
    what: &'static str,
    /// Where disko puts it, for the message: "cryptsetup's command line".
    used_in: &'static str,
    /// The characters allowed.
    ok: fn(char) -> bool,
    /// The same, in words.
    allowed: &'static str,
    /// At most this many characters.
    max: usize,
    /// A leading `-` would read as an option.
    no_leading_dash: bool,
    /// Further rules of the tool: a problem in words, or `None`.
    extra: fn(&str) -> Option<String>,
}

fn none(_: &str) -> Option<String> {
    None
}

/// Letters, digits and `_ . + -`: what LVM, device-mapper and mdadm accept.
fn dm_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '+' | '-')
}

fn not_dots(value: &str) -> Option<String> {
    matches!(value, "." | "..").then(|| "is `.` or `..`".to_string())
}

/// Anything printable except what ends or expands a double-quoted shell word.
fn double_quoted_char(c: char) -> bool {
    !c.is_control() && !matches!(c, '$' | '`' | '"')
}

/// Inside double quotes a backslash escapes `$ \` " \` and a line break, and a
/// trailing one escapes the closing quote; elsewhere it is kept as it is.
fn escaping_backslash(value: &str) -> Option<String> {
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && matches!(chars.peek(), None | Some('\\' | '$' | '`' | '"')) {
            return Some("has a backslash at its end or before $, a backtick, a double quote or another backslash".into());
        }
    }
    None
}

fn path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '+' | '-' | '/' | '@' | ':' | ',' | '=')
}

fn absolute(value: &str) -> Option<String> {
    (!value.starts_with('/')).then(|| "is not an absolute path".to_string())
}

const LUKS_NAME: Field = Field {
    what: "a LUKS name",
    used_in: "cryptsetup's command line and /dev/mapper",
    ok: dm_char,
    allowed: "only letters, digits and _ . + -",
    max: 127,
    no_leading_dash: true,
    extra: not_dots,
};

const KEY_PATH: Field = Field {
    what: "a key file path",
    used_in: "the shell, unquoted,",
    ok: path_char,
    allowed: "an absolute path of only letters, digits and _ . + - / @ : , =",
    max: 4096,
    no_leading_dash: false,
    extra: absolute,
};

const VG_NAME: Field = Field {
    what: "a volume group name",
    used_in: "vgcreate's and lvcreate's command lines",
    ok: dm_char,
    allowed: "only letters, digits and _ . + -",
    max: 127,
    no_leading_dash: true,
    extra: not_dots,
};

/// lvm(8), VALID NAMES: parts LVM uses for its own hidden volumes.
fn lv_reserved(value: &str) -> Option<String> {
    if let Some(dots) = not_dots(value) {
        return Some(dots);
    }
    if let Some(prefix) = ["snapshot", "pvmove"]
        .into_iter()
        .find(|p| value.starts_with(p))
    {
        return Some(format!("starts with `{prefix}`, which LVM reserves"));
    }
    const RESERVED: [&str; 12] = [
        "_cdata", "_cmeta", "_corig", "_mlog", "_mimage", "_pmspare", "_rimage", "_rmeta",
        "_tdata", "_tmeta", "_vorigin", "_vdata",
    ];
    RESERVED
        .into_iter()
        .find(|r| value.contains(r))
        .map(|r| format!("contains `{r}`, which LVM reserves"))
}

const LV_NAME: Field = Field {
    what: "a logical volume name",
    used_in: "lvcreate's command line",
    ok: dm_char,
    allowed: "only letters, digits and _ . + -",
    max: 127,
    no_leading_dash: true,
    extra: lv_reserved,
};

const MD_NAME: Field = Field {
    what: "an mdadm array name",
    used_in: "mdadm's command line and /dev/md",
    ok: dm_char,
    allowed: "only letters, digits and _ . + -",
    // The superblock holds 32 bytes, `host:` prefix included when there is one.
    max: 32,
    no_leading_dash: true,
    extra: not_dots,
};

fn zfs_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-')
}

/// zpool(8): a pool name starts with a letter and is not a vdev keyword.
fn pool_rules(value: &str) -> Option<String> {
    if !value.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Some("does not start with a letter".into());
    }
    let reserved = ["mirror", "raidz", "draid", "spare", "log"];
    if let Some(word) = reserved.into_iter().find(|w| value.starts_with(w)) {
        return Some(format!("starts with `{word}`, which zpool reserves"));
    }
    let mut chars = value.chars();
    if chars.next() == Some('c') && chars.next().is_some_and(|c| c.is_ascii_digit()) {
        return Some(
            "looks like a Solaris disk name (`c` and a digit), which zpool refuses".into(),
        );
    }
    None
}

const POOL_NAME: Field = Field {
    what: "a ZFS pool name",
    used_in: "zpool's command line",
    ok: zfs_char,
    allowed: "only letters, digits and _ . : -, starting with a letter",
    max: 255,
    no_leading_dash: true,
    extra: pool_rules,
};

fn dataset_rules(value: &str) -> Option<String> {
    value
        .split('/')
        .any(str::is_empty)
        .then(|| "has an empty part between `/`".to_string())
}

const DATASET_NAME: Field = Field {
    what: "a ZFS dataset name",
    used_in: "zfs's command line, unquoted,",
    ok: |c| zfs_char(c) || c == '/',
    allowed: "only letters, digits and _ . : -, parts separated by /",
    max: 255,
    no_leading_dash: true,
    extra: dataset_rules,
};

fn gpt_label_rules(value: &str) -> Option<String> {
    if let Some(problem) = escaping_backslash(value) {
        return Some(problem);
    }
    // A GPT partition name is 36 UTF-16 code units.
    (value.encode_utf16().count() > 36).then(|| "is longer than 36 characters".to_string())
}

const GPT_LABEL: Field = Field {
    what: "a GPT partition label",
    used_in: "sgdisk's command line",
    ok: double_quoted_char,
    allowed: "any characters except $ ` \" and line breaks",
    max: 36,
    no_leading_dash: false,
    extra: gpt_label_rules,
};

/// Mostly double-quoted, but bare in btrfs's `mount ${device} "$MNTPOINT"` (a btrfs
/// with swap files gets its parent's device there), so nothing a shell would split
/// on or expand. A backslash stays for udev's escapes (`by-partlabel/a\x20b`).
const DEVICE: Field = Field {
    what: "a device path",
    used_in: "every command disko runs on it, in places unquoted,",
    ok: |c| path_char(c) || matches!(c, '#' | '%' | '\\'),
    allowed: "only letters, digits and _ . + - / @ : , = # % \\",
    max: 4096,
    no_leading_dash: true,
    extra: escaping_backslash,
};

const MOUNTPOINT: Field = Field {
    what: "a mountpoint",
    used_in: "mount's command line",
    ok: double_quoted_char,
    allowed: "any characters except $ ` \" and line breaks",
    max: 4096,
    no_leading_dash: true,
    extra: escaping_backslash,
};

/// Subvolume names go bare into `mount -o subvol=…`, where `,` starts a new option.
const SUBVOLUME: Field = Field {
    what: "a btrfs subvolume name",
    used_in: "mount's options, unquoted,",
    ok: |c| path_char(c) && c != ',',
    allowed: "only letters, digits and _ . + - / @ : =",
    max: 4096,
    no_leading_dash: true,
    extra: none,
};

const SWAP_FILE: Field = Field {
    what: "a swap file path",
    used_in: "the shell script",
    ok: double_quoted_char,
    allowed: "any characters except $ ` \" and line breaks",
    max: 4096,
    no_leading_dash: true,
    extra: escaping_backslash,
};

fn fs_type_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

const FORMAT: Field = Field {
    what: "a filesystem type",
    used_in: "the mkfs and mount command lines, unquoted,",
    ok: fs_type_char,
    allowed: "only letters, digits and _ . -",
    max: 64,
    no_leading_dash: true,
    extra: none,
};

fn mount_option_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            '_' | '.' | ',' | ':' | '=' | '+' | '/' | '@' | '%' | '-' | '^'
        )
}

const MOUNT_OPTION: Field = Field {
    what: "a mount option",
    used_in: "mount's command line, unquoted,",
    ok: mount_option_char,
    allowed: "only letters, digits and _ . , : = + / @ % ^ -",
    max: 4096,
    no_leading_dash: true,
    extra: none,
};

const ZFS_PROPERTY: Field = Field {
    what: "a ZFS property name",
    used_in: "zfs's and zpool's command lines, unquoted,",
    ok: |c| zfs_char(c) || c == '@',
    allowed: "only letters, digits and _ . : @ -",
    max: 256,
    no_leading_dash: true,
    extra: none,
};

/// Sizes disko passes bare (`-V 10G`, `--size 8G`, parted's `1MiB`, `100%`).
const BARE_SIZE: Field = Field {
    what: "a size or position",
    used_in: "the command line, unquoted,",
    ok: |c| c.is_ascii_alphanumeric() || matches!(c, '.' | '%'),
    allowed: "only digits, letters, . and % (e.g. 10G, 1MiB, 100%)",
    max: 64,
    no_leading_dash: false,
    extra: none,
};

const BYTE_COUNT: Field = Field {
    what: "a number of bytes",
    used_in: "cryptsetup's command line, unquoted,",
    ok: |c| c.is_ascii_digit(),
    allowed: "only digits",
    max: 20,
    no_leading_dash: false,
    extra: none,
};

const TABLE_POSITION: Field = Field {
    what: "a parted position",
    used_in: "parted's command line, unquoted,",
    ok: |c| c.is_ascii_alphanumeric() || matches!(c, '.' | '%' | '-'),
    allowed: "only digits, letters, . % and a leading - (e.g. 1MiB, 100%, -1s)",
    max: 64,
    no_leading_dash: false,
    extra: none,
};

const PARTED_FLAG: Field = Field {
    what: "a parted flag",
    used_in: "parted's command line, unquoted,",
    ok: |c| c.is_ascii_alphanumeric() || c == '_',
    allowed: "only letters, digits and _ (e.g. esp, boot, bios_grub)",
    max: 64,
    no_leading_dash: true,
    extra: none,
};

/// Extra arguments disko splits into words on purpose (`--pbkdf argon2id`), so
/// spaces are fine, but nothing that ends a command, substitutes or redirects.
fn extra_arg_char(c: char) -> bool {
    !c.is_control()
        && !matches!(
            c,
            ';' | '&'
                | '|'
                | '<'
                | '>'
                | '$'
                | '`'
                | '\\'
                | '"'
                | '\''
                | '('
                | ')'
                | '{'
                | '}'
                | '*'
                | '?'
                | '['
                | ']'
                | '~'
                | '#'
        )
}

const EXTRA_ARG: Field = Field {
    what: "an extra argument",
    used_in: "the command line, unquoted,",
    ok: extra_arg_char,
    allowed: "words without ; & | < > $ ` \\ \" ' ( ) { } * ? [ ] ~ # or line breaks",
    max: 4096,
    no_leading_dash: false,
    extra: none,
};

/// Single-quoted by disko (`'--label=${label}'`): only `'` ends the word.
const SINGLE_QUOTED: Field = Field {
    what: "a bcachefs argument",
    used_in: "the shell script, in single quotes,",
    ok: |c| !c.is_control() && c != '\'',
    allowed: "any characters except ' and line breaks",
    max: 4096,
    no_leading_dash: false,
    extra: none,
};

/// Goes into a double-quoted, comma-separated `-o "…,X-mount.subdir=<name>"`.
const BCACHEFS_SUBVOLUME: Field = Field {
    what: "a bcachefs subvolume name",
    used_in: "mount's options",
    ok: |c| double_quoted_char(c) && c != ',',
    allowed: "any characters except , $ ` \" and line breaks",
    max: 4096,
    no_leading_dash: true,
    extra: escaping_backslash,
};

const BCACHEFS_NAME: Field = Field {
    what: "a bcachefs filesystem name",
    used_in: "the shell script",
    ok: |c| double_quoted_char(c) && c != '/',
    allowed: "any characters except / $ ` \" and line breaks",
    max: 255,
    no_leading_dash: true,
    extra: escaping_backslash,
};

fn uuid_rules(value: &str) -> Option<String> {
    let parts: Vec<&str> = value.split('-').collect();
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    let ok = parts.len() == 5 && [8, 4, 4, 4, 12].iter().zip(&parts).all(|(n, p)| hex(p, *n));
    (!ok).then(|| "is not a UUID like 8-4-4-4-12 hex digits".to_string())
}

const UUID: Field = Field {
    what: "a filesystem UUID",
    used_in: "blkid's command line, unquoted,",
    ok: |c| c.is_ascii_hexdigit() || c == '-',
    allowed: "only hex digits and -",
    max: 36,
    no_leading_dash: true,
    extra: uuid_rules,
};

/// The first thing wrong with `value` as `field`, in words.
fn problem(value: &str, field: &Field) -> Option<String> {
    if value.is_empty() {
        return Some("is empty".into());
    }
    if let Some(c) = value.chars().find(|c| !(field.ok)(*c)) {
        return Some(match c {
            '\n' | '\r' => "contains a line break".into(),
            c if c.is_control() => format!("contains the control character {}", c.escape_unicode()),
            ' ' => "contains a space".into(),
            '\t' => "contains a tab".into(),
            c => format!("contains {}", named_char(c)),
        });
    }
    if field.no_leading_dash && value.starts_with('-') {
        return Some("starts with `-`, which would read as an option".into());
    }
    if value.chars().count() > field.max {
        return Some(format!("is longer than {} characters", field.max));
    }
    (field.extra)(value)
}

/// Shows a value in a message without letting line breaks or control characters
/// through.
fn shown(value: &str) -> String {
    format!("{value:?}")
}

/// A character named so that it reads clearly inside a message.
fn named_char(c: char) -> String {
    match c {
        '`' => "a backtick".into(),
        '"' => "a double quote".into(),
        '\'' => "a single quote".into(),
        '\\' => "a backslash".into(),
        c => format!("`{c}`"),
    }
}

struct Checker<'o> {
    out: &'o mut Vec<Diagnostic>,
}

impl Checker<'_> {
    fn check(&mut self, value: &str, field: &Field, path: &OptionPath) {
        if let Some(problem) = problem(value, field) {
            self.out.push(Diagnostic::error(
                Rule::UnsafeText,
                path,
                format!(
                    "{} cannot be {}: it {problem}, and disko passes it to {} on the target; use {}{}",
                    shown(value),
                    field.what,
                    field.used_in,
                    field.allowed,
                    if field.no_leading_dash { ", not starting with -" } else { "" }
                ),
            ));
        }
    }

    fn opt(&mut self, value: &Option<String>, field: &Field, path: &OptionPath, option: &str) {
        if let Some(v) = value {
            self.check(v, field, &path.child(option));
        }
    }

    fn list(
        &mut self,
        values: &Option<Vec<String>>,
        field: &Field,
        path: &OptionPath,
        option: &str,
    ) {
        for (i, v) in values.iter().flatten().enumerate() {
            self.check(v, field, &path.child(option).index(i));
        }
    }

    /// A name that defaults to its attribute name: the `name` option when set,
    /// else the attribute itself.
    fn named(&mut self, name: &Option<String>, key: &str, field: &Field, path: &OptionPath) {
        match name {
            Some(n) => self.check(n, field, &path.child("name")),
            None => self.check(key, field, path),
        }
    }

    fn keys(&mut self, map: &Option<Named<String>>, path: &OptionPath, option: &str) {
        for key in map.iter().flat_map(|m| m.keys()) {
            self.check(key, &ZFS_PROPERTY, &path.child(option).child(key));
        }
    }
}

/// Every name, label and path disko would put into a shell command unsafely.
pub(super) fn check_names(layout: &DiskLayout, out: &mut Vec<Diagnostic>) {
    let mut c = Checker { out };
    let root = OptionPath::devices();
    for (key, disk) in layout.disk.iter().flatten() {
        let path = root.child("disk").child(key);
        c.opt(&disk.device, &DEVICE, &path, "device");
        let name = disk.name.clone().unwrap_or_else(|| key.replace('/', "_"));
        if let Some(content) = disk.content.as_deref() {
            check_content(&mut c, content, &path.child("content"), ("disk", &name));
        }
    }
    for (key, md) in layout.mdadm.iter().flatten() {
        let path = root.child("mdadm").child(key);
        c.named(&md.name, key, &MD_NAME, &path);
        let name = md.name.as_deref().unwrap_or(key);
        if let Some(content) = md.content.as_deref() {
            check_content(&mut c, content, &path.child("content"), ("mdadm", name));
        }
    }
    for (key, vg) in layout.lvm_vg.iter().flatten() {
        let path = root.child("lvm_vg").child(key);
        c.named(&vg.name, key, &VG_NAME, &path);
        let vg_name = vg.name.as_deref().unwrap_or(key);
        for (lv_key, lv) in vg.lvs.iter().flatten() {
            let p = path.child("lvs").child(lv_key);
            c.named(&lv.name, lv_key, &LV_NAME, &p);
            c.opt(&lv.pool, &LV_NAME, &p, "pool");
            c.list(&lv.extra_args, &EXTRA_ARG, &p, "extraArgs");
            if let Some(content) = lv.content.as_deref() {
                check_content(&mut c, content, &p.child("content"), ("lvm_vg", vg_name));
            }
        }
    }
    for (key, pool) in layout.zpool.iter().flatten() {
        check_zpool(&mut c, key, pool, &root.child("zpool").child(key));
    }
    for (key, nodev) in layout.nodev.iter().flatten() {
        let path = root.child("nodev").child(key);
        c.opt(&nodev.fs_type, &FORMAT, &path, "fsType");
        c.opt(&nodev.device, &DEVICE, &path, "device");
        match &nodev.mountpoint {
            Some(m) => c.check(m, &MOUNTPOINT, &path.child("mountpoint")),
            None => c.check(key, &MOUNTPOINT, &path),
        }
        c.list(&nodev.mount_options, &MOUNT_OPTION, &path, "mountOptions");
    }
    for (key, fs) in layout.bcachefs_filesystems.iter().flatten() {
        let path = root.child("bcachefs_filesystems").child(key);
        c.named(&fs.name, key, &BCACHEFS_NAME, &path);
        c.opt(&fs.uuid, &UUID, &path, "uuid");
        c.opt(&fs.password_file, &KEY_PATH, &path, "passwordFile");
        c.opt(&fs.mountpoint, &MOUNTPOINT, &path, "mountpoint");
        c.list(&fs.extra_format_args, &EXTRA_ARG, &path, "extraFormatArgs");
        for (sub_key, sub) in fs.subvolumes.iter().flatten() {
            let p = path.child("subvolumes").child(sub_key);
            c.named(&sub.name, sub_key, &BCACHEFS_SUBVOLUME, &p);
            c.opt(&sub.mountpoint, &MOUNTPOINT, &p, "mountpoint");
        }
    }
}

fn check_zpool(c: &mut Checker, key: &str, pool: &Zpool, path: &OptionPath) {
    c.named(&pool.name, key, &POOL_NAME, path);
    c.keys(&pool.options, path, "options");
    c.keys(&pool.root_fs_options, path, "rootFsOptions");
    c.opt(&pool.mountpoint, &MOUNTPOINT, path, "mountpoint");
    c.list(&pool.mount_options, &MOUNT_OPTION, path, "mountOptions");
    for (ds_key, ds) in pool.datasets.iter().flatten() {
        let p = path.child("datasets").child(ds_key);
        match ds {
            Dataset::Fs(fs) => {
                c.named(&fs.name, ds_key, &DATASET_NAME, &p);
                c.keys(&fs.options, &p, "options");
                c.opt(&fs.mountpoint, &MOUNTPOINT, &p, "mountpoint");
                c.list(&fs.mount_options, &MOUNT_OPTION, &p, "mountOptions");
            }
            Dataset::Volume(v) => {
                c.named(&v.name, ds_key, &DATASET_NAME, &p);
                c.keys(&v.options, &p, "options");
                c.opt(&v.size, &BARE_SIZE, &p, "size");
                let name = v.name.as_deref().unwrap_or(ds_key);
                if let Some(content) = v.content.as_deref() {
                    check_content(c, content, &p.child("content"), ("zfs_volume", name));
                }
            }
            Dataset::Other(_) => {}
        }
    }
}

/// `parent` is disko's `_parent` of a table: its type and name, which make the
/// default GPT labels (`disk-main-ESP`).
fn check_content(c: &mut Checker, content: &Content, path: &OptionPath, parent: (&str, &str)) {
    match content {
        Content::Gpt(gpt) => {
            c.opt(&gpt.device, &DEVICE, path, "device");
            for (key, part) in gpt.partitions.iter().flatten() {
                let p = path.child("partitions").child(key);
                check_gpt_label(c, part, key, &p, parent);
                c.opt(&part.device, &DEVICE, &p, "device");
                if let Some(inner) = part.content.as_deref() {
                    check_content(c, inner, &p.child("content"), parent);
                }
            }
        }
        Content::Table(table) => {
            c.opt(&table.device, &DEVICE, path, "device");
            for (i, part) in table.partitions.iter().flatten().enumerate() {
                let p = path.child("partitions").index(i);
                c.opt(&part.start, &TABLE_POSITION, &p, "start");
                c.opt(&part.end, &TABLE_POSITION, &p, "end");
                c.list(&part.flags, &PARTED_FLAG, &p, "flags");
                if let Some(inner) = part.content.as_deref() {
                    check_content(c, inner, &p.child("content"), parent);
                }
            }
        }
        Content::Filesystem(fs) => {
            c.opt(&fs.device, &DEVICE, path, "device");
            c.opt(&fs.format, &FORMAT, path, "format");
            c.opt(&fs.mountpoint, &MOUNTPOINT, path, "mountpoint");
        }
        Content::Btrfs(b) => check_btrfs(c, b, path),
        Content::Luks(luks) => {
            c.opt(&luks.device, &DEVICE, path, "device");
            c.opt(&luks.name, &LUKS_NAME, path, "name");
            c.opt(&luks.key_file, &KEY_PATH, path, "keyFile");
            c.opt(&luks.password_file, &KEY_PATH, path, "passwordFile");
            check_luks_settings(c, luks, &path.child("settings"));
            c.list(
                &luks.additional_key_files,
                &KEY_PATH,
                path,
                "additionalKeyFiles",
            );
            c.list(&luks.extra_format_args, &EXTRA_ARG, path, "extraFormatArgs");
            c.list(&luks.extra_open_args, &EXTRA_ARG, path, "extraOpenArgs");
            if let Some(inner) = luks.content.as_deref() {
                let name = luks.name.as_deref().unwrap_or("");
                check_content(c, inner, &path.child("content"), ("luks", name));
            }
        }
        Content::LvmPv(pv) => {
            c.opt(&pv.device, &DEVICE, path, "device");
            c.opt(&pv.vg, &VG_NAME, path, "vg");
        }
        Content::MdRaid(md) => {
            c.opt(&md.device, &DEVICE, path, "device");
            c.opt(&md.name, &MD_NAME, path, "name");
        }
        Content::Zfs(z) => {
            c.opt(&z.device, &DEVICE, path, "device");
            c.opt(&z.pool, &POOL_NAME, path, "pool");
        }
        Content::Swap(s) => {
            c.opt(&s.device, &DEVICE, path, "device");
            c.list(&s.mount_options, &MOUNT_OPTION, path, "mountOptions");
            c.list(&s.extra_args, &EXTRA_ARG, path, "extraArgs");
        }
        Content::Bcachefs(b) => {
            c.opt(&b.device, &SINGLE_QUOTED, path, "device");
            c.opt(&b.filesystem, &BCACHEFS_NAME, path, "filesystem");
            c.opt(&b.label, &SINGLE_QUOTED, path, "label");
            c.list(
                &b.extra_format_args,
                &SINGLE_QUOTED,
                path,
                "extraFormatArgs",
            );
        }
        Content::Other(_) => {}
    }
}

/// `settings` is free-form: disko reads `keyFile` as a path and puts
/// `keyFileSize`/`keyFileOffset` through `toString` onto cryptsetup's command line.
fn check_luks_settings(c: &mut Checker, luks: &Luks, path: &OptionPath) {
    let Some(settings) = &luks.settings else {
        return;
    };
    match settings.get("keyFile") {
        Some(Value::String(key)) => c.check(key, &KEY_PATH, &path.child("keyFile")),
        Some(Value::Null) | None => {}
        Some(_) => c.out.push(Diagnostic::error(
            Rule::UnsafeText,
            &path.child("keyFile"),
            "keyFile must be a path, e.g. \"/tmp/disk.key\"",
        )),
    }
    for option in ["keyFileSize", "keyFileOffset"] {
        match settings.get(option) {
            None | Some(Value::Null) => {}
            Some(Value::Number(n)) if n.is_u64() => {}
            Some(Value::String(text)) => c.check(text, &BYTE_COUNT, &path.child(option)),
            Some(_) => c.out.push(Diagnostic::error(
                Rule::UnsafeText,
                &path.child(option),
                format!("{option} must be a whole number of bytes, e.g. 4096"),
            )),
        }
    }
}

fn check_btrfs(c: &mut Checker, b: &Btrfs, path: &OptionPath) {
    c.opt(&b.device, &DEVICE, path, "device");
    c.opt(&b.mountpoint, &MOUNTPOINT, path, "mountpoint");
    c.list(&b.mount_options, &MOUNT_OPTION, path, "mountOptions");
    c.list(&b.extra_args, &EXTRA_ARG, path, "extraArgs");
    check_swap_files(c, &b.swap, path);
    for (key, sub) in b.subvolumes.iter().flatten() {
        let p = path.child("subvolumes").child(key);
        c.named(&sub.name, key, &SUBVOLUME, &p);
        c.opt(&sub.mountpoint, &MOUNTPOINT, &p, "mountpoint");
        c.list(&sub.mount_options, &MOUNT_OPTION, &p, "mountOptions");
        c.list(&sub.extra_args, &EXTRA_ARG, &p, "extraArgs");
        check_swap_files(c, &sub.swap, &p);
    }
}

fn check_swap_files(c: &mut Checker, swap: &Option<Named<BtrfsSwapFile>>, path: &OptionPath) {
    for (key, file) in swap.iter().flatten() {
        let p = path.child("swap").child(key);
        match &file.path {
            Some(v) => c.check(v, &SWAP_FILE, &p.child("path")),
            None => c.check(key, &SWAP_FILE, &p),
        }
        c.opt(&file.size, &BARE_SIZE, &p, "size");
    }
}

/// disko's label: the one set, or `<parent type>-<parent name>-<partition name>`,
/// replaced by a hash (safe) when longer than 36 characters.
fn check_gpt_label(
    c: &mut Checker,
    part: &GptPartition,
    key: &str,
    path: &OptionPath,
    parent: (&str, &str),
) {
    if let Some(label) = &part.label {
        c.check(label, &GPT_LABEL, &path.child("label"));
        return;
    }
    let name = part.name.as_deref().unwrap_or(key);
    let label = format!("{}-{}-{name}", parent.0, parent.1);
    if label.chars().count() > 36 {
        return;
    }
    if let Some(problem) = problem(&label, &GPT_LABEL) {
        c.out.push(Diagnostic::error(
            Rule::UnsafeText,
            &path.child("label"),
            format!(
                "this partition's GPT label defaults to {}, which {problem}, and disko passes it to {} on the target: \
                 set `label`, or rename the partition or its {}, using {}",
                shown(&label),
                GPT_LABEL.used_in,
                parent.0,
                GPT_LABEL.allowed
            ),
        ));
    }
}
