#!/usr/bin/env python3
"""The SQL side of the report benchmark: helper of bench/report_sql.sh.

The real-time report -- the 33 indicators of config/catalog/indicators.toml for one unit and one
month, with the same month a year before (YoY) and the month before (MoM) -- computed by SQL on
PostgreSQL 15 and SQLite over the events of a pingan data directory. The shell script runs the
PostgreSQL cluster; this file does the rest, one subcommand per step (all under a work directory
WORK):

  export DIR WORK          events and the unit -> district/town/community map to CSV
  schema pg|sqlite WORK    CREATE TABLE statements for the CSV columns
  sqlite-load WORK         the CSV into a fresh SQLite file (.import, one transaction), index on time
  plan WORK [UNIT] [PERIOD]  pick the unit and month (defaults: the district-level unit holding
                           most counted events, the latest full month), write the report SQL
  sqlite-time WORK RUNS    warm runs of the report on SQLite (python sqlite3, perf_counter)
  summary WORK OUT         compare PostgreSQL and SQLite, print the figures, write the CSVs
  cube OUT FILE            the SQL medians over the cube's p50 from report_benchmark's output

Semantics follow docs/catalog.md: a type pattern `PREFIX.*` is every catalog type starting with
`PREFIX.` (expanded to an IN list), a condition `ATTR` holds when the event carries the
attribute and it is not 0, `ATTR OP NUMBER` when it carries it and the comparison holds, a sum
adds 0 for a missing attribute; withdrawn events (status 1) and events outside the home city
(in_home_city 0) count nowhere. An attribute is exported only for the types that declare it
(undeclared attributes are ignored by measures). Personal attributes are never exported.
"""
import csv
import json
import math
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import time
import tomllib
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
CATALOG = Path(os.environ.get("PINGAN_CONFIG", ROOT / "config")) / "catalog"
OPS = {"==": "=", "!=": "<>", ">=": ">=", ">": ">", "<=": "<=", "<": "<"}
COND_RE = re.compile(r"^\s*([a-z][a-z0-9_]*)\s*(?:(==|!=|>=|<=|>|<)\s*(-?[0-9]+(?:\.[0-9]+)?)\s*)?$")
MAP_COLUMN = {3: "district", 4: "town", 5: "community"}
GRID_LEVEL = 6


def load_catalog():
    types_doc = tomllib.loads((CATALOG / "types.toml").read_text())
    indicators = tomllib.loads((CATALOG / "indicators.toml").read_text())["indicator"]
    kinds = {a["name"]: a["kind"] for a in types_doc["attribute"]}
    personal = {a["name"] for a in types_doc["attribute"] if a.get("personal")}
    types = {t["id"]: t.get("attributes", []) for t in types_doc["type"]}
    return kinds, personal, types, indicators


def expand(patterns, types):
    out = []
    for p in patterns:
        if p.endswith(".*"):
            matched = [t for t in types if t.startswith(p[:-1])]
        else:
            matched = [p] if p in types else []
        if not matched:
            sys.exit(f"indicators.toml: pattern {p!r} matches no type")
        out += [t for t in matched if t not in out]
    return out


def parse_condition(text):
    m = COND_RE.match(text)
    if not m:
        sys.exit(f"indicators.toml: cannot read condition {text!r}")
    return m.group(1), m.group(2), m.group(3)


def measured_attributes(indicators):
    """Attributes read by conditions or sums, in first-use order."""
    names = []
    for ind in indicators:
        for cond in ind.get("where", []):
            names.append(parse_condition(cond)[0])
        if ind["measure"].startswith("sum:"):
            names.append(ind["measure"][4:])
    return list(dict.fromkeys(names))


def quote(name):
    return '"' + name + '"'


def sql_list(values):
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def type_test(patterns, types):
    matched = expand(patterns, types)
    return f"type = '{matched[0]}'" if len(matched) == 1 else f"type IN ({sql_list(matched)})"


