//! The probe's one round trip: a small POSIX `sh` script that prints every fact
//! in named sections, and the parser that turns its output into [`HostFacts`].
//! Script and parser live together so they cannot drift apart; the engine only
//! carries the script to the target and the output back.
//!
//! Output format: a line `@@nixdeck:<section>@@` opens each section; the lines
//! up to the next marker are its body. Root-only reads (`lsblk` with serials)
//! go through `sudo -n`/`doas -n` when the user is not root; when neither
//! works the `privilege` section says so and a warning is added.

use super::lsblk::{self, ByIdLink, LsblkError};
use super::{nix_system, BootMode, HostFacts, OsRelease, Privilege, TargetTools};
use std::collections::HashMap;
use thiserror::Error;

/// Memory nixos-anywhere needs to kexec into its installer (1.5 GB, not counting swap).
pub const KEXEC_MIN_MEMORY_BYTES: u64 = 1_500_000_000;

/// The script the probe runs with `sh -s` (fed on stdin, so the login shell
/// does not matter). It prints only facts; it changes nothing on the target.
///
/// It starts as few processes as it can: on a small board each costs
/// milliseconds, and a fleet probed at once pays them on every target. The
/// privilege check and the root-only `lsblk` are one `sudo` (or `doas`) call
/// running `lsblk` itself (a shell for the older column sets only when the
/// newest fails); the user id, the kernel's name, release and machine, the
/// `/proc` files and os-release are read by the shell itself (the user name
/// is the `USER` sshd sets); `systemd-detect-virt` runs once, through
/// `setsid --wait`, its answer naming a container or a virtual machine (see
/// [`CONTAINERS`]) and its coming back at all telling that `setsid --wait`
/// works; and the `by-id` links are listed by one `find` (one `readlink` per
/// link where `find` has no `-printf`, as in busybox).
pub fn script() -> String {
    let mut lsblk = String::new();
    for cols in lsblk::COLUMN_SETS {
        lsblk.push_str(&format!("lsblk --json -b -o {cols} 2>/dev/null || "));
    }
    lsblk.push_str("echo @@nixdeck:lsblk-failed@@");
    SCRIPT_TEMPLATE
        .replace("@LSBLK@", &lsblk)
        .replace("@NEWEST@", lsblk::COLUMN_SETS[0])
}

const SCRIPT_TEMPLATE: &str = r#"LC_ALL=C; export LC_ALL
PATH="$PATH:/usr/sbin:/sbin:/usr/bin:/bin:/run/current-system/sw/bin"
has() { command -v "$1" >/dev/null 2>&1; }
sec() { printf '\n@@nixdeck:%s@@\n' "$1"; }
# The first value after KEY in FILE's `KEY value rest` lines into F, the rest
# into R, without starting a process: field FILE KEY
field() { F=; R=; while read -r K A X; do if [ "$K" = "$2" ]; then F=$A; R=$X; return 0; fi; done < "$1"; return 1; }
DISKS='@LSBLK@'
field /proc/self/status Uid: 2>/dev/null; U=$F
[ -n "$U" ] || U=$(id -u)
sec id; echo "$U"; if [ -n "${USER:-}" ]; then echo "$USER"; else id -un; fi
# What `uname -s -r -m` prints, from /proc (kernel.arch: Linux 6.1 and later).
sec uname
if read -r KS < /proc/sys/kernel/ostype && read -r KR < /proc/sys/kernel/osrelease &&
  read -r KM < /proc/sys/kernel/arch; then echo "$KS $KR $KM"; else uname -s -r -m; fi 2>/dev/null
sec hostname; if read -r H 2>/dev/null < /proc/sys/kernel/hostname; then echo "$H"; else hostname; fi
sec privilege
if [ "$U" = 0 ]; then echo root; L=$(eval "$DISKS")
elif has sudo && { L=$(sudo -n lsblk --json -b -o @NEWEST@ 2>/dev/null) ||
  L=$(sudo -n sh -c "$DISKS" 2>/dev/null); }; then echo sudo
