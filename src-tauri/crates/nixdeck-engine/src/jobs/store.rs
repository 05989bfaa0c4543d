//! The job history: one SQLite database (`jobs.sqlite3`) and one log file per
//! job (`logs/<id>.log`) in the data directory the caller gives.
//!
//! Each running job records the process that runs it (pid and start time), so
//! a job whose process is gone (nixdeck crashed or was killed) is shown as
//! interrupted, while a job another nixdeck (the app, a CLI) is running stays
//! running. It also records its tool's process (pid and start time, the tool
//! leads its own process group): when nixdeck was closed and the person chose
//! to leave the job running, the job stays `running` (and its hosts locked)
//! while that very process lives, is shown with its pid, and can be cancelled
//! by a later nixdeck; pid and start time together are checked before any
//! signal, because pids are reused. Starting an install or deploy checks, in
//! the same write transaction, that no running install or deploy holds one of
//! its hosts.

use super::{JobError, JobKind, JobRecord};
use crate::runner::{JobResult, Outcome};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS jobs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL,
    hosts       TEXT NOT NULL,      -- JSON array of host names
    argv        TEXT NOT NULL,      -- JSON array, secrets redacted
    cwd         TEXT NOT NULL,
    started_at  INTEGER NOT NULL,   -- ms since the Unix epoch
    ended_at    INTEGER,
    exit_code   INTEGER,
    signal      INTEGER,
    result      TEXT NOT NULL,
    reason      TEXT,
    log_path    TEXT NOT NULL,
    lines       INTEGER NOT NULL DEFAULT 0,
    owner_pid   INTEGER NOT NULL,
    owner_start INTEGER NOT NULL,
    child_pid   INTEGER,            -- the tool's pid (its process group), once started
    child_start INTEGER             -- its start time, field 22 of /proc/<pid>/stat
);
CREATE INDEX IF NOT EXISTS jobs_result ON jobs(result);
-- Added after the first release: `IF NOT EXISTS` is the migration, so a
-- store made before it gains the table the first time it is opened.
CREATE TABLE IF NOT EXISTS host_systems (
    host        TEXT PRIMARY KEY,
    system_path TEXT NOT NULL,      -- /nix/store/…-nixos-system-…
    job_id      INTEGER,            -- the deploy or install that put it there
    recorded_at INTEGER NOT NULL    -- ms since the Unix epoch
);
-- Added later, the same way: which nixos-anywhere or colmena a job ran, as
-- flake.lock pinned it when the job started (the lock can move afterwards).
CREATE TABLE IF NOT EXISTS job_tools (
    job_id      INTEGER PRIMARY KEY,
    tools       TEXT NOT NULL       -- JSON array of one-line descriptions
);
";

/// The system a host ran after nixdeck's last successful deploy or install to
/// it: what the drift check compares with when the flake cannot be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HostSystem {
    pub host: String,
    pub system_path: String,
    pub job_id: Option<i64>,
    /// Milliseconds since the Unix epoch.
    pub recorded_at: u64,
}

/// What a job is about to run (before it has an id).
#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: JobKind,
    pub hosts: Vec<String>,
    pub argv: Vec<String>,
    pub cwd: PathBuf,
    /// The tools it runs, described as flake.lock pins them now.
    pub tools: Vec<String>,
}

/// The job database of one data directory.
pub struct JobStore {
    conn: Connection,
    logs: PathBuf,
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

impl JobStore {
    /// Opens (creating if needed) the store in `data_dir`, and marks jobs whose
    /// process is gone as interrupted.
    pub fn open(data_dir: &Path) -> Result<Self, JobError> {
        let logs = data_dir.join("logs");
        std::fs::create_dir_all(&logs).map_err(|source| JobError::DataDir {
            path: data_dir.to_path_buf(),
            source,
        })?;
        let conn = Connection::open(data_dir.join("jobs.sqlite3"))?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.execute_batch("PRAGMA journal_mode=WAL;")?;
        conn.execute_batch(SCHEMA)?;
        // A store made before the tool's process was recorded gains the columns.
        for column in ["child_pid", "child_start"] {
            let has: bool = conn
                .prepare("SELECT 1 FROM pragma_table_info('jobs') WHERE name = ?1")?
                .exists([column])?;
            if !has {
                conn.execute_batch(&format!("ALTER TABLE jobs ADD COLUMN {column} INTEGER;"))?;
            }
        }
        let mut store = Self { conn, logs };
        store.mark_interrupted()?;
        Ok(store)
    }

