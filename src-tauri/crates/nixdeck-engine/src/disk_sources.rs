//! Every file of a host's configuration that defines `disko.devices`, and the disks
//! each one formats: an install erases all of them, not only `hosts/<host>/disko.nix`.
//!
//! nixdeck cannot evaluate a whole NixOS configuration here (it needs nixpkgs and the
//! flake's inputs, and nixdeck evaluates repository files without network). So the
//! files are found by following the imports written in the files' text from the
//! host's roots (`hosts/<host>/configuration.nix` or `default.nix`, its `disko.nix`,
//! and `flake.nix`, whose paths into other hosts' folders are not followed), and
//! each file whose text defines disk devices has its own `disko.devices` evaluated
//! with [`disko_file::load`] (restricted mode, no network, only the repository
//! readable). A file that cannot be evaluated on its own is listed with why, so the
//! review can say which disks nixdeck could not check.

use crate::disko_file::{self, LoadOptions};
use nixdeck_core::disko::{layout_needs, DiskLayout};
use nixdeck_core::preflight::LayoutNeeds;
use serde::Serialize;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Files larger than this are not configuration a person wrote.
const MAX_FILE: u64 = 1 << 20;
/// How many files the import walk reads at most.
const MAX_FILES: usize = 500;

/// A file that defines disk devices, and what came of evaluating it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct DiskSource {
    /// Repository-relative path.
    pub file: String,
    /// The disk devices it formats (`disko.devices.disk.<n>.device`); empty when
    /// it could not be evaluated.
    pub disks: Vec<String>,
    /// Why its `disko.devices` could not be evaluated here; `None`: evaluated.
    pub error: Option<String>,
}

/// The disk devices of a host's configuration, file by file.
#[derive(Debug, Clone, Default)]
pub struct HostDisks {
    /// `hosts/<host>/disko.nix` first, then every other file that defines devices.
    pub sources: Vec<DiskSource>,
    /// What the layouts that could be evaluated ask of the machine, together.
    pub needs: LayoutNeeds,
}

impl HostDisks {
    /// The files that define devices but could not be evaluated, with why.
    pub fn unevaluated(&self) -> impl Iterator<Item = &DiskSource> {
        self.sources.iter().filter(|s| s.error.is_some())
    }
}

fn merge(into: &mut LayoutNeeds, more: LayoutNeeds) {
    into.esp |= more.esp;
    into.bios_boot |= more.bios_boot;
    into.gpt |= more.gpt;
    for disk in more.disks {
        if !into.disks.contains(&disk) {
            into.disks.push(disk);
        }
    }
}

/// Whether `text` (a Nix file) defines disko devices: `disko.devices` written
/// as a path, or a `devices` set under a `disko` attribute.
pub fn defines_devices(text: &str) -> bool {
    let compact: String = without_comments(text).split_whitespace().collect();
    compact.contains("disko.devices")
        || (compact.contains("disko={") && compact.contains("devices"))
        || compact.contains("disko.devices=")
}

