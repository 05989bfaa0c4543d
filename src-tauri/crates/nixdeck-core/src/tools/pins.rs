//! What a repository's `flake.lock` pins, and so which nixos-anywhere and
//! colmena a job will run: read from the lock file's text, described for the
//! doctor and the job page ("nixos-anywhere from nixpkgs 2025-06-01 (abc1234)").
//!
//! A lock file (versions 5 to 7) is a graph: `nodes.root.inputs` maps each
//! input name to a node name, or, for `follows`, to a path of input names
//! from the root. Each node's `locked` attributes say where it was fetched from.

use super::plan::{ColmenaPin, ToolSettings, ToolSource, ARTICLE_COLMENA};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use thiserror::Error;

/// Why a `flake.lock` could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LockError {
    #[error("flake.lock is not JSON ({0}); restore it from git (`git checkout -- flake.lock`) or remove it and run `nix flake lock`")]
    Json(String),
    #[error("flake.lock has version {0}, which nixdeck does not know (it reads versions 5 to 7)")]
    Version(u64),
    #[error("flake.lock is damaged: {0}; restore it from git (`git checkout -- flake.lock`) or remove it and run `nix flake lock`")]
    Shape(String),
}

/// One input of the flake as its lock file pins it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LockedInput {
    /// The input's name in `flake.nix` (`nixpkgs`, `colmena`).
    pub name: String,
    /// The fetcher: `github`, `git`, `path`, `tarball`…
    pub kind: String,
    /// `owner/repo` for `github`, `gitlab` and `sourcehut` inputs.
    pub repository: Option<String>,
    /// The URL of `git`, `tarball` and other URL-based inputs.
    pub url: Option<String>,
    /// The branch or tag `flake.nix` asked for (`nixos-25.05`), when it named one.
    pub wanted_ref: Option<String>,
    /// The full commit hash.
    pub rev: Option<String>,
    /// When that commit was made, in seconds since the Unix epoch.
    pub last_modified: Option<i64>,
}

impl LockedInput {
    /// Where it comes from, as a flake reference without the revision:
    /// `github:NixOS/nixpkgs/nixos-25.05`.
    pub fn origin(&self) -> String {
        let base = match (&self.repository, &self.url) {
            (Some(repo), _) => format!("{}:{repo}", self.kind),
            (None, Some(url)) => url.clone(),
            (None, None) => self.kind.clone(),
        };
        match &self.wanted_ref {
            Some(r) if self.repository.is_some() => format!("{base}/{r}"),
            Some(r) => format!("{base}?ref={r}"),
            None => base,
        }
    }

    /// The first seven characters of the commit, as git shows it.
    pub fn short_rev(&self) -> Option<&str> {
        self.rev.as_deref().map(|r| r.get(..7).unwrap_or(r))
    }

    /// The commit's day, `YYYY-MM-DD` in UTC.
    pub fn date(&self) -> Option<String> {
        self.last_modified.map(utc_date)
    }

    /// `2025-06-01 (abc1234)`, or whichever of the two the lock has.
    pub fn version(&self) -> String {
        match (self.date(), self.short_rev()) {
            (Some(d), Some(r)) => format!("{d} ({r})"),
            (Some(d), None) => d,
            (None, Some(r)) => r.to_string(),
            (None, None) => "an unrecorded revision".into(),
        }
    }
}

/// The root inputs of a `flake.lock`, `follows` resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlakeLock {
    pub inputs: BTreeMap<String, LockedInput>,
}

impl FlakeLock {
    pub fn input(&self, name: &str) -> Option<&LockedInput> {
        self.inputs.get(name)
    }
}

