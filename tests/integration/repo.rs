//! Infrastructure repositories: creating one, adding/renaming/removing hosts, the
//! generated flake evaluated by the real `nix-instantiate` with stand-in inputs,
//! hostile input, hand edits, crashes mid-write, and hand-written layouts.

use nixdeck_core::facts::BootMode;
use nixdeck_core::nix::quote_string;
use nixdeck_core::repo::{FlakeSpec, HostName, HostSpec, NameError, Tag, WritePlan};
use nixdeck_engine::nix_eval;
use nixdeck_engine::repo::{self, atomic, Confirm, RepoError};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

const KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGd1c3Qgb25seSBmb3IgdGVzdHM me@laptop";

fn name(text: &str) -> HostName {
    HostName::new(text).expect("valid test host name")
}

fn spec(host: &str, address: &str) -> HostSpec {
    let mut spec = HostSpec::new(name(host), address);
    spec.config.authorized_keys.push(KEY.into());
    spec
}

/// A new repository with hosts `web-1` (UEFI, tags) and `db` (BIOS, aarch64, port 2222).
async fn repo_with_two_hosts() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    repo::init_repo(dir.path(), &FlakeSpec::default(), &Confirm::Nothing)
        .await
        .unwrap();
    let mut web = spec("web-1", "203.0.113.7");
    web.deployment.tags = vec![Tag::new("web").unwrap(), Tag::new("eu").unwrap()];
    web.disko = Some("{ disko.devices = { }; }\n".into());
    repo::add_host(dir.path(), &web, &Confirm::Nothing)
        .await
        .unwrap();
    let mut db = spec("db", "db.example.org");
    db.system = "aarch64-linux".into();
    db.deployment.target_port = 2222;
    db.deployment.target_user = "admin".into();
    db.deployment.build_on_target = true;
    db.deployment.allow_local_deployment = false;
    db.config.boot_mode = BootMode::Bios;
    repo::add_host(dir.path(), &db, &Confirm::Nothing)
        .await
        .unwrap();
    dir
}

fn all_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .to_string();
            if rel.starts_with(".git") || rel.starts_with(".nixdeck") {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn git_files(root: &Path) -> Vec<String> {
    let out = Command::new("git")
        .args(["ls-files"])
        .current_dir(root)
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn every_written_file_parses_and_is_known_to_git() {
    let dir = repo_with_two_hosts().await;
    let files = all_files(dir.path());
    let nix_files: Vec<_> = files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "nix"))
        .collect();
    assert_eq!(
        nix_files.len(),
        7,
        "flake, common module, 2×host.nix, 2×configuration.nix, disko.nix: {files:?}"
    );
    for file in nix_files {
        nix_eval::parse_file(file)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    }
    let tracked = git_files(dir.path());
    for expected in [
        ".gitignore",
        "flake.nix",
        "modules/common.nix",
        "hosts/web-1/host.nix",
        "hosts/web-1/disko.nix",
        "hosts/db/configuration.nix",
    ] {
        assert!(
            tracked.iter().any(|t| t == expected),
            "{expected} not known to git: {tracked:?}"
        );
    }
}

