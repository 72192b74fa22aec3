"""Where a session comes from and with what app, in the coarse terms an account's habits
are kept in: a network (/24, /48), its provider's range (/16, /32), an app's family.

Exact addresses and version strings change with every reconnect and update; an owner's
home network and its app's family do not, and an intruder's hosting range is shared by
the sessions it mints."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from functools import lru_cache

from ...events import Message

# An IPv4 address as ``ipaddress`` reads one: four decimal octets of at most 255, no
# leading zero, ASCII digits only (``network``).
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])"
_IPV4 = re.compile(rf"({_OCTET}\.{_OCTET}\.{_OCTET}\.){_OCTET}")


@lru_cache(maxsize=65_536)
def network(ip: str) -> str:
    """The /24 (IPv4) or /48 (IPv6) an address belongs to; "" when it is not an address.

    An IPv4 address is read by one match (``_IPV4``: exactly what ``ipaddress`` takes for
    one), its /24 its first three octets as written: ~1 µs where ``ipaddress``'s parse and
    network took ~14. Kept too, but a platform's 100 million accounts write from far more
    addresses than the cache holds: nearly every message of a sender not seen lately
    missed it and paid the parse (``takeover43``). Anything else is ``ipaddress``'s."""
    text = ip.strip()
    four = _IPV4.fullmatch(text)
    if four is not None:
        return four[1] + "0"
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return ""
    bits = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{bits}", strict=False).network_address)


def wide_range(net: str) -> str:
    """The /16 (IPv4) or /32 (IPv6) around a network: a hosting provider's range."""
    try:
        address = ipaddress.ip_address(net)
    except ValueError:
        return ""
    bits = 16 if address.version == 4 else 32
    return str(ipaddress.ip_network(f"{address}/{bits}", strict=False).network_address)


@lru_cache(maxsize=4_096)
def client_family(client: str) -> str:
    """A client id without its version: 'MobileFunster 2.1' and 'mobilefunster/3' are one.
    Asked two or three times an event (a session's sign-in compared with each message, its
    stand-in, an incident's app) of the account's few apps: kept, as ``network`` is."""
    return re.split(r"[\s/_-]*v?\d", client.strip().lower(), maxsplit=1)[0].strip()


def in_cidrs(net: str, cidrs: Sequence[str]) -> bool:
    """Whether a network lies in one of the IM server's own known networks (``account``
    events give CIDRs of any size, not our /24s). Most profiles have none: then the
    address is not parsed at all."""
    if not cidrs:
        return False
    try:
        address = ipaddress.ip_address(net)
    except ValueError:
        return False
    return any(address in _cidr(c) for c in cidrs)


@lru_cache(maxsize=4_096)
def _cidr(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(cidr, strict=False)


def counted(message: Message) -> str:
    """The session a message counts under: its own, or its stand-in."""
    return message.session or stand_in(message)


def stand_in(message: Message) -> str:
    """A message's session when it names none: its app (family) and network. ``~`` keeps
    it apart from the ids clients choose only by convention; a client naming its session
    so merges its own counts, never the owner's (it would need the account)."""
    return _origin(message.client.id, network(message.client.ip))


def _origin(client: str, net: str) -> str:
    """The stand-in of an app (any version of it) on a network (``stand_in``)."""
    return f"~{client_family(client)}~{net}"


def scoped(message: Message) -> str:
    """The id a message's sign-in is kept under when its app or network is not the one its
    session signed in from (``session.signed_in``): the session's with the message's
    stand-in, so it never names the owner's device, nor another origin's."""
    return f"{message.session}{stand_in(message)}"


def unscoped(session: str, client: str, net: str) -> str:
    """The session a kept session id counts its messages under (``counted``): a scoped id
    (``scoped``: the session's, then the stand-in of the app and network it was judged
    from, which its entry holds as ``client`` and ``net``) its session's; any other
    itself."""
    scope = _origin(client, net)
    return session[:-len(scope)] if len(session) > len(scope) and session.endswith(
        scope) else session
