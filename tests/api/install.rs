use crate::{invocations, new_host, standins, Scene};
use nixdeck_api::install::InstallRequest;
use nixdeck_api::probe::{AuthChoice, ProbeOutcome, ProbeRequest};
use nixdeck_api::ErrorCode;
use nixdeck_core::repo::access::Access;
use nixdeck_core::tools::plan::InstallOptions;
use nixdeck_engine::runner::JobResult;
use nixdeck_tests::loopdisk::LoopDisk;
use nixdeck_tests::sshd::{Sshd, SshdOptions};
use std::path::Path;

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
        .start_install(&request(&root, &sshd), "wbe", &[], None, false, None)
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
        .start_install(&request(&root, &sshd), "web", &warnings, None, false, None)
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
        .start_install(&request(&root, &sshd), "web", &[], None, false, None)
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
        .start_install(&request, "web", &[], None, false, None)
        .await
        .expect_err("no facts");
    assert_eq!(err.code, ErrorCode::Validation);
    assert!(err.message.contains("no probed facts"), "{}", err.message);
    assert!(err.hint.as_deref().unwrap_or("").contains("Re-probe"));
    assert!(invocations(&record).is_empty(), "nothing may run");
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
        .start_install(&request(&root, &sshd), "web", &warnings, None, false, None)
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
        .start_install(&knowing, "web", &warnings, None, false, None)
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
        .start_install(&request(&root, &sshd), "web", &warnings, None, false, None)
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
