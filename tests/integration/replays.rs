//! The stand-ins replaying what the real tools print in a terminal (colours,
//! `\r\n` from `ssh -t`, progress redraws with a lone `\r`, interleaved nodes,
//! the spinner view), run as jobs through the real runner: the live phases,
//! node states and the live explanation must come out as for a clean log.

use nixdeck_core::tools::explain::{Explanation, FindingKind, Outcome, Severity};
use nixdeck_engine::runner::events::Alert;
use nixdeck_engine::runner::progress::{DeployProgress, InstallProgress};
use nixdeck_engine::runner::{
    EventSink, JobEvent, JobResult, LineObserver, PhaseEvent, Run, RunSpec, Stream,
};
use nixdeck_tests::fixture;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Default)]
struct Collect(Mutex<Vec<JobEvent>>);

impl EventSink for Collect {
    fn send(&self, event: &JobEvent) -> bool {
        self.0.lock().map(|mut v| v.push(event.clone())).is_ok()
    }
}

/// An observer the test can still read after the runner is done with it.
struct Shared<T>(Arc<Mutex<T>>);

impl<T: LineObserver> LineObserver for Shared<T> {
    fn on_line(
        &mut self,
        stream: Stream,
        seq: u64,
        line: &str,
        elapsed: Duration,
    ) -> Vec<PhaseEvent> {
        self.0
            .lock()
            .map(|mut o| o.on_line(stream, seq, line, elapsed))
            .unwrap_or_default()
    }
    fn failure_reason(&self) -> Option<String> {
        self.0.lock().ok().and_then(|o| o.failure_reason())
    }
    fn check(&mut self, elapsed: Duration) -> Vec<Alert> {
        self.0
            .lock()
            .map(|mut o| o.check(elapsed))
            .unwrap_or_default()
    }
}

/// Runs the stand-in `tool` with `args`, replaying `replay` and exiting `exit`.
fn run_replay<T: LineObserver + 'static>(
    tool: &str,
    args: &[&str],
    replay: &str,
    exit: i32,
    observer: T,
) -> (Vec<PhaseEvent>, JobResult, Arc<Mutex<T>>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = RunSpec {
        program: fixture("standins").join(tool).display().to_string(),
        args: args.iter().map(|a| a.to_string()).collect(),
        env: vec![
            ("NIXDECK_STANDIN_SCENARIO".into(), "replay".into()),
            (
                "NIXDECK_STANDIN_REPLAY".into(),
                fixture(&format!("standins/replays/{replay}"))
                    .display()
                    .to_string(),
            ),
            ("NIXDECK_STANDIN_EXIT".into(), exit.to_string()),
            ("NIXDECK_STANDIN_DELAY".into(), "0.002".into()),
        ],
        cwd: dir.path().to_path_buf(),
        display_argv: vec![tool.into()],
        secrets: Vec::new(),
        log_path: dir.path().join("job.log"),
        grace: Duration::from_secs(2),
        stall_after: None,
        stop_on_prompt: false,
    };
    let shared = Arc::new(Mutex::new(observer));
    let sink = Arc::new(Collect::default());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let outcome = runtime.block_on(async {
        let run =
            Run::start(spec, Box::new(Shared(shared.clone())), Some(sink.clone())).expect("start");
        run.wait().await
    });
    assert_eq!(outcome.exit_code, Some(exit), "{outcome:?}");
    let phases = sink
        .0
        .lock()
        .expect("events")
        .iter()
        .filter_map(|e| match e {
            JobEvent::Phase(p) => Some(p.clone()),
            _ => None,
        })
        .collect();
    (phases, outcome.result, shared)
}

fn explanation<T>(shared: &Arc<Mutex<T>>, read: impl Fn(&T) -> Explanation) -> Explanation {
    read(&shared.lock().expect("observer"))
}