def measure_sql(ind, extra=()):
    """count(*) or sum(ATTR), FILTER (WHERE EXTRA AND the indicator's conditions) when any."""
    parts = list(extra)
    for cond in ind.get("where", []):
        attr, op, number = parse_condition(cond)
        parts.append(f"{quote(attr)} <> 0" if op is None else f"{quote(attr)} {OPS[op]} {number}")
    if ind["measure"] == "count":
        agg = "count(*)"
    elif ind["measure"].startswith("sum:"):
        agg = f"sum({quote(ind['measure'][4:])})"
    else:
        sys.exit(f"indicators.toml: {ind['id']}: unknown measure {ind['measure']!r}")
    return agg + (f" FILTER (WHERE {' AND '.join(parts)})" if parts else "")


def report_queries(indicators, types, period_case, source, where):
    """Two formulations of the same report, generated from the catalog.

    grouped (the one timed): events of the three months grouped by (month, type), with one
    aggregate per distinct (conditions, measure) pair of the catalog (10 for the 33 indicators),
    then each indicator summed over its types from those few rows.
    flat (a cross-check): one FILTER aggregate per indicator over the events (33 type tests and
    conditions on every row)."""
    flat = ",\n  ".join(
        f'coalesce({measure_sql(ind, [type_test(ind["types"], types)])}, 0) AS "{ind["id"]}"' for ind in indicators)
    flat_sql = (f"SELECT {period_case} AS period,\n  {flat}\nFROM {source}\nWHERE {where}\nGROUP BY 1")
    partial = {}
    outer = []
    for ind in indicators:
        name = partial.setdefault(measure_sql(ind), f"a{len(partial)}")
        outer.append(f'coalesce(sum({name}) FILTER (WHERE {type_test(ind["types"], types)}), 0) AS "{ind["id"]}"')
    inner = ",\n    ".join(f"{expr} AS {name}" for expr, name in partial.items())
    outer = ",\n  ".join(outer)
    grouped_sql = (f"SELECT period,\n  {outer}\nFROM (\n  SELECT {period_case} AS period, type,\n    {inner}\n"
                   f"  FROM {source}\n  WHERE {where}\n  GROUP BY 1, 2) t\nGROUP BY 1")
    return grouped_sql, flat_sql


def now():
    return time.perf_counter()


