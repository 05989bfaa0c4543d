//! The window's benches: the real app under Xvfb through tauri-driver, as the
//! e2e tests drive it (tests/e2e/harness.rs), measured beside a blank Tauri
//! window built from the same package (src-tauri/examples/blank.rs) or beside
//! the runner alone. Writes `target/bench/window.json`:
//!
//! - `launch_vs_blank_tauri`: from the WebDriver session request (which
//!   spawns the app) until the start screen's element is in the page, over
//!   the same for the blank page's element; medians, runs alternating.
//! - `idle_pss_vs_blank_tauri`: PSS (`/proc/<pid>/smaps_rollup`) summed over
//!   the app's process and everything below it (WebKit's web and network
//!   processes), a few seconds after it became interactive, over the same
//!   for the blank window.
//! - `edit_to_preview_ms_24_disks`: the wizard's layout step on a host with
//!   24 real disks (loop devices behind a real sshd on 127.0.0.1, probed) and
//!   a `disko.nix` using all of them; in the page, from Enter in the size field
//!   of the first disk's partition until its drawn segment and the disko.nix
//!   preview show the new size; median of 101 edits (one edit takes 7 to 30
//!   ms here, as the webview's painting of the last one shares the two cores,
//!   so a median of few edits moves by several milliseconds from run to run);
//!   the quartiles are printed beside it.
//! - `fleet_100_hosts_open_ms`: in the page, from the click on "Open
//!   repository…" until the rows of all 100 hosts are in the page.
//! - `log_live_10m_vs_runner`: from the click on "Validate" (the stand-in nix
//!   floods 10M lines) until the log view says 10M lines and shows the last
//!   one, over the runner running the same stand-in alone (the engine's
//!   `JobManager`, no watcher); medians of three runs each, alternating.
//! - `log_open_10m_s`: in the page, from the click on that finished job until
//!   its last line is drawn (the view opens at the end).
//! - `log_search_10m_s`: in the page, from the search box's submit with the
//!   view at the top until the line near the end that matches is drawn.
//!
//! `--smoke` runs each once at tiny sizes (20,000 lines, 10 hosts). The app
//! and the blank window are `NIXDECK_APP_BIN` / `NIXDECK_BLANK_BIN`, by default
//! `target/<profile>/nixdeck` and `target/<profile>/examples/blank` of the
//! profile this bench was built in; `bash scripts/nixdeck.sh bench` builds them.

#[allow(dead_code)]
#[path = "../e2e/harness.rs"]
mod harness;

use anyhow::{bail, Context, Result};
use harness::{App, AppOptions};
use nixdeck_core::repo::{FlakeSpec, HostName, HostSpec, Tag};
use nixdeck_core::tools::plan::{EnvVar, ToolSettings};
use nixdeck_engine::jobs::{requests, JobManager};
use nixdeck_engine::repo::{self, Confirm};
use nixdeck_engine::runner::JobResult;
use nixdeck_tests::bench;
use nixdeck_tests::loopdisk::LoopDisk;
use nixdeck_tests::sshd::{Sshd, SshdOptions};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn main() -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(run(bench::smoke()))
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

