//! Terminal output as lines: what a child process wrote, cut into the lines a
//! person would have seen in a terminal.
//!
//! The tools nixdeck runs write for terminals: `ssh -t` turns `\n` into `\r\n`,
//! nix redraws its progress bar with a lone `\r` (often `\r\x1b[K`), and
//! everything may be coloured with ANSI escapes. This module owns:
//! - [`LineSplitter`]: a streaming splitter over raw bytes (`\r\n` ends a line,
//!   a lone `\r` starts a redraw of the current line), with a bound on line length
//!   ([`MAX_LINE_BYTES`], the rest of a longer line dropped and the line marked
//!   with [`TRUNCATED_MARK`]) so memory and the log stay flat whatever the child writes;
//! - [`strip_ansi`]: the plain text used for analysis;
//! - [`styled_spans`]: SGR colours kept as spans for display;
//! - [`split_glued_progress`]: a nix progress text that a redraw glued in front of
//!   a message (`…copying 11860 pathsToo many root sets`).

use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// Longest line kept; of a longer one the first this many bytes are kept, marked
/// with [`TRUNCATED_MARK`], and the rest up to its end is dropped, so a child
/// writing without newlines grows neither memory nor the log.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// Ends a line that was longer than [`MAX_LINE_BYTES`].
pub const TRUNCATED_MARK: &str = " …[line longer than 64 KiB: the rest was dropped]";

/// Cuts a byte stream into terminal lines, as they come.
///
/// Rules: `\n` ends a line; `\r\n` (and `\r\r\n`, which `ssh -t` produces from a
/// `\r\n`) ends a line; a lone `\r` means the text after it redraws the current
/// line, so only the text after the last lone `\r` is kept. Escape sequences are
/// kept (see [`strip_ansi`] and [`styled_spans`]). Bytes that are not UTF-8 are
/// replaced, never rejected.
#[derive(Debug, Default, Clone)]
pub struct LineSplitter {
    /// The current line since its last redraw.
    current: Vec<u8>,
    /// A `\r` was the last byte seen: whether it is a line end or a redraw
    /// depends on the next byte, which may come in the next chunk.
    pending_cr: bool,
    /// How many times the current line was redrawn.
    redraws: u32,
    /// The current line passed [`MAX_LINE_BYTES`] and was emitted: drop the rest.
    skipping: bool,
}

impl LineSplitter {
    /// A splitter at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next chunk; every line it completes is appended to `out`
    /// (without its line ending).
    pub fn push(&mut self, chunk: &[u8], out: &mut Vec<String>) {
        let mut rest = chunk;
        while !rest.is_empty() {
            if self.pending_cr {
                match rest[0] {
                    b'\n' => {
                        self.pending_cr = false;
                        self.emit(out);
                        rest = &rest[1..];
                        continue;
                    }
                    // `\r\r\n`: keep waiting for the `\n`.
                    b'\r' => {
                        rest = &rest[1..];
                        continue;
                    }
                    _ => {
                        // A lone `\r`: what follows redraws the line.
                        self.pending_cr = false;
                        self.current.clear();
                        self.redraws = self.redraws.saturating_add(1);
                    }
                }
            }
            match rest.iter().position(|&b| b == b'\n' || b == b'\r') {
                Some(at)
                    if self.current.is_empty()
                        && !self.skipping
                        && at <= MAX_LINE_BYTES
                        && ends_line(rest, at) =>
                {
                    // The common case, a whole line inside the chunk: one copy.
                    out.push(String::from_utf8_lossy(&rest[..at]).into_owned());
                    self.redraws = 0;
                    let mut next = at;
                    while rest[next] == b'\r' {
                        next += 1;
                    }
                    rest = &rest[next + 1..];
                }
                Some(at) => {
                    self.append(&rest[..at], out);
                    if rest[at] == b'\n' {
                        self.emit(out);
                    } else {
                        self.pending_cr = true;
                    }
                    rest = &rest[at + 1..];
                }
                None => {
                    self.append(rest, out);
                    rest = &[];
                }
            }
        }
    }

    /// The current unfinished line as a terminal shows it now (after redraws),
    /// if it has any text; for a live "progress" row.
    pub fn partial(&self) -> Option<String> {
        if self.current.is_empty() {
            None
        } else {
            Some(String::from_utf8_lossy(&self.current).into_owned())
        }
    }

