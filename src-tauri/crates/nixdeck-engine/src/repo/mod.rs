//! Infrastructure repositories on disk: create one, add, rename and remove hosts,
//! open repositories nixdeck did not create, and write files safely.
//!
//! Every change is two steps. A `plan_*` function reads the disk and returns a
//! [`WritePlan`]: each file to create, replace, move or delete, with a diff and who
//! the current text belongs to. [`apply_plan`] then writes it atomically, but only
//! if every replaced or deleted file nixdeck did not write (or that was edited since
//! nixdeck wrote it) is among the confirmed paths; otherwise it writes nothing and
//! returns [`RepoError::NeedsConfirmation`] with those changes, for the caller to
//! show and ask about. How nixdeck knows what it wrote: `docs/repositories.md`.
//!
//! Nothing is written, moved or deleted through a symbolic link that leads out of
//! the repository ([`inside`]): a `hosts/` linked to another folder makes every
//! change there fail before anything is touched.

pub use crate::atomic;
pub mod git;
pub mod record;
pub mod scan;

use nixdeck_core::repo::change::content_hash;
use nixdeck_core::repo::names::NameError;
use nixdeck_core::repo::render::{self, host_file, FLAKE_PATH};
use nixdeck_core::repo::{
    ChangeAction, FileChange, FlakeSpec, HostName, HostSpec, Ownership, SeenChange, WritePlan,
};
use std::path::{Path, PathBuf};
use thiserror::Error;

pub use scan::open_repo;

/// Why a repository operation failed.
#[derive(Debug, Error)]
pub enum RepoError {
    #[error(transparent)]
    Invalid(#[from] NameError),
    #[error("{0} is not a directory: choose the folder that holds (or will hold) flake.nix")]
    NotADirectory(PathBuf),
    #[error("{0} already has a flake.nix: open it as a repository instead of creating one")]
    AlreadyARepository(PathBuf),
    #[error("{0} has no flake.nix: create a repository there first (`nixdeck project init`)")]
    NotARepository(PathBuf),
    #[error(
        "a host named {0} already exists (hosts/{0}/): choose another name or remove it first"
    )]
    HostExists(String),
    #[error("there is no host {0} (no hosts/{0}/ directory)")]
    NoSuchHost(String),
    #[error("{} file(s) would replace or delete text nixdeck did not write: {}; review the differences and confirm them", pending.len(), pending.iter().map(|c| c.path.as_str()).collect::<Vec<_>>().join(", "))]
    NeedsConfirmation { pending: Vec<FileChange> },
    #[error("{0} changed after the change was planned: plan again to see the new difference")]
    ChangedSincePlan(String),
    #[error("could not read or write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Git(#[from] git::GitError),
}

/// Which pending changes (see [`WritePlan::pending`]) a person agreed to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Confirm {
    /// None: any pending change makes [`apply_plan`] refuse.
    #[default]
    Nothing,
    /// These repository-relative paths, whatever their text now. Prefer
    /// [`Confirm::Seen`]: a file edited again after review passes this one.
    Paths(Vec<String>),
    /// These changes exactly as the person saw them ([`WritePlan::seen`] of the
    /// reviewed plan): a change is covered only while the file's text on disk and
    /// nixdeck's proposal both still hash as shown.
    Seen(Vec<SeenChange>),
    /// Everything in the plan (`--overwrite` on the command line).
    All,
}

impl Confirm {
    fn covers(&self, change: &FileChange) -> bool {
        match self {
            Confirm::Nothing => false,
            Confirm::Paths(paths) => paths.contains(&change.path),
            Confirm::Seen(seen) => seen.iter().any(|s| change.is_seen_as(s)),
            Confirm::All => true,
        }
    }
}

