//! Live output for a watcher that cannot take every line: a window.
//!
//! A build can print a million lines a minute; a window that received each of
//! them would spend its time parsing and drawing lines nobody reads, and fall
//! behind the job. [`LiveTail`] wraps the window's sink: while lines come at a
//! readable rate it passes them all. When a flush of the runner brings more
//! than the watcher's budget, it holds the lines back and, at most every
//! [`TailLimits::min_gap`], sends [`JobEvent::LinesDropped`] for what it held
//! and the held lines' last [`TailLimits::tail_lines`], which are what a
//! window following the output shows. Every other event passes at once and
//! in order, after what was held before it; the runner's idle ticks
//! ([`EventSink::tick`]) send what a burst left held once the gap has passed,
//! so the end of a burst never waits for more output. The window reads
//! dropped lines from the log by number ([`crate::jobs::JobManager::log_lines`])
//! if it scrolls to them.
//!
//! The budget is a token bucket in lines: [`TailLimits::lines_per_sec`]
//! sustained, [`TailLimits::burst_lines`] at once after a quiet spell. Over
//! budget a watcher gets at most `1 s / min_gap` updates a second (each a
//! count and `tail_lines` lines), however fast the tool writes: every update
//! costs a webview a message and a rendering update, whatever its size.

use super::events::{EventSink, JobEvent};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How many lines a [`LiveTail`] lets through, and how often.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TailLimits {
    /// Lines a second passed in full, sustained.
    pub lines_per_sec: u32,
    /// Lines passed in full at once after a quiet spell.
    pub burst_lines: u32,
    /// Lines kept from the end of what was held back, per update.
    pub tail_lines: u32,
    /// Over budget, updates (a count and a tail) are at least this far apart.
    pub min_gap: Duration,
}

impl Default for TailLimits {
    /// Far more than anyone reads, far less than a window chokes on: 2,000
    /// lines a second in full, then ten updates a second of 100 lines each.
    fn default() -> Self {
        Self {
            lines_per_sec: 2_000,
            burst_lines: 5_000,
            tail_lines: 100,
            min_gap: Duration::from_millis(100),
        }
    }
}

/// A sink that passes lines within a budget and counts the rest (see the
/// module documentation).
pub struct LiveTail {
    inner: Arc<dyn EventSink>,
    limits: TailLimits,
    state: Mutex<State>,
}

struct State {
    /// The token bucket, in lines.
    tokens: f64,
    /// When the bucket was last refilled.
    at: Option<Instant>,
    /// When lines last went to the watcher.
    sent_at: Option<Instant>,
    /// The first line held back and not yet reported, if any.
    held_from: Option<u64>,
    /// The last held lines (at most `tail_lines`), as `Lines` events.
    tail: Vec<JobEvent>,
}

impl State {
    /// Takes `lines` into what is held, keeping only the last `keep` lines.
    fn hold(&mut self, lines: &JobEvent, keep: u64) {
        let JobEvent::Lines { first_seq, .. } = lines else {
            return;
        };
        self.held_from.get_or_insert(*first_seq);
        let count = line_count(lines);
        if count >= keep {
            // Only its last `keep` lines can stay: copy those alone. A flood
            // comes in batches of thousands, and copying each whole batch to
            // keep 100 of its lines cost the app more CPU than the runner.
            self.tail.clear();
            self.tail.push(skip_lines(lines, count - keep));
            return;
        }
        self.tail.push(lines.clone());
        let mut excess = self
            .tail
            .iter()
            .map(line_count)
            .sum::<u64>()
            .saturating_sub(keep);
        while excess > 0 {
            let first = line_count(&self.tail[0]);
            if first <= excess {
                self.tail.remove(0);
                excess -= first;
            } else {
                self.tail[0] = skip_lines(&self.tail[0], excess);
                excess = 0;
            }
        }
    }

    /// What is held, as a count of the lines not kept and the kept tail.
    fn take_held(&mut self) -> Vec<JobEvent> {
        let Some(from) = self.held_from.take() else {
            return Vec::new();
        };
        let tail = std::mem::take(&mut self.tail);
        let tail_from = match tail.first() {
            Some(JobEvent::Lines { first_seq, .. }) => *first_seq,
            _ => from,
        };
        let mut out = Vec::with_capacity(tail.len() + 1);
        if tail_from > from {
            out.push(JobEvent::LinesDropped {
                first_seq: from,
                count: tail_from - from,
            });
        }
        out.extend(tail);
        out
    }
}

