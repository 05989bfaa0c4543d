use super::*;
use std::io::Write;

fn write(dir: &tempfile::TempDir, text: &[u8]) -> PathBuf {
    let path = dir.path().join("job.log");
    std::fs::write(&path, text).unwrap();
    path
}

fn append(path: &Path, text: &[u8]) {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(text).unwrap();
}

/// The lines as a plain reading of the whole file sees them.
fn naive(text: &[u8]) -> Vec<String> {
    let mut lines: Vec<String> = text
        .split(|&b| b == b'\n')
        .map(|l| String::from_utf8_lossy(l.strip_suffix(b"\r").unwrap_or(l)).into_owned())
        .collect();
    if text.last().is_none_or(|&b| b == b'\n') {
        lines.pop();
    }
    lines
}

/// A small deterministic generator, so failures repeat.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

#[test]
fn ten_lines_by_range() {
    let dir = tempfile::tempdir().unwrap();
    let text: String = (0..10).map(|i| format!("line {i}\n")).collect();
    let index = LogIndex::open(&write(&dir, text.as_bytes())).unwrap();
    assert_eq!(index.line_count(), 10);
    assert_eq!(index.lines(0, 10).unwrap(), naive(text.as_bytes()));
    assert_eq!(index.lines(3, 2).unwrap(), vec!["line 3", "line 4"]);
    assert_eq!(index.lines(8, 50).unwrap(), vec!["line 8", "line 9"]);
    assert!(index.lines(10, 5).unwrap().is_empty());
    assert!(index.lines(3, 0).unwrap().is_empty());
    let page = index.page(9, 3).unwrap();
    assert_eq!(
        page,
        LogPage {
            first_seq: 9,
            lines: vec!["line 9".into()],
            total_lines: 10
        }
    );
}

#[test]
fn empty_log_has_no_lines() {
    let dir = tempfile::tempdir().unwrap();
    let index = LogIndex::open(&write(&dir, b"")).unwrap();
    assert_eq!(index.line_count(), 0);
    assert!(index.lines(0, 10).unwrap().is_empty());
    assert_eq!(
        index.search("x", 0, Direction::Forward, false).unwrap(),
        None
    );
}

#[test]
fn crlf_line_ends_are_not_part_of_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let index = LogIndex::open(&write(&dir, b"one\r\ntwo\r\n\r\nfour\r\n")).unwrap();
    assert_eq!(index.line_count(), 4);
    assert_eq!(index.lines(0, 10).unwrap(), vec!["one", "two", "", "four"]);
    assert_eq!(
        index.search("four", 0, Direction::Forward, false).unwrap(),
        Some(3)
    );
}

#[test]
fn a_last_line_without_newline_counts() {
    let dir = tempfile::tempdir().unwrap();
    let index = LogIndex::open(&write(&dir, b"a\nb\nlast")).unwrap();
    assert_eq!(index.line_count(), 3);
    assert_eq!(index.lines(0, 10).unwrap(), vec!["a", "b", "last"]);
    assert_eq!(index.lines(2, 1).unwrap(), vec!["last"]);
    assert_eq!(
        index.search("ast", 0, Direction::Forward, false).unwrap(),
        Some(2)
    );
    assert_eq!(
        index.search("a", 2, Direction::Backward, false).unwrap(),
        Some(2)
    );
}

#[test]
fn invalid_utf8_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let index = LogIndex::open(&write(&dir, b"ok\n\xff\xfebad\n")).unwrap();
    assert_eq!(index.lines(1, 1).unwrap(), vec!["\u{fffd}\u{fffd}bad"]);
}

