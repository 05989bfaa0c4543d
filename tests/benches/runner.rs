//! Runner throughput and memory: a child writing 1,000,000 lines of ~100 bytes,
//! read by the runner (line splitting, log file, batching into a counting
//! sink), beside the same child piped into `wc -l`. Prints figures and writes
//! `target/bench/runner.json` (`runner_vs_pipe_1m`, target >= 0.5); run with
//! `cargo bench -p nixdeck-tests --bench runner` (`-- --smoke`: 20,000 lines).
//!
//! Also the runner feeding what a window's sink does with events (each one
//! serialized to JSON, as an IPC channel does), with every line and through
//! [`LiveTail`], which sends counts and the tail when lines come too fast.
//!
//! The child is this binary itself (`NIXDECK_BENCH_CHILD=<lines>`), so both
//! sides read exactly the same bytes as fast as a writer can produce them.

use nixdeck_engine::runner::{
    EventSink, JobEvent, LiveTail, PlainOutput, Run, RunSpec, TailLimits, DEFAULT_GRACE,
};
use nixdeck_tests::bench;
use std::io::Write;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const LINE_BYTES: usize = 100;

fn child(lines: u64) {
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
    let pad = "x".repeat(LINE_BYTES);
    for i in 0..lines {
        let head =
            format!("{i:>10} building /nix/store/q2b6y1ckrb2fl7n7nl4hgb4h2xd0lz3k-linux-6.12 ");
        let _ = writeln!(out, "{head}{}", &pad[..LINE_BYTES - 1 - head.len()]);
    }
    let _ = out.flush();
}

#[derive(Default)]
struct Count {
    lines: AtomicU64,
    bytes: AtomicU64,
    batches: AtomicU64,
}

impl EventSink for Count {
    fn send(&self, event: &JobEvent) -> bool {
        if let JobEvent::Lines { lines, .. } = event {
            self.batches.fetch_add(1, Ordering::Relaxed);
            self.lines.fetch_add(lines.len() as u64, Ordering::Relaxed);
            let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
            self.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
        }
        true
    }
}

/// What a window's sink does: every event becomes a JSON message.
#[derive(Default)]
struct Json {
    messages: AtomicU64,
    bytes: AtomicU64,
}

impl EventSink for Json {
    fn send(&self, event: &JobEvent) -> bool {
        let text = serde_json::to_string(event).unwrap_or_default();
        self.messages.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(text.len() as u64, Ordering::Relaxed);
        true
    }
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

/// CPU seconds (user + system) used so far by this process or its waited-for children.
fn cpu_secs(who: i32) -> f64 {
    // SAFETY: getrusage fills the struct we pass.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(who, &mut usage) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    t(usage.ru_utime) + t(usage.ru_stime)
}

fn pipe(exe: &str, lines: u64) -> (Duration, u64) {
    let start = Instant::now();
    let out = Command::new("sh")
        .args(["-c", &format!("'{exe}' | wc -l")])
        .env("NIXDECK_BENCH_CHILD", lines.to_string())
        .output()
        .expect("sh runs");
    let elapsed = start.elapsed();
    let counted = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0);
    (elapsed, counted)
}

fn runner(
    rt: &tokio::runtime::Runtime,
    exe: &str,
    lines: u64,
    sink: Arc<dyn EventSink>,
) -> (Duration, u64, f64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let spec = RunSpec {
        program: exe.to_string(),
        args: vec![],
        env: vec![("NIXDECK_BENCH_CHILD".into(), lines.to_string())],
        cwd: dir.path().to_path_buf(),
        display_argv: vec!["bench-child".into()],
        secrets: vec![],
        log_path: dir.path().join("job.log"),
        grace: DEFAULT_GRACE,
        stall_after: None,
        stop_on_prompt: false,
    };
    // Reset the peak-RSS mark so the growth is this run's alone.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let before = status_kb("VmRSS:");
    let cpu_before = cpu_secs(libc::RUSAGE_SELF);
    let start = Instant::now();
    let outcome = rt.block_on(async {
        let run = Run::start(spec, Box::new(PlainOutput), Some(sink)).expect("runner starts");
        run.wait().await
    });
    let elapsed = start.elapsed();
    let cpu = cpu_secs(libc::RUSAGE_SELF) - cpu_before;
    let growth = status_kb("VmHWM:").saturating_sub(before);
    assert_eq!(outcome.lines, lines, "every line arrived");
    (elapsed, growth, cpu)
}

