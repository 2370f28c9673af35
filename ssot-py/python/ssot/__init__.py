"""ssot: keeps a single-instance PostgreSQL operationally safe and honest about itself.

The same logic as the ``ssot`` CLI (it is the same Rust core), with a Python-shaped API::

    import ssot

    s = ssot.Ssot()                      # /opt/ssot/ssot.toml if present, else the seed defaults
    decision = s.gate("backup")          # fails closed, with every reason
    if not decision.allowed:
        print(decision)                  # the CLI's text
        raise SystemExit(decision.exit_code)

Inputs are plain values with the CLI's JSON field names (so a JSON file loads
straight in); times are aware ``datetime`` or RFC 3339 strings; durations
``"7d"`` or ``timedelta``; paths ``str`` or ``os.PathLike``. Results are
immutable, print as the CLI's text, and give the CLI's JSON with
``to_dict()``/``to_json()``. Every error is an :class:`SsotError`.
"""

from ssot._ssot import (
    ApplyOutcome,
    ArtifactDecision,
    BackupRecorded,
    VerifyOutcome,
    Check,
    CommandResult,
    Config,
    ContractReport,
    Decision,
    DrDrillRecorded,
    Hold,
    Invariant,
    Limitation,
    Report,
    RestoreDrillRecorded,
    RetentionPlan,
    Section,
    Ssot,
    StageCheck,
    StageChecks,
    Status,
    WalCheck,
    WalReason,
    WalReport,
    __version__,
    build_report,
    evaluate_contract,
    evaluate_gate,
    evaluate_wal,
    gate,
    plan_retention,
)
from ssot.errors import (
    ArtifactError,
    ClockRefusedError,
    ConfigError,
    EvidenceRefused,
    GateDenied,
    InputFileError,
    InvalidNameError,
    InvalidValueError,
    LockedError,
    MissingKeyError,
    NotGivenError,
    NotOverwrittenError,
    ParentCycleError,
    PolicyKeyError,
    RequestError,
    SsotError,
    SsotIOError,
    StateFileError,
    StateFileSyntaxError,
    UnitError,
    UnknownProfileError,
    UnreadableError,
    UnsafeFileError,
)

__all__ = [
    "ApplyOutcome",
    "ArtifactDecision",
    "ArtifactError",
    "BackupRecorded",
    "VerifyOutcome",
    "Check",
    "ClockRefusedError",
    "CommandResult",
    "Config",
    "ConfigError",
    "ContractReport",
    "Decision",
    "DrDrillRecorded",
    "EvidenceRefused",
    "GateDenied",
    "Hold",
    "InputFileError",
    "InvalidNameError",
    "InvalidValueError",
    "Invariant",
    "Limitation",
    "LockedError",
    "MissingKeyError",
    "NotGivenError",
    "NotOverwrittenError",
    "ParentCycleError",
    "PolicyKeyError",
    "Report",
    "RequestError",
    "RestoreDrillRecorded",
    "RetentionPlan",
    "Section",
    "Ssot",
    "SsotError",
    "SsotIOError",
    "StageCheck",
    "StageChecks",
    "StateFileError",
    "StateFileSyntaxError",
    "Status",
    "UnitError",
    "UnknownProfileError",
    "UnreadableError",
    "UnsafeFileError",
    "WalCheck",
    "WalReason",
    "WalReport",
    "__version__",
    "build_report",
    "evaluate_contract",
    "evaluate_gate",
    "evaluate_wal",
    "gate",
    "plan_retention",
]
