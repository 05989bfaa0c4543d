//! The watchdog's policy on real stand-in processes run by the real runner: a
//! step that goes quiet and a step that starts again and again are reported
//! within the limit (tiny limits so the test is fast), and cancelling then
//! leaves no process of the job behind.

use nixdeck_core::tools::explain::Tool;
use nixdeck_core::tools::watchdog::{Alert, AlertKind, Watchdog, WatchdogConfig};
use nixdeck_engine::runner::progress::InstallProgress;
use nixdeck_engine::runner::{EventSink, JobEvent, Run, RunSpec};
use nixdeck_tests::group_members;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Feeds every line the runner sends to a watchdog, timed from the start.
struct Watched {
    t0: Instant,
    dog: Mutex<Watchdog>,
}

impl EventSink for Watched {
    fn send(&self, event: &JobEvent) -> bool {
        if let JobEvent::Lines { lines, .. } = event {
            let now = self.t0.elapsed();
            if let Ok(mut dog) = self.dog.lock() {
                for line in lines {
                    dog.on_line(now, line);
                }
            }
        }
        true
    }
}

fn spec(dir: &std::path::Path, script: &str) -> RunSpec {
    RunSpec {
        program: "/bin/sh".into(),
        args: vec!["-c".into(), script.into()],
        env: Vec::new(),
        cwd: dir.to_path_buf(),
        display_argv: vec!["nixos-anywhere".into()],
        secrets: Vec::new(),
        log_path: dir.join("job.log"),
        grace: Duration::from_secs(2),
        stall_after: None,
        stop_on_prompt: false,
    }
}

/// Runs `script` under the watchdog until the first alert (or `deadline`),
/// then cancels; returns the alert and when it came.
async fn first_alert(
    script: &str,
    config: WatchdogConfig,
    deadline: Duration,
) -> (Alert, Duration) {
    let dir = tempfile::tempdir().expect("tempdir");
    let watched = Arc::new(Watched {
        t0: Instant::now(),
        dog: Mutex::new(Watchdog::new(Tool::NixosAnywhere, config)),
    });
    let run = Run::start(
        spec(dir.path(), script),
        Box::new(InstallProgress::new()),
        Some(watched.clone()),
    )
    .expect("start");
    let pgid = run.pgid();
    let found = loop {
        tokio::time::sleep(Duration::from_millis(25)).await;
        let now = watched.t0.elapsed();
        let alerts = watched.dog.lock().expect("dog").check(now);
        if let Some(alert) = alerts.into_iter().next() {
            break Some((alert, now));
        }
        if now > deadline {
            break None;
        }
    };
    run.cancel();
    let outcome = tokio::time::timeout(Duration::from_secs(10), run.wait())
        .await
        .expect("the run ends after cancel");
    // Members signalled by the cancel may take a moment to finish exiting, and one
    // forked just as SIGTERM went out only gets the SIGKILL a grace period (2 s) later.
    for _ in 0..250 {
        if group_members(pgid).is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let left = group_members(pgid);
    assert!(
        left.is_empty(),
        "processes of the job are left: {left:?} {outcome:?}"
    );
    found.unwrap_or_else(|| panic!("no alert within {deadline:?}"))
}

#[tokio::test]
async fn a_quiet_step_is_reported_within_its_limit() {
    let limit = Duration::from_millis(400);
    let script = "echo '### Uploading install SSH keys ###'; echo 'Number of key(s) added: 1'; \
                  echo '### Gathering machine facts ###  '; sleep 60";
    let (alert, at) = first_alert(
        script,
        WatchdogConfig::uniform(limit),
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(alert.step, "Gathering machine facts");
    assert_eq!(alert.line, 3);
    match alert.kind {
        AlertKind::Silent {
            silent_for,
            limit: l,
        } => {
            assert_eq!(l, limit);
            assert!(silent_for > limit);
            // Reported soon after the limit, not at some later sweep.
            assert!(
                silent_for < limit + Duration::from_secs(1),
                "{silent_for:?}"
            );
        }
        other => panic!("expected silence, got {other:?}"),
    }
    assert!(at < Duration::from_secs(5), "{at:?}");
    assert!(alert.message.contains("Gathering machine facts"));
    assert!(alert.usual_causes.contains("SSH"));
}

#[tokio::test]
async fn a_step_that_keeps_starting_is_reported_as_a_loop() {
    let script = "while :; do echo '### Uploading install SSH keys ###'; \
                  echo 'ssh-copy-id: INFO: attempting to log in'; sleep 0.1; done";
    // Silence limits far away: only the loop can trigger.
    let (alert, at) = first_alert(
        script,
        WatchdogConfig::uniform(Duration::from_secs(60)),
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(alert.step, "Uploading install SSH keys");
    assert_eq!(alert.kind, AlertKind::RepeatedStep { count: 2 });
    assert!(at < Duration::from_secs(3), "{at:?}");
    assert!(alert.message.contains("loop"));
}
