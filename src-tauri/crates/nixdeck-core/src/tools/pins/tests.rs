//! `flake.lock` reading on saved lock files (`tests/fixtures/locks/`) and the
//! tool descriptions built from them.

use super::*;
use crate::tools::plan::{ToolSettings, ToolSource};

const ARTICLE_LOCK: &str = include_str!("../../../../../../tests/fixtures/locks/article.lock");
const NO_COLMENA_LOCK: &str =
    include_str!("../../../../../../tests/fixtures/locks/no-colmena.lock");

fn settings(source: ToolSource) -> ToolSettings {
    ToolSettings {
        flakes_enabled: true,
        tools_from_path: false,
        source,
    }
}

#[test]
fn reads_the_root_inputs_of_the_articles_lock() {
    let lock = parse_flake_lock(ARTICLE_LOCK).unwrap();
    assert_eq!(
        lock.inputs.keys().collect::<Vec<_>>(),
        ["colmena", "disko", "nixpkgs"],
        "only the root's own inputs, not colmena's"
    );
    let nixpkgs = lock.input("nixpkgs").unwrap();
    assert_eq!(nixpkgs.kind, "github");
    assert_eq!(nixpkgs.repository.as_deref(), Some("NixOS/nixpkgs"));
    assert_eq!(nixpkgs.wanted_ref.as_deref(), Some("nixos-25.05"));
    assert_eq!(
        nixpkgs.rev.as_deref(),
        Some("3f0a8ac25fb674611b98089ca3a5dd6480175751")
    );
    assert_eq!(nixpkgs.short_rev(), Some("3f0a8ac"));
    assert_eq!(nixpkgs.date().as_deref(), Some("2025-05-28"));
    assert_eq!(nixpkgs.origin(), "github:NixOS/nixpkgs/nixos-25.05");
    let colmena = lock.input("colmena").unwrap();
    assert_eq!(colmena.repository.as_deref(), Some("zhaofengli/colmena"));
    assert_eq!(colmena.version(), "2025-04-02 (47b6414)");
    assert_eq!(colmena.origin(), "github:zhaofengli/colmena");
}

#[test]
fn follows_paths_lead_to_the_node_they_name() {
    let lock = parse_flake_lock(NO_COLMENA_LOCK).unwrap();
    // The root's nixpkgs follows disko's, which is node `nixpkgs_2`.
    let nixpkgs = lock.input("nixpkgs").unwrap();
    assert_eq!(nixpkgs.name, "nixpkgs");
    assert_eq!(
        nixpkgs.rev.as_deref(),
        Some("b9d43b3fe5152d1dc5783a2ba865b2a03388b741")
    );
    assert_eq!(nixpkgs.wanted_ref.as_deref(), Some("nixos-unstable"));
    assert!(lock.input("colmena").is_none());
}

#[test]
fn damaged_or_unknown_locks_are_refused_with_what_to_do() {
    let err = parse_flake_lock("{ not json").unwrap_err();
    assert!(matches!(err, LockError::Json(_)));
    assert!(err.to_string().contains("nix flake lock"), "{err}");
    assert_eq!(
        parse_flake_lock(r#"{"nodes":{"root":{}},"root":"root","version":4}"#),
        Err(LockError::Version(4))
    );
    let missing = r#"{"nodes":{"root":{"inputs":{"nixpkgs":"gone"}}},"root":"root","version":7}"#;
    assert!(matches!(
        parse_flake_lock(missing),
        Err(LockError::Shape(_))
    ));
    // a follows path that refers to itself
    let looping = r#"{"nodes":{"root":{"inputs":{"a":["a"]}}},"root":"root","version":7}"#;
    assert!(matches!(
        parse_flake_lock(looping),
        Err(LockError::Shape(_))
    ));
    // nix's own lock of a flake without inputs
    let empty = parse_flake_lock(r#"{"nodes":{"root":{}},"root":"root","version":7}"#).unwrap();
    assert!(empty.inputs.is_empty());
}

#[test]
fn utc_dates_across_leap_days_and_the_epoch() {
    for (secs, day) in [
        (0, "1970-01-01"),
        (-86_400, "1969-12-31"),
        (951_782_400, "2000-02-29"),
        (951_868_799, "2000-02-29"),
        (1_735_689_599, "2024-12-31"),
        (4_107_542_400, "2100-03-01"),
    ] {
        assert_eq!(utc_date(secs), day, "{secs}");
    }
}

#[test]
fn pinned_tools_name_the_locked_revisions() {
    let lock = parse_flake_lock(ARTICLE_LOCK).unwrap();
    let tools = tool_versions(&settings(ToolSource::Pinned), LockState::Read(&lock));
    assert_eq!(tools.len(), 2);
    assert_eq!(
        tools[0].summary,
        "nixos-anywhere from nixpkgs 2025-05-28 (3f0a8ac)"
    );
    assert_eq!(tools[0].pinning, Pinning::Pinned);
    assert_eq!(tools[0].note, None);
    assert_eq!(
        tools[1].summary,
        "colmena from zhaofengli/colmena 2025-04-02 (47b6414)"
    );
    assert_eq!(tools[1].input.as_deref(), Some("colmena"));
    // The article's colmena input is pinned, but to the repository colmena left.
    assert!(tools[1]
        .note
        .as_deref()
        .is_some_and(|n| n.contains("nix-community/colmena")));
    assert_eq!(colmena_pin(Some(&lock)), ColmenaPin::Input);
}

#[test]
fn without_a_colmena_input_colmena_comes_from_the_pinned_nixpkgs() {
    let lock = parse_flake_lock(NO_COLMENA_LOCK).unwrap();
    assert_eq!(colmena_pin(Some(&lock)), ColmenaPin::Nixpkgs);
    let tools = tool_versions(&settings(ToolSource::Pinned), LockState::Read(&lock));
    assert_eq!(
        tools[1].summary,
        "colmena from nixpkgs 2025-03-01 (b9d43b3)"
    );
    assert_eq!(tools[1].input.as_deref(), Some("nixpkgs"));
    assert_eq!(tools[1].pinning, Pinning::Pinned);
}

#[test]
fn without_a_lock_nothing_is_pinned_yet() {
    assert_eq!(colmena_pin(None), ColmenaPin::Input);
    let tools = tool_versions(&settings(ToolSource::Pinned), LockState::Missing);
    assert!(tools.iter().all(|t| t.pinning == Pinning::Unpinned));
    assert!(tools[0]
        .note
        .as_deref()
        .is_some_and(|n| n.contains("no flake.lock")));
}

#[test]
fn the_article_and_path_choices_say_they_are_unpinned() {
    let lock = parse_flake_lock(ARTICLE_LOCK).unwrap();
    let article = tool_versions(&settings(ToolSource::Article), LockState::Read(&lock));
    assert!(article.iter().all(|t| t.pinning == Pinning::Unpinned
        && t.locked.is_none()
        && t.source == ToolSource::Article));
    assert!(article[1].summary.contains("github:zhaofengli/colmena"));
    let path = ToolSettings {
        tools_from_path: true,
        ..settings(ToolSource::Pinned)
    };
    let path = tool_versions(&path, LockState::Read(&lock));
    assert_eq!(path[0].summary, "nixos-anywhere found on PATH");
    assert!(path.iter().all(|t| t.source == ToolSource::Path));
}