    /// How many times the unfinished line has been redrawn so far.
    pub fn redraws(&self) -> u32 {
        self.redraws
    }

    /// Ends the stream: returns the last line when the output did not end with a
    /// newline and something visible is left on it.
    pub fn finish(&mut self) -> Option<String> {
        self.pending_cr = false;
        self.redraws = 0;
        if std::mem::take(&mut self.skipping) {
            self.current.clear();
            return None;
        }
        let line = String::from_utf8_lossy(&self.current).into_owned();
        self.current.clear();
        if strip_ansi(&line).trim().is_empty() {
            None
        } else {
            Some(line)
        }
    }

    fn append(&mut self, bytes: &[u8], out: &mut Vec<String>) {
        if self.skipping {
            return;
        }
        if self.current.len() + bytes.len() > MAX_LINE_BYTES {
            let room = MAX_LINE_BYTES - self.current.len();
            self.current.extend_from_slice(&bytes[..room]);
            let mut line = String::from_utf8_lossy(&self.current).into_owned();
            line.push_str(TRUNCATED_MARK);
            out.push(line);
            self.current.clear();
            self.skipping = true;
            return;
        }
        self.current.extend_from_slice(bytes);
    }

    /// Ends the current line; a truncated one was emitted already.
    fn emit(&mut self, out: &mut Vec<String>) {
        if !std::mem::take(&mut self.skipping) {
            out.push(String::from_utf8_lossy(&self.current).into_owned());
        }
        self.current.clear();
        self.redraws = 0;
    }
}

/// Whether the terminator at `at` ends the line here: a `\n`, or `\r`s
/// followed by a `\n` within the chunk (`\r\n`, `\r\r\n`).
fn ends_line(bytes: &[u8], at: usize) -> bool {
    let mut i = at;
    while i < bytes.len() && bytes[i] == b'\r' {
        i += 1;
    }
    i < bytes.len() && bytes[i] == b'\n'
}

/// The line without what a log collector put in front of every line: a CI
/// runner's timestamp (`2024-05-16T10:00:00.1234567Z `) or a terraform
/// provisioner's resource name (`null_resource.install (local-exec): `).
/// Works on plain text (see [`strip_ansi`]).
pub fn strip_collector_prefix(line: &str) -> &str {
    let t = line.trim_start();
    // RFC 3339 timestamp with a `T` and a zone, then a space.
    if let Some((stamp, rest)) = t.split_once(' ') {
        let b = stamp.as_bytes();
        let looks_like_time = b.len() >= 20
            && b[..4].iter().all(u8::is_ascii_digit)
            && b[4] == b'-'
            && b[7] == b'-'
            && b[10] == b'T'
            && b[13] == b':'
            && (stamp.ends_with('Z') || b[19..].iter().any(|c| matches!(c, b'+' | b'-')));
        if looks_like_time {
            return rest;
        }
    }
    for marker in [" (local-exec): ", " (remote-exec): "] {
        if let Some((resource, rest)) = t.split_once(marker) {
            if !resource.is_empty() && !resource.contains(' ') {
                return rest;
            }
        }
    }
    line
}

/// Splits a whole captured text (a saved log) into lines with the
/// [`LineSplitter`] rules, one entry per `\n` so that index + 1 is the line
/// number in the file. Unlike the streaming splitter, long lines are not cut.
pub fn split_lines(text: &str) -> Vec<String> {
    if text.is_empty() {
        return Vec::new();
    }
    let mut out: Vec<String> = text.split('\n').map(redrawn).collect();
    if text.ends_with('\n') {
        out.pop();
    }
    out
}

/// One line of a file as a terminal left it: line-end `\r`s dropped, and only
/// the text after the last lone `\r` kept.
fn redrawn(line: &str) -> String {
    let line = line.trim_end_matches('\r');
    match line.rfind('\r') {
        Some(at) => line[at + 1..].to_string(),
        None => line.to_string(),
    }
}

/// Whether the line has escape sequences or other control characters (but
/// tabs): the lines [`strip_ansi`] and [`styled_spans`] change.
pub fn has_escapes(line: &str) -> bool {
    // Every line the runner reads passes here: whole 32-byte blocks are
    // checked without an early exit, which the compiler turns into vector
    // compares (a byte-by-byte `any` was a fifth of the runner's time).
    let is_control = |b: u8| (b < 0x20 && b != b'\t') | (b == 0x7f);
    let mut blocks = line.as_bytes().chunks_exact(32);
    for block in &mut blocks {
        if block.iter().fold(false, |seen, &b| seen | is_control(b)) {
            return true;
        }
    }
    blocks.remainder().iter().any(|&b| is_control(b))
}

