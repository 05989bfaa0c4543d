{
  description = "nixdeck: point-and-click NixOS provisioning with nixos-anywhere, disko and colmena";

  # nixos-unstable: Tauri 2.12 and its plugins need rustc 1.90, newer than nixos-25.05 has.
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs =
    { self, nixpkgs }:
    let
      # The webview (WebKitGTK) is Linux-only here; macOS would need its own bundle.
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forEachSystem = f: nixpkgs.lib.genAttrs systems (system: f system nixpkgs.legacyPackages.${system});
    in
    {
      packages = forEachSystem (
        system: pkgs: {
          nixdeck = pkgs.callPackage ./nix/package.nix { };
          default = self.packages.${system}.nixdeck;
        }
      );

      apps = forEachSystem (
        system: pkgs: {
          default = {
            type = "app";
            program = "${self.packages.${system}.nixdeck}/bin/nixdeck";
          };
        }
      );
    };
}
