"""Waves: a new pitch learnt from a handful of trusted reports, and what sybils cannot do."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import T0, config, established, event, message
from conftest import TURKISH_CHAT as CHAT  # the same greetings and words, none of the offer
from spimguard import neighbours, open_engine
from spimguard.config import Config
from spimguard.detectors.waves import WavesDetector
from spimguard.engine import Engine
from spimguard.errors import ConfigError
from spimguard.neighbours import NEAR, common_shingles, ordinary, shingles, similarity, sketch
from spimguard.text import CACHED_CHARS, masked, names_of, view
from spimguard.trust import decide

# A pitch in Turkish (a language the bundled model was not trained on, and words it lets
# through), written the way a wave rewrites itself: greeting, terms, sum and handle change.
GREETINGS = ("Selam arkadaşlar", "Merhaba millet", "İyi akşamlar komşular", "Herkese selam")
OFFERS = ("evden çalışarak günde", "telefonla yarım saatte", "boş vakitlerinizde her gün")
TERMS = ("kimseye bir şey ödemeden", "hiç tecrübe gerekmeden", "sadece birkaç tıkla")
PITCHES = [f"{g}, {o} {300 + 25 * i} lira kazanmak isteyen var mı? {t} başlayabilirsiniz, "
           f"yer sınırlı. Ayrıntılar kanalımızda: @firsat_kulubu{i}"
           for i, (g, o, t) in enumerate(itertools.product(GREETINGS, OFFERS, TERMS))]
# The other learners (the content model's online part, bulk's campaign confirmation) learn
# from the same reports; they are left out where the test is what this detector does.
ALONE = {"content": {"enabled": False}, "bulk": {"enabled": False}}
STOPPED = ("hold", "block")


def _send(engine: Engine, id: str, sender: str, recipient: str, text: str, ts: float) -> str:
    return engine.process(message(engine.config, id, sender, [recipient], text, ts=ts)).action


def _report(engine: Engine, reporter: str, message_id: str, ts: float, **extra: object) -> None:
    engine.process(event(engine.config, type="report", id=f"rep-{reporter}-{message_id}",
                         reporter=reporter, message_id=message_id, label="spam", ts=ts,
                         **extra))


def _learn_wave(engine: Engine, count: int = 20) -> None:
    """``count`` copies of the pitch, each from its own sender to its own recipient of
    standing, who reports it."""
    established(engine, *(f"victim{i}" for i in range(count)))
    for i, text in enumerate(PITCHES[:count]):
        _send(engine, f"w{i}", f"spammer{i}", f"victim{i}", text, T0 + 10 * i)
        _report(engine, f"victim{i}", f"w{i}", T0 + 10 * i + 5)


def _unseen(engine: Engine, start: float = T0 + 1_000) -> list[str]:
    """The pitch's other copies, from other senders to other recipients."""
    return [_send(engine, f"u{start}-{i}", f"other{i}", f"friend{i}", text, start + i)
            for i, text in enumerate(PITCHES[20:])]


def _chat(engine: Engine, start: float) -> list[str]:
    return [_send(engine, f"c{start}-{i}", f"alice{i}", f"bob{i}", text, start + i)
            for i, text in enumerate(CHAT)]


def test_the_fixture_is_a_wave_and_the_chat_is_not() -> None:
    """Each unseen variant is near several reported ones (no two share a fingerprint);
    the chat shares only greetings and common words with them."""
    sketches = [sketch(view(t)) for t in PITCHES]
    chat = [sketch(view(t)) for t in CHAT]
    assert len({view(t).fingerprint for t in PITCHES}) == len(PITCHES)
    assert all(sum(similarity(a, b) >= NEAR for b in sketches[:20]) >= 3  # type: ignore[arg-type]
               for a in sketches[20:])
    assert max(similarity(a, b) for a in sketches for b in chat) < NEAR  # type: ignore[arg-type]


def test_a_wave_is_held_after_twenty_trusted_reports_and_its_language_is_not() -> None:
    assert not set(_unseen(open_engine(config()))) & set(STOPPED)  # before any report
    without = open_engine(config(detectors={**ALONE, "waves": {"enabled": False}}))
    _learn_wave(without)
    assert set(_unseen(without)) == {"deliver"}
    engine = open_engine(config(detectors=ALONE))
    _learn_wave(engine)
    verdicts = [engine.process(message(engine.config, f"u{i}", f"other{i}", [f"friend{i}"],
                                       text, ts=T0 + 1_000 + i))
                for i, text in enumerate(PITCHES[20:])]
    assert all(v.action == "hold" for v in verdicts)
    assert all("WAVE_REPORTED" in {s.code for s in v.signals} for v in verdicts)
    assert set(_chat(engine, T0 + 2_000)) == {"deliver"}
    everything = open_engine(config())
    _learn_wave(everything)
    assert set(_unseen(everything)) <= set(STOPPED)


