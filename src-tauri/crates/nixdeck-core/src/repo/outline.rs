//! Reading what a flake declares without building it and without network: its
//! `flake.nix` is imported by `nix-instantiate` and its `outputs` function called
//! with stand-in inputs (a small `nixpkgs.lib`, `lib.nixosSystem` and
//! `colmena.lib.makeHive` returning their arguments). Nix is lazy, so only what
//! nixdeck asks for is evaluated: the names of `nixosConfigurations` and `colmena`
//! nodes, each host's `system` and the non-secret `deployment` fields.
//!
//! Anything a flake needs beyond the stand-ins (an extra input's library, a
//! nixpkgs function the stand-in lacks) makes that one question fail; nixdeck then
//! shows the host's deployment as unreadable and leaves it alone.

use serde::Deserialize;
use std::collections::BTreeMap;

/// `lib.nix` of the stand-in nixpkgs: the functions flakes commonly call while
/// building their outputs, with `nixosSystem` returning its arguments.
pub const STAND_IN_LIB: &str = r#"
let
  lib = rec {
    inherit (builtins) attrNames attrValues elem filter foldl' head tail length listToAttrs
      mapAttrs hasAttr getAttr isAttrs isList isFunction isString toString concatMap
      concatStringsSep replaceStrings substring stringLength genList readDir pathExists;
    id = x: x;
    const = x: _: x;
    flip = f: a: b: f b a;
    pipe = builtins.foldl' (x: f: f x);
    nameValuePair = name: value: { inherit name value; };
    genAttrs = names: f: builtins.listToAttrs (map (n: nameValuePair n (f n)) names);
    mapAttrs' = f: set: builtins.listToAttrs (map (n: f n set.${n}) (builtins.attrNames set));
    mapAttrsToList = f: set: map (n: f n set.${n}) (builtins.attrNames set);
    filterAttrs = pred: set: builtins.listToAttrs (builtins.concatMap
      (n: if pred n set.${n} then [ (nameValuePair n set.${n}) ] else [ ]) (builtins.attrNames set));
    optional = cond: x: if cond then [ x ] else [ ];
    optionals = cond: xs: if cond then xs else [ ];
    optionalAttrs = cond: set: if cond then set else { };
    optionalString = cond: s: if cond then s else "";
    flatten = x: if builtins.isList x then builtins.concatMap flatten x else [ x ];
    unique = builtins.foldl' (acc: x: if builtins.elem x acc then acc else acc ++ [ x ]) [ ];
    hasPrefix = p: s: builtins.substring 0 (builtins.stringLength p) s == p;
    hasSuffix = p: s: let l = builtins.stringLength s; pl = builtins.stringLength p;
      in l >= pl && builtins.substring (l - pl) pl s == p;
    removeSuffix = p: s: if hasSuffix p s
      then builtins.substring 0 (builtins.stringLength s - builtins.stringLength p) s else s;
    removePrefix = p: s: if hasPrefix p s
      then builtins.substring (builtins.stringLength p) (builtins.stringLength s) s else s;
    recursiveUpdate = a: b: a // builtins.mapAttrs (n: v:
      if builtins.isAttrs v && builtins.isAttrs (a.${n} or null) then recursiveUpdate a.${n} v else v) b;
    foldr = op: nul: list: builtins.foldl' (acc: x: op x acc) nul (lib.reverseList list);
    reverseList = xs: builtins.genList (i: builtins.elemAt xs (builtins.length xs - 1 - i)) (builtins.length xs);
    fix = f: let x = f x; in x;
    mkDefault = x: x;
    mkForce = x: x;
    mkOverride = _: x: x;
    mkIf = cond: x: if cond then x else { };
    mkMerge = builtins.foldl' recursiveUpdate { };
    nixosSystem = args: args;
    systems.flakeExposed = [ "x86_64-linux" "aarch64-linux" ];
  };
in
lib
"#;

