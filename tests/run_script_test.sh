#!/usr/bin/env bash
# `make run`'s script (scripts/run.sh) with the binary under test, on a fresh data directory at
# a tiny scale: it must create the demo city, print how to log in, and serve; the printed
# password must log in. A second run on the same directory must serve again and name the admin
# it finds instead of making another.
#
#   tests/run_script_test.sh PINGAN_BINARY
set -euo pipefail
BIN=$1
cd "$(dirname "$0")/.."
work=$(mktemp -d)
pid=""
cleanup() { [[ -n $pid ]] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
export ASAN_OPTIONS=detect_leaks=0 PINGAN_BIN="$BIN"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"

fail() {
  echo "run_script_test: $*" >&2
  cat "$work/out.txt" >&2 || true
  exit 1
}

# Runs scripts/run.sh in the background until its server answers.
serve() {
  LISTEN="127.0.0.1:$port" scripts/run.sh "$work/data" 1 0.01 >"$work/out.txt" 2>&1 &
  pid=$!
  for _ in $(seq 1 1200); do
    curl -sf "$base/api/health" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || { pid=""; fail "scripts/run.sh ended before serving"; }
    sleep 0.5
  done
  fail "no server on $base after 10 minutes"
}
stop() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
}

serve
grep -q "pingan is at  $base/" "$work/out.txt" || fail "no address printed"
password=$(sed -n 's/^Log in as:  admin \/ \(.*\)$/\1/p' "$work/out.txt")
[[ -n $password ]] || fail "no password printed on the first run"
login=$(curl -s -X POST -H 'Content-Type: application/json' \
  -d "{\"username\":\"admin\",\"password\":\"$password\"}" "$base/api/login")
grep -q '"token"' <<<"$login" || fail "the printed password does not log in: $login"
# The printed address of the demo city geocodes down to a room.
example=$(sed -n "s/^.* geocode --data .* <<< '\(.*\)'$/\1/p" "$work/out.txt" | head -1)
[[ -n $example ]] || fail "no geocode example printed"
answer=$("$BIN" geocode --data "$work/data" <<<"$example")
grep -q '"status":"matched","code":"[0-9]*","level":"room"' <<<"$answer" ||
  fail "the printed example '$example' does not geocode to a room: $answer"
stop

serve
grep -q "^Log in as admin (its password was printed on the first run)" "$work/out.txt" ||
  fail "the second run does not name the existing admin"
stop
echo "run_script_test: ok"
