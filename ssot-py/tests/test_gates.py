"""Gates that hold from Python (issue "Gates that hold on every surface"):
the clock a caller chooses never authorises work, a denied hold runs no
body, a command run under a hold never outlives its lock, the environment is
read as the CLI reads it, and no input crashes the interpreter."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, Optional

import pytest

import ssot

UTC = timezone.utc


def stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def healthy(state: Path, at: Optional[datetime] = None) -> None:
    """A fresh OK wal.status and a passing contract.status: startup may run."""
    when = stamp(at or datetime.now(UTC))
    state.mkdir(parents=True, exist_ok=True)
    (state / "wal.status").write_text(f"wal_status=OK\nchecked_at={when}\n")
    (state / "contract.status").write_text(f"contract_status=PASS\nchecked_at={when}\n")


def wait_for(what: str, cond: "object") -> None:
    deadline = time.monotonic() + 60  # a hang detector, not a speed claim
    while not cond():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def lock_held(state: Path) -> bool:
    d = ssot.Ssot(state_dir=state).gate("startup")
    return [c.rule for c in d.denials] == ["operation_lock"]


# --- the clock -------------------------------------------------------------------


def test_a_chosen_clock_never_authorises_a_hold_a_gate_or_an_apply(tmp_path: Path) -> None:
    state = tmp_path / "state"
    healthy(state, datetime.now(UTC) - timedelta(hours=5))
    s = ssot.Ssot(state_dir=state)
    chosen = datetime.now(UTC) - timedelta(hours=5) + timedelta(minutes=2)
    with pytest.raises(ssot.ClockRefusedError) as e:
        s.hold("startup", holder="pytest", now=chosen)
    assert e.value.operation == "gate startup" and "real clock" in str(e.value)
    # The times as aware UTC datetimes, the tolerance as a timedelta.
    assert e.value.given is not None and e.value.real is not None
    assert e.value.given.utcoffset() == timedelta(0) and abs(e.value.given - chosen) < timedelta(seconds=1)
    assert e.value.real.utcoffset() == timedelta(0) and abs(e.value.real - datetime.now(UTC)) < timedelta(hours=1)
    assert e.value.max_skew == timedelta(minutes=1)
    assert isinstance(e.value, ssot.SsotError)
    with pytest.raises(ssot.ClockRefusedError):
        s.gate("startup", now=chosen)
    with pytest.raises(ssot.ClockRefusedError):
        s.gate("startup", now="2100-01-01T00:00:00Z")
    # At the real time the state is stale: denied, and the hold raises.
    with pytest.raises(ssot.GateDenied) as d:
        s.hold("startup", holder="pytest")
    assert "wal_status_stale" in [c.rule for c in d.value.decision.denials]
    # An apply that deletes: the real clock; a dry run keeps `now`.
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    for day in range(1, 4):
        (dumps / f"ssot_2026010{day}_030000.sql.gz").write_text("x")
    policy = {"keep_last": 1}
    dry = s.apply_retention(dumps, policy, pattern="ssot_%Y%m%d_%H%M%S.sql.gz", now="2030-01-01T00:00:00Z")
    assert dry.dry_run
    with pytest.raises(ssot.ClockRefusedError):
        s.apply_retention(dumps, policy, pattern="ssot_%Y%m%d_%H%M%S.sql.gz", confirm=True,
                          now="2030-01-01T00:00:00Z")
    assert len(list(dumps.iterdir())) == 3


def test_a_time_within_the_skew_is_accepted_and_the_decision_has_the_real_time(tmp_path: Path) -> None:
    state = tmp_path / "state"
    healthy(state)
    before = datetime.now(UTC)
    d = ssot.Ssot(state_dir=state).gate("startup", now=datetime.now(UTC) - timedelta(seconds=30))
    assert d.allowed
    assert before - timedelta(seconds=1) <= d.decided_at <= datetime.now(UTC)


# --- a denied hold runs no body ---------------------------------------------------------


def test_a_denied_hold_raises_and_runs_no_body(tmp_path: Path) -> None:
    s = ssot.Ssot(state_dir=tmp_path / "state")
    ran = False
    with pytest.raises(ssot.GateDenied) as e:
        with s.hold("backup", holder="pytest"):
            ran = True
    assert not ran
    assert not e.value.decision.allowed and e.value.exit_code == 1
    # Asked for explicitly, the denied hold is returned; its body still cannot run.
    h = s.hold("backup", holder="pytest", raise_on_deny=False)
    assert not h.decision.allowed and not h.held
    with pytest.raises(ssot.GateDenied):
        with h:
            ran = True
    assert not ran
    with pytest.raises(ssot.GateDenied):
        h.run(["true"])


# --- a command never outlives its lock ------------------------------------------------------


HOLDER = textwrap.dedent(
    """
    import sys, ssot
    state, script = sys.argv[1], sys.argv[2]
    with ssot.Ssot(state_dir=state).hold("startup", holder="pytest holder") as h:
        r = h.run(["sh", "-c", script])
        print("ended", r.code, r.signal, flush=True)
    """
)


def start_holder(state: Path, script: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", HOLDER, str(state), script],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_the_command_holds_the_lock_after_python_is_killed(tmp_path: Path) -> None:
    state = tmp_path / "state"
    healthy(state)
    pidfile = tmp_path / "cmd.pid"
    p = start_holder(state, f"echo $$ > {pidfile}; exec sleep 1000")
    wait_for("the command", lambda: pidfile.exists() and pidfile.read_text().strip())
    cmd = int(pidfile.read_text())
    p.kill()
    p.communicate(timeout=60)
    assert alive(cmd)
    assert lock_held(state), "the command runs on, but the lock is free"
    os.killpg(cmd, signal.SIGKILL)
    wait_for("the lock to be free", lambda: not lock_held(state))


def test_sigterm_to_python_reaches_the_command_then_python(tmp_path: Path) -> None:
    state = tmp_path / "state"
    healthy(state)
    ready, got = tmp_path / "ready", tmp_path / "got-term"
    p = start_holder(state, f"trap 'echo TERM > {got}; exit 3' TERM; touch {ready}; while :; do sleep 0.05; done")
    wait_for("the command", ready.exists)
    p.send_signal(signal.SIGTERM)
    out, _ = p.communicate(timeout=60)
    assert got.read_text() == "TERM\n", "the command did not get the SIGTERM"
    assert p.returncode == -signal.SIGTERM, f"python did not end by the signal: {p.returncode} {out!r}"
    assert not lock_held(state)


def test_run_under_a_hold(tmp_path: Path) -> None:
    state = tmp_path / "state"
    healthy(state)
    s = ssot.Ssot(state_dir=state)
    bg = tmp_path / "bg.pid"
    with s.hold("startup", holder="pytest") as h:
        r = h.run(["sh", "-c", "echo out; echo err >&2; exit 4"])
        assert (r.code, r.stdout, r.stderr, r.truncated, bool(r)) == (4, b"out\n", b"err\n", False, False)
        big = h.run(["head", "-c", "2000", "/dev/zero"], max_output=1000)
        assert big.truncated and len(big.stdout) == 1000
        dump = tmp_path / "dump"
        w = h.run(["echo", "dumped"], stdout=dump, capture=False)
        assert w.code == 0 and dump.read_text() == "dumped\n"
        assert dump.stat().st_mode & 0o777 == 0o600
        t = h.run(["sh", "-c", f"sleep 1000 & echo $! > {bg}; wait"], timeout=1)
        assert t.timed_out
        wait_for("the whole group to end", lambda: not alive(int(bg.read_text())))
    with pytest.raises(ssot.RequestError, match="released"):
        h.run(["true"])


# --- the environment, as the CLI reads it ---------------------------------------------------------


def test_the_environment_is_read_as_the_cli_reads_it(tmp_path: Path) -> None:
    state = tmp_path / "env-state"
    pgdata = tmp_path / "env-pgdata"
    (pgdata / "pg_wal").mkdir(parents=True)
    cfg = tmp_path / "ssot.toml"
    cfg.write_text('[wal]\nvolume_near_pct = 100\nvolume_error_pct = 100\nmin_free_bytes = 0\n')
    env: Dict[str, str] = {
        "SSOT_STATE_DIR": str(state),
        "SSOT_CONFIG": str(cfg),
        "PGDATA": str(pgdata),
        "SSOT_DSN": f"host={tmp_path}/no-server user=ssot password=hunter2",
    }
    code = textwrap.dedent(
        """
        import json, ssot
        s = ssot.Ssot()
        w = s.check_wal()
        print(json.dumps({"state_dir": str(s.state_dir), "origin": s.config().origin,
                          "pg_wal": str(w.pg_wal), "rules": [r.rule for r in w.reasons],
                          "dsn": s.config().to_dict()["postgres"].get("dsn")}))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, **env},
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    import json

    got = json.loads(out.stdout)
    assert got["state_dir"] == str(state)
    assert str(cfg) in got["origin"] and "PGDATA" in got["origin"]
    assert got["pg_wal"] == str(pgdata / "pg_wal")
    assert got["rules"] == ["postgres_unreachable"], "SSOT_DSN was probed"
    assert "hunter2" not in out.stdout and got["dsn"].startswith("host=")
    assert (state / "wal.status").exists()


