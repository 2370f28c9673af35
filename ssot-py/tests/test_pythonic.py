"""Python that feels like Python: documented names (in the stubs too), typed
options that mypy checks, results with datetimes and enums, file errors as
OSError, naive datetimes refused everywhere, the wheel's README runs."""

from __future__ import annotations

import ast
import enum
import errno
import gc
import inspect
import io
import re
import textwrap
from contextlib import redirect_stdout
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

import pytest

import ssot
import ssot._ssot
import ssot.enums
import ssot.options
from conftest import NOW, REPO

UTC = timezone.utc
PKG = REPO / "ssot-py"
STUB = PKG / "python" / "ssot" / "_ssot.pyi"


# --- the README -----------------------------------------------------------------


def test_the_readmes_example_runs() -> None:
    text = (PKG / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks, "the README has no Python example"
    out = io.StringIO()
    with redirect_stdout(out):
        for code in blocks:
            exec(compile(code, "README.md", "exec"), {})
    assert "wal_status_missing" in out.getvalue()


# --- docstrings -------------------------------------------------------------------


def public_members(cls: type) -> Dict[str, Any]:
    """The class's own public methods and properties."""
    out = {}
    for name, value in vars(cls).items():
        if name.startswith("_"):
            continue
        if inspect.isroutine(value) or inspect.isdatadescriptor(value) or isinstance(value, (property, classmethod)):
            out[name] = value
    return out


def exported() -> List[Tuple[str, Any]]:
    return [(n, getattr(ssot, n)) for n in ssot.__all__ if n != "__version__"]


def test_every_public_name_has_a_docstring() -> None:
    missing = []
    for name, obj in exported():
        if not (obj.__doc__ or "").strip():
            missing.append(name)
        if inspect.isclass(obj):
            for member, value in public_members(obj).items():
                if not (getattr(value, "__doc__", None) or "").strip():
                    missing.append(f"{name}.{member}")
    for module in (ssot, ssot.enums, ssot.options, ssot.errors):
        if not (module.__doc__ or "").strip():
            missing.append(module.__name__)
    assert missing == []


def stub_defs() -> Dict[str, ast.AST]:
    tree = ast.parse(STUB.read_text(encoding="utf-8"))
    return {n.name: n for n in tree.body if isinstance(n, (ast.ClassDef, ast.FunctionDef))}


def same(stub_doc: str, runtime_doc: str) -> bool:
    return inspect.cleandoc(stub_doc) == inspect.cleandoc(runtime_doc)


def test_the_stub_has_the_docstring_of_every_public_name() -> None:
    """The stub (what editors show) carries each docstring of the extension, word for word."""
    defs = stub_defs()
    problems = []
    names = [n for n in ssot._ssot.__all__ if not n.startswith("_")]
    assert len(names) > 25
    for name in names:
        obj = getattr(ssot._ssot, name)
        node = defs.get(name)
        if node is None:
            problems.append(f"{name}: not in the stub")
            continue
        doc = ast.get_docstring(node, clean=False) or ""
        if not doc.strip() or not same(doc, obj.__doc__ or ""):
            problems.append(f"{name}: stub docstring {doc!r} != {obj.__doc__!r}")
        if isinstance(node, ast.ClassDef):
            members = {m.name: m for m in node.body if isinstance(m, ast.FunctionDef)}
            for member, value in public_members(obj).items():
                m = members.get(member)
                mdoc = (ast.get_docstring(m, clean=False) if m else None) or ""
                if not mdoc.strip() or not same(mdoc, value.__doc__ or ""):
                    problems.append(f"{name}.{member}: stub docstring {mdoc!r} != {value.__doc__!r}")
    assert problems == []


# --- TypedDicts -------------------------------------------------------------------


def keys(td: Any) -> set:  # type: ignore[type-arg]
    return set(td.__annotations__)


def test_the_typeddicts_name_exactly_the_keys_the_core_has(tmp_path: Path) -> None:
    """Drift check: each configuration section's TypedDict has the keys the
    core writes for that section (every key, since each has a default)."""
    c = ssot.Ssot({}, state_dir=tmp_path).config().to_dict()
    o = ssot.options
    assert keys(o.ConfigDict) == set(c)
    assert keys(o.WalPolicy) == set(c["wal"])
    assert keys(o.DiskPolicy) == set(c["disk"])
    assert keys(o.GateConfig) == set(c["gate"])
    assert keys(o.GateTargets) == {op.value for op in ssot.Operation}
    assert keys(o.ContractConfig) == set(c["contract"])
    assert keys(o.EvidencePolicy) == set(c["evidence"])
    assert keys(o.ReportConfig) == set(c["report"])
    assert keys(o.PostgresConfig) >= set(c["postgres"])
    for name, profile in c["retention"].items():
        assert set(profile) <= keys(o.RetentionProfile), name
    assert keys(o.RetentionProfile) - keys(o.RetentionPolicy) == {"root", "pattern"}
    # The gate policy is the configuration's freshness limits and the disk floors.
    assert keys(o.GatePolicy) == {"wal_max_age", "contract_max_age", "max_clock_skew", "disk"}
    # Every key of every policy TypedDict is one the core accepts (it refuses unknown keys).
    ssot.plan_retention([], {k: v for k, v in c["retention"]["backups"].items() if k not in ("root", "pattern")}, now=NOW)
    ssot.evaluate_wal(WAL_FACTS, c["wal"], now=NOW)
    ssot.evaluate_gate("backup", GATE_FACTS, {k: c["gate"][k] for k in keys(o.GatePolicy) - {"disk"}} | {"disk": c["disk"]}, now=NOW)
    ssot.evaluate_contract({}, c["contract"], now=NOW)


WAL_FACTS = {"wal_bytes": 1 << 30, "segment_count": 64, "volume": {"total_bytes": 100 << 30, "available_bytes": 50 << 30}}
GATE_FACTS = {"wal_status": {"state": "missing", "path": "wal.status"}}


def mypy(tmp_path: Path, name: str, code: str) -> Tuple[str, int]:
    from mypy import api

    f = tmp_path / name
    f.write_text(textwrap.dedent(code))
    out, err, status = api.run(["--strict", "--no-incremental", "--cache-dir", str(tmp_path / ".mypy"), str(f)])
    return out + err, status


def test_mypy_catches_a_typoed_policy_key(tmp_path: Path) -> None:
    typos = {
        # line: the code, each with one misspelt key or value
        4: 'ssot.plan_retention([], {"keep_dayly": 7}, now="2026-01-01T00:00:00Z")',
        5: 'ssot.Ssot({"wal": {"volume_near_pcnt": 70}})',
        6: 'ssot.evaluate_gate("backup", GATE, {"wal_max_agee": "5min"}, now="2026-01-01T00:00:00Z")',
        7: 'ssot.Ssot().plan_retention({"dirr": "/backups"})',
        8: 'ssot.plan_retention([{"id": "a", "created": "2026-01-01T00:00:00Z"}], now="2026-01-01T00:00:00Z")',
        9: 'policy: ssot.RetentionPolicy = {"keep_last": 3, "keep_dayly": 7}',
        10: 'cfg: ssot.ConfigDict = {"gate": {"targets": {"bakup": "/b"}}}',
        11: 'ssot.evaluate_wal(WAL, {"volume_near_pct": 70, "growth_windw": "15min"}, now="2026-01-01T00:00:00Z")',
        12: 'ssot.evaluate_wal({"wal_bytes": 1, "segment_count": 1, "volum": {}}, now="2026-01-01T00:00:00Z")',
        13: 'ssot.evaluate_gate("backup", {"wal_status": {"state": "mising", "path": "p"}}, now="2026-01-01T00:00:00Z")',
        14: 'ssot.evaluate_contract({"statefulsett": "{}"}, now="2026-01-01T00:00:00Z")',
    }
    # Valid facts (lines 1 and 2) for the calls that need them.
    code = (
        f"import ssot\nWAL: ssot.WalFacts = {WAL_FACTS!r}\nGATE: ssot.GateFacts = {GATE_FACTS!r}\n"
        + "\n".join(typos[n] for n in sorted(typos))
        + "\n"
    )
    assert sorted(typos) == list(range(4, 4 + len(typos)))
    out, status = mypy(tmp_path, "typo.py", code)
    assert status == 1, out
    flagged = {int(n) for n in re.findall(r"typo\.py:(\d+): error", out)}
    assert flagged == set(typos), out
    # Where the parameter is one TypedDict, mypy names the key.
    assert 'Extra key "created" for TypedDict "Artifact"' in out, out
    assert 'Extra key "keep_dayly" for TypedDict "RetentionPolicy"' in out, out
    assert 'Extra key "bakup" for TypedDict "GateTargets"' in out, out


def test_every_vectors_inputs_type_check(tmp_path: Path) -> None:
    """The TypedDicts are not stricter than the core: every conformance
    vector's facts, policy, artifacts and inputs, as Python literals, pass
    mypy --strict against them."""
    from conftest import VECTORS, load

    lines = ["from typing import List", "import ssot", ""]
    shapes = {
        "wal": [("facts", "ssot.WalFacts"), ("policy", "ssot.WalPolicy")],
        "gate": [("facts", "ssot.GateFacts"), ("policy", "ssot.GatePolicy")],
        "retention": [("artifacts", "List[ssot.Artifact]"), ("policy", "ssot.RetentionPolicy")],
        "contract": [("inputs", "ssot.ContractInputs"), ("config", "ssot.ContractConfig")],
        "report": [("config", "ssot.ConfigDict")],
    }
    n = 0
    for kind, fields in shapes.items():
        for path in sorted((VECTORS / kind).glob("*.json")):
            v = load(path)
            for field, typ in fields:
                if isinstance(v.get(field), (dict, list)):
                    n += 1
                    lines.append(f"# {kind}/{path.name} {field}")
                    lines.append(f"v{n}: {typ} = {v[field]!r}")
    assert n > 60
    out, status = mypy(tmp_path, "vectors.py", "\n".join(lines) + "\n")
    assert status == 0, out


def test_mypy_accepts_the_correct_keys(tmp_path: Path) -> None:
    out, status = mypy(tmp_path, "ok.py", """
        from datetime import datetime, timedelta, timezone
        import ssot

        policy: ssot.RetentionPolicy = {"keep_daily": 7, "max_age": timedelta(days=30), "max_delete": "50%"}
        plan = ssot.plan_retention(
            [{"id": "a", "created_at": datetime(2026, 1, 1, tzinfo=timezone.utc), "size_bytes": 10}],
            policy,
            now="2026-01-02T00:00:00Z",
        )
        status: ssot.Action = plan.decisions[0].action
        when: datetime = plan.now
        cfg: ssot.ConfigDict = {"wal": {"volume_near_pct": 70}, "gate": {"targets": {"backup": "/b"}}}
        s = ssot.Ssot(cfg)
        s.plan_retention({"dir": "/backups", "policy": {"keep_last": 3}})
        d = ssot.evaluate_gate(
            ssot.Operation.BACKUP, {"wal_status": {"state": "missing", "path": "wal.status"}}, {"wal_max_age": "5min"}, now=when
        )
        w = ssot.evaluate_wal(
            {"wal_bytes": 1, "segment_count": 1, "volume": {"total_bytes": 10, "available_bytes": 5}},
            {"volume_near_pct": 70, "growth_window": timedelta(minutes=15)},
            now=when,
            previous={"status": ssot.WalStatus.OK},
        )
        level: ssot.WalStatus = w.status
        op: ssot.Operation = d.operation
        if d.outcome is ssot.Outcome.GATE_DENIED or plan.delete[0].state == "complete":
            pass
    """)
    assert status == 0, out


# --- typed results ----------------------------------------------------------------


def aware_utc(t: Any) -> bool:
    return isinstance(t, datetime) and t.tzinfo is not None and t.utcoffset() == timedelta(0)


def test_results_give_enums_and_aware_utc_datetimes(tmp_path: Path) -> None:
    w = ssot.evaluate_wal(WAL_FACTS, now=NOW)
    assert w.status is ssot.WalStatus.OK and w.status == "OK" and f"{w.status}" == "OK"
    assert aware_utc(w.checked_at) and w.outcome is ssot.Outcome.OK
    d = ssot.evaluate_gate("backup", GATE_FACTS, now=NOW)
    assert d.operation is ssot.Operation.BACKUP and aware_utc(d.decided_at)
    plan = ssot.plan_retention(
        [{"id": "a", "created_at": "2026-01-01T00:00:00+02:00"}, {"id": "b", "created_at": NOW}], {"keep_last": 1}, now=NOW
    )
    assert [x.action for x in plan.decisions] == [ssot.Action.KEEP, ssot.Action.DELETE]
    assert plan.delete[0].state is ssot.ArtifactState.COMPLETE
    assert plan.delete[0].created_at == datetime(2025, 12, 31, 22, tzinfo=UTC) and aware_utc(plan.delete[0].created_at)
    assert aware_utc(plan.now)
    r = ssot.build_report({}, now=NOW)
    assert isinstance(r.verdict, ssot.Verdict) and aware_utc(r.generated_at)
    assert all(isinstance(sec.status, ssot.Verdict) for sec in r.sections)
    c = ssot.evaluate_contract({}, now=NOW)
    assert c.status is ssot.ContractStatus.UNKNOWN and c.deployment is ssot.Deployment.HOST and aware_utc(c.checked_at)
    assert all(isinstance(i.status, ssot.InvariantStatus) for i in c.invariants)
    assert all(isinstance(x.status, ssot.LimitationStatus) for x in c.limitations)
    stages = ssot.Ssot(state_dir=tmp_path).check_stages(now=NOW)
    assert all(isinstance(x.claimed, ssot.Claim) for x in stages.checks)
    # Each enum is the core's spellings, and a member compares equal to its text.
    for cls in (getattr(ssot.enums, n) for n in ssot.enums.__all__):
        assert issubclass(cls, str) and issubclass(cls, enum.Enum)
        for m in cls:
            assert m == m.value and str(m) == m.value


def test_results_from_a_state_directory_are_typed(tmp_path: Path) -> None:
    import gzip

    dumps = tmp_path / "dumps"
    dumps.mkdir()
    whole = gzip.compress(b"--\n-- PostgreSQL database dump\n--\nselect 1;\n--\n-- PostgreSQL database dump complete\n--\n")
    (dumps / "a.sql.gz").write_bytes(whole)
    s = ssot.Ssot(state_dir=tmp_path / "state")
    b = s.record_backup("a.sql.gz", location=str(dumps), now=NOW)
    assert b.result is ssot.BackupResult.COMPLETE and aware_utc(b.finished_at)
    # The evidence as a record too; a list the JSON leaves out when empty is empty.
    assert isinstance(b.evidence, ssot._ssot.BackupEvidence) and b.evidence.artifact == "a.sql.gz"
    assert b.warnings == [] and b.evidence.warnings == [] and b.size_bytes == b.evidence.size_bytes
    v = s.verify(now=NOW)
    assert v.checks[0][2] is ssot.VerifyResult.OK


# --- errors -----------------------------------------------------------------------


def test_file_errors_are_oserrors_with_errno_and_filename(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(FileNotFoundError) as e1:
        ssot.Ssot(missing)
    assert isinstance(e1.value, ssot.SsotIOError) and isinstance(e1.value, ssot.SsotFileNotFoundError)
    assert e1.value.errno == errno.ENOENT and e1.value.filename == str(missing)
    assert e1.value.strerror and "No such file" in e1.value.strerror and str(missing) in str(e1.value)
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(NotADirectoryError) as e2:
        ssot.Ssot(a_file / "ssot.toml")
    assert e2.value.errno == errno.ENOTDIR and e2.value.filename == str(a_file / "ssot.toml")
    with pytest.raises(FileNotFoundError) as e3:
        ssot.Ssot(state_dir=tmp_path).plan_retention({"catalog": str(tmp_path / "catalog.json")})
    assert e3.value.errno == errno.ENOENT and e3.value.filename == str(tmp_path / "catalog.json")
    # Found by attack: a file ssot refuses (here a directory given as the
    # configuration) was no OSError and carried no filename.
    with pytest.raises(OSError) as e4:
        ssot.Ssot(tmp_path)
    assert isinstance(e4.value, ssot.UnsafeFileError)
    assert e4.value.filename == str(tmp_path) and e4.value.errno == errno.EISDIR
    # A contract input that cannot be read is a recorded FAIL naming it, not
    # an exception that would leave the last PASS standing.
    c = ssot.Ssot(state_dir=tmp_path).check_contract(statefulset=tmp_path / "sts.json", now=NOW)
    assert c.status == "FAIL" and c.invariants[0].id == "inputs.readable"
    assert str(tmp_path / "sts.json") in c.invariants[0].message


@pytest.mark.parametrize(
    "kind, base, code",
    [
        ("SsotFileNotFoundError", FileNotFoundError, errno.ENOENT),
        ("SsotPermissionError", PermissionError, errno.EACCES),
        ("SsotFileExistsError", FileExistsError, errno.EEXIST),
        ("SsotIsADirectoryError", IsADirectoryError, errno.EISDIR),
        ("SsotNotADirectoryError", NotADirectoryError, errno.ENOTDIR),
        ("SsotIOError", OSError, errno.EIO),
        ("UnreadableError", OSError, errno.EACCES),
    ],
)
def test_each_io_error_kind_is_its_oserror(kind: str, base: type, code: int) -> None:
    from ssot._ssot import _raise_core_error

    with pytest.raises(base) as e:
        _raise_core_error(kind)
    assert type(e.value).__name__ == kind and isinstance(e.value, ssot.SsotError)
    assert e.value.errno == code and e.value.filename and e.value.strerror  # type: ignore[attr-defined]
    assert "os error" not in e.value.strerror  # type: ignore[attr-defined]


def naive_calls(tmp_path: Path) -> Dict[str, Callable[[datetime], Any]]:
    s = ssot.Ssot(state_dir=tmp_path / "state")
    dumps = tmp_path / "dumps"
    return {
        "evaluate_wal(now)": lambda t: ssot.evaluate_wal(WAL_FACTS, now=t),
        "evaluate_wal(facts.history)": lambda t: ssot.evaluate_wal(
            {**WAL_FACTS, "history": [{"at": t, "wal_bytes": 1, "volume_used_bytes": 1}]}, now=NOW
        ),
        "evaluate_gate(now)": lambda t: ssot.evaluate_gate("backup", GATE_FACTS, now=t),
        "plan_retention(now)": lambda t: ssot.plan_retention([], now=t),
        "plan_retention(created_at)": lambda t: ssot.plan_retention([{"id": "a", "created_at": t}], now=NOW),
        "plan_retention(last_used_at)": lambda t: ssot.plan_retention(
            [{"id": "a", "created_at": NOW, "last_used_at": t}], now=NOW
        ),
        "evaluate_contract(now)": lambda t: ssot.evaluate_contract({}, now=t),
        "build_report(now)": lambda t: ssot.build_report({}, now=t),
        "gate(now)": lambda t: ssot.gate("backup", state_dir=tmp_path / "state", now=t),
        "Ssot.check_wal(now)": lambda t: s.check_wal(tmp_path / "pgdata", now=t),
        "Ssot.gate(now)": lambda t: s.gate("backup", now=t),
        "Ssot.hold(now)": lambda t: s.hold("backup", holder="pytest", now=t),
        "Ssot.plan_retention(now)": lambda t: s.plan_retention(dumps, now=t),
        "Ssot.plan_retention(catalog)": lambda t: s.plan_retention([{"id": "a", "created_at": t}], root=dumps),
        "Ssot.apply_retention(now)": lambda t: s.apply_retention(dumps, now=t),
        "Ssot.check_contract(now)": lambda t: s.check_contract(now=t),
        "Ssot.check_contract(parsed JSON)": lambda t: s.check_contract(
            statefulset={"metadata": {"creationTimestamp": t}}, now=NOW
        ),
        "Ssot.check_stages(now)": lambda t: s.check_stages(now=t),
        "Ssot.record_backup(started)": lambda t: s.record_backup("a.sql.gz", location=str(dumps), started=t),
        "Ssot.record_backup(finished)": lambda t: s.record_backup("a.sql.gz", location=str(dumps), finished=t),
        "Ssot.record_backup(now)": lambda t: s.record_backup("a.sql.gz", location=str(dumps), now=t),
        "Ssot.record_restore_drill(started)": lambda t: s.record_restore_drill("a.sql.gz", "pass", started=t),
        "Ssot.record_restore_drill(finished)": lambda t: s.record_restore_drill("a.sql.gz", "pass", finished=t),
        "Ssot.record_restore_drill(now)": lambda t: s.record_restore_drill("a.sql.gz", "pass", now=t),
        **{
            f"Ssot.record_dr_drill({k})": (
                lambda k: lambda t: s.record_dr_drill(
                    "drill", **{**{f: NOW for f in ("t0", "restored_at", "newest_before", "newest_after")}, k: t}
                )
            )(k)
            for k in ("t0", "restored_at", "newest_before", "newest_after")
        },
        "Ssot.record_dr_drill(now)": lambda t: s.record_dr_drill(
            "drill", t0=NOW, restored_at=NOW, newest_before=NOW, newest_after=NOW, now=t
        ),
        "Ssot.report(now)": lambda t: s.report(now=t),
        "Ssot.verify(now)": lambda t: s.verify(now=t),
        "Ssot.status(now)": lambda t: s.status(now=t),
    }


NAIVE_CALLS = sorted(naive_calls(Path("/nonexistent")))


@pytest.mark.parametrize("call", NAIVE_CALLS)
def test_a_naive_datetime_is_an_ssot_error_everywhere(tmp_path: Path, call: str) -> None:
    (tmp_path / "pgdata" / "pg_wal").mkdir(parents=True)
    (tmp_path / "dumps").mkdir()
    f = naive_calls(tmp_path)[call]
    with pytest.raises(ssot.RequestError, match="naive datetime") as e:
        f(datetime(2026, 2, 5, 12, 0))
    assert isinstance(e.value, ssot.SsotError) and isinstance(e.value, ValueError)
    # Nothing was recorded.
    state = tmp_path / "state"
    assert not state.exists() or sorted(p.name for p in state.iterdir() if p.name.endswith(".status")) == []


def test_the_package_parses_as_python_3_9() -> None:
    """The wheel says Requires-Python >=3.9 (abi3-py39): its Python files,
    stubs included, use no newer syntax (mypy itself no longer targets 3.9)."""
    files = sorted((PKG / "python" / "ssot").glob("*.py*"))
    assert {f.name for f in files} >= {"__init__.py", "_ssot.pyi", "enums.py", "errors.py", "options.py"}
    for f in files:
        ast.parse(f.read_text(encoding="utf-8"), filename=str(f), feature_version=(3, 9))


def test_a_time_beyond_the_years_python_holds_once_in_utc_is_refused(tmp_path: Path) -> None:
    """Found by attack: 9999-12-31 23:59 at UTC-23 was accepted, then the
    result could not give it back ("year 10000 is out of range")."""
    edge = datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-23)))
    s = ssot.Ssot(state_dir=tmp_path / "state")
    with pytest.raises(ssot.RequestError, match="outside the years 1-9999"):
        s.report(now=edge)
    with pytest.raises(ssot.RequestError, match="outside the years 1-9999"):
        s.report(now="9999-12-31T23:59:00-23:00")


