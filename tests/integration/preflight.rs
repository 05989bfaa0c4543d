//! Preflight and the disk identity re-check on facts the real probe reads from
//! this machine through the test sshd (needs root: users and loop devices).
//! Expectations come from asking this machine directly, not from the facts.

use nixdeck_core::facts::{BootMode, HostFacts};
use nixdeck_core::preflight::{self, DiskIdentity, LayoutNeeds, Preflight, Rule};
use nixdeck_engine::probe::{probe, ProbeOptions};
use nixdeck_engine::ssh::{Auth, ConnectOptions, SshTarget};
use nixdeck_tests::loopdisk::LoopDisk;
use nixdeck_tests::sshd::{ensure_user, run, Sshd, SshdOptions};
use std::process::Command;

fn opts(sshd: &Sshd) -> ConnectOptions {
    ConnectOptions {
        auth: Auth::KeyFile(sshd.user_key_path.clone()),
        known_hosts: Some(sshd.known_hosts_path.clone()),
        ssh_config: Some(sshd.dir.path().join("no-ssh-config")),
        ..ConnectOptions::default()
    }
}

async fn probe_as(sshd: &Sshd, user: &str) -> HostFacts {
    let target = SshTarget::parse(&sshd.target(user)).expect("target");
    probe(&target, &opts(sshd), &ProbeOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", sshd.log()))
}

fn local_has(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn local_container() -> bool {
    Command::new("systemd-detect-virt")
        .arg("--container")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .is_some_and(|c| !c.is_empty() && c != "none")
}

fn local_memory_bytes() -> u64 {
    let text = std::fs::read_to_string("/proc/meminfo").expect("meminfo");
    text.lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .expect("MemTotal")
        * 1024
}

fn fires(p: &Preflight, rule: Rule) -> bool {
    p.of(rule).next().is_some()
}

#[tokio::test]
async fn rules_on_the_facts_of_this_machine() {
    let disk = LoopDisk::new(32);
    let sshd = Sshd::start(SshdOptions::default());
    let facts = probe_as(&sshd, "root").await;
    let uefi = facts.boot_mode == BootMode::Uefi;
    let layout = LayoutNeeds {
        esp: uefi,
        bios_boot: !uefi,
        gpt: true,
        disks: vec![disk.dev.clone()],
    };
    let p = preflight::check(&facts, &layout, facts.system.as_deref());

    // What this machine is decides what fires.
    assert_eq!(fires(&p, Rule::Container), local_container(), "{p:#?}");
    assert_eq!(fires(&p, Rule::MissingCpio), !local_has("cpio"), "{p:#?}");
    assert_eq!(fires(&p, Rule::MissingTar), !local_has("tar"), "{p:#?}");
    assert_eq!(
        fires(&p, Rule::MemoryLow),
        local_memory_bytes() < preflight::MIN_KEXEC_MEMORY_BYTES
    );
    let machine = run(Command::new("uname").arg("-m")).trim().to_string();
    assert_eq!(
        fires(&p, Rule::UnsupportedArch),
        !matches!(machine.as_str(), "x86_64" | "aarch64")
    );
    for rule in [
        Rule::NoRoot,
        Rule::DiskMissing,
        Rule::NoEsp,
        Rule::NoBiosBoot,
        Rule::SystemMismatch,
        Rule::NotLinux,
        Rule::DiskInUse,
    ] {
        assert!(!fires(&p, rule), "{rule:?}: {p:#?}");
    }

    // The wrong boot partitions for this machine's boot mode.
    let swapped = LayoutNeeds {
        esp: !uefi,
        bios_boot: uefi,
        ..layout.clone()
    };
    let p = preflight::check(&facts, &swapped, None);
    assert!(
        fires(&p, if uefi { Rule::NoEsp } else { Rule::NoBiosBoot }),
        "{p:#?}"
    );
    // Another architecture in the configuration.
    let other = if machine == "aarch64" {
        "x86_64-linux"
    } else {
        "aarch64-linux"
    };
    assert!(fires(
        &preflight::check(&facts, &layout, Some(other)),
        Rule::SystemMismatch
    ));
    // A disk this machine does not have.
    let missing = LayoutNeeds {
        disks: vec!["/dev/disk/by-id/nvme-nixdeck-not-here".into()],
        ..layout.clone()
    };
    let p = preflight::check(&facts, &missing, None);
    assert!(fires(&p, Rule::DiskMissing), "{p:#?}");
    assert!(p.blocked());
}

#[tokio::test]
async fn a_user_without_root_rights_is_blocked() {
    let user = "nixdeck-pf-nosudo";
    let sshd = Sshd::start(SshdOptions {
        key_users: vec!["root".into(), user.into()],
        ..SshdOptions::default()
    });
    ensure_user(user, "x-unused-pf");
    let layout = LayoutNeeds::default();
    let p = preflight::check(&probe_as(&sshd, user).await, &layout, None);
    assert!(fires(&p, Rule::NoRoot), "{p:#?}");
    assert!(p.blocked());
    let p = preflight::check(&probe_as(&sshd, "root").await, &layout, None);
    assert!(!fires(&p, Rule::NoRoot), "{p:#?}");
}

#[tokio::test]
async fn a_replaced_disk_is_caught_before_the_install() {
    let mut disk = LoopDisk::new(32);
    let sshd = Sshd::start(SshdOptions::default());
    let reviewed = probe_as(&sshd, "root").await;
    let confirmed = vec![DiskIdentity::of(&reviewed, &disk.dev).expect("the loop disk is probed")];
    assert_eq!(confirmed[0].size_bytes, 32 << 20);

    // Nothing changed: the install may go on.
    let again = probe_as(&sshd, "root").await;
    assert_eq!(preflight::recheck_disks(&confirmed, &again), []);

    // Another, bigger disk under the same name.
    disk.replace(48);
    let now = probe_as(&sshd, "root").await;
    let changes = preflight::recheck_disks(&confirmed, &now);
    assert_eq!(changes.len(), 1, "{changes:#?}");
    let change = &changes[0];
    assert_eq!(change.name, disk.dev);
    assert_eq!(change.confirmed.size_bytes, 32 << 20);
    assert_eq!(change.now.as_ref().map(|n| n.size_bytes), Some(48 << 20));
    assert!(
        change
            .differences
            .iter()
            .any(|d| d == "size 33.6 MB → 50.3 MB"),
        "{:?}",
        change.differences
    );
}

/// `nixdeck install` probes again before it starts: a disk swapped since the facts
/// were confirmed stops it with both identities shown, and nixos-anywhere (the
/// stand-in `nix`) never runs.
#[tokio::test]
async fn the_cli_install_stops_on_a_swapped_disk_before_anything_runs() {
    use nixdeck_core::disko::{render, templates::instantiate};
    use nixdeck_core::repo::{FlakeSpec, HostName};
    use nixdeck_engine::{facts_store, repo};

    let mut disk = LoopDisk::new(64);
    let sshd = Sshd::start(SshdOptions::default());
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("infra");
    repo::init_repo(&root, &FlakeSpec::default(), &repo::Confirm::Nothing)
        .await
        .expect("init");
    let layout =
        instantiate("ext4", std::slice::from_ref(&disk.dev), BootMode::Bios).expect("layout");
    std::fs::create_dir_all(root.join("hosts/web")).expect("host dir");
    std::fs::write(root.join("hosts/web/disko.nix"), render(&layout)).expect("disko.nix");
    let confirmed = probe_as(&sshd, "root").await;
    facts_store::save(&root, &HostName::new("web").expect("name"), &confirmed).expect("facts");

    disk.replace(96);
    let record = tmp.path().join("argv.record");
    let out = Command::new(env!("CARGO_BIN_EXE_nixdeck-headless"))
        .arg("install")
        .arg(&root)
        .args([
            "web",
            "--confirm",
            "web",
            "--flakes",
            "yes",
            "--address",
            "127.0.0.1",
        ])
        .args(["-p", &sshd.port.to_string()])
        .arg("-i")
        .arg(&sshd.user_key_path)
        .arg("--known-hosts")
        .arg(&sshd.known_hosts_path)
        .env(
            "PATH",
            format!(
                "{}:{}",
                nixdeck_tests::fixture("standins").display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env("NIXDECK_DATA_DIR", tmp.path().join("data"))
        .env("NIXDECK_STANDIN_RECORD", &record)
        .output()
        .expect("run nixdeck install");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the install went on:\n{stderr}");
    assert!(
        stderr.contains("not the ones confirmed on review"),
        "{stderr}"
    );
    assert!(
        stderr.contains("67108864 bytes") && stderr.contains("100663296 bytes"),
        "both sizes shown: {stderr}"
    );
    assert!(stderr.contains("nothing was started"), "{stderr}");
    assert!(
        std::fs::read_to_string(&record)
            .unwrap_or_default()
            .is_empty(),
        "the stand-in nixos-anywhere ran"
    );
}
