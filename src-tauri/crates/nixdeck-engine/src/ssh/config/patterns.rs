//! OpenSSH's pattern matching: host lists with `*`, `?` and `!`, and the
//! file globs of `Include`.

use std::path::{Path, PathBuf};

/// OpenSSH `Host` matching: any positive pattern matches and no negated one does.
pub(super) fn host_matches(host: &str, patterns: &[String]) -> bool {
    let mut matched = false;
    for pat in patterns {
        if let Some(neg) = pat.strip_prefix('!') {
            if glob(neg, host) {
                return false;
            }
        } else if glob(pat, host) {
            matched = true;
        }
    }
    matched
}

/// Like [`host_matches`], case-sensitive (user names).
pub(super) fn pattern_list_matches(text: &str, patterns: &[String]) -> bool {
    let mut matched = false;
    for pat in patterns {
        if let Some(neg) = pat.strip_prefix('!') {
            if wildmatch(neg, text, false) {
                return false;
            }
        } else if wildmatch(pat, text, false) {
            matched = true;
        }
    }
    matched
}

/// `*` any run of characters, `?` exactly one; case-insensitive as host names are.
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
    wildmatch(pattern, text, true)
}

pub(super) fn wildmatch(pattern: &str, text: &str, fold_case: bool) -> bool {
    let fold = |s: &str| -> Vec<char> {
        if fold_case {
            s.to_lowercase().chars().collect()
        } else {
            s.chars().collect()
        }
    };
    let (p, t) = (fold(pattern), fold(text));
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// The files a path pattern (`*`, `?` in any component) names, sorted as
/// glob(3) sorts them.
pub(super) fn glob_paths(pattern: &Path) -> Vec<PathBuf> {
    let mut found = vec![PathBuf::from("/")];
    let mut relative_start = true;
    for comp in pattern.components() {
        use std::path::Component;
        let part = match comp {
            Component::RootDir => {
                relative_start = false;
                continue;
            }
            Component::Normal(p) => p.to_string_lossy().into_owned(),
            other => {
                for f in &mut found {
                    f.push(other.as_os_str());
                }
                continue;
            }
        };
        if relative_start {
            // A relative pattern (only when the home directory is unknown).
            found = vec![PathBuf::new()];
            relative_start = false;
        }
        if !part.contains(['*', '?']) {
            for f in &mut found {
                f.push(&part);
            }
            continue;
        }
        let mut next = Vec::new();
        for dir in &found {
            let Ok(entries) = std::fs::read_dir(if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            }) else {
                continue;
            };
            let mut names: Vec<String> = entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                // Like glob(3): a leading dot is matched only explicitly.
                .filter(|n| !n.starts_with('.') || part.starts_with('.'))
                .filter(|n| wildmatch(&part, n, false))
                .collect();
            names.sort();
            next.extend(names.into_iter().map(|n| dir.join(n)));
        }
        found = next;
    }
    found
}
