//! Benchmark of the SSH probe against real sshd on 127.0.0.1 (needs root).
//! Prints, and writes to `target/bench/probe.json` (see `support/bench.rs`):
//!
//! - `probe_vs_openssh` (target ≤ 1.0): the median wall time of `nixdeck
//!   probe` (the headless binary, JSON out) over that of OpenSSH running the
//!   same fact commands (`ssh HOST sh -s` fed the same probe script), runs
//!   interleaved, on loopback;
//! - `probe_20_hosts_vs_one_at_50ms_rtt` (target ≤ 1.5): 20 targets, each
//!   behind a proxy adding 25 ms each way, probed at once (through the
//!   library), over one of them probed alone; medians;
//! - `probe_vs_openssh_at_50ms_rtt`: the first ratio through the proxy, where
//!   round trips count, not process start-up;
//! - `probe_20_hosts_openssh_parallel_vs_one_at_50ms_rtt` and
//!   `probe_20_hosts_nixdeck_vs_openssh_parallel_at_50ms_rtt`: OpenSSH
//!   probing the same 20 at once (20 `ssh` processes) over one OpenSSH probe,
//!   and nixdeck's 20 at once over OpenSSH's: on a machine whose cores also
//!   run the 20 targets, OpenSSH in parallel is the floor;
//! - `probe_20_hosts_vs_one_loopback` (full runs only): 20 at once without
//!   the proxy, which on a small machine measures its CPU, not concurrency.
//!
//! Twenty distinct sshd (own host keys, own ports) stand for twenty machines.
//! They still share this machine's cores: each probe costs sshd a process,
//! a key exchange and the probe script, so the bench also prints that
//! target-side CPU and the floor it puts under the 20-at-once time here.
//!
//! The probes log in as [`BENCH_USER`], a fresh account with password-less
//! sudo (the shape of the NixOS installer's `nixos` user), not as this
//! machine's root: root here is a developer's account whose `~/.bashrc`
//! runs `pyenv init` for every SSH session, about 100 ms of CPU per login
//! that a target being installed does not spend and that would make the
//! 20-at-once figure a measure of pyenv. `root_login_cpu_ms` prints what one
//! login as root costs here, beside `bench_user_login_cpu_ms`.
//!
//! Run: `cargo bench -p nixdeck-tests --bench probe` (`-- --runs N` to change
//! the sample count, default 15; `-- --smoke` for a quick check; `-- --only
//! one|fleet` for the single-host comparisons or the 20 at once alone, while
//! working on one of them).

use nixdeck_engine::probe::{probe, ProbeOptions};
use nixdeck_engine::ssh::{Auth, ConnectOptions, SshTarget};
use nixdeck_tests::bench::{self, median, ms};
use nixdeck_tests::latency_proxy::LatencyProxy;
use nixdeck_tests::sshd::{ensure_user, Sshd, SshdOptions, SudoGrant};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Half the round trip the proxy adds.
const ONE_WAY: Duration = Duration::from_millis(25);
const HOSTS: usize = 20;
/// A smoke run only checks that the bench works: fewer targets start faster.
const SMOKE_HOSTS: usize = 5;
/// The account the probes log in as (see the module documentation).
const BENCH_USER: &str = "nixdeck-bench";

/// CPU time this process has used (the client side of every probe).
fn own_cpu() -> Duration {
    // SAFETY: getrusage fills the struct we own.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// CPU time every core of this machine has spent busy since boot (all
/// processes: sshd, the probe scripts, the proxies and nixdeck).
fn machine_busy() -> Duration {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: u64 = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .enumerate()
        // user nice system idle iowait irq softirq steal: all but idle and iowait.
        .filter(|(i, _)| *i != 3 && *i != 4 && *i < 8)
        .filter_map(|(_, t)| t.parse::<u64>().ok())
        .sum();
    Duration::from_millis(ticks * 10)
}

/// Where a probe connects: an sshd directly or through a proxy.
struct Endpoint<'a> {
    sshd: &'a Sshd,
    port: u16,
    known_hosts: PathBuf,
}

impl<'a> Endpoint<'a> {
    fn direct(sshd: &'a Sshd) -> Self {
        Endpoint {
            sshd,
            port: sshd.port,
            known_hosts: sshd.known_hosts_path.clone(),
        }
    }

