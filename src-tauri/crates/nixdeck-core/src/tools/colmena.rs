//! colmena's plain output (piped or `-v`): `<label> | <text>` lines, log lines with
//! level tags, raw nix lines, and a [`NodeTracker`] giving each node's state.
//!
//! Formats (colmena `src/progress/plain.rs`, `src/job.rs`): a label is
//! right-aligned to the widest node name (`{:>width$} | {}`); it is a node name,
//! `(...)` for a job over several nodes (evaluation, building), or empty for the
//! whole run (`All done!`, `Failed: …`). Log lines carry level tags: 0.4 writes
//! `[INFO ]`/`[ERROR]`, 0.5 ` INFO `/`ERROR `. At the end, each failed job's last
//! log lines come as an `ERROR` block headed `Failed to <verb> <nodes> - Last N
//! lines of logs:` whose lines read `  stderr) …`, ` failure) …`. Raw nix stderr
//! can arrive with no label: it is kept, attributed to the run.
//!
//! nixdeck runs colmena piped, but logs users keep come from terminals too: the
//! spinner view's rows (`<label> <symbol> <elapsed> <text>`) are read as
//! labelled lines, and so are the older wordings of 0.1–0.3 (`Build successful`,
//! `Deployment to X failed.`, `Build of N nodes failed.`).

use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;

use super::lines::{strip_ansi, strip_collector_prefix};

/// A log level tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

/// Who a labelled line is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum Label {
    /// The empty label: the whole run.
    Run,
    /// `(...)`: a job over several nodes.
    Many,
    /// One node.
    Node(String),
}

/// One line of colmena's output, classified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ColmenaLine {
    /// `<label> | <text>`.
    Labeled { label: Label, text: String },
    /// A log line with a level tag.
    Log { level: Level, text: String },
    /// Anything else (raw nix output, a panic message…), trimmed of line ends.
    Raw { text: String },
}

/// Classifies one line (raw terminal text accepted: colours and `\r` are ignored).
pub fn parse_line(line: &str) -> ColmenaLine {
    let plain = strip_ansi(line);
    let plain = strip_markup(strip_collector_prefix(&plain));
    let t = plain.trim_end();
    if let Some((level, text)) = parse_level(t) {
        return ColmenaLine::Log {
            level,
            text: text.to_string(),
        };
    }
    if let Some((label, text)) = parse_labeled(t) {
        return ColmenaLine::Labeled {
            label,
            text: text.to_string(),
        };
    }
    if let Some((label, text)) = parse_spinner(t) {
        return ColmenaLine::Labeled {
            label,
            text: text.to_string(),
        };
    }
    ColmenaLine::Raw {
        text: t.trim_start().to_string(),
    }
}

fn parse_level(t: &str) -> Option<(Level, &str)> {
    const TAGS: [(&str, Level); 10] = [
        ("[TRACE]", Level::Trace),
        ("[DEBUG]", Level::Debug),
        ("[INFO ]", Level::Info),
        ("[WARN ]", Level::Warn),
        ("[ERROR]", Level::Error),
        ("TRACE ", Level::Trace),
        ("DEBUG ", Level::Debug),
        (" INFO ", Level::Info),
        (" WARN ", Level::Warn),
        ("ERROR ", Level::Error),
    ];
    for (tag, level) in TAGS {
        if let Some(rest) = t.strip_prefix(tag) {
            // 0.4 puts a space after the bracket; 0.5's tag already ends with one.
            let rest = if tag.starts_with('[') {
                rest.strip_prefix(' ').unwrap_or(rest)
            } else {
                rest
            };
            return Some((level, rest));
        }
    }
    None
}

/// HTML emphasis that READMEs and web pages wrap around the spinner view's node
/// names (`<b>sigma</b>`); other `<…>` text (a redacted `<hostname>`) is kept.
fn strip_markup(t: &str) -> Cow<'_, str> {
    const TAGS: [&str; 8] = [
        "<b>",
        "</b>",
        "<strong>",
        "</strong>",
        "<i>",
        "</i>",
        "<code>",
        "</code>",
    ];
    if !TAGS.iter().any(|tag| t.contains(tag)) {
        return Cow::Borrowed(t);
    }
    let mut out = t.to_string();
    for tag in TAGS {
        out = out.replace(tag, "");
    }
    Cow::Owned(out)
}

/// The status symbols of colmena's terminal view: done, failed, waiting, and
/// the clock faces of a running job.
fn is_status_symbol(word: &str) -> bool {
    let mut chars = word.chars();
    let Some(c) = chars.next() else {
        return false;
    };
    // An emoji may carry a variation selector.
    if !chars.as_str().trim_matches('\u{fe0f}').is_empty() {
        return false;
    }
    matches!(
        c,
        '\u{2705}' | '\u{274c}' | '\u{231b}' | '\u{23f3}' | '\u{1f501}' | '\u{23f8}' | '\u{26a0}'
    ) || ('\u{1f550}'..='\u{1f567}').contains(&c)
}

/// `12s`, `3m`, `1h`: the elapsed time of a spinner row.
fn is_elapsed(word: &str) -> bool {
    let digits = word.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && matches!(&word[digits..], "s" | "m" | "h" | "ms")
}