#[test]
fn a_growing_log_is_indexed_as_it_grows() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, b"");
    let mut index = LogIndex::open(&path).unwrap();
    let mut whole = Vec::new();
    let mut rng = Lcg(7);
    // Appends in pieces that cut lines anywhere, across many checkpoints.
    for round in 0..300 {
        let mut piece = Vec::new();
        for _ in 0..rng.next() % 5 {
            piece.extend_from_slice(
                format!("r{round} {}\n", "x".repeat((rng.next() % 40) as usize)).as_bytes(),
            );
        }
        piece.extend_from_slice(format!("cut{round}").as_bytes());
        let keep = rng.next() as usize % (piece.len() + 1);
        piece.truncate(keep);
        append(&path, &piece);
        whole.extend_from_slice(&piece);
        let expected = naive(&whole);
        assert_eq!(
            index.refresh().unwrap(),
            expected.len() as u64,
            "round {round}"
        );
        let from = expected.len().saturating_sub(7);
        assert_eq!(
            index.lines(from as u64, 10).unwrap(),
            expected[from..],
            "round {round}"
        );
    }
    let expected = naive(&whole);
    assert!(expected.len() > 2 * CHECKPOINT_EVERY as usize);
    for start in 0..expected.len() {
        assert_eq!(
            index.lines(start as u64, 3).unwrap(),
            expected[start..(start + 3).min(expected.len())]
        );
    }
}

#[test]
fn a_rewritten_shorter_log_is_indexed_again() {
    let dir = tempfile::tempdir().unwrap();
    let long: String = (0..200).map(|i| format!("old {i}\n")).collect();
    let path = write(&dir, long.as_bytes());
    let mut index = LogIndex::open(&path).unwrap();
    assert_eq!(index.line_count(), 200);
    std::fs::write(&path, b"new 0\nnew 1\n").unwrap();
    assert_eq!(index.refresh().unwrap(), 2);
    assert_eq!(index.lines(0, 5).unwrap(), vec!["new 0", "new 1"]);
}

#[test]
fn an_overlong_line_is_cut() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = b"before\n".to_vec();
    text.extend(std::iter::repeat_n(b'y', MAX_SHOWN_LINE_BYTES * 5));
    text.extend_from_slice(b"\nafter\n");
    let index = LogIndex::open(&write(&dir, &text)).unwrap();
    let lines = index.lines(0, 3).unwrap();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0], "before");
    assert_eq!(lines[1].len(), MAX_SHOWN_LINE_BYTES + '…'.len_utf8());
    assert!(lines[1].ends_with('…'));
    assert_eq!(lines[2], "after");
}

#[test]
fn search_goes_either_way_and_includes_its_first_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = "error: a\nfine\nError: b\nfine\nerror: c\n";
    let index = LogIndex::open(&write(&dir, text.as_bytes())).unwrap();
    let find = |q: &str, from: u64, d: Direction, ci: bool| index.search(q, from, d, ci).unwrap();
    assert_eq!(find("error", 0, Direction::Forward, false), Some(0));
    assert_eq!(find("error", 1, Direction::Forward, false), Some(4));
    assert_eq!(find("error", 1, Direction::Forward, true), Some(2));
    assert_eq!(find("ERROR", 3, Direction::Backward, true), Some(2));
    assert_eq!(find("error", 3, Direction::Backward, false), Some(0));
    assert_eq!(find("error", 4, Direction::Backward, false), Some(4));
    assert_eq!(find("error", 99, Direction::Backward, false), Some(4));
    assert_eq!(find("error", 5, Direction::Forward, false), None);
    assert_eq!(find("missing", 0, Direction::Forward, false), None);
    assert_eq!(find("missing", 4, Direction::Backward, true), None);
    // A match never spans lines: "a\nfine" is not in any one line.
    assert!(matches!(
        index.search("a\nfine", 0, Direction::Forward, false),
        Err(LogError::MultiLineQuery)
    ));
    assert!(matches!(
        index.search("", 0, Direction::Forward, false),
        Err(LogError::EmptyQuery)
    ));
    assert!(matches!(
        index.search(
            &"q".repeat(MAX_QUERY_BYTES + 1),
            0,
            Direction::Forward,
            false
        ),
        Err(LogError::QueryTooLong)
    ));
}