# --- results served from the core's schema -----------------------------------------


def test_the_stub_is_generated_from_the_schema() -> None:
    """The result and record classes of `_ssot.pyi` are what the core's JSON
    Schema renders now: a field added to a core result without regenerating
    the stub (`python ssot-py/stubgen.py`) fails here."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("stubgen", PKG / "stubgen.py")
    assert spec is not None and spec.loader is not None
    stubgen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(stubgen)
    text = STUB.read_text(encoding="utf-8")
    assert stubgen.generated(text) == text, "the stub is stale: run python ssot-py/stubgen.py"


def json_fields_are_attributes(result: Any, expected: Dict[str, Any]) -> None:
    """Every field of the result's JSON is an attribute; times are aware
    datetimes, plain values equal the JSON's (numbers as float or int)."""
    for key, value in expected.items():
        assert hasattr(result, key), f"{type(result).__name__}.{key}"
        got = getattr(result, key)
        if isinstance(value, str) and isinstance(got, datetime):
            assert aware_utc(got) and got == datetime.fromisoformat(value.replace("Z", "+00:00"))
        elif isinstance(value, (int, float, bool)) or value is None:
            assert got == value, f"{type(result).__name__}.{key}: {got!r} != {value!r}"
        elif isinstance(value, str):
            assert got == value and isinstance(got, str), f"{type(result).__name__}.{key}"


