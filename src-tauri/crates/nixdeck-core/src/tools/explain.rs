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
use std::collections::{BTreeMap, HashMap};

use super::colmena::{self, ColmenaLine, Label, NodeState, NodeStep, NodeTracker, RunEnd};
use super::lines::{split_glued_progress, split_lines, strip_ansi};
use super::nixos_anywhere::{parse_abort, parse_marker, Phase, Step, StepEvent, StepTracker};

/// Which tool wrote the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// The failure shapes nixdeck recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    /// 1-based line number.
    pub line: usize,
    /// The line's plain text.
    pub text: String,
}

/// One thing the recogniser found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub severity: Severity,
    pub kind: FindingKind,
    /// 1-based line where it shows (the decisive line).
    pub line: usize,
    /// What it means and what to do.
    pub message: String,
    /// The nixos-anywhere step it happened in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// The colmena node it is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// The decisive lines.
    pub quote: Vec<Quote>,
}

/// The analysis of one run's output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
        match colmena::parse_line(line) {
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
    match tool.unwrap_or_else(|| detect_tool(lines)) {
        Tool::NixosAnywhere => explain_nixos_anywhere(lines, exit_status),
        Tool::Colmena => explain_colmena(lines, exit_status),
    }
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

// ---- shared line shapes ----------------------------------------------------

fn is_key_permissions(t: &str) -> bool {
    t.contains("UNPROTECTED PRIVATE KEY FILE")
        || (t.starts_with("Permissions ") && t.contains("are too open"))
        || (t.starts_with("Load key ") && t.ends_with("bad permissions"))
}

fn is_auth_failure(t: &str) -> bool {
    t.contains("Permission denied (publickey")
        || t.contains("Permission denied, please try again")
        || t.contains("Too many authentication failures")
        || t.contains("No supported authentication methods available")
}

fn is_unreachable(t: &str) -> bool {
    (t.starts_with("ssh: connect to host")
        && [
            "Connection refused",
            "Connection timed out",
            "No route to host",
            "Network is unreachable",
            "Operation timed out",
        ]
        .iter()
        .any(|m| t.contains(m)))
        || t.starts_with("ssh: Could not resolve hostname")
        || (t.contains("kex_exchange_identification") && t.contains("reset by peer"))
        || t.contains("Connection closed by remote host")
}

fn is_host_key_changed(t: &str) -> bool {
    t.contains("REMOTE HOST IDENTIFICATION HAS CHANGED")
        || t.starts_with("Host key verification failed")
}

fn is_out_of_space(t: &str) -> bool {
    t.contains("No space left on device") || t.contains("not enough free space")
}

/// `error:` lines of nix (and friends), after a glued progress text is split off.
fn nix_error(t: &str) -> Option<&str> {
    let t = t.trim_start();
    if t.starts_with("error:") || t.starts_with("error (ignored):") {
        return if t.starts_with("error (ignored)") {
            None
        } else {
            Some(t)
        };
    }
    None
}

fn is_eval_error(t: &str) -> bool {
    [
        "undefined variable",
        "attribute '",
        "does not provide attribute",
        "infinite recursion",
        "does not exist. Definition values",
        "The option `",
        "The option '",
        "syntax error",
        "while evaluating",
        "is not of type",
        "Failed assertions",
        "cannot coerce",
        "called without required argument",
        "called with unexpected argument",
        "expected a set but found",
        "value is a",
        "getting status of",
        "cannot find flake",
        "path '",
        "evaluation aborted",
        "assertion '",
        "in the condition of the assert",
        "syntax error, unexpected",
    ]
    .iter()
    .any(|m| t.contains(m))
}

fn is_build_error(t: &str) -> bool {
    [
        "builder for '",
        "builder for \u{2018}",
        "dependencies of derivation",
        "dependency of derivation",
        "Cannot build '",
        "cannot build derivation",
        "build of '",
        "failed with exit code",
        "hash mismatch",
        "unable to download",
        "cannot connect to socket",
        "some substitutes for the outputs",
    ]
    .iter()
    .any(|m| t.contains(m))
}

/// The error line at `index` and the indented lines under it (nix's trace).
fn error_context(lines: &[String], index: usize) -> String {
    let mut out = strip_ansi(&lines[index]).trim().to_string();
    for line in lines.iter().skip(index + 1).take(40) {
        let plain = strip_ansi(line);
        if !(plain.starts_with(' ') || plain.starts_with('\t') || plain.trim().is_empty()) {
            break;
        }
        out.push('\n');
        out.push_str(plain.trim());
    }
    out
}

fn nix_error_kind(t: &str) -> FindingKind {
    if is_build_error(t) || !is_eval_error(t) {
        FindingKind::NixBuildError
    } else {
        FindingKind::NixEvalError
    }
}

fn nix_error_message(kind: FindingKind, where_: &str) -> String {
    if kind == FindingKind::NixEvalError {
        format!(
            "The NixOS configuration did not evaluate{where_}: the quoted error names the file and option. \
             Fix it in the repository and run `nixdeck validate` (nix build of the toplevel) before trying again."
        )
    } else {
        format!(
            "A build failed{where_}: the quoted lines name the derivation. Run the same `nix build` \
             locally with `-L` to see its full log; a download error means the machine doing the \
             build cannot reach the binary cache."
        )
    }
}

// ---- nixos-anywhere --------------------------------------------------------

fn disk_busy(t: &str) -> bool {
    [
        "Device or resource busy",
        "is apparently in use by the system",
        "target is busy",
        "unable to inform the kernel",
        "contains a mounted filesystem",
        "is mounted; will not make a filesystem",
        "Resource busy",
    ]
    .iter()
    .any(|m| t.contains(m))
}

fn disk_missing(t: &str) -> bool {
    (t.contains("/dev/")
        && [
            "No such file or directory",
            "does not exist",
            "not a block device",
            "No such device",
            "cannot open",
            "Problem opening",
            "Can't open",
        ]
        .iter()
        .any(|m| t.contains(m)))
        || t.contains("The specified file does not exist")
        || t.contains("Timed out waiting for device")
}

fn kexec_error(t: &str) -> bool {
    let lower = t.to_ascii_lowercase();
    lower.contains("kexec_load failed")
        || lower.contains("kexec_file_load failed")
        || lower == "kexec failed"
        || lower.starts_with("kexec may have failed")
        || lower.contains("kexec: command not found")
        || lower.contains("cannot load") && lower.contains("kexec")
        || (lower.contains("kexec") && lower.contains("operation not permitted"))
}

fn install_error(t: &str) -> bool {
    let lower = t.to_ascii_lowercase();
    lower.starts_with("error:")
        || lower.starts_with("error ")
        || lower.starts_with("traceback (most recent call last)")
        || lower.contains("failed to install bootloader")
        || lower.contains("exception:")
        || lower.contains("error: ")
        || lower.starts_with("fatal:")
        || lower.contains("calledprocesserror")
}

fn install_success(t: &str) -> bool {
    let lower = t.to_ascii_lowercase();
    lower.contains("installation finished!") || lower.starts_with("installation finished.")
}

fn abort_kind(reason: &str) -> (FindingKind, String) {
    let r = reason.to_ascii_lowercase();
    if r.starts_with("no tar command")
        || r.starts_with("no cpio command")
        || r.starts_with("no setsid command")
    {
        (
            FindingKind::MissingTool,
            format!(
                "The target lacks a program nixos-anywhere needs before kexec ({reason}). Install it \
                 on the target (tar, cpio and util-linux's setsid with --wait), or boot the machine \
                 from a NixOS installer image instead."
            ),
        )
    } else if r.contains("escalate privileges") {
        (
            FindingKind::NoPrivilegeEscalation,
            "The login user is not root and has neither sudo nor doas. Log in as root, or give \
             the user passwordless sudo on the target, then retry."
                .into(),
        )
    } else if r.starts_with("unsupported architecture") {
        (
            FindingKind::UnsupportedArch,
            format!(
                "{reason} nixos-anywhere's kexec images exist for x86_64 and aarch64 only: boot the \
                 machine from an installer for its architecture, or pass --kexec with your own image."
            ),
        )
    } else if r.contains("requires linux") {
        (
            FindingKind::NotLinux,
            "The target does not run Linux; nixos-anywhere can only take over a Linux system. Boot \
             it from a NixOS installer image and install to that."
                .into(),
        )
    } else if r.contains("failed to kexec") {
        (
            FindingKind::KexecFailed,
            "The machine came back after kexec but is not running the NixOS installer: kexec did not \
             take (Secure Boot, a kernel without kexec, or a hypervisor that blocks it). Boot the \
             machine from a NixOS installer ISO and run the install again without the kexec phase."
                .into(),
        )
    } else if r.contains("host facts") || r.contains("failed to retrieve fact") {
        (
            FindingKind::FactsFailed,
            format!(
                "nixos-anywhere could not read the target's facts over SSH ({reason}). Check that \
                 the login works (`ssh user@host`), that the shell is sh-compatible, and rerun \
                 nixdeck's probe."
            ),
        )
    } else {
        (
            FindingKind::Aborted,
            format!(
                "nixos-anywhere stopped: {reason}. Fix what it names and run the install again."
            ),
        )
    }
}

/// What a failing ssh-copy-id line says about the cause of the loop.
fn upload_loop_cause(t: &str) -> &'static str {
    if t.contains("Read-only file system") {
        "the target's home directory is read-only, so `~/.ssh/authorized_keys` cannot be written"
    } else if t.contains("No such file or directory") || t.contains("cannot create") {
        "`~/.ssh` cannot be created on the target (missing or unwritable home directory)"
    } else if is_auth_failure(t) {
        "the target refuses the login (wrong user, password or key)"
    } else if is_unreachable(t) {
        "the target cannot be reached"
    } else {
        "ssh-copy-id keeps failing"
    }
}

