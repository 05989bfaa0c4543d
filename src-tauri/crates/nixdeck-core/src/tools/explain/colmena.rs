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

/// Quotes kept per node and for the run.
const MAX_QUOTES: usize = 16;

fn push_bounded(list: &mut Vec<Quote>, q: Quote) {
    if list.len() < MAX_QUOTES {
        list.push(q);
    }
}

/// Follows one colmena run line by line; [`Recogniser::explanation`] says what
/// it means at any point.
pub(super) struct Recogniser {
    tracker: NodeTracker,
    lines: usize,
    /// Error-looking lines by who they are about.
    node_errors: BTreeMap<String, Vec<Quote>>,
    many_errors: Vec<(Vec<String>, Quote)>,
    many_nodes: Vec<String>,
    raw_errors: Vec<Quote>,
    /// The first unlabelled nix `error:` and the indented trace under it.
    raw_error_context: Option<(usize, String, bool)>,
    /// Whether a node had got past evaluation when the first raw error came.
    raw_error_after_eval: bool,
    /// The plain text of lines the verdict quotes (failures, the run's end).
    texts: BTreeMap<usize, String>,
}

impl Recogniser {
    pub(super) fn new() -> Self {
        Self {
            tracker: NodeTracker::new(),
            lines: 0,
            node_errors: BTreeMap::new(),
            many_errors: Vec::new(),
            many_nodes: Vec::new(),
            raw_errors: Vec::new(),
            raw_error_context: None,
            raw_error_after_eval: false,
            texts: BTreeMap::new(),
        }
    }

    pub(super) fn push(&mut self, raw: &str) {
        self.lines += 1;
        let n = self.lines;
        let events = self.tracker.feed(n, raw);
        let keep_text = events.iter().any(|e| {
            matches!(
                e,
                colmena::NodeEvent::State {
                    state: NodeState::Failed,
                    ..
                } | colmena::NodeEvent::End { .. }
            )
        }) || matches!(self.tracker.end(), Some(RunEnd::Failed { line, .. }) if *line == n);
        if keep_text && self.texts.len() < 256 {
            self.texts.insert(n, strip_ansi(raw).trim().to_string());
        }
        let parsed = colmena::parse_line(raw);
        // nix's indented trace under the first unlabelled `error:`.
        if let Some((_, context, open)) = &mut self.raw_error_context {
            if *open {
                let plain = strip_ansi(raw);
                if (plain.starts_with(' ') || plain.trim().is_empty()) && context.len() < 4096 {
                    context.push('\n');
                    context.push_str(plain.trim());
                } else {
                    *open = false;
                }
            }
        }
        match parsed {
            ColmenaLine::Labeled { label, text } => {
                let t = text.trim();
                match label {
                    Label::Many => {
                        for prefix in ["Evaluating ", "Building "] {
                            if let Some(list) = t.strip_prefix(prefix) {
                                self.many_nodes = colmena::parse_node_list(list);
                            }
                        }
                        if is_evidence(t) && self.many_errors.len() < MAX_QUOTES {
                            self.many_errors
                                .push((self.many_nodes.clone(), quote(n, t)));
                        }
                    }
                    Label::Node(node)
                        if is_evidence(t)
                            && (self.node_errors.len() < 256
                                || self.node_errors.contains_key(&node)) =>
                    {
                        push_bounded(self.node_errors.entry(node).or_default(), quote(n, t));
                    }
                    _ => {}
                }
            }
            ColmenaLine::Raw { text } => {
                if nix_error(&text).is_some() || is_evidence(&text) {
                    if self.raw_error_context.is_none() && nix_error(&text).is_some() {
                        self.raw_error_context = Some((n, text.clone(), true));
                        self.raw_error_after_eval =
                            self.tracker.nodes().values().any(|s| {
                                !matches!(s.state, NodeState::Evaluating | NodeState::Failed)
                            });
                    }
                    push_bounded(&mut self.raw_errors, quote(n, &text));
                }
            }
            ColmenaLine::Log { .. } => {}
        }
    }

    fn text(&self, line: usize) -> String {
        self.texts.get(&line).cloned().unwrap_or_default()
    }

    pub(super) fn explanation(&self, exit_status: Option<i32>) -> Explanation {
        let tracker = &self.tracker;
        let node_errors = &self.node_errors;
        let many_errors = &self.many_errors;
        let raw_errors = &self.raw_errors;
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
                        let text = self.text(l);
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
        // colmena 0.1 printed no `All done!`: every selected node reporting
        // success is the end.
        let finished_nodes = tracker
            .nodes()
            .values()
            .filter(|s| s.state == NodeState::Succeeded)
            .count();
        let all_selected_done = tracker
            .selected()
            .is_some_and(|n| n > 0 && finished_nodes == n && tracker.nodes().len() == n);
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

        // Jobs that failed without naming a node (colmena 0.1's `(...)` rows).
        for (line, step, message) in tracker.run_failures() {
            let kind = node_failure_kind(*step);
            let mut quotes: Vec<Quote> = many_errors.iter().map(|(_, q)| q.clone()).collect();
            quotes.extend(
                tracker
                    .unlabeled_errors()
                    .iter()
                    .filter(|(_, t)| is_evidence(t) || t.contains("cannot build"))
                    .take(3)
                    .map(|(l, t)| quote(*l, t)),
            );
            quotes.truncate(4);
            if !message.is_empty() {
                quotes.push(quote(*line, &self.text(*line)));
            }
            found.add(Finding {
                severity: Severity::Error,
                kind,
                line: *line,
                message: node_failure_message("every selected node", kind, &quotes),
                step: step.map(|s| s.id().to_string()),
                node: None,
                quote: quotes,
            });
        }

        if !any_failed {
            // Errors that belong to no node: usually the whole hive failed to evaluate.
            if let Some(first) = raw_errors.iter().find(|q| nix_error(&q.text).is_some()) {
                let context = match &self.raw_error_context {
                    Some((_, context, _)) => context.as_str(),
                    None => first.text.as_str(),
                };
                // Before any node was evaluated, only the evaluation can have failed.
                let before_eval = !self.raw_error_after_eval;
                let kind = if before_eval {
                    FindingKind::NixEvalError
                } else {
                    nix_error_kind(context)
                };
                let step = before_eval.then(|| NodeStep::Evaluate.id().to_string());
                found.add(Finding {
                    severity: Severity::Error,
                    kind,
                    line: first.line,
                    message: nix_error_message(kind, " before any node was deployed"),
                    step,
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
            None if (all_done || all_selected_done || (panicked && all_succeeded))
                && !any_failed =>
            {
                Some(true)
            }
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
                    quote: vec![quote(*line, &self.text(*line))],
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
            self.lines,
        )
    }
}
