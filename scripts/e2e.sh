#!/usr/bin/env bash
# The web app's end-to-end test (tests/e2e/run.mjs, headless Chromium via playwright-core)
# against `pingan serve` on a copy of a data directory, with an admin and a district analyst
# made for the run; then the closed loop (tests/e2e/loop.mjs) with a town official and a grid
# worker made for a warning the server raised. Used by ctest (test e2e_web) and
# `make screenshots`.
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
base="http://127.0.0.1:$port"

# The closed loop needs a warning waiting for dispatch (the server raises the latest month's
# within seconds of its start; orange ones wait for a town official) in a town, community or
# grid with grids, and a town official and a grid worker for its first grid. Made before the
# first test runs, so that its pages are not disturbed by the new users.
token=$(curl -sf -X POST "$base/api/login" -H 'Content-Type: application/json' \
  -d "{\"username\":\"e2e-admin\",\"password\":\"$admin_password\"}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
pick=""
for _ in $(seq 1 60); do
  pick=$(curl -sf "$base/api/warnings?undispatched=1&limit=1000" -H "Authorization: Bearer $token" | python3 -c '
import json, sys
items = json.load(sys.stdin).get("items", [])
fit = [w for w in items if w.get("level") in ("town", "community", "grid") and w.get("grids")]
# Orange first (red ones are dispatched by the server itself), then the most grids in one town.
fit.sort(key=lambda w: (w.get("grade") != "orange", -sum(g[:9] == w["grids"][0][:9] for g in w["grids"]), w["id"]))
if fit:
    w = fit[0]
    print(w["id"], w["grids"][0])
' || true)
  [[ -n $pick ]] && break
  sleep 1
done
[[ -n $pick ]] || { echo "e2e: no undispatched warning with grids (the server raises them after its start)"; cat "$work/serve.log"; exit 1; }
read -r warning grid <<<"$pick"
official_password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
worker_password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
printf '%s\n' "$official_password" |
  "$BIN" user add --data "$work/data" --name e2e-town --role town_official --scope "${grid:0:9}" >/dev/null
printf '%s\n' "$worker_password" |
  "$BIN" user add --data "$work/data" --name e2e-grid --role grid_worker --scope "${grid:0:15}" >/dev/null
echo "e2e: warning $warning, grid $grid: town official e2e-town (${grid:0:9}), grid worker e2e-grid (${grid:0:15})"

# An address of this demo city down to the room (the labelled set `pingan init` wrote), for the
# address page: it must show as matched.
address=$(python3 -c '
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    item = json.loads(line)
    if "room" in item.get("expect", {}):
        print(item["text"])
        break
' "$work/data/eval/clean.jsonl" 2>/dev/null || true)
[[ -n $address ]] || { echo "e2e: no room-level address in $work/data/eval/clean.jsonl"; exit 1; }
# A point inside a grid of this demo city, for the address page's point lookup: the first of a
# lattice over the city that `pingan geocode --points` places in a grid.
point=$(python3 -c '
for i in range(15):
    for j in range(20):
        print(f"{118.9 + j * 0.1:.4f},{29.2 + i * 0.1:.4f}")
' | "$BIN" geocode --points --data "$work/data" | python3 -c '
import json, sys
inside = [item["input"] for item in map(json.loads, sys.stdin) if item["status"] == "matched"]
print(inside[0] if inside else "")
')
[[ -n $point ]] || { echo "e2e: no point of the lattice lies in a grid of the demo city"; exit 1; }
BASE_URL="$base" E2E_USER=e2e-admin E2E_PASSWORD="$admin_password" \
  E2E_SCOPED_USER=e2e-xihu E2E_SCOPED_PASSWORD="$district_password" SCREENSHOTS="$SHOTS" E2E_ADDRESS="$address" \
  E2E_POINT="$point" node tests/e2e/run.mjs
BASE_URL="$base" E2E_OFFICIAL=e2e-town E2E_OFFICIAL_PASSWORD="$official_password" \
  E2E_WORKER=e2e-grid E2E_WORKER_PASSWORD="$worker_password" E2E_WARNING="$warning" SCREENSHOTS="$SHOTS" \
  node tests/e2e/loop.mjs
