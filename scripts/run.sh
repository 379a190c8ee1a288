#!/usr/bin/env bash
# `make run`: creates the demo city in DATA if absent, with three and a half years of its seven
# source feeds ingested (`pingan demo`: about 2 minutes at scale 1), and shows how to browse
# it. (The HTTP server joins here when it exists; until then this prints what the city holds.)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${1:-data}"; SEED="${2:-1}"; SCALE="${3:-1}"
BIN=build/release/pingan
if [[ ! -f "$DATA/pingan.db" ]]; then
  echo "Creating the demo city and its event feeds in $DATA (seed $SEED, scale $SCALE) ..."
fi
"$BIN" demo --data "$DATA" --seed "$SEED" --scale "$SCALE"
"$BIN" info --data "$DATA"
# The report's aggregates: built once here (a snapshot beside the database), then reused.
"$BIN" cube --data "$DATA" >/dev/null
echo
"$BIN" bulletin --data "$DATA"
cat <<MSG

Browse it:
  $BIN units --data $DATA                 # the nation: 31 provinces
  $BIN units 3301 --data $DATA            # 杭州市: its 14 district-level units
  $BIN units 330106 --data $DATA --depth 2
  $BIN units 330106004053001 --data $DATA # a grid and its buildings
  $BIN code 330106004053001000010100101 --data $DATA
  $BIN history --data $DATA               # 下城区, 江干区, 富阳市 ... and where they went
  $BIN units 3301 --json --data $DATA
  $BIN catalog                            # sources, event types, the 33 indicators, 9 key types
  $BIN events --data $DATA --unit 330106 --type criminal.theft --from 2024-06-01 --limit 20
  $BIN quarantine --data $DATA            # the feeds' bad records and why
  $BIN report --data $DATA                # the real-time report of the latest month (--json, --unit 330106, --period 2024Q2)
  $BIN league --data $DATA --period 2024-06
  $BIN series --data $DATA --indicator criminal.telecom_fraud --count 24
  $BIN breakdown --data $DATA --unit 330106 --indicator key.dispute
  $BIN clusters --data $DATA --unit 330106 --period 2024Q2
  $BIN major --data $DATA --period 2024
  $BIN report --data $DATA --format xlsx --output report.xlsx
No login is needed yet: there is no server until the server issue lands.
MSG
