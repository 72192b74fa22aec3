"""A new link's judgement by the URL model (``scorer.UrlModel.judge``), counted by callgrind.

    python benchmarks/url_judge.py [--datasets ../shared/datasets] [--links 4000]
                                   [--copies 10] [--digest] [--steps] [--opcodes]

A link new to the links detector's cache is read (``features.shape``, the host's letter
runs, the path's words) and weighed (``UrlModel.margin``) in full; where every copy of a
campaign carries its own code, that is paid on nearly every message with a link. The
links are Hannousse & Yahiouche's URLs (half phishing, half legitimate, with paths and
queries), each judged once. The figure is callgrind's instructions with every link
judged, less those with the links parsed and the model loaded and warmed on one link,
over the links. ``--copies K``: a campaign's copies, each of ``links / K`` links sent
K times with a recipient's code in its query (the host the same, the path's text
new). ``--digest``: a digest of every link's judgement (features, facts, words,
margin, reasons), hostile forms included, to compare two trees' code bit for bit
(``PYTHONPATH`` picks the tree). ``--steps``: cProfile's split of the judgement.
``--opcodes``: Python's opcodes a new link by function (``sys.settrace``, the model warmed
on the first hundred links, the rest judged): a split no load moves, in seconds where
callgrind takes minutes; C's work inside an opcode (a regex, ``str.translate``) is not in it.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import csv
import hashlib
import pstats
import sys
import tempfile
from pathlib import Path
from typing import Any

from instructions import total
from spimguard.text import UrlFact, parse_url
from spimguard.urlmodel.scorer import bundled, read
from table import DATASETS, Rows, show

HANNOUSSE = "web-page-phishing-hannousse-yahiouche/dataset_phishing.csv"
# What an attacker writes instead of a plain link: userinfo, ports, IP hosts, escapes,
# international and confusable names, long and slash-padded paths, and their mixtures.
FORMS = (
    "https://user:pw@{host}{path}", "https://{host}:8443{path}", "http://{host}.{path}",
    "https://{host}/%2F%2E%2E{path}%3Fx%3D1", "https://WWW.{host}{path}?A=1&B=%41%42",
    "https://раураl-{host}{path}", "https://xn--pypal-4ve.{host}{path}",
    "http://192.168.{n}.7{path}", "http://[2001:db8::{n}]{path}", "https://{host}{path}//",
    "https://{host}/" + "/" * 600 + "wp-content/" + "a" * 200 + "/" * 600 + "{path}",
    "https://{host}{path}" + "x/" * 700 + "?" + "q=1&" * 400,
    "https://www.weebly.com/" + "/" * 520 + "{path}" + "b" * 520,
)


def links(root: Path, count: int) -> list[UrlFact]:
    """The first ``count`` distinct parsed URLs of Hannousse & Yahiouche's set, sorted."""
    with (root / HANNOUSSE).open(encoding="utf-8", newline="") as f:
        raw = sorted({row[0] for row in list(csv.reader(f))[1:]})
    parsed = (parse_url(r, explicit=True) for r in raw)
    return [u for u in parsed if u is not None][:count]


