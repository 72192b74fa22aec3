"""Operator rules: accounts and domains to allow or deny, phrases and RE2 patterns.

Account and domain lists are hard overrides (an operator's word beats any score:
deny > allow). Phrases and patterns are weighted evidence, because an operator's
phrase can also appear in an innocent message that quotes it.

Phrases match the text's skeleton, so one entry also catches its homoglyph,
accented, leetspeak and zero-width disguises. Patterns are RE2 (linear time, no
backtracking), compiled once; a pattern RE2 rejects disables the detector with
the reason, which ``/healthz`` shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import re2

from ..config import Config
from ..errors import ConfigError
from ..lists import host_suffixes
from ..signals import Signal
from ..state.ops import Query, Write
from ..text import skeleton
from .base import READS_NONE, WRITES_NONE, Context, Facts, Outcome, settings


@dataclass(frozen=True, slots=True)
class RulesSettings:
    """The rules detector's settings (``detectors.rules`` in config)."""

    allow_accounts: tuple[str, ...] = ()  # senders never filtered (the platform's own notice bots)
    deny_accounts: tuple[str, ...] = ()  # senders whose every message is blocked
    deny_domains: tuple[str, ...] = ()  # registrable domains or hosts; any subdomain matches too
    deny_phrases: tuple[str, ...] = ()  # case-, accent- and disguise-insensitive substrings
    deny_patterns: tuple[str, ...] = ()  # RE2 patterns over the cleaned text (case-insensitive)
    max_patterns: int = 1_000  # bound on what one config may ask RE2 to compile


SIGNALS = {
    "RULE_ALLOW_ACCOUNT": "sender is on the operator's allowlist (override: allow)",
    "RULE_DENY_ACCOUNT": "sender is on the operator's denylist (override: block)",
    "RULE_DENY_DOMAIN": "a link goes to an operator-denied domain (override: block)",
    "RULE_DENY_PHRASE": "an operator's deny phrase appears in the text",
    "RULE_DENY_PATTERN": "an operator's RE2 pattern matches the text",
}


class RulesDetector:
    name = "rules"
    writes_for = WRITES_NONE  # (``base.writes_for``)
    reads_for = READS_NONE  # (``base.reads_for``)

    def __init__(self, given: dict[str, Any]) -> None:
        cfg = settings(self.name, RulesSettings, given)
        self.allow_accounts = frozenset(cfg.allow_accounts)
        self.deny_accounts = frozenset(cfg.deny_accounts)
        self.deny_domains = frozenset(d.strip(".").lower() for d in cfg.deny_domains)
        self.phrases = tuple((p, skeleton(p)) for p in cfg.deny_phrases if p.strip())
        if len(cfg.deny_patterns) > cfg.max_patterns:
            raise ConfigError(f"detectors.rules.deny_patterns has more than "
                              f"{cfg.max_patterns} patterns")
        options = re2.Options()
        options.case_sensitive = False
        options.max_mem = 8 << 20
        options.log_errors = False
        self.patterns = []
        for pattern in cfg.deny_patterns:
            try:
                self.patterns.append((pattern, re2.compile(pattern, options)))
            except re2.error as exc:
                raise ConfigError(f"detectors.rules.deny_patterns: {pattern!r} is not a "
                                  f"valid RE2 pattern ({exc})") from exc

    def reads(self, ctx: Context) -> Sequence[Query]:
        return ()

    def detect(self, ctx: Context, facts: Facts) -> list[Signal]:
        message = ctx.message
        if message is None or ctx.view is None:
            return []
        found: list[Signal] = []
        if message.sender in self.deny_accounts:
            found.append(Signal("RULE_DENY_ACCOUNT", 1.0, "sender is on the operator denylist",
                                "block"))
        elif message.sender in self.allow_accounts:
            found.append(Signal("RULE_ALLOW_ACCOUNT", 1.0, "sender is on the operator allowlist",
                                "allow"))
        if message.encrypted:  # no words: patterns (even one matching "") say nothing
            return found
        if self.deny_domains:
            for url in ctx.view.urls:
                hit = next((s for s in host_suffixes(url.host) if s in self.deny_domains), None)
                if hit:
                    found.append(Signal("RULE_DENY_DOMAIN", 1.0,
                                        f"link to {url.host}, denied by the operator ({hit})",
                                        "block"))
                    break
        for phrase, skel in self.phrases:
            if skel and skel in ctx.view.skeleton:
                found.append(Signal("RULE_DENY_PHRASE", 1.0, f"contains the phrase {phrase!r}"))
                break
        for pattern, compiled in self.patterns:
            if compiled.search(ctx.view.text):
                found.append(Signal("RULE_DENY_PATTERN", 1.0, f"matches the pattern {pattern!r}"))
                break
        return found

    def writes(self, ctx: Context, facts: Facts, outcome: Outcome) -> Sequence[Write]:
        return ()


def build(given: dict[str, Any], config: Config) -> RulesDetector:
    return RulesDetector(given)
