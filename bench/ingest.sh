#!/usr/bin/env bash
# `pingan ingest` end to end next to PostgreSQL 15 COPY, on the same records.
#
#   bench/ingest.sh
#
# Input: realistic records made independently of the ingester. `pingan demo` writes a year of
# the seven source systems' feeds for the demo city and ingests them; `pingan events --json
# --unmasked` lists what was stored; bench/make_ingest_input.py turns that into N canonical
# records (docs/catalog.md) with fresh source_ids, in three files:
#   text.jsonl   placed by address text (geocoded)       target >= 200,000 records/s
#   text.csv     the same records as CSV                  target >= 200,000 records/s
#   coded.jsonl  the same records with a point or a 27-digit code, no text: >= 300,000/s
# Each file goes into a fresh copy of a data directory holding only the registry (`pingan
# init`; the copy is not timed) with `pingan ingest --json --threads T`: parse, validate,
# place, dedup on (source, source_id), durable write. Reported: records/s over the summary's
# seconds (steady: reading the file to the last commit) and over the wall time of the command
# (start-up — registry load and geocoder index — included). Every record must be inserted.
#
# PostgreSQL 15 (installed with apt-get when missing) runs as a private cluster in the work
# directory on a private port and socket (fsync and synchronous_commit on, the defaults;
# shared_buffers 1GB and max_wal_size 4GB, as a team loading data would set), stopped and
# removed at exit. text.csv goes into a logged table with the same wide columns by server-side
# `COPY ... FROM 'file' (FORMAT csv, HEADER true)`: once without an index, once with a UNIQUE
# index on (source, source_id) — what dedup would need. COPY neither geocodes nor dedups.
#
# Environment: PINGAN_INGEST_TIMING=1 (pingan prints where each run's time went), PINGAN_BIN (default build/release/pingan), BENCH_N (records, default 1000000),
# BENCH_SCALE (demo city scale, default 0.3), BENCH_THREADS (ingest threads, default 2),
# BENCH_PG_PORT (default 55432), TMPDIR (where the work directory goes: data copies, inputs
# and the cluster, ~3 GB at the defaults; keep it on a real disk, not tmpfs, or fsync is free).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${PINGAN_BIN:-build/release/pingan}
N=${BENCH_N:-1000000}
SCALE=${BENCH_SCALE:-0.3}
THREADS=${BENCH_THREADS:-2}
PG_PORT=${BENCH_PG_PORT:-55432}
PGBIN=/usr/lib/postgresql/15/bin
[[ -x "$BIN" ]] || { echo "no $BIN: build it, or set PINGAN_BIN" >&2; exit 1; }
BIN=$(realpath "$BIN")
[[ "$N" =~ ^[1-9][0-9]*$ ]] || { echo "BENCH_N must be a positive integer" >&2; exit 1; }

say() { echo "[ingest bench $(date +%H:%M:%S)] $*" >&2; }
now() { date +%s.%N; }

read -r load1 load5 load15 _ </proc/loadavg
started_at=$(now)

# PostgreSQL 15.
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
need_package postgresql-15 "the PostgreSQL baseline"