# --- a server that does not answer ---------------------------------------------------------


def test_a_server_that_does_not_answer_may_still_be_started(tmp_path: Path) -> None:
    """After a crash the probe gets no answer: wal.status is ERROR from the probe alone.
    The startup gate leaves the probe's rules out (it must never keep the server down); a
    backup still waits, and its own liveness probe says why."""
    state = tmp_path / "state"
    pgdata = tmp_path / "pgdata"
    (pgdata / "pg_wal").mkdir(parents=True)
    dsn = f"host={tmp_path}/no-server user=ssot"
    cfg = {"wal": {"volume_near_pct": 100, "volume_error_pct": 100, "min_free_bytes": 0},
           "postgres": {"pgdata": str(pgdata), "dsn": dsn}}
    s = ssot.Ssot(cfg, state_dir=state)
    w = s.check_wal()
    assert [r.rule for r in w.reasons] == ["postgres_unreachable"]
    (state / "contract.status").write_text(
        f"contract_status=PASS\nchecked_at={stamp(datetime.now(UTC))}\n")
    d = s.gate("startup")
    assert d.allowed, d
    target = tmp_path / "dumps"
    target.mkdir()
    d = s.gate("backup", target=target)
    assert not d.allowed
    rules = [c.rule for c in d.denials]
    assert "wal_status_ok" in rules and "postgres_answers" in rules, rules


