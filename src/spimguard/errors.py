"""The errors spimguard raises, so callers never see a library's own exceptions.

    SpimguardError
    ├── BadInput            a request or event that breaks the contract (HTTP 400/413/422)
    ├── ConfigError         a setting that cannot work; names the key and the value
    ├── StateUnavailable    the hot-state backend (SQLite, Redis) failed
    ├── Contention          shared state changed between an event's read and its write
    └── RecordsUnavailable  the durable record store failed

Third-party errors are mapped at the seam that meets them
(``raise StateUnavailable(...) from exc``).
"""

from __future__ import annotations


class SpimguardError(Exception):
    """Base of every error spimguard raises on purpose."""


class BadInput(SpimguardError):
    """Input that breaks the contract; nothing it carried was stored."""

    def __init__(self, message: str, *, code: str = "invalid", field: str | None = None,
                 status: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field
        self.status = status

    def as_body(self) -> dict[str, dict[str, str | None]]:
        return {"error": {"code": self.code, "message": self.message, "field": self.field}}


class ConfigError(SpimguardError):
    """A configuration value that cannot work."""


class StateUnavailable(SpimguardError):
    """The hot-state backend could not answer or store."""


class Contention(SpimguardError):
    """Another node changed what this event read before its writes applied: judge again."""


class RecordsUnavailable(SpimguardError):
    """The durable record store could not answer or store."""
