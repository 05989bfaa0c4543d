//! What `install`, `deploy`, `validate` and `plan` share: the tool flags, and
//! following a job in the terminal (lines as they come, progress, the
//! watchdog's notices; Ctrl-C, SIGTERM and SIGHUP cancel it).

use nixdeck_api::jobs::{parse_job_id, StartedJob, ToolChoice};
use nixdeck_api::Api;
use nixdeck_core::tools::plan::ToolSource;
use nixdeck_engine::runner::{EventSink, JobEvent, JobResult, Outcome};
use std::io::Write;
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
    pub fn choice(&self) -> ToolChoice {
        ToolChoice {
            tools_from_path: self.tools_from_path,
            flakes: self.flakes.map(|f| matches!(f, YesNo::Yes)),
            source: self.tools,
        }
    }
}

/// nixdeck's state in its one data directory.
pub fn api() -> Api {
    Api::open_default()
}

/// Prints a job's events as they come.
pub fn terminal_sink() -> Arc<dyn EventSink> {
    Arc::new(|event: &JobEvent| {
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
            JobEvent::LinesDropped { count, .. } => {
                writeln!(
                    out,
                    "==> {count} lines not shown (they are in the job's log)"
                )
            }
            JobEvent::Finished { .. } => Ok(()),
        };
        written.is_ok()
    })
}

/// Waits for a started job; Ctrl-C, SIGTERM and SIGHUP cancel it (its process
/// group, TERM then KILL) rather than leaving it running unsupervised. Turns its
/// result into the exit status.
pub async fn follow(api: &Api, started: StartedJob) -> anyhow::Result<ExitCode> {
    use tokio::signal::unix::{signal, SignalKind};
    let id = parse_job_id(&started.job_id)?;
    eprintln!("nixdeck: job {id} started");
    // Which tool runs, as flake.lock pins it: a run a month later can differ.
    if let Ok(record) = api.get_job(id) {
        for tool in &record.tools {
            eprintln!("nixdeck: running {tool}");
        }
    }
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    let outcome = tokio::select! {
        outcome = api.wait_job(id) => outcome?,
        _ = tokio::signal::ctrl_c() => cancel(api, id).await?,
        _ = term.recv() => cancel(api, id).await?,
        _ = hup.recv() => cancel(api, id).await?,
    };
    Ok(report(id, &outcome))
}

async fn cancel(api: &Api, id: i64) -> anyhow::Result<Outcome> {
    eprintln!("nixdeck: cancelling job {id}…");
    api.cancel_job(id)?;
    Ok(api.wait_job(id).await?)
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
