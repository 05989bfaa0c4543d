//! The real-log corpus (`tests/fixtures/real-logs`): output of nixos-anywhere
//! and colmena that users posted publicly, each file headed by its source and
//! its true outcome. Every log must be read right by `explain_text` (what
//! `nixdeck log explain` calls) and by the live progress observers fed the
//! output line by line, as the runner feeds them.

use nixdeck_core::tools::colmena::NodeState;
use nixdeck_core::tools::explain::{explain_text, Explanation, Outcome, Severity, Tool};
use nixdeck_core::tools::lines::LineSplitter;
use nixdeck_engine::runner::progress::{DeployProgress, InstallProgress};
use nixdeck_engine::runner::{LineObserver, PhaseEvent, Stream};
use nixdeck_tests::fixture;
use std::path::Path;
use std::time::Duration;

/// One corpus file: what its header says and the log itself.
struct RealLog {
    name: String,
    tool: Tool,
    outcome: Outcome,
    /// nixos-anywhere: the last marker's text; colmena: the step id the run
    /// stopped in (`push`, `activate`…). `None` for `-`.
    last_step: Option<String>,
    failing_node: Option<String>,
    body: String,
}

fn header_value<'a>(header: &'a [&'a str], key: &str) -> &'a str {
    let prefix = format!("# {key}: ");
    header
        .iter()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .unwrap_or_else(|| panic!("header has no `{key}`"))
}

fn parse(path: &Path) -> RealLog {
    let text = std::fs::read_to_string(path).expect("read corpus file");
    let (head, body) = text
        .split_once("\n# ---\n")
        .unwrap_or_else(|| panic!("{}: no `# ---` line", path.display()));
    let header: Vec<&str> = head.lines().collect();
    assert!(
        header.iter().all(|l| l.starts_with("# ")),
        "{}: header lines start with `# `",
        path.display()
    );
    assert!(
        header_value(&header, "source").len() > 10,
        "{}: a source",
        path.display()
    );
    let tool = match header_value(&header, "tool") {
        "nixos-anywhere" => Tool::NixosAnywhere,
        "colmena" => Tool::Colmena,
        other => panic!("unknown tool {other}"),
    };
    let outcome = match header_value(&header, "outcome") {
        "succeeded" => Outcome::Succeeded,
        "succeeded-with-warnings" => Outcome::SucceededWithWarnings,
        "failed" => Outcome::Failed,
        "incomplete" => Outcome::Incomplete,
        other => panic!("unknown outcome {other}"),
    };
    let opt = |v: &str| (v != "-").then(|| v.to_string());
    RealLog {
        name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        tool,
        outcome,
        last_step: opt(header_value(&header, "last-step")),
        failing_node: opt(header_value(&header, "failing-node")),
        body: body.to_string(),
    }
}

fn corpus() -> Vec<RealLog> {
    let mut logs = Vec::new();
    for dir in ["nixos-anywhere", "colmena"] {
        let dir = fixture(&format!("real-logs/{dir}"));
        let mut paths: Vec<_> = std::fs::read_dir(&dir)
            .expect("corpus directory")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "log"))
            .collect();
        paths.sort();
        logs.extend(paths.iter().map(|p| parse(p)));
    }
    logs
}

