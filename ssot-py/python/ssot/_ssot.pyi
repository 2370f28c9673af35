# Type stubs of the extension module `ssot._ssot` (kept by hand; checked by
# `python -m mypy.stubtest ssot` in CI).

import os
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, List, Literal, Mapping, Optional, Sequence, Tuple, Union, final

from ssot.enums import (
    Action,
    ArtifactState,
    BackupResult,
    Claim,
    ContractStatus,
    Deployment,
    InvariantStatus,
    LimitationStatus,
    Operation,
    Outcome,
    Verdict,
    VerifyResult,
    WalStatus,
)
from ssot.options import (
    Artifact,
    ConfigDict,
    ContractConfig,
    ContractInputs,
    GateFacts,
    GatePolicy,
    InlineText,
    PreviousStatus,
    RetentionPolicy,
    RetentionSource,
    WalFacts,
    WalPolicy,
)

__version__: str
__all__ = [
    "ApplyOutcome",
    "ArtifactDecision",
    "BackupRecorded",
    "VerifyOutcome",
    "Check",
    "CommandResult",
    "Config",
    "ContractReport",
    "Decision",
    "DrDrillRecorded",
    "Hold",
    "Invariant",
    "Limitation",
    "Report",
    "RestoreDrillRecorded",
    "RetentionPlan",
    "Section",
    "Ssot",
    "StageCheck",
    "StageChecks",
    "Status",
    "WalCheck",
    "WalReason",
    "WalReport",
    "__version__",
    "_raise_core_error",
    "build_report",
    "evaluate_contract",
    "evaluate_gate",
    "evaluate_wal",
    "gate",
    "plan_retention",
]

_Path = Union[str, "os.PathLike[str]"]
_Time = Union[datetime, str]
_Size = Union[int, str]
_Json = Mapping[str, Any]
# A path, inline text, or a tool's JSON output already parsed.
_Input = Union[_Path, InlineText, Mapping[str, Any], Sequence[Any]]
_Config = Union[_Path, ConfigDict, None]
_Operation = Union[Operation, Literal["snapshot", "backup", "restore", "startup"]]
_ReportFormat = Literal["text", "json", "prometheus", "configmap"]

@final
class Check:
    """One check of a gate decision."""
    @property
    def rule(self) -> str:
        """Stable rule id (`wal_status_fresh`, `separate_filesystem`, ...)."""
    @property
    def passed(self) -> bool:
        """Whether it passed."""
    @property
    def message(self) -> str:
        """What was found."""

@final
class WalReason:
    """One reason of a WAL status."""
    @property
    def rule(self) -> str:
        """Stable rule id (`wal_over_soft_limit`, `volume_used_near`, ...)."""
    @property
    def level(self) -> WalStatus:
        """The level it asserts: a `WalStatus`."""
    @property
    def message(self) -> str:
        """One sentence naming value and threshold."""
    @property
    def held(self) -> bool:
        """True when hysteresis holds it."""

@final
class ArtifactDecision:
    """One artifact of a retention plan, with every reason."""
    @property
    def id(self) -> str:
        """The artifact id."""
    @property
    def group(self) -> str:
        """Its group."""
    @property
    def action(self) -> Action:
        """`Action.KEEP` or `Action.DELETE`."""
    @property
    def reasons(self) -> List[str]:
        """Every reason, as the CLI prints them."""
    @property
    def created_at(self) -> datetime:
        """Creation time."""
    @property
    def size_bytes(self) -> Optional[int]:
        """Size, when known."""
    @property
    def state(self) -> ArtifactState:
        """Whether it is whole: an `ArtifactState`."""

@final
class Invariant:
    """One invariant of the architecture contract."""
    @property
    def id(self) -> str:
        """Stable id (`sts.max_wal_size`, `processes.no_archiver`, ...)."""
    @property
    def status(self) -> InvariantStatus:
        """An `InvariantStatus`: pass, fail, unknown or not applicable."""
    @property
    def message(self) -> str:
        """What was found."""
    @property
    def evidence(self) -> List[str]:
        """The facts it rests on."""

@final
class Limitation:
    """One declared limitation."""
    @property
    def name(self) -> str:
        """`pitr`, `wal_archive`, `offsite_backup`, ..."""
    @property
    def status(self) -> LimitationStatus:
        """A `LimitationStatus`: off (confirmed), on (contradicted) or unverified."""
    @property
    def message(self) -> str:
        """Explanation."""
    @property
    def evidence(self) -> List[str]:
        """Facts consulted."""

