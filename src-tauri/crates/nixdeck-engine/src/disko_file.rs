//! Loading a `disko.nix` (or an already evaluated `.json`) into nixdeck's layout
//! model, with the local `nix-instantiate`.
//!
//! A disko file is a plain attribute set, a NixOS module (`{ lib, ... }: { disko.devices
//! = …; }`) or the bare devices set. Functions get the arguments a module gets
//! (`lib`, `config`, `options`, `pkgs`, `modulesPath`, and `disko`/`diskoLib`/`inputs`
//! as empty sets); only `disko.devices` is evaluated, so the rest of a module may
//! refer to things that do not exist here. `lib` is nixpkgs' `lib` when a nixpkgs
//! is known ([`LoadOptions::for_file`] finds the one the enclosing `flake.lock` pins,
//! if it is in the store) or `NIX_PATH` has `nixpkgs=<folder>`; otherwise nixdeck's small
//! built-in `lib` (see [`BUILTIN_LIB_NAMES`]). `mkDefault`, `mkForce`, `mkIf`,
//! `mkMerge` and `mkOrder` are resolved the way the module system would for a
//! single definition: overrides and orders unwrapped, a false `mkIf` drops the
//! option, a merge combines its parts.
//!
//! A disko file comes from a repository, so it is evaluated in Nix's restricted
//! mode ([`crate::nix_eval::Restricted`]): it may read only its repository (the
//! folder of the nearest `flake.nix` above it, else its own folder) and the nixpkgs
//! whose `lib` it gets, cannot fetch, and is stopped after [`DISKO_EVAL_TIMEOUT`].

use crate::nix_eval::{eval_restricted_json, EvalError, Restricted};
use nixdeck_core::disko::{self, DiskLayout, LayoutError};
use nixdeck_core::nix::quote_string;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;
use thiserror::Error;

/// How long evaluating one `disko.nix` may take; a batch gets this per file.
pub const DISKO_EVAL_TIMEOUT: Duration = Duration::from_secs(20);

/// Where `lib` comes from when a file is a function.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// A nixpkgs source tree (e.g. the flake's locked nixpkgs in the store); its
    /// `lib` is used. Without it: the `nixpkgs=<folder>` of `NIX_PATH`, else
    /// the built-in subset.
    pub nixpkgs: Option<PathBuf>,
}

impl LoadOptions {
    /// Options for loading `file`: the nixpkgs pinned by the nearest `flake.lock` above
    /// it, when that nixpkgs is in the local Nix store.
    pub fn for_file(file: &Path) -> Self {
        let start = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
        let nixpkgs = start
            .ancestors()
            .skip(1)
            .find(|dir| dir.join("flake.lock").is_file())
            .and_then(locked_nixpkgs);
        Self { nixpkgs }
    }
}

/// The nixpkgs source that `flake_dir/flake.lock` pins, if it is in `/nix/store`.
/// Follows `inputs.nixpkgs` of the root (a node name, or a `follows` path).
pub fn locked_nixpkgs(flake_dir: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(flake_dir.join("flake.lock")).ok()?;
    let lock: Value = serde_json::from_str(&text).ok()?;
    let nodes = lock.get("nodes")?;
    let root = nodes.get(lock.get("root")?.as_str()?)?;
    let node = resolve_input(nodes, root, root.get("inputs")?.get("nixpkgs")?, 0)?;
    let nar_hash = node.get("locked")?.get("narHash")?.as_str()?;
    let path = PathBuf::from(source_store_path(nar_hash)?);
    path.join("lib").is_dir().then_some(path)
}

/// The lock node an input refers to: a node name, or a path of input names
/// from the root (`follows`).
fn resolve_input<'a>(
    nodes: &'a Value,
    root: &'a Value,
    input: &'a Value,
    depth: usize,
) -> Option<&'a Value> {
    if depth > 16 {
        return None;
    }
    match input {
        Value::String(name) => nodes.get(name),
        Value::Array(path) => {
            let mut node = root;
            for step in path {
                let next = node.get("inputs")?.get(step.as_str()?)?;
                node = resolve_input(nodes, root, next, depth + 1)?;
            }
            Some(node)
        }
        _ => None,
    }
}

