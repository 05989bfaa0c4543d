//! Line diffs for showing a person what nixdeck would change in a file.
//!
//! The longest common subsequence is found with Hirschberg's divide and conquer
//! over interned lines: memory linear in the input, so a large file (a generated
//! `hardware-configuration.nix`, something a person put in a host folder) cannot
//! exhaust it, and no diff dependency. Inputs beyond [`MAX_DIFF_LINES`] or
//! [`MAX_DIFF_BYTES`] are refused with [`DiffError::TooLarge`] (time is quadratic
//! in the worst case).

use std::collections::HashMap;
use thiserror::Error;

/// Most lines on either side of a diff.
pub const MAX_DIFF_LINES: usize = 20_000;
/// Most bytes on either side of a diff.
pub const MAX_DIFF_BYTES: usize = 2 << 20;

/// Why no diff was made.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DiffError {
    #[error("{path} is too large to show as a difference ({lines} lines, {bytes} bytes; the limit is {MAX_DIFF_LINES} lines and {MAX_DIFF_BYTES} bytes): compare it with `git diff` or an editor")]
    TooLarge {
        path: String,
        lines: usize,
        bytes: usize,
    },
}

/// A unified diff of `old` → `new` with `context` lines around each change, headed by
/// `--- a/<path>` / `+++ b/<path>`. Empty when the texts are equal. A text too large
/// to compare gives the headers and one line saying so (see [`unified_checked`]).
pub fn unified(path: &str, old: &str, new: &str, context: usize) -> String {
    unified_checked(path, old, new, context)
        .unwrap_or_else(|e| format!("--- a/{path}\n+++ b/{path}\n# {e}\n"))
}

/// [`unified`], or why the texts are too large to compare.
pub fn unified_checked(
    path: &str,
    old: &str,
    new: &str,
    context: usize,
) -> Result<String, DiffError> {
    if old == new {
        return Ok(String::new());
    }
    for text in [old, new] {
        let lines = text.lines().count();
        if lines > MAX_DIFF_LINES || text.len() > MAX_DIFF_BYTES {
            return Err(DiffError::TooLarge {
                path: path.to_string(),
                lines,
                bytes: text.len(),
            });
        }
    }
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let ops = line_ops(&a, &b);
    let mut out = format!("--- a/{path}\n+++ b/{path}\n");
    // Indices of ops that are changes; hunks are runs of ops within `context` of one.
    let changed: Vec<usize> = ops
        .iter()
        .enumerate()
        .filter(|(_, op)| !matches!(op, Op::Same(..)))
        .map(|(i, _)| i)
        .collect();
    let mut i = 0;
    while i < changed.len() {
        let start = changed[i].saturating_sub(context);
        let mut end = changed[i];
        while i + 1 < changed.len() && changed[i + 1] <= end + 2 * context + 1 {
            i += 1;
            end = changed[i];
        }
        let end = (end + context + 1).min(ops.len());
        let (old_start, new_start) = positions(&ops[..start]);
        let (old_len, new_len) = positions(&ops[start..end]);
        out.push_str(&format!(
            "@@ -{},{} +{},{} @@\n",
            old_start + usize::from(old_len > 0),
            old_len,
            new_start + usize::from(new_len > 0),
            new_len
        ));
        for op in &ops[start..end] {
            match op {
                Op::Same(line) => out.push_str(&format!(" {line}\n")),
                Op::Removed(line) => out.push_str(&format!("-{line}\n")),
                Op::Added(line) => out.push_str(&format!("+{line}\n")),
            }
        }
        i += 1;
    }
    Ok(out)
}