    /// The log file of job `id`.
    pub fn log_path(&self, id: i64) -> PathBuf {
        self.logs.join(format!("{id}.log"))
    }

    /// Jobs left `running` by a process that no longer exists become `interrupted`.
    fn mark_interrupted(&mut self) -> Result<usize, JobError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let dead = dead_running_jobs(&tx)?;
        for id in &dead {
            tx.execute(
                "UPDATE jobs SET result = 'interrupted', ended_at = ?2,
                 reason = 'nixdeck stopped while this job was running; how it ended is unknown' WHERE id = ?1",
                params![id, now_ms() as i64],
            )?;
        }
        tx.commit()?;
        Ok(dead.len())
    }

    /// Job `id` when it is `running` with neither its nixdeck nor its tool
    /// alive (left running, and the tool has ended since): recorded as
    /// interrupted with `lines` lines, since nobody saw how it ended. Whether
    /// it was.
    pub fn end_unwatched(&mut self, id: i64, lines: u64) -> Result<bool, JobError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        if !dead_running_jobs(&tx)?.contains(&id) {
            return Ok(false);
        }
        tx.execute(
            "UPDATE jobs SET result = 'interrupted', ended_at = ?2, lines = MAX(lines, ?3),
             reason = 'its tool ended while no nixdeck was watching it: how it ended is unknown; its last lines are in the log' WHERE id = ?1",
            params![id, now_ms() as i64, lines as i64],
        )?;
        tx.commit()?;
        Ok(true)
    }

    /// Test only: job `id`'s nixdeck "has gone" (its recorded start time no
    /// longer matches this process), as after the window was closed.
    #[cfg(test)]
    pub(crate) fn forget_owner(&self, id: i64) {
        self.conn
            .execute(
                "UPDATE jobs SET owner_start = owner_start + 1 WHERE id = ?1",
                [id],
            )
            .expect("forget the owner");
    }

    /// Records the process group leader that runs job `id`'s tool (its pid and
    /// start time), so the job outlives this nixdeck if the person leaves it running.
    pub fn set_child(&mut self, id: i64, pid: i32) -> Result<(), JobError> {
        let start = start_time(i64::from(pid));
        self.conn.execute(
            "UPDATE jobs SET child_pid = ?2, child_start = ?3 WHERE id = ?1",
            params![id, pid, start.map(|s| s as i64)],
        )?;
        Ok(())
    }

    /// Job `id`'s tool, when it runs on after the nixdeck that started it ended
    /// (the same pid with the same start time): its pid, the process group to signal.
    pub fn detached_child(&self, id: i64) -> Result<Option<i32>, JobError> {
        Ok(self.get(id)?.detached_pid)
    }

    /// Cancels job `id` whose tool runs on without its nixdeck: SIGTERM to its
    /// process group, SIGKILL after `grace` if that same process still lives,
    /// then the job is recorded as cancelled. `false` when there is no such process.
    pub fn cancel_detached(&mut self, id: i64, grace: Duration) -> Result<bool, JobError> {
        let Some(pid) = self.detached_child(id)? else {
            return Ok(false);
        };
        let start = start_time(i64::from(pid));
        // SAFETY: plain syscalls; the group is the job's own tool, checked by
        // pid and start time just above.
        unsafe { libc::kill(-pid, libc::SIGTERM) };
        let deadline = std::time::Instant::now() + grace;
        while std::time::Instant::now() < deadline
            && start.is_some()
            && start_time(i64::from(pid)) == start
            && !zombie(pid)
        {
            std::thread::sleep(Duration::from_millis(50));
        }
        if start.is_some() && start_time(i64::from(pid)) == start && !zombie(pid) {
            // SAFETY: as above, the same process (pid and start time).
            unsafe { libc::kill(-pid, libc::SIGKILL) };
        }
        self.finish(
            id,
            &Outcome {
                result: JobResult::Cancelled,
                exit_code: None,
                signal: Some(libc::SIGTERM),
                reason: Some(format!(
                    "cancelled after the nixdeck that started it was closed (its process {pid} was stopped)"
                )),
                lines: 0,
            },
        )?;
        Ok(true)
    }

    /// Records a new running job owned by this process. For installs and
    /// deploys, refuses when a running install or deploy holds one of its hosts.
    pub fn begin(&mut self, job: &NewJob) -> Result<JobRecord, JobError> {
        let (pid, start) = own_identity();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        if job.kind.is_exclusive() {
            let dead = dead_running_jobs(&tx)?;
            let mut stmt =
                tx.prepare("SELECT id, kind, hosts FROM jobs WHERE result = 'running'")?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })?;
            for row in rows {
                let (id, kind, hosts) = row?;
                if dead.contains(&id) || !JobKind::parse(&kind).is_some_and(JobKind::is_exclusive) {
                    continue;
                }
                let hosts: Vec<String> = serde_json::from_str(&hosts).unwrap_or_default();
                if let Some(host) = job.hosts.iter().find(|h| hosts.contains(h)) {
                    return Err(JobError::HostBusy {
                        host: host.clone(),
                        job: id,
                    });
                }
            }
        }
        let started_at = now_ms();
        tx.execute(
            "INSERT INTO jobs (kind, hosts, argv, cwd, started_at, result, log_path, owner_pid, owner_start)
             VALUES (?1, ?2, ?3, ?4, ?5, 'running', '', ?6, ?7)",
            params![
                job.kind.as_str(),
                serde_json::to_string(&job.hosts).unwrap_or_else(|_| "[]".into()),
                serde_json::to_string(&job.argv).unwrap_or_else(|_| "[]".into()),
                job.cwd.to_string_lossy(),
                started_at as i64,
                pid,
                start as i64,
            ],
        )?;
        let id = tx.last_insert_rowid();
        if !job.tools.is_empty() {
            tx.execute(
                "INSERT INTO job_tools (job_id, tools) VALUES (?1, ?2)",
                params![
                    id,
                    serde_json::to_string(&job.tools).unwrap_or_else(|_| "[]".into())
                ],
            )?;
        }
        let log_path = self.logs.join(format!("{id}.log"));
        tx.execute(
            "UPDATE jobs SET log_path = ?2 WHERE id = ?1",
            params![id, log_path.to_string_lossy()],
        )?;
        tx.commit()?;
        self.get(id)
    }

    /// Records how job `id` ended.
    pub fn finish(&mut self, id: i64, outcome: &Outcome) -> Result<(), JobError> {
        self.conn.execute(
            "UPDATE jobs SET ended_at = ?2, exit_code = ?3, signal = ?4, result = ?5, reason = ?6, lines = ?7
             WHERE id = ?1",
            params![
                id,
                now_ms() as i64,
                outcome.exit_code,
                outcome.signal,
                outcome.result.as_str(),
                outcome.reason,
                outcome.lines as i64,
            ],
        )?;
        Ok(())
    }

    /// Every job, newest first.
    pub fn list(&self) -> Result<Vec<JobRecord>, JobError> {
        let mut stmt = self.conn.prepare(&format!("{SELECT} ORDER BY id DESC"))?;
        let rows = stmt.query_map([], row_to_record)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// One job.
    pub fn get(&self, id: i64) -> Result<JobRecord, JobError> {
        self.conn
            .query_row(&format!("{SELECT} WHERE id = ?1"), [id], row_to_record)
            .optional()?
            .ok_or(JobError::NotFound(id))
    }
}

