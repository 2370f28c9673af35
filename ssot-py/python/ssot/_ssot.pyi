# Type stubs of the extension module `ssot._ssot`: the result and record
# classes and `__all__` are generated from the core's JSON Schema by
# ssot-py/stubgen.py (a test fails when they are stale); the rest is kept by
# hand. Checked by `python -m mypy.stubtest ssot` in CI.

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
    "BackupEvidence",
    "BackupRecorded",
    "BackupSectionFacts",
    "build_report",
    "Check",
    "CommandResult",
    "Config",
    "ContractReport",
    "ContractSectionFacts",
    "Decision",
    "DiskSectionFacts",
    "DiskTargetFacts",
    "DrDrillRecorded",
    "DrDrillSectionFacts",
    "evaluate_contract",
    "evaluate_gate",
    "evaluate_wal",
    "gate",
    "GateCounts",
    "GateDenial",
    "GatesSectionFacts",
    "Hold",
    "Invariant",
    "Limitation",
    "LimitationsSectionFacts",
    "plan_retention",
    "PostgresSectionFacts",
    "Report",
    "RestoreDrillEvidence",
    "RestoreDrillRecorded",
    "RestoreDrillSectionFacts",
    "RetentionPlan",
    "RetentionProfileFacts",
    "RetentionSectionFacts",
    "Section",
    "SlotFacts",
    "Ssot",
    "StageCheck",
    "StageChecks",
    "StageFact",
    "StagesSectionFacts",
    "Status",
    "VerifiedArtifact",
    "VerifyOutcome",
    "VolumeReport",
    "VolumeUse",
    "WalCheck",
    "WalDir",
    "WalReason",
    "WalReport",
    "WalSectionFacts",
    "__version__",
    "_raise_core_error",
    "_result_schemas",
    "_result_stubs",
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

# --- generated from the core's schema by ssot-py/stubgen.py: do not edit ---

@final
class ArtifactDecision:
    """One artifact's fate."""
    @property
    def action(self) -> Action:
        """Keep or delete."""
    @property
    def created_at(self) -> datetime:
        """Creation time."""
    @property
    def group(self) -> str:
        """Its group (one shared text per group of a plan)."""
    @property
    def id(self) -> str:
        """The artifact id."""
    @property
    def reasons(self) -> List[str]:
        """Every reason, in the order they were found."""
    @property
    def size_bytes(self) -> Optional[int]:
        """Size, when known."""
    @property
    def state(self) -> ArtifactState:
        """State."""

@final
class BackupEvidence:
    """A backup that ran."""
    @property
    def artifact(self) -> str:
        """The artifact (file name or id)."""
    @property
    def finished_at(self) -> datetime:
        """When it finished."""
    @property
    def format(self) -> Optional[str]:
        """The format recognised, and how it was checked."""
    @property
    def kind(self) -> str:
        """`dump` (pg_dump), `basebackup`, ..."""
    @property
    def location(self) -> str:
        """Where it was written (directory or URI)."""
    @property
    def recorded_by(self) -> str:
        """Who ran it."""
    @property
    def result(self) -> BackupResult:
        """Outcome."""
    @property
    def separate_from_pgdata(self) -> Optional[bool]:
        """Whether the location was on a different filesystem from every
        protected volume (PGDATA, pg_wal, the state directory), if checked."""
    @property
    def sha256(self) -> Optional[str]:
        """SHA-256 of its content, measured when it was recorded (local backups)."""
    @property
    def size_bytes(self) -> Optional[int]:
        """Size, if known."""
    @property
    def started_at(self) -> Optional[datetime]:
        """When it started, if known."""
    @property
    def warnings(self) -> List[str]:
        """What was worth saying but did not refuse it."""

@final
class BackupSectionFacts:
    """What the `backup` section read from `backup.status`: the newest
    complete backup and the latest attempt's result."""
    @property
    def age_seconds(self) -> Optional[int]:
        """How long before the report that was, in seconds (negative: dated in the future)."""
    @property
    def artifact(self) -> Optional[str]:
        """Its artifact."""
    @property
    def kind(self) -> Optional[str]:
        """Its kind."""
    @property
    def last_attempt_at(self) -> Optional[datetime]:
        """When the latest attempt, whatever its result, finished."""
    @property
    def last_complete_at(self) -> Optional[datetime]:
        """When the newest complete backup finished."""
    @property
    def last_result(self) -> Optional[BackupResult]:
        """How the latest attempt ended."""
    @property
    def location(self) -> Optional[str]:
        """Where it is."""
    @property
    def max_age_seconds(self) -> float:
        """The backup RPO: how old the newest complete backup may be, in seconds."""
    @property
    def recency(self) -> Optional[str]:
        """The record's date against the backup RPO (`None`: no record)."""
    @property
    def separate_from_pgdata(self) -> Optional[bool]:
        """Whether it is on another filesystem than PGDATA, pg_wal and the
        state directory (`None`: unknown)."""
    @property
    def size_bytes(self) -> Optional[int]:
        """Its size."""