/// A row of the terminal (spinner) view: `<label> <symbol> [<elapsed>] <text>`,
/// the label right-aligned, empty for the whole run. Users paste these from
/// their terminals; nixdeck itself runs colmena piped.
fn parse_spinner(t: &str) -> Option<(Label, &str)> {
    let trimmed = t.trim_start();
    let (first, rest) = trimmed.split_once(' ').unwrap_or((trimmed, ""));
    let (name, rest) = if is_status_symbol(first) {
        ("", rest)
    } else {
        let rest = rest.trim_start();
        let (symbol, after) = rest.split_once(' ').unwrap_or((rest, ""));
        if !is_status_symbol(symbol) {
            return None;
        }
        (first, after)
    };
    let rest = rest.trim_start();
    let text = match rest.split_once(' ') {
        Some((time, tail)) if is_elapsed(time) => tail,
        _ if is_elapsed(rest) => "",
        _ => rest,
    };
    let label = if name.is_empty() {
        Label::Run
    } else if name == "(...)" {
        Label::Many
    } else if is_node_name(name) {
        Label::Node(name.to_string())
    } else {
        return None;
    };
    Some((label, text.trim()))
}

fn parse_labeled(t: &str) -> Option<(Label, &str)> {
    let (head, text) = match t.find(" | ") {
        Some(at) => (&t[..at], &t[at + 3..]),
        None => (t.strip_suffix(" |")?, ""),
    };
    let name = head.trim_start();
    let label = if name.is_empty() {
        // The run's label: only padding before the bar.
        Label::Run
    } else if name == "(...)" {
        Label::Many
    } else if is_node_name(name) {
        Label::Node(name.to_string())
    } else {
        return None;
    };
    Some((label, text))
}

/// Whether `s` can be a colmena node name (an attribute name used as a host).
/// Names pasted into issues are often redacted (`<hostname>`, `[redacted]`), so
/// brackets count too.
fn is_node_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(c, '-' | '_' | '.' | '@' | '+' | '<' | '>' | '[' | ']')
        })
        && s != "[...]"
}

/// The nodes named in a list like `alpha, beta, and gamma` or `alpha and beta`;
/// `…, and 5 other nodes` tails are dropped (colmena does not name them).
pub fn parse_node_list(text: &str) -> Vec<String> {
    text.replace(", and ", ", ")
        .replace(" and ", ", ")
        .split(", ")
        .map(str::trim)
        .filter(|n| is_node_name(n))
        .map(str::to_string)
        .collect()
}

/// Where a node is in a deployment.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum NodeState {
    Evaluating,
    Evaluated,
    Building,
    Built,
    Pushing,
    Pushed,
    UploadingKeys,
    Activating,
    Rebooting,
    Succeeded,
    Failed,
}

impl NodeState {
    /// The state's stable id (`evaluating`, `uploading_keys`, `failed`…).
    pub fn id(self) -> &'static str {
        match self {
            NodeState::Evaluating => "evaluating",
            NodeState::Evaluated => "evaluated",
            NodeState::Building => "building",
            NodeState::Built => "built",
            NodeState::Pushing => "pushing",
            NodeState::Pushed => "pushed",
            NodeState::UploadingKeys => "uploading_keys",
            NodeState::Activating => "activating",
            NodeState::Rebooting => "rebooting",
            NodeState::Succeeded => "succeeded",
            NodeState::Failed => "failed",
        }
    }

    /// The step a node in this state is in (for failures reported without one).
    pub fn step(self) -> Option<NodeStep> {
        match self {
            NodeState::Evaluating | NodeState::Evaluated => Some(NodeStep::Evaluate),
            NodeState::Building | NodeState::Built => Some(NodeStep::Build),
            NodeState::Pushing | NodeState::Pushed => Some(NodeStep::Push),
            NodeState::UploadingKeys => Some(NodeStep::UploadKeys),
            NodeState::Activating => Some(NodeStep::Activate),
            NodeState::Rebooting => Some(NodeStep::Reboot),
            NodeState::Succeeded | NodeState::Failed => None,
        }
    }
}

/// The colmena job a node failed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeStep {
    Evaluate,
    Build,
    Push,
    UploadKeys,
    Activate,
    Reboot,
}

impl NodeStep {
    /// The step's stable id (`evaluate`, `build`, `push`, `upload_keys`…).
    pub fn id(self) -> &'static str {
        match self {
            NodeStep::Evaluate => "evaluate",
            NodeStep::Build => "build",
            NodeStep::Push => "push",
            NodeStep::UploadKeys => "upload_keys",
            NodeStep::Activate => "activate",
            NodeStep::Reboot => "reboot",
        }
    }
}

/// Everything the tracker knows about one node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeStatus {
    pub state: NodeState,
    /// Where it failed, when it did.
    pub failed_step: Option<NodeStep>,
    /// colmena's failure message (`Child process exited with error code: 1`).
    pub failure: Option<String>,
    /// Line of the failure (or of the ERROR block header when that came first).
    pub failure_line: Option<usize>,
    /// First and last line about this node.
    pub first_line: usize,
    pub last_line: usize,
    /// Line of the last state change (for the watchdog).
    pub state_line: usize,
    /// Error-looking lines printed while activating, with their line numbers:
    /// kept even when colmena then says `Activation successful`.
    pub activation_errors: Vec<(usize, String)>,
    /// The ERROR block's log lines for this node, with their line numbers.
    pub error_log: Vec<(usize, String)>,
    /// State before keys started uploading, restored when they are uploaded.
    #[serde(skip)]
    before_keys: Option<NodeState>,
}