/// What is wrong with `e` as a reading of `log` (empty when it is right).
fn judge(log: &RealLog, e: &Explanation) -> Vec<String> {
    let mut wrong = Vec::new();
    if e.tool != log.tool {
        wrong.push(format!("tool {:?}, not {:?}", e.tool, log.tool));
    }
    if e.outcome != log.outcome {
        wrong.push(format!("outcome {:?}, not {:?}", e.outcome, log.outcome));
    }
    let errors: Vec<_> = e
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .collect();
    match log.outcome {
        Outcome::Failed if errors.is_empty() => {
            wrong.push("a failure without an error finding".into())
        }
        Outcome::SucceededWithWarnings if e.findings.is_empty() => {
            wrong.push("warnings without a finding".into())
        }
        Outcome::Succeeded if !e.findings.is_empty() => {
            wrong.push(format!("findings on a clean success: {:?}", e.findings))
        }
        _ => {}
    }
    for f in &e.findings {
        if f.message.len() < 20 {
            wrong.push(format!("finding {:?} says too little", f.kind));
        }
    }
    match log.tool {
        Tool::NixosAnywhere => {
            if e.last_step != log.last_step {
                wrong.push(format!(
                    "last step {:?}, not {:?}",
                    e.last_step, log.last_step
                ));
            }
        }
        Tool::Colmena => {
            if let Some(step) = &log.last_step {
                let told = if log.outcome == Outcome::Failed {
                    errors.iter().any(|f| f.step.as_deref() == Some(step))
                } else {
                    e.nodes
                        .values()
                        .any(|s| s.step().is_some_and(|st| st.id() == step))
                };
                if !told {
                    wrong.push(format!("nothing says the run stopped in `{step}`"));
                }
            }
            if let Some(node) = &log.failing_node {
                if e.nodes.get(node) != Some(&NodeState::Failed) {
                    wrong.push(format!("{node} is {:?}, not failed", e.nodes.get(node)));
                }
                if !errors.iter().any(|f| f.node.as_deref() == Some(node)) {
                    wrong.push(format!("no error finding about {node}"));
                }
            } else if let Some((n, _)) = e.nodes.iter().find(|(_, s)| **s == NodeState::Failed) {
                wrong.push(format!("{n} called failed"));
            }
        }
    }
    wrong
}

/// The lines the runner would hand its observer: the raw bytes through the
/// same splitter.
fn runner_lines(body: &str) -> Vec<String> {
    let mut splitter = LineSplitter::new();
    let mut lines = Vec::new();
    splitter.push(body.as_bytes(), &mut lines);
    lines.extend(splitter.finish());
    lines
}

fn feed(observer: &mut dyn LineObserver, lines: &[String]) -> Vec<PhaseEvent> {
    let mut events = Vec::new();
    for (seq, line) in (0u64..).zip(lines) {
        events.extend(observer.on_line(Stream::Stderr, seq, line, Duration::from_millis(seq)));
    }
    events
}

/// What is wrong with the live view of `log`.
fn judge_live(log: &RealLog) -> Vec<String> {
    let lines = runner_lines(&log.body);
    let mut wrong = Vec::new();
    match log.tool {
        Tool::NixosAnywhere => {
            let mut live = InstallProgress::new();
            let events = feed(&mut live, &lines);
            let last = events
                .iter()
                .rev()
                .find(|e| e.phase != "aborted")
                .map(|e| e.label.clone());
            if last != log.last_step {
                wrong.push(format!(
                    "live: last phase {last:?}, not {:?}",
                    log.last_step
                ));
            }
            wrong.extend(
                judge(log, &live.explanation(None))
                    .into_iter()
                    .map(|w| format!("live: {w}")),
            );
        }
        Tool::Colmena => {
            let mut live = DeployProgress::new();
            let events = feed(&mut live, &lines);
            if let Some(node) = &log.failing_node {
                if !events
                    .iter()
                    .any(|e| e.node.as_deref() == Some(node) && e.phase == "failed")
                {
                    wrong.push(format!("live: no `failed` event for {node}"));
                }
            }
            wrong.extend(
                judge(log, &live.explanation(None))
                    .into_iter()
                    .map(|w| format!("live: {w}")),
            );
        }
    }
    wrong
}

#[test]
fn corpus_is_large_and_varied() {
    let logs = corpus();
    assert!(logs.len() >= 60, "{} logs", logs.len());
    for tool in [Tool::NixosAnywhere, Tool::Colmena] {
        for outcome in [Outcome::Succeeded, Outcome::Failed, Outcome::Incomplete] {
            assert!(
                logs.iter().any(|l| l.tool == tool && l.outcome == outcome),
                "no {outcome:?} {tool:?} log"
            );
        }
    }
}

#[test]
fn every_real_log_is_explained_right() {
    let mut report = Vec::new();
    for log in corpus() {
        // As `nixdeck log explain FILE` reads it: the tool detected, no exit status.
        let e = explain_text(&log.body, None, None);
        let mut wrong = judge(&log, &e);
        wrong.extend(judge_live(&log));
        if !wrong.is_empty() {
            report.push(format!("{}:\n  {}", log.name, wrong.join("\n  ")));
        }
    }
    assert!(
        report.is_empty(),
        "{} of the real logs are misread:\n{}",
        report.len(),
        report.join("\n")
    );
}
