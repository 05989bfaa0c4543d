//! Live output for a watcher that cannot take every line: a window.
//!
//! A build can print a million lines a minute; a window that received each of
//! them would spend its time parsing and drawing lines nobody reads, and fall
//! behind the job. [`LiveTail`] wraps the window's sink: while lines come at a
//! readable rate it passes them all; when a flush of the runner brings more
//! than the watcher's budget, it sends [`JobEvent::LinesDropped`] for the
//! start of the flush and the flush's last [`TailLimits::tail_lines`] lines,
//! which are what a window following the output shows. Every other event
//! passes unchanged and in order. The window reads dropped lines from the log
//! by number ([`crate::jobs::JobManager::log_lines`]) if it scrolls to them.
//!
//! The budget is a token bucket in lines: [`TailLimits::lines_per_sec`]
//! sustained, [`TailLimits::burst_lines`] at once after a quiet spell. As the
//! runner flushes at most [`super::MAX_FLUSHES_PER_SEC`] times a second, a
//! watcher gets at most `lines_per_sec + MAX_FLUSHES_PER_SEC × tail_lines`
//! lines a second, however fast the tool writes.

use super::events::{EventSink, JobEvent};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// How many lines a [`LiveTail`] lets through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TailLimits {
    /// Lines a second passed in full, sustained.
    pub lines_per_sec: u32,
    /// Lines passed in full at once after a quiet spell.
    pub burst_lines: u32,
    /// Lines kept from the end of a flush that is over budget.
    pub tail_lines: u32,
}

impl Default for TailLimits {
    /// Far more than anyone reads, far less than a window chokes on: at most
    /// 2,000 + 40 × 100 = 6,000 lines a second.
    fn default() -> Self {
        Self {
            lines_per_sec: 2_000,
            burst_lines: 5_000,
            tail_lines: 100,
        }
    }
}

/// A sink that passes lines within a budget and counts the rest (see the
/// module documentation).
pub struct LiveTail {
    inner: Arc<dyn EventSink>,
    limits: TailLimits,
    bucket: Mutex<Bucket>,
}

struct Bucket {
    tokens: f64,
    at: Option<Instant>,
}

impl LiveTail {
    /// Wraps `inner` with `limits`.
    pub fn new(inner: Arc<dyn EventSink>, limits: TailLimits) -> Self {
        Self {
            inner,
            limits,
            bucket: Mutex::new(Bucket {
                tokens: f64::from(limits.burst_lines),
                at: None,
            }),
        }
    }

    /// [`EventSink::send_batch`] at time `now` (tests give the time).
    pub fn send_batch_at(&self, events: &[JobEvent], now: Instant) -> bool {
        let lines: u64 = events.iter().map(line_count).sum();
        let keep = {
            let mut bucket = self.bucket.lock().unwrap_or_else(|e| e.into_inner());
            let refill = bucket.at.map_or(0.0, |at| {
                now.saturating_duration_since(at).as_secs_f64()
                    * f64::from(self.limits.lines_per_sec)
            });
            bucket.at = Some(now);
            bucket.tokens = (bucket.tokens + refill).min(f64::from(self.limits.burst_lines));
            let keep = if lines as f64 <= bucket.tokens {
                lines
            } else {
                lines.min(u64::from(self.limits.tail_lines))
            };
            bucket.tokens = (bucket.tokens - keep as f64).max(0.0);
            keep
        };
        if keep == lines {
            return self.inner.send_batch(events);
        }
        self.inner.send_batch(&thin(events, lines - keep))
    }
}

fn line_count(event: &JobEvent) -> u64 {
    match event {
        JobEvent::Lines { lines, .. } => lines.len() as u64,
        _ => 0,
    }
}