impl NodeStatus {
    fn new(line: usize, state: NodeState) -> Self {
        Self {
            state,
            failed_step: None,
            failure: None,
            failure_line: None,
            first_line: line,
            last_line: line,
            state_line: line,
            activation_errors: Vec::new(),
            error_log: Vec::new(),
            before_keys: None,
        }
    }
}

/// How a colmena run ended, as far as its output says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RunEnd {
    /// `All done!`.
    AllDone { line: usize },
    /// `Failed: <message>` under the run's label.
    Failed { line: usize, message: String },
}

/// A change the tracker saw, for live progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NodeEvent {
    /// A node moved to a new state.
    State {
        node: String,
        state: NodeState,
        line: usize,
    },
    /// The run ended.
    End { end: RunEnd },
    /// colmena panicked.
    Panic { line: usize, text: String },
}

/// Follows a colmena run line by line and keeps each node's state.
#[derive(Debug, Clone, Default)]
pub struct NodeTracker {
    nodes: BTreeMap<String, NodeStatus>,
    /// The nodes of the last `(...)` evaluation and build jobs, to attribute
    /// their `Evaluated`/`Build failed` lines.
    many_eval: Vec<String>,
    many_build: Vec<String>,
    /// The node an ERROR block is about, while inside it.
    error_block: Option<Vec<String>>,
    end: Option<RunEnd>,
    panic: Option<(usize, String)>,
    /// Lines with no label (raw nix output), with their numbers; the last few.
    unlabeled_errors: Vec<(usize, String)>,
    /// How many nodes colmena said it selected (`Selected all 3 nodes.`).
    selected: Option<usize>,
    /// Failures of a job over several nodes that named none (colmena 0.1's
    /// `(...) Build failed`, `Build of 2 nodes failed.`): line, step, message.
    run_failures: Vec<(usize, Option<NodeStep>, String)>,
    lines: usize,
}

/// How many error-looking lines are kept per node and for the run: enough to
/// explain, bounded whatever a run prints.
const KEPT_LINES: usize = 40;

fn keep(list: &mut Vec<(usize, String)>, line: usize, text: String) {
    if list.len() >= KEPT_LINES {
        list.remove(0);
    }
    list.push((line, text));
}

/// Error-looking text inside a node's activation or a raw nix line.
pub fn looks_like_error(text: &str) -> bool {
    let t = text.trim_start();
    let lower = t.to_ascii_lowercase();
    lower.starts_with("error:")
        || lower.starts_with("error ")
        || lower.starts_with("fatal:")
        || lower.contains("failed to start")
        || lower.contains("the following units failed")
        || (lower.starts_with("activation script snippet") && lower.contains("failed"))
        || lower.starts_with("warning: error(s) occurred")
        || lower.starts_with("traceback (most recent call last)")
        || is_shell_error(t)
}

/// A shell's own error report, `<script>: line <n>: <what>` (bash, also through
/// `sh -c`), or `<cmd>: command not found`: a script the tool ran failed.
pub fn is_shell_error(text: &str) -> bool {
    let t = text.trim_start();
    if t.ends_with(": command not found") {
        return true;
    }
    let Some(at) = t.find(": line ") else {
        return false;
    };
    let rest = &t[at + ": line ".len()..];
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && rest[digits..].starts_with(": ") && !t[..at].contains(' ')
}

impl NodeTracker {
    /// A tracker before the first line.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the next line with its 1-based number; returns the changes it made.
    pub fn feed(&mut self, line_no: usize, line: &str) -> Vec<NodeEvent> {
        self.lines = self.lines.max(line_no);
        let parsed = parse_line(line);
        let mut events = Vec::new();
        match parsed {
            ColmenaLine::Labeled { label, text } => {
                self.error_block = None;
                self.labeled(line_no, label, &text, &mut events);
            }
            ColmenaLine::Log { level, text } => self.log(line_no, level, &text, &mut events),
            ColmenaLine::Raw { text } => {
                if text.starts_with("thread '") && text.contains("panicked at") {
                    if self.panic.is_none() {
                        self.panic = Some((line_no, text.clone()));
                    }
                    events.push(NodeEvent::Panic {
                        line: line_no,
                        text,
                    });
                } else if looks_like_error(&text) {
                    keep(&mut self.unlabeled_errors, line_no, text);
                }
            }
        }
        events
    }