/// Reads the text of a `flake.lock`.
pub fn parse_flake_lock(text: &str) -> Result<FlakeLock, LockError> {
    let doc: Value = serde_json::from_str(text).map_err(|e| LockError::Json(e.to_string()))?;
    let version = doc
        .get("version")
        .and_then(Value::as_u64)
        .ok_or_else(|| LockError::Shape("it has no version".into()))?;
    if !(5..=7).contains(&version) {
        return Err(LockError::Version(version));
    }
    let nodes = doc
        .get("nodes")
        .and_then(Value::as_object)
        .ok_or_else(|| LockError::Shape("it has no nodes".into()))?;
    let root_name = doc.get("root").and_then(Value::as_str).unwrap_or("root");
    let root = nodes
        .get(root_name)
        .ok_or_else(|| LockError::Shape(format!("its root node {root_name:?} is missing")))?;
    let mut inputs = BTreeMap::new();
    if let Some(root_inputs) = root.get("inputs").and_then(Value::as_object) {
        for (name, target) in root_inputs {
            let node_name = resolve(nodes, root_name, target, 0)?;
            let node = nodes.get(&node_name).ok_or_else(|| {
                LockError::Shape(format!("input {name:?} points at a missing node"))
            })?;
            inputs.insert(name.clone(), locked_input(name, node));
        }
    }
    Ok(FlakeLock { inputs })
}

/// How deep `follows` paths may refer to further `follows` paths: deeper is a loop.
const MAX_FOLLOWS: usize = 32;

/// The node an input refers to: a node name, or a `follows` path of input
/// names walked from the root (empty: the root itself).
fn resolve(
    nodes: &serde_json::Map<String, Value>,
    root: &str,
    target: &Value,
    depth: usize,
) -> Result<String, LockError> {
    if depth > MAX_FOLLOWS {
        return Err(LockError::Shape("its follows paths loop".into()));
    }
    match target {
        Value::String(node) => Ok(node.clone()),
        Value::Array(path) => {
            let mut node = root.to_string();
            for step in path {
                let step = step.as_str().ok_or_else(|| {
                    LockError::Shape("a follows path has a step that is not a name".into())
                })?;
                let hop = nodes
                    .get(&node)
                    .and_then(|n| n.get("inputs"))
                    .and_then(|i| i.get(step))
                    .ok_or_else(|| {
                        LockError::Shape(format!("a follows path names a missing input {step:?}"))
                    })?;
                node = resolve(nodes, root, hop, depth + 1)?;
            }
            Ok(node)
        }
        _ => Err(LockError::Shape(
            "an input is neither a node name nor a follows path".into(),
        )),
    }
}

fn locked_input(name: &str, node: &Value) -> LockedInput {
    let locked = node.get("locked");
    let original = node.get("original");
    let text = |v: Option<&Value>, key: &str| {
        v.and_then(|v| v.get(key))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let kind = text(locked, "type").unwrap_or_else(|| "unknown".into());
    let repository = match (text(locked, "owner"), text(locked, "repo")) {
        (Some(owner), Some(repo)) => Some(format!("{owner}/{repo}")),
        _ => None,
    };
    let url = text(locked, "url").or_else(|| text(locked, "path"));
    LockedInput {
        name: name.to_string(),
        kind,
        repository,
        url,
        wanted_ref: text(original, "ref"),
        rev: text(locked, "rev"),
        last_modified: locked
            .and_then(|l| l.get("lastModified"))
            .and_then(Value::as_i64),
    }
}

/// `YYYY-MM-DD` of a Unix time in UTC (the proleptic Gregorian calendar).
fn utc_date(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    // Shift the epoch to 0000-03-01 so leap days end each 400-year era's years.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Where the pinned colmena comes from for this lock: the repository's
/// `colmena` input when it has one (and when there is no lock yet: new
/// repositories have one), else the pinned nixpkgs.
pub fn colmena_pin(lock: Option<&FlakeLock>) -> ColmenaPin {
    match lock {
        Some(lock) if lock.input("colmena").is_none() => ColmenaPin::Nixpkgs,
        _ => ColmenaPin::Input,
    }
}

/// How sure nixdeck is of a tool's version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Pinning {
    /// A revision in `flake.lock`: every run gets the same tool.
    Pinned,
    /// Whatever a registry, a branch head or PATH gives at run time.
    Unpinned,
}

/// One tool as a job will run it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ToolVersion {
    /// `nixos-anywhere` or `colmena`.
    pub tool: &'static str,
    pub source: ToolSource,
    pub pinning: Pinning,
    /// The flake input it comes from (`nixpkgs`, `colmena`), when pinned.
    pub input: Option<String>,
    /// The locked input, when pinned.
    pub locked: Option<LockedInput>,
    /// One line for people: "nixos-anywhere from nixpkgs 2025-06-01 (abc1234)".
    pub summary: String,
    /// What to know or do about it, when something is off.
    pub note: Option<String>,
}

