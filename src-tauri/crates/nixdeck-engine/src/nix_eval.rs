//! Evaluating Nix with the local `nix-instantiate`: how nixdeck reads disko files
//! and checks what it writes.
//!
//! Files from a repository are evaluated with [`eval_restricted_json`] only (Nix's
//! restricted mode, a time limit, an output bound: see [`Restricted`]); the
//! unrestricted functions are for nixdeck's own expressions and checks.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use thiserror::Error;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;

/// Why an evaluation failed.
#[derive(Debug, Error)]
pub enum EvalError {
    #[error("`nix-instantiate` was not found: install Nix (Debian: `apt install nix-bin`) and try again")]
    NixMissing,
    #[error("could not run nix-instantiate: {0}")]
    Spawn(#[source] std::io::Error),
    #[error("Nix could not evaluate {what}:\n{stderr}")]
    Failed { what: String, stderr: String },
    #[error("nix-instantiate printed something that is not JSON: {0}")]
    NotJson(#[source] serde_json::Error),
    /// A repository file tried to read outside the allowed folders or to fetch.
    #[error("{what} tried to {access}; nixdeck evaluates repository files without network and without reading outside the repository (see docs/repositories.md), so it was stopped. Check what the file reads or fetches")]
    Forbidden { what: String, access: String },
    #[error("evaluating {what} took longer than {}s and was stopped: check it for an endless recursion or a very large computation", after.as_secs())]
    TimedOut { what: String, after: Duration },
    #[error("evaluating {what} printed more than {limit} bytes and was stopped: nixdeck reads only a host list and settings from it")]
    TooMuchOutput { what: String, limit: usize },
}

/// How a file from a repository is evaluated: Nix's restricted mode with only
/// `readable` folders visible, no network (`allowed-uris` empty), no fetchers that
/// copy arbitrary paths (the `flakes` feature, hence `fetchTree`, is off), no
/// import-from-derivation and no `builtins.exec`; killed after `timeout`; at most
/// `max_output` bytes of output read.
#[derive(Debug, Clone)]
pub struct Restricted {
    /// Folders the evaluation may read (the repository, nixdeck's stand-ins).
    pub readable: Vec<PathBuf>,
    pub timeout: Duration,
    pub max_output: usize,
}

/// The time one evaluation of a repository file may take by default.
pub const DEFAULT_EVAL_TIMEOUT: Duration = Duration::from_secs(20);
/// The output one evaluation of a repository file may print by default.
pub const DEFAULT_MAX_OUTPUT: usize = 4 << 20;
/// How much of Nix's error output is kept (the start says what went wrong).
const MAX_STDERR: usize = 64 << 10;

impl Restricted {
    /// Restricted evaluation reading only `readable`, with the default limits.
    pub fn new(readable: Vec<PathBuf>) -> Self {
        Self {
            readable,
            timeout: DEFAULT_EVAL_TIMEOUT,
            max_output: DEFAULT_MAX_OUTPUT,
        }
    }

    /// The `nix-instantiate` options that make the evaluation restricted.
    fn apply(&self, cmd: &mut Command) {
        for (name, value) in [
            ("restrict-eval", "true"),
            ("allowed-uris", ""),
            // NIX_PATH and nix.conf's search path would make their folders readable.
            ("nix-path", ""),
            // `fetchTree`/`getFlake` copy any local path into the store, even in
            // restricted mode; they exist only with the flakes feature.
            ("experimental-features", ""),
            ("allow-import-from-derivation", "false"),
            ("allow-unsafe-native-code-during-evaluation", "false"),
        ] {
            cmd.args(["--option", name, value]);
        }
        for (i, dir) in self.readable.iter().enumerate() {
            // A prefixed entry: readable, but never what `<nixpkgs>` resolves to.
            cmd.arg("-I")
                .arg(format!("nixdeck-readable-{i}={}", dir.display()));
        }
        cmd.env_remove("NIX_PATH");
    }
}

/// Evaluates `expr` strictly to JSON in restricted mode (see [`Restricted`]). `what`
/// names the repository file in errors; `cwd` is where relative paths resolve and
/// should be one of the readable folders.
pub async fn eval_restricted_json(
    expr: &str,
    args: &[(&str, &str)],
    cwd: &Path,
    limits: &Restricted,
    what: &str,
) -> Result<serde_json::Value, EvalError> {
    let mut cmd = Command::new("nix-instantiate");
    cmd.args([
        "--eval",
        "--strict",
        "--json",
        "--show-trace",
        "--expr",
        expr,
    ]);
    for (name, value) in args {
        cmd.args(["--arg", name, value]);
    }
    limits.apply(&mut cmd);
    cmd.current_dir(cwd);
    let stdout = run_bounded(cmd, what, limits).await?;
    serde_json::from_slice(&stdout).map_err(EvalError::NotJson)
}

/// Evaluates `expr` (a Nix expression) strictly to JSON. `args` are passed as
/// `--arg NAME EXPR` pairs; `cwd` is where relative paths resolve.
pub async fn eval_expr_json(
    expr: &str,
    args: &[(&str, &str)],
    cwd: Option<&Path>,
) -> Result<serde_json::Value, EvalError> {
    let mut cmd = Command::new("nix-instantiate");
    cmd.args(["--eval", "--strict", "--json", "--expr", expr]);
    for (name, value) in args {
        cmd.args(["--arg", name, value]);
    }
    run(cmd, cwd, "the expression").await
}

/// Evaluates the file at `path` strictly to JSON.
pub async fn eval_file_json(path: &Path) -> Result<serde_json::Value, EvalError> {
    let mut cmd = Command::new("nix-instantiate");
    cmd.args(["--eval", "--strict", "--json"]).arg(path);
    run(cmd, None, &path.display().to_string()).await
}

/// Checks that `path` parses as Nix (`nix-instantiate --parse`).
pub async fn parse_file(path: &Path) -> Result<(), EvalError> {
    let mut cmd = Command::new("nix-instantiate");
    cmd.arg("--parse").arg(path);
    run_raw(cmd, None, &path.display().to_string())
        .await
        .map(|_| ())
}

async fn run(cmd: Command, cwd: Option<&Path>, what: &str) -> Result<serde_json::Value, EvalError> {
    let stdout = run_raw(cmd, cwd, what).await?;
    serde_json::from_slice(&stdout).map_err(EvalError::NotJson)
}

/// Kills process group `pgid` (the evaluator's own).
fn kill_group(pgid: Option<i32>) {
    if let Some(pgid) = pgid.filter(|p| *p > 1) {
        // SAFETY: plain syscall on integers.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
    }
}

/// Reads at most `limit` bytes of `pipe`; `Err(())` when there was more, after
/// killing group `pgid` (so its other pipe closes too).
async fn read_capped(
    mut pipe: impl AsyncRead + Unpin,
    limit: usize,
    pgid: Option<i32>,
) -> std::io::Result<Result<Vec<u8>, ()>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = pipe.read(&mut chunk).await?;
        if n == 0 {
            return Ok(Ok(buf));
        }
        if buf.len() + n > limit {
            kill_group(pgid);
            return Ok(Err(()));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Reads `pipe` to its end keeping only the first `keep` bytes (Nix prints the
/// error first, then the trace).
async fn read_head(mut pipe: impl AsyncRead + Unpin, keep: usize) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = pipe.read(&mut chunk).await?;
        if n == 0 {
            return Ok(buf);
        }
        let room = keep.saturating_sub(buf.len()).min(n);
        buf.extend_from_slice(&chunk[..room]);
    }
}

/// The innermost source location of a `--show-trace` error (`at /path:line:col:`),
/// relative to the first readable folder when inside it.
fn innermost_location(stderr: &str, readable: &[PathBuf]) -> Option<String> {
    stderr.lines().find_map(|line| {
        let loc = line.trim().strip_prefix("at ")?.strip_suffix(':')?;
        if !loc.starts_with('/') {
            return None;
        }
        let base = readable.first().map(|d| format!("{}/", d.display()));
        Some(match base.as_deref().and_then(|b| loc.strip_prefix(b)) {
            Some(rel) => rel.to_string(),
            None => loc.to_string(),
        })
    })
}

/// Nix's error without the trace, and where it happened.
fn summarise(stderr: &str, readable: &[PathBuf]) -> String {
    let mut lines = stderr
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("error:"))
        .take_while(|l| !l.trim_start().starts_with('…'))
        .collect::<Vec<_>>();
    while lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
    }
    let mut text = if lines.is_empty() {
        stderr.to_string()
    } else {
        lines.join("\n")
    };
    if let Some(at) = innermost_location(stderr, readable) {
        if !text.contains(&at) {
            text.push_str(&format!("\n(at {at})"));
        }
    }
    text
}

