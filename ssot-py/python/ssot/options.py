"""The dicts ssot takes, as ``TypedDict`` classes: policies, configuration sections,
retention sources, inline inputs.

They name the keys the core accepts (the CLI's JSON and ``ssot.toml`` names),
so an editor completes them and ``mypy`` reports a typo'd key (the core
refuses one too, at run time: every policy refuses unknown keys). At run
time they are plain dicts; a dict loaded from JSON is accepted as it is.
Every key is optional unless said otherwise; what is left out keeps its
default. Times are an aware ``datetime`` or RFC 3339 text, durations a
``timedelta`` or ``"7d"``/``"36h"``/``"90min"``, sizes bytes or ``"2GB"``.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any, Dict, List, Literal, Mapping, Optional, Sequence, TypedDict, Union

from ssot.enums import ArtifactState, Deployment, WalStatus

__all__ = [
    "Artifact",
    "ConfigDict",
    "ContractConfig",
    "ContractInputs",
    "DiskPolicy",
    "EvidencePolicy",
    "GateFacts",
    "GateConfig",
    "GatePolicy",
    "GateTargets",
    "InlineText",
    "PostgresConfig",
    "PreviousStatus",
    "ReportConfig",
    "RetentionPolicy",
    "RetentionProfile",
    "RetentionSource",
    "StateFile",
    "WalFacts",
    "WalPolicy",
]

_Path = Union[str, "os.PathLike[str]"]
_Time = Union[datetime, str]
_Duration = Union[timedelta, str]
_Size = Union[int, str]


class RetentionPolicy(TypedDict, total=False):
    """A retention policy (``[retention.NAME]``, ``retention plan``'s flags,
    restic's ``forget`` options). Rules combine: a rule keeps, floors
    override deletes. Counts are ``-1`` for every bucket. The keys are the
    core's retention knobs, in their order, generated from their declaration
    (``SSOT_BLESS=1 cargo test --test knobs`` rewrites them)."""

    # --- generated from ssot_core::retention_knobs! (tests/knobs.rs): do not edit ---
    keep_last: int
    """Keep the newest N artifacts (restic --keep-last; -1: all)."""
    keep_hourly: int
    """Keep the newest artifact of each of the last N hours that have one (-1: every hour)."""
    keep_daily: int
    """Keep the newest artifact of each of the last N days that have one (-1: every day)."""
    keep_weekly: int
    """Keep the newest artifact of each of the last N ISO weeks that have one (-1: every week)."""
    keep_monthly: int
    """Keep the newest artifact of each of the last N months that have one (-1: every month)."""
    keep_yearly: int
    """Keep the newest artifact of each of the last N years that have one (-1: every year)."""
    keep_within: _Duration
    """Keep everything created within DURATION of the newest artifact (restic duration, e.g. 2d12h or 1y5m7d2h)."""
    keep_within_hourly: _Duration
    """Keep the newest artifact of each hour within DURATION of the newest artifact."""
    keep_within_daily: _Duration
    """Keep the newest artifact of each day within DURATION of the newest artifact."""
    keep_within_weekly: _Duration
    """Keep the newest artifact of each ISO week within DURATION of the newest artifact."""
    keep_within_monthly: _Duration
    """Keep the newest artifact of each month within DURATION of the newest artifact."""
    keep_within_yearly: _Duration
    """Keep the newest artifact of each year within DURATION of the newest artifact."""
    max_age: _Duration
    """Delete complete artifacts older than now − AGE (e.g. 7d) unless another rule keeps them."""
    recovery_window: _Duration
    """Barman: keep all within now − WINDOW plus the newest one before it."""
    min_keep: int
    """Never delete the newest N complete artifacts of a group."""
    min_verified: int
    """Never delete the newest N verified artifacts; warn if fewer would remain."""
    max_total_size: _Size
    """Per-group size budget, e.g. 50GB: evict unprotected artifacts until the group fits."""
    partial_grace: _Duration
    """Delete partial and failed artifacts once older than AGE [default: 1d]."""
    timezone: str
    """IANA time zone for bucket boundaries and names [default: UTC]."""
    max_delete: Union[int, str]
    """Refuse a plan that deletes more than N or N% of the artifacts."""
    keep_tags: Sequence[Sequence[str]]
    """Keep every artifact that has all of these tags (restic --keep-tag; repeat for alternatives)."""
    restic_compat: Literal["current", "0.14"]
    """Bucket semantics: current (today's restic, the default) or 0.14 (Debian 12's restic)."""
    # --- end of the generated knobs ---


class RetentionProfile(RetentionPolicy, total=False):
    """A named retention profile in the configuration: where its artifacts
    live and their names' date pattern, with the policy's keys."""

    root: str
    pattern: str


class _ArtifactRequired(TypedDict):
    id: str
    created_at: _Time


class Artifact(_ArtifactRequired, total=False):
    """One artifact of a catalog (a backup, a snapshot, a layer); ``id`` and
    ``created_at`` are required."""

    size_bytes: Optional[int]
    state: Union[ArtifactState, Literal["complete", "partial", "failed"]]
    verified: bool
    pinned: bool
    parent: Optional[str]
    group: Optional[str]
    last_used_at: Optional[_Time]
    kind: Optional[str]
    parent_unknown: bool
    tags: Sequence[str]


class _InlineTextRequired(TypedDict):
    text: str


class InlineText(_InlineTextRequired, total=False):
    """An input given as text rather than a path; ``origin`` names it in messages."""

    origin: str


class RetentionSource(TypedDict, total=False):
    """Which artifacts ``Ssot.plan_retention``/``apply_retention`` plan for:
    a profile, a directory, or a catalog (with the ``root`` it lives in)."""

    profile: str
    dir: _Path
    pattern: str
    catalog: Union[_Path, InlineText, Sequence[Artifact]]
    root: _Path
    pgdata: _Path
    policy: RetentionPolicy


class WalPolicy(TypedDict, total=False):
    """The WAL status thresholds (``[wal]``)."""

    volume_near_pct: float
    volume_error_pct: float
    min_free_bytes: _Size
    min_free_fraction: float
    hard_limit_factor: float
    growth_window: _Duration
    growth_min_bytes: _Size
    growth_min_samples: int
    rate_min_span: _Duration
    rate_min_span_fast: _Duration
    near_horizon: _Duration
    error_horizon: _Duration
    hysteresis_fraction: float
    archive_ready_max: int
    history_max_samples: int


class _PreviousStatusRequired(TypedDict):
    status: Union[WalStatus, Literal["OK", "GROWING", "NEAR_LIMIT", "ERROR"]]


class PreviousStatus(_PreviousStatusRequired, total=False):
    """What the previous WAL report concluded, for hysteresis (``status`` required)."""

    active_rules: Sequence[str]


class _VolumeStatsRequired(TypedDict):
    total_bytes: int
    available_bytes: int


class VolumeStats(_VolumeStatsRequired, total=False):
    """A volume's size and the bytes available to PostgreSQL (``free_bytes``: to root too)."""

    free_bytes: Optional[int]


class WatchedVolume(TypedDict):
    """Another volume the cluster writes (PGDATA's, a tablespace's), by key."""

    key: str
    holds: str
    volume: VolumeStats


class WalSettings(TypedDict, total=False):
    """The declared WAL settings (seed defaults when absent)."""

    max_wal_size: _Size
    min_wal_size: _Size
    wal_keep_size: _Size
    wal_segment_size: _Size
    max_slot_wal_keep_size: Optional[_Size]
    archive_mode: bool


class _SlotRequired(TypedDict):
    name: str
    active: bool


class ReplicationSlot(_SlotRequired, total=False):
    """A replication slot, as ``pg_replication_slots`` shows it."""

    wal_status: Optional[Literal["reserved", "extended", "unreserved", "lost"]]
    retained_bytes: Optional[int]
    safe_wal_size: Optional[int]


class _SampleRequired(TypedDict):
    at: _Time
    wal_bytes: int
    volume_used_bytes: int


class WalSample(_SampleRequired, total=False):
    """An earlier measurement, for the growth rules."""

    volumes: Dict[str, int]


class ArchiverStats(TypedDict, total=False):
    """``pg_stat_archiver``."""

    archived_count: int
    last_archived_wal: Optional[str]
    last_archived_time: Optional[_Time]
    failed_count: int
    last_failed_wal: Optional[str]
    last_failed_time: Optional[_Time]


class _LiveRequired(TypedDict):
    server: str


class LiveWalFacts(_LiveRequired, total=False):
    """What a live probe of the server found."""

    unreachable: Optional[str]
    archiver: Optional[ArchiverStats]
    slots_seen_at: Optional[_Time]
    archiver_seen_at: Optional[_Time]
    in_recovery: bool
    wal_segment_size: Optional[int]


class _WalFactsRequired(TypedDict):
    wal_bytes: int
    segment_count: int
    volume: VolumeStats


class WalFacts(_WalFactsRequired, total=False):
    """Everything measured about WAL at one moment (``evaluate_wal``'s facts):
    ``wal_bytes``, ``segment_count`` and ``volume`` are required."""

    ready_count: int
    volumes: Sequence[WatchedVolume]
    settings: WalSettings
    slots: Sequence[ReplicationSlot]
    history: Sequence[WalSample]
    previous: Optional[PreviousStatus]
    live: Optional[LiveWalFacts]


class _StateFileRequired(TypedDict):
    state: Literal["missing", "unreadable", "invalid", "present"]
    path: str


class StateFile(_StateFileRequired, total=False):
    """A state file as found: ``missing``, ``unreadable`` (with ``error``),
    ``invalid`` (with ``problem``) or ``present`` (with its ``content``)."""

    error: str
    problem: str
    content: str


class LockFacts(TypedDict, total=False):
    """The operation lock: who holds it, or why it could not be tried."""

    held_by: Optional[str]
    error: Optional[str]


class _LivenessRequired(TypedDict):
    server: str


class LivenessFacts(_LivenessRequired, total=False):
    """A bounded liveness probe of the server (``SELECT 1``)."""

    error: Optional[str]


class _GateFactsRequired(TypedDict):
    wal_status: StateFile


class GateFacts(_GateFactsRequired, total=False):
    """Everything a gate looks at (``evaluate_gate``'s facts); ``wal_status``
    is required. ``disk`` is the disk guard's facts on the target, as
    ``ssot gate --format json`` shows them."""

    contract_status: Optional[StateFile]
    disk: Optional[Mapping[str, Any]]
    lock: LockFacts
    liveness: Optional[LivenessFacts]


class DiskPolicy(TypedDict, total=False):
    """The disk guard's floors on a target (``[disk]``)."""

    min_free_pct: float
    min_free_bytes: _Size


class GatePolicy(TypedDict, total=False):
    """What ``evaluate_gate`` judges by: freshness limits and the disk floors."""

    wal_max_age: _Duration
    contract_max_age: _Duration
    max_clock_skew: _Duration
    disk: DiskPolicy


class GateTargets(TypedDict, total=False):
    """Where each gated operation writes (``[gate.targets]``; ``""`` removes one)."""

    snapshot: str
    backup: str
    restore: str
    startup: str


class GateConfig(TypedDict, total=False):
    """Gate freshness limits, default targets and ``gate.log``'s rotation (``[gate]``)."""

    wal_max_age: _Duration
    contract_max_age: _Duration
    max_clock_skew: _Duration
    targets: GateTargets
    log_max_bytes: _Size
    log_generations: int


class ContractConfig(TypedDict, total=False):
    """The declared architecture contract (``[contract]``)."""

    max_wal_size: _Size
    min_wal_size: _Size
    wal_keep_size: _Size
    checkpoint_timeout: _Duration
    wal_segment_size: _Size
    archive_mode: bool
    statefulset: str
    namespace: str
    declared_limitations: Sequence[str]
    deployment: Union[Deployment, Literal["auto", "host", "kubernetes"]]


_Text = Union[str, InlineText]


class ContractInputs(TypedDict, total=False):
    """The inputs of ``evaluate_contract``, each as text (or ``InlineText``):
    what ``Ssot.check_contract`` would read from the host or the cluster."""

    statefulset: _Text
    settings: _Text
    processes: _Text
    pvcs: _Text
    active_pvcs: _Text
    auto_conf: _Text
    slots: _Text
    mounts: _Text
    postgresql_conf: _Text
    dsn: str
    pgdata: str


class PostgresConfig(TypedDict, total=False):
    """The PostgreSQL instance ssot watches (``[postgres]``)."""

    pgdata: str
    dsn: str
    config_file: str


class EvidencePolicy(TypedDict, total=False):
    """Limits and targets for backups, restore drills and DR drills (``[evidence]``)."""

    backup_max_age: _Duration
    restore_drill_max_age: _Duration
    dr_drill_max_age: _Duration
    rto_target: _Duration
    rpo_target: _Duration
    size_drop_ratio: float
    size_drop: Literal["refuse", "warn"]
    verified_for: _Duration


class ReportConfig(TypedDict, total=False):
    """``ssot report`` settings (``[report]``)."""

    configmap_name: str
    configmap_namespace: str
    recent_window: _Duration
    retention_max_age: _Duration


class ConfigDict(TypedDict, total=False):
    """A whole configuration as a dict: ``ssot.toml``'s tables as keys."""

    state_dir: str
    postgres: PostgresConfig
    wal: WalPolicy
    disk: DiskPolicy
    gate: GateConfig
    contract: ContractConfig
    retention: Dict[str, RetentionProfile]
    evidence: EvidencePolicy
    report: ReportConfig
    stages: List[Dict[str, Any]]

