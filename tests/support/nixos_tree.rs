//! A NixOS-like system tree for a chrooted test sshd (see
//! [`crate::sshd::SshdOptions::chroot`]): what nixdeck's status script and
//! rollback command meet on a real NixOS host, made of files.
//!
//! The tree has busybox (Debian's `busybox-static`) as `/bin/sh` and its
//! tools; three system generations in `/nix/store/<hash>-nixos-system-<host>-<version>/`
//! with their `nixos-version`; `/nix/var/nix/profiles/system-{1,2,3}-link`
//! dated like real ones and `system` → `system-3-link`; `/run/current-system`
//! (generation 3) and `/run/booted-system` (generation 2: a reboot is
//! pending); and a fixed `/proc/uptime` file (the test tree has no procfs).
//!
//! Real Nix cannot run in it, so `/bin/nix-env` and each system's
//! `bin/switch-to-configuration` are target-side stand-ins that do to the
//! links what the real ones do: `nix-env -p P --switch-generation N` /
//! `--rollback` repoints the profile, `switch-to-configuration switch`
//! points `/run/current-system` at its own system. nixdeck's code does not
//! know them; it only runs what a real NixOS host runs.

use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where trees live: sshd refuses a chroot under a world-writable directory
/// such as /tmp.
const PARENT: &str = "/var/lib/nixdeck-tests";

/// Login shell root has in /etc/passwd, which sshd runs inside the chroot.
const BUSYBOX: &str = "/bin/busybox";

/// Generations 1, 2, 3: (store hash, version, link mtime).
const GENERATIONS: [(&str, &str, u64); 3] = [
    (
        "0a1b2c3d4f5g6h7i8j9k0l1m2n3p4q5r",
        "24.05.20240601.aaaaaaa (Uakari)",
        1_717_200_000,
    ),
    (
        "1a1b2c3d4f5g6h7i8j9k0l1m2n3p4q5r",
        "24.11.20250101.bbbbbbb (Vicuna)",
        1_735_689_600,
    ),
    (
        "2a1b2c3d4f5g6h7i8j9k0l1m2n3p4q5r",
        "24.11.20250202.ccccccc (Vicuna)",
        1_738_454_400,
    ),
];

/// The fixed `/proc/uptime` of the tree.
pub const UPTIME: &str = "93784.52 180000.11\n";

/// A tree; removed on drop.
pub struct NixosTree {
    /// The chroot directory.
    pub root: PathBuf,
    /// Store paths of generations 1, 2, 3 (as the target sees them).
    pub systems: Vec<String>,
    /// Their `nixos-version`s.
    pub versions: Vec<String>,
    /// Their link mtimes (seconds since the epoch).
    pub dates: Vec<u64>,
    _dir: tempfile::TempDir,
}

fn mkdir(path: &Path) {
    std::fs::create_dir_all(path).unwrap_or_else(|e| panic!("mkdir {}: {e}", path.display()));
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

fn write_exec(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write script");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// Sets a symlink's own mtime (`touch -h`), as nix-env dates generations.
fn date_link(link: &Path, epoch: u64) {
    crate::sshd::run(
        Command::new("touch")
            .args(["-h", "-d", &format!("@{epoch}")])
            .arg(link),
    );
}

const NIX_ENV: &str = r#"#!/bin/sh
# Test stand-in for nix-env on the fake NixOS target: moves a profile's link
# like `nix-env -p P --switch-generation N` and `nix-env -p P --rollback`.
p=; op=; n=
while [ $# -gt 0 ]; do
  case "$1" in
    -p|--profile) p=$2; shift 2 ;;
    --switch-generation|-G) op=switch; n=$2; shift 2 ;;
    --rollback) op=rollback; shift ;;
    *) echo "nix-env stand-in: unexpected argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$p" ] && [ -n "$op" ] || { echo "nix-env stand-in: need -p and a switch" >&2; exit 2; }
