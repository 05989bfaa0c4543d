//! Reading a job's log on disk by line number, for a log view that pages
//! instead of holding every line.
//!
//! The runner writes one file per job: every line of stdout and stderr, in
//! order, each ended by `\n` (the pipe is not recorded: see
//! [`crate::runner::Stream::Log`]). Line `n` of the file is the line with
//! sequence number `n` in the live events, so a window can show live lines
//! and paged lines side by side.
//!
//! [`LogIndex`] keeps the byte offset of every [`CHECKPOINT_EVERY`]th line
//! start, and finds any other line by scanning at most that many lines from
//! the checkpoint before it. For a 10-million-line log that is 156,250
//! offsets, 1.25 MB (2.1 MB with the vector's spare room), whatever the line
//! length. It grows by
//! [`LogIndex::refresh`], which reads only what was appended since the last
//! call, so it works while the job still writes.
//!
//! Search looks for bytes with `memchr::memmem` over large blocks of the file
//! (never line by line) and only turns the hit into a line number afterwards.
//! Case-insensitive search folds ASCII letters only.

use memchr::memmem;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// One offset is kept for every this many lines.
pub const CHECKPOINT_EVERY: u64 = 64;
/// The most lines one [`LogIndex::page`] returns: a screen plus a margin is
/// far less, and the answer stays a few MB at most.
pub const MAX_PAGE_LINES: usize = 10_000;
/// A line longer than this is returned cut (with `…`), so a log without line
/// ends cannot make one answer huge. The runner itself cuts lines at the same
/// size, so its logs are never cut here.
pub const MAX_SHOWN_LINE_BYTES: usize = nixdeck_core::tools::lines::MAX_LINE_BYTES;
/// The longest search text: far more than a line of a build log needs.
pub const MAX_QUERY_BYTES: usize = 4096;
/// Bytes read per system call when indexing and searching.
const BLOCK: usize = 1 << 20;
/// Newlines are counted in spans this long, shorter than 64 typical lines.
const COUNT_SPAN: usize = 1024;

/// Why a log could not be read or searched.
#[derive(Debug, Error)]
pub enum LogError {
    #[error("could not read the log {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("the search text is empty: type what to look for")]
    EmptyQuery,
    #[error("the search text spans several lines: search for text within one line")]
    MultiLineQuery,
    #[error(
        "the search text is longer than {MAX_QUERY_BYTES} bytes: search for a shorter part of it"
    )]
    QueryTooLong,
}

/// Which way a search goes from its first line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
#[ts(rename = "LogSearchDirection")]
pub enum Direction {
    /// Towards the end: lines `from`, `from + 1`, …
    Forward,
    /// Towards the start: lines `from`, `from - 1`, … 0.
    Backward,
}

/// Lines of a log as a log view gets them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogPage {
    /// The number of the first line in `lines` (numbers count from 0, as the
    /// `seq` of live events).
    pub first_seq: u64,
    pub lines: Vec<String>,
    /// How many lines the log has now (a last line without its `\n` counts;
    /// while a job writes, it may still grow).
    pub total_lines: u64,
}

/// A line-offset index of one log file, grown as the file grows.
#[derive(Debug)]
pub struct LogIndex {
    path: PathBuf,
    file: File,
    /// `checkpoints[k]` is the offset where line `k * CHECKPOINT_EVERY` starts.
    checkpoints: Vec<u64>,
    /// Lines ended by `\n` so far.
    complete: u64,
    /// The offset just after the last `\n` seen.
    indexed: u64,
    /// The file's length at the last refresh.
    len: u64,
}

