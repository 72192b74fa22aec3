"""Link figures: imported lists, look-alikes of protected brands, speed.

    python benchmarks/links.py [--datasets ../shared/datasets]

1. Every domain of the Discord phishing list, imported as a block list, sent
   in a message (as the bare domain and under a subdomain): share blocked.
2. The OpenDNS top 10,000 domains: share taken for look-alikes (false alarms).
3. Look-alikes generated from each protected brand (homoglyph, digit swap,
   doubled letter, brand as a label, brand as a hyphenated word): share
   flagged; and, with credential bait around them, share held or blocked.
4. Link analysis (parse + look-alike + list suffixes) per URL, on one core.
5. The URL model (``LINK_PHISHY``) through the engine: real phishing and benign URLs it
   never trained on (held out of its training sources by family, or from sources it
   never trained on: ``urlmodel/evaluate.py``), each sent once with neutral words as a
   stranger's first message: share flagged (warned or more) and held, with and without
   the model; the friend's case (mutual contacts who write to each other) for the benign
   long tail; and the model's cost per URL, hostile URLs included.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import msgspec
import numpy as np

from spimguard import decode_event, lists, load_config, open_engine
from spimguard.detectors.links import LinksSettings
from spimguard.lookalike import Brands
from spimguard.state.ops import Touch
from spimguard.text import UrlFact, parse_url, view
from spimguard.urlmodel import evaluate
from spimguard.urlmodel.scorer import bundled
from table import run_with_datasets

T0 = 1_790_000_000.0
HOMOGLYPHS = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "i": "і", "y": "у"}
DIGITS = {"o": "0", "l": "1", "e": "3", "a": "4", "s": "5", "i": "1"}
BAIT = "Your account will be suspended. Verify your account now: https://{host}/login"


def generated(brand: str) -> list[str]:
    label, _, suffix = brand.partition(".")
    out: list[str] = []
    for table in (HOMOGLYPHS, DIGITS):
        for i, ch in enumerate(label):
            if ch in table:
                out.append(label[:i] + table[ch] + label[i + 1:] + "." + suffix)
                break
    out.append(label[:2] + label[1] + label[2:] + "." + suffix)  # a doubled letter
    out += [f"{brand}.account-verify.info", f"{label}.com-secure-login.net",
            f"login-{label}.com", f"{label}-support.net", f"secure-{label}-billing.com"]
    return out


def engine_with(block: list[str]):  # type: ignore[no-untyped-def]
    cfg = load_config(environ={}, storage={"backend": "memory"})
    engine = open_engine(cfg)
    if block:
        engine.write_state([Touch(lists.key("block"), tuple(block), 1e10, lists.MAX_ENTRIES)])
    return engine


NEUTRAL = "have a look {url}"
DAY = 86_400.0
BENIGN = Path(__file__).resolve().parent / "data/benign-urls-software.txt"
HOSTILE = ("https://" + "a" * 240 + ".example.com/" + "%41" * 20000,
           "https://user:pw@" + "xn--" + "b" * 59 + ".com/" + "login/" * 3000,
           "http://[::ffff:1.2.3.4]/" + "@" * 30000 + "?q=" + "&a=1" * 5000,
           "https://" + ".".join(["paypal-secure"] * 18) + ".tk/" + "verify" * 8000)


def by_stranger(engine, urls: list[UrlFact], tag: str) -> list:  # type: ignore[no-untyped-def]
    """Each URL once, with neutral words, from an account nobody heard from before, a day
    apart (so many strangers' one template is not a campaign's volume)."""
    out = []
    for i, url in enumerate(urls):
        body = {"type": "message", "id": f"{tag}-{i}", "ts": T0 + DAY * i,
                "sender": f"stranger{tag}-{i}", "recipients": [f"reader{tag}-{i}"],
                "text": NEUTRAL.format(url=url.raw)}
        out.append(engine.process(decode_event(msgspec.json.encode(body),
                                               engine.config.limits)))
    return out


def by_friend(engine, urls: list[UrlFact]) -> list:  # type: ignore[no-untyped-def]
    """Each URL from a friend: mutual contacts who have been writing to each other."""
    out = []
    for i, url in enumerate(urls):
        a, b = f"friend{i}", f"pal{i}"
        for who, other in ((a, b), (b, a)):
            engine.process(decode_event(msgspec.json.encode(
                {"type": "contacts", "id": f"c{who}", "ts": T0, "account": who,
                 "contacts": [other]}), engine.config.limits))
        for k, (who, other) in enumerate(((b, a), (a, b), (b, a))):
            engine.process(decode_event(msgspec.json.encode(
                {"type": "message", "id": f"f{i}-{k}", "ts": T0 + 10 * i + k, "sender": who,
                 "recipients": [other], "text": "see you at the station at six"}),
                engine.config.limits))
        body = {"type": "message", "id": f"v{i}", "ts": T0 + 10 * i + 5, "sender": a,
                "recipients": [b], "text": NEUTRAL.format(url=url.raw)}
        out.append(engine.process(decode_event(msgspec.json.encode(body),
                                               engine.config.limits)))
    return out


def _flagged(verdicts: list, without: str = "") -> float:  # type: ignore[type-arg]
    """Share warned or more (``without``: as if that signal had not fired)."""
    if not verdicts:
        return 0.0
    warn = 4.0
    hits = [v.action != "deliver" and (not without or v.score - sum(
        s.score for s in v.signals if s.code == without) >= warn) for v in verdicts]
    return sum(hits) / len(verdicts)


def url_model(root: Path) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    sets = evaluate.test_sets(root, BENIGN)
    engine = engine_with([])
    for n, test in enumerate(sets):
        verdicts = by_stranger(engine, test.urls, str(n))
        held = sum(v.action in ("hold", "block") for v in verdicts) / max(len(verdicts), 1)
        where = "held out" if test.same_source else "never trained on"
        rows.append((f"{test.name} [{where}, {len(test.urls)}]: flagged without the model",
                     f"{_flagged(verdicts, 'LINK_PHISHY'):.2%}"))
        rows.append(("  flagged (warned or more) with it", f"{_flagged(verdicts):.2%}"))
        rows.append(("  held or blocked", f"{held:.3%}"))
    tail = next(t for t in sets if t.name.startswith("long-tail"))
    verdicts = by_friend(engine_with([]), tail.urls)
    held = sum(v.action in ("hold", "block") for v in verdicts) / len(verdicts)
    rows.append(("long tail sent by a friend: flagged", f"{_flagged(verdicts):.2%}"))
    rows.append(("  held or blocked", f"{held:.3%}"))
    model = bundled()
    urls = [u for t in sets for u in t.urls][:5000]
    started = time.perf_counter()
    for url in urls:
        model.judge(url)
    rows.append(("URL model per URL, mean µs",
                 f"{(time.perf_counter() - started) / len(urls) * 1e6:.1f}"))
    hostile = [u for u in (parse_url.__wrapped__(h, explicit=True) for h in HOSTILE) if u]
    worst = []
    for url in hostile:
        started = time.perf_counter()
        model.judge(url)
        worst.append(time.perf_counter() - started)
    rows.append((f"hostile URLs ({len(hostile)}, up to {max(len(h) for h in HOSTILE)} "
                 "characters): worst µs", f"{np.max(worst) * 1e6:.0f}"))
    return rows


def judge(engine, texts: list[str], tag: str = "m") -> list[str]:  # type: ignore[no-untyped-def]
    """Verdicts of ``texts``; ``tag`` keeps event ids apart when one engine judges twice."""
    actions = []
    for i, text in enumerate(texts):
        body = {"type": "message", "id": f"{tag}{i}", "ts": T0 + i, "sender": f"s{i % 997}",
                "recipients": [f"r{i}"], "text": text}
        actions.append(engine.process(decode_event(msgspec.json.encode(body),
                                                   engine.config.limits)))
    return actions


def main(root: Path) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    raw = (root / "discord-phishing-links-nikolaischunk/txt/domain-list.txt").read_text("utf-8")
    block = lists.parse(raw, "domains")
    engine = engine_with(block)
    bare = judge(engine, [f"free nitro here https://{d}/gift" for d in block])
    sub = judge(engine, [f"claim at https://www.{d}/claim" for d in block], "sub")
    hit = sum(any(s.code == "LINK_BLOCKLISTED" for s in v.signals) for v in bare + sub)
    rows.append((f"imported phishing list ({len(block)} domains): flagged in messages",
                 f"{hit / (2 * len(block)):.2%}"))

    brands = Brands([*LinksSettings().protected_domains])
    top = [d.strip() for d in (root / "opendns-top-domains/opendns-top-domains.txt")
           .read_text("utf-8").splitlines() if d.strip()]
    flagged = []
    for domain in top:
        urls = view(f"https://{domain}/").urls
        if urls and brands.match(urls[0].host, urls[0].host_unicode, urls[0].domain):
            flagged.append(domain)
    rows.append((f"top {len(top)} domains taken for look-alikes", f"{len(flagged) / len(top):.3%}"))
    rows.append(("  (those flagged)", ", ".join(flagged[:8]) or "none"))

    fakes = [f for brand in LinksSettings().protected_domains for f in generated(brand)]
    caught = 0
    for fake in fakes:
        urls = view(f"https://{fake}/").urls
        caught += bool(urls and brands.match(urls[0].host, urls[0].host_unicode, urls[0].domain))
    rows.append((f"generated look-alikes ({len(fakes)}) flagged", f"{caught / len(fakes):.2%}"))
    verdicts = judge(engine_with([]), [BAIT.format(host=f) for f in fakes])
    stopped = sum(v.action in ("hold", "block") for v in verdicts)
    rows.append(("generated look-alikes with credential bait: held or blocked",
                 f"{stopped / len(fakes):.2%}"))

    hosts = top + fakes
    timings = []
    allowed = frozenset(["example.com"])
    for host in hosts:
        started = time.perf_counter()
        url = parse_url.__wrapped__(f"https://{host}/path?q=1", explicit=True)
        if url is not None:
            brands.match(url.host, url.host_unicode, url.domain)
            allowed.intersection(lists.host_suffixes(url.host))
        timings.append(time.perf_counter() - started)
    rows.append(("link analysis per URL, median µs", f"{statistics.median(timings) * 1e6:.1f}"))
    return rows + url_model(root)


if __name__ == "__main__":
    run_with_datasets(main, __doc__)
