//! Turning a byte stream into display lines as a terminal would show them:
//! `\n` ends a line, `\r\n` is a plain line end (SSH with `-t` sends it), and a
//! lone `\r` is a redraw, so only the last non-empty text after it stays.
//! Invalid UTF-8 is replaced, never dropped; ANSI colour sequences are kept
//! for the view to render.

/// A line longer than this without a `\n` is cut, so a child that never ends
/// its line cannot grow memory without bound.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// Splits one stream's bytes into lines; keeps the unfinished tail between calls.
#[derive(Debug, Default)]
pub struct LineSplitter {
    pending: Vec<u8>,
}

impl LineSplitter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds `bytes`, calling `emit` with each finished line's text.
    pub fn feed(&mut self, mut bytes: &[u8], mut emit: impl FnMut(String)) {
        while let Some(end) = memchr_newline(bytes) {
            if self.pending.is_empty() {
                emit(render(&bytes[..end]));
            } else {
                self.pending.extend_from_slice(&bytes[..end]);
                emit(render(&self.pending));
                self.pending.clear();
            }
            bytes = &bytes[end + 1..];
        }
        self.pending.extend_from_slice(bytes);
        if self.pending.len() >= MAX_LINE_BYTES {
            emit(render(&self.pending));
            self.pending.clear();
        }
    }

    /// Emits the unfinished last line, if any (at end of stream).
    pub fn finish(&mut self, mut emit: impl FnMut(String)) {
        if !self.pending.is_empty() {
            let line = render(&self.pending);
            self.pending.clear();
            if !line.is_empty() {
                emit(line);
            }
        }
    }
}

fn memchr_newline(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|b| *b == b'\n')
}

/// The text a terminal would leave on screen for one line's bytes.
fn render(line: &[u8]) -> String {
    let mut line = line;
    while let [rest @ .., b'\r'] = line {
        line = rest;
    }
    if line.contains(&b'\r') {
        // A redraw: the last non-empty segment is what stays visible.
        if let Some(seg) = line.split(|b| *b == b'\r').rev().find(|s| !s.is_empty()) {
            line = seg;
        }
    }
    String::from_utf8_lossy(line).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&[u8]]) -> Vec<String> {
        let mut s = LineSplitter::new();
        let mut out = Vec::new();
        for c in chunks {
            s.feed(c, |l| out.push(l));
        }
        s.finish(|l| out.push(l));
        out
    }

    #[test]
    fn lines_across_chunks() {
        assert_eq!(split(&[b"ab", b"c\nde", b"f\n", b"g"]), ["abc", "def", "g"]);
        assert_eq!(split(&[b"\n\n"]), ["", ""]);
    }

    #[test]
    fn crlf_and_redraws() {
        assert_eq!(split(&[b"one\r\ntwo\r\r\n"]), ["one", "two"]);
        assert_eq!(split(&[b"10%\r20%\r", b"30%\rdone\n"]), ["done"]);
        assert_eq!(split(&[b"copying\r\x1b[K\n"]), ["\x1b[K"]);
        assert_eq!(split(&[b"abc\r\rX\n"]), ["X"]);
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        assert_eq!(split(&[b"a\xffb\n"]), ["a\u{fffd}b"]);
    }

    #[test]
    fn endless_lines_are_cut() {
        let big = vec![b'x'; MAX_LINE_BYTES + 10];
        let out = split(&[&big]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].len(), MAX_LINE_BYTES + 10);
        let mut s = LineSplitter::new();
        let mut n = 0;
        for _ in 0..3 {
            s.feed(&big[..MAX_LINE_BYTES / 2 + 1], |_| n += 1);
        }
        assert_eq!(n, 1, "cut once the tail passes the limit");
    }
}
