//! Day two in the window: the fleet dashboard's live status with drift, the
//! host page's generations and a rollback job, the deploy panel's goal risks,
//! and a 100-host status view (figures printed). The reachable host is a real
//! sshd chrooted into a NixOS-like tree (`support/nixos_tree.rs`; needs root);
//! the others are ports nothing listens on.

use crate::harness::{App, AppOptions};
use anyhow::{bail, ensure, Result};
use nixdeck_core::repo::{FlakeSpec, HostName, HostSpec, Tag};
use nixdeck_engine::jobs::JobManager;
use nixdeck_engine::repo::{self, Confirm};
use nixdeck_tests::nixos_tree::NixosTree;
use nixdeck_tests::sshd::{Sshd, SshdOptions};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const DISKO: &str = r#"{
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
"#;

/// A port that was free a moment ago and is closed now: connecting is refused.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

/// The NixOS-like `web1` behind a chrooted sshd, and the OpenSSH files that
/// reach it (given to the app through NIXDECK_SSH_CONFIG / NIXDECK_KNOWN_HOSTS).
struct Target {
    tree: NixosTree,
    sshd: Sshd,
    ssh_config: PathBuf,
}

fn target() -> Target {
    let tree = NixosTree::build("web1");
    let sshd = Sshd::start(SshdOptions {
        chroot: Some(tree.root.clone()),
        ..SshdOptions::default()
    });
    let ssh_config = sshd.dir.path().join("ssh_config");
    std::fs::write(
        &ssh_config,
        format!(
            "Host *\n  IdentityFile {}\n  IdentitiesOnly yes\n",
            sshd.user_key_path.display()
        ),
    )
    .expect("ssh_config");
    Target {
        tree,
        sshd,
        ssh_config,
    }
}

async fn add(root: &Path, name: &str, address: &str, port: u16, tag: &str) -> Result<()> {
    let mut spec = HostSpec::new(HostName::new(name)?, address);
    spec.deployment.target_port = port;
    spec.deployment.tags = vec![Tag::new(tag)?];
    // The key the harness's HOME holds: a deploy here locks nobody out.
    spec.config.authorized_keys = vec![nixdeck_tests::operator_key()];
    spec.disko = Some(DISKO.into());
    repo::add_host(root, &spec, &Confirm::Nothing).await?;
    Ok(())
}

