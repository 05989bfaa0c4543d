//! `~/.ssh/config` as OpenSSH reads it, for what decides where a connection
//! goes and how it is checked: `Host` and `Match` blocks (`host`,
//! `originalhost`, `user`, `localuser`, `all`), `Include` (globs, relative to
//! `~/.ssh`), first value wins (`IdentityFile` accumulates), and `HostName`,
//! `User`, `Port`, `IdentityFile`, `IdentitiesOnly`, `IdentityAgent`,
//! `ProxyJump`, `ProxyCommand`, `UserKnownHostsFile`, `GlobalKnownHostsFile`,
//! `HostKeyAlias`.
//!
//! What nixdeck cannot honour and that would change where it connects or
//! what it trusts (`Match exec`, `CanonicalizeHostname yes`,
//! `ProxyUseFdpass yes`, …) is an error naming the file and line, never
//! silently skipped: connecting somewhere else than `ssh` would is worse than
//! not connecting.

use super::SshTarget;
use std::path::{Path, PathBuf};

/// Settings for one host, as the config files give them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostConfig {
    /// `HostName`: the real address behind an alias (`%h` expanded).
    pub host_name: Option<String>,
    /// `User`.
    pub user: Option<String>,
    /// `Port`.
    pub port: Option<u16>,
    /// `IdentityFile`s in order, `~`, `${VAR}` and `%` tokens expanded.
    pub identity_files: Vec<PathBuf>,
    /// `ProxyJump` or `ProxyCommand`, whichever came first; `None` when
    /// neither is set.
    pub proxy: Option<Proxy>,
    /// `UserKnownHostsFile`s (the first one receives new keys); empty for
    /// OpenSSH's default `~/.ssh/known_hosts`.
    pub user_known_hosts_files: Vec<PathBuf>,
    /// `GlobalKnownHostsFile`s, read but never written (NixOS's
    /// `programs.ssh.knownHosts` lands in `/etc/ssh/ssh_known_hosts`).
    pub global_known_hosts_files: Vec<PathBuf>,
    /// `HostKeyAlias`: the name to look the host key up under.
    pub host_key_alias: Option<String>,
    /// `IdentitiesOnly yes`: offer only the configured identity files, not
    /// every key the agent holds.
    pub identities_only: bool,
    /// `IdentityAgent`.
    pub identity_agent: Option<IdentityAgent>,
}

/// How to reach a host other than by a direct TCP connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proxy {
    /// `ProxyJump none` / `ProxyCommand none`: connect directly.
    None,
    /// `ProxyJump`: through these hosts, the first one reached first.
    Jump(Vec<SshTarget>),
    /// `ProxyCommand`, tokens not yet expanded (see [`proxy_command_line`]).
    Command(String),
}

/// Which ssh-agent to ask for keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentityAgent {
    /// `IdentityAgent none`: no agent.
    None,
    /// The agent at this socket.
    Socket(PathBuf),
}

/// A config line nixdeck cannot use, or cannot honour for this host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The config file.
    pub file: PathBuf,
    /// Its 1-based line.
    pub line: usize,
    /// What is wrong, in words.
    pub problem: String,
}

/// OpenSSH's own limit on nested `Include`s.
const MAX_INCLUDE_DEPTH: usize = 16;

/// A parsed ssh config file with its `Include`s read in.
#[derive(Debug, Clone, Default)]
pub struct SshConfig {
    file: ConfigFile,
}

#[derive(Debug, Clone, Default)]
struct ConfigFile {
    path: PathBuf,
    items: Vec<Item>,
}

#[derive(Debug, Clone)]
struct Item {
    line: usize,
    kind: ItemKind,
}

#[derive(Debug, Clone)]
enum ItemKind {
    Host(Vec<String>),
    /// The criteria, and whether the block sets anything nixdeck uses (an
    /// unsupported criterion only matters then).
    Match {
        criteria: String,
        relevant: bool,
    },
    Set(String, String),
    Include(Vec<ConfigFile>),
    /// An `Include` that could not be read: an error when reached.
    Broken(String),
}