fn explain_nixos_anywhere(lines: &[String], exit_status: Option<i32>) -> Explanation {
    let mut tracker = StepTracker::new();
    let mut found = Findings::default();
    let mut boot_message: Option<usize> = None;
    let mut boot_message_step: Option<usize> = None;
    let mut install_errors: Vec<Quote> = Vec::new();
    let mut install_errors_step: Option<String> = None;
    let mut install_ok: Option<usize> = None;
    // ssh-copy-id failures in the key upload step: text -> (first line, count).
    let mut upload_failures: HashMap<String, (usize, usize)> = HashMap::new();

    for (i, raw) in lines.iter().enumerate() {
        let n = i + 1;
        let events = tracker.feed(n, raw);
        if events
            .iter()
            .any(|e| matches!(e, StepEvent::Started { .. }))
        {
            continue;
        }
        let plain = strip_ansi(raw);
        let mut t = plain.trim();
        if t.is_empty() || t.starts_with('+') || t.contains("SSH COMMAND:") {
            continue;
        }
        if let Some((_, message)) = split_glued_progress(t) {
            t = message.trim();
        }
        let step_index = tracker.steps().len().checked_sub(1);
        let step = tracker.current();
        let phase = step.map(|s| s.phase);
        let step_name = step.map(|s| s.name.clone());
        let step_name = step_name.as_deref();
        let after_reboot = matches!(
            phase,
            Some(Phase::Reboot | Phase::WaitForReboot | Phase::Done)
        );

        if let Some(reason) = parse_abort(t) {
            let (kind, message) = abort_kind(&reason);
            found.add(finding(
                Severity::Error,
                kind,
                n,
                step_name,
                message,
                vec![quote(n, t)],
            ));
            continue;
        }
        if is_key_permissions(t) {
            found.add(finding(
                Severity::Error,
                FindingKind::KeyPermissions,
                n,
                step_name,
                "ssh refuses to use the private key because other users can read its file. Run \
                 `chmod 600` on the key file (the quoted line names it) and start again."
                    .into(),
                vec![quote(n, t)],
            ));
            continue;
        }
        if is_out_of_space(t) {
            let message = match phase {
                Some(Phase::Kexec | Phase::Facts | Phase::UploadSshKeys) | None => {
                    "The target ran out of space (or RAM for the kexec image). Free space in the \
                     home directory, or give the machine more memory (nixos-anywhere needs about \
                     1.5 GB of RAM)."
                }
                _ => {
                    "A disk or the installer's RAM-backed store filled up. Give the layout's root \
                     more room, or use `--no-disko-deps` / build on the local machine so less is \
                     copied into the installer's memory."
                }
            };
            found.add(finding(
                Severity::Error,
                FindingKind::OutOfSpace,
                n,
                step_name,
                message.into(),
                vec![quote(n, t)],
            ));
            continue;
        }
        if !after_reboot && is_host_key_changed(t) {
            found.add(finding(
                Severity::Error,
                FindingKind::HostKeyChanged,
                n,
                step_name,
                "The target's host key is not the one on record. If the machine was reinstalled this is \
                 expected: compare fingerprints and replace the old key (`ssh-keygen -R host`); \
                 otherwise stop and find out who answers at that address."
                    .into(),
                vec![quote(n, t)],
            ));
            continue;
        }
        if phase == Some(Phase::UploadSshKeys)
            && (is_auth_failure(t)
                || is_unreachable(t)
                || t.contains("Read-only file system")
                || t.contains("cannot create")
                || t.contains("ssh-copy-id: ERROR"))
        {
            let entry = upload_failures.entry(t.to_string()).or_insert((n, 0));
            entry.1 += 1;
            continue;
        }
        let waiting_for_kexec = phase == Some(Phase::Kexec) && boot_message.is_some();
        if !after_reboot && !waiting_for_kexec {
            if is_auth_failure(t) {
                found.add(finding(
                    Severity::Error,
                    FindingKind::AuthFailed,
                    n,
                    step_name,
                    "The target refused the SSH login. Check the user name, that your key is loaded \
                     (`ssh-add -l`) or given with -i, and that the target allows this login (root \
                     login may be disabled: use a sudo user)."
                        .into(),
                    vec![quote(n, t)],
                ));
                continue;
            }
            if is_unreachable(t) {
                found.add(finding(
                    Severity::Error,
                    FindingKind::Unreachable,
                    n,
                    step_name,
                    "The target could not be reached over SSH. Check the address and port, that the \
                     machine is on and sshd runs, and that no firewall is in the way."
                        .into(),
                    vec![quote(n, t)],
                ));
                continue;
            }
        }
        match phase {
            Some(Phase::Kexec) => {
                if t.contains("machine will boot into nixos") {
                    boot_message = Some(n);
                    boot_message_step = step_index;
                } else if kexec_error(t)
                    || (t.contains("Cannot allocate memory") && boot_message.is_none())
                {
                    found.add(finding(
                        Severity::Error,
                        FindingKind::KexecFailed,
                        n,
                        step_name,
                        "Switching into the NixOS installer with kexec failed. Usual causes: less \
                         than about 1.5 GB of RAM, Secure Boot or a kernel/hypervisor that forbids \
                         kexec (some containers and VPS). Boot the machine from a NixOS installer \
                         image and install without the kexec phase."
                            .into(),
                        vec![quote(n, t)],
                    ));
                    continue;
                }
            }
            Some(Phase::Disko | Phase::BuildDisko | Phase::DiskEncryptionKeys) => {
                if disk_busy(t) {
                    found.add(finding(
                        Severity::Error,
                        FindingKind::DiskBusy,
                        n,
                        step_name,
                        "disko could not change a disk because something still uses it (a mounted \
                         filesystem, swap, an LVM/RAID/ZFS volume or the installer's own medium). \
                         Check that the layout names the right disk; if it does, reboot the target \
                         into the installer and retry."
                            .into(),
                        vec![quote(n, t)],
                    ));
                    continue;
                }
                if disk_missing(t) {
                    found.add(finding(
                        Severity::Error,
                        FindingKind::DiskMissing,
                        n,
                        step_name,
                        "disko did not find a disk the layout names. Device names can change after \
                         kexec (`/dev/sda` vs `/dev/vda`, NVMe numbering): probe the target again and \
                         use its `/dev/disk/by-id/` names in the layout."
                            .into(),
                        vec![quote(n, t)],
                    ));
                    continue;
                }
            }
            Some(Phase::Install) => {
                if install_success(t) {
                    install_ok.get_or_insert(n);
                } else if install_error(t) && install_errors.len() < 5 {
                    install_errors.push(quote(n, t));
                    install_errors_step = step_name.map(str::to_string);
                }
                continue;
            }
            _ => {}
        }
        if nix_error(t).is_some() {
            // nix ≥ 2.20 prints a bare `error:` and the trace below it, indented.
            let context = error_context(lines, i);
            let kind = nix_error_kind(&context);
            let where_ = match step_name {
                Some(s) => format!(" during `{s}`"),
                None => " before the first step".into(),
            };
            found.add(finding(
                Severity::Error,
                kind,
                n,
                step_name,
                nix_error_message(kind, &where_),
                vec![quote(n, t)],
            ));
        }
    }

    // A specific explanation wins over the generic nix error it caused.
    let specific: Vec<Option<String>> = found
        .list
        .iter()
        .filter(|f| {
            !matches!(
                f.kind,
                FindingKind::NixBuildError | FindingKind::NixEvalError
            )
        })
        .map(|f| f.step.clone())
        .collect();
    found.list.retain(|f| {
        !matches!(
            f.kind,
            FindingKind::NixBuildError | FindingKind::NixEvalError
        ) || !specific.contains(&f.step)
    });

    let steps = tracker.steps().to_vec();
    let last_index = steps.len().checked_sub(1);
    let last_step = steps.last().map(|s| s.name.clone());
    let lines_seen = lines.len();

    // A failing line repeated in the key upload step: ssh-copy-id's `until` loop.
    if let Some((text, (first, count))) = upload_failures
        .iter()
        .max_by_key(|(_, (first, count))| (*count, usize::MAX - *first))
    {
        let step_name = steps
            .iter()
            .rev()
            .find(|s| s.phase == Phase::UploadSshKeys && s.first_line <= *first)
            .map(|s| s.name.clone());
        if *count >= 3 {
            found.add(finding(
                Severity::Error,
                FindingKind::UploadKeysLoop,
                *first,
                step_name.as_deref(),
                format!(
                    "Uploading the install key is retried forever ({count} attempts so far): {}. \
                     nixos-anywhere never gives up here; cancel it, fix that on the target, and retry.",
                    upload_loop_cause(text)
                ),
                vec![quote(*first, text)],
            ));
        } else {
            let kind = if is_auth_failure(text) {
                FindingKind::AuthFailed
            } else {
                FindingKind::Unreachable
            };
            if is_auth_failure(text) || is_unreachable(text) {
                found.add(finding(
                    Severity::Error,
                    kind,
                    *first,
                    step_name.as_deref(),
                    format!(
                        "Uploading the install key failed: {}. Check address, user and key.",
                        upload_loop_cause(text)
                    ),
                    vec![quote(*first, text)],
                ));
            }
        }
    }

    if let Some(first_error) = install_errors.first() {
        let line = first_error.line;
        match install_ok.filter(|ok| *ok > line) {
            Some(ok) => {
                let mut q = install_errors.clone();
                q.truncate(3);
                q.push(quote(ok, lines[ok - 1].as_str()).clean());
                found.add(finding(
                    Severity::Warning,
                    FindingKind::InstallErrorThenSuccess,
                    line,
                    install_errors_step.as_deref(),
                    "`Installing NixOS` printed errors and then reported success. The system may not \
                     boot as configured (boot loader errors are the usual case): check the quoted \
                     lines, and if the machine does not come back, boot it from an installer and \
                     run `nixos-install` again or fix the boot loader settings."
                        .into(),
                    q,
                ));
            }
            None => {
                found.add(finding(
                    Severity::Error,
                    FindingKind::InstallFailed,
                    line,
                    install_errors_step.as_deref(),
                    "`nixos-install` failed on the target. The quoted lines say why; the disks are \
                     already formatted, so after fixing the configuration you can rerun with \
                     `--phases install,reboot`."
                        .into(),
                    install_errors.iter().take(3).cloned().collect(),
                ));
            }
        }
    }

    // Went into kexec, said it would boot the installer, and nothing came after.
    let done = tracker.done();
    if let (Some(boot), Some(kexec_index)) = (boot_message, boot_message_step) {
        if last_index == Some(kexec_index) && !done && exit_status != Some(0) {
            found.add(finding(
                Severity::Error,
                FindingKind::KexecNoReturn,
                boot,
                last_step.as_deref(),
                "The target rebooted into the kexec installer and never answered again. Usual \
                 causes: the installer's network differs from the old system's (static IP, DHCP \
                 on another interface, IPv6-only), too little RAM for the installer, or firmware \
                 that does not survive kexec. Check the machine's console; booting it from a NixOS \
                 installer image avoids kexec."
                    .into(),
                vec![quote(boot, &strip_ansi(&lines[boot - 1]))],
            ));
        }
    }

    let position_of =
        |line: usize| -> Option<usize> { steps.iter().rposition(|s| s.first_line <= line) };
    let mut findings = found.list;
    let succeeded = match exit_status {
        Some(status) => status == 0,
        None => done,
    };
    if succeeded {
        // The run went through: what it printed on the way is a warning.
        for f in &mut findings {
            f.severity = Severity::Warning;
        }
    } else {
        for f in &mut findings {
            let always_fatal = matches!(
                f.kind,
                FindingKind::Aborted
                    | FindingKind::MissingTool
                    | FindingKind::NoPrivilegeEscalation
                    | FindingKind::UnsupportedArch
                    | FindingKind::NotLinux
                    | FindingKind::FactsFailed
            );
            // An error in a step the run left behind did not stop it.
            let moved_past = match (position_of(f.line), last_index) {
                (Some(here), Some(last)) => here < last,
                (None, Some(_)) => true,
                _ => false,
            };
            if f.severity == Severity::Error && !always_fatal && !f.kind.is_hang() && moved_past {
                f.severity = Severity::Warning;
            }
        }
    }
    let has_final_error = findings
        .iter()
        .any(|f| f.severity == Severity::Error && !f.kind.is_hang());
    let outcome = if succeeded {
        success_outcome(&findings)
    } else if exit_status.is_some() || has_final_error {
        Outcome::Failed
    } else {
        Outcome::Incomplete
    };
    complete(
        Tool::NixosAnywhere,
        outcome,
        findings,
        steps,
        last_step,
        BTreeMap::new(),
        exit_status,
        lines_seen,
    )
}

