"""Relationship evidence and the policy's independent-evidence rule."""

from __future__ import annotations

import pytest

from conftest import T0, config, event, message
from spimguard import accounts, open_engine
from spimguard.engine import Engine
from spimguard.policy import Policy
from spimguard.signals import Signal


def decide(signals: list[Signal]) -> str:
    return Policy(config()).decide(signals, "alice", "s1").action


def friends(e: Engine) -> None:
    """alice and bob list each other and have written to each other."""
    for account, other in (("alice", "bob"), ("bob", "alice")):
        e.process(event(e.config, type="contacts", id=f"c-{account}", ts=T0, account=account,
                        contacts=[other]))
    e.process(message(e.config, "m1", "alice", ["bob"], "hi bob", T0 + 10))
    e.process(message(e.config, "m2", "bob", ["alice"], "hi alice!", T0 + 20))


def test_a_reply_between_mutual_contacts_is_conversation_a_first_message_is_not() -> None:
    e = open_engine(config())
    for account, other in (("alice", "bob"), ("bob", "alice")):
        e.process(event(e.config, type="contacts", id=f"c-{account}", ts=T0, account=account,
                        contacts=[other]))
    first = e.process(message(e.config, "m1", "alice", ["bob"], "hi bob", T0 + 10))
    assert "CONVERSATION" not in {s.code for s in first.signals}  # bob never wrote to alice
    reply = e.process(message(e.config, "m2", "bob", ["alice"], "hi alice!", T0 + 20))
    assert "CONVERSATION" in {s.code for s in reply.signals}  # alice wrote to bob


def test_conversation_needs_mutual_contacts_and_the_recipient_having_written() -> None:
    e = open_engine(config())
    friends(e)
    verdict = e.process(message(e.config, "m3", "alice", ["bob"], "see you at 8", T0 + 30))
    assert "CONVERSATION" in {s.code for s in verdict.signals}
    one_way = e.process(message(e.config, "m4", "alice", ["carol"], "hello carol", T0 + 40))
    assert "CONVERSATION" not in {s.code for s in one_way.signals}
    # carol writing back does not make her a mutual contact
    e.process(message(e.config, "m5", "carol", ["alice"], "hello alice", T0 + 50))
    again = e.process(message(e.config, "m6", "alice", ["carol"], "how are you", T0 + 60))
    assert "CONVERSATION" not in {s.code for s in again.signals}


def test_content_alone_between_friends_warns_unless_near_certain() -> None:
    talk = Signal("CONVERSATION", 1.0, "friends")
    likely = Signal("CONTENT_SPAM", 9.0 / 12, "spam probability 0.8")
    certain = Signal("CONTENT_SPAM", 1.0, "spam probability 0.999")
    assert decide([likely]) == "hold"  # strangers: content alone holds
    assert decide([likely, talk]) == "warn"  # friends: one kind of evidence warns
    assert decide([certain, talk]) == "block"  # ... unless it is near certain


def test_a_second_kind_of_evidence_restores_the_hold_between_friends() -> None:
    talk = Signal("CONVERSATION", 1.0, "friends")
    likely = Signal("CONTENT_SPAM", 9.0 / 12, "spam probability 0.8")
    hijack = Signal("ACCOUNT_HIJACK_BURST", 0.5, "an unfamiliar session writing to all")
    weak = Signal("LINK_SHORTENER", 1.0, "bit.ly")  # a hint, not evidence that warns alone
    assert decide([likely, hijack, talk]) in ("hold", "block")
    assert decide([likely, weak, talk]) == "warn"
    assert decide([Signal("SENDING_SUSPENDED", 1.0, "suspended", "hold"), talk]) == "hold"


def test_the_relationship_bounds_only_what_the_words_say() -> None:
    """A hijacker inherits the victim's conversations: a domain users reported still
    holds between friends, while the same points from content alone warn."""
    talk = Signal("CONVERSATION", 1.0, "friends")
    reported = Signal("LINK_REPUTATION", 1.0, "tonez-club.biz: 3 user reports")
    assert decide([reported, talk]) in ("hold", "block")
    assert decide([Signal("CONTENT_SPAM", 8.0 / 12, "p 0.7"), talk]) == "warn"