/// Calls the generated flake's `outputs` with stand-in inputs and returns what it yields.
async fn evaluate_outputs(root: &Path) -> Value {
    let stand_in = tempfile::tempdir().unwrap();
    // `import nixpkgs { system = …; }` must work: the stand-in nixpkgs is a directory.
    std::fs::write(
        stand_in.path().join("default.nix"),
        "{ system }: { pkgsFor = system; }\n",
    )
    .unwrap();
    let expr = r#"
      { nixpkgsDir }:
      let
        flake = import ./flake.nix;
        lib = {
          nixosSystem = args: args;
          genAttrs = names: f: builtins.listToAttrs (map (n: { name = n; value = f n; }) names);
          filterAttrs = pred: set: builtins.listToAttrs (builtins.concatMap
            (n: if pred n set.${n} then [ { name = n; value = set.${n}; } ] else [ ]) (builtins.attrNames set));
          optional = cond: x: if cond then [ x ] else [ ];
          optionalAttrs = cond: set: if cond then set else { };
        };
        nixpkgs = { outPath = nixpkgsDir; inherit lib; };
        disko = { nixosModules.disko = "disko-module"; };
        colmena = { lib.makeHive = hive: { hiveOf = hive; }; };
        self = outputs // { inherit outputs; };
        outputs = flake.outputs { inherit self nixpkgs disko colmena; };
        rel = m: if builtins.isPath m then builtins.replaceStrings [ (toString ./.) ] [ "." ] (toString m) else m;
      in {
        nixos = builtins.mapAttrs (n: c: { inherit (c) system; modules = map rel c.modules; }) outputs.nixosConfigurations;
        nodes = builtins.mapAttrs (n: v: { imports = map rel v.imports; inherit (v) deployment; })
          (builtins.removeAttrs outputs.colmena [ "meta" ]);
        meta = outputs.colmena.meta;
        hiveNodes = builtins.attrNames outputs.colmenaHive.hiveOf;
      }
    "#;
    let arg = quote_string(&stand_in.path().to_string_lossy());
    nix_eval::eval_expr_json(expr, &[("nixpkgsDir", &arg)], Some(root))
        .await
        .unwrap()
}

#[tokio::test]
async fn generated_flake_yields_hosts_modules_and_deployments() {
    let dir = repo_with_two_hosts().await;
    let out = evaluate_outputs(dir.path()).await;
    let modules = |host: &str| {
        json!([
            "disko-module",
            "./modules/common.nix",
            format!("./hosts/{host}/configuration.nix")
        ])
    };
    assert_eq!(
        out["nixos"]["web-1"],
        json!({ "system": "x86_64-linux", "modules": modules("web-1") })
    );
    assert_eq!(
        out["nixos"]["db"],
        json!({ "system": "aarch64-linux", "modules": modules("db") })
    );
    assert_eq!(out["nodes"]["web-1"]["imports"], modules("web-1"));
    assert_eq!(
        out["nodes"]["web-1"]["deployment"],
        json!({ "targetHost": "203.0.113.7", "targetPort": 22, "targetUser": "root", "tags": ["web", "eu"],
                "buildOnTarget": false, "allowLocalDeployment": true })
    );
    assert_eq!(
        out["nodes"]["db"]["deployment"],
        json!({ "targetHost": "db.example.org", "targetPort": 2222, "targetUser": "admin", "tags": [],
                "buildOnTarget": true, "allowLocalDeployment": false })
    );
    assert_eq!(out["meta"]["nixpkgs"], json!({ "pkgsFor": "x86_64-linux" }));
    assert_eq!(
        out["meta"]["nodeNixpkgs"],
        json!({ "db": { "pkgsFor": "aarch64-linux" }, "web-1": { "pkgsFor": "x86_64-linux" } })
    );
    assert_eq!(out["hiveNodes"], json!(["db", "meta", "web-1"]));
}

#[tokio::test]
async fn hardware_configuration_is_imported_once_it_exists() {
    let dir = repo_with_two_hosts().await;
    std::fs::write(
        dir.path().join("hosts/web-1/hardware-configuration.nix"),
        "{ ... }: { }\n",
    )
    .unwrap();
    let out = evaluate_outputs(dir.path()).await;
    let expected = json!([
        "disko-module",
        "./modules/common.nix",
        "./hosts/web-1/configuration.nix",
        "./hosts/web-1/hardware-configuration.nix"
    ]);
    assert_eq!(out["nixos"]["web-1"]["modules"], expected);
    assert_eq!(out["nodes"]["web-1"]["imports"], expected);
    assert_eq!(
        out["nixos"]["db"]["modules"].as_array().unwrap().len(),
        3,
        "db is not installed yet"
    );
}

