//! The part of `~/.ssh/config` nixdeck honours: `HostName`, `User`, `Port` and
//! `IdentityFile` under `Host` patterns (`*`, `?`, `!negation`), first value
//! wins as in OpenSSH (`IdentityFile` accumulates). `Match` blocks are skipped
//! (their conditions need more than a host name); `Include` is not followed.

use std::path::{Path, PathBuf};

/// Settings for one host, as the config file gives them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostConfig {
    /// `HostName`: the real address behind an alias.
    pub host_name: Option<String>,
    /// `User`.
    pub user: Option<String>,
    /// `Port`.
    pub port: Option<u16>,
    /// `IdentityFile`s in order, `~` and `%d`/`%h`/`%u`/`%r` expanded.
    pub identity_files: Vec<PathBuf>,
}

/// A parsed ssh config file.
#[derive(Debug, Clone, Default)]
pub struct SshConfig {
    blocks: Vec<Block>,
}

#[derive(Debug, Clone)]
struct Block {
    /// `None` for settings before the first `Host` line (apply to all) and for
    /// `Match` blocks, which never apply here.
    patterns: Option<Vec<String>>,
    is_match: bool,
    entries: Vec<(String, String)>,
}

impl SshConfig {
    /// Reads `~/.ssh/config`; a missing or unreadable file is an empty config,
    /// as for OpenSSH.
    pub fn load_default() -> Self {
        dirs::home_dir()
            .map(|h| Self::load(&h.join(".ssh/config")))
            .unwrap_or_default()
    }

    /// Reads a config file; missing or unreadable means empty.
    pub fn load(path: &Path) -> Self {
        std::fs::read_to_string(path)
            .map(|text| Self::parse(&text))
            .unwrap_or_default()
    }

    /// Parses config text.
    pub fn parse(text: &str) -> Self {
        let mut blocks = vec![Block {
            patterns: None,
            is_match: false,
            entries: Vec::new(),
        }];
        for raw in text.lines() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (key, value) = split_keyword(line);
            let key = key.to_ascii_lowercase();
            match key.as_str() {
                "host" => blocks.push(Block {
                    patterns: Some(words(&value)),
                    is_match: false,
                    entries: Vec::new(),
                }),
                "match" => blocks.push(Block {
                    patterns: None,
                    is_match: true,
                    entries: Vec::new(),
                }),
                _ => {
                    if let Some(block) = blocks.last_mut() {
                        block.entries.push((key, unquote(&value)));
                    }
                }
            }
        }
        Self { blocks }
    }

    /// The settings that apply to `host` (the name the user typed).
    pub fn for_host(&self, host: &str) -> HostConfig {
        let mut out = HostConfig::default();
        let mut raw_identities = Vec::new();
        for block in &self.blocks {
            if block.is_match {
                continue;
            }
            if let Some(patterns) = &block.patterns {
                if !host_matches(host, patterns) {
                    continue;
                }
            }
            for (key, value) in &block.entries {
                match key.as_str() {
                    "hostname" if out.host_name.is_none() => out.host_name = Some(value.clone()),
                    "user" if out.user.is_none() => out.user = Some(value.clone()),
                    "port" if out.port.is_none() => out.port = value.parse().ok(),
                    "identityfile" => raw_identities.push(value.clone()),
                    _ => {}
                }
            }
        }
        // In HostName, %h is the name the user typed; in IdentityFile, the
        // resulting host name.
        out.host_name = out
            .host_name
            .as_deref()
            .map(|s| s.replace("%h", host).replace("%%", "%"));
        let host_name = out.host_name.clone().unwrap_or_else(|| host.to_string());
        out.identity_files = raw_identities
            .iter()
            .map(|p| expand_path(p, &host_name, out.user.as_deref()))
            .collect();
        out
    }
}

/// `Key value`, `Key=value` and `Key = value`.
fn split_keyword(line: &str) -> (String, String) {
    let end = line
        .find(|c: char| c.is_whitespace() || c == '=')
        .unwrap_or(line.len());
    let (key, rest) = line.split_at(end);
    let rest = rest.trim_start();
    let rest = rest.strip_prefix('=').unwrap_or(rest).trim();
    (key.to_string(), rest.to_string())
}

fn words(value: &str) -> Vec<String> {
    value.split_whitespace().map(unquote).collect()
}

fn unquote(v: &str) -> String {
    v.strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or(v)
        .to_string()
}

fn expand_path(p: &str, host: &str, user: Option<&str>) -> PathBuf {
    let home = dirs::home_dir().unwrap_or_default();
    let local_user = std::env::var("USER").unwrap_or_default();
    let p = p
        .replace("%d", &home.to_string_lossy())
        .replace("%h", host)
        .replace("%r", user.unwrap_or(&local_user))
        .replace("%u", &local_user)
        .replace("%%", "%");
    match p.strip_prefix("~/") {
        Some(rest) => home.join(rest),
        None => PathBuf::from(p),
    }
}

/// OpenSSH `Host` matching: any positive pattern matches and no negated one does.
fn host_matches(host: &str, patterns: &[String]) -> bool {
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

/// `*` any run of characters, `?` exactly one; case-insensitive as host names are.
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
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

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "\
# global
IdentityFile ~/.ssh/global_key

Host web-? !web-9
    HostName %h.example.org
    User deploy
    Port 2222

Host web-*
    User ignored-because-first-wins
    IdentityFile=/keys/web

Match host foo
    User never

Host *
    User fallback
    Port=22
";

    #[test]
    fn first_value_wins_and_identities_accumulate() {
        let cfg = SshConfig::parse(CONFIG);
        let c = cfg.for_host("web-1");
        assert_eq!(c.host_name.as_deref(), Some("web-1.example.org"));
        assert_eq!(c.user.as_deref(), Some("deploy"));
        assert_eq!(c.port, Some(2222));
        assert_eq!(c.identity_files.len(), 2);
        assert!(c.identity_files[0].ends_with(".ssh/global_key"));
        assert_eq!(c.identity_files[1], PathBuf::from("/keys/web"));
    }

    #[test]
    fn negation_and_match_blocks() {
        let cfg = SshConfig::parse(CONFIG);
        let c = cfg.for_host("web-9");
        assert_eq!(c.host_name, None);
        assert_eq!(c.user.as_deref(), Some("ignored-because-first-wins"));
        let other = cfg.for_host("foo");
        assert_eq!(other.user.as_deref(), Some("fallback"));
        assert_eq!(other.port, Some(22));
    }

    #[test]
    fn globs() {
        assert!(glob("*.example.org", "a.b.EXAMPLE.org"));
        assert!(glob("h?st", "host"));
        assert!(!glob("h?st", "hoost"));
        assert!(glob("*", ""));
        assert!(!glob("a*b", "acbd"));
    }
}