#[test]
fn an_install_over_ssh_t_with_colours_and_redraws() {
    let (phases, result, live) = run_replay(
        "nixos-anywhere",
        &["--flake", ".#web1", "--target-host", "root@203.0.113.9"],
        "anywhere-ssh-t.out",
        0,
        InstallProgress::new(),
    );
    assert_eq!(result, JobResult::Succeeded);
    let labels: Vec<&str> = phases.iter().map(|p| p.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "Uploading install SSH keys",
            "Gathering machine facts",
            "Switching system into kexec",
            "Gathering machine facts",
            "Formatting hard drive with disko",
            "Uploading the system closure",
            // Glued to the last redraw of nix's progress bar.
            "Installing NixOS",
            "Rebooting",
            "Waiting for the machine to become unreachable due to reboot",
            "Done!",
        ]
    );
    let e = explanation(&live, |o| o.explanation(Some(0)));
    assert_eq!(e.outcome, Outcome::SucceededWithWarnings, "{e:#?}");
    assert_eq!(e.last_step.as_deref(), Some("Done!"));
    let f = &e.findings[0];
    assert_eq!(
        (f.kind, f.severity),
        (FindingKind::InstallErrorThenSuccess, Severity::Warning)
    );
    // The quotes are plain text: no colours, no `\r`.
    assert!(f
        .quote
        .iter()
        .all(|q| !q.text.contains('\x1b') && !q.text.contains('\r')));
    assert_eq!(
        e.findings.len(),
        1,
        "the kexec reboot and the reboot's closed connections are no findings: {e:#?}"
    );
}

#[test]
fn colmena_with_interleaved_coloured_nodes() {
    let (phases, result, live) = run_replay(
        "colmena",
        &["apply", "--on", "alpha,beta"],
        "colmena-interleaved.out",
        1,
        DeployProgress::new(),
    );
    assert_eq!(result, JobResult::Failed);
    let last = |node: &str| {
        phases
            .iter()
            .rev()
            .find(|p| p.node.as_deref() == Some(node))
            .map(|p| p.phase.clone())
    };
    assert_eq!(last("alpha").as_deref(), Some("succeeded"));
    assert_eq!(last("beta").as_deref(), Some("failed"));
    let beta: Vec<&str> = phases
        .iter()
        .filter(|p| p.node.as_deref() == Some("beta"))
        .map(|p| p.phase.as_str())
        .collect();
    assert_eq!(
        beta,
        [
            "evaluating",
            "evaluated",
            "building",
            "built",
            "pushing",
            "pushed",
            "activating",
            "failed"
        ]
    );
    let e = explanation(&live, |o| o.explanation(Some(1)));
    assert_eq!(e.outcome, Outcome::Failed);
    let f = &e.findings[0];
    assert_eq!(f.kind, FindingKind::ActivationFailed);
    assert_eq!(f.node.as_deref(), Some("beta"));
    assert!(
        f.quote.iter().any(|q| q.text.contains("nginx.service")),
        "{f:#?}"
    );
}

#[test]
fn colmena_spinner_rows_redrawn_in_place() {
    let (phases, result, live) = run_replay(
        "colmena",
        &["apply", "--on", "gamma,delta"],
        "colmena-spinner.out",
        1,
        DeployProgress::new(),
    );
    assert_eq!(result, JobResult::Failed);
    let of = |node: &str| -> Vec<String> {
        phases
            .iter()
            .filter(|p| p.node.as_deref() == Some(node))
            .map(|p| p.phase.clone())
            .collect()
    };
    // Only the settled state of each redrawn row counts.
    assert_eq!(of("gamma"), ["evaluated", "pushed", "succeeded"]);
    assert_eq!(of("delta"), ["evaluated", "failed"]);
    let e = explanation(&live, |o| o.explanation(Some(1)));
    assert_eq!(e.outcome, Outcome::Failed);
    let f = &e.findings[0];
    assert_eq!(
        (f.kind, f.node.as_deref()),
        (FindingKind::PushFailed, Some("delta"))
    );
    assert!(f.message.contains("refused the SSH login"), "{f:#?}");
}