/// Keywords whose value nixdeck uses (or refuses): a `Match` block with one
/// of them decides where or how nixdeck connects.
const RELEVANT: &[&str] = &[
    "hostname",
    "user",
    "port",
    "identityfile",
    "identitiesonly",
    "identityagent",
    "proxyjump",
    "proxycommand",
    "userknownhostsfile",
    "globalknownhostsfile",
    "hostkeyalias",
    "canonicalizehostname",
    "proxyusefdpass",
    "include",
];

impl SshConfig {
    /// Reads `~/.ssh/config`; a missing or unreadable file is an empty config,
    /// as for OpenSSH.
    pub fn load_default() -> Self {
        match dirs::home_dir() {
            Some(h) => Self::load_in(&h.join(".ssh/config"), &h.join(".ssh")),
            None => Self::default(),
        }
    }

    /// Reads a config file; missing or unreadable means empty. Relative
    /// `Include`s are found in `~/.ssh`, as OpenSSH does even for `ssh -F`.
    pub fn load(path: &Path) -> Self {
        let ssh_dir = dirs::home_dir().unwrap_or_default().join(".ssh");
        Self::load_in(path, &ssh_dir)
    }

    /// Reads a config file whose relative `Include`s are in `ssh_dir`.
    pub fn load_in(path: &Path, ssh_dir: &Path) -> Self {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        Self {
            file: parse_file(&text, path, ssh_dir, 0),
        }
    }

    /// Parses config text (relative `Include`s are found in `~/.ssh`).
    pub fn parse(text: &str) -> Self {
        let ssh_dir = dirs::home_dir().unwrap_or_default().join(".ssh");
        Self {
            file: parse_file(text, Path::new("ssh_config"), &ssh_dir, 0),
        }
    }

    /// The settings that apply to `host`, ignoring what cannot be honoured
    /// (kept for callers that only want a best guess; connections use
    /// [`SshConfig::resolve`]).
    pub fn for_host(&self, host: &str) -> HostConfig {
        self.resolve(host, None).unwrap_or_default()
    }

    /// The settings that apply to `host` (the name the user typed) when
    /// logging in as `user` (the user given with the target, if any).
    pub fn resolve(&self, host: &str, user: Option<&str>) -> Result<HostConfig, ConfigError> {
        self.resolve_with_port(host, user, None)
    }

    /// The settings for a target as typed (`[user@]host[:port]`): its user
    /// and port win over the config's, also in `%r` and `%p`.
    pub fn resolve_target(&self, target: &SshTarget) -> Result<HostConfig, ConfigError> {
        self.resolve_with_port(&target.host, target.user.as_deref(), target.port)
    }

    fn resolve_with_port(
        &self,
        host: &str,
        user: Option<&str>,
        port: Option<u16>,
    ) -> Result<HostConfig, ConfigError> {
        let mut st = State {
            original: host.to_string(),
            target_user: user.map(str::to_string),
            target_port: port,
            out: Raw::default(),
        };
        let mut active = true;
        walk(&self.file, &mut active, false, &mut st)?;
        st.finish()
    }
}

fn parse_file(text: &str, path: &Path, ssh_dir: &Path, depth: usize) -> ConfigFile {
    let mut items: Vec<Item> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = split_keyword(line);
        let key = key.to_ascii_lowercase();
        let kind = match key.as_str() {
            "host" => ItemKind::Host(words(&value)),
            "match" => ItemKind::Match {
                criteria: value,
                relevant: false,
            },
            "include" if depth >= MAX_INCLUDE_DEPTH => ItemKind::Broken(format!(
                "Include is nested more than {MAX_INCLUDE_DEPTH} levels deep (does a file include itself?)"
            )),
            "include" => include(&value, ssh_dir, depth),
            _ => ItemKind::Set(key.clone(), value),
        };
        if RELEVANT.contains(&key.as_str()) {
            // Mark the Match block this line belongs to, if any.
            if let Some(ItemKind::Match { relevant, .. }) = items
                .iter_mut()
                .rev()
                .find(|it| matches!(it.kind, ItemKind::Host(_) | ItemKind::Match { .. }))
                .map(|it| &mut it.kind)
            {
                *relevant = true;
            }
        }
        items.push(Item { line: i + 1, kind });
    }
    ConfigFile {
        path: path.to_path_buf(),
        items,
    }
}

