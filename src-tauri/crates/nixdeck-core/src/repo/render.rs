//! The text of every file nixdeck writes into a repository, built with the one
//! Nix renderer ([`crate::nix`]) so user text is always escaped.
//!
//! The flake finds its hosts itself: every `hosts/<name>/` with a `host.nix` is a
//! machine. `host.nix` holds the host's system and colmena `deployment` settings,
//! `configuration.nix` its NixOS configuration. So adding, renaming or removing a
//! host never rewrites `flake.nix`, and a person's edits there never block nixdeck.

use super::host::{FlakeSpec, HostSpec, SystemConfig};
use crate::facts::BootMode;
use crate::nix::{render, BinOp, Binding, Nix, NixIdent, StrPart};

/// Repository-relative path of the flake.
pub const FLAKE_PATH: &str = "flake.nix";
/// Repository-relative path of the shared module.
pub const COMMON_MODULE_PATH: &str = "modules/common.nix";
/// Repository-relative path of the ignore file.
pub const GITIGNORE_PATH: &str = ".gitignore";

/// `hosts/<name>/<file>`.
pub fn host_file(host: &str, file: &str) -> String {
    format!("hosts/{host}/{file}")
}

/// The `.gitignore` of a new repository: build results and nixdeck's local record.
pub fn render_gitignore() -> String {
    "# nix build results\nresult\nresult-*\n# nixdeck's record of the files it wrote in this working copy\n.nixdeck/\n".into()
}

fn ident(text: &'static str) -> Nix {
    Nix::ident(text)
}

fn var(name: &'static str) -> NixIdent {
    NixIdent::new(name).expect("identifier written in nixdeck's code")
}

/// `hostDir name + "/<file>"`.
fn in_host_dir(file: &str) -> Nix {
    Nix::op(
        Nix::apply(ident("hostDir"), [ident("name")]),
        BinOp::Add,
        Nix::str(format!("/{file}")),
    )
}

fn set(path: &str, value: Nix) -> Binding {
    Binding::dotted(path, value)
}

