//! Disk layouts against the real `nix-instantiate`: every fixture under
//! `tests/fixtures/disko/` (disko's own examples included) is evaluated, imported, rendered and evaluated again,
//! and the two evaluations must be equal; and the `nixdeck layout` command line.

use nixdeck_core::disko::{self, DiskLayout};
use nixdeck_engine::disko_file::{self, LoadOptions};
use nixdeck_tests::fixture;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn fixtures() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixture("disko"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "nix"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "fixtures missing: {files:?}");
    files.extend(example_files());
    files
}

fn evaluate_all(paths: &[PathBuf]) -> Vec<Value> {
    let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    runtime()
        .block_on(disko_file::evaluate_devices_many(
            &refs,
            &LoadOptions::default(),
        ))
        .unwrap()
}

#[test]
fn every_fixture_round_trips_through_render_and_nix() {
    let files = fixtures();
    let originals = evaluate_all(&files);
    let dir = tempfile::tempdir().unwrap();
    let mut rendered = Vec::new();
    for (i, (file, original)) in files.iter().zip(&originals).enumerate() {
        let layout =
            disko::from_json(original).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert_eq!(
            &disko::to_json(&layout),
            original,
            "{}: JSON model differs",
            file.display()
        );
        // Numbered: disko's examples share names with nixdeck's own fixtures.
        let out = dir.path().join(format!(
            "{i}-{}",
            file.file_name().unwrap().to_string_lossy()
        ));
        std::fs::write(&out, disko::render(&layout)).unwrap();
        rendered.push(out);
    }
    let again = evaluate_all(&rendered);
    for ((file, original), back) in files.iter().zip(&originals).zip(&again) {
        assert_eq!(
            back,
            original,
            "{} changed in the round trip",
            file.display()
        );
    }
}

#[test]
fn function_files_get_lib_and_mk_wrappers_resolve() {
    let layout = runtime()
        .block_on(disko_file::load(
            &fixture("disko/function-lib.nix"),
            &LoadOptions::default(),
        ))
        .unwrap();
    let disks = layout.disk.as_ref().unwrap();
    assert_eq!(disks.keys().collect::<Vec<_>>(), ["one", "two"]);
    assert_eq!(disks["one"].device.as_deref(), Some("/dev/disk/by-id/one"));
    let Some(disko::Content::Gpt(gpt)) = disks["one"].content.as_deref() else {
        panic!()
    };
    let parts = gpt.partitions.as_ref().unwrap();
    assert!(parts.contains_key("root") && !parts.contains_key("extra"));
    let Some(disko::Content::Filesystem(fs)) = parts["data"].content.as_deref() else {
        panic!()
    };
    assert_eq!(fs.mountpoint.as_deref(), Some("/data-one"));
    let Some(disko::Content::Gpt(gpt2)) = disks["two"].content.as_deref() else {
        panic!()
    };
    assert!(!gpt2.partitions.as_ref().unwrap().contains_key("root"));
}