def test_the_learnt_wave_does_not_hold_chat_that_only_greets_like_it() -> None:
    """What reports taught moves a text by the share of its words they taught: chat that
    shares a greeting with the reported pitch and says something else is not held by
    the content model (before, each learnt greeting word added its full weight, and
    "Selam arkadaşlar, akşam görüşürüz" went from p 0.28 to 0.95), while the pitch's
    unseen variants, mostly the pitch's words, are held by it alone."""
    engine = open_engine(config(detectors={**ALONE, "content": {"enabled": True},
                                           "waves": {"enabled": False}}))
    _learn_wave(engine)
    assert set(_unseen(engine)) <= set(STOPPED)
    greeted = ["Selam arkadaşlar, akşam görüşürüz", "Selam arkadaşlar, nasılsınız?",
               "Merhaba millet, ayrıntılar yarın"]
    assert not {_send(engine, f"g{i}", f"alice{i}", f"bob{i}", text, T0 + 3_000 + i)
                for i, text in enumerate(greeted)} & set(STOPPED)


def test_sybils_reporting_ordinary_chat_leave_it_delivered() -> None:
    """Throwaway accounts the attacker wrote the chat to report it: their reports weigh
    what new accounts weigh, and the lines stay delivered from anyone; one account of
    standing reporting every line counts once. Three reporters of standing would hold
    the next copy from a stranger (the bar they did not reach)."""
    engine = open_engine(config(detectors=ALONE))
    established(engine, "insider")
    ts = T0
    for i, text in enumerate(CHAT):
        for k in range(3):  # each line to three sybils, and to the one insider
            ts += 1
            _send(engine, f"bait{i}-{k}", "mallory", f"sybil{i}-{k}", text, ts)
            _report(engine, f"sybil{i}-{k}", f"bait{i}-{k}", ts)
        _send(engine, f"bait{i}-in", "mallory", "insider", text, ts)
        _report(engine, "insider", f"bait{i}-in", ts)
    waves = next(d for d in engine.detectors if isinstance(d, WavesDetector))
    assert len(waves.index.entries) == 4 * len(CHAT)  # all were learnt
    assert set(_chat(engine, ts + 100)) == {"deliver"}
    trusted = ("judge1", "judge2", "judge3")
    established(engine, *trusted, ts=ts)
    for k, judge in enumerate(trusted):
        _send(engine, f"again{k}", "mallory", judge, CHAT[0], ts + 200 + k)
        _report(engine, judge, f"again{k}", ts + 200 + k)
    assert _send(engine, "last", "carol", "dave", CHAT[0], ts + 300) == "hold"


def test_reports_of_encrypted_messages_teach_through_their_words() -> None:
    """An encrypted copy has no words; its recipients' clients send them with the report."""
    engine = open_engine(config(detectors=ALONE))
    established(engine, *(f"victim{i}" for i in range(20)))
    for i, text in enumerate(PITCHES[:20]):
        engine.process(event(engine.config, type="message", id=f"e{i}", sender=f"spammer{i}",
                             recipients=[f"victim{i}"], ts=T0 + i, encrypted=True,
                             size=len(text)))
        _report(engine, f"victim{i}", f"e{i}", T0 + i + 1, text=text)
    assert set(_unseen(engine)) == {"hold"}


def test_what_was_learnt_survives_a_restart_and_expires(tmp_path: Path) -> None:
    """The index is rebuilt from state: a restarted node, and the memory backend, judge
    alike; a reported message stops counting ``remember_days`` after its last report."""
    cfg: Config = config(storage={"backend": "sqlite"}, detectors=ALONE)
    first = open_engine(cfg, tmp_path)
    _learn_wave(first)
    first.close()
    again = open_engine(cfg, tmp_path)
    memory = open_engine(config(detectors=ALONE))
    _learn_wave(memory)
    assert _unseen(again) == _unseen(memory) == ["hold"] * len(PITCHES[20:])
    later = T0 + 31 * 86_400
    assert "hold" not in _unseen(open_engine(cfg, tmp_path), later)


