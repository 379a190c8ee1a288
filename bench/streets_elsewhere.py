#!/usr/bin/env python3
"""The geocoder where the registry's streets are not the ones the addresses name.

Usage: bench/streets_elsewhere.py WORK_DIR     (PINGAN_BIN: default build/release/pingan)

Real addresses meet the demo city the way a feed of one synthetic city meets another: the
provinces, cities, districts, towns and communities are the real ones in both, the roads and
compounds are drawn anew. This script makes both (once, in WORK_DIR): a year of `pingan demo`
at scale 0.3 (seed 1) with its truth file, and a registry at scale 1 (seed 1) with other
streets. It geocodes the distinct address texts of the first against the second and scores each
answer against the generator's truth at the district, town and community digits (an answer
above that level counts as wrong there). The same texts against their own registry give the
figure where the streets are known. Stdlib only.
"""
import collections
import csv
import gzip
import json
import os
import subprocess
import sys

DIGITS = {"district": 6, "town": 9, "community": 12}
DEEPER = ["province", "city", "district", "town", "community", "grid", "building", "unit", "room"]


def run(args, **kwargs):
    return subprocess.run(args, check=True, **kwargs)


def main(work):
    binary = os.environ.get("PINGAN_BIN", "build/release/pingan")
    feeds_city, other_city = os.path.join(work, "feeds_city"), os.path.join(work, "other_city")
    if not os.path.exists(os.path.join(feeds_city, "feeds", "truth.csv.gz")):
        run([binary, "demo", "--data", feeds_city, "--seed", "1", "--scale", "0.3",
             "--from", "2023-01-01", "--to", "2023-12-31"], stdout=subprocess.DEVNULL)
    if not os.path.exists(os.path.join(other_city, "pingan.db")):
        run([binary, "init", "--data", other_city, "--seed", "1", "--scale", "1"], stdout=subprocess.DEVNULL)

    truth = {}
    with gzip.open(os.path.join(feeds_city, "feeds", "truth.csv.gz"), "rt", encoding="utf-8", newline="") as f:
        rows = csv.reader(f)
        next(rows)
        for source, source_id, code, _type in rows:
            truth[(source, source_id)] = code
    listing = run([binary, "events", "--data", feeds_city, "--json"], stdout=subprocess.PIPE).stdout
    codes = collections.defaultdict(set)  # address text -> the true codes of its events
    for line in listing.splitlines():
        event = json.loads(line)
        text, code = event.get("address"), truth.get((event["source"], event["source_id"]))
        if text and code and "\n" not in text:
            codes[text].add(code)
    texts = list(codes)
    print(f"{len(texts):,} distinct address texts of {feeds_city} with a truth")

    for label, data in (("streets known (their own registry)", feeds_city),
                        ("streets elsewhere (the scale-1 registry)", other_city)):
        answers = run([binary, "geocode", "--data", data], input="\n".join(texts) + "\n",
                      stdout=subprocess.PIPE, text=True).stdout.splitlines()
        assert len(answers) == len(texts), (len(answers), len(texts))
        right = collections.Counter()
        statuses = collections.Counter()
        for text, line in zip(texts, answers):
            answer = json.loads(line)
            statuses[answer["status"]] += 1
            level, code = answer.get("level"), answer.get("code", "")
            for name, digits in DIGITS.items():
                deep_enough = level in DEEPER and DEEPER.index(level) >= DEEPER.index(name)
                if deep_enough and any(code[:digits] == truth_code[:digits] for truth_code in codes[text]):
                    right[name] += 1
        shares = ", ".join(f"{name} {100 * right[name] / len(texts):.2f} %" for name in DIGITS)
        print(f"  {label}: {shares}; " + ", ".join(f"{k} {v:,}" for k, v in sorted(statuses.items())))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
