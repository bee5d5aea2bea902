# shellcheck shell=bash disable=SC2034  # its variables are for the scripts that source it
# The local sandbox of scripts/run-app: an oxen-server on loopback, started as soon as its binary
# exists (it may still be building in the background), and its state for the app in
# $SANDBOX/status.json. Source it after lib.sh; don't run it.
#
# status.json (replaced atomically; the app reads it through OXDROP_SANDBOX_STATUS):
#   {"state": "building" | "starting" | "ready" | "failed",
#    "url": "http://127.0.0.1:3111", "log": "/abs/path/of/the/log/to/read",
#    "started_unix": <when the build, or the server, started>,
#    "minutes_left": <whole minutes, while building> | null, "message": "<a sentence for people>"}

SANDBOX="${XDG_DATA_HOME:-$HOME/.local/share}/oxdrop/sandbox"
SANDBOX_PORT="${OXDROP_SANDBOX_PORT:-3111}"
SANDBOX_URL="http://127.0.0.1:$SANDBOX_PORT"
SANDBOX_STATUS="$SANDBOX/status.json"
SANDBOX_BUILD_LOG="$SANDBOX/build.log"
SANDBOX_SERVER_LOG="$SANDBOX/server.log"

# sandbox_status STATE LOG STARTED_UNIX MINUTES_LEFT|- MESSAGE
sandbox_status() {
  local tmp
  tmp="$(mktemp "$SANDBOX/.status.XXXXXX")"
  python3 - "$SANDBOX_URL" "$@" >"$tmp" <<'PY'
import json, sys, time
url, state, log, started, minutes, message = sys.argv[1:]
json.dump({"state": state, "url": url, "log": log, "started_unix": int(started or time.time()),
           "minutes_left": None if minutes == "-" else int(minutes), "message": message}, sys.stdout)
PY
  mv -f "$tmp" "$SANDBOX_STATUS"
}

sandbox_answers() {
  curl -fsS -m 2 -A oxdrop-run "$SANDBOX_URL/api/health" >/dev/null 2>&1
}

# Reports the build's progress until the binary exists; fails when the build ended without it.
sandbox_wait_for_build() {
  local log progress minutes
  while ! oxen_server_dev_ready; do
    log="$(build_info log)"
    if ! oxen_build_running; then
      oxen_server_dev_ready && return 0 # it finished between the two checks
      sandbox_status failed "$log" "$(build_info started)" - \
        "The local sandbox is not available: building its server $(oxen_build_outcome). Its build log: $log"
      return 1
    fi
    read -r -a progress <<<"$(oxen_build_progress)"
    minutes="${progress[2]}"
    sandbox_status building "$log" "$(build_info started)" "$minutes" \
      "Preparing the local sandbox: building oxen-server $OXEN_SERVER_VERSION (${progress[0]} of ${progress[1]} parts compiled$([ "$minutes" = - ] || echo ", about $minutes min left"))."
    sleep 2
  done
}

# Runs in the background for as long as run-app does: waits for the build, starts the server as
# its own child, creates the practice repository, and keeps status.json true. TERM stops the server.
sandbox_serve() {
  local server="" started
  trap '[ -z "$server" ] || kill "$server" 2>/dev/null; exit 0' TERM
  sandbox_wait_for_build || return 0
  if sandbox_answers; then
    sandbox_status ready "$SANDBOX_SERVER_LOG" "$(date +%s)" - \
      "The local sandbox is ready (a server was already running at $SANDBOX_URL)."
    return 0
  fi
  started=$(date +%s)
  sandbox_status starting "$SANDBOX_SERVER_LOG" "$started" - "Starting the local sandbox server."
  (cd "$SANDBOX" && SYNC_DIR="$SANDBOX/sync" RUST_LOG=warn exec "$OXEN_SERVER_DEV" \
    --config-dir "$SANDBOX/config" start --ip 127.0.0.1 --port "$SANDBOX_PORT") >"$SANDBOX_SERVER_LOG" 2>&1 &
  server=$!
  until sandbox_answers; do
    if ! kill -0 "$server" 2>/dev/null || [ $(($(date +%s) - started)) -gt 120 ]; then
      sandbox_status failed "$SANDBOX_SERVER_LOG" "$started" - \
        "The local sandbox server did not start. Its log says why: $SANDBOX_SERVER_LOG"
      return 0
    fi
    sleep 0.2
  done
  # A practice repository, so the newcomer has something to pick.
  curl -fsS -A oxdrop-run -H 'content-type: application/json' -d '{"namespace":"sandbox","name":"first-steps"}' \
    "$SANDBOX_URL/api/repos" >/dev/null 2>&1 || true
  sandbox_status ready "$SANDBOX_SERVER_LOG" "$started" - "The local sandbox is ready at $SANDBOX_URL."
  wait "$server" || true
  sandbox_status failed "$SANDBOX_SERVER_LOG" "$started" - \
    "The local sandbox server stopped. Its log says why: $SANDBOX_SERVER_LOG"
}