/// `root/rel`, after checking that no part of it that exists is (or passes
/// through) a symbolic link leading out of `root`. Parts that do not exist yet
/// will be created by nixdeck as plain folders and files.
pub fn inside(root: &Path, rel: &str) -> Result<PathBuf, RepoError> {
    let real_root = match std::fs::canonicalize(root) {
        Ok(real) => real,
        // A repository still to be created has no links in it.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(root.join(rel)),
        Err(e) => return Err(io_err(root)(e)),
    };
    let mut at = root.to_path_buf();
    for part in rel.split('/').filter(|p| !p.is_empty()) {
        at.push(part);
        match std::fs::symlink_metadata(&at) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
            Err(e) => return Err(io_err(&at)(e)),
            Ok(meta) => {
                let leads_inside =
                    std::fs::canonicalize(&at).is_ok_and(|real| real.starts_with(&real_root));
                if !leads_inside {
                    let link = if meta.file_type().is_symlink() {
                        format!("{} is a symbolic link", at.display())
                    } else {
                        format!("{} lies", at.display())
                    };
                    return Err(RepoError::Io {
                        path: root.join(rel),
                        source: std::io::Error::other(format!(
                            "{link} leading outside the repository; nixdeck never writes, moves or deletes through such a link: replace it with a folder inside the repository"
                        )),
                    });
                }
            }
        }
    }
    Ok(root.join(rel))
}

/// What [`apply_plan`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Applied {
    /// Files written (repository-relative).
    pub written: Vec<String>,
    /// Files deleted.
    pub deleted: Vec<String>,
    /// `git init` ran.
    pub git_initialised: bool,
    /// Notes for the person (from the plan, and git steps that could not run).
    pub notes: Vec<String>,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> RepoError + '_ {
    move |source| RepoError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, RepoError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(RepoError::Io {
            path: path.to_path_buf(),
            source: e,
        }),
    }
}

/// The text of `rel` in `root` (`None`: absent), refused when it lies behind a
/// link out of the repository.
fn read_inside(root: &Path, rel: &str) -> Result<Option<Vec<u8>>, RepoError> {
    read_optional(&inside(root, rel)?)
}

/// Plans a new repository in `root` (created if missing): flake.nix, modules/common.nix,
/// .gitignore. Refuses when a flake.nix is already there.
pub fn plan_init(root: &Path, spec: &FlakeSpec) -> Result<WritePlan, RepoError> {
    spec.validate()?;
    if root.exists() && !root.is_dir() {
        return Err(RepoError::NotADirectory(root.to_path_buf()));
    }
    if root.join(FLAKE_PATH).exists() {
        return Err(RepoError::AlreadyARepository(root.to_path_buf()));
    }
    let record = record::load(root);
    let mut plan = WritePlan::default();
    for (path, text) in render::repo_files(spec) {
        plan.push(
            &path,
            read_inside(root, &path)?.as_deref(),
            Some(&text),
            &record,
        );
    }
    Ok(plan)
}

/// Creates a repository in `root`: writes [`plan_init`]'s files, runs `git init` when
/// `root` is not yet in a git work tree, and adds the files with intent-to-add.
pub async fn init_repo(
    root: &Path,
    spec: &FlakeSpec,
    confirm: &Confirm,
) -> Result<Applied, RepoError> {
    let plan = plan_init(root, spec)?;
    std::fs::create_dir_all(root).map_err(io_err(root))?;
    let git_initialised = git::init(root).await?;
    let mut applied = apply_plan(root, &plan, confirm).await?;
    applied.git_initialised = git_initialised;
    Ok(applied)
}

/// Whether the repository's flake finds hosts by their `hosts/<name>/host.nix` (the
/// layout nixdeck writes), so host files are all a new host needs.
fn flake_discovers_hosts(root: &Path) -> bool {
    std::fs::read_to_string(root.join(FLAKE_PATH)).is_ok_and(|text| text.contains("/host.nix\""))
}

fn require_repo(root: &Path) -> Result<(), RepoError> {
    if !root.join(FLAKE_PATH).is_file() {
        return Err(RepoError::NotARepository(root.to_path_buf()));
    }
    Ok(())
}