async fn run(smoke: bool) -> Result<()> {
    // `-- --only launch|edit|fleet|logs` runs one part (while working on it).
    let part = bench::part;
    let mut figures: Vec<(&str, f64)> = Vec::new();
    println!("load average before: {}", load());
    let (app_bin, blank_bin) = binaries()?;

    let runs = if smoke { 1 } else { 5 };
    if part("launch") {
        let (launch_app, launch_blank, pss_app, pss_blank) =
            launch_and_memory(&app_bin, &blank_bin, runs, smoke).await?;
        println!(
        "launch to interactive: nixdeck {}, blank {}; idle PSS: nixdeck {:.1} MiB, blank {:.1} MiB",
        bench::ms(launch_app),
        bench::ms(launch_blank),
        pss_app / 1024.0,
        pss_blank / 1024.0
    );
        figures.push(("launch_ms_app", ms(launch_app)));
        figures.push(("launch_ms_blank_tauri", ms(launch_blank)));
        figures.push(("launch_vs_blank_tauri", ratio(launch_app, launch_blank)));
        figures.push(("idle_pss_mib_app", pss_app / 1024.0));
        figures.push(("idle_pss_mib_blank_tauri", pss_blank / 1024.0));
        figures.push(("idle_pss_vs_blank_tauri", pss_app / pss_blank));
        println!("load average: {}", load());
    }

    if part("edit") {
        let edits = if smoke { 3 } else { 101 };
        let edit = edit_to_preview(&app_bin, DISKS, edits).await?;
        println!(
        "a size typed on a {DISKS}-disk layout until the drawing and disko.nix show it: {edit:.1} ms (median of {edits})"
    );
        figures.push(("edit_to_preview_ms_24_disks", edit));
        println!("load average: {}", load());
    }

    if part("fleet") {
        let hosts = if smoke { 10 } else { 100 };
        let fleet = fleet_open(&app_bin, hosts, runs).await?;
        println!("open a {hosts}-host repository until its fleet is drawn: {fleet:.1} ms");
        figures.push(("fleet_100_hosts_open_ms", fleet));
        println!("load average: {}", load());
    }

    if part("logs") {
        let lines: u64 = bench::arg("lines").unwrap_or(if smoke { 20_000 } else { 10_000_000 });
        let logs = logs(&app_bin, lines, if smoke { 1 } else { 3 }).await?;
        println!(
        "{lines} lines: runner alone {:.2} s, window live {:.2} s ({:.2}x); open to the last screen {:.3} s; search to a match near the end {:.3} s",
        logs.runner.as_secs_f64(),
        logs.live.as_secs_f64(),
        ratio(logs.live, logs.runner),
        logs.open,
        logs.search
    );
        figures.push(("log_runner_10m_s", logs.runner.as_secs_f64()));
        figures.push(("log_live_10m_s", logs.live.as_secs_f64()));
        figures.push(("log_live_10m_vs_runner", ratio(logs.live, logs.runner)));
        figures.push(("log_open_10m_s", logs.open));
        figures.push(("log_search_10m_s", logs.search));
    }
    let after = load();
    println!("load average after: {after}");
    let load1: f64 = after
        .split_whitespace()
        .next()
        .and_then(|l| l.parse().ok())
        .unwrap_or(f64::NAN);
    figures.push(("window_load_average_1m", load1));
    bench::write_figures("window", &figures);
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}

/// The app and the blank window of this bench's profile (or as the environment says).
fn binaries() -> Result<(PathBuf, PathBuf)> {
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    let target = nixdeck_tests::repo_root().join("target").join(profile);
    let pick = |var: &str, default: PathBuf| -> Result<PathBuf> {
        let path = std::env::var_os(var).map_or(default, PathBuf::from);
        if !path.exists() {
            bail!(
                "{} does not exist: build it with `npm run build && cargo build{} -p nixdeck --features tauri/custom-protocol --bin nixdeck --example blank` (bash scripts/nixdeck.sh bench does)",
                path.display(),
                if profile == "release" { " --release" } else { "" }
            );
        }
        Ok(path.canonicalize()?)
    };
    Ok((
        pick("NIXDECK_APP_BIN", target.join("nixdeck"))?,
        pick("NIXDECK_BLANK_BIN", target.join("examples/blank"))?,
    ))
}

/// Parent of every process, from /proc.
fn parents() -> HashMap<u32, u32> {
    let mut out = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in dir.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
            continue;
        };
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        // `pid (comm) state ppid …`: comm may hold spaces and parentheses.
        let ppid = stat
            .rfind(')')
            .and_then(|at| stat[at + 1..].split_whitespace().nth(1))
            .and_then(|p| p.parse().ok());
        if let Some(ppid) = ppid {
            out.insert(pid, ppid);
        }
    }
    out
}

