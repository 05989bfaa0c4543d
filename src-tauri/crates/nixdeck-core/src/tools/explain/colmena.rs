//! The recogniser for colmena runs: per-node states and failures from the
//! node tracker, the lines that explain them, and the outcome.

use std::collections::BTreeMap;

use super::shapes::*;
use super::{
    complete, quote, success_outcome, Explanation, Finding, FindingKind, Findings, Outcome, Quote,
    Severity, Tool,
};
use crate::tools::colmena::{self, ColmenaLine, Label, NodeState, NodeStep, NodeTracker, RunEnd};
use crate::tools::lines::strip_ansi;

fn node_failure_kind(step: Option<NodeStep>) -> FindingKind {
    match step {
        Some(NodeStep::Evaluate) => FindingKind::EvalFailed,
        Some(NodeStep::Build) | None => FindingKind::BuildFailed,
        Some(NodeStep::Push) => FindingKind::PushFailed,
        Some(NodeStep::UploadKeys) => FindingKind::KeyUploadFailed,
        Some(NodeStep::Activate) => FindingKind::ActivationFailed,
        Some(NodeStep::Reboot) => FindingKind::RebootFailed,
    }
}

fn node_failure_message(node: &str, kind: FindingKind, evidence: &[Quote]) -> String {
    let all = evidence
        .iter()
        .map(|q| q.text.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let cause = if all.lines().any(is_auth_failure) {
        Some("the node refused the SSH login: colmena never asks for passwords (BatchMode), so load the key into ssh-agent or set deployment.targetUser")
    } else if all.lines().any(is_unreachable) {
        Some("the node could not be reached: check deployment.targetHost/targetPort and that it is up")
    } else if all.lines().any(is_host_key_changed) {
        Some("the node's host key changed: verify the new fingerprint and remove the old one with `ssh-keygen -R`")
    } else if all.lines().any(is_out_of_space) {
        Some("a disk is full: collect garbage on that machine (`nix-collect-garbage -d`) or free space")
    } else {
        None
    };
    let what = match kind {
        FindingKind::EvalFailed => format!(
            "{node}'s configuration did not evaluate. Fix the quoted error in the repository and run `nixdeck validate` for that host."
        ),
        FindingKind::BuildFailed => format!(
            "{node}'s system did not build. The quoted lines name the failing derivation; `nix build -L` on the host's toplevel shows its whole log."
        ),
        FindingKind::PushFailed => format!(
            "Copying {node}'s system to it failed; the node still runs its previous system."
        ),
        FindingKind::KeyUploadFailed => format!(
            "Uploading keys to {node} failed; check deployment.keys (files and commands must exist on this machine) and the target's permissions."
        ),
        FindingKind::ActivationFailed => format!(
            "Activating the new system on {node} failed: units failed to start or the activation script exited with an error. The node may run a mix of old and new services: read the quoted lines, fix, and deploy again (or roll back with `nixos-rebuild switch --rollback` on the node)."
        ),
        FindingKind::RebootFailed => format!(
            "{node} did not come back after the reboot; check its console."
        ),
        _ => format!("{node} failed."),
    };
    match cause {
        Some(c) => format!("{what} Cause: {c}."),
        None => what,
    }
}

pub(super) fn explain(lines: &[String], exit_status: Option<i32>) -> Explanation {
    let mut tracker = NodeTracker::new();
    // Error-looking lines by who they are about.
    let mut node_errors: BTreeMap<String, Vec<Quote>> = BTreeMap::new();
    let mut many_errors: Vec<(Vec<String>, Quote)> = Vec::new();
    let mut many_nodes: Vec<String> = Vec::new();
    let mut raw_errors: Vec<Quote> = Vec::new();
    for (i, raw) in lines.iter().enumerate() {
        let n = i + 1;
        tracker.feed(n, raw);
        match colmena::parse_line(raw) {
            ColmenaLine::Labeled { label, text } => {
                let t = text.trim();
                match label {
                    Label::Many => {
                        for prefix in ["Evaluating ", "Building "] {
                            if let Some(list) = t.strip_prefix(prefix) {
                                many_nodes = colmena::parse_node_list(list);
                            }
                        }
                        if is_evidence(t) {
                            many_errors.push((many_nodes.clone(), quote(n, t)));
                        }
                    }
                    Label::Node(node) if is_evidence(t) => {
                        node_errors.entry(node).or_default().push(quote(n, t));
                    }
                    _ => {}
                }
            }
            ColmenaLine::Raw { text } => {
                if nix_error(&text).is_some() || is_evidence(&text) {
                    raw_errors.push(quote(n, &text));
                }
            }
            ColmenaLine::Log { .. } => {}
        }
    }

    let mut found = Findings::default();
    for (node, status) in tracker.nodes() {
        if status.state == NodeState::Failed {
            let kind = node_failure_kind(status.failed_step);
            let line = status.failure_line.unwrap_or(status.last_line);
            let mut evidence: Vec<Quote> = node_errors.get(node).cloned().unwrap_or_default();
            evidence.extend(
                many_errors
                    .iter()
                    .filter(|(nodes, _)| nodes.iter().any(|x| x == node))
                    .map(|(_, q)| q.clone()),
            );
            evidence.extend(status.error_log.iter().filter_map(|(l, text)| {
                let body = text.split_once(") ").map_or(text.as_str(), |(_, b)| b);
                is_evidence(body).then(|| quote(*l, body))
            }));
            evidence.sort_by_key(|q| q.line);
            // The same lines come again in the ERROR block; a bare `error:` says nothing.
            let mut seen = std::collections::HashSet::new();
            evidence.retain(|q| q.text != "error:" && seen.insert(q.text.clone()));
            evidence.truncate(4);
            let mut quotes = evidence.clone();
            if let Some(msg) = &status.failure {
                if let Some(l) = status.failure_line {
                    let text = strip_ansi(&lines[l - 1]).trim().to_string();
                    if !quotes.iter().any(|q| q.line == l) {
                        quotes.push(Quote { line: l, text });
                    }
                } else {
                    quotes.push(Quote {
                        line,
                        text: msg.clone(),
                    });
                }
            }
            quotes.sort_by_key(|q| q.line);
            found.add(Finding {
                severity: Severity::Error,
                kind,
                line,
                message: node_failure_message(node, kind, &evidence),
                step: status.failed_step.map(|s| s.id().to_string()),
                node: Some(node.clone()),
                quote: quotes,
            });
        } else if !status.activation_errors.is_empty() && status.state == NodeState::Succeeded {
            let first = &status.activation_errors[0];
            found.add(Finding {
                severity: Severity::Warning,
                kind: FindingKind::ActivationWarnings,
                line: first.0,
                message: format!(
                    "{node} reported `Activation successful`, but the activation printed errors: some \
                     services may not run. Check them on the node (`systemctl --failed`, \
                     `journalctl -b`) and fix the configuration."
                ),
                step: Some(NodeStep::Activate.id().to_string()),
                node: Some(node.clone()),
                quote: status
                    .activation_errors
                    .iter()
                    .take(4)
                    .map(|(l, t)| quote(*l, t))
                    .collect(),
            });
        }
    }

    let all_done = matches!(tracker.end(), Some(RunEnd::AllDone { .. }));
    let any_failed = tracker
        .nodes()
        .values()
        .any(|s| s.state == NodeState::Failed);
    let all_succeeded = !tracker.nodes().is_empty()
        && tracker.nodes().values().all(|s| {
            matches!(
                s.state,
                NodeState::Succeeded | NodeState::Built | NodeState::Pushed
            )
        });
    let went_through = (all_done || all_succeeded) && !any_failed;

    if let Some((line, text)) = tracker.panic() {
        let (severity, message) = if went_through {
            (
                Severity::Warning,
                "colmena crashed (a panic, exit status 101) after every node reported success: \
                 the deployment went through, but colmena's own bookkeeping at the end did not. \
                 Check the nodes if in doubt; updating colmena usually fixes such panics."
                    .to_string(),
            )
        } else {
            (
                Severity::Error,
                "colmena crashed (a panic, exit status 101) before finishing: nodes without a \
                 success line may be half-deployed. An invalid `--on` pattern (such as `[`) makes \
                 colmena panic; otherwise run again with -v and report the quoted line."
                    .to_string(),
            )
        };
        found.add(Finding {
            severity,
            kind: FindingKind::ColmenaPanic,
            line,
            message,
            step: None,
            node: None,
            quote: vec![quote(line, text)],
        });
    }

    if !any_failed {
        // Errors that belong to no node: usually the whole hive failed to evaluate.
        if let Some(first) = raw_errors.iter().find(|q| nix_error(&q.text).is_some()) {
            let kind = nix_error_kind(&first.text);
            found.add(Finding {
                severity: Severity::Error,
                kind,
                line: first.line,
                message: nix_error_message(kind, " before any node was deployed"),
                step: None,
                node: None,
                quote: raw_errors.iter().take(3).cloned().collect(),
            });
        }
    }

    let nodes: BTreeMap<String, NodeState> = tracker
        .nodes()
        .iter()
        .map(|(n, s)| (n.clone(), s.state))
        .collect();
    let end_failed = matches!(tracker.end(), Some(RunEnd::Failed { .. }));
    let panicked = tracker.panic().is_some();
    let mut findings = found.list;
    let has_error = findings.iter().any(|f| f.severity == Severity::Error);
    let outcome = match exit_status {
        Some(0) => Some(true),
        // A panic after every node succeeded: the deployment itself went through.
        Some(101) if went_through => Some(true),
        Some(_) => Some(false),
        None if any_failed || end_failed || has_error => Some(false),
        None if (all_done || (panicked && all_succeeded)) && !any_failed => Some(true),
        None => None,
    };
    let outcome = match outcome {
        Some(true) => {
            for f in &mut findings {
                f.severity = Severity::Warning;
            }
            success_outcome(&findings)
        }
        Some(false) => Outcome::Failed,
        None => Outcome::Incomplete,
    };
    if outcome == Outcome::Failed && !findings.iter().any(|f| f.severity == Severity::Error) {
        if let Some(RunEnd::Failed { line, message }) = tracker.end() {
            findings.push(Finding {
                severity: Severity::Error,
                kind: FindingKind::ExitStatus,
                line: *line,
                message: format!(
                    "colmena reported a failure ({message}) without naming a node. Run it again \
                     with -v for the full log."
                ),
                step: None,
                node: None,
                quote: vec![quote(*line, &strip_ansi(&lines[*line - 1]))],
            });
        }
    }
    complete(
        Tool::Colmena,
        outcome,
        findings,
        Vec::new(),
        None,
        nodes,
        exit_status,
        lines.len(),
    )
}
