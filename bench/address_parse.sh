#!/usr/bin/env bash
# pingan's geocoder next to the npm package address-parse, on the same address lines.
#
#   bench/address_parse.sh FILE [DATA_DIR]
#
# FILE: a labelled set (DATA_DIR/eval/clean.jsonl, noisy.jsonl, national.jsonl, written by
# `pingan init`) or plain lines. DATA_DIR: a pingan data directory (default: ./data).
# address-parse (a devDependency, installed by scripts/deps.sh) runs in Node on one thread and
# only its parsing is timed (not Node's start nor the module's load). `pingan geocode --timing`
# on one thread, three times, reports its own answering time: reading the lines, normalising,
# matching and writing the JSON answers (to /dev/null), without its start-up (registry load and
# matcher index), like address-parse's; the ratio compares those two rates (the median run's).
# The wall clock with the start-up is printed too: it dominates inputs of a few thousand lines.
# So is `--threads $(nproc)` (three runs, the median), apart from the ratio: address-parse runs
# on one thread.
# Accuracy: address-parse's province, city and district against the expectations (names
# compared by prefix); pingan's per level from `pingan geocode --eval`.
# Environment: PINGAN_BIN (default build/release/pingan).
set -euo pipefail
cd "$(dirname "$0")/.."
FILE=${1:?usage: bench/address_parse.sh FILE [DATA_DIR]}
DATA=${2:-data}
BIN=${PINGAN_BIN:-build/release/pingan}
[[ -x "$BIN" ]] || { echo "no $BIN: run make build" >&2; exit 1; }
[[ -d node_modules/address-parse ]] || { echo "address-parse is not installed: run scripts/deps.sh" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
node bench/address_parse.js "$FILE" --texts "$tmp/lines.txt" >"$tmp/ap.json"
lines=$(wc -l <"$tmp/lines.txt")

: >"$tmp/timing.txt"
for run in 1 2 3; do
  start=$(date +%s.%N)
  "$BIN" geocode --data "$DATA" --timing <"$tmp/lines.txt" >/dev/null 2>>"$tmp/timing.txt"
  end=$(date +%s.%N)
  echo "wall $start $end" >>"$tmp/timing.txt"
done
# With this machine's cores (address-parse, in Node, uses one): reported apart, not in the ratio.
cores=$(nproc)
: >"$tmp/timing_cores.txt"
for run in 1 2 3; do
  "$BIN" geocode --data "$DATA" --timing --threads "$cores" <"$tmp/lines.txt" >/dev/null 2>>"$tmp/timing_cores.txt"
done

labelled=0
if head -c 1 "$FILE" | grep -q '{'; then
  labelled=1
  "$BIN" geocode --data "$DATA" --eval "$FILE" >"$tmp/eval.txt"
fi

python3 - "$tmp/ap.json" "$tmp/timing.txt" "$lines" "$labelled" "$tmp/eval.txt" "$tmp/timing_cores.txt" "$cores" <<'PY'
import json, re, statistics, sys
ap = json.load(open(sys.argv[1]))
lines, labelled = int(sys.argv[3]), sys.argv[4] == "1"
rates, startups, walls = [], [], []
for row in open(sys.argv[2]):
    m = re.match(r"pingan geocode: start-up ([\d.]+) s; (\d+) lines answered in ([\d.]+) s", row)
    if m:
        startups.append(float(m.group(1)))
        if int(m.group(2)) != lines:
            sys.exit(f"pingan answered {m.group(2)} of {lines} lines")
        rates.append(lines / max(float(m.group(3)), 1e-9))
    elif row.startswith("wall "):
        _, start, end = row.split()
        walls.append(lines / (float(end) - float(start)))
if len(rates) != 3:
    sys.exit("pingan geocode --timing printed no timing line")
theirs = ap['lines_per_second']
rate = statistics.median(rates)
print(f"{ap['file']}: {lines} lines")
print(f"  address-parse 1.2.19 (Node, one thread, parsing only): {theirs:,.0f} lines/s")
print(f"  pingan geocode, one thread, answering only (median of 3; min-max): {rate:,.0f} lines/s "
      f"({min(rates):,.0f}-{max(rates):,.0f}); start-up {statistics.median(startups):.2f} s")
print(f"  pingan / address-parse, answering against parsing: {rate / theirs:.1f}x")
cores_rates = []
for row in open(sys.argv[6]):
    m = re.match(r"pingan geocode: start-up ([\d.]+) s; (\d+) lines answered in ([\d.]+) s", row)
    if m:
        cores_rates.append(lines / max(float(m.group(3)), 1e-9))
if cores_rates:
    print(f"  pingan geocode --threads {sys.argv[7]} (this machine's cores; address-parse uses one), answering "
          f"only (median of 3): {statistics.median(cores_rates):,.0f} lines/s, "
          f"{statistics.median(cores_rates) / theirs:.1f}x address-parse")
print(f"  pingan geocode on the wall clock, start-up included: {statistics.median(walls):,.0f} lines/s, "
      f"{statistics.median(walls) / theirs:.1f}x address-parse")
if labelled:
    ours = {}
    for row in open(sys.argv[5]):
        m = re.match(r"\s+(\w+)\s+([\d.]+)%\s+\((\d+) of (\d+)\)", row)
        if m:
            ours[m.group(1)] = float(m.group(2))
    print("  accuracy    address-parse   pingan")
    for level in ["province", "city", "district", "town", "community", "building", "unit", "room"]:
        if level not in ours and level not in ap["accuracy"]:
            continue
        theirs = ap["accuracy"].get(level)
        theirs = f"{theirs['percent']:6.2f}%" if theirs else "     —"
        mine = f"{ours[level]:6.2f}%" if level in ours else "     —"
        print(f"  {level:<10} {theirs:>14}  {mine:>8}")
PY