def test_nodes_sharing_redis_learn_each_others_reports(tmp_path: Path, redis_url: str,
                                                       redis_namespace: str) -> None:
    """A node that was running while another learnt the wave judges it alike."""
    cfg = config(storage={"backend": "redis", "redis_url": redis_url,
                          "redis_namespace": redis_namespace},
                 records={"evidence_key": "waves"}, detectors=ALONE)
    one, two = open_engine(cfg, tmp_path / "one"), open_engine(cfg, tmp_path / "two")
    _learn_wave(one)
    assert set(_unseen(two)) == {"hold"}


def test_an_operator_outranks_reporters_both_ways() -> None:
    """An operator's spam decision on one copy is enough; a ham decision takes a reported
    copy out again, whoever reported it."""
    engine = open_engine(config(detectors=ALONE))
    _send(engine, "lone", "spammer", "victim", PITCHES[0], T0)
    decide(engine, "lone", "spam", ts=T0 + 1)
    assert _send(engine, "v1", "other1", "friend1", PITCHES[30], T0 + 2) == "hold"
    decide(engine, "lone", "ham", ts=T0 + 3)
    assert _send(engine, "v2", "other2", "friend2", PITCHES[30], T0 + 4) == "deliver"
    _learn_wave(engine, 4)
    assert _send(engine, "v3", "other3", "friend3", PITCHES[31], T0 + 100) == "hold"
    decide(engine, "w0", "ham", ts=T0 + 101)
    decide(engine, "w1", "ham", ts=T0 + 102)
    assert _send(engine, "v4", "other4", "friend4", PITCHES[32], T0 + 103) == "deliver"


def test_an_account_named_operator_is_one_reporter_like_any_other() -> None:
    """Only ``decide`` speaks for an operator; a decision on a message users had already
    brought to a_m = 1 still counts as one."""
    engine = open_engine(config(detectors=ALONE))
    established(engine, "operator", "victim")
    _send(engine, "w0", "spammer", "operator", PITCHES[0], T0)
    _report(engine, "operator", "w0", T0 + 1)
    assert _send(engine, "v1", "other1", "friend1", PITCHES[30], T0 + 2) == "deliver"
    _send(engine, "w1", "spammer", "victim", PITCHES[1], T0 + 3)
    _report(engine, "victim", "w1", T0 + 4)
    decide(engine, "w1", "spam", ts=T0 + 5)
    assert _send(engine, "v2", "other2", "friend2", PITCHES[31], T0 + 6) == "hold"


# English chat that repeats itself (UCI's ordinary messages say this a dozen ways), and an
# English pitch reworded: the bundled table knows English chat, not this pitch.
APOLOGIES = ["Sorry, I'll call later in meeting.", "Sorry, in meeting I'll call you later",
             "Sorry, I'll call you later, I am in a meeting"]
JACKPOT = ["URGENT! You have won a 1 week FREE membership in our £100,000 Prize Jackpot! "
           "Txt the word: CLAIM to No: 81010",
           "URGENT! You have won a 2 week FREE membership in our £100,000 Prize Jackpot! "
           "Txt the word CLAIM to 81010 now"]


def test_ordinary_chat_has_no_sketch_and_a_pitch_keeps_one() -> None:
    """Without the table, a reworded apology is within NEAR of the reported ones; with it,
    its shingles are ordinary chat's and no evidence, while a pitch's own words remain."""
    none = ordinary("none")
    again = "Sorry, I'll call later, I'm in a meeting now"
    assert all(similarity(sketch(view(a), common=none), sketch(view(again), common=none))
               >= NEAR for a in APOLOGIES)  # type: ignore[arg-type]
    assert {sketch(view(t)) is None for t in [*APOLOGIES, again]} == {True}
    assert similarity(*(sketch(view(t)) for t in JACKPOT)) >= NEAR  # type: ignore[misc]


def test_reports_of_chat_that_repeats_itself_reach_none_of_its_copies() -> None:
    """Three accounts of standing (aged sybils: what an attacker can field) report three
    ways of saying "I'll call later"; a stranger saying it a fourth way is delivered."""
    engine = open_engine(config(detectors=ALONE))
    judges = ("judge1", "judge2", "judge3")
    established(engine, *judges)
    for k, (judge, text) in enumerate(zip(judges, APOLOGIES, strict=True)):
        _send(engine, f"bait{k}", "mallory", judge, text, T0 + k)
        _report(engine, judge, f"bait{k}", T0 + k)
    verdict = engine.process(message(engine.config, "next", "carol", ["dave"],
                                     "Sorry, I'll call later, I'm in a meeting now",
                                     ts=T0 + 100))
    assert verdict.action == "deliver"
    assert "WAVE_REPORTED" not in {s.code for s in verdict.signals}