    fn labeled(&mut self, line_no: usize, label: Label, text: &str, events: &mut Vec<NodeEvent>) {
        match label {
            Label::Run => {
                if text.trim() == "All done!" {
                    let end = RunEnd::AllDone { line: line_no };
                    self.end = Some(end.clone());
                    events.push(NodeEvent::End { end });
                } else if let Some(msg) = text.trim().strip_prefix("Failed:") {
                    let end = RunEnd::Failed {
                        line: line_no,
                        message: msg.trim().to_string(),
                    };
                    self.end = Some(end.clone());
                    events.push(NodeEvent::End { end });
                }
            }
            Label::Many => {
                let t = text.trim();
                if let Some(list) = t.strip_prefix("Evaluating ") {
                    self.many_eval = parse_node_list(list);
                    for n in self.many_eval.clone() {
                        self.set(&n, line_no, NodeState::Evaluating, events);
                    }
                } else if let Some(list) = t.strip_prefix("Evaluated ") {
                    for n in parse_node_list(list) {
                        self.set(&n, line_no, NodeState::Evaluated, events);
                    }
                } else if let Some(list) = t.strip_prefix("Building ") {
                    if !list.starts_with('/') && !list.starts_with('"') {
                        self.many_build = parse_node_list(list);
                        for n in self.many_build.clone() {
                            self.set(&n, line_no, NodeState::Building, events);
                        }
                    }
                } else if let Some(list) = t.strip_prefix("Built ") {
                    if !list.starts_with('"') && !list.starts_with('/') {
                        for n in parse_node_list(list) {
                            self.set(&n, line_no, NodeState::Built, events);
                        }
                    }
                } else if let Some(msg) = t.strip_prefix("Evaluation failed:") {
                    if self.many_eval.is_empty() {
                        self.run_failures.push((
                            line_no,
                            Some(NodeStep::Evaluate),
                            msg.trim().to_string(),
                        ));
                    }
                    for n in self.many_eval.clone() {
                        self.fail(&n, line_no, NodeStep::Evaluate, msg.trim(), events);
                    }
                } else if let Some(msg) = t.strip_prefix("Build failed:") {
                    if self.many_build.is_empty() {
                        self.run_failures.push((
                            line_no,
                            Some(NodeStep::Build),
                            msg.trim().to_string(),
                        ));
                    }
                    for n in self.many_build.clone() {
                        self.fail(&n, line_no, NodeStep::Build, msg.trim(), events);
                    }
                }
            }
            Label::Node(node) => self.node_line(line_no, &node, text, events),
        }
    }

    fn node_line(&mut self, line_no: usize, node: &str, text: &str, events: &mut Vec<NodeEvent>) {
        let t = text.trim();
        if let Some(status) = self.nodes.get_mut(node) {
            status.last_line = line_no;
        }
        let state = self.nodes.get(node).map(|s| s.state);
        if t.starts_with("Evaluating ") {
            self.set(node, line_no, NodeState::Evaluating, events);
        } else if t.starts_with("Evaluated ") {
            self.set(node, line_no, NodeState::Evaluated, events);
        } else if let Some(msg) = t.strip_prefix("Evaluation failed:") {
            self.fail(node, line_no, NodeStep::Evaluate, msg.trim(), events);
        } else if t.starts_with("Building ") {
            self.set(node, line_no, NodeState::Building, events);
        } else if t.starts_with("Built ") || t == "Build successful" {
            self.set(node, line_no, NodeState::Built, events);
        } else if let Some(msg) = t.strip_prefix("Build failed:") {
            self.fail(node, line_no, NodeStep::Build, msg.trim(), events);
        } else if t == "Pushing system closure" {
            self.set(node, line_no, NodeState::Pushing, events);
        } else if t == "Pushed system closure" {
            self.set(node, line_no, NodeState::Pushed, events);
        } else if let Some(msg) = t.strip_prefix("Push failed:") {
            self.fail(node, line_no, NodeStep::Push, msg.trim(), events);
        } else if t == "Uploading keys" || (t.starts_with("Uploading ") && t.contains("keys...")) {
            if state != Some(NodeState::UploadingKeys) {
                let before = state;
                self.set(node, line_no, NodeState::UploadingKeys, events);
                if let Some(s) = self.nodes.get_mut(node) {
                    s.before_keys = before;
                }
            }
        } else if t.starts_with("Uploaded keys") {
            let back = self
                .nodes
                .get_mut(node)
                .and_then(|s| s.before_keys.take())
                .map(|b| {
                    if b == NodeState::Activating {
                        NodeState::Succeeded
                    } else {
                        b
                    }
                })
                .unwrap_or(NodeState::Succeeded);
            self.set(node, line_no, back, events);
        } else if let Some(msg) = t.strip_prefix("Key upload failed:") {
            self.fail(node, line_no, NodeStep::UploadKeys, msg.trim(), events);
        } else if t == "Activating system profile" {
            self.set(node, line_no, NodeState::Activating, events);
        } else if t.starts_with("Activation successful")
            || t == "Will be activated next boot"
            || t.starts_with("Dry activation successful")
        {
            self.set(node, line_no, NodeState::Succeeded, events);
        } else if let Some(msg) = t.strip_prefix("Activation failed:") {
            self.fail(node, line_no, NodeStep::Activate, msg.trim(), events);
        } else if t == "Rebooting" || t == "Waiting for reboot" {
            self.set(node, line_no, NodeState::Rebooting, events);
        } else if t == "Rebooted" {
            self.set(node, line_no, NodeState::Succeeded, events);
        } else if let Some(msg) = t.strip_prefix("Reboot failed:") {
            self.fail(node, line_no, NodeStep::Reboot, msg.trim(), events);
        } else if let Some(msg) = t.strip_prefix("Failed:") {
            let step = state
                .and_then(NodeState::step)
                .unwrap_or(NodeStep::Activate);
            self.fail(node, line_no, step, msg.trim(), events);
        } else if state == Some(NodeState::Activating) && looks_like_error(t) {
            if let Some(s) = self.nodes.get_mut(node) {
                keep(&mut s.activation_errors, line_no, t.to_string());
            }
        } else if !self.nodes.contains_key(node) {
            // First sight of a node through an ordinary line (e.g. build output).
            self.nodes.insert(
                node.to_string(),
                NodeStatus::new(line_no, NodeState::Evaluating),
            );
        }
    }