impl JobStore {
    /// Records that `host` runs `system_path`, put there by job `job` (a
    /// deploy or install that succeeded), replacing the previous record.
    pub fn record_host_system(
        &mut self,
        host: &str,
        system_path: &str,
        job: Option<i64>,
    ) -> Result<(), JobError> {
        if !nixdeck_core::status::is_store_path(system_path) {
            return Err(JobError::NotAStorePath(system_path.to_string()));
        }
        self.conn.execute(
            "INSERT INTO host_systems (host, system_path, job_id, recorded_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(host) DO UPDATE SET system_path = ?2, job_id = ?3, recorded_at = ?4",
            params![host, system_path, job, now_ms() as i64],
        )?;
        Ok(())
    }

    /// What was last recorded for `host`.
    pub fn host_system(&self, host: &str) -> Result<Option<HostSystem>, JobError> {
        Ok(self
            .conn
            .query_row(
                "SELECT host, system_path, job_id, recorded_at FROM host_systems WHERE host = ?1",
                [host],
                |r| {
                    Ok(HostSystem {
                        host: r.get(0)?,
                        system_path: r.get(1)?,
                        job_id: r.get(2)?,
                        recorded_at: r.get::<_, i64>(3)? as u64,
                    })
                },
            )
            .optional()?)
    }

