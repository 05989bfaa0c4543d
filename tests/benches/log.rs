//! The log reader on finished logs of 1 thousand to 10 million lines of ~100
//! bytes (a build's output, as the runner writes it): the time to open one
//! and read its last screen (index built from nothing: a window opening the
//! log of a job it never saw), the time to search to a match near its end,
//! and the index's size. The log is freshly written, so it is in the page
//! cache, as a just-finished job's log is.
//!
//! Writes `target/bench/log.json`: `log_open_10m_s` and `log_search_10m_s`
//! (targets <= 1.0 s each), with figures at the other sizes beside them.
//! Run: `cargo bench -p nixdeck-tests --bench log` (`-- --smoke`: 100,000 lines).

use nixdeck_engine::jobs::log::{Direction, LogIndex};
use nixdeck_tests::bench::{self, median};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// Lines on a screen (and a margin).
const SCREEN: usize = 80;
const NEEDLE: &str = "error: builder for '/nix/store/5x8fqi-hello-2.12.drv' failed";

fn write_log(path: &Path, lines: u64, needle_at: u64) {
    let file = std::fs::File::create(path).expect("create the log");
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    for i in 0..lines {
        if i == needle_at {
            writeln!(out, "{NEEDLE} with exit code 2").expect("write");
        } else {
            writeln!(
                out,
                "{i:>10} building /nix/store/q2b6y1ckrb2fl7n7nl4hgb4h2xd0lz3k-linux-6.12 xxxxxxxxxxxxxxxxxxxx"
            )
            .expect("write");
        }
    }
    out.flush().expect("flush the log");
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let smoke = bench::smoke();
    let sizes: &[(u64, &str)] = if smoke {
        &[(100_000, "10m")]
    } else {
        &[(1_000, "1k"), (1_000_000, "1m"), (10_000_000, "10m")]
    };
    let runs = if smoke { 1 } else { 3 };
    let dir = tempfile::tempdir().expect("temp dir");
    let mut figures: Vec<(String, f64)> = Vec::new();
    println!("log reader: open to the last screen, search to a match near the end");
    for &(lines, label) in sizes {
        let path = dir.path().join(format!("{label}.log"));
        let needle_at = lines - lines / 1000 - 1;
        write_log(&path, lines, needle_at);
        let bytes = std::fs::metadata(&path).map_or(0, |m| m.len());

        let mut open = Vec::new();
        let mut index_bytes = 0;
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        let rss_before = status_kb("VmRSS:");
        for _ in 0..runs {
            let started = Instant::now();
            let index = LogIndex::open(&path).expect("open the log");
            let total = index.line_count();
            let screen = index
                .lines(total.saturating_sub(SCREEN as u64), SCREEN)
                .expect("read the last screen");
            open.push(started.elapsed());
            assert_eq!(total, lines);
            assert_eq!(screen.len(), SCREEN.min(lines as usize));
            index_bytes = index.index_bytes();
        }
        let growth_kb = status_kb("VmHWM:").saturating_sub(rss_before);
        let index = LogIndex::open(&path).expect("open the log");

        let mut search = Vec::new();
        let mut search_ci = Vec::new();
        let mut back = Vec::new();
        for _ in 0..runs {
            let started = Instant::now();
            let hit = index.search(NEEDLE, 0, Direction::Forward, false);
            search.push(started.elapsed());
            assert_eq!(hit.expect("search"), Some(needle_at));
            let started = Instant::now();
            let hit = index.search(&NEEDLE.to_uppercase(), 0, Direction::Forward, true);
            search_ci.push(started.elapsed());
            assert_eq!(hit.expect("search"), Some(needle_at));
            // Backwards from the end to the first line: the whole log.
            let started = Instant::now();
            // Only line 0 has a space before a lone 0 (numbers are right-aligned).
            let hit = index.search(" 0 building", lines - 1, Direction::Backward, false);
            back.push(started.elapsed());
            assert_eq!(hit.expect("search"), Some(0));
        }
        let (open, search, search_ci) = (median(open), median(search), median(search_ci));
        let first = {
            let started = Instant::now();
            let page = index.lines(lines / 2, SCREEN).expect("read a screen");
            assert_eq!(page.len(), SCREEN.min(lines as usize - lines as usize / 2));
            started.elapsed()
        };
        println!(
            "N = {lines} ({:.0} MB), median of {runs}:",
            bytes as f64 / 1e6
        );
        println!(
            "  open + last screen        {:>8.3} s  (target <= 1.0 s at 10M)",
            secs(open)
        );
        println!("  a screen from the middle  {:>8.3} ms", secs(first) * 1e3);
        println!(
            "  search to line {needle_at}: {:.3} s, ignoring case {:.3} s, backwards over all: {:.3} s  ({:.1} GB/s)",
            secs(search),
            secs(search_ci),
            secs(median(back)),
            bytes as f64 / secs(search) / 1e9
        );
        println!(
            "  index {:.2} MB ({:.1} bytes per line); peak memory growth while opening {:.1} MB",
            index_bytes as f64 / 1e6,
            index_bytes as f64 / lines as f64,
            growth_kb as f64 / 1024.0
        );
        // The backend alone; `log_open_10m_s` and `log_search_10m_s` are the
        // window's own figures (benches/window.rs), which include these.
        figures.push((format!("log_open_{label}_backend_s"), secs(open)));
        figures.push((format!("log_search_{label}_backend_s"), secs(search)));
        figures.push((
            format!("log_search_ignore_case_{label}_backend_s"),
            secs(search_ci),
        ));
        figures.push((format!("log_index_mb_{label}"), index_bytes as f64 / 1e6));
        let _ = std::fs::remove_file(&path);
    }
    let figures: Vec<(&str, f64)> = figures.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    bench::write_figures("log", &figures);
}