elif has doas && L=$(doas -n sh -c "$DISKS" 2>/dev/null); then echo doas
else echo none; if has sudo; then sudo -n true 2>&1 | head -n 1; fi; L=$(eval "$DISKS")
fi
sec boot; if [ -d /sys/firmware/efi ]; then echo uefi; else echo bios; fi
sec meminfo; if field /proc/meminfo MemTotal: 2>/dev/null; then echo "MemTotal: $F $R"; fi
sec os-release
O=/etc/os-release; [ -r "$O" ] || O=/usr/lib/os-release
if [ -r "$O" ]; then while IFS= read -r l || [ -n "$l" ]; do printf '%s\n' "$l"; done < "$O"; fi
sec kexec; if [ -f /etc/is_kexec ]; then echo yes; fi
# `setsid --wait` (util-linux 2.28+) is what nixos-anywhere's kexec step
# runs. systemd-detect-virt always prints a name or "none"; run through a
# setsid without --wait (busybox's), it does not run and prints nothing.
V=; W=
if has systemd-detect-virt; then
  if has setsid; then V=$(setsid --wait systemd-detect-virt 2>/dev/null); fi
  if [ -n "$V" ]; then W=setsid-wait; else V=$(systemd-detect-virt 2>/dev/null); fi
elif has setsid && setsid --wait true 2>/dev/null; then W=setsid-wait
fi
sec virt; echo "$V"
sec tools
for t in tar cpio sudo doas wget curl nixos-facter; do if has "$t"; then echo "$t"; fi; done
if [ -n "$W" ]; then echo "$W"; fi
sec lsblk; printf '%s\n' "$L"
sec by-id
if [ -d /dev/disk/by-id ]; then
  find /dev/disk/by-id -mindepth 1 -maxdepth 1 -type l -printf '%f %l\n' 2>/dev/null ||
  for l in /dev/disk/by-id/*; do if [ -L "$l" ]; then echo "${l##*/} $(readlink "$l")"; fi; done
fi
sec end
"#;

/// The names `systemd-detect-virt` gives containers (systemd's `virt.c`);
/// every other name it prints is a virtual machine.
pub const CONTAINERS: &[&str] = &[
    "openvz",
    "lxc",
    "lxc-libvirt",
    "systemd-nspawn",
    "docker",
    "podman",
    "rkt",
    "wsl",
    "proot",
    "pouch",
];

