//! The fleet: a repository with tagged hosts, a validate and a tag redeploy
//! through the window (stand-in `nix` first on the app's PATH), both in the
//! host's history with their logs; a failed install shows its failing step.

use crate::harness::{App, AppOptions};
use anyhow::{bail, Context, Result};
use nixdeck_core::repo::{FlakeSpec, HostName, HostSpec, Tag};
use nixdeck_core::tools::plan::{EnvVar, HostTarget, InstallOptions, ToolSettings};
use nixdeck_engine::jobs::{requests, JobManager};
use nixdeck_engine::repo::{self, Confirm};
use nixdeck_engine::runner::JobResult;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn standins() -> PathBuf {
    nixdeck_tests::fixture("standins")
}

/// A repository with web1, web2 (`@web`) and db1 (`@db`), made by the engine.
async fn fleet_repo(root: &Path) -> Result<()> {
    repo::init_repo(root, &FlakeSpec::default(), &Confirm::Nothing).await?;
    for (name, tag, address) in [
        ("web1", "web", "192.0.2.11"),
        ("web2", "web", "192.0.2.12"),
        ("db1", "db", "192.0.2.21"),
    ] {
        let mut spec = HostSpec::new(HostName::new(name)?, address);
        spec.deployment.tags = vec![Tag::new(tag)?];
        spec.config.authorized_keys = vec![nixdeck_tests::operator_key()];
        spec.disko = Some("{ disko.devices = { }; }\n".into());
        repo::add_host(root, &spec, &Confirm::Nothing).await?;
    }
    // A real lock (the article's inputs), so jobs skip the lock step and the
    // job page can say which colmena it pins.
    std::fs::copy(
        nixdeck_tests::fixture("locks/article.lock"),
        root.join("flake.lock"),
    )?;
    Ok(())
}

/// A finished install of db1 in `data` that aborted while gathering facts, run
/// by the engine against the stand-in nixos-anywhere (as the window would).
async fn failed_install(data: &Path, repo: &Path) -> Result<i64> {
    install_job(data, repo, "abort-facts", JobResult::Failed).await
}

/// An install of db1 run by the engine with the stand-in in `scenario`.
async fn install_job(data: &Path, repo: &Path, scenario: &str, want: JobResult) -> Result<i64> {
    let manager = JobManager::open(data)?;
    // The host as the repository has it (address and port).
    let view = repo::open_repo(repo).await?;
    let db1 = view
        .hosts
        .iter()
        .find(|h| h.name == "db1")
        .expect("db1 in the repository");
    let host = HostTarget {
        name: "db1".into(),
        address: db1.address.clone().unwrap_or_default(),
        user: "root".into(),
        port: db1.port.filter(|p| *p != 22),
        tags: db1.tags.clone(),
        build_on_target: false,
    };
    let settings = ToolSettings {
        flakes_enabled: true,
        tools_from_path: false,
        ..ToolSettings::default()
    };
    let mut req =
        requests::install_request(&settings, repo, &host, &InstallOptions::default(), None)?;
    req.command.program = standins().join("nix").to_string_lossy().into_owned();
    for (name, value) in [
        ("NIXDECK_STANDIN_SCENARIO", scenario),
        ("NIXDECK_STANDIN_DELAY", "0.01"),
    ] {
        req.command.env.push(EnvVar {
            name: name.into(),
            value: value.into(),
            secret: false,
        });
    }
    let id = manager.start(req, None)?;
    let outcome = manager.wait(id).await?;
    assert_eq!(outcome.result, want, "{outcome:?}");
    Ok(id)
}