    /// The newest job whose hosts include `host`.
    pub fn last_job(&self, host: &str) -> Result<Option<JobRecord>, JobError> {
        // `hosts` is a JSON array; json_each matches whole names only.
        Ok(self
            .conn
            .query_row(
                &format!(
                    "{SELECT} WHERE EXISTS (SELECT 1 FROM json_each(jobs.hosts) WHERE value = ?1)
                     ORDER BY id DESC LIMIT 1"
                ),
                [host],
                row_to_record,
            )
            .optional()?)
    }
}

const SELECT: &str = "SELECT id, kind, hosts, argv, cwd, started_at, ended_at, exit_code, signal,
    result, reason, log_path, lines, owner_pid, owner_start, child_pid, child_start,
    (SELECT tools FROM job_tools WHERE job_tools.job_id = jobs.id) FROM jobs";

fn row_to_record(r: &rusqlite::Row<'_>) -> rusqlite::Result<JobRecord> {
    let kind: String = r.get(1)?;
    let hosts: String = r.get(2)?;
    let argv: String = r.get(3)?;
    let result: String = r.get(9)?;
    let result = JobResult::parse(&result).unwrap_or(JobResult::Interrupted);
    let owner: (i64, i64) = (r.get(13)?, r.get(14)?);
    let child: (Option<i64>, Option<i64>) = (r.get(15)?, r.get(16)?);
    let detached_pid = if result == JobResult::Running && !process_alive(owner.0, owner.1 as u64) {
        live_child(child).and_then(|pid| i32::try_from(pid).ok())
    } else {
        None
    };
    Ok(JobRecord {
        id: r.get(0)?,
        kind: JobKind::parse(&kind).unwrap_or(JobKind::Validate),
        hosts: serde_json::from_str(&hosts).unwrap_or_default(),
        argv: serde_json::from_str(&argv).unwrap_or_default(),
        cwd: r.get(4)?,
        started_at: r.get::<_, i64>(5)? as u64,
        ended_at: r.get::<_, Option<i64>>(6)?.map(|v| v as u64),
        exit_code: r.get(7)?,
        signal: r.get(8)?,
        result,
        reason: r.get(10)?,
        log_path: r.get(11)?,
        lines: r.get::<_, i64>(12)? as u64,
        tools: r
            .get::<_, Option<String>>(17)?
            .and_then(|tools| serde_json::from_str(&tools).ok())
            .unwrap_or_default(),
        detached_pid,
    })
}

fn dead_running_jobs(conn: &Connection) -> Result<Vec<i64>, JobError> {
    let mut stmt = conn.prepare(
        "SELECT id, owner_pid, owner_start, child_pid, child_start FROM jobs WHERE result = 'running'",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
            (r.get::<_, Option<i64>>(3)?, r.get::<_, Option<i64>>(4)?),
        ))
    })?;
    let mut dead = Vec::new();
    for row in rows {
        let (id, pid, start, child) = row?;
        // Alive while its nixdeck lives, or while its tool runs on without it.
        if !process_alive(pid, start as u64) && live_child(child).is_none() {
            dead.push(id);
        }
    }
    Ok(dead)
}

/// The recorded tool process, when that very process (pid and start time) lives.
fn live_child((pid, start): (Option<i64>, Option<i64>)) -> Option<i64> {
    let (pid, start) = (pid?, start?);
    // Only with procfs: without a start time to compare, a reused pid could be
    // taken for the tool and signalled.
    (Path::new("/proc/self/stat").exists()
        && start_time(pid) == Some(start as u64)
        && !zombie(i32::try_from(pid).ok()?))
    .then_some(pid)
}

/// A process that has ended but was not reaped yet (its parent was not told).
fn zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            stat.rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next().map(|s| s == "Z"))
        })
        .unwrap_or(false)
}

/// This process's pid and start time (clock ticks after boot), which together
/// name it even after the pid is reused.
fn own_identity() -> (i64, u64) {
    let pid = std::process::id();
    (i64::from(pid), start_time(i64::from(pid)).unwrap_or(0))
}

/// Field 22 of `/proc/<pid>/stat`.
fn start_time(pid: i64) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.rsplit_once(')')?.1;
    // After the `)`: field 3 (state) is the first; starttime is field 22.
    rest.split_whitespace().nth(19)?.parse().ok()
}

