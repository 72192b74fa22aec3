"""One view of a message's text, computed once and shared by every detector.

Spimmers disguise text so that filters miss it: homoglyphs (Cyrillic 'а' for
Latin 'a'), zero-width characters inside words, leetspeak ('fr33 r1ngt0nes'),
spaced-out links ('ringtones dot com'). The view undoes those tricks once:

- ``text``: NFKC of the text without its invisible characters (every Unicode
  Default_Ignorable_Code_Point: zero-width, bidi controls, variation selectors, tags,
  fillers, shorthand and musical format controls), what a direction override draws
  backwards read in the order drawn (``drawn_order``), every character drawn as a blank read
  as a space, letters in frames (🅕, ⒡, a lone regional indicator) read as the letters,
  and words written with a blank or a mark after every letter ("b u y  n o w",
  "b-u-y n-o-w") read as the words; what a person would read.
- ``skeleton``: ``text`` case-folded, accents dropped, confusables mapped to their
  ASCII prototype (Unicode TR39 data from ``confusable-homoglyphs``), small capitals
  read as their letters ("ʀɪᴄʜ"), and inside a word of them the letters of other scripts
  drawn as them ("вᴜʏ"), and leetspeak folded inside words that mix letters and
  digits, but for a figure written with its unit ("3pm", "1st", "x2": ``_FIGURE``). For
  matching only.
- ``tokens``: words of any script; CJK runs become character unigrams and bigrams
  (those scripts do not separate words with spaces); emoji are tokens of their own.
- ``urls``: explicit URLs, ``www.`` hosts, bare domains with a known public suffix,
  bare dotted quads with a path and "example dot com" spellings, each with its
  registrable domain from tldextract's bundled suffix list (never fetched); a label's
  letters with their combining marks, chat's emphasis and spoilers ("_x.com_",
  "*https://x.com*", "||https://x.com||") no part of it. Hosts are read as a browser's
  host parser reads them (WHATWG URL, UTS #46): the ideographic full stops separate
  labels, and a number, hex or octal host is an IPv4 address.
- ``apart_hosts``: hosts written apart with a mark a reader retypes as the dot
  ("tones-shop. com", "tones-shop•com"), or with a blank or another mark before a
  link's tail ("tones-shop com/new"), a guess that chat makes too ("yes, no/maybe"): for
  the operator's block list only (and "tones-shop punto com", another language's word for
  the dot: ``_FOREIGN_DOT``; every guess the text holds, so that chat's guesses put
  first cannot crowd out a listed one; before a public suffix of either section of the
  PSL, "tones-shop. blogspot.com"), never in ``urls``, ``domains`` or ``masked``.
- ``apart_sites``: the registrable domains of those written as a site for the reader to
  retype, not as prose parts its words ("tones-shop•biz", "tones-shop. biz/r?u=1"; not
  "I'm done. biz trip tomorrow"): what the takeover detector's pitch reads besides the
  links' domains.
- ``calls``: the numbers that bill whoever answers them which the prose tells the reader
  to use (``billing``): a keyword to a short code, "sms:80888"; a premium-rate number
  written internationally, "tel:449065550143". What the takeover detector's pitch reads
  besides its sites.
- ``masked``: the prose skeleton with numbers (a figure with its unit whole) and mentions
  masked, then the links' domains (``masked_for`` masks the recipients' names too), what
  bulk and waves compare;
  ``fingerprint`` is a hash of it, so personalised copies collide.
"""

from __future__ import annotations

import hashlib
import ipaddress
import itertools
import json
import math
import re
import unicodedata
from bisect import bisect_left
from collections.abc import Sequence
from encodings import idna
from functools import cache, lru_cache
from importlib import resources
from urllib.parse import SplitResult, unquote, urlsplit

import idna as uts46
import msgspec
import regex
import tldextract

MAX_URLS = 64  # a message with more links than this is judged on its first 64
# Each link-like word costs a parse and a suffix lookup (tens of µs) whether or not it
# turns out to be a link ("file.txt", "a1.zz"): a message's first 256 are read.
MAX_LINK_CANDIDATES = 4 * MAX_URLS
# IDNA (nameprep, punycode; UTS #46's mapping for a host with ß or ς) is pure Python, about
# 3 µs a character: a message's links are parsed until IDNA has been asked this many
# characters of their hosts (``_idna_chars``: a host written outside ASCII, percent-encoded
# or in punycode; 8 hosts of the longest name DNS allows), so 64 KiB of them cannot cost a
# second. The hosts past them are read for the block list in their Unicode form
# (``host_key``), which costs no IDNA: none is skipped.
MAX_IDN_CHARS = 2048
CACHED_URL_CHARS = 2048  # longer links are parsed every time, never kept in the cache

# What a renderer shows nothing for: Unicode's Default_Ignorable_Code_Point (from the Unicode
# data ``regex`` is built with, so new ones come with the package), and the interlinear
# annotation controls, format characters no chat client draws either.
_INVISIBLE = regex.compile(r"[\p{Default_Ignorable_Code_Point}\ufff9-\ufffb]+")
# Drawn as a blank, yet no whitespace, so ``str.split`` and ``\s`` do not part words at
# them: the braille blank, the musical null notehead (a note with no head: nothing is
# drawn) and the Egyptian hieroglyph format controls (drawn as nothing or a blank outside
# a cluster of hieroglyphs). A reader reads each as a space.
_DRAWN_BLANK = re.compile("[\u2800\U0001d159\U00013430-\U0001343f]")
# The sigmas NFKC writes as the final ς, a deviation character that names a host of its own
# ("ςοφίας.gr" is not σοφίας.gr), though UTS #46 maps each to σ wherever it stands: the
# lunate sigma ϲ and the five mathematical final sigmas. These six are the only code points
# whose cleaned form holds ß or ς where a browser's host reading holds neither (every code
# point checked against the ``idna`` package's mapping); read as σ before NFKC, a host
# written with them ("ϲοφίας.gr") is the one a browser opens. Found by six ``in`` scans: a
# regex's character class costs a thousand times more on a text outside ASCII.
_COMPAT_SIGMAS = "\u03f2\U0001d6d3\U0001d70d\U0001d747\U0001d781\U0001d7bb"
_AS_SIGMA = dict.fromkeys(map(ord, _COMPAT_SIGMAS), "\u03c3")
# Letters drawn in a frame: Unicode names them "NEGATIVE CIRCLED LATIN CAPITAL LETTER F"
# (🅕), "NEGATIVE SQUARED ..." (🅵), "PARENTHESIZED ..." (⒡, 🄕). NFKC reads their outlined
# siblings (Ⓕ, 🄵) as the letter; these it leaves as symbols (no decomposition) or as "(f)",
# yet a reader reads each as its letter, and "fancy text" generators write pitches with
# them. Taken from the names in the two Enclosed Alphanumerics blocks, not a list by hand.
_FRAMED_NAME = re.compile(
    r"(?:NEGATIVE CIRCLED|NEGATIVE SQUARED|PARENTHESIZED) LATIN (CAPITAL|SMALL) LETTER ([A-Z])")
_FRAMED_BLOCKS = (range(0x2460, 0x2500), range(0x1F100, 0x1F200))
_FRAMED_HINT = re.compile("[\u249c-\u24b5\U0001f110-\U0001f1ff]")
# A regional indicator is half a flag: two side by side are drawn as one (🇫🇷). One with no
# partner (a run of them pairs from its start; the odd one out is alone, as is one a
# zero-width character parts from the next) is drawn as its letter in a box.
_REGIONAL_RUN = re.compile("[\U0001f1e6-\U0001f1ff]+")
_REGIONAL_A = 0x1F1E6
_WORD = re.compile(r"\w+", re.UNICODE)
_EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff]")
_CJK_RANGES = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_CJK = re.compile(f"[{_CJK_RANGES}]")
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b",
                       "@": "a", "$": "s"})
# Whole runs of the characters leetspeak writes words with ("fr33", "r1ngt0nes", "c@ll")
# that mix letters with digits, '@' or '$'. Possessive: each run is read once.
_LEET_RUN = re.compile(r"(?<![a-z0-9@$])((?:[a-z]++[0-9@$]|[0-9@$]++[a-z])[a-z0-9@$]*+)")
# A letter beside a digit, '@' or '$': ``[a-z][0-9@$]|[0-9@$][a-z]``, spelt from the digit
# so that the pattern opens with a character class, which ``re`` skips to in C: most texts
# hold no digit, and the search cost a tenth (session 40, ``view40``; every hint below that
# opens with a class is so spelt, and ``tests/test_view40`` holds the older spellings).
_LEET_HINT = re.compile(r"[0-9@$](?:(?<=[a-z].)|(?=[a-z]))")
# A figure written with its unit is a number, not leetspeak (session 35, ``units35``).
# Leetspeak writes digits in a word's place of letters so that a word list misses it ("fr33",
# "v1agra"); a figure's digits are the number it says, and the letters glued to them say
# what it counts: an ordinal's suffix ("1st", "22nd", "3rd", "11th"), a clock's half of the
# day ("3pm", "10:30am"), or the "x" of how many times ("x2"). The set is closed, and each
# member is read only where the figure is one: the suffix an ordinal's last digits take
# ("4nd" is no ordinal but "and"), a clock's hour (1-12, or the minutes after a colon:
# "73am" is no time but "team"), "x" before digits alone. What a disguise can still spell
# with it, read against every word of 3+ letters in the public corpora: "oath", "both",
# "bath", "tooth", "booth" ("04th", "80th", "84th", "700th", "800th"), "sam", "bam"
# ("5am", "8am"), none with "x": no pitch's word, and each reads as a figure to the person
# the disguise is for. Left out because their figures spell pitch
# words written in digits: a unit after the number ("53x" reads "sex"), a version's "v"
# ("v154" reads "visa"), a magnitude's "k" or "m" ("800k" reads "book", "533m" "seem"),
# pence's "p" ("570p" reads "stop"). The skeleton keeps a figure's digits, and
# ``masked`` masks the figure whole ("#"), as it masks a number: what differs per copy.
_UNITS = "st|nd|rd|th|am|pm"  # the units a figure may be written with, after its number
_FIGURE = re.compile(rf"x[0-9]+|([0-9]+)({_UNITS})")  # ASCII digits only
_ORDINAL = {"1": "st", "2": "nd", "3": "rd"}  # a last digit's suffix; "th" for the rest
_HOURS = range(1, 13)
_MINUTES = range(60)  # a clock's minutes, after its colon ("10:30pm")
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")

_SPACED_TLDS = ("com|net|org|info|biz|ru|io|co|me|us|uk|de|xyz|top|site|online|club|shop|app|"
                "link|click|store|live|tk|ml|ga|cf|gq|cn|su|id|br|es|pt|in|tv|cc|ws|mobi")
# What any spaced or defanged link has ("promo dot com", "bit[.]ly", "x . com"): one scan
# of a text without it spares both substitutions.
# (Spelt from a class, ``_LEET_HINT``: ``dot|[\[({]| \.`` case-insensitively, where no
# character but 'd', 'o', 't' and their capitals matches one of the three.)
_SPACED_HINT = re.compile(r"[dD\[({.](?:(?<=[dD])[oO][tT]|(?<=[\[({])|(?<= \.))")
# "bit[.]ly", "promo(dot)com": defanged on purpose, so any suffix counts. A label's last
# character and the next label's first are any letter (or digit), as in a host written
# whole: "faß[.]de" and "магазин(dot)рф" are defanged as "promo[.]com" is. (The lookahead
# first: the letter test behind costs more than the test of the character at hand.)
_DEFANGED = re.compile(
    r"(?=[\s\[({])(?<=[^\W_])\s*(?:\[\s*(?:\.|dot)\s*\]|\(\s*(?:\.|dot)\s*\)|\{\s*(?:\.|dot)\s*\})\s*"
    r"(?=[^\W\d_])", re.IGNORECASE)
# "promo dot com", "promo . com": ordinary words too, so only well-known suffixes count.
_SPACED_DOT = re.compile(
    r"(?=\s)(?<=[^\W_])(?:\s+dot\s+|\s+\.\s*)(?=(?:" + _SPACED_TLDS + r")\b)", re.IGNORECASE)
_NOT_CJK = rf"[^\W{_CJK_RANGES}]"
# Scripts written without spaces between words (CJK, Thai, Lao, Myanmar, Khmer): their prose
# runs into a link written after it ("请看tones-shop.com", "สมัครเลยline.me/x").
_UNSPACED_RANGES = _CJK_RANGES + "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff"
# A host's last label is letters of one kind: none of those scripts ("com"), or theirs
# (".中国", ".ไทย"). Prose of theirs after a link ("tones-shop.com很好") is no part of it.
_PATH = r"/[^\s<>\"'`]*"
# A link's authority (its userinfo, host and port) after its scheme, up to its path. It ends
# where a browser's or a linkifier's host ends, at a character no registrable host holds:
# those WHATWG URL refuses in a host ("]|^<>", and '[' but around an IPv6 literal) and
# chat's emphasis marks "*~" (LDH, RFC 1123). Read to the next blank, as a link's path
# is, "*(https://tones-shop.com)*" was the host "tones-shop.com)*", "*https://tones-shop.com*/x"
# "tones-shop.com*", and "[https://tones-shop.com](https://tones-shop.com)" (markdown's link)
# no link at all (session 33's reviews: no signal for a denied host). An underscore stays
# inside (a subdomain may hold one: "my_site.blogspot.com"), but no host ends with one (no
# suffix does): "_https://tones-shop.com_?q=1" is italics around tones-shop.com.
_AUTHORITY = (r"(?:[^\s<>\"'`/\\?#\[\]|^*~_]|\[[\w:.%]*+\]"
              r"|_++(?=[^\s<>\"'`/\\?#\[\]|^*~_]))*+")


@cache
def _marks() -> str:
    """Every combining mark (general category M: accents, Thai vowel and tone marks, the
    Indic vowel signs, the strokes drawn through a letter), as the inside of a character
    class. ``re``'s word class holds none of them, yet a host's label does ("ต้นไม้.ไทย",
    "हिन्दी.भारत"): a browser reads the letters and their marks as one label, and a
    linkifier links them. Without them the pattern read "tones-shop.com" with "tones" struck
    through (U+0336 after each letter) as "-shop.com", "tones-shop" with a dot below its "p"
    (U+0323) as no link, and the Thai host "สมัครสมาชิก.com" as "ก.com". From the Unicode
    data ``regex`` is built with.

    The enclosing marks (Me: the keycap, the circle, the square drawn around what comes
    before, Cyrillic's numeric signs) are no part of any script's spelling of a word, and
    none of a label: "tones-shop.com" with a circle around its "m" is read tones-shop.com,
    as its reader retypes it (read with it, the suffix was none, and a denied host got no
    signal: session 33's review). A link's pattern reads them as it reads the marks
    (``_link_marks``), and its host is read without them (``_enclosing``)."""
    return _mark_ranges(r"[\p{Mn}\p{Mc}]+")


_ENCLOSING_MARKS = r"\p{Me}+"  # the general category of enclosing marks


@cache
def _enclosing() -> re.Pattern[str]:
    """A run of enclosing marks (Me): drawn around the character before them, and no part
    of its spelling (``_marks``)."""
    return re.compile(f"[{_mark_ranges(_ENCLOSING_MARKS)}]+")


