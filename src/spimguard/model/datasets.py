"""Labelled message sets, read from the formats the public corpora ship in.

- UCI SMS Spam Collection: ``label<TAB>text`` lines, labels ham / spam.
- Mishra–Soni ``Dataset_5971.csv``: header ``LABEL,TEXT,...``; labels ham, spam,
  smishing in any case (smishing counts as spam).
- Rahmi–Wibisono Indonesian CSV: header ``Teks,label``; 0 normal, 1 fraud, 2 promo
  (fraud and promo count as spam).
- Ssivakorn Thai SMS: a folder of ``LABEL|text`` files; scam and spam count as
  spam, OK and OTP as ham.
- Janitr X posts (``.jsonl``): multi-label records. Spam is a record with a strict
  fraud or spam label (the set's card calls these 622 the safer spam class); ham
  is a record with no label of the set's scam bucket; the rest (promotion,
  affiliate links, engagement bait: often legitimate marketing) are left out,
  because their label is the annotator's taste, not the sender's intent.
- Plain text: one message per non-empty line, all with the label given
  (``PATH=spam``), such as the Telegram spam list.

``CORPORA`` names the public sets under ``../shared/datasets`` with their
platform, language and licence; only openly licensed ones may train a shipped
model, the others are for evaluation only.

``dedupe`` drops repeats across and within sets by a whitespace- and
case-folded key, keeping the first; a text that appears under both labels is
dropped entirely (its label is unknowable). Mishra–Soni reuses about 5,000 UCI
messages, so always combine the two through ``dedupe``.
"""

from __future__ import annotations

import csv
import html
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import BadInput

_SPAM_LABELS = {"spam": 1, "smishing": 1, "ham": 0, "1": 1, "2": 1, "0": 0,
                "scam": 1, "ok": 0, "otp": 0}
# Janitr's labels: a strict fraud/spam label makes a post spam; any other label of
# the set's scam bucket makes its label uncertain (see the module's docstring).
_JANITR_SPAM = {"scam", "phishing", "malware", "fake_support", "recovery_scam", "job_scam",
                "romance_scam", "impersonation", "account_compromise", "spam", "reply_spam",
                "dm_spam"}
_JANITR_UNSURE = {"promo", "affiliate", "lead_gen", "engagement_bait", "follow_train",
                  "giveaway", "bot"}


@dataclass(frozen=True, slots=True)
class Sample:
    text: str
    spam: int  # 1 spam, 0 ham
    source: str


def _label(raw: str, where: str) -> int:
    try:
        return _SPAM_LABELS[raw.strip().lower()]
    except KeyError:
        raise BadInput(f"{where}: unknown label {raw!r}") from None


def _csv_rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        yield from csv.DictReader(handle)


