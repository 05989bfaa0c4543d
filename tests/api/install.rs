use crate::{invocations, new_host, standins, Scene};
use nixdeck_api::install::InstallRequest;
use nixdeck_api::probe::{AuthChoice, ProbeOutcome, ProbeRequest};
use nixdeck_api::ErrorCode;
use nixdeck_core::disko::templates::instantiate;
use nixdeck_core::facts::BootMode;
use nixdeck_core::repo::access::Access;
use nixdeck_core::tools::plan::InstallOptions;
use nixdeck_engine::runner::JobResult;
use nixdeck_engine::ssh::Secret;
use nixdeck_tests::loopdisk::LoopDisk;
use nixdeck_tests::sshd::{Sshd, SshdOptions};
use std::path::Path;
use std::process::Command;

/// A repository with host `web` reached at `sshd`, its layout on `disk`, and the
/// facts a probe read (as the wizard records them).
pub(crate) async fn installable(scene: &Scene, sshd: &Sshd, disk: &LoopDisk) -> std::path::PathBuf {
    installable_with(scene, sshd, disk, |_| {}).await
}

/// [`installable`] with the host changed by `edit` before it is written.
async fn installable_with(
    scene: &Scene,
    sshd: &Sshd,
    disk: &LoopDisk,
    edit: impl FnOnce(&mut nixdeck_api::hosts::NewHost),
) -> std::path::PathBuf {
    let root = scene.repo().await;
    let mut host = new_host(&root, "web", Some(sshd), &disk.dev);
    edit(&mut host);
    scene
        .api
        .write_new_host(&host, &[])
        .await
        .expect("write host");
    // The wizard's probe, with the key file the install will use.
    let probed = scene
        .api
        .probe_host(ProbeRequest {
            repo: root.to_string_lossy().into_owned(),
            host: "web".into(),
            address: "127.0.0.1".into(),
            user: "root".into(),
            port: sshd.port,
            auth: AuthChoice::KeyFile {
                path: sshd.user_key_path.to_string_lossy().into_owned(),
            },
            trust_fingerprint: None,
        })
        .await
        .unwrap_or_else(|e| panic!("probe: {e:?}\n{}", sshd.log()));
    assert!(matches!(probed, ProbeOutcome::Facts { .. }), "{probed:?}");
    root
}

pub(crate) fn request(root: &Path, sshd: &Sshd) -> InstallRequest {
    InstallRequest {
        repo: root.to_path_buf(),
        host: "web".into(),
        options: InstallOptions {
            identity_file: Some(sshd.user_key_path.to_string_lossy().into_owned()),
            ..InstallOptions::default()
        },
        ..InstallRequest::default()
    }
}

/// The one gate: the typed name, the checks, the lock, then nixos-anywhere with
/// the key the probe used; afterwards the hardware configuration is in the repo.
#[tokio::test]
async fn the_gate_checks_then_locks_then_runs_nixos_anywhere() {
    let disk = LoopDisk::new(64);
    let sshd = Sshd::start(SshdOptions::default());
    let scene = Scene::trusting(&sshd);
    let root = installable(&scene, &sshd, &disk).await;
    let record = scene.path("argv.record");
    let _env = standins(&record, "ok").await;

    let err = scene
        .api
        .start_install(&request(&root, &sshd), "wbe", &[], false, None)
        .await
        .expect_err("a mistyped name");
    assert_eq!(err.code, ErrorCode::Validation);
    assert!(err.message.contains("ERASES"), "{}", err.message);
    assert!(invocations(&record).is_empty(), "nothing may run");

    let check = scene
        .api
        .install_check(&request(&root, &sshd), true)
        .await
        .expect("checks");
    assert_eq!(check.confirmed.len(), 1);
    assert!(check.changes.is_empty());
    // This machine may draw warnings (a container, say): acknowledge exactly those.
    let warnings: Vec<String> = check
        .preflight
        .findings
        .iter()
        .map(|f| f.rule.id().to_string())
        .collect();

    let started = scene
        .api
        .start_install(&request(&root, &sshd), "web", &warnings, false, None)
        .await
        .unwrap_or_else(|e| panic!("start: {e:?}"));
    let id = nixdeck_api::jobs::parse_job_id(&started.job_id).unwrap();
    let outcome = scene.api.wait_job(id).await.expect("wait");
    assert_eq!(outcome.result, JobResult::Succeeded, "{outcome:?}");

    let runs = invocations(&record);
    let programs: Vec<&str> = runs.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(programs, ["nix", "nix"], "{runs:?}");
    assert_eq!(runs[0][1..], ["flake", "lock"], "the flake is locked first");
    let install = &runs[1];
    assert!(install
        .iter()
        .any(|a| a == "nixos-anywhere" || a.contains("nixos-anywhere")));
    let at = install.iter().position(|a| a == "-i").expect("-i");
    assert_eq!(install[at + 1], sshd.user_key_path.to_string_lossy());
    assert!(install.iter().any(|a| a == "root@127.0.0.1"), "{install:?}");
    assert!(root.join("hosts/web/hardware-configuration.nix").is_file());
    let jobs = scene.api.list_jobs(Some("web")).expect("jobs");
    assert_eq!(jobs.len(), 1, "the lock job touches no host");
}

