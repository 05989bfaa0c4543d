//! Evaluating Nix with the local `nix-instantiate`: how nixdeck reads disko files
//! and checks what it writes.

use std::path::Path;
use std::process::Stdio;
use thiserror::Error;
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
    let output = cmd.output().await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            EvalError::NixMissing
        } else {
            EvalError::Spawn(e)
        }
    })?;
    if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(EvalError::Failed {
            what: what.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        })
    }
}
