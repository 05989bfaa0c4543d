use crate::Scene;
use nixdeck_api::repos::repo_dir;
use nixdeck_api::ErrorCode;

#[tokio::test]
async fn a_created_repository_is_opened_and_remembered() {
    let scene = Scene::new();
    let root = scene.repo().await;
    assert!(root.join("flake.nix").is_file());
    assert!(root.join("modules/common.nix").is_file());
    assert!(root.join(".git").is_dir(), "git init ran");
    let recent = scene.api.recent_repos();
    assert_eq!(recent.len(), 1);
    assert_eq!(recent[0].path, root);

    let view = scene.api.open_repo(&root).await.expect("open");
    assert!(view.has_flake);
    assert!(view.hosts.is_empty());

    let left = scene.api.forget_recent_repo(&root).expect("forget");
    assert!(left.is_empty());
}

#[tokio::test]
async fn creating_over_a_flake_is_refused_and_a_folder_without_one_is_no_repository() {
    let scene = Scene::new();
    let root = scene.repo().await;
    let err = scene
        .api
        .create_repo(&root, "nixos-25.05")
        .await
        .expect_err("a second create");
    assert_eq!(err.code, ErrorCode::Conflict);

    let empty = scene.path("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let err = repo_dir(&empty).expect_err("no flake.nix");
    assert_eq!(err.code, ErrorCode::NotFound);
    assert!(err.message.contains("has no flake.nix"), "{}", err.message);
    assert!(err.hint.is_some());
}