/// A disk swapped after the review stops the install with both identities, and
/// nothing runs.
#[tokio::test]
async fn a_swapped_disk_stops_the_install_before_anything_runs() {
    let mut disk = LoopDisk::new(64);
    let sshd = Sshd::start(SshdOptions::default());
    let scene = Scene::trusting(&sshd);
    let root = installable(&scene, &sshd, &disk).await;
    let record = scene.path("argv.record");
    let _env = standins(&record, "ok").await;
    disk.replace(96);
    let err = scene
        .api
        .start_install(&request(&root, &sshd), "web", &[], false, None)
        .await
        .expect_err("the disk changed");
    assert_eq!(err.code, ErrorCode::Conflict, "{err:?}");
    assert!(
        err.message.contains("not the ones confirmed"),
        "{}",
        err.message
    );
    assert!(err.hint.is_some());
    assert!(invocations(&record).is_empty(), "nothing may run");
}

#[tokio::test]
async fn an_unknown_rule_id_is_refused_in_words() {
    let err = nixdeck_api::install::parse_rules(&["memory_lowish".into()]).expect_err("bad id");
    assert_eq!(err.code, ErrorCode::Validation);
    assert!(err.message.contains("memory_lowish"));
}

/// The window's install needs disks a person confirmed: without a recorded probe
/// it refuses before connecting anywhere, and nothing runs.
#[tokio::test]
async fn without_confirmed_disks_the_install_asks_for_a_probe_first() {
    let scene = Scene::new();
    let root = scene.repo().await;
    let host = new_host(&root, "web", None, "/dev/disk/by-id/virtio-web");
    scene
        .api
        .write_new_host(&host, &[])
        .await
        .expect("write host");
    let record = scene.path("argv.record");
    let _env = standins(&record, "ok").await;
    let request = InstallRequest {
        repo: root.clone(),
        host: "web".into(),
        ..InstallRequest::default()
    };
    let err = scene
        .api
        .start_install(&request, "web", &[], false, None)
        .await
        .expect_err("no facts");
    assert_eq!(err.code, ErrorCode::Validation);
    assert!(err.message.contains("no probed facts"), "{}", err.message);
    assert!(err.hint.as_deref().unwrap_or("").contains("Re-probe"));
    assert!(invocations(&record).is_empty(), "nothing may run");
}

/// What the stand-in wrote to `NIXDECK_STANDIN_KEYINFO` (never a secret itself).
fn keyinfo(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// The value after `tag ` on the first line that has it.
fn field<'a>(lines: &'a [String], tag: &str) -> Option<&'a str> {
    lines
        .iter()
        .find_map(|l| l.strip_prefix(&format!("{tag} ")))
}

/// The warnings this machine draws (a container, say), to acknowledge exactly those.
async fn warnings(scene: &Scene, request: &InstallRequest) -> Vec<String> {
    scene
        .api
        .install_check(request, false)
        .await
        .expect("checks")
        .preflight
        .findings
        .iter()
        .map(|f| f.rule.id().to_string())
        .collect()
}

