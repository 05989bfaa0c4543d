//! Fleet status, generations and rollback through the API (and the command
//! line), against a real OpenSSH server chrooted into a NixOS-like tree
//! (`support/nixos_tree.rs`; needs root) and a port nothing listens on.

use crate::{new_host, standins, Scene};
use nixdeck_api::deploy::DeployRequest;
use nixdeck_api::jobs::parse_job_id;
use nixdeck_api::status::HostRow;
use nixdeck_api::{ErrorCode, SshFiles};
use nixdeck_core::tools::plan::DeployGoal;
use nixdeck_core::tools::rollback::RollbackTo;
use nixdeck_engine::jobs::JobKind;
use nixdeck_engine::runner::JobResult;
use nixdeck_tests::nixos_tree::NixosTree;
use nixdeck_tests::sshd::{Sshd, SshdOptions};
use serde_json::Value;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

/// A NixOS-like host `web1` behind a real sshd, and a repository with it and
/// `db1`, whose port nothing listens on.
struct Fleet {
    tree: NixosTree,
    sshd: Sshd,
    scene: Scene,
    repo: PathBuf,
    ssh_config: PathBuf,
}

/// A port that was free a moment ago and is closed now: connecting is refused.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

async fn fleet() -> Fleet {
    let tree = NixosTree::build("web1");
    let sshd = Sshd::start(SshdOptions {
        chroot: Some(tree.root.clone()),
        ..SshdOptions::default()
    });
    // nixdeck logs in as colmena would: with what OpenSSH's config names.
    let ssh_config = sshd.dir.path().join("ssh_config");
    std::fs::write(
        &ssh_config,
        format!(
            "Host *\n  IdentityFile {}\n  IdentitiesOnly yes\n",
            sshd.user_key_path.display()
        ),
    )
    .expect("ssh_config");
    let scene = Scene::with_ssh(SshFiles {
        known_hosts: Some(sshd.known_hosts_path.clone()),
        ssh_config: Some(ssh_config.clone()),
    });
    let repo = scene.repo().await;
    let web = new_host(&repo, "web1", Some(&sshd), "/dev/vda");
    scene.api.write_new_host(&web, &[]).await.expect("web1");
    let mut db = new_host(&repo, "db1", Some(&sshd), "/dev/vda");
    db.deployment.target_port = closed_port();
    scene.api.write_new_host(&db, &[]).await.expect("db1");
    Fleet {
        tree,
        sshd,
        scene,
        repo,
        ssh_config,
    }
}

fn row<'a>(rows: &'a [HostRow], host: &str) -> &'a HostRow {
    rows.iter()
        .find(|r| r.host == host)
        .unwrap_or_else(|| panic!("no row for {host}: {rows:?}"))
}

#[tokio::test]
async fn status_rows_tell_what_runs_and_why_a_host_did_not_answer() {
    let f = fleet().await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen_by_callback = seen.clone();
    let rows = f
        .scene
        .api
        .fleet_status(&f.repo, None, move |r| {
            seen_by_callback.lock().unwrap().push(r.host.clone())
        })
        .await
        .expect("status");
    let mut reported = seen.lock().unwrap().clone();
    reported.sort();
    assert_eq!(reported, ["db1", "web1"], "each row reported as it came");
    assert_eq!(
        rows.iter().map(|r| r.host.as_str()).collect::<Vec<_>>(),
        ["db1", "web1"],
        "the repository's order (hosts/ sorted)"
    );

    let web = row(&rows, "web1");
    assert!(
        web.reachable && web.error.is_none(),
        "{web:?}\nsshd: {}",
        f.sshd.log()
    );
    assert_eq!(
        web.nixos_version.as_deref(),
        Some(f.tree.versions[2].as_str())
    );
    assert_eq!(
        web.current_system.as_deref(),
        Some(f.tree.systems[2].as_str())
    );
    assert_eq!(
        web.booted_system.as_deref(),
        Some(f.tree.systems[1].as_str())
    );
    assert!(web.reboot_pending, "running generation 3, booted 2");
    assert_eq!(web.uptime_secs, Some(93784));
    assert_eq!(web.profile_generation, Some(3));
    assert!(web.last_job.is_none());
    // No flake evaluation here (nix is a stand-in) and no deploy on record.
    assert_eq!(web.drift.state, "unknown", "{:?}", web.drift);
    assert!(web.drift.label.starts_with("unknown ("), "{:?}", web.drift);

    let db = row(&rows, "db1");
    assert!(!db.reachable);
    let err = db.error.as_ref().expect("an error for db1");
    assert_eq!(err.code, ErrorCode::Unreachable, "{err:?}");
    assert!(err.hint.is_some(), "{err:?}");
    assert_eq!(db.drift.state, "unknown");
    assert!(db.drift.label.contains("did not answer"), "{:?}", db.drift);

    let only = f
        .scene
        .api
        .fleet_status(&f.repo, Some("web*"), |_| {})
        .await
        .expect("filtered");
    assert_eq!(only.len(), 1);
    assert_eq!(only[0].host, "web1");
    let err = f
        .scene
        .api
        .fleet_status(&f.repo, Some("mail*"), |_| {})
        .await
        .expect_err("selects nothing");
    assert_eq!(err.code, ErrorCode::Validation);
}

