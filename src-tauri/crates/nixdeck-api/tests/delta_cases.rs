//! The layout editor's views before and after real edits, with the delta the
//! backend sends between them, written to `tests/fixtures/delta/views.json`.
//! The window's `applyDelta` is tested on this file (`ui/src/lib/ipc/delta.test.ts`),
//! so both sides agree on every shape a view's delta takes: sizes, added and
//! removed partitions, moved ones (key order), renamed ones, text beyond the
//! Basic Multilingual Plane. Like the bindings, the file is committed; this test
//! writes it again and fails when it was stale.

use nixdeck_api::delta::{apply, diff};
use nixdeck_core::disko::edit::{self, LayoutEdit, LayoutView};
use nixdeck_core::disko::templates::instantiate;
use nixdeck_core::facts::BootMode;
use serde_json::{json, Value};
use std::path::Path;

fn edit(view: &LayoutView, change: Value) -> LayoutView {
    let change: LayoutEdit = serde_json::from_value(change).expect("an edit");
    let layout = nixdeck_core::disko::from_json(&view.layout).expect("the view's layout");
    let edited = edit::apply(&layout, &change).expect("the edit applies");
    edit::view(&edited, None)
}

fn partitions(view: &LayoutView) -> Vec<String> {
    view.nodes
        .iter()
        .filter(|n| n.kind == "partition")
        .map(|n| n.path.clone())
        .collect()
}

#[test]
fn delta_cases_are_current() {
    let mut cases = Vec::new();
    let mut case = |name: &str, old: &LayoutView, new: &LayoutView| {
        let old = serde_json::to_value(old).expect("view");
        let new = serde_json::to_value(new).expect("view");
        let delta = diff(&old, &new).expect("the edit changed the view");
        let applied = apply(&old, &delta).expect("the delta applies");
        assert_eq!(applied.to_string(), new.to_string(), "{name}");
        cases.push(json!({ "name": name, "old": old, "new": new, "delta": delta }));
    };

    let disks = [
        "/dev/disk/by-id/nvme-a".to_string(),
        "/dev/disk/by-id/nvme-b".to_string(),
    ];
    let start = edit::view(
        &instantiate("luks-btrfs", &disks[..1], BootMode::Uefi).expect("template"),
        None,
    );
    let parts = partitions(&start);
    let (first, last) = (parts[0].clone(), parts[parts.len() - 1].clone());

    let resized = edit(
        &start,
        json!({"kind": "set_size", "path": first, "size": "1G"}),
    );
    case("a size", &start, &resized);
    let added = edit(
        &start,
        json!({"kind": "add", "path": format!("{}.partitions", first.rsplit_once(".partitions").expect("a partition").0), "name": "data", "value": {"size": "4G", "content": {"type": "filesystem", "format": "xfs", "mountpoint": "/srv/data"}}}),
    );
    case("an added partition", &start, &added);
    case("a removed partition", &added, &start);
    let moved = edit(&start, json!({"kind": "move", "path": last, "by": -1}));
    case("a moved partition", &start, &moved);
    let renamed = edit(
        &start,
        json!({"kind": "rename", "path": first, "to": "boot"}),
    );
    case("a renamed partition", &start, &renamed);
    let wide = edit(
        &added,
        json!({"kind": "set", "path": format!("{}.content.mountpoint", partitions(&added).last().expect("data")), "value": "/srv/données-😀"}),
    );
    case("text beyond the BMP", &added, &wide);
    let wider = edit(
        &wide,
        json!({"kind": "set", "path": format!("{}.content.mountpoint", partitions(&wide).last().expect("data")), "value": "/srv/données-😁"}),
    );
    case("one character beyond the BMP for another", &wide, &wider);
    let mirror = edit::view(
        &instantiate("mdadm-raid1", &disks, BootMode::Uefi).expect("template"),
        None,
    );
    case("another template", &start, &mirror);

    let file =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../tests/fixtures/delta/views.json");
    // One case per line: diffs stay readable, the file small.
    let lines: Vec<String> = cases.iter().map(Value::to_string).collect();
    let text = format!("[\n{}\n]\n", lines.join(",\n"));
    let was = std::fs::read_to_string(&file).unwrap_or_default();
    if was != text {
        std::fs::create_dir_all(file.parent().expect("a parent")).expect("fixture directory");
        std::fs::write(&file, &text).expect("write the cases");
        panic!(
            "{} was stale and has been written again: commit it",
            file.display()
        );
    }
}