/// The text of a line without escape sequences (CSI such as colours and
/// `\x1b[K`, OSC such as hyperlinks and titles, two-byte escapes) and without
/// other control characters but tabs; for matching and analysis.
pub fn strip_ansi(line: &str) -> Cow<'_, str> {
    if !has_escapes(line) {
        return Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(line.len());
    for piece in tokens(line) {
        if let Token::Text(text) = piece {
            out.extend(text.chars().filter(|c| !c.is_control() || *c == '\t'));
        }
    }
    Cow::Owned(out)
}

/// A colour as SGR names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(rename = "SpanColor")]
pub enum Color {
    /// One of the 256 indexed colours (0–7 normal, 8–15 bright).
    Indexed { index: u8 },
    /// A 24-bit colour.
    Rgb { r: u8, g: u8, b: u8 },
}

/// How a run of text is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ts_rs::TS)]
#[ts(rename = "SpanStyle")]
pub struct Style {
    pub fg: Option<Color>,
    pub bg: Option<Color>,
    pub bold: bool,
    pub dim: bool,
    pub italic: bool,
    pub underline: bool,
    pub inverse: bool,
}

/// A run of text in one style.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct StyledSpan {
    pub text: String,
    pub style: Style,
}

/// The line as coloured spans, for display: SGR sequences (`\x1b[…m`) set the
/// style, every other escape is dropped. Adjacent text in one style is one span.
/// Each line starts unstyled, as the tools reset colours at line ends.
pub fn styled_spans(line: &str) -> Vec<StyledSpan> {
    let mut spans: Vec<StyledSpan> = Vec::new();
    let mut style = Style::default();
    for piece in tokens(line) {
        match piece {
            Token::Text(text) => {
                let text: String = text
                    .chars()
                    .filter(|c| !c.is_control() || *c == '\t')
                    .collect();
                if text.is_empty() {
                    continue;
                }
                match spans.last_mut() {
                    Some(last) if last.style == style => last.text.push_str(&text),
                    _ => spans.push(StyledSpan { text, style }),
                }
            }
            Token::Csi { params, final_byte } => {
                if final_byte == 'm' {
                    apply_sgr(&mut style, params);
                }
            }
            Token::Other => {}
        }
    }
    spans
}

fn apply_sgr(style: &mut Style, params: &str) {
    let codes: Vec<u16> = if params.is_empty() {
        vec![0]
    } else {
        params
            .split([';', ':'])
            .map(|p| p.parse().unwrap_or(0))
            .collect()
    };
    let mut i = 0;
    while i < codes.len() {
        let code = codes[i];
        match code {
            0 => *style = Style::default(),
            1 => style.bold = true,
            2 => style.dim = true,
            3 => style.italic = true,
            4 => style.underline = true,
            7 => style.inverse = true,
            22 => {
                style.bold = false;
                style.dim = false;
            }
            23 => style.italic = false,
            24 => style.underline = false,
            27 => style.inverse = false,
            30..=37 => {
                style.fg = Some(Color::Indexed {
                    index: (code - 30) as u8,
                })
            }
            39 => style.fg = None,
            40..=47 => {
                style.bg = Some(Color::Indexed {
                    index: (code - 40) as u8,
                })
            }
            49 => style.bg = None,
            90..=97 => {
                style.fg = Some(Color::Indexed {
                    index: (code - 90 + 8) as u8,
                })
            }
            100..=107 => {
                style.bg = Some(Color::Indexed {
                    index: (code - 100 + 8) as u8,
                })
            }
            38 | 48 => {
                let (color, used) = extended_color(&codes[i + 1..]);
                if let Some(color) = color {
                    if code == 38 {
                        style.fg = Some(color);
                    } else {
                        style.bg = Some(color);
                    }
                }
                i += used;
            }
            _ => {}
        }
        i += 1;
    }
}

