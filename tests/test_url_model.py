"""The URL model: phishing-shaped links carry evidence on their own, friends' links to
little-known sites are not held for their shape, and the shipped artefact is what HEAD
builds."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import T0, config, event, message, shared_datasets
from rebuilds import differences
from spimguard import lists, open_engine
from spimguard.engine import Engine
from spimguard.errors import ConfigError
from spimguard.policy import Policy
from spimguard.signals import Signal
from spimguard.state.ops import Touch
from spimguard.text import parse_url, view
from spimguard.urlmodel import features, scorer, words
from spimguard.urlmodel import train as training

# Phishing shapes written for this test (none is in the training file): a kit on a free
# site builder under a brand's name, one in a compromised WordPress site's plugins, a
# sign-in page under a dynamic-DNS name (none a look-alike of a brand's domain).
PHISHING = [
    "https://resolution-center-7731.weebly.com/paypal/login/verify.php?session=8f3a9c1d77e2b4a6",
    "http://bakery-lindgren.com.au/wp-content/plugins/secure/office365/login/index.php",
    "https://shared-docs-7731.duckdns.org/office365/signin/auth.php?id=37321",
]
BENIGN = [
    "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    "https://en.wikipedia.org/wiki/Flood",
    "https://www.bbc.co.uk/news/uk-england-somerset-67812345",
    "https://www.amazon.de/dp/B08N5WRWNW",
    "https://github.com/psf/requests",
    "https://docs.google.com/document/d/1aBcD/edit",
    "https://www.riverside-gazette.net/2026/12/31/482913-flood-on-main-street",
    "http://www.cs.example.edu/~jsmith/recipes/bread.html",
    "https://maps.app.goo.gl/abc",
    "https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC",
]


def links_engine() -> Engine:
    off = {"enabled": False}
    return open_engine(config(detectors={"content": off, "velocity": off, "bulk": off,
                                         "takeover": off}))


def phishy(verdict) -> list:  # type: ignore[no-untyped-def,type-arg]
    return [s for s in verdict.signals if s.code == "LINK_PHISHY"]


@pytest.mark.parametrize("url", PHISHING)
def test_a_phishing_shaped_link_with_neutral_words_is_warned_with_its_reasons(url: str) -> None:
    e = links_engine()
    verdict = e.process(message(e.config, "m", "a", ["b"], f"have a look {url}", T0))
    found = phishy(verdict)
    assert found, verdict.signals
    assert "shaped like a phishing page" in found[0].detail
    # Its shape alone warns and never holds: a friend's odd link must not be held for it.
    assert verdict.action == "warn"


def test_the_reasons_name_what_a_person_can_check() -> None:
    judged = scorer.bundled().judge(parse_url(PHISHING[0], explicit=True))
    assert judged.p >= scorer.bundled().warn_at
    text = " ".join(judged.reasons)
    # The free host, the borrowed brand and the sign-in page: C is chosen for what carries
    # to a source never fitted on, so the kit's lure words keep a weight of their own.
    assert "weebly.com" in text and "'paypal'" in text and "login" in text, judged.reasons
    assert "suffix" not in text, judged.reasons  # .com is no reason a person can check


@pytest.mark.parametrize("url", BENIGN)
def test_links_people_share_are_not_flagged(url: str) -> None:
    e = links_engine()
    verdict = e.process(message(e.config, "m", "a", ["b"], f"have a look {url}", T0))
    assert not phishy(verdict), verdict.signals


def test_with_credential_bait_from_a_stranger_the_link_is_held() -> None:
    e = links_engine()
    text = f"your account will be suspended, verify your account now: {PHISHING[0]}"
    assert e.process(message(e.config, "m", "a", ["b"], text, T0)).action in ("hold", "block")


def test_between_friends_the_shape_alone_warns_at_most() -> None:
    """LINK_PHISHY is what the message shows, like its words: the policy bounds it to a
    warning between people who write to each other, whatever its strength."""
    policy = Policy(config())
    talk = Signal("CONVERSATION", 1.0, "friends")
    certain = Signal("LINK_PHISHY", 1.0, "x.weebly.com is shaped like a phishing page")
    volume = Signal("BULK_NEAR_DUPLICATE", 1.0, "one text to many")
    assert policy.decide([certain, volume], "a", "s").action == "hold"  # strangers
    assert policy.decide([certain, volume, talk], "a", "s").action == "warn"  # friends
    reported = Signal("LINK_REPUTATION", 1.0, "reported by 3 users")
    assert policy.decide([certain, reported, talk], "a", "s").action in ("hold", "block")


def test_friends_sharing_a_phishing_shaped_link_are_warned_not_held() -> None:
    e = open_engine(config())
    for account, other in (("alice", "bob"), ("bob", "alice")):
        e.process(event(e.config, type="contacts", id=f"c-{account}", ts=T0, account=account,
                        contacts=[other]))
    e.process(message(e.config, "m1", "alice", ["bob"], "hi bob", T0 + 10))
    e.process(message(e.config, "m2", "bob", ["alice"], "hi alice!", T0 + 20))
    verdict = e.process(message(e.config, "m3", "alice", ["bob"],
                                f"is this yours? {PHISHING[1]}", T0 + 30))
    assert phishy(verdict) and verdict.action == "warn"


def test_the_model_can_be_switched_off() -> None:
    off = {"enabled": False}
    e = open_engine(config(detectors={"content": off, "velocity": off, "bulk": off,
                                      "takeover": off, "links": {"url_model": "off"}}))
    verdict = e.process(message(e.config, "m", "a", ["b"], f"look {PHISHING[0]}", T0))
    assert not phishy(verdict)


@pytest.mark.parametrize("raw", [
    "https://" + "a" * 240 + ".example.com/" + "%41" * 20_000,
    "https://user:pw@xn--" + "b" * 59 + ".com/" + "login/" * 3000,
    "http://[::ffff:1.2.3.4]/" + "@" * 30_000 + "?q=" + "&a=1" * 5000,
    "https://" + ".".join(["paypal-secure"] * 18) + ".tk/" + "verify" * 8000,
    "https://пример.рф/вход/логин?пароль=1",
    "https://live.com@evil.example/login",
])
def test_hostile_links_are_judged_within_bounds(raw: str) -> None:
    url = parse_url.__wrapped__(raw, explicit=True)
    assert url is not None
    seen = features.shape(url)
    assert len(seen.values) == len(features.NAMES)
    assert all(math.isfinite(v) for v in seen.values)
    assert seen.values[features.NAMES.index("path_length")] <= math.log1p(features.MAX_PATH)
    assert 0.0 <= scorer.bundled().judge(url).p <= 1.0


def test_a_model_of_other_features_is_refused(tmp_path: Path) -> None:
    artefact = json.loads(scorer.dumps(scorer.bundled().artefact))
    artefact["features"] = features.VERSION + 1
    (tmp_path / "old.json").write_text(json.dumps(artefact))
    with pytest.raises(ConfigError, match="Retrain"):
        scorer.load(tmp_path / "old.json")


def test_bare_hosts_are_judged_on_their_host_alone() -> None:
    bare = features.shape(view("see https://paypal-secure-login.tk").urls[0])
    assert bare.facts["brand_in_host"] == "paypal"
    assert scorer.bundled().judge(parse_url("https://paypal-secure-login.tk", explicit=True)).p \
        >= scorer.bundled().warn_at


# What an attacker who reads the code would add to a kit's link to make it look like a
# friend's: a long path, a date, a personal page's '~', a static page, tracking
# parameters, escapes, a news site's words.
PADDING = [
    ("/2026/12/31", ""), ("/~jsmith/blog/news/articles/2026/12/31/story-of-the-day", ""),
    ("/wiki/index/about/archive/category/page", "utm_source=news&utm_medium=rss&ref=home"),
    ("/%7Ejsmith/My%20Recipes", "lang=en&page=2&sort=date&view=list"),
    ("/news/article" * 300, "utm_source=" + "x" * 3000),  # past every bound on length
]


@pytest.mark.parametrize("url", [*PHISHING, "https://claim-nitro-gifts.com/claim",
                                 "https://paypal-secure-login.tk/signin"])
@pytest.mark.parametrize(("before", "query"), PADDING)
def test_padding_a_link_never_lowers_its_score(url: str, before: str, query: str) -> None:
    """Every character of a link is the sender's: inserting path segments before the last
    one, or query parameters, may add suspicion but never take it away."""
    model = scorer.bundled()
    parsed = parse_url(url, explicit=True)
    assert parsed is not None
    head, _, last = parsed.raw.partition("?")[0].rpartition("/")
    if head.endswith(":/"):  # a bare host: the padding is the path
        head, last = parsed.raw.partition("?")[0], ""
    padded = f"{head}{before}/{last}"
    extra = "&".join(q for q in (parsed.raw.partition("?")[2], query) if q)
    padded += f"?{extra}" if extra else ""
    after = parse_url(padded, explicit=True)
    assert after is not None and after.host == parsed.host
    assert model.judge(after).margin >= model.judge(parsed).margin - 1e-9, padded


def test_no_feature_the_sender_writes_lowers_the_score() -> None:
    """The shipped weights: every hand feature, suffix and word adds (or adds nothing)."""
    artefact = scorer.bundled().artefact
    assert all(w >= 0 for w in artefact["coef"]), dict(zip(artefact["names"],
                                                             artefact["coef"], strict=True))
    assert all(w >= 0 for w in artefact["tld"].values())
    assert all(w > 0 for kind in ("host_words", "path_words") for w in artefact[kind].values())


def test_the_monotone_fit_keeps_weights_at_zero_or_above() -> None:
    """A feature that marks the benign class is held at zero, not turned into a discount,
    while one that marks phishing is learnt."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    x = np.column_stack([y + rng.normal(0, 0.5, 400), (1 - y) + rng.normal(0, 0.5, 400)])
    fitted = training.fit_monotone(x, y, 1.0)
    assert fitted.coef[0] > 1.0 and fitted.coef[1] == 0.0