@final
class Check:
    """One condition a decision checked."""
    @property
    def message(self) -> str:
        """What was found, naming files, values and thresholds."""
    @property
    def passed(self) -> bool:
        """Whether it holds."""
    @property
    def rule(self) -> str:
        """Stable id of the condition (`wal_status_fresh`, `separate_filesystem`, ...)."""

@final
class ContractSectionFacts:
    """What the `contract` section read from `contract.status` (empty when it
    cannot be read)."""
    @property
    def checked_at(self) -> Optional[datetime]:
        """When `ssot contract check` recorded it."""
    @property
    def invariants(self) -> Dict[str, InvariantStatus]:
        """Each invariant's status, by id."""
    @property
    def messages(self) -> Dict[str, str]:
        """Why an invariant failed or is unknown, by id."""
    @property
    def untrusted(self) -> Optional[str]:
        """Why the recorded result does not count (too old, dated in the future)."""
    @property
    def verdict(self) -> Optional[ContractStatus]:
        """The recorded verdict."""

@final
class DiskSectionFacts:
    """What the `disk` section measured: one entry per configured target."""
    @property
    def targets(self) -> List[DiskTargetFacts]:
        """The targets, in the configuration's order."""

@final
class DiskTargetFacts:
    """One operation's target and its disk guard."""
    @property
    def advice(self) -> Optional[str]:
        """What to do about the first failed check."""
    @property
    def available_bytes(self) -> Optional[int]:
        """Available bytes on its volume, when measured."""
    @property
    def failures(self) -> List[str]:
        """The failed checks' messages."""
    @property
    def operation(self) -> Operation:
        """The operation that writes there."""
    @property
    def passes(self) -> bool:
        """Whether every check of the disk guard passes."""
    @property
    def path(self) -> str:
        """The target directory."""
    @property
    def total_bytes(self) -> Optional[int]:
        """Size of its volume, when measured."""

@final
class DrDrillSectionFacts:
    """What the `dr_drill` section read from `dr_drill.status`, and the targets."""
    @property
    def age_seconds(self) -> Optional[int]:
        """How long before the report that was, in seconds."""
    @property
    def last_drill_at(self) -> Optional[datetime]:
        """When it ran."""
    @property
    def max_age_seconds(self) -> float:
        """How old the last drill may be, in seconds."""
    @property
    def met(self) -> Optional[bool]:
        """Whether the measured RTO and RPO meet the targets."""
    @property
    def passed(self) -> Optional[bool]:
        """Its recorded result."""
    @property
    def recency(self) -> Optional[str]:
        """The record's date against its limit (`None`: no record)."""
    @property
    def rpo_seconds(self) -> Optional[int]:
        """Its measured RPO."""
    @property
    def rpo_target_seconds(self) -> float:
        """The RPO a drill must meet, in seconds."""
    @property
    def rto_seconds(self) -> Optional[int]:
        """Its measured RTO."""
    @property
    def rto_target_seconds(self) -> float:
        """The RTO a drill must meet, in seconds."""
    @property
    def scenario(self) -> Optional[str]:
        """The last drill's scenario."""

@final
class GateCounts:
    """One operation's decisions within the recent window."""
    @property
    def allowed(self) -> int:
        """Decisions that allowed it."""
    @property
    def denied(self) -> int:
        """Decisions that denied it."""
    @property
    def operation(self) -> Operation:
        """The operation."""

@final
class GateDenial:
    """A denial that is the latest decision of its operation."""
    @property
    def current(self) -> bool:
        """Whether it blocks the operation now (recent, and for the configured target)."""
    @property
    def decided_at(self) -> datetime:
        """When."""
    @property
    def operation(self) -> Operation:
        """The operation denied."""
    @property
    def reasons(self) -> List[str]:
        """The failed checks' messages."""
    @property
    def target(self) -> Optional[str]:
        """The target it was asked for."""