/// `5;N` or `2;R;G;B` after a 38/48; returns the colour and how many codes it used.
fn extended_color(rest: &[u16]) -> (Option<Color>, usize) {
    let byte = |v: u16| u8::try_from(v).unwrap_or(u8::MAX);
    match rest {
        [5, n, ..] => (Some(Color::Indexed { index: byte(*n) }), 2),
        [2, r, g, b, ..] => (
            Some(Color::Rgb {
                r: byte(*r),
                g: byte(*g),
                b: byte(*b),
            }),
            4,
        ),
        [5] | [2, ..] => (None, rest.len()),
        _ => (None, 0),
    }
}

enum Token<'a> {
    Text(&'a str),
    Csi { params: &'a str, final_byte: char },
    Other,
}

/// Splits a line into text and escape sequences.
fn tokens(line: &str) -> impl Iterator<Item = Token<'_>> {
    let mut rest = line;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let Some(esc) = rest.find('\x1b') else {
            let text = rest;
            rest = "";
            return Some(Token::Text(text));
        };
        if esc > 0 {
            let text = &rest[..esc];
            rest = &rest[esc..];
            return Some(Token::Text(text));
        }
        // `rest` starts with ESC.
        let after = &rest[1..];
        match after.chars().next() {
            Some('[') => {
                // CSI: parameter and intermediate bytes, then a final byte @..~.
                let body = &after[1..];
                match body.find(|c: char| ('@'..='~').contains(&c)) {
                    Some(end) => {
                        let final_byte = body[end..].chars().next().unwrap_or('m');
                        let params = &body[..end];
                        rest = &body[end + final_byte.len_utf8()..];
                        Some(Token::Csi { params, final_byte })
                    }
                    None => {
                        rest = "";
                        Some(Token::Other)
                    }
                }
            }
            Some(']') => {
                // OSC: until BEL or ST (ESC \).
                let body = &after[1..];
                let bel = body.find('\x07').map(|i| (i, 1));
                let st = body.find("\x1b\\").map(|i| (i, 2));
                let end = match (bel, st) {
                    (Some(a), Some(b)) => Some(if a.0 < b.0 { a } else { b }),
                    (a, b) => a.or(b),
                };
                rest = match end {
                    Some((i, len)) => &body[i + len..],
                    None => "",
                };
                Some(Token::Other)
            }
            Some(c) => {
                // Two-byte escapes (`ESC ( B`, `ESC =` …): drop ESC, the
                // intermediate and the final character.
                let mut skip = 1 + c.len_utf8();
                if ('\x20'..='\x2f').contains(&c) {
                    if let Some(next) = rest[skip..].chars().next() {
                        skip += next.len_utf8();
                    }
                }
                rest = &rest[skip..];
                Some(Token::Other)
            }
            None => {
                rest = "";
                Some(Token::Other)
            }
        }
    })
}

/// When a nix progress text was left on the line and a message was written after
/// it without a line break, returns `(progress, message)`; otherwise `None`.
///
/// Recognised progress texts: nix's bar (`[1/0/11860 copied (…)] copying …`,
/// `[3 built, 1/2 copied …] …`) and its `copying N paths` status. The message is
/// taken to start where a lower-case letter, digit or `)` is directly followed by
/// an upper-case letter (`pathsToo`), or at `error:`/`warning:` glued on.
/// Works on plain text (see [`strip_ansi`]).
pub fn split_glued_progress(line: &str) -> Option<(&str, &str)> {
    let trimmed = line.trim_start();
    let offset = line.len() - trimmed.len();
    let body_start = if trimmed.starts_with('[') && is_nix_bar(trimmed) {
        trimmed.find(']')? + 1
    } else if trimmed
        .strip_prefix("copying ")
        .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
    {
        0
    } else {
        return None;
    };
    let body = &trimmed[body_start..];
    for marker in ["error:", "warning:"] {
        if let Some(at) = body.find(marker) {
            if at > 0 {
                let split = offset + body_start + at;
                return Some((&line[..split], &line[split..]));
            }
        }
    }
    let bytes = body.as_bytes();
    for i in 1..bytes.len() {
        let before = bytes[i - 1];
        if bytes[i].is_ascii_uppercase()
            && (before.is_ascii_lowercase() || before.is_ascii_digit() || before == b')')
        {
            let split = offset + body_start + i;
            return Some((&line[..split], &line[split..]));
        }
    }
    None
}

