//! The process runner: starts a tool from an argument vector (never a shell
//! string) in its own process group, reads stdout and stderr as they come,
//! turns them into lines, writes every line to the job's log file, and sends
//! them to watchers in batches: every ~75 ms, or sooner once 500 lines are
//! waiting, but never more than [`MAX_FLUSHES_PER_SEC`] times a second,
//! however fast the child writes (a fast child gets bigger batches instead). Cancelling sends SIGTERM to the
//! whole group and SIGKILL after a grace period; when the tool ends, whatever
//! it left running in its group is stopped too.
//!
//! Memory stays bounded whatever the output size: reads go through a small
//! bounded channel (a slow consumer slows the child through its pipe), and a
//! batch never holds more than [`MAX_BATCH_LINES`] lines or
//! [`MAX_BATCH_BYTES`] bytes.

pub mod events;
mod process;
pub mod progress;
pub mod thin;

pub use events::{
    styled_lines, EventSink, JobEvent, JobResult, LineObserver, Outcome, PhaseEvent, PlainOutput,
    Stream, StyledLine,
};
pub use thin::{LiveTail, TailLimits};

use nixdeck_core::tools::lines::LineSplitter;
use nixdeck_core::tools::plan::{CommandLine, REDACTED};
use nixdeck_core::tools::prompt::{prompt_in, Prompt};
use nixdeck_core::tools::watchdog::AlertKind;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use thiserror::Error;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::{mpsc, watch};
use tokio::time::{sleep_until, Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

/// A batch is sent at least this often while output flows.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(75);
/// How often the observer's watchdog is asked whether a step went quiet.
pub const WATCH_INTERVAL: Duration = Duration::from_secs(1);
/// A batch is sent early once it holds this many lines (rate allowing).
pub const BATCH_LINES: usize = 500;
/// Early sends are at least this far apart, so watchers (a webview over IPC)
/// get a few dozen batches a second at most.
pub const MIN_FLUSH_GAP: Duration = Duration::from_millis(25);
/// Upper bound of early sends per second that [`MIN_FLUSH_GAP`] gives.
pub const MAX_FLUSHES_PER_SEC: u32 = 40;
/// A batch this big is sent whatever the rate: memory stays bounded.
pub const MAX_BATCH_LINES: usize = 100_000;
/// The same bound in bytes.
pub const MAX_BATCH_BYTES: usize = 8 << 20;
/// How long a tool gets between SIGTERM and SIGKILL by default.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(10);
/// After the tool exits, how long processes it left may keep its pipes open.
const DRAIN_AFTER_EXIT: Duration = Duration::from_secs(1);
/// Batches bigger than this are freed on a blocking thread.
const DROP_ELSEWHERE_BYTES: usize = 1 << 20;
const READ_CHUNK: usize = 256 * 1024;
/// Asked-for pipe capacity: fewer wake-ups between a fast child and the reader.
const PIPE_BYTES: i32 = 1 << 20;
/// An unfinished line that looks like a prompt and has been left alone this
/// long is a tool waiting for an answer.
pub const PROMPT_QUIET: Duration = Duration::from_secs(2);

/// Everything needed to run one command.
#[derive(Debug, Clone)]
pub struct RunSpec {
    pub program: String,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub cwd: PathBuf,
    /// The argument vector as shown and stored (secrets redacted).
    pub display_argv: Vec<String>,
    /// Values replaced by `<redacted>` wherever they appear in the output.
    pub secrets: Vec<String>,
    /// Where every line of output is written, in order.
    pub log_path: PathBuf,
    /// Time between SIGTERM and SIGKILL when cancelling.
    pub grace: Duration,
    /// Report [`JobEvent::Stalled`] after this long without output.
    pub stall_after: Option<Duration>,
    /// End the run when a whole output line is a terminal prompt (installs
    /// and deploys, where no question can be answered). An unfinished prompt
    /// line the tool waits on ends any run.
    pub stop_on_prompt: bool,
}

impl RunSpec {
    /// A spec for `command` run in `cwd`, logging to `log_path`.
    pub fn new(command: &CommandLine, cwd: &Path, log_path: &Path) -> Self {
        Self {
            program: command.program.clone(),
            args: command.args.iter().map(|a| a.value.clone()).collect(),
            env: command
                .env
                .iter()
                .map(|e| (e.name.clone(), e.value.clone()))
                .collect(),
            cwd: cwd.to_path_buf(),
            display_argv: command.redacted_argv(),
            secrets: command.secrets().into_iter().map(str::to_string).collect(),
            log_path: log_path.to_path_buf(),
            grace: DEFAULT_GRACE,
            stall_after: None,
            stop_on_prompt: false,
        }
    }
}

/// Why a run could not start.
#[derive(Debug, Error)]
pub enum RunError {
    #[error("`{program}` was not found on PATH: install it (for nix: the Nix package manager) and try again")]
    ToolMissing { program: String },
    #[error("could not start `{program}`: {source}")]
    Spawn { program: String, source: io::Error },
    #[error("could not write the job log {path}: {source}")]
    Log { path: PathBuf, source: io::Error },
    #[error("the working directory {0} does not exist")]
    NoCwd(PathBuf),
}

/// A started run. Cheap to clone; every clone controls the same process.
#[derive(Clone)]
pub struct Run {
    inner: Arc<Inner>,
}

struct Inner {
    cancel: CancellationToken,
    shared: Mutex<Shared>,
    done: watch::Sender<Option<Outcome>>,
    log_path: PathBuf,
    pgid: i32,
    /// Second descriptors of the child's stdout and stderr pipes: handed to a
    /// relay when the person leaves the job running and nixdeck exits
    /// ([`Run::relay_after_exit`]), so the tool never writes to a closed pipe.
    pipes: Mutex<Vec<std::os::fd::OwnedFd>>,
}

/// What the pump and attaching watchers share.
struct Shared {
    sinks: Vec<Arc<dyn EventSink>>,
    /// Lines below this number have been sent to the sinks.
    sent_seq: u64,
    log: BufWriter<File>,
    log_failed: bool,
    started: JobEvent,
    phases: Vec<PhaseEvent>,
    finished: Option<JobEvent>,
}

impl Shared {
    fn broadcast(&mut self, event: &JobEvent) {
        self.sinks.retain(|sink| sink.send(event));
    }

    fn broadcast_batch(&mut self, events: &[JobEvent]) {
        self.sinks.retain(|sink| sink.send_batch(events));
    }

    /// The end of attaching a watcher: the phases so far, then its end if the
    /// job is over, else `live` (the watcher as it takes live events) joins
    /// the sinks, under the same lock, so nothing is missed or repeated.
    fn catch_up(&mut self, sink: Arc<dyn EventSink>, live: Arc<dyn EventSink>) {
        for phase in &self.phases {
            if !sink.send(&JobEvent::Phase(phase.clone())) {
                return;
            }
        }
        match &self.finished {
            Some(finished) => {
                sink.send(finished);
            }
            None => self.sinks.push(live),
        }
    }
}

fn lock(m: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    // A panic while holding the lock must not take every later call with it.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Run {
    /// Starts `spec` on the current tokio runtime. `observer` reads every line
    /// for progress; `sink` (if any) gets every event from `Started` on.
    pub fn start(
        spec: RunSpec,
        observer: Box<dyn LineObserver>,
        sink: Option<Arc<dyn EventSink>>,
    ) -> Result<Run, RunError> {
        if !spec.cwd.is_dir() {
            return Err(RunError::NoCwd(spec.cwd.clone()));
        }
        let log = File::create(&spec.log_path).map_err(|source| RunError::Log {
            path: spec.log_path.clone(),
            source,
        })?;
        let (mut child, pgid) = process::spawn(&process::Spawn {
            program: &spec.program,
            args: &spec.args,
            env: &spec.env,
            cwd: &spec.cwd,
        })
        .map_err(|source| {
            if source.kind() == io::ErrorKind::NotFound {
                RunError::ToolMissing {
                    program: spec.program.clone(),
                }
            } else {
                RunError::Spawn {
                    program: spec.program.clone(),
                    source,
                }
            }
        })?;
        let started = JobEvent::Started {
            argv: spec.display_argv.clone(),
        };
        let mut shared = Shared {
            sinks: sink.into_iter().collect(),
            sent_seq: 0,
            log: BufWriter::with_capacity(256 * 1024, log),
            log_failed: false,
            started: started.clone(),
            phases: Vec::new(),
            finished: None,
        };
        shared.broadcast(&started);
        let (done, _) = watch::channel(None);
        let pipes = [
            child.stdout.as_ref().map(std::os::fd::AsRawFd::as_raw_fd),
            child.stderr.as_ref().map(std::os::fd::AsRawFd::as_raw_fd),
        ]
        .into_iter()
        .flatten()
        // SAFETY: the descriptors are the child's pipes, open for this whole call.
        .filter_map(|fd| {
            unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) }
                .try_clone_to_owned()
                .ok()
        })
        .collect();
        let inner = Arc::new(Inner {
            pipes: Mutex::new(pipes),
            cancel: CancellationToken::new(),
            shared: Mutex::new(shared),
            done,
            log_path: spec.log_path.clone(),
            pgid,
        });
        let (tx, rx) = mpsc::channel(16);
        let pool = BufferPool::default();
        for fd in [
            child.stdout.as_ref().map(std::os::fd::AsRawFd::as_raw_fd),
            child.stderr.as_ref().map(std::os::fd::AsRawFd::as_raw_fd),
        ]
        .into_iter()
        .flatten()
        {
            process::grow_pipe(fd, PIPE_BYTES);
        }
        if let Some(out) = child.stdout.take() {
            tokio::spawn(read_pipe(out, Stream::Stdout, tx.clone(), pool.clone()));
        }
        if let Some(err) = child.stderr.take() {
            tokio::spawn(read_pipe(err, Stream::Stderr, tx, pool.clone()));
        }
        let pump = Pump {
            inner: inner.clone(),
            observer,
            secrets: spec.secrets.into_iter().filter(|s| !s.is_empty()).collect(),
            batch: Vec::with_capacity(BATCH_LINES),
            batch_first: 0,
            next_seq: 0,
            t0: Instant::now(),
            scratch: Vec::new(),
            batch_bytes: 0,
            batch_bytes_sent: 0,
            last_flush: Instant::now(),
            pool,
            stop_on_prompt: spec.stop_on_prompt,
            prompt: None,
        };
        tokio::spawn(pump.drive(child, rx, spec.grace, spec.stall_after));
        Ok(Run { inner })
    }

    /// Asks the run to stop: SIGTERM to its group now, SIGKILL after the grace period.
    pub fn cancel(&self) {
        self.inner.cancel.cancel();
    }

    /// The process group id (the child's pid).
    pub fn pgid(&self) -> i32 {
        self.inner.pgid
    }

    /// Before nixdeck exits with this run left running: what the log has is
    /// written out, and from now on a relay (`cat`, in its own session so it
    /// outlives nixdeck) appends the tool's output to the log file, so the tool
    /// keeps a reader and never meets a closed pipe. Output read meanwhile by
    /// nixdeck itself is logged by it; the relay's lines follow. The relay's
    /// lines are not redacted, so jobs with secrets are never left running (see
    /// [`crate::jobs::JobManager::leave_running`]).
    pub fn relay_after_exit(&self) -> io::Result<()> {
        {
            let mut shared = lock(&self.inner.shared);
            shared.log.flush()?;
        }
        let pipes: Vec<std::os::fd::OwnedFd> =
            std::mem::take(&mut *self.inner.pipes.lock().unwrap_or_else(|e| e.into_inner()));
        for pipe in pipes {
            // tokio made the pipe non-blocking (a flag of the pipe, shared by both
            // descriptors): `cat` needs it blocking, or it ends at the first EAGAIN.
            let fd = std::os::fd::AsRawFd::as_raw_fd(&pipe);
            // SAFETY: fcntl on a descriptor this function owns; no memory is passed.
            unsafe {
                let flags = libc::fcntl(fd, libc::F_GETFL);
                if flags >= 0 {
                    libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK);
                }
            }
            let log = std::fs::OpenOptions::new()
                .append(true)
                .open(&self.inner.log_path)?;
            let mut relay = std::process::Command::new("cat");
            relay
                .stdin(std::process::Stdio::from(pipe))
                .stdout(log)
                .stderr(std::process::Stdio::null());
            std::os::unix::process::CommandExt::process_group(&mut relay, 0);
            // Not waited for: it ends when the tool closes its output, and is
            // reaped by whoever inherits it once nixdeck has exited.
            relay.spawn()?;
        }
        Ok(())
    }

    /// The log file.
    pub fn log_path(&self) -> &Path {
        &self.inner.log_path
    }

    /// The outcome, once finished.
    pub fn outcome(&self) -> Option<Outcome> {
        self.inner.done.borrow().clone()
    }

    /// Waits for the end of the run.
    pub async fn wait(&self) -> Outcome {
        let mut rx = self.inner.done.subscribe();
        loop {
            if let Some(outcome) = rx.borrow_and_update().clone() {
                return outcome;
            }
            if rx.changed().await.is_err() {
                // The sender lives in `inner`, which we hold: cannot happen.
                return Outcome {
                    result: JobResult::Interrupted,
                    exit_code: None,
                    signal: None,
                    reason: None,
                    lines: 0,
                };
            }
        }
    }

    /// Adds a watcher: it first gets `Started`, the lines from `from_seq` that
    /// were already sent (from the log), the phases so far, then everything
    /// live, without a gap or a repeat.
    pub fn attach(&self, from_seq: u64, sink: Arc<dyn EventSink>) -> io::Result<()> {
        let mut shared = lock(&self.inner.shared);
        if !sink.send(&shared.started) {
            return Ok(());
        }
        shared.log.flush()?;
        let upto = shared.sent_seq;
        if !replay_log(&self.inner.log_path, from_seq, upto, sink.as_ref())? {
            return Ok(());
        }
        shared.catch_up(sink.clone(), sink);
        Ok(())
    }
}