def read(spec: str) -> list[Sample]:
    """Samples from ``PATH`` (format detected) or ``PATH=LABEL`` (plain text, one label)."""
    path_text, _, fixed = spec.partition("=")
    path = Path(path_text)
    if path.is_dir() and not fixed:
        return _read_pipe_folder(path)
    if not path.is_file():
        raise BadInput(f"no such data file: {path}")
    name = path.name
    if path.suffix == ".jsonl" and not fixed:
        return _read_janitr(path)
    if fixed:
        label = _label(fixed, spec)
        with path.open(encoding="utf-8", errors="replace") as handle:
            return [Sample(line.strip(), label, name) for line in handle if line.strip()]
    with path.open(encoding="utf-8", errors="replace") as handle:
        head = handle.readline()
    samples: list[Sample] = []
    if "\t" in head and head.split("\t", 1)[0].strip().lower() in ("ham", "spam"):
        with path.open(encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                written, _, text = line.rstrip("\n").partition("\t")
                # The UCI corpus is HTML-escaped in places (&lt; &amp;).
                samples.append(Sample(html.unescape(text), _label(written, f"{name}:{number}"),
                                      name))
        return samples
    header = head.strip().lstrip("\ufeff").lower()
    if header.startswith("label,text"):
        for number, row in enumerate(_csv_rows(path), 2):
            keys = {k.lower(): v for k, v in row.items() if k}
            samples.append(Sample(keys["text"], _label(keys["label"], f"{name}:{number}"), name))
        return samples
    if header.startswith("teks,label"):
        for number, row in enumerate(_csv_rows(path), 2):
            keys = {k.lower(): v for k, v in row.items() if k}
            samples.append(Sample(keys["teks"], _label(keys["label"], f"{name}:{number}"), name))
        return samples
    raise BadInput(f"{path}: unknown format; give PATH=spam or PATH=ham for plain text files")


def _read_pipe_folder(folder: Path) -> list[Sample]:
    """Every ``*.txt`` of a folder of ``LABEL|text`` lines (the Thai SMS set), in name order."""
    samples: list[Sample] = []
    for path in sorted(folder.glob("*.txt")):
        with path.open(encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle, 1):
                label, sep, text = line.rstrip("\n").partition("|")
                if sep and text.strip():
                    samples.append(Sample(text, _label(label, f"{path.name}:{number}"),
                                          folder.name))
    if not samples:
        raise BadInput(f"{folder}: no LABEL|text lines in its *.txt files")
    return samples


def _read_janitr(path: Path) -> list[Sample]:
    samples: list[Sample] = []
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                text, labels = record["text"], set(record["labels"])
            except (ValueError, KeyError, TypeError):
                raise BadInput(f"{path.name}:{number}: not a record with text and labels"
                               ) from None
            if labels & _JANITR_SPAM:
                samples.append(Sample(text, 1, path.name))
            elif not labels & _JANITR_UNSURE:
                samples.append(Sample(text, 0, path.name))
    return samples


@dataclass(frozen=True, slots=True)
class Corpus:
    """A public labelled set: where it sits under the datasets folder, and what it is."""

    name: str
    spec: str  # path under the datasets folder, as ``read`` takes it
    platform: str
    language: str
    licence: str
    trainable: bool  # openly licensed: may train a model that ships
    # Half of it (by fingerprint, ``crosscorpus.reserved``) never trains: the simulator's
    # ``hard-ham`` scenario takes its ordinary chat from that half, as unseen text.
    reserve: bool = False

    def load(self, root: Path) -> list[Sample]:
        path, sep, label = self.spec.partition("=")
        return [Sample(s.text, s.spam, self.name)
                for s in read(str(root / path) + (sep + label))]


CORPORA = (
    Corpus("uci-sms", "sms-spam-collection/SMSSpamCollection", "SMS", "en",
           "UCI: CC BY 4.0 (authors: free, cite)", True),
    Corpus("mishra-sms", "sms-phishing-mishra-soni/Dataset_5971.csv", "SMS", "en",
           "none stated in the copy (Mendeley's CC BY 4.0 unverified): evaluation only",
           False),
    Corpus("indonesian-sms", "indonesian-sms-spam-rahmi-wibisono/dataset_sms_spam_v1.csv",
           "SMS", "id", "CC BY-SA 4.0", True),
    Corpus("thai-sms", "thai-sms-spam-ssivakorn/data/raw_data", "SMS", "th", "MIT", True),
    Corpus("janitr-x", "janitr-x-crypto-scam/data/sample.jsonl", "X posts", "en", "MIT", True,
           reserve=True),
    Corpus("telegram-ru", "telegram-ru-spam-talyguryn-antispambot/antispam/data/spam.txt=spam",
           "Telegram groups", "ru", "none stated: evaluation only, never trained on", False),
)


def corpus(name: str) -> Corpus:
    for known in CORPORA:
        if known.name == name:
            return known
    raise BadInput(f"unknown corpus {name!r}; known: {', '.join(c.name for c in CORPORA)}")


def key(text: str) -> str:
    """Whitespace-, case- and HTML-escape-folded text: what makes two messages the same."""
    return " ".join(html.unescape(text).casefold().split())


def dedupe(samples: Iterable[Sample]) -> list[Sample]:
    first: dict[str, Sample] = {}
    conflicting: set[str] = set()
    for sample in samples:
        k = key(sample.text)
        if not k:
            continue
        seen = first.get(k)
        if seen is None:
            first[k] = sample
        elif seen.spam != sample.spam:
            conflicting.add(k)
    return [s for k, s in first.items() if k not in conflicting]
