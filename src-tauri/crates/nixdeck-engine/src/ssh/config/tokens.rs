//! `%` tokens, `${VAR}` and `~` in config values, and the shell-safe
//! `ProxyCommand` line.

use std::path::PathBuf;

/// What `%` tokens stand for.
pub(super) struct Tokens<'a> {
    pub host: &'a str,
    pub original: &'a str,
    pub user: &'a str,
    pub port: u16,
    pub alias: Option<&'a str>,
}

impl Tokens<'_> {
    /// Expands the tokens OpenSSH allows in file names (`%d %h %i %k %L %l
    /// %n %p %r %u %%`), `${VAR}` and a leading `~`.
    pub fn path(&self, value: &str) -> Result<PathBuf, String> {
        let home = dirs::home_dir().unwrap_or_default();
        let local_host = local_host_name();
        let short = local_host.split('.').next().unwrap_or_default().to_string();
        let uid = real_uid();
        let s = expand_env(value)?;
        let s = expand(&s, |t| {
            Some(match t {
                'd' => home.to_string_lossy().into_owned(),
                'h' => self.host.to_string(),
                'i' => uid.clone(),
                'k' => self.alias.unwrap_or(self.host).to_string(),
                'L' => short.clone(),
                'l' => local_host.clone(),
                'n' => self.original.to_string(),
                'p' => self.port.to_string(),
                'r' => self.user.to_string(),
                'u' => local_user(),
                _ => return None,
            })
        })?;
        Ok(match s.strip_prefix("~/") {
            Some(rest) => home.join(rest),
            None if s == "~" => home,
            None => PathBuf::from(s),
        })
    }
}

/// Replaces `%x` tokens by `lookup(x)` and `%%` by `%`; an unknown token is
/// an error (OpenSSH refuses those too).
pub(super) fn expand(
    value: &str,
    lookup: impl Fn(char) -> Option<String>,
) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some(t) => match lookup(t) {
                Some(v) => out.push_str(&v),
                None => return Err(format!("the token %{t} in {value:?} is not supported")),
            },
            None => return Err(format!("{value:?} ends with a lone %")),
        }
    }
    Ok(out)
}

/// `${VAR}` from the environment; an unset variable is an error, as in OpenSSH.
pub(super) fn expand_env(value: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| format!("{value:?} has a ${{ without its }}"))?;
        let name = &after[..end];
        let v = std::env::var(name)
            .map_err(|_| format!("{value:?} uses ${{{name}}}, which is not set"))?;
        out.push_str(&v);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The `ProxyCommand` line to run for a connection to `host`:`port` as
/// `user` (`original`: the name typed), with `%h %n %p %r %%` expanded.
/// The substituted values go to a shell, so each must be a plain host, user
/// or number: anything with shell metacharacters is refused.
pub fn proxy_command_line(
    command: &str,
    host: &str,
    original: &str,
    port: u16,
    user: &str,
) -> Result<String, String> {
    let plain_host = |v: &str| {
        !v.is_empty()
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-:%".contains(c))
    };
    let plain_user = |v: &str| {
        !v.is_empty()
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c))
    };
    for (token, what, v, ok) in [
        ("%h", "host name", host, plain_host(host)),
        ("%n", "host alias", original, plain_host(original)),
        ("%r", "user name", user, plain_user(user)),
    ] {
        if !ok && command.contains(token) {
            return Err(format!(
                "the {what} {v:?} would be passed to the ProxyCommand's shell, and it contains characters a {what} does not have"
            ));
        }
    }
    expand(command, |t| {
        Some(match t {
            'h' => host.to_string(),
            'n' => original.to_string(),
            'p' => port.to_string(),
            'r' => user.to_string(),
            _ => return None,
        })
    })
}

pub(crate) fn local_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "root".into())
}

fn local_host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// The real user id, read from /proc so no `unsafe` call is needed.
fn real_uid() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|v| v.split_whitespace().next().map(str::to_string))
        })
        .unwrap_or_default()
}