impl Run {
    /// Adds a watcher that reads lines from the log itself (a paging log
    /// view): it gets `Started`, the number of lines written so far as one
    /// [`JobEvent::LinesDropped`] instead of the lines, the phases so far,
    /// then everything live through a [`LiveTail`] with `limits`, so a fast
    /// tool reaches it as counts and the latest lines.
    pub fn attach_counted(&self, sink: Arc<dyn EventSink>, limits: TailLimits) -> io::Result<()> {
        let mut shared = lock(&self.inner.shared);
        if !sink.send(&shared.started) {
            return Ok(());
        }
        shared.log.flush()?;
        let upto = shared.sent_seq;
        if upto > 0
            && !sink.send(&JobEvent::LinesDropped {
                first_seq: 0,
                count: upto,
            })
        {
            return Ok(());
        }
        let live = Arc::new(LiveTail::new(sink.clone(), limits));
        shared.catch_up(sink, live);
        Ok(())
    }
}

/// Splits a chunk into lines with core's [`LineSplitter`] rules, taking a
/// fast path through the middle of chunks without `\r`: after a `\n` the
/// splitter holds nothing, so complete `\n`-ended lines in between can be cut
/// with `memchr` directly, with the same result.
fn split_lines(splitter: &mut LineSplitter, chunk: &[u8], out: &mut Vec<String>) {
    use nixdeck_core::tools::lines::MAX_LINE_BYTES;
    let (Some(first), Some(last)) = (memchr::memchr(b'\n', chunk), memchr::memrchr(b'\n', chunk))
    else {
        return splitter.push(chunk, out);
    };
    if first == last || memchr::memchr(b'\r', chunk).is_some() {
        return splitter.push(chunk, out);
    }
    splitter.push(&chunk[..=first], out);
    let base = first + 1;
    let mut start = base;
    for end in memchr::memchr_iter(b'\n', &chunk[base..=last]).map(|i| base + i) {
        let line = &chunk[start..end];
        if line.len() > MAX_LINE_BYTES {
            splitter.push(&chunk[start..=end], out);
        } else {
            out.push(match std::str::from_utf8(line) {
                Ok(text) => text.to_owned(),
                Err(_) => String::from_utf8_lossy(line).into_owned(),
            });
        }
        start = end + 1;
    }
    splitter.push(&chunk[last + 1..], out);
}

