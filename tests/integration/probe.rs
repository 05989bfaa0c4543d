//! The SSH probe against real OpenSSH servers on 127.0.0.1 (needs root):
//! authentication, host keys, timeouts, non-root users, and disks compared
//! with what `lsblk` says locally.

use nixdeck_core::facts::{lsblk, BlockDevice, BootMode, Privilege};
use nixdeck_engine::probe::{probe, ProbeError, ProbeOptions};
use nixdeck_engine::ssh::{
    Auth, AuthMethod, ConnectOptions, HostKeyPolicy, PassphrasePrompt, Phase, Secret, Session,
    SshError, SshTarget, Step, Timeouts,
};
use nixdeck_tests::loopdisk::LoopDisk;
use nixdeck_tests::sshd::{
    ensure_user, free_port, keygen, public_key, run, SshAgent, Sshd, SshdOptions, SudoGrant,
};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn target(s: &str) -> SshTarget {
    SshTarget::parse(s).expect("target")
}

/// Options that trust `sshd` and use `auth`, with no ~/.ssh involved.
fn opts(sshd: &Sshd, auth: Auth) -> ConnectOptions {
    ConnectOptions {
        auth,
        known_hosts: Some(sshd.known_hosts_path.clone()),
        ssh_config: Some(sshd.dir.path().join("no-ssh-config")),
        ..ConnectOptions::default()
    }
}

async fn probe_err(t: &str, o: &ConnectOptions) -> ProbeError {
    probe(&target(t), o, &ProbeOptions::default())
        .await
        .expect_err("the probe should fail")
}

fn local_memory_bytes() -> u64 {
    let text = std::fs::read_to_string("/proc/meminfo").expect("meminfo");
    let kb: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .expect("MemTotal");
    kb * 1024
}

#[tokio::test]
async fn key_file_login_reads_the_facts_of_this_machine() {
    let sshd = Sshd::start(SshdOptions::default());
    let phases = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = phases.clone();
    let o = ConnectOptions {
        progress: Some(Arc::new(move |p| seen.lock().unwrap().push(p))),
        ..opts(&sshd, Auth::KeyFile(sshd.user_key_path.clone()))
    };
    let facts = probe(&target(&sshd.target("root")), &o, &ProbeOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", sshd.log()));
    assert_eq!(
        *phases.lock().unwrap(),
        vec![
            Phase::Connecting,
            Phase::Handshake,
            Phase::Authenticating,
            Phase::ReadingFacts
        ]
    );
    assert_eq!(facts.user, "root");
    assert_eq!(facts.privilege, Privilege::Root);
    let machine = run(Command::new("uname").arg("-m")).trim().to_string();
    assert_eq!(facts.machine, machine);
    assert_eq!(
        facts.system.as_deref(),
        nixdeck_core::facts::nix_system(&machine)
    );
    assert_eq!(facts.memory_bytes, local_memory_bytes());
    let local_host = std::fs::read_to_string("/proc/sys/kernel/hostname").expect("hostname");
    assert_eq!(facts.hostname, local_host.trim());
    let expected_boot = if Path::new("/sys/firmware/efi").exists() {
        BootMode::Uefi
    } else {
        BootMode::Bios
    };
    assert_eq!(facts.boot_mode, expected_boot);
    let os = std::fs::read_to_string("/etc/os-release").expect("os-release");
    assert!(
        os.contains(&format!("ID={}", facts.os.id)),
        "{:?}",
        facts.os
    );
    let pretty = os
        .lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim_matches('"'));
    assert_eq!(Some(facts.os.pretty_name.as_str()), pretty);
    // One `systemd-detect-virt` call answers both: a container (this CI may
    // run in one) or a virtual machine.
    if let Ok(out) = Command::new("systemd-detect-virt")
        .arg("--container")
        .output()
    {
        let local = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let expected = (!local.is_empty() && local != "none").then_some(local.as_str());
        assert_eq!(facts.container.as_deref(), expected);
    }
    assert!(facts.tools.tar, "tar is on every Debian");
    assert!(!facts.is_nixos_installer);
    assert!(!facts.disks.is_empty());
}