@final
class StageCheck:
    """One stage claim checked against the evidence."""
    @property
    def id(self) -> str:
        """Stage id."""
    @property
    def title(self) -> str:
        """Title."""
    @property
    def claimed(self) -> Claim:
        """The claimed status: a `Claim`."""
    @property
    def consistent(self) -> bool:
        """Whether the evidence backs the claim."""
    @property
    def met(self) -> List[str]:
        """Criteria met, each with the fact that decides it."""
    @property
    def missing(self) -> List[str]:
        """Criteria not met."""
    @property
    def message(self) -> str:
        """One line."""

@final
class Section:
    """One section of the report."""
    @property
    def name(self) -> str:
        """`wal`, `disk`, `gates`, `retention`, `backup`, ..."""
    @property
    def status(self) -> Verdict:
        """A `Verdict`: OK, DEGRADED or DOWN."""
    @property
    def summary(self) -> str:
        """One line."""
    @property
    def action(self) -> Optional[str]:
        """What to do about it, when it is not OK and ssot knows."""
    @property
    def details(self) -> List[str]:
        """Supporting lines."""

@final
class WalReport:
    """A WAL status from the pure evaluator."""
    @property
    def status(self) -> WalStatus:
        """The status: a `WalStatus`."""
    @property
    def reasons(self) -> List[WalReason]:
        """Every reason, worst first."""
    @property
    def checked_at(self) -> datetime:
        """The evaluation time."""
    @property
    def wal_size(self) -> Optional[int]:
        """Bytes in pg_wal; `None` when the measurement failed."""
    @property
    def segment_count(self) -> Optional[int]:
        """WAL segment files in pg_wal."""
    @property
    def wal_used_pct(self) -> Optional[float]:
        """Used % of the volume holding pg_wal."""
    @property
    def seconds_to_error(self) -> Optional[float]:
        """Predicted seconds until the volume reaches its error threshold."""
    @property
    def exit_code(self) -> int:
        """The CLI's exit code for this result."""
    @property
    def outcome(self) -> Outcome:
        """The exit code's name (`Outcome.OK`, `Outcome.WARNING`, ...)."""
    def to_dict(self) -> Dict[str, Any]:
        """The CLI's JSON, as Python values."""
    def to_json(self) -> str:
        """The CLI's JSON."""

@final
class WalCheck:
    """A WAL check: the report as recorded in `wal.status`, with where pg_wal is."""
    @property
    def status(self) -> WalStatus:
        """The status: a `WalStatus`."""
    @property
    def report(self) -> WalReport:
        """The report."""
    @property
    def reasons(self) -> List[WalReason]:
        """Every reason, worst first."""
    @property
    def pg_wal(self) -> Optional[Path]:
        """pg_wal as resolved (through a symlink, if any)."""
    @property
    def settings_source(self) -> str:
        """Where the declared WAL settings came from."""
    @property
    def notes(self) -> List[str]:
        """Things to know that did not change the status."""
    @property
    def measurement_failed(self) -> bool:
        """True when pg_wal could not be measured."""
    @property
    def exit_code(self) -> int:
        """The CLI's exit code for this result."""
    @property
    def outcome(self) -> Outcome:
        """The exit code's name (`Outcome.OK`, `Outcome.WARNING`, ...)."""
    def to_dict(self) -> Dict[str, Any]:
        """The CLI's JSON, as Python values."""
    def to_json(self) -> str:
        """The CLI's JSON."""

@final
class Decision:
    """A gate's decision, with every check."""
    @property
    def operation(self) -> Operation:
        """The operation decided: an `Operation`."""
    @property
    def allowed(self) -> bool:
        """True only when every check passed."""
    @property
    def decided_at(self) -> datetime:
        """When it was decided."""
    @property
    def reasons(self) -> List[Check]:
        """Every check, failed ones first."""
    @property
    def denials(self) -> List[Check]:
        """The checks that failed."""
    def raise_if_denied(self) -> None:
        """Raises `ssot.GateDenied` (with this decision) unless allowed."""
    @property
    def exit_code(self) -> int:
        """The CLI's exit code for this result."""
    @property
    def outcome(self) -> Outcome:
        """The exit code's name (`Outcome.OK`, `Outcome.WARNING`, ...)."""
    def to_dict(self) -> Dict[str, Any]:
        """The CLI's JSON, as Python values."""
    def to_json(self) -> str:
        """The CLI's JSON."""
    def __bool__(self) -> bool: ...