impl Quote {
    fn clean(self) -> Quote {
        Quote {
            line: self.line,
            text: strip_ansi(&self.text).trim().to_string(),
        }
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

// ---- colmena ---------------------------------------------------------------

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

fn explain_colmena(lines: &[String], exit_status: Option<i32>) -> Explanation {
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

/// Lines worth quoting as the reason of a failure.
fn is_evidence(t: &str) -> bool {
    colmena::looks_like_error(t)
        || nix_error(t).is_some()
        || is_auth_failure(t)
        || is_unreachable(t)
        || is_host_key_changed(t)
        || is_out_of_space(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: &str = "### Uploading install SSH keys ###\nNumber of key(s) added: 1\n";
    const FACTS: &str = "### Gathering machine facts ###\r\n";
    const KEXEC: &str = "### Switching system into kexec ###\nmachine will boot into nixos in 6s...\r\nssh: connect to host h port 22: Connection refused\n";

    fn na(log: &str) -> Explanation {
        explain_text(log, Some(Tool::NixosAnywhere), None)
    }

    fn col(log: &str) -> Explanation {
        explain_text(log, Some(Tool::Colmena), None)
    }

    /// Asserts outcome, last step and the first finding's kind and severity.
    #[track_caller]
    fn check(
        e: &Explanation,
        outcome: Outcome,
        last_step: Option<&str>,
        first: Option<(FindingKind, Severity)>,
    ) {
        assert_eq!(e.outcome, outcome, "{e:#?}");
        assert_eq!(e.last_step.as_deref(), last_step, "{e:#?}");
        let got = e.findings.first().map(|f| (f.kind, f.severity));
        assert_eq!(got, first, "{e:#?}");
    }

    #[test]
    fn clean_run_succeeds() {
        let log = format!("{KEYS}{FACTS}{KEXEC}{FACTS}### Installing NixOS ###\ninstallation finished!\n### Rebooting ###\nConnection to h closed by remote host.\nkex_exchange_identification: read: Connection reset by peer\n### Done! ###\n");
        let e = na(&log);
        check(&e, Outcome::Succeeded, Some("Done!"), None);
        assert_eq!(e.steps.len(), 7);
        assert_eq!(e.steps[0].first_line, 1);
    }

    #[test]
    fn key_permissions_before_the_first_step() {
        let e = na("@         WARNING: UNPROTECTED PRIVATE KEY FILE!          @\nPermissions 0644 for '/k' are too open.\nLoad key \"/k\": bad permissions\n");
        check(
            &e,
            Outcome::Failed,
            None,
            Some((FindingKind::KeyPermissions, Severity::Error)),
        );
        assert_eq!(e.findings[0].line, 1);
    }

    #[test]
    fn auth_failure_in_facts() {
        let e = na(&format!(
            "{KEYS}{FACTS}root@h: Permission denied (publickey).\r\n"
        ));
        check(
            &e,
            Outcome::Failed,
            Some("Gathering machine facts"),
            Some((FindingKind::AuthFailed, Severity::Error)),
        );
        assert_eq!(e.findings[0].line, 4);
    }

    #[test]
    fn unreachable_in_facts() {
        let e = na(&format!(
            "{KEYS}{FACTS}ssh: connect to host h port 22: No route to host\n"
        ));
        check(
            &e,
            Outcome::Failed,
            Some("Gathering machine facts"),
            Some((FindingKind::Unreachable, Severity::Error)),
        );
        let e = na("ssh: Could not resolve hostname nope: Name or service not known\n");
        check(
            &e,
            Outcome::Failed,
            None,
            Some((FindingKind::Unreachable, Severity::Error)),
        );
    }

    #[test]
    fn host_key_changed() {
        let e = na("@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n");
        check(
            &e,
            Outcome::Failed,
            None,
            Some((FindingKind::HostKeyChanged, Severity::Error)),
        );
    }

    #[test]
    fn upload_keys_loop_is_incomplete_with_an_error() {
        let attempt = "/usr/bin/ssh-copy-id: INFO: attempting to log in\nmkdir: cannot create directory '.ssh': Read-only file system\n";
        let log = format!("### Uploading install SSH keys ###\n{}", attempt.repeat(3));
        let e = na(&log);
        check(
            &e,
            Outcome::Incomplete,
            Some("Uploading install SSH keys"),
            Some((FindingKind::UploadKeysLoop, Severity::Error)),
        );
        assert_eq!(e.findings[0].line, 3);
        assert!(e.findings[0].message.contains("read-only"));
        // Two attempts are not a loop yet, and this cause is no login problem.
        let e = na(&format!(
            "### Uploading install SSH keys ###\n{}",
            attempt.repeat(2)
        ));
        check(
            &e,
            Outcome::Incomplete,
            Some("Uploading install SSH keys"),
            None,
        );
        // Repeated login refusals are a loop too, with the login as the cause.
        let e = na(&format!(
            "### Uploading install SSH keys ###\n{}",
            "root@h: Permission denied (publickey,password).\n".repeat(4)
        ));
        assert_eq!(e.findings[0].kind, FindingKind::UploadKeysLoop);
        assert!(e.findings[0].message.contains("refuses the login"));
    }

    #[test]
    fn aborts_map_to_kinds() {
        let cases = [
            ("no tar command found, but required to unpack kexec tarball", FindingKind::MissingTool),
            ("no cpio command found, but required to build the new initrd", FindingKind::MissingTool),
            ("no setsid command respecting --wait found, but required to run the kexec script under a new session", FindingKind::MissingTool),
            ("Unable to find a command to use to escalate privileges: Could not find `sudo` or `doas`", FindingKind::NoPrivilegeEscalation),
            ("Unsupported architecture: riscv64. Our default kexec images only support x86_64 and aarch64 CPUs.", FindingKind::UnsupportedArch),
            ("This script requires Linux as the operating system, but got FreeBSD", FindingKind::NotLinux),
            ("Retrieving host facts via SSH failed. Check with --debug for the root cause, unless you have done so already", FindingKind::FactsFailed),
            ("Failed to retrieve fact isArch from host", FindingKind::FactsFailed),
            ("Failed to kexec into NixOS installer", FindingKind::KexecFailed),
            ("Unknown phase: foo", FindingKind::Aborted),
        ];
        for (reason, kind) in cases {
            let e = na(&format!("{KEYS}{FACTS}aborted: {reason}\n"));
            check(
                &e,
                Outcome::Failed,
                Some("Gathering machine facts"),
                Some((kind, Severity::Error)),
            );
            assert_eq!(e.findings[0].line, 4);
        }
    }

    #[test]
    fn kexec_failure() {
        let e = na(&format!("{KEYS}{FACTS}### Switching system into kexec ###\nkexec_load failed: Operation not permitted\r\nKexec failed\n"));
        check(
            &e,
            Outcome::Failed,
            Some("Switching system into kexec"),
            Some((FindingKind::KexecFailed, Severity::Error)),
        );
    }

    #[test]
    fn kexec_without_return() {
        let e = na(&format!(
            "{KEYS}{FACTS}{KEXEC}ssh: connect to host h port 22: Connection timed out\n"
        ));
        check(
            &e,
            Outcome::Incomplete,
            Some("Switching system into kexec"),
            Some((FindingKind::KexecNoReturn, Severity::Error)),
        );
        assert_eq!(e.findings[0].line, 5);
        // Coming back (facts again) is the normal case: no finding.
        let e = na(&format!("{KEYS}{FACTS}{KEXEC}{FACTS}"));
        check(
            &e,
            Outcome::Incomplete,
            Some("Gathering machine facts"),
            None,
        );
        // Killed while waiting: failed, and still explained.
        let e = explain_text(
            &format!("{KEYS}{FACTS}{KEXEC}"),
            Some(Tool::NixosAnywhere),
            Some(143),
        );
        check(
            &e,
            Outcome::Failed,
            Some("Switching system into kexec"),
            Some((FindingKind::KexecNoReturn, Severity::Error)),
        );
    }

    #[test]
    fn disko_busy_and_missing() {
        let d = "### Formatting hard drive with disko ###   \n";
        let e = na(&format!("{d}+ wipefs --all -f /dev/sda1\r\nwipefs: error: /dev/sda1: probing initialization failed: Device or resource busy\r\n"));
        check(
            &e,
            Outcome::Failed,
            Some("Formatting hard drive with disko"),
            Some((FindingKind::DiskBusy, Severity::Error)),
        );
        assert_eq!(e.findings[0].line, 3);
        let e = na(&format!("{d}Problem opening /dev/disk/by-id/nvme-X for reading! Error is 2.\nThe specified file does not exist!\n"));
        check(
            &e,
            Outcome::Failed,
            Some("Formatting hard drive with disko"),
            Some((FindingKind::DiskMissing, Severity::Error)),
        );
        // Outside disko the same words are not about the layout's disks.
        let e = na(&format!(
            "{FACTS}cat: /dev/sdz: No such file or directory\n"
        ));
        check(
            &e,
            Outcome::Incomplete,
            Some("Gathering machine facts"),
            None,
        );
    }

    #[test]
    fn out_of_space_even_glued_to_progress() {
        let e = na("### Uploading the system closure ###\n[118/0/412 copied (210.4/512.3 MiB)] copying 412 pathserror: writing to file: No space left on device\nerror: unexpected end-of-file\n");
        check(
            &e,
            Outcome::Failed,
            Some("Uploading the system closure"),
            Some((FindingKind::OutOfSpace, Severity::Error)),
        );
        // The generic nix error it caused is not reported separately.
        assert_eq!(e.findings.len(), 1);
    }

    #[test]
    fn install_error_then_success_is_a_warning() {
        let log = "### Installing NixOS ###\r\nTraceback (most recent call last):\r\nsubprocess.CalledProcessError: Command 'bootctl' returned non-zero exit status 1.\r\ninstallation finished!\r\n### Rebooting ###\n### Done! ###\n";
        let e = na(log);
        check(
            &e,
            Outcome::SucceededWithWarnings,
            Some("Done!"),
            Some((FindingKind::InstallErrorThenSuccess, Severity::Warning)),
        );
        assert_eq!(e.findings[0].line, 2);
        assert_eq!(e.findings[0].quote.last().map(|q| q.line), Some(4));
        // Same with the exit status of a job: 0 does not make it clean.
        let e = explain_text(log, Some(Tool::NixosAnywhere), Some(0));
        assert_eq!(e.outcome, Outcome::SucceededWithWarnings);
    }

    #[test]
    fn install_error_without_success_fails() {
        let e = na("### Installing NixOS ###\nerror: getting status of '/mnt/nix/var/nix/profiles': No such file or directory\n");
        check(
            &e,
            Outcome::Failed,
            Some("Installing NixOS"),
            Some((FindingKind::InstallFailed, Severity::Error)),
        );
    }

    #[test]
    fn nix_errors_eval_and_build() {
        let e = na("### Generating hardware-configuration.nix using nixos-generate-config ###\nerror:\n       … while calling the 'head' builtin\n\n       error: The option `fileSystems.\"/\".device' is used but not defined.\n");
        check(
            &e,
            Outcome::Failed,
            Some("Generating hardware-configuration.nix using nixos-generate-config"),
            Some((FindingKind::NixEvalError, Severity::Error)),
        );
        assert_eq!(e.findings[0].line, 2);
        let e = na("### Building the system closure ###\nerror: builder for '/nix/store/x-a.drv' failed with exit code 2;\n");
        check(
            &e,
            Outcome::Failed,
            Some("Building the system closure"),
            Some((FindingKind::NixBuildError, Severity::Error)),
        );
    }

    #[test]
    fn an_error_the_run_moved_past_is_a_warning() {
        let e = na(&format!("{KEYS}{FACTS}ssh: connect to host h port 22: Connection refused\n### Switching system into kexec ###\n"));
        check(
            &e,
            Outcome::Incomplete,
            Some("Switching system into kexec"),
            Some((FindingKind::Unreachable, Severity::Warning)),
        );
    }

    #[test]
    fn exit_status_decides_when_given() {
        // Non-zero with nothing recognisable: say so, at the last line.
        let e = explain_text(
            &format!("{KEYS}{FACTS}"),
            Some(Tool::NixosAnywhere),
            Some(1),
        );
        check(
            &e,
            Outcome::Failed,
            Some("Gathering machine facts"),
            Some((FindingKind::ExitStatus, Severity::Error)),
        );
        assert_eq!(e.findings[0].line, 3);
        // Zero without Done! (e.g. `--phases kexec,disko`): succeeded.
        let e = explain_text(
            &format!("{KEYS}{FACTS}"),
            Some(Tool::NixosAnywhere),
            Some(0),
        );
        check(
            &e,
            Outcome::Succeeded,
            Some("Gathering machine facts"),
            None,
        );
    }

    #[test]
    fn debug_traces_are_neither_steps_nor_errors() {
        let log = "+ step Installing NixOS\n+ echo '### Installing NixOS ###'\n### Installing NixOS ###\n+ abort 'no tar command found'\n+ grep -q 'machine will boot into nixos'\n\x1b[1;34mSSH COMMAND:\x1b[0m ssh -t root@h error: x\ninstallation finished!\n";
        let e = na(log);
        check(&e, Outcome::Incomplete, Some("Installing NixOS"), None);
        assert_eq!(e.steps.len(), 1);
        assert_eq!(e.steps[0].first_line, 3);
    }

    #[test]
    fn tool_is_detected() {
        let lines = split_lines(&format!("{KEYS}{FACTS}"));
        assert_eq!(detect_tool(&lines), Tool::NixosAnywhere);
        let lines = split_lines(
            "[INFO ] Using flake: x\n(...) | Evaluating a and b\n    a | Pushing system closure\n",
        );
        assert_eq!(detect_tool(&lines), Tool::Colmena);
        let e = explain_text(
            " INFO Enumerating systems...\n    a | Activation successful\n      | All done!\n",
            None,
            None,
        );
        assert_eq!(e.tool, Tool::Colmena);
        assert_eq!(e.outcome, Outcome::Succeeded);
    }

    // ---- colmena ----

    const OK: &str = "(...) | Evaluating a and b\n(...) | Evaluated a and b\n(...) | Building a and b\n(...) | Built a and b\n    a | Pushing system closure\n    b | Pushing system closure\n";

    #[test]
    fn colmena_success_and_incomplete() {
        let e = col(&format!(
            "{OK}    a | Activation successful\n    b | Activation successful\n      | All done!\n"
        ));
        check(&e, Outcome::Succeeded, None, None);
        assert_eq!(e.nodes["a"], NodeState::Succeeded);
        assert!(e.steps.is_empty());
        let e = col(OK);
        check(&e, Outcome::Incomplete, None, None);
        assert_eq!(e.nodes["b"], NodeState::Pushing);
    }

    #[test]
    fn colmena_node_failures() {
        let cases = [
            ("(...) | Evaluation failed: Child process exited with error code: 1\n", FindingKind::EvalFailed, "a"),
            ("(...) | error: builder for '/nix/store/x.drv' failed with exit code 1;\n(...) | Build failed: Child process exited with error code: 1\n", FindingKind::BuildFailed, "a"),
            ("    b | Push failed: Child process exited with error code: 1\n", FindingKind::PushFailed, "b"),
            ("    b | Uploading keys\n    b | Key upload failed: Failed to read key file\n", FindingKind::KeyUploadFailed, "b"),
            ("    b | Activating system profile\n    b | Activation failed: Child process exited with error code: 4\n", FindingKind::ActivationFailed, "b"),
            ("    b | Rebooting\n    b | Reboot failed: Timed out\n", FindingKind::RebootFailed, "b"),
        ];
        for (tail, kind, node) in cases {
            let prefix = if kind == FindingKind::EvalFailed {
                "(...) | Evaluating a and b\n"
            } else if kind == FindingKind::BuildFailed {
                "(...) | Building a and b\n"
            } else {
                OK
            };
            let e = col(&format!(
                "{prefix}{tail}      | Failed: Child process exited with error code: 1\n"
            ));
            check(&e, Outcome::Failed, None, Some((kind, Severity::Error)));
            assert_eq!(e.findings[0].node.as_deref(), Some(node));
            assert_eq!(e.nodes[node], NodeState::Failed);
        }
    }

    #[test]
    fn colmena_failure_causes_are_named() {
        let e = col(&format!("{OK}    b | ssh: connect to host 10.0.0.2 port 22: No route to host\n    b | Push failed: Child process exited with error code: 1\n"));
        check(
            &e,
            Outcome::Failed,
            None,
            Some((FindingKind::PushFailed, Severity::Error)),
        );
        assert!(e.findings[0].message.contains("could not be reached"));
        assert_eq!(e.findings[0].quote[0].line, 7);
        let e = col(&format!(
            "{OK}    b | root@10.0.0.2: Permission denied (publickey).\n    b | Push failed: x\n"
        ));
        assert!(e.findings[0].message.contains("refused the SSH login"));
    }

    #[test]
    fn colmena_activation_warnings() {
        let e = col(&format!("{OK}    a | Activating system profile\n    a | Activation script snippet 'x' failed (1)\n    a | Activation successful\n    b | Activation successful\n      | All done!\n"));
        check(
            &e,
            Outcome::SucceededWithWarnings,
            None,
            Some((FindingKind::ActivationWarnings, Severity::Warning)),
        );
        assert_eq!(e.findings[0].line, 8);
        assert_eq!(e.nodes["a"], NodeState::Succeeded);
    }

    #[test]
    fn colmena_panic_after_success_and_before() {
        let done = format!("{OK}    a | Activation successful\n    b | Activation successful\n      | All done!\nthread 'main' panicked at src/main.rs:1:1:\n");
        let e = col(&done);
        check(
            &e,
            Outcome::SucceededWithWarnings,
            None,
            Some((FindingKind::ColmenaPanic, Severity::Warning)),
        );
        assert_eq!(e.findings[0].line, 10);
        let e = explain_text(&done, Some(Tool::Colmena), Some(101));
        assert_eq!(e.outcome, Outcome::SucceededWithWarnings);
        assert_eq!(e.exit_status, Some(101));
        let e = col(&format!("{OK}thread 'main' panicked at src/main.rs:1:1:\n"));
        check(
            &e,
            Outcome::Failed,
            None,
            Some((FindingKind::ColmenaPanic, Severity::Error)),
        );
        let e = explain_text(
            "thread 'main' panicked at src/util.rs:9:9:\n",
            Some(Tool::Colmena),
            Some(101),
        );
        check(
            &e,
            Outcome::Failed,
            None,
            Some((FindingKind::ColmenaPanic, Severity::Error)),
        );
    }

    #[test]
    fn colmena_unlabelled_nix_error() {
        let e = col("[INFO ] Using flake: x\nerror: flake 'git+file:///x' does not provide attribute 'packages.x86_64-linux.colmenaHive'\n");
        check(
            &e,
            Outcome::Failed,
            None,
            Some((FindingKind::NixEvalError, Severity::Error)),
        );
        assert_eq!(e.findings[0].line, 2);
    }

    #[test]
    fn colmena_unexplained_failure() {
        let e = col("      | Failed: Something odd\n");
        check(
            &e,
            Outcome::Failed,
            None,
            Some((FindingKind::ExitStatus, Severity::Error)),
        );
        let e = explain_text(OK, Some(Tool::Colmena), Some(1));
        check(
            &e,
            Outcome::Failed,
            None,
            Some((FindingKind::ExitStatus, Severity::Error)),
        );
    }

    #[test]
    fn json_shape() {
        let e = na(&format!("{KEYS}aborted: no tar command found\n"));
        let v = serde_json::to_value(&e).expect("json");
        assert_eq!(v["tool"], "nixos-anywhere");
        assert_eq!(v["outcome"], "failed");
        assert_eq!(v["steps"][0]["name"], "Uploading install SSH keys");
        assert_eq!(v["steps"][0]["first_line"], 1);
        assert_eq!(v["steps"][0]["last_line"], 3);
        assert_eq!(v["last_step"], "Uploading install SSH keys");
        assert!(v["nodes"].as_object().is_some_and(|m| m.is_empty()));
        assert_eq!(v["findings"][0]["severity"], "error");
        assert_eq!(v["findings"][0]["kind"], "missing_tool");
        assert_eq!(v["findings"][0]["line"], 3);
        let e = col(&format!("{OK}      | All done!\n"));
        let v = serde_json::to_value(&e).expect("json");
        assert_eq!(v["tool"], "colmena");
        assert_eq!(v["nodes"]["a"], "pushing");
        assert!(v["last_step"].is_null());
    }
}