/// No lockout: a host whose configuration authorizes none of the operator's keys
/// is refused with the host, the user and the fix named, before anything runs;
/// the review says so; `allow_lockout` (the window's tick, `--allow-lockout`)
/// lets a person who knows better go on.
#[tokio::test]
async fn an_install_that_would_lock_the_operator_out_is_refused_with_the_fix() {
    let disk = LoopDisk::new(64);
    let sshd = Sshd::start(SshdOptions::default());
    let scene = Scene::trusting(&sshd);
    let root = installable_with(&scene, &sshd, &disk, |h| h.config.authorized_keys.clear()).await;
    let record = scene.path("argv.record");
    let _env = standins(&record, "ok").await;

    let check = scene
        .api
        .install_check(&request(&root, &sshd), false)
        .await
        .expect("checks");
    assert!(
        matches!(check.login, Access::Locked { .. }),
        "{:?}",
        check.login
    );
    let warnings = warnings(&scene, &request(&root, &sshd)).await;
    let err = scene
        .api
        .start_install(&request(&root, &sshd), "web", &warnings, false, None)
        .await
        .expect_err("locked out");
    assert_eq!(err.code, ErrorCode::Lockout, "{err:?}");
    assert!(
        err.message.contains("web") && err.message.contains("as root"),
        "{}",
        err.message
    );
    let hint = err.hint.clone().unwrap_or_default();
    assert!(
        hint.contains(
            "users.users.root.openssh.authorizedKeys.keys in hosts/web/configuration.nix"
        ),
        "{hint}"
    );
    assert!(hint.contains("--allow-lockout"), "{hint}");
    assert!(invocations(&record).is_empty(), "nothing may run");

    let mut knowing = request(&root, &sshd);
    knowing.allow_lockout = true;
    let started = scene
        .api
        .start_install(&knowing, "web", &warnings, false, None)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let id = nixdeck_api::jobs::parse_job_id(&started.job_id).unwrap();
    let outcome = scene.api.wait_job(id).await.expect("wait");
    assert_eq!(outcome.result, JobResult::Succeeded, "{outcome:?}");
}

/// What gets erased is every disk of the host's configuration: a second disk
/// defined in `modules/extra-disk.nix` (imported by the host) is on the review
/// with its file, and the last-moment re-check covers it: swapping that disk
/// refuses the install before anything runs.
#[tokio::test]
async fn a_disk_defined_in_another_module_is_reviewed_and_rechecked() {
    let disk = LoopDisk::new(64);
    let mut extra = LoopDisk::new(48);
    let sshd = Sshd::start(SshdOptions::default());
    let scene = Scene::trusting(&sshd);
    let root = installable(&scene, &sshd, &disk).await;
    std::fs::create_dir_all(root.join("modules")).unwrap();
    std::fs::write(
        root.join("modules/extra-disk.nix"),
        format!(
            r#"{{ lib, ... }}:
{{
  disko.devices.disk.data = {{
    type = "disk";
    device = "{}";
    content = {{
      type = "gpt";
      partitions.data = {{
        size = "100%";
        content = {{ type = "filesystem"; format = "ext4"; mountpoint = "/data"; }};
      }};
    }};
  }};
}}
"#,
            extra.dev
        ),
    )
    .unwrap();
    let config = root.join("hosts/web/configuration.nix");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains("./disko.nix"), "{text}");
    std::fs::write(
        &config,
        text.replacen("./disko.nix", "./disko.nix ../../modules/extra-disk.nix", 1),
    )
    .unwrap();
    let record = scene.path("argv.record");
    let _env = standins(&record, "ok").await;

    let check = scene
        .api
        .install_check(&request(&root, &sshd), true)
        .await
        .expect("checks");
    let files: Vec<(&str, &[String])> = check
        .disk_sources
        .iter()
        .map(|s| (s.file.as_str(), s.disks.as_slice()))
        .collect();
    assert_eq!(
        files,
        [
            ("hosts/web/disko.nix", std::slice::from_ref(&disk.dev)),
            ("modules/extra-disk.nix", std::slice::from_ref(&extra.dev)),
        ],
        "{:?}",
        check.disk_sources
    );
    let confirmed: Vec<&str> = check.confirmed.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(confirmed, [disk.dev.as_str(), extra.dev.as_str()]);
    assert!(check.changes.is_empty(), "{:?}", check.changes);

    let warnings = warnings(&scene, &request(&root, &sshd)).await;
    extra.replace(96);
    let err = scene
        .api
        .start_install(&request(&root, &sshd), "web", &warnings, false, None)
        .await
        .expect_err("the extra disk changed");
    assert_eq!(err.code, ErrorCode::Conflict, "{err:?}");
    assert!(err.message.contains(&extra.dev), "{}", err.message);
    assert!(invocations(&record).is_empty(), "nothing may run");
}

