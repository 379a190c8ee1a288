#!/usr/bin/env bash
# `make bench`: the registry's targets on a scale-1 data directory, Release build.
#   init at scale 1 with the national registry (target <= 60 s), opening it again (<= 3 s),
#   memory with it loaded (<= 2 GB), parent/children/ancestor queries by id (>= 10 M/s).
#   Then the geocoder, points, address-parse, `pingan ingest` next to PostgreSQL COPY, and the
#   report by SQL on PostgreSQL and SQLite (the cube's baseline).
# Prints a Markdown table for the README's Performance section.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=build/release/pingan
DATA=${BENCH_DATA:-build/bench-data/s1}
mkdir -p "$(dirname "$DATA")"

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
/usr/bin/time -f "%e %M" -o "$tmp" "$BIN" init --data "$DATA" --seed 1 --scale 1 --rebuild >/dev/null
read -r init_s init_kb <"$tmp"

best_open=999
for run in 1 2 3; do
  /usr/bin/time -f "%e %M" -o "$tmp" "$BIN" info --data "$DATA" --json >"$tmp.json"
  read -r open_s open_kb <"$tmp"
  load=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["load_seconds"])' "$tmp.json")
  best_open=$(python3 -c "print(min($best_open, $load))")
done
rm -f "$tmp.json"

PINGAN_BENCH_DATA="$DATA" build/release/bench/registry_benchmark --benchmark_min_time=0.5 \
  --benchmark_format=json --benchmark_out="$tmp" --benchmark_out_format=json >/dev/null 2>&1
python3 - "$tmp" "$init_s" "$init_kb" "$best_open" "$open_kb" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))
init_s, init_kb, open_s, open_kb = float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
print("| measure | target | measured |")
print("|---|---|---|")
print(f"| `pingan init` at scale 1, national registry (wall) | <= 60 s | {init_s:.1f} s (peak RSS {init_kb/1024/1024:.2f} GB) |")
print(f"| opening it again for queries (registry load) | <= 3 s | {open_s:.2f} s |")
print(f"| memory with it loaded (`pingan info`, peak RSS) | <= 2 GB | {open_kb/1024/1024:.2f} GB |")
notes = {
    "BM_Parent": "parent of a random unit",
    "BM_Children": "children span of a random unit",
    "BM_IterateChildren": "walk a random grid's ~90 buildings",
    "BM_Ancestors": "full ancestor path of a random unit",
    "BM_IsWithin": "is a random unit inside 杭州市 (scope check)",
    "BM_AncestorAtDistrict": "district of a random unit",
    "BM_AncestorAtDistrictBatch": "district of random units, 1,024 per call",
    "BM_AncestorsSweep": "full ancestor path, units in id order",
    "BM_ResolveRoomCode": "27-digit room code -> building, entrance, room",
}
for bench in results["benchmarks"]:
    rate = bench.get("items_per_second", 0) / 1e6
    name = bench["name"]
    target = "— (code lookup, no target)" if "Resolve" in name else ">= 10 M/s"
    each = 1000.0 / rate if rate else 0
    print(f"| `{name}`: {notes.get(name, '')} | {target} | {rate:.1f} M/s ({each:.1f} ns per query) |")
PY

# The geocoder (normalise + match) on the labelled sets init wrote, and points -> grid.
echo
echo "| geocoder | target | measured |"
echo "|---|---|---|"
for set in demo national; do
  if [[ $set == demo ]]; then lines=""; else lines="$DATA/eval/national.jsonl"; fi
  PINGAN_BENCH_DATA="$DATA" PINGAN_BENCH_LINES="$lines" build/release/bench/geocode_benchmark \
    --benchmark_filter='BM_Geocode' --benchmark_format=json --benchmark_out="$tmp" \
    --benchmark_out_format=json >/dev/null 2>&1
  python3 - "$tmp" "$set" <<'PY'
import json, sys
results, name = json.load(open(sys.argv[1])), sys.argv[2]
what = {"demo": "demo-city sets (clean + noisy, down to rooms)", "national": "national set"}[name]
for bench in results["benchmarks"]:
    rate = bench.get("items_per_second", 0)
    if "Latency" in bench["name"]:
        print(f"| per-address latency, {what} | p99 <= 50 us | p50 {bench['p50_us']:.1f} us, p99 {bench['p99_us']:.1f} us, p99.9 {bench['p999_us']:.1f} us |")
    else:
        threads = bench["name"].rsplit(":", 1)[-1]
        target = ">= 500,000/s" if threads == "1" else "scales with cores"
        print(f"| addresses/s on {threads} thread(s), {what} | {target} | {rate:,.0f}/s |")
