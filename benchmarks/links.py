"""Link figures: imported lists, look-alikes of protected brands, speed.

    python benchmarks/links.py [--datasets ../shared/datasets]

1. Every domain of the Discord phishing list, imported as a block list, sent
   in a message (as the bare domain and under a subdomain): share blocked.
2. The OpenDNS top 10,000 domains: share taken for look-alikes (false alarms).
3. Look-alikes generated from each protected brand (homoglyph, digit swap,
   doubled letter, brand as a label, brand as a hyphenated word): share
   flagged; and, with credential bait around them, share held or blocked.
4. Link analysis (parse + look-alike + list suffixes) per URL, on one core.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import msgspec

from spimguard import decode_event, lists, load_config, open_engine
from spimguard.detectors.links import DEFAULTS
from spimguard.lookalike import Brands
from spimguard.state.ops import Touch
from spimguard.text import parse_url, view
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


def judge(engine, texts: list[str]) -> list[str]:  # type: ignore[no-untyped-def]
    actions = []
    for i, text in enumerate(texts):
        body = {"type": "message", "id": f"m{i}", "ts": T0 + i, "sender": f"s{i % 997}",
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
    sub = judge(engine, [f"claim at https://www.{d}/claim" for d in block])
    hit = sum(any(s.code == "LINK_BLOCKLISTED" for s in v.signals) for v in bare + sub)
    rows.append((f"imported phishing list ({len(block)} domains): flagged in messages",
                 f"{hit / (2 * len(block)):.2%}"))

    brands = Brands([*DEFAULTS["protected_domains"]])
    top = [d.strip() for d in (root / "opendns-top-domains/opendns-top-domains.txt")
           .read_text("utf-8").splitlines() if d.strip()]
    flagged = []
    for domain in top:
        urls = view(f"https://{domain}/").urls
        if urls and brands.match(urls[0].host, urls[0].host_unicode, urls[0].domain):
            flagged.append(domain)
    rows.append((f"top {len(top)} domains taken for look-alikes", f"{len(flagged) / len(top):.3%}"))
    rows.append(("  (those flagged)", ", ".join(flagged[:8]) or "none"))

    fakes = [f for brand in DEFAULTS["protected_domains"] for f in generated(brand)]
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
    return rows


if __name__ == "__main__":
    run_with_datasets(main, __doc__)