@final
class RetentionPlan:
    """A retention plan: every artifact with keep/delete and its reasons."""
    @property
    def profile(self) -> str:
        """The profile planned for (`default` without one)."""
    @property
    def decisions(self) -> List[ArtifactDecision]:
        """Every artifact, by group, newest first."""
    @property
    def keep(self) -> List[ArtifactDecision]:
        """The artifacts kept."""
    @property
    def delete(self) -> List[ArtifactDecision]:
        """The artifacts to delete."""
    @property
    def plan_hash(self) -> str:
        """Applying needs exactly this hash (or a 12-digit prefix of it)."""
    @property
    def refused(self) -> Optional[str]:
        """Why the plan may not be applied, if it may not."""
    @property
    def warnings(self) -> List[str]:
        """Warnings (a refusal is one of them)."""
    @property
    def now(self) -> datetime:
        """As of."""
    @property
    def summary(self) -> Dict[str, int]:
        """Totals: total, kept, deleted, kept_bytes, freed_bytes, verified_kept, groups."""
    @property
    def exit_code(self) -> int:
        """The CLI's exit code for this result."""
    @property
    def outcome(self) -> Outcome:
        """The exit code's name (`Outcome.OK`, `Outcome.WARNING`, ...)."""
    def to_dict(self) -> Dict[str, Any]:
        """The CLI's JSON, as Python values."""
    def to_json(self) -> str:
        """The CLI's JSON."""

@final
class ApplyOutcome:
    """What `apply_retention` did (or would do, in a dry run)."""
    @property
    def plan(self) -> RetentionPlan:
        """The plan that was (or would be) applied."""
    @property
    def applied(self) -> bool:
        """True when deletions were carried out."""
    @property
    def dry_run(self) -> bool:
        """True when nothing was deleted because no confirmation was given."""
    @property
    def refused(self) -> Optional[str]:
        """Why nothing was deleted, if it was refused."""
    @property
    def deleted(self) -> List[str]:
        """Ids deleted, oldest first."""
    @property
    def recovered(self) -> List[str]:
        """Leftovers of an interrupted earlier run, finished first."""
    @property
    def resumed(self) -> Optional[str]:
        """The reviewed plan hash this run continued or found already applied."""
    @property
    def exit_code(self) -> int:
        """The CLI's exit code for this result."""
    @property
    def outcome(self) -> Outcome:
        """The exit code's name (`Outcome.OK`, `Outcome.WARNING`, ...)."""
    def to_dict(self) -> Dict[str, Any]:
        """The CLI's JSON, as Python values."""
    def to_json(self) -> str:
        """The CLI's JSON."""

@final
class ContractReport:
    """The architecture contract checked."""
    @property
    def status(self) -> ContractStatus:
        """The contract's status: a `ContractStatus`."""
    @property
    def checked_at(self) -> datetime:
        """When it was checked."""
    @property
    def deployment(self) -> Deployment:
        """The deployment checked: `Deployment.HOST` or `Deployment.KUBERNETES`."""
    @property
    def invariants(self) -> List[Invariant]:
        """Every invariant."""
    @property
    def failed(self) -> List[str]:
        """The ids of the failed invariants."""
    @property
    def limitations(self) -> List[Limitation]:
        """Every declared limitation."""
    @property
    def exit_code(self) -> int:
        """The CLI's exit code for this result."""
    @property
    def outcome(self) -> Outcome:
        """The exit code's name (`Outcome.OK`, `Outcome.WARNING`, ...)."""
    def to_dict(self) -> Dict[str, Any]:
        """The CLI's JSON, as Python values."""
    def to_json(self) -> str:
        """The CLI's JSON."""

@final
class StageChecks:
    """Every stage claim checked."""
    @property
    def checks(self) -> List[StageCheck]:
        """One per stage."""
    @property
    def consistent(self) -> bool:
        """True when every claim is backed."""
    @property
    def exit_code(self) -> int:
        """The CLI's exit code for this result."""
    @property
    def outcome(self) -> Outcome:
        """The exit code's name (`Outcome.OK`, `Outcome.WARNING`, ...)."""
    def to_dict(self) -> List[Dict[str, Any]]:
        """The CLI's JSON, as Python values."""
    def to_json(self) -> str:
        """The CLI's JSON."""
    def __len__(self) -> int: ...