/// Plans adding `spec` as `hosts/<name>/`: host.nix, configuration.nix and, when given, disko.nix.
pub fn plan_add_host(root: &Path, spec: &HostSpec) -> Result<WritePlan, RepoError> {
    spec.validate()?;
    require_repo(root)?;
    let name = spec.name.as_str();
    if inside(root, &format!("hosts/{name}"))?.exists() {
        return Err(RepoError::HostExists(name.to_string()));
    }
    let record = record::load(root);
    let mut plan = WritePlan::default();
    for (path, text) in render::host_files(spec) {
        plan.push(&path, None, Some(&text), &record);
    }
    if spec.disko.is_none() {
        plan.notes.push(format!(
            "{name} has no disko.nix yet: give it a disk layout before installing"
        ));
    }
    if !flake_discovers_hosts(root) {
        plan.notes.push(format!(
            "this flake.nix lists its hosts itself: add {name} to its nixosConfigurations and colmena (hosts/{name}/host.nix holds the system and deployment settings)"
        ));
    }
    Ok(plan)
}

/// Plans a new host and applies it.
pub async fn add_host(
    root: &Path,
    spec: &HostSpec,
    confirm: &Confirm,
) -> Result<Applied, RepoError> {
    let plan = plan_add_host(root, spec)?;
    apply_plan(root, &plan, confirm).await
}

/// Plans rewriting an existing host's files from `spec` (the wizard's system step run
/// again, a new disk layout): host.nix, configuration.nix and, when given, disko.nix.
/// Files edited by hand since nixdeck wrote them come back as pending changes.
pub fn plan_update_host(root: &Path, spec: &HostSpec) -> Result<WritePlan, RepoError> {
    spec.validate()?;
    require_repo(root)?;
    existing_host(root, &spec.name)?;
    plan_write(root, &render::host_files(spec))
}

/// Whether `path` names a file of the repository nixdeck may touch: relative,
/// without `.`/`..` parts, outside `.git/` and `.nixdeck/`.
pub(crate) fn is_repo_path(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
        && !path.starts_with(".git/")
        && !path.starts_with(".nixdeck/")
}

/// Plans writing `files` (repository-relative path, text), e.g. a host's disko.nix from
/// the layout editor. Paths must stay inside the repository.
pub fn plan_write(root: &Path, files: &[(String, String)]) -> Result<WritePlan, RepoError> {
    let record = record::load(root);
    let mut plan = WritePlan::default();
    for (path, text) in files {
        if !is_repo_path(path) {
            return Err(RepoError::Io {
                path: root.join(path),
                source: std::io::Error::other("not a path inside the repository"),
            });
        }
        plan.push(
            path,
            read_inside(root, path)?.as_deref(),
            Some(text),
            &record,
        );
    }
    Ok(plan)
}

/// Every file under `dir` (repository-relative, sorted) and its subdirectories, deepest first.
fn files_under(root: &Path, dir: &str) -> Result<(Vec<String>, Vec<String>), RepoError> {
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    let mut stack = vec![dir.to_string()];
    while let Some(rel) = stack.pop() {
        let abs = inside(root, &rel)?;
        for entry in std::fs::read_dir(&abs).map_err(io_err(&abs))? {
            let entry = entry.map_err(io_err(&abs))?;
            let child = format!("{rel}/{}", entry.file_name().to_string_lossy());
            if entry.file_type().map_err(io_err(&abs))?.is_dir() {
                stack.push(child);
            } else {
                files.push(child);
            }
        }
        dirs.push(rel);
    }
    files.sort();
    dirs.sort_by_key(|d| std::cmp::Reverse(d.matches('/').count()));
    Ok((files, dirs))
}

fn existing_host(root: &Path, name: &HostName) -> Result<String, RepoError> {
    let dir = format!("hosts/{name}");
    if !inside(root, &dir)?.is_dir() {
        return Err(RepoError::NoSuchHost(name.to_string()));
    }
    Ok(dir)
}

