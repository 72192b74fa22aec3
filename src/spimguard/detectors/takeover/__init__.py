"""Hijacked accounts: a stranger's software in a friend's account, spamming its contacts.

The case spimguard was born from: credentials harvested, a login from the
seller's own software, the whole contact list read, then every contact sent the
same promo in the victim's name. Each part alone is innocent (people use
third-party apps, clients fetch the whole roster, friends greet everyone at new
year), so the decision rests on their conjunction, per *session*:

1. the session is **unfamiliar** to the account: its client (official or not)
   and its network prefix (/24, /48) against the account's profile (``session``);
2. it **bursts to the account's dormant ties**: distinct contacts the account
   has not been writing with, written to from this session in ``burst_window``,
   with one text and often a link; or, spread past that window, over the
   session's life beyond the correspondents it also wrote to (``burst``);
3. it **read the contact list** first (``contacts_read`` against the list size).

ACCOUNT_HIJACK_BURST needs 1 and 2; 3, one text, dormant ties and a link make
it stronger. A session only partly new with positive evidence that it is the
owner's and nothing against it (``owner_consistent``: an established account, the
official or the account's own app, no contact list read, a message in the clear
with no link, to contacts who list it back, from a network that sessions proven
the owner's, by their conversation, wrote from) leaves only a trace
(``unpitched_trace``): the owner's phone a few hours into a new network where it
has been answering friends, announcing "this is my new number" to everyone.
Nothing against is not evidence for: an account with no history, a network only
written from (an intruder's warm-up looks the same), an encrypted message (nobody
can say it has no link) prove nothing, and the burst counts in full whatever the
app claims. Every message of a session the account does not use and nothing
proves the owner's carries SESSION_UNFAMILIAR (no points): a hijacker that writes
once per burst window never bursts, yet a contact listing it inherited no longer
vouches for its words (``policy.py``). Its notices speak of the session's app,
network and messages.

The modules, one job each:

- ``settings``: every number that changes a verdict, and why it has its value;
- ``codes``: the signal codes it may emit;
- ``origin``: a session's network, range, app family, and its stand-in id;
- ``profile``: the account's habits, what teaches them, BEHAVIOUR_CHANGE;
- ``session``: a session's facts and how unfamiliar it is;
- ``burst``: counting the burst and weighing it into a signal;
- ``incidents``: incidents, challenges and what they lift;
- ``keys`` and ``plan``: what an event reads; ``record``: the account's one value;
- ``detector``: read, detect, write.
"""

from __future__ import annotations

from .codes import SIGNALS
from .detector import TakeoverDetector, build
from .origin import network
from .settings import TakeoverSettings

__all__ = ["SIGNALS", "TakeoverDetector", "TakeoverSettings", "build", "network"]
