//! The recogniser for nixos-anywhere runs: steps from the markers, findings
//! from the lines inside each step, and the outcome.
//!
//! It reads one line at a time ([`Recogniser::push`]) so the live job view and
//! a saved log get the same answer, and keeps only what it needs (bounded
//! lists, the error being read), never the whole output.
//!
//! Beyond the markers it reads these shapes of real runs:
//! - logs pasted without markers (fragments, `--debug` traces): the step is
//!   inferred from what the lines are about (kexec, disko, nixos-install);
//! - `--debug` shell traces: an error followed by the script's exit (`+ exit 1`,
//!   its `EXIT` trap) stopped the run; an error followed by more of the
//!   script's own commands did not;
//! - a constant prefix on every line (a log pasted as `# ` comments): learnt
//!   from the markers and taken off;
//! - kexec: silence or refusals after `machine will boot into nixos` are the
//!   reboot; a login refused there means the installer came back but will not
//!   let nixos-anywhere in.

use std::collections::{BTreeMap, HashMap};

use super::shapes::*;
use super::{
    complete, finding, quote, success_outcome, Explanation, Finding, FindingKind, Outcome, Quote,
    Severity, Tool,
};
use crate::tools::lines::{split_glued_progress, strip_ansi, strip_collector_prefix};
use crate::tools::nixos_anywhere::{parse_abort, parse_marker, Phase, StepEvent, StepTracker};

/// How many findings a run keeps (more say nothing new).
const MAX_FINDINGS: usize = 64;
/// How many distinct failing lines of the key upload are counted.
const MAX_UPLOAD_FAILURES: usize = 32;
/// Lines of nix's indented trace read under an `error:` line.
const ERROR_CONTEXT_LINES: usize = 40;

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
    } else if t.contains("No such file or directory")
        || t.contains("cannot create")
        || t.contains("failed to create")
    {
        "`~/.ssh` cannot be created on the target (missing or unwritable home directory)"
    } else if is_auth_failure(t) {
        "the target refuses the login (wrong user, password or key)"
    } else if is_unreachable(t) {
        "the target cannot be reached"
    } else if t.contains("Permission denied") {
        "`~/.ssh/authorized_keys` on the target cannot be written (read-only or owned by someone else)"
    } else {
        "ssh-copy-id keeps failing"
    }
}

/// The step a line is about when no marker said so: fragments and `--debug`
/// traces pasted without nixos-anywhere's own lines.
fn infer_phase(t: &str) -> Option<Phase> {
    let lower = t.to_ascii_lowercase();
    if lower.contains("machine will boot into nixos")
        || lower.contains("kexec --load")
        || lower.contains("/kexec/")
        || lower.contains("kexec_")
        || lower.starts_with("kexec failed")
    {
        Some(Phase::Kexec)
    } else if [
        "sgdisk",
        "disko",
        "wipefs",
        "mkfs.",
        "disk-deactivate",
        "partprobe",
    ]
    .iter()
    .any(|w| lower.contains(w))
    {
        Some(Phase::Disko)
    } else if lower.starts_with("installing the boot loader")
        || lower.starts_with("installation finished")
        || lower.starts_with("updating grub")
        || lower.starts_with("setting up /etc")
    {
        Some(Phase::Install)
    } else if lower.contains("nix copy") || lower.contains("nix_copy") {
        Some(Phase::Closure)
    } else {
        None
    }
}

/// A quote prefix a whole log was pasted with (`# `, `> `, `│ `), recognised
/// in front of a marker.
fn quote_prefix(glued: &str) -> Option<String> {
    let g = glued.trim_end();
    (!g.is_empty() && g.len() <= 4 && g.chars().all(|c| matches!(c, '#' | '>' | '│' | '|')))
        .then(|| glued.to_string())
}

/// Box drawing that terraform/OpenTofu put in front of a provisioner's lines.
fn strip_box(t: &str) -> &str {
    t.trim_start_matches(['│', '╷', '╵', '┃']).trim()
}

/// What a `--debug` shell-trace line does.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Trace {
    /// The script leaves: `exit <n>` with n ≠ 0, or a command its `EXIT` trap runs.
    Exit,
    /// Any other command: the script carries on.
    Other,
}

/// An `error:` line whose indented trace is still being read.
struct PendingNixError {
    index: usize,
    context: String,
    lines: usize,
}

