//! Recogniser tests: one per failure shape, outcome and rule.

use super::*;
use crate::tools::colmena::NodeState;

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
    // A bare panic (an invalid `--on` glob) is colmena's.
    let e = explain_text(
        "thread 'main' panicked at src/nix/node_filter.rs:90:62:\ncalled `Result::unwrap()` on an `Err` value\n",
        None,
        Some(101),
    );
    assert_eq!(e.tool, Tool::Colmena);
    assert_eq!(e.findings[0].kind, FindingKind::ColmenaPanic);
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

#[test]
fn a_traced_error_the_script_survived_is_not_the_end() {
    // `umount` failed, then the disko script went on: no failure yet.
    let log = "### Formatting hard drive with disko ###\numount: /mnt/home: target is busy.\n++ realpath /dev/sda\n+ lsblk -a -f\n";
    let e = na(log);
    check(
        &e,
        Outcome::Incomplete,
        Some("Formatting hard drive with disko"),
        Some((FindingKind::DiskBusy, Severity::Warning)),
    );
    // The same error followed by the script's EXIT trap: it stopped there.
    let log = "### Formatting hard drive with disko ###\n+ trap 'rm -rf \"$dir\"' EXIT\n+ sgdisk --new=1:0:+1024M /dev/vda\nCould not create partition 1 from 34 to 2097185\n+ rm -rf /tmp/tmp.x\n";
    let e = na(log);
    check(
        &e,
        Outcome::Failed,
        Some("Formatting hard drive with disko"),
        Some((FindingKind::DiskoFailed, Severity::Error)),
    );
}

#[test]
fn fragments_without_markers_are_placed_by_their_lines() {
    // kexec's own trace, then nothing: the machine never came back.
    let e = na("+ echo 'machine will boot into nixos in 6s...'\nmachine will boot into nixos in 6s...\n+ exec\n");
    check(
        &e,
        Outcome::Incomplete,
        None,
        Some((FindingKind::KexecNoReturn, Severity::Error)),
    );
    // The installer came back but refused the login.
    let e = na("machine will boot into nixos in 6s...\n(root@localhost) Password: \nReceived disconnect from ::1 port 22:2: Too many authentication failures\n");
    check(
        &e,
        Outcome::Failed,
        None,
        Some((FindingKind::AuthFailed, Severity::Error)),
    );
    // nixos-install's lines without the marker, then the run's end.
    let e = na("installing the boot loader...\nDied at /nix/store/x-install-grub.pl line 586.\ninstallation finished!\n### Done! ###\n");
    check(
        &e,
        Outcome::SucceededWithWarnings,
        Some("Done!"),
        Some((FindingKind::InstallErrorThenSuccess, Severity::Warning)),
    );
}

#[test]
fn a_log_pasted_with_a_prefix_is_read_through_it() {
    let log = "# ### Installing NixOS ###\n# Activation script snippet 'setupSecretsForUsers' failed (1)\n# installation finished!\n# ### Done! ###\n";
    let e = na(log);
    check(
        &e,
        Outcome::SucceededWithWarnings,
        Some("Done!"),
        Some((FindingKind::InstallErrorThenSuccess, Severity::Warning)),
    );
}

#[test]
fn explainer_answers_mid_run_as_for_the_whole_text() {
    let text = format!("{KEYS}{FACTS}### Formatting hard drive with disko ###\nwipefs: error: /dev/sda1: probing initialization failed: Device or resource busy\n");
    let mut live = Explainer::new(Tool::NixosAnywhere);
    for line in text.lines() {
        live.push(line);
    }
    assert_eq!(live.explanation(None), explain_text(&text, None, None));
    assert_eq!(live.explanation(None).outcome, Outcome::Failed);
}

#[test]
fn colmena_summary_first_and_spinner_rows() {
    let e = explain_text(
        "$ colmena apply\n           \u{274c} 6s Failed: Child process exited with error code: 1\nweb \u{2705} 5s Evaluated web\nweb \u{274c} 0s Push failed: Child process exited with error code: 1\n",
        None,
        None,
    );
    assert_eq!(e.tool, Tool::Colmena);
    assert_eq!(e.outcome, Outcome::Failed);
    assert_eq!(e.nodes["web"], NodeState::Failed);
    assert_eq!(e.findings[0].kind, FindingKind::PushFailed);
    // colmena 0.1 printed no `All done!`: every selected node succeeding is the end.
    let e = col("[INFO ] Selected 1 out of 8 hosts.\nh \u{2705} 0s Build successful\nh \u{2705} 1s Activation successful\n");
    assert_eq!(e.outcome, Outcome::Succeeded);
    let e = col("[INFO ] Selected 2 out of 8 hosts.\nh \u{2705} 1s Activation successful\n");
    assert_eq!(e.outcome, Outcome::Incomplete);
}

#[test]
fn ci_timestamps_in_front_of_every_line() {
    let log = "2024-05-16T10:00:00.1000000Z ### Formatting hard drive with disko ###\n\
               2024-05-16T10:00:01.1000000Z + trap 'rm -rf \"$dir\"' EXIT\n\
               2024-05-16T10:00:02.1000000Z Could not create partition 1 from 34 to 2097185\n\
               2024-05-16T10:00:03.1000000Z + rm -rf /tmp/tmp.x\n";
    let e = na(log);
    check(
        &e,
        Outcome::Failed,
        Some("Formatting hard drive with disko"),
        Some((FindingKind::DiskoFailed, Severity::Error)),
    );
    let e = explain_text(
        "2024-05-16T10:00:00Z   web | Activation failed: Child process exited with error code: 4\n",
        None,
        None,
    );
    assert_eq!(e.tool, Tool::Colmena);
    assert_eq!(e.nodes["web"], NodeState::Failed);
}

#[test]
fn a_prompt_in_the_output_is_named_with_what_to_do() {
    let e = na("### Formatting hard drive with disko ###\nCreating new GPT entries in memory.\nEnter password for /dev/vda2: \n");
    let f = e
        .findings
        .iter()
        .find(|f| f.kind == FindingKind::WaitedOnPrompt)
        .unwrap_or_else(|| panic!("{e:#?}"));
    assert_eq!(f.step.as_deref(), Some("Formatting hard drive with disko"));
    assert!(f.message.contains("passwordFile"), "{}", f.message);
    assert_eq!(f.quote[0].text, "Enter password for /dev/vda2:");
}