def _mark_ranges(category: str) -> str:
    """The characters of ``category`` (a pattern of general categories of marks), as the
    inside of a character class, from the Unicode data ``regex`` is built with."""
    first = 0x300  # no mark comes before the combining diacritical marks
    chars = "".join(map(chr, range(first, 0x20000)))
    return "".join(f"{chr(found.start() + first)}-{chr(found.end() - 1 + first)}"
                   for found in regex.finditer(category, chars))


@cache
def _link_marks() -> str:
    """The marks a link's pattern reads inside a label (``_url_patterns``): the combining
    marks (``_marks``) and the enclosing ones. A circle drawn around a letter inside a label
    ("tones\u20dd-shop.com", "tones-shop\u20dd.com") ended the label there, and the host
    read was "-shop.com" or none (session 33's reviews: no signal for a denied host); its
    reader retypes tones-shop.com, and so the host is read (``read_host``)."""
    return _marks() + _mark_ranges(_ENCLOSING_MARKS)


@cache
def _any_mark() -> re.Pattern[str]:
    """A run of the marks a link's label holds (``_link_marks``): most texts outside ASCII
    hold none where they hold a link, and the patterns without marks read them faster
    (callgrind, the view of every tenth text of the corpora: 13k instructions a text, 2.5 %,
    against 2k for the scan)."""
    return re.compile(f"[{_link_marks()}]+")


