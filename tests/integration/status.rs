//! Fleet status, generations, rollback and the deploy safety net against
//! real OpenSSH servers on 127.0.0.1 (needs root). The NixOS host is a
//! chrooted sshd session over a NixOS-like tree (`support/nixos_tree.rs`),
//! and the rollback runs the real `ssh` client as a job.

use nixdeck_core::status::{Drift, DriftBasis};
use nixdeck_core::tools::plan::HostTarget;
use nixdeck_core::tools::rollback::{check_rollback, RollbackTo, SshClientOptions};
use nixdeck_engine::jobs::{requests, JobKind, JobManager};
use nixdeck_engine::runner::JobResult;
use nixdeck_engine::safety::{check_answers, Answer};
use nixdeck_engine::ssh::{Auth, ConnectOptions, SshError, SshTarget, Timeouts};
use nixdeck_engine::status::{
    drift, flake_toplevel, fleet_status, record_deployed_system, status, StatusError,
};
use nixdeck_tests::nixos_tree::NixosTree;
use nixdeck_tests::sshd::{free_port, Sshd, SshdOptions};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn target(s: &str) -> SshTarget {
    SshTarget::parse(s).expect("target")
}

fn opts(sshd: &Sshd) -> ConnectOptions {
    ConnectOptions {
        auth: Auth::KeyFile(sshd.user_key_path.clone()),
        known_hosts: Some(sshd.known_hosts_path.clone()),
        ssh_config: Some(sshd.dir.path().join("no-ssh-config")),
        ..ConnectOptions::default()
    }
}

fn nixos_sshd(host: &str) -> (NixosTree, Sshd) {
    let tree = NixosTree::build(host);
    let sshd = Sshd::start(SshdOptions {
        chroot: Some(tree.root.clone()),
        ..SshdOptions::default()
    });
    (tree, sshd)
}

#[tokio::test]
async fn status_reads_a_nixos_host_in_one_round_trip() {
    let (tree, sshd) = nixos_sshd("web1");
    let s = status(&target(&sshd.target("root")), &opts(&sshd))
        .await
        .unwrap_or_else(|e| panic!("{e}\nsshd: {}", sshd.log()));
    assert!(s.reachable);
    assert_eq!(s.current_system.as_deref(), Some(tree.systems[2].as_str()));
    assert_eq!(s.booted_system.as_deref(), Some(tree.systems[1].as_str()));
    assert!(s.reboot_pending, "the running system is not the booted one");
    assert_eq!(s.nixos_version.as_deref(), Some(tree.versions[2].as_str()));
    assert_eq!(s.uptime_secs, Some(93784));
    assert_eq!(s.profile_generation, Some(3));
    assert!(!s.hostname.is_empty());
    let got: Vec<_> = s
        .generations
        .iter()
        .map(|g| {
            (
                g.number,
                g.date,
                g.store_path.clone(),
                g.nixos_version.clone(),
                g.current,
                g.booted,
            )
        })
        .collect();
    let want: Vec<_> = (0..3)
        .map(|i| {
            (
                i as u32 + 1,
                tree.dates[i],
                tree.systems[i].clone(),
                Some(tree.versions[i].clone()),
                i == 2,
                i == 1,
            )
        })
        .collect();
    assert_eq!(got, want);
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
}

#[tokio::test]
async fn a_plain_linux_host_reads_as_not_nixos() {
    // This container itself: no /run/current-system, no system profile.
    let sshd = Sshd::start(SshdOptions::default());
    let s = status(&target(&sshd.target("root")), &opts(&sshd))
        .await
        .unwrap();
    assert_eq!(s.current_system, None);
    assert!(s.generations.is_empty());
    assert!(
        s.uptime_secs.is_some_and(|u| u > 0),
        "the real /proc/uptime"
    );
    assert!(
        s.warnings.iter().any(|w| w.contains("NixOS")),
        "{:?}",
        s.warnings
    );
}

