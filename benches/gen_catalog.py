#!/usr/bin/env python3
"""Writes a retention catalog (the JSON list `ssot retention plan --catalog` reads).

    benches/gen_catalog.py N GROUPS OUT.json

N artifacts spread round-robin over GROUPS groups, one every 7 minutes going back
from 2026-01-01 (so 1M artifacts span about 13 years), sizes 1-64 MiB, about 1 in
50 verified, 1 in 1000 partial. Deterministic: the same arguments give the same file.
"""
import json
import sys
from datetime import datetime, timedelta, timezone

n, groups, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
with open(out, "w") as f:
    f.write("[")
    for i in range(n):
        a = {
            "id": f"bk_{i:08}",
            "created_at": (t0 - timedelta(minutes=7 * i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "size_bytes": (1 + (i * 7919) % 64) << 20,
            "group": f"db{i % groups:04}",
        }
        if i % 50 == 7:
            a["verified"] = True
        if i % 1000 == 3:
            a["state"] = "partial"
        if i:
            f.write(",\n")
        f.write(json.dumps(a, separators=(",", ":")))
    f.write("]\n")
