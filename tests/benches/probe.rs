//! Benchmark of the SSH probe against real sshd on 127.0.0.1 (needs root).
//! Prints, in one run on the same machine:
//! - the median wall time of `nixdeck probe` (the headless binary, JSON out)
//!   and of OpenSSH running the same fact commands (`ssh HOST sh -s` fed the
//!   same probe script: lsblk, uname, meminfo, os-release, …), and their
//!   ratio (target ≤ 1.2);
//! - the wall time of probing 20 hosts (20 sshd on loopback ports) at once
//!   against probing one (target ≤ 3×), through the library.
//!
//! Run: `cargo bench -p nixdeck-tests --bench probe` (`-- --runs N` to change
//! the sample count; default 15).

use nixdeck_engine::probe::{probe, ProbeOptions};
use nixdeck_engine::ssh::{Auth, ConnectOptions, SshTarget};
use nixdeck_tests::sshd::{Sshd, SshdOptions};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Busy jiffies of the whole machine (all cores, every user) from /proc/stat.
fn busy_jiffies() -> u64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let nums: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|n| n.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal
    nums.iter().sum::<u64>() - nums.get(3).copied().unwrap_or(0) - nums.get(4).copied().unwrap_or(0)
}

/// CPU time this process has used (the client side of every probe).
fn own_cpu() -> Duration {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage fills the struct we own.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn time_nixdeck(sshd: &Sshd) -> Duration {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_nixdeck-headless"))
        .arg("probe")
        .arg(sshd.target("root"))
        .arg("-i")
        .arg(&sshd.user_key_path)
        .arg("--known-hosts")
        .arg(&sshd.known_hosts_path)
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

fn time_openssh(sshd: &Sshd, script: &str) -> Duration {
    let started = Instant::now();
    let mut child = Command::new("ssh")
        .args(["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"])
        .arg("-o")
        .arg(format!(
            "UserKnownHostsFile={}",
            sshd.known_hosts_path.display()
        ))
        .args(["-F", "/dev/null", "-i"])
        .arg(&sshd.user_key_path)
        .args(["-p", &sshd.port.to_string(), "root@127.0.0.1", "sh", "-s"])
        .env_remove("SSH_AUTH_SOCK")
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

async fn probe_lib(sshd: &Sshd) {
    let target = SshTarget::parse(&sshd.target("root")).expect("target");
    let opts = ConnectOptions {
        auth: Auth::KeyFile(sshd.user_key_path.clone()),
        known_hosts: Some(sshd.known_hosts_path.clone()),
        ssh_config: Some(sshd.dir.path().join("none")),
        ..ConnectOptions::default()
    };
    probe(&target, &opts, &ProbeOptions::default())
        .await
        .expect("probe");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runs: usize = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(15);
    let script = nixdeck_core::facts::report::script();

    let sshd = Sshd::start(SshdOptions::default());
    // Warm up both paths (page cache, sshd's first fork).
    time_nixdeck(&sshd);
    time_openssh(&sshd, &script);
    let mut nd = Vec::new();
    let mut os = Vec::new();
    for _ in 0..runs {
        // Interleaved so load changes hit both alike.
        nd.push(time_nixdeck(&sshd));
        os.push(time_openssh(&sshd, &script));
    }
    let (nd, os) = (median(nd), median(os));
    println!("probe of one host, median of {runs} runs:");
    println!("  nixdeck probe (headless binary)   {}", ms(nd));
    println!("  OpenSSH ssh HOST sh -s (same facts) {}", ms(os));
    println!(
        "  ratio nixdeck/OpenSSH             {:.2}  (target <= 1.2)",
        nd.as_secs_f64() / os.as_secs_f64()
    );

    let hosts: Vec<Sshd> = (0..20)
        .map(|_| Sshd::start(SshdOptions::default()))
        .collect();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        probe_lib(&hosts[0]).await;
        let mut one = Vec::new();
        let mut all = Vec::new();
        let mut busy = Vec::new();
        let mut client = Vec::new();
        for _ in 0..(runs / 3).max(3) {
            let started = Instant::now();
            probe_lib(&hosts[0]).await;
            one.push(started.elapsed());

            let started = Instant::now();
            let (busy0, cpu0) = (busy_jiffies(), own_cpu());
            let mut set = tokio::task::JoinSet::new();
            for h in &hosts {
                let target = h.target("root");
                let opts = ConnectOptions {
                    auth: Auth::KeyFile(h.user_key_path.clone()),
                    known_hosts: Some(h.known_hosts_path.clone()),
                    ssh_config: Some(h.dir.path().join("none")),
                    ..ConnectOptions::default()
                };
                set.spawn(async move {
                    let t = SshTarget::parse(&target).expect("target");
                    probe(&t, &opts, &ProbeOptions::default()).await.map(|_| ())
                });
            }
            while let Some(r) = set.join_next().await {
                r.expect("task").expect("probe");
            }
            all.push(started.elapsed());
            busy.push(busy_jiffies().saturating_sub(busy0));
            client.push(own_cpu() - cpu0);
        }
        let started = Instant::now();
        let server0: Duration = hosts.iter().map(Sshd::children_cpu).sum();
        for h in &hosts {
            probe_lib(h).await;
        }
        let sequential = started.elapsed();
        // Reaping is asynchronous: give the listeners a moment.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let server: Duration = hosts.iter().map(Sshd::children_cpu).sum::<Duration>() - server0;
        let n = one.len();
        let (one, all) = (median(one), median(all));
        println!("20 hosts at once vs one (library, median of {n}):");
        println!("  one host                          {}", ms(one));
        println!("  20 hosts concurrently             {}", ms(all));
        println!(
            "  factor                            {:.2}  (target <= 3)",
            all.as_secs_f64() / one.as_secs_f64()
        );
        println!("  20 hosts one after another        {}", ms(sequential));
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        busy.sort();
        client.sort();
        println!(
            "  during the concurrent run: machine busy {:.2} core-s of {} cores x {:.2} s (all users); nixdeck's own CPU {}",
            busy[busy.len() / 2] as f64 / 100.0,
            cores,
            all.as_secs_f64(),
            ms(client[client.len() / 2])
        );
        let per_probe = server / hosts.len() as u32;
        println!(
            "  target side (sshd + probe script) CPU per probe {}: 20 probes need >= {} of {cores} cores, i.e. >= {:.1}x one probe's wall time on this machine",
            ms(per_probe),
            ms(per_probe * 20 / cores as u32),
            (per_probe * 20 / cores as u32).as_secs_f64() / one.as_secs_f64()
        );
    });
}