/// The store path Nix gives a flake input's source (`/nix/store/<hash>-source`),
/// computed from its NAR hash (`sha256-<base64>`) as Nix's
/// `makeFixedOutputPath` does for recursive SHA-256 hashes.
fn source_store_path(nar_hash: &str) -> Option<String> {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let digest = base64::engine::general_purpose::STANDARD
        .decode(nar_hash.strip_prefix("sha256-")?)
        .ok()?;
    if digest.len() != 32 {
        return None;
    }
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let fingerprint = format!("source:sha256:{hex}:/nix/store:source");
    let full = Sha256::digest(fingerprint.as_bytes());
    let mut short = [0u8; 20];
    for (i, byte) in full.iter().enumerate() {
        short[i % 20] ^= byte;
    }
    Some(format!("/nix/store/{}-source", nix_base32(&short)))
}

/// Nix's base-32 (its own alphabet, least significant bits first).
fn nix_base32(bytes: &[u8]) -> String {
    const CHARS: &[u8] = b"0123456789abcdfghijklmnpqrsvwxyz";
    let len = (bytes.len() * 8).div_ceil(5);
    (0..len)
        .rev()
        .map(|n| {
            let bit = n * 5;
            let (i, j) = (bit / 8, bit % 8);
            let low = u16::from(bytes[i]) >> j;
            let high = if i + 1 < bytes.len() {
                u16::from(bytes[i + 1]) << (8 - j)
            } else {
                0
            };
            CHARS[((low | high) & 0x1f) as usize] as char
        })
        .collect()
}

/// The functions of nixdeck's built-in `lib`, used when no nixpkgs is available.
pub const BUILTIN_LIB_NAMES: &[&str] = &[
    "genAttrs",
    "mkDefault",
    "mkForce",
    "mkOverride",
    "mkIf",
    "mkMerge",
    "mkBefore",
    "mkAfter",
    "mkOrder",
    "optionalAttrs",
    "optional",
    "optionals",
    "optionalString",
    "mapAttrs",
    "mapAttrs'",
    "mapAttrsToList",
    "filterAttrs",
    "nameValuePair",
    "listToAttrs",
    "attrNames",
    "attrValues",
    "recursiveUpdate",
    "foldl'",
    "foldl",
    "foldr",
    "imap0",
    "imap1",
    "range",
    "flatten",
    "concatMap",
    "concatLists",
    "concatStrings",
    "concatStringsSep",
    "concatMapStrings",
    "concatMapStringsSep",
    "hasPrefix",
    "hasSuffix",
    "removePrefix",
    "removeSuffix",
    "replaceStrings",
    "elem",
    "filter",
    "head",
    "tail",
    "last",
    "length",
    "elemAt",
    "genList",
    "toString",
    "stringLength",
    "substring",
    "id",
    "const",
];

/// Why a layout file could not be loaded. Every message starts with the file.
#[derive(Debug, Error)]
pub enum DiskoFileError {
    /// The file could not be read.
    #[error("{file}: cannot read it: {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// `nix-instantiate` is not installed.
    #[error("{file}: cannot evaluate it: `nix-instantiate` was not found; install Nix (Debian: `apt install nix-bin`)")]
    NixMissing { file: String },
    /// Nix could not evaluate the file, or it was stopped (time, output, an access
    /// outside its repository).
    #[error("{file}: Nix could not evaluate `disko.devices`:\n{message}")]
    Eval { file: String, message: String },
    /// The file evaluated, but not to a disko layout.
    #[error("{file}: {source}")]
    Layout {
        file: String,
        #[source]
        source: LayoutError,
    },
}

/// Loads a layout from `path`: a `.json` file is read as evaluated JSON or nixdeck's
/// JSON model, anything else is evaluated as a `disko.nix`, its names kept in the
/// order the file writes them.
pub async fn load(path: &Path, options: &LoadOptions) -> Result<DiskLayout, DiskoFileError> {
    let file = path.display().to_string();
    let value = if path.extension().is_some_and(|e| e == "json") {
        let text =
            tokio::fs::read_to_string(path)
                .await
                .map_err(|source| DiskoFileError::Read {
                    file: file.clone(),
                    source,
                })?;
        serde_json::from_str(&text).map_err(|e| DiskoFileError::Layout {
            file: file.clone(),
            source: LayoutError::NotALayout(format!("the file is not JSON: {e}")),
        })?
    } else {
        let mut value = evaluate_devices(path, options).await?;
        // Nix returns names sorted; put them back in the order the file writes them.
        if let Ok(source) = tokio::fs::read_to_string(path).await {
            disko::order_like_source(&mut value, &source);
        }
        value
    };
    disko::from_json(&value).map_err(|source| DiskoFileError::Layout { file, source })
}

