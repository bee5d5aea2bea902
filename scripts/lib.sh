# Shared by scripts/setup, scripts/test, scripts/run-app and scripts/bench. Source it; don't run it.
# Installs are idempotent and cached outside the clone, keyed by version, so a warm machine
# skips them and a cold one builds them once.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${OXDROP_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/oxdrop/tools}"
OXEN_SERVER_VERSION=0.65.2
OXENAI_VERSION=0.65.1
TAURI_DRIVER_VERSION=2.1.0
# The profile the tests' oxen-server is built with: dev builds in half the time of release
# (duckdb and rocksdb dominate); benchmarks build release separately.
OXEN_SERVER_DEV="$TOOLS/oxen-server-$OXEN_SERVER_VERSION-dev/bin/oxen-server"
OXEN_SERVER_RELEASE="$TOOLS/oxen-server-$OXEN_SERVER_VERSION-release/bin/oxen-server"
TAURI_DRIVER="$TOOLS/tauri-driver-$TAURI_DRIVER_VERSION/bin/tauri-driver"
VENV="$TOOLS/venv-oxenai-$OXENAI_VERSION"
export OXDROP_TOOLS_DIR="$TOOLS"

APT_PACKAGES=(
  # Tauri 2 build (WebKitGTK 4.1, GTK 3) and the keychain (libdbus for keyring's Secret Service).
  libwebkit2gtk-4.1-dev build-essential pkg-config curl wget file libxdo-dev libssl-dev
  libayatana-appindicator3-dev librsvg2-dev libdbus-1-dev
  # oxen-server from crates.io (duckdb, rocksdb, zlib-ng, bindgen).
  cmake clang libclang-dev
  # Tests: the real window, the real keychain, a real proxy, real OS drags and dialogs.
  webkit2gtk-driver xvfb xauth x11-utils xdotool imagemagick
  dbus dbus-x11 gnome-keyring libsecret-tools nginx-light openssl
  python3-gi gir1.2-gtk-3.0 python3-venv xdg-utils
)

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
note() { printf '   %s\n' "$*"; }
die() { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_apt_packages() {
  local missing=()
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    note "Debian packages: all present"
    return
  fi
  step "Installing ${#missing[@]} Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

check_toolchains() {
  command -v cargo >/dev/null || die "cargo is missing. Install Rust with rustup (https://rustup.rs), then run this again."
  command -v node >/dev/null || die "Node.js is missing. Install Node.js 20.19+ and npm, then run this again."
  local node_major
  node_major="$(node -p 'process.versions.node.split(".")[0]')"
  [ "$node_major" -ge 20 ] || die "Node.js $(node -v) is too old; OxDrop's UI needs 20.19 or newer."
  command -v python3 >/dev/null || die "python3 is missing (needed for the oxenai checker)."
}

install_ui_deps() {
  local stamp="$ROOT/ui/node_modules/.oxdrop-lock.sha256" want
  want="$(sha256sum "$ROOT/ui/package-lock.json" | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    note "UI dependencies: up to date"
    return
  fi
  step "Installing the UI's npm dependencies (versions from package-lock.json)"
  # Not `npm ci`: the registry mirror these machines use lacks the Tauri CLI's binaries for other
  # platforms, so the lockfile cannot list them and `npm ci` refuses it. `npm install --no-save`
  # installs exactly the locked versions and never rewrites the lockfile.
  (cd "$ROOT/ui" && npm install --no-save --no-audit --no-fund --loglevel=error)
  echo "$want" > "$stamp"
}

# The swagger-ui zip oxen-server's build script would download from GitHub ships in a crates.io
# crate; point the build at it so it works with only the package registries.
swagger_zip() {
  local scratch="$TOOLS/swagger-fetch"
  mkdir -p "$scratch/src"
  cat > "$scratch/Cargo.toml" <<'TOML'
[package]
name = "swagger-fetch"
version = "0.0.0"
edition = "2021"
[dependencies]
utoipa-swagger-ui-vendored = "=0.2.0"
TOML
  echo 'fn main() {}' > "$scratch/src/main.rs"
  (cd "$scratch" && cargo fetch -q)
  local dir
  dir="$(cd "$scratch" && cargo metadata --format-version 1 -q \
    | python3 -c 'import json,sys; d=json.load(sys.stdin); print(next(p["manifest_path"] for p in d["packages"] if p["name"]=="utoipa-swagger-ui-vendored"))')"
  echo "$(dirname "$dir")/res/v5.32.6.zip"
}

# build_oxen_server dev|release
build_oxen_server() {
  local profile="$1" bin root args=()
  if [ "$profile" = dev ]; then bin="$OXEN_SERVER_DEV"; args=(--debug); else bin="$OXEN_SERVER_RELEASE"; fi
  if [ -x "$bin" ] && "$bin" --version 2>/dev/null | grep -q "$OXEN_SERVER_VERSION"; then
    note "oxen-server $OXEN_SERVER_VERSION ($profile): cached at $bin"
    return
  fi
  root="$(dirname "$(dirname "$bin")")"
  step "Building oxen-server $OXEN_SERVER_VERSION ($profile) from crates.io — once per machine, cached in $root"
  [ "$profile" = dev ] && note "about 30-35 minutes on 2 cores" || note "about 60-75 minutes on 2 cores"
  local zip start
  zip="$(swagger_zip)"
  [ -f "$zip" ] || die "could not find the vendored swagger-ui zip"
  start=$(date +%s)
  SWAGGER_UI_DOWNLOAD_URL="file://$zip" CARGO_PROFILE_DEV_DEBUG=0 \
    cargo install oxen-server --version "$OXEN_SERVER_VERSION" --locked "${args[@]}" \
      --root "$root" --target-dir "$TOOLS/oxen-server-build-$profile" -q
  rm -rf "$TOOLS/oxen-server-build-$profile"
  note "built in $(( $(date +%s) - start )) s"
}

install_tauri_driver() {
  if [ -x "$TAURI_DRIVER" ]; then
    note "tauri-driver $TAURI_DRIVER_VERSION: cached"
    return
  fi
  step "Building tauri-driver $TAURI_DRIVER_VERSION"
  cargo install tauri-driver --version "$TAURI_DRIVER_VERSION" --locked \
    --root "$TOOLS/tauri-driver-$TAURI_DRIVER_VERSION" -q
}

install_oxenai() {
  if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import oxen' 2>/dev/null; then
    note "oxenai $OXENAI_VERSION: cached in $VENV"
    return
  fi
  step "Installing Oxen's Python client (oxenai $OXENAI_VERSION) into $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "oxenai==$OXENAI_VERSION"
}

install_nextest() {
  if cargo nextest --version >/dev/null 2>&1; then
    note "cargo-nextest: present"
    return
  fi
  step "Installing cargo-nextest"
  cargo install cargo-nextest --locked -q
}

# Runs "$@" inside a private D-Bus session with an unlocked gnome-keyring: the real Secret
# Service the keychain code talks to, with its data in a throwaway folder.
with_keyring_session() {
  local keyring_home rc=0
  keyring_home="$(mktemp -d /tmp/oxdrop-keyring.XXXXXX)"
  KEYRING_HOME="$keyring_home" dbus-run-session -- bash -c '
    export XDG_DATA_HOME="$KEYRING_HOME/data" XDG_RUNTIME_DIR="$KEYRING_HOME/run"
    mkdir -p "$XDG_DATA_HOME" && mkdir -m 700 -p "$XDG_RUNTIME_DIR"
    printf "oxdrop-session" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
    exec "$@"' bash "$@" || rc=$?
  rm -rf "$keyring_home"
  return "$rc"
}