/// What Nix says when restricted mode stopped an access, as the access itself.
fn forbidden_access(stderr: &str) -> Option<String> {
    stderr.lines().find_map(|line| {
        let line = line.trim().trim_start_matches("error:").trim();
        let access = line.strip_suffix(" is forbidden in restricted mode")?;
        let unquote = |s: &str| s.trim_matches('\'').to_string();
        Some(if let Some(uri) = access.strip_prefix("access to URI ") {
            format!("fetch {}", unquote(uri))
        } else if let Some(path) = access.strip_prefix("access to absolute path ") {
            format!("read {}, outside the folders it may read", unquote(path))
        } else {
            access.to_string()
        })
    })
}

fn spawn_error(e: std::io::Error) -> EvalError {
    if e.kind() == std::io::ErrorKind::NotFound {
        EvalError::NixMissing
    } else {
        EvalError::Spawn(e)
    }
}

/// Runs `cmd` in its own process group, killed with the group when it runs past
/// the time limit or prints more than the output limit.
async fn run_bounded(
    mut cmd: Command,
    what: &str,
    limits: &Restricted,
) -> Result<Vec<u8>, EvalError> {
    cmd.env("NIX_REMOTE", "")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = cmd.spawn().map_err(spawn_error)?;
    // Nix ignores SIGTERM in a busy loop: only SIGKILL to the group stops it.
    let pgid = child.id().and_then(|p| i32::try_from(p).ok());
    let stop = || kill_group(pgid);
    let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        stop();
        return Err(EvalError::Spawn(std::io::Error::other(
            "no pipes to nix-instantiate",
        )));
    };
    let work = async {
        let (out, err) = tokio::join!(
            read_capped(stdout, limits.max_output, pgid),
            read_head(stderr, MAX_STDERR)
        );
        (out, err)
    };
    let (out, err) = match tokio::time::timeout(limits.timeout, work).await {
        Ok(result) => result,
        Err(_) => {
            stop();
            let _ = child.wait().await;
            return Err(EvalError::TimedOut {
                what: what.to_string(),
                after: limits.timeout,
            });
        }
    };
    let out = match out.map_err(EvalError::Spawn)? {
        Ok(out) => out,
        Err(()) => {
            stop();
            let _ = child.wait().await;
            return Err(EvalError::TooMuchOutput {
                what: what.to_string(),
                limit: limits.max_output,
            });
        }
    };
    let stderr = String::from_utf8_lossy(&err.map_err(EvalError::Spawn)?)
        .trim()
        .to_string();
    let status = match tokio::time::timeout(limits.timeout, child.wait()).await {
        Ok(status) => status.map_err(EvalError::Spawn)?,
        Err(_) => {
            stop();
            return Err(EvalError::TimedOut {
                what: what.to_string(),
                after: limits.timeout,
            });
        }
    };
    if status.success() {
        return Ok(out);
    }
    if let Some(access) = forbidden_access(&stderr) {
        // Name the file that tried, when the trace says which one.
        let what = innermost_location(&stderr, &limits.readable).map_or_else(
            || what.to_string(),
            |at| format!("{at} (evaluated from {what})"),
        );
        return Err(EvalError::Forbidden { what, access });
    }
    Err(EvalError::Failed {
        what: what.to_string(),
        stderr: summarise(&stderr, &limits.readable),
    })
}

