//! The deploy safety net's I/O: after colmena switched a node, does it still
//! answer over SSH? Connecting and logging in is the test: a node whose
//! network, sshd or firewall the new system broke fails it.

use crate::jobs::{JobKind, JobRecord};
use crate::ssh::{ConnectOptions, Session, SshError, SshTarget};
use nixdeck_core::tools::colmena::NodeTracker;
use nixdeck_core::tools::safety;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

/// Time between two tries.
const RETRY_EVERY: Duration = Duration::from_secs(1);

/// Whether the node answered within the limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum Answer {
    /// It accepted an SSH login this long after the check began.
    Answered {
        #[serde(with = "millis")]
        after: Duration,
    },
    /// It did not, in `tries` tries; the last failure in words.
    Silent { tries: u32, last_error: String },
}

mod millis {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

/// Failures that waiting can cure: nothing listens yet, the network is not
/// up, the handshake broke off mid-restart.
fn retryable(e: &SshError) -> bool {
    matches!(
        e,
        SshError::Unreachable { .. }
            | SshError::Timeout { .. }
            | SshError::Handshake { .. }
            | SshError::Channel { .. }
    )
}

/// Tries to log in to `target` until it works or `limit` has passed (each
/// try also bounded by what is left). A refused host key or login is
/// returned as an error at once: waiting does not change it, and it means
/// the node answers but not as expected (a reinstalled host key, a removed
/// user) — the user must look.
pub async fn check_answers(
    target: &SshTarget,
    connect: &ConnectOptions,
    limit: Duration,
) -> Result<Answer, SshError> {
    let start = Instant::now();
    let deadline = start + limit;
    let mut tries = 0u32;
    let mut last_error = String::from("no try was made");
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(Answer::Silent { tries, last_error });
        }
        tries += 1;
        let mut opts = connect.clone();
        opts.progress = None;
        opts.timeouts.connect = opts.timeouts.connect.min(left);
        opts.timeouts.handshake = opts.timeouts.handshake.min(left);
        opts.timeouts.auth = opts.timeouts.auth.min(left);
        match tokio::time::timeout(left, Session::connect(target, &opts)).await {
            Ok(Ok(session)) => {
                let after = start.elapsed();
                session.close().await;
                return Ok(Answer::Answered { after });
            }
            Ok(Err(e)) if retryable(&e) => last_error = e.to_string(),
            Ok(Err(e)) => return Err(e),
            Err(_) => last_error = format!("no answer within {left:?}"),
        }
        let pause = RETRY_EVERY.min(deadline.saturating_duration_since(Instant::now()));
        tokio::time::sleep(pause).await;
    }
}

/// The nodes of a finished deploy job to check: those its colmena output
/// shows reaching activation (see [`nixdeck_core::tools::safety::nodes_to_check`]),
/// read back from the job's log and command line, so it works for a job
/// from the history as well as for one that just ended. Empty for other kinds.
pub fn nodes_to_check(record: &JobRecord) -> std::io::Result<Vec<String>> {
    if record.kind != JobKind::Deploy {
        return Ok(Vec::new());
    }
    let options = safety::options_from_argv(&record.argv);
    let reader = BufReader::new(File::open(&record.log_path)?);
    let mut tracker = NodeTracker::new();
    for (line_no, line) in (1usize..).zip(reader.split(b'\n')) {
        tracker.feed(line_no, &String::from_utf8_lossy(&line?));
    }
    Ok(safety::nodes_to_check(tracker.nodes(), &options))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::JobResult;

    fn record(kind: JobKind, argv: &str, log: &std::path::Path) -> JobRecord {
        JobRecord {
            id: 1,
            kind,
            hosts: vec!["a".into(), "b".into()],
            argv: argv.split(' ').map(String::from).collect(),
            cwd: "/repo".into(),
            started_at: 0,
            ended_at: Some(1),
            exit_code: Some(1),
            signal: None,
            result: JobResult::Failed,
            reason: None,
            log_path: log.display().to_string(),
            lines: 0,
            tools: vec![],
            detached_pid: None,
        }
    }

    #[test]
    fn the_nodes_to_check_come_from_the_jobs_log() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("1.log");
        std::fs::write(
            &log,
            "a | Activating system profile\n\
             b | Build failed: Child process exited with error code: 1\n\
             a | Activation failed: Child process exited with error code: 4\n\
             [ERROR] Failed: Child process exited with error code: 1\n",
        )
        .unwrap();
        let deploy = record(JobKind::Deploy, "colmena apply test", &log);
        assert_eq!(nodes_to_check(&deploy).unwrap(), ["a"]);
        let boot = record(JobKind::Deploy, "colmena apply boot", &log);
        assert!(nodes_to_check(&boot).unwrap().is_empty());
        let install = record(JobKind::Install, "nixos-anywhere", &log);
        assert!(nodes_to_check(&install).unwrap().is_empty());
    }

    #[test]
    fn answers_serialize_with_milliseconds() {
        let a = Answer::Answered {
            after: Duration::from_millis(1500),
        };
        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"answer": "answered", "after": 1500})
        );
        assert_eq!(serde_json::from_value::<Answer>(json).unwrap(), a);
    }
}
