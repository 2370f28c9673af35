#!/usr/bin/env python3
"""The single view of truth for node_exporter's textfile collector.

    report_to_prometheus.py --output /var/lib/node_exporter/textfile_collector/ssot.prom

Writes the metrics atomically (a scrape never reads half a file) and prints
the report's one-line verdict; exits 0 OK, 1 DEGRADED, 2 DOWN, like
`ssot report`.
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
    p.add_argument("--output", required=True, help="the .prom file to write")
    args = p.parse_args(argv)

    s = ssot.Ssot(args.config, state_dir=args.state_dir)
    report = s.report()
    s.write_output(args.output, report.to_prometheus())
    worst = [f"{x.name} {x.status}: {x.summary}" for x in report.sections if x.status is not ssot.Verdict.OK]
    print(f"ssot {report.verdict}" + (f" ({worst[0]})" if worst else ""))
    return report.exit_code


if __name__ == "__main__":
    sys.exit(main())
