"""The statuses, verdicts and kinds in ssot's results, as enums.

Each is a ``str`` enum whose values are the CLI's spellings: a member equals
its value (``WalStatus.OK == "OK"``), prints as it (``f"{status}"`` is
``OK``) and serializes as it, so code written against the strings keeps
working. The result classes return members; the extension converts the
core's values to them (nothing is decided here).
"""

from __future__ import annotations

import enum

__all__ = [
    "Action",
    "ArtifactState",
    "BackupResult",
    "Claim",
    "ContractStatus",
    "Deployment",
    "InvariantStatus",
    "LimitationStatus",
    "Operation",
    "Outcome",
    "Verdict",
    "VerifyResult",
    "WalStatus",
]


class _StrEnum(str, enum.Enum):
    """A ``str`` enum that prints and formats as its value."""

    def __str__(self) -> str:
        return str.__str__(self)

    def __format__(self, spec: str) -> str:
        return str.__format__(str.__str__(self), spec)


class WalStatus(_StrEnum):
    """The WAL status (``WalReport.status``) and the level a reason asserts (``WalReason.level``)."""

    OK = "OK"
    GROWING = "GROWING"
    NEAR_LIMIT = "NEAR_LIMIT"
    ERROR = "ERROR"


class Verdict(_StrEnum):
    """The report's verdict and each section's status: the worst section decides."""

    OK = "OK"
    DEGRADED = "DEGRADED"
    DOWN = "DOWN"


class ContractStatus(_StrEnum):
    """The architecture contract's status."""

    PASS = "PASS"
    FAIL = "FAIL"
    UNKNOWN = "UNKNOWN"


class InvariantStatus(_StrEnum):
    """One contract invariant's status."""

    PASS = "pass"
    FAIL = "fail"
    UNKNOWN = "unknown"
    NOT_APPLICABLE = "not_applicable"


class LimitationStatus(_StrEnum):
    """A declared limitation: ``off`` (confirmed), ``on`` (contradicted) or ``unverified``."""

    OFF = "off"
    ON = "on"
    UNVERIFIED = "unverified"


class Deployment(_StrEnum):
    """Where PostgreSQL runs; a contract report names ``host`` or ``kubernetes``."""

    AUTO = "auto"
    HOST = "host"
    KUBERNETES = "kubernetes"


class Operation(_StrEnum):
    """A gated operation. Accepted wherever an operation name is."""

    SNAPSHOT = "snapshot"
    BACKUP = "backup"
    RESTORE = "restore"
    STARTUP = "startup"


class Action(_StrEnum):
    """What a retention plan does with an artifact."""

    KEEP = "keep"
    DELETE = "delete"


class ArtifactState(_StrEnum):
    """Whether an artifact is whole."""

    COMPLETE = "complete"
    PARTIAL = "partial"
    FAILED = "failed"


class BackupResult(_StrEnum):
    """How a recorded backup ended."""

    COMPLETE = "complete"
    PARTIAL = "partial"
    FAILED = "failed"


class VerifyResult(_StrEnum):
    """One recorded backup re-read by ``Ssot.verify``."""

    OK = "ok"
    FAILED = "failed"
    NOT_CHECKED = "not_checked"


class Claim(_StrEnum):
    """A stage's claimed status."""

    COMPLETE = "COMPLETE"
    IMPLEMENTED = "IMPLEMENTED"
    PARTIAL = "PARTIAL"
    DESIGN = "DESIGN"
    FROZEN = "FROZEN"


class Outcome(_StrEnum):
    """The name of a result's exit code (``exit_code``): the CLI's exit codes."""

    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"
    NO_VERDICT = "no_verdict"
    GATE_DENIED = "gate_denied"
    GATE_NO_VERDICT = "gate_no_verdict"
    CANNOT_EXECUTE = "cannot_execute"
    NOT_FOUND = "not_found"
