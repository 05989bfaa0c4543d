use crate::{new_host, Scene};
use nixdeck_core::disko::edit::LayoutEdit;

#[tokio::test]
async fn templates_edits_and_the_repository_layout_share_one_view() {
    let scene = Scene::new();
    let root = scene.repo().await;
    let templates = scene.api.layout_templates();
    assert!(templates.iter().any(|t| t.name == "btrfs"), "{templates:?}");

    let disk = "/dev/disk/by-id/virtio-web1".to_string();
    let view = scene
        .api
        .layout_from_template(&root, "web-1", "ext4", std::slice::from_ref(&disk))
        .expect("template");
    assert!(view.preview.contains(&disk), "{}", view.preview);
    assert!(view
        .diagnostics
        .iter()
        .all(|d| d.severity != nixdeck_core::disko::Severity::Error));

    // A size typed wrong is a finding on the view, not a failure.
    let path = "disk.main.content.partitions.root.size".to_string();
    let bad = scene.api.apply_layout_edit(
        &root,
        "web-1",
        &view.layout,
        &LayoutEdit::SetSize {
            path: path.clone(),
            size: "12 potatoes".into(),
        },
    );
    match bad {
        Ok(v) => assert!(!v.diagnostics.is_empty(), "a bad size must be reported"),
        Err(e) => assert_eq!(e.code, nixdeck_api::ErrorCode::Validation),
    }

    // The layout written with a host reads back through nix-instantiate as the same view.
    assert!(scene
        .api
        .layout_from_repo(&root, "web-1")
        .await
        .unwrap()
        .is_none());
    let mut host = new_host(&root, "web-1", None, &disk);
    host.layout = view.layout.clone();
    scene.api.write_new_host(&host, &[]).await.expect("write");
    let from_repo = scene
        .api
        .layout_from_repo(&root, "web-1")
        .await
        .expect("read disko.nix")
        .expect("a layout");
    assert_eq!(from_repo.preview, view.preview);
}