    fn log(&mut self, line_no: usize, level: Level, text: &str, events: &mut Vec<NodeEvent>) {
        if level != Level::Error {
            self.error_block = None;
            if level == Level::Info {
                if let Some(n) = selected_count(text) {
                    self.selected = Some(n);
                }
            }
            return;
        }
        if let Some(header) = ErrorHeader::parse(text) {
            match header {
                ErrorHeader::Nodes { step, nodes } => {
                    for n in &nodes {
                        let status = self
                            .nodes
                            .entry(n.clone())
                            .or_insert_with(|| NodeStatus::new(line_no, NodeState::Failed));
                        if status.state != NodeState::Failed || status.state_line == line_no {
                            status.state = NodeState::Failed;
                            status.state_line = line_no;
                            // Often the only word of a failure (a pasted ERROR block).
                            events.push(NodeEvent::State {
                                node: n.clone(),
                                state: NodeState::Failed,
                                line: line_no,
                            });
                        }
                        if status.failed_step.is_none() {
                            status.failed_step = step;
                        }
                        if status.failure_line.is_none() {
                            status.failure_line = Some(line_no);
                        }
                    }
                    self.error_block = Some(nodes);
                }
                ErrorHeader::Unnamed { step } => {
                    if let Some(step) = step {
                        if !self.run_failures.iter().any(|(_, s, _)| *s == Some(step)) {
                            self.run_failures.push((line_no, Some(step), String::new()));
                        }
                    }
                    self.error_block = Some(Vec::new());
                }
            }
            return;
        }
        if let Some(msg) = text.trim().strip_prefix("Operation failed with error:") {
            // colmena's last words when anything failed.
            if !matches!(self.end, Some(RunEnd::Failed { .. })) {
                self.end = Some(RunEnd::Failed {
                    line: line_no,
                    message: msg.trim().to_string(),
                });
            }
            return;
        }
        match self.error_block.clone() {
            Some(nodes) if !nodes.is_empty() => {
                let entry = text.trim_start();
                for n in nodes {
                    if let Some(s) = self.nodes.get_mut(&n) {
                        keep(&mut s.error_log, line_no, entry.to_string());
                        if s.failure.is_none() {
                            if let Some(msg) = entry.strip_prefix("failure)") {
                                s.failure = Some(msg.trim().to_string());
                            }
                        }
                    }
                }
            }
            _ => keep(&mut self.unlabeled_errors, line_no, text.to_string()),
        }
    }

    fn set(&mut self, node: &str, line_no: usize, state: NodeState, events: &mut Vec<NodeEvent>) {
        let status = self
            .nodes
            .entry(node.to_string())
            .or_insert_with(|| NodeStatus::new(line_no, state));
        // A failed node stays failed: colmena prints nothing after that but the summary.
        if status.state == NodeState::Failed && state != NodeState::Failed {
            return;
        }
        status.state = state;
        status.state_line = line_no;
        status.last_line = line_no;
        events.push(NodeEvent::State {
            node: node.to_string(),
            state,
            line: line_no,
        });
    }

    fn fail(
        &mut self,
        node: &str,
        line_no: usize,
        step: NodeStep,
        message: &str,
        events: &mut Vec<NodeEvent>,
    ) {
        self.set(node, line_no, NodeState::Failed, events);
        if let Some(s) = self.nodes.get_mut(node) {
            s.failed_step.get_or_insert(step);
            s.failure.get_or_insert_with(|| message.to_string());
            s.failure_line.get_or_insert(line_no);
        }
    }

    /// Every node seen, by name.
    pub fn nodes(&self) -> &BTreeMap<String, NodeStatus> {
        &self.nodes
    }

    /// How the run ended, if its output said so.
    pub fn end(&self) -> Option<&RunEnd> {
        self.end.as_ref()
    }

    /// The first panic line: its number and text.
    pub fn panic(&self) -> Option<(usize, &str)> {
        self.panic.as_ref().map(|(l, t)| (*l, t.as_str()))
    }

    /// Error-looking lines that belong to no node (raw nix output, bare `ERROR` logs).
    pub fn unlabeled_errors(&self) -> &[(usize, String)] {
        &self.unlabeled_errors
    }

    /// How many nodes colmena selected, when it said so.
    pub fn selected(&self) -> Option<usize> {
        self.selected
    }

    /// Failures of jobs that named no node: line, step, message.
    pub fn run_failures(&self) -> &[(usize, Option<NodeStep>, String)] {
        &self.run_failures
    }

    /// The highest line number fed.
    pub fn lines_seen(&self) -> usize {
        self.lines
    }
}