@pytest.mark.parametrize("alone", [False, True])
def test_a_first_message_between_mutual_contacts_bounds_the_words_alone(alone: bool) -> None:
    """Before the recipient has written back, listing each other is the tie when the
    sender is established (a month of life here): content alone then warns. The same
    listing from an account first seen an hour ago is no tie: accepting a contact request
    lists both ways, and a bot can get that, not a month behind it. The same with the
    takeover detector disabled (``alone``), whose judgement this one reads, and its
    messages in one batch (what ``established`` reads, asked once a batch an account)."""
    e = open_engine(config())
    if alone:
        e.disabled["takeover"] = "test"
    month = 30 * 86_400
    for account, other, since in (("alice", "bob", month), ("bob", "alice", month),
                                  ("bot", "bob", 3600), ("bob", "bot", 3600)):
        e.process(event(e.config, type="contacts", id=f"c-{account}-{other}", ts=T0 - since,
                        account=account, contacts=[other] if account != "bob" else [
                            "alice", "bot"]))
    first, fresh, one_way = e.process_batch([
        message(e.config, "m1", "alice", ["bob"], "hi bob", T0 + 10),
        message(e.config, "m0", "bot", ["bob"], "hi bob", T0 + 15),
        message(e.config, "m2", "alice", ["carol"], "hi carol", T0 + 20)])
    assert "CONTACTS_MUTUAL" in {s.code for s in first.signals}
    assert not {"CONTACTS_MUTUAL", "CONVERSATION"} & {s.code for s in fresh.signals}
    assert not {"CONTACTS_MUTUAL", "CONVERSATION"} & {s.code for s in one_way.signals}
    tie = Signal("CONTACTS_MUTUAL", 1.0, "mutual contacts")
    likely = Signal("CONTENT_SPAM", 9.0 / 12, "spam probability 0.8")
    assert decide([likely, tie]) == "warn"
    assert decide([Signal("CONTENT_SPAM", 1.0, "near certain"), tie]) == "block"


def test_a_session_in_doubt_lifts_the_relationship_bound() -> None:
    """A hijacker inherits the contact list: once the message comes from a session the
    account does not use that read the list, the words hold again; a weak burst to
    dormant ties (friends passing a link on from a phone new to a network) does not."""
    likely = Signal("CONTENT_SPAM", 9.0 / 12, "spam probability 0.8")
    read = [Signal("LOGIN_UNFAMILIAR", 0.6, "an official app's id on a new network"),
            Signal("CONTACTS_SCRAPED", 0.6, "read 40 of 40 contacts")]  # 2.4: under warn
    weak = Signal("ACCOUNT_HIJACK_BURST", 0.27, "two dormant close friends")
    for tie in (Signal("CONTACTS_MUTUAL", 1.0, "mutual"), Signal("CONVERSATION", 1.0, "talk")):
        assert decide([likely, tie]) == "warn"
        assert decide([likely, *read, tie]) in ("hold", "block")
        assert decide([likely, weak, tie]) == "warn"


def test_a_session_not_proven_the_owners_lifts_the_listing_not_the_conversation() -> None:
    """A session the account does not use (SESSION_UNFAMILIAR, no points, on every message:
    a hijacker writing once per burst window never bursts) inherits the contact list, so
    the listing no longer vouches for the words; a recipient who wrote back still does."""
    likely = Signal("CONTENT_SPAM", 9.0 / 12, "spam probability 0.8")
    unproven = Signal("SESSION_UNFAMILIAR", 0.6, "a session the account does not use")
    assert decide([likely, unproven, Signal("CONTACTS_MUTUAL", 1.0, "mutual")]) == "hold"
    assert decide([likely, unproven, Signal("CONVERSATION", 1.0, "talk")]) == "warn"


@pytest.mark.parametrize("alone", [False, True])
def test_relationship_plans_of_the_takeover_reads_only_what_established_uses(alone: bool
                                                                          ) -> None:
    """The sender's standing needs the takeover record and its vouching correspondents, not
    the burst counts the takeover detector reads besides (~14 queries a message), and
    only when the judgement reaches them: the relationship's own reads are the ties.
    With the takeover detector enabled, its plan holds those two already (the record
    read, the correspondents deferred); disabled (``alone``), they are deferred."""
    from spimguard.detectors.takeover.plan import standing

    e = open_engine(config())
    if alone:
        e.disabled["takeover"] = "test"
    enabled = [d for d in e.detectors if d.name not in e.disabled]
    ctx = e._plan(message(e.config, "m1", "alice", ["bob"], "hi bob", T0), enabled).ctx
    relationship = next(d for d in e.detectors if d.name == "relationship")
    record, vouching = standing("alice")
    assert (ctx.deferred.count(record), ctx.deferred.count(vouching)) == (
        (1, 1) if alone else (0, 1))
    assert {q.key for q in relationship.reads(ctx)} == {
        accounts.contacts("alice"), accounts.contacts("bob"), accounts.tie_record("alice")}


