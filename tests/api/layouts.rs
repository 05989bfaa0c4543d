use crate::{new_host, Scene};
use nixdeck_api::delta::apply;
use nixdeck_api::layouts::LayoutUpdate;
use nixdeck_core::disko::edit::{LayoutEdit, LayoutView};
use serde_json::Value;

/// The view `update` stands for, given the view `held` it was asked against.
fn resolve(held: &LayoutView, update: LayoutUpdate) -> Value {
    match update {
        LayoutUpdate::Whole { view } => serde_json::to_value(view).unwrap(),
        LayoutUpdate::Changed { delta } => {
            let held = serde_json::to_value(held).unwrap();
            delta.map_or(held.clone(), |d| apply(&held, &d).expect("the delta fits"))
        }
    }
}

/// An edit, undo and redo name the view the window holds by its digest; the
/// answer is what changed since that view, which gives exactly the whole new
/// view, also when the host was probed meanwhile. A digest the backend did not
/// send, or sent too long ago, gets the whole view.
#[tokio::test]
async fn edits_answer_with_what_changed_since_the_view_held() {
    let scene = Scene::new();
    let root = scene.repo().await;
    let disks = vec!["/dev/disk/by-id/virtio-d0".to_string()];
    let held = scene
        .api
        .layout_from_template(&root, "big", "ext4", &disks)
        .expect("template");
    let path = held
        .nodes
        .iter()
        .find(|n| n.kind == "partition" && n.size.as_deref().is_some_and(|s| !s.contains('%')))
        .expect("a sized partition")
        .path
        .clone();
    let resize = |size: &str| LayoutEdit::SetSize {
        path: path.clone(),
        size: size.into(),
    };
    let whole = |update: LayoutUpdate| match update {
        LayoutUpdate::Whole { view } => *view,
        other => panic!("expected the whole view, got {other:?}"),
    };
    // The held layout with a size typed, against the view named by `base`.
    let edit = |size: &str, base: Option<&str>| {
        scene
            .api
            .apply_layout_edit(&root, "big", &held.layout, &resize(size), base)
            .unwrap()
    };

    let next = whole(edit("777M", None));
    assert!(next.preview.contains("777M"), "{}", next.preview);
    let update = edit("777M", Some(&held.digest));
    let LayoutUpdate::Changed { delta: Some(delta) } = &update else {
        panic!("expected a delta, got {update:?}");
    };
    let sent = serde_json::to_string(delta).unwrap().len();
    let full = serde_json::to_string(&next).unwrap().len();
    assert!(
        sent * 4 < full,
        "the delta ({sent} bytes) is not much smaller than the view ({full})"
    );
    assert_eq!(resolve(&held, update), serde_json::to_value(&next).unwrap());

    // Undo: the view of the earlier layout, since the view held now.
    let undone = scene
        .api
        .layout_view(&root, "big", &held.layout, Some(&next.digest))
        .unwrap();
    assert!(matches!(undone, LayoutUpdate::Changed { delta: Some(_) }));
    assert_eq!(resolve(&next, undone), serde_json::to_value(&held).unwrap());
    // The same view again: nothing changed.
    let same = scene
        .api
        .layout_view(&root, "big", &next.layout, Some(&next.digest))
        .unwrap();
    assert!(
        matches!(same, LayoutUpdate::Changed { delta: None }),
        "{same:?}"
    );

    // A digest the backend never sent: the whole view.
    let wrong = edit("1G", Some("0000"));
    assert!(whole(wrong).preview.contains("1G"));
    // The host probed meanwhile: its disk now has a size. The answer, applied
    // to the view the window holds, is the view with the probed disk.
    let facts = nixdeck_core::facts::HostFacts {
        disks: vec![nixdeck_core::facts::BlockDevice {
            name: "vda".into(),
            path: "/dev/vda".into(),
            size_bytes: 20 << 30,
            kind: "disk".into(),
            by_id: vec![disks[0].clone()],
            ..Default::default()
        }],
        ..Default::default()
    };
    nixdeck_engine::facts_store::save(
        &root,
        &nixdeck_core::repo::HostName::new("big").unwrap(),
        &facts,
    )
    .unwrap();
    let update = edit("777M", Some(&held.digest));
    let probed = whole(edit("777M", None));
    assert_eq!(
        probed.disks[0].size_bytes,
        Some(20 << 30),
        "{:?}",
        probed.disks
    );
    assert_eq!(
        resolve(&held, update),
        serde_json::to_value(&probed).unwrap()
    );

    // Views sent after it push the held one out: the whole view again.
    for mib in 1..=8 {
        edit(&format!("{mib}G"), None);
    }
    let forgotten = edit("777M", Some(&held.digest));
    assert_eq!(whole(forgotten).digest, probed.digest);
}

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
        None,
    );
    match bad {
        Ok(LayoutUpdate::Whole { view }) => {
            assert!(!view.diagnostics.is_empty(), "a bad size must be reported")
        }
        Ok(other) => panic!("no base was named, yet {other:?}"),
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