/// `root` and every process below it.
fn tree(root: u32, parents: &HashMap<u32, u32>) -> Vec<u32> {
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let p = out[i];
        out.extend(parents.iter().filter(|(_, pp)| **pp == p).map(|(c, _)| *c));
        i += 1;
    }
    out
}

/// The process running `binary` below `driver`, and everything below it (its WebKit processes).
fn app_tree(driver: u32, binary: &Path) -> Result<Vec<u32>> {
    let parents = parents();
    let app = tree(driver, &parents)
        .into_iter()
        .find(|pid| std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe == binary))
        .with_context(|| format!("no process runs {} below {driver}", binary.display()))?;
    Ok(tree(app, &parents))
}

/// CPU time of every thread of `pids`, by thread name (`llvmpipe-0`,
/// `tokio-rt-worker`, …), summed over threads that share it.
fn thread_cpu(pids: &[u32]) -> HashMap<String, Duration> {
    let mut out: HashMap<String, Duration> = HashMap::new();
    for pid in pids {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            continue;
        };
        for task in tasks.flatten() {
            let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
            let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
                continue;
            };
            let name = stat[open + 1..close].to_string();
            // utime and stime: fields 14 and 15, the 12th and 13th after the comm.
            let ticks: u64 = stat[close + 1..]
                .split_whitespace()
                .skip(11)
                .take(2)
                .filter_map(|t| t.parse::<u64>().ok())
                .sum();
            *out.entry(name).or_default() += Duration::from_millis(ticks * 10);
        }
    }
    out
}