impl LiveTail {
    /// Wraps `inner` with `limits`.
    pub fn new(inner: Arc<dyn EventSink>, limits: TailLimits) -> Self {
        Self {
            inner,
            limits,
            state: Mutex::new(State {
                tokens: f64::from(limits.burst_lines),
                at: None,
                sent_at: None,
                held_from: None,
                tail: Vec::new(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether an update may go out at `now`.
    fn gap_passed(&self, state: &State, now: Instant) -> bool {
        state
            .sent_at
            .is_none_or(|at| now.saturating_duration_since(at) >= self.limits.min_gap)
    }

    /// [`EventSink::send_batch`] at time `now` (tests give the time).
    pub fn send_batch_at(&self, events: &[JobEvent], now: Instant) -> bool {
        let lines: u64 = events.iter().map(line_count).sum();
        let mut state = self.lock();
        let refill = state.at.map_or(0.0, |at| {
            now.saturating_duration_since(at).as_secs_f64() * f64::from(self.limits.lines_per_sec)
        });
        state.at = Some(now);
        state.tokens = (state.tokens + refill).min(f64::from(self.limits.burst_lines));

        let mut out = Vec::with_capacity(events.len() + 1);
        if state.held_from.is_none() && lines as f64 <= state.tokens {
            // A readable rate: everything, as it came.
            state.tokens -= lines as f64;
            if lines > 0 {
                state.sent_at = Some(now);
            }
            out.extend_from_slice(events);
        } else {
            let keep = u64::from(self.limits.tail_lines);
            for event in events {
                if matches!(event, JobEvent::Lines { .. }) {
                    state.hold(event, keep);
                } else {
                    // Steps, alerts and the end come at once, after the
                    // lines that were printed before them.
                    out.extend(state.take_held());
                    out.push(event.clone());
                }
            }
            if state.held_from.is_some() && self.gap_passed(&state, now) {
                out.extend(state.take_held());
            }
            let sent: u64 = out.iter().map(line_count).sum();
            if sent > 0 {
                state.sent_at = Some(now);
            }
            state.tokens = (state.tokens - sent as f64).max(0.0);
        }
        drop(state);
        out.is_empty() || self.inner.send_batch(&out)
    }

    /// [`EventSink::tick`] at time `now`: sends what is held once the gap has passed.
    pub fn tick_at(&self, now: Instant) -> bool {
        let mut state = self.lock();
        if state.held_from.is_none() || !self.gap_passed(&state, now) {
            return true;
        }
        let out = state.take_held();
        state.sent_at = Some(now);
        drop(state);
        self.inner.send_batch(&out)
    }
}

fn line_count(event: &JobEvent) -> u64 {
    match event {
        JobEvent::Lines { lines, .. } => lines.len() as u64,
        _ => 0,
    }
}

/// `lines` without its first `skip` lines.
fn skip_lines(lines: &JobEvent, skip: u64) -> JobEvent {
    let JobEvent::Lines {
        stream,
        first_seq,
        lines,
        styled,
    } = lines
    else {
        return lines.clone();
    };
    let kept_from = first_seq + skip;
    JobEvent::Lines {
        stream: *stream,
        first_seq: kept_from,
        lines: lines[skip as usize..].to_vec(),
        styled: styled
            .iter()
            .filter(|s| s.seq >= kept_from)
            .cloned()
            .collect(),
    }
}

impl EventSink for LiveTail {
    fn send(&self, event: &JobEvent) -> bool {
        self.send_batch_at(std::slice::from_ref(event), Instant::now())
    }

    fn send_batch(&self, events: &[JobEvent]) -> bool {
        self.send_batch_at(events, Instant::now())
    }

    fn tick(&self) -> bool {
        self.tick_at(Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::Stream;
    use std::time::Duration;

    #[derive(Default)]
    struct Collect(Mutex<Vec<JobEvent>>);

    impl EventSink for Collect {
        fn send(&self, event: &JobEvent) -> bool {
            self.0.lock().unwrap().push(event.clone());
            true
        }
    }

    fn lines(stream: Stream, first_seq: u64, n: u64) -> JobEvent {
        JobEvent::lines(
            stream,
            first_seq,
            (first_seq..first_seq + n)
                .map(|i| format!("l{i}"))
                .collect(),
        )
    }

    fn tail(limits: TailLimits) -> (LiveTail, Arc<Collect>) {
        let got = Arc::new(Collect::default());
        (LiveTail::new(got.clone(), limits), got)
    }

    const LIMITS: TailLimits = TailLimits {
        lines_per_sec: 1_000,
        burst_lines: 2_000,
        tail_lines: 10,
        min_gap: Duration::from_millis(100),
    };

    fn dropped(first_seq: u64, count: u64) -> JobEvent {
        JobEvent::LinesDropped { first_seq, count }
    }

    fn stalled() -> JobEvent {
        JobEvent::Stalled {
            secs: 1,
            alert: None,
        }
    }

    fn take(got: &Collect) -> Vec<JobEvent> {
        std::mem::take(&mut *got.0.lock().unwrap())
    }

    #[test]
    fn lines_within_the_budget_pass_whole() {
        let (sink, got) = tail(LIMITS);
        let t0 = Instant::now();
        let batch = [
            lines(Stream::Stdout, 0, 1500),
            lines(Stream::Stderr, 1500, 500),
        ];
        assert!(sink.send_batch_at(&batch, t0));
        assert_eq!(take(&got), batch);
    }

    #[test]
    fn over_budget_lines_wait_for_the_gap_then_come_as_a_count_and_a_tail() {
        let (sink, got) = tail(LIMITS);
        let t0 = Instant::now();
        sink.send_batch_at(&[lines(Stream::Stdout, 0, 2000)], t0);
        take(&got);
        // The bucket is empty: 300 lines 50 ms later are over the 50 refilled,
        // and the last update was 50 ms ago: held.
        let t1 = t0 + Duration::from_millis(50);
        sink.send_batch_at(&[lines(Stream::Stdout, 2000, 300)], t1);
        assert_eq!(take(&got), []);
        let t2 = t0 + Duration::from_millis(80);
        sink.send_batch_at(&[lines(Stream::Stderr, 2300, 300)], t2);
        assert_eq!(take(&got), []);
        // 100 ms after the last update: one count and the last 10 lines.
        let t3 = t0 + Duration::from_millis(100);
        sink.send_batch_at(&[lines(Stream::Stderr, 2600, 300)], t3);
        assert_eq!(
            take(&got),
            [dropped(2000, 890), lines(Stream::Stderr, 2890, 10)]
        );
    }

    #[test]
    fn other_events_pass_at_once_after_the_lines_held_before_them() {
        let (sink, got) = tail(LIMITS);
        let t0 = Instant::now();
        sink.send_batch_at(&[lines(Stream::Stdout, 0, 2000)], t0);
        take(&got);
        let batch = [
            lines(Stream::Stdout, 2000, 250),
            stalled(),
            lines(Stream::Stderr, 2250, 50),
        ];
        sink.send_batch_at(&batch, t0 + Duration::from_millis(10));
        // The stall comes now, after what came before it; the lines after it
        // wait for the gap.
        assert_eq!(
            take(&got),
            [
                dropped(2000, 240),
                lines(Stream::Stdout, 2240, 10),
                stalled()
            ]
        );
        let end = JobEvent::Finished {
            outcome: crate::runner::Outcome {
                result: crate::runner::JobResult::Succeeded,
                exit_code: Some(0),
                signal: None,
                reason: None,
                lines: 2300,
            },
        };
        sink.send_batch_at(std::slice::from_ref(&end), t0 + Duration::from_millis(20));
        assert_eq!(
            take(&got),
            [dropped(2250, 40), lines(Stream::Stderr, 2290, 10), end]
        );
    }

    #[test]
    fn a_tick_sends_what_a_burst_left_once_the_gap_has_passed() {
        let (sink, got) = tail(LIMITS);
        let t0 = Instant::now();
        sink.send_batch_at(&[lines(Stream::Stdout, 0, 2000)], t0);
        sink.send_batch_at(&[lines(Stream::Stdout, 2000, 500)], t0);
        take(&got);
        // Too soon: still held.
        assert!(sink.tick_at(t0 + Duration::from_millis(75)));
        assert_eq!(take(&got), []);
        assert!(sink.tick_at(t0 + Duration::from_millis(150)));
        assert_eq!(
            take(&got),
            [dropped(2000, 490), lines(Stream::Stdout, 2490, 10)]
        );
        // Nothing held: a tick sends nothing.
        assert!(sink.tick_at(t0 + Duration::from_millis(300)));
        assert_eq!(take(&got), []);
    }

    #[test]
    fn dropped_runs_of_both_streams_are_one_count() {
        let (sink, got) = tail(TailLimits {
            burst_lines: 0,
            lines_per_sec: 0,
            ..LIMITS
        });
        let t0 = Instant::now();
        let batch = [
            lines(Stream::Stdout, 0, 30),
            lines(Stream::Stderr, 30, 30),
            lines(Stream::Stdout, 60, 30),
        ];
        sink.send_batch_at(&batch, t0);
        assert_eq!(take(&got), [dropped(0, 80), lines(Stream::Stdout, 80, 10)]);
        // A tail that spans both streams keeps both.
        let batch = [lines(Stream::Stdout, 90, 30), lines(Stream::Stderr, 120, 5)];
        sink.send_batch_at(&batch, t0 + Duration::from_millis(100));
        assert_eq!(
            take(&got),
            [
                dropped(90, 25),
                lines(Stream::Stdout, 115, 5),
                lines(Stream::Stderr, 120, 5)
            ]
        );
    }

    #[test]
    fn the_budget_refills_with_time_and_caps_at_the_burst() {
        let (sink, got) = tail(LIMITS);
        let t0 = Instant::now();
        sink.send_batch_at(&[lines(Stream::Stdout, 0, 2000)], t0);
        // An hour later the bucket holds the burst, not an hour of lines.
        let later = t0 + Duration::from_secs(3600);
        sink.send_batch_at(&[lines(Stream::Stdout, 2000, 2000)], later);
        sink.send_batch_at(&[lines(Stream::Stdout, 4000, 20)], later);
        let events = take(&got);
        assert_eq!(events[1], lines(Stream::Stdout, 2000, 2000));
        assert_eq!(events.len(), 2, "the 20 over budget are held: {events:?}");
        // After the gap the held 20 go as a count and a tail; then each 10 ms
        // brings 10 lines of budget back, and lines within it pass whole.
        let t = later + Duration::from_millis(100);
        sink.tick_at(t);
        assert_eq!(
            take(&got),
            [dropped(4000, 10), lines(Stream::Stdout, 4010, 10)]
        );
        sink.send_batch_at(
            &[lines(Stream::Stdout, 4020, 50)],
            t + Duration::from_millis(60),
        );
        assert_eq!(take(&got), [lines(Stream::Stdout, 4020, 50)]);
    }

    #[tokio::test]
    async fn a_fast_job_reaches_a_watcher_as_counts_and_its_end() {
        let dir = tempfile::tempdir().unwrap();
        let got = Arc::new(Collect::default());
        let sink = Arc::new(LiveTail::new(got.clone(), TailLimits::default()));
        let spec = crate::runner::RunSpec {
            program: "/bin/sh".into(),
            args: vec!["-c".into(), "seq 1 300000".into()],
            env: vec![],
            cwd: dir.path().to_path_buf(),
            display_argv: vec!["sh".into()],
            secrets: vec![],
            log_path: dir.path().join("job.log"),
            grace: Duration::from_millis(500),
            stall_after: None,
            stop_on_prompt: false,
        };
        let run = crate::runner::Run::start(spec, Box::new(crate::runner::PlainOutput), Some(sink))
            .unwrap();
        assert_eq!(run.wait().await.lines, 300_000);
        let events = got.0.lock().unwrap();
        // Every number is accounted for once, in order, as a line or a count.
        assert_eq!(crate::runner::tests::lines_in_order(&events), 300_000);
        let sent: u64 = events.iter().map(line_count).sum();
        assert!(sent < 100_000, "{sent} lines were sent of 300000");
        let last_lines = events
            .iter()
            .rev()
            .find_map(|e| match e {
                JobEvent::Lines { lines, .. } => lines.last().cloned(),
                _ => None,
            })
            .unwrap();
        assert_eq!(last_lines, "300000");
        assert!(matches!(events.last(), Some(JobEvent::Finished { .. })));
    }
}