@final
class GatesSectionFacts:
    """What the `gates` section read from `gate.log`."""
    @property
    def blocked(self) -> List[Operation]:
        """Operations whose latest decision for the configured target is a
        recent denial: blocked now."""
    @property
    def denials(self) -> List[GateDenial]:
        """The denials that are the latest decision of their operation: the
        blocking ones first, then older ones or ones of another target."""
    @property
    def future_dated(self) -> int:
        """Decisions dated after the report (not counted)."""
    @property
    def log_truncated(self) -> bool:
        """Whether only the tail of `gate.log` was read."""
    @property
    def recent(self) -> List[GateCounts]:
        """Decisions within the window, per operation (every operation, once
        `gate.log` holds a decision; empty before)."""
    @property
    def recent_window_seconds(self) -> float:
        """The window decisions are counted in (`report.recent_window`), in seconds."""
    @property
    def unparsed_lines(self) -> int:
        """Lines of `gate.log` that are not decisions."""

@final
class Invariant:
    """One checked claim."""
    @property
    def evidence(self) -> List[str]:
        """The facts it rests on: arguments, rows, process lines, each with its source."""
    @property
    def id(self) -> str:
        """Stable id (`sts.max_wal_size`, `runtime.wal_keep_size`, `processes.no_archiver`, ...)."""
    @property
    def message(self) -> str:
        """What was found, naming values on both sides of a disagreement."""
    @property
    def status(self) -> InvariantStatus:
        """Outcome."""

@final
class Limitation:
    """A declared limitation and what the facts say about it."""
    @property
    def evidence(self) -> List[str]:
        """Facts consulted."""
    @property
    def message(self) -> str:
        """Explanation."""
    @property
    def name(self) -> str:
        """`pitr`, `wal_archive`, `pg_basebackup`, `offsite_backup`, `ha_replication`, `sla_rpo_rto`, `fs_quota`."""
    @property
    def status(self) -> LimitationStatus:
        """Outcome."""

@final
class LimitationsSectionFacts:
    """What the `limitations` section read from `contract.status`."""
    @property
    def limitations(self) -> Dict[str, LimitationStatus]:
        """Each declared limitation's status, by name (empty when unchecked)."""

@final
class PostgresSectionFacts:
    """What the live probe saw (`up` false and nothing else when it could not)."""
    @property
    def archived_count(self) -> Optional[int]:
        """`pg_stat_archiver.archived_count`."""
    @property
    def archiver_failing(self) -> Optional[bool]:
        """Whether the archiver's last attempt failed within `wal.growth_window`."""
    @property
    def archiver_running(self) -> Optional[bool]:
        """Whether an archiver process runs."""
    @property
    def failed_count(self) -> Optional[int]:
        """`pg_stat_archiver.failed_count`."""
    @property
    def in_recovery(self) -> Optional[bool]:
        """`pg_is_in_recovery()`: a standby."""
    @property
    def last_failed_wal(self) -> Optional[str]:
        """The last WAL file the archiver failed on."""
    @property
    def server(self) -> str:
        """The server, as given (any password masked)."""
    @property
    def slots(self) -> List[SlotFacts]:
        """The replication slots."""
    @property
    def up(self) -> bool:
        """Whether the probe answered."""
    @property
    def version(self) -> Optional[int]:
        """`server_version_num`."""
    @property
    def wal_bytes(self) -> Optional[int]:
        """Bytes in pg_wal as `pg_ls_waldir()` counts them."""
    @property
    def wal_segments(self) -> Optional[int]:
        """WAL segment files `pg_ls_waldir()` lists."""

@final
class RestoreDrillEvidence:
    """A restore drill that ran."""
    @property
    def artifact(self) -> str:
        """The backup artifact restored."""
    @property
    def finished_at(self) -> datetime:
        """When it finished."""
    @property
    def notes(self) -> str:
        """Free text (control characters escaped, bounded: [`sanitize_notes`])."""
    @property
    def passed(self) -> bool:
        """Whether the restored database came up and checked out."""
    @property
    def recorded_by(self) -> str:
        """Who ran it."""
    @property
    def sha256(self) -> Optional[str]:
        """On a pass: the SHA-256 of the backup the drill restored (its
        recorded checksum, still matching), which a `.verified` marker must
        name; `None` for a remote backup."""
    @property
    def started_at(self) -> Optional[datetime]:
        """When it started, if known."""
    @property
    def verified_until(self) -> Optional[datetime]:
        """On a pass: until when the backup counts as verified."""

