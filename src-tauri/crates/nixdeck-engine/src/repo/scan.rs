//! Opening a repository: what is under `hosts/`, and what its flake declares, read
//! with `nix-instantiate` and stand-in inputs (see `nixdeck_core::repo::outline`).

use crate::nix_eval;
use nixdeck_core::nix::quote_string;
use nixdeck_core::repo::outline::{
    FlakeDetails, FlakeOutline, OUTLINE_EXPR, STAND_IN_LIB, STAND_IN_NIXPKGS,
};
use nixdeck_core::repo::view::{self, FlakeReading, HostDir};
use nixdeck_core::repo::RepoView;
use std::path::{Path, PathBuf};

use super::RepoError;

/// Scans `root` and reads its flake. Unreadable parts become problems in the view.
pub async fn open_repo(root: &Path) -> Result<RepoView, RepoError> {
    if !root.is_dir() {
        return Err(RepoError::NotADirectory(root.to_path_buf()));
    }
    let has_flake = root.join("flake.nix").is_file();
    let dirs = host_dirs(root)?;
    let reading = if has_flake {
        read_flake(root).await
    } else {
        FlakeReading::default()
    };
    Ok(view::assemble(root.to_path_buf(), has_flake, dirs, reading))
}

/// Every directory under `hosts/`, with which of the layout's files it has.
pub fn host_dirs(root: &Path) -> Result<Vec<HostDir>, RepoError> {
    let hosts = root.join("hosts");
    let entries = match std::fs::read_dir(&hosts) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(RepoError::Io {
                path: hosts,
                source: e,
            })
        }
    };
    let mut dirs = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| RepoError::Io {
            path: hosts.clone(),
            source: e,
        })?;
        let Ok(name) = entry.file_name().into_string() else {
            continue; // not UTF-8: cannot be a host name nixdeck could show
        };
        if name.starts_with('.') || !entry.path().is_dir() {
            continue;
        }
        let dir = entry.path();
        dirs.push(HostDir {
            has_configuration: dir.join("configuration.nix").is_file()
                || dir.join("default.nix").is_file(),
            has_disko: dir.join("disko.nix").is_file(),
            has_hardware_configuration: dir.join("hardware-configuration.nix").is_file(),
            has_host_data: dir.join("host.nix").is_file(),
            name,
        });
    }
    dirs.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(dirs)
}

/// The last line of an evaluation error that says what went wrong, shortened.
fn short_error(err: &nix_eval::EvalError) -> String {
    let text = err.to_string();
    let line = text
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with("error:"))
        .or_else(|| text.lines().rev().find(|l| !l.trim().is_empty()))
        .unwrap_or("")
        .trim()
        .to_string();
    let mut line = line;
    if line.chars().count() > 300 {
        line = line.chars().take(300).collect::<String>() + "…";
    }
    line
}

/// Where a repository is evaluated: the folders it may read, with the limits.
struct Sandbox {
    root: PathBuf,
    limits: nix_eval::Restricted,
    what: String,
}

async fn eval(
    sandbox: &Sandbox,
    nixpkgs_dir: &str,
    part: &str,
    only: &[String],
) -> Result<serde_json::Value, String> {
    let only = format!(
        "[ {} ]",
        only.iter()
            .map(|n| quote_string(n))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let part = quote_string(part);
    let args = [
        ("nixpkgsDir", nixpkgs_dir),
        ("part", part.as_str()),
        ("only", only.as_str()),
    ];
    nix_eval::eval_restricted_json(
        OUTLINE_EXPR,
        &args,
        &sandbox.root,
        &sandbox.limits,
        &sandbox.what,
    )
    .await
    .map_err(|err| match err {
        // These name the file and say what to do in one sentence already.
        nix_eval::EvalError::Forbidden { .. }
        | nix_eval::EvalError::TimedOut { .. }
        | nix_eval::EvalError::TooMuchOutput { .. } => err.to_string(),
        other => short_error(&other),
    })
}

async fn read_flake(root: &Path) -> FlakeReading {
    let mut reading = FlakeReading::default();
    let stand_in = match write_stand_in() {
        Ok(dir) => dir,
        Err(e) => {
            reading.outline_error = Some(format!("could not prepare the stand-in nixpkgs: {e}"));
            return reading;
        }
    };
    // Symlinks resolved: restricted mode compares real paths.
    let real = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let sandbox = Sandbox {
        root: real(root),
        limits: nix_eval::Restricted::new(vec![real(root), real(stand_in.path())]),
        what: root.join("flake.nix").display().to_string(),
    };
    let nixpkgs_dir = quote_string(&real(stand_in.path()).to_string_lossy());
    let outline: FlakeOutline = match eval(&sandbox, &nixpkgs_dir, "outline", &[]).await {
        Ok(value) => match serde_json::from_value(value) {
            Ok(outline) => outline,
            Err(e) => {
                reading.outline_error = Some(format!("unexpected outline: {e}"));
                return reading;
            }
        },
        Err(err) => {
            reading.outline_error = Some(err);
            return reading;
        }
    };
    match eval(&sandbox, &nixpkgs_dir, "details", &[])
        .await
        .map(serde_json::from_value::<FlakeDetails>)
    {
        Ok(Ok(details)) => reading.details = details,
        // One host the stand-ins cannot read must not hide the others: ask host by host.
        _ => {
            let mut names: Vec<String> = outline.colmena_nodes.clone();
            names.extend(outline.nixos_configurations.iter().cloned());
            names.sort();
            names.dedup();
            for name in names {
                match eval(
                    &sandbox,
                    &nixpkgs_dir,
                    "details",
                    std::slice::from_ref(&name),
                )
                .await
                {
                    Ok(value) => match serde_json::from_value::<FlakeDetails>(value) {
                        Ok(details) => {
                            reading.details.deployments.extend(details.deployments);
                            reading.details.systems.extend(details.systems);
                        }
                        Err(e) => reading.detail_errors.push((name, e.to_string())),
                    },
                    Err(err) => reading.detail_errors.push((name, err)),
                }
            }
        }
    }
    reading.outline = Some(outline);
    reading
}

fn write_stand_in() -> std::io::Result<tempfile::TempDir> {
    let dir = tempfile::Builder::new()
        .prefix("nixdeck-standin-")
        .tempdir()?;
    std::fs::write(dir.path().join("lib.nix"), STAND_IN_LIB)?;
    std::fs::write(dir.path().join("default.nix"), STAND_IN_NIXPKGS)?;
    Ok(dir)
}
