//! Failures explained: reads the output of a nixos-anywhere or colmena run (live
//! lines or a saved log) and says how it ended, where, and what to do.
//!
//! The tools rarely say why they failed: nixos-anywhere mostly goes silent,
//! retries forever or prints a success line after an error, and colmena's exit
//! status can contradict its per-node lines. So the verdict comes from the shape
//! of the output, with these rules:
//! - an error the run moved past (a later step started, `Done!`/`All done!`
//!   came, or the exit status is 0) is a warning, and makes the run
//!   "succeeded with warnings", never clean;
//! - an error in the step where the log ends, an `aborted:` line, a failed
//!   colmena node or a non-zero exit status make it "failed";
//! - a log that ends with no final result is "incomplete", with what it was
//!   waiting for when that is recognisable (kexec that never came back, a retry
//!   loop).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::colmena::{self as colmena_output, ColmenaLine, Label, NodeState};
use super::lines::split_lines;
use super::nixos_anywhere::{parse_abort, parse_marker, Step};

mod anywhere;
mod colmena;
mod shapes;
#[cfg(test)]
mod tests;

/// Which tool wrote the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
#[ts(rename = "ExplainTool")]
pub enum Tool {
    NixosAnywhere,
    Colmena,
}

impl Tool {
    /// The tool's command name.
    pub fn name(self) -> &'static str {
        match self {
            Tool::NixosAnywhere => "nixos-anywhere",
            Tool::Colmena => "colmena",
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(rename = "ExplainOutcome")]
pub enum Outcome {
    Succeeded,
    /// It finished, but printed errors on the way (or crashed after finishing).
    SucceededWithWarnings,
    Failed,
    /// The output ends without a final result: cut, or still running.
    Incomplete,
}

impl Outcome {
    /// The outcome's stable id.
    pub fn id(self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::SucceededWithWarnings => "succeeded_with_warnings",
            Outcome::Failed => "failed",
            Outcome::Incomplete => "incomplete",
        }
    }
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// The failure shapes nixdeck recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// ssh refused a private key whose file others can read.
    KeyPermissions,
    /// The target refused the login.
    AuthFailed,
    /// The target could not be reached (refused, timed out, no route, no name).
    Unreachable,
    /// The target's host key changed.
    HostKeyChanged,
    /// `Uploading install SSH keys` retried again and again.
    UploadKeysLoop,
    /// `tar`, `cpio` or `setsid --wait` missing on the target.
    MissingTool,
    /// Neither root nor `sudo`/`doas`.
    NoPrivilegeEscalation,
    /// Not x86_64 or aarch64.
    UnsupportedArch,
    /// Not Linux.
    NotLinux,
    /// The host facts could not be read.
    FactsFailed,
    /// kexec itself failed.
    KexecFailed,
    /// The target went away for kexec and never came back.
    KexecNoReturn,
    /// disko found a disk in use.
    DiskBusy,
    /// disko did not find a disk.
    DiskMissing,
    /// A disk or the installer's RAM disk filled up.
    OutOfSpace,
    /// Errors inside `Installing NixOS`, then a success line.
    InstallErrorThenSuccess,
    /// Errors inside `Installing NixOS` and no success.
    InstallFailed,
    /// The configuration did not evaluate.
    NixEvalError,
    /// A derivation did not build.
    NixBuildError,
    /// Any other `aborted:` line.
    Aborted,
    /// A non-zero exit status the output does not explain.
    ExitStatus,
    /// colmena: a node's evaluation failed.
    EvalFailed,
    /// colmena: a node's build failed.
    BuildFailed,
    /// colmena: copying a closure to a node failed.
    PushFailed,
    /// colmena: uploading keys to a node failed.
    KeyUploadFailed,
    /// colmena: activating a node failed.
    ActivationFailed,
    /// colmena: rebooting a node failed.
    RebootFailed,
    /// colmena: a node printed errors while activating, then `Activation successful`.
    ActivationWarnings,
    /// colmena panicked (exit 101).
    ColmenaPanic,
    /// disko or a partitioning tool it ran reported an error.
    DiskoFailed,
    /// A script (nixos-anywhere's own, a wrapper's, one run on the target)
    /// stopped with an error or a non-zero `exit`.
    ScriptError,
    /// A program crashed instead of reporting an error (nix's `Too many root
    /// sets`, an uncaught exception, a signal).
    ToolCrashed,
    /// The run asked a question on a terminal (a password, a LUKS
    /// passphrase), which nobody can answer in nixdeck.
    WaitedOnPrompt,
}