/// Plans removing `hosts/<name>/` and everything in it. Files nixdeck did not write
/// (hardware-configuration.nix from nixos-anywhere, hand-written ones) need confirmation.
pub fn plan_remove_host(root: &Path, name: &HostName) -> Result<WritePlan, RepoError> {
    require_repo(root)?;
    let dir = existing_host(root, name)?;
    let record = record::load(root);
    let (files, dirs) = files_under(root, &dir)?;
    let mut plan = WritePlan {
        remove_dirs: dirs,
        ..WritePlan::default()
    };
    for path in files {
        plan.push(&path, read_inside(root, &path)?.as_deref(), None, &record);
    }
    if !flake_discovers_hosts(root) {
        plan.notes.push(format!(
            "this flake.nix lists its hosts itself: remove {name} from it as well"
        ));
    }
    Ok(plan)
}

/// Plans removing a host and applies it.
pub async fn remove_host(
    root: &Path,
    name: &HostName,
    confirm: &Confirm,
) -> Result<Applied, RepoError> {
    let plan = plan_remove_host(root, name)?;
    apply_plan(root, &plan, confirm).await
}

/// `text` with the host's own name replaced where nixdeck writes it: the
/// `networking.hostName` line of configuration.nix and host.nix's comment.
fn renamed_text(file: &str, text: &str, from: &HostName, to: &HostName) -> String {
    match file {
        "configuration.nix" => text.replace(
            &format!("networking.hostName = \"{from}\";"),
            &format!("networking.hostName = \"{to}\";"),
        ),
        "host.nix" => text.replacen(
            &format!("# How {from} is built"),
            &format!("# How {to} is built"),
            1,
        ),
        _ => text.to_string(),
    }
}

/// Plans renaming a host: `hosts/<from>/` moves to `hosts/<to>/`, and the host name
/// in configuration.nix follows.
pub fn plan_rename_host(
    root: &Path,
    from: &HostName,
    to: &HostName,
) -> Result<WritePlan, RepoError> {
    require_repo(root)?;
    let dir = existing_host(root, from)?;
    if inside(root, &format!("hosts/{to}"))?.exists() {
        return Err(RepoError::HostExists(to.to_string()));
    }
    let record = record::load(root);
    let (files, dirs) = files_under(root, &dir)?;
    let mut plan = WritePlan {
        remove_dirs: dirs,
        ..WritePlan::default()
    };
    for path in files {
        let file = inside(root, &path)?;
        let bytes = std::fs::read(&file).map_err(io_err(&file))?;
        let rest = &path[dir.len() + 1..];
        let new_path = format!("hosts/{to}/{rest}");
        let Ok(text) = std::str::from_utf8(&bytes) else {
            return Err(RepoError::Io {
                path: root.join(&path),
                source: std::io::Error::other("not UTF-8 text; move this host's directory by hand"),
            });
        };
        let content = renamed_text(rest, text, from, to);
        plan.changes.push(FileChange::plan_move(
            &path, &new_path, &bytes, &content, &record,
        ));
    }
    if !flake_discovers_hosts(root) {
        plan.notes.push(format!(
            "this flake.nix lists its hosts itself: rename {from} to {to} in it as well"
        ));
    }
    plan.notes.push(format!(
        "the machine keeps its old name until the next deploy; colmena will address it as {to}"
    ));
    Ok(plan)
}

/// Plans a rename and applies it.
pub async fn rename_host(
    root: &Path,
    from: &HostName,
    to: &HostName,
    confirm: &Confirm,
) -> Result<Applied, RepoError> {
    let plan = plan_rename_host(root, from, to)?;
    apply_plan(root, &plan, confirm).await
}