/// `flake.nix` of a new repository.
pub fn render_flake(spec: &FlakeSpec) -> String {
    let input = |url: &str| {
        Nix::Attrs(vec![
            set("url", Nix::str(url)),
            set("inputs.nixpkgs.follows", Nix::str("nixpkgs")),
        ])
    };
    let inputs = Nix::Attrs(vec![
        set(
            "nixpkgs.url",
            Nix::str(format!("github:NixOS/nixpkgs/{}", spec.nixpkgs_ref)),
        ),
        set("disko", input("github:nix-community/disko")),
        // The article names github:zhaofengli/colmena; development moved here.
        set("colmena", input(crate::tools::plan::COLMENA_REPOSITORY)),
    ]);

    let host_dir = Nix::func(
        "name",
        Nix::op(
            Nix::path("./hosts").expect("literal path"),
            BinOp::Add,
            Nix::Interp(vec![
                StrPart::Text("/".into()),
                StrPart::Expr(ident("name")),
            ]),
        ),
    );
    let is_host = Nix::func(
        "name",
        Nix::func(
            "type",
            Nix::op(
                Nix::op(ident("type"), BinOp::Eq, Nix::str("directory")),
                BinOp::And,
                Nix::apply(ident("builtins.pathExists"), [in_host_dir("host.nix")]),
            ),
        ),
    );
    let hosts_path = || Nix::path("./hosts").expect("literal path");
    // A new repository has no hosts/ yet (git keeps no empty directories).
    let host_dirs = Nix::apply(
        ident("lib.optionalAttrs"),
        [
            Nix::apply(ident("builtins.pathExists"), [hosts_path()]),
            Nix::apply(ident("builtins.readDir"), [hosts_path()]),
        ],
    );
    let host_names = Nix::apply(
        ident("builtins.attrNames"),
        [Nix::apply(
            ident("lib.filterAttrs"),
            [ident("isHost"), ident("hostDirs")],
        )],
    );
    let hardware = || Nix::apply(ident("hardwareConfiguration"), [ident("name")]);
    let host_modules = Nix::func(
        "name",
        Nix::Concat(
            Box::new(Nix::list([
                ident("disko.nixosModules.disko"),
                Nix::path("./modules/common.nix").expect("literal path"),
                in_host_dir("configuration.nix"),
            ])),
            Box::new(Nix::apply(
                ident("lib.optional"),
                [
                    Nix::apply(ident("builtins.pathExists"), [hardware()]),
                    hardware(),
                ],
            )),
        ),
    );
    let host_data = || Nix::apply(ident("hostData"), [ident("name")]);
    let system_of = || Nix::Select(Box::new(host_data()), vec!["system".into()]);
    let nixos_system_for = Nix::func(
        "name",
        Nix::apply(
            ident("lib.nixosSystem"),
            [Nix::Attrs(vec![
                set("system", system_of()),
                set("modules", Nix::apply(ident("hostModules"), [ident("name")])),
            ])],
        ),
    );
    let pkgs_for = Nix::func(
        "name",
        Nix::apply(
            ident("import"),
            [ident("nixpkgs"), Nix::attrs([("system", system_of())])],
        ),
    );
    let colmena_node_for = Nix::func(
        "name",
        Nix::Attrs(vec![
            set("imports", Nix::apply(ident("hostModules"), [ident("name")])),
            set(
                "deployment",
                Nix::Select(Box::new(host_data()), vec!["deployment".into()]),
            ),
        ]),
    );

    let lets =
        vec![
        Binding::Inherit(Some(var("nixpkgs")), vec!["lib".into()]),
        Binding::Comment(
            "A machine is a directory hosts/<name>/ with a host.nix (its system and how colmena\n\
             reaches it) and a configuration.nix (its NixOS configuration)."
                .into(),
        ),
        set("hostDir", host_dir),
        set("hostDirs", host_dirs),
        set("isHost", is_host),
        set("hostNames", host_names),
        set("hostData", Nix::func("name", Nix::apply(ident("import"), [in_host_dir("host.nix")]))),
        Binding::Comment(
            "nixos-anywhere writes hardware-configuration.nix on the first install; until then\n\
             the host builds without it."
                .into(),
        ),
        set("hardwareConfiguration", Nix::func("name", in_host_dir("hardware-configuration.nix"))),
        Binding::Comment("The modules of a host, the same for nixos-anywhere and colmena.".into()),
        set("hostModules", host_modules),
        set("nixosSystemFor", nixos_system_for),
        set("pkgsFor", pkgs_for),
        set("colmenaNodeFor", colmena_node_for),
    ];
    let gen = |f: &'static str| Nix::apply(ident("lib.genAttrs"), [ident("hostNames"), ident(f)]);
    let outputs_body = Nix::Attrs(vec![
        set("nixosConfigurations", gen("nixosSystemFor")),
        set(
            "colmena",
            Nix::op(
                Nix::Attrs(vec![set(
                    "meta",
                    Nix::Attrs(vec![
                        set(
                            "nixpkgs",
                            Nix::apply(
                                ident("import"),
                                [
                                    ident("nixpkgs"),
                                    Nix::attrs([("system", Nix::str(super::DEFAULT_SYSTEM))]),
                                ],
                            ),
                        ),
                        set("nodeNixpkgs", gen("pkgsFor")),
                    ]),
                )]),
                BinOp::Update,
                gen("colmenaNodeFor"),
            ),
        ),
        set(
            "colmenaHive",
            Nix::apply(
                ident("colmena.lib.makeHive"),
                [ident("self.outputs.colmena")],
            ),
        ),
    ]);
    let outputs = Nix::Lambda {
        at: Some(var("inputs")),
        formals: vec![
            "self".into(),
            "nixpkgs".into(),
            "disko".into(),
            "colmena".into(),
        ],
        ellipsis: true,
        body: Box::new(Nix::Let(lets, Box::new(outputs_body))),
    };
    render(&Nix::Attrs(vec![
        set("description", Nix::str(&spec.description)),
        set("inputs", inputs),
        set("outputs", outputs),
    ]))
}