impl FindingKind {
    /// The kind's short stable id (`key_permissions`, `upload_keys_loop`…).
    pub fn id(self) -> &'static str {
        match self {
            FindingKind::KeyPermissions => "key_permissions",
            FindingKind::AuthFailed => "auth_failed",
            FindingKind::Unreachable => "unreachable",
            FindingKind::HostKeyChanged => "host_key_changed",
            FindingKind::UploadKeysLoop => "upload_keys_loop",
            FindingKind::MissingTool => "missing_tool",
            FindingKind::NoPrivilegeEscalation => "no_privilege_escalation",
            FindingKind::UnsupportedArch => "unsupported_arch",
            FindingKind::NotLinux => "not_linux",
            FindingKind::FactsFailed => "facts_failed",
            FindingKind::KexecFailed => "kexec_failed",
            FindingKind::KexecNoReturn => "kexec_no_return",
            FindingKind::DiskBusy => "disk_busy",
            FindingKind::DiskMissing => "disk_missing",
            FindingKind::OutOfSpace => "out_of_space",
            FindingKind::InstallErrorThenSuccess => "install_error_then_success",
            FindingKind::InstallFailed => "install_failed",
            FindingKind::NixEvalError => "nix_eval_error",
            FindingKind::NixBuildError => "nix_build_error",
            FindingKind::Aborted => "aborted",
            FindingKind::ExitStatus => "exit_status",
            FindingKind::EvalFailed => "eval_failed",
            FindingKind::BuildFailed => "build_failed",
            FindingKind::PushFailed => "push_failed",
            FindingKind::KeyUploadFailed => "key_upload_failed",
            FindingKind::ActivationFailed => "activation_failed",
            FindingKind::RebootFailed => "reboot_failed",
            FindingKind::ActivationWarnings => "activation_warnings",
            FindingKind::ColmenaPanic => "colmena_panic",
            FindingKind::DiskoFailed => "disko_failed",
            FindingKind::ScriptError => "script_error",
            FindingKind::ToolCrashed => "tool_crashed",
            FindingKind::WaitedOnPrompt => "waited_on_prompt",
        }
    }

    /// Shapes where the run waits or loops rather than ends.
    fn is_hang(self) -> bool {
        matches!(
            self,
            FindingKind::KexecNoReturn | FindingKind::UploadKeysLoop
        )
    }
}

/// A line of the output quoted as evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(rename = "ExplainQuote")]
pub struct Quote {
    /// 1-based line number.
    pub line: usize,
    /// The line's plain text.
    pub text: String,
}

/// One thing the recogniser found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(rename = "ExplainFinding")]
pub struct Finding {
    pub severity: Severity,
    pub kind: FindingKind,
    /// 1-based line where it shows (the decisive line).
    pub line: usize,
    /// What it means and what to do.
    pub message: String,
    /// The nixos-anywhere step it happened in.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub step: Option<String>,
    /// The colmena node it is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub node: Option<String>,
    /// The decisive lines.
    pub quote: Vec<Quote>,
}

/// The analysis of one run's output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Explanation {
    pub tool: Tool,
    pub outcome: Outcome,
    /// nixos-anywhere's steps (empty for colmena).
    pub steps: Vec<Step>,
    /// The last step's marker text.
    pub last_step: Option<String>,
    /// colmena nodes and their last state (empty for nixos-anywhere).
    pub nodes: BTreeMap<String, NodeState>,
    pub findings: Vec<Finding>,
    /// The exit status, when known (a captured log has none).
    pub exit_status: Option<i32>,
    /// How many lines were read.
    pub lines: usize,
    /// One or two sentences for the result view.
    pub summary: String,
}

