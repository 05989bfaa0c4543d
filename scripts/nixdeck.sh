#!/usr/bin/env bash
# Set up a Debian 12 machine for nixdeck and then run it or its tests.
#
#   bash scripts/nixdeck.sh run            install what is missing, build, open the app
#   bash scripts/nixdeck.sh test           install what is missing, build, run every check and test
#   bash scripts/nixdeck.sh bench          install what is missing, build in release, run every
#                                          benchmark, print a table, write target/bench/summary.json
#   bash scripts/nixdeck.sh bench --smoke  the same at tiny sizes on the test build (a check, not figures)
#   bash scripts/nixdeck.sh package        install what is missing, build the Debian package (.deb)
#
# Idempotent: each step skips what is already there. Needs root (or sudo) for apt.
set -euo pipefail

cd "$(dirname "$0")/.."
mode="${1:-}"
variant="${2:-}"
case "$mode $variant" in
  "run "|"test "|"bench "|"bench --smoke"|"package ") ;;
  *) echo "usage: bash scripts/nixdeck.sh run|test|bench [--smoke]|package" >&2; exit 2 ;;
esac

say() { printf '\n==> %s\n' "$*"; }

# Tests and the bench smoke need no debugger symbols: without them target/ is a
# fraction of the size and linking the test binaries is much faster. A caller's
# own setting wins.
export CARGO_PROFILE_DEV_DEBUG="${CARGO_PROFILE_DEV_DEBUG:-0}"


as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root for: $*" >&2; exit 1; fi
}

# Debian packages: the webview and its build deps (Tauri 2), nix for evaluating what
# nixdeck writes, OpenSSH for the probe tests (busybox-static for the NixOS-like test tree),
# Xvfb + WebKitWebDriver for the e2e tests.
packages=(
  build-essential pkg-config curl file git
  libwebkit2gtk-4.1-dev libssl-dev libxdo-dev libayatana-appindicator3-dev librsvg2-dev
  nix-bin openssh-server openssh-client
  xvfb webkit2gtk-driver dbus-x11 dbus-daemon xauth cpio
  nodejs npm
  fdisk util-linux gdisk sudo busybox-static
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node and npm may come from elsewhere (nodesource, nvm); only install Debian's when absent.
if command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=()
  for p in "${missing[@]}"; do [[ "$p" == nodejs || "$p" == npm ]] || filtered+=("$p"); done
  missing=("${filtered[@]}")
fi
if [ ${#missing[@]} -gt 0 ]; then
  say "apt-get install ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null; then
  if [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  else
    echo "Rust is not installed: install it with rustup (https://rustup.rs), then run this again." >&2
    exit 1
  fi
fi

say "npm ci"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

# The same as `npx tauri build --debug --no-bundle`, without the Tauri CLI's file
# watcher, which fails on machines short of inotify instances.
build_app() {
  say "build the app (front end, then the binary with the bundled front end)"
  npm run build
  cargo build -p nixdeck --features tauri/custom-protocol
}

# Every bench writes target/bench/<bench>.json (a flat object of figure -> number);
# the `summary` bench merges them into target/bench/summary.json and prints the
# table against issue 17's targets. `smoke` runs them at tiny sizes on the dev
# profile the tests already built: it checks that they work, in well under a minute.
# The window bench drives the app and a blank Tauri window (src-tauri/examples/blank.rs)
# of the same profile, both with the front end inside, under Xvfb via tauri-driver.
run_benches() {
  local kind="$1" dir="$PWD/target/bench"
  local cargo_flags=() bench_args=() app_flags=(--release)
  if [ "$kind" = smoke ]; then
    cargo_flags=(--profile dev)
    bench_args=(--smoke)
    app_flags=()
  fi
  rm -rf "$dir"
  mkdir -p "$dir"
  export NIXDECK_BENCH_DIR="$dir"
  if ! command -v tauri-driver >/dev/null && [ ! -x "$HOME/.cargo/bin/tauri-driver" ]; then
    say "cargo install tauri-driver --locked"
    cargo install tauri-driver --locked
  fi
  export PATH="$HOME/.cargo/bin:$PATH"
  say "build the app and the blank Tauri window ($kind)"
  npm run build
  cargo build "${app_flags[@]}" -p nixdeck --features tauri/custom-protocol --bin nixdeck --example blank
  say "build the benchmarks ($kind)"
  cargo bench -p nixdeck-tests "${cargo_flags[@]}" --no-run \
    --bench runner --bench log --bench probe --bench window --bench summary
  local b
  for b in runner log probe window; do
    say "bench $b ($kind)"
    # What the build and the last bench wrote goes to disk now, not as
    # writeback on the cores while the next bench times (the probe bench's
    # 20-at-once figure moved from 1.4 to 1.6 right after a build).
    sync
    cargo bench -p nixdeck-tests "${cargo_flags[@]}" --bench "$b" -- "${bench_args[@]}"
  done
  cargo bench -p nixdeck-tests "${cargo_flags[@]}" --bench summary -- "${bench_args[@]}"
}

if [ "$mode" = bench ]; then
  if [ "$variant" = --smoke ]; then run_benches smoke; else run_benches full; fi
  exit 0
fi

if [ "$mode" = run ]; then
  build_app
  say "starting nixdeck"
  exec ./target/debug/nixdeck
fi

if [ "$mode" = package ]; then
  # `tauri build` (unlike `tauri dev`) starts no file watcher. It runs `npm run build`
  # (beforeBuildCommand), a release build with the front end inside, then the deb
  # bundler: tauri.conf.json's bundle section gives the icons, the desktop entry's
  # category and the Recommends; the CLI itself adds the webview's Depends.
  say "build the Debian package (release build: this takes a while)"
  npx --no-install tauri build --ci --bundles deb
  target_dir=$(cargo metadata --no-deps --format-version 1 |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')
  # The newest one: earlier versions' packages stay in the same directory.
  deb=$(ls -t "$target_dir"/release/bundle/deb/*.deb 2>/dev/null | head -n 1)
  [ -n "$deb" ] || { echo "no .deb under $target_dir/release/bundle/deb" >&2; exit 1; }
  dpkg-deb --info "$deb"
  say "package: $deb"
  echo "install it with: sudo apt install $deb"
  exit 0
fi

if ! command -v tauri-driver >/dev/null && [ ! -x "$HOME/.cargo/bin/tauri-driver" ]; then
  say "cargo install tauri-driver --locked"
  cargo install tauri-driver --locked
fi
export PATH="$HOME/.cargo/bin:$PATH"

say "cargo fmt --check"
cargo fmt --all -- --check

say "svelte-check"
npm run check

say "vitest"
npm test

say "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

say "cargo test (unit and integration)"
cargo test --workspace --exclude nixdeck-tests
cargo test -p nixdeck-tests --test integration
say "nixdeck-api (the workflows the window and the CLI share)"
cargo test -p nixdeck-tests --test api -- --test-threads=1

say "benchmark smoke run (tiny sizes: every bench still works)"
run_benches smoke

# Built last: the test builds above compile the app without the bundled front end.
build_app
say "end-to-end (the real window under Xvfb, one test at a time)"
cargo test -p nixdeck-tests --test e2e -- --test-threads=1

say "all checks passed"
