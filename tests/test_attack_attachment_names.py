"""Red team, session 15: a program behind a name drawn backwards.

A right-to-left override in a file name makes "invoice\\u202efdp.exe" draw as
"invoiceexe.pdf" (MITRE ATT&CK T1036.002): the recipient sees a PDF, the file is a program.
The attachments detector read the name as stored, found one extension, ".exe", and said
ATTACHMENT_EXECUTABLE (4): measured on main, a month-old account sending it to a stranger
is warned, while the same program named "invoice.pdf.exe" is held
(ATTACHMENT_DOUBLE_EXTENSION, 7). The override is the same trick as the second extension
with one character less.

The rule: a name holding a character that changes how it is drawn without being drawn
(bidi controls, every Default_Ignorable_Code_Point) shows a name other than the file's, so
a program so named hides behind the name it shows. The signal's detail names the
characters ("<U+202E>") instead of carrying them into the console and notices.
"""

from __future__ import annotations

import pytest

from conftest import T0, config, event, message
from spimguard import open_engine

DAY = 86_400.0


def verdict_for(name: str):  # type: ignore[no-untyped-def]
    engine = open_engine(config())
    cfg = engine.config
    engine.process(event(cfg, type="account", id="a", ts=T0, account="bot", created=T0 - 30 * DAY))
    return engine.process(message(cfg, "m", "bot", ["stranger"],
                                  "here is the invoice you asked for", T0,
                                  attachments=[{"name": name, "mime": "application/pdf"}]))


def test_the_premise_a_second_extension_holds() -> None:
    assert verdict_for("invoice.pdf.exe").action == "hold"


@pytest.mark.parametrize("name", [
    "invoice\u202efdp.exe",  # drawn invoiceexe.pdf
    "Invoice_\u202excod.js",  # drawn Invoice_sj.docx
    "photo\u2067gpj.scr",  # an isolate does the same
    "report\u200f\u202efdp.bat",
])
def test_a_program_behind_a_name_drawn_otherwise_is_held(name: str) -> None:
    verdict = verdict_for(name)
    codes = {s.code for s in verdict.signals}
    assert "ATTACHMENT_DOUBLE_EXTENSION" in codes and verdict.action == "hold", verdict.signals
    detail = next(s.detail for s in verdict.signals if s.code == "ATTACHMENT_DOUBLE_EXTENSION")
    assert not any(c in detail for c in "\u202e\u2067\u2069\u200f"), detail


def test_a_name_in_a_right_to_left_script_alone_is_no_disguise() -> None:
    verdict = verdict_for("חשבונית.pdf")
    assert verdict.action == "deliver" or not {s.code for s in verdict.signals} & {
        "ATTACHMENT_DOUBLE_EXTENSION", "ATTACHMENT_EXECUTABLE"}