/// `default.nix` of the stand-in nixpkgs: `import nixpkgs { system = …; }` gives a
/// package set holding only `lib` and the system.
pub const STAND_IN_NIXPKGS: &str = r#"{ system ? "x86_64-linux", ... }:
{
  lib = import ./lib.nix;
  inherit system;
  stdenv.hostPlatform.system = system;
}
"#;

/// The expression nixdeck evaluates in a repository's root (relative paths resolve
/// there). Arguments: `nixpkgsDir` (string, the stand-in nixpkgs directory),
/// `part` (`"outline"` or `"details"`) and `only` (host names for `details`, empty: all).
pub const OUTLINE_EXPR: &str = r#"
{ nixpkgsDir, part, only ? [ ] }:
let
  flake = import ./flake.nix;
  lib = import (nixpkgsDir + "/lib.nix");
  inputNames = builtins.attrNames (flake.inputs or { });
  standInPkgs = import nixpkgsDir { };
  standIn = name: {
    outPath = nixpkgsDir;
    lib = lib // { makeHive = hive: hive; };
    nixosModules = { };
    overlays = { };
    packages = { };
  };
  inputs = builtins.listToAttrs (map (n: { name = n; value = standIn n; }) inputNames);
  self = outputs // { outPath = ./.; inherit inputs outputs; };
  outputs = flake.outputs (inputs // { inherit self; });
  colmena = outputs.colmena or { };
  nodeNames = builtins.filter (n: n != "meta" && n != "defaults") (builtins.attrNames colmena);
  nixosNames = builtins.attrNames (outputs.nixosConfigurations or { });
  nodeArgs = name: { inherit name lib; nodes = { }; pkgs = standInPkgs; config = { }; options = { }; modulesPath = ""; };
  callNode = name: v:
    if builtins.isFunction v then
      v (if builtins.functionArgs v == { } then nodeArgs name
         else builtins.intersectAttrs (builtins.functionArgs v) (nodeArgs name))
    else v;
  deploymentOf = name:
    let
      d = ((callNode name (colmena.defaults or { })).deployment or { })
        // ((callNode name colmena.${name}).deployment or { });
    in {
      targetHost = d.targetHost or null;
      hasTargetHost = d ? targetHost;
      targetPort = d.targetPort or null;
      targetUser = d.targetUser or null;
      tags = d.tags or [ ];
      buildOnTarget = d.buildOnTarget or null;
      allowLocalDeployment = d.allowLocalDeployment or null;
    };
  systemOf = name: outputs.nixosConfigurations.${name}.system or null;
  wanted = names: if only == [ ] then names else builtins.filter (n: builtins.elem n only) names;
in
if part == "outline" then {
  inputs = inputNames;
  nixpkgsUrl = if builtins.isString (flake.inputs.nixpkgs.url or null) then flake.inputs.nixpkgs.url else null;
  nixosConfigurations = nixosNames;
  colmenaNodes = nodeNames;
} else {
  deployments = lib.genAttrs (wanted nodeNames) deploymentOf;
  systems = lib.genAttrs (wanted nixosNames) systemOf;
}
"#;

/// What `part = "outline"` returns.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FlakeOutline {
    pub inputs: Vec<String>,
    pub nixpkgs_url: Option<String>,
    pub nixos_configurations: Vec<String>,
    pub colmena_nodes: Vec<String>,
}

/// What `part = "details"` returns.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct FlakeDetails {
    #[serde(default)]
    pub deployments: BTreeMap<String, ReadDeployment>,
    #[serde(default)]
    pub systems: BTreeMap<String, Option<String>>,
}

/// The non-secret `deployment` fields of a colmena node as the flake sets them
/// (`None`/empty: not set, colmena's default applies).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadDeployment {
    /// `None` with `has_target_host`: `null`, deploy locally only; without: not set,
    /// colmena uses the node name.
    pub target_host: Option<String>,
    #[serde(default)]
    pub has_target_host: bool,
    pub target_port: Option<u16>,
    pub target_user: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub build_on_target: Option<bool>,
    pub allow_local_deployment: Option<bool>,
}
