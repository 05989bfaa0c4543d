//! `nixdeck log explain FILE`: the failure analysis of the job view, for any saved
//! output of nixos-anywhere or colmena (a nixdeck job log or a terminal capture).

use anyhow::Context;
use nixdeck_core::tools::explain::{explain_text, Explanation, Severity, Tool};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum LogCommand {
    /// Read a saved run's output and say how it ended, where, and what to do.
    Explain(ExplainArgs),
}

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The saved output (a nixdeck job log or a terminal capture).
    pub file: PathBuf,
    /// Which tool wrote it; detected from the output when not given.
    #[arg(long, value_enum)]
    pub tool: Option<ToolArg>,
    /// The run's exit status, when known (a captured log has none).
    #[arg(long, value_name = "CODE")]
    pub exit_status: Option<i32>,
    /// Print the analysis as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ToolArg {
    #[value(name = "nixos-anywhere")]
    NixosAnywhere,
    Colmena,
}

impl From<ToolArg> for Tool {
    fn from(t: ToolArg) -> Tool {
        match t {
            ToolArg::NixosAnywhere => Tool::NixosAnywhere,
            ToolArg::Colmena => Tool::Colmena,
        }
    }
}

pub async fn run(command: LogCommand) -> anyhow::Result<ExitCode> {
    match command {
        LogCommand::Explain(args) => explain(args),
    }
}

fn explain(args: ExplainArgs) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("could not read the log file {}", args.file.display()))?;
    // Captures may hold bytes that are not UTF-8 (binary noise, other encodings):
    // analyse what can be read rather than refuse the whole file.
    let text = String::from_utf8_lossy(&bytes);
    let explanation = explain_text(&text, args.tool.map(Tool::from), args.exit_status);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&explanation)?);
    } else {
        print!("{}", render(&explanation));
    }
    Ok(ExitCode::SUCCESS)
}

/// The readable summary.
fn render(e: &Explanation) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", e.summary);
    let _ = writeln!(out);
    let _ = writeln!(out, "tool:    {}", e.tool.name());
    let _ = writeln!(out, "outcome: {}", e.outcome.id());
    if let Some(code) = e.exit_status {
        let _ = writeln!(out, "exit:    {code}");
    }
    if !e.steps.is_empty() {
        let _ = writeln!(out, "\nsteps:");
        let width = e.steps.iter().map(|s| s.name.len()).max().unwrap_or(0);
        for (i, s) in e.steps.iter().enumerate() {
            let _ = writeln!(
                out,
                "  {:>2}. {:<width$}  lines {}-{}",
                i + 1,
                s.name,
                s.first_line,
                s.last_line
            );
        }
    }
    if !e.nodes.is_empty() {
        let _ = writeln!(out, "\nnodes:");
        let width = e.nodes.keys().map(String::len).max().unwrap_or(0);
        for (node, state) in &e.nodes {
            let _ = writeln!(out, "  {node:<width$}  {}", state.id());
        }
    }
    if !e.findings.is_empty() {
        let _ = writeln!(out, "\nfindings:");
        for f in &e.findings {
            let severity = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            let place = match (&f.node, &f.step) {
                (Some(node), _) => format!(", {node}"),
                (None, Some(step)) => format!(", {step}"),
                _ => String::new(),
            };
            let _ = writeln!(out, "  {severity} {} (line {}{place})", f.kind.id(), f.line);
            let _ = writeln!(out, "    {}", f.message);
            for q in &f.quote {
                let _ = writeln!(out, "    {:>6} | {}", q.line, q.text);
            }
        }
    }
    out
}