/// `events` without their first `drop` lines, which become `LinesDropped`
/// (one per run of consecutive numbers) where they were.
fn thin(events: &[JobEvent], mut drop: u64) -> Vec<JobEvent> {
    let mut out = Vec::with_capacity(events.len() + 1);
    // The run of dropped lines not yet reported: (first, count).
    let mut dropped: Option<(u64, u64)> = None;
    let report = |dropped: &mut Option<(u64, u64)>, out: &mut Vec<JobEvent>| {
        if let Some((first_seq, count)) = dropped.take() {
            out.push(JobEvent::LinesDropped { first_seq, count });
        }
    };
    for event in events {
        let JobEvent::Lines {
            stream,
            first_seq,
            lines,
            styled,
        } = event
        else {
            report(&mut dropped, &mut out);
            out.push(event.clone());
            continue;
        };
        let cut = drop.min(lines.len() as u64);
        drop -= cut;
        if cut > 0 {
            match &mut dropped {
                Some((first, count)) if *first + *count == *first_seq => *count += cut,
                _ => {
                    report(&mut dropped, &mut out);
                    dropped = Some((*first_seq, cut));
                }
            }
        }
        let cut = cut as usize;
        if cut < lines.len() {
            report(&mut dropped, &mut out);
            let kept_from = first_seq + cut as u64;
            out.push(JobEvent::Lines {
                stream: *stream,
                first_seq: kept_from,
                lines: lines[cut..].to_vec(),
                styled: styled
                    .iter()
                    .filter(|s| s.seq >= kept_from)
                    .cloned()
                    .collect(),
            });
        }
    }
    report(&mut dropped, &mut out);
    out
}

impl EventSink for LiveTail {
    fn send(&self, event: &JobEvent) -> bool {
        self.send_batch_at(std::slice::from_ref(event), Instant::now())
    }

    fn send_batch(&self, events: &[JobEvent]) -> bool {
        self.send_batch_at(events, Instant::now())
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
    };

    #[test]
    fn lines_within_the_budget_pass_whole() {
        let (sink, got) = tail(LIMITS);
        let t0 = Instant::now();
        let batch = [
            lines(Stream::Stdout, 0, 1500),
            lines(Stream::Stderr, 1500, 500),
        ];
        assert!(sink.send_batch_at(&batch, t0));
        assert_eq!(*got.0.lock().unwrap(), batch);
    }

    #[test]
    fn a_flush_over_budget_becomes_a_count_and_its_tail() {
        let (sink, got) = tail(LIMITS);
        let t0 = Instant::now();
        sink.send_batch_at(&[lines(Stream::Stdout, 0, 2000)], t0);
        got.0.lock().unwrap().clear();
        // The bucket is empty: 300 lines 100 ms later are over the 100 refilled.
        let batch = [
            lines(Stream::Stdout, 2000, 250),
            JobEvent::Stalled {
                secs: 1,
                alert: None,
            },
            lines(Stream::Stderr, 2250, 50),
        ];
        sink.send_batch_at(&batch, t0 + Duration::from_millis(100));
        assert_eq!(
            *got.0.lock().unwrap(),
            [
                JobEvent::LinesDropped {
                    first_seq: 2000,
                    count: 250
                },
                JobEvent::Stalled {
                    secs: 1,
                    alert: None
                },
                JobEvent::LinesDropped {
                    first_seq: 2250,
                    count: 40
                },
                lines(Stream::Stderr, 2290, 10),
            ]
        );
    }

    #[test]
    fn dropped_runs_of_both_streams_are_one_count() {
        let (sink, got) = tail(TailLimits {
            burst_lines: 0,
            ..LIMITS
        });
        let t0 = Instant::now();
        let batch = [
            lines(Stream::Stdout, 0, 30),
            lines(Stream::Stderr, 30, 30),
            lines(Stream::Stdout, 60, 30),
        ];
        sink.send_batch_at(&batch, t0);
        assert_eq!(
            *got.0.lock().unwrap(),
            [
                JobEvent::LinesDropped {
                    first_seq: 0,
                    count: 80
                },
                lines(Stream::Stdout, 80, 10),
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
        let events = got.0.lock().unwrap();
        assert_eq!(events[1], lines(Stream::Stdout, 2000, 2000));
        assert_eq!(
            events[2],
            JobEvent::LinesDropped {
                first_seq: 4000,
                count: 10
            }
        );
        // Each 10 ms brings 10 lines back.
        drop(events);
        sink.send_batch_at(
            &[lines(Stream::Stdout, 4020, 10)],
            later + Duration::from_millis(10),
        );
        assert_eq!(
            got.0.lock().unwrap().last(),
            Some(&lines(Stream::Stdout, 4020, 10))
        );
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
        let mut next = 0;
        let mut sent = 0;
        for event in events.iter() {
            match event {
                JobEvent::Lines {
                    first_seq, lines, ..
                } => {
                    assert_eq!(*first_seq, next);
                    next += lines.len() as u64;
                    sent += lines.len() as u64;
                }
                JobEvent::LinesDropped { first_seq, count } => {
                    assert_eq!(*first_seq, next);
                    next += count;
                }
                _ => {}
            }
        }
        assert_eq!(next, 300_000);
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