def test_what_established_reads_is_the_accounts_alone() -> None:
    """What ``established`` reads (``plan.standing``) is what the takeover plan of any of
    the account's messages reads for it: made once for the account's messages
    (``shared``), it holds only while it depends on the account alone, not on the
    session, recipients or words of one message."""
    from spimguard.detectors.base import Context
    from spimguard.detectors.takeover.plan import plan, standing
    from spimguard.detectors.takeover.settings import TakeoverSettings
    from spimguard.text import SEALED, view

    cfg = config()
    asked = [message(cfg, "m1", "alice", ["bob"], "hi bob", T0, session="s1"),
             message(cfg, "m2", "alice", ["carol", "dan"], "see https://example.org/x",
                     T0 + 5, session="s2", conversation="room"),
             message(cfg, "m3", "alice", ["bob"], "", T0 + 9, encrypted=True, size=120)]
    for m in asked:
        found = plan(TakeoverSettings(), Context(m, view=SEALED if m.encrypted
                                                 else view(m.text)))
        assert found is not None
        assert (found.record, found.reciprocated) == standing("alice")


_PITCH = ("Congratulations! You have been selected for a free iPhone, claim your prize now "
          "at http://free-prize-claim.top/win before midnight")


def _pitched(size: int, listed_back: bool, reply: bool = False) -> tuple[set[str], str]:
    """A fresh bot joined a group of ``size`` (itself included) an hour ago where its
    target talks, and lists the target; the target lists it back (an accepted contact
    request) if ``listed_back``, and posts a line to the group; with ``reply`` the bot
    wrote the target a line first and got an answer. The bot's pitch to the target by
    itself: its signals and action."""
    e = open_engine(config())
    others = [f"m{i}" for i in range(size - 2)]
    joined = T0 - 3600
    e.process(event(e.config, type="contacts", id="c-bot", ts=joined, account="bot",
                    contacts=["vic"]))
    e.process(event(e.config, type="contacts", id="c-vic", ts=joined + 60, account="vic",
                    contacts=[*others[:10], *(["bot"] if listed_back else [])]))
    e.process(message(e.config, "post", "vic", [*others, "bot"], "football on saturday?",
                      joined + 120, conversation="g"))
    if reply:
        e.process(message(e.config, "hi", "bot", ["vic"], "hi, from the football group",
                          joined + 200))
        e.process(message(e.config, "who", "vic", ["bot"], "oh hi! who is this?", joined + 300))
    pitch = e.process(message(e.config, "pitch", "bot", ["vic"], _PITCH, T0))
    return {s.code for s in pitch.signals}, pitch.action


def test_a_group_the_target_posts_in_buys_a_bot_what_one_answer_does_and_no_more() -> None:
    """Session 24 asks whether the recipients wrote to the sender of the sender's own
    ``TALKED`` (taught by messages to at most 50), where the relationship detector kept
    its own record of messages to at most 5: a post to a group of 6 to 50 now "writes
    back" to every member. A spimmer that joins a group its target talks in gains what
    one answer to a line of its own gave it before (the target's "who is this?"), and
    only once the target lists it back, the target's own act: then content alone warns
    unless near certain, as for any answer. Measured before (main ca7a710): the group
    of 20 or 50 gave the bot no relationship signal; the answer gave CONVERSATION; the
    near-certain pitch blocked either way. A post to more than 50 teaches nothing."""
    answered, action = _pitched(20, True, reply=True)
    assert "CONVERSATION" in answered and action == "block"
    for size in (20, 50):
        assert _pitched(size, True) == (answered, "block"), size
        codes, _ = _pitched(size, False)
        assert not codes & {"CONVERSATION", "CONTACTS_MUTUAL"}, size
    codes, _ = _pitched(53, True)  # a post to 52: no ties taught
    assert not codes & {"CONVERSATION", "CONTACTS_MUTUAL"}