#[tokio::test]
async fn configuration_follows_the_boot_mode_and_the_article() {
    let dir = repo_with_two_hosts().await;
    let read = |host: &str| {
        std::fs::read_to_string(dir.path().join(format!("hosts/{host}/configuration.nix"))).unwrap()
    };
    let web = read("web-1");
    assert!(
        web.contains("efiSupport = true;") && web.contains("efiInstallAsRemovable = true;"),
        "{web}"
    );
    assert!(web.contains("imports = [ ./disko.nix ];"));
    assert!(web.contains("settings.PermitRootLogin = \"prohibit-password\";"));
    assert!(web.contains("system.stateVersion = \"25.05\";"));
    assert!(web.contains("environment.systemPackages = with pkgs; [\n    git\n    vim\n  ];"));
    let db = read("db");
    assert!(
        !db.contains("efiSupport"),
        "BIOS hosts get grub without EFI: {db}"
    );
    assert!(db.contains("boot.loader.grub = {") && db.contains("enable = true;"));
}

/// `(import configuration.nix { pkgs }).users.users.root.openssh.authorizedKeys.keys`
/// and `networking.hostName`, as Nix reads them.
async fn read_back(root: &Path, host: &str) -> Value {
    let expr = format!(
        "let c = import ./hosts/{host}/configuration.nix {{ pkgs = {{ git = 1; vim = 2; }}; }}; in \
         {{ keys = c.users.users.root.openssh.authorizedKeys.keys; name = c.networking.hostName; }}"
    );
    nix_eval::eval_expr_json(&expr, &[], Some(root))
        .await
        .unwrap()
}

async fn add_with_key(key: &str) -> (tempfile::TempDir, Result<repo::Applied, RepoError>) {
    let dir = tempfile::tempdir().unwrap();
    repo::init_repo(dir.path(), &FlakeSpec::default(), &Confirm::Nothing)
        .await
        .unwrap();
    let mut host = spec("h", "192.0.2.1");
    host.config.authorized_keys = vec![key.to_string()];
    let result = repo::add_host(dir.path(), &host, &Confirm::Nothing).await;
    (dir, result)
}

#[tokio::test]
async fn hostile_quotes_are_rejected_in_names_and_tags_and_escaped_in_keys() {
    assert!(matches!(
        HostName::new("web\"; evil = \"x"),
        Err(NameError::HostName(_))
    ));
    assert!(matches!(Tag::new("a\"b"), Err(NameError::Tag(_))));
    let key = format!("{KEY} \"quoted\" comment with \\ backslash");
    let (dir, result) = add_with_key(&key).await;
    result.unwrap();
    assert_eq!(
        read_back(dir.path(), "h").await,
        json!({ "keys": [key], "name": "h" })
    );
}

#[tokio::test]
async fn hostile_interpolation_is_rejected_in_names_and_tags_and_escaped_in_keys() {
    assert!(HostName::new("${builtins.abort \"x\"}").is_err());
    assert!(Tag::new("${x}").is_err());
    let key = format!("{KEY} ${{builtins.abort \"boom\"}} $${{x}} $");
    let (dir, result) = add_with_key(&key).await;
    result.unwrap();
    assert_eq!(
        read_back(dir.path(), "h").await,
        json!({ "keys": [key], "name": "h" })
    );
    // The address and user reach ssh as well as Nix: refused outright.
    let mut host = spec("h2", "${x}");
    assert!(matches!(host.validate(), Err(NameError::Address(_))));
    host.deployment.target_host = "192.0.2.1".into();
    host.deployment.target_user = "${user}".into();
    assert!(matches!(host.validate(), Err(NameError::User(_))));
}

#[tokio::test]
async fn hostile_newlines_are_rejected_everywhere() {
    assert!(HostName::new("web\nevil").is_err());
    assert!(Tag::new("web\n").is_err());
    let (dir, result) = add_with_key(&format!(
        "{KEY}\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAttackerKeyMaterial1 attacker"
    ))
    .await;
    let err = result.unwrap_err();
    assert!(err.to_string().contains("no line breaks"), "{err}");
    assert!(
        !dir.path().join("hosts/h").exists(),
        "nothing written for a refused host"
    );
    let mut host = spec("h", "192.0.2.1\n");
    assert!(host.validate().is_err());
    host.deployment.target_host = "192.0.2.1".into();
    host.config.packages.push("git\nvim".into());
    assert!(matches!(host.validate(), Err(NameError::Package(_))));
}