/// `text` without Nix comments (`# …` to the end of the line, `/* … */`), so a
/// comment that mentions `disko.devices` does not count as defining devices.
fn without_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("/*") {
        out.push_str(&rest[..at]);
        rest = rest[at + 2..]
            .find("*/")
            .map_or("", |end| &rest[at + 2 + end + 2..]);
    }
    out.push_str(rest);
    out.lines()
        .map(|line| {
            let cut = line
                .char_indices()
                .find(|&(i, c)| c == '#' && (i == 0 || line[..i].ends_with(char::is_whitespace)))
                .map_or(line.len(), |(i, _)| i);
            &line[..cut]
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The path literals (`./x.nix`, `../modules`) written in `text`.
fn path_literals(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let starts = bytes[i] == b'.'
            && (i == 0 || !is_path_byte(bytes[i - 1]))
            && (text[i..].starts_with("./") || text[i..].starts_with("../"));
        if starts {
            let end = text[i..]
                .bytes()
                .position(|b| !is_path_byte(b))
                .map_or(bytes.len(), |n| i + n);
            out.push(text[i..end].to_string());
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

fn is_path_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'/' | b'_' | b'-' | b'+')
}

/// The `.nix` files reached from `host`'s roots by the imports written in them,
/// repository-relative, in the order found. Paths leaving the repository and
/// paths into other hosts' folders are not followed.
pub fn host_files(repo: &Path, host: &str) -> Vec<(PathBuf, String)> {
    let Ok(root) = std::fs::canonicalize(repo) else {
        return Vec::new();
    };
    let hosts = root.join("hosts");
    let own = hosts.join(host);
    let mut queue: Vec<PathBuf> = ["disko.nix", "configuration.nix", "default.nix"]
        .iter()
        .map(|f| own.join(f))
        .chain([root.join("flake.nix")])
        .collect();
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    while let Some(next) = (!queue.is_empty()).then(|| queue.remove(0)) {
        if out.len() >= MAX_FILES {
            break;
        }
        let Ok(mut path) = std::fs::canonicalize(&next) else {
            continue;
        };
        if path.is_dir() {
            path = path.join("default.nix");
        }
        let inside = path.starts_with(&root)
            && (!path.starts_with(&hosts) || path.starts_with(&own) || path == hosts);
        if !inside || !seen.insert(path.clone()) {
            continue;
        }
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if !meta.is_file() || meta.len() > MAX_FILE {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let dir = path.parent().unwrap_or(&root).to_path_buf();
        for literal in path_literals(&without_comments(&text)) {
            let target = dir.join(&literal);
            let is_nix = target.extension().is_some_and(|e| e == "nix") || target.is_dir();
            if is_nix {
                queue.push(target);
            }
        }
        out.push((path, text));
    }
    out
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

/// Every file of `host`'s configuration that defines disk devices, each evaluated
/// on its own. `main` is the host's `disko.nix` as already loaded (it comes first).
pub async fn host_disks(repo: &Path, host: &str, main: &DiskLayout) -> HostDisks {
    let root = std::fs::canonicalize(repo).unwrap_or_else(|_| repo.to_path_buf());
    let main_path = root.join("hosts").join(host).join("disko.nix");
    let main_needs = layout_needs(main);
    let mut out = HostDisks {
        sources: vec![DiskSource {
            file: relative(&root, &main_path),
            disks: main_needs.disks.clone(),
            error: None,
        }],
        needs: main_needs,
    };
    for (path, text) in host_files(repo, host) {
        if path == main_path || !defines_devices(&text) {
            continue;
        }
        let file = relative(&root, &path);
        match disko_file::load(&path, &LoadOptions::for_file(&path)).await {
            Ok(layout) => {
                let needs = layout_needs(&layout);
                if needs.disks.is_empty() {
                    // Devices other than disks (a tmpfs, a pool on disks named elsewhere).
                    continue;
                }
                out.sources.push(DiskSource {
                    file,
                    disks: needs.disks.clone(),
                    error: None,
                });
                merge(&mut out.needs, needs);
            }
            Err(e) => out.sources.push(DiskSource {
                file,
                disks: Vec::new(),
                error: Some(first_lines(&e.to_string())),
            }),
        }
    }
    out
}

/// An evaluation error cut to what fits a review line.
fn first_lines(text: &str) -> String {
    let short: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(3)
        .collect();
    let mut s = short.join(" ");
    if s.chars().count() > 400 {
        s = s.chars().take(400).collect::<String>() + "…";
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_are_found_in_either_spelling() {
        assert!(defines_devices("{ disko.devices.disk.data = { }; }"));
        assert!(defines_devices(
            "{ disko = {\n  devices = { disk.x = { }; };\n}; }"
        ));
        assert!(!defines_devices("{ imports = [ ./disko.nix ]; }"));
        assert!(!defines_devices(
            "{\n  # disko.devices live in ./disko.nix\n  /* disko.devices = x; */ imports = [ ./disko.nix ];\n}"
        ));
    }

    #[test]
    fn imports_are_followed_inside_the_repository_only() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("hosts/web")).unwrap();
        std::fs::create_dir_all(root.join("hosts/db")).unwrap();
        std::fs::create_dir_all(root.join("modules/disks")).unwrap();
        std::fs::write(
            root.join("flake.nix"),
            "{ outputs = _: { a = ./hosts/web/configuration.nix; b = ./hosts/db/configuration.nix; c = ./modules/common.nix; }; }",
        )
        .unwrap();
        std::fs::write(
            root.join("hosts/web/configuration.nix"),
            "{ imports = [ ./disko.nix ../../modules/disks ../../../outside.nix ]; }",
        )
        .unwrap();
        std::fs::write(root.join("hosts/web/disko.nix"), "{ }").unwrap();
        std::fs::write(root.join("hosts/db/configuration.nix"), "{ }").unwrap();
        std::fs::write(root.join("modules/common.nix"), "{ }").unwrap();
        std::fs::write(root.join("modules/disks/default.nix"), "{ }").unwrap();
        let real = std::fs::canonicalize(root).unwrap();
        let files: Vec<String> = host_files(root, "web")
            .iter()
            .map(|(p, _)| relative(&real, p))
            .collect();
        assert!(
            files.contains(&"modules/disks/default.nix".to_string()),
            "{files:?}"
        );
        assert!(
            files.contains(&"modules/common.nix".to_string()),
            "{files:?}"
        );
        assert!(
            !files.iter().any(|f| f.starts_with("hosts/db")),
            "{files:?}"
        );
        assert!(!files.iter().any(|f| f.contains("outside")), "{files:?}");
    }
}