@final
class BackupRecorded:
    """A backup recorded in `backup.status`."""
    @property
    def artifact(self) -> str:
        """The artifact."""
    @property
    def location(self) -> str:
        """The location, resolved."""
    @property
    def result(self) -> BackupResult:
        """How it ended: a `BackupResult`."""
    @property
    def size_bytes(self) -> Optional[int]:
        """The size, measured."""
    @property
    def separate_from_pgdata(self) -> Optional[bool]:
        """Whether it is on another filesystem than PGDATA (`None`: unknown)."""
    @property
    def finished_at(self) -> datetime:
        """When it finished."""
    @property
    def state_file(self) -> str:
        """The state file it was recorded in."""
    @property
    def sha256(self) -> Optional[str]:
        """SHA-256 of its content, measured when recorded (local backups)."""
    @property
    def warnings(self) -> List[str]:
        """What was worth saying but did not refuse it."""
    @property
    def exit_code(self) -> int:
        """The CLI's exit code for this result."""
    @property
    def outcome(self) -> Outcome:
        """The exit code's name (`Outcome.OK`, `Outcome.WARNING`, ...)."""
    def to_dict(self) -> Dict[str, Any]:
        """The CLI's JSON, as Python values."""
    def to_json(self) -> str:
        """The CLI's JSON."""

@final
class VerifyOutcome:
    """What `verify` found: each recorded backup re-read against its checksum."""
    @property
    def checks(
        self,
    ) -> List[Tuple[str, str, VerifyResult, Optional[str]]]:
        """One `(artifact, location, result, problem)` per recorded backup;
        `result` is a `VerifyResult`.
        """
    @property
    def failed(self) -> int:
        """How many failed."""
    @property
    def state_file(self) -> str:
        """Where the findings were recorded."""
    @property
    def exit_code(self) -> int:
        """The CLI's exit code for this result."""
    @property
    def outcome(self) -> Outcome:
        """The exit code's name (`Outcome.OK`, `Outcome.WARNING`, ...)."""
    def to_dict(self) -> Dict[str, Any]:
        """The CLI's JSON, as Python values."""
    def to_json(self) -> str:
        """The CLI's JSON."""

@final
class RestoreDrillRecorded:
    """A restore drill recorded in `restore_drill.status`."""
    @property
    def artifact(self) -> str:
        """The artifact restored."""
    @property
    def passed(self) -> bool:
        """Whether it passed."""
    @property
    def marked_verified(self) -> Optional[Path]:
        """The `.verified` marker written, if any."""
    @property
    def exit_code(self) -> int:
        """The CLI's exit code for this result."""
    @property
    def outcome(self) -> Outcome:
        """The exit code's name (`Outcome.OK`, `Outcome.WARNING`, ...)."""
    def to_dict(self) -> Dict[str, Any]:
        """The CLI's JSON, as Python values."""
    def to_json(self) -> str:
        """The CLI's JSON."""

@final
class DrDrillRecorded:
    """A DR drill recorded in `dr_drill.status`, with measured RTO and RPO."""
    @property
    def scenario(self) -> str:
        """What was simulated."""
    @property
    def rto_seconds(self) -> int:
        """Measured RTO, seconds."""
    @property
    def rpo_seconds(self) -> int:
        """Measured RPO, seconds."""
    @property
    def passed(self) -> bool:
        """Both within target."""
    @property
    def exit_code(self) -> int:
        """The CLI's exit code for this result."""
    @property
    def outcome(self) -> Outcome:
        """The exit code's name (`Outcome.OK`, `Outcome.WARNING`, ...)."""
    def to_dict(self) -> Dict[str, Any]:
        """The CLI's JSON, as Python values."""
    def to_json(self) -> str:
        """The CLI's JSON."""

@final
class Report:
    """The single view of truth."""
    @property
    def verdict(self) -> Verdict:
        """The worst section's status: a `Verdict`."""
    @property
    def headline(self) -> str:
        """The first line for 3 a.m.: what is wrong and what to do
        (`OK: nothing to do ...` when all is well)."""
    @property
    def generated_at(self) -> datetime:
        """When it was built."""
    @property
    def sections(self) -> List[Section]:
        """Every section, in a fixed order."""
    def to_prometheus(self) -> str:
        """The Prometheus text exposition (node_exporter's textfile collector)."""
    @property
    def exit_code(self) -> int:
        """The CLI's exit code for this result."""
    @property
    def outcome(self) -> Outcome:
        """The exit code's name (`Outcome.OK`, `Outcome.WARNING`, ...)."""
    def to_dict(self) -> Dict[str, Any]:
        """The CLI's JSON, as Python values."""
    def to_json(self) -> str:
        """The CLI's JSON."""

