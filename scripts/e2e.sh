#!/usr/bin/env bash
# The web app's end-to-end test (tests/e2e/run.mjs, headless Chromium via playwright-core)
# against `pingan serve` on a copy of a data directory, with an admin and a district analyst
# made for the run. Used by ctest (test e2e_web) and `make screenshots`.
#   scripts/e2e.sh BIN DATA [SCREENSHOT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$1; SOURCE_DATA=$2; SHOTS=${3:-}
[[ -f web/dist/index.html ]] || { echo "e2e: the web app is not built (make web)"; exit 1; }
[[ -x /usr/bin/chromium ]] || { echo "e2e: Debian's chromium is missing (make deps installs it)"; exit 1; }
work=$(mktemp -d)
server_pid=""
cleanup() { [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
cp -r "$SOURCE_DATA" "$work/data"
export ASAN_OPTIONS=detect_leaks=0
admin_password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
district_password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
printf '%s\n' "$admin_password" | "$BIN" user add --data "$work/data" --name e2e-admin --role admin >/dev/null
printf '%s\n' "$district_password" |
  "$BIN" user add --data "$work/data" --name e2e-xihu --role district_analyst --scope 330106 >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN" serve --data "$work/data" --listen "127.0.0.1:$port" --web web/dist 2>"$work/serve.log" &
server_pid=$!
for _ in $(seq 1 240); do
  curl -sf "http://127.0.0.1:$port/api/health" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.log"; exit 1; }
  sleep 0.5
done
BASE_URL="http://127.0.0.1:$port" E2E_USER=e2e-admin E2E_PASSWORD="$admin_password" \
  E2E_SCOPED_USER=e2e-xihu E2E_SCOPED_PASSWORD="$district_password" SCREENSHOTS="$SHOTS" \
  node tests/e2e/run.mjs