def test_every_json_field_is_a_typed_attribute(tmp_path: Path) -> None:
    """WalReport once gave 7 of its 15 fields and Report lacked `stages` and
    `restore_drill`: now each field of each vector's JSON is an attribute."""
    from conftest import VECTORS, load

    for path in sorted((VECTORS / "wal").glob("*.json")):
        v = load(path)
        w = ssot.evaluate_wal(v["facts"], v["policy"], now=v["now"])
        json_fields_are_attributes(w, v["expected"])
        for reason, want in zip(w.reasons, v["expected"]["reasons"]):
            json_fields_are_attributes(reason, want)
            assert isinstance(reason, ssot.WalReason) and isinstance(reason.level, ssot.WalStatus)
        for volume, want in zip(w.volumes, v["expected"].get("volumes", [])):
            json_fields_are_attributes(volume, want)
    for path in sorted((VECTORS / "report").glob("*.json")):
        v = load(path)
        r = ssot.build_report(v["files"], gate_log=v.get("gate_log"), config=v["config"], now=v["now"])
        json_fields_are_attributes(r, v["expected"])
        assert r.restore_drill == v["expected"]["restore_drill"]
        assert [s.id for s in r.stages] == [s["id"] for s in v["expected"]["stages"]]
        assert all(isinstance(s, ssot.StageCheck) and isinstance(s.claimed, ssot.Claim) for s in r.stages)
        for section, want in zip(r.sections, v["expected"]["sections"]):
            json_fields_are_attributes(section, want)
    for path in sorted((VECTORS / "gate").glob("*.json")):
        v = load(path)
        d = ssot.evaluate_gate(v["operation"], v["facts"], v["policy"], now=v["now"])
        json_fields_are_attributes(d, v["expected"])
        assert [c.rule for c in d.reasons] == [c["rule"] for c in v["expected"]["reasons"]]
    for path in sorted((VECTORS / "contract").glob("*.json")):
        v = load(path)
        c = ssot.evaluate_contract(
            v["inputs"], v["config"], now=v["now"],
            backup_location=v.get("backup_location"), backup_target=v.get("backup_target"),
        )
        json_fields_are_attributes(c, v["expected"])
    # A float field is a float even when the JSON writes it whole (80, not 80.0).
    w = ssot.evaluate_wal(WAL_FACTS, now=NOW)
    assert isinstance(w.threshold_pct, float) and isinstance(w.wal_used_pct, float)
    assert isinstance(w.soft_limit_bytes, int) and isinstance(w.samples_in_window, int)


