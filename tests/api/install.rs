use crate::{invocations, new_host, standins, Scene};
use nixdeck_api::install::InstallRequest;
use nixdeck_api::probe::{AuthChoice, ProbeOutcome, ProbeRequest};
use nixdeck_api::ErrorCode;
use nixdeck_core::tools::plan::InstallOptions;
use nixdeck_engine::runner::JobResult;
use nixdeck_tests::loopdisk::LoopDisk;
use nixdeck_tests::sshd::{Sshd, SshdOptions};
use std::path::Path;

/// A repository with host `web` reached at `sshd`, its layout on `disk`, and the
/// facts a probe read (as the wizard records them).
pub(crate) async fn installable(scene: &Scene, sshd: &Sshd, disk: &LoopDisk) -> std::path::PathBuf {
    let root = scene.repo().await;
    let host = new_host(&root, "web", Some(sshd), &disk.dev);
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
