//! `nixdeck jobs list|show ID`: the job history and each job's log.

use super::jobrun;
use nixdeck_engine::jobs::JobRecord;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum JobsCommand {
    /// Every job, newest first.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// One job and its full log.
    Show {
        id: i64,
        /// Print JSON (the record, without the log).
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(command: JobsCommand) -> anyhow::Result<ExitCode> {
    let api = jobrun::api();
    match command {
        JobsCommand::List { json } => {
            let jobs = api.list_jobs(None)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&jobs)?);
            } else {
                println!(
                    "{:>5}  {:<9} {:<12} {:<20} {:<20} COMMAND",
                    "ID", "KIND", "RESULT", "STARTED", "HOSTS"
                );
                for job in &jobs {
                    println!(
                        "{:>5}  {:<9} {:<12} {:<20} {:<20} {}",
                        job.id,
                        job.kind.as_str(),
                        job.result.as_str(),
                        time(job.started_at),
                        job.hosts.join(","),
                        jobrun::shell_words(&job.argv)
                    );
                }
            }
        }
        JobsCommand::Show { id, json } => {
            let job = api.get_job(id)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&job)?);
            } else {
                print_job(&job);
                match std::fs::read(&job.log_path) {
                    Ok(log) => {
                        use std::io::Write;
                        println!("--- log ({}) ---", job.log_path);
                        std::io::stdout().write_all(&log)?;
                    }
                    Err(err) => println!("--- log {} cannot be read: {err}", job.log_path),
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_job(job: &JobRecord) {
    println!("job:      {}", job.id);
    println!("kind:     {}", job.kind.as_str());
    println!("hosts:    {}", job.hosts.join(", "));
    println!("command:  {}", jobrun::shell_words(&job.argv));
    println!("in:       {}", job.cwd);
    for tool in &job.tools {
        println!("tool:     {tool}");
    }
    println!("started:  {}", time(job.started_at));
    if let Some(end) = job.ended_at {
        println!(
            "ended:    {} ({:.1} s)",
            time(end),
            end.saturating_sub(job.started_at) as f64 / 1000.0
        );
    }
    println!("result:   {}", job.result.as_str());
    if let Some(code) = job.exit_code {
        println!("exit:     {code}");
    }
    if let Some(signal) = job.signal {
        println!("signal:   {signal}");
    }
    if let Some(reason) = &job.reason {
        println!("reason:   {reason}");
    }
    println!("lines:    {}", job.lines);
}

/// UTC `YYYY-MM-DD HH:MM:SS` from milliseconds since the epoch.
fn time(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}