def test_any_mapping_or_sequence_reads_as_a_dict_or_a_list() -> None:
    """The stubs take `Mapping[str, Any]` and `Sequence[...]`, and so did
    the wheel before its own input reader: a `MappingProxyType`, a `deque`
    or a custom `Sequence` gives what the dict or list gives (found by
    attack: each was refused with "cannot pass a mappingproxy to ssot")."""
    import collections
    import collections.abc
    import types

    class Seq(collections.abc.Sequence):  # type: ignore[type-arg]
        def __init__(self, items: List[Any]) -> None:
            self.items = items

        def __getitem__(self, i: Any) -> Any:
            return self.items[i]

        def __len__(self) -> int:
            return len(self.items)

    arts = [
        {"id": "a", "created_at": "2026-01-03T10:00:00Z", "size_bytes": 5},
        {"id": "b", "created_at": "2026-01-02T10:00:00Z", "tags": ["x"]},
    ]
    want = ssot.plan_retention(arts, {"keep_last": 1}, now=NOW).to_dict()
    for given in (
        Seq(arts),
        collections.deque(arts),
        [types.MappingProxyType(a) for a in arts],
        [{**a, "tags": collections.deque(a.get("tags", []))} for a in arts],
    ):
        plan = ssot.plan_retention(given, types.MappingProxyType({"keep_last": 1}), now=NOW)
        assert plan.to_dict() == want, given
    # An integer that is no int (numpy's int64 has `__index__`) is its int.
    class Int64:
        def __index__(self) -> int:
            return 5

    sized = ssot.plan_retention([{**arts[0], "size_bytes": Int64()}], now=NOW)
    assert sized.decisions[0].size_bytes == 5
    w = ssot.evaluate_wal(types.MappingProxyType(WAL_FACTS), now=NOW)
    assert w.to_dict() == ssot.evaluate_wal(WAL_FACTS, now=NOW).to_dict()
    # Bytes are still no list, and a mapping's keys are still strings.
    with pytest.raises(TypeError, match="bytes"):
        ssot.plan_retention([{**arts[0], "id": b"a"}], now=NOW)
    with pytest.raises(TypeError, match="keys must be strings"):
        ssot.evaluate_wal(types.MappingProxyType({1: 2}), now=NOW)