/// Writes `plan` in `root`. Refuses (writing nothing) when a pending change is not
/// confirmed or a file changed since the plan was made. Files are replaced atomically
/// one by one; the record of what nixdeck wrote is saved after them; new files are
/// added to git with intent-to-add and deleted ones dropped from the index.
pub async fn apply_plan(
    root: &Path,
    plan: &WritePlan,
    confirm: &Confirm,
) -> Result<Applied, RepoError> {
    let unconfirmed: Vec<FileChange> = plan
        .pending()
        .into_iter()
        .filter(|c| !confirm.covers(c))
        .cloned()
        .collect();
    if !unconfirmed.is_empty() {
        return Err(RepoError::NeedsConfirmation {
            pending: unconfirmed,
        });
    }
    // Every path is checked before anything is touched: a link out of the
    // repository stops the whole plan, not half of it.
    for change in &plan.changes {
        inside(root, &change.path)?;
        inside(root, change.source_path())?;
    }
    for dir in &plan.remove_dirs {
        inside(root, dir)?;
    }
    inside(root, record::RECORD_PATH)?;
    for change in &plan.changes {
        let source = change.source_path();
        let now = read_optional(&root.join(source))?.map(|b| content_hash(&b));
        if now != change.current_hash {
            return Err(RepoError::ChangedSincePlan(source.to_string()));
        }
        if matches!(change.action, ChangeAction::Move { .. }) && root.join(&change.path).exists() {
            return Err(RepoError::ChangedSincePlan(change.path.clone()));
        }
    }
    let mut record = record::load(root);
    let mut applied = Applied {
        notes: plan.notes.clone(),
        ..Applied::default()
    };
    let written = write_changes(root, plan, &mut record, &mut applied);
    // Saved even after a failure, so files already written count as nixdeck's.
    record::save(root, &record).map_err(io_err(&root.join(record::RECORD_PATH)))?;
    written?;
    for dir in &plan.remove_dirs {
        // Only empty directories go: anything a person put there since stays.
        let _ = std::fs::remove_dir(root.join(dir));
    }
    if git::is_work_tree(root).await {
        git::intent_to_add(root, &applied.written).await?;
        git::forget(root, &applied.deleted).await?;
    } else if !applied.written.is_empty() {
        applied.notes.push(
            "this folder is not a git repository: run `git init` and `git add -N .`, flakes only see files git knows"
                .into(),
        );
    }
    Ok(applied)
}

/// Carries out the changes of `plan` in order, noting each in `record` and `applied`.
fn write_changes(
    root: &Path,
    plan: &WritePlan,
    record: &mut nixdeck_core::repo::WrittenRecord,
    applied: &mut Applied,
) -> Result<(), RepoError> {
    for change in &plan.changes {
        let path = root.join(&change.path);
        match &change.action {
            ChangeAction::Write { content } => {
                atomic::write_atomic(&path, content.as_bytes()).map_err(io_err(&path))?;
                record.wrote(&change.path, content.as_bytes());
                applied.written.push(change.path.clone());
            }
            ChangeAction::Delete => {
                std::fs::remove_file(&path).map_err(io_err(&path))?;
                record.removed(&change.path);
                applied.deleted.push(change.path.clone());
            }
            ChangeAction::Move { from, content } => {
                atomic::write_atomic(&path, content.as_bytes()).map_err(io_err(&path))?;
                let was_ours = record.files.contains_key(from.as_str());
                let changed = change.current_hash.as_deref()
                    != Some(content_hash(content.as_bytes()).as_str());
                if was_ours || changed {
                    record.wrote(&change.path, content.as_bytes());
                }
                let old = root.join(from);
                std::fs::remove_file(&old).map_err(io_err(&old))?;
                record.removed(from);
                applied.written.push(change.path.clone());
                applied.deleted.push(from.clone());
            }
        }
    }
    Ok(())
}

/// Who the current text of each file in `paths` belongs to (for showing state).
pub fn ownership(root: &Path, paths: &[&str]) -> Result<Vec<(String, Ownership)>, RepoError> {
    let record = record::load(root);
    paths
        .iter()
        .map(|p| {
            Ok((
                p.to_string(),
                record.ownership(p, read_inside(root, p)?.as_deref()),
            ))
        })
        .collect()
}

/// Repository-relative paths of a host's files, for previews.
pub fn host_paths(name: &HostName) -> [String; 3] {
    [
        host_file(name.as_str(), "host.nix"),
        host_file(name.as_str(), "configuration.nix"),
        host_file(name.as_str(), "disko.nix"),
    ]
}