@final
class RestoreDrillSectionFacts:
    """What the `restore_drill` section read from `restore_drill.status`."""
    @property
    def last_artifact(self) -> Optional[str]:
        """The artifact the latest drill restored."""
    @property
    def last_drill_at(self) -> Optional[datetime]:
        """When the latest drill ran, whatever its result."""
    @property
    def last_pass_age_seconds(self) -> Optional[int]:
        """How long before the report it ran, in seconds."""
    @property
    def last_pass_artifact(self) -> Optional[str]:
        """The artifact it restored."""
    @property
    def last_pass_at(self) -> Optional[datetime]:
        """When the last passed drill ran."""
    @property
    def last_passed(self) -> Optional[bool]:
        """Whether the latest drill passed."""
    @property
    def max_age_seconds(self) -> float:
        """How old the last passed drill may be, in seconds."""
    @property
    def recency(self) -> Optional[str]:
        """The record's date against its limit (`None`: no record)."""
    @property
    def verified(self) -> List[VerifiedArtifact]:
        """Artifacts verified by a drill, newest first."""

@final
class RetentionProfileFacts:
    """One profile's last apply."""
    @property
    def age_seconds(self) -> Optional[int]:
        """How long before the report that was, in seconds."""
    @property
    def applied_at(self) -> Optional[datetime]:
        """When it was last applied (`None`: never)."""
    @property
    def freed_bytes(self) -> Optional[int]:
        """Bytes it freed."""
    @property
    def kept(self) -> Optional[int]:
        """Artifacts it kept."""
    @property
    def overdue(self) -> bool:
        """Whether that is longer ago than `max_age_seconds` allows."""
    @property
    def profile(self) -> str:
        """The profile."""
    @property
    def warnings(self) -> List[str]:
        """Its warnings."""

@final
class RetentionSectionFacts:
    """What the `retention` section read from `retention.status`."""
    @property
    def max_age_seconds(self) -> float:
        """How old a profile's last apply may be, in seconds."""
    @property
    def profiles(self) -> List[RetentionProfileFacts]:
        """Each configured profile (`retention.profiles`), in order; empty when
        `retention.status` cannot be read."""

@final
class Section:
    """One concern of the report."""
    @property
    def action(self) -> Optional[str]:
        """What to do about it, when the status is not OK and ssot knows."""
    @property
    def details(self) -> List[str]:
        """Supporting lines (failures first)."""
    @property
    def facts(self) -> Union[WalSectionFacts, DiskSectionFacts, GatesSectionFacts, RetentionSectionFacts, BackupSectionFacts, RestoreDrillSectionFacts, DrDrillSectionFacts, ContractSectionFacts, StagesSectionFacts, LimitationsSectionFacts, PostgresSectionFacts]:
        """What it measured; its metrics are read from these."""
    @property
    def name(self) -> str:
        """`wal`, `disk`, `gates`, `retention`, `backup`, `restore_drill`, `dr_drill`, `contract`, `stages`, `limitations`, `postgres`."""
    @property
    def status(self) -> Verdict:
        """Its health."""
    @property
    def summary(self) -> str:
        """One line for a person; when the status is not OK it leads with the
        problem, never with a healthy-looking fact."""

@final
class SlotFacts:
    """One replication slot."""
    @property
    def active(self) -> bool:
        """`active`."""
    @property
    def name(self) -> str:
        """`slot_name`."""
    @property
    def retained_bytes(self) -> Optional[int]:
        """WAL bytes it holds back, when known."""
    @property
    def safe_wal_size(self) -> Optional[int]:
        """`safe_wal_size`: bytes before it is invalidated (`None`: unlimited or unknown)."""
    @property
    def wal_status(self) -> Optional[str]:
        """`wal_status`, when known."""

@final
class StageCheck:
    """A claim checked against the evidence."""
    @property
    def claimed(self) -> Claim:
        """Claimed status."""
    @property
    def consistent(self) -> bool:
        """Whether the evidence backs the claim."""
    @property
    def final(self) -> bool:
        """Marked final in the seed."""
    @property
    def id(self) -> str:
        """Stage id."""
    @property
    def message(self) -> str:
        """One line."""
    @property
    def met(self) -> List[str]:
        """Criteria met, with what met them."""
    @property
    def missing(self) -> List[str]:
        """Criteria not met, with why."""
    @property
    def title(self) -> str:
        """Title."""