def test_an_input_that_changes_while_it_is_read_is_no_panic() -> None:
    """Found by attack: a list subclass whose `__iter__`, or an object whose
    `to_dict()`, grew the dict being read made pyo3 panic ("dictionary
    changed size during iteration"): a `PanicException`, which is no
    `Exception` and escapes `except ssot.SsotError`."""
    facts: Dict[str, Any] = {}

    class Growing(list):  # type: ignore[type-arg]
        def __iter__(self) -> Any:
            facts["added_%d" % len(facts)] = 1
            return super().__iter__()

    # The list comes first: the dict's other keys are read after it.
    facts["slots"] = Growing([])
    facts.update(WAL_FACTS)
    assert ssot.evaluate_wal(facts, now=NOW).status == ssot.WalStatus.OK

    grown: Dict[str, Any] = {"id": "a", "created_at": "2026-01-03T10:00:00Z"}

    class Grows:
        def to_dict(self) -> Any:
            grown["added_%d" % len(grown)] = 1
            return ["x"]

    grown["tags"] = Grows()
    grown["size_bytes"] = 5
    plan = ssot.plan_retention([grown], {"keep_last": 1}, now=NOW)
    assert [d.id for d in plan.decisions] == ["a"] and plan.decisions[0].size_bytes == 5

    inputs: Dict[str, Any] = {}

    class GrowsInputs:
        def to_dict(self) -> Any:
            inputs["added_%d" % len(inputs)] = "x"
            return {"text": "", "origin": "grown"}

    inputs["postgresql_conf"] = GrowsInputs()
    inputs["pgdata"] = "/nonexistent"
    assert isinstance(ssot.evaluate_contract(inputs, now=NOW), ssot.ContractReport)


