//! The job manager's log paging, on real jobs (`/bin/sh` as the tool).

use super::*;
use nixdeck_core::tools::plan::Arg;

fn sh(dir: &Path, script: &str) -> JobRequest {
    let arg = |v: &str| Arg {
        value: v.into(),
        secret: false,
    };
    JobRequest {
        kind: JobKind::Validate,
        hosts: vec![],
        command: CommandLine {
            program: "/bin/sh".into(),
            args: vec![arg("-c"), arg(script)],
            env: vec![],
        },
        cwd: dir.to_path_buf(),
        secret_files: vec![],
        secret_dirs: vec![],
        after_success: None,
        stall_after: None,
        grace: Duration::from_millis(500),
        watchdog: Default::default(),
        tools: vec![],
    }
}

#[tokio::test]
async fn a_finished_jobs_log_is_paged_and_searched() {
    let dir = tempfile::tempdir().unwrap();
    let manager = JobManager::open(dir.path()).unwrap();
    let id = manager
        .start(
            sh(
                dir.path(),
                "seq 1 5000; echo 'error: disk full'; seq 5001 5010",
            ),
            None,
        )
        .unwrap();
    assert_eq!(manager.wait(id).await.unwrap().lines, 5011);
    let page = manager.log_lines(id, 4998, 4).unwrap();
    assert_eq!(page.first_seq, 4998);
    assert_eq!(page.total_lines, 5011);
    assert_eq!(page.lines, ["4999", "5000", "error: disk full", "5001"]);
    assert_eq!(
        manager.log_search(id, "ERROR:", 0, false, true).unwrap(),
        Some(5000)
    );
    assert_eq!(
        manager.log_search(id, "error:", 4999, true, false).unwrap(),
        None
    );
    assert!(matches!(
        manager.log_search(id, "", 0, false, false),
        Err(JobError::LogRead {
            source: log::LogError::EmptyQuery,
            ..
        })
    ));
    assert!(matches!(
        manager.log_lines(id + 1, 0, 1),
        Err(JobError::NotFound(_))
    ));
}

#[tokio::test]
async fn a_running_jobs_log_grows_between_calls() {
    let dir = tempfile::tempdir().unwrap();
    let manager = JobManager::open(dir.path()).unwrap();
    let gate = dir.path().join("gate");
    let script = format!(
        "seq 1 100; while [ ! -e '{}' ]; do sleep 0.02; done; seq 101 300",
        gate.display()
    );
    let id = manager.start(sh(dir.path(), &script), None).unwrap();
    // The first hundred lines reach the file with the runner's next flush.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while manager.log_lines(id, 0, 1).unwrap().total_lines < 100 {
        assert!(std::time::Instant::now() < deadline, "no lines in the log");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(manager.log_lines(id, 99, 5).unwrap().lines, ["100"]);
    std::fs::write(&gate, b"").unwrap();
    manager.wait(id).await.unwrap();
    let page = manager.log_lines(id, 99, 3).unwrap();
    assert_eq!(page.total_lines, 300);
    assert_eq!(page.lines, ["100", "101", "102"]);
    assert_eq!(
        manager.log_search(id, "300", 0, false, false).unwrap(),
        Some(299)
    );
}

#[derive(Default)]
struct Collect(Mutex<Vec<JobEvent>>);

impl EventSink for Collect {
    fn send(&self, event: &JobEvent) -> bool {
        guard(&self.0).push(event.clone());
        true
    }
}

fn lines_sent(events: &[JobEvent]) -> u64 {
    events
        .iter()
        .map(|e| match e {
            JobEvent::Lines { lines, .. } => lines.len() as u64,
            _ => 0,
        })
        .sum()
}

#[tokio::test]
async fn a_counted_watcher_of_a_finished_job_gets_counts_and_steps_not_lines() {
    let dir = tempfile::tempdir().unwrap();
    let manager = JobManager::open(dir.path()).unwrap();
    let id = manager.start(sh(dir.path(), "seq 1 20000"), None).unwrap();
    manager.wait(id).await.unwrap();
    let got = Arc::new(Collect::default());
    manager
        .attach_counted(id, got.clone(), TailLimits::default())
        .unwrap();
    let events = guard(&got.0).clone();
    assert!(matches!(events[0], JobEvent::Started { .. }));
    assert_eq!(lines_sent(&events), 0, "{events:?}");
    assert!(events.contains(&JobEvent::LinesDropped {
        first_seq: 0,
        count: 20_000
    }));
    assert!(
        matches!(events.last(), Some(JobEvent::Finished { outcome }) if outcome.lines == 20_000)
    );

    // An install's log is read again for its steps; its lines still are not sent.
    let mut install = sh(
        dir.path(),
        "echo '### Uploading install SSH keys ###'; seq 1 3000; echo '### Gathering machine facts ###'",
    );
    install.kind = JobKind::Install;
    let id = manager.start(install, None).unwrap();
    manager.wait(id).await.unwrap();
    let got = Arc::new(Collect::default());
    manager
        .attach_counted(id, got.clone(), TailLimits::default())
        .unwrap();
    let events = guard(&got.0).clone();
    assert_eq!(lines_sent(&events), 0);
    let phases: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            JobEvent::Phase(p) => Some((p.phase.as_str(), p.seq)),
            _ => None,
        })
        .collect();
    assert_eq!(phases.len(), 2, "{phases:?}");
    assert_eq!(phases[1].1, 3001);
    assert!(events.contains(&JobEvent::LinesDropped {
        first_seq: 0,
        count: 3002
    }));
}

