//! nixdeck's own `flake.nix` (`nix run github:…/nixdeck`): parsed by the real
//! `nix-instantiate` and evaluated with a stand-in nixpkgs
//! (`tests/fixtures/nixdeck-flake/eval.nix`). Nothing is built: that needs
//! nixpkgs and the network.

use nixdeck_tests::{fixture, repo_root};
use serde_json::Value;
use std::process::Command;

fn nix_instantiate(args: &[&str]) -> std::process::Output {
    Command::new("nix-instantiate")
        .args(args)
        .current_dir(repo_root())
        .output()
        .expect("nix-instantiate runs")
}

#[test]
fn the_flake_and_its_package_parse() {
    for file in ["flake.nix", "nix/package.nix"] {
        let out = nix_instantiate(&["--parse", file]);
        assert!(
            out.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn the_flake_evaluates_to_a_runnable_nixdeck() {
    let root = repo_root();
    let eval = fixture("nixdeck-flake/eval.nix");
    let out = nix_instantiate(&[
        "--eval",
        "--strict",
        "--json",
        eval.to_str().unwrap(),
        "--arg",
        "root",
        root.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["pname"], "nixdeck");
    // The version is the workspace's, read from Cargo.toml, not a copy.
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(v["mainProgram"], "nixdeck");
    // `nix run` runs the package's binary.
    assert_eq!(
        v["program"].as_str().unwrap(),
        format!("{}/bin/nixdeck", v["packageOut"].as_str().unwrap())
    );
    assert_eq!(
        v["systems"],
        serde_json::json!(["aarch64-linux", "x86_64-linux"])
    );
    assert_eq!(v["doCheck"], false);
    let root = root.to_str().unwrap();
    assert_eq!(v["lockFile"], format!("{root}/Cargo.lock"));
    assert_eq!(v["npmRoot"], root);
    // Every workspace member and what the Tauri build reads is in the source.
    let files: Vec<&str> = v["srcFiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    for needed in [
        "Cargo.toml",
        "Cargo.lock",
        "tauri.conf.json",
        "package-lock.json",
        "icons",
        "src-tauri",
        "ui",
        "tests",
    ] {
        assert!(files.contains(&needed), "{needed} missing from {files:?}");
    }
    let native: Vec<&str> = v["nativeBuildInputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(native.contains(&"cargo-tauri-hook") && native.contains(&"npm-config-hook"));
    // nixdeck runs nix, git and ssh: the wrapper puts them on PATH.
    let fixup = v["preFixup"].as_str().unwrap();
    for tool in ["nix", "git", "openssh"] {
        assert!(fixup.contains(&format!("-{tool}/bin")), "{fixup}");
    }
}
