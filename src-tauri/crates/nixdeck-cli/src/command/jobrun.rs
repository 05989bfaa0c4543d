//! What `install`, `deploy`, `validate` and `plan` share: the tool settings
//! flags, the repository's hosts, the job history's location, and running a job
//! in the terminal (lines as they come, progress, Ctrl-C cancels).

use anyhow::Context;
use nixdeck_core::tools::plan::{HostTarget, ToolSettings, ToolSource};
use nixdeck_engine::jobs::{self, JobManager, JobRequest};
use nixdeck_engine::runner::{JobEvent, JobResult, Outcome};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// How to run the tools.
#[derive(Debug, Clone, clap::Args)]
pub struct ToolArgs {
    /// Run `nixos-anywhere`/`colmena` from PATH instead of `nix run` (= `--tools path`).
    #[arg(long)]
    pub tools_from_path: bool,
    /// Which nixos-anywhere and colmena: `pinned` (flake.lock's nixpkgs and colmena
    /// inputs), `article` (the article's `nix run` commands, unpinned) or `path`.
    #[arg(long, value_name = "pinned|article|path", default_value = "pinned")]
    pub tools: ToolSource,
    /// Whether the local nix has flakes enabled (default: ask nix).
    #[arg(long, value_name = "yes|no")]
    pub flakes: Option<YesNo>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum YesNo {
    Yes,
    No,
}

impl ToolArgs {
    pub async fn settings(&self) -> ToolSettings {
        let flakes_enabled = match self.flakes {
            Some(YesNo::Yes) => true,
            Some(YesNo::No) => false,
            None => jobs::flakes_enabled().await,
        };
        ToolSettings {
            flakes_enabled,
            tools_from_path: self.tools_from_path,
            source: self.tools,
        }
    }
}

/// The repository directory, made absolute and checked.
pub fn repo_dir(dir: &Path) -> anyhow::Result<PathBuf> {
    let dir = std::fs::canonicalize(dir)
        .with_context(|| format!("the repository {} does not exist", dir.display()))?;
    if !dir.join("flake.nix").is_file() {
        anyhow::bail!(
            "{} has no flake.nix: open a nixdeck repository (or create one)",
            dir.display()
        );
    }
    Ok(dir)
}

/// The repository's colmena nodes with their deployment settings, as the
/// repository reader found them (flake read with stand-in inputs: no build,
/// no network). Hosts whose deployment could not be read are left out.
pub async fn read_hosts(repo: &Path) -> anyhow::Result<Vec<HostTarget>> {
    let view = nixdeck_engine::repo::open_repo(repo)
        .await
        .with_context(|| format!("could not read the repository {}", repo.display()))?;
    for problem in &view.problems {
        eprintln!("nixdeck: note: {}", problem.message);
    }
    Ok(view
        .hosts
        .into_iter()
        .filter(|h| h.deployment_read)
        .map(|h| HostTarget {
            address: h.address.unwrap_or_else(|| h.name.clone()),
            name: h.name,
            user: h.user.unwrap_or_else(|| "root".to_string()),
            port: h.port,
            tags: h.tags,
            build_on_target: h.build_on_target.unwrap_or(false),
        })
        .collect())
}

/// The job history of this user.
pub fn manager() -> anyhow::Result<JobManager> {
    let dir = jobs::default_data_dir().context(
        "no data directory: set NIXDECK_DATA_DIR to where nixdeck may keep its job history",
    )?;
    Ok(JobManager::open(&dir)?)
}

/// Starts `request`, prints its output as it comes, cancels on Ctrl-C, and
/// turns its result into the exit status.
pub async fn run_in_terminal(
    manager: &JobManager,
    request: JobRequest,
) -> anyhow::Result<ExitCode> {
    let sink: Arc<dyn nixdeck_engine::runner::EventSink> = Arc::new(|event: &JobEvent| {
        let mut out = std::io::stdout().lock();
        let written = match event {
            JobEvent::Started { argv } => writeln!(out, "$ {}", shell_words(argv)),
            JobEvent::Lines { lines, .. } => lines.iter().try_for_each(|l| writeln!(out, "{l}")),
            JobEvent::Phase(p) => match (&p.node, &p.detail) {
                (Some(node), Some(d)) => writeln!(out, "==> {node}: {} ({d})", p.label),
                (Some(node), None) => writeln!(out, "==> {node}: {}", p.label),
                (None, Some(d)) => writeln!(out, "==> {}: {d}", p.label),
                (None, None) => writeln!(out, "==> {}", p.label),
            },
            JobEvent::Stalled {
                alert: Some(alert), ..
            } => {
                writeln!(out, "==> {} ({})", alert.message, alert.usual_causes)
            }
            JobEvent::Stalled { secs, alert: None } => writeln!(out, "==> no output for {secs} s"),
            JobEvent::Finished { .. } => Ok(()),
        };
        written.is_ok()
    });
    let id = manager.start(request, Some(sink))?;
    eprintln!("nixdeck: job {id} started");
    let outcome = tokio::select! {
        outcome = manager.wait(id) => outcome?,
        _ = tokio::signal::ctrl_c() => {
            eprintln!("nixdeck: cancelling job {id}…");
            manager.cancel(id)?;
            manager.wait(id).await?
        }
    };
    Ok(report(id, &outcome))
}

fn report(id: i64, outcome: &Outcome) -> ExitCode {
    let reason = outcome
        .reason
        .as_deref()
        .map(|r| format!(": {r}"))
        .unwrap_or_default();
    eprintln!("nixdeck: job {id} {}{reason}", outcome.result.as_str());
    match outcome.result {
        JobResult::Succeeded => ExitCode::SUCCESS,
        JobResult::Cancelled => ExitCode::from(130),
        _ => ExitCode::FAILURE,
    }
}

/// Words joined for display, quoted where a shell would need it.
pub fn shell_words(argv: &[String]) -> String {
    argv.iter()
        .map(|w| nixdeck_core::tools::plan::shell_quote(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs `nix flake lock` first when the repository has no `flake.lock`;
/// `Some(exit status)` when that failed.
pub async fn lock_if_needed(
    manager: &JobManager,
    settings: &ToolSettings,
    repo: &Path,
) -> anyhow::Result<Option<ExitCode>> {
    if repo.join("flake.lock").exists() {
        return Ok(None);
    }
    eprintln!("nixdeck: flake.lock is missing; locking the flake first");
    let code = run_in_terminal(manager, jobs::requests::lock_request(settings, repo)).await?;
    Ok((code != ExitCode::SUCCESS).then_some(code))
}