def copies(plain: list[UrlFact], count: int, each: int) -> list[UrlFact]:
    """``count`` links: each of the first ``count // each`` of ``plain`` ``each`` times, with
    a recipient's code of its own in its query (a campaign's per-recipient copies)."""
    out = []
    for url in plain[: count // each]:
        for n in range(each):
            code = hashlib.sha256(f"{url.raw}{n}".encode()).hexdigest()[:12]
            raw = f"{url.raw}{'&' if '?' in url.raw else '?'}r={code}"
            parsed = parse_url(raw, explicit=True)
            out.append(url if parsed is None else parsed)
    return out


def hostile(plain: list[UrlFact]) -> list[UrlFact]:
    """Each form of ``FORMS`` applied to every tenth of ``plain``'s hosts and paths."""
    out = []
    for n, url in enumerate(plain[::10]):
        for form in FORMS:
            raw = form.format(host=url.host, path=url.path or "/", n=n % 250)
            parsed = parse_url(raw, explicit=True)
            if parsed is not None:
                out.append(parsed)
    return out


def digest(urls: list[UrlFact]) -> str:
    """Every link's reading and judgement, floats by their exact ``repr``."""
    model = bundled()
    h = hashlib.sha256()
    for url in urls:
        seen = read(url)
        judged = model.judge(url)
        h.update(repr((seen.shape.values, seen.shape.tld, sorted(seen.shape.facts.items()),
                       seen.pieces, seen.path, judged.margin, judged.p,
                       judged.reasons)).encode())
    return h.hexdigest()[:16]


def child(root: str, count: int, each: int, stage: str) -> None:
    """What callgrind runs: the links parsed (``each`` copies of a link: ``copies``) and
    the model warmed on one link; with ``stage`` "judged", every link judged."""
    urls = links(Path(root), count)
    if each > 1:
        urls = copies(urls, count, each)
    model = bundled()
    model.judge(parse_url("https://example.org/a", explicit=True))  # type: ignore[arg-type]
    if stage == "judged":
        for url in urls:
            model.judge(url)


def instructions(root: Path, count: int, each: int) -> int:
    with tempfile.TemporaryDirectory() as folder:
        built, judged = (total([__file__, "--child", str(root), str(count), str(each), stage],
                               Path(folder) / f"callgrind.{stage}")
                         for stage in ("built", "judged"))
    return (judged - built) // count


def main(root: Path, count: int, digested: bool, counted: bool, each: int = 1) -> Rows:
    urls = links(root, count)
    rows = [(f"links (Hannousse & Yahiouche, distinct, {sum(len(u.raw) for u in urls) // len(urls)}"
             " characters on average)", f"{len(urls):,}")]
    if digested:
        every = links(root, 1 << 30)
        forms = hostile(every)
        codes = copies(every, 4000, 10)
        rows.append((f"digest of {len(every) + len(forms) + len(codes):,} links' judgements "
                     f"({len(forms):,} hostile forms, {len(codes):,} copies with codes)",
                     digest(every + forms + codes)))
    if counted:
        what = "a new link's judgement" if each == 1 else f"a copy's judgement, {each} a link"
        rows.append((f"instructions {what} (callgrind)",
                     f"{instructions(root, len(urls), each):,}"))
    return rows


def steps(root: Path, count: int) -> None:
    urls = links(root, count)
    model = bundled()
    profile = cProfile.Profile()
    profile.enable()
    for url in urls:
        model.judge(url)
    profile.disable()
    pstats.Stats(profile).sort_stats("tottime").print_stats(20)


def opcodes(urls: list[UrlFact]) -> Rows:
    """Python's opcodes a link judged, in all and by function (file:line:name), the most
    first, over ``urls`` less the first hundred (which warm the model)."""
    model = bundled()
    for url in urls[:100]:
        model.judge(url)
    by: collections.Counter[str] = collections.Counter()

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        frame.f_trace_opcodes = True
        if event == "opcode":
            code = frame.f_code
            by[f"{Path(code.co_filename).name}:{code.co_firstlineno}:{code.co_name}"] += 1
        return tracer

    judged = urls[100:]
    sys.settrace(tracer)
    try:
        for url in judged:
            model.judge(url)
    finally:
        sys.settrace(None)
    n = max(len(judged), 1)
    return [(f"opcodes a new link ({len(judged):,} links)", f"{sum(by.values()) / n:,.1f}"),
            *((f"  {name}", f"{k / n:,.1f}") for name, k in by.most_common(25))]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
        sys.exit()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=DATASETS)
    parser.add_argument("--links", type=int, default=4000)
    parser.add_argument("--copies", type=int, default=1, help="a campaign's copies a link")
    parser.add_argument("--digest", action="store_true", help="every judgement's digest")
    parser.add_argument("--no-count", action="store_true", help="no callgrind run")
    parser.add_argument("--steps", action="store_true", help="cProfile's split")
    parser.add_argument("--opcodes", action="store_true", help="opcodes by function")
    args = parser.parse_args()
    show(main(args.datasets, args.links, args.digest, not args.no_count, args.copies))
    if args.steps:
        steps(args.datasets, args.links)
    if args.opcodes:
        show(opcodes(links(args.datasets, args.links)))