#[tokio::test]
async fn hostile_unicode_is_rejected_in_names_tags_and_addresses_and_kept_in_key_comments() {
    let err = HostName::new("wéb").unwrap_err();
    assert!(err.to_string().contains("ASCII"), "{err}");
    assert!(HostName::new("web\u{200b}1").is_err(), "zero-width space");
    assert!(Tag::new("prod✓").is_err());
    let mut host = spec("h", "bücher.example");
    let err = host.validate().unwrap_err();
    assert!(err.to_string().contains("xn--"), "{err}");
    host.deployment.target_host = "xn--bcher-kva.example".into();
    host.validate().unwrap();
    let key = format!("{KEY} clé de José ✓");
    let (dir, result) = add_with_key(&key).await;
    result.unwrap();
    assert_eq!(
        read_back(dir.path(), "h").await,
        json!({ "keys": [key], "name": "h" })
    );
}

#[tokio::test]
async fn host_names_follow_nixos_rules() {
    for ok in ["a", "web-1", "db_2", "1host", &"x".repeat(63)] {
        HostName::new(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
    for bad in [
        "",
        "-web",
        "web-",
        "_web",
        "web.example.com",
        "web 1",
        &"x".repeat(64),
    ] {
        assert!(HostName::new(bad).is_err(), "{bad:?} accepted");
    }
}

#[tokio::test]
async fn a_hand_edited_file_is_not_clobbered() {
    let dir = repo_with_two_hosts().await;
    let config = dir.path().join("hosts/web-1/configuration.nix");
    let edited = std::fs::read_to_string(&config)
        .unwrap()
        .replace("    vim\n", "    vim\n    htop\n");
    assert!(edited.contains("htop"), "the hand edit took");
    std::fs::write(&config, &edited).unwrap();

    // Rename rewrites the host name in configuration.nix: refused, nothing moved.
    let err = repo::rename_host(
        dir.path(),
        &name("web-1"),
        &name("web-2"),
        &Confirm::Nothing,
    )
    .await
    .unwrap_err();
    let RepoError::NeedsConfirmation { pending } = err else {
        panic!("{err}")
    };
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].path, "hosts/web-2/configuration.nix");
    assert!(
        pending[0]
            .diff
            .contains("-  networking.hostName = \"web-1\";\n+  networking.hostName = \"web-2\";"),
        "{}",
        pending[0].diff
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), edited);
    assert!(!dir.path().join("hosts/web-2").exists());

    // Remove: the edited file needs confirmation, the rest too waits.
    let err = repo::remove_host(dir.path(), &name("web-1"), &Confirm::Nothing)
        .await
        .unwrap_err();
    assert!(matches!(err, RepoError::NeedsConfirmation { ref pending } if pending.len() == 1));
    assert!(dir.path().join("hosts/web-1/host.nix").exists());

    // Confirmed: the edit travels with the rename.
    repo::rename_host(
        dir.path(),
        &name("web-1"),
        &name("web-2"),
        &Confirm::Paths(vec!["hosts/web-2/configuration.nix".into()]),
    )
    .await
    .unwrap();
    let moved = std::fs::read_to_string(dir.path().join("hosts/web-2/configuration.nix")).unwrap();
    assert!(
        moved.contains("    vim\n    htop\n") && moved.contains("\"web-2\""),
        "{moved}"
    );
    assert!(!dir.path().join("hosts/web-1").exists());
    let tracked = git_files(dir.path());
    assert!(
        tracked.contains(&"hosts/web-2/host.nix".to_string())
            && !tracked.iter().any(|t| t.starts_with("hosts/web-1/")),
        "{tracked:?}"
    );
}

