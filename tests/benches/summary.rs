//! Merges the figures every bench wrote (`target/bench/<bench>.json`, flat
//! objects of name to number) into `target/bench/summary.json`, and prints
//! them as a table beside their targets. Figures nobody measured in this run
//! are `null` in the summary and `not measured` in the table.
//!
//! Run last by `bash scripts/nixdeck.sh bench`; alone:
//! `cargo bench -p nixdeck-tests --bench summary` (`-- --smoke` marks the
//! summary as a smoke run, whose figures mean nothing).

use nixdeck_tests::bench;
use serde_json::{Map, Value};

/// Whether a figure should be at most or at least its bound.
#[derive(Clone, Copy)]
enum Bound {
    AtMost(f64),
    AtLeast(f64),
}

/// The figures issue 17 asks for, in the order the table shows them.
const TARGETS: &[(&str, Bound, &str)] = &[
    (
        "probe_vs_openssh",
        Bound::AtMost(1.0),
        "nixdeck probe / ssh HOST, same commands, median",
    ),
    (
        "probe_20_hosts_vs_one_at_50ms_rtt",
        Bound::AtMost(1.5),
        "20 targets at once / one, 50 ms round trip",
    ),
    (
        "runner_vs_pipe_1m",
        Bound::AtLeast(0.5),
        "runner throughput / pipe into wc -l, 1M lines",
    ),
    (
        "log_live_10m_vs_runner",
        Bound::AtMost(1.5),
        "window's live log view / runner, 10M lines",
    ),
    (
        "log_open_10m_s",
        Bound::AtMost(1.0),
        "open a finished 10M-line log to a screen, s",
    ),
    (
        "log_search_10m_s",
        Bound::AtMost(1.0),
        "search to a match near the end of 10M lines, s",
    ),
    (
        "launch_vs_blank_tauri",
        Bound::AtMost(1.5),
        "launch time / a blank Tauri window",
    ),
    (
        "idle_pss_vs_blank_tauri",
        Bound::AtMost(1.5),
        "idle PSS / a blank Tauri window",
    ),
    (
        "edit_to_preview_ms_24_disks",
        Bound::AtMost(16.0),
        "disk edit to preview, 24 disks, ms",
    ),
    (
        "fleet_100_hosts_open_ms",
        Bound::AtMost(500.0),
        "open a 100-host fleet, ms",
    ),
];

fn main() {
    let dir = bench::out_dir();
    let mut merged = Map::new();
    let mut sources: Vec<String> = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    entries.sort();
    for path in entries {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let Some(name) = name.filter(|n| n.ends_with(".json") && n != "summary.json") else {
            continue;
        };
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        match serde_json::from_str::<Map<String, Value>>(&text) {
            Ok(figures) => {
                for (key, value) in figures {
                    if value.is_number() || value.is_null() {
                        merged.insert(key, value);
                    } else {
                        eprintln!("{name}: {key} is not a number; left out");
                    }
                }
                sources.push(name);
            }
            Err(e) => eprintln!("{name}: not a JSON object of figures ({e}); left out"),
        }
    }

    let smoke = bench::smoke();
    println!();
    println!(
        "benchmark summary{} (from {})",
        if smoke {
            " -- SMOKE RUN: tiny sizes, figures mean nothing"
        } else {
            ""
        },
        if sources.is_empty() {
            "no bench output".to_string()
        } else {
            sources.join(", ")
        }
    );
    println!(
        "{:<36} {:>10} {:>10}  {:<8} what",
        "figure", "value", "target", ""
    );
    let mut summary = Map::new();
    let mut missed = 0;
    for (key, bound, what) in TARGETS {
        let value = merged.get(*key).and_then(Value::as_f64);
        let (target, ok) = match (bound, value) {
            (Bound::AtMost(b), v) => (format!("<= {b}"), v.map(|v| v <= *b)),
            (Bound::AtLeast(b), v) => (format!(">= {b}"), v.map(|v| v >= *b)),
        };
        let (shown, verdict) = match (value, ok) {
            (Some(v), _) if smoke => (format!("{v:.3}"), "smoke"),
            (Some(v), Some(true)) => (format!("{v:.3}"), "ok"),
            (Some(v), _) => {
                missed += 1;
                (format!("{v:.3}"), "MISSED")
            }
            (None, _) => ("-".to_string(), "not measured"),
        };
        println!("{key:<36} {shown:>10} {target:>10}  {verdict:<8} {what}");
        summary.insert((*key).to_string(), value.map_or(Value::Null, Value::from));
    }
    let extra: Vec<_> = merged
        .iter()
        .filter(|(k, _)| !TARGETS.iter().any(|(t, _, _)| t == k))
        .collect();
    if !extra.is_empty() {
        println!("other figures:");
        for (key, value) in extra {
            println!("  {key:<48} {value}");
            summary.insert(key.clone(), value.clone());
        }
    }
    summary.insert("smoke".to_string(), Value::Bool(smoke));
    let path = dir.join("summary.json");
    std::fs::create_dir_all(&dir).expect("create the bench directory");
    let text = serde_json::to_string_pretty(&summary).expect("summary serializes");
    std::fs::write(&path, format!("{text}\n")).expect("write summary.json");
    println!(
        "{missed} measured figure(s) missed their target; summary written to {}",
        path.display()
    );
}