#[tokio::test]
async fn a_rollback_job_switches_the_host_to_the_chosen_generation() {
    let (tree, sshd) = nixos_sshd("web1");
    let t = target(&sshd.target("root"));
    let o = opts(&sshd);
    let before = status(&t, &o).await.unwrap();
    assert_eq!(check_rollback("web1", &before, RollbackTo::Previous), Ok(2));
    let to =
        RollbackTo::Generation(check_rollback("web1", &before, RollbackTo::Generation(1)).unwrap());

    let tmp = tempfile::tempdir().unwrap();
    let jobs = JobManager::open(&tmp.path().join("data")).unwrap();
    // What the last deploy put there, recorded as the API does after colmena.
    let recorded = record_deployed_system(&jobs, None, "web1", &t, &o)
        .await
        .unwrap();
    assert_eq!(recorded, tree.systems[2]);
    let host = HostTarget {
        name: "web1".into(),
        address: "127.0.0.1".into(),
        user: "root".into(),
        port: Some(sshd.port),
        tags: vec![],
        build_on_target: false,
    };
    let ssh = SshClientOptions {
        identity_file: Some(sshd.user_key_path.display().to_string()),
        known_hosts_file: Some(sshd.known_hosts_path.display().to_string()),
        connect_timeout_secs: Some(5),
        config_file: None,
    };
    let req = requests::rollback_request(tmp.path(), &host, to, &ssh).unwrap();
    let id = jobs.start(req, None).unwrap();
    let outcome = jobs.wait(id).await.unwrap();
    let record = jobs.get(id).unwrap();
    let log = std::fs::read_to_string(&record.log_path).unwrap_or_default();
    assert_eq!(
        outcome.result,
        JobResult::Succeeded,
        "{outcome:?}\n{log}\nsshd: {}",
        sshd.log()
    );
    assert_eq!(record.kind, JobKind::Rollback);
    assert_eq!(record.hosts, ["web1"]);
    assert!(record.argv.iter().any(|a| a == "--"), "{:?}", record.argv);
    assert!(
        log.contains("switching profile from version 3 to 1"),
        "{log}"
    );
    assert_eq!(jobs.last_job("web1").unwrap().map(|j| j.id), Some(id));

    let after = status(&t, &o).await.unwrap();
    assert_eq!(tree.current_system(), tree.systems[0]);
    assert_eq!(
        after.current_system.as_deref(),
        Some(tree.systems[0].as_str())
    );
    assert_eq!(after.profile_generation, Some(1));
    assert_eq!(after.current_generation().map(|g| g.number), Some(1));
    assert_eq!(
        after.nixos_version.as_deref(),
        Some(tree.versions[0].as_str())
    );

    // The flake cannot be evaluated here (no flake at all): the drift falls
    // back to the deploy's record, which the rollback left behind.
    let flake = flake_toplevel(
        &Default::default(),
        tmp.path(),
        "web1",
        Duration::from_secs(60),
    )
    .await;
    assert!(flake.is_err(), "{flake:?}");
    let recorded = jobs.host_system("web1").unwrap().map(|r| r.system_path);
    let v = drift(&Ok(after), &flake, recorded.as_deref());
    assert_eq!(
        (v.drift, v.basis),
        (Drift::ChangedOutside, Some(DriftBasis::LastDeploy))
    );

    // Previous from generation 1: there is none, and the plan says so.
    let again = status(&t, &o).await.unwrap();
    assert!(check_rollback("web1", &again, RollbackTo::Previous).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fleet_status_reports_hosts_as_they_answer_within_the_pool() {
    let (tree, sshd) = nixos_sshd("web1");
    // Two hosts that accept TCP but never speak SSH: each holds a slot until
    // the handshake times out, long after the others have answered.
    let silent_a = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_b = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_limit = Duration::from_secs(5);
    let dead = free_port();
    let mut connect = opts(&sshd);
    connect.timeouts = Timeouts {
        handshake: silent_limit,
        ..Timeouts::default()
    };
    let port = |l: &TcpListener| l.local_addr().unwrap().port();
    let mut targets = vec![
        (
            "silent-a".to_string(),
            target(&format!("root@127.0.0.1:{}", port(&silent_a))),
        ),
        (
            "silent-b".to_string(),
            target(&format!("root@127.0.0.1:{}", port(&silent_b))),
        ),
        (
            "dead".to_string(),
            target(&format!("root@127.0.0.1:{dead}")),
        ),
    ];
    for i in 0..4 {
        targets.push((format!("web{i}"), target(&sshd.target("root"))));
    }
    let order: Arc<Mutex<Vec<(String, bool, Duration)>>> = Arc::default();
    let seen = order.clone();
    let start = Instant::now();
    let results = fleet_status(targets.clone(), &connect, 4, move |name, r| {
        seen.lock()
            .unwrap()
            .push((name.to_string(), r.is_ok(), start.elapsed()));
    })
    .await;
    let order = order.lock().unwrap().clone();

    assert_eq!(
        results.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        targets.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        "results come back in the order asked"
    );
    assert_eq!(order.len(), targets.len(), "every host is reported once");
    for (name, r) in &results {
        match name.as_str() {
            "dead" => assert!(
                matches!(r, Err(StatusError::Ssh(SshError::Unreachable { .. }))),
                "{r:?}"
            ),
            "silent-a" | "silent-b" => {
                assert!(
                    matches!(r, Err(StatusError::Ssh(SshError::Timeout { .. }))),
                    "{r:?}"
                )
            }
            _ => assert_eq!(
                r.as_ref().unwrap().current_system.as_deref(),
                Some(tree.systems[2].as_str())
            ),
        }
    }
    // The silent hosts hold two of four slots; every other host goes through
    // the other two and is shown before the silent ones give up.
    let names: Vec<&str> = order.iter().map(|o| o.0.as_str()).collect();
    assert!(
        names[..5].iter().all(|n| !n.starts_with("silent")),
        "{order:?}"
    );
    assert!(
        order[5].2 >= silent_limit - Duration::from_millis(100),
        "{order:?}"
    );

    // With one slot, a silent host listed first holds up the next one: the
    // pool is bounded.
    let order1: Arc<Mutex<Vec<(String, Duration)>>> = Arc::default();
    let seen = order1.clone();
    let start = Instant::now();
    let two = vec![targets[0].clone(), targets[3].clone()];
    fleet_status(two, &connect, 1, move |name, _| {
        seen.lock()
            .unwrap()
            .push((name.to_string(), start.elapsed()));
    })
    .await;
    let order1 = order1.lock().unwrap().clone();
    assert_eq!(order1[0].0, "silent-a", "{order1:?}");
    assert!(
        order1[1].1 >= silent_limit - Duration::from_millis(100),
        "{order1:?}"
    );
}

#[tokio::test]
async fn the_safety_net_waits_for_a_node_to_answer_again() {
    let mut sshd = Sshd::start(SshdOptions::default());
    let t = target(&sshd.target("root"));
    let o = opts(&sshd);
    assert!(matches!(
        check_answers(&t, &o, Duration::from_secs(5)).await.unwrap(),
        Answer::Answered { after } if after < Duration::from_secs(5)
    ));

    sshd.stop();
    let start = Instant::now();
    let silent = check_answers(&t, &o, Duration::from_millis(1500))
        .await
        .unwrap();
    let took = start.elapsed();
    let Answer::Silent { tries, last_error } = silent else {
        panic!("{silent:?}")
    };
    assert!(
        tries >= 1 && last_error.contains("refused"),
        "{tries} {last_error}"
    );
    assert!(
        took >= Duration::from_millis(1400) && took < Duration::from_secs(4),
        "{took:?}"
    );

    // Back after a "reboot" of two seconds.
    sshd.restart(Duration::from_secs(2));
    let back = check_answers(&t, &o, Duration::from_secs(20))
        .await
        .unwrap();
    let Answer::Answered { after } = back else {
        panic!("{back:?}\n{}", sshd.log())
    };
    assert!(
        after >= Duration::from_millis(1800) && after < Duration::from_secs(10),
        "{after:?}"
    );

    // A node that answers with another host key is not waited for.
    let other = Sshd::start(SshdOptions::default());
    let start = Instant::now();
    let wrong = ConnectOptions {
        known_hosts: Some(other.known_hosts_path.clone()),
        ..opts(&sshd)
    };
    std::fs::write(
        &other.known_hosts_path,
        format!("[127.0.0.1]:{} {}\n", sshd.port, other.host_key_pub),
    )
    .unwrap();
    let err = check_answers(&t, &wrong, Duration::from_secs(20))
        .await
        .unwrap_err();
    assert!(matches!(err, SshError::HostKeyMismatch { .. }), "{err}");
    assert!(start.elapsed() < Duration::from_secs(5));
}

/// A flake whose `web1` toplevel is `path` without nixpkgs: what
/// `nix eval` of a real configuration returns, with no network needed.
fn flake_with_toplevel(dir: &std::path::Path, path: &str) {
    std::fs::write(
        dir.join("flake.nix"),
        format!(
            "{{ outputs = _: {{ nixosConfigurations.web1.config.system.build.toplevel.outPath = \"{path}\"; }}; }}\n"
        ),
    )
    .unwrap();
}

#[tokio::test]
async fn drift_compares_with_the_flake_when_it_evaluates() {
    let (tree, sshd) = nixos_sshd("web1");
    let s = status(&target(&sshd.target("root")), &opts(&sshd)).await;
    let repo = tempfile::tempdir().unwrap();
    let limit = Duration::from_secs(60);

    flake_with_toplevel(repo.path(), &tree.systems[2]);
    let flake = flake_toplevel(&Default::default(), repo.path(), "web1", limit).await;
    assert_eq!(
        flake.as_deref().ok(),
        Some(tree.systems[2].as_str()),
        "{flake:?}"
    );
    let v = drift(&s, &flake, Some(&tree.systems[1]));
    assert_eq!(
        (v.drift, v.basis),
        (Drift::UpToDate, Some(DriftBasis::Flake))
    );

    // The flake moved on; the host runs what nixdeck deployed.
    let newer = "/nix/store/9a1b2c3d4f5g6h7i8j9k0l1m2n3p4q5r-nixos-system-web1-25.05";
    flake_with_toplevel(repo.path(), newer);
    let flake = flake_toplevel(&Default::default(), repo.path(), "web1", limit).await;
    let v = drift(&s, &flake, Some(&tree.systems[2]));
    assert_eq!(v.drift, Drift::BehindFlake);

    // Something that is not a store path is not trusted.
    flake_with_toplevel(repo.path(), "/etc/passwd");
    let flake = flake_toplevel(&Default::default(), repo.path(), "web1", limit).await;
    assert!(flake.is_err(), "{flake:?}");
    // A bad host name never reaches nix.
    assert!(
        flake_toplevel(&Default::default(), repo.path(), "a\"b", limit)
            .await
            .is_err()
    );

    // No answer, no flake, no record: unknown, saying why.
    let dead = status(
        &target(&format!("root@127.0.0.1:{}", free_port())),
        &opts(&sshd),
    )
    .await;
    let v = drift(&dead, &flake, None);
    let Drift::Unknown(why) = v.drift else {
        panic!("{v:?}")
    };
    assert!(why.contains("did not answer"), "{why}");
}
