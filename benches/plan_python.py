#!/usr/bin/env python3
"""A plain, unoptimised Python implementation of the retention rules the
comparison uses (today's restic keep_last/hourly/daily/weekly/monthly/yearly
over complete artifacts, newest first, per group, including keeping the oldest
while a rule has counts left; partial/failed artifacts kept within a grace
period; min_verified), to compare `ssot retention plan` with.

    benches/plan_python.py CATALOG.json NOW LAST HOURLY DAILY WEEKLY MONTHLY YEARLY MIN_VERIFIED

Reads the same JSON catalog, writes the plan as JSON (kept and deleted ids with
their reasons) to stdout. UTC buckets, no size budget, no parents.
"""
import json
import sys
from collections import defaultdict
from datetime import datetime, timedelta

path, now = sys.argv[1], datetime.fromisoformat(sys.argv[2].replace("Z", "+00:00"))
last, hourly, daily, weekly, monthly, yearly, min_verified = map(int, sys.argv[3:10])
grace = timedelta(days=1)

with open(path) as f:
    artifacts = json.load(f)

groups = defaultdict(list)
for a in artifacts:
    a["_t"] = datetime.fromisoformat(a["created_at"].replace("Z", "+00:00"))
    groups[a.get("group") or "default"].append(a)

keep, delete = [], []
for name in sorted(groups):
    members = sorted(groups[name], key=lambda a: (-a["_t"].timestamp(), a["id"]))
    rules = [
        ("last", last, lambda t, i: i),  # the bucket is the artifact itself
        ("hourly", hourly, lambda t, i: t.strftime("%Y-%m-%dT%H")),
        ("daily", daily, lambda t, i: t.strftime("%Y-%m-%d")),
        ("weekly", weekly, lambda t, i: "%04d-W%02d" % t.isocalendar()[:2]),
        ("monthly", monthly, lambda t, i: t.strftime("%Y-%m")),
        ("yearly", yearly, lambda t, i: t.strftime("%Y")),
    ]
    left = {r[0]: r[1] for r in rules}
    previous = {}
    verified_left = min_verified
    nr = 0
    complete = [a for a in members if a.get("state", "complete") == "complete"]
    oldest = complete[-1]["id"] if complete else None
    for a in members:
        reasons = []
        if a.get("state", "complete") != "complete":
            if now - a["_t"] < grace:
                keep.append({"id": a["id"], "group": name, "reasons": ["partial, within partial_grace"]})
            else:
                delete.append({"id": a["id"], "group": name, "reasons": ["partial, older than partial_grace"]})
            continue
        for rule, count, bucket in rules:
            if left[rule] > 0:
                b = bucket(a["_t"], nr)
                if previous.get(rule) != b or a["id"] == oldest:
                    reasons.append(f"{rule} {b}" if previous.get(rule) != b else f"oldest {rule} {b}")
                    previous[rule] = b
                    left[rule] -= 1
        nr += 1
        if a.get("verified") and verified_left > 0:
            verified_left -= 1
            reasons.append(f"min_verified {min_verified}")
        entry = {"id": a["id"], "group": name, "created_at": a["created_at"], "reasons": reasons}
        (keep if reasons else delete).append(entry)
        if not reasons:
            entry["reasons"] = ["not kept by any rule"]

sys.stdout.write(json.dumps({"keep": keep, "delete": delete}))  # dumps, not dump: the C encoder
sys.stdout.write("\n")