fn app_env(data: &Path, t: &Target) -> Vec<(String, String)> {
    vec![
        (
            "PATH".into(),
            format!(
                "{}:{}",
                nixdeck_tests::fixture("standins").display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        ),
        ("NIXDECK_DATA_DIR".into(), data.display().to_string()),
        (
            "NIXDECK_SSH_CONFIG".into(),
            t.ssh_config.display().to_string(),
        ),
        (
            "NIXDECK_KNOWN_HOSTS".into(),
            t.sshd.known_hosts_path.display().to_string(),
        ),
        ("GTK_THEME".into(), "Adwaita:dark".into()),
    ]
}

async fn scroll_to(app: &App, testid: &str) -> Result<()> {
    let el = app.find(testid).await?;
    app.client
        .execute(
            "arguments[0].scrollIntoView({block: 'start'});",
            vec![serde_json::to_value(&el)?],
        )
        .await?;
    Ok(())
}

/// The dashboard's status columns, the host page's generations and summary,
/// and a rollback to the previous generation through the typed-name dialog:
/// the job runs OpenSSH against the chrooted host and its generation 2 runs
/// afterwards. 1024x700, dark theme.
#[tokio::test]
async fn drift_generations_and_rollback() -> Result<()> {
    let t = target();
    let tmp = tempfile::tempdir()?;
    let root = tmp.path().join("infra");
    repo::init_repo(&root, &FlakeSpec::default(), &Confirm::Nothing).await?;
    add(&root, "web1", "127.0.0.1", t.sshd.port, "web").await?;
    add(&root, "db1", "127.0.0.1", closed_port(), "db").await?;
    std::fs::write(root.join("flake.lock"), "{}\n")?;
    // nixdeck's last deploy put generation 2 on web1; generation 3 runs now,
    // and the flake cannot be evaluated here: "changed outside nixdeck".
    let data = tmp.path().join("data");
    JobManager::open(&data)?.record_host_system("web1", &t.tree.systems[1], None)?;

    let mut app = App::start(
        "daytwo",
        AppOptions {
            pick_folder: Some(root.clone()),
            env: app_env(&data, &t),
            window: Some((1024, 700)),
        },
    )
    .await?;
    app.click("open-repo").await?;
    app.find("hosts-table").await?;
    let web = "[data-host=\"web1\"] [data-testid=\"host-status\"]";
    app.wait_attr(web, "data-reachable", "true", 60).await?;
    app.wait_attr(
        "[data-host=\"db1\"] [data-testid=\"host-status\"]",
        "data-reachable",
        "false",
        60,
    )
    .await?;
    assert_eq!(
        app.attr_css(web, "data-reboot-pending")
            .await
            .ok()
            .flatten()
            .as_deref(),
        Some("true"),
        "running generation 3, booted 2"
    );
    let version = app
        .find_all_css("[data-host=\"web1\"] [data-testid=\"nixos-version\"]")
        .await?;
    ensure!(version.len() == 1, "one version cell");
    let text = version[0].text().await?;
    assert!(text.contains("24.11.20250202"), "{text}");
    app.wait_attr(
        "[data-host=\"web1\"] [data-testid=\"drift\"]",
        "data-state",
        "changed_outside",
        30,
    )
    .await?;
    let why = app
        .find_all_css("[data-host=\"db1\"] [data-testid=\"unreachable-why\"]")
        .await?;
    ensure!(!why.is_empty(), "db1 says why it did not answer");
    let uptime = app
        .find_all_css("[data-host=\"web1\"] [data-testid=\"uptime\"]")
        .await?;
    assert_eq!(uptime[0].text().await?, "1 d 2 h");
    app.wait_attr(
        "[data-testid=\"status-progress\"]",
        "data-running",
        "false",
        60,
    )
    .await?;
    app.screenshot("drift").await?;

    // Refresh reads again; rows stay while it runs.
    app.click("refresh-status").await?;
    app.wait_attr(
        "[data-testid=\"status-progress\"]",
        "data-running",
        "false",
        60,
    )
    .await?;
    app.wait_attr(web, "data-reachable", "true", 5).await?;

    // The deploy panel: each activating goal with what it risks.
    app.click_css("[data-testid=\"tag-chip\"][data-tag=\"web\"]")
        .await?;
    app.find("deploy-preview").await?;
    let risks = app.find_all_css("[data-testid=\"goal-risk\"]").await?;
    ensure!(risks.len() == 3, "switch, test and boot offered");
    let boot = app
        .find_all_css("[data-goal=\"boot\"] [data-testid=\"goal-risk\"]")
        .await?;
    let boot = boot[0].text().await?;
    assert!(boot.contains("next reboot"), "{boot}");
    scroll_to(&app, "deploy-panel").await?;
    app.screenshot("drift-deploy-goals").await?;

    // The host page: generations, newest first, with their marks.
    app.click_css("[data-host=\"web1\"] [data-testid=\"open-host\"]")
        .await?;
    app.find("generations-table").await?;
    let rows = app.find_all_css("[data-testid=\"generation-row\"]").await?;
    let mut seen = Vec::new();
    for row in &rows {
        seen.push((
            row.attr("data-number").await?.unwrap_or_default(),
            row.attr("data-current").await?.unwrap_or_default(),
            row.attr("data-booted").await?.unwrap_or_default(),
        ));
    }
    assert_eq!(
        seen,
        [
            ("3".to_string(), "true".to_string(), "false".to_string()),
            ("2".into(), "false".into(), "true".into()),
            ("1".into(), "false".into(), "false".into()),
        ]
    );
    let oldest = app
        .find_all_css("[data-testid=\"generation-row\"][data-number=\"1\"]")
        .await?;
    assert_eq!(
        oldest[0].attr("data-store-path").await?.as_deref(),
        Some(t.tree.systems[0].as_str())
    );
    let table = app.text("generations-table").await?;
    assert!(table.contains("24.05.20240601"), "{table}");
    scroll_to(&app, "generations-panel").await?;
    app.screenshot("generations").await?;

    // The disks in plain words, on the same page.
    let summary = app.text("layout-summary").await?;
    assert!(
        summary.contains("/boot") && summary.contains("ext4"),
        "{summary}"
    );
    scroll_to(&app, "layout-summary").await?;
    app.screenshot("summary").await?;

    // Roll back to the previous generation: the name must be typed first.
    app.click("rollback-previous").await?;
    app.find("rollback-dialog").await?;
    assert_eq!(app.text("rollback-number").await?, "#2");
    let go = app.find("start-rollback").await?;
    ensure!(!go.is_enabled().await?, "disabled until the name is typed");
    app.find("rollback-confirm")
        .await?
        .send_keys("web1")
        .await?;
    app.screenshot("rollback-dialog").await?;
    app.click("start-rollback").await?;
    app.wait_attr(
        "[data-testid=\"job-screen\"]",
        "data-result",
        "succeeded",
        60,
    )
    .await?;
    assert_eq!(
        t.tree.current_system(),
        t.tree.systems[1],
        "generation 2 runs"
    );
    let argv = app.text("job-argv").await?;
    assert!(argv.starts_with("ssh "), "{argv}");
    app.wait_text("log-count", |l| l != "0 lines").await?;
    app.screenshot("rollback-job").await?;

    // Back on the host page generation 2 is the current one.
    app.click("open-host").await?;
    app.wait_attr(
        "[data-testid=\"generation-row\"][data-number=\"2\"]",
        "data-current",
        "true",
        30,
    )
    .await?;
    scroll_to(&app, "generations-panel").await?;
    app.screenshot("generations-after-rollback").await?;
    app.stop().await
}

/// 100 hosts: one answers (the chrooted sshd), 80 refuse the connection, 10
/// accept it and never answer, and 9 are addresses nothing routes to
/// (TEST-NET, RFC 5737). Measures how long the
/// window takes to draw the fleet, to show the first and the last status row,
/// and that it reacts to a click while the status is still being read.
#[tokio::test]
async fn hundred_hosts_status_stays_responsive() -> Result<()> {
    let t = target();
    let tmp = tempfile::tempdir()?;
    let root = tmp.path().join("infra");
    repo::init_repo(&root, &FlakeSpec::default(), &Confirm::Nothing).await?;
    add(&root, "web1", "127.0.0.1", t.sshd.port, "web").await?;
    for i in 0..80 {
        add(
            &root,
            &format!("ref{i:02}"),
            "127.0.0.1",
            closed_port(),
            "refused",
        )
        .await?;
    }
    // A host that takes the connection and never says a word (a hung
    // machine, a firewall that drops after accept): it costs a pool slot
    // until the SSH handshake times out.
    let hung = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let hung_port = hung.local_addr()?.port();
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = hung.accept().await {
            held.push(socket);
        }
    });
    for i in 0..10 {
        add(&root, &format!("hung{i}"), "127.0.0.1", hung_port, "hung").await?;
    }
    for i in 0..9 {
        add(
            &root,
            &format!("far{i}"),
            &format!("192.0.2.{}", 10 + i),
            22,
            "far",
        )
        .await?;
    }
    std::fs::write(root.join("flake.lock"), "{}\n")?;
    let data = tmp.path().join("data");
    let mut app = App::start(
        "daytwo-100",
        AppOptions {
            pick_folder: Some(root.clone()),
            env: app_env(&data, &t),
            window: Some((1024, 700)),
        },
    )
    .await?;
    app.find("open-repo").await?;
    let started = Instant::now();
    app.click("open-repo").await?;
    app.find("hosts-table").await?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while app.find_all_css("[data-testid=\"host-row\"]").await?.len() < 100 {
        ensure!(Instant::now() < deadline, "the 100 rows were never drawn");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let drawn = started.elapsed();
    let deadline = Instant::now() + Duration::from_secs(60);
    while app
        .find_all_css("[data-testid=\"host-status\"][data-reachable=\"false\"], [data-testid=\"host-status\"][data-reachable=\"true\"]")
        .await?
        .is_empty()
    {
        ensure!(Instant::now() < deadline, "no status row arrived");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let first_row = started.elapsed();
    // While the unroutable hosts are still being waited for, a click is answered.
    let click = Instant::now();
    app.click_css("[data-host=\"ref05\"] [data-testid=\"host-pick\"]")
        .await?;
    app.wait_attr(
        "[data-testid=\"deploy-selected\"]",
        "data-hosts",
        "ref05",
        20,
    )
    .await?;
    let click_answered = click.elapsed();
    let still_running = app
        .attr_css("[data-testid=\"status-progress\"]", "data-running")
        .await
        .ok()
        .flatten();
    let answered_at_click: usize = app
        .attr_css("[data-testid=\"status-progress\"]", "data-answered")
        .await
        .ok()
        .flatten()
        .and_then(|a| a.parse().ok())
        .unwrap_or(0);
    app.screenshot("drift-100-hosts-while-reading").await?;
    app.wait_attr(
        "[data-testid=\"status-progress\"]",
        "data-running",
        "false",
        180,
    )
    .await?;
    let all_rows = started.elapsed();
    let took_ms = app
        .attr_css("[data-testid=\"status-progress\"]", "data-took")
        .await
        .ok()
        .flatten();
    let down = app
        .find_all_css("[data-testid=\"host-status\"][data-reachable=\"false\"]")
        .await?
        .len();
    let up = app
        .find_all_css("[data-testid=\"host-status\"][data-reachable=\"true\"]")
        .await?
        .len();
    assert_eq!((up, down), (1, 99));
    println!(
        "100 hosts: fleet drawn {:.2} s after Open; first status row {:.2} s; \
         a click answered in {} ms while reading (running={:?}, {answered_at_click} rows in); \
         all 100 rows {:.1} s (the backend's run: {} ms)",
        drawn.as_secs_f64(),
        first_row.as_secs_f64(),
        click_answered.as_millis(),
        still_running,
        all_rows.as_secs_f64(),
        took_ms.unwrap_or_default(),
    );
    app.client.execute("window.scrollTo(0, 0);", vec![]).await?;
    app.screenshot("drift-100-hosts").await?;
    holder.abort();
    app.stop().await
}

/// The layout `layout_and_before_after` starts from: root has a fixed size,
/// so a partition after it fits in the free space.
const DISKO_ROOM: &str = r#"{
  disko.devices.disk.main = {
    type = "disk";
    device = "/dev/vda";
    content = {
      type = "gpt";
      partitions = {
        ESP = { size = "512M"; type = "EF00"; content = { type = "filesystem"; format = "vfat"; mountpoint = "/boot"; }; };
        root = { size = "10G"; content = { type = "filesystem"; format = "ext4"; mountpoint = "/"; }; };
      };
    };
  };
}
"#;