umask 022
WORK=$(realpath "$(mktemp -d "${TMPDIR:-/tmp}/pingan-ingest-bench.XXXXXX")")
chmod 755 "$WORK"
PGDIR="$WORK/pg"
cleanup() {
  if [[ -f "$PGDIR/data/postmaster.pid" ]]; then
    as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
fs_type=$(stat -f -c %T "$WORK")
[[ $fs_type == tmpfs ]] && say "warning: $WORK is on tmpfs: fsync costs nothing there"

# The registry alone, and the demo feeds ingested into a copy of it.
say "pingan init --scale $SCALE"
init_start=$(now)
"$BIN" init --data "$WORK/registry" --seed 1 --scale "$SCALE" >/dev/null
init_seconds=$(python3 -c "print(f'{$(now) - $init_start:.1f}')")
cp -r "$WORK/registry" "$WORK/demo"
say "pingan demo --scale $SCALE, 2023"
demo_start=$(now)
"$BIN" demo --data "$WORK/demo" --seed 1 --scale "$SCALE" --from 2023-01-01 --to 2023-12-31 >"$WORK/demo.txt"
demo_seconds=$(python3 -c "print(f'{$(now) - $demo_start:.1f}')")
"$BIN" events --data "$WORK/demo" --json --unmasked >"$WORK/events.jsonl"
rm -rf "$WORK/demo"
say "writing $N records x 3 files"
mkdir -p "$WORK/input"
python3 bench/make_ingest_input.py "$WORK/events.jsonl" "$N" "$WORK/input"
rm -f "$WORK/events.jsonl"

# pingan ingest, each file into a fresh copy of the registry-only data directory.
: >"$WORK/results.jsonl"
for name in text.jsonl text.csv coded.jsonl; do
  rm -rf "$WORK/run"
  cp -r "$WORK/registry" "$WORK/run"
  sync
  say "pingan ingest $name"
  start=$(now)
  if ! "$BIN" ingest --data "$WORK/run" "$WORK/input/$name" --json --threads "$THREADS" >"$WORK/summary.json" \
      2>"$WORK/ingest.err"; then
    echo "pingan ingest $name failed:" >&2
    cat "$WORK/ingest.err" "$WORK/summary.json" >&2
    exit 1
  fi
  end=$(now)
  # With PINGAN_INGEST_TIMING=1 in the environment, pingan's line on where the time went.
  grep -h "^ingest timing" "$WORK/ingest.err" >&2 || true
  python3 - "$name" "$start" "$end" "$N" "$WORK/summary.json" >>"$WORK/results.jsonl" <<'PY'
import json, sys
name, start, end, n = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
summary = json.load(open(sys.argv[5]))
if summary["read"] != n or summary["inserted"] != n:
    sys.exit(f"pingan ingest {name}: read {summary['read']}, inserted {summary['inserted']} of {n} records "
             f"(quarantined {summary['quarantined_by_reason']}, updated {summary['updated']}, "
             f"unchanged {summary['unchanged']})")
print(json.dumps({"input": name, "wall": end - start, **summary}))
PY
  rm -rf "$WORK/run"
done

# PostgreSQL 15 COPY of text.csv into a private cluster.
say "PostgreSQL 15: initdb, COPY"
pg_init "$PGDIR" "$PG_PORT"
cat >>"$PGDIR/data/postgresql.conf" <<EOF
fsync = on
synchronous_commit = on
shared_buffers = 1GB
max_wal_size = 4GB
EOF
as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/log" -w start >/dev/null
psql() { as_pg "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PGDIR/sock" -p "$PG_PORT" -U postgres -d postgres "$@"; }
pg_version=$(psql -At -c 'SHOW server_version')
copy_run() {  # $1: "none" or "unique"; prints the seconds of the COPY
  psql -c 'SET client_min_messages = warning; DROP TABLE IF EXISTS events' -f "$WORK/input/table.sql" >/dev/null
  if [[ $1 == unique ]]; then psql -c 'CREATE UNIQUE INDEX events_source_id ON events (source, source_id)' >/dev/null; fi
  psql -c 'CHECKPOINT' >/dev/null
  sync
  local start end rows
  start=$(now)
  psql -c "COPY events FROM '$WORK/input/text.csv' WITH (FORMAT csv, HEADER true)" >/dev/null
  end=$(now)
  rows=$(psql -At -c 'SELECT count(*) FROM events')
  [[ $rows == "$N" ]] || { echo "PostgreSQL COPY loaded $rows rows, not $N" >&2; exit 1; }
  python3 -c "print($end - $start)"
}
pg_plain=$(copy_run none)
pg_unique=$(copy_run unique)
read -r end1 end5 end15 _ </proc/loadavg

python3 - "$WORK/results.jsonl" "$WORK/input/stats.json" "$pg_plain" "$pg_unique" "$N" "$SCALE" "$THREADS" \
  "$load1 $load5 $load15" "$end1 $end5 $end15" "$demo_seconds" "$pg_version" "$fs_type" \
  "$(python3 -c "print(f'{$(now) - $started_at:.0f}')")" "$WORK/demo.txt" "$init_seconds" <<'PY'
import json, re, sys
results = [json.loads(line) for line in open(sys.argv[1])]
stats = json.load(open(sys.argv[2]))
pg_plain, pg_unique, n = float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
scale, threads, load_start, load_end, demo_seconds = sys.argv[6:11]
pg_version, fs_type, total, demo_text = sys.argv[11], sys.argv[12], sys.argv[13], open(sys.argv[14]).read()
init_seconds = sys.argv[15]
demo_events = re.search(r"inserted (\d+)", demo_text)
plain_rate, unique_rate = n / pg_plain, n / pg_unique
targets = {"text.jsonl": 200_000, "text.csv": 200_000, "coded.jsonl": 300_000}
what = {"text.jsonl": "address text, geocoded", "text.csv": "address text, geocoded",
        "coded.jsonl": f"point ({stats['coded_point']:,}) or code ({stats['coded_code']:,})"}

print(f"pingan ingest vs PostgreSQL {pg_version} COPY: {n:,} records each (wide: 9 canonical fields + "
      f"{stats['attribute_columns']} attributes)")
print(f"  records: {stats['distinct_events']:,} events of the demo city (scale {scale}, seed 1, 2023; "
      f"`pingan init` took {init_seconds} s, `pingan demo` {demo_seconds} s"
      + (f", stored {int(demo_events.group(1)):,}" if demo_events else "") + f"), repeated {stats['rounds']}x "
      f"with fresh source_ids; {stats['address_borrowed']:,} records borrow another's address")
print(f"  load average at start {load_start}, at end {load_end} (2 cores; timings vary run to run); "
      f"work directory on {fs_type}")
print()
print(f"| input | records | placed by | pingan steady (records/s) | pingan wall incl. start-up (records/s) "
      f"| target | pingan / COPY (no index, unique index) |")
print("|---|---|---|---|---|---|---|")
for r in results:
    steady, wall = r["read"] / r["seconds"], r["read"] / r["wall"]
    target = targets[r["input"]]
    met = "met" if steady >= target else "**not met**"
    print(f"| {r['input']} | {r['read']:,} | {what[r['input']]} | {steady:,.0f} ({r['seconds']:.1f} s) "
          f"| {wall:,.0f} ({r['wall']:.1f} s; start-up {r['wall'] - r['seconds']:.1f} s) "
          f"| >= {target:,}/s: {met} | {steady / plain_rate:.2f}x, {steady / unique_rate:.2f}x |")
print()
print(f"PostgreSQL {pg_version} COPY of text.csv (logged table, same columns, fsync and synchronous_commit on; "
      f"no geocoding, no dedup):")
print(f"  no index:                         {plain_rate:,.0f} rows/s ({pg_plain:.1f} s)")
print(f"  UNIQUE index (source, source_id): {unique_rate:,.0f} rows/s ({pg_unique:.1f} s)")
for r in results:
    if r["geocoded"] or r["geocode_cache_hits"]:
        print(f"pingan {r['input']}: address texts geocoded {r['geocoded']:,}, from the cache of recent texts "
              f"{r['geocode_cache_hits']:,}; placed {r['placed']}")
print(f"pingan: {threads} ingest threads and one writer; steady = the summary's seconds (first record read to "
      f"last commit); wall = the whole command. Total bench time {total} s.")
PY