#[test]
fn search_finds_a_match_cut_by_a_read_block() {
    let dir = tempfile::tempdir().unwrap();
    let filler = format!("{}\n", "z".repeat(99));
    let mut text = String::new();
    while text.len() < BLOCK - 120 {
        text.push_str(&filler);
    }
    let before = naive(text.as_bytes()).len() as u64;
    // Pad so the needle starts 3 bytes before the first block's end.
    text.push_str(&"p".repeat(BLOCK - 3 - text.len()));
    text.push_str("NEEDLE here\n");
    for _ in 0..50_000 {
        text.push_str(&filler);
    }
    let index = LogIndex::open(&write(&dir, text.as_bytes())).unwrap();
    assert_eq!(
        index
            .search("NEEDLE", 0, Direction::Forward, false)
            .unwrap(),
        Some(before)
    );
    let last = index.line_count() - 1;
    assert_eq!(
        index
            .search("needle", last, Direction::Backward, true)
            .unwrap(),
        Some(before)
    );
}

#[test]
fn a_million_lines_answer_right_with_a_small_index() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    let n = 1_200_000u64;
    let line = |i: u64| format!("{i} {}", "w".repeat((i % 23) as usize));
    {
        let mut out = std::io::BufWriter::new(File::create(&path).unwrap());
        for i in 0..n {
            let marker = match i {
                17 => " MARK-early",
                1_199_990 => " MARK-late",
                _ => "",
            };
            writeln!(out, "{}{marker}", line(i)).unwrap();
        }
    }
    let index = LogIndex::open(&path).unwrap();
    assert_eq!(index.line_count(), n);
    // 8 bytes per 64 lines, plus the Vec's spare room.
    assert!(index.index_bytes() <= 2 * (n / CHECKPOINT_EVERY + 1) as usize * 8);
    let mut rng = Lcg(42);
    for _ in 0..200 {
        let start = rng.next() % n;
        let got = index.lines(start, 5).unwrap();
        let want: Vec<String> = (start..(start + 5).min(n))
            .map(|i| match i {
                17 => format!("{} MARK-early", line(i)),
                1_199_990 => format!("{} MARK-late", line(i)),
                _ => line(i),
            })
            .collect();
        assert_eq!(got, want, "lines from {start}");
    }
    assert_eq!(index.lines(n - 1, 5).unwrap(), vec![line(n - 1)]);
    assert_eq!(
        index
            .search("MARK-late", 0, Direction::Forward, false)
            .unwrap(),
        Some(1_199_990)
    );
    assert_eq!(
        index
            .search("mark-", 1_199_989, Direction::Backward, true)
            .unwrap(),
        Some(17)
    );
    assert_eq!(
        index.search("MARK", 18, Direction::Forward, false).unwrap(),
        Some(1_199_990)
    );
    assert_eq!(
        index
            .search("1199999 ", n - 1, Direction::Backward, false)
            .unwrap(),
        Some(n - 1)
    );
}

#[test]
fn the_tail_without_an_index_is_the_indexs_end() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Lcg(7);
    for text in [
        b"a\nb\r\nc\n".to_vec(),
        b"a\nb\nno newline at the end".to_vec(),
        b"\n\n\n".to_vec(),
        b"one".to_vec(),
        (0..70_000)
            .flat_map(|i| {
                let len = (rng.next() % 200) as usize;
                let mut line = format!("{i} ").into_bytes();
                line.extend(std::iter::repeat_n(b'x', len));
                line.push(b'\n');
                line
            })
            .collect(),
    ] {
        let path = write(&dir, &text);
        let all = naive(&text);
        let total = all.len() as u64;
        for n in [1, 2, total.saturating_sub(1), total, 700, 5000] {
            let got = tail(&path, n).unwrap();
            if n > total {
                assert_eq!(got, None, "n = {n} of {total}");
            } else {
                assert_eq!(
                    got.unwrap(),
                    all[(total - n) as usize..],
                    "n = {n} of {total}"
                );
            }
        }
    }
    let empty = write(&dir, b"");
    assert_eq!(tail(&empty, 1).unwrap(), None);
    assert_eq!(tail(&empty, 0).unwrap(), Some(vec![]));
}
