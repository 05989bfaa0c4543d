//! Runner tests with real child processes (`/bin/sh` scripts as the children).

use super::*;
use std::sync::Mutex as StdMutex;

/// Asserts that `events` account for every line once, in order, each as a
/// line or within a count (`LinesDropped`); returns how many lines that is.
pub(crate) fn lines_in_order(events: &[JobEvent]) -> u64 {
    let mut next = 0;
    for event in events {
        let (first_seq, count) = match event {
            JobEvent::Lines {
                first_seq, lines, ..
            } => (*first_seq, lines.len() as u64),
            JobEvent::LinesDropped { first_seq, count } => (*first_seq, *count),
            _ => continue,
        };
        assert_eq!(first_seq, next, "{events:?}");
        next += count;
    }
    next
}

#[derive(Default)]
struct Collect {
    events: StdMutex<Vec<JobEvent>>,
}

impl EventSink for Collect {
    fn send(&self, event: &JobEvent) -> bool {
        self.events.lock().unwrap().push(event.clone());
        true
    }
}

impl Collect {
    fn lines(&self) -> Vec<(u64, Stream, String)> {
        let mut out = Vec::new();
        for e in self.events.lock().unwrap().iter() {
            if let JobEvent::Lines {
                stream,
                first_seq,
                lines,
                ..
            } = e
            {
                for (i, l) in lines.iter().enumerate() {
                    out.push((first_seq + i as u64, *stream, l.clone()));
                }
            }
        }
        out
    }
}

fn sh(dir: &Path, script: &str) -> RunSpec {
    RunSpec {
        program: "/bin/sh".into(),
        args: vec!["-c".into(), script.into()],
        env: vec![],
        cwd: dir.to_path_buf(),
        display_argv: vec!["sh".into()],
        secrets: vec![],
        log_path: dir.join("job.log"),
        grace: Duration::from_millis(500),
        stall_after: None,
        stop_on_prompt: false,
    }
}

async fn run(spec: RunSpec) -> (Outcome, Arc<Collect>) {
    let sink = Arc::new(Collect::default());
    let run = Run::start(spec, Box::new(PlainOutput), Some(sink.clone())).unwrap();
    (run.wait().await, sink)
}

#[tokio::test]
async fn lines_arrive_in_order_with_streams_and_log() {
    let dir = tempfile::tempdir().unwrap();
    let (outcome, sink) = run(sh(
        dir.path(),
        "echo one; sleep 0.1; echo two >&2; sleep 0.1; printf 'th\\rthree\\r\\n'; printf tail",
    ))
    .await;
    assert_eq!(outcome.result, JobResult::Succeeded);
    assert_eq!(outcome.exit_code, Some(0));
    assert_eq!(outcome.lines, 4);
    let lines = sink.lines();
    let texts: Vec<_> = lines.iter().map(|(_, _, t)| t.as_str()).collect();
    assert_eq!(texts, ["one", "two", "three", "tail"]);
    assert_eq!(lines.iter().map(|l| l.0).collect::<Vec<_>>(), [0, 1, 2, 3]);
    assert_eq!(lines[1].1, Stream::Stderr);
    assert_eq!(lines[0].1, Stream::Stdout);
    let events = sink.events.lock().unwrap();
    assert_eq!(
        events.first(),
        Some(&JobEvent::Started {
            argv: vec!["sh".into()]
        })
    );
    assert!(matches!(events.last(), Some(JobEvent::Finished { .. })));
    let log = std::fs::read_to_string(dir.path().join("job.log")).unwrap();
    assert_eq!(log, "one\ntwo\nthree\ntail\n");
}

#[tokio::test]
async fn exit_codes_become_results() {
    let dir = tempfile::tempdir().unwrap();
    let (outcome, _) = run(sh(dir.path(), "exit 3")).await;
    assert_eq!(outcome.result, JobResult::Failed);
    assert_eq!(outcome.exit_code, Some(3));
    assert_eq!(outcome.reason.as_deref(), Some("exited with status 3"));
    let (outcome, _) = run(sh(dir.path(), "kill -9 $$")).await;
    assert_eq!(outcome.result, JobResult::Failed);
    assert_eq!(outcome.signal, Some(9));
}

#[tokio::test]
async fn batches_are_bounded_and_few() {
    let dir = tempfile::tempdir().unwrap();
    let (outcome, sink) = run(sh(
        dir.path(),
        "i=0; while [ $i -lt 5000 ]; do echo line$i; i=$((i+1)); done",
    ))
    .await;
    assert_eq!(outcome.lines, 5000);
    let lines = sink.lines();
    assert!(lines
        .iter()
        .enumerate()
        .all(|(i, l)| l.0 == i as u64 && l.2 == format!("line{i}")));
    let events = sink.events.lock().unwrap();
    let batches: Vec<usize> = events
        .iter()
        .filter_map(|e| match e {
            JobEvent::Lines { lines, .. } => Some(lines.len()),
            _ => None,
        })
        .collect();
    assert!(batches.iter().all(|n| *n <= MAX_BATCH_LINES), "{batches:?}");
    assert!(
        batches.len() < 5000 / 10,
        "lines are batched, not sent one by one: {}",
        batches.len()
    );
}

