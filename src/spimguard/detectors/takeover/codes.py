"""The signal codes the takeover detector may emit, with one-line meanings (the console
and the notices show them; ``detectors.SIGNALS`` gathers every detector's)."""

from __future__ import annotations

SIGNALS = {
    "LOGIN_UNFAMILIAR": "a sign-in from a client or network the account does not use",
    "CONTACTS_SCRAPED": "an unfamiliar session read most of the contact list",
    "ACCOUNT_HIJACK_BURST": "an unfamiliar session is writing to many of the account's own "
                            "contacts, often one text with a link",
    "ACCOUNT_BURST_UNPITCHED": "the same burst from a session that claims the account's app, "
                               "read no contact list and sent no link, from a network the "
                               "account never wrote from: held, never an account action alone",
    "BEHAVIOUR_CHANGE": "the account does what it never did: a first link, another script, "
                        "an unusual hour",
    "CHALLENGE_PASSED": "the owner signed in from an official app on a known network, or "
                        "the session answered the owner's challenge: restrictions lifted",
    "CHALLENGE_FAILED": "the session failed the owner's challenge: it holds the password, "
                        "not the owner's second factor",
    "FAMILIAR_SENDER": "the account's usual app on its usual network, writing to its own "
                       "contacts who list it back (counts against the other evidence)",
    "INCIDENT_INHERITED": "a new session from the network, range or app of an open incident "
                          "on the account",
    "OWNER_CONSISTENT": "an established account's session with nothing against it: its official "
                        "or own app, no contact list read, no link in the clear, to contacts "
                        "who list it back, from its own network (volume and words alone then "
                        "warn)",
    "PREMIUM_BROADCAST": "the account's usual session gave a number that bills whoever "
                         "answers it (a short code, a premium-rate line) to many contacts "
                         "it had not been writing to, within minutes: an advert",
    "SESSION_UNFAMILIAR": "sent from a session the account does not use, not proven the "
                          "owner's (no points: mutual contacts no longer vouch for the words)",
}