def test_the_bundled_url_model_is_what_head_builds(tmp_path: Path) -> None:
    root = shared_datasets()
    if root is None:
        pytest.skip("the public datasets are not on this machine (set SPIMGUARD_DATASETS)")
    from spimguard.cli import app

    out = tmp_path / "urls.json"
    result = CliRunner().invoke(app, ["train-urls", "--datasets", str(root), "--out", str(out)])
    assert result.exit_code == 0, result.output
    bundled = Path(str(scorer.resources.files("spimguard.urlmodel").joinpath(scorer.BUNDLED)))
    advice = ("the bundled URL model is not what HEAD builds: run `spimguard train-urls "
              f"--datasets {root} --card src/spimguard/urlmodel/CARD.md --benign "
              "benchmarks/data/benign-urls-software.txt` and commit both")
    shipped = json.loads(bundled.read_text())
    assert not differences(shipped, json.loads(out.read_text())), advice  # see ``rebuilds``
    files = json.loads(out.read_text())["data"]["files"]
    assert files == {training.HANNOUSSE: training.HANNOUSSE_SHA256,
                     training.DISCORD: training.DISCORD_SHA256,
                     training.OPENDNS: training.OPENDNS_SHA256}


def test_a_campaign_name_sent_bare_is_warned_for_its_words() -> None:
    """A Discord-style lure name (its family is in no training list) carries its words as
    evidence, named in the detail, with neutral words around it."""
    e = links_engine()
    verdict = e.process(message(e.config, "m", "a", ["b"], "have a look "
                                "https://claim-nitro-gifts.com", T0))
    found = phishy(verdict)
    assert found and "'nitro'" in found[0].detail, verdict.signals
    assert verdict.action == "warn"


