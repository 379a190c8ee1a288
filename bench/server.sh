#!/usr/bin/env bash
# The report endpoint under load: `pingan serve` (Release) on a data directory, and wrk -t2 -c16
# beside it on this machine's 2 cores, over keep-alive with a logged-in user's token.
#   1. one query repeated (a dashboard many people open: answered from the response cache);
#   2. 14 district-level units x 24 months x 2 languages rotating (each computed once, then cached);
#   3. every request a town and a day never asked before (the cube computes each: the cache's
#      worst case);
#   4. the first page of 事件明细 (the events behind a figure), next to the same page by SQL.
# Usage: bench/server.sh [DATA] (default $BENCH_DATA or build/bench-data/s1). Needs wrk.
# PINGAN_BIN=/path/to/pingan runs another build (a baseline) on the same data.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
need_package wrk wrk
BIN=${PINGAN_BIN:-build/release/pingan}  # PINGAN_BIN: another build, for a side-by-side run
DATA=${1:-${BENCH_DATA:-build/bench-data/s1}}
PORT=${BENCH_PORT:-18089}
DURATION=${BENCH_SECONDS:-10}
[[ -x $BIN ]] || { echo "server.sh: build first (make build)"; exit 1; }
[[ -f $DATA/pingan.db ]] || { echo "server.sh: no data directory at $DATA"; exit 1; }

