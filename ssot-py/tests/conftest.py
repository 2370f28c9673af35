"""Shared fixtures: the conformance vectors, the `ssot` CLI, sandboxes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

REPO = Path(__file__).resolve().parents[2]
VECTORS = REPO / "tests" / "vectors"
NOW = "2026-02-05T12:00:00Z"


def vectors(kind: str) -> List[Path]:
    files = sorted((VECTORS / kind).glob("*.json"))
    assert len(files) >= 5, f"too few {kind} vectors in {VECTORS / kind}"
    return files


def load(path: Path) -> Dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        data: Dict[str, Any] = json.load(f)
    return data


def cli_binary() -> str:
    """The `ssot` CLI to compare with: $SSOT_BIN, else the workspace's debug build."""
    given = os.environ.get("SSOT_BIN")
    if given:
        return given
    built = REPO / "target" / "debug" / "ssot"
    if built.exists():
        return str(built)
    found = shutil.which("ssot")
    assert found, "no ssot CLI: set SSOT_BIN or run `cargo build` first"
    return found


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([cli_binary(), *args], capture_output=True, text=True, timeout=60)


@pytest.fixture
def state_dir(tmp_path: Path) -> Iterator[Path]:
    d = tmp_path / "state"
    d.mkdir()
    yield d
