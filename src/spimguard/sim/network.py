"""The simulated platform's people: who knows whom, where and when they chat.

Real contact graphs are heavy-tailed (most people have dozens of contacts, a
few have hundreds or thousands) and clustered (friends of friends are
friends), and people talk mostly to a handful of close friends. Both matter to
spimguard: fan-out and velocity are judged against a sender's own contacts, and
a hijacked account's burst goes to the whole list, not to the close friends.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

OFFICIAL_CLIENTS = ("im-android", "im-ios", "im-desktop")
# What friends call each other in messages (account ids are not names).
FIRST_NAMES = ("Sam", "Alex", "Maria", "Jo", "Priya", "Chen", "Fatima", "Lucas", "Anna", "Omar",
               "Sofia", "Ivan", "Mei", "Kofi", "Laura", "Ahmed", "Yuki", "Nina", "Diego", "Emma",
               "Tom", "Aisha", "Ben", "Olga", "Raj", "Lea", "Mateo", "Zara", "Hugo", "Ines",
               "Kai", "Dana", "Pablo", "Sara", "Leon", "Mia", "Arjun", "Noor", "Felix", "Ada")
THIRD_PARTY_CLIENTS = ("pidgin-2.14", "adium-1.5", "gajim-1.8")


@dataclass(slots=True)
class Person:
    name: str
    display: str  # the first name friends greet them by
    home_ip: str
    mobile_ip: str
    client: str  # the app they use every day
    wake: float  # hour of the day they come online
    chattiness: float  # conversations a day, on average
    contacts: set[str] = field(default_factory=set)
    close: list[str] = field(default_factory=list)  # the few they talk to most


@dataclass
class Network:
    people: dict[str, Person]

    @property
    def names(self) -> list[str]:
        return list(self.people)

    def befriend(self, a: str, b: str) -> None:
        if a != b:
            self.people[a].contacts.add(b)
            self.people[b].contacts.add(a)

    def add(self, person: Person) -> None:
        self.people[person.name] = person


def _person(rng: random.Random, index: int) -> Person:
    third_party = rng.random() < 0.1  # legitimate users of other apps exist and are not spim
    return Person(
        name=f"user{index}",
        display=rng.choice(FIRST_NAMES),
        home_ip=f"100.{64 + index // 62500 % 64}.{index // 250 % 250}.{index % 250 + 2}",
        mobile_ip=f"10.{rng.randrange(8, 12)}.{rng.randrange(256)}.{rng.randrange(2, 250)}",
        client=rng.choice(THIRD_PARTY_CLIENTS if third_party else OFFICIAL_CLIENTS),
        wake=rng.uniform(6.5, 10.0),
        chattiness=rng.lognormvariate(0.9, 0.5),
    )


def build(users: int, rng: random.Random) -> Network:
    """Communities of 10-80 friends, plus ties across them; degrees log-normal."""
    if users < 20:
        raise ValueError("a network needs at least 20 users")
    network = Network({})
    for index in range(users):
        network.add(_person(rng, index))
    names = network.names
    communities: list[list[str]] = []
    start = 0
    while start < users:
        size = min(users - start, max(10, int(rng.lognormvariate(3.3, 0.5))))
        communities.append(names[start:start + size])
        start += size
    home = {name: group for group in communities for name in group}
    for name in names:
        degree = min(users - 1, max(3, int(rng.lognormvariate(3.2, 0.7))))
        group = home[name]
        local = min(len(group) - 1, int(degree * 0.7))
        for friend in rng.sample(group, min(len(group), local + 1)):
            network.befriend(name, friend)
        for friend in rng.sample(names, degree - local):
            network.befriend(name, friend)
    for person in network.people.values():
        nearby = [f for f in person.contacts if home[f] is home[person.name]]
        pool = nearby or sorted(person.contacts)
        person.close = rng.sample(sorted(pool), min(len(pool), rng.randint(3, 8)))
    return network