# --- no input crashes the interpreter --------------------------------------------------------


def test_a_deeply_nested_value_is_an_error_not_a_crash() -> None:
    code = textwrap.dedent(
        """
        import ssot
        deep = []
        for _ in range(10000):
            deep = [deep]
        nested = {}
        for _ in range(10000):
            nested = {"a": nested}
        for call in (
            lambda: ssot.plan_retention(deep, now="2026-01-01T00:00:00Z"),
            lambda: ssot.plan_retention([], {"keep_tags": deep}, now="2026-01-01T00:00:00Z"),
            lambda: ssot.evaluate_gate("backup", nested, now="2026-01-01T00:00:00Z"),
            lambda: ssot.Ssot(nested),
            lambda: ssot.evaluate_contract({"statefulset": deep}, now="2026-01-01T00:00:00Z"),
        ):
            try:
                call()
                print("accepted")
            except ssot.SsotError as e:
                print("refused" if "deeper than" in str(e) else repr(e))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, f"the interpreter died: {out.returncode} {out.stderr[-500:]}"
    assert out.stdout.split() == ["refused"] * 5, out.stdout


def test_every_plain_shape_of_an_input_reads_as_its_json() -> None:
    """Inputs are read by the core types' own serde from any plain shape
    (a dict or any Mapping, a list, a tuple or any Sequence), and a datetime
    anywhere is made plain first: each reads as the same JSON does."""
    import collections
    import types
    from collections.abc import Mapping

    class Custom(Mapping):  # type: ignore[type-arg]
        def __init__(self, d: Dict[str, object]) -> None:
            self.d = d

        def __getitem__(self, k: str) -> object:
            return self.d[k]

        def __iter__(self):  # type: ignore[no-untyped-def]
            return iter(self.d)

        def __len__(self) -> int:
            return len(self.d)

    arts = [
        {"id": "a", "created_at": "2026-01-01T00:00:00Z", "size_bytes": 5, "state": "complete"},
        {"id": "b", "created_at": "2026-01-02T00:00:00Z", "verified": True, "group": "g"},
        {"id": "c", "created_at": "2026-01-03T00:00:00Z", "pinned": True},
    ]
    policy = {"keep_last": 1, "keep_tags": [["x"]]}
    now = "2026-01-05T00:00:00Z"
    want = ssot.plan_retention(arts, policy, now=now).to_json()
    shapes = {
        "tuple": tuple(arts),
        "OrderedDict": [collections.OrderedDict(a) for a in arts],
        "mappingproxy": [types.MappingProxyType(a) for a in arts],
        "Mapping": [Custom(a) for a in arts],
        "datetime": [dict(a, created_at=datetime.fromisoformat(str(a["created_at"]).replace("Z", "+00:00")))
                     for a in arts],
        "deque": collections.deque(arts),
    }
    for name, given in shapes.items():
        got = ssot.plan_retention(given, dict(policy, keep_tags=(("x",),)), now=now).to_json()
        assert got == want, name
    # What the CLI refuses in the same JSON is refused here too: a bool or
    # a float is not a size, a dict is not a state (pythonize let `True`
    # through as 1 and `{"complete": 1}` as `complete`).
    for bad, says in (
        ([dict(arts[0], size_bytes=2**70)], "out of range"),
        ([dict(arts[0], size_bytes=-1)], "expected u64"),
        ([dict(arts[0], size_bytes=True)], "invalid type: boolean"),
        ([dict(arts[0], size_bytes=5.0)], "invalid type: floating point"),
        ([dict(arts[0], state={"complete": 1})], "expected unit"),
    ):
        with pytest.raises(ssot.RequestError, match=says):
            ssot.plan_retention(bad, policy, now=now)
    for bad, says in (
        ([{1: "a"}], "dict keys must be strings"),
        ([dict(arts[0], created_at=b"2026-01-01T00:00:00Z")], "cannot pass a bytes"),
    ):
        with pytest.raises(TypeError, match=says):
            ssot.plan_retention(bad, policy, now=now)

def test_a_to_dict_that_never_ends_is_an_error_not_a_crash() -> None:
    """Found by attack: an object whose `to_dict()` gives itself (or a new
    such object, forever) was made plain without counting a level: a stack
    overflow, the interpreter killed by SIGSEGV."""
    code = textwrap.dedent(
        """
        import ssot
        class Itself:
            def to_dict(self):
                return self
        class Another:
            def to_dict(self):
                return Another()
        for call in (
            lambda: ssot.plan_retention([Itself()], now="2026-01-01T00:00:00Z"),
            lambda: ssot.plan_retention(Another(), now="2026-01-01T00:00:00Z"),
            lambda: ssot.evaluate_gate("backup", Itself(), now="2026-01-01T00:00:00Z"),
        ):
            try:
                call()
                print("accepted")
            except ssot.RequestError as e:
                print("refused" if "deeper than" in str(e) else repr(e))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, f"the interpreter died: {out.returncode} {out.stderr[-500:]}"
    assert out.stdout.split() == ["refused"] * 3, out.stdout


def test_a_too_deep_value_names_its_argument() -> None:
    """The message names the argument (`artifacts: ...`), whichever reader
    found the depth (found by attack: some said `value: ...`)."""
    deep: Any = []
    for _ in range(100):
        deep = [deep]
    with pytest.raises(ssot.RequestError, match=r"^artifacts: .*deeper than 64"):
        ssot.plan_retention(deep, now="2026-01-01T00:00:00Z")
    facts = {"wal_bytes": 1 << 30, "segment_count": 64, "extra": deep,
             "volume": {"total_bytes": 100 << 30, "available_bytes": 50 << 30}}
    with pytest.raises(ssot.RequestError, match=r"^facts: .*deeper than 64"):
        ssot.evaluate_wal(facts, now="2026-01-01T00:00:00Z")


def test_each_run_under_a_hold_is_decided_again(tmp_path: Path) -> None:
    state = tmp_path / "state"
    healthy(state)
    s = ssot.Ssot(state_dir=state)
    ran = tmp_path / "ran"
    with s.hold("startup", holder="pytest") as h:
        assert h.run(["true"]).code == 0
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        (state / "wal.status").write_text(f"wal_status=ERROR\nchecked_at={now}\n")
        with pytest.raises(ssot.GateDenied) as e:
            h.run(["touch", str(ran)])
        assert "wal_status_ok" in [c.rule for c in e.value.decision.denials]
        assert not h.held, "a denial releases the lock"
    assert not ran.exists()


# --- the contract's inputs ---------------------------------------------------------


def test_a_contract_check_that_cannot_read_its_inputs_replaces_the_last_pass(tmp_path: Path) -> None:
    """Issue "hosts": a check that cannot read its inputs recorded nothing, and
    the last PASS kept the startup gate open for up to 25 hours."""
    state = tmp_path / "state"
    healthy(state)
    s = ssot.Ssot(state_dir=state)
    assert s.gate("startup").allowed
    data = tmp_path / "data"
    data.mkdir()
    conf = data / "postgresql.conf"
    conf.write_text("max_wal_size = 4GB\ninclude 'tuning.conf'\n")
    c = s.check_contract(postgresql_conf=conf, pgdata=data)
    assert c.status == "FAIL"
    first = c.invariants[0]
    assert (first.id, first.status) == ("inputs.readable", "fail")
    assert "tuning.conf" in first.message and "does not exist" in first.message
    assert (state / "contract.status").read_text().startswith("contract_status=FAIL\n")
    d = s.gate("startup")
    assert not d.allowed
    assert "contract_pass" in [c.rule for c in d.denials]
