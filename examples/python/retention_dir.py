#!/usr/bin/env python3
"""Retention over a directory of backups: plan and show, then apply the reviewed plan.

    retention_dir.py --profile backups                  # plan, show, print its hash
    retention_dir.py --profile backups --apply HASH     # apply exactly that plan

Nothing is deleted without the hash of a plan you have seen. Applying a plan
whose hash no longer matches (new backups arrived, a drill verified another)
is refused; re-run without --apply to review the new one.
"""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional

import ssot


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", help="ssot.toml [default: /opt/ssot/ssot.toml if present]")
    p.add_argument("--state-dir", help="state directory [default: the configuration's]")
    p.add_argument("--profile", help="a [retention.NAME] profile of the configuration")
    p.add_argument("--dir", help="the directory whose entries are the artifacts [default: the profile's root]")
    p.add_argument("--keep-daily", type=int, help="override the profile's keep_daily")
    p.add_argument("--apply", metavar="HASH", help="apply the plan with this hash (12 or more hex digits)")
    args = p.parse_args(argv)

    s = ssot.Ssot(args.config, state_dir=args.state_dir)
    policy: ssot.RetentionPolicy = {}
    if args.keep_daily is not None:
        policy["keep_daily"] = args.keep_daily
    if args.apply is None:
        plan = s.plan_retention(args.dir, policy, profile=args.profile)
        print(plan, end="")
        for d in plan.delete:
            print(f"would delete {d.id}: {'; '.join(d.reasons)}")
        if plan.delete and plan.refused is None:
            print(f"to apply: {sys.argv[0]} ... --apply {plan.plan_hash[:16]}")
        return plan.exit_code
    outcome = s.apply_retention(args.dir, policy, profile=args.profile, plan_hash=args.apply)
    print(outcome, end="")
    return outcome.exit_code


if __name__ == "__main__":
    sys.exit(main())