/// `hosts/<name>/host.nix`: the host's system and colmena deployment settings.
pub fn render_host_data(spec: &HostSpec) -> String {
    let d = &spec.deployment;
    let tags = Nix::list(d.tags.iter().map(|t| Nix::str(t.as_str())));
    render(&Nix::Attrs(vec![
        Binding::Comment(format!(
            "How {} is built and reached; flake.nix reads this for nixosConfigurations and colmena.",
            spec.name
        )),
        set("system", Nix::str(&spec.system)),
        set(
            "deployment",
            Nix::Attrs(vec![
                set("targetHost", Nix::str(&d.target_host)),
                set("targetPort", Nix::Int(i64::from(d.target_port))),
                set("targetUser", Nix::str(&d.target_user)),
                set("tags", tags),
                set("buildOnTarget", Nix::Bool(d.build_on_target)),
                set("allowLocalDeployment", Nix::Bool(d.allow_local_deployment)),
            ]),
        ),
    ]))
}

/// `hosts/<name>/configuration.nix` as in the article, for the wizard's live preview
/// and for writing.
pub fn render_configuration(config: &SystemConfig) -> String {
    let grub = match config.boot_mode {
        BootMode::Uefi => Nix::Attrs(vec![
            set("enable", Nix::Bool(true)),
            set("efiSupport", Nix::Bool(true)),
            set("efiInstallAsRemovable", Nix::Bool(true)),
        ]),
        // disko sets boot.loader.grub.devices to the disk holding the EF02 (BIOS boot)
        // partition, so only enabling grub is needed here.
        BootMode::Bios => Nix::Attrs(vec![
            Binding::Comment(
                "BIOS boot: disko installs grub on the disk with the EF02 partition.".into(),
            ),
            set("enable", Nix::Bool(true)),
        ]),
    };
    let packages = config
        .packages
        .iter()
        .filter_map(|p| NixIdent::new(p.as_str()).ok().map(Nix::Ident));
    let body = Nix::Attrs(vec![
        set(
            "imports",
            Nix::list([Nix::path("./disko.nix").expect("literal path")]),
        ),
        set("boot.loader.grub", grub),
        set("networking.hostName", Nix::str(config.host_name.as_str())),
        set(
            "services.openssh",
            Nix::Attrs(vec![
                set("enable", Nix::Bool(true)),
                set("settings.PermitRootLogin", Nix::str("prohibit-password")),
            ]),
        ),
        set(
            "users.users.root.openssh.authorizedKeys.keys",
            Nix::list(config.authorized_keys.iter().map(Nix::str)),
        ),
        set(
            "environment.systemPackages",
            Nix::With(
                Box::new(ident("pkgs")),
                Box::new(Nix::List(packages.collect())),
            ),
        ),
        set("system.stateVersion", Nix::str(&config.state_version)),
    ]);
    render(&Nix::Lambda {
        at: None,
        formals: vec!["pkgs".into()],
        ellipsis: true,
        body: Box::new(body),
    })
}

/// `modules/common.nix`: settings every host shares (the article's shared module).
pub fn render_common() -> String {
    render(&Nix::Lambda {
        at: None,
        formals: vec![],
        ellipsis: true,
        body: Box::new(Nix::Attrs(vec![
            Binding::Comment("Settings every host shares. Host-specific ones go in hosts/<name>/configuration.nix.".into()),
            set("nix.settings.experimental-features", Nix::list([Nix::str("nix-command"), Nix::str("flakes")])),
            set("networking.firewall.enable", Nix::Bool(true)),
        ])),
    })
}

/// The files of a new host, repository-relative path and text, `disko.nix` only when given.
pub fn host_files(spec: &HostSpec) -> Vec<(String, String)> {
    let name = spec.name.as_str();
    let mut files = vec![
        (host_file(name, "host.nix"), render_host_data(spec)),
        (
            host_file(name, "configuration.nix"),
            render_configuration(&spec.config),
        ),
    ];
    if let Some(disko) = &spec.disko {
        files.push((host_file(name, "disko.nix"), disko.clone()));
    }
    files
}

/// The files of a new repository.
pub fn repo_files(spec: &FlakeSpec) -> Vec<(String, String)> {
    vec![
        (FLAKE_PATH.into(), render_flake(spec)),
        (COMMON_MODULE_PATH.into(), render_common()),
        (GITIGNORE_PATH.into(), render_gitignore()),
    ]
}