def test_a_hosts_run_of_letters_counts_only_when_it_reads_as_words() -> None:
    vocabulary = {"free", "nitro", "gift", "form", "steam", "community"}
    assert words.segment("freenitrogift", vocabulary) == ["free", "nitro", "gift"]
    assert words.segment("steamcommunity", vocabulary) == ["steam", "community"]
    assert words.segment("informatik", vocabulary) == []  # 'form' inside is a coincidence
    assert words.segment("x" * 63, vocabulary) == []


def test_a_hosting_services_own_name_is_not_the_senders() -> None:
    assert words.host_pieces(parse_url("https://nitro-gift.weebly.com/x", explicit=True)) \
        == ["nitro", "gift"]
    assert words.path_words(parse_url("https://docs.google.com/forms/d/e/1FAIp/viewform",
                                      explicit=True)) == []
    # The service's home page is no user's page.
    assert not features.shape(view("see https://weebly.com").urls[0]).facts["free_host"]
    assert features.shape(view("see https://x.weebly.com").urls[0]).facts["free_host"]
    # On a hosting service only the user's part of the name can name a brand.
    hosted = features.shape(parse_url("https://topreviews.s3.amazonaws.com/r", explicit=True))
    assert hosted.facts["free_host"] and not hosted.facts["brand_in_host"]