fn app_env(data: &Path) -> Vec<(String, String)> {
    vec![
        (
            "PATH".into(),
            format!(
                "{}:{}",
                standins().display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        ),
        ("NIXDECK_DATA_DIR".into(), data.display().to_string()),
        ("NIXDECK_STANDIN_DELAY".into(), "0.05".into()),
        ("NIXDECK_STANDIN_NODES".into(), "web1 web2".into()),
    ]
}

/// [`App::wait_attr`] with this file's limit of 30 s.
async fn wait_attr(app: &App, css: &str, name: &str, want: &str) -> Result<()> {
    app.wait_attr(css, name, want, 30).await
}

async fn open_repo(app: &App) -> Result<()> {
    app.click("open-repo").await?;
    app.find("hosts-table").await?;
    Ok(())
}

#[tokio::test]
async fn tag_redeploy_and_history() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let root = tmp.path().join("infra");
    fleet_repo(&root).await?;
    let data = tmp.path().join("data");
    let mut app = App::start(
        "fleet",
        AppOptions {
            pick_folder: Some(root.clone()),
            env: app_env(&data),
            ..Default::default()
        },
    )
    .await?;
    open_repo(&app).await?;
    app.screenshot("dashboard").await?;

    // Validate web1 from its row: a real job through the stand-in nix build.
    app.click_css("[data-host=\"web1\"] [data-testid=\"validate-host\"]")
        .await?;
    wait_attr(
        &app,
        "[data-testid=\"job-screen\"]",
        "data-result",
        "succeeded",
    )
    .await?;
    let argv = app.text("job-argv").await?;
    assert!(
        argv.contains("build .#nixosConfigurations.web1.config.system.build.toplevel"),
        "{argv}"
    );
    app.wait_text("log-count", |t| t != "0 lines").await?;
    app.screenshot("validate-done").await?;

    // Select @web: the backend's selection is shown before anything runs.
    app.click("back-to-fleet").await?;
    app.click_css("[data-testid=\"tag-chip\"][data-tag=\"web\"]")
        .await?;
    wait_attr(
        &app,
        "[data-testid=\"deploy-selected\"]",
        "data-hosts",
        "web1,web2",
    )
    .await?;
    assert_eq!(
        app.attr_css("[data-host=\"db1\"]", "data-selected")
            .await?
            .as_deref(),
        Some("false")
    );
    let argv = app.text("deploy-argv").await?;
    assert!(argv.contains("apply switch --on=@web"), "{argv}");
    app.screenshot("tag-selected").await?;

    // Deploy: each node ends with its result.
    app.click("start-deploy").await?;
    wait_attr(
        &app,
        "[data-testid=\"job-screen\"]",
        "data-result",
        "succeeded",
    )
    .await?;
    for node in ["web1", "web2"] {
        wait_attr(
            &app,
            &format!("[data-testid=\"node-row\"][data-node=\"{node}\"]"),
            "data-state",
            "succeeded",
        )
        .await?;
    }
    // The job page says which colmena ran, as flake.lock pinned it.
    let tools = app.text("job-tools").await?;
    assert!(tools.contains("colmena from zhaofengli/colmena"), "{tools}");
    app.screenshot("deploy-done").await?;

    // Both runs are in web1's history, each with its log.
    app.click("back-to-fleet").await?;
    app.click_css("[data-host=\"web1\"] [data-testid=\"open-host\"]")
        .await?;
    app.find("host-history").await?;
    let deadline = Instant::now() + Duration::from_secs(20);
    let rows = loop {
        let rows = app
            .client
            .find_all(fantoccini::Locator::Css("[data-testid=\"history-row\"]"))
            .await?;
        if rows.len() >= 2 || Instant::now() > deadline {
            break rows;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mut kinds = Vec::new();
    for row in &rows {
        kinds.push(row.attr("data-kind").await?.unwrap_or_default());
        assert_eq!(row.attr("data-result").await?.as_deref(), Some("succeeded"));
    }
    kinds.sort();
    assert_eq!(kinds, ["deploy", "validate"]);
    app.screenshot("host-page").await?;
    for i in 0..2 {
        // The history arrives after the page: wait for its rows again each time.
        let deadline = Instant::now() + Duration::from_secs(20);
        let links = loop {
            let links = app
                .client
                .find_all(fantoccini::Locator::Css("[data-testid=\"open-job\"]"))
                .await?;
            if links.len() > i || Instant::now() > deadline {
                break links;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        links[i].click().await?;
        app.find("job-summary").await?;
        // The validate prints 3 lines, the deploy 17: the logs came back in full
        // (the view draws a new count within a tenth of a second).
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let lines: u64 = app
                .find("log-view")
                .await?
                .attr("data-lines")
                .await?
                .unwrap_or_default()
                .parse()?;
            if lines >= 3 {
                break;
            }
            assert!(Instant::now() < deadline, "job log has {lines} lines");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // The lines in sight are read from the log on disk after the count.
        app.wait_text("log-scroller", |log| log.contains("nixos-system"))
            .await?;
        app.screenshot(&format!("history-job-{i}")).await?;
        app.click_css("[data-testid=\"open-host\"][data-host=\"web1\"]")
            .await?;
        app.find("host-history").await?;
    }
    app.stop().await
}

#[tokio::test]
async fn failed_install_shows_the_failing_step() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let root = tmp.path().join("infra");
    fleet_repo(&root).await?;
    let data = tmp.path().join("data");
    let id = failed_install(&data, &root).await?;
    let mut app = App::start(
        "failed-install",
        AppOptions {
            pick_folder: Some(root.clone()),
            env: app_env(&data),
            ..Default::default()
        },
    )
    .await?;
    open_repo(&app).await?;
    wait_attr(
        &app,
        "[data-host=\"db1\"] [data-testid=\"last-job\"]",
        "data-result",
        "failed",
    )
    .await?;
    app.click_css("[data-host=\"db1\"] [data-testid=\"open-host\"]")
        .await?;
    wait_attr(
        &app,
        "[data-testid=\"history-row\"]",
        "data-kind",
        "install",
    )
    .await?;
    // No probe recorded: the page says so and what to do.
    let empty = app.text("facts-empty").await?;
    assert!(empty.contains("Re-probe"), "{empty}");
    app.screenshot("host-failed").await?;
    app.click("open-job").await?;
    wait_attr(
        &app,
        "[data-testid=\"job-screen\"]",
        "data-job",
        &id.to_string(),
    )
    .await?;
    wait_attr(
        &app,
        "[data-testid=\"job-screen\"]",
        "data-result",
        "failed",
    )
    .await?;
    let failing = app.find("failing-step").await?;
    let text = failing.text().await?;
    assert!(text.contains("Gathering machine facts"), "{text}");
    let reason = app.text("job-reason").await?;
    assert!(
        reason.contains("Unable to find a command to use to escalate privileges"),
        "{reason}"
    );
    // The stepper marks the same step failed, and the recogniser explains it.
    let steps = app
        .client
        .find_all(fantoccini::Locator::Css(
            "[data-testid=\"phase\"][data-status=\"failed\"]",
        ))
        .await?;
    assert!(!steps.is_empty(), "a failed step in the stepper");
    let summary = app.text("job-summary").await?;
    assert!(summary.to_lowercase().contains("sudo"), "{summary}");
    app.screenshot("install-failed").await?;

    // Starting an install without a recorded probe stops before anything runs.
    app.click("open-host").await?;
    app.click("reinstall").await?;
    app.find("reinstall-dialog").await?;
    app.wait_text("reinstall-dialog", |t| t.contains("no probed facts"))
        .await?;
    app.screenshot("install-needs-probe").await?;
    app.stop().await
}

/// Every fleet screen at 1024x700 in the dark theme, for a person to look at.
#[tokio::test]
async fn fleet_screens_small_and_dark() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let root = tmp.path().join("infra");
    fleet_repo(&root).await?;
    let data = tmp.path().join("data");
    failed_install(&data, &root).await?;
    let mut env = app_env(&data);
    env.push(("GTK_THEME".into(), "Adwaita:dark".into()));
    let mut app = App::start(
        "fleet-dark-small",
        AppOptions {
            pick_folder: Some(root.clone()),
            env,
            window: Some((1024, 700)),
        },
    )
    .await?;
    open_repo(&app).await?;
    app.click_css("[data-testid=\"tag-chip\"][data-tag=\"web\"]")
        .await?;
    app.find("deploy-preview").await?;
    app.screenshot("dashboard").await?;
    app.click("start-deploy").await?;
    wait_attr(
        &app,
        "[data-testid=\"job-screen\"]",
        "data-result",
        "succeeded",
    )
    .await?;
    app.screenshot("deploy").await?;
    app.click("back-to-fleet").await?;
    app.click_css("[data-host=\"db1\"] [data-testid=\"open-host\"]")
        .await?;
    app.find("history-row").await?;
    app.screenshot("host").await?;
    app.click("open-job").await?;
    wait_attr(
        &app,
        "[data-testid=\"job-screen\"]",
        "data-result",
        "failed",
    )
    .await?;
    app.screenshot("install-failed").await?;
    app.stop().await
}

/// Re-probe over a real sshd records the facts; the install dialog shows the
/// preflight the backend computes from them (the same rules the engine and core
/// give for this machine) and blocks on its errors.
#[tokio::test]
async fn reprobe_then_preflight_in_the_install_dialog() -> Result<()> {
    use nixdeck_core::preflight::{self, LayoutNeeds};
    use nixdeck_engine::ssh::{Auth, ConnectOptions, SshTarget};
    use nixdeck_tests::sshd::{Sshd, SshdOptions};

    let sshd = Sshd::start(SshdOptions::default());
    let tmp = tempfile::tempdir()?;
    let root = tmp.path().join("infra");
    repo::init_repo(&root, &FlakeSpec::default(), &Confirm::Nothing).await?;
    let mut spec = HostSpec::new(HostName::new("box")?, "127.0.0.1");
    spec.deployment.target_port = sshd.port;
    spec.config.authorized_keys = vec![nixdeck_tests::operator_key()];
    spec.disko = Some(
        r#"{
  disko.devices.disk.main = {
    type = "disk";
    device = "/dev/vda";
    content = {
      type = "gpt";
      partitions = {
        ESP = { size = "512M"; type = "EF00"; content = { type = "filesystem"; format = "vfat"; mountpoint = "/boot"; }; };
        root = { size = "100%"; content = { type = "filesystem"; format = "ext4"; mountpoint = "/"; }; };
      };
    };
  };
}
"#
        .into(),
    );
    repo::add_host(&root, &spec, &Confirm::Nothing).await?;

    // What the backend should conclude about this machine, computed here with
    // the same engine and core (the machine differs between CI and laptops).
    let facts = nixdeck_engine::probe::probe(
        &SshTarget {
            host: "127.0.0.1".into(),
            port: Some(sshd.port),
            user: Some("root".into()),
        },
        &ConnectOptions {
            auth: Auth::KeyFile(sshd.user_key_path.clone()),
            known_hosts: Some(sshd.known_hosts_path.clone()),
            ..Default::default()
        },
        &Default::default(),
    )
    .await?;
    let needs = LayoutNeeds {
        esp: true,
        bios_boot: false,
        gpt: true,
        disks: vec!["/dev/vda".into()],
    };
    let expected = preflight::check(&facts, &needs, Some("x86_64-linux"));
    let mut want: Vec<String> = expected
        .findings
        .iter()
        .map(|f| f.rule.id().to_string())
        .collect();
    want.sort();

    // The app's HOME has the key and the known host, as a user's would.
    let home = tmp.path().join("home");
    std::fs::create_dir_all(home.join(".ssh"))?;
    std::fs::copy(&sshd.user_key_path, home.join(".ssh/id_ed25519"))?;
    std::fs::copy(&sshd.known_hosts_path, home.join(".ssh/known_hosts"))?;
    nixdeck_tests::give_operator_key(&home);
    let data = tmp.path().join("data");
    let mut env = app_env(&data);
    env.push(("HOME".into(), home.display().to_string()));
    let mut app = App::start(
        "fleet-preflight",
        AppOptions {
            pick_folder: Some(root.clone()),
            env,
            ..Default::default()
        },
    )
    .await?;
    open_repo(&app).await?;
    app.click_css("[data-host=\"box\"] [data-testid=\"open-host\"]")
        .await?;
    app.find("facts-empty").await?;
    app.click("reprobe").await?;
    app.find("host-disks").await?;
    let deadline = Instant::now() + Duration::from_secs(20);
    let shown = loop {
        let mut shown = Vec::new();
        for f in app
            .client
            .find_all(fantoccini::Locator::Css(
                "[data-testid=\"preflight-finding\"]",
            ))
            .await?
        {
            shown.push(f.attr("data-rule").await?.unwrap_or_default());
        }
        shown.sort();
        if shown == want || Instant::now() > deadline {
            break shown;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(shown, want, "the page shows the backend's preflight");
    app.screenshot("host-probed").await?;

    app.click("reinstall").await?;
    app.find("reinstall-dialog").await?;
    app.find("confirm-host").await?.send_keys("box").await?;
    let disabled = app
        .find("start-install")
        .await?
        .attr("disabled")
        .await?
        .is_some();
    assert_eq!(
        disabled,
        expected.blocked() || !expected.warnings().is_empty(),
        "errors block; warnings wait for their acknowledgement"
    );
    app.screenshot("install-dialog").await?;
    app.stop().await
}

/// After a successful install the job screen shows every step done, the
/// hardware configuration known to git, and commits it on request.
#[tokio::test]
async fn after_install_commits_the_hardware_configuration() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let root = tmp.path().join("infra");
    fleet_repo(&root).await?;
    let data = tmp.path().join("data");
    let id = install_job(&data, &root, "ok", JobResult::Succeeded).await?;
    let mut env = app_env(&data);
    for (k, v) in [
        ("GIT_AUTHOR_NAME", "Test"),
        ("GIT_AUTHOR_EMAIL", "test@example.org"),
        ("GIT_COMMITTER_NAME", "Test"),
        ("GIT_COMMITTER_EMAIL", "test@example.org"),
    ] {
        env.push((k.into(), v.into()));
    }
    let mut app = App::start(
        "after-install",
        AppOptions {
            pick_folder: Some(root.clone()),
            env,
            ..Default::default()
        },
    )
    .await?;
    open_repo(&app).await?;
    app.click_css("[data-host=\"db1\"] [data-testid=\"last-job\"] button")
        .await?;
    wait_attr(
        &app,
        "[data-testid=\"job-screen\"]",
        "data-job",
        &id.to_string(),
    )
    .await?;
    wait_attr(
        &app,
        "[data-testid=\"job-screen\"]",
        "data-result",
        "succeeded",
    )
    .await?;
    let failed = app
        .client
        .find_all(fantoccini::Locator::Css(
            "[data-testid=\"phase\"]:not([data-status=\"done\"])",
        ))
        .await?;
    assert!(failed.is_empty(), "every step is done");
    let after = app.text("after-install").await?;
    assert!(after.contains("known to git"), "{after}");
    app.screenshot("after-install").await?;
    app.click("commit-hardware").await?;
    app.find("hardware-committed").await?;
    let log = std::process::Command::new("git")
        .args(["log", "-1", "--format=%s", "--name-only"])
        .current_dir(&root)
        .output()?;
    let log = String::from_utf8_lossy(&log.stdout).into_owned();
    assert!(
        log.starts_with("add hardware configuration for db1"),
        "{log}"
    );
    assert!(
        log.contains("hosts/db1/hardware-configuration.nix"),
        "{log}"
    );
    app.screenshot("committed").await?;
    app.stop().await
}

/// After an install the host presents a new key: the job screen shows the old
/// and the new fingerprint, and replaces the known_hosts entry only on request.
#[tokio::test]
async fn after_install_host_key_refresh_shows_both_fingerprints() -> Result<()> {
    use nixdeck_tests::sshd::{fingerprint, keygen, public_key, Sshd, SshdOptions};

    let sshd = Sshd::start(SshdOptions::default());
    let tmp = tempfile::tempdir()?;
    let root = tmp.path().join("infra");
    repo::init_repo(&root, &FlakeSpec::default(), &Confirm::Nothing).await?;
    let mut spec = HostSpec::new(HostName::new("db1")?, "127.0.0.1");
    spec.deployment.target_port = sshd.port;
    repo::add_host(&root, &spec, &Confirm::Nothing).await?;
    std::fs::write(root.join("flake.lock"), "{}\n")?;
    let data = tmp.path().join("data");
    install_job(&data, &root, "ok", JobResult::Succeeded).await?;

    // known_hosts still has the key the machine had before the install.
    let home = tmp.path().join("home");
    std::fs::create_dir_all(home.join(".ssh"))?;
    let old = keygen(tmp.path(), "old_host_key", "ed25519", "");
    let old_fp = fingerprint(&old);
    let known = home.join(".ssh/known_hosts");
    std::fs::write(
        &known,
        format!("[127.0.0.1]:{} {}\n", sshd.port, public_key(&old)),
    )?;
    std::fs::copy(&sshd.user_key_path, home.join(".ssh/id_ed25519"))?;
    let mut env = app_env(&data);
    env.push(("HOME".into(), home.display().to_string()));
    let mut app = App::start(
        "host-key",
        AppOptions {
            pick_folder: Some(root.clone()),
            env,
            ..Default::default()
        },
    )
    .await?;
    open_repo(&app).await?;
    app.click_css("[data-host=\"db1\"] [data-testid=\"last-job\"] button")
        .await?;
    wait_attr(
        &app,
        "[data-testid=\"job-screen\"]",
        "data-result",
        "succeeded",
    )
    .await?;
    app.click("check-host-key").await?;
    wait_attr(&app, "[data-testid=\"host-key\"]", "data-status", "changed").await?;
    assert_eq!(app.text("old-fingerprint").await?, old_fp);
    assert_eq!(
        app.text("new-fingerprint").await?,
        sshd.host_key_fingerprint
    );
    // Nothing is replaced until the user asks.
    assert!(std::fs::read_to_string(&known)?.contains(&public_key(&old)));
    app.screenshot("fingerprints").await?;
    app.click("replace-host-key").await?;
    wait_attr(&app, "[data-testid=\"host-key\"]", "data-status", "matches").await?;
    let text = std::fs::read_to_string(&known)?;
    assert!(!text.contains(&public_key(&old)), "{text}");
    assert!(text.contains(&sshd.host_key_pub), "{text}");
    app.screenshot("replaced").await?;
    app.stop().await
}

/// A deploy that goes quiet: the watchdog's notice names the node and what
/// usually causes it; keep waiting hides it; cancel ends the job as cancelled.
#[tokio::test]
async fn watchdog_notice_and_cancel() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let root = tmp.path().join("infra");
    fleet_repo(&root).await?;
    let data = tmp.path().join("data");
    let mut env = app_env(&data);
    env.retain(|(k, _)| k != "NIXDECK_STANDIN_DELAY");
    env.push(("NIXDECK_STANDIN_DELAY".into(), "4".into()));
    env.push(("NIXDECK_WATCHDOG_SILENCE_SECS".into(), "1".into()));
    let mut app = App::start(
        "watchdog",
        AppOptions {
            pick_folder: Some(root.clone()),
            env,
            ..Default::default()
        },
    )
    .await?;
    open_repo(&app).await?;
    app.click_css("[data-testid=\"tag-chip\"][data-tag=\"web\"]")
        .await?;
    app.find("deploy-preview").await?;
    app.click("start-deploy").await?;
    let notice = app.find("watchdog-notice").await?;
    assert_eq!(notice.attr("data-kind").await?.as_deref(), Some("silent"));
    let text = notice.text().await?;
    assert!(text.contains("Usually:"), "{text}");
    app.screenshot("notice").await?;
    app.click("keep-waiting").await?;
    app.click("cancel-job").await?;
    app.click("confirm-cancel").await?;
    wait_attr(
        &app,
        "[data-testid=\"job-screen\"]",
        "data-result",
        "cancelled",
    )
    .await?;
    app.screenshot("cancelled").await?;
    app.stop().await
}

/// 200,000 lines of build output arrive complete in the virtualized log view,
/// and search finds a line near the end. Prints how long the window took.
#[tokio::test]
async fn a_flood_of_lines_stays_usable() -> Result<()> {
    const LINES: usize = 200_000;
    let tmp = tempfile::tempdir()?;
    let root = tmp.path().join("infra");
    fleet_repo(&root).await?;
    let data = tmp.path().join("data");
    let mut env = app_env(&data);
    env.push(("NIXDECK_STANDIN_SCENARIO".into(), "flood".into()));
    env.push(("NIXDECK_STANDIN_LINES".into(), LINES.to_string()));
    let mut app = App::start(
        "flood",
        AppOptions {
            pick_folder: Some(root.clone()),
            env,
            ..Default::default()
        },
    )
    .await?;
    open_repo(&app).await?;
    let started = Instant::now();
    app.click_css("[data-host=\"web1\"] [data-testid=\"validate-host\"]")
        .await?;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let n: usize = app
            .attr_css("[data-testid=\"log-view\"]", "data-lines")
            .await
            .ok()
            .flatten()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        if n == LINES {
            break;
        }
        if Instant::now() > deadline {
            bail!("only {n} of {LINES} lines arrived");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!(
        "flood: {LINES} lines shown in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    // Only the rows in sight are in the DOM.
    let rows = app
        .client
        .find_all(fantoccini::Locator::Css("[data-testid=\"log-line\"]"))
        .await?;
    assert!(rows.len() < 200, "{} rows rendered", rows.len());
    let search = app.find("log-search").await?;
    search.send_keys("199999 building").await?;
    search
        .send_keys(&fantoccini::key::Key::Enter.to_string())
        .await?;
    // The backend's search finds line 199,999 (number 199998 from 0) and the view jumps there.
    wait_attr(
        &app,
        "[data-testid=\"log-matches\"]",
        "data-line",
        &(LINES - 2).to_string(),
    )
    .await?;
    let hit = (LINES - 2).to_string();
    wait_attr(
        &app,
        &format!("[data-testid=\"log-line\"][data-seq=\"{hit}\"]"),
        "data-seq",
        &hit,
    )
    .await?;
    app.screenshot("flood-search").await?;
    app.stop().await
}

#[tokio::test]
async fn removing_a_host_asks_for_hand_edited_files() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let root = tmp.path().join("infra");
    fleet_repo(&root).await?;
    // A hand edit nixdeck must not delete without a tick.
    let config = root.join("hosts/db1/configuration.nix");
    let edited = std::fs::read_to_string(&config)?
        .replace("}\n", "  services.postgresql.enable = true;\n}\n");
    std::fs::write(&config, edited)?;
    let data = tmp.path().join("data");
    let mut app = App::start(
        "remove-host",
        AppOptions {
            pick_folder: Some(root.clone()),
            env: app_env(&data),
            ..Default::default()
        },
    )
    .await?;
    open_repo(&app).await?;
    app.click_css("[data-host=\"db1\"] [data-testid=\"open-host\"]")
        .await?;
    app.click("remove-host").await?;
    let files = app
        .wait_text("remove-host-files", |t| t.contains("configuration.nix"))
        .await?;
    assert!(files.contains("hosts/db1/host.nix"), "{files}");
    assert!(files.contains("edited by hand"), "{files}");
    let confirm = app.find("remove-host-confirm").await?;
    assert!(
        !confirm.is_enabled().await?,
        "an edited file needs its tick first"
    );
    app.screenshot("remove-dialog").await?;

    app.click("remove-host-confirm-file").await?;
    app.click("remove-host-confirm").await?;
    // Back on the fleet, without db1; its files are gone, the others stay.
    app.find("hosts-table").await?;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !app
        .find_all_css("[data-testid=\"host-row\"][data-host=\"db1\"]")
        .await?
        .is_empty()
    {
        anyhow::ensure!(std::time::Instant::now() < deadline, "db1 is still listed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!root.join("hosts/db1").exists(), "hosts/db1 was removed");
    assert!(root.join("hosts/web1/configuration.nix").exists());
    app.screenshot("after-remove").await?;
    app.stop().await
}

/// A reinstall rewrote db1's committed hardware-configuration.nix: the host page
/// shows what changed, as a diff, before it offers the commit, and commits on request.
#[tokio::test]
async fn a_rewritten_hardware_configuration_is_shown_as_a_diff_before_the_commit() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let root = tmp.path().join("infra");
    fleet_repo(&root).await?;
    let identity = [
        ("GIT_AUTHOR_NAME", "Test"),
        ("GIT_AUTHOR_EMAIL", "test@example.org"),
        ("GIT_COMMITTER_NAME", "Test"),
        ("GIT_COMMITTER_EMAIL", "test@example.org"),
    ];
    let hardware = root.join("hosts/db1/hardware-configuration.nix");
    std::fs::write(
        &hardware,
        "{ ... }:\n{\n  boot.initrd.availableKernelModules = [ \"ahci\" ];\n}\n",
    )?;
    for args in [
        &["add", "-A"][..],
        &["commit", "-q", "-m", "first install of db1"][..],
    ] {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(&root)
            .envs(identity)
            .output()?;
        anyhow::ensure!(out.status.success(), "git {args:?}: {out:?}");
    }
    // The reinstall's nixos-generate-config found other hardware.
    std::fs::write(
        &hardware,
        "{ ... }:\n{\n  boot.initrd.availableKernelModules = [ \"nvme\" \"xhci_pci\" ];\n}\n",
    )?;
    let data = tmp.path().join("data");
    let mut env = app_env(&data);
    env.extend(identity.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let mut app = App::start(
        "hardware-diff",
        AppOptions {
            pick_folder: Some(root.clone()),
            env,
            ..Default::default()
        },
    )
    .await?;
    open_repo(&app).await?;
    app.click_css("[data-host=\"db1\"] [data-testid=\"open-host\"]")
        .await?;
    let diff = app.text("hardware-diff").await?;
    assert!(
        diff.contains("-  boot.initrd.availableKernelModules = [ \"ahci\" ];")
            && diff.contains("+  boot.initrd.availableKernelModules = [ \"nvme\" \"xhci_pci\" ];"),
        "{diff}"
    );
    app.screenshot("hardware-diff").await?;
    app.click("host-commit-hardware").await?;
    let deadline = Instant::now() + Duration::from_secs(20);
    while !app
        .find_all_css("[data-testid=\"hardware-change\"]")
        .await?
        .is_empty()
    {
        anyhow::ensure!(Instant::now() < deadline, "the commit offer stayed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = std::process::Command::new("git")
        .args(["log", "-1", "--format=%s"])
        .current_dir(&root)
        .output()?;
    assert_eq!(
        String::from_utf8_lossy(&log.stdout).trim(),
        "add hardware configuration for db1"
    );
    app.stop().await
}

/// Closing the window while an install runs asks first (the close is held), and
/// "Cancel the install" stops it (its process group), the job ends recorded as
/// cancelled, then the app exits. The install is started in the window on a
/// real sshd (the re-probe matches the disks) with the stand-in nixos-anywhere
/// hanging while it formats.
#[tokio::test]
async fn closing_the_window_during_an_install_asks_and_cancel_ends_it() -> Result<()> {
    use nixdeck_engine::runner::JobResult;
    use nixdeck_tests::sshd::{Sshd, SshdOptions};

    let sshd = Sshd::start(SshdOptions::default());
    let tmp = tempfile::tempdir()?;
    let root = tmp.path().join("infra");
    repo::init_repo(&root, &FlakeSpec::default(), &Confirm::Nothing).await?;
    let mut spec = HostSpec::new(HostName::new("box")?, "127.0.0.1");
    spec.deployment.target_port = sshd.port;
    spec.config.authorized_keys = vec![nixdeck_tests::operator_key()];
    // A layout this machine passes preflight with (BIOS: GPT with a BIOS boot
    // partition); the stand-in installs nothing.
    spec.disko = Some(
        r#"{
  disko.devices.disk.main = {
    type = "disk";
    device = "/dev/vda";
    content = {
      type = "gpt";
      partitions = {
        boot = { size = "1M"; type = "EF02"; };
        ESP = { size = "512M"; type = "EF00"; content = { type = "filesystem"; format = "vfat"; mountpoint = "/boot"; }; };
        root = { size = "100%"; content = { type = "filesystem"; format = "ext4"; mountpoint = "/"; }; };
      };
    };
  };
}
"#
        .into(),
    );
    repo::add_host(&root, &spec, &Confirm::Nothing).await?;
    std::fs::write(root.join("flake.lock"), "{}\n")?;

    let home = tmp.path().join("home");
    std::fs::create_dir_all(home.join(".ssh"))?;
    std::fs::copy(&sshd.user_key_path, home.join(".ssh/id_ed25519"))?;
    std::fs::copy(&sshd.known_hosts_path, home.join(".ssh/known_hosts"))?;
    nixdeck_tests::give_operator_key(&home);
    let data = tmp.path().join("data");
    let mut env = app_env(&data);
    env.push(("HOME".into(), home.display().to_string()));
    env.push(("NIXDECK_STANDIN_SCENARIO".into(), "hang-disko".into()));
    let mut app = App::start(
        "close-during-install",
        AppOptions {
            pick_folder: Some(root.clone()),
            env,
            ..Default::default()
        },
    )
    .await?;
    open_repo(&app).await?;
    app.click_css("[data-host=\"box\"] [data-testid=\"open-host\"]")
        .await?;
    app.click("reprobe").await?;
    app.find("host-disks").await?;
    app.click("reinstall").await?;
    app.find("reinstall-dialog").await?;
    // The check may take a moment; then acknowledge this machine's warnings.
    let deadline = Instant::now() + Duration::from_secs(20);
    while app
        .find_all_css("[data-testid=\"reinstall-dialog\"] .argv")
        .await?
        .is_empty()
    {
        anyhow::ensure!(Instant::now() < deadline, "the install check never came");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let errors = app
        .find_all_css("[data-testid=\"preflight-error\"]")
        .await?;
    anyhow::ensure!(errors.is_empty(), "preflight blocks the install");
    for ack in app.find_all_css("[data-testid=\"ack-warning\"]").await? {
        ack.click().await?;
    }
    app.find("confirm-host").await?.send_keys("box").await?;
    app.click("start-install").await?;
    wait_attr(
        &app,
        "[data-testid=\"job-screen\"]",
        "data-result",
        "running",
    )
    .await?;
    let id: i64 = app
        .attr_css("[data-testid=\"job-screen\"]", "data-job")
        .await?
        .unwrap_or_default()
        .parse()?;
    // It reached the disks (and hangs there).
    app.wait_text("log-view", |t| t.contains("Formatting"))
        .await?;

    app.request_close()?;
    app.find("close-dialog").await?;
    let jobs = app.text("close-jobs").await?;
    assert!(
        jobs.contains(&format!("install of box (job #{id})")),
        "{jobs}"
    );
    assert_eq!(app.text("close-cancel").await?, "Cancel the install");
    app.screenshot("close-during-install").await?;
    // The app exits on this answer, maybe before WebDriver has replied to the
    // click: what the store says afterwards is the test.
    let _ = app.click("close-cancel").await;

    // The app cancels the install, waits for it, and exits; the store says how it ended.
    let deadline = Instant::now() + Duration::from_secs(30);
    let record = loop {
        let record = JobManager::open(&data)?.get(id)?;
        if record.result != JobResult::Running || Instant::now() > deadline {
            break record;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(record.result, JobResult::Cancelled, "{record:?}");
    app.stop().await
}

/// "Leave it running": the app exits, the tool goes on without it (its output
/// still reaches the job's log), and a later nixdeck sees the job running with
/// the tool's pid, keeps the hosts locked, and can cancel it.
#[tokio::test]
async fn a_job_left_running_outlives_the_window_and_a_later_nixdeck_cancels_it() -> Result<()> {
    use nixdeck_engine::runner::JobResult;

    let tmp = tempfile::tempdir()?;
    let root = tmp.path().join("infra");
    fleet_repo(&root).await?;
    let data = tmp.path().join("data");
    let mut env = app_env(&data);
    env.retain(|(k, _)| k != "NIXDECK_STANDIN_DELAY");
    env.push(("NIXDECK_STANDIN_DELAY".into(), "3".into()));
    let app = App::start(
        "leave-running",
        AppOptions {
            pick_folder: Some(root.clone()),
            env,
            ..Default::default()
        },
    )
    .await?;
    open_repo(&app).await?;
    app.click_css("[data-testid=\"tag-chip\"][data-tag=\"web\"]")
        .await?;
    wait_attr(
        &app,
        "[data-testid=\"deploy-selected\"]",
        "data-hosts",
        "web1,web2",
    )
    .await?;
    app.click("start-deploy").await?;
    wait_attr(
        &app,
        "[data-testid=\"job-screen\"]",
        "data-result",
        "running",
    )
    .await?;
    let id: i64 = app
        .attr_css("[data-testid=\"job-screen\"]", "data-job")
        .await?
        .unwrap_or_default()
        .parse()?;
    app.request_close()?;
    app.find("close-dialog").await?;
    // The app exits on this answer, maybe before WebDriver has replied to the
    // click: what the store says afterwards is the test.
    let _ = app.click("close-leave").await;

    // The app is gone; the job runs on with its tool, shown by its pid.
    let deadline = Instant::now() + Duration::from_secs(30);
    let (manager, pid) = loop {
        let manager = JobManager::open(&data)?;
        let record = manager.get(id)?;
        if let Some(pid) = record.detached_pid {
            break (manager, pid);
        }
        anyhow::ensure!(Instant::now() < deadline, "never detached: {record:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(manager.get(id)?.result, JobResult::Running);
    let log = std::path::PathBuf::from(manager.get(id)?.log_path);
    let lines_then = std::fs::read_to_string(&log)?.lines().count();
    tokio::time::sleep(Duration::from_secs(7)).await;
    let lines_now = std::fs::read_to_string(&log)?.lines().count();
    assert!(
        lines_now > lines_then,
        "the tool's output still reaches the log ({lines_then} → {lines_now})"
    );
    // Its hosts stay locked.
    let settings = ToolSettings {
        flakes_enabled: true,
        ..ToolSettings::default()
    };
    let web1 = HostTarget {
        name: "web1".into(),
        address: "192.0.2.11".into(),
        user: "root".into(),
        port: None,
        tags: vec!["web".into()],
        build_on_target: false,
    };
    let busy = manager.start(
        requests::install_request(&settings, &root, &web1, &InstallOptions::default(), None)?,
        None,
    );
    assert!(
        matches!(busy, Err(nixdeck_engine::jobs::JobError::HostBusy { .. })),
        "{:?}",
        busy.map(|_| ())
    );
    drop(manager);
    app.stop().await?;

    // A later nixdeck: the job page says the job still runs, by its pid, and
    // cancels it (pid and start time checked by the engine).
    let mut later = App::start(
        "leave-running-later",
        AppOptions {
            pick_folder: Some(root.clone()),
            env: app_env(&data),
            ..Default::default()
        },
    )
    .await?;
    open_repo(&later).await?;
    later
        .click_css("[data-host=\"web1\"] [data-testid=\"last-job\"] button")
        .await?;
    later
        .wait_text("job-result", |t| {
            t.contains(&format!("Still running (pid {pid})"))
        })
        .await?;
    later.screenshot("still-running").await?;
    // It is followed live through its log: the count grows as the tool writes.
    let count = |v: Option<String>| v.and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    let lines_shown = count(
        later
            .attr_css("[data-testid=\"log-view\"]", "data-lines")
            .await?,
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = count(
            later
                .attr_css("[data-testid=\"log-view\"]", "data-lines")
                .await?,
        );
        if now > lines_shown {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the later window's log view stayed at {lines_shown} lines"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    later
        .click("cancel-job")
        .await
        .context("the Cancel button")?;
    later
        .click("confirm-cancel")
        .await
        .context("the confirmation")?;
    wait_attr(
        &later,
        "[data-testid=\"job-screen\"]",
        "data-result",
        "cancelled",
    )
    .await?;
    let record = JobManager::open(&data)?.get(id)?;
    assert_eq!(record.result, JobResult::Cancelled, "{record:?}");
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists()
            || std::fs::read_to_string(format!("/proc/{pid}/stat"))?.contains(") Z"),
        "the tool was stopped"
    );
    later.stop().await
}

/// No lockout in the window: a deploy to hosts that authorize none of the
/// operator's keys is refused with the fix; ticking "I can log in another way"
/// and deploying again goes on.
#[tokio::test]
async fn a_deploy_that_would_lock_the_operator_out_asks_for_the_override() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let root = tmp.path().join("infra");
    fleet_repo(&root).await?;
    // web1 authorizes someone else's key only.
    let config = root.join("hosts/web1/configuration.nix");
    let text = std::fs::read_to_string(&config)?;
    std::fs::write(
        &config,
        text.replace(
            &nixdeck_tests::operator_key(),
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBb9J5f0Q4ZJmYl1kN9X2pV7q8WcYt3eR6uH0sDgLmQa someone@else",
        ),
    )?;
    let data = tmp.path().join("data");
    let mut app = App::start(
        "deploy-lockout",
        AppOptions {
            pick_folder: Some(root.clone()),
            env: app_env(&data),
            ..Default::default()
        },
    )
    .await?;
    open_repo(&app).await?;
    app.click_css("[data-testid=\"tag-chip\"][data-tag=\"web\"]")
        .await?;
    wait_attr(
        &app,
        "[data-testid=\"deploy-selected\"]",
        "data-hosts",
        "web1,web2",
    )
    .await?;
    app.click("start-deploy").await?;
    let error = app.text("deploy-error").await?;
    assert!(
        error.contains("web1") && error.contains("could not log in"),
        "{error}"
    );
    app.screenshot("deploy-lockout").await?;
    app.click("allow-lockout").await?;
    app.click("start-deploy").await?;
    wait_attr(
        &app,
        "[data-testid=\"job-screen\"]",
        "data-result",
        "succeeded",
    )
    .await?;
    app.stop().await
}

/// Issue 14: the install dialog of a host whose layout encrypts says what is
/// checked about host keys, shows the key the new system will get, and asks
/// for the LUKS passphrase twice (password fields, never shown again).
#[tokio::test]
async fn the_install_dialog_asks_for_the_luks_passphrase_and_shows_the_new_host_key() -> Result<()>
{
    use nixdeck_tests::sshd::{Sshd, SshdOptions};

    let sshd = Sshd::start(SshdOptions::default());
    let tmp = tempfile::tempdir()?;
    let root = tmp.path().join("infra");
    repo::init_repo(&root, &FlakeSpec::default(), &Confirm::Nothing).await?;
    let mut spec = HostSpec::new(HostName::new("vault")?, "127.0.0.1");
    spec.deployment.target_port = sshd.port;
    spec.config.authorized_keys = vec![nixdeck_tests::operator_key()];
    spec.disko = Some(
        r#"{
  disko.devices.disk.main = {
    type = "disk";
    device = "/dev/vda";
    content = {
      type = "gpt";
      partitions = {
        ESP = { size = "512M"; type = "EF00"; content = { type = "filesystem"; format = "vfat"; mountpoint = "/boot"; }; };
        luks = {
          size = "100%";
          content = {
            type = "luks";
            name = "crypted";
            passwordFile = "/tmp/secret.key";
            content = { type = "filesystem"; format = "ext4"; mountpoint = "/"; };
          };
        };
      };
    };
  };
}
"#
        .into(),
    );
    repo::add_host(&root, &spec, &Confirm::Nothing).await?;

    let home = tmp.path().join("home");
    std::fs::create_dir_all(home.join(".ssh"))?;
    std::fs::copy(&sshd.user_key_path, home.join(".ssh/id_ed25519"))?;
    std::fs::copy(&sshd.known_hosts_path, home.join(".ssh/known_hosts"))?;
    nixdeck_tests::give_operator_key(&home);
    let data = tmp.path().join("data");
    let mut env = app_env(&data);
    env.push(("HOME".into(), home.display().to_string()));
    let mut app = App::start(
        "install-secrets",
        AppOptions {
            pick_folder: Some(root.clone()),
            env,
            ..Default::default()
        },
    )
    .await?;
    open_repo(&app).await?;
    app.click_css("[data-host=\"vault\"] [data-testid=\"open-host\"]")
        .await?;
    app.click("reprobe").await?;
    app.find("host-disks").await?;
    app.click("reinstall").await?;
    app.find("reinstall-dialog").await?;
    app.wait_text("new-host-key-fingerprint", |t| {
        t.starts_with("ED25519 SHA256:")
    })
    .await?;
    let public = app.text("new-host-key-public").await?;
    assert!(public.starts_with("ssh-ed25519 "), "{public}");
    let not_verified = app
        .client
        .find_all(fantoccini::Locator::Css(
            "[data-testid=\"trust-not-verified\"]",
        ))
        .await?;
    let mut said = Vec::new();
    for line in not_verified {
        said.push(line.text().await?);
    }
    assert!(
        said.iter().any(|l| l.contains("StrictHostKeyChecking=no")),
        "{said:?}"
    );
    let field = app.find("luks-passphrase").await?;
    assert_eq!(field.attr("type").await?.as_deref(), Some("password"));
    field.send_keys("correct horse").await?;
    app.find("luks-passphrase-again")
        .await?
        .send_keys("correct horse")
        .await?;
    app.find("confirm-host").await?.send_keys("vault").await?;
    app.screenshot("install-secrets").await?;
    app.stop().await
}
