"""The takeover detector's settings: every number that changes one of its verdicts, each
with the reason for its value, so that tuning happens in config and nowhere else."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TakeoverSettings:
    """The takeover detector's settings (``detectors.takeover`` in config)."""

    familiar_after: int = 86_400  # seconds a client or network must be known to be familiar
    familiar_uses: int = 3  # ... and clean messages from it to the account's own people
    dormant_after: int = 2_592_000  # a sign-in after this long without one is unfamiliar too
    burst_window: int = 600  # seconds over which a session's contacts written to are counted
    # Its text and size counts move by this step (a window rounded to whole minutes: one
    # counter entry a minute however fast the session sends).
    burst_bucket: int = 60
    burst_soft: int = 1  # distinct contacts where burst evidence starts ...
    burst_hard: int = 4  # ... and is full
    scraped_share: float = 0.5  # share of the contact list a session must read to count
    mature_messages: int = 30  # messages before the profile judges behaviour change
    reply_window: int = 1_800  # seconds within which answering a message counts as a reply
    replies_trusted: int = 2  # replies that make a session a conversing one (its burst halves)
    trusted_messages: int = 20  # clean messages before the account's usual session is trusted
    # ... and, for those messages to make the account established before ``established_after``,
    # distinct correspondents among them who list it back or had just written to it: volume to
    # one sock is a bot's warm-up (red team H1). Three, as trust.py's ``full_footprint``: what
    # anyone who uses a messenger has, what a throwaway has only with as many socks.
    trusted_correspondents: int = 3
    hour_messages: int = 100  # messages in the hour histogram before an hour can be unusual
    # ... and past this many it is halved (recent habits count more: about four times
    # ``hour_messages``, so a halved histogram still judges hours).
    hour_decay: int = 400
    max_networks: int = 6  # networks kept in a profile (least recently seen dropped)
    max_clients: int = 4  # clients kept in a profile
    # Not read since session 37 (``records37``): a profile keeps whether its owner ever
    # linked, all BEHAVIOUR_CHANGE reads of its links, not their domains' tags; accepted so
    # that a config setting it still loads.
    max_domains: int = 16
    session_ttl: int = 2_592_000  # seconds session facts are kept
    live_window: int = 43_200  # seconds a session counts as live after its last activity
    max_cidrs: int = 16  # networks (CIDRs) from ``account`` events kept in a profile
    max_incidents: int = 8  # incidents (network, range, client family) kept per account
    # How unfamiliar a session is (LOGIN_UNFAMILIAR's strength, and the burst's risk),
    # on one scale from the owner (0) to a stranger (1). A known place is half a stranger:
    # the owner's network after a month's silence, or a third-party app new to the account
    # at home (people try apps; sellers of stolen accounts log in from their own network) ...
    risk_known_network: float = 0.4
    # ... a known app on a new network is more: travel, or a spoofed official client id
    # (ids are free to claim, networks are not); an official app counts as known here ...
    risk_new_network: float = 0.6
    # ... and a new app on a new network is the stranger the detector exists for.
    risk_stranger: float = 1.0
    # ACCOUNT_HIJACK_BURST's strength: the burst's ramp times this sum (capped at 1). A full
    # burst from a session of known-network risk weighs 0.45 + 0.25 * 0.4 = 0.55 alone (a
    # warning under scores.toml), from a stranger 0.7; each corroboration adds 0.1, so a
    # stranger's burst with one text, after reading the list and with a link reaches 1.
    burst_base: float = 0.45
    burst_risk: float = 0.25  # times the session's risk
    burst_scraped: float = 0.1  # it read most of the contact list first
    burst_one_text: float = 0.1  # one text to all, or most of the contacts it wrote to dormant
    # ... "most": at least this share of the message's recipients on the contact list are
    # dormant ties. Half since the first takeover detector (e9d58d9): an owner writes to the
    # friends it writes to, a harvested list is mostly people it never does.
    burst_dormant_share: float = 0.5
    burst_link: float = 0.1  # the text carries a link (the pitch's payload)
    # A session that replied to its friends before its burst is most likely the owner:
    # its burst weighs this much on the account's own app, and ``replied_other_app``
    # on another (people chat; spam software blasts).
    replied_own_app: float = 0.25
    replied_other_app: float = 0.5
    # ... but not for an answer to a dormant tie carrying a site the session already sent
    # this many other contacts in the burst window (``burst.pitched``), nor is that a
    # reply: a reply answers one person, and the same link as the answer to a second one
    # is the broadcast (red team, session 26: the ringtone seller's openers, "long time!
    # how are you?", drew answers and each answerer got the pitch as the answer's reply).
    pitch_others: int = 1
    # ... nor for a link to a dormant tie once the account's sessions nothing proves the
    # owner's have sent links to this many of them over a session's life, this one's
    # included, whatever the sites, the pace, the time since each answer or the sessions
    # minted (``burst.pitched``): the seller must give every answerer a link, a friend on a
    # new phone gives one to the one or two it catches up with, a video to a few close
    # friends (the mixed load's popular-link trap: one to three). Four, as ``burst_hard``:
    # the count at which a burst is full evidence (red team, session 27). Also the cap of
    # the account's set of them: only whether it reaches this many is asked. And a site on
    # no popular list sent to this many contacts or correspondents, none dormant, in
    # ``burst_window`` or over the unproven sessions' life (``keys.spread``, each site a
    # message names: a decoy beside it changes nothing, session 31), is the burst
    # (``burst.measure``'s ``spread``): the seller that read the history pitches the
    # people the owner writes to (red team, session 30).
    pitch_ties: int = 4
    # A network first used while the account already had a familiar one was new then: what
    # made it familiar was an unfamiliar session's clean lines (its replies to friends who
    # wrote, its conversation), which prove a session can converse, not that it is the
    # owner's; a signed-in seller receives what the friends write and answers them (red
    # team, session 29: three answers, and a day later its server's blast of 50 pitches
    # was the owner's). Until it has been in use this long (``profile.earned``) it is the
    # account's for chat, not for a link to a site on no popular list sent to dormant ties,
    # which is judged as from the new network it was. A week: the owner's new phone or home
    # network is a week into its everyday use by then; a seller must keep a session
    # answering her friends in her name, unnoticed, as long (a day, before).
    pitch_trust_after: int = 604_800
    # ... a popular site (``lists.well_known``) from such a network is the owner's, for it
    # is what everybody shares (her new phone sends a video to five friends: test_adversarial)
    # but a popular site vouches for what is shared, not for how far: anyone publishes on
    # YouTube, Google Sites, Medium, and a seller's pitch there is its own page (red team,
    # session 29: 50 of 50 reached). So only until the account's earned networks have sent
    # popular sites to this many of its dormant ties within ``pitch_trust_after`` (all its
    # earned networks and sessions together, whatever the pace); past it such a message is
    # judged as from the new network it was, as a little-known site at once. Fifteen: the
    # close-friends layer of a person's ties (Dunbar's sympathy group, ~12-15: Zhou,
    # Sornette, Hill and Dunbar 2005), the most one shares a thing with one by one; above
    # the decided new phone's five, the travelling owner's six and WhatsApp's five chats a
    # forward, far below the contact list a seller came for (session 30, ``popular``). The
    # same count for an unfamiliar session: its popular site given to this many contacts or
    # correspondents is the spread pitch, as a little-known one to ``pitch_ties`` (a
    # seller's Google Sites page to 40 friends: 28 reached, 14 after; review, session 30).
    # And so are its links whatever the sites (``keys.linked``), answers to those who asked
    # included: the fact is how far one shares one by one, which a site per pitch does not
    # change (a seller's 40 registrable domains: 28 to 40 reached, 14 after; session 31).
    popular_share_ties: int = 15
    behaviour_change: float = 0.35  # BEHAVIOUR_CHANGE per unusual thing (three make it whole)
    # A text is written in a script when at least this share of its non-space characters is
    # in it (``profile.script``). A third since the first takeover detector (e9d58d9): a
    # Cyrillic line with a Latin link or brand name is still Cyrillic; a lone foreign name is
    # no script of the account's. (1/3 as a float gives exactly the old integer test, 3 * n
    # >= length, for every length an event may have.)
    script_share: float = 1 / 3
    scraped_min_contacts: int = 5  # a contact list shorter than this is not worth harvesting
    # Bounds on what one event may make the detector hold (an attacker chooses both):
    max_recipients: int = 500  # recipients of one message checked against ties (the rest wait)
    burst_cap: int = 5_000  # members of a session's burst sets (far above ``burst_hard``)
    live_cap: int = 16  # networks in an account's live-sessions set
    # Sessions whose facts an account's record keeps: an account's own devices are a handful;
    # past it the least recent without standing go first (``record``).
    max_sessions: int = 8
    unpitched_trace: float = 0.15  # burst strength at most, from a partly new session consistent
    # with the owner (``owner_consistent``; x its weight 10 stays under challenge - velocity cap)
    # An account first seen this long ago (by spimguard, or by the IM server: an ``account``
    # event's ``created``) is established without counting its messages: a month of life.
    established_after: int = 2_592_000
    owner_people: int = 5  # recipients checked for listing the account back (more: not judged)