PY
done
PINGAN_BENCH_DATA="$DATA" build/release/bench/point_benchmark --benchmark_filter='BM_PointToPlace/|BM_BaselineGeosStrTree' \
  --benchmark_format=json --benchmark_out="$tmp" --benchmark_out_format=json >/dev/null 2>&1 || true
python3 - "$tmp" <<'PY'
import json, sys
try:
    results = json.load(open(sys.argv[1]))
except Exception:
    sys.exit(0)
for bench in results["benchmarks"]:
    points = "random points in the city" if bench["name"].endswith("/0") else "points at buildings"
    if "Baseline" in bench["name"]:
        print(f"| baseline: GEOS STRtree point -> grid, {points} | — | {bench.get('items_per_second', 0):,.0f}/s |")
    else:
        print(f"| points -> grid + nearest building, {points}, one core | >= 1,000,000/s | {bench.get('items_per_second', 0):,.0f}/s |")
PY

# The geocoder next to the npm package address-parse on the labelled sets init wrote.
if [[ -d node_modules/address-parse && -f "$DATA/eval/clean.jsonl" ]]; then
  echo
  for set in clean national; do
    bench/address_parse.sh "$DATA/eval/$set.jsonl" "$DATA"
  done
fi

# `pingan ingest` end to end next to PostgreSQL 15 COPY on the same records (bench/ingest.sh,
# a few minutes; its own demo data, BENCH_N and BENCH_SCALE). BENCH_SKIP_INGEST=1 skips it.
if [[ -z ${BENCH_SKIP_INGEST:-} ]]; then
  echo
  PINGAN_BIN="$BIN" bench/ingest.sh
fi

# The real-time report by SQL on PostgreSQL 15 and SQLite, the cube's baseline (bench/report_sql.sh,
# a few minutes): on a demo data directory (BENCH_REPORT_DATA, default build/bench-data/demo-s1,
# made with `pingan demo` at scale 1 when missing; ~2 min). BENCH_SKIP_REPORT_SQL=1 skips it.
if [[ -z ${BENCH_SKIP_REPORT_SQL:-} ]]; then
  echo
  REPORT_DATA=${BENCH_REPORT_DATA:-build/bench-data/demo-s1}
  "$BIN" demo --data "$REPORT_DATA" --seed 1 --scale 1 >/dev/null
  bench/report_sql.sh "$REPORT_DATA"
fi

# The risk map (bench/risk_benchmark.cc): every unit of every level for a month, a quarter and a
# year, from scratch and after a new event, on the same scale-1 demo as the report.
# BENCH_SKIP_RISK=1 skips it.
if [[ -z ${BENCH_SKIP_RISK:-} ]]; then
  echo
  RISK_DATA=${BENCH_REPORT_DATA:-build/bench-data/demo-s1}
  "$BIN" demo --data "$RISK_DATA" --seed 1 --scale 1 >/dev/null
  build/release/bench/risk_benchmark --data "$RISK_DATA" --period 2024-06 --runs 20
fi

# The closed loop: task transitions over HTTP, group commit against a commit per transition
# (bench/loop_benchmark.cc), on a small demo city (BENCH_LOOP_DATA, default
# build/bench-data/loop: the national registry at scale 0.01 with 18 months of feeds, made when
# missing; the server's start and the copy per run stay short). BENCH_SKIP_LOOP=1 skips it.
if [[ -z ${BENCH_SKIP_LOOP:-} ]]; then
  echo
  LOOP_DATA=${BENCH_LOOP_DATA:-build/bench-data/loop}
  if [[ ! -f $LOOP_DATA/pingan.db ]]; then
    "$BIN" init --data "$LOOP_DATA" --seed 7 --scale 0.01 --rebuild >/dev/null
    "$BIN" demo --data "$LOOP_DATA" --seed 5 --from 2023-01-01 --to 2024-06-30 >/dev/null
  fi
  build/release/bench/loop_benchmark --data "$LOOP_DATA" --seconds "${BENCH_SECONDS:-10}"
fi