@final
class StageFact:
    """One stage's claim and whether the evidence backs it."""
    @property
    def claimed(self) -> Claim:
        """Its claimed status."""
    @property
    def consistent(self) -> bool:
        """Whether the evidence backs the claim."""
    @property
    def id(self) -> str:
        """The stage id."""

@final
class StagesSectionFacts:
    """What the `stages` section checked: each claim of the stage registry."""
    @property
    def stages(self) -> List[StageFact]:
        """Each stage, in the registry's order (details in the report's `stages`)."""

@final
class VerifiedArtifact:
    """An artifact a restore drill verified."""
    @property
    def artifact(self) -> str:
        """The artifact."""
    @property
    def expired(self) -> bool:
        """Whether that is past."""
    @property
    def until(self) -> Optional[datetime]:
        """Until when it counts as verified (`None`: no expiry recorded)."""

@final
class VolumeReport:
    """The report on one [`WatchedVolume`]."""
    @property
    def available_bytes(self) -> int:
        """Available bytes."""
    @property
    def df_used_pct(self) -> Optional[float]:
        """Used % as `df` shows it, when known."""
    @property
    def growth_bytes_per_second(self) -> Optional[float]:
        """Fill rate over its recent run, bytes per second."""
    @property
    def holds(self) -> str:
        """What it holds."""
    @property
    def key(self) -> str:
        """Its key."""
    @property
    def seconds_to_error(self) -> Optional[float]:
        """Predicted seconds until its error threshold."""
    @property
    def total_bytes(self) -> int:
        """Total bytes."""
    @property
    def used_pct(self) -> float:
        """Used % as the thresholds read it, rounded down to 0.01."""

@final
class VolumeUse:
    """The used share of one volume the cluster writes."""
    @property
    def used_pct(self) -> float:
        """Used %."""
    @property
    def volume(self) -> str:
        """Its key (`pgdata`, a tablespace's)."""

@final
class WalDir:
    """`pg_ls_waldir()`: what PostgreSQL itself counts in pg_wal."""
    @property
    def bytes(self) -> int:
        """`sum(size)`."""
    @property
    def segments(self) -> int:
        """Files named like WAL segments."""

@final
class WalReason:
    """One fired rule: which, how bad, the measured value and the threshold."""
    @property
    def held(self) -> bool:
        """True when the value no longer crosses the threshold but has not cleared
        it by the hysteresis margin, so the previous state is held."""
    @property
    def level(self) -> WalStatus:
        """The level this rule asserts."""
    @property
    def message(self) -> str:
        """One sentence for a person, naming value and threshold."""
    @property
    def rule(self) -> str:
        """Stable rule id (`wal_over_soft_limit`, `slot_lost`, ...; see the module docs)."""
    @property
    def threshold(self) -> Optional[float]:
        """The threshold it was compared with, in `unit`."""
    @property
    def unit(self) -> Optional[str]:
        """`percent`, `bytes`, `seconds` or `count`."""
    @property
    def value(self) -> Optional[float]:
        """The measured value, in `unit`."""

@final
class WalSectionFacts:
    """What the `wal` section read from `wal.status` (all `None` when it could
    not be used), and the limit it is judged by."""
    @property
    def checked_age_seconds(self) -> Optional[int]:
        """How long before the report that was, in seconds."""
    @property
    def checked_at(self) -> Optional[datetime]:
        """When `ssot wal check` recorded it."""
    @property
    def max_age_seconds(self) -> float:
        """How old `wal.status` may be (`gate.wal_max_age`), in seconds."""
    @property
    def ready_count(self) -> Optional[int]:
        """`archive_status/*.ready` files."""
    @property
    def reasons(self) -> List[str]:
        """The recorded reasons (`LEVEL rule: message`), worst first."""
    @property
    def safe_wal_size_bytes(self) -> Optional[int]:
        """The smallest `safe_wal_size` among the replication slots the check
        saw: bytes of WAL that can still be written before a slot is lost
        (negative: already past); absent when no slot reports one."""
    @property
    def seconds_to_error(self) -> Optional[float]:
        """Predicted seconds until the volume reaches the error threshold at the
        current rate; absent when not growing or not enough samples."""
    @property
    def segment_count(self) -> Optional[int]:
        """WAL segment files in pg_wal."""
    @property
    def soft_limit_bytes(self) -> Optional[int]:
        """What PostgreSQL normally keeps in pg_wal ([`WalSettings::normal_ceiling`]),
        the threshold of `wal_over_soft_limit`."""
    @property
    def status(self) -> Optional[WalStatus]:
        """The recorded WAL status."""
    @property
    def threshold_pct(self) -> Optional[float]:
        """The NEAR_LIMIT threshold on `wal_used_pct` (seed field)."""
    @property
    def untrusted(self) -> Optional[str]:
        """Why the record is not trusted (too old, dated in the future)."""
    @property
    def volume_available_bytes(self) -> Optional[int]:
        """Available bytes of that volume."""
    @property
    def volume_growth_bytes_per_second(self) -> Optional[float]:
        """Growth of the volume's used bytes over the window, bytes per second."""
    @property
    def volume_total_bytes(self) -> Optional[int]:
        """Total bytes of the volume holding pg_wal."""
    @property
    def volumes(self) -> List[VolumeUse]:
        """Each other volume the cluster writes (PGDATA's, a tablespace's)."""
    @property
    def wal_growth_bytes_per_second(self) -> Optional[float]:
        """pg_wal growth over the window, bytes per second (negative when shrinking)."""
    @property
    def wal_size(self) -> Optional[int]:
        """pg_wal bytes (seed field `wal_size`); absent if the measurement failed."""
    @property
    def wal_used_pct(self) -> Optional[float]:
        """Used % of the volume holding pg_wal, rounded down to 0.01 (seed field)."""

