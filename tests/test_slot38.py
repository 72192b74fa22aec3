"""The memory backend's account object back to 64 bytes (session 38, ``slot38``): a sided
record holds no slot for the index it nearly never has; a large record's index goes with
its names (``sided._Named``), and answers as it did."""

from __future__ import annotations

import pickle
import sys

from spimguard import accounts
from spimguard.state import sided
from spimguard.state.conformance import T0
from spimguard.state.memory import MemoryState, _Account
from spimguard.state.ops import Members, Touch

ACCOUNT = "@a:s"
TIES = accounts.tie_record(ACCOUNT)


def test_an_account_object_is_64_bytes_and_a_record_no_larger() -> None:
    """64 with its GC header (pymalloc's 16-byte classes: one slot more made it 80)."""
    assert sys.getsizeof(_Account("")) <= 64
    assert sys.getsizeof(sided.empty(3)) <= 56


def test_a_large_accounts_index_goes_with_its_names_through_touches_and_pickling() -> None:
    """Past ``_INDEXED`` names the index is its names' (and found by ``position``); a
    pickled account is its names as a plain tuple, the index made again alike."""
    state = MemoryState()
    crowd = tuple(f"@p{i:02d}:s" for i in range(60))
    for n in range(0, 60, 12):
        state.write([Touch(TIES, crowd[n:n + 12], accounts.TALKED_TTL, 50,
                           accounts.TALKED)], T0 + n)
    host = state.accounts()[TIES]
    assert host.index is host.names.places  # type: ignore[attr-defined]
    assert [host.position(m) for m in host.names] == list(range(len(host.names)))
    back = pickle.loads(pickle.dumps(host))
    assert back.index is not None and back.index.at == host.index.at
    assert state.read([Members(TIES, accounts.TALKED)], T0 + 100) == [crowd[10:]]
