"""The readable text of a Matrix ``formatted_body``: a small HTML reader that cannot be stopped.

The sender writes this HTML, so the reader is built for hostile input:

- **It never raises.** Anything that is not a well-formed tag is text, the way a
  browser's tokenizer treats it; an unterminated comment, tag or quoted value
  ends the document (a browser shows nothing past it either).
- **It is linear.** Every scan (``str.find``, an anchored character-class match)
  starts where the previous one stopped and moves forward; a scan that finds no
  terminator ends the document, so nothing is ever scanned twice. (The standard
  library's ``HTMLParser`` rescans an unterminated construct on every feed and
  raises on ``<![``: ``"<a " * 20000`` took ~30 s, ``"<![ x"`` switched the
  filter off.)

What it keeps is what a Matrix client shows: text outside quoted replies
(``<mx-reply>``) and outside elements clients never render (``<script>`` ...),
plus link targets (a "click here" hides its address in ``href``), with a space at
block boundaries so words of different lines stay apart (but ``w<b>o</b>rd`` stays
one word, as it is shown).
"""

from __future__ import annotations

import html
import re

# Possessive quantifiers and atomic groups (Python 3.11): a match either succeeds or
# fails after one forward scan, never backtracking into what it already consumed.
_ATTRIBUTE = (r"""[\s/]*+(?P<key>[^\s/>][^\s/>=]*+)"""
              r"""(?>\s*+=\s*+(?P<value>"[^"]*+"|'[^']*+'|[^\s>]*+))?""")
_ATTRIBUTES = re.compile(_ATTRIBUTE)
_BARE_ATTRIBUTE = _ATTRIBUTE.replace("?P<key>", "").replace("?P<value>", "")
# One token at each "<": a comment, a bogus comment (<!DOCTYPE, <![CDATA[, <?x, </ >),
# a whole tag, or the opening of a tag that never ends (the document ends there). At one
# position the alternatives are tried in order, so a failed tag scan happens once.
_TOKEN = re.compile(
    r"<(?:(?P<comment>!--)|(?P<bogus>[!?]|/(?![A-Za-z]))"
    rf"|(?P<end>/)?(?P<name>[A-Za-z][^\s/>]*+)(?P<attrs>(?>{_BARE_ATTRIBUTE})*+)[\s/]*+>"
    r"|(?P<open>/?[A-Za-z]))")
# Elements whose content clients drop entirely.
_HIDDEN = frozenset({"script", "style", "textarea", "option", "noscript", "title",
                     "template", "iframe", "object"})
_BLOCK = frozenset({"br", "p", "div", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5",
                    "h6", "blockquote", "pre", "hr", "ul", "ol", "table", "details",
                    "summary", "caption", "dt", "dd"})
_SPECIAL = _HIDDEN | _BLOCK | {"a", "mx-reply"}
_MATRIX_LINK = "https://matrix.to/"


def _read(s: str) -> list[str]:
    """The shown pieces of ``s``, in order (one pass; see the module's docstring)."""
    parts: list[str] = []
    append, search, n = parts.append, _TOKEN.search, len(s)
    pos, reply = 0, 0  # reply: depth of <mx-reply>
    while pos < n:
        token = search(s, pos)
        if token is None:
            if not reply:
                append(s[pos:])
            break
        start, pos = token.start(), token.end()
        if start > token.pos and not reply:
            append(s[token.pos:start])
        name = token["name"]
        if name is not None:
            name = name.lower()
            if name not in _SPECIAL:
                continue
            if token["end"]:
                if name == "mx-reply":
                    reply = max(0, reply - 1)
                elif name in _BLOCK:
                    append(" ")
            elif name == "mx-reply":
                reply += 1
            elif name in _HIDDEN:
                close = re.compile(f"</{re.escape(name)}[\\s/>]", re.IGNORECASE).search(s, pos)
                pos = n if close is None else close.start()
            elif name in _BLOCK:
                append(" ")
            elif not reply:  # <a>
                href = _href(token["attrs"]) if token["attrs"] else ""
                if href and not href.startswith(_MATRIX_LINK):
                    append(f" {href} ")
        elif token["comment"]:
            end = s.find("-->", pos)
            pos = n if end < 0 else end + 3
        elif token["bogus"]:
            end = s.find(">", pos)
            pos = n if end < 0 else end + 1
        else:
            break  # end of input inside a tag: nothing of it is shown
    return parts


def _href(attrs: str) -> str:
    """The first ``href`` among a tag's attributes (quotes removed; entities are decoded
    with the text)."""
    for attr in _ATTRIBUTES.finditer(attrs):
        if attr["key"].lower() == "href":
            value = attr["value"] or ""
            if value[:1] in ("'", '"'):
                value = value[1:-1]
            return value.strip()
    return ""


def visible_text(source: str) -> str:
    """The text a Matrix client shows for ``source``, whitespace collapsed."""
    return " ".join(html.unescape("".join(_read(source))).split())
