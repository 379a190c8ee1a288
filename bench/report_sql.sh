#!/usr/bin/env bash
# The real-time report by SQL on PostgreSQL 15 and SQLite: the baseline the cube is measured
# against (target: the cube >= 100x faster).
#
#   bench/report_sql.sh DIR [UNIT] [PERIOD]
#
# DIR is a pingan data directory made by `pingan demo` (read only: nothing in it is changed).
# UNIT is the home city, or a district, town or community of it (a code prefix or 27 digits;
# default: the district-level unit holding most counted events). PERIOD is YYYY-MM (default:
# the latest full month of the data). The report: the 33 indicators of
# config/catalog/indicators.toml for UNIT over PERIOD, the same month a year before (YoY) and
# the month before (MoM), months in the home city's time zone (DIR/pingan.toml).
#
# Steps (bench/report_sql.py does all but PostgreSQL):
# 1. Export from DIR/pingan.db: events (id, type, occurred_at, unit, place = the registry unit
#    the event is counted at (room and entrance codes cut to their building), status,
#    in_home_city, and the attributes the indicators read as typed columns, NULL when absent;
#    no attributes_json: it carries personal data) and a unit -> district/town/community map
#    of the home city from the governance tree (parent links, so the towns of 西湖风景名胜区
#    count there, not in the district their codes name).
# 2. PostgreSQL 15 (installed with apt-get when missing) in a private cluster in the work
#    directory (private socket, shared_buffers 1GB, max_wal_size 4GB, default 2 parallel
#    workers, jit off (with the default jit = on, 20 more runs are timed for the record);
#    stopped and removed at exit): server-side COPY, CREATE INDEX ON
#    events(occurred_at), primary key and (district), (town), (community) indexes on the map,
#    VACUUM ANALYZE. SQLite (the sqlite3 shell; installed with apt-get when missing): `.import`
#    in one transaction, index on occurred_at, ANALYZE; cache_size 1 GB when querying.
# 3. One SQL query generated from the catalog (type patterns -> IN lists of catalog types,
#    conditions -> FILTER clauses, sums -> sum(ATTR)), events joined to the unit map: the
#    events of the three months grouped by (month, type) with one aggregate per distinct
#    (conditions, measure) of the catalog (10), then each indicator summed over its types.
#    (The flat form, 33 FILTER aggregates on every event, is slower; it is run once on each
#    engine as a cross-check.) 3 warm-up runs, then BENCH_REPORT_RUNS timed runs on each
#    engine: median and p99 (nearest rank).
#    PostgreSQL is timed by psql's \timing (round trip over the Unix socket: parse, plan,
#    execute, 3 rows back), SQLite by python's sqlite3 module (perf_counter around execute +
#    fetchall).
# 4. The 33 x 3 values of each engine to OUT/report_pg.csv and OUT/report_sqlite.csv
#    (indicator,current,yoy,mom); the script fails when they differ.
# 5. build/release/bench/report_benchmark (REPORT_BENCHMARK), if built, on the same DIR, unit
#    and month: its `cube_report_us p50=<x> p99=<y>` line and the ratios.
#
# Environment: BENCH_REPORT_RUNS (timed runs per engine, default 50, at least 20),
# BENCH_REPORT_OUT (default /tmp/pingan-report-sql/<basename of DIR>), BENCH_PG_PORT (default
# 55433), REPORT_BENCHMARK (default build/release/bench/report_benchmark), TMPDIR (the work
# directory: CSV, cluster and SQLite file, ~3x the events' CSV; a real disk, not tmpfs),
# BENCH_REPORT_KEEP=1 (keep the work directory; the cluster is stopped all the same),
# BENCH_REPORT_NICE (niceness of the export and the SQLite load, default 10).
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $# -ge 1 && $# -le 3 ]] || { echo "usage: bench/report_sql.sh DIR [UNIT] [PERIOD]" >&2; exit 2; }
DIR=$(realpath "$1")
UNIT=${2:-}
PERIOD=${3:-}
RUNS=${BENCH_REPORT_RUNS:-50}
PG_PORT=${BENCH_PG_PORT:-55433}
OUT=${BENCH_REPORT_OUT:-/tmp/pingan-report-sql/$(basename "$DIR")}
CUBE=${REPORT_BENCHMARK:-build/release/bench/report_benchmark}
PGBIN=/usr/lib/postgresql/15/bin
[[ -f "$DIR/pingan.db" && -f "$DIR/pingan.toml" ]] || { echo "$DIR is not a pingan data directory" >&2; exit 1; }
[[ "$RUNS" =~ ^[0-9]+$ && $RUNS -ge 20 ]] || { echo "BENCH_REPORT_RUNS must be at least 20" >&2; exit 1; }
HELPER=(python3 "$(pwd)/bench/report_sql.py")
# The export and the SQLite load (minutes of CPU at 10 M events) run niced; the timed runs do
# not (a niced query measures the other jobs on a shared machine, not the engine).
NICE=(nice -n "${BENCH_REPORT_NICE:-10}")