#[tokio::test]
async fn generations_list_the_hosts_systems_with_what_runs_and_what_booted() {
    let f = fleet().await;
    let view = f
        .scene
        .api
        .generations(&f.repo, "web1")
        .await
        .unwrap_or_else(|e| panic!("{e:?}\nsshd: {}", f.sshd.log()));
    let got: Vec<_> = view
        .generations
        .iter()
        .map(|g| {
            (
                g.number,
                g.store_path.clone(),
                g.current,
                g.booted,
                g.profile,
            )
        })
        .collect();
    let want: Vec<_> = (0..3)
        .map(|i| {
            (
                i as u32 + 1,
                f.tree.systems[i].clone(),
                i == 2,
                i == 1,
                i == 2,
            )
        })
        .collect();
    assert_eq!(got, want);
    assert_eq!(view.previous_generation, Some(2));
    assert!(view.reboot_pending);

    let err = f
        .scene
        .api
        .generations(&f.repo, "db1")
        .await
        .expect_err("db1 does not answer");
    assert_eq!(err.code, ErrorCode::Unreachable);
    let err = f
        .scene
        .api
        .generations(&f.repo, "mail1")
        .await
        .expect_err("no such host");
    assert_eq!(err.code, ErrorCode::NotFound);
}

#[tokio::test]
async fn a_rollback_needs_the_typed_name_then_switches_and_the_drift_shows_it() {
    let f = fleet().await;
    let api = &f.scene.api;
    let err = api
        .start_rollback(&f.repo, "web1", RollbackTo::Generation(1), "", None)
        .await
        .expect_err("no confirmation");
    assert_eq!(err.code, ErrorCode::Validation);
    assert!(err.message.contains("type the host name web1"), "{err:?}");
    let err = api
        .start_rollback(&f.repo, "web1", RollbackTo::Generation(7), "web1", None)
        .await
        .expect_err("no generation 7");
    assert!(err.message.contains("1, 2, 3"), "{err:?}");
    assert!(api.list_jobs(None).unwrap().is_empty(), "nothing started");
    assert_eq!(f.tree.current_system(), f.tree.systems[2]);

    // A deploy that succeeded (colmena is a stand-in here) records what the
    // host runs afterwards; the drift then measures against that record.
    let record_file = f.scene.path("argv.record");
    let deployed = {
        let _env = standins(&record_file, "ok").await;
        let started = api
            .start_deploy(
                &DeployRequest {
                    repo: f.repo.clone(),
                    filter: Some("web1".into()),
                    ..DeployRequest::default()
                },
                None,
            )
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        let id = parse_job_id(&started.job_id).unwrap();
        let outcome = api.wait_job(id).await.unwrap();
        assert_eq!(outcome.result, JobResult::Succeeded, "{outcome:?}");
        id
    };
    assert_eq!(
        api.record_deployed_systems(&f.repo, deployed)
            .await
            .unwrap(),
        ["web1"]
    );
    let lock = api
        .list_jobs(None)
        .unwrap()
        .into_iter()
        .find(|j| j.kind == JobKind::Lock)
        .expect("the lock job");
    assert_eq!(
        api.record_deployed_systems(&f.repo, lock.id)
            .await
            .expect_err("not a deploy")
            .code,
        ErrorCode::Validation
    );
    let rows = api
        .fleet_status(&f.repo, Some("web1"), |_| {})
        .await
        .unwrap();
    assert_eq!(rows[0].drift.state, "up_to_date", "{:?}", rows[0].drift);
    assert_eq!(rows[0].drift.basis.as_deref(), Some("last_deploy"));

    let started = api
        .start_rollback(&f.repo, "web1", RollbackTo::Generation(1), "web1", None)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let id = parse_job_id(&started.job_id).unwrap();
    let outcome = api.wait_job(id).await.unwrap();
    let log = std::fs::read_to_string(api.get_job(id).unwrap().log_path).unwrap_or_default();
    assert_eq!(
        outcome.result,
        JobResult::Succeeded,
        "{outcome:?}\n{log}\nsshd: {}",
        f.sshd.log()
    );
    let argv = api.get_job(id).unwrap().argv;
    assert!(
        argv.windows(2)
            .any(|w| w[0] == "-F" && Path::new(&w[1]) == f.ssh_config),
        "the job reads the Api's ssh_config: {argv:?}"
    );

    let rows = api
        .fleet_status(&f.repo, Some("web1"), |_| {})
        .await
        .unwrap();
    let web = &rows[0];
    assert_eq!(web.profile_generation, Some(1));
    assert_eq!(
        web.current_system.as_deref(),
        Some(f.tree.systems[0].as_str())
    );
    assert_eq!(
        web.nixos_version.as_deref(),
        Some(f.tree.versions[0].as_str())
    );
    assert_eq!(web.drift.state, "changed_outside", "{:?}", web.drift);
    assert_eq!(web.drift.label, "changed outside nixdeck");
    let last = web.last_job.as_ref().expect("the rollback as last job");
    assert_eq!(
        (last.kind, last.result),
        (JobKind::Rollback, JobResult::Succeeded)
    );
    assert_eq!(last.id, id.to_string());
}

