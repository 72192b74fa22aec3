"""The takeover record's v4 numbers' table (``record._sixes``): each number's low six
bytes under the first number's top two, a number of another top with its own, a risk of
+0.0 named without the table. Every number must read back bit for bit, whatever the
spread; the v3 table (eight bytes a number) must still read; an earlier release must
refuse a v4 record loudly, never misread it."""

from __future__ import annotations

import math
from array import array
from typing import Any

import msgspec
import pytest

from conftest import T0
from spimguard.detectors.takeover import record as takeover_record
from spimguard.detectors.takeover.record import Record

DAY = 86_400.0
SESSION_TTL, LIVE, INCIDENT_TTL = 30 * DAY, 12 * 3600.0, 7 * DAY
_BOUNDARY = float(1 << 31)  # the doubles' top two bytes change here (an exponent)

SPREADS = {
    "three days": [T0 - 3 * DAY, T0 - 0.1234567, T0, T0 - DAY + 1e-6],
    "two years": [T0 - 730 * DAY, T0 - 400 * DAY, T0],
    "one time": [T0],
    "equal times": [T0, T0, T0],
    "across the top bytes": [math.nextafter(_BOUNDARY, 0.0), _BOUNDARY, _BOUNDARY + 0.5],
    "decades apart": [5e8 + 1e-7, T0, 3e9],
    "zero and a date": [0.0, T0],
    "negative and infinite": [-5.0, -1e300, T0, math.inf],
    "tiny": [5e-324, 1e-300, 1.0],
}
RISKS = (0.0, -0.0, 0.6, 1.0, 0.0)


def parts(stored: bytes) -> list[Any]:
    """``test_records37.parts``, imported when called: that module imports this one's
    ``_strictly`` (through ``test_record35`` too), so a module-level import is a cycle."""
    from test_records37 import parts as v6_parts

    return v6_parts(stored)


def v5_of(stored: bytes) -> bytes:
    """``test_records37.v5_of``, imported when called (``parts``)."""
    from test_records37 import v5_of as as_v5

    return as_v5(stored)


def _record(times: list[float]) -> dict[str, Any]:
    """A record holding ``times`` in every kind of place a number goes, and ``RISKS``
    (but -0.0 beside a time 0.0: equal numbers share one entry, as in v3, and only a
    risk could be -0.0)."""
    finite = [t for t in times if math.isfinite(t)]
    risks = [r for r in RISKS if r or math.copysign(1.0, r) > 0 or 0.0 not in times]
    sessions = {f"s{n}": ["im-android", "198.51.100.0", times[n % len(times)], n, risk, 0, n,
                          max(finite), n % 2]
                for n, risk in enumerate(risks)}
    return {"p": {"last": times[-1], "msgs": 3,
                  "nets": {f"net{n}": [t, times[0], n] for n, t in enumerate(times)}},
            "pt": finite[-1],
            "s": sessions,
            "l": {f"live{n}": t for n, t in enumerate(finite) if t > -1e11}}


def _strictly(a: object, b: object, path: str = "record") -> None:
    """Equal in value, type, order and bits (a zero's sign too), all the way down."""
    assert a.__class__ is b.__class__, f"{path}: {a!r} against {b!r}"
    if isinstance(a, dict):
        assert list(a) == list(b), path  # type: ignore[call-overload]
        for k in a:
            _strictly(a[k], b[k], f"{path}.{k}")  # type: ignore[index]
    elif isinstance(a, list):
        assert len(a) == len(b), path  # type: ignore[arg-type]
        for i, (x, y) in enumerate(zip(a, b, strict=True)):  # type: ignore[call-overload]
            _strictly(x, y, f"{path}[{i}]")
    elif isinstance(a, float):
        assert array("d", [a]).tobytes() == array("d", [b]).tobytes(), f"{path}: {a!r} {b!r}"
    else:
        assert a == b, f"{path}: {a!r} against {b!r}"


@pytest.mark.parametrize("spread", list(SPREADS))
def test_every_number_reads_back_bit_for_bit_in_six_bytes(spread: str) -> None:
    times = SPREADS[spread]
    written = _record(times)
    stored, _ = takeover_record._encode(written, -1e12, SESSION_TTL, LIVE, INCIDENT_TTL)
    _strictly(takeover_record.decode(stored), written)
    _, _, table, *_ = parts(stored)
    # The table: six bytes a number, the first number's top two bytes, then each number
    # of another top with its own. +0.0 (a risk) is not in it; -0.0 is.
    numbers = {*times, *(r for r in RISKS
                         if r or (math.copysign(1.0, r) < 0 and 0.0 not in times))}
    assert isinstance(table, list) and len(table[0]) == 6 * len(numbers)
    tops = [int.from_bytes(array("d", [n]).tobytes()[6:], "little") for n in numbers]
    assert len(table) == 2 + 2 * sum(top != table[1] + 0x41D0 for top in tops)


