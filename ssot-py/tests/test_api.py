"""The Python surface itself: argument shapes, times and durations, results,
exceptions, the CLI equivalence, the GIL."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import os
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, List

import pytest

import ssot
import ssot.errors
from conftest import NOW, run_cli

UTC = timezone.utc


def nightly(n: int) -> List[Dict[str, Any]]:
    return [
        {"id": f"dump_{d:02}.sql.gz", "created_at": f"2026-01-{d:02}T03:00:00Z", "size_bytes": 1000}
        for d in range(1, n + 1)
    ]


# --- inputs ------------------------------------------------------------------


def test_dicts_and_typed_values_mean_the_same() -> None:
    as_json = ssot.plan_retention(
        nightly(5), {"keep_last": 2, "keep_within": "2d", "max_age": "7d"}, now="2026-01-06T00:00:00Z"
    )
    typed = [
        {**a, "created_at": datetime(2026, 1, d, 3, tzinfo=UTC)} for d, a in enumerate(nightly(5), start=1)
    ]
    as_python = ssot.plan_retention(
        typed,
        {"keep_last": 2, "keep_within": timedelta(days=2), "max_age": timedelta(days=7)},
        now=datetime(2026, 1, 6, tzinfo=UTC),
    )
    assert as_python.to_dict() == as_json.to_dict()
    # A result passed back in is its dict.
    # (The volume's near-limit rule holds within its hysteresis band; the
    # soft limit on pg_wal releases at the limit.)
    r1 = ssot.evaluate_wal({"wal_bytes": 1 << 30, "segment_count": 64,
                            "volume": {"total_bytes": 100 << 30, "available_bytes": 18 << 30}}, now=NOW)
    facts = {"wal_bytes": 1 << 30, "segment_count": 64,
             "volume": {"total_bytes": 100 << 30, "available_bytes": 22 << 30}}
    held_typed = ssot.evaluate_wal(facts, now=NOW, previous=r1)
    held_dict = ssot.evaluate_wal(facts, now=NOW, previous={"status": r1.status, "active_rules": [x.rule for x in r1.reasons]})
    assert held_typed.to_dict() == held_dict.to_dict()
    assert held_typed.status == "NEAR_LIMIT" and any(x.held for x in held_typed.reasons)


def test_times_must_be_aware() -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        ssot.plan_retention(nightly(1), {}, now=datetime(2026, 1, 6))
    with pytest.raises(ValueError, match="naive datetime"):
        ssot.plan_retention([{"id": "a", "created_at": datetime(2026, 1, 1)}], {}, now=NOW)
    # Any offset is fine; it is the same instant.
    plus2 = timezone(timedelta(hours=2))
    a = ssot.plan_retention(nightly(3), {"keep_last": 1}, now=datetime(2026, 1, 6, 2, tzinfo=plus2))
    b = ssot.plan_retention(nightly(3), {"keep_last": 1}, now="2026-01-06T00:00:00Z")
    assert a.to_dict() == b.to_dict()
    assert a.now == datetime(2026, 1, 6, tzinfo=UTC)


def test_durations_as_timedelta() -> None:
    base = {"keep_within_daily": "36h"}
    a = ssot.plan_retention(nightly(5), base, now="2026-01-06T00:00:00Z")
    b = ssot.plan_retention(nightly(5), {"keep_within_daily": timedelta(hours=36)}, now="2026-01-06T00:00:00Z")
    assert a.to_dict() == b.to_dict()
    with pytest.raises(ValueError, match="fraction of a second"):
        ssot.plan_retention(nightly(1), {"max_age": timedelta(seconds=1.5)}, now=NOW)
    with pytest.raises(ValueError, match="negative"):
        ssot.plan_retention(nightly(1), {"max_age": timedelta(days=-1)}, now=NOW)


def test_paths_as_pathlike(tmp_path: Path) -> None:
    s1 = ssot.Ssot(state_dir=tmp_path / "a")
    s2 = ssot.Ssot(state_dir=str(tmp_path / "a"))
    assert s1.state_dir == s2.state_dir == tmp_path / "a"
    with pytest.raises(TypeError, match="os.PathLike"):
        ssot.Ssot(state_dir=42)  # type: ignore[arg-type]


def test_config_from_path_toml_or_dict(tmp_path: Path) -> None:
    f = tmp_path / "ssot.toml"
    f.write_text('[wal]\nvolume_near_pct = 75\n')
    for config in (f, str(f), "[wal]\nvolume_near_pct = 75\n", {"wal": {"volume_near_pct": 75}}):
        c = ssot.Ssot(config, state_dir=tmp_path / "s").config()
        assert c.to_dict()["wal"]["volume_near_pct"] == 75, config
    assert ssot.Ssot(f, state_dir=tmp_path).config().origin == f"built-in defaults + {f}"
    assert "volume_near_pct = 75" in str(ssot.Ssot(f, state_dir=tmp_path).config())


# --- results -----------------------------------------------------------------


def test_results_are_immutable() -> None:
    plan = ssot.plan_retention(nightly(3), {"keep_last": 1}, now=NOW)
    with pytest.raises(AttributeError):
        plan.plan_hash = "x"  # type: ignore[misc]
    item = plan.delete[0]
    with pytest.raises(AttributeError):
        item.id = "y"  # type: ignore[misc]
    with pytest.raises(TypeError):
        ssot.RetentionPlan()  # type: ignore[call-arg]


def test_plan_attributes_and_renderings() -> None:
    plan = ssot.plan_retention(nightly(4), {"keep_last": 2}, now="2026-01-05T00:00:00Z")
    assert [d.id for d in plan.keep] == ["dump_04.sql.gz", "dump_03.sql.gz"]
    assert [d.id for d in plan.delete] == ["dump_02.sql.gz", "dump_01.sql.gz"]
    assert plan.keep[0].reasons == ["last 1/2", "last_good_copy"]
    assert plan.delete[0].action == "delete" and plan.delete[0].size_bytes == 1000
    assert plan.delete[0].created_at == datetime(2026, 1, 2, 3, tzinfo=UTC)
    assert len(plan.plan_hash) == 64 and plan.refused is None
    assert plan.summary["deleted"] == 2
    assert plan.exit_code == 0 and plan.outcome == "ok"
    assert repr(plan).startswith("<RetentionPlan default: keep 2, delete 2, hash ")
    assert str(plan).startswith("retention plan (default), as of 2026-01-05T00:00:00Z\n")
    assert json.loads(plan.to_json()) == plan.to_dict()


def test_a_refused_plan_is_a_warning() -> None:
    plan = ssot.plan_retention(nightly(4), {"keep_last": 1, "max_delete": "50%"}, now=NOW)
    assert plan.refused and "refused as a whole" in plan.refused
    assert plan.exit_code == 1 and plan.outcome == "warning"


# --- exceptions ----------------------------------------------------------------

KINDS = {
    # class name: (expected attributes, also a ValueError?)
    "StateFileSyntaxError": ({"path": "wal.status", "line": 3}, False),
    "MissingKeyError": ({"path": "wal.status", "key": "checked_at"}, False),
    "InvalidValueError": ({"path": "wal.status", "key": "wal_status", "line": 2}, False),
    "UnreadableError": (
        {"path": "wal.status", "filename": "wal.status", "errno": 13, "strerror": "Permission denied"},
        False,
    ),
    "NotOverwrittenError": ({"path": "backup.status"}, False),
    "UnsafeFileError": ({"path": "wal.status", "problem": "is a symbolic link"}, False),
    "UnitError": ({"what": "size", "value": "4gb"}, True),
    "InvalidNameError": ({"what": "operation", "value": "bakup"}, True),
    "ConfigError": ({"origin": "ssot.toml", "key": "wal.volume_near_pct"}, True),
    "PolicyKeyError": ({"key": "retention.backups.pattern"}, True),
    "InputFileError": ({"origin": "catalog.json", "line": 4, "column": 7}, True),
    "RequestError": ({}, True),
    "ClockRefusedError": (
        {
            "operation": "gate backup",
            "given": datetime(2026, 2, 5, 12, tzinfo=UTC),
            "real": datetime(2026, 2, 5, 17, tzinfo=UTC),
            "max_skew": timedelta(minutes=1),
        },
        True,
    ),
    "NotGivenError": ({"field": "location"}, True),
    "ArtifactError": ({"id": "../x"}, True),
    "ParentCycleError": ({"id": "a"}, True),
    "UnknownProfileError": ({"name": "nightly", "known": ["backups", "snapshots"]}, True),
    "EvidenceRefused": ({"exit_code": 2}, False),
    "SsotIOError": ({"op": "write", "path": "/opt/ssot/state", "filename": "/opt/ssot/state", "errno": 5}, False),
    "SsotFileNotFoundError": ({"op": "read", "path": "/etc/ssot.toml", "filename": "/etc/ssot.toml", "errno": 2}, False),
    "SsotPermissionError": ({"op": "write", "filename": "/opt/ssot/state/wal.status", "errno": 13}, False),
    "SsotFileExistsError": ({"op": "create", "filename": "/opt/ssot/state/x", "errno": 17}, False),
    "SsotIsADirectoryError": ({"op": "read", "filename": "/opt/ssot/state", "errno": 21}, False),
    "SsotNotADirectoryError": ({"op": "scan", "filename": "/etc/passwd/x", "errno": 20}, False),
    "LockedError": ({"path": "/opt/ssot/state/operation.lock", "holder": "backup by pid 42"}, False),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_core_error_kind_maps_to_its_class_with_its_details(kind: str) -> None:
    from ssot._ssot import _raise_core_error

    attrs, value_error = KINDS[kind]
    with pytest.raises(ssot.SsotError) as e:
        _raise_core_error(kind)
    assert type(e.value).__name__ == kind
    assert isinstance(e.value, ValueError) == value_error
    for k, v in attrs.items():
        assert getattr(e.value, k) == v, k
    assert str(e.value) and e.value.message == str(e.value)
    assert e.value.exit_code == (2 if kind == "EvidenceRefused" else 3)


def test_every_exception_class_is_sampled() -> None:
    classes = {n for n in ssot.errors.__all__ if n not in ("SsotError", "StateFileError", "GateDenied")}
    assert classes == set(KINDS)


def test_errors_from_real_calls(tmp_path: Path) -> None:
    s = ssot.Ssot(state_dir=tmp_path / "state")
    with pytest.raises(ssot.InvalidNameError) as e1:
        s.gate("bakup")  # type: ignore[arg-type]
    assert e1.value.value == "bakup"
    with pytest.raises(ssot.UnitError):
        s.gate("backup", estimate="4gb")
    with pytest.raises(ssot.ConfigError) as e2:
        ssot.Ssot({"wal": {"volume_near_pcnt": 70}}, state_dir=tmp_path)
    assert "volume_near_pcnt" in str(e2.value)
    catalog = tmp_path / "catalog.json"
    catalog.write_text('[\n  {"id": "a",\n   "created_at": 7}\n]\n')
    with pytest.raises(ssot.InputFileError) as e3:
        s.plan_retention({"catalog": str(catalog)})
    assert e3.value.origin == str(catalog) and e3.value.line == 3
    with pytest.raises(ssot.ParentCycleError) as e4:
        ssot.plan_retention(
            [{"id": "a", "created_at": NOW, "parent": "b"}, {"id": "b", "created_at": NOW, "parent": "a"}],
            {"keep_last": 1},
            now=NOW,
        )
    assert e4.value.id in ("a", "b")
    with pytest.raises(ssot.UnknownProfileError) as e5:
        s.plan_retention(profile="nightly")
    assert e5.value.known == ["backups", "snapshots"]
    with pytest.raises(ssot.SsotIOError) as e6:
        ssot.Ssot(tmp_path / "nope.toml")
    assert isinstance(e6.value, FileNotFoundError) and e6.value.path == str(tmp_path / "nope.toml")
    assert e6.value.errno == 2 and e6.value.filename == str(tmp_path / "nope.toml")
    with pytest.raises(ssot.RequestError, match="keep_dayly"):
        s.plan_retention(str(tmp_path), {"keep_dayly": 3})
    with pytest.raises(ssot.NotGivenError) as e7:
        ssot.Ssot({"gate": {"targets": {"backup": ""}}}, state_dir=tmp_path).record_backup("d.sql.gz")
    assert e7.value.field == "location"
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    with pytest.raises(ssot.EvidenceRefused) as e8:
        s.record_backup("missing.sql.gz", location=str(dumps))
    assert e8.value.exit_code == 2


def test_raise_if_denied(tmp_path: Path) -> None:
    d = ssot.gate("backup", state_dir=tmp_path)
    assert not d and d.exit_code == 1
    with pytest.raises(ssot.GateDenied) as e:
        d.raise_if_denied()
    assert e.value.decision.to_dict() == d.to_dict()
    assert "wal_status_missing" in str(e.value)


# --- the same as the CLI ----------------------------------------------------------


def test_a_plan_from_python_is_the_clis_json(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(nightly(20)))
    state = tmp_path / "state"
    cli = run_cli("--state", str(state), "--now", "2026-01-21T00:00:00Z", "retention", "plan",
                  "--catalog", str(catalog), "--keep-daily", "7", "--keep-weekly", "2",
                  "--max-delete", "80%", "--format", "json")
    assert cli.returncode == 0, cli.stderr
    s = ssot.Ssot(state_dir=state)
    plan = s.plan_retention({"catalog": str(catalog)}, {"keep_daily": 7, "keep_weekly": 2, "max_delete": "80%"},
                            now="2026-01-21T00:00:00Z")
    assert plan.to_dict() == json.loads(cli.stdout)
    same = s.plan_retention(nightly(20), {"keep_daily": 7, "keep_weekly": 2, "max_delete": "80%"},
                            now="2026-01-21T00:00:00Z")
    assert same.to_dict() == plan.to_dict()
    text = run_cli("--state", str(state), "--now", "2026-01-21T00:00:00Z", "retention", "plan",
                   "--catalog", str(catalog), "--keep-daily", "7", "--keep-weekly", "2", "--max-delete", "80%")
    # The CLI adds one line of its own: how to apply with its flags.
    assert text.stdout.startswith(str(plan)) and "--plan-hash" in text.stdout[len(str(plan)):]


def test_a_gate_from_python_is_the_clis_text_and_code(tmp_path: Path) -> None:
    state = tmp_path / "state"
    cli = run_cli("--state", str(state), "gate", "snapshot", "--target", str(tmp_path))
    d = ssot.Ssot(state_dir=state).gate("snapshot", target=tmp_path)
    # The same text, but the free space of the machine's real temp volume
    # moves between the two runs (other processes write to it): numbers are
    # compared by shape, the rules and their order exactly.
    def shape(text: str) -> str:
        return re.sub(r"\d+(\.\d+)?", "N", text)

    assert shape(str(d)) == shape(cli.stdout)
    assert [c.rule for c in d.reasons] == re.findall(r"^  (?:ok  |DENY) (\S+):", cli.stdout, re.M)
    assert d.exit_code == cli.returncode == 1


# --- a day on a real state directory --------------------------------------------------


# The sandbox's pg_wal lives on the machine's real temp volume, whose fill
# level is the machine's: volume rules must not decide these tests (the WAL
# rules are tested through the vectors).
ANY_VOLUME = {"volume_near_pct": 100, "volume_error_pct": 100, "min_free_bytes": 0}


def sandbox(tmp_path: Path, segments: int) -> Path:
    pg_wal = tmp_path / "pgdata" / "pg_wal"
    (pg_wal / "archive_status").mkdir(parents=True, exist_ok=True)
    for old in pg_wal.glob("0*"):
        old.unlink()
    for i in range(1, segments + 1):
        with open(pg_wal / f"00000001{i:016X}", "wb") as f:
            f.truncate(16 << 20)
    return tmp_path / "pgdata"


def test_a_day_through_ssot(tmp_path: Path) -> None:
    pgdata = sandbox(tmp_path, 6)
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    cfg = {"state_dir": str(tmp_path / "state"), "postgres": {"pgdata": str(pgdata)},
           "gate": {"targets": {"backup": str(dumps)}}, "wal": ANY_VOLUME}
    s = ssot.Ssot(cfg)
    # The gate decides at the real time, so WAL is measured at it too.
    w = s.check_wal()
    assert w.status == "OK" and w.exit_code == 0 and not w.measurement_failed
    assert w.pg_wal == pgdata / "pg_wal"
    assert (tmp_path / "state" / "wal.status").read_text().startswith("wal_status=OK")
    d = s.gate("backup")
    # Same filesystem as PGDATA: denied, with the reason.
    assert [c.rule for c in d.denials] == ["separate_filesystem"]
    dump = gzip.compress(
        b"--\n-- PostgreSQL database dump\n--\nselect 1;\n--\n-- PostgreSQL database dump complete\n--\n"
    )
    (dumps / "d.sql.gz").write_bytes(dump)
    b = s.record_backup("d.sql.gz", by="pytest", now=NOW)
    assert b.size_bytes == len(dump) and b.separate_from_pgdata is False
    r = s.record_restore_drill("d.sql.gz", "pass", mark_verified=dumps, now=NOW)
    assert r.marked_verified == dumps / "d.sql.gz.verified" and r.marked_verified.exists()
    dr = s.record_dr_drill("loss of the primary", t0="2026-02-05T11:00:00Z", restored_at="2026-02-05T11:10:00Z",
                           newest_before="2026-02-05T10:59:00Z", newest_after="2026-02-05T10:58:00Z", now=NOW)
    assert dr.passed and dr.rto_seconds == 600 and dr.rpo_seconds == 60
    plan = s.plan_retention(dumps, {"keep_last": 1}, now=NOW)
    assert [x.id for x in plan.keep] == ["d.sql.gz"]
    out = s.apply_retention(dumps, {"keep_last": 1}, now=NOW)
    assert out.dry_run and out.exit_code == 0
    with pytest.raises(ValueError, match="not both"):
        s.apply_retention(dumps, plan_hash=plan.plan_hash, confirm=True)
    rep = s.report(now=NOW)
    assert rep.verdict in ("DEGRADED", "DOWN")
    assert {x.name for x in rep.sections} >= {"wal", "backup", "restore_drill", "dr_drill"}
    assert "ssot_wal_status" in rep.to_prometheus()
    assert s.render_report(rep, "configmap").startswith("apiVersion: v1")
    st = s.status(now=NOW)
    assert st.files["wal.status"]["state"] == "present"
    # No stage registry by default (the seed's is examples/config/seed.toml).
    assert len(s.check_stages(now=NOW)) == 0
    assert rep.headline.startswith(rep.verdict + ": ") and " — do: " in rep.headline
    assert all(x.action for x in rep.sections if x.name in ("wal", "backup") and x.status != "OK")
    c = s.check_contract(statefulset=Path(__file__).parents[2] / "tests/fixtures/contract/sts-clean.json", now=NOW)
    assert c.status == "UNKNOWN" and "sts.max_wal_size" not in c.failed


def test_evidence_proves_what_it_records(tmp_path: Path) -> None:
    # Issue "Retention and evidence that cannot lose or fake a backup", points 9-12.
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    s = ssot.Ssot(state_dir=tmp_path / "state")
    (dumps / "empty.sql.gz").write_bytes(b"")
    with pytest.raises(ssot.EvidenceRefused, match="is empty"):
        s.record_backup("empty.sql.gz", location=str(dumps), now=NOW)
    whole = gzip.compress(
        b"--\n-- PostgreSQL database dump\n--\nselect 1;\n--\n-- PostgreSQL database dump complete\n--\n"
    )
    (dumps / "a.sql.gz").write_bytes(whole)
    (dumps / "cut.sql.gz").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ssot.EvidenceRefused, match="truncated or corrupt"):
        s.record_backup("cut.sql.gz", location=str(dumps), now=NOW)
    with pytest.raises(ssot.EvidenceRefused, match="a snapshot is not a backup"):
        s.record_backup("a.sql.gz", location=str(dumps), kind="VolumeSnapshot", now=NOW)
    b = s.record_backup("a.sql.gz", location=str(dumps), now=NOW)
    assert b.sha256 == hashlib.sha256(whole).hexdigest()
    with pytest.raises(ssot.EvidenceRefused, match="not a complete backup ssot recorded"):
        s.record_restore_drill("nope.sql.gz", "pass", now=NOW)
    # A failed drill with a tool's raw stderr is recorded as failed.
    r = s.record_restore_drill("a.sql.gz", "fail", notes="psql: error\nrelation missing\n", now=NOW)
    assert not r.passed
    assert "last_result=fail" in (tmp_path / "state" / "restore_drill.status").read_text()
    v = s.verify(now=NOW)
    assert v.failed == 0 and v.exit_code == 0 and [c[2] for c in v.checks] == ["ok"]
    (dumps / "a.sql.gz").write_bytes(whole + b"changed")
    v = s.verify(now=NOW)
    assert v.failed == 1 and v.exit_code == 1
    assert v.checks[0][0] == "a.sql.gz" and "changed since it was recorded" in (v.checks[0][3] or "")
    with pytest.raises(ssot.EvidenceRefused, match="changed since it was recorded"):
        s.record_restore_drill("a.sql.gz", "pass", mark_verified=dumps, now=NOW)
    assert not (dumps / "a.sql.gz.verified").exists()


def test_retention_keeps_the_last_good_copy_and_refuses_foreign_ids(tmp_path: Path) -> None:
    # Issue "Retention and evidence that cannot lose or fake a backup", points 3, 4 and 6.
    root = tmp_path / "root"
    root.mkdir()
    for age, name in enumerate(("b", "a")):
        (root / name).write_text("x")
        os.utime(root / name, (1_600_000_000 - age, 1_600_000_000 - age))
    (root / ".ssot-retention.journal").write_text("")
    precious = tmp_path / "precious"
    precious.write_text("precious")
    (root / "link").symlink_to(precious)
    s = ssot.Ssot(state_dir=tmp_path / "state")
    # --max-age over copies that stopped long ago: the newest stays.
    out = s.apply_retention(root, {"max_age": "7d"}, confirm=True)
    assert out.applied and out.deleted == ["a"]
    kept = {d.id: d.reasons for d in out.plan.keep}
    assert kept["b"] == ["last_good_copy"]
    old = [{"id": i, "created_at": "2020-01-01T00:00:00Z"} for i in ("b", "link")]
    fresh = {"id": "fresh", "created_at": datetime.now(UTC).isoformat()}
    (root / "fresh").write_text("x")
    out = s.apply_retention(old + [fresh], {"max_age": "7d"}, root=root, confirm=True)
    assert out.applied and out.deleted == ["b"], out.plan.warnings
    assert {d.id: d.reasons for d in out.plan.keep}["link"] == ["symlink: not followed"]
    assert precious.read_text() == "precious"
    foreign = [{"id": ".ssot-retention.journal", "created_at": "2020-01-01T00:00:00Z"}, fresh]
    out = s.apply_retention(foreign, {"max_age": "7d"}, root=root, confirm=True)
    assert out.exit_code == 1 and not out.applied
    assert out.refused is not None and ".ssot-retention.journal" in out.refused
    assert (root / ".ssot-retention.journal").exists()


def test_contract_inputs_as_parsed_json(tmp_path: Path) -> None:
    sts_path = Path(__file__).parents[2] / "tests/fixtures/contract/sts-clean.json"
    s = ssot.Ssot(state_dir=tmp_path)
    by_path = s.check_contract(statefulset=sts_path, now=NOW)
    by_dict = s.check_contract(statefulset=json.loads(sts_path.read_text()), now=NOW)
    by_text = s.check_contract(statefulset={"text": sts_path.read_text(), "origin": "kubectl"}, now=NOW)
    strip = lambda r: [(i.id, i.status) for i in r.invariants]  # noqa: E731
    assert strip(by_path) == strip(by_dict) == strip(by_text)


# --- the GIL ------------------------------------------------------------------------


def test_the_gil_is_released_while_planning() -> None:
    artifacts = [
        {"id": f"a{i:06}", "created_at": (datetime(2020, 1, 1, tzinfo=UTC) + timedelta(minutes=i)).isoformat()}
        for i in range(100_000)
    ]
    policy = {"keep_daily": 30, "keep_weekly": 8}
    expected = ssot.plan_retention(artifacts, policy, now=NOW).plan_hash
    # While one thread is inside plan_retention, Python code must keep running
    # in another: a counter that only advances if the GIL is free.
    ticks = 0
    stop = False

    def spin() -> None:
        nonlocal ticks
        while not stop:
            ticks += 1

    results: List[str] = []

    def plan() -> None:
        results.append(ssot.plan_retention(artifacts, policy, now=NOW).plan_hash)

    spinner = threading.Thread(target=spin)
    spinner.start()
    try:
        planners = [threading.Thread(target=plan) for _ in range(2)]
        before = ticks
        for t in planners:
            t.start()
        for t in planners:
            t.join()
        during = ticks - before
    finally:
        stop = True
        spinner.join()
    assert results == [expected, expected]
    assert during > 1000, f"only {during} ticks while planning: the GIL was held"


def test_hold_keeps_the_operation_lock_until_released(tmp_path: Path) -> None:
    pgdata = sandbox(tmp_path, 6)
    s = ssot.Ssot({"state_dir": str(tmp_path / "state"), "postgres": {"pgdata": str(pgdata)}, "wal": ANY_VOLUME})
    s.check_wal()
    # No contract.status: startup needs the contract. A denied hold raises, so
    # nothing meant to run under the lock runs.
    with pytest.raises(ssot.GateDenied) as denied:
        with s.hold("startup", holder="pytest: pg_ctl start"):
            raise AssertionError("the body of a denied hold ran")
    assert [c.rule for c in denied.value.decision.denials] == ["contract_status_missing"]
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    (tmp_path / "state" / "contract.status").write_text(f"contract_status=PASS\nchecked_at={now}\n")
    with s.hold("startup", holder="pytest: pg_ctl start") as h:
        assert h.decision.allowed and h.held
        other = s.gate("startup")
        assert [c.rule for c in other.denials] == ["operation_lock"]
        assert "pytest: pg_ctl start" in other.denials[0].message
    assert not h.held
    assert s.gate("startup").allowed


def test_write_output_is_atomic_and_complete(tmp_path: Path) -> None:
    s = ssot.Ssot(state_dir=tmp_path / "state")
    out = tmp_path / "ssot.prom"
    text = s.report(now=NOW).to_prometheus()
    s.write_output(out, text)
    assert out.read_text() == text
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_live_probe_of_a_dead_server_is_an_error_with_its_reason(tmp_path: Path) -> None:
    pgdata = sandbox(tmp_path, 3)
    s = ssot.Ssot({"state_dir": str(tmp_path / "state"), "postgres": {"pgdata": str(pgdata)}, "wal": ANY_VOLUME})
    dsn = f"host={tmp_path}/no-server user=postgres password=s3cret dbname=postgres"
    w = s.check_wal(dsn=dsn, now=NOW)
    assert w.status == "ERROR" and w.exit_code == 2
    assert [r.rule for r in w.reasons] == ["postgres_unreachable"]
    # The server is named by host, port, dbname and user only: never a password.
    assert "dbname=postgres user=postgres" in w.reasons[0].message
    assert "password" not in w.reasons[0].message and "s3cret" not in w.to_json()
    c = s.check_contract(dsn=dsn, now=NOW)
    assert any(i.id == "runtime.reachable" and i.status == "unknown" for i in c.invariants)
    r = s.report(dsn=dsn, now=NOW)
    pg = [x for x in r.sections if x.name == "postgres"][0]
    assert pg.status == "DOWN" and "s3cret" not in r.to_prometheus()


def test_todays_restic_rules_through_ssot(tmp_path: Path) -> None:
    """-1 counts, keep_tags with NAME.tags sidecars, the oldest rule and the 0.14 mode."""
    d = tmp_path / "dumps"
    d.mkdir()
    for day in range(1, 5):
        (d / f"ssot_202602{day:02}_030000.sql.gz").write_bytes(b"x")
    (d / "ssot_20260202_030000.sql.gz.tags").write_text("legal\nprod\n")
    s = ssot.Ssot(state_dir=tmp_path / "state")
    source = {"dir": str(d), "pattern": "ssot_%Y%m%d_%H%M%S.sql.gz"}
    p = s.plan_retention(source, {"keep_monthly": -1, "keep_tags": [["legal", "prod"]]}, now=NOW)
    reasons = {e.id: e.reasons for e in p.decisions}
    assert reasons["ssot_20260204_030000.sql.gz"] == ["monthly 2026-02", "last_good_copy"]
    assert reasons["ssot_20260202_030000.sql.gz"] == ["has tags legal,prod"]
    assert reasons["ssot_20260201_030000.sql.gz"] == ["oldest monthly 2026-02"]
    assert [e.id for e in p.delete] == ["ssot_20260203_030000.sql.gz"]
    old = s.plan_retention(source, {"keep_monthly": 3, "restic_compat": "0.14"}, now=NOW)
    assert [e.id for e in old.keep] == ["ssot_20260204_030000.sql.gz"]
    with pytest.raises(ssot.errors.UnitError, match="restic 0.14 has no unlimited counts"):
        s.plan_retention(source, {"keep_daily": -1, "restic_compat": "0.14"}, now=NOW)
    with pytest.raises(ssot.errors.SsotError, match="-2 is not in -1..=4294967295"):
        s.plan_retention(source, {"keep_daily": -2}, now=NOW)
