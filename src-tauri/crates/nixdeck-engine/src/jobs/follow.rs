//! Reading a job's log with its parsers, and following a job that runs in no
//! process of this nixdeck: one the person
//! left running when they closed an earlier window (its tool goes on, a relay
//! appends its output to the log), or one another nixdeck runs. Nobody sends
//! its events, so a watcher here reads them from the log as it grows: the new
//! lines as counts (a paging log view reads the lines themselves), the steps
//! the job's parsers find in them, and its end once the store has one, or once
//! the tool is gone with nobody left to record how it ended.

use super::store::JobStore;
use super::{guard, JobId, JobManager};
use crate::runner::{EventSink, JobEvent, JobResult, LineObserver, Stream};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// How often the log and the store are looked at.
pub const POLL: Duration = Duration::from_millis(250);
/// Bytes read from the log at once.
const READ_CHUNK: usize = 1 << 20;

/// Reads a growing log from where it stopped, line by line.
pub(crate) struct LogFollower {
    file: File,
    offset: u64,
    /// The start of a line whose end has not been written yet.
    partial: Vec<u8>,
    /// Complete lines read so far.
    pub lines: u64,
    observer: Box<dyn LineObserver>,
}

impl LogFollower {
    pub fn open(path: &Path, observer: Box<dyn LineObserver>) -> io::Result<Self> {
        Ok(Self {
            file: File::open(path)?,
            offset: 0,
            partial: Vec::new(),
            lines: 0,
            observer,
        })
    }

    /// Reads what was appended since the last call, a bounded chunk at a
    /// time (a log can be gigabytes); each complete line goes to the parsers,
    /// whose steps go to `sink`. The number of new lines, or `None` when the
    /// sink is gone.
    pub fn read_new(&mut self, sink: &dyn EventSink) -> io::Result<Option<u64>> {
        self.file.seek(SeekFrom::Start(self.offset))?;
        let before = self.lines;
        let mut chunk = vec![0u8; READ_CHUNK];
        loop {
            let n = self.file.read(&mut chunk)?;
            if n == 0 {
                return Ok(Some(self.lines - before));
            }
            self.offset += n as u64;
            let mut rest = &chunk[..n];
            while let Some(end) = memchr::memchr(b'\n', rest) {
                self.partial.extend_from_slice(&rest[..end]);
                rest = &rest[end + 1..];
                let line = String::from_utf8_lossy(&self.partial).into_owned();
                self.partial.clear();
                for phase in self
                    .observer
                    .on_line(Stream::Log, self.lines, &line, Duration::ZERO)
                {
                    if !sink.send(&JobEvent::Phase(phase)) {
                        return Ok(None);
                    }
                }
                self.lines += 1;
            }
            self.partial.extend_from_slice(rest);
        }
    }
}

/// Follows job `id` for `sink` on a thread of its own until the job has an
/// end (sent as `Finished`) or the sink is gone. `follower` has read the log
/// as far as the sink was told.
pub(crate) fn follow(
    manager: JobManager,
    id: JobId,
    mut follower: LogFollower,
    sink: Arc<dyn EventSink>,
) {
    std::thread::spawn(move || loop {
        std::thread::sleep(POLL);
        let first_seq = follower.lines;
        match follower.read_new(sink.as_ref()) {
            Ok(Some(0)) => {}
            Ok(Some(count)) => {
                if !sink.send(&JobEvent::LinesDropped { first_seq, count }) {
                    return;
                }
            }
            Ok(None) | Err(_) => return,
        }
        let ended = {
            let mut store = guard(&manager.inner.store);
            ended(&mut store, id, follower.lines)
        };
        match ended {
            Ok(None) => {}
            Ok(Some(outcome)) => {
                // Whatever the tool wrote last, then its end.
                let first_seq = follower.lines;
                if let Ok(Some(count @ 1..)) = follower.read_new(sink.as_ref()) {
                    sink.send(&JobEvent::LinesDropped { first_seq, count });
                }
                sink.send(&JobEvent::Finished { outcome });
                return;
            }
            Err(_) => return,
        }
    });
}

/// The end of job `id` when it has one: recorded by whoever ran it, or, when
/// its tool and its nixdeck are both gone, recorded here as interrupted with
/// the `lines` its log has.
fn ended(
    store: &mut JobStore,
    id: JobId,
    lines: u64,
) -> Result<Option<crate::runner::Outcome>, super::JobError> {
    let record = store.get(id)?;
    if record.result != JobResult::Running {
        return Ok(Some(record.outcome()));
    }
    if store.end_unwatched(id, lines)? {
        return Ok(Some(store.get(id)?.outcome()));
    }
    Ok(None)
}