/// Guesses which tool wrote these lines: nixos-anywhere step markers and
/// `aborted:` lines against colmena's labelled lines and level tags.
pub fn detect_tool(lines: &[String]) -> Tool {
    let mut anywhere = 0usize;
    let mut colmena_score = 0usize;
    for line in lines.iter().take(20_000) {
        if parse_marker(line).is_some() || parse_abort(line).is_some() {
            anywhere += 3;
            continue;
        }
        match colmena_output::parse_line(line) {
            ColmenaLine::Log { .. } => colmena_score += 1,
            ColmenaLine::Labeled { label, text } => {
                let known = [
                    "Evaluating ",
                    "Evaluated ",
                    "Building ",
                    "Built ",
                    "Pushing system closure",
                    "Pushed system closure",
                    "Activating system profile",
                    "Activation ",
                    "All done!",
                    "Uploading keys",
                ];
                if known.iter().any(|k| text.starts_with(k)) {
                    colmena_score += 3;
                } else if label != Label::Run {
                    colmena_score += 1;
                }
            }
            ColmenaLine::Raw { text } => {
                if text.contains("ssh-copy-id") || text.contains("machine will boot into nixos") {
                    anywhere += 1;
                } else if text.starts_with("thread '") && text.contains("panicked at") {
                    // A Rust panic: colmena's, never the shell script's.
                    colmena_score += 3;
                }
                // The command line a user pasted with the output.
                match invoked_tool(&text) {
                    Some(Tool::Colmena) => colmena_score += 5,
                    Some(Tool::NixosAnywhere) => anywhere += 5,
                    None => {}
                }
                // Level tags inside a line whose breaks were lost.
                if text.contains("[INFO ] ") || text.contains("[ERROR] ") {
                    colmena_score += 1;
                }
            }
        }
    }
    if colmena_score > anywhere {
        Tool::Colmena
    } else {
        Tool::NixosAnywhere
    }
}

/// The tool a pasted command line runs (`$ colmena apply …`,
/// `nix run github:nix-community/nixos-anywhere -- …`), if it is one.
fn invoked_tool(text: &str) -> Option<Tool> {
    let words: Vec<&str> = text.split_whitespace().take(12).collect();
    for (i, w) in words.iter().enumerate() {
        let name = w.rsplit(['/', '#', ':']).next().unwrap_or(w);
        let next = words.get(i + 1).copied().unwrap_or("");
        if name == "colmena"
            && matches!(
                next,
                "apply" | "build" | "upload-keys" | "apply-local" | "eval" | "exec" | "--" | "repl"
            )
        {
            return Some(Tool::Colmena);
        }
        if name == "nixos-anywhere" || (name.starts_with("nixos-anywhere") && w.contains('#')) {
            return Some(Tool::NixosAnywhere);
        }
    }
    None
}

/// Reads a run's output line by line and says at any point what it means:
/// the one recogniser behind `nixdeck log explain` and the live job view.
pub struct Explainer {
    inner: Recogniser,
}

enum Recogniser {
    Anywhere(Box<anywhere::Recogniser>),
    Colmena(Box<colmena::Recogniser>),
}

impl std::fmt::Debug for Explainer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tool = match self.inner {
            Recogniser::Anywhere(_) => Tool::NixosAnywhere,
            Recogniser::Colmena(_) => Tool::Colmena,
        };
        f.debug_struct("Explainer")
            .field("tool", &tool)
            .finish_non_exhaustive()
    }
}

impl Explainer {
    /// An explainer for `tool`'s output, before the first line.
    pub fn new(tool: Tool) -> Self {
        let inner = match tool {
            Tool::NixosAnywhere => Recogniser::Anywhere(Box::new(anywhere::Recogniser::new())),
            Tool::Colmena => Recogniser::Colmena(Box::new(colmena::Recogniser::new())),
        };
        Self { inner }
    }

    /// Takes the next line (as the terminal showed it: colours and line ends
    /// allowed); its number is one more than the last one's.
    pub fn push(&mut self, line: &str) {
        match &mut self.inner {
            Recogniser::Anywhere(r) => r.push(line),
            Recogniser::Colmena(r) => r.push(line),
        }
    }

    /// What the output so far means; `exit_status` is the process's when it
    /// has ended, `None` while it runs (or for a captured log).
    pub fn explanation(&self, exit_status: Option<i32>) -> Explanation {
        match &self.inner {
            Recogniser::Anywhere(r) => r.explanation(exit_status),
            Recogniser::Colmena(r) => r.explanation(exit_status),
        }
    }
}

/// Explains a saved log: lines are numbered as in the file.
pub fn explain_text(text: &str, tool: Option<Tool>, exit_status: Option<i32>) -> Explanation {
    explain_lines(&split_lines(text), tool, exit_status)
}