@pytest.mark.parametrize("url", [*PHISHING, *BENIGN, "https://claim-nitro-gifts.com"])
def test_no_word_makes_a_link_look_safer(url: str) -> None:
    """The sender writes every character of a link, so words only ever add: the shipped
    model's margin with its words is never below its margin without them."""
    model = scorer.bundled()
    plain = dict(model.artefact, host_words={}, path_words={})
    parsed = parse_url(url, explicit=True)
    assert parsed is not None
    assert model.judge(parsed).margin >= scorer.UrlModel(plain).judge(parsed).margin
    assert all(w > 0 for kind in ("host_words", "path_words")
               for w in model.artefact[kind].values())


def test_one_familys_names_are_all_on_one_side_of_the_split() -> None:
    names = ["navi55.com", "navi57.com", "navi6.pro", "2source.ch", "2source.eu"]
    urls = [parse_url(f"https://{n}", explicit=True) for n in names]
    data = [training.Labelled(u, 1, "discord") for u in urls if u is not None]
    train, held = training.split(data)
    for side in (train, held):
        families = {training.family(s.url.domain) for s in side}
        assert not families & {training.family(s.url.domain)
                               for s in (held if side is train else train)}
    assert {training.family(n) for n in names} == {"navi", "source"}


def test_a_kits_disguises_are_read_as_a_person_reads_them() -> None:
    """Percent escapes ('My%20Email%20Login') and digits glued to a word ('update2018')
    hide no lure; another site's address spelt in a host is a fact of its own."""
    escaped = features.shape(parse_url("http://rnb51.com/bv/My%20Email%20Login.html",
                                       explicit=True))
    assert escaped.facts["lure_in_path"] == "login"
    glued = features.shape(parse_url("http://x.com.au/admin/update2018/a.htm", explicit=True))
    assert glued.facts["lure_in_path"] == "update"
    spelt = features.shape(parse_url("https://www-bancochile.cl.studioretrofit.com.br/p",
                                     explicit=True))
    assert spelt.facts["address_in_host"] == "www-bancochile"
    for plain in ("https://www2.example.com/a", "https://de.wikipedia.org/wiki/X"):
        assert not features.shape(parse_url(plain, explicit=True)).facts["address_in_host"]


def test_a_popular_sites_own_pages_are_not_judged_by_their_shape() -> None:
    """login.microsoftonline.com reads as 'microsoft' on another's host; on the operator's
    popular list it is one big operator's name, while users' pages on a hosting service
    under a well-known name (sites.google.com) are still judged."""
    login = "https://login.microsoftonline.com/common/oauth2/authorize?client_id=1"
    e = links_engine()
    assert phishy(e.process(message(e.config, "m1", "a", ["b"], f"see {login}", T0)))
    e.write_state([Touch(lists.key("popular"), ("microsoftonline.com",), 1e9,
                         lists.MAX_ENTRIES)])
    assert not phishy(e.process(message(e.config, "m2", "a", ["b"], f"see {login}", T0)))
    hosted = "https://sites.google.com/view/paypal-account-verify/home"
    assert "google.com" in lists.well_known()
    assert phishy(e.process(message(e.config, "m3", "a", ["b"], f"see {hosted}", T0)))