fn group_members(pgid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // Fields after the `)` that ends the command name: state ppid pgrp …
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.len() > 2 && fields[2] == pgid.to_string() && fields[0] != "Z" {
            out.push(pid);
        }
    }
    out
}

#[tokio::test]
async fn cancel_stops_the_whole_group_even_when_sigterm_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    // The child ignores SIGTERM and has a grandchild in its group.
    let spec = sh(
        dir.path(),
        "trap '' TERM; sleep 300 & echo ready; while :; do sleep 1; done",
    );
    let sink = Arc::new(Collect::default());
    let run = Run::start(spec, Box::new(PlainOutput), Some(sink.clone())).unwrap();
    let pgid = run.pgid();
    for _ in 0..100 {
        if !sink.lines().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(group_members(pgid).len() >= 2, "child and grandchild run");
    run.cancel();
    let outcome = run.wait().await;
    assert_eq!(outcome.result, JobResult::Cancelled);
    assert_eq!(outcome.signal, Some(libc::SIGKILL));
    for _ in 0..100 {
        if group_members(pgid).is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        group_members(pgid),
        Vec::<i32>::new(),
        "no process of the group is left"
    );
}

#[tokio::test]
async fn leftovers_of_a_finished_tool_are_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let spec = sh(dir.path(), "sleep 300 & echo done");
    let sink = Arc::new(Collect::default());
    let run = Run::start(spec, Box::new(PlainOutput), Some(sink)).unwrap();
    let outcome = run.wait().await;
    assert_eq!(outcome.result, JobResult::Succeeded);
    for _ in 0..100 {
        if group_members(run.pgid()).is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(group_members(run.pgid()).is_empty());
}

#[tokio::test]
async fn attach_mid_run_sees_every_line_once() {
    let dir = tempfile::tempdir().unwrap();
    let spec = sh(
        dir.path(),
        "i=0; while [ $i -lt 3000 ]; do echo l$i; i=$((i+1)); if [ $i = 1500 ]; then sleep 0.3; fi; done",
    );
    let run = Run::start(spec, Box::new(PlainOutput), None).unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    let late = Arc::new(Collect::default());
    run.attach(0, late.clone()).unwrap();
    run.wait().await;
    let lines = late.lines();
    assert_eq!(lines.len(), 3000);
    assert!(lines
        .iter()
        .enumerate()
        .all(|(i, l)| l.0 == i as u64 && l.2 == format!("l{i}")));
    // After the end, attaching from the middle replays the rest and the end.
    let after = Arc::new(Collect::default());
    run.attach(2990, after.clone()).unwrap();
    assert_eq!(after.lines().len(), 10);
    assert!(matches!(
        after.events.lock().unwrap().last(),
        Some(JobEvent::Finished { .. })
    ));
}

#[tokio::test]
async fn secrets_in_output_are_redacted() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = sh(dir.path(), "echo the key is hunter2-secret");
    spec.secrets = vec!["hunter2-secret".into()];
    let (_, sink) = run(spec).await;
    assert_eq!(sink.lines()[0].2, "the key is <redacted>");
    let log = std::fs::read_to_string(dir.path().join("job.log")).unwrap();
    assert!(!log.contains("hunter2"));
}

#[tokio::test]
async fn silence_is_reported_as_stalled() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = sh(dir.path(), "echo start; sleep 0.5; echo end");
    spec.stall_after = Some(Duration::from_millis(200));
    let (_, sink) = run(spec).await;
    let stalls = sink
        .events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| matches!(e, JobEvent::Stalled { .. }))
        .count();
    assert!((1..=2).contains(&stalls), "{stalls}");
}

#[tokio::test]
async fn missing_tool_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = sh(dir.path(), "");
    spec.program = "nixdeck-no-such-tool".into();
    let err = Run::start(spec, Box::new(PlainOutput), None).err().unwrap();
    assert!(matches!(err, RunError::ToolMissing { .. }), "{err}");
}

struct Steps;
impl LineObserver for Steps {
    fn on_line(&mut self, _: Stream, seq: u64, line: &str, elapsed: Duration) -> Vec<PhaseEvent> {
        match line.strip_prefix("### ") {
            Some(step) => vec![PhaseEvent {
                node: None,
                phase: step.to_string(),
                label: step.to_string(),
                seq,
                at_ms: elapsed.as_millis() as u64,
                detail: None,
                disks_at_risk: false,
            }],
            None => vec![],
        }
    }
    fn failure_reason(&self) -> Option<String> {
        Some("it said so".into())
    }
}