fn process_alive(pid: i64, start: u64) -> bool {
    if Path::new("/proc/self/stat").exists() {
        return start_time(pid) == Some(start);
    }
    // No procfs: the pid alone has to do.
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists.
    pid > 0 && unsafe { libc::kill(pid, 0) == 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(kind: JobKind, hosts: &[&str]) -> NewJob {
        NewJob {
            kind,
            hosts: hosts.iter().map(|h| h.to_string()).collect(),
            argv: vec!["nix".into(), "build".into()],
            cwd: "/repo".into(),
            tools: vec![],
        }
    }

    #[test]
    fn jobs_are_recorded_listed_and_finished() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = JobStore::open(dir.path()).unwrap();
        let a = store.begin(&job(JobKind::Validate, &["web1"])).unwrap();
        let b = store
            .begin(&job(JobKind::Deploy, &["web1", "web2"]))
            .unwrap();
        assert_eq!(a.result, JobResult::Running);
        assert!(a.log_path.ends_with(&format!("logs/{}.log", a.id)));
        let outcome = Outcome {
            result: JobResult::Failed,
            exit_code: Some(1),
            signal: None,
            reason: Some("exited with status 1".into()),
            lines: 12,
        };
        store.finish(b.id, &outcome).unwrap();
        let list = store.list().unwrap();
        assert_eq!(list.iter().map(|j| j.id).collect::<Vec<_>>(), [b.id, a.id]);
        let b = store.get(b.id).unwrap();
        assert_eq!(b.result, JobResult::Failed);
        assert_eq!(b.exit_code, Some(1));
        assert_eq!(b.lines, 12);
        assert_eq!(b.hosts, ["web1", "web2"]);
        assert!(b.ended_at.is_some());
        assert!(matches!(store.get(999), Err(JobError::NotFound(999))));
    }

    #[test]
    fn one_install_or_deploy_per_host() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = JobStore::open(dir.path()).unwrap();
        let first = store.begin(&job(JobKind::Install, &["db1"])).unwrap();
        let err = store
            .begin(&job(JobKind::Deploy, &["web1", "db1"]))
            .unwrap_err();
        assert!(
            matches!(err, JobError::HostBusy { ref host, job } if host == "db1" && job == first.id)
        );
        // Validation is not exclusive; other hosts are free.
        store.begin(&job(JobKind::Validate, &["db1"])).unwrap();
        store.begin(&job(JobKind::Deploy, &["web1"])).unwrap();
        let done = Outcome {
            result: JobResult::Succeeded,
            exit_code: Some(0),
            signal: None,
            reason: None,
            lines: 0,
        };
        store.finish(first.id, &done).unwrap();
        store.begin(&job(JobKind::Deploy, &["db1"])).unwrap();
    }

    #[test]
    fn a_store_from_before_host_systems_gains_them_and_keeps_its_jobs() {
        let dir = tempfile::tempdir().unwrap();
        // The schema as it was: only the jobs table, with one job in it.
        {
            let conn = Connection::open(dir.path().join("jobs.sqlite3")).unwrap();
            let old = SCHEMA.split("-- Added after").next().unwrap();
            conn.execute_batch(old).unwrap();
            conn.execute(
                "INSERT INTO jobs (kind, hosts, argv, cwd, started_at, ended_at, exit_code, result,
                 log_path, owner_pid, owner_start)
                 VALUES ('deploy', '[\"web1\"]', '[\"colmena\"]', '/repo', 1, 2, 0, 'succeeded', '/l', 1, 1)",
                [],
            )
            .unwrap();
        }
        let mut store = JobStore::open(dir.path()).unwrap();
        let old = store.list().unwrap();
        assert_eq!(old.len(), 1);
        assert_eq!(old[0].kind, JobKind::Deploy);
        let path = "/nix/store/0a1b2c3d4f5g6h7i8j9k0l1m2n3p4q5r-nixos-system-web1-24.11";
        assert_eq!(store.host_system("web1").unwrap(), None);
        store
            .record_host_system("web1", path, Some(old[0].id))
            .unwrap();
        let newer = "/nix/store/1a1b2c3d4f5g6h7i8j9k0l1m2n3p4q5r-nixos-system-web1-24.11";
        store.record_host_system("web1", newer, None).unwrap();
        let rec = store.host_system("web1").unwrap().unwrap();
        assert_eq!((rec.system_path.as_str(), rec.job_id), (newer, None));
        assert!(matches!(
            store.record_host_system("web1", "/etc/passwd", None),
            Err(JobError::NotAStorePath(_))
        ));
        drop(store);
        // Reopening keeps the record.
        let store = JobStore::open(dir.path()).unwrap();
        assert_eq!(
            store.host_system("web1").unwrap().unwrap().system_path,
            newer
        );
    }

    #[test]
    fn the_last_job_of_a_host_matches_whole_names() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = JobStore::open(dir.path()).unwrap();
        let a = store
            .begin(&job(JobKind::Deploy, &["web1", "web10"]))
            .unwrap();
        let b = store.begin(&job(JobKind::Validate, &["web10"])).unwrap();
        assert_eq!(store.last_job("web1").unwrap().map(|j| j.id), Some(a.id));
        assert_eq!(store.last_job("web10").unwrap().map(|j| j.id), Some(b.id));
        assert_eq!(store.last_job("web").unwrap(), None);
        let done = Outcome {
            result: JobResult::Succeeded,
            exit_code: Some(0),
            signal: None,
            reason: None,
            lines: 0,
        };
        store.finish(a.id, &done).unwrap();
        let r = store.begin(&job(JobKind::Rollback, &["web1"])).unwrap();
        let r = store.get(r.id).unwrap();
        assert_eq!(r.kind, JobKind::Rollback, "the kind survives the store");
        assert!(
            matches!(
                store.begin(&job(JobKind::Deploy, &["web1"])),
                Err(JobError::HostBusy { .. })
            ),
            "a rollback holds its host like a deploy"
        );
    }

    #[test]
    fn jobs_of_a_dead_process_are_interrupted_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = JobStore::open(dir.path()).unwrap();
        let mine = store.begin(&job(JobKind::Install, &["a"])).unwrap();
        let orphan = store.begin(&job(JobKind::Install, &["b"])).unwrap();
        // The second job's owner "died": a pid that exists with another start time.
        store
            .conn
            .execute(
                "UPDATE jobs SET owner_start = owner_start + 1 WHERE id = ?1",
                [orphan.id],
            )
            .unwrap();
        drop(store);
        let store = JobStore::open(dir.path()).unwrap();
        assert_eq!(
            store.get(mine.id).unwrap().result,
            JobResult::Running,
            "our own job stays running"
        );
        let orphan = store.get(orphan.id).unwrap();
        assert_eq!(orphan.result, JobResult::Interrupted);
        assert!(orphan.reason.unwrap().contains("unknown"));
    }

    /// A job whose nixdeck ended while its tool runs on (the person left it
    /// running): while that very process (pid and start time) lives, the job is
    /// `running`, shows the pid and keeps its host locked; a recorded pid whose
    /// start time does not match (a reused pid) is not taken for it, and the job
    /// is interrupted. Cancelling stops the process and records the job cancelled.
    #[test]
    fn a_tool_left_running_keeps_its_job_running_locked_and_cancellable() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = JobStore::open(dir.path()).unwrap();
        let mut tool = std::process::Command::new("sleep");
        std::os::unix::process::CommandExt::process_group(&mut tool, 0);
        let mut tool = tool.arg("60").spawn().unwrap();
        let pid = i32::try_from(tool.id()).unwrap();
        let left = store.begin(&job(JobKind::Install, &["a"])).unwrap();
        let reused = store.begin(&job(JobKind::Install, &["b"])).unwrap();
        store.set_child(left.id, pid).unwrap();
        store.set_child(reused.id, pid).unwrap();
        // Both owners "died" (another start time); the second job's tool record
        // names the live pid with another start time, as after pid reuse.
        store
            .conn
            .execute("UPDATE jobs SET owner_start = owner_start + 1", [])
            .unwrap();
        store
            .conn
            .execute(
                "UPDATE jobs SET child_start = child_start + 1 WHERE id = ?1",
                [reused.id],
            )
            .unwrap();
        drop(store);

        let mut store = JobStore::open(dir.path()).unwrap();
        let left = store.get(left.id).unwrap();
        assert_eq!(left.result, JobResult::Running);
        assert_eq!(left.detached_pid, Some(pid));
        assert!(matches!(
            store.begin(&job(JobKind::Deploy, &["a"])),
            Err(JobError::HostBusy { job, .. }) if job == left.id
        ));
        let reused = store.get(reused.id).unwrap();
        assert_eq!(reused.result, JobResult::Interrupted);
        assert_eq!(reused.detached_pid, None);

        assert!(store
            .cancel_detached(left.id, Duration::from_secs(5))
            .unwrap());
        let status = tool.wait().unwrap();
        assert!(!status.success(), "the tool was stopped: {status:?}");
        let left = store.get(left.id).unwrap();
        assert_eq!(left.result, JobResult::Cancelled);
        assert_eq!(left.detached_pid, None);
        assert!(!store
            .cancel_detached(left.id, Duration::from_secs(1))
            .unwrap());
        store.begin(&job(JobKind::Deploy, &["a"])).unwrap();
    }
}
