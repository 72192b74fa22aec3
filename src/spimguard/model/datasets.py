"""Labelled message sets, read from the formats the public corpora ship in.

- UCI SMS Spam Collection: ``label<TAB>text`` lines, labels ham / spam.
- Mishra–Soni ``Dataset_5971.csv``: header ``LABEL,TEXT,...``; labels ham, spam,
  smishing in any case (smishing counts as spam).
- Rahmi–Wibisono Indonesian CSV: header ``Teks,label``; 0 normal, 1 fraud, 2 promo
  (fraud and promo count as spam).
- Plain text: one message per non-empty line, all with the label given
  (``PATH=spam``), such as the Telegram spam list.

``dedupe`` drops repeats across and within sets by a whitespace- and
case-folded key, keeping the first; a text that appears under both labels is
dropped entirely (its label is unknowable). Mishra–Soni reuses about 5,000 UCI
messages, so always combine the two through ``dedupe``.
"""

from __future__ import annotations

import csv
import html
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import BadInput

_SPAM_LABELS = {"spam": 1, "smishing": 1, "ham": 0, "1": 1, "2": 1, "0": 0}


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
    if not path.is_file():
        raise BadInput(f"no such data file: {path}")
    name = path.name
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
                label, _, text = line.rstrip("\n").partition("\t")
                # The UCI corpus is HTML-escaped in places (&lt; &amp;).
                samples.append(Sample(html.unescape(text), _label(label, f"{name}:{number}"),
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
