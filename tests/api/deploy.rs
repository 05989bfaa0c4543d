use crate::{invocations, standins, Scene};
use nixdeck_api::deploy::DeployRequest;
use nixdeck_api::ErrorCode;
use nixdeck_engine::jobs::JobKind;
use nixdeck_engine::runner::JobResult;
use nixdeck_tests::{copy_dir, fixture};
use std::path::{Path, PathBuf};

fn fleet(scene: &Scene) -> PathBuf {
    let root = scene.path("fleet");
    copy_dir(&fixture("jobs/fleet"), &root);
    root
}

fn request(root: &Path, filter: &str) -> DeployRequest {
    DeployRequest {
        repo: root.to_path_buf(),
        filter: Some(filter.into()),
        ..DeployRequest::default()
    }
}

#[tokio::test]
async fn the_preview_shows_what_the_filter_selects_and_refuses_nothing() {
    let scene = Scene::new();
    let root = fleet(&scene);
    let preview = scene
        .api
        .preview_deploy(&request(&root, "@web"))
        .await
        .expect("preview");
    assert_eq!(preview.selected, ["web1", "web2"]);
    assert_eq!(preview.targets[0].address, "192.0.2.11");
    assert!(
        preview.argv.iter().any(|a| a == "--on=@web"),
        "{:?}",
        preview.argv
    );

    let err = scene
        .api
        .preview_deploy(&request(&root, "mail*"))
        .await
        .expect_err("selects nothing");
    assert_eq!(err.code, ErrorCode::Validation);
    let mut bad = request(&root, "@db");
    bad.goal = Some("explode".into());
    assert_eq!(
        scene
            .api
            .preview_deploy(&bad)
            .await
            .expect_err("bad goal")
            .code,
        ErrorCode::Validation
    );
}

/// A repository without flake.lock is locked first, then colmena runs on exactly
/// the previewed hosts.
#[tokio::test]
async fn a_deploy_locks_the_flake_first_then_runs_colmena() {
    let scene = Scene::new();
    let root = fleet(&scene);
    assert!(!root.join("flake.lock").exists());
    let record = scene.path("argv.record");
    let _env = standins(&record, "ok").await;
    let started = scene
        .api
        .start_deploy(&request(&root, "@web"), None)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let id = nixdeck_api::jobs::parse_job_id(&started.job_id).unwrap();
    let outcome = scene.api.wait_job(id).await.unwrap();
    assert_eq!(outcome.result, JobResult::Succeeded, "{outcome:?}");
    assert!(root.join("flake.lock").is_file());
    let kinds: Vec<JobKind> = scene
        .api
        .list_jobs(None)
        .unwrap()
        .iter()
        .map(|j| j.kind)
        .collect();
    assert_eq!(kinds, [JobKind::Deploy, JobKind::Lock], "newest first");
    // The deploy records which colmena the lock it just wrote pins: this lock
    // has no inputs, so it is the registry's, and the record says so.
    let deploy = scene.api.get_job(id).unwrap();
    assert_eq!(
        deploy.tools,
        ["colmena from the nixpkgs of your nix registry"],
        "{deploy:?}"
    );
    let runs = invocations(&record);
    assert_eq!(runs[0][1..], ["flake", "lock"]);
    assert!(runs[1].iter().any(|a| a == "--on=@web"), "{:?}", runs[1]);
}

/// No lockout: when the fleet's configuration authorizes none of the operator's
/// keys, a deploy that activates is refused naming the host and the fix, and
/// nothing runs; a build activates nothing and goes on, and so does a deploy
/// the person allows (`allow_lockout`).
#[tokio::test]
async fn a_deploy_that_would_lock_the_operator_out_is_refused() {
    let scene = Scene::new();
    let root = fleet(&scene);
    std::fs::write(root.join("flake.lock"), "{}\n").unwrap();
    let access = root.join("modules/access.nix");
    let text = std::fs::read_to_string(&access).unwrap();
    let foreign = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBb9J5f0Q4ZJmYl1kN9X2pV7q8WcYt3eR6uH0sDgLmQa someone@else";
    std::fs::write(
        &access,
        text.replace(&nixdeck_tests::operator_key(), foreign),
    )
    .unwrap();
    let record = scene.path("argv.record");
    let _env = standins(&record, "ok").await;

    let err = scene
        .api
        .start_deploy(&request(&root, "@web"), None)
        .await
        .expect_err("locked out");
    assert_eq!(err.code, ErrorCode::Lockout, "{err:?}");
    assert!(
        err.message.contains("deploying to web1") && err.message.contains("as root"),
        "{}",
        err.message
    );
    let hint = err.hint.unwrap_or_default();
    assert!(
        hint.contains("authorizedKeys.keys in hosts/web1/configuration.nix"),
        "{hint}"
    );
    assert!(invocations(&record).is_empty(), "nothing may run");

    let mut build = request(&root, "@web");
    build.goal = Some("build".into());
    let mut knowing = request(&root, "@web");
    knowing.allow_lockout = true;
    for req in [build, knowing] {
        let started = scene
            .api
            .start_deploy(&req, None)
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        let id = nixdeck_api::jobs::parse_job_id(&started.job_id).unwrap();
        let outcome = scene.api.wait_job(id).await.unwrap();
        assert_eq!(outcome.result, JobResult::Succeeded, "{outcome:?}");
    }
}