work=$(mktemp -d)
server_pid=""
cleanup() { [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
if "$BIN" user list --data "$DATA" --json 2>/dev/null | grep -q '"name":"bench"'; then
  printf '%s\n' "$password" | "$BIN" user passwd --data "$DATA" --name bench >/dev/null
else
  printf '%s\n' "$password" | "$BIN" user add --data "$DATA" --name bench --role city_analyst --scope 3301 >/dev/null
fi
"$BIN" serve --data "$DATA" --listen "127.0.0.1:$PORT" 2>"$work/serve.log" &
server_pid=$!
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$PORT/api/health" >/dev/null 2>&1 && break
  sleep 0.5
done
token=$(curl -sf -X POST "http://127.0.0.1:$PORT/api/login" \
  -d "{\"username\":\"bench\",\"password\":\"$password\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
districts=$(curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$PORT/api/units/3301" |
  python3 -c 'import json,sys; print(" ".join(c["code"][:6] for c in json.load(sys.stdin)["children"]))')
towns=$(for d in $districts; do curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$PORT/api/units/$d" |
  python3 -c 'import json,sys; print(" ".join(c["code"][:9] for c in json.load(sys.stdin)["children"]))'; done | tr '\n' ' ')
latest=$(curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$PORT/api/me" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["default_period"])')

# wrk scripts: the token on every request; paths rotating through a list.
python3 - "$work" "$token" "$latest" "$towns" $districts <<'PY'
import sys, datetime, random
work, token, latest, towns, districts = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(), sys.argv[5:]
year, month = map(int, latest.split("-"))
months = []
for _ in range(24):
    months.append(f"{year:04d}-{month:02d}")
    month -= 1
    if month == 0:
        year, month = year - 1, 12
rotating = [f"/api/report?unit={d}&period={m}&lang={l}" for d in districts for m in months for l in ("zh", "en")]
random.seed(1)
random.shuffle(rotating)
# Never asked before: a town and a day each (~190 towns x 900 days, more than a run asks for).
days = [datetime.date(int(latest[:4]), 1, 1) - datetime.timedelta(days=i) for i in range(900)]
fresh = [f"/api/report?unit={t}&period={day.isoformat()}" for day in days for t in towns]
random.shuffle(fresh)
def script(name, paths):
    with open(f"{work}/{name}.lua", "w") as f:
        f.write('wrk.headers["Authorization"] = "Bearer %s"\n' % token)
        f.write("paths = {%s}\n" % ",".join('"%s"' % p for p in paths))
        f.write("counter = 0\n")
        f.write("request = function()\n  counter = counter + 1\n"
                "  return wrk.format(nil, paths[(counter %% #paths) + 1])\nend\n")
    return len(paths)
script("rotating", rotating)
script("fresh", fresh)
with open(f"{work}/one.lua", "w") as f:
    f.write('wrk.headers["Authorization"] = "Bearer %s"\n' % token)
PY

run() {  # name, wrk script, path
  wrk -t2 -c16 -d"${DURATION}s" --latency -s "$work/$2.lua" "http://127.0.0.1:$PORT$3" >"$work/$1.txt" 2>&1
  python3 - "$work/$1.txt" "$1" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
def ms(label):
    m = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", text)
    v, unit = float(m.group(1)), m.group(2)
    return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
what = {"one": "one report query repeated (cache)",
        "rotating": "14 districts x 24 months x 2 languages rotating",
        "fresh": "a unit and day never asked before (cube computes each)"}[sys.argv[2]]
print(f"| GET /api/report, {what} | >= 20,000/s, p99 <= 10 ms | {rps:,.0f}/s, p50 {ms('50'):.2f} ms, p99 {ms('99'):.2f} ms"
      + (f", {errors.group(1)} non-2xx" if errors else "") + " |")
PY
}
echo "| server (wrk -t2 -c16, ${DURATION} s, keep-alive, beside the server on 2 cores) | target | measured |"
echo "|---|---|---|"
run one one "/api/report?unit=330106&period=$latest"
run rotating rotating "/"
run fresh fresh "/"

# 事件明细: the first page (50) of the events behind a figure, for each district and four
# indicators in the latest month, one request at a time over keep-alive; beside it, the query a
# team would write on the same SQLite file (the events of the district's code prefix and the
# indicator's types in the month, in time order, the page and one more: a lower bound on the
# selection, which also checks the measure's conditions and the towns governed from elsewhere).
python3 - "$PORT" "$token" "$latest" "$DATA/pingan.db" $districts <<'PY'
import http.client, json, sqlite3, statistics, sys, time, datetime, fnmatch
port, token, latest, db, districts = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
conn = http.client.HTTPConnection("127.0.0.1", port)
def get(path):
    conn.request("GET", path, headers={"Authorization": "Bearer " + token})
    response = conn.getresponse()
    body = response.read()
    if response.status != 200:
        sys.exit(f"{path}: {response.status} {body[:200]!r}")
    return json.loads(body)
catalog = get("/api/catalog")
types = [t["id"] for t in catalog["types"]]
indicators = ["criminal.filed", "petition.total", "traffic.accidents", "key.dispute"]
patterns = {d["id"]: d["types"] for d in catalog["indicators"] + catalog["key_types"] if d["id"] in indicators}
year, month = map(int, latest.split("-"))
start = datetime.datetime(year, month, 1, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
end = datetime.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=start.tzinfo)
api, sql, rows = [], [], 0
store = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
for district in districts:
    for indicator in indicators:
        began = time.perf_counter()
        page = get(f"/api/events?unit={district}&period={latest}&indicator={indicator}&limit=50")
        api.append((time.perf_counter() - began) * 1000)
        rows += len(page["items"])
        of = [t for t in types if any(fnmatch.fnmatchcase(t, p) for p in patterns[indicator])]
        began = time.perf_counter()
        store.execute(f"SELECT * FROM events WHERE substr(unit, 1, 6) = ? AND type IN ({','.join('?' * len(of))}) "
                      "AND status = 0 AND occurred_at >= ? AND occurred_at < ? ORDER BY occurred_at, id LIMIT 51",
                      [district, *of, int(start.timestamp()), int(end.timestamp())]).fetchall()
        sql.append((time.perf_counter() - began) * 1000)
def p99(values):
    return sorted(values)[max(0, int(round(0.99 * len(values))) - 1)]
print(f"| GET /api/events?indicator (事件明细), first page of 50: {len(api)} figures ({len(districts)} districts x "
      f"{len(indicators)} indicators, {latest}), one at a time | — | p50 {statistics.median(api):.1f} ms, "
      f"p99 {p99(api):.1f} ms; the same page by SQL on the SQLite file: p50 {statistics.median(sql):.0f} ms, "
      f"p99 {p99(sql):.0f} ms |")
PY

# The web app: its size gzipped, and the Overview's first load in headless Chromium.
if [[ -f web/dist/index.html ]]; then
  gz=$(find web/dist -type f -exec sh -c 'gzip -9c "$1" | wc -c' _ {} \; | awk '{s+=$1} END {print s}')
  echo "| the built web app, gzipped (every file in web/dist) | <= 1 MB | $(python3 -c "print(f'{$gz/1024:.0f} KB')") |"
  load=$(BASE_URL="http://127.0.0.1:$PORT" TOKEN="$token" node bench/first_load.mjs)
  python3 - "$load" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
print(f"| first load of the Overview, localhost, empty cache (median of {r['runs']}) | <= 1 s | "
      f"{r['cards_ms']} ms to the indicator values, {r['sparklines_ms']} ms to all 33 sparklines |")
PY
fi