/// A file that defines disk devices but cannot be evaluated on its own (it
/// needs nixpkgs) is listed on the review, which says the configuration could
/// not be evaluated here.
#[tokio::test]
async fn a_disk_file_that_cannot_be_evaluated_here_is_named_on_the_review() {
    let disk = LoopDisk::new(64);
    let sshd = Sshd::start(SshdOptions::default());
    let scene = Scene::trusting(&sshd);
    let root = installable(&scene, &sshd, &disk).await;
    std::fs::create_dir_all(root.join("modules")).unwrap();
    std::fs::write(
        root.join("modules/pool.nix"),
        "{ pkgs, ... }:\n{\n  disko.devices.disk.pool = import (pkgs.path + \"/pool.nix\");\n}\n",
    )
    .unwrap();
    let config = root.join("hosts/web/configuration.nix");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replacen("./disko.nix", "./disko.nix ../../modules/pool.nix", 1),
    )
    .unwrap();
    let check = scene
        .api
        .install_check(&request(&root, &sshd), false)
        .await
        .expect("checks");
    let pool = check
        .disk_sources
        .iter()
        .find(|s| s.file == "modules/pool.nix")
        .unwrap_or_else(|| panic!("{:?}", check.disk_sources));
    assert!(pool.error.is_some(), "{pool:?}");
    assert!(
        check
            .notes
            .iter()
            .any(|n| n.contains("could not be evaluated here") && n.contains("modules/pool.nix")),
        "{:?}",
        check.notes
    );
}

/// Whether any file under `dir` holds `needle` (the job store, logs, settings).
fn anywhere_under(dir: &Path, needle: &[u8]) -> Option<std::path::PathBuf> {
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if let Some(found) = anywhere_under(&path, needle) {
                return Some(found);
            }
        } else if let Ok(bytes) = std::fs::read(&path) {
            if bytes.windows(needle.len()).any(|w| w == needle) {
                return Some(path);
            }
        }
    }
    None
}

