"""The exceptions of ssot: one class per kind of failure of the core.

Every exception is an :class:`SsotError`; those caused by bad input (a bad
value, a bad file, a bad request, a naive datetime) are also
:class:`ValueError`; those of a file ssot could not read or write are also
:class:`OSError` with ``errno``, ``strerror`` and ``filename`` (a missing file
is a :class:`FileNotFoundError`, a denied one a :class:`PermissionError`, ...). Each carries the details of its failure as
attributes (``path``, ``line``, ``key``, ...) and ``exit_code``, the code the
CLI exits with for it (2 for refused evidence, 3 for every failure that gave
no verdict). The Rust extension raises them; the mapping from the core's
error kinds is in one place (``ssot-py/src/errors.rs``).
"""

from __future__ import annotations

import errno as _errno
import os as _os
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Optional, Sequence

if TYPE_CHECKING:
    from ssot._ssot import Decision

__all__ = [
    "ArtifactError",
    "ClockRefusedError",
    "ConfigError",
    "EvidenceRefused",
    "GateDenied",
    "InputFileError",
    "InvalidNameError",
    "InvalidValueError",
    "LockedError",
    "MissingKeyError",
    "NotGivenError",
    "NotOverwrittenError",
    "ParentCycleError",
    "PolicyKeyError",
    "RequestError",
    "SsotError",
    "SsotFileExistsError",
    "SsotFileNotFoundError",
    "SsotIOError",
    "SsotIsADirectoryError",
    "SsotNotADirectoryError",
    "SsotPermissionError",
    "StateFileError",
    "StateFileSyntaxError",
    "UnitError",
    "UnknownProfileError",
    "UnreadableError",
    "UnsafeFileError",
]


class SsotError(Exception):
    """Any failure of ssot. ``exit_code`` is the CLI's exit code for it."""

    exit_code: int = 3

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- state files -----------------------------------------------------------


class StateFileError(SsotError):
    """A state file that ssot cannot trust or write. ``path`` names it."""

    def __init__(self, message: str, *, path: Optional[str] = None) -> None:
        super().__init__(message)
        self.path = path


class StateFileSyntaxError(StateFileError):
    """A line of a state file is not ``key=value``."""

    def __init__(self, message: str, *, path: Optional[str] = None, line: Optional[int] = None) -> None:
        super().__init__(message, path=path)
        self.line = line


class MissingKeyError(StateFileError):
    """A key a state file must hold is absent."""

    def __init__(self, message: str, *, path: Optional[str] = None, key: Optional[str] = None) -> None:
        super().__init__(message, path=path)
        self.key = key


class InvalidValueError(StateFileError):
    """A state file's value is not acceptable."""

    def __init__(
        self,
        message: str,
        *,
        path: Optional[str] = None,
        key: Optional[str] = None,
        line: Optional[int] = None,
    ) -> None:
        super().__init__(message, path=path)
        self.key = key
        self.line = line


def _os_error(
    exc: OSError, errno: Optional[int], strerror: Optional[str], filename: Optional[str]
) -> None:
    """Sets ``errno``, ``strerror`` and ``filename`` as :class:`OSError` does."""
    OSError.__init__(exc, errno, strerror, filename)


class UnreadableError(StateFileError, OSError):
    """A state file exists but cannot be read: an :class:`OSError` with
    ``errno`` (when the system gave one), ``strerror`` and ``filename``."""

    def __init__(
        self,
        message: str,
        *,
        path: Optional[str] = None,
        errno: Optional[int] = None,
        strerror: Optional[str] = None,
    ) -> None:
        super().__init__(message, path=path)
        _os_error(self, errno, strerror, path)

    def __str__(self) -> str:
        return self.message


class NotOverwrittenError(StateFileError):
    """A record was not written over a state file ssot cannot read."""


class UnsafeFileError(StateFileError, OSError):
    """A file ssot refuses to use: a symlink, a FIFO, a directory, too large,
    not UTF-8. An :class:`OSError` with ``filename`` (the file) and
    ``strerror`` (the problem); ``errno`` is ``EISDIR`` for a directory,
    else ``None`` (no system call failed)."""

    def __init__(self, message: str, *, path: Optional[str] = None, problem: Optional[str] = None) -> None:
        super().__init__(message, path=path)
        self.problem = problem
        code = _errno.EISDIR if problem is not None and problem.startswith("is a directory") else None
        _os_error(self, code, problem, path)

    def __str__(self) -> str:
        return self.message


# --- bad input: also ValueError ----------------------------------------------


class UnitError(SsotError, ValueError):
    """A size or duration that does not parse (``4gb``, ``5 minutes``)."""

    def __init__(self, message: str, *, what: Optional[str] = None, value: Optional[str] = None) -> None:
        super().__init__(message)
        self.what = what
        self.value = value


class InvalidNameError(SsotError, ValueError):
    """A value of a named kind ssot does not know (an operation, a time zone, a plan hash)."""

    def __init__(self, message: str, *, what: Optional[str] = None, value: Optional[str] = None) -> None:
        super().__init__(message)
        self.what = what
        self.value = value