    /// `sshd` as seen through `proxy`: its host key under the proxy's port.
    fn proxied(sshd: &'a Sshd, proxy: &LatencyProxy) -> Self {
        let known_hosts = sshd.dir.path().join(format!("known_hosts_{}", proxy.port));
        std::fs::write(
            &known_hosts,
            format!("[127.0.0.1]:{} {}\n", proxy.port, sshd.host_key_pub),
        )
        .expect("write known_hosts");
        Endpoint {
            sshd,
            port: proxy.port,
            known_hosts,
        }
    }

    fn target(&self) -> String {
        format!("{BENCH_USER}@127.0.0.1:{}", self.port)
    }

    fn options(&self) -> ConnectOptions {
        ConnectOptions {
            auth: Auth::KeyFile(self.sshd.user_key_path.clone()),
            known_hosts: Some(self.known_hosts.clone()),
            ssh_config: Some(self.sshd.dir.path().join("none")),
            ..ConnectOptions::default()
        }
    }
}

fn time_nixdeck(at: &Endpoint) -> Duration {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_nixdeck-headless"))
        .arg("probe")
        .arg(at.target())
        .arg("-i")
        .arg(&at.sshd.user_key_path)
        .arg("--known-hosts")
        .arg(&at.known_hosts)
        .arg("--json")
        .env_remove("SSH_AUTH_SOCK")
        .output()
        .expect("run nixdeck-headless");
    let took = started.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    took
}

/// `ssh` to `user@127.0.0.1:port` with `key`, trusting only `known_hosts`,
/// no config and no agent; the remote command is the caller's.
fn openssh(known_hosts: &Path, key: &Path, port: u16, user: &str) -> Command {
    let mut ssh = Command::new("ssh");
    ssh.args(["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"])
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", known_hosts.display()))
        .args(["-F", "/dev/null", "-i"])
        .arg(key)
        .args(["-p", &port.to_string()])
        .arg(format!("{user}@127.0.0.1"))
        .env_remove("SSH_AUTH_SOCK");
    ssh
}