/// Issue 14, item 2: the installed system gets a host key made here, given
/// with `--extra-files` from a private directory (0600 key) that is gone
/// afterwards; the review shows it before the install and, once the install
/// succeeded, known_hosts holds that key alone for the host.
#[tokio::test]
async fn the_new_system_gets_a_host_key_known_before_its_first_boot() {
    let disk = LoopDisk::new(64);
    let sshd = Sshd::start(SshdOptions::default());
    let scene = Scene::trusting(&sshd);
    let root = installable(&scene, &sshd, &disk).await;
    let record = scene.path("argv.record");
    let info = scene.path("keyinfo");
    let _env = standins(&record, "ok").await;
    std::env::set_var("NIXDECK_STANDIN_KEYINFO", &info);

    let req = request(&root, &sshd);
    let check = scene.api.install_check(&req, false).await.expect("checks");
    let planned = check.trust.host_key.clone().expect("a host key is planned");
    assert!(
        planned.public.starts_with("ssh-ed25519 "),
        "{}",
        planned.public
    );
    assert!(
        check.argv.iter().any(|a| a == "--extra-files"),
        "{:?}",
        check.argv
    );
    assert!(
        check
            .trust
            .not_verified
            .iter()
            .any(|l| l.contains("StrictHostKeyChecking=no")),
        "the review says what is not checked: {:?}",
        check.trust.not_verified
    );
    assert!(check
        .trust
        .verified
        .iter()
        .any(|l| l.contains(&planned.fingerprint)));
    let acks = warnings(&scene, &req).await;

    let started = scene
        .api
        .start_install(&req, "web", &acks, false, None)
        .await
        .unwrap_or_else(|e| panic!("start: {e:?}"));
    let id = nixdeck_api::jobs::parse_job_id(&started.job_id).unwrap();
    let outcome = scene.api.wait_job(id).await.expect("wait");
    std::env::remove_var("NIXDECK_STANDIN_KEYINFO");
    assert_eq!(outcome.result, JobResult::Succeeded, "{outcome:?}");

    let lines = keyinfo(&info);
    assert!(
        lines.contains(&"extra-file etc/ssh/ssh_host_ed25519_key 600".to_string()),
        "the private key is 0600 when nixos-anywhere reads it: {lines:?}"
    );
    let dir = field(&lines, "extra-dir").expect("--extra-files was given");
    assert!(!Path::new(dir).exists(), "the private directory is gone");
    let installed = field(&lines, "host-pub").expect("a public key");
    assert_eq!(
        installed, planned.public,
        "the key reviewed is the key installed"
    );
    let install = invocations(&record).pop().unwrap();
    assert!(install.iter().any(|a| a == dir), "{install:?}");

    let known = std::fs::read_to_string(&sshd.known_hosts_path).unwrap();
    let name = format!("[127.0.0.1]:{}", sshd.port);
    let body: Vec<&str> = installed.split_whitespace().take(2).collect();
    let entries: Vec<&str> = known.lines().filter(|l| l.starts_with(&name)).collect();
    assert_eq!(entries, [format!("{name} {}", body.join(" "))], "{known}");
    let reason = outcome.reason.unwrap_or_default();
    assert!(reason.contains(&planned.fingerprint), "{reason}");
    let record = scene.api.list_jobs(Some("web")).expect("jobs");
    assert_eq!(record[0].reason.as_deref(), Some(reason.as_str()));
}

/// Issue 14, item 3: an SSH password reaches nixos-anywhere as SSHPASS with
/// `--env-password`, and nowhere else: not its arguments, not the job store,
/// not the log.
#[tokio::test]
async fn an_ssh_password_goes_to_the_tool_environment_and_nowhere_else() {
    let disk = LoopDisk::new(64);
    let sshd = Sshd::start(SshdOptions::default());
    let scene = Scene::trusting(&sshd);
    let root = installable(&scene, &sshd, &disk).await;
    let record = scene.path("argv.record");
    let info = scene.path("keyinfo");
    let _env = standins(&record, "ok").await;
    std::env::set_var("NIXDECK_STANDIN_KEYINFO", &info);
    let password = "rescue-pw-5b1d9e77";

    let mut req = request(&root, &sshd);
    let acks = warnings(&scene, &req).await;
    req.secrets.ssh_password = Some(Secret::new(""));
    let err = scene
        .api
        .start_install(&req, "web", &acks, false, None)
        .await
        .expect_err("an empty password");
    assert_eq!(err.code, ErrorCode::Validation);
    req.secrets.ssh_password = Some(Secret::new(password));
    assert!(!format!("{req:?}").contains(password), "Debug hides it");
    let started = scene
        .api
        .start_install(&req, "web", &acks, false, None)
        .await
        .unwrap_or_else(|e| panic!("start: {e:?}"));
    let id = nixdeck_api::jobs::parse_job_id(&started.job_id).unwrap();
    let outcome = scene.api.wait_job(id).await.expect("wait");
    std::env::remove_var("NIXDECK_STANDIN_KEYINFO");
    assert_eq!(outcome.result, JobResult::Succeeded, "{outcome:?}");

    let expected = Command::new("sh")
        .args([
            "-c",
            &format!("printf %s '{password}' | sha256sum | cut -d' ' -f1"),
        ])
        .output()
        .unwrap();
    let lines = keyinfo(&info);
    assert_eq!(
        field(&lines, "sshpass"),
        Some(String::from_utf8_lossy(&expected.stdout).trim()),
        "SSHPASS reached nixos-anywhere: {lines:?}"
    );
    let install = invocations(&record).pop().unwrap();
    assert!(install.iter().any(|a| a == "--env-password"), "{install:?}");
    assert!(!install.iter().any(|a| a.contains(password)), "{install:?}");
    assert_eq!(
        anywhere_under(&scene.path("data"), password.as_bytes()),
        None,
        "the password is in nixdeck's data directory"
    );
    let job = scene.api.list_jobs(Some("web")).expect("jobs").remove(0);
    assert!(!job.argv.iter().any(|a| a.contains(password)));
}