def test_a_table_that_is_not_one_is_a_config_error(tmp_path: Path) -> None:
    """A missing file, or one that is not a sorted table of hashes, is named; the engine
    then runs without the detector (as with any detector that cannot start)."""
    unsorted = tmp_path / "unsorted.npy"
    np.save(unsorted, np.array([3, 1, 2], dtype=np.uint64))
    for path in (str(tmp_path / "missing.npy"), str(unsorted)):
        with pytest.raises(ConfigError, match=r"detectors\.waves\.ordinary"):
            WavesDetector({"ordinary": path}, config())


def test_reports_by_accounts_that_did_not_receive_the_message_teach_nothing() -> None:
    """Accounts of standing reporting copies sent to others: the trust model weighs their
    reports 0, so the wave memory stays empty and the next copy is delivered."""
    engine = open_engine(config(detectors=ALONE))
    established(engine, *(f"bystander{i}" for i in range(5)))
    for i, text in enumerate(PITCHES[:5]):
        _send(engine, f"w{i}", f"spammer{i}", f"victim{i}", text, T0 + i)
        _report(engine, f"bystander{i}", f"w{i}", T0 + i + 1)
    waves = next(d for d in engine.detectors if isinstance(d, WavesDetector))
    assert not waves.index.entries
    assert set(_unseen(engine)) == {"deliver"}


def test_the_table_holds_what_one_in_a_thousand_ordinary_messages_say() -> None:
    """Of 2,000 messages: the shingles of a line two of them say are in the table (and
    that line then has no sketch), those of a line one of them says are not."""
    said, once = "meet me at the harbour tonight", "zebra crossing beside windmills"
    texts = ["ok"] * 1_997 + [said, said + "!", once]
    table = common_shingles(texts)
    found, owner = shingles([(view(said), ()), (view(once), ())], ordinary("none"))
    assert set(found[owner == 0].tolist()) <= set(table.tolist())
    assert not set(found[owner == 1].tolist()) & set(table.tolist())
    assert sketch(view(said), common=table) is None
    assert sketch(view(once), common=table) is not None


def _sketch_by_definition(text: str, names: tuple[str, ...], common: np.ndarray
                          ) -> list[int] | None:
    """``neighbours``' sketch from its docstrings, in Python integers, one text alone."""
    words = masked(view(text).prose_skeleton, (), names)[:neighbours.MAX_CHARS]  # no domains
    size, mask = neighbours.SHINGLE, 2**64 - 1
    mix, base = int(neighbours._MIX), int(neighbours._P)
    found = set()
    for start in range(len(words) - size + 1):
        h = 0
        for char in words[start:start + size]:
            h = (h * base + ord(char)) & mask
        found.add(((h ^ (h >> 29)) * mix) & mask)
    found -= set(common.tolist())
    if len(found) < neighbours.MIN_SHINGLES:
        return None
    marks = []
    for a, b in zip(*(p.tolist() for p in neighbours._PERMUTATIONS), strict=True):
        least = min(found, key=lambda h: (a * h + b) & mask)
        marks.append((((least ^ a) * mix) & mask) >> 48)
    return marks


def test_a_batch_is_sketched_text_by_text() -> None:
    """``sketches`` hashes a batch's texts as one run of characters and takes each text's
    minima together: every text's sketch is still that of its own shingles alone, by the
    definition, however the batch is composed, across the chunks it is permuted in (a
    text longer than a chunk, texts too short to sketch, an empty one)."""
    letters = random.Random(7).choices("abcdefghijklmnopqrstuvwxyzçğıöşü ", k=5_000)
    long = "".join(letters)  # its MAX_CHARS give nearly as many distinct shingles
    # The shortest texts that may have a sketch (MIN_CHARS characters, every shingle
    # distinct) and the longest that may not, which ``sketches`` does not hash at all.
    edge = ["qwertyuiopasdfghjklz"[:neighbours.MIN_CHARS],
            "zxcvbnmlkjhgfdsapoi"[:neighbours.MIN_CHARS - 1]]
    texts = [*PITCHES[:6], "", "ok", *CHAT, long, PITCHES[6] + " " + PITCHES[7], "x" * 30,
             *edge]
    sizes = np.bincount(shingles([(view(t), ()) for t in texts], ordinary())[1])
    assert sizes[sizes >= neighbours.MIN_SHINGLES].sum() > neighbours._CHUNK  # several chunks
    assert sizes[-2] == neighbours.MIN_SHINGLES and sizes[-1] == neighbours.MIN_SHINGLES - 1
    for common in (ordinary("none"), ordinary()):
        want = [_sketch_by_definition(t, names_of(("victim",)), common) for t in texts]
        assert any(w is None for w in want) and sum(w is not None for w in want) > 8
        assert want[-2] is not None and want[-1] is None
        alone = [sketch(view(t), names_of(("victim",)), common) for t in texts]
        assert [None if g is None else g.tolist() for g in alone] == want
        for batch in (texts, texts[::-1]):
            got = neighbours.sketches([(view(t), names_of(("victim",))) for t in batch],
                                      common)
            assert [None if g is None else g.tolist() for g in got] == [
                want[texts.index(t)] for t in batch]


