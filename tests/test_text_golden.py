"""The text view of ordinary texts must not change: the model's features are computed from
it. ``data/text_view_golden.json`` holds a SHA-256 of each text's full view (text,
skeleton, tokens, links with every field, domains, fingerprint, prose, masked form),
computed with the text view of commit c9bcece by running this file as a script; but for
``https://[::1]/x``, whose dotless host the view of session 12 reads as the IPv6 link a
browser opens (the one change running the script made), and ``generated:27``, 150 letters
parted by full stops ("a.a.a. ..."), which the view of session 15 reads as the word they
spell (``text.unpart``); and ``generated:6``, "free" under a right-to-left override, which
its reader reads "eerf" as the view of session 32 does (``text.drawn_order``); and five
whose figures written with their unit session 35 reads as figures, not leetspeak
(``text._figure``: "an 8th" once, "1st" in three texts, "x2" points in a Thai one), their
skeleton keeping the digits and their masked form masking the figure whole: ``sms:8``,
``sms:33``, ``sms:37``, ``smishing:5``, ``thai:37``."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from spimguard.text import masked_for, names_of, view
from text_corpus import texts

GOLDEN = Path(__file__).parent / "data/text_view_golden.json"


def digest(raw: str) -> str:
    v = view(raw)
    names = names_of(["bob", "amy", "user123"])
    whole = [v.text, v.skeleton, list(v.tokens), [list(u) for u in map(_fields, v.urls)],
             list(v.domains), v.fingerprint, v.prose, v.prose_skeleton,
             masked_for(v, names)]
    return hashlib.sha256(json.dumps(whole, ensure_ascii=False).encode("utf-8",
                                                                        "surrogatepass")).hexdigest()


def _fields(url: object) -> tuple[object, ...]:
    # In the order they are declared: a ``msgspec.Struct``'s (``UrlFact`` since session 45)
    # ``__slots__`` are sorted by name, a dataclass's were declared.
    names = getattr(url, "__struct_fields__", None) or url.__slots__  # type: ignore[attr-defined]
    return tuple(getattr(url, name) for name in names)


def test_view_of_ordinary_texts_is_unchanged() -> None:
    golden = json.loads(GOLDEN.read_text("utf-8"))
    current = dict(texts())
    assert len(current) >= 100
    changed = [key for key, raw in current.items() if key in golden and digest(raw) != golden[key]]
    assert not changed, f"the text view changed for {changed[:20]}"
    assert set(current) <= set(golden), "texts without a golden digest"


if __name__ == "__main__":
    GOLDEN.write_text(json.dumps({k: digest(t) for k, t in texts()}, indent=0) + "\n", "utf-8")
    sys.exit(0)