#[tokio::test]
async fn observer_progress_follows_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Arc::new(Collect::default());
    let spec = sh(dir.path(), "echo a; echo '### step'; echo b; exit 1");
    let run = Run::start(spec, Box::new(Steps), Some(sink.clone())).unwrap();
    let outcome = run.wait().await;
    assert_eq!(
        outcome.reason.as_deref(),
        Some("it said so (exited with status 1)")
    );
    let events = sink.events.lock().unwrap();
    let phase_at = events
        .iter()
        .position(|e| matches!(e, JobEvent::Phase(_)))
        .unwrap();
    let seen_before: usize = events[..phase_at]
        .iter()
        .map(|e| match e {
            JobEvent::Lines { lines, .. } => lines.len(),
            _ => 0,
        })
        .sum();
    assert_eq!(seen_before, 2, "the phase comes right after `### step`");
}

#[tokio::test]
async fn fast_output_gets_few_big_batches() {
    let dir = tempfile::tempdir().unwrap();
    let start = std::time::Instant::now();
    let (outcome, sink) = run(sh(dir.path(), "seq 1 300000")).await;
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(outcome.lines, 300_000);
    let batches = sink
        .events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| matches!(e, JobEvent::Lines { .. }))
        .count();
    // Early flushes are rate-limited, timer flushes come every 75 ms, and
    // only a full batch is sent regardless.
    let allowed =
        secs * f64::from(MAX_FLUSHES_PER_SEC + 14) + (300_000 / MAX_BATCH_LINES) as f64 + 2.0;
    assert!(
        (batches as f64) <= allowed,
        "{batches} batches in {secs:.2} s (allowed {allowed:.0})"
    );
    assert_eq!(sink.lines().len(), 300_000);
}

#[test]
fn fast_splitting_matches_the_line_splitter() {
    use nixdeck_core::tools::lines::{LineSplitter, MAX_LINE_BYTES};
    let mut input = Vec::new();
    for i in 0..2000u32 {
        match i % 7 {
            0 => input.extend_from_slice(format!("plain {i}\n").as_bytes()),
            1 => input.extend_from_slice(format!("crlf {i}\r\n").as_bytes()),
            2 => input.extend_from_slice(format!("10%\r20%\r{i} done\n").as_bytes()),
            3 => input.extend_from_slice(b"bad \xff utf8\n"),
            4 => input.extend_from_slice(b"\n"),
            5 if i % 500 == 5 => {
                input.extend(std::iter::repeat_n(b'y', MAX_LINE_BYTES + 17));
                input.push(b'\n');
            }
            _ => input.extend_from_slice("unicode \u{2014} ok\n".as_bytes()),
        }
    }
    input.extend_from_slice(b"unfinished");
    let mut reference = Vec::new();
    let mut s = LineSplitter::new();
    s.push(&input, &mut reference);
    reference.extend(s.finish());
    for chunk in [1usize, 2, 3, 7, 64, 1000, 4096, 65536, 1 << 20] {
        let mut out = Vec::new();
        let mut s = LineSplitter::new();
        for piece in input.chunks(chunk) {
            split_lines(&mut s, piece, &mut out);
        }
        out.extend(s.finish());
        assert_eq!(out, reference, "chunks of {chunk}");
    }
}

/// A prompt nobody can answer ends the run: an unfinished prompt line the
/// child waits on (any run), or a whole prompt line (runs that stop on them).
#[tokio::test]
async fn a_prompt_ends_the_run_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let (outcome, _) = run(sh(
        dir.path(),
        "echo formatting; printf 'Enter password for /dev/vda2: '; sleep 60",
    ))
    .await;
    assert!(started.elapsed() < Duration::from_secs(20), "it waited");
    assert_eq!(outcome.result, JobResult::Failed, "{outcome:?}");
    let reason = outcome.reason.unwrap_or_default();
    assert!(reason.contains("Enter password for /dev/vda2:"), "{reason}");
    assert!(reason.contains("passwordFile"), "{reason}");

    let mut spec = sh(dir.path(), "echo \"root@h's password:\"; sleep 60");
    spec.stop_on_prompt = true;
    let (outcome, _) = run(spec).await;
    assert_eq!(outcome.result, JobResult::Failed, "{outcome:?}");
    assert!(outcome
        .reason
        .unwrap_or_default()
        .contains("--env-password"));

    // Without the flag a whole line is only output.
    let (outcome, _) = run(sh(dir.path(), "echo \"root@h's password:\"; exit 0")).await;
    assert_eq!(outcome.result, JobResult::Succeeded);
}