/// Output of the probe script that cannot be turned into facts.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ReportError {
    /// A section the script always prints is missing: the script did not run to the end.
    #[error("the probe's output has no {0:?} section: the script stopped early (is /bin/sh a POSIX shell?)")]
    MissingSection(&'static str),
    /// `lsblk` failed with every column set.
    #[error("lsblk failed on the target: it is missing or older than util-linux 2.27 (no --json)")]
    LsblkFailed,
    /// `lsblk` printed something unreadable.
    #[error(transparent)]
    Lsblk(#[from] LsblkError),
    /// A value that must be a number is not.
    #[error("the probe's {section:?} section is not understood: {text:?}")]
    Unreadable {
        /// The section name.
        section: &'static str,
        /// The offending text.
        text: String,
    },
}

/// Splits the script's output into its sections.
fn sections(output: &str) -> HashMap<&str, Vec<&str>> {
    let mut map: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut current: Option<&str> = None;
    for line in output.lines() {
        if let Some(name) = line
            .strip_prefix("@@nixdeck:")
            .and_then(|rest| rest.strip_suffix("@@"))
        {
            current = Some(name);
            map.entry(name).or_default();
        } else if let Some(name) = current {
            map.entry(name).or_default().push(line);
        }
    }
    for body in map.values_mut() {
        while body.last().is_some_and(|l| l.trim().is_empty()) {
            body.pop();
        }
    }
    map
}

/// Parses the probe script's stdout into facts. `address` is what the user
/// typed; `probed_at` is seconds since the epoch (the caller's clock).
pub fn parse(output: &str, address: &str, probed_at: u64) -> Result<HostFacts, ReportError> {
    let s = sections(output);
    let get = |name: &'static str| s.get(name).ok_or(ReportError::MissingSection(name));
    get("end")?;
    let mut warnings = Vec::new();

    let id = get("id")?;
    let user = id.get(1).map(|u| u.trim().to_string()).unwrap_or_default();
    // `uname -s -r -m`: one line, three words (none of them has spaces).
    let uname: Vec<String> = get("uname")?
        .first()
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    let word = |i: usize| uname.get(i).cloned().unwrap_or_default();
    let machine = word(2);

    let priv_lines = get("privilege")?;
    let privilege = match priv_lines.first().map(|l| l.trim()) {
        Some("root") => Privilege::Root,
        Some("sudo") => Privilege::SudoWithoutPassword,
        Some("doas") => Privilege::DoasWithoutPassword,
        _ => {
            let why = priv_lines
                .get(1)
                .map(|l| format!(" (sudo said: {})", l.trim()))
                .unwrap_or_else(|| " (neither sudo nor doas is installed)".into());
            warnings.push(format!(
                "{user} is not root and cannot use `sudo -n` or `doas -n`{why}: disk serials may be \
                 missing, and nixos-anywhere needs root. Log in as root, or allow {user} \
                 password-less sudo."
            ));
            Privilege::None
        }
    };

    let memory_bytes = memory(get("meminfo")?)?;
    if memory_bytes < KEXEC_MIN_MEMORY_BYTES {
        warnings.push(format!(
            "The target has {:.2} GB of memory; nixos-anywhere needs 1.5 GB to kexec into its \
             installer. Boot a NixOS installer on it instead, or add memory.",
            memory_bytes as f64 / 1e9
        ));
    }

    let os_fields = os_release(get("os-release")?);
    let field = |k: &str| os_fields.get(k).cloned().unwrap_or_default();
    let os = OsRelease {
        id: field("ID"),
        version_id: field("VERSION_ID"),
        pretty_name: field("PRETTY_NAME"),
        variant_id: field("VARIANT_ID"),
    };
    let is_kexec = get("kexec")?.iter().any(|l| l.trim() == "yes");
    let is_nixos_installer = os.id == "nixos" && (os.variant_id == "installer" || is_kexec);

    let one = |name: &'static str| -> Result<Option<String>, ReportError> {
        Ok(get(name)?
            .iter()
            .map(|l| l.trim())
            .find(|l| !l.is_empty())
            .map(str::to_string))
    };
    let virtualization = one("virt")?;
    // `systemd-detect-virt` names the container when there is one (a
    // container in a VM included); reports from before the script ran it
    // once have their own `container` section.
    let container = match s.get("container") {
        Some(_) => one("container")?.filter(|c| c != "none"),
        None => virtualization
            .clone()
            .filter(|v| CONTAINERS.contains(&v.as_str())),
    };

    let tool_lines: Vec<&str> = get("tools")?.iter().map(|l| l.trim()).collect();
    let has = |t: &str| tool_lines.contains(&t);
    let tools = TargetTools {
        tar: has("tar"),
        cpio: has("cpio"),
        setsid_wait: has("setsid-wait"),
        sudo: has("sudo"),
        doas: has("doas"),
        wget: has("wget"),
        curl: has("curl"),
        nixos_facter: has("nixos-facter"),
    };

    if s.contains_key("lsblk-failed") {
        return Err(ReportError::LsblkFailed);
    }
    let links: Vec<ByIdLink> = get("by-id")?
        .iter()
        .filter_map(|l| {
            // `NAME TARGET`, the target as the link holds it (`../../sda`).
            let (link, target) = l.trim().split_once(' ')?;
            let kname = target.rsplit('/').next().unwrap_or(target);
            Some(ByIdLink {
                link: link.to_string(),
                kname: kname.to_string(),
            })
        })
        .collect();
    let disks = lsblk::parse_with_links(&get("lsblk")?.join("\n"), &links)?;

    Ok(HostFacts {
        probed_at,
        address: address.to_string(),
        hostname: one("hostname")?.unwrap_or_default(),
        system: nix_system(&machine).map(str::to_string),
        machine,
        kernel_name: word(0),
        kernel_release: word(1),
        boot_mode: match one("boot")?.as_deref() {
            Some("uefi") => BootMode::Uefi,
            _ => BootMode::Bios,
        },
        memory_bytes,
        os,
        is_nixos_installer,
        virtualization,
        container,
        user,
        privilege,
        tools,
        disks,
        warnings,
    })
}

fn memory(lines: &[&str]) -> Result<u64, ReportError> {
    let text = lines.join(" ");
    let unreadable = || ReportError::Unreadable {
        section: "meminfo",
        text: text.clone(),
    };
    // `MemTotal:       24684084 kB`
    let mut words = text.split_whitespace().skip(1);
    let value: u64 = words
        .next()
        .and_then(|n| n.parse().ok())
        .ok_or_else(unreadable)?;
    let factor = match words.next() {
        Some("kB") | Some("KB") => 1024,
        None => 1,
        Some(_) => return Err(unreadable()),
    };
    Ok(value * factor)
}

/// `KEY=value` lines with shell quoting (`"…"`, `'…'`, backslash escapes).
fn os_release(lines: &[&str]) -> HashMap<String, String> {
    lines
        .iter()
        .filter_map(|l| {
            let l = l.trim();
            if l.starts_with('#') {
                return None;
            }
            let (k, v) = l.split_once('=')?;
            Some((k.trim().to_string(), unquote(v.trim())))
        })
        .collect()
}