fn include(value: &str, ssh_dir: &Path, depth: usize) -> ItemKind {
    let mut files = Vec::new();
    for word in words(value) {
        let pattern = match word.strip_prefix("~/") {
            Some(rest) => dirs::home_dir().unwrap_or_default().join(rest),
            None if word.starts_with('/') => PathBuf::from(&word),
            None => ssh_dir.join(&word),
        };
        for path in glob_paths(&pattern) {
            match std::fs::read_to_string(&path) {
                Ok(text) => files.push(parse_file(&text, &path, ssh_dir, depth + 1)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                // A directory matched by a glob is skipped by OpenSSH too.
                Err(_) if path.is_dir() => {}
                Err(e) => {
                    return ItemKind::Broken(format!(
                        "cannot read the included file {}: {e}",
                        path.display()
                    ))
                }
            }
        }
    }
    ItemKind::Include(files)
}

/// Values as the config gives them, before token expansion.
#[derive(Default)]
struct Raw {
    host_name: Option<String>,
    user: Option<String>,
    port: Option<u16>,
    identity_files: Vec<String>,
    proxy: Option<Proxy>,
    known_hosts: Option<Vec<String>>,
    global_known_hosts: Option<Vec<String>>,
    host_key_alias: Option<String>,
    identities_only: Option<bool>,
    identity_agent: Option<String>,
}

struct State {
    original: String,
    target_user: Option<String>,
    target_port: Option<u16>,
    out: Raw,
}

fn walk(
    file: &ConfigFile,
    active: &mut bool,
    never: bool,
    st: &mut State,
) -> Result<(), ConfigError> {
    let err = |line: usize, problem: String| ConfigError {
        file: file.path.clone(),
        line,
        problem,
    };
    for item in &file.items {
        match &item.kind {
            ItemKind::Host(patterns) => {
                *active = !never && host_matches(&st.original, patterns);
            }
            ItemKind::Match { criteria, relevant } => {
                *active = match st.match_criteria(criteria) {
                    Ok(m) => !never && m,
                    Err(problem) if *relevant && !never => {
                        return Err(err(item.line, problem));
                    }
                    Err(_) => false,
                };
            }
            ItemKind::Set(key, value) if *active => {
                st.apply(key, value).map_err(|p| err(item.line, p))?;
            }
            ItemKind::Set(..) => {}
            ItemKind::Include(files) => {
                // Included files start with the including block's state and
                // never apply when it does not; the block resumes afterwards.
                let outer = *active;
                for f in files {
                    walk(f, active, never || !outer, st)?;
                    *active = outer;
                }
            }
            ItemKind::Broken(problem) if *active && !never => {
                return Err(err(item.line, problem.clone()));
            }
            ItemKind::Broken(_) => {}
        }
    }
    Ok(())
}

impl State {
    /// The host name `Match host` compares: `HostName` so far, else the
    /// name typed, as OpenSSH does.
    fn current_host(&self) -> String {
        match &self.out.host_name {
            Some(h) => expand_host_name(h, &self.original),
            None => self.original.clone(),
        }
    }

    fn match_criteria(&self, criteria: &str) -> Result<bool, String> {
        let words = words(criteria);
        let mut result = true;
        let mut i = 0;
        if words.is_empty() {
            return Err("Match needs a criterion (e.g. `Match host NAME`)".into());
        }
        while i < words.len() {
            let (negate, attr) = match words[i].strip_prefix('!') {
                Some(a) => (true, a.to_ascii_lowercase()),
                None => (false, words[i].to_ascii_lowercase()),
            };
            i += 1;
            if attr == "all" {
                if words.len() > 1 {
                    return Err("`Match all` cannot be combined with other criteria".into());
                }
                return Ok(!negate);
            }
            let subject = match attr.as_str() {
                "host" => self.current_host(),
                "originalhost" => self.original.clone(),
                "user" => self.remote_user(),
                "localuser" => local_user(),
                _ => {
                    return Err(format!(
                        "`Match {attr}` is not honoured by nixdeck (it understands host, originalhost, user, localuser and all): \
                         move these settings into a `Host` block, or connect with `ssh` directly"
                    ))
                }
            };
            let Some(arg) = words.get(i) else {
                return Err(format!("`Match {attr}` needs a pattern list"));
            };
            i += 1;
            let list: Vec<String> = arg.split(',').map(str::to_string).collect();
            let matched = if attr.ends_with("host") {
                host_matches(&subject, &list)
            } else {
                pattern_list_matches(&subject, &list)
            };
            if matched == negate {
                result = false;
            }
        }
        Ok(result)
    }

    fn remote_user(&self) -> String {
        self.target_user
            .clone()
            .or_else(|| self.out.user.clone())
            .unwrap_or_else(local_user)
    }

    /// Applies one active setting; the first value of each keyword wins.
    fn apply(&mut self, key: &str, value: &str) -> Result<(), String> {
        let o = &mut self.out;
        let first_word = || words(value).into_iter().next().unwrap_or_default();
        if value.is_empty() {
            return Err(format!("{key} has no value"));
        }
        match key {
            "hostname" if o.host_name.is_none() => o.host_name = Some(first_word()),
            "user" if o.user.is_none() => o.user = Some(first_word()),
            "port" if o.port.is_none() => {
                let w = first_word();
                o.port = Some(
                    w.parse::<u16>()
                        .ok()
                        .filter(|p| *p > 0)
                        .ok_or_else(|| format!("Port {w:?} is not a number from 1 to 65535"))?,
                );
            }
            "identityfile" => o.identity_files.push(first_word()),
            "identitiesonly" if o.identities_only.is_none() => {
                o.identities_only = Some(yes_no(key, &first_word())?)
            }
            "identityagent" if o.identity_agent.is_none() => o.identity_agent = Some(first_word()),
            "userknownhostsfile" if o.known_hosts.is_none() => o.known_hosts = Some(words(value)),
            "globalknownhostsfile" if o.global_known_hosts.is_none() => {
                o.global_known_hosts = Some(words(value))
            }
            "hostkeyalias" if o.host_key_alias.is_none() => o.host_key_alias = Some(first_word()),
            "proxyjump" if o.proxy.is_none() => o.proxy = Some(parse_jumps(value)?),
            "proxycommand" if o.proxy.is_none() => {
                o.proxy = Some(if value.eq_ignore_ascii_case("none") {
                    Proxy::None
                } else {
                    Proxy::Command(value.to_string())
                })
            }
            "canonicalizehostname"
                if !matches!(first_word().to_ascii_lowercase().as_str(), "no" | "false") =>
            {
                return Err(
                    "CanonicalizeHostname is not honoured by nixdeck, so it would reach a different host than ssh: \
                     write the full name in HostName instead"
                        .into(),
                );
            }
            "proxyusefdpass" if yes_no(key, &first_word())? => {
                return Err(
                    "ProxyUseFdpass is not honoured by nixdeck: use a ProxyCommand that relays on its stdin and stdout (e.g. `ssh -W %h:%p bastion`) or ProxyJump"
                        .into(),
                );
            }
            _ => {}
        }
        Ok(())
    }

    fn finish(self) -> Result<HostConfig, ConfigError> {
        let o = self.out;
        let host_name = o
            .host_name
            .as_deref()
            .map(|h| expand_host_name(h, &self.original));
        let host = host_name.clone().unwrap_or_else(|| self.original.clone());
        let user = self
            .target_user
            .clone()
            .or_else(|| o.user.clone())
            .unwrap_or_else(local_user);
        let tokens = Tokens {
            host: &host,
            original: &self.original,
            user: &user,
            port: self.target_port.or(o.port).unwrap_or(22),
            alias: o.host_key_alias.as_deref(),
        };
        // A token problem here is the config's: say so without a line (the
        // value may have come from any of several blocks).
        let bad = |problem: String| ConfigError {
            file: PathBuf::new(),
            line: 0,
            problem,
        };
        let identity_files = o
            .identity_files
            .iter()
            .map(|p| tokens.path(p))
            .collect::<Result<Vec<_>, _>>()
            .map_err(bad)?;
        let user_known_hosts_files = match &o.known_hosts {
            Some(list) if list.iter().any(|w| w.eq_ignore_ascii_case("none")) => Vec::new(),
            Some(list) => list
                .iter()
                .map(|p| tokens.path(p))
                .collect::<Result<Vec<_>, _>>()
                .map_err(bad)?,
            None => Vec::new(),
        };
        let global_known_hosts_files = match &o.global_known_hosts {
            Some(list) if list.iter().any(|w| w.eq_ignore_ascii_case("none")) => Vec::new(),
            Some(list) => list
                .iter()
                .map(|p| tokens.path(p))
                .collect::<Result<Vec<_>, _>>()
                .map_err(bad)?,
            None => ["/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"]
                .iter()
                .map(PathBuf::from)
                .collect(),
        };
        let identity_agent = match o.identity_agent.as_deref() {
            None => None,
            Some(a) if a.eq_ignore_ascii_case("none") => Some(IdentityAgent::None),
            Some("SSH_AUTH_SOCK") => {
                std::env::var_os("SSH_AUTH_SOCK").map(|s| IdentityAgent::Socket(PathBuf::from(s)))
            }
            Some(a) => match a.strip_prefix('$') {
                Some(var) => std::env::var_os(var).map(|s| IdentityAgent::Socket(PathBuf::from(s))),
                None => Some(IdentityAgent::Socket(tokens.path(a).map_err(bad)?)),
            },
        };
        Ok(HostConfig {
            host_name,
            user: o.user,
            port: o.port,
            identity_files,
            proxy: o.proxy,
            user_known_hosts_files,
            global_known_hosts_files,
            host_key_alias: o.host_key_alias,
            identities_only: o.identities_only.unwrap_or(false),
            identity_agent,
        })
    }
}

/// `%h` and `%%` are the only tokens in `HostName`.
fn expand_host_name(value: &str, original: &str) -> String {
    value
        .replace("%%", "\u{0}")
        .replace("%h", original)
        .replace('\u{0}', "%")
}

fn yes_no(key: &str, value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "yes" | "true" => Ok(true),
        "no" | "false" => Ok(false),
        _ => Err(format!("{key} must be yes or no, not {value:?}")),
    }
}

/// `ProxyJump none`, or `[user@]host[:port]` and `ssh://[user@]host[:port]`
/// separated by commas.
fn parse_jumps(value: &str) -> Result<Proxy, String> {
    let value = value.trim();
    if value.eq_ignore_ascii_case("none") {
        return Ok(Proxy::None);
    }
    let mut hops = Vec::new();
    for part in value.split(',') {
        let part = part.trim();
        let spec = part.strip_prefix("ssh://").unwrap_or(part);
        let spec = spec.strip_suffix('/').unwrap_or(spec);
        let hop = SshTarget::parse(spec)
            .map_err(|e| format!("ProxyJump entry {part:?} is not [user@]host[:port]: {e}"))?;
        hops.push(hop);
    }
    Ok(Proxy::Jump(hops))
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

/// Whitespace-separated words; double quotes group words with spaces.
fn words(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in value.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

mod patterns;
mod tokens;

pub(crate) use patterns::glob;
use patterns::{glob_paths, host_matches, pattern_list_matches};
pub(crate) use tokens::local_user;
pub use tokens::proxy_command_line;
use tokens::Tokens;

#[cfg(test)]
mod tests;
