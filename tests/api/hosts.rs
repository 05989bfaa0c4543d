use crate::{new_host, Scene};
use nixdeck_api::hosts::IdentityInput;
use nixdeck_api::ErrorCode;
use nixdeck_core::repo::access::Access;
use nixdeck_engine::repo::Confirm;

#[tokio::test]
async fn identity_problems_name_their_fields() {
    let scene = Scene::new();
    let root = scene.repo().await;
    let input = IdentityInput {
        name: "web 1".into(),
        address: "h$(id)".into(),
        user: "-oProxyCommand=x".into(),
        port: 0,
        tags: vec!["a b".into()],
    };
    let problems = scene.api.check_host_identity(&root, &input);
    let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(fields, ["name", "address", "user", "port", "tags"]);
    let fine = IdentityInput {
        name: "web-1".into(),
        address: "203.0.113.7".into(),
        user: "root".into(),
        port: 22,
        tags: vec!["web".into()],
    };
    assert!(scene.api.check_host_identity(&root, &fine).is_empty());
}

#[tokio::test]
async fn review_then_write_then_remove_a_host_with_its_edits_protected() {
    let scene = Scene::new();
    let root = scene.repo().await;
    let host = new_host(&root, "web-1", None, "/dev/disk/by-id/virtio-web1");
    let review = scene.api.review_new_host(&host).await.expect("review");
    let paths: Vec<&str> = review
        .plan
        .changes
        .iter()
        .map(|c| c.path.as_str())
        .collect();
    assert!(paths.contains(&"hosts/web-1/disko.nix"), "{paths:?}");
    assert!(
        review.command.contains("nixos-anywhere"),
        "{}",
        review.command
    );
    assert!(
        review.command.contains("root@192.0.2.7"),
        "{}",
        review.command
    );
    assert!(review.erase.is_empty(), "no facts, no disk identities");

    scene.api.write_new_host(&host, &[]).await.expect("write");
    let view = scene.api.open_repo(&root).await.expect("open");
    assert_eq!(view.hosts.len(), 1);
    assert_eq!(view.hosts[0].address.as_deref(), Some("192.0.2.7"));

    // A person edits the configuration: removing the host must not delete it unseen.
    let config = root.join("hosts/web-1/configuration.nix");
    let edited = std::fs::read_to_string(&config).unwrap() + "\n# mine\n";
    std::fs::write(&config, edited).unwrap();
    let plan = scene.api.plan_remove_host(&root, "web-1").expect("plan");
    assert_eq!(plan.pending().len(), 1);
    let err = scene
        .api
        .remove_host(&root, "web-1", &Confirm::Nothing)
        .await
        .expect_err("an edited file");
    assert_eq!(err.code, ErrorCode::Conflict);
    assert!(config.exists());
    scene
        .api
        .remove_host(
            &root,
            "web-1",
            &Confirm::Paths(vec!["hosts/web-1/configuration.nix".into()]),
        )
        .await
        .expect("remove with confirmation");
    assert!(!root.join("hosts/web-1").exists());
}

#[tokio::test]
async fn the_configuration_preview_reports_a_bad_field() {
    let scene = Scene::new();
    let root = scene.repo().await;
    let mut host = new_host(&root, "web-1", None, "/dev/vda");
    let preview = scene.api.preview_configuration(&host.config);
    assert!(
        preview.text.contains("networking.hostName = \"web-1\""),
        "{}",
        preview.text
    );
    assert!(preview.problem.is_none());
    host.config.state_version = "latest".into();
    assert!(scene
        .api
        .preview_configuration(&host.config)
        .problem
        .is_some());
}

/// A hand-edit confirmation is bound to the text the person saw on review: a
/// file edited again after the review is refused (with a hint to review again)
/// rather than overwritten unseen, and nothing is written; the fresh review's
/// confirmation goes through.
#[tokio::test]
async fn a_file_edited_again_after_the_review_is_not_overwritten_unseen() {
    let scene = Scene::new();
    let root = scene.repo().await;
    let host = new_host(&root, "web-1", None, "/dev/disk/by-id/virtio-web1");
    scene.api.write_new_host(&host, &[]).await.expect("write");
    let config = root.join("hosts/web-1/configuration.nix");
    let mine = std::fs::read_to_string(&config).unwrap() + "\n# mine\n";
    std::fs::write(&config, &mine).unwrap();

    // The wizard runs again with a package more: the review shows the edited file.
    let mut again = host.clone();
    again.config.packages.push("htop".into());
    let review = scene.api.review_new_host(&again).await.expect("review");
    assert_eq!(review.gate.to_confirm, ["hosts/web-1/configuration.nix"]);
    assert_eq!(review.seen.len(), 1);

    // Edited once more after the review, then confirmed as seen before.
    let later = mine.clone() + "# and more\n";
    std::fs::write(&config, &later).unwrap();
    let err = scene
        .api
        .write_new_host(&again, &review.seen)
        .await
        .expect_err("edited after the review");
    assert_eq!(err.code, ErrorCode::Conflict, "{err:?}");
    assert!(
        err.hint
            .as_deref()
            .unwrap_or("")
            .contains("Review the differences again"),
        "{err:?}"
    );
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        later,
        "nothing written"
    );

    let fresh = scene.api.review_new_host(&again).await.expect("review");
    scene
        .api
        .write_new_host(&again, &fresh.seen)
        .await
        .expect("confirmed as seen now");
    assert!(std::fs::read_to_string(&config).unwrap().contains("htop"));
}

/// The wizard's review lists every file of the host's configuration that
/// formats disks (a shared module too), and says whether anyone could log in
/// once the new system runs.
#[tokio::test]
async fn the_review_shows_every_disk_file_and_whether_anyone_could_log_in() {
    let scene = Scene::new();
    let root = scene.repo().await;
    std::fs::write(
        root.join("modules/data-disk.nix"),
        r#"{
  disko.devices.disk.data = {
    type = "disk";
    device = "/dev/disk/by-id/virtio-data";
    content = {
      type = "gpt";
      partitions.data = {
        size = "100%";
        content = { type = "filesystem"; format = "ext4"; mountpoint = "/data"; };
      };
    };
  };
}
"#,
    )
    .unwrap();
    let flake = root.join("flake.nix");
    let text = std::fs::read_to_string(&flake).unwrap();
    assert!(text.contains("./modules/common.nix"), "{text}");
    std::fs::write(
        &flake,
        text.replacen(
            "./modules/common.nix",
            "./modules/common.nix ./modules/data-disk.nix",
            1,
        ),
    )
    .unwrap();

    let host = new_host(&root, "web-1", None, "/dev/disk/by-id/virtio-web1");
    let review = scene.api.review_new_host(&host).await.expect("review");
    let sources: Vec<(&str, Vec<&str>)> = review
        .disk_sources
        .iter()
        .map(|s| {
            (
                s.file.as_str(),
                s.disks.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        sources,
        [
            ("hosts/web-1/disko.nix", vec!["/dev/disk/by-id/virtio-web1"]),
            ("modules/data-disk.nix", vec!["/dev/disk/by-id/virtio-data"]),
        ]
    );
    assert!(
        matches!(review.login, Access::Open { .. }),
        "{:?}",
        review.login
    );

    let mut keyless = host.clone();
    keyless.config.authorized_keys.clear();
    let review = scene.api.review_new_host(&keyless).await.expect("review");
    let Access::Locked { fix, .. } = review.login else {
        panic!("{:?}", review.login);
    };
    assert!(fix.contains("hosts/web-1/configuration.nix"), "{fix}");
}
