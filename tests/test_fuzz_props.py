"""Properties of what reads hostile input: the event decoder and the Matrix HTML reader
never raise anything but a 4xx, and finish 64 KiB in well under a second (a generous bound
for a shared test machine; ``benchmarks/hostile.py`` measures the real figures)."""

from __future__ import annotations

import contextlib
import time

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spimguard.errors import BadInput
from spimguard.events import Limits, decode_batch, decode_message
from spimguard.server.matrix import readable
from spimguard.server.mxhtml import visible_text

LIMITS = Limits()
KIB64 = 64 * 1024
BOUND = 5.0  # seconds, for 64 KiB: a linear reader takes ~0.05 s, the quadratic ones took 20-30 s

# The pieces HTML readers choke on: openers without closers, quotes, entities, nesting.
FRAGMENTS = ["<", ">", "</", "<!--", "-->", "<![", "<!", "<?", "<a ", "<a href=", "'", '"',
             "=", "/", " ", "&", "&amp;", "&#x", ";", "<mx-reply>", "</mx-reply>", "<script>",
             "</script", "<br>", "<p>", "x", "é", "\x00", "\n", "href", "http://a.example/"]
html_pieces = st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=40)


def _filled(pieces: list[str], size: int = KIB64) -> str:
    """``pieces`` repeated to ``size`` characters: the worst case is a pattern repeated."""
    unit = "".join(pieces)
    return (unit * (size // len(unit) + 1))[:size]


@settings(max_examples=120, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(pieces=html_pieces)
def test_the_html_reader_never_raises_and_is_linear(pieces: list[str]) -> None:
    source = _filled(pieces)
    started = time.process_time()
    text = visible_text(source)
    assert time.process_time() - started < BOUND, pieces
    assert isinstance(text, str)
    started = time.process_time()
    said = readable({"body": "hi", "formatted_body": source}, KIB64)
    assert time.process_time() - started < BOUND, pieces
    assert len(said.encode()) <= KIB64


@settings(max_examples=200, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(source=st.text(max_size=300))
def test_the_html_reader_never_raises_on_any_text(source: str) -> None:
    assert isinstance(visible_text(source), str)


json_scalars = (st.none() | st.booleans() | st.integers(min_value=-(10**400), max_value=10**400)
                | st.floats() | st.text(max_size=30))
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=5)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=5),
                           max_leaves=30)
event_fields = st.fixed_dictionaries(
    {"type": st.sampled_from(["message", "invite", "login", "contacts", "contacts_read",
                              "report", "room", "poke"]), "id": json_values, "ts": json_values},
    optional={name: json_values for name in (
        "sender", "recipients", "text", "account", "contacts", "count", "label", "client",
        "message_id", "reporter", "session", "attachments", "success", "conversation",
        "members", "membership", "since", "junk")})


def _encode(value: object) -> bytes:
    try:
        return msgspec.json.encode(value)
    except (TypeError, ValueError, OverflowError):  # NaN, huge ints: send the raw repr
        return repr(value).encode()


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(body=st.one_of(st.binary(max_size=200), event_fields.map(_encode),
                      st.lists(event_fields, max_size=3).map(lambda e: _encode({"events": e})),
                      st.integers(1, 3000).map(lambda d: b'{"junk":' + b"[" * d + b"]" * d
                                               + b"}")))
def test_the_decoder_answers_every_body_with_an_event_or_a_4xx(body: bytes) -> None:
    for decode in (decode_message, decode_batch):
        started = time.process_time()
        try:
            decode(body, LIMITS)
        except BadInput as exc:
            assert 400 <= exc.status < 500
        assert time.process_time() - started < BOUND


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(pieces=st.lists(st.sampled_from(['{"a":', "[", "]", '"', "\\", "1", ",", "{", "}", " ",
                                        "e9", "-", "null"]), min_size=1, max_size=20))
def test_the_decoder_is_linear_on_64_kib(pieces: list[str]) -> None:
    body = _filled(pieces).encode()
    started = time.process_time()
    with contextlib.suppress(BadInput):
        decode_batch(body, LIMITS)
    assert time.process_time() - started < BOUND