@final
class WalReport:
    """A WAL status from the pure evaluator."""
    @property
    def checked_at(self) -> datetime:
        """The evaluation time (`now`)."""
    @property
    def df_used_pct(self) -> Optional[float]:
        """Used % of the volume holding pg_wal as `df` shows it (root-reserved
        blocks left out), beside `wal_used_pct`, which the thresholds use."""
    @property
    def ready_count(self) -> Optional[int]:
        """`archive_status/*.ready` files."""
    @property
    def reasons(self) -> List[WalReason]:
        """Every rule that fired, worst first."""
    @property
    def safe_wal_size_bytes(self) -> Optional[int]:
        """The smallest `safe_wal_size` among the replication slots the check
        saw: bytes of WAL that can still be written before a slot is lost
        (negative: already past); absent when no slot reports one."""
    @property
    def samples_in_window(self) -> int:
        """Samples (including this one) within the growth window."""
    @property
    def seconds_to_error(self) -> Optional[float]:
        """Predicted seconds until the volume reaches the error threshold at the
        current rate; absent when not growing or not enough samples."""
    @property
    def segment_count(self) -> Optional[int]:
        """WAL segment files in pg_wal."""
    @property
    def soft_limit_bytes(self) -> int:
        """What PostgreSQL normally keeps in pg_wal ([`WalSettings::normal_ceiling`]),
        the threshold of `wal_over_soft_limit`."""
    @property
    def status(self) -> WalStatus:
        """The worst level among the reasons; `OK` when none fired."""
    @property
    def threshold_pct(self) -> float:
        """The NEAR_LIMIT threshold on `wal_used_pct` (seed field)."""
    @property
    def volume_available_bytes(self) -> Optional[int]:
        """Available bytes of that volume."""
    @property
    def volume_growth_bytes_per_second(self) -> Optional[float]:
        """Growth of the volume's used bytes over the window, bytes per second."""
    @property
    def volume_total_bytes(self) -> Optional[int]:
        """Total bytes of the volume holding pg_wal."""
    @property
    def volumes(self) -> List[VolumeReport]:
        """The other volumes the cluster writes (PGDATA's, tablespaces')."""
    @property
    def wal_growth_bytes_per_second(self) -> Optional[float]:
        """pg_wal growth over the window, bytes per second (negative when shrinking)."""
    @property
    def wal_size(self) -> Optional[int]:
        """pg_wal bytes (seed field `wal_size`); absent if the measurement failed."""
    @property
    def wal_used_pct(self) -> Optional[float]:
        """Used % of the volume holding pg_wal, rounded down to 0.01 (seed field)."""
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
    def checked_at(self) -> datetime:
        """The evaluation time (`now`)."""
    @property
    def df_used_pct(self) -> Optional[float]:
        """Used % of the volume holding pg_wal as `df` shows it (root-reserved
        blocks left out), beside `wal_used_pct`, which the thresholds use."""
    @property
    def notes(self) -> List[str]:
        """Things an operator should know that did not change the status."""
    @property
    def pg_ls_waldir(self) -> Optional[WalDir]:
        """What `pg_ls_waldir()` counted, when the server was probed."""
    @property
    def pg_wal(self) -> Optional[Path]:
        """pg_wal as resolved (through a symlink, if any)."""
    @property
    def ready_count(self) -> Optional[int]:
        """`archive_status/*.ready` files."""
    @property
    def reasons(self) -> List[WalReason]:
        """Every rule that fired, worst first."""
    @property
    def safe_wal_size_bytes(self) -> Optional[int]:
        """The smallest `safe_wal_size` among the replication slots the check
        saw: bytes of WAL that can still be written before a slot is lost
        (negative: already past); absent when no slot reports one."""
    @property
    def samples_in_window(self) -> int:
        """Samples (including this one) within the growth window."""
    @property
    def seconds_to_error(self) -> Optional[float]:
        """Predicted seconds until the volume reaches the error threshold at the
        current rate; absent when not growing or not enough samples."""
    @property
    def segment_count(self) -> Optional[int]:
        """WAL segment files in pg_wal."""
    @property
    def settings_source(self) -> str:
        """Where the declared WAL settings came from."""
    @property
    def soft_limit_bytes(self) -> int:
        """What PostgreSQL normally keeps in pg_wal ([`WalSettings::normal_ceiling`]),
        the threshold of `wal_over_soft_limit`."""
    @property
    def status(self) -> WalStatus:
        """The worst level among the reasons; `OK` when none fired."""
    @property
    def threshold_pct(self) -> float:
        """The NEAR_LIMIT threshold on `wal_used_pct` (seed field)."""
    @property
    def volume_available_bytes(self) -> Optional[int]:
        """Available bytes of that volume."""
    @property
    def volume_growth_bytes_per_second(self) -> Optional[float]:
        """Growth of the volume's used bytes over the window, bytes per second."""
    @property
    def volume_total_bytes(self) -> Optional[int]:
        """Total bytes of the volume holding pg_wal."""
    @property
    def volumes(self) -> List[VolumeReport]:
        """The other volumes the cluster writes (PGDATA's, tablespaces')."""
    @property
    def wal_growth_bytes_per_second(self) -> Optional[float]:
        """pg_wal growth over the window, bytes per second (negative when shrinking)."""
    @property
    def wal_size(self) -> Optional[int]:
        """pg_wal bytes (seed field `wal_size`); absent if the measurement failed."""
    @property
    def wal_used_pct(self) -> Optional[float]:
        """Used % of the volume holding pg_wal, rounded down to 0.01 (seed field)."""
    @property
    def report(self) -> WalReport:
        """The report."""
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
    def allowed(self) -> bool:
        """True only when every check passed."""
    @property
    def decided_at(self) -> datetime:
        """When the decision was made."""
    @property
    def operation(self) -> Operation:
        """The operation asked about."""
    @property
    def reasons(self) -> List[Check]:
        """Every check, failed ones first."""
    @property
    def target(self) -> Optional[str]:
        """The target directory judged, for an operation that writes one."""
    @property
    def denials(self) -> List[Check]:
        """The checks that failed."""
    def raise_if_denied(self) -> None:
        """Raises `ssot.GateDenied` (with this decision) unless allowed."""
    def __bool__(self) -> bool: ...
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
        """sha256 of the decisions (group, id, action), hex."""
    @property
    def refused(self) -> Optional[str]:
        """Set when the plan must not be applied (e.g. over `max_delete`)."""
    @property
    def warnings(self) -> List[str]:
        """Things a person should look at before applying."""
    @property
    def now(self) -> datetime:
        """The evaluation time."""
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
    def applied(self) -> bool:
        """True when deletions were carried out."""
    @property
    def deleted(self) -> List[str]:
        """Ids deleted, oldest first."""
    @property
    def dry_run(self) -> bool:
        """True when nothing was deleted because no confirmation was given."""
    @property
    def recovered(self) -> List[str]:
        """Leftovers of an interrupted earlier run that were cleaned up first."""
    @property
    def refused(self) -> Optional[str]:
        """Why the plan was not applied, if it was not."""
    @property
    def resumed(self) -> Optional[str]:
        """Hash of the reviewed plan this run continued or found already applied, if any."""
    @property
    def plan(self) -> RetentionPlan:
        """The plan that was (or would be) applied."""
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
    def checked_at(self) -> datetime:
        """When it was evaluated."""
    @property
    def deployment(self) -> Deployment:
        """The deployment checked: `host` or `kubernetes`."""
    @property
    def invariants(self) -> List[Invariant]:
        """Every invariant."""
    @property
    def limitations(self) -> List[Limitation]:
        """Every declared limitation."""
    @property
    def status(self) -> ContractStatus:
        """`PASS` when nothing fails and nothing is unknown, `FAIL` when anything fails, else `UNKNOWN`."""
    @property
    def failed(self) -> List[str]:
        """The ids of the failed invariants."""
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
    def __len__(self) -> int: ...
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

