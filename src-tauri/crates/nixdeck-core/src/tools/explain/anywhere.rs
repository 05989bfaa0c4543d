//! The recogniser for nixos-anywhere runs: steps from the markers, findings
//! from the lines inside each step, and the outcome.

use std::collections::{BTreeMap, HashMap};

use super::shapes::*;
use super::{
    complete, finding, quote, success_outcome, Explanation, FindingKind, Findings, Outcome, Quote,
    Severity, Tool,
};
use crate::tools::lines::{split_glued_progress, strip_ansi};
use crate::tools::nixos_anywhere::{parse_abort, Phase, StepEvent, StepTracker};

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

pub(super) fn explain(lines: &[String], exit_status: Option<i32>) -> Explanation {
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
