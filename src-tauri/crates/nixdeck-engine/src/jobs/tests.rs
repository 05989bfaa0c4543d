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
