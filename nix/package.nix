# nixdeck built with nixpkgs' Tauri hook: the front end with npm from
# package-lock.json, then `cargo tauri build`, which puts the front end inside
# the binary. nix, git and OpenSSH go on the wrapped binary's PATH, since nixdeck
# runs them (and nixos-anywhere and colmena through `nix run`).
{
  lib,
  rustPlatform,
  cargo-tauri,
  nodejs,
  importNpmLock,
  pkg-config,
  wrapGAppsHook3,
  openssl,
  glib-networking,
  librsvg,
  webkitgtk_4_1,
  nix,
  git,
  openssh,
}:

let
  root = ../.;
  manifest = lib.importTOML ../Cargo.toml;
in
rustPlatform.buildRustPackage {
  pname = "nixdeck";
  inherit (manifest.workspace.package) version;

  # Only what the build reads, so editing docs does not rebuild nixdeck.
  src = lib.fileset.toSource {
    inherit root;
    fileset = lib.fileset.unions [
      ../Cargo.toml
      ../Cargo.lock
      ../tauri.conf.json
      ../package.json
      ../package-lock.json
      ../icons
      ../src-tauri
      ../ui
      # A workspace member: cargo reads its manifest even when not building it.
      ../tests
    ];
  };

  cargoLock.lockFile = ../Cargo.lock;

  # Every npm package from package-lock.json's own URLs and hashes: no hash to keep here.
  npmDeps = importNpmLock { npmRoot = root; };

  nativeBuildInputs = [
    cargo-tauri.hook
    nodejs
    importNpmLock.npmConfigHook
    pkg-config
    wrapGAppsHook3
  ];

  buildInputs = [
    openssl
    glib-networking
    librsvg
    webkitgtk_4_1
  ];

  # The tests need a real sshd, nix and a display; `scripts/nixdeck.sh test` runs them.
  doCheck = false;

  preFixup = ''
    gappsWrapperArgs+=(--prefix PATH : ${
      lib.makeBinPath [
        nix
        git
        openssh
      ]
    })
  '';

  meta = {
    description = "Point-and-click NixOS provisioning: nixos-anywhere, disko and colmena from one flake";
    license = lib.licenses.mit;
    mainProgram = "nixdeck";
    platforms = lib.platforms.linux;
  };
}