#[tokio::test]
async fn files_nixdeck_did_not_write_need_confirmation_to_delete() {
    let dir = repo_with_two_hosts().await;
    let hw = dir.path().join("hosts/db/hardware-configuration.nix");
    std::fs::write(&hw, "{ ... }: { }\n").unwrap();
    let plan = repo::plan_remove_host(dir.path(), &name("db")).unwrap();
    let pending: Vec<&str> = plan.pending().iter().map(|c| c.path.as_str()).collect();
    assert_eq!(pending, ["hosts/db/hardware-configuration.nix"]);
    assert!(matches!(
        repo::apply_plan(dir.path(), &plan, &Confirm::Nothing).await,
        Err(RepoError::NeedsConfirmation { .. })
    ));
    assert!(hw.exists());
    repo::apply_plan(dir.path(), &plan, &Confirm::All)
        .await
        .unwrap();
    assert!(!dir.path().join("hosts/db").exists());
    let view = repo::open_repo(dir.path()).await.unwrap();
    assert_eq!(
        view.hosts
            .iter()
            .map(|h| h.name.as_str())
            .collect::<Vec<_>>(),
        ["web-1"]
    );
}

#[tokio::test]
async fn a_file_changed_after_planning_is_not_overwritten() {
    let dir = repo_with_two_hosts().await;
    let plan: WritePlan = repo::plan_rename_host(dir.path(), &name("db"), &name("db-1")).unwrap();
    assert!(plan.pending().is_empty(), "nixdeck's own files move freely");
    let host_nix = dir.path().join("hosts/db/host.nix");
    std::fs::write(
        &host_nix,
        "{ system = \"x86_64-linux\"; deployment = { }; }\n",
    )
    .unwrap();
    let err = repo::apply_plan(dir.path(), &plan, &Confirm::All)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RepoError::ChangedSincePlan(ref p) if p == "hosts/db/host.nix"),
        "{err}"
    );
    assert!(
        dir.path().join("hosts/db/configuration.nix").exists(),
        "nothing moved"
    );
}

#[tokio::test]
async fn init_refuses_an_existing_flake_and_asks_before_replacing_a_gitignore() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".gitignore"), "secrets/\n").unwrap();
    let err = repo::init_repo(dir.path(), &FlakeSpec::default(), &Confirm::Nothing)
        .await
        .unwrap_err();
    let RepoError::NeedsConfirmation { pending } = err else {
        panic!("{err}")
    };
    assert_eq!(pending[0].path, ".gitignore");
    assert!(pending[0].diff.contains("-secrets/"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join(".gitignore")).unwrap(),
        "secrets/\n"
    );
    assert!(!dir.path().join("flake.nix").exists(), "nothing written");

    std::fs::write(dir.path().join("flake.nix"), "{ outputs = _: { }; }\n").unwrap();
    let err = repo::init_repo(dir.path(), &FlakeSpec::default(), &Confirm::All)
        .await
        .unwrap_err();
    assert!(matches!(err, RepoError::AlreadyARepository(_)), "{err}");
}

#[tokio::test]
async fn nixpkgs_branch_is_selectable_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let spec = FlakeSpec {
        nixpkgs_ref: "nixos-unstable".into(),
        ..FlakeSpec::default()
    };
    repo::init_repo(dir.path(), &spec, &Confirm::Nothing)
        .await
        .unwrap();
    let view = repo::open_repo(dir.path()).await.unwrap();
    assert!(
        view.problems.is_empty(),
        "a repository without hosts/ evaluates: {:?}",
        view.problems
    );
    assert!(view.hosts.is_empty());
    assert_eq!(
        view.nixpkgs_url.as_deref(),
        Some("github:NixOS/nixpkgs/nixos-unstable")
    );
    let bad = FlakeSpec {
        nixpkgs_ref: "nixos-25.05\"; evil".into(),
        ..FlakeSpec::default()
    };
    assert!(matches!(
        repo::plan_init(tempfile::tempdir().unwrap().path(), &bad),
        Err(RepoError::Invalid(NameError::NixpkgsRef(_)))
    ));
}