fn main() {
    if let Ok(n) = std::env::var("NIXDECK_BENCH_CHILD") {
        child(n.parse().unwrap_or(0));
        return;
    }
    let exe = std::env::current_exe().expect("own path");
    let exe = exe.to_string_lossy().into_owned();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let smoke = bench::smoke();
    let sizes: &[u64] = if smoke {
        &[20_000]
    } else {
        &[1_000_000, 5_000_000]
    };
    let mut figures: Vec<(&str, f64)> = Vec::new();
    println!("runner benchmark: a child writes N lines of {LINE_BYTES} bytes");
    for &lines in sizes {
        let mb = (lines as f64 * LINE_BYTES as f64) / 1e6;
        // Warm the page cache and the binary once.
        let _ = pipe(&exe, 10_000);
        // Interleaved rounds, medians: on a shared machine the load moves
        // between runs, and a single pair measures it as much as the runner.
        let rounds = if smoke || lines > 1_000_000 { 1 } else { 5 };
        let (mut pipes, mut runs, mut growths, mut cpus) = (vec![], vec![], vec![], vec![]);
        let mut sink = Arc::new(Count::default());
        for _ in 0..rounds {
            let (pipe_t, counted) = pipe(&exe, lines);
            assert_eq!(counted, lines, "wc -l counted every line");
            pipes.push(pipe_t);
            sink = Arc::new(Count::default());
            let (run_t, growth_kb, run_cpu) = runner(&rt, &exe, lines, sink.clone());
            runs.push(run_t);
            growths.push(growth_kb);
            cpus.push(Duration::from_secs_f64(run_cpu));
        }
        let (pipe_t, run_t) = (bench::median(pipes), bench::median(runs));
        let growth_kb = growths.into_iter().max().unwrap_or(0);
        let run_cpu = bench::median(cpus).as_secs_f64();
        let run_lps = lines as f64 / run_t.as_secs_f64();
        let pipe_lps = lines as f64 / pipe_t.as_secs_f64();
        println!("N = {lines} ({mb:.0} MB), median of {rounds} interleaved rounds");
        println!(
            "  pipe | wc -l : {:>7.3} s  {:>12.0} lines/s  {:>8.1} MB/s",
            pipe_t.as_secs_f64(),
            pipe_lps,
            mb / pipe_t.as_secs_f64()
        );
        println!(
            "  runner       : {:>7.3} s  {:>12.0} lines/s  {:>8.1} MB/s  ({} batches, {:.1} batches/s, {} lines, {} bytes)",
            run_t.as_secs_f64(),
            run_lps,
            mb / run_t.as_secs_f64(),
            sink.batches.load(Ordering::Relaxed),
            sink.batches.load(Ordering::Relaxed) as f64 / run_t.as_secs_f64(),
            sink.lines.load(Ordering::Relaxed),
            sink.bytes.load(Ordering::Relaxed),
        );
        println!(
            "  ratio runner/pipe : {:.2} (target >= 0.5)",
            run_lps / pipe_lps
        );
        println!(
            "  runner CPU        : {:.3} s ({:.0} ns/line, {:.0} MB per CPU-second; the child's CPU not counted)",
            run_cpu,
            run_cpu * 1e9 / lines as f64,
            mb / run_cpu
        );
        let mut load = [0f64; 3];
        // SAFETY: getloadavg fills the array we pass.
        unsafe { libc::getloadavg(load.as_mut_ptr(), 3) };
        println!(
            "  machine load (1 min): {:.1} on {} cores",
            load[0],
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(0)
        );
        println!(
            "  peak memory growth: {:.1} MB (target < 50 MB)",
            growth_kb as f64 / 1024.0
        );
        if lines != sizes[0] {
            continue;
        }
        figures.push(("runner_vs_pipe_1m", run_lps / pipe_lps));
        figures.push(("runner_load_average_1m", load[0]));
        figures.push(("runner_cpu_ns_per_line_1m", run_cpu * 1e9 / lines as f64));
        figures.push(("runner_1m_s", run_t.as_secs_f64()));
        figures.push(("runner_1m_peak_growth_mb", growth_kb as f64 / 1024.0));
        // What reaches a window: every line as JSON, or counts and tails.
        let every = Arc::new(Json::default());
        let (every_t, _, _) = runner(&rt, &exe, lines, every.clone());
        let thin = Arc::new(Json::default());
        let tail = Arc::new(LiveTail::new(thin.clone(), TailLimits::default()));
        let (thin_t, _, _) = runner(&rt, &exe, lines, tail);
        for (what, t, json) in [("every line", every_t, &every), ("LiveTail", thin_t, &thin)] {
            println!(
                "  runner -> JSON ({what:>10}): {:>7.3} s, {:.2}x the pipe's time, {} messages, {:.1} MB of JSON",
                t.as_secs_f64(),
                t.as_secs_f64() / pipe_t.as_secs_f64(),
                json.messages.load(Ordering::Relaxed),
                json.bytes.load(Ordering::Relaxed) as f64 / 1e6
            );
        }
        figures.push((
            "runner_json_every_line_vs_runner_1m",
            every_t.as_secs_f64() / run_t.as_secs_f64(),
        ));
        figures.push((
            "runner_json_live_tail_vs_runner_1m",
            thin_t.as_secs_f64() / run_t.as_secs_f64(),
        ));
        figures.push((
            "runner_json_live_tail_mb_1m",
            thin.bytes.load(Ordering::Relaxed) as f64 / 1e6,
        ));
    }
    bench::write_figures("runner", &figures);
}