@final
class Status:
    """The state files as they are."""
    @property
    def state_dir(self) -> str:
        """The state directory."""
    @property
    def files(self) -> Dict[str, Dict[str, Any]]:
        """Each state file: `{"state": "present", "path": ..., "values": {...}}`, or missing, corrupt, ..."""
    @property
    def exit_code(self) -> int:
        """The CLI's exit code for this result."""
    @property
    def outcome(self) -> Outcome:
        """The exit code's name (`Outcome.OK`, `Outcome.WARNING`, ...)."""
    def to_dict(self) -> Dict[str, Any]:
        """The CLI's JSON, as Python values."""
    def to_json(self) -> str:
        """The CLI's JSON."""

@final
class Config:
    """The effective configuration."""
    @property
    def origin(self) -> str:
        """Where it came from."""
    @property
    def state_dir(self) -> str:
        """The state directory it names."""
    def to_toml(self) -> str:
        """As `ssot.toml` text."""
    @property
    def exit_code(self) -> int:
        """The CLI's exit code for this result."""
    @property
    def outcome(self) -> Outcome:
        """The exit code's name (`Outcome.OK`, `Outcome.WARNING`, ...)."""
    def to_dict(self) -> Dict[str, Any]:
        """The CLI's JSON, as Python values."""
    def to_json(self) -> str:
        """The CLI's JSON."""

@final
class CommandResult:
    """How a command run by `Hold.run` ended."""
    @property
    def code(self) -> Optional[int]:
        """Its exit code, or `None` when a signal ended it."""
    @property
    def signal(self) -> Optional[int]:
        """The signal that ended it, if one did."""
    @property
    def stdout(self) -> bytes:
        """Its standard output (empty unless captured)."""
    @property
    def stderr(self) -> bytes:
        """Its standard error (empty unless captured)."""
    @property
    def truncated(self) -> bool:
        """True when stdout or stderr was cut at `max_output`."""
    @property
    def timed_out(self) -> bool:
        """True when the timeout ended it and its process group."""
    @property
    def duration(self) -> float:
        """Seconds it ran."""
    def __bool__(self) -> bool: ...

@final
class Hold:
    """A gate decision and, when it allowed, the operation lock, held until
    `release()` or the end of a `with` block. Entering a denied `Hold`
    raises `GateDenied`: the body never runs without the lock.
    """
    @property
    def decision(self) -> Decision:
        """The decision."""
    @property
    def held(self) -> bool:
        """True while the lock is held (only ever after an allowed decision)."""
    def release(self) -> None:
        """Releases the lock (idempotent). A command started by `run` that is
        still running (in the background) keeps it until it ends.
        """
    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: Optional[float] = None,
        capture: bool = True,
        stdout: Optional[_Path] = None,
        max_output: int = 16777216,
    ) -> CommandResult:
        """Decides again at the real time (a denial releases the lock and raises
        `GateDenied`), then runs `argv` (no shell) under the lock: the command inherits the lock
        (it holds it as long as it and anything it forks run, even if this
        Python process dies), runs in its own process group, receives the
        SIGTERM/SIGINT/SIGHUP this process receives meanwhile (which is then
        raised here too, once the command has ended), and its whole group is
        ended at `timeout` (seconds). Output is captured (at most `max_output`
        bytes a stream) unless `capture=False`; `stdout=PATH` sends stdout to
        that file instead (created 0600: `pg_dump > PATH` without a shell).
        """
    def __enter__(self) -> "Hold": ...
    def __exit__(self, *_exc: object) -> bool: ...