const CRASH_TARGET: &str = "NIXDECK_TEST_CRASH_TARGET";

/// Run by `a_crash_mid_write_leaves_the_old_file` in a child process: starts replacing
/// the file, writes half of the new text, and dies without cleaning up.
#[test]
#[ignore = "helper: run in a child process by a_crash_mid_write_leaves_the_old_file"]
fn crash_child_writes_half_then_aborts() {
    let target = std::env::var(CRASH_TARGET).expect("run by the parent test");
    let _ = atomic::write_atomic_with(Path::new(&target), |file| {
        use std::io::Write;
        file.write_all(b"{ half of the new")?;
        file.sync_all()?;
        std::process::abort();
    });
}

#[test]
fn a_crash_mid_write_leaves_the_old_file() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("configuration.nix");
    std::fs::write(&target, "{ old = true; }\n").unwrap();
    let status = Command::new(std::env::current_exe().unwrap())
        .args([
            "repo::crash_child_writes_half_then_aborts",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CRASH_TARGET, &target)
        .output()
        .unwrap()
        .status;
    assert!(!status.success(), "the child should have died mid-write");
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        "{ old = true; }\n"
    );
    let leftovers: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n != "configuration.nix")
        .collect();
    assert_eq!(
        leftovers.len(),
        1,
        "the half-written temp file is what the crash left: {leftovers:?}"
    );
    assert!(leftovers[0].starts_with(".nixdeck-") && leftovers[0].ends_with(".tmp"));
}

fn host<'a>(
    view: &'a nixdeck_core::repo::RepoView,
    name: &str,
) -> &'a nixdeck_core::repo::HostSummary {
    view.hosts
        .iter()
        .find(|h| h.name == name)
        .unwrap_or_else(|| panic!("no host {name} in {:?}", view.hosts))
}

#[tokio::test]
async fn opens_a_hand_written_flake_with_mkhost_and_modules_nixos() {
    let view = repo::open_repo(&nixdeck_tests::fixture("repos/mkhost"))
        .await
        .unwrap();
    assert_eq!(
        view.nixpkgs_url.as_deref(),
        Some("github:NixOS/nixpkgs/nixos-unstable")
    );
    assert!(
        view.inputs.contains(&"sops-nix".to_string())
            && view.inputs.contains(&"home-manager".to_string())
    );
    let names: Vec<&str> = view.hosts.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["kube01", "lab", "lb01", "vpn"]);

    let kube = host(&view, "kube01");
    assert_eq!(
        (kube.address.as_deref(), kube.user.as_deref()),
        (Some("10.0.0.10"), Some("deploy"))
    );
    assert_eq!(kube.tags, ["k8s"]);
    assert_eq!(kube.build_on_target, Some(true));
    assert_eq!(kube.system.as_deref(), Some("x86_64-linux"));
    assert!(kube.has_disko && !kube.has_hardware_configuration);

    let lb = host(&view, "lb01");
    assert_eq!(
        (lb.address.as_deref(), lb.user.as_deref()),
        (Some("10.0.0.2"), Some("root"))
    );
    assert!(lb.has_disko && lb.has_hardware_configuration);

    let lab = host(&view, "lab");
    assert_eq!(
        (lab.in_nixos_configurations, lab.in_colmena),
        (Some(true), Some(false))
    );
    assert!(!lab.deployment_read && lab.address.is_none());

    // vpn's address comes from a private input's library: shown as unreadable, left alone.
    let vpn = host(&view, "vpn");
    assert!(!vpn.deployment_read && vpn.address.is_none());
    assert_eq!(vpn.in_colmena, Some(true));
    assert!(
        view.problems
            .iter()
            .any(|p| p.host.as_deref() == Some("vpn") && p.message.contains("publicAddress")),
        "{:?}",
        view.problems
    );
    assert_eq!(view.problems.len(), 1, "{:?}", view.problems);
}