@cache
def _url_patterns(marked: bool) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The links a chunk of text holds (and those of a chunk with an '@'). A label is
    letters, digits, hyphens and their marks (``_link_marks``), if ``marked`` (a text with a
    mark: ``_any_mark``)."""
    marks = _link_marks() if marked else ""
    label = rf"[\w{marks}-]"
    # A host's last label is letters of one kind (with their marks): none of those scripts
    # ("com"), or theirs (".中国", ".ไทย"). Prose of theirs after a link
    # ("tones-shop.com很好") is no part of it.
    letter = rf"[^\W\d_{_UNSPACED_RANGES}]"
    # Not the enclosing marks: one after the suffix ends the host ("a.com\u20e3evil" is a.com,
    # as before session 34; read on, the host was "a.comevil", under no suffix).
    letter_on = rf"(?:{letter}|[{_marks()}])" if marks else letter
    tld = rf"(?:xn--[a-z0-9-]{{2,59}}|{letter}{letter_on}{{1,23}}|[{_UNSPACED_RANGES}]{{2,24}})"
    branches = (
        rf"(?:(?:https?|ftp)://|www\.)(?=[^\s<>\"'`]){_AUTHORITY}(?:[/\\?#][^\s<>\"'`]*+)?"
        rf"|(?<![\w{marks}@.-])(?:{label}{{1,63}}\.)+{tld}(?::\d{{1,5}})?(?:{_PATH})?"
        # A bare dotted quad is a link with a path ("95.141.32.7/login": linkifiers link
        # it); without one it is as likely a version number.
        rf"|(?<![\w@.-])(?:\d{{1,3}}\.){{3}}\d{{1,3}}(?::\d{{1,5}})?{_PATH}")
    # A bare host with a name before '@' and a path after it ("paypal.com@tones-shop.com/x")
    # is a URL whose userinfo is that name: a browser given it goes to the host after the
    # '@'. No e-mail address has a path; without one it is an address, and no link. Tried
    # first, for the chunks that hold an '@'.
    at = (rf"(?<![\w@.:%+-])[\w.:%+-]{{1,256}}@(?:{label}{{1,63}}\.)+{tld}(?::\d{{1,5}})?"
          rf"{_PATH}|{branches}")
    return re.compile(branches, re.IGNORECASE), re.compile(at, re.IGNORECASE)


# Letters of those scripts at the start of a bare link's first label, up to the last one
# before letters of another script there: prose the link was written against (Thai prose
# writes a Latin letter for a Thai one drawn like it, "ถอuให้เลยnaza90.co", and the
# label, read with its marks, holds the whole run).
_GLUED_PROSE = re.compile(
    rf"[{_UNSPACED_RANGES}](?:[^.]*[{_UNSPACED_RANGES}])?(?=[^\W{_UNSPACED_RANGES}])")
# What WHATWG URL forbids in a domain (its forbidden domain code points, beside the C0
# controls and DEL): a percent-decoded host holding one is no host.
_FORBIDDEN_IN_HOST = re.compile(r"[\x00-\x20\x7f#%/:<>?@\[\\\]^|]")
_TRAILING = ".,;:!?)]}'\"»…"
# Markdown's emphasis ("_tones-shop.com_", "__tones-shop.com__": italics and bold in
# WhatsApp, Telegram, Slack and Markdown), drawn as no character: the reader sees the host
# in italics and a linkifier links the host inside. WHATWG URL lets a host hold '_', so the
# URL pattern read "_tones-shop.com" as the host, a name no registry gives out (LDH rule,
# RFC 1123: a registrable label is letters, digits and hyphens), and no list names
# (measured on main: a denied host so written got no signal). The only names that start
# with '_' are DNS's service labels ("_dmarc.example.com"), no link anyone sends: a bare
# host's leading underscores are read as emphasis, not as part of the host.
EMPHASIS = "_"
# The marks that open and close emphasis in chat's markup: WhatsApp's and Telegram's bold
# "*", italics "_", strikethrough "~". Before a link they are drawn as no character, and
# the linkifier links what they enclose ("*https://tones-shop.com*" is a bold link to
# tones-shop.com). A link's pattern runs to the next blank, so it read the closing mark as
# the host's last character ("tones-shop.com*"), a host no label ends so (LDH) and no list
# names (session 33's review: a denied host in bold got no signal). A link opened after
# one of them ends before the marks it ends with. So with the spoiler's bars ("||x||":
# Discord's and Telegram's, the link inside drawn hidden until tapped, and linked): '|' is
# a character WHATWG URL refuses in a host, so no host a browser opens ends with it
# (session 33's second review: "||https://tones-shop.com||" read "tones-shop.com||", no
# signal for a denied host).
EMPHASES = "_*~|"
_NUMBER = re.compile(r"\d\d*(?:[.,:/-]\d+)*")  # \d+, opening with a class (``_LEET_HINT``)
# A number as ``_NUMBER`` reads it, with the "x" before it or the unit after it that
# ``_FIGURE`` may read: each number is matched once, left to right (a figure's word
# boundaries are checked on the match, not by a lookbehind that would start a match at
# every part of "1.1.1.1...", each scanning the rest: quadratic).
_NUMBER_OR_FIGURE = re.compile(rf"x{_NUMBER.pattern}|{_NUMBER.pattern}({_UNITS})?")
_UNIT_HINT = re.compile(rf"\d(?:(?<=x.)|(?={_UNITS}))")  # x\d or a unit after \d (``_LEET_HINT``)
_MENTION = re.compile(r"@\w+")


class UrlFact(msgspec.Struct, frozen=True, gc=False):
    """A link as the view reads it; built in C, as ``MessageView`` is (a new link's
    frozen dataclass cost nine ``object.__setattr__`` calls)."""

    raw: str
    host: str  # lower-case, ASCII (punycode for IDN)
    host_unicode: str  # IDN decoded, for people and for the confusable skeleton
    domain: str  # registrable domain (eTLD+1), or the IP literal
    is_ip: bool
    explicit: bool  # written with a scheme or www., not a bare domain
    userinfo: str  # the part before '@' in https://live.com@evil.example
    path: str
    query: str


class MessageView(msgspec.Struct, frozen=True, gc=False):
    """A text's view: what every detector reads of a message's words and links.

    Frozen, hashed and compared by its fields (a batch keys its texts by their views),
    built in C from keywords: a frozen dataclass set its 14 fields one
    ``object.__setattr__`` call at a time, ~27,600 instructions a view, ~2,600 here
    (session 45, ``view45``). Out of the garbage collector's sight (``gc=False``, as the
    state primitives): it holds strings, numbers and links (``UrlFact``), none of which
    can lead back to it."""

    text: str
    skeleton: str
    urls: tuple[UrlFact, ...]
    domains: tuple[str, ...]
    fingerprint: str
    # ``masked`` of the prose skeleton and domains, no names: what ``fingerprint`` hashes,
    # and what bulk and waves compare (``masked_for`` masks the recipients' names too).
    masked: str
    # The words around the links: ``text`` and ``skeleton`` with every link taken
    # out (the same strings when there is none). Judging words apart from links
    # keeps "did you see this? <link>" between friends from reading as spam.
    prose: str
    prose_skeleton: str
    # Whether the writer spaced a word out letter by letter (``unspace`` joined it): the
    # text reads as the words, and the trick is a cue of its own (``model/cues``).
    spaced: bool = False
    # Hosts written apart ("tones-shop. com/new": ``apart_hosts``), none of them in
    # ``urls``. A reader's guess, not what was typed: chat writes "yes, no/maybe" and
    # "ok, now/later?" too. Only the operator's block list reads them (a name the operator
    # listed is no accident); reputation, the fingerprint, bulk, takeover and the content
    # model see what was typed (takeover also ``apart_sites``), so no phrase of chat
    # becomes a link they learn or count.
    apart_hosts: tuple[str, ...] = ()
    # For each of ``apart_hosts``, how many of its last labels were written as one name
    # after its last join ("com" in "tones-shop. com", "github.io" in "my page. github.io"):
    # the block list reads only the names that hold a join (``lists.apart_suffixes``). A
    # company's host listed whole ("github.io") is then not read where nothing was joined to
    # it but prose's last word ("lol. github.io is down"), as it is not read written alone.
    apart_tails: tuple[int, ...] = ()
    # The registrable domains of ``apart_hosts`` written as a site for the reader to retype,
    # not as prose parts its words: joined by a mark that ends no sentence
    # ("tones-shop•biz", "tones-shop . so", "tones-shop ・biz"), or by a full stop with a
    # link's tail after the suffix ("tones-shop. biz/r?u=1"); under a public suffix of the
    # bundled list. A sentence's end ("I'm done. biz trip tomorrow", "ok. so") is none, nor
    # a comma ("iPhone、app"), nor a script's list mark in its prose ("ゲーム・music・movie").
    # The takeover detector's pitch reads them as it reads the links' ``domains`` (a seller
    # who writes its site apart still pitches it); like ``apart_hosts``, they are in no
    # ``urls``, ``domains``, fingerprint or ``masked``, so no reputation, bulk, wave or
    # model counts them.
    apart_sites: tuple[str, ...] = ()
    # Hosts of the links typed past what the view reads (``MAX_URLS`` links,
    # ``MAX_LINK_CANDIDATES`` link-like words, ``MAX_IDN_CHARS`` of IDN hosts, these in their
    # Unicode form: ``host_key``), none of them in ``urls``: read as a browser reads a host,
    # without the rest of a link's parse. Only the operator's block list reads
    # them: a cap on the costly checks must not let a text choose which of its links escape
    # the list (64 decoys before the listed one).
    unread_hosts: tuple[str, ...] = ()
    # For each link whose host is written with a deviation character (ß, ς: ``read_host``),
    # the host IDNA 2003 reads there ("faß.de" is fass.de), where the link's own is the
    # browser's (xn--fa-hia.de), none of them in ``urls``. Clients that read hosts by IDNA 2003
    # or UTS #46's transitional processing (Chrome before 110, java.net.IDN) open that one,
    # and the view's NFKC writes a compatibility sigma ("ϲ", "𝛓"), which a browser reads as
    # σ, as ς. Only the operator's block list reads them: a link that takes any of its
    # readers to a listed host is blocked.
    transitional_hosts: tuple[str, ...] = ()
    # Where the prose tells the reader to act by a number that bills whoever answers it
    # (``billing``): a keyword texted to a short code ("text TONES to 80888": "sms:80888")
    # and a premium-rate number written internationally ("call +44 906 555 0143":
    # "tel:449065550143"). The ringtone
    # seller's pitch names one instead of a link, and it is the pitch's site no less; a
    # person's own number ("my new number: 07700 900007") bills nobody and is none. Only
    # the takeover detector reads them (``keys.sites``); in no ``urls``, ``domains``,
    # fingerprint or ``masked``.
    calls: tuple[str, ...] = ()

    @property
    def tokens(self) -> tuple[str, ...]:
        """Words of any script (computed on demand: no detector on the hot path needs them)."""
        return tokenize(self.text)


@cache
def _extractor() -> tldextract.TLDExtract:
    # An empty URL tuple and no cache directory: the suffix list bundled with the
    # package is used as is and nothing is ever fetched or written.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None,
                                 include_psl_private_domains=True)


@cache
def _confusable_data() -> dict[str, list[dict[str, str]]]:
    """TR39's confusables (from ``confusable-homoglyphs``): each character, the characters
    it is drawn like."""
    source = resources.files("confusable_homoglyphs").joinpath("confusables.json")
    data: dict[str, list[dict[str, str]]] = json.loads(source.read_text(encoding="utf-8"))
    return data


@cache
def _confusables() -> dict[int, str]:
    """Non-ASCII characters whose TR39 prototype is an ASCII letter or digit."""
    table: dict[int, str] = {}
    for char, entries in _confusable_data().items():
        if len(char) != 1 or char.isascii():
            continue
        for entry in entries:
            target = entry["c"]
            if len(target) == 1 and target.isascii() and target.isalnum():
                table[ord(char)] = target.lower()
                break
    return table


def clean(raw: str, drawn: bool = True) -> str:
    """NFKC without invisible characters, letters in frames read as letters: the text a
    reader sees (``drawn``: each span under a direction override in the order drawn; else
    in the order stored, as a client finds the links it makes clickable).

    Invisible characters go first: one between a letter and its accent would keep NFKC
    from composing the two. NFKC makes no invisible character of a visible one, so none is
    left after. Framed letters are read before both: the invisible characters decide which
    regional indicators pair into flags, and NFKC would make "(f)" of a parenthesized one.
    """
    if raw.isascii():
        return raw  # NFKC leaves ASCII alone, and every invisible character is beyond it
    if drawn and _overridden(raw):
        raw = drawn_order(raw)
    if _FRAMED_HINT.search(raw):
        raw = _REGIONAL_RUN.sub(_lone_indicator, raw.translate(_framed_letters()))
    if any(map(raw.__contains__, _COMPAT_SIGMAS)):  # in C: no generator a text
        raw = raw.translate(_AS_SIGMA)
    return _DRAWN_BLANK.sub(" ", unicodedata.normalize("NFKC", _INVISIBLE.sub("", raw)))


# The bidi controls that force a direction on the letters after them: U+202E RIGHT-TO-LEFT
# OVERRIDE draws every character up to the matching U+202C POP DIRECTIONAL FORMATTING (or
# the paragraph's end) right to left, so "\u202emoc.pohs-senot" is drawn "tones-shop.com"
# and "\u202e!ezirp a now" is drawn "won a prize!"; U+202D LEFT-TO-RIGHT OVERRIDE draws
# Hebrew or Arabic letters left to right, so their reader reads them backwards. A reader
# reads what is drawn; the characters stored are in another order, and a filter that reads
# them reads a word salad and no link (measured on main: a winner pitch drops from p 1.000
# to 0.141, a denied host written so gets no signal). Nobody writes ordinary text so: no
# text of the six corpora (20,528) holds an override. The other bidi controls (embeddings
# U+202A, U+202B, isolates U+2066-U+2068) set the side a run is laid out from, not its
# letters' order, and are read as the invisible characters they are.
_BIDI_PIECE = regex.compile(
    r"[\u202a-\u202e\u2066-\u2069]|\p{Bidi_Class=B}|[^\u202a-\u202e\u2066-\u2069\p{Bidi_Class=B}]+")
_OPENERS = {"\u202a": "", "\u202b": "", "\u202d": "ltr", "\u202e": "rtl",
            "\u2066": "isolate", "\u2067": "isolate", "\u2068": "isolate"}
# RLE, RLO, RLI open the next odd level (FSI: its text's way), the others the next even one.
_RTL_OPENERS = frozenset("\u202b\u202e\u2067")
_ISOLATES = frozenset("\u2066\u2067\u2068")
# A run of right-to-left letters (and what lies between two of them) under an override: its
# reader reads it from the right.
_RTL_RUN = regex.compile(
    r"[\p{Bidi_Class=R}\p{Bidi_Class=AL}]"
    r"(?:[^\p{Bidi_Class=L}\p{Bidi_Class=EN}\p{Bidi_Class=AN}]*[\p{Bidi_Class=R}\p{Bidi_Class=AL}])?")
_STRONG = regex.compile(r"[\p{Bidi_Class=L}\p{Bidi_Class=R}\p{Bidi_Class=AL}]")
_ASCII_LETTER = re.compile("[A-Za-z]")  # ASCII's only strong characters (Bidi_Class L)
_STRONG_WAYS = frozenset(("L", "R", "AL"))
# The paragraph separators (Bidi_Class B: line feed, carriage return, the information
# separators, NEL, U+2029), as ``_BIDI_PIECE`` yields each: a piece alone.
_PARAGRAPH_ENDS = frozenset(regex.findall(r"\p{Bidi_Class=B}", "".join(map(chr, range(0x2030)))))
_GRAPHEME = regex.compile(r"\X")
# The deepest embedding level UAX #9 draws (BD2): a control that would open a deeper one
# does nothing. Levels, not controls, count: an opener of the other direction's parity goes
# one level deeper, one of its own two ("\u202b" 63 times reaches level 125, and a U+202E
# after them is drawn as if absent, whatever a count of 64 controls says).
MAX_BIDI_DEPTH = 125


def _overridden(raw: str) -> bool:
    return "\u202e" in raw or "\u202d" in raw


def _strong_first(pieces: list[str]) -> tuple[dict[int, bool], dict[int, bool]]:
    """Which way each paragraph and each U+2068 FIRST STRONG ISOLATE runs (UAX #9, P2-P3: its
    first letter of a direction, skipping the text of the isolates inside it), by the index
    of the piece that starts it (a paragraph: its first piece; True for right to left). The
    level a control opens depends on them, and with it where the depth runs out. Linear:
    isolates are matched in one pass forward (BD9), the first letters found in one back."""
    matched: set[int] = set()  # isolate initiators and PDIs that match one another
    open_isolates: list[int] = []
    for at, piece in enumerate(pieces):
        if piece in _ISOLATES:
            open_isolates.append(at)
        elif piece == "\u2069" and open_isolates:
            matched.update((open_isolates.pop(), at))
        elif piece in _PARAGRAPH_ENDS:
            open_isolates.clear()
    paragraphs: dict[int, bool] = {}
    first_strong: dict[int, bool] = {}
    after: bool | None = None  # the direction of the first letter after, at this isolate depth
    outer: list[bool | None] = []  # the same, outside each matched isolate being read back
    for at in range(len(pieces) - 1, -1, -1):
        piece = pieces[at]
        if piece in _PARAGRAPH_ENDS:
            paragraphs[at + 1] = after is True
            after, outer = None, []
        elif piece == "\u2069":
            if at in matched:
                outer.append(after)
                after = None
        elif piece in _ISOLATES:
            if piece == "\u2068":
                first_strong[at] = after is True
            after = outer.pop() if at in matched else None
        elif piece not in _OPENERS and piece != "\u202c":
            way = unicodedata.bidirectional(piece[0])  # most pieces start with a letter
            if way not in _STRONG_WAYS:
                strong = (_ASCII_LETTER if piece.isascii() else _STRONG).search(piece)
                way = unicodedata.bidirectional(strong.group()) if strong else ""
            if way:
                after = way != "L"
    paragraphs[0] = after is True
    return paragraphs, first_strong


def drawn_order(raw: str) -> str:
    """``raw`` with the characters under each direction override in the order a reader
    reads them (UAX #9's reordering, for overrides): Latin letters under U+202E right to
    left, Hebrew and Arabic ones under U+202D left to right, each span nested in another
    kept whole in its place. The controls are dropped (``clean`` would drop them), and each
    is read as UAX #9's rules X1-X8 read it: one past ``MAX_BIDI_DEPTH`` does nothing, nor a
    PDF inside an isolate it did not open. Linear: each piece is read once, and each span
    reversed once, by grapheme (a letter with its accents, a flag) so that marks stay on
    their letters."""
    pieces: list[str] = _BIDI_PIECE.findall(raw)
    read = _laid_out(pieces, None)
    if read is None:
        read = _laid_out(pieces, _strong_first(pieces))
        assert read is not None  # given the ways, every text is read
    return read


# Each opener goes one or two levels deeper, from a paragraph's level 0 or 1: while no more
# than this many spans are open, no level passes ``MAX_BIDI_DEPTH`` whichever way a paragraph
# or an FSI runs, and the ways matter no more (a span is read by its kind, not its level).
_SURE_SPANS = (MAX_BIDI_DEPTH - 1) // 2


def _laid_out(pieces: list[str], ways: tuple[dict[int, bool], dict[int, bool]] | None
              ) -> str | None:
    """``drawn_order`` of ``pieces``, given the ways paragraphs and FSIs run
    (``_strong_first``); None where they are not given and the depth may run out, for a
    second pass with them (only a text nesting past ``_SURE_SPANS`` pays for them)."""
    paragraphs, first_strong = ways or ({}, {})
    # Each open span: its pieces, each a text and whether it is a closed span (kept whole).
    spans: list[list[tuple[str, bool]]] = [[]]
    kinds: list[str] = ["paragraph"]
    levels = [1 if paragraphs.get(0) else 0]
    overflow_isolates = overflow_embeddings = isolates = 0
    for at, piece in enumerate(pieces):
        kind = _OPENERS.get(piece)
        if kind is not None:  # X2-X5c
            if ways is None and len(kinds) > _SURE_SPANS:
                return None
            rtl = piece in _RTL_OPENERS or first_strong.get(at, False)
            level = (levels[-1] + 1) | 1 if rtl else (levels[-1] + 2) & ~1
            if level <= MAX_BIDI_DEPTH and not overflow_isolates and not overflow_embeddings:
                spans.append([])
                kinds.append(kind)
                levels.append(level)
                isolates += kind == "isolate"
            elif kind == "isolate":
                overflow_isolates += 1
            elif not overflow_isolates:
                overflow_embeddings += 1
        elif piece == "\u2069":  # X6a
            if overflow_isolates:
                overflow_isolates -= 1
            elif isolates:
                overflow_embeddings = 0
                while kinds[-1] != "isolate":
                    _close(spans, kinds, levels)
                _close(spans, kinds, levels)
                isolates -= 1
        elif piece == "\u202c":  # X7
            if overflow_isolates:
                pass
            elif overflow_embeddings:
                overflow_embeddings -= 1
            elif kinds[-1] not in ("paragraph", "isolate"):
                _close(spans, kinds, levels)
        elif piece in _PARAGRAPH_ENDS:  # X8: the next paragraph starts afresh
            while len(kinds) > 1:
                _close(spans, kinds, levels)
            overflow_isolates = overflow_embeddings = isolates = 0
            levels = [1 if paragraphs.get(at + 1) else 0]
            spans[-1].append((piece, False))
        else:
            spans[-1].append((piece, False))
    while len(kinds) > 1:
        _close(spans, kinds, levels)
    return "".join(text for text, _ in spans[0])


def _close(spans: list[list[tuple[str, bool]]], kinds: list[str], levels: list[int]) -> None:
    """Close the innermost span: its text in the order read, one whole piece of the span
    around it (which, reversed, keeps it whole)."""
    pieces, kind = spans.pop(), kinds.pop()
    levels.pop()
    if kind == "rtl":  # drawn right to left, read left to right: reversed, RTL runs kept
        pieces = [(text if whole else _drawn_rtl(text), whole) for text, whole in reversed(pieces)]
    elif kind == "ltr":  # RTL letters drawn left to right, read from the right: reversed
        pieces = [(text if whole or text.isascii() else _RTL_RUN.sub(_reversed, text), whole)
                  for text, whole in pieces]
    spans[-1].append(("".join(text for text, _ in pieces), True))


def _drawn_rtl(text: str) -> str:
    """``text`` under U+202E in the order read: reversed by grapheme, its RTL runs kept. An
    ASCII text has no RTL letter, and each of its characters is a grapheme but "\\r\\n"
    (a paragraph's end, never in one piece)."""
    return text[::-1] if text.isascii() else _RTL_RUN.sub(_reversed, _reversed(text))


def _reversed(text: str | regex.Match[str]) -> str:
    found = text if isinstance(text, str) else text.group()
    return "".join(_GRAPHEME.findall(found)[::-1])


@cache
def _framed_letters() -> dict[int, str]:
    table: dict[int, str] = {}
    for point in itertools.chain(*_FRAMED_BLOCKS):
        named = _FRAMED_NAME.fullmatch(unicodedata.name(chr(point), ""))
        if named:
            case, letter = named.groups()
            table[point] = letter if case == "CAPITAL" else letter.lower()
    return table


def _lone_indicator(run: re.Match[str]) -> str:
    """A run of regional indicators with its last one read as a letter when it has no
    partner: flags stay flags."""
    found = run.group()
    if len(found) % 2 == 0:
        return found
    return found[:-1] + chr(ord("A") + ord(found[-1]) - _REGIONAL_A)


# A run of single letters parted by blanks is one word spaced out. Ordinary words are not
# written so in any alphabet: the runs people write are spelled initials ("U S A", "R S V P"),
# at most four letters, and in the six corpora of ``model/datasets`` (20,528 messages) every
# run of five or more is a word spaced out ("G o o d n i g h t", kisses "x x x x x"). The
# ``spaced`` cue of ``model/cues`` asks for five single characters too.
SPACED_LETTERS = 5
# A piece of such a run: one letter with its combining marks (a Thai consonant with its
# vowel and tone marks is one), or one digit ("c a l l  0 8 0 0"), each with the
# punctuation or symbols written against it ("h e r e :"), or punctuation alone. Han, kana
# and Hangul are left out: one of their characters is a syllable or a word, and a run of
# them is ordinary text.
_LETTER = rf"(?![{_CJK_RANGES}])\p{{L}}\p{{M}}*"
_MARKS = r"[\p{P}\p{S}]"
_PIECE = rf"(?:{_MARKS}*+(?:{_LETTER}|\p{{N}}){_MARKS}*+|{_MARKS}++)(?!\S)"
# Blank-parted pieces, at least two; possessive, so each piece is read once.
_SPACED_RUN = regex.compile(rf"(?<!\S){_PIECE}(?:\s++{_PIECE})++")
_SPACED_LETTER = regex.compile(_LETTER)
# A word spaced out: a single letter or digit, one blank, and another. A run of one-letter
# words with punctuation between them ("A, B, C, D, E") has none.
_SPACED_WORD = regex.compile(
    rf"(?<!\S)(?:{_LETTER}|\p{{N}})\s(?:{_LETTER}|\p{{N}})(?![\p{{L}}\p{{N}}])")
# What every text with a word spaced out holds (a blank, ``\w`` and its marks, one blank,
# ``\w`` and no letter or digit after it): ``re`` finds it far faster than the full
# patterns, and most texts have none, so they pay only this scan.
_SPACED_LETTERS_HINT = re.compile(r"\s\w[^\w\s]*\s\w(?![^\W_])")
# One blank after a letter or digit parts the letters of a word; one after punctuation, and
# two or more anywhere, part words (the writer's own spaces, a blank after each). A dot or
# hyphen alone between single blanks and letters is inside the word too: the letters of a
# host spaced out ("t o n e s - s h o p . c o m"); a writer spacing out a sentence puts
# its own space after its full stop as after its words, two blanks.
_INSIDE_WORD = regex.compile(
    r"(?<=[\p{L}\p{M}\p{N}])\s(?!\s)|(?<=[\p{L}\p{M}\p{N}]\s[.-])\s(?=[\p{L}\p{N}])")
_BETWEEN_WORDS = regex.compile(r"\s+")


def unspace(text: str) -> tuple[str, bool]:
    """``text`` with its words spaced out letter by letter read as the words ("F R E E  e n t r y"
    is "FREE entry"), and whether there were any: a run of blank-parted pieces holding a
    word spaced out and at least ``SPACED_LETTERS`` letters is joined. Linear: each piece is
    read once, and only texts with a word spaced out are searched for runs."""
    if not _SPACED_LETTERS_HINT.search(f" {text}"):
        return text, False
    joined = False

    def word(run: regex.Match[str]) -> str:
        nonlocal joined
        found = run.group()
        if (len(_SPACED_LETTER.findall(found)) < SPACED_LETTERS
                or not _SPACED_WORD.search(found)):
            return found
        joined = True
        return _BETWEEN_WORDS.sub(" ", _INSIDE_WORD.sub("", found))

    return _SPACED_RUN.sub(word, text), joined


# A word written with one and the same mark between its letters ("f.r.e.e", "w-i-n",
# "c*a*s*h", "p✨r✨i✨z✨e") is read as the word, as one spaced out with blanks is. A full
# stop between letters is how initials and abbreviations are written ("U.S.A.", "a.k.a.",
# Thai "ธ.ค."; none in the six corpora of ``model/datasets`` has five letters): with it, a
# word of ``SPACED_LETTERS`` letters or more is joined, as for blanks. No writer parts the
# letters of a word with another mark (a hyphen, an asterisk, an emoji): with one, a word of
# ``PARTED_LETTERS`` letters or more is joined. Such a word is a whole word (a blank, an
# opening bracket or a currency sign before it, at most the mark and closing punctuation
# after it), so a host ("a.b.c.d.e.com"), a path ("/a-b-c-d-e") or a name ("@a_b_c_d_e") is
# never one; the marks that part a URL's pieces part no letters here. Possessive and
# anchored at a word's start: each word is read once. The brackets or currency signs before
# a word's first letter follow a blank or the text's start themselves (at most three): a
# sign that is the mark between letters ("$$a$$a$$a…$", "(a(a(a…(+") starts no word, where
# each of its letters started one that read the run to its end and failed there (64 KiB in
# 25 s; session 40, found by ``tests/test_text_linear.py``).
PARTED_LETTERS = 3
_PARTING_MARK = r"[^\p{L}\p{M}\p{N}\s/:@%=&?#\\]{1,3}"
_PARTED_PIECE = rf"(?:{_LETTER}|\p{{N}})"
_PARTED_WORD = regex.compile(
    rf"(?<=(?:^|\s)[\p{{Ps}}\p{{Pi}}\p{{Sc}}]{{0,3}})(?P<first>{_PARTED_PIECE})"
    rf"(?P<mark>{_PARTING_MARK})"
    rf"(?P<rest>{_PARTED_PIECE}(?:(?P=mark){_PARTED_PIECE})*+)(?P=mark)?+"
    rf"(?=\p{{P}}*+(?:\s|$))")
# A letter between two of one mark ("-r-", "🏼r👇🏼"): what a word of three letters or more
# parted by a mark holds (``re`` finds it fast; one message in 26 of the corpora has one).
# (Its first mark, ``[^\w\s]|_``, is found by a class: ``_LEET_HINT``.)
_PARTED_HINT = re.compile(r"([^0-9A-Za-z\s])(?<=[^\w\s]|_)[^\W\d_](?:[^\w\s]|_){0,2}\1")


def unpart(text: str) -> tuple[str, bool]:
    """``text`` with its words written with a mark between their letters read as the words
    ("f.r.e.e e.n.t.r.y!" is "free entry!"), and whether a word was spelled out so (at
    least ``SPACED_LETTERS`` letters in all, as the ``spaced`` cue of ``model/cues`` asks
    of letters parted by blanks or marks: initials alone are no trick)."""
    if not _PARTED_HINT.search(text):
        return text, False
    letters = 0

    def word(found: regex.Match[str]) -> str:
        nonlocal letters
        joined = found.group("first") + found.group("rest").replace(found.group("mark"), "")
        count = len(_SPACED_LETTER.findall(joined))
        if count < (SPACED_LETTERS if found.group("mark") == "." else PARTED_LETTERS):
            return found.group()
        letters += count
        return joined

    return _PARTED_WORD.sub(word, text), letters >= SPACED_LETTERS


@cache
def _fold_table() -> dict[int, str]:
    """One translate table: accents dropped, then TR39 confusables mapped to ASCII, and
    small capitals read as their letters.

    Built once for the non-ASCII code points that have a fold, so ``skeleton`` is
    a casefold, a translate and two regex passes instead of a per-character loop.
    """
    confusables = _confusables()
    table: dict[int, str] = {}
    for point in range(0x80, 0x3000):
        char = chr(point)
        base = _COMBINING.sub("", unicodedata.normalize("NFD", char))
        folded = "".join(confusables.get(ord(c), c) for c in base)
        if folded != char:
            table[point] = folded
    for point, target in confusables.items():
        table.setdefault(point, target)
    table.update(_small_capitals())
    return table


# Latin letters drawn as small capitals: Unicode names them "LATIN LETTER SMALL CAPITAL R"
# (ʀ, ɪ, ᴄ, ꜰ: all in the Basic Multilingual Plane; the modifier ones, ᶦ, NFKC makes these).
# "Fancy text" generators write pitches with them ("ʀɪᴄʜ"); TR39 maps a few to the letter
# (ᴄ, ᴏ, ᴠ) and most not, yet a reader reads each as its letter. Phonetic notation writes
# some of them (ʀ, ɪ, ʏ) as sounds of their own, which is why the fold is the skeleton's (for
# matching), not the text's. The variants ("SMALL CAPITAL TURNED E", "... OU") are no letter.
_SMALL_CAPITAL_NAME = re.compile(r"LATIN LETTER SMALL CAPITAL ([A-Z])")


@cache
def _small_capitals() -> dict[int, str]:
    table: dict[int, str] = {}
    for point in range(0x80, 0x10000):
        named = _SMALL_CAPITAL_NAME.fullmatch(unicodedata.name(chr(point), ""))
        if named:
            table[point] = named.group(1).lower()
    return table


@cache
def _drawn_as_small_capitals() -> dict[int, str]:
    """Letters of other scripts a "fancy text" generator draws as Latin small capitals
    ("вᴜʏ", "ᴩʀᴏᴍᴏ"), each with the letter it reads as there: one TR39 draws like a Latin
    small capital (Greek ᴩ like ᴘ), and a small letter whose capital TR39 draws like a
    Latin one (Cyrillic в, н, м, т, к: a Cyrillic font draws its small letters as small
    capitals of В, Н, М, Т, К). In Russian they are letters of their own ("нет" is no
    "het"): ``_small_capital_word`` reads them so only in a word otherwise written in Latin
    small capitals. Letters the fold table already reads as a letter keep its reading."""
    small = _small_capitals()
    confusables, folds = _confusables(), _fold_table()
    table: dict[int, str] = {}
    for char, entries in _confusable_data().items():
        drawn = next((small[ord(e["c"])] for e in entries
                      if len(e["c"]) == 1 and ord(e["c"]) in small), None)
        if drawn and len(char) == 1 and not char.isascii() and ord(char) not in small:
            table[ord(char)] = drawn
    for capital, letter in confusables.items():
        char = chr(capital).lower()
        if len(char) == 1 and char.isalpha() and char.casefold() == char and (
                char.upper() == chr(capital) != char):
            table.setdefault(ord(char), letter)
    return {point: letter for point, letter in table.items()
            if letter.isalpha() and not folds.get(point, "").isalpha()}


@cache
def _small_capital_word() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """A Latin small capital (what a text must hold to be read further), and a whole word
    of Latin small capitals, letters drawn as them and letters the fold table reads as a
    Latin one ("ᴛʜɪѕ"), with at least one small capital and one letter drawn as one. Each
    look-ahead reads no further than its word, and only from a word's first letter, so the
    pass is linear."""
    small = re.escape("".join(map(chr, _small_capitals())))
    drawn = re.escape("".join(map(chr, _drawn_as_small_capitals())))
    latin = re.escape("".join(chr(point) for point, fold in _fold_table().items()
                              if chr(point).isalpha() and fold.isascii() and fold.isalpha()))
    either = f"[{small}{drawn}{latin}]"
    return (re.compile(f"[{small}]"),
            re.compile(rf"(?<![^\W\d_])(?={either}*?[{small}])(?={either}*?[{drawn}])"
                       rf"{either}++(?![^\W\d_])"))


def _read_drawn(word: re.Match[str]) -> str:
    return word.group().translate(_drawn_as_small_capitals())


def skeleton(text: str) -> str:
    """Case-, accent-, confusable- and leet-folded form of cleaned text, for matching."""
    folded = text.casefold()
    if not folded.isascii():
        hint, word = _small_capital_word()
        if hint.search(folded):
            folded = word.sub(_read_drawn, folded)
        folded = _COMBINING.sub("", folded.translate(_fold_table()))
    if _LEET_HINT.search(folded):
        folded = _unleet(folded)
    return " ".join(folded.split())


_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_LEET_MARKS = "0123456789@$"
_WORDLIKE = _LETTERS + "0123456789"  # the run's characters that ``\b`` counts as a word's


def _unleet(folded: str) -> str:
    """Leet folded in the words that mix letters with digits, '@' or '$'.

    The fold once was ``\b(?=[a-z0-9@$]*[a-z])(?=[a-z0-9@$]*[0-9@$])[a-z0-9@$]{3,}``,
    whose lookaheads rescan a run from every word boundary inside it ("1@1@1@...":
    quadratic). The same rule, reading each mixed run of ``[a-z0-9@$]`` once: the word
    starts at the run's first word boundary from which at least three characters, a
    letter and a digit (or '@', '$') remain, and goes to the end of the run. Usually that
    boundary is where the run starts, and the whole run is the word.
    """
    parts = _LEET_RUN.split(folded)  # text, run, text, run, ..., text
    for i in range(1, len(parts), 2):
        word, before = parts[i], parts[i - 1][-1:]  # a run follows text that is not [a-z0-9@$]
        if len(word) < 3:
            continue
        if (before.isalnum() or before == "_") != (word[0] in _WORDLIKE):
            clock = before == ":" and _clock_colon(parts[i - 1], parts[i - 2] if i > 1 else "")
            if not (_figure(word, clock) and _stands_apart(parts[i + 1][:1])):
                parts[i] = word.translate(_LEET)
        else:
            parts[i] = _unleet_inside(word)
    return "".join(parts)


def _stands_apart(beside: str) -> bool:
    """Whether a figure's neighbour (a character, or "" at an end) leaves it a word of its
    own: no letter or digit ("_3pm_", chat's emphasis, is the figure)."""
    return not beside.isalnum()


def _clock_colon(text: str, earlier: str) -> bool:
    """Whether ``text`` (what comes before a run; ``earlier``, the run before it as read)
    ends in a clock's colon, one after a digit ("10:30pm"), as ``masked`` reads a number
    (session 35, ``review35a``). A label's colon is no clock's: "time:3pm" is three
    o'clock and "re:1st" an ordinal, not minutes (they were read as leet, "time:epm")."""
    ahead = text[-2:] if len(text) >= 2 else earlier[-1:] + text
    return ahead[-1:] == ":" and ahead[:1].isdecimal()


def _figure(word: str, after_colon: bool = False) -> bool:
    """Whether a word of ASCII letters and digits is a figure written with its unit
    (``_FIGURE``), ``after_colon`` when it follows a clock's colon (its minutes, 00-59:
    "30pm"; "73am" is no minute but "team")."""
    found = _FIGURE.fullmatch(word)
    if found is None:
        return False
    number, unit = found.groups()
    if number is None:  # "x2"
        return True
    if unit in ("am", "pm"):
        if after_colon:
            return len(number) == 2 and int(number) in _MINUTES
        return len(number) <= 2 and int(number) in _HOURS
    return unit == ("th" if number[-2:-1] == "1" else _ORDINAL.get(number[-1], "th"))


def _unleet_inside(run: str) -> str:
    """A run that does not start at a word boundary ("@bob1", "_fr33"): its word starts at the
    first change between word characters and '@', '$', if enough of the run remains."""
    first = len(run) - len(run.lstrip(_WORDLIKE if run[0] in _WORDLIKE else "@$"))
    latest = min(len(run.rstrip(_LEET_MARKS)), len(run.rstrip(_LETTERS)), len(run) - 2) - 1
    return run if first > latest else run[:first] + run[first:].translate(_LEET)


def tokenize(text: str) -> tuple[str, ...]:
    words = _WORD.findall(text.casefold())
    if text.isascii():
        return tuple(words)
    tokens: list[str] = []
    for word in words:
        if _CJK.search(word):
            chars = list(word)
            tokens.extend(chars)
            tokens.extend(a + b for a, b in itertools.pairwise(chars))
        else:
            tokens.append(word)
    tokens.extend(_EMOJI.findall(text))
    return tuple(tokens)


@cache
def _label_then_ideographic_dot() -> re.Pattern[str]:
    """U+3002 between labels is a dot (UTS #46 maps U+3002, U+FF0E and U+FF61 to dots; NFKC
    already made U+FF0E a dot and U+FF61 U+3002) after a label of any script but CJK. CJK
    prose has no spaces and ends its sentences with U+3002, so the letters before one of its
    full stops are a sentence, not a label. What follows is a label of any script but CJK,
    or one of the CJK top-level domains with a path or port after it ("shop。中国/sale" is
    shop.中国; "Beijing。中国" a sentence).

    A label written against CJK prose ("购物tones-shop。com/new") is a label only when the
    host it starts ends in a path or port (up to four labels on): "我用Google。Apple" is a
    sentence, as a browser's address bar would not be given it."""
    cjk_tlds = "|".join(sorted((rule for rule in _extractor().tlds
                                if "." not in rule and all(_CJK.match(c) for c in rule)),
                               key=len, reverse=True))
    label = rf"(?:{_NOT_CJK}|-){{1,63}}"
    return re.compile(rf"(?<![\w-]){label}\u3002(?={_NOT_CJK}|(?:{cjk_tlds})[/:])"
                      rf"|(?<=[{_CJK_RANGES}]){label}\u3002"
                      rf"(?=(?:{label}[.\u3002]){{0,3}}(?:{label}|{cjk_tlds})[/:])")


def _marks_drawn_like(*prototypes: str) -> str:
    """The ``prototypes`` and every mark TR39 draws like one of them, as a cleaned text
    writes them (NFKC). Marks only (punctuation, symbols): a letter or digit drawn like
    one is part of a word."""
    marks = set(prototypes)
    for char, entries in _confusable_data().items():
        drawn_like = {entry["c"] for entry in entries}
        if char in prototypes or drawn_like.intersection(prototypes):
            marks.update(drawn_like, char)
    return "".join(sorted(
        mark for mark in {unicodedata.normalize("NFKC", m) for m in marks if len(m) == 1}
        if len(mark) == 1 and unicodedata.category(mark)[0] in "PS"))


@cache
def _dot_marks() -> str:
    """The marks a reader retypes as the dot of a host written apart: the full stop, the
    comma (a host holds none: "tones-shop,com" is a slip or a dodge) and every mark TR39
    draws like one of them or like the middle dot (• · ・ ‧ ∙ ⋅ ...)."""
    return _marks_drawn_like(".", ",", "\u00b7")


@cache
def _slash_marks() -> str:
    """The slash and the marks TR39 draws like it (∕ ⁄ ⧸ ╱ ...): the start of a path as a
    reader retypes it ("tones-shop. com∕new")."""
    return _marks_drawn_like("/")


# A mark glued between a label and a suffix with no blank either side, beyond the dot-like
# ones: any punctuation mark or symbol outside ASCII but a quote, a bracket, a dash or a
# connector ("tones-shop●com/new", "tones-shop⚫com/new"). Prose glues no such mark between
# two words (quotes it does: "l’app/..."), and a reader can make a link of the text only by
# typing a dot there. ASCII marks have meanings in URLs, and ASCII prose glues them.
_GLUED_CATEGORIES = frozenset({"Po", "Sm", "Sc", "Sk", "So"})
# ASCII marks no host, URL or word holds between a name and a suffix ("tones-shop;com/new"):
# a reader retypes one as the dot only when a link's tail follows (``_apart``). Not the
# quotes and brackets prose elides and encloses with, nor what a host holds ("-", "_").
_ASCII_MARKS = "!#$%&*+:;=?^|~"
# Accents drawn on a blank (NFKC's spacing accents: "¸" is " \u0327").
_ON_A_BLANK = re.compile(rf"(?<=\s){_COMBINING.pattern}")


@cache
def _apart(shaped: bool) -> re.Pattern[str]:
    """What parts a label from what may be a public suffix in a host written apart, in two
    kinds.

    Marks a reader retypes as the dot (``_dot_marks``, blanks beside them or not; a full
    stop or an ideographic one with a blank before or after it; a run of glued marks outside ASCII,
    which ``_reads_as_dot`` keeps to ``_GLUED_CATEGORIES``): "tones-shop. com",
    "tones-shop , co.uk", "tones-shop•com". They need no link's tail after the suffix,
    only a name before it (``_names_apart``).

    Separators that no reader retypes as a dot unless a link's tail follows (``shape``: a
    path, a query, a port): a blank alone, an ASCII mark of ``_ASCII_MARKS``, a glued run
    with blanks around it, two full stops, an ellipsis glued between the two
    ("tones-shop com/new", "tones-shop;com/new", "tones-shop ● com/new", "tones-shop..
    com/new", "tones-shop…com/new"; chat writes "see you.. love" and "you?when" all day).
    Without the tail every two words would be one ("the store"). Only a text that holds a
    tail's character is scanned for them (``shaped``).

    The label is no letter of a script written without spaces: its prose ends its sentences
    with marks of its own ("很好。com/x"). An ellipsis with a blank after it is prose's
    pause ("yes... no/maybe"). Each branch starts with a blank or a mark, so a text's
    letters are turned away at their first character; possessive, so the suffix after each
    mark is read once.

    The pattern opens with that first character consumed (every branch starts with one, no
    letter or digit), each branch checking it with a look-behind: a pattern that opens with
    a character class lets the regex engine skip the letters and digits (most of a text)
    without trying the pattern at each of them, so a text costs about one try per blank or
    mark."""
    dots = re.escape(_dot_marks().replace(".", ""))
    marks = re.escape(_ASCII_MARKS)
    glued = r"[^\w\s\x00-\x7f]"
    # A glued run ("\.?+[^\w\s\x00-\x7f]++\.?+") past its first character.
    glued_on = rf"(?<=\.){glued}++\.?+|(?<={glued}){glued}*+\.?+"
    strong = (rf"(?<=\s)\s*+[{dots}]\s*+|(?<=[{dots}])\s*+|(?<=\s)\s*+[.\u3002]\s*+"
              rf"|(?<=[.\u3002])\s++|{glued_on}")
    weak = (rf"|(?P<weak>(?<=\s)\s*+[{marks}]\s*+|(?<=[{marks}])\s*+"
            rf"|(?<=\s)\s*+(?:\.?+{glued}++\.?+\s*+)?+"
            rf"|(?:{glued_on})\s++"
            rf"|(?<=\.)\.(?!\.)\s*+|(?<=\.)\.{{2,}}+)") if shaped else ""
    shape = _tail_shape()
    # The weak separators' tail is in the pattern, so the words a blank parts (most of a
    # text's) are turned away before ``_apart_dot`` is called for them.
    tail = rf"(?(weak){shape}|(?P<shape>{shape})?)" if shaped else rf"(?P<shape>{shape})?"
    # Without the weak separators a blank opens one only with a dot-like mark or an
    # ideographic full stop after it (those the strong separators after a blank hold): the
    # blank between two words (most tries) is turned away at one look, and the pattern
    # finds what the whole one finds in a text without a link's tail (``_apart_links``).
    blank = "" if shaped else rf"(?:(?<!\s)|(?=\s*+[.\u3002{dots}]))"
    # The first character as a bit map (no letter, digit or '_' of ASCII) is cheaper to
    # test than "\W" (a Unicode look-up each): the look-behind then checks it is no word's.
    return re.compile(
        rf"[^0-9A-Z_a-z](?<=[^\W_{_UNSPACED_RANGES}]\W){blank}(?:{strong}{weak})"
        rf"(?=(?P<suffix>[\w-]{{1,63}}+(?:\.[\w-]{{1,63}}+)*+){tail})")


def _tail_shape() -> str:
    """A link's tail after a host written apart (``_apart``): a path (a slash or a mark
    drawn like it, then no blank), a query, a port."""
    return rf"(?:[{re.escape(_slash_marks())}]\S|\?\w|:\d)"


@cache
def _tail_hint() -> re.Pattern[str]:
    """Where ``_tail_shape`` may start, spelt to open with a class (``_LEET_HINT``): a text
    without one holds no match of ``_apart``'s weak separators, all of which need a tail."""
    slashes = re.escape(_slash_marks())
    return re.compile(rf"[{slashes}?:](?:(?<=[{slashes}])\S|(?<=\?)\w|(?<=:)\d)")


@cache
def _public_suffixes() -> frozenset[str]:
    """The public suffixes, both sections of the PSL bundled with tldextract: those that
    registries run ("com", "co.uk") and the private ones, a company's host under which its
    users' hosts are ("blogspot.com", "github.io"). A private one after one mark ("my page.
    github.io/blog") may name the company's host in prose as well as a user's host written
    apart ("tones-shop. blogspot.com"): the guess is the block list's alone, as every
    ``apart_hosts`` is, and names a host an operator listed only when it is one."""
    return frozenset(_extractor().tlds)


# What a separator before a public suffix stands for (``_apart_dot``): no dot, a dot, a
# dot that writes a site for the reader to retype (``MessageView.apart_sites``).
_NO_DOT, _DOT, _SITE = 0, 1, 2


def _apart_dot(found: re.Match[str]) -> int | None:
    """What a separator between a label and what may be a public suffix stands for
    (``_NO_DOT``, ``_DOT``, ``_SITE``); None before what is no public suffix: a label,
    whose separator is a dot if the label is joined to a suffix in turn ("tones-shop.
    blogspot. com": ``_joins_a_label``). One a reader retypes as the dot without a link's
    tail needs a name before it (a letter in the label: "at 5. com on" is a time), the
    others need the tail (``_apart``).

    A dot writes a site where prose would not write its mark: before a link's tail but for
    a comma ("yes, no/maybe", "ok, now/later?") and the separators that are a dot only
    before a tail (a blank, an ASCII mark: "we in/out?", "the tv/radio", "buy now/pay
    later"), or with no tail a mark prose does not write between words
    (``_writes_prose``: "tones-shop•biz code 1")."""
    if found.group("suffix").lower() not in _public_suffixes():
        return None
    mark = found.group()
    if not _marks_a_dot(mark):
        return _NO_DOT
    if found.group("shape") is not None:
        return _DOT if _holds_a_comma(mark) else _SITE
    if _weak(found):
        return _DOT  # its tail is in the pattern, never in ``shape``
    if not _names_apart(found):
        return _NO_DOT
    return _DOT if _writes_prose(mark) else _SITE


def _weak(found: re.Match[str]) -> bool:
    return "weak" in found.re.groupindex and found.group("weak") is not None


def _marks_a_dot(mark: str) -> bool:
    return mark.isascii() or (_reads_as_dot if len(mark) <= _KEPT_MARK
                              else _reads_as_dot.__wrapped__)(mark)


def _joins_a_label(found: re.Match[str]) -> bool:
    """Whether a separator before a label (``_apart_dot``'s None) stands for a dot when the
    label is joined to a suffix: one a reader retypes as the dot with no link's tail (a
    tail after the label would end the host) and a name before it, as before a suffix."""
    return (found.group("shape") is None and not _weak(found)
            and _marks_a_dot(found.group()) and _names_apart(found))


def _names_apart(found: re.Match[str]) -> bool:
    """Whether a label, a separator ``_apart`` found and a suffix with no link's tail after
    it name a host as a reader reads them. The separator is a full stop or a mark drawn
    like one (a comma between words is prose's every other line: "clothes, jewelry"), the
    label holds a letter ("at 5. com on" is a time), the suffix is written in one case (a
    capital then small letters starts a sentence: "man. My"), no apostrophe goes on with
    it into a word ("fine, how's"; a closing quote ends it: "'tones-shop. com'"), and a
    middle dot is not Catalan's between two l's ("vil·la")."""
    mark, suffix, text, start = found.group(), found.group("suffix"), found.string, found.start()
    last = text[start - 1]  # the label's last character (``_apart`` looks behind for it)
    after = text[found.end("suffix"):found.end("suffix") + 2]
    return ("," not in mark and ("." in suffix or suffix.islower() or suffix.isupper())
            and not (after[:1] in ("'", "\u2019") and after[1:].isalpha())
            and not (mark == "\u00b7" and last in "lL" and suffix[0] in "lL")
            and _holds_a_letter(text, start))


def _holds_a_letter(text: str, end: int) -> bool:
    """Whether the label that ends at ``end`` (its last 63 characters, word characters and
    hyphens) holds a letter, read from its end: most end in one, and a number ("at 5. com")
    is read no further than its digits."""
    for at in range(end - 1, max(end - 64, -1), -1):
        char = text[at]
        if char.isalpha():
            return True
        if not (char.isalnum() or char in "_-"):
            return False
    return False


_KEPT_MARK = 16  # marks up to this long keep their reading (a wave repeats its marks)


@lru_cache(maxsize=4096)
def _reads_as_dot(mark: str) -> bool:
    """Whether a run ``_apart`` found between a label and a suffix is one a reader retypes
    as a dot: its characters dot-like marks (``_dot_marks``), glued marks of
    ``_GLUED_CATEGORIES`` and the accents drawn on them ("•́"), at least one of them a
    mark. A quote, a bracket, an accent alone (on the label's last letter), a mark drawn
    like a slash or the replacement character (a character lost in decoding: "ok\ufffdsmart")
    is none. An accent on a blank is the blank: NFKC writes a spacing accent so ("¸" is a
    blank and a combining cedilla), and a blank with a link's tail after it is a dot."""
    mark = _ON_A_BLANK.sub("", mark)
    if mark.isascii():
        return True  # the ASCII branches: blanks and the marks ``_apart`` names
    if any(c in _slash_marks() for c in mark):
        return False  # a reader retypes it as the slash of a path ("com∕new")
    dots = _dot_marks()
    drawn = [(c in dots or (unicodedata.category(c) in _GLUED_CATEGORIES and c != "\ufffd"),
              unicodedata.category(c)[0] == "M")
             for c in mark if not c.isspace() and c != "."]
    return any(dot for dot, _ in drawn) and all(dot or accent for dot, accent in drawn)


def _writes_prose(mark: str) -> bool:
    """Whether a join's mark is one prose writes between two words: a full stop (or an
    ideographic one) glued to one of them, a sentence's end ("I'm done. biz trip
    tomorrow", and a stop put after the blank: "taking dress .so only", "just add .md to
    any docs URL", three ham texts of the corpora), or a middle dot or bullet with blanks
    on both sides, a list's separator ("coffee · books · travel", a bullet at a line's
    start). Prose writes no full stop with blanks on both sides, nor a middle dot glued to
    a word ("tones-shop . so", "tones-shop•biz", "tones-shop ・biz"): those are written so
    to evade. A comma is prose's (``_holds_a_comma``)."""
    if _holds_a_comma(mark):
        return True
    full_stop = mark.strip() in (".", "\u3002")
    spaced = mark[0].isspace() and mark[-1].isspace()
    return full_stop != spaced


def _holds_a_comma(mark: str) -> bool:
    """Whether a join's mark holds a comma, prose's between any two words: the ASCII one or
    the ideographic one, which Japanese and Chinese prose glue whatever the words
    ("iPhone、app を入れた", "music、movie、game が好き")."""
    return "," in mark or "\u3001" in mark


# The marks a script's prose glues between the words it lists, Latin ones too: Japanese's
# nakaguro ("新しいiPhone・app を入れた", "ゲーム・music・movie") and Korean's middle dot
# ("음악·music·movie 좋아"). In a text that writes that script (kana: hiragana, katakana,
# their half-width forms, not the nakaguro nor the length mark of the katakana block;
# Hangul) such a join is prose's, not a site (``_apart_links``: ``_listing_marks``).
_LISTING = ((frozenset("\u30fb\uff65"),
             re.compile("[\u3041-\u3096\u30a1-\u30fa\uff66-\uff6f\uff71-\uff9d]")),
            (frozenset("\u00b7"), re.compile("[\u1100-\u11ff\u3131-\u318e\uac00-\ud7a3]")))


def _listing_marks(text: str) -> frozenset[str]:
    """The list marks (``_LISTING``) of the scripts ``text`` writes, each script looked for
    once a text, not at each join."""
    if text.isascii():
        return frozenset()
    return frozenset().union(*[marks for marks, script in _LISTING if script.search(text)])


def _apart_links(text: str) -> tuple[str, list[int], list[int | None]]:
    """``text`` with the hosts written apart joined, where each join's dot is in it, and for
    each what it stands for before a suffix, or None for one before a label
    (``_apart_dot``): a label, what parts it from a public suffix (``_apart``), the suffix
    ("tones-shop. com" is tones-shop.com, as "tones-shop dot com" is). The spammer writes it
    apart to evade; prose parts words with ". " and "," all day, and now and then puts a
    suffix word after them ("ok. so", "yes, no/maybe"), so what this reads is a guess
    (``apart_hosts``), not a link: it counts only where the operator already named the host
    (the block list), and a wrong guess costs one look-up.

    Every place the pattern finds is judged, however many: a cap on them would let a text
    choose which of its guesses escape the block list (chat's "ok. so" put before the
    listed host). The pattern turns a text's letters away at their first character, and a
    place costs a few µs in Python, so 64 KiB of places (the most a text holds) cost tens
    of ms, as the rest of the view of such a text does."""
    # Every such text holds a comma, a full stop or a character outside ASCII; the weaker
    # separators need a link's tail (``_tail_hint``): a text without one is spared the
    # pattern, or its weaker half (chat's "?", ":" and emoji are mostly no tail's).
    if _tail_hint().search(text):
        pattern = _apart(True)
    elif not text.isascii() or "." in text or "," in text:
        pattern = _apart(False)
    else:
        return text, [], []
    pieces: list[str] = []
    dots: list[int] = []
    joins: list[int | None] = []
    written = joined = 0  # how far ``text`` is copied, and how long the copy is
    before: list[re.Match[str]] = []  # dots before labels, each right after the last
    # Prose's marks in it, which join no site: looked for at its first site, if any.
    listing: frozenset[str] | None = None
    for found in pattern.finditer(text):
        if before and before[-1].end("suffix") != found.start():
            before.clear()
        reading = _apart_dot(found)
        if reading == _SITE:
            if listing is None:
                listing = _listing_marks(text)
            if not listing.isdisjoint(found.group()):
                reading = _DOT
        if reading is None:
            before.append(found)
            continue
        if reading:
            named = len(before)  # those before it that name a label, back to one that does not
            while named and _joins_a_label(before[named - 1]):
                named -= 1
            for dot in (*before[named:], found):
                start = dot.start()
                pieces.append(text[written:start])
                joined += start - written + 1
                dots.append(joined - 1)
                joins.append(reading if dot is found else None)
                pieces.append(".")
                written = dot.end()
        before.clear()
    if not dots:
        return text, dots, joins
    pieces.append(text[written:])
    return "".join(pieces), dots, joins


@cache
def _suffix_endings() -> frozenset[str]:
    """The last label of every public suffix (ASCII ones; punycode is always parsed)."""
    return frozenset(rule.rsplit(".", 1)[-1] for rule in _extractor().tlds if rule.isascii())


def _may_have_suffix(raw: str) -> bool:
    """Whether a bare ASCII ``word.word`` ends like a public suffix (or is a dotted quad),
    without parsing it: one that does not cannot be a link, and "a1.zz a2.zz ..." must not
    cost a parse each."""
    host = raw.partition("/")[0].rpartition("@")[2].partition(":")[0]
    ending = host.rsplit(".", 1)[-1].lower()
    return ending.startswith("xn--") or ending.isdigit() or ending in _suffix_endings()


@lru_cache(maxsize=65536)
def registrable_domain(host: str) -> str:
    parts = _extractor()(host)
    if parts.domain and parts.suffix:
        return f"{parts.domain}.{parts.suffix}"
    return ""


def read_host(host: str, *, encode: bool = True,
              deviations: bool = True) -> tuple[str, str, bool] | None:
    """A URL's host as a browser's host parser reads it (WHATWG URL, UTS #46): its ASCII form
    (punycode for IDN, the dotted quad for IPv4), its Unicode form, and whether it is an IP
    address; None for a host that ends in a number but is no IPv4 address (a browser
    refuses such a URL) or one no page is at. Never resolved. Without ``encode``, a host
    written with non-ASCII characters or punycode is read in its Unicode form
    (``host_key``) both times, at no IDNA's cost: a list's entry names it so too.

    Hosts are read by IDNA 2003 (``encodings.idna``, in which every host the view has read
    since it read IDN is stored: reputation, lists, verdicts), but for a host written with
    a deviation character (``_DEVIATIONS``: ß, ς), read as browsers read it (UTS #46
    without transitional processing) where they differ: "faß.de" is xn--fa-hia.de, not
    fass.de. Without ``deviations``, such a host is read as IDNA 2003 reads it, the host
    older clients open (``MessageView.transitional_hosts``)."""
    if ":" in host:  # an IPv6 literal (``urlsplit`` took its brackets off)
        address = _ipv6(host)
        return (address, address, True) if address else None
    if "%" in host:
        # A browser percent-decodes a host before it reads it ("%74ones-shop.com" is
        # tones-shop.com), and refuses it if that leaves bytes no UTF-8 or a character no
        # host may hold.
        try:
            host = clean(unquote(host, errors="strict"))
        except UnicodeDecodeError:
            return None
        if _FORBIDDEN_IN_HOST.search(host):
            return None
    if not host.isascii():  # U+3002 read as the dot it stands for in a host (U+FF0E and
        # U+FF61 too, for hosts that did not come through ``clean``)
        host = host.replace("\u3002", ".").replace("\uff0e", ".").replace("\uff61", ".")
        host = _enclosing().sub("", host)  # drawn around a letter, no part of it (``_link_marks``)
        if "\u03a3" in host:  # a capital Σ is σ wherever it stands, as UTS #46 maps it
            # (``str.lower`` makes one at a word's end the final ς, a deviation character)
            host = host.replace("\u03a3", "\u03c3")
    host = host.strip(".").lower()
    if not host:
        return None
    ascii_host, unicode_host = (_ascii_host(host, deviations) if encode
                                else (host_key(host, deviations=deviations),) * 2)
    if not _ends_in_a_number(ascii_host):
        return ascii_host, unicode_host, False
    address = _ipv4(ascii_host)
    # 0.0.0.1 to 0.255.255.255 are source addresses only (RFC 1122): no page is served
    # there. A one-number host below 2**24 reads as one of them, and is a link cut short
    # ("https://17/2026/02/..."), not one to judge.
    if address is None or (address.startswith("0.") and address != "0.0.0.0"):
        return None
    return address, address, True


# UTS #46's deviation characters that a cleaned text holds: ß and the final ς. IDNA 2003
# (``encodings.idna``) and UTS #46's transitional processing map them to "ss" and σ; browsers
# (UTS #46 without it: Chrome since 110, Firefox, Safari) keep them, so "faß.de" is
# xn--fa-hia.de, a registrable domain of its own. (ẞ and a capital Σ are read as ß and σ,
# as UTS #46 maps them: ``read_host``. The other two deviations, ZWJ and ZWNJ, are invisible:
# ``clean`` drops them from every text, zero-width tricks with them.)
_DEVIATIONS = "\u00df\u03c2"
_DEVIATION_SPLIT = re.compile("([\u00df\u03c2])")


def _deviates(host: str) -> bool:
    """Whether ``host`` (lower case) holds a deviation character (two ``in`` scans: a text's
    every host past the caps is asked, and a regex search costs several times more)."""
    return "\u00df" in host or "\u03c2" in host


# What IDNA 2003's nameprep maps to nothing (stringprep's table B.1): ``clean`` drops most
# (they are default ignorable), not the Mongolian todo soft hyphen U+1806.
_NAMEPREP_NOTHING = re.compile("[\u00ad\u034f\u1806\u180b-\u180d\u200b-\u200d\u2060\ufe00-\ufe0f"
                               "\ufeff]")


def host_key(host: str, *, deviations: bool = True) -> str:
    """A host (read as ``read_host`` reads it: cleaned, its dots made dots, lower case) in
    the Unicode form by which a list's entry written in punycode is matched too
    (``lists.parse`` keeps both): what nameprep does, in C, without punycode. Linear in the
    host, and about 1/30 of IDNA's cost measured side by side (0.2 µs a character against
    8 µs on a loaded machine), so a text's every host can be read so, and none is left
    unread for its cost (``MAX_IDN_CHARS``). Exact: for every code point IDNA
    accepts between two letters (973,053) and 195,815 random labels of one to six
    characters (a third of them combining marks), a host's key is the key of what its
    punycode decodes to (``tests/test_attack_session24.py``). A host that holds a label in
    punycode keeps it as written; ``lists.parse`` keeps an entry's mixed forms too.

    The deviation characters (ß, ς) are kept, as ``read_host`` keeps them for a browser:
    the key of "faß.de" is that of xn--fa-hia.de decoded, not fass.de's (case folding alone
    would make them "ss" and σ, as IDNA 2003 does). Without ``deviations``, they are folded
    so (``MessageView.transitional_hosts``)."""
    prepared = _NAMEPREP_NOTHING.sub("", host)
    if deviations and _deviates(prepared):
        # Each run between them folded: no other character folds to ß or ς, none of the
        # two composes with what follows it under NFKC.
        prepared = "".join(part if part in _DEVIATIONS else part.casefold()
                           for part in _DEVIATION_SPLIT.split(prepared))
    else:
        prepared = prepared.casefold()
    return unicodedata.normalize("NFKC", prepared)


# The longest label DNS holds: IDNA refuses a longer one, but only after its punycode, whose
# cost is quadratic in the label (one 7,000-character label percent-encoded in a 64 KiB
# text: 5.5 s), and percent-encoded hosts are written in ASCII, so ``MAX_IDN_CHARS`` does not
# count them.
_DNS_LABEL = 63


def _ascii_host(host: str, deviations: bool = True) -> tuple[str, str]:
    """A host's ASCII and Unicode forms (IDNA 2003, or a browser's for a host with a
    deviation character: ``_browser_host``); as written where IDNA refuses it. A
    label IDNA would refuse for its length is refused here before punycode is paid
    (``_DNS_LABEL``): IDNA's answer, at a cost linear in the host."""
    if host.isascii():
        # Only a punycode label is decoded, and one longer than DNS holds never round-trips.
        try:
            unicode_host = host.encode("ascii").decode("idna") if "xn--" in host and all(
                len(label) <= _DNS_LABEL or not label.startswith("xn--")
                for label in host.split(".")) else host
        except UnicodeError:
            unicode_host = host
        return host, unicode_host
    if deviations and _deviates(host):
        return _browser_host(host) or (host, host)
    try:
        # What IDNA encodes is a label after nameprep (linear; it raises for a character IDNA
        # refuses), and punycode never makes it shorter.
        if all(len(label) <= _DNS_LABEL or len(idna.nameprep(label)) <= _DNS_LABEL
               for label in host.split(".")):
            return host.encode("idna").decode("ascii"), host
    except UnicodeError:
        pass
    return host, host


def _browser_host(host: str) -> tuple[str, str] | None:
    """A host's ASCII and Unicode forms as browsers read it (UTS #46 without transitional
    processing, by the ``idna`` package's mapping, then punycode label by label); None
    where UTS #46 refuses a character (one unassigned, a symbol it disallows), or a label is
    empty or longer than DNS holds (``_DNS_LABEL``, checked before punycode is paid, which
    never shortens a label): ``_ascii_host`` reads it as written then, as where IDNA 2003
    refuses a host, so that its key past the budget (``host_key``, which keeps ß and ς
    without asking UTS #46) is what it is read as under the budget; IDNA 2003's reading is
    asked too (``_readings``). Pure Python, about as costly as IDNA 2003 a character, so
    under the same budget (``MAX_IDN_CHARS``)."""
    try:
        mapped = uts46.uts46_remap(host, std3_rules=False)
    except uts46.IDNAError:
        return None
    labels = mapped.split(".")
    if not all(0 < len(label) <= _DNS_LABEL for label in labels):
        return None
    encoded = [label if label.isascii() else "xn--" + label.encode("punycode").decode("ascii")
               for label in labels]
    if any(len(label) > _DNS_LABEL for label in encoded):
        return None
    return ".".join(encoded), mapped


def unicode_label(label: str) -> str:
    """A punycode label's Unicode form as ``read_host`` reads its host (IDNA 2003, or a
    browser's for a label with a deviation character: "xn--fa-hia" is "faß", which IDNA
    2003 cannot decode, as it encodes "faß" as "fass"); the label itself if it is none, or
    no host is read so (it does not encode back to itself)."""
    if not label.startswith("xn--") or not label.isascii():
        return label
    try:
        return idna.ToUnicode(label)
    except UnicodeError:
        if len(label) > _DNS_LABEL:  # it never round-trips: no second punycode paid
            return label
    try:
        decoded = label[4:].encode("ascii").decode("punycode")
    except UnicodeError:
        return label
    if not _deviates(decoded):
        return label
    read = _browser_host(decoded)
    return decoded if read is not None and read[0] == label else label


def _ipv6(host: str) -> str | None:
    """An IPv6 literal as one address is written however it was ("::FFFF:5f8d:2007",
    "0:0::ffff:5f8d:2007"), and as the IPv4 address it stands for if it is one mapped
    ("::ffff:95.141.32.7" reaches 95.141.32.7); None if it is no address."""
    try:
        address = ipaddress.IPv6Address(host)
    except ValueError:
        return None
    return str(address.ipv4_mapped or address)


_RADIX_DIGITS = {8: frozenset("01234567"), 10: frozenset("0123456789"),
                 16: frozenset("0123456789abcdef")}


def _ipv4_number(part: str) -> int | None:
    """One part of an IPv4 host, the WHATWG way: decimal, hex after "0x", octal after a
    leading "0"; None if it is not one."""
    if part[:2] == "0x":
        radix, digits = 16, part[2:]
    elif len(part) > 1 and part[0] == "0":
        radix, digits = 8, part[1:]
    else:
        radix, digits = 10, part
    if not part or not _RADIX_DIGITS[radix].issuperset(digits):
        return None
    significant = digits.lstrip("0")
    # Eleven octal digits hold 2**32: a longer number is too large for any part, and is
    # not handed to ``int`` (a host may be kilobytes of digits).
    return int(significant or "0", radix) if len(significant) <= 11 else 2**32


def _ends_in_a_number(host: str) -> bool:
    """Whether a browser parses ``host`` (ASCII, no trailing dot) as IPv4: its last label
    is all digits or a hex number."""
    last = host.rpartition(".")[2]
    return (last.isascii() and last.isdigit()) or _ipv4_number(last) is not None


def _ipv4(host: str) -> str | None:
    """The dotted quad of a host a browser parses as IPv4: one to four numbers, each but the
    last a byte, the last filling the bytes left ("1603084295", "0x5f.0215.8199"); None if
    it is no address (too many parts, a part too large or not a number)."""
    parts = host.split(".")
    if len(parts) > 4:
        return None
    numbers: list[int] = []
    for part in parts:
        number = _ipv4_number(part)
        if number is None:
            return None
        numbers.append(number)
    *leading, last = numbers
    if any(n > 255 for n in leading) or last >= 256 ** (5 - len(numbers)):
        return None
    address = sum(n << (24 - 8 * i) for i, n in enumerate(leading)) + last
    return str(ipaddress.IPv4Address(address))


# The schemes ``_url_patterns`` reads at a link's start, with the slashes (or backslashes)
# after them.
_SCHEME = re.compile(r"(?:https?|ftp):[/\\]*", re.IGNORECASE)


def _as_url(raw: str) -> str:
    """``raw`` (a link ``_url_patterns`` found) as ``urlsplit`` must be given it to read the host a
    browser goes to: "http://" before a link without a scheme (one whose path or query
    holds a "://", "tones-shop.com/r?to=https://x", has none: it once read as no link at
    all), one scheme's slashes however many ("http:///tones-shop.com"; a browser skips
    them for these schemes), and a backslash as a slash (a browser reads it so in these
    schemes: "http://tones-shop.com\\@x" goes to tones-shop.com)."""
    scheme = _SCHEME.match(raw)
    written = raw.replace("\\", "/")
    if scheme is None:
        return "http://" + written
    return f"{written[:scheme.end()].rstrip('/')}//{written[scheme.end():]}"


def hostname(parts: SplitResult) -> str:
    """``parts.hostname`` ("" for none), with a capital Σ read as σ wherever it stands, as
    UTS #46 maps it (``read_host``): ``urlsplit`` lower-cases a host with ``str.lower``,
    which makes a final one ς, a deviation character that names another host."""
    if "\u03a3" not in parts.netloc:
        return parts.hostname or ""
    return parts._replace(netloc=parts.netloc.replace("\u03a3", "\u03c3")).hostname or ""


@lru_cache(maxsize=65536)
def parse_url(raw: str, *, explicit: bool) -> UrlFact | None:
    target = _as_url(raw)
    try:
        parts = urlsplit(target)
        host = hostname(parts)
    except ValueError:
        return None
    if not host:
        return None
    read = read_host(host)
    if read is None:
        return None
    ascii_host, unicode_host, is_ip = read
    userinfo = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
    if is_ip:
        return UrlFact(raw, ascii_host, ascii_host, ascii_host, True, explicit, userinfo,
                       parts.path, parts.query)
    # A bare word.word needs a known public suffix to count as a link ("e.g",
    # "file.txt" do not); a link written with a scheme counts whatever its suffix,
    # its whole host standing in for the registrable domain.
    # Only hosts DNS could hold (253 characters) are kept in the suffix cache.
    suffix = (registrable_domain if len(ascii_host) <= MAX_HOST_CHARS
              else registrable_domain.__wrapped__)
    domain = suffix(ascii_host) or (ascii_host if explicit and "." in ascii_host else "")
    if not domain:
        return None
    return UrlFact(raw, ascii_host, unicode_host, domain, False, explicit, userinfo,
                   parts.path, parts.query)


def _may_link(text: str) -> bool:
    """Whether ``text`` may hold a link: a label separator (a cleaned text writes them "."
    or U+3002), or a scheme's "://" (a host of one number, "http://1603084295", has no
    dot)."""
    return "." in text or "\u3002" in text or "://" in text


def _ideographic_dots(chunk: str) -> str:
    """``chunk`` with the U+3002 that end a host's labels read as dots: one character for
    another, so a link found in it is at the same place in ``chunk``, as it was written.
    (One match a label: a hostile "a\u3002a\u3002..." costs what "a.a. ..." does.)"""
    ends = [match.end() - 1 for match in _label_then_ideographic_dot().finditer(chunk)]
    if not ends:
        return chunk
    chars = list(chunk)
    for end in ends:
        chars[end] = "."
    return "".join(chars)


def _spelled(text: str) -> str:
    """``text`` with its spaced and defanged dots ("promo dot com", "bit[.]ly") as dots."""
    return _SPACED_DOT.sub(".", _DEFANGED.sub(".", text)) if _SPACED_HINT.search(text) else text


# The word for the dot of a domain name in the languages a pitch is written in, other than
# English's "dot" (``_SPACED_DOT``): Spanish and Italian "punto", French "point", German
# and the Scandinavian languages "punkt", Portuguese "ponto", Dutch "punt", Romanian
# "punct", Hungarian "pont", Indonesian and Malay "titik", Turkish "nokta", Polish "kropka",
# Czech "tečka", Russian "точка", Ukrainian "крапка", Vietnamese "chấm". "tones-shop punto
# com" is tones-shop.com to its reader (measured on main: a denied host so written got no
# signal). These are ordinary words too ("la burbuja punto com", "the point is"), so the
# reading is one of the block list's guesses (``apart_hosts``: the word read as ". ", a
# full stop prose writes), never a link, as a site only with a link's tail after it.
# Each also defanged as "dot" is ("tones-shop[punto]com", "tones-shop (punkt) com": session 33's
# review, no guess was read), and read the same way.
_FOREIGN_WORDS = (r"(?:punto|point|punkt|ponto|punt|punct|pont|titik|nokta|kropka|te\u010dka"
                  r"|\u0442\u043e\u0447\u043a\u0430|\u043a\u0440\u0430\u043f\u043a\u0430|ch\u1ea5m)")
# Chinese "点" (traditional "點") and Japanese "ドット" are written without blanks, as their
# prose is ("tones-shop点com": session 33's review, no guess), so they are read between two
# Latin labels only: a label's last letter or digit before, a letter after. A host's labels
# are Latin (LDH) where its reader spells its dot in a word of their own; Chinese prose
# around Latin words ("下午3点pm") puts no Latin label right before the word and a suffix
# after it, and a guess still needs a public suffix (``_apart_hosts``). Blanks and brackets
# around them are read as around the other words ("tones-shop 点 com", "tones-shop(点)com":
# session 34's review, no guess).
_UNSPACED_DOT_WORDS = "(?:\u70b9|\u9ede|\u30c9\u30c3\u30c8)"


def _bracketed(words: str) -> str:
    """``words`` in brackets, as a word for the dot is written apart ("a [punto] com")."""
    return rf"\[\s*{words}\s*\]|\(\s*{words}\s*\)|\{{\s*{words}\s*\}}"


_FOREIGN_DOT = re.compile(
    rf"(?<=[^\W_])(?:\s+{_FOREIGN_WORDS}\s+|\s*(?:{_bracketed(_FOREIGN_WORDS)})\s*)(?=[^\W\d_])"
    rf"|(?<=[a-z0-9])\s*(?:{_UNSPACED_DOT_WORDS}|{_bracketed(_UNSPACED_DOT_WORDS)})\s*(?=[a-z])",
    re.IGNORECASE)


# What each of those words holds, lower-cased: most texts hold none, and ten ``in`` scans of
# the lower-cased text cost a tenth of the pattern's scan (~0.8 against ~11 µs a text).
_FOREIGN_DOT_HINTS = ("pun", "poin", "pont", "titik", "nokta", "kropka", "tečka", "точка",
                      "крапка", "chấm", "\u70b9", "\u9ede", "\u30c9\u30c3\u30c8")


def _foreign_dots(spelled: str) -> str:
    """``spelled`` with each foreign word for the dot between two words read as ". " (for
    ``_apart_hosts`` alone: ``_FOREIGN_DOT``)."""
    lowered = spelled.lower()
    for hint in _FOREIGN_DOT_HINTS:
        if hint in lowered:
            return _FOREIGN_DOT.sub(". ", spelled)
    return spelled


def find_urls(text: str) -> tuple[UrlFact, ...]:
    return _urls_in(_spelled(text))[0]


# A host in a joined text, read from one of its dots: its labels before the dot (matched on
# the text reversed) and after it. Possessive: each character is read once.
@cache
def _host_part(marked: bool) -> re.Pattern[str]:
    """A host's labels, with their marks (``_marks``) if ``marked`` (``_url_patterns``),
    read from a dot either way."""
    label = rf"[\w{_marks() if marked else ''}-]"
    return re.compile(rf"{label}*+(?:\.{label}++)*+")
# The longest host DNS holds: a list's entries are no longer, so the last 253 characters of
# a longer host hold every suffix a list can name (``lists.host_suffixes``).
MAX_HOST_CHARS = 253
# What a link's host and path hold, read back from a '/' (``_after_a_host``).
_LINK_BEFORE = re.compile(rf"[\w./:-]{{0,{MAX_HOST_CHARS}}}")


def _apart_hosts(spelled: str, typed: Sequence[UrlFact]
                 ) -> tuple[tuple[str, ...], tuple[int, ...], tuple[str, ...]]:
    """The hosts of ``spelled`` (a text through ``_spelled``, as ``find_urls`` reads it)
    written apart (``_apart_links``) that are not among the links ``typed`` in it: every
    one, each read around its dot as a browser reads a host (``read_host``), as many as the
    text holds (a list look-up each, so a text of 64 KiB asks about at most ~13,000, a few
    suffixes each). A host before an '@' is an address's name, one after it needs a path,
    as a link written whole does (``_url_patterns``), and one after a '/' is a link's path
    (``_after_a_host``). A host with labels joined before it ("said. tones-shop. com") is
    read whole, and as it was read without them: the first may be prose's last word, as a
    sentence's end is before a host written whole ("I said. tones-shop.com"). Any label
    between is a suffix of the whole, which the block list reads (``lists.host_suffixes``).
    Each comes with its tail (``MessageView.apart_tails``): how many labels follow its last
    join. Third, the registrable domains of those whose last join writes a site
    (``MessageView.apart_sites``), as the host is read (the browser's reading), none of the
    typed links' own."""
    joined, dots, joins = _apart_links(spelled)
    if not dots:
        return (), (), ()
    backwards, size = joined[::-1], len(joined)
    known = {url.host for url in typed}
    typed_domains = {url.domain for url in typed}
    found: dict[str, int] = {}  # each host read, and the fewest labels after a join
    sites: dict[str, None] = {}
    seen: set[str] = set()
    end = idn_chars = 0
    host_part = _host_part(not joined.isascii() and _any_mark().search(joined) is not None)
    for at, dot in enumerate(dots):
        if dot < end:
            continue  # a dot of the host read last ("tones-shop. co. uk")
        # Never None: ``_host_part`` matches the empty string, at any position.
        back_run, fore_run = (host_part.match(backwards, size - dot),
                              host_part.match(joined, dot + 1))
        assert back_run is not None and fore_run is not None
        start, end = size - back_run.end(), fore_run.end()
        before, after = joined[start - 1:start], joined[end:end + 1]
        if after == "@" or (before == "@" and after != "/") or (
                before == "/" and _after_a_host(backwards, start - 1)):
            continue  # an address's name, an address, a link's path ("x.com/new. com")
        firsts = [start]  # and after the last dot joined before a label, if any
        while at < len(dots) and dots[at] < end:  # the host's own dots, read once
            if joins[at] is None:  # joined before a label
                firsts[1:] = [dots[at] + 1]
            at += 1
        tail = joined.count(".", dots[at - 1], end)  # labels after the last join
        site = joins[at - 1] == _SITE  # the last join's
        for first in firsts:
            # No list names a suffix longer than DNS holds, nor a bare one ("com").
            host = (joined[first:end] if end - first <= MAX_HOST_CHARS
                    else joined[end - MAX_HOST_CHARS - 1:end].partition(".")[2]
                    ).lstrip(EMPHASIS)  # markdown's emphasis
            if "." not in host or host in seen:
                continue  # "a•com a•com ...": each host is read once
            seen.add(host)
            glued = None if host.isascii() else _GLUED_PROSE.match(host)
            for written in (host[glued.end():], host) if glued else (host,):
                lower = written.lower()
                if written.isascii() and "xn--" not in lower:
                    readings: tuple[str, ...] = (lower,)  # ``read_host``'s: no number ends it
                else:
                    idn_chars += _idna_chars(written)  # as for the links (``_urls_in``)
                    readings = _readings(written, encode=idn_chars <= MAX_IDN_CHARS)
                for read in readings:  # and IDNA 2003's (``MessageView.transitional_hosts``)
                    if read not in known:
                        found[read] = min(found.get(read, tail), tail)
                # As many as links are read; the whole host's first reading (the rest
                # are its suffixes).
                if site and readings and len(sites) < MAX_URLS:
                    sites[registrable_domain(readings[0])] = None
                site = False
    sites.pop("", None)
    return (tuple(found), tuple(found.values()),
            tuple([domain for domain in sites if domain not in typed_domains]))


def _after_a_host(backwards: str, slash: int) -> bool:
    """Whether the '/' at ``slash`` of a joined text (``backwards`` is it reversed) is a
    link's path, as the links typed are read: a host (a name with a dot: "x.com/new. com",
    "x.com/a/new. com") or a scheme ("https://x/new. com") is written before it, in the
    characters of a link's host and path read back (the last ``MAX_HOST_CHARS``). After a word
    it parts words ("go/tones-shop. com", "and/or"), as before a link typed
    ("go/tones-shop.com")."""
    run = _LINK_BEFORE.match(backwards, len(backwards) - slash)
    assert run is not None  # it matches the empty string, at any position
    return "." in run.group() or "//:" in run.group()


# A link's host as written (``_as_url``): after its scheme, before its path, query or
# fragment, after its userinfo's last '@'.
_NETLOC = re.compile(r"[a-z]+://([^/?#]*)", re.IGNORECASE)


def _netloc_host(link: str) -> str:
    """The host of ``link`` as written, as ``parse_url`` reads it, without the rest of its
    parse (the registrable domain, the path): "" for none."""
    netloc = _NETLOC.match(_as_url(link)).group(1).rpartition("@")[2]  # type: ignore[union-attr]
    named, colon, port = netloc.rpartition(":")
    host = named if colon and (port.isdigit() or not port) else netloc  # "x.com:" is x.com
    if host.startswith("[") and host.endswith("]"):  # an IPv6 literal
        host = host[1:-1]
    return host


def _readings(host: str, *, encode: bool) -> tuple[str, ...]:
    """The hosts that ``host`` (as written) names: as ``read_host`` reads it (``encode`` or
    not), and if it is written with a deviation character, as IDNA 2003 reads it too
    (``MessageView.transitional_hosts``); () for none."""
    read = read_host(host, encode=encode) if host else None
    if read is None:
        return ()
    older = _older_reading(host, read, encode=encode)
    return (read[0], older) if older else (read[0],)


def _older_reading(host: str, read: tuple[str, str, bool], *, encode: bool = True) -> str:
    """IDNA 2003's reading of ``host`` where it names another host than ``read``
    (``read_host``'s, by browsers' rules for a host written with ß or ς); "" where none."""
    if read[1].isascii() or not _deviates(read[1]):
        return ""
    older = read_host(host, encode=encode, deviations=False)
    return older[0] if older and older[0] != read[0] else ""


def _idna_chars(host: str) -> int:
    """How many characters IDNA is asked to read in ``host`` (a link's as written:
    ``_netloc_host``) when ``read_host`` reads it: the host's, percent-decoded, if that is
    written outside ASCII or holds a punycode label, twice for one with a deviation
    character (``_readings`` reads it twice); else none. What ``MAX_IDN_CHARS`` counts: a
    link's path and query (non-ASCII or percent-encoded in many an ordinary link) cost no
    IDNA, and a host percent-encoded ("b%C3%BC.de") costs it as one written outside ASCII
    does."""
    if "%" in host:
        host = unquote(host)  # as ``read_host`` decodes it (one that is no UTF-8 it refuses)
    if host.isascii():
        return len(host) if "xn--" in host.lower() else 0
    return len(host) * (2 if _deviates(host) or "\u1e9e" in host else 1)  # ẞ: ß


def _may_ask_idna(link: str) -> bool:
    """Whether IDNA may be asked about the host of ``link`` (``_idna_chars``), without
    reading the host: most links are ASCII with no "%" and no punycode."""
    return not link.isascii() or "%" in link or "xn--" in link.lower()


# The characters a link's authority ends at that a browser given the whole run may read
# on past (``_AUTHORITY``, ``_run_on``).
_AUTHORITY_ENDS = frozenset("[]|^*~_")
# Where a browser ends a run's authority (a '/', '\\', '?' or '#', as WHATWG URL does for
# these schemes) and where the run ends (a blank, or a character no link holds: ``_PATH``).
_AUTHORITY_STOP = re.compile(r"[\s<>\"'`/\\?#]")
_RUN_STOP = re.compile(r"[\s<>\"'`]")
_LINKED = ("http://", "https://", "ftp://", "www.")


@lru_cache(maxsize=1)
def _stops(read: str) -> tuple[list[int], list[int], list[int]]:
    """Where ``read``'s authorities end, where its runs end (each list closed by its length)
    and where its '@'s stand, found once a chunk (``_run_on``): each of a run's links reads
    on to the same ends, and "www.a*www.a*...", each link read to the next blank, cost the
    square of its length (64 KiB: 3.5 s against base's 20 ms, session 34's review)."""
    end = [len(read)]
    return ([found.start() for found in _AUTHORITY_STOP.finditer(read)] + end,
            [found.start() for found in _RUN_STOP.finditer(read)] + end,
            [found.start() for found in re.finditer("@", read)])


def _run_on(read: str, match: re.Match[str], emphasised: bool, path: bool) -> str:
    """The link ``match`` as a browser given its whole run reads it, if its authority ended
    at a mark no registrable host holds (``_AUTHORITY``); "" if not. The reader and a
    linkifier end the host at the mark, but a browser given "https://good.com*.evil.com/x"
    goes to a host under evil.com, which its owner's wildcard DNS may answer (read whole,
    as before session 34, its domain was evil.com): both go to the link checks, as a link
    glued to prose does, the run on only if its host lies under a public suffix (a host
    "tones-shop.com*" or "tones-shop.com)*" is under none, and nothing answers it), and
    only if it is no longer than ``MAX_HOST_CHARS``. Its ``path`` (to the next blank) is
    read only for a link that is read whole: past ``MAX_LINK_CANDIDATES`` its host alone is."""
    end = match.end()
    if (end == len(read) or read[end] not in _AUTHORITY_ENDS
            or not match.group(0)[:8].lower().startswith(_LINKED)):
        return ""
    authority_ends, run_ends, ats = _stops(read)
    authority = authority_ends[bisect_left(authority_ends, end)]
    slashes = match.group(0).find("//", 0, 8)
    host = match.start() + slashes + 2 if slashes >= 0 else match.start()
    at = bisect_left(ats, authority) - 1  # the last '@' of the authority ends its userinfo
    if at >= 0 and ats[at] >= host:
        host = ats[at] + 1
    if authority - host > MAX_HOST_CHARS + len(":65535"):
        return ""
    run_end = run_ends[bisect_left(run_ends, authority)]
    head = read[match.start():authority]
    if authority == run_end:  # no path: the run's trailing marks are its authority's
        head = _unmarked_end(head, emphasised)
    read_on = parse_url(head, explicit=True)  # its host alone: a run's links read their
    if read_on is None or not registrable_domain(read_on.host):  # path only if a browser
        return ""  # reaches a host by them
    return _unmarked_end(read[match.start():run_end], emphasised) if path else head


def _unmarked_end(run: str, emphasised: bool) -> str:
    """``run`` without the punctuation after it, and a closing emphasis if ``emphasised``."""
    return run.rstrip(_TRAILING + EMPHASES) if emphasised else run.rstrip(_TRAILING)


def _urls_in(text: str) -> tuple[tuple[UrlFact, ...], tuple[str, ...], tuple[str, ...]]:
    """The links of ``text`` (the first ``MAX_URLS``, of its first ``MAX_LINK_CANDIDATES``
    link-like words), the hosts of those past them (``MessageView.unread_hosts``: each
    a host's reading alone, a few µs where a link's parse costs tens), and IDNA 2003's
    readings of the hosts written with a deviation character
    (``MessageView.transitional_hosts``)."""
    if not _may_link(text):
        return (), (), ()
    found: list[UrlFact] = []
    unread: dict[str, None] = {}
    transitional: dict[str, None] = {}
    seen: set[str] = set()
    full = False
    idn_chars = candidates = 0
    plain, marked = _url_patterns(False), _url_patterns(True) if not text.isascii() else None
    # Scanning only the whitespace-separated chunks that may hold a link keeps the
    # costly URL pattern off the plain words that make up most chat text (and the
    # words without any dot off this loop). Without a U+3002 or a "://" in the text, a
    # chunk's full stop is what ``_may_link`` finds: one test a word, no call.
    chunks = text.split()
    for chunk in ([c for c in chunks if _may_link(c)] if "\u3002" in text or "://" in text
                  else [c for c in chunks if "." in c]):
        if not _may_link(chunk.rstrip(_TRAILING)):
            continue
        read = _ideographic_dots(chunk) if "\u3002" in chunk else chunk
        # A chunk with a combining mark is read with the pattern whose labels hold them.
        patterns = marked if marked and _any_mark().search(chunk) else plain
        leading = _any_mark().match(read) if patterns is marked else None
        if leading:
            # Marks before a chunk's first letter are drawn on the blank before it, and no
            # label starts with one (UTS #46 refuses it): "\u0301tones-shop.com" is read
            # from its "t", as its reader retypes it (session 33's review: read whole, the
            # host was xn--tones-shop-q0f.com, and a denied host got no signal).
            read = " " * leading.end() + read[leading.end():]
        for match in patterns[1 if "@" in chunk else 0].finditer(read):
            if read.startswith("@", match.end()):
                continue  # an address's name before its '@', or a host with no path after
            dotted = match.group(0).rstrip(_TRAILING)
            # Markdown's emphasis before a bare host ("_tones-shop.com_", "__x.com__") is
            # no part of it (``EMPHASIS``).
            lead = len(dotted) - len(dotted.lstrip(EMPHASIS))
            emphasised = bool(lead) or read[match.start() - 1:match.start()] in tuple(EMPHASES)
            if emphasised:
                dotted = dotted.rstrip(_TRAILING + EMPHASES)  # "*https://x.com*"
            glued = _GLUED_PROSE.match(dotted, lead)
            if glued:  # "请看_tones-shop.com_": prose, then the emphasis
                glued_end = len(dotted) - len(dotted[glued.end():].lstrip(EMPHASIS))
            # A link written against prose of a script without spaces: a linkifier starts
            # it where the prose ends, a browser given the whole run reads it as written.
            # Both go to the link checks (a deny list holding either sees it), the
            # linkifier's first, so the prose stays prose.
            spans = [(skip, dotted, False) for skip in ((glued_end, lead) if glued else (lead,))]
            run_on = _run_on(read, match, emphasised, not full)
            if run_on:
                spans.append((lead, run_on, True))
            # A linkifier's label holds no enclosing mark: it ends the link there, as the
            # view did before session 34 ("tones-shop.com\u20dd.zzz" links tones-shop.com,
            # which its reader may click, where the reader's own reading, tones-shop.com.zzz,
            # is under no suffix). Read too, if its host is under one (session 34's review).
            cut = _enclosing().search(dotted, lead) if patterns is marked else None
            if cut:
                spans.append((lead, dotted[:cut.start()], True))
            hosts: set[str] = set()
            for skip, link, suffixed in spans:
                raw = chunk[match.start() + skip:match.start() + len(link)]
                written = link[skip:]
                if raw in seen:
                    continue
                seen.add(raw)
                # An IDN host past IDNA's budget is read in Unicode form (``host_key``).
                host = _netloc_host(written) if _may_ask_idna(written) else ""
                asked = _idna_chars(host) if host else 0
                idn_chars += asked
                past_idn = asked > 0 and idn_chars > MAX_IDN_CHARS
                if full or past_idn:  # past the caps: its host alone, for the block list
                    readings = _readings(host or _netloc_host(written), encode=not past_idn)
                    if readings:
                        unread[readings[0]] = None
                        if len(readings) > 1:
                            transitional[readings[1]] = None
                    continue
                explicit = written[:8].lower().startswith(_LINKED)
                if not explicit and written.isascii() and not _may_have_suffix(written):
                    continue
                parse = parse_url if len(raw) <= CACHED_URL_CHARS else parse_url.__wrapped__
                fact = parse(raw, explicit=explicit)
                if (fact is not None and fact.host not in hosts
                        and (not suffixed or registrable_domain(fact.host))):
                    hosts.add(fact.host)
                    found.append(fact)
                    older = _older_reading(host, (fact.host, fact.host_unicode, False))
                    if older:  # IDNA 2003's (``_readings``)
                        transitional[older] = None
                candidates += 1
                full = len(found) >= MAX_URLS or candidates >= MAX_LINK_CANDIDATES
    done = {url.host for url in found}  # (``read`` above is a chunk's text)
    past = tuple([host for host in unread if host not in done])
    done.update(past)
    return tuple(found), past, tuple([host for host in transitional if host not in done])


def names_of(ids: Sequence[str]) -> tuple[str, ...]:
    """How account ids appear in a text that greets them (skeletons of 3+ characters, of
    the first 50 ids): what personalises each copy of a pitch. The skeleton is what is
    measured: an id of spaces or marks has an empty one, which would "occur" between
    every two characters of any text and mask it beyond recognition."""
    return tuple(dict.fromkeys(s for s in map(_id_skeleton, ids[:50]) if len(s) >= 3))


@lru_cache(maxsize=65_536)
def _id_skeleton(account: str) -> str:
    return skeleton(account)  # the same few thousand ids, message after message


def masked(prose_skel: str, domains: tuple[str, ...], names: tuple[str, ...] = ()) -> str:
    """What stays the same across personalised copies of one pitch: the prose skeleton
    with names, mentions and numbers masked, then the links' domains."""
    out = prose_skel
    for name in names:
        out = out.replace(name, " <name> ")
    out = _MENTION.sub("@", out)
    if _UNIT_HINT.search(out):
        out = _NUMBER_OR_FIGURE.sub(_masked_number, out)
    else:
        out = _NUMBER.sub("#", out)
    if domains:  # most texts link nothing: no generator made for none
        out += "".join(f" <{d}>" for d in domains)
    return " ".join(out.split())  # whitespace runs made one space, none at the ends


def _masked_number(found: re.Match[str]) -> str:
    """A number masked as ``_NUMBER`` masks it ("#"), and a figure with its unit masked
    whole ("3pm", "10:30am", "21st", "x2") when it stands alone and its last part is one
    (``_figure``); else the letters stay ("9nd": "#nd", "box2": "box#")."""
    whole, unit, text = found.group(), found.group(1), found.string
    alone = _stands_apart(text[found.start() - 1:found.start()]) and _stands_apart(
        text[found.end():found.end() + 1])
    if whole[0] == "x":
        return "#" if alone else "x#"
    if unit is None:
        return "#"
    number = _ascii_digits(whole[:-len(unit)])
    cut = max(map(number.rfind, ".,:/-"))  # the last part's separator, or -1
    return "#" if alone and _figure(number[cut + 1:] + unit, number[cut:cut + 1] == ":") else (
        "#" + unit)


def _ascii_digits(number: str) -> str:
    """A number's decimal digits of any script as ASCII ones ("٣" is "3"), one for one.
    ``_NUMBER`` masks a number in any script's digits, and a figure's unit is its unit
    whatever digits say the number: "٣pm" and "١st" were "#pm" and "#st" where "3pm" and
    "1st" are "#", a second form a spammer pads each copy with (session 35, ``review35a``:
    200 copies padded with times in six scripts' digits met 129-146, in ASCII 182)."""
    return number if number.isascii() else "".join(
        str(unicodedata.decimal(c)) if c.isdecimal() else c for c in number)


def masked_for(view: MessageView, names: tuple[str, ...]) -> str:
    """A message's ``masked`` form with its recipients' ``names`` masked too.

    Most texts greet none of their recipients by name: theirs is then the view's own
    masked form (computed once, with the view, whoever receives it). Only when no name
    occurs is nothing replaced, so the shortcut is exact. The names are looked for in C
    (``map``): a generator made a function object and a frame at each of the ~3.4 calls
    an event."""
    prose_skel = view.prose_skeleton
    if any(map(prose_skel.__contains__, names)):
        return masked(prose_skel, view.domains, names)
    return view.masked


CACHED_CHARS = 512  # texts up to this long are cached (8,192 of them: a few MB at most)


# The view of an end-to-end encrypted message: no words, no links, and no fingerprint
# (an empty one: nothing to compare, so no two sealed messages count as "one text").
SEALED = MessageView(text="", skeleton="", urls=(), domains=(), fingerprint="", masked="",
                     prose="", prose_skeleton="")


def size_class(size: int) -> int:
    """An encrypted message's size class: a quarter-octave of ciphertext bytes (steps of
    19 %). Personalised copies of one pitch differ by a name and a number, so they land in
    one class or its neighbour; the metadata stand-in for "one text"."""
    return int(math.log2(max(size, 1)) * 4)


def view(raw: str) -> MessageView:
    """The view of a text. Short texts are cached: chat and spam both repeat
    themselves verbatim; long ones are not, so hostile input cannot fill memory."""
    return _cached_view(raw) if len(raw) <= CACHED_CHARS else _view(raw)


@lru_cache(maxsize=8192)
def _cached_view(raw: str) -> MessageView:
    return _view(raw)


def _reading(raw: str, drawn: bool = True) -> tuple[str, bool]:
    """The text read (``clean``, ``unspace``, ``unpart``), and whether it was spaced or
    parted to hide a word."""
    text, spaced = unspace(clean(raw, drawn))
    text, parted = unpart(text)
    return text, spaced or parted


def _view(raw: str) -> MessageView:
    text, spaced = _reading(raw)
    skel = skeleton(text)
    spelled = _spelled(text)  # once for both readings of the links
    urls, unread, transitional = _urls_in(spelled)
    if _overridden(raw):
        # A client makes links of the characters stored, whatever order they are drawn in:
        # "\u202ehttp://denied.example" is drawn backwards and its link still opens
        # denied.example (session 32's review: a fuzzed stanza's denied link behind an
        # override was delivered). Both readings' links, the stored order's first, deduped;
        # those past ``MAX_URLS`` go to the block list as a link past the cap does
        # (``unread_hosts``), or 64 links read only as stored would push out one read only
        # as drawn (session 33's review: a denied host so written got no signal).
        more, more_unread, more_transitional = _urls_in(_spelled(_reading(raw, False)[0]))
        both = tuple({url.raw: url for url in (*more, *urls)}.values())
        urls = both[:MAX_URLS]
        read = {url.host for url in urls}
        unread = tuple(dict.fromkeys(
            host for host in (*more_unread, *unread, *(url.host for url in both[MAX_URLS:]))
            if host not in read))
        transitional = tuple(dict.fromkeys((*more_transitional, *transitional)))
    apart, tails, sites = _apart_hosts(_foreign_dots(spelled), urls)
    domains = tuple(dict.fromkeys(u.domain for u in urls)) if urls else ()
    prose, prose_skel = text, skel
    if urls:
        for url in urls:
            prose = prose.replace(url.raw, " ")
        prose_skel = skeleton(prose)
    unnamed = masked(prose_skel, domains)
    fingerprint = hashlib.blake2b(unnamed.encode("utf-8", "surrogatepass"),
                                  digest_size=8).hexdigest()
    return MessageView(text=text, skeleton=skel, urls=urls, domains=domains,
                       fingerprint=fingerprint, masked=unnamed, prose=prose,
                       prose_skeleton=prose_skel, spaced=spaced, apart_hosts=apart,
                       apart_tails=tails, apart_sites=sites, unread_hosts=unread,
                       transitional_hosts=transitional,
                       calls=billing(prose))


# -- numbers that bill whoever answers them (``MessageView.calls``) ----------------------

# A phone number as written: a digit, then digits, blanks, brackets, dots or dashes, ending
# on a digit, not inside a word or after a "+" (the campaigns' summary reads the same).
PHONE = re.compile(r"(?<![\w+])\+?\d[\d\s().-]{6,}\d")
# A keyword texted to a short code: "text TONES to 80888", "txt 'WIN' 2 69696", "Txt: NOKIA
# to No: 89545", "send STOP FRND to 62468", "text the password "MIX" to 85069". A short code
# is a number a carrier leases to a service (4 to 6 digits, never starting with 0), never a
# person's; the keyword, a word to three after the verb, is what the service bills or
# subscribes. Not the start of a longer number ("text me on 5550 1000": the code ends there,
# a 2-digit figure may follow, "to 87121 18+"). Each word bounded (24 letters, a quote each
# side): a word of any length made every "text" of 'text"text"...' a scan to the text's end
# (15,000 characters: 2.1 s).
_SHORT_CODE = re.compile(r"\b(?:text|txt|sms|send|reply)\b[\W_]{0,3}"
                         r"((?:[\"'\u2018-\u201d]?\w{1,24}[\"'\u2018-\u201d]?\s+){0,3}?)"
                         r"(?:to|2|on)\b[\s:]{0,3}"
                         r"(?:no\W{0,3})?([1-9]\d{3,5})(?!\d)"
                         r"(?![ .-]?\d{3})", re.IGNORECASE | re.ASCII)
# What each needs: a short code its four digits in a row, a number written internationally
# its "+" or "00" ("+44 90 65 55 01 43" holds no four): ``billing`` asks neither pattern of
# a text without them, most of all.
_FOUR_DIGITS = re.compile(r"\d{4}", re.ASCII)
# Premium-rate ranges of the numbering plans, the caller billed at the service's rate (the
# ringtone sellers' other door), in the international form only (E.164, after a "+" or
# "00"): UK 9 and 871-873 (the ranges its premium-rate regulator covers), Germany,
# the Netherlands, Austria, Switzerland 90x, North America 1-900 and 1-976, Australia 190x,
# Ireland 15xx. A national form names no plan: "0906 555 0143" is a UK premium line and a
# Philippine mobile, "0912 995 5070" a Thai one, "190 ..." a Chinese one, so a person's own
# number would read as a seller's (Thai SMS corpus: 17 of 886 ordinary texts).
_PREMIUM_E164 = ("449", "44871", "44872", "44873", "49900", "31900", "31906", "31909",
                 "43900", "41900", "41906", "1900", "1976", "61190", "35315")
MAX_CALLS = 8  # addresses kept of a text: a text of 10,000 digits names none past these
MAX_PHONE_DIGITS = 15  # E.164's longest; a longer run is no number anyone dials


def premium(written: str) -> str:
    """The digits of a phone number as written (``PHONE``), written internationally, when
    it is in a premium-rate range (``_PREMIUM_E164``); "" otherwise. "+44 906 ..." and
    "0044 906 ..." are one number, "449065550143"."""
    digits = re.sub(r"\D", "", written)
    if not 7 <= len(digits) <= MAX_PHONE_DIGITS:
        return ""
    if written.startswith("+") or digits.startswith("00"):
        e164 = digits[2:] if digits.startswith("00") else digits
        return e164 if e164.startswith(_PREMIUM_E164) else ""
    return ""


def short_codes(text: str) -> list[tuple[str, str]]:
    """The short codes ``text`` tells the reader to text a keyword to (``_SHORT_CODE``),
    each with its keyword as written, upper-cased, its quotes and marks dropped ("80888",
    "TONES"; "85069", "THE PASSWORD MIX"), each code once, in the text's order, at most
    ``MAX_CALLS``: what ``billing`` names, and the campaigns' evidence lists."""
    found: dict[str, str] = {}
    for match in _SHORT_CODE.finditer(text):
        code = match.group(2)
        if code not in found:
            found[code] = " ".join(re.sub(r"[^\w]+", " ", match.group(1)).upper().split())
            if len(found) >= MAX_CALLS:
                break
    return list(found.items())


def billing(text: str) -> tuple[str, ...]:
    """The numbers that bill whoever answers them which ``text`` tells the reader to use,
    each once, in the text's order, at most ``MAX_CALLS``: "sms:" and a short code a keyword
    is texted to (the keyword is the seller's to vary per pitch, the code is not), "tel:"
    and a premium-rate number's digits (``premium``). A person's own number bills nobody:
    "call me on 07700 900007" names none."""
    found: dict[str, None] = {}
    if _FOUR_DIGITS.search(text) is not None:
        for code, _ in short_codes(text):
            found[f"sms:{code}"] = None
    if len(found) >= MAX_CALLS or ("+" not in text and "00" not in text):
        return tuple(found)
    for match in PHONE.finditer(text):
        digits = premium(match.group())
        if digits:
            found[f"tel:{digits}"] = None
            if len(found) >= MAX_CALLS:
                break
    return tuple(found)
