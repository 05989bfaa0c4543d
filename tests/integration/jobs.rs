//! Jobs against stand-in nix/nixos-anywhere/colmena executables
//! (`tests/fixtures/standins/`): exact argument vectors, phases and per-node
//! states, exit codes, cancellation, secrets, interrupted jobs, and a million
//! lines of output.

use nixdeck_core::tools::plan::{
    DeployOptions, EnvVar, HostTarget, InstallOptions, ToolSettings, ToolSource,
};
use nixdeck_engine::jobs::{requests, JobError, JobManager, JobRequest};
use nixdeck_engine::runner::{EventSink, JobEvent, JobResult, PhaseEvent};
use nixdeck_tests::{copy_dir, fixture, group_members};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const HEADLESS: &str = env!("CARGO_BIN_EXE_nixdeck-headless");

fn standins() -> PathBuf {
    fixture("standins")
}

/// A copy of the fleet fixture, a data dir and a record file in one temp dir.
struct Scene {
    tmp: tempfile::TempDir,
}

impl Scene {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        copy_dir(&fixture("jobs/fleet"), &tmp.path().join("repo"));
        std::fs::write(tmp.path().join("repo/flake.lock"), "{}\n").unwrap();
        nixdeck_tests::give_operator_key(&tmp.path().join("home"));
        Self { tmp }
    }
    fn repo(&self) -> PathBuf {
        self.tmp.path().join("repo")
    }
    fn data(&self) -> PathBuf {
        self.tmp.path().join("data")
    }
    fn record(&self) -> PathBuf {
        self.tmp.path().join("argv.record")
    }
    /// The headless CLI with the stand-ins first on PATH.
    fn cli(&self, scenario: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new(HEADLESS);
        cmd.args(args)
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    standins().display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .env("NIXDECK_DATA_DIR", self.data())
            // The operator's key, which the fleet authorizes (no deploy here locks
            // anyone out), and the known_hosts a successful install records the new
            // system's host key in: neither is the user's.
            .env("HOME", self.tmp.path().join("home"))
            .env_remove("SSH_AUTH_SOCK")
            .env("NIXDECK_STANDIN_RECORD", self.record())
            .env("NIXDECK_STANDIN_SCENARIO", scenario)
            .env("NIXDECK_STANDIN_DELAY", "0.01")
            // The fleet's addresses are TEST-NET ones: the deploy safety net
            // would wait its full minute for each before `deploy` returns.
            .env("NIXDECK_SAFETY_LIMIT_SECS", "1")
            .stdin(Stdio::null());
        cmd
    }
    fn run(&self, scenario: &str, args: &[&str]) -> Output {
        self.cli(scenario, args).output().unwrap()
    }
    /// Every recorded invocation: program name, then its arguments.
    fn invocations(&self) -> Vec<Vec<String>> {
        nixdeck_tests::standin_invocations(&self.record())
    }
    /// An engine request for `command` with the stand-in named by its program.
    fn request(&self, kind_req: JobRequest, scenario: &str) -> JobRequest {
        let mut req = kind_req;
        req.command.program = standins()
            .join(&req.command.program)
            .to_string_lossy()
            .into_owned();
        for (name, value) in [
            ("NIXDECK_STANDIN_SCENARIO", scenario),
            ("NIXDECK_STANDIN_DELAY", "0.01"),
            ("NIXDECK_STANDIN_NODES", "web1 web2"),
        ] {
            req.command.env.push(EnvVar {
                name: name.into(),
                value: value.into(),
                secret: false,
            });
        }
        req.command.env.push(EnvVar {
            name: "NIXDECK_STANDIN_RECORD".into(),
            value: self.record().to_string_lossy().into_owned(),
            secret: false,
        });
        req.grace = Duration::from_millis(500);
        req
    }
}

