#!/usr/bin/env python3
"""Writes the generated part of `python/ssot/_ssot.pyi`: the result and
record classes (rendered by the extension from the core's JSON Schema,
`ssot._ssot._result_stubs()`) and `__all__` (the extension's names).

    python ssot-py/stubgen.py            # rewrite the stub
    python ssot-py/stubgen.py --check    # exit 1, with a diff, if it is stale

Run it with the wheel installed (scripts/test-python installs it); the test
`test_the_stub_is_generated_from_the_schema` runs the check.
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

STUB = Path(__file__).resolve().parent / "python" / "ssot" / "_ssot.pyi"
BEGIN = "# --- generated from the core's schema by ssot-py/stubgen.py: do not edit ---\n"
END = "# --- end of the generated classes ---\n"


def generated(text: str) -> str:
    """`text` (the stub) with its generated parts as the extension renders them now."""
    import ssot._ssot as ext

    names = sorted(ext.__all__, key=lambda n: (n.startswith("_"), n.lower()))
    head, rest = text.split("__all__ = [\n", 1)
    _, rest = rest.split("\n]\n", 1)
    all_block = "__all__ = [\n" + "".join(f'    "{n}",\n' for n in names) + "]\n"
    before, rest = rest.split(BEGIN, 1)
    _, after = rest.split(END, 1)
    return head + all_block + before + BEGIN + "\n" + ext._result_stubs() + END + after


def main(argv: list[str]) -> int:
    text = STUB.read_text(encoding="utf-8")
    new = generated(text)
    if "--check" in argv:
        if new != text:
            sys.stdout.writelines(difflib.unified_diff(text.splitlines(True), new.splitlines(True), str(STUB), "generated"))
            print(f"{STUB} is stale: run python ssot-py/stubgen.py", file=sys.stderr)
            return 1
        return 0
    STUB.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