def test_the_settings_are_chosen_on_families_the_held_out_figures_never_see() -> None:
    """Three sides by family: fitted on, validating (C, thresholds) and held out (the
    figures); a family on two of them would choose a setting on the URLs that grade it."""
    names = [f"{stem}{n}.com" for stem in ("navi", "source", "claim", "gift", "nitro",
                                           "steam", "drop", "airdrop", "wallet", "promo")
             for n in range(3)]
    urls = [parse_url(f"https://{n}", explicit=True) for n in names]
    data = [training.Labelled(u, 1, "discord") for u in urls if u is not None]
    train, held = training.split(data)
    fitted, validating = training.fitting(train)
    sides = [{training.family(s.url.domain) for s in side}
             for side in (fitted, validating, held)]
    assert sum(map(len, sides)) == len(set().union(*sides)) == 10
    assert len(fitted) + len(validating) == len(train)


def test_the_shipped_thresholds_are_the_validation_ones_of_its_c() -> None:
    """The artefact records every C tried on the validation families; the shipped C is the
    best of them and its thresholds are that row's (set on the fit that is shipped). A C
    is scored by the mean of its same-source figure and its figure on each phishing
    source left out of the fit: what carries to a campaign never seen."""
    artefact = scorer.bundled().artefact
    tried = {row["c"]: row for row in artefact["tuning"]}
    assert set(tried) == set(training.C_GRID)
    for row in tried.values():
        left = [row[f"left_out_{source}"] for source in ("discord", "hannousse")]
        assert row["left_out"] == round(float(np.mean(left)), 4)
        assert row["score"] == round((row["same_source"] + row["left_out"]) / 2, 4)
    chosen = tried[artefact["c"]]
    assert chosen["score"] == max(row["score"] for row in tried.values())
    assert artefact["thresholds"] == {"warn_at": chosen["warn_at"],
                                      "hold_at": chosen["hold_at"]}


@pytest.mark.parametrize("url", [*PHISHING, "http://u805924gc4.example.ru/x",
                                 "https://betasus199.blogspot.com"])
@pytest.mark.parametrize("label", ["www2", "news", "mail-server", "aaaaaaaaaaaaaaaaaaaa"])
def test_another_label_in_the_host_never_lowers_the_score(url: str, label: str) -> None:
    """The sender names every label: one added before the host (a plain word, a long
    dull run of one letter) may add suspicion but never dilutes a machine-made one."""
    model = scorer.bundled()
    parsed = parse_url(url, explicit=True)
    assert parsed is not None
    padded = parse_url(url.replace("://", f"://{label}.", 1), explicit=True)
    assert padded is not None and padded.domain == parsed.domain
    assert model.judge(padded).margin >= model.judge(parsed).margin - 1e-9, padded.raw


def test_a_machine_made_name_counts_wherever_the_sender_put_it() -> None:
    """Digits and a random-looking run in a subdomain or a user's name on a hosting
    service are the sender's choice as much as the registrable label's."""
    names = features.NAMES
    digits, entropy = names.index("host_digits"), names.index("label_entropy")
    sub = features.shape(parse_url("http://u805924gc4.ha004.t.justns.ru/", explicit=True))
    plain = features.shape(parse_url("http://services.justns.ru/", explicit=True))
    assert sub.values[digits] == 7 and sub.values[entropy] > plain.values[entropy]
    hosted = features.shape(parse_url("https://betasus199.blogspot.com", explicit=True))
    assert hosted.values[digits] == 3
    assert features.shape(parse_url("https://sites.google.com/view/x",
                                    explicit=True)).values[digits] == 0