dir=${p%/*}; name=${p##*/}
cur=$(readlink "$p"); cur=${cur#"$name"-}; cur=${cur%-link}
if [ "$op" = rollback ]; then
  n=
  for l in "$dir/$name"-*-link; do
    g=${l##*/"$name"-}; g=${g%-link}
    if [ "$g" -lt "$cur" ] && { [ -z "$n" ] || [ "$g" -gt "$n" ]; }; then n=$g; fi
  done
  [ -n "$n" ] || { echo "error: no generation older than the current" >&2; exit 1; }
fi
[ -L "$dir/$name-$n-link" ] || { echo "error: generation $n does not exist in '$p'" >&2; exit 1; }
ln -sfn "$name-$n-link" "$p"
echo "switching profile from version $cur to $n"
"#;

impl NixosTree {
    /// Builds the tree of a host named `host`.
    pub fn build(host: &str) -> NixosTree {
        assert!(
            Path::new(BUSYBOX).exists(),
            "{BUSYBOX} is missing: apt-get install busybox-static"
        );
        mkdir(Path::new(PARENT));
        let dir = tempfile::Builder::new()
            .prefix("nixos-tree-")
            .tempdir_in(PARENT)
            .expect("temp dir");
        let root = dir.path().to_path_buf();
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        for d in [
            "bin",
            "dev",
            "root",
            "tmp",
            "run",
            "proc",
            "nix/var/nix/profiles",
        ] {
            mkdir(&root.join(d));
        }
        std::fs::copy(BUSYBOX, root.join("bin/busybox")).expect("copy busybox");
        for applet in [
            "sh", "readlink", "stat", "cat", "head", "ls", "ln", "rm", "sleep", "hostname", "id",
            "echo", "test", "touch",
        ] {
            symlink("busybox", root.join("bin").join(applet)).expect("applet link");
        }
        // sshd runs root's login shell from the host's /etc/passwd (bash).
        write_exec(&root.join("bin/bash"), "#!/bin/sh\nexec /bin/sh \"$@\"\n");
        write_exec(&root.join("bin/nix-env"), NIX_ENV);
        // /dev/null for the scripts' redirections; a plain file if mknod is not allowed.
        let null = root.join("dev/null");
        let made = Command::new("mknod")
            .arg(&null)
            .args(["c", "1", "3"])
            .status()
            .is_ok_and(|s| s.success());
        if !made {
            std::fs::write(&null, "").expect("dev/null");
        }
        std::fs::set_permissions(&null, std::fs::Permissions::from_mode(0o666)).expect("chmod");
        std::fs::write(root.join("proc/uptime"), UPTIME).expect("uptime");

        let mut systems = Vec::new();
        let mut versions = Vec::new();
        let mut dates = Vec::new();
        for (i, (hash, version, date)) in GENERATIONS.iter().enumerate() {
            let number = i + 1;
            let short = version.split_whitespace().next().unwrap_or(version);
            let store_path = format!("/nix/store/{hash}-nixos-system-{host}-{short}");
            let on_disk = root.join(store_path.trim_start_matches('/'));
            mkdir(&on_disk.join("bin"));
            std::fs::write(on_disk.join("nixos-version"), version).expect("nixos-version");
            write_exec(
                &on_disk.join("bin/switch-to-configuration"),
                &format!(
                    "#!/bin/sh\n\
                     # Test stand-in: activating this system makes it the running one.\n\
                     [ \"$1\" = switch ] || [ \"$1\" = test ] || {{ echo \"unexpected $1\" >&2; exit 2; }}\n\
                     ln -sfn {store_path} /run/current-system\n\
                     echo \"activating the configuration...\"\n"
                ),
            );
            let link = root.join(format!("nix/var/nix/profiles/system-{number}-link"));
            symlink(&store_path, &link).expect("generation link");
            date_link(&link, *date);
            systems.push(store_path);
            versions.push(version.to_string());
            dates.push(*date);
        }
        symlink("system-3-link", root.join("nix/var/nix/profiles/system")).expect("profile");
        symlink(&systems[2], root.join("run/current-system")).expect("current-system");
        symlink(&systems[1], root.join("run/booted-system")).expect("booted-system");
        NixosTree {
            root,
            systems,
            versions,
            dates,
            _dir: dir,
        }
    }

    /// What `/run/current-system` points to now.
    pub fn current_system(&self) -> String {
        std::fs::read_link(self.root.join("run/current-system"))
            .expect("current-system link")
            .to_string_lossy()
            .into_owned()
    }
}