#[test]
fn hostile_text_stays_data() {
    let layout = runtime()
        .block_on(disko_file::load(
            &fixture("disko/hostile.nix"),
            &LoadOptions::default(),
        ))
        .unwrap();
    let text = disko::render(&layout);
    assert!(text.contains(r#""we\"ird \${name}""#), "{text}");
    assert!(text.contains(r#"\${builtins.currentTime}"#), "{text}");
    assert!(
        !text.contains("\n          line2"),
        "newline must be escaped: {text}"
    );
}

#[test]
fn errors_name_the_file_and_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("needs-lib.nix");
    std::fs::write(
        &bad,
        "{ lib, ... }: { disko.devices.disk = lib.fancyNewFunction 1; }",
    )
    .unwrap();
    let err = runtime()
        .block_on(disko_file::load(&bad, &LoadOptions::default()))
        .unwrap_err()
        .to_string();
    assert!(err.starts_with(&bad.display().to_string()), "{err}");
    assert!(
        err.contains("fancyNewFunction") && err.contains("built-in lib"),
        "{err}"
    );

    let wrong = dir.path().join("wrong.nix");
    std::fs::write(&wrong, r#"{ disko.devices.disk.main = { device = "/dev/sda"; content = { type = "gpt"; partitions.ESP.size = 512; }; }; }"#).unwrap();
    let err = runtime()
        .block_on(disko_file::load(&wrong, &LoadOptions::default()))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            "wrong.nix: disko.devices.disk.main.content.partitions.ESP.size: expected a string"
        ),
        "{err}"
    );

    let pkgs = dir.path().join("pkgs.nix");
    std::fs::write(
        &pkgs,
        "{ pkgs, ... }: { disko.devices.disk.main.device = pkgs.foo; }",
    )
    .unwrap();
    let err = runtime()
        .block_on(disko_file::load(&pkgs, &LoadOptions::default()))
        .unwrap_err()
        .to_string();
    assert!(err.contains("`pkgs` is not available"), "{err}");
}

fn headless() -> Command {
    Command::new(env!("CARGO_BIN_EXE_nixdeck-headless"))
}

#[test]
fn cli_imports_renders_validates_and_prints_templates() {
    let dir = tempfile::tempdir().unwrap();
    let out = headless()
        .args(["layout", "import"])
        .arg(fixture("disko/article.nix"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let model: DiskLayout = serde_json::from_slice(&out.stdout).unwrap();
    let json = dir.path().join("layout.json");
    std::fs::write(&json, &out.stdout).unwrap();

    let out = headless()
        .args(["layout", "render"])
        .arg(&json)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        disko::render(&model)
    );

    let out = headless()
        .args(["layout", "validate", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let findings: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(findings
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["severity"] != "error"));

    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, r#"{"disk": {"a": {"device": "/dev/sda", "content": {"type": "gpt", "partitions": {"x": {"size": "100%", "content": {"type": "filesystem", "format": "ext4", "mountpoint": "/srv"}}}}}}}"#).unwrap();
    let out = headless()
        .args(["layout", "validate"])
        .arg(&broken)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("error"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let out = headless()
        .args([
            "layout",
            "template",
            "zfs-mirror",
            "--disk",
            "/dev/sda",
            "--disk",
            "/dev/sdb",
            "--boot",
            "bios",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let layout: DiskLayout = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(layout.zpool.as_ref().unwrap().len(), 1);

    let out = headless()
        .args(["layout", "template", "nope", "--disk", "/dev/sda"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ext4"));
}

#[test]
fn a_given_nixpkgs_supplies_lib() {
    let dir = tempfile::tempdir().unwrap();
    let nixpkgs = dir.path().join("nixpkgs");
    std::fs::create_dir_all(nixpkgs.join("lib")).unwrap();
    // A stand-in nixpkgs tree: only its `lib` is read.
    std::fs::write(
        nixpkgs.join("lib/default.nix"),
        r#"{ onlyInThisLib = name: "/dev/disk/by-id/${name}"; }"#,
    )
    .unwrap();
    let file = dir.path().join("disko.nix");
    std::fs::write(
        &file,
        r#"{ lib, ... }: { disko.devices.disk.main = { device = lib.onlyInThisLib "x"; }; }"#,
    )
    .unwrap();
    let options = LoadOptions {
        nixpkgs: Some(nixpkgs),
    };
    let layout = runtime()
        .block_on(disko_file::load(&file, &options))
        .unwrap();
    assert_eq!(
        layout.disk.unwrap()["main"].device.as_deref(),
        Some("/dev/disk/by-id/x")
    );
    // Without it, the built-in lib lacks the function and the error says so.
    let err = runtime()
        .block_on(disko_file::load(&file, &LoadOptions::default()))
        .unwrap_err();
    assert!(err.to_string().contains("onlyInThisLib"), "{err}");
}

#[test]
fn evaluated_json_imports_like_the_nix_file() {
    let from_json = runtime()
        .block_on(disko_file::load(
            &fixture("disko/lvm.evaluated.json"),
            &LoadOptions::default(),
        ))
        .unwrap();
    let from_nix = runtime()
        .block_on(disko_file::load(
            &fixture("disko/lvm.nix"),
            &LoadOptions::default(),
        ))
        .unwrap();
    assert_eq!(from_json, from_nix);
    let out = headless()
        .args(["layout", "import"])
        .arg(fixture("disko/lvm.evaluated.json"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: DiskLayout = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed, from_nix);
}

#[test]
fn names_keep_the_order_the_file_writes_them_in() {
    let load = |name: &str| {
        runtime()
            .block_on(disko_file::load(&fixture(name), &LoadOptions::default()))
            .unwrap()
    };
    let lvm = load("disko/lvm.nix");
    let lvs = lvm.lvm_vg.as_ref().unwrap()["pool"].lvs.as_ref().unwrap();
    assert_eq!(
        lvs.keys().collect::<Vec<_>>(),
        ["root", "thinpool", "thin", "home"]
    );
    let gpt = load("disko/gpt-all-options.nix");
    let Some(disko::Content::Gpt(table)) = gpt.disk.as_ref().unwrap()["nvme"].content.as_deref()
    else {
        panic!()
    };
    let names: Vec<&String> = table.partitions.as_ref().unwrap().keys().collect();
    assert_eq!(names, ["boot", "ESP", "swap", "root", "empty"]);
    // And rendering keeps it: the file a person wrote is not reshuffled.
    let text = disko::render(&gpt);
    let at = |needle: &str| text.find(needle).unwrap();
    assert!(
        at("boot = {") < at("ESP = {")
            && at("ESP = {") < at("swap = {")
            && at("swap = {") < at("root = {")
    );
}

fn example_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixture("disko/examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "nix"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 38, "disko has 38 example layouts: {files:?}");
    files
}

/// nixdeck-core's unit tests read disko's examples as stored JSON; this keeps that
/// JSON equal to what the `.nix` files evaluate to.
#[test]
fn stored_evaluations_of_disko_examples_are_current() {
    let files = example_files();
    let evaluated = evaluate_all(&files);
    for (file, value) in files.iter().zip(&evaluated) {
        let stem = file.file_stem().unwrap().to_str().unwrap();
        let stored = fixture(&format!("disko/examples/evaluated/{stem}.json"));
        let text = std::fs::read_to_string(&stored)
            .unwrap_or_else(|e| panic!("{}: {e}", stored.display()));
        let stored: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            value, &stored,
            "{stem}: evaluated/{stem}.json is out of date"
        );
    }
}

/// Every `mountpoint` option in an evaluated layout (ZFS's `mountpoint` property
/// too), except ZFS's `none` and `legacy`; nodev mounts default to their name.
fn mountpoints(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("mountpoint", Value::String(m)) if m.starts_with('/') => out.push(m.clone()),
                    _ => mountpoints(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| mountpoints(v, out)),
        _ => {}
    }
    if let Some(nodev) = value.get("nodev").and_then(Value::as_object) {
        for (name, v) in nodev {
            if v.get("mountpoint").is_none() {
                out.push(name.clone());
            }
        }
    }
}

/// `mountpoint` stands as a word of `text`: after a space, before a separator.
fn mentions(text: &str, mountpoint: &str) -> bool {
    text.match_indices(mountpoint).any(|(i, _)| {
        let before = text[..i].chars().last();
        let after = text[i + mountpoint.len()..].chars().next();
        before == Some(' ') && matches!(after, None | Some(' ' | ',' | ';' | ')' | '\n'))
    })
}

#[test]
fn cli_summary_names_every_disk_and_mountpoint_of_disko_examples() {
    for file in example_files() {
        let out = headless()
            .args(["layout", "summary"])
            .arg(&file)
            .output()
            .unwrap();
        let stem = file.file_stem().unwrap().to_str().unwrap().to_string();
        assert!(
            out.status.success(),
            "{stem}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let stored: Value = serde_json::from_str(
            &std::fs::read_to_string(fixture(&format!("disko/examples/evaluated/{stem}.json")))
                .unwrap(),
        )
        .unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for name in stored["disk"]
            .as_object()
            .into_iter()
            .flat_map(|d| d.keys())
        {
            assert!(
                lines
                    .iter()
                    .any(|l| l.starts_with(&format!("{name} ("))
                        || l.starts_with(&format!("{name}: "))),
                "{stem}: no line for disk {name}:\n{text}"
            );
        }
        let mut points = Vec::new();
        mountpoints(&stored, &mut points);
        for m in points {
            assert!(
                mentions(&text, &m),
                "{stem}: mountpoint {m} missing:\n{text}"
            );
        }
    }
}

#[test]
fn cli_summary_adds_probed_models_and_speaks_json() {
    let dir = tempfile::tempdir().unwrap();
    let facts = nixdeck_core::facts::HostFacts {
        hostname: "web1".into(),
        disks: vec![nixdeck_core::facts::BlockDevice {
            name: "sda".into(),
            path: "/dev/sda".into(),
            size_bytes: 1 << 40,
            kind: "disk".into(),
            model: Some("Samsung SSD 980  ".into()),
            by_id: vec!["/dev/disk/by-id/ata-Samsung_1".into()],
            ..Default::default()
        }],
        ..Default::default()
    };
    let facts_file = dir.path().join("facts.json");
    std::fs::write(&facts_file, serde_json::to_string(&facts).unwrap()).unwrap();
    let layout = dir.path().join("layout.json");
    std::fs::write(
        &layout,
        r#"{"disk": {"main": {"device": "/dev/disk/by-id/ata-Samsung_1", "type": "disk", "content": {"type": "gpt", "partitions": {
            "ESP": {"type": "EF00", "size": "512M", "content": {"type": "filesystem", "format": "vfat", "mountpoint": "/boot"}},
            "luks": {"size": "100%", "content": {"type": "luks", "name": "crypted", "content": {"type": "btrfs", "subvolumes": {
                "/root": {"mountpoint": "/"}, "/home": {"mountpoint": "/home"}, "/nix": {"mountpoint": "/nix"}}}}}}}}}}"#,
    )
    .unwrap();
    let out = headless()
        .args(["layout", "summary", "--facts"])
        .arg(&facts_file)
        .arg(&layout)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "main (/dev/disk/by-id/ata-Samsung_1, Samsung SSD 980, 1 TiB): 512 MiB EFI system partition at /boot; \
         the rest encrypted (LUKS \"crypted\"), holding btrfs subvolumes / (/root), /home (/home) and /nix (/nix)\n"
    );

    let out = headless()
        .args(["layout", "summary", "--json"])
        .arg(&layout)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["disks"][0]["name"], "main");
    assert_eq!(summary["disks"][0]["model"], Value::Null);
    assert!(summary["disks"][0]["text"]
        .as_str()
        .unwrap()
        .starts_with("512 MiB EFI system partition at /boot"));
    assert_eq!(summary["groups"], serde_json::json!([]));
}
