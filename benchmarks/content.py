"""The content model's figures: accuracy, learning a new wave from reports, speed.

    python benchmarks/content.py [--datasets ../shared/datasets]

1. Leave-one-corpus-out over the public sets (``model/crosscorpus.py``): each
   corpus scored by the shipped recipe trained without it, grouped by
   fingerprint, on its test half; then the bundled model on the corpora it never
   trained on. This is the figure that predicts the next platform.
2. UCI SMS Spam Collection, stratified 5-fold CV grouped by fingerprint: spam and
   ham held or blocked at the default thresholds, and the operating curve.
3. New waves: each non-English corpus's spam through the engine with a model that
   never trained on it: 20 messages reported by recipients of standing (trusted
   reports), then its other messages (other fingerprints and senders), the same
   language's ordinary messages (real ones, from the same corpus; Telegram RU has
   none) and UCI's English ones. The same for the waves inside each corpus: the
   messages that lead to one site, and chains of near variants. Each figure says how
   much was held or blocked, and how much the waves detector (WAVE_REPORTED) marked.
4. Speed on one core: one message at a time, and in batch; artefact size, load time.
"""

from __future__ import annotations

import itertools
import random
import re
import statistics
import tempfile
import time
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import msgspec
import numpy as np

from spimguard import decode_event, load_config, open_engine
from spimguard.events import Result, Verdict
from spimguard.model import crosscorpus, datasets, scorer
from spimguard.model import train as training
from spimguard.model.evaluate import confusion, recall_at_ham_rates, thresholds
from spimguard.neighbours import MIN_SHINGLES, NEAR, common_shingles, ordinary, shingles
from spimguard.text import _view as uncached_view  # the work, not the cache that saves it
from spimguard.text import view
from table import run_with_datasets

T0 = 1_790_000_000.0