#[test]
fn every_deploy_goal_says_what_it_risks() {
    let scene = Scene::new();
    let risks = scene.api.deploy_goal_risks();
    let goals: Vec<&str> = risks.iter().map(|r| r.goal.as_str()).collect();
    assert_eq!(
        goals,
        ["switch", "test", "boot", "dry-activate", "build", "push"]
    );
    for r in &risks {
        let goal: DeployGoal = r.goal.parse().expect("a goal colmena knows");
        assert_eq!(r.risk, nixdeck_core::tools::safety::goal_risk(goal));
    }
}

/// `nixdeck-headless ARGS… --known-hosts … --ssh-config …` with its own data directory.
async fn cli(f: &Fleet, data: &Path, args: &[&std::ffi::OsStr]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nixdeck-headless"));
    cmd.env("NIXDECK_DATA_DIR", data)
        .args(args)
        .arg("--known-hosts")
        .arg(&f.sshd.known_hosts_path)
        .arg("--ssh-config")
        .arg(&f.ssh_config);
    tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("join")
        .expect("nixdeck-headless runs")
}

#[tokio::test]
async fn cli_status_prints_json_rows_and_rollback_wants_the_name_typed() {
    let f = fleet().await;
    let data = f.scene.path("cli-data");
    let out = cli(
        &f,
        &data,
        &["status".as_ref(), f.repo.as_os_str(), "--json".as_ref()],
    )
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Value = serde_json::from_str(&stdout).expect("JSON rows");
    let (db, web) = (&rows[0], &rows[1]);
    assert_eq!(web["host"], "web1", "{rows:#}");
    assert_eq!(web["reachable"], true, "{rows:#}");
    assert_eq!(web["nixosVersion"], f.tree.versions[2].as_str());
    assert_eq!(web["rebootPending"], true);
    assert_eq!(web["drift"]["state"], "unknown");
    assert_eq!(db["host"], "db1");
    assert_eq!(db["reachable"], false);
    assert_eq!(db["error"]["code"], "unreachable");

    let out = cli(&f, &data, &["status".as_ref(), f.repo.as_os_str()]).await;
    let table = String::from_utf8_lossy(&out.stdout);
    let progress = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{table}\n{progress}");
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("HOST") && lines[0].ends_with("DRIFT"),
        "{table}"
    );
    assert!(
        lines[1].starts_with("db1") && lines[1].contains(" no "),
        "{table}"
    );
    let web_line = lines[2];
    assert!(web_line.starts_with("web1"), "{table}");
    assert!(web_line.contains(&f.tree.versions[2]), "{table}");
    assert!(
        web_line.contains("pending") && web_line.contains("1d 2h"),
        "{table}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("db1: ")),
        "the error in words: {table}"
    );
    assert!(
        progress.contains("web1: ") && progress.contains("db1: unreachable"),
        "{progress}"
    );

    let out = cli(
        &f,
        &data,
        &[
            "rollback".as_ref(),
            f.repo.as_os_str(),
            "web1".as_ref(),
            "--to".as_ref(),
            "1".as_ref(),
        ],
    )
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("type the host name web1"), "{stderr}");
    assert_eq!(
        f.tree.current_system(),
        f.tree.systems[2],
        "nothing switched"
    );
}

