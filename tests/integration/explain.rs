//! `nixdeck log explain` on recorded logs of every failure shape: the JSON the
//! issue specifies, from the real binary.

use nixdeck_tests::fixture;
use serde_json::Value;
use std::process::Command;

fn explain(rel: &str, extra: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_nixdeck-headless"))
        .args(["log", "explain"])
        .arg(fixture(&format!("logs/{rel}")))
        .arg("--json")
        .args(extra)
        .output()
        .expect("run nixdeck-headless");
    assert!(
        out.status.success(),
        "{rel}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// Asserts tool, outcome, last step, and that a finding of `kind` with
/// `severity` is at `line`.
#[track_caller]
fn expect(
    v: &Value,
    tool: &str,
    outcome: &str,
    last_step: Option<&str>,
    finding: Option<(&str, &str, u64)>,
) {
    assert_eq!(v["tool"], tool, "{v:#}");
    assert_eq!(v["outcome"], outcome, "{v:#}");
    match last_step {
        Some(s) => assert_eq!(v["last_step"], s, "{v:#}"),
        None => assert!(v["last_step"].is_null(), "{v:#}"),
    }
    let findings = v["findings"].as_array().expect("findings");
    match finding {
        Some((severity, kind, line)) => assert!(
            findings
                .iter()
                .any(|f| f["severity"] == severity && f["kind"] == kind && f["line"] == line),
            "no {severity} {kind} at line {line}: {v:#}"
        ),
        None => assert!(findings.is_empty(), "{v:#}"),
    }
    for f in findings {
        assert!(f["message"].as_str().is_some_and(|m| m.len() > 20), "{f:#}");
    }
}

const NA: &str = "nixos-anywhere";

/// A fixture, its outcome, its last step and one finding (severity, kind, line).
type Case = (
    &'static str,
    &'static str,
    Option<&'static str>,
    (&'static str, &'static str, u64),
);

#[test]
fn nixos_anywhere_successes() {
    for file in ["success.log", "success-debug.log"] {
        let v = explain(&format!("nixos-anywhere/{file}"), &[]);
        expect(&v, NA, "succeeded", Some("Done!"), None);
        let names: Vec<&str> = v["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .map(|s| s["name"].as_str().expect("name"))
            .collect();
        assert_eq!(
            names,
            [
                "Uploading install SSH keys",
                "Gathering machine facts",
                "Switching system into kexec",
                "Gathering machine facts",
                "Generating hardware-configuration.nix using nixos-generate-config",
                "Formatting hard drive with disko",
                "Uploading the system closure",
                "Installing NixOS",
                "Rebooting",
                "Waiting for the machine to become unreachable due to reboot",
                "Done!"
            ],
            "{file}"
        );
    }
    let v = explain("nixos-anywhere/success.log", &[]);
    assert_eq!(v["steps"][0]["first_line"], 1);
    assert_eq!(v["steps"][0]["last_line"], 11);
    assert_eq!(v["steps"][2]["first_line"], 14);
    assert_eq!(v["steps"][2]["last_line"], 27);

    let v = explain("nixos-anywhere/success-old-version.log", &[]);
    expect(&v, NA, "succeeded", Some("Done!"), None);
    let steps = v["steps"].as_array().expect("steps");
    assert_eq!(
        steps[steps.len() - 2]["name"],
        "Waiting for the machine to become reachable again"
    );
}

#[test]
fn nixos_anywhere_failures() {
    let cases: [Case; 13] = [
        (
            "key-permissions.log",
            "failed",
            None,
            ("error", "key_permissions", 2),
        ),
        (
            "auth-failed.log",
            "failed",
            Some("Gathering machine facts"),
            ("error", "auth_failed", 9),
        ),
        (
            "unreachable.log",
            "failed",
            Some("Gathering machine facts"),
            ("error", "unreachable", 13),
        ),
        (
            "upload-keys-loop.log",
            "incomplete",
            Some("Uploading install SSH keys"),
            ("error", "upload_keys_loop", 6),
        ),
        (
            "aborted-no-tar.log",
            "failed",
            Some("Gathering machine facts"),
            ("error", "missing_tool", 14),
        ),
        (
            "kexec-failed.log",
            "failed",
            Some("Switching system into kexec"),
            ("error", "kexec_failed", 23),
        ),
        (
            "kexec-no-return.log",
            "incomplete",
            Some("Switching system into kexec"),
            ("error", "kexec_no_return", 23),
        ),
        (
            "disko-busy.log",
            "failed",
            Some("Formatting hard drive with disko"),
            ("error", "disk_busy", 38),
        ),
        (
            "disko-missing.log",
            "failed",
            Some("Formatting hard drive with disko"),
            ("error", "disk_missing", 37),
        ),
        (
            "out-of-space.log",
            "failed",
            Some("Uploading the system closure"),
            ("error", "out_of_space", 66),
        ),
        (
            "install-error-then-success.log",
            "succeeded_with_warnings",
            Some("Done!"),
            ("warning", "install_error_then_success", 70),
        ),
        (
            "nix-eval-error.log",
            "failed",
            Some("Generating hardware-configuration.nix using nixos-generate-config"),
            ("error", "nix_eval_error", 35),
        ),
        (
            "nix-build-error.log",
            "failed",
            Some("Building the system closure"),
            ("error", "nix_build_error", 41),
        ),
    ];
    for (file, outcome, last, finding) in cases {
        let v = explain(&format!("nixos-anywhere/{file}"), &[]);
        expect(&v, NA, outcome, last, Some(finding));
    }
    let v = explain("nixos-anywhere/incomplete-install.log", &[]);
    expect(&v, NA, "incomplete", Some("Installing NixOS"), None);
}

#[test]
fn exit_status_and_tool_options() {
    // A job log with its exit status: the cut install failed.
    let v = explain(
        "nixos-anywhere/incomplete-install.log",
        &["--exit-status", "1"],
    );
    expect(
        &v,
        NA,
        "failed",
        Some("Installing NixOS"),
        Some(("error", "exit_status", 69)),
    );
    // Forcing the tool overrides detection.
    let v = explain("colmena/success-0.5.log", &["--tool", "nixos-anywhere"]);
    assert_eq!(v["tool"], NA);
    let v = explain("colmena/success-0.5.log", &["--tool", "colmena"]);
    assert_eq!(v["tool"], "colmena");
}

fn nodes(v: &Value) -> Vec<(String, String)> {
    v["nodes"]
        .as_object()
        .expect("nodes")
        .iter()
        .map(|(k, s)| (k.clone(), s.as_str().expect("state").to_string()))
        .collect()
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn colmena_runs() {
    let v = explain("colmena/success-0.5.log", &[]);
    expect(&v, "colmena", "succeeded", None, None);
    assert_eq!(
        nodes(&v),
        pairs(&[("alpha", "succeeded"), ("beta", "succeeded")])
    );
    assert_eq!(v["steps"].as_array().map(Vec::len), Some(0));

    let v = explain("colmena/success-0.4.log", &[]);
    expect(&v, "colmena", "succeeded", None, None);
    assert_eq!(
        nodes(&v),
        pairs(&[("db-1", "succeeded"), ("web-frontend-01", "succeeded")])
    );

    let v = explain("colmena/build-failed.log", &[]);
    expect(
        &v,
        "colmena",
        "failed",
        None,
        Some(("error", "build_failed", 19)),
    );
    assert_eq!(nodes(&v), pairs(&[("alpha", "failed"), ("beta", "failed")]));

    let v = explain("colmena/eval-failed.log", &[]);
    expect(
        &v,
        "colmena",
        "failed",
        None,
        Some(("error", "eval_failed", 9)),
    );

    let v = explain("colmena/push-failed.log", &[]);
    expect(
        &v,
        "colmena",
        "failed",
        None,
        Some(("error", "push_failed", 21)),
    );
    assert_eq!(
        nodes(&v),
        pairs(&[("alpha", "succeeded"), ("beta", "failed")])
    );

    let v = explain("colmena/key-upload-failed.log", &[]);
    expect(
        &v,
        "colmena",
        "failed",
        None,
        Some(("error", "key_upload_failed", 24)),
    );

    let v = explain("colmena/activation-failed.log", &[]);
    expect(
        &v,
        "colmena",
        "failed",
        None,
        Some(("error", "activation_failed", 17)),
    );
    assert_eq!(nodes(&v), pairs(&[("mail", "failed")]));

    let v = explain("colmena/activation-warnings.log", &[]);
    expect(
        &v,
        "colmena",
        "succeeded_with_warnings",
        None,
        Some(("warning", "activation_warnings", 28)),
    );
    assert_eq!(
        nodes(&v),
        pairs(&[("alpha", "succeeded"), ("beta", "succeeded")])
    );

    // Both: the nodes' success and colmena's crash.
    for extra in [&[][..], &["--exit-status", "101"][..]] {
        let v = explain("colmena/panic-after-success.log", extra);
        expect(
            &v,
            "colmena",
            "succeeded_with_warnings",
            None,
            Some(("warning", "colmena_panic", 37)),
        );
        assert_eq!(
            nodes(&v),
            pairs(&[("alpha", "succeeded"), ("beta", "succeeded")])
        );
    }

    let v = explain("colmena/incomplete.log", &[]);
    expect(&v, "colmena", "incomplete", None, None);
    assert_eq!(
        nodes(&v),
        pairs(&[("alpha", "pushing"), ("beta", "pushing")])
    );
}

#[test]
fn readable_summary_and_errors() {
    let out = Command::new(env!("CARGO_BIN_EXE_nixdeck-headless"))
        .args(["log", "explain"])
        .arg(fixture("logs/nixos-anywhere/disko-busy.log"))
        .output()
        .expect("run");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("outcome: failed"), "{text}");
    assert!(
        text.contains("error disk_busy (line 38, Formatting hard drive with disko)"),
        "{text}"
    );
    assert!(text.contains("Device or resource busy"), "{text}");

    let out = Command::new(env!("CARGO_BIN_EXE_nixdeck-headless"))
        .args(["log", "explain", "/nonexistent/run.log"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("could not read the log file /nonexistent/run.log"),
        "{err}"
    );
}

mod job_log {
    //! `log explain` on the log the runner wrote for a finished job gives the
    //! steps the job view showed (its phase events).

    use super::*;
    use nixdeck_engine::runner::progress::InstallProgress;
    use nixdeck_engine::runner::{EventSink, JobEvent, Run, RunSpec};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    #[derive(Default)]
    struct Collect(Mutex<Vec<JobEvent>>);

    impl EventSink for Collect {
        fn send(&self, event: &JobEvent) -> bool {
            self.0.lock().map(|mut v| v.push(event.clone())).is_ok()
        }
    }

    /// Replays a recorded nixos-anywhere log through the real runner, as a
    /// stand-in child would print it (CRLF and redraws included), exiting `code`.
    fn run_job(fixture_rel: &str, code: i32) -> (Vec<(String, u64)>, tempfile::TempDir, i32) {
        let dir = tempfile::tempdir().expect("tempdir");
        let log_path = dir.path().join("job.log");
        let spec = RunSpec {
            program: "/bin/sh".into(),
            args: vec![
                "-c".into(),
                "cat \"$1\"; exit \"$2\"".into(),
                "stand-in-nixos-anywhere".into(),
                fixture(&format!("logs/{fixture_rel}"))
                    .display()
                    .to_string(),
                code.to_string(),
            ],
            env: Vec::new(),
            cwd: dir.path().to_path_buf(),
            display_argv: vec!["nixos-anywhere".into()],
            secrets: Vec::new(),
            log_path: log_path.clone(),
            grace: Duration::from_secs(2),
            stall_after: None,
            stop_on_prompt: false,
        };
        let sink = Arc::new(Collect::default());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let outcome = runtime.block_on(async {
            let run = Run::start(spec, Box::new(InstallProgress::new()), Some(sink.clone()))
                .expect("start");
            run.wait().await
        });
        let phases = sink
            .0
            .lock()
            .expect("events")
            .iter()
            .filter_map(|e| match e {
                JobEvent::Phase(p) if p.node.is_none() && p.phase != "aborted" => {
                    Some((p.label.clone(), p.seq + 1))
                }
                _ => None,
            })
            .collect();
        (phases, dir, outcome.exit_code.unwrap_or(-1))
    }

    fn cli_steps(log: &std::path::Path, code: i32) -> (Value, Vec<(String, u64)>) {
        let out = Command::new(env!("CARGO_BIN_EXE_nixdeck-headless"))
            .args([
                "log",
                "explain",
                "--json",
                "--exit-status",
                &code.to_string(),
            ])
            .arg(log)
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).expect("json");
        let steps = v["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .map(|s| {
                (
                    s["name"].as_str().expect("name").to_string(),
                    s["first_line"].as_u64().expect("line"),
                )
            })
            .collect();
        (v, steps)
    }

    #[test]
    fn same_steps_as_the_job_view() {
        for (rel, code, outcome) in [
            ("nixos-anywhere/success.log", 0, "succeeded"),
            ("nixos-anywhere/success-debug.log", 0, "succeeded"),
            ("nixos-anywhere/disko-busy.log", 1, "failed"),
        ] {
            let (phases, dir, exit) = run_job(rel, code);
            assert_eq!(exit, code, "{rel}");
            let (v, steps) = cli_steps(&dir.path().join("job.log"), exit);
            assert!(phases.len() >= 5, "{rel}: {phases:?}");
            assert_eq!(steps, phases, "{rel}");
            assert_eq!(v["outcome"], outcome, "{rel}");
        }
    }
}