def test_a_pure_evaluators_policy_is_checked_as_the_configurations_is() -> None:
    """Found by attack: `evaluate_wal` took thresholds `ssot.toml` refuses
    (NaN, 1000%) and judged a volume with 1MiB left OK; `evaluate_gate` took
    a NaN disk floor. Each is now the `PolicyKeyError` the configuration
    gives, naming the key."""
    full = {"wal_bytes": 1 << 30, "segment_count": 64,
            "volume": {"total_bytes": 100 << 30, "available_bytes": 1 << 20}}
    assert ssot.evaluate_wal(full, now=NOW).status == ssot.WalStatus.ERROR
    for policy, key in (
        ({"volume_near_pct": float("nan"), "volume_error_pct": float("nan")}, "wal.volume_near_pct"),
        ({"volume_near_pct": 1000, "volume_error_pct": 1000}, "wal.volume_near_pct"),
        ({"min_free_fraction": float("nan")}, "wal.min_free_fraction"),
        ({"hard_limit_factor": -1}, "wal.hard_limit_factor"),
    ):
        with pytest.raises(ssot.PolicyKeyError) as e:
            ssot.evaluate_wal(full, policy, now=NOW)
        assert e.value.key == key, (policy, e.value)
    with pytest.raises(ssot.PolicyKeyError) as g:
        ssot.evaluate_gate("backup", GATE_FACTS, {"disk": {"min_free_pct": float("nan")}}, now=NOW)
    assert g.value.key == "disk.min_free_pct"