/// A finding and where the run was when it was made.
struct Found {
    finding: Finding,
    /// Index of the step it belongs to (`None`: before the first marker).
    step_index: Option<usize>,
}

/// Follows one nixos-anywhere run line by line; [`Recogniser::explanation`]
/// says what it means at any point.
pub(super) struct Recogniser {
    tracker: StepTracker,
    lines: usize,
    found: Vec<Found>,
    /// The step inferred from the lines while no marker has been seen.
    inferred: Option<Phase>,
    /// A prefix every line carries (learnt from a marker).
    prefix: Option<String>,
    /// First words of the commands the traced script's `EXIT` traps run.
    traps: Vec<String>,
    /// In the current step: the last line the script left at, and the last
    /// line it carried on.
    last_exit_trace: Option<usize>,
    last_other_trace: Option<usize>,
    /// `machine will boot into nixos`: line, text, step index.
    boot: Option<(usize, String, Option<usize>)>,
    /// Something answered (a prompt, a refusal) after the kexec reboot.
    kexec_answered: bool,
    install_errors: Vec<Quote>,
    install_errors_step: Option<String>,
    install_errors_index: Option<usize>,
    install_ok: Option<Quote>,
    /// ssh-copy-id failures in the key upload step: text -> (first line, count).
    upload_failures: HashMap<String, (usize, usize)>,
    /// `Source of key(s) to be installed` lines in the current key upload step.
    upload_attempts: usize,
    pending: Option<PendingNixError>,
}

impl Recogniser {
    pub(super) fn new() -> Self {
        Self {
            tracker: StepTracker::new(),
            lines: 0,
            found: Vec::new(),
            inferred: None,
            prefix: None,
            traps: Vec::new(),
            last_exit_trace: None,
            last_other_trace: None,
            boot: None,
            kexec_answered: false,
            install_errors: Vec::new(),
            install_errors_step: None,
            install_errors_index: None,
            install_ok: None,
            upload_failures: HashMap::new(),
            upload_attempts: 0,
            pending: None,
        }
    }

    fn step_index(&self) -> Option<usize> {
        self.tracker.steps().len().checked_sub(1)
    }

    fn add(&mut self, finding: Finding) {
        let step_index = self.step_index();
        // A few of each kind per step: whether the first was survived depends
        // on what came after it (see `explanation`); the verdict keeps one.
        let same = |f: &&Found| {
            f.finding.kind == finding.kind
                && f.finding.step == finding.step
                && f.step_index == step_index
        };
        let count = self.found.iter().filter(same).count();
        if count >= 4 || self.found.len() >= MAX_FINDINGS {
            return;
        }
        self.found.push(Found {
            finding,
            step_index,
        });
    }

    fn finish_pending(&mut self) {
        if let Some(p) = self.pending.take() {
            if let Some(f) = self.found.get_mut(p.index) {
                let kind = nix_error_kind(&p.context);
                let where_ = match &f.finding.step {
                    Some(s) => format!(" during `{s}`"),
                    None => " before the first step".into(),
                };
                f.finding.kind = kind;
                f.finding.message = nix_error_message(kind, &where_);
            }
        }
    }

    /// Takes the next line of the output (any line end, colours and a learnt
    /// prefix allowed).
    pub(super) fn push(&mut self, raw: &str) {
        self.lines += 1;
        let n = self.lines;
        let events = self.tracker.feed(n, raw);
        if let Some(StepEvent::Started { .. }) = events
            .iter()
            .find(|e| matches!(e, StepEvent::Started { .. }))
        {
            self.finish_pending();
            self.step_started(raw);
            return;
        }
        let plain = strip_ansi(raw);
        let plain = strip_collector_prefix(&plain);
        let mut t = plain.trim();
        if let Some(prefix) = &self.prefix {
            if let Some(rest) = plain.strip_prefix(prefix.as_str()) {
                t = rest.trim();
            }
        }
        t = strip_box(t);

        // nix's indented trace under an `error:` line.
        let mut close = false;
        let mut in_trace = false;
        if let Some(p) = self.pending.as_mut() {
            let indented = plain.starts_with(' ') || plain.starts_with('\t') || t.is_empty();
            if indented && p.lines < ERROR_CONTEXT_LINES {
                p.context.push('\n');
                p.context.push_str(t);
                p.lines += 1;
                in_trace = true;
                if t.is_empty() {
                    return;
                }
            } else {
                close = true;
            }
        }
        if close {
            self.finish_pending();
        }
        if t.is_empty() || t.contains("SSH COMMAND:") {
            return;
        }
        if t.starts_with('+') {
            self.trace(n, t);
            return;
        }
        if let Some((_, message)) = split_glued_progress(t) {
            t = message.trim();
        }
        let t = t.to_string();
        self.line(n, &t, in_trace);
    }