class ConfigError(SsotError, ValueError):
    """The configuration is invalid; ``key`` names the key to blame, if one is."""

    def __init__(self, message: str, *, origin: Optional[str] = None, key: Optional[str] = None) -> None:
        super().__init__(message)
        self.origin = origin
        self.key = key


class PolicyKeyError(SsotError, ValueError):
    """A policy key with a value that cannot work."""

    def __init__(self, message: str, *, key: Optional[str] = None) -> None:
        super().__init__(message)
        self.key = key


class InputFileError(SsotError, ValueError):
    """An input (a tool's output, a catalog) in the wrong format, with its position."""

    def __init__(
        self,
        message: str,
        *,
        origin: Optional[str] = None,
        line: Optional[int] = None,
        column: Optional[int] = None,
    ) -> None:
        super().__init__(message)
        self.origin = origin
        self.line = line
        self.column = column


class RequestError(SsotError, ValueError):
    """A request that is incomplete, contradictory or not in the expected shape."""


class ClockRefusedError(RequestError):
    """A time given (``now=``) for a decision that authorises work (a gate, a
    hold, an apply that deletes) that is not the real time: such decisions use
    the real clock, and ``given`` is farther from it (``real``, both aware UTC
    ``datetime`` values) than ``gate.max_clock_skew`` (``max_skew``, a
    ``timedelta``). Leave ``now`` out there."""

    def __init__(
        self,
        message: str,
        *,
        operation: Optional[str] = None,
        given: Optional[datetime] = None,
        real: Optional[datetime] = None,
        max_skew: Optional[timedelta] = None,
    ) -> None:
        super().__init__(message)
        self.operation = operation
        self.given = given
        self.real = real
        self.max_skew = max_skew


class NotGivenError(RequestError):
    """A request lacks an input that has no default; ``field`` names it."""

    def __init__(self, message: str, *, field: Optional[str] = None) -> None:
        super().__init__(message)
        self.field = field


class ArtifactError(SsotError, ValueError):
    """An artifact that cannot be planned or deleted safely; ``id`` names it."""

    def __init__(self, message: str, *, id: Optional[str] = None) -> None:
        super().__init__(message)
        self.id = id


class ParentCycleError(ArtifactError):
    """Artifacts whose parents form a cycle."""


class UnknownProfileError(SsotError, ValueError):
    """A retention profile that is not configured; ``known`` lists those that are."""

    def __init__(
        self, message: str, *, name: Optional[str] = None, known: Optional[Sequence[str]] = None
    ) -> None:
        super().__init__(message)
        self.name = name
        self.known = list(known or [])


# --- verdicts and the rest -----------------------------------------------------


class EvidenceRefused(SsotError):
    """Evidence that is not what it claims (a snapshot as a backup, a missing file): a verdict."""

    exit_code = 2


class SsotIOError(SsotError, OSError):
    """An I/O operation (``op``: read, write, scan, lock, ...) on a path
    failed: an :class:`OSError` with ``errno``, ``strerror`` and ``filename``
    (the path, also ``path``). The kinds Python names have their own
    subclasses (:class:`SsotFileNotFoundError`, :class:`SsotPermissionError`, ...)."""

    _default_errno: Optional[int] = None

    def __init__(
        self,
        message: str,
        *,
        op: Optional[str] = None,
        path: Optional[str] = None,
        errno: Optional[int] = None,
        strerror: Optional[str] = None,
    ) -> None:
        SsotError.__init__(self, message)
        self.op = op
        self.path = path
        if errno is None and self._default_errno is not None:
            # The core knew the kind but had no number (an error it made
            # itself): the number and text the system has for that kind.
            errno = self._default_errno
            strerror = _os.strerror(errno)
        _os_error(self, errno, strerror, path)

    def __str__(self) -> str:
        return self.message


class SsotFileNotFoundError(SsotIOError, FileNotFoundError):
    """A file or directory ssot needs does not exist (``ENOENT``)."""

    _default_errno = _errno.ENOENT


class SsotPermissionError(SsotIOError, PermissionError):
    """ssot may not read or write a path (``EACCES``/``EPERM``)."""

    _default_errno = _errno.EACCES


class SsotFileExistsError(SsotIOError, FileExistsError):
    """A path ssot creates already exists (``EEXIST``)."""

    _default_errno = _errno.EEXIST


class SsotIsADirectoryError(SsotIOError, IsADirectoryError):
    """A directory where ssot expects a file (``EISDIR``)."""

    _default_errno = _errno.EISDIR


class SsotNotADirectoryError(SsotIOError, NotADirectoryError):
    """A file where ssot expects a directory (``ENOTDIR``)."""

    _default_errno = _errno.ENOTDIR


class LockedError(SsotError):
    """A lock held by another process; ``holder`` is what it wrote, if anything."""

    def __init__(self, message: str, *, path: Optional[str] = None, holder: Optional[str] = None) -> None:
        super().__init__(message)
        self.path = path
        self.holder = holder


class GateDenied(SsotError):
    """Raised by :meth:`Decision.raise_if_denied`; ``decision`` holds every reason."""

    exit_code = 1

    def __init__(self, message: str, *, decision: "Decision") -> None:
        super().__init__(message)
        self.decision = decision