def test_results_and_records_are_immutable() -> None:
    w = ssot.evaluate_wal(WAL_FACTS, now=NOW)
    d = ssot.evaluate_gate("backup", GATE_FACTS, now=NOW)
    for obj, attr in ((w, "wal_size"), (w, "status"), (d.reasons[0], "rule"), (d.reasons[0], "invented")):
        with pytest.raises(AttributeError):
            setattr(obj, attr, 1)
    assert repr(d.reasons[0]).startswith('<Check rule="')


def test_a_plans_records_read_the_plan_itself_and_outlive_it() -> None:
    """A plan's decisions are records over the plan's own items (one field
    serialized per read): each reads what the plan's JSON says, in every
    time shape (whole seconds, a fraction, an offset), and stays readable
    after the plan object is gone."""
    arts = [
        {"id": "whole", "created_at": "2026-01-03T10:00:00Z", "size_bytes": 5},
        {"id": "fraction", "created_at": "2026-01-02T10:00:00.250Z"},
        {"id": "offset", "created_at": "2026-01-01T10:00:00+02:00", "verified": True},
    ]
    plan = ssot.plan_retention(arts, {"keep_last": 1}, now="2026-01-05T00:00:00Z")
    want = {d["id"]: d for d in plan.to_dict()["keep"] + plan.to_dict()["delete"]}
    given = {a["id"]: datetime.fromisoformat(str(a["created_at"]).replace("Z", "+00:00")) for a in arts}
    decisions = plan.decisions
    del plan
    gc.collect()
    assert [d.id for d in decisions] == ["whole", "fraction", "offset"]
    for d in decisions:
        w = want[d.id]
        assert d.created_at == given[d.id]
        assert d.created_at.tzinfo is timezone.utc
        assert d.size_bytes == w.get("size_bytes")
        assert [str(r) for r in d.reasons] == w["reasons"]
        assert d.action in (ssot.enums.Action.KEEP, ssot.enums.Action.DELETE)


