"""Every conformance vector in tests/vectors/, through the Python surface:
the result's to_dict() must equal the vector's exact expected JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import ssot
from conftest import load, vectors


@pytest.mark.parametrize("path", vectors("wal"), ids=lambda p: p.name)
def test_wal(path: Path) -> None:
    v = load(path)
    r = ssot.evaluate_wal(v["facts"], v["policy"], now=v["now"])
    assert r.to_dict() == v["expected"]
    assert r.status == v["expect"]["status"] and isinstance(r.status, ssot.WalStatus)
    assert [x.level for x in r.reasons] == [x["level"] for x in v["expected"]["reasons"]]
    assert all(isinstance(x.level, ssot.WalStatus) for x in r.reasons)
    assert json.loads(r.to_json()) == v["expected"]


@pytest.mark.parametrize("path", vectors("gate"), ids=lambda p: p.name)
def test_gate(path: Path) -> None:
    v = load(path)
    d = ssot.evaluate_gate(v["operation"], v["facts"], v["policy"], now=v["now"])
    assert d.to_dict() == v["expected"]
    assert d.allowed == v["expect"]["allowed"]
    assert [c.rule for c in d.denials] == v["expect"]["failed"]
    assert d.operation is ssot.Operation(v["operation"])


@pytest.mark.parametrize("path", vectors("retention"), ids=lambda p: p.name)
def test_retention(path: Path) -> None:
    v = load(path)
    if "error" in v["expected"]:
        with pytest.raises(ssot.SsotError) as e:
            ssot.plan_retention(v["artifacts"], v["policy"], now=v["now"])
        assert str(e.value) == v["expected"]["error"]
        assert isinstance(e.value, ValueError)
        return
    plan = ssot.plan_retention(v["artifacts"], v["policy"], now=v["now"])
    assert plan.to_dict() == v["expected"]
    assert sorted(d.id for d in plan.delete) == sorted(v["expect"]["delete"])
    for action, items in ((ssot.Action.KEEP, plan.keep), (ssot.Action.DELETE, plan.delete)):
        assert [(d.id, d.action, d.state) for d in items] == [
            (x["id"], action, ssot.ArtifactState(x["state"])) for x in v["expected"][action.value]
        ]


@pytest.mark.parametrize("path", vectors("contract"), ids=lambda p: p.name)
def test_contract(path: Path) -> None:
    v = load(path)
    r = ssot.evaluate_contract(
        v["inputs"],
        v["config"],
        now=v["now"],
        backup_location=v.get("backup_location"),
        backup_target=v.get("backup_target"),
    )
    assert r.to_dict() == v["expected"]
    assert r.status == v["expect"]["status"] and isinstance(r.status, ssot.ContractStatus)
    assert [i.status for i in r.invariants] == [ssot.InvariantStatus(i["status"]) for i in v["expected"]["invariants"]]
    assert [x.status for x in r.limitations] == [ssot.LimitationStatus(x["status"]) for x in v["expected"]["limitations"]]


@pytest.mark.parametrize("path", vectors("report"), ids=lambda p: p.name)
def test_report(path: Path) -> None:
    v = load(path)
    r = ssot.build_report(v["files"], gate_log=v.get("gate_log"), config=v["config"], now=v["now"])
    assert r.to_dict() == v["expected"]
    assert r.verdict == v["expect"]["verdict"] and isinstance(r.verdict, ssot.Verdict)
    assert [x.status for x in r.sections] == [ssot.Verdict(x["status"]) for x in v["expected"]["sections"]]
