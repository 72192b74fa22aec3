"""Red team, session 28 (``review``): the session's merges attacked.

``apart`` made a site written apart for the reader to retype (``MessageView.apart_sites``)
the takeover detector's pitch and link (``keys.sites``). Its innocent is a friend on a new
phone writing to old friends, where the link rules bite: chat that the new rule reads as a
site, and a seller's forms it misses. The mend's test fails on main (2092648); what stays
open is a strict xfail (``docs/red-team-log.md``, session 28, ``review``).
"""

from __future__ import annotations

import random
import struct
import sys

import pytest

from conftest import T0, event
from spimguard.detectors.takeover import keys
from spimguard.text import view
from test_attack_openers import NEW_PHONE_IP
from test_attack_session25 import NAMES, send
from test_takeover import engine_with_history


@pytest.mark.parametrize("prose", [
    "新しいiPhone・app を入れた",       # "put the new iPhone app on"
    "ゲーム・music・movie が好き",      # "I like games, music, movies"
    "ｹﾞｰﾑ･music･movie",                # the half-width forms
    "iPhone・Android・app どっちがいい？",
    "음악·music·movie 좋아",            # Korean's middle dot: "I like music, movies"
])
def test_a_scripts_list_mark_between_latin_words_is_its_prose(prose: str) -> None:
    """Japanese writes its list mark, the nakaguro, glued between the words it lists, Latin
    ones too, and Korean its middle dot: on main "iphone.app", "music.movie",
    "android.app" were sites, so a friend's new phone writing to old friends in Japanese
    or Korean sent links. In a text that writes that script the mark is prose's; the block
    list still reads the guess."""
    assert view(prose).apart_sites == ()
    assert view(prose).apart_hosts


@pytest.mark.parametrize("prose", ["iPhone、app を入れた", "music、movie、game が好き",
                                   "好きなのは music、movie/drama"])
def test_an_ideographic_comma_is_a_comma(prose: str) -> None:
    """Japanese and Chinese glue their comma between any two words: a comma, which no site
    is written with ("yes, no/maybe"), as on main "iphone.app" and "movie.game" were."""
    assert view(prose).apart_sites == ()
    assert view(prose).apart_hosts


@pytest.mark.parametrize("written", ["cheap-tones・biz code 1", "cheap-tones ･biz code 1",
                                     "セール cheap-tones•biz", "세일 cheap-tones•biz",
                                     "cheap-tones·biz code 1"])
def test_a_list_mark_outside_its_scripts_prose_still_writes_a_site(written: str) -> None:
    """Guard (passes on main): no kana or Hangul in the text, or a bullet, not the script's
    own mark."""
    assert view(written).apart_sites == ("cheap-tones.biz",)


# -- open: chat the new rule reads as a site --------------------------------------------

@pytest.mark.xfail(strict=True, reason=(
    "open: chat writes a full stop with blanks both sides, a full stop before a word/word "
    "alternation and a bullet glued between words too; told from a seller's only by the "
    "words (a suffix that is a chat word: so, now, how, me), which needs its own corpus"))
@pytest.mark.parametrize("chat", [
    "hey . so how r u",              # a full stop spaced both sides: sloppy chat
    "omg yes . so good to hear from u",
    "home . now",
    "fine . how r u",
    "ok. now/later?",                # the guards' "ok, now/later?" with a full stop
    "it's me. new/old number both work",
    "mum•dad",                       # a bullet glued between words
    "new phone•new number•same me",
    "love you・me",                  # a nakaguro with no kana in the text
    "open main . py and run it",     # a file name spaced (.py, .sh, .md are ccTLDs)
])
def test_chat_writes_no_site(chat: str) -> None:
    assert view(chat).apart_sites == ()


@pytest.mark.xfail(strict=True, reason=(
    "open: \"hey Sam . so how r u\" holds the site hey.so (see test_chat_writes_no_site), so "
    "a new phone that synced its contacts is a session only partly new sending links: "
    "LOGIN_UNFAMILIAR and CONTACTS_SCRAPED (2.4 points a message, none on 9cb6e2d)"))
def test_a_friend_on_a_new_phone_writing_sloppy_chat_sends_no_link() -> None:
    engine = engine_with_history()
    engine.process(event(engine.config, type="login", id="np-login", ts=T0 - 5,
                         account="alice", session="newphone", ip=NEW_PHONE_IP,
                         client={"id": "im-android"}))
    engine.process(event(engine.config, type="contacts_read", id="np-read", ts=T0 - 2,
                         account="alice", session="newphone", count=60))
    out = [send(engine, i, i, f"hey {NAMES[i]} . so how r u", T0 + 30 * i, "newphone",
                ip=NEW_PHONE_IP, sign_in=False) for i in range(3)]
    assert not {s.code for v in out for s in v.signals} & {"LOGIN_UNFAMILIAR",
                                                           "CONTACTS_SCRAPED"}


# -- open: a seller's forms the rule misses ---------------------------------------------

@pytest.mark.xfail(strict=True, reason=(
    "open: a capital after the join is read as a sentence's start (\"man. My\"), also "
    "after a bullet glued, which ends no sentence; chat lists names so (\"Paris•London\": "
    "london is a suffix); two full stops glued and an ASCII mark without a tail are chat's "
    "(\"see you..love\"); an apostrophe after the suffix is a word's (\"fine, how's\")"))