fn unquote(v: &str) -> String {
    if let Some(inner) = v.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        return inner.to_string();
    }
    let inner = v
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or(v);
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\n@@nixdeck:id@@\n1000\nalice\n\
@@nixdeck:uname@@\nLinux 6.1.0-18-amd64 aarch64\n\
@@nixdeck:hostname@@\nrescue\n\
@@nixdeck:privilege@@\nnone\nsudo: a password is required\n\
@@nixdeck:boot@@\nuefi\n\
@@nixdeck:meminfo@@\nMemTotal:        1000000 kB\n\
@@nixdeck:os-release@@\nID=nixos\nVARIANT_ID=installer\nPRETTY_NAME=\"NixOS 24.05 (Uakari)\"\nVERSION_ID='24.05'\n\
@@nixdeck:kexec@@\n\
@@nixdeck:virt@@\nkvm\n\
@@nixdeck:container@@\nnone\n\
@@nixdeck:tools@@\ntar\ncurl\nsetsid-wait\n\
@@nixdeck:lsblk@@\n{\"blockdevices\":[{\"name\":\"vda\",\"kname\":\"vda\",\"size\":10737418240,\"type\":\"disk\"}]}\n\
@@nixdeck:by-id@@\nvirtio-abc123 vda\n\
@@nixdeck:end@@\n";

    #[test]
    fn one_detect_virt_answer_names_the_container_or_the_vm() {
        let without_container_section = |virt: &str| {
            SAMPLE
                .replace(
                    "@@nixdeck:virt@@\nkvm\n",
                    &format!("@@nixdeck:virt@@\n{virt}\n"),
                )
                .replace("@@nixdeck:container@@\nnone\n", "")
        };
        let lxc = parse(&without_container_section("lxc"), "h", 0).unwrap();
        assert_eq!(lxc.container.as_deref(), Some("lxc"));
        assert_eq!(lxc.virtualization.as_deref(), Some("lxc"));
        let kvm = parse(&without_container_section("kvm"), "h", 0).unwrap();
        assert_eq!(kvm.container, None);
        let bare = parse(&without_container_section("none"), "h", 0).unwrap();
        assert_eq!(bare.container, None);
        assert_eq!(bare.virtualization.as_deref(), Some("none"));
    }

    #[test]
    fn sample_output_becomes_facts() {
        let f = parse(SAMPLE, "alice@rescue", 7).unwrap();
        assert_eq!(f.user, "alice");
        assert_eq!(f.machine, "aarch64");
        assert_eq!(f.kernel_name, "Linux");
        assert_eq!(f.kernel_release, "6.1.0-18-amd64");
        assert_eq!(f.system.as_deref(), Some("aarch64-linux"));
        assert_eq!(f.boot_mode, BootMode::Uefi);
        assert_eq!(f.memory_bytes, 1_024_000_000);
        assert_eq!(f.os.pretty_name, "NixOS 24.05 (Uakari)");
        assert_eq!(f.os.version_id, "24.05");
        assert!(f.is_nixos_installer);
        assert_eq!(f.virtualization.as_deref(), Some("kvm"));
        assert_eq!(f.container, None);
        assert!(f.tools.tar && f.tools.curl && f.tools.setsid_wait && !f.tools.cpio);
        assert_eq!(f.privilege, Privilege::None);
        assert_eq!(f.disks[0].stable_name(), "/dev/disk/by-id/virtio-abc123");
        // Low memory and missing sudo are both reported.
        assert_eq!(f.warnings.len(), 2, "{:?}", f.warnings);
        assert!(f.warnings[0].contains("a password is required"));
        assert!(f.warnings[1].contains("1.5 GB"));
    }

    #[test]
    fn cut_off_output_is_refused() {
        let cut = &SAMPLE[..SAMPLE.find("@@nixdeck:tools@@").unwrap()];
        assert_eq!(
            parse(cut, "x", 0).unwrap_err(),
            ReportError::MissingSection("end")
        );
    }

    #[test]
    fn failed_lsblk_is_reported() {
        let out = SAMPLE.replace(
            "@@nixdeck:by-id@@",
            "@@nixdeck:lsblk-failed@@\n@@nixdeck:by-id@@",
        );
        assert_eq!(parse(&out, "x", 0).unwrap_err(), ReportError::LsblkFailed);
    }

    #[test]
    fn script_tries_every_column_set() {
        let s = script();
        for cols in lsblk::COLUMN_SETS {
            assert!(s.contains(cols));
        }
        assert!(!s.contains(" -O"));
    }
}