#[derive(Debug)]
enum Op<'a> {
    Same(&'a str),
    Removed(&'a str),
    Added(&'a str),
}

fn positions(ops: &[Op]) -> (usize, usize) {
    ops.iter().fold((0, 0), |(o, n), op| match op {
        Op::Same(_) => (o + 1, n + 1),
        Op::Removed(_) => (o + 1, n),
        Op::Added(_) => (o, n + 1),
    })
}

/// One step of an edit script, by index into the old (`a`) and new (`b`) lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Edit {
    Same(usize, usize),
    Removed(usize),
    Added(usize),
}

fn line_ops<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<Op<'a>> {
    // Lines as small integers: comparisons in the quadratic part are cheap.
    let mut ids: HashMap<&str, u32> = HashMap::new();
    let mut intern = |lines: &[&'a str]| -> Vec<u32> {
        lines
            .iter()
            .map(|l| {
                let next = u32::try_from(ids.len()).unwrap_or(u32::MAX);
                *ids.entry(*l).or_insert(next)
            })
            .collect()
    };
    let (ia, ib) = (intern(a), intern(b));
    let mut edits = Vec::with_capacity(a.len() + b.len());
    hirschberg(&ia, &ib, 0, 0, &mut edits);
    // Within each run of changes, removals first: the usual way to read a diff.
    let mut ops = Vec::with_capacity(edits.len());
    let mut added = Vec::new();
    for edit in edits {
        match edit {
            Edit::Same(i, _) => {
                ops.append(&mut added);
                ops.push(Op::Same(a[i]));
            }
            Edit::Removed(i) => ops.push(Op::Removed(a[i])),
            Edit::Added(j) => added.push(Op::Added(b[j])),
        }
    }
    ops.append(&mut added);
    ops
}

/// Appends an edit script of `a` → `b` (which start at `a0`, `b0` in the whole
/// texts) to `out`. Splits `a` in half and `b` where the LCS of the halves meets,
/// so only two rows of LCS lengths are ever held.
fn hirschberg(a: &[u32], b: &[u32], a0: usize, b0: usize, out: &mut Vec<Edit>) {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    out.extend((0..prefix).map(|k| Edit::Same(a0 + k, b0 + k)));
    let (a, b, a0, b0) = (&a[prefix..], &b[prefix..], a0 + prefix, b0 + prefix);
    let suffix = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (a, b) = (&a[..a.len() - suffix], &b[..b.len() - suffix]);
    if a.is_empty() {
        out.extend((0..b.len()).map(|j| Edit::Added(b0 + j)));
    } else if b.is_empty() {
        out.extend((0..a.len()).map(|i| Edit::Removed(a0 + i)));
    } else if a.len() == 1 {
        match b.iter().position(|y| *y == a[0]) {
            Some(j) => {
                out.extend((0..j).map(|k| Edit::Added(b0 + k)));
                out.push(Edit::Same(a0, b0 + j));
                out.extend((j + 1..b.len()).map(|k| Edit::Added(b0 + k)));
            }
            None => {
                out.push(Edit::Removed(a0));
                out.extend((0..b.len()).map(|k| Edit::Added(b0 + k)));
            }
        }
    } else {
        let mid = a.len() / 2;
        let front = lcs_row(a[..mid].iter(), b.iter());
        let back = lcs_row(a[mid..].iter().rev(), b.iter().rev());
        // front[j]: LCS of a[..mid] and b[..j]; back[m - j]: of a[mid..] and b[j..].
        let m = b.len();
        let split = (0..=m)
            .max_by_key(|&j| (front[j] + back[m - j], std::cmp::Reverse(j)))
            .unwrap_or(0);
        hirschberg(&a[..mid], &b[..split], a0, b0, out);
        hirschberg(&a[mid..], &b[split..], a0 + mid, b0 + split, out);
    }
    let (a_end, b_end) = (a0 + a.len(), b0 + b.len());
    out.extend((0..suffix).map(|k| Edit::Same(a_end + k, b_end + k)));
}