def source_uri(path):
    """Read-only, without touching the directory: immutable when the WAL is empty."""
    wal = Path(str(path) + "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        return f"file:{path}?mode=ro"
    return f"file:{path}?immutable=1"


def open_source_db(path):
    return sqlite3.connect(source_uri(path), uri=True)


def read_deployment(data_dir):
    doc = tomllib.loads((data_dir / "pingan.toml").read_text())
    return str(doc.get("home_city", "3301")), doc.get("time_zone", "Asia/Shanghai")


# --- export -------------------------------------------------------------------------------------

def cmd_export(data_dir, work):
    data_dir, work = Path(data_dir), Path(work)
    kinds, personal, types, indicators = load_catalog()
    attrs = measured_attributes(indicators)
    leaked = [a for a in attrs if a in personal]
    if leaked:
        sys.exit(f"refusing to export personal attributes {leaked}")
    home_city, time_zone = read_deployment(data_dir)
    db = open_source_db(data_dir / "pingan.db")

    # The governance tree below the home city down to grids, each unit with its district-,
    # town- and community-level ancestors (itself included): the grid -> district join of the
    # baseline. Parents come before children in level order; units outside the home city never
    # enter `anc`.
    start = now()
    home_code = home_city.ljust(27, "0")
    row = db.execute("SELECT id, level, name FROM units WHERE code = ? AND retired = 0", (home_code,)).fetchone()
    if row is None:
        sys.exit(f"home city {home_city} is not in the registry")
    home_id, home_level, home_name = row
    anc = {home_id: (None, None, None)}
    names = {home_code: home_name}
    units = 0
    with open(work / "units.csv", "w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["code", "level", "district", "town", "community"])
        out.writerow([home_code, home_level, "", "", ""])
        for uid, code, level, parent, name in db.execute(
                "SELECT id, code, level, parent, name FROM units WHERE retired = 0 AND level > ? AND level <= ? "
                "ORDER BY level, id", (home_level, GRID_LEVEL)):
            up = anc.get(parent)
            if up is None:
                continue
            here = list(up)
            if level in MAP_COLUMN:
                here[level - 3] = code
                names[code] = name
            here = tuple(here)
            anc[uid] = here
            out.writerow([code, level, *(c or "" for c in here)])
            units += 1
    # An event below a grid is counted at its grid: the first 15 digits of its code. That holds
    # when every building's parent is the grid its code starts with (synthetic levels are
    # coded under their parents; only towns and above can be governed across codes).
    stray = db.execute(
        "SELECT count(*) FROM units b JOIN units g ON g.id = b.parent WHERE b.level > ? AND b.retired = 0 "
        "AND substr(b.code, 1, 15) <> substr(g.code, 1, 15)", (GRID_LEVEL,)).fetchone()[0]
    if stray:
        sys.exit(f"{stray} units below grid level are not coded under their parent grid: "
                 "a grid prefix does not give their district")
    units_seconds = now() - start
    del anc

    # Events: the stored columns the report needs, `place` = the unit the report joins on (the
    # event's grid when it was placed at a grid or below, else its unit), and the measured
    # attributes as typed columns (NULL when absent or not
    # declared by the event's type). attributes_json itself is not exported: it carries
    # personal data.
    start = now()
    cols = []
    for a in attrs:
        declaring = [t for t, declared in types.items() if a in declared]
        cols.append(f"CASE WHEN type IN ({sql_list(declaring)}) THEN json_extract(attributes_json, '$.{a}') END")
    sql = ("SELECT id, type, occurred_at, unit, "
           f"CASE WHEN level > {GRID_LEVEL} THEN substr(unit, 1, 15) || '000000000000' ELSE unit END, "
           f"status, in_home_city, {', '.join(cols)} FROM events ORDER BY id")
    header = ",".join(["id", "type", "occurred_at", "unit", "place", "status", "in_home_city", *attrs])
    with open(work / "events.csv", "w") as f:
        f.write(header + "\n")
        f.flush()
        # The sqlite3 shell writes CSV at C speed (NULL as an empty field, as COPY reads it).
        subprocess.run(["sqlite3", "-bail", "-csv", source_uri(data_dir / "pingan.db"), sql], stdout=f, check=True)
    events = sum(1 for _ in open(work / "events.csv", "rb")) - 1
    events_seconds = now() - start
    meta = {
        "data_dir": str(data_dir.resolve()), "home_city": home_code, "home_name": home_name,
        "time_zone": time_zone, "attributes": attrs, "kinds": {a: kinds[a] for a in attrs},
        "events": events, "units": units + 1, "names": names,
        "export_seconds": {"units": units_seconds, "events": events_seconds},
        "events_csv_bytes": (work / "events.csv").stat().st_size,
    }
    (work / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1))
    print(f"exported {events:,} events ({meta['events_csv_bytes'] / 1e6:,.0f} MB CSV, {events_seconds:.1f} s) and "
          f"{units + 1:,} units of {home_name} ({units_seconds:.1f} s)")


# --- schema -------------------------------------------------------------------------------------

def schema_sql(engine, work):
    meta = json.loads((Path(work) / "meta.json").read_text())
    if engine == "pg":
        typ = {"bool": "smallint", "int": "integer", "number": "double precision"}
        head = ("CREATE TABLE events (id bigint PRIMARY KEY, type text NOT NULL, occurred_at bigint NOT NULL, "
                "unit text NOT NULL, place text NOT NULL, status smallint NOT NULL, in_home_city smallint NOT NULL")
        units = ("CREATE TABLE unit_map (code text NOT NULL, level smallint NOT NULL, district text, town text, "
                 "community text);")
    else:
        typ = {"bool": "INTEGER", "int": "INTEGER", "number": "REAL"}
        head = ("CREATE TABLE events (id INTEGER PRIMARY KEY, type TEXT NOT NULL, occurred_at INTEGER NOT NULL, "
                "unit TEXT NOT NULL, place TEXT NOT NULL, status INTEGER NOT NULL, in_home_city INTEGER NOT NULL")
        units = ("CREATE TABLE unit_map (code TEXT PRIMARY KEY, level INTEGER NOT NULL, district TEXT, town TEXT, "
                 "community TEXT) WITHOUT ROWID;")
    cols = "".join(f", {quote(a)} {typ[meta['kinds'][a]]}" for a in meta["attributes"])
    return head + cols + ");\n" + units + "\n"


# --- SQLite -------------------------------------------------------------------------------------

def sqlite_connect(path):
    con = sqlite3.connect(path, isolation_level=None)
    # The same page cache as PostgreSQL's shared_buffers in the bench (1 GB).
    con.execute("PRAGMA cache_size = -1048576")
    return con


def sqlite_shell(path, *commands):
    """Runs the sqlite3 shell on PATH with COMMANDS; returns its wall seconds."""
    start = now()
    subprocess.run(["sqlite3", "-bail", str(path), *commands], check=True, stdout=subprocess.DEVNULL)
    return now() - start


def cmd_sqlite_load(work):
    work = Path(work)
    meta = json.loads((work / "meta.json").read_text())
    path = work / "report.sqlite"
    if path.exists():
        path.unlink()
    sqlite_shell(path, schema_sql("sqlite", work))
    # `.import` reads an empty field as '' (not NULL): import into an in-memory staging table,
    # then one INSERT ... SELECT with NULLIF on the nullable (attribute) columns, all in one
    # transaction.
    names = ["id", "type", "occurred_at", "unit", "place", "status", "in_home_city", *meta["attributes"]]
    select = ", ".join(quote(c) if i < 7 else f"NULLIF({quote(c)}, '')" for i, c in enumerate(names))
    timings = {"events": sqlite_shell(
        path, "PRAGMA temp_store = MEMORY", f"CREATE TEMP TABLE staging({', '.join(map(quote, names))})",
        "BEGIN", f".import --csv --skip 1 --schema temp '{work / 'events.csv'}' staging",
        f"INSERT INTO events SELECT {select} FROM temp.staging", "COMMIT")}
    timings["units"] = sqlite_shell(
        path, "PRAGMA temp_store = MEMORY", "CREATE TEMP TABLE staging(code, level, district, town, community)",
        "BEGIN", f".import --csv --skip 1 --schema temp '{work / 'units.csv'}' staging",
        "INSERT INTO unit_map SELECT code, level, NULLIF(district, ''), NULLIF(town, ''), NULLIF(community, '') "
        "FROM temp.staging", "COMMIT")
    timings["index"] = sqlite_shell(path, "CREATE INDEX events_occurred_at ON events (occurred_at)")
    timings["analyze"] = sqlite_shell(path, "ANALYZE")
    con = sqlite3.connect(str(path))
    rows = con.execute("SELECT count(*) FROM events").fetchone()[0]
    con.close()
    if rows != meta["events"]:
        sys.exit(f"SQLite loaded {rows} events, not {meta['events']}")
    timings["bytes"] = path.stat().st_size
    (work / "sqlite_load.json").write_text(json.dumps(timings))
    print(f"SQLite {sqlite3.sqlite_version}: {rows:,} events by .import in one transaction {timings['events']:.1f} s "
          f"= {rows / timings['events']:,.0f} rows/s; index on occurred_at {timings['index']:.1f} s; "
          f"ANALYZE {timings['analyze']:.1f} s; file {timings['bytes'] / 1e9:.2f} GB")


# --- plan ---------------------------------------------------------------------------------------

def month_start(year, month, tz):
    return int(datetime(year, month, 1, tzinfo=tz).timestamp())


def add_months(year, month, delta):
    k = year * 12 + (month - 1) + delta
    return k // 12, k % 12 + 1


def cmd_plan(work, unit=None, period=None):
    work = Path(work)
    meta = json.loads((work / "meta.json").read_text())
    kinds, personal, types, indicators = load_catalog()
    tz = ZoneInfo(meta["time_zone"])
    con = sqlite_connect(str(work / "report.sqlite"))

    if unit:
        if not re.fullmatch(r"[0-9]+", unit) or len(unit) not in (4, 6, 9, 12, 27):
            sys.exit(f"unit {unit!r}: give a code of 4, 6, 9 or 12 digits, or all 27")
        code = unit.ljust(27, "0")
        row = con.execute("SELECT level FROM unit_map WHERE code = ?", (code,)).fetchone()
        if row is None or (row[0] not in MAP_COLUMN and code != meta["home_city"]):
            sys.exit(f"unit {code}: not the home city or a district, town or community of it")
        level = row[0]
        if code not in meta["names"]:
            meta["names"][code] = code
    else:
        # The district-level unit holding most counted events, over the whole data.
        code, count = con.execute(
            "SELECT m.district, count(*) c FROM events e JOIN unit_map m ON m.code = e.place "
            "WHERE e.status = 0 AND e.in_home_city = 1 AND m.district IS NOT NULL "
            "GROUP BY m.district ORDER BY c DESC LIMIT 1").fetchone()
        level = 3
    if period:
        m = re.fullmatch(r"([0-9]{4})-([0-9]{2})", period)
        if not m or not 1 <= int(m.group(2)) <= 12:
            sys.exit(f"period {period!r}: give YYYY-MM")
        year, month = int(m.group(1)), int(m.group(2))
    else:
        # The latest full month: the month of the last event if the data reach its last day,
        # else the month before.
        last = con.execute("SELECT max(occurred_at) FROM events WHERE in_home_city = 1").fetchone()[0]
        day = datetime.fromtimestamp(last, tz).date()
        year, month = day.year, day.month
        ny, nm = add_months(year, month, 1)
        if (date(ny, nm, 1) - day).days != 1:
            year, month = add_months(year, month, -1)
    con.close()

    windows = {}
    for name, delta in (("current", 0), ("yoy", -12), ("mom", -1)):
        y, mth = add_months(year, month, delta)
        ey, em = add_months(y, mth, 1)
        windows[name] = {"month": f"{y:04d}-{mth:02d}", "from": month_start(y, mth, tz), "to": month_start(ey, em, tz)}
    cur, yoy, mom = windows["current"], windows["yoy"], windows["mom"]
    assert yoy["to"] <= mom["from"] and mom["to"] == cur["from"]

    period_case = (f"CASE WHEN e.occurred_at >= {cur['from']} THEN 'current' "
                   f"WHEN e.occurred_at >= {mom['from']} THEN 'mom' ELSE 'yoy' END")
    time_filter = (f"((e.occurred_at >= {yoy['from']} AND e.occurred_at < {yoy['to']}) OR "
                   f"(e.occurred_at >= {mom['from']} AND e.occurred_at < {cur['to']}))")
    # The unit's events: a semi-join to the unit map (SQLite probes a small temporary index of
    # the unit's grids; as a JOIN it probes the whole map's primary key per event, ~2x slower).
    unit_filter = ""
    if level in MAP_COLUMN:
        unit_filter = f" AND e.place IN (SELECT code FROM unit_map WHERE {MAP_COLUMN[level]} = '{code}')"
    query, flat = report_queries(indicators, types, period_case, "events e",
                                 f"{time_filter} AND e.status = 0 AND e.in_home_city = 1{unit_filter}")
    plan = {"unit": code, "unit_name": meta["names"].get(code, code), "level": level, "windows": windows,
            "indicators": [ind["id"] for ind in indicators],
            "sum_kinds": {ind["id"]: meta["kinds"][ind["measure"][4:]] for ind in indicators
                          if ind["measure"].startswith("sum:")}}
    if not unit:
        plan["unit_events"] = count
    (work / "plan.json").write_text(json.dumps(plan, ensure_ascii=False, indent=1))
    (work / "report.sql").write_text(query + ";\n")
    (work / "report_flat.sql").write_text(flat + ";\n")
    print(f"report: {plan['unit_name']} ({code}), {cur['month']} with YoY {yoy['month']} and MoM {mom['month']}; "
          f"{len(indicators)} indicators x 3 months in one query ({work / 'report.sql'})")


def read_result(rows, plan):
    """{indicator: {current, yoy, mom}} from rows of (period, v1..v33); absent months are 0."""
    ids = plan["indicators"]
    out = {i: {"current": 0, "yoy": 0, "mom": 0} for i in ids}
    for row in rows:
        for i, v in zip(ids, row[1:]):
            out[i][row[0]] = float(v) if plan["sum_kinds"].get(i) == "number" else int(float(v))
    return out


def cmd_sqlite_time(work, runs):
    work = Path(work)
    runs = int(runs)
    sql = (work / "report.sql").read_text()
    plan = json.loads((work / "plan.json").read_text())
    con = sqlite_connect(str(work / "report.sqlite"))
    with open(work / "sqlite_explain.txt", "w") as f:
        for r in con.execute("EXPLAIN QUERY PLAN " + sql):
            f.write(" | ".join(str(x) for x in r) + "\n")
    for _ in range(3):
        rows = con.execute(sql).fetchall()
    times = []
    for _ in range(runs):
        start = now()
        rows = con.execute(sql).fetchall()
        times.append((now() - start) * 1000)
    flat = con.execute((work / "report_flat.sql").read_text()).fetchall()
    con.close()
    (work / "sqlite_times.json").write_text(json.dumps(times))
    (work / "sqlite_result.json").write_text(json.dumps(read_result(rows, plan)))
    (work / "sqlite_flat.json").write_text(json.dumps(read_result(flat, plan)))


# --- summary ------------------------------------------------------------------------------------

def percentile(values, p):
    """Nearest rank."""
    s = sorted(values)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


def fmt(v, kind):
    if kind == "number":
        return f"{v:.2f}"
    return str(int(v))


def same(a, b, kind):
    if kind == "number":
        return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))
    return a == b


