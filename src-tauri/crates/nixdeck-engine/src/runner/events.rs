//! What a running job tells its watchers, and the sink that carries it (the app
//! forwards it over a `tauri::ipc::Channel`, the CLI prints it).

pub use nixdeck_core::tools::lines::StyledSpan;
use nixdeck_core::tools::lines::{has_escapes, styled_spans};
pub use nixdeck_core::tools::watchdog::Alert;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Which pipe a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
#[ts(rename = "LogStream")]
pub enum Stream {
    Stdout,
    Stderr,
    /// Replayed from the saved log, where the pipe is not recorded.
    Log,
}

/// How a job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum JobResult {
    /// Still running (only in the store).
    Running,
    Succeeded,
    Failed,
    Cancelled,
    /// nixdeck stopped while the job ran; its real end is unknown.
    Interrupted,
}

impl JobResult {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Interrupted => "interrupted",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "running" => Self::Running,
            "succeeded" => Self::Succeeded,
            "failed" => Self::Failed,
            "cancelled" => Self::Cancelled,
            "interrupted" => Self::Interrupted,
            _ => return None,
        })
    }
}

/// The end of a run: result, how the process ended, and why in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(rename = "JobOutcome")]
pub struct Outcome {
    pub result: JobResult,
    /// The exit status when the process exited.
    pub exit_code: Option<i32>,
    /// The signal when the process was killed by one.
    pub signal: Option<i32>,
    /// Why it failed or what a cancel left behind, in words.
    pub reason: Option<String>,
    /// How many lines the job printed.
    pub lines: u64,
}

/// A step of progress seen in the output: a nixos-anywhere step, or a colmena
/// node changing state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct PhaseEvent {
    /// The node for per-node progress (colmena); `None` for the whole run.
    pub node: Option<String>,
    /// A stable id: the nixos-anywhere step (`disko`, `install`…), the node's
    /// state (`building`, `succeeded`…), or the run's end (`all_done`, `panic`).
    pub phase: String,
    /// What to show: the step marker's text, or the state in words.
    pub label: String,
    /// The number of the line that caused it.
    pub seq: u64,
    /// Milliseconds since the job started; a step lasts until the next one starts.
    pub at_ms: u64,
    /// A failure text, when it is one.
    pub detail: Option<String>,
    /// Whether cancelling now can leave the target's disks half-written (an
    /// install from disko's start until nixos-install finished), so the window
    /// warns before a cancel. The parser of the tool decides; the window does not.
    #[serde(default)]
    pub disks_at_risk: bool,
}

/// One event of a job, tagged `kind` on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobEvent {
    /// The command started; `argv` has secrets redacted.
    Started { argv: Vec<String> },
    /// Consecutive lines of one stream; the first has number `first_seq`
    /// (numbers count lines of both streams together, from 0).
    /// Lines keep their escapes (the log file and a terminal want them); the
    /// ones that have any also come in `styled`, ready to draw.
    Lines {
        stream: Stream,
        first_seq: u64,
        lines: Vec<String>,
        /// The lines with escape sequences, as styled text without them
        /// (see [`JobEvent::lines`]); plain lines are not repeated here.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        styled: Vec<StyledLine>,
    },
    /// Progress.
    Phase(PhaseEvent),
    /// No output for `secs` seconds, or (with `alert`) the watchdog saw a step
    /// go quiet past its limit or repeat itself, with words on what to check.
    Stalled {
        secs: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        alert: Option<Alert>,
    },
    /// Lines `first_seq .. first_seq + count` were written to the job's log
    /// but not sent, because they came faster than this watcher takes lines
    /// (see [`super::LiveTail`]); the lines after them follow. Read them from
    /// the log by number when they come into sight.
    LinesDropped { first_seq: u64, count: u64 },
    /// The job ended.
    Finished { outcome: Outcome },
}

/// A line of output with escape sequences, as the window draws it: the text
/// without escapes in spans of one style each (colours and bold from SGR codes,
/// every other escape dropped), by the one parser in `nixdeck_core::tools::lines`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct StyledLine {
    /// The line's number (as in `first_seq`).
    pub seq: u64,
    pub spans: Vec<StyledSpan>,
}

impl JobEvent {
    /// A `Lines` event for `lines` numbered from `first_seq`, with the styled
    /// form of those that have escapes. Plain lines cost one byte scan.
    pub fn lines(stream: Stream, first_seq: u64, lines: Vec<String>) -> Self {
        let styled = styled_lines(first_seq, &lines);
        JobEvent::Lines {
            stream,
            first_seq,
            lines,
            styled,
        }
    }
}