/// A host `web` on `disk` with the LUKS template (passwordFile = /tmp/secret.key).
async fn installable_luks(
    scene: &Scene,
    sshd: &Sshd,
    disk: &LoopDisk,
    luks: Option<serde_json::Value>,
) -> std::path::PathBuf {
    let root = installable(scene, sshd, disk).await;
    let mut host = new_host(&root, "web", Some(sshd), &disk.dev);
    let layout = instantiate(
        "luks-btrfs",
        std::slice::from_ref(&disk.dev),
        BootMode::Bios,
    )
    .expect("template");
    let mut json = nixdeck_core::disko::to_json(&layout);
    if let Some(luks) = luks {
        json["disk"]["main"]["content"]["partitions"]["luks"]["content"] = luks;
    }
    host.layout = json;
    let plan = scene.api.review_new_host(&host).await.expect("review");
    // Every file the review shows, confirmed as seen there.
    scene
        .api
        .write_new_host(&host, &plan.seen)
        .await
        .expect("write the LUKS layout");
    root
}

/// The LUKS template never lets disko prompt: the passphrase, typed twice the
/// same, goes to a 0600 file given with `--disk-encryption-keys` for the
/// layout's passwordFile, and the file is gone afterwards.
#[tokio::test]
async fn a_luks_passphrase_goes_to_a_private_file_for_the_layouts_password_file() {
    let disk = LoopDisk::new(64);
    let sshd = Sshd::start(SshdOptions::default());
    let scene = Scene::trusting(&sshd);
    let root = installable_luks(&scene, &sshd, &disk, None).await;
    let record = scene.path("argv.record");
    let info = scene.path("keyinfo");
    let _env = standins(&record, "ok").await;
    std::env::set_var("NIXDECK_STANDIN_KEYINFO", &info);

    let mut req = request(&root, &sshd);
    let check = scene.api.install_check(&req, false).await.expect("checks");
    assert!(check.trust.needs_luks_passphrase, "{:?}", check.trust);
    assert!(check.trust.blocked.is_none());
    let at = check
        .argv
        .iter()
        .position(|a| a == "--disk-encryption-keys")
        .expect("shown");
    assert_eq!(check.argv[at + 1], "/tmp/secret.key");
    let acks: Vec<String> = check
        .preflight
        .findings
        .iter()
        .map(|f| f.rule.id().to_string())
        .collect();

    let err = scene
        .api
        .start_install(&req, "web", &acks, false, None)
        .await
        .expect_err("no passphrase");
    assert!(err.message.contains("passphrase"), "{}", err.message);
    req.secrets.luks_passphrase = Some(Secret::new("correct horse"));
    req.secrets.luks_passphrase_again = Some(Secret::new("correct hose"));
    let err = scene
        .api
        .start_install(&req, "web", &acks, false, None)
        .await
        .expect_err("typed differently");
    assert!(err.message.contains("differ"), "{}", err.message);
    assert!(invocations(&record).is_empty(), "nothing may run");

    req.secrets.luks_passphrase_again = Some(Secret::new("correct horse"));
    let started = scene
        .api
        .start_install(&req, "web", &acks, false, None)
        .await
        .unwrap_or_else(|e| panic!("start: {e:?}"));
    let id = nixdeck_api::jobs::parse_job_id(&started.job_id).unwrap();
    let outcome = scene.api.wait_job(id).await.expect("wait");
    std::env::remove_var("NIXDECK_STANDIN_KEYINFO");
    assert_eq!(outcome.result, JobResult::Succeeded, "{outcome:?}");

    let lines = keyinfo(&info);
    let key = lines
        .iter()
        .find(|l| l.starts_with("/tmp/secret.key "))
        .unwrap_or_else(|| panic!("no key file: {lines:?}"));
    let fields: Vec<&str> = key.split_whitespace().collect();
    assert_eq!(fields[1], "600", "private while nixos-anywhere reads it");
    let expected = Command::new("sh")
        .args(["-c", "printf %s 'correct horse' | cksum | cut -d' ' -f1"])
        .output()
        .unwrap();
    assert_eq!(fields[2], String::from_utf8_lossy(&expected.stdout).trim());
    assert!(!Path::new(fields[3]).exists(), "the key file is gone");
    assert_eq!(anywhere_under(&scene.path("data"), b"correct horse"), None);
}