    fn step_started(&mut self, raw: &str) {
        // A marker with a quote prefix in front (`# ### Installing NixOS ###`):
        // every line carries it.
        if let Some(marker) = parse_marker(raw) {
            if marker.glued {
                let plain = strip_ansi(raw);
                let t = strip_collector_prefix(&plain).trim_start();
                if let Some(at) = t.find("### ") {
                    if let Some(prefix) = quote_prefix(&t[..at]) {
                        self.prefix = Some(prefix);
                    }
                }
            }
        }
        self.last_exit_trace = None;
        self.last_other_trace = None;
        self.upload_attempts = 0;
    }

    fn trace(&mut self, n: usize, t: &str) {
        let command = t.trim_start_matches('+').trim();
        // kexec's script says it with `echo`; nixos-anywhere's own check greps for it.
        if command.starts_with("echo ")
            && command.contains("machine will boot into nixos")
            && self.boot.is_none()
        {
            self.boot = Some((n, command.to_string(), self.step_index()));
        }
        if self.tracker.current().is_none() {
            if let Some(phase) = infer_phase(command) {
                self.inferred = Some(phase);
            }
        }
        let mut words = command.split_whitespace();
        let first = words.next().unwrap_or("");
        if first == "trap" {
            // `trap 'rm -rf "$dir"' EXIT`, `trap cleanup EXIT`
            if command.ends_with(" EXIT") {
                let body = command["trap".len()..command.len() - " EXIT".len()]
                    .trim()
                    .trim_matches(['\'', '"']);
                for part in body.split(';') {
                    if let Some(word) = part.split_whitespace().next() {
                        if !self.traps.iter().any(|w| w == word) && self.traps.len() < 16 {
                            self.traps.push(word.to_string());
                        }
                    }
                }
            }
            self.last_other_trace = Some(n);
            return;
        }
        let kind = if first == "exit" {
            match words.next().map(str::parse::<i32>) {
                Some(Ok(0)) | None => Trace::Other,
                Some(Ok(code)) => {
                    let step = self.tracker.current().map(|s| s.name.clone());
                    self.add(finding(
                        Severity::Error,
                        FindingKind::ScriptError,
                        n,
                        step.as_deref(),
                        format!(
                            "A script nixos-anywhere ran on the target exited with status {code}. \
                             The lines before it say why; run again with --debug if they do not."
                        ),
                        vec![quote(n, t)],
                    ));
                    Trace::Exit
                }
                Some(Err(_)) => Trace::Other,
            }
        } else if self.traps.iter().any(|w| w == first) {
            Trace::Exit
        } else {
            Trace::Other
        };
        match kind {
            Trace::Exit => self.last_exit_trace = Some(n),
            Trace::Other => {
                // After the script left, its trap's commands are no progress.
                if self.last_exit_trace.is_none() {
                    self.last_other_trace = Some(n);
                }
            }
        }
    }

    /// The phase a line belongs to: its step's, or the inferred one.
    fn phase(&mut self, t: &str) -> Option<Phase> {
        match self.tracker.current() {
            Some(step) => Some(step.phase),
            None => {
                if let Some(p) = infer_phase(t) {
                    self.inferred = Some(p);
                }
                self.inferred
            }
        }
    }