impl LogIndex {
    /// Opens `path` and indexes what it holds now.
    pub fn open(path: &Path) -> Result<Self, LogError> {
        let file = File::open(path).map_err(|source| LogError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut index = Self {
            path: path.to_path_buf(),
            file,
            checkpoints: vec![0],
            complete: 0,
            indexed: 0,
            len: 0,
        };
        index.refresh()?;
        Ok(index)
    }

    fn io(&self, source: io::Error) -> LogError {
        LogError::Io {
            path: self.path.clone(),
            source,
        }
    }

    /// Indexes what was appended since the last call; the line count after.
    /// A file that got shorter (rewritten) is indexed again from the start.
    pub fn refresh(&mut self) -> Result<u64, LogError> {
        let len = self.file.metadata().map_err(|e| self.io(e))?.len();
        if len < self.indexed {
            self.checkpoints = vec![0];
            self.complete = 0;
            self.indexed = 0;
        }
        self.len = len;
        let mut at = self.indexed;
        if at >= len {
            return Ok(self.line_count());
        }
        let mut buf = vec![0u8; BLOCK];
        // Lines until the next checkpoint; only those newlines matter.
        let mut to_next = CHECKPOINT_EVERY - self.complete % CHECKPOINT_EVERY;
        while at < len {
            let got = self.read_block(at, len, &mut buf)?;
            if got == 0 {
                // Cut short while we read: what is there is all there is.
                self.len = at;
                break;
            }
            let block = &buf[..got];
            let mut newlines = 0u64;
            // Counting bytes compiles to wide compares; only a span holding a
            // checkpoint is walked newline by newline.
            for (i, span) in block.chunks(COUNT_SPAN).enumerate() {
                let n = span.iter().filter(|&&b| b == b'\n').count() as u64;
                newlines += n;
                if n < to_next {
                    to_next -= n;
                    continue;
                }
                for nl in memchr::memchr_iter(b'\n', span) {
                    to_next -= 1;
                    if to_next == 0 {
                        self.checkpoints.push(at + (i * COUNT_SPAN + nl) as u64 + 1);
                        to_next = CHECKPOINT_EVERY;
                    }
                }
            }
            if let Some(last) = memchr::memrchr(b'\n', block) {
                self.indexed = at + last as u64 + 1;
            }
            self.complete += newlines;
            at += got as u64;
        }
        Ok(self.line_count())
    }

    /// Reads up to one block at `at` (never past `end`); the bytes read.
    fn read_block(&self, at: u64, end: u64, buf: &mut [u8]) -> Result<usize, LogError> {
        let want = usize::try_from(end - at).map_or(buf.len(), |n| n.min(buf.len()));
        let mut got = 0;
        while got < want {
            match self.file.read_at(&mut buf[got..want], at + got as u64) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.io(e)),
            }
        }
        Ok(got)
    }

    /// Lines in the log at the last refresh; a last line without `\n` counts.
    pub fn line_count(&self) -> u64 {
        self.complete + u64::from(self.len > self.indexed)
    }

    /// Bytes the index itself holds (the offsets), to show it stays small.
    pub fn index_bytes(&self) -> usize {
        self.checkpoints.capacity() * std::mem::size_of::<u64>()
    }

    /// The offset where line `line` starts (`line <= line_count()`; the line
    /// after the last starts at the end of the file).
    fn offset_of(&self, line: u64) -> Result<u64, LogError> {
        if line >= self.line_count() {
            return Ok(self.len);
        }
        if line == self.complete {
            return Ok(self.indexed);
        }
        let k = usize::try_from(line / CHECKPOINT_EVERY).unwrap_or(usize::MAX);
        let start = self.checkpoints.get(k).copied().unwrap_or(self.indexed);
        let skip = line % CHECKPOINT_EVERY;
        self.after_newlines(start, skip)
    }

    /// The offset just after the `n`th `\n` from `from` (`from` itself for 0).
    fn after_newlines(&self, from: u64, n: u64) -> Result<u64, LogError> {
        if n == 0 {
            return Ok(from);
        }
        let mut left = n;
        let mut buf = vec![0u8; 64 * 1024];
        let mut at = from;
        while at < self.indexed {
            let got = self.read_block(at, self.indexed, &mut buf)?;
            if got == 0 {
                break;
            }
            for nl in memchr::memchr_iter(b'\n', &buf[..got]) {
                left -= 1;
                if left == 0 {
                    return Ok(at + nl as u64 + 1);
                }
            }
            at += got as u64;
        }
        Ok(self.indexed)
    }

    /// The number of the line holding byte `offset` (`offset < len`).
    fn line_at(&self, offset: u64) -> Result<u64, LogError> {
        let k = self.checkpoints.partition_point(|&c| c <= offset) - 1;
        let mut line = k as u64 * CHECKPOINT_EVERY;
        let mut at = self.checkpoints[k];
        let mut buf = vec![0u8; 64 * 1024];
        while at < offset {
            let got = self.read_block(at, offset, &mut buf)?;
            if got == 0 {
                break;
            }
            line += memchr::memchr_iter(b'\n', &buf[..got]).count() as u64;
            at += got as u64;
        }
        Ok(line)
    }

    /// Lines `start .. start + count` (fewer at the end of the log, at most
    /// [`MAX_PAGE_LINES`]), without their line ends (`\r\n` too); bytes that
    /// are not UTF-8 are replaced.
    pub fn lines(&self, start: u64, count: usize) -> Result<Vec<String>, LogError> {
        let total = self.line_count();
        let count = count.min(MAX_PAGE_LINES);
        if start >= total || count == 0 {
            return Ok(Vec::new());
        }
        let end_line = start.saturating_add(count as u64).min(total);
        let from = self.offset_of(start)?;
        let to = self.offset_of(end_line)?;
        let mut out = Vec::with_capacity((end_line - start) as usize);
        let mut line: Vec<u8> = Vec::new();
        let mut cut = false;
        let mut buf = vec![0u8; 256 * 1024];
        let mut at = from;
        while at < to {
            let got = self.read_block(at, to, &mut buf)?;
            if got == 0 {
                break;
            }
            let mut rest = &buf[..got];
            while !rest.is_empty() {
                let (piece, ended) = match memchr::memchr(b'\n', rest) {
                    Some(i) => (&rest[..i], Some(i + 1)),
                    None => (rest, None),
                };
                let room = MAX_SHOWN_LINE_BYTES.saturating_sub(line.len());
                if piece.len() > room {
                    line.extend_from_slice(&piece[..room]);
                    cut = true;
                } else {
                    line.extend_from_slice(piece);
                }
                match ended {
                    Some(next) => {
                        finish_line(&mut line, &mut cut, &mut out);
                        rest = &rest[next..];
                    }
                    None => rest = &[],
                }
            }
            at += got as u64;
        }
        if (!line.is_empty() || cut) && (out.len() as u64) < end_line - start {
            // The last line of a file without a final `\n`.
            finish_line(&mut line, &mut cut, &mut out);
        }
        Ok(out)
    }

    /// [`LogIndex::lines`] with their position and the log's length.
    pub fn page(&self, start: u64, count: usize) -> Result<LogPage, LogError> {
        Ok(LogPage {
            first_seq: start,
            lines: self.lines(start, count)?,
            total_lines: self.line_count(),
        })
    }

    /// The first line holding `query`, looking from line `from` (included)
    /// in `direction`; `None` when no line does. `case_insensitive` folds
    /// ASCII letters.
    pub fn search(
        &self,
        query: &str,
        from: u64,
        direction: Direction,
        case_insensitive: bool,
    ) -> Result<Option<u64>, LogError> {
        if query.is_empty() {
            return Err(LogError::EmptyQuery);
        }
        if query.contains('\n') {
            return Err(LogError::MultiLineQuery);
        }
        if query.len() > MAX_QUERY_BYTES {
            return Err(LogError::QueryTooLong);
        }
        let total = self.line_count();
        if total == 0 {
            return Ok(None);
        }
        let needle = if case_insensitive {
            query.to_ascii_lowercase().into_bytes()
        } else {
            query.as_bytes().to_vec()
        };
        let found = match direction {
            Direction::Forward if from >= total => None,
            Direction::Forward => {
                let lo = self.offset_of(from)?;
                self.find_forward(&needle, lo, self.len, case_insensitive)?
            }
            Direction::Backward => {
                let hi = self.offset_of(from.saturating_add(1).min(total))?;
                self.find_backward(&needle, 0, hi, case_insensitive)?
            }
        };
        found.map(|at| self.line_at(at)).transpose()
    }

    /// The offset of the first match in `lo..hi`.
    fn find_forward(
        &self,
        needle: &[u8],
        lo: u64,
        hi: u64,
        fold: bool,
    ) -> Result<Option<u64>, LogError> {
        let finder = memmem::Finder::new(needle);
        let overlap = needle.len() - 1;
        let mut buf = vec![0u8; BLOCK + overlap];
        let mut at = lo;
        while at < hi {
            let got = self.read_block(at, hi, &mut buf)?;
            if got < needle.len() {
                return Ok(None);
            }
            let block = &mut buf[..got];
            if fold {
                block.make_ascii_lowercase();
            }
            if let Some(i) = finder.find(block) {
                return Ok(Some(at + i as u64));
            }
            if at + got as u64 >= hi {
                return Ok(None);
            }
            // The next block starts early enough to see a match cut in two.
            at += (got - overlap) as u64;
        }
        Ok(None)
    }

    /// The offset of the last match in `lo..hi`.
    fn find_backward(
        &self,
        needle: &[u8],
        lo: u64,
        hi: u64,
        fold: bool,
    ) -> Result<Option<u64>, LogError> {
        let finder = memmem::FinderRev::new(needle);
        let overlap = needle.len() - 1;
        let mut buf = vec![0u8; BLOCK + overlap];
        let mut end = hi;
        while end > lo {
            let start = end.saturating_sub(BLOCK as u64).max(lo);
            let got = self.read_block(start, end, &mut buf)?;
            let block = &mut buf[..got];
            if fold {
                block.make_ascii_lowercase();
            }
            if let Some(i) = finder.rfind(block) {
                return Ok(Some(start + i as u64));
            }
            if start == lo {
                break;
            }
            // The next block ends late enough to see a match cut in two.
            end = start + overlap as u64;
        }
        Ok(None)
    }
}

