#!/usr/bin/env python3
"""Before the nightly dump: gate the backup, dump only if allowed, record the evidence.

    pre_backup.py [--config ssot.toml] [--target DIR] [--dump-command "pg_dump -Fc postgres"]

The gate takes the operation lock and the dump runs under it with
``hold.run``: the dump inherits the lock, so no snapshot, restore or second
backup starts while it (or anything it forks) runs, even if this script is
killed; a SIGTERM or Ctrl-C to this script reaches the dump too. A denied
gate raises ``ssot.GateDenied``: nothing meant to run under the lock runs.
The exit code is the gate's when it denies (1, or 2 when it could not
decide), 2 when the dump failed, 0 when the dump was recorded.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import List, Literal, Optional

import ssot


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", help="ssot.toml [default: /opt/ssot/ssot.toml if present]")
    p.add_argument("--state-dir", help="state directory [default: the configuration's]")
    p.add_argument("--target", help="backup directory [default: gate.targets.backup]")
    p.add_argument("--dump-command", default="pg_dump -Fc postgres", help="writes the dump to stdout")
    args = p.parse_args(argv)

    s = ssot.Ssot(args.config, state_dir=args.state_dir)
    target = Path(args.target or s.config().to_dict()["gate"]["targets"]["backup"])
    started = datetime.now(timezone.utc)
    try:
        hold = s.hold("backup", holder=f"pre_backup.py: {args.dump_command}", target=target)
    except ssot.GateDenied as denied:
        print(denied.decision, end="")
        return denied.decision.exit_code
    with hold:
        print(hold.decision, end="")
        name = f"ssot_{started:%Y%m%d_%H%M%S}.dump"
        dump = hold.run(shlex.split(args.dump_command), stdout=target / name, capture=False)
    result: Literal["complete", "failed"] = "complete" if dump.code == 0 else "failed"
    try:
        recorded = s.record_backup(name, location=str(target), result=result, started=started)
    except ssot.EvidenceRefused as e:
        print(f"pre_backup.py: {e}", file=sys.stderr)
        return e.exit_code
    print(recorded, end="")
    return 0 if dump.code == 0 else 2


if __name__ == "__main__":
    sys.exit(main())