#[tokio::test]
async fn agent_login_uses_the_agents_key() {
    let sshd = Sshd::start(SshdOptions::default());
    let agent = SshAgent::start(&[&sshd.user_key_path]);
    let o = opts(&sshd, Auth::Agent(Some(agent.socket.clone())));
    let facts = probe(&target(&sshd.target("root")), &o, &ProbeOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", sshd.log()));
    assert_eq!(facts.user, "root");

    // An agent without the authorized key is refused, naming the agent key.
    let dir = tempfile::tempdir().unwrap();
    let other = keygen(dir.path(), "other", "ed25519", "");
    let wrong_agent = SshAgent::start(&[&other]);
    let o = opts(&sshd, Auth::Agent(Some(wrong_agent.socket.clone())));
    match probe_err(&sshd.target("root"), &o).await {
        ProbeError::Ssh(SshError::AuthFailed {
            method: AuthMethod::PublicKey,
            tried,
            ..
        }) => {
            assert!(tried[0].starts_with("agent key SHA256:"), "{tried:?}")
        }
        e => panic!("expected AuthFailed, got {e}"),
    }
}

#[tokio::test]
async fn password_login_and_wrong_credentials_fail_distinctly() {
    let sshd = Sshd::start(SshdOptions::default());
    let user = ensure_user("nixdeck-pw", "correct horse");
    let ok = opts(&sshd, Auth::Password(Secret::new("correct horse")));
    let facts = probe(&target(&sshd.target(&user)), &ok, &ProbeOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", sshd.log()));
    assert_eq!(facts.user, user);

    let wrong_pw = opts(&sshd, Auth::Password(Secret::new("battery staple")));
    let pw_err = probe_err(&sshd.target(&user), &wrong_pw).await;
    assert!(matches!(
        pw_err,
        ProbeError::Ssh(SshError::AuthFailed {
            method: AuthMethod::Password,
            ..
        })
    ));
    assert_eq!(pw_err.code(), "auth_failed");
    assert!(
        pw_err.to_string().contains("rejected the password"),
        "{pw_err}"
    );
    assert!(
        !pw_err.to_string().contains("battery"),
        "the password never shows"
    );

    let dir = tempfile::tempdir().unwrap();
    let other = keygen(dir.path(), "other", "ed25519", "");
    let wrong_key = opts(&sshd, Auth::KeyFile(other.clone()));
    let key_err = probe_err(&sshd.target("root"), &wrong_key).await;
    let msg = key_err.to_string();
    assert!(msg.contains("accepted none of the keys"), "{msg}");
    assert!(msg.contains(&other.display().to_string()), "{msg}");
    assert_ne!(msg, pw_err.to_string());
    assert!(key_err.hint().contains("authorized_keys"));
}

#[tokio::test]
async fn password_login_through_keyboard_interactive() {
    let sshd = Sshd::start(SshdOptions {
        keyboard_interactive: true,
        ..SshdOptions::default()
    });
    let user = ensure_user("nixdeck-kbd", "tr0ub4dor");
    let ok = opts(&sshd, Auth::Password(Secret::new("tr0ub4dor")));
    let facts = probe(&target(&sshd.target(&user)), &ok, &ProbeOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", sshd.log()));
    assert_eq!(facts.user, user);
    let wrong = opts(&sshd, Auth::Password(Secret::new("tr0ub4dor&3")));
    assert!(matches!(
        probe_err(&sshd.target(&user), &wrong).await,
        ProbeError::Ssh(SshError::AuthFailed {
            method: AuthMethod::Password,
            ..
        })
    ));
}

struct FixedPassphrase(&'static str);

impl PassphrasePrompt for FixedPassphrase {
    fn passphrase<'a>(
        &'a self,
        _: &'a Path,
    ) -> Pin<Box<dyn Future<Output = Option<Secret>> + Send + 'a>> {
        Box::pin(async move { Some(Secret::new(self.0)) })
    }
}

#[tokio::test]
async fn encrypted_key_asks_for_its_passphrase() {
    let sshd = Sshd::start(SshdOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let key = keygen(dir.path(), "locked", "ed25519", "open sesame");
    sshd.authorize("root", &public_key(&key));
    let t = target(&sshd.target("root"));

    let mut o = opts(&sshd, Auth::KeyFile(key.clone()));
    match probe_err(&sshd.target("root"), &o).await {
        ProbeError::Ssh(SshError::KeyFile { reason, .. }) => {
            assert!(reason.contains("encrypted"), "{reason}")
        }
        e => panic!("expected KeyFile, got {e}"),
    }
    o.prompt = Some(Arc::new(FixedPassphrase("wrong")));
    match probe_err(&sshd.target("root"), &o).await {
        ProbeError::Ssh(SshError::KeyFile { reason, .. }) => assert_eq!(reason, "wrong passphrase"),
        e => panic!("expected KeyFile, got {e}"),
    }
    o.prompt = Some(Arc::new(FixedPassphrase("open sesame")));
    probe(&t, &o, &ProbeOptions::default())
        .await
        .expect("probe with passphrase");
}

#[tokio::test]
async fn ssh_config_supplies_host_port_user_and_key() {
    let sshd = Sshd::start(SshdOptions::default());
    let config = sshd.dir.path().join("ssh_config");
    std::fs::write(
        &config,
        format!(
            "Host other\n  User nobody\nHost box-*\n  HostName 127.0.0.1\n  Port {}\n  User root\n  IdentityFile {}\n",
            sshd.port,
            sshd.user_key_path.display()
        ),
    )
    .unwrap();
    let o = ConnectOptions {
        ssh_config: Some(config),
        ..opts(&sshd, Auth::Default)
    };
    let facts = probe(&target("box-1"), &o, &ProbeOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", sshd.log()));
    assert_eq!(facts.user, "root");
    assert_eq!(facts.address, "box-1");
}

fn cli(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_nixdeck-headless"))
        .arg("probe")
        .args(args)
        .env_remove("SSH_AUTH_SOCK")
        .output()
        .expect("run nixdeck-headless")
}

#[tokio::test]
async fn unknown_host_key_is_refused_without_acceptance_and_recorded_with_it() {
    let sshd = Sshd::start(SshdOptions::default());
    let kh = sshd.dir.path().join("fresh_known_hosts");
    let key = sshd.user_key_path.to_str().unwrap();
    let t = sshd.target("root");
    let kh_arg = kh.to_str().unwrap();
    let args = |extra: &[&'static str]| {
        let mut v = vec![t.as_str(), "-i", key, "--known-hosts", kh_arg, "--json"];
        v.extend_from_slice(extra);
        v
    };

    let out = cli(&args(&[]));
    assert_eq!(out.status.code(), Some(1));
    let err: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json error");
    assert_eq!(err["error"]["code"], "host_key_unknown");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&sshd.host_key_fingerprint), "{stderr}");
    assert!(stderr.contains("--accept-new-host-key"), "{stderr}");
    assert!(!kh.exists() || std::fs::read_to_string(&kh).unwrap().is_empty());

    let out = cli(&args(&["--accept-new-host-key"]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let facts: nixdeck_core::facts::HostFacts =
        serde_json::from_slice(&out.stdout).expect("facts json");
    assert_eq!(facts.user, "root");
    let recorded = std::fs::read_to_string(&kh).unwrap();
    assert_eq!(recorded, format!("{}\n", sshd.known_hosts_line()));

    // OpenSSH itself accepts what we recorded…
    let ssh = Command::new("ssh")
        .args(["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"])
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", kh.display()))
        .args([
            "-i",
            key,
            "-p",
            &sshd.port.to_string(),
            "root@127.0.0.1",
            "true",
        ])
        .output()
        .unwrap();
    assert!(
        ssh.status.success(),
        "{}",
        String::from_utf8_lossy(&ssh.stderr)
    );
    // …and after OpenSSH hashes the file, nixdeck still recognises the host.
    run(Command::new("ssh-keygen").arg("-H").arg("-f").arg(&kh));
    assert!(std::fs::read_to_string(&kh).unwrap().starts_with("|1|"));
    let out = cli(&args(&[]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn a_fingerprint_the_user_accepted_is_trusted_only_for_that_key() {
    let sshd = Sshd::start(SshdOptions::default());
    let kh = sshd.dir.path().join("ui_known_hosts");
    let mut o = opts(&sshd, Auth::KeyFile(sshd.user_key_path.clone()));
    o.known_hosts = Some(kh.clone());
    let fp = match probe_err(&sshd.target("root"), &o).await {
        ProbeError::Ssh(SshError::HostKeyUnknown {
            fingerprint,
            key_type,
            ..
        }) => {
            assert_eq!(key_type, "ssh-ed25519");
            fingerprint
        }
        e => panic!("expected HostKeyUnknown, got {e}"),
    };
    assert_eq!(fp, sshd.host_key_fingerprint);
    o.host_keys = HostKeyPolicy::TrustFingerprint("SHA256:somethingelse".into());
    assert!(matches!(
        probe_err(&sshd.target("root"), &o).await,
        ProbeError::Ssh(SshError::HostKeyUnknown { .. })
    ));
    o.host_keys = HostKeyPolicy::TrustFingerprint(fp);
    probe(&target(&sshd.target("root")), &o, &ProbeOptions::default())
        .await
        .expect("trusted fingerprint");
    assert!(std::fs::read_to_string(&kh)
        .unwrap()
        .contains(&sshd.host_key_pub));
}

#[tokio::test]
async fn changed_host_key_is_refused_with_the_way_out() {
    let sshd = Sshd::start(SshdOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let impostor = keygen(dir.path(), "old_host_key", "ed25519", "");
    let kh = sshd.dir.path().join("stale_known_hosts");
    let stale = format!(
        "# old\n[127.0.0.1]:{} {}\n",
        sshd.port,
        public_key(&impostor)
    );
    std::fs::write(&kh, &stale).unwrap();
    let mut o = opts(&sshd, Auth::KeyFile(sshd.user_key_path.clone()));
    o.known_hosts = Some(kh.clone());
    o.host_keys = HostKeyPolicy::AcceptNew; // even so: a changed key is never accepted
    let err = probe_err(&sshd.target("root"), &o).await;
    match &err {
        ProbeError::Ssh(SshError::HostKeyMismatch {
            line, fingerprint, ..
        }) => {
            assert_eq!(*line, 2);
            assert_eq!(*fingerprint, sshd.host_key_fingerprint);
        }
        e => panic!("expected HostKeyMismatch, got {e}"),
    }
    assert!(err.to_string().contains("CHANGED"));
    assert!(
        err.hint()
            .contains(&format!("ssh-keygen -R '[127.0.0.1]:{}'", sshd.port)),
        "{}",
        err.hint()
    );
    assert_eq!(
        std::fs::read_to_string(&kh).unwrap(),
        stale,
        "known_hosts untouched"
    );
}

#[tokio::test]
async fn a_command_that_hangs_times_out_with_its_name() {
    let sshd = Sshd::start(SshdOptions::default());
    let mut o = opts(&sshd, Auth::KeyFile(sshd.user_key_path.clone()));
    o.timeouts.command = Duration::from_millis(700);
    let session = Session::connect(&target(&sshd.target("root")), &o)
        .await
        .expect("connect");
    let out = session
        .exec("echo", "echo hi; exit 3", b"")
        .await
        .expect("echo");
    assert_eq!(
        (out.stdout.as_slice(), out.exit_status),
        (&b"hi\n"[..], Some(3))
    );
    let started = Instant::now();
    let err = session
        .exec("the slow step", "sleep 5", b"")
        .await
        .expect_err("timeout");
    assert!(started.elapsed() < Duration::from_secs(2));
    match &err {
        SshError::Timeout {
            step: Step::Command(name),
            ..
        } => assert_eq!(name, "the slow step"),
        e => panic!("expected a command timeout, got {e}"),
    }
    assert!(err.to_string().contains("running the slow step"), "{err}");
    session.close().await;
}

fn fast_timeouts() -> Timeouts {
    Timeouts {
        connect: Duration::from_secs(2),
        handshake: Duration::from_secs(1),
        ..Timeouts::default()
    }
}

#[tokio::test]
async fn refused_connection_fails_at_once_with_its_own_message() {
    let o = ConnectOptions {
        timeouts: fast_timeouts(),
        known_hosts: Some(PathBuf::from("/nonexistent/known_hosts")),
        ..ConnectOptions::default()
    };
    let started = Instant::now();
    let err = probe_err(&format!("root@127.0.0.1:{}", free_port()), &o).await;
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(
        matches!(err, ProbeError::Ssh(SshError::Unreachable { .. })),
        "{err}"
    );
    assert!(err.to_string().contains("connection refused"), "{err}");
}

#[tokio::test]
async fn a_port_that_never_speaks_ssh_times_out_in_the_handshake() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    // Accept and hold connections without ever writing a byte.
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    let o = ConnectOptions {
        timeouts: fast_timeouts(),
        known_hosts: Some(PathBuf::from("/nonexistent/known_hosts")),
        ..ConnectOptions::default()
    };
    let started = Instant::now();
    let err = probe_err(&format!("root@127.0.0.1:{port}"), &o).await;
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(3),
        "{took:?}"
    );
    match &err {
        ProbeError::Ssh(SshError::Timeout {
            step: Step::Handshake,
            ..
        }) => {}
        e => panic!("expected a handshake timeout, got {e}"),
    }
    assert!(err.hint().contains("does not speak SSH"));
    silent.abort();
}

#[tokio::test]
async fn non_root_user_with_and_without_sudo() {
    let sshd = Sshd::start(SshdOptions {
        key_users: vec!["nixdeck-sudo".into(), "nixdeck-nosudo".into()],
        ..SshdOptions::default()
    });
    let with = ensure_user("nixdeck-sudo", "x-unused-1");
    let without = ensure_user("nixdeck-nosudo", "x-unused-2");
    let o = opts(&sshd, Auth::KeyFile(sshd.user_key_path.clone()));

    let grant = SudoGrant::new(&with);
    let facts = probe(
        &target(&sshd.target(&with)),
        &o,
        &ProbeOptions { require_root: true },
    )
    .await
    .unwrap_or_else(|e| panic!("{e}\n{}", sshd.log()));
    drop(grant);
    assert_eq!(facts.user, with);
    assert_eq!(facts.privilege, Privilege::SudoWithoutPassword);
    assert!(
        facts.warnings.iter().all(|w| !w.contains("sudo")),
        "{:?}",
        facts.warnings
    );

    let facts = probe(
        &target(&sshd.target(&without)),
        &o,
        &ProbeOptions::default(),
    )
    .await
    .expect("probe without sudo still reads facts");
    assert_eq!(facts.privilege, Privilege::None);
    assert!(
        facts
            .warnings
            .iter()
            .any(|w| w.contains("not root") && w.contains(&without)),
        "{:?}",
        facts.warnings
    );
    assert!(!facts.disks.is_empty(), "lsblk runs without root too");

    let err = probe(
        &target(&sshd.target(&without)),
        &o,
        &ProbeOptions { require_root: true },
    )
    .await
    .expect_err("require_root");
    assert!(matches!(err, ProbeError::SudoRequired { .. }), "{err}");
    assert!(err.hint().contains("NOPASSWD"));
}

/// A `/dev/disk/by-id` link as udev makes them (`NAME -> ../../KNAME`),
/// for a machine (a container) without udev; removed on drop, with the
/// folders if this made them.
struct ByIdLink {
    link: PathBuf,
    made: Vec<PathBuf>,
}

impl ByIdLink {
    fn new(name: &str, kname: &str) -> ByIdLink {
        let dir = Path::new("/dev/disk/by-id");
        let made: Vec<PathBuf> = ["/dev/disk", "/dev/disk/by-id"]
            .iter()
            .map(PathBuf::from)
            .filter(|d| !d.exists())
            .collect();
        std::fs::create_dir_all(dir).expect("mkdir /dev/disk/by-id");
        let link = dir.join(name);
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(format!("../../{kname}"), &link).expect("symlink");
        ByIdLink { link, made }
    }
}

impl Drop for ByIdLink {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.link);
        for dir in self.made.iter().rev() {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// The probe script run here with `sh -s` and `PATH` starting at `path_first`.
fn run_script_locally(path_first: &Path) -> String {
    use std::io::Write;
    let mut child = Command::new("sh")
        .arg("-s")
        .env(
            "PATH",
            format!(
                "{}:{}",
                path_first.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("sh");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(nixdeck_core::facts::report::script().as_bytes())
        .expect("feed the script");
    let out = child.wait_with_output().expect("script output");
    assert!(out.status.success());
    String::from_utf8(out.stdout).expect("utf-8")
}

fn without_links(mut d: BlockDevice) -> BlockDevice {
    d.by_id.clear();
    d.children = d.children.into_iter().map(without_links).collect();
    d
}

#[tokio::test]
async fn probed_disks_equal_local_lsblk_including_a_partitioned_loop_device() {
    let disk = LoopDisk::partitioned(
        64,
        "label: gpt\nstart=2048, size=16MiB, name=esp\nsize=32MiB, name=data\n",
    );
    let kname = disk.dev.trim_start_matches("/dev/").to_string();
    let link_name = format!("nixdeck-test-{kname}");
    let _link = ByIdLink::new(&link_name, &kname);
    let sshd = Sshd::start(SshdOptions::default());
    let o = opts(&sshd, Auth::KeyFile(sshd.user_key_path.clone()));
    let facts = probe(&target(&sshd.target("root")), &o, &ProbeOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", sshd.log()));
    let local_json = run(Command::new("lsblk").args(["--json", "-b", "-o", lsblk::COLUMN_SETS[0]]));
    let local = lsblk::parse(&local_json).expect("local lsblk");

    // The test's own loop device: exactly as lsblk says, and as sfdisk made it.
    let find = |list: &[BlockDevice]| list.iter().find(|d| d.path == disk.dev).cloned();
    let probed_loop = find(&facts.disks).unwrap_or_else(|| panic!("{} not probed", disk.dev));
    let local_loop = find(&local).expect("local lsblk lists the loop device");
    assert_eq!(without_links(probed_loop.clone()), local_loop);
    assert_eq!(probed_loop.kind, "loop");
    assert_eq!(probed_loop.size_bytes, 64 << 20);
    // Its udev-style link names it stably (as disko.nix wants it).
    assert_eq!(
        probed_loop.stable_name(),
        format!("/dev/disk/by-id/{link_name}")
    );
    let name = disk.dev.trim_start_matches("/dev/");
    if Path::new(&format!("/sys/block/{name}/{name}p1")).exists() {
        // The kernel scanned the table: lsblk shows sfdisk's partitions.
        let parts: Vec<u64> = probed_loop.children.iter().map(|p| p.size_bytes).collect();
        assert_eq!(parts, vec![16 << 20, 32 << 20]);
        assert!(probed_loop.holds_data());
    } else {
        // Containers often attach loops without partition scanning (and
        // without udev, lsblk knows no PTTYPE): nothing more to compare.
        eprintln!(
            "note: {} has no partition devices here; compared the disk only",
            disk.dev
        );
    }
    assert!(probed_loop.is_install_candidate());

    // Every other real disk (not loops other tests may attach meanwhile).
    let disks = |list: &[BlockDevice]| -> Vec<BlockDevice> {
        list.iter()
            .filter(|d| d.kind != "loop")
            .cloned()
            .map(without_links)
            .collect()
    };
    assert_eq!(disks(&facts.disks), disks(&local));
}

/// A directory holding busybox as `applet`, to put first on the script's PATH.
fn busybox_applet(applet: &str) -> tempfile::TempDir {
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("busybox (apt-get install busybox-static)");
    let bin = tempfile::tempdir().expect("temp dir");
    std::os::unix::fs::symlink(busybox, bin.path().join(applet)).expect("symlink the applet");
    bin
}

/// Busybox's `find` has no `-printf` (rescue systems, some installers): the
/// script falls back to `readlink` per link and reads the same links.
#[test]
fn by_id_links_are_read_where_find_has_no_printf() {
    let disk = LoopDisk::new(16);
    let kname = disk.dev.trim_start_matches("/dev/").to_string();
    let link_name = format!("nixdeck-busybox-{kname}");
    let _link = ByIdLink::new(&link_name, &kname);
    let bin = busybox_applet("find");
    let gnu = run_script_locally(Path::new("/nonexistent"));
    let bb = run_script_locally(bin.path());
    let section = |out: &str| -> String {
        let from = out.find("@@nixdeck:by-id@@").expect("by-id section");
        let to = out.find("@@nixdeck:end@@").expect("end section");
        let mut lines: Vec<&str> = out[from..to]
            .lines()
            .skip(1)
            .filter(|l| !l.is_empty())
            .collect();
        lines.sort_unstable();
        lines.join("\n")
    };
    let want = format!("{link_name} ../../{kname}");
    assert!(section(&gnu).contains(&want), "{}", section(&gnu));
    assert_eq!(section(&bb), section(&gnu));
    let facts = nixdeck_core::facts::report::parse(&bb, "localhost", 0).expect("facts");
    let probed = facts
        .disks
        .iter()
        .find(|d| d.path == disk.dev)
        .expect("the loop device");
    assert_eq!(probed.stable_name(), format!("/dev/disk/by-id/{link_name}"));
}

/// The script tells a `setsid` with `--wait` (util-linux) from one without
/// (busybox's) and reads the kernel with either.
#[test]
fn setsid_wait_is_detected_with_any_setsid_and_the_kernel_read_as_uname_prints_it() {
    let bin = busybox_applet("setsid");
    let uname = run(Command::new("uname").args(["-s", "-r", "-m"]));
    let words: Vec<&str> = uname.split_whitespace().collect();
    for (path_first, wait) in [(Path::new("/nonexistent"), true), (bin.path(), false)] {
        let out = run_script_locally(path_first);
        let facts = nixdeck_core::facts::report::parse(&out, "localhost", 0).expect("facts");
        assert_eq!(facts.tools.setsid_wait, wait, "{out}");
        assert_eq!(
            [
                facts.kernel_name.as_str(),
                facts.kernel_release.as_str(),
                facts.machine.as_str()
            ],
            words[..],
        );
    }
}

#[tokio::test]
async fn cli_prints_disks_for_people_and_takes_the_password_from_the_environment() {
    let sshd = Sshd::start(SshdOptions::default());
    let user = ensure_user("nixdeck-cli", "from the env");
    let out = Command::new(env!("CARGO_BIN_EXE_nixdeck-headless"))
        .args(["probe", &sshd.target(&user), "--password-env", "ND_TEST_PW"])
        .arg("--known-hosts")
        .arg(&sshd.known_hosts_path)
        .env("ND_TEST_PW", "from the env")
        .env_remove("SSH_AUTH_SOCK")
        .output()
        .expect("run nixdeck-headless");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let local_host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert!(stdout.starts_with(local_host.trim()), "{stdout}");
    assert!(stdout.contains(&format!("as {user}")), "{stdout}");
    let local = lsblk::parse(&run(Command::new("lsblk").args([
        "--json",
        "-b",
        "-o",
        lsblk::COLUMN_SETS[0],
    ])))
    .unwrap();
    for d in local.iter().filter(|d| d.kind == "disk" && !d.is_noise()) {
        assert!(
            stdout.contains(&d.path),
            "{} missing from:\n{stdout}",
            d.path
        );
    }
    // Not root and no sudo: said on stderr, not hidden.
    assert!(
        stderr.contains("warning:") && stderr.contains("not root"),
        "{stderr}"
    );

    let out = Command::new(env!("CARGO_BIN_EXE_nixdeck-headless"))
        .args([
            "probe",
            &sshd.target(&user),
            "--password-env",
            "ND_UNSET_VAR_X",
        ])
        .env_remove("ND_UNSET_VAR_X")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("ND_UNSET_VAR_X"));
}
