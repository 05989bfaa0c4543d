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

/// An installed host's layout, edited: what applying it means (a new disk is
/// made in place, a partition after one that takes the rest of the disk needs
/// a reinstall), saved over a hand edit only when confirmed; and its disks as
/// probed beside it.
#[tokio::test]
async fn an_installed_hosts_layout_edited_saved_and_compared_with_its_disks() {
    use nixdeck_api::ErrorCode;
    use nixdeck_core::disko::changes::ChangeVerdict;
    use nixdeck_core::disko::compare::CheckState;
    use nixdeck_core::facts::{BlockDevice, HostFacts};
    use serde_json::json;

    let scene = Scene::new();
    let root = scene.repo().await;
    let host = new_host(&root, "web1", None, "/dev/vda");
    scene.api.write_new_host(&host, &[]).await.expect("web1");
    let view = scene
        .api
        .layout_from_repo(&root, "web1")
        .await
        .unwrap()
        .expect("disko.nix");

    let same = scene
        .api
        .plan_layout_save(&root, "web1", &view.layout)
        .await
        .unwrap();
    assert_eq!(same.changes.verdict, ChangeVerdict::Unchanged);
    assert!(same.pending.is_empty(), "nixdeck wrote the file");

    let mut more = view.layout.clone();
    more["disk"]["spare"] = json!({"type": "disk", "device": "/dev/vdb", "content": {"type": "gpt", "partitions": {
        "backup": {"size": "100%", "content": {"type": "filesystem", "format": "ext4", "mountpoint": "/backup"}}}}});
    let added = scene
        .api
        .plan_layout_save(&root, "web1", &more)
        .await
        .unwrap();
    assert_eq!(
        added.changes.verdict,
        ChangeVerdict::AddOnly,
        "{:?}",
        added.changes
    );
    assert!(added
        .changes
        .how
        .as_deref()
        .unwrap()
        .contains("--mode format"));

    let mut squeezed = view.layout.clone();
    squeezed["disk"]["main"]["content"]["partitions"]["zz"] =
        json!({"size": "1G", "content": {"type": "swap"}});
    let plan = scene
        .api
        .plan_layout_save(&root, "web1", &squeezed)
        .await
        .unwrap();
    assert_eq!(
        plan.changes.verdict,
        ChangeVerdict::Reinstall,
        "{:?}",
        plan.changes
    );
    assert!(plan.changes.statement.contains("ERASES /dev/vda"));

    // A hand edit is kept unless its path is confirmed.
    let file = root.join("hosts/web1/disko.nix");
    let edited = format!("# mine\n{}", std::fs::read_to_string(&file).unwrap());
    std::fs::write(&file, &edited).unwrap();
    let plan = scene
        .api
        .plan_layout_save(&root, "web1", &more)
        .await
        .unwrap();
    assert_eq!(plan.pending, ["hosts/web1/disko.nix"]);
    let err = scene
        .api
        .save_layout(&root, "web1", &more, &[])
        .await
        .expect_err("unconfirmed");
    assert_eq!(err.code, ErrorCode::Conflict, "{err:?}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), edited);
    scene
        .api
        .save_layout(&root, "web1", &more, &["hosts/web1/disko.nix".into()])
        .await
        .expect("confirmed");
    assert!(std::fs::read_to_string(&file).unwrap().contains("/dev/vdb"));

    // Before and after: no probe yet, then the disks as probed.
    let err = scene
        .api
        .disk_check(&root, "web1", false)
        .await
        .expect_err("no facts");
    assert!(err.message.contains("no probed disks"), "{err:?}");
    let facts = HostFacts {
        disks: vec![BlockDevice {
            name: "vda".into(),
            path: "/dev/vda".into(),
            size_bytes: 20 << 30,
            kind: "disk".into(),
            pttype: Some("gpt".into()),
            ..BlockDevice::default()
        }],
        ..HostFacts::default()
    };
    nixdeck_engine::facts_store::save(
        &root,
        &nixdeck_core::repo::HostName::new("web1").unwrap(),
        &facts,
    )
    .unwrap();
    let check = scene.api.disk_check(&root, "web1", false).await.unwrap();
    let vdb = check
        .check
        .rows
        .iter()
        .find(|r| r.disk == "spare")
        .expect("the spare disk's row");
    assert_eq!(vdb.state, CheckState::Missing);
    assert!(
        check
            .check
            .differences
            .iter()
            .any(|d| d.contains("is missing")),
        "{:?}",
        check.check.differences
    );
    assert!(check.verdict.contains("differences"), "{}", check.verdict);

    // The same from the command line: `nixdeck layout check` and `layout changes`.
    let run = |args: Vec<std::ffi::OsString>| {
        let data = scene.path("data");
        async move {
            let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_nixdeck-headless"));
            cmd.env("NIXDECK_DATA_DIR", &data).args(&args);
            tokio::task::spawn_blocking(move || cmd.output())
                .await
                .expect("join")
                .expect("nixdeck")
        }
    };
    let out = run(vec![
        "layout".into(),
        "check".into(),
        root.clone().into(),
        "web1".into(),
    ])
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("disk /dev/vdb was not found"), "{stdout}");
    assert!(stdout.contains("BIOS boot partition"), "{stdout}");
    let edited = scene.path("edited.json");
    std::fs::write(&edited, serde_json::to_string(&squeezed).unwrap()).unwrap();
    let out = run(vec![
        "layout".into(),
        "changes".into(),
        root.clone().into(),
        "web1".into(),
        edited.into(),
    ])
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("reinstalling"), "{stdout}");
}