    /// One line of output; `in_trace` when it is part of the indented trace
    /// under an `error:` already found (its own `error:` is not another one).
    fn line(&mut self, n: usize, t: &str, in_trace: bool) {
        let phase = self.phase(t);
        let step_name = self.tracker.current().map(|s| s.name.clone());
        let step_name = step_name.as_deref();
        let after_reboot = matches!(
            phase,
            Some(Phase::Reboot | Phase::WaitForReboot | Phase::Done)
        );
        let waiting_for_kexec = phase == Some(Phase::Kexec)
            && self.boot.as_ref().is_some_and(|b| b.2 == self.step_index());

        if let Some(reason) = parse_abort(t) {
            let (kind, message) = abort_kind(&reason);
            self.add(finding(
                Severity::Error,
                kind,
                n,
                step_name,
                message,
                vec![quote(n, t)],
            ));
            return;
        }
        if let Some(prompt) = crate::tools::prompt::prompt_in(t) {
            // A warning: in a terminal someone may have answered it, and what
            // followed (a refused login) is then the error to show first.
            self.add(finding(
                Severity::Warning,
                FindingKind::WaitedOnPrompt,
                n,
                step_name,
                format!(
                    "The run asked a question on a terminal nobody sees: {}.",
                    prompt.advice()
                ),
                vec![quote(n, t)],
            ));
            return;
        }
        if is_key_permissions(t) {
            self.add(finding(
                Severity::Error,
                FindingKind::KeyPermissions,
                n,
                step_name,
                "ssh refuses to use the private key because other users can read its file. Run \
                 `chmod 600` on the key file (the quoted line names it) and start again."
                    .into(),
                vec![quote(n, t)],
            ));
            return;
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
            self.add(finding(
                Severity::Error,
                FindingKind::OutOfSpace,
                n,
                step_name,
                message.into(),
                vec![quote(n, t)],
            ));
            return;
        }
        if !after_reboot && is_host_key_changed(t) {
            self.add(finding(
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
            return;
        }
        if phase == Some(Phase::UploadSshKeys) {
            if t.contains("Source of key(s) to be installed") {
                self.upload_attempts += 1;
            }
            if is_auth_failure(t)
                || is_unreachable(t)
                || t.contains("Read-only file system")
                || t.contains("cannot create")
                || t.contains("ssh-copy-id: ERROR")
                || is_shell_error(t)
            {
                let len = self.upload_failures.len();
                match self.upload_failures.get_mut(t) {
                    Some(entry) => entry.1 += 1,
                    None if len < MAX_UPLOAD_FAILURES => {
                        self.upload_failures.insert(t.to_string(), (n, 1));
                    }
                    None => {}
                }
                return;
            }
        }
        if waiting_for_kexec && (is_auth_failure(t) || is_password_prompt(t)) {
            // The installer answered, but not to nixos-anywhere's key.
            self.kexec_answered = true;
            if is_auth_failure(t) {
                self.add(finding(
                    Severity::Error,
                    FindingKind::AuthFailed,
                    n,
                    step_name,
                    "The machine came back from kexec but refused nixos-anywhere's login (it asked \
                     for a password or rejected the key). If the SSH port is forwarded, pass \
                     --post-kexec-ssh-port; otherwise check that the installer image carries your \
                     key (nixos-anywhere copies root's authorized_keys into it)."
                        .into(),
                    vec![quote(n, t)],
                ));
            }
            return;
        }
        if !after_reboot && !waiting_for_kexec {
            if is_auth_failure(t) {
                self.add(finding(
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
                return;
            }
            if is_unreachable(t) {
                self.add(finding(
                    Severity::Error,
                    FindingKind::Unreachable,
                    n,
                    step_name,
                    "The target could not be reached over SSH. Check the address and port, that the \
                     machine is on and sshd runs, and that no firewall is in the way."
                        .into(),
                    vec![quote(n, t)],
                ));
                return;
            }
        }
        if is_crash(t) || is_own_script_report(t) {
            self.add(finding(
                Severity::Error,
                FindingKind::ToolCrashed,
                n,
                step_name,
                "A program nixos-anywhere runs crashed (quoted) instead of reporting an error; nix's \
                 `Too many root sets` comes from copying very many paths at once. Run the install \
                 again; if it crashes at the same place, update nix on this machine or build on \
                 the target (`--build-on remote`)."
                    .into(),
                vec![quote(n, t)],
            ));
            return;
        }
        match phase {
            Some(Phase::Kexec) => {
                if t.contains("machine will boot into nixos") {
                    if self.boot.is_none() {
                        self.boot = Some((n, t.to_string(), self.step_index()));
                    }
                    return;
                }
                if kexec_error(t) || (t.contains("Cannot allocate memory") && self.boot.is_none()) {
                    self.add(finding(
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
                    return;
                }
            }
            Some(Phase::Disko | Phase::BuildDisko | Phase::DiskEncryptionKeys) => {
                if disk_busy(t) {
                    self.add(finding(
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
                    return;
                }
                if disk_missing(t) {
                    self.add(finding(
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
                    return;
                }
                if nix_error(t).is_none() && disko_error(t) {
                    self.add(finding(
                        Severity::Error,
                        FindingKind::DiskoFailed,
                        n,
                        step_name,
                        "Partitioning or formatting failed (the quoted line is from disko or a tool \
                         it ran). Check the layout against the disks the probe found (sizes, \
                         alignment, partition types) and run the install again."
                            .into(),
                        vec![quote(n, t)],
                    ));
                    return;
                }
            }
            Some(Phase::Install) => {
                if install_success(t) {
                    if self.install_ok.is_none() {
                        self.install_ok = Some(quote(n, t));
                    }
                } else if install_error(t) && self.install_errors.len() < 5 {
                    self.install_errors.push(quote(n, t));
                    self.install_errors_step = step_name.map(str::to_string);
                    self.install_errors_index = self.step_index();
                }
                return;
            }
            _ => {}
        }
        if nix_error(t).is_some() && !in_trace {
            // nix ≥ 2.20 prints a bare `error:` and the trace below it,
            // indented: the kind is decided when the trace has been read.
            let kind = nix_error_kind(t);
            let where_ = match step_name {
                Some(s) => format!(" during `{s}`"),
                None => " before the first step".into(),
            };
            let before = self.found.len();
            self.add(finding(
                Severity::Error,
                kind,
                n,
                step_name,
                nix_error_message(kind, &where_),
                vec![quote(n, t)],
            ));
            if self.found.len() > before {
                self.pending = Some(PendingNixError {
                    index: before,
                    context: t.to_string(),
                    lines: 0,
                });
            }
            return;
        }
        if is_shell_error(t) || is_plain_error(t) {
            self.add(finding(
                Severity::Error,
                FindingKind::ScriptError,
                n,
                step_name,
                "A script stopped with an error (quoted): nixos-anywhere, a wrapper around it, or a \
                 command it ran on the target. Fix what the line names and run the install again."
                    .into(),
                vec![quote(n, t)],
            ));
        }
    }

    /// The run as far as it went: `exit_status` is the process's, when known.
    pub(super) fn explanation(&self, exit_status: Option<i32>) -> Explanation {
        let steps = self.tracker.steps().to_vec();
        let last_index = steps.len().checked_sub(1);
        let last_step = steps.last().map(|s| s.name.clone());
        let mut found: Vec<(Finding, Option<usize>)> = self
            .found
            .iter()
            .map(|f| (f.finding.clone(), f.step_index))
            .collect();
        if let Some(p) = &self.pending {
            if let Some((f, _)) = found.get_mut(p.index) {
                let kind = nix_error_kind(&p.context);
                let where_ = match &f.step {
                    Some(s) => format!(" during `{s}`"),
                    None => " before the first step".into(),
                };
                f.kind = kind;
                f.message = nix_error_message(kind, &where_);
            }
        }

        // A specific explanation wins over the generic nix error it caused.
        let specific: Vec<Option<usize>> = found
            .iter()
            .filter(|(f, _)| {
                !matches!(
                    f.kind,
                    FindingKind::NixBuildError
                        | FindingKind::NixEvalError
                        | FindingKind::ScriptError
                        | FindingKind::DiskoFailed
                )
            })
            .map(|(_, s)| *s)
            .collect();
        found.retain(|(f, s)| {
            !matches!(
                f.kind,
                FindingKind::NixBuildError
                    | FindingKind::NixEvalError
                    | FindingKind::ScriptError
                    | FindingKind::DiskoFailed
            ) || !specific.contains(s)
        });

        // A failing line in the key upload step: once is a failure, again and
        // again (or a second attempt after it) is ssh-copy-id's retry loop.
        if let Some((text, (first, count))) = self
            .upload_failures
            .iter()
            .max_by_key(|(_, (first, count))| (*count, usize::MAX - *first))
        {
            let step_index = steps
                .iter()
                .rposition(|s| s.phase == Phase::UploadSshKeys && s.first_line <= *first);
            let step_name = step_index.map(|i| steps[i].name.clone());
            let retried = *count >= 3 || (self.upload_attempts >= 2 && step_index == last_index);
            if retried {
                let attempts = (*count).max(self.upload_attempts);
                found.push((
                    finding(
                        Severity::Error,
                        FindingKind::UploadKeysLoop,
                        *first,
                        step_name.as_deref(),
                        format!(
                            "Uploading the install key is retried forever ({attempts} attempts so far): {}. \
                             nixos-anywhere never gives up here; cancel it, fix that on the target, and retry.",
                            upload_loop_cause(text)
                        ),
                        vec![quote(*first, text)],
                    ),
                    step_index,
                ));
            } else if is_auth_failure(text) || is_unreachable(text) {
                let kind = if is_auth_failure(text) {
                    FindingKind::AuthFailed
                } else {
                    FindingKind::Unreachable
                };
                found.push((
                    finding(
                        Severity::Error,
                        kind,
                        *first,
                        step_name.as_deref(),
                        format!(
                            "Uploading the install key failed: {}. Check address, user and key.",
                            upload_loop_cause(text)
                        ),
                        vec![quote(*first, text)],
                    ),
                    step_index,
                ));
            }
        }

        if let Some(first_error) = self.install_errors.first() {
            let line = first_error.line;
            match self.install_ok.as_ref().filter(|ok| ok.line > line) {
                Some(ok) => {
                    let mut q = self.install_errors.clone();
                    q.truncate(3);
                    q.push(ok.clone());
                    found.push((
                        finding(
                            Severity::Warning,
                            FindingKind::InstallErrorThenSuccess,
                            line,
                            self.install_errors_step.as_deref(),
                            "`Installing NixOS` printed errors and then reported success. The system may not \
                             boot as configured (boot loader errors are the usual case): check the quoted \
                             lines, and if the machine does not come back, boot it from an installer and \
                             run `nixos-install` again or fix the boot loader settings."
                                .into(),
                            q,
                        ),
                        self.install_errors_index,
                    ));
                }
                None => {
                    found.push((
                        finding(
                            Severity::Error,
                            FindingKind::InstallFailed,
                            line,
                            self.install_errors_step.as_deref(),
                            "`nixos-install` failed on the target. The quoted lines say why; the disks are \
                             already formatted, so after fixing the configuration you can rerun with \
                             `--phases install,reboot`."
                                .into(),
                            self.install_errors.iter().take(3).cloned().collect(),
                        ),
                        self.install_errors_index,
                    ));
                }
            }
        }

        // Went into kexec, said it would boot the installer, and nothing came
        // after: not another step, not an answer.
        let done = self.tracker.done();
        if let Some((boot, text, boot_step)) = &self.boot {
            if *boot_step == last_index && !done && exit_status != Some(0) && !self.kexec_answered {
                found.push((
                    finding(
                        Severity::Error,
                        FindingKind::KexecNoReturn,
                        *boot,
                        last_step.as_deref(),
                        "The target rebooted into the kexec installer and never answered again. Usual \
                         causes: the installer's network differs from the old system's (static IP, DHCP \
                         on another interface, IPv6-only), too little RAM for the installer, or firmware \
                         that does not survive kexec. Check the machine's console; booting it from a NixOS \
                         installer image avoids kexec."
                            .into(),
                        vec![quote(*boot, &strip_ansi(text))],
                    ),
                    *boot_step,
                ));
            }
        }

        let succeeded = match exit_status {
            Some(status) => status == 0,
            None => done,
        };
        // Lines of the errors in the last step: an error followed by another
        // one was not survived, whatever ran in between.
        let last_step_errors: Vec<usize> = found
            .iter()
            .filter(|(f, s)| *s == last_index && f.severity == Severity::Error && !f.kind.is_hang())
            .map(|(f, _)| f.line)
            .collect();
        let mut findings: Vec<Finding> = Vec::with_capacity(found.len());
        for (mut f, step_index) in found {
            if succeeded {
                // The run went through: what it printed on the way is a warning.
                f.severity = Severity::Warning;
            } else {
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
                let moved_past = match (step_index, last_index) {
                    (Some(here), Some(last)) => here < last,
                    (None, Some(_)) => true,
                    _ => false,
                };
                // In a traced step: the script carried on after the error and
                // did not leave.
                let in_last_step = step_index == last_index;
                let survived = in_last_step
                    && self.last_exit_trace.is_none_or(|exit| exit < f.line)
                    && self.last_other_trace.is_some_and(|other| other > f.line)
                    && !last_step_errors.iter().any(|l| *l > f.line);
                if f.severity == Severity::Error
                    && !always_fatal
                    && !f.kind.is_hang()
                    && (moved_past || survived)
                {
                    f.severity = Severity::Warning;
                }
            }
            let dup = findings
                .iter()
                .any(|g| g.kind == f.kind && g.step == f.step && g.severity == f.severity);
            if !dup {
                findings.push(f);
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
            self.lines,
        )
    }
}