def write_report(path, result, plan):
    with open(path, "w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["indicator", "current", "yoy", "mom"])
        for i in plan["indicators"]:
            kind = plan["sum_kinds"].get(i)
            out.writerow([i, *(fmt(result[i][k], kind) for k in ("current", "yoy", "mom"))])


def cmd_summary(work, out_dir):
    work, out_dir = Path(work), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    meta = json.loads((work / "meta.json").read_text())
    plan = json.loads((work / "plan.json").read_text())
    pg_load = json.loads((work / "pg_load.json").read_text())
    sq_load = json.loads((work / "sqlite_load.json").read_text())
    pg_times = [float(x) for x in re.findall(r"^Time: ([0-9.]+) ms", (work / "pg_times.txt").read_text(), re.M)]
    sq_times = json.loads((work / "sqlite_times.json").read_text())
    def pg_csv(name):
        with open(work / name, newline="") as f:
            return read_result(list(csv.reader(f))[1:], plan)
    pg, pg_flat = pg_csv("pg_result.csv"), pg_csv("pg_flat.csv")
    sq = json.loads((work / "sqlite_result.json").read_text())
    sq_flat = json.loads((work / "sqlite_flat.json").read_text())
    write_report(out_dir / "report_pg.csv", pg, plan)
    write_report(out_dir / "report_sqlite.csv", sq, plan)
    for name in ("report.sql", "report_flat.sql", "plan.json", "pg_explain.txt", "sqlite_explain.txt"):
        (out_dir / name).write_text((work / name).read_text())

    w = plan["windows"]
    n = meta["events"]
    lines = []
    say = lines.append
    say(f"Report by SQL: {plan['unit_name']} ({plan['unit']}), {w['current']['month']} with YoY "
        f"{w['yoy']['month']} and MoM {w['mom']['month']}, {len(plan['indicators'])} indicators, "
        f"over {n:,} events of {meta['data_dir']}")
    if "unit_events" in plan:
        say(f"  (the district-level unit holding most counted events: {plan['unit_events']:,})")
    say(f"  PostgreSQL {pg_load['version']}: COPY {n / pg_load['copy']:,.0f} rows/s ({pg_load['copy']:.1f} s); "
        f"index on occurred_at {pg_load['index']:.1f} s; unit map ({meta['units']:,} rows) COPY + keys "
        f"{pg_load['units']:.1f} s; VACUUM ANALYZE {pg_load['analyze']:.1f} s")
    say(f"  SQLite {sqlite3.sqlite_version}: .import in one transaction {n / sq_load['events']:,.0f} rows/s "
        f"({sq_load['events']:.1f} s); index on occurred_at {sq_load['index']:.1f} s; ANALYZE {sq_load['analyze']:.1f} s")
    stats = {}
    for name, times, how in (("PostgreSQL", pg_times, "psql \\timing: parse, plan, execute, 3 rows back over a Unix socket"),
                             ("SQLite", sq_times, "python sqlite3 execute + fetchall, perf_counter")):
        med, p99 = statistics.median(times), percentile(times, 99)
        stats[name] = med
        say(f"  {name:<10} report: median {med:.1f} ms, p99 {p99:.1f} ms, min {min(times):.1f} ms over "
            f"{len(times)} warm runs ({how})")
        if name == "PostgreSQL" and (work / "pg_times_jit.txt").exists():
            jit = [float(x) for x in re.findall(r"^Time: ([0-9.]+) ms", (work / "pg_times_jit.txt").read_text(), re.M)]
            say(f"  {'':<10}         with jit = on (PostgreSQL's default; off above): median "
                f"{statistics.median(jit):.1f} ms, p99 {percentile(jit, 99):.1f} ms over {len(jit)} runs")

    bad = []
    for i in plan["indicators"]:
        kind = plan["sum_kinds"].get(i)
        for k in ("current", "yoy", "mom"):
            for other, value in (("SQLite", sq[i][k]), ("PostgreSQL, flat query", pg_flat[i][k]),
                                 ("SQLite, flat query", sq_flat[i][k])):
                if not same(pg[i][k], value, kind):
                    bad.append(f"{i} {k}: PostgreSQL {pg[i][k]}, {other} {value}")
    if bad:
        say(f"  MISMATCH ({len(bad)} values):")
        lines.extend("    " + b for b in bad)
    else:
        say(f"  PostgreSQL and SQLite agree on all {3 * len(plan['indicators'])} values, and so does the flat form "
            f"of the query (report_flat.sql) on each: {out_dir / 'report_pg.csv'} (= report_sqlite.csv)")
    width = max(len(i) for i in plan["indicators"])
    say(f"  {'indicator':<{width}} {w['current']['month']:>14} {w['yoy']['month']:>14} {w['mom']['month']:>14}")
    for i in plan["indicators"]:
        kind = plan["sum_kinds"].get(i)
        say(f"  {i:<{width}} " + " ".join(f"{fmt(pg[i][k], kind):>14}" for k in ("current", "yoy", "mom")))
    text = "\n".join(lines)
    print(text)
    (out_dir / "summary.txt").write_text(text + "\n")
    (out_dir / "stats.json").write_text(json.dumps({
        "unit": plan["unit"], "period": w["current"]["month"], "events": n,
        "pg_median_ms": stats["PostgreSQL"], "pg_p99_ms": percentile(pg_times, 99),
        "sqlite_median_ms": stats["SQLite"], "sqlite_p99_ms": percentile(sq_times, 99),
        "pg_copy_rows_per_s": n / pg_load["copy"], "sqlite_rows_per_s": n / sq_load["events"]}))
    if bad:
        sys.exit(1)


def cmd_cube(out_dir, cube_output):
    """Ratio of the SQL medians to the cube's p50, from report_benchmark's output."""
    stats = json.loads((Path(out_dir) / "stats.json").read_text())
    text = Path(cube_output).read_text()
    m = re.search(r"cube_report_us\s+p50=([0-9.eE+-]+)\s+p99=([0-9.eE+-]+)", text)
    if not m:
        print("  report_benchmark printed no `cube_report_us p50=<x> p99=<y>` line: no ratio")
        return
    p50, p99 = float(m.group(1)), float(m.group(2))
    print(f"  cube: p50 {p50:,.1f} us, p99 {p99:,.1f} us")
    for name, key in (("PostgreSQL", "pg"), ("SQLite", "sqlite")):
        med, tail = stats[f"{key}_median_ms"] * 1000, stats[f"{key}_p99_ms"] * 1000
        ratio = med / p50 if p50 > 0 else float("inf")
        verdict = "met" if ratio >= 100 else "NOT met"
        print(f"  {name} median / cube p50 = {ratio:,.0f}x (p99 / p99 = {tail / p99 if p99 > 0 else float('inf'):,.0f}x): "
              f"target >= 100x {verdict}")


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd, args = argv[1], argv[2:]
    if cmd == "export":
        cmd_export(*args)
    elif cmd == "schema":
        print(schema_sql(*args), end="")
    elif cmd == "sqlite-load":
        cmd_sqlite_load(*args)
    elif cmd == "plan":
        cmd_plan(args[0], *(a or None for a in args[1:]))
    elif cmd == "sqlite-time":
        cmd_sqlite_time(*args)
    elif cmd == "summary":
        cmd_summary(*args)
    elif cmd == "cube":
        cmd_cube(*args)
    else:
        sys.exit(f"unknown command {cmd}\n{__doc__}")


if __name__ == "__main__":
    main(sys.argv)