#[tokio::test]
async fn opens_a_hand_written_flake_with_inline_colmena_nodes() {
    let view = repo::open_repo(&nixdeck_tests::fixture("repos/inline-colmena"))
        .await
        .unwrap();
    assert!(view.problems.is_empty(), "{:?}", view.problems);
    let web = host(&view, "web");
    assert_eq!(web.address.as_deref(), Some("web.example.com"));
    assert_eq!(web.port, Some(2222));
    assert_eq!(web.user.as_deref(), Some("ops"), "from colmena.defaults");
    assert_eq!(web.tags, ["web", "prod"]);
    assert!(web.has_hardware_configuration && web.has_disko);

    // A node written as a function of its name.
    let db = host(&view, "db");
    assert_eq!(db.address.as_deref(), Some("db.internal.example.com"));
    assert_eq!(db.user.as_deref(), Some("root"));
    assert_eq!(db.system.as_deref(), Some("aarch64-linux"));

    let backup = host(&view, "backup");
    assert!(backup.has_directory && backup.has_configuration);
    assert_eq!(
        (backup.in_nixos_configurations, backup.in_colmena),
        (Some(false), Some(false))
    );
}

#[tokio::test]
async fn adding_a_host_to_a_hand_written_flake_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = nixdeck_tests::fixture("repos/inline-colmena");
    let status = Command::new("cp")
        .arg("-r")
        .arg(fixture.join("."))
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    let applied = repo::add_host(dir.path(), &spec("cache", "192.0.2.9"), &Confirm::Nothing)
        .await
        .unwrap();
    assert!(
        applied
            .notes
            .iter()
            .any(|n| n.contains("add cache to its nixosConfigurations")),
        "{:?}",
        applied.notes
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("flake.nix")).unwrap(),
        std::fs::read_to_string(fixture.join("flake.nix")).unwrap()
    );
    assert!(applied
        .notes
        .iter()
        .any(|n| n.contains("not a git repository")));
}

#[tokio::test]
async fn the_generated_repository_opens_with_everything_read() {
    let dir = repo_with_two_hosts().await;
    let view = repo::open_repo(dir.path()).await.unwrap();
    assert!(view.problems.is_empty(), "{:?}", view.problems);
    let web = host(&view, "web-1");
    assert_eq!(web.address.as_deref(), Some("203.0.113.7"));
    assert_eq!(web.tags, ["web", "eu"]);
    assert!(web.has_disko && web.has_host_data && !web.has_hardware_configuration);
    let db = host(&view, "db");
    assert_eq!(
        (db.port, db.user.as_deref(), db.system.as_deref()),
        (Some(2222), Some("admin"), Some("aarch64-linux"))
    );
}