@final
class Ssot:
    """ssot over a state directory: the effective configuration and the real host."""
    def __new__(
        cls,
        config: _Config = None,
        *,
        state_dir: Optional[_Path] = None,
    ) -> "Ssot": ...
    @property
    def state_dir(self) -> Path:
        """The state directory."""
    def now(self) -> datetime:
        """The current time, as ssot sees it."""
    def check_wal(
        self,
        pgdata: Optional[_Path] = None,
        *,
        slots: Union[_Input, None] = None,
        dsn: Optional[str] = None,
        now: Optional[_Time] = None,
    ) -> WalCheck:
        """Measures pg_wal (and, with a DSN, probes the server), evaluates the
        WAL status against the previous one and records it in `wal.status`:
        `ssot wal check`. `slots` is a path, inline text or the parsed JSON of
        the replication slots.
        """
    def gate(
        self,
        operation: _Operation,
        *,
        target: Optional[_Path] = None,
        pgdata: Optional[_Path] = None,
        estimate: Optional[_Size] = None,
        now: Optional[_Time] = None,
    ) -> Decision:
        """Decides whether `operation` (snapshot, backup, restore, startup) may
        run now, failing closed with every reason: `ssot gate OP`. It decides
        at the real time; `now` is only checked against the clock
        (`ClockRefusedError` beyond `gate.max_clock_skew`). Takes no lock: see
        `hold`.
        """
    def hold(
        self,
        operation: _Operation,
        *,
        holder: str,
        target: Optional[_Path] = None,
        pgdata: Optional[_Path] = None,
        estimate: Optional[_Size] = None,
        now: Optional[_Time] = None,
        raise_on_deny: bool = True,
    ) -> Hold:
        """Like `gate`, but first takes the operation lock (naming `holder`) and,
        when allowed, keeps it in the returned `Hold` until it is released
        (or the `with` block ends): no other gated operation runs meanwhile.
        A denial raises `GateDenied` (with the decision), so no code meant to
        run under the lock runs; `raise_on_deny=False` returns the denied
        `Hold` instead (whose `with` block still raises).
        """
    def write_output(self, path: _Path, text: str) -> None:
        """Writes `text` to `path` atomically (temp file, fsync, rename), as
        `ssot report --output` does.
        """
    def plan_retention(
        self,
        source: Union[_Path, Sequence[Artifact], RetentionSource, None] = None,
        policy: Optional[RetentionPolicy] = None,
        *,
        profile: Optional[str] = None,
        root: Optional[_Path] = None,
        pattern: Optional[str] = None,
        pgdata: Optional[_Path] = None,
        now: Optional[_Time] = None,
    ) -> RetentionPlan:
        """Plans retention without deleting anything: every artifact with keep or
        delete and its reasons, and the hash to apply exactly this plan.
        `source` is a directory, a list of artifacts (a catalog) or a
        `RetentionSource` dict; `policy` overrides the profile's keys.
        """
    def apply_retention(
        self,
        source: Union[_Path, Sequence[Artifact], RetentionSource, None] = None,
        policy: Optional[RetentionPolicy] = None,
        *,
        plan_hash: Optional[str] = None,
        confirm: bool = False,
        profile: Optional[str] = None,
        root: Optional[_Path] = None,
        pattern: Optional[str] = None,
        pgdata: Optional[_Path] = None,
        now: Optional[_Time] = None,
    ) -> ApplyOutcome:
        """Applies a retention plan: with `plan_hash`, exactly the reviewed plan
        (refused if the plan changed); with `confirm=True`, the plan as it is
        now; with neither, a dry run. A plan deleting more than `max_delete`
        is refused; an interrupted run is finished by the next one.
        """
    def check_contract(
        self,
        *,
        statefulset: Optional[_Input] = None,
        settings: Optional[_Input] = None,
        processes: Optional[_Input] = None,
        pvcs: Optional[_Input] = None,
        active_pvcs: Optional[_Input] = None,
        auto_conf: Optional[_Input] = None,
        slots: Optional[_Input] = None,
        mounts: Optional[_Input] = None,
        postgresql_conf: Optional[_Input] = None,
        dsn: Optional[str] = None,
        pgdata: Optional[_Path] = None,
        now: Optional[_Time] = None,
    ) -> ContractReport:
        """Checks the architecture contract against its source of truth (the
        StatefulSet on Kubernetes, `postgresql.conf` on a host) and the
        running server, and records it in `contract.status`: `ssot contract
        check`. Each input is a path, inline text or parsed JSON; what is not
        given is read from the host or the live probe, or is UNKNOWN.
        """
    def check_stages(self, now: Optional[_Time] = None) -> StageChecks:
        """Checks every stage's claimed status against the evidence in the
        state directory: `ssot stages check`.
        """
    def record_backup(
        self,
        artifact: str,
        *,
        location: Optional[str] = None,
        result: Union[BackupResult, Literal["complete", "partial", "failed"], None] = None,
        started: Optional[_Time] = None,
        finished: Optional[_Time] = None,
        size: Optional[_Size] = None,
        kind: Optional[str] = None,
        by: Optional[str] = None,
        pgdata: Optional[_Path] = None,
        now: Optional[_Time] = None,
    ) -> BackupRecorded:
        """Records a backup that ran in `backup.status`, after checking it is
        what it claims (there, whole, not a snapshot, of a plausible size):
        `ssot evidence backup`. Refused evidence raises `EvidenceRefused`.
        """
    def record_restore_drill(
        self,
        artifact: str,
        result: Literal["pass", "fail"],
        *,
        started: Optional[_Time] = None,
        finished: Optional[_Time] = None,
        by: Optional[str] = None,
        notes: Optional[str] = None,
        mark_verified: Optional[_Path] = None,
        now: Optional[_Time] = None,
    ) -> RestoreDrillRecorded:
        """Records a restore drill of a recorded backup (`result`: `pass` or
        `fail`) in `restore_drill.status`; `mark_verified` writes the
        artifact's `.verified` marker in that directory when it passed.
        """
    def record_dr_drill(
        self,
        scenario: str,
        *,
        t0: _Time,
        restored_at: _Time,
        newest_before: _Time,
        newest_after: _Time,
        by: Optional[str] = None,
        now: Optional[_Time] = None,
    ) -> DrDrillRecorded:
        """Records a disaster-recovery drill in `dr_drill.status`, with the RTO
        (`t0` to `restored_at`) and RPO (`newest_before` minus
        `newest_after`) measured against the configured targets.
        """
    def report(
        self, now: Optional[_Time] = None, *, pgdata: Optional[_Path] = None, dsn: Optional[str] = None
    ) -> Report:
        """The single view of truth over the state directory (and, with a DSN,
        the live server): `ssot report`.
        """
    def render_report(self, report: Report, format: _ReportFormat) -> str:
        """The report as `text`, `json`, `prometheus` or `configmap` (named by the configuration)."""
    def verify(self, *, now: Optional[_Time] = None) -> VerifyOutcome:
        """Re-reads every recorded backup and compares it with the checksum
        recorded when it was taken; records the findings in `verify.status`.
        """
    def status(self, now: Optional[_Time] = None) -> Status:
        """Every state file as it is (present, missing, corrupt, ...) with its
        values: `ssot status`.
        """
    def config(self) -> Config:
        """The effective configuration and where it came from: `ssot config show`."""