/// The last row of the LCS table of `a` against `b`: entry `j` is the LCS length
/// of all of `a` and the first `j` of `b`. One row of memory.
fn lcs_row<'x>(
    a: impl Iterator<Item = &'x u32>,
    b: impl Iterator<Item = &'x u32> + Clone,
) -> Vec<u32> {
    let m = b.clone().count();
    let mut row = vec![0u32; m + 1];
    for x in a {
        let mut diagonal = 0;
        for (j, y) in b.clone().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if x == y {
                diagonal + 1
            } else {
                above.max(row[j])
            };
            diagonal = above;
        }
    }
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_have_no_diff() {
        assert_eq!(unified("f", "a\nb\n", "a\nb\n", 3), "");
    }

    #[test]
    fn shows_a_changed_line_with_context() {
        let old = "1\n2\n3\n4\n5\n6\n7\n8\n";
        let new = "1\n2\n3\n4x\n5\n6\n7\n8\n";
        let diff = unified("hosts/a/host.nix", old, new, 1);
        assert_eq!(
            diff,
            "--- a/hosts/a/host.nix\n+++ b/hosts/a/host.nix\n@@ -3,3 +3,3 @@\n 3\n-4\n+4x\n 5\n"
        );
    }

    #[test]
    fn diffs_are_minimal_and_apply() {
        // Applying the diff's `-`/`+`/` ` lines to the old text gives the new one.
        let old: String = (0..300).map(|i| format!("line {}\n", i % 17)).collect();
        let new: String = (0..280)
            .map(|i| format!("line {}\n", (i * 3) % 19))
            .collect();
        let diff = unified("f", &old, &new, usize::MAX / 4);
        let kept_new: Vec<&str> = diff
            .lines()
            .skip(3)
            .filter(|l| !l.starts_with('-'))
            .map(|l| &l[1..])
            .collect();
        let kept_old: Vec<&str> = diff
            .lines()
            .skip(3)
            .filter(|l| !l.starts_with('+'))
            .map(|l| &l[1..])
            .collect();
        assert_eq!(kept_new, new.lines().collect::<Vec<_>>());
        assert_eq!(kept_old, old.lines().collect::<Vec<_>>());
        // As short as the quadratic table's: changed lines = both lengths - 2 LCS.
        let changed = diff.lines().skip(3).filter(|l| !l.starts_with(' ')).count();
        assert_eq!(changed, 300 + 280 - 2 * reference_lcs(&old, &new));
    }

    fn reference_lcs(old: &str, new: &str) -> usize {
        let a: Vec<&str> = old.lines().collect();
        let b: Vec<&str> = new.lines().collect();
        let mut t = vec![vec![0usize; b.len() + 1]; a.len() + 1];
        for i in (0..a.len()).rev() {
            for j in (0..b.len()).rev() {
                t[i][j] = if a[i] == b[j] {
                    t[i + 1][j + 1] + 1
                } else {
                    t[i + 1][j].max(t[i][j + 1])
                };
            }
        }
        t[0][0]
    }

    #[test]
    fn large_inputs_are_refused_with_a_clear_error() {
        let big: String = (0..MAX_DIFF_LINES + 1).map(|i| format!("{i}\n")).collect();
        let err = unified_checked("hosts/a/hardware-configuration.nix", "", &big, 3).unwrap_err();
        assert!(err.to_string().contains("too large"), "{err}");
        let shown = unified("hosts/a/hardware-configuration.nix", "", &big, 3);
        assert!(
            shown.lines().count() == 3 && shown.contains("too large"),
            "{shown}"
        );
        // Just under the bound, a whole-file change is still diffed.
        let under: String = (0..MAX_DIFF_LINES).map(|i| format!("{i}\n")).collect();
        assert!(unified_checked("f", "x\n", &under, 0).is_ok());
    }

    #[test]
    fn whole_file_added_or_removed() {
        assert_eq!(
            unified("f", "", "a\n", 3),
            "--- a/f\n+++ b/f\n@@ -0,0 +1,1 @@\n+a\n"
        );
        assert_eq!(
            unified("f", "a\n", "", 3),
            "--- a/f\n+++ b/f\n@@ -1,1 +0,0 @@\n-a\n"
        );
    }
}
