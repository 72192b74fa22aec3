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
_OPEN = re.compile(r"<[A-Za-z!?/]")
_NAME = re.compile(r"[A-Za-z][^\s/>]*+")
_ATTRIBUTE = (r"""[\s/]*+(?P<key>[^\s/>][^\s/>=]*+)"""
              r"""(?>\s*+=\s*+(?P<value>"[^"]*+"|'[^']*+'|[^\s>]*+))?""")
_START = re.compile(rf"(?P<name>[A-Za-z][^\s/>]*+)(?P<attrs>(?>{_ATTRIBUTE})*+)[\s/]*+>")
_ATTRIBUTES = re.compile(_ATTRIBUTE)
# Elements whose content clients drop entirely.
_HIDDEN = frozenset({"script", "style", "textarea", "option", "noscript", "title",
                     "template", "iframe", "object"})
_BLOCK = frozenset({"br", "p", "div", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5",
                    "h6", "blockquote", "pre", "hr", "ul", "ol", "table", "details",
                    "summary", "caption", "dt", "dd"})
_MATRIX_LINK = "https://matrix.to/"


class _Reader:
    def __init__(self, source: str) -> None:
        self.s = source
        self.parts: list[str] = []
        self.reply = 0  # depth of <mx-reply>

    def text(self, chunk: str) -> None:
        if not self.reply:
            self.parts.append(chunk)

    def run(self) -> None:
        s, i, n = self.s, 0, len(self.s)
        while i < n:
            found = _OPEN.search(s, i)
            if found is None:
                self.text(s[i:])
                return
            j = found.start()
            self.text(s[i:j])
            nxt = s[j + 1]
            if s.startswith("<!--", j):
                end = s.find("-->", j + 4)
                i = n if end < 0 else end + 3
            elif nxt in "!?" or (nxt == "/" and not _NAME.match(s, j + 2)):
                end = s.find(">", j + 2)  # a bogus comment (<!DOCTYPE, <![CDATA[, <?x, </ >)
                i = n if end < 0 else end + 1
            else:
                tag = _START.match(s, j + 2 if nxt == "/" else j + 1)
                if tag is None:
                    return  # end of input inside a tag: nothing of it is shown
                i = (self.closed if nxt == "/" else self.opened)(tag)

    def closed(self, tag: re.Match[str]) -> int:
        name = tag["name"].lower()
        if name == "mx-reply" and self.reply:
            self.reply -= 1
        elif name in _BLOCK:
            self.parts.append(" ")
        return tag.end()

    def opened(self, tag: re.Match[str]) -> int:
        name = tag["name"].lower()
        if name == "mx-reply":
            self.reply += 1
        elif name in _HIDDEN:
            close = re.compile(f"</{re.escape(name)}[\\s/>]", re.IGNORECASE).search(
                self.s, tag.end())
            return len(self.s) if close is None else close.start()
        elif name in _BLOCK:
            self.parts.append(" ")
        elif name == "a" and not self.reply:
            href = _href(tag["attrs"])
            if href and not href.startswith(_MATRIX_LINK):
                self.parts.append(f" {href} ")
        return tag.end()


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
    reader = _Reader(source)
    reader.run()
    return " ".join(html.unescape("".join(reader.parts)).split())
