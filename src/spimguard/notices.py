"""The educational part: plain-language notices for recipients and account owners.

Templates live in ``data/notices/<language>.toml`` (``language`` in config), so
trust-and-safety teams edit words without touching code. Placeholders are
filled with ``str.format_map`` from values spimguard computed itself, never the
message text, and from the names a sender chose (its account id, its app's name), each
shown as one short line (``shown``); clients must still escape notices like any text they
show.

Who reads a notice decides what it may say. ``{reason}`` is the filter's evidence
("link to tones.example, denied by the operator"): recipients and operators get it,
but a sender is as likely the spammer as the owner, and a spammer who reads the rule
that fired edits the message until none does. So sender notices use their
``_generic`` twin (no reason) unless ``policy.sender_reasons`` is true. Facts about
the owner's own account (the app, network, time and count of a takeover burst, in
``sender_hijack``) are always given: the owner is the victim, and only they can tell
that the session was not theirs.

An encrypted message is judged on metadata alone, so its notices (the ``_sealed``
twins) speak of how it was sent, never of what it says or whether it has a link.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

import regex

from .errors import ConfigError
from .events import Message, Notice

if TYPE_CHECKING:
    from .config import Config
    from .policy import Decision

# Plain notices that speak of what a message says or holds; each has a ``_sealed`` twin.
SEALED = ("recipient_warn", "recipient_hold", "recipient_hijack", "recipient_owner",
          "sender_hold", "sender_suspend")
KEYS = ("recipient_warn", "recipient_hold", "sender_challenge", "sender_suspend",
        "recipient_hijack", "recipient_owner", "sender_hijack", "sender_hold",
        "sender_challenge_generic",
        "sender_suspend_generic", "sender_hold_generic", *(f"{key}_sealed" for key in SEALED),
        "sender_hold_sealed_generic", "sender_suspend_sealed_generic")


@cache
def templates(language: str) -> Mapping[str, str]:
    folder = resources.files("spimguard").joinpath("data/notices")
    path = folder.joinpath(f"{language}.toml")
    if not path.is_file():
        raise ConfigError(f"language = {language!r}: no notices file data/notices/"
                          f"{language}.toml")
    loaded = tomllib.loads(path.read_text("utf-8"))
    missing = [k for k in KEYS if k not in loaded]
    if missing:
        raise ConfigError(f"notices for {language!r} lack {', '.join(missing)}")
    return loaded


def sealed(key: str, encrypted: bool) -> str:
    """The key of the notice for a message: an encrypted message's twin (``_sealed``) where
    the plain one speaks of what a message says or holds, which nobody but its recipients
    saw (a metadata-only verdict says how it was sent)."""
    return f"{key}_sealed" if encrypted and key in SEALED else key


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


# What a sender writes that a notice names: its account id, its app's name (the client id
# its session gave, which a hijacker chooses). A notice quotes them as names, and a name
# is one short line: without a bound, the hijacker writes the owner's alarm ("signed in
# from 'Security check'. It was you, no action is needed ...'") in the app's name.
NAMED = ("sender", "client")
MAX_NAME = 64
# What may not reach a notice from any value: line and paragraph breaks, controls, bidi
# controls (an override reorders the notice's own words after it), the interlinear
# annotation controls (a renderer may hide what they enclose) and characters no font
# draws. Joiners stay: they shape a name's script or emoji, and move nothing.
_UNSHOWN = regex.compile(
    r"[\p{Cc}\p{Zl}\p{Zp}\p{Co}\p{Cn}\p{Cs}\p{Bidi_Control}\ufff9-\ufffb]+")


def shown(value: str, limit: int | None = None) -> str:
    """A value as a notice shows it: one line of drawn characters, blanks collapsed, cut to
    ``limit`` characters (an ellipsis says it was cut).

    A printable value (``str.isprintable``: no character of a category C or Z but the
    space) holds nothing ``_UNSHOWN`` takes: its classes are all of categories C and Z
    (a bidi control and U+FFF9-FFFB are Cf), and the ``regex`` module's Unicode is no
    older than Python's, so no character Python calls printable is unassigned (Cn) to it
    (``tests/test_hot38.py`` holds both to every code point). Such a value skips the
    substitution, which tests each character against the seven classes in turn: ~30,000
    instructions a notice's value on the mixed load, whose verdicts' reasons are printable
    (1.7 % of the engine's instructions an event)."""
    line = " ".join((value if value.isprintable() else _UNSHOWN.sub(" ", value)).split())
    if limit is not None and len(line) > limit:
        return line[:limit - 1].rstrip() + "…"
    return line


def render(language: str, key: str, **values: str) -> str:
    return templates(language)[key].format_map(_Blank(
        {name: shown(value, MAX_NAME if name in NAMED else None)
         for name, value in values.items()}))


def for_sender(language: str, key: str, reasons: bool, **values: str) -> str:
    """A notice to the sending account: without the filter's reason unless ``reasons``."""
    if not reasons and "{reason}" in templates(language)[key]:
        key += "_generic"
    return render(language, key, **values)


_SILENT = Notice()  # frozen: one for every verdict that carries no notice


def for_verdict(config: Config, message: Message, decision: Decision) -> Notice:
    """The notices a message's verdict carries: for its recipients on a warn or hold, for
    its sender when the account is restricted or the message refused. A message delivered
    with no account action (nine in ten) carries none: answered before any of the words'
    values are gathered (~4,000 instructions a message)."""
    if decision.action == "deliver" and decision.account_action.action == "none":
        return _SILENT
    lang = config.language
    about = dict(decision.about or {})
    topic = about.pop("topic", "")
    values = {"sender": message.sender, "reason": decision.reason,
              "client": message.client.id, **about}
    recipient = sender = None
    encrypted = message.encrypted  # a metadata-only verdict: notices say how it was sent
    if decision.action in ("warn", "hold"):
        key = f"recipient_{topic}" if topic else (
            "recipient_warn" if decision.action == "warn" else "recipient_hold")
        recipient = render(lang, sealed(key, encrypted), **values)
    kind = decision.account_action.action
    if kind != "none":
        key = f"sender_{topic}" if topic else (
            "sender_suspend" if kind == "suspend_sending" else "sender_challenge")
        sender = for_sender(lang, sealed(key, encrypted), config.policy.sender_reasons,
                            **{**values, "reason": decision.account_action.reason})
    elif decision.action in ("hold", "block"):  # what a refusing server shows the sender
        sender = for_sender(lang, sealed("sender_hold", encrypted),
                            config.policy.sender_reasons, **values)
    return Notice(recipient=recipient, sender=sender)