/// Sends lines `[from, upto)` of a log file as `Lines` batches; false when the
/// sink went away.
pub fn replay_log(path: &Path, from: u64, upto: u64, sink: &dyn EventSink) -> io::Result<bool> {
    if from >= upto {
        return Ok(true);
    }
    let reader = BufReader::new(File::open(path)?);
    let mut batch = Vec::with_capacity(BATCH_LINES);
    let mut first = from;
    for (seq, line) in (0u64..).zip(reader.split(b'\n')) {
        if seq >= upto {
            break;
        }
        let line = line?;
        if seq < from {
            continue;
        }
        batch.push(String::from_utf8_lossy(&line).into_owned());
        if batch.len() == BATCH_LINES {
            let lines = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_LINES));
            if !sink.send(&JobEvent::lines(Stream::Log, first, lines)) {
                return Ok(false);
            }
            first = seq + 1;
        }
    }
    if !batch.is_empty() {
        return Ok(sink.send(&JobEvent::lines(Stream::Log, first, batch)));
    }
    Ok(true)
}

/// Read buffers go back and forth between the readers and the pump instead
/// of being allocated and freed for every read.
#[derive(Clone, Default)]
struct BufferPool(Arc<std::sync::Mutex<Vec<Vec<u8>>>>);

impl BufferPool {
    fn get(&self) -> Vec<u8> {
        let reused = self.0.lock().ok().and_then(|mut pool| pool.pop());
        reused.unwrap_or_else(|| Vec::with_capacity(READ_CHUNK))
    }

