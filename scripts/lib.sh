# shellcheck shell=bash disable=SC2034  # its variables are for the scripts that source it
# Shared by scripts/setup, test, run-app, package and bench. Source it; don't run it.
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

# What building and running the app needs (scripts/setup --app, scripts/run-app, scripts/package).
APT_APP_PACKAGES=(
  # Tauri 2 build (WebKitGTK 4.1, GTK 3) and the keychain (libdbus for keyring's Secret Service).
  libwebkit2gtk-4.1-dev build-essential pkg-config curl wget file libxdo-dev libssl-dev
  libayatana-appindicator3-dev librsvg2-dev libdbus-1-dev
  # The tray icon at run time (watched folders keep uploading with the window closed) and the
  # upload's bar on the app's icon in docks; without them the app runs, only without both.
  libayatana-appindicator3-1 libunity9
  # The sandbox's oxen-server from the Rust package registry (duckdb, rocksdb, zlib-ng, bindgen), built in the background.
  cmake clang libclang-dev mold
  # Running without a desktop: a virtual display, screenshots, a private keychain.
  xvfb xauth x11-utils xdotool imagemagick dbus dbus-x11 gnome-keyring
)
# What the tests add: the real window over WebDriver, the real keychain, a real proxy, real OS
# drags and dialogs, and reading the .rpm.
APT_TEST_PACKAGES=(
  webkit2gtk-driver libsecret-tools nginx-light openssl
  python3-gi gir1.2-gtk-3.0 python3-venv xdg-utils rpm xclip
  # The tray icon and the progress bar on the app's icon (libunity), so the end-to-end tests
  # run the app as users have it.
  libayatana-appindicator3-1 libunity9
)

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
note() { printf '   %s\n' "$*"; }
die() { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# install_apt_packages PACKAGE...
install_apt_packages() {
  local missing=()
  for pkg in "$@"; do
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

# The swagger-ui zip oxen-server's build script would download from GitHub ships in a Rust package registry
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
  step "Building oxen-server $OXEN_SERVER_VERSION ($profile) from the Rust package registry — once per machine, cached in $root"
  if [ "$profile" = dev ]; then note "30-60 minutes on 2 cores"; else note "more than an hour on 2 cores"; fi
  local zip start quiet=(-q)
  # Into a log (the background build), cargo lists each crate it compiles: that is the progress.
  [ -t 1 ] || quiet=()
  zip="$(swagger_zip)"
  [ -f "$zip" ] || die "could not find the vendored swagger-ui zip"
  start=$(date +%s)
  # clang compiles duckdb's and rocksdb's C++ (the long pole) faster than g++ (-O0: 55-96 s
  # against 133-140 s for the same 12 rocksdb files here), and mold links in a fraction of ld's
  # time; neither changes what the server does.
  SWAGGER_UI_DOWNLOAD_URL="file://$zip" CARGO_PROFILE_DEV_DEBUG=0 \
    CC=clang CXX=clang++ RUSTFLAGS="-C link-arg=-fuse-ld=mold" \
    cargo install oxen-server --version "$OXEN_SERVER_VERSION" --locked "${args[@]}" \
      --root "$root" --target-dir "$TOOLS/oxen-server-build-$profile" "${quiet[@]}"
  rm -rf "$TOOLS/oxen-server-build-$profile"
  note "built in $(( $(date +%s) - start )) s"
}

# --- The tests' and the sandbox's oxen-server, built in the background -------------------------
# A cold build takes 30-60 minutes on two cores, so scripts/run-app and scripts/test start it as a
# detached job and carry on. One build at a time: the job holds an flock on OXEN_BUILD_LOCK for its
# whole life, and whoever else needs the server waits on that lock (attaches) instead of starting a
# second build. OXEN_BUILD_INFO says when it started, where its log is and how it ended.
OXEN_BUILD_LOCK="$TOOLS/oxen-server-$OXEN_SERVER_VERSION-dev.lock"
OXEN_BUILD_INFO="$TOOLS/oxen-server-$OXEN_SERVER_VERSION-dev.build"
OXEN_BUILD_DIR="$TOOLS/oxen-server-build-dev"
# The log of a build that setup or test starts (run-app keeps it in the sandbox folder).
OXEN_BUILD_LOG="$TOOLS/oxen-server-$OXEN_SERVER_VERSION-dev-build.log"
# How many crates `cargo install oxen-server --version 0.65.2 --locked` compiles on x86_64 Linux:
# the distinct packages of `cargo tree -e normal,build` over its Cargo.lock (cargo prints one
# "Compiling" line per package). Measured 2026-11-27; measure again when the version changes.
OXEN_BUILD_CRATES=701

oxen_server_dev_ready() {
  [ -x "$OXEN_SERVER_DEV" ] && "$OXEN_SERVER_DEV" --version 2>/dev/null | grep -q "$OXEN_SERVER_VERSION"
}

oxen_build_running() {
  [ -e "$OXEN_BUILD_LOCK" ] && ! flock -n "$OXEN_BUILD_LOCK" true
}

# build_info KEY: started, log, baseline or result of the running (or last) build.
build_info() {
  sed -n "s/^$1=//p" "$OXEN_BUILD_INFO" 2>/dev/null | tail -n 1
}

# Crates an interrupted build already compiled: cargo will not list them again.
compiled_crates() {
  local deps="$1/debug/deps"
  [ -d "$deps" ] || { echo 0; return; }
  find "$deps" -maxdepth 1 \( -name 'lib*.rlib' -o -name 'lib*.so' \) -printf '%f\n' \
    | sed -E 's/-[0-9a-f]+\.(rlib|so)$//' | sort -u | wc -l
}

# start_oxen_server_build LOG NICENESS: starts the detached build and returns at once; does nothing
# when the server is built or a build is already running (that build's log is the one to read).
start_oxen_server_build() {
  local log="$1" niceness="$2" lock_fd
  oxen_server_dev_ready && return 0
  mkdir -p "$TOOLS" "$(dirname "$log")"
  exec {lock_fd}>>"$OXEN_BUILD_LOCK"
  if ! flock -n "$lock_fd"; then
    exec {lock_fd}>&-
    note "oxen-server $OXEN_SERVER_VERSION is already being built; attaching to that build (log: $(build_info log))"
    return 0
  fi
  if oxen_server_dev_ready; then exec {lock_fd}>&-; return 0; fi # it finished a moment ago
  printf 'started=%s\nlog=%s\nbaseline=%s\n' "$(date +%s)" "$log" "$(compiled_crates "$OXEN_BUILD_DIR")" \
    >"$OXEN_BUILD_INFO.tmp"
  mv -f "$OXEN_BUILD_INFO.tmp" "$OXEN_BUILD_INFO"
  : >"$log"
  # The job inherits the locked descriptor, so the lock is held exactly as long as the job runs.
  # setsid and nohup let it outlive this script, its terminal and Ctrl-C; started from a subshell
  # that exits at once, it is nobody's child to wait for.
  # Its session's group gets the same niceness: the kernel's autogroup scheduling (on in Debian)
  # shares the CPU between sessions before nice counts, so nice alone would not let the app and
  # the rest of the desktop go first.
  # shellcheck disable=SC2016  # expanded by the job's own bash
  (setsid nohup nice -n "$niceness" bash -c 'echo "$2" >/proc/self/autogroup 2>/dev/null || true
    source "$1"; oxen_server_build_job' _ "$ROOT/scripts/lib.sh" "$niceness" </dev/null >>"$log" 2>&1 &)
  exec {lock_fd}>&-
  note "building oxen-server $OXEN_SERVER_VERSION in the background (log: $log)"
}

# The detached job. A separate bash runs the build, so that `set -e` stops it at the first error
# (inside an `if`, bash ignores -e).
oxen_server_build_job() {
  local result=failed
  if bash -c 'source "$1"; build_oxen_server dev' _ "$ROOT/scripts/lib.sh" && oxen_server_dev_ready; then
    result=ok
  fi
  printf 'result=%s\nfinished=%s\n' "$result" "$(date +%s)" >>"$OXEN_BUILD_INFO"
}

# oxen_build_progress: "COMPILED TOTAL MINUTES_LEFT" for the running build; MINUTES_LEFT is "-"
# until there is enough to estimate from.
oxen_build_progress() {
  local log started baseline compiled now last_line
  log="$(build_info log)" started="$(build_info started)" baseline="$(build_info baseline)"
  compiled=$(grep -c '^ *Compiling ' "$log" 2>/dev/null || true)
  now=$(date +%s)
  started=${started:-$now} baseline=${baseline:-0}
  # When the last crate started: cargo writes nothing while a crate compiles.
  last_line=$(stat -c %Y "$log" 2>/dev/null || echo "$now")
  echo "$((baseline + compiled)) $OXEN_BUILD_CRATES $(minutes_left "$baseline" "$compiled" \
    $((last_line - started)) $((now - started)))"
}

# Where the time of a cold build goes: "crates started:per mille of the wall time by then", from
# the cold `scripts/test` run of 2026-11-28 (clang and mold, 3,468 s, nice-10 builds beside it,
# sampled every minute). Crates are far from equal: the first 550 start in the first 30 % of the
# time; then the C++ of duckdb and rocksdb (build scripts, side by side) holds the 551st back until
# 91 %; the oxen crates and the link take the rest. (The curve of the g++ build before it put the
# C++ at 22-95 %: replayed on this run, its estimate was 20-30 minutes too long.)
OXEN_BUILD_CURVE=(0:0 121:26 122:56 126:61 277:113 375:200 452:252 545:290 550:303 551:915 615:945 701:992)

# time_share CRATES: per mille of a cold build's wall time gone when that many crates have started.
time_share() {
  local crates="$1" point prev_c=0 prev_t=0 c t
  for point in "${OXEN_BUILD_CURVE[@]}"; do
    c=${point%%:*} t=${point##*:}
    if [ "$crates" -le "$c" ]; then
      [ "$c" -gt "$prev_c" ] || { echo "$t"; return; }
      echo $((prev_t + (t - prev_t) * (crates - prev_c) / (c - prev_c)))
      return
    fi
    prev_c=$c prev_t=$t
  done
  echo 1000
}

# minutes_left BASELINE COMPILED AT_LAST_CRATE NOW (seconds since the build started): the rest
# at the pace of the build so far. While a long crate holds the next one back, the estimate
# counts down from when it started, but never below what the crates after it will take.
minutes_left() {
  local baseline="$1" compiled="$2" at_last="$3" now="$4" from to next rest
  if [ "$compiled" -lt 10 ] || [ "$at_last" -lt 30 ]; then echo -; return; fi
  from=$(time_share "$baseline") to=$(time_share "$((baseline + compiled))")
  next=$(time_share "$((baseline + compiled + 1))")
  if [ "$to" -le "$from" ]; then echo -; return; fi
  rest=$((at_last * (1000 - to) / (to - from) - (now - at_last)))
  [ "$rest" -ge $((at_last * (1000 - next) / (to - from))) ] || rest=$((at_last * (1000 - next) / (to - from)))
  # Rounded up: "about 0 minutes" would be a promise the linker may not keep.
  echo $(((rest + 59) / 60))
}

# wait_oxen_server_build: waits for the background build (a progress line a minute), then fails
# with the end of its log unless the server is there.
wait_oxen_server_build() {
  local last=0 progress
  while oxen_build_running; do
    if [ $(($(date +%s) - last)) -ge 60 ]; then
      read -r -a progress <<<"$(oxen_build_progress)"
      note "oxen-server: ${progress[0]} of ${progress[1]} crates compiled, $([ "${progress[2]}" = - ] \
        && echo "estimating the time left" || echo "about ${progress[2]} min left")"
      last=$(date +%s)
    fi
    sleep 5
  done
  oxen_server_dev_ready && return 0
  printf '\033[31merror:\033[0m the oxen-server build %s. The end of its log (%s):\n' \
    "$(oxen_build_outcome)" "$(build_info log)" >&2
  tail -n 40 "$(build_info log)" >&2 || true
  return 1
}

# How the last build ended without a server: it failed, or it was stopped before finishing.
oxen_build_outcome() {
  if [ "$(build_info result)" = failed ]; then
    echo "failed"
  else
    echo "stopped before it finished (the next run resumes it)"
  fi
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

# A fresh clone (CI's is one every run) compiles into a build folder kept beside the tools, so a
# warm machine recompiles only OxDrop's own crates, not Tauri and the other ~500 dependencies. A
# checkout that already has its own target/ keeps it. One run at a time uses the shared folder: the
# lock is held until the calling script exits. Past SHARED_TARGET_MAX_MB (each clone path leaves
# its own copy of OxDrop's crates behind) it starts over.
SHARED_TARGET="$TOOLS/cargo-target"
SHARED_TARGET_MAX_MB=20000
use_shared_cargo_target() {
  [ "${OXDROP_SHARED_TARGET:-1}" = 1 ] || return 0
  if [ -e "$ROOT/target" ] && [ ! -L "$ROOT/target" ]; then
    return 0
  fi
  mkdir -p "$SHARED_TARGET"
  exec {shared_target_lock}>"$SHARED_TARGET.lock"
  if ! flock -n "$shared_target_lock"; then
    note "another run is using the shared build folder $SHARED_TARGET: waiting for it"
    flock "$shared_target_lock"
  fi
  if [ "$(du -sm "$SHARED_TARGET" | cut -f1)" -gt "$SHARED_TARGET_MAX_MB" ]; then
    note "the shared build folder is over $SHARED_TARGET_MAX_MB MB: starting it over"
    rm -rf "$SHARED_TARGET" && mkdir -p "$SHARED_TARGET"
  fi
  ln -sfn "$SHARED_TARGET" "$ROOT/target"
  note "building in $SHARED_TARGET (shared between clones; OXDROP_SHARED_TARGET=0 to keep target/ in the clone)"
}

# without_build_lock CMD...: runs CMD without the shared build folder's lock open in it, so a
# process the tests leave behind (a stray nginx worker or WebKitWebDriver) cannot keep the lock,
# and the next run waiting, after this one ended.
without_build_lock() {
  if [ -n "${shared_target_lock:-}" ]; then
    "$@" {shared_target_lock}>&-
  else
    "$@"
  fi
}

# Runs "$@" inside a private D-Bus session with an unlocked gnome-keyring: the real Secret
# Service the keychain code talks to, with its data in a throwaway folder.
with_keyring_session() {
  local keyring_home rc=0
  keyring_home="$(mktemp -d /tmp/oxdrop-keyring.XXXXXX)"
  # shellcheck disable=SC2016  # expanded inside the session
  KEYRING_HOME="$keyring_home" dbus-run-session -- bash -c '
    export XDG_DATA_HOME="$KEYRING_HOME/data" XDG_RUNTIME_DIR="$KEYRING_HOME/run"
    mkdir -p "$XDG_DATA_HOME" && mkdir -m 700 -p "$XDG_RUNTIME_DIR"
    printf "oxdrop-session" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
    exec "$@"' bash "$@" || rc=$?
  rm -rf "$keyring_home"
  return "$rc"
}