/// Explains a run from its lines (index + 1 is the line number). `tool` is
/// detected when not given; `exit_status` is the process's when known.
pub fn explain_lines(
    lines: &[String],
    tool: Option<Tool>,
    exit_status: Option<i32>,
) -> Explanation {
    let mut explainer = Explainer::new(tool.unwrap_or_else(|| detect_tool(lines)));
    for line in lines {
        explainer.push(line);
    }
    explainer.explanation(exit_status)
}

/// Collects findings, one per kind and step (or node) unless asked otherwise.
#[derive(Default)]
struct Findings {
    list: Vec<Finding>,
}

impl Findings {
    fn add(&mut self, finding: Finding) {
        let dup = self
            .list
            .iter()
            .any(|f| f.kind == finding.kind && f.step == finding.step && f.node == finding.node);
        if !dup {
            self.list.push(finding);
        }
    }
}

fn quote(line: usize, text: &str) -> Quote {
    Quote {
        line,
        text: text.trim().to_string(),
    }
}

fn finding(
    severity: Severity,
    kind: FindingKind,
    line: usize,
    step: Option<&str>,
    message: String,
    quote: Vec<Quote>,
) -> Finding {
    Finding {
        severity,
        kind,
        line,
        message,
        step: step.map(str::to_string),
        node: None,
        quote,
    }
}

fn success_outcome(findings: &[Finding]) -> Outcome {
    if findings.is_empty() {
        Outcome::Succeeded
    } else {
        Outcome::SucceededWithWarnings
    }
}

/// Adds the fallback finding for an unexplained failure, orders findings
/// (errors first, then by line) and writes the summary.
#[allow(clippy::too_many_arguments)]
fn complete(
    tool: Tool,
    outcome: Outcome,
    mut findings: Vec<Finding>,
    steps: Vec<Step>,
    last_step: Option<String>,
    nodes: BTreeMap<String, NodeState>,
    exit_status: Option<i32>,
    lines: usize,
) -> Explanation {
    let has_error = findings.iter().any(|f| f.severity == Severity::Error);
    if outcome == Outcome::Failed && !has_error {
        let place = match &last_step {
            Some(s) => format!(" during `{s}`"),
            None => String::new(),
        };
        let status = match exit_status {
            Some(code) => format!("exited with status {code}"),
            None => "reported a failure".to_string(),
        };
        findings.push(Finding {
            severity: Severity::Error,
            kind: FindingKind::ExitStatus,
            line: lines.max(1),
            message: format!(
                "{} {status}{place} without printing a recognised error. Read the last lines of \
                 the log; run it again with --debug (nixos-anywhere) or -v (colmena) for more detail.",
                tool.name()
            ),
            step: last_step.clone(),
            node: None,
            quote: Vec::new(),
        });
    }
    findings.sort_by_key(|f| (std::cmp::Reverse(f.severity), f.line));
    let summary = summarize(tool, outcome, &last_step, &nodes, &findings);
    Explanation {
        tool,
        outcome,
        steps,
        last_step,
        nodes,
        findings,
        exit_status,
        lines,
        summary,
    }
}

fn summarize(
    tool: Tool,
    outcome: Outcome,
    last_step: &Option<String>,
    nodes: &BTreeMap<String, NodeState>,
    findings: &[Finding],
) -> String {
    let place = match (tool, last_step) {
        (Tool::NixosAnywhere, Some(step)) => format!(" at `{step}`"),
        _ => String::new(),
    };
    let failed: Vec<&str> = nodes
        .iter()
        .filter(|(_, s)| **s == NodeState::Failed)
        .map(|(n, _)| n.as_str())
        .collect();
    let head = match outcome {
        Outcome::Succeeded => format!("{} succeeded.", tool.name()),
        Outcome::SucceededWithWarnings => format!(
            "{} finished, but printed {} warning(s): read them before trusting the result.",
            tool.name(),
            findings.len()
        ),
        Outcome::Failed if !failed.is_empty() => {
            format!("{} failed on {}.", tool.name(), failed.join(", "))
        }
        Outcome::Failed => format!("{} failed{place}.", tool.name()),
        Outcome::Incomplete => format!("The log of {} ends{place} without a result.", tool.name()),
    };
    match findings.first() {
        Some(f) if outcome != Outcome::Succeeded => format!("{head} {}", f.message),
        _ => head,
    }
}