/// web1's disks as a probe of the installed machine found them: the layout's
/// two partitions, but root holds xfs instead of ext4.
fn installed_facts() -> nixdeck_core::facts::HostFacts {
    use nixdeck_core::facts::{BlockDevice, BootMode, HostFacts};
    let part = |n: u8, label: &str, size: u64, fs: &str, mount: &str| BlockDevice {
        name: format!("vda{n}"),
        path: format!("/dev/vda{n}"),
        size_bytes: size,
        kind: "part".into(),
        fstype: Some(fs.into()),
        partlabel: Some(label.into()),
        mountpoints: vec![mount.into()],
        ..BlockDevice::default()
    };
    HostFacts {
        probed_at: 1_738_454_400,
        hostname: "web1".into(),
        machine: "x86_64".into(),
        boot_mode: BootMode::Uefi,
        memory_bytes: 4 << 30,
        disks: vec![BlockDevice {
            name: "vda".into(),
            path: "/dev/vda".into(),
            size_bytes: 20 << 30,
            kind: "disk".into(),
            model: Some("QEMU HARDDISK".into()),
            pttype: Some("gpt".into()),
            children: vec![
                part(1, "disk-main-ESP", 512 << 20, "vfat", "/boot"),
                part(2, "disk-main-root", 10 << 30, "xfs", "/"),
            ],
            ..BlockDevice::default()
        }],
        ..HostFacts::default()
    }
}