/// `Selected all 3 nodes.` / `Selected 2 out of 45 hosts.` → the count.
fn selected_count(text: &str) -> Option<usize> {
    let rest = text.trim().strip_prefix("Selected ")?;
    let rest = rest.strip_prefix("all ").unwrap_or(rest);
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The header of an ERROR block: who failed, and in which job.
enum ErrorHeader {
    Nodes {
        step: Option<NodeStep>,
        nodes: Vec<String>,
    },
    /// A block about no node in particular (`complete requested operation`,
    /// 0.1's `Build of 2 nodes failed.`).
    Unnamed { step: Option<NodeStep> },
}

impl ErrorHeader {
    fn parse(text: &str) -> Option<ErrorHeader> {
        let t = text.trim();
        if !t.ends_with("lines of logs:") {
            return None;
        }
        // 0.2+: `Failed to deploy to alpha - Last 5 lines of logs:`
        if let Some((verb_nodes, _)) = t.split_once(" - Last ") {
            let rest = verb_nodes.strip_prefix("Failed to ")?;
            let (step, nodes) = failure_summary(rest);
            let nodes = parse_node_list(nodes);
            return Some(if nodes.is_empty() {
                ErrorHeader::Unnamed { step }
            } else {
                ErrorHeader::Nodes { step, nodes }
            });
        }
        // 0.1: `Deployment to alpha failed. Last 3 lines of logs:`
        if let Some(rest) = t.strip_prefix("Deployment to ") {
            let (nodes, _) = rest.split_once(" failed.")?;
            return Some(ErrorHeader::Nodes {
                step: Some(NodeStep::Activate),
                nodes: parse_node_list(nodes),
            });
        }
        // 0.1: `Build of 2 nodes failed. Last 10 lines of logs:`
        if t.starts_with("Build of ") && t.contains(" failed.") {
            return Some(ErrorHeader::Unnamed {
                step: Some(NodeStep::Build),
            });
        }
        None
    }
}

/// `deploy to alpha` → (Activate, "alpha"), from colmena's failure summaries.
fn failure_summary(rest: &str) -> (Option<NodeStep>, &str) {
    const VERBS: [(&str, NodeStep); 7] = [
        ("evaluate ", NodeStep::Evaluate),
        ("build ", NodeStep::Build),
        ("push system closure to ", NodeStep::Push),
        ("upload keys to ", NodeStep::UploadKeys),
        ("deploy to ", NodeStep::Activate),
        ("activate ", NodeStep::Activate),
        ("reboot ", NodeStep::Reboot),
    ];
    for (verb, step) in VERBS {
        if let Some(nodes) = rest.strip_prefix(verb) {
            return (Some(step), nodes);
        }
    }
    let nodes = rest.strip_prefix("complete job on ").unwrap_or(rest);
    (None, nodes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track(lines: &[&str]) -> NodeTracker {
        let mut t = NodeTracker::new();
        for (i, l) in lines.iter().enumerate() {
            t.feed(i + 1, l);
        }
        t
    }

    #[test]
    fn labels_padded_and_aligned() {
        assert_eq!(
            parse_line("      alpha | Pushing system closure"),
            ColmenaLine::Labeled {
                label: Label::Node("alpha".into()),
                text: "Pushing system closure".into()
            }
        );
        assert_eq!(
            parse_line("      (...) | Evaluating alpha and beta"),
            ColmenaLine::Labeled {
                label: Label::Many,
                text: "Evaluating alpha and beta".into()
            }
        );
        assert_eq!(
            parse_line("            | All done!\r"),
            ColmenaLine::Labeled {
                label: Label::Run,
                text: "All done!".into()
            }
        );
        // Text containing the separator keeps it.
        assert_eq!(
            parse_line("db-1 | a | b"),
            ColmenaLine::Labeled {
                label: Label::Node("db-1".into()),
                text: "a | b".into()
            }
        );
        // An empty text after the bar.
        assert_eq!(
            parse_line("  web-2 |"),
            ColmenaLine::Labeled {
                label: Label::Node("web-2".into()),
                text: "".into()
            }
        );
        // Coloured labels.
        assert_eq!(
            parse_line("\x1b[1;32m  alpha\x1b[0m | \x1b[32mActivation successful\x1b[0m"),
            ColmenaLine::Labeled {
                label: Label::Node("alpha".into()),
                text: "Activation successful".into()
            }
        );
    }

    #[test]
    fn level_tags_old_and_new() {
        assert_eq!(
            parse_line("[INFO ] Using flake: git+file:///home/a/infra"),
            ColmenaLine::Log {
                level: Level::Info,
                text: "Using flake: git+file:///home/a/infra".into()
            }
        );
        assert_eq!(
            parse_line(" INFO Selected 2 out of 3 hosts."),
            ColmenaLine::Log {
                level: Level::Info,
                text: "Selected 2 out of 3 hosts.".into()
            }
        );
        assert_eq!(
            parse_line("ERROR   stderr) error: builder failed"),
            ColmenaLine::Log {
                level: Level::Error,
                text: "  stderr) error: builder failed".into()
            }
        );
        assert_eq!(
            parse_line("[ERROR] Failed to deploy to beta - Last 3 lines of logs:"),
            ColmenaLine::Log {
                level: Level::Error,
                text: "Failed to deploy to beta - Last 3 lines of logs:".into()
            }
        );
        assert_eq!(
            parse_line(" WARN Some hosts are missing"),
            ColmenaLine::Log {
                level: Level::Warn,
                text: "Some hosts are missing".into()
            }
        );
    }

    #[test]
    fn raw_nix_lines_are_raw() {
        assert_eq!(
            parse_line("error: attribute 'foo' missing"),
            ColmenaLine::Raw {
                text: "error: attribute 'foo' missing".into()
            }
        );
        assert_eq!(
            parse_line("these 3 derivations will be built:"),
            ColmenaLine::Raw {
                text: "these 3 derivations will be built:".into()
            }
        );
        // A pipe in raw text with spaces in what would be the label.
        assert!(matches!(
            parse_line("foo bar | baz"),
            ColmenaLine::Raw { .. }
        ));
    }

    #[test]
    fn spinner_rows_are_labelled_lines() {
        assert_eq!(
            parse_line("  cloudy \u{274c} 61s Activation failed: Child process exited with error code: 4   "),
            ColmenaLine::Labeled {
                label: Label::Node("cloudy".into()),
                text: "Activation failed: Child process exited with error code: 4".into()
            }
        );
        // The run's own row has no label; a row may lack the elapsed time.
        assert_eq!(
            parse_line("       \u{2705} 2s All done!"),
            ColmenaLine::Labeled {
                label: Label::Run,
                text: "All done!".into()
            }
        );
        assert_eq!(
            parse_line("dns-1 \u{2705} Will be activated next boot"),
            ColmenaLine::Labeled {
                label: Label::Node("dns-1".into()),
                text: "Will be activated next boot".into()
            }
        );
        // A running job's clock face, README markup and a redacted name.
        assert_eq!(
            parse_line("  <b>sigma</b> \u{1f557} 7s copying path '/nix/store/x'"),
            ColmenaLine::Labeled {
                label: Label::Node("sigma".into()),
                text: "copying path '/nix/store/x'".into()
            }
        );
        assert_eq!(
            parse_line("<hostname> \u{2705} 5s Evaluated <hostname>"),
            ColmenaLine::Labeled {
                label: Label::Node("<hostname>".into()),
                text: "Evaluated <hostname>".into()
            }
        );
        assert!(matches!(
            parse_line("Warning: Permanently added 'h' (ED25519)"),
            ColmenaLine::Raw { .. }
        ));
    }

    #[test]
    fn old_wordings_and_the_selected_count() {
        let t = track(&[
            "[INFO ] Selected 2 out of 8 hosts.",
            "a \u{2705} 0s Build successful",
            "a \u{2705} 1s Activation successful",
            "[ERROR] Deployment to [redacted] failed. Last 3 lines of logs:",
            "[ERROR] chown: invalid user: 'x'",
            "   (...) \u{274c} 1s Build failed: Nix exited with error code: 1",
            "[ERROR] Build of 2 nodes failed. Last 10 lines of logs:",
            "[ERROR] -----",
            "[ERROR] Operation failed with error: Nix exited with error code: 1",
        ]);
        assert_eq!(t.selected(), Some(2));
        assert_eq!(t.nodes()["a"].state, NodeState::Succeeded);
        let r = &t.nodes()["[redacted]"];
        assert_eq!(r.state, NodeState::Failed);
        assert_eq!(r.error_log.len(), 1);
        assert_eq!(t.run_failures().len(), 1);
        assert_eq!(t.run_failures()[0].1, Some(NodeStep::Build));
        assert!(matches!(t.end(), Some(RunEnd::Failed { line: 9, .. })));
    }

    #[test]
    fn shell_errors() {
        assert!(is_shell_error(
            "/nix/var/nix/profiles/system/sw/bin/bash: line 10: /run/x: No such file or directory"
        ));
        assert!(is_shell_error("bash: line 1: printing: command not found"));
        assert!(!is_shell_error("see line 10: of the manual"));
        assert!(!is_shell_error("installing the boot loader..."));
    }

    #[test]
    fn node_lists() {
        assert_eq!(parse_node_list("alpha"), ["alpha"]);
        assert_eq!(parse_node_list("alpha and beta"), ["alpha", "beta"]);
        assert_eq!(
            parse_node_list("alpha, beta, and gamma"),
            ["alpha", "beta", "gamma"]
        );
        assert_eq!(
            parse_node_list("alpha, beta, and 5 other nodes"),
            ["alpha", "beta"]
        );
    }

    #[test]
    fn a_successful_run() {
        let t = track(&[
            "[INFO ] Enumerating nodes...",
            "(...) | Evaluating alpha and beta",
            "(...) | Evaluated alpha and beta",
            "(...) | Building alpha and beta",
            "(...) | Built alpha and beta",
            "alpha | Pushing system closure",
            " beta | Pushing system closure",
            "alpha | Pushed system closure",
            "alpha | Uploading keys",
            "alpha | Uploaded keys (pre-activation)",
            "alpha | Activating system profile",
            " beta | Pushed system closure",
            " beta | Activating system profile",
            "alpha | Activation successful",
            " beta | Activation successful",
            "      | All done!",
        ]);
        assert_eq!(t.nodes()["alpha"].state, NodeState::Succeeded);
        assert_eq!(t.nodes()["beta"].state, NodeState::Succeeded);
        assert_eq!(t.end(), Some(&RunEnd::AllDone { line: 16 }));
        assert_eq!(t.nodes()["alpha"].first_line, 2);
    }

    #[test]
    fn states_in_progress() {
        let t = track(&[
            "(...) | Evaluating alpha, beta, and gamma",
            "alpha | Pushing system closure",
            " beta | Uploading keys",
            "gamma | Activating system profile",
            "delta | Rebooting",
        ]);
        let st = |n: &str| t.nodes()[n].state;
        assert_eq!(st("alpha"), NodeState::Pushing);
        assert_eq!(st("beta"), NodeState::UploadingKeys);
        assert_eq!(st("gamma"), NodeState::Activating);
        assert_eq!(st("delta"), NodeState::Rebooting);
        assert_eq!(t.end(), None);
    }

    #[test]
    fn failures_per_step() {
        let t = track(&[
            "(...) | Evaluating a, b, and c",
            "(...) | Evaluated a, b, and c",
            "(...) | Building a, b, and c",
            "(...) | Build failed: Child process exited with error code: 1",
            "      | Failed: Child process exited with error code: 1",
        ]);
        for n in ["a", "b", "c"] {
            assert_eq!(t.nodes()[n].state, NodeState::Failed);
            assert_eq!(t.nodes()[n].failed_step, Some(NodeStep::Build));
        }
        assert!(matches!(t.end(), Some(RunEnd::Failed { line: 5, .. })));

        let t = track(&[
            "x | Pushing system closure",
            "x | Push failed: Child process exited with error code: 1",
            "y | Activating system profile",
            "y | Activation failed: Child process exited with error code: 4",
            "z | Uploading keys",
            "z | Key upload failed: Child process exited with error code: 255",
            "w | Rebooting",
            "w | Reboot failed: Timed out waiting for host to reboot",
        ]);
        assert_eq!(t.nodes()["x"].failed_step, Some(NodeStep::Push));
        assert_eq!(t.nodes()["y"].failed_step, Some(NodeStep::Activate));
        assert_eq!(
            t.nodes()["y"].failure.as_deref(),
            Some("Child process exited with error code: 4")
        );
        assert_eq!(t.nodes()["z"].failed_step, Some(NodeStep::UploadKeys));
        assert_eq!(t.nodes()["w"].failed_step, Some(NodeStep::Reboot));
        assert_eq!(t.nodes()["w"].failure_line, Some(8));
    }

    #[test]
    fn keys_reboots_and_bare_failures() {
        let t = track(&[
            "a | Pushed system closure",
            "a | Uploading keys",
            "a | Uploaded keys (pre-activation)",
            "a | Activating system profile",
            "a | Activation successful",
            "a | Uploading post-activation keys...",
            "a | Uploaded keys (post-activation)",
            "b | Activating system profile",
            "b | Will be activated next boot",
            "b | Rebooting",
            "b | Rebooted",
            "c | Activating system profile",
            "c | Failed: Child process exited with error code: 1",
            "d | Dry activation successful",
        ]);
        let st = |n: &str| t.nodes()[n].state;
        assert_eq!(st("a"), NodeState::Succeeded);
        assert_eq!(st("b"), NodeState::Succeeded);
        assert_eq!(st("c"), NodeState::Failed);
        assert_eq!(t.nodes()["c"].failed_step, Some(NodeStep::Activate));
        assert_eq!(st("d"), NodeState::Succeeded);
        // Keys uploaded before activation return the node to where it was.
        let t = track(&[
            "a | Pushed system closure",
            "a | Uploading keys",
            "a | Uploaded keys",
        ]);
        assert_eq!(t.nodes()["a"].state, NodeState::Pushed);
        // A failed node stays failed whatever comes later.
        let t = track(&["a | Push failed: x", "a | Activation successful"]);
        assert_eq!(t.nodes()["a"].state, NodeState::Failed);
    }

    #[test]
    fn events_report_state_changes_and_the_end() {
        let mut t = NodeTracker::new();
        assert_eq!(
            t.feed(1, "  web | Pushing system closure"),
            [NodeEvent::State {
                node: "web".into(),
                state: NodeState::Pushing,
                line: 1
            }]
        );
        assert_eq!(t.feed(2, "  web | copying path '/nix/store/x'"), []);
        assert_eq!(
            t.feed(3, "      | All done!"),
            [NodeEvent::End {
                end: RunEnd::AllDone { line: 3 }
            }]
        );
    }

    #[test]
    fn activation_errors_are_kept_after_success() {
        let t = track(&[
            "web | Activating system profile",
            "web | activating the configuration...",
            "web | Activation script snippet 'users' failed (1)",
            "web | warning: the following units failed: nginx.service",
            "web | Activation successful",
        ]);
        let web = &t.nodes()["web"];
        assert_eq!(web.state, NodeState::Succeeded);
        assert_eq!(web.activation_errors.len(), 2);
        assert_eq!(web.activation_errors[0].0, 3);
    }

    #[test]
    fn error_blocks_attach_to_nodes() {
        let t = track(&[
            "beta | Activating system profile",
            "beta | Activation failed: Child process exited with error code: 4",
            "     | Failed: Child process exited with error code: 4",
            "ERROR Failed to deploy to beta - Last 3 lines of logs:",
            "ERROR   state) Running",
            "ERROR   stderr) Failed to start nginx.service",
            "ERROR  failure) Child process exited with error code: 4",
        ]);
        let beta = &t.nodes()["beta"];
        assert_eq!(beta.error_log.len(), 3);
        assert_eq!(
            beta.error_log[1],
            (6, "stderr) Failed to start nginx.service".into())
        );
        assert_eq!(beta.failure_line, Some(2));
    }

    #[test]
    fn error_block_alone_marks_failure() {
        let t = track(&[
            "[ERROR] Failed to push system closure to gamma - Last 1 lines of logs:",
            "[ERROR]  failure) Child process exited with error code: 1",
        ]);
        let g = &t.nodes()["gamma"];
        assert_eq!(g.state, NodeState::Failed);
        assert_eq!(g.failed_step, Some(NodeStep::Push));
        assert_eq!(
            g.failure.as_deref(),
            Some("Child process exited with error code: 1")
        );
    }

    #[test]
    fn panic_after_success() {
        let t = track(&[
            "a | Activation successful",
            "  | All done!",
            "thread 'main' panicked at src/command/apply.rs:120:50:",
        ]);
        assert_eq!(t.nodes()["a"].state, NodeState::Succeeded);
        assert_eq!(t.panic().map(|p| p.0), Some(3));
        assert!(matches!(t.end(), Some(RunEnd::AllDone { .. })));
    }

    #[test]
    fn unlabeled_nix_errors_are_kept() {
        let t = track(&[
            "error: undefined variable 'pkgs'",
            "       at /x/flake.nix:3:5:",
        ]);
        assert_eq!(t.unlabeled_errors().len(), 1);
    }
}
