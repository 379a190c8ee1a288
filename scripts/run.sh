#!/usr/bin/env bash
# `make run`: creates the demo city in DATA if absent, with three and a half years of its seven
# source feeds ingested (`pingan demo`: 67-74 s at scale 1 here), and shows how to browse
# serves it: the JSON API and the web app on http://127.0.0.1:8080 (LISTEN overrides). The first
# run creates the user `admin` with a freshly generated password and prints it once.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${1:-data}"; SEED="${2:-1}"; SCALE="${3:-1}"
BIN="${PINGAN_BIN:-build/release/pingan}"  # tests run it with the sanitizer build
if [[ ! -f "$DATA/pingan.db" ]]; then
  echo "Creating the demo city and its event feeds in $DATA (seed $SEED, scale $SCALE) ..."
fi
"$BIN" demo --data "$DATA" --seed "$SEED" --scale "$SCALE"
"$BIN" info --data "$DATA"
# The report's aggregates: built once here (a snapshot beside the database), then reused.
"$BIN" cube --data "$DATA" >/dev/null
echo
"$BIN" bulletin --data "$DATA"
LISTEN="${LISTEN:-127.0.0.1:8080}"
# The first enabled admin, if any. awk reads every line and exits 0 when none matches: a fresh
# directory has no user, and grep's "no match" status failed this script under pipefail.
admin_name=$("$BIN" user list --data "$DATA" --json |
  awk '/"disabled":false/ && /"role":"admin"/ && name == "" {
         if (match($0, /"name":"[^"]*"/)) name = substr($0, RSTART + 8, RLENGTH - 9)
       }
       END { print name }')
if [[ -n $admin_name ]]; then
  login="Log in as $admin_name (its password was printed on the first run).
Forgot it? Set a new one:  printf 'NEW-PASSWORD\n' | $BIN user passwd --data $DATA --name $admin_name"
else
  password=$(head -c 24 /dev/urandom | base64 | tr -d '/+=' | head -c 20)
  printf '%s\n' "$password" | "$BIN" user add --data "$DATA" --name admin --role admin >/dev/null
  login="Log in as:  admin / $password
(shown this once; keep it. Reset: printf 'NEW-PASSWORD\n' | $BIN user passwd --data $DATA --name admin)
More users:  printf 'PASSWORD\n' | $BIN user add --data $DATA --name xihu --role district_analyst --scope 330106"
fi
# An address of the demo city down to the room, from the labelled set `pingan init` wrote.
example=$(grep -m1 '"room"' "$DATA/eval/clean.jsonl" 2>/dev/null | sed -E 's/^\{"text":"([^"]*)".*/\1/' || true)
[[ -n $example ]] || example='浙江省杭州市西湖区'
cat <<MSG

The command line reads the same data:
  $BIN units 3301 --data $DATA            # 杭州市: its 14 district-level units
  $BIN report --data $DATA                # the real-time report of the latest month (--json, --unit 330106)
  $BIN league --data $DATA --period 2024-06
  $BIN major --data $DATA --period 2024
  $BIN geocode --data $DATA <<< '$example'
  $BIN geocode --data $DATA <<< '西湖区文三路478号'   # partial: the demo city's streets are synthetic, no 文三路

pingan is at  http://$LISTEN/
$login
Stop it with Ctrl-C.
MSG
exec "$BIN" serve --data "$DATA" --listen "$LISTEN"
