"""Session 37 (``self37``): a note to self is no conversation.

The engine touched every recipient's ``TALKED`` side with the sender of a delivered
message, its sender too when the sender was among them, so an account that wrote to
itself became a correspondent of its own, and every reader of ``TALKED`` (``heard``,
trust's footprint, the relationship detector's reciprocation) had to leave it out by hand
(``test_review36a``: one that forgot let an account vouch for itself). Now the write
leaves it out, on every store."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import T0, engine_on_store, message
from spimguard import accounts
from spimguard.events import RECEIVED
from spimguard.state.ops import Members


@pytest.mark.parametrize("backend", ["memory", "sqlite", "redis"])
def test_a_note_to_self_leaves_the_sender_off_its_own_talked_side(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Fails on main: after the notes, @v's ``TALKED`` side held @v."""
    judge = engine_on_store(backend, tmp_path, request)
    cfg = judge.config
    for i in range(3):
        assert judge.process(message(cfg, f"n{i}", "@v:s", ["@v:s"], f"note to self {i}",
                                     T0 + 60 * i)).action in RECEIVED
    assert judge.process(message(cfg, "both", "@v:s", ["@v:s", "@w:s"], "a note to us",
                                 T0 + 300)).action in RECEIVED
    talked = [Members(accounts.tie_record(a), accounts.TALKED) for a in ("@v:s", "@w:s")]
    # @w heard from @v (the note to both); @v heard from no one, itself included.
    assert judge.state.read(talked, T0 + 301) == [(), ("@v:s",)]
    judge.close()
