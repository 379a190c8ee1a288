#!/usr/bin/env python3
"""Placement accuracy of ingested demo feeds against their truth file.

Usage: bench/placement_accuracy.py DIR     (DIR made by `pingan demo`: DIR/pingan.db, DIR/feeds/truth.csv.gz)

For every stored event with a truth row (source, source_id -> the 27-digit code of the place the
generator drew it for), compares the unit the event is counted under with the truth at the
district, town and community digits, for events placed at least that deep. Prints how many
events were placed at each level and the share right at each level. Reads the database
read-only; stdlib only.
"""
import collections
import csv
import gzip
import sqlite3
import sys

LEVELS = {2: "city", 3: "district", 4: "town", 5: "community", 6: "grid", 7: "building", 8: "unit", 9: "room"}
DIGITS = {3: 6, 4: 9, 5: 12}


def main(directory):
    truth = {}
    with gzip.open(f"{directory}/feeds/truth.csv.gz", "rt", encoding="utf-8", newline="") as f:
        rows = csv.reader(f)
        next(rows)
        for source, source_id, code, _type in rows:
            truth[(source, source_id)] = code
    db = sqlite3.connect(f"file:{directory}/pingan.db?mode=ro", uri=True)
    placed = collections.Counter()
    right = collections.Counter()
    checked = collections.Counter()
    events = 0
    for source, source_id, unit, level in db.execute("SELECT source, source_id, unit, level FROM events"):
        code = truth.get((source, source_id))
        if code is None:
            continue
        events += 1
        placed[level] += 1
        for at, digits in DIGITS.items():
            if level >= at:
                checked[at] += 1
                right[at] += unit[:digits] == code[:digits]
    print(f"events with a truth row: {events:,}")
    for level in sorted(placed):
        print(f"  placed at {LEVELS.get(level, level):<10} {placed[level]:>10,}  ({100 * placed[level] / events:.2f} %)")
    for at in DIGITS:
        if checked[at]:
            print(f"  {LEVELS[at]:<10} right {right[at]:,} of {checked[at]:,} placed that deep: "
                  f"{100 * right[at] / checked[at]:.2f} %")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