/// `nixdeck deploy` records what the hosts run once colmena succeeded, with
/// OpenSSH's usual files (here a throw-away `$HOME/.ssh`), so the next status
/// measures drift against it.
#[tokio::test]
async fn cli_deploy_records_the_deployed_system_for_the_drift_check() {
    let f = fleet().await;
    let home = f.scene.path("home");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    std::fs::copy(&f.ssh_config, home.join(".ssh/config")).unwrap();
    std::fs::copy(&f.sshd.known_hosts_path, home.join(".ssh/known_hosts")).unwrap();
    // The operator's key, which the fleet authorizes (no lockout).
    nixdeck_tests::give_operator_key(&home);
    let data = f.scene.path("data");
    let record_file = f.scene.path("argv.record");
    let out = {
        let _env = standins(&record_file, "ok").await;
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_nixdeck-headless"));
        cmd.env("NIXDECK_DATA_DIR", &data)
            .env("HOME", &home)
            .env_remove("SSH_AUTH_SOCK")
            .arg("deploy")
            .arg(&f.repo)
            .args(["--on", "web1", "--flakes", "yes", "--tools-from-path"]);
        tokio::task::spawn_blocking(move || cmd.output())
            .await
            .expect("join")
            .expect("nixdeck deploy")
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("recorded the deployed system of web1"),
        "{stderr}"
    );
    let rows = nixdeck_api::Api::open(&data)
        .with_ssh_files(SshFiles {
            known_hosts: Some(f.sshd.known_hosts_path.clone()),
            ssh_config: Some(f.ssh_config.clone()),
        })
        .fleet_status(&f.repo, Some("web1"), |_| {})
        .await
        .unwrap();
    assert_eq!(rows[0].drift.state, "up_to_date", "{:?}", rows[0].drift);
    assert_eq!(rows[0].drift.basis.as_deref(), Some("last_deploy"));
    let last = rows[0].last_job.as_ref().expect("the deploy");
    assert_eq!(last.kind, JobKind::Deploy);
}

/// The deploy safety net, as both front ends get it: started with the deploy,
/// it checks each node colmena activated; web1 answers (and what it runs is
/// recorded), db1 (nothing listens on its port) is marked silent, and checking
/// it again says so again.
#[tokio::test]
async fn the_safety_net_checks_each_switched_node_after_a_deploy() {
    let f = fleet().await;
    let api = &f.scene.api;
    let record_file = f.scene.path("argv.record");
    let id = {
        let _env = standins(&record_file, "ok").await;
        std::env::set_var("NIXDECK_STANDIN_NODES", "db1 web1");
        std::env::set_var("NIXDECK_SAFETY_LIMIT_SECS", "2");
        let started = api
            .start_deploy(
                &DeployRequest {
                    repo: f.repo.clone(),
                    filter: Some("db1,web1".into()),
                    ..DeployRequest::default()
                },
                None,
            )
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        let id = parse_job_id(&started.job_id).unwrap();
        assert_eq!(api.wait_job(id).await.unwrap().result, JobResult::Succeeded);
        let report = api
            .wait_deploy_safety(id, std::time::Duration::from_secs(30))
            .await
            .unwrap()
            .expect("a report");
        std::env::remove_var("NIXDECK_STANDIN_NODES");
        std::env::remove_var("NIXDECK_SAFETY_LIMIT_SECS");
        assert!(!report.checking);
        assert_eq!(report.limit_secs, 2);
        let state = |n: &str| {
            report
                .nodes
                .iter()
                .find(|a| a.node == n)
                .unwrap_or_else(|| panic!("{n} in {report:?}"))
                .clone()
        };
        assert_eq!(state("web1").state, "answered", "{report:?}");
        let db = state("db1");
        assert_eq!(db.state, "silent", "{report:?}");
        assert!(
            db.error.as_deref().unwrap().contains("connection refused"),
            "{db:?}"
        );
        assert_eq!(report.recorded, ["web1"]);
        id
    };
    let again = api.recheck_node(id, "db1").await.unwrap();
    let db = again.nodes.iter().find(|a| a.node == "db1").unwrap();
    assert_eq!(db.state, "silent");
    assert!(!db.answered_again);
    assert!(api.recheck_node(id, "mail1").await.is_err(), "not checked");
    // What web1 runs was recorded as this deploy's: the drift is measured against it.
    let rows = api
        .fleet_status(&f.repo, Some("web1"), |_| {})
        .await
        .unwrap();
    assert_eq!(rows[0].drift.state, "up_to_date", "{:?}", rows[0].drift);
}
