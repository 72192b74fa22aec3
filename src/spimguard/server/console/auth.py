"""Operator authentication: argon2id passwords, session cookies, CSRF tokens, login limits.

A session cookie holds a random token; the store keeps only its SHA-256, so a
copy of the database opens no session. The cookie is HttpOnly and
SameSite=Strict (and Secure behind TLS); every form also carries the session's
CSRF token, compared in constant time. Failed logins are limited per name and
per address, so guessing costs hours and one noisy address locks out nobody else.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ...errors import BadInput
from .records import ROLES, ConsoleStore, Operator, Role, Session

COOKIE = "spimguard_console"
LOGIN_COOKIE = "spimguard_login"  # the CSRF token of the login form, before any session
SESSION_SECONDS = 8 * 3600.0  # a working day; then log in again
MAX_PASSWORD = 1024  # bytes hashed at most: a megabyte password is an attack on the CPU
MIN_PASSWORD = 10

_hasher = PasswordHasher()  # argon2id with the library's current parameters
# A hash to verify against when the name is unknown: a login takes as long either way.
_DUMMY = _hasher.hash(secrets.token_urlsafe(16))
# Who may do what: each role can do everything of the roles before it.
RANK: dict[str, int] = {role: rank for rank, role in enumerate(ROLES)}  # asked of any stored role


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_name(name: str) -> str:
    if not 1 <= len(name) <= 64 or not all(c.isalnum() or c in "._-@" for c in name):
        raise BadInput("an operator name is 1 to 64 letters, digits or . _ - @", field="name")
    return name


def new_operator(name: str, role: str, password: str) -> Operator:
    if role not in ROLES:
        raise BadInput(f"unknown role {role!r}; use one of {', '.join(ROLES)}", field="role")
    if not MIN_PASSWORD <= len(password.encode()) <= MAX_PASSWORD:
        raise BadInput(f"a password has {MIN_PASSWORD} to {MAX_PASSWORD} bytes",
                       field="password")
    return Operator(check_name(name), role, _hasher.hash(password), time.time())


def verify(operator: Operator | None, password: str) -> bool:
    """Whether the password is the operator's (as slow for an unknown name)."""
    if len(password.encode()) > MAX_PASSWORD:
        return False
    try:
        return _hasher.verify(operator.password_hash if operator else _DUMMY, password) and (
            operator is not None)
    except (VerificationError, InvalidHashError):
        return False


def open_session(store: ConsoleStore, operator: str, now: float) -> tuple[str, Session]:
    """A new session: (the cookie value, what the store keeps)."""
    token = secrets.token_urlsafe(32)
    session = Session(token_hash(token), operator, secrets.token_urlsafe(32), now,
                      now + SESSION_SECONDS)
    store.save_session(session)
    return token, session


def current(store: ConsoleStore, token: str | None, now: float) -> Session | None:
    if not token or len(token) > 128:
        return None
    session = store.session(token_hash(token))
    return session if session is not None and session.expires > now else None


def csrf_ok(expected: str, given: object) -> bool:
    return isinstance(given, str) and bool(expected) and hmac.compare_digest(
        given.encode(), expected.encode())


@dataclass
class LoginLimiter:
    """At most ``attempts`` failures per ``window`` seconds per name and per address,
    counted in the console store: with PostgreSQL every node counts the same failures,
    so spreading guesses over nodes buys nothing."""

    store: ConsoleStore
    attempts: int = 5
    window: float = 900.0

    def blocked(self, keys: tuple[str, ...], now: float) -> bool:
        counts = self.store.login_failures(keys, now - self.window)
        return any(counts.get(k, 0) >= self.attempts for k in keys)

    def failed(self, keys: tuple[str, ...], now: float) -> None:
        self.store.add_login_failure(keys, now, forget_before=now - self.window)

    def succeeded(self, name_key: str) -> None:
        self.store.clear_login_failures(name_key)


def may(role: str, needed: Role) -> bool:
    return RANK.get(role, -1) >= RANK[needed]