async fn verdict(app: &App, want: &str) -> Result<()> {
    app.wait_attr("[data-testid=\"layout-apply\"]", "data-verdict", want, 30)
        .await
}

/// The host page's before/after (the disks as probed beside the layout, the
/// difference called out), then the layout in the visual editor: unchanged,
/// a partition that disko would number before root (a reinstall), renamed to
/// come after it (applied without erasing), and saved over a hand edit only
/// once that is ticked.
#[tokio::test]
async fn layout_editing_and_before_after() -> Result<()> {
    let t = target();
    let tmp = tempfile::tempdir()?;
    let root = tmp.path().join("infra");
    repo::init_repo(&root, &FlakeSpec::default(), &Confirm::Nothing).await?;
    let mut spec = HostSpec::new(HostName::new("web1")?, "127.0.0.1");
    spec.deployment.target_port = t.sshd.port;
    spec.disko = Some(DISKO_ROOM.into());
    repo::add_host(&root, &spec, &Confirm::Nothing).await?;
    // A hand edit nixdeck must not overwrite without a tick.
    let disko = root.join("hosts/web1/disko.nix");
    std::fs::write(&disko, format!("# sized for the 20G disk\n{DISKO_ROOM}"))?;
    nixdeck_engine::facts_store::save(&root, &HostName::new("web1")?, &installed_facts())?;
    let data = tmp.path().join("data");
    let mut app = App::start(
        "daytwo-layout",
        AppOptions {
            pick_folder: Some(root.clone()),
            env: app_env(&data, &t),
            window: Some((1024, 700)),
        },
    )
    .await?;
    app.click("open-repo").await?;
    app.click_css("[data-host=\"web1\"] [data-testid=\"open-host\"]")
        .await?;
    app.wait_attr(
        "[data-testid=\"before-after\"]",
        "data-differences",
        "1",
        30,
    )
    .await?;
    let diff = app.text("disk-check-difference").await?;
    assert!(
        diff.contains("ext4 not found: /dev/vda2 holds xfs"),
        "{diff}"
    );
    let missing = app
        .find_all_css("[data-testid=\"disk-check-row\"][data-state=\"missing\"]")
        .await?;
    ensure!(missing.is_empty(), "both partitions were found");
    scroll_to(&app, "before-after").await?;
    app.screenshot("before-after").await?;

    app.click("edit-host-layout").await?;
    app.find("host-layout").await?;
    app.find("segment-root").await?;
    verdict(&app, "unchanged").await?;
    app.screenshot("host-layout").await?;

    // A new partition named part1: disko makes partitions in (priority, name)
    // order, so it would take root's number: only a reinstall applies that.
    app.click("add-partition-0").await?;
    verdict(&app, "reinstall").await?;
    let statement = app.text("apply-statement").await?;
    assert!(statement.contains("ERASES /dev/vda"), "{statement}");
    let why = app.text("layout-change").await?;
    assert!(why.contains("would be made before root"), "{why}");
    scroll_to(&app, "layout-apply").await?;
    app.screenshot("host-layout-reinstall").await?;

    // Renamed to srv it comes after root, in the free space: no erasing.
    let added = app.find_all_css("[data-testid^=\"segment-part\"]").await?;
    ensure!(added.len() == 1, "one new partition drawn");
    let label = added[0].attr("data-testid").await?.unwrap_or_default();
    // An SVG group: focusing it selects it, as a keyboard user would.
    app.client
        .execute(
            "document.querySelector(`[data-testid=\"${arguments[0]}\"]`).focus()",
            vec![serde_json::json!(label)],
        )
        .await?;
    let name = app.find("form-name").await?;
    name.clear().await?;
    name.send_keys("srv\u{E007}").await?;
    verdict(&app, "add_only").await?;
    let how = app.text("apply-how").await?;
    assert!(how.contains("--mode format"), "{how}");
    let change = app.text("layout-change").await?;
    assert!(
        change.contains("new partition srv on disk main"),
        "{change}"
    );

    // Saving over the hand edit needs its tick.
    let save = app.find("save-layout").await?;
    ensure!(
        !save.is_enabled().await?,
        "the hand edit is not confirmed yet"
    );
    scroll_to(&app, "layout-apply").await?;
    app.screenshot("host-layout-add-only").await?;
    app.click("confirm-layout-overwrite").await?;
    app.click("save-layout").await?;
    app.find("layout-saved").await?;
    let text = std::fs::read_to_string(&disko)?;
    assert!(
        text.contains("srv") && !text.contains("sized for"),
        "{text}"
    );
    app.screenshot("host-layout-saved").await?;
    app.stop().await
}