@pytest.mark.parametrize("written", [
    "Cheap-Tones•Biz code 1",
    "cheap-tones..biz code 1",
    "cheap-tones*biz code 1",
    "cheap-tones•biz’s code 1",
])
def test_a_seller_writes_its_site_so_the_rule_reads_none(written: str) -> None:
    assert keys.sites(view(written)) == ("cheap-tones.biz",)


# -- places: a lodged key's place told by its prefix ------------------------------------

_PIECES = ("", ":", "%", "%25", "x", "to:", "text:", "%links", "\U0001f600", "\x00",
           "a" * 600, "tk:", "tk:to:", "contacts:", "acct:", "ties:")


def test_a_lodged_keys_place_by_its_prefix_is_where_ops_lodging_puts_it() -> None:
    """Guard (passes on main after ``places``): for ids made of the keyspaces' own
    prefixes and marks (another keyspace's prefix, "%", "tk:to:", a 600-character id), the
    place ``MemoryState._found`` tells by the key's prefix alone is the one
    ``ops.lodging`` and the host's home give, key by key: no id moves a key into another
    account's record or another keyspace's slot."""
    import spimguard.engine  # noqa: F401  (declares the keyspaces)
    from spimguard.state import memory
    from spimguard.state.ops import is_hashed, lodged_keyspaces, lodging

    state = memory.MemoryState()
    asked = 0
    for prefix, _ in lodged_keyspaces():
        for first in _PIECES:
            for second in _PIECES:
                key = prefix + first + second
                if not state._lodges(key):
                    continue
                asked += 1
                old = lodging(key)
                home = None if old is None else state._home(old[0])
                state._places.clear()
                got = state._found(key)
                if old is None or home is None:
                    assert got is None, key
                    continue
                assert got is not None and got[0] is home[0], key
                assert got[1:] == (home[1], memory._slot(old[1], is_hashed(key)),
                                   is_hashed(key)), key
    assert asked > 500


# -- times6: a sided record's times in six bytes -----------------------------------------

_DAY = 86_400.0


def _carry() -> float:
    """The first time whose double's low six bytes are all 0 after T0's: a record across it
    holds times whose top two bytes differ."""
    bits = struct.unpack("<Q", struct.pack("<d", T0))[0]
    return struct.unpack("<d", struct.pack("<Q", (bits | (1 << 48) - 1) + 1))[0]


@pytest.mark.parametrize("seed", range(12))
def test_touches_across_the_six_byte_bound_leave_the_slow_paths_bytes(seed: int) -> None:
    """Guard (times6): touches that jump 400 and 900 days (past the 777 days six bytes
    hold), step by 2**-22 s, come late and cross the top bytes' carry, with TTLs of 45 s to
    1,000 days: each leaves the bytes ``sided._retouched`` leaves, its layout a function of
    its times (six bytes exactly where they fit), and every time read back as touched."""
    from spimguard.state import sided

    rng = random.Random(seed)
    sides = rng.choice([1, 3, 4])
    declared = (1e6,) * sides  # a TTL some touches name: their heads derived
    people = [sys.intern(f"p{i}") for i in range(rng.choice([3, 8, 40]))]
    record: sided.Record | None = None
    now = rng.choice([T0, _carry() - 50.0, 1e9])
    touched: set[float] = set()
    for _ in range(300):
        now += rng.choice([0.0, 1.0, 30.0, -2.0, 400 * _DAY, 900 * _DAY, 2**-22, 3.0])
        side, fresh = rng.randrange(sides), rng.sample(people, rng.choice([1, 1, 2]))
        ttl, cap = rng.choice([45.0, 1e6, 500 * _DAY, 1000 * _DAY]), rng.choice([2, 3, 50])
        touched.add(now)
        copy = sided.Record(record.names, record.times) if record else sided.empty(sides)
        slow = sided._retouched(copy, side, declared, fresh, now, ttl, cap)
        record = sided.touched(record, side, declared, fresh, now, ttl, cap)
        assert (record.names, record.times) == (slow.names, slow.times), now
        at = sided._ranks_at(record.times, sides) + (sides * len(record.names)
                                                      << (record.times[0] & 3))
        times = sided._listed(record.times, at)
        assert times == sorted(set(times)), now
        if times:
            assert sided.in_sixes(record.times) == (sided._sixed(times) is not None), now
        assert set(times) <= touched, now  # each read back bit for bit
        if cap == 50:  # no stalest dropped: those just touched are on the side
            assert sided.contains(record, side, declared, fresh, now) == (True,) * len(fresh)
        for asked in range(sides):  # each side as its column of times answers
            column = sided._column(record.times, asked, sides, len(record.names))
            flat = sided._flat(record.times, len(record.names), declared)
            expiry, kept = flat[2 * asked:2 * asked + 2]
            alive = expiry > now
            assert sided.contains(record, asked, declared, record.names, now) == tuple(
                alive and t > now - kept for t in column), now
            window = rng.choice([1.0, 60.0, 400 * _DAY])
            since = now - min(window, kept)  # within the side's TTL too
            assert sided.distinct(record, asked, declared, window, now) == (
                sum(t > since for t in column) if alive else 0), now