async fn run_raw(mut cmd: Command, cwd: Option<&Path>, what: &str) -> Result<Vec<u8>, EvalError> {
    if let Some(dir) = cwd {
        cmd.current_dir(dir);
    }
    // Offline and without a store daemon: evaluation only needs the parser and
    // builtins, and a missing daemon must not turn a syntax check into a hang.
    cmd.env("NIX_REMOTE", "")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let output = cmd.output().await.map_err(spawn_error)?;
    if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(EvalError::Failed {
            what: what.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(timeout: Duration, max_output: usize) -> (tempfile::TempDir, Restricted) {
        let dir = tempfile::tempdir().unwrap();
        let readable = vec![std::fs::canonicalize(dir.path()).unwrap()];
        (
            dir,
            Restricted {
                readable,
                timeout,
                max_output,
            },
        )
    }

    #[tokio::test]
    async fn a_busy_evaluation_is_killed_after_its_time() {
        let (dir, limits) = limits(Duration::from_secs(1), DEFAULT_MAX_OUTPUT);
        // Minutes of work in little memory; Nix ignores SIGTERM meanwhile.
        let spin = "builtins.foldl' (a: _: builtins.foldl' (b: _: b + 1) a (builtins.genList (x: x) 100000)) 0 (builtins.genList (x: x) 100000)";
        let started = std::time::Instant::now();
        let err = eval_restricted_json(spin, &[], dir.path(), &limits, "spin.nix")
            .await
            .unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert!(matches!(err, EvalError::TimedOut { .. }), "{err}");
        assert!(err.to_string().contains("spin.nix"), "{err}");
    }

    #[tokio::test]
    async fn output_beyond_the_bound_is_not_read() {
        let (dir, limits) = limits(Duration::from_secs(20), 1000);
        let big = "builtins.concatStringsSep \"\" (builtins.genList (_: \"x\") 5000)";
        let err = eval_restricted_json(big, &[], dir.path(), &limits, "big.nix")
            .await
            .unwrap_err();
        assert!(
            matches!(err, EvalError::TooMuchOutput { limit: 1000, .. }),
            "{err}"
        );
        let small = eval_restricted_json("[ 1 2 ]", &[], dir.path(), &limits, "small.nix")
            .await
            .unwrap();
        assert_eq!(small, serde_json::json!([1, 2]));
    }

    #[test]
    fn restricted_mode_refusals_are_read_as_accesses() {
        assert_eq!(
            forbidden_access("error: access to URI 'http://x/' is forbidden in restricted mode"),
            Some("fetch http://x/".into())
        );
        let read = forbidden_access(
            "warning: x\nerror: access to absolute path '/etc/passwd' is forbidden in restricted mode",
        );
        assert_eq!(
            read.as_deref(),
            Some("read /etc/passwd, outside the folders it may read")
        );
        assert_eq!(forbidden_access("error: syntax error"), None);
        let trace = "error: access to absolute path '/x' is forbidden in restricted mode\n\n       … while x\n\n       at /repo/hosts/a/host.nix:1:7:\n";
        assert_eq!(
            innermost_location(trace, &[PathBuf::from("/repo")]).as_deref(),
            Some("hosts/a/host.nix:1:7")
        );
    }
}