    fn put(&self, mut buf: Vec<u8>) {
        buf.clear();
        if let Ok(mut pool) = self.0.lock() {
            if pool.len() < 8 {
                pool.push(buf);
            }
        }
    }
}

async fn read_pipe(
    mut pipe: impl AsyncRead + Unpin,
    stream: Stream,
    tx: mpsc::Sender<(Stream, Vec<u8>)>,
    pool: BufferPool,
) {
    loop {
        let mut buf = pool.get();
        match pipe.read_buf(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                if tx.send((stream, buf)).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// The loop that owns the child: lines in, events out.
struct Pump {
    inner: Arc<Inner>,
    observer: Box<dyn LineObserver>,
    secrets: Vec<String>,
    batch: Vec<(Stream, String)>,
    batch_first: u64,
    next_seq: u64,
    t0: Instant,
    /// Reused buffer for the lines of one chunk.
    scratch: Vec<String>,
    batch_bytes: usize,
    /// Size of the batch being sent.
    batch_bytes_sent: usize,
    last_flush: Instant,
    pool: BufferPool,
    /// See [`RunSpec::stop_on_prompt`].
    stop_on_prompt: bool,
    /// The prompt that ended the run.
    prompt: Option<Prompt>,
}

impl Pump {
    async fn drive(
        mut self,
        mut child: tokio::process::Child,
        mut rx: mpsc::Receiver<(Stream, Vec<u8>)>,
        grace: Duration,
        stall_after: Option<Duration>,
    ) {
        let pgid = self.inner.pgid;
        let cancel = self.inner.cancel.clone();
        let mut splitters = [LineSplitter::new(), LineSplitter::new()];
        let mut tick = tokio::time::interval(FLUSH_INTERVAL);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut watch = tokio::time::interval(WATCH_INTERVAL);
        watch.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut status: Option<io::Result<ExitStatus>> = None;
        let mut pipes_open = true;
        let mut cancelled = false;
        let mut kill_at: Option<Instant> = None;
        let mut drain_until: Option<Instant> = None;
        let mut last_output = Instant::now();
        let mut stall_at = stall_after.map(|d| last_output + d);
        let far = || Instant::now() + Duration::from_secs(86_400);

        while pipes_open || status.is_none() {
            tokio::select! {
                chunk = rx.recv(), if pipes_open => match chunk {
                    Some((stream, bytes)) => {
                        last_output = Instant::now();
                        stall_at = stall_after.map(|d| last_output + d);
                        let idx = usize::from(stream == Stream::Stderr);
                        self.take(stream, &bytes, &mut splitters[idx]);
                        self.pool.put(bytes);
                        if self.prompt.is_some() && !cancelled {
                            // Nobody can answer: end it as a cancel would.
                            cancelled = true;
                            self.flush();
                            process::signal_group(pgid, libc::SIGTERM);
                            kill_at = Some(Instant::now() + grace);
                        }
                    }
                    None => pipes_open = false,
                },
                st = child.wait(), if status.is_none() => {
                    status = Some(st);
                    if pipes_open {
                        drain_until = Some(Instant::now() + DRAIN_AFTER_EXIT);
                    }
                }
                _ = cancel.cancelled(), if !cancelled => {
                    cancelled = true;
                    process::signal_group(pgid, libc::SIGTERM);
                    kill_at = Some(Instant::now() + grace);
                }
                _ = sleep_until(kill_at.unwrap_or_else(far)), if kill_at.is_some() => {
                    process::signal_group(pgid, libc::SIGKILL);
                    kill_at = None;
                }
                _ = sleep_until(drain_until.unwrap_or_else(far)), if drain_until.is_some() => {
                    // The tool is gone but something it started holds the pipes.
                    drain_until = None;
                    process::signal_group(pgid, libc::SIGTERM);
                    kill_at.get_or_insert(Instant::now() + grace);
                }
                _ = sleep_until(stall_at.unwrap_or_else(far)), if stall_at.is_some() && status.is_none() => {
                    self.flush();
                    let secs = last_output.elapsed().as_secs();
                    lock(&self.inner.shared).broadcast(&JobEvent::Stalled { secs, alert: None });
                    stall_at = stall_after.map(|d| Instant::now() + d);
                }
                _ = tick.tick() => self.flush(),
                _ = watch.tick(), if status.is_none() => {
                    if !cancelled && last_output.elapsed() >= PROMPT_QUIET {
                        let waiting = splitters
                            .iter()
                            .filter_map(LineSplitter::partial)
                            .find_map(|line| prompt_in(&line));
                        if let Some(prompt) = waiting {
                            self.prompt = Some(prompt);
                            cancelled = true;
                            self.flush();
                            process::signal_group(pgid, libc::SIGTERM);
                            kill_at = Some(Instant::now() + grace);
                        }
                    }
                    let alerts = self.observer.check(self.t0.elapsed());
                    if !alerts.is_empty() {
                        self.flush();
                        let mut shared = lock(&self.inner.shared);
                        for alert in alerts {
                            let secs = match &alert.kind {
                                AlertKind::Silent { silent_for, .. } => silent_for.as_secs(),
                                _ => last_output.elapsed().as_secs(),
                            };
                            shared.broadcast(&JobEvent::Stalled { secs, alert: Some(alert) });
                        }
                    }
                }
            }
        }
        for (idx, splitter) in splitters.iter_mut().enumerate() {
            let stream = if idx == 0 {
                Stream::Stdout
            } else {
                Stream::Stderr
            };
            if let Some(line) = splitter.finish() {
                self.lines(stream, &mut vec![line]);
            }
        }
        self.flush();
        // Whatever the tool left in its group goes with it.
        if process::group_exists(pgid) {
            process::signal_group(pgid, libc::SIGTERM);
            tokio::spawn(async move {
                tokio::time::sleep(grace).await;
                process::signal_group(pgid, libc::SIGKILL);
            });
        }
        let outcome = self.outcome(status, cancelled);
        let finished = JobEvent::Finished {
            outcome: outcome.clone(),
        };
        {
            let mut shared = lock(&self.inner.shared);
            if shared.log.flush().is_err() {
                shared.log_failed = true;
            }
            shared.broadcast(&finished);
            shared.finished = Some(finished);
        }
        self.inner.done.send_replace(Some(outcome));
    }

    fn take(&mut self, stream: Stream, bytes: &[u8], splitter: &mut LineSplitter) {
        let mut lines = std::mem::take(&mut self.scratch);
        split_lines(splitter, bytes, &mut lines);
        self.lines(stream, &mut lines);
        self.scratch = lines;
    }

    /// Takes the lines of one chunk: scrubs secrets, writes the log (one lock
    /// for the chunk), lets the observer see them, and batches them.
    fn lines(&mut self, stream: Stream, lines: &mut Vec<String>) {
        if !self.secrets.is_empty() {
            for line in lines.iter_mut() {
                for secret in &self.secrets {
                    if line.contains(secret.as_str()) {
                        *line = line.replace(secret.as_str(), REDACTED);
                    }
                }
            }
        }
        {
            let mut shared = lock(&self.inner.shared);
            let mut failed = false;
            for line in lines.iter() {
                failed |= shared.log.write_all(line.as_bytes()).is_err();
                failed |= shared.log.write_all(b"\n").is_err();
            }
            shared.log_failed |= failed;
        }
        if self.stop_on_prompt && self.prompt.is_none() {
            self.prompt = lines.iter().find_map(|line| prompt_in(line));
        }
        let elapsed = self.t0.elapsed();
        let mut gap_passed = self.last_flush.elapsed() >= MIN_FLUSH_GAP;
        for line in lines.drain(..) {
            let phases = self.observer.on_line(stream, self.next_seq, &line, elapsed);
            if self.batch.is_empty() {
                self.batch_first = self.next_seq;
            }
            self.next_seq += 1;
            self.batch_bytes += line.len();
            self.batch.push((stream, line));
            if !phases.is_empty() {
                // Progress goes out after the line that caused it.
                self.flush();
                gap_passed = false;
                let mut shared = lock(&self.inner.shared);
                for phase in phases {
                    shared.broadcast(&JobEvent::Phase(phase.clone()));
                    shared.phases.push(phase);
                }
            } else if self.batch.len() >= MAX_BATCH_LINES
                || self.batch_bytes >= MAX_BATCH_BYTES
                || (gap_passed && self.batch.len() >= BATCH_LINES)
            {
                self.flush();
                gap_passed = false;
            }
        }
    }

    /// Sends the pending lines, one `Lines` event per run of the same stream.
    fn flush(&mut self) {
        self.last_flush = Instant::now();
        if self.batch.is_empty() {
            lock(&self.inner.shared).sinks.retain(|sink| sink.tick());
            return;
        }
        self.batch_bytes_sent = std::mem::take(&mut self.batch_bytes);
        let mut events = Vec::new();
        let mut current: Option<(Stream, u64, Vec<String>)> = None;
        for (seq, (stream, line)) in (self.batch_first..).zip(self.batch.drain(..)) {
            match &mut current {
                Some((s, _, lines)) if *s == stream => lines.push(line),
                _ => {
                    if let Some((stream, first_seq, lines)) = current.take() {
                        events.push(JobEvent::lines(stream, first_seq, lines));
                    }
                    current = Some((stream, seq, vec![line]));
                }
            }
        }
        if let Some((stream, first_seq, lines)) = current {
            events.push(JobEvent::lines(stream, first_seq, lines));
        }
        let mut shared = lock(&self.inner.shared);
        // The log on disk keeps up with what watchers saw, so a crash loses
        // at most one batch and a reader of the file sees what the window shows.
        if shared.log.flush().is_err() {
            shared.log_failed = true;
        }
        shared.broadcast_batch(&events);
        shared.sent_seq = self.next_seq;
        drop(shared);
        if self.batch_bytes_sent >= DROP_ELSEWHERE_BYTES {
            // Freeing a big batch line by line takes as long as reading it:
            // let another thread do it while the pump reads on.
            tokio::task::spawn_blocking(move || drop(events));
        }
    }

    fn outcome(&mut self, status: Option<io::Result<ExitStatus>>, cancelled: bool) -> Outcome {
        use std::os::unix::process::ExitStatusExt;
        let (exit_code, signal) = match &status {
            Some(Ok(st)) => (st.code(), st.signal()),
            _ => (None, None),
        };
        let log_failed = lock(&self.inner.shared).log_failed;
        let (result, mut reason) = if let Some(prompt) = &self.prompt {
            // Ended by nixdeck, not the user: a failure with what to do.
            (JobResult::Failed, Some(prompt.explanation()))
        } else if cancelled {
            let mut why = "cancelled by the user".to_string();
            if let Some(note) = self.observer.cancel_note() {
                why = format!("{why}: {note}");
            }
            (JobResult::Cancelled, Some(why))
        } else if exit_code == Some(0) {
            (JobResult::Succeeded, self.observer.success_note())
        } else {
            let plain = match (&status, exit_code, signal) {
                (Some(Err(e)), _, _) => format!("its exit status could not be read: {e}"),
                (_, Some(code), _) => format!("exited with status {code}"),
                (_, _, Some(sig)) => format!("was killed by signal {sig}"),
                _ => "ended without an exit status".to_string(),
            };
            let why = match self.observer.failure_reason() {
                Some(said) => format!("{said} ({plain})"),
                None => plain,
            };
            (JobResult::Failed, Some(why))
        };
        if log_failed {
            let note = "the log file could not be written completely";
            reason = Some(match reason {
                Some(r) => format!("{r}; {note}"),
                None => note.to_string(),
            });
        }
        Outcome {
            result,
            exit_code,
            signal,
            reason,
            lines: self.next_seq,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