/// What a lock file says, for [`tool_versions`].
#[derive(Debug, Clone, Copy)]
pub enum LockState<'a> {
    /// The repository has no `flake.lock` yet.
    Missing,
    Read(&'a FlakeLock),
}

/// Which nixos-anywhere and colmena the jobs of a repository run, given the
/// settings and what its `flake.lock` pins.
pub fn tool_versions(settings: &ToolSettings, lock: LockState<'_>) -> Vec<ToolVersion> {
    let source = settings.tool_source();
    let lock = match lock {
        LockState::Missing => None,
        LockState::Read(lock) => Some(lock),
    };
    match source {
        ToolSource::Path => ["nixos-anywhere", "colmena"]
            .into_iter()
            .map(|tool| ToolVersion {
                tool,
                source,
                pinning: Pinning::Unpinned,
                input: None,
                locked: None,
                summary: format!("{tool} found on PATH"),
                note: Some("its version is whatever PATH holds; flake.lock does not pin it".into()),
            })
            .collect(),
        ToolSource::Article => vec![
            ToolVersion {
                tool: "nixos-anywhere",
                source,
                pinning: Pinning::Unpinned,
                input: None,
                locked: None,
                summary: "nixos-anywhere from the nixpkgs of your nix registry".into(),
                note: Some(
                    "the article's command: it follows the registry, so it can change between runs; the pinned choice uses flake.lock's nixpkgs".into(),
                ),
            },
            ToolVersion {
                tool: "colmena",
                source,
                pinning: Pinning::Unpinned,
                input: None,
                locked: None,
                summary: format!("colmena from the head of {ARTICLE_COLMENA}"),
                note: Some(
                    "the article's command: the newest commit of a repository whose development moved to nix-community/colmena; the pinned choice uses flake.lock's colmena".into(),
                ),
            },
        ],
        ToolSource::Pinned => vec![
            pinned("nixos-anywhere", "nixpkgs", lock),
            match colmena_pin(lock) {
                ColmenaPin::Input => pinned("colmena", "colmena", lock),
                ColmenaPin::Nixpkgs => pinned("colmena", "nixpkgs", lock),
            },
        ],
    }
}

fn pinned(tool: &'static str, input: &str, lock: Option<&FlakeLock>) -> ToolVersion {
    let unpinned = |summary: String, note: String| ToolVersion {
        tool,
        source: ToolSource::Pinned,
        pinning: Pinning::Unpinned,
        input: Some(input.to_string()),
        locked: None,
        summary,
        note: Some(note),
    };
    let Some(lock) = lock else {
        return unpinned(
            format!("{tool} from the flake's {input} input, not locked yet"),
            "the repository has no flake.lock: nix would resolve the inputs afresh on every run; nixdeck locks the flake (`nix flake lock`) before it installs or deploys".into(),
        );
    };
    let Some(locked) = lock.input(input) else {
        return unpinned(
            format!("{tool} from the nixpkgs of your nix registry"),
            format!("flake.lock has no {input} input, so nothing pins {tool}; add a {input} input to flake.nix and run `nix flake lock`"),
        );
    };
    let from = if locked.name == "nixpkgs" {
        "nixpkgs".to_string()
    } else {
        locked.repository.clone().unwrap_or_else(|| locked.origin())
    };
    let note = (locked.repository.as_deref() == Some("zhaofengli/colmena")).then(|| {
        "colmena's development moved to nix-community/colmena; point the colmena input there (url = \"github:nix-community/colmena\") then update it (`nix flake lock --update-input colmena`)".to_string()
    });
    ToolVersion {
        tool,
        source: ToolSource::Pinned,
        pinning: Pinning::Pinned,
        input: Some(input.to_string()),
        summary: format!("{tool} from {from} {}", locked.version()),
        locked: Some(locked.clone()),
        note,
    }
}

#[cfg(test)]
mod tests;
