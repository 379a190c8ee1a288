#!/usr/bin/env python3
"""Inputs for bench/ingest.sh: N canonical event records built from stored demo events.

    bench/make_ingest_input.py EVENTS.jsonl N OUT_DIR

EVENTS.jsonl is the output of `pingan events --json --unmasked` on a data directory the demo
feeds were ingested into. The records are taken in that order, over and over until there are
N, each with a fresh source_id (the stored one plus "/bR", R the round), so that a data
directory holding only the registry inserts every one of them. Each record keeps its own
source, type, time (ISO 8601 with offset), status and attributes, under the canonical field
names (docs/catalog.md; sources with a mapping accept those too). Writes to OUT_DIR:

  text.jsonl   source, source_id, type, occurred_at, address, status, attributes: the address
               text as the event had it (one without gets the address of another record)
  text.csv     the same records as CSV: source,source_id,type,occurred_at,address,lon,lat,code,
               status,attr.NAME... (lon, lat and code empty)
  coded.jsonl  the same records placed without text: lon/lat where the event had a point, else
               `code` = the 27-digit unit the event was placed on; no address
  table.sql    CREATE TABLE events (...) with text.csv's columns typed for PostgreSQL
  stats.json   counts: records, distinct events, with a point, with a code, ...

Standard library only; output is the same for the same input.
"""

import csv
import json
import os
import sys

CANONICAL = ["source", "source_id", "type", "occurred_at", "address", "lon", "lat", "code", "status"]


def kind_of(values):
    """The PostgreSQL type for an attribute from the values the events carry."""
    kinds = set()
    for value in values:
        if isinstance(value, bool):
            kinds.add("boolean")
        elif isinstance(value, int):
            kinds.add("bigint")
        elif isinstance(value, float):
            kinds.add("double precision")
        else:
            kinds.add("text")
    if kinds == {"boolean"}:
        return "boolean"
    if kinds <= {"bigint"}:
        return "bigint"
    if kinds <= {"bigint", "double precision"}:
        return "double precision"
    return "text"


def csv_value(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def counted(event, key, addresses):
    """Whether `event` adds to the stats counter `key`."""
    has_point = event.get("lon") is not None and event.get("lat") is not None
    if key == "address_borrowed":
        return not event.get("address")
    return has_point if key == "coded_point" else not has_point


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: make_ingest_input.py EVENTS.jsonl N OUT_DIR")
    events_path, n, out_dir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    events = []
    with open(events_path, encoding="utf-8") as file:
        for line in file:
            if line.strip():
                events.append(json.loads(line))
    if not events:
        sys.exit(f"{events_path}: no events")
    del events[n:]  # fewer records than events: the first N
    addresses = [event["address"] for event in events if event.get("address")]
    if not addresses:
        sys.exit(f"{events_path}: no event has an address")

    attribute_values = {}
    for event in events:
        for name, value in (event.get("attributes") or {}).items():
            attribute_values.setdefault(name, []).append(value)
    attribute_names = sorted(attribute_values)
    attribute_types = {name: kind_of(values) for name, values in attribute_values.items()}

    os.makedirs(out_dir, exist_ok=True)
    stats = {"records": n, "distinct_events": len(events), "rounds": (n + len(events) - 1) // len(events),
             "address_borrowed": 0, "coded_point": 0, "coded_code": 0,
             "attribute_columns": len(attribute_names)}
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    # Each distinct event's lines once, with a marker where the source_id goes (the rounds differ
    # only there): JSON as the text before and after it, CSV as the row.
    id_slot = "\0"
    marker = dumps(id_slot)
    text_parts, coded_parts, rows = [], [], []
    for index, event in enumerate(events):
        address = event.get("address")
        if not address:
            address = addresses[(index * 7919) % len(addresses)]
            stats["address_borrowed"] += 1
        attributes = event.get("attributes") or {}
        head = {"source": event["source"], "source_id": id_slot, "type": event["type"],
                "occurred_at": event["occurred_at"]}
        text_parts.append(dumps({**head, "address": address, "status": event["status"],
                                 "attributes": attributes}).split(marker))
        rows.append([event["source"], id_slot, event["type"], event["occurred_at"], address,
                     "", "", "", event["status"]] + [csv_value(attributes.get(name)) for name in attribute_names])
        coded = dict(head)
        if event.get("lon") is not None and event.get("lat") is not None:
            coded["lon"], coded["lat"] = event["lon"], event["lat"]
            stats["coded_point"] += 1
        else:
            coded["code"] = event["unit"]
            stats["coded_code"] += 1
        coded["status"] = event["status"]
        coded["attributes"] = attributes
        coded_parts.append(dumps(coded).split(marker))
    # Counts over the N records, not the distinct events.
    for key in ("address_borrowed", "coded_point", "coded_code"):
        per_event = stats[key]
        stats[key] = per_event * (n // len(events)) + sum(
            1 for index in range(n % len(events)) if counted(events[index], key, addresses))

    with open(os.path.join(out_dir, "text.jsonl"), "w", encoding="utf-8") as text_jsonl, \
            open(os.path.join(out_dir, "text.csv"), "w", encoding="utf-8", newline="") as text_csv, \
            open(os.path.join(out_dir, "coded.jsonl"), "w", encoding="utf-8") as coded_jsonl:
        writer = csv.writer(text_csv, lineterminator="\n")
        writer.writerow(CANONICAL + ["attr." + name for name in attribute_names])
        for i in range(n):
            index = i % len(events)
            source_id = f"{events[index]['source_id']}/b{i // len(events)}"
            quoted = dumps(source_id)
            before, after = text_parts[index]
            text_jsonl.write(before + quoted + after + "\n")
            before, after = coded_parts[index]
            coded_jsonl.write(before + quoted + after + "\n")
            row = rows[index]
            row[1] = source_id
            writer.writerow(row)

    columns = ["source text NOT NULL", "source_id text NOT NULL", "type text NOT NULL",
               "occurred_at timestamptz NOT NULL", "address text", "lon double precision",
               "lat double precision", "code text", "status text"]
    columns += [f"attr_{name} {attribute_types[name]}" for name in attribute_names]
    with open(os.path.join(out_dir, "table.sql"), "w", encoding="utf-8") as file:
        file.write("CREATE TABLE events (\n  " + ",\n  ".join(columns) + "\n);\n")
    with open(os.path.join(out_dir, "stats.json"), "w", encoding="utf-8") as file:
        json.dump(stats, file)
        file.write("\n")


if __name__ == "__main__":
    main()
