//! What the benches share: the smoke switch, medians, and where each bench
//! writes its figures for `bash scripts/nixdeck.sh bench` to merge.
//!
//! Each bench writes `<dir>/<bench>.json`, a flat JSON object of figure name
//! to number, where `<dir>` is `$NIXDECK_BENCH_DIR` or `target/bench` of the
//! repository. The `summary` bench merges every such file into
//! `summary.json`; any other program (the window's benches) can add figures
//! the same way.

use std::path::PathBuf;
use std::time::Duration;

/// Whether the bench was asked for a quick run at tiny sizes (`-- --smoke`):
/// it checks that the bench works, its figures mean nothing.
pub fn smoke() -> bool {
    std::env::args().any(|a| a == "--smoke")
}

/// The value after `--<name>` on the command line.
pub fn arg<T: std::str::FromStr>(name: &str) -> Option<T> {
    let args: Vec<String> = std::env::args().collect();
    let flag = format!("--{name}");
    let at = args.iter().position(|a| *a == flag)?;
    args.get(at + 1)?.parse().ok()
}

/// Whether the part `name` of a bench runs: all do, unless `-- --only <part>`
/// names one (while working on it).
pub fn part(name: &str) -> bool {
    arg::<String>("only").is_none_or(|only| only == name)
}

/// The directory benches write their figures to.
pub fn out_dir() -> PathBuf {
    match std::env::var_os("NIXDECK_BENCH_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => crate::repo_root().join("target/bench"),
    }
}

/// Writes `figures` as `<out_dir>/<bench>.json`.
pub fn write_figures(bench: &str, figures: &[(&str, f64)]) {
    let dir = out_dir();
    std::fs::create_dir_all(&dir).expect("create the bench output directory");
    let mut map = serde_json::Map::new();
    for (name, value) in figures {
        // Rounded so the file reads well; NaN and infinities become null.
        let rounded = (value * 10_000.0).round() / 10_000.0;
        map.insert((*name).to_string(), serde_json::json!(rounded));
    }
    let path = dir.join(format!("{bench}.json"));
    let text = serde_json::to_string_pretty(&map).expect("figures serialize");
    std::fs::write(&path, format!("{text}\n")).expect("write the bench figures");
    println!("figures written to {}", path.display());
}

/// The median (the upper one of an even count).
pub fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

/// `12.3 ms`.
pub fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}