/// Forwards connections on `port` to `to` from now on: the host at `port`
/// comes back.
async fn come_back(port: u16, to: u16) -> Result<tokio::task::JoinHandle<()>> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    Ok(tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(("127.0.0.1", to)).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    }))
}

/// A deploy from the window with the safety net: web1 answers over SSH
/// afterwards; db1 does not (nothing listens on its port) and is marked;
/// once it answers again, the rollback is offered.
#[tokio::test]
async fn deploy_safety_net_marks_a_silent_node_and_offers_the_rollback() -> Result<()> {
    let t = target();
    let tmp = tempfile::tempdir()?;
    let root = tmp.path().join("infra");
    repo::init_repo(&root, &FlakeSpec::default(), &Confirm::Nothing).await?;
    add(&root, "web1", "127.0.0.1", t.sshd.port, "web").await?;
    let db_port = closed_port();
    add(&root, "db1", "127.0.0.1", db_port, "web").await?;
    std::fs::write(root.join("flake.lock"), "{}\n")?;
    // db1 is the same machine behind another port once it comes back.
    let mut known = std::fs::OpenOptions::new()
        .append(true)
        .open(&t.sshd.known_hosts_path)?;
    std::io::Write::write_all(
        &mut known,
        format!("[127.0.0.1]:{db_port} {}\n", t.sshd.host_key_pub).as_bytes(),
    )?;
    let data = tmp.path().join("data");
    let mut env = app_env(&data, &t);
    env.push(("NIXDECK_STANDIN_DELAY".into(), "0.02".into()));
    env.push(("NIXDECK_SAFETY_LIMIT_SECS".into(), "3".into()));
    // The stand-in colmena reports these nodes activated (by default the --on words).
    env.push(("NIXDECK_STANDIN_NODES".into(), "db1 web1".into()));
    let mut app = App::start(
        "daytwo-safety",
        AppOptions {
            pick_folder: Some(root.clone()),
            env,
            window: Some((1024, 700)),
        },
    )
    .await?;
    app.click("open-repo").await?;
    app.click_css("[data-testid=\"tag-chip\"][data-tag=\"web\"]")
        .await?;
    app.find("deploy-preview").await?;
    app.click("start-deploy").await?;
    app.wait_attr(
        "[data-testid=\"job-screen\"]",
        "data-result",
        "succeeded",
        60,
    )
    .await?;
    app.wait_attr("[data-testid=\"safety-net\"]", "data-checking", "false", 60)
        .await?;
    app.wait_attr(
        "[data-testid=\"safety-node\"][data-node=\"web1\"]",
        "data-state",
        "answered",
        5,
    )
    .await?;
    app.wait_attr(
        "[data-testid=\"safety-node\"][data-node=\"db1\"]",
        "data-state",
        "silent",
        5,
    )
    .await?;
    scroll_to(&app, "safety-net").await?;
    app.screenshot("deploy-safety-net-silent").await?;

    // db1 comes back: checking again offers the rollback.
    let forward = come_back(db_port, t.sshd.port).await?;
    app.click("recheck-node").await?;
    app.wait_attr(
        "[data-testid=\"safety-node\"][data-node=\"db1\"]",
        "data-answered-again",
        "true",
        30,
    )
    .await?;
    app.find("offer-rollback").await?;
    app.screenshot("deploy-safety-net-rollback").await?;
    app.click("offer-rollback").await?;
    app.find("generations-table").await?;
    forward.abort();
    app.stop().await
}