/// `[…]` with the counters nix's progress bar prints.
fn is_nix_bar(text: &str) -> bool {
    let Some(end) = text.find(']') else {
        return false;
    };
    let inner = &text[1..end];
    inner.starts_with(|c: char| c.is_ascii_digit())
        && ["built", "copied", "running", "MiB", "KiB", "GiB", "/"]
            .iter()
            .any(|w| inner.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_seen_anywhere_in_a_line_but_tabs_are_plain() {
        let plain = "x".repeat(100);
        assert!(!has_escapes(&plain));
        assert!(!has_escapes(&format!("{plain}\t{plain}")));
        assert!(!has_escapes("héllo wörld, ünïcode is plain text"));
        // In a whole 32-byte block, on its edges, and in the rest after the blocks.
        for at in [0, 31, 32, 63, 64, 99] {
            for control in ['\x1b', '\r', '\x7f', '\x00'] {
                let mut line: Vec<char> = plain.chars().collect();
                line[at] = control;
                let line: String = line.into_iter().collect();
                assert!(has_escapes(&line), "{control:?} at {at}");
            }
        }
    }

    #[test]
    fn collector_prefixes_are_taken_off() {
        assert_eq!(
            strip_collector_prefix("2024-05-16T10:00:00.1234567Z ### Installing NixOS ###"),
            "### Installing NixOS ###"
        );
        assert_eq!(
            strip_collector_prefix("2024-05-16T10:00:00+02:00 web | Activation successful"),
            "web | Activation successful"
        );
        assert_eq!(
            strip_collector_prefix("hcloud_server.nixos (remote-exec): + kexec_extra_flags="),
            "+ kexec_extra_flags="
        );
        assert_eq!(
            strip_collector_prefix("  web | All done!"),
            "  web | All done!"
        );
        assert_eq!(strip_collector_prefix("2024 was a year"), "2024 was a year");
    }

    fn split_chunks(chunks: &[&[u8]]) -> (Vec<String>, Option<String>) {
        let mut s = LineSplitter::new();
        let mut out = Vec::new();
        for c in chunks {
            s.push(c, &mut out);
        }
        let last = s.finish();
        (out, last)
    }

    #[test]
    fn lf_and_crlf_both_end_lines() {
        let (lines, last) = split_chunks(&[b"one\r\ntwo\nthree\r\n"]);
        assert_eq!(lines, ["one", "two", "three"]);
        assert_eq!(last, None);
    }

    #[test]
    fn whole_lines_in_a_chunk_take_the_fast_path_with_the_same_result() {
        let (lines, _) = split_chunks(&[b"a\r\r\nb\r\n\nc\rd\n"]);
        assert_eq!(lines, ["a", "b", "", "d"]);
        // After a partial line, the rest joins it.
        let (lines, _) = split_chunks(&[b"par", b"tial\nnext\r\n"]);
        assert_eq!(lines, ["partial", "next"]);
    }

    #[test]
    fn crlf_split_across_chunks_is_one_line_end() {
        let (lines, _) = split_chunks(&[b"one\r", b"\ntwo\r", b"\r\n"]);
        assert_eq!(lines, ["one", "two"]);
    }

    #[test]
    fn lone_cr_redraws_the_line() {
        let (lines, _) = split_chunks(&[b"[1/3 built] a\r\x1b[K[2/3 built] b\r", b"\x1b[Kdone\n"]);
        assert_eq!(lines.len(), 1);
        assert_eq!(strip_ansi(&lines[0]), "done");
    }

    #[test]
    fn partial_shows_the_redrawn_line() {
        let mut s = LineSplitter::new();
        let mut out = Vec::new();
        s.push(b"copying 1 path\rcopying 2 paths", &mut out);
        assert!(out.is_empty());
        assert_eq!(s.partial().as_deref(), Some("copying 2 paths"));
        assert_eq!(s.redraws(), 1);
    }

    #[test]
    fn unterminated_last_line_is_returned_by_finish() {
        let (lines, last) = split_chunks(&[b"a\nb"]);
        assert_eq!(lines, ["a"]);
        assert_eq!(last.as_deref(), Some("b"));
        // A progress bar cleared at exit leaves nothing visible.
        let (_, last) = split_chunks(&[b"a\n[1 built]\r\x1b[K"]);
        assert_eq!(last, None);
    }

    #[test]
    fn split_lines_keeps_file_line_numbers() {
        let lines = split_lines("a\r\nprog 1\rprog 2\r\x1b[Kb\n\nc");
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0], "a");
        assert_eq!(strip_ansi(&lines[1]), "b");
        assert_eq!(lines[2], "");
        assert_eq!(lines[3], "c");
        assert_eq!(split_lines("x\n").len(), 1);
    }

    #[test]
    fn overlong_lines_are_truncated_and_marked() {
        let big = vec![b'x'; MAX_LINE_BYTES * 2 + 10];
        let (lines, last) = split_chunks(&[b"before\n", &big, b"\nafter\n"]);
        assert_eq!(
            lines.len(),
            3,
            "one line each, the rest of the long one dropped"
        );
        assert_eq!(lines[0], "before");
        assert_eq!(lines[1].len(), MAX_LINE_BYTES + TRUNCATED_MARK.len());
        assert!(lines[1].ends_with(TRUNCATED_MARK));
        assert_eq!(lines[2], "after");
        assert_eq!(last, None);
        // In small pieces, across redraws, and unfinished at the end: the same bound.
        let pieces: Vec<&[u8]> = big.chunks(1000).collect();
        let (lines, _) = split_chunks(&pieces);
        assert_eq!(lines.len(), 1);
        assert!(lines[0].ends_with(TRUNCATED_MARK));
        let mut s = LineSplitter::new();
        let mut out = Vec::new();
        s.push(&big, &mut out);
        s.push(b"\rredrawn\r\n", &mut out);
        s.push(b"next\n", &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(out[1], "next");
        assert_eq!(s.finish(), None);
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        let (lines, _) = split_chunks(&[b"caf\xe9\n"]);
        assert_eq!(lines, ["caf\u{fffd}"]);
    }

    #[test]
    fn strip_ansi_removes_csi_osc_and_controls() {
        assert_eq!(strip_ansi("\x1b[1;32mok\x1b[0m"), "ok");
        assert_eq!(strip_ansi("\x1b]8;;http://x\x07link\x1b]8;;\x1b\\"), "link");
        assert_eq!(strip_ansi("a\x1b(Bb\x07c"), "abc");
        assert_eq!(strip_ansi("\x1b[Kplain"), "plain");
        assert!(matches!(strip_ansi("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn styled_spans_follow_sgr() {
        let spans = styled_spans("\x1b[1;34mSSH COMMAND:\x1b[0m ssh -t x");
        assert_eq!(spans.len(), 2);
        assert_eq!(spans[0].text, "SSH COMMAND:");
        assert!(spans[0].style.bold);
        assert_eq!(spans[0].style.fg, Some(Color::Indexed { index: 4 }));
        assert_eq!(spans[1].text, " ssh -t x");
        assert_eq!(spans[1].style, Style::default());
    }

    #[test]
    fn styled_spans_extended_colours_and_resets() {
        let spans = styled_spans("\x1b[38;5;196mred\x1b[39m \x1b[48;2;1;2;3mbg\x1b[m end");
        assert_eq!(spans[0].style.fg, Some(Color::Indexed { index: 196 }));
        assert_eq!(spans[1].text, " ");
        assert_eq!(spans[1].style.fg, None);
        assert_eq!(spans[2].style.bg, Some(Color::Rgb { r: 1, g: 2, b: 3 }));
        assert_eq!(spans[3].text, " end");
        assert_eq!(spans[3].style, Style::default());
        let bright = styled_spans("\x1b[91mx");
        assert_eq!(bright[0].style.fg, Some(Color::Indexed { index: 9 }));
    }

    #[test]
    fn glued_progress_is_split() {
        let line = "[1/0/11860 copied (1.2/3.4 GiB)] copying 11860 pathsToo many root sets";
        let (progress, message) = split_glued_progress(line).expect("glued");
        assert!(progress.ends_with("paths"));
        assert_eq!(message, "Too many root sets");
        let (_, message) =
            split_glued_progress("copying 3 pathserror: writing to file: No space left on device")
                .expect("glued");
        assert_eq!(message, "error: writing to file: No space left on device");
    }

    #[test]
    fn normal_lines_are_not_split() {
        assert_eq!(split_glued_progress("Too many root sets"), None);
        assert_eq!(split_glued_progress("[INFO ] Using flake"), None);
        assert_eq!(
            split_glued_progress("copying path '/nix/store/abc' to 'ssh://x'"),
            None
        );
    }
}
