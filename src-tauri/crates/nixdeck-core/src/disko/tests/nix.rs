//! Evaluating rendered layouts with the real `nix-instantiate`, many per run
//! (each start costs tens of milliseconds).

use serde_json::Value;
use std::process::Command;

/// The evaluated `disko.devices` of each text, in one `nix-instantiate` call.
pub fn eval_many(texts: &[String]) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let mut expr = String::from("[");
    for (i, text) in texts.iter().enumerate() {
        let path = dir.path().join(format!("{i}.nix"));
        std::fs::write(&path, text).unwrap();
        expr.push_str(&format!(" (import {}).disko.devices", path.display()));
    }
    expr.push_str(" ]");
    let out = Command::new("nix-instantiate")
        .args(["--eval", "--strict", "--json", "--expr", &expr])
        .env("NIX_REMOTE", "")
        .output()
        .expect("nix-instantiate runs (Debian: apt install nix-bin)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    match serde_json::from_slice(&out.stdout).unwrap() {
        Value::Array(items) => items,
        other => panic!("not a list: {other}"),
    }
}