@final
class BackupRecorded:
    """A backup recorded in `backup.status`."""
    @property
    def artifact(self) -> str:
        """The artifact (file name or id)."""
    @property
    def evidence(self) -> BackupEvidence:
        """What was recorded: the location resolved, the size measured, whether
        it is on another filesystem than PGDATA."""
    @property
    def finished_at(self) -> datetime:
        """When it finished."""
    @property
    def format(self) -> Optional[str]:
        """The format recognised, and how it was checked."""
    @property
    def kind(self) -> str:
        """`dump` (pg_dump), `basebackup`, ..."""
    @property
    def location(self) -> str:
        """Where it was written (directory or URI)."""
    @property
    def recorded_by(self) -> str:
        """Who ran it."""
    @property
    def result(self) -> BackupResult:
        """Outcome."""
    @property
    def separate_from_pgdata(self) -> Optional[bool]:
        """Whether the location was on a different filesystem from every
        protected volume (PGDATA, pg_wal, the state directory), if checked."""
    @property
    def sha256(self) -> Optional[str]:
        """SHA-256 of its content, measured when it was recorded (local backups)."""
    @property
    def size_bytes(self) -> Optional[int]:
        """Size, if known."""
    @property
    def started_at(self) -> Optional[datetime]:
        """When it started, if known."""
    @property
    def state_file(self) -> str:
        """Where it was recorded."""
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
    def failed(self) -> int:
        """How many failed."""
    @property
    def state_file(self) -> str:
        """Where the findings were recorded."""
    @property
    def checks(
        self,
    ) -> List[Tuple[str, str, VerifyResult, Optional[str]]]:
        """One `(artifact, location, result, problem)` per recorded backup;
        `result` is a `VerifyResult`."""
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
        """The backup artifact restored."""
    @property
    def evidence(self) -> RestoreDrillEvidence:
        """What was recorded."""
    @property
    def finished_at(self) -> datetime:
        """When it finished."""
    @property
    def marked_verified(self) -> Optional[Path]:
        """The `.verified` sidecar written, if one was asked for and the drill passed."""
    @property
    def notes(self) -> str:
        """Free text (control characters escaped, bounded: [`sanitize_notes`])."""
    @property
    def passed(self) -> bool:
        """Whether the restored database came up and checked out."""
    @property
    def recorded_by(self) -> str:
        """Who ran it."""
    @property
    def result(self) -> str:
        """pass or fail."""
    @property
    def sha256(self) -> Optional[str]:
        """On a pass: the SHA-256 of the backup the drill restored (its
        recorded checksum, still matching), which a `.verified` marker must
        name; `None` for a remote backup."""
    @property
    def started_at(self) -> Optional[datetime]:
        """When it started, if known."""
    @property
    def verified_until(self) -> Optional[datetime]:
        """On a pass: until when the backup counts as verified."""
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
    def passed(self) -> bool:
        """Both within target."""
    @property
    def rpo_seconds(self) -> int:
        """`newest_data_before − newest_data_after`, seconds (0 when nothing was lost)."""
    @property
    def rpo_target_seconds(self) -> int:
        """RPO target, seconds."""
    @property
    def rto_seconds(self) -> int:
        """`restored_at − t0`, seconds."""
    @property
    def rto_target_seconds(self) -> int:
        """RTO target, seconds."""
    @property
    def scenario(self) -> str:
        """What was simulated."""
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
    def generated_at(self) -> datetime:
        """When it was built."""
    @property
    def headline(self) -> str:
        """One line for 3 a.m.: the verdict, the worst finding and the first
        thing to do (`OK: nothing to do` when all is well). See [`headline`]."""
    @property
    def restore_drill(self) -> Dict[str, str]:
        """Facts for the restore-drill marker (`last_pass_at`, `artifact`, `result`)."""
    @property
    def sections(self) -> List[Section]:
        """Every section, in a fixed order."""
    @property
    def stages(self) -> List[StageCheck]:
        """The stage registry evaluated."""
    @property
    def verdict(self) -> Verdict:
        """The worst section status."""
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

# --- end of the generated classes ---

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
def _result_stubs() -> str: ...
def _result_schemas() -> Dict[str, Any]: ...