#[test]
fn cli_creates_a_repository_and_lists_hosts_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let repo_dir = dir.path().join("infra");
    let bin = env!("CARGO_BIN_EXE_nixdeck-headless");
    let run = |args: &[&str]| {
        let out = Command::new(bin).args(args).output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let d = repo_dir.to_str().unwrap();
    let (ok, _, err) = run(&["project", "init", d, "--nixpkgs", "nixos-24.11"]);
    assert!(ok, "{err}");
    let (ok, _, err) = run(&[
        "host",
        "add",
        d,
        "web",
        "--address",
        "198.51.100.4",
        "--user",
        "deploy",
        "--port",
        "2200",
        "--tag",
        "web",
        "--tag",
        "prod",
        "--build-on-target",
    ]);
    assert!(ok, "{err}");
    let (ok, _, err) = run(&["host", "add", d, "bad\"name", "--address", "198.51.100.5"]);
    assert!(
        !ok && err.contains("host name \"bad\\\"name\" is not valid"),
        "{err}"
    );
    let (ok, out, err) = run(&["host", "list", d, "--json"]);
    assert!(ok, "{err}");
    let view: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(view["nixpkgsUrl"], "github:NixOS/nixpkgs/nixos-24.11");
    let web = &view["hosts"][0];
    assert_eq!(
        (
            web["name"].as_str(),
            web["address"].as_str(),
            web["user"].as_str(),
            web["port"].as_u64()
        ),
        (
            Some("web"),
            Some("198.51.100.4"),
            Some("deploy"),
            Some(2200)
        )
    );
    assert_eq!(web["tags"], json!(["web", "prod"]));
    assert_eq!(web["buildOnTarget"], json!(true));
    let config = std::fs::read_to_string(repo_dir.join("hosts/web/configuration.nix")).unwrap();
    assert!(
        config.contains("system.stateVersion = \"24.11\";"),
        "the flake's release: {config}"
    );
    let (ok, _, err) = run(&["host", "rename", d, "web", "www"]);
    assert!(ok, "{err}");
    let (ok, out, _) = run(&["host", "list", d]);
    assert!(
        ok && out.starts_with("www\t198.51.100.4:2200\tdeploy\tweb,prod\tnot installed"),
        "{out}"
    );
    let (ok, out, err) = run(&["host", "remove", d, "www"]);
    assert!(
        ok && out.contains("deleted hosts/www/host.nix"),
        "{out}{err}"
    );
}

#[tokio::test]
async fn updating_a_host_rewrites_nixdecks_files_and_asks_about_edited_ones() {
    let dir = repo_with_two_hosts().await;
    let mut web = spec("web-1", "203.0.113.8");
    web.deployment.tags = vec![Tag::new("web").unwrap(), Tag::new("eu").unwrap()];
    web.disko = Some("{ disko.devices = { }; }\n".into());
    let plan = repo::plan_update_host(dir.path(), &web).unwrap();
    let paths: Vec<&str> = plan.changes.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(paths, ["hosts/web-1/host.nix"], "only the address changed");
    assert!(plan.changes[0]
        .diff
        .contains("-    targetHost = \"203.0.113.7\";\n+    targetHost = \"203.0.113.8\";"));
    assert!(plan.pending().is_empty());

    // The disko layout was edited by hand: a new one from the editor must ask.
    let disko = dir.path().join("hosts/web-1/disko.nix");
    std::fs::write(&disko, "{ disko.devices = { }; } # tuned by hand\n").unwrap();
    web.disko = Some("{ disko.devices.disk = { }; }\n".into());
    let plan = repo::plan_update_host(dir.path(), &web).unwrap();
    let pending: Vec<&str> = plan.pending().iter().map(|c| c.path.as_str()).collect();
    assert_eq!(pending, ["hosts/web-1/disko.nix"]);
    assert!(matches!(
        repo::apply_plan(dir.path(), &plan, &Confirm::Nothing).await,
        Err(RepoError::NeedsConfirmation { .. })
    ));
    assert!(std::fs::read_to_string(&disko)
        .unwrap()
        .contains("tuned by hand"));

    assert!(repo::plan_write(dir.path(), &[("../outside.nix".into(), "{ }".into())]).is_err());
    assert!(
        repo::plan_write(dir.path(), &[(".nixdeck/written.json".into(), "{}".into())]).is_err()
    );
}

#[tokio::test]
async fn a_flake_that_does_not_evaluate_still_lists_its_host_directories() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("flake.nix"),
        "{ outputs = { self, ... }: { nixosConfigurations = ; }; }\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("hosts/alpha")).unwrap();
    std::fs::write(dir.path().join("hosts/alpha/configuration.nix"), "{ }\n").unwrap();
    let view = repo::open_repo(dir.path()).await.unwrap();
    assert_eq!(view.hosts.len(), 1);
    let alpha = &view.hosts[0];
    assert!(alpha.has_configuration && alpha.in_colmena.is_none() && !alpha.deployment_read);
    assert_eq!(view.problems.len(), 1, "{:?}", view.problems);
    assert!(
        view.problems[0].message.contains("syntax error"),
        "{:?}",
        view.problems
    );
}