fn time_openssh(at: &Endpoint, script: &str) -> Duration {
    let started = Instant::now();
    let mut child = openssh(&at.known_hosts, &at.sshd.user_key_path, at.port, BENCH_USER)
        .args(["sh", "-s"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run ssh");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("feed script");
    let out = child.wait_with_output().expect("ssh output");
    let took = started.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    took
}

/// Median times of the headless probe and of OpenSSH, interleaved so load
/// changes hit both alike.
fn nixdeck_vs_openssh(at: &Endpoint, script: &str, runs: usize) -> (Duration, Duration) {
    // Warm up both paths (page cache, sshd's first fork).
    time_nixdeck(at);
    time_openssh(at, script);
    let mut nd = Vec::new();
    let mut os = Vec::new();
    for _ in 0..runs {
        nd.push(time_nixdeck(at));
        os.push(time_openssh(at, script));
    }
    (median(nd), median(os))
}

async fn probe_one(target: String, opts: ConnectOptions) {
    let t = SshTarget::parse(&target).expect("target");
    probe(&t, &opts, &ProbeOptions::default())
        .await
        .expect("probe");
}

async fn probe_all(endpoints: &[Endpoint<'_>]) {
    let mut set = tokio::task::JoinSet::new();
    for at in endpoints {
        set.spawn(probe_one(at.target(), at.options()));
    }
    while let Some(done) = set.join_next().await {
        done.expect("probe task");
    }
}

/// Medians of one alone and of all at once, with the client's CPU and the
/// whole machine's busy CPU per all-at-once run.
struct OneVsAll {
    one: Duration,
    all: Duration,
    client: Duration,
    busy: Duration,
}

async fn one_vs_all(endpoints: &[Endpoint<'_>], rounds: usize) -> OneVsAll {
    let first = &endpoints[0];
    probe_one(first.target(), first.options()).await;
    let (mut one, mut all, mut client, mut busy) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        let started = Instant::now();
        probe_one(first.target(), first.options()).await;
        one.push(started.elapsed());
        let (cpu0, busy0) = (own_cpu(), machine_busy());
        let started = Instant::now();
        probe_all(endpoints).await;
        all.push(started.elapsed());
        client.push(own_cpu() - cpu0);
        busy.push(machine_busy().saturating_sub(busy0));
    }
    OneVsAll {
        one: median(one),
        all: median(all),
        client: median(client),
        busy: median(busy),
    }
}

/// OpenSSH probing every endpoint at once (`ssh HOST sh -s` fed the same
/// script, one process each, all started together): the floor this machine
/// puts under any client probing these targets together.
fn openssh_all(endpoints: &[Endpoint<'_>], script: &str) -> Duration {
    let started = Instant::now();
    std::thread::scope(|scope| {
        for at in endpoints {
            scope.spawn(move || time_openssh(at, script));
        }
    });
    started.elapsed()
}

/// The sshd-side CPU of one `ssh USER@HOST true` (a login and nothing
/// else), mean of `runs`.
fn login_cpu(sshd: &Sshd, user: &str, runs: u32) -> Duration {
    let login = || {
        let out = openssh(&sshd.known_hosts_path, &sshd.user_key_path, sshd.port, user)
            .arg("true")
            .output()
            .expect("run ssh");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    login();
    let before = sshd.children_cpu();
    for _ in 0..runs {
        login();
    }
    std::thread::sleep(Duration::from_millis(200));
    sshd.children_cpu().saturating_sub(before) / runs
}

/// CPU the sshd side used (per-connection processes and the probe script).
fn server_cpu(hosts: &[Sshd]) -> Duration {
    hosts.iter().map(Sshd::children_cpu).sum()
}

/// Bits for a throw-away password: the clock and this process's id.
fn rand_seed() -> u128 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    now.as_nanos() ^ (u128::from(std::process::id()) << 64)
}

fn main() {
    let smoke = bench::smoke();
    let runs: usize = bench::arg("runs").unwrap_or(if smoke { 1 } else { 15 });
    let rounds = if smoke { 1 } else { (runs / 3).max(3) };
    let script = nixdeck_core::facts::report::script();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut figures: Vec<(&str, f64)> = Vec::new();

    let host_count = if smoke { SMOKE_HOSTS } else { HOSTS };
    // A random password only unlocks the account: sshd refuses locked ones.
    let password = format!("{:x}", rand_seed());
    ensure_user(BENCH_USER, &password);
    let _sudo = SudoGrant::new(BENCH_USER);
    let hosts: Vec<Sshd> = (0..host_count)
        .map(|_| {
            Sshd::start(SshdOptions {
                password_auth: false,
                key_users: vec![BENCH_USER.into(), "root".into()],
                ..SshdOptions::default()
            })
        })
        .collect();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let part = bench::part;

    if part("one") {
        let login_runs = if smoke { 1 } else { 10 };
        let root_login = login_cpu(&hosts[0], "root", login_runs);
        let user_login = login_cpu(&hosts[0], BENCH_USER, login_runs);
        println!(
            "sshd CPU of one login: as root {}, as {BENCH_USER} {}",
            ms(root_login),
            ms(user_login)
        );
        figures.push(("root_login_cpu_ms", root_login.as_secs_f64() * 1e3));
        figures.push(("bench_user_login_cpu_ms", user_login.as_secs_f64() * 1e3));

        let direct = Endpoint::direct(&hosts[0]);
        let (nd, os) = nixdeck_vs_openssh(&direct, &script, runs);
        let ratio = nd.as_secs_f64() / os.as_secs_f64();
        println!("probe of one host on loopback, median of {runs} runs:");
        println!("  nixdeck probe (headless binary)     {}", ms(nd));
        println!("  OpenSSH ssh HOST sh -s (same facts) {}", ms(os));
        println!("  ratio nixdeck/OpenSSH               {ratio:.2}  (target <= 1.0)");
        figures.push(("probe_vs_openssh", ratio));
        figures.push(("probe_nixdeck_ms", nd.as_secs_f64() * 1e3));
        figures.push(("probe_openssh_ms", os.as_secs_f64() * 1e3));
    }

    let proxies: Vec<LatencyProxy> = rt.block_on(async {
        let mut proxies = Vec::new();
        for h in &hosts {
            let upstream = ([127, 0, 0, 1], h.port).into();
            proxies.push(
                LatencyProxy::start(upstream, ONE_WAY)
                    .await
                    .expect("start the latency proxy"),
            );
        }
        proxies
    });
    let far: Vec<Endpoint> = hosts
        .iter()
        .zip(&proxies)
        .map(|(h, p)| Endpoint::proxied(h, p))
        .collect();
    let rtt = ms(ONE_WAY * 2);

    if part("one") {
        let far_runs = if smoke { 1 } else { (runs / 3).max(5) };
        let (nd, os) = nixdeck_vs_openssh(&far[0], &script, far_runs);
        let ratio = nd.as_secs_f64() / os.as_secs_f64();
        println!("probe of one host at {rtt} round trip, median of {far_runs} runs:");
        println!("  nixdeck probe (headless binary)     {}", ms(nd));
        println!("  OpenSSH ssh HOST sh -s (same facts) {}", ms(os));
        println!("  ratio nixdeck/OpenSSH               {ratio:.2}");
        figures.push(("probe_vs_openssh_at_50ms_rtt", ratio));
    }
    if part("fleet") {
        let server0 = server_cpu(&hosts);
        let OneVsAll {
            one,
            all,
            client,
            busy,
        } = rt.block_on(one_vs_all(&far, rounds));
        // Reaping is asynchronous: give the listeners a moment.
        std::thread::sleep(Duration::from_millis(300));
        let per_probe = (server_cpu(&hosts) - server0) / ((host_count + 1) * rounds + 1) as u32;
        let factor = all.as_secs_f64() / one.as_secs_f64();
        println!(
            "{host_count} hosts at {rtt} round trip at once vs one (library, median of {rounds}):"
        );
        println!("  one host                            {}", ms(one));
        println!(
            "  {host_count} hosts concurrently               {}",
            ms(all)
        );
        println!("  factor                              {factor:.2}  (target <= 1.5)");
        println!(
        "  nixdeck's own CPU for the {host_count}: {}; target side (sshd + probe script) per probe: {}",
        ms(client),
        ms(per_probe)
    );
        let floor = (per_probe * host_count as u32 + client) / cores as u32;
        println!(
        "  on this machine's {cores} cores the {host_count} targets and nixdeck need >= {} of CPU: a floor of {:.2}x one probe that real, separate targets would not add",
        ms(floor),
        floor.as_secs_f64() / one.as_secs_f64()
    );
        println!(
            "  the whole machine was busy {} of the {} x {cores} cores the 20 at once took",
            ms(busy),
            ms(all)
        );
        figures.push((
            "probe_20_hosts_machine_busy_share",
            busy.as_secs_f64() / (all.as_secs_f64() * cores as f64),
        ));
        // The same 20 targets probed at once by OpenSSH, as the floor of this
        // machine, beside one OpenSSH probe; interleaved with nixdeck's rounds.
        let (mut os_one, mut os_all, mut nd_all) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..rounds {
            os_one.push(time_openssh(&far[0], &script));
            os_all.push(openssh_all(&far, &script));
            let started = Instant::now();
            rt.block_on(probe_all(&far));
            nd_all.push(started.elapsed());
        }
        let (os_one, os_all, nd_all) = (median(os_one), median(os_all), median(nd_all));
        println!(
        "  OpenSSH: one {}, {host_count} at once {} (factor {:.2}); nixdeck's {host_count} at once in the same rounds {}: {:.2}x OpenSSH's",
        ms(os_one),
        ms(os_all),
        os_all.as_secs_f64() / os_one.as_secs_f64(),
        ms(nd_all),
        nd_all.as_secs_f64() / os_all.as_secs_f64()
    );
        figures.push(("probe_20_hosts_vs_one_at_50ms_rtt", factor));
        figures.push((
            "probe_20_hosts_openssh_parallel_vs_one_at_50ms_rtt",
            os_all.as_secs_f64() / os_one.as_secs_f64(),
        ));
        figures.push((
            "probe_20_hosts_nixdeck_vs_openssh_parallel_at_50ms_rtt",
            nd_all.as_secs_f64() / os_all.as_secs_f64(),
        ));
        figures.push(("probe_one_at_50ms_rtt_ms", one.as_secs_f64() * 1e3));
        figures.push(("probe_20_hosts_at_50ms_rtt_ms", all.as_secs_f64() * 1e3));
        figures.push((
            "probe_20_hosts_cpu_floor_vs_one_at_50ms_rtt",
            floor.as_secs_f64() / one.as_secs_f64(),
        ));

        if !smoke {
            let near: Vec<Endpoint> = hosts.iter().map(Endpoint::direct).collect();
            let OneVsAll { one, all, .. } = rt.block_on(one_vs_all(&near, rounds));
            let factor = all.as_secs_f64() / one.as_secs_f64();
            println!("{HOSTS} hosts on loopback at once vs one (CPU-bound here):");
            println!(
                "  one {}, {HOSTS} at once {}, factor {factor:.2}",
                ms(one),
                ms(all)
            );
            figures.push(("probe_20_hosts_vs_one_loopback", factor));
        }
    }
    drop(far);
    drop(proxies);
    bench::write_figures("probe", &figures);
}
