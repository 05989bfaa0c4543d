//! The line shapes the recogniser looks for (ssh, nix, disko, kexec,
//! nixos-install), as plain predicates over one line's plain text, and the
//! words for nix errors.

use super::FindingKind;
use crate::tools::colmena::looks_like_error;

pub(super) fn is_key_permissions(t: &str) -> bool {
    t.contains("UNPROTECTED PRIVATE KEY FILE")
        || (t.starts_with("Permissions ") && t.contains("are too open"))
        || (t.starts_with("Load key ") && t.ends_with("bad permissions"))
}

pub(super) fn is_auth_failure(t: &str) -> bool {
    t.contains("Permission denied (publickey")
        || t.contains("Permission denied, please try again")
        || t.contains("Too many authentication failures")
        || t.contains("No supported authentication methods available")
}

/// ssh asking for a password: the target answered but wants a password
/// (`(root@host) Password: `, `root@host's password: `).
pub(super) fn is_password_prompt(t: &str) -> bool {
    let lower = t.trim_end().to_ascii_lowercase();
    lower.ends_with("password:")
        && (lower.starts_with('(') || lower.contains("'s password") || lower == "password:")
}

pub(super) fn is_unreachable(t: &str) -> bool {
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
        // OpenSSH: `Connection closed by 203.0.113.7 port 22` (during the handshake)
        || (t.starts_with("Connection closed by ") && t.contains(" port "))
}

pub(super) fn is_host_key_changed(t: &str) -> bool {
    t.contains("REMOTE HOST IDENTIFICATION HAS CHANGED")
        || t.starts_with("Host key verification failed")
}

pub(super) fn is_out_of_space(t: &str) -> bool {
    t.contains("No space left on device") || t.contains("not enough free space")
}

/// `error:` lines of nix (and friends), after a glued progress text is split off.
/// Also nix's flake-attribute message, which users often paste without its
/// `error:` prefix.
pub(super) fn nix_error(t: &str) -> Option<&str> {
    let t = t.trim_start();
    if t.starts_with("flake '") && t.contains("does not provide attribute") {
        return Some(t);
    }
    if t.starts_with("error:") || t.starts_with("error (ignored):") {
        return if t.starts_with("error (ignored)") {
            None
        } else {
            Some(t)
        };
    }
    None
}

pub(super) fn is_eval_error(t: &str) -> bool {
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

pub(super) fn is_build_error(t: &str) -> bool {
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

pub(super) fn nix_error_kind(t: &str) -> FindingKind {
    if is_build_error(t) || !is_eval_error(t) {
        FindingKind::NixBuildError
    } else {
        FindingKind::NixEvalError
    }
}

pub(super) fn nix_error_message(kind: FindingKind, where_: &str) -> String {
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

pub(super) fn disk_busy(t: &str) -> bool {
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

pub(super) fn disk_missing(t: &str) -> bool {
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

pub(super) fn kexec_error(t: &str) -> bool {
    let lower = t.to_ascii_lowercase();
    lower.contains("kexec_load failed")
        || lower.contains("kexec_file_load failed")
        || lower.starts_with("kexec failed")
        || lower.starts_with("can't kexec")
        || lower.starts_with("kexec may have failed")
        || lower.contains("kexec: command not found")
        || lower.contains("cannot load") && lower.contains("kexec")
        || (lower.contains("kexec") && lower.contains("operation not permitted"))
}

pub(super) fn install_error(t: &str) -> bool {
    let lower = t.to_ascii_lowercase();
    looks_like_error(t)
        || is_shell_error(t)
        // perl's `die` in install-grub.pl
        || (lower.starts_with("died at ") && lower.contains(" line "))
        || lower.starts_with("failed to ")
        || lower.contains(": failed to ")
        || lower.starts_with("error:")
        || lower.starts_with("error ")
        || lower.starts_with("traceback (most recent call last)")
        || lower.contains("failed to install bootloader")
        || lower.contains("exception:")
        || lower.contains("error: ")
        || lower.starts_with("fatal:")
        || lower.contains("calledprocesserror")
}

pub(super) fn install_success(t: &str) -> bool {
    let lower = t.to_ascii_lowercase();
    lower.contains("installation finished!") || lower.starts_with("installation finished.")
}

/// A shell's own error report: `<script>: line <n>: <what>` (bash, also from
/// `sh -c`), or a traced script's `<cmd>: command not found`.
pub(super) fn is_shell_error(t: &str) -> bool {
    crate::tools::colmena::is_shell_error(t)
}

/// An error line of the partitioning tools disko drives (sgdisk, parted,
/// mkfs, cryptsetup, zpool…) or of disko's own script, by its wording.
pub(super) fn disko_error(t: &str) -> bool {
    let lower = t.to_ascii_lowercase();
    lower.starts_with("error")
        || lower.contains("error:")
        || lower.starts_with("could not ")
        || lower.starts_with("cannot ")
        || lower.contains(": cannot ")
        || lower.starts_with("fatal")
        || is_shell_error(t)
}

/// A process that crashed rather than reported an error: nix's garbage
/// collector giving up, an uncaught C++ exception, a signal.
pub(super) fn is_crash(t: &str) -> bool {
    t.starts_with("Too many root sets")
        || t.starts_with("terminate called after throwing")
        || t.contains("Aborted (core dumped)")
        || t.contains("Segmentation fault")
}

/// A line that bash printed about nixos-anywhere's own script
/// (`/nix/store/…-nixos-anywhere-1.2.0/libexec/nixos-anywhere.sh: line 9: …`):
/// the script itself failed.
pub(super) fn is_own_script_report(t: &str) -> bool {
    let first = t.split_whitespace().next().unwrap_or("");
    first.starts_with("/nix/store/")
        && first.contains("-nixos-anywhere-")
        && (first.contains("/libexec") || first.contains("nixos-anywhere.sh"))
}

/// A wrapper's or tool's own capitalised error line (`Error: …`, `ERROR: …`).
pub(super) fn is_plain_error(t: &str) -> bool {
    t.starts_with("Error: ") || t.starts_with("ERROR: ") || t.starts_with("Error running command")
}

/// Lines worth quoting as the reason of a failure.
pub(super) fn is_evidence(t: &str) -> bool {
    looks_like_error(t)
        || nix_error(t).is_some()
        || is_auth_failure(t)
        || is_unreachable(t)
        || is_host_key_changed(t)
        || is_out_of_space(t)
}
