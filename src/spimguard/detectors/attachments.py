"""Attachments: files known to be bad, and files that run code on the recipient's device.

Judged from the metadata the IM server sends (name, MIME type, SHA-256, size);
the file itself is never opened. Known-bad hashes come from the operator's
``sha256`` list (``spimguard lists import FILE --kind sha256 --list sha256``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import regex

from .. import lists
from ..config import Config
from ..signals import Signal
from ..state.ops import Contains, Query, Write
from .base import WRITES_NONE, Context, Facts, Outcome, first_per_code, settings


@dataclass(frozen=True, slots=True)
class AttachmentsSettings:
    """The attachments detector's settings (``detectors.attachments`` in config)."""

    # Extensions that run code when opened on a common desktop or phone.
    executable_extensions: tuple[str, ...] = (
        "exe", "scr", "com", "pif", "bat", "cmd", "vbs", "vbe", "js", "jse", "wsf", "wsh",
        "msi", "msp", "jar", "apk", "xapk", "ps1", "lnk", "hta", "cpl", "dll", "reg",
        "application", "gadget", "msc", "scf", "iso", "img", "vhd", "dmg", "pkg", "app",
        "sh", "command", "appx", "msix",
    )
    archive_extensions: tuple[str, ...] = (
        "zip", "rar", "7z", "tar", "gz", "tgz", "cab", "ace", "arj")


SIGNALS = {
    "ATTACHMENT_BLOCKLISTED": "an attachment's SHA-256 is on the operator's list (override: block)",
    "ATTACHMENT_EXECUTABLE": "an attachment is a program or script",
    "ATTACHMENT_DOUBLE_EXTENSION": "an attachment hides a program behind a harmless-looking "
                                   "name (photo.jpg.exe, invoice.pdf .scr, setup.exe.zip)",
}

_SPACES = re.compile(r"\s+")
# Characters that change how a name is drawn without being drawn: bidi controls and every
# other Default_Ignorable_Code_Point. "invoice\u202efdp.exe" is drawn "invoiceexe.pdf": a
# name holding one shows another name than the file has, and a program so named hides
# behind the name it shows, as behind a second extension (MITRE ATT&CK T1036.002).
_UNDRAWN = regex.compile(r"[\p{Bidi_Control}\p{Default_Ignorable_Code_Point}]")


class AttachmentsDetector:
    name = "attachments"
    writes_for = WRITES_NONE  # (``base.writes_for``)

    def __init__(self, given: dict[str, Any], config: Config) -> None:
        cfg = settings(self.name, AttachmentsSettings, given)
        self.executable = frozenset(e.lower().lstrip(".") for e in cfg.executable_extensions)
        self.archive = frozenset(e.lower().lstrip(".") for e in cfg.archive_extensions)

    def _query(self, ctx: Context) -> Contains | None:
        message = ctx.message
        if message is None or not message.attachments:
            return None
        digests = tuple(a.sha256.lower() for a in message.attachments if a.sha256)
        return Contains(lists.key("sha256"), digests) if digests else None

    def reads(self, ctx: Context) -> Sequence[Query]:
        query = self._query(ctx)
        return (query,) if query else ()

    def detect(self, ctx: Context, facts: Facts) -> list[Signal]:
        message = ctx.message
        if message is None or not message.attachments:
            return []
        found: list[Signal] = []
        query = self._query(ctx)
        if query is not None and any(facts[query]):
            found.append(Signal("ATTACHMENT_BLOCKLISTED", 1.0,
                                "an attachment is a file on the operator's block list", "block"))
        for attachment in message.attachments:
            name = _SPACES.sub("", attachment.name.lower()).rstrip(".")
            parts = name.split(".")[1:]
            shown = _UNDRAWN.sub(lambda c: f"<U+{ord(c.group()):04X}>", attachment.name[:80])
            executable = [p for p in parts if p in self.executable]
            if not executable:
                continue
            last = parts[-1]
            if len(parts) >= 2 and (last not in self.executable or parts[-2] not in
                                    self.executable):
                found.append(Signal("ATTACHMENT_DOUBLE_EXTENSION", 1.0,
                                    f"'{shown}' hides a program behind another file type"))
            elif last in self.executable and _UNDRAWN.search(attachment.name):
                found.append(Signal("ATTACHMENT_DOUBLE_EXTENSION", 1.0,
                                    f"'{shown}' hides a program behind a name drawn "
                                    "otherwise than it is"))
            elif last in self.executable:
                found.append(Signal("ATTACHMENT_EXECUTABLE", 1.0, f"'{shown}' is a program"))
        return first_per_code(found)

    def writes(self, ctx: Context, facts: Facts, outcome: Outcome) -> Sequence[Write]:
        return ()


def build(given: dict[str, Any], config: Config) -> AttachmentsDetector:
    return AttachmentsDetector(given, config)