def stopped(labels: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    counts = confusion(labels, p, thresholds(load_config(environ={})))
    spam = (counts["spam"][2] + counts["spam"][3]) / max(sum(counts["spam"]), 1)
    ham = (counts["ham"][2] + counts["ham"][3]) / max(sum(counts["ham"]), 1)
    return spam, ham


def loco(root: Path) -> list[tuple[str, str]]:
    """Prints the two leave-one-corpus-out tables; returns the summary rows."""
    limits = thresholds(load_config(environ={}))
    loaded = crosscorpus.load(root)
    shipped = scorer.load()
    seen = training.trained_on(shipped.card)
    unseen = crosscorpus.table(crosscorpus.never_trained(loaded, shipped, seen), limits)
    held = crosscorpus.table(crosscorpus.leave_one_out(loaded, training.train), limits)
    rows = []
    for title, table in (("bundled model, corpora it never saw", unseen),
                         ("leave-one-corpus-out", held)):
        print(f"\n{title} (test halves, one message per fingerprint):")
        width = [max(len(r.cells()[i]) for r in table) for i in range(len(table[0].cells()))]
        for cells in [crosscorpus.Row.header(), *(r.cells() for r in table)]:
            print("  ".join(c.rjust(max(w, len(h))) for c, w, h in
                            zip(cells, width, crosscorpus.Row.header(), strict=True)))
        mean = table[-1]
        rows += [(f"{title}: other-platform spam held", f"{mean.spam_held:.1%}"),
                 (f"{title}: other-platform spam held or warned", f"{mean.spam_flagged:.1%}"),
                 (f"{title}: other-platform ham held", f"{mean.ham_held:.2%}")]
    print()
    return rows


def accuracy(root: Path) -> list[tuple[str, str]]:
    uci = datasets.dedupe(datasets.read(str(root / "sms-spam-collection/SMSSpamCollection")))
    labels = np.array([s.spam for s in uci])
    p = training.cross_validate(uci)
    spam, ham = stopped(labels, p)
    rows = [("UCI grouped 5-fold CV: spam held or blocked", f"{spam:.2%}"),
            ("UCI grouped 5-fold CV: ham held or blocked", f"{ham:.3%}")]
    for rate, threshold, recall in recall_at_ham_rates(labels, p):
        rows.append((f"UCI grouped 5-fold CV: spam recall at ≤{rate:.1%} ham "
                     f"(p≥{threshold:.3f})", f"{recall:.2%}"))
    return rows


class Judged(NamedTuple):
    """Of a list of messages: the share held or blocked, and the share WAVE_REPORTED marked."""

    stopped: float
    wave: float


def judged(verdicts: list[Verdict]) -> Judged:
    count = max(len(verdicts), 1)
    return Judged(sum(v.action in ("hold", "block") for v in verdicts) / count,
                  sum(any(s.code == "WAVE_REPORTED" for s in v.signals) for v in verdicts)
                  / count)


class Setting(NamedTuple):
    """What judges a corpus: a content model and a table of ordinary chat's shingles that
    never saw it (``None``: the bundled ones), the table ``"none"`` for the old detector."""

    model: Path | None
    ordinary: str


class Engine:
    """An engine on memory storage, with a clock, accounts of standing and reports."""

    def __init__(self, setting: Setting) -> None:
        self.cfg = load_config(environ={}, storage={"backend": "memory"}, detectors={
            "content": {"model": str(setting.model) if setting.model else ""},
            "waves": {"ordinary": setting.ordinary}})
        self.engine = open_engine(self.cfg)
        self.ts = T0
        self.count = 0

    def process(self, body: dict[str, object]) -> Result:
        return self.engine.process(decode_event(msgspec.json.encode(body), self.cfg.limits))

    def send(self, sender: str, recipient: str, text: str) -> tuple[str, Verdict]:
        self.ts += 1
        self.count += 1
        mid = f"m{self.count}"
        answer = self.process({"type": "message", "id": mid, "ts": self.ts, "sender": sender,
                               "recipients": [recipient], "text": text})
        assert isinstance(answer, Verdict)
        return mid, answer

    def reported(self, sender: str, reporter: str, text: str, report: bool = True) -> None:
        """``text`` from ``sender`` to ``reporter``, an account of standing (half a year
        old: a trusted report), who reports it (unless not ``report``: the baseline)."""
        self.process({"type": "account", "id": f"a{self.count}", "ts": self.ts,
                      "account": reporter, "created": T0 - 180 * 86_400})
        mid, _ = self.send(sender, reporter, text)
        if report:
            self.process({"type": "report", "id": f"r{self.count}", "ts": self.ts + 60,
                          "reporter": reporter, "message_id": mid, "label": "spam"})

    def judge(self, samples: list[datasets.Sample], who: str) -> Judged:
        """Each message from a sender of its own to a recipient of its own."""
        return judged([self.send(f"{who}{i}", f"to-{who}{i}", s.text)[1]
                       for i, s in enumerate(samples)])


def wave(title: str, spam: list[datasets.Sample], ham: list[datasets.Sample],
         english: list[datasets.Sample], setting: Setting, reports: int = 20
         ) -> list[tuple[str, str]]:
    """A wave the model never trained on, through the engine: 20 of its messages, sent by 4
    senders, reported by their recipients of standing (trusted reports), then its other
    messages (other fingerprints, other senders), the same language's ordinary messages
    and UCI's English ones (the collateral): each held or blocked, and marked by the waves
    detector."""
    spam = list(spam)
    random.Random(7).shuffle(spam)
    reported, unseen = spam[:reports], spam[reports:]
    # No leak: what is measured was never reported, not even as another copy.
    assert not {view(s.text).fingerprint for s in reported} & {
        view(s.text).fingerprint for s in unseen}

    def run(report_first: bool) -> tuple[Judged, Judged, Judged]:
        engine = Engine(setting)
        for i, sample in enumerate(reported):
            engine.reported(f"spammer{i % 4}", f"victim{i}", sample.text, report_first)
        return (engine.judge(unseen, "other"), engine.judge(ham, "friend"),
                engine.judge(english, "uk"))

    before, after = run(False), run(True)
    rows = [(f"{title} ({len(unseen)} unseen), no reports: held or blocked",
             f"{before[0].stopped:.2%}"),
            (f"{title} after {reports} trusted reports: held or blocked",
             f"{after[0].stopped:.2%}"),
            (f"{title} after {reports} trusted reports: marked WAVE_REPORTED",
             f"{after[0].wave:.2%}")]
    for kind, index, sample in (("ordinary messages of its corpus", 1, ham),
                                ("UCI ordinary messages", 2, english)):
        if sample:
            rows += [(f"{title}: {kind} ({len(sample)}) held, no reports",
                      f"{before[index].stopped:.3%}"),
                     (f"{title}: {kind} held after the reports", f"{after[index].stopped:.3%}"),
                     (f"{title}: {kind} marked WAVE_REPORTED", f"{after[index].wave:.3%}")]
    return rows


_HANDLE = re.compile(r"@[\w.]{3,}")
_PHONE = re.compile(r"(?<!\w)\+?\d[\d\- ]{7,}\d(?!\w)")


def elements(text: str, common: set[str]) -> set[str]:
    """What a campaign's copies share however their words change: the sites its links
    lead to (shorteners and sites everyone shares left out), its phone numbers (8 digits
    or more) and its handles."""
    found = {f"<{d}>" for d in view(text).domains if d not in common}
    found |= {re.sub(r"\D", "", p) for p in _PHONE.findall(text)}
    return found | {h.lower().rstrip(".") for h in _HANDLE.findall(text)}


def by_element(spam: list[datasets.Sample], least: int) -> dict[str, list[datasets.Sample]]:
    """A corpus's spam grouped by a site, phone number or handle they share
    (``elements``): the campaigns, told apart without looking at their words, so a
    text-similarity detector is not measured on groups its own similarity drew. Groups
    of at least ``least`` messages."""
    common = set(_lines("shorteners.txt")) | set(_lines("well_known_domains.txt"))
    groups: dict[str, list[datasets.Sample]] = {}
    for sample in spam:
        for element in sorted(elements(sample.text, common)):
            groups.setdefault(element, []).append(sample)
    return {e: g for e, g in sorted(groups.items()) if len(g) >= least}


def by_likeness(spam: list[datasets.Sample], least: int) -> list[list[datasets.Sample]]:
    """A corpus's spam in chains of near variants (exact Jaccard of all their shingles,
    ordinary chat's included, ≥ ``neighbours.NEAR``, single linkage): the waves the waves
    detector is made for, drawn by its own notion of near, so what it marks there is an
    upper bound. Chains of at least ``least`` messages."""
    none = ordinary("none")
    found, owner = shingles([(view(s.text), ()) for s in spam], none)
    sizes = np.bincount(owner, minlength=len(spam))
    # A text with too few shingles to be a pitch has none (``neighbours.sketches``).
    sets = [set(h.tolist()) if len(h) >= MIN_SHINGLES else set()
            for h in np.split(found, np.cumsum(sizes)[:-1])]
    parent = list(range(len(spam)))

    def top(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in itertools.combinations(range(len(spam)), 2):
        if sets[i] and sets[j] and len(sets[i] & sets[j]) >= NEAR * len(sets[i] | sets[j]):
            parent[top(j)] = top(i)
    chains: dict[int, list[datasets.Sample]] = {}
    for i, sample in enumerate(spam):
        chains.setdefault(top(i), []).append(sample)
    return [c for c in chains.values() if len(c) >= least]


def _lines(name: str) -> list[str]:
    text = resources.files("spimguard").joinpath(f"data/{name}").read_text("utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()
            and not line.startswith("#")]


def held_back(ham: list[datasets.Sample]) -> tuple[list[datasets.Sample], list[datasets.Sample]]:
    """The validation and the test half of a corpus's ordinary messages."""
    halves = [crosscorpus.half(view(s.text).fingerprint) for s in ham]
    return ([s for s, h in zip(ham, halves, strict=True) if h == crosscorpus.VALIDATION],
            [s for s, h in zip(ham, halves, strict=True) if h == crosscorpus.TEST])


def poisoned(title: str, ham: list[datasets.Sample], setting: Setting, lines: int = 50
             ) -> list[tuple[str, str]]:
    """The attacker's reports of ordinary chat: ``lines`` ordinary messages of a corpus's
    validation half (``crosscorpus.half``), each sent to three accounts of standing that
    report it (aged accounts: the most a user-level attacker can field), then the test
    half's ordinary messages (other fingerprints) from strangers: the share of them the
    poisoned wave memory marks, and holds."""
    bait, test = held_back(ham)
    random.Random(7).shuffle(bait)
    engine = Engine(setting)
    for i, sample in enumerate(bait[:lines]):
        for k in range(3):
            engine.reported("mallory", f"sybil{i}-{k}", sample.text)
    after = engine.judge(test, "stranger")
    return [(f"{title}: {len(test)} ordinary messages after {lines} others were reported "
             "by 3 accounts of standing each: marked WAVE_REPORTED", f"{after.wave:.3%}"),
            (f"{title}: the same, held", f"{after.stopped:.3%}")]


def waves(root: Path, folder: Path, reports: int = 20) -> list[tuple[str, str]]:
    """Each non-English corpus, judged by a content model and a table of ordinary chat's
    shingles that never saw it (Indonesian and Thai: trained without them; Telegram RU,
    evaluation-only, by the bundled ones: no Russian ordinary chat is openly available, so
    its collateral is UCI's alone): its campaigns (``by_element``, at least 10 unseen
    messages each), the chains of near variants (``by_likeness``: an upper bound), the
    whole corpus as one "wave" (many pitches: the worst case); and what reports of its
    ordinary messages do to the others (``poisoned``): with a table that never saw the
    language, one that saw the validation half of its ordinary messages (as the bundled
    table saw the corpora it knows), and the old detector (no table)."""
    loaded = crosscorpus.load(root)
    english = [s for s in crosscorpus.one_per_fingerprint(loaded["uci-sms"]) if not s.spam]
    # UCI's chat: the bundled model (trained on it), and a table of ordinary chat from the
    # training corpora without UCI's test half (Mishra-Soni repeats UCI's messages).
    table = str(folder / "uci-sms.npy")
    tested = {view(s.text).fingerprint for s in english} - {
        view(s.text).fingerprint for s in held_back(english)[0]}
    np.save(table, common_shingles([
        s.text for s in crosscorpus.one_per_fingerprint(crosscorpus.training_set(loaded))
        if not s.spam and view(s.text).fingerprint not in tested]))
    rows = poisoned("poisoning uci-sms (table with its validation half)", english,
                    Setting(None, table))
    rows += poisoned("poisoning uci-sms (old: no table)", english, Setting(None, "none"))
    for name in ("indonesian-sms", "thai-sms", "telegram-ru"):
        setting = Setting(None, "")
        train = crosscorpus.training_set(loaded, name)
        if name != "telegram-ru":
            setting = Setting(folder / f"without-{name}.npz", str(folder / f"{name}.npy"))
            training.train(train).save(setting.model)
            np.save(setting.ordinary, common_shingles(
                [s.text for s in crosscorpus.one_per_fingerprint(train) if not s.spam]))
        messages = crosscorpus.one_per_fingerprint(loaded[name])
        spam = [s for s in messages if s.spam]
        ham = [s for s in messages if not s.spam]
        if ham:  # the table without the language, with its validation half, and none
            known = str(folder / f"{name}-validation.npy")
            np.save(known, common_shingles([s.text for s in crosscorpus.one_per_fingerprint(
                [*train, *held_back(ham)[0]]) if not s.spam]))
            rows += poisoned(f"poisoning {name} (table without {name})", ham, setting)
            rows += poisoned(f"poisoning {name} (table with its validation half)", ham,
                             setting._replace(ordinary=known))
            rows += poisoned(f"poisoning {name} (old: no table)", ham,
                             setting._replace(ordinary="none"))
        for element, group in by_element(spam, reports + 10).items():
            rows += wave(f"wave {name} sharing {element}", group, ham, [], setting, reports)
        for k, chain in enumerate(by_likeness(spam, reports + 10)):
            rows += wave(f"wave {name}, near variants #{k + 1} (upper bound)", chain, ham, [],
                         setting, reports)
        rows += wave(f"worst case: all of {name} as one wave", spam, ham, english, setting,
                     reports)
    return rows


def speed(root: Path) -> list[tuple[str, str]]:
    texts = [s.text for s in datasets.read(str(root / "sms-spam-collection/SMSSpamCollection"))]
    started = time.perf_counter()
    model = scorer.load()
    load_s = time.perf_counter() - started
    views = [view(t) for t in texts]
    single = []
    for v in views[:3000]:
        t = time.perf_counter()
        model.probability(v)
        single.append(time.perf_counter() - t)
    with_view = []
    for text in texts[:3000]:
        t = time.perf_counter()
        model.probability(uncached_view(text))
        with_view.append(time.perf_counter() - t)
    rates = []
    for _ in range(3):
        t = time.perf_counter()
        model.probabilities(views)
        rates.append(len(views) / (time.perf_counter() - t))
    size = resources.files("spimguard.model").joinpath(scorer.BUNDLED)
    return [("one message, median µs (text view given)", f"{statistics.median(single) * 1e6:.1f}"),
            ("one message, p95 µs (text view given)",
             f"{np.percentile(single, 95) * 1e6:.1f}"),
            ("one message incl. text view, median µs", f"{statistics.median(with_view) * 1e6:.1f}"),
            ("batch, messages/s (best of 3, text view given)", f"{max(rates):,.0f}"),
            ("artefact size, MB", f"{size.stat().st_size / 1e6:.2f}"),  # type: ignore[attr-defined]
            ("model load, s", f"{load_s:.2f}")]


def main(root: Path) -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as folder:
        learnt = waves(root, Path(folder))
    return loco(root) + accuracy(root) + learnt + speed(root)


if __name__ == "__main__":
    run_with_datasets(main, __doc__)