/// The threads that used most CPU between two [`thread_cpu`] readings.
fn busiest(before: &HashMap<String, Duration>, after: &HashMap<String, Duration>) -> String {
    let mut used: Vec<(&String, Duration)> = after
        .iter()
        .map(|(name, t)| {
            (
                name,
                t.saturating_sub(before.get(name).copied().unwrap_or_default()),
            )
        })
        .filter(|(_, t)| *t >= Duration::from_millis(50))
        .collect();
    used.sort_by_key(|u| std::cmp::Reverse(u.1));
    used.iter()
        .map(|(name, t)| format!("{name} {:.2} s", t.as_secs_f64()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// PSS in KiB summed over `pids`.
fn pss_kib(pids: &[u32]) -> f64 {
    pids.iter()
        .map(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
                .unwrap_or_default()
                .lines()
                .find_map(|l| l.strip_prefix("Pss:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
                .unwrap_or(0.0)
        })
        .sum()
}

/// Starts `binary`, waits for `ready` (a CSS selector) in its page; the time
/// from the session request and the idle PSS of its process tree.
async fn launch_once(binary: &Path, ready: &str, idle: Duration) -> Result<(Duration, f64)> {
    let app = App::start_binary("bench-launch", AppOptions::default(), binary).await?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if app
            .client
            .find(fantoccini::Locator::Css(ready))
            .await
            .is_ok()
        {
            break;
        }
        if Instant::now() > deadline {
            bail!("{ready} never appeared in {}", binary.display());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let launch = app.session_started.elapsed();
    tokio::time::sleep(idle).await;
    let pids = app_tree(app.driver_pid(), binary)?;
    let pss = pss_kib(&pids);
    app.stop().await?;
    Ok((launch, pss))
}

async fn launch_and_memory(
    app_bin: &Path,
    blank_bin: &Path,
    runs: usize,
    smoke: bool,
) -> Result<(Duration, Duration, f64, f64)> {
    let idle = Duration::from_secs(if smoke { 1 } else { 5 });
    let (mut la, mut lb, mut pa, mut pb) = (vec![], vec![], vec![], vec![]);
    for _ in 0..runs {
        let (t, pss) = launch_once(blank_bin, "[data-testid=\"blank-screen\"]", idle).await?;
        lb.push(t);
        pb.push(pss);
        let (t, pss) = launch_once(app_bin, "[data-testid=\"start-screen\"]", idle).await?;
        la.push(t);
        pa.push(pss);
    }
    let median_f = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    Ok((
        bench::median(la),
        bench::median(lb),
        median_f(pa),
        median_f(pb),
    ))
}

/// A repository with `hosts` hosts (tagged by tens), made by the engine.
async fn fleet_repo(root: &Path, hosts: usize) -> Result<()> {
    repo::init_repo(root, &FlakeSpec::default(), &Confirm::Nothing).await?;
    for i in 0..hosts {
        let mut spec = HostSpec::new(
            HostName::new(&format!("web{i:03}"))?,
            format!("192.0.2.{}", 1 + i % 250),
        );
        spec.deployment.tags = vec![Tag::new(&format!("rack{}", i / 10))?];
        spec.disko = Some("{ disko.devices = { }; }\n".into());
        repo::add_host(root, &spec, &Confirm::Nothing).await?;
    }
    std::fs::write(root.join("flake.lock"), "{}\n")?;
    Ok(())
}

fn standins() -> PathBuf {
    nixdeck_tests::fixture("standins")
}

fn app_env(data: &Path, extra: &[(&str, String)]) -> Vec<(String, String)> {
    let mut env = vec![
        (
            "PATH".into(),
            format!(
                "{}:{}",
                standins().display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        ),
        ("NIXDECK_DATA_DIR".into(), data.display().to_string()),
    ];
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
    env
}

/// Resolves with the milliseconds from `start()` until `test()` holds in the
/// page's DOM; MutationObserver wakes it on every change of the page. Not
/// "after the next frame": under Xvfb and WebKitWebDriver a
/// requestAnimationFrame callback came 1.3 to 1.5 s after the change it
/// waited for, which measured the throttling, not nixdeck. The code is put in
/// the script's text (the page's CSP allows no `eval`).
const TIMED: &str = r#"
const done = arguments[arguments.length - 1];
const start = () => { __START__ };
const test = () => { __TEST__ };
const t0 = performance.now();
let finished = false;
const check = () => {
  if (finished || !test()) return;
  finished = true;
  observer.disconnect();
  done(performance.now() - t0);
};
const observer = new MutationObserver(check);
observer.observe(document.body, { childList: true, subtree: true, attributes: true, characterData: true });
start();
check();
setTimeout(() => { if (!finished) { finished = true; observer.disconnect(); done(-1); } }, 120000);
"#;

async fn timed(app: &App, start: &str, test: &str) -> Result<f64> {
    let script = TIMED.replace("__START__", start).replace("__TEST__", test);
    let value = app.client.execute_async(&script, vec![]).await?;
    let ms = value
        .as_f64()
        .with_context(|| format!("the page answered {value} instead of a number"))?;
    if ms < 0.0 {
        bail!("timed out waiting in the page for: {test}");
    }
    Ok(ms)
}

async fn fleet_open(app_bin: &Path, hosts: usize, runs: usize) -> Result<f64> {
    let tmp = tempfile::tempdir()?;
    let root = tmp.path().join("infra");
    fleet_repo(&root, hosts).await?;
    let data = tmp.path().join("data");
    let app = App::start_binary(
        "bench-fleet",
        AppOptions {
            pick_folder: Some(root.clone()),
            env: app_env(&data, &[]),
            ..Default::default()
        },
        app_bin,
    )
    .await?;
    let mut samples = Vec::new();
    for _ in 0..runs {
        app.find("open-repo").await?;
        let ms = timed(
            &app,
            r#"document.querySelector('[data-testid="open-repo"]').click();"#,
            &format!(
                r#"return document.querySelectorAll('[data-testid="host-row"]').length >= {hosts};"#
            ),
        )
        .await?;
        samples.push(Duration::from_secs_f64(ms / 1e3));
        app.click("close-repo").await?;
    }
    app.find("open-repo").await?;
    let backend = app
        .client
        .execute_async(
            r#"const done = arguments[arguments.length - 1]; const t0 = performance.now(); window.__TAURI_INTERNALS__.invoke('open_repo', { path: arguments[0] }).then(() => done(performance.now() - t0), (e) => done(String(e)));"#,
            vec![serde_json::json!(root.to_string_lossy())],
        )
        .await?;
    println!("  (open_repo alone, from the page: {backend} ms)");
    app.stop().await?;
    Ok(ms_of(bench::median(samples)))
}

fn ms_of(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

struct LogFigures {
    runner: Duration,
    live: Duration,
    open: f64,
    search: f64,
}

/// Environment of the stand-in nix that floods `lines` lines on a build.
fn flood(lines: u64) -> [(&'static str, String); 2] {
    [
        ("NIXDECK_STANDIN_SCENARIO", "flood".into()),
        ("NIXDECK_STANDIN_LINES", lines.to_string()),
    ]
}

/// Line `seq` of the log view is drawn with its text (not waiting for it).
fn drawn(seq: u64) -> String {
    format!(
        r#"const row = document.querySelector('[data-testid="log-line"][data-seq="{seq}"]'); return !!row && !row.classList.contains('pending');"#
    )
}

async fn logs(app_bin: &Path, lines: u64, runs: usize) -> Result<LogFigures> {
    let tmp = tempfile::tempdir()?;
    let root = tmp.path().join("infra");
    fleet_repo(&root, 3).await?;
    let data = tmp.path().join("data");

    // The runner alone: the same stand-in build, no watcher. Its first job is
    // the finished log the window opens and searches below. Each side runs
    // `runs` times, alternately, and their medians are compared: one run
    // moves by a third from the next on two shared cores. Logs no longer
    // needed are deleted at once: each 600 MB log left in the page cache
    // made the next run's writes dearer here (the same stream's worker CPU
    // went 2.5, 3.5, 4.2 s in three runs).
    let manager = JobManager::open(&data)?;
    let (first_job, took) = runner_alone(&manager, &root, lines).await?;
    let mut alone = vec![took];
    println!("load average: {}", load());

    let app = App::start_binary(
        "bench-logs",
        AppOptions {
            pick_folder: Some(root.clone()),
            env: app_env(&data, &flood(lines)),
            ..Default::default()
        },
        app_bin,
    )
    .await?;
    app.click("open-repo").await?;
    app.find("host-row").await?;

    // A finished job of `lines` lines, opened from the host's history.
    app.client
        .find(fantoccini::Locator::Css(
            "[data-host=\"web000\"] [data-testid=\"open-host\"]",
        ))
        .await?
        .click()
        .await?;
    app.find("open-job").await?;
    let last = lines - 1;
    let open = timed(
        &app,
        &format!(
            r#"[...document.querySelectorAll('[data-testid="open-job"]')].find((b) => b.textContent.trim() === '#{}').click();"#,
            first_job
        ),
        &format!(
            r#"const v = document.querySelector('[data-testid="log-view"]'); if (!v || v.dataset.lines !== '{lines}') return false; {}"#,
            drawn(last)
        ),
    )
    .await?;

    // Search from the top for a line near the end.
    let target = lines - lines / 1000; // line number as printed (from 1)
    let scroller = r#"const s = document.querySelector('[data-testid="log-scroller"]'); s.scrollTop = 0; s.dispatchEvent(new Event('scroll'));"#;
    app.client.execute(scroller, vec![]).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let query = format!("{target} building");
    let search = timed(
        &app,
        &format!(
            r#"const q = document.querySelector('[data-testid="log-search"]'); q.value = '{query}'; q.dispatchEvent(new Event('input', {{ bubbles: true }})); q.form.requestSubmit();"#
        ),
        &format!(
            r#"const m = document.querySelector('[data-testid="log-matches"]'); return !!m && m.dataset.line === '{}' && (() => {{ {} }})();"#,
            target - 1,
            drawn(target - 1)
        ),
    )
    .await?;

    // Live: validate from the fleet, the same stand-in flooding the window;
    // each run's job must be a new one. Between live runs the runner runs
    // alone again while the window rests on the last job.
    let mut seen = vec![first_job.to_string()];
    let mut lives = Vec::new();
    let mut app_pids = Vec::new();
    for run in 0..runs {
        if run > 0 {
            let (id, took) = runner_alone(&manager, &root, lines).await?;
            forget_log(&manager, id)?;
            alone.push(took);
        }
        let (live, job, pids) = live_once(&app, app_bin, lines, &seen, took).await?;
        if run + 1 < runs {
            // The window rests on this job and reads no more of it.
            forget_log(&manager, job.parse()?)?;
        }
        seen.push(job);
        lives.push(live);
        app_pids = pids;
    }
    let live = bench::median(lives);
    let runner = bench::median(alone);
    // What the webview spends drawing on its own: the finished log at rest,
    // then the 3 s after one scroll (no new lines, no events).
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rest = thread_cpu(&app_pids);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rested = thread_cpu(&app_pids);
    app.client
        .execute(scroller.replace("= 0", "= 1000").as_str(), vec![])
        .await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let scrolled = thread_cpu(&app_pids);
    println!(
        "CPU of the app's threads, 3 s at rest on the finished log: {}; the 3 s after one scroll: {}",
        busiest(&rest, &rested),
        busiest(&rested, &scrolled)
    );
    app.stop().await?;
    Ok(LogFigures {
        runner,
        live,
        open: open / 1e3,
        search: search / 1e3,
    })
}

/// One run of the stand-in build through the engine's `JobManager` with no
/// watcher: its job and how long it took.
async fn runner_alone(
    manager: &JobManager,
    root: &Path,
    lines: u64,
) -> Result<(nixdeck_engine::jobs::JobId, Duration)> {
    let settings = ToolSettings {
        flakes_enabled: true,
        tools_from_path: false,
        ..ToolSettings::default()
    };
    let mut req = requests::validate_request(&settings, root, "web000")?;
    req.command.program = standins().join("nix").to_string_lossy().into_owned();
    for (name, value) in flood(lines) {
        req.command.env.push(EnvVar {
            name: name.into(),
            value,
            secret: false,
        });
    }
    let cpu_before = thread_cpu(&[std::process::id()]);
    let started = Instant::now();
    let id = manager.start(req, None)?;
    let outcome = manager.wait(id).await?;
    let took = started.elapsed();
    // Beside the app's threads below: what the same run costs without a window.
    println!(
        "runner alone {:.2} s; CPU of its threads: {}",
        took.as_secs_f64(),
        busiest(&cpu_before, &thread_cpu(&[std::process::id()]))
    );
    if outcome.result != JobResult::Succeeded || outcome.lines != lines {
        bail!("the runner's flood ended {outcome:?}");
    }
    Ok((id, took))
}

/// Deletes job `id`'s log file (a bench run's 600 MB, no longer read).
fn forget_log(manager: &JobManager, id: nixdeck_engine::jobs::JobId) -> Result<()> {
    let record = manager.get(id)?;
    std::fs::remove_file(&record.log_path)
        .with_context(|| format!("deleting {}", record.log_path))?;
    Ok(())
}

/// One live run in the window: from the fleet, Validate on `web001` until
/// the log view has all `lines` lines and shows the last. Returns the time,
/// the job's id (not one of `seen`) and the app's processes.
async fn live_once(
    app: &App,
    app_bin: &Path,
    lines: u64,
    seen: &[String],
    runner: Duration,
) -> Result<(Duration, String, Vec<u32>)> {
    app.click("back-to-fleet").await?;
    let validate = app
        .client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(fantoccini::Locator::Css(
            "[data-host=\"web001\"] [data-testid=\"validate-host\"]",
        ))
        .await?;
    let app_pids = app_tree(app.driver_pid(), app_bin)?;
    let cpu_before = thread_cpu(&app_pids);
    let started = Instant::now();
    validate.click().await?;
    let deadline = Instant::now() + Duration::from_secs(60) + runner * 10;
    let seen_js = serde_json::to_string(seen)?;
    let done_js = format!(
        r#"const v = document.querySelector('[data-testid="log-view"]'); const j = document.querySelector('[data-testid="job-screen"]'); if (!v || !j || {seen_js}.includes(j.dataset.job) || v.dataset.lines !== '{lines}') return false; {}"#,
        drawn(lines - 1)
    );
    loop {
        let done = app.client.execute(&done_js, vec![]).await?;
        if done.as_bool() == Some(true) {
            break;
        }
        if Instant::now() > deadline {
            let state = app
                .client
                .execute(
                    r#"const v = document.querySelector('[data-testid="log-view"]'); const j = document.querySelector('[data-testid="job-screen"]'); const rows = [...document.querySelectorAll('[data-testid="log-line"]')]; return JSON.stringify({ job: j && j.dataset.job, result: j && j.dataset.result, lines: v && v.dataset.lines, first: rows[0] && rows[0].dataset.seq, last: rows.at(-1) && rows.at(-1).dataset.seq, pending: document.querySelectorAll('.row.pending').length });"#,
                    vec![],
                )
                .await?;
            bail!("the window never showed all {lines} lines: {state}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let live = started.elapsed();
    let job = app
        .client
        .execute(
            r#"return document.querySelector('[data-testid="job-screen"]').dataset.job;"#,
            vec![],
        )
        .await?
        .as_str()
        .unwrap_or_default()
        .to_string();
    // WebKit's web process may have been replaced meanwhile: read the tree again.
    let app_pids = app_tree(app.driver_pid(), app_bin)?;
    println!(
        "window live {:.2} s; CPU of the app's threads while it followed the stream: {}",
        live.as_secs_f64(),
        busiest(&cpu_before, &thread_cpu(&app_pids))
    );
    Ok((live, job, app_pids))
}

/// Disks of the layout the edit bench draws.
const DISKS: usize = 24;

/// A disko.nix with one GPT disk per device: `p<i>` of 64M, `rest<i>` of the remainder.
fn many_disks_disko(devices: &[String]) -> String {
    let mut out = String::from("{\n  disko.devices = {\n    disk = {\n");
    for (i, dev) in devices.iter().enumerate() {
        out.push_str(&format!(
            "      disk{i} = {{\n        type = \"disk\";\n        device = \"{dev}\";\n        content = {{\n          type = \"gpt\";\n          partitions = {{\n            p{i} = {{\n              size = \"64M\";\n              content = {{ type = \"filesystem\"; format = \"ext4\"; mountpoint = \"/srv/p{i}\"; }};\n            }};\n            rest{i} = {{\n              size = \"100%\";\n              content = {{ type = \"filesystem\"; format = \"ext4\"; mountpoint = \"/srv/rest{i}\"; }};\n            }};\n          }};\n        }};\n      }};\n"
        ));
    }
    out.push_str("    };\n  };\n}\n");
    out
}

async fn type_into(app: &App, testid: &str, text: &str) -> Result<()> {
    let input = app.find(testid).await?;
    input.clear().await?;
    input.send_keys(text).await?;
    Ok(())
}

/// The wizard up to its layout step for a host with `disks` loop disks and a
/// disko.nix on all of them, then `edits` sizes typed; the median in ms.
async fn edit_to_preview(app_bin: &Path, disks: usize, edits: usize) -> Result<f64> {
    let sshd = Sshd::start(SshdOptions::default());
    let loops: Vec<LoopDisk> = (0..disks).map(|_| LoopDisk::new(512)).collect();
    let tmp = tempfile::tempdir()?;
    let root = tmp.path().join("infra");
    fleet_repo(&root, 1).await?;
    let data = tmp.path().join("data");
    let mut env = app_env(&data, &[]);
    env.push((
        "NIXDECK_E2E_PICK_FILE".into(),
        sshd.user_key_path.to_string_lossy().into_owned(),
    ));
    let app = App::start_binary(
        "bench-edit",
        AppOptions {
            pick_folder: Some(root.clone()),
            env,
            ..Default::default()
        },
        app_bin,
    )
    .await?;
    app.click("open-repo").await?;
    app.click("add-host").await?;
    app.find("step-identity").await?;
    type_into(&app, "identity-name", "big").await?;
    type_into(&app, "identity-address", "127.0.0.1").await?;
    type_into(&app, "identity-port", &sshd.port.to_string()).await?;
    app.click("auth-key").await?;
    app.click("pick-keyfile").await?;
    let deadline = Instant::now() + Duration::from_secs(20);
    while app
        .find("identity-keyfile")
        .await?
        .prop("value")
        .await?
        .as_deref()
        != Some(&*sshd.user_key_path.to_string_lossy())
    {
        if Instant::now() > deadline {
            bail!("the key file was not picked");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.click("wizard-next").await?;
    app.find("step-probe").await?;
    app.click("probe-connect").await?;
    app.click("hostkey-accept").await?;
    app.find("probe-facts").await?;
    let card = app
        .client
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(fantoccini::Locator::Css(&format!(
            "[data-testid=\"disk-card\"][data-path=\"{}\"]",
            loops[0].dev
        )))
        .await
        .context("the first loop disk's card")?;
    card.find(fantoccini::Locator::Css("[data-testid=\"disk-choose\"]"))
        .await?
        .click()
        .await?;
    // The host's disko.nix on every disk: the layout step starts from it.
    let devices: Vec<String> = loops.iter().map(|l| l.dev.clone()).collect();
    let host_dir = root.join("hosts/big");
    std::fs::create_dir_all(&host_dir)?;
    std::fs::write(host_dir.join("disko.nix"), many_disks_disko(&devices))?;
    app.click("wizard-next").await?;
    app.find("step-layout").await?;
    app.find(&format!("diskbar-{}", disks - 1)).await?;
    app.find("segment-p0").await?;
    app.client
        .execute(
            r#"document.querySelector('[data-testid="segment-p0"]').focus();"#,
            vec![],
        )
        .await?;
    app.find("form-size").await?;
    let mut samples = Vec::new();
    for k in 0..edits {
        let mib = 100 + k as u64;
        let ms = timed(
            &app,
            &format!(
                r#"const i = document.querySelector('[data-testid="form-size"]'); i.value = '{mib}M'; i.dispatchEvent(new Event('input', {{ bubbles: true }})); i.dispatchEvent(new KeyboardEvent('keydown', {{ key: 'Enter', bubbles: true }}));"#
            ),
            &format!(
                r#"const seg = document.querySelector('[data-testid="segment-p0"]'); const pre = document.querySelector('[data-testid="disko-preview"]'); return !!seg && !!pre && seg.dataset.size === '{}' && pre.textContent.includes('size = "{mib}M";');"#,
                mib << 20
            ),
        )
        .await?;
        samples.push(Duration::from_secs_f64(ms / 1e3));
    }
    app.stop().await?;
    drop(loops);
    let mut sorted: Vec<f64> = samples.iter().copied().map(ms_of).collect();
    sorted.sort_by(f64::total_cmp);
    let at = |q: usize| {
        sorted
            .get(sorted.len() * q / 4)
            .copied()
            .unwrap_or_default()
    };
    println!(
        "  edits: first quartile {:.0} ms, median {:.0} ms, third quartile {:.0} ms, slowest {:.0} ms",
        at(1),
        at(2),
        at(3),
        sorted.last().copied().unwrap_or_default()
    );
    Ok(ms_of(bench::median(samples)))
}