/// When an install finishes, the job screen probes the host again and shows
/// its disks beside the layout that was applied. The host here is this test
/// machine behind a real sshd (the install itself is the stand-in
/// nixos-anywhere run by the engine), so the layout's /dev/vda is compared
/// with whatever disks this machine has: the comparison must say what it
/// found, disk by disk.
#[tokio::test]
async fn after_an_install_the_disks_are_probed_and_compared() -> Result<()> {
    use nixdeck_core::tools::plan::{EnvVar, HostTarget, InstallOptions, ToolSettings};
    use nixdeck_engine::jobs::requests;
    use nixdeck_engine::runner::JobResult;

    let sshd = Sshd::start(SshdOptions::default());
    let ssh_config = sshd.dir.path().join("ssh_config");
    std::fs::write(
        &ssh_config,
        format!(
            "Host *\n  IdentityFile {}\n  IdentitiesOnly yes\n",
            sshd.user_key_path.display()
        ),
    )?;
    let tmp = tempfile::tempdir()?;
    let root = tmp.path().join("infra");
    repo::init_repo(&root, &FlakeSpec::default(), &Confirm::Nothing).await?;
    let mut spec = HostSpec::new(HostName::new("db1")?, "127.0.0.1");
    spec.deployment.target_port = sshd.port;
    spec.disko = Some(DISKO.into());
    repo::add_host(&root, &spec, &Confirm::Nothing).await?;
    std::fs::write(root.join("flake.lock"), "{}\n")?;

    // The install, run by the engine against the stand-in (as the window would).
    let data = tmp.path().join("data");
    let manager = JobManager::open(&data)?;
    let host = HostTarget {
        name: "db1".into(),
        address: "127.0.0.1".into(),
        user: "root".into(),
        port: Some(sshd.port),
        tags: vec![],
        build_on_target: false,
    };
    let settings = ToolSettings {
        flakes_enabled: true,
        tools_from_path: false,
        ..ToolSettings::default()
    };
    let mut req =
        requests::install_request(&settings, &root, &host, &InstallOptions::default(), None)?;
    req.command.program = nixdeck_tests::fixture("standins/nix")
        .to_string_lossy()
        .into_owned();
    req.command.env.push(EnvVar {
        name: "NIXDECK_STANDIN_DELAY".into(),
        value: "0.01".into(),
        secret: false,
    });
    let id = manager.start(req, None)?;
    assert_eq!(manager.wait(id).await?.result, JobResult::Succeeded);
    drop(manager);

    let env = vec![
        ("NIXDECK_DATA_DIR".into(), data.display().to_string()),
        (
            "NIXDECK_SSH_CONFIG".into(),
            ssh_config.display().to_string(),
        ),
        (
            "NIXDECK_KNOWN_HOSTS".into(),
            sshd.known_hosts_path.display().to_string(),
        ),
        ("GTK_THEME".into(), "Adwaita:dark".into()),
    ];
    let mut app = App::start(
        "daytwo-install",
        AppOptions {
            pick_folder: Some(root.clone()),
            env,
            window: Some((1024, 700)),
        },
    )
    .await?;
    app.click("open-repo").await?;
    app.click_css("[data-host=\"db1\"] [data-testid=\"last-job\"] button")
        .await?;
    app.wait_attr(
        "[data-testid=\"job-screen\"]",
        "data-result",
        "succeeded",
        30,
    )
    .await?;
    // The comparison arrives once the probe is done: rows for main and its partitions.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let rows = app.find_all_css("[data-testid=\"disk-check-row\"]").await?;
        if rows.len() == 3 {
            break;
        }
        if Instant::now() > deadline {
            let err = app
                .find_all_css("[data-testid=\"disk-check-error\"]")
                .await?;
            let why = match err.first() {
                Some(e) => e.text().await?,
                None => String::new(),
            };
            bail!(
                "no comparison after the install ({} rows): {why}",
                rows.len()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let verdict = app.text("disk-check-verdict").await?;
    assert!(
        verdict.contains("as the layout says") || verdict.contains("difference"),
        "{verdict}"
    );
    scroll_to(&app, "before-after").await?;
    app.screenshot("before-after-install").await?;
    app.stop().await
}