say() { echo "[report-sql bench $(date +%H:%M:%S)] $*" >&2; }
now() { date +%s.%N; }
read -r load1 load5 load15 _ </proc/loadavg
started_at=$(now)

# shellcheck source=bench/lib.sh
source bench/lib.sh
need_package postgresql-15 "the PostgreSQL baseline"
need_package sqlite3 "the SQLite baseline's .import"

umask 022
WORK=$(realpath "$(mktemp -d "${TMPDIR:-/tmp}/pingan-report-sql.XXXXXX")")
chmod 755 "$WORK"
PGDIR="$WORK/pg"
cleanup() {
  if [[ -f "$PGDIR/data/postmaster.pid" ]]; then
    as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -m fast -w stop >/dev/null 2>&1 ||
      as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  if [[ -n ${BENCH_REPORT_KEEP:-} ]]; then say "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
fs_type=$(stat -f -c %T "$WORK")
[[ $fs_type == tmpfs ]] && say "warning: $WORK is on tmpfs"

# 1. Export.
say "exporting events and the unit map of $DIR"
"${NICE[@]}" "${HELPER[@]}" export "$DIR" "$WORK"

# 2a. SQLite.
say "SQLite: .import, index, ANALYZE"
"${NICE[@]}" "${HELPER[@]}" sqlite-load "$WORK"

# 2b. PostgreSQL 15.
say "PostgreSQL 15: initdb, COPY, index, VACUUM ANALYZE"
pg_init "$PGDIR" "$PG_PORT"
cat >>"$PGDIR/data/postgresql.conf" <<EOF
shared_buffers = 1GB
max_wal_size = 4GB
jit = off
EOF
as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/log" -w start >/dev/null
psql() { as_pg "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PGDIR/sock" -p "$PG_PORT" -U postgres -d postgres "$@"; }
pg_version=$(psql -At -c 'SHOW server_version')
"${HELPER[@]}" schema pg "$WORK" >"$WORK/schema_pg.sql"
psql -f "$WORK/schema_pg.sql" >/dev/null
psql -c 'CHECKPOINT' >/dev/null
seconds() {  # the wall seconds of psql -c "$1"
  local start end
  start=$(now)
  psql -c "$1" >/dev/null
  end=$(now)
  python3 -c "print($end - $start)"
}
pg_copy=$(seconds "COPY events FROM '$WORK/events.csv' WITH (FORMAT csv, HEADER true)")
pg_index=$(seconds "CREATE INDEX events_occurred_at ON events (occurred_at)")
pg_units=$(seconds "COPY unit_map FROM '$WORK/units.csv' WITH (FORMAT csv, HEADER true);
  ALTER TABLE unit_map ADD PRIMARY KEY (code);
  CREATE INDEX ON unit_map (district); CREATE INDEX ON unit_map (town); CREATE INDEX ON unit_map (community)")
# An explicit VACUUM ANALYZE: autovacuum would otherwise run it (inserted rows) during the timed runs.
pg_analyze=$(seconds "VACUUM ANALYZE")
rows=$(psql -At -c 'SELECT count(*) FROM events')
python3 - "$WORK" "$rows" "$pg_version" "$pg_copy" "$pg_index" "$pg_units" "$pg_analyze" <<'PY'
import json, sys
work, rows, version = sys.argv[1], int(sys.argv[2]), sys.argv[3]
copy, index, units, analyze = map(float, sys.argv[4:8])
meta = json.load(open(f"{work}/meta.json"))
if rows != meta["events"]:
    sys.exit(f"PostgreSQL COPY loaded {rows} events, not {meta['events']}")
json.dump({"version": version, "copy": copy, "index": index, "units": units, "analyze": analyze},
          open(f"{work}/pg_load.json", "w"))
print(f"PostgreSQL {version}: {rows:,} events by COPY {copy:.1f} s = {rows / copy:,.0f} rows/s; "
      f"index on occurred_at {index:.1f} s; VACUUM ANALYZE {analyze:.1f} s")
PY

# 3. The report query: unit and month, then the timed runs.
"${NICE[@]}" "${HELPER[@]}" plan "$WORK" "$UNIT" "$PERIOD"
read -r unit period < <(python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); print(p["unit"], p["windows"]["current"]["month"])' "$WORK/plan.json")
psql -c "EXPLAIN (ANALYZE, BUFFERS) $(cat "$WORK/report.sql")" >"$WORK/pg_explain.txt"
psql --csv -f "$WORK/report.sql" >"$WORK/pg_result.csv"
psql --csv -f "$WORK/report_flat.sql" >"$WORK/pg_flat.csv"
{
  printf '%s\n' '\o /dev/null'
  for _ in 1 2 3; do cat "$WORK/report.sql"; done
  printf '%s\n' '\timing on'
  for ((i = 0; i < RUNS; i++)); do cat "$WORK/report.sql"; done
} >"$WORK/pg_runs.sql"
say "PostgreSQL: $RUNS timed runs"
psql -f "$WORK/pg_runs.sql" >"$WORK/pg_times.txt"
# PostgreSQL's default jit = on compiles this query on every run (its cost is above
# jit_above_cost): a DBA would turn it off for such reports; measured for the record.
{
  printf '%s\n' '\o /dev/null'
  echo 'SET jit = on;'
  cat "$WORK/report.sql"
  printf '%s\n' '\timing on'
  for ((i = 0; i < 20; i++)); do cat "$WORK/report.sql"; done
} >"$WORK/pg_runs_jit.sql"
psql -f "$WORK/pg_runs_jit.sql" >"$WORK/pg_times_jit.txt"
say "SQLite: $RUNS timed runs"
"${HELPER[@]}" sqlite-time "$WORK" "$RUNS"
as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -m fast -w stop >/dev/null

# 4. Figures and the check that both engines agree.
read -r end1 end5 end15 _ </proc/loadavg
echo
status=0
"${HELPER[@]}" summary "$WORK" "$OUT" || status=$?
echo "  load average at start $load1 $load5 $load15, at end $end1 $end5 $end15 (2 cores; timings vary run to run);" \
  "work directory on $fs_type; total $(python3 -c "print(f'{$(now) - $started_at:.0f}')") s; outputs in $OUT"
[[ $status -eq 0 ]] || exit $status

# 5. The cube on the same report.
if [[ -x "$CUBE" ]]; then
  echo
  echo "cube: $CUBE --data $DIR --unit $unit --period $period"
  if "$CUBE" --data "$DIR" --unit "$unit" --period "$period" >"$OUT/cube.txt" 2>&1; then
    sed 's/^/  | /' "$OUT/cube.txt"
    "${HELPER[@]}" cube "$OUT" "$OUT/cube.txt"
  else
    sed 's/^/  | /' "$OUT/cube.txt"
    echo "  report_benchmark failed: no ratio"
  fi
else
  echo
  echo "cube: no $CUBE yet (build it, or set REPORT_BENCHMARK): no ratio"
fi