/// A LUKS volume disko would ask about on a terminal is refused before
/// anything connects or runs, naming the volume and what to set.
#[tokio::test]
async fn a_luks_volume_without_a_password_file_is_refused_before_anything_runs() {
    let disk = LoopDisk::new(64);
    let sshd = Sshd::start(SshdOptions::default());
    let scene = Scene::trusting(&sshd);
    let luks = serde_json::json!({ "type": "luks", "name": "crypted",
        "content": { "type": "filesystem", "format": "ext4", "mountpoint": "/" } });
    let root = installable_luks(&scene, &sshd, &disk, Some(luks)).await;
    let record = scene.path("argv.record");
    let _env = standins(&record, "ok").await;
    let mut req = request(&root, &sshd);
    req.secrets.luks_passphrase = Some(Secret::new("whatever"));
    let err = scene
        .api
        .start_install(&req, "web", &[], true, None)
        .await
        .expect_err("disko would prompt");
    assert_eq!(err.code, ErrorCode::Validation);
    assert!(err.message.contains("crypted"), "{}", err.message);
    assert!(err.hint.unwrap_or_default().contains("passwordFile"));
    assert!(invocations(&record).is_empty(), "nothing may run");
}

/// No job waits on a prompt: disko asking for a passphrase, or ssh for a
/// password, ends the install with what to do.
#[tokio::test]
async fn a_prompt_in_the_output_ends_the_install_with_what_to_do() {
    let disk = LoopDisk::new(64);
    let sshd = Sshd::start(SshdOptions::default());
    let scene = Scene::trusting(&sshd);
    let root = installable(&scene, &sshd, &disk).await;
    let req = request(&root, &sshd);
    let acks = warnings(&scene, &req).await;
    for (scenario, words) in [
        ("prompt-disko", "passwordFile"),
        ("prompt-ssh", "--env-password"),
    ] {
        let record = scene.path(&format!("{scenario}.record"));
        let _env = standins(&record, scenario).await;
        let started = scene
            .api
            .start_install(&req, "web", &acks, false, None)
            .await
            .unwrap_or_else(|e| panic!("start: {e:?}"));
        let id = nixdeck_api::jobs::parse_job_id(&started.job_id).unwrap();
        let outcome =
            tokio::time::timeout(std::time::Duration::from_secs(60), scene.api.wait_job(id))
                .await
                .expect("the prompt ends the job")
                .expect("wait");
        assert_eq!(outcome.result, JobResult::Failed, "{outcome:?}");
        let reason = outcome.reason.unwrap_or_default();
        assert!(reason.contains("without a terminal"), "{reason}");
        assert!(reason.contains(words), "{scenario}: {reason}");
        // The prompt is in the log, and the job's explanation names it.
        let explained = scene.api.explain_job(id).expect("explain");
        assert!(
            explained
                .findings
                .iter()
                .any(|f| f.kind == nixdeck_core::tools::explain::FindingKind::WaitedOnPrompt),
            "{explained:?}"
        );
    }
}