/// The evaluated `disko.devices` of the `disko.nix` at `path`, as JSON.
pub async fn evaluate_devices(path: &Path, options: &LoadOptions) -> Result<Value, DiskoFileError> {
    let mut values = evaluate_devices_many(&[path], options).await?;
    Ok(values.pop().unwrap_or(Value::Null))
}

/// The evaluated `disko.devices` of several files in one `nix-instantiate` run
/// (evaluation starts are slow; tests check hundreds of layouts at once).
pub async fn evaluate_devices_many(
    paths: &[&Path],
    options: &LoadOptions,
) -> Result<Vec<Value>, DiskoFileError> {
    let per_file = u32::try_from(paths.len().max(1)).unwrap_or(u32::MAX);
    evaluate_devices_limited(paths, options, DISKO_EVAL_TIMEOUT.saturating_mul(per_file)).await
}

/// The folder a disko file may read: its repository (nearest ancestor holding a
/// `flake.nix`), or its own folder when it is in none.
fn readable_root(file: &Path) -> PathBuf {
    let dir = file.parent().unwrap_or(Path::new("/"));
    dir.ancestors()
        .find(|d| d.join("flake.nix").is_file())
        .unwrap_or(dir)
        .to_path_buf()
}

/// `nixpkgs=<folder>` of `NIX_PATH`, when it names a local folder: restricted mode
/// hides the search path, so nixdeck passes that nixpkgs explicitly.
fn nixpkgs_from_nix_path() -> Option<PathBuf> {
    let nix_path = std::env::var("NIX_PATH").ok()?;
    nix_path.split(':').find_map(|entry| {
        let dir = Path::new(entry.strip_prefix("nixpkgs=")?);
        let dir = std::fs::canonicalize(dir).ok()?;
        dir.join("lib").is_dir().then_some(dir)
    })
}

