"""The content model: readers, training determinism, scoring, learning from reports, bounds."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from conftest import T0, config, event, message
from spimguard import accounts, open_engine
from spimguard.cli import app
from spimguard.detectors.content import _SURELY_BELOW, ContentDetector
from spimguard.engine import Engine
from spimguard.errors import BadInput, ConfigError
from spimguard.model import datasets, features, scorer
from spimguard.model import train as training
from spimguard.model.features import batch_parts, buckets, parts
from spimguard.model.online import OnlineDelta
from spimguard.text import view

SPAM = ["WINNER! claim your free prize now, call 09061701461", "Free ringtones! text TONE to 87066",
        "URGENT your mobile number won £2000, call 09066364589", "free entry to win cash, txt WIN"]
HAM = ["are you coming to dinner tonight?", "ok see you at the station", "call me when you land",
       "did you finish the report for monday", "happy birthday, have a great day!"]


def write_fixture(folder: Path) -> dict[str, Path]:
    uci = folder / "uci.tsv"
    uci.write_text("".join(f"spam\t{t}\n" for t in SPAM) + "".join(f"ham\t{t}\n" for t in HAM)
                   + "ham\tok see you at the station\n")  # a repeat, dropped by dedupe
    mishra = folder / "mishra.csv"
    mishra.write_text("LABEL,TEXT,URL,EMAIL,PHONE\nSmishing,verify your bank login at "
                      "http://bank-secure.example.com,Yes,No,No\nHAM,see you soon,No,No,No\n"
                      "spam,Free ringtones! text TONE to 87066,No,No,No\n")
    indo = folder / "indo.csv"
    indo.write_text('Teks,label\n"Promo paket internet murah, aktifkan *123#",2\n'
                    '"Selamat anda menang hadiah, transfer ke rekening",1\n'
                    '"nanti sore ketemu ya",0\n')
    plain = folder / "wave.txt"
    plain.write_text("Набираю в команду партнёров, доход от 5000 в день, пишите в лс\n\n"
                     "Ищу людей на удалёнку, оплата каждый день, пишите в лс\n")
    return {"uci": uci, "mishra": mishra, "indo": indo, "plain": plain}


def test_readers_fold_labels_and_dedupe(tmp_path: Path) -> None:
    files = write_fixture(tmp_path)
    uci = datasets.read(str(files["uci"]))
    assert len(uci) == 10 and sum(s.spam for s in uci) == 4
    mishra = datasets.read(str(files["mishra"]))
    assert [s.spam for s in mishra] == [1, 0, 1]  # smishing and any case count as spam
    assert [s.spam for s in datasets.read(str(files["indo"]))] == [1, 1, 0]
    assert [s.spam for s in datasets.read(f"{files['plain']}=spam")] == [1, 1]
    merged = datasets.dedupe(uci + mishra)
    assert len(merged) == 11  # the repeated ham and the shared ringtone spam once each
    with pytest.raises(BadInput):
        datasets.read(str(files["plain"]))  # plain text needs a label


def test_training_is_deterministic(tmp_path: Path) -> None:
    files = write_fixture(tmp_path)
    samples = datasets.dedupe(s for f in ("uci", "mishra", "indo") for s in
                              datasets.read(str(files[f])))
    first = training.train(samples, bits=16)
    second = training.train(samples, bits=16)
    assert np.array_equal(first.weights, second.weights) and first.bias == second.bias
    first.save(tmp_path / "m.npz")
    loaded = scorer.load(tmp_path / "m.npz")
    assert np.array_equal(loaded.weights, first.weights)
    assert loaded.probability(view(SPAM[0])) > loaded.probability(view(HAM[0]))


def test_features_survive_disguises() -> None:
    plain = set(buckets(view("free ringtones, call now")).tolist())
    for disguised in ("FR33 R1NGT0NES, call now", "frее ringtоnes, call now",
                      "fr\u200bee ring\u200btones, call now"):
        shared = plain & set(buckets(view(disguised)).tolist())
        assert len(shared) / len(plain) > 0.8, disguised


def test_bundled_model_separates_spam_from_chat() -> None:
    model = scorer.load()
    assert model.probability(view("URGENT! You have won a £1000 prize. Call 09061701461 "
                                  "to claim now")) > 0.9
    assert model.probability(view("are you still coming over for dinner tonight?")) < 0.05
    assert model.card["seed"] == training.SEED


def content_engine(trust: dict[str, object] | None = None, **settings: object) -> Engine:
    # Reporters here are accounts first seen today: weighed as established ones, since
    # what a report weighs is the trust model's business (test_adversarial.py).
    return open_engine(config(detectors={"content": settings, "velocity": {"enabled": False}},
                              trust={"new_weight": 1.0, **(trust or {})}))


def content_of(engine: Engine) -> ContentDetector:
    return next(d for d in engine.detectors if isinstance(d, ContentDetector))


WAVE = ["Набираю в команду партнёров, доход от {n} в день, пишите в лс",
        "Ищу людей на удалёнку, доход от {n} в день, пишите в лс"]


def send_wave(engine: Engine, start: int, count: int, sender: str = "w",
              also: tuple[str, ...] = ()) -> list:  # type: ignore[type-arg]
    """Wave message i goes to r{i} and to ``also``: those may report it."""
    return [engine.process(message(engine.config, f"wave{i}", f"{sender}{i}",
                                   [f"r{i}", *also], WAVE[i % 2].format(n=1000 + i), T0 + i))
            for i in range(start, start + count)]


def report(engine: Engine, id: str, message_id: str, label: str = "spam",
           reporter: str = "", ts: float = T0 + 500) -> None:
    reporter = reporter or "r" + message_id.removeprefix("wave")
    engine.process(event(engine.config, type="report", id=id, ts=ts, reporter=reporter,
                         message_id=message_id, label=label))


def test_reports_teach_a_new_wave_within_the_same_second() -> None:
    engine = content_engine()
    before = send_wave(engine, 0, 10)
    # A wave in a script it never trained on: its cues (a job, money, "write in
    # private") hold some of it, the reports the rest.
    held_before = sum(v.action in ("hold", "block") for v in before)
    assert held_before < 8
    for i in range(10):
        report(engine, f"rep{i}", f"wave{i}")
    after = send_wave(engine, 10, 10)
    assert sum(v.action in ("hold", "block") for v in after) >= 8 > held_before
    assert "before user reports" in after[0].signals[0].detail
    chat = engine.process(message(engine.config, "chat", "a", ["b"], "пишите когда будете дома",
                                  T0 + 900))
    assert chat.action == "deliver"


def test_spam_and_ham_reports_cancel_and_one_message_moves_at_most_once() -> None:
    engine = content_engine()
    send_wave(engine, 0, 1, also=tuple("abcdefg") + tuple(f"mob{i}" for i in range(5)))
    detector = content_of(engine)
    report(engine, "s1", "wave0", reporter="a")
    once = detector.online.delta_.copy()
    for i in range(5):  # a mob reporting the same message adds nothing more
        report(engine, f"mob{i}", "wave0", reporter=f"mob{i}")
    assert np.array_equal(detector.online.delta_, once) and np.abs(once).max() > 0
    report(engine, "h1", "wave0", label="ham", reporter="b")
    report(engine, "h2", "wave0", label="ham", reporter="c")
    report(engine, "h3", "wave0", label="ham", reporter="d")
    report(engine, "h4", "wave0", label="ham", reporter="e")
    report(engine, "h5", "wave0", label="ham", reporter="f")
    report(engine, "h6", "wave0", label="ham", reporter="g")
    # 6 spam against 6 ham reports: net zero, nothing learnt.
    assert np.allclose(detector.online.delta_, 0.0, atol=1e-6)


def test_one_report_alone_teaches_nothing_a_second_message_corroborates() -> None:
    engine = content_engine()
    send_wave(engine, 0, 2)
    detector = content_of(engine)
    report(engine, "s1", "wave0")  # mistaken or malicious: one message
    assert np.abs(detector.online.delta_).max() > 0
    assert not np.abs(detector.online.effective()).any()
    report(engine, "s2", "wave1")  # a second message shares its words
    assert np.abs(detector.online.effective()).max() > 0


def test_reporter_cap_suspects_and_self_reports() -> None:
    engine = content_engine(trust={"reporter_daily_cap": 3})
    send_wave(engine, 0, 6, also=("eager",))
    detector = content_of(engine)
    for i in range(6):  # one reporter, six messages: only the first three count
        report(engine, f"r{i}", f"wave{i}", reporter="eager", ts=T0 + 100 + i)
    learnt = detector.online.delta_.copy()
    capped = content_engine(trust={"reporter_daily_cap": 3})
    send_wave(capped, 0, 6, also=("eager",))
    for i in range(3):
        report(capped, f"r{i}", f"wave{i}", reporter="eager", ts=T0 + 100 + i)
    assert np.allclose(content_of(capped).online.delta_, learnt)

    own = content_engine()
    send_wave(own, 0, 1)
    report(own, "self", "wave0", label="ham", reporter="w0")  # the sender whitewashing itself
    assert not np.abs(content_of(own).online.delta_).any()

    suspect = content_engine(trust={"suspect_weight": 0.1})
    send_wave(suspect, 0, 1, also=("sus",))
    sus = suspect.read_state([accounts.record("sus")])[0]  # its record: first seen kept
    suspect.write_state([accounts.with_action("sus", sus, "challenge", "", "test", T0, 86400)])
    report(suspect, "r", "wave0", reporter="sus")
    honest = content_engine()
    send_wave(honest, 0, 1)
    report(honest, "r", "wave0")
    ratio = np.abs(content_of(suspect).online.delta_).max() / np.abs(
        content_of(honest).online.delta_).max()
    assert ratio == pytest.approx(0.1, rel=1e-3)


def test_learnt_state_survives_restart_and_moves_between_installations(tmp_path: Path) -> None:
    cfg = config(storage={"backend": "sqlite"}, detectors={"velocity": {"enabled": False}},
                 trust={"new_weight": 1.0})
    engine = open_engine(cfg, tmp_path / "a")
    send_wave(engine, 0, 3)
    for i in range(3):
        report(engine, f"r{i}", f"wave{i}")
    learnt = content_of(engine).online.effective()
    assert np.abs(learnt).max() > 0
    engine.close()
    again = open_engine(cfg, tmp_path / "a")
    assert np.allclose(content_of(again).online.effective(), learnt)
    again.close()

    runner = CliRunner()
    exported = tmp_path / "learnt.json"
    result = runner.invoke(app, ["model", "export", str(exported), "--data-dir",
                                 str(tmp_path / "a")])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["model", "import", str(exported), "--data-dir",
                                 str(tmp_path / "b")])
    assert result.exit_code == 0, result.output
    other = open_engine(cfg, tmp_path / "b")
    assert np.allclose(content_of(other).online.effective(), learnt, atol=1e-6)
    other.close()
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "nope", "bits": 20, "rate": 1, "buckets": [],
                               "values": []}))
    result = runner.invoke(app, ["model", "import", str(bad), "--data-dir", str(tmp_path / "b")])
    assert result.exit_code == 2 and "format" in result.output


def test_train_and_evaluate_commands(tmp_path: Path) -> None:
    files = write_fixture(tmp_path)
    runner = CliRunner()
    out = tmp_path / "model.npz"
    result = runner.invoke(app, ["train", "--data", str(files["uci"]), "--data",
                                 str(files["mishra"]), "--out", str(out), "--card",
                                 str(tmp_path / "CARD.md")])
    assert result.exit_code == 0, result.output
    assert "Reproduce: `spimguard train --data" in (tmp_path / "CARD.md").read_text()
    result = runner.invoke(app, ["evaluate", "--data", str(files["uci"]), "--model", str(out),
                                 "--plots", str(tmp_path / "plots")])
    assert result.exit_code == 0, result.output
    assert "held or blocked" in result.stdout and "operating curve" in result.stdout
    assert (tmp_path / "plots" / "roc.png").stat().st_size > 1000
    result = runner.invoke(app, ["evaluate", "--data", str(files["uci"]), "--cv", "2"])
    assert result.exit_code == 0, result.output


def test_cues_name_what_a_pitch_does_in_any_language_and_not_everyday_asks() -> None:
    from spimguard.model.cues import cues

    pitch = cues(view("Нaбuрaю в кoмaндy, дoxoд от 5000 в день, пишите в лс"))  # homoglyphs
    assert {"cue:job", "cue:money", "cue:private", "cues:3+"} <= set(pitch)
    assert "cue:crypto" in cues(view("空投 airdrop: claim 500 USDT, connect wallet"))
    assert cues(view("пишите когда будете дома")) == ["cues:0"]
    # Links are the links detector's business: a shared link is no cue.
    assert cues(view("look at this https://example.org/photos")) == ["cues:0"]


def test_a_batch_scores_as_one_event_at_a_time_and_sees_what_its_reports_taught() -> None:
    """The batch's messages are scored together before the first is judged
    (``ContentDetector.prepare``); a report inside the batch teaches the online part, and
    the copies after it must be scored with what it taught, as one at a time."""
    alone, batched = content_engine(), content_engine()
    cfg = alone.config
    events = [message(cfg, f"wave{i}", f"w{i}", [f"r{i}"], WAVE[i % 2].format(n=1000 + i),
                      T0 + i) for i in range(10)]
    events += [event(cfg, type="report", id=f"rep{i}", ts=T0 + 500, reporter=f"r{i}",
                     message_id=f"wave{i}", label="spam") for i in range(10)]
    events += [message(cfg, f"wave{i}", f"w{i}", [f"r{i}"], WAVE[i % 2].format(n=1000 + i),
                       T0 + 600 + i) for i in range(10, 20)]
    one_by_one = [alone.process(e) for e in events]
    assert batched.process_batch(events) == one_by_one
    assert "before user reports" in one_by_one[-1].signals[0].detail


def test_batch_margins_are_each_rows_own_sums_bit_for_bit() -> None:
    """``margins`` sums a batch's rows in one segmented sum: each row's margin is the one
    its own weights give, alone or in any batch, in any order, empty rows and rows of
    every length included, guard on or off, to the bit (``float.hex``: a zero's sign too).
    The sum is ``np.add.reduceat``'s, the engine's since batches were prepared: a row's
    first float32 value plus numpy's pairwise sum of the rest (blocks of 8 and 128), which
    differs in the last bits from ``sum`` of the whole row for most rows of 3 or more."""
    rng = np.random.default_rng(3)
    model = scorer.load()
    guarded = scorer.LinearModel(model.weights, model.bias, model.bits, {
        **model.card, "guard": {"knee": 0.5, "prior": -1.0, "density": 0.45}})
    detector = content_of(content_engine())
    taught = rng.integers(0, 2**model.bits, 400)
    detector.online.apply(taught[:300], 0.0, 1.0)  # two reported messages share 200 of
    detector.online.apply(taught[100:], 0.0, 1.0)  # their buckets: those have support
    online = detector.online
    lengths = [0, 1, 7, 8, 9, 127, 128, 129, 300, 1000, 0, 3, *rng.integers(0, 1500, 80)]
    rows = [np.unique(np.concatenate((rng.choice(taught, n // 2),
                                      rng.integers(0, 2**model.bits, n - n // 2))))
            .astype(np.uint32) for n in lengths]

    def summed(weights: np.ndarray) -> float:
        return float(weights[0] + weights[1:].sum()) if len(weights) else 0.0

    def trained(of: scorer.LinearModel, row: np.ndarray) -> float:
        weights = of.weights[row]
        raw = of.bias + summed(weights) / math.sqrt(max(len(row), 1))
        if not len(row) or not of.card["guard"]["knee"]:
            return raw
        covered = np.array([np.count_nonzero(weights) / len(row)])
        return float(of.guarded(np.array([raw]), covered)[0])

    def shift(row: np.ndarray) -> float:
        learnt, size = online.clipped_[row], max(len(row), 1)
        bound = online.max_shift * np.count_nonzero(learnt) / size
        shift = summed(learnt) / math.sqrt(size)
        return float(np.maximum(-bound, np.minimum(bound, np.array([shift])))[0])

    order = rng.permutation(len(rows))
    for batch in (rows, rows[::-1], [rows[i] for i in order], rows[:1], rows[10:13]):
        for of in (model, guarded):
            assert [m.hex() for m in of.margins(batch)] == [
                trained(of, r).hex() for r in batch]
        assert [m.hex() for m in online.margins(batch)] == [shift(r).hex() for r in batch]
    assert [model.margin(r) for r in rows] == model.margins(rows)
    assert sum(bool(shift(r)) for r in rows) > 20 and guarded.margins(rows) != model.margins(rows)


def test_batch_parts_are_each_messages_own_whatever_its_batch() -> None:
    """``batch_parts`` hashes the messages it has not kept together: each message's
    buckets are ``buckets`` of it alone, and both sets are what it hashes to alone or in
    another batch (its greeted names left out, a long text and a repeat included)."""
    texts = [("FREE entry!! Text WIN to 80086, alice, claim at tonez-club.biz", ("alice",)),
             ("ok see you at the station", ()), ("", ()), ("ok see you at the station", ()),
             ("Нaбuрaю в кoмaндy, дoxoд от 5000 ₽ в день, пишите @manager " * 20, ()),
             ("hi bob, call 0800 555 1234 now for your prize", ("bob", "carol"))]
    messages = [(view(text), names) for text, names in texts]
    features._parts_cache.clear()  # hashed afresh, all together
    together = [(f.tolist(), t.tolist()) for f, t in batch_parts(messages)]
    features._parts_cache.clear()
    backwards = [(f.tolist(), t.tolist()) for f, t in batch_parts(messages[::-1])][::-1]
    alone = []
    for one, names in messages:
        features._parts_cache.clear()
        found, teachable = parts(one, names=names)
        assert not found.flags.writeable and not teachable.flags.writeable
        alone.append((found.tolist(), teachable.tolist()))
    assert together == backwards == alone
    assert [found for found, _ in together] == [buckets(one).tolist() for one, _ in messages]
    assert parts(view(texts[5][0]))[1].tolist() != together[5][1]  # "bob" is taught here


def test_a_margin_judged_below_the_floor_without_its_round_trip_is_below_it_with_it() -> None:
    """``detect`` skips ``logit(sigmoid(margin))`` for a margin ``_SURELY_BELOW`` under the
    evidence floor: for every floor the anchors can give (a logit, kept within 1e-9 of 0
    and 1), such a margin's round trip is at or below the floor too, so it gets no points
    either way."""
    floors = [scorer.logit(float(p)) for p in np.concatenate(
        [np.logspace(-12, -1e-9, 400), 1 - np.logspace(-12, -0.3, 400)])]
    below = _SURELY_BELOW + np.concatenate([[0.0], np.logspace(-15, 3, 60)])
    for floor in floors:
        for margin in floor - below:
            assert scorer.logit(scorer.sigmoid(float(margin))) <= floor, (floor, margin)


def _grams_by_definition(raw: bytes, shift: int) -> list[int]:
    """``features``' character n-gram buckets from its docstrings, in Python integers:
    each 2- to 5-gram starting at each of the stream's rows, by Horner's rule mod 2**32,
    seeded by its length and mixed."""
    points = np.frombuffer(raw, dtype=np.uint32).tolist()
    base, mix, mask = int(features._P), int(features._MIX), 2**32 - 1
    out = []
    for row in range(len(points) - 4):
        rolling = points[row]
        for n, seed in enumerate(features._SEEDS.tolist()):
            rolling = (rolling * base + points[row + n + 1]) & mask
            out.append((((rolling ^ seed) * mix) & mask) >> shift)
    return out


# Hostile text: scripts, marks, invisible and unpaired surrogate code points, shouting,
# money and phone-like digits, links and names.
_HOSTILE = st.text(st.sampled_from("aB ₽$0812-3456 x.com/@éЖก🙂\u0301\u200b\ud800")
                   | st.characters(), max_size=80)


@settings(max_examples=200, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(texts=st.lists(st.tuples(_HOSTILE, st.sampled_from([(), ("bob",), ("bob", "x")])),
                      min_size=1, max_size=8))
def test_parts_of_any_texts_are_each_texts_own(texts: list[tuple[str, tuple[str, ...]]]
                                               ) -> None:
    """Whatever the texts, hashed alone (``_hashed_parts``' one-message path) or in a batch
    of up to eight (the server's group commit at ordinary load), each message's parts are
    its own, its buckets are ``buckets``, and its character n-grams the definition's."""
    messages = [(view(text), names) for text, names in texts]
    features._parts_cache.clear()  # hashed afresh, all together
    together = [(f.tolist(), t.tolist()) for f, t in batch_parts(messages)]
    alone = []
    for one, names in messages:
        features._parts_cache.clear()
        found, teachable = parts(one, names=names)
        alone.append((found.tolist(), teachable.tolist()))
        raw = features._stream(one)
        grams = _grams_by_definition(raw, 32 - features.BITS)
        rows = len(raw) // 4 - 4
        hashed = features._gram_hashes(features._windows(raw, rows),
                                       np.empty((5, rows), dtype=np.uint32))
        assert ((hashed.T * features._MIX) >> np.uint32(32 - features.BITS)
                ).ravel().tolist() == grams
        assert set(grams) <= set(found.tolist())
    assert together == alone
    assert [found for found, _ in together] == [buckets(one).tolist() for one, _ in messages]


def test_a_row_whose_taught_values_cancel_is_bounded_as_counted() -> None:
    """``OnlineDelta.margins`` counts a row's taught buckets only when some row's sum is not
    ±0: a row whose taught values cancel scores what its counted bound gives, 0, as does
    one with nothing taught. A negative ``max_shift`` (whose bound, not the sum, would
    answer) is refused, by the delta and by the detector's settings."""
    online = OnlineDelta(4, 1.0, 3.0, max_shift=5.0)
    online.add_array([5, 9], [1.0, -1.0])
    assert online.margins([np.array([5, 9], dtype=np.uint32)]) == [0.0]
    assert online.margins([np.array([3], dtype=np.uint32)]) == [0.0]  # nothing taught
    with pytest.raises(ValueError, match="negative"):
        OnlineDelta(4, 1.0, 3.0, max_shift=-1.0)
    with pytest.raises(ConfigError, match="max_shift, remember_days"):
        ContentDetector({"max_shift": -1.0, "remember_days": -2}, config())
    judge = open_engine(config(detectors={"content": {"max_shift": -1.0}}))
    assert "max_shift cannot be negative" in judge.disabled["content"]  # /healthz says so


def test_a_kept_trained_margin_is_its_messages_own_in_any_batch(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``prepare`` keeps the trained part's margin by text across batches (``kept.answers``):
    each message's is still the one its own buckets give (``LinearModel.margin``), to the
    bit, batch after batch, texts kept and new mixed in any order, repeated in a batch,
    greeting their recipients or not, past the bound. Fails if a kept margin lands at
    another message's place, or if what the bound lets go is the recent rather than the
    least recently used."""
    monkeypatch.setattr("spimguard.detectors.content._KEPT_MARGINS", 3)
    engine = content_engine()
    detector, cfg = content_of(engine), engine.config
    texts = [*HAM[:4], WAVE[0].format(n=1000), "Привет, r1! " + WAVE[1].format(n=7)]
    batches = [[0], [1, 0, 2], [0], [3], [3, 4, 4, 0], [5], [5, 1, 2], [4, 3, 0, 5, 1]]
    recent: list[str] = []  # the kept texts, least recently used first
    for number, batch in enumerate(batches):
        ctxs = [engine._plan(message(cfg, f"m{number}-{at}", "s", ["r1"], texts[i], T0),
                             [detector]).ctx for at, i in enumerate(batch)]
        detector.prepare(ctxs)
        want = [detector.model.margin(buckets(view(texts[i]))).hex() for i in batch]
        assert [ctx.scratch["content"].trained.hex() for ctx in ctxs] == want
        for i in batch:
            recent = [t for t in recent if t != texts[i]] + [texts[i]]
        recent = recent[-3:]
        assert list(detector._margins) == recent


def test_a_kept_online_margin_goes_when_the_delta_changes_or_is_rebuilt(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``prepare`` keeps the online part's margins by a message's teachable buckets while
    the delta they were scored by holds (a text's second batch scores nothing), and what
    a report teaches after (its ``version`` moves) and a rebuild (another delta, whose
    count starts again: here at the very same count) are seen by the next batch, as
    scoring afresh sees them. Fails if the kept margins outlive the delta's version, or
    are kept by the version alone, or are not kept (scored again)."""
    engine = content_engine()
    detector, cfg = content_of(engine), engine.config
    text = WAVE[0].format(n=1000)
    scored_rows: list[int] = []
    margins = OnlineDelta.margins
    monkeypatch.setattr(OnlineDelta, "margins", lambda self, rows: (
        scored_rows.append(len(rows)), margins(self, rows))[1])

    def prepared(number: int) -> tuple[float, float]:
        ctxs = [engine._plan(message(cfg, f"m{number}-{at}", "s", ["r1"], text, T0),
                             [detector]).ctx for at in range(2)]
        detector.prepare(ctxs[:1])
        scored_rows.clear()
        detector.prepare(ctxs[1:])  # a batch of one after another: the kept margin
        assert scored_rows == []
        scored = ctxs[1].scratch["content"]
        return scored.shifts.shift(scored.at, detector.online), detector.online.margin(
            scored.teachable)

    kept, fresh = prepared(0)
    assert kept == fresh == 0.0  # nothing taught yet
    taught = parts(view(text), detector.model.bits, ("r1",))[1]
    detector.online.apply(taught, 0.0, 1.0)
    detector.online.apply(taught, 0.0, 1.0)  # two reports: the buckets have support
    kept, fresh = prepared(1)
    assert kept == fresh > 0.0
    rebuilt = detector._online()
    rebuilt.apply(taught, 0.0, -1.0)
    rebuilt.apply(taught, 0.0, -1.0)
    assert rebuilt.version == detector.online.version  # the same count, another delta
    detector._remembered.online = rebuilt
    kept, fresh = prepared(2)
    assert kept == fresh < 0.0