def evaluate_wal(
    facts: WalFacts,
    policy: Optional[WalPolicy] = None,
    *,
    now: _Time,
    previous: Union[WalReport, PreviousStatus, None] = None,
) -> WalReport:
    """The WAL status of one sample, with no state directory (pure)."""
def evaluate_gate(
    operation: _Operation,
    facts: GateFacts,
    policy: Optional[GatePolicy] = None,
    *,
    now: _Time,
) -> Decision:
    """A gate decision from facts, with no state directory (pure)."""
def plan_retention(
    artifacts: Sequence[Artifact],
    policy: Optional[RetentionPolicy] = None,
    *,
    now: _Time,
) -> RetentionPlan:
    """A retention plan over artifacts, with no directory (pure)."""
def gate(
    operation: _Operation,
    *,
    state_dir: _Path,
    config: _Config = None,
    target: Optional[_Path] = None,
    pgdata: Optional[_Path] = None,
    estimate: Optional[_Size] = None,
    now: Optional[_Time] = None,
) -> Decision:
    """`Ssot(config, state_dir=state_dir).gate(...)`."""
def evaluate_contract(
    inputs: ContractInputs,
    config: Optional[ContractConfig] = None,
    *,
    now: _Time,
    backup_location: Optional[str] = None,
    backup_target: Optional[str] = None,
) -> ContractReport:
    """The architecture contract over inputs given as text (pure: nothing is
    read or written). `inputs` maps the request's field names (`statefulset`,
    `settings`, ...) to text or `{"text": ..., "origin": ...}`.
    """
def build_report(
    files: Mapping[str, str],
    *,
    gate_log: Optional[str] = None,
    config: Union[str, ConfigDict, None] = None,
    now: _Time,
) -> Report:
    """The single view of truth over state file contents (pure): `files` maps
    state file names to their content; `config` is `ssot.toml` text or a dict.
    """
def _raise_core_error(kind: str) -> None: ...