def test_a_records_table_takes_six_bytes_a_time_within_two_years() -> None:
    """The quiet load's shape: times within days (and a profile's within two years, the
    aligned 2**26 s of T0's top bytes) and familiar sessions (risk 0.0): no number of its
    own top, 6 bytes a time and 1 for the top (3 until v6) where the v3 table took 8 a
    number."""
    fresh = Record("alice", None, SESSION_TTL, LIVE, INCIDENT_TTL)
    fresh.set_profile({"msgs": 3, "last": T0 - 5.25,
                       "nets": {"198.51.100.0": [T0 - 300 * DAY, T0 - 1.5, 4]}}, T0)
    for n in range(3):
        fresh.set_session(f"d{n}", {"client": "im-android", "net": "198.51.100.0",
                                    "login": T0 - n * DAY - 0.375, "risk": 0.0}, T0 - n, 8, 2)
    put = fresh.put(T0)
    assert put is not None
    _, _, table, _, sessions, *_ = parts(put.value)
    assert table[1] + 0x41D0 == int.from_bytes(array("d", [T0]).tobytes()[6:], "little")
    assert len(msgspec.msgpack.encode(table[1])) == 1
    assert len(table) == 2 and len(table[0]) == 6 * 9  # 9 distinct times, no risk
    assert sessions[6::9] == [-1, -1, -1]  # each risk 0.0, without the table
    back = Record("alice", put.value, SESSION_TTL, LIVE, INCIDENT_TTL)
    assert [back.session(f"d{n}", T0) for n in range(3)] == [
        {"client": "im-android", "net": "198.51.100.0", "login": T0 - n * DAY - 0.375,
         "read": 0, "risk": 0.0, "dormant": False, "replies": 0, "proven": False}
        for n in range(3)]


def v4_parts(stored: bytes) -> list[Any]:
    """A v6 record's parts (``record._encode``'s) as v4 (sessions 29-34) held them: the
    hour itself, every string as text, the numbers' table ``[top, low, ...]``; the head as
    v5 held it."""
    head, hour, names, table, *rest = msgspec.msgpack.decode(v5_of(stored))
    numbers = takeover_record._numbers(table, 0)[:-1]
    return [head, hour + takeover_record._base_hour(numbers[0] if numbers else None),
            [n if isinstance(n, str) else takeover_record._name(n) for n in names],
            [table[1], table[0], *table[2:]], *rest]


def _v3(written: dict[str, Any], now: float) -> bytes:
    """``written`` as the release before session 29 stored it: v3, the table eight bytes a
    number and a risk of 0.0 an index into it (rebuilt from v4's parts)."""
    _, hour, names, table, profile, sessions, live, incidents, sent = v4_parts(
        takeover_record._encode(written, now, SESSION_TTL, LIVE, INCIDENT_TTL)[0])
    numbers = takeover_record._numbers(table, 0)[:-1]
    zero = len(numbers)
    numbers.append(0.0)
    sessions[6::9] = [zero if risk == -1 else risk for risk in sessions[6::9]]
    return msgspec.msgpack.encode([3, hour, names, array("d", numbers).tobytes(), profile,
                                   sessions, live, incidents, sent])


def test_a_record_stored_in_the_v3_bytes_still_reads_and_is_put_back_in_v4() -> None:
    written = _record(SPREADS["three days"])
    v3 = _v3(written, -1e12)
    assert isinstance(msgspec.msgpack.decode(v3)[3], bytes)
    back = takeover_record.decode(v3)
    _strictly(back, written)
    before = Record("alice", v3, SESSION_TTL, LIVE, INCIDENT_TTL)
    before.set_profile(back["p"], back["pt"])  # a change, to the same facts
    put = before.put(-1e12)
    assert put is not None
    assert isinstance(parts(put.value)[2], list)
    _strictly(takeover_record.decode(put.value), back)


def test_an_earlier_release_refuses_a_v4_record_loudly() -> None:
    """The release before reads the table as ``array("d", table)`` and a risk as an index
    into it: a v4 table fails there (a detector error, loud) rather than naming index -1,
    its last number, as a risk."""
    stored, _ = takeover_record._encode(_record(SPREADS["three days"]), T0 - DAY,
                                        SESSION_TTL, LIVE, INCIDENT_TTL)
    table = msgspec.msgpack.decode(v5_of(stored))[3]
    with pytest.raises(TypeError):
        array("d", table)