/// The last `n` lines of the log at `path` (fewer when it has fewer, then
/// `None`), read backwards from its end without an index: what a view
/// opening a finished log at its end shows first, while the index of the
/// whole file is built. Lines as [`LogIndex::lines`] returns them.
pub fn tail(path: &Path, n: u64) -> Result<Option<Vec<String>>, LogError> {
    let fail = |source| LogError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(fail)?;
    let len = file.metadata().map_err(fail)?.len();
    if n == 0 {
        return Ok(Some(Vec::new()));
    }
    if len == 0 {
        return Ok(None);
    }
    // A last line without `\n` counts as a line, as in `LogIndex::line_count`.
    let mut buf = vec![0u8; 64 * 1024];
    let mut last = [0u8; 1];
    let ends_with_newline = len > 0 && {
        file.read_exact_at(&mut last, len - 1).map_err(fail)?;
        last[0] == b'\n'
    };
    // The start of the first wanted line is just after the n-th `\n` before
    // the last line's end.
    let mut wanted = n + u64::from(ends_with_newline);
    let mut end = len;
    let mut from = None;
    'scan: while end > 0 {
        let start = end.saturating_sub(buf.len() as u64);
        let got = (end - start) as usize;
        file.read_exact_at(&mut buf[..got], start).map_err(fail)?;
        for nl in memchr::memrchr_iter(b'\n', &buf[..got]) {
            wanted -= 1;
            if wanted == 0 {
                from = Some(start + nl as u64 + 1);
                break 'scan;
            }
        }
        end = start;
    }
    let from = match from {
        Some(from) => from,
        // Exactly n lines: from the file's start.
        None if wanted == 1 => 0,
        None => return Ok(None),
    };
    let size = usize::try_from(len - from).map_err(|_| fail(io::ErrorKind::OutOfMemory.into()))?;
    let mut bytes = vec![0u8; size];
    file.read_exact_at(&mut bytes, from).map_err(fail)?;
    let mut out = Vec::new();
    let body = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
    for piece in body.split(|&b| b == b'\n') {
        let mut line = piece[..piece.len().min(MAX_SHOWN_LINE_BYTES)].to_vec();
        let mut cut = piece.len() > MAX_SHOWN_LINE_BYTES;
        finish_line(&mut line, &mut cut, &mut out);
    }
    Ok(Some(out))
}

/// Ends the line gathered in `line`: without `\r`, as text, marked when cut.
fn finish_line(line: &mut Vec<u8>, cut: &mut bool, out: &mut Vec<String>) {
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    let mut text = String::from_utf8_lossy(line).into_owned();
    if *cut {
        text.push('…');
    }
    out.push(text);
    line.clear();
    *cut = false;
}

#[cfg(test)]
mod tests;