/// The styled form of those of `lines` (numbered from `first_seq`) that have
/// escape sequences; plain lines cost one byte scan and are left out.
pub fn styled_lines(first_seq: u64, lines: &[String]) -> Vec<StyledLine> {
    (first_seq..)
        .zip(lines)
        .filter(|(_, line)| has_escapes(line))
        .map(|(seq, line)| StyledLine {
            seq,
            spans: styled_spans(line),
        })
        .collect()
}

/// Where events go. `send` returns false when the receiver is gone; the job
/// goes on regardless and that sink gets no more events (re-attach to resume).
pub trait EventSink: Send + Sync {
    fn send(&self, event: &JobEvent) -> bool;

    /// Sends the events of one flush of the runner together (consecutive
    /// `Lines` of both streams), so a sink can thin them as a whole. By
    /// default, one by one.
    fn send_batch(&self, events: &[JobEvent]) -> bool {
        events.iter().all(|event| self.send(event))
    }

    /// Called at the runner's flush interval when it had no lines to send:
    /// a sink that holds events back ([`super::LiveTail`]) sends them now if
    /// it may. Returns false when the receiver is gone.
    fn tick(&self) -> bool {
        true
    }
}

impl<F> EventSink for F
where
    F: Fn(&JobEvent) -> bool + Send + Sync,
{
    fn send(&self, event: &JobEvent) -> bool {
        self(event)
    }
}

/// Reads a job's output line by line and says where it is. The parsers of
/// nixos-anywhere and colmena output implement it; the runner knows no tool.
pub trait LineObserver: Send {
    /// Sees every line in order (`seq` counts from 0); returns progress it recognised.
    fn on_line(
        &mut self,
        stream: Stream,
        seq: u64,
        line: &str,
        elapsed: Duration,
    ) -> Vec<PhaseEvent>;
    /// Why the run failed, in words, when the output said so (`aborted: …`).
    fn failure_reason(&self) -> Option<String> {
        None
    }
    /// What a cancel at this point leaves behind (a half-formatted disk).
    fn cancel_note(&self) -> Option<String> {
        None
    }
    /// Called once when the tool exited 0, before the outcome is sent or
    /// stored: what was done after it (a host key recorded), in words.
    fn success_note(&mut self) -> Option<String> {
        None
    }
    /// Called about once a second with the time since the start: what the
    /// watchdog has to say (quiet or repeating steps).
    fn check(&mut self, _elapsed: Duration) -> Vec<Alert> {
        Vec::new()
    }
}

/// An observer that recognises nothing.
#[derive(Debug, Default)]
pub struct PlainOutput;

impl LineObserver for PlainOutput {
    fn on_line(&mut self, _: Stream, _: u64, _: &str, _: Duration) -> Vec<PhaseEvent> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_tagged_by_kind() {
        let e = JobEvent::lines(Stream::Stderr, 3, vec!["x".into()]);
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"kind":"lines","stream":"stderr","first_seq":3,"lines":["x"]}"#
        );
        let p = JobEvent::Phase(PhaseEvent {
            node: None,
            phase: "install".into(),
            label: "Installing NixOS".into(),
            seq: 4,
            at_ms: 5,
            detail: None,
            disks_at_risk: false,
        });
        assert!(serde_json::to_string(&p)
            .unwrap()
            .starts_with(r#"{"kind":"phase","node":null"#));
        let s = serde_json::to_string(&JobEvent::Stalled {
            secs: 60,
            alert: None,
        })
        .unwrap();
        assert_eq!(s, r#"{"kind":"stalled","secs":60}"#);
        let d = serde_json::to_string(&JobEvent::LinesDropped {
            first_seq: 10,
            count: 90,
        })
        .unwrap();
        assert_eq!(d, r#"{"kind":"lines_dropped","first_seq":10,"count":90}"#);
    }

    #[test]
    fn only_lines_with_escapes_come_styled() {
        let e = JobEvent::lines(
            Stream::Stdout,
            7,
            vec![
                "plain".into(),
                "\x1b[1;31merror:\x1b[0m build failed\x1b[K".into(),
            ],
        );
        let JobEvent::Lines { lines, styled, .. } = &e else {
            panic!("not a Lines event: {e:?}");
        };
        assert_eq!(lines[1], "\x1b[1;31merror:\x1b[0m build failed\x1b[K");
        assert_eq!(styled.len(), 1);
        assert_eq!(styled[0].seq, 8);
        let texts: Vec<_> = styled[0].spans.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(texts, ["error:", " build failed"]);
        assert!(styled[0].spans[0].style.bold);
        assert_eq!(
            serde_json::to_value(styled[0].spans[0].style).unwrap(),
            serde_json::json!({"fg": {"kind": "indexed", "index": 1}, "bg": null, "bold": true,
                "dim": false, "italic": false, "underline": false, "inverse": false})
        );
        assert_eq!(styled[0].spans[1].style, Default::default());
    }
}