impl Drop for Scene {
    /// Stand-ins a failed test left running are stopped with it.
    fn drop(&mut self) {
        for pgid in standin_groups(&self.record()) {
            // SAFETY: plain syscall; the group is one this test started.
            unsafe { libc::kill(-pgid, libc::SIGKILL) };
        }
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> serde_json::Value {
    assert!(
        o.status.success(),
        "stdout: {}\nstderr: {}",
        stdout(o),
        stderr(o)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

const PATH_TOOLS: ToolSettings = ToolSettings {
    flakes_enabled: true,
    tools_from_path: true,
    source: ToolSource::Path,
};

fn target(name: &str) -> HostTarget {
    HostTarget {
        name: name.into(),
        address: "192.0.2.11".into(),
        user: "root".into(),
        port: None,
        tags: vec![],
        build_on_target: false,
    }
}

/// Collects events; can be asked to wait for a condition.
#[derive(Default)]
struct Collect {
    events: Mutex<Vec<JobEvent>>,
}

impl EventSink for Collect {
    fn send(&self, event: &JobEvent) -> bool {
        self.events.lock().unwrap().push(event.clone());
        true
    }
}

impl Collect {
    fn phases(&self) -> Vec<PhaseEvent> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter_map(|e| match e {
                JobEvent::Phase(p) => Some(p.clone()),
                _ => None,
            })
            .collect()
    }
    async fn wait_for_phase(&self, id: &str) {
        let start = Instant::now();
        while !self.phases().iter().any(|p| p.phase == id) {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "phase {id} never came"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Process groups of stand-ins whose environment names `record`.
fn standin_groups(record: &Path) -> Vec<i32> {
    let needle = format!("NIXDECK_STANDIN_RECORD={}", record.display());
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(env) = std::fs::read(format!("/proc/{pid}/environ")) else {
            continue;
        };
        if env.split(|b| *b == 0).any(|v| v == needle.as_bytes()) {
            if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) {
                if let Some(pgid) = stat
                    .rsplit_once(')')
                    .and_then(|(_, r)| r.split_whitespace().nth(2))
                {
                    out.push(pgid.parse().unwrap());
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn all_cmdlines() -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(c) = std::fs::read(entry.path().join("cmdline")) {
            all.extend_from_slice(&c);
            all.push(b'\n');
        }
    }
    all
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

// ---------------------------------------------------------------- plans (CLI)

#[test]
fn plan_install_runs_the_nixos_anywhere_the_lock_pins() {
    let s = Scene::new();
    let repo = s.repo();
    let out = json(&s.run(
        "ok",
        &[
            "plan",
            "install",
            repo.to_str().unwrap(),
            "web1",
            "--json",
            "--flakes",
            "yes",
        ],
    ));
    assert_eq!(
        strings(&out["argv"]),
        [
            "nix",
            "run",
            "--inputs-from",
            ".",
            "nixpkgs#nixos-anywhere",
            "--",
            "--generate-hardware-config",
            "nixos-generate-config",
            "./hosts/web1/hardware-configuration.nix",
            "--flake",
            ".#web1",
            "--target-host",
            "root@192.0.2.11",
            // The new system's host key, made when the install runs (issue 14).
            "--extra-files",
            "<temporary private directory with etc/ssh/ssh_host_ed25519_key>",
        ]
    );
    assert_eq!(out["hosts"][0]["name"], "web1");
    assert!(
        s.invocations()
            .iter()
            .all(|i| i[0] == "nix" && i[1] == "show-config" || i.is_empty()),
        "nothing ran"
    );
}

#[test]
fn plan_install_with_every_option() {
    let s = Scene::new();
    let repo = s.repo();
    let out = json(&s.run(
        "ok",
        &[
            "plan",
            "install",
            repo.to_str().unwrap(),
            "web2",
            "--json",
            "--flakes",
            "no",
            "-i",
            "/keys/id_ed25519",
            "--build-on-remote",
            "--phases",
            "kexec,disko",
            "--copy-host-keys",
            "--extra-files",
            "./extra",
            "--disk-encryption-keys",
            "/tmp/a.key",
            "/local/a.key",
            "--luks-key-path",
            "/tmp/secret.key",
            "--facter",
        ],
    ));
    assert_eq!(
        strings(&out["argv"]),
        [
            "nix",
            "--extra-experimental-features",
            "nix-command flakes",
            "run",
            "--inputs-from",
            ".",
            "nixpkgs#nixos-anywhere",
            "--",
            "--generate-hardware-config",
            "nixos-facter",
            "./hosts/web2/facter.json",
            "--flake",
            ".#web2",
            "--target-host",
            "root@192.0.2.12",
            "-p",
            "2222",
            "-i",
            "/keys/id_ed25519",
            "--build-on",
            "remote",
            "--phases",
            "kexec,disko",
            "--copy-host-keys",
            "--extra-files",
            "./extra",
            "--disk-encryption-keys",
            "/tmp/a.key",
            "/local/a.key",
            "--disk-encryption-keys",
            "/tmp/secret.key",
            "<temporary 0600 file>",
        ]
    );
    // Tools from PATH, and the user from the flake (db1 logs in as admin).
    let out = json(&s.run(
        "ok",
        &[
            "plan",
            "install",
            repo.to_str().unwrap(),
            "db1",
            "--json",
            "--flakes",
            "yes",
            "--tools-from-path",
        ],
    ));
    assert_eq!(strings(&out["argv"])[0], "nixos-anywhere");
    assert!(strings(&out["argv"]).contains(&"admin@db1.example.org".to_string()));
}

#[test]
fn flakes_are_detected_from_the_local_nix() {
    let s = Scene::new();
    let repo = s.repo();
    let mut cmd = s.cli(
        "ok",
        &[
            "plan",
            "deploy",
            repo.to_str().unwrap(),
            "--on",
            "web1",
            "--json",
        ],
    );
    cmd.env("NIXDECK_STANDIN_FLAKES", "0");
    let off = json(&cmd.output().unwrap());
    assert_eq!(
        strings(&off["argv"])[1..3],
        ["--extra-experimental-features", "nix-command flakes"]
    );
    let on = json(&s.run(
        "ok",
        &[
            "plan",
            "deploy",
            repo.to_str().unwrap(),
            "--on",
            "web1",
            "--json",
        ],
    ));
    assert_eq!(
        strings(&on["argv"]),
        [
            "nix",
            "run",
            "--inputs-from",
            ".",
            "colmena#colmena",
            "--",
            "apply",
            "--on=web1"
        ]
    );
    // The article's exact command stays a choice.
    let article = json(&s.run(
        "ok",
        &[
            "plan",
            "deploy",
            repo.to_str().unwrap(),
            "--on",
            "web1",
            "--json",
            "--tools",
            "article",
        ],
    ));
    assert_eq!(
        strings(&article["argv"]),
        [
            "nix",
            "run",
            "github:zhaofengli/colmena",
            "--",
            "apply",
            "--on=web1"
        ]
    );
}

#[test]
fn plan_deploy_resolves_the_filter_against_the_fleet() {
    let s = Scene::new();
    let repo = s.repo();
    let dir = repo.to_str().unwrap();
    let selected = |filter: &str| -> Vec<String> {
        let out = json(&s.run(
            "ok",
            &[
                "plan", "deploy", dir, "--on", filter, "--json", "--flakes", "yes",
            ],
        ));
        out["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(selected("web1"), ["web1"]);
    assert_eq!(selected("web*"), ["web1", "web2"]);
    assert_eq!(selected("@prod"), ["db1", "web1"]);
    assert_eq!(selected("@stag*, db?"), ["db1", "web2"]);
    // A blank filter selects nothing: the plan says so in words, as the window's
    // preview does (one rule, in nixdeck-api), instead of printing an empty plan.
    let blank = s.run(
        "ok",
        &[
            "plan", "deploy", dir, "--on", "   ", "--json", "--flakes", "yes",
        ],
    );
    assert!(!blank.status.success());
    assert!(
        stderr(&blank).contains("selects no host"),
        "{}",
        stderr(&blank)
    );
    let out = json(&s.run(
        "ok",
        &[
            "plan",
            "deploy",
            dir,
            "--on",
            "@web",
            "--goal",
            "boot",
            "--build-on-target",
            "--reboot",
            "--parallel",
            "2",
            "--json",
            "--flakes",
            "yes",
        ],
    ));
    assert_eq!(
        strings(&out["argv"]),
        [
            "nix",
            "run",
            "--inputs-from",
            ".",
            "colmena#colmena",
            "--",
            "apply",
            "boot",
            "--on=@web",
            "--build-on-target",
            "--reboot",
            "--parallel",
            "2"
        ]
    );
    for bad in ["web1,,db1", "web1,", "web["] {
        let o = s.run(
            "ok",
            &["plan", "deploy", dir, "--on", bad, "--flakes", "yes"],
        );
        assert!(!o.status.success(), "{bad} must be refused");
        assert!(
            stderr(&o).contains(if bad == "web[" {
                "not a valid glob"
            } else {
                "empty rule"
            }),
            "{}",
            stderr(&o)
        );
    }
}

// ---------------------------------------------------------------- runs (CLI)

/// The stand-in nixos-anywhere records the SHA-256 of the `SSHPASS` it got
/// (never the password): it was `password`.
fn assert_sshpass_was(keyinfo: &str, password: &str) {
    let hashed = Command::new("sh")
        .args([
            "-c",
            &format!("printf %s '{password}' | sha256sum | cut -d' ' -f1"),
        ])
        .output()
        .unwrap();
    assert!(
        keyinfo.contains(&format!(
            "sshpass {}",
            String::from_utf8_lossy(&hashed.stdout).trim()
        )),
        "SSHPASS reached nixos-anywhere: {keyinfo}"
    );
}

#[test]
fn install_runs_nixos_anywhere_and_records_the_job() {
    let s = Scene::new();
    let repo = s.repo();
    let dir = repo.to_str().unwrap();
    let refused = s.run("ok", &["install", dir, "web1", "--flakes", "yes"]);
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("--confirm web1"));
    assert!(
        s.invocations().is_empty(),
        "nothing ran without confirmation"
    );

    // A rescue system's password, from a file (never an argument's value).
    let password = "rescue-pw-0c4e1f";
    let password_file = s.tmp.path().join("ssh-password");
    std::fs::write(&password_file, format!("{password}\n")).unwrap();
    let keyinfo = s.tmp.path().join("keyinfo");
    let out = s
        .cli(
            "ok",
            &[
                "install",
                dir,
                "web1",
                "--no-preflight",
                "--confirm",
                "web1",
                "--flakes",
                "yes",
                "--ssh-password-file",
                password_file.to_str().unwrap(),
            ],
        )
        .env("NIXDECK_STANDIN_KEYINFO", &keyinfo)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let runs = s.invocations();
    assert_eq!(runs.len(), 1);
    assert!(runs[0].iter().any(|a| a == "--env-password"), "{runs:?}");
    assert!(!runs[0].iter().any(|a| a.contains(password)), "{runs:?}");
    let info = std::fs::read_to_string(&keyinfo).unwrap();
    assert_sshpass_was(&info, password);
    // The new system's key: shown before, recorded after, in the user's known_hosts.
    let said = stderr(&out);
    assert!(
        said.contains("the new system's host key: ED25519 SHA256:"),
        "{said}"
    );
    assert!(
        said.contains("not verified: nixos-anywhere's own SSH"),
        "{said}"
    );
    let public = info
        .lines()
        .find_map(|l| l.strip_prefix("host-pub "))
        .expect("the key was given");
    let body: Vec<&str> = public.split_whitespace().take(2).collect();
    let known = std::fs::read_to_string(s.tmp.path().join("home/.ssh/known_hosts")).unwrap();
    assert_eq!(known.trim(), format!("192.0.2.11 {}", body.join(" ")));
    assert_eq!(
        runs[0][1..7],
        [
            "run",
            "--inputs-from",
            ".",
            "nixpkgs#nixos-anywhere",
            "--",
            "--generate-hardware-config"
        ]
    );
    assert!(repo.join("hosts/web1/hardware-configuration.nix").is_file());
    let text = stdout(&out);
    let disko = text
        .find("==> Formatting hard drive with disko")
        .expect("phase shown");
    assert!(text.find("==> Installing NixOS").unwrap() > disko);
    assert!(text.contains("installation finished!"));

    let jobs = json(&s.run("ok", &["jobs", "list", "--json"]));
    assert_eq!(jobs[0]["kind"], "install");
    assert_eq!(jobs[0]["result"], "succeeded");
    assert_eq!(jobs[0]["hosts"][0], "web1");
    assert_eq!(jobs[0]["exit_code"], 0);
    let id = jobs[0]["id"].as_i64().unwrap().to_string();
    let show = s.run("ok", &["jobs", "show", &id]);
    assert!(
        stdout(&show).contains("### Done! ###"),
        "the log is re-openable"
    );
}

/// Runs `cmd` with a new pseudo-terminal as its controlling terminal (stdin
/// closed), types `typed` on it once `prompt` has appeared there, and returns
/// the exit status, what the terminal showed, and stdout and stderr.
fn on_a_terminal(mut cmd: Command, prompt: &str, typed: &str) -> (bool, String, String) {
    use std::io::{Read, Write};
    use std::os::fd::{FromRawFd, OwnedFd};
    use std::os::unix::process::CommandExt;
    let (mut master_fd, mut slave_fd) = (0, 0);
    // SAFETY: openpty fills two descriptors we then own.
    let made = unsafe {
        libc::openpty(
            &mut master_fd,
            &mut slave_fd,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(made, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors are fresh and owned only here.
    let master = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(master_fd) });
    let slave = unsafe { OwnedFd::from_raw_fd(slave_fd) };
    let slave_raw = slave_fd;
    // SAFETY: sets a flag on a descriptor we own: the CLI gets no master.
    unsafe { libc::fcntl(master_fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            // The slave stays open in the CLI (it is not close-on-exec), so
            // the terminal lives as long as the CLI does.
            if libc::setsid() < 0 || libc::ioctl(slave_raw, libc::TIOCSCTTY, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the CLI");
    drop(slave);
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    let mut reader = master.try_clone().expect("dup the terminal");
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        // EIO once the last process holding the terminal has gone.
        while let Ok(n @ 1..) = reader.read(&mut buf) {
            if tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut shown = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !String::from_utf8_lossy(&shown).contains(prompt) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(bytes) => shown.extend(bytes),
            Err(_) => panic!(
                "the prompt never came; the terminal showed {:?}",
                String::from_utf8_lossy(&shown)
            ),
        }
    }
    (&master)
        .write_all(typed.as_bytes())
        .expect("type on the terminal");
    let out = child.wait_with_output().expect("the CLI ends");
    while let Ok(bytes) = rx.recv_timeout(Duration::from_millis(500)) {
        shown.extend(bytes);
    }
    (
        out.status.success(),
        String::from_utf8_lossy(&shown).into_owned(),
        format!("{}{}", stdout(&out), stderr(&out)),
    )
}

#[test]
fn a_password_typed_on_the_terminal_is_not_echoed_and_reaches_the_tool() {
    let s = Scene::new();
    let repo = s.repo();
    let dir = repo.to_str().unwrap();
    let keyinfo = s.tmp.path().join("keyinfo");
    let password = "typed-pw-5b9e02";
    let mut cmd = s.cli(
        "ok",
        &[
            "install",
            dir,
            "web1",
            "--no-preflight",
            "--confirm",
            "web1",
            "--flakes",
            "yes",
            "--ask-ssh-password",
        ],
    );
    cmd.env("NIXDECK_STANDIN_KEYINFO", &keyinfo)
        .env_remove("NIXDECK_SSH_PASSWORD");
    let (ok, shown, output) = on_a_terminal(cmd, "SSH password: ", &format!("{password}\n"));
    assert!(ok, "{output}\nterminal: {shown}");
    assert!(shown.contains("SSH password: "), "{shown}");
    assert!(!shown.contains(password), "echoed on the terminal: {shown}");
    assert!(!output.contains(password), "{output}");
    // What was typed is what nixos-anywhere got, in its environment only.
    let info = std::fs::read_to_string(&keyinfo).unwrap();
    assert_sshpass_was(&info, password);
    assert!(!s
        .invocations()
        .iter()
        .flatten()
        .any(|a| a.contains(password)));
}

#[test]
fn validate_locks_a_flake_without_lock_first() {
    let s = Scene::new();
    let repo = s.repo();
    std::fs::remove_file(repo.join("flake.lock")).unwrap();
    let out = s.run(
        "ok",
        &["validate", repo.to_str().unwrap(), "db1", "--flakes", "yes"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let runs = s.invocations();
    assert_eq!(runs[0], ["nix", "flake", "lock"]);
    assert_eq!(
        runs[1],
        [
            "nix",
            "build",
            ".#nixosConfigurations.db1.config.system.build.toplevel"
        ]
    );
    assert!(repo.join("flake.lock").is_file());
    let failed = s.run(
        "build-fail",
        &["validate", repo.to_str().unwrap(), "db1", "--flakes", "yes"],
    );
    assert_eq!(failed.status.code(), Some(1));
    assert!(
        stderr(&failed).contains("failed: exited with status 1"),
        "{}",
        stderr(&failed)
    );
}

#[test]
fn deploy_runs_colmena_on_the_selection() {
    let s = Scene::new();
    let repo = s.repo();
    let out = s.run(
        "ok",
        &[
            "deploy",
            repo.to_str().unwrap(),
            "--on",
            "@web",
            "--flakes",
            "yes",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        s.invocations()[0],
        [
            "nix",
            "run",
            "--inputs-from",
            ".",
            "colmena#colmena",
            "--",
            "apply",
            "--on=@web"
        ]
    );
    let jobs = json(&s.run("ok", &["jobs", "list", "--json"]));
    assert_eq!(strings(&jobs[0]["hosts"]), ["web1", "web2"]);
    let none = s.run(
        "ok",
        &[
            "deploy",
            repo.to_str().unwrap(),
            "--on",
            "mail*",
            "--flakes",
            "yes",
        ],
    );
    assert!(!none.status.success());
    assert!(stderr(&none).contains("selects no host"));
}

/// No lockout, from the command line: with no key of the operator's authorized,
/// `nixdeck deploy` and `nixdeck install` refuse, naming the host and what to
/// add, and nothing runs; `--allow-lockout` goes on.
#[test]
fn the_cli_refuses_to_lock_the_operator_out() {
    let s = Scene::new();
    let repo = s.repo();
    let dir = repo.to_str().unwrap();
    // The operator's HOME holds another key than the one the fleet authorizes.
    let ssh = s.tmp.path().join("home/.ssh");
    std::fs::remove_file(ssh.join("id_ed25519.pub")).unwrap();
    std::fs::write(
        ssh.join("other.pub"),
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBb9J5f0Q4ZJmYl1kN9X2pV7q8WcYt3eR6uH0sDgLmQa me@elsewhere\n",
    )
    .unwrap();
    let deploy = s.run("ok", &["deploy", dir, "--on", "db1", "--flakes", "yes"]);
    assert!(!deploy.status.success(), "{}", stdout(&deploy));
    let err = stderr(&deploy);
    assert!(err.contains("db1") && err.contains("as admin"), "{err}");
    assert!(err.contains("add your public key"), "{err}");
    assert!(err.contains("--allow-lockout"), "{err}");
    let install = s.run(
        "ok",
        &[
            "install",
            dir,
            "web1",
            "--no-preflight",
            "--confirm",
            "web1",
            "--flakes",
            "yes",
        ],
    );
    assert!(!install.status.success(), "{}", stdout(&install));
    let err = stderr(&install);
    assert!(
        err.contains("installing web1") && err.contains("as root"),
        "{err}"
    );
    assert!(s.invocations().is_empty(), "nothing may run");

    let allowed = s.run(
        "ok",
        &[
            "deploy",
            dir,
            "--on",
            "db1",
            "--flakes",
            "yes",
            "--allow-lockout",
        ],
    );
    assert!(allowed.status.success(), "{}", stderr(&allowed));
    assert_eq!(s.invocations().len(), 1);
}

#[test]
fn luks_passphrase_stays_out_of_argv_log_store_and_process_list() {
    let s = Scene::new();
    let repo = s.repo();
    let passphrase = "pass-phrase-7f3e9c1a";
    let keyinfo = s.tmp.path().join("keyinfo");
    let mut child = s
        .cli(
            "hang-disko",
            &[
                "install",
                repo.to_str().unwrap(),
                "web1",
                "--no-preflight",
                "--confirm",
                "web1",
                "--flakes",
                "yes",
                "--luks-key-path",
                "/tmp/secret.key",
                "--luks-passphrase-file",
                "-",
            ],
        )
        .env("NIXDECK_STANDIN_KEYINFO", &keyinfo)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "{passphrase}").unwrap();
    }
    // Wait until the stand-in sits in the disko step, then look everywhere.
    let start = Instant::now();
    while !std::fs::read_to_string(s.data().join("logs/1.log"))
        .unwrap_or_default()
        .contains("Creating new GPT")
    {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "install never reached disko"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        !contains(&all_cmdlines(), passphrase),
        "the passphrase is in a process's command line"
    );
    let info = std::fs::read_to_string(&keyinfo).unwrap();
    let line = info
        .lines()
        .find(|l| l.starts_with("/tmp/secret.key "))
        .unwrap_or_else(|| panic!("no key file given: {info}"));
    let mut fields = line.split_whitespace();
    assert_eq!(fields.next(), Some("/tmp/secret.key"));
    assert_eq!(fields.next(), Some("600"), "the key file is private");
    let expected = Command::new("sh")
        .args([
            "-c",
            &format!("printf %s '{passphrase}' | cksum | cut -d' ' -f1"),
        ])
        .output()
        .unwrap();
    assert_eq!(
        fields.next(),
        Some(String::from_utf8_lossy(&expected.stdout).trim()),
        "the tool got the passphrase"
    );
    let argv = s.invocations().remove(0);
    let key_file =
        PathBuf::from(&argv[argv.iter().position(|a| a == "/tmp/secret.key").unwrap() + 1]);
    assert!(key_file.exists());

    // SIGINT to the CLI cancels the job.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    assert!(
        !key_file.exists(),
        "the key file is deleted when the job ends"
    );
    for file in [s.data().join("logs/1.log"), s.data().join("jobs.sqlite3")] {
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !contains(&bytes, passphrase),
            "the passphrase is in {}",
            file.display()
        );
    }
    let wal = s.data().join("jobs.sqlite3-wal");
    if let Ok(bytes) = std::fs::read(&wal) {
        assert!(!contains(&bytes, passphrase));
    }
    let job = json(&s.run("ok", &["jobs", "show", "1", "--json"]));
    assert_eq!(job["result"], "cancelled");
    assert!(
        job["reason"].as_str().unwrap().contains("half-installed"),
        "{job}"
    );
}

#[test]
fn a_job_of_a_crashed_nixdeck_runs_on_with_its_tool_then_is_interrupted() {
    let s = Scene::new();
    let repo = s.repo();
    let mut child = s
        .cli(
            "hang-disko",
            &[
                "install",
                repo.to_str().unwrap(),
                "db1",
                "--no-preflight",
                "--confirm",
                "db1",
                "--flakes",
                "yes",
            ],
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !std::fs::read_to_string(s.data().join("logs/1.log"))
        .unwrap_or_default()
        .contains("Formatting")
    {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "install never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let running = json(&s.run("ok", &["jobs", "list", "--json"]));
    assert_eq!(
        running[0]["result"], "running",
        "a live job stays running for other readers"
    );
    // The crash: no chance to clean up.
    child.kill().unwrap();
    child.wait().unwrap();
    // The tool outlived the crash: while that process (pid and start time)
    // lives, the job is running without its nixdeck, shown with the tool's pid
    // and still holding its host.
    let groups = standin_groups(&s.record());
    assert!(!groups.is_empty(), "the stand-in outlived the crash");
    let jobs = json(&s.run("ok", &["jobs", "list", "--json"]));
    assert_eq!(jobs[0]["result"], "running", "{jobs}");
    let pid = jobs[0]["detached_pid"].as_i64().expect("the tool's pid");
    assert!(groups.contains(&(pid as i32)), "{pid} in {groups:?}");
    let again = s.run(
        "ok",
        &[
            "install",
            repo.to_str().unwrap(),
            "db1",
            "--no-preflight",
            "--confirm",
            "db1",
            "--flakes",
            "yes",
        ],
    );
    assert!(!again.status.success());
    assert!(stderr(&again).contains("busy"), "{}", stderr(&again));
    // Once the tool has ended, how the job ended is unknown: interrupted.
    for pgid in groups {
        // SAFETY: plain syscall; the group is the stand-in this test started.
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
    }
    let start = Instant::now();
    loop {
        let jobs = json(&s.run("ok", &["jobs", "list", "--json"]));
        if jobs[0]["result"] == "interrupted" {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "{jobs}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

// ---------------------------------------------------------------- engine

#[tokio::test]
async fn install_steps_become_phases_in_order() {
    let s = Scene::new();
    let manager = JobManager::open(&s.data()).unwrap();
    let req = requests::install_request(
        &PATH_TOOLS,
        &s.repo(),
        &target("web1"),
        &InstallOptions::default(),
        None,
    )
    .unwrap();
    let sink = Arc::new(Collect::default());
    let id = manager
        .start(s.request(req, "ok"), Some(sink.clone()))
        .unwrap();
    let outcome = manager.wait(id).await.unwrap();
    assert_eq!(outcome.result, JobResult::Succeeded);
    let ids: Vec<String> = sink.phases().into_iter().map(|p| p.phase).collect();
    assert_eq!(
        ids,
        [
            "upload_ssh_keys",
            "facts",
            "kexec",
            "facts",
            "hardware_config",
            "disko",
            "closure",
            "install",
            "reboot",
            "wait_for_reboot",
            "done"
        ]
    );
    let phases = sink.phases();
    assert!(phases
        .windows(2)
        .all(|w| w[0].at_ms <= w[1].at_ms && w[0].seq < w[1].seq));
}

#[tokio::test]
async fn an_abort_is_the_failure_reason() {
    let s = Scene::new();
    let manager = JobManager::open(&s.data()).unwrap();
    let req = requests::install_request(
        &PATH_TOOLS,
        &s.repo(),
        &target("web1"),
        &InstallOptions::default(),
        None,
    )
    .unwrap();
    let id = manager.start(s.request(req, "abort-facts"), None).unwrap();
    let outcome = manager.wait(id).await.unwrap();
    assert_eq!(outcome.result, JobResult::Failed);
    assert_eq!(outcome.exit_code, Some(1));
    assert!(outcome.reason.unwrap().starts_with(
        "nixos-anywhere aborted: Unable to find a command to use to escalate privileges"
    ));
    assert_eq!(manager.get(id).unwrap().result, JobResult::Failed);
}

fn fleet() -> Vec<HostTarget> {
    ["web1", "web2"]
        .iter()
        .map(|n| HostTarget {
            tags: vec!["web".into()],
            ..target(n)
        })
        .collect()
}

#[tokio::test]
async fn colmena_lines_become_node_states_and_results() {
    let s = Scene::new();
    let manager = JobManager::open(&s.data()).unwrap();
    let options = DeployOptions {
        on: Some("@web".into()),
        ..Default::default()
    };

    let sink = Arc::new(Collect::default());
    let req = requests::deploy_request(&PATH_TOOLS, &s.repo(), &fleet(), &options).unwrap();
    let id = manager
        .start(s.request(req, "ok"), Some(sink.clone()))
        .unwrap();
    assert_eq!(manager.wait(id).await.unwrap().result, JobResult::Succeeded);
    let web2: Vec<String> = sink
        .phases()
        .into_iter()
        .filter(|p| p.node.as_deref() == Some("web2"))
        .map(|p| p.phase)
        .collect();
    assert_eq!(web2.first().map(String::as_str), Some("evaluating"));
    assert_eq!(web2.last().map(String::as_str), Some("succeeded"));
    assert!(
        web2.contains(&"building".to_string()) && web2.contains(&"activating".to_string()),
        "{web2:?}"
    );

    let sink = Arc::new(Collect::default());
    let req = requests::deploy_request(&PATH_TOOLS, &s.repo(), &fleet(), &options).unwrap();
    let id = manager
        .start(s.request(req, "node-fail"), Some(sink.clone()))
        .unwrap();
    let outcome = manager.wait(id).await.unwrap();
    assert_eq!(
        (outcome.result, outcome.exit_code),
        (JobResult::Failed, Some(1))
    );
    assert!(
        outcome
            .reason
            .as_deref()
            .unwrap()
            .starts_with("colmena failed on web1"),
        "{outcome:?}"
    );
    let last = |node: &str| {
        sink.phases()
            .into_iter()
            .rev()
            .find(|p| p.node.as_deref() == Some(node))
            .unwrap()
    };
    assert_eq!(last("web1").phase, "failed");
    assert_eq!(last("web2").phase, "succeeded");

    let req = requests::deploy_request(&PATH_TOOLS, &s.repo(), &fleet(), &options).unwrap();
    let id = manager.start(s.request(req, "panic"), None).unwrap();
    let outcome = manager.wait(id).await.unwrap();
    assert_eq!(
        (outcome.result, outcome.exit_code),
        (JobResult::Failed, Some(101))
    );
    assert!(outcome.reason.unwrap().starts_with("colmena panicked"));
}

#[tokio::test]
async fn cancel_during_disko_stops_the_group_and_warns() {
    let s = Scene::new();
    let manager = JobManager::open(&s.data()).unwrap();
    let req = requests::install_request(
        &PATH_TOOLS,
        &s.repo(),
        &target("web1"),
        &InstallOptions::default(),
        None,
    )
    .unwrap();
    let sink = Arc::new(Collect::default());
    // The stand-in ignores SIGTERM here, so SIGKILL after the grace period must follow.
    let id = manager
        .start(s.request(req, "ignore-term"), Some(sink.clone()))
        .unwrap();
    sink.wait_for_phase("disko").await;
    let pgid = manager.process_group(id).unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        group_members(pgid).len() >= 2,
        "the tool and its helper run"
    );

    // One install per host: a deploy to the same host must wait.
    let deploy = requests::deploy_request(
        &PATH_TOOLS,
        &s.repo(),
        &[target("web1")],
        &DeployOptions::default(),
    )
    .unwrap();
    assert!(matches!(
        manager.start(deploy, None),
        Err(JobError::HostBusy { .. })
    ));

    manager.cancel(id).unwrap();
    let outcome = manager.wait(id).await.unwrap();
    assert_eq!(outcome.result, JobResult::Cancelled);
    assert!(outcome.reason.unwrap().contains("half-installed"));
    let start = Instant::now();
    while !group_members(pgid).is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "processes left: {:?}",
            group_members(pgid)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(manager.get(id).unwrap().result, JobResult::Cancelled);
}

/// Checks order and completeness as lines arrive, without keeping them.
struct Sequence {
    state: Mutex<(u64, bool)>,
}

impl EventSink for Sequence {
    fn send(&self, event: &JobEvent) -> bool {
        if let JobEvent::Lines {
            first_seq, lines, ..
        } = event
        {
            let mut st = self.state.lock().unwrap();
            for (i, line) in lines.iter().enumerate() {
                let seq = first_seq + i as u64;
                let ok = seq == st.0 && line.split(' ').next() == Some(&(seq + 1).to_string());
                st.1 &= ok;
                st.0 += 1;
            }
        }
        true
    }
}

#[tokio::test]
async fn a_million_lines_arrive_complete_and_in_order() {
    let s = Scene::new();
    let manager = JobManager::open(&s.data()).unwrap();
    let req = requests::validate_request(
        &ToolSettings {
            flakes_enabled: true,
            ..ToolSettings::default()
        },
        &s.repo(),
        "web1",
    )
    .unwrap();
    let sink = Arc::new(Sequence {
        state: Mutex::new((0, true)),
    });
    let id = manager
        .start(s.request(req, "flood"), Some(sink.clone()))
        .unwrap();
    let outcome = manager.wait(id).await.unwrap();
    assert_eq!(outcome.result, JobResult::Succeeded);
    assert_eq!(outcome.lines, 1_000_000);
    let (count, in_order) = *sink.state.lock().unwrap();
    assert_eq!(count, 1_000_000);
    assert!(in_order, "lines came out of order or changed");
    let log = std::fs::read(manager.get(id).unwrap().log_path).unwrap();
    assert_eq!(log.iter().filter(|b| **b == b'\n').count(), 1_000_000);

    // A late watcher replays from any line.
    let late = Arc::new(Collect::default());
    manager.attach(id, 999_998, late.clone()).unwrap();
    let events = late.events.lock().unwrap();
    let lines: Vec<&String> = events
        .iter()
        .flat_map(|e| match e {
            JobEvent::Lines { lines, .. } => lines.iter().collect(),
            _ => vec![],
        })
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[1].starts_with("1000000 "));
    assert!(matches!(events.last(), Some(JobEvent::Finished { .. })));
    drop(events);

    // A window pages the same log by number and searches it, whatever its length.
    let page = manager.log_lines(id, 499_999, 3).unwrap();
    assert_eq!(page.total_lines, 1_000_000);
    assert_eq!(page.first_seq, 499_999);
    let heads: Vec<&str> = page
        .lines
        .iter()
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    assert_eq!(heads, ["500000", "500001", "500002"]);
    assert_eq!(
        manager
            .log_search(id, "999999 building", 0, false, false)
            .unwrap(),
        Some(999_998)
    );
    assert_eq!(
        manager
            .log_search(id, "1 BUILDING", 999_999, true, true)
            .unwrap(),
        Some(999_990)
    );
}

#[test]
fn a_lock_without_colmena_deploys_the_colmena_of_its_pinned_nixpkgs() {
    let s = Scene::new();
    let repo = s.repo();
    std::fs::copy(fixture("locks/no-colmena.lock"), repo.join("flake.lock")).unwrap();
    let out = s.run(
        "ok",
        &[
            "deploy",
            repo.to_str().unwrap(),
            "--on",
            "web1",
            "--flakes",
            "yes",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        s.invocations()[0][..6],
        ["nix", "run", "--inputs-from", ".", "nixpkgs#colmena", "--"]
    );
    assert!(stdout(&out).contains("All done!"), "{}", stdout(&out));
}

#[test]
fn doctor_names_the_pinned_tool_versions_of_a_repository() {
    let s = Scene::new();
    let repo = s.repo();
    std::fs::copy(fixture("locks/article.lock"), repo.join("flake.lock")).unwrap();
    // The stand-in nix has no --version, so the doctor reports nix missing and
    // exits 1; the report is complete all the same.
    let out = s.run(
        "ok",
        &["doctor", "--repo", repo.to_str().unwrap(), "--json"],
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", stdout(&out), stderr(&out)));
    let check = |id: &str| {
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("no {id} check in {report}"))
            .clone()
    };
    let anywhere = check("nixos_anywhere");
    assert_eq!(anywhere["status"], "ok");
    assert_eq!(
        anywhere["detail"],
        "nixos-anywhere from nixpkgs 2025-05-28 (3f0a8ac)"
    );
    let colmena = check("colmena");
    assert_eq!(colmena["status"], "warning");
    assert_eq!(
        colmena["detail"],
        "colmena from zhaofengli/colmena 2025-04-02 (47b6414)"
    );
    // Without --repo the doctor says nothing about tools.
    let plain: serde_json::Value =
        serde_json::from_slice(&s.run("ok", &["doctor", "--json"]).stdout).unwrap();
    assert!(plain["checks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["id"] != "colmena"));
}

#[test]
fn standins_refuse_unexpected_arguments() {
    // The stand-ins are only useful if they catch wrong command lines.
    let run = |args: &[&str]| {
        Command::new(standins().join("nix"))
            .args(args)
            .output()
            .unwrap()
    };
    assert_eq!(
        run(&[
            "run",
            "nixpkgs#nixos-anywhere",
            "--",
            "--flake",
            ".#a",
            "--target-host",
            "root@h",
            "--bogus"
        ])
        .status
        .code(),
        Some(2)
    );
    assert_eq!(
        run(&[
            "run",
            "github:zhaofengli/colmena",
            "--",
            "apply",
            "--on",
            "a",
            "--parallel",
            "x"
        ])
        .status
        .code(),
        Some(2)
    );
    assert_eq!(
        run(&["--extra-experimental-features", "flakes", "flake", "lock"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(run(&["build", ".#a"]).status.code(), Some(2));
    // The pinned form: `--inputs-from` a flake, then one of the tools' installables.
    let fleet = fixture("jobs/fleet");
    let fleet = fleet.to_str().unwrap();
    assert_eq!(
        run(&["run", "--inputs-from", fleet, "colmena#colmena", "apply"])
            .status
            .code(),
        Some(2),
        "no -- before colmena's arguments"
    );
    assert_eq!(
        run(&[
            "run",
            "--inputs-from",
            fleet,
            "colmena#latest",
            "--",
            "apply"
        ])
        .status
        .code(),
        Some(2)
    );
    assert_eq!(
        run(&["run", "nixpkgs#colmena", "--", "apply"])
            .status
            .code(),
        Some(2),
        "nixdeck never runs an unpinned nixpkgs colmena"
    );
    let not_a_flake = tempfile::tempdir().unwrap();
    let out = run(&[
        "run",
        "--inputs-from",
        not_a_flake.path().to_str().unwrap(),
        "nixpkgs#nixos-anywhere",
        "--",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("is not a flake"));
}

#[tokio::test]
async fn a_quiet_step_is_reported_by_the_watchdog() {
    use nixdeck_core::tools::watchdog::{AlertKind, WatchdogConfig};
    use nixdeck_engine::runner::progress::InstallProgress;
    use nixdeck_engine::runner::{Run, RunSpec};
    let s = Scene::new();
    let req = s.request(
        requests::install_request(
            &PATH_TOOLS,
            &s.repo(),
            &target("web1"),
            &InstallOptions::default(),
            None,
        )
        .unwrap(),
        "hang-disko",
    );
    let mut spec = RunSpec::new(&req.command, &s.repo(), &s.tmp.path().join("watch.log"));
    spec.grace = Duration::from_millis(300);
    let observer =
        InstallProgress::with_watchdog(WatchdogConfig::uniform(Duration::from_millis(600)));
    let sink = Arc::new(Collect::default());
    let run = Run::start(spec, Box::new(observer), Some(sink.clone())).unwrap();
    let start = Instant::now();
    let alert = loop {
        let found = sink.events.lock().unwrap().iter().find_map(|e| match e {
            JobEvent::Stalled { alert: Some(a), .. } => Some(a.clone()),
            _ => None,
        });
        if let Some(alert) = found {
            break alert;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no watchdog alert"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(alert.step, "Formatting hard drive with disko");
    assert!(matches!(alert.kind, AlertKind::Silent { .. }), "{alert:?}");
    run.cancel();
    assert_eq!(run.wait().await.result, JobResult::Cancelled);
}