# Hostile text: repeats (few distinct shingles), scripts, marks, invisible and unpaired
# surrogate code points, links (left out of the shingles), names, digits; around MIN_CHARS.
_HOSTILE = st.text(st.sampled_from("aab  c.:/@-#1é\u0301\u200bйЖก🙂\ud800")
                   | st.characters(), max_size=90)


@settings(max_examples=200, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(texts=st.lists(_HOSTILE | st.sampled_from(
    [*PITCHES[:3], "victim, see x.com/a " * 3, "qwertyuiopasdfghjklz", "a" * 40]),
    min_size=1, max_size=8), table=st.integers(0, 2))
def test_sketches_of_any_texts_are_each_texts_own(texts: list[str], table: int) -> None:
    """Whatever the texts, alone (``sketches``' one-text path) or in a batch of up to eight
    (the server's group commit at ordinary load), each sketch is the definition's: of no
    table, the bundled one, or one of the batch's own shingles and the largest hash (a
    table past whose end most hashes fall)."""
    names = names_of(("victim",))
    common = (ordinary("none"), ordinary(), np.unique(np.append(
        shingles([(view(texts[0]), names)], ordinary("none"))[0], np.uint64(2**64 - 1))))[table]
    want = [_sketch_by_definition(t, names, common) for t in texts]
    got = neighbours.sketches([(view(t), names) for t in texts], common)
    assert [None if g is None else g.tolist() for g in got] == want
    alone = [sketch(view(t), names, common) for t in texts]
    assert [None if g is None else g.tolist() for g in alone] == want
    found, owner = shingles([(view(t), names) for t in texts], common)
    assert owner.tolist() == sorted(owner.tolist())
    for at, t in enumerate(texts):
        own = found[owner == at].tolist()
        assert own == sorted(set(own)) == sorted(set(shingles([(view(t), names)], common)[0]
                                                      .tolist()))


def test_a_kept_sketch_is_its_words_own_whatever_was_sketched_before(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``sketches``' ``kept`` answers a text as sketched afresh, batch after batch: the same
    text greeting other names is other words (each greeting masked: another sketch), a
    text repeated within a batch and across batches answers alike, what is let go past the
    bound is sketched again, and a text longer than ``CACHED_CHARS`` is never kept. Fails
    if the kept sketches are found by the message's text rather than its words (the
    greetings), or if the bound keeps the first texts rather than the recent ones."""
    monkeypatch.setattr(neighbours, "KEPT_SKETCHES", 4)
    common, kept = ordinary(), {}
    greeting = "Dear {}, " + PITCHES[0]
    long = " ".join(PITCHES)[:CACHED_CHARS + 40]
    batches = [[(greeting.format("Ayşe"), ("Ayşe",))],
               [(greeting.format("Ayşe"), ("Mehmet",)), (greeting.format("Ayşe"), ("Ayşe",))],
               [(PITCHES[1], ()), (PITCHES[1], ()), (long, ()), ("ok, see you", ())],
               [(PITCHES[2], ()), (PITCHES[3], ()), (PITCHES[4], ())],
               [(greeting.format("Ayşe"), ("Ayşe",)), (long, ()), (PITCHES[1], ())]]
    for batch in batches:
        texts = [(view(t), names_of(names)) for t, names in batch]
        want = [None if w is None else w.tolist() for w in neighbours.sketches(texts, common)]
        got = neighbours.sketches(texts, common, kept)
        assert [None if g is None else g.tolist() for g in got] == want
        assert all(g is None or not g.flags.writeable for g in got)
        assert len(kept) <= 4 and all(len(w) <= CACHED_CHARS for w in kept)
    greeted = [neighbours._words(view(greeting.format("Ayşe")), names_of((n,)))
               for n in ("Ayşe", "Mehmet")]
    assert greeted[0] != greeted[1] and greeted[0] in kept  # the latest, kept
    assert neighbours._words(view(PITCHES[4]), ()) in kept