#[tokio::test]
async fn a_counted_watcher_of_a_fast_running_job_gets_counts_and_the_tail() {
    let dir = tempfile::tempdir().unwrap();
    let manager = JobManager::open(dir.path()).unwrap();
    let gate = dir.path().join("gate");
    let script = format!(
        "seq 1 50; while [ ! -e '{}' ]; do sleep 0.02; done; seq 51 400000",
        gate.display()
    );
    let id = manager.start(sh(dir.path(), &script), None).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while manager.log_lines(id, 0, 1).unwrap().total_lines < 50 {
        assert!(std::time::Instant::now() < deadline, "no lines in the log");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let got = Arc::new(Collect::default());
    manager
        .attach_counted(id, got.clone(), TailLimits::default())
        .unwrap();
    std::fs::write(&gate, b"").unwrap();
    manager.wait(id).await.unwrap();
    let events = guard(&got.0).clone();
    // What was written before attaching is one count; then lines or counts, in order.
    assert_eq!(
        events[1],
        JobEvent::LinesDropped {
            first_seq: 0,
            count: 50
        }
    );
    assert_eq!(crate::runner::tests::lines_in_order(&events), 400_000);
    assert!(lines_sent(&events) < 200_000, "{}", lines_sent(&events));
    assert!(matches!(events.last(), Some(JobEvent::Finished { .. })));
}

#[tokio::test]
async fn a_finished_log_opens_at_its_end_before_its_index_is_built() {
    let dir = tempfile::tempdir().unwrap();
    let manager = JobManager::open(dir.path()).unwrap();
    let id = manager.start(sh(dir.path(), "seq 1 300000"), None).unwrap();
    manager.wait(id).await.unwrap();
    let page = manager.log_lines(id, 300_000 - 40, 40).unwrap();
    assert_eq!(page.total_lines, 300_000);
    assert_eq!(page.lines.len(), 40);
    assert_eq!(page.lines[0], "299961");
    assert_eq!(page.lines[39], "300000");
    // The index built meanwhile answers the rest, the same way.
    let middle = manager.log_lines(id, 150_000, 2).unwrap();
    assert_eq!(middle.lines, ["150001", "150002"]);
    let again = manager.log_lines(id, 300_000 - 40, 40).unwrap();
    assert_eq!(again, page);
}

/// A job left running by a closed window (its nixdeck gone, its tool writing
/// on through the relay): a later watcher gets what the log holds at once,
/// then the new lines as counts and their steps as the tool writes them, and
/// the end once the tool is gone, recorded as interrupted since nobody saw
/// its exit status.
#[test]
fn a_job_left_running_is_followed_through_its_log_until_its_tool_ends() {
    let dir = tempfile::tempdir().unwrap();
    let manager = JobManager::open(dir.path()).unwrap();
    let record = guard(&manager.inner.store)
        .begin(&NewJob {
            kind: JobKind::Install,
            hosts: vec!["box".into()],
            argv: vec!["nixos-anywhere".into()],
            cwd: dir.path().to_path_buf(),
            tools: vec![],
        })
        .unwrap();
    let log = PathBuf::from(&record.log_path);
    std::fs::write(&log, "### Uploading install SSH keys ###\nearly line\n").unwrap();
    let mut tool = std::process::Command::new("sh");
    tool.arg("-c")
        .arg(
            r#"sleep 0.6; echo '### Formatting hard drive with disko ###' >> "$1"
               for i in 1 2 3; do echo "line $i" >> "$1"; done; sleep 0.6"#,
        )
        .arg("sh")
        .arg(&log);
    std::os::unix::process::CommandExt::process_group(&mut tool, 0);
    let mut tool = tool.spawn().unwrap();
    {
        let mut store = guard(&manager.inner.store);
        store
            .set_child(record.id, i32::try_from(tool.id()).unwrap())
            .unwrap();
        store.forget_owner(record.id);
    }
    assert!(manager.get(record.id).unwrap().detached_pid.is_some());

    let got = Arc::new(Collect::default());
    manager
        .attach_counted(record.id, got.clone(), TailLimits::default())
        .unwrap();
    let phase_labels = |events: &[JobEvent]| -> Vec<String> {
        events
            .iter()
            .filter_map(|e| match e {
                JobEvent::Phase(p) => Some(p.label.clone()),
                _ => None,
            })
            .collect()
    };
    let at_once = guard(&got.0).clone();
    assert!(matches!(at_once[0], JobEvent::Started { .. }));
    assert!(at_once.contains(&JobEvent::LinesDropped {
        first_seq: 0,
        count: 2
    }));
    assert!(
        phase_labels(&at_once)
            .iter()
            .any(|l| l.contains("Uploading install SSH keys")),
        "{at_once:?}"
    );

    tool.wait().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let events = loop {
        let events = guard(&got.0).clone();
        if matches!(events.last(), Some(JobEvent::Finished { .. })) {
            break events;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no end came: {events:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    // Every line counted once, in order, and none sent.
    assert_eq!(crate::runner::tests::lines_in_order(&events), 6);
    assert_eq!(lines_sent(&events), 0);
    assert!(
        phase_labels(&events)
            .iter()
            .any(|l| l.contains("Formatting hard drive with disko")),
        "{events:?}"
    );
    let Some(JobEvent::Finished { outcome }) = events.last() else {
        unreachable!()
    };
    assert_eq!(outcome.result, JobResult::Interrupted);
    assert_eq!(outcome.lines, 6);
    assert!(
        outcome
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("no nixdeck was watching")),
        "{outcome:?}"
    );
    let record = manager.get(record.id).unwrap();
    assert_eq!(record.result, JobResult::Interrupted);
    assert_eq!(record.lines, 6);
}