/// [`evaluate_devices_many`] stopped after `timeout`.
pub async fn evaluate_devices_limited(
    paths: &[&Path],
    options: &LoadOptions,
    timeout: Duration,
) -> Result<Vec<Value>, DiskoFileError> {
    let options = &LoadOptions {
        nixpkgs: options
            .nixpkgs
            .as_ref()
            .map(|d| std::fs::canonicalize(d).unwrap_or_else(|_| d.clone()))
            .or_else(nixpkgs_from_nix_path),
    };
    let file = match paths {
        [one] => one.display().to_string(),
        _ => format!("{} files", paths.len()),
    };
    let mut absolute = Vec::with_capacity(paths.len());
    for path in paths {
        let abs = std::path::absolute(path).map_err(|source| DiskoFileError::Read {
            file: path.display().to_string(),
            source,
        })?;
        if !abs.is_file() {
            return Err(DiskoFileError::Read {
                file: path.display().to_string(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
            });
        }
        // Real paths: restricted mode compares them after resolving symlinks.
        absolute.push(std::fs::canonicalize(&abs).unwrap_or(abs));
    }
    let mut readable: Vec<PathBuf> = absolute.iter().map(|p| readable_root(p)).collect();
    readable.sort();
    readable.dedup();
    readable.extend(options.nixpkgs.iter().cloned());
    let cwd = readable
        .first()
        .cloned()
        .unwrap_or_else(|| PathBuf::from("/"));
    let limits = Restricted {
        timeout,
        ..Restricted::new(readable)
    };
    let expr = expression(&absolute, options);
    let value = eval_restricted_json(&expr, &[], &cwd, &limits, &file)
        .await
        .map_err(|e| match e {
            EvalError::NixMissing => DiskoFileError::NixMissing { file: file.clone() },
            EvalError::Failed { stderr, .. } => DiskoFileError::Eval {
                file: file.clone(),
                message: explain(&stderr, options),
            },
            other => DiskoFileError::Eval {
                file: file.clone(),
                message: other.to_string(),
            },
        })?;
    match value {
        Value::Array(items) if items.len() == paths.len() => Ok(items),
        _ => Err(DiskoFileError::Eval {
            file,
            message: "nix-instantiate returned an unexpected value".into(),
        }),
    }
}

/// Adds what to do to Nix's message when the built-in `lib` lacked something.
fn explain(stderr: &str, options: &LoadOptions) -> String {
    let mut message = stderr.to_string();
    if options.nixpkgs.is_none() && stderr.contains("attribute '") && stderr.contains("missing") {
        message.push_str(&format!(
            "\n\nIf the missing attribute is a `lib` function: without nixpkgs nixdeck \
             evaluates with a small built-in lib ({}). Put nixpkgs on NIX_PATH \
             (NIX_PATH=nixpkgs=/path/to/nixpkgs) or open the file in a flake whose nixpkgs \
             is in the Nix store.",
            BUILTIN_LIB_NAMES.join(", ")
        ));
    }
    if stderr.contains("called without required argument") {
        message.push_str(
            "\n\nThe file is a function that wants an argument nixdeck does not pass \
             (it passes lib, config, options, pkgs, modulesPath, disko, diskoLib, inputs): \
             give that argument a default (`{ disks ? [ \"/dev/sda\" ], ... }:`).",
        );
    }
    message
}

/// The Nix expression that loads each file and yields its `disko.devices`.
fn expression(paths: &[PathBuf], options: &LoadOptions) -> String {
    let lib = match &options.nixpkgs {
        Some(dir) => format!(
            "import ({} + \"/lib\")",
            quote_string(&dir.display().to_string())
        ),
        None => "builtinLib".to_string(),
    };
    let files: Vec<String> = paths
        .iter()
        .map(|p| format!("(load {})", quote_string(&p.display().to_string())))
        .collect();
    format!(
        "let\n{BUILTIN_LIB}\n  lib = {lib};\n{LOADER}\nin [ {} ]\n",
        files.join(" ")
    )
}

const BUILTIN_LIB: &str = r#"  builtinLib = rec {
    mkOverride = priority: content: { _type = "override"; inherit priority content; };
    mkDefault = mkOverride 1000;
    mkForce = mkOverride 50;
    mkIf = condition: content: { _type = "if"; inherit condition content; };
    mkMerge = contents: { _type = "merge"; inherit contents; };
    mkOrder = priority: content: { _type = "order"; inherit priority content; };
    mkBefore = mkOrder 500;
    mkAfter = mkOrder 1500;
    id = x: x;
    const = x: _: x;
    optionalAttrs = c: a: if c then a else { };
    optional = c: x: if c then [ x ] else [ ];
    optionals = c: l: if c then l else [ ];
    optionalString = c: s: if c then s else "";
    inherit (builtins) mapAttrs listToAttrs attrNames attrValues filter head tail length
      elemAt genList toString concatLists concatMap concatStringsSep replaceStrings elem
      stringLength substring;
    "foldl'" = builtins.foldl';
    foldl = builtins.foldl';
    foldr = op: nul: list: builtins.foldl' (acc: x: op x acc) nul (reverseList list);
    reverseList = l: genList (i: elemAt l (length l - i - 1)) (length l);
    last = l: elemAt l (length l - 1);
    nameValuePair = name: value: { inherit name value; };
    genAttrs = names: f: listToAttrs (map (n: nameValuePair n (f n)) names);
    "mapAttrs'" = f: set: listToAttrs (map (n: f n set.${n}) (attrNames set));
    mapAttrsToList = f: set: map (n: f n set.${n}) (attrNames set);
    filterAttrs = pred: set: listToAttrs (concatMap
      (n: if pred n set.${n} then [ (nameValuePair n set.${n}) ] else [ ]) (attrNames set));
    recursiveUpdate = a: b: a // mapAttrs
      (n: v: if builtins.isAttrs v && builtins.isAttrs (a.${n} or null)
        then recursiveUpdate a.${n} v else v) b;
    imap0 = f: l: genList (i: f i (elemAt l i)) (length l);
    imap1 = f: l: genList (i: f (i + 1) (elemAt l i)) (length l);
    range = a: b: if b < a then [ ] else genList (i: a + i) (b - a + 1);
    flatten = x: if builtins.isList x then concatMap flatten x else [ x ];
    concatStrings = concatStringsSep "";
    concatMapStrings = f: l: concatStrings (map f l);
    concatMapStringsSep = sep: f: l: concatStringsSep sep (map f l);
    hasPrefix = p: s: substring 0 (stringLength p) s == p;
    hasSuffix = p: s: let n = stringLength s; m = stringLength p; in
      n >= m && substring (n - m) m s == p;
    removePrefix = p: s: if hasPrefix p s
      then substring (stringLength p) (stringLength s - stringLength p) s else s;
    removeSuffix = p: s: if hasSuffix p s
      then substring 0 (stringLength s - stringLength p) s else s;
  };"#;

