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
