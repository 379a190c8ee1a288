#!/usr/bin/env bash
# pingan's geocoder next to the npm package address-parse, on the same address lines.
#
#   bench/address_parse.sh FILE [DATA_DIR]
#
# FILE: a labelled set (DATA_DIR/eval/clean.jsonl, noisy.jsonl, national.jsonl, written by
# `pingan init`) or plain lines. DATA_DIR: a pingan data directory (default: ./data).
# address-parse (a devDependency, installed by scripts/deps.sh) runs in Node on one thread and
# only its parsing is timed; `pingan geocode` is timed on the wall clock, start-up (registry
# load) included, with its output thrown away. Accuracy: address-parse's province, city and
# district against the expectations (names compared by prefix); pingan's per level from
# `pingan geocode --eval`. Environment: PINGAN_BIN (default build/release/pingan).
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

start=$(date +%s.%N)
"$BIN" geocode --data "$DATA" <"$tmp/lines.txt" >/dev/null
end=$(date +%s.%N)
# Start-up alone (no lines), to show the rate without it too.
"$BIN" geocode --data "$DATA" </dev/null >/dev/null
empty_end=$(date +%s.%N)

labelled=0
if head -c 1 "$FILE" | grep -q '{'; then
  labelled=1
  "$BIN" geocode --data "$DATA" --eval "$FILE" >"$tmp/eval.txt"
fi

python3 - "$tmp/ap.json" "$start" "$end" "$lines" "$labelled" "$tmp/eval.txt" "$empty_end" <<'PY'
import json, re, sys
ap = json.load(open(sys.argv[1]))
start, end, lines, labelled = float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == "1"
startup = float(sys.argv[7]) - end
pingan_rate = lines / (end - start)
net = end - start - startup
print(f"{ap['file']}: {lines} lines")
print(f"  address-parse 1.2.19 (Node, one thread, parsing only): {ap['lines_per_second']:,.0f} lines/s")
print(f"  pingan geocode (wall clock, registry load included):  {pingan_rate:,.0f} lines/s")
print(f"  pingan without its start-up ({startup:.2f} s): " + (f"{lines / net:,.0f} lines/s" if net > 0 else "—"))
print(f"  pingan / address-parse (wall clock): {pingan_rate / ap['lines_per_second']:.1f}x")
if labelled:
    ours = {}
    for row in open(sys.argv[6]):
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