const LOADER: &str = r#"  notHere = what: throw "nixdeck evaluates disko.nix on its own: `${what}` is not available here; keep disko.devices independent of it";
  args = {
    inherit lib;
    config = notHere "config";
    options = notHere "options";
    pkgs = notHere "pkgs";
    modulesPath = notHere "modulesPath";
    disko = { };
    diskoLib = { };
    inputs = { };
  };
  call = f:
    if builtins.isFunction f then
      (let fa = builtins.functionArgs f; in
        if fa == { } then f args else f (builtins.intersectAttrs fa args))
    else f;
  isFalseIf = v: builtins.isAttrs v && (v._type or null) == "if" && !(resolve v.condition);
  resolve = v:
    if builtins.isAttrs v then
      let t = v._type or null; in
      if t == "override" || t == "order" then resolve v.content
      else if t == "if" then (if resolve v.condition then resolve v.content else { })
      else if t == "merge" then
        builtins.foldl' (a: b: builtinLib.recursiveUpdate a b) { }
          (map resolve (builtins.filter (x: !(isFalseIf x)) v.contents))
      else builtins.mapAttrs (_: resolve)
        (builtinLib.filterAttrs (_: x: !(isFalseIf x)) v)
    else if builtins.isList v then map resolve v
    else v;
  # Only `disko.devices` is resolved deeply: the rest of a module may use `pkgs`.
  shallow = v: if builtins.isAttrs v && (v._type or null) != null then resolve v else v;
  load = file:
    let top = shallow (call (import file)); in
    if top ? disko then
      resolve ((shallow top.disko).devices or (throw "${file}: `disko` has no `devices`"))
    else resolve top;"#;

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use std::process::Command;

    fn run(args: &[&str]) -> String {
        let out = Command::new(args[0])
            .args(&args[1..])
            .env("NIX_REMOTE", "")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    #[test]
    fn source_store_paths_match_nix() {
        let dir = tempfile::tempdir().unwrap();
        for (i, content) in ["{ }", "{ a = 1; }"].iter().enumerate() {
            let src = dir.path().join(format!("src{i}"));
            std::fs::create_dir_all(src.join("lib")).unwrap();
            std::fs::write(src.join("lib/default.nix"), content).unwrap();
            let hex = run(&["nix-hash", "--type", "sha256", src.to_str().unwrap()]);
            let bytes: Vec<u8> = (0..hex.len())
                .step_by(2)
                .map(|k| u8::from_str_radix(&hex[k..k + 2], 16).unwrap())
                .collect();
            let sri = format!(
                "sha256-{}",
                base64::engine::general_purpose::STANDARD.encode(&bytes)
            );
            let expected = run(&[
                "nix-store",
                "--print-fixed-path",
                "--recursive",
                "sha256",
                &hex,
                "source",
            ]);
            assert_eq!(source_store_path(&sri).as_deref(), Some(expected.as_str()));
        }
        assert_eq!(source_store_path("sha256-short"), None);
    }

    #[test]
    fn flake_locks_lead_to_nixpkgs_only_when_it_is_in_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let lock = serde_json::json!({
            "nodes": {
                "root": { "inputs": { "nixpkgs": "nixpkgs", "disko": "disko", "np2": ["disko", "nixpkgs"] } },
                "disko": { "inputs": { "nixpkgs": ["nixpkgs"] } },
                "nixpkgs": { "locked": { "narHash": "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" } }
            },
            "root": "root",
            "version": 7
        });
        std::fs::write(dir.path().join("flake.lock"), lock.to_string()).unwrap();
        let nodes = &lock["nodes"];
        let root = &nodes["root"];
        let via_follows = resolve_input(nodes, root, &root["inputs"]["np2"], 0).unwrap();
        assert_eq!(via_follows, &nodes["nixpkgs"]);
        // The computed path is not in this machine's store: no nixpkgs, the built-in lib is used.
        assert_eq!(locked_nixpkgs(dir.path()), None);
        let file = dir.path().join("hosts/web/disko.nix");
        assert_eq!(LoadOptions::for_file(&file).nixpkgs, None);
    }
}