def test_a_record_class_is_final_and_documents_each_attribute() -> None:
    cls = ssot.ArtifactDecision
    assert cls.id.__doc__ == "The artifact id."
    assert isinstance(ssot.plan_retention([], {}, now=NOW).decisions, list)
    with pytest.raises(TypeError):
        type("Sub", (cls,), {})


def test_a_records_repr_leads_with_what_names_it() -> None:
    """A record's repr shows its id (an artifact), rule (a check) or name
    first: the generic repr once showed a decision's action, created_at and
    group, but not which artifact it was."""
    arts = [{"id": f"a{i}", "created_at": f"2026-01-0{i + 1}T00:00:00Z"} for i in range(3)]
    plan = ssot.plan_retention(arts, {"keep_last": 1}, now="2026-01-05T00:00:00Z")
    for d in plan.decisions:
        assert repr(d).startswith(f'<ArtifactDecision id="{d.id}" action="{d.action.value}"'), repr(d)


def test_every_enum_of_the_schema_is_an_enum_of_ssot_enums() -> None:
    """A string enum of a result's schema whose name is a class of
    ssot.enums has exactly its values (so an attribute typed with it holds a
    member, never a ValueError)."""
    renames = {"Level": "WalStatus", "ContractVerdict": "ContractStatus"}
    seen = set()
    for schema in ssot._ssot._result_schemas().values():
        for name, d in schema.get("$defs", {}).items():
            values = d.get("enum") or [x.get("const") for x in d.get("oneOf", [])]
            cls = getattr(ssot.enums, renames.get(name, name), None)
            if values and all(isinstance(x, str) for x in values) and cls is not None:
                assert sorted(values) == sorted(m.value for m in cls), name
                seen.add(cls.__name__)
    assert {"WalStatus", "Operation", "Verdict", "ContractStatus", "InvariantStatus", "Action", "ArtifactState"} <= seen
